//! The plan stage: discover and open the inputs, read the nginx configs in
//! the dump, and decide what each file holds (an nginx access or error log,
//! a hop format from the registry, a config, or nothing known), with why.

use std::sync::Arc;

use rayon::prelude::*;

use super::attribute::{hop_config_kind, ProxyConfigs};
use super::given_formats::{envoy_config_formats, envoy_given, EnvoyGiven, FormatProxy};
use super::inputs::{classify_head, classify_input, open, open_judged, Loaded};
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
    /// HAProxy / Envoy configs (given or found in the dump), for the
    /// settings behind each hop cause.
    pub(super) proxy_configs: Option<Arc<ProxyConfigs>>,
    /// nginx access-log formats tried, in order (`Kind::Access` indexes these).
    pub(super) formats: Vec<LogFormat>,
    /// Every input's display name, by index.
    pub(super) names: Vec<String>,
    /// Some input could not be found, opened or read.
    pub(super) unreadable_inputs: bool,
    /// Paths that name an input already taken (read once): said in the
    /// Inputs row of the one they are the same as.
    pub(super) duplicates: Vec<input::Duplicate>,
    /// Access logs of the same requests as another one (`copies.rs`), by
    /// `Loaded::index`, with their Inputs row's reason: not read.
    pub(super) set_aside: Vec<(u32, String)>,
}

/// Open every input and decide what each holds.
pub(super) fn plan(paths: &[String], opts: &Options) -> Plan {
    plan_with(paths, opts, true)
}

