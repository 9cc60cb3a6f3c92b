//! SQLite storage: spans, a per-trace summary, Rollbar items and one FTS5 index, with
//! retention. One connection behind a mutex; callers run it off the async runtime
//! (`spawn_blocking`). Every ingest request is one transaction.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde_json::{Value, json};

use crate::config::Retention;
use crate::otlp::{SpanRecord, nanos_to_ms};
use crate::otlp_logs::{LogRow, severity_name};
use crate::rollbar::ItemRecord;

/// The schema (idempotent).
///
/// - `spans`: one row per span; `(trace_id, span_id)` is unique (a re-sent span is kept
///   once). Attribute maps, events, links and the resource are JSON text in the shape the
///   API returns.
/// - `traces`: one summary row per trace, recomputed from its spans when a request adds to
///   it; retention and the trace list read only this table.
/// - `items`: one row per Rollbar item (`uuid` unique), the item JSON as received.
/// - `search`: FTS5 over `name` (span name; item `class: message`) and `body` (one
///   `key = value` line per attribute, event, service name…; item frames). Its rowid is
///   the span's `id` for spans and minus the item's `id` for items, so deleting a trace's
///   rows is a rowid lookup.
/// - `logs`: one row per OTLP log record (ids absent when the record has none), and
///   `log_search`, FTS5 over its `body` and `fields` (`key = value` lines), rowid the
///   record's `id`. A trace goes with its logs; logs outside traces by age and count.
pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS spans (
    id INTEGER PRIMARY KEY,
    trace_id TEXT NOT NULL,
    span_id TEXT NOT NULL,
    parent_span_id TEXT,
    trace_state TEXT NOT NULL DEFAULT '',
    flags INTEGER NOT NULL DEFAULT 0,
    name TEXT NOT NULL,
    kind INTEGER NOT NULL,
    service TEXT NOT NULL,
    start_ns INTEGER NOT NULL,
    end_ns INTEGER NOT NULL,
    status_code INTEGER NOT NULL,
    status_message TEXT NOT NULL,
    attributes TEXT NOT NULL,
    resource TEXT NOT NULL,
    events TEXT NOT NULL,
    links TEXT NOT NULL,
    scope_name TEXT NOT NULL,
    scope_version TEXT NOT NULL,
    UNIQUE (trace_id, span_id)
);
CREATE TABLE IF NOT EXISTS traces (
    trace_id TEXT PRIMARY KEY,
    start_ns INTEGER NOT NULL,
    end_ns INTEGER NOT NULL,
    span_count INTEGER NOT NULL,
    error_count INTEGER NOT NULL,
    root_name TEXT NOT NULL,
    root_service TEXT NOT NULL,
    services TEXT NOT NULL,
    updated_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS traces_by_start ON traces (start_ns);
CREATE TABLE IF NOT EXISTS items (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    fingerprint TEXT NOT NULL,
    level TEXT NOT NULL,
    class TEXT NOT NULL,
    message TEXT NOT NULL,
    timestamp_ms REAL NOT NULL,
    received_ms INTEGER NOT NULL,
    environment TEXT,
    trace_id TEXT,
    span_id TEXT,
    item TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS items_by_fingerprint ON items (fingerprint);
CREATE INDEX IF NOT EXISTS items_by_trace ON items (trace_id);
CREATE INDEX IF NOT EXISTS items_by_time ON items (timestamp_ms);
CREATE VIRTUAL TABLE IF NOT EXISTS search USING fts5 (
    name, body, tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TABLE IF NOT EXISTS logs (
    id INTEGER PRIMARY KEY,
    trace_id TEXT,
    span_id TEXT,
    time_ns INTEGER NOT NULL,
    observed_ns INTEGER NOT NULL,
    severity_number INTEGER NOT NULL,
    severity_text TEXT NOT NULL,
    body TEXT NOT NULL,
    attributes TEXT NOT NULL,
    resource TEXT NOT NULL,
    service TEXT NOT NULL,
    scope_name TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS logs_by_trace ON logs (trace_id);
CREATE INDEX IF NOT EXISTS logs_by_time ON logs (time_ns);
CREATE VIRTUAL TABLE IF NOT EXISTS log_search USING fts5 (
    body, fields, tokenize = 'unicode61 remove_diacritics 2'
);
";

/// Log records kept at most for each trace the store may keep (`max_traces`): logs outside
/// traces are bounded by this many times `max_traces`.
pub const LOGS_PER_TRACE: i64 = 10;

/// Counts for `/api/status`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub traces: u64,
    pub spans: u64,
    pub errors: u64,
    pub logs: u64,
    pub db_bytes: u64,
}

/// The database.
#[derive(Debug)]
pub struct Store {
    conn: Mutex<Connection>,
    retention: Retention,
}

type Result<T> = std::result::Result<T, String>;

fn db_err(e: rusqlite::Error) -> String {
    format!("database error: {e}")
}

/// Now, Unix milliseconds.
pub fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

fn ns_i64(ns: u64) -> i64 {
    i64::try_from(ns).unwrap_or(i64::MAX)
}

fn ms(ns: i64) -> f64 {
    nanos_to_ms(u64::try_from(ns).unwrap_or(0))
}

fn duration_ms(start: i64, end: i64) -> f64 {
    (end.saturating_sub(start).max(0) as f64) / 1e6
}

fn kind_name(kind: i64) -> &'static str {
    match kind {
        2 => "server",
        3 => "client",
        4 => "producer",
        5 => "consumer",
        _ => "internal",
    }
}

fn status_name(code: i64) -> &'static str {
    match code {
        1 => "ok",
        2 => "error",
        _ => "unset",
    }
}

fn parse_json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}

