//! The one-line verdict the report opens with: how many 502s over how long,
//! their main causes, then the 504s and the other 5xx, e.g.
//! `75 × 502 in 22 min, mostly header_too_big (31 %) and no_live_upstream
//! (28 %); 17 × 504 at proxy_read_timeout 30s`. Built from the report's own
//! rows, so it never says more than the tables below it.

use super::cause::Cause;
use super::report::{CauseRow, Totals};
#[cfg(test)]
use std::collections::BTreeMap;

/// A second cause is named when it has at least this share.
const SECOND_CAUSE_SHARE: f64 = 0.10;

/// What the verdict is made of.
pub struct Facts<'a> {
    /// The totals.
    pub totals: &'a Totals,
    /// Milliseconds from the first 502 to the last.
    pub span_502_ms: Option<i64>,
    /// Milliseconds from the first request to the last.
    pub span_ms: Option<i64>,
    /// 502s by cause, most first.
    pub causes_502: &'a [CauseRow],
    /// 504s by cause, most first.
    pub causes_504: &'a [CauseRow],
    /// Other 5xx by cause, most first.
    pub causes_other_5xx: &'a [CauseRow],
    /// For timed-out 504s: the most common attempt duration (ms) and the
    /// config's timeout of about that length.
    pub timeout_504: Option<(u64, Option<String>)>,
    /// Upstream error lines in the error logs.
    pub error_log_upstream_lines: u64,
}

