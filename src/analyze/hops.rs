//! The hop pass: every input detected as a hop format (HAProxy, Envoy, a
//! CDN, a load balancer) is parsed in parallel chunks by its format's
//! parser; each 5xx is classified by that format's classifier
//! (`hop_cause`), and everything is counted per hop into the same mergeable
//! [`Agg`] the nginx pass fills. Event lines (a server going down, a backend
//! without servers) are kept as evidence; other non-request lines are
//! skipped and counted, never called malformed.

use std::collections::BTreeMap;
use std::sync::Arc;

use ahash::AHashMap;

use super::access::{path_pattern, shift_lines, TIMING_SAMPLE};
use super::born_tally::Seen;
use super::cause::Cause;
use super::errors::sample;
use super::event::{self, ChunkEvents, Collect, Event, EventSink};
use super::hop_attempt::HopAttempt;
use super::hop_cause;
use super::inputs::Loaded;
use super::kind::InputKind;
use super::plan::Plan;
use super::report::InputSummary;
use super::schedule::for_each_chunk;
use super::stats::{self, Agg, Example, MinuteRun};
use super::timing;
use super::Options;
use crate::logs::detect::Kind;
use crate::logs::formats::hop_formats;
use crate::logs::hop::{
    CutPieces, HopEventKind, HopKind, HopLineError, HopParser, HopRecord, Signals, SummaryCache,
};
use crate::logs::lines;

/// How many event lines a hop keeps to show (the counts cover them all).
pub const EVENT_SAMPLES: usize = 20;

/// Past [`EVENT_SAMPLES`], the first line of each backend not yet among
/// them is kept too, up to this many lines in all: a `<NOSRV>` 503 cites
/// its own backend's `Server … is DOWN` line even after many lines of
/// other backends' (a busy HAProxy whose other servers flap).
pub const EVENT_SAMPLES_MAX: usize = 64;

/// Whether an event of `backend` joins `kept`: one of the first
/// [`EVENT_SAMPLES`], or the first of its backend (up to
/// [`EVENT_SAMPLES_MAX`]).
fn keep_event(kept: &[EventRow], backend: Option<&str>) -> bool {
    kept.len() < EVENT_SAMPLES
        || (kept.len() < EVENT_SAMPLES_MAX
            && backend.is_some_and(|b| kept.iter().all(|e| e.backend.as_deref() != Some(b))))
}

/// One event line of a hop's log, with where it was.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct EventRow {
    /// File as given.
    pub file: String,
    /// 1-based line.
    pub line: u64,
    /// When, RFC 3339, if the line says.
    pub time: Option<String>,
    /// What happened.
    pub kind: HopEventKind,
    /// The backend concerned.
    pub backend: Option<String>,
    /// The server concerned.
    pub server: Option<String>,
    /// The message.
    pub message: String,
}

/// Everything counted for one hop (all its files).
#[derive(Debug, Clone)]
pub struct HopAgg {
    /// Format name (`haproxy`).
    pub name: &'static str,
    /// Where the hop sits.
    pub hop: HopKind,
    /// Its files.
    pub files: Vec<String>,
    /// What its lines add up to.
    pub share: HopShare,
}

/// What hop log lines add up to: a chunk's, a file's, or a hop's (all its
/// files); shares merge with `+=`.
#[derive(Debug, Clone)]
pub struct HopShare {
    /// Requests, statuses, causes, timeline.
    pub agg: Agg,
    /// Lines that hold no request and no event the analysis uses (start
    /// notices, other programs' syslog lines, headers).
    pub skipped: u64,
    /// Event lines by kind.
    pub events: BTreeMap<HopEventKind, u64>,
    /// The first [`EVENT_SAMPLES`] server-down / no-server events, and
    /// past them the first of each other backend ([`EVENT_SAMPLES_MAX`]).
    pub event_samples: Vec<EventRow>,
}

impl HopShare {
    fn new() -> Self {
        HopShare {
            agg: Agg::new(),
            skipped: 0,
            events: BTreeMap::new(),
            event_samples: Vec::new(),
        }
    }
}

