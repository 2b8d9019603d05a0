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
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::haproxy::{find_haproxy, Haproxy};
use crate::support::http::request_with_id as request;
use crate::support::nginx::{find_nginx, free_port, Nginx};
use crate::support::upstream::FaultUpstream;
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
    let (Some(ngx_bin), Some(hap_bin)) = (find_nginx(), find_haproxy()) else {
        if std::env::var_os("GATECHECK_REQUIRE_PROXIES").is_some() {
            panic!("nginx or haproxy not found and GATECHECK_REQUIRE_PROXIES is set");
        }
        eprintln!("skipped: nginx or haproxy not installed");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("dump");
    fs::create_dir_all(&dump).unwrap();
    let up = FaultUpstream::start().expect("upstream");
    let (ngx_port, hap_port) = (free_port(), free_port());
    let hap_addr: SocketAddr = format!("127.0.0.1:{hap_port}").parse().unwrap();
    let ngx_addr: SocketAddr = format!("127.0.0.1:{ngx_port}").parse().unwrap();
    let hap_cfg = dir.path().join("haproxy.cfg");
    fs::write(
        &hap_cfg,
        format!(
            "global
    log stdout format raw local0

defaults
    mode http
    log global
    option httplog
    retries 0
    timeout connect 1s
    timeout client 5s
    timeout server 3s

frontend fe_main
    bind 127.0.0.1:{hap_port}
    capture request header X-Request-ID len 64
    default_backend be_app

backend be_app
    server app1 {}
",
            up.addr()
        ),
    )
    .unwrap();
    let mut hap = Haproxy::start(&hap_bin, &hap_cfg, &dump.join("haproxy.log"), hap_addr);
    let user = if crate::support::nginx::is_root() {
        "user root;\n"
    } else {
        ""
    };
    let conf = format!(
        r#"{user}worker_processes 1;
pid nginx.pid;
error_log logs/error.log warn;
events {{ worker_connections 64; }}
http {{
    log_format chain '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" rt=$request_time uct="$upstream_connect_time" uht="$upstream_header_time" urt="$upstream_response_time" ua="$upstream_addr" us="$upstream_status" rid=$http_x_request_id';
    access_log logs/access.log chain;
    client_body_temp_path temp/body;
    proxy_temp_path temp/proxy;
    fastcgi_temp_path temp/fastcgi;
    uwsgi_temp_path temp/uwsgi;
    scgi_temp_path temp/scgi;
    server {{
        listen 127.0.0.1:{ngx_port};
        location / {{
            proxy_pass http://127.0.0.1:{hap_port};
            proxy_set_header X-Request-ID $http_x_request_id;
            proxy_read_timeout 1s;
        }}
    }}
}}
"#
    );
    let mut ngx = Nginx::start(&ngx_bin, dir.path(), &conf, ngx_addr, "UTC0")
        .unwrap_or_else(|e| panic!("{e}"));
    let id = |i: usize| format!("7adde700-0000-4000-8000-{i:012x}");
    // two requests nginx gives up on after 1 s, and one 502 made at haproxy
    // (so that the 502s' join orders the hops from their request ids)
    for (i, (target, status)) in [("/slow", 504), ("/slow", 504), ("/closed", 502)]
        .into_iter()
        .enumerate()
    {
        assert_eq!(request(ngx_addr, target, &id(i)), status, "{target}");
    }
    ngx.stop();
    hap.stop();
    fs::copy(dir.path().join("nginx.conf"), dump.join("nginx.conf")).unwrap();
    fs::copy(&hap_cfg, dump.join("haproxy.cfg")).unwrap();
    for f in ["access.log", "error.log"] {
        fs::copy(dir.path().join("logs").join(f), dump.join(f)).unwrap();
    }
    if let Some(capture) = std::env::var_os("GATECHECK_CAPTURE_DIR") {
        let capture = PathBuf::from(capture);
        fs::create_dir_all(&capture).unwrap();
        for e in fs::read_dir(&dump).unwrap() {
            let p = e.unwrap().path();
            fs::copy(&p, capture.join(p.file_name().unwrap())).unwrap();
        }
    }
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
    let dump_text = || {
        ["access.log", "haproxy.log", "error.log"]
            .map(|f| fs::read_to_string(dump.join(f)).unwrap_or_default())
            .join("\n----\n")
    };
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
