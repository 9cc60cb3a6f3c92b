//! Groups: `--group NAME=EXPRESSION` lists the traces an X-Ray filter expression matches,
//! over X-Ray segments (the daemon port) and OTLP spans alike.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::*;
use edge_telemetry_collector::{Command, Config};
use serde_json::{Value, json};
use std::net::UdpSocket;

fn segment(n: u64, service: &str, status: u16, extra: Value) -> String {
    let w3c = trace_id(n);
    let start = now_ns() as f64 / 1e9;
    let mut doc = json!({
        "name": service, "id": format!("{:016x}", 0x9000 + n),
        "trace_id": format!("1-{}-{}", &w3c[..8], &w3c[8..]),
        "start_time": start, "end_time": start + 0.2,
        "http": {"request": {"method": "GET", "url": "http://api/x"}, "response": {"status": status}},
    });
    if let (Some(d), Some(e)) = (doc.as_object_mut(), extra.as_object()) {
        d.extend(e.clone());
    }
    format!("{{\"format\":\"json\",\"version\":1}}\n{doc}")
}

fn with_groups(args: &[&str]) -> Config {
    let args: Vec<String> = [
        "--addr",
        "127.0.0.1:0",
        "--db",
        ":memory:",
        "--xray-addr",
        "127.0.0.1:0",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .chain(args.iter().map(|s| (*s).to_owned()))
    .collect();
    match Command::parse(args, |_| None).expect("valid arguments") {
        Command::Run(config) => config,
        Command::Help => unreachable!(),
    }
}

fn ids(v: &Value) -> Vec<String> {
    let mut ids: Vec<String> = v["traces"]
        .as_array()
        .expect("traces")
        .iter()
        .map(|t| t["traceId"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

#[test]
fn groups_list_the_traces_their_expression_matches() {
    let running = collector_with(with_groups(&[
        "--group",
        "backend-faults=service(\"backend\") AND fault",
        "--group",
        "gold=annotation.tier = \"gold\" OR http.status = 404",
    ]));
    let client = Client::new(&running);
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.connect(running.xray_addr().unwrap()).unwrap();
    for datagram in [
        segment(1, "backend", 503, json!({"fault": true})),
        segment(2, "backend", 200, json!({"annotations": {"tier": "gold"}})),
        segment(3, "billing", 502, json!({"fault": true})),
        segment(4, "backend", 404, json!({"error": true})),
    ] {
        socket.send(datagram.as_bytes()).unwrap();
    }
    let otlp = one_span(&trace_id(5), "00000000000000a5", "GET /", "web", now_ns());
    assert_eq!(client.post_json("/v1/traces", &otlp).status, 200);
    eventually("five traces", || {
        (client.api("/api/traces")["traces"]
            .as_array()
            .map_or(0, Vec::len)
            == 5)
            .then_some(())
    });

    let listed = client.api("/api/groups");
    assert_eq!(
        listed["groups"],
        json!([
            {"name": "backend-faults", "filterExpression": "service(\"backend\") AND fault"},
            {"name": "gold", "filterExpression": "annotation.tier = \"gold\" OR http.status = 404"},
        ])
    );
    let faults = client.api("/api/groups/backend-faults");
    assert_eq!(ids(&faults), [trace_id(1)]);
    assert_eq!(
        faults["traces"][0]["rootService"], "backend",
        "/api/traces' shape"
    );
    assert_eq!(
        ids(&client.api("/api/groups/gold")),
        [trace_id(2), trace_id(4)]
    );
    assert_eq!(client.get("/api/groups/missing").status, 404);
}

#[test]
fn a_bad_group_is_refused_at_start_naming_it() {
    let parse =
        |args: &[&str]| Command::parse(args.iter().map(|s| (*s).to_owned()), |_| None).map(|_| ());
    let e = parse(&["--group", "slow=responsetime >"]).unwrap_err();
    assert!(
        e.contains("group `slow`") && e.contains("a value expected"),
        "{e}"
    );
    let e = parse(&["--group", "a=fault", "--group", "a=error"]).unwrap_err();
    assert!(e.contains("`a` is named twice"), "{e}");
    // From the environment, one per line.
    let config = match Command::parse(Vec::<String>::new(), |name| {
        (name == "EDGE_COLLECTOR_GROUPS").then(|| "a=fault\n\nb=service(\"x\")".to_owned())
    })
    .unwrap()
    {
        Command::Run(c) => c,
        Command::Help => unreachable!(),
    };
    let names: Vec<&str> = config.groups.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(names, ["a", "b"]);
}
