//! Upstream timings as mergeable aggregates: connect / header / response
//! time of each upstream attempt in a fixed-bucket histogram (no request is
//! stored), split into the attempts behind a 502 and the attempts that
//! answered (< 500), per upstream address over the run and per minute over
//! every upstream (for before vs during each burst). Also when each
//! upstream address was first and last seen, and its first 502.
//!
//! The times are nginx's `$upstream_connect_time`, `$upstream_header_time`
//! and `$upstream_response_time`: seconds with millisecond resolution, one
//! value per server tried (ngx_http_upstream_module, "Embedded variables").

use std::collections::BTreeMap;
use std::hash::Hash;
use std::ops::AddAssign;

use ahash::AHashMap;

use crate::logs::record::{Attempt, UpstreamFields};

/// Buckets per histogram: 0 ms, then ten per decade from 1 ms
/// (bucket `i ≥ 1` holds `10^((i-1)/10) ≤ ms < 10^(i/10)`), the last one
/// open-ended (from about 40 min).
pub const BUCKETS: usize = 66;

/// A fixed log-bucket histogram of milliseconds; each bucket is 26 % wide,
/// so a quantile is told as its bucket's upper bound ("≤ 63 ms").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hist {
    n: [u32; BUCKETS],
}

impl Default for Hist {
    fn default() -> Self {
        Hist { n: [0; BUCKETS] }
    }
}

impl Hist {
    /// The bucket of `ms`: the one its definition gives (ten per decade
    /// from 1 ms, `bucket_by_log`), read from a table (`cells`) indexed
    /// by the value's binary exponent and first four fraction bits, with
    /// one compare against the bucket bound inside that cell, instead of a
    /// logarithm per value (three per attempt: `log10` and its `floor` were
    /// 1.3 % of a plain nginx run) or a binary search among the bounds
    /// (`Phases::add` was 3 % of a plain nginx run with it: seven
    /// unpredictable compares per value). Equal to the logarithm's for
    /// every millisecond count the parsers give (tested exhaustively), at
    /// and next to every bound, and any other value (tested at random);
    /// +∞ goes to the open last bucket, NaN to bucket 1 (as by the
    /// logarithm).
    #[inline]
    pub fn bucket(ms: f64) -> usize {
        if ms < 1.0 {
            return 0;
        }
        if ms.is_nan() {
            return 1;
        }
        // ms ≥ 1, positive: the sign bit is clear and the exponent at
        // least the bias, so the top 16 bits are (exponent << 4) | the
        // first four fraction bits, and `i` counts cells from 1.0
        let i = (ms.to_bits() >> 48) as usize - (1023 << 4);
        match cells().get(i) {
            Some(c) => c.base as usize + usize::from(ms >= c.next),
            None => BUCKETS - 1,
        }
    }

    /// The bucket of `ms` by a binary search among the buckets' lower
    /// bounds: the reference [`Hist::bucket`]'s table is built from.
    fn bucket_by_bounds(ms: f64) -> usize {
        if ms < 1.0 {
            return 0;
        }
        // (a NaN is none of the bounds: bucket 1, as by the logarithm)
        lower_bounds().partition_point(|&b| b <= ms).max(1)
    }

    /// The bucket of `ms` by its definition: ten per decade from 1 ms.
    fn bucket_by_log(ms: f64) -> usize {
        if ms < 1.0 {
            return 0;
        }
        ((ms.log10() * 10.0).floor() as usize + 1).min(BUCKETS - 1)
    }

    /// The upper bound, in ms, of bucket `i` (`None`: the open last one).
    pub fn upper_ms(i: usize) -> Option<f64> {
        (i < BUCKETS - 1).then(|| 10f64.powf(i as f64 / 10.0))
    }

    /// Count one value, in seconds.
    #[inline]
    pub fn add_secs(&mut self, s: f64) {
        if let Some(b) = Self::bucket_of_secs(s) {
            self.add_bucket(b);
        }
    }

