//! A run's 5xx records, as the "Where the 502s were born" section
//! ([`super::born`]) and the timeout ladder ([`super::ladder::Durations`])
//! need them, in memory that does not grow with the number of 5xx lines.
//!
//! Per hop it counts the 502s by cause, keeps the first
//! [`CHAIN_SAMPLES`] 502s in the order the report shows its sample chains
//! (time, file, line) and the 5xx durations in 100 ms steps. That is all a
//! run whose requests are logged at one hop needs: each 502 is its own
//! chain. The records themselves ([`JoinRec`], ≈ 300 bytes each with their
//! texts) are kept only when the run holds logs of more than one hop, for
//! the cross-hop join; before this, every run kept one per 5xx (a 4 GiB
//! nginx log: 732,292 records, ≈ 200 MB of heap).
//!
//! Imports `born` (the record and section types) and `cause`; nothing reads
//! raw log text here.

use std::collections::BTreeMap;
use std::ops::AddAssign;
use std::sync::Arc;

use super::born::{
    born_at_last_hop, born_rows, one_hop_join, Born, Chain, ChainLink, JoinRec, CHAIN_SAMPLES,
    JOIN_CAP,
};
use super::cause::{Cause, N_CAUSES};
use super::hop_order::HopAddrs;
use crate::logs::hop::HopKind;

/// One 5xx request as one hop logged it: what the tally counts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Seen {
    /// Hop name (`nginx`, `haproxy`, …).
    pub hop: &'static str,
    /// Where the hop sits.
    pub kind: HopKind,
    /// Input index of the file.
    pub file: u32,
    /// Line (chunk-relative until [`Tally::shift`]).
    pub line: u64,
    /// UTC ms of the log time.
    pub time_ms: Option<i64>,
    /// Total time at this hop, ms.
    pub duration_ms: Option<i64>,
    /// Status returned to the client.
    pub status: u16,
    /// This hop's cause.
    pub cause: Cause,
}

/// One of the first 502s of a hop, for a sample chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    /// UTC ms of the log time.
    pub time_ms: Option<i64>,
    /// Input index of the file.
    pub file: u32,
    /// 1-based line.
    pub line: u64,
    /// This hop's cause.
    pub cause: Cause,
    /// Request id, when logged.
    pub request_id: Option<Box<str>>,
}

impl Sample {
    /// The order of the report's chains (`born` sorts the records so).
    fn key(&self) -> (Option<i64>, u32, u64) {
        (self.time_ms, self.file, self.line)
    }
}

/// One hop's share of the tally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HopTally {
    /// Hop name.
    pub hop: &'static str,
    /// Where the hop sits.
    pub kind: HopKind,
    /// 502s by this hop's cause (index: `Cause as usize`).
    pub causes_502: [u64; N_CAUSES],
    /// The first [`CHAIN_SAMPLES`] 502s by (time, file, line), in that order.
    pub samples: Vec<Sample>,
    /// 5xx by (status, 100 ms step of the hop's duration).
    pub durations: BTreeMap<(u16, u64), u64>,
    /// 5xx without a duration in the log.
    pub untimed: u64,
}

impl HopTally {
    fn new(hop: &'static str, kind: HopKind) -> Self {
        HopTally {
            hop,
            kind,
            causes_502: [0; N_CAUSES],
            samples: Vec::new(),
            durations: BTreeMap::new(),
            untimed: 0,
        }
    }

    /// Would a 502 at `key` be among the first samples?
    fn wants(&self, key: (Option<i64>, u32, u64)) -> bool {
        self.samples.len() < CHAIN_SAMPLES || self.samples.last().is_some_and(|s| key < s.key())
    }

    /// Insert in order, dropping the last beyond [`CHAIN_SAMPLES`].
    fn insert(&mut self, s: Sample) {
        let at = self.samples.partition_point(|x| x.key() < s.key());
        self.samples.insert(at, s);
        self.samples.truncate(CHAIN_SAMPLES);
    }

    /// Any 502 counted?
    pub fn has_502(&self) -> bool {
        self.causes_502.iter().any(|&n| n > 0)
    }
}

