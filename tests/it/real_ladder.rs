//! The timeout ladder on real hops: real nginx (`proxy_read_timeout 1s`) in
//! front of real haproxy (`timeout server 3s`) in front of an upstream that
//! never answers. nginx gives up first — the ladder is upside down — and
//! answers 504 after 1 s while haproxy still waits. `gatecheck analyze` on
//! the dump (both configs and every log) with `--hop-timeout cdn=1s` must
//! show the rungs cdn → nginx → haproxy with each limit's file:line, find
//! both inversions, and place nginx's 504s at its own 1 s limit.
//!
//! Skipped when nginx or haproxy is missing, unless `GATECHECK_REQUIRE_PROXIES`
//! is set. `GATECHECK_CAPTURE_DIR=DIR` copies the dump to `DIR/`
//! (`fixtures/ladder_real/` is such a capture, replayed by `tests/it/cli_ladder.rs`).

use std::fs;
use std::path::Path;
use std::process::Command;

use crate::support::chain::{Chain, Timeouts};
use crate::support::http::request_with_id as request;
use serde_json::Value;

/// 1-based line of the first line of `file` containing `needle`.
fn line_of(file: &Path, needle: &str) -> usize {
    fs::read_to_string(file)
        .unwrap()
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} not in {}", file.display()))
        + 1
}

#[test]
fn nginx_giving_up_before_haproxy_is_found_on_the_ladder() {
    let Some(mut chain) = Chain::start(Timeouts {
        haproxy_server: "3s",
        nginx_read: "1s",
    }) else {
        return;
    };
    let ngx_addr = chain.ngx_addr;
    let id = |i: usize| format!("7adde700-0000-4000-8000-{i:012x}");
    // two requests nginx gives up on after 1 s, and one 502 made at haproxy
    // (so that the 502s' join orders the hops from their request ids)
    for (i, (target, status)) in [("/slow", 504), ("/slow", 504), ("/closed", 502)]
        .into_iter()
        .enumerate()
    {
        assert_eq!(request(ngx_addr, target, &id(i)), status, "{target}");
    }
    let dump = chain.dump().to_path_buf();
    let out = Command::new(env!("CARGO_BIN_EXE_gatecheck"))
        .args([
            "analyze",
            dump.to_str().unwrap(),
            "--hop-timeout",
            "cdn=1s",
            "--format",
            "json",
            "--no-progress",
        ])
        .output()
        .expect("run gatecheck");
    let dump_text = || chain.dump_text();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let l = &v["ladder"];
    let hops: Vec<&str> = l["rungs"]
        .as_array()
        .unwrap_or_else(|| panic!("no ladder: {v}\n{}", dump_text()))
        .iter()
        .map(|r| r["hop"].as_str().unwrap())
        .collect();
    assert_eq!(hops, ["cdn", "nginx", "haproxy"], "{l}");
    let rung = |i: usize| &l["rungs"][i]["limits"][0];
    assert_eq!(rung(0)["source"], "from --hop-timeout", "{l}");
    let ngx_line = line_of(&dump.join("nginx.conf"), "proxy_read_timeout 1s");
    let hap_line = line_of(&dump.join("haproxy.cfg"), "timeout server 3s");
    let src = |i: usize| rung(i)["source"].as_str().unwrap().to_string();
    assert!(
        src(1).ends_with(&format!("nginx.conf:{ngx_line}")),
        "{}",
        src(1)
    );
    assert_eq!(
        (rung(1)["setting"].as_str(), rung(1)["read_ms"].as_u64()),
        (Some("proxy_read_timeout"), Some(1000))
    );
    assert!(
        src(2).ends_with(&format!("haproxy.cfg:{hap_line}")),
        "{}",
        src(2)
    );
    assert_eq!(
        (rung(2)["setting"].as_str(), rung(2)["wait_ms"].as_u64()),
        (Some("timeout server"), Some(3000))
    );
    // both inversions: the cdn's 1s is not above nginx's 1s, nor nginx's above haproxy's 3s
    let pairs: Vec<(&str, &str)> = l["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["outer"].as_str().unwrap(), f["inner"].as_str().unwrap()))
        .collect();
    assert_eq!(pairs, [("cdn", "nginx"), ("nginx", "haproxy")], "{l}");
    let f = l["findings"][1]["message"].as_str().unwrap();
    assert!(
        f.starts_with("nginx gives up after 1s (proxy_read_timeout") && f.contains("answers 504"),
        "{f}"
    );
    // nginx's two 504s took its own limit (the request-time nginx logs)
    let placed = &l["rungs"][1]["placed"];
    let at_nginx = placed
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["rung"] == "nginx" && p["status"] == 504)
        .unwrap_or_else(|| panic!("{placed}\n{}", dump_text()));
    assert_eq!(at_nginx["count"], 2, "{placed}");
    assert_eq!(at_nginx["limit_ms"], 1000, "{placed}");
}