    /// The bucket a value in seconds is counted in (`None`: not counted,
    /// as an infinite, negative or NaN value is not).
    #[inline]
    fn bucket_of_secs(s: f64) -> Option<u8> {
        // (BUCKETS < 256: a bucket fits a byte)
        (s.is_finite() && s >= 0.0).then(|| Self::bucket(s * 1000.0) as u8)
    }

    /// Count one value in bucket `b`.
    #[inline]
    fn add_bucket(&mut self, b: u8) {
        let n = &mut self.n[usize::from(b)];
        *n = n.saturating_add(1);
    }

    /// Values counted.
    pub fn count(&self) -> u64 {
        self.n.iter().map(|&c| u64::from(c)).sum()
    }

    /// The `q` quantile (0..=1) as the upper bound in ms of the bucket it
    /// falls in; `None` without values, `Some(f64::INFINITY)` in the last.
    pub fn quantile_ms(&self, q: f64) -> Option<f64> {
        let total = self.count();
        if total == 0 {
            return None;
        }
        let rank = ((q * total as f64).ceil() as u64).clamp(1, total);
        let mut seen = 0u64;
        for (i, &c) in self.n.iter().enumerate() {
            seen += u64::from(c);
            if seen >= rank {
                return Some(Self::upper_ms(i).unwrap_or(f64::INFINITY));
            }
        }
        None
    }
}

/// `[i]`: the least `f64` whose [`Hist::bucket_by_log`] is at least
/// `i + 1`, found once by bisection over the ordered bit patterns of the
/// positive floats (so a value's bucket is how many bounds it reaches).
fn lower_bounds() -> &'static [f64; BUCKETS - 1] {
    static BOUNDS: std::sync::OnceLock<[f64; BUCKETS - 1]> = std::sync::OnceLock::new();
    BOUNDS.get_or_init(|| {
        let mut out = [0.0; BUCKETS - 1];
        for (i, slot) in out.iter_mut().enumerate() {
            // the bucket at f64::MAX is the last one: a bound exists
            let (mut lo, mut hi) = (1.0f64.to_bits(), f64::MAX.to_bits());
            while lo < hi {
                let mid = lo + (hi - lo) / 2;
                if Hist::bucket_by_log(f64::from_bits(mid)) > i {
                    hi = mid;
                } else {
                    lo = mid + 1;
                }
            }
            *slot = f64::from_bits(lo);
        }
        out
    })
}

/// One cell of [`cells`]: the values whose binary exponent and first four
/// fraction bits are the same, a span of at most 1/16 of an octave
/// (6.25 %), so at most one bucket bound (buckets are 26 % wide) lies in it.
#[derive(Clone, Copy)]
struct Cell {
    /// The bucket of the cell's least value.
    base: u8,
    /// The least value of bucket `base + 1` if it lies in the cell, else
    /// +∞ (no value of the cell reaches it).
    next: f64,
}

/// The cells from 1.0 up to the first whose every value is in the open last
/// bucket ([`Hist::bucket`] reads past them as the last bucket), built once
/// from the buckets' lower bounds.
fn cells() -> &'static [Cell] {
    static CELLS: std::sync::OnceLock<Vec<Cell>> = std::sync::OnceLock::new();
    CELLS.get_or_init(|| {
        let bounds = lower_bounds();
        let mut out = Vec::new();
        for i in 0u64.. {
            // the least value of cell `i` and of the next one
            let lo = f64::from_bits(((1023 << 4) + i) << 48);
            let hi = f64::from_bits(((1023 << 4) + i + 1) << 48);
            let base = Hist::bucket_by_bounds(lo);
            if base == BUCKETS - 1 {
                break;
            }
            let next = bounds[base];
            debug_assert!(next > lo);
            // one bound at most in a cell (so one compare decides)
            debug_assert!(base + 1 == BUCKETS - 1 || bounds[base + 1] >= hi);
            out.push(Cell {
                base: base as u8,
                next: if next < hi { next } else { f64::INFINITY },
            });
        }
        out
    })
}

impl AddAssign for Hist {
    fn add_assign(&mut self, o: Hist) {
        for (a, b) in self.n.iter_mut().zip(o.n) {
            *a = a.saturating_add(b);
        }
    }
}

