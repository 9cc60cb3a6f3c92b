//! Server items to Rollbar (or the collector), encoded by the core crate's Rollbar payload
//! code ([`edge_telemetry_core::errors::rollbar::encode_item_for`]) with a server [`Platform`].

use crate::config::Config;
use edge_telemetry_core::errors::rollbar::{
    ACCESS_TOKEN_HEADER, Body, Exception, Item, Level, MAX_ITEM_BYTES, Platform, Scrubber,
    encode_item_for, format_uuid_v4,
};
use edge_telemetry_core::errors::stack::StackFrame;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// `platform` and `language` of our items.
pub const SERVER: Platform = Platform {
    platform: std::env::consts::OS,
    language: "rust",
};

/// Where a problem happened: the request and its server span.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Origin {
    /// `METHOD route`, the item's `context`.
    pub context: String,
    /// The request path.
    pub path: String,
    /// 32 lowercase hex digits.
    pub trace_id: Option<String>,
    /// 16 lowercase hex digits.
    pub span_id: Option<String>,
}

/// Posts items, blocking (call it from `spawn_blocking`).
#[derive(Debug)]
pub struct Reporter {
    endpoint: String,
    token: Option<String>,
    environment: String,
    scrubber: Scrubber,
    agent: ureq::Agent,
}

impl Reporter {
    /// A reporter for `config`'s endpoint and token.
    pub fn new(config: &Config) -> Self {
        Self {
            endpoint: config.rollbar_endpoint.clone(),
            token: config.rollbar_token.clone(),
            environment: config.environment.clone(),
            scrubber: Scrubber::default(),
            agent: ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_global(Some(Duration::from_secs(5)))
                .build()
                .new_agent(),
        }
    }

    /// An item for `error` and its `source` chain (`trace_chain`, the error first); the
    /// first carries `location` as its one frame.
    pub fn error_item(
        &self,
        error: &(dyn std::error::Error + 'static),
        class: &str,
        location: &std::panic::Location<'_>,
        origin: &Origin,
    ) -> Item {
        let mut chain = vec![Exception {
            class: class.to_owned(),
            message: error.to_string(),
            frames: vec![frame(
                location.file(),
                location.line(),
                location.column(),
                None,
            )],
        }];
        let mut source = error.source();
        while let Some(e) = source {
            chain.push(Exception {
                class: debug_class(e),
                message: e.to_string(),
                frames: Vec::new(),
            });
            source = e.source();
        }
        self.item(Level::Error, Body::TraceChain(chain), origin)
    }

    /// A `critical` item for a panic: its message and location (one frame).
    pub fn panic_item(&self, panic: &PanicInfo, origin: &Origin) -> Item {
        let frames = match &panic.location {
            Some((file, line, col)) => vec![frame(file, *line, *col, Some(origin.context.clone()))],
            None => Vec::new(),
        };
        let body = Body::Trace(Exception {
            class: "panic".to_owned(),
            message: panic.message.clone(),
            frames,
        });
        self.item(Level::Critical, body, origin)
    }

    fn item(&self, level: Level, body: Body, origin: &Origin) -> Item {
        let mut random = [0u8; 16];
        if getrandom::fill(&mut random).is_err() {
            let nanos = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_nanos();
            random = nanos.to_le_bytes();
        }
        let mut item = Item::new(
            format_uuid_v4(random),
            level,
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs(),
            self.environment.clone(),
            body,
            env!("CARGO_PKG_VERSION").to_owned(),
        );
        item.context = Some(origin.context.clone());
        item.request_url = Some(origin.path.clone());
        item.framework = Some("axum".to_owned());
        item.trace_id = origin.trace_id.clone();
        item.span_id = origin.span_id.clone();
        item
    }

    /// Encodes and posts `item`; its uuid when accepted.
    pub fn send(&self, item: &Item) -> Result<String, String> {
        let body = encode_item_for(item, SERVER, &self.scrubber, MAX_ITEM_BYTES);
        let mut request = self
            .agent
            .post(&self.endpoint)
            .header("content-type", "application/json");
        if let Some(token) = &self.token {
            request = request.header(ACCESS_TOKEN_HEADER, token);
        }
        let response = request
            .send(body.as_bytes())
            .map_err(|e| format!("rollbar: {e}"))?;
        let status = response.status();
        if status.is_success() {
            Ok(item.uuid.clone())
        } else {
            Err(format!("rollbar: status {}", status.as_u16()))
        }
    }
}

fn frame(file: &str, line: u32, col: u32, method: Option<String>) -> StackFrame {
    StackFrame {
        filename: file.to_owned(),
        lineno: Some(line),
        colno: Some(col),
        method,
    }
}

/// A class for an error we only know as `dyn Error`: its `Debug` output up to the first
/// non-identifier character (an enum variant or struct name).
fn debug_class(e: &dyn std::error::Error) -> String {
    let debug = format!("{e:?}");
    let class: String = debug
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
        .collect();
    if class.is_empty() {
        "Error".to_owned()
    } else {
        class
    }
}

/// What the panic hook saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PanicInfo {
    /// The payload as text.
    pub message: String,
    /// File, line, column.
    pub location: Option<(String, u32, u32)>,
}

/// The last few panics the hook saw, from any thread: a panic in a blocking task is seen on
/// a blocking-pool thread but caught (after `resume_unwind`) on a worker.
static PANICS: std::sync::Mutex<Vec<PanicInfo>> = std::sync::Mutex::new(Vec::new());
/// How many are kept.
const KEPT_PANICS: usize = 16;

/// Installs (once) a panic hook that remembers the last panics' messages and locations for
/// [`take_panic`], then calls the previous hook.
pub fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let payload = info.payload();
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "Box<dyn Any>".to_owned());
            let location = info
                .location()
                .map(|l| (l.file().to_owned(), l.line(), l.column()));
            let mut panics = PANICS
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if panics.len() == KEPT_PANICS {
                panics.remove(0);
            }
            panics.push(PanicInfo { message, location });
            previous(info);
        }));
    });
}

/// The panic with this payload, as the hook saw it (the payload's text alone when it did not).
pub fn take_panic(payload: &(dyn std::any::Any + Send)) -> PanicInfo {
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "Box<dyn Any>".to_owned());
    let mut panics = PANICS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    match panics.iter().rposition(|p| p.message == message) {
        Some(i) => panics.remove(i),
        None => PanicInfo {
            message,
            location: None,
        },
    }
}
