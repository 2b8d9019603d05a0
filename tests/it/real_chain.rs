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

use crate::support::chain::{Chain, Timeouts};
use crate::support::cli::analyze_json;
use crate::support::http::request_with_id as request;

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
    let Some(mut chain) = Chain::start(Timeouts {
        haproxy_server: "1s",
        nginx_read: "5s",
    }) else {
        return;
    };
    let (ngx_addr, hap_addr) = (chain.ngx_addr, chain.hap_addr);
    let id = |i: usize| format!("c4a1e0b2-0000-4000-8000-{i:012x}");
    for (i, step) in STEPS.iter().enumerate() {
        assert_eq!(
            request(ngx_addr, step.target, &id(i)),
            step.status,
            "{}",
            step.target
        );
    }
    chain.hap.stop();
    let last = STEPS.len();
    assert_eq!(
        request(ngx_addr, AFTER_STOP.target, &id(last)),
        AFTER_STOP.status
    );
    let dump = chain.dump().to_path_buf();
    let v = analyze_json(&[dump.to_str().unwrap()]);
    let b = &v["born"];
    let dump_text = || chain.dump_text();
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
