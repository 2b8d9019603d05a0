//! The final aggregate, shaped for output: what `--format json` prints
//! (schema version 1) and what the table renderer reads.

use std::collections::BTreeMap;

use super::cause::Cause;
use super::coverage::Key;
use super::event::rfc3339;
use super::incident::{self, Burst};
use super::join::ErrorIndex;
use super::kind::InputKind;
use super::nginx_config::NginxConfig;
use super::stats::{self, Agg, ByCause, Example, PerHop, Sample};
use super::verdict;
use crate::input::Problem;
use crate::logs::scan::LogTime;

/// JSON schema version; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// How one input was read.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct InputSummary {
    /// The file.
    pub path: String,
    /// `nginx_access`, `nginx_error`, `nginx_config`, `<format>_access`
    /// (`haproxy_access`) or `unknown`.
    pub kind: String,
    /// The access-log format used.
    pub format: Option<String>,
    /// Why it was taken for that.
    pub reason: String,
    /// Non-empty lines read.
    pub lines: u64,
    /// Lines that did not parse.
    pub malformed: u64,
    /// Upstream error lines (error logs).
    pub upstream_errors: u64,
    /// The kind as a value (`kind` is its id).
    #[serde(skip)]
    pub input_kind: InputKind,
}

impl InputSummary {
    /// A summary whose `kind` is `input_kind`'s id.
    pub fn new(
        path: String,
        input_kind: InputKind,
        format: Option<String>,
        reason: String,
        lines: u64,
        malformed: u64,
        upstream_errors: u64,
    ) -> InputSummary {
        InputSummary {
            path,
            kind: input_kind.id().into_owned(),
            format,
            reason,
            lines,
            malformed,
            upstream_errors,
            input_kind,
        }
    }
}

/// Totals over every access log.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Totals {
    /// Requests parsed (after --since/--until).
    pub requests: u64,
    /// Non-empty lines read.
    pub lines: u64,
    /// Lines that did not parse.
    pub malformed: u64,
    /// Lines outside --since/--until.
    pub filtered: u64,
    /// Responses with status 502.
    pub status_502: u64,
    /// Responses with status 504.
    pub status_504: u64,
    /// All 5xx responses.
    pub status_5xx: u64,
    /// Requests a retry rescued (an attempt failed, the client got a non-5xx).
    pub rescued: u64,
    /// Requests whose last attempt failed with a 5xx while the client got a
    /// non-5xx that nginx answered in its place (`error_page 502 =200`,
    /// a stale cached copy): hidden 5xx, not a retry's rescue.
    pub replaced: u64,
}

/// One cause with its count and first example.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CauseRow {
    /// The cause id.
    pub cause: Cause,
    /// A phrase for people.
    pub title: &'static str,
    /// Where it was born: `upstream`, `gateway`, `unknown`.
    pub born: &'static str,
    /// Requests.
    pub count: u64,
    /// Share of the group, 0..1.
    pub share: f64,
    /// What to check next.
    pub hint: &'static str,
    /// The first request with this cause.
    pub example: Option<Example>,
    /// Config directives that bear on it (with `--config`), with file:line.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub config: Vec<String>,
    /// HAProxy / Envoy settings in effect for the failing backend or cluster
    /// (`attribute`), each with value, file:line and a note.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub settings: Vec<super::attribute::Citation>,
}

/// A (key, count) row.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Count {
    /// Address, host or path.
    pub key: String,
    /// How many 502s.
    pub count: u64,
}

/// One minute of the timeline.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TimelineRow {
    /// Start of the minute, RFC 3339.
    pub minute: String,
    /// Requests.
    pub requests: u64,
    /// 502s.
    pub status_502: u64,
    /// 504s.
    pub status_504: u64,
    /// This minute's 502s by cause id (causes with none left out), for the
    /// stacked timeline.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub by_cause: BTreeMap<&'static str, u64>,
}

