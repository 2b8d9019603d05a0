//! The access-log pass, the hot loop: each chunk's lines → summary counts;
//! each 5xx (or rescued) request → full parse, join with the error log,
//! classification, and its share of the aggregates.

use std::borrow::Cow;

use super::born_tally::Seen;
use super::cause::{self, Capabilities, Cause, ErrorRef, Evidence, Verdict};
use super::errors::sample;
use super::event::{self, ChunkEvents, Collect, Event, EventSink};
use super::event_json::{self, EventRef, EvidenceItems, TimeField};
use super::inputs::Loaded;
use super::nginx_config::NginxConfig;
use super::schedule::{for_each_chunk, for_each_chunk_grouped, Each};
use super::stats::{self, Agg, CauseStat, Example, MinuteRun};
use super::{join, Options};
use crate::logs::nginx::{self, LogFormat, TimeCache};
use crate::logs::nginx_error::{self, ErrorLine};
use crate::logs::wrap::Wrap;
use crate::logs::{lines, record::Record};

pub(super) struct Ctx<'a> {
    pub(super) fmt: &'a LogFormat,
    /// Packaging peeled off each line.
    pub(super) wrap: Wrap,
    /// Error-log lines are interleaved: skip them here (the error pass reads them).
    pub(super) mixed: bool,
    pub(super) config: Option<&'a NginxConfig>,
    pub(super) index: &'a join::ErrorIndex,
    pub(super) has_error_log: bool,
    /// Some input could not be opened or read.
    pub(super) unreadable_inputs: bool,
    pub(super) opts: &'a Options,
    pub(super) file: u32,
    pub(super) display: &'a str,
    pub(super) names: &'a [String],
    /// The run holds logs of several hops: keep each 5xx's record for the
    /// join (`born_tally::several_hops`).
    pub(super) join_records: bool,
}