/// The 5xx records of a run, bounded: per-hop counts and samples, plus the
/// records themselves when the cross-hop join needs them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    /// Per hop, in the order first seen.
    hops: Vec<HopTally>,
    /// Records were kept ([`Tally::keep`]): the run has logs of several hops.
    keep: bool,
    /// The records, at most [`JOIN_CAP`], only when kept.
    recs: Vec<JoinRec>,
    /// Some records were dropped at the cap.
    truncated: bool,
    /// One copy of each method and next hop the kept records name (per
    /// chunk: not merged), see [`Tally::shared`].
    texts: ahash::AHashSet<Arc<str>>,
}

impl Tally {
    /// Count one 5xx; `request_id` is called only when it becomes a sample.
    pub fn see(&mut self, s: &Seen, request_id: impl FnOnce() -> Option<String>) {
        let h = match self.hops.iter().position(|h| h.hop == s.hop) {
            Some(i) => &mut self.hops[i],
            None => {
                self.hops.push(HopTally::new(s.hop, s.kind));
                self.hops.last_mut().expect("pushed")
            }
        };
        // the ladder reads every 5xx, timed or not (as `Durations` did)
        match s.duration_ms.and_then(|ms| u64::try_from(ms).ok()) {
            Some(ms) => *h.durations.entry((s.status, ms / 100)).or_default() += 1,
            None => h.untimed += 1,
        }
        if s.status != 502 {
            return;
        }
        h.causes_502[s.cause as usize] += 1;
        let key = (s.time_ms, s.file, s.line);
        if h.wants(key) {
            h.insert(Sample {
                time_ms: s.time_ms,
                file: s.file,
                line: s.line,
                cause: s.cause,
                request_id: request_id().map(String::into_boxed_str),
            });
        }
    }

    /// Keep one record for the join (up to [`JOIN_CAP`]). Called only when
    /// the run holds logs of several hops (`several_hops`); the tally is
    /// then answered by the join.
    pub fn keep(&mut self, r: JoinRec) {
        self.keep = true;
        if self.recs.len() < JOIN_CAP {
            self.recs.push(r);
        } else {
            self.truncated = true;
        }
    }

    /// The one copy of `s` the records of this tally share: a record's
    /// method and next hop repeat from 5xx to 5xx, and an `Arc` each was
    /// two allocations per record.
    pub fn shared(&mut self, s: &str) -> Arc<str> {
        if let Some(a) = self.texts.get(s) {
            return a.clone();
        }
        let a: Arc<str> = s.into();
        self.texts.insert(a.clone());
        a
    }

    /// Make chunk-relative line numbers absolute.
    pub fn shift(&mut self, base: u64) {
        for h in &mut self.hops {
            for s in &mut h.samples {
                s.line += base;
            }
        }
        for r in &mut self.recs {
            r.seen.line += base;
        }
    }

    /// Per hop, in the order first seen.
    pub fn hops(&self) -> &[HopTally] {
        &self.hops
    }

    /// Records held (for tests of the bound).
    pub fn retained(&self) -> usize {
        self.recs.len() + self.hops.iter().map(|h| h.samples.len()).sum::<usize>()
    }

    /// The "Where the 502s were born" section: the records joined across
    /// hops when they were kept, else each 502 as its own chain (one hop).
    pub fn born(self, names: &[String], addrs: &HopAddrs) -> Option<Born> {
        if self.keep {
            return super::born::born(self.recs, self.truncated, names, addrs);
        }
        match self.hops.as_slice() {
            [] => None,
            [h] => one_hop(h, names),
            // records of several hops were counted without keeping them:
            // `several_hops` said one hop. Joining is impossible; saying
            // where the 502s were born from one hop alone would be wrong.
            _ => {
                debug_assert!(false, "several hops tallied without their records");
                None
            }
        }
    }
}

