//! `gatecheck analyze` on hop logs (HAProxy and the other registered
//! formats): detection, per-hop causes, events and skipped lines.

use std::process::Command;

use crate::support::cli::{analyze_json, formats, temp_file};

fn causes(rows: &serde_json::Value) -> Vec<(String, u64)> {
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["cause"].as_str().unwrap().to_string(),
                r["count"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn haproxy_syslog_with_events_and_other_programs() {
    let v = analyze_json(&["fixtures/logs/haproxy/syslog_mixed.log"]);
    let input = &v["inputs"][0];
    assert_eq!(input["kind"], "haproxy_access");
    assert!(input["reason"].as_str().unwrap().contains("RFC 3164"));
    let h = &v["hops"][0];
    assert_eq!(h["name"], "haproxy");
    assert_eq!(h["hop"], "proxy");
    assert_eq!(h["totals"]["requests"], 7);
    assert_eq!(h["totals"]["status_502"], 3);
    assert_eq!(h["status_503"], 2);
    assert_eq!(h["totals"]["status_504"], 1);
    // the cut last line is the only malformed one, shown with file:line
    assert_eq!(h["totals"]["malformed"], 1);
    assert_eq!(h["malformed_samples"][0]["line"], 14);
    // CRON and the two start notices: skipped, not malformed
    assert_eq!(h["skipped_lines"], 1);
    assert_eq!(h["events"]["server_down"], 2);
    assert_eq!(h["events"]["no_server"], 1);
    assert_eq!(h["events"]["notice"], 2);
    let c502 = causes(&h["causes_502"]);
    assert!(
        c502.contains(&("upstream_closed_early".into(), 1)),
        "{c502:?}"
    );
    assert!(c502.contains(&("invalid_header".into(), 1)), "{c502:?}");
    assert!(c502.contains(&("passthrough".into(), 1)), "{c502:?}");
    assert_eq!(causes(&h["causes_504"]), vec![("timeout".into(), 1)]);
    let other = causes(&h["causes_other_5xx"]);
    assert!(other.contains(&("upstream_refused".into(), 1)), "{other:?}");
    assert!(other.contains(&("no_live_upstream".into(), 1)), "{other:?}");
    // no_live_upstream rests on the backend's DOWN / no-server lines, with
    // file:line and the time the syslog line carries
    let nolive = h["causes_other_5xx"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["cause"] == "no_live_upstream")
        .unwrap();
    let ev: Vec<&str> = nolive["example"]["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert!(
        ev.iter().any(|e| e.contains("syslog_mixed.log:10 at ")
            && e.ends_with(": backend be_api has no server available!")),
        "{ev:?}"
    );
    // the run's totals include the hop
    assert_eq!(v["totals"]["status_502"], 3);
}

#[test]
fn haproxy_bench_log_counts_match_awk() {
    // what ../shared/bench/genlogs.py haproxy-http writes, in small
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.log");
    let mut text = String::new();
    let base = "Mar 12 06:00:00 lb1 haproxy[2841]: 62.86.39.86:36897 [12/Mar/2024:05:59:59.801] fe_main~ be_static/app3 0/0/0/197/199";
    for (i, (st, tsc)) in [
        ("200", "----"),
        ("502", "SH--"),
        ("502", "PH--"),
        ("503", "SC--"),
        ("504", "sH--"),
        ("500", "----"),
    ]
    .iter()
    .cycle()
    .take(600)
    .enumerate()
    {
        text.push_str(&format!(
            "{base} {st} 311 - - {tsc} 118/116/39/3/0 0/0 \"GET /x/{i} HTTP/1.1\"\n"
        ));
    }
    std::fs::write(&path, &text).unwrap();
    let awk = |code: &str| {
        text.lines()
            .filter(|l| l.split(' ').nth(10) == Some(code))
            .count() as u64
    };
    let v = analyze_json(&[path.to_str().unwrap()]);
    let h = &v["hops"][0];
    assert_eq!(h["totals"]["status_502"], awk("502"));
    assert_eq!(h["totals"]["status_504"], awk("504"));
    assert_eq!(h["status_503"], awk("503"));
    assert_eq!(h["totals"]["malformed"], 0);
}

/// The logs a real haproxy wrote (`fixtures/logs/haproxy/real/NOTES.md`):
/// every request gets the cause its fault calls for, from either file.
#[test]
fn real_haproxy_fixtures() {
    let expect = |path: &str| -> Option<&str> {
        Some(match path {
            "/refused/x" => "upstream_refused",
            "/reset" | "/closed" => "upstream_closed_early",
            "/bigheader" | "/badheader" => "invalid_header",
            "/slow" | "/connect-timeout/x" => "timeout",
            "/nosrv/x" => "no_live_upstream",
            "/passthrough" => "passthrough",
            _ => return None,
        })
    };
    for f in ["haproxy.log", "stdout.log"] {
        let path = format!("fixtures/logs/haproxy/real/{f}");
        let out = Command::new(env!("CARGO_BIN_EXE_gatecheck"))
            .args(["analyze", &path, "--format", "ndjson", "--no-progress"])
            .output()
            .unwrap();
        assert!(out.status.success());
        let mut seen = 0;
        for line in String::from_utf8(out.stdout).unwrap().lines() {
            let ev: serde_json::Value = serde_json::from_str(line).unwrap();
            let p = ev["path"].as_str().unwrap();
            assert_eq!(ev["cause"].as_str(), expect(p), "{f}: {p}");
            seen += 1;
        }
        assert_eq!(seen, 9, "{f}: every 5xx has an event");
    }
}

#[test]
fn formats_says_what_and_why() {
    let (code, out) = formats(&["fixtures/logs/haproxy/syslog_mixed.log", "Cargo.toml"]);
    assert_eq!(code, 1, "a file without a format: exit 1\n{out}");
    assert!(out.contains("syslog_mixed.log: haproxy log"), "{out}");
    assert!(out.contains("sampled lines 3, 4, 6"), "{out}");
    assert!(out.contains("1 other programs' syslog lines"), "{out}");
    assert!(out.contains("Cargo.toml: unknown"), "{out}");
    assert!(
        out.contains("tried: nginx ") && out.contains("nginx combined"),
        "{out}"
    );
    for hop in [
        "haproxy",
        "cloudfront",
        "alb",
        "envoy",
        "gcp_lb",
        "cloudflare",
        "fastly",
    ] {
        assert!(
            out.contains(&format!(" {hop}")),
            "{hop} not among the tried: {out}"
        );
    }
    assert!(out.contains("--format-of '*Cargo.toml=NAME'"), "{out}");
    let (code, out) = formats(&["fixtures/logs/haproxy/syslog_mixed.log"]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn format_of_forces_and_rejects_unknown_names() {
    // a file whose first lines are all notices: detection cannot tell it,
    // --format-of can
    let text = "Mar 12 08:11:58 lb1 haproxy[2841]: Proxy fe_main started.\n".repeat(60)
        + "Mar 12 08:12:01 lb1 haproxy[2841]: 10.0.0.2:40002 [12/Mar/2024:08:12:01.200] fe_main be_api/app1 0/0/0/-1/12 502 209 - - SH-- 3/3/1/1/0 0/0 \"GET /a HTTP/1.1\"\n";
    let (_dir, p) = temp_file("lb.txt", text);
    let path = p.to_str().unwrap();
    let (code, out) = formats(&[path]);
    assert_eq!(code, 1, "{out}");
    let (code, out) = formats(&[path, "--format-of", "lb*.txt=haproxy"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("--format-of: read as haproxy"), "{out}");
    let v = analyze_json(&[path, "--format-of", "*.txt=haproxy"]);
    assert_eq!(
        v["hops"][0]["causes_502"][0]["cause"],
        "upstream_closed_early"
    );
    let (_, out) = formats(&[path, "--format-of", "*.txt=nosuch"]);
    assert!(
        out.contains("no format of that name (known: haproxy"),
        "{out}"
    );
    let bad = Command::new(env!("CARGO_BIN_EXE_gatecheck"))
        .args(["formats", path, "--format-of", "nonsense"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
}

/// nginx in front of haproxy, no shared request id: each nginx 502 that
/// passed a 502 on is followed into haproxy's log by method + path + time.
#[test]
fn where_the_502s_were_born_nginx_then_haproxy() {
    let v = analyze_json(&["fixtures/logs/chain"]);
    let b = &v["born"];
    assert_eq!(b["order"], serde_json::json!(["nginx", "haproxy"]));
    assert!(b["join"].as_str().unwrap().contains("time window"), "{b}");
    let row = |born: &str, hop: &str, cause: &str| {
        b["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["born_at"] == born && r["hop"] == hop && r["cause"] == cause)
            .map(|r| r["count"].as_u64().unwrap())
    };
    assert_eq!(
        row("gateway", "haproxy", "upstream_closed_early"),
        Some(1),
        "{b}"
    );
    assert_eq!(row("gateway", "haproxy", "invalid_header"), Some(1), "{b}");
    assert_eq!(row("upstream", "app", "passthrough"), Some(1), "{b}");
    // nginx's 502 with no upstream header time and no error log: not guessed
    assert_eq!(row("unknown", "nginx", "unknown"), Some(1), "{b}");
    // every 502 the client got is placed once
    let total: u64 = b["totals"]
        .as_object()
        .unwrap()
        .values()
        .map(|c| c.as_u64().unwrap())
        .sum();
    assert_eq!(total, 4);
    let chain = &b["chains"][0];
    assert_eq!(chain["join"], "time_window");
    assert_eq!(
        chain["chain"][0]["at"],
        "fixtures/logs/chain/nginx_access.log:2"
    );
    assert_eq!(chain["chain"][1]["at"], "fixtures/logs/chain/haproxy.log:2");
}

/// The chain in `born` whose first request id ends with `suffix`.
fn chain_ending<'a>(born: &'a serde_json::Value, suffix: &str) -> Option<&'a serde_json::Value> {
    born["chains"].as_array().unwrap().iter().find(|c| {
        c["chain"][0]["request_id"]
            .as_str()
            .is_some_and(|r| r.ends_with(suffix))
    })
}

/// What real nginx and haproxy wrote in a chain (`fixtures/logs/chain_real/NOTES.md`),
/// joined by the request id both logged.
#[test]
fn real_chain_fixtures_born_at() {
    let v = analyze_json(&["fixtures/logs/chain_real"]);
    let b = &v["born"];
    assert!(
        b["join"].as_str().unwrap().starts_with("by request id"),
        "{b}"
    );
    let by_id = |suffix: &str| {
        chain_ending(b, suffix).map(|c| {
            (
                c["born_at"].as_str().unwrap().to_string(),
                c["hop"].as_str().unwrap().to_string(),
                c["cause"].as_str().unwrap().to_string(),
            )
        })
    };
    let t = |a: &str, b: &str, c: &str| Some((a.to_string(), b.to_string(), c.to_string()));
    assert_eq!(
        by_id("0001"),
        t("gateway", "haproxy", "upstream_closed_early")
    );
    assert_eq!(by_id("0002"), t("gateway", "haproxy", "invalid_header"));
    assert_eq!(by_id("0003"), t("upstream", "app", "passthrough"));
    assert_eq!(by_id("0005"), t("gateway", "nginx", "upstream_refused"));
    assert_eq!(by_id("0004"), None, "a 504 is not followed");
}

/// nginx names upstreams by address, HAProxy by `backend/server`: with both
/// read, the merged top-upstreams table says which hop named each key, and
/// each hop's own table keeps its plain keys.
#[test]
fn top_upstreams_are_labelled_by_hop() {
    let v = analyze_json(&["fixtures/logs/chain_real"]);
    let keys: Vec<&str> = v["top_upstreams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["key"].as_str().unwrap())
        .collect();
    assert!(
        keys.iter().any(|k| k.starts_with("nginx: "))
            && keys.iter().any(|k| k.starts_with("haproxy: ")),
        "{keys:?}"
    );
    assert!(
        keys.iter()
            .all(|k| k.starts_with("nginx: ") || k.starts_with("haproxy: ")),
        "{keys:?}"
    );
    let hap = v["hops"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["name"] == "haproxy")
        .expect("haproxy hop");
    let own = hap["top_upstreams"].as_array().unwrap();
    assert!(!own.is_empty());
    assert!(own
        .iter()
        .all(|c| !c["key"].as_str().unwrap().starts_with("haproxy: ")));
}

/// A haproxy.cfg in the dump: its `log-format` reads the log next to it.
#[test]
fn haproxy_custom_log_format_from_the_config_in_the_dump() {
    let v = analyze_json(&["fixtures/logs/haproxy/custom"]);
    let kinds: Vec<(&str, &str)> = v["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["path"].as_str().unwrap(), i["kind"].as_str().unwrap()))
        .collect();
    assert!(
        kinds.contains(&("fixtures/logs/haproxy/custom/haproxy.cfg", "haproxy_config")),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&("fixtures/logs/haproxy/custom/access.log", "haproxy_access")),
        "{kinds:?}"
    );
    let reason = v["inputs"][0]["reason"].as_str().unwrap();
    assert!(reason.contains("haproxy.cfg:13"), "{reason}");
    let h = &v["hops"][0];
    assert_eq!(h["totals"]["malformed"], 0);
    let c502 = causes(&h["causes_502"]);
    assert!(
        c502.contains(&("upstream_closed_early".into(), 1)),
        "{c502:?}"
    );
    assert!(c502.contains(&("passthrough".into(), 1)), "{c502:?}");
    assert_eq!(causes(&h["causes_504"]), vec![("timeout".into(), 1)]);
}

#[test]
fn verdict_covers_the_hops() {
    // only HAProxy read: the verdict is that hop's, not "no request could be read"
    let v = analyze_json(&["fixtures/logs/haproxy/syslog_mixed.log"]);
    let verdict = v["verdict"].as_str().expect("verdict");
    let h = &v["hops"][0];
    let n502 = h["totals"]["status_502"].as_u64().unwrap();
    assert!(
        verdict.starts_with(&format!("haproxy: {n502} × 502 ")),
        "{verdict}"
    );
    let hop_part = verdict.to_string();
    // nginx and HAProxy together: each 502 counted once where it was born
    // (not the sum of the hops, which counts a passed-on 502 twice), then
    // each hop's own verdict
    let v = analyze_json(&[
        "fixtures/logs/haproxy/syslog_mixed.log",
        "fixtures/logs/nginx/causes/access.log",
    ]);
    let verdict = v["verdict"].as_str().expect("verdict");
    let born: u64 = v["born"]["totals"]
        .as_object()
        .expect("born totals")
        .values()
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert!(
        verdict.starts_with(&format!(
            "{born} × 502 over nginx → haproxy, each counted once: born at "
        )) && verdict.ends_with(&format!(" | {hop_part}")),
        "{verdict}"
    );
}

/// `option httplog clf`, as haproxy 2.6 really wrote it (see the fixture's
/// NOTES.md): the same causes as httplog, from the same fields.
#[test]
fn haproxy_clf_real_fixture() {
    let v = analyze_json(&["fixtures/logs/haproxy/clf/real_haproxy_2.6.log"]);
    assert_eq!(v["inputs"][0]["kind"], "haproxy_access", "{}", v["inputs"]);
    assert!(
        v["inputs"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("option httplog clf"),
        "{}",
        v["inputs"][0]
    );
    let h = &v["hops"][0];
    assert_eq!(h["totals"]["requests"], 5);
    assert_eq!(h["totals"]["malformed"], 0);
    let c502 = causes(&h["causes_502"]);
    assert!(c502.contains(&("passthrough".into(), 1)), "{c502:?}");
    assert!(
        c502.contains(&("upstream_closed_early".into(), 1)),
        "{c502:?}"
    );
    assert_eq!(causes(&h["causes_504"]), vec![("timeout".into(), 1)]);
    let other = causes(&h["causes_other_5xx"]);
    assert!(other.contains(&("upstream_refused".into(), 1)), "{other:?}");
    assert!(other.contains(&("no_live_upstream".into(), 1)), "{other:?}");
}

/// The dump of `fixtures/logs/chain_real` with nginx's request times cut to
/// 1 ms, so that the durations of the shared request ids say haproxy saw
/// the requests first; with `cfg`, the haproxy.cfg the capture ran with
/// (`tests/it/real_chain.rs`: haproxy binds the address nginx proxied to).
fn chain_dump_with_short_nginx_times(cfg: bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let src = std::path::Path::new("fixtures/logs/chain_real");
    for f in ["haproxy.log", "error.log", "nginx.conf"] {
        std::fs::copy(src.join(f), dir.path().join(f)).unwrap();
    }
    let access = std::fs::read_to_string(src.join("access.log")).unwrap();
    let re = regex::Regex::new(r"rt=[0-9.]+ ").unwrap();
    let short = re.replace_all(&access, "rt=0.001 ");
    assert_ne!(short, access);
    std::fs::write(dir.path().join("access.log"), short.as_bytes()).unwrap();
    if cfg {
        std::fs::write(
            dir.path().join("haproxy.cfg"),
            "global\n    log stdout format raw local0\n\ndefaults\n    mode http\n    log global\n    option httplog\n    timeout connect 1s\n    timeout client 5s\n    timeout server 1s\n\nfrontend fe_main\n    bind 127.0.0.1:38421\n    capture request header X-Request-ID len 64\n    default_backend be_app\n\nbackend be_app\n    server app1 127.0.0.1:38999\n",
        )
        .unwrap();
    }
    dir
}

/// nginx's `$upstream_addr` is the address haproxy binds (haproxy.cfg):
/// nginx is outside, though the durations of the shared request ids say
/// the opposite; the note says which evidence was taken. Without the
/// config, the durations decide.
#[test]
fn hop_order_from_addresses_beats_durations() {
    let with = chain_dump_with_short_nginx_times(true);
    let v = analyze_json(&[with.path().to_str().unwrap()]);
    let b = &v["born"];
    assert_eq!(b["order"], serde_json::json!(["nginx", "haproxy"]), "{b}");
    let note = b["order_note"].as_str().unwrap();
    assert!(
        note.starts_with(
            "hop order from evidence: nginx before haproxy (addresses: nginx's $upstream_addr 127.0.0.1:38421 is haproxy's bind 127.0.0.1:38421 at "
        ),
        "{note}"
    );
    assert!(note.contains("haproxy.cfg:13"), "{note}");
    assert!(note.contains("said the opposite"), "{note}");
    let born = |suffix: &str| {
        chain_ending(b, suffix).map(|c| {
            (
                c["hop"].as_str().unwrap().to_string(),
                c["cause"].as_str().unwrap().to_string(),
            )
        })
    };
    assert_eq!(
        born("0001"),
        Some(("haproxy".into(), "upstream_closed_early".into()))
    );
    assert_eq!(
        born("0005"),
        Some(("nginx".into(), "upstream_refused".into()))
    );

    let without = chain_dump_with_short_nginx_times(false);
    let v = analyze_json(&[without.path().to_str().unwrap()]);
    let b = &v["born"];
    assert_eq!(b["order"], serde_json::json!(["haproxy", "nginx"]), "{b}");
    let note = b["order_note"].as_str().unwrap();
    assert!(note.contains("(request ids: haproxy took longer"), "{note}");
}

/// The top tables' coverage notes speak the hop's own terms: a HAProxy-only
/// dump (httplog logs no Host) and an Envoy-only one (a format without
/// `%UPSTREAM_HOST%` or `%REQ(:AUTHORITY)%`) get no nginx wording.
#[test]
fn coverage_notes_per_hop() {
    let v = analyze_json(&["fixtures/logs/haproxy/syslog_mixed.log"]);
    let c = &v["top_coverage"];
    assert_eq!(c["hosts"]["of"], 3, "{c}");
    let hosts = c["hosts"]["missing"].as_str().unwrap();
    assert_eq!(
        hosts,
        "3 lines have no host (haproxy: not logged (HAProxy's httplog has no Host field))"
    );
    // every 502 named its backend/server
    assert_eq!(c["upstreams"]["counted"], 3, "{c}");
    assert!(c["upstreams"].get("missing").is_none(), "{c}");

    // the 5xx of fixtures/logs/envoy/default_5xx_kinds.log, in a format
    // that leaves out the upstream host and the authority
    let (_dir, p) = temp_file(
        "envoy.log",
        "[2024-03-12T08:10:00.120Z] \"GET /api/orders HTTP/1.1\" 502 - 31\n\
         [2024-03-12T08:10:01.000Z] \"POST /api/pay HTTP/1.1\" 502 UPE 3\n\
         [2024-03-12T08:10:02.000Z] \"GET /api/ok HTTP/1.1\" 200 - 2\n",
    );
    let v = analyze_json(&[
        p.to_str().unwrap(),
        "--log-format",
        "envoy=[%START_TIME%] \"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%\" %RESPONSE_CODE% %RESPONSE_FLAGS% %DURATION%",
    ]);
    assert_eq!(v["hops"][0]["name"], "envoy", "{}", v["inputs"]);
    let c = &v["top_coverage"];
    let up = c["upstreams"]["missing"].as_str().unwrap();
    assert!(
        up.starts_with("2 lines have no upstream address (envoy: %UPSTREAM_HOST%"),
        "{up}"
    );
    let hosts = c["hosts"]["missing"].as_str().unwrap();
    assert!(
        hosts.starts_with("2 lines have no host (envoy: %REQ(:AUTHORITY)%"),
        "{hosts}"
    );
    for n in [up, hosts] {
        assert!(!n.contains("$upstream_addr") && !n.contains("$host"), "{n}");
    }
    assert!(c["paths"].get("missing").is_none(), "{c}");
}

/// A HAProxy `log-format` that writes lines nginx's `combined` reads too:
/// without `--log-format haproxy=…` nginx's detection claims the file; with
/// it, the user's statement wins (tried before nginx's detection), HAProxy's
/// termination state explains the 502s, and `gatecheck formats` says so.
#[test]
fn stated_haproxy_format_wins_over_nginx_detection() {
    let (_dir, p) = temp_file(
        "lb.log",
        "10.0.0.2 - - [12/Mar/2024:08:12:01 +0000] \"GET /api/orders/1002 HTTP/1.1\" 502 209 \"-\" \"-\" SH-- 0/-1/12 be_api/app1\n\
         10.0.0.3 - - [12/Mar/2024:08:12:02 +0000] \"GET /api/cart HTTP/1.1\" 502 209 \"-\" \"-\" PH-- 0/-1/3 be_api/app2\n\
         10.0.0.4 - - [12/Mar/2024:08:12:03 +0000] \"GET /api/cart HTTP/1.1\" 200 512 \"-\" \"-\" ---- 0/4/5 be_api/app2\n",
    );
    let path = p.to_str().unwrap();
    let (code, out) = formats(&[path]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("lb.log: nginx access log"), "{out}");
    let fmt = "haproxy=%ci - - [%trl] \"%r\" %ST %B \"-\" \"-\" %tsc %Tc/%Tr/%Ta %b/%s";
    let (code, out) = formats(&[path, "--log-format", fmt]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("lb.log: haproxy log"), "{out}");
    assert!(out.contains("--log-format"), "{out}");
    assert!(
        out.contains("stated formats are tried before nginx's detection, which would have read it as nginx log_format"),
        "{out}"
    );
    let v = analyze_json(&[path, "--log-format", fmt]);
    let h = &v["hops"][0];
    assert_eq!(h["name"], "haproxy", "{}", v["inputs"]);
    let c502 = causes(&h["causes_502"]);
    assert!(
        c502.contains(&("upstream_closed_early".into(), 1)),
        "{c502:?}"
    );
    assert!(c502.contains(&("invalid_header".into(), 1)), "{c502:?}");
}

/// The hop's next-hop timings: HAProxy logs `Tc` and `Tr` (connect and
/// header), never the response phase.
#[test]
fn haproxy_hop_timings() {
    let v = analyze_json(&["fixtures/logs/haproxy/syslog_mixed.log"]);
    let t = &v["hops"][0]["timings"];
    assert_eq!(t["ok_sampled_1_in"], 16);
    let ups = t["upstreams"].as_array().expect("upstreams");
    assert!(!ups.is_empty(), "{t}");
    let failed: u64 = ups.iter().map(|u| u["failed_502"].as_u64().unwrap()).sum();
    // every 502 here went to a chosen server: each one attempt behind a 502
    assert_eq!(
        failed,
        v["hops"][0]["totals"]["status_502"].as_u64().unwrap()
    );
    let app1 = ups
        .iter()
        .find(|u| u["upstream"] == "be_api/app1")
        .expect("app1");
    assert_eq!(
        (app1["attempts"].as_u64(), app1["failed_502"].as_u64()),
        (Some(2), Some(1))
    );
    for u in ups {
        assert!(u["attempts"].as_u64().unwrap() >= u["failed_502"].as_u64().unwrap());
        for p in u["phases"].as_array().unwrap() {
            assert_ne!(p["phase"], "response", "{u}");
            let n = p["failed_502"]["count"].as_u64().unwrap() + p["ok"]["count"].as_u64().unwrap();
            assert!(n >= 1 && n <= u["attempts"].as_u64().unwrap(), "{u}");
        }
    }
}

/// `gatecheck analyze --format ndjson` on `path`: `(line, cause)` of each 5xx.
fn causes_by_line(path: &str) -> Vec<(u64, String)> {
    let out = Command::new(env!("CARGO_BIN_EXE_gatecheck"))
        .args(["analyze", path, "--format", "ndjson", "--no-progress"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{path}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let ev: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                ev["line"].as_u64().unwrap(),
                ev["cause"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Lines real proxies wrote, collected from public sources
/// (`fixtures/logs/<fmt>/real/SOURCES.md`): each file detected as its
/// format, every 5xx with the cause the vendor's documentation gives its
/// signals, and no line lost (requests + malformed + events = lines).
#[test]
fn public_samples_of_every_hop() {
    // (file, format, (line, cause) of each 5xx)
    type Case<'a> = (&'a str, &'a str, &'a [(u64, &'a str)]);
    let cases: &[Case] = &[
        (
            "fixtures/logs/haproxy/real/public_httplog.log",
            "haproxy",
            &[
                (6, "no_live_upstream"),
                (7, "no_live_upstream"),
                (8, "no_live_upstream"),
            ],
        ),
        (
            "fixtures/logs/envoy/real/istio_default.log",
            "envoy",
            &[
                (1, "upstream_closed_early"),
                (2, "upstream_closed_early"),
                // `UF,URX` `{connection_failure}` and no transport failure
                // reason: refused or a connect timeout (was: upstream_refused)
                (3, "upstream_connect_failed"),
                (4, "tls"),
            ],
        ),
        (
            // Istio 1.3-1.8's layout; `TLS error: Secret is not supplied by
            // SDS` is a TLS failure (was: upstream_refused)
            "fixtures/logs/envoy/real/istio_1_6_mixer.log",
            "envoy",
            &[(1, "tls"), (2, "upstream_connect_failed"), (3, "tls")],
        ),
        (
            "fixtures/logs/envoy/real/json_camelcase.log",
            "envoy",
            &[(1, "upstream_connect_failed")],
        ),
        // Docker json-file (`/var/lib/docker/containers/<id>/<id>-json.log`):
        // an App Mesh Envoy line as published, and Istio's lines above in
        // moby's escaping
        (
            "fixtures/logs/envoy/real/docker_json_appmesh.log",
            "envoy",
            &[],
        ),
        (
            "fixtures/logs/envoy/real/docker_json_istio.log",
            "envoy",
            &[
                (1, "upstream_closed_early"),
                (2, "upstream_closed_early"),
                // `UF,URX` `{connection_failure}` and no transport failure
                // reason: refused or a connect timeout (was: upstream_refused)
                (3, "upstream_connect_failed"),
                (4, "tls"),
            ],
        ),
        (
            "fixtures/logs/alb/real/elastic_and_aws_docs.log",
            "alb",
            &[(4, "invalid_header")],
        ),
        (
            "fixtures/logs/cloudfront/real/elastic_integrations.log",
            "cloudfront",
            &[(4, "dns"), (5, "dns")],
        ),
        (
            // standard logging (v2), JSON output
            "fixtures/logs/cloudfront/real/v2_json.log",
            "cloudfront",
            &[(2, "dns")],
        ),
        (
            "fixtures/logs/cloudflare/real/elastic_integrations.log",
            "cloudflare",
            &[],
        ),
        (
            "fixtures/logs/gcp_lb/real/elastic_integrations.log",
            "gcp_lb",
            &[],
        ),
    ];
    for (path, format, want) in cases {
        let v = analyze_json(&[path]);
        assert_eq!(
            v["inputs"][0]["format"], *format,
            "{path}: {}",
            v["inputs"][0]["reason"]
        );
        let got = causes_by_line(path);
        let want: Vec<(u64, String)> = want.iter().map(|(l, c)| (*l, c.to_string())).collect();
        assert_eq!(got, want, "{path}");
        let h = &v["hops"][0];
        let t = &h["totals"];
        let events: u64 = h["events"]
            .as_object()
            .map(|m| m.values().filter_map(|n| n.as_u64()).sum())
            .unwrap_or(0);
        let accounted = t["requests"].as_u64().unwrap()
            + t["malformed"].as_u64().unwrap()
            + events
            + h["skipped_lines"].as_u64().unwrap();
        let text = std::fs::read_to_string(path).unwrap();
        assert_eq!(accounted, t["lines"].as_u64().unwrap(), "{path}: {t}");
        assert_eq!(
            t["lines"].as_u64().unwrap(),
            text.lines().count() as u64,
            "{path}"
        );
    }
    // the one HAProxy line that is no request HAProxy's formats write is
    // named with its line, not passed off as a notice
    let v = analyze_json(&["fixtures/logs/haproxy/real/public_httplog.log"]);
    let bad = v["malformed_samples"].as_array().unwrap();
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert_eq!(bad[0]["line"], 2);
}

/// One line per value the vendor documents for its failure signals, built
/// field by field from the vendor's tables (`fixtures/logs/<fmt>/
/// documented_values.log`, each noted in `real/SOURCES.md`): each 5xx gets
/// the cause the documentation gives the value, and a value the vendor has
/// not documented (yet) stays `unknown`.
#[test]
fn documented_values_of_every_hop() {
    type Case<'a> = (&'a str, &'a str, &'a [(u64, &'a str)]);
    let cases: &[Case] = &[
        (
            "fixtures/logs/gcp_lb/documented_values.log",
            "gcp_lb",
            &[
                (1, "passthrough"),
                // "includes timeouts during the connection phase"
                (2, "upstream_connect_failed"),
                (3, "no_live_upstream"),
                (4, "upstream_closed_early"),
                // the status is set by the software on the backend
                (5, "passthrough"),
                (6, "timeout"),
                (7, "invalid_header"),
                (8, "header_too_big"),
                (9, "tls"),
                (10, "tls"),
                (11, "tls"),
                // Cloud Armor deny(502): the policy answered (config_return);
                // IAP, a request loop, the load balancer's own config: made
                // there, no backend cause
                (12, "config_return"),
                (13, "unknown"),
                (14, "unknown"),
                (15, "unknown"),
                (16, "unknown"),
                // a cached backend response
                (19, "passthrough"),
                (20, "unknown"),
                (21, "upstream_refused"),
                (22, "no_live_upstream"),
                (23, "timeout"),
                (24, "tls"),
            ],
        ),
        (
            "fixtures/logs/cloudfront/documented_values.log",
            "cloudfront",
            &[
                (3, "upstream_refused"),
                (4, "timeout"),
                // "timed out while connecting to the origin, or reading"
                (5, "timeout"),
                (6, "timeout"),
                (7, "dns"),
                (8, "invalid_header"),
                (9, "header_too_big"),
                (10, "invalid_header"),
                (11, "invalid_header"),
                (12, "upstream_closed_early"),
                (13, "upstream_reset"),
                (14, "invalid_header"),
                // the viewer's side, an unnamed origin issue, a cached error
                (15, "unknown"),
                (16, "unknown"),
                (17, "unknown"),
                (18, "unknown"),
                // edge functions: made at the edge, not by the origin
                (19, "unknown"),
                (20, "unknown"),
                (21, "rate_limited"),
                (22, "unknown"),
                (23, "rate_limited"),
                (24, "unknown"),
                (25, "rate_limited"),
                (26, "rate_limited"),
                (27, "passthrough"),
                (28, "passthrough"),
                (29, "unknown"),
            ],
        ),
        (
            "fixtures/logs/alb/documented_values.log",
            "alb",
            &[
                (1, "passthrough"),
                // sent, no response start: the target closed it
                (2, "upstream_closed_early"),
                // -1 -1: not dispatched, or the target closed before the
                // idle timeout; refused/unreachable/TLS log the same
                (3, "unknown"),
                (4, "invalid_header"),
                (5, "no_live_upstream"),
                // a listener rule's fixed-response 503: the config answered
                (6, "config_return"),
                (7, "timeout"),
                (8, "invalid_header"),
                (9, "upstream_closed_early"),
                (10, "rate_limited"),
                (11, "timeout"),
                // authenticate, WAF, the load balancer's own 500/561
                (12, "unknown"),
                (13, "unknown"),
                (14, "unknown"),
                (15, "unknown"),
                (16, "unknown"),
                (17, "unknown"),
                (18, "unknown"),
            ],
        ),
        (
            "fixtures/logs/fastly/documented_values.log",
            "fastly",
            &[
                // "typically … a timeout" (Common 503 errors)
                (1, "timeout"),
                (2, "timeout"),
                (3, "timeout"),
                (4, "timeout"),
                (5, "upstream_refused"),
                (6, "no_live_upstream"),
                (7, "no_live_upstream"),
                (8, "no_live_upstream"),
                (9, "no_live_upstream"),
                (10, "tls"),
                (11, "tls"),
                (12, "rate_limited"),
                (13, "rate_limited"),
                (14, "passthrough"),
                (15, "passthrough"),
                (16, "passthrough"),
                // the service's own VCL made it; Fastly's error without a
                // known reason; a reason Fastly does not document
                (17, "unknown"),
                (18, "unknown"),
                (19, "unknown"),
            ],
        ),
        (
            "fixtures/logs/cloudflare/documented_values.log",
            "cloudflare",
            &[
                (1, "upstream_closed_early"),
                (2, "upstream_refused"),
                (3, "timeout"),
                (4, "upstream_refused"),
                (5, "timeout"),
                (6, "tls"),
                (7, "tls"),
                // Railgun; 530's 1xxx error is not logged
                (8, "unknown"),
                (9, "unknown"),
                (10, "passthrough"),
                (11, "passthrough"),
                // an origin behind another zone answered 522 itself
                (12, "passthrough"),
                // Cloudflare's own 502, a security rule (the zone's config
                // answered), a Worker's exception
                (13, "unknown"),
                (14, "config_return"),
                (15, "unknown"),
                (16, "passthrough"),
                (17, "unknown"),
            ],
        ),
    ];
    for (path, format, want) in cases {
        let v = analyze_json(&[path]);
        assert_eq!(v["inputs"][0]["format"], *format, "{path}");
        let want: Vec<(u64, String)> = want.iter().map(|(l, c)| (*l, c.to_string())).collect();
        assert_eq!(causes_by_line(path), want, "{path}");
        assert_eq!(v["hops"][0]["totals"]["malformed"], 0, "{path}");
    }
}

/// `gcloud logging read --format=json` (one pretty-printed array, as
/// gcloud's JsonPrinter writes it) is read entry by entry: each 5xx on the
/// line of its entry's `  {`, the same causes as the entries one per line.
#[test]
fn gcloud_pretty_json_array_is_read() {
    let path = "fixtures/logs/gcp_lb/gcloud_read_format_json.log";
    let v = analyze_json(&[path]);
    assert_eq!(v["inputs"][0]["format"], "gcp_lb", "{}", v["inputs"][0]);
    assert!(
        v["inputs"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("gcloud logging read"),
        "{}",
        v["inputs"][0]
    );
    let h = &v["hops"][0];
    assert_eq!(h["totals"]["requests"], 4, "{h}");
    assert_eq!(h["totals"]["malformed"], 0, "{h}");
    assert_eq!(
        causes_by_line(path),
        vec![
            (2, "upstream_closed_early".to_string()),
            (84, "no_live_upstream".to_string()),
            (125, "passthrough".to_string()),
        ]
    );
}

/// A gcloud array larger than one chunk (2 MiB): the entries the chunk
/// borders cut are joined and read whole, so the array reads exactly as
/// the same entries one per line.
#[test]
fn gcloud_pretty_json_array_across_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let (mut pretty, mut flat) = (String::from("[\n"), String::new());
    for i in 0..8000u32 {
        let (status, details) = match i % 7 {
            0 => (502, "backend_timeout"),
            3 => (503, "failed_to_pick_backend"),
            5 => (502, "response_sent_by_backend"),
            _ => (200, "response_sent_by_backend"),
        };
        let e = serde_json::json!({
            "httpRequest": {"requestMethod": "GET", "requestUrl": format!("https://www.example.com/v/{i}"),
                "status": status, "latency": "0.050s", "serverIp": "10.128.0.12", "userAgent": "curl/8.4.0"},
            "insertId": format!("id{i}"),
            "jsonPayload": {"@type": "type.googleapis.com/google.cloud.loadbalancing.type.LoadBalancerLogEntry",
                "statusDetails": details},
            "resource": {"type": "http_load_balancer", "labels": {"backend_service_name": "web-backend",
                "forwarding_rule_name": "web-rule", "project_id": "my-project", "url_map_name": "web-map"}},
            "timestamp": format!("2024-03-12T08:{:02}:{:02}Z", (i / 60) % 60, i % 60),
            "trace": format!("projects/my-project/traces/{i:032x}")
        });
        if i > 0 {
            pretty.push_str(",\n");
        }
        let body: Vec<String> = serde_json::to_string_pretty(&e)
            .unwrap()
            .lines()
            .map(|l| format!("  {l}"))
            .collect();
        pretty.push_str(&body.join("\n"));
        flat.push_str(&serde_json::to_string(&e).unwrap());
        flat.push('\n');
    }
    pretty.push_str("\n]\n");
    assert!(pretty.len() > 5 << 20, "{}", pretty.len());
    let (a, b) = (dir.path().join("gcloud.json"), dir.path().join("sink.log"));
    std::fs::write(&a, &pretty).unwrap();
    std::fs::write(&b, &flat).unwrap();
    let va = analyze_json(&[a.to_str().unwrap()]);
    let vb = analyze_json(&[b.to_str().unwrap()]);
    assert_eq!(va["inputs"][0]["format"], "gcp_lb");
    assert_eq!(va["totals"], vb["totals"]);
    assert_eq!(va["totals"]["requests"], 8000);
    assert_eq!(va["totals"]["malformed"], 0);
    assert_eq!(va["verdict"], vb["verdict"]);
    let by_cause = |v: &serde_json::Value| -> Vec<(String, u64)> {
        v["causes_502"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["cause"].as_str().unwrap().to_string(),
                    c["count"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    assert_eq!(by_cause(&va), by_cause(&vb));
}

/// HAProxy's own lines as containerd stores them (`/var/log/pods/…`) and
/// in Docker's json-file, and Envoy's behind `kubectl logs --timestamps`,
/// are read as the bare lines are.
#[test]
fn hop_logs_in_container_packaging() {
    let dir = tempfile::tempdir().unwrap();
    let raw = std::fs::read_to_string("fixtures/logs/haproxy/real/stdout.log").unwrap();
    let cri: String = raw
        .lines()
        .map(|l| format!("2026-11-28T08:50:52.413456789Z stdout F {l}\n"))
        .collect();
    let cri_path = dir.path().join("haproxy-0_default_haproxy-1.log");
    std::fs::write(&cri_path, cri).unwrap();
    let plain = analyze_json(&["fixtures/logs/haproxy/real/stdout.log"]);
    let v = analyze_json(&[cri_path.to_str().unwrap()]);
    assert_eq!(v["inputs"][0]["format"], "haproxy");
    assert_eq!(v["totals"]["requests"], plain["totals"]["requests"]);
    assert_eq!(causes(&v["causes_502"]), causes(&plain["causes_502"]));
    assert!(!causes(&v["causes_502"]).is_empty());
    let docker: String = raw
        .lines()
        .map(|l| {
            let log = serde_json::to_string(&format!("{l}\n")).unwrap();
            format!("{{\"log\":{log},\"stream\":\"stdout\",\"time\":\"2026-11-28T08:50:52.4Z\"}}\n")
        })
        .collect();
    // `kubectl logs --timestamps` of an Istio sidecar: the same causes, line by line
    let envoy = "fixtures/logs/envoy/real/istio_default.log";
    let stamped: String = std::fs::read_to_string(envoy)
        .unwrap()
        .lines()
        .map(|l| format!("2026-11-28T08:50:52.413456789Z {l}\n"))
        .collect();
    let stamped_path = dir.path().join("istio-proxy.log");
    std::fs::write(&stamped_path, stamped).unwrap();
    assert_eq!(
        causes_by_line(stamped_path.to_str().unwrap()),
        causes_by_line(envoy)
    );
    let docker_path = dir.path().join("container-json.log");
    std::fs::write(&docker_path, docker).unwrap();
    let (_, out) = formats(&[docker_path.to_str().unwrap()]);
    assert!(out.contains("Docker json-file"), "{out}");
    let v = analyze_json(&[docker_path.to_str().unwrap()]);
    assert_eq!(v["inputs"][0]["format"], "haproxy");
    assert_eq!(v["totals"]["requests"], plain["totals"]["requests"]);
    assert_eq!(v["totals"]["malformed"], plain["totals"]["malformed"]);
    assert_eq!(causes(&v["causes_502"]), causes(&plain["causes_502"]));
}

/// A Docker json-file entry as moby writes it (`jsonfilelog.go`
/// `marshalMessage`; `jsonlogbytes.go`'s escaping: `<>&` and control bytes
/// as `\u00XX`).
fn docker_entry(log: &str) -> String {
    let mut s = String::from("{\"log\":\"");
    for c in log.chars() {
        match c {
            '"' | '\\' => {
                s.push('\\');
                s.push(c);
            }
            '\n' => s.push_str("\\n"),
            '\r' => s.push_str("\\r"),
            c if (c as u32) < 0x20 || "<>&".contains(c) => {
                s.push_str(&format!("\\u{:04x}", c as u32))
            }
            c => s.push(c),
        }
    }
    s.push_str("\",\"stream\":\"stdout\",\"time\":\"2026-11-28T08:50:52.413456789Z\"}");
    s
}

/// `lines` as Docker's json-file driver stores them, a line longer than
/// moby's 16 KiB copy buffer (`copier.go`, `bufSize`) cut into several
/// entries, the `\n` only on the last (`jsonfilelog.go`).
fn docker_file(lines: &[String]) -> String {
    let mut out = String::new();
    for l in lines {
        let mut rest = l.as_str();
        while rest.len() > 16 * 1024 {
            let (piece, more) = rest.split_at(16 * 1024);
            out.push_str(&docker_entry(piece));
            out.push('\n');
            rest = more;
        }
        out.push_str(&docker_entry(&format!("{rest}\n")));
        out.push('\n');
    }
    out
}

/// A line longer than 16 KiB, which Docker's json-file driver cuts into
/// entries, is read whole, on the line of its first piece: Envoy's (a
/// hop format) and nginx's access and error logs alike; every other line
/// keeps its number in the wrapped file.
#[test]
fn docker_json_file_lines_cut_at_16_kib_are_joined() {
    let dir = tempfile::tempdir().unwrap();
    let long_path = format!("/delay/75?q={}", "a".repeat(40_000));
    // Envoy: the first Istio line with a 40 KB query string, then the others
    let istio = std::fs::read_to_string("fixtures/logs/envoy/real/istio_default.log").unwrap();
    let mut lines: Vec<String> = istio.lines().map(str::to_string).collect();
    lines[0] = lines[0].replace("/delay/75", &long_path);
    let path = dir.path().join("envoy-json.log");
    std::fs::write(&path, docker_file(&lines)).unwrap();
    // three entries for the first line: 1-3, then 4, 5, 6
    let got = causes_by_line(path.to_str().unwrap());
    let want: Vec<(u64, String)> = causes_by_line("fixtures/logs/envoy/real/istio_default.log")
        .into_iter()
        .map(|(l, c)| (if l == 1 { 1 } else { l + 2 }, c))
        .collect();
    assert_eq!(got, want);
    let v = analyze_json(&[path.to_str().unwrap()]);
    assert_eq!(v["inputs"][0]["format"], "envoy");
    assert_eq!(
        v["hops"][0]["totals"]["lines"], 4,
        "{}",
        v["hops"][0]["totals"]
    );
    assert_eq!(v["hops"][0]["totals"]["malformed"], 0);
    // nginx: a long 502 access line and its error-log line, interleaved in
    // one container log (stdout and stderr), as the real capture has them
    let (plain, lines, at) = kubectl_with_a_long_line();
    let path = dir.path().join("nginx-json.log");
    std::fs::write(&path, docker_file(&lines)).unwrap();
    let v = analyze_json(&[path.to_str().unwrap()]);
    assert_eq!(v["totals"]["malformed"], 0, "{}", v["totals"]);
    assert_eq!(v["totals"]["requests"], plain["totals"]["requests"]);
    assert_eq!(v["causes"], plain["causes"]);
    // the lines after the cut one are one further down (its two pieces)
    let refused = v["causes_502"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["cause"] == "upstream_refused")
        .expect("refused");
    let plain_refused = plain["causes_502"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["cause"] == "upstream_refused")
        .expect("refused");
    let line = |r: &serde_json::Value| r["example"]["line"].as_u64().unwrap();
    assert_eq!(line(plain_refused), at as u64 + 1);
    assert_eq!(line(refused), at as u64 + 1, "{refused}");
    // the error-log lines after it, one further down (its two pieces)
    let errors_after = |v: &serde_json::Value| -> Vec<String> {
        v["causes_502"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|r| r["example"]["evidence"].as_array().unwrap().clone())
            .filter_map(|e| e.as_str().map(str::to_string))
            .filter(|e| e.contains(".log:"))
            .map(|e| e.split(".log:").nth(1).unwrap().to_string())
            .collect()
    };
    let shifted: Vec<String> = errors_after(&plain)
        .iter()
        .map(|e| {
            let (n, rest) = e.split_once(':').unwrap();
            let n: usize = n.parse().unwrap();
            let n = if n > at + 1 { n + 1 } else { n };
            format!("{n}:{rest}")
        })
        .collect();
    assert_ne!(
        shifted,
        errors_after(&plain),
        "no error line after the cut one"
    );
    assert_eq!(errors_after(&v), shifted);
}

/// CloudFront real-time log records (Kinesis: tab-separated, no header, the
/// fields in the order of the real-time log configuration) are not read,
/// and `formats` says why rather than guessing the columns; a v2 W3C file
/// with a space as its field delimiter is read by its `#Fields:` header.
#[test]
fn cloudfront_real_time_said_and_v2_w3c_read() {
    let (dir, rt) = temp_file(
        "realtime.log",
        "1607733474.226\t192.0.2.1\t0.002\t502\t2390\tGET\thttps\td111111abcdef8.cloudfront.net\t/\n\
         1607733475.012\t192.0.2.2\t0.001\t200\t1000\tGET\thttps\td111111abcdef8.cloudfront.net\t/a\n",
    );
    let (code, out) = formats(&[rt.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("real-time log records"), "{out}");
    // the legacy fixture with spaces for tabs, as a W3C delivery may write it
    let legacy = std::fs::read_to_string("fixtures/logs/cloudfront/aws_doc_example.log").unwrap();
    let w3c = dir.path().join("w3c.log");
    std::fs::write(&w3c, legacy.replace('\t', " ")).unwrap();
    let plain = analyze_json(&["fixtures/logs/cloudfront/aws_doc_example.log"]);
    let v = analyze_json(&[w3c.to_str().unwrap()]);
    assert_eq!(v["inputs"][0]["format"], "cloudfront");
    assert!(
        v["inputs"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("space-separated"),
        "{}",
        v["inputs"][0]["reason"]
    );
    assert_eq!(v["totals"], plain["totals"]);
    assert_eq!(causes(&v["causes_502"]), causes(&plain["causes_502"]));
}

/// `lines` as a CRI runtime stores them (`/var/log/pods`), a line longer
/// than 16 KiB cut into `P` pieces, the last one `F` (containerd's
/// `max_container_log_line_size`).
fn cri_file(lines: &[String]) -> String {
    let mut out = String::new();
    for l in lines {
        let mut rest = l.as_str();
        while rest.len() > 16 * 1024 {
            let (piece, more) = rest.split_at(16 * 1024);
            out.push_str(&format!(
                "2026-11-28T08:50:52.413456789Z stdout P {piece}\n"
            ));
            rest = more;
        }
        out.push_str(&format!("2026-11-28T08:50:52.413456789Z stdout F {rest}\n"));
    }
    out
}

/// The kubelet's CRI files: a line the runtime cut at 16 KiB (`P` pieces)
/// is read whole on its first piece's line, Envoy's and nginx's alike.
#[test]
fn cri_partial_lines_are_joined() {
    let dir = tempfile::tempdir().unwrap();
    let istio = std::fs::read_to_string("fixtures/logs/envoy/real/istio_default.log").unwrap();
    let mut lines: Vec<String> = istio.lines().map(str::to_string).collect();
    lines[0] = lines[0].replace("/delay/75", &format!("/delay/75?q={}", "a".repeat(40_000)));
    let path = dir.path().join("istio-proxy-0.log");
    std::fs::write(&path, cri_file(&lines)).unwrap();
    let want: Vec<(u64, String)> = causes_by_line("fixtures/logs/envoy/real/istio_default.log")
        .into_iter()
        .map(|(l, c)| (if l == 1 { 1 } else { l + 2 }, c))
        .collect();
    assert_eq!(causes_by_line(path.to_str().unwrap()), want);
    let v = analyze_json(&[path.to_str().unwrap()]);
    assert_eq!(
        v["hops"][0]["totals"]["malformed"], 0,
        "{}",
        v["hops"][0]["totals"]
    );
    // nginx: access and error lines in one pod log, one access line cut
    let (plain, lines, _) = kubectl_with_a_long_line();
    let path = dir.path().join("nginx-0.log");
    std::fs::write(&path, cri_file(&lines)).unwrap();
    let v = analyze_json(&[path.to_str().unwrap()]);
    assert_eq!(v["totals"]["malformed"], 0, "{}", v["totals"]);
    assert_eq!(v["totals"]["requests"], plain["totals"]["requests"]);
    assert_eq!(v["causes"], plain["causes"]);
}

/// The real `kubectl.log` capture (nginx access and error lines of one pod)
/// and its report, with the `/refused` 502 access line given a 20,000-byte
/// user agent, so that a container runtime cuts it; and that line's index.
/// The request line must still match the error log's after the line is
/// joined again.
fn kubectl_with_a_long_line() -> (serde_json::Value, Vec<String>, usize) {
    let file = "fixtures/logs/nginx/real/formats/kubectl.log";
    let plain = analyze_json(&[file]);
    let mut lines: Vec<String> = std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    let at = lines
        .iter()
        .position(|l| l.contains("GET /refused HTTP") && l.contains("gatecheck-realnginx/1.0"))
        .expect("the /refused access line");
    lines[at] = lines[at].replace(
        "gatecheck-realnginx/1.0",
        &format!("gatecheck-realnginx/1.0 {}", "b".repeat(20_000)),
    );
    (plain, lines, at)
}

/// More server-down lines than are shown (20), the failing backend's own
/// after them: its `<NOSRV>` 503 still cites it (the first line of each
/// backend is kept too, up to 64 lines); past that it does not claim the
/// logs hold none of its lines, it says how many were looked at.
#[test]
fn no_live_upstream_evidence_finds_its_backends_down_line_after_many_others() {
    let dir = tempfile::tempdir().unwrap();
    let down = |backend: &str| {
        format!("Server {backend}/s1 is DOWN, reason: Layer4 connection problem, info: \"Connection refused\", check duration: 0ms. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.\n")
    };
    for (others, distinct, found) in [(25, false, true), (70, true, false)] {
        let log = dir.path().join(format!("haproxy-{others}.log"));
        let mut text = String::new();
        for i in 0..others {
            let b = if distinct {
                format!("be_{i}")
            } else {
                "be_other".to_string()
            };
            text.push_str(&down(&b));
        }
        text.push_str(&down("be_x"));
        for i in 0..3 {
            text.push_str(&format!(
                "127.0.0.1:4{i}000 [29/Nov/2026:04:29:22.19{i}] fe be_x/<NOSRV> 0/-1/-1/-1/0 503 217 - - SC-- 1/1/0/0/0 0/0 \"GET /x/{i} HTTP/1.1\"\n"
            ));
        }
        std::fs::write(&log, text).unwrap();
        // the first lines hold no request to detect the format by
        let v = crate::support::cli::analyze_json_paths(&[&log], &["--format-of", "*.log=haproxy"]);
        let row = v["hops"][0]["causes_other_5xx"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["cause"] == "no_live_upstream"))
            .unwrap_or_else(|| panic!("no no_live_upstream: {v}"));
        let ev = row["example"]["evidence"].to_string();
        assert_eq!(
            ev.contains("Server be_x/s1 is DOWN"),
            found,
            "{others}: {ev}"
        );
        if !found {
            let all = others + 1;
            assert!(
                ev.contains(&format!("none of the 64 `Server … is DOWN` / `has no server available` lines kept (of {all} in the logs")),
                "{ev}"
            );
            assert!(
                !ev.contains("line of this backend in the logs given"),
                "{ev}"
            );
        }
    }
}

/// A server that flapped: its `<NOSRV>` 503 cites the DOWN lines just
/// before it (the last one with its reason), not the first ones of the log.
#[test]
fn no_live_upstream_cites_the_down_lines_just_before_it() {
    let flap = concat!(
        "Server be_x/s1 is DOWN, reason: Layer4 connection problem, info: \"Connection refused\", check duration: 0ms. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.\n",
        "Server be_x/s1 is UP, reason: Layer4 check passed, check duration: 0ms. 1 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.\n",
    );
    let text = flap.repeat(4)
        + "Server be_x/s1 is DOWN, reason: Layer7 wrong status, code: 500, info: \"Internal Server Error\", check duration: 1ms. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.\n"
        + "127.0.0.1:40000 [29/Nov/2026:04:29:22.190] fe be_x/<NOSRV> 0/-1/-1/-1/0 503 217 - - SC-- 1/1/0/0/0 0/0 \"GET /x HTTP/1.1\"\n";
    let (_dir, log) = temp_file("haproxy.log", text);
    let v = crate::support::cli::analyze_json_paths(&[&log], &["--format-of", "*.log=haproxy"]);
    let row = v["hops"][0]["causes_other_5xx"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["cause"] == "no_live_upstream"))
        .unwrap_or_else(|| panic!("no no_live_upstream: {v}"));
    let ev = row["example"]["evidence"].to_string();
    assert!(
        ev.contains("haproxy.log:9: Server be_x/s1 is DOWN, reason: Layer7 wrong status"),
        "{ev}"
    );
    assert!(!ev.contains("haproxy.log:1: "), "{ev}");
}