/// The access-log stage: parse every nginx access log of the plan against
/// the error-log index (all files at once, results taken in input order);
/// unknown and config inputs get their summaries here too.
pub(super) fn access_pass(
    plan: &mut super::plan::Plan,
    index: &join::ErrorIndex,
    opts: &Options,
    inputs_out: &mut Vec<super::report::InputSummary>,
    on_events: &mut EventSink<'_>,
) -> Agg {
    use super::kind::InputKind;
    use super::report::InputSummary;
    use crate::logs::detect::Kind;
    let has_error_log = inputs_out
        .iter()
        .any(|i| i.input_kind == InputKind::NginxError)
        || plan.loaded.iter().any(|l| l.mixed);
    let unreadable_inputs = plan.unreadable_inputs;
    let mut total = Agg::new();
    let super::plan::Plan {
        loaded,
        problems,
        config,
        formats,
        names,
        set_aside,
        ..
    } = plan;
    let join_records = super::born_tally::several_hops(loaded);
    let mut files: Vec<&mut Loaded> = Vec::new();
    for l in loaded.iter_mut() {
        let kind = match l.config_of {
            Some(k) => InputKind::ProxyConfig(k),
            None => InputKind::from_detected(&l.kind),
        };
        match l.kind {
            Kind::Access(fi) => match set_aside.iter().find(|(i, _)| *i == l.index) {
                // a copy of another access log (`copies.rs`): a row, not read
                Some((_, why)) => inputs_out.push(InputSummary::new(
                    l.input.display.clone(),
                    kind,
                    formats.get(fi).map(|f| f.name.clone()),
                    format!("{}; {why}", l.reason),
                    0,
                    0,
                    0,
                )),
                None => files.push(l),
            },
            Kind::Unknown | Kind::Config | Kind::HopConfig(_) => {
                inputs_out.push(InputSummary::new(
                    l.input.display.clone(),
                    kind,
                    None,
                    l.reason.clone(),
                    0,
                    0,
                    0,
                ))
            }
            Kind::Error | Kind::Hop(_) => {}
        }
    }
    // (display, reason, format index) of each access log
    let about: Vec<(String, String, usize)> = files
        .iter()
        .map(|l| {
            let fi = match l.kind {
                Kind::Access(fi) => fi,
                _ => 0,
            };
            (l.input.display.clone(), l.reason.clone(), fi)
        })
        .collect();
    let ctxs: Vec<Ctx<'_>> = files
        .iter()
        .zip(&about)
        .map(|(l, (display, _, fi))| Ctx {
            fmt: &formats[*fi],
            wrap: l.wrap,
            mixed: l.mixed,
            config: config.as_deref(),
            index,
            has_error_log,
            unreadable_inputs,
            opts,
            file: l.index,
            display,
            names,
            join_records,
        })
        .collect();
    let ndjson = on_events.ndjson();
    let parse = |i: usize, chunk: &[u8]| {
        let (agg, evs, n) = parse_access_chunk(chunk, &ctxs[i], ndjson);
        ((agg, evs.finish(ndjson), None), n)
    };
    // whole small files, several into one aggregate (`schedule::GroupFn`);
    // each file's lines and malformed lines are told apart
    let group = |each: &mut Each<'_>| {
        let mut agg = Agg::new();
        // (rows, which name their file per chunk, are never grouped)
        let mut events = Collect::default().with_ndjson(ndjson);
        let mut counts = Vec::new();
        let mut n = 0;
        each(&mut |i, bytes| {
            let (lines, malformed) = (agg.lines, agg.malformed);
            // kept as merging each file's own aggregate would (by file
            // name, not input order)
            let startup = agg.startup_first.take();
            n += parse_access_into(&mut agg, &mut events, bytes, &ctxs[i]);
            agg.startup_first = stats::first_startup(startup, agg.startup_first.take());
            counts.push((i, agg.lines - lines, agg.malformed - malformed));
        });
        ((agg, events.finish(ndjson), Some(counts)), n)
    };
    // an input's first chunk is its total so far (most small files are one
    // chunk: no empty aggregate made and merged into per file)
    let mut file_total: Option<Agg> = None;
    // per input read in a group: its (lines, malformed lines)
    let mut grouped: Vec<Option<(u64, u64)>> = vec![None; files.len()];
    let mut base = 0u64;
    let mut sink = |i: usize, part: Option<(Parsed, u64)>| {
        if let Some(((agg, evs, Some(counts)), _)) = part {
            // whole files: their line numbers are their own
            on_events.send(evs, 0);
            for (f, lines, malformed) in counts {
                grouped[f] = Some((lines, malformed));
            }
            total += agg;
            return;
        }
        if let Some(((mut agg, evs, None), n)) = part {
            shift_lines(&mut agg, &mut [], base);
            on_events.send(evs, base);
            base += n;
            match &mut file_total {
                Some(t) => *t += agg,
                None => file_total = Some(agg),
            }
            return;
        }
        let (lines, malformed) = match grouped[i].take() {
            Some(c) => c,
            None => {
                // (`Agg::new`, not the default: its status table is allocated)
                let agg = match file_total.take() {
                    Some(a) => a,
                    None => Agg::new(),
                };
                let c = (agg.lines, agg.malformed);
                total += agg;
                c
            }
        };
        base = 0;
        let (display, reason, fi) = &about[i];
        inputs_out.push(InputSummary::new(
            display.clone(),
            InputKind::NginxAccess,
            Some(formats[*fi].name.clone()),
            reason.clone(),
            lines,
            malformed,
            0,
        ));
    };
    // rows name their file per chunk, and `export` keeps a result per
    // chunk's requests: those are read file by file
    if opts.rows.is_some() || opts.all_requests {
        for_each_chunk(&mut files, opts, problems, &parse, &mut sink);
    } else {
        for_each_chunk_grouped(&mut files, opts, problems, &parse, &group, &mut sink);
    }
    total
}

/// What the access pass makes of a chunk (or of a group of whole small
/// files: then with each one's index, lines and malformed lines).
type Parsed = (Agg, ChunkEvents, Option<Vec<(usize, u64, u64)>>);

/// Make chunk-relative line numbers absolute.
pub(super) fn shift_lines(agg: &mut Agg, evs: &mut [Event], base: u64) {
    for s in agg
        .malformed_samples
        .iter_mut()
        .chain(&mut agg.startup_first)
    {
        s.line += base;
    }
    agg.join.shift(base);
    for ex in &mut agg.cut.examples {
        ex.line += base;
    }
    for e in evs.iter_mut() {
        e.line += base;
    }
    for m in [
        &mut agg.causes_502,
        &mut agg.causes_504,
        &mut agg.causes_other_5xx,
        &mut agg.causes_rescued,
        &mut agg.causes_replaced,
    ] {
        for ex in m.values_mut().filter_map(|st| st.example.as_mut()) {
            ex.line += base;
        }
    }
}

/// One line in this many of the requests answered below 500 gives its
/// upstream timings to [`super::timing`] (the full parse of every line
/// doubled the time of formats that log upstream times).
pub const TIMING_SAMPLE: u64 = 16;

