//! Attribution on what a real nginx wrote (issue 11, "Done when"): each
//! test starts nginx on 127.0.0.1 in a temp dir in front of a faulty
//! upstream (`support::upstream`), causes one kind of failure for real, then
//! runs `gatecheck analyze` on the access log, the error log and the config
//! nginx ran with, and checks the settings cited for the cause (value and
//! file:line) and the evidence the log carried.
//!
//! The timeout attribution (`proxy_read_timeout 1s` on a location, an app
//! that never answers) is shown by `tests/it/real_nginx_causes.rs`.
//!
//! Skipped (or a failure with `GATECHECK_REQUIRE_PROXIES`) without nginx,
//! as `tests/it/real_nginx.rs`.

use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::http;
use crate::support::nginx::{self, Nginx};
use crate::support::upstream::FaultUpstream;
use serde_json::Value;

/// The upstream variables with one element per attempt (no byte counts).
const RICH: &str = r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" rt=$request_time uct="$upstream_connect_time" uht="$upstream_header_time" urt="$upstream_response_time" ua="$upstream_addr" us="$upstream_status""#;

/// [`RICH`] with the bytes each attempt received and the length of its body.
const BYTES: &str = r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" rt=$request_time uct="$upstream_connect_time" uht="$upstream_header_time" urt="$upstream_response_time" ua="$upstream_addr" us="$upstream_status" ubr="$upstream_bytes_received" url="$upstream_response_length""#;

/// nginx, or `None` (skip) when it is not installed and not required.
fn nginx_bin() -> Option<PathBuf> {
    let found = nginx::find_nginx();
    if found.is_none() {
        let msg = "nginx not found; install nginx-light or run .ci/run";
        if std::env::var_os("GATECHECK_REQUIRE_PROXIES").is_some() {
            panic!("{msg} (GATECHECK_REQUIRE_PROXIES is set)");
        }
        eprintln!("skipping real_nginx_attrib: {msg}");
    }
    found
}

/// A whole nginx.conf around `body` (the `http` block's own directives):
/// logs in `logs/`, the access log `logs/access.log` in [`RICH`] and
/// `logs/bytes.log` in [`BYTES`].
fn conf(body: &str) -> String {
    let user = if nginx::is_root() { "user root;\n" } else { "" };
    format!(
        r#"# Written by tests/it/real_nginx_attrib.rs.
{user}worker_processes 1;
pid nginx.pid;
error_log logs/error.log;

events {{
    worker_connections 64;
}}

http {{
    log_format rich '{RICH}';
    log_format bytes '{BYTES}';
    access_log logs/access.log rich;
    access_log logs/bytes.log bytes;

    client_body_temp_path temp/body;
    proxy_temp_path temp/proxy;
    fastcgi_temp_path temp/fastcgi;
    uwsgi_temp_path temp/uwsgi;
    scgi_temp_path temp/scgi;
{body}}}
"#
    )
}

/// `gatecheck analyze LOG error.log --config nginx.conf --format json`.
fn analyze(prefix: &Path, log: &str) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_gatecheck"))
        .arg("analyze")
        .arg(prefix.join("logs").join(log))
        .arg(prefix.join("logs/error.log"))
        .arg("--config")
        .arg(prefix.join("nginx.conf"))
        .args(["--format", "json", "--no-progress"])
        .output()
        .expect("run gatecheck");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "one JSON document ({e}):\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// 1-based line of the config line that is `needle` trimmed.
fn line_of(conf: &str, needle: &str) -> u64 {
    conf.lines()
        .position(|l| l.trim() == needle)
        .map(|i| i as u64 + 1)
        .unwrap_or_else(|| panic!("{needle} not in the config"))
}

/// The row of `cause` in `group` (`causes_502`, …).
fn row<'a>(doc: &'a Value, group: &str, cause: &str) -> &'a Value {
    doc[group]
        .as_array()
        .unwrap_or_else(|| panic!("no {group}: {doc}"))
        .iter()
        .find(|r| r["cause"] == cause)
        .unwrap_or_else(|| panic!("no {cause} row in {group}: {}", doc[group]))
}

