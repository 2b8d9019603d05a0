//! Real nginx, accuracy pass 6: the everyday `log_format`s that log some
//! upstream variables but not `$upstream_status`.
//!
//! * `proxy_next_upstream` (default `error timeout`) from a refusing server
//!   to an app that answers 502 itself, logged with `$upstream_addr` and
//!   `$upstream_response_time` only: the refusal was retried, so it did not
//!   make the 502 (`passthrough`, the refusal quoted as an earlier attempt);
//!   logged with `$upstream_response_time` only: two attempts and one error
//!   line, the log cannot tell which attempt made the 502 (`unknown`, said
//!   why). A single refusing server stays `upstream_refused` in both.
//!
//! * A body cut after the header went out (the app closes mid-body, with a
//!   `Content-Length` or a chunked body): nginx logs the 200 it sent and
//!   `upstream prematurely closed connection while reading upstream`; the
//!   report counts the cut responses apart (`cut_responses`, the verdict),
//!   each example with its access line and the error line, in a rich and a
//!   `combined` log; not as 5xx, and an app's own 502 cut the same way is
//!   still its 502 (`passthrough`), not a cut 200.
//!
//! Skipped (or a failure with `GATECHECK_REQUIRE_PROXIES`) without nginx, as
//! `tests/it/real_nginx.rs`.

use std::fs;
use std::net::SocketAddr;

use crate::support::cli::{analyze_json_paths, events_by_path};
use crate::support::http;
use crate::support::nginx::{self, Nginx, RICH_FORMAT};
use crate::support::upstream::FaultUpstream;
use serde_json::Value;

/// `$upstream_addr` and `$upstream_response_time`, no `$upstream_status`
/// (as many blog posts' `log_format main` have it).
const ADDR_TIMES: &str = r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" ua="$upstream_addr" urt="$upstream_response_time""#;

/// `$upstream_response_time` alone (the `upstream_time` format of the
/// nginx blog, with `rt=` and `urt=`).
const TIMES: &str = r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" rt=$request_time urt="$upstream_response_time""#;