/// A minute's 502s by cause id, without the causes that have none.
fn by_cause(m: &stats::Minute) -> BTreeMap<&'static str, u64> {
    Cause::ALL
        .iter()
        .zip(m.by_cause)
        .filter(|(_, n)| *n > 0)
        .map(|(c, n)| (c.id(), u64::from(n)))
        .collect()
}

/// A burst, with readable times.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BurstRow {
    /// First minute, RFC 3339.
    pub start: String,
    /// End of the last minute, RFC 3339.
    pub end: String,
    /// 502s in the window.
    pub count_502: u64,
    /// Most 502s in one minute.
    pub peak_per_minute: u64,
    /// Most common cause.
    pub top_cause: Cause,
}

/// What the bursts stand out from.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct BurstBaseline {
    /// Mean 502s per minute over the ordinary (non-burst) minutes.
    pub per_minute: f64,
    /// 502s a minute needs to be part of a burst.
    pub threshold_per_minute: u64,
    /// Windows above the threshold not listed: minor next to the largest burst.
    pub minor_spikes: u64,
}

/// How many of the 502s a top table covers, and why not all.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Coverage {
    /// 502s with a key (an address, host or path).
    pub counted: u64,
    /// All 502s.
    pub of: u64,
    /// Distinct keys (the table shows the first [`TOP_N`]).
    pub distinct: u64,
    /// Why `counted < of`, when it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing: Option<String>,
}

/// Coverage of the three top tables.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TopCoverage {
    /// `top_upstreams`.
    pub upstreams: Coverage,
    /// `top_hosts`.
    pub hosts: Coverage,
    /// `top_paths`.
    pub paths: Coverage,
}

/// Everything `gatecheck analyze` reports.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The answer in one line, before any table: how many 502s over how
    /// long, their main causes, the 504s and other 5xx.
    pub verdict: String,
    /// Set when the counts below cannot be trusted: the error logs record
    /// upstream errors, yet access lines could not be read (no access log,
    /// none understood, or every line malformed). Shown first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incomplete: Option<String>,
    /// How the inputs were read where it changes the answer (the error
    /// log's time offset detected, …).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Each input and how it was read.
    pub inputs: Vec<InputSummary>,
    /// Problems that did not stop the run.
    pub problems: Vec<Problem>,
    /// Totals.
    pub totals: Totals,
    /// First and last request, RFC 3339.
    pub first_request: Option<String>,
    /// Last request.
    pub last_request: Option<String>,
    /// First 502.
    pub first_502: Option<String>,
    /// Last 502.
    pub last_502: Option<String>,
    /// 502 counts keyed by cause id.
    pub causes: BTreeMap<&'static str, u64>,
    /// 502s by cause, most first, with evidence.
    pub causes_502: Vec<CauseRow>,
    /// 504s by cause.
    pub causes_504: Vec<CauseRow>,
    /// Other 5xx by cause.
    pub causes_other_5xx: Vec<CauseRow>,
    /// Retries that rescued a request, by the cause of the failed attempt.
    pub causes_rescued: Vec<CauseRow>,
    /// Upstream 5xx the client did not get (nginx answered another status
    /// in its place), by the cause of the failed attempt.
    pub causes_replaced: Vec<CauseRow>,
    /// Responses answered below 500 whose body the upstream cut after
    /// the header had gone out (`cut.rs`); absent when none.
    #[serde(skip_serializing_if = "super::cut::Cut::is_empty")]
    pub cut_responses: super::cut::Cut,
    /// Burst windows, in time order: the [`super::incident::MAX_BURSTS`]
    /// with the most 502s.
    pub bursts: Vec<BurstRow>,
    /// Burst windows found in all (`bursts` keeps at most
    /// [`super::incident::MAX_BURSTS`]).
    pub bursts_total: u64,
    /// What the bursts stand out from.
    pub burst_baseline: BurstBaseline,
    /// Upstream addresses of the 502s.
    pub top_upstreams: Vec<Count>,
    /// Hosts of the 502s.
    pub top_hosts: Vec<Count>,
    /// Paths of the 502s.
    pub top_paths: Vec<Count>,
    /// How many 502s each top table covers.
    pub top_coverage: TopCoverage,
    /// Status codes seen, keyed by code.
    pub status_codes: BTreeMap<u16, u64>,
    /// Requests, 502s and 504s per minute.
    pub timeline: Vec<TimelineRow>,
    /// The first few malformed lines.
    pub malformed_samples: Vec<Sample>,
    /// Upstream error lines in the error logs.
    pub error_log_upstream_lines: u64,
    /// Upstream error-log lines by kind (`refused`, `closed_early`, …),
    /// whether or not an access line was joined to them.
    pub error_log_kinds: BTreeMap<String, u64>,
    /// Upstream addresses named by upstream error-log lines.
    pub error_log_upstreams: Vec<Count>,
    /// Each hop read from a non-nginx log (HAProxy, Envoy, CDNs, load
    /// balancers), with its own 5xx causes.
    pub hops: Vec<HopRow>,
    /// Upstream connect/header/response times of the 502s against the
    /// successes, per upstream and before vs during each burst; the first
    /// 502 of each upstream and the addresses that appeared or vanished.
    pub timings: super::timing_report::TimingSections,
    /// Where the 502s were born (edge / gateway / upstream / unknown), with
    /// the join used and sample chains of hop records; absent without 502s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub born: Option<super::born::Born>,
    /// The timeout ladder across hops: each hop's wait limit outer → inner,
    /// the outer hops that give up first, and the 5xx durations at each
    /// limit; absent unless two hops have a known limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ladder: Option<super::ladder::Ladder>,
}

