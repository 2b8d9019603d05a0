//! The shape of the incident: burst windows from the per-minute timeline,
//! measured against the service's own baseline.
//!
//! The per-minute 502 counts run over the whole span (quiet minutes count as
//! 0). The *baseline* is the mean 502s per minute of the ordinary minutes
//! (below `max(3, 4 × median)`). A minute is *hot* when its 502 count is at
//! least `max(3, 4 × median)` and unlikely at the baseline rate: a count a
//! Poisson process at the baseline reaches in under one minute in a
//! thousand ([`P_HOT`]); three 502s in a minute are ordinary for a service
//! that has one every other minute. Hot minutes at most one minute apart
//! form one window. A window whose peak is under a tenth of the largest
//! window's peak is a minor spike next to a real outage, not a burst: it is
//! counted, not listed.

use std::collections::BTreeMap;

use super::cause::Cause;
use super::stats::Minute;

/// Minimum 502s in a minute for it to be part of a burst.
pub const MIN_BURST_502: u64 = 3;
/// How many times the median per-minute 502 count a hot minute has.
pub const BURST_FACTOR: u64 = 4;
/// A hot minute's count is one the baseline reaches with at most this
/// probability per minute.
pub const P_HOT: f64 = 0.001;
/// A window is listed only when its peak is at least 1/`SPIKE_RATIO` of the
/// largest window's peak.
pub const SPIKE_RATIO: u64 = 10;

/// The smallest `k` with P(X ≥ k) < [`P_HOT`] for X ~ Poisson(`lambda`).
fn poisson_threshold(lambda: f64) -> u64 {
    if lambda <= 0.0 {
        return 1;
    }
    if lambda > 500.0 {
        // e^-λ underflows: the normal approximation (z = 3.1 for 0.001)
        return (lambda + 3.1 * lambda.sqrt()).ceil() as u64;
    }
    let mut term = (-lambda).exp(); // P(X = 0)
    let mut cdf = term;
    let mut k = 0u64;
    while 1.0 - cdf >= P_HOT && k < 100_000 {
        k += 1;
        term *= lambda / k as f64;
        cdf += term;
    }
    k + 1
}

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

/// Burst windows kept in the report at most: those with the most 502s
/// (earlier first on a tie), listed in time order. A month of logs with a
/// burst a day must not make the report (and its per-burst timings) grow
/// with the log; [`Bursts::windows_total`] counts them all.
pub const MAX_BURSTS: usize = 20;

/// The bursts and the baseline they stand out from.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Bursts {
    /// The burst windows, in time order: the [`MAX_BURSTS`] with the most
    /// 502s.
    pub windows: Vec<Burst>,
    /// Burst windows found in all (`windows` keeps at most [`MAX_BURSTS`]).
    pub windows_total: u64,
    /// Mean 502s per minute over the ordinary minutes.
    pub baseline_per_minute: f64,
    /// 502s a minute needs to be part of a burst.
    pub threshold_per_minute: u64,
    /// Windows above the threshold left out as minor next to the largest.
    pub minor_spikes: u64,
}