/// The citation of `directive` in a cause row.
fn cited<'a>(row: &'a Value, directive: &str) -> &'a Value {
    row["settings"]
        .as_array()
        .unwrap_or_else(|| panic!("no settings: {row}"))
        .iter()
        .find(|s| s["directive"] == directive)
        .unwrap_or_else(|| panic!("{directive} not cited: {row}"))
}

fn note(v: &Value) -> &str {
    v["note"].as_str().unwrap_or("")
}

/// The cause row's notes (`config`), joined.
fn notes(row: &Value) -> String {
    row["config"].to_string()
}

fn started(body: &str) -> Option<(Nginx, SocketAddr, tempfile::TempDir, String)> {
    let bin = nginx_bin()?;
    let dir = tempfile::tempdir().expect("temp dir");
    let listen = SocketAddr::from(([127, 0, 0, 1], nginx::free_port()));
    let text = conf(&body.replace("LISTEN", &listen.to_string()));
    let ngx =
        Nginx::start(&bin, dir.path(), &text, listen, "UTC0").unwrap_or_else(|e| panic!("{e}"));
    Some((ngx, listen, dir, text))
}

fn get(listen: SocketAddr, target: &str) -> u16 {
    http::request(listen, "GET", target, b"").unwrap_or_else(|e| panic!("{target}: {e}"))
}

