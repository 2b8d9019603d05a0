//! What the document renderers (Markdown, HTML) share: the timeline folded
//! into a bounded number of rows, and the cause order of its stacks. Reads
//! only the [`Report`]; computes nothing the analysis did not.

use std::collections::BTreeMap;

use crate::analyze::report::{Coverage, Report, TimelineRow, Totals};
use crate::analyze::timing_report::{PhaseRow, TimingSections, UpstreamTimingRow};

/// Minutes folded together into one row or bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    /// First minute, RFC 3339.
    pub start: String,
    /// Minutes in it.
    pub minutes: usize,
    /// Requests.
    pub requests: u64,
    /// 502s.
    pub status_502: u64,
    /// 504s.
    pub status_504: u64,
    /// 502s by cause id.
    pub by_cause: BTreeMap<&'static str, u64>,
}

/// The timeline in at most `max` buckets of equal length (the last may be
/// shorter): the size of a report stays bounded however long the logs are.
pub fn fold(timeline: &[TimelineRow], max: usize) -> Vec<Bucket> {
    let per = timeline.len().div_ceil(max.max(1)).max(1);
    timeline
        .chunks(per)
        .map(|c| {
            let mut by_cause = BTreeMap::new();
            for m in c {
                for (k, v) in &m.by_cause {
                    *by_cause.entry(*k).or_insert(0) += v;
                }
            }
            Bucket {
                start: c[0].minute.clone(),
                minutes: c.len(),
                requests: c.iter().map(|m| m.requests).sum(),
                status_502: c.iter().map(|m| m.status_502).sum(),
                status_504: c.iter().map(|m| m.status_504).sum(),
                by_cause,
            }
        })
        .collect()
}

/// The cause ids that appear in the timeline, most 502s first (the order
/// of the cause table), for stacks and columns.
pub fn cause_order(r: &Report) -> Vec<&'static str> {
    let mut ids: Vec<&'static str> = r.causes_502.iter().map(|c| c.cause.id()).collect();
    for row in &r.timeline {
        for k in row.by_cause.keys() {
            if !ids.contains(k) {
                ids.push(k);
            }
        }
    }
    ids
}

/// `≤ 1 ms · ≤ 20 ms · ≤ 25.1 s (n=38)`: p50 · p95 · p99 of one phase.
pub fn quantiles(q: &crate::analyze::timing_report::Quantiles) -> String {
    use crate::analyze::timing_report::fmt_ms;
    if q.count == 0 {
        return "-".into();
    }
    format!(
        "{} · {} · {} (n={})",
        fmt_ms(q.p50_ms),
        fmt_ms(q.p95_ms),
        fmt_ms(q.p99_ms),
        num(q.count)
    )
}

/// The columns of a timing table, in every format.
pub const TIMING_COLUMNS: [&str; 7] = [
    "upstream",
    "attempts",
    "502",
    "first 502",
    "phase",
    "502: p50 · p95 · p99",
    "ok: p50 · p95 · p99",
];

/// `61 of 75 502s: 14 lines have no host (…)` when a top table covers fewer
/// than all 502s, `top 10 of 37 hosts` when it is cut (`things`: what its
/// rows are), both joined by `; `; `None` when neither. `missing` renders
/// the reason the rest are missing as the document needs it (escaped).
pub fn coverage_note(
    c: &Coverage,
    shown: usize,
    things: &str,
    missing: impl Fn(&str) -> String,
) -> Option<String> {
    let mut notes = Vec::new();
    if c.counted < c.of {
        notes.push(format!(
            "{} of {} 502s: {}",
            num(c.counted),
            num(c.of),
            missing(c.missing.as_deref().unwrap_or("the rest have none"))
        ));
    }
    if c.distinct as usize > shown {
        notes.push(format!("top {shown} of {} {things}", num(c.distinct)));
    }
    (!notes.is_empty()).then(|| notes.join("; "))
}

/// What a timing table's figures are, in one sentence.
pub fn timings_note(t: &TimingSections) -> String {
    format!(
        "p50 · p95 · p99 of {} per attempt, each an upper bound (26 %-wide buckets); \"502\": attempts of requests answered 502, \"ok\": attempts answered below 500, from one request line in {}",
        t.measured, t.ok_sampled_1_in
    )
}

/// One timing section of a report, as the renderers show it.
#[derive(Debug)]
pub struct TimingSection<'a> {
    /// Its heading.
    pub title: String,
    /// Where it is in the JSON (`timings`, `hops.haproxy.timings`).
    pub key: String,
    /// The figures.
    pub t: &'a TimingSections,
}

