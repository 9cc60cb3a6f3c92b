//! AWS X-Ray sampling rules, as a pure policy: which rule a request matches, and whether
//! that rule's reservoir or fixed rate samples it.
//!
//! The semantics are X-Ray's:
//! - Rules are tried by `priority` (lowest first; equal priorities by rule name), and the
//!   first whose every field matches wins; the default rule matches everything and comes last.
//!   A local rules file (X-Ray's version 2 format) has no priorities: its rules are tried in
//!   the order they are written (see [`RuleSet::local`]).
//! - `service_name`, `service_type`, `host`, `http_method` and `url_path` are globs: `*` any
//!   run of characters, `?` any one, matched without regard to ASCII case.
//! - Each rule has a reservoir: the first `fixed_target` matching requests of each second are
//!   sampled, and after that a `rate` fraction of them. With centralized rules, X-Ray's
//!   `GetSamplingTargets` assigns a reservoir quota (with an expiry) in place of the rule's own
//!   `fixed_target`; until one arrives (or after it expires) the rule borrows one request a
//!   second, as the X-Ray SDKs do.
//!
//! Time comes in as Unix nanoseconds and randomness as a number in `[0, 1)`: the service
//! crate passes the trace id's random bits, so a decision is reproducible.

use crate::prelude::*;

/// One sampling rule.
#[derive(Clone, Debug, PartialEq)]
pub struct SamplingRule {
    /// `RuleName` (local rules: their description, or `rule-N`).
    pub name: String,
    /// Lower first; 1 to 9999 for centralized rules; the default rule is 10000.
    pub priority: u32,
    /// Glob over the service's name.
    pub service_name: String,
    /// Glob over the service's origin (for example `AWS::EC2::Instance`).
    pub service_type: String,
    /// Glob over the request's host.
    pub host: String,
    /// Glob over the request's HTTP method.
    pub http_method: String,
    /// Glob over the request's URL path.
    pub url_path: String,
    /// Requests sampled each second before `rate` applies (`fixed_target`, `ReservoirSize`).
    pub reservoir_per_second: u32,
    /// Fraction sampled after the reservoir (`rate`, `FixedRate`), 0 to 1.
    pub rate: f64,
}

impl SamplingRule {
    /// A rule matching everything, with this reservoir and rate (the default rule's shape).
    pub fn catch_all(name: &str, priority: u32, reservoir_per_second: u32, rate: f64) -> Self {
        Self {
            name: name.to_owned(),
            priority,
            service_name: "*".to_owned(),
            service_type: "*".to_owned(),
            host: "*".to_owned(),
            http_method: "*".to_owned(),
            url_path: "*".to_owned(),
            reservoir_per_second,
            rate,
        }
    }

    /// Whether every field of the rule matches `request`.
    pub fn matches(&self, request: &SamplingRequest<'_>) -> bool {
        glob_match(&self.service_name, request.service_name)
            && glob_match(&self.service_type, request.service_type)
            && glob_match(&self.host, request.host)
            && glob_match(&self.http_method, request.http_method)
            && glob_match(&self.url_path, request.url_path)
    }
}

/// What a rule is matched against.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SamplingRequest<'a> {
    /// The service's name.
    pub service_name: &'a str,
    /// The service's origin (empty when unknown).
    pub service_type: &'a str,
    /// The request's host (without port).
    pub host: &'a str,
    /// The HTTP method.
    pub http_method: &'a str,
    /// The URL path.
    pub url_path: &'a str,
}

/// Which way a request was sampled (or not), for `GetSamplingTargets` statistics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Taken from the reservoir (or the quota).
    Reservoir,
    /// One borrowed request a second, while there is no quota.
    Borrowed,
    /// Sampled by the fixed rate.
    Rate,
    /// Not sampled.
    NotSampled,
}

/// A decision: whether to sample, and by which rule.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    /// Whether the request is sampled.
    pub sampled: bool,
    /// The rule that decided.
    pub rule: String,
    /// How.
    pub outcome: Outcome,
}

/// Counts per rule since the last report (`GetSamplingTargets`' `SamplingStatisticsDocument`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RuleStats {
    /// Requests matched.
    pub requests: u64,
    /// Requests sampled.
    pub sampled: u64,
    /// Requests sampled by borrowing.
    pub borrowed: u64,
}

