//! Attribution end to end on a captured real-HAProxy log and its config: in
//! a dump (found by content) and with `--config`.

use std::process::Command;

const DIR: &str = "fixtures/attrib/haproxy_timeout";

fn analyze_json(args: &[&str]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_gatecheck"))
        .args(["analyze", "--format", "json", "--no-progress"])
        .args(args)
        .output()
        .expect("run gatecheck");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "json: {e}\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// Line of `needle` in the fixture config, 1-based.
fn cfg_line(needle: &str) -> u64 {
    let text = std::fs::read_to_string(format!("{DIR}/haproxy.cfg")).expect("cfg");
    text.lines()
        .position(|l| l.trim() == needle)
        .map(|i| i as u64 + 1)
        .expect("line")
}

fn timeout_server(v: &serde_json::Value) -> serde_json::Value {
    let row = v["hops"][0]["causes_504"]
        .as_array()
        .expect("504 causes")
        .iter()
        .find(|r| r["cause"] == "timeout")
        .cloned()
        .expect("timeout cause");
    row["settings"]
        .as_array()
        .expect("settings")
        .iter()
        .find(|s| s["directive"] == "timeout server")
        .cloned()
        .expect("timeout server cited")
}

#[test]
fn config_in_the_dump_is_found_and_cited() {
    let v = analyze_json(&[DIR]);
    let kinds: Vec<(String, String)> = v["inputs"]
        .as_array()
        .expect("inputs")
        .iter()
        .map(|i| {
            (
                i["path"].as_str().unwrap_or("").to_string(),
                i["kind"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert!(
        kinds
            .iter()
            .any(|(p, k)| p.ends_with("haproxy.cfg") && k == "haproxy_config"),
        "{kinds:?}"
    );
    let ts = timeout_server(&v);
    assert_eq!(ts["value"], "1s");
    assert_eq!(ts["defaulted"], false);
    assert_eq!(ts["line"], cfg_line("timeout server 1s"));
    assert_eq!(ts["scope"], "backend be_slow");
    let note = ts["note"].as_str().expect("note");
    assert!(
        note.contains("3 of the 3 requests waited 1.0–1.1 s"),
        "{note}"
    );
    assert!(note.contains("that is `timeout server 1s`"), "{note}");
    // a single hop: the top-level rows are the hop's and carry it too
    let top = v["causes_504"][0]["settings"]
        .as_array()
        .expect("top-level settings");
    assert!(top.iter().any(|s| s["directive"] == "timeout server"));
}

#[test]
fn config_given_with_dash_dash_config_is_cited() {
    let log = format!("{DIR}/haproxy.log");
    let cfg = format!("{DIR}/haproxy.cfg");
    let v = analyze_json(&[&log, "--config", &cfg]);
    let ts = timeout_server(&v);
    assert_eq!(ts["line"], cfg_line("timeout server 1s"));
    // not read as an nginx config: no nginx problems about it
    let problems = v["problems"].as_array().cloned().unwrap_or_default();
    assert!(problems.is_empty(), "{problems:?}");
}

#[test]
fn table_shows_the_citation() {
    let out = Command::new(env!("CARGO_BIN_EXE_gatecheck"))
        .args(["analyze", "--no-progress", DIR])
        .output()
        .expect("run gatecheck");
    let text = String::from_utf8_lossy(&out.stdout);
    let want = format!(
        "haproxy.cfg:{}  timeout server 1s (backend be_slow)",
        cfg_line("timeout server 1s")
    );
    assert!(text.contains(&want), "{text}");
}
