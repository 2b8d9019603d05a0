//! The order of the proxies of a dump, from the client inwards, and the
//! evidence that told it. Hops of different kinds are ordered by kind (CDN
//! → load balancer → proxy → app); proxies of the same kind (nginx,
//! HAProxy, Envoy) are ordered pairwise, from the best evidence there is:
//!
//! 1. **addresses**: a hop's next-hop address (nginx `$upstream_addr`,
//!    HAProxy's server — `backend/server` in the log, its address in
//!    `haproxy.cfg` — Envoy `%UPSTREAM_HOST%`) is where another hop listens
//!    (nginx `listen`, HAProxy `bind`, Envoy listener `address`, read from
//!    the configs through `config::model`): that hop is inside;
//! 2. **request ids**: of the requests both logged with the same id, the
//!    outer hop's duration encloses the inner one's;
//! 3. **ports**: the next-hop address is on a port another hop listens on
//!    at every address (`*:80`, `0.0.0.0:80`): that may be another
//!    machine's port, so this counts only when neither of the above tells;
//! 4. **pairing**: with neither configs nor shared ids, a 502 one hop made
//!    itself (a refused connection, an early close) that the other hop logged
//!    as a 502 its server sent — the same method and path, the only such
//!    record of either hop in the time window — puts the other hop outside:
//!    had the maker been in front, the other hop would never have seen the
//!    request (see [`pair_votes`]);
//! 5. otherwise the usual layout nginx → haproxy → envoy is **assumed**, and
//!    the note says so.

use std::cell::OnceCell;
use std::collections::HashMap;
use std::sync::Arc;

use super::born::JoinRec;
use super::cause::Cause;
use crate::config::model::{Listen, ProxyKind, ProxyModel};
use crate::logs::hop::HopKind;
use crate::source::Span;

/// Where the proxies of a dump are reached, from their configs.
#[derive(Debug, Default, Clone)]
pub struct HopAddrs {
    listens: Vec<Reach>,
    /// HAProxy `backend/server` (as its log names the server) → the
    /// server's address in the config.
    servers: HashMap<String, String>,
}

/// One listen address of one hop.
#[derive(Debug, Clone)]
struct Reach {
    hop: &'static str,
    listen: Listen,
    /// `file:line` of the directive.
    at: String,
}

impl HopAddrs {
    /// Add the listen addresses (and HAProxy's server addresses) of `m`;
    /// `at` gives the `file:line` of a span of its files.
    pub fn add(&mut self, m: &ProxyModel, at: &dyn Fn(Span) -> String) {
        let hop = m.kind.as_str();
        for s in &m.servers {
            for l in &s.listen {
                self.listens.push(Reach {
                    hop,
                    listen: l.clone(),
                    at: at(l.span),
                });
            }
        }
        if m.kind == ProxyKind::Haproxy {
            for u in &m.upstreams {
                for e in &u.servers {
                    if let Some(n) = &e.name {
                        self.servers
                            .entry(format!("{}/{n}", u.name))
                            .or_insert_with(|| e.address.clone());
                    }
                }
            }
        }
    }

    /// True when no config gave a listen address.
    pub fn is_empty(&self) -> bool {
        self.listens.is_empty()
    }

    /// The addresses a hop's logged next hop stands for: HAProxy's
    /// `backend/server` through its config, else the logged list (nginx
    /// writes `a, b : c` for retries and internal redirects).
    fn addresses<'a>(&'a self, hop: &str, upstream: &'a str) -> Vec<&'a str> {
        if hop == "haproxy" {
            if let Some(a) = self.servers.get(upstream) {
                return vec![a.as_str()];
            }
        }
        upstream
            .split([',', ' '])
            .filter(|a| !a.is_empty() && *a != ":" && *a != "-")
            .collect()
    }