/// A reservoir quota assigned by X-Ray (`GetSamplingTargets`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Target {
    /// Requests a second this service may sample by reservoir.
    pub quota_per_second: u32,
    /// When the quota expires (Unix nanoseconds).
    pub expires_unix_nanos: u64,
    /// The rule's rate for this service, as X-Ray adjusted it.
    pub rate: f64,
}

#[derive(Clone, Debug)]
struct RuleState {
    rule: SamplingRule,
    /// The second (Unix) the counter below is for, and how many were taken in it.
    second: u64,
    taken: u32,
    target: Option<Target>,
    stats: RuleStats,
}

impl RuleState {
    fn new(rule: SamplingRule) -> Self {
        Self {
            rule,
            second: u64::MAX,
            taken: 0,
            target: None,
            stats: RuleStats::default(),
        }
    }

    fn decide(&mut self, now_unix_nanos: u64, random: f64, centralized: bool) -> Decision {
        let second = now_unix_nanos / 1_000_000_000;
        if second != self.second {
            self.second = second;
            self.taken = 0;
        }
        self.stats.requests += 1;
        let target = self
            .target
            .filter(|t| now_unix_nanos < t.expires_unix_nanos);
        let (per_second, outcome, rate) = match (centralized, target) {
            (true, Some(t)) => (t.quota_per_second, Outcome::Reservoir, t.rate),
            (true, None) => (1, Outcome::Borrowed, self.rule.rate),
            (false, _) => (
                self.rule.reservoir_per_second,
                Outcome::Reservoir,
                self.rule.rate,
            ),
        };
        let outcome = if self.taken < per_second {
            self.taken += 1;
            outcome
        } else if random < rate {
            Outcome::Rate
        } else {
            Outcome::NotSampled
        };
        let sampled = outcome != Outcome::NotSampled;
        if sampled {
            self.stats.sampled += 1;
        }
        if outcome == Outcome::Borrowed {
            self.stats.borrowed += 1;
        }
        Decision {
            sampled,
            rule: self.rule.name.clone(),
            outcome,
        }
    }
}

/// Rules and their reservoirs.
#[derive(Clone, Debug)]
pub struct RuleSet {
    rules: Vec<RuleState>,
    default: RuleState,
    centralized: bool,
}

/// The default rule's priority: after every other.
pub const DEFAULT_RULE_PRIORITY: u32 = 10_000;

impl RuleSet {
    /// Rules from a local rules file: tried in the order given (their priorities are
    /// rewritten to that order), then `default`. Reservoirs are the rules' own.
    pub fn local(rules: Vec<SamplingRule>, default: SamplingRule) -> Self {
        let rules = rules
            .into_iter()
            .enumerate()
            .map(|(i, mut r)| {
                r.priority = u32::try_from(i + 1).unwrap_or(u32::MAX);
                RuleState::new(r)
            })
            .collect();
        Self {
            rules,
            default: RuleState::new(default),
            centralized: false,
        }
    }

    /// Centralized rules (`GetSamplingRules`): sorted by priority then name; the one named
    /// `Default` (or, failing that, the last) is the default. Reservoirs come from
    /// [`RuleSet::set_target`]; until then each rule borrows one request a second.
    pub fn centralized(mut rules: Vec<SamplingRule>) -> Self {
        rules.sort_by(|a, b| a.priority.cmp(&b.priority).then(a.name.cmp(&b.name)));
        let default = match rules.iter().position(|r| r.name == "Default") {
            Some(i) => rules.remove(i),
            None => rules.pop().unwrap_or_else(|| {
                SamplingRule::catch_all("Default", DEFAULT_RULE_PRIORITY, 1, 0.05)
            }),
        };
        Self {
            rules: rules.into_iter().map(RuleState::new).collect(),
            default: RuleState::new(default),
            centralized: true,
        }
    }

    /// The X-Ray SDKs' built-in rules: one request a second, then 5 %.
    pub fn sdk_default() -> Self {
        Self::local(
            Vec::new(),
            SamplingRule::catch_all("Default", DEFAULT_RULE_PRIORITY, 1, 0.05),
        )
    }

    /// Decides for `request` at `now_unix_nanos`; `random` is uniform in `[0, 1)`.
    pub fn decide(
        &mut self,
        request: &SamplingRequest<'_>,
        now_unix_nanos: u64,
        random: f64,
    ) -> Decision {
        let centralized = self.centralized;
        let state = match self.rules.iter_mut().find(|s| s.rule.matches(request)) {
            Some(state) => state,
            None => &mut self.default,
        };
        state.decide(now_unix_nanos, random, centralized)
    }

