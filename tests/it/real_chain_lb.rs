//! Two real hops as a load balancer fronts a web server: haproxy → nginx →
//! the fault-injecting upstream, with no request id anywhere (haproxy's
//! default `option httplog`, nginx's `combined`), so the hops are joined by
//! method + path + time. `gatecheck analyze` on the directory of logs, with
//! and without the two configs, must put haproxy in front — from the
//! addresses (haproxy's server is nginx's `listen`) when the configs are
//! there, from the 502s nginx made and haproxy passed on when they are not —
//! and say where each 502 was born: at nginx (a refused connection, the app
//! closing early), at haproxy (nginx's worker killed mid-request: `SH--`),
//! or upstream (the app's own 502 passed through both).
//!
//! Skipped when nginx or haproxy is missing, unless `GATECHECK_REQUIRE_PROXIES`
//! is set. `GATECHECK_CAPTURE_DIR=DIR` copies the dumps to `DIR/`.

use std::thread;
use std::time::Duration;

use serde_json::Value;

use crate::support::cli::analyze_json;
use crate::support::http::request;
use crate::support::lb_chain::{LbChain, Timeouts};

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
    // nginx's `location /refused/` proxies to a closed port
    Step {
        target: "/refused/x",
        status: 502,
        born: Some(("gateway", "nginx", "upstream_refused")),
    },
    Step {
        target: "/closed",
        status: 502,
        born: Some(("gateway", "nginx", "upstream_closed_early")),
    },
    Step {
        target: "/passthrough",
        status: 502,
        born: Some(("upstream", "app", "passthrough")),
    },
];

/// Sent while nginx's worker is killed: haproxy's own 502 (`SH--`, the
/// server closed before its response headers; nginx logs nothing).
const KILLED: Step = Step {
    target: "/slow/killed",
    status: 502,
    born: Some(("gateway", "haproxy", "upstream_closed_early")),
};

/// The 1-based line of `log` holding `"GET target HTTP/1.1"`.
fn line_of_request(log: &str, target: &str) -> usize {
    let needle = format!("\"GET {target} HTTP/1.1\"");
    log.lines()
        .position(|l| l.contains(&needle))
        .map(|i| i + 1)
        .unwrap_or_else(|| panic!("no {needle} in\n{log}"))
}

/// The chain that starts at haproxy's record of `target`.
fn chain_of(b: &Value, hap_line: usize) -> Option<&Value> {
    let at = format!("haproxy.log:{hap_line}");
    b["chains"].as_array()?.iter().find(|c| {
        c["chain"][0]["at"]
            .as_str()
            .is_some_and(|a| a.ends_with(&at))
    })
}

#[test]
fn haproxy_in_front_of_nginx_without_request_ids_with_and_without_configs() {
    let Some(mut chain) = LbChain::start(Timeouts {
        haproxy_server: "5s",
        nginx_read: "5s",
    }) else {
        return;
    };
    let hap = chain.hap_addr;
    for step in STEPS {
        assert_eq!(
            request(hap, "GET", step.target, b"").unwrap_or(0),
            step.status,
            "{}",
            step.target
        );
    }
    // the upstream holds /slow; nginx's worker dies while it waits
    let client = thread::spawn(move || request(hap, "GET", KILLED.target, b"").unwrap_or(0));
    thread::sleep(Duration::from_millis(300));
    chain.kill_nginx_worker();
    assert_eq!(client.join().unwrap(), KILLED.status);
    let (logs, full) = chain.dump();
    let (hap_log, access) = (chain.log("haproxy.log"), chain.log("access.log"));
    let dump_text = || {
        format!(
            "{hap_log}\n----\n{access}\n----\n{}",
            chain.log("error.log")
        )
    };
    assert!(
        hap_log.contains(" SH-- "),
        "haproxy did not log SH--\n{}",
        dump_text()
    );
    let ngx = chain.ngx_addr;
    for (dir, with_configs) in [(&full, true), (&logs, false)] {
        let v = analyze_json(&[dir.to_str().unwrap()]);
        let b = &v["born"];
        assert_eq!(
            b["order"],
            serde_json::json!(["haproxy", "nginx"]),
            "configs: {with_configs}\n{b}\n{}",
            dump_text()
        );
        let note = b["order_note"].as_str().unwrap_or_default();
        if with_configs {
            assert!(
                note.starts_with(&format!(
                    "hop order from evidence: haproxy before nginx (addresses: haproxy's server address {ngx} is nginx's listen {ngx} at "
                )),
                "{note}"
            );
        } else {
            // no config: nginx's own 502s, passed on by haproxy ("----", its
            // server's answer), tell the order
            assert!(
                note.starts_with("hop order from evidence: haproxy before nginx (pairing by method + path + time, no config or shared request id telling: 2 502s nginx made itself (upstream_closed_early, upstream_refused) are in haproxy's log as 502s its server sent"),
                "{note}"
            );
        }
        let mut n502 = 0;
        for step in STEPS.iter().chain(std::iter::once(&KILLED)) {
            let Some((born_at, hop, cause)) = step.born else {
                continue;
            };
            n502 += 1;
            let hl = line_of_request(&hap_log, step.target);
            let c = chain_of(b, hl)
                .unwrap_or_else(|| panic!("{}: no chain from haproxy.log:{hl}\n{b}", step.target));
            assert_eq!(
                (
                    c["born_at"].as_str(),
                    c["hop"].as_str(),
                    c["cause"].as_str()
                ),
                (Some(born_at), Some(hop), Some(cause)),
                "{} (configs: {with_configs}): {c}\n{}",
                step.target,
                dump_text()
            );
            if hop == "haproxy" {
                // nginx logged nothing: its worker died with the request
                assert_eq!(c["join"], "none", "{c}");
                assert_eq!(c["chain"][0]["cause"], cause, "{c}");
            } else {
                // haproxy passed on its server's 502: joined to nginx's record
                assert_eq!(c["join"], "time_window", "{c}");
                assert_eq!(c["chain"][0]["cause"], "passthrough", "{c}");
                assert_eq!(c["chain"][1]["hop"], "nginx", "{c}");
                let nl = line_of_request(&access, step.target);
                let at = c["chain"][1]["at"].as_str().unwrap_or_default();
                assert!(at.ends_with(&format!("access.log:{nl}")), "{c}");
            }
        }
        // each 502 counted once, at the hop that made it
        let total: u64 = b["totals"]
            .as_object()
            .unwrap()
            .values()
            .map(|c| c.as_u64().unwrap())
            .sum();
        assert_eq!(total, n502, "configs: {with_configs}\n{b}");
    }
    let _ = chain.dir();
}
