//! `gatecheck analyze`'s timeout ladder as a user runs it: `--hop-timeout`
//! parsing, and the ladder of a dump real nginx and haproxy wrote
//! (`fixtures/ladder_real/`, captured by `tests/it/real_ladder.rs`).

use std::process::Output;

use crate::support::cli::{analyze_json, gatecheck_width};

/// `gatecheck ARGS`, 160 columns wide.
fn gatecheck(args: &[&str]) -> Output {
    gatecheck_width(args, 160)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// 1-based line of the first line of `file` containing `needle`.
fn line_of(file: &str, needle: &str) -> usize {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} not in {file}"))
        + 1
}

#[test]
fn bad_hop_timeouts_exit_2_with_what_is_wrong() {
    for (arg, says) in [
        ("cdn=abc", "\"abc\" is not a duration"),
        ("cdn", "expected NAME=DURATION"),
        (
            "akamai=30s",
            "\"akamai\" is not a hop kind (known: cdn, cloudfront",
        ),
    ] {
        let o = gatecheck(&[
            "analyze",
            "fixtures/ladder_real",
            "--hop-timeout",
            arg,
            "--no-progress",
        ]);
        assert_eq!(o.status.code(), Some(2), "{arg}: {}", stderr(&o));
        let e = stderr(&o);
        assert!(e.contains(&format!("--hop-timeout \"{arg}\"")), "{e}");
        assert!(e.contains(says), "{arg}: {e}");
        assert!(o.stdout.is_empty(), "{arg}: a report was written");
    }
}

#[test]
fn the_ladder_of_real_nginx_in_front_of_real_haproxy() {
    let v = analyze_json(&["fixtures/ladder_real", "--hop-timeout", "cloudfront=30s"]);
    let l = &v["ladder"];
    let hops: Vec<&str> = l["rungs"]
        .as_array()
        .unwrap_or_else(|| panic!("no ladder: {l}"))
        .iter()
        .map(|r| r["hop"].as_str().unwrap())
        .collect();
    assert_eq!(hops, ["cloudfront", "nginx", "haproxy"], "{l}");
    let limit = |i: usize| &l["rungs"][i]["limits"][0];
    assert_eq!(limit(0)["source"], "from --hop-timeout");
    assert_eq!(limit(0)["read_ms"], 30_000);
    let ngx = format!(
        "nginx.conf:{}",
        line_of("fixtures/ladder_real/nginx.conf", "proxy_read_timeout 1s")
    );
    let hap = format!(
        "haproxy.cfg:{}",
        line_of("fixtures/ladder_real/haproxy.cfg", "timeout server 3s")
    );
    assert!(limit(1)["source"].as_str().unwrap().ends_with(&ngx), "{l}");
    assert_eq!(limit(1)["read_ms"], 1000);
    assert!(limit(2)["source"].as_str().unwrap().ends_with(&hap), "{l}");
    assert_eq!(limit(2)["wait_ms"], 3000);
    // the CDN waits long enough; nginx does not
    let f = l["findings"].as_array().unwrap();
    assert_eq!(f.len(), 1, "{l}");
    assert_eq!(
        (f[0]["outer"].as_str(), f[0]["inner"].as_str()),
        (Some("nginx"), Some("haproxy"))
    );
    let msg = f[0]["message"].as_str().unwrap();
    assert!(msg.contains(&ngx) && msg.contains(&hap), "{msg}");
    // linked by the port nginx's proxy_pass names and haproxy binds
    assert!(msg.contains("through port "), "{msg}");
    // nginx's 504s sit at its own 1s limit
    let at: Vec<(u64, u64, &str)> = l["rungs"][1]["placed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["status"].as_u64().unwrap(),
                p["limit_ms"].as_u64().unwrap(),
                p["rung"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(at.contains(&(504, 1000, "nginx")), "{at:?}");
    assert_eq!(l["rungs"][1]["placed"][0]["count"], 2, "{l}");

    // the same ladder in every output
    for (format, title) in [
        ("table", "Timeout ladder"),
        ("markdown", "## Timeout ladder"),
        ("html", "<h2>Timeout ladder</h2>"),
    ] {
        let o = gatecheck(&[
            "analyze",
            "fixtures/ladder_real",
            "--hop-timeout",
            "cloudfront=30s",
            "--format",
            format,
            "--no-progress",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(out.contains(title), "{format}: {out}");
        assert!(out.contains(&ngx) && out.contains(&hap), "{format}: {out}");
        assert!(out.contains("nginx gives up after 1s"), "{format}: {out}");
    }
}

#[test]
fn one_known_limit_is_said_not_drawn() {
    // the demo: nginx alone, plus a CDN limit → a ladder of two rungs
    let v = analyze_json(&["fixtures/incident", "--hop-timeout", "cdn=30s"]);
    assert_eq!(v["ladder"]["rungs"][0]["hop"], "cdn", "{}", v["ladder"]);
    // logs of nginx only, without its config: nothing to compare with
    let v = analyze_json(&["fixtures/incident/access.log", "--hop-timeout", "cdn=30s"]);
    assert!(v.get("ladder").is_none(), "{}", v["ladder"]);
    let notes = v["notes"].to_string();
    assert!(
        notes.contains("needs two hops with a known limit"),
        "{notes}"
    );
}
