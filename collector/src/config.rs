//! The collector's settings: command line, environment, and their defaults.
//!
//! Relay keys live here and nowhere else; the [`std::fmt::Debug`] impls print
//! `<redacted>` in their place, so a config can be logged.

use std::fmt;
use std::time::Duration;

/// `--addr` default.
pub const DEFAULT_ADDR: &str = "127.0.0.1:4318";
/// `--xray-addr` default: where the X-Ray SDKs send segments (the X-Ray daemon's port).
pub const DEFAULT_XRAY_ADDR: &str = "127.0.0.1:2000";
/// `--db` default (relative to the current directory).
pub const DEFAULT_DB: &str = "edge-collector.sqlite";
/// `--max-traces` default.
pub const DEFAULT_MAX_TRACES: u64 = 10_000;
/// `--max-age-hours` default (a week).
pub const DEFAULT_MAX_AGE_HOURS: f64 = 168.0;
/// `--max-db-mb` default.
pub const DEFAULT_MAX_DB_MB: u64 = 256;
/// `--max-body-mb` default.
pub const DEFAULT_MAX_BODY_MB: u64 = 16;
/// `HONEYCOMB_ENDPOINT` default.
pub const DEFAULT_HONEYCOMB_ENDPOINT: &str = "https://api.honeycomb.io";
/// `ROLLBAR_ENDPOINT` default.
pub const DEFAULT_ROLLBAR_ENDPOINT: &str = "https://api.rollbar.com/api/1/item/";
/// `--ingest-rate` default: requests per second per client.
pub const DEFAULT_INGEST_RATE: f64 = 50.0;
/// `--ingest-burst` default: requests a client may send at once.
pub const DEFAULT_INGEST_BURST: u32 = 200;
/// The shortest read or ingest token accepted.
pub const MIN_TOKEN_LEN: usize = 16;

const MIB: u64 = 1024 * 1024;

/// Everything the collector needs to run.
#[derive(Clone, Debug)]
pub struct Config {
    /// Listen address, `HOST:PORT` (port 0 picks a free port).
    pub addr: String,
    /// SQLite file, or `:memory:`.
    pub db: String,
    /// What is kept.
    pub retention: Retention,
    /// Request bodies (and what they inflate to) over this many bytes get 413.
    pub max_body_bytes: usize,
    /// Upstream services to forward to.
    pub relay: RelayConfig,
    /// Who may read and who may send.
    pub access: AccessConfig,
    /// The UDP address of the X-Ray daemon port, `HOST:PORT`; `None`: no daemon port.
    pub xray_addr: Option<String>,
    /// Groups: named X-Ray filter expressions (`--group NAME=EXPRESSION`).
    pub groups: Vec<crate::groups::Group>,
    /// Forwarding segments and spans to AWS X-Ray (the AWS environment variables).
    pub xray_forward: Option<crate::xray_forward::XrayForwardConfig>,
    /// The sampling rules served at `/GetSamplingRules` (`--xray-sampling-rules FILE`);
    /// `None`: X-Ray's default rule.
    pub xray_sampling_rules: Option<edge_telemetry_core::trace::xray_rules::RuleSet>,
    /// Shipping log records to CloudWatch Logs (the AWS environment variables, and
    /// `--log-group`).
    pub cloudwatch_logs: Option<crate::cloudwatch_logs::CloudWatchLogsConfig>,
}

/// `--log-group` default: the CloudWatch Logs group log records go to.
pub const DEFAULT_LOG_GROUP: &str = "edge-telemetry";

impl Default for Config {
    /// The documented defaults, no relay.
    fn default() -> Self {
        Self {
            addr: DEFAULT_ADDR.to_owned(),
            db: DEFAULT_DB.to_owned(),
            retention: Retention::default(),
            max_body_bytes: (DEFAULT_MAX_BODY_MB * MIB) as usize,
            relay: RelayConfig::default(),
            access: AccessConfig::default(),
            xray_addr: Some(DEFAULT_XRAY_ADDR.to_owned()),
            groups: Vec::new(),
            xray_forward: None,
            xray_sampling_rules: None,
            cloudwatch_logs: None,
        }
    }
}

impl Config {
    /// The defaults with an in-memory database on a free port of 127.0.0.1 (for tests).
    pub fn ephemeral() -> Self {
        Self {
            addr: "127.0.0.1:0".to_owned(),
            db: ":memory:".to_owned(),
            xray_addr: Some("127.0.0.1:0".to_owned()),
            ..Self::default()
        }
    }
}

