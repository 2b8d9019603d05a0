//! Bad input per hop format, end to end (issue 7, "Done when"): truncated
//! lines, JSON lines with missing or extra keys, a syslog file with other
//! programs' lines in it, a CloudFront file whose `#Fields:` line was cut,
//! and all of them mixed in one directory. Each bad line is counted and
//! shown with its file:line, every good line is still read (the counts
//! equal those of the clean file, times the copies), and nothing panics.
//!
//! The submodules are the adversarial pass over what is not a log line:
//! inputs that are not plain files, outputs that cannot be written, options
//! with bad values, and the `--help` examples.

mod help;
mod inputs;
mod outputs;

use std::path::Path;
use std::process::Command;

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_gatecheck"))
        .arg("analyze")
        .args(args)
        .arg("--no-progress")
        .output()
        .expect("run gatecheck");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json(args: &[&str]) -> serde_json::Value {
    let mut a = args.to_vec();
    a.extend(["--format", "json"]);
    let (code, out, err) = run(&a);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).expect("json")
}

fn hop<'v>(v: &'v serde_json::Value, name: &str) -> &'v serde_json::Value {
    v["hops"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["name"] == name)
        .unwrap_or_else(|| panic!("no hop {name}: {}", v["hops"]))
}

/// One case: a clean fixture, copied `copies` times (its `#` header lines
/// once), then `bad` lines appended; `malformed` of them must be counted
/// as malformed (the others are lines the format reads despite the defect,
/// such as extra JSON keys).
struct Case {
    hop: &'static str,
    fixture: &'static str,
    copies: usize,
    bad: &'static [&'static str],
    /// Indexes into `bad` of the lines that must be reported as malformed.
    malformed: &'static [usize],
}

