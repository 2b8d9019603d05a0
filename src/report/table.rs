//! The analyze report as text tables for a terminal (comfy-table).

use std::fmt::Write as _;

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, CellAlignment, ContentArrangement, Table};

use super::fold::{self, num, pct_compact as pct};
use crate::analyze::report::{CauseRow, Count, Coverage, InputSummary, Report};
use crate::analyze::InputKind;

/// Rows the timeline is folded into at most.
pub const TIMELINE_ROWS: usize = 30;
/// Inputs listed one per row at most; more are folded by folder and format
/// (`--verbose` lists each).
pub const INPUT_ROWS: usize = 20;
/// Problems listed at most (`--verbose` lists each).
pub const PROBLEM_ROWS: usize = 20;
/// Width of the timeline bars.
const BAR: usize = 40;

fn table(header: &[&str], width: u16) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(width)
        .set_header(header.iter().map(Cell::new));
    t
}

fn cause_table(title: &str, rows: &[CauseRow], width: u16, out: &mut String) {
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n{title}");
    let mut t = table(
        &["cause", "count", "share", "born at", "what it means"],
        width,
    );
    for r in rows {
        t.add_row(vec![
            Cell::new(r.cause.id()),
            Cell::new(num(r.count)).set_alignment(CellAlignment::Right),
            Cell::new(format!("{:.1}%", r.share * 100.0)).set_alignment(CellAlignment::Right),
            Cell::new(r.born),
            Cell::new(r.title),
        ]);
    }
    let _ = writeln!(out, "{t}");
    for r in rows {
        let _ = writeln!(out, "  {} ({}):", r.cause.id(), num(r.count));
        if let Some(ex) = &r.example {
            let _ = writeln!(out, "    e.g. {}:{}  {}", ex.file, ex.line, ex.request);
            for e in &ex.evidence {
                let _ = writeln!(out, "      • {e}");
            }
        }
        for c in &r.config {
            let _ = writeln!(out, "      ⚙ {c}");
        }
        for s in &r.settings {
            let _ = writeln!(
                out,
                "      ⚙ {}:{}  {} {}{} ({}): {}",
                s.file,
                s.line,
                s.directive,
                s.value,
                if s.defaulted { " (default)" } else { "" },
                s.scope,
                s.note
            );
        }
        let _ = writeln!(out, "      → {}", r.hint);
    }
}

/// [`fold::coverage_note`] on a line of its own, after the table of `what`.
fn coverage_note(what: &str, c: &Coverage, shown: usize, out: &mut String) {
    if let Some(note) = fold::coverage_note(c, shown, what, str::to_owned) {
        let _ = writeln!(out, "{what}: {note}");
    }
}

fn top_table(title: &str, rows: &[Count], width: u16, out: &mut String) {
    if rows.is_empty() {
        return;
    }
    let mut t = table(
        &[
            title,
            if title.contains("error log") {
                "lines"
            } else {
                "502s"
            },
        ],
        width,
    );
    for r in rows {
        t.add_row(vec![
            Cell::new(&r.key),
            Cell::new(num(r.count)).set_alignment(CellAlignment::Right),
        ]);
    }
    let _ = writeln!(out, "{t}");
}

/// Render the report; `width` is the terminal width.
pub fn render(r: &Report, width: u16) -> String {
    render_with(r, width, false)
}

