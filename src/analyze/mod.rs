//! Records → classified events → mergeable aggregates → [`Report`].
//!
//! The pipeline: discover inputs; open each (map or stream) and detect its
//! kind from its first lines; parse every error log into an [`join::ErrorIndex`];
//! then parse the access logs in parallel chunks, classify each 5xx request
//! against the index on the spot, and add everything into per-chunk
//! [`stats::Agg`]s that are merged at the end.

pub mod cause;
pub mod event;
pub mod incident;
pub mod join;
pub mod nginx_config;
pub mod report;
pub mod stats;

use std::sync::Arc;

use rayon::prelude::*;

use crate::error::Error;
use crate::input::{self, BlockReader, Bytes, Input, Opened, Problem};
use crate::logs::detect::{self, Kind};
use crate::logs::nginx::{self, LogFormat, TimeCache};
use crate::logs::nginx_error::{self, ErrorLine, Parsed};
use crate::logs::{lines, record::Record};
use cause::{Capabilities, Cause, ErrorRef};
use event::Event;
pub use report::Report;
use stats::{Agg, CauseStat, Example, Minute, Sample};

/// Bytes read from the start of a file to detect its kind.
const HEAD_BYTES: usize = 64 << 10;

/// Most events kept for `--events` (a run with more says so).
pub const MAX_EVENTS: usize = 5_000_000;

/// Progress callback: called with the number of bytes just processed.
pub type Progress = Arc<dyn Fn(u64) + Send + Sync>;

/// What to analyze and how.
#[derive(Clone, Default)]
pub struct Options {
    /// Access-log formats to try, most preferred first (`--log-format`, then
    /// the config's formats); the built-in ones are tried after these unless
    /// `only_given_formats` is set.
    pub formats: Vec<LogFormat>,
    /// Do not fall back to the built-in formats.
    pub only_given_formats: bool,
    /// Keep requests at or after this UTC epoch millisecond.
    pub since_ms: Option<i64>,
    /// Keep requests before this UTC epoch millisecond.
    pub until_ms: Option<i64>,
    /// UTC offset (seconds east) of error-log times; default: each access
    /// line's own offset.
    pub error_log_offset_s: Option<i32>,
    /// Keep every 5xx event (for `--events` / ndjson).
    pub keep_events: bool,
    /// Called as bytes are processed.
    pub progress: Option<Progress>,
    /// nginx configs read with `--config`: their log formats are tried first
    /// (the one whose `access_log` names a file, for that file), and their
    /// directives are cited in the report.
    pub config: Option<Arc<nginx_config::NginxConfig>>,
}

/// The result of [`analyze`].
pub struct Analysis {
    /// The report.
    pub report: Report,
    /// Every 5xx (and rescued) request, in file and line order, when asked for.
    pub events: Vec<Event>,
}

/// One input after opening and detection.
struct Loaded {
    index: u32,
    input: Input,
    data: Data,
    head: Vec<u8>,
    kind: Kind,
    reason: String,
}

enum Data {
    Whole(Bytes),
    Stream(BlockReader, Option<Vec<u8>>),
}

/// Total bytes of the inputs on disk (for a progress bar).
pub fn total_bytes(paths: &[String]) -> u64 {
    input::discover(paths).0.iter().map(|i| i.len).sum()
}