impl std::ops::AddAssign for HopShare {
    /// The counts add up; the event samples keep the first
    /// [`EVENT_SAMPLES`] and then the first of each other backend
    /// (`keep_event`; `rhs` comes later in the input).
    fn add_assign(&mut self, rhs: HopShare) {
        self.agg += rhs.agg;
        self.skipped += rhs.skipped;
        for (k, v) in rhs.events {
            *self.events.entry(k).or_default() += v;
        }
        for e in rhs.event_samples {
            if keep_event(&self.event_samples, e.backend.as_deref()) {
                self.event_samples.push(e);
            }
        }
    }
}

/// What reading one chunk gives: its share, its events, the pieces of the
/// records its borders cut, and its line count.
type Part = ((HopShare, ChunkEvents, Option<CutPieces>), u64);

/// One chunk's share.
struct ChunkOut {
    share: HopShare,
    evs: Collect,
}

/// The hop stage: parse every hop input of the plan; one [`HopAgg`] per
/// format, in registry order; the inputs' summaries go to `inputs_out`.
pub(super) fn hop_pass(
    plan: &mut Plan,
    opts: &Options,
    inputs_out: &mut Vec<InputSummary>,
    on_events: &mut EventSink<'_>,
) -> Vec<HopAgg> {
    let mut hops: Vec<HopAgg> = Vec::new();
    let Plan {
        loaded,
        hop_parsers,
        problems,
        ..
    } = plan;
    let join_records = super::born_tally::several_hops(loaded);
    // every hop input, read all at once by the scheduler (results in input order)
    let mut files: Vec<&mut Loaded> = Vec::new();
    let mut ctxs: Vec<Ctx<'_>> = Vec::new();
    let mut about: Vec<(String, String, &'static dyn crate::logs::hop::HopFormat)> = Vec::new();
    for (l, parser) in loaded.iter_mut().zip(hop_parsers.iter()) {
        let (Kind::Hop(fi), Some(parser)) = (&l.kind, parser) else {
            continue;
        };
        let Some(format) = hop_formats().get(*fi) else {
            continue;
        };
        about.push((l.input.display.clone(), l.reason.clone(), *format));
        ctxs.push(Ctx {
            name: format.name(),
            hop: format.hop(),
            parser: parser.as_ref(),
            judge: hop_cause::judge_of(format.name()),
            display: l.input.display.clone(),
            file: l.index,
            opts,
            join_records,
        });
        files.push(l);
    }
    let mut out = HopShare::new();
    let mut base = 0u64;
    let ndjson = on_events.ndjson();
    let parse = |i: usize, chunk: &[u8]| {
        // the lines as the format reads them (Docker json-file: decoded)
        let cut = ctxs[i].parser.cut_pieces(chunk);
        let decoded = ctxs[i].parser.decode_chunk(chunk);
        let (mut o, n) = parse_chunk(&decoded, &ctxs[i]);
        let evs = std::mem::take(&mut o.evs).finish(ndjson);
        ((o.share, evs, cut), n)
    };
    // a chunk's share, its lines `base` lines into the file, into `out`
    let absorb = |out: &mut HopShare,
                  on_events: &mut EventSink<'_>,
                  mut o: HopShare,
                  evs: ChunkEvents,
                  base: u64| {
        shift_lines(&mut o.agg, &mut [], base);
        on_events.send(evs, base);
        for e in &mut o.event_samples {
            e.line += base;
        }
        *out += o;
    };
    // a record a chunk border cut (HopParser::cut_pieces), joined: read as
    // a one-line chunk at its first line
    let read_joined = |i: usize, line: u64, text: &[u8]| {
        let (mut o, _) = parse_chunk(text, &ctxs[i]);
        let evs = std::mem::take(&mut o.evs).finish(ndjson);
        (o.share, evs, line.saturating_sub(1))
    };
    // the cut record waiting for the next chunk's head: its line, its text
    let mut pending: Option<(u64, Vec<u8>)> = None;
    for_each_chunk(&mut files, opts, problems, &parse, &mut |i,
                                                             part: Option<
        Part,
    >| {
        if let Some(((o, evs, cut), n)) = part {
            if let Some(cut) = &cut {
                let joined = match pending.take() {
                    Some((line, mut text)) => {
                        text.extend_from_slice(&cut.head);
                        Some((line, text))
                    }
                    None => (!cut.head.is_empty()).then(|| (base + 1, cut.head.clone())),
                };
                if let Some((line, text)) = joined {
                    let (jo, jevs, at) = read_joined(i, line, &text);
                    absorb(&mut out, on_events, jo, jevs, at);
                }
            }
            absorb(&mut out, on_events, o, evs, base);
            pending = cut
                .and_then(|c| c.tail)
                .map(|(line, text)| (base + line, text));
            base += n;
            return;
        }
        // an unfinished record at the file's end: read as it is (reported)
        if let Some((line, text)) = pending.take() {
            let (jo, jevs, at) = read_joined(i, line, &text);
            absorb(&mut out, on_events, jo, jevs, at);
        }
        // the file's last chunk was handed out
        let out = std::mem::replace(&mut out, HopShare::new());
        base = 0;
        let (display, reason, format) = &about[i];
        inputs_out.push(InputSummary::new(
            display.clone(),
            InputKind::Hop(format.name()),
            Some(format.name().to_string()),
            reason.clone(),
            out.agg.lines,
            out.agg.malformed,
            0,
        ));
        let slot = match hops.iter().position(|h| h.name == format.name()) {
            Some(i) => &mut hops[i],
            None => {
                hops.push(HopAgg {
                    name: format.name(),
                    hop: format.hop(),
                    files: Vec::new(),
                    share: HopShare::new(),
                });
                hops.last_mut().expect("pushed")
            }
        };
        slot.files.push(display.clone());
        slot.share += out;
    });
    for h in &mut hops {
        add_event_evidence(h);
    }
    hops
}

/// `no_live_upstream` rests on the server-down / no-server events of the
/// same backend: add the first few to the example's evidence.
fn add_event_evidence(h: &mut HopAgg) {
    let HopShare {
        agg,
        event_samples,
        events,
        ..
    } = &mut h.share;
    // server-down and no-server lines in all, of which the first
    // EVENT_SAMPLES (and the first of each other backend) were kept: past
    // that, "none of this backend" would be said of lines never looked at
    let all = [HopEventKind::ServerDown, HopEventKind::NoServer]
        .iter()
        .map(|k| events.get(k).copied().unwrap_or(0))
        .sum::<u64>();
    let kept = event_samples
        .iter()
        .filter(|e| matches!(e.kind, HopEventKind::ServerDown | HopEventKind::NoServer))
        .count() as u64;
    for map in [
        &mut agg.causes_502,
        &mut agg.causes_504,
        &mut agg.causes_other_5xx,
    ] {
        let Some(ex) = map
            .get_mut(&Cause::NoLiveUpstream)
            .and_then(|s| s.example.as_mut())
        else {
            continue;
        };
        let of_backend: Vec<&EventRow> = event_samples
            .iter()
            .filter(|e| {
                matches!(e.kind, HopEventKind::ServerDown | HopEventKind::NoServer)
                    && e.backend.as_ref().is_none_or(|b| {
                        ex.evidence
                            .iter()
                            .any(|l| l.contains(&format!("backend={b} ")))
                    })
            })
            .collect();
        // the lines just before the example in its file are the ones that
        // explain it (a server that flapped went down again since its
        // first line); else the first ones kept
        let before: Vec<&EventRow> = of_backend
            .iter()
            .copied()
            .filter(|e| e.file == ex.file && e.line < ex.line)
            .collect();
        let cited = if before.is_empty() {
            &of_backend[..of_backend.len().min(3)]
        } else {
            &before[before.len().saturating_sub(3)..]
        };
        let related: Vec<String> = cited
            .iter()
            .map(|e| match &e.time {
                // when it happened, for the reader to set beside the 503s
                // (rsyslog's file and RFC 5424 carry it; `log stdout format
                // raw` writes the message alone)
                Some(t) => format!("{}:{} at {t}: {}", e.file, e.line, e.message),
                None => format!("{}:{}: {}", e.file, e.line, e.message),
            })
            .collect();
        if related.is_empty() && all > kept {
            ex.evidence.push(format!(
                "none of the {kept} `Server … is DOWN` / `has no server available` lines kept (of {all} in the logs: the first {EVENT_SAMPLES} and the first of each backend, up to {EVENT_SAMPLES_MAX}) is of this backend"
            ));
        } else if related.is_empty() {
            ex.evidence.push(
                "no `Server … is DOWN` / `has no server available` line of this backend in the logs given (they go to the same syslog facility unless `log` says otherwise)"
                    .into(),
            );
        }
        ex.evidence.extend(related);
    }
}

struct Ctx<'a> {
    name: &'static str,
    hop: HopKind,
    parser: &'a dyn HopParser,
    judge: hop_cause::Judge,
    display: String,
    file: u32,
    opts: &'a Options,
    /// The run holds logs of several hops: keep each 5xx's record for the
    /// join (`born_tally::several_hops`).
    join_records: bool,
}

