//! Mergeable aggregates: each worker fills its own [`Agg`] and the results
//! are added together (`AddAssign`) at the end.

use std::collections::BTreeMap;
use std::ops::AddAssign;

/// The aggregates' hash maps, keyed by aHash instead of SipHash: the 502s'
/// upstream, host and path counts are bumped once per 5xx line, and
/// SipHash was 1 % of an `--events` run (`perf record`, 1 GiB bench log).
/// Everything shown from them is sorted, so the hasher changes no output.
pub type HashMap<K, V> = std::collections::HashMap<K, V, ahash::RandomState>;

use super::cause::Cause;
use crate::logs::scan::LogTime;

/// How many malformed-line examples to keep (per run).
pub const MALFORMED_SAMPLES: usize = 5;
/// How many characters of a malformed line to show.
pub const SAMPLE_CHARS: usize = 160;

/// A malformed line, shown to the user.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Sample {
    /// File as given.
    pub file: String,
    /// 1-based line.
    pub line: u64,
    /// What is wrong.
    pub reason: String,
    /// The start of the line, lossily decoded.
    pub text: String,
}

/// The minute a chunk's lines are in: its counts are kept in [`MinuteRun::cur`]
/// and added to the aggregate's timeline when the minute changes (logs are
/// mostly in time order, so the map is touched about once a minute). Counts
/// made before the first timed line belong to no minute and are dropped.
#[derive(Debug, Default)]
pub struct MinuteRun {
    min: Option<i64>,
    /// The current minute's milliseconds, `lo..hi` (empty before the first).
    lo: i64,
    hi: i64,
    /// The current minute's counts.
    pub cur: Minute,
}

impl MinuteRun {
    /// Move to the minute of `utc_ms`, flushing the previous one into `minutes`.
    #[inline]
    pub fn enter(&mut self, minutes: &mut BTreeMap<i64, Minute>, utc_ms: i64) {
        // two compares per line; the division only when the minute may
        // change (it was 1.5 % of a HAProxy run, `perf record`)
        if utc_ms < self.lo || utc_ms >= self.hi {
            self.change(minutes, utc_ms);
        }
    }

    #[cold]
    fn change(&mut self, minutes: &mut BTreeMap<i64, Minute>, utc_ms: i64) {
        let m = utc_ms.div_euclid(60_000);
        if self.min != Some(m) {
            let done = std::mem::take(&mut self.cur);
            if let Some(old) = self.min {
                *minutes.entry(old).or_default() += done;
            }
            self.min = Some(m);
        }
        // clipped to `i64` at its ends (there the range is short, and a
        // time past it runs this again, to the same minute)
        self.lo = m.checked_mul(60_000).unwrap_or(i64::MIN);
        self.hi = (m + 1).checked_mul(60_000).unwrap_or(i64::MAX);
    }

    /// Flush the last minute into `minutes`.
    pub fn finish(self, minutes: &mut BTreeMap<i64, Minute>) {
        if let Some(m) = self.min {
            *minutes.entry(m).or_default() += self.cur;
        }
    }
}

/// Counts for one minute of the timeline.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Minute {
    /// Requests logged in this minute.
    pub requests: u64,
    /// 502s.
    pub s502: u64,
    /// 504s.
    pub s504: u64,
    /// All 5xx.
    pub s5xx: u64,
    /// 502s by cause (index: position in [`Cause::ALL`]).
    pub by_cause: [u32; crate::analyze::cause::N_CAUSES],
}

impl Minute {
    /// Count a logged response whose `status` (client side) may be a 5xx,
    /// with the cause its 502 was given: the one counting of the nginx
    /// (`access`) and hop-format (`hops`) passes.
    #[inline]
    pub fn see_error(&mut self, status: u16, cause: Cause) {
        if status >= 500 {
            self.s5xx += 1;
        }
        if status == 502 {
            self.s502 += 1;
            self.by_cause[cause as usize] += 1;
        }
        if status == 504 {
            self.s504 += 1;
        }
    }
}

impl AddAssign for Minute {
    fn add_assign(&mut self, o: Minute) {
        self.requests += o.requests;
        self.s502 += o.s502;
        self.s504 += o.s504;
        self.s5xx += o.s5xx;
        for (a, b) in self.by_cause.iter_mut().zip(o.by_cause) {
            *a += b;
        }
    }
}

