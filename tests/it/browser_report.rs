//! The demo's HTML report opened in a real browser (headless Chromium, the
//! Debian package `chromium`): the DOM Chromium built carries, in its
//! `data-*` attributes and in the text shown next to them, the numbers of
//! the JSON report; the page logs nothing to the console and fetches
//! nothing; the screenshot and the PDF print are real pictures of it.
//!
//! One Chromium launch does all of it (`--dump-dom`, `--screenshot` and
//! `--print-to-pdf` together), shared by the tests through a `OnceLock`; a
//! second launch on a page with one known fault of each kind shows that the
//! console and network detectors do see faults (so "none seen" means
//! something).
//!
//! * Skipped, with a message, when no Chromium is found, unless
//!   `GATECHECK_REQUIRE_BROWSER` or `GATECHECK_REQUIRE_PROXIES` is set
//!   (`.ci/run` sets the latter, and installs `chromium`).
//! * `GATECHECK_CHROMIUM=/path/to/chromium` picks the binary (default: the
//!   first of `chromium`, `chromium-browser`, `google-chrome` on `$PATH`).

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

/// The window of the screenshot (CSS pixels; headless uses a device scale
/// factor of 1, so the PNG has exactly these dimensions).
const WINDOW: (u32, u32) = (1100, 1400);

/// A guard against a hung browser, not a timing assertion: a launch that
/// has not exited by then is killed and the test fails saying so.
const LAUNCH_GUARD: Duration = Duration::from_secs(180);

fn required() -> bool {
    std::env::var_os("GATECHECK_REQUIRE_BROWSER").is_some()
        || std::env::var_os("GATECHECK_REQUIRE_PROXIES").is_some()
}

fn find_chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("GATECHECK_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |d| d.join(name)))
        .find(|p| p.is_file())
}

/// What one Chromium launch left behind.
struct Launch {
    /// `--dump-dom`: the DOM after the load event, serialized.
    dom: String,
    /// `--enable-logging=stderr --v=0`.
    stderr: String,
    /// `--log-net-log`: every request the network service saw.
    netlog: Value,
    /// `--screenshot`.
    png: Vec<u8>,
    /// `--print-to-pdf`.
    pdf: Vec<u8>,
}

/// Open `page` in headless Chromium once, asking for everything at once.
fn launch(chromium: &Path, page: &Path, dir: &Path) -> Launch {
    let (png, pdf, net) = (
        dir.join("shot.png"),
        dir.join("print.pdf"),
        dir.join("net.json"),
    );
    let (out, err) = (dir.join("dom.html"), dir.join("stderr.txt"));
    let started = Instant::now();
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--enable-logging=stderr",
            "--v=0",
            "--hide-scrollbars",
            "--no-first-run",
            "--no-pdf-header-footer",
            // every host name fails to resolve at once: nothing leaves the
            // machine, and a request the page makes is still logged (the
            // request starts before its name is resolved)
            "--host-resolver-rules=MAP * ~NOTFOUND",
        ])
        .arg(format!("--user-data-dir={}", dir.join("profile").display()))
        .arg(format!("--log-net-log={}", net.display()))
        .arg(format!("--window-size={},{}", WINDOW.0, WINDOW.1))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).expect("dom file"))
        .stderr(std::fs::File::create(&err).expect("stderr file"))
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}", chromium.display()));
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait for chromium") {
            break s;
        }
        if started.elapsed() > LAUNCH_GUARD {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium still running after {LAUNCH_GUARD:?}: killed");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stderr = std::fs::read_to_string(&err).unwrap_or_default();
    assert!(status.success(), "chromium exited {status}:\n{stderr}");
    eprintln!(
        "chromium on {}: {:.1?}",
        page.file_name().unwrap_or_default().to_string_lossy(),
        started.elapsed()
    );
    let read = |p: &Path| std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    Launch {
        dom: String::from_utf8(read(&out)).expect("the DOM dump is UTF-8"),
        netlog: serde_json::from_slice(&read(&net)).expect("the net log is JSON"),
        png: read(&png),
        pdf: read(&pdf),
        stderr,
    }
}

