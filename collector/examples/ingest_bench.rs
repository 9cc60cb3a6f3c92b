//! Ingest benchmark for a running `edge-collector` (usually started by `scripts/bench-collector`).
//!
//! ```text
//! cargo run --release -p edge-telemetry-collector --example ingest_bench -- \
//!     --endpoint http://127.0.0.1:4318 [--seconds 5] [--warmup 2] [--batch 512] \
//!     [--clients 4] [--slices 5] [--templates 8] [--no-gzip] [--json-out FILE]
//! ```
//!
//! It posts browser-like spans to `<endpoint>/v1/traces` in batches of `--batch` spans: OTLP
//! JSON (exactly as the browser SDK writes it, with `edge_telemetry_core::export::otlp::OtlpEncoder`)
//! and OTLP protobuf (the same spans through `opentelemetry-proto`), uncompressed and gzipped,
//! from one client sending sequentially and from `--clients` concurrent clients. After a
//! common warm-up each row runs for `--seconds` in all, in `--slices` turns taken in rotation
//! with the other rows (the database grows and retention may start pruning during the run;
//! taking turns makes every row see the same database sizes). Then a table is printed:
//!
//! ```text
//! format | gzip | clients | batches | spans/s | p50 ms per batch | p99 ms per batch
//! ```
//!
//! Spans look like a browser SDK's: page loads, clicks, route changes and fetches, 1 to 4
//! levels deep, 12 attributes each (strings, ints, doubles, bools, a string array), 1 to 3
//! events, some errors with an `exception` event, and a browser resource with
//! `service.name`. A few batch templates are encoded once; before each request only the
//! ids are rewritten (every request carries new trace and span ids), so the client spends
//! almost no CPU on uncompressed rows. Gzip rows compress each body on the client
//! (`flate2`, default level, as the OpenTelemetry exporters do); that time is part of the
//! wall clock and is reported below the table. Latencies are per request (send + answer).
//!
//! Exit status: 0 on success, 2 for bad arguments, 1 when the collector is unreachable or
//! a request fails.

fn main() {
    #[cfg(not(target_arch = "wasm32"))]
    real::main();
}

#[cfg(not(target_arch = "wasm32"))]
mod real {
    use edge_telemetry_core::export::otlp::{OtlpEncoder, otlp_span_kind, push_f64};
    use edge_telemetry_core::model::{
        Array, KeyValue, SpanContext, SpanId, SpanKind, Status, StringValue, TraceFlags, TraceId,
        TraceState, Value,
    };
    use edge_telemetry_core::resource::{BrowserInfo, ResourceConfig, SDK_NAME, SDK_VERSION};
    use edge_telemetry_core::trace::span::{SpanData, SpanEvent, status_code};
    use flate2::Compression;
    use flate2::write::GzEncoder;
    use opentelemetry_proto::tonic::collector::trace::v1::{
        ExportTraceServiceRequest, ExportTraceServiceResponse,
    };
    use opentelemetry_proto::tonic::common::v1::InstrumentationScope;
    use opentelemetry_proto::tonic::resource::v1::Resource as ProtoResource;
    use opentelemetry_proto::tonic::trace::v1::{
        ResourceSpans, ScopeSpans, Span as ProtoSpan, Status as ProtoStatus, span::Event,
    };
    use opentelemetry_proto::transform::common::tonic::Attributes;
    use prost::Message;
    use std::io::Write;
    use std::process::exit;

    /// The attributes through `opentelemetry-proto`'s own mapping.
    fn otel_attributes(kvs: &[KeyValue]) -> Vec<opentelemetry_proto::tonic::common::v1::KeyValue> {
        Attributes::from(
            kvs.iter()
                .map(opentelemetry::KeyValue::from)
                .collect::<Vec<_>>(),
        )
        .0
    }
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

    const USAGE: &str = "usage: ingest_bench --endpoint http://127.0.0.1:PORT [--seconds S] \
[--warmup S] [--batch N] [--clients N] [--slices N] [--templates N] [--no-gzip] [--json-out FILE]";

    /// The 4 bytes of every id that each request overwrites with its own nonce. Found in the
    /// encoded templates by search; the count is checked, so a chance match elsewhere is
    /// caught (the template is then rebuilt from another seed).
    const MARKER: [u8; 4] = [0xe7, 0x1d, 0xc0, 0xde];
    /// Where the nonce goes in a trace id (bytes) and in a span id.
    const TRACE_NONCE_AT: usize = 4;
    const SPAN_NONCE_AT: usize = 4;

    #[derive(Debug)]
    struct Args {
        endpoint: String,
        seconds: f64,
        warmup: f64,
        batch: usize,
        clients: usize,
        templates: usize,
        slices: usize,
        gzip: bool,
        json_out: Option<String>,
    }

    fn usage_error(message: &str) -> ! {
        eprintln!("ingest_bench: {message}\n{USAGE}");
        exit(2)
    }

    fn fail(message: &str) -> ! {
        eprintln!("ingest_bench: {message}");
        exit(1)
    }

