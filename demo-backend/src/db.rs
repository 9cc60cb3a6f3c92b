//! The activities table in SQLite (bundled), one connection behind a mutex. Every statement a
//! request runs is wrapped in a CLIENT span with the database semantic conventions.

use rusqlite::{Connection, params};
use serde::Serialize;
use std::fmt;
use std::panic::Location;
use std::sync::Mutex;
use tracing::field::Empty;

/// One post.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Activity {
    /// Row id.
    pub id: i64,
    /// Author handle.
    pub handle: String,
    /// Text.
    pub message: String,
    /// ISO 8601, UTC, milliseconds.
    pub created_at: String,
}

/// A failed database operation: what we were doing, where, and SQLite's error as the
/// `source` (so error reports carry the chain).
#[derive(Debug)]
pub struct DbError {
    /// What was being done (`load the home feed`).
    pub what: &'static str,
    /// Where in our code the error was raised.
    pub location: &'static Location<'static>,
    /// The underlying error.
    pub source: rusqlite::Error,
}

impl DbError {
    #[track_caller]
    fn new(what: &'static str, source: rusqlite::Error) -> Self {
        Self {
            what,
            location: Location::caller(),
            source,
        }
    }
}

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot {}: {}", self.what, self.source)
    }
}

impl std::error::Error for DbError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// The database.
#[derive(Debug)]
pub struct Db {
    conn: Mutex<Connection>,
}

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS activities (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    handle TEXT NOT NULL,
    message TEXT NOT NULL,
    created_at TEXT NOT NULL
)";

const SEED: &[(&str, &str)] = &[
    ("andrew", "Shipped the new feed today!"),
    ("worf", "Today is a good day to deploy."),
    ("garek", "Traces never lie. People do."),
];

const NOW: &str = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

/// `SELECT` for the home feed.
pub const HOME_SQL: &str =
    "SELECT id, handle, message, created_at FROM activities ORDER BY id DESC LIMIT ?1";
/// `INSERT` of one activity.
pub const INSERT_SQL: &str = "INSERT INTO activities (handle, message, created_at) VALUES (?1, ?2, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) RETURNING id, handle, message, created_at";
/// The query that fails on purpose (`/api/fail`): the table does not exist.
pub const FAIL_SQL: &str = "SELECT id, payload FROM archived_activities WHERE id = ?1";

impl Db {
    /// Opens (creating the parent directory and the schema) and seeds an empty table, all
    /// untraced.
    pub fn open(path: &str) -> Result<Self, String> {
        if path != ":memory:"
            && let Some(dir) = std::path::Path::new(path).parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {dir:?}: {e}"))?;
        }
        let conn = Connection::open(path).map_err(|e| format!("cannot open {path}: {e}"))?;
        let setup = || -> rusqlite::Result<()> {
            if path != ":memory:" {
                conn.pragma_update(None, "journal_mode", "WAL")?;
                conn.pragma_update(None, "synchronous", "NORMAL")?;
            }
            conn.execute(SCHEMA, [])?;
            let count: i64 = conn.query_row("SELECT count(*) FROM activities", [], |r| r.get(0))?;
            if count == 0 {
                for (handle, message) in SEED {
                    conn.execute(
                        &format!(
                            "INSERT INTO activities (handle, message, created_at) VALUES (?1, ?2, {NOW})"
                        ),
                        params![handle, message],
                    )?;
                }
            }
            Ok(())
        };
        setup().map_err(|e| format!("cannot set up {path}: {e}"))?;
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The newest `limit` activities, newest first.
    pub fn home(&self, limit: u32) -> Result<Vec<Activity>, DbError> {
        let conn = self.conn();
        traced("SELECT", "activities", HOME_SQL, || {
            let mut statement = conn.prepare_cached(HOME_SQL)?;
            let rows = statement.query_map([limit], activity)?;
            rows.collect()
        })
        .map_err(|e| DbError::new("load the home feed", e))
    }

    /// Inserts an activity and returns it.
    pub fn insert(&self, handle: &str, message: &str) -> Result<Activity, DbError> {
        let conn = self.conn();
        traced("INSERT", "activities", INSERT_SQL, || {
            let mut statement = conn.prepare_cached(INSERT_SQL)?;
            statement.query_row(params![handle, message], activity)
        })
        .map_err(|e| DbError::new("post the activity", e))
    }

    /// Runs [`FAIL_SQL`], which fails (no such table).
    pub fn archived(&self, id: i64) -> Result<Option<String>, DbError> {
        let conn = self.conn();
        traced("SELECT", "archived_activities", FAIL_SQL, || {
            let mut statement = conn.prepare(FAIL_SQL)?;
            let mut rows = statement.query([id])?;
            match rows.next()? {
                Some(row) => row.get(1).map(Some),
                None => Ok(None),
            }
        })
        .map_err(|e| DbError::new("load the archived activity", e))
    }
}

fn activity(row: &rusqlite::Row<'_>) -> rusqlite::Result<Activity> {
    Ok(Activity {
        id: row.get(0)?,
        handle: row.get(1)?,
        message: row.get(2)?,
        created_at: row.get(3)?,
    })
}

/// Runs `f` inside a CLIENT span `<operation> <table>` (a child of the current span).
fn traced<T>(
    operation: &str,
    table: &str,
    sql: &str,
    f: impl FnOnce() -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    let span = tracing::info_span!(
        "db",
        otel.name = %format_args!("{operation} {table}"),
        otel.kind = "client",
        otel.status_code = Empty,
        otel.status_description = Empty,
        "db.system.name" = "sqlite",
        "db.namespace" = "main",
        "db.operation.name" = operation,
        "db.collection.name" = table,
        "db.query.text" = sql,
        "error.type" = Empty,
    );
    let result = span.in_scope(f);
    if let Err(e) = &result {
        span.record("otel.status_code", "error");
        span.record("otel.status_description", e.to_string());
        span.record("error.type", error_type(e));
    }
    result
}

/// A short class for an SQLite error: the variant name (`SqliteFailure`, …).
pub fn error_type(e: &rusqlite::Error) -> String {
    let debug = format!("{e:?}");
    debug
        .split(|c: char| !c.is_alphanumeric() && c != '_')
        .next()
        .unwrap_or("Error")
        .to_owned()
}