/// The three phases nginx times.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Phases {
    /// `$upstream_connect_time`.
    pub connect: Hist,
    /// `$upstream_header_time`.
    pub header: Hist,
    /// `$upstream_response_time`.
    pub response: Hist,
}

impl Phases {
    /// Count one attempt's phases, already bucketed ([`Times::buckets`]).
    #[inline]
    fn add(&mut self, b: &Buckets) {
        for (h, b) in [&mut self.connect, &mut self.header, &mut self.response]
            .into_iter()
            .zip(b)
        {
            if let Some(b) = *b {
                h.add_bucket(b);
            }
        }
    }
}

/// One attempt's three times, in seconds.
struct Times {
    connect: Option<f64>,
    header: Option<f64>,
    response: Option<f64>,
}

/// The buckets of one attempt's connect, header and response times (`None`:
/// not logged, or not a count of time), found once per attempt for the
/// upstream's histograms and the minute's.
type Buckets = [Option<u8>; 3];

impl Times {
    /// The bucket of each time.
    #[inline]
    fn buckets(&self) -> Buckets {
        [self.connect, self.header, self.response].map(|t| t.and_then(Hist::bucket_of_secs))
    }
}

impl AddAssign for Phases {
    fn add_assign(&mut self, o: Phases) {
        self.connect += o.connect;
        self.header += o.header;
        self.response += o.response;
    }
}

/// Attempts that answered, and attempts behind a 502.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Outcomes {
    /// Attempts whose status was below 500.
    pub ok: Phases,
    /// Attempts of requests answered 502 whose own status was 5xx or none.
    pub failed: Phases,
}

impl AddAssign for Outcomes {
    fn add_assign(&mut self, o: Outcomes) {
        self.ok += o.ok;
        self.failed += o.failed;
    }
}

/// One upstream address over the run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Upstream {
    /// Attempts sent to it.
    pub attempts: u64,
    /// Attempts of 502 requests.
    pub failed: u64,
    /// First and last attempt, UTC ms.
    pub seen: Option<(i64, i64)>,
    /// First attempt of a 502 request, UTC ms.
    pub first_502: Option<i64>,
    /// Its timings.
    pub timings: Outcomes,
}

impl Upstream {
    /// One attempt to this upstream (`failed`: of a 502 request).
    #[inline]
    fn count(&mut self, failed: bool, a: &Buckets, utc_ms: Option<i64>) {
        self.attempts += 1;
        let phases = if failed {
            self.failed += 1;
            &mut self.timings.failed
        } else {
            &mut self.timings.ok
        };
        phases.add(a);
        if let Some(t) = utc_ms {
            self.seen = Some(match self.seen {
                Some((x, y)) => (x.min(t), y.max(t)),
                None => (t, t),
            });
            if failed {
                self.first_502 = Some(self.first_502.map_or(t, |f| f.min(t)));
            }
        }
    }
}

/// Whether an attempt that ended with `own` status, of a request answered
/// `status`, counts as failed (`Some(true)`: behind a 502), as answered
/// (`Some(false)`: below 500), or not at all.
#[inline]
fn outcome(own: Option<u16>, status: u16) -> Option<bool> {
    let failed = status == 502 && own.is_none_or(|s| s >= 500);
    let ok = own.is_some_and(|s| s < 500);
    (failed || ok).then_some(failed)
}

/// One chunk's upstreams keyed by what stands for their address (the
/// line's bytes), for [`Timings::see_keyed`]: a text key per attempt cost
/// a UTF-8 check, a copy and a SipHash per sampled line (`perf record`: 4 %
/// of a HAProxy run). Hashed with aHash; the order is not kept.
#[derive(Debug)]
pub struct Keyed<K> {
    map: AHashMap<K, Upstream>,
}

impl<K> Default for Keyed<K> {
    fn default() -> Self {
        Keyed {
            map: AHashMap::default(),
        }
    }
}