/// The hot loop: one chunk of an access log.
fn parse_access_chunk(chunk: &[u8], ctx: &Ctx<'_>, ndjson: bool) -> (Agg, Collect, u64) {
    let mut agg = Agg::new();
    let mut events = Collect::new(ctx.opts, ctx.display, None).with_ndjson(ndjson);
    let n = parse_access_into(&mut agg, &mut events, chunk, ctx);
    (agg, events, n)
}

/// [`parse_access_chunk`] into an aggregate and events that may hold
/// earlier chunks' (whole small files read by one task, in input order:
/// the same as each file's own aggregate merged in that order); returns
/// the chunk's line count.
fn parse_access_into(agg: &mut Agg, events: &mut Collect, chunk: &[u8], ctx: &Ctx<'_>) -> u64 {
    // Docker json-file: the chunk's entries decoded at once; Docker and
    // CRI: a line cut at 16 KiB joined again; line numbers kept
    // (`wrap::docker_chunk`, `wrap::cri_chunk`)
    let decoded: std::borrow::Cow<'_, [u8]>;
    let (chunk, wrap) = match ctx.wrap {
        Wrap::Docker => {
            decoded = crate::logs::wrap::docker_chunk(chunk).into();
            (&decoded[..], Wrap::None)
        }
        Wrap::Cri => {
            decoded = crate::logs::wrap::cri_chunk(chunk);
            (&decoded[..], Wrap::Cri)
        }
        w => (chunk, w),
    };
    let mut cache = TimeCache::default();
    let mut n = 0u64;
    let mut run = MinuteRun::default();
    let (since, until) = (ctx.opts.since_ms, ctx.opts.until_ms);
    let mut buf = Vec::new();
    let timing = ctx.fmt.has_upstream_timing();
    // every answered line is read in full for its head size: only formats
    // that log the byte counts pay for it
    let heads = ctx.fmt.has_upstream_bytes();
    agg.header_sizes.logged |= heads;
    let mut ok_lines = 0u64;
    // the 502s' path patterns are built here, not allocated per request
    let mut pattern = String::new();
    // each 5xx line's attempts, zipped once (for the timings and the
    // classification) into one reused buffer
    let mut attempts = Vec::new();
    // responses cut after their header are looked for only when the error
    // logs hold a line of the body phase (cut.rs)
    let cut_probe = !ctx.index.body_secs.is_empty();
    // (the newline searcher made once per chunk: `scan::lines`)
    for raw in crate::logs::scan::lines(chunk) {
        n += 1;
        if raw.is_empty() || raw == b"\r" {
            continue;
        }
        // plain lines (the common case) without a call per line
        let peeled = match wrap {
            Wrap::None => Some(raw.strip_suffix(b"\r").unwrap_or(raw)),
            w => w.peel(raw, &mut buf),
        };
        let Some(line) = peeled else {
            agg.lines += 1;
            agg.malformed += 1;
            if agg.malformed_samples.len() < stats::MALFORMED_SAMPLES {
                let why = format!("not a {} line", wrap.name());
                agg.malformed_samples
                    .push(sample(ctx.display, n, &why, raw));
            }
            continue;
        };
        if ctx.mixed && nginx_error::looks_like(line) {
            continue;
        }
        agg.lines += 1;
        // the summary fills `rec` in place; the few lines that need every
        // field are finished from where it stopped (`complete`)
        let mut rec = Record::default();
        let at = match ctx.fmt.parse_summary(line, &mut rec, &mut cache) {
            Ok(at) => at,
            Err(_) if startup_message(line) => {
                // not malformed: the image's own output, counted apart
                agg.startup_lines += 1;
                if agg.startup_first.is_none() {
                    agg.startup_first = Some(sample(
                        ctx.display,
                        n,
                        "a start-up message of the nginx image's docker-entrypoint.sh",
                        line,
                    ));
                }
                continue;
            }
            Err(e) => {
                agg.malformed += 1;
                if agg.malformed_samples.len() < stats::MALFORMED_SAMPLES {
                    agg.malformed_samples
                        .push(sample(ctx.display, n, e.describe(), line));
                }
                continue;
            }
        };
        let status = rec.status.unwrap_or(0);
        if let Some(t) = rec.time {
            if since.is_some_and(|s| t.utc_ms < s) || until.is_some_and(|u| t.utc_ms >= u) {
                agg.filtered += 1;
                continue;
            }
            agg.see_time(t);
            run.enter(&mut agg.minutes, t.utc_ms);
            run.cur.requests += 1;
        }
        agg.requests += 1;
        agg.status[status as usize] += 1;
        if status >= 500 || crate::logs::record::any_5xx(rec.upstream.status) {
            let (summary_time, summary_status) = (rec.time, rec.status);
            if ctx.fmt.complete(line, &mut rec, at, &mut cache).is_err() {
                rec = Record {
                    time: summary_time,
                    status: summary_status,
                    ..Record::default()
                };
            }
            let full = &rec;
            full.upstream.attempts_into(&mut attempts);
            if timing {
                // (`see_fields` of the same variables counts the same)
                agg.timings
                    .see(&attempts, status, full.time.map(|t| t.utc_ms));
            }
            if heads {
                agg.header_sizes.see(&full.upstream);
            }
            let cause = slow_path(full, &attempts, n, ctx, agg, events, &mut pattern);
            if summary_time.is_some() {
                run.cur.see_error(status, cause);
            }
        } else {
            if cut_probe {
                if let Some(t) = rec.time {
                    super::cut::probe(line, &rec, at, &mut cache, t, n, ctx, &mut agg.cut);
                }
            }
            // every request a row (export), or the successes' timings to set
            // the 502s' against: one line in TIMING_SAMPLE pays for the
            // full parse (the quantiles are bucket bounds anyway)
            let sampled = timing && ok_lines % TIMING_SAMPLE == 0;
            ok_lines += 1;
            if sampled && !heads && !ctx.opts.all_requests {
                // only the upstream variables are wanted: read backward
                // from the end of the line (as the summary reads
                // `$upstream_status`), not through the request, referer
                // and user agent
                if ctx
                    .fmt
                    .complete_upstream(line, &mut rec, at, &mut cache)
                    .is_ok()
                {
                    agg.timings
                        .see_fields(&rec.upstream, status, rec.time.map(|t| t.utc_ms));
                }
            } else if (sampled || heads || ctx.opts.all_requests)
                && ctx.fmt.complete(line, &mut rec, at, &mut cache).is_ok()
            {
                let full = &rec;
                if heads {
                    agg.header_sizes.see(&full.upstream);
                }
                if sampled {
                    agg.timings
                        .see_fields(&full.upstream, status, full.time.map(|t| t.utc_ms));
                }
                if ctx.opts.all_requests {
                    match &mut *events {
                        Collect::Rows(r) => r.nginx(full, n, ctx.fmt.escape),
                        c => c.push(plain_event(full, n, ctx)),
                    }
                }
            }
        }
    }
    run.finish(&mut agg.minutes);
    agg.timings.flush();
    n
}