/// One hop (every file of one format), with its own figures.
#[derive(Debug, Clone, serde::Serialize)]
pub struct HopRow {
    /// The format (`haproxy`).
    pub name: &'static str,
    /// Where the hop sits: `cdn`, `lb`, `proxy`, `app`.
    pub hop: crate::logs::hop::HopKind,
    /// Its files.
    pub files: Vec<String>,
    /// Totals of this hop alone.
    pub totals: Totals,
    /// 503s (beside the 502s: no server, refused, queue timeout, limits).
    pub status_503: u64,
    /// Lines skipped as holding no request (notices, other programs' lines).
    pub skipped_lines: u64,
    /// Event lines by kind (`server_down`, `no_server`, …).
    pub events: BTreeMap<crate::logs::hop::HopEventKind, u64>,
    /// The first server-down / no-server events, and past them the first
    /// of each other backend (`hops::EVENT_SAMPLES_MAX`), with file:line.
    pub event_samples: Vec<super::hops::EventRow>,
    /// 502s by cause, with evidence.
    pub causes_502: Vec<CauseRow>,
    /// 504s by cause.
    pub causes_504: Vec<CauseRow>,
    /// Other 5xx (503, 500 …) by cause.
    pub causes_other_5xx: Vec<CauseRow>,
    /// Next hops in (`backend/server`, addresses) of the 502s.
    pub top_upstreams: Vec<Count>,
    /// Paths of the 502s.
    pub top_paths: Vec<Count>,
    /// First 502, RFC 3339.
    pub first_502: Option<String>,
    /// Last 502.
    pub last_502: Option<String>,
    /// Requests, 502s and 504s per minute.
    pub timeline: Vec<TimelineRow>,
    /// The first few malformed lines of this hop.
    pub malformed_samples: Vec<Sample>,
    /// Timings of the next hop's attempts (the nginx `timings` shape), with
    /// only the phases the format logs: HAProxy `Tc`/`Tr` as connect and
    /// header, Envoy's upstream service time, a CDN's or ALB's origin /
    /// target time as header, Google Cloud's backend latency as response.
    pub timings: super::timing_report::TimingSections,
}