/// [`plan`], detecting each input as its start is read when the candidate
/// formats allow it (`early`; tests compare with `false`).
fn plan_with(paths: &[String], opts: &Options, early: bool) -> Plan {
    let input::Discovered {
        inputs,
        mut problems,
        duplicates,
    } = input::discover(paths);
    let mut loaded = Vec::new();
    let haproxy_index = hop_formats().iter().position(|f| f.name() == "haproxy");
    let early = early.then(|| early_candidates(&inputs, opts)).flatten();
    // opened and their starts read on every core (thousands of small
    // files: issue 9), taken in input order; when the candidate formats do
    // not depend on what the inputs hold, each is also detected there, from
    // the bytes just read (see `Early`)
    let opened: Vec<_> = inputs
        .into_par_iter()
        .enumerate()
        .map(|(i, inp)| {
            let Some(e) = &early else {
                return (open(i as u32, inp), None);
            };
            let mut ahead = None;
            let opened = open_judged(i as u32, inp, &mut |head, path| {
                let a = look(
                    head,
                    path,
                    haproxy_index,
                    &e.formats,
                    e.config.as_deref(),
                    opts,
                );
                let decided = a.detected.is_some();
                ahead = Some(a);
                decided && e.drop_heads
            });
            (opened, ahead)
        })
        .collect();
    let mut early_ahead = Vec::new();
    for (o, ahead) in opened {
        match o {
            Ok(l) => {
                loaded.push(l);
                early_ahead.push(ahead);
            }
            Err((inp, msg)) => problems.push(Problem {
                path: inp.display,
                message: msg,
            }),
        }
    }
    // inputs missing or unreadable (the error log among them, perhaps);
    // not a link skipped on purpose, whose lines were read elsewhere
    let unreadable_inputs = problems
        .iter()
        .any(|p| p.lost_lines() || p.message.starts_with("no such file"));
    let config = read_configs(&mut loaded, opts, &mut problems);
    let mut formats = candidates(opts, config.as_deref());
    let custom = haproxy_log_formats(&mut loaded, opts, &mut problems);
    let (envoy_given, envoy_configs) = envoy_log_formats(&loaded, opts, &mut problems);
    let envoy_index = hop_formats().iter().position(|f| f.name() == "envoy");
    let given_haproxy: Vec<_> = custom.iter().filter(|f| f.source == GIVEN).collect();
    let mut hop_parsers: Vec<Option<Box<dyn HopParser>>> = Vec::new();
    let ahead = match early {
        // configs are not looked at (as `look_ahead` does not)
        Some(_) => loaded
            .iter()
            .zip(early_ahead)
            .map(|(l, a)| a.filter(|_| !matches!(l.kind, Kind::Config | Kind::HopConfig(_))))
            .collect(),
        None => look_ahead(&loaded, haproxy_index, &formats, config.as_deref(), opts),
    };
    if !envoy_given.is_empty() || !given_haproxy.is_empty() {
        // every log's start is read again by these formats (not expected:
        // `Early::drop_heads` is false when they are given)
        for l in &mut loaded {
            l.restore_head();
        }
    }
    for (l, mut ahead) in loaded.iter_mut().zip(ahead) {
        hop_parsers.push(None);
        if matches!(l.kind, Kind::Config | Kind::HopConfig(_)) {
            continue;
        }
        if let Some(name) = forced_name(l, &opts.format_of) {
            match force(l, &name, &formats, &envoy_given) {
                Ok((kind, parser)) => {
                    l.kind = kind;
                    l.reason = format!("--format-of: read as {name}");
                    *hop_parsers.last_mut().expect("pushed above") = parser;
                }
                Err(why) => {
                    l.kind = Kind::Unknown;
                    l.reason = format!("--format-of {name}: {why}");
                }
            }
            continue;
        }
        // Formats the user stated (`--log-format haproxy=…` / `envoy=…`) and
        // Envoy formats read from a config: before any guess, nginx's
        // included, so a custom layout is never read with a built-in format
        // that half fits; the reason says when nginx's would have claimed it
        if let Some(i) = haproxy_index.filter(|_| !given_haproxy.is_empty()) {
            let head = detect::head_lines(&l.head);
            if let Some((parser, why)) = given_haproxy.iter().find_map(|f| f.detect(&head)) {
                l.kind = Kind::Hop(i);
                l.reason = stated(why, l, &formats, config.as_deref());
                *hop_parsers.last_mut().expect("pushed above") = Some(Box::new(parser));
                continue;
            }
        }
        if let Some(i) = envoy_index.filter(|_| !envoy_given.is_empty()) {
            let head = detect::head_lines(&l.head);
            if let Some((parser, why)) = envoy_given.iter().find_map(|g| g.detect(&head)) {
                l.kind = Kind::Hop(i);
                l.reason = stated(why, l, &formats, config.as_deref());
                *hop_parsers.last_mut().expect("pushed above") = Some(parser);
                continue;
            }
        }
        // HAProxy's `option httplog clf` begins as nginx's combined format
        // does, which would read it without its timers and termination state:
        // its own, stricter, layout is tried before nginx's
        if let Some(i) = haproxy_index {
            let found = match ahead.as_mut() {
                Some(a) => a.clf.take(),
                None => crate::logs::haproxy_clf::detect(&detect::head_lines(&l.head)),
            };
            if let Some((parser, why)) = found {
                l.kind = Kind::Hop(i);
                l.reason = why;
                *hop_parsers.last_mut().expect("pushed above") = Some(Box::new(parser));
                continue;
            }
        }
        // (an input detected ahead had a start: it did not shrink)
        let (d, shrank) = match ahead.and_then(|a| a.detected) {
            Some(d) => (d, false),
            None => (
                classify_input(l, &formats, config.as_deref(), opts.only_given_formats),
                l.shrank_to_nothing(),
            ),
        };
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
        if shrank {
            // not only an unknown input: a change while read, said as the
            // reading passes say it, with the sizes
            problems.push(Problem {
                path: l.input.display.clone(),
                message: format!(
                    "changed while read: was {} bytes, now 0 when its start was read (truncated, by logrotate copytruncate or `>`?): none of its lines are counted",
                    l.input.len
                ),
            });
        }
        l.reason = d.reason;
        l.wrap = d.wrap;
        l.mixed = d.mixed;
        // an empty input was said to be empty by classify_input
        if matches!(l.kind, Kind::Unknown) && !l.head.is_empty() {
            let head = detect::head_lines(&l.head);
            let by_config = || {
                let i = haproxy_index?;
                custom
                    .iter()
                    .filter(|f| f.source != GIVEN)
                    .find_map(|f| f.detect(&head))
                    .map(|(p, why)| (i, Box::new(p) as Box<dyn HopParser>, why))
            };
            if let Some((i, parser, why)) =
                by_config().or_else(|| detect::detect_hop(&l.head, hop_formats()))
            {
                l.kind = Kind::Hop(i);
                l.reason = why;
                *hop_parsers.last_mut().expect("pushed above") = Some(parser);
            } else {
                l.reason = unknown_reason(l, &formats);
                if let Some(why) = detect::hop_near_miss(&l.head, hop_formats()) {
                    l.reason = format!("{}; {why}", l.reason);
                }
            }
        }
    }
    let proxy_configs = read_hop_configs(&mut loaded, opts, &mut problems);
    for (i, n) in envoy_configs {
        loaded[i].reason.push_str(&format!(
            "; {n} access_log format{} tried first on the logs",
            if n == 1 { "" } else { "s" }
        ));
    }
    for l in &mut loaded {
        if matches!(l.kind, Kind::Access(_) | Kind::Error | Kind::Hop(_)) {
            l.forget_head();
        }
    }
    let names = loaded.iter().map(|l| l.input.display.clone()).collect();
    Plan {
        loaded,
        hop_parsers,
        problems,
        config,
        proxy_configs,
        formats,
        names,
        unreadable_inputs,
        duplicates,
        set_aside: Vec::new(),
    }
}