    /// Applies a `GetSamplingTargets` answer for rule `name`; false when there is no such rule.
    pub fn set_target(&mut self, name: &str, target: Target) -> bool {
        match self.state_mut(name) {
            Some(s) => {
                s.target = Some(target);
                true
            }
            None => false,
        }
    }

    /// The statistics since the last call, per rule name (for `GetSamplingTargets`), reset.
    pub fn take_stats(&mut self) -> Vec<(String, RuleStats)> {
        self.rules
            .iter_mut()
            .chain(core::iter::once(&mut self.default))
            .map(|s| (s.rule.name.clone(), core::mem::take(&mut s.stats)))
            .collect()
    }

    /// The rules in the order they are tried, the default last.
    pub fn rules(&self) -> impl Iterator<Item = &SamplingRule> {
        self.rules
            .iter()
            .chain(core::iter::once(&self.default))
            .map(|s| &s.rule)
    }

    fn state_mut(&mut self, name: &str) -> Option<&mut RuleState> {
        self.rules
            .iter_mut()
            .chain(core::iter::once(&mut self.default))
            .find(|s| s.rule.name == name)
    }
}

/// X-Ray's glob: `*` matches any run of characters (none included), `?` exactly one; ASCII
/// case is ignored.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().map(|c| c.to_ascii_lowercase()).collect();
    let t: Vec<char> = text.chars().map(|c| c.to_ascii_lowercase()).collect();
    let (mut pi, mut ti) = (0, 0);
    // The last `*` seen and the text position it was tried at.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// X-Ray's JSON documents: local rules files (the `xray-json` feature).
#[cfg(feature = "xray-json")]
pub mod json {
    use super::{DEFAULT_RULE_PRIORITY, RuleSet, RuleStats, SamplingRule, Target};
    use serde_json::Value;

    /// [`local_rules`] of the file at `path`.
    pub fn local_rules_file(path: impl AsRef<std::path::Path>) -> Result<RuleSet, String> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        local_rules(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// A local sampling rules file in X-Ray's format (version 2, or 1 whose rules name a
    /// `service_name` instead of a `host`) as a [`RuleSet`]: its rules tried in the order written,
    /// then `default`. The error names the field that is wrong.
    ///
    /// ```json
    /// {"version": 2,
    ///  "rules": [{"description": "Player moves.", "host": "*", "http_method": "*",
    ///             "url_path": "/api/move/*", "fixed_target": 0, "rate": 0.05}],
    ///  "default": {"fixed_target": 1, "rate": 0.1}}
    /// ```
    pub fn local_rules(json: &str) -> Result<RuleSet, String> {
        let doc: Value = serde_json::from_str(json).map_err(|e| format!("not JSON: {e}"))?;
        let version = doc.get("version").and_then(Value::as_u64);
        if !matches!(version, Some(1 | 2)) {
            return Err("`version` must be 1 or 2".into());
        }
        let reservoir_and_rate = |v: &Value, at: &str| -> Result<(u32, f64), String> {
            let fixed = v
                .get("fixed_target")
                .and_then(Value::as_u64)
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| format!("`{at}.fixed_target` must be a whole number"))?;
            let rate = v
                .get("rate")
                .and_then(Value::as_f64)
                .filter(|r| (0.0..=1.0).contains(r))
                .ok_or_else(|| format!("`{at}.rate` must be a number from 0 to 1"))?;
            Ok((fixed, rate))
        };
        let default = doc.get("default").ok_or("`default` is missing")?;
        let (fixed, rate) = reservoir_and_rate(default, "default")?;
        let default = SamplingRule::catch_all("Default", DEFAULT_RULE_PRIORITY, fixed, rate);
        let mut rules = Vec::new();
        let listed = match doc.get("rules") {
            None => Vec::new(),
            Some(Value::Array(list)) => list.clone(),
            Some(_) => return Err("`rules` must be an array".into()),
        };
        for (i, r) in listed.iter().enumerate() {
            let at = format!("rules[{i}]");
            let glob = |k: &str, required: bool| -> Result<String, String> {
                match r.get(k) {
                    Some(Value::String(s)) => Ok(s.clone()),
                    None if !required => Ok("*".into()),
                    _ => Err(format!("`{at}.{k}` must be a string")),
                }
            };
            let v2 = version == Some(2);
            let (fixed, rate) = reservoir_and_rate(r, &at)?;
            rules.push(SamplingRule {
                name: r
                    .get("description")
                    .and_then(Value::as_str)
                    .map_or_else(|| format!("rule-{}", i + 1), str::to_owned),
                priority: 0,
                service_name: glob("service_name", !v2)?,
                service_type: "*".into(),
                host: glob("host", v2)?,
                http_method: glob("http_method", true)?,
                url_path: glob("url_path", true)?,
                reservoir_per_second: fixed,
                rate,
            });
        }
        Ok(RuleSet::local(rules, default))
    }

