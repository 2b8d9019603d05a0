//! `gatecheck analyze` on hop logs (HAProxy and the other registered
//! formats): detection, per-hop causes, events and skipped lines.

use std::process::Command;

fn analyze_json(args: &[&str]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_gatecheck"))
        .arg("analyze")
        .args(args)
        .args(["--format", "json", "--no-progress"])
        .output()
        .expect("run gatecheck");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

fn causes(rows: &serde_json::Value) -> Vec<(String, u64)> {
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["cause"].as_str().unwrap().to_string(),
                r["count"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn haproxy_syslog_with_events_and_other_programs() {
    let v = analyze_json(&["fixtures/logs/haproxy/syslog_mixed.log"]);
    let input = &v["inputs"][0];
    assert_eq!(input["kind"], "haproxy_access");
    assert!(input["reason"].as_str().unwrap().contains("RFC 3164"));
    let h = &v["hops"][0];
    assert_eq!(h["name"], "haproxy");
    assert_eq!(h["hop"], "proxy");
    assert_eq!(h["totals"]["requests"], 7);
    assert_eq!(h["totals"]["status_502"], 3);
    assert_eq!(h["status_503"], 2);
    assert_eq!(h["totals"]["status_504"], 1);
    // the cut last line is the only malformed one, shown with file:line
    assert_eq!(h["totals"]["malformed"], 1);
    assert_eq!(h["malformed_samples"][0]["line"], 14);
    // CRON and the two start notices: skipped, not malformed
    assert_eq!(h["skipped_lines"], 1);
    assert_eq!(h["events"]["server_down"], 2);
    assert_eq!(h["events"]["no_server"], 1);
    assert_eq!(h["events"]["notice"], 2);
    let c502 = causes(&h["causes_502"]);
    assert!(
        c502.contains(&("upstream_closed_early".into(), 1)),
        "{c502:?}"
    );
    assert!(c502.contains(&("invalid_header".into(), 1)), "{c502:?}");
    assert!(c502.contains(&("passthrough".into(), 1)), "{c502:?}");
    assert_eq!(causes(&h["causes_504"]), vec![("timeout".into(), 1)]);
    let other = causes(&h["causes_other_5xx"]);
    assert!(other.contains(&("upstream_refused".into(), 1)), "{other:?}");
    assert!(other.contains(&("no_live_upstream".into(), 1)), "{other:?}");
    // no_live_upstream rests on the backend's DOWN / no-server lines, with file:line
    let nolive = h["causes_other_5xx"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["cause"] == "no_live_upstream")
        .unwrap();
    let ev: Vec<&str> = nolive["example"]["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert!(
        ev.iter()
            .any(|e| e.ends_with("syslog_mixed.log:10: backend be_api has no server available!")),
        "{ev:?}"
    );
    // the run's totals include the hop
    assert_eq!(v["totals"]["status_502"], 3);
}

#[test]
fn haproxy_bench_log_counts_match_awk() {
    // what ../shared/bench/genlogs.py haproxy-http writes, in small
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.log");
    let mut text = String::new();
    let base = "Mar 12 06:00:00 lb1 haproxy[2841]: 62.86.39.86:36897 [12/Mar/2024:05:59:59.801] fe_main~ be_static/app3 0/0/0/197/199";
    for (i, (st, tsc)) in [
        ("200", "----"),
        ("502", "SH--"),
        ("502", "PH--"),
        ("503", "SC--"),
        ("504", "sH--"),
        ("500", "----"),
    ]
    .iter()
    .cycle()
    .take(600)
    .enumerate()
    {
        text.push_str(&format!(
            "{base} {st} 311 - - {tsc} 118/116/39/3/0 0/0 \"GET /x/{i} HTTP/1.1\"\n"
        ));
    }
    std::fs::write(&path, &text).unwrap();
    let awk = |code: &str| {
        text.lines()
            .filter(|l| l.split(' ').nth(10) == Some(code))
            .count() as u64
    };
    let v = analyze_json(&[path.to_str().unwrap()]);
    let h = &v["hops"][0];
    assert_eq!(h["totals"]["status_502"], awk("502"));
    assert_eq!(h["totals"]["status_504"], awk("504"));
    assert_eq!(h["status_503"], awk("503"));
    assert_eq!(h["totals"]["malformed"], 0);
}

#[test]
fn verdict_covers_the_hops() {
    // only HAProxy read: the verdict is that hop's, not "no request could be read"
    let v = analyze_json(&["fixtures/logs/haproxy/syslog_mixed.log"]);
    let verdict = v["verdict"].as_str().expect("verdict");
    let h = &v["hops"][0];
    let n502 = h["totals"]["status_502"].as_u64().unwrap();
    assert!(
        verdict.starts_with(&format!("haproxy: {n502} × 502 ")),
        "{verdict}"
    );
    let hop_part = verdict.to_string();
    // nginx and HAProxy together: the totals of all hops, then each hop's own
    let v = analyze_json(&[
        "fixtures/logs/haproxy/syslog_mixed.log",
        "fixtures/logs/nginx/causes/access.log",
    ]);
    let verdict = v["verdict"].as_str().expect("verdict");
    let n502 = v["totals"]["status_502"].as_u64().unwrap();
    assert!(
        verdict.starts_with(&format!("all hops: {n502} × 502 "))
            && verdict.ends_with(&format!(" | {hop_part}")),
        "{verdict}"
    );
}