/// Find the burst windows.
pub fn bursts(minutes: &BTreeMap<i64, Minute>) -> Bursts {
    let (Some(&first), Some(&last)) = (minutes.keys().next(), minutes.keys().next_back()) else {
        return Bursts {
            windows: Vec::new(),
            windows_total: 0,
            baseline_per_minute: 0.0,
            threshold_per_minute: MIN_BURST_502,
            minor_spikes: 0,
        };
    };
    // Every minute of the span counts, the ones without a record as 0:
    // counted, not stored (a line dated year 402 among 2022's made the span
    // 850 million minutes, and a vector of them an out-of-memory abort)
    let span = u64::try_from(last - first)
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    let mut counts: Vec<u64> = minutes.values().map(|m| m.s502).collect();
    counts.sort_unstable();
    let zeros = span.saturating_sub(counts.len() as u64);
    let all = zeros.saturating_add(counts.len() as u64);
    // the median of the zeros followed by the sorted counts
    let mid = all / 2;
    let median = if mid < zeros {
        0
    } else {
        counts[(mid - zeros) as usize]
    };
    let ordinary_max = MIN_BURST_502.max(BURST_FACTOR * median);
    let ordinary = counts.iter().copied().filter(|&c| c < ordinary_max);
    let (n_ordinary, sum_ordinary) = ordinary.fold((zeros, 0u64), |(n, s), c| (n + 1, s + c));
    let baseline = if n_ordinary == 0 {
        median as f64
    } else {
        sum_ordinary as f64 / n_ordinary as f64
    };
    let threshold = ordinary_max.max(poisson_threshold(baseline));
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
    let max_peak = out.iter().map(|b| b.peak_per_minute).max().unwrap_or(0);
    let before = out.len();
    out.retain(|b| b.peak_per_minute * SPIKE_RATIO >= max_peak);
    let minor_spikes = (before - out.len()) as u64;
    let windows_total = out.len() as u64;
    if out.len() > MAX_BURSTS {
        // the largest, then back in time order
        out.sort_by(|a, b| {
            b.count_502
                .cmp(&a.count_502)
                .then(a.start_min.cmp(&b.start_min))
        });
        out.truncate(MAX_BURSTS);
        out.sort_by_key(|b| b.start_min);
    }
    Bursts {
        minor_spikes,
        windows_total,
        windows: out,
        baseline_per_minute: baseline,
        threshold_per_minute: threshold,
    }
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

    /// The index of `c` in the per-cause counts.
    fn at(c: Cause) -> usize {
        Cause::ALL.iter().position(|x| *x == c).unwrap()
    }

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
        m.insert(12, min(50, at(Cause::NoLiveUpstream)));
        let all = bursts(&m);
        let b = &all.windows;
        assert_eq!(b.len(), 1);
        assert_eq!((b[0].start_min, b[0].end_min), (10, 13));
        assert_eq!(b[0].count_502, 170);
        assert_eq!(b[0].peak_per_minute, 50);
        assert_eq!(b[0].top_cause, Cause::UpstreamRefused);
    }

    #[test]
    fn steady_errors_are_not_a_burst() {
        let m: BTreeMap<i64, Minute> = (0..30).map(|i| (i, min(10, 0))).collect();
        let b = bursts(&m);
        assert!(b.windows.is_empty());
        assert_eq!(b.baseline_per_minute, 10.0);
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

    #[test]
    fn bursts_are_relative_to_the_baseline() {
        // one 502 every third minute: three in a minute is ordinary
        let mut m: BTreeMap<i64, Minute> = (0..40).map(|i| (i, min(i as u64 % 3 / 2, 0))).collect();
        m.insert(5, min(3, 0));
        let b = bursts(&m);
        assert!(b.windows.is_empty(), "{b:?}");
        assert!(
            b.baseline_per_minute > 0.3 && b.baseline_per_minute < 0.4,
            "{b:?}"
        );
        assert_eq!(b.threshold_per_minute, 4);
        // on a service with no 502s at all, three in a minute stand out
        let mut quiet: BTreeMap<i64, Minute> = (0..40).map(|i| (i, min(0, 0))).collect();
        quiet.insert(5, min(3, 0));
        let b = bursts(&quiet);
        assert_eq!(b.windows.len(), 1);
        assert_eq!(b.threshold_per_minute, MIN_BURST_502);
        // ... but not next to a real outage
        for i in 20..24 {
            quiet.insert(i, min(60, at(Cause::NoLiveUpstream)));
        }
        let b = bursts(&quiet);
        assert_eq!(b.windows.len(), 1, "{b:?}");
        assert_eq!(b.windows[0].start_min, 20);
        assert_eq!(b.windows[0].top_cause, Cause::NoLiveUpstream);
        assert_eq!(b.minor_spikes, 1);
    }

    #[test]
    fn a_burst_a_day_keeps_the_largest_in_time_order() {
        // 40 daily bursts of 2 hot minutes (peaks 100..139) over a quiet
        // baseline of one 502 every other minute
        let mut m = BTreeMap::new();
        for day in 0..40i64 {
            let base = day * 1440;
            for i in (0..1440).step_by(2) {
                m.insert(base + i, min(1, 0));
            }
            m.insert(base + 600, min(100 + day as u64, 1));
            m.insert(base + 601, min(100 + day as u64, 1));
        }
        let b = bursts(&m);
        assert_eq!(b.windows_total, 40);
        assert_eq!(b.windows.len(), MAX_BURSTS);
        // the kept ones are the largest (the last 20 days) ...
        assert!(
            b.windows.iter().all(|w| w.count_502 >= 2 * 120),
            "{:?}",
            b.windows
        );
        // ... in time order
        assert!(b
            .windows
            .windows(2)
            .all(|w| w[0].start_min < w[1].start_min));
        assert_eq!(b.minor_spikes, 0);
    }

    /// The baseline as it was computed with every minute of the span
    /// stored: the counted form must agree.
    fn stored_baseline(m: &BTreeMap<i64, Minute>) -> (u64, f64) {
        let (first, last) = (*m.keys().next().unwrap(), *m.keys().next_back().unwrap());
        let mut counts: Vec<u64> = m.values().map(|x| x.s502).collect();
        counts.resize(((last - first + 1) as usize).max(counts.len()), 0);
        counts.sort_unstable();
        let median = counts[counts.len() / 2];
        let max = MIN_BURST_502.max(BURST_FACTOR * median);
        let o: Vec<u64> = counts.into_iter().filter(|&c| c < max).collect();
        let base = if o.is_empty() {
            median as f64
        } else {
            o.iter().sum::<u64>() as f64 / o.len() as f64
        };
        (max.max(poisson_threshold(base)), base)
    }

    #[test]
    fn the_span_is_counted_not_stored() {
        // dense, sparse and all-hot minute maps give the stored form's
        // baseline and threshold
        for step in [1i64, 3, 50] {
            for hot in [0u64, 1, 7, 90] {
                let mut m = BTreeMap::new();
                for i in 0..60i64 {
                    m.insert(
                        i * step,
                        min(if i % 5 == 0 { hot } else { i as u64 % 3 }, 0),
                    );
                }
                let b = bursts(&m);
                let (threshold, base) = stored_baseline(&m);
                assert_eq!(b.threshold_per_minute, threshold, "{step} {hot}");
                assert!((b.baseline_per_minute - base).abs() < 1e-9, "{step} {hot}");
            }
        }
        // a line dated year 402 among 2022's: 850 million minutes apart
        // (a CloudFront fuzz input aborted out of memory here)
        let mut m = BTreeMap::new();
        m.insert(-827_000_000, min(1, 0));
        m.insert(27_000_000, min(30, 0));
        m.insert(27_000_001, min(30, 0));
        let b = bursts(&m);
        assert_eq!(b.windows_total, 1);
        assert_eq!(b.windows[0].count_502, 60);
    }

    #[test]
    fn poisson_thresholds() {
        assert_eq!(poisson_threshold(0.0), 1);
        // P(X >= 4 | 0.33) = 0.0004, P(X >= 3 | 0.33) = 0.005
        assert_eq!(poisson_threshold(0.33), 4);
        assert_eq!(poisson_threshold(0.5), 5);
        let big = poisson_threshold(1000.0);
        assert!((1090..1110).contains(&big), "{big}");
    }
}