/// User text as an FTS5 query: each whitespace-separated word with a letter or digit in
/// it becomes a quoted phrase with a prefix star (`"cart-7731"*`), all of them required.
/// Quotes are doubled, so nothing the user types is FTS5 syntax. `None` when no word is
/// left.
pub fn fts_query(text: &str) -> Option<String> {
    let words: Vec<String> = text
        .split_whitespace()
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .map(|w| format!("\"{}\"*", w.replace('"', "\"\"")))
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

/// The line of a search document (the name, then each `key = value` line) that holds the
/// most of the query's words (their letters and digits, case-insensitively; the first such
/// line on a tie): what the UI shows as the match.
fn matching_line(name: &str, body: &str, query: &str) -> String {
    let needles: Vec<String> = query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    let score = |line: &str| {
        let line = line.to_lowercase();
        needles.iter().filter(|n| line.contains(n.as_str())).count()
    };
    let mut best = (score(name), name);
    for line in body.lines() {
        let s = score(line);
        if s > best.0 {
            best = (s, line);
        }
    }
    let line = best.1;
    let mut line = line.to_owned();
    if line.len() > 300 {
        let mut cut = 300;
        while !line.is_char_boundary(cut) {
            cut -= 1;
        }
        line.truncate(cut);
        line.push('…');
    }
    line
}

impl Store {
    /// Opens (or creates) the database at `path` (`:memory:` for none) in WAL mode.
    pub fn open(path: &str, retention: Retention) -> Result<Self> {
        let conn = if path == ":memory:" {
            Connection::open_in_memory()
        } else {
            Connection::open(path)
        }
        .map_err(|e| format!("cannot open database {path}: {e}"))?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(db_err)?;
        if path != ":memory:" {
            let mode: String = conn
                .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
                .map_err(db_err)?;
            if !mode.eq_ignore_ascii_case("wal") {
                return Err(format!(
                    "database {path}: cannot use WAL (journal mode {mode})"
                ));
            }
        }
        conn.execute_batch(
            "PRAGMA synchronous = NORMAL;
             PRAGMA journal_size_limit = 16777216;
             PRAGMA temp_store = MEMORY;",
        )
        .map_err(db_err)?;
        conn.execute_batch(SCHEMA)
            .map_err(|e| format!("database {path}: cannot create the schema: {e}"))?;
        conn.set_prepared_statement_cache_capacity(64);
        let store = Self {
            conn: Mutex::new(conn),
            retention,
        };
        store.enforce_retention()?;
        Ok(store)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves no half-done transaction (it is rolled back
        // when dropped), so the connection is still usable.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Stores spans (one transaction), then applies retention.
    pub fn insert_spans(&self, spans: &[SpanRecord]) -> Result<()> {
        if spans.is_empty() {
            return Ok(());
        }
        {
            let mut conn = self.lock();
            let tx = conn.transaction().map_err(db_err)?;
            insert_spans(&tx, spans).map_err(db_err)?;
            tx.commit().map_err(db_err)?;
        }
        self.enforce_retention()
    }

    /// Stores log records (one transaction), then applies retention.
    pub fn insert_logs(&self, logs: &[LogRow]) -> Result<()> {
        if logs.is_empty() {
            return Ok(());
        }
        {
            let mut conn = self.lock();
            let tx = conn.transaction().map_err(db_err)?;
            insert_logs(&tx, logs).map_err(db_err)?;
            tx.commit().map_err(db_err)?;
        }
        self.enforce_retention()
    }

    /// Stores an item (one transaction), then applies retention. False when an item with
    /// this uuid was already there (nothing changes).
    pub fn insert_item(&self, item: &ItemRecord) -> Result<bool> {
        let inserted = {
            let mut conn = self.lock();
            let tx = conn.transaction().map_err(db_err)?;
            let inserted = insert_item(&tx, item).map_err(db_err)?;
            tx.commit().map_err(db_err)?;
            inserted
        };
        if inserted {
            self.enforce_retention()?;
        }
        Ok(inserted)
    }

    /// Deletes what the limits no longer allow:
    /// 1. traces that started before now − `max_age`, items older than that;
    /// 2. the oldest traces beyond `max_traces`, the oldest items beyond as many;
    /// 3. while the pages in use ((page_count − freelist_count) × page_size) exceed
    ///    `max_db_bytes`: the oldest tenth of the traces (at least one; items when no trace
    ///    is left), then the FTS index is optimized (deleted rows only become free pages
    ///    once its segments are merged), until under 90% of the limit.
    ///
    /// A trace goes with its spans, its search rows and the items linked to it.
    /// Checkpoints the WAL after the size rule deleted anything.
    pub fn enforce_retention(&self) -> Result<()> {
        let mut conn = self.lock();
        let r = &self.retention;
        let cutoff_ms = now_ms() - r.max_age.as_secs_f64() * 1000.0;
        let cutoff_ns = if cutoff_ms <= 0.0 {
            0
        } else {
            (cutoff_ms * 1e6).min(i64::MAX as f64) as i64
        };
        let max = i64::try_from(r.max_traces).unwrap_or(i64::MAX);
        let tx = conn.transaction().map_err(db_err)?;
        let old: Vec<String> = ids(
            &tx,
            "SELECT trace_id FROM traces WHERE start_ns < ?1",
            cutoff_ns,
        )?;
        delete_traces(&tx, &old)?;
        let old_items = ids(
            &tx,
            "SELECT id FROM items WHERE timestamp_ms < ?1",
            cutoff_ms as i64,
        )?;
        delete_items(&tx, &old_items)?;
        tx.execute(
            "DELETE FROM log_search WHERE rowid IN (SELECT id FROM logs WHERE time_ns < ?1)",
            [cutoff_ns],
        )
        .map_err(db_err)?;
        tx.execute("DELETE FROM logs WHERE time_ns < ?1", [cutoff_ns])
            .map_err(db_err)?;
        let logs: i64 = count(&tx, "logs")?;
        let max_logs = max.saturating_mul(LOGS_PER_TRACE);
        if logs > max_logs {
            delete_oldest_logs(&tx, logs - max_logs)?;
        }
        let traces: i64 = count(&tx, "traces")?;
        if traces > max {
            let oldest = ids(
                &tx,
                "SELECT trace_id FROM traces ORDER BY start_ns, trace_id LIMIT ?1",
                traces - max,
            )?;
            delete_traces(&tx, &oldest)?;
        }
        let items: i64 = count(&tx, "items")?;
        if items > max {
            let oldest = ids(
                &tx,
                "SELECT id FROM items ORDER BY timestamp_ms, id LIMIT ?1",
                items - max,
            )?;
            delete_items(&tx, &oldest)?;
        }
        tx.commit().map_err(db_err)?;

        if used_bytes(&conn)? > r.max_db_bytes {
            let target = r.max_db_bytes / 10 * 9;
            for _ in 0..50 {
                let tx = conn.transaction().map_err(db_err)?;
                let traces = count(&tx, "traces")?;
                let n = if traces > 0 {
                    let oldest = ids(
                        &tx,
                        "SELECT trace_id FROM traces ORDER BY start_ns, trace_id LIMIT ?1",
                        (traces / 10).max(1),
                    )?;
                    delete_traces(&tx, &oldest)?
                } else if count(&tx, "items")? > 0 {
                    let items = count(&tx, "items")?;
                    let oldest = ids(
                        &tx,
                        "SELECT id FROM items ORDER BY timestamp_ms, id LIMIT ?1",
                        (items / 10).max(1),
                    )?;
                    delete_items(&tx, &oldest)?
                } else {
                    let logs = count(&tx, "logs")?;
                    delete_oldest_logs(&tx, (logs / 10).max(1))?
                };
                tx.execute("INSERT INTO search (search) VALUES ('optimize')", [])
                    .map_err(db_err)?;
                tx.execute(
                    "INSERT INTO log_search (log_search) VALUES ('optimize')",
                    [],
                )
                .map_err(db_err)?;
                tx.commit().map_err(db_err)?;
                if n == 0 || used_bytes(&conn)? <= target {
                    break;
                }
            }
            // Best effort: readers may hold the WAL; it is checkpointed later anyway. Only
            // here: after the count and age rules (every ingest once the store is full)
            // SQLite's automatic checkpoints suffice, and a TRUNCATE checkpoint per request
            // cost most of the ingest time.
            let _ = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
        }
        Ok(())
    }

    /// Row counts and the database size (page_count × page_size).
    pub fn counts(&self) -> Result<Counts> {
        let conn = self.lock();
        let get = |sql: &str| -> Result<u64> {
            conn.query_row(sql, [], |r| r.get::<_, i64>(0))
                .map(|n| n.max(0) as u64)
                .map_err(db_err)
        };
        Ok(Counts {
            traces: get("SELECT count(*) FROM traces")?,
            spans: get("SELECT count(*) FROM spans")?,
            errors: get("SELECT count(*) FROM items")?,
            logs: get("SELECT count(*) FROM logs")?,
            db_bytes: get(
                "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
            )?,
        })
    }

    /// `/api/traces`: newest first (by start).
    pub fn list_traces(
        &self,
        limit: usize,
        service: Option<&str>,
        q: Option<&str>,
    ) -> Result<Value> {
        let conn = self.lock();
        let fts = match q.map(str::trim).filter(|q| !q.is_empty()) {
            Some(q) => match fts_query(q) {
                Some(f) => Some(f),
                None => return Ok(json!({ "traces": [] })),
            },
            None => None,
        };
        let sql = "SELECT t.trace_id, t.start_ns, t.end_ns, t.span_count, t.error_count,
                          t.root_name, t.root_service, t.services,
                          EXISTS (SELECT 1 FROM items i WHERE i.trace_id = t.trace_id)
                   FROM traces t
                   WHERE (?1 IS NULL OR EXISTS (SELECT 1 FROM json_each(t.services) WHERE value = ?1))
                     AND (?2 IS NULL OR t.trace_id IN (
                            SELECT s.trace_id FROM search JOIN spans s ON s.id = search.rowid
                            WHERE search MATCH ?2
                            UNION
                            SELECT i.trace_id FROM search JOIN items i ON i.id = -search.rowid
                            WHERE search MATCH ?2 AND i.trace_id IS NOT NULL
                            UNION
                            SELECT l.trace_id FROM log_search JOIN logs l ON l.id = log_search.rowid
                            WHERE log_search MATCH ?2 AND l.trace_id IS NOT NULL))
                   ORDER BY t.start_ns DESC, t.trace_id
                   LIMIT ?3";
        let mut stmt = conn.prepare_cached(sql).map_err(db_err)?;
        let rows = stmt.query_map(
            params![service.filter(|s| !s.is_empty()), fts, limit as i64],
            |r| {
                let start: i64 = r.get(1)?;
                let end: i64 = r.get(2)?;
                let errors: i64 = r.get(4)?;
                let services: String = r.get(7)?;
                let linked: bool = r.get(8)?;
                Ok(json!({
                    "traceId": r.get::<_, String>(0)?,
                    "rootName": r.get::<_, String>(5)?,
                    "rootService": r.get::<_, String>(6)?,
                    "services": parse_json(&services),
                    "start": ms(start),
                    "durationMs": duration_ms(start, end),
                    "spanCount": r.get::<_, i64>(3)?,
                    "errorCount": errors,
                    "error": errors > 0 || linked,
                }))
            },
        );
        // A query FTS5 still refuses is answered with nothing found, not an error.
        let traces: Vec<Value> = match rows {
            Ok(rows) => match rows.collect::<rusqlite::Result<_>>() {
                Ok(v) => v,
                Err(e) if fts.is_some() => {
                    eprintln!("edge-collector: search query failed: {e}");
                    Vec::new()
                }
                Err(e) => return Err(db_err(e)),
            },
            Err(e) => return Err(db_err(e)),
        };
        Ok(json!({ "traces": traces }))
    }

    /// `/api/traces/{id}`; `None` when there is no such trace.
    pub fn trace(&self, trace_id: &str) -> Result<Option<Value>> {
        let conn = self.lock();
        let mut stmt = conn
            .prepare_cached(
                "SELECT trace_id, span_id, parent_span_id, name, kind, service, start_ns, end_ns,
                        status_code, status_message, attributes, resource, events, links,
                        scope_name, scope_version, trace_state, flags
                 FROM spans WHERE trace_id = ?1 ORDER BY start_ns, id",
            )
            .map_err(db_err)?;
        let spans: Vec<Value> = stmt
            .query_map([trace_id], |r| {
                let start: i64 = r.get(6)?;
                let end: i64 = r.get(7)?;
                let links = parse_json(&r.get::<_, String>(13)?);
                Ok(json!({
                    "traceId": r.get::<_, String>(0)?,
                    "spanId": r.get::<_, String>(1)?,
                    "parentSpanId": r.get::<_, Option<String>>(2)?,
                    "name": r.get::<_, String>(3)?,
                    "kind": kind_name(r.get(4)?),
                    "service": r.get::<_, String>(5)?,
                    "start": ms(start),
                    "end": ms(end),
                    "durationMs": duration_ms(start, end),
                    "status": {
                        "code": status_name(r.get(8)?),
                        "message": r.get::<_, String>(9)?,
                    },
                    "attributes": parse_json(&r.get::<_, String>(10)?),
                    "resource": parse_json(&r.get::<_, String>(11)?),
                    "events": parse_json(&r.get::<_, String>(12)?),
                    "links": links,
                    "scope": r.get::<_, String>(14)?,
                    "scopeVersion": r.get::<_, String>(15)?,
                    "traceState": r.get::<_, String>(16)?,
                    "flags": r.get::<_, i64>(17)?,
                }))
            })
            .and_then(|rows| rows.collect::<rusqlite::Result<_>>())
            .map_err(db_err)?;
        let errors = error_summaries(
            &conn,
            "SELECT uuid, level, class, message, timestamp_ms, trace_id, span_id
             FROM items WHERE trace_id = ?1 ORDER BY timestamp_ms, id",
            trace_id,
        )?;
        let mut stmt = conn
            .prepare_cached(
                "SELECT trace_id, span_id, time_ns, severity_number, severity_text, body,
                        attributes, service
                 FROM logs WHERE trace_id = ?1 ORDER BY time_ns, id",
            )
            .map_err(db_err)?;
        let logs: Vec<Value> = stmt
            .query_map([trace_id], log_json)
            .and_then(|rows| rows.collect::<rusqlite::Result<_>>())
            .map_err(db_err)?;
        if spans.is_empty() && errors.is_empty() && logs.is_empty() {
            return Ok(None);
        }
        Ok(Some(
            json!({ "traceId": trace_id, "spans": spans, "errors": errors, "logs": logs }),
        ))
    }

    /// `/api/search`.
    pub fn search(&self, text: &str, limit: usize) -> Result<Value> {
        let Some(query) = fts_query(text) else {
            return Ok(json!({ "spans": [], "errors": [], "logs": [] }));
        };
        let conn = self.lock();
        let spans = (|| -> rusqlite::Result<Vec<Value>> {
            let mut stmt = conn.prepare_cached(
                "SELECT s.trace_id, s.span_id, s.name, s.service, s.start_ns, f.name, f.body
                 FROM (SELECT rowid, name, body, rank FROM search
                       WHERE search MATCH ?1 AND rowid > 0 ORDER BY rank LIMIT ?2) f
                 JOIN spans s ON s.id = f.rowid
                 ORDER BY f.rank",
            )?;
            let rows = stmt.query_map(params![query, limit as i64], |r| {
                let name: String = r.get(5)?;
                let body: String = r.get(6)?;
                Ok(json!({
                    "traceId": r.get::<_, String>(0)?,
                    "spanId": r.get::<_, String>(1)?,
                    "name": r.get::<_, String>(2)?,
                    "service": r.get::<_, String>(3)?,
                    "start": ms(r.get(4)?),
                    "match": matching_line(&name, &body, text),
                }))
            })?;
            rows.collect()
        })();
        let errors = (|| -> rusqlite::Result<Vec<Value>> {
            let mut stmt = conn.prepare_cached(
                "SELECT i.uuid, i.level, i.class, i.message, i.timestamp_ms, i.trace_id, i.span_id,
                        f.name, f.body
                 FROM (SELECT rowid, name, body, rank FROM search
                       WHERE search MATCH ?1 AND rowid < 0 ORDER BY rank LIMIT ?2) f
                 JOIN items i ON i.id = -f.rowid
                 ORDER BY f.rank",
            )?;
            let rows = stmt.query_map(params![query, limit as i64], |r| {
                let mut summary = error_summary(r)?;
                let name: String = r.get(7)?;
                let body: String = r.get(8)?;
                summary["match"] = Value::String(matching_line(&name, &body, text));
                Ok(summary)
            })?;
            rows.collect()
        })();
        let logs = (|| -> rusqlite::Result<Vec<Value>> {
            let mut stmt = conn.prepare_cached(
                "SELECT l.trace_id, l.span_id, l.time_ns, l.severity_number, l.severity_text,
                        l.body, l.attributes, l.service, f.fields
                 FROM (SELECT rowid, fields, rank FROM log_search
                       WHERE log_search MATCH ?1 ORDER BY rank LIMIT ?2) f
                 JOIN logs l ON l.id = f.rowid
                 ORDER BY f.rank",
            )?;
            let rows = stmt.query_map(params![query, limit as i64], |r| {
                let mut log = log_json(r)?;
                let body = log["body"].as_str().unwrap_or_default().to_owned();
                let fields: String = r.get(8)?;
                log["match"] = Value::String(matching_line(&body, &fields, text));
                Ok(log)
            })?;
            rows.collect()
        })();
        match (spans, errors, logs) {
            (Ok(spans), Ok(errors), Ok(logs)) => {
                Ok(json!({ "spans": spans, "errors": errors, "logs": logs }))
            }
            (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
                // Whatever FTS5 still refuses in user text: nothing found, not a 500.
                eprintln!("edge-collector: search query failed: {e}");
                Ok(json!({ "spans": [], "errors": [], "logs": [] }))
            }
        }
    }

    /// `/api/errors`: groups, most recently seen first.
    pub fn error_groups(&self, limit: usize) -> Result<Value> {
        let conn = self.lock();
        // `max(id)` makes the bare columns those of the group's last-received item.
        let mut stmt = conn
            .prepare_cached(
                "SELECT fingerprint, class, message, level, uuid, trace_id, environment,
                        max(id), count(*), min(timestamp_ms), max(timestamp_ms) AS last_seen
                 FROM items GROUP BY fingerprint
                 ORDER BY last_seen DESC, max(id) DESC
                 LIMIT ?1",
            )
            .map_err(db_err)?;
        let groups: Vec<Value> = stmt
            .query_map([limit as i64], |r| {
                Ok(json!({
                    "fingerprint": r.get::<_, String>(0)?,
                    "class": r.get::<_, String>(1)?,
                    "message": r.get::<_, String>(2)?,
                    "level": r.get::<_, String>(3)?,
                    "lastUuid": r.get::<_, String>(4)?,
                    "traceId": r.get::<_, Option<String>>(5)?,
                    "environment": r.get::<_, Option<String>>(6)?,
                    "count": r.get::<_, i64>(8)?,
                    "firstSeen": r.get::<_, f64>(9)?,
                    "lastSeen": r.get::<_, f64>(10)?,
                }))
            })
            .and_then(|rows| rows.collect::<rusqlite::Result<_>>())
            .map_err(db_err)?;
        Ok(json!({ "groups": groups }))
    }

    /// `/api/errors/{uuid}`.
    pub fn error(&self, uuid: &str) -> Result<Option<Value>> {
        let conn = self.lock();
        let row = conn
            .query_row(
                "SELECT uuid, level, class, message, timestamp_ms, environment, trace_id, span_id,
                        fingerprint, item
                 FROM items WHERE uuid = ?1",
                [uuid],
                |r| {
                    Ok((
                        json!({
                            "uuid": r.get::<_, String>(0)?,
                            "level": r.get::<_, String>(1)?,
                            "class": r.get::<_, String>(2)?,
                            "message": r.get::<_, String>(3)?,
                            "timestamp": r.get::<_, f64>(4)?,
                            "environment": r.get::<_, Option<String>>(5)?,
                            "traceId": r.get::<_, Option<String>>(6)?,
                            "spanId": r.get::<_, Option<String>>(7)?,
                            "fingerprint": r.get::<_, String>(8)?,
                        }),
                        r.get::<_, String>(9)?,
                    ))
                },
            )
            .optional()
            .map_err(db_err)?;
        let Some((mut detail, item_text)) = row else {
            return Ok(None);
        };
        let item = parse_json(&item_text);
        let body = &item["data"]["body"];
        let frames_of = |trace: &Value| Value::Array(crate::rollbar::frames(trace));
        if let Some(chain) = body["trace_chain"].as_array() {
            let chain: Vec<Value> = chain
                .iter()
                .map(|t| {
                    json!({
                        "class": t["exception"]["class"],
                        "message": t["exception"]["message"],
                        "frames": frames_of(t),
                    })
                })
                .collect();
            detail["frames"] = chain
                .first()
                .map_or(Value::Array(Vec::new()), |t| t["frames"].clone());
            detail["traceChain"] = Value::Array(chain);
        } else {
            detail["frames"] = frames_of(&body["trace"]);
        }
        detail["item"] = item;
        Ok(Some(detail))
    }
}

fn error_summary(r: &rusqlite::Row<'_>) -> rusqlite::Result<Value> {
    Ok(json!({
        "uuid": r.get::<_, String>(0)?,
        "level": r.get::<_, String>(1)?,
        "class": r.get::<_, String>(2)?,
        "message": r.get::<_, String>(3)?,
        "timestamp": r.get::<_, f64>(4)?,
        "traceId": r.get::<_, Option<String>>(5)?,
        "spanId": r.get::<_, Option<String>>(6)?,
    }))
}

fn error_summaries(conn: &Connection, sql: &str, arg: &str) -> Result<Vec<Value>> {
    let mut stmt = conn.prepare_cached(sql).map_err(db_err)?;
    stmt.query_map([arg], error_summary)
        .and_then(|rows| rows.collect())
        .map_err(db_err)
}

fn count(tx: &Transaction<'_>, table: &str) -> Result<i64> {
    tx.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .map_err(db_err)
}

fn ids<T: rusqlite::types::FromSql>(tx: &Transaction<'_>, sql: &str, arg: i64) -> Result<Vec<T>> {
    let mut stmt = tx.prepare_cached(sql).map_err(db_err)?;
    stmt.query_map([arg], |r| r.get(0))
        .and_then(|rows| rows.collect())
        .map_err(db_err)
}

fn used_bytes(conn: &Connection) -> Result<u64> {
    conn.query_row(
        "SELECT (page_count - freelist_count) * page_size
         FROM pragma_page_count(), pragma_freelist_count(), pragma_page_size()",
        [],
        |r| r.get::<_, i64>(0),
    )
    .map(|n| n.max(0) as u64)
    .map_err(db_err)
}

/// A log row (`trace_id, span_id, time_ns, severity_number, severity_text, body,
/// attributes, service`) as the API returns it.
fn log_json(r: &rusqlite::Row<'_>) -> rusqlite::Result<Value> {
    let number: i32 = r.get(3)?;
    let text: String = r.get(4)?;
    Ok(json!({
        "traceId": r.get::<_, Option<String>>(0)?,
        "spanId": r.get::<_, Option<String>>(1)?,
        "time": ms(r.get(2)?),
        "severityNumber": number,
        "severity": if text.is_empty() { severity_name(number) } else { text },
        "body": r.get::<_, String>(5)?,
        "attributes": parse_json(&r.get::<_, String>(6)?),
        "service": r.get::<_, String>(7)?,
    }))
}

fn insert_logs(tx: &Transaction<'_>, logs: &[LogRow]) -> rusqlite::Result<()> {
    let mut insert = tx.prepare_cached(
        "INSERT INTO logs (trace_id, span_id, time_ns, observed_ns, severity_number,
                           severity_text, body, attributes, resource, service, scope_name)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?;
    let mut index =
        tx.prepare_cached("INSERT INTO log_search (rowid, body, fields) VALUES (?1, ?2, ?3)")?;
    for l in logs {
        insert.execute(params![
            l.trace_id,
            l.span_id,
            ns_i64(l.time_ns),
            ns_i64(l.observed_ns),
            l.severity_number,
            l.severity_text,
            l.body,
            l.attributes,
            &*l.resource,
            &*l.service,
            &*l.scope_name,
        ])?;
        index.execute(params![tx.last_insert_rowid(), l.body, l.search_text])?;
    }
    Ok(())
}

/// Deletes the `n` oldest log records; how many.
fn delete_oldest_logs(tx: &Transaction<'_>, n: i64) -> Result<usize> {
    let oldest: Vec<i64> = ids(tx, "SELECT id FROM logs ORDER BY time_ns, id LIMIT ?1", n)?;
    let mut fts = tx
        .prepare_cached("DELETE FROM log_search WHERE rowid = ?1")
        .map_err(db_err)?;
    let mut log = tx
        .prepare_cached("DELETE FROM logs WHERE id = ?1")
        .map_err(db_err)?;
    for id in &oldest {
        fts.execute([id]).map_err(db_err)?;
        log.execute([id]).map_err(db_err)?;
    }
    Ok(oldest.len())
}

fn delete_traces(tx: &Transaction<'_>, trace_ids: &[String]) -> Result<usize> {
    const STATEMENTS: [&str; 7] = [
        "DELETE FROM search WHERE rowid IN (SELECT id FROM spans WHERE trace_id = ?1)",
        "DELETE FROM spans WHERE trace_id = ?1",
        "DELETE FROM search WHERE rowid IN (SELECT -id FROM items WHERE trace_id = ?1)",
        "DELETE FROM items WHERE trace_id = ?1",
        "DELETE FROM log_search WHERE rowid IN (SELECT id FROM logs WHERE trace_id = ?1)",
        "DELETE FROM logs WHERE trace_id = ?1",
        "DELETE FROM traces WHERE trace_id = ?1",
    ];
    for id in trace_ids {
        for sql in STATEMENTS {
            tx.prepare_cached(sql)
                .and_then(|mut stmt| stmt.execute([id]))
                .map_err(db_err)?;
        }
    }
    Ok(trace_ids.len())
}

fn delete_items(tx: &Transaction<'_>, item_ids: &[i64]) -> Result<usize> {
    let mut fts = tx
        .prepare_cached("DELETE FROM search WHERE rowid = -?1")
        .map_err(db_err)?;
    let mut item = tx
        .prepare_cached("DELETE FROM items WHERE id = ?1")
        .map_err(db_err)?;
    for id in item_ids {
        fts.execute([id]).map_err(db_err)?;
        item.execute([id]).map_err(db_err)?;
    }
    Ok(item_ids.len())
}

fn insert_spans(tx: &Transaction<'_>, spans: &[SpanRecord]) -> rusqlite::Result<()> {
    let mut insert = tx.prepare_cached(
        "INSERT INTO spans (trace_id, span_id, parent_span_id, trace_state, flags, name, kind,
                            service, start_ns, end_ns, status_code, status_message, attributes,
                            resource, events, links, scope_name, scope_version)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)
         ON CONFLICT (trace_id, span_id) DO NOTHING",
    )?;
    let mut index =
        tx.prepare_cached("INSERT INTO search (rowid, name, body) VALUES (?1, ?2, ?3)")?;
    let mut touched = BTreeSet::new();
    for s in spans {
        let changed = insert.execute(params![
            s.trace_id,
            s.span_id,
            s.parent_span_id,
            s.trace_state,
            s.flags,
            s.name,
            s.kind,
            &*s.service,
            ns_i64(s.start_ns),
            ns_i64(s.end_ns),
            s.status_code,
            s.status_message,
            s.attributes,
            &*s.resource,
            s.events,
            s.links,
            &*s.scope_name,
            &*s.scope_version,
        ])?;
        if changed == 1 {
            index.execute(params![tx.last_insert_rowid(), s.name, s.search_text])?;
            touched.insert(s.trace_id.as_str());
        }
    }
    for trace_id in touched {
        update_trace(tx, trace_id)?;
    }
    Ok(())
}

/// Recomputes one trace's summary row from its spans. The root is the earliest span
/// without a parent id, else the earliest whose parent is not in the trace, else the
/// earliest span.
fn update_trace(tx: &Transaction<'_>, trace_id: &str) -> rusqlite::Result<()> {
    let (start, end, count, errors): (i64, i64, i64, i64) = tx
        .prepare_cached(
            "SELECT min(start_ns), max(end_ns), count(*), total(status_code = 2)
             FROM spans WHERE trace_id = ?1",
        )?
        .query_row([trace_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get::<_, f64>(3)? as i64))
        })?;
    let (root_name, root_service): (String, String) = tx
        .prepare_cached(
            "SELECT name, service FROM spans s WHERE trace_id = ?1
             ORDER BY parent_span_id IS NOT NULL,
                      NOT (parent_span_id IS NULL OR NOT EXISTS (
                          SELECT 1 FROM spans p
                          WHERE p.trace_id = s.trace_id AND p.span_id = s.parent_span_id)),
                      start_ns, id
             LIMIT 1",
        )?
        .query_row([trace_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let services: Vec<String> = tx
        .prepare_cached("SELECT DISTINCT service FROM spans WHERE trace_id = ?1 ORDER BY service")?
        .query_map([trace_id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let services = Value::from(services).to_string();
    tx.prepare_cached(
        "INSERT INTO traces (trace_id, start_ns, end_ns, span_count, error_count, root_name,
                             root_service, services, updated_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (trace_id) DO UPDATE SET
             start_ns = excluded.start_ns, end_ns = excluded.end_ns,
             span_count = excluded.span_count, error_count = excluded.error_count,
             root_name = excluded.root_name, root_service = excluded.root_service,
             services = excluded.services, updated_ms = excluded.updated_ms",
    )?
    .execute(params![
        trace_id,
        start,
        end,
        count,
        errors,
        root_name,
        root_service,
        services,
        now_ms() as i64
    ])?;
    Ok(())
}

fn insert_item(tx: &Transaction<'_>, item: &ItemRecord) -> rusqlite::Result<bool> {
    let changed = tx
        .prepare_cached(
            "INSERT INTO items (uuid, fingerprint, level, class, message, timestamp_ms,
                                received_ms, environment, trace_id, span_id, item)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
             ON CONFLICT (uuid) DO NOTHING",
        )?
        .execute(params![
            item.uuid,
            item.fingerprint,
            item.level,
            item.class,
            item.message,
            item.timestamp_ms,
            now_ms() as i64,
            item.environment,
            item.trace_id,
            item.span_id,
            item.item,
        ])?;
    if changed == 1 {
        let name = if item.class.is_empty() {
            item.message.clone()
        } else {
            format!("{}: {}", item.class, item.message)
        };
        tx.prepare_cached("INSERT INTO search (rowid, name, body) VALUES (?1, ?2, ?3)")?
            .execute(params![-tx.last_insert_rowid(), name, item.search_text])?;
    }
    Ok(changed == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fts_queries_quote_everything() {
        assert_eq!(fts_query("cart-7731").as_deref(), Some("\"cart-7731\"*"));
        assert_eq!(
            fts_query(" a\"b  AND( * ").as_deref(),
            Some("\"a\"\"b\"* \"AND(\"*")
        );
        assert_eq!(fts_query("\" * ()"), None);
    }

    #[test]
    fn matching_line_prefers_the_hit() {
        let body = "service.name = shop\ncart.id = cart-7731\n";
        assert_eq!(
            matching_line("checkout", body, "7731"),
            "cart.id = cart-7731"
        );
        assert_eq!(matching_line("checkout", body, "check"), "checkout");
    }
}
