//! The plan stage: discover and open the inputs, read the nginx configs in
//! the dump, and decide what each file holds (an nginx access or error log,
//! a hop format from the registry, a config, or nothing known), with why.

use std::sync::Arc;

use super::inputs::{classify_input, open, Loaded};
use super::{nginx_config, Options};
use crate::input::{self, Problem};
use crate::logs::detect::{self, Kind};
use crate::logs::formats::hop_formats;
use crate::logs::hop::HopParser;
use crate::logs::nginx::{self, LogFormat};

/// Every input of a run with its kind, and what the stages share.
pub(super) struct Plan {
    /// The opened inputs, in input order.
    pub(super) loaded: Vec<Loaded>,
    /// For each input read as a hop format: its parser (same index as `loaded`).
    pub(super) hop_parsers: Vec<Option<Box<dyn HopParser>>>,
    /// Problems that did not stop the run.
    pub(super) problems: Vec<Problem>,
    /// nginx configs (given or found in the dump).
    pub(super) config: Option<Arc<nginx_config::NginxConfig>>,
    /// nginx access-log formats tried, in order (`Kind::Access` indexes these).
    pub(super) formats: Vec<LogFormat>,
    /// Every input's display name, by index.
    pub(super) names: Vec<String>,
    /// Some input could not be found, opened or read.
    pub(super) unreadable_inputs: bool,
}

/// Open every input and decide what each holds.
pub(super) fn plan(paths: &[String], opts: &Options) -> Plan {
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
    // inputs missing or unreadable (the error log among them, perhaps)
    let unreadable_inputs = !problems.is_empty();
    let config = read_configs(&mut loaded, opts, &mut problems);
    let mut formats = opts.formats.clone();
    if let Some(cfg) = &config {
        formats.extend(cfg.formats.iter().cloned());
    }
    if !opts.only_given_formats {
        formats.extend(nginx::builtin_formats());
    }
    let mut hop_parsers: Vec<Option<Box<dyn HopParser>>> = Vec::new();
    for l in loaded.iter_mut() {
        hop_parsers.push(None);
        if matches!(l.kind, Kind::Config) {
            continue;
        }
        let d = classify_input(l, &formats, config.as_deref(), opts.only_given_formats);
        // A JSON layout inferred from the file's own keys fits any JSON log
        // with a status key; a hop format that knows its vendor's keys
        // (Envoy, Cloudflare, Fastly, Google Cloud LB) comes first.
        if d.inferred.is_some() {
            if let Some((i, parser, why)) = detect::detect_hop(&l.head, hop_formats()) {
                l.kind = Kind::Hop(i);
                l.reason = why;
                *hop_parsers.last_mut().expect("pushed above") = Some(parser);
                continue;
            }
        }
        l.kind = match (d.kind, d.inferred) {
            // a layout read from the file itself: a candidate from now on
            (Kind::Access(_), Some(f)) => {
                formats.push(f);
                Kind::Access(formats.len() - 1)
            }
            (k, _) => k,
        };
        l.reason = d.reason;
        l.wrap = d.wrap;
        l.mixed = d.mixed;
        if matches!(l.kind, Kind::Unknown) {
            if let Some((i, parser, why)) = detect::detect_hop(&l.head, hop_formats()) {
                l.kind = Kind::Hop(i);
                l.reason = why;
                *hop_parsers.last_mut().expect("pushed above") = Some(parser);
            } else if !hop_formats().is_empty() {
                l.reason = format!(
                    "{}; nor do the formats {}",
                    l.reason,
                    crate::logs::formats::names().join(", ")
                );
                if let Some(why) = detect::hop_near_miss(&l.head, hop_formats()) {
                    l.reason = format!("{}; {why}", l.reason);
                }
            }
        }
    }
    let names = loaded.iter().map(|l| l.input.display.clone()).collect();
    Plan {
        loaded,
        hop_parsers,
        problems,
        config,
        formats,
        names,
        unreadable_inputs,
    }
}

/// nginx configs inside the dump are read as if given with --config; those
/// files are marked `Kind::Config`.
fn read_configs(
    loaded: &mut [Loaded],
    opts: &Options,
    problems: &mut Vec<Problem>,
) -> Option<Arc<nginx_config::NginxConfig>> {
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
    config
}