/// Analyze the logs at `paths`.
pub fn analyze(paths: &[String], opts: &Options) -> Result<Analysis, Error> {
    let (inputs, mut problems) = input::discover(paths);
    let mut loaded = Vec::new();
    for (i, inp) in inputs.into_iter().enumerate() {
        match open(i as u32, inp) {
            Ok(l) => loaded.push(l),
            Err((inp, msg)) => problems.push(Problem {
                path: inp.display,
                message: msg,
            }),
        }
    }

    // nginx configs inside the dump are read as if given with --config
    let builtin = nginx::builtin_formats();
    let found_configs: Vec<usize> = loaded
        .iter()
        .enumerate()
        .filter(|(_, l)| {
            matches!(detect::detect(&l.head, &builtin).kind, Kind::Unknown)
                && l.input.path.as_deref().is_some_and(|p| {
                    matches!(
                        crate::config::detect(p, &l.head),
                        Some((crate::config::model::ProxyKind::Nginx, _))
                    )
                })
        })
        .map(|(i, _)| i)
        .collect();
    let config: Option<Arc<nginx_config::NginxConfig>> =
        match (&opts.config, found_configs.is_empty()) {
            (Some(c), _) => Some(c.clone()),
            (None, false) => {
                let paths: Vec<std::path::PathBuf> = found_configs
                    .iter()
                    .filter_map(|&i| loaded[i].input.path.clone())
                    .collect();
                Some(Arc::new(nginx_config::read(&paths)))
            }
            (None, true) => None,
        };
    for &i in &found_configs {
        loaded[i].kind = Kind::Config;
        loaded[i].reason = if opts.config.is_some() {
            "nginx config (not a log; --config was given, so this one is not used)".into()
        } else {
            "nginx config: read for its log_format/access_log lines and the directives that explain causes".into()
        };
    }
    if let Some(cfg) = &config {
        problems.extend(cfg.problems.iter().map(|(at, msg)| Problem {
            path: at.clone(),
            message: format!("config: {msg}"),
        }));
    }
    let mut formats = opts.formats.clone();
    if let Some(cfg) = &config {
        formats.extend(cfg.formats.iter().cloned());
    }
    if !opts.only_given_formats {
        formats.extend(builtin);
    }
    for l in loaded
        .iter_mut()
        .filter(|l| !matches!(l.kind, Kind::Config))
    {
        let (kind, reason) = classify_input(l, &formats, config.as_deref());
        l.kind = kind;
        l.reason = reason;
    }

    // Error logs first: the access pass joins against them.
    let mut error_lines = Vec::new();
    let mut error_span: Option<(i64, i64)> = None;
    let mut error_files = Vec::new();
    let mut error_malformed = Vec::new();
    let mut inputs_out = Vec::new();
    let names: Vec<String> = loaded.iter().map(|l| l.input.display.clone()).collect();
    for l in loaded.iter_mut().filter(|l| matches!(l.kind, Kind::Error)) {
        let r = parse_error_log(l, opts, &mut problems);
        error_files.push(l.input.display.clone());
        if let Some((a, b)) = r.span {
            error_span = Some(error_span.map_or((a, b), |(x, y)| (x.min(a), y.max(b))));
        }
        inputs_out.push(report::InputSummary {
            path: l.input.display.clone(),
            kind: "nginx_error".into(),
            format: None,
            reason: l.reason.clone(),
            lines: r.lines,
            malformed: r.malformed,
            upstream_errors: r.lines_kept.len() as u64,
        });
        error_lines.extend(r.lines_kept);
        error_malformed.extend(r.samples);
    }
    let index = join::ErrorIndex::new(error_lines, error_span, names.clone());
    let has_error_log = !error_files.is_empty();

    let mut total = Agg::new();
    let mut events = Vec::new();
    for l in loaded.iter_mut() {
        match l.kind {
            Kind::Access(fi) => {
                let fmt = &formats[fi];
                let display = l.input.display.clone();
                let ctx = Ctx {
                    fmt,
                    config: config.as_deref(),
                    index: &index,
                    has_error_log,
                    opts,
                    file: l.index,
                    display: &display,
                    names: &names,
                };
                let (agg, evs) = parse_access_log(l, &ctx, &mut problems);
                inputs_out.push(report::InputSummary {
                    path: l.input.display.clone(),
                    kind: "nginx_access".into(),
                    format: Some(fmt.name.clone()),
                    reason: l.reason.clone(),
                    lines: agg.lines,
                    malformed: agg.malformed,
                    upstream_errors: 0,
                });
                total += agg;
                events.extend(evs);
            }
            Kind::Unknown => {
                inputs_out.push(report::InputSummary {
                    path: l.input.display.clone(),
                    kind: "unknown".into(),
                    format: None,
                    reason: l.reason.clone(),
                    lines: 0,
                    malformed: 0,
                    upstream_errors: 0,
                });
            }
            Kind::Config => inputs_out.push(report::InputSummary {
                path: l.input.display.clone(),
                kind: "nginx_config".into(),
                format: None,
                reason: l.reason.clone(),
                lines: 0,
                malformed: 0,
                upstream_errors: 0,
            }),
            Kind::Error => {}
        }
    }
    for s in error_malformed {
        if total.malformed_samples.len() < stats::MALFORMED_SAMPLES {
            total.malformed_samples.push(s);
        }
    }
    if events.len() > MAX_EVENTS {
        problems.push(Problem {
            path: "-".into(),
            message: format!(
                "{} events; only the first {MAX_EVENTS} are written",
                events.len()
            ),
        });
        events.truncate(MAX_EVENTS);
    }
    inputs_out.sort_by_key(|i| names.iter().position(|n| *n == i.path));
    let report = Report::build(total, inputs_out, problems, &index, config.as_deref());
    Ok(Analysis { report, events })
}