/// Render the report; `verbose` lists every input and problem instead of
/// folding long lists.
pub fn render_with(r: &Report, width: u16, verbose: bool) -> String {
    let mut out = String::new();
    let t = &r.totals;
    // an incomplete run says so on the very first line, the verdict next
    if let Some(why) = &r.incomplete {
        let _ = writeln!(out, "INCOMPLETE: {why}");
    }
    let _ = writeln!(out, "Verdict: {}", r.verdict);
    if let Some(unread) = fold::not_read(r) {
        let _ = writeln!(out, "{unread}");
    }
    out.push('\n');
    let n_access = r
        .inputs
        .iter()
        .filter(|i| matches!(i.input_kind, InputKind::NginxAccess | InputKind::Hop(_)))
        .count();
    let n_error = r.inputs.iter().filter(|i| i.kind == "nginx_error").count();
    let _ = writeln!(
        out,
        "gatecheck analyze: {} access log{}, {} error log{}, {} request{}",
        n_access,
        if n_access == 1 { "" } else { "s" },
        n_error,
        if n_error == 1 { "" } else { "s" },
        num(t.requests),
        if t.requests == 1 { "" } else { "s" }
    );
    if let (Some(a), Some(b)) = (&r.first_request, &r.last_request) {
        let _ = writeln!(out, "time range: {a} → {b}");
    }
    for n in &r.notes {
        let _ = writeln!(out, "note: {n}");
    }
    let _ = writeln!(out, "\n{}", fold::totals_line(t, fold::Style::Terminal));
    if let (Some(a), Some(b)) = (&r.first_502, &r.last_502) {
        let _ = writeln!(out, "first 502: {a}   last 502: {b}");
    }
    let bl = &r.burst_baseline;
    if !r.bursts.is_empty() {
        let _ = writeln!(
            out,
            "\nBursts of 502s (baseline {:.1} 502s/min outside them; a burst minute has ≥ {})",
            bl.per_minute, bl.threshold_per_minute
        );
        let mut tb = table(&["from", "to", "502s", "peak/min", "mostly"], width);
        for b in &r.bursts {
            tb.add_row(vec![
                Cell::new(&b.start),
                Cell::new(&b.end),
                Cell::new(num(b.count_502)).set_alignment(CellAlignment::Right),
                Cell::new(num(b.peak_per_minute)).set_alignment(CellAlignment::Right),
                Cell::new(b.top_cause.id()),
            ]);
        }
        let _ = writeln!(out, "{tb}");
        if let Some(more) = fold::more_bursts(r) {
            let _ = writeln!(out, "{more}");
        }
    }
    if bl.minor_spikes > 0 {
        let _ = writeln!(
            out,
            "{} smaller spike{} of 502s not listed as bursts (peak under 1/10 of the largest burst's)",
            bl.minor_spikes,
            if bl.minor_spikes == 1 { "" } else { "s" }
        );
    }
    cause_table("Causes of 502", &r.causes_502, width, &mut out);
    cause_table("Causes of 504", &r.causes_504, width, &mut out);
    cause_table("Other 5xx", &r.causes_other_5xx, width, &mut out);
    cause_table(
        "Failed attempts rescued by a retry (the client got a non-5xx; tomorrow's 502s)",
        &r.causes_rescued,
        width,
        &mut out,
    );
    cause_table(
        "Upstream 5xx hidden from the client (nginx answered another status in its place: error_page =code, a stale cache)",
        &r.causes_replaced,
        width,
        &mut out,
    );
    let cut = &r.cut_responses;
    if !cut.is_empty() {
        let _ = writeln!(out, "\n{}", cut.headline());
        for e in &cut.examples {
            let _ = writeln!(out, "  {}", crate::analyze::cut::Cut::example_line(e));
        }
    }
    if !(r.top_upstreams.is_empty() && r.top_hosts.is_empty() && r.top_paths.is_empty()) {
        let _ = writeln!(out, "\nWhere the 502s went");
    }
    let c = &r.top_coverage;
    // keys labelled with their hop (`nginx: 10.0.0.5:8080`, `haproxy:
    // be/srv`) when several hops name upstreams (see `label_upstreams`)
    let by_hop = !r.hops.is_empty() && r.top_upstreams.iter().all(|c| c.key.contains(": "));
    let upstream = if by_hop {
        "hop: upstream (nginx address, HAProxy backend/server)"
    } else {
        "upstream address"
    };
    for (what, rows, cov) in [
        (upstream, &r.top_upstreams, &c.upstreams),
        ("host", &r.top_hosts, &c.hosts),
        ("path", &r.top_paths, &c.paths),
    ] {
        if !rows.is_empty() {
            coverage_note(what, cov, rows.len(), &mut out);
        }
        top_table(what, rows, width, &mut out);
    }
    hops(r, width, &mut out);
    born(r, width, &mut out);
    ladder(r, width, &mut out);
    timings(r, width, &mut out);
    timeline(r, width, &mut out);
    error_log(r, width, &mut out);
    inputs(r, width, verbose, &mut out);
    out
}

/// Bars of the terminal sparkline at most.
pub const SPARK: usize = 60;

