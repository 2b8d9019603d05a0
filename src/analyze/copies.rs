//! Two nginx access logs of the same requests: a sample of each one's 5xx
//! lines (from its start, before the access pass) → whether they log one
//! stream twice, so that its 502s are not counted twice unsaid.
//!
//! One nginx may write every request to several `access_log`s at once
//! (`access_log access.log combined; access_log access.json json;`, or a
//! per-site log beside the global one: nginx writes a request to every
//! `access_log` of the level that applies, ngx_http_log_module docs). Read
//! together, each 502 would be counted in each. Two lines are the same
//! request when they have the same second, client address, request line
//! and status (and the same `$upstream_addr` when both log it: an edge
//! nginx and the nginx behind it log the same request with another
//! upstream, and are two hops, not copies).
//!
//! Only the starts of the files are read here (at most [`SAMPLE_BYTES`]
//! each, the page-cached start the pass reads again), and only when a run
//! has two access logs or more, [`MAX_LOGS`] at most. Imports `analyze` internals and
//! `logs::nginx`; nothing of `report`.

use std::collections::HashMap;

use super::inputs::Loaded;
use super::join;
use crate::logs::detect::Kind;
use crate::logs::nginx::{self, LogFormat, TimeCache};
use crate::logs::{lines, record::Record};

/// At most this many bytes of each access log's start are sampled (a few
/// thousand lines: the page-cached start the pass reads again).
const SAMPLE_BYTES: usize = 1 << 20;
/// Runs with more access logs than this are not compared: many files are
/// rotated parts or the logs of many servers, not one stream written twice
/// (and sampling all would read much of them twice: 2,049 files of 540 KB
/// took 1.6 s to analyze and 4.0 s with every start sampled).
const MAX_LOGS: usize = 32;
/// At most this many 5xx lines of each are kept.
const SAMPLE_LINES: usize = 300;
/// Fewer common-window 5xx lines than this in either sample: no judgement.
const MIN_LINES: usize = 20;
/// Share of the smaller sample matched in the other for a copy or subset
/// (a few lines may miss: a log rotated a second apart, a line cut).
const SAME_SHARE: f64 = 0.9;
/// Share of the smaller sample below which an overlap is not said.
const SAY_SHARE: f64 = 0.25;

/// One sampled 5xx line: what identifies its request across logs.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) struct Key {
    /// UTC second.
    pub(super) secs: i64,
    /// Client address as logged.
    pub(super) client: String,
    /// The request line (or method, path and protocol).
    pub(super) request: String,
    /// `$status`.
    pub(super) status: u16,
}

/// A sampled line: its key and `$upstream_addr` when logged.
#[derive(Clone, Debug)]
pub(super) struct Sampled {
    pub(super) key: Key,
    pub(super) upstream: Option<String>,
}

/// How two samples overlap, over the time both cover.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Overlap {
    /// Lines of the first sample found in the second.
    pub(super) matched: usize,
    /// Lines of each sample in the common window.
    pub(super) a: usize,
    pub(super) b: usize,
}

/// What two access logs are to each other.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Relation {
    /// The same requests: nearly every sampled 5xx of each is in the other.
    Copies,
    /// Nearly every sampled 5xx of the first is in the second, not the
    /// reverse (a per-site log beside the global one).
    FirstInSecond,
    /// The reverse of [`Relation::FirstInSecond`].
    SecondInFirst,
    /// A share of the smaller one is in the other.
    Partial,
    /// Not enough in common to say.
    Apart,
}

impl Overlap {
    /// The share of the smaller sample matched.
    pub(super) fn share(&self) -> f64 {
        self.matched as f64 / self.a.min(self.b).max(1) as f64
    }

    /// The decision (see the module doc).
    pub(super) fn relation(&self) -> Relation {
        if self.a.min(self.b) < MIN_LINES {
            return Relation::Apart;
        }
        let (fa, fb) = (
            self.matched as f64 / self.a as f64,
            self.matched as f64 / self.b as f64,
        );
        match (fa >= SAME_SHARE, fb >= SAME_SHARE) {
            (true, true) => Relation::Copies,
            (true, false) => Relation::FirstInSecond,
            (false, true) => Relation::SecondInFirst,
            _ if self.share() >= SAY_SHARE && self.matched >= MIN_LINES => Relation::Partial,
            _ => Relation::Apart,
        }
    }
}