fn open(index: u32, input: Input) -> Result<Loaded, (Input, String)> {
    let opened = match input::open(&input) {
        Ok(o) => o,
        Err(e) => return Err((input, format!("cannot read: {e}"))),
    };
    let (data, head): (Data, Vec<u8>) = match opened {
        Opened::Whole(b) => {
            let head = b[..b.len().min(HEAD_BYTES)].to_vec();
            (Data::Whole(b), head)
        }
        Opened::Stream(r) => {
            let mut br = BlockReader::new(r);
            match br.next_block() {
                Ok(first) => {
                    let head = first
                        .as_deref()
                        .map(|f| f[..f.len().min(HEAD_BYTES)].to_vec())
                        .unwrap_or_default();
                    (Data::Stream(br, first), head)
                }
                Err(e) => return Err((input, format!("cannot decompress: {e}"))),
            }
        }
    };
    Ok(Loaded {
        index,
        input,
        data,
        head,
        kind: Kind::Unknown,
        reason: String::new(),
    })
}

/// What a file holds: the format its config `access_log` names (if its
/// lines match it), else the first format that parses its first lines.
fn classify_input(
    l: &Loaded,
    formats: &[LogFormat],
    config: Option<&nginx_config::NginxConfig>,
) -> (Kind, String) {
    let head = &l.head;
    let preferred = config
        .zip(l.input.path.as_deref())
        .and_then(|(c, p)| c.format_for(p))
        .and_then(|(name, why)| {
            formats
                .iter()
                .position(|f| f.name == name)
                .map(|i| (i, why))
        });
    let Some((i, why)) = preferred else {
        let d = detect::detect(head, formats);
        return (d.kind, d.reason);
    };
    let d = detect::detect(head, &formats[i..=i]);
    if let Kind::Access(_) = d.kind {
        return (Kind::Access(i), format!("{why}; {}", d.reason));
    }
    let d = detect::detect(head, formats);
    let reason = match d.kind {
        Kind::Error => d.reason,
        _ => format!(
            "{}; the config says {why}, but its lines do not match format {:?}",
            d.reason, formats[i].name
        ),
    };
    (d.kind, reason)
}

/// Run `f` over every chunk of a loaded input, in parallel for mapped files
/// and block by block for streams; returns results in order with each chunk's
/// line count, so line numbers can be made absolute.
fn for_chunks<T: Send>(
    l: &mut Loaded,
    opts: &Options,
    problems: &mut Vec<Problem>,
    f: &(dyn Fn(&[u8]) -> (T, u64) + Sync),
) -> Vec<(T, u64)> {
    let tick = |n: usize| {
        if let Some(p) = &opts.progress {
            p(n as u64)
        }
    };
    match &mut l.data {
        Data::Whole(b) => input::chunks(b, input::CHUNK_SIZE)
            .into_par_iter()
            .map(|c| {
                let r = f(c);
                tick(c.len());
                r
            })
            .collect(),
        Data::Stream(br, first) => {
            let mut out = Vec::new();
            let mut next = first.take();
            loop {
                let block = match next.take() {
                    Some(b) => b,
                    None => match br.next_block() {
                        Ok(Some(b)) => b,
                        Ok(None) => break,
                        Err(e) => {
                            let lines: u64 = out.iter().map(|(_, n)| *n).sum();
                            problems.push(Problem {
                                path: l.input.display.clone(),
                                message: format!(
                                    "read error after line {lines}: {e}; the {lines} lines before it were analyzed (a truncated or corrupt gzip file?)"
                                ),
                            });
                            break;
                        }
                    },
                };
                // parse this block's chunks in parallel
                let parts: Vec<(T, u64)> = input::chunks(&block, input::CHUNK_SIZE / 4)
                    .into_par_iter()
                    .map(f)
                    .collect();
                tick(block.len());
                out.extend(parts);
            }
            out
        }
    }
}