    /// The hops other than `hop` that `upstream` reaches, each with the best
    /// match (exact before port only) and the listen it matched.
    fn reached(&self, hop: &str, upstream: &str) -> Vec<Reached> {
        let mut out: Vec<Reached> = Vec::new();
        for addr in self.addresses(hop, upstream) {
            for (i, r) in self.listens.iter().enumerate() {
                if r.hop == hop {
                    continue;
                }
                let Some(exact) = r.listen.reached_by(addr) else {
                    continue;
                };
                match out.iter_mut().find(|x| x.inner == r.hop) {
                    Some(x) if exact && !x.exact => {
                        *x = Reached::new(r.hop, exact, addr, i);
                    }
                    Some(_) => {}
                    None => out.push(Reached::new(r.hop, exact, addr, i)),
                }
            }
        }
        out
    }

    /// What a hop calls the address of its next hop, for the note.
    fn upstream_word(hop: &str) -> &'static str {
        match hop {
            "nginx" => "$upstream_addr",
            "haproxy" => "server address",
            "envoy" => "%UPSTREAM_HOST%",
            _ => "upstream address",
        }
    }

    /// What a hop calls where it listens, for the note.
    fn listen_word(hop: &str) -> &'static str {
        match hop {
            "nginx" => "listen",
            "haproxy" => "bind",
            "envoy" => "listener address",
            _ => "listen address",
        }
    }
}

/// One inner hop a logged next hop reaches.
#[derive(Debug, Clone)]
struct Reached {
    inner: &'static str,
    exact: bool,
    addr: String,
    listen: usize,
}

impl Reached {
    fn new(inner: &'static str, exact: bool, addr: &str, listen: usize) -> Reached {
        Reached {
            inner,
            exact,
            addr: addr.to_owned(),
            listen,
        }
    }
}

/// Records of `outer` whose next hop is where `inner` listens.
#[derive(Debug, Default, Clone)]
struct AddrVote {
    exact: u64,
    port_only: u64,
    /// The first match of the best kind: (address, listen index).
    example: Option<(String, usize, bool)>,
}

/// Votes of `a` being outside `b`, keyed `(a, b)`.
type Votes = HashMap<(&'static str, &'static str), u64>;

/// How one pair of neighbouring proxies was told apart.
enum Told {
    Address { exact: bool },
    RequestIds,
    Pairing,
    Counts,
    Assumed,
}

/// Order of hops of the same kind, from the client inwards, when nothing
/// tells: nginx usually fronts HAProxy, which fronts Envoy sidecars.
fn rank(hop: &str) -> u8 {
    match hop {
        "nginx" => 0,
        "haproxy" => 1,
        "envoy" => 2,
        _ => 3,
    }
}

