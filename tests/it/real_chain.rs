//! Two real hops: nginx → haproxy → the fault-injecting upstream, with the
//! client's X-Request-ID logged by nginx (`$http_x_request_id`), forwarded,
//! and captured by haproxy. `gatecheck analyze` on the dump (nginx.conf,
//! nginx's access and error logs, haproxy's `log stdout format raw` file)
//! must order the hops from the addresses (nginx's `$upstream_addr` is
//! haproxy.cfg's `bind`) and say where each 502 was born: at haproxy (the
//! server closed early, an invalid header), upstream (the app's own 502
//! passed through both), or at nginx (its own 502 once haproxy is down).
//!
//! Skipped when nginx or haproxy is missing, unless `GATECHECK_REQUIRE_PROXIES`
//! is set. `GATECHECK_CAPTURE_DIR=DIR` copies the dump to `DIR/`.

use std::fs;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;

use crate::support::haproxy::{find_haproxy, Haproxy};
use crate::support::http::request_with_id as request;
use crate::support::nginx::{find_nginx, free_port, Nginx};
use crate::support::upstream::FaultUpstream;
use serde_json::Value;

/// One request and where its 502 must be born (`None`: not a 502).
struct Step {
    target: &'static str,
    status: u16,
    born: Option<(&'static str, &'static str, &'static str)>,
}

const STEPS: &[Step] = &[
    Step {
        target: "/ok",
        status: 200,
        born: None,
    },
    Step {
        target: "/closed",
        status: 502,
        born: Some(("gateway", "haproxy", "upstream_closed_early")),
    },
    Step {
        target: "/badheader",
        status: 502,
        born: Some(("gateway", "haproxy", "invalid_header")),
    },
    Step {
        target: "/passthrough",
        status: 502,
        born: Some(("upstream", "app", "passthrough")),
    },
    Step {
        target: "/slow",
        status: 504,
        born: None,
    },
];

/// Sent after haproxy is stopped: nginx's own 502.
const AFTER_STOP: Step = Step {
    target: "/ok-after-stop",
    status: 502,
    born: Some(("gateway", "nginx", "upstream_refused")),
};

#[test]
fn where_each_502_was_born_across_nginx_and_haproxy() {
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
    timeout server 1s

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
    proxy_read_timeout 5s;
    server {{
        listen 127.0.0.1:{ngx_port};
        location / {{
            proxy_pass http://127.0.0.1:{hap_port};
            proxy_set_header X-Request-ID $http_x_request_id;
        }}
    }}
}}
"#
    );
    let mut ngx = Nginx::start(&ngx_bin, dir.path(), &conf, ngx_addr, "UTC0")
        .unwrap_or_else(|e| panic!("{e}"));
    let id = |i: usize| format!("c4a1e0b2-0000-4000-8000-{i:012x}");
    for (i, step) in STEPS.iter().enumerate() {
        assert_eq!(
            request(ngx_addr, step.target, &id(i)),
            step.status,
            "{}",
            step.target
        );
    }
    hap.stop();
    let last = STEPS.len();
    assert_eq!(
        request(ngx_addr, AFTER_STOP.target, &id(last)),
        AFTER_STOP.status
    );
    ngx.stop();
    fs::copy(dir.path().join("nginx.conf"), dump.join("nginx.conf")).unwrap();
    // haproxy's config too: its `bind` is the address nginx proxied to
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
            "--format",
            "json",
            "--no-progress",
        ])
        .output()
        .expect("run gatecheck");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let b = &v["born"];
    let dump_text = || {
        ["access.log", "haproxy.log", "error.log"]
            .map(|f| fs::read_to_string(dump.join(f)).unwrap_or_default())
            .join("\n----\n")
    };
    assert_eq!(
        b["order"],
        serde_json::json!(["nginx", "haproxy"]),
        "{b}\n{}",
        dump_text()
    );
    // the order comes from the addresses: nginx's $upstream_addr is
    // where haproxy.cfg binds (line 14)
    let note = b["order_note"].as_str().unwrap_or_default();
    assert!(
        note.starts_with(&format!(
            "hop order from evidence: nginx before haproxy (addresses: nginx's $upstream_addr {hap_addr} is haproxy's bind {hap_addr} at "
        )),
        "{note}"
    );
    assert!(note.contains("haproxy.cfg:14"), "{note}");
    let steps = STEPS.iter().chain(std::iter::once(&AFTER_STOP)).enumerate();
    let mut n502 = 0;
    for (i, step) in steps {
        let Some((born_at, hop, cause)) = step.born else {
            continue;
        };
        n502 += 1;
        let chain = b["chains"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["chain"][0]["request_id"] == id(i).as_str())
            .unwrap_or_else(|| panic!("{}: no chain\n{b}\n{}", step.target, dump_text()));
        assert_eq!(chain["chain"][0]["hop"], "nginx", "{chain}");
        assert_eq!(
            (
                chain["born_at"].as_str(),
                chain["hop"].as_str(),
                chain["cause"].as_str()
            ),
            (Some(born_at), Some(hop), Some(cause)),
            "{}: {chain}\n{}",
            step.target,
            dump_text()
        );
        if hop != "nginx" {
            // the 502 crossed both hops, joined by the request id both logged
            assert_eq!(chain["join"], "request_id", "{chain}");
            assert_eq!(chain["chain"][1]["hop"], "haproxy", "{chain}");
        }
    }
    assert_eq!(
        b["totals"]
            .as_object()
            .unwrap()
            .values()
            .map(|c| c.as_u64().unwrap())
            .sum::<u64>(),
        n502,
        "{b}"
    );
}