const CASES: &[Case] = &[
    Case {
        hop: "envoy",
        fixture: "fixtures/logs/envoy/default_5xx_kinds.log",
        copies: 4,
        bad: &[
            // cut short in the request line, then in the middle of the counters
            r#"[2024-03-12T08:10:00.120Z] "GET /api/or"#,
            r#"[2024-03-12T08:10:01.000Z] "POST /api/pay HTTP/1.1" 502 UPE 512 8"#,
        ],
        malformed: &[0, 1],
    },
    Case {
        hop: "envoy",
        fixture: "fixtures/logs/envoy/istio_json.log",
        copies: 6,
        bad: &[
            // extra keys: read
            r#"{"start_time":"2024-03-12T08:12:00.000Z","response_code":502,"response_flags":"UC","extra":"x","more":{"a":1}}"#,
            // the status key missing: not a request that can be counted
            r#"{"start_time":"2024-03-12T08:12:01.000Z","response_flags":"UF","duration":3}"#,
            // cut short
            r#"{"start_time":"2024-03-12T08:12:02.000Z","response_code":503,"resp"#,
        ],
        malformed: &[1, 2],
    },
    Case {
        hop: "cloudflare",
        fixture: "fixtures/logs/cloudflare/examples.log",
        copies: 5,
        bad: &[
            r#"{"EdgeStartTimestamp":1710230500,"EdgeResponseStatus":502,"OriginResponseStatus":502,"RayID":"8633b2f5be6a9999","SomeNewField":true}"#,
            r#"{"EdgeStartTimestamp":1710230501,"OriginResponseStatus":0,"RayID":"8633b2f5be6a9998"}"#,
            r#"{"EdgeStartTimestamp":1710230502,"EdgeResponseStatus":52"#,
        ],
        malformed: &[1, 2],
    },
    Case {
        hop: "fastly",
        fixture: "fixtures/logs/fastly/examples.log",
        copies: 6,
        bad: &[
            r#"{"timestamp":"2024-03-12T08:00:09+0000","host":"a.example.com","url":"/x","request_method":"GET","response_state":"PASS","response_status":502,"backend_status":502,"new_key":[1,2]}"#,
            r#"{"timestamp":"2024-03-12T08:00:10+0000","host":"a.example.com","url":"/y","request_method":"GET","response_state":"ERROR"}"#,
            r#"{"timestamp":"2024-03-12T08:00:11+0000","host":"a.exa"#,
        ],
        malformed: &[1, 2],
    },
    Case {
        hop: "gcp_lb",
        fixture: "fixtures/logs/gcp_lb/examples.log",
        copies: 5,
        bad: &[
            r#"{"jsonPayload":{"statusDetails":"response_sent_by_backend","extra":1},"httpRequest":{"requestMethod":"GET","requestUrl":"https://a.example.com/x","status":502,"latency":"0.1s","newField":"y"},"timestamp":"2024-03-12T08:00:09Z","labels":{"a":"b"}}"#,
            // no httpRequest.status: Google omits it when no response was
            // sent (HttpRequest reference), so the request is still read
            r#"{"jsonPayload":{"statusDetails":"client_disconnected_before_any_response"},"httpRequest":{"requestMethod":"GET","requestUrl":"https://a.example.com/y"},"timestamp":"2024-03-12T08:00:10Z"}"#,
            // no httpRequest at all: not a request
            r#"{"jsonPayload":{"statusDetails":"failed_to_connect_to_backend"},"timestamp":"2024-03-12T08:00:11Z"}"#,
            r#"{"jsonPayload":{"statusDetails":"failed_to_con"#,
        ],
        malformed: &[2, 3],
    },
    Case {
        hop: "alb",
        fixture: "fixtures/logs/alb/aws_doc_examples.log",
        copies: 3,
        bad: &[
            r#"http 2024-03-12T08:10:01.000100Z app/my-loadbalancer/50dc6c495c0c9188 203.0.113.9:51545 10.0.1.21:8080 0.001 -1 -1 502 - 180 277 "POST http://api.exa"#,
        ],
        malformed: &[0],
    },
    Case {
        hop: "cloudfront",
        fixture: "fixtures/logs/cloudfront/aws_doc_example.log",
        copies: 3,
        bad: &["2019-12-13\t22:36:27\tSEA19-C1\t900\t192.0.2.200\tGET\td111111abcdef8.cloudfront.net\t/favicon.ico\t502\t-\tMozilla"],
        malformed: &[0],
    },
];

/// The file of a case: header lines once, the rest `copies` times, then the bad lines.
fn write_case(dir: &Path, i: usize, c: &Case) -> (String, usize) {
    let text = std::fs::read_to_string(c.fixture).unwrap();
    let (head, body): (Vec<&str>, Vec<&str>) = text.lines().partition(|l| l.starts_with('#'));
    let mut lines: Vec<String> = head.iter().map(|s| s.to_string()).collect();
    for _ in 0..c.copies {
        lines.extend(body.iter().map(|s| s.to_string()));
    }
    let before = lines.len();
    lines.extend(c.bad.iter().map(|s| s.to_string()));
    let name = format!(
        "{i}_{}",
        Path::new(c.fixture).file_name().unwrap().to_str().unwrap()
    );
    let path = dir.join(name);
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    (path.to_str().unwrap().to_string(), before)
}

