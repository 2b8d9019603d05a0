//! Real nginx: one server writing the same requests to two `access_log`s
//! (`combined` and an `escape=json` format with `$upstream_status`), and a
//! per-site log of some of them, read as one folder: each 502 is counted
//! once (from the JSON log, which has `$upstream_status`), the copy is set
//! aside and said in the first lines and its Inputs row, and the per-site
//! log is said to repeat requests of the others.
//!
//! Skipped (or a failure with `GATECHECK_REQUIRE_PROXIES`) without nginx, as
//! `tests/it/real_nginx.rs`.

use std::fs;
use std::net::SocketAddr;

use crate::support::cli::analyze_json_paths;
use crate::support::http;
use crate::support::nginx::{self, Nginx};

/// The JSON layout many setups add beside `combined` (nginx ≥ 1.11.8).
const JSON: &str = r#"{"time":"$time_iso8601","remote_addr":"$remote_addr","request":"$request","status":$status,"upstream_addr":"$upstream_addr","upstream_status":"$upstream_status","request_time":$request_time}"#;

/// Requests to each location (more than the 20 the decision needs).
const DOWN: usize = 30;
const SITE: usize = 25;

fn conf(listen: SocketAddr, closed: u16) -> String {
    let http = format!(
        r#"
    log_format json escape=json '{JSON}';
    access_log logs/access.log combined;
    access_log logs/access.json json;

    server {{
        listen {listen};
        location /down/ {{ proxy_pass http://127.0.0.1:{closed}; }}
        location /site/ {{
            access_log logs/access.log combined;
            access_log logs/access.json json;
            access_log logs/site.log combined;
            proxy_pass http://127.0.0.1:{closed};
        }}
    }}
"#
    );
    nginx::conf("tests/it/real_nginx_copies.rs", &http)
}

#[test]
fn real_nginx_two_access_logs_of_the_same_requests_count_each_502_once() {
    let Some(bin) = nginx::require_nginx() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let listen = SocketAddr::from(([127, 0, 0, 1], nginx::free_port()));
    let closed = nginx::free_port();
    let mut ngx = Nginx::start(&bin, dir.path(), &conf(listen, closed), listen, "UTC0")
        .unwrap_or_else(|e| panic!("{e}"));
    for i in 0..DOWN.max(SITE) {
        for (loc, n) in [("down", DOWN), ("site", SITE)] {
            if i < n {
                let target = format!("/{loc}/{i}");
                let s = http::request(listen, "GET", &target, b"")
                    .unwrap_or_else(|e| panic!("{target}: {e}"));
                assert_eq!(s, 502, "{target}: refused upstream");
            }
        }
    }
    let prefix = ngx.prefix().to_path_buf();
    ngx.stop();

    // what nginx wrote, independently of gatecheck
    let logs = prefix.join("logs");
    let count = |name: &str| {
        fs::read_to_string(logs.join(name))
            .expect("log")
            .lines()
            .filter(|l| l.contains("502"))
            .count()
    };
    assert_eq!(count("access.log"), DOWN + SITE);
    assert_eq!(count("access.json"), DOWN + SITE);
    assert_eq!(count("site.log"), SITE);

    // the folder as found, with the config that names each file's format
    let conf_path = prefix.join("nginx.conf");
    let conf_arg = ["--config", conf_path.to_str().expect("UTF-8 path")];
    let r = analyze_json_paths(&[&logs], &conf_arg);
    let notes: Vec<&str> = r["notes"]
        .as_array()
        .expect("notes")
        .iter()
        .filter_map(|n| n.as_str())
        .collect();
    let copy = notes
        .iter()
        .find(|n| n.contains("log the same requests"))
        .unwrap_or_else(|| panic!("the copy is said: {notes:?}"));
    assert!(
        copy.contains("counted once, from")
            && copy.contains("access.json (it has $upstream_status"),
        "{copy}"
    );
    assert!(copy.contains("access.log set aside"), "{copy}");
    let part = notes
        .iter()
        .find(|n| n.contains("site.log logs a part of the requests"))
        .unwrap_or_else(|| panic!("the per-site log is said: {notes:?}"));
    assert!(
        part.contains(&format!("{SITE} of {SITE} sampled 5xx")),
        "{part}"
    );
    let row = r["inputs"]
        .as_array()
        .expect("inputs")
        .iter()
        .find(|i| {
            i["path"]
                .as_str()
                .is_some_and(|p| p.ends_with("access.log"))
        })
        .expect("access.log has a row");
    assert!(
        row["reason"]
            .as_str()
            .is_some_and(|w| w.contains("set aside")),
        "{row}"
    );
    // access.json once, plus the per-site log's repeats (said above)
    assert_eq!(
        r["totals"]["status_502"],
        (DOWN + SITE + SITE) as u64,
        "{}",
        r["totals"]
    );

    // the two logs alone: every 502 once
    let r = analyze_json_paths(
        &[&logs.join("access.log"), &logs.join("access.json")],
        &conf_arg,
    );
    assert_eq!(
        r["totals"]["status_502"],
        (DOWN + SITE) as u64,
        "{}",
        r["totals"]
    );
    // one log alone: nothing said, nothing set aside
    let r = analyze_json_paths(&[&logs.join("access.log")], &conf_arg);
    assert_eq!(r["totals"]["status_502"], (DOWN + SITE) as u64);
    assert!(
        !r["notes"].to_string().contains("same requests"),
        "{}",
        r["notes"]
    );
}
