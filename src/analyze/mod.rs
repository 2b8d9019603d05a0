//! Records → classified events → mergeable aggregates → [`Report`].
//!
//! The pipeline, one stage per module:
//! 1. **plan** (`plan.rs`): discover inputs, open each (map or stream),
//!    read the configs in the dump and decide each file's [`InputKind`]
//!    from its first lines (nginx formats, then the hop formats of
//!    `logs::formats`);
//! 2. **error-log pass** (`errors.rs`): every nginx error log into a
//!    [`join::ErrorIndex`];
//! 3. **access-log pass** (`access.rs`): the nginx access logs in parallel
//!    chunks, each 5xx classified against the index on the spot, into
//!    per-chunk [`stats::Agg`]s merged at the end;
//! 4. **report** (`report.rs`).

mod access;
pub mod attribute;
pub mod born;
pub mod born_tally;
pub mod cause;
mod copies;
pub mod coverage;
pub mod cut;
mod errors;
pub mod event;
pub mod event_json;
pub mod evidence;
pub mod given_formats;
pub mod header_sizes;
pub mod hop_attempt;
pub mod hop_cause;
pub mod hop_order;
pub mod hops;
pub mod incident;
mod inputs;
pub mod join;
pub mod kind;
pub mod ladder;
pub mod nginx_config;
mod plan;
pub mod report;
pub mod rows;
mod schedule;
pub mod stats;
pub mod timing;
pub mod timing_gaps;
pub mod timing_report;
pub mod verdict;

use std::sync::Arc;

use crate::error::Error;
use crate::input;
use crate::logs::nginx::LogFormat;
use event::Event;
pub use kind::InputKind;
pub use report::Report;

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
    /// The zone of error-log times (`--error-log-tz Europe/Berlin`): each
    /// time is read at the zone's offset of its moment, daylight saving
    /// time included; wins over `error_log_offset_s`.
    pub error_log_zone: Option<jiff::tz::TimeZone>,
    /// The error log's clock changed offset (daylight saving time) at this
    /// UTC second, to this offset: found by the join, never given.
    pub error_log_offset_change: Option<join::OffsetChange>,
    /// Join access lines to error lines by request line and time alone: no
    /// 5xx access line matched with its client, and enough did without
    /// (found by the join, never given; see `error_log_offset`).
    pub join_any_client: bool,
    /// Keep every 5xx event (for `--events` / ndjson).
    pub keep_events: bool,
    /// With `keep_events`, also hand out an event for every other request
    /// (cause [`cause::Cause::Unknown`], no evidence: see
    /// [`Event::classified`]), for `gatecheck export`.
    pub all_requests: bool,
    /// Called as bytes are processed.
    pub progress: Option<Progress>,
    /// With `keep_events`, build rows on the workers instead of events
    /// ([`analyze_rows`], `gatecheck export`).
    pub rows: Option<Arc<dyn rows::RowsFactory>>,
    /// `--format-of GLOB=NAME`: files whose path matches GLOB are read as
    /// NAME (a hop format such as `haproxy`, `nginx_error`, or an nginx
    /// log_format name), whatever detection would say. First match wins.
    pub format_of: Vec<(String, String)>,
    /// Config files given with `--config`, for the hop formats that read
    /// theirs (HAProxy `log-format`).
    pub config_paths: Vec<std::path::PathBuf>,
    /// nginx configs read with `--config`: their log formats are tried first
    /// (the one whose `access_log` names a file, for that file), and their
    /// directives are cited in the report.
    pub config: Option<Arc<nginx_config::NginxConfig>>,
    /// HAProxy / Envoy configs read with `--config`: their settings are
    /// cited under each hop's causes.
    pub proxy_configs: Option<Arc<attribute::ProxyConfigs>>,
    /// Hop log formats given by the user (`--log-format envoy=…`,
    /// `haproxy=…`): tried before the built-in formats of that proxy.
    pub hop_log_formats: Vec<given_formats::GivenFormat>,
    /// `--hop-timeout NAME=DURATION`: wait limits of hops whose config is
    /// not in the dump, for the timeout ladder.
    pub hop_timeouts: Vec<ladder::HopTimeout>,
}

