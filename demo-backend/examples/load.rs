//! A bounded keep-alive load loop: N clients (threads, one ureq agent each) send
//! `GET <url><path>` back to back for S seconds, then it prints one line:
//!
//! `requests=N errors=E seconds=S rps=R p50_ms=A p99_ms=B max_ms=C`
//!
//! ```sh
//! cargo run --profile native -p edge-telemetry-demo-backend --example load -- \
//!     --url http://127.0.0.1:8080 --seconds 30 --clients 4
//! ```
//!
//! Options: `--url` (required), `--path` (default `/api/activities/home`), `--seconds`
//! (default 30), `--clients` (default 4). An error is a transport error or any status but
//! 200. Used by `scripts/bench-backend`.
#![cfg_attr(target_arch = "wasm32", allow(dead_code))]

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    use std::process::ExitCode;
    use std::time::{Duration, Instant};

    let mut url = None;
    let mut path = "/api/activities/home".to_owned();
    let mut seconds = 30.0_f64;
    let mut clients = 4_usize;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_default();
        match arg.as_str() {
            "--url" => url = Some(value()),
            "--path" => path = value(),
            "--seconds" => seconds = value().parse().unwrap_or(-1.0),
            "--clients" => clients = value().parse().unwrap_or(0),
            _ => {
                eprintln!("load: unknown argument {arg}");
                return ExitCode::from(2);
            }
        }
    }
    let Some(url) = url else {
        eprintln!("load: --url is required");
        return ExitCode::from(2);
    };
    if !seconds.is_finite() || seconds <= 0.0 || clients == 0 {
        eprintln!("load: --seconds and --clients must be positive");
        return ExitCode::from(2);
    }
    let target = format!("{}{path}", url.trim_end_matches('/'));
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(seconds);
    let workers: Vec<_> = (0..clients)
        .map(|_| {
            let target = target.clone();
            std::thread::spawn(move || {
                let agent = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .timeout_global(Some(Duration::from_secs(10)))
                    .build()
                    .new_agent();
                let mut latencies: Vec<u32> = Vec::with_capacity(1 << 16);
                let mut errors = 0u64;
                while Instant::now() < deadline {
                    let sent = Instant::now();
                    let ok = match agent.get(&target).call() {
                        Ok(mut response) => {
                            let status = response.status().as_u16();
                            let body = response.body_mut().read_to_vec();
                            status == 200 && body.is_ok()
                        }
                        Err(_) => false,
                    };
                    let micros = u32::try_from(sent.elapsed().as_micros()).unwrap_or(u32::MAX);
                    latencies.push(micros);
                    if !ok {
                        errors += 1;
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut errors = 0;
    for worker in workers {
        let (l, e) = worker.join().expect("worker");
        latencies.extend(l);
        errors += e;
    }
    let elapsed = start.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let pct = |p: f64| {
        if latencies.is_empty() {
            return 0.0;
        }
        let rank = ((p / 100.0) * latencies.len() as f64).ceil() as usize;
        f64::from(latencies[rank.clamp(1, latencies.len()) - 1]) / 1000.0
    };
    println!(
        "requests={} errors={errors} seconds={elapsed:.1} rps={:.0} p50_ms={:.2} p99_ms={:.2} max_ms={:.2}",
        latencies.len(),
        latencies.len() as f64 / elapsed,
        pct(50.0),
        pct(99.0),
        pct(100.0),
    );
    if errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

#[cfg(target_arch = "wasm32")]
fn main() {}