    /// The X-Ray daemon's (and X-Ray's) `GetSamplingRules` answer for `set`: its rules in
    /// the order they are tried, the default last.
    pub fn get_sampling_rules_document(set: &RuleSet) -> Value {
        let records: Vec<Value> = set
            .rules()
            .map(|r| {
                serde_json::json!({
                    "SamplingRule": {
                        "RuleName": r.name,
                        "RuleARN": format!("arn:aws:xray:local::sampling-rule/{}", r.name),
                        "ResourceARN": "*",
                        "Priority": r.priority,
                        "FixedRate": r.rate,
                        "ReservoirSize": r.reservoir_per_second,
                        "ServiceName": r.service_name,
                        "ServiceType": r.service_type,
                        "Host": r.host,
                        "HTTPMethod": r.http_method,
                        "URLPath": r.url_path,
                        "Version": 1,
                        "Attributes": {},
                    },
                    "CreatedAt": 0.0,
                    "ModifiedAt": 0.0,
                })
            })
            .collect();
        serde_json::json!({ "SamplingRuleRecords": records })
    }

    /// The rules of a `GetSamplingRules` answer (records without a name are skipped), for
    /// [`RuleSet::centralized`].
    pub fn rules_from_document(doc: &Value) -> Vec<SamplingRule> {
        let records = doc["SamplingRuleRecords"]
            .as_array()
            .map_or(&[][..], Vec::as_slice);
        records
            .iter()
            .filter_map(|rec| {
                let r = &rec["SamplingRule"];
                let text = |k: &str| r[k].as_str().unwrap_or("*").to_owned();
                Some(SamplingRule {
                    name: r["RuleName"].as_str()?.to_owned(),
                    priority: r["Priority"].as_u64().and_then(|p| u32::try_from(p).ok())?,
                    service_name: text("ServiceName"),
                    service_type: text("ServiceType"),
                    host: text("Host"),
                    http_method: text("HTTPMethod"),
                    url_path: text("URLPath"),
                    reservoir_per_second: r["ReservoirSize"]
                        .as_u64()
                        .and_then(|n| u32::try_from(n).ok())
                        .unwrap_or(0),
                    rate: r["FixedRate"].as_f64().unwrap_or(0.0).clamp(0.0, 1.0),
                })
            })
            .collect()
    }

    /// A `SamplingTargets` request: each rule's statistics since the last one.
    pub fn statistics_document(
        stats: &[(String, RuleStats)],
        client_id: &str,
        now_secs: f64,
    ) -> Value {
        let docs: Vec<Value> = stats
            .iter()
            .map(|(name, s)| {
                serde_json::json!({
                    "RuleName": name,
                    "ClientID": client_id,
                    "Timestamp": now_secs,
                    "RequestCount": s.requests,
                    "SampledCount": s.sampled,
                    "BorrowCount": s.borrowed,
                })
            })
            .collect();
        serde_json::json!({ "SamplingStatisticsDocuments": docs })
    }

    /// The answer to a `SamplingTargets` request from a daemon serving `set` alone: each rule
    /// named in the request gets its whole reservoir as quota (one client) and its rate, valid
    /// for a minute.
    pub fn sampling_targets_document(set: &RuleSet, request: &Value, now_secs: f64) -> Value {
        let asked = request["SamplingStatisticsDocuments"]
            .as_array()
            .map_or(&[][..], Vec::as_slice);
        let targets: Vec<Value> = asked
            .iter()
            .filter_map(|d| d["RuleName"].as_str())
            .filter_map(|name| set.rules().find(|r| r.name == name))
            .map(|r| {
                serde_json::json!({
                    "RuleName": r.name,
                    "FixedRate": r.rate,
                    "ReservoirQuota": r.reservoir_per_second,
                    "ReservoirQuotaTTL": now_secs + 60.0,
                    "Interval": 10,
                })
            })
            .collect();
        serde_json::json!({
            "SamplingTargetDocuments": targets,
            "LastRuleModification": 0.0,
            "UnprocessedStatistics": [],
        })
    }