/// The result of [`analyze`].
pub struct Analysis {
    /// The report.
    pub report: Report,
    /// Every 5xx (and rescued) request, in file and line order, when asked for.
    pub events: Vec<Event>,
}

/// Total bytes of the inputs on disk (for a progress bar).
pub fn total_bytes(paths: &[String]) -> u64 {
    input::discover(paths).inputs.iter().map(|i| i.len).sum()
}

/// What `gatecheck formats` prints: each input with the kind and format it
/// was detected (or forced) as, and why; the problems met opening them.
pub fn detect_formats(
    paths: &[String],
    opts: &Options,
) -> (Vec<report::InputSummary>, Vec<input::Problem>) {
    let plan = plan::plan(paths, opts);
    let out = plan
        .loaded
        .iter()
        .map(|l| {
            // as the analyze pass labels it: an HAProxy/Envoy config is not nginx's
            let kind = match l.config_of {
                Some(k) => InputKind::ProxyConfig(k),
                None => InputKind::from_detected(&l.kind),
            };
            let format = match &l.kind {
                crate::logs::detect::Kind::Access(i) => {
                    plan.formats.get(*i).map(|f| f.name.clone())
                }
                crate::logs::detect::Kind::Hop(i) => crate::logs::formats::hop_formats()
                    .get(*i)
                    .map(|f| f.name().to_string()),
                _ => None,
            };
            report::InputSummary::new(
                l.input.display.clone(),
                kind,
                format,
                l.reason.clone(),
                0,
                0,
                0,
            )
        })
        .collect();
    (out, plan.problems)
}

/// Analyze the logs at `paths`; with `opts.keep_events`, every 5xx (and
/// rescued) request is collected in [`Analysis::events`]. For large inputs
/// prefer [`analyze_streaming`], which hands events out as it goes.
pub fn analyze(paths: &[String], opts: &Options) -> Result<Analysis, Error> {
    let mut events = Vec::new();
    let report = analyze_streaming(paths, opts, &mut |evs| events.extend(evs))?;
    Ok(Analysis { report, events })
}

/// Analyze the logs at `paths`, handing the events (with
/// `opts.keep_events`) to `on_events` in file and line order as they are
/// made, so memory stays bounded however many there are.
pub fn analyze_streaming(
    paths: &[String],
    opts: &Options,
    on_events: &mut dyn FnMut(Vec<Event>),
) -> Result<Report, Error> {
    run(paths, opts, &mut event::EventSink::List(on_events))
}

/// Analyze the logs at `paths`, writing the events (with
/// `opts.keep_events`) to `out` as ndjson (one JSON object a line, as
/// `serde_json` writes an [`Event`]) in file and line order. They are
/// serialized on the worker threads; this thread only writes. The first
/// write error stops the writing (not the analysis) and is returned
/// beside the report.
pub fn analyze_ndjson(
    paths: &[String],
    opts: &Options,
    out: &mut dyn std::io::Write,
) -> Result<(Report, std::io::Result<()>), Error> {
    let mut failed: std::io::Result<()> = Ok(());
    // the batches gathered and written a MiB at a time (`NdjsonBatch::append_to`)
    let mut pending: Vec<u8> = Vec::new();
    let mut write = |b: &event::NdjsonBatch, base: u64| {
        if failed.is_ok() {
            b.append_to(base, &mut pending);
            if pending.len() >= EVENTS_WRITE {
                failed = out.write_all(&pending);
                pending.clear();
            }
        }
    };
    let report = run(paths, opts, &mut event::EventSink::Ndjson(&mut write))?;
    if failed.is_ok() && !pending.is_empty() {
        failed = out.write_all(&pending);
    }
    Ok((report, failed))
}

/// [`analyze_ndjson`] writes the events in pieces of at least this many
/// bytes (but the last): large writes, one copy on the writing thread.
const EVENTS_WRITE: usize = 1 << 20;

/// Analyze the logs at `paths`, the rows of each chunk (built on the
/// workers by `opts.rows`, which must be set) to `on_rows` in file and
/// chunk order, with the lines of the chunk's file before it.
pub fn analyze_rows(
    paths: &[String],
    opts: &Options,
    on_rows: &mut dyn FnMut(crate::analyze::rows::FinishedRows, u64),
) -> Result<Report, Error> {
    run(paths, opts, &mut event::EventSink::Rows(on_rows))
}

