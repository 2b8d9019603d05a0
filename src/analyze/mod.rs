//! Records → classified events → mergeable aggregates → [`Report`].
//!
//! The pipeline: discover inputs; open each (map or stream) and detect its
//! kind from its first lines; parse every error log into an [`join::ErrorIndex`];
//! then parse the access logs in parallel chunks, classify each 5xx request
//! against the index on the spot, and add everything into per-chunk
//! [`stats::Agg`]s that are merged at the end.

mod access;
pub mod cause;
mod errors;
pub mod event;
pub mod incident;
mod inputs;
pub mod join;
pub mod nginx_config;
pub mod report;
pub mod stats;
pub mod verdict;

use std::sync::Arc;

use crate::error::Error;
use crate::input::{self, Problem};
use crate::logs::detect::{self, Kind};
use crate::logs::nginx::{self, LogFormat};
use access::{parse_access_log, Ctx};
use errors::parse_error_log;
use event::Event;
use inputs::{classify_input, open};
pub use report::Report;
use stats::Agg;

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

/// Total bytes of the inputs on disk (for a progress bar).
pub fn total_bytes(paths: &[String]) -> u64 {
    input::discover(paths).0.iter().map(|i| i.len).sum()
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
                && l.input
                    .path
                    .as_deref()
                    .is_some_and(nginx_config::is_config_name)
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
    let missing = config
        .as_ref()
        .filter(|c| !c.missing_includes.is_empty())
        .map(|c| {
            format!(
                "; includes not in the dump (skipped): {}",
                c.missing_includes.join(", ")
            )
        })
        .unwrap_or_default();
    for &i in &found_configs {
        loaded[i].kind = Kind::Config;
        loaded[i].reason = if opts.config.is_some() {
            "nginx config (not a log; --config was given, so this one is not used)".into()
        } else {
            format!("nginx config: read for its log_format/access_log lines and the directives that explain causes{missing}")
        };
    }
    if let Some(cfg) = &config {
        problems.extend(cfg.problems.iter().map(|(at, msg)| Problem {
            path: at.clone(),
            message: format!("config: {msg}"),
        }));
        if opts.config.is_some() && !missing.is_empty() {
            problems.push(Problem {
                path: "--config".into(),
                message: missing.trim_start_matches("; ").to_string(),
            });
        }
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
                let agg = parse_access_log(l, &ctx, &mut problems, on_events);
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
    inputs_out.sort_by_key(|i| names.iter().position(|n| *n == i.path));
    Ok(Report::build(
        total,
        inputs_out,
        problems,
        &index,
        config.as_deref(),
    ))
}
