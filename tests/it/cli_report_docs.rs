//! `gatecheck analyze --format markdown|html` (and `-o FILE`): the documents
//! carry the same numbers as the JSON report, the HTML is well formed and
//! self-contained, and no log-derived text reaches it unescaped.

use std::io::Write;
use std::process::{Command, Output};

fn gatecheck(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gatecheck"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run gatecheck")
}

fn ok_stdout(o: &Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout.clone()).expect("UTF-8 output")
}

fn json_of(paths: &[&str]) -> serde_json::Value {
    let mut args = vec!["analyze"];
    args.extend(paths);
    args.extend(["--format", "json"]);
    serde_json::from_str(&ok_stdout(&gatecheck(&args))).expect("JSON")
}

/// Elements HTML allows without a closing tag.
const VOID: &[&str] = &["meta", "br", "hr", "img", "link", "input", "wbr", "col"];

/// A small checker: every start tag is closed in order (SVG's `<rect …/>`
/// self-closes), no `<script>`, no external reference. Returns the text
/// content outside tags, for the escaping checks.
fn check_html(doc: &str) -> String {
    assert!(
        doc.starts_with("<!DOCTYPE html>"),
        "{}",
        &doc[..40.min(doc.len())]
    );
    let mut stack: Vec<String> = Vec::new();
    let mut text = String::new();
    let mut rest = &doc["<!DOCTYPE html>".len()..];
    while let Some(lt) = rest.find('<') {
        text.push_str(&rest[..lt]);
        let gt = rest[lt..].find('>').expect("unclosed tag") + lt;
        let tag = &rest[lt + 1..gt];
        assert!(!tag.contains('<'), "'<' inside a tag: {tag}");
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect::<String>()
            .to_ascii_lowercase();
        assert_ne!(name, "script", "a script in the report");
        if let Some(closing) = tag.strip_prefix('/') {
            let open = stack
                .pop()
                .unwrap_or_else(|| panic!("</{closing}> closes nothing"));
            assert_eq!(open, name, "<{open}> closed by </{name}>");
        } else if !tag.ends_with('/') && !VOID.contains(&name.as_str()) {
            stack.push(name);
        }
        rest = &rest[gt + 1..];
    }
    text.push_str(rest);
    assert!(stack.is_empty(), "unclosed: {stack:?}");
    for bad in ["src=\"http", "href=\"http", "@import", "url("] {
        assert!(!doc.contains(bad), "external reference {bad}");
    }
    text
}

#[test]
fn markdown_of_the_demo_carries_the_json_numbers() {
    let j = json_of(&["fixtures/incident/"]);
    let md = ok_stdout(&gatecheck(&[
        "analyze",
        "fixtures/incident/",
        "--format",
        "markdown",
    ]));
    let verdict = j["verdict"].as_str().unwrap();
    // the verdict, escaped for Markdown only where it could open markup
    assert!(
        md.contains(&format!("**Verdict:** {}", verdict.replace('&', "\\&"))),
        "{md}"
    );
    let n502 = j["totals"]["status_502"].as_u64().unwrap();
    assert!(n502 > 0);
    assert!(md.contains(&format!("502 Bad Gateway: **{n502}**")), "{md}");
    // every cause row with its count, in a table
    for c in j["causes_502"].as_array().unwrap() {
        let row = format!("| `{}` | {} |", c["cause"].as_str().unwrap(), c["count"]);
        assert!(md.contains(&row), "missing {row}");
    }
    // every burst, and the timeline's per-cause columns add up to the 502s
    for b in j["bursts"].as_array().unwrap() {
        assert!(md.contains(&format!("| {} |", b["start"].as_str().unwrap())));
    }
    let tl = md.split("## Timeline").nth(1).expect("timeline section");
    let rows: Vec<Vec<&str>> = tl
        .lines()
        .filter(|l| l.starts_with("| 20"))
        .map(|l| l.trim_matches('|').split('|').map(str::trim).collect())
        .collect();
    assert!(!rows.is_empty());
    let col_sum = |i: usize| -> u64 { rows.iter().map(|r| r[i].parse::<u64>().unwrap_or(0)).sum() };
    assert_eq!(col_sum(2), n502);
    let by_cause: u64 = (4..rows[0].len()).map(col_sum).sum();
    assert_eq!(by_cause, n502, "the stacked columns add up to the 502s");
    // GitHub tables: each table's rows have as many cells as its header
    for block in md.split("\n\n").filter(|b| b.starts_with('|')) {
        let cells: Vec<usize> = block
            .lines()
            .map(|l| l.replace("\\|", "").matches('|').count())
            .collect();
        assert!(cells.iter().all(|n| *n == cells[0]), "{block}");
    }
}

