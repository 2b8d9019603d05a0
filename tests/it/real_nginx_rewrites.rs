//! Real nginx, the 5xx a config makes or hides (accuracy pass 4):
//! `error_page 502 =200` (the client gets 200 while `$upstream_status` says
//! 502: a hidden 502, not a retry's rescue), `return 502;` / `return 503;`
//! (no upstream: the config's, with the directive's line), `uwsgi_pass` and
//! `grpc_pass` to a closed port (named as such, no `proxy_*` setting cited
//! for them), and `proxy_next_upstream` across two servers, the first
//! refusing and the second timing out (the 504 is the timeout's, the
//! refusal is said); and `grpc_pass` to an HTTP/2 server that resets the
//! request's stream (RST_STREAM) or ends the connection (GOAWAY with an
//! error) before answering.
//!
//! Accuracy pass 5: `proxy_next_upstream` over three servers, the first
//! refusing, the second swallowing SYNs (connect timeout) and the third
//! answering 502 itself (the cause is the third's: `passthrough`, the two
//! failures before it said); `proxy_next_upstream_tries 2` over the same
//! three, and `proxy_next_upstream_timeout 1s` (the 504 is the connect
//! timeout's and the limit is cited with its line); and a chunked body
//! broken after the 200 went out (`upstream sent invalid chunked
//! response`: a 200, not a 5xx, and not an invalid header).
//!
//! One nginx writes the same requests through a rich format and `combined`;
//! skipped (or a failure with `GATECHECK_REQUIRE_PROXIES`) without nginx, as
//! `tests/it/real_nginx.rs`.

use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::thread;
use std::time::Duration;

use crate::support::cli::{analyze_json_paths, events_by_path, line_of};
use crate::support::http;
use crate::support::nginx::{self, Nginx};
use crate::support::upstream::{Blackhole, FaultUpstream};
use serde_json::Value;

use crate::support::nginx::RICH_FORMAT;

/// An HTTP/2 server (no TLS, as `grpc_pass grpc://` speaks) that reads the
/// client preface, sends its SETTINGS, then `frame` (RFC 9113 §4.1: length,
/// type, flags, stream id, payload) instead of a response, on each of `n`
/// connections.
fn h2_stub(frame: Vec<u8>, n: usize) -> (SocketAddr, thread::JoinHandle<()>) {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = l.local_addr().expect("addr");
    let h = thread::spawn(move || {
        for _ in 0..n {
            let Ok((mut s, _)) = l.accept() else { return };
            let _ = s.set_read_timeout(Some(Duration::from_millis(300)));
            let mut buf = [0u8; 4096];
            // the preface and nginx's SETTINGS, HEADERS (what arrives in 300 ms)
            let _ = s.read(&mut buf);
            let _ = s.write_all(&[0, 0, 0, 4, 0, 0, 0, 0, 0]); // SETTINGS, empty
            thread::sleep(Duration::from_millis(50));
            let _ = s.read(&mut buf);
            let _ = s.write_all(&frame);
            thread::sleep(Duration::from_millis(100));
        }
    });
    (addr, h)
}