struct ErrorLogResult {
    lines_kept: Vec<ErrorLine>,
    span: Option<(i64, i64)>,
    lines: u64,
    malformed: u64,
    samples: Vec<Sample>,
}

fn parse_error_log(l: &mut Loaded, opts: &Options, problems: &mut Vec<Problem>) -> ErrorLogResult {
    let file = l.index;
    let display = l.input.display.clone();
    let parts = for_chunks(l, opts, problems, &|chunk| {
        let mut r = ErrorLogResult {
            lines_kept: Vec::new(),
            span: None,
            lines: 0,
            malformed: 0,
            samples: Vec::new(),
        };
        let mut n = 0u64;
        for line in lines(chunk) {
            n += 1;
            if line.iter().all(|c| c.is_ascii_whitespace()) {
                continue;
            }
            r.lines += 1;
            let t = if line.len() >= 19 {
                crate::logs::scan::parse_error_log_time(&line[..19])
            } else {
                None
            };
            if let Some(t) = t {
                r.span = Some(r.span.map_or((t, t), |(a, b)| (a.min(t), b.max(t))));
            }
            match nginx_error::parse(line, file, n) {
                Parsed::Upstream(e) => r.lines_kept.push(e),
                Parsed::Other => {}
                Parsed::Malformed => {
                    r.malformed += 1;
                    if r.samples.len() < stats::MALFORMED_SAMPLES {
                        r.samples
                            .push(sample(&display, n, "not an nginx error-log line", line));
                    }
                }
            }
        }
        (r, n)
    });
    let mut out = ErrorLogResult {
        lines_kept: Vec::new(),
        span: None,
        lines: 0,
        malformed: 0,
        samples: Vec::new(),
    };
    let mut base = 0;
    for (mut r, n) in parts {
        for e in &mut r.lines_kept {
            e.line += base;
        }
        for s in &mut r.samples {
            s.line += base;
        }
        base += n;
        out.lines_kept.extend(r.lines_kept);
        out.lines += r.lines;
        out.malformed += r.malformed;
        if let Some((a, b)) = r.span {
            out.span = Some(out.span.map_or((a, b), |(x, y)| (x.min(a), y.max(b))));
        }
        for s in r.samples {
            if out.samples.len() < stats::MALFORMED_SAMPLES {
                out.samples.push(s);
            }
        }
    }
    out
}

fn sample(file: &str, line: u64, reason: &str, text: &[u8]) -> Sample {
    let cut = &text[..text.len().min(stats::SAMPLE_CHARS)];
    let mut t = String::from_utf8_lossy(cut).into_owned();
    if text.len() > stats::SAMPLE_CHARS {
        t.push_str(&format!("… ({} bytes)", text.len()));
    }
    Sample {
        file: file.to_string(),
        line,
        reason: reason.to_string(),
        text: t,
    }
}

struct Ctx<'a> {
    fmt: &'a LogFormat,
    config: Option<&'a nginx_config::NginxConfig>,
    index: &'a join::ErrorIndex,
    has_error_log: bool,
    opts: &'a Options,
    file: u32,
    display: &'a str,
    names: &'a [String],
}

fn parse_access_log(
    l: &mut Loaded,
    ctx: &Ctx<'_>,
    problems: &mut Vec<Problem>,
) -> (Agg, Vec<Event>) {
    let parts = for_chunks(l, ctx.opts, problems, &|chunk| {
        let (agg, evs, n) = parse_access_chunk(chunk, ctx);
        ((agg, evs), n)
    });
    let mut total = Agg::new();
    let mut events = Vec::new();
    let mut base = 0u64;
    for ((mut agg, mut evs), n) in parts {
        shift_lines(&mut agg, &mut evs, base, ctx.file);
        base += n;
        total += agg;
        events.extend(evs);
    }
    (total, events)
}

/// Make chunk-relative line numbers absolute.
fn shift_lines(agg: &mut Agg, evs: &mut [Event], base: u64, file: u32) {
    for s in &mut agg.malformed_samples {
        s.line += base;
    }
    for e in evs.iter_mut() {
        e.line += base;
    }
    for m in [
        &mut agg.causes_502,
        &mut agg.causes_504,
        &mut agg.causes_other_5xx,
        &mut agg.causes_rescued,
    ] {
        for st in m.values_mut() {
            if let Some(ex) = &mut st.example {
                st.example_key = (file, st.example_key.1 + base);
                ex.source = format!(
                    "{}:{}",
                    ex.source.rsplit_once(':').map(|(f, _)| f).unwrap_or(""),
                    st.example_key.1
                );
            }
        }
    }
}

