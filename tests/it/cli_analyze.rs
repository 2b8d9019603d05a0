//! `gatecheck analyze` as a user runs it: output snapshots, exit codes, and
//! bad input that must be reported, never fatal.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output};

use crate::support::cli::{
    analyze_json, gatecheck, gatecheck_width, json, spawn_analyze_json, stdout,
};

#[test]
fn causes_fixture_table() {
    let o = gatecheck(&["analyze", "fixtures/logs/nginx/causes/", "--no-progress"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    insta::assert_snapshot!(stdout(&o));
}

#[test]
fn causes_fixture_events() {
    let o = gatecheck(&[
        "analyze",
        "fixtures/logs/nginx/causes/",
        "--format",
        "ndjson",
    ]);
    assert!(o.status.success());
    let by_path: Vec<(String, String)> = stdout(&o)
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("event JSON");
            (
                v["path"].as_str().unwrap().to_string(),
                v["cause"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expect = [
        ("/api/refused", "upstream_refused"),
        ("/api/closed", "upstream_closed_early"),
        ("/api/reset", "upstream_reset"),
        ("/api/big", "header_too_big"),
        ("/api/nolive", "no_live_upstream"),
        ("/api/pass", "passthrough"),
        ("/api/slow", "timeout"),
        ("/api/retry", "upstream_refused"),
        ("/api/tls", "tls"),
        ("/api/unknown", "unknown"),
    ];
    let expect: Vec<(String, String)> = expect
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(by_path, expect);
}

#[test]
fn json_schema_fields() {
    let v = analyze_json(&["fixtures/logs/nginx/causes/"]);
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["totals"]["status_502"], 8);
    assert_eq!(v["totals"]["status_504"], 1);
    assert_eq!(v["totals"]["rescued"], 1);
    assert_eq!(v["causes"]["upstream_refused"], 1);
    assert_eq!(v["causes"]["unknown"], 1);
    assert_eq!(v["causes_rescued"][0]["cause"], "upstream_refused");
    assert_eq!(v["top_upstreams"][0]["key"], "10.0.0.7:8080");
    // the error log's own summary, joined to requests or not
    assert_eq!(v["error_log_upstream_lines"], 8);
    assert_eq!(v["error_log_kinds"]["refused"], 2);
    assert_eq!(v["error_log_kinds"]["tls"], 1);
    assert_eq!(v["error_log_upstreams"][0]["key"], "10.0.0.7:8080");
}

#[test]
fn without_error_log_causes_are_honest() {
    let v = analyze_json(&["fixtures/logs/nginx/causes/access.log"]);
    // only what the fields prove: group name, header received, 504 without header
    assert_eq!(v["causes"]["no_live_upstream"], 1);
    assert_eq!(v["causes"]["passthrough"], 1);
    assert_eq!(v["causes"]["unknown"], 6);
    assert_eq!(v["causes_504"][0]["cause"], "timeout");
}

#[test]
fn since_until_filter() {
    let v = analyze_json(&[
        "fixtures/logs/nginx/causes/",
        "--since",
        "2026-11-20T13:04:00Z",
        "--until",
        "2026-11-20T14:04:16+01:00",
    ]);
    assert_eq!(v["totals"]["requests"], 3);
    assert_eq!(v["totals"]["filtered"], 8);
}

#[test]
fn exit_codes() {
    let o = gatecheck(&[
        "analyze",
        "fixtures/logs/nginx/causes/",
        "--fail-on-502",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let o = gatecheck(&["analyze", "no/such/file.log"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("no/such/file.log"), "{err}");
    let o = gatecheck(&[
        "analyze",
        "fixtures/logs/nginx/causes/",
        "--since",
        "yesterday",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--since"));
    let o = gatecheck(&["analyze", "x.log", "--log-format", "$remote_addr"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no $status"));
}

#[test]
fn custom_log_format() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.log");
    std::fs::write(
        &p,
        "2026-11-20T14:00:00+00:00|502|10.0.0.1:80|502|0.001|-\n2026-11-20T14:00:01+00:00|200|10.0.0.1:80|200|0.001|0.002\n",
    )
    .unwrap();
    let v = analyze_json(&[
        p.to_str().unwrap(),
        "--log-format",
        "$time_iso8601|$status|$upstream_addr|$upstream_status|$upstream_connect_time|$upstream_header_time",
    ]);
    assert_eq!(v["totals"]["requests"], 2);
    assert_eq!(v["totals"]["status_502"], 1);
    assert_eq!(v["inputs"][0]["format"], "--log-format");
}

fn write_gz(path: &Path, text: &str, truncate: bool) {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(text.as_bytes()).unwrap();
    let mut gz = enc.finish().unwrap();
    if truncate {
        gz.truncate(gz.len() * 2 / 3);
    }
    std::fs::write(path, gz).unwrap();
}

const GOOD: &str =
    r#"10.1.0.1 - - [20/Nov/2026:14:03:07 +0100] "GET /a HTTP/1.1" 502 157 "-" "curl/8.5.0""#;

#[test]
fn bad_input_is_reported_and_the_rest_is_analyzed() {
    let dir = tempfile::tempdir().unwrap();
    // CRLF endings, junk, a 1 MB line, non-UTF-8 bytes, between good lines
    let mut a = Vec::new();
    for _ in 0..10 {
        a.extend_from_slice(GOOD.as_bytes());
        a.extend_from_slice(b"\r\n");
    }
    a.extend_from_slice(b"\x00\x01\x02 binary junk \xff\xfe\n");
    a.extend_from_slice(&vec![b'x'; 1 << 20]);
    a.push(b'\n');
    a.extend_from_slice(b"10.1.0.1 - - [20/Nov/2026:14:03:07 +0100] \"GET /\xe9t\xe9 HTTP/1.1\" 502 1 \"-\" \"\xff\"\n");
    for _ in 0..5 {
        a.extend_from_slice(GOOD.as_bytes());
        a.push(b'\n');
    }
    std::fs::write(dir.path().join("access.log"), &a).unwrap();
    // a rotated log, gzip'd, named without .gz, cut short
    let many: String = (0..5000).map(|_| format!("{GOOD}\n")).collect();
    write_gz(&dir.path().join("access.log.1"), &many, true);
    // a whole gzip file
    write_gz(
        &dir.path().join("access.log.2.gz"),
        &format!("{GOOD}\n{GOOD}\n"),
        false,
    );

    let d = dir.path().to_str().unwrap();
    let missing = dir.path().join("gone.log");
    let o = gatecheck(&["analyze", d, missing.to_str().unwrap(), "--format", "json"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v = json(&o);
    let inputs = v["inputs"].as_array().unwrap();
    let plain = inputs
        .iter()
        .find(|i| i["path"].as_str().unwrap().ends_with("access.log"))
        .unwrap();
    assert_eq!(plain["malformed"], 2, "junk line and 1 MB line: {plain}");
    assert_eq!(plain["lines"], 18);
    let cut = inputs
        .iter()
        .find(|i| i["path"].as_str().unwrap().ends_with("access.log.1"))
        .unwrap();
    let got = cut["lines"].as_u64().unwrap();
    assert!(
        got > 1000 && got < 5000,
        "truncated gzip: lines before the cut are counted ({got})"
    );
    let problems = v["problems"].to_string();
    assert!(problems.contains("gzip data truncated after"), "{problems}");
    assert!(problems.contains("gone.log"), "{problems}");
    let samples = v["malformed_samples"].to_string();
    assert!(
        samples.contains("\"line\":11,"),
        "junk reported with its line number: {samples}"
    );
    assert!(samples.contains("1048576 bytes"), "{samples}");
    let cut_bad = cut["malformed"].as_u64().unwrap();
    assert!(
        cut_bad <= 1,
        "only the line cut by the truncation is malformed"
    );
    assert_eq!(
        v["totals"]["status_502"].as_u64().unwrap(),
        16 + got - cut_bad + 2
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("gone.log"), "{err}");
}

#[test]
fn stdin_and_unknown_files() {
    let mut child = spawn_analyze_json(["-"]);
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{GOOD}\n{GOOD}\n").as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(json(&o)["totals"]["status_502"], 2);

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "hello\nworld\n").unwrap();
    let o = gatecheck(&["analyze", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("notes.txt") && err.contains("--log-format"),
        "{err}"
    );
}

#[test]
fn config_gives_formats_and_directives() {
    // the config names the access log's format and explains causes with file:line
    let o = gatecheck(&[
        "analyze",
        "fixtures/logs/nginx/causes/access.log",
        "fixtures/logs/nginx/causes/error.log",
        "--config",
        "fixtures/logs/nginx/causes/etc/",
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v = json(&o);
    let access = &v["inputs"][0];
    assert_eq!(access["kind"], "nginx_access");
    assert_eq!(access["format"], "upstream_rich");
    assert!(
        access["reason"]
            .as_str()
            .unwrap()
            .contains("etc/nginx.conf:7: access_log /var/log/nginx/access.log upstream_rich"),
        "{access}"
    );
    // the settings in effect in `location /api/`, which served the requests
    let cited = |row: &serde_json::Value, directive: &str| -> serde_json::Value {
        row["settings"]
            .as_array()
            .unwrap_or_else(|| panic!("no settings: {row}"))
            .iter()
            .find(|s| s["directive"] == directive)
            .cloned()
            .unwrap_or_else(|| panic!("{directive} not cited: {row}"))
    };
    let rows = v["causes_504"].as_array().unwrap();
    let read = cited(&rows[0], "proxy_read_timeout");
    assert_eq!(read["value"], "60s", "{read}");
    assert_eq!(read["line"], 23, "{read}");
    assert!(
        read["file"].as_str().unwrap().ends_with("etc/nginx.conf"),
        "{read}"
    );
    assert_eq!(
        read["scope"], "server shop.example.com > location /api/",
        "{read}"
    );
    let note = read["note"].as_str().unwrap();
    assert!(
        note.starts_with("1 of 1 timed-out requests there took 60.0 s ± 0.5 s")
            && note.ends_with(
                "that is proxy_read_timeout 60s (fixtures/logs/nginx/causes/etc/nginx.conf:23)"
            ),
        "{note}"
    );
    assert_eq!(read["measured"]["tolerance_ms"], 500, "{read}");
    // unset: nginx's default, at the location that would hold it
    let connect = cited(&rows[0], "proxy_connect_timeout");
    assert_eq!(
        (&connect["value"], &connect["defaulted"], &connect["line"]),
        (
            &serde_json::json!("60s"),
            &serde_json::json!(true),
            &serde_json::json!(19)
        ),
        "{connect}"
    );
    // the connect time is logged: the connect timeout did not end it
    assert!(
        connect["note"]
            .as_str()
            .unwrap()
            .contains("they were connected"),
        "{connect}"
    );
    assert!(
        v["verdict"]
            .as_str()
            .unwrap()
            .ends_with("1 × 504 at proxy_read_timeout 60s"),
        "{}",
        v["verdict"]
    );
    let big = v["causes_502"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["cause"] == "header_too_big")
        .unwrap();
    let size = cited(big, "proxy_buffer_size");
    assert_eq!(
        (&size["value"], &size["line"]),
        (&serde_json::json!("4k"), &serde_json::json!(24)),
        "{size}"
    );
}

#[test]
fn glob_patterns_pick_files() {
    let o = gatecheck(&[
        "analyze",
        "fixtures/logs/nginx/causes/*.log",
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v = json(&o);
    let paths: Vec<&str> = v["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "fixtures/logs/nginx/causes/access.log",
            "fixtures/logs/nginx/causes/error.log"
        ]
    );
    let o = gatecheck(&["analyze", "fixtures/logs/nginx/causes/*.nope"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("*.nope"));
}

#[test]
fn msec_access_log_joins_error_log_with_error_log_tz() {
    // $msec is UTC; the error log is written in local time (+02:00 here)
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("access.log"),
        "1763640187.123 10.1.0.1 \"GET /api/x HTTP/1.1\" 502 us=502 ua=10.0.0.7:8080\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("error.log"),
        "2025/11/20 14:03:07 [error] 9#9: *3 connect() failed (111: Connection refused) while connecting to upstream, client: 10.1.0.1, server: _, request: \"GET /api/x HTTP/1.1\", upstream: \"http://10.0.0.7:8080/api/x\", host: \"h\"\r\n",
    )
    .unwrap();
    let d = dir.path().to_str().unwrap();
    let fmt = r#"$msec $remote_addr "$request" $status us=$upstream_status ua=$upstream_addr"#;
    let run = |extra: &[&str]| {
        let mut args = vec!["analyze", d, "--format", "json", "--log-format", fmt];
        args.extend_from_slice(extra);
        json(&gatecheck(&args))
    };
    let cause = |v: &serde_json::Value| v["causes_502"][0]["cause"].as_str().unwrap().to_string();
    // issue 6 item 4: the error line is two hours from the access line at
    // UTC; the offset that joins them is found and said
    let v = run(&[]);
    assert_eq!(cause(&v), "upstream_refused");
    let note = v["notes"][0].as_str().unwrap_or_default();
    assert!(note.contains("UTC+02:00: 1 of 1"), "{v}");
    assert_eq!(
        cause(&run(&["--error-log-tz", "+02:00"])),
        "upstream_refused"
    );
    // --error-log-tz overrides: read at UTC, nothing joins
    let v = run(&["--error-log-tz", "+00:00"]);
    assert_eq!(cause(&v), "unknown");
    // no guess is said, only that the one offset given was applied
    let notes = v["notes"].as_array().expect("notes");
    assert_eq!(notes.len(), 1, "{v}");
    assert!(
        notes[0]
            .as_str()
            .unwrap_or_default()
            .contains("at the one offset UTC+00:00 given by --error-log-tz"),
        "{v}"
    );
}

#[test]
fn events_file_has_one_line_per_5xx() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ev.ndjson");
    let o = gatecheck(&[
        "analyze",
        "fixtures/logs/nginx/causes/",
        "--events",
        out.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(o.status.success());
    let text = std::fs::read_to_string(&out).unwrap();
    let events: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.len(), 10, "8 × 502, 1 × 504, 1 rescued");
    let retry = events.iter().find(|e| e["path"] == "/api/retry").unwrap();
    assert_eq!(retry["rescued"], true);
    assert_eq!(retry["status"], 200);
    assert_eq!(retry["upstream"][0]["status"], 502);
    assert_eq!(retry["upstream"][1]["header_time"], 0.012);
    assert_eq!(retry["file"], "fixtures/logs/nginx/causes/access.log");
    assert_eq!(retry["line"], 8);
}

#[test]
fn config_in_a_dump_resolves_absolute_includes_inside_the_dump() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("etc/nginx/conf.d")).unwrap();
    std::fs::create_dir_all(d.join("logs")).unwrap();
    std::fs::write(
        d.join("etc/nginx/nginx.conf"),
        "events {}\nhttp {\n    include /etc/nginx/conf.d/*.conf;\n    include /etc/nginx/missing.conf;\n}\n",
    )
    .unwrap();
    std::fs::write(
        d.join("etc/nginx/conf.d/shop.conf"),
        "log_format shop '$remote_addr [$time_local] \"$request\" $status us=$upstream_status';\nserver { access_log /var/log/nginx/shop.log shop; }\n",
    )
    .unwrap();
    std::fs::write(
        d.join("logs/shop.log.1"),
        "1.2.3.4 [20/Nov/2026:14:00:00 +0000] \"GET / HTTP/1.1\" 502 us=502\n",
    )
    .unwrap();
    let v = analyze_json(&[
        d.join("logs").to_str().unwrap(),
        "--config",
        d.join("etc/nginx").to_str().unwrap(),
    ]);
    assert_eq!(v["inputs"][0]["format"], "shop", "{}", v["inputs"]);
    let problems = v["problems"].to_string();
    assert!(
        problems.contains("missing.conf") && problems.contains("not in the dump"),
        "{problems}"
    );
}

#[test]
fn demo_runs_clean() {
    // the README's first command: the dump's nginx.conf is used as config,
    // and nothing at all is said on stderr (the generator lives in fixtures/gen/)
    let o = gatecheck(&["analyze", "fixtures/incident/"]);
    assert!(o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.is_empty(), "{err}");
    let out = stdout(&o);
    assert!(
        out.contains("⚙ fixtures/incident/nginx.conf:38  proxy_buffer_size 4k (server shop.example.com > location /api/"),
        "{out}"
    );
    assert!(out.contains("Bursts of 502s"), "{out}");
}

#[test]
fn bad_error_log_tz_is_a_usage_error() {
    let o = gatecheck(&[
        "analyze",
        "fixtures/logs/nginx/causes/",
        "--error-log-tz",
        "+2",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--error-log-tz"));
}

/// Lines a real nginx 1.22 wrote (`combined`), and how many are 502s.
fn real_access_lines() -> (String, u64, u64) {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/logs/nginx/real/combined/access.log"),
    )
    .unwrap();
    let lines = text.lines().count() as u64;
    let n502 = text.lines().filter(|l| l.contains("\" 502 ")).count() as u64;
    (text, lines, n502)
}

fn mkfifo(path: &Path) {
    let ok = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(ok.success(), "mkfifo {}", path.display());
}

/// `gatecheck analyze BIG FIFO`: every input's start is read for detection
/// (BIG's size noted, BIG closed again until its pass) before any is parsed,
/// and opening the FIFO waits for a writer; so `change` runs on BIG after
/// gatecheck listed it and read its start, and before it reads its chunks
/// (opening BIG again, reading up to the size first noted), with no race.
fn analyze_while(change: impl FnOnce(&Path)) -> (Output, Big) {
    use std::os::unix::process::ExitStatusExt;
    let dir = tempfile::tempdir().unwrap();
    let (text, lines, _) = real_access_lines();
    let big = dir.path().join("access.log");
    let reps = (4 << 20) / text.len() + 1;
    std::fs::write(&big, text.repeat(reps)).unwrap();
    let fifo = dir.path().join("more.log");
    mkfifo(&fifo);
    let child = spawn_analyze_json([&big, &fifo]);
    // blocks until gatecheck opens the FIFO, after it opened BIG
    let mut w = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
    change(&big);
    w.write_all(text.as_bytes()).unwrap();
    drop(w);
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.signal(), None, "killed by a signal");
    let big = Big {
        bytes: (reps * text.len()) as u64,
        lines: reps as u64 * lines,
        fifo_lines: lines,
    };
    (o, big)
}

/// The log changed under gatecheck, and the FIFO read after it.
struct Big {
    bytes: u64,
    lines: u64,
    fifo_lines: u64,
}

/// The run succeeded and read every line and 502 of the input ending in
/// `suffix`.
fn read_whole(o: &std::process::Output, suffix: &str, lines: u64, n502: u64) {
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v = json(o);
    assert_eq!(input_lines(&v, suffix), Some(lines));
    assert_eq!(v["totals"]["status_502"].as_u64(), Some(n502));
}

fn input_lines(v: &serde_json::Value, suffix: &str) -> Option<u64> {
    v["inputs"]
        .as_array()?
        .iter()
        .find(|i| i["path"].as_str().is_some_and(|p| p.ends_with(suffix)))
        .and_then(|i| i["lines"].as_u64())
}

#[test]
fn issue_6_log_truncated_while_read_is_reported_not_fatal() {
    let (text, ..) = real_access_lines();
    let (o, big) = analyze_while(|big| {
        // logrotate copytruncate: cut to 0, then nginx appends new lines
        let f = std::fs::OpenOptions::new().append(true).open(big).unwrap();
        f.set_len(0).unwrap();
        (&f).write_all(text.as_bytes()).unwrap();
    });
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    let v = json(&o);
    let problems = v["problems"].to_string();
    assert!(problems.contains("changed while read"), "{problems}");
    // the cut met the reading (the new size), or, when detection reads each
    // file's start at its turn, came between the cut to 0 and the write
    let was = format!("was {} bytes, now ", big.bytes);
    let met = format!("{was}{}", text.len());
    let before = format!("{was}0 when its start was read");
    assert!(
        problems.contains(&met) || problems.contains(&before),
        "{problems}"
    );
    // what was left of the file was read, and the rest of the run went on
    assert!(input_lines(&v, "access.log").unwrap() < big.lines);
    assert_eq!(input_lines(&v, "more.log"), Some(big.fifo_lines));
    assert!(err.contains("changed while read"), "{err}");
}

#[test]
fn issue_6_log_appended_while_read_is_read_up_to_its_first_size() {
    let (text, ..) = real_access_lines();
    let (o, big) = analyze_while(|big| {
        let mut f = std::fs::OpenOptions::new().append(true).open(big).unwrap();
        f.write_all(text.as_bytes()).unwrap();
    });
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    let v = json(&o);
    let problems = v["problems"].to_string();
    assert!(problems.contains("changed while read"), "{problems}");
    let after = format!("lines after byte {} were not read", big.bytes);
    assert!(problems.contains(&after), "{problems}");
    assert_eq!(input_lines(&v, "access.log"), Some(big.lines));
    assert_eq!(input_lines(&v, "more.log"), Some(big.fifo_lines));
}

#[test]
fn issue_6_dev_stdin_is_streamed() {
    let (text, lines, n502) = real_access_lines();
    let mut child = spawn_analyze_json(["/dev/stdin"]);
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(text.as_bytes()).unwrap();
    drop(stdin);
    let o = child.wait_with_output().unwrap();
    read_whole(&o, "/dev/stdin", lines, n502);
}

#[test]
fn issue_6_named_pipe_is_streamed_and_gzip_sniffed() {
    let (text, lines, n502) = real_access_lines();
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("access.log");
    mkfifo(&fifo);
    let child = spawn_analyze_json([&fifo]);
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::OpenOptions::new().write(true).open(&fifo).unwrap(),
        flate2::Compression::default(),
    );
    enc.write_all(text.as_bytes()).unwrap();
    enc.finish().unwrap();
    let o = child.wait_with_output().unwrap();
    read_whole(&o, "access.log", lines, n502);
}

#[test]
fn issue_6_directory_symlink_loop_counts_once() {
    let (text, lines, n502) = real_access_lines();
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir_all(logs.join("nginx")).unwrap();
    std::fs::write(logs.join("nginx/access.log"), &text).unwrap();
    std::os::unix::fs::symlink("..", logs.join("nginx/parent")).unwrap();
    std::os::unix::fs::symlink("nginx", logs.join("current")).unwrap();
    let o = gatecheck(&["analyze", logs.to_str().unwrap(), "--format", "json"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v = json(&o);
    assert_eq!(
        v["inputs"].as_array().map(Vec::len),
        Some(1),
        "{}",
        v["inputs"]
    );
    assert_eq!(input_lines(&v, "nginx/access.log"), Some(lines));
    assert_eq!(v["totals"]["status_502"].as_u64(), Some(n502));
    let problems = v["problems"].to_string();
    assert!(problems.contains("symlink loop"), "{problems}");
    assert!(problems.contains("same directory as"), "{problems}");
}

/// `analyze logs/ logs/access.log latest.log` (latest.log a symlink to
/// it): read once, each duplicate said once in the file's Inputs row, and
/// not taken for an unreadable input.
#[test]
fn the_same_file_given_twice_is_read_once_and_said() {
    let (text, lines, n502) = real_access_lines();
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let access = logs.join("access.log");
    std::fs::write(&access, &text).unwrap();
    let link = dir.path().join("latest.log");
    std::os::unix::fs::symlink(&access, &link).unwrap();
    let (logs_s, access_s, link_s) = (
        logs.to_str().unwrap(),
        access.to_str().unwrap(),
        link.to_str().unwrap(),
    );
    let o = gatecheck(&["analyze", logs_s, access_s, link_s, "--format", "json"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v = json(&o);
    let inputs = v["inputs"].as_array().unwrap();
    assert_eq!(inputs.len(), 1, "{}", v["inputs"]);
    assert_eq!(input_lines(&v, "access.log"), Some(lines));
    assert_eq!(v["totals"]["status_502"].as_u64(), Some(n502));
    let reason = inputs[0]["reason"].as_str().unwrap();
    let again =
        format!("{access_s} was given more than once (by name, or in a folder given); read once");
    let linked = format!("{link_s} is the same file as {access_s}; read once");
    assert_eq!(reason.matches(&again).count(), 1, "{reason}");
    assert_eq!(reason.matches(&linked).count(), 1, "{reason}");
    assert_eq!(v["problems"], serde_json::json!([]), "{}", v["problems"]);
}

/// `cmd -c` (a compressor) over `plain`, into a file named without extension.
fn compress_with(cmd: &str, plain: &Path, out: &Path) {
    let f = std::fs::File::create(out).unwrap();
    let ok = Command::new(cmd).arg("-c").arg(plain).stdout(f).status();
    assert!(ok.unwrap().success(), "{cmd}");
}

#[test]
fn issue_6_compressed_logs_are_read_by_magic_bytes() {
    let (text, lines, n502) = real_access_lines();
    let dir = tempfile::tempdir().unwrap();
    // each line made unique (a query string), so the files are not so
    // compressible that a cut lands inside the first block of the stream;
    // each file its own requests (another seed), or they would be copies of
    // one log, counted once (`analyze/copies.rs`)
    let plain_for = |k: u64| {
        let plain = dir.path().join(format!("plain{k}.txt"));
        let mut seed = k;
        let text: String = text
            .repeat(200)
            .lines()
            .map(|l| {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                l.replacen(" HTTP/1.1\"", &format!("?r={seed:x} HTTP/1.1\""), 1) + "\n"
            })
            .collect();
        std::fs::write(&plain, &text).unwrap();
        plain
    };
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    for (k, (cmd, name)) in [("zstd", "a.1"), ("bzip2", "b.1"), ("xz", "c.1")]
        .into_iter()
        .enumerate()
    {
        compress_with(cmd, &plain_for(k as u64 + 1), &logs.join(name));
    }
    // several gzip members, as pigz, bgzip or `cat a.gz b.gz` write
    compress_with("gzip", &plain_for(4), &logs.join("d.1"));
    let mut two = std::fs::read(logs.join("d.1")).unwrap();
    two.extend(two.clone());
    std::fs::write(logs.join("d.1"), two).unwrap();
    // a zstd file cut short, and a gzip file damaged in the middle
    compress_with("zstd", &plain_for(5), &logs.join("e.1"));
    let cut = std::fs::read(logs.join("e.1")).unwrap();
    std::fs::write(logs.join("e.1"), &cut[..cut.len() * 2 / 3]).unwrap();
    compress_with("gzip", &plain_for(6), &logs.join("f.1"));
    let mut bad = std::fs::read(logs.join("f.1")).unwrap();
    let at = bad.len() / 2;
    bad[at..at + 64].iter_mut().for_each(|b| *b ^= 0x5a);
    std::fs::write(logs.join("f.1"), bad).unwrap();

    let o = gatecheck(&["analyze", logs.to_str().unwrap(), "--format", "json"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    let v = json(&o);
    let all = 200 * lines;
    for name in ["a.1", "b.1", "c.1"] {
        assert_eq!(input_lines(&v, name), Some(all), "{name}: {}", v["inputs"]);
    }
    assert_eq!(input_lines(&v, "d.1"), Some(2 * all), "both gzip members");
    let problems = v["problems"].to_string();
    for (name, what) in [
        ("e.1", "zstd data truncated after "),
        ("f.1", "gzip data corrupt after "),
    ] {
        let got = input_lines(&v, name).unwrap();
        assert!(
            got > 0 && got < all,
            "{name}: lines before the damage kept ({got})"
        );
        assert!(problems.contains(what), "{name}: {problems}");
    }
    assert!(problems.contains("lines before it were read"), "{problems}");
    // five whole copies (a, b, c, and d twice) and some of e and f
    let whole = 5 * 200 * n502;
    let found = v["totals"]["status_502"].as_u64().unwrap();
    assert!(
        found > whole,
        "{found} 502s, more than the {whole} of the whole files"
    );
}

#[test]
fn issue_6_empty_vanished_and_unknown_compression_are_problems_not_aborts() {
    let (text, lines, _) = real_access_lines();
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    std::fs::write(logs.join("access.log"), &text).unwrap();
    std::fs::write(logs.join("empty.log"), "").unwrap();
    std::fs::write(logs.join("old.log.lz4"), b"\x04\x22\x4d\x18rest").unwrap();
    let fifo = dir.path().join("pipe.log");
    mkfifo(&fifo);
    let gone = dir.path().join("gone.log");
    std::fs::write(&gone, &text).unwrap();
    let late = dir.path().join("late.log");
    std::fs::write(&late, &text).unwrap();
    // every input's start is read for detection, in order, before any is
    // parsed; opening the FIFO waits for a writer and reading its start
    // waits for the writer to close it. So gone.log is deleted after it was
    // found, before its start is read; late.log after its start was read
    // (and the file closed), before the pass that reads it opens it again.
    let child = spawn_analyze_json([&logs, &late, &fifo, &gone]);
    let mut w = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
    std::fs::remove_file(&gone).unwrap();
    std::fs::remove_file(&late).unwrap();
    w.write_all(text.as_bytes()).unwrap();
    drop(w);
    let o = child.wait_with_output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v = json(&o);
    assert_eq!(input_lines(&v, "access.log"), Some(lines));
    assert_eq!(input_lines(&v, "pipe.log"), Some(lines));
    let reason = |name: &str| {
        v["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["path"].as_str().unwrap().ends_with(name))
            .map(|i| i["reason"].to_string())
            .unwrap_or_default()
    };
    assert!(reason("empty.log").contains("empty"), "{}", v["inputs"]);
    // the first-lines note does not call an empty file one of no known format
    let err = String::from_utf8_lossy(&o.stderr);
    let note = err
        .lines()
        .find(|l| l.contains("not read as logs"))
        .unwrap_or_default();
    assert!(
        note.contains("empty.log") && note.contains("empty, or cut while read"),
        "{err}"
    );
    let problems = v["problems"].as_array().unwrap();
    let said = |name: &str, what: &str| {
        problems.iter().any(|p| {
            p["path"].as_str().unwrap().ends_with(name)
                && p["message"].as_str().unwrap().contains(what)
        })
    };
    assert!(said("old.log.lz4", "compressed with lz4"), "{problems:?}");
    assert!(said("gone.log", "cannot read"), "{problems:?}");
    // detected from its start, then gone when its turn came: said, not lost
    assert!(
        said("late.log", "removed or replaced before its turn"),
        "{problems:?}"
    );
    assert_eq!(input_lines(&v, "late.log"), Some(0));
}

/// Issue 6 item 3 / "no zero 502s with exit 0": an access log nothing
/// understands next to an error log full of upstream errors is INCOMPLETE,
/// first line, exit 2 (0 with --partial-ok).
#[test]
fn issue_6_unreadable_access_log_next_to_upstream_errors_is_incomplete() {
    let dir = tempfile::tempdir().unwrap();
    let acc = dir.path().join("access.log");
    std::fs::write(&acc, "garbage one\ngarbage two\n").unwrap();
    let acc = acc.to_str().unwrap();
    let err = "fixtures/logs/nginx/real/formats/error.log";
    let o = gatecheck(&["analyze", acc, err, "--no-progress"]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    let first = stdout(&o).lines().next().unwrap_or_default().to_string();
    assert!(
        first.starts_with("INCOMPLETE: the error logs record 7 upstream errors"),
        "{first}"
    );
    assert!(first.contains("not real"), "{first}");
    let o = gatecheck(&[
        "analyze",
        acc,
        err,
        "--no-progress",
        "--partial-ok",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert!(json(&o)["incomplete"].as_str().unwrap().contains(acc));
}

/// Issue 6 item 9: a forced format is the only one tried; when it fits no
/// line, exit 2 with the file and the line that did not fit.
#[test]
fn issue_6_forced_log_format_that_fits_nothing_fails() {
    let f = "fixtures/logs/nginx/real/formats/upstreaminfo.log";
    let o = gatecheck(&[
        "analyze",
        f,
        "--log-format",
        "$remote_addr [$time_local] $status",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("upstreaminfo.log: does not fit --log-format"),
        "{err}"
    );
    assert!(
        err.contains("line 1: \"127.0.0.1 - - [28/Nov/2026"),
        "{err}"
    );
    // escape=json in the format: `\"` decoded, the 502s joined
    let json_fmt = r#"escape=json {"time":"$time_iso8601","remote_addr":"$remote_addr","request":"$request","status":$status,"body_bytes_sent":$body_bytes_sent,"request_time":$request_time,"upstream_addr":"$upstream_addr","upstream_status":"$upstream_status""#;
    let o = gatecheck(&[
        "analyze",
        "fixtures/logs/nginx/real/formats/json.log",
        "fixtures/logs/nginx/real/formats/error.log",
        "--log-format",
        json_fmt,
        "--format",
        "json",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v = json(&o);
    assert_eq!(v["inputs"][0]["format"], "--log-format");
    assert_eq!(v["causes"]["upstream_refused"], 2, "{v}");
    let o = gatecheck(&["analyze", f, "--log-format", "escape=yaml $status"]);
    assert_eq!(o.status.code(), Some(2));
}

/// Issue 6 items 5 and 7, on the captures of tests/it/real_nginx_formats.rs:
/// upstreaminfo's unquoted lists, and one file holding access and error
/// lines (kubectl logs), in Docker and CRI wrappers too.
#[test]
fn issue_6_upstreaminfo_and_packaging() {
    for f in [
        "upstreaminfo.log",
        "kubectl.log",
        "docker.log",
        "cri.log",
        "json_k8s.log",
    ] {
        let path = format!("fixtures/logs/nginx/real/formats/{f}");
        let mut args = vec!["analyze", path.as_str(), "--format", "json"];
        if !f.starts_with("upstreaminfo") && !f.starts_with("json") {
        } else {
            args.push("fixtures/logs/nginx/real/formats/error.log");
        }
        let v = json(&gatecheck(&args));
        assert_eq!(v["totals"]["rescued"], 1, "{f}: {v}");
        assert_eq!(v["totals"]["malformed"], 0, "{f}: {v}");
        assert_eq!(v["causes"]["upstream_refused"], 2, "{f}: {v}");
        assert_eq!(v["causes"]["no_live_upstream"], 1, "{f}: {v}");
        assert_eq!(v["causes"]["passthrough"], 1, "{f}: {v}");
    }
}

/// Issue 6 item 4: an `unknown` says whether no error log was given or
/// none could be read.
#[test]
fn issue_6_evidence_tells_missing_from_unreadable_error_log() {
    let acc = "fixtures/logs/nginx/real/formats/iso8601.log";
    let evidence = |args: &[&str]| -> String {
        let o = gatecheck(args);
        let first = stdout(&o).lines().next().unwrap_or_default().to_string();
        let v: serde_json::Value = serde_json::from_str(&first).expect("an event");
        assert_eq!(v["cause"], "unknown", "{v}");
        v["evidence"].to_string()
    };
    let e = evidence(&["analyze", acc, "--format", "ndjson"]);
    assert!(e.contains("no nginx error log was given"), "{e}");
    let e = evidence(&["analyze", acc, "no/such/error.log", "--format", "ndjson"]);
    assert!(e.contains("no nginx error log could be read"), "{e}");
}

/// Issue 6 item 5: ingress-nginx's unquoted `$upstream_addr` list keeps one
/// attempt per server (was `127.0.0.1:18003,` with no status).
#[test]
fn issue_6_upstreaminfo_attempts() {
    let o = gatecheck(&[
        "analyze",
        "fixtures/logs/nginx/real/formats/upstreaminfo.log",
        "--format",
        "ndjson",
    ]);
    let retry = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("JSON line"))
        .find(|e| e["path"] == "/retry")
        .expect("the rescued /retry event");
    let attempts: Vec<(String, u64)> = retry["upstream"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["addr"].as_str().unwrap().to_string(),
                u["status"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(attempts.len(), 2, "{retry}");
    assert!(attempts
        .iter()
        .all(|(a, _)| a.starts_with("127.0.0.1:") && !a.ends_with(',')));
    assert_eq!((attempts[0].1, attempts[1].1), (502, 200));
    assert_eq!(retry["rescued"], true);
}

#[test]
fn since_after_until_is_a_usage_error() {
    let o = gatecheck(&[
        "analyze",
        "fixtures/logs/nginx/causes/",
        "--since",
        "2026-11-20T16:00Z",
        "--until",
        "2026-11-20T14:00Z",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--since") && err.contains("not before --until"),
        "{err}"
    );
    assert!(o.stdout.is_empty());
}

#[test]
fn verdict_opens_the_report_and_the_json() {
    let v = analyze_json(&["fixtures/incident/"]);
    let verdict = v["verdict"].as_str().expect("verdict string");
    // built from the report's own numbers: the 502 count, the leading
    // cause with its share, and the 504s
    let top = &v["causes_502"][0];
    let share = format!("{:.0} %", top["share"].as_f64().unwrap() * 100.0);
    let n502 = v["totals"]["status_502"].as_u64().unwrap();
    let n504 = v["totals"]["status_504"].as_u64().unwrap();
    assert!(
        verdict.starts_with(&format!("{n502} × 502 in ")),
        "{verdict}"
    );
    assert!(
        verdict.contains(&format!("{} ({share})", top["cause"].as_str().unwrap())),
        "{verdict}"
    );
    assert!(
        verdict.contains(&format!("; {n504} × 504 at proxy_read_timeout")),
        "{verdict}"
    );
    let table = stdout(&gatecheck(&["analyze", "fixtures/incident/"]));
    assert_eq!(
        table.lines().next(),
        Some(format!("Verdict: {verdict}").as_str())
    );
    // the bursts say what they stand out from
    let bl = &v["burst_baseline"];
    assert!(
        bl["per_minute"].as_f64().is_some() && bl["threshold_per_minute"].as_u64().is_some(),
        "{bl}"
    );
    assert!(table.contains("Bursts of 502s (baseline "), "{table}");
}

#[test]
fn top_tables_say_what_they_do_not_cover() {
    let v = analyze_json(&["fixtures/logs/nginx/causes/"]);
    let hosts = &v["top_coverage"]["hosts"];
    let n502 = v["totals"]["status_502"].as_u64().unwrap();
    let listed: u64 = v["top_hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["count"].as_u64().unwrap())
        .sum();
    assert_eq!(hosts["of"], n502);
    assert_eq!(hosts["counted"], listed);
    assert!(
        listed < n502,
        "the fixture has 502s without a host: {hosts}"
    );
    let missing = hosts["missing"].as_str().expect("why some are missing");
    assert!(
        missing.starts_with(&format!("{} lines have no host", n502 - listed)),
        "{missing}"
    );
    let table = stdout(&gatecheck(&["analyze", "fixtures/logs/nginx/causes/"]));
    let note = format!("host: {listed} of {n502} 502s: {missing}");
    assert!(table.contains(&note), "{note:?} not in:\n{table}");
    assert!(v["top_coverage"]["paths"].get("missing").is_none());
}

#[test]
fn many_inputs_are_folded_unless_verbose() {
    let dir = tempfile::tempdir().unwrap();
    let line =
        "10.0.0.1 - - [20/Nov/2026:14:03:07 +0000] \"GET /x HTTP/1.1\" 502 0 \"-\" \"curl\"\n";
    let n = 300;
    for i in 0..n {
        let sub = dir.path().join(format!("web-{}", i % 3));
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(sub.join(format!("access-{i}.log")), line).unwrap();
    }
    let path = dir.path().to_str().unwrap();
    // wide enough that the long temp paths do not wrap inside their cells
    let wide = |args: &[&str]| gatecheck_width(args, 300);
    let o = wide(&["analyze", path, "--no-progress"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = stdout(&o);
    assert!(
        out.contains(&format!(
            "Inputs ({n} files in 3 rows, folded by folder and format"
        )),
        "{out}"
    );
    assert!(out.contains("web-1/ (100 files)"), "{out}");
    assert!(out.lines().count() < 150, "{} lines", out.lines().count());
    let verbose = stdout(&wide(&["analyze", path, "--no-progress", "--verbose"]));
    for i in [0, 150, n - 1] {
        assert!(
            verbose.contains(&format!("access-{i}.log")),
            "access-{i}.log not listed"
        );
    }
}

/// A dump partly not understood says so on the line after the verdict, in
/// every document: the malformed lines (with their share) and the files in
/// no known format, before any figure.
#[test]
fn what_was_not_read_follows_the_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let good =
        "10.0.0.1 - - [12/Mar/2024:06:00:01 +0000] \"GET /a HTTP/1.1\" 502 10 \"-\" \"ua\"\n";
    let mut text = String::new();
    for i in 0..30 {
        text.push_str(good);
        if i % 3 == 0 {
            text.push_str("garbage that is no request\n");
        }
    }
    std::fs::write(dir.path().join("access.log"), &text).unwrap();
    std::fs::write(dir.path().join("notes.log"), "hello world\nfoo bar\n").unwrap();
    let d = dir.path().to_str().unwrap();
    let want_lines = "10 malformed lines (25";
    let table = stdout(&gatecheck(&["analyze", d, "--no-progress"]));
    let second = table.lines().nth(1).unwrap_or_default();
    assert!(
        second.starts_with("not read: 1 file in no known format (")
            && second.contains("notes.log")
            && second.contains(want_lines)
            && second.contains("of 40 lines), counted and skipped"),
        "{table}"
    );
    for format in ["markdown", "html"] {
        let doc = stdout(&gatecheck(&[
            "analyze",
            d,
            "--format",
            format,
            "--no-progress",
        ]));
        let verdict = doc.find("Verdict:").expect("verdict");
        let unread = doc.find("not read: 1 file").expect("not-read line");
        let scope = doc.find("Scope").expect("scope");
        assert!(verdict < unread && unread < scope, "{format}: {doc}");
        assert!(doc.contains(want_lines), "{format}: {doc}");
    }
    // every line read: no such line
    let clean = tempfile::tempdir().unwrap();
    std::fs::write(clean.path().join("access.log"), good.repeat(3)).unwrap();
    let table = stdout(&gatecheck(&[
        "analyze",
        clean.path().to_str().unwrap(),
        "--no-progress",
    ]));
    assert!(!table.contains("not read:"), "{table}");
}

/// A `docker logs` dump of the official nginx image starts with its
/// entrypoint's lines (the texts of nginxinc/docker-nginx's scripts): they
/// are counted as start-up messages and skipped, named by the first's
/// file:line, not malformed lines; a user's own entrypoint script's line
/// stays malformed; the access lines after them are read as before.
#[test]
fn the_nginx_images_start_up_lines_are_skipped_not_malformed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("docker-logs.txt");
    let kubectl = std::fs::read_to_string("fixtures/logs/nginx/real/formats/kubectl.log").unwrap();
    let banner = "/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, will attempt to perform configuration\n\
                  /docker-entrypoint.sh: Launching /docker-entrypoint.d/10-listen-on-ipv6-by-default.sh\n\
                  10-listen-on-ipv6-by-default.sh: info: Enabled listen on IPv6 in /etc/nginx/conf.d/default.conf\n\
                  /docker-entrypoint.sh: Launching /docker-entrypoint.d/40-fetch-secrets.sh\n\
                  40-fetch-secrets.sh: fetched 3 secrets\n\
                  /docker-entrypoint.sh: Configuration complete; ready for start up\n";
    std::fs::write(&path, format!("{banner}{kubectl}")).unwrap();
    let v = crate::support::cli::analyze_json(&[path.to_str().unwrap()]);
    let plain =
        crate::support::cli::analyze_json(&["fixtures/logs/nginx/real/formats/kubectl.log"]);
    assert_eq!(v["totals"]["requests"], plain["totals"]["requests"]);
    // only the user's own script's line is malformed
    assert_eq!(v["totals"]["malformed"], 1, "{}", v["totals"]);
    assert_eq!(
        v["malformed_samples"][0]["line"], 5,
        "{}",
        v["malformed_samples"]
    );
    let notes = v["notes"].to_string();
    assert!(
        notes.contains("5 start-up messages of the nginx image's docker-entrypoint.sh skipped")
            && notes.contains(
                "docker-logs.txt:1: /docker-entrypoint.sh: /docker-entrypoint.d/ is not empty"
            ),
        "{notes}"
    );
    let table = crate::support::cli::stdout(&crate::support::cli::gatecheck(&[
        "analyze",
        path.to_str().unwrap(),
        "--no-progress",
    ]));
    assert!(table.contains("5 start-up messages"), "{table}");
}

/// The error log's offset is guessed from 5xx lines across the access log
/// (its start, middle and end), not its first 16 MB alone: a dump whose
/// first 17 MB are a quiet morning of 200s, then an incident whose error
/// lines are in local time (UTC+02:00), joins them at +02:00. Read from the
/// start only, no 5xx was sampled, the lines were joined at the access
/// log's own offset and every 502 was `unknown` (a `.gz` was read so until
/// accuracy pass 5).
#[test]
fn the_error_log_offset_is_sampled_across_the_access_log() {
    let dir = tempfile::tempdir().unwrap();
    let (access, error) = (dir.path().join("access.log"), dir.path().join("error.log"));
    let mut text = String::new();
    let mut n = 0;
    while text.len() < 17 << 20 {
        text.push_str(&format!(
            "10.1.1.1 - - [20/Nov/2026:10:{:02}:{:02} +0000] \"GET /static/app.js HTTP/1.1\" 200 512 \"-\" \"Mozilla/5.0 (X11; Linux x86_64)\"\n",
            n / 60 % 60,
            n % 60
        ));
        n += 1;
    }
    let mut errors = String::new();
    for i in 0..20 {
        text.push_str(&format!(
            "10.0.0.{} - - [20/Nov/2026:11:00:{i:02} +0000] \"GET /api/orders/{i} HTTP/1.1\" 502 157 \"-\" \"curl/8.0\"\n",
            i + 1
        ));
        errors.push_str(&format!(
            "2026/11/20 13:00:{i:02} [error] 7#7: *{} connect() failed (111: Connection refused) while connecting to upstream, client: 10.0.0.{}, server: _, request: \"GET /api/orders/{i} HTTP/1.1\", upstream: \"http://10.9.0.5:8080/api/orders/{i}\", host: \"shop\"\n",
            100 + i,
            i + 1
        ));
    }
    std::fs::write(&access, &text).unwrap();
    std::fs::write(&error, errors).unwrap();
    // the same log gzipped (as logrotate leaves `access.log.2.gz`): its
    // middle and end are sampled too, from the stream decoded once more
    let gz = dir.path().join("access.log.2.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(text.as_bytes()).unwrap();
    std::fs::write(&gz, enc.finish().unwrap()).unwrap();
    for log in [&access, &gz] {
        let v = crate::support::cli::analyze_json_paths(&[log, &error], &[]);
        assert_eq!(
            v["causes"]["upstream_refused"],
            20,
            "{}: {}",
            log.display(),
            v["causes"]
        );
        let notes = v["notes"].to_string();
        assert!(
            notes.contains("error log times read as UTC+02:00: 20 of 20 5xx matched"),
            "{}: {notes}",
            log.display()
        );
    }
}

/// `--error-log-tz` takes a zone name: each error-log time is read at the
/// zone's offset of its moment. Europe/Berlin left summer time at
/// 2026-10-25T01:00:00Z (+02:00 → +01:00): 502s on both sides join their
/// local-time error lines; one offset joins one side only, and says that
/// one offset was applied.
#[test]
fn error_log_tz_takes_a_zone_name_across_daylight_saving() {
    let dir = tempfile::tempdir().unwrap();
    let (access, error) = (dir.path().join("access.log"), dir.path().join("error.log"));
    let (mut text, mut errors) = (String::new(), String::new());
    // UTC access times, and the error log's Berlin wall clock
    let times = [
        ("00:30:01", "02:30:01"),
        ("00:40:02", "02:40:02"),
        ("00:50:03", "02:50:03"),
        ("01:30:04", "02:30:04"),
        ("01:40:05", "02:40:05"),
        ("01:50:06", "02:50:06"),
    ];
    for (i, (utc, local)) in times.iter().enumerate() {
        text.push_str(&format!(
            "10.0.0.{i} - - [25/Oct/2026:{utc} +0000] \"GET /pay/{i} HTTP/1.1\" 502 157 \"-\" \"curl/8.0\"\n"
        ));
        errors.push_str(&format!(
            "2026/10/25 {local} [error] 7#7: *{i} connect() failed (111: Connection refused) while connecting to upstream, client: 10.0.0.{i}, server: _, request: \"GET /pay/{i} HTTP/1.1\", upstream: \"http://10.9.0.5:8080/pay/{i}\", host: \"shop\"\n"
        ));
    }
    std::fs::write(&access, text).unwrap();
    std::fs::write(&error, errors).unwrap();
    let run = |tz: &str| {
        crate::support::cli::analyze_json_paths(&[&access, &error], &["--error-log-tz", tz])
    };
    let v = run("Europe/Berlin");
    assert_eq!(v["causes"]["upstream_refused"], 6, "{}", v["causes"]);
    assert!(
        v["notes"].to_string().contains("in the zone Europe/Berlin"),
        "{}",
        v["notes"]
    );
    let v = run("+02:00");
    assert_eq!(v["causes"]["upstream_refused"], 3, "{}", v["causes"]);
    assert!(
        v["notes"]
            .to_string()
            .contains("at the one offset UTC+02:00 given by --error-log-tz"),
        "{}",
        v["notes"]
    );
    // a name that is no zone is an error that says what is expected
    let o = crate::support::cli::gatecheck(&[
        "analyze",
        access.to_str().unwrap(),
        "--error-log-tz",
        "Mars/Olympus",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("a zone name like Europe/Berlin"));
}

/// A line Docker (json-file entries without the final `\n`) or a CRI
/// runtime (`P` lines) cut at 16 KiB into pieces, written so that its
/// pieces straddle the end of gatecheck's first chunk (2 MiB), with the
/// other stream's line between them: read once and whole, on its first
/// piece's line, in a plain file and in a `.gz` (whose chunks are cut from
/// decoded blocks), never as malformed pieces.
#[test]
fn container_pieces_across_a_chunk_boundary_are_read_whole() {
    use std::fmt::Write as _;
    const BOUNDARY: usize = 2 << 20;
    let dir = tempfile::tempdir().unwrap();
    let access = |i: usize, path: &str, status: u16| {
        format!(
            "10.0.0.1 - - [28/Nov/2026:10:00:{:02} +0000] \"GET {path} HTTP/1.1\" {status} 12 \"-\" \"curl/8\"",
            i % 60
        )
    };
    let long_path = format!("/long/{}", "a".repeat(40_000));
    let long = access(0, &long_path, 502);
    let pieces: Vec<&str> = long
        .as_bytes()
        .chunks(16 << 10)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    assert_eq!(pieces.len(), 3);
    for docker in [true, false] {
        let entry = |content: &str, last: bool, stream: &str| {
            if docker {
                let log = if last {
                    format!("{content}\n")
                } else {
                    content.to_string()
                };
                format!(
                    "{{\"log\":{},\"stream\":\"{stream}\",\"time\":\"2026-11-28T10:00:00.000000000Z\"}}\n",
                    serde_json::to_string(&log).unwrap()
                )
            } else {
                let tag = if last { "F" } else { "P" };
                format!("2026-11-28T10:00:00.000000000Z {stream} {tag} {content}\n")
            }
        };
        let mut text = String::new();
        let mut requests = 0;
        // ordinary lines up to 20 KB before the boundary, then the pieces
        while text.len() < BOUNDARY - 20_000 {
            text.push_str(&entry(
                &access(requests, &format!("/ok/{requests}"), 200),
                true,
                "stdout",
            ));
            requests += 1;
        }
        let first_piece = text.matches('\n').count() + 1;
        for (n, p) in pieces.iter().enumerate() {
            text.push_str(&entry(p, n == pieces.len() - 1, "stdout"));
            if n == 0 {
                // stderr's own line between stdout's pieces
                text.push_str(&entry(&access(1, "/between", 200), true, "stderr"));
                requests += 1;
            }
        }
        requests += 1;
        let start = text.find("/long/").unwrap();
        assert!(start < BOUNDARY && start + long.len() > BOUNDARY);
        for k in 0..50 {
            let _ = write!(
                text,
                "{}",
                entry(&access(k, &format!("/after/{k}"), 200), true, "stdout")
            );
            requests += 1;
        }
        let name = if docker { "json.log" } else { "cri.log" };
        let plain = dir.path().join(name);
        std::fs::write(&plain, &text).unwrap();
        let gz = dir.path().join(format!("{name}.gz"));
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(text.as_bytes()).unwrap();
        std::fs::write(&gz, enc.finish().unwrap()).unwrap();
        for f in [&plain, &gz] {
            let shown = f.display().to_string();
            let v = json(&gatecheck(&[
                "analyze",
                &shown,
                "--format",
                "json",
                "--no-progress",
            ]));
            assert_eq!(
                v["totals"]["malformed"], 0,
                "{shown}: {}",
                v["malformed_samples"]
            );
            assert_eq!(
                v["totals"]["requests"], requests,
                "{shown}: {}",
                v["totals"]
            );
            assert_eq!(v["totals"]["status_502"], 1, "{shown}: {}", v["totals"]);
            let o = gatecheck(&["analyze", &shown, "--format", "ndjson", "--no-progress"]);
            let ev: serde_json::Value = serde_json::from_str(stdout(&o).trim()).expect("one 5xx");
            assert_eq!(ev["path"], long_path.as_str(), "{shown}");
            assert_eq!(ev["line"], first_piece as u64, "{shown}");
        }
    }
}

/// One request is "1 request", in the verdict and the header alike.
#[test]
fn one_request_is_said_in_the_singular() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    std::fs::write(
        &log,
        "127.0.0.1 - - [20/Nov/2026:14:05:00 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"curl\"\n",
    )
    .unwrap();
    let o = gatecheck(&["analyze", log.to_str().unwrap(), "--no-progress"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = stdout(&o);
    assert!(text.contains("no 502 in 1 request "), "{text}");
    assert!(
        text.contains("1 access log, 0 error logs, 1 request\n"),
        "{text}"
    );
    assert!(!text.contains("1 requests"), "{text}");
}