#[test]
fn header_too_big_cites_proxy_buffer_size_and_the_largest_header_that_fit() {
    let app = FaultUpstream::start().expect("upstream");
    let body = format!(
        r#"
    upstream app_pool {{
        server {};
    }}
    server {{
        listen LISTEN;
        location /sized/ {{
            proxy_buffer_size 1k;
            proxy_pass http://app_pool;
        }}
    }}
"#,
        app.addr()
    );
    let Some((mut ngx, listen, _dir, text)) = started(&body) else {
        return;
    };
    // successes first (the first answered line is in the timing sample):
    // response heads of 600 and 900 bytes fit the 1k buffer after 200 ms
    for t in ["/sized/600/200", "/sized/900/200", "/sized/600/200"] {
        assert_eq!(get(listen, t), 200, "{t}");
    }
    // 2 KiB does not
    for t in ["/sized/2048/0/a", "/sized/2048/0/b"] {
        assert_eq!(get(listen, t), 502, "{t}");
    }
    let prefix = ngx.prefix().to_path_buf();
    ngx.stop();
    let errors = fs::read_to_string(prefix.join("logs/error.log")).expect("error.log");
    assert_eq!(
        errors.matches("upstream sent too big header").count(),
        2,
        "{errors}"
    );

    for (log, with_bytes) in [("bytes.log", true), ("access.log", false)] {
        let doc = analyze(&prefix, log);
        let r = row(&doc, "causes_502", "header_too_big");
        assert_eq!(r["count"], 2, "{log}: {r}");
        let buf = cited(r, "proxy_buffer_size");
        assert_eq!(buf["value"], "1k", "{log}: {buf}");
        assert_eq!(buf["defaulted"], false, "{log}: {buf}");
        assert_eq!(
            buf["line"],
            line_of(&text, "proxy_buffer_size 1k;"),
            "{buf}"
        );
        assert!(buf["file"]
            .as_str()
            .is_some_and(|f| f.ends_with("nginx.conf")));
        if with_bytes {
            // nginx's own count: $upstream_bytes_received − $upstream_response_length
            // is the head the app sent (900 bytes at most, 3 answers)
            let n = note(buf);
            assert!(
                n.contains("largest response header of the 3 answered requests")
                    && n.contains("900 bytes"),
                "{n}"
            );
            assert_eq!(buf["header_bytes"]["largest"], 900, "{buf}");
            assert_eq!(buf["header_bytes"]["of"], 3, "{buf}");
        } else {
            let all = format!("{} {}", note(buf), notes(r));
            assert!(
                all.contains("add $upstream_bytes_received and $upstream_response_length"),
                "{all}"
            );
        }
    }
    // the timings of this upstream: the 502s were told at once, the
    // answers came after the app's 200 ms
    let doc = analyze(&prefix, "access.log");
    let up = doc["timings"]["upstreams"]
        .as_array()
        .expect("timings")
        .iter()
        .find(|u| u["upstream"] == app.addr().to_string())
        .unwrap_or_else(|| panic!("no timings for {}: {}", app.addr(), doc["timings"]));
    assert_eq!(up["failed_502"], 2, "{up}");
    let phase = |name: &str| {
        up["phases"]
            .as_array()
            .expect("phases")
            .iter()
            .find(|p| p["phase"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no {name} phase: {up}"))
    };
    let response = phase("response");
    assert_eq!(response["failed_502"]["count"], 2, "{response}");
    for q in ["p50_ms", "p95_ms", "p99_ms"] {
        let failed = response["failed_502"][q].as_f64().expect("failed quantile");
        assert!(failed < 200.0, "{q} of the 502s: {response}");
    }
    let header = phase("header");
    assert!(
        header["ok"]["count"].as_u64().is_some_and(|n| n >= 1),
        "{header}"
    );
    for q in ["p50_ms", "p95_ms", "p99_ms"] {
        // a bucket's upper bound: at least the 200 ms the app waited, and
        // not far above (buckets are 26 % wide)
        let ok = header["ok"][q].as_f64().expect("ok quantile");
        assert!(
            (200.0..=1000.0).contains(&ok),
            "{q} of the answers: {header}"
        );
    }
}

#[test]
fn keepalive_race_cites_the_upstream_blocks_keepalive_and_its_idle_timeout() {
    let app = FaultUpstream::start().expect("upstream");
    let body = format!(
        r#"
    upstream ka_pool {{
        server {};
        keepalive 8;
    }}
    server {{
        listen LISTEN;
        location /keepalive {{
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass http://ka_pool;
        }}
    }}
"#,
        app.addr()
    );
    let Some((mut ngx, listen, _dir, text)) = started(&body) else {
        return;
    };
    // the app answers the first request of a connection, keeps it open,
    // then closes it without answering the next one (its idle timeout
    // firing as nginx reuses the connection): a POST is not retried
    let n = 2;
    for i in 0..n {
        assert_eq!(get(listen, &format!("/keepalive/prime/{i}")), 200);
        let post =
            http::request(listen, "POST", &format!("/keepalive/post/{i}"), b"{}").expect("post");
        assert_eq!(post, 502, "POST {i} on the reused connection");
    }
    let prefix = ngx.prefix().to_path_buf();
    ngx.stop();
    let doc = analyze(&prefix, "access.log");
    let r = row(&doc, "causes_502", "keepalive_race");
    assert_eq!(r["count"], n, "{r}");
    let ka = cited(r, "keepalive");
    assert_eq!(ka["value"], "8", "{ka}");
    assert_eq!(ka["defaulted"], false, "{ka}");
    assert_eq!(ka["line"], line_of(&text, "keepalive 8;"), "{ka}");
    // keepalive_timeout is not set in the block: nginx's default, cited at
    // the block's line, with the version that brought it
    let kt = cited(r, "keepalive_timeout");
    assert_eq!(kt["defaulted"], true, "{kt}");
    assert_eq!(kt["value"], "60s", "{kt}");
    assert_eq!(kt["line"], line_of(&text, "upstream ka_pool {"), "{kt}");
    let n = note(kt);
    assert!(
        n.contains("1.15.3") && n.contains("app's own idle timeout must be longer"),
        "{n}"
    );
    let hv = cited(r, "proxy_http_version");
    assert_eq!(
        hv["line"],
        line_of(&text, "proxy_http_version 1.1;"),
        "{hv}"
    );
}

#[test]
fn a_name_in_proxy_pass_is_said_to_be_resolved_once_with_the_addresses_logged() {
    // nothing listens on this port: every request is refused
    let dead = nginx::free_port();
    let body = format!(
        r#"
    server {{
        listen LISTEN;
        location /orders/ {{
            proxy_pass http://localhost:{dead};
        }}
    }}
"#
    );
    let Some((mut ngx, listen, _dir, text)) = started(&body) else {
        return;
    };
    let n = 3;
    for i in 0..n {
        assert_eq!(get(listen, &format!("/orders/{i}")), 502);
    }
    let prefix = ngx.prefix().to_path_buf();
    ngx.stop();
    // what nginx logged: the address localhost resolved to at start-up
    let log = fs::read_to_string(prefix.join("logs/access.log")).expect("access.log");
    let logged: std::collections::BTreeSet<&str> = log
        .lines()
        .filter_map(|l| l.split(" ua=\"").nth(1)?.split('"').next())
        .flat_map(|a| a.split(", "))
        .collect();
    assert!(!logged.is_empty(), "{log}");
    let doc = analyze(&prefix, "access.log");
    let r = row(&doc, "causes_502", "upstream_refused");
    assert_eq!(r["count"], n, "{r}");
    let pass = cited(r, "proxy_pass");
    assert_eq!(pass["value"], format!("http://localhost:{dead}"), "{pass}");
    assert_eq!(
        pass["line"],
        line_of(&text, &format!("proxy_pass http://localhost:{dead};")),
        "{pass}"
    );
    let said = note(pass);
    assert!(said.contains("resolved it once"), "{said}");
    if let [one] = logged.iter().collect::<Vec<_>>()[..] {
        assert!(
            said.contains(&format!("All {n} of these requests went to {one}"))
                && said.contains("never changed"),
            "{said}"
        );
    } else {
        assert!(
            said.contains(&format!("went to {} addresses", logged.len())),
            "{said}"
        );
    }
    let resolver = cited(r, "resolver");
    assert_eq!(resolver["defaulted"], true, "{resolver}");
    assert_eq!(
        resolver["line"],
        line_of(&text, "location /orders/ {"),
        "{resolver}"
    );
    // the location sends to the name: no "was this the config" doubt
    assert!(!notes(r).contains("was this the config"), "{}", notes(r));
}

#[test]
fn retries_are_counted_and_an_apps_own_502_is_said_not_to_be_retried() {
    let app = FaultUpstream::start().expect("upstream");
    // the first server refuses; the app behind the second answers 502
    let dead = SocketAddr::from(([127, 0, 0, 1], nginx::free_port()));
    let body = format!(
        r#"
    upstream two {{
        server {dead};
        server {};
    }}
    server {{
        listen LISTEN;
        location /passthrough {{
            proxy_pass http://two;
        }}
    }}
"#,
        app.addr()
    );
    let Some((mut ngx, listen, _dir, text)) = started(&body) else {
        return;
    };
    let n = 4;
    for i in 0..n {
        assert_eq!(get(listen, &format!("/passthrough/{i}")), 502);
    }
    let prefix = ngx.prefix().to_path_buf();
    ngx.stop();
    // nginx's own account: requests that tried both servers list both
    let log = fs::read_to_string(prefix.join("logs/access.log")).expect("access.log");
    let both = log
        .lines()
        .filter(|l| l.contains(&format!("ua=\"{dead}, {}\"", app.addr())))
        .count() as u64;
    assert!(both >= 1, "the refused server was tried first once: {log}");
    let doc = analyze(&prefix, "access.log");
    let r = row(&doc, "causes_502", "passthrough");
    assert_eq!(r["count"], n, "{r}");
    let all = notes(r);
    assert!(
        all.contains(&format!(
            "{both} of {n} requests were already retries: $upstream_status lists more than one server tried (at most 2)"
        )),
        "{all}"
    );
    let next = cited(r, "proxy_next_upstream");
    assert_eq!(next["defaulted"], true, "{next}");
    assert_eq!(next["value"], "error timeout", "{next}");
    assert_eq!(
        next["line"],
        line_of(&text, "location /passthrough {"),
        "{next}"
    );
    let said = note(next);
    assert!(
        said.contains("`http_502` is not listed") && said.contains("not tried on another server"),
        "{said}"
    );
}