/// The hot loop: one chunk of an access log.
fn parse_access_chunk(chunk: &[u8], ctx: &Ctx<'_>) -> (Agg, Vec<Event>, u64) {
    let mut agg = Agg::new();
    let mut events = Vec::new();
    let mut cache = TimeCache::default();
    let mut n = 0u64;
    let mut cur_min = i64::MIN;
    let mut cur = Minute::default();
    let (since, until) = (ctx.opts.since_ms, ctx.opts.until_ms);
    for line in lines(chunk) {
        n += 1;
        if line.is_empty() || line == b"\r" {
            continue;
        }
        agg.lines += 1;
        let rec = match ctx.fmt.parse_summary(line, &mut cache) {
            Ok(r) => r,
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
            let m = t.utc_ms.div_euclid(60_000);
            if m != cur_min {
                if cur_min != i64::MIN {
                    *agg.minutes.entry(cur_min).or_default() += cur;
                }
                cur_min = m;
                cur = Minute::default();
            }
            cur.requests += 1;
        }
        agg.requests += 1;
        agg.status[status as usize] += 1;
        if status >= 500 || crate::logs::record::any_5xx(rec.upstream_status) {
            let full = ctx.fmt.parse(line, &mut cache).unwrap_or(Record {
                time: rec.time,
                status: rec.status,
                ..Record::default()
            });
            let cause = slow_path(&full, n, ctx, &mut agg, &mut events);
            if rec.time.is_some() {
                if status >= 500 {
                    cur.s5xx += 1;
                }
                if status == 502 {
                    cur.s502 += 1;
                    cur.by_cause[cause as usize] += 1;
                }
                if status == 504 {
                    cur.s504 += 1;
                }
            }
        }
    }
    if cur_min != i64::MIN {
        *agg.minutes.entry(cur_min).or_default() += cur;
    }
    (agg, events, n)
}

/// A path with its query dropped and id-like segments (a run of 3+ digits,
/// or 16+ hex characters) replaced by `{id}`, so `/api/orders/SO-12345` and
/// `/api/orders/SO-12346` count as one path.
pub fn path_pattern(path: &str) -> String {
    let p = path.split('?').next().unwrap_or(path);
    let id_like = |seg: &str| {
        let mut run = 0;
        let mut max_run = 0;
        for c in seg.chars() {
            run = if c.is_ascii_digit() { run + 1 } else { 0 };
            max_run = max_run.max(run);
        }
        max_run >= 3 || (seg.len() >= 16 && seg.chars().all(|c| c.is_ascii_hexdigit() || c == '-'))
    };
    p.split('/')
        .map(|seg| if id_like(seg) { "{id}" } else { seg })
        .collect::<Vec<_>>()
        .join("/")
}

/// Count `key`, allocating only the first time it is seen.
fn bump(map: &mut std::collections::HashMap<String, u64>, key: &str) {
    match map.get_mut(key) {
        Some(c) => *c += 1,
        None => {
            map.insert(key.to_string(), 1);
        }
    }
}

fn cause_map(agg: &mut Agg, status: u16, rescued: bool) -> &mut stats::ByCause {
    if rescued {
        &mut agg.causes_rescued
    } else {
        match status {
            502 => &mut agg.causes_502,
            504 => &mut agg.causes_504,
            _ => &mut agg.causes_other_5xx,
        }
    }
}