/// The section for a run logged at one hop: every 502 is a chain of one
/// link, born where [`born_at_last_hop`] says (what [`super::born::born`]
/// finds when it has one hop's records).
fn one_hop(h: &HopTally, names: &[String]) -> Option<Born> {
    if !h.has_502() {
        return None;
    }
    let place = |cause: Cause| {
        let born_at = born_at_last_hop(h.kind, cause);
        // a passed-on 502 was made by the application behind the hop
        let hop = if cause == Cause::Passthrough {
            "app"
        } else {
            h.hop
        };
        (born_at, hop)
    };
    let mut rows: BTreeMap<(&'static str, &'static str, Cause), u64> = BTreeMap::new();
    let mut totals: BTreeMap<&'static str, u64> = BTreeMap::new();
    for (i, &n) in h.causes_502.iter().enumerate() {
        if n == 0 {
            continue;
        }
        let cause = Cause::ALL[i];
        let (born_at, hop) = place(cause);
        *totals.entry(born_at).or_default() += n;
        *rows.entry((born_at, hop, cause)).or_default() += n;
    }
    let rows = born_rows(rows);
    let chains = h
        .samples
        .iter()
        .map(|s| {
            let (born_at, hop) = place(s.cause);
            let name = names.get(s.file as usize).map_or("?", String::as_str);
            Chain {
                born_at,
                hop,
                cause: s.cause,
                join: "none",
                chain: vec![ChainLink {
                    hop: h.hop,
                    at: format!("{name}:{}", s.line),
                    status: 502,
                    cause: s.cause,
                    request_id: s.request_id.as_deref().map(String::from),
                }],
            }
        })
        .collect();
    Some(Born {
        order: vec![h.hop],
        order_note: None,
        join: one_hop_join(h.hop),
        totals,
        rows,
        chains,
        truncated: false,
        // only `gatecheck export` reads it, and only for a dump of several
        // hops (a one-hop row is placed by its own cause)
        placed: Vec::new(),
    })
}

impl AddAssign for Tally {
    fn add_assign(&mut self, o: Tally) {
        self.keep |= o.keep;
        for oh in o.hops {
            match self.hops.iter_mut().find(|h| h.hop == oh.hop) {
                None => self.hops.push(oh),
                Some(h) => {
                    for (a, b) in h.causes_502.iter_mut().zip(oh.causes_502) {
                        *a += b;
                    }
                    for (k, n) in oh.durations {
                        *h.durations.entry(k).or_default() += n;
                    }
                    h.untimed += oh.untimed;
                    for s in oh.samples {
                        if h.wants(s.key()) {
                            h.insert(s);
                        }
                    }
                }
            }
        }
        let room = JOIN_CAP.saturating_sub(self.recs.len());
        self.truncated |= o.truncated || o.recs.len() > room;
        self.recs.extend(o.recs.into_iter().take(room));
    }
}