impl AddAssign for Upstream {
    fn add_assign(&mut self, o: Upstream) {
        self.attempts += o.attempts;
        self.failed += o.failed;
        self.seen = match (self.seen, o.seen) {
            (Some((a, b)), Some((c, d))) => Some((a.min(c), b.max(d))),
            (x, y) => x.or(y),
        };
        self.first_502 = match (self.first_502, o.first_502) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (x, y) => x.or(y),
        };
        self.timings += o.timings;
    }
}

/// Upstream addresses kept at most per aggregate: beyond, new addresses
/// are counted in [`Timings::dropped`] (a dump with a million distinct
/// addresses must not grow without bound).
pub const MAX_UPSTREAMS: usize = 4096;

/// Timings of one hop's upstream attempts.
#[derive(Debug, Clone, Default)]
pub struct Timings {
    /// By upstream address (aHash: SipHash was a visible part of each
    /// sampled line's cost; the order is not kept either way).
    pub upstreams: super::stats::HashMap<String, Upstream>,
    /// By UTC epoch minute, every upstream together.
    pub minutes: BTreeMap<i64, Outcomes>,
    /// Attempts not kept because [`MAX_UPSTREAMS`] was reached.
    pub dropped: u64,
    /// The minute being filled (logs are mostly in time order).
    cur: Option<(i64, Outcomes)>,
}

impl Timings {
    /// Count the attempts of one request with final `status` at `utc_ms`.
    pub fn see(&mut self, attempts: &[Attempt], status: u16, utc_ms: Option<i64>) {
        for a in attempts {
            let times = Times {
                connect: a.connect_time,
                header: a.header_time,
                response: a.response_time,
            };
            self.see_one(&a.addr, a.status, &times, status, utc_ms);
        }
    }

    /// [`Timings::see`] straight from a record's upstream variables,
    /// without building its [`Attempt`]s (no allocation: this runs for the
    /// 1 in `TIMING_SAMPLE` successful requests of the hot loop).
    pub fn see_fields(&mut self, u: &UpstreamFields<'_>, status: u16, utc_ms: Option<i64>) {
        u.each_attempt(|a| {
            let times = Times {
                connect: a.connect_time,
                header: a.header_time,
                response: a.response_time,
            };
            // the same key `UpstreamFields::attempts` gives the address
            let addr = a.addr.unwrap_or_default();
            // an address is ASCII: checked a word at a time, where
            // `from_utf8` (0.8–1.1 % of a plain nginx run's samples, one
            // call per sampled attempt here) walks its general decoder
            if addr.is_ascii() {
                // SAFETY: ASCII bytes are valid UTF-8.
                let s = unsafe { std::str::from_utf8_unchecked(addr) };
                self.see_one(s, a.status, &times, status, utc_ms);
                return;
            }
            match std::str::from_utf8(addr) {
                Ok(s) => self.see_one(s, a.status, &times, status, utc_ms),
                Err(_) => {
                    let s = String::from_utf8_lossy(addr);
                    self.see_one(&s, a.status, &times, status, utc_ms)
                }
            }
        });
    }

    /// One attempt to `addr` that ended with `own` status, of a request
    /// answered `status`.
    fn see_one(
        &mut self,
        addr: &str,
        own: Option<u16>,
        a: &Times,
        status: u16,
        utc_ms: Option<i64>,
    ) {
        let Some(failed) = outcome(own, status).filter(|_| !addr.is_empty()) else {
            return;
        };
        let full = self.upstreams.len() >= MAX_UPSTREAMS;
        let u = match self.upstreams.get_mut(addr) {
            Some(u) => u,
            None if full => {
                self.dropped += 1;
                return;
            }
            None => self.upstreams.entry(addr.to_string()).or_default(),
        };
        let b = a.buckets();
        u.count(failed, &b, utc_ms);
        self.count_minute(failed, &b, utc_ms);
    }