/// The 502s over time in one line of block characters (`▁▂▃▄▅▆▇█`), each a
/// fold of minutes; a minute without 502s is a space.
pub fn sparkline(r: &Report, max_bars: usize) -> String {
    const BLOCKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let b = crate::report::fold::fold(&r.timeline, max_bars);
    let max = b.iter().map(|b| b.status_502).max().unwrap_or(0).max(1);
    b.iter()
        .map(|b| match b.status_502 {
            0 => ' ',
            n => BLOCKS[((n * 8).div_ceil(max) as usize).clamp(1, 8) - 1],
        })
        .collect()
}

fn timings(r: &Report, width: u16, out: &mut String) {
    for s in fold::timing_sections(r) {
        timing_section(&s.title, s.t, width, out);
    }
}

fn timing_section(
    title: &str,
    t: &crate::analyze::timing_report::TimingSections,
    width: u16,
    out: &mut String,
) {
    let _ = writeln!(out, "\n{title} ({})", fold::timings_note(t));
    let mut tb = table(&fold::TIMING_COLUMNS, width);
    for u in &t.upstreams {
        for (i, p) in fold::phase_rows(u).into_iter().enumerate() {
            let first = i == 0;
            let or_blank = |s: String| if first { s } else { String::new() };
            tb.add_row(vec![
                Cell::new(or_blank(u.upstream.clone())),
                Cell::new(or_blank(num(u.attempts))).set_alignment(CellAlignment::Right),
                Cell::new(or_blank(num(u.failed_502))).set_alignment(CellAlignment::Right),
                Cell::new(or_blank(u.first_502.clone().unwrap_or_else(|| "-".into()))),
                Cell::new(p.map_or("-", |p| p.phase)),
                Cell::new(p.map_or("-".into(), |p| fold::quantiles(&p.failed_502))),
                Cell::new(p.map_or("-".into(), |p| fold::quantiles(&p.ok))),
            ]);
        }
    }
    let _ = writeln!(out, "{tb}");
    for g in &t.gaps {
        let _ = writeln!(out, "note: {}", g.note);
    }
    for b in &t.bursts {
        let _ = writeln!(
            out,
            "burst {} → {} vs the {} before:",
            b.start, b.end, b.before_from
        );
        for p in &b.during {
            let before = b.before.iter().find(|x| x.phase == p.phase);
            let _ = writeln!(
                out,
                "  {:<8} ok {} → {}   502 {} → {}",
                p.phase,
                before.map_or("-".into(), |x| crate::report::fold::quantiles(&x.ok)),
                crate::report::fold::quantiles(&p.ok),
                before.map_or("-".into(), |x| crate::report::fold::quantiles(
                    &x.failed_502
                )),
                crate::report::fold::quantiles(&p.failed_502)
            );
        }
    }
    for c in &t.changes {
        let _ = writeln!(out, "upstream {} {} at {}", c.upstream, c.change, c.at);
    }
    if let Some(more) = more_changes(t) {
        let _ = writeln!(out, "{more}");
    }
}

/// "… N more …" when the report lists only the first appeared/vanished
/// addresses.
pub(crate) fn more_changes(t: &crate::analyze::timing_report::TimingSections) -> Option<String> {
    let more = t.changes_total.saturating_sub(t.changes.len() as u64);
    (more > 0).then(|| {
        format!(
            "… and {more} more upstream addresses appeared or vanished ({} in all; the first {} are listed)",
            t.changes_total,
            t.changes.len()
        )
    })
}

fn timeline(r: &Report, width: u16, out: &mut String) {
    if r.timeline.is_empty() || r.totals.status_502 + r.totals.status_504 == 0 {
        return;
    }
    if let (Some(a), Some(b)) = (r.timeline.first(), r.timeline.last()) {
        let _ = writeln!(
            out,
            "\n502s {} |{}| {}",
            a.minute,
            sparkline(r, SPARK),
            b.minute
        );
    }
    let per = r.timeline.len().div_ceil(TIMELINE_ROWS).max(1);
    let buckets: Vec<(&str, u64, u64, u64)> = r
        .timeline
        .chunks(per)
        .map(|c| {
            (
                c[0].minute.as_str(),
                c.iter().map(|m| m.requests).sum(),
                c.iter().map(|m| m.status_502).sum(),
                c.iter().map(|m| m.status_504).sum(),
            )
        })
        .collect();
    let max = buckets.iter().map(|b| b.2).max().unwrap_or(0).max(1);
    let _ = writeln!(
        out,
        "\nTimeline ({} minute{} per row)",
        per,
        if per == 1 { "" } else { "s" }
    );
    let mut t = table(&["from", "requests", "502", "504", "502s"], width);
    for (m, req, s502, s504) in buckets {
        let bar = "█".repeat((s502 as usize * BAR).div_ceil(max as usize).min(BAR));
        t.add_row(vec![
            Cell::new(m),
            Cell::new(num(req)).set_alignment(CellAlignment::Right),
            Cell::new(num(s502)).set_alignment(CellAlignment::Right),
            Cell::new(num(s504)).set_alignment(CellAlignment::Right),
            Cell::new(bar),
        ]);
    }
    let _ = writeln!(out, "{t}");
}