/// Order `hops` from the client inwards, with a note on how proxies of
/// the same kind were ordered (`None` when there was nothing to order).
/// `names` are the inputs' display names by file index, for the note.
pub fn order(
    recs: &[JoinRec],
    hops: &mut [(HopKind, &'static str)],
    addrs: &HopAddrs,
    names: &[String],
) -> Option<String> {
    // a copy: `hops` is sorted below while `decide` still asks
    let depths: Vec<(&'static str, u8)> = hops.iter().map(|(k, h)| (*h, k.depth())).collect();
    let depth_of = |h: &str| depths.iter().find(|(x, _)| *x == h).map(|(_, d)| *d);
    let ids = id_votes(recs, &depth_of);
    let by_addr = addr_votes(recs, addrs, &depth_of);
    let pairs: OnceCell<HashMap<(&'static str, &'static str), PairVote>> = OnceCell::new();
    let decide = |a: &'static str, b: &'static str| -> Option<(bool, Told)> {
        let v = |x, y| by_addr.get(&(x, y)).cloned().unwrap_or_default();
        let (ab, ba) = (v(a, b), v(b, a));
        if ab.exact != ba.exact {
            return Some((ab.exact > ba.exact, Told::Address { exact: true }));
        }
        let (io, ii) = (
            ids.get(&(a, b)).copied().unwrap_or(0),
            ids.get(&(b, a)).copied().unwrap_or(0),
        );
        if io != ii {
            return Some((io > ii, Told::RequestIds));
        }
        if ab.port_only != ba.port_only {
            return Some((ab.port_only > ba.port_only, Told::Address { exact: false }));
        }
        let p = pairs.get_or_init(|| pair_votes(recs, &depth_of, names));
        let (po, pi) = (
            p.get(&(a, b)).map_or(0, |v| v.n),
            p.get(&(b, a)).map_or(0, |v| v.n),
        );
        // one-sided only: pairs voting both ways mean the pairing itself is
        // not to be trusted (busy identical requests), so nothing is told
        if (po == 0) != (pi == 0) {
            return Some((po > pi, Told::Pairing));
        }
        if po == 0 {
            let (eo, ei) = (
                p.get(&(a, b)).map_or(0, |v| v.excess),
                p.get(&(b, a)).map_or(0, |v| v.excess),
            );
            if (eo == 0) != (ei == 0) {
                return Some((eo > ei, Told::Counts));
            }
        }
        None
    };
    let mut score: HashMap<&'static str, i64> = HashMap::new();
    for (i, &(ka, a)) in hops.iter().enumerate() {
        for &(kb, b) in &hops[i + 1..] {
            if ka.depth() != kb.depth() {
                continue;
            }
            if let Some((a_outer, _)) = decide(a, b) {
                let (o, n) = if a_outer { (a, b) } else { (b, a) };
                *score.entry(o).or_default() += 1;
                *score.entry(n).or_default() -= 1;
            }
        }
    }
    hops.sort_by_key(|(k, h)| {
        (
            k.depth(),
            std::cmp::Reverse(score.get(h).copied().unwrap_or(0)),
            rank(h),
        )
    });
    let mut told = Vec::new();
    let mut assumed = Vec::new();
    for w in hops.windows(2) {
        let ((ka, a), (kb, b)) = (w[0], w[1]);
        if ka.depth() != kb.depth() {
            continue;
        }
        let how = match decide(a, b) {
            Some((true, how)) => how,
            // the pair's own evidence is against the order the others forced
            _ => Told::Assumed,
        };
        match how {
            Told::Assumed => assumed.push(format!("{a} before {b}")),
            Told::Pairing => {
                let v = pairs
                    .get()
                    .and_then(|p| p.get(&(a, b)))
                    .cloned()
                    .unwrap_or_default();
                told.push(format!(
                    "{a} before {b} (pairing by method + path + time, no config or shared request id telling: {n} 502{s} {b} made itself ({causes}) {are} in {a}'s log as 502{s} its server sent, e.g. {b} {ex_in} ↔ {a} {ex_out}; had {b} been in front, {a} would not have seen {them})",
                    n = v.n,
                    s = if v.n == 1 { "" } else { "s" },
                    causes = v.causes.join(", "),
                    are = if v.n == 1 { "is" } else { "are" },
                    them = if v.n == 1 { "it" } else { "them" },
                    ex_in = v.example.1,
                    ex_out = v.example.0,
                ));
            }
            Told::Counts => {
                let n = pairs
                    .get()
                    .and_then(|p| p.get(&(a, b)))
                    .map_or(0, |v| v.excess);
                told.push(format!(
                    "{a} before {b} (counts by method + path, no config or shared request id telling, the requests too alike to pair one by one: {a} logged {n} more 502{s} its server sent than {b} passed on, as many as 502s {b} made itself; had {b} been in front, {a} would not have seen those)",
                    s = if n == 1 { "" } else { "s" },
                ));
            }
            Told::RequestIds => {
                let out = ids.get(&(a, b)).copied().unwrap_or(0);
                let inn = ids.get(&(b, a)).copied().unwrap_or(0);
                told.push(format!(
                    "{a} before {b} (request ids: {a} took longer in {out} of {} shared requests)",
                    out + inn
                ));
            }
            Told::Address { exact } => {
                let v = by_addr.get(&(a, b)).cloned().unwrap_or_default();
                let n = if exact { v.exact } else { v.port_only };
                let (addr, li, _) = v.example.clone().unwrap_or_default();
                // a vote always names a listen it matched; never index past them
                let Some(r) = addrs.listens.get(li) else {
                    assumed.push(format!("{a} before {b}"));
                    continue;
                };
                let mut s = if exact {
                    format!(
                        "{a} before {b} (addresses: {a}'s {} {addr} is {b}'s {} {} at {}, in {n} 5xx record{})",
                        HopAddrs::upstream_word(a),
                        HopAddrs::listen_word(b),
                        r.listen.describe(),
                        r.at,
                        if n == 1 { "" } else { "s" }
                    )
                } else {
                    format!(
                        "{a} before {b} (port only: {a}'s {} {addr} is on the port of {b}'s {} {} at {}, which takes every address, so it may be another machine's; in {n} 5xx record{})",
                        HopAddrs::upstream_word(a),
                        HopAddrs::listen_word(b),
                        r.listen.describe(),
                        r.at,
                        if n == 1 { "" } else { "s" }
                    )
                };
                let against = ids.get(&(b, a)).copied().unwrap_or(0);
                let with = ids.get(&(a, b)).copied().unwrap_or(0);
                if exact && against > with {
                    // say it: the durations disagree with the addresses
                    s.pop();
                    s.push_str(&format!(
                        "; the durations of {} shared request ids said the opposite, the addresses were taken)",
                        against + with
                    ));
                }
                told.push(s);
            }
        }
    }
    match (told.is_empty(), assumed.is_empty()) {
        (true, true) => None,
        (false, true) => Some(format!("hop order from evidence: {}", told.join("; "))),
        (_, false) => {
            let mut s = format!(
                "hop order assumed: {} (no address in the configs, no shared request id and no 502 made at one hop and passed on by the other told which saw the requests first; the usual layout nginx → haproxy → envoy was taken: if it is wrong, so are the places below)",
                assumed.join(", ")
            );
            if !told.is_empty() {
                s.push_str(&format!("; from evidence: {}", told.join("; ")));
            }
            Some(s)
        }
    }
}

/// Which of two proxies of the same depth saw a request first, from the
/// requests both logged with the same request id: the outer hop's time
/// encloses the inner one's, so its duration is the longer (nginx's
/// `$request_time` runs from the first byte read from the client to the
/// last written, HAProxy's `Ta` from accept to the last byte, Envoy's
/// `%DURATION%` likewise — nginx docs `ngx_http_log_module`, HAProxy
/// configuration.txt §8.4, Envoy access-log docs). Durations are compared
/// rather than timestamps because nginx logs a request's end and HAProxy its
/// start.
fn id_votes(recs: &[JoinRec], depth: &dyn Fn(&str) -> Option<u8>) -> Votes {
    let mut votes: Votes = HashMap::new();
    let mut by_id: HashMap<&str, Vec<(&'static str, i64)>> = HashMap::new();
    for r in recs {
        // a hop that gave up on a timeout logs its own limit, not the inner
        // hop's time: when the outer hop's limit is the shorter (an upside-down
        // timeout ladder) the inner hop's record is the longer one (seen with
        // real nginx `proxy_read_timeout 1s` before haproxy `timeout server 3s`,
        // tests/it/real_ladder.rs), so such records do not vote
        if r.seen.status == 504 || r.seen.cause == Cause::Timeout {
            continue;
        }
        if let (Some(id), Some(d)) = (r.request_id.as_deref(), r.seen.duration_ms) {
            if id != "-" && !id.is_empty() {
                by_id.entry(id).or_default().push((r.seen.hop, d));
            }
        }
    }
    for seen in by_id.values() {
        for (i, &(a, da)) in seen.iter().enumerate() {
            for &(b, db) in &seen[i + 1..] {
                if a == b || depth(a) != depth(b) || da == db {
                    continue;
                }
                let (outer, inner) = if da > db { (a, b) } else { (b, a) };
                *votes.entry((outer, inner)).or_default() += 1;
            }
        }
    }
    votes
}

/// Pairs of 502s of two hops, one made at the inner hop and passed on by
/// the outer one: `(outer, inner)` → how many, and what told it.
#[derive(Debug, Default, Clone)]
struct PairVote {
    n: u64,
    /// The inner hop's causes, by name.
    causes: Vec<&'static str>,
    /// (outer record, inner record) as `file:line`, the earliest pair.
    example: (String, String),
    /// The time of the outer record of `example`.
    first: Option<i64>,
    /// Over the method + paths both hops logged 502s of, in the time both
    /// logs cover: how many more 502s the outer hop passed on than the
    /// inner one did, each matched by a 502 the inner hop made (see
    /// [`pair_votes`]).
    excess: u64,
}

/// At most this many passed-on 502s of one hop are looked at for pairs:
/// a few agree or the pairing tells nothing.
const PAIR_PROBES: usize = 10_000;

/// Slack either side of a pair's time window, ms: nginx logs a request's
/// end to the second (`$time_local`), HAProxy its accept to the ms, so two
/// records of one request differ by up to its duration plus this.
const PAIR_SLACK_MS: i64 = 2_000;

/// For proxies of the same depth logging no shared id: a 502 that hop `b`
/// made itself (a gateway cause: refused, reset, closed early …) and that
/// hop `a` logged as a 502 its server sent (passthrough), same method and
/// path, each the other's only 502 of that method and path in the window
/// (their durations plus [`PAIR_SLACK_MS`]), votes `a` outside `b`: were `b`
/// in front, the request would have stopped at `b` and `a` would have no
/// record of it. HAProxy logs its server's own 502 with termination state
/// `----` and its own with `SH`/`SC`/`PH`… (configuration.txt §8.5), nginx
/// its own with an `[error]` line; both are what `cause` reads. A busy
/// second with the same request on both hops has several candidates and
/// does not vote.
fn pair_votes(
    recs: &[JoinRec],
    depth: &dyn Fn(&str) -> Option<u8>,
    names: &[String],
) -> HashMap<(&'static str, &'static str), PairVote> {
    type Key<'a> = (&'static str, &'a Arc<str>, &'a Arc<str>);
    let mut by_key: HashMap<Key<'_>, Vec<&JoinRec>> = HashMap::new();
    let mut hops: Vec<&'static str> = Vec::new();
    for r in recs {
        if r.seen.status != 502 || r.seen.time_ms.is_none() {
            continue;
        }
        let (Some(m), Some(p)) = (&r.method, &r.path) else {
            continue;
        };
        if !hops.contains(&r.seen.hop) {
            hops.push(r.seen.hop);
        }
        by_key.entry((r.seen.hop, m, p)).or_default().push(r);
    }
    for v in by_key.values_mut() {
        v.sort_by_key(|r| r.seen.time_ms);
    }
    let t = |r: &JoinRec| r.seen.time_ms.unwrap_or(0);
    let near = |x: &JoinRec, y: &JoinRec| {
        let w = x.seen.duration_ms.unwrap_or(0).max(0)
            + y.seen.duration_ms.unwrap_or(0).max(0)
            + PAIR_SLACK_MS;
        (t(x) - t(y)).abs() <= w
    };
    // the records of `v` near `x` (`v` sorted by time; durations are
    // bounded by the window of the widest, so scan both ways from `x`)
    let around = |v: &[&JoinRec], x: &JoinRec| -> Vec<usize> {
        let i = v.partition_point(|y| t(y) < t(x));
        let mut out = Vec::new();
        for k in (0..i).rev() {
            if near(x, v[k]) {
                out.push(k);
            } else if t(x) - t(v[k]) > 600_000 {
                break;
            }
            if out.len() > 1 {
                return out;
            }
        }
        for (k, y) in v.iter().enumerate().skip(i) {
            if near(x, y) {
                out.push(k);
            } else if t(y) - t(x) > 600_000 {
                break;
            }
            if out.len() > 1 {
                return out;
            }
        }
        out
    };
    let mut votes: HashMap<(&'static str, &'static str), PairVote> = HashMap::new();
    let mut probes: HashMap<&'static str, usize> = HashMap::new();
    // in a fixed order: the probes a cap leaves out are the same each run
    let mut keys: Vec<Key<'_>> = by_key.keys().copied().collect();
    keys.sort_by(|x, y| (x.0, &**x.1, &**x.2).cmp(&(y.0, &**y.1, &**y.2)));
    for key in keys {
        let (a, m, p) = key;
        let outer = &by_key[&key];
        for &b in &hops {
            if a == b || depth(a).is_none() || depth(a) != depth(b) {
                continue;
            }
            let Some(inner) = by_key.get(&(b, m, p)) else {
                continue;
            };
            for x in outer.iter().filter(|x| x.seen.cause == Cause::Passthrough) {
                let n = probes.entry(a).or_default();
                if *n >= PAIR_PROBES {
                    break;
                }
                *n += 1;
                let [k] = around(inner, x)[..] else { continue };
                let y = inner[k];
                if matches!(y.seen.cause, Cause::Passthrough | Cause::Unknown) {
                    continue;
                }
                // and `x` is the only outer 502 near `y`
                if around(outer, y).len() != 1 {
                    continue;
                }
                let v = votes.entry((a, b)).or_default();
                v.n += 1;
                if !v.causes.contains(&y.seen.cause.id()) {
                    v.causes.push(y.seen.cause.id());
                    v.causes.sort_unstable();
                }
                if v.first.is_none_or(|f| t(x) < f) {
                    v.first = Some(t(x));
                    let at = |r: &JoinRec| {
                        let f = names.get(r.seen.file as usize).map_or("?", String::as_str);
                        format!("{f}:{}", r.seen.line)
                    };
                    v.example = (at(x), at(y));
                }
            }
        }
    }
    // The same by counts, for requests too alike to pair (many identical
    // requests a second): were `a` in front of `b`, every 502 `b` logged
    // reached `a`, which passed it on (its server's answer), so `a`'s
    // passed-on 502s of a method + path are `b`'s passed-on ones plus
    // `b`'s own; were `b` in front, `a`'s would be at most `b`'s passed-on
    // ones. More passed on at `a` than at `b`, with as many made at `b` to
    // account for them, says `a` is in front. Only the time both hops'
    // 502s span counts: one log may start or end earlier.
    let span = |h: &str| {
        let ts = recs
            .iter()
            .filter(|r| r.seen.hop == h && r.seen.status == 502)
            .filter_map(|r| r.seen.time_ms);
        let (mut lo, mut hi) = (i64::MAX, i64::MIN);
        for x in ts {
            lo = lo.min(x);
            hi = hi.max(x);
        }
        (lo, hi)
    };
    let spans: HashMap<&'static str, (i64, i64)> = hops.iter().map(|&h| (h, span(h))).collect();
    for (&(a, m, p), outer) in &by_key {
        for &b in &hops {
            if a == b || depth(a).is_none() || depth(a) != depth(b) {
                continue;
            }
            let Some(inner) = by_key.get(&(b, m, p)) else {
                continue;
            };
            let (sa, sb) = (spans[a], spans[b]);
            let (lo, hi) = (
                sa.0.max(sb.0) - PAIR_SLACK_MS,
                sa.1.min(sb.1) + PAIR_SLACK_MS,
            );
            let within = |r: &&&JoinRec| (lo..=hi).contains(&t(r));
            let passed = |v: &[&JoinRec]| {
                v.iter()
                    .filter(within)
                    .filter(|r| r.seen.cause == Cause::Passthrough)
                    .count() as u64
            };
            let made = inner
                .iter()
                .filter(within)
                .filter(|r| !matches!(r.seen.cause, Cause::Passthrough | Cause::Unknown))
                .count() as u64;
            let (pa, pb) = (passed(outer), passed(inner));
            if pa > pb && made >= pa - pb {
                votes.entry((a, b)).or_default().excess += pa - pb;
            }
        }
    }
    votes
}

/// For each pair of proxies of the same depth, the records of the first
/// whose next hop is where the second listens.
fn addr_votes(
    recs: &[JoinRec],
    addrs: &HopAddrs,
    depth: &dyn Fn(&str) -> Option<u8>,
) -> HashMap<(&'static str, &'static str), AddrVote> {
    let mut out: HashMap<(&'static str, &'static str), AddrVote> = HashMap::new();
    if addrs.is_empty() {
        return out;
    }
    // many records name the same few next hops
    let mut memo: HashMap<(&'static str, &str), Vec<Reached>> = HashMap::new();
    for r in recs {
        let Some(up) = r.upstream.as_deref() else {
            continue;
        };
        let reached = memo
            .entry((r.seen.hop, up))
            .or_insert_with(|| addrs.reached(r.seen.hop, up));
        for x in reached.iter() {
            if depth(x.inner).is_none() || depth(x.inner) != depth(r.seen.hop) {
                continue;
            }
            let v = out.entry((r.seen.hop, x.inner)).or_default();
            if x.exact {
                v.exact += 1;
            } else {
                v.port_only += 1;
            }
            let better = match &v.example {
                None => true,
                Some((_, _, was_exact)) => x.exact && !was_exact,
            };
            if better {
                v.example = Some((x.addr.clone(), x.listen, x.exact));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::born_tally::Seen;
    use crate::config::model::Host;
    use crate::source::FileId;

    fn listen(text: &str, host: Option<&str>, port: u16) -> Listen {
        Listen {
            text: text.into(),
            host: host.map(Host::classify),
            ports: Some((port, port)),
            span: Span::new(FileId(0), 0, 0),
            defaulted: false,
        }
    }

    fn rec(hop: &'static str, id: &str, ms: i64, upstream: Option<&str>) -> JoinRec {
        JoinRec {
            seen: Seen {
                hop,
                kind: HopKind::Proxy,
                file: 0,
                line: 1,
                time_ms: Some(0),
                duration_ms: Some(ms),
                status: 502,
                cause: Cause::Passthrough,
            },
            method: None,
            path: None,
            request_id: Some(id.into()),
            upstream: upstream.map(Into::into),
        }
    }

    /// Durations say haproxy is outside (it took longer on each shared
    /// id); nginx's `$upstream_addr` is where haproxy binds: the addresses
    /// win, and the note says both.
    #[test]
    fn addresses_beat_durations() {
        let mut recs = Vec::new();
        for i in 0..3 {
            let id = format!("id{i}");
            recs.push(rec("nginx", &id, 5, Some("127.0.0.1:8001")));
            recs.push(rec("haproxy", &id, 40, Some("be/app1")));
        }
        let mut a = HopAddrs::default();
        a.listens.push(Reach {
            hop: "haproxy",
            listen: listen("127.0.0.1:8001", Some("127.0.0.1"), 8001),
            at: "haproxy.cfg:14".into(),
        });
        let mut hops = vec![(HopKind::Proxy, "haproxy"), (HopKind::Proxy, "nginx")];
        let note = order(&recs, &mut hops, &a, &[]).unwrap();
        assert_eq!(
            hops,
            vec![(HopKind::Proxy, "nginx"), (HopKind::Proxy, "haproxy")]
        );
        assert!(
            note.starts_with("hop order from evidence: nginx before haproxy (addresses: nginx's $upstream_addr 127.0.0.1:8001 is haproxy's bind 127.0.0.1:8001 at haproxy.cfg:14, in 3 5xx records; the durations of 3 shared request ids said the opposite"),
            "{note}"
        );
        // without the config, the durations decide
        let mut hops = vec![(HopKind::Proxy, "nginx"), (HopKind::Proxy, "haproxy")];
        let note = order(&recs, &mut hops, &HopAddrs::default(), &[]).unwrap();
        assert_eq!(hops[0].1, "haproxy");
        assert!(
            note.contains("(request ids: haproxy took longer in 3 of 3"),
            "{note}"
        );
        // a wildcard bind is weaker than the durations
        let mut w = HopAddrs::default();
        w.listens.push(Reach {
            hop: "haproxy",
            listen: listen("*:8001", None, 8001),
            at: "haproxy.cfg:14".into(),
        });
        let mut hops = vec![(HopKind::Proxy, "nginx"), (HopKind::Proxy, "haproxy")];
        order(&recs, &mut hops, &w, &[]).unwrap();
        assert_eq!(hops[0].1, "haproxy");
        // ... and decides alone, saying it is the port only
        let no_ids: Vec<JoinRec> = recs
            .iter()
            .cloned()
            .map(|mut r| {
                r.request_id = None;
                r
            })
            .collect();
        let mut hops = vec![(HopKind::Proxy, "haproxy"), (HopKind::Proxy, "nginx")];
        let note = order(&no_ids, &mut hops, &w, &[]).unwrap();
        assert_eq!(hops[0].1, "nginx");
        assert!(note.contains("(port only: nginx's $upstream_addr 127.0.0.1:8001 is on the port of haproxy's bind *:8001"), "{note}");
    }

    fn timed(hop: &'static str, line: u64, t: i64, cause: Cause) -> JoinRec {
        let mut r = rec(hop, "-", 20, None);
        r.request_id = None;
        r.seen.line = line;
        r.seen.file = u32::from(hop == "nginx");
        r.seen.time_ms = Some(t);
        r.seen.cause = cause;
        r.method = Some("GET".into());
        r.path = Some("/api/x".into());
        r
    }

    /// No config, no id: nginx's own 502 that haproxy logged as its
    /// server's puts haproxy in front; two haproxy 502s of the same request
    /// near nginx's tell nothing (either could be it), nor do two 502s both
    /// hops passed on.
    #[test]
    fn a_502_made_inside_and_passed_on_outside_orders_the_pair() {
        let names = ["haproxy.log".to_string(), "access.log".to_string()];
        let recs = vec![
            timed("haproxy", 2, 10_300, Cause::Passthrough),
            timed("nginx", 2, 10_000, Cause::UpstreamRefused),
            // an app's 502 passed on by both: no direction
            timed("haproxy", 3, 60_000, Cause::Passthrough),
            timed("nginx", 3, 60_000, Cause::Passthrough),
        ];
        let mut hops = vec![(HopKind::Proxy, "nginx"), (HopKind::Proxy, "haproxy")];
        let note = order(&recs, &mut hops, &HopAddrs::default(), &names).unwrap();
        assert_eq!(hops[0].1, "haproxy", "{note}");
        assert!(
            note.contains("pairing by method + path + time, no config or shared request id telling: 1 502 nginx made itself (upstream_refused) is in haproxy's log as 502 its server sent, e.g. nginx access.log:2 ↔ haproxy haproxy.log:2"),
            "{note}"
        );
        let mut busy = recs.clone();
        busy.push(timed("haproxy", 4, 10_900, Cause::Passthrough));
        let mut hops = vec![(HopKind::Proxy, "haproxy"), (HopKind::Proxy, "nginx")];
        let note = order(&busy, &mut hops, &HopAddrs::default(), &names).unwrap();
        assert_eq!(hops[0].1, "nginx");
        assert!(
            note.starts_with("hop order assumed: nginx before haproxy"),
            "{note}"
        );
    }

    #[test]
    fn addresses_of_a_logged_next_hop() {
        let mut a = HopAddrs::default();
        a.servers.insert("be/s1".into(), "127.0.0.1:8080".into());
        assert_eq!(a.addresses("haproxy", "be/s1"), ["127.0.0.1:8080"]);
        assert_eq!(
            a.addresses("nginx", "10.0.0.1:80, 10.0.0.2:80 : 10.0.0.3:80"),
            ["10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"]
        );
        assert!(a.addresses("nginx", "-").is_empty());
    }

    #[test]
    fn exact_beats_port_only_for_the_same_hop() {
        let mut a = HopAddrs::default();
        for (t, h) in [("*:8080", None), ("127.0.0.1:8080", Some("127.0.0.1"))] {
            a.listens.push(Reach {
                hop: "haproxy",
                listen: listen(t, h, 8080),
                at: "haproxy.cfg:3".into(),
            });
        }
        let r = a.reached("nginx", "127.0.0.1:8080");
        assert_eq!(r.len(), 1);
        assert!(r[0].exact);
        let r = a.reached("nginx", "10.9.9.9:8080");
        assert_eq!(r.len(), 1);
        assert!(!r[0].exact);
        // a hop's own listen says nothing about order
        assert!(a.reached("haproxy", "127.0.0.1:8080").is_empty());
        assert!(a.reached("nginx", "127.0.0.1:8081").is_empty());
    }
}