    /// The targets of a `SamplingTargets` answer, for [`RuleSet::set_target`].
    pub fn targets_from_document(doc: &Value) -> Vec<(String, Target)> {
        let docs = doc["SamplingTargetDocuments"]
            .as_array()
            .map_or(&[][..], Vec::as_slice);
        docs.iter()
            .filter_map(|t| {
                let ttl = t["ReservoirQuotaTTL"].as_f64()?;
                Some((
                    t["RuleName"].as_str()?.to_owned(),
                    Target {
                        quota_per_second: t["ReservoirQuota"]
                            .as_u64()
                            .and_then(|n| u32::try_from(n).ok())
                            .unwrap_or(0),
                        expires_unix_nanos: (ttl * 1e9) as u64,
                        rate: t["FixedRate"].as_f64().unwrap_or(0.0).clamp(0.0, 1.0),
                    },
                ))
            })
            .collect()
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn the_daemon_sampling_documents_round_trip() {
            let set = local_rules(
                r#"{"version": 2,
                    "rules": [{"description": "quiet", "host": "*", "http_method": "GET",
                               "url_path": "/quiet/*", "fixed_target": 0, "rate": 0}],
                    "default": {"fixed_target": 3, "rate": 0.5}}"#,
            )
            .unwrap();
            let rules = rules_from_document(&get_sampling_rules_document(&set));
            let mut central = RuleSet::centralized(rules);
            let names: Vec<&str> = central.rules().map(|r| r.name.as_str()).collect();
            assert_eq!(names, ["quiet", "Default"]);
            assert_eq!(central.rules().nth(1).unwrap().reservoir_per_second, 3);
            let stats = vec![(
                "Default".to_owned(),
                super::super::RuleStats {
                    requests: 4,
                    sampled: 2,
                    borrowed: 1,
                },
            )];
            let request = statistics_document(&stats, "abc", 1.7e9);
            assert_eq!(request["SamplingStatisticsDocuments"][0]["BorrowCount"], 1);
            let answer = sampling_targets_document(&set, &request, 1.7e9);
            let targets = targets_from_document(&answer);
            assert_eq!(targets.len(), 1);
            assert_eq!(targets[0].0, "Default");
            assert_eq!(targets[0].1.quota_per_second, 3);
            assert_eq!(targets[0].1.expires_unix_nanos, 1_700_000_060_000_000_000);
            assert!(central.set_target(&targets[0].0, targets[0].1));
            assert!(rules_from_document(&serde_json::json!({})).is_empty());
        }