    fn parse_args() -> Args {
        let mut args = Args {
            endpoint: String::new(),
            seconds: 5.0,
            warmup: 2.0,
            batch: 512,
            clients: 4,
            templates: 8,
            slices: 5,
            gzip: true,
            json_out: None,
        };
        let mut it = std::env::args().skip(1);
        while let Some(arg) = it.next() {
            let (name, inline) = match arg.split_once('=') {
                Some((n, v)) if n.starts_with("--") => (n.to_owned(), Some(v.to_owned())),
                _ => (arg.clone(), None),
            };
            let mut value = || {
                inline
                    .clone()
                    .or_else(|| it.next())
                    .unwrap_or_else(|| usage_error(&format!("{name} needs a value")))
            };
            fn num<T: std::str::FromStr>(name: &str, v: &str) -> T {
                v.parse()
                    .unwrap_or_else(|_| usage_error(&format!("{name}: not a valid number: {v:?}")))
            }
            match name.as_str() {
                "-h" | "--help" => {
                    println!("{USAGE}");
                    exit(0);
                }
                "--endpoint" => args.endpoint = value(),
                "--seconds" => args.seconds = num(&name, &value()),
                "--warmup" => args.warmup = num(&name, &value()),
                "--batch" => args.batch = num(&name, &value()),
                "--clients" => args.clients = num(&name, &value()),
                "--templates" => args.templates = num(&name, &value()),
                "--slices" => args.slices = num(&name, &value()),
                "--json-out" => args.json_out = Some(value()),
                "--no-gzip" => args.gzip = false,
                _ => usage_error(&format!("unknown argument {arg:?}")),
            }
        }
        if args.endpoint.is_empty() {
            usage_error("--endpoint is required");
        }
        let endpoint = args.endpoint.trim_end_matches('/');
        args.endpoint = endpoint
            .strip_suffix("/v1/traces")
            .unwrap_or(endpoint)
            .to_owned();
        if !args.endpoint.starts_with("http://") && !args.endpoint.starts_with("https://") {
            usage_error("--endpoint must be an http(s) base URL such as http://127.0.0.1:4318");
        }
        if !(args.seconds.is_finite() && args.seconds > 0.0) {
            usage_error("--seconds must be positive");
        }
        if !(args.warmup.is_finite() && args.warmup >= 0.0) {
            usage_error("--warmup must be zero or positive");
        }
        if args.batch < 4 || args.batch > 100_000 {
            usage_error("--batch must be between 4 and 100000");
        }
        if args.clients == 0 || args.clients > 256 {
            usage_error("--clients must be between 1 and 256");
        }
        if args.slices == 0 || args.slices > 1000 {
            usage_error("--slices must be between 1 and 1000");
        }
        if args.templates == 0 || args.templates > 256 {
            usage_error("--templates must be between 1 and 256");
        }
        args
    }

    // ----- Span generation -------------------------------------------------------------

