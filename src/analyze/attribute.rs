//! Attribution: the config settings behind a cause at a hop.
//!
//! HAProxy and Envoy configs (found in the dump by their content, or given
//! with `--config`) are parsed once by the same loaders lint uses
//! (`config::haproxy::parse`, `config::envoy::parse`) into the normalized
//! [`ProxyModel`]. For a cause at a hop and what the hop's log measured (the
//! backend / cluster it names, the most common time the failed requests
//! waited), [`ProxyConfigs::attribute`] returns the settings in effect for
//! that backend or cluster, each with its value (or the documented default,
//! said so) and file:line, and a sentence comparing it with the measurement.
//! Knows nothing of the report's layout: [`cite_hops`] hangs the citations on
//! the rows the report already built.

mod envoy;
mod haproxy;
pub(crate) mod nginx;

use std::path::{Path, PathBuf};

use super::cause::Cause;
use super::hops::HopAgg;
use super::report::{CauseRow, Report};
use super::stats::{self, ByCause};
use crate::config::{self, LoadOptions, ProxyKind, ProxyModel};
use crate::logs::hop::{HopRecord, Signals};
use crate::source::{SourceMap, Span};

/// How far a measured duration may be from a configured limit and still be
/// called "that limit": the durations are counted in 100 ms steps, and a
/// proxy's timer fires a little after the limit (HAProxy checks its timers
/// with millisecond ticks, Envoy on its event loop), so ± 0.5 s.
pub const TOLERANCE_MS: u64 = 500;

/// One setting that bears on a cause, as the config has it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Citation {
    /// The setting (`timeout server`, `route timeout`, `connect_timeout`).
    pub directive: String,
    /// Its effective value as written (or the documented default).
    pub value: String,
    /// True when the config does not set it and `value` is the proxy's
    /// documented default (then `file:line` is the enclosing section).
    pub defaulted: bool,
    /// The config file.
    pub file: String,
    /// 1-based line of the setting (or of its section when defaulted).
    pub line: u32,
    /// Where it is in effect (`backend api`, `cluster api, route prefix /`).
    pub scope: String,
    /// What it means here, compared with the measurement when there is one.
    pub note: String,
    /// The measured durations compared with this limit, when it is one and
    /// the log measured them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub measured: Option<Measurement>,
    /// The response headers the upstream answered with, set against a
    /// buffer size, when the log measured them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header_bytes: Option<HeaderBytes>,
}

/// The largest response header among the answered requests of the
/// upstream addresses behind a cause (nginx:
/// `$upstream_bytes_received − $upstream_response_length`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HeaderBytes {
    /// Bytes of the largest response head.
    pub largest: u64,
    /// Answered requests measured.
    pub of: u64,
    /// The addresses measured.
    pub upstreams: Vec<String>,
}

/// How many of a cause's requests took about as long as a configured limit.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Measurement {
    /// Requests whose measured time is within `tolerance_ms` of the limit.
    pub matched: u64,
    /// Requests with a measured time.
    pub of: u64,
    /// The limit, ms.
    pub limit_ms: u64,
    /// ± this many ms counts as "at the limit".
    pub tolerance_ms: u64,
    /// What was measured.
    pub what: String,
}

/// The phase a failed request was in when it ended, as far as the hop's
/// log tells (HAProxy: the termination state's second character).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Phase {
    /// Not told (Envoy, no termination state, or another phase).
    #[default]
    Any,
    /// Waiting in the queue for a server slot (`?Q`).
    Queue,
    /// Connecting to the server (`?C`).
    Connect,
    /// Waiting for the server's response headers (`?H`).
    Server,
}

impl Phase {
    fn code(self) -> u64 {
        match self {
            Phase::Any => 0,
            Phase::Queue => 1,
            Phase::Connect => 2,
            Phase::Server => 3,
        }
    }

    fn from_code(c: u64) -> Phase {
        match c {
            1 => Phase::Queue,
            2 => Phase::Connect,
            3 => Phase::Server,
            _ => Phase::Any,
        }
    }
}