/// Does the plan hold logs of more than one hop (nginx access logs and a
/// hop format, or two hop formats)? Only then are the records kept.
pub(super) fn several_hops(loaded: &[super::inputs::Loaded]) -> bool {
    use crate::logs::detect::Kind;
    let mut first: Option<&'static str> = None;
    for l in loaded {
        let hop = match l.kind {
            Kind::Access(_) => "nginx",
            Kind::Hop(fi) => match crate::logs::formats::hop_formats().get(fi) {
                Some(f) => f.name(),
                // an index no format has: keep, to be safe
                None => return true,
            },
            _ => continue,
        };
        match first {
            None => first = Some(hop),
            Some(f) if f != hop => return true,
            Some(_) => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn seen(line: u64, t: Option<i64>, status: u16, cause: Cause) -> Seen {
        Seen {
            hop: "nginx",
            kind: HopKind::Proxy,
            file: (line % 3) as u32,
            line,
            time_ms: t,
            duration_ms: Some((line % 7_000) as i64),
            status,
            cause,
        }
    }

    /// A one-hop run retains the same state whatever the number of 5xx
    /// fed: the first chains, not a record per 5xx.
    #[test]
    fn one_hop_state_does_not_grow_with_the_5xx() {
        let fed = |n: u64| {
            let mut t = Tally::default();
            for line in 1..=n {
                let cause = Cause::ALL[(line % N_CAUSES as u64) as usize];
                let status = if line % 5 == 0 { 504 } else { 502 };
                t.see(
                    &seen(line, Some(1_000 * line as i64), status, cause),
                    || Some(format!("id{line}")),
                );
            }
            t
        };
        let (small, big) = (fed(20_000), fed(200_000));
        assert_eq!(small.retained(), CHAIN_SAMPLES);
        assert_eq!(big.retained(), small.retained());
        // the duration histogram is bounded by the steps, not the lines
        let steps = |t: &Tally| t.hops()[0].durations.len();
        assert_eq!(steps(&small), steps(&big));
        assert_eq!(
            big.hops()[0].causes_502.iter().sum::<u64>(),
            200_000 - 200_000 / 5
        );
        // and its samples are the earliest 502s
        let lines: Vec<u64> = big.hops()[0].samples.iter().map(|s| s.line).collect();
        let want: Vec<u64> = (1..).filter(|l| l % 5 != 0).take(CHAIN_SAMPLES).collect();
        assert_eq!(lines, want);
    }

    /// Records are kept only when asked for (a run of several hops).
    #[test]
    fn records_only_when_kept() {
        let mut t = Tally::default();
        t.see(&seen(1, Some(5), 502, Cause::Dns), || None);
        assert_eq!(t.recs.len(), 0);
        assert!(!t.keep);
        let mut k = Tally::default();
        k.keep(JoinRec::of(
            &seen(1, Some(5), 502, Cause::Dns),
            None,
            None,
            None,
            None,
        ));
        t += k;
        assert!(t.keep);
        assert_eq!(t.recs.len(), 1);
        // a kept record's repeated texts are one copy
        let (a, b) = (t.shared("GET"), t.shared("GET"));
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &t.shared("POST")));
    }

    fn any_cause() -> impl Strategy<Value = Cause> {
        (0..N_CAUSES).prop_map(|i| Cause::ALL[i])
    }

    proptest! {
        /// Oracle: for one hop, the tally (fed in chunks, shifted and merged
        /// in any order) gives the section the join gives from every record,
        /// and the durations `Durations` counted from the records.
        #[test]
        fn one_hop_tally_equals_the_join(
            recs in prop::collection::vec(
                (prop::option::of(0i64..50), 0u32..3, any_cause(),
                 prop::sample::select(vec![500u16, 502, 502, 502, 503, 504]),
                 prop::option::of(-5i64..2_000), prop::option::of("[a-c]{1,2}")),
                0..200),
            chunk in 1usize..40,
            kind in prop::sample::select(vec![HopKind::Proxy, HopKind::Cdn, HopKind::Lb, HopKind::App]),
            reverse in any::<bool>(),
        ) {
            let names: Vec<String> = (0..3).map(|i| format!("f{i}.log")).collect();
            // (file, line) unique, as in a run
            let all: Vec<JoinRec> = recs
                .iter()
                .enumerate()
                .map(|(i, (t, file, cause, status, d, id))| JoinRec {
                    seen: Seen {
                        hop: "edge",
                        kind,
                        file: *file,
                        line: i as u64 + 1,
                        time_ms: *t,
                        duration_ms: *d,
                        status: *status,
                        cause: *cause,
                    },
                    method: None,
                    path: None,
                    request_id: id.as_deref().map(Into::into),
                    upstream: None,
                })
                .collect();
            let mut parts: Vec<Tally> = all
                .chunks(chunk)
                .enumerate()
                .map(|(c, part)| {
                    let base = (c * chunk) as u64;
                    let mut t = Tally::default();
                    for r in part {
                        let s = Seen {
                            line: r.seen.line - base,
                            ..r.seen
                        };
                        t.see(&s, || r.request_id.as_deref().map(String::from));
                    }
                    t.shift(base);
                    t
                })
                .collect();
            if reverse {
                parts.reverse();
            }
            let mut tally = Tally::default();
            for p in parts {
                tally += p;
            }
            let mut durations: BTreeMap<(u16, u64), u64> = BTreeMap::new();
            let mut untimed = 0;
            for r in all.iter().filter(|r| r.seen.status >= 500) {
                match r.seen.duration_ms.and_then(|ms| u64::try_from(ms).ok()) {
                    Some(ms) => *durations.entry((r.seen.status, ms / 100)).or_default() += 1,
                    None => untimed += 1,
                }
            }
            if let Some(h) = tally.hops().first() {
                prop_assert_eq!(&h.durations, &durations);
                prop_assert_eq!(h.untimed, untimed);
            }
            let want = super::super::born::born(all, false, &names, &HopAddrs::default())
                .map(|b| Born { placed: Vec::new(), ..b });
            let got = tally.born(&names, &HopAddrs::default());
            prop_assert_eq!(got, want);
        }
    }
}