fn error_log(r: &Report, width: u16, out: &mut String) {
    if r.error_log_kinds.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\nUpstream errors{} in the error logs ({} lines, joined to requests or not)",
        if r.error_log_kinds.contains_key("rate_limited") {
            " and limit_req/limit_conn refusals"
        } else {
            ""
        },
        num(r.error_log_upstream_lines)
    );
    let mut t = table(&["error", "lines"], width);
    let mut kinds: Vec<(&String, &u64)> = r.error_log_kinds.iter().collect();
    kinds.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    for (k, c) in kinds {
        t.add_row(vec![
            Cell::new(k),
            Cell::new(num(*c)).set_alignment(CellAlignment::Right),
        ]);
    }
    let _ = writeln!(out, "{t}");
    top_table("upstream (error log)", &r.error_log_upstreams, width, out);
}

fn read_as(i: &InputSummary) -> String {
    match &i.format {
        Some(f) => format!("{} ({f})", i.kind),
        None => i.kind.clone(),
    }
}

/// The folder part of an input's path (`logs/web-1/` of
/// `logs/web-1/access.log`), `./` for a bare name.
fn folder(path: &str) -> &str {
    match path.rfind('/') {
        Some(i) => &path[..=i],
        None => "./",
    }
}

/// One row of the Inputs table: a file, or a group of files folded together.
pub(crate) struct InputRow {
    /// The file, or the folder and how many files.
    pub(crate) name: String,
    /// How they were read.
    pub(crate) read_as: String,
    /// Lines read.
    pub(crate) lines: u64,
    /// Malformed lines.
    pub(crate) malformed: u64,
    /// Why they were read so.
    pub(crate) why: String,
}

/// Fold the inputs by (folder, how read); when that still makes more than
/// [`INPUT_ROWS`] rows, by how read alone (the flag says which).
pub(crate) fn fold_inputs(inputs: &[InputSummary]) -> (Vec<InputRow>, bool) {
    let group = |by_folder: bool| {
        let mut groups: Vec<(String, String, Vec<&InputSummary>)> = Vec::new();
        let mut at: std::collections::HashMap<(String, String), usize> = Default::default();
        for i in inputs {
            let key = (
                if by_folder {
                    folder(&i.path).to_string()
                } else {
                    String::new()
                },
                read_as(i),
            );
            match at.get(&key) {
                Some(&g) => groups[g].2.push(i),
                None => {
                    at.insert(key.clone(), groups.len());
                    groups.push((key.0, key.1, vec![i]));
                }
            }
        }
        groups
    };
    let mut groups = group(true);
    let by_folder = groups.len() <= INPUT_ROWS;
    if !by_folder {
        groups = group(false);
    }
    let rows = groups
        .into_iter()
        .map(|(dir, read_as, files)| {
            let reasons: std::collections::BTreeSet<&str> =
                files.iter().map(|f| f.reason.as_str()).collect();
            let first = files[0];
            InputRow {
                name: match files.len() {
                    1 => first.path.clone(),
                    n if dir.is_empty() => format!("{} files", num(n as u64)),
                    n => format!("{dir} ({} files)", num(n as u64)),
                },
                read_as,
                lines: files.iter().map(|f| f.lines).sum(),
                malformed: files.iter().map(|f| f.malformed).sum(),
                why: match reasons.len() {
                    1 => first.reason.clone(),
                    n => format!("{} (and {} other reasons)", first.reason, n - 1),
                },
            }
        })
        .collect();
    (rows, by_folder)
}

