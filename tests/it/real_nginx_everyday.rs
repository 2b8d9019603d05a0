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
//! Skipped (or a failure with `GATECHECK_REQUIRE_PROXIES`) without nginx, as
//! `tests/it/real_nginx.rs`.

use std::fs;
use std::net::SocketAddr;

use crate::support::cli::events_by_path;
use crate::support::http;
use crate::support::nginx::{self, Nginx};
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