/// A path with its query dropped and id-like segments (a run of 3+ digits,
/// or 16+ hex characters) replaced by `{id}`, so `/api/orders/SO-12345` and
/// `/api/orders/SO-12346` count as one path.
pub fn path_pattern(path: &str) -> String {
    let mut out = String::new();
    path_pattern_into(path, &mut out);
    out
}

/// [`path_pattern`] into `out` (cleared first), so that a caller counting
/// patterns reuses one buffer instead of allocating per request.
pub fn path_pattern_into(path: &str, out: &mut String) {
    use crate::logs::scan::find_byte;
    out.clear();
    // bytes, not `str::split`: `?` and `/` are ASCII, so they never occur
    // inside a multi-byte character and every cut is a character boundary
    let p = &path[..find_byte(path.as_bytes(), b'?').unwrap_or(path.len())];
    let id_like = |seg: &[u8]| {
        let mut run = 0;
        for &c in seg {
            run = if c.is_ascii_digit() { run + 1 } else { 0 };
            if run >= 3 {
                return true;
            }
        }
        seg.len() >= 16 && seg.iter().all(|c| c.is_ascii_hexdigit() || *c == b'-')
    };
    let mut at = 0;
    loop {
        let end = find_byte(&p.as_bytes()[at..], b'/').map_or(p.len(), |i| at + i);
        let seg = &p[at..end];
        out.push_str(if id_like(seg.as_bytes()) { "{id}" } else { seg });
        if end == p.len() {
            return;
        }
        out.push('/');
        at = end + 1;
    }
}

/// Count `key`, allocating only the first time it is seen.
fn bump(map: &mut stats::HashMap<String, u64>, key: &str) {
    match map.get_mut(key) {
        Some(c) => *c += 1,
        None => {
            map.insert(key.to_string(), 1);
        }
    }
}

