//! Attribution against a real HAProxy: a backend whose `timeout server`
//! (overriding the `defaults` one) fires on an upstream that never answers;
//! gatecheck, given the log HAProxy wrote (`log stdout format raw`) and the
//! config, must cite that backend's `timeout server` line under the hop's
//! `timeout` cause.
//!
//! Without a `haproxy` binary the test is skipped with a message, unless
//! `GATECHECK_REQUIRE_PROXIES` is set (as `.ci/run` does).

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::haproxy::{require_haproxy, Haproxy};
use crate::support::http;
use crate::support::nginx::free_port;
use crate::support::upstream::FaultUpstream;

/// 1-based line of the first line of `text` that equals `needle` trimmed.
fn line_of(text: &str, needle: &str) -> u64 {
    text.lines()
        .position(|l| l.trim() == needle)
        .map(|i| i as u64 + 1)
        .expect("line in config")
}

fn count_in(path: &Path, needle: &str) -> usize {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .matches(needle)
        .count()
}

#[test]
fn timeout_server_of_the_failing_backend_is_cited() {
    let Some(bin) = require_haproxy() else {
        return;
    };
    let up = FaultUpstream::start().expect("upstream");
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    // `defaults` says 5s; backend `be_slow` says 1s: the 1s line is the one
    // in effect (and the one that fires), the defaults line must not be cited.
    let cfg = format!(
        "global\n    log stdout format raw local0\n\ndefaults\n    mode http\n    log global\n    option httplog\n    timeout connect 2s\n    timeout client 10s\n    timeout server 5s\n\nfrontend fe_main\n    bind 127.0.0.1:{port}\n    default_backend be_slow\n\nbackend be_slow\n    timeout server 1s\n    server s1 {}\n",
        up.addr()
    );
    let cfg_path = dir.path().join("haproxy.cfg");
    std::fs::write(&cfg_path, &cfg).expect("write cfg");
    let log_path = dir.path().join("haproxy.log");
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
    let mut hap = Haproxy::start(&bin, &cfg_path, &log_path, addr);
    let n = 3;
    for i in 0..n {
        let status = http::request(addr, "GET", &format!("/slow/{i}"), b"").expect("request");
        assert_eq!(
            status, 504,
            "HAProxy answers 504 when `timeout server` fires"
        );
    }
    // the log line is written when the request ends; give it a moment
    let deadline = Instant::now() + Duration::from_secs(5);
    while count_in(&log_path, " 504 ") < n && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    hap.stop();
    assert_eq!(count_in(&log_path, " 504 "), n, "HAProxy logged each 504");

    let out = Command::new(env!("CARGO_BIN_EXE_gatecheck"))
        .args(["analyze", "--format", "json", "--no-progress"])
        // not the folder: the guard keeps haproxy's stderr there too
        .arg(&cfg_path)
        .arg(&log_path)
        .output()
        .expect("run gatecheck");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "json: {e}\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let inputs = v["inputs"].as_array().expect("inputs");
    assert!(
        inputs.iter().any(|i| i["kind"] == "haproxy_config"
            && i["path"]
                .as_str()
                .is_some_and(|p| p.ends_with("haproxy.cfg"))),
        "the config is listed as a config: {inputs:?}"
    );
    let hop = &v["hops"][0];
    let row = hop["causes_504"]
        .as_array()
        .expect("504 causes")
        .iter()
        .find(|r| r["cause"] == "timeout")
        .unwrap_or_else(|| panic!("a timeout cause: {}", hop["causes_504"]));
    assert_eq!(row["count"], n as u64);
    let settings = row["settings"].as_array().expect("settings cited");
    let ts = settings
        .iter()
        .find(|s| s["directive"] == "timeout server")
        .expect("timeout server cited");
    assert_eq!(ts["value"], "1s");
    assert_eq!(ts["defaulted"], false);
    assert_eq!(ts["scope"], "backend be_slow");
    assert_eq!(ts["line"], line_of(&cfg, "timeout server 1s"));
    assert!(ts["file"]
        .as_str()
        .is_some_and(|f| f.ends_with("haproxy.cfg")));
    let note = ts["note"].as_str().expect("note");
    assert!(
        note.contains("that is `timeout server 1s`")
            && note.contains(&format!("{n} of the {n} requests")),
        "the note matches the measurement: {note}"
    );
    // the defaults line is not in effect for be_slow
    assert!(!settings
        .iter()
        .any(|s| s["line"] == line_of(&cfg, "timeout server 5s")));
}