/// One request shown as the example of a cause.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Example {
    /// Access-log file as given.
    pub file: String,
    /// 1-based line in it.
    pub line: u64,
    /// Index of the file among the inputs (orders examples across files).
    #[serde(skip)]
    pub file_index: u32,
    /// `GET /x` and the status.
    pub request: String,
    /// The evidence.
    pub evidence: Vec<String>,
}

/// Count and first example of one cause.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct CauseStat {
    /// Requests with this cause.
    pub count: u64,
    /// The first one seen (in input order).
    pub example: Option<Example>,
    /// Failed upstream addresses (or group names) with this cause.
    #[serde(skip)]
    pub addrs: HashMap<String, u64>,
    /// Durations of the failed attempts, in whole 100 ms steps, for timeouts.
    #[serde(skip)]
    pub durations: HashMap<u64, u64>,
    /// Backends / clusters a hop's log names for these requests (HAProxy
    /// `%b`, Envoy `%UPSTREAM_CLUSTER%`), for attribution.
    #[serde(skip)]
    pub pools: HashMap<String, u64>,
    /// How long these requests waited in the phase that failed at a hop:
    /// counts by `attribute::waited_key` (100 ms step and phase).
    #[serde(skip)]
    pub waited: HashMap<u64, u64>,
    /// nginx: the config scopes that served these requests, by
    /// `NginxConfig::route_key` (with `--config`), for attribution.
    #[serde(skip)]
    pub routes: HashMap<String, u64>,
    /// nginx: the failed attempts' durations as `STEP@ROUTE`: the 100 ms
    /// step × 4 + phase (0 not told, 1 never connected, 2 connected), for
    /// comparing them with the connect or the read/send timeout, and the
    /// `routes` key of the request (whose limits they ran into).
    #[serde(skip)]
    pub timed: HashMap<String, u64>,
    /// Requests whose log tells how many servers were tried (nginx
    /// `$upstream_status`, HAProxy's retries field `%rc`).
    #[serde(skip)]
    pub attempts_logged: u64,
    /// Of those, requests that were already retries: more than one server
    /// tried (nginx: in one upstream group) or `%rc` above 0 (HAProxy).
    #[serde(skip)]
    pub retried: u64,
    /// HAProxy: requests whose retries moved to another server (`%rc`
    /// starts with `+`).
    #[serde(skip)]
    pub redispatched: u64,
    /// The most attempts one request made (nginx: servers tried in one
    /// group; HAProxy: retries + 1).
    #[serde(skip)]
    pub max_attempts: u64,
    /// nginx (with `--config`): every address these requests were sent to,
    /// each counted once per request.
    #[serde(skip)]
    pub tried: HashMap<String, u64>,
}

impl AddAssign for CauseStat {
    fn add_assign(&mut self, o: CauseStat) {
        self.count += o.count;
        merge_counts(&mut self.addrs, o.addrs);
        for (k, v) in o.durations {
            *self.durations.entry(k).or_default() += v;
        }
        merge_counts(&mut self.pools, o.pools);
        merge_counts(&mut self.routes, o.routes);
        merge_counts(&mut self.timed, o.timed);
        self.attempts_logged += o.attempts_logged;
        self.retried += o.retried;
        self.redispatched += o.redispatched;
        self.max_attempts = self.max_attempts.max(o.max_attempts);
        merge_counts(&mut self.tried, o.tried);
        for (k, v) in o.waited {
            *self.waited.entry(k).or_default() += v;
        }
        let key = |e: &Example| (e.file_index, e.line);
        match (&self.example, &o.example) {
            (_, None) => {}
            (Some(a), Some(b)) if key(a) <= key(b) => {}
            _ => self.example = o.example,
        }
    }
}

/// Per-cause counts.
pub type ByCause = BTreeMap<Cause, CauseStat>;

/// A count kept per hop (`nginx`, `haproxy`, …), merged by adding, so a
/// note about it can speak each hop's terms.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PerHop(pub BTreeMap<&'static str, u64>);

impl PerHop {
    /// Count one for `hop`.
    pub fn bump(&mut self, hop: &'static str) {
        *self.0.entry(hop).or_default() += 1;
    }

    /// The sum over every hop.
    pub fn total(&self) -> u64 {
        self.0.values().sum()
    }
}