fn cause_map(agg: &mut Agg, status: u16, rescued: bool, replaced: bool) -> &mut stats::ByCause {
    if replaced {
        // the client did not get the failed attempt's 5xx (cause::replaced)
        &mut agg.causes_replaced
    } else if rescued {
        &mut agg.causes_rescued
    } else {
        match status {
            502 => &mut agg.causes_502,
            504 => &mut agg.causes_504,
            _ => &mut agg.causes_other_5xx,
        }
    }
}

/// The 5xx access lines of `data` (at most `max` in `out`), for
/// [`join::ErrorIndex::guess_offset`].
pub(super) fn offset_probes(
    data: &[u8],
    fmt: &LogFormat,
    wrap: Wrap,
    mixed: bool,
    max: usize,
    out: &mut Vec<join::OffsetProbe>,
) {
    let mut cache = TimeCache::default();
    let mut buf = Vec::new();
    for raw in lines(data) {
        if out.len() >= max {
            return;
        }
        let Some(line) = wrap.peel(raw, &mut buf) else {
            continue;
        };
        if mixed && nginx_error::looks_like(line) {
            continue;
        }
        // the cheap summary first: only 5xx lines get the full parse
        let mut rec = Record::default();
        let Ok(at) = fmt.parse_summary(line, &mut rec, &mut cache) else {
            continue;
        };
        if rec.status.is_none_or(|s| s < 500) && !crate::logs::record::any_5xx(rec.upstream.status)
        {
            continue;
        }
        if fmt.complete(line, &mut rec, at, &mut cache).is_err() {
            continue;
        }
        rec.split_request();
        let (Some(t), Some(client), Some(request)) = (
            rec.time,
            rec.client.map(|c| nginx::unescape(c, fmt.escape)),
            join::request_text(&rec, fmt.escape),
        ) else {
            continue;
        };
        out.push(join::OffsetProbe {
            utc_secs: t.secs(),
            own_offset_s: t.offset_s,
            request_time_ms: rec.request_time_ms(),
            client,
            request,
            sans_query: fmt.path_without_query(),
        });
    }
}

/// A request that is neither a 5xx nor rescued, for `opts.all_requests`
/// (`gatecheck export`): its fields, no cause.
fn plain_event(rec: &Record<'_>, n: u64, ctx: &Ctx<'_>) -> Event {
    let mut rec = *rec;
    rec.split_request();
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
        request_time_ms: rec.request_time_ms().map(i64::from),
        upstream: rec.upstream.attempts(),
        hop: None,
        blamed: None,
    };
    Event::unclassified(u, |b| nginx::unescape(b, ctx.fmt.escape))
}