#[test]
fn retries_and_redispatch_are_cited_with_the_retried_requests_counted() {
    let Some(bin) = require_haproxy() else {
        return;
    };
    let up = FaultUpstream::start().expect("upstream");
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    // nothing listens there: every connection to `dead` is refused
    let dead = free_port();
    // roundrobin: a request sent to `dead` is refused and redispatched to
    // `app` (at the first retry: round-robin over two servers), whose app
    // answers 502 itself
    let cfg = format!(
        "global\n    log stdout format raw local0\n\ndefaults\n    mode http\n    log global\n    option httplog\n    timeout connect 1s\n    timeout client 10s\n    timeout server 5s\n\nfrontend fe_main\n    bind 127.0.0.1:{port}\n    default_backend be_app\n\nbackend be_app\n    balance roundrobin\n    retries 2\n    option redispatch\n    server dead 127.0.0.1:{dead}\n    server app {}\n",
        up.addr()
    );
    let cfg_path = dir.path().join("haproxy.cfg");
    std::fs::write(&cfg_path, &cfg).expect("write cfg");
    let log_path = dir.path().join("haproxy.log");
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
    let mut hap = Haproxy::start(&bin, &cfg_path, &log_path, addr);
    let n = 4;
    for i in 0..n {
        let status =
            http::request(addr, "GET", &format!("/passthrough/{i}"), b"").expect("request");
        assert_eq!(status, 502, "the app's own 502, passed on");
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while count_in(&log_path, " 502 ") < n && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    hap.stop();
    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
    // HAProxy's own account: the retries field (5th of the connection
    // counts) is `+N` for a redispatched request
    let redispatched = log
        .lines()
        .filter(|l| l.contains(" 502 "))
        .filter(|l| {
            l.split_whitespace().any(|w| {
                w.matches('/').count() == 4
                    && w.rsplit('/').next().is_some_and(|r| r.starts_with('+'))
            })
        })
        .count();
    assert!(redispatched >= 1, "some 502s were redispatched:\n{log}");

    let out = Command::new(env!("CARGO_BIN_EXE_gatecheck"))
        .args(["analyze", "--format", "json", "--no-progress"])
        .arg(&cfg_path)
        .arg(&log_path)
        .output()
        .expect("run gatecheck");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "json: {e}\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let hop = &v["hops"][0];
    let row = hop["causes_502"]
        .as_array()
        .expect("502 causes")
        .iter()
        .find(|r| r["cause"] == "passthrough")
        .unwrap_or_else(|| panic!("a passthrough cause: {}", hop["causes_502"]));
    assert_eq!(row["count"], n as u64, "{row}");
    let notes = row["config"].to_string();
    assert!(
        notes.contains(&format!(
            "{redispatched} of {n} requests were already retries"
        )) && notes.contains(&format!("{redispatched} of them redispatched")),
        "{notes}\n{log}"
    );
    let settings = row["settings"].as_array().expect("settings cited");
    let get = |d: &str| {
        settings
            .iter()
            .find(|s| s["directive"] == d)
            .unwrap_or_else(|| panic!("{d} cited: {settings:?}"))
    };
    let retries = get("retries");
    assert_eq!(retries["value"], "2");
    assert_eq!(retries["line"], line_of(&cfg, "retries 2"));
    let note = retries["note"].as_str().unwrap_or("");
    assert!(
        note.contains("default `retry-on conn-failure`") && note.contains("not retried"),
        "{note}"
    );
    let refused = hop["causes_502"]
        .as_array()
        .expect("502 causes")
        .iter()
        .all(|r| r["cause"] != "upstream_refused");
    assert!(
        refused,
        "the refused attempts were retried: {}",
        hop["causes_502"]
    );
    let rd = get("option redispatch");
    assert_eq!(rd["value"], "on", "{rd}");
    assert_eq!(rd["line"], line_of(&cfg, "option redispatch"));
}