/// What is found for one input on every core before the inputs are decided
/// one by one, in order (which they must be: a layout read from one file is
/// tried on the next ones). Thousands of small files then do not wait for
/// one core to detect each (issue 9).
struct Ahead {
    /// `haproxy_clf::detect` of its first lines.
    clf: Option<(crate::logs::haproxy_clf::ClfParser, String)>,
    /// [`classify_input`] with the formats known before any was read from a
    /// file, when no format read later can change its verdict: an nginx
    /// format that fits (the first that fits stays first, as later ones are
    /// added at the end), not one read from the file itself.
    detected: Option<detect::Detection>,
}

/// [`Ahead`] for each input (`None` for the configs, not detected).
fn look_ahead(
    loaded: &[Loaded],
    haproxy_index: Option<usize>,
    formats: &[LogFormat],
    config: Option<&nginx_config::NginxConfig>,
    opts: &Options,
) -> Vec<Option<Ahead>> {
    // what the look needs of each input (`Loaded` may hold a stream, which
    // is not shared between threads)
    let starts: Vec<_> = loaded
        .iter()
        .map(|l| {
            let config = matches!(l.kind, Kind::Config | Kind::HopConfig(_));
            (!config).then_some((&l.head[..], l.input.path.as_deref()))
        })
        .collect();
    starts
        .into_par_iter()
        .map(|start| {
            let (head, path) = start?;
            Some(look(head, path, haproxy_index, formats, config, opts))
        })
        .collect()
}

/// [`Ahead`] of one input's start `head`, read from `path`.
fn look(
    head: &[u8],
    path: Option<&std::path::Path>,
    haproxy_index: Option<usize>,
    formats: &[LogFormat],
    config: Option<&nginx_config::NginxConfig>,
    opts: &Options,
) -> Ahead {
    let clf =
        haproxy_index.and_then(|_| crate::logs::haproxy_clf::detect(&detect::head_lines(head)));
    let detected = (clf.is_none() && !head.is_empty())
        .then(|| classify_head(head, path, formats, config, opts.only_given_formats))
        .filter(|d| {
            // the config's format for this file, looked up by name,
            // must be among the known ones (not one read later)
            let preferred_known = config
                .zip(path)
                .and_then(|(c, p)| c.format_for(p))
                .is_none_or(|(name, _)| formats.iter().any(|f| f.name == name));
            matches!(d.kind, Kind::Access(_)) && d.inferred.is_none() && preferred_known
        });
    Ahead { clf, detected }
}

/// The nginx access-log formats tried on the inputs before any is read
/// from a file: those given, those of the nginx config (given, or found
/// among the inputs), then the built-in ones.
fn candidates(opts: &Options, config: Option<&nginx_config::NginxConfig>) -> Vec<LogFormat> {
    let mut formats = opts.formats.clone();
    if let Some(cfg) = config {
        formats.extend(cfg.formats.iter().cloned());
    }
    if !opts.only_given_formats {
        formats.extend(nginx::builtin_formats());
    }
    formats
}

