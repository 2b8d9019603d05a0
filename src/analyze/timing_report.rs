//! [`Timings`] shaped for output: p50/p95/p99 of each phase for the 502s
//! against the successes, per upstream and before vs during each burst;
//! the first 502 of each upstream; the addresses that appeared or vanished.

use super::event::rfc3339;
use super::timing::{Hist, Outcomes, Phases, Timings};
use crate::logs::scan::LogTime;

/// Upstreams in the timings table at most (those with most 502s first).
pub const TOP_UPSTREAMS: usize = 10;

/// Distribution of one phase, as bucket upper bounds (a value is at most
/// this; buckets are 26 % wide, see [`Hist`]).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Quantiles {
    /// Values counted.
    pub count: u64,
    /// Median, ms (upper bound); `null` without values or in the open last bucket.
    pub p50_ms: Option<f64>,
    /// 95th percentile, ms.
    pub p95_ms: Option<f64>,
    /// 99th percentile, ms.
    pub p99_ms: Option<f64>,
}

impl Quantiles {
    fn of(h: &Hist) -> Quantiles {
        // 3 significant digits: the bucket bounds are 26 % apart anyway
        let round = |v: f64| {
            let scale = 10f64.powi(2 - v.log10().floor() as i32);
            (v * scale).round() / scale
        };
        let q = |p| h.quantile_ms(p).filter(|v: &f64| v.is_finite()).map(round);
        Quantiles {
            count: h.count(),
            p50_ms: q(0.5),
            p95_ms: q(0.95),
            p99_ms: q(0.99),
        }
    }
}

/// One phase: the 502s' attempts against the answered ones.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PhaseRow {
    /// `connect`, `header` or `response` (nginx `$upstream_*_time`).
    pub phase: &'static str,
    /// Attempts behind a 502.
    pub failed_502: Quantiles,
    /// Attempts that answered (status < 500).
    pub ok: Quantiles,
}

fn phases(o: &Outcomes) -> Vec<PhaseRow> {
    let pick = |p: &Phases, i: usize| match i {
        0 => p.connect,
        1 => p.header,
        _ => p.response,
    };
    ["connect", "header", "response"]
        .iter()
        .enumerate()
        .map(|(i, phase)| PhaseRow {
            phase,
            failed_502: Quantiles::of(&pick(&o.failed, i)),
            ok: Quantiles::of(&pick(&o.ok, i)),
        })
        .filter(|r| r.failed_502.count + r.ok.count > 0)
        .collect()
}

/// One upstream address.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct UpstreamTimingRow {
    /// Address as logged (`$upstream_addr`).
    pub upstream: String,
    /// Attempts sent to it (502 requests and answered ones).
    pub attempts: u64,
    /// Attempts of 502 requests.
    pub failed_502: u64,
    /// First attempt, RFC 3339.
    pub first_seen: Option<String>,
    /// Last attempt.
    pub last_seen: Option<String>,
    /// First attempt of a 502 request.
    pub first_502: Option<String>,
    /// Timings by phase.
    pub phases: Vec<PhaseRow>,
}

/// One burst: timings of every upstream in it against the same length of
/// time just before it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct BurstTimingRow {
    /// The burst's first minute, RFC 3339.
    pub start: String,
    /// Its end.
    pub end: String,
    /// Start of the window before it (as long as the burst, or up to the
    /// first request).
    pub before_from: String,
    /// Timings before.
    pub before: Vec<PhaseRow>,
    /// Timings during.
    pub during: Vec<PhaseRow>,
}

/// An upstream address that appeared after the logs start, or vanished
/// before they end.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UpstreamChange {
    /// Address.
    pub upstream: String,
    /// `appeared` or `vanished`.
    pub change: &'static str,
    /// First (appeared) or last (vanished) attempt, RFC 3339.
    pub at: String,
}

/// An address is taken to appear (vanish) when its first (last) attempt is
/// this long after the first (before the last) request of the logs: five
/// minutes, or a tenth of the span when that is longer.
pub const CHANGE_GAP_MS: i64 = 5 * 60_000;

/// Appeared/vanished addresses kept in the report (the earliest ones): a
/// fleet rotating thousands of addresses must not make the report grow
/// with the log; [`TimingSections::changes_total`] counts them all.
pub const MAX_CHANGES: usize = 50;

