//! `gatecheck analyze` end to end on the Envoy, CDN and load-balancer
//! fixtures, all formats mixed in one run: each file detected as its
//! format, every hop's 502s counted as a naive count of the same files
//! says, and the CloudFront file without `#Fields:` reported with why.

use std::process::Command;

use crate::support::cli::{analyze_json, formats};

const DIRS: &[&str] = &[
    "fixtures/logs/envoy",
    "fixtures/logs/cloudfront",
    "fixtures/logs/alb",
    "fixtures/logs/cloudflare",
    "fixtures/logs/fastly",
    "fixtures/logs/gcp_lb",
];

/// The files of a fixture directory and of its `real/` (public samples).
fn files(dir: &str) -> Vec<std::path::PathBuf> {
    let mut v = Vec::new();
    for d in [dir.to_string(), format!("{dir}/real")] {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        v.extend(entries.map(|e| e.unwrap().path()).filter(|p| p.is_file()));
    }
    v
}

/// 502s in a fixture directory, counted naively per format.
fn naive_502(dir: &str) -> u64 {
    let mut n = 0;
    for p in files(dir) {
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
                "cloudfront" => {
                    (l.split('\t').any(|f| f == "502") && !l.starts_with('#'))
                        // standard logging v2, JSON output
                        || l.contains("\"sc-status\":\"502\"")
                        || l.contains("\"sc-status\":502")
                }
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
                        // gcloud's pretty-printed JSON array
                        || l.trim() == "\"status\": 502,"
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
        // a `.format` file, and the `real/SOURCES.md` notes on where the
        // public samples came from: not logs
        if file.ends_with(".format") || file.ends_with(".md") {
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

fn hop_causes(h: &serde_json::Value, key: &str) -> Vec<String> {
    h[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| format!("{}={}", r["cause"].as_str().unwrap(), r["count"]))
        .collect()
}

/// The Envoy logs of a dump are read with the `access_log` formats of the
/// Envoy config beside them (text_format_source and json_format), and
/// `gatecheck formats` says which line of the config each came from.
#[test]
fn envoy_formats_from_the_config_in_the_dump() {
    let dir = "fixtures/logs/envoy_config";
    let files: Vec<String> = ["envoy.yaml", "access.log", "stdout.log"]
        .iter()
        .map(|f| format!("{dir}/{f}"))
        .collect();
    let files: Vec<&str> = files.iter().map(String::as_str).collect();
    let (code, out) = formats(&files);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("access.log: envoy log")
            && out.contains("format from fixtures/logs/envoy_config/envoy.yaml:22"),
        "{out}"
    );
    assert!(
        out.contains("format from fixtures/logs/envoy_config/envoy.yaml:27"),
        "{out}"
    );
    assert!(out.contains("envoy.yaml: envoy config"), "{out}");
    assert!(out.contains("2 access_log formats tried first"), "{out}");
    let v = analyze_json(&files);
    let h = v["hops"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["name"] == "envoy")
        .unwrap();
    assert_eq!(h["totals"]["requests"], 10);
    assert_eq!(h["totals"]["malformed"], 0, "{}", h["malformed_samples"]);
    assert_eq!(h["totals"]["status_502"], 3);
    let c502 = hop_causes(h, "causes_502");
    assert!(c502.contains(&"passthrough=1".to_string()), "{c502:?}");
    assert!(c502.contains(&"invalid_header=2".to_string()), "{c502:?}");
    assert_eq!(hop_causes(h, "causes_504"), vec!["timeout=2"]);
    // the strftime START_TIME and the epoch one both give the time
    let (first, last) = (v["first_request"].as_str(), v["last_request"].as_str());
    assert!(
        first.unwrap().starts_with("2024-03-12T08:10:00"),
        "{first:?}"
    );
    assert!(last.unwrap().starts_with("2024-03-12T08:10:05"), "{last:?}");
}

/// `--log-format envoy=…` reads a custom layout detection does not know,
/// `--config envoy.yaml` does the same from outside the dump, and the nginx
/// form of `--log-format` keeps working beside it.
#[test]
fn envoy_log_format_and_config_flags() {
    let fmt = std::fs::read_to_string("fixtures/logs/envoy/custom_long_flags.format").unwrap();
    let given = format!("envoy={}", fmt.trim_end());
    let v = analyze_json(&[
        "fixtures/logs/envoy/custom_long_flags.log",
        "--log-format",
        &given,
    ]);
    assert_eq!(v["inputs"][0]["kind"], "envoy_access", "{}", v["inputs"]);
    assert!(v["inputs"][0]["reason"]
        .as_str()
        .unwrap()
        .starts_with("format from --log-format"));
    let h = &v["hops"][0];
    assert_eq!(h["totals"]["requests"], 3);
    assert_eq!(h["totals"]["status_504"], 1);
    // the config given with --config, the logs elsewhere
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("a.log");
    std::fs::copy("fixtures/logs/envoy_config/access.log", &log).unwrap();
    let (code, out) = formats(&[
        log.to_str().unwrap(),
        "--config",
        "fixtures/logs/envoy_config/envoy.yaml",
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("format from fixtures/logs/envoy_config/envoy.yaml:22"),
        "{out}"
    );
    // an Envoy config is not read as nginx's
    assert!(!out.contains("error: config"), "{out}");
    // without it, the layout is unknown
    let (code, _) = formats(&[log.to_str().unwrap()]);
    assert_eq!(code, 1);
    // a format that fits nothing is an error, and a bad one is refused up front
    for (f, want) in [
        ("envoy=%RESPONSE_CODE% %BYTES_SENT% nothing", "fits no line"),
        ("envoy=%DURATION%", "RESPONSE_CODE"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_gatecheck"))
            .args([
                "analyze",
                "fixtures/logs/envoy/custom_long_flags.log",
                "--no-progress",
            ])
            .args(["--log-format", f])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{f}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(want), "{f}: {err}");
    }
    // nginx's form beside an envoy one, each reading its own file
    let ngx = tmp.path().join("nginx.log");
    std::fs::write(
        &ngx,
        "10.0.0.1 [12/Mar/2024:08:00:00 +0000] \"GET /a HTTP/1.1\" 502\n",
    )
    .unwrap();
    let v = analyze_json(&[
        "fixtures/logs/envoy/custom_long_flags.log",
        ngx.to_str().unwrap(),
        "--log-format",
        &given,
        "--log-format",
        "$remote_addr [$time_local] \"$request\" $status",
    ]);
    let kinds: Vec<&str> = v["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["envoy_access", "nginx_access"], "{}", v["inputs"]);
    // two nginx formats are refused: which would be which?
    let out = Command::new(env!("CARGO_BIN_EXE_gatecheck"))
        .args([
            "analyze",
            ngx.to_str().unwrap(),
            "--log-format",
            "$status",
            "--log-format",
            "nginx=$status x",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("given twice"));
}
