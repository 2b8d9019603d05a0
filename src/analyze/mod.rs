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
pub mod cause;
mod errors;
pub mod event;
pub mod hop_cause;
pub mod hops;
pub mod incident;
mod inputs;
pub mod join;
pub mod kind;
pub mod nginx_config;
mod plan;
pub mod report;
pub mod stats;

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
    // plan → error-log pass → access-log pass → report
    let mut plan = plan::plan(paths, opts);
    let errors = errors::error_pass(&mut plan, opts);
    let mut inputs_out = errors.inputs;
    let mut total = access::access_pass(&mut plan, &errors.index, opts, &mut inputs_out, on_events);
    let hops = hops::hop_pass(&mut plan, opts, &mut inputs_out, on_events);
    // the totals cover every access log of every hop (a request logged at
    // two hops counts at each); `hops[]` has each hop's own figures
    for h in &hops {
        total += h.agg.clone();
    }
    for s in errors.samples {
        if total.malformed_samples.len() < stats::MALFORMED_SAMPLES {
            total.malformed_samples.push(s);
        }
    }
    let names = &plan.names;
    inputs_out.sort_by_key(|i| names.iter().position(|n| *n == i.path));
    Ok(Report::build(
        total,
        inputs_out,
        plan.problems,
        &errors.index,
        plan.config.as_deref(),
    )
    .with_hops(&hops))
}