/// The timing sections of the report.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct TimingSections {
    /// Upstreams, most 502s first.
    pub upstreams: Vec<UpstreamTimingRow>,
    /// Distinct upstream addresses (the table keeps [`TOP_UPSTREAMS`]).
    pub distinct_upstreams: u64,
    /// Per burst.
    pub bursts: Vec<BurstTimingRow>,
    /// Addresses that appeared or vanished, in time order: the first
    /// [`MAX_CHANGES`].
    pub changes: Vec<UpstreamChange>,
    /// How many appeared or vanished in all (`changes` keeps the first
    /// [`MAX_CHANGES`]).
    pub changes_total: u64,
    /// What the phases are, at this hop (`nginx's $upstream_*_time`).
    pub measured: String,
    /// Phases no counted attempt had a value for, with the field to log.
    pub gaps: Vec<super::timing_gaps::PhaseGap>,
    /// The attempts of requests answered below 500 (the `ok` counts,
    /// `attempts`, first and last seen) come from one such request line in
    /// this many; the 502s' attempts are all counted.
    pub ok_sampled_1_in: u64,
}

/// Shape the timings. `fields` says where the hop's phases come from;
/// `bursts` are (first minute, last minute) in UTC epoch minutes; `span`
/// the first and last request, UTC ms; `off` the UTC offset to print times
/// in.
pub fn build(
    t: &Timings,
    fields: &super::timing_gaps::PhaseFields,
    bursts: &[(i64, i64)],
    span: Option<(i64, i64)>,
    off: i32,
) -> TimingSections {
    let at = |ms: i64| {
        rfc3339(LogTime {
            utc_ms: ms,
            offset_s: off,
        })
    };
    let mut ups: Vec<(&String, &super::timing::Upstream)> = t.upstreams.iter().collect();
    ups.sort_by(|a, b| {
        b.1.failed
            .cmp(&a.1.failed)
            .then(b.1.attempts.cmp(&a.1.attempts))
            .then(a.0.cmp(b.0))
    });
    let upstreams = ups
        .iter()
        .take(TOP_UPSTREAMS)
        .map(|(k, u)| UpstreamTimingRow {
            upstream: (*k).clone(),
            attempts: u.attempts,
            failed_502: u.failed,
            first_seen: u.seen.map(|s| at(s.0)),
            last_seen: u.seen.map(|s| at(s.1)),
            first_502: u.first_502.map(at),
            phases: phases(&u.timings),
        })
        .collect();
    let sum = |from: i64, to: i64| {
        let mut o = Outcomes::default();
        for (_, v) in t.minutes.range(from..to) {
            o += *v;
        }
        o
    };
    let first_min = t.minutes.keys().next().copied();
    let bursts = bursts
        .iter()
        .map(|&(a, b)| {
            let len = b + 1 - a;
            let from = first_min.map_or(a, |f| (a - len).max(f.min(a)));
            BurstTimingRow {
                start: at(a * 60_000),
                end: at((b + 1) * 60_000),
                before_from: at(from * 60_000),
                before: phases(&sum(from, a)),
                during: phases(&sum(a, b + 1)),
            }
        })
        .collect();
    let mut changes = Vec::new();
    if let Some((first, last)) = span {
        let gap = CHANGE_GAP_MS.max((last - first) / 10);
        for (k, u) in &ups {
            // nginx logs the group name when no server was live: not an address
            let address = k.contains(':');
            let Some((a, b)) = u.seen.filter(|_| address) else {
                continue;
            };
            if a - first > gap {
                changes.push((
                    a,
                    UpstreamChange {
                        upstream: (*k).clone(),
                        change: "appeared",
                        at: at(a),
                    },
                ));
            }
            if last - b > gap {
                changes.push((
                    b,
                    UpstreamChange {
                        upstream: (*k).clone(),
                        change: "vanished",
                        at: at(b),
                    },
                ));
            }
        }
    }
    changes.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.upstream.cmp(&b.1.upstream)));
    let changes_total = changes.len() as u64;
    changes.truncate(MAX_CHANGES);
    TimingSections {
        upstreams,
        distinct_upstreams: t.upstreams.len() as u64,
        bursts,
        changes: changes.into_iter().map(|(_, c)| c).collect(),
        changes_total,
        measured: fields.measured.clone(),
        gaps: fields.gaps(t),
        ok_sampled_1_in: super::access::TIMING_SAMPLE,
    }
}

