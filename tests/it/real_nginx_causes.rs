//! Real nginx, the causes issue 6 item 10 added: `rate_limited` (limit_req
//! and limit_conn refusals), `keepalive_race` without a retry (a POST on a
//! reused connection, told by the config's `keepalive` and the 0.000 connect
//! time), and an application's own 500 as `passthrough` in a `combined` log.
//!
//! One nginx writes the same requests through two access logs at once (a
//! rich format with the upstream variables, and `combined`); gatecheck reads
//! each with the error log and the config nginx ran with. Skipped (or a
//! failure with `GATECHECK_REQUIRE_PROXIES`) without nginx, as
//! `tests/it/real_nginx.rs`; `GATECHECK_CAPTURE_DIR=DIR` keeps what nginx wrote
//! in `DIR/causes/`.

use std::fs;
use std::net::SocketAddr;
use std::path::Path;
use std::thread;
use std::time::Duration;

use crate::support::cli::{analyze_json_paths, events_by_path, line_of};
use crate::support::http;
use crate::support::nginx::{self, Nginx};
use crate::support::upstream::FaultUpstream;
use serde_json::Value;

use crate::support::nginx::RICH_FORMAT;

/// `ka` is a second upstream process: an address in two `upstream` blocks,
/// one with `keepalive` and one without, leaves reuse undecided.
fn conf(listen: SocketAddr, app: SocketAddr, ka: SocketAddr) -> String {
    let http = format!(
        r#"
    log_format upstream_rich '{RICH_FORMAT}';
    access_log logs/access_rich.log upstream_rich;
    access_log logs/access.log combined;

    limit_req_zone $binary_remote_addr zone=perip:1m rate=1r/m;
    limit_conn_zone $binary_remote_addr zone=conns:1m;

    upstream app_backend {{
        server {app};
    }}

    upstream ka_backend {{
        server {ka};
        keepalive 4;
    }}

    server {{
        listen {listen};
        server_name gatecheck.test;

        location / {{
            proxy_pass http://app_backend;
        }}
        location /limited {{
            limit_req zone=perip;
            proxy_pass http://app_backend;
        }}
        location /lc/ {{
            limit_conn conns 1;
            proxy_read_timeout 1s;
            proxy_pass http://app_backend/;
        }}
        location /keepalive {{
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass http://ka_backend;
        }}
    }}
"#
    );
    nginx::conf("tests/it/real_nginx_causes.rs", &http)
}

/// What gatecheck must say about the request to `target`.
struct Want {
    target: &'static str,
    status: u16,
    /// Cause with the rich log (and the config).
    rich: &'static str,
    /// Cause with `combined` (and the config).
    combined: &'static str,
    /// A substring of one evidence string, in both runs.
    evidence: &'static str,
}

const WANT: &[Want] = &[
    Want {
        target: "/limited/second",
        status: 503,
        rich: "rate_limited",
        combined: "rate_limited",
        evidence: "limiting requests, excess: ",
    },
    Want {
        target: "/lc/ok",
        status: 503,
        rich: "rate_limited",
        combined: "rate_limited",
        evidence: "limiting connections by zone \"conns\"",
    },
    Want {
        target: "/lc/slow",
        status: 504,
        rich: "timeout",
        combined: "timeout",
        evidence: "upstream timed out",
    },
    Want {
        target: "/app500",
        status: 500,
        rich: "passthrough",
        combined: "passthrough",
        evidence: "upstream sent",
    },
    // A POST is not retried, so the same-server retry never shows; the
    // config's `keepalive 4` and the 0.000 connect time do (rich only).
    Want {
        target: "/keepalive/post",
        status: 502,
        rich: "keepalive_race",
        combined: "upstream_closed_early",
        evidence: "upstream prematurely closed connection",
    },
    // A fresh connection to a group without keepalive: not a race.
    Want {
        target: "/closed",
        status: 502,
        rich: "upstream_closed_early",
        combined: "upstream_closed_early",
        evidence: "upstream prematurely closed connection",
    },
];

