//! The analyze report as one self-contained HTML file: inline CSS, inline
//! SVG (the 502s per minute stacked by cause, burst windows shaded), no
//! script, no font, nothing fetched. Same sections, in the same order, as
//! the Markdown document ([`super::markdown`]). Built with `maud`, whose
//! splices HTML-escape every value: a log line cannot add markup.

use maud::{html, Markup, PreEscaped, DOCTYPE};

use super::fold::{self, num, pct};
use crate::analyze::report::{CauseRow, Count, Coverage, Report};

/// Bars of the SVG timeline at most (minutes are folded to fit).
pub const TIMELINE_BARS: usize = 240;

/// The whole style sheet. For print (CSS Fragmentation and Color Adjustment
/// specs, as Chromium implements them): browsers drop background colours
/// when printing unless `print-color-adjust: exact`, and the legend
/// swatches and the verdict box are backgrounds; a table row or a bullet is
/// not split across two pages; a long address or path wraps instead of
/// running off the page edge, where print clips it.
const CSS: &str = "
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;max-width:1100px;padding:0 1em;color:#1b1f24}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:1px solid #d0d7de;padding-bottom:.2em;margin-top:1.6em}
h3{font-size:1.05em}
.verdict{font-size:1.15em;background:#fff8c5;border:1px solid #d4a72c;padding:.6em .8em;border-radius:6px}
.incomplete{background:#ffebe9;border:1px solid #cf222e;padding:.6em .8em;border-radius:6px}
table{border-collapse:collapse;margin:.6em 0}th,td{border:1px solid #d0d7de;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#f6f8fa}td.n{text-align:right;font-variant-numeric:tabular-nums}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.92em}
ul.ev{margin:.2em 0 .6em 0}.note{color:#57606a}
svg{max-width:100%;height:auto}.legend span{display:inline-block;margin-right:1em}
.sw{display:inline-block;width:.9em;height:.9em;vertical-align:middle;margin-right:.3em}
td.mono,li.mono{overflow-wrap:anywhere}
@media print{body{font-size:10pt;margin:0;max-width:none;padding:0}h2,h3{break-after:avoid}tr,li,svg,.legend{break-inside:avoid}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
@page{margin:1.5cm}
";

/// A fixed colour per cause (by its position in `Cause::ALL`), so one
/// cause has one colour in every report.
fn colour(id: &str) -> &'static str {
    const PALETTE: [&str; 14] = [
        "#cf222e", "#a40e26", "#0969da", "#bf8700", "#8250df", "#1a7f37", "#e16f24", "#57606a",
        "#bc4c00", "#116329", "#a475f9", "#0550ae", "#d1242f", "#6e7781",
    ];
    let i = crate::analyze::cause::Cause::ALL
        .iter()
        .position(|c| c.id() == id)
        .unwrap_or(PALETTE.len() - 1);
    PALETTE[i % PALETTE.len()]
}

/// `key` names the table in `data-table` (the JSON field it mirrors), so a
/// test can read the counts back without parsing prose.
fn cause_section(title: &str, key: &str, rows: &[CauseRow]) -> Markup {
    if rows.is_empty() {
        return html! {};
    }
    html! {
        h2 { (title) }
        table data-table=(key) {
            tr { th { "cause" } th { "count" } th { "share" } th { "born at" } th { "what it means" } }
            @for r in rows {
                tr data-key=(r.cause.id()) data-count=(r.count) {
                    td { span.sw style={ "background:" (colour(r.cause.id())) } {} code { (r.cause.id()) } }
                    td.n { (num(r.count)) }
                    td.n { (format!("{:.1} %", r.share * 100.0)) }
                    td { (r.born) }
                    td { (r.title) }
                }
            }
        }
        @for r in rows {
            h3 { code { (r.cause.id()) } " — " (num(r.count)) }
            ul.ev {
                @if let Some(ex) = &r.example {
                    li { "e.g. " span.mono { (ex.file) ":" (ex.line) } " " (ex.request)
                        @if !ex.evidence.is_empty() {
                            ul { @for e in &ex.evidence { li.mono { (e) } } }
                        }
                    }
                }
                @for c in &r.config { li { "setting: " span.mono { (c) } } }
                @for s in &r.settings {
                    li { "setting: " span.mono { (s.file) ":" (s.line) " " (s.directive) " " (s.value) }
                        @if s.defaulted { " (default)" }
                        " (" (s.scope) "): " (s.note)
                    }
                }
                li { strong { "next step: " } (r.hint) }
            }
        }
    }
}

fn coverage_note(what: &str, c: &Coverage, shown: usize) -> Option<String> {
    fold::coverage_note(c, shown, &format!("{what}s"), str::to_owned)
}

fn top(what: &str, key: &str, rows: &[Count], cov: &Coverage) -> Markup {
    if rows.is_empty() {
        return html! {};
    }
    html! {
        @if let Some(n) = coverage_note(what, cov, rows.len()) { p.note { (n) } }
        table data-table=(key) {
            tr { th { (what) } th { "502s" } }
            @for c in rows { tr data-key=(c.key) data-count=(c.count) { td.mono { (c.key) } td.n { (num(c.count)) } } }
        }
    }
}

/// The SVG: one bar per bucket of minutes, 502s stacked by cause, burst
/// windows shaded behind, a title on each bar for the exact counts.
fn timeline_svg(r: &Report) -> Markup {
    let buckets = fold::fold(&r.timeline, TIMELINE_BARS);
    let causes = fold::cause_order(r);
    let (w, h, left, bottom) = (960.0_f64, 220.0_f64, 44.0_f64, 22.0_f64);
    let max = buckets
        .iter()
        .map(|b| b.status_502)
        .max()
        .unwrap_or(0)
        .max(1);
    let bw = (w - left) / buckets.len().max(1) as f64;
    let y = |n: u64| (h - bottom) * n as f64 / max as f64;
    let in_burst = |start: &str| {
        r.bursts
            .iter()
            .any(|b| b.start.as_str() <= start && start < b.end.as_str())
    };
    html! {
        svg #timeline xmlns="http://www.w3.org/2000/svg" width=(w) height=(h) viewBox={ "0 0 " (w) " " (h) } role="img" {
            title { "502s per " (buckets.first().map_or(1, |b| b.minutes)) " minute(s), stacked by cause" }
            @for (i, b) in buckets.iter().enumerate() {
                @if in_burst(&b.start) {
                    rect x=(format!("{:.1}", left + i as f64 * bw)) y="0" width=(format!("{:.1}", bw)) height=(h - bottom) fill="#fff1e5" {}
                }
            }
            line x1=(left) y1=(h - bottom) x2=(w) y2=(h - bottom) stroke="#57606a" {}
            text x=(left - 4.0) y="12" text-anchor="end" font-size="11" { (max) }
            text x=(left - 4.0) y=(h - bottom) text-anchor="end" font-size="11" { "0" }
            @for (i, b) in buckets.iter().enumerate() {
                g data-start=(b.start) data-minutes=(b.minutes) data-502=(b.status_502) {
                    title { (b.start) ": " (b.status_502) " × 502"
                        @for c in &causes { @if let Some(n) = b.by_cause.get(c) { ", " (c) " " (n) } } }
                    // each cause's segment sits on the sum of the ones before it
                    @let segments = causes.iter().filter_map(|c| b.by_cause.get(c).map(|&n| (*c, n))).scan(0u64, |base, (c, n)| {
                        *base += n;
                        Some((c, n, *base))
                    });
                    @for (c, n, top) in segments {
                        rect x=(format!("{:.1}", left + i as f64 * bw)) y=(format!("{:.1}", h - bottom - y(top)))
                            width=(format!("{:.1}", (bw - 1.0).max(0.5))) height=(format!("{:.1}", y(n)))
                            fill=(colour(c)) data-cause=(c) data-count=(n) {}
                    }
                }
            }
            @if let (Some(a), Some(b)) = (buckets.first(), buckets.last()) {
                text x=(left) y=(h - 6.0) font-size="11" { (a.start) }
                text x=(w) y=(h - 6.0) font-size="11" text-anchor="end" { (b.start) }
            }
        }
        p.legend {
            @for c in &causes { span { span.sw style={ "background:" (colour(c)) } {} code { (c) } } }
            @if !r.bursts.is_empty() { span { span.sw style="background:#fff1e5" {} "burst" } }
        }
    }
}

/// "Timeout ladder": each hop's wait limit outer → inner, the outer hops
/// that give up first, the 5xx at each limit.
fn ladder(r: &Report) -> Markup {
    let Some(l) = &r.ladder else {
        return html! {};
    };
    let human = |ms: u64| crate::analyze::attribute::human(std::time::Duration::from_millis(ms));
    html! {
        h2 { "Timeout ladder" }
        p { "Outer → inner. Each hop must wait at least " (human(l.margin_ms))
            " longer than the next; a 5xx within ± " (human(l.tolerance_ms)) " of a limit is counted at it." }
        @if let Some(n) = &l.order_note { p.note { (n) } }
        table {
            tr { th { "hop" } th { "gives up after" } th { "set by" } th { "its 5xx at a rung's limit" } }
            @for g in &l.rungs {
                tr {
                    td { (g.hop) }
                    td { (g.limit_text()) }
                    td.mono { @for (i, line) in g.source_text().lines().enumerate() { @if i > 0 { br; } (line) } }
                    td { @for (i, line) in g.placed_text().lines().enumerate() { @if i > 0 { br; } (line) } }
                }
            }
        }
        @if !(l.findings.is_empty() && l.notes.is_empty()) {
            ul {
                @for f in &l.findings { li { strong { (f.message) } br; "help: " (f.help) } }
                @for n in &l.notes { li.note { (n) } }
            }
        }
    }
}

fn timings(r: &Report) -> Markup {
    html! {
        @for s in fold::timing_sections(r) {
            (timing_section(&s.title, &s.key, s.t))
        }
    }
}

/// One phase's quantiles as `data-<side>-*` attributes a test reads back
/// (absent: no value, as `null` in the JSON), and as the cell's text.
fn quantile_cell(side: &str, q: &crate::analyze::timing_report::Quantiles) -> Markup {
    let attr = |v: Option<f64>| v.map(|v| v.to_string());
    html! {
        td data-side=(side) data-count=(q.count) data-p50=[attr(q.p50_ms)] data-p95=[attr(q.p95_ms)] data-p99=[attr(q.p99_ms)] {
            (fold::quantiles(q))
        }
    }
}

fn timing_section(
    title: &str,
    key: &str,
    t: &crate::analyze::timing_report::TimingSections,
) -> Markup {
    html! {
        h2 { (title) }
        p.note { (fold::timings_note(t)) }
        table data-timings=(key) {
            tr { @for c in fold::TIMING_COLUMNS { th { (c) } } }
            @for u in &t.upstreams {
                @let rows = fold::phase_rows(u);
                @for (i, p) in rows.iter().enumerate() {
                    tr data-upstream=(u.upstream) data-phase=[p.map(|p| p.phase)] {
                        @if i == 0 {
                            td.mono rowspan=(rows.len()) { (u.upstream) }
                            td.n rowspan=(rows.len()) data-count=(u.attempts) { (num(u.attempts)) }
                            td.n rowspan=(rows.len()) data-count=(u.failed_502) { (num(u.failed_502)) }
                            td rowspan=(rows.len()) { (u.first_502.as_deref().unwrap_or("-")) }
                        }
                        @match p {
                            Some(p) => { td { (p.phase) } (quantile_cell("failed_502", &p.failed_502)) (quantile_cell("ok", &p.ok)) }
                            None => { td { "-" } td { "-" } td { "-" } }
                        }
                    }
                }
            }
        }
        @for g in &t.gaps { p.note data-gap=(g.phase) { "note: " (g.note) } }
        @if t.distinct_upstreams as usize > t.upstreams.len() {
            p.note { "top " (t.upstreams.len()) " of " (num(t.distinct_upstreams)) " upstream addresses" }
        }
        @if !t.bursts.is_empty() {
            p { "Before vs during each burst (every upstream):" }
            table {
                tr { th { "burst" } th { "phase" } th { "ok before" } th { "ok during" } th { "502 before" } th { "502 during" } }
                @for b in &t.bursts {
                    @for p in &b.during {
                        @let before = b.before.iter().find(|x| x.phase == p.phase);
                        tr {
                            td { (b.start) " → " (b.end) } td { (p.phase) }
                            td { (before.map_or("-".into(), |x| fold::quantiles(&x.ok))) }
                            td { (fold::quantiles(&p.ok)) }
                            td { (before.map_or("-".into(), |x| fold::quantiles(&x.failed_502))) }
                            td { (fold::quantiles(&p.failed_502)) }
                        }
                    }
                }
            }
        }
        @if !t.changes.is_empty() {
            p { "Upstream addresses that appeared or vanished:" }
            ul {
                @for c in &t.changes { li { span.mono { (c.upstream) } " " (c.change) " at " (c.at) } }
                @if let Some(more) = super::table::more_changes(t) { li { (more) } }
            }
        }
    }
}

/// Render the report as a self-contained HTML document.
pub fn render(r: &Report) -> String {
    let t = &r.totals;
    let bl = &r.burst_baseline;
    let doc = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "502 report — gatecheck" }
                style { (PreEscaped(CSS)) }
            }
            body {
                h1 { "502 report" }
                @if let Some(why) = &r.incomplete { p.incomplete { strong { "INCOMPLETE: " } (why) } }
                p.verdict { strong { "Verdict: " } (r.verdict) }
                @if let Some(unread) = fold::not_read(r) { p.note { (unread) } }
                @for n in &r.notes { p.note { "note: " (n) } }

                h2 { "Scope" }
                ul {
                    li { "requests: " (num(t.requests))
                        @if let (Some(a), Some(b)) = (&r.first_request, &r.last_request) { " from " (a) " to " (b) } }
                    li { "502 Bad Gateway: " strong #total-502 data-count=(t.status_502) { (num(t.status_502)) } " (" (pct(t.status_502, t.requests)) " of requests); 504: "
                        (num(t.status_504)) "; all 5xx: " (num(t.status_5xx)) "; rescued by a retry: " (num(t.rescued))
                        @if t.replaced > 0 { "; hidden by nginx (error_page =code, stale cache): " (num(t.replaced)) } }
                    @if let (Some(a), Some(b)) = (&r.first_502, &r.last_502) { li { "first 502: " (a) "; last 502: " (b) } }
                }
                @if !r.bursts.is_empty() {
                    p { "Bursts of 502s (baseline " (format!("{:.1}", bl.per_minute)) " 502s/min outside them; a burst minute has ≥ " (bl.threshold_per_minute) "):" }
                    table {
                        tr { th { "from" } th { "to" } th { "502s" } th { "peak/min" } th { "mostly" } }
                        @for b in &r.bursts {
                            tr { td { (b.start) } td { (b.end) } td.n { (num(b.count_502)) } td.n { (num(b.peak_per_minute)) } td { code { (b.top_cause.id()) } } }
                        }
                    }
                    @if let Some(more) = fold::more_bursts(r) { p.note { (more) } }
                }
                @if bl.minor_spikes > 0 { p.note { (bl.minor_spikes) " smaller spike(s) of 502s not listed as bursts." } }

                @if let Some(b) = r.born.as_ref().filter(|b| b.order.len() > 1) {
                    h2 { "Where the 502s were born" }
                    p { "hops: " (b.order.join(" → ")) "; joined " (b.join) }
                    @let total: u64 = b.totals.values().sum();
                    table {
                        tr { th { "born at" } th { "hop" } th { "cause" } th { "502s" } th { "share" } }
                        @for row in &b.rows {
                            tr { td { (row.born_at) } td { (row.hop) } td { code { (row.cause.id()) } } td.n { (num(row.count)) } td.n { (pct(row.count, total)) } }
                        }
                    }
                }

                (ladder(r))

                (cause_section("Causes of 502", "causes_502", &r.causes_502))
                (cause_section("Causes of 504", "causes_504", &r.causes_504))
                (cause_section("Other 5xx", "causes_other_5xx", &r.causes_other_5xx))
                (cause_section("Failed attempts a retry rescued", "causes_rescued", &r.causes_rescued))
                (cause_section("Upstream 5xx hidden from the client (nginx answered another status in its place: error_page =code, a stale cache)", "causes_replaced", &r.causes_replaced))
                @if !r.cut_responses.is_empty() {
                    h2 { "Responses cut after the header" }
                    p { (r.cut_responses.headline()) }
                    ul {
                        @for e in &r.cut_responses.examples {
                            li { code { (crate::analyze::cut::Cut::example_line(e)) } }
                        }
                    }
                }
                @for h in &r.hops {
                    h2 { "Hop " (h.name) " (" (format!("{:?}", h.hop)) ")" }
                    p { (num(h.totals.requests)) " requests; 502: " (num(h.totals.status_502)) "; 503: " (num(h.status_503)) "; 504: " (num(h.totals.status_504)) }
                    (cause_section(&format!("{}: causes of 502", h.name), &format!("hops.{}.causes_502", h.name), &h.causes_502))
                    (cause_section(&format!("{}: causes of 504", h.name), &format!("hops.{}.causes_504", h.name), &h.causes_504))
                }

                (timings(r))
                @if !r.timeline.is_empty() && t.status_502 > 0 {
                    h2 { "Timeline" }
                    (timeline_svg(r))
                }

                @if !(r.top_upstreams.is_empty() && r.top_hosts.is_empty() && r.top_paths.is_empty()) {
                    h2 { "Where the 502s went" }
                    (top("upstream", "top_upstreams", &r.top_upstreams, &r.top_coverage.upstreams))
                    (top("host", "top_hosts", &r.top_hosts, &r.top_coverage.hosts))
                    (top("path", "top_paths", &r.top_paths, &r.top_coverage.paths))
                }

                h2 { "What was read, and what was not" }
                @if r.inputs.len() > super::table::INPUT_ROWS {
                    // a dump of thousands of files: folded as the terminal table does
                    @let (rows, by_folder) = super::table::fold_inputs(&r.inputs);
                    p.note { (num(r.inputs.len() as u64)) " files in " (rows.len()) " rows, folded by "
                        (if by_folder { "folder and format" } else { "format" }) "; " code { "--format json" } " lists each" }
                    table {
                        tr { th { "files" } th { "read as" } th { "lines" } th { "malformed" } th { "why" } }
                        @for i in &rows {
                            tr { td.mono { (i.name) } td { (i.read_as) } td.n { (num(i.lines)) } td.n { (num(i.malformed)) } td { (i.why) } }
                        }
                    }
                } @else {
                    table {
                        tr { th { "file" } th { "read as" } th { "lines" } th { "malformed" } th { "why" } }
                        @for i in &r.inputs {
                            tr { td.mono { (i.path) } td { (i.kind) @if let Some(f) = &i.format { " (" (f) ")" } }
                                 td.n { (num(i.lines)) } td.n { (num(i.malformed)) } td { (i.reason) } }
                        }
                    }
                }
                @if !r.malformed_samples.is_empty() {
                    p { "Malformed lines (counted, skipped); the first:" }
                    ul { @for s in &r.malformed_samples { li.mono { (s.file) ":" (s.line) ": " (s.reason) ": " (s.text) } } }
                }
                @if t.filtered > 0 { p { (num(t.filtered)) " lines outside --since/--until" } }
                @if !r.problems.is_empty() {
                    ul {
                        @for p in r.problems.iter().take(super::table::PROBLEM_ROWS) { li { "problem: " span.mono { (p.path) } ": " (p.message) } }
                        @if let Some(more) = fold::more_of(r.problems.len(), super::table::PROBLEM_ROWS, "problems") { li { (more) } }
                    }
                }
                p.note { "gatecheck " (env!("CARGO_PKG_VERSION")) " — the numbers are those of " code { "--format json" } " for the same inputs." }
            }
        }
    };
    doc.into_string()
}