/// The bytes as text, invalid UTF-8 replaced. `str::from_utf8` first: its
/// ASCII fast path beats `from_utf8_lossy`'s chunk walk (2 % of a HAProxy
/// run, `perf record`); the result is the same.
fn text(b: Option<&[u8]>) -> Option<String> {
    b.map(|b| lossy(b).into_owned())
}

/// [`String::from_utf8_lossy`], with `str::from_utf8`'s faster check first
/// (see [`text`]).
fn lossy(b: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(b) {
        Ok(s) => s.into(),
        Err(_) => String::from_utf8_lossy(b),
    }
}

/// One chunk of a hop log.
fn parse_chunk(chunk: &[u8], ctx: &Ctx<'_>) -> (ChunkOut, u64) {
    let mut o = ChunkOut {
        share: HopShare::new(),
        evs: Collect::new(ctx.opts, &ctx.display, Some(ctx.name)),
    };
    let mut n = 0u64;
    let (since, until) = (ctx.opts.since_ms, ctx.opts.until_ms);
    let mut run = MinuteRun::default();
    let mut cache = SummaryCache::default();
    let mut by = ByBytes::default();
    // requests below 500 seen, for the 1-in-TIMING_SAMPLE timing sample
    let mut ok_lines = 0u64;
    let mut upstreams = timing::Keyed::default();
    for line in lines(chunk) {
        n += 1;
        if line.iter().all(|c| c.is_ascii_whitespace()) {
            continue;
        }
        let agg = &mut o.share.agg;
        agg.lines += 1;
        // matched by reference: moving the summary out (it holds a whole
        // `HopRecord` slot) cost a memcpy per line, 7 % of the run (perf)
        // the next request below 500 is sampled for the timings: its
        // record is wanted (a 5xx's always is)
        cache.want_record = ctx.opts.all_requests || ok_lines % TIMING_SAMPLE == 0;
        let parsed = ctx.parser.parse_summary(line, &mut cache);
        let sum = match &parsed {
            Ok(r) => r,
            Err(HopLineError::NotARequest) => {
                match ctx.parser.parse_event(line) {
                    Some(ev) => {
                        *o.share.events.entry(ev.kind).or_default() += 1;
                        if matches!(ev.kind, HopEventKind::ServerDown | HopEventKind::NoServer)
                            && keep_event(
                                &o.share.event_samples,
                                ev.backend.and_then(|b| std::str::from_utf8(b).ok()),
                            )
                        {
                            o.share.event_samples.push(EventRow {
                                file: ctx.display.to_string(),
                                line: n,
                                time: ev.time.map(event::rfc3339),
                                kind: ev.kind,
                                backend: text(ev.backend),
                                server: text(ev.server),
                                message: String::from_utf8_lossy(
                                    &ev.message[..ev.message.len().min(stats::SAMPLE_CHARS)],
                                )
                                .into_owned(),
                            });
                        }
                    }
                    None => o.share.skipped += 1,
                }
                continue;
            }
            Err(e) => {
                agg.malformed += 1;
                if agg.malformed_samples.len() < stats::MALFORMED_SAMPLES {
                    agg.malformed_samples
                        .push(sample(&ctx.display, n, e.describe(), line));
                }
                continue;
            }
        };
        if let Some(t) = sum.time {
            if since.is_some_and(|s| t.utc_ms < s) || until.is_some_and(|u| t.utc_ms >= u) {
                agg.filtered += 1;
                continue;
            }
            agg.see_time(t);
            run.enter(&mut agg.minutes, t.utc_ms);
            run.cur.requests += 1;
        }
        agg.requests += 1;
        let status = sum.status.unwrap_or(0);
        agg.status[status.min(999) as usize] += 1;
        if status >= 500 {
            // the full record, only for the 5xx (the summary accepted the
            // line, and hands it over when it parsed it whole)
            let mut parsed = None;
            let Some(rec) = whole(&sum.record, &mut parsed, ctx.parser, line) else {
                continue;
            };
            see_timing(agg, &mut upstreams, rec, status);
            let cause = slow_path(rec, n, ctx, agg, &mut by, &mut o.evs);
            if sum.time.is_some() {
                // status >= 500 here, as see_error counts it
                run.cur.see_error(status, cause);
            }
        } else {
            // the successes' timings to set the 502s' against: one line in
            // TIMING_SAMPLE pays for the full parse, as in the nginx pass
            let sampled = ok_lines % TIMING_SAMPLE == 0;
            ok_lines += 1;
            if sampled || ctx.opts.all_requests {
                let mut parsed = None;
                let Some(rec) = whole(&sum.record, &mut parsed, ctx.parser, line) else {
                    continue;
                };
                if sampled {
                    see_timing(agg, &mut upstreams, rec, status);
                }
                if ctx.opts.all_requests {
                    match &mut o.evs {
                        Collect::Rows(r) => r.hop(rec, n),
                        c => c.push(plain_event(rec, n, ctx)),
                    }
                }
            }
        }
    }
    run.finish(&mut o.share.agg.minutes);
    o.share
        .agg
        .timings
        .merge_keyed(upstreams, |&(backend, addr)| {
            HopAttempt {
                backend,
                addr,
                status: None,
                connect_time: None,
                header_time: None,
                response_time: None,
            }
            .address()
        });
    o.share.agg.timings.flush();
    by.flush(&mut o.share.agg);
    (o, n)
}

