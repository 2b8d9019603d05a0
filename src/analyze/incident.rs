//! The shape of the incident: burst windows from the per-minute timeline.
//!
//! A minute is *hot* when its 502 count is at least `max(3, 4 × median)` of
//! the per-minute 502 counts over the whole span (quiet minutes count as 0).
//! Hot minutes at most one minute apart form one burst window.

use std::collections::BTreeMap;

use super::cause::Cause;
use super::stats::Minute;

/// Minimum 502s in a minute for it to be part of a burst.
pub const MIN_BURST_502: u64 = 3;
/// How many times the median per-minute 502 count a hot minute has.
pub const BURST_FACTOR: u64 = 4;

/// A window of elevated 502s.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Burst {
    /// First minute (UTC epoch minute).
    pub start_min: i64,
    /// Last minute, inclusive.
    pub end_min: i64,
    /// 502s in the window.
    pub count_502: u64,
    /// The most 502s in one minute.
    pub peak_per_minute: u64,
    /// The most common cause in the window.
    pub top_cause: Cause,
}

/// Find the burst windows.
pub fn bursts(minutes: &BTreeMap<i64, Minute>) -> Vec<Burst> {
    let (Some(&first), Some(&last)) = (minutes.keys().next(), minutes.keys().next_back()) else {
        return Vec::new();
    };
    let span = (last - first + 1) as usize;
    let mut counts: Vec<u64> = minutes.values().map(|m| m.s502).collect();
    counts.resize(span.max(counts.len()), 0);
    counts.sort_unstable();
    let median = counts[counts.len() / 2];
    let threshold = MIN_BURST_502.max(BURST_FACTOR * median);
    let mut out: Vec<Burst> = Vec::new();
    let mut causes = [0u64; crate::analyze::cause::N_CAUSES];
    for (&m, c) in minutes.iter().filter(|(_, c)| c.s502 >= threshold) {
        match out.last_mut() {
            Some(b) if m - b.end_min <= 2 => {
                b.end_min = m;
                b.count_502 += c.s502;
                b.peak_per_minute = b.peak_per_minute.max(c.s502);
            }
            _ => {
                if let Some(b) = out.last_mut() {
                    b.top_cause = top_cause(&causes);
                }
                causes = [0; crate::analyze::cause::N_CAUSES];
                out.push(Burst {
                    start_min: m,
                    end_min: m,
                    count_502: c.s502,
                    peak_per_minute: c.s502,
                    top_cause: Cause::Unknown,
                });
            }
        }
        for (a, b) in causes.iter_mut().zip(c.by_cause) {
            *a += b as u64;
        }
    }
    if let Some(b) = out.last_mut() {
        b.top_cause = top_cause(&causes);
    }
    out
}

/// The most common cause (the first in report order on a tie); `unknown`
/// when nothing was counted.
fn top_cause(c: &[u64; crate::analyze::cause::N_CAUSES]) -> Cause {
    let mut best = None;
    for (i, &n) in c.iter().enumerate() {
        if n > 0 && best.is_none_or(|b: usize| n > c[b]) {
            best = Some(i);
        }
    }
    best.map_or(Cause::Unknown, |i| Cause::ALL[i])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn min(s502: u64, cause: usize) -> Minute {
        let mut by_cause = [0; crate::analyze::cause::N_CAUSES];
        by_cause[cause] = s502 as u32;
        Minute {
            requests: 100,
            s502,
            by_cause,
            ..Default::default()
        }
    }

    #[test]
    fn finds_one_burst_with_its_cause() {
        let mut m = BTreeMap::new();
        for i in 0..30 {
            m.insert(
                i,
                min(
                    if (10..14).contains(&i) {
                        40
                    } else {
                        i as u64 % 2
                    },
                    0,
                ),
            );
        }
        m.insert(12, min(50, 6));
        let b = bursts(&m);
        assert_eq!(b.len(), 1);
        assert_eq!((b[0].start_min, b[0].end_min), (10, 13));
        assert_eq!(b[0].count_502, 170);
        assert_eq!(b[0].peak_per_minute, 50);
        assert_eq!(b[0].top_cause, Cause::UpstreamRefused);
    }

    #[test]
    fn steady_errors_are_not_a_burst() {
        let m: BTreeMap<i64, Minute> = (0..30).map(|i| (i, min(10, 0))).collect();
        assert!(bursts(&m).is_empty());
    }

    #[test]
    fn top_cause_covers_every_cause() {
        let mut c = [0u64; crate::analyze::cause::N_CAUSES];
        assert_eq!(top_cause(&c), Cause::Unknown);
        c[Cause::ALL.len() - 1] = 5; // unknown
        c[Cause::ALL
            .iter()
            .position(|x| *x == Cause::RateLimited)
            .unwrap()] = 0;
        assert_eq!(top_cause(&c), Cause::Unknown);
        c[0] = 5;
        assert_eq!(
            top_cause(&c),
            Cause::UpstreamRefused,
            "ties go to report order"
        );
    }
}