/// `1,240`.
fn num(n: u64) -> String {
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

/// [`duration`] as a span the requests covered: `over 40 s`, or `within a
/// second` as it is (a blind `in ` → `over ` replacement made "withover").
fn over(ms: i64) -> String {
    let d = duration(ms);
    match d.strip_prefix("in ") {
        Some(rest) => format!("over {rest}"),
        None => d,
    }
}

/// `in 40 s`, `in 22 min`, `in 3.5 h`, `in 4 days`.
fn duration(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    if s == 0 {
        "within a second".into()
    } else if s < 120 {
        format!("in {s} s")
    } else if s < 120 * 60 {
        format!("in {} min", (s + 30) / 60)
    } else if s < 48 * 3600 {
        format!("in {:.1} h", s as f64 / 3600.0)
    } else {
        format!("in {} days", (s + 43_200) / 86_400)
    }
}

fn pct(share: f64) -> String {
    format!("{:.0} %", share * 100.0)
}

/// `mostly header_too_big (31 %) and no_live_upstream (28 %)`, `all dns`,
/// or, when the first two make half or less, `8 causes, led by …`.
fn causes(rows: &[CauseRow]) -> String {
    let lead = match rows {
        [] => return String::new(),
        [only] => return format!("all {}", only.cause.id()),
        [a, b, ..] if b.share >= SECOND_CAUSE_SHARE => format!(
            "{} ({}) and {} ({})",
            a.cause.id(),
            pct(a.share),
            b.cause.id(),
            pct(b.share)
        ),
        [a, ..] => format!("{} ({})", a.cause.id(), pct(a.share)),
    };
    let top2: f64 = rows.iter().take(2).map(|r| r.share).sum();
    if top2 > 0.5 {
        format!("mostly {lead}")
    } else {
        format!("{} causes, led by {lead}", rows.len())
    }
}

/// The verdict line.
pub fn verdict(f: &Facts<'_>) -> String {
    let t = f.totals;
    if t.requests == 0 {
        let mut s = "no request could be read from the access logs".to_string();
        if f.error_log_upstream_lines > 0 {
            s.push_str(&format!(
                ", yet the error logs hold {} upstream error line{}",
                num(f.error_log_upstream_lines),
                if f.error_log_upstream_lines == 1 {
                    ""
                } else {
                    "s"
                }
            ));
        }
        return s;
    }
    let mut parts = Vec::new();
    if t.status_502 == 0 {
        parts.push(format!(
            "no 502 in {} request{}{}",
            num(t.requests),
            if t.requests == 1 { "" } else { "s" },
            f.span_ms
                .map(|ms| format!(" ({})", over(ms)))
                .unwrap_or_default()
        ));
    } else {
        let when = match (t.status_502, f.span_502_ms) {
            (1, _) | (_, None) => String::new(),
            (_, Some(ms)) => format!(" {}", duration(ms)),
        };
        parts.push(format!(
            "{} × 502{when}, {}",
            num(t.status_502),
            causes(f.causes_502)
        ));
    }
    if t.status_504 > 0 {
        let top_timeout = f
            .causes_504
            .first()
            .is_some_and(|r| r.cause == Cause::Timeout);
        let how = match (&f.timeout_504, top_timeout) {
            (Some((_, Some(directive))), true) => format!(" at {directive}"),
            (Some((ms, None)), true) => {
                format!(", mostly timeout after about {:.0} s", *ms as f64 / 1000.0)
            }
            _ => format!(", {}", causes(f.causes_504)),
        };
        parts.push(format!("{} × 504{how}", num(t.status_504)));
    }
    let other: u64 = f.causes_other_5xx.iter().map(|r| r.count).sum();
    if other > 0 {
        parts.push(format!(
            "{} other 5xx, {}",
            num(other),
            causes(f.causes_other_5xx)
        ));
    }
    if t.replaced > 0 {
        // not in the status column: an upstream 5xx nginx answered in place of
        parts.push(format!(
            "{} upstream 5xx hidden by nginx (the client got a non-5xx: error_page =code or a stale cache)",
            num(t.replaced)
        ));
    }
    parts.join("; ")
}

/// The multi-hop lead: how many distinct 502s the hops logged and where
/// they were born, e.g. `4 × 502 over nginx → haproxy, each counted once:
/// born at haproxy 2 (upstream_closed_early, invalid_header), nginx 1
/// (upstream_refused), the app 1`; the ones whose birth the logs cannot
/// tell are `unknown N`. Each 502 is counted once, at its birth
/// hop (the per-hop totals count a passed-on 502 at every hop).
pub fn born_lead(b: &super::born::Born) -> Option<String> {
    let total: u64 = b.totals.values().sum();
    if total == 0 || b.order.len() < 2 {
        return None;
    }
    // hop → (count, causes in order of size)
    let mut by_hop: Vec<(&str, u64, Vec<&'static str>)> = Vec::new();
    for r in &b.rows {
        // the app's own 502s and the ones whose birth the logs cannot tell
        // are groups of their own, without a cause list
        let (hop, cause) = match r.born_at {
            "upstream" => ("the app", None),
            "unknown" => ("unknown", None),
            _ => (r.hop, Some(r.cause.id())),
        };
        match by_hop.iter_mut().find(|(h, _, _)| *h == hop) {
            Some(e) => {
                e.1 += r.count;
                e.2.extend(cause);
            }
            None => by_hop.push((hop, r.count, cause.into_iter().collect())),
        }
    }
    by_hop.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let parts: Vec<String> = by_hop
        .iter()
        .map(|(hop, n, causes)| {
            let shown: Vec<&str> = causes.iter().take(3).copied().collect();
            let more = causes.len().saturating_sub(shown.len());
            if shown.is_empty() {
                format!("{hop} {}", num(*n))
            } else if more > 0 {
                format!("{hop} {} ({}, +{more})", num(*n), shown.join(", "))
            } else {
                format!("{hop} {} ({})", num(*n), shown.join(", "))
            }
        })
        .collect();
    let unjoined = if b.join.starts_with("no request matched") {
        " (no request matched across hops: each counted where it was logged)"
    } else {
        ""
    };
    Some(format!(
        "{} × 502 over {}, each counted once: born at {}{unjoined}",
        num(total),
        b.order.join(" → "),
        parts.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cause: Cause, count: u64, of: u64) -> CauseRow {
        CauseRow {
            cause,
            title: cause.title(),
            born: cause.born(),
            count,
            share: count as f64 / of as f64,
            hint: cause.hint(),
            example: None,
            config: Vec::new(),
            settings: Vec::new(),
        }
    }

    #[test]
    fn one_line_with_causes_and_timeouts() {
        let totals = Totals {
            requests: 1240,
            status_502: 75,
            status_504: 17,
            status_5xx: 95,
            ..Totals::default()
        };
        let c502 = [
            row(Cause::HeaderTooBig, 23, 75),
            row(Cause::NoLiveUpstream, 21, 75),
            row(Cause::Dns, 8, 75),
        ];
        let c504 = [row(Cause::Timeout, 17, 17)];
        let other = [row(Cause::RateLimited, 3, 3)];
        let f = Facts {
            totals: &totals,
            span_502_ms: Some(22 * 60_000 + 10_000),
            span_ms: Some(40 * 60_000),
            causes_502: &c502,
            causes_504: &c504,
            causes_other_5xx: &other,
            timeout_504: Some((30_000, Some("proxy_read_timeout 30s".into()))),
            error_log_upstream_lines: 90,
        };
        assert_eq!(
            verdict(&f),
            "75 × 502 in 22 min, mostly header_too_big (31 %) and no_live_upstream (28 %); 17 × 504 at proxy_read_timeout 30s; 3 other 5xx, all rate_limited"
        );
        let f = Facts {
            timeout_504: Some((30_000, None)),
            ..f
        };
        assert!(verdict(&f).contains("17 × 504, mostly timeout after about 30 s"));
    }

    #[test]
    fn nothing_to_report_is_said_plainly() {
        let quiet = Totals {
            requests: 1000,
            ..Totals::default()
        };
        let f = Facts {
            totals: &quiet,
            span_502_ms: None,
            span_ms: Some(3 * 3600 * 1000),
            causes_502: &[],
            causes_504: &[],
            causes_other_5xx: &[],
            timeout_504: None,
            error_log_upstream_lines: 0,
        };
        assert_eq!(verdict(&f), "no 502 in 1,000 requests (over 3.0 h)");
        // requests all within one second (a one-line Envoy JSON sample)
        let f1 = Facts {
            totals: &quiet,
            span_502_ms: None,
            span_ms: Some(55),
            causes_502: &[],
            causes_504: &[],
            causes_other_5xx: &[],
            timeout_504: None,
            error_log_upstream_lines: 0,
        };
        assert_eq!(verdict(&f1), "no 502 in 1,000 requests (within a second)");
        let unread = Totals::default();
        let f = Facts {
            totals: &unread,
            error_log_upstream_lines: 12,
            ..f
        };
        assert_eq!(
            verdict(&f),
            "no request could be read from the access logs, yet the error logs hold 12 upstream error lines"
        );
    }

    #[test]
    fn spread_causes_are_not_mostly_anything() {
        let rows: Vec<CauseRow> = [
            Cause::UpstreamRefused,
            Cause::UpstreamReset,
            Cause::Dns,
            Cause::Tls,
        ]
        .into_iter()
        .map(|c| row(c, 1, 4))
        .collect();
        assert_eq!(
            causes(&rows[..]),
            "4 causes, led by upstream_refused (25 %) and upstream_reset (25 %)"
        );
        let two: Vec<CauseRow> = [Cause::UpstreamRefused, Cause::UpstreamReset]
            .into_iter()
            .map(|c| row(c, 1, 2))
            .collect();
        assert_eq!(
            causes(&two),
            "mostly upstream_refused (50 %) and upstream_reset (50 %)"
        );
    }

    #[test]
    fn born_lead_counts_each_502_once_at_its_birth_hop() {
        use super::super::born::{Born, BornRow};
        let row = |born_at, hop, cause, count| BornRow {
            born_at,
            hop,
            cause,
            count,
        };
        let b = Born {
            order: vec!["nginx", "haproxy"],
            order_note: None,
            join: String::new(),
            totals: [("gateway", 3), ("upstream", 1)].into_iter().collect(),
            rows: vec![
                row("gateway", "haproxy", Cause::UpstreamClosedEarly, 1),
                row("gateway", "haproxy", Cause::InvalidHeader, 1),
                row("gateway", "nginx", Cause::UpstreamRefused, 1),
                row("upstream", "app", Cause::Passthrough, 1),
            ],
            chains: vec![],
            truncated: false,
            placed: Vec::new(),
        };
        assert_eq!(
            born_lead(&b).unwrap(),
            "4 × 502 over nginx → haproxy, each counted once: born at haproxy 2 \
             (upstream_closed_early, invalid_header), nginx 1 (upstream_refused), the app 1"
        );
        let empty = Born {
            totals: BTreeMap::new(),
            rows: vec![],
            ..b
        };
        assert_eq!(born_lead(&empty), None);
    }
}