/// The stages, events to `on_events`.
fn run(
    paths: &[String],
    opts: &Options,
    on_events: &mut event::EventSink<'_>,
) -> Result<Report, Error> {
    // plan → error-log pass → access-log pass → report
    let mut plan = plan::plan(paths, opts);
    // access logs of the same requests (one nginx, two access_log lines)
    let copies = copies::decide(&plan.loaded, &plan.formats);
    plan.set_aside = copies.set_aside;
    let errors = errors::error_pass(&mut plan, opts);
    let (opts, offset_notes) = error_log_offset(&plan, &errors.index, opts);
    // said first: they change what every count means
    let mut notes = copies.notes;
    notes.extend(offset_notes);
    let opts = &opts;
    let mut inputs_out = errors.inputs;
    let mut total = access::access_pass(&mut plan, &errors.index, opts, &mut inputs_out, on_events);
    for (path, n) in &errors.mixed {
        if let Some(i) = inputs_out.iter_mut().find(|i| i.path == *path) {
            i.upstream_errors = *n;
        }
    }
    let mut hops = hops::hop_pass(&mut plan, opts, &mut inputs_out, on_events);
    // where each 502 was born: the 5xx records of every hop, joined
    let mut join = std::mem::take(&mut total.join);
    for h in &mut hops {
        join += std::mem::take(&mut h.share.agg.join);
    }
    let durations = ladder::Durations::from_tally(&join);
    let born = join.born(&plan.names, &hop_addrs(&plan));
    // the totals cover every access log of every hop (a request logged at
    // two hops counts at each); `hops[]` has each hop's own figures
    // (the top-upstreams table labels each key with its hop when several name them)
    let label = report::upstreams_need_labels(&total, &hops);
    if label {
        report::label_upstreams(&mut total.upstreams, "nginx");
    }
    for h in &hops {
        let mut a = h.share.agg.clone();
        if label {
            report::label_upstreams(&mut a.upstreams, h.name);
        }
        // the top-level timings are nginx's own: a hop's phases are other
        // timers (HAProxy's Tc/Tr, a CDN's origin latency) of other next
        // hops, and stay in its `hops[].timings`
        a.timings = timing::Timings::default();
        total += a;
    }
    for s in errors.samples {
        if total.malformed_samples.len() < stats::MALFORMED_SAMPLES {
            total.malformed_samples.push(s);
        }
    }
    // in input order: each name's first index, looked up (a search of the
    // names per comparison was quadratic: issue 9, thousands of files)
    let mut order: std::collections::HashMap<&str, usize> = Default::default();
    for (i, n) in plan.names.iter().enumerate() {
        order.entry(n.as_str()).or_insert(i);
    }
    inputs_out.sort_by_key(|i| order.get(i.path.as_str()).copied());
    let unsaid = inputs::say_duplicates(&mut inputs_out, &plan.duplicates);
    plan.problems.extend(unsaid);
    let mut report = Report::build(
        total,
        inputs_out,
        plan.problems,
        &errors.index,
        plan.config.as_deref(),
    )
    .with_hops(&hops)
    .with_born(born);
    if let Some(cfg) = &plan.proxy_configs {
        let only_hops = !report
            .inputs
            .iter()
            .any(|i| i.input_kind == kind::InputKind::NginxAccess);
        attribute::cite_hops(&mut report, &hops, cfg, only_hops);
    }
    let mut logged: Vec<(&'static str, crate::logs::hop::HopKind)> = Vec::new();
    if report
        .inputs
        .iter()
        .any(|i| i.input_kind == kind::InputKind::NginxAccess)
    {
        logged.push(("nginx", crate::logs::hop::HopKind::Proxy));
    }
    logged.extend(hops.iter().map(|h| (h.name, h.hop)));
    match ladder::build(&ladder::Inputs {
        born: report.born.as_ref(),
        logged,
        nginx: plan.config.as_deref(),
        proxies: plan.proxy_configs.as_deref(),
        given: &opts.hop_timeouts,
        durations: &durations,
    }) {
        Ok(l) => report.ladder = Some(l),
        // said only when asked for with --hop-timeout
        Err(why) if !opts.hop_timeouts.is_empty() => notes.push(why),
        Err(_) => {}
    }
    report.incomplete = incomplete(&report);
    if report.incomplete.is_some() && report.totals.requests > 0 {
        // the counts miss the inputs that could not be read
        report.verdict = format!("incomplete, from the logs read: {}", report.verdict);
    }
    // the report's own notes (start-up lines skipped) after the run's
    notes.append(&mut report.notes);
    report.notes = notes;
    Ok(report)
}

/// Where the proxies of the run listen, from every config read (nginx's
/// and the hops'), for the hop order.
fn hop_addrs(plan: &plan::Plan) -> hop_order::HopAddrs {
    let mut out = hop_order::HopAddrs::default();
    if let Some(cfg) = &plan.config {
        let at = |s: crate::source::Span| {
            let (line, _) = cfg.sources.line_col(s);
            format!("{}:{line}", cfg.sources.path(s.file).display())
        };
        for m in &cfg.models {
            out.add(m, &at);
        }
    }
    if let Some(cfg) = &plan.proxy_configs {
        for m in &cfg.models {
            out.add(m, &|s| cfg.at(s));
        }
    }
    out
}

/// How much of each access log is read to guess the error log's offset.
const OFFSET_PROBE_BYTES: usize = 16 << 20;
/// At most this many 5xx lines are tried for it.
const OFFSET_PROBES: usize = 2000;
/// A compressed access log whose start gives this many 5xx lines is judged
/// by its start alone (see [`error_log_offset`]).
const OFFSET_ENOUGH_FROM_START: usize = 200;

/// Error-log times have no zone: find the offset that lines them up with
/// the access logs when the access lines' own offset does not, and say so;
/// and (with `--error-log-tz` too) whether the access log's client is the
/// address the error log names at all ([`Options::join_any_client`]).
fn error_log_offset(
    plan: &plan::Plan,
    index: &join::ErrorIndex,
    opts: &Options,
) -> (Options, Vec<String>) {
    let mut notes = Vec::new();
    let mut run_opts = opts.clone();
    if index.lines.is_empty() {
        return (run_opts, notes);
    }
    let mut probes = Vec::new();
    for l in &plan.loaded {
        if probes.len() >= OFFSET_PROBES {
            // enough: the rest need not be opened again (many small files)
            break;
        }
        if let crate::logs::detect::Kind::Access(fi) = l.kind {
            let (format, at) = (&plan.formats[fi], probes.len());
            if l.is_compressed_file() {
                // its start first: sampling across it means inflating all
                // of it once more (as long as the pass itself), worth it
                // only when the start has too few 5xx to judge by (a
                // quiet morning before the incident)
                let head = l.prefix(OFFSET_PROBE_BYTES);
                access::offset_probes(&head, format, l.wrap, l.mixed, OFFSET_PROBES, &mut probes);
                if probes.len() - at >= OFFSET_ENOUGH_FROM_START {
                    continue;
                }
                probes.truncate(at);
            }
            // across the file (start, middle, end), each part its share
            let parts = l.spread(OFFSET_PROBE_BYTES);
            let n = parts.len();
            for (i, part) in parts.iter().enumerate() {
                let left = OFFSET_PROBES - probes.len().min(OFFSET_PROBES);
                let max = probes.len() + left / (n - i);
                access::offset_probes(part, format, l.wrap, l.mixed, max, &mut probes);
            }
        }
    }
    let mut scan = index.scan_offsets(&probes);
    if scan.any == 0 && !probes.is_empty() {
        // no 5xx access line has an error line of its client: is the access
        // log's client another address (X-Forwarded-For, PROXY protocol)?
        let loose = index.scan_offsets_any_client(&probes);
        if loose.any > 0 && loose.any * 4 >= probes.len() {
            run_opts.join_any_client = true;
            notes.push(format!(
                "none of the {} 5xx access lines sampled has an error-log line with its client, but {} have one with the same request line at the same time: the access log's client field is not the address nginx saw (as $http_x_forwarded_for or $proxy_protocol_addr are); error-log lines are joined by request line and time alone, and each such cause says so",
                probes.len(),
                loose.any
            ));
            scan = loose;
        }
    }
    if let Some(z) = &opts.error_log_zone {
        // --error-log-tz ZONE: the offset of each moment is the zone's
        notes.push(format!(
            "error log times read in the zone {} given by --error-log-tz, at its offset of each moment (daylight saving time included)",
            z.iana_name().unwrap_or("given")
        ));
        return (run_opts, notes);
    }
    if let Some(off) = opts.error_log_offset_s {
        // --error-log-tz: the offset is given; only the client check applies
        notes.push(format!(
            "error log times read at the one offset UTC{} given by --error-log-tz, before and after any daylight saving change in the logs: give the zone's name instead (--error-log-tz Europe/Berlin) when its clock changed",
            join::offset_str(off)
        ));
        return (run_opts, notes);
    }
    match scan.guess() {
        Some(
            g @ join::OffsetGuess {
                change: Some(c), ..
            },
        ) => {
            run_opts.error_log_offset_s = Some(g.offset_s);
            run_opts.error_log_offset_change = Some(c);
            let at = jiff::Timestamp::from_second(c.from_utc)
                .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
                .unwrap_or_default();
            notes.push(format!(
                "error log times read as UTC{} before {at} and UTC{} from then on (the zone changed offset, as daylight saving time does): {} of {} 5xx matched ({} after the change, {} at the access logs' own offset); --error-log-tz overrides with one offset",
                join::offset_str(g.offset_s),
                join::offset_str(c.offset_s),
                g.matched,
                g.of,
                c.matched,
                g.own
            ));
        }
        Some(g) => {
            run_opts.error_log_offset_s = Some(g.offset_s);
            notes.push(format!(
                "error log times read as UTC{}: {} of {} 5xx matched at that offset ({} at the access logs' own offset); --error-log-tz overrides",
                join::offset_str(g.offset_s),
                g.matched,
                g.of,
                g.own
            ));
        }
        None if !probes.is_empty() && scan.any == 0 && !run_opts.join_any_client => {
            notes.push(format!(
                "none of the {} 5xx access lines sampled matches an error-log line (same client and request) at any offset from -14:00 to +14:00: are the error logs from the same servers and time?",
                probes.len()
            ));
        }
        None => {}
    }
    (run_opts, notes)
}

/// Files that are plainly not logs (docs, configs, scripts, images) do not
/// make a run incomplete when they are not understood.
fn plainly_not_a_log(path: &str) -> bool {
    const EXT: &[&str] = &[
        "md", "rst", "conf", "cfg", "yaml", "yml", "toml", "ini", "sh", "py", "html", "htm", "pdf",
        "png", "jpg", "jpeg", "svg",
    ];
    path.rsplit_once('.')
        .is_some_and(|(_, e)| EXT.contains(&e.to_ascii_lowercase().as_str()))
}

/// Why the report's counts cannot be trusted, if they cannot: the error
/// logs record upstream errors (each one a 502/504 or a retried attempt)
/// while access lines could not be read.
fn incomplete(r: &Report) -> Option<String> {
    let n = r.error_log_upstream_lines;
    if n == 0 {
        return None;
    }
    let unread: Vec<&str> = r
        .inputs
        .iter()
        .filter(|i| i.input_kind == InputKind::Unknown && !plainly_not_a_log(&i.path))
        .map(|i| i.path.as_str())
        .collect();
    let kinds: Vec<String> = r
        .error_log_kinds
        .iter()
        .map(|(k, c)| format!("{c} {k}"))
        .collect();
    let errors = format!(
        "the error logs record {n} upstream error{} ({})",
        if n == 1 { "" } else { "s" },
        kinds.join(", ")
    );
    let files = if unread.is_empty() {
        String::new()
    } else {
        format!("; not understood: {}", unread.join(", "))
    };
    if r.totals.requests == 0 {
        let what = if r.totals.malformed > 0 {
            format!(
                "every one of the {} access-log lines was malformed",
                r.totals.malformed
            )
        } else {
            "no access-log line could be read".to_string()
        };
        return Some(format!(
            "{errors}, but {what}{files}: the 502 count of 0 is not real; give the access logs' format with --log-format or --config"
        ));
    }
    (!unread.is_empty()).then(|| {
        format!(
            "{errors}, and {} input{} could not be read as logs{files}: 502s in {} are missing from the counts; give their format with --log-format or --config",
            unread.len(),
            if unread.len() == 1 { "" } else { "s" },
            if unread.len() == 1 { "it" } else { "them" }
        )
    })
}