#[test]
fn html_of_the_demo_is_well_formed_and_carries_the_json_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.html");
    let o = gatecheck(&["analyze", "fixtures/incident/", "-o", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(o.stdout.is_empty(), "-o writes the file, not stdout");
    let doc = std::fs::read_to_string(&out).unwrap();
    let text = check_html(&doc);
    let j = json_of(&["fixtures/incident/"]);
    assert!(
        text.contains(j["verdict"].as_str().unwrap()),
        "verdict in the text"
    );
    // the SVG bars carry the 502s per cause: their sum is the JSON's per cause
    for c in j["causes_502"].as_array().unwrap() {
        let id = c["cause"].as_str().unwrap();
        let key = format!("data-cause=\"{id}\" data-count=\"");
        let sum: u64 = doc
            .match_indices(&key)
            .map(|(i, _)| {
                let v = &doc[i + key.len()..];
                v[..v.find('"').unwrap()].parse::<u64>().unwrap()
            })
            .sum();
        assert_eq!(sum, c["count"].as_u64().unwrap(), "{id}");
    }
}

#[test]
fn hostile_log_text_is_escaped_in_both_documents() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    let mut f = std::fs::File::create(&log).unwrap();
    let evil_path = "/x<script>alert(1)</script>|*_[a](javascript:b)";
    let evil_host = "h<img src=x onerror=alert(2)>.example";
    for i in 0..30 {
        writeln!(
            f,
            "10.0.0.{i} - - [20/Nov/2026:14:0{}:0{} +0000] \"GET {evil_path} HTTP/1.1\" 502 10 \"-\" \"ua<b>\" \"{evil_host}\" rt=0.010 ua=\"10.9.9.9:80\" us=\"502\"",
            i % 10,
            i % 10
        )
        .unwrap();
    }
    drop(f);
    let p = log.to_str().unwrap();
    let fmt = "$remote_addr - $remote_user [$time_local] \"$request\" $status $body_bytes_sent \"$http_referer\" \"$http_user_agent\" \"$host\" rt=$request_time ua=\"$upstream_addr\" us=\"$upstream_status\"";
    let html = ok_stdout(&gatecheck(&[
        "analyze",
        p,
        "--log-format",
        fmt,
        "--format",
        "html",
    ]));
    let text = check_html(&html);
    assert!(text.contains("alert(1)"), "the path is shown, as text");
    assert!(!html.contains("<script"), "raw script tag");
    assert!(!html.contains("<img"), "raw img tag");
    assert!(html.contains("&lt;script&gt;") || html.contains("&lt;img"));
    let md = ok_stdout(&gatecheck(&[
        "analyze",
        p,
        "--log-format",
        fmt,
        "--format",
        "markdown",
    ]));
    assert!(md.contains("**Verdict:**"));
    // every `<` and `[` is backslash-escaped: no raw HTML, no live link
    for (i, c) in md.char_indices().filter(|(_, c)| *c == '<' || *c == '[') {
        assert_eq!(
            &md[i - 1..i],
            "\\",
            "unescaped {c} at {}",
            &md[i - 20..i + 20]
        );
    }
    assert!(md.contains("\\<script\\>"), "the path is shown, escaped");
    // a `|` in a log value never splits a table cell
    for block in md.split("\n\n").filter(|b| b.starts_with('|')) {
        let cells: Vec<usize> = block
            .lines()
            .map(|l| l.replace("\\|", "").matches('|').count())
            .collect();
        assert!(cells.iter().all(|n| *n == cells[0]), "{block}");
    }
}