/// A 5xx or rescued request: zip the attempts, join the error log, classify,
/// count. Runs for a small fraction of lines, so it may allocate.
fn slow_path(
    rec: &Record<'_>,
    attempts: &[crate::logs::record::Attempt],
    n: u64,
    ctx: &Ctx<'_>,
    agg: &mut Agg,
    events: &mut Collect,
    pattern: &mut String,
) -> Cause {
    let mut rec = *rec;
    rec.split_request();
    let status = rec.status.unwrap_or(0);
    let esc = ctx.fmt.escape;
    let text = |v: Option<&[u8]>| v.map(|b| nginx::unescape(b, esc));
    // the same text, borrowed from the line when it needs no decoding
    // (almost always): no allocation per 5xx for the client, path and host
    fn borrowed(v: Option<&[u8]>, esc: nginx::Escape) -> Option<Cow<'_, str>> {
        v.map(|b| event_json::text(b, esc))
    }
    let join = ctx.has_error_log;
    let client = if join || ctx.opts.keep_events {
        borrowed(rec.client, esc)
    } else {
        None
    };
    let request = if !join {
        None
    } else {
        join::request_text(&rec, esc)
    };
    let local_secs = rec.time.map(|t| join::error_log_secs(t, ctx.opts));
    let errors: Vec<&ErrorLine> = match local_secs {
        Some(ls) if ctx.has_error_log => ctx.index.find(&join::Probe {
            local_secs: ls,
            request_time_ms: rec.request_time_ms(),
            client: client.as_deref(),
            request: request.as_deref(),
            connection: rec.connection,
            sans_query: ctx.fmt.path_without_query(),
            any_client: ctx.opts.join_any_client,
        }),
        _ => Vec::new(),
    };
    let refs: Vec<ErrorRef<'_>> = errors
        .iter()
        .map(|e| ErrorRef {
            line: e,
            file: ctx
                .names
                .get(e.file as usize)
                .map(|s| s.as_str())
                .unwrap_or("error.log"),
        })
        .collect();
    let caps = Capabilities {
        upstream_status: ctx.fmt.has_upstream_status(),
        header_time: ctx.fmt.has_upstream_header_time(),
        connect_time: ctx.fmt.has_upstream_connect_time(),
        error_log: ctx.has_error_log && local_secs.is_some_and(|s| ctx.index.covers(s)),
        error_log_given: ctx.has_error_log,
        unreadable_inputs: ctx.unreadable_inputs,
        error_log_records_upstream_errors: ctx.index.records_error_level,
        joined_without_client: rec.connection.is_none()
            && (ctx.opts.join_any_client || client.is_none()),
    };
    let keepalive = |addr: &str| ctx.config.map(|c| c.keepalive_of(addr)).unwrap_or_default();
    // events written as NDJSON get their evidence written as the event's
    // JSON at once (no string per line, `evidence.rs`); kept events get it
    // as lines; else only the cause is wanted
    let mut ev_json = match (ctx.opts.keep_events, events.ndjson()) {
        (true, Some(b)) => Some(b.evidence_buf()),
        _ => None,
    };
    let mut verdict = {
        let mut ev = match &mut ev_json {
            Some(buf) => Evidence::json(buf),
            None if ctx.opts.keep_events => Evidence::on(),
            None => Evidence::off(),
        };
        let cause = cause::classify_into(status, attempts, &refs, caps, &keepalive, &mut ev);
        Verdict {
            cause,
            evidence: ev.into_lines(),
        }
    };
    // whether `verdict.evidence` holds the lines (for the cause's example)
    let mut has_lines = ctx.opts.keep_events && ev_json.is_none();
    let rescued = status < 500;
    // a 5xx the client did not get at all: not a retry's rescue (a 5xx
    // that became another 5xx stays with its status, its evidence says so)
    let replaced = rescued && cause::replaced(status, attempts).is_some();
    // the attempt that failed last, and its address (else the error line's)
    let failed_attempt = attempts
        .iter()
        .rev()
        .find(|a| a.status.is_some_and(|s| s >= 500));
    let failed_addr = failed_attempt
        .map(|a| a.addr.as_str())
        .filter(|a| !a.is_empty())
        .or_else(|| errors.last().and_then(|e| e.upstream.as_deref()));
    let route = ctx.config.map(|cfg| {
        // the server/location that served it, for the settings in effect
        let host = borrowed(rec.host, esc).filter(|h| h != "-").or_else(|| {
            errors
                .last()
                .and_then(|e| e.host.as_deref().map(Cow::Borrowed))
        });
        cfg.route_key(
            host.as_deref(),
            rec.path.map(|p| event_json::text(p, esc)).as_deref(),
            failed_addr,
        )
    });
    // no upstream tried, and the location that served it answers this
    // status by `return`: the config made it (cause::config_returned)
    if let (Some(cfg), Some(key), true) = (ctx.config, &route, attempts.is_empty()) {
        if let Some(at) = cfg.returned(key, status) {
            verdict = cause::config_returned(status, &at);
            has_lines = true;
            if let Some(buf) = &mut ev_json {
                buf.clear();
                cause::config_returned_into(status, &at, &mut Evidence::json(buf));
            }
        }
    }
    let needs_example = {
        let map = cause_map(agg, status, rescued, replaced);
        map.get(&verdict.cause).is_none_or(|s| s.example.is_none())
    };
    if needs_example && !has_lines {
        verdict = cause::classify_with(status, attempts, &refs, caps, &keepalive, true);
    }
    let mut path = borrowed(rec.path, esc);
    let example = || Example {
        file: ctx.display.to_string(),
        line: n,
        file_index: ctx.file,
        request: format!(
            "{} {} → {}",
            text(rec.method).unwrap_or_else(|| "-".into()),
            path.as_deref().unwrap_or("-"),
            status
        ),
        evidence: verdict.evidence.clone(),
    };
    let st: &mut CauseStat = cause_map(agg, status, rescued, replaced)
        .entry(verdict.cause)
        .or_default();
    st.count += 1;
    if let Some(key) = &route {
        if let Some(a) = failed_addr {
            bump(&mut st.addrs, a);
        }
        bump(&mut st.routes, key);
        let mut tried: Vec<&str> = attempts
            .iter()
            .map(|a| a.addr.as_str())
            .filter(|a| !a.is_empty())
            .collect();
        tried.sort_unstable();
        tried.dedup();
        for a in tried {
            bump(&mut st.tried, a);
        }
    }
    // retries: more than one server tried within one upstream group (a
    // ` : ` group is an internal redirect, not a retry)
    if ctx.fmt.has_upstream_status() && !attempts.is_empty() {
        let most = attempts
            .chunk_by(|a, b| a.group == b.group)
            .map(|g| g.len() as u64)
            .max()
            .unwrap_or(0);
        st.attempts_logged += 1;
        st.retried += u64::from(most > 1);
        st.max_attempts = st.max_attempts.max(most);
    }
    // bounded (100 ms steps of at most the proxy timeouts): kept for the verdict
    if let Some((secs, a)) = failed_attempt.and_then(|a| Some((a.response_time?, a))) {
        let step = ((secs * 1000.0) as u64 + 50) / 100;
        *st.durations.entry(step).or_default() += 1;
        if let Some(key) = &route {
            // a logged connect time means the connect timer did not fire
            let phase = match (ctx.fmt.has_upstream_connect_time(), a.connect_time) {
                (false, _) => 0,
                (true, None) => 1,
                (true, Some(_)) => 2,
            };
            let k = step.saturating_mul(4).saturating_add(phase);
            bump(&mut st.timed, &format!("{k}@{key}"));
        }
    }
    if st.example.is_none() {
        st.example = Some(example());
    }
    if status == 502 {
        if let Some(t) = rec.time {
            agg.see_502(t);
        }
        match failed_addr {
            Some(a) => bump(&mut agg.upstreams, a),
            None => agg.no_upstream_502.bump("nginx"),
        }
        let host = borrowed(rec.host, esc).filter(|h| h != "-").or_else(|| {
            errors
                .last()
                .and_then(|e| e.host.as_deref().map(Cow::Borrowed))
        });
        match host {
            Some(h) => bump(&mut agg.hosts, &h),
            None => agg.no_host_502.bump("nginx"),
        }
        match &path {
            Some(p) => {
                path_pattern_into(p, pattern);
                bump(&mut agg.paths, pattern);
            }
            None => agg.no_path_502.bump("nginx"),
        }
    }
    if status >= 500 {
        let seen = Seen {
            hop: "nginx",
            kind: crate::logs::hop::HopKind::Proxy,
            file: ctx.file,
            line: n,
            time_ms: rec.time.map(|t| t.utc_ms),
            duration_ms: rec.request_time_ms().map(i64::from),
            status,
            cause: verdict.cause,
        };
        agg.join.see(&seen, || text(rec.request_id));
        // the records themselves only for the cross-hop join (`born_tally`)
        if ctx.join_records {
            // one copy per chunk of each method and next hop (they repeat)
            let method = borrowed(rec.method, esc).map(|m| agg.join.shared(&m));
            let upstream = borrowed(rec.upstream.addr, esc).map(|u| agg.join.shared(&u));
            // the event, when there is one, needs the path too; else it is moved
            let path = if ctx.opts.keep_events {
                path.clone()
            } else {
                path.take()
            };
            let request_id = text(rec.request_id).map(Into::into);
            let r =
                super::born::JoinRec::of(&seen, method, path.map(Into::into), request_id, upstream);
            agg.join.keep(r);
        }
    }
    if let (true, Some(b)) = (ctx.opts.keep_events, events.ndjson()) {
        // written straight from the line: no `Event` of owned strings
        let t = |v| Option::map(v, |b| event_json::text(b, esc));
        let (method, host, request_id) = (t(rec.method), t(rec.host), t(rec.request_id));
        let e = EventRef {
            file: ctx.display,
            time: rec.time.map_or(TimeField::None, TimeField::At),
            client: client.as_deref(),
            method: method.as_deref(),
            host: host.as_deref(),
            path: path.as_deref(),
            status,
            request_time: rec.request_time_ms().map(|ms| ms as f64 / 1000.0),
            upstream: attempts,
            cause: verdict.cause,
            evidence: match &ev_json {
                Some(items) => EvidenceItems::Json(items),
                None => EvidenceItems::Lines(&verdict.evidence),
            },
            rescued,
            request_id: request_id.as_deref(),
            hop: None,
        };
        b.push(&e, n);
        if let Some(buf) = ev_json {
            b.give_back(buf);
        }
    } else if ctx.opts.keep_events {
        let blamed = failed_addr.map(String::from);
        events.push(Event {
            file: ctx.display.to_string(),
            line: n,
            time: rec.time.map(event::rfc3339),
            client: client.map(Cow::into_owned),
            method: text(rec.method),
            host: text(rec.host),
            path: path.map(Cow::into_owned),
            status,
            request_time: rec.request_time_ms().map(|ms| ms as f64 / 1000.0),
            upstream: attempts.to_vec(),
            cause: verdict.cause,
            evidence: verdict.evidence,
            rescued,
            request_id: text(rec.request_id),
            hop: None,
            at: rec.time,
            blamed,
        });
    }
    verdict.cause
}