/// A line's whole record: the one its summary parsed, else parsed now into
/// `parsed`; `None` when the line does not parse whole.
#[inline]
fn whole<'s, 'a>(
    summarized: &'s Option<HopRecord<'a>>,
    parsed: &'s mut Option<HopRecord<'a>>,
    parser: &dyn HopParser,
    line: &'a [u8],
) -> Option<&'s HopRecord<'a>> {
    match summarized {
        Some(rec) => Some(rec),
        None => Some(&*parsed.insert(parser.parse_line(line).ok()?)),
    }
}

/// An upstream attempt's address as the line's bytes: the backend and the
/// server (HAProxy) or the address ([`HopAttempt::address`] makes its text).
type AddrKey<'a> = (Option<&'a [u8]>, Option<&'a [u8]>);

/// Count the one upstream attempt of `rec` (what its format logs of it,
/// [`super::hop_attempt`]) into the hop's timings, keyed by the line's
/// bytes in the chunk's `upstreams` (a text key per line cost a UTF-8
/// check, a copy and a SipHash, `perf record`).
fn see_timing<'a>(
    agg: &mut Agg,
    upstreams: &mut timing::Keyed<AddrKey<'a>>,
    rec: &HopRecord<'a>,
    status: u16,
) {
    if let Some(a) = super::hop_attempt::hop_attempt(rec) {
        // the text is empty exactly when these bytes are (a lossy
        // conversion keeps at least one character per byte)
        let empty = match (a.backend, a.addr) {
            (Some(_), Some(_)) => false,
            (_, Some(x)) | (Some(x), None) => x.is_empty(),
            (None, None) => true,
        };
        agg.timings.see_keyed(
            upstreams,
            (!empty).then_some((a.backend, a.addr)),
            a.status,
            [a.connect_time, a.header_time, a.response_time],
            status,
            rec.time.map(|t| t.utc_ms),
        );
    }
}

