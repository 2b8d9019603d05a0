//! Where each 502 was born: the 5xx records of every hop (nginx and the hop
//! formats) are ordered from the client inwards, joined across hops — by
//! request id when both hops log the same one, else by method + path within
//! a time window — and each 502 the outermost hop returned is followed
//! inwards until the hop that made it: `edge` (a CDN or load balancer),
//! `gateway` (a proxy: nginx, HAProxy, Envoy) or `upstream` (the
//! application answered 502 and every hop passed it on).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use rayon::slice::ParallelSliceMut;

use super::born_tally::Seen;
use super::cause::Cause;
use super::hop_order::{self, HopAddrs};
use crate::logs::hop::HopKind;

/// At most this many 5xx records are kept for the join (per run; only a run
/// with logs of several hops keeps them, see `born_tally`).
pub const JOIN_CAP: usize = 1_000_000;
/// Chains shown in the report (the totals cover every 502).
pub const CHAIN_SAMPLES: usize = 50;
/// Slack added to the outer hop's duration when joining by time, ms:
/// clocks of two hosts and the meaning of their timestamps (nginx logs the
/// end of a request, HAProxy its start) differ by that much.
const WINDOW_SLACK_MS: i64 = 2_000;

/// One 5xx request as one hop logged it, kept for the join: what the tally
/// counts ([`Seen`], its line made absolute by [`super::born_tally::Tally::shift`])
/// and the texts only the join reads.
#[derive(Debug, Clone, PartialEq)]
pub struct JoinRec {
    /// Hop, place, time, status and cause.
    pub seen: Seen,
    /// Method. The texts are shared: a hop pass gives the records of a
    /// chunk one copy of each method and next hop (an allocation per 5xx
    /// each, `perf record`).
    pub method: Option<Arc<str>>,
    /// Path (with query).
    pub path: Option<Arc<str>>,
    /// Request id, when logged.
    pub request_id: Option<Arc<str>>,
    /// The next hop in as this hop logged it (nginx `$upstream_addr`,
    /// HAProxy `backend/server`, Envoy `%UPSTREAM_HOST%`), for the hop order.
    pub upstream: Option<Arc<str>>,
}

impl JoinRec {
    /// The record of a 5xx the tally has [`Seen`], with the texts only the
    /// join reads.
    pub fn of(
        seen: &Seen,
        method: Option<Arc<str>>,
        path: Option<Arc<str>>,
        request_id: Option<Arc<str>>,
        upstream: Option<Arc<str>>,
    ) -> JoinRec {
        JoinRec {
            seen: *seen,
            method,
            path,
            request_id,
            upstream,
        }
    }
}

/// One hop record of a chain, for the report.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ChainLink {
    /// Hop name.
    pub hop: &'static str,
    /// File and line.
    pub at: String,
    /// Status it returned.
    pub status: u16,
    /// Its cause.
    pub cause: Cause,
    /// Request id, when logged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// One 502 followed inwards.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Chain {
    /// `edge`, `gateway`, `upstream` or `unknown`.
    pub born_at: &'static str,
    /// The hop where it was born (the application: the innermost hop logged).
    pub hop: &'static str,
    /// The cause at that hop.
    pub cause: Cause,
    /// How the hops were joined: `request_id`, `time_window`, `mixed`
    /// (both), `ambiguous` (by time, among records of the next hop that
    /// disagree: born `unknown`), or `none` (one hop only, or no record of
    /// the next hop matched).
    pub join: &'static str,
    /// The hop records, outermost first.
    pub chain: Vec<ChainLink>,
}

/// One row of the "Where the 502s were born" table.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BornRow {
    /// `edge`, `gateway`, `upstream`, `unknown`.
    pub born_at: &'static str,
    /// The hop.
    pub hop: &'static str,
    /// The cause at that hop.
    pub cause: Cause,
    /// 502s.
    pub count: u64,
}

/// The "Where the 502s were born" section.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Born {
    /// Hops from the client inwards.
    pub order: Vec<&'static str>,
    /// How the order of proxies of the same depth was told: from the
    /// configs' listen addresses, from the request ids they share, or
    /// assumed (`hop order assumed: …`); see `hop_order`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_note: Option<String>,
    /// How the hops were joined, in words.
    pub join: String,
    /// 502s by birth place.
    pub totals: BTreeMap<&'static str, u64>,
    /// 502s by birth place, hop and cause, most first.
    pub rows: Vec<BornRow>,
    /// The first [`CHAIN_SAMPLES`] chains.
    pub chains: Vec<Chain>,
    /// 5xx records beyond [`JOIN_CAP`] were not joined.
    pub truncated: bool,
    /// Where each 502 was born, by the file (display name) and line of the
    /// record that starts its chain: the 502 the outermost hop logged (for
    /// `gatecheck export`'s `born_at` column).
    #[serde(skip)]
    pub placed: Vec<(String, u64, &'static str)>,
}