/// The timing sections of a report: nginx's, then each hop's next hop (the
/// JSON's `hops[].timings`), those with attempts.
pub fn timing_sections(r: &Report) -> Vec<TimingSection<'_>> {
    let nginx = TimingSection {
        title: "Upstream timings".into(),
        key: "timings".into(),
        t: &r.timings,
    };
    std::iter::once(nginx)
        .chain(r.hops.iter().map(|h| TimingSection {
            title: format!("{}: timings of its next hop", h.name),
            key: format!("hops.{}.timings", h.name),
            t: &h.timings,
        }))
        .filter(|s| !s.t.upstreams.is_empty())
        .collect()
}

/// The rows of one upstream in a timing table: one per phase logged, or one
/// `None` (shown as `-`) when its attempts carried no time at all, so the
/// upstream and its counts are still listed.
pub fn phase_rows(u: &UpstreamTimingRow) -> Vec<Option<&PhaseRow>> {
    if u.phases.is_empty() {
        vec![None]
    } else {
        u.phases.iter().map(Some).collect()
    }
}

/// What was not read, for the lines right after the verdict: files in no
/// known format, inputs that could not be read or were read only up to
/// damage (a missing or unreadable file, a cut `.gz`: [`crate::input::Problem::lost_lines`])
/// and malformed lines (counted and skipped), so a report whose
/// counts miss part of the input says so before any figure, e.g.
/// `not read: 66,667 malformed lines (33.33 % of 200,000 lines), skipped`.
/// `None` when every input was read and no line was malformed. Files that
/// are plainly not logs still count: the line says what was left out, not
/// whether that matters.
pub fn not_read(r: &Report) -> Option<String> {
    let mut parts = Vec::new();
    // up to three names, then "and N more"
    let named = |what: &str, paths: &[&str]| {
        const NAMED: usize = 3;
        let more = paths.len().saturating_sub(NAMED);
        format!(
            "{} {what} ({}{})",
            num(paths.len() as u64),
            paths[..paths.len() - more].join(", "),
            if more > 0 {
                format!(" and {} more", num(more as u64))
            } else {
                String::new()
            }
        )
    };
    let plural = |n: usize, one: &'static str, many: &'static str| if n == 1 { one } else { many };
    // an empty file is said to be empty, not to be in no known format
    let (mut empty, mut unknown) = (Vec::new(), Vec::new());
    for i in &r.inputs {
        if i.input_kind == crate::analyze::InputKind::Unknown {
            match i.reason.starts_with("empty") {
                true => empty.push(i.path.as_str()),
                false => unknown.push(i.path.as_str()),
            }
        }
    }
    if !unknown.is_empty() {
        let what = plural(
            unknown.len(),
            "file in no known format",
            "files in no known format",
        );
        parts.push(named(what, &unknown));
    }
    if !empty.is_empty() {
        parts.push(named(
            plural(empty.len(), "empty file", "empty files"),
            &empty,
        ));
    }
    let lost: Vec<&str> = r
        .problems
        .iter()
        .filter(|p| p.lost_lines())
        .map(|p| p.path.as_str())
        .collect();
    if !lost.is_empty() {
        let what = plural(
            lost.len(),
            "input not read or read only in part",
            "inputs not read or read only in part",
        );
        parts.push(named(what, &lost));
    }
    let t = &r.totals;
    if t.malformed > 0 {
        parts.push(format!(
            "{} malformed line{} ({} of {} lines), counted and skipped",
            num(t.malformed),
            if t.malformed == 1 { "" } else { "s" },
            pct(t.malformed, t.lines),
            num(t.lines)
        ));
    }
    (!parts.is_empty()).then(|| {
        let see = if lost.is_empty() {
            "see Inputs"
        } else {
            "see Inputs and Problems"
        };
        format!("not read: {}; {see}", parts.join("; "))
    })
}

/// "… and N more bursts …" when the report lists only the bursts with the
/// most 502s.
pub fn more_bursts(r: &Report) -> Option<String> {
    let more = r.bursts_total.saturating_sub(r.bursts.len() as u64);
    (more > 0).then(|| {
        format!(
            "… and {} more burst{} ({} in all; the {} with the most 502s are listed)",
            num(more),
            if more == 1 { "" } else { "s" },
            num(r.bursts_total),
            r.bursts.len()
        )
    })
}