fn conf(listen: SocketAddr, closed: u16, app: SocketAddr) -> String {
    let http = format!(
        r#"
    log_format addr_times '{ADDR_TIMES}';
    log_format times '{TIMES}';
    access_log logs/addr_times.log addr_times;
    access_log logs/times.log times;

    upstream pair {{
        server 127.0.0.1:{closed};
        server {app};
    }}

    server {{
        listen {listen};
        location /passthrough/ {{ proxy_pass http://pair; }}
        location /down/ {{ proxy_pass http://127.0.0.1:{closed}; }}
    }}
"#
    );
    nginx::conf("tests/it/real_nginx_everyday.rs", &http)
}

fn evidence(ev: &Value) -> String {
    ev["evidence"].to_string()
}

#[test]
fn real_nginx_without_upstream_status_a_retried_refusal_is_not_the_cause() {
    let Some(bin) = nginx::require_nginx() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let app = FaultUpstream::start().expect("upstream");
    let listen = SocketAddr::from(([127, 0, 0, 1], nginx::free_port()));
    let closed = nginx::free_port();
    let app_at = app.addr().to_string();
    let conf_text = conf(listen, closed, app.addr());
    let mut ngx = Nginx::start(&bin, dir.path(), &conf_text, listen, "UTC0")
        .unwrap_or_else(|e| panic!("{e}"));
    let get = |target: &str| {
        http::request(listen, "GET", target, b"").unwrap_or_else(|e| panic!("{target}: {e}"))
    };
    // round robin starts at the group's first server: refused, then the app
    assert_eq!(
        get("/passthrough/x"),
        502,
        "refused, then the app's own 502"
    );
    assert_eq!(get("/down/x"), 502, "refused, no other server");
    let prefix = ngx.prefix().to_path_buf();
    ngx.stop();
    drop(app);

    // what nginx wrote, independently of gatecheck
    let logs = prefix.join("logs");
    let addr_times = fs::read_to_string(logs.join("addr_times.log")).expect("log");
    let two = addr_times
        .lines()
        .find(|l| l.contains("GET /passthrough/x "))
        .expect("the retried request");
    assert!(
        two.contains(&format!("ua=\"127.0.0.1:{closed}, {app_at}\"")),
        "two servers tried: {two}"
    );
    let error = logs.join("error.log");
    let error_text = fs::read_to_string(&error).expect("error.log");
    assert_eq!(
        error_text.matches("Connection refused").count(),
        2,
        "one refusal line per request:\n{error_text}"
    );

    let conf_path = prefix.join("nginx.conf");
    let conf_arg = ["--config", conf_path.to_str().expect("UTF-8 path")];
    // with the config, and without (the layout is `combined` with the
    // upstream fields after it: read from the line, not as bare `combined`)
    for args in [&conf_arg[..], &[]] {
        let evs = events_by_path(&[&logs.join("addr_times.log"), &error], args);
        let retried = &evs["/passthrough/x"];
        assert_eq!(retried["cause"], "passthrough", "{args:?}: {retried}");
        let evs = events_by_path(&[&logs.join("times.log"), &error], args);
        let retried = &evs["/passthrough/x"];
        assert_eq!(retried["cause"], "unknown", "{args:?}: {retried}");
    }
    let evs = events_by_path(&[&logs.join("addr_times.log"), &error], &conf_arg);
    let retried = &evs["/passthrough/x"];
    assert_eq!(retried["cause"], "passthrough", "{retried}");
    let e = evidence(retried);
    assert!(
        e.contains("an earlier attempt: ") && e.contains("Connection refused"),
        "{retried}"
    );
    assert!(
        e.contains(&format!(
            "no error-log line names the last attempt ({app_at})"
        )),
        "{retried}"
    );
    assert_eq!(
        evs["/down/x"]["cause"], "upstream_refused",
        "{}",
        evs["/down/x"]
    );

    // only the times: two attempts, one refusal line: which attempt made
    // the 502 is not in the log
    let evs = events_by_path(&[&logs.join("times.log"), &error], &conf_arg);
    let retried = &evs["/passthrough/x"];
    assert_eq!(retried["cause"], "unknown", "{retried}");
    assert!(
        evidence(retried).contains("cannot tell: nginx made 2 attempts"),
        "{retried}"
    );
    assert_eq!(
        evs["/down/x"]["cause"], "upstream_refused",
        "{}",
        evs["/down/x"]
    );
}

fn cut_conf(listen: SocketAddr, app: SocketAddr) -> String {
    let http = format!(
        r#"
    log_format upstream_rich '{RICH_FORMAT}';
    access_log logs/access_rich.log upstream_rich;
    access_log logs/access.log combined;

    server {{
        listen {listen};
        location /truncated-chunked {{
            proxy_http_version 1.1;
            proxy_pass http://{app};
        }}
        location / {{ proxy_pass http://{app}; }}
    }}
"#
    );
    nginx::conf("tests/it/real_nginx_everyday.rs", &http)
}

#[test]
fn real_nginx_responses_cut_after_the_header_are_counted_apart() {
    let Some(bin) = nginx::require_nginx() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let app = FaultUpstream::start().expect("upstream");
    let listen = SocketAddr::from(([127, 0, 0, 1], nginx::free_port()));
    let mut ngx = Nginx::start(
        &bin,
        dir.path(),
        &cut_conf(listen, app.addr()),
        listen,
        "UTC0",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(http::request(listen, "GET", "/ok", b"").ok(), Some(200));
    // the status went out before the body broke: a 200 (or, when nginx
    // closes before the client reads, no status at all)
    for target in ["/truncated", "/truncated-chunked"] {
        assert!(
            matches!(http::request(listen, "GET", target, b""), Ok(200) | Err(_)),
            "{target}"
        );
    }
    assert!(matches!(
        http::request(listen, "GET", "/cut502", b""),
        Ok(502) | Err(_)
    ));
    let prefix = ngx.prefix().to_path_buf();
    ngx.stop();
    drop(app);

    // what nginx wrote, independently of gatecheck
    let logs = prefix.join("logs");
    let error = logs.join("error.log");
    let error_text = fs::read_to_string(&error).expect("error.log");
    let body_lines: Vec<&str> = error_text
        .lines()
        .filter(|l| l.contains("upstream prematurely closed connection while reading upstream"))
        .collect();
    assert_eq!(body_lines.len(), 3, "{error_text}");
    for (log, status_at) in [("access_rich.log", "\" 200 "), ("access.log", "\" 200 ")] {
        let text = fs::read_to_string(logs.join(log)).expect("access log");
        for target in ["/truncated ", "/truncated-chunked "] {
            let line = text
                .lines()
                .find(|l| l.contains(target))
                .unwrap_or_else(|| panic!("{target} not in {log}:\n{text}"));
            assert!(line.contains(status_at), "logged as sent: {line}");
        }

        let v = analyze_json_paths(&[&logs.join(log), &error], &[]);
        let cut = &v["cut_responses"];
        assert_eq!(cut["count"], 2, "{log}: {cut}");
        let examples = cut["examples"].as_array().expect("examples");
        let mut requests: Vec<&str> = examples
            .iter()
            .map(|e| e["request"].as_str().unwrap_or(""))
            .collect();
        requests.sort_unstable();
        assert_eq!(
            requests,
            ["GET /truncated → 200", "GET /truncated-chunked → 200"],
            "{log}: {cut}"
        );
        for e in examples {
            // the access line it is, and the error line joined to it
            let line = e["line"].as_u64().expect("line") as usize;
            let target = e["request"]
                .as_str()
                .unwrap_or("")
                .split(' ')
                .nth(1)
                .unwrap_or("-");
            assert!(
                text.lines()
                    .nth(line - 1)
                    .is_some_and(|l| l.contains(&format!("GET {target} "))),
                "{log}:{line} is not {target}"
            );
            assert!(e["file"].as_str().is_some_and(|f| f.ends_with(log)), "{e}");
            let err = e["error"].as_str().unwrap_or("");
            assert!(
                err.contains("error.log:")
                    && err
                        .contains("upstream prematurely closed connection while reading upstream"),
                "{e}"
            );
        }
        // not 5xx: the 502 is the app's own, whose body was cut too
        assert_eq!(v["totals"]["status_502"], 1, "{log}");
        assert_eq!(v["causes"]["passthrough"], 1, "{log}: {}", v["causes"]);
        assert!(
            v["verdict"]
                .as_str()
                .is_some_and(|s| s.contains("2 responses cut after the header")),
            "{}",
            v["verdict"]
        );
    }
}