/// A 5xx or rescued request: zip the attempts, join the error log, classify,
/// count. Runs for a small fraction of lines, so it may allocate.
fn slow_path(
    rec: &Record<'_>,
    n: u64,
    ctx: &Ctx<'_>,
    agg: &mut Agg,
    events: &mut Vec<Event>,
) -> Cause {
    let mut rec = *rec;
    rec.split_request();
    let status = rec.status.unwrap_or(0);
    let esc = ctx.fmt.escape;
    let text = |v: Option<&[u8]>| v.map(|b| nginx::unescape(b, esc));
    let attempts = rec.upstream.attempts();
    let join = ctx.has_error_log;
    let client = if join || ctx.opts.keep_events {
        text(rec.client)
    } else {
        None
    };
    let request = if !join {
        None
    } else {
        text(rec.request).or_else(|| match (rec.method, rec.path, rec.protocol) {
            (Some(m), Some(p), Some(pr)) => Some(format!(
                "{} {} {}",
                nginx::unescape(m, esc),
                nginx::unescape(p, esc),
                nginx::unescape(pr, esc)
            )),
            _ => None,
        })
    };
    let local_secs = rec.time.map(|t| match ctx.opts.error_log_offset_s {
        Some(off) => t.secs() + off as i64,
        None => t.local_secs(),
    });
    let errors: Vec<&ErrorLine> = match local_secs {
        Some(ls) if ctx.has_error_log => ctx.index.find(&join::Probe {
            local_secs: ls,
            request_time_ms: rec.request_time_ms(),
            client: client.as_deref(),
            request: request.as_deref(),
            connection: rec.connection,
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
        upstream_addr: ctx.fmt.has_upstream_addr(),
        connect_time: ctx.fmt.has_upstream_connect_time(),
        error_log: ctx.has_error_log && local_secs.is_some_and(|s| ctx.index.covers(s)),
    };
    let mut verdict = cause::classify(status, &attempts, &refs, caps, ctx.opts.keep_events);
    let rescued = status < 500;
    let needs_example = {
        let map = cause_map(agg, status, rescued);
        map.get(&verdict.cause)
            .map_or(true, |s| s.example.is_none())
    };
    if needs_example && !ctx.opts.keep_events {
        verdict = cause::classify(status, &attempts, &refs, caps, true);
    }
    let path = text(rec.path);
    let example = || Example {
        source: format!("{}:{}", ctx.display, n),
        request: format!(
            "{} {} → {}",
            text(rec.method).unwrap_or_else(|| "-".into()),
            path.clone().unwrap_or_else(|| "-".into()),
            status
        ),
        evidence: verdict.evidence.clone(),
    };
    let st: &mut CauseStat = cause_map(agg, status, rescued)
        .entry(verdict.cause)
        .or_default();
    st.count += 1;
    let failed_attempt = attempts
        .iter()
        .rev()
        .find(|a| a.status.is_some_and(|s| s >= 500));
    if ctx.config.is_some() {
        let addr = failed_attempt
            .map(|a| a.addr.clone())
            .filter(|a| !a.is_empty())
            .or_else(|| errors.last().and_then(|e| e.upstream.clone()));
        if let Some(a) = addr {
            bump(&mut st.addrs, &a);
        }
        if let Some(secs) = failed_attempt.and_then(|a| a.response_time) {
            *st.durations
                .entry(((secs * 1000.0) as u64 + 50) / 100)
                .or_default() += 1;
        }
    }
    if st.example.is_none() {
        st.example = Some(example());
        st.example_key = (ctx.file, n);
    }
    if status == 502 {
        if let Some(t) = rec.time {
            agg.see_502(t);
        }
        let failed = attempts
            .iter()
            .rev()
            .find(|a| a.status.is_some_and(|s| s >= 500));
        if let Some(a) = failed.filter(|a| !a.addr.is_empty()) {
            bump(&mut agg.upstreams, &a.addr);
        } else if let Some(u) = errors.last().and_then(|e| e.upstream.clone()) {
            bump(&mut agg.upstreams, &u);
        }
        let host = text(rec.host).or_else(|| errors.last().and_then(|e| e.host.clone()));
        if let Some(h) = host {
            bump(&mut agg.hosts, &h);
        }
        if let Some(p) = &path {
            bump(&mut agg.paths, &path_pattern(p));
        }
    }
    if ctx.opts.keep_events {
        events.push(Event {
            file: ctx.display.to_string(),
            line: n,
            time: rec.time.map(event::rfc3339),
            client,
            method: text(rec.method),
            host: text(rec.host),
            path,
            status,
            request_time: rec.request_time_ms().map(|ms| ms as f64 / 1000.0),
            upstream: attempts,
            cause: verdict.cause,
            evidence: verdict.evidence,
            rescued,
            request_id: text(rec.request_id),
            at: rec.time,
        });
    }
    verdict.cause
}

#[cfg(test)]
mod tests {
    use super::path_pattern;

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