/// `≤ 63 ms`, `≤ 1.3 s`, `-`.
pub fn fmt_ms(v: Option<f64>) -> String {
    match v {
        None => "-".into(),
        Some(ms) if ms < 1.0 => "< 1 ms".into(),
        Some(ms) if ms < 1000.0 => format!("≤ {ms:.0} ms"),
        Some(ms) => format!("≤ {:.1} s", ms / 1000.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::timing_gaps::PhaseFields;
    use crate::logs::record::Attempt;

    fn att(addr: &str, status: u16, secs: f64) -> Attempt {
        Attempt {
            addr: addr.into(),
            status: Some(status),
            connect_time: Some(0.0),
            header_time: None,
            response_time: Some(secs),
            group: 0,
        }
    }

    #[test]
    fn bursts_compare_with_the_window_before() {
        const A: &str = "10.0.0.1:80";
        const B: &str = "10.0.0.2:80";
        let mut t = Timings::default();
        // minutes 0..10: fast successes on a; minutes 10..12: slow 502s on a;
        // b answers from minute 0 to 2 only
        for m in 0..10 {
            t.see(&[att(A, 200, 0.05)], 200, Some(m * 60_000));
        }
        t.see(&[att(B, 200, 0.05)], 200, Some(0));
        t.see(&[att(B, 200, 0.05)], 200, Some(2 * 60_000));
        for m in 10..12 {
            t.see(&[att(A, 502, 30.0)], 502, Some(m * 60_000 + 5));
        }
        t.flush();
        let s = build(
            &t,
            &PhaseFields::nginx(&[]),
            &[(10, 11)],
            Some((0, 12 * 60_000)),
            0,
        );
        assert_eq!(s.upstreams[0].upstream, A);
        assert_eq!(s.upstreams[0].failed_502, 2);
        assert_eq!(
            s.upstreams[0].first_502.as_deref(),
            Some("1970-01-01T00:10:00.005Z")
        );
        let b = &s.bursts[0];
        assert_eq!(b.before_from, "1970-01-01T00:08:00Z");
        let resp = |v: &[PhaseRow]| v.iter().find(|p| p.phase == "response").cloned().unwrap();
        assert_eq!(resp(&b.before).ok.count, 2);
        assert_eq!(resp(&b.before).failed_502.count, 0);
        assert_eq!(resp(&b.during).failed_502.count, 2);
        assert!(resp(&b.during).failed_502.p50_ms.unwrap() >= 30_000.0);
        assert_eq!(
            s.changes,
            vec![UpstreamChange {
                upstream: B.into(),
                change: "vanished",
                at: "1970-01-01T00:02:00Z".into()
            }]
        );
    }

    #[test]
    fn a_fleet_of_rotating_addresses_keeps_the_report_bounded() {
        let mut t = Timings::default();
        // one address answers all along; 200 more each appear at minute 30
        t.see(&[att("10.0.0.1:80", 200, 0.05)], 200, Some(0));
        t.see(&[att("10.0.0.1:80", 200, 0.05)], 200, Some(60 * 60_000));
        for i in 0..200 {
            let a = format!("10.1.{}.{}:80", i / 250, i % 250);
            t.see(&[att(&a, 200, 0.05)], 200, Some(30 * 60_000 + i));
            t.see(&[att(&a, 200, 0.05)], 200, Some(60 * 60_000));
        }
        t.flush();
        let s = build(&t, &PhaseFields::nginx(&[]), &[], Some((0, 60 * 60_000)), 0);
        assert_eq!(s.changes_total, 200);
        assert_eq!(s.changes.len(), MAX_CHANGES);
        assert!(s.changes.iter().all(|c| c.change == "appeared"));
        // the earliest are the ones kept
        assert_eq!(s.changes[0].at, "1970-01-01T00:30:00Z");
        let more = crate::report::table::more_changes(&s).unwrap();
        assert!(
            more.contains("150 more") && more.contains("200 in all"),
            "{more}"
        );
    }
}