        #[test]
        fn local_rules_files() {
            let set = local_rules(
                r#"{"version": 2,
                    "rules": [{"description": "Player moves.", "host": "*", "http_method": "*",
                               "url_path": "/api/move/*", "fixed_target": 0, "rate": 0.05},
                              {"host": "*.example", "http_method": "POST", "url_path": "*",
                               "fixed_target": 2, "rate": 1}],
                    "default": {"fixed_target": 1, "rate": 0.1}}"#,
            )
            .expect("valid");
            let names: Vec<&str> = set.rules().map(|r| r.name.as_str()).collect();
            assert_eq!(names, ["Player moves.", "rule-2", "Default"]);
            let dir = std::env::temp_dir().join(format!("xray-rules-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let file = dir.join("rules.json");
            std::fs::write(
                &file,
                r#"{"version": 2, "default": {"fixed_target": 1, "rate": 0.1}}"#,
            )
            .unwrap();
            assert_eq!(local_rules_file(&file).expect("file").rules().count(), 1);
            std::fs::write(&file, "{").unwrap();
            assert!(local_rules_file(&file).unwrap_err().contains("rules.json"));
            assert!(
                local_rules_file(dir.join("missing.json"))
                    .unwrap_err()
                    .contains("cannot read")
            );
            std::fs::remove_dir_all(&dir).unwrap();
            let v1 = local_rules(
                r#"{"version": 1, "rules": [{"service_name": "orders", "http_method": "*",
                    "url_path": "*", "fixed_target": 1, "rate": 0.5}],
                    "default": {"fixed_target": 1, "rate": 0.1}}"#,
            )
            .expect("v1");
            assert_eq!(v1.rules().next().unwrap().service_name, "orders");
            for (bad, field) in [
                (
                    r#"{"version": 3, "default": {"fixed_target": 1, "rate": 0.1}}"#,
                    "version",
                ),
                (r#"{"version": 2}"#, "default"),
                (
                    r#"{"version": 2, "default": {"fixed_target": -1, "rate": 0.1}}"#,
                    "default.fixed_target",
                ),
                (
                    r#"{"version": 2, "default": {"fixed_target": 1, "rate": 1.5}}"#,
                    "default.rate",
                ),
                (
                    r#"{"version": 2, "default": {"fixed_target": 1, "rate": 0.1}, "rules": [{"http_method": "*", "url_path": "*", "fixed_target": 1, "rate": 0.1}]}"#,
                    "rules[0].host",
                ),
                (
                    r#"{"version": 2, "default": {"fixed_target": 1, "rate": 0.1}, "rules": {}}"#,
                    "rules",
                ),
                ("not json", "JSON"),
            ] {
                let e = local_rules(bad).expect_err(bad);
                assert!(e.contains(field), "{e} should name {field}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    const SECOND: u64 = 1_000_000_000;
    const T0: u64 = 1_700_000_000 * SECOND;

    fn rule(name: &str, priority: u32, url_path: &str, reservoir: u32, rate: f64) -> SamplingRule {
        SamplingRule {
            url_path: url_path.to_owned(),
            ..SamplingRule::catch_all(name, priority, reservoir, rate)
        }
    }

    fn request<'a>(method: &'a str, path: &'a str) -> SamplingRequest<'a> {
        SamplingRequest {
            service_name: "orders-api",
            service_type: "",
            host: "orders.example",
            http_method: method,
            url_path: path,
        }
    }

    #[test]
    fn glob_vectors() {
        for (pattern, text, want) in [
            ("*", "", true),
            ("*", "anything", true),
            ("", "", true),
            ("", "x", false),
            ("/api/*", "/api/orders", true),
            ("/api/*", "/api", false),
            ("/api/*", "/api/", true),
            ("/api/*/items", "/api/7/items", true),
            ("/api/*/items", "/api/7/8/items", true),
            ("/api/*/items", "/api/7/item", false),
            ("/a?c", "/abc", true),
            ("/a?c", "/ac", false),
            ("/a?c", "/abbc", false),
            ("GET", "get", true),
            ("*.Example", "orders.EXAMPLE", true),
            ("a*b*c", "aXbYc", true),
            ("a*b*c", "aXcYb", false),
            ("**", "x", true),
            ("*?", "", false),
            ("é*", "é!", true),
        ] {
            assert_eq!(glob_match(pattern, text), want, "{pattern:?} ~ {text:?}");
        }
    }

    #[test]
    fn every_field_must_match() {
        let r = SamplingRule {
            service_name: "orders-*".into(),
            service_type: "*".into(),
            host: "*.example".into(),
            http_method: "POST".into(),
            url_path: "/api/*".into(),
            ..SamplingRule::catch_all("r", 1, 1, 0.0)
        };
        assert!(r.matches(&request("POST", "/api/cart")));
        assert!(!r.matches(&request("GET", "/api/cart")), "method");
        assert!(!r.matches(&request("POST", "/health")), "path");
        let mut other = request("POST", "/api/cart");
        other.service_name = "billing";
        assert!(!r.matches(&other), "service");
        other = request("POST", "/api/cart");
        other.host = "orders.internal";
        assert!(!r.matches(&other), "host");
    }

    #[test]
    fn reservoir_then_rate_each_second() {
        let mut set = RuleSet::local(
            vec![rule("api", 0, "/api/*", 2, 0.25)],
            SamplingRule::catch_all("Default", DEFAULT_RULE_PRIORITY, 0, 0.0),
        );
        let r = request("GET", "/api/orders");
        // Second 0: two from the reservoir, then the rate (random below 0.25 samples).
        let outcomes: Vec<Outcome> = [0.9, 0.9, 0.9, 0.1, 0.3, 0.24]
            .iter()
            .map(|&x| set.decide(&r, T0 + 10, x).outcome)
            .collect();
        use Outcome::*;
        assert_eq!(
            outcomes,
            [Reservoir, Reservoir, NotSampled, Rate, NotSampled, Rate]
        );
        // The next second: the reservoir is full again.
        assert_eq!(set.decide(&r, T0 + SECOND, 0.9).outcome, Reservoir);
        // The default rule (no reservoir, rate 0) samples nothing.
        let d = set.decide(&request("GET", "/health"), T0, 0.0);
        assert_eq!((d.sampled, d.rule.as_str()), (false, "Default"));
        let stats = set.take_stats();
        assert_eq!(
            stats[0],
            (
                "api".to_owned(),
                RuleStats {
                    requests: 7,
                    sampled: 5,
                    borrowed: 0
                }
            )
        );
        assert_eq!(set.take_stats()[0].1, RuleStats::default(), "reset");
    }

    #[test]
    fn local_rules_go_in_written_order_centralized_by_priority_then_name() {
        let mut local = RuleSet::local(
            vec![
                rule("broad", 0, "/api/*", 1, 0.0),
                rule("narrow", 0, "/api/orders", 1, 0.0),
            ],
            SamplingRule::catch_all("Default", DEFAULT_RULE_PRIORITY, 1, 0.0),
        );
        assert_eq!(
            local.decide(&request("GET", "/api/orders"), T0, 0.5).rule,
            "broad"
        );

        let mut central = RuleSet::centralized(vec![
            SamplingRule::catch_all("Default", DEFAULT_RULE_PRIORITY, 1, 0.05),
            rule("broad", 20, "/api/*", 1, 0.0),
            rule("narrow", 10, "/api/orders", 1, 0.0),
            rule("b-tie", 30, "/api/*", 1, 0.0),
            rule("a-tie", 30, "/api/*", 1, 0.0),
        ]);
        let names: Vec<&str> = central.rules().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["narrow", "broad", "a-tie", "b-tie", "Default"]);
        assert_eq!(
            central.decide(&request("GET", "/api/orders"), T0, 0.5).rule,
            "narrow"
        );
        assert_eq!(
            central.decide(&request("GET", "/api/cart"), T0, 0.5).rule,
            "broad"
        );
        assert_eq!(
            central.decide(&request("GET", "/"), T0, 0.5).rule,
            "Default"
        );
    }

    #[test]
    fn centralized_rules_borrow_until_a_target_then_use_its_quota_until_it_expires() {
        let mut set = RuleSet::centralized(vec![rule("api", 10, "/api/*", 50, 0.0)]);
        let r = request("GET", "/api/orders");
        use Outcome::*;
        // No target: one borrowed a second, whatever the rule's own reservoir.
        assert_eq!(set.decide(&r, T0, 0.9).outcome, Borrowed);
        assert_eq!(set.decide(&r, T0, 0.9).outcome, NotSampled);
        assert!(set.set_target(
            "api",
            Target {
                quota_per_second: 3,
                expires_unix_nanos: T0 + 10 * SECOND,
                rate: 0.5
            }
        ));
        assert!(!set.set_target(
            "missing",
            Target {
                quota_per_second: 1,
                expires_unix_nanos: 0,
                rate: 0.0
            }
        ));
        let second: Vec<Outcome> = (0..5)
            .map(|_| set.decide(&r, T0 + SECOND, 0.7).outcome)
            .collect();
        assert_eq!(
            second,
            [Reservoir, Reservoir, Reservoir, NotSampled, NotSampled]
        );
        assert_eq!(
            set.decide(&r, T0 + SECOND, 0.4).outcome,
            Rate,
            "the target's rate"
        );
        // Expired: borrowing again.
        assert_eq!(set.decide(&r, T0 + 11 * SECOND, 0.9).outcome, Borrowed);
        let stats = set.take_stats();
        assert_eq!(stats[0].1.borrowed, 2);
        assert_eq!(stats[0].1.requests, 9);
    }

    #[test]
    fn the_sdk_default_is_one_a_second_then_five_percent() {
        let mut set = RuleSet::sdk_default();
        let r = request("GET", "/");
        assert!(set.decide(&r, T0, 0.99).sampled);
        assert!(!set.decide(&r, T0, 0.05).sampled);
        assert!(set.decide(&r, T0, 0.049).sampled);
    }
}