/// The next hop in as this hop names it, as the line's bytes:
/// `backend`/`server` for HAProxy, the address otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum NextHop<'a> {
    Pair(&'a [u8], &'a [u8]),
    Addr(&'a [u8]),
}

impl<'a> NextHop<'a> {
    fn of(rec: &HopRecord<'a>) -> Option<NextHop<'a>> {
        match rec.signals {
            Signals::Haproxy {
                backend: Some(b),
                server: Some(s),
                ..
            } => Some(NextHop::Pair(b, s)),
            _ => rec.upstream_addr.map(NextHop::Addr),
        }
    }

    /// Whether a server was chosen: not HAProxy's `<NOSRV>` (the same test
    /// as the rendered text ending in `/<NOSRV>`: that `/` is the one
    /// between backend and server, or one inside the server's name).
    fn chosen(self) -> bool {
        match self {
            NextHop::Pair(_, s) => s != b"<NOSRV>" && !s.ends_with(b"/<NOSRV>"),
            NextHop::Addr(a) => !a.ends_with(b"/<NOSRV>"),
        }
    }

    /// `backend/server`, or the address. Pushed piece by piece, each
    /// through `str::from_utf8` first: `format!` of two lossy conversions
    /// was most of a 5xx's join record (`perf record`); the text is the same.
    fn render(self) -> String {
        let put = |out: &mut String, b: &[u8]| out.push_str(&lossy(b));
        match self {
            NextHop::Pair(b, s) => {
                let mut out = String::with_capacity(b.len() + 1 + s.len());
                put(&mut out, b);
                out.push('/');
                put(&mut out, s);
                out
            }
            NextHop::Addr(a) => {
                let mut out = String::with_capacity(a.len());
                put(&mut out, a);
                out
            }
        }
    }
}

/// The next hop in as this hop names it: `backend/server` for HAProxy,
/// the address otherwise.
fn next_hop(rec: &HopRecord<'_>) -> Option<String> {
    NextHop::of(rec).map(NextHop::render)
}

/// A chunk's 5xx counts keyed by the bytes of its lines, turned into the
/// aggregate's text-keyed maps once per chunk ([`ByBytes::flush`]): a
/// string per 5xx for each map (and the path's pattern) cost more than
/// counting (`perf record`: malloc, `format`, UTF-8 checks). Hashed with
/// aHash: SipHash was 2 % of a HAProxy run (`perf record`); the maps are
/// per chunk and their order is not kept.
#[derive(Default)]
struct ByBytes<'a> {
    /// 502s by next hop.
    upstreams: AHashMap<NextHop<'a>, u64>,
    /// 502s by host.
    hosts: AHashMap<&'a [u8], u64>,
    /// 502s by path as logged (its pattern is taken at the flush).
    paths: AHashMap<&'a [u8], u64>,
    /// 5xx by (status class: 0 = 502, 1 = 504, 2 = other; cause; pool).
    pools: AHashMap<(u8, Cause, &'a [u8]), u64>,
    /// The join records' methods, one text each.
    methods: AHashMap<&'a [u8], Arc<str>>,
    /// The join records' next hops, one text each.
    next_hops: AHashMap<NextHop<'a>, Arc<str>>,
}

impl<'a> ByBytes<'a> {
    /// The method's text, shared by the chunk's join records.
    fn method(&mut self, m: &'a [u8]) -> Arc<str> {
        self.methods
            .entry(m)
            .or_insert_with(|| Arc::from(&*lossy(m)))
            .clone()
    }