/// The candidates when they are known before any input is read: no input
/// is named like an nginx config (one found among the inputs adds its
/// `log_format`s), or `--config` was given (then those are not read).
/// Each input is then detected by the thread that reads its start, while
/// those bytes are in its buffer, and (with `drop_heads`) nothing of a log
/// whose kind this decides is kept: thousands of small files cost no
/// allocation and no second look each (issue 9).
struct Early {
    formats: Vec<LogFormat>,
    config: Option<Arc<nginx_config::NginxConfig>>,
    /// Nothing read later needs a detected log's start: no `--format-of`
    /// (a hop format forced reads it), no HAProxy or Envoy format given
    /// (`--log-format PROXY=…`, or in a `--config` file), which are tried
    /// before nginx's detection.
    drop_heads: bool,
}

/// [`Early`], when the candidates cannot depend on the inputs.
fn early_candidates(inputs: &[input::Input], opts: &Options) -> Option<Early> {
    let config_named = inputs
        .iter()
        .any(|i| i.path.as_deref().is_some_and(nginx_config::is_config_name));
    if config_named && opts.config.is_none() {
        return None;
    }
    Some(Early {
        formats: candidates(opts, opts.config.as_deref()),
        config: opts.config.clone(),
        drop_heads: opts.format_of.is_empty()
            && opts.hop_log_formats.is_empty()
            && opts.config_paths.is_empty(),
    })
}

/// The source of a format given with `--log-format PROXY=…`.
const GIVEN: &str = "--log-format";

/// The reason for a file read with a format the user or a config stated,
/// saying so when nginx's detection would have read it otherwise.
fn stated(
    why: String,
    l: &Loaded,
    formats: &[LogFormat],
    config: Option<&nginx_config::NginxConfig>,
) -> String {
    let d = classify_input(l, formats, config, false);
    match (d.kind, d.inferred) {
        (Kind::Access(i), inferred) => {
            let name = inferred
                .map(|f| f.name)
                .or_else(|| formats.get(i).map(|f| f.name.clone()))
                .unwrap_or_default();
            format!(
                "{why}; stated formats are tried before nginx's detection, which would have read it as nginx log_format {name}"
            )
        }
        (Kind::Error, _) => format!(
            "{why}; stated formats are tried before nginx's detection, which would have read it as an nginx error log"
        ),
        _ => why,
    }
}

/// The HAProxy `log-format` strings of the haproxy configs given with
/// `--config` or found in the dump (`*.cfg` files with HAProxy sections),
/// compiled; configs in the dump get a reason saying so.
fn haproxy_log_formats(
    loaded: &mut [Loaded],
    opts: &Options,
    problems: &mut Vec<Problem>,
) -> Vec<crate::logs::haproxy_custom::CustomFormat> {
    use crate::logs::haproxy_custom::{log_formats_in_config, CustomFormat};
    let looks_like_cfg = |text: &str| {
        text.lines().any(|l| {
            let l = l.trim_start();
            ["frontend ", "backend ", "listen ", "defaults"]
                .iter()
                .any(|k| l.starts_with(k))
        })
    };
    let mut sources: Vec<(String, String, Option<usize>)> = Vec::new();
    for p in opts.config_paths.iter().filter(|p| p.is_file()) {
        if let Ok(text) = std::fs::read_to_string(p) {
            if looks_like_cfg(&text) {
                sources.push((p.display().to_string(), text, None));
            }
        }
    }
    for (i, l) in loaded.iter().enumerate() {
        let named = l
            .input
            .path
            .as_deref()
            .and_then(|p| p.extension())
            .is_some_and(|e| e == "cfg");
        if named && matches!(l.kind, Kind::Unknown) {
            let text = String::from_utf8_lossy(&l.head).into_owned();
            if looks_like_cfg(&text) {
                sources.push((l.input.display.clone(), text, Some(i)));
            }
        }
    }
    let mut out = Vec::new();
    for g in opts
        .hop_log_formats
        .iter()
        .filter(|g| g.proxy == FormatProxy::Haproxy)
    {
        match CustomFormat::compile(GIVEN, &g.text) {
            Ok(f) => out.push(f),
            Err(e) => problems.push(Problem {
                path: "--log-format".into(),
                message: format!("haproxy log-format not used: {e}"),
            }),
        }
    }
    for (name, text, at) in sources {
        let found = log_formats_in_config(&text);
        let mut used = 0;
        for (line, fmt) in &found {
            match CustomFormat::compile(&format!("{name}:{line}"), fmt) {
                Ok(f) => {
                    out.push(f);
                    used += 1;
                }
                Err(e) => problems.push(Problem {
                    path: format!("{name}:{line}"),
                    message: format!("log-format not used to read logs: {e}"),
                }),
            }
        }
        if let (Some(i), Some(h)) = (at, hop_formats().iter().position(|f| f.name() == "haproxy")) {
            loaded[i].kind = Kind::HopConfig(h);
            loaded[i].reason = format!(
                "HAProxy config (not a log): {used} log-format line{} used to read the logs",
                if used == 1 { "" } else { "s" }
            );
        }
    }
    out
}