/// Retention limits, enforced after every ingest request: the oldest traces (by their first
/// span's start) go first, with the errors linked to them.
#[derive(Clone, Debug, PartialEq)]
pub struct Retention {
    /// At most this many traces (and as many error items).
    pub max_traces: u64,
    /// Traces that started longer ago than this, and items older than this, are deleted.
    pub max_age: Duration,
    /// When the pages in use exceed this, the oldest traces are deleted until the
    /// database is under 90% of it.
    pub max_db_bytes: u64,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            max_traces: DEFAULT_MAX_TRACES,
            max_age: Duration::from_secs_f64(DEFAULT_MAX_AGE_HOURS * 3600.0),
            max_db_bytes: DEFAULT_MAX_DB_MB * MIB,
        }
    }
}

/// Who may read the UI and API and who may send telemetry (see `access`).
#[derive(Clone, Default, PartialEq)]
pub struct AccessConfig {
    /// Browser origins (normalized, `scheme://host[:port]`) whose pages may send telemetry.
    pub allow_origins: Vec<String>,
    /// Host names, besides IP literals and `localhost`, that requests may be addressed to
    /// (`.example.com` also allows its subdomains).
    pub allowed_hosts: Vec<String>,
    /// Needed for the UI and API (header or login session). Required off loopback.
    pub read_token: Option<String>,
    /// Lets programs without an `Origin` send from other machines.
    pub ingest_token: Option<String>,
    /// Per-client ingestion limit.
    pub ingest_rate: RateLimit,
}

impl fmt::Debug for AccessConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = |t: &Option<String>| t.as_ref().map(|_| "<redacted>");
        f.debug_struct("AccessConfig")
            .field("allow_origins", &self.allow_origins)
            .field("allowed_hosts", &self.allowed_hosts)
            .field("read_token", &redacted(&self.read_token))
            .field("ingest_token", &redacted(&self.ingest_token))
            .field("ingest_rate", &self.ingest_rate)
            .finish()
    }
}

/// A token bucket: `burst` requests at once, refilled at `per_second` (0: no limit).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateLimit {
    pub per_second: f64,
    pub burst: u32,
}

impl Default for RateLimit {
    fn default() -> Self {
        Self {
            per_second: DEFAULT_INGEST_RATE,
            burst: DEFAULT_INGEST_BURST,
        }
    }
}

impl RateLimit {
    /// No limit.
    pub const OFF: Self = Self {
        per_second: 0.0,
        burst: 1,
    };
}

/// `scheme://host[:port]` lowercased, or why it is not an origin. `null` (sandboxed frames,
/// `file:` pages) is an origin too, if asked for.
pub fn normalize_origin(origin: &str) -> Result<String, String> {
    let o = origin.trim().trim_end_matches('/').to_ascii_lowercase();
    if o == "null" {
        return Ok(o);
    }
    if o == "*" || o.contains('*') {
        return Err(format!(
            "`{origin}`: wildcards are not allowed; name each origin (scheme://host:port)"
        ));
    }
    let rest = o
        .strip_prefix("http://")
        .or_else(|| o.strip_prefix("https://"))
        .ok_or_else(|| format!("`{origin}` is not an origin (http:// or https://host[:port])"))?;
    if rest.is_empty() || rest.contains(['/', '?', '#', '@', ' ']) {
        return Err(format!(
            "`{origin}` is not an origin (scheme://host[:port], no path)"
        ));
    }
    Ok(o)
}

/// Upstreams the collector forwards to (relay mode).
#[derive(Clone, Debug, Default)]
pub struct RelayConfig {
    /// Set when `HONEYCOMB_API_KEY` is.
    pub honeycomb: Option<HoneycombRelay>,
    /// Set when `ROLLBAR_ACCESS_TOKEN` is.
    pub rollbar: Option<RollbarRelay>,
}

/// Where OTLP requests are forwarded.
#[derive(Clone)]
pub struct HoneycombRelay {
    /// Base URL; `/v1/traces` is appended.
    pub endpoint: String,
    /// Sent as `x-honeycomb-team`.
    pub api_key: String,
    /// Sent as `x-honeycomb-dataset` (classic keys).
    pub dataset: Option<String>,
}

impl HoneycombRelay {
    /// `<endpoint>/v1/traces` (an endpoint that already ends in `/v1/traces` is used as is).
    pub fn traces_url(&self) -> String {
        self.url(crate::access::TRACES_PATH)
    }