    /// splitmix64: small, deterministic, good enough for fake data.
    #[derive(Debug)]
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }
        /// In `lo..=hi`.
        fn range(&mut self, lo: u64, hi: u64) -> u64 {
            lo + self.next() % (hi - lo + 1)
        }
        fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
            &items[(self.next() % items.len() as u64) as usize]
        }
        fn chance(&mut self, percent: u64) -> bool {
            self.next() % 100 < percent
        }
        fn f64(&mut self, lo: f64, hi: f64) -> f64 {
            let unit = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
            // Two decimals, like timings a browser reports.
            ((lo + unit * (hi - lo)) * 100.0).round() / 100.0
        }
        fn hex(&mut self, len: usize) -> String {
            let mut s = String::with_capacity(len);
            while s.len() < len {
                s.push_str(&format!("{:016x}", self.next()));
            }
            s.truncate(len);
            s
        }
    }

    const SERVICES: &[&str] = &["shop-web", "checkout-web", "account-web", "docs-web"];
    const ROUTES: &[&str] = &[
        "/",
        "/products",
        "/products/:id",
        "/cart",
        "/checkout",
        "/account/orders",
        "/search",
    ];
    const API: &[(&str, &str)] = &[
        ("GET", "/api/products"),
        ("GET", "/api/products/{id}"),
        ("GET", "/api/cart"),
        ("POST", "/api/cart/items"),
        ("GET", "/api/recommendations"),
        ("POST", "/api/checkout"),
        ("GET", "/api/search"),
    ];
    const ASSETS: &[(&str, &str)] = &[
        ("script", "/assets/app.{h}.js"),
        ("script", "/assets/vendor.{h}.js"),
        ("link", "/assets/app.{h}.css"),
        ("img", "/img/products/{id}.webp"),
        ("img", "/img/hero.{h}.avif"),
        ("font", "/fonts/inter-var.{h}.woff2"),
    ];
    const FLAGS: &[&str] = &[
        "new-checkout",
        "reco-v2",
        "dark-mode",
        "lazy-images",
        "edge-cache",
    ];
    const ERRORS: &[(&str, &str)] = &[
        (
            "TypeError",
            "Cannot read properties of undefined (reading 'price')",
        ),
        ("NetworkError", "Failed to fetch"),
        (
            "SyntaxError",
            "Unexpected token '<', \"<!DOCTYPE \"... is not valid JSON",
        ),
        ("RangeError", "Maximum call stack size exceeded"),
    ];

    /// Builds the spans of one batch template; ids carry [`MARKER`] at the nonce position.
    #[derive(Debug)]
    struct Gen {
        rng: Rng,
        spans: Vec<SpanData>,
        now_ns: u64,
        session: String,
        cart: String,
        route: &'static str,
        flags: Vec<StringValue>,
        next_span: u32,
    }

    impl Gen {
        fn trace_id(&mut self) -> TraceId {
            let mut b = [0u8; 16];
            b.copy_from_slice(
                &[self.rng.next().to_le_bytes(), self.rng.next().to_le_bytes()].concat(),
            );
            b[TRACE_NONCE_AT..TRACE_NONCE_AT + 4].copy_from_slice(&MARKER);
            TraceId::from_bytes(b)
        }

        fn span_id(&mut self) -> SpanId {
            self.next_span += 1;
            let mut b = self.rng.next().to_le_bytes();
            b[SPAN_NONCE_AT..SPAN_NONCE_AT + 4].copy_from_slice(&MARKER);
            SpanId::from_bytes(b)
        }

        fn url(&mut self, path: &str) -> String {
            let id = self.rng.range(1000, 99_999).to_string();
            let h = self.rng.hex(8);
            format!(
                "https://shop.example.com{}",
                path.replace("{id}", &id)
                    .replace(":id", &id)
                    .replace("{h}", &h)
            )
        }

        /// Attributes every browser span carries (session, page, cart, flags, …).
        fn common(&mut self) -> Vec<KeyValue> {
            vec![
                KeyValue::new("session.id", self.session.clone()),
                KeyValue::new("page.route", self.route),
                KeyValue::new("cart.id", self.cart.clone()),
                KeyValue::new(
                    "feature_flags",
                    Value::Array(Array::String(self.flags.clone())),
                ),
                KeyValue::new("browser.visibility", *self.rng.pick(&["visible", "hidden"])),
                KeyValue::new("user.anonymous", self.rng.chance(60)),
                KeyValue::new(
                    "viewport.width",
                    *self.rng.pick(&[390_i64, 768, 1280, 1440, 1920]),
                ),
                KeyValue::new(
                    "network.effective_type",
                    *self.rng.pick(&["4g", "4g", "3g", "wifi"]),
                ),
            ]
        }

        fn events(&mut self, start: u64, end: u64, names: &[&'static str]) -> Vec<SpanEvent> {
            // 1 to 3 events, each name at most once.
            let n = self.rng.range(1, names.len().min(3) as u64) as usize;
            (0..n)
                .map(|i| {
                    let name = names[i % names.len()];
                    let mut attributes = Vec::new();
                    if self.rng.chance(50) {
                        attributes.push(KeyValue::new("phase", *self.rng.pick(&["early", "late"])));
                        attributes.push(KeyValue::new("elapsed_ms", self.rng.f64(0.5, 900.0)));
                    }
                    SpanEvent {
                        name: name.to_owned(),
                        time_unix_nano: start + (end - start) * (i as u64 + 1) / (n as u64 + 1),
                        attributes,
                        dropped_attributes_count: 0,
                    }
                })
                .collect()
        }

        #[allow(clippy::too_many_arguments)]
        fn push(
            &mut self,
            trace: TraceId,
            parent: Option<SpanId>,
            name: String,
            kind: SpanKind,
            start: u64,
            end: u64,
            attributes: Vec<KeyValue>,
            events: Vec<SpanEvent>,
            status: Status,
        ) -> SpanId {
            let id = self.span_id();
            let cx = SpanContext::new(trace, id, TraceFlags::SAMPLED, false, TraceState::NONE);
            let mut span = SpanData::new(name, kind, cx, None, start);
            span.parent_span_id = parent.unwrap_or(SpanId::INVALID);
            span.end_time_unix_nano = end;
            span.attributes = attributes;
            span.events = events;
            span.status = status;
            self.spans.push(span);
            id
        }

        fn ms(ms: f64) -> u64 {
            (ms * 1e6) as u64
        }

        /// A fetch (CLIENT) span, sometimes failing, with a JSON-parse child sometimes.
        fn fetch(&mut self, trace: TraceId, parent: SpanId, start: u64, room: usize) -> u64 {
            let (method, route) = *self.rng.pick(API);
            let dur = Self::ms(self.rng.f64(20.0, 800.0));
            let end = start + dur;
            let failed = self.rng.chance(5);
            let code: i64 = if failed {
                *self.rng.pick(&[500, 502, 503, 404])
            } else {
                200
            };
            let url = self.url(route);
            let attrs = twelve(
                vec![
                    KeyValue::new("http.request.method", method),
                    KeyValue::new("url.full", url),
                    KeyValue::new("http.route", route),
                    KeyValue::new("server.address", "shop.example.com"),
                    KeyValue::new("server.port", 443_i64),
                    KeyValue::new("http.response.status_code", code),
                    KeyValue::new(
                        "http.response.body.size",
                        self.rng.range(200, 90_000) as i64,
                    ),
                    KeyValue::new("timing.ttfb_ms", self.rng.f64(5.0, 400.0)),
                ],
                self.common(),
            );
            let events = self.events(start, end, &["fetchStart", "responseStart", "responseEnd"]);
            let status = if failed {
                Status::error(format!("HTTP {code}"))
            } else {
                Status::Unset
            };
            let id = self.push(
                trace,
                Some(parent),
                format!("HTTP {method}"),
                SpanKind::Client,
                start,
                end,
                attrs,
                events,
                status,
            );
            if room > 0 && !failed && self.rng.chance(40) {
                let s = end - Self::ms(1.0);
                let attrs = twelve(
                    vec![
                        KeyValue::new("code.function", "parseJson"),
                        KeyValue::new("payload.bytes", self.rng.range(200, 90_000) as i64),
                        KeyValue::new("payload.items", self.rng.range(0, 48) as i64),
                        KeyValue::new("cache.hit", self.rng.chance(30)),
                    ],
                    self.common(),
                );
                let events = self.events(s, end, &["parsed"]);
                self.push(
                    trace,
                    Some(id),
                    "json.parse".to_owned(),
                    SpanKind::Internal,
                    s,
                    end,
                    attrs,
                    events,
                    Status::Unset,
                );
            }
            end
        }

        /// One trace of at most `room` spans (at least 1).
        fn trace(&mut self, room: usize) {
            self.session = self.rng.hex(32);
            self.cart = format!("cart-{}", self.rng.range(1000, 9999));
            self.route = *self.rng.pick(ROUTES);
            self.flags = FLAGS
                .iter()
                .filter(|_| self.rng.chance(40))
                .map(|f| StringValue::from(*f))
                .collect();
            let trace = self.trace_id();
            let start = self.now_ns - Self::ms(self.rng.f64(0.0, 120_000.0));
            let before = self.spans.len();
            let limit = |g: &Gen| room - (g.spans.len() - before);
            match self.rng.range(0, 3) {
                0 => {
                    // Page load: documentLoad > documentFetch, resourceFetch × n.
                    let end = start + Self::ms(self.rng.f64(400.0, 4000.0));
                    let url = self.url(self.route);
                    let attrs = twelve(
                        vec![
                            KeyValue::new("url.full", url),
                            KeyValue::new("http.response.status_code", 200_i64),
                            KeyValue::new("timing.dom_interactive_ms", self.rng.f64(100.0, 2000.0)),
                            KeyValue::new("timing.load_ms", self.rng.f64(300.0, 4000.0)),
                        ],
                        self.common(),
                    );
                    let events = self.events(
                        start,
                        end,
                        &["fetchStart", "domInteractive", "loadEventEnd"],
                    );
                    let root = self.push(
                        trace,
                        None,
                        "documentLoad".into(),
                        SpanKind::Internal,
                        start,
                        end,
                        attrs,
                        events,
                        Status::Unset,
                    );
                    let resources = self.rng.range(2, 10) as usize;
                    for i in 0..resources {
                        if limit(self) == 0 {
                            break;
                        }
                        let (initiator, path, name) = if i == 0 {
                            ("navigation", self.route, "documentFetch")
                        } else {
                            let (k, p) = *self.rng.pick(ASSETS);
                            (k, p, "resourceFetch")
                        };
                        let s = start + Self::ms(self.rng.f64(1.0, 300.0));
                        let e = s + Self::ms(self.rng.f64(5.0, 600.0));
                        let url = self.url(path);
                        let attrs = twelve(
                            vec![
                                KeyValue::new("url.full", url),
                                KeyValue::new("resource.initiator_type", initiator),
                                KeyValue::new(
                                    "http.response.body.size",
                                    self.rng.range(300, 400_000) as i64,
                                ),
                                KeyValue::new(
                                    "network.protocol.version",
                                    *self.rng.pick(&["2", "3", "1.1"]),
                                ),
                                KeyValue::new("timing.dns_ms", self.rng.f64(0.0, 40.0)),
                                KeyValue::new("timing.ttfb_ms", self.rng.f64(5.0, 400.0)),
                                KeyValue::new("cache.hit", self.rng.chance(35)),
                            ],
                            self.common(),
                        );
                        let events =
                            self.events(s, e, &["fetchStart", "responseStart", "responseEnd"]);
                        self.push(
                            trace,
                            Some(root),
                            name.into(),
                            SpanKind::Internal,
                            s,
                            e,
                            attrs,
                            events,
                            Status::Unset,
                        );
                    }
                }
                1 | 2 => {
                    // Interaction or route change: root > handler > fetch(es) > json.parse.
                    let click = self.rng.chance(60);
                    let end = start + Self::ms(self.rng.f64(50.0, 2500.0));
                    let name = if click {
                        "click".to_owned()
                    } else {
                        format!("route {}", self.route)
                    };
                    let target = *self.rng.pick(&[
                        "button#add-to-cart",
                        "a.product-card",
                        "button.checkout",
                        "input#search",
                    ]);
                    let attrs = twelve(
                        vec![
                            KeyValue::new("event.type", if click { "click" } else { "navigation" }),
                            KeyValue::new("target.element", target),
                            KeyValue::new(
                                "target.xpath",
                                format!(
                                    "//*[@id=\"main\"]/div[{}]/{}",
                                    self.rng.range(1, 9),
                                    target
                                ),
                            ),
                            KeyValue::new("cart.items", self.rng.range(0, 12) as i64),
                        ],
                        self.common(),
                    );
                    let events = self.events(start, end, &["input", "handlerStart", "paint"]);
                    let root = self.push(
                        trace,
                        None,
                        name,
                        SpanKind::Internal,
                        start,
                        end,
                        attrs,
                        events,
                        Status::Unset,
                    );
                    let mut parent = root;
                    if limit(self) > 0 {
                        let failed = self.rng.chance(8);
                        let (status, events) = if failed {
                            let (class, message) = *self.rng.pick(ERRORS);
                            let ev = SpanEvent {
                                name: "exception".into(),
                                time_unix_nano: start + Self::ms(3.0),
                                attributes: vec![
                                    KeyValue::new("exception.type", class),
                                    KeyValue::new("exception.message", message),
                                    KeyValue::new(
                                        "exception.stacktrace",
                                        format!(
                                            "{class}: {message}\n    at addToCart (https://shop.example.com/assets/app.{}.js:1:{})\n    at HTMLButtonElement.onclick (https://shop.example.com/assets/app.js:2:77)",
                                            self.rng.hex(8),
                                            self.rng.range(100, 90_000)
                                        ),
                                    ),
                                ],
                                dropped_attributes_count: 0,
                            };
                            (Status::error(message), vec![ev])
                        } else {
                            (Status::Unset, self.events(start, end, &["handlerEnd"]))
                        };
                        let attrs = twelve(
                            vec![
                                KeyValue::new(
                                    "code.function",
                                    *self.rng.pick(&[
                                        "addToCart",
                                        "loadProducts",
                                        "submitOrder",
                                        "runSearch",
                                    ]),
                                ),
                                KeyValue::new("code.filepath", "src/app.ts"),
                                KeyValue::new("code.lineno", self.rng.range(10, 900) as i64),
                                KeyValue::new("handler.async", true),
                            ],
                            self.common(),
                        );
                        parent = self.push(
                            trace,
                            Some(root),
                            "handler".into(),
                            SpanKind::Internal,
                            start + Self::ms(1.0),
                            end - Self::ms(1.0),
                            attrs,
                            events,
                            status,
                        );
                    }
                    let fetches = self.rng.range(1, 4);
                    let mut s = start + Self::ms(2.0);
                    for _ in 0..fetches {
                        let room = limit(self);
                        if room == 0 {
                            break;
                        }
                        s = self
                            .fetch(trace, parent, s, room - 1)
                            .min(end - Self::ms(2.0));
                    }
                }
                _ => {
                    // A lone long task / web vital.
                    let end = start + Self::ms(self.rng.f64(50.0, 400.0));
                    let attrs = twelve(
                        vec![
                            KeyValue::new("longtask.duration_ms", self.rng.f64(50.0, 400.0)),
                            KeyValue::new("web_vital.name", *self.rng.pick(&["LCP", "INP", "CLS"])),
                            KeyValue::new("web_vital.value", self.rng.f64(0.0, 3000.0)),
                            KeyValue::new(
                                "web_vital.rating",
                                *self.rng.pick(&["good", "needs-improvement", "poor"]),
                            ),
                        ],
                        self.common(),
                    );
                    let events = self.events(start, end, &["observed"]);
                    self.push(
                        trace,
                        None,
                        "longtask".into(),
                        SpanKind::Internal,
                        start,
                        end,
                        attrs,
                        events,
                        Status::Unset,
                    );
                }
            }
        }
    }

    /// The kind-specific attributes topped up with common ones: always exactly 12.
    fn twelve(mut attrs: Vec<KeyValue>, common: Vec<KeyValue>) -> Vec<KeyValue> {
        for kv in common {
            if attrs.len() >= 12 {
                break;
            }
            attrs.push(kv);
        }
        attrs.truncate(12);
        attrs
    }

    /// One batch, encoded both ways, with the places of the nonce in each encoding.
    #[derive(Debug)]
    struct Template {
        json: Vec<u8>,
        json_at: Vec<usize>,
        proto: Vec<u8>,
        proto_at: Vec<usize>,
    }

    fn find_all(haystack: &[u8], needle: &[u8]) -> Vec<usize> {
        haystack
            .windows(needle.len())
            .enumerate()
            .filter(|(_, w)| *w == needle)
            .map(|(i, _)| i)
            .collect()
    }

    fn to_proto(resource: &[KeyValue], spans: &[SpanData]) -> ExportTraceServiceRequest {
        let spans = spans
            .iter()
            .map(|s| {
                let cx = &s.span_context;
                let (code, message) = status_code(&s.status);
                ProtoSpan {
                    trace_id: cx.trace_id().to_bytes().to_vec(),
                    span_id: cx.span_id().to_bytes().to_vec(),
                    parent_span_id: if s.parent_span_id == SpanId::INVALID {
                        Vec::new()
                    } else {
                        s.parent_span_id.to_bytes().to_vec()
                    },
                    flags: u32::from(cx.trace_flags().to_u8()) | 0x100,
                    name: s.name.clone(),
                    kind: i32::from(otlp_span_kind(&s.kind)),
                    start_time_unix_nano: s.start_time_unix_nano,
                    end_time_unix_nano: s.end_time_unix_nano,
                    attributes: otel_attributes(&s.attributes),
                    events: s
                        .events
                        .iter()
                        .map(|e| Event {
                            time_unix_nano: e.time_unix_nano,
                            name: e.name.clone(),
                            attributes: otel_attributes(&e.attributes),
                            ..Default::default()
                        })
                        .collect(),
                    status: Some(ProtoStatus {
                        code: i32::from(code),
                        message: message.unwrap_or_default().to_owned(),
                    }),
                    ..Default::default()
                }
            })
            .collect();
        ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource: Some(ProtoResource {
                    attributes: otel_attributes(resource),
                    ..Default::default()
                }),
                scope_spans: vec![ScopeSpans {
                    scope: Some(InstrumentationScope {
                        name: SDK_NAME.to_owned(),
                        version: SDK_VERSION.to_owned(),
                        ..Default::default()
                    }),
                    spans,
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
    }

    fn template(index: usize, batch: usize, now_ns: u64, run_seed: u64) -> Template {
        for attempt in 0..100u64 {
            let seed = run_seed ^ ((index as u64) << 32) ^ attempt.wrapping_mul(0x1234_5678_9abc);
            let mut g = Gen {
                rng: Rng(seed),
                spans: Vec::with_capacity(batch),
                now_ns,
                session: String::new(),
                cart: String::new(),
                route: "/",
                flags: Vec::new(),
                next_span: 0,
            };
            while g.spans.len() < batch {
                let room = batch - g.spans.len();
                g.trace(room);
            }
            let service = SERVICES[index % SERVICES.len()];
            let browser = BrowserInfo {
                user_agent: Some(
                    (*g.rng.pick(&[
                        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36",
                        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.5 Mobile/15E148 Safari/604.1",
                        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:141.0) Gecko/20100101 Firefox/141.0",
                    ]))
                    .to_owned(),
                ),
                brands: vec!["Chromium 140".into(), "Google Chrome 140".into()],
                platform: Some((*g.rng.pick(&["macOS", "Windows", "iOS", "Android"])).to_owned()),
                mobile: Some(g.rng.chance(40)),
                language: Some((*g.rng.pick(&["en-US", "de-DE", "fr-FR"])).to_owned()),
            };
            let resource = edge_telemetry_core::resource::resource_attributes(
                ResourceConfig {
                    service_name: service,
                    service_version: Some("1.42.0"),
                    environment: Some("production"),
                    extra: vec![KeyValue::new("app.build", g.rng.hex(12))],
                },
                &browser,
            );
            let ids = g.spans.len() * 2
                + g.spans
                    .iter()
                    .filter(|s| s.parent_span_id != SpanId::INVALID)
                    .count();
            let json = OtlpEncoder::new(&resource, SDK_NAME, SDK_VERSION, push_f64)
                .encode(&g.spans)
                .into_bytes();
            let marker_hex: String = MARKER.iter().map(|b| format!("{b:02x}")).collect();
            let json_at = find_all(&json, marker_hex.as_bytes());
            let proto = to_proto(&resource, &g.spans).encode_to_vec();
            let proto_at = find_all(&proto, &MARKER);
            if json_at.len() == ids && proto_at.len() == ids {
                return Template {
                    json,
                    json_at,
                    proto,
                    proto_at,
                };
            }
        }
        fail("could not build a batch template without a chance id-marker collision")
    }

    // ----- Running -----------------------------------------------------------------------

    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    enum Format {
        Json,
        Protobuf,
    }

    impl Format {
        fn name(self) -> &'static str {
            match self {
                Format::Json => "json",
                Format::Protobuf => "protobuf",
            }
        }
        fn content_type(self) -> &'static str {
            match self {
                Format::Json => "application/json",
                Format::Protobuf => "application/x-protobuf",
            }
        }
    }

    #[derive(Clone, Copy, Debug)]
    struct Row {
        format: Format,
        gzip: bool,
        clients: usize,
    }

    /// What one client saw.
    #[derive(Debug, Default)]
    struct ClientResult {
        latencies_ms: Vec<f64>,
        ok: u64,
        failed: u64,
        rejected_spans: u64,
        first_error: Option<String>,
        prep: Duration,
        bytes_sent: u64,
        last_end: Option<Instant>,
    }

    #[derive(Debug)]
    struct RowResult {
        row: Row,
        batches: u64,
        failed: u64,
        rejected_spans: u64,
        spans_per_s: f64,
        p50: f64,
        p99: f64,
        prep_ms_per_batch: f64,
        mean_body_bytes: f64,
        first_error: Option<String>,
    }

    #[derive(Debug)]
    struct Shared<'a> {
        url: String,
        templates: &'a [Template],
        nonce: AtomicU32,
    }

    fn patch(buf: &mut Vec<u8>, template: &[u8], at: &[usize], nonce: u32, hex: bool) {
        buf.clear();
        buf.extend_from_slice(template);
        let bytes = nonce.to_be_bytes();
        if hex {
            const DIGITS: &[u8; 16] = b"0123456789abcdef";
            let mut h = [0u8; 8];
            for (i, b) in bytes.iter().enumerate() {
                h[2 * i] = DIGITS[usize::from(b >> 4)];
                h[2 * i + 1] = DIGITS[usize::from(b & 15)];
            }
            for &p in at {
                buf[p..p + 8].copy_from_slice(&h);
            }
        } else {
            for &p in at {
                buf[p..p + 4].copy_from_slice(&bytes);
            }
        }
    }

    fn run_client(shared: &Shared<'_>, row: Row, deadline: Instant) -> ClientResult {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(120)))
            .build()
            .into();
        let mut out = ClientResult::default();
        let mut body = Vec::new();
        let mut gz = Vec::new();
        while Instant::now() < deadline {
            let prep_start = Instant::now();
            let nonce = shared.nonce.fetch_add(1, Ordering::Relaxed);
            let t = &shared.templates[nonce as usize % shared.templates.len()];
            match row.format {
                Format::Json => patch(&mut body, &t.json, &t.json_at, nonce, true),
                Format::Protobuf => patch(&mut body, &t.proto, &t.proto_at, nonce, false),
            }
            let payload: &[u8] = if row.gzip {
                gz.clear();
                let mut enc = GzEncoder::new(std::mem::take(&mut gz), Compression::default());
                enc.write_all(&body)
                    .unwrap_or_else(|e| fail(&format!("gzip: {e}")));
                gz = enc.finish().unwrap_or_else(|e| fail(&format!("gzip: {e}")));
                &gz
            } else {
                &body
            };
            out.prep += prep_start.elapsed();
            out.bytes_sent += payload.len() as u64;

            let mut request = agent
                .post(&shared.url)
                .header("Content-Type", row.format.content_type());
            if row.gzip {
                request = request.header("Content-Encoding", "gzip");
            }
            let start = Instant::now();
            let result = request.send(payload).and_then(|mut r| {
                let status = r.status().as_u16();
                let bytes = r.body_mut().read_to_vec()?;
                Ok((status, bytes))
            });
            let end = Instant::now();
            out.last_end = Some(end);
            let error = match result {
                Ok((200, answer)) => {
                    out.latencies_ms.push((end - start).as_secs_f64() * 1e3);
                    out.ok += 1;
                    let rejected = match row.format {
                        Format::Json => std::str::from_utf8(&answer)
                            .ok()
                            .and_then(edge_telemetry_core::export::otlp::parse_partial_success)
                            .map(|p| (p.rejected_spans, p.error_message)),
                        Format::Protobuf => ExportTraceServiceResponse::decode(&answer[..])
                            .ok()
                            .and_then(|r| r.partial_success)
                            .filter(|p| p.rejected_spans > 0 || !p.error_message.is_empty())
                            .map(|p| (p.rejected_spans as u64, p.error_message)),
                    };
                    match rejected {
                        Some((n, message)) => {
                            out.rejected_spans += n;
                            Some(format!("partial success: {n} spans rejected: {message}"))
                        }
                        None => None,
                    }
                }
                Ok((status, answer)) => {
                    out.failed += 1;
                    Some(format!(
                        "HTTP {status}: {}",
                        String::from_utf8_lossy(&answer[..answer.len().min(300)])
                    ))
                }
                Err(e) => {
                    out.failed += 1;
                    Some(format!("request failed: {e}"))
                }
            };
            if out.first_error.is_none() {
                out.first_error = error;
            }
            if out.failed > 0 && out.ok == 0 && out.failed >= 3 {
                break; // Nothing works: do not hammer a broken collector for the whole row.
            }
        }
        out
    }

    fn percentile(sorted: &[f64], p: f64) -> f64 {
        if sorted.is_empty() {
            return f64::NAN;
        }
        // Nearest rank.
        let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
        sorted[rank.clamp(1, sorted.len()) - 1]
    }

    /// Runs `row` for `seconds`: the wall time (until the last answer) and each client's view.
    fn run_row(shared: &Shared<'_>, row: Row, seconds: f64) -> (f64, Vec<ClientResult>) {
        let start = Instant::now();
        let deadline = start + Duration::from_secs_f64(seconds);
        let results: Vec<ClientResult> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..row.clients)
                .map(|_| s.spawn(move || run_client(shared, row, deadline)))
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| fail("a client thread panicked"))
                })
                .collect()
        });
        let end = results
            .iter()
            .filter_map(|r| r.last_end)
            .max()
            .unwrap_or_else(Instant::now);
        ((end - start).as_secs_f64(), results)
    }

    /// The row's figures over all its slices (`wall`: their summed wall time).
    fn summarize(row: Row, wall: f64, results: Vec<ClientResult>, batch: usize) -> RowResult {
        let mut latencies: Vec<f64> = results
            .iter()
            .flat_map(|r| r.latencies_ms.iter().copied())
            .collect();
        latencies.sort_by(f64::total_cmp);
        let batches: u64 = results.iter().map(|r| r.ok).sum();
        let failed: u64 = results.iter().map(|r| r.failed).sum();
        let sent = (batches + failed).max(1) as f64;
        let rejected_spans: u64 = results.iter().map(|r| r.rejected_spans).sum();
        RowResult {
            row,
            batches,
            failed,
            rejected_spans,
            spans_per_s: (batches as f64 * batch as f64 - rejected_spans as f64) / wall,
            p50: percentile(&latencies, 50.0),
            p99: percentile(&latencies, 99.0),
            prep_ms_per_batch: results.iter().map(|r| r.prep.as_secs_f64()).sum::<f64>() * 1e3
                / sent,
            mean_body_bytes: results.iter().map(|r| r.bytes_sent).sum::<u64>() as f64 / sent,
            first_error: results.into_iter().find_map(|r| r.first_error),
        }
    }

    fn status(endpoint: &str) -> Result<serde_json::Value, String> {
        let url = format!("{endpoint}/api/status");
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        let text = agent
            .get(&url)
            .call()
            .map_err(|e| format!("GET {url}: {e}"))?
            .body_mut()
            .read_to_string()
            .map_err(|e| format!("GET {url}: {e}"))?;
        serde_json::from_str(&text).map_err(|e| format!("GET {url}: not JSON ({e}): {text}"))
    }

    fn mb(bytes: f64) -> String {
        format!("{:.1} MB", bytes / 1_048_576.0)
    }

    fn kb(bytes: f64) -> String {
        format!("{:.1} KB", bytes / 1024.0)
    }

    pub fn main() {
        let args = parse_args();
        let before = status(&args.endpoint).unwrap_or_else(|e| {
            fail(&format!(
                "the collector does not answer at {}: {e}",
                args.endpoint
            ))
        });

        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let now_ns = now.as_nanos() as u64;
        // Different ids on every run, so runs against the same database never collide.
        let run_seed = now_ns ^ u64::from(std::process::id()).rotate_left(32);
        let started = Instant::now();
        let templates: Vec<Template> = (0..args.templates)
            .map(|i| template(i, args.batch, now_ns, run_seed))
            .collect();
        let avg = |f: fn(&Template) -> usize| {
            templates.iter().map(f).sum::<usize>() as f64 / templates.len() as f64
        };
        eprintln!(
            "ingest_bench: {} templates of {} spans built in {:.2} s (JSON {} per batch, protobuf {})",
            templates.len(),
            args.batch,
            started.elapsed().as_secs_f64(),
            kb(avg(|t| t.json.len())),
            kb(avg(|t| t.proto.len())),
        );

        let shared = Shared {
            url: format!("{}/v1/traces", args.endpoint),
            templates: &templates,
            nonce: AtomicU32::new((run_seed >> 17) as u32),
        };

        let mut rows = Vec::new();
        let gzips: &[bool] = if args.gzip { &[false, true] } else { &[false] };
        for &gzip in gzips {
            for format in [Format::Json, Format::Protobuf] {
                rows.push(Row {
                    format,
                    gzip,
                    clients: 1,
                });
                if args.clients > 1 {
                    rows.push(Row {
                        format,
                        gzip,
                        clients: args.clients,
                    });
                }
            }
        }

        let mut warm_batches = 0;
        if args.warmup > 0.0 {
            eprintln!("ingest_bench: warming up for {} s", args.warmup);
            for format in [Format::Json, Format::Protobuf] {
                let row = Row {
                    format,
                    gzip: false,
                    clients: args.clients,
                };
                let (wall, clients) = run_row(&shared, row, args.warmup / 2.0);
                let r = summarize(row, wall, clients, args.batch);
                warm_batches += r.batches;
                if r.batches == 0 {
                    fail(&format!(
                        "warm-up ({}) failed: {}",
                        format.name(),
                        r.first_error
                            .unwrap_or_else(|| "no request completed".into())
                    ));
                }
            }
        }

        // Rows take turns in short slices, so that they all see the database at the same
        // sizes (it grows, and retention starts pruning, during the run).
        let slice = args.seconds / args.slices as f64;
        let mut acc: Vec<(f64, Vec<ClientResult>)> =
            rows.iter().map(|_| (0.0, Vec::new())).collect();
        for round in 0..args.slices {
            eprintln!(
                "ingest_bench: round {}/{}: {} rows of {slice:.2} s",
                round + 1,
                args.slices,
                rows.len()
            );
            for (&row, (wall, clients)) in rows.iter().zip(acc.iter_mut()) {
                let (w, c) = run_row(&shared, row, slice);
                *wall += w;
                clients.extend(c);
            }
        }
        let results: Vec<RowResult> = rows
            .iter()
            .zip(acc)
            .map(|(&row, (wall, clients))| summarize(row, wall, clients, args.batch))
            .collect();
        for r in &results {
            if let Some(e) = &r.first_error {
                eprintln!(
                    "ingest_bench: warning: {} gzip={} clients={}: {e}",
                    r.row.format.name(),
                    r.row.gzip,
                    r.row.clients
                );
            }
        }
        let after = status(&args.endpoint).unwrap_or_else(|e| fail(&e));

        // The table.
        let header = [
            "format",
            "gzip",
            "clients",
            "batches",
            "spans/s",
            "p50 ms per batch",
            "p99 ms per batch",
        ];
        let cells: Vec<[String; 7]> = results
            .iter()
            .map(|r| {
                [
                    r.row.format.name().to_owned(),
                    if r.row.gzip { "yes" } else { "no" }.to_owned(),
                    r.row.clients.to_string(),
                    if r.failed > 0 {
                        format!("{} (+{} failed)", r.batches, r.failed)
                    } else {
                        r.batches.to_string()
                    },
                    format!("{:.0}", r.spans_per_s),
                    format!("{:.1}", r.p50),
                    format!("{:.1}", r.p99),
                ]
            })
            .collect();
        let mut widths = header.map(str::len);
        for row in &cells {
            for (w, c) in widths.iter_mut().zip(row) {
                *w = (*w).max(c.len());
            }
        }
        let line = |cols: &[&str]| {
            let parts: Vec<String> = cols
                .iter()
                .zip(widths)
                .enumerate()
                .map(|(i, (c, w))| {
                    // Text left, numbers right.
                    if i < 2 {
                        format!("{c:<w$}")
                    } else {
                        format!("{c:>w$}")
                    }
                })
                .collect();
            println!("| {} |", parts.join(" | "));
        };
        println!();
        line(&header);
        let rule: Vec<String> = widths
            .iter()
            .enumerate()
            .map(|(i, w)| {
                if i < 2 {
                    format!(":{}", "-".repeat(w + 1))
                } else {
                    format!("{}:", "-".repeat(w + 1))
                }
            })
            .collect();
        println!("|{}|", rule.join("|"));
        for row in &cells {
            let refs: Vec<&str> = row.iter().map(String::as_str).collect();
            line(&refs);
        }
        println!();
        println!(
            "{} spans per batch; {} s per row after {} s of warm-up; request bodies per batch:",
            args.batch, args.seconds, args.warmup
        );
        for r in results.iter().filter(|r| r.row.clients == 1) {
            let note = if r.row.gzip {
                format!(
                    ", client-side gzip {:.1} ms per batch (included in spans/s, not in p50/p99)",
                    r.prep_ms_per_batch
                )
            } else {
                String::new()
            };
            println!(
                "  {:<8} gzip={:<3}: {}{note}",
                r.row.format.name(),
                if r.row.gzip { "yes" } else { "no" },
                kb(r.mean_body_bytes)
            );
        }
        let num = |v: &serde_json::Value, k: &str| v.get(k).and_then(serde_json::Value::as_f64);
        let sent =
            (results.iter().map(|r| r.batches).sum::<u64>() + warm_batches) * args.batch as u64;
        let stored = num(&after, "spans");
        match num(&after, "dbBytes") {
            Some(bytes) => {
                let per_span = match stored {
                    Some(n) if n > 0.0 => format!(", {:.0} bytes per stored span", bytes / n),
                    _ => String::new(),
                };
                println!(
                    "DB size at the end: {} ({bytes} bytes, /api/status dbBytes{per_span})",
                    mb(bytes)
                );
            }
            None => println!("DB size at the end: unknown (/api/status has no dbBytes: {after})"),
        }
        if let (Some(spans), Some(traces)) = (stored, num(&after, "traces")) {
            let before_spans = num(&before, "spans").unwrap_or(0.0);
            let pruned = if spans < before_spans + sent as f64 {
                " (fewer: retention deleted the oldest traces during the run)"
            } else {
                ""
            };
            println!(
                "Collector stores {spans} spans in {traces} traces; {sent} spans were accepted \
                 (warm-up included), {before_spans} were there before{pruned}"
            );
        }

        if let Some(path) = &args.json_out {
            let rows: Vec<serde_json::Value> = results
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "format": r.row.format.name(),
                        "gzip": r.row.gzip,
                        "clients": r.row.clients,
                        "batches": r.batches,
                        "failedBatches": r.failed,
                        "rejectedSpans": r.rejected_spans,
                        "spansPerSecond": r.spans_per_s,
                        "p50Ms": r.p50,
                        "p99Ms": r.p99,
                        "clientPrepMsPerBatch": r.prep_ms_per_batch,
                        "bodyBytes": r.mean_body_bytes,
                    })
                })
                .collect();
            let doc = serde_json::json!({
                "batchSpans": args.batch,
                "secondsPerRow": args.seconds,
                "rows": rows,
                "statusAfter": after,
            });
            std::fs::write(path, format!("{doc:#}\n"))
                .unwrap_or_else(|e| fail(&format!("cannot write {path}: {e}")));
        }

        let failed: u64 = results.iter().map(|r| r.failed).sum();
        let rejected: u64 = results.iter().map(|r| r.rejected_spans).sum();
        if failed > 0 || rejected > 0 {
            fail(&format!(
                "{failed} batches failed and {rejected} spans were rejected (see the warnings above)"
            ));
        }
    }
}