/// "… and N more `what` (--format json lists each)" when `total` items
/// were cut to `shown`.
pub fn more_of(total: usize, shown: usize, what: &str) -> Option<String> {
    let more = total.saturating_sub(shown);
    (more > 0).then(|| {
        format!(
            "… and {} more {what} (--format json lists each)",
            num(more as u64)
        )
    })
}

/// Where the totals line goes: the terminal table or a Markdown list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Plain text, figures spaced apart.
    Terminal,
    /// Markdown, the 502 count in bold.
    Markdown,
}

/// The totals line, one statement for every text renderer: 502s (and
/// their share of requests), 504s, all 5xx, rescued by a retry.
pub fn totals_line(t: &Totals, style: Style) -> String {
    let (sep, strong, l504, rescued, share) = match style {
        Style::Terminal => (
            "   ",
            "",
            "504 Gateway Timeout",
            "rescued by retry",
            pct_compact(t.status_502, t.requests),
        ),
        Style::Markdown => (
            "; ",
            "**",
            "504",
            "rescued by a retry",
            pct(t.status_502, t.requests),
        ),
    };
    let mut line = format!(
        "502 Bad Gateway: {strong}{}{strong} ({share} of requests){sep}{l504}: {}{sep}all 5xx: {}{sep}{rescued}: {}",
        num(t.status_502),
        num(t.status_504),
        num(t.status_5xx),
        num(t.rescued)
    );
    // said only when there are some: an upstream 5xx the status column hides
    if t.replaced > 0 {
        line.push_str(&format!(
            "{sep}upstream 5xx hidden by nginx (error_page =code): {}",
            num(t.replaced)
        ));
    }
    line
}

/// `1,234`.
pub fn num(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `a` as a percentage of `b` (`12.34 %`), `-` when `b` is 0.
pub fn pct(a: u64, b: u64) -> String {
    percent(a, b, " ")
}

/// `a` as a percentage of `b` without the space (`12.34%`, the terminal
/// table's narrow columns), `-` when `b` is 0.
pub fn pct_compact(a: u64, b: u64) -> String {
    percent(a, b, "")
}

fn percent(a: u64, b: u64, gap: &str) -> String {
    if b == 0 {
        "-".into()
    } else {
        format!("{:.2}{gap}%", a as f64 * 100.0 / b as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(i: u64) -> TimelineRow {
        TimelineRow {
            minute: format!("m{i}"),
            requests: 10,
            status_502: i,
            status_504: 0,
            by_cause: [("dns", i)].into_iter().filter(|(_, n)| *n > 0).collect(),
        }
    }

    #[test]
    fn totals_line_says_the_same_figures_in_each_style() {
        let t = Totals {
            requests: 200_000,
            status_502: 1234,
            status_504: 5,
            status_5xx: 1300,
            rescued: 7,
            ..Totals::default()
        };
        let term = totals_line(&t, Style::Terminal);
        let md = totals_line(&t, Style::Markdown);
        assert_eq!(term, "502 Bad Gateway: 1,234 (0.62% of requests)   504 Gateway Timeout: 5   all 5xx: 1,300   rescued by retry: 7");
        assert_eq!(md, "502 Bad Gateway: **1,234** (0.62 % of requests); 504: 5; all 5xx: 1,300; rescued by a retry: 7");
        // a hidden upstream 5xx is said only when there is one
        let hidden = totals_line(
            &Totals {
                replaced: 2,
                ..t.clone()
            },
            Style::Terminal,
        );
        assert!(hidden.starts_with(&term), "{hidden}");
        assert!(
            hidden.ends_with("hidden by nginx (error_page =code): 2"),
            "{hidden}"
        );
        let none = totals_line(&Totals::default(), Style::Terminal);
        assert!(none.contains("0 (- of requests)"), "{none}");
    }

    #[test]
    fn fold_keeps_every_count() {
        let t: Vec<TimelineRow> = (0..95).map(row).collect();
        let b = fold(&t, 30);
        assert!(b.len() <= 30, "{}", b.len());
        assert_eq!(b[0].minutes, 4);
        assert_eq!(b.iter().map(|b| b.requests).sum::<u64>(), 950);
        let s502: u64 = (0..95).sum();
        assert_eq!(b.iter().map(|b| b.status_502).sum::<u64>(), s502);
        assert_eq!(
            b.iter()
                .map(|b| b.by_cause.get("dns").copied().unwrap_or(0))
                .sum::<u64>(),
            s502
        );
        assert_eq!(fold(&t[..3], 30).len(), 3);
        assert!(fold(&[], 30).is_empty());
    }
}