/// Compare two samples over the seconds both cover.
pub(super) fn overlap(a: &[Sampled], b: &[Sampled]) -> Overlap {
    let span = |s: &[Sampled]| {
        let lo = s.iter().map(|x| x.key.secs).min();
        let hi = s.iter().map(|x| x.key.secs).max();
        lo.zip(hi)
    };
    let (Some((alo, ahi)), Some((blo, bhi))) = (span(a), span(b)) else {
        return Overlap {
            matched: 0,
            a: 0,
            b: 0,
        };
    };
    let (lo, hi) = (alo.max(blo), ahi.min(bhi));
    let within = |s: &Sampled| s.key.secs >= lo && s.key.secs <= hi;
    let mut others: HashMap<&Key, Vec<Option<&str>>> = HashMap::new();
    let mut nb = 0;
    for s in b.iter().filter(|s| within(s)) {
        others
            .entry(&s.key)
            .or_default()
            .push(s.upstream.as_deref());
        nb += 1;
    }
    let (mut matched, mut na) = (0, 0);
    for s in a.iter().filter(|s| within(s)) {
        na += 1;
        let Some(ups) = others.get_mut(&s.key) else {
            continue;
        };
        // the same upstream, or one side does not log it
        let mine = s.upstream.as_deref();
        if let Some(i) = ups
            .iter()
            .position(|u| u.is_none() || mine.is_none() || *u == mine)
        {
            ups.swap_remove(i);
            matched += 1;
        }
    }
    Overlap {
        matched,
        a: na,
        b: nb,
    }
}

/// The sampled 5xx lines at the start of `data` read as `fmt`.
pub(super) fn sample(data: &[u8], fmt: &LogFormat, l: &Loaded) -> Vec<Sampled> {
    let mut out = Vec::new();
    let mut cache = TimeCache::default();
    let mut buf = Vec::new();
    for raw in lines(data) {
        if out.len() >= SAMPLE_LINES {
            break;
        }
        let Some(line) = l.wrap.peel(raw, &mut buf) else {
            continue;
        };
        let mut rec = Record::default();
        let Ok(at) = fmt.parse_summary(line, &mut rec, &mut cache) else {
            continue;
        };
        if rec.status.is_none_or(|s| s < 500) {
            continue;
        }
        if fmt.complete(line, &mut rec, at, &mut cache).is_err() {
            continue;
        }
        rec.split_request();
        let (Some(t), Some(client), Some(request), Some(status)) = (
            rec.time,
            rec.client.map(|c| nginx::unescape(c, fmt.escape)),
            join::request_text(&rec, fmt.escape),
            rec.status,
        ) else {
            continue;
        };
        out.push(Sampled {
            key: Key {
                secs: t.secs(),
                client,
                request,
                status,
            },
            upstream: rec
                .upstream
                .addr
                .filter(|a| *a != b"-")
                .map(|a| nginx::unescape(a, fmt.escape)),
        });
    }
    out
}

/// The variables of a format that tell a 502's cause, most telling first.
const TELLING: &[&str] = &[
    "$upstream_status",
    "$upstream_addr",
    "$upstream_response_time",
    "$upstream_connect_time",
    "$upstream_header_time",
    "$request_time",
    "$msec",
    "$request_id",
];

/// The telling variables `fmt` logs (see [`TELLING`]).
pub(super) fn telling(fmt: &LogFormat) -> Vec<&'static str> {
    TELLING
        .iter()
        .copied()
        .filter(|v| {
            // `$upstream_addr` but not `$upstream_addr_x`: the next byte ends the name
            fmt.source.match_indices(v).any(|(i, _)| {
                !fmt.source[i + v.len()..]
                    .bytes()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_')
            })
        })
        .collect()
}

/// What the run decided: inputs set aside (by `Loaded::index`, with the
/// reason for their Inputs row) and the notes for the first lines.
#[derive(Default, Debug)]
pub(super) struct Decision {
    pub(super) set_aside: Vec<(u32, String)>,
    pub(super) notes: Vec<String>,
}

