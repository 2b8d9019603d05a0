//! nginx attribution end to end: each timed-out request is matched to the
//! `server`/`location` that served it, and the `proxy_read_timeout` in effect
//! there is cited with its file:line and compared with the durations.

use std::process::Command;

const DIR: &str = "fixtures/attrib/nginx_locations";

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

/// Line of `needle` (trimmed, whole line) in the fixture config, 1-based.
fn cfg_line(needle: &str) -> u64 {
    let text = std::fs::read_to_string(format!("{DIR}/nginx.conf")).expect("cfg");
    text.lines()
        .position(|l| l.trim() == needle)
        .map(|i| i as u64 + 1)
        .unwrap_or_else(|| panic!("{needle} not in the config"))
}

/// The `proxy_read_timeout` citations of the 504 timeout row, by value.
fn read_timeouts(v: &serde_json::Value) -> Vec<serde_json::Value> {
    let row = v["causes_504"]
        .as_array()
        .expect("causes_504")
        .iter()
        .find(|r| r["cause"] == "timeout")
        .cloned()
        .expect("timeout row");
    assert_eq!(
        row["config"],
        serde_json::Value::Null,
        "nothing in doubt: {row}"
    );
    let mut v: Vec<serde_json::Value> = row["settings"]
        .as_array()
        .expect("settings")
        .iter()
        .filter(|s| s["directive"] == "proxy_read_timeout")
        .cloned()
        .collect();
    v.sort_by_key(|s| s["line"].as_u64());
    v
}

#[test]
fn each_location_cites_its_own_timeout() {
    let v = analyze_json(&[DIR]);
    let reads = read_timeouts(&v);
    let got: Vec<(String, u64, String, u64, u64)> = reads
        .iter()
        .map(|s| {
            (
                s["value"].as_str().unwrap_or("").to_string(),
                s["line"].as_u64().unwrap_or(0),
                s["scope"].as_str().unwrap_or("").to_string(),
                s["measured"]["matched"].as_u64().unwrap_or(0),
                s["measured"]["of"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            // http-level, inherited by shop's `location /`
            (
                "30s".into(),
                cfg_line("proxy_read_timeout 30s;"),
                "server shop.example.com > location / (1): 1 of the 6 requests".into(),
                1,
                1
            ),
            (
                "5s".into(),
                cfg_line("proxy_read_timeout 5s;"),
                "server shop.example.com > location /api/ (3): 3 of the 6 requests".into(),
                3,
                3
            ),
            (
                "120s".into(),
                cfg_line("proxy_read_timeout 120s;"),
                "server admin.example.com > location /reports/ (2): 2 of the 6 requests".into(),
                2,
                2
            ),
        ]
    );
    for r in &reads {
        let note = r["note"].as_str().unwrap_or("");
        assert!(
            note.contains("± 0.5 s") && note.contains("that is proxy_read_timeout"),
            "{note}"
        );
        assert!(
            r["file"].as_str().unwrap_or("").ends_with("nginx.conf"),
            "{r}"
        );
    }
    // the verdict names the limit most of them ran into
    let verdict = v["verdict"].as_str().expect("verdict");
    assert!(
        verdict.ends_with("6 × 504 at proxy_read_timeout 5s"),
        "{verdict}"
    );
}

#[test]
fn the_upstream_address_tells_the_server_when_the_host_is_not_logged() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(format!("{DIR}/nginx.conf"), dir.path().join("nginx.conf")).expect("copy");
    let log = std::fs::read_to_string(format!("{DIR}/access.log")).expect("log");
    let hostless: String = log
        .lines()
        .map(|l| {
            let (a, b) = l.split_once(" host=").expect("host field");
            let rest = b.split_once(' ').map_or("", |x| x.1);
            format!("{a} host=- {rest}\n")
        })
        .collect();
    std::fs::write(dir.path().join("access.log"), hostless).expect("write");
    let v = analyze_json(&[dir.path().to_str().expect("utf-8")]);
    // /reports/ went to 10.0.0.2: only admin's location sends there
    let reads = read_timeouts(&v);
    let values: Vec<&str> = reads
        .iter()
        .map(|s| s["value"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(values, ["30s", "5s", "120s"]);
    assert_eq!(reads[2]["measured"]["matched"], 2, "{}", reads[2]);
}