fn inputs(r: &Report, width: u16, verbose: bool, out: &mut String) {
    let folded = !verbose && r.inputs.len() > INPUT_ROWS;
    let (rows, by_folder) = if folded {
        fold_inputs(&r.inputs)
    } else {
        let rows = r
            .inputs
            .iter()
            .map(|i| InputRow {
                name: i.path.clone(),
                read_as: read_as(i),
                lines: i.lines,
                malformed: i.malformed,
                why: i.reason.clone(),
            })
            .collect();
        (rows, true)
    };
    if folded {
        let _ = writeln!(
            out,
            "\nInputs ({} files in {} row{}, folded by {}; --verbose lists each)",
            num(r.inputs.len() as u64),
            rows.len(),
            if rows.len() == 1 { "" } else { "s" },
            if by_folder {
                "folder and format"
            } else {
                "format (too many folders)"
            }
        );
    } else {
        let _ = writeln!(out, "\nInputs");
    }
    let mut t = table(&["file", "read as", "lines", "malformed", "why"], width);
    for i in rows {
        t.add_row(vec![
            Cell::new(i.name),
            Cell::new(i.read_as),
            Cell::new(num(i.lines)).set_alignment(CellAlignment::Right),
            Cell::new(num(i.malformed)).set_alignment(CellAlignment::Right),
            Cell::new(i.why),
        ]);
    }
    let _ = writeln!(out, "{t}");
    if !r.malformed_samples.is_empty() {
        let total: u64 = r.inputs.iter().map(|i| i.malformed).sum();
        let _ = writeln!(
            out,
            "\n{} malformed line{} (counted, skipped); the first:",
            num(total),
            if total == 1 { "" } else { "s" }
        );
        for s in &r.malformed_samples {
            let _ = writeln!(out, "  {}:{}: {}: {}", s.file, s.line, s.reason, s.text);
        }
    }
    if !r.problems.is_empty() {
        let _ = writeln!(out, "\nProblems (the rest of the work was done):");
        let shown = if verbose {
            r.problems.len()
        } else {
            PROBLEM_ROWS
        };
        for p in r.problems.iter().take(shown) {
            let _ = writeln!(out, "  {}: {}", p.path, p.message);
        }
        if r.problems.len() > shown {
            let _ = writeln!(
                out,
                "  … and {} more (--verbose lists each)",
                num((r.problems.len() - shown) as u64)
            );
        }
    }
}

/// Each hop's own causes, when the run read more than one hop (with one,
/// the tables above are that hop's).
fn hops(r: &Report, width: u16, out: &mut String) {
    let nginx = r
        .inputs
        .iter()
        .any(|i| i.input_kind == InputKind::NginxAccess);
    if r.hops.is_empty() || (r.hops.len() == 1 && !nginx) {
        if let Some(h) = r.hops.first() {
            hop_events(h, out);
        }
        return;
    }
    let _ = writeln!(out, "\nEach hop's own 5xx");
    for h in &r.hops {
        let t = &h.totals;
        let _ = writeln!(
            out,
            "\n── {} ({:?}, {} file{}): {} request{}, 502: {}, 503: {}, 504: {}",
            h.name,
            h.hop,
            h.files.len(),
            if h.files.len() == 1 { "" } else { "s" },
            num(t.requests),
            if t.requests == 1 { "" } else { "s" },
            num(t.status_502),
            num(h.status_503),
            num(t.status_504)
        );
        cause_table(
            &format!("{}: causes of 502", h.name),
            &h.causes_502,
            width,
            out,
        );
        cause_table(
            &format!("{}: causes of 504", h.name),
            &h.causes_504,
            width,
            out,
        );
        cause_table(
            &format!("{}: other 5xx", h.name),
            &h.causes_other_5xx,
            width,
            out,
        );
        hop_events(h, out);
    }
}

fn hop_events(h: &crate::analyze::report::HopRow, out: &mut String) {
    if h.events.is_empty() && h.skipped_lines == 0 {
        return;
    }
    let kinds: Vec<String> = h
        .events
        .iter()
        .map(|(k, n)| {
            format!(
                "{}: {}",
                serde_json::to_value(k)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default(),
                num(*n)
            )
        })
        .collect();
    let _ = writeln!(
        out,
        "\n{} events: {}; lines without a request skipped: {}",
        h.name,
        if kinds.is_empty() {
            "none".to_string()
        } else {
            kinds.join(", ")
        },
        num(h.skipped_lines)
    );
    for e in h.event_samples.iter().take(5) {
        let _ = writeln!(out, "  {}:{}  {}", e.file, e.line, e.message);
    }
}