/// A line the official nginx image's entrypoint writes to the container's
/// output before nginx starts (`/docker-entrypoint.sh: Launching …`, then
/// each script's `10-listen-on-ipv6-by-default.sh: info: …`), so `docker
/// logs` dumps start with them: counted as start-up messages and skipped,
/// not as malformed lines. Only the image's own scripts: their names and
/// the `$0: ` / `$ME: ` prefix of every message they log are those of
/// nginxinc/docker-nginx (`mainline/debian/docker-entrypoint.sh` and
/// `docker-entrypoint.d/`, the same in every variant); a user's own
/// `/docker-entrypoint.d/` script may write anything, and stays malformed.
fn startup_message(line: &[u8]) -> bool {
    const SCRIPTS: [&[u8]; 5] = [
        b"/docker-entrypoint.sh: ",
        b"10-listen-on-ipv6-by-default.sh: ",
        b"15-local-resolvers.envsh: ",
        b"20-envsubst-on-templates.sh: ",
        b"30-tune-worker-processes.sh: ",
    ];
    SCRIPTS.iter().any(|p| line.starts_with(p))
}

#[cfg(test)]
mod tests {
    use super::{path_pattern, startup_message};

    #[test]
    fn the_nginx_images_start_up_lines_are_told() {
        // as the official image's entrypoint writes them (docker-library/nginx)
        for l in [
            "/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, will attempt to perform configuration",
            "/docker-entrypoint.sh: Configuration complete; ready for start up",
            "10-listen-on-ipv6-by-default.sh: info: Getting the checksum of /etc/nginx/conf.d/default.conf",
            "20-envsubst-on-templates.sh: Running envsubst on /etc/nginx/templates/default.conf.template",
            "30-tune-worker-processes.sh: error: can not modify /etc/nginx/nginx.conf (read-only file system?)",
        ] {
            assert!(startup_message(l.as_bytes()), "{l}");
        }
        for l in [
            "127.0.0.1 - - [28/Nov/2026:14:04:58 +0000] \"GET / HTTP/1.1\" 502 157",
            "10-x: y",
            "run.sh: done",
            // a user's own script in /docker-entrypoint.d/
            "40-my-setup.sh: fetching secrets",
        ] {
            assert!(!startup_message(l.as_bytes()), "{l}");
        }
    }

