//! Attribution against a real HAProxy: a backend whose `timeout server`
//! (overriding the `defaults` one) fires on an upstream that never answers;
//! gatecheck, given the log HAProxy wrote (`log stdout format raw`) and the
//! config, must cite that backend's `timeout server` line under the hop's
//! `timeout` cause.
//!
//! Without a `haproxy` binary the test is skipped with a message, unless
//! `GATECHECK_REQUIRE_PROXIES` is set (as `.ci/run` does).

use crate::support::cli::{analyze_json_paths, line_of};
use crate::support::haproxy::{require_haproxy, Run};
use crate::support::http;
use crate::support::nginx::free_port;
use crate::support::upstream::FaultUpstream;

#[test]
fn timeout_server_of_the_failing_backend_is_cited() {
    let Some(bin) = require_haproxy() else {
        return;
    };
    let up = FaultUpstream::start().expect("upstream");
    // `defaults` says 5s; backend `be_slow` says 1s: the 1s line is the one
    // in effect (and the one that fires), the defaults line must not be cited.
    let mut run = Run::start(&bin, |port| {
        format!(
        "global\n    log stdout format raw local0\n\ndefaults\n    mode http\n    log global\n    option httplog\n    timeout connect 2s\n    timeout client 10s\n    timeout server 5s\n\nfrontend fe_main\n    bind 127.0.0.1:{port}\n    default_backend be_slow\n\nbackend be_slow\n    timeout server 1s\n    server s1 {}\n",
        up.addr()
    )
    });
    let n = 3;
    for i in 0..n {
        let status = http::request(run.addr, "GET", &format!("/slow/{i}"), b"").expect("request");
        assert_eq!(
            status, 504,
            "HAProxy answers 504 when `timeout server` fires"
        );
    }
    let log = run.stop_when_logged(" 504 ", n);
    assert_eq!(log.matches(" 504 ").count(), n, "HAProxy logged each 504");

    // not the folder: the guard keeps haproxy's stderr there too
    let v = analyze_json_paths(&[&run.cfg_path, &run.log_path], &[]);
    let cfg = &run.cfg;
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
    assert_eq!(ts["line"], line_of(cfg, "timeout server 1s"));
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
        .any(|s| s["line"] == line_of(cfg, "timeout server 5s")));
}

#[test]
fn retries_and_redispatch_are_cited_with_the_retried_requests_counted() {
    let Some(bin) = require_haproxy() else {
        return;
    };
    let up = FaultUpstream::start().expect("upstream");
    // nothing listens there: every connection to `dead` is refused
    let dead = free_port();
    // roundrobin: a request sent to `dead` is refused and redispatched to
    // `app` (at the first retry: round-robin over two servers), whose app
    // answers 502 itself
    let mut run = Run::start(&bin, |port| {
        format!(
        "global\n    log stdout format raw local0\n\ndefaults\n    mode http\n    log global\n    option httplog\n    timeout connect 1s\n    timeout client 10s\n    timeout server 5s\n\nfrontend fe_main\n    bind 127.0.0.1:{port}\n    default_backend be_app\n\nbackend be_app\n    balance roundrobin\n    retries 2\n    option redispatch\n    server dead 127.0.0.1:{dead}\n    server app {}\n",
        up.addr()
    )
    });
    let n = 4;
    for i in 0..n {
        let status =
            http::request(run.addr, "GET", &format!("/passthrough/{i}"), b"").expect("request");
        assert_eq!(status, 502, "the app's own 502, passed on");
    }
    let log = run.stop_when_logged(" 502 ", n);
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

    let v = analyze_json_paths(&[&run.cfg_path, &run.log_path], &[]);
    let cfg = &run.cfg;
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
    assert_eq!(retries["line"], line_of(cfg, "retries 2"));
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
    assert_eq!(rd["line"], line_of(cfg, "option redispatch"));
}

/// One log of three frontends (what `log global` gives): `option httplog`,
/// `option httpslog`, and a custom `log-format` with `%tsc`. With the
/// config, each line is read in its own layout: the custom format does not
/// misread the httplog lines (their captured-cookie `-` taken for the
/// termination state made every 502 `unknown`), nor leave the httpslog
/// lines malformed. Without it, the custom lines are said to be unread.
#[test]
fn a_log_of_frontends_with_different_layouts_reads_each() {
    let Some(bin) = require_haproxy() else {
        return;
    };
    let up = FaultUpstream::start().expect("upstream");
    let (https_port, custom_port) = (free_port(), free_port());
    let mut run = Run::start(&bin, |port| {
        format!(
        "global\n    log stdout format raw local0\n\ndefaults\n    mode http\n    log global\n    option httplog\n    retries 0\n    timeout connect 1s\n    timeout client 5s\n    timeout server 2s\n\nfrontend fe_main\n    bind 127.0.0.1:{port}\n    default_backend be_app\n\nfrontend fe_https_log\n    bind 127.0.0.1:{https_port}\n    option httpslog\n    default_backend be_app\n\nfrontend fe_custom\n    bind 127.0.0.1:{custom_port}\n    log-format \"%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %{{+Q}}r\"\n    default_backend be_app\n\nbackend be_app\n    server app1 {}\n",
        up.addr()
    )
    });
    // a space in a response header name: PH-- 502 from each frontend, and
    // the app's own 502 (----) from each
    for port in [run.addr.port(), https_port, custom_port] {
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        for target in ["/badheader", "/passthrough"] {
            assert_eq!(
                http::request(addr, "GET", target, b"").expect("request"),
                502
            );
        }
    }
    let log = run.stop_when_logged(" 502 ", 6);
    // what haproxy wrote: each layout once per request
    assert_eq!(log.matches(" - - PH-- ").count(), 2, "{log}");
    assert_eq!(log.matches(" 502 209 PH-- ").count(), 1, "{log}");
    let v = analyze_json_paths(&[&run.cfg_path, &run.log_path], &[]);
    let hop = &v["hops"][0];
    assert_eq!(hop["totals"]["malformed"], 0, "{}\n{log}", hop["totals"]);
    let count = |cause: &str| {
        hop["causes_502"]
            .as_array()
            .expect("502 causes")
            .iter()
            .find(|r| r["cause"] == cause)
            .map_or(0, |r| r["count"].as_u64().unwrap_or(0))
    };
    assert_eq!(count("invalid_header"), 3, "{}\n{log}", hop["causes_502"]);
    assert_eq!(count("passthrough"), 3, "{}\n{log}", hop["causes_502"]);
    assert_eq!(count("unknown"), 0, "{}\n{log}", hop["causes_502"]);
    // without the config: the two built-in layouts are read, the custom
    // lines counted as malformed (not misread)
    let v = analyze_json_paths(&[&run.log_path], &[]);
    let hop = &v["hops"][0];
    assert_eq!(hop["totals"]["malformed"], 2, "{}\n{log}", hop["totals"]);
    assert_eq!(hop["totals"]["status_502"], 4, "{}\n{log}", hop["totals"]);
}