/// When more than one hop names the upstreams of its 502s (nginx its
/// `$upstream_addr`, HAProxy its `backend/server`, …), one table of them
/// would mix two namings of different next hops: `true` then, and each key
/// is prefixed with its hop by [`label_upstreams`].
pub(super) fn upstreams_need_labels(nginx: &Agg, hops: &[super::hops::HopAgg]) -> bool {
    let sources = usize::from(!nginx.upstreams.is_empty())
        + hops
            .iter()
            .filter(|h| !h.share.agg.upstreams.is_empty())
            .count();
    sources > 1
}

/// Prefix every upstream key with the hop that named it (`nginx: 10.0.0.5:8080`,
/// `haproxy: be_api/app1`).
pub(super) fn label_upstreams(upstreams: &mut super::stats::HashMap<String, u64>, hop: &str) {
    *upstreams = std::mem::take(upstreams)
        .into_iter()
        .map(|(k, v)| (format!("{hop}: {k}"), v))
        .collect();
}

/// How many rows the top lists keep.
pub const TOP_N: usize = 10;

fn rows(
    m: &ByCause,
    config: Option<(&NginxConfig, &super::header_sizes::HeaderSizes)>,
) -> Vec<CauseRow> {
    let total: u64 = m.values().map(|s| s.count).sum();
    let mut v: Vec<CauseRow> = m
        .iter()
        .map(|(c, s)| CauseRow {
            cause: *c,
            title: c.title(),
            born: c.born(),
            count: s.count,
            share: if total > 0 {
                s.count as f64 / total as f64
            } else {
                0.0
            },
            hint: c.hint(),
            example: s.example.clone(),
            config: Vec::new(),
            settings: Vec::new(),
        })
        .collect();
    if let Some((cfg, heads)) = config {
        // the settings in effect where these requests were served
        for r in &mut v {
            if let Some(stat) = m.get(&r.cause) {
                let ev = super::attribute::nginx::Evidence { stat, heads };
                let a = super::attribute::nginx::attribute(cfg, r.cause, &ev);
                r.settings = a.settings;
                r.config = a.notes;
            }
        }
    }
    v.sort_by(|a, b| b.count.cmp(&a.count).then(a.cause.cmp(&b.cause)));
    v
}

/// The timeout most of the timed-out requests ran into, as cited for the
/// timeout row (`proxy_read_timeout 30s`), when one matched.
fn timeout_at(rows: &[CauseRow]) -> Option<String> {
    let row = rows.iter().find(|r| r.cause == Cause::Timeout)?;
    // a limit the config writes over a default that happens to be as long
    let explicit = row
        .settings
        .iter()
        .any(|s| !s.defaulted && s.measured.as_ref().is_some_and(|m| m.matched > 0));
    let mut hits: Vec<(u64, String)> = row
        .settings
        .iter()
        .filter(|s| !explicit || !s.defaulted)
        .filter_map(|s| {
            let m = s.measured.as_ref().filter(|m| m.matched > 0)?;
            let value = crate::config::nginx::units::fmt_duration(
                std::time::Duration::from_millis(m.limit_ms),
            );
            Some((m.matched, format!("{} {value}", s.directive)))
        })
        .collect();
    hits.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    hits.dedup_by(|a, b| a.1 == b.1);
    let top = hits.first()?.0;
    let same: Vec<String> = hits
        .into_iter()
        .filter(|h| h.0 == top)
        .map(|h| h.1)
        .collect();
    Some(same.join(" or "))
}

fn counts(v: Vec<(String, u64)>) -> Vec<Count> {
    v.into_iter()
        .map(|(key, count)| Count { key, count })
        .collect()
}

fn minute_str(m: i64, offset_s: i32) -> String {
    rfc3339(LogTime {
        utc_ms: m * 60_000,
        offset_s,
    })
}