    /// The pattern as it was made with `str::split` (the oracle).
    fn pattern_by_split(path: &str) -> String {
        let p = path.split('?').next().unwrap_or(path);
        let id_like = |seg: &str| {
            let mut run = 0;
            let mut max_run = 0;
            for c in seg.bytes() {
                run = if c.is_ascii_digit() { run + 1 } else { 0 };
                max_run = max_run.max(run);
            }
            max_run >= 3
                || (seg.len() >= 16 && seg.bytes().all(|c| c.is_ascii_hexdigit() || c == b'-'))
        };
        let segs: Vec<&str> = p
            .split('/')
            .map(|seg| if id_like(seg) { "{id}" } else { seg })
            .collect();
        segs.join("/")
    }

    proptest::proptest! {
        #[test]
        fn path_patterns_are_the_splits(path in "[/?a-f0-9é-]{0,40}") {
            let mut out = String::from("left over");
            super::path_pattern_into(&path, &mut out);
            proptest::prop_assert_eq!(out, pattern_by_split(&path));
        }
    }

    #[test]
    fn path_patterns() {
        assert_eq!(path_pattern("/api/orders/SO-12345?x=1"), "/api/orders/{id}");
        assert_eq!(path_pattern("/api/v1/users/69320"), "/api/v1/users/{id}");
        assert_eq!(
            path_pattern("/u/3f2b9c1e-8d7a-4c2e-9b1f-0a1b2c3d4e5f/x"),
            "/u/{id}/x"
        );
        assert_eq!(path_pattern("/static/app.js"), "/static/app.js");
        assert_eq!(path_pattern("/"), "/");
    }
}