impl AddAssign for PerHop {
    fn add_assign(&mut self, o: PerHop) {
        for (k, v) in o.0 {
            *self.0.entry(k).or_default() += v;
        }
    }
}

/// Everything counted over a set of lines; merged with `+=`.
#[derive(Debug, Clone, Default)]
pub struct Agg {
    /// Lines read (non-empty).
    pub lines: u64,
    /// Lines that parsed.
    pub requests: u64,
    /// Lines outside --since/--until.
    pub filtered: u64,
    /// Lines that did not parse.
    pub malformed: u64,
    /// The first few malformed lines.
    pub malformed_samples: Vec<Sample>,
    /// Start-up messages of the nginx image's entrypoint (a `docker logs`
    /// dump), skipped: neither requests nor malformed.
    pub startup_lines: u64,
    /// The first of them (by file, then line).
    pub startup_first: Option<Sample>,
    /// Requests by status code (index = status, 0..=999).
    pub status: Vec<u64>,
    /// Timeline by minute (UTC epoch minute).
    pub minutes: BTreeMap<i64, Minute>,
    /// 502s by cause.
    pub causes_502: ByCause,
    /// 504s by cause.
    pub causes_504: ByCause,
    /// Other 5xx by cause.
    pub causes_other_5xx: ByCause,
    /// Requests whose client got a non-5xx although an upstream attempt failed, by cause.
    pub causes_rescued: ByCause,
    /// Requests whose last upstream attempt failed with a 5xx the client did
    /// not get (nginx answered another status in its place), by cause.
    pub causes_replaced: ByCause,
    /// Failed upstream addresses of the 502s.
    pub upstreams: HashMap<String, u64>,
    /// Hosts of the 502s.
    pub hosts: HashMap<String, u64>,
    /// Paths of the 502s (without query).
    pub paths: HashMap<String, u64>,
    /// 502s without an upstream address (none logged, none in an error
    /// line; HAProxy `<NOSRV>`), per hop.
    pub no_upstream_502: PerHop,
    /// 502s without a host (none logged, none in an error line), per hop.
    pub no_host_502: PerHop,
    /// 502s without a request path, per hop.
    pub no_path_502: PerHop,
    /// First and last request time.
    pub span: Option<(LogTime, LogTime)>,
    /// First and last 502.
    pub span_502: Option<(LogTime, LogTime)>,
    /// Largest UTC offset seen, for display.
    pub offset_s: Option<i32>,
    /// The 5xx records as the born section and the ladder need them
    /// (counts and samples; the records themselves only for a run of
    /// several hops): `analyze::born_tally`.
    pub join: super::born_tally::Tally,
    /// Upstream attempt timings and when each address was seen.
    pub timings: super::timing::Timings,
    /// The response heads each upstream address answered with, when the
    /// log has the byte counts.
    pub header_sizes: super::header_sizes::HeaderSizes,
    /// Responses answered below 500 whose body the upstream cut after the
    /// header had gone out.
    pub cut: super::cut::Cut,
}

fn widen(span: &mut Option<(LogTime, LogTime)>, a: LogTime, b: LogTime) {
    *span = Some(match *span {
        None => (a, b),
        Some((x, y)) => (x.min(a), y.max(b)),
    });
}

impl Agg {
    /// A fresh aggregate.
    pub fn new() -> Self {
        Agg {
            status: vec![0; 1000],
            ..Default::default()
        }
    }

    /// Note a request time.
    #[inline]
    pub fn see_time(&mut self, t: LogTime) {
        match &mut self.span {
            Some((a, b)) => {
                if t < *a {
                    *a = t
                }
                if t > *b {
                    *b = t
                }
            }
            None => {
                self.span = Some((t, t));
                self.offset_s = Some(t.offset_s);
            }
        }
    }

    /// Note a 502's time.
    pub fn see_502(&mut self, t: LogTime) {
        widen(&mut self.span_502, t, t);
    }
}

fn merge_map<K: Ord, V: AddAssign + Default>(a: &mut BTreeMap<K, V>, b: BTreeMap<K, V>) {
    for (k, v) in b {
        *a.entry(k).or_default() += v;
    }
}

fn merge_counts(a: &mut HashMap<String, u64>, b: HashMap<String, u64>) {
    for (k, v) in b {
        *a.entry(k).or_default() += v;
    }
}