fn totals(agg: &Agg) -> Totals {
    let sum = |f: &dyn Fn(usize) -> bool| -> u64 {
        agg.status
            .iter()
            .enumerate()
            .filter(|(s, _)| f(*s))
            .map(|(_, c)| c)
            .sum()
    };
    Totals {
        requests: agg.requests,
        lines: agg.lines,
        malformed: agg.malformed,
        filtered: agg.filtered,
        status_502: sum(&|s| s == 502),
        status_504: sum(&|s| s == 504),
        status_5xx: sum(&|s| (500..600).contains(&s)),
        rescued: agg.causes_rescued.values().map(|s| s.count).sum(),
        replaced: agg.causes_replaced.values().map(|s| s.count).sum(),
    }
}

fn timeline(minutes: &BTreeMap<i64, stats::Minute>, off: i32) -> Vec<TimelineRow> {
    match (minutes.keys().next(), minutes.keys().next_back()) {
        (Some(&a), Some(&b)) if b - a < 7 * 24 * 60 => (a..=b)
            .map(|m| {
                let c = minutes.get(&m).copied().unwrap_or_default();
                TimelineRow {
                    minute: minute_str(m, off),
                    requests: c.requests,
                    status_502: c.s502,
                    status_504: c.s504,
                    by_cause: by_cause(&c),
                }
            })
            .collect(),
        _ => Vec::new(),
    }
}

impl HopRow {
    /// Shape one hop's aggregate.
    pub fn build(h: &super::hops::HopAgg) -> HopRow {
        let a = &h.share.agg;
        let windows: Vec<(i64, i64)> = incident::bursts(&a.minutes)
            .windows
            .iter()
            .map(|b| (b.start_min, b.end_min))
            .collect();
        HopRow {
            name: h.name,
            hop: h.hop,
            files: h.files.clone(),
            totals: totals(a),
            status_503: a.status.get(503).copied().unwrap_or(0),
            skipped_lines: h.share.skipped,
            events: h.share.events.clone(),
            event_samples: h.share.event_samples.clone(),
            causes_502: rows(&a.causes_502, None),
            causes_504: rows(&a.causes_504, None),
            causes_other_5xx: rows(&a.causes_other_5xx, None),
            top_upstreams: counts(stats::top(&a.upstreams, TOP_N)),
            top_paths: counts(stats::top(&a.paths, TOP_N)),
            first_502: a.span_502.map(|s| rfc3339(s.0)),
            last_502: a.span_502.map(|s| rfc3339(s.1)),
            timeline: timeline(&a.minutes, a.offset_s.unwrap_or(0)),
            malformed_samples: a.malformed_samples.clone(),
            timings: super::timing_report::build(
                &a.timings,
                &super::timing_gaps::PhaseFields::hop(h.name),
                &windows,
                a.span.map(|(x, y)| (x.utc_ms, y.utc_ms)),
                a.offset_s.unwrap_or(0),
            ),
        }
    }
}

impl Report {
    /// Add where the 502s were born.
    pub fn with_born(mut self, born: Option<super::born::Born>) -> Report {
        // with several hops, the verdict leads with each 502 counted once,
        // where it was born; the per-hop verdicts follow
        if let Some(lead) = born.as_ref().and_then(verdict::born_lead) {
            let rest = self
                .verdict
                .split_once(" | ")
                .map(|(_, hops)| hops.to_string())
                .unwrap_or_else(|| self.verdict.clone());
            self.verdict = format!("{lead} | {rest}");
        }
        self.born = born;
        self
    }