/// Where a 502 with `cause` was born when its hop is the only one logged
/// (or the last of its chain): `upstream` for a passed-on answer,
/// `unknown` when the hop's log does not tell, else the hop's place.
pub fn born_at_last_hop(kind: HopKind, cause: Cause) -> &'static str {
    match cause {
        Cause::Passthrough => "upstream",
        Cause::Unknown => "unknown",
        _ => born_place(kind),
    }
}

fn born_place(kind: HopKind) -> &'static str {
    match kind {
        HopKind::Cdn | HopKind::Lb => "edge",
        HopKind::Proxy => "gateway",
        HopKind::App => "upstream",
    }
}

/// Join the records and say where each 502 was born. `names` are the
/// inputs' display names by index; `addrs` where the proxies listen, from
/// their configs (for the hop order).
pub fn born(
    recs: Vec<JoinRec>,
    truncated: bool,
    names: &[String],
    addrs: &HopAddrs,
) -> Option<Born> {
    if !recs.iter().any(|r| r.seen.status == 502) {
        return None;
    }
    let mut order: Vec<(HopKind, &'static str)> = Vec::new();
    for r in &recs {
        if !order.iter().any(|(_, h)| *h == r.seen.hop) {
            order.push((r.seen.kind, r.seen.hop));
        }
    }
    // one hop: nothing to order (its votes were counted for nothing, on
    // the main thread: 2 % of an Envoy run, `perf record`)
    let order_note = if order.len() > 1 {
        hop_order::order(&recs, &mut order, addrs, names)
    } else {
        None
    };
    let hops: Vec<&'static str> = order.iter().map(|(_, h)| *h).collect();
    // records per hop, sorted by time
    // one hop: the records as they are (copying them one by one into a
    // new vector faulted in its pages on the main thread, `perf record`)
    let mut per: Vec<Vec<JoinRec>> = if hops.len() == 1 {
        vec![recs]
    } else {
        let mut per: Vec<Vec<JoinRec>> = hops.iter().map(|_| Vec::new()).collect();
        for r in recs {
            let i = hops.iter().position(|h| *h == r.seen.hop).unwrap_or(0);
            per[i].push(r);
        }
        per
    };
    // (file, line) is unique within a hop, so an unstable sort orders the
    // same; in parallel, as this ran on one core at the end (≈ 60 ms for a
    // 1 GiB HAProxy log, perf)
    for v in &mut per {
        v.par_sort_unstable_by_key(|r| (r.seen.time_ms, r.seen.file, r.seen.line));
    }
    // request-id indexes per hop; only the inner hops' are looked up (the
    // outermost hop is never the next one in)
    let ids: Vec<HashMap<&str, usize>> = per
        .iter()
        .enumerate()
        .map(|(h, v)| {
            if h == 0 {
                return HashMap::new();
            }
            v.iter()
                .enumerate()
                .filter_map(|(i, r)| r.request_id.as_deref().map(|id| (id, i)))
                .collect()
        })
        .collect();
    let mut used: Vec<Vec<bool>> = per.iter().map(|v| vec![false; v.len()]).collect();
    let (mut by_id, mut by_time, mut ambiguous) = (0u64, 0u64, 0u64);
    let mut rows: BTreeMap<(&'static str, &'static str, Cause), u64> = BTreeMap::new();
    let mut totals: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut chains = Vec::new();
    let mut placed = Vec::new();
    for start in 0..per.len() {
        for i in 0..per[start].len() {
            if used[start][i] || per[start][i].seen.status != 502 {
                continue;
            }
            used[start][i] = true;
            let mut links = vec![(start, i)];
            let mut join = "none";
            // follow inwards while this hop passed on what the next one said
            loop {
                let (h, j) = *links.last().expect("non-empty");
                let r = &per[h][j];
                if r.seen.cause != Cause::Passthrough || h + 1 >= per.len() {
                    break;
                }
                let next = h + 1;
                let found = r
                    .request_id
                    .as_deref()
                    .and_then(|id| ids[next].get(id).copied())
                    .filter(|&k| !used[next][k])
                    .map(|k| (k, "request_id"))
                    .or_else(|| {
                        time_match(r, &per[next], &used[next])
                            .map(|(k, mixed)| (k, if mixed { "ambiguous" } else { "time_window" }))
                    });
                let Some((k, how)) = found else { break };
                // an ambiguous match still takes one of the records it could
                // be (one of them is this request's), so none is counted
                // again on its own
                used[next][k] = true;
                if how == "request_id" {
                    by_id += 1;
                } else {
                    by_time += 1;
                }
                if how == "ambiguous" {
                    ambiguous += 1;
                }
                join = if join == "none" || join == how || how == "ambiguous" {
                    how
                } else if join == "ambiguous" {
                    join
                } else {
                    "mixed"
                };
                links.push((next, k));
            }
            let (h, j) = *links.last().expect("non-empty");
            let last = &per[h][j];
            let (born_at, hop, cause) = if join == "ambiguous" {
                // not picked: the record joined is one of several that
                // disagree (see `time_match`)
                ("unknown", last.seen.hop, Cause::Unknown)
            } else if last.seen.cause == Cause::Passthrough {
                if h + 1 >= per.len() {
                    // the innermost hop logged says its server answered it
                    ("upstream", "app", Cause::Passthrough)
                } else {
                    // the next hop's logs hold no matching record
                    ("unknown", hops[h + 1], Cause::Unknown)
                }
            } else if last.seen.cause == Cause::Unknown {
                // the hop's log does not tell whether it made the 502 or passed it on
                ("unknown", last.seen.hop, Cause::Unknown)
            } else {
                (born_place(order[h].0), last.seen.hop, last.seen.cause)
            };
            let first = &per[start][i];
            placed.push((
                names
                    .get(first.seen.file as usize)
                    .cloned()
                    .unwrap_or_default(),
                first.seen.line,
                born_at,
            ));
            *totals.entry(born_at).or_default() += 1;
            *rows.entry((born_at, hop, cause)).or_default() += 1;
            if chains.len() < CHAIN_SAMPLES {
                chains.push(Chain {
                    born_at,
                    hop,
                    cause,
                    join,
                    chain: links
                        .iter()
                        .map(|&(h, j)| {
                            let r = &per[h][j];
                            ChainLink {
                                hop: r.seen.hop,
                                at: format!(
                                    "{}:{}",
                                    names
                                        .get(r.seen.file as usize)
                                        .map(String::as_str)
                                        .unwrap_or("?"),
                                    r.seen.line
                                ),
                                status: r.seen.status,
                                cause: r.seen.cause,
                                request_id: r.request_id.as_deref().map(String::from),
                            }
                        })
                        .collect(),
                });
            }
        }
    }
    let mut join = match (hops.len(), by_id, by_time) {
        (1, _, _) => one_hop_join(hops[0]),
        (_, 0, 0) => "no request matched across hops (no shared request id, and no record of the next hop with the same method and path in the time window)".into(),
        (_, i, 0) => format!("by request id ({i} links)"),
        (_, 0, t) => format!("by time window + method + path ({t} links; no shared request id logged)"),
        (_, i, t) => format!("by request id ({i} links), else by time window + method + path ({t} links)"),
    };
    if ambiguous > 0 {
        join.push_str(&format!(
            "; {ambiguous} of the time-window links ambiguous: several records of the next hop with the same method and path in the window, of different statuses or causes, and nothing (no request id) to tell which was the request's, so those 502s are born 'unknown'"
        ));
    }
    let rows = born_rows(rows);
    Some(Born {
        order: hops,
        order_note,
        join,
        totals,
        rows,
        chains,
        truncated,
        placed,
    })
}

/// The "Where the 502s were born" rows from their counts by (born at, hop,
/// cause): most first, ties by hop.
pub(super) fn born_rows(
    counts: BTreeMap<(&'static str, &'static str, Cause), u64>,
) -> Vec<BornRow> {
    let mut rows: Vec<BornRow> = counts
        .into_iter()
        .map(|((born_at, hop, cause), count)| BornRow {
            born_at,
            hop,
            cause,
            count,
        })
        .collect();
    rows.sort_by(|a, b| b.count.cmp(&a.count).then(a.hop.cmp(b.hop)));
    rows
}

/// How the records of a run logged at one hop were joined: not at all.
pub(super) fn one_hop_join(hop: &str) -> String {
    format!("one hop ({hop}): no join needed")
}

/// The nearest unused record of the next hop with the same method and path
/// whose time is within the outer record's duration plus slack, and
/// whether the match is ambiguous: other such records are in the window
/// and some of them says another status or cause, so which one is this
/// request's the logs do not tell (many identical requests a second, no
/// request id).
fn time_match(r: &JoinRec, next: &[JoinRec], used: &[bool]) -> Option<(usize, bool)> {
    let t = r.seen.time_ms?;
    let window = r.seen.duration_ms.unwrap_or(0).max(0) + WINDOW_SLACK_MS;
    let lo = next.partition_point(|n| n.seen.time_ms.is_none_or(|x| x < t - window));
    let mut best: Option<usize> = None;
    let mut outcomes: Option<(u16, Cause)> = None;
    let mut mixed = false;
    for (k, n) in next[lo..].iter().enumerate() {
        if n.seen.time_ms.is_none_or(|x| x > t + window) {
            break;
        }
        if used[lo + k] || n.method != r.method || n.path != r.path || n.seen.status < 500 {
            continue;
        }
        let o = (n.seen.status, n.seen.cause);
        mixed |= outcomes.is_some_and(|x| x != o);
        outcomes.get_or_insert(o);
        let dist = |i: usize| (next[i].seen.time_ms.unwrap_or(0) - t).abs();
        if best.is_none_or(|b| dist(lo + k) < dist(b)) {
            best = Some(lo + k);
        }
    }
    best.map(|b| (b, mixed))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(
        hop: &'static str,
        line: u64,
        t: i64,
        status: u16,
        cause: Cause,
        id: Option<&str>,
    ) -> JoinRec {
        JoinRec {
            seen: Seen {
                hop,
                kind: HopKind::Proxy,
                file: if hop == "nginx" { 0 } else { 1 },
                line,
                time_ms: Some(t),
                duration_ms: Some(100),
                status,
                cause,
            },
            method: Some("GET".into()),
            path: Some(format!("/p{line}").into()),
            request_id: id.map(Into::into),
            upstream: None,
        }
    }

    #[test]
    fn follows_passthrough_inwards() {
        let names = vec!["nginx.log".to_string(), "haproxy.log".to_string()];
        let recs = vec![
            // nginx passed haproxy's 502 on; haproxy's server closed early
            rec("nginx", 1, 10_000, 502, Cause::Passthrough, Some("a")),
            rec(
                "haproxy",
                1,
                9_950,
                502,
                Cause::UpstreamClosedEarly,
                Some("a"),
            ),
            // nginx passed on the app's own 502 through haproxy (no ids: time window)
            rec("nginx", 2, 20_000, 502, Cause::Passthrough, None),
            rec("haproxy", 2, 19_990, 502, Cause::Passthrough, None),
            // nginx's own 502: haproxy was down
            rec("nginx", 3, 30_000, 502, Cause::UpstreamRefused, Some("c")),
            // nginx passed on a 502 haproxy never logged
            rec("nginx", 4, 40_000, 502, Cause::Passthrough, Some("d")),
        ];
        let mut recs = recs;
        // make the time-window pair share a path
        recs[3].path = recs[2].path.clone();
        let b = born(recs, false, &names, &HopAddrs::default()).unwrap();
        assert_eq!(b.order, vec!["nginx", "haproxy"]);
        assert_eq!(b.totals.get("gateway"), Some(&2));
        assert_eq!(b.totals.get("upstream"), Some(&1));
        assert_eq!(b.totals.get("unknown"), Some(&1));
        let c0 = &b.chains[0];
        assert_eq!(
            (c0.born_at, c0.hop, c0.cause, c0.join),
            (
                "gateway",
                "haproxy",
                Cause::UpstreamClosedEarly,
                "request_id"
            )
        );
        assert_eq!(c0.chain[1].at, "haproxy.log:1");
        let c1 = &b.chains[1];
        assert_eq!((c1.born_at, c1.join), ("upstream", "time_window"));
        let c2 = &b.chains[2];
        assert_eq!(
            (c2.born_at, c2.hop, c2.cause),
            ("gateway", "nginx", Cause::UpstreamRefused)
        );
        assert!(b.join.contains("request id (1 links)"), "{}", b.join);
    }

    /// Two proxies logging the same request ids, in both layouts: the order
    /// follows the durations, not the fixed rank.
    #[test]
    fn order_from_shared_ids_both_ways() {
        let names = vec!["a.log".to_string(), "b.log".to_string()];
        for (outer, inner) in [("haproxy", "nginx"), ("nginx", "haproxy")] {
            let mut recs = Vec::new();
            for i in 0..3u64 {
                let id = format!("id{i}");
                let mut o = rec(outer, i + 1, 10_000, 502, Cause::Passthrough, Some(&id));
                o.seen.duration_ms = Some(300);
                let mut n = rec(inner, i + 1, 10_000, 502, Cause::UpstreamRefused, Some(&id));
                n.seen.duration_ms = Some(250);
                recs.push(n);
                recs.push(o);
            }
            let b = born(recs, false, &names, &HopAddrs::default()).unwrap();
            assert_eq!(b.order, vec![outer, inner]);
            let note = b.order_note.unwrap();
            assert!(note.starts_with("hop order from evidence"), "{note}");
            assert_eq!(b.totals.get("gateway"), Some(&3));
            assert_eq!(b.chains[0].hop, inner);
        }
    }

    /// The outer hop gave up first (an upside-down timeout ladder): the
    /// inner hop's record of those requests is the longer one, and must not
    /// turn the order round.
    #[test]
    fn timeouts_do_not_vote_on_the_order() {
        let mut recs = Vec::new();
        for i in 0..2u64 {
            let id = format!("slow{i}");
            let mut o = rec("nginx", i + 1, 10_000, 504, Cause::Timeout, Some(&id));
            o.seen.duration_ms = Some(1_000);
            let mut n = rec("haproxy", i + 1, 9_000, 504, Cause::Timeout, Some(&id));
            n.seen.duration_ms = Some(3_000);
            recs.push(n);
            recs.push(o);
        }
        let mut o = rec("nginx", 3, 20_000, 502, Cause::Passthrough, Some("c"));
        o.seen.duration_ms = Some(35);
        let mut n = rec(
            "haproxy",
            3,
            20_000,
            502,
            Cause::UpstreamClosedEarly,
            Some("c"),
        );
        n.seen.duration_ms = Some(26);
        recs.extend([n, o]);
        let b = born(recs, false, &[], &HopAddrs::default()).unwrap();
        assert_eq!(b.order, vec!["nginx", "haproxy"]);
        let note = b.order_note.unwrap();
        assert!(note.contains("in 1 of 1 shared requests"), "{note}");
    }

    #[test]
    fn order_assumed_without_ids() {
        let recs = vec![
            rec("haproxy", 1, 10_000, 502, Cause::UpstreamRefused, None),
            // another path: no pair of records tells the order either
            // (the same path would: `hop_order`'s pairing)
            rec("nginx", 2, 10_000, 502, Cause::Passthrough, None),
        ];
        let b = born(recs, false, &[], &HopAddrs::default()).unwrap();
        assert_eq!(b.order, vec!["nginx", "haproxy"]);
        let note = b.order_note.unwrap();
        assert!(
            note.starts_with("hop order assumed: nginx before haproxy"),
            "{note}"
        );
    }

    /// Two identical requests in the window at the inner hop, one its own
    /// 502 and one the app's: which the outer 502 was, nothing tells, so
    /// it is not picked; two that agree are joined.
    #[test]
    fn an_ambiguous_time_match_is_not_picked() {
        let names = vec!["haproxy.log".to_string(), "access.log".to_string()];
        let same_path = |mut r: JoinRec| {
            r.path = Some("/api/x".into());
            r
        };
        let mk = |inner: [Cause; 2]| {
            vec![
                same_path(rec("haproxy", 1, 10_000, 502, Cause::Passthrough, None)),
                same_path(rec("nginx", 1, 10_000, 502, inner[0], None)),
                same_path(rec("nginx", 2, 10_000, 502, inner[1], None)),
                same_path(rec("haproxy", 2, 10_050, 502, Cause::Passthrough, None)),
            ]
        };
        let b = born(
            mk([Cause::UpstreamRefused, Cause::Passthrough]),
            false,
            &names,
            &HopAddrs::default(),
        )
        .unwrap();
        assert_eq!(b.chains[0].join, "ambiguous", "{:?}", b.chains);
        assert_eq!(b.chains[0].born_at, "unknown");
        assert!(
            b.join.contains("1 of the time-window links ambiguous"),
            "{}",
            b.join
        );
        // two 502s in all, each counted once
        assert_eq!(b.totals.values().sum::<u64>(), 2, "{:?}", b.totals);
        let b = born(
            mk([Cause::UpstreamRefused, Cause::UpstreamRefused]),
            false,
            &names,
            &HopAddrs::default(),
        )
        .unwrap();
        assert!(
            b.chains.iter().all(|c| c.join == "time_window"),
            "{:?}",
            b.chains
        );
        assert_eq!(b.totals.get("gateway"), Some(&2), "{:?}", b.totals);
    }

    #[test]
    fn no_502_no_section() {
        assert!(born(
            vec![rec("haproxy", 1, 0, 504, Cause::Timeout, None)],
            false,
            &[],
            &HopAddrs::default()
        )
        .is_none());
    }
}