/// What the hop's log measured for one cause.
#[derive(Debug, Clone, Default)]
pub struct Measured {
    /// Backends / clusters the failed requests went to, most first.
    pub pools: Vec<(String, u64)>,
    /// The most common time the failed requests waited in the phase that
    /// failed, ms (the lower edge of its 100 ms step), with how many did.
    pub mode_ms: Option<(u64, u64)>,
    /// The phase those requests were in.
    pub phase: Phase,
    /// Requests with this cause.
    pub count: u64,
    /// Requests whose log tells the retries, those retried, those
    /// redispatched (`CauseStat`).
    pub retries: (u64, u64, u64),
}

impl Measured {
    /// From a cause's counts.
    pub fn of(stat: &stats::CauseStat) -> Measured {
        // keys are [`waited_key`]s: 100 ms step × 4 + phase
        let mode = stat
            .waited
            .iter()
            .max_by_key(|(k, v)| (**v, std::cmp::Reverse(**k)));
        Measured {
            pools: stats::top(&stat.pools, 3),
            mode_ms: mode.map(|(k, v)| ((k / 4).saturating_mul(100), *v)),
            phase: mode.map_or(Phase::Any, |(k, _)| Phase::from_code(k % 4)),
            count: stat.count,
            retries: (stat.attempts_logged, stat.retried, stat.redispatched),
        }
    }

    /// `most of the timed-out requests (12 of 14) waited 30.0 s`, when the
    /// measurement is there.
    fn waited_phrase(&self, what: &str) -> Option<String> {
        let (ms, n) = self.mode_ms?;
        Some(format!(
            "{n} of the {} requests waited {:.1}–{:.1} s {what}",
            self.count,
            ms as f64 / 1000.0,
            ms.saturating_add(100) as f64 / 1000.0
        ))
    }

    /// True when the measured mode is within [`TOLERANCE_MS`] of `limit`.
    fn matches(&self, limit: std::time::Duration) -> bool {
        self.mode_ms.is_some_and(|(ms, _)| {
            // the middle of the 100 ms step
            ms.saturating_add(50)
                .abs_diff(u64::try_from(limit.as_millis()).unwrap_or(u64::MAX))
                <= TOLERANCE_MS
        })
    }
}

/// The settings found for one cause, and what could not be attributed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attribution {
    /// The settings, in the order they bear on the cause.
    pub settings: Vec<Citation>,
    /// Why nothing (or not everything) could be attributed.
    pub notes: Vec<String>,
}

/// HAProxy and Envoy configs read for the analysis.
#[derive(Debug, Default)]
pub struct ProxyConfigs {
    sources: SourceMap,
    /// One model per config file that parsed.
    pub models: Vec<ProxyModel>,
    /// Problems met: (`file[:line]`, message).
    pub problems: Vec<(String, String)>,
}

/// Which of HAProxy / Envoy `head` is a config for, by its content alone
/// (file names lie in dumps): HAProxy proxy sections (`frontend`, `backend`,
/// `listen`) at the start of a line, or an Envoy bootstrap's
/// `static_resources` / `dynamic_resources`.
pub fn hop_config_kind(head: &[u8]) -> Option<ProxyKind> {
    // This runs on the start of every input, most of them logs (issue 9:
    // 7 % of a run over 500 small files): without one of the words the
    // tests below look for, the answer is no without decoding the text
    // (they are ASCII, which the lossy decoding keeps as it is).
    if memchr::memmem::find(head, b"_resources").is_none() && !section_like(head) {
        return None;
    }
    if envoy_bootstrap_key(head) {
        return Some(ProxyKind::Envoy);
    }
    let text = String::from_utf8_lossy(head);
    let sections = text.lines().any(|l| {
        let first = l.split_whitespace().next().unwrap_or("");
        !l.starts_with([' ', '\t'])
            && matches!(first, "frontend" | "backend" | "listen")
            && !l.trim_end().ends_with('{')
    });
    // the content check only when there are sections to confirm: this runs
    // on the start of every input, most of them logs (issue 9: 4 % of a run
    // over 2,000 small files)
    if !sections {
        return None;
    }
    match config::detect(Path::new(""), head) {
        Some((ProxyKind::Haproxy, _)) => Some(ProxyKind::Haproxy),
        _ => None,
    }
}