impl AddAssign for Agg {
    fn add_assign(&mut self, o: Agg) {
        self.lines += o.lines;
        self.requests += o.requests;
        self.filtered += o.filtered;
        self.malformed += o.malformed;
        self.startup_lines += o.startup_lines;
        self.startup_first = first_startup(self.startup_first.take(), o.startup_first);
        for s in o.malformed_samples {
            if self.malformed_samples.len() < MALFORMED_SAMPLES {
                self.malformed_samples.push(s);
            }
        }
        if self.status.is_empty() {
            self.status = o.status;
        } else {
            for (a, b) in self.status.iter_mut().zip(o.status) {
                *a += b;
            }
        }
        merge_map(&mut self.minutes, o.minutes);
        merge_map(&mut self.causes_502, o.causes_502);
        merge_map(&mut self.causes_504, o.causes_504);
        merge_map(&mut self.causes_other_5xx, o.causes_other_5xx);
        merge_map(&mut self.causes_rescued, o.causes_rescued);
        merge_map(&mut self.causes_replaced, o.causes_replaced);
        merge_counts(&mut self.upstreams, o.upstreams);
        merge_counts(&mut self.hosts, o.hosts);
        merge_counts(&mut self.paths, o.paths);
        self.no_upstream_502 += o.no_upstream_502;
        self.no_host_502 += o.no_host_502;
        self.no_path_502 += o.no_path_502;
        if let Some((a, b)) = o.span {
            widen(&mut self.span, a, b);
        }
        if let Some((a, b)) = o.span_502 {
            widen(&mut self.span_502, a, b);
        }
        self.offset_s = self.offset_s.or(o.offset_s);
        self.join += o.join;
        self.timings += o.timings;
        self.header_sizes += o.header_sizes;
        self.cut += o.cut;
    }
}

/// [`Agg::startup_first`] of two aggregates: the first by (file, line).
pub fn first_startup(a: Option<Sample>, b: Option<Sample>) -> Option<Sample> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if (&b.file, b.line) < (&a.file, a.line) {
            b
        } else {
            a
        }),
        (a, b) => a.or(b),
    }
}

/// The `n` largest entries, ties broken by key, as (key, count).
pub fn top(map: &HashMap<String, u64>, n: usize) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = map.iter().map(|(k, c)| (k.clone(), *c)).collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v.truncate(n);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each request lands in the minute `div_euclid` gives, in or out of
    /// order, before 1970 and at the ends of `i64`.
    #[test]
    fn minute_run_counts_each_minute() {
        let times = [
            0,
            59_999,
            60_000,
            -1,
            -60_000,
            -60_001,
            120_500,
            60_001,
            i64::MAX,
            i64::MAX - 1,
            i64::MIN,
            5,
        ];
        let mut run = MinuteRun::default();
        let mut minutes = BTreeMap::new();
        let mut want: BTreeMap<i64, u64> = BTreeMap::new();
        for t in times {
            run.enter(&mut minutes, t);
            run.cur.requests += 1;
            *want.entry(t.div_euclid(60_000)).or_default() += 1;
        }
        run.finish(&mut minutes);
        let got: BTreeMap<i64, u64> = minutes.iter().map(|(k, v)| (*k, v.requests)).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn merge_adds_and_keeps_earliest_example() {
        let mut a = Agg::new();
        let mut b = Agg::new();
        a.status[502] = 2;
        b.status[502] = 3;
        a.causes_502.insert(
            Cause::Dns,
            CauseStat {
                count: 1,
                example: Some(Example {
                    file: "late".into(),
                    line: 50,
                    file_index: 0,
                    request: String::new(),
                    evidence: vec![],
                }),
                ..Default::default()
            },
        );
        b.causes_502.insert(
            Cause::Dns,
            CauseStat {
                count: 2,
                example: Some(Example {
                    file: "early".into(),
                    line: 3,
                    file_index: 0,
                    request: String::new(),
                    evidence: vec![],
                }),
                ..Default::default()
            },
        );
        b.paths.insert("/x".into(), 4);
        a += b;
        assert_eq!(a.status[502], 5);
        assert_eq!(a.causes_502[&Cause::Dns].count, 3);
        assert_eq!(
            a.causes_502[&Cause::Dns].example.as_ref().unwrap().file,
            "early"
        );
        assert_eq!(top(&a.paths, 3), vec![("/x".to_string(), 4)]);
    }
}
