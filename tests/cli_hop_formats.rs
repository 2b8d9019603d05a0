//! `gatecheck analyze` end to end on the Envoy, CDN and load-balancer
//! fixtures, all formats mixed in one run: each file detected as its
//! format, every hop's 502s counted as a naive count of the same files
//! says, and the CloudFront file without `#Fields:` reported with why.

use std::process::Command;

fn analyze_json(args: &[&str]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_gatecheck"))
        .arg("analyze")
        .args(args)
        .args(["--format", "json", "--no-progress"])
        .output()
        .expect("run gatecheck");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

const DIRS: &[&str] = &[
    "fixtures/logs/envoy",
    "fixtures/logs/cloudfront",
    "fixtures/logs/alb",
    "fixtures/logs/cloudflare",
    "fixtures/logs/fastly",
    "fixtures/logs/gcp_lb",
];

/// 502s in a fixture directory, counted naively per format.
fn naive_502(dir: &str) -> u64 {
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_none_or(|x| x != "log")
            || p.ends_with("fields_line_cut.log")
            || p.ends_with("custom_long_flags.log")
        {
            continue;
        }
        let text = String::from_utf8_lossy(&std::fs::read(&p).unwrap()).into_owned();
        n += text
            .lines()
            .filter(|l| match dir.rsplit('/').next().unwrap() {
                "cloudfront" => l.split('\t').any(|f| f == "502") && !l.starts_with('#'),
                "alb" => l.split(' ').nth(8) == Some("502"),
                "envoy" => {
                    l.contains("\"response_code\":502")
                        || l.split('"')
                            .nth(2)
                            .and_then(|s| s.split_whitespace().next())
                            == Some("502")
                }
                _ => {
                    l.contains("Status\":502")
                        || l.contains("\"response_status\":502")
                        || l.contains("\"status\":502")
                }
            })
            .count() as u64;
    }
    n
}

#[test]
fn every_hop_format_end_to_end() {
    let v = analyze_json(DIRS);
    let inputs = v["inputs"].as_array().unwrap();
    for i in inputs {
        let file = i["file"]
            .as_str()
            .or(i["path"].as_str())
            .unwrap_or_default()
            .to_string();
        let kind = i["kind"].as_str().unwrap();
        if file.ends_with("fields_line_cut.log") {
            assert_eq!(kind, "unknown", "{i}");
            assert!(i["reason"].as_str().unwrap().contains("no #Fields"), "{i}");
            continue;
        }
        if file.ends_with(".format") {
            continue;
        }
        if file.ends_with("custom_long_flags.log") {
            // a custom Envoy format: read only when its format is given
            // (logs::envoy::compile); detection says what it tried
            assert_eq!(kind, "unknown", "{i}");
            assert!(i["reason"].as_str().unwrap().contains("envoy"), "{i}");
            continue;
        }
        let fmt = DIRS
            .iter()
            .map(|d| d.rsplit('/').next().unwrap())
            .find(|f| file.contains(&format!("/{f}/")))
            .unwrap_or_else(|| panic!("{file}"));
        assert_eq!(kind, format!("{fmt}_access"), "{i}");
    }
    let hops = v["hops"].as_array().unwrap();
    for dir in DIRS {
        let name = dir.rsplit('/').next().unwrap();
        let h = hops
            .iter()
            .find(|h| h["name"] == name)
            .unwrap_or_else(|| panic!("no hop {name}: {hops:?}"));
        assert_eq!(h["totals"]["status_502"], naive_502(dir), "{name}");
        assert_eq!(
            h["totals"]["malformed"], 0,
            "{name}: {}",
            h["malformed_samples"]
        );
    }
}