    /// [`Timings::see`] of one attempt whose address is `key`, any value
    /// that stands for its text (`None`: the text is empty), counted in
    /// the chunk's `keyed` map; [`Timings::merge_keyed`] adds that map to
    /// [`Timings::upstreams`] at the chunk's end. For a chunk whose
    /// attempts all come this way, the result is [`Timings::see`]'s (two
    /// keys whose texts are the same, which only invalid UTF-8 made lossy
    /// can do, count against [`MAX_UPSTREAMS`] apart).
    pub fn see_keyed<K: Hash + Eq>(
        &mut self,
        keyed: &mut Keyed<K>,
        key: Option<K>,
        own: Option<u16>,
        times: [Option<f64>; 3],
        status: u16,
        utc_ms: Option<i64>,
    ) {
        let (Some(failed), Some(key)) = (outcome(own, status), key) else {
            return;
        };
        let a = Times {
            connect: times[0],
            header: times[1],
            response: times[2],
        };
        let full = keyed.map.len() >= MAX_UPSTREAMS;
        let u = match keyed.map.get_mut(&key) {
            Some(u) => u,
            None if full => {
                self.dropped += 1;
                return;
            }
            None => keyed.map.entry(key).or_default(),
        };
        let b = a.buckets();
        u.count(failed, &b, utc_ms);
        self.count_minute(failed, &b, utc_ms);
    }

    /// Add a chunk's [`Keyed`] counts to [`Timings::upstreams`], each key
    /// as the text `text` makes of it (as [`AddAssign`] merges upstreams).
    pub fn merge_keyed<K>(&mut self, keyed: Keyed<K>, text: impl Fn(&K) -> String) {
        for (k, v) in keyed.map {
            let k = text(&k);
            let full = self.upstreams.len() >= MAX_UPSTREAMS;
            match self.upstreams.get_mut(&k) {
                Some(u) => *u += v,
                None if full => self.dropped += v.attempts,
                None => {
                    self.upstreams.insert(k, v);
                }
            }
        }
    }

    /// The attempt in the minute of `utc_ms`.
    #[inline]
    fn count_minute(&mut self, failed: bool, a: &Buckets, utc_ms: Option<i64>) {
        let Some(t) = utc_ms else {
            return;
        };
        let m = t.div_euclid(60_000);
        if self.cur.as_ref().is_none_or(|(cm, _)| *cm != m) {
            self.flush();
            self.cur = Some((m, Outcomes::default()));
        }
        if let Some((_, o)) = self.cur.as_mut() {
            if failed {
                o.failed.add(a)
            } else {
                o.ok.add(a)
            }
        }
    }

    /// Move the minute being filled into [`Timings::minutes`].
    pub fn flush(&mut self) {
        if let Some((m, o)) = self.cur.take() {
            *self.minutes.entry(m).or_default() += o;
        }
    }
}