#[test]
fn bad_lines_per_format_are_counted_with_file_line_and_nothing_else_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    for (i, c) in CASES.iter().enumerate() {
        let (path, before) = write_case(dir.path(), i, c);
        let clean = json(&[c.fixture]);
        let v = json(&[&path]);
        assert_eq!(
            v["inputs"][0]["kind"],
            format!("{}_access", c.hop),
            "{}",
            v["inputs"]
        );
        let (h, h0) = (hop(&v, c.hop), hop(&clean, c.hop));
        let read_anyway = (c.bad.len() - c.malformed.len()) as u64;
        let n = |h: &serde_json::Value, k: &str| h["totals"][k].as_u64().unwrap();
        assert_eq!(
            n(h, "requests"),
            n(h0, "requests") * c.copies as u64 + read_anyway,
            "{path}"
        );
        assert!(
            n(h, "status_502") >= n(h0, "status_502") * c.copies as u64,
            "{path}"
        );
        assert_eq!(
            n(h, "malformed"),
            c.malformed.len() as u64,
            "{path}: {}",
            h["malformed_samples"]
        );
        let lines: Vec<u64> = h["malformed_samples"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                assert_eq!(s["file"], path.as_str());
                assert!(!s["reason"].as_str().unwrap().is_empty());
                s["line"].as_u64().unwrap()
            })
            .collect();
        for &m in c.malformed {
            let want = (before + m + 1) as u64;
            assert!(
                lines.contains(&want),
                "{path}: line {want} not in {lines:?}"
            );
        }
        // the table shows them with file:line
        let (code, table, err) = run(&[&path]);
        assert_eq!(code, 0, "{err}");
        let first = c.malformed[0] + before + 1;
        assert!(table.contains(&format!("{path}:{first}: ")), "{table}");
    }
}

#[test]
fn mixed_formats_in_one_directory() {
    let dir = tempfile::tempdir().unwrap();
    let mut expect_malformed: std::collections::BTreeMap<&str, u64> = Default::default();
    for (i, c) in CASES.iter().enumerate() {
        write_case(dir.path(), i, c);
        *expect_malformed.entry(c.hop).or_default() += c.malformed.len() as u64;
    }
    // and the ones shipped as fixtures: HAProxy syslog (httplog and clf) with
    // other programs' lines, a CloudFront file whose #Fields line was cut
    for f in [
        "fixtures/logs/haproxy/syslog_mixed.log",
        "fixtures/logs/haproxy/clf/syslog_mixed.log",
        "fixtures/logs/cloudfront/fields_line_cut.log",
    ] {
        let to = dir.path().join(f.replace('/', "_"));
        std::fs::copy(f, to).unwrap();
    }
    // binary noise and an empty file
    std::fs::write(
        dir.path().join("noise.bin"),
        [0u8, 159, 146, 150, 255, 10, 13],
    )
    .unwrap();
    std::fs::write(dir.path().join("empty.log"), b"").unwrap();
    let d = dir.path().to_str().unwrap();
    let v = json(&[d]);
    for (name, want) in &expect_malformed {
        let h = hop(&v, name);
        assert_eq!(
            h["totals"]["malformed"], *want,
            "{name}: {}",
            h["malformed_samples"]
        );
    }
    // haproxy: each file's cut last line (httplog line 14, clf line 9)
    let h = hop(&v, "haproxy");
    assert_eq!(h["totals"]["malformed"], 2, "{}", h["malformed_samples"]);
    let samples: Vec<String> = h["malformed_samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| format!("{}:{}", s["file"].as_str().unwrap(), s["line"]))
        .collect();
    assert!(
        samples
            .iter()
            .any(|s| s.ends_with("haproxy_syslog_mixed.log:14")),
        "{samples:?}"
    );
    assert!(
        samples
            .iter()
            .any(|s| s.ends_with("clf_syslog_mixed.log:9")),
        "{samples:?}"
    );
    // the other programs' lines are skipped, not malformed (CRON in each)
    assert_eq!(h["skipped_lines"], 2);
    let inputs = v["inputs"].as_array().unwrap();
    let by_name = |n: &str| {
        inputs
            .iter()
            .find(|i| i["path"].as_str().unwrap_or_default().ends_with(n))
            .unwrap_or_else(|| panic!("{n}: {inputs:?}"))
    };
    let cut = by_name("fields_line_cut.log");
    assert_eq!(cut["kind"], "unknown");
    assert!(cut["reason"].as_str().unwrap().contains("#Fields"), "{cut}");
    assert_eq!(by_name("clf_syslog_mixed.log")["kind"], "haproxy_access");
    assert_eq!(by_name("noise.bin")["kind"], "unknown");
}