/// Whether `head` holds `static_resources` or `dynamic_resources` as a key
/// (YAML `static_resources:` at a line's start or in a flow mapping, JSON
/// `"static_resources": {`), not as a word inside a value: a log line's
/// `GET /static_resources/app.js` is not an Envoy bootstrap (taking it for
/// one made the log be read again as YAML).
fn envoy_bootstrap_key(head: &[u8]) -> bool {
    [&b"static_resources"[..], b"dynamic_resources"]
        .iter()
        .any(|key| {
            memchr::memmem::find_iter(head, key).any(|at| {
                let before = at.checked_sub(1).map(|i| head[i]);
                let key_start = matches!(
                    before,
                    None | Some(b'\n' | b' ' | b'\t' | b'{' | b',' | b'"' | b'\'')
                );
                let mut rest = head[at + key.len()..].iter();
                let after = rest
                    .by_ref()
                    .find(|&&c| !matches!(c, b'"' | b'\'' | b' ' | b'\t'))
                    .copied();
                key_start && after == Some(b':')
            })
        })
}

/// Whether a line of `head` may start with a HAProxy section keyword
/// (`frontend`, `backend`, `listen`): one whose first printable ASCII byte
/// starts one, with nothing before it but bytes that are not printable
/// ASCII (whitespace, or the bytes of a non-ASCII space). A cheap necessary
/// condition for the line test of [`hop_config_kind`], in one pass over the
/// line ends.
fn section_like(head: &[u8]) -> bool {
    let mut start = 0;
    let ends = memchr::memchr_iter(b'\n', head).chain(std::iter::once(head.len()));
    ends.into_iter().any(|end| {
        let line = &head[start..end.max(start)];
        start = end + 1;
        let word = line
            .iter()
            .position(|b| b.is_ascii_graphic())
            .map_or(&[][..], |i| &line[i..]);
        [&b"frontend"[..], b"backend", b"listen"]
            .iter()
            .any(|k| word.starts_with(k))
    })
}

fn walk(p: &Path, out: &mut Vec<PathBuf>) {
    if !p.is_dir() {
        out.push(p.to_path_buf());
        return;
    }
    let Ok(rd) = std::fs::read_dir(p) else {
        return;
    };
    let mut v: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
    v.sort();
    for p in v {
        walk(&p, out);
    }
}

impl ProxyConfigs {
    /// Read the HAProxy and Envoy configs among `paths` (files, or
    /// directories searched below); other files are left alone (nginx
    /// configs go through `nginx_config`). `given` files that are not
    /// HAProxy or Envoy configs are not problems here.
    pub fn load(paths: &[PathBuf]) -> ProxyConfigs {
        let mut files = Vec::new();
        for p in paths {
            walk(p, &mut files);
        }
        let mut out = ProxyConfigs::default();
        for f in files {
            let text = match std::fs::read(&f) {
                Ok(t) => t,
                Err(e) => {
                    out.problems
                        .push((f.display().to_string(), format!("cannot read: {e}")));
                    continue;
                }
            };
            let Some(kind) = hop_config_kind(&text[..text.len().min(64 * 1024)]) else {
                continue;
            };
            out.add(f, text, kind);
        }
        out
    }

    /// Parse one config of `kind` (already read) and keep its model.
    pub fn add(&mut self, path: PathBuf, text: Vec<u8>, kind: ProxyKind) {
        let id = self.sources.add(path, text);
        let opts = LoadOptions::default();
        let parsed = match kind {
            ProxyKind::Haproxy => config::haproxy::parse(&mut self.sources, id, &opts),
            ProxyKind::Envoy => config::envoy::parse(&mut self.sources, id, &opts),
            ProxyKind::Nginx => return,
        };
        for e in &parsed.errors {
            let at = match e.span() {
                Some(s) => self.at(s),
                None => self.sources.path(id).display().to_string(),
            };
            let message = crate::report::config_error::message(e, &self.sources);
            self.problems.push((at, message));
        }
        self.models.extend(parsed.model);
    }