fn gatecheck(args: &[&str]) -> Vec<u8> {
    let o = Command::new(env!("CARGO_BIN_EXE_gatecheck"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run gatecheck");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    o.stdout
}

/// The demo's report, its JSON twin, and one launch on the report.
struct Demo {
    json: Value,
    launch: Launch,
    _dir: tempfile::TempDir,
}

impl Demo {
    /// The HTML report of `input`, written as `name` in a temp dir, its JSON
    /// twin, and one launch of `chromium` on the report.
    fn of(chromium: &Path, input: &str, name: &str) -> Demo {
        let dir = tempfile::tempdir().expect("temp dir");
        let html = dir.path().join(name);
        gatecheck(&["analyze", input, "-o", html.to_str().unwrap()]);
        let json = serde_json::from_slice(&gatecheck(&["analyze", input, "--format", "json"]))
            .expect("JSON report");
        let launch = launch(chromium, &html, dir.path());
        Demo {
            json,
            launch,
            _dir: dir,
        }
    }
}

/// `None` when the test is skipped (no Chromium and not required).
fn demo() -> Option<&'static Demo> {
    static DEMO: OnceLock<Option<Demo>> = OnceLock::new();
    DEMO.get_or_init(|| {
        let Some(chromium) = find_chromium() else {
            let msg = "no chromium on $PATH (apt-get install chromium, or set GATECHECK_CHROMIUM)";
            assert!(!required(), "{msg}, and a browser is required");
            eprintln!("skipping the browser tests: {msg}");
            return None;
        };
        Some(Demo::of(&chromium, "fixtures/incident/", "report.html"))
    })
    .as_ref()
}

/// A report with hops (nginx in front of HAProxy, the real-proxy chain's
/// captured logs), its JSON twin and one launch on it: the hops' timing
/// tables are checked on it.
fn hop_demo() -> Option<&'static Demo> {
    static HOPS: OnceLock<Option<Demo>> = OnceLock::new();
    HOPS.get_or_init(|| {
        let chromium = find_chromium()?;
        Some(Demo::of(
            &chromium,
            "fixtures/logs/chain_real/",
            "hops.html",
        ))
    })
    .as_ref()
}

// ---------------------------------------------------------------------------
// The DOM as Chromium serialized it.

/// One element of the dumped DOM.
#[derive(Debug)]
struct Element {
    name: String,
    attrs: Vec<(String, String)>,
    parent: Option<usize>,
    /// Its own text (not its children's), entities decoded.
    text: String,
}

impl Element {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    fn num(&self, name: &str) -> u64 {
        let v = self
            .attr(name)
            .unwrap_or_else(|| panic!("<{}> has no {name}", self.name));
        v.parse()
            .unwrap_or_else(|_| panic!("<{}> {name}={v:?}", self.name))
    }
}