/// "Where the 502s were born": birth place, hop and cause.
fn born(r: &Report, width: u16, out: &mut String) {
    // with one hop, the cause tables above already say it (column "born at")
    let Some(b) = r.born.as_ref().filter(|b| b.order.len() > 1) else {
        return;
    };
    let _ = writeln!(
        out,
        "\nWhere the 502s were born (hops: {}; joined {})",
        b.order.join(" → "),
        b.join
    );
    if let Some(n) = &b.order_note {
        let _ = writeln!(out, "  {n}");
    }
    let total: u64 = b.totals.values().sum();
    let mut t = table(&["born at", "hop", "cause", "502s", "share"], width);
    for row in &b.rows {
        t.add_row(vec![
            Cell::new(row.born_at),
            Cell::new(row.hop),
            Cell::new(row.cause.id()),
            Cell::new(num(row.count)).set_alignment(CellAlignment::Right),
            Cell::new(pct(row.count, total)).set_alignment(CellAlignment::Right),
        ]);
    }
    let _ = writeln!(out, "{t}");
    if let Some(c) = b.chains.iter().find(|c| c.chain.len() > 1) {
        let links: Vec<String> = c
            .chain
            .iter()
            .map(|l| format!("{} {} {} ({})", l.hop, l.at, l.status, l.cause.id()))
            .collect();
        let _ = writeln!(out, "  e.g. {}", links.join(" ← "));
    }
    if b.truncated {
        let _ = writeln!(
            out,
            "  (only the first {} 5xx records were joined)",
            crate::analyze::born::JOIN_CAP
        );
    }
}

/// "Timeout ladder": each hop's wait limit outer → inner, the outer hops
/// that give up first, and the 5xx durations at each limit.
fn ladder(r: &Report, width: u16, out: &mut String) {
    let Some(l) = &r.ladder else {
        return;
    };
    let _ = writeln!(
        out,
        "\nTimeout ladder (outer → inner; each hop must wait ≥ {} longer than the next; a 5xx within ± {} of a limit is counted at it)",
        crate::analyze::attribute::human(std::time::Duration::from_millis(l.margin_ms)),
        crate::analyze::attribute::human(std::time::Duration::from_millis(l.tolerance_ms))
    );
    if let Some(n) = &l.order_note {
        let _ = writeln!(out, "  {n}");
    } else if l.order_assumed {
        let _ = writeln!(
            out,
            "  hop order assumed from the hop kinds (CDN → load balancer → nginx → HAProxy → Envoy → app)"
        );
    }
    let mut t = table(
        &[
            "hop",
            "gives up after",
            "set by",
            "its 5xx at a rung's limit",
        ],
        width,
    );
    for g in &l.rungs {
        t.add_row(vec![
            Cell::new(&g.hop),
            Cell::new(g.limit_text()),
            Cell::new(g.source_text()),
            Cell::new(g.placed_text()),
        ]);
    }
    let _ = writeln!(out, "{t}");
    for f in &l.findings {
        let _ = writeln!(out, "  ! {}\n    help: {}", f.message, f.help);
    }
    for n in &l.notes {
        let _ = writeln!(out, "  note: {n}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(path: String, format: &str) -> InputSummary {
        InputSummary::new(
            path,
            InputKind::NginxAccess,
            Some(format.into()),
            "detected".into(),
            2,
            1,
            0,
        )
    }

    #[test]
    fn inputs_fold_by_folder_then_by_format() {
        // 3 folders × 2 formats: 6 rows, by folder
        let few: Vec<InputSummary> = (0..60)
            .map(|i| {
                input(
                    format!("logs/web-{}/a{i}.log", i % 3),
                    ["combined", "main"][i % 2],
                )
            })
            .collect();
        let (rows, by_folder) = fold_inputs(&few);
        assert!(by_folder);
        assert_eq!(rows.len(), 6);
        assert_eq!(rows[0].name, "logs/web-0/ (10 files)");
        assert_eq!((rows[0].lines, rows[0].malformed), (20, 10));
        // one folder per file: by format only
        let many: Vec<InputSummary> = (0..5000)
            .map(|i| input(format!("logs/host-{i}/access.log"), "combined"))
            .collect();
        let (rows, by_folder) = fold_inputs(&many);
        assert!(!by_folder);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].name, "5,000 files");
        assert_eq!(rows[0].lines, 10_000);
    }
}
