//! The analyze report as a Markdown document for a post-incident review
//! (GitHub-flavoured: pipe tables, no HTML). It follows the guide's
//! diagnosis flow: verdict, scope and bursts (step 1), where the 502s were
//! born (step 5), causes with their evidence and settings and the next
//! step (steps 2–4), timings, timeline, where the 502s went, and what was
//! not read. Everything comes from the [`Report`] the JSON is made of.

use std::fmt::Write as _;

use super::fold::{self, num, pct};
use crate::analyze::report::{CauseRow, Count, Coverage, Report};

/// Rows of the timeline table at most.
pub const TIMELINE_ROWS: usize = 30;

/// Text from a log or a config made inert in Markdown: every character
/// CommonMark may read as markup is backslash-escaped (any ASCII
/// punctuation may be, per the spec), line breaks become spaces. Safe in
/// table cells (`|` is escaped) and paragraphs.
pub fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let chars: Vec<char> = s.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let word = |j: Option<usize>| {
            j.and_then(|j| chars.get(j))
                .is_some_and(|c| c.is_alphanumeric())
        };
        match c {
            // `_` between two letters or digits opens no emphasis (CommonMark
            // "left-flanking" rules): `header_too_big` stays readable
            '_' if word(i.checked_sub(1)) && word(Some(i + 1)) => out.push(c),
            // what can open markup mid-line; `(` only matters after `]`
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '~' | '&' | '!' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

fn table(out: &mut String, header: &[&str], right: &[bool], rows: Vec<Vec<String>>) {
    let _ = writeln!(out, "| {} |", header.join(" | "));
    let align: Vec<&str> = header
        .iter()
        .enumerate()
        .map(|(i, _)| {
            if right.get(i) == Some(&true) {
                "---:"
            } else {
                "---"
            }
        })
        .collect();
    let _ = writeln!(out, "|{}|", align.join("|"));
    for r in rows {
        let _ = writeln!(out, "| {} |", r.join(" | "));
    }
    out.push('\n');
}

fn cause_section(title: &str, rows: &[CauseRow], out: &mut String) {
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(out, "## {title}\n");
    table(
        out,
        &["cause", "count", "share", "born at", "what it means"],
        &[false, true, true, false, false],
        rows.iter()
            .map(|r| {
                vec![
                    format!("`{}`", r.cause.id()),
                    num(r.count),
                    format!("{:.1} %", r.share * 100.0),
                    r.born.to_string(),
                    text(r.title),
                ]
            })
            .collect(),
    );
    for r in rows {
        let _ = writeln!(out, "### `{}` — {}\n", r.cause.id(), num(r.count));
        if let Some(ex) = &r.example {
            let _ = writeln!(
                out,
                "- e.g. {}:{} {}",
                text(&ex.file),
                ex.line,
                text(&ex.request)
            );
            for e in &ex.evidence {
                let _ = writeln!(out, "  - {}", text(e));
            }
        }
        for c in &r.config {
            let _ = writeln!(out, "- setting: {}", text(c));
        }
        for s in &r.settings {
            let _ = writeln!(
                out,
                "- setting: {}:{} `{}` {}{} ({}): {}",
                text(&s.file),
                s.line,
                s.directive.replace('`', "'"),
                text(&s.value),
                if s.defaulted { " (default)" } else { "" },
                text(&s.scope),
                text(&s.note)
            );
        }
        let _ = writeln!(out, "- **next step:** {}\n", text(r.hint));
    }
}

fn coverage(what: &str, c: &Coverage, shown: usize) -> Option<String> {
    fold::coverage_note(c, shown, &format!("{what}s"), text)
}

fn top(what: &str, rows: &[Count], cov: Option<&Coverage>, out: &mut String) {
    if rows.is_empty() {
        return;
    }
    if let Some(note) = cov.and_then(|c| coverage(what, c, rows.len())) {
        let _ = writeln!(out, "_{note}_\n");
    }
    table(
        out,
        &[what, "502s"],
        &[false, true],
        rows.iter()
            .map(|c| vec![text(&c.key), num(c.count)])
            .collect(),
    );
}

/// Render the report as Markdown.
pub fn render(r: &Report) -> String {
    let mut out = String::new();
    let t = &r.totals;
    let _ = writeln!(out, "# 502 report\n");
    if let Some(why) = &r.incomplete {
        let _ = writeln!(out, "> **INCOMPLETE:** {}\n", text(why));
    }
    let _ = writeln!(out, "**Verdict:** {}\n", text(&r.verdict));
    if let Some(unread) = fold::not_read(r) {
        let _ = writeln!(out, "> {}\n", text(&unread));
    }
    for n in &r.notes {
        let _ = writeln!(out, "> note: {}\n", text(n));
    }

    // step 1: symptoms and scope
    let _ = writeln!(out, "## Scope\n");
    if let (Some(a), Some(b)) = (&r.first_request, &r.last_request) {
        let _ = writeln!(out, "- requests: {} from {a} to {b}", num(t.requests));
    } else {
        let _ = writeln!(out, "- requests: {}", num(t.requests));
    }
    let _ = writeln!(out, "- {}", fold::totals_line(t, fold::Style::Markdown));
    if let (Some(a), Some(b)) = (&r.first_502, &r.last_502) {
        let _ = writeln!(out, "- first 502: {a}; last 502: {b}");
    }
    out.push('\n');
    let bl = &r.burst_baseline;
    if !r.bursts.is_empty() {
        let _ = writeln!(
            out,
            "Bursts of 502s (baseline {:.1} 502s/min outside them; a burst minute has ≥ {}):\n",
            bl.per_minute, bl.threshold_per_minute
        );
        table(
            &mut out,
            &["from", "to", "502s", "peak/min", "mostly"],
            &[false, false, true, true, false],
            r.bursts
                .iter()
                .map(|b| {
                    vec![
                        b.start.clone(),
                        b.end.clone(),
                        num(b.count_502),
                        num(b.peak_per_minute),
                        format!("`{}`", b.top_cause.id()),
                    ]
                })
                .collect(),
        );
        if let Some(more) = fold::more_bursts(r) {
            let _ = writeln!(out, "{}\n", text(&more));
        }
    }
    if bl.minor_spikes > 0 {
        let _ = writeln!(
            out,
            "{} smaller spike(s) of 502s not listed as bursts.\n",
            bl.minor_spikes
        );
    }

    // step 5: edge vs origin
    if let Some(b) = r.born.as_ref().filter(|b| b.order.len() > 1) {
        let _ = writeln!(
            out,
            "## Where the 502s were born\n\nhops: {}; joined {}\n",
            b.order
                .iter()
                .map(|h| text(h))
                .collect::<Vec<_>>()
                .join(" → "),
            text(&b.join)
        );
        let total: u64 = b.totals.values().sum();
        table(
            &mut out,
            &["born at", "hop", "cause", "502s", "share"],
            &[false, false, false, true, true],
            b.rows
                .iter()
                .map(|row| {
                    vec![
                        row.born_at.to_string(),
                        text(row.hop),
                        format!("`{}`", row.cause.id()),
                        num(row.count),
                        pct(row.count, total),
                    ]
                })
                .collect(),
        );
        if b.truncated {
            let _ = writeln!(
                out,
                "_only the first {} 5xx records were joined_\n",
                crate::analyze::born::JOIN_CAP
            );
        }
    }

    ladder(r, &mut out);

    // steps 2–4: causes, evidence, settings, next step
    cause_section("Causes of 502", &r.causes_502, &mut out);
    cause_section("Causes of 504", &r.causes_504, &mut out);
    cause_section("Other 5xx", &r.causes_other_5xx, &mut out);
    cause_section(
        "Failed attempts a retry rescued",
        &r.causes_rescued,
        &mut out,
    );
    cause_section(
        "Upstream 5xx hidden from the client (nginx answered another status in its place: error_page =code, a stale cache)",
        &r.causes_replaced,
        &mut out,
    );
    let cut = &r.cut_responses;
    if !cut.is_empty() {
        let _ = writeln!(
            out,
            "## Responses cut after the header\n\n{}\n",
            text(&cut.headline())
        );
        for e in &cut.examples {
            let _ = writeln!(
                out,
                "- `{}`",
                crate::analyze::cut::Cut::example_line(e).replace('`', "'")
            );
        }
        out.push('\n');
    }
    for h in &r.hops {
        let ht = &h.totals;
        let _ = writeln!(
            out,
            "## Hop {} ({:?})\n\n{} request{}; 502: {}; 503: {}; 504: {}\n",
            text(h.name),
            h.hop,
            num(ht.requests),
            if ht.requests == 1 { "" } else { "s" },
            num(ht.status_502),
            num(h.status_503),
            num(ht.status_504)
        );
        cause_section(
            &format!("{}: causes of 502", text(h.name)),
            &h.causes_502,
            &mut out,
        );
        cause_section(
            &format!("{}: causes of 504", text(h.name)),
            &h.causes_504,
            &mut out,
        );
    }

    timings(r, &mut out);
    timeline(r, &mut out);

    if !(r.top_upstreams.is_empty() && r.top_hosts.is_empty() && r.top_paths.is_empty()) {
        let _ = writeln!(out, "## Where the 502s went\n");
        let c = &r.top_coverage;
        top("upstream", &r.top_upstreams, Some(&c.upstreams), &mut out);
        top("host", &r.top_hosts, Some(&c.hosts), &mut out);
        top("path", &r.top_paths, Some(&c.paths), &mut out);
    }
    not_read(r, &mut out);
    out
}

/// A multi-line cell of the ladder, each line made inert, joined by `; `.
fn lines(s: &str) -> String {
    s.lines().map(text).collect::<Vec<_>>().join("; ")
}

/// "Timeout ladder" (guide step 4): each hop's wait limit outer → inner,
/// the outer hops that give up first, the 5xx at each limit.
fn ladder(r: &Report, out: &mut String) {
    let Some(l) = &r.ladder else {
        return;
    };
    let human = |ms: u64| crate::analyze::attribute::human(std::time::Duration::from_millis(ms));
    let _ = writeln!(
        out,
        "## Timeout ladder\n\nOuter → inner. Each hop must wait at least {} longer than the next; a 5xx within ± {} of a limit is counted at it.\n",
        human(l.margin_ms),
        human(l.tolerance_ms)
    );
    if let Some(n) = &l.order_note {
        let _ = writeln!(out, "{}\n", text(n));
    }
    table(
        out,
        &[
            "hop",
            "gives up after",
            "set by",
            "its 5xx at a rung's limit",
        ],
        &[false, false, false, false],
        l.rungs
            .iter()
            .map(|g| {
                vec![
                    text(&g.hop),
                    text(&g.limit_text()),
                    lines(&g.source_text()),
                    lines(&g.placed_text()),
                ]
            })
            .collect(),
    );
    for f in &l.findings {
        let _ = writeln!(out, "- **{}**  \n  {}", text(&f.message), text(&f.help));
    }
    for n in &l.notes {
        let _ = writeln!(out, "- {}", text(n));
    }
    if !(l.findings.is_empty() && l.notes.is_empty()) {
        out.push('\n');
    }
}

fn timings(r: &Report, out: &mut String) {
    for s in fold::timing_sections(r) {
        timing_section(&s.title, s.t, out);
    }
}

fn timing_section(
    title: &str,
    t: &crate::analyze::timing_report::TimingSections,
    out: &mut String,
) {
    let _ = writeln!(
        out,
        "## {}\n\n_{}_\n",
        text(title),
        text(&fold::timings_note(t))
    );
    let mut rows = Vec::new();
    for u in &t.upstreams {
        for (i, p) in fold::phase_rows(u).into_iter().enumerate() {
            let first = i == 0;
            rows.push(vec![
                if first {
                    text(&u.upstream)
                } else {
                    String::new()
                },
                if first {
                    num(u.attempts)
                } else {
                    String::new()
                },
                if first {
                    num(u.failed_502)
                } else {
                    String::new()
                },
                if first {
                    u.first_502.clone().unwrap_or_else(|| "-".into())
                } else {
                    String::new()
                },
                p.map_or("-", |p| p.phase).to_string(),
                p.map_or("-".into(), |p| fold::quantiles(&p.failed_502)),
                p.map_or("-".into(), |p| fold::quantiles(&p.ok)),
            ]);
        }
    }
    table(
        out,
        &fold::TIMING_COLUMNS,
        &[false, true, true, false, false, false, false],
        rows,
    );
    if t.distinct_upstreams as usize > t.upstreams.len() {
        let _ = writeln!(
            out,
            "_top {} of {} upstream addresses_\n",
            t.upstreams.len(),
            num(t.distinct_upstreams)
        );
    }
    for g in &t.gaps {
        let _ = writeln!(out, "> note: {}\n", text(&g.note));
    }
    if !t.bursts.is_empty() {
        let _ = writeln!(out, "Before vs during each burst (every upstream):\n");
        let mut rows = Vec::new();
        for b in &t.bursts {
            for p in &b.during {
                let before = b.before.iter().find(|x| x.phase == p.phase);
                rows.push(vec![
                    format!("{} → {}", b.start, b.end),
                    p.phase.to_string(),
                    before.map_or("-".into(), |x| fold::quantiles(&x.ok)),
                    fold::quantiles(&p.ok),
                    before.map_or("-".into(), |x| fold::quantiles(&x.failed_502)),
                    fold::quantiles(&p.failed_502),
                ]);
            }
        }
        table(
            out,
            &[
                "burst",
                "phase",
                "ok before",
                "ok during",
                "502 before",
                "502 during",
            ],
            &[false; 6],
            rows,
        );
    }
    if !t.changes.is_empty() {
        let _ = writeln!(out, "Upstream addresses that appeared or vanished:\n");
        for c in &t.changes {
            let _ = writeln!(out, "- {} {} at {}", text(&c.upstream), c.change, c.at);
        }
        if let Some(more) = super::table::more_changes(t) {
            let _ = writeln!(out, "- {more}");
        }
        out.push('\n');
    }
}

fn timeline(r: &Report, out: &mut String) {
    if r.timeline.is_empty() || r.totals.status_502 + r.totals.status_504 == 0 {
        return;
    }
    let buckets = fold::fold(&r.timeline, TIMELINE_ROWS);
    let per = buckets.first().map_or(1, |b| b.minutes);
    let causes = fold::cause_order(r);
    let _ = writeln!(
        out,
        "## Timeline\n\n{} minute{} per row; 502s by cause\n",
        per,
        if per == 1 { "" } else { "s" }
    );
    let mut header = vec!["from", "requests", "502", "504"];
    header.extend(causes.iter().copied());
    let right: Vec<bool> = header.iter().enumerate().map(|(i, _)| i > 0).collect();
    let rows = buckets
        .iter()
        .map(|b| {
            let mut row = vec![
                b.start.clone(),
                num(b.requests),
                num(b.status_502),
                num(b.status_504),
            ];
            row.extend(
                causes
                    .iter()
                    .map(|c| b.by_cause.get(c).map_or(String::new(), |n| num(*n))),
            );
            row
        })
        .collect();
    let header: Vec<String> = header
        .iter()
        .enumerate()
        .map(|(i, h)| {
            if i >= 4 {
                format!("`{h}`")
            } else {
                h.to_string()
            }
        })
        .collect();
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    table(out, &header, &right, rows);
}

fn not_read(r: &Report, out: &mut String) {
    let unknown: Vec<_> = r.inputs.iter().filter(|i| i.kind == "unknown").collect();
    let malformed: u64 = r.inputs.iter().map(|i| i.malformed).sum();
    let _ = writeln!(out, "## What was read, and what was not\n");
    let rows = if r.inputs.len() > super::table::INPUT_ROWS {
        // a dump of thousands of files: folded as the terminal table does
        let (rows, by_folder) = super::table::fold_inputs(&r.inputs);
        let _ = writeln!(
            out,
            "_{} files in {} rows, folded by {}; `--format json` lists each_\n",
            num(r.inputs.len() as u64),
            rows.len(),
            if by_folder {
                "folder and format"
            } else {
                "format"
            }
        );
        rows.into_iter()
            .map(|i| {
                vec![
                    text(&i.name),
                    text(&i.read_as),
                    num(i.lines),
                    num(i.malformed),
                ]
            })
            .collect()
    } else {
        r.inputs
            .iter()
            .map(|i| {
                vec![
                    text(&i.path),
                    match &i.format {
                        Some(f) => format!("{} ({})", text(&i.kind), text(f)),
                        None => text(&i.kind),
                    },
                    num(i.lines),
                    num(i.malformed),
                ]
            })
            .collect()
    };
    table(
        out,
        &["file", "read as", "lines", "malformed"],
        &[false, false, true, true],
        rows,
    );
    for i in unknown.iter().take(super::table::PROBLEM_ROWS) {
        let _ = writeln!(out, "- not read: {}: {}", text(&i.path), text(&i.reason));
    }
    if let Some(more) = fold::more_of(unknown.len(), super::table::PROBLEM_ROWS, "files not read") {
        let _ = writeln!(out, "- {}", text(&more));
    }
    if malformed > 0 {
        let _ = writeln!(
            out,
            "- {} malformed line{} counted and skipped; the first:",
            num(malformed),
            if malformed == 1 { "" } else { "s" }
        );
        for s in &r.malformed_samples {
            let _ = writeln!(
                out,
                "  - {}:{}: {}: {}",
                text(&s.file),
                s.line,
                text(&s.reason),
                text(&s.text)
            );
        }
    }
    if r.totals.filtered > 0 {
        let _ = writeln!(
            out,
            "- {} lines outside --since/--until",
            num(r.totals.filtered)
        );
    }
    for p in r.problems.iter().take(super::table::PROBLEM_ROWS) {
        let _ = writeln!(out, "- problem: {}: {}", text(&p.path), text(&p.message));
    }
    if let Some(more) = fold::more_of(r.problems.len(), super::table::PROBLEM_ROWS, "problems") {
        let _ = writeln!(out, "- {}", text(&more));
    }
    if unknown.is_empty() && malformed == 0 && r.problems.is_empty() {
        let _ = writeln!(out, "Every input was read; no line was malformed.");
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_inert() {
        assert_eq!(text("a|b"), "a\\|b");
        assert_eq!(text("<script>"), "\\<script\\>");
        assert_eq!(text("x\ny"), "x y");
        assert_eq!(text("[l](http://x)"), "\\[l\\](http://x)");
        assert_eq!(text("10.0.0.1:8080, 60s"), "10.0.0.1:8080, 60s");
    }
}