impl AddAssign for Timings {
    fn add_assign(&mut self, mut o: Timings) {
        self.flush();
        o.flush();
        for (k, v) in o.upstreams {
            let full = self.upstreams.len() >= MAX_UPSTREAMS;
            match self.upstreams.get_mut(&k) {
                Some(u) => *u += v,
                None if full => self.dropped += v.attempts,
                None => {
                    self.upstreams.insert(k, v);
                }
            }
        }
        for (m, v) in o.minutes {
            *self.minutes.entry(m).or_default() += v;
        }
        self.dropped += o.dropped;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The search among the bounds gives the logarithm's bucket for every
    /// whole millisecond up to past the last bound (every time
    /// `parse_secs_ms` gives, also through the seconds the records carry)
    /// and for random values.
    #[test]
    fn buckets_by_bounds_are_the_logarithms() {
        let last = lower_bounds()[BUCKETS - 2];
        assert!(last > 2.0e6 && last < 3.0e6, "{last}");
        for m in 0..3_000_000u32 {
            let ms = f64::from(m);
            assert_eq!(Hist::bucket(ms), Hist::bucket_by_log(ms), "{m} ms");
            let via_secs = (ms / 1000.0) * 1000.0;
            assert_eq!(
                Hist::bucket(via_secs),
                Hist::bucket_by_log(via_secs),
                "{m} ms as seconds"
            );
        }
        for &b in lower_bounds() {
            let below = f64::from_bits(b.to_bits() - 1);
            assert_eq!(Hist::bucket(below), Hist::bucket_by_log(below));
            assert_eq!(Hist::bucket(b), Hist::bucket_by_log(b));
        }
        assert_eq!(Hist::bucket(f64::NAN), Hist::bucket_by_log(f64::NAN));
        assert_eq!(Hist::bucket(-f64::NAN), Hist::bucket_by_log(-f64::NAN));
        assert_eq!(Hist::bucket(f64::INFINITY), BUCKETS - 1);
        assert_eq!(Hist::bucket(f64::NEG_INFINITY), 0);
    }

    /// The table gives the search's bucket at both ends of every cell and
    /// of the cells past it, and at every bound and the values next to it.
    #[test]
    fn the_table_is_the_search_at_every_edge() {
        let near = |v: f64| {
            let b = v.to_bits();
            [b - 1, b, b + 1].map(f64::from_bits)
        };
        for i in 0..cells().len() as u64 + 64 {
            let lo = f64::from_bits(((1023 << 4) + i) << 48);
            for v in near(lo) {
                assert_eq!(Hist::bucket(v), Hist::bucket_by_bounds(v), "{v}");
            }
        }
        for &b in lower_bounds() {
            for v in near(b) {
                assert_eq!(Hist::bucket(v), Hist::bucket_by_bounds(v), "{v}");
                assert_eq!(Hist::bucket(v), Hist::bucket_by_log(v), "{v}");
            }
        }
        for v in [0.0, -0.0, 0.999_999, 1.0, f64::MAX, f64::MIN_POSITIVE, -5.0] {
            assert_eq!(Hist::bucket(v), Hist::bucket_by_bounds(v), "{v}");
        }
    }

    proptest::proptest! {
        #[test]
        fn random_values_bucket_as_by_the_logarithm(ms in 0.0f64..1e12) {
            proptest::prop_assert_eq!(Hist::bucket(ms), Hist::bucket_by_log(ms));
            proptest::prop_assert_eq!(Hist::bucket(ms), Hist::bucket_by_bounds(ms));
        }

        #[test]
        fn any_float_buckets_as_by_the_search(bits in proptest::num::u64::ANY) {
            let v = f64::from_bits(bits);
            proptest::prop_assert_eq!(Hist::bucket(v), Hist::bucket_by_bounds(v));
        }
    }

    fn attempt(addr: &str, status: u16, secs: f64) -> Attempt {
        Attempt {
            addr: addr.into(),
            status: Some(status),
            connect_time: Some(0.001),
            header_time: Some(secs),
            response_time: Some(secs),
            group: 0,
        }
    }

    #[test]
    fn quantiles_bound_the_values() {
        let mut h = Hist::default();
        assert_eq!(h.quantile_ms(0.5), None);
        for ms in 1..=1000 {
            h.add_secs(ms as f64 / 1000.0);
        }
        let p50 = h.quantile_ms(0.5).unwrap();
        let p99 = h.quantile_ms(0.99).unwrap();
        // the bucket's upper bound: at or above the true value, within 26 %
        assert!((500.0..=500.0 * 1.26).contains(&p50), "{p50}");
        assert!((990.0..=990.0 * 1.26).contains(&p99), "{p99}");
        h.add_secs(1e9);
        assert_eq!(Hist::bucket(1e12), BUCKETS - 1);
        assert_eq!(Hist::bucket(0.4), 0);
        h.add_secs(f64::NAN);
        assert_eq!(h.count(), 1001);
    }

    /// The allocation-free path gives what the attempts give, retries,
    /// redirects, `-` and a non-UTF-8 address included.
    #[test]
    fn fields_equal_attempts() {
        let u = UpstreamFields {
            addr: Some(b"10.0.0.1:80, 10.0.0.2:80 : 10.0.9.2:80, -, \xff:1, "),
            status: Some(b"502, 200 : 404, 502, 200, 200"),
            connect: Some(b"-, 0.001 : 0.000, -, 0.002, 0.001"),
            header: Some(b"-, 0.3 : 0.010, -, 1.5, 0.1"),
            response: Some(b"0.000, 0.302 : 0.011, 0.001, 1.6, 0.1"),
            ..Default::default()
        };
        for (status, t) in [(502, Some(61_000)), (200, None), (404, Some(1))] {
            let (mut a, mut b) = (Timings::default(), Timings::default());
            a.see(&u.attempts(), status, t);
            b.see_fields(&u, status, t);
            a.flush();
            b.flush();
            assert!(!a.upstreams.is_empty());
            assert_eq!((a.upstreams, a.minutes), (b.upstreams, b.minutes));
        }
    }

    /// Attempts keyed by their bytes in a chunk, merged at its end, count
    /// as [`Timings::see`] counts them by text: empty addresses, own
    /// statuses that do not count, minutes, invalid UTF-8, the cap.
    #[test]
    fn keyed_equals_see() {
        let addrs: [&[u8]; 5] = [b"be/a", b"be/b", b"", b"\xffx", b"be/a"];
        let mut by_text = Timings::default();
        let mut by_key = Timings::default();
        let mut keyed = Keyed::default();
        for i in 0..200u16 {
            let addr = addrs[usize::from(i) % addrs.len()];
            let own = [Some(200), Some(502), None, Some(404)][usize::from(i) % 4];
            let status = [200, 502, 504][usize::from(i) % 3];
            let t = Some(i64::from(i) * 7_000);
            let secs = f64::from(i) / 100.0;
            let a = Attempt {
                addr: String::from_utf8_lossy(addr).into_owned(),
                status: own,
                connect_time: Some(secs),
                header_time: None,
                response_time: Some(secs * 2.0),
                group: 0,
            };
            by_text.see(std::slice::from_ref(&a), status, t);
            let key = (!addr.is_empty()).then_some(addr);
            let times = [Some(secs), None, Some(secs * 2.0)];
            by_key.see_keyed(&mut keyed, key, own, times, status, t);
        }
        by_key.merge_keyed(keyed, |k| String::from_utf8_lossy(k).into_owned());
        by_text.flush();
        by_key.flush();
        assert_eq!(by_key.upstreams.len(), 3);
        assert_eq!(by_key.upstreams, by_text.upstreams);
        assert_eq!(by_key.minutes, by_text.minutes);
        // past the cap, a new key is dropped as a new text is
        let mut k = Keyed::default();
        let mut t = Timings::default();
        for i in 0..=MAX_UPSTREAMS {
            t.see_keyed(&mut k, Some(i), Some(200), [None; 3], 200, None);
        }
        t.merge_keyed(k, |i| i.to_string());
        assert_eq!((t.upstreams.len(), t.dropped), (MAX_UPSTREAMS, 1));
    }

    #[test]
    fn merge_equals_one_pass() {
        let all = [
            (attempt("a", 200, 0.05), 200, 60_000),
            (attempt("a", 502, 30.0), 502, 61_000),
            (attempt("b", 200, 0.2), 200, 125_000),
        ];
        let mut one = Timings::default();
        for (a, s, t) in &all {
            one.see(std::slice::from_ref(a), *s, Some(*t));
        }
        let (mut x, mut y) = (Timings::default(), Timings::default());
        x.see(std::slice::from_ref(&all[0].0), 200, Some(60_000));
        y.see(std::slice::from_ref(&all[1].0), 502, Some(61_000));
        y.see(std::slice::from_ref(&all[2].0), 200, Some(125_000));
        x += y;
        one.flush();
        assert_eq!(x.upstreams, one.upstreams);
        assert_eq!(x.minutes, one.minutes);
        let a = &x.upstreams["a"];
        assert_eq!((a.attempts, a.failed, a.first_502), (2, 1, Some(61_000)));
        assert_eq!(a.seen, Some((60_000, 61_000)));
        assert_eq!(x.minutes[&1].failed.response.count(), 1);
        assert_eq!(x.minutes[&2].ok.response.count(), 1);
    }
}