/// The Envoy formats to try first: `--log-format envoy=…`, then the
/// `access_log` formats of the Envoy configs given with `--config` (files,
/// or directories searched for them), then those of Envoy configs in the
/// dump (each with how many it gave, by input index).
fn envoy_log_formats(
    loaded: &[Loaded],
    opts: &Options,
    problems: &mut Vec<Problem>,
) -> (Vec<EnvoyGiven>, Vec<(usize, usize)>) {
    use crate::config::ProxyKind;
    let mut out = envoy_given(&opts.hop_log_formats, problems);
    let mut files = Vec::new();
    for p in &opts.config_paths {
        collect_files(p, 0, &mut files);
    }
    // a config is small; a log in a --config directory is not read whole
    const MAX_CONFIG_BYTES: u64 = 16 << 20;
    for p in files {
        if !std::fs::metadata(&p).is_ok_and(|m| m.len() <= MAX_CONFIG_BYTES) {
            continue;
        }
        let Ok(text) = std::fs::read(&p) else {
            continue;
        };
        if hop_config_kind(&text) == Some(ProxyKind::Envoy) {
            out.extend(envoy_config_formats(
                &p.display().to_string(),
                &text,
                problems,
            ));
        }
    }
    let mut counts = Vec::new();
    for (i, l) in loaded.iter().enumerate() {
        if matches!(l.kind, Kind::Unknown) && l.hop_config == Some(ProxyKind::Envoy) {
            let text = l.prefix(usize::MAX);
            let found = envoy_config_formats(&l.input.display, &text, problems);
            counts.push((i, found.len()));
            out.extend(found);
        }
    }
    (out, counts)
}

/// The files at or under `p` (sorted, at most 16 levels down).
fn collect_files(p: &std::path::Path, depth: usize, out: &mut Vec<std::path::PathBuf>) {
    if !p.is_dir() {
        out.push(p.to_path_buf());
        return;
    }
    let Ok(rd) = std::fs::read_dir(p) else { return };
    let mut v: Vec<std::path::PathBuf> = rd.flatten().map(|e| e.path()).collect();
    v.sort();
    for c in v.into_iter().filter(|_| depth < 16) {
        collect_files(&c, depth + 1, out);
    }
}

/// Why no format reads a file: its first line, every format tried, and how
/// to force one.
fn unknown_reason(l: &Loaded, formats: &[LogFormat]) -> String {
    let mut tried: Vec<String> = Vec::new();
    for f in formats {
        let n = format!("nginx {}", f.name);
        if !tried.contains(&n) {
            tried.push(n);
        }
    }
    tried.push("nginx_error".into());
    tried.extend(crate::logs::formats::names().iter().map(|s| s.to_string()));
    let glob = l
        .input
        .path
        .as_deref()
        .and_then(|p| p.file_name())
        .map(|n| format!("*{}", n.to_string_lossy()))
        .unwrap_or_else(|| "GLOB".into());
    if detect::head_lines(&l.head).is_empty() {
        return l.reason.clone();
    }
    format!(
        "{}; tried: {}; force one with --format-of '{glob}=NAME'",
        l.reason,
        tried.join(", ")
    )
}