/// `closed` is a port nobody listens on; `app` never answers `/slow…`;
/// `rst` and `goaway` are [`h2_stub`]s; `hole` swallows SYNs.
fn conf(
    listen: SocketAddr,
    closed: u16,
    app: SocketAddr,
    rst: SocketAddr,
    goaway: SocketAddr,
    hole: SocketAddr,
) -> String {
    let http = format!(
        r#"
    log_format upstream_rich '{RICH_FORMAT}';
    access_log logs/access_rich.log upstream_rich;
    access_log logs/access.log combined;

    upstream pair {{
        server 127.0.0.1:{closed};
        server {app};
    }}
    upstream three {{
        server 127.0.0.1:{closed};
        server {hole};
        server {app};
    }}
    upstream capped {{
        server 127.0.0.1:{closed};
        server {hole};
        server {app};
    }}
    upstream budget {{
        server 127.0.0.1:{closed};
        server {hole};
        server {app};
    }}

    server {{
        listen {listen};

        location = /fallback {{ return 200 "fallback\n"; }}
        location /hidden/ {{
            error_page 502 =200 /fallback;
            proxy_pass http://127.0.0.1:{closed};
        }}
        location /maint {{
            return 503;
        }}
        location /gone {{
            return 502;
        }}
        location /py/ {{ uwsgi_pass 127.0.0.1:{closed}; }}
        location /rpc/ {{ grpc_pass grpc://127.0.0.1:{closed}; }}
        location /rpc-rst/ {{ grpc_pass grpc://{rst}; }}
        location /rpc-goaway/ {{ grpc_pass grpc://{goaway}; }}
        location /next/ {{
            proxy_read_timeout 1s;
            proxy_pass http://pair/slow/;
        }}
        location /three/ {{
            proxy_connect_timeout 1s;
            proxy_pass http://three/passthrough/;
        }}
        location /capped/ {{
            proxy_connect_timeout 1s;
            proxy_next_upstream_tries 2;
            proxy_pass http://capped/ok/;
        }}
        location /budget/ {{
            proxy_connect_timeout 1s;
            proxy_next_upstream_timeout 1s;
            proxy_pass http://budget/ok/;
        }}
        location /cut502 {{ proxy_pass http://{app}; }}
        location /badchunk {{
            proxy_http_version 1.1;
            proxy_pass http://{app};
        }}
    }}
"#
    );
    nginx::conf("tests/it/real_nginx_rewrites.rs", &http)
}

fn evidence(ev: &Value) -> String {
    ev["evidence"].to_string()
}

fn row<'a>(doc: &'a Value, section: &str, cause: &str) -> &'a Value {
    doc[section]
        .as_array()
        .unwrap_or_else(|| panic!("no {section}: {doc}"))
        .iter()
        .find(|r| r["cause"] == cause)
        .unwrap_or_else(|| panic!("no {cause} row in {section}: {}", doc[section]))
}

#[test]
fn real_nginx_hidden_returned_other_modules_and_retried_5xx() {
    let Some(bin) = nginx::require_nginx() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let app = FaultUpstream::start().expect("upstream");
    let listen = SocketAddr::from(([127, 0, 0, 1], nginx::free_port()));
    let closed = nginx::free_port();
    // RST_STREAM on stream 1, error 7 (REFUSED_STREAM); GOAWAY, last
    // stream 0, error 2 (INTERNAL_ERROR)
    let (rst, rst_stub) = h2_stub(vec![0, 0, 4, 3, 0, 0, 0, 0, 1, 0, 0, 0, 7], 1);
    let (goaway, goaway_stub) = h2_stub(vec![0, 0, 8, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2], 1);
    let hole = Blackhole::start().expect("blackhole");
    let conf_text = conf(listen, closed, app.addr(), rst, goaway, hole.addr());
    let mut ngx = Nginx::start(&bin, dir.path(), &conf_text, listen, "UTC0")
        .unwrap_or_else(|e| panic!("{e}"));
    let get = |target: &str| {
        http::request(listen, "GET", target, b"").unwrap_or_else(|e| panic!("{target}: {e}"))
    };
    assert_eq!(get("/hidden/x"), 200, "error_page 502 =200");
    assert_eq!(get("/gone"), 502);
    assert_eq!(get("/maint"), 503);
    assert_eq!(get("/py/x"), 502);
    assert_eq!(get("/rpc/x"), 502);
    assert_eq!(get("/next/x"), 504, "refused, then proxy_read_timeout 1s");
    assert_eq!(get("/rpc-rst/x"), 502, "RST_STREAM");
    assert_eq!(get("/rpc-goaway/x"), 502, "GOAWAY with an error");
    assert_eq!(
        get("/three/x"),
        502,
        "refused, connect timeout, the app's 502"
    );
    assert_eq!(
        get("/capped/x"),
        504,
        "refused, connect timeout, no third try"
    );
    assert_eq!(get("/budget/x"), 504, "refused, connect timeout, 1 s spent");
    // the app's own 502, its body cut: the client has the 502 (and a
    // short body, or a closed connection)
    assert!(matches!(
        http::request(listen, "GET", "/cut502", b""),
        Ok(502) | Err(_)
    ));
    // the 200 went out before the broken chunk: the client gets a 200
    // whose body ends early (or no status when nginx closes first)
    assert!(matches!(
        http::request(listen, "GET", "/badchunk", b""),
        Ok(200) | Err(_)
    ));
    rst_stub.join().expect("rst stub");
    goaway_stub.join().expect("goaway stub");
    let prefix = ngx.prefix().to_path_buf();
    ngx.stop();
    drop(app);
    drop(hole);

    // what nginx wrote, independently of gatecheck
    let rich_path = prefix.join("logs/access_rich.log");
    let combined_path = prefix.join("logs/access.log");
    let error = prefix.join("logs/error.log");
    let conf_path = prefix.join("nginx.conf");
    let rich = fs::read_to_string(&rich_path).expect("rich log");
    let line = |target: &str| {
        rich.lines()
            .find(|l| l.contains(&format!("GET {target} ")))
            .unwrap_or_else(|| panic!("{target} not in:\n{rich}"))
            .to_string()
    };
    assert!(
        line("/hidden/x").contains("\" 200 ") && line("/hidden/x").contains(" us=\"502\""),
        "the client got 200, the upstream attempt failed: {}",
        line("/hidden/x")
    );
    assert!(line("/gone").contains(" us=\"-\""), "{}", line("/gone"));
    assert!(
        line("/next/x").contains(" us=\"502, 504\""),
        "{}",
        line("/next/x")
    );
    assert!(
        line("/three/x").contains(" us=\"502, 504, 502\""),
        "{}",
        line("/three/x")
    );
    assert!(
        line("/capped/x").contains(" us=\"502, 504\""),
        "the third server is never tried: {}",
        line("/capped/x")
    );
    assert!(
        line("/budget/x").contains(" us=\"502, 504\""),
        "proxy_next_upstream_timeout: {}",
        line("/budget/x")
    );
    assert!(
        line("/badchunk").contains("\" 200 "),
        "{}",
        line("/badchunk")
    );
    let error_text = fs::read_to_string(&error).expect("error.log");
    for want in [
        "upstream: \"uwsgi://127.0.0.1:",
        "upstream: \"grpc://127.0.0.1:",
        "upstream timed out (110: Connection timed out)",
        "upstream rejected request with error 7",
        "upstream sent goaway with error 2",
        "upstream timed out (110: Connection timed out) while connecting to upstream",
        "upstream sent invalid chunked response while reading upstream",
        "upstream prematurely closed connection while reading upstream",
    ] {
        assert!(error_text.contains(want), "{want:?} not in:\n{error_text}");
    }
    let conf_at = |needle: &str| line_of(&conf_text, needle);

    // the rich log and the config
    let conf_arg = ["--config", conf_path.to_str().expect("UTF-8 path")];
    let evs = events_by_path(&[&rich_path, &error], &conf_arg);
    let hidden = &evs["/hidden/x"];
    assert_eq!(hidden["status"], 200, "{hidden}");
    assert_eq!(hidden["cause"], "upstream_refused", "{hidden}");
    assert!(
        evidence(hidden).contains("($upstream_status 502) but the client got 200"),
        "{hidden}"
    );
    for (path, status, needle) in [
        ("/gone", 502, "return 502;"),
        ("/maint", 503, "return 503;"),
    ] {
        let ev = &evs[path];
        assert_eq!(ev["status"], status, "{ev}");
        assert_eq!(ev["cause"], "config_return", "{ev}");
        let at = format!("nginx.conf:{})", conf_at(needle));
        assert!(evidence(ev).contains(&at), "{at} not in {ev}");
    }
    for path in ["/py/x", "/rpc/x"] {
        assert_eq!(evs[path]["cause"], "upstream_refused", "{}", evs[path]);
    }
    // the HTTP/2 server's own ending of the request, not an invalid header
    assert_eq!(
        evs["/rpc-rst/x"]["cause"], "upstream_reset",
        "{}",
        evs["/rpc-rst/x"]
    );
    assert_eq!(
        evs["/rpc-goaway/x"]["cause"], "upstream_closed_early",
        "{}",
        evs["/rpc-goaway/x"]
    );
    let next = &evs["/next/x"];
    assert_eq!(next["cause"], "timeout", "{next}");
    let e = evidence(next);
    assert!(
        e.contains("an earlier attempt: ") && e.contains("Connection refused"),
        "{next}"
    );

    // the app's own 502 after two failed servers: the last try's cause,
    // the two failures before it said
    let three = &evs["/three/x"];
    assert_eq!(three["cause"], "passthrough", "{three}");
    let e = evidence(three);
    assert!(
        e.contains("an earlier attempt: ") && e.contains("Connection refused"),
        "{three}"
    );
    assert!(e.contains("while connecting to upstream"), "{three}");
    // the tries limit ended the retries: the connect timeout is the cause
    let capped = &evs["/capped/x"];
    assert_eq!(capped["cause"], "timeout", "{capped}");
    // a broken body after the 200: no 5xx
    assert!(!evs.contains_key("/badchunk"), "{:?}", evs.get("/badchunk"));

    let doc = analyze_json_paths(&[&rich_path, &error], &conf_arg);
    let timeouts = row(&doc, "causes_504", "timeout");
    let tries = timeouts["settings"]
        .as_array()
        .and_then(|s| {
            s.iter()
                .find(|s| s["directive"] == "proxy_next_upstream_tries")
        })
        .unwrap_or_else(|| panic!("proxy_next_upstream_tries not cited: {timeouts}"));
    assert_eq!(
        tries["line"],
        conf_at("proxy_next_upstream_tries 2;"),
        "{tries}"
    );
    assert!(
        tries["note"]
            .as_str()
            .unwrap_or("")
            .contains("gives up after 2 tries"),
        "{tries}"
    );
    let budget = timeouts["settings"]
        .as_array()
        .and_then(|s| {
            s.iter()
                .find(|s| s["directive"] == "proxy_next_upstream_timeout")
        })
        .unwrap_or_else(|| panic!("proxy_next_upstream_timeout not cited: {timeouts}"));
    assert_eq!(
        budget["line"],
        conf_at("proxy_next_upstream_timeout 1s;"),
        "{budget}"
    );
    // the broken chunked body is named for what it is, not an invalid header
    let kinds = doc["error_log_kinds"].to_string();
    assert!(kinds.contains("invalid_body"), "{kinds}");
    assert!(!kinds.contains("invalid_header"), "{kinds}");
    // the hidden 502 is counted apart, not as a retry's rescue
    assert_eq!(doc["totals"]["replaced"], 1, "{}", doc["totals"]);
    assert_eq!(doc["totals"]["rescued"], 0, "{}", doc["totals"]);
    let hidden_row = row(&doc, "causes_replaced", "upstream_refused");
    assert_eq!(hidden_row["count"], 1, "{hidden_row}");
    // the error_page that did it, at its line
    let page = hidden_row["settings"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["directive"] == "error_page"))
        .unwrap_or_else(|| panic!("error_page not cited: {hidden_row}"));
    assert_eq!(
        page["line"],
        conf_at("error_page 502 =200 /fallback;"),
        "{page}"
    );
    assert!(
        page["note"]
            .as_str()
            .unwrap_or("")
            .contains("the client gets 200 instead of 502"),
        "{page}"
    );
    let verdict = doc["verdict"].as_str().expect("verdict");
    assert!(
        verdict.contains("1 upstream 5xx hidden by nginx"),
        "{verdict}"
    );
    // uwsgi_pass and grpc_pass are named, no proxy_* setting is cited for
    // them, and the config is not said to be another one
    let refused = row(&doc, "causes_502", "upstream_refused");
    assert_eq!(refused["count"], 2, "{refused}");
    let notes = refused["config"].to_string();
    for d in ["`uwsgi_pass 127.0.0.1:", "`grpc_pass grpc://127.0.0.1:"] {
        assert!(notes.contains(d), "{d} not in {notes}");
    }
    assert!(!notes.contains("was this the config nginx ran"), "{notes}");
    assert!(
        refused["settings"].as_array().is_none_or(|s| s
            .iter()
            .all(|s| !s["directive"].as_str().unwrap_or("").starts_with("proxy_"))),
        "{refused}"
    );
    // the config's return is cited at its line
    let gone = row(&doc, "causes_502", "config_return");
    let cited = gone["settings"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["directive"] == "return"))
        .unwrap_or_else(|| panic!("return not cited: {gone}"));
    assert_eq!(cited["line"], conf_at("return 502;"), "{cited}");

    // `combined` (no $upstream_status): with the config the return is told;
    // without it, the pass-through it reads as says a return looks the same
    let evs = events_by_path(&[&combined_path, &error], &conf_arg);
    assert_eq!(evs["/gone"]["cause"], "config_return", "{}", evs["/gone"]);
    // without $upstream_status the three tries still tell: the last error
    // line is a timeout, which nginx answers 504, yet the client got 502:
    // a later server answered it (it was "timeout" before pass 5)
    let three = &evs["/three/x"];
    assert_eq!(three["cause"], "passthrough", "{three}");
    assert!(
        evidence(three).contains("makes nginx answer 504, not 502"),
        "{three}"
    );
    assert_eq!(evs["/capped/x"]["cause"], "timeout", "{}", evs["/capped/x"]);
    // the app's 502 whose body was cut after nginx passed it on: its own
    // (it read as upstream_closed_early before pass 5)
    let cut = &evs["/cut502"];
    assert_eq!(cut["cause"], "passthrough", "{cut}");
    assert!(
        evidence(cut).contains("after the response header had gone out"),
        "{cut}"
    );
    let evs = events_by_path(&[&combined_path, &error], &[]);
    assert_eq!(evs["/gone"]["cause"], "passthrough", "{}", evs["/gone"]);
    assert!(
        evidence(&evs["/gone"]).contains("`return 502;`"),
        "{}",
        evs["/gone"]
    );
}