    /// Add the hops' own sections.
    pub fn with_hops(mut self, hops: &[super::hops::HopAgg]) -> Report {
        self.hops = hops.iter().map(HopRow::build).collect();
        // the totals (and so the verdict) add up every hop read; with more
        // than one, each hop's own verdict follows: `all hops: … | haproxy: …`;
        // with_born then replaces the `all hops` sum by the birth count
        let mut hop_verdicts: Vec<String> = self
            .hops
            .iter()
            .zip(hops)
            .filter(|(row, _)| row.totals.requests > 0)
            .map(|(row, h)| {
                let ms = |s: Option<(LogTime, LogTime)>| s.map(|(a, b)| b.utc_ms - a.utc_ms);
                let v = verdict::verdict(&verdict::Facts {
                    totals: &row.totals,
                    span_502_ms: ms(h.share.agg.span_502),
                    span_ms: ms(h.share.agg.span),
                    causes_502: &row.causes_502,
                    causes_504: &row.causes_504,
                    causes_other_5xx: &row.causes_other_5xx,
                    timeout_504: None,
                    error_log_upstream_lines: 0,
                });
                format!("{}: {v}", row.name)
            })
            .collect();
        if !hop_verdicts.is_empty() {
            let nginx_read = self
                .inputs
                .iter()
                .any(|i| i.input_kind == InputKind::NginxAccess);
            self.verdict = if !nginx_read && hop_verdicts.len() == 1 {
                hop_verdicts.remove(0)
            } else {
                format!("all hops: {} | {}", self.verdict, hop_verdicts.join(" | "))
            };
        }
        self
    }