/// The `--format-of` name for this file, if a glob matches its path.
fn forced_name(l: &Loaded, rules: &[(String, String)]) -> Option<String> {
    let path = l
        .input
        .path
        .as_deref()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|| l.input.display.clone());
    rules.iter().find_map(|(glob, name)| {
        let m = globset::GlobBuilder::new(glob)
            .literal_separator(false)
            .build()
            .ok()?
            .compile_matcher();
        let file_name = std::path::Path::new(&path)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        (m.is_match(&path) || m.is_match(&file_name)).then(|| name.clone())
    })
}

/// Read `l` as `name`: a hop format, `nginx_error`, or an nginx log_format.
fn force(
    l: &Loaded,
    name: &str,
    formats: &[LogFormat],
    envoy_given: &[EnvoyGiven],
) -> Result<(Kind, Option<Box<dyn HopParser>>), String> {
    if let Some(i) = hop_formats().iter().position(|f| f.name() == name) {
        let head = detect::head_lines(&l.head);
        if name == "envoy" {
            if let Some((p, _)) = envoy_given.iter().find_map(|g| g.detect(&head)) {
                return Ok((Kind::Hop(i), Some(p)));
            }
        }
        return match hop_formats()[i].forced(&head) {
            Some(p) => Ok((Kind::Hop(i), Some(p))),
            None => Err(format!(
                "the {name} parser cannot read this file's first lines"
            )),
        };
    }
    if name == "nginx_error" {
        return Ok((Kind::Error, None));
    }
    if let Some(i) = formats.iter().position(|f| f.name == name) {
        return Ok((Kind::Access(i), None));
    }
    let mut known: Vec<String> = crate::logs::formats::names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    known.push("nginx_error".into());
    known.extend(formats.iter().map(|f| f.name.clone()));
    Err(format!(
        "no format of that name (known: {})",
        known.join(", ")
    ))
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
            // the name first: detection is the dearer test, and most
            // inputs are logs with other names
            l.input
                .path
                .as_deref()
                .is_some_and(nginx_config::is_config_name)
                && matches!(detect::detect(&l.head, &builtin).kind, Kind::Unknown)
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

/// HAProxy and Envoy configs inside the dump (told by content among the
/// files no log format matched) are parsed once, as lint parses them, and
/// marked as configs; `--config` ones take precedence.
fn read_hop_configs(
    loaded: &mut [Loaded],
    opts: &Options,
    problems: &mut Vec<Problem>,
) -> Option<Arc<ProxyConfigs>> {
    let mut found = ProxyConfigs::default();
    for l in loaded.iter_mut() {
        // a haproxy.cfg already read for its log-format lines keeps its kind
        let hop_cfg = matches!(l.kind, Kind::HopConfig(_));
        if !matches!(l.kind, Kind::Unknown) && !hop_cfg {
            continue;
        }
        let Some(kind) = l.hop_config else {
            continue;
        };
        if !hop_cfg {
            l.kind = Kind::Config;
            l.config_of = Some(kind);
            l.reason = format!("{} config (not a log)", kind.as_str());
        }
        if opts.proxy_configs.is_some() {
            l.reason
                .push_str("; --config was given, so its settings are not cited");
            continue;
        }
        l.reason
            .push_str("; read for the settings behind each cause");
        // the bytes already read (a config is one block however it is packed)
        let text = l.prefix(usize::MAX).to_vec();
        found.add(l.input.display.clone().into(), text, kind);
    }
    let cfg = match &opts.proxy_configs {
        Some(c) => c.clone(),
        None if found.is_empty() && found.problems.is_empty() => return None,
        None => Arc::new(found),
    };
    problems.extend(cfg.problems.iter().map(|(at, msg)| Problem {
        path: at.clone(),
        message: format!("config: {msg}"),
    }));
    Some(cfg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// The plans of directory `dir` with each input detected by the thread
    /// that reads it (early) and every input detected up front (late),
    /// checked to give the same verdicts.
    fn early_as_late(dir: &std::path::Path) -> (Plan, Plan) {
        let paths = vec![dir.display().to_string()];
        let opts = Options::default();
        let early = plan_with(&paths, &opts, true);
        let late = plan_with(&paths, &opts, false);
        assert_eq!(verdicts(&early), verdicts(&late));
        (early, late)
    }

    /// What the plan said of each input: name, kind (formats by name),
    /// reason, packaging, mixed.
    fn verdicts(p: &Plan) -> Vec<(String, String, String, String, bool)> {
        p.loaded
            .iter()
            .map(|l| {
                let kind = match l.kind {
                    Kind::Access(i) => format!("nginx {}", p.formats[i].name),
                    Kind::Hop(i) => format!("hop {}", hop_formats()[i].name()),
                    ref k => format!("{k:?}"),
                };
                let name = l.input.path.as_deref().and_then(|p| p.file_name());
                let name = name.map(|n| n.to_string_lossy().into_owned());
                (
                    name.unwrap_or_default(),
                    kind,
                    l.reason.clone(),
                    format!("{:?}", l.wrap),
                    l.mixed,
                )
            })
            .collect()
    }

    fn upstream_timing(i: usize) -> String {
        format!(
            "10.0.0.{i} - - [20/Nov/2026:14:03:{:02} +0000] \"GET /a/{i} HTTP/1.1\" 502 5 \"-\" \"ua\" \
             rt=0.010 uct=\"0.001\" uht=\"-\" urt=\"0.009\" ua=\"10.1.0.1:80\" us=\"502\"\n",
            i % 60
        )
    }

    fn combined(i: usize) -> String {
        format!(
            "10.0.0.{i} - - [20/Nov/2026:14:04:{:02} +0000] \"GET /b/{i} HTTP/1.1\" 502 7 \"-\" \"ua {i}\"\n",
            i % 60
        )
    }

    fn lines(n: usize, f: impl Fn(usize) -> String) -> String {
        (0..n).map(f).collect()
    }

    fn gz(text: &str) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(text.as_bytes()).unwrap();
        e.finish().unwrap()
    }

    /// Siblings of one rotation family in different formats (an nginx
    /// `log_format` changed between rotations, a file of another format
    /// sorting in between, HAProxy's raw and clf logs next to each other):
    /// each file is detected on its own, as when the candidates were not
    /// known before the inputs were read (issue 9: each input is detected by
    /// the thread that reads its start, and nothing of it is kept).
    #[test]
    fn mixed_directory_is_detected_file_by_file_as_before() {
        let dir = tempfile::tempdir().unwrap();
        let haproxy = "127.0.0.1:60448 [28/Nov/2026:08:50:52.412] fe_main be_app/app1 0/0/0/-1/3 502 209 - - SH-- 1/1/0/0/0 0/0 {a1} \"GET /reset HTTP/1.1\"\n";
        let clf = "127.0.0.1 - - [28/Nov/2026:11:33:44 +0000] \"GET /early_close HTTP/1.1\" 502 209 \"\" \"\" 59062 457 \"fe\" \"be\" \"s1\" 0 0 0 -1 0 SH-- 1 1 0 0 0 0 0 \"\" \"\" \"\"\n";
        let error = "2026/11/20 14:03:07 [error] 1#1: *5 connect() failed (111: Connection refused) while connecting to upstream, client: 10.0.0.1, server: x\n";
        let files: Vec<(&str, Vec<u8>)> = vec![
            ("access.log", lines(80, upstream_timing).into_bytes()),
            ("access.log.1", lines(80, combined).into_bytes()),
            ("access.log.2", lines(3, upstream_timing).into_bytes()),
            ("access.log.3.gz", gz(&lines(60, upstream_timing))),
            (
                "access.log.4",
                lines(70, |i| combined(i).replace("\n", " \"10.9.9.9\"\n")).into_bytes(),
            ),
            ("empty.log", Vec::new()),
            ("error.log", error.repeat(5).into_bytes()),
            ("haproxy.log", haproxy.repeat(9).into_bytes()),
            ("haproxy.log.1", clf.repeat(9).into_bytes()),
        ];
        for (name, bytes) in &files {
            std::fs::write(dir.path().join(name), bytes).unwrap();
        }
        let (early, late) = early_as_late(dir.path());
        let v = verdicts(&early);
        let kinds: Vec<(&str, &str)> = v.iter().map(|(n, k, ..)| (&n[..], &k[..])).collect();
        assert_eq!(
            kinds,
            [
                ("access.log", "nginx upstream_timing"),
                ("access.log.1", "nginx combined"),
                ("access.log.2", "nginx upstream_timing"),
                ("access.log.3.gz", "nginx upstream_timing"),
                ("access.log.4", "nginx main"),
                ("empty.log", "Unknown"),
                ("error.log", "Error"),
                ("haproxy.log", "hop haproxy"),
                ("haproxy.log.1", "hop haproxy"),
            ]
        );
        assert!(v[8].2.contains("clf"), "{}", v[8].2);
        // the early path was taken: the nginx logs' starts were not kept
        let dropped: Vec<bool> = early.loaded.iter().map(|l| l.head_dropped).collect();
        assert_eq!(
            dropped,
            [true, true, true, true, true, false, false, false, false]
        );
        assert!(late.loaded.iter().all(|l| !l.head_dropped));
    }

    /// Files longer than detection's sample get the same verdicts from the
    /// early detection (each judged as its head is read) as from the late
    /// one: a plain log, one whose 64 KiB head ends on a line end exactly,
    /// one with a config's words past its sample (still looked at for
    /// Envoy formats: a start read only up to the sample would miss them),
    /// one with long lines, and one of no known format.
    #[test]
    fn long_files_are_detected_from_their_first_bytes_as_from_their_head() {
        let dir = tempfile::tempdir().unwrap();
        let log = lines(900, upstream_timing);
        // cut so that the 64 KiB head ends with a line end
        let mut exact = String::new();
        for l in log.lines() {
            if exact.len() + l.len() + 1 > super::super::inputs::HEAD_BYTES {
                let pad = super::super::inputs::HEAD_BYTES - exact.len() - 1;
                exact.push_str(&"x".repeat(pad));
                exact.push('\n');
                break;
            }
            exact.push_str(l);
            exact.push('\n');
        }
        assert_eq!(exact.len(), super::super::inputs::HEAD_BYTES);
        exact.push_str(&log);
        let mut config_words = lines(80, upstream_timing);
        config_words.push_str("static_resources:\n  listeners: []\nfrontend fe\n  bind :80\n");
        config_words.push_str(&lines(200, upstream_timing));
        let long: String = (0..300)
            .map(|i| upstream_timing(i).replace("\"ua\"", &format!("\"{}\"", "u".repeat(400))))
            .collect();
        let files = [
            ("a.log", log.clone()),
            ("b.log", exact),
            ("c.log", config_words),
            ("d.log", long),
            ("e.log", "some words of no format\n".repeat(3000)),
        ];
        for (name, text) in &files {
            assert!(text.len() > 16 << 10, "{name}");
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        let (early, _) = early_as_late(dir.path());
        let kinds: Vec<String> = verdicts(&early).into_iter().map(|v| v.1).collect();
        assert_eq!(
            kinds,
            [
                "nginx upstream_timing",
                "nginx upstream_timing",
                "nginx upstream_timing",
                "nginx upstream_timing",
                "Unknown"
            ]
        );
    }

    /// An Envoy config among the inputs gives a format tried on every log
    /// before nginx's detection: the starts not kept are read again, and
    /// the verdicts are those of the plan that kept them.
    #[test]
    fn a_config_found_later_reads_the_starts_again() {
        let dir = tempfile::tempdir().unwrap();
        let yaml = "static_resources:\n  listeners:\n  - access_log:\n    - typed_config:\n        log_format:\n          text_format: \"%START_TIME(%s.%3f)% %RESPONSE_CODE% %RESPONSE_FLAGS%\\n\"\n";
        std::fs::write(dir.path().join("envoy.yaml"), yaml).unwrap();
        std::fs::write(
            dir.path().join("envoy.log"),
            "1527590590.528 503 UF\n1527590591.000 200 -\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("nginx.log"), lines(20, upstream_timing)).unwrap();
        let (early, _) = early_as_late(dir.path());
        let v = verdicts(&early);
        assert_eq!(v[0].1, "hop envoy", "{v:?}");
        assert!(v[0].2.contains("envoy.yaml"), "{v:?}");
        assert_eq!(v[1].1, "Config", "{v:?}");
        assert_eq!(v[2].1, "nginx upstream_timing", "{v:?}");
    }
}