/// Compare the access logs of the run two by two (only when it has two or
/// more; mixed access+error files are left alone).
pub(super) fn decide(loaded: &[Loaded], formats: &[LogFormat]) -> Decision {
    let logs: Vec<(&Loaded, &LogFormat)> = loaded
        .iter()
        .filter(|l| !l.mixed)
        .filter_map(|l| match l.kind {
            Kind::Access(fi) => formats.get(fi).map(|f| (l, f)),
            _ => None,
        })
        .collect();
    let mut out = Decision::default();
    if logs.len() < 2 || logs.len() > MAX_LOGS {
        return out;
    }
    let samples: Vec<Vec<Sampled>> = logs
        .iter()
        .map(|(l, f)| sample(&l.prefix(SAMPLE_BYTES), f, l))
        .collect();
    for i in 0..logs.len() {
        for j in i + 1..logs.len() {
            let aside = |k: usize| out.set_aside.iter().any(|(x, _)| *x == logs[k].0.index);
            if aside(i) || aside(j) {
                continue;
            }
            let o = overlap(&samples[i], &samples[j]);
            let (a, b) = (&logs[i].0.input.display, &logs[j].0.input.display);
            let pct = (o.share() * 100.0).round();
            match o.relation() {
                Relation::Copies => {
                    let (ti, tj) = (telling(logs[i].1), telling(logs[j].1));
                    // the richer format is counted; the first one on a tie
                    let (keep, drop, t) = if tj.len() > ti.len() {
                        (b, a, tj.iter().filter(|v| !ti.contains(v)).copied().collect::<Vec<_>>())
                    } else {
                        (a, b, ti.iter().filter(|v| !tj.contains(v)).copied().collect())
                    };
                    let why = if t.is_empty() {
                        "the first given".to_string()
                    } else {
                        format!("it has {}", t.join(", "))
                    };
                    let (m, n) = (o.matched, o.a.min(o.b));
                    out.notes.push(format!(
                        "{a} and {b} log the same requests ({m} of {n} sampled 5xx match): counted once, from {keep} ({why}); {drop} set aside"
                    ));
                    let idx = if keep == a { logs[j].0.index } else { logs[i].0.index };
                    out.set_aside.push((
                        idx,
                        format!("set aside: the same requests as {keep} ({m} of {n} sampled 5xx match), counted from it"),
                    ));
                }
                Relation::FirstInSecond | Relation::SecondInFirst => {
                    let (small, big) = if o.relation() == Relation::FirstInSecond {
                        (a, b)
                    } else {
                        (b, a)
                    };
                    out.notes.push(format!(
                        "{small} logs a part of the requests {big} logs ({} of {} sampled 5xx of {small} are in {big}): the counts include those requests twice; analyze {big} alone for counts of each request once",
                        o.matched,
                        o.a.min(o.b)
                    ));
                }
                Relation::Partial => out.notes.push(format!(
                    "{a} and {b} share some requests ({pct} % of the smaller sample of 5xx, {} lines): the counts include those requests twice",
                    o.matched
                )),
                Relation::Apart => {}
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(secs: i64, client: &str, path: &str, up: Option<&str>) -> Sampled {
        Sampled {
            key: Key {
                secs,
                client: client.into(),
                request: format!("GET {path} HTTP/1.1"),
                status: 502,
            },
            upstream: up.map(Into::into),
        }
    }

    /// 200 502s of one stream: clients and paths vary, a few a second.
    fn stream(client_base: &str, up: Option<&str>) -> Vec<Sampled> {
        (0..200)
            .map(|i| {
                line(
                    1_700_000_000 + i / 3,
                    &format!("{client_base}.{}", i % 50),
                    &format!("/api/{}", i % 7),
                    up,
                )
            })
            .collect()
    }

    #[test]
    fn a_full_copy_is_copies() {
        let a = stream("10.0.0", Some("10.1.0.5:8080"));
        // the JSON log of the same requests does not log the upstream
        let mut b = stream("10.0.0", None);
        // three lines lost (a cut line, a rotation)
        b.truncate(197);
        let o = overlap(&a, &b);
        assert_eq!(o.relation(), Relation::Copies, "{o:?}");
        assert!(o.matched >= 190, "{o:?}");
    }

    #[test]
    fn a_per_site_log_is_in_the_global_one() {
        let global = stream("10.0.0", None);
        let site: Vec<Sampled> = global
            .iter()
            .filter(|s| s.key.request.contains("/api/3") || s.key.request.contains("/api/4"))
            .cloned()
            .collect();
        let o = overlap(&site, &global);
        assert_eq!(o.relation(), Relation::FirstInSecond, "{o:?}");
        assert_eq!(o.matched, site.len());
        assert_eq!(overlap(&global, &site).relation(), Relation::SecondInFirst);
    }

    #[test]
    fn two_servers_with_the_same_paths_at_the_same_minutes_are_apart() {
        // same paths, same seconds, other clients
        let a = stream("10.0.0", None);
        let b = stream("192.168.7", None);
        assert_eq!(overlap(&a, &b).relation(), Relation::Apart);
        assert_eq!(overlap(&a, &b).matched, 0);
    }

    #[test]
    fn two_hops_of_one_request_are_not_copies() {
        // an edge nginx and the nginx behind it (real_ip): same client,
        // second and request, other upstreams
        let edge = stream("10.0.0", Some("10.2.0.1:80"));
        let origin = stream("10.0.0", Some("10.3.0.9:8080"));
        assert_eq!(overlap(&edge, &origin).relation(), Relation::Apart);
    }

    #[test]
    fn too_few_lines_say_nothing() {
        let a: Vec<Sampled> = stream("10.0.0", None).into_iter().take(10).collect();
        let o = overlap(&a, &a);
        assert_eq!(o.matched, 10);
        assert_eq!(o.relation(), Relation::Apart);
    }

    #[test]
    fn the_telling_variables_are_named_whole() {
        let f = LogFormat::compile(
            "up",
            "$remote_addr [$time_local] \"$request\" $status $upstream_status $upstream_addr_x",
            nginx::Escape::Default,
        )
        .unwrap();
        assert_eq!(telling(&f), vec!["$upstream_status"]);
    }
}