    /// The next hop's text ([`NextHop::render`]), shared likewise.
    fn next_hop(&mut self, h: NextHop<'a>) -> Arc<str> {
        self.next_hops
            .entry(h)
            .or_insert_with(|| h.render().into())
            .clone()
    }
}

impl ByBytes<'_> {
    /// Add the counts to `agg`'s maps, as text.
    fn flush(self, agg: &mut Agg) {
        let text = |b: &[u8]| lossy(b).into_owned();
        for (k, n) in self.upstreams {
            *agg.upstreams.entry(k.render()).or_default() += n;
        }
        for (k, n) in self.hosts {
            *agg.hosts.entry(text(k)).or_default() += n;
        }
        for (k, n) in self.paths {
            *agg.paths.entry(path_pattern(&lossy(k))).or_default() += n;
        }
        for ((class, cause, pool), n) in self.pools {
            let map = match class {
                0 => &mut agg.causes_502,
                1 => &mut agg.causes_504,
                _ => &mut agg.causes_other_5xx,
            };
            *map.entry(cause)
                .or_default()
                .pools
                .entry(text(pool))
                .or_default() += n;
        }
    }
}

/// A request below 500, for `opts.all_requests` (`gatecheck export`): its
/// fields, no cause.
fn plain_event(rec: &HopRecord<'_>, n: u64, ctx: &Ctx<'_>) -> Event {
    let u = event::Unclassified {
        file: ctx.display.to_string(),
        line: n,
        time: rec.time,
        client: rec.client,
        method: rec.method,
        host: rec.host,
        path: rec.path,
        request_id: rec.request_id,
        status: rec.status,
        request_time_ms: rec.total_ms,
        upstream: super::hop_attempt::hop_attempt(rec)
            .map(|a| a.to_attempt())
            .into_iter()
            .collect(),
        hop: Some(ctx.name),
        blamed: next_hop(rec),
    };
    Event::unclassified(u, |b| String::from_utf8_lossy(b).into_owned())
}