    /// Shape the merged aggregate.
    pub fn build(
        mut agg: Agg,
        inputs: Vec<InputSummary>,
        problems: Vec<Problem>,
        index: &ErrorIndex,
        config: Option<&NginxConfig>,
    ) -> Report {
        let off = agg.offset_s.unwrap_or(0);
        let status_codes: BTreeMap<u16, u64> = agg
            .status
            .iter()
            .enumerate()
            .filter(|(_, c)| **c > 0)
            .map(|(s, c)| (s as u16, *c))
            .collect();
        let sum = |f: &dyn Fn(u16) -> bool| -> u64 {
            status_codes
                .iter()
                .filter(|(s, _)| f(**s))
                .map(|(_, c)| c)
                .sum()
        };
        let totals = Totals {
            requests: agg.requests,
            lines: agg.lines,
            malformed: agg.malformed,
            filtered: agg.filtered,
            status_502: sum(&|s| s == 502),
            status_504: sum(&|s| s == 504),
            status_5xx: sum(&|s| (500..600).contains(&s)),
            rescued: agg.causes_rescued.values().map(|s| s.count).sum(),
            replaced: agg.causes_replaced.values().map(|s| s.count).sum(),
        };
        let found = incident::bursts(&agg.minutes);
        let bursts_total = found.windows_total;
        let burst_baseline = BurstBaseline {
            per_minute: found.baseline_per_minute,
            threshold_per_minute: found.threshold_per_minute,
            minor_spikes: found.minor_spikes,
        };
        let windows: Vec<(i64, i64)> = found
            .windows
            .iter()
            .map(|b| (b.start_min, b.end_min))
            .collect();
        let formats: Vec<&str> = inputs
            .iter()
            .filter(|i| i.input_kind == InputKind::NginxAccess)
            .filter_map(|i| i.format.as_deref())
            .fold(Vec::new(), |mut v, f| {
                if !v.contains(&f) {
                    v.push(f);
                }
                v
            });
        let timings = super::timing_report::build(
            &agg.timings,
            &super::timing_gaps::PhaseFields::nginx(&formats),
            &windows,
            agg.span.map(|(a, b)| (a.utc_ms, b.utc_ms)),
            off,
        );
        let bursts = found
            .windows
            .into_iter()
            .map(|b: Burst| BurstRow {
                start: minute_str(b.start_min, off),
                end: minute_str(b.end_min + 1, off),
                count_502: b.count_502,
                peak_per_minute: b.peak_per_minute,
                top_cause: b.top_cause,
            })
            .collect();
        let timeline = timeline(&agg.minutes, off);
        let n502 = totals.status_502;
        let coverage = |m: &super::stats::HashMap<String, u64>, missing: &PerHop, key: Key| {
            let counted: u64 = m.values().sum();
            Coverage {
                counted,
                of: n502,
                distinct: m.len() as u64,
                missing: super::coverage::missing(key, missing),
            }
        };
        let top_coverage = TopCoverage {
            upstreams: coverage(&agg.upstreams, &agg.no_upstream_502, Key::Upstream),
            hosts: coverage(&agg.hosts, &agg.no_host_502, Key::Host),
            paths: coverage(&agg.paths, &agg.no_path_502, Key::Path),
        };
        let config = config.map(|c| (c, &agg.header_sizes));
        let causes_502 = rows(&agg.causes_502, config);
        let causes_504 = rows(&agg.causes_504, config);
        let causes_other_5xx = rows(&agg.causes_other_5xx, config);
        let mut verdict = verdict::verdict(&verdict::Facts {
            totals: &totals,
            span_502_ms: agg.span_502.map(|(a, b)| b.utc_ms - a.utc_ms),
            span_ms: agg.span.map(|(a, b)| b.utc_ms - a.utc_ms),
            causes_502: &causes_502,
            causes_504: &causes_504,
            causes_other_5xx: &causes_other_5xx,
            timeout_504: agg.causes_504.get(&Cause::Timeout).and_then(|s| {
                let mode = s
                    .durations
                    .iter()
                    .max_by_key(|(k, v)| (**v, std::cmp::Reverse(**k)))
                    .map(|(k, _)| k * 100)?;
                Some((mode, timeout_at(&causes_504)))
            }),
            error_log_upstream_lines: index.lines.len() as u64,
        });
        if !agg.cut.is_empty() {
            // not a 5xx, but clients were hurt: said beside the 5xx
            verdict.push_str(&format!(
                "; {} response{} cut after the header (not 5xx)",
                agg.cut.count,
                if agg.cut.count == 1 { "" } else { "s" }
            ));
        }
        Report {
            schema_version: SCHEMA_VERSION,
            verdict,
            incomplete: None,
            notes: agg
                .startup_first
                .iter()
                .map(|s| {
                    format!(
                        "{} start-up message{} of the nginx image's docker-entrypoint.sh skipped (neither requests nor malformed lines), the first at {}:{}: {}",
                        agg.startup_lines,
                        if agg.startup_lines == 1 { "" } else { "s" },
                        s.file,
                        s.line,
                        s.text
                    )
                })
                .collect(),
            inputs,
            problems,
            totals,
            first_request: agg.span.map(|s| rfc3339(s.0)),
            last_request: agg.span.map(|s| rfc3339(s.1)),
            first_502: agg.span_502.map(|s| rfc3339(s.0)),
            last_502: agg.span_502.map(|s| rfc3339(s.1)),
            causes: agg
                .causes_502
                .iter()
                .map(|(c, s)| (c.id(), s.count))
                .collect(),
            causes_502,
            causes_504,
            causes_other_5xx,
            causes_rescued: rows(&agg.causes_rescued, config),
            causes_replaced: rows(&agg.causes_replaced, config),
            cut_responses: std::mem::take(&mut agg.cut),
            bursts,
            bursts_total,
            burst_baseline,
            top_upstreams: counts(stats::top(&agg.upstreams, TOP_N)),
            top_hosts: counts(stats::top(&agg.hosts, TOP_N)),
            top_paths: counts(stats::top(&agg.paths, TOP_N)),
            top_coverage,
            status_codes,
            timeline,
            malformed_samples: agg.malformed_samples,
            error_log_upstream_lines: index.lines.len() as u64,
            error_log_kinds: {
                let mut m = BTreeMap::new();
                for l in &index.lines {
                    *m.entry(l.kind.id().to_string()).or_insert(0) += 1;
                }
                m
            },
            error_log_upstreams: {
                let mut m = stats::HashMap::default();
                for u in index.lines.iter().filter_map(|l| l.upstream.as_ref()) {
                    *m.entry(u.clone()).or_insert(0u64) += 1;
                }
                counts(stats::top(&m, TOP_N))
            },
            hops: Vec::new(),
            timings,
            born: None,
            ladder: None,
        }
    }
}