#[test]
fn real_nginx_rate_limits_keepalive_and_app_errors() {
    let Some(bin) = nginx::require_nginx() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let upstream = FaultUpstream::start().expect("fault upstream");
    let ka_upstream = FaultUpstream::start().expect("keep-alive upstream");
    let listen = SocketAddr::from(([127, 0, 0, 1], nginx::free_port()));
    let conf = conf(listen, upstream.addr(), ka_upstream.addr());
    let mut ngx =
        Nginx::start(&bin, dir.path(), &conf, listen, "UTC0").unwrap_or_else(|e| panic!("{e}"));
    let get = |target: &str| {
        http::request(listen, "GET", target, b"").unwrap_or_else(|e| panic!("{target}: {e}"))
    };
    // limit_req: 1 request a minute, no burst: the second is refused.
    assert_eq!(get("/limited/first"), 200);
    assert_eq!(get("/limited/second"), 503);
    // limit_conn: one request at a time per client; hold one open upstream
    // (it never answers: 504 after proxy_read_timeout 1s) and send another.
    let slow =
        thread::spawn(move || http::request(listen, "GET", "/lc/slow", b"").expect("/lc/slow"));
    thread::sleep(Duration::from_millis(300));
    assert_eq!(get("/lc/ok"), 503);
    assert_eq!(slow.join().expect("slow thread"), 504);
    assert_eq!(get("/app500"), 500);
    // the upstream answers the first request on a connection and closes
    // the next one unanswered: nginx reuses the cached connection for the POST
    assert_eq!(get("/keepalive/prime"), 200);
    let post = http::request(listen, "POST", "/keepalive/post", b"{\"order\":42}")
        .expect("/keepalive/post");
    assert_eq!(post, 502);
    assert_eq!(get("/closed"), 502);
    let prefix = ngx.prefix().to_path_buf();
    ngx.stop();
    drop(upstream);
    drop(ka_upstream);

    if let Some(root) = std::env::var_os("GATECHECK_CAPTURE_DIR") {
        // keep what nginx wrote, as tests/it/real_nginx.rs does
        let dir = Path::new(&root).join("causes");
        fs::create_dir_all(&dir).expect("capture dir");
        for f in [
            "logs/access_rich.log",
            "logs/access.log",
            "logs/error.log",
            "nginx.conf",
        ] {
            let name = Path::new(f).file_name().expect("file name");
            fs::copy(prefix.join(f), dir.join(name)).expect("capture");
        }
        eprintln!("captured into {}", dir.display());
    }
    let error = prefix.join("logs/error.log");
    let error_text = fs::read_to_string(&error).expect("error.log");
    // what nginx itself logged, independently of gatecheck
    for want in [
        "[error]",
        "limiting requests, excess: ",
        "limiting connections by zone \"conns\"",
    ] {
        assert!(error_text.contains(want), "{want:?} not in:\n{error_text}");
    }
    let rich_text = fs::read_to_string(prefix.join("logs/access_rich.log")).expect("rich log");
    let post_line = rich_text
        .lines()
        .find(|l| l.contains("POST /keepalive/post"))
        .expect("POST line");
    assert!(
        post_line.contains("uct=\"0.000\"") && post_line.contains(" us=\"502\""),
        "a reused connection, no retry: {post_line}"
    );
    assert!(
        rich_text
            .lines()
            .any(|l| l.contains("GET /limited/second") && l.contains(" us=\"-\"")),
        "a refused request reaches no upstream:\n{rich_text}"
    );

    let conf_path = prefix.join("nginx.conf");
    for (log, rich) in [("access_rich.log", true), ("access.log", false)] {
        let evs = events_by_path(
            &[&prefix.join("logs").join(log), &error],
            &["--config", conf_path.to_str().expect("UTF-8 path")],
        );
        for w in WANT {
            let ev = evs
                .get(w.target)
                .unwrap_or_else(|| panic!("{log}: no event for {}: {evs:?}", w.target));
            let cause = if rich { w.rich } else { w.combined };
            assert_eq!(
                ev["status"],
                u64::from(w.status),
                "{log} {}: {ev}",
                w.target
            );
            assert_eq!(ev["cause"], cause, "{log} {}: {ev}", w.target);
            let evidence: Vec<&str> = ev["evidence"]
                .as_array()
                .expect("evidence")
                .iter()
                .filter_map(Value::as_str)
                .collect();
            assert!(
                evidence.iter().any(|e| e.contains(w.evidence)),
                "{log} {}: no evidence with {:?}: {ev}",
                w.target,
                w.evidence
            );
        }
        // how sure the keep-alive verdicts are, and why
        let ev = |t: &str| evs[t]["evidence"].to_string();
        if rich {
            let post = ev("/keepalive/post");
            assert!(
                post.contains("likely: connect time 0.000 s on upstream ka_backend")
                    && post.contains("keepalive 4 ("),
                "{post}"
            );
            // nginx logs the connect time in milliseconds: on a loaded
            // machine a fresh loopback connect can take 0.001 s, and then
            // the connect time alone shows the connection was fresh
            let closed = &evs["/closed"];
            if closed["upstream"][0]["connect_time"].as_f64() == Some(0.0) {
                assert!(
                    ev("/closed").contains("not a keep-alive race: upstream app_backend"),
                    "{closed}"
                );
            } else {
                assert_ne!(closed["cause"], "keepalive_race", "{closed}");
            }
        } else {
            assert!(ev("/keepalive/post").contains("no $upstream_connect_time"));
        }
        // the first, unrefused request is no event
        assert!(!evs.contains_key("/limited/first"), "{log}: {evs:?}");
    }
    // the report: the refusals beside the 502s, with the limits they hit
    let doc = analyze_json_paths(
        &[&prefix.join("logs/access_rich.log"), &error],
        &["--config", conf_path.to_str().expect("UTF-8 path")],
    );
    let limited = doc["causes_other_5xx"]
        .as_array()
        .expect("causes_other_5xx")
        .iter()
        .find(|r| r["cause"] == "rate_limited")
        .unwrap_or_else(|| panic!("no rate_limited row: {}", doc["causes_other_5xx"]));
    assert_eq!(limited["count"], 2, "{limited}");
    // each refusal cites the limit of the location that served it, at its
    // line in the config nginx ran with
    let conf_text = std::fs::read_to_string(&conf_path).expect("conf");
    let line_of = |needle: &str| line_of(&conf_text, needle);
    let cited = |row: &Value, directive: &str| -> Value {
        row["settings"]
            .as_array()
            .unwrap_or_else(|| panic!("no settings: {row}"))
            .iter()
            .find(|s| s["directive"] == directive)
            .cloned()
            .unwrap_or_else(|| panic!("{directive} not cited: {row}"))
    };
    let req = cited(limited, "limit_req");
    assert_eq!(req["value"], "zone=perip", "{req}");
    assert_eq!(req["line"], line_of("limit_req zone=perip;"), "{req}");
    assert!(
        req["scope"]
            .as_str()
            .unwrap_or("")
            .contains("location /limited"),
        "{req}"
    );
    let conn = cited(limited, "limit_conn");
    assert_eq!(conn["value"], "conns 1", "{conn}");
    assert_eq!(conn["line"], line_of("limit_conn conns 1;"), "{conn}");
    let zone = cited(limited, "limit_req_zone");
    assert_eq!(
        zone["line"],
        line_of("limit_req_zone $binary_remote_addr zone=perip:1m rate=1r/m;")
    );
    // the 504 of /lc/slow took the location's proxy_read_timeout 1s, not the
    // default 60s of the other locations
    let timeout = doc["causes_504"]
        .as_array()
        .expect("causes_504")
        .iter()
        .find(|r| r["cause"] == "timeout")
        .unwrap_or_else(|| panic!("no timeout row: {}", doc["causes_504"]));
    let read = cited(timeout, "proxy_read_timeout");
    assert_eq!(read["value"], "1s", "{read}");
    assert_eq!(read["defaulted"], false, "{read}");
    assert_eq!(read["line"], line_of("proxy_read_timeout 1s;"), "{read}");
    assert_eq!(read["measured"]["matched"], 1, "{read}");
    assert!(
        read["note"]
            .as_str()
            .unwrap_or("")
            .contains("that is proxy_read_timeout 1s"),
        "{read}"
    );
    let connect = cited(timeout, "proxy_connect_timeout");
    assert_eq!(connect["defaulted"], true, "{connect}");
    assert_eq!(connect["value"], "60s", "{connect}");
    assert_eq!(connect["line"], line_of("location /lc/ {"), "{connect}");
    assert_eq!(
        doc["error_log_kinds"]["rate_limited"], 2,
        "{}",
        doc["error_log_kinds"]
    );
    let verdict = doc["verdict"].as_str().expect("verdict");
    assert!(verdict.contains("other 5xx"), "{verdict}");
}