    /// The upstream URL of an OTLP signal's `path` (`/v1/traces`, `/v1/logs`): the endpoint
    /// with `path` appended, or in place of a trailing `/v1/traces`.
    pub fn url(&self, path: &str) -> String {
        let base = self.endpoint.trim_end_matches('/');
        let base = base
            .strip_suffix(crate::access::TRACES_PATH)
            .unwrap_or(base);
        let base = base.strip_suffix(path).unwrap_or(base);
        format!("{base}{path}")
    }
}

impl fmt::Debug for HoneycombRelay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HoneycombRelay")
            .field("endpoint", &self.endpoint)
            .field("api_key", &"<redacted>")
            .field("dataset", &self.dataset)
            .finish()
    }
}

/// Where Rollbar items are forwarded.
#[derive(Clone)]
pub struct RollbarRelay {
    /// The item endpoint, used as is.
    pub endpoint: String,
    /// Sent as `X-Rollbar-Access-Token`.
    pub access_token: String,
}

impl fmt::Debug for RollbarRelay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RollbarRelay")
            .field("endpoint", &self.endpoint)
            .field("access_token", &"<redacted>")
            .finish()
    }
}

/// What the command line asks for.
#[derive(Clone, Debug)]
#[allow(clippy::large_enum_variant)] // made once, at start
pub enum Command {
    /// Run with this config.
    Run(Config),
    /// Print [`USAGE`] and exit.
    Help,
}

/// `edge-collector --help`.
pub const USAGE: &str = "\
edge-collector: local OTLP/HTTP traces + Rollbar items collector with a web UI

Usage: edge-collector [OPTIONS]