fn decode(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let end = rest[i..].find(';').map(|e| i + e);
        let ent = end.map(|e| &rest[i + 1..e]);
        let ch = match ent {
            Some("amp") => Some('&'),
            Some("lt") => Some('<'),
            Some("gt") => Some('>'),
            Some("quot") => Some('"'),
            Some("nbsp") => Some('\u{a0}'),
            Some(e) if e.starts_with('#') => e[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match (ch, end) {
            (Some(c), Some(e)) => {
                out.push(c);
                rest = &rest[e + 1..];
            }
            _ => {
                out.push('&');
                rest = &rest[i + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Elements HTML serializes without an end tag.
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr",
];

/// Parse Chromium's serialization of a DOM (`--dump-dom`): every non-void
/// element closed in order, attribute values double-quoted, `<style>`
/// raw. Anything else is an error: the dump did not come from a DOM the
/// way we expect, and the test says where.
fn parse_dom(doc: &str) -> Result<Vec<Element>, String> {
    let mut els: Vec<Element> = Vec::new();
    let mut open: Vec<usize> = Vec::new();
    let mut rest = doc
        .strip_prefix("<!DOCTYPE html>")
        .ok_or("no doctype first")?;
    let at = |rest: &str| doc.len() - rest.len();
    while !rest.is_empty() {
        let lt = rest.find('<').unwrap_or(rest.len());
        if let Some(&top) = open.last() {
            els[top].text.push_str(&decode(&rest[..lt]));
        } else if !rest[..lt].trim().is_empty() {
            return Err(format!("text outside <html> at byte {}", at(rest)));
        }
        rest = &rest[lt..];
        if rest.is_empty() {
            break;
        }
        if let Some(c) = rest.strip_prefix("<!--") {
            let end = c.find("-->").ok_or("unclosed comment")?;
            rest = &c[end + 3..];
            continue;
        }
        let gt = rest
            .find('>')
            .ok_or_else(|| format!("unclosed tag at byte {}", at(rest)))?;
        let tag = &rest[1..gt];
        let after = &rest[gt + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            let top = open
                .pop()
                .ok_or_else(|| format!("</{name}> closes nothing"))?;
            if els[top].name != name {
                return Err(format!("<{}> closed by </{name}>", els[top].name));
            }
            rest = after;
            continue;
        }
        let name_len = tag
            .find(|c: char| c.is_ascii_whitespace() || c == '/')
            .unwrap_or(tag.len());
        let name = tag[..name_len].to_string();
        let mut attrs = Vec::new();
        let mut a = tag[name_len..].trim_start();
        while !a.is_empty() && a != "/" {
            let k_end = a
                .find(|c: char| c == '=' || c.is_ascii_whitespace())
                .unwrap_or(a.len());
            let key = a[..k_end].to_string();
            a = &a[k_end..];
            let value = if let Some(v) = a.strip_prefix("=\"") {
                let q = v
                    .find('"')
                    .ok_or_else(|| format!("unquoted {key} in <{name}>"))?;
                a = &v[q + 1..];
                decode(&v[..q])
            } else {
                String::new()
            };
            attrs.push((key, value));
            a = a.trim_start();
        }
        let parent = open.last().copied();
        els.push(Element {
            name: name.clone(),
            attrs,
            parent,
            text: String::new(),
        });
        let id = els.len() - 1;
        rest = after;
        if name == "style" || name == "script" {
            // raw text: its content is not markup
            let end = rest
                .find(&format!("</{name}>"))
                .ok_or_else(|| format!("unclosed <{name}>"))?;
            els[id].text = rest[..end].to_string();
            rest = &rest[end + name.len() + 3..];
        } else if !VOID.contains(&name.as_str()) {
            open.push(id);
        }
    }
    if let Some(&top) = open.last() {
        return Err(format!("<{}> never closed", els[top].name));
    }
    Ok(els)
}

fn is_within(els: &[Element], mut i: usize, ancestor: usize) -> bool {
    while let Some(p) = els[i].parent {
        if p == ancestor {
            return true;
        }
        i = p;
    }
    false
}

/// The elements under `ancestor` with attribute `attr`, in document order.
fn under<'a>(els: &'a [Element], ancestor: usize, attr: &str) -> Vec<&'a Element> {
    (ancestor + 1..els.len())
        .filter(|&i| els[i].attr(attr).is_some() && is_within(els, i, ancestor))
        .map(|i| &els[i])
        .collect()
}

fn find(els: &[Element], attr: &str, value: &str) -> Option<usize> {
    els.iter().position(|e| e.attr(attr) == Some(value))
}

/// A count as the page shows it (`1,234`), as a number.
fn shown(text: &str) -> u64 {
    text.trim()
        .replace(',', "")
        .parse()
        .unwrap_or_else(|_| panic!("not a count: {text:?}"))
}

/// The (key, count) rows of the table `data-table=key`, each count both
/// as its attribute and as the number shown in the row's second cell.
fn table_rows(els: &[Element], key: &str) -> Vec<(String, u64)> {
    let Some(t) = find(els, "data-table", key) else {
        return Vec::new();
    };
    assert_eq!(els[t].name, "table");
    under(els, t, "data-key")
        .into_iter()
        .map(|row| {
            assert_eq!(row.name, "tr", "{key}: a keyed row is a <tr>");
            let n = row.num("data-count");
            let me = els.iter().position(|e| std::ptr::eq(e, row)).unwrap();
            let cells: Vec<&Element> = els
                .iter()
                .enumerate()
                .filter(|(_, e)| e.name == "td" && e.parent == Some(me))
                .map(|(_, e)| e)
                .collect();
            assert_eq!(
                shown(&cells[1].text),
                n,
                "{key}: the count shown = data-count"
            );
            (row.attr("data-key").unwrap().to_string(), n)
        })
        .collect()
}

fn json_rows(v: &Value, key_field: &str) -> Vec<(String, u64)> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|r| {
                    (
                        r[key_field].as_str().expect("key").to_string(),
                        r["count"].as_u64().expect("count"),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn dom() -> Option<(&'static Demo, Vec<Element>)> {
    let d = demo()?;
    let els = parse_dom(&d.launch.dom).unwrap_or_else(|e| panic!("the dumped DOM: {e}"));
    Some((d, els))
}

#[test]
fn dom_total_and_tables_equal_the_json() {
    let Some((d, els)) = dom() else { return };
    let j = &d.json;
    let total = find(&els, "id", "total-502").expect("#total-502 in the DOM");
    let n502 = j["totals"]["status_502"].as_u64().unwrap();
    assert!(n502 > 0, "the demo has 502s");
    assert_eq!(els[total].num("data-count"), n502);
    assert_eq!(shown(&els[total].text), n502, "the total shown");
    for key in [
        "causes_502",
        "causes_504",
        "causes_other_5xx",
        "causes_rescued",
        "causes_replaced",
    ] {
        assert_eq!(
            table_rows(&els, key),
            json_rows(&j[key], "cause"),
            "table {key}"
        );
    }
    assert!(
        !table_rows(&els, "causes_502").is_empty(),
        "the demo has a cause table"
    );
    for key in ["top_upstreams", "top_hosts", "top_paths"] {
        assert_eq!(table_rows(&els, key), json_rows(&j[key], "key"), "{key}");
    }
    assert!(!table_rows(&els, "top_upstreams").is_empty());
}

#[test]
fn dom_timeline_bins_equal_the_json_minutes() {
    let Some((d, els)) = dom() else { return };
    let svg = find(&els, "id", "timeline").expect("svg#timeline in the DOM");
    assert_eq!(els[svg].name, "svg");
    let minutes = d.json["timeline"].as_array().expect("timeline");
    let bars = under(&els, svg, "data-start");
    assert!(!bars.is_empty() && bars.len() <= minutes.len());
    // the plot's height: the x axis is the one <line> of the SVG
    let axis = under(&els, svg, "y1")
        .into_iter()
        .find(|e| e.name == "line")
        .expect("x axis");
    let plot_h: f64 = axis.attr("y1").unwrap().parse().unwrap();
    let max = bars.iter().map(|b| b.num("data-502")).max().unwrap().max(1);
    let mut next = 0;
    for bar in &bars {
        let n = bar.num("data-minutes") as usize;
        let rows = &minutes[next..next + n];
        next += n;
        assert_eq!(
            Some(bar.attr("data-start").unwrap()),
            rows[0]["minute"].as_str()
        );
        let sum = |f: &dyn Fn(&Value) -> u64| -> u64 { rows.iter().map(f).sum() };
        assert_eq!(
            bar.num("data-502"),
            sum(&|r| r["status_502"].as_u64().unwrap())
        );
        // each cause's segments add up to that cause's 502s in these minutes
        let me = els.iter().position(|e| std::ptr::eq(e, *bar)).unwrap();
        let mut seen: BTreeMap<String, u64> = BTreeMap::new();
        let mut height = 0.0;
        for r in under(&els, me, "data-cause") {
            assert_eq!(r.name, "rect");
            *seen
                .entry(r.attr("data-cause").unwrap().into())
                .or_default() += r.num("data-count");
            height += r.attr("height").unwrap().parse::<f64>().unwrap();
        }
        let mut want: BTreeMap<String, u64> = BTreeMap::new();
        for row in rows {
            for (c, v) in row["by_cause"].as_object().into_iter().flatten() {
                *want.entry(c.clone()).or_default() += v.as_u64().unwrap();
            }
        }
        want.retain(|_, v| *v > 0);
        assert_eq!(seen, want, "bar at {}", bar.attr("data-start").unwrap());
        // and the bar is drawn that tall (each segment rounded to 0.1 px)
        let drawn = plot_h * seen.values().sum::<u64>() as f64 / max as f64;
        assert!(
            (height - drawn).abs() <= 0.06 * seen.len() as f64 + 1e-9,
            "bar at {}: {height} px drawn, {drawn} px for its counts",
            bar.attr("data-start").unwrap()
        );
    }
    assert_eq!(next, minutes.len(), "every minute is in a bar");
}

/// `≤ 1 ms · ≤ 20 ms · ≤ 25.1 s (n=38)` as shown agrees with the JSON
/// quantiles (ms, bucket upper bounds rounded to 3 digits) and count.
fn check_quantiles_shown(shown_text: &str, q: &Value, what: &str) {
    let count = q["count"].as_u64().unwrap();
    if count == 0 {
        assert_eq!(shown_text.trim(), "-", "{what}");
        return;
    }
    let (values, n) = shown_text
        .trim()
        .rsplit_once(" (n=")
        .unwrap_or_else(|| panic!("{what}: {shown_text:?}"));
    assert_eq!(shown(n.trim_end_matches(')')), count, "{what}: n shown");
    let parts: Vec<&str> = values.split(" · ").collect();
    assert_eq!(parts.len(), 3, "{what}: {shown_text:?}");
    for (part, key) in parts.iter().zip(["p50_ms", "p95_ms", "p99_ms"]) {
        let want = q[key].as_f64();
        match (*part, want) {
            ("-", None) => {}
            ("< 1 ms", Some(ms)) => assert!(ms < 1.0, "{what} {key}: {part} vs {ms}"),
            (p, Some(ms)) if p.ends_with(" ms") => {
                let v: f64 = p[3..p.len() - 3].trim().parse().unwrap();
                assert!((v - ms).abs() <= 0.5, "{what} {key}: {p} vs {ms}");
            }
            (p, Some(ms)) if p.ends_with(" s") => {
                let v: f64 = p[3..p.len() - 2].trim().parse().unwrap();
                assert!((v * 1000.0 - ms).abs() <= 50.0, "{what} {key}: {p} vs {ms}");
            }
            (p, w) => panic!("{what} {key}: shown {p:?}, JSON {w:?}"),
        }
    }
}

/// Every timing table (`data-timings` = `timings` or `hops.<name>.timings`,
/// the JSON's place) against the JSON: its rows (upstream, phase), the
/// attempts and 502 counts, each side's count and quantiles as attributes
/// and as shown, and the notes naming the field to log. Returns the number
/// of quantile cells checked.
fn check_timing_tables(els: &[Element], j: &Value) -> usize {
    let mut sections = vec![("timings".to_string(), &j["timings"])];
    for h in j["hops"].as_array().into_iter().flatten() {
        let name = h["name"].as_str().unwrap();
        sections.push((format!("hops.{name}.timings"), &h["timings"]));
    }
    let mut cells = 0;
    let mut gaps_json = Vec::new();
    for (key, t) in &sections {
        for g in t["gaps"].as_array().into_iter().flatten() {
            gaps_json.push(format!("note: {}", g["note"].as_str().unwrap()));
        }
        let ups = t["upstreams"].as_array().expect("upstreams");
        let table = find(els, "data-timings", key);
        if ups.is_empty() {
            assert!(table.is_none(), "{key}: a table without upstreams");
            continue;
        }
        let table = table.unwrap_or_else(|| panic!("no table data-timings={key}"));
        let rows = under(els, table, "data-upstream");
        let want: Vec<(&Value, Option<&Value>)> = ups
            .iter()
            .flat_map(|u| {
                let ps: Vec<Option<&Value>> =
                    u["phases"].as_array().unwrap().iter().map(Some).collect();
                let ps = if ps.is_empty() { vec![None] } else { ps };
                ps.into_iter().map(move |p| (u, p))
            })
            .collect();
        assert_eq!(rows.len(), want.len(), "{key}: rows");
        let mut last = None;
        for (row, (u, p)) in rows.iter().zip(want) {
            let at = els.iter().position(|e| std::ptr::eq(e, *row)).unwrap();
            let up = u["upstream"].as_str().unwrap();
            assert_eq!(row.attr("data-upstream"), Some(up), "{key}");
            assert_eq!(
                row.attr("data-phase"),
                p.map(|p| p["phase"].as_str().unwrap()),
                "{key} {up}"
            );
            let tds: Vec<&Element> = els
                .iter()
                .filter(|e| e.name == "td" && e.parent == Some(at))
                .collect();
            if last != Some(up) {
                // the upstream's first row: attempts and 502s, as data and as shown
                assert_eq!(
                    tds[1].num("data-count"),
                    u["attempts"].as_u64().unwrap(),
                    "{key} {up}"
                );
                assert_eq!(
                    shown(&tds[1].text),
                    u["attempts"].as_u64().unwrap(),
                    "{key} {up}"
                );
                assert_eq!(
                    tds[2].num("data-count"),
                    u["failed_502"].as_u64().unwrap(),
                    "{key} {up}"
                );
                assert_eq!(
                    shown(&tds[2].text),
                    u["failed_502"].as_u64().unwrap(),
                    "{key} {up}"
                );
                last = Some(up);
            }
            let Some(p) = p else { continue };
            for side in ["failed_502", "ok"] {
                let what = format!("{key} {up} {} {side}", p["phase"]);
                let td = tds
                    .iter()
                    .find(|e| e.attr("data-side") == Some(side))
                    .unwrap_or_else(|| panic!("{what}: no cell"));
                let q = &p[side];
                assert_eq!(td.num("data-count"), q["count"].as_u64().unwrap(), "{what}");
                for k in ["p50", "p95", "p99"] {
                    let attr = td
                        .attr(&format!("data-{k}"))
                        .map(|v| v.parse::<f64>().unwrap());
                    assert_eq!(attr, q[format!("{k}_ms")].as_f64(), "{what} {k}");
                }
                check_quantiles_shown(&td.text, q, &what);
                cells += 1;
            }
        }
    }
    let mut gaps_dom: Vec<String> = els
        .iter()
        .filter(|e| e.attr("data-gap").is_some())
        .map(|e| e.text.clone())
        .collect();
    gaps_dom.sort();
    gaps_json.sort();
    assert_eq!(gaps_dom, gaps_json, "the notes on phases not logged");
    cells
}

#[test]
fn dom_timing_tables_equal_the_json() {
    let Some((d, els)) = dom() else { return };
    let n = check_timing_tables(&els, &d.json);
    assert!(n > 0, "the demo has upstream timings");
    let h = hop_demo().expect("chromium found above");
    let els = parse_dom(&h.launch.dom).unwrap_or_else(|e| panic!("the hops' DOM: {e}"));
    let hop = &h.json["hops"][0];
    assert_eq!(hop["name"], "haproxy");
    assert!(
        !hop["timings"]["upstreams"].as_array().unwrap().is_empty(),
        "the chain's HAProxy hop has next-hop timings"
    );
    assert!(
        find(&els, "data-timings", "hops.haproxy.timings").is_some(),
        "the hop's timing table is in the page"
    );
    assert!(check_timing_tables(&els, &h.json) > 0);
    let errs = page_errors(&h.launch.stderr);
    assert!(
        errs.is_empty(),
        "the hops' page logged:\n{}",
        errs.join("\n")
    );
}

// ---------------------------------------------------------------------------
// Console and network.

/// Lines of Chromium's log that are the page's: console messages (logged
/// as `INFO:CONSOLE` whatever their level, an SVG attribute error among
/// them), and errors logged by the renderer (Blink, `content/renderer`).
///
/// Ignored, because they are the browser's complaints about this machine,
/// not about the page (seen on Debian 12's chromium 156 in a container):
/// `dbus/*` (no system bus), `device/bluetooth/*`, `ui/base/idle/*` (no
/// screensaver service), `media/gpu/vaapi/*` and `sandbox/policy/*` (no GPU,
/// `--no-sandbox`), the "N bytes written to file" lines of `--screenshot`
/// and `--print-to-pdf`, and the Debian wrapper script's own shell error
/// (`/usr/bin/chromium: 9: [: …: unexpected operator`). None of them are
/// matched by the test below, so they need no list: only the page's lines
/// are looked for.
fn page_errors(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| {
            l.contains(":CONSOLE")
                || ((l.contains(":ERROR:") || l.contains(":FATAL:"))
                    && (l.contains("third_party/blink/") || l.contains("content/renderer/")))
        })
        .collect()
}

/// The URLs the page asked the network for. Chromium's own services
/// (component updater, time fetch, spelling dictionary, account check: all
/// seen in a run despite `--disable-background-networking`) start their
/// requests with initiator "not an origin" and their own or a null
/// network isolation key; a request of a `file://` page carries the
/// page's key (`file:// …`) and the page's opaque origin, "null", as
/// initiator (seen on chromium 156 with an `<img src=http://…>`).
fn page_requests(netlog: &Value) -> Vec<String> {
    let types = netlog["constants"]["logEventTypes"]
        .as_object()
        .expect("net log constants");
    let start = types["URL_REQUEST_START_JOB"].as_u64().unwrap();
    netlog["events"]
        .as_array()
        .expect("net log events")
        .iter()
        .filter(|e| e["type"].as_u64() == Some(start))
        .map(|e| &e["params"])
        .filter(|p| {
            let file_page = |k: &str| p[k].as_str().is_some_and(|v| v.starts_with("file:"));
            p["url"].is_string()
                && (p["initiator"].as_str() == Some("null")
                    || file_page("initiator")
                    || file_page("network_isolation_key"))
        })
        .map(|p| p["url"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn no_console_message_and_no_request() {
    let Some(d) = demo() else { return };
    let errs = page_errors(&d.launch.stderr);
    assert!(errs.is_empty(), "the page logged:\n{}", errs.join("\n"));
    let fetched = page_requests(&d.launch.netlog);
    assert!(fetched.is_empty(), "the report fetched {fetched:?}");
}

/// The detectors above see what they look for: a page with an SVG
/// attribute error and an image on the network trips both.
#[test]
fn detectors_see_a_console_error_and_a_request() {
    let Some(chromium) = find_chromium() else {
        assert!(!required(), "no chromium, and a browser is required");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("faulty.html");
    std::fs::write(
        &page,
        "<!DOCTYPE html><html><body><p>x</p>\
         <svg width=\"10\" height=\"10\"><rect width=\"-5\" height=\"5\"/></svg>\
         <img src=\"http://gatecheck.invalid/pixel.png\" alt=\"\"></body></html>",
    )
    .unwrap();
    let l = launch(&chromium, &page, dir.path());
    let errs = page_errors(&l.stderr);
    assert!(
        errs.iter().any(|e| e.contains("<rect> attribute width")),
        "the SVG error is not seen in:\n{}",
        l.stderr
    );
    assert_eq!(
        page_requests(&l.netlog),
        ["http://gatecheck.invalid/pixel.png"]
    );
    assert!(parse_dom(&l.dom).is_ok());
}

// ---------------------------------------------------------------------------
// Screenshot and print.

/// The pixels of a PNG as RGB(A) rows: enough of the format for Chromium's
/// screenshots (8-bit RGB or RGBA, not interlaced), which is what the
/// check needs; anything else is reported, not guessed.
fn png_pixels(png: &[u8]) -> (u32, u32, usize, Vec<u8>) {
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    let (mut w, mut h, mut bpp) = (0, 0, 0);
    let mut idat = Vec::new();
    let mut at = 8;
    while at + 8 <= png.len() {
        let len = u32::from_be_bytes(png[at..at + 4].try_into().unwrap()) as usize;
        let kind = &png[at + 4..at + 8];
        let data = &png[at + 8..at + 8 + len];
        match kind {
            b"IHDR" => {
                w = u32::from_be_bytes(data[0..4].try_into().unwrap());
                h = u32::from_be_bytes(data[4..8].try_into().unwrap());
                assert_eq!(data[8], 8, "bit depth");
                assert_eq!(data[12], 0, "interlaced");
                bpp = match data[9] {
                    2 => 3,
                    6 => 4,
                    t => panic!("PNG colour type {t}"),
                };
            }
            b"IDAT" => idat.extend_from_slice(data),
            _ => {}
        }
        at += 12 + len;
    }
    let mut raw = Vec::new();
    flate2::read::ZlibDecoder::new(&idat[..])
        .read_to_end(&mut raw)
        .expect("PNG data inflates");
    let stride = w as usize * bpp;
    assert_eq!(raw.len(), h as usize * (stride + 1), "PNG data size");
    let mut px = vec![0u8; h as usize * stride];
    for y in 0..h as usize {
        let filter = raw[y * (stride + 1)];
        let line = &raw[y * (stride + 1) + 1..(y + 1) * (stride + 1)];
        for x in 0..stride {
            let a = if x >= bpp {
                px[y * stride + x - bpp]
            } else {
                0
            } as i16;
            let b = if y > 0 { px[(y - 1) * stride + x] } else { 0 } as i16;
            let c = if x >= bpp && y > 0 {
                px[(y - 1) * stride + x - bpp]
            } else {
                0
            } as i16;
            let pred = match filter {
                0 => 0,
                1 => a,
                2 => b,
                3 => (a + b) / 2,
                4 => {
                    let p = a + b - c;
                    let (pa, pb, pc) = ((p - a).abs(), (p - b).abs(), (p - c).abs());
                    if pa <= pb && pa <= pc {
                        a
                    } else if pb <= pc {
                        b
                    } else {
                        c
                    }
                }
                f => panic!("PNG filter {f}"),
            };
            px[y * stride + x] = line[x].wrapping_add(pred as u8);
        }
    }
    (w, h, bpp, px)
}

#[test]
fn screenshot_is_the_window_and_shows_the_causes_colours() {
    let Some((d, els)) = dom() else { return };
    let (w, h, bpp, px) = png_pixels(&d.launch.png);
    assert_eq!((w, h), WINDOW);
    // the colour of the first cause's swatch (`background:#rrggbb`, top of
    // the cause table, inside the window) is painted
    let t = find(&els, "data-table", "causes_502").expect("cause table");
    let swatch = (t..els.len())
        .filter(|&i| is_within(&els, i, t))
        .find_map(|i| els[i].attr("style")?.strip_prefix("background:#"))
        .expect("a swatch in the cause table");
    let rgb: Vec<u8> = (0..3)
        .map(|i| u8::from_str_radix(&swatch[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    let painted = px
        .chunks(bpp)
        .filter(|p| p.iter().zip(&rgb).all(|(a, b)| a.abs_diff(*b) <= 2))
        .count();
    assert!(
        painted >= 25,
        "#{swatch}: {painted} pixels of that colour in the screenshot"
    );
    let mut colours: Vec<&[u8]> = px.chunks(bpp).collect();
    colours.sort_unstable();
    colours.dedup();
    assert!(
        colours.len() > 8,
        "{} colours: a blank page?",
        colours.len()
    );
}

#[test]
fn prints_to_a_pdf() {
    let Some(d) = demo() else { return };
    let pdf = &d.launch.pdf;
    assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
    let tail = &pdf[pdf.len().saturating_sub(64)..];
    assert!(
        tail.windows(5).any(|w| w == b"%%EOF"),
        "the PDF is not complete"
    );
    // Chromium (Skia) writes its page objects uncompressed: `/Type /Page`
    // once per page, and once `/Type /Pages` for the page tree
    let count = |pat: &[u8]| pdf.windows(pat.len()).filter(|w| *w == pat).count();
    let pages = count(b"/Type /Page") - count(b"/Type /Pages");
    assert!(pages >= 1, "no page in the PDF");
}