/// A 5xx: classify, count, keep an example (and the event when asked).
fn slow_path<'a>(
    rec: &HopRecord<'a>,
    n: u64,
    ctx: &Ctx<'_>,
    agg: &mut Agg,
    by: &mut ByBytes<'a>,
    evs: &mut Collect,
) -> Cause {
    let status = rec.status.unwrap_or(0);
    // the evidence text only for what is kept: the first example of each
    // cause, and every event when events are written (formatting it for
    // every 5xx was most of the 5xx lines' cost)
    let (cause, mut evidence) = if ctx.opts.keep_events {
        let v = hop_cause::verdict_of(ctx.judge, rec);
        (v.cause, Some(v.evidence))
    } else {
        ((ctx.judge)(rec, &mut hop_cause::Evidence::off()), None)
    };
    let (class, map) = match status {
        502 => (0, &mut agg.causes_502),
        504 => (1, &mut agg.causes_504),
        _ => (2, &mut agg.causes_other_5xx),
    };
    let st = map.entry(cause).or_default();
    st.count += 1;
    if let Some(b) = super::attribute::pool_of(rec) {
        *by.pools.entry((class, cause, b)).or_default() += 1;
    }
    if let Some(k) = super::attribute::waited_key(rec) {
        *st.waited.entry(k).or_default() += 1;
    }
    if let Some((n, moved)) = super::attribute::retries_of(rec) {
        st.attempts_logged += 1;
        st.retried += u64::from(n > 0);
        st.redispatched += u64::from(moved);
        st.max_attempts = st.max_attempts.max(n.saturating_add(1));
    }
    if st.example.is_none() {
        st.example = Some(Example {
            file: ctx.display.to_string(),
            line: n,
            file_index: ctx.file,
            request: format!(
                "{} {} → {}",
                text(rec.method).unwrap_or_else(|| "-".into()),
                text(rec.path).unwrap_or_else(|| "-".into()),
                status
            ),
            evidence: evidence
                .get_or_insert_with(|| hop_cause::verdict_of(ctx.judge, rec).evidence)
                .clone(),
        });
    }
    if status == 502 {
        if let Some(t) = rec.time {
            agg.see_502(t);
        }
        // HAProxy's `<NOSRV>`: no server was chosen, so none to count
        match NextHop::of(rec).filter(|u| u.chosen()) {
            Some(u) => *by.upstreams.entry(u).or_default() += 1,
            None => agg.no_upstream_502.bump(ctx.name),
        }
        match rec.host {
            Some(h) => *by.hosts.entry(h).or_default() += 1,
            None => agg.no_host_502.bump(ctx.name),
        }
        match rec.path {
            Some(p) => *by.paths.entry(p).or_default() += 1,
            None => agg.no_path_502.bump(ctx.name),
        }
    }
    let seen = Seen {
        hop: ctx.name,
        kind: ctx.hop,
        file: ctx.file,
        line: n,
        time_ms: rec.time.map(|t| t.utc_ms),
        duration_ms: rec.total_ms,
        status,
        cause,
    };
    if status >= 500 {
        agg.join.see(&seen, || text(rec.request_id));
    }
    // the records themselves only for the cross-hop join (`born_tally`)
    if ctx.join_records {
        agg.join.keep(super::born::JoinRec::of(
            &seen,
            rec.method.map(|m| by.method(m)),
            rec.path.map(|p| Arc::from(&*lossy(p))),
            rec.request_id.map(|p| Arc::from(&*lossy(p))),
            // what `next_hop` renders, the logged address first
            rec.upstream_addr
                .map(NextHop::Addr)
                .or_else(|| NextHop::of(rec))
                .map(|h| by.next_hop(h)),
        ));
    }
    if ctx.opts.keep_events {
        evs.push(Event {
            file: ctx.display.to_string(),
            line: n,
            time: rec.time.map(event::rfc3339),
            client: text(rec.client),
            method: text(rec.method),
            host: text(rec.host),
            path: text(rec.path),
            status,
            request_time: rec.total_ms.map(|ms| ms as f64 / 1000.0),
            upstream: super::hop_attempt::hop_attempt(rec)
                .map(|a| a.to_attempt())
                .into_iter()
                .collect(),
            cause,
            evidence: evidence.unwrap_or_default(),
            rescued: false,
            request_id: text(rec.request_id),
            hop: Some(ctx.name),
            at: rec.time,
            blamed: next_hop(rec),
        });
    }
    cause
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A share of `n` server-down events at lines `first..`, `skipped` lines.
    fn share(first: u64, n: u64, skipped: u64) -> HopShare {
        let mut s = HopShare::new();
        s.skipped = skipped;
        s.events.insert(HopEventKind::ServerDown, n);
        s.event_samples = (first..first + n)
            .map(|line| EventRow {
                file: "haproxy.log".into(),
                line,
                time: None,
                kind: HopEventKind::ServerDown,
                backend: None,
                server: None,
                message: String::new(),
            })
            .collect();
        s
    }

    /// Shares add up whatever the split; the samples are the first
    /// EVENT_SAMPLES in input order.
    #[test]
    fn shares_add_up_and_keep_the_first_samples() {
        let n = EVENT_SAMPLES as u64;
        let mut a = share(1, n - 2, 3);
        a += share(n - 1, 5, 4);
        assert_eq!(a.skipped, 7);
        assert_eq!(a.events[&HopEventKind::ServerDown], n + 3);
        let lines: Vec<u64> = a.event_samples.iter().map(|e| e.line).collect();
        assert_eq!(lines, (1..=n).collect::<Vec<_>>());
        // a full share takes nothing more
        a += share(100, 1, 0);
        assert_eq!(a.event_samples.len(), EVENT_SAMPLES);
        assert_eq!(a.event_samples.last().map(|e| e.line), Some(n));
    }

    #[test]
    fn chosen_is_the_rendered_text_not_ending_in_nosrv() {
        let names: [&[u8]; 7] = [
            b"<NOSRV>",
            b"app1",
            b"",
            b"x/<NOSRV>",
            b"NOSRV>",
            b"<NOSRV>x",
            b"\xff<NOSRV>",
        ];
        for a in names {
            for b in names {
                for h in [NextHop::Pair(a, b), NextHop::Addr(b)] {
                    assert_eq!(h.chosen(), !h.render().ends_with("/<NOSRV>"), "{h:?}");
                }
            }
        }
    }
}