#[test]
fn format_follows_the_output_extension() {
    let dir = tempfile::tempdir().unwrap();
    for (name, starts) in [
        ("r.md", "# 502 report"),
        ("r.html", "<!DOCTYPE html>"),
        ("r.json", "{"),
    ] {
        let out = dir.path().join(name);
        let o = gatecheck(&["analyze", "fixtures/incident/", "-o", out.to_str().unwrap()]);
        assert!(o.status.success());
        let doc = std::fs::read_to_string(&out).unwrap();
        assert!(doc.starts_with(starts), "{name}: {}", &doc[..20]);
    }
    // --format wins over the extension
    let out = dir.path().join("r.html");
    let o = gatecheck(&[
        "analyze",
        "fixtures/incident/",
        "-o",
        out.to_str().unwrap(),
        "--format",
        "markdown",
    ]);
    assert!(o.status.success());
    assert!(std::fs::read_to_string(&out)
        .unwrap()
        .starts_with("# 502 report"));
}

/// The successes' timings are a 1-in-16 sample, and the JSON says so: the
/// `ok` attempts counted are far fewer than the requests answered below 500.
#[test]
fn success_timings_are_sampled_and_say_so() {
    let v = json_of(&["fixtures/incident/"]);
    let t = &v["timings"];
    assert_eq!(t["ok_sampled_1_in"], 16, "{t}");
    let ok: u64 = t["upstreams"]
        .as_array()
        .expect("upstreams")
        .iter()
        .flat_map(|u| u["phases"].as_array().expect("phases").iter())
        .filter(|p| p["phase"] == "response")
        .map(|p| p["ok"]["count"].as_u64().unwrap_or(0))
        .sum();
    let below_500 =
        v["totals"]["requests"].as_u64().unwrap() - v["totals"]["status_5xx"].as_u64().unwrap();
    assert!(ok > 0, "some successes are sampled: {t}");
    assert!(
        ok * 4 < below_500,
        "{ok} ok attempts of {below_500} requests below 500: not sampled"
    );
}

/// A month with a burst of 502s every day: the report keeps the 20 bursts
/// with the most 502s (in time order), counts them all in `bursts_total`,
/// and each document says how many more there were.
#[test]
fn bursts_are_capped_with_their_total() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("access.log");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let days = 30u64;
    for day in 0..days {
        // one quiet 502 every 10 minutes, then 2 hot minutes at 10:00
        for m in (0..1440).step_by(10) {
            let t = day * 86_400 + m * 60;
            line(&mut f, t, 502);
            line(&mut f, t + 1, 200);
        }
        for s in 0..2 * (50 + day) {
            line(
                &mut f,
                day * 86_400 + 600 * 60 + s * 120 / (2 * (50 + day)),
                502,
            );
        }
    }
    drop(f);
    let p = path.to_str().unwrap();
    let v = json_of(&[p]);
    let bursts = v["bursts"].as_array().unwrap();
    assert_eq!(v["bursts_total"], days, "{}", v["burst_baseline"]);
    assert_eq!(bursts.len(), 20);
    let starts: Vec<&str> = bursts
        .iter()
        .map(|b| b["start"].as_str().unwrap())
        .collect();
    assert!(starts.windows(2).all(|w| w[0] < w[1]), "{starts:?}");
    // the largest are the last days'
    assert!(starts[0] > "2026-11-10", "{starts:?}");
    for fmt in ["table", "markdown", "html"] {
        let out = ok_stdout(&gatecheck(&["analyze", p, "--format", fmt]));
        assert!(
            out.contains("10 more bursts (30 in all; the 20 with the most 502s are listed)"),
            "{fmt}"
        );
    }
}

/// A combined-format line at `t` seconds after 2026-11-01T00:00Z.
fn line(f: &mut impl Write, t: u64, status: u16) {
    let (d, s) = (1 + t / 86_400, t % 86_400);
    writeln!(
        f,
        "10.0.0.1 - - [{d:02}/Nov/2026:{:02}:{:02}:{:02} +0000] \"GET /a HTTP/1.1\" {status} 5 \"-\" \"t\"",
        s / 3600,
        s % 3600 / 60,
        s % 60
    )
    .unwrap();
}