    /// True when no config was read.
    pub fn is_empty(&self) -> bool {
        self.models.is_empty()
    }

    /// The files read, with their proxy.
    pub fn files(&self) -> Vec<(String, ProxyKind)> {
        self.models
            .iter()
            .map(|m| (self.sources.path(m.file).display().to_string(), m.kind))
            .collect()
    }

    /// `file:line` of `span`.
    pub(crate) fn at(&self, span: Span) -> String {
        let (line, _) = self.sources.line_col(span);
        format!("{}:{line}", self.file_name(span))
    }

    fn file_name(&self, span: Span) -> String {
        self.sources.path(span.file).display().to_string()
    }

    /// The text of the line `span` starts on.
    fn line_text(&self, span: Span) -> String {
        self.sources.get(span.file).line_text(self.line(span))
    }

    fn line(&self, span: Span) -> u32 {
        self.sources.line_col(span).0
    }

    /// The settings of the `proxy` configs that bear on `cause`, for the
    /// backends / clusters `m` names.
    pub fn attribute(&self, proxy: ProxyKind, cause: Cause, m: &Measured) -> Attribution {
        let mut out = Attribution::default();
        let models: Vec<&ProxyModel> = self.models.iter().filter(|x| x.kind == proxy).collect();
        if models.is_empty() {
            return out;
        }
        let pool_word = match proxy {
            ProxyKind::Envoy => "cluster",
            _ => "backend",
        };
        let mut pools: Vec<String> = m.pools.iter().map(|(p, _)| p.clone()).collect();
        if pools.is_empty() {
            // one pool in all the configs: it is the one
            let all: Vec<&str> = models
                .iter()
                .flat_map(|x| x.upstreams.iter().map(|u| u.name.as_str()))
                .collect();
            match all.as_slice() {
                [one] => pools.push((*one).to_string()),
                _ => {
                    out.notes.push(format!(
                        "the log does not name the {pool_word} of these requests, and the config has {} of them: no setting is cited{}",
                        all.len(),
                        if proxy == ProxyKind::Envoy {
                            " (add %UPSTREAM_CLUSTER% to the access log format)"
                        } else {
                            ""
                        }
                    ));
                    return out;
                }
            }
        }
        for name in &pools {
            let Some(model) = models.iter().find(|x| x.upstream(name).is_some()) else {
                out.notes.push(format!(
                    "{pool_word} `{name}` named by the log is in none of the {} configs read ({}): no setting is cited",
                    proxy.as_str(),
                    models
                        .iter()
                        .map(|x| self.sources.path(x.file).display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
                continue;
            };
            match proxy {
                ProxyKind::Haproxy => haproxy::attribute(self, model, name, cause, m, &mut out),
                ProxyKind::Envoy => envoy::attribute(self, model, name, cause, m, &mut out),
                ProxyKind::Nginx => {}
            }
        }
        out
    }

    /// A citation of a setting written at `span` (or defaulted there).
    #[allow(clippy::too_many_arguments)]
    fn cite(
        &self,
        directive: &str,
        value: String,
        defaulted: bool,
        span: Span,
        scope: &str,
        note: String,
    ) -> Citation {
        Citation {
            directive: directive.to_string(),
            value,
            defaulted,
            file: self.file_name(span),
            line: self.line(span),
            scope: scope.to_string(),
            note,
            measured: None,
            header_bytes: None,
        }
    }
}

/// `30s`, `1.5s`, `250ms`, `2m` for a duration.
pub fn human(d: std::time::Duration) -> String {
    let ms = d.as_millis();
    if ms == 0 {
        "0".into()
    } else if ms % 60_000 == 0 {
        format!("{}m", ms / 60_000)
    } else if ms % 1000 == 0 {
        format!("{}s", ms / 1000)
    } else if ms >= 1000 {
        format!("{:.3}s", ms as f64 / 1000.0)
    } else {
        format!("{ms}ms")
    }
}

/// The backend (HAProxy) or cluster (Envoy `%UPSTREAM_CLUSTER%`) a hop's
/// log names for a request, if it does.
pub fn pool_of<'a>(rec: &HopRecord<'a>) -> Option<&'a [u8]> {
    match rec.signals {
        Signals::Haproxy { backend, .. } => backend.filter(|b| !b.is_empty() && *b != b"-"),
        Signals::Envoy { cluster, .. } => cluster.filter(|c| !c.is_empty() && *c != b"-"),
        _ => None,
    }
}

/// HAProxy's retries field (`%rc` in the HTTP log): how many times the
/// connection was retried, and whether it was redispatched to another
/// server — the manual (§8.2.3, "retries") writes it with a `+` in front
/// then.
pub fn retries_of(rec: &HopRecord<'_>) -> Option<(u64, bool)> {
    let Signals::Haproxy {
        retries: Some(r), ..
    } = rec.signals
    else {
        return None;
    };
    let (digits, moved) = match r.strip_prefix(b"+") {
        Some(d) => (d, true),
        None => (r, false),
    };
    let n = std::str::from_utf8(digits).ok()?.parse::<u64>().ok()?;
    Some((n, moved))
}

/// How long a failed request waited in the phase that failed, ms, as the
/// hop logs it: HAProxy `Ta − TR − Tw − Tc` over the timers that were
/// reached (a timer of -1 is the phase that did not end, so what is left is
/// the time spent in it: server wait for `sH`, connecting for `sC`,
/// queueing for `sQ`; manual §8.4 "Timing events"); Envoy `%DURATION%`
/// (the route timeout counts from the request's start, route
/// `timeout` docs).
pub fn waited_ms(rec: &HopRecord<'_>) -> Option<(u64, Phase)> {
    match rec.signals {
        Signals::Haproxy {
            tq,
            tw,
            tc,
            ta,
            termination,
            ..
        } => {
            // the parsers give -1 (not reached) as None
            let ta = ta.filter(|t| *t >= 0)?;
            let before: i64 = [tq, tw, tc].iter().flatten().filter(|t| **t >= 0).sum();
            // the termination state's second character is the session's
            // state when it ended: Q queue, C connect, H headers (manual §8.5)
            let phase = match termination.and_then(|t| t.get(1)) {
                Some(b'Q') => Phase::Queue,
                Some(b'C') => Phase::Connect,
                Some(b'H') => Phase::Server,
                _ => Phase::Any,
            };
            Some((u64::try_from(ta - before).ok()?, phase))
        }
        Signals::Envoy { .. } => rec
            .total_ms
            .and_then(|t| u64::try_from(t).ok())
            .map(|t| (t, Phase::Any)),
        _ => None,
    }
}

/// The key a failed request's wait is counted under in
/// `CauseStat::waited`: its 100 ms step and its [`Phase`].
pub fn waited_key(rec: &HopRecord<'_>) -> Option<u64> {
    let (ms, phase) = waited_ms(rec)?;
    Some((ms / 100).saturating_mul(4).saturating_add(phase.code()))
}

/// The config kind of a hop format, by its registry name.
fn proxy_of(hop_name: &str) -> Option<ProxyKind> {
    if hop_name.starts_with("haproxy") {
        Some(ProxyKind::Haproxy)
    } else if hop_name.starts_with("envoy") || hop_name.starts_with("istio") {
        Some(ProxyKind::Envoy)
    } else {
        None
    }
}

fn cite_rows(rows: &mut [CauseRow], by: &ByCause, proxy: ProxyKind, cfg: &ProxyConfigs) {
    for r in rows {
        let Some(stat) = by.get(&r.cause) else {
            continue;
        };
        let a = cfg.attribute(proxy, r.cause, &Measured::of(stat));
        r.settings = a.settings;
        r.config.extend(a.notes);
    }
}

/// Hang the settings behind each hop cause on the report's hop rows; when
/// the only logs read are one hop's (no nginx access log), the top-level
/// rows are that hop's and get them too.
pub fn cite_hops(report: &mut Report, hops: &[HopAgg], cfg: &ProxyConfigs, only_hops: bool) {
    if cfg.is_empty() {
        return;
    }
    for row in report.hops.iter_mut() {
        let Some(h) = hops.iter().find(|h| h.name == row.name) else {
            continue;
        };
        let Some(proxy) = proxy_of(h.name) else {
            continue;
        };
        cite_rows(&mut row.causes_502, &h.share.agg.causes_502, proxy, cfg);
        cite_rows(&mut row.causes_504, &h.share.agg.causes_504, proxy, cfg);
        cite_rows(
            &mut row.causes_other_5xx,
            &h.share.agg.causes_other_5xx,
            proxy,
            cfg,
        );
    }
    if let ([h], true) = (hops, only_hops) {
        if let Some(proxy) = proxy_of(h.name) {
            cite_rows(&mut report.causes_502, &h.share.agg.causes_502, proxy, cfg);
            cite_rows(&mut report.causes_504, &h.share.agg.causes_504, proxy, cfg);
            cite_rows(
                &mut report.causes_other_5xx,
                &h.share.agg.causes_other_5xx,
                proxy,
                cfg,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hop_configs_are_told_by_content() {
        let hap = b"global\n  log stdout format raw local0\ndefaults\n  mode http\nbackend api\n  server s1 127.0.0.1:1\n";
        assert_eq!(hop_config_kind(hap), Some(ProxyKind::Haproxy));
        let env = b"static_resources:\n  listeners: []\n  clusters: []\n";
        assert_eq!(hop_config_kind(env), Some(ProxyKind::Envoy));
        let json = b"{\"node\": {\"id\": \"a\"}, \"dynamic_resources\" : {\"ads_config\": {}}}";
        assert_eq!(hop_config_kind(json), Some(ProxyKind::Envoy));
        let flow = b"{static_resources: {clusters: []}}\n";
        assert_eq!(hop_config_kind(flow), Some(ProxyKind::Envoy));
        // the word in a log line's URL is not a key
        let log = b"127.0.0.1 - - [10/Oct/2023:13:55:36 +0000] \"GET /static_resources/app.js HTTP/1.1\" 502 0\n";
        assert_eq!(hop_config_kind(log), None);
        // nginx configs and logs are not taken
        assert_eq!(
            hop_config_kind(b"http {\n  upstream backend {\n server a;\n }\n}\n"),
            None
        );
        assert_eq!(
            hop_config_kind(
                b"127.0.0.1 - - [10/Oct/2023:13:55:36 +0000] \"GET / HTTP/1.1\" 502 0\n"
            ),
            None
        );
        assert_eq!(hop_config_kind(b"global\n  maxconn 10\n"), None);
        // the quick test before the text is decoded: a log line naming a
        // backend is not a section, a section after other whitespace is
        let log = b"1.2.3.4 - - [10/Oct/2023:13:55:36 +0000] \"GET /backend HTTP/1.1\" 502 0\n";
        assert!(!section_like(log));
        assert_eq!(hop_config_kind(log), None);
        // a line the quick test lets through, which the full one rejects
        assert!(section_like(b"backend2 x\n"));
        assert_eq!(hop_config_kind(b"backend2 x\n"), None);
        let ff = b"global\n  maxconn 10\n\x0cbackend api\n  server s1 127.0.0.1:1\n";
        assert!(section_like(ff));
        assert_eq!(hop_config_kind(ff), Some(ProxyKind::Haproxy));
    }

    #[test]
    fn durations_read_as_written() {
        use std::time::Duration;
        assert_eq!(human(Duration::from_secs(30)), "30s");
        assert_eq!(human(Duration::from_secs(120)), "2m");
        assert_eq!(human(Duration::from_millis(250)), "250ms");
        assert_eq!(human(Duration::from_millis(1500)), "1.500s");
    }

    #[test]
    fn the_mode_is_compared_within_the_tolerance() {
        let m = Measured {
            pools: vec![],
            mode_ms: Some((29_900, 5)),
            phase: Phase::Any,
            count: 6,
            retries: (0, 0, 0),
        };
        assert!(m.matches(std::time::Duration::from_secs(30)));
        assert!(!m.matches(std::time::Duration::from_secs(31)));
        assert!(!Measured::default().matches(std::time::Duration::from_secs(30)));
    }
}