Options (environment variable in brackets):
  --addr HOST:PORT      listen address [EDGE_COLLECTOR_ADDR] (default 127.0.0.1:4318; port 0 = any free port)
  --db PATH             SQLite database [EDGE_COLLECTOR_DB] (default edge-collector.sqlite; :memory: for none)
  --xray-addr HOST:PORT the X-Ray daemon port: segment documents over UDP, stored with the spans
                        [EDGE_COLLECTOR_XRAY_ADDR] (default 127.0.0.1:2000; off for none)
  --max-traces N        keep at most N traces (default 10000)
  --max-age-hours N     delete traces older than N hours (default 168)
  --max-db-mb N         keep the database under N MiB (default 256)
  --max-body-mb N       reject request bodies over N MiB with 413 (default 16)
  --allow-origin ORIGIN a browser origin (scheme://host:port) whose pages may send telemetry;
                        repeatable [EDGE_COLLECTOR_ALLOW_ORIGINS, comma-separated]
  --xray-sampling-rules FILE
                        X-Ray sampling rules (a local rules file, version 2) served at
                        POST /GetSamplingRules and /SamplingTargets, as the X-Ray daemon serves
                        them to services [EDGE_COLLECTOR_XRAY_SAMPLING_RULES] (default: X-Ray's
                        default rule, 1 a second then 5 %)
  --log-group NAME      the CloudWatch Logs group log records go to when AWS is configured, one
                        stream per service [EDGE_COLLECTOR_LOG_GROUP] (default edge-telemetry)
  --group NAME=EXPR     a group: the traces an X-Ray filter expression matches, listed in the UI
                        and at /api/groups/NAME (for example backend=service(\"backend\") AND fault);
                        repeatable [EDGE_COLLECTOR_GROUPS, one per line]
  --allowed-host NAME   a host name the collector may be addressed by, besides IP addresses
                        and localhost (.example.com: and its subdomains); repeatable
                        [EDGE_COLLECTOR_ALLOWED_HOSTS, comma-separated]
  --ingest-rate N       requests per second per client before 429 (default 50; 0 = no limit)
  --ingest-burst N      requests a client may send at once (default 200)
  -h, --help            print this help

Access (environment only, so that no token shows in a process list; tokens are never logged):
  EDGE_COLLECTOR_READ_TOKEN    needed for the UI (log in at /login) and the API
                               (Authorization: Bearer TOKEN); required when listening on
                               an address other than loopback; at least 16 characters
  EDGE_COLLECTOR_INGEST_TOKEN  lets programs on other machines send without an Origin
                               (Authorization: Bearer, x-honeycomb-team or
                               x-rollbar-access-token); from loopback none is needed

Relay (environment only; keys are never logged):
  HONEYCOMB_API_KEY     forward every accepted OTLP request to HONEYCOMB_ENDPOINT/v1/traces
                        (default https://api.honeycomb.io) with x-honeycomb-team;
                        HONEYCOMB_DATASET adds x-honeycomb-dataset
  AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (AWS_SESSION_TOKEN)
                        forward every segment the X-Ray daemon port accepts, and every OTLP
                        span with an X-Ray trace id (as a segment), to AWS X-Ray
                        (PutTraceSegments; AWS_ENDPOINT_URL_XRAY or AWS_ENDPOINT_URL for
                        another endpoint)
  ROLLBAR_ACCESS_TOKEN  forward every accepted item to ROLLBAR_ENDPOINT
                        (default https://api.rollbar.com/api/1/item/) with X-Rollbar-Access-Token
";

impl Command {
    /// Parses the arguments (without the program name); `env` reads environment variables
    /// (empty values count as unset). Arguments win over the environment.
    pub fn parse<I, S>(args: I, env: impl Fn(&str) -> Option<String>) -> Result<Self, String>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let env = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        let mut config = Config::default();
        if let Some(addr) = env("EDGE_COLLECTOR_ADDR") {
            config.addr = addr;
        }
        if let Some(db) = env("EDGE_COLLECTOR_DB") {
            config.db = db;
        }
        let xray_addr = |v: String| (v != "off").then_some(v);
        if let Some(addr) = env("EDGE_COLLECTOR_XRAY_ADDR") {
            config.xray_addr = xray_addr(addr);
        }
        let list = |v: String| -> Vec<String> {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        };
        let mut origins = env("EDGE_COLLECTOR_ALLOW_ORIGINS").map_or_else(Vec::new, list);
        let mut log_group: Option<String> = None;
        let mut rules_file = env("EDGE_COLLECTOR_XRAY_SAMPLING_RULES");
        let mut groups: Vec<String> = env("EDGE_COLLECTOR_GROUPS").map_or_else(Vec::new, |v| {
            v.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect()
        });
        let mut hosts = env("EDGE_COLLECTOR_ALLOWED_HOSTS").map_or_else(Vec::new, list);
        let mut args = args.into_iter().map(Into::into);
        while let Some(arg) = args.next() {
            if arg == "-h" || arg == "--help" {
                return Ok(Self::Help);
            }
            let (name, inline) = match arg.split_once('=') {
                Some((name, value)) if name.starts_with("--") => (name.to_owned(), Some(value)),
                _ => (arg.clone(), None),
            };
            let mut value = || match inline {
                Some(v) => Ok(v.to_owned()),
                None => args
                    .next()
                    .ok_or_else(|| format!("option `{name}` needs a value")),
            };
            match name.as_str() {
                "--addr" => config.addr = value()?,
                "--db" => config.db = value()?,
                "--xray-addr" => config.xray_addr = xray_addr(value()?),
                "--xray-sampling-rules" => rules_file = Some(value()?),
                "--max-traces" => config.retention.max_traces = number(&name, &value()?)?,
                "--max-age-hours" => {
                    let hours: f64 = number(&name, &value()?)?;
                    if !(hours > 0.0 && hours < 1e9) {
                        return Err(format!(
                            "option `{name}` must be a positive number of hours"
                        ));
                    }
                    config.retention.max_age = Duration::from_secs_f64(hours * 3600.0);
                }
                "--max-db-mb" => {
                    let mb: u64 = number(&name, &value()?)?;
                    config.retention.max_db_bytes = mb.saturating_mul(MIB);
                }
                "--allow-origin" => origins.push(value()?),
                "--group" => groups.push(value()?),
                "--log-group" => log_group = Some(value()?),
                "--allowed-host" => hosts.push(value()?),
                "--ingest-rate" => {
                    let rate: f64 = number(&name, &value()?)?;
                    if !(0.0..1e9).contains(&rate) {
                        return Err(format!("option `{name}` must be 0 or more"));
                    }
                    config.access.ingest_rate.per_second = rate;
                }
                "--ingest-burst" => {
                    let burst: u32 = number(&name, &value()?)?;
                    if burst == 0 {
                        return Err(format!("option `{name}` must be at least 1"));
                    }
                    config.access.ingest_rate.burst = burst;
                }
                "--max-body-mb" => {
                    let mb: u64 = number(&name, &value()?)?;
                    config.max_body_bytes =
                        usize::try_from(mb.saturating_mul(MIB)).unwrap_or(usize::MAX);
                }
                _ => return Err(format!("unknown argument `{arg}` (see --help)")),
            }
        }
        if config.retention.max_traces == 0 {
            return Err("option `--max-traces` must be at least 1".to_owned());
        }
        if config.retention.max_db_bytes == 0 || config.max_body_bytes == 0 {
            return Err("options `--max-db-mb` and `--max-body-mb` must be at least 1".to_owned());
        }
        for origin in origins {
            let origin =
                normalize_origin(&origin).map_err(|e| format!("option `--allow-origin`: {e}"))?;
            if !config.access.allow_origins.contains(&origin) {
                config.access.allow_origins.push(origin);
            }
        }
        if let Some(file) = rules_file {
            config.xray_sampling_rules = Some(
                edge_telemetry_core::trace::xray_rules::json::local_rules_file(&file)
                    .map_err(|e| format!("option `--xray-sampling-rules`: {e}"))?,
            );
        }
        for arg in groups {
            let group = crate::groups::Group::parse_arg(&arg)
                .map_err(|e| format!("option `--group`: {e}"))?;
            if config.groups.iter().any(|g| g.name == group.name) {
                return Err(format!("option `--group`: `{}` is named twice", group.name));
            }
            config.groups.push(group);
        }
        for host in hosts {
            let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
            if host.is_empty() || host.contains(['/', ':', '*', ' ', '@']) {
                return Err(format!(
                    "option `--allowed-host`: `{host}` is not a host name (no scheme, port or wildcard)"
                ));
            }
            config.access.allowed_hosts.push(host);
        }
        for (name, slot) in [
            ("EDGE_COLLECTOR_READ_TOKEN", &mut config.access.read_token),
            (
                "EDGE_COLLECTOR_INGEST_TOKEN",
                &mut config.access.ingest_token,
            ),
        ] {
            if let Some(token) = env(name) {
                let token = token.trim();
                if token.chars().count() < MIN_TOKEN_LEN || token.contains(char::is_whitespace) {
                    return Err(format!(
                        "{name} must be at least {MIN_TOKEN_LEN} characters without spaces"
                    ));
                }
                *slot = Some(token.to_owned());
            }
        }
        if let Some(api_key) = env("HONEYCOMB_API_KEY") {
            config.relay.honeycomb = Some(HoneycombRelay {
                endpoint: env("HONEYCOMB_ENDPOINT")
                    .unwrap_or_else(|| DEFAULT_HONEYCOMB_ENDPOINT.to_owned()),
                api_key: api_key.trim().to_owned(),
                dataset: env("HONEYCOMB_DATASET"),
            });
        }
        config.xray_forward = crate::xray_forward::XrayForwardConfig::from_env(env);
        config.cloudwatch_logs =
            crate::xray_forward::AwsConfig::from_env_for(env, "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS")
                .map(|aws| crate::cloudwatch_logs::CloudWatchLogsConfig {
                    aws,
                    group: log_group
                        .clone()
                        .or_else(|| env("EDGE_COLLECTOR_LOG_GROUP"))
                        .unwrap_or_else(|| DEFAULT_LOG_GROUP.to_owned()),
                });
        if let Some(access_token) = env("ROLLBAR_ACCESS_TOKEN") {
            config.relay.rollbar = Some(RollbarRelay {
                endpoint: env("ROLLBAR_ENDPOINT")
                    .unwrap_or_else(|| DEFAULT_ROLLBAR_ENDPOINT.to_owned()),
                access_token: access_token.trim().to_owned(),
            });
        }
        Ok(Self::Run(config))
    }
}

impl Config {
    /// Refuses to serve on `addr` when that exposes the UI and API to other machines without
    /// a read token.
    pub fn check_exposure(&self, addr: std::net::SocketAddr) -> Result<(), String> {
        if is_loopback(addr.ip()) || self.access.read_token.is_some() {
            return Ok(());
        }
        Err(format!(
            "refusing to listen on {addr}: other machines could read every trace. \
             Set EDGE_COLLECTOR_READ_TOKEN (at least {MIN_TOKEN_LEN} characters), or listen on 127.0.0.1"
        ))
    }
}

/// Whether `ip` is a loopback address (IPv4-mapped ones included).
pub fn is_loopback(ip: std::net::IpAddr) -> bool {
    match ip {
        std::net::IpAddr::V4(v4) => v4.is_loopback(),
        std::net::IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

fn number<T: std::str::FromStr>(name: &str, value: &str) -> Result<T, String> {
    value
        .trim()
        .parse()
        .map_err(|_| format!("option `{name}` takes a number, not `{value}`"))
}
