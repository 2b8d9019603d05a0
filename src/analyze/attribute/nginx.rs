//! nginx: the settings in effect for the `location` (and the `upstream`
//! block its `proxy_pass` names) that served the failing requests, behind
//! each cause.
//!
//! Which location served a request is decided per request while the access
//! log is read (`NginxConfig::route_key`, nginx's own matching rules in
//! `config::nginx::select`) and counted in `CauseStat::routes`; here each
//! scope's settings are read from the model lint builds — inheritance
//! http → server → location already resolved by `config::nginx::lower`,
//! values typed there in nginx's units (`Arg::time`) — with nginx's documented default
//! (said so) where the config is silent. Scopes that agree are cited once;
//! where the log could not tell which of several scopes served a request,
//! each is cited and the note says so.
//!
//! Defaults are from the module docs on nginx.org (directive named at each);
//! the durations a cause's requests took are compared with each timeout
//! within [`TOLERANCE_MS`].

use std::collections::BTreeMap;
use std::time::Duration;

use super::{Attribution, Citation, HeaderBytes, Measurement, TOLERANCE_MS};
use crate::analyze::cause::Cause;
use crate::analyze::header_sizes::HeaderSizes;
use crate::analyze::nginx_config::{NginxConfig, NO_PATH};
use crate::analyze::stats::CauseStat;
use crate::config::model::{Directives, Host, ProxyModel, Target, Upstream};
use crate::config::nginx::lower::{
    default_time, FAIL_TIMEOUT, KEEPALIVE_MODULE, MAX_FAILS, PROXY_MODULE,
};
use crate::config::nginx::units::fmt_duration;
use crate::source::Span;

/// How many scopes a citation names before "and N more".
const SCOPES_NAMED: usize = 3;

/// One `server` / `location` that served some of a cause's requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Scope {
    m: usize,
    s: usize,
    r: Option<usize>,
}

/// A setting as one scope has it.
struct Found {
    directive: String,
    value: String,
    defaulted: bool,
    span: Span,
    /// What it means for this cause.
    meaning: String,
    /// A time limit to compare the measured durations with.
    limit: Option<Duration>,
    /// The phase the limit ends (`CauseStat::timed`): 1 connecting, 2
    /// connected (reading or sending), 0 any.
    phase: u64,
    /// The response headers measured against this buffer.
    header_bytes: Option<HeaderBytes>,
}

/// What the log measured besides a cause's own counts.
pub(crate) struct Evidence<'a> {
    /// The cause's counts.
    pub stat: &'a CauseStat,
    /// The response heads of the answered requests, per address.
    pub heads: &'a HeaderSizes,
}

struct Ctx<'a> {
    cfg: &'a NginxConfig,
}

impl Ctx<'_> {
    fn model(&self, sc: Scope) -> &ProxyModel {
        &self.cfg.models[sc.m]
    }

    /// The effective directives of a scope and its block header.
    fn directives(&self, sc: Scope) -> (&Directives, Span) {
        let srv = &self.model(sc).servers[sc.s];
        match sc.r {
            Some(r) => (&srv.routes[r].directives, srv.routes[r].span),
            None => (&srv.directives, srv.span),
        }
    }

    fn label(&self, sc: Scope) -> String {
        let srv = &self.model(sc).servers[sc.s];
        let name = if srv.name.is_empty() {
            format!("server at {}", self.cfg.at(srv.span))
        } else {
            format!("server {}", srv.name)
        };
        match sc.r {
            Some(r) => format!("{name} > {}", self.cfg.text(srv.routes[r].span)),
            None => format!("{name} (no location matched)"),
        }
    }

    fn pool(&self, sc: Scope) -> Option<&Upstream> {
        let m = self.model(sc);
        let r = &m.servers[sc.s].routes[sc.r?];
        m.target_pool(r)
    }

    /// A directive of the scope, or its documented default (`None`: no
    /// default worth citing, and not set).
    fn setting(
        &self,
        sc: Scope,
        name: &str,
        default: Option<&str>,
        meaning: &str,
    ) -> Option<Found> {
        let (d, block) = self.directives(sc);
        let found = match d.get(name) {
            Some(x) => Found {
                directive: name.into(),
                value: x.args_text(),
                defaulted: false,
                span: x.span,
                meaning: meaning.into(),
                limit: None,
                phase: 0,
                header_bytes: None,
            },
            None => Found {
                directive: name.into(),
                value: default?.into(),
                defaulted: true,
                span: block,
                meaning: meaning.into(),
                limit: None,
                phase: 0,
                header_bytes: None,
            },
        };
        Some(found)
    }

    fn time(&self, sc: Scope, name: &str, default: Duration, phase: u64, meaning: &str) -> Found {
        let (d, block) = self.directives(sc);
        match d.get(name) {
            Some(x) => Found {
                directive: name.into(),
                value: x.args_text(),
                defaulted: false,
                span: x.span,
                meaning: meaning.into(),
                limit: x.time(0).map(|t| t.value),
                phase,
                header_bytes: None,
            },
            None => Found {
                directive: name.into(),
                value: fmt_duration(default),
                defaulted: true,
                span: block,
                meaning: meaning.into(),
                limit: Some(default),
                phase,
                header_bytes: None,
            },
        }
    }
}

/// The scopes of a `route_key` (before its first `|`).
fn parse_scopes(list: &str) -> Vec<Scope> {
    list.split(';')
        .filter_map(|t| {
            let mut it = t.split('.');
            let m = it.next()?.parse().ok()?;
            let s = it.next()?.parse().ok()?;
            let r = it.next()?.parse().ok();
            Some(Scope { m, s, r })
        })
        .collect()
}

/// Read `CauseStat::routes` back: scope → requests, requests whose scope was
/// one of several, and the notes on what could not be told.
fn scopes(cfg: &NginxConfig, stat: &CauseStat) -> (BTreeMap<Scope, u64>, Vec<String>) {
    let mut out: BTreeMap<Scope, u64> = BTreeMap::new();
    let mut notes = Vec::new();
    let (mut no_path, mut several, mut no_host, mut no_proxy) = (0u64, 0u64, 0u64, 0u64);
    let mut regex: BTreeMap<String, u64> = BTreeMap::new();
    let mut ifs: BTreeMap<String, u64> = BTreeMap::new();
    let mut other: BTreeMap<String, u64> = BTreeMap::new();
    for (key, &n) in &stat.routes {
        if key == NO_PATH {
            no_path += n;
            continue;
        }
        let mut parts = key.split('|');
        let list = parse_scopes(parts.next().unwrap_or(""));
        if list.len() > 1 {
            several += n;
        }
        for sc in list {
            *out.entry(sc).or_default() += n;
        }
        for d in parts {
            let span = || {
                let mut it = d[1..].split(':').map(|x| x.parse::<u32>().unwrap_or(0));
                let (f, a, b) = (it.next()?, it.next()?, it.next()?);
                Some(Span {
                    file: crate::source::FileId(f),
                    start: a,
                    end: b,
                })
            };
            match d.as_bytes().first() {
                Some(b'h') => no_host += n,
                Some(b'n') => no_proxy += n,
                Some(b'x') => {
                    if let Some(sp) = span() {
                        *regex
                            .entry(format!("`{}` ({})", cfg.text(sp), cfg.at(sp)))
                            .or_default() += n;
                    }
                }
                Some(b'o') => {
                    if let Some(sp) = span() {
                        *other
                            .entry(format!("`{}` ({})", cfg.text(sp), cfg.at(sp)))
                            .or_default() += n;
                    }
                }
                Some(b'i') => {
                    if let Some(sp) = span() {
                        *ifs.entry(format!("`{}` ({})", cfg.text(sp), cfg.at(sp)))
                            .or_default() += n;
                    }
                }
                _ => {}
            }
        }
    }
    let total = stat.count;
    if no_path > 0 {
        notes.push(format!(
            "{no_path} of {total} requests: the access log has no request path, so the location that served them is not known; the locations cited are those that send to the upstream the log names (add $request or $uri to log_format)"
        ));
    }
    if no_host > 0 {
        notes.push(format!(
            "{no_host} of {total} requests: the log has no host and several servers could have served them (add $host to log_format)"
        ));
    }
    if several > 0 {
        notes.push(format!(
            "{several} of {total} requests could have been served by more than one location (the log does not say which listen port or location): where their settings differ, each is cited"
        ));
    }
    for (what, n) in regex {
        notes.push(format!(
            "{n} of {total} requests may have gone to {what}: its regular expression uses syntax gatecheck cannot evaluate (PCRE-only), so it is cited as a possibility"
        ));
    }
    for (what, n) in ifs {
        notes.push(format!(
            "{n} of {total} requests were served by a location holding {what}: the settings inside it applied only when its condition held, which the log does not tell"
        ));
    }
    for (what, n) in other {
        notes.push(format!(
            "{n} of {total} requests were sent to their upstream by {what}, not proxy_pass: that module's own settings (its *_connect_timeout, *_read_timeout, *_next_upstream) applied; they are not cited here"
        ));
    }
    if no_proxy > 0 {
        notes.push(format!(
            "{no_proxy} of {total} requests reached an upstream, but no location of the config that proxies serves their host and path: was this the config nginx ran?"
        ));
    }
    (out, notes)
}

/// When the log told no scope (no path): the proxying locations that send
/// to the addresses the log names, else every proxying location.
fn fallback(cfg: &NginxConfig, stat: &CauseStat) -> BTreeMap<Scope, u64> {
    let mut all: Vec<Scope> = Vec::new();
    for (m, model) in cfg.models.iter().enumerate() {
        for (s, srv) in model.servers.iter().enumerate() {
            for (r, route) in srv.routes.iter().enumerate() {
                if route.proxy.is_some() {
                    all.push(Scope { m, s, r: Some(r) });
                }
            }
        }
    }
    let sending: Vec<Scope> = all
        .iter()
        .copied()
        .filter(|sc| {
            stat.addrs
                .keys()
                .any(|a| sc.r.is_some_and(|r| cfg.sends_to(sc.m, sc.s, r, a)))
        })
        .collect();
    let pick = if sending.is_empty() { all } else { sending };
    pick.into_iter().map(|sc| (sc, 0)).collect()
}

/// The location's `error_page` for a gateway's 5xx (500–504): with `=code`
/// the client gets that status instead (`error_page 502 =200 /fallback;`
/// hides the upstream's 502 from `$status`, while `$upstream_status` keeps
/// it), without it the page is served with the status kept
/// (ngx_http_core_module; both seen with nginx 1.22).
fn error_pages(c: &Ctx<'_>, sc: Scope) -> Vec<Found> {
    let (d, _) = c.directives(sc);
    let mut v = Vec::new();
    for x in d.all("error_page") {
        let codes: Vec<&str> = x
            .args
            .iter()
            .map(|a| a.value.as_str())
            .filter(|a| a.parse::<u16>().is_ok_and(|n| (500..=504).contains(&n)))
            .collect();
        if codes.is_empty() {
            continue;
        }
        let to = x.args.iter().find_map(|a| a.value.strip_prefix('='));
        let meaning = match to {
            Some(code) if !code.is_empty() => format!(
                "the client gets {code} instead of {}: such 5xx are counted as hidden by nginx, not in the status column",
                codes.join("/")
            ),
            Some(_) => format!(
                "the client gets the status of the page served instead of {}",
                codes.join("/")
            ),
            None => format!(
                "a page of its own is served for {}, the status is kept",
                codes.join("/")
            ),
        };
        v.push(Found {
            directive: "error_page".into(),
            value: x.args_text(),
            defaulted: false,
            span: x.span,
            meaning,
            limit: None,
            phase: 0,
            header_bytes: None,
        });
    }
    v
}

/// What a cause's settings are, for one scope.
fn found_for(c: &Ctx<'_>, sc: Scope, cause: Cause, ev: &Evidence<'_>) -> Vec<Found> {
    let mut v = Vec::new();
    if matches!(cause, Cause::UpstreamRefused | Cause::Timeout) {
        v.extend(resolved_once(c, sc, ev.stat));
    }
    // an upstream's own answer meets error_page only with
    // proxy_intercept_errors on (ngx_http_proxy_module)
    let intercepts = || {
        c.directives(sc)
            .0
            .flag("proxy_intercept_errors")
            .is_some_and(|f| f.value)
    };
    let pages = match cause {
        Cause::RateLimited | Cause::ConfigReturn | Cause::Unknown => false,
        Cause::Passthrough => intercepts(),
        _ => true,
    };
    if pages {
        v.extend(error_pages(c, sc));
    }
    match cause {
        Cause::Timeout => {
            // meanings: ngx_http_proxy_module docs
            v.push(c.time(
                sc,
                "proxy_connect_timeout",
                default_time("proxy_connect_timeout", PROXY_MODULE),
                1,
                "how long establishing the connection to the upstream may take (cannot usefully exceed 75 s)",
            ));
            v.push(c.time(
                sc,
                "proxy_read_timeout",
                default_time("proxy_read_timeout", PROXY_MODULE),
                2,
                "how long nginx waits between two reads of the upstream's response (not for the whole response)",
            ));
            v.push(c.time(
                sc,
                "proxy_send_timeout",
                default_time("proxy_send_timeout", PROXY_MODULE),
                2,
                "how long nginx waits between two writes of the request to the upstream",
            ));
        }
        Cause::HeaderTooBig => {
            let buffer = c
                .directives(sc)
                .0
                .get("proxy_buffer_size")
                .and_then(|d| d.size(0))
                .map(|s| s.value);
            if let Some(mut f) = c.setting(
                sc,
                "proxy_buffer_size",
                Some("4k|8k (one memory page)"),
                "the buffer the upstream's response header must fit in; 'upstream sent too big header' when it does not",
            ) {
                let (said, seen) = header_evidence(ev, buffer);
                f.meaning = format!("{}; {said}", f.meaning);
                f.header_bytes = seen;
                v.push(f);
            }
            v.extend(c.setting(
                sc,
                "proxy_buffers",
                Some("8 4k|8k"),
                "buffers for the response body (they do not hold the header)",
            ));
        }
        Cause::Dns => {
            v.extend(c.setting(
                sc,
                "resolver",
                Some("none"),
                "the DNS servers nginx asks at run time for names in a proxy_pass with variables (or an upstream server with `resolve`); without one such names cannot be resolved",
            ));
            v.extend(c.setting(
                sc,
                "resolver_timeout",
                Some("30s"),
                "how long a name resolution may take",
            ));
        }
        Cause::Tls => {
            v.extend(c.setting(
                sc,
                "proxy_ssl_server_name",
                Some("off"),
                "whether nginx sends SNI to the upstream (off: an upstream that needs SNI fails the handshake)",
            ));
            v.extend(c.setting(
                sc,
                "proxy_ssl_name",
                Some("$proxy_host"),
                "the name sent as SNI and verified in the upstream's certificate",
            ));
            v.extend(c.setting(
                sc,
                "proxy_ssl_verify",
                Some("off"),
                "whether the upstream's certificate is verified",
            ));
            v.extend(c.setting(
                sc,
                "proxy_ssl_protocols",
                Some("TLSv1.2 TLSv1.3 (since 1.23.4)"),
                "the TLS versions offered to the upstream",
            ));
            v.extend(c.setting(
                sc,
                "proxy_ssl_trusted_certificate",
                None,
                "the CA bundle the upstream's certificate is verified against",
            ));
        }
        Cause::KeepaliveRace | Cause::UpstreamClosedEarly | Cause::UpstreamReset => {
            if let Some(u) = c.pool(sc) {
                v.push(match u.directives.get("keepalive") {
                    Some(d) => Found {
                        directive: "keepalive".into(),
                        value: d.args_text(),
                        defaulted: false,
                        span: d.span,
                        meaning: format!("upstream {} keeps idle connections to reuse: the upstream may close one as nginx sends on it", u.name),
                        limit: None,
                        phase: 0,
                        header_bytes: None,
                    },
                    None => Found {
                        directive: "keepalive".into(),
                        value: "not set".into(),
                        defaulted: true,
                        span: u.span,
                        meaning: format!("upstream {}: no idle connections are kept before nginx 1.29.7 (32 since)", u.name),
                        limit: None,
                        phase: 0,
                        header_bytes: None,
                    },
                });
                let kt = u.directives.get("keepalive_timeout");
                v.push(Found {
                    directive: "keepalive_timeout".into(),
                    value: kt.map_or_else(|| fmt_duration(default_time("keepalive_timeout", KEEPALIVE_MODULE)), |d| d.args_text()),
                    defaulted: kt.is_none(),
                    span: kt.map_or(u.span, |d| d.span),
                    // upstream `keepalive_timeout`: "appeared in version
                    // 1.15.3", default 60s (ngx_http_upstream_module docs)
                    meaning: format!(
                        "how long nginx keeps an idle connection to upstream {} for reuse{}: the app's own idle timeout must be longer, or the app closes connections nginx is about to reuse",
                        u.name,
                        if kt.is_none() { " (the directive and its 60s default since nginx 1.15.3)" } else { "" }
                    ),
                    limit: None,
                    phase: 0,
                    header_bytes: None,
                });
            }
            v.extend(c.setting(
                sc,
                "proxy_http_version",
                Some("1.0 (1.1 since 1.29.7)"),
                "HTTP/1.1 (with `proxy_set_header Connection \"\"`) is needed to reuse upstream connections",
            ));
        }
        Cause::ConfigReturn | Cause::Unknown => {
            // `return 502;` (or any 5xx) answers at the rewrite phase, before
            // a content handler runs: nginx logs no error and no upstream
            // ($upstream_status '-'), so the log alone cannot tell it from a
            // limit logged below the error log's level; the config can
            // (ngx_http_rewrite_module)
            let (d, _) = c.directives(sc);
            for x in d.all("return") {
                if x.arg(0)
                    .and_then(|a| a.parse::<u16>().ok())
                    .is_some_and(|code| (500..600).contains(&code))
                {
                    v.push(Found {
                        directive: "return".into(),
                        value: x.args_text(),
                        defaulted: false,
                        span: x.span,
                        meaning: "this location answers with this status itself: the config made these requests' 5xx, no upstream was tried".into(),
                        limit: None,
                        phase: 0,
                        header_bytes: None,
                    });
                }
            }
        }
        Cause::RateLimited => {
            let (d, _) = c.directives(sc);
            let global = &c.model(sc).global.directives;
            for (name, zone_name, status) in [
                ("limit_req", "limit_req_zone", "limit_req_status"),
                ("limit_conn", "limit_conn_zone", "limit_conn_status"),
            ] {
                for x in d.all(name) {
                    v.push(Found {
                        directive: name.into(),
                        value: x.args_text(),
                        defaulted: false,
                        span: x.span,
                        meaning: "a limit in effect for this location".into(),
                        limit: None,
                        phase: 0,
                        header_bytes: None,
                    });
                    let zone = x
                        .args
                        .iter()
                        .find_map(|a| a.value.strip_prefix("zone="))
                        .or_else(|| x.arg(0));
                    if let Some(z) = global.all(zone_name).iter().find(|z| {
                        z.args.iter().any(|a| {
                            a.value
                                .strip_prefix("zone=")
                                .unwrap_or(&a.value)
                                .split(':')
                                .next()
                                == zone
                        })
                    }) {
                        v.push(Found {
                            directive: zone_name.into(),
                            value: z.args_text(),
                            defaulted: false,
                            span: z.span,
                            meaning: "the zone's key and rate".into(),
                            limit: None,
                            phase: 0,
                            header_bytes: None,
                        });
                    }
                }
                if d.has(name) {
                    v.extend(c.setting(
                        sc,
                        status,
                        Some("503"),
                        "the status rejected requests get",
                    ));
                }
            }
        }
        Cause::NoLiveUpstream | Cause::UpstreamRefused => {
            if let Some(u) = c.pool(sc) {
                for e in &u.servers {
                    let mf = e.params.iter().find(|p| p.value.starts_with("max_fails="));
                    let ft = e
                        .params
                        .iter()
                        .find(|p| p.value.starts_with("fail_timeout="));
                    let mut value = e.address.clone();
                    for p in &e.params {
                        value.push(' ');
                        value.push_str(&p.value);
                    }
                    let defaults: Vec<String> = [
                        mf.is_none().then(|| format!("max_fails={MAX_FAILS}")),
                        ft.is_none()
                            .then(|| format!("fail_timeout={}", fmt_duration(FAIL_TIMEOUT))),
                    ]
                    .into_iter()
                    .flatten()
                    .collect();
                    v.push(Found {
                        directive: "server".into(),
                        value,
                        defaulted: false,
                        span: e.span,
                        meaning: format!(
                            "in upstream {}: after max_fails failures within fail_timeout nginx skips the server for fail_timeout; with every server skipped, 'no live upstreams'{}",
                            u.name,
                            if defaults.is_empty() {
                                String::new()
                            } else {
                                format!(" (defaults here: {})", defaults.join(", "))
                            }
                        ),
                        limit: None,
                        phase: 0,
                        header_bytes: None,
                    });
                }
            } else if let Some(p) = c.model(sc).servers[sc.s]
                .routes
                .get(sc.r.unwrap_or(usize::MAX))
                .and_then(|r| r.proxy.as_ref())
                // a name is cited by `resolved_once`
                .filter(|p| p.has_variables || !matches!(p.target, Target::Address(Host::Name(_))))
            {
                v.push(Found {
                    directive: "proxy_pass".into(),
                    value: p.raw.clone(),
                    defaulted: false,
                    span: p.span,
                    meaning: "a single address, not an upstream group: nothing to fail over to"
                        .into(),
                    limit: None,
                    phase: 0,
                    header_bytes: None,
                });
            }
            v.extend(next_upstream(c, sc, cause));
        }
        Cause::Passthrough => v.extend(next_upstream(c, sc, cause)),
        _ => {}
    }
    v.extend(retry_limits(c, sc, ev.stat));
    v
}

/// `proxy_next_upstream_tries` and `proxy_next_upstream_timeout`, when the
/// config sets them (their 0 default means no limit) and the cause's
/// requests were retried: nginx stops moving to the next server once either
/// is reached (`ngx_http_upstream_next`: `u->peer.tries == 0` or the time
/// since the first try exceeds the timeout, then it finalizes with the last
/// attempt's error). A real nginx 1.22 with `proxy_next_upstream_tries 2`
/// over three servers logs `us="502, 504"`: the third was never tried.
fn retry_limits(c: &Ctx<'_>, sc: Scope, stat: &CauseStat) -> Vec<Found> {
    let mut v = Vec::new();
    if stat.retried == 0 {
        return v;
    }
    let (d, _) = c.directives(sc);
    let servers = c.pool(sc).map(|u| u.servers.len());
    if let Some(x) = d.get("proxy_next_upstream_tries") {
        let n = x.arg(0).and_then(|a| a.parse::<u64>().ok()).unwrap_or(0);
        if n > 0 {
            let reached = stat.max_attempts >= n;
            let pool = match servers {
                Some(k) if k as u64 > n => format!(" although the group has {k} servers"),
                _ => String::new(),
            };
            v.push(Found {
                directive: "proxy_next_upstream_tries".into(),
                value: x.args_text(),
                defaulted: false,
                span: x.span,
                meaning: if reached {
                    format!(
                        "nginx gives up after {n} tries (the first and {} retries){pool}: these requests tried up to {} servers, so the limit ended their retries and the last try's failure is what the client got",
                        n - 1,
                        stat.max_attempts
                    )
                } else {
                    format!(
                        "nginx gives up after {n} tries; these requests tried at most {} servers: the limit was not reached",
                        stat.max_attempts
                    )
                },
                limit: None,
                phase: 0,
                header_bytes: None,
            });
        }
    }
    if let Some(x) = d.get("proxy_next_upstream_timeout") {
        if x.time(0).is_some_and(|t| !t.value.is_zero()) {
            v.push(Found {
                directive: "proxy_next_upstream_timeout".into(),
                value: x.args_text(),
                defaulted: false,
                span: x.span,
                meaning: "once this long has passed since the first try, nginx tries no other server and the client gets the last try's failure: it may have ended these requests' retries (compare it with their $request_time)".into(),
                limit: None,
                phase: 0,
                header_bytes: None,
            });
        }
    }
    v
}

/// `proxy_next_upstream` (or its default) and what it would retry of
/// `cause`: `error` covers a refused connection, `timeout` a timeout,
/// `http_502` an upstream's own 502 (ngx_http_proxy_module,
/// `proxy_next_upstream`; since 1.9.13 a POST, LOCK or PATCH is not
/// retried once sent unless `non_idempotent` is listed).
fn next_upstream(c: &Ctx<'_>, sc: Scope, cause: Cause) -> Option<Found> {
    let mut f = c.setting(sc, "proxy_next_upstream", Some("error timeout"), "")?;
    let words: Vec<&str> = f.value.split_whitespace().collect();
    // a name in proxy_pass is a group of the addresses it resolved to
    let name =
        sc.r.and_then(|r| c.model(sc).servers[sc.s].routes[r].proxy.as_ref())
            .is_some_and(|p| matches!(p.target, Target::Address(Host::Name(_))));
    let next = match c.pool(sc) {
        Some(u) if u.servers.len() > 1 => "the next server of the group",
        _ if name => "the next address the name resolved to, when it resolved to more than one",
        _ => "",
    };
    let (word, what) = match cause {
        Cause::Passthrough => ("http_502", "an upstream's own 502"),
        Cause::Timeout => ("timeout", "a timeout"),
        _ => ("error", "a refused connection"),
    };
    f.meaning = if words.contains(&"off") {
        "off: nginx never tries another server".into()
    } else if words.contains(&word) {
        if next.is_empty() {
            format!("`{word}` is listed, but this location sends to one server: there is no next one to try")
        } else {
            format!(
                "`{word}` is listed: {what} is tried again on {next} (a POST, LOCK or PATCH already sent only with `non_idempotent`)"
            )
        }
    } else {
        format!(
            "`{word}` is not listed: {what} is passed to the client as it is, not tried on another server"
        )
    };
    Some(f)
}

/// A `proxy_pass` to a DNS name, without variables: nginx resolves the name
/// once, when it reads the config, and keeps the addresses until it is
/// reloaded (ngx_http_proxy_module, `proxy_pass`: a name that resolves to
/// several addresses is used round-robin; the `resolver` is asked at run
/// time only for a URL with variables — ngx_http_proxy_handler
/// resolves only when `proxy_pass` has variables, the others go through
/// ngx_parse_url at config time). The addresses the log shows for the
/// cause's requests are what nginx kept connecting to.
fn resolved_once(c: &Ctx<'_>, sc: Scope, stat: &CauseStat) -> Vec<Found> {
    let Some(route) = sc.r.map(|r| &c.model(sc).servers[sc.s].routes[r]) else {
        return Vec::new();
    };
    let Some(p) = &route.proxy else {
        return Vec::new();
    };
    let Target::Address(Host::Name(name)) = &p.target else {
        return Vec::new();
    };
    if p.has_variables {
        return Vec::new();
    }
    let mut addrs: Vec<(&String, &u64)> = stat.tried.iter().collect();
    addrs.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let seen = match addrs.as_slice() {
        [] => " The log names no upstream address for these requests (add $upstream_addr to log_format to see where they went).".to_string(),
        [(a, n)] => format!(
            " All {n} of these requests went to {a}: the logged address never changed."
        ),
        more => format!(
            " These {} requests went to {} addresses: {}.",
            stat.count,
            more.len(),
            more.iter()
                .take(5)
                .map(|(a, n)| format!("{a} ({n})"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut v = vec![Found {
        directive: "proxy_pass".into(),
        value: p.raw.clone(),
        defaulted: false,
        span: p.span,
        meaning: format!(
            "`{name}` is a name in a proxy_pass without variables: nginx resolved it once, when it loaded the config, and connects to those addresses until it is reloaded, whatever the name resolves to since.{seen} If the name now points elsewhere, reload nginx, or use a variable in proxy_pass with a `resolver` (or `server … resolve` in an upstream block)."
        ),
        limit: None,
        phase: 0,
        header_bytes: None,
    }];
    v.extend(c.setting(
        sc,
        "resolver",
        Some("not set"),
        "not asked for this proxy_pass: without variables in it, the name is not looked up again while nginx runs",
    ));
    v
}

/// What the log says about the response headers of the addresses behind
/// a header-too-big cause, set against the buffer (`buffer` bytes when the
/// config sets it): a sentence, and the numbers when it measured them.
fn header_evidence(ev: &Evidence<'_>, buffer: Option<u64>) -> (String, Option<HeaderBytes>) {
    let mut addrs: Vec<&str> = ev.stat.addrs.keys().map(String::as_str).collect();
    addrs.sort_unstable();
    if !ev.heads.logged {
        return (
            "add $upstream_bytes_received and $upstream_response_length to log_format to see the response header sizes of the requests this upstream answered".into(),
            None,
        );
    }
    if addrs.is_empty() {
        return (
            "the log names no upstream address for these requests, so the answers of their upstream cannot be told apart (add $upstream_addr to log_format)".into(),
            None,
        );
    }
    let over = buffer.map_or_else(String::new, |b| {
        format!(" (those that failed had a header over the {b}-byte buffer: nginx read that much without finding its end)")
    });
    match ev.heads.largest(addrs.iter().copied()) {
        None => (
            format!(
                "{} answered no request in the logs read, so no response header size is known{over}",
                addrs.join(", ")
            ),
            None,
        ),
        Some(l) => (
            format!(
                "the largest response header of the {} answered requests from {} was {} bytes ($upstream_bytes_received − $upstream_response_length){over}",
                l.of,
                addrs.join(", "),
                l.bytes
            ),
            Some(HeaderBytes {
                largest: l.bytes,
                of: l.of,
                upstreams: addrs.iter().map(|a| a.to_string()).collect(),
            }),
        ),
    }
}

/// How many of a cause's requests were already retries, as
/// `$upstream_status` lists the servers tried (`, ` between them). Said
/// for every cause when some were; that none were, or that the log cannot
/// tell, only where retries are the question (a refused server, an
/// upstream's own 502).
fn retried(stat: &CauseStat, cause: Cause) -> Option<String> {
    let asked = matches!(cause, Cause::UpstreamRefused | Cause::Passthrough);
    if stat.retried == 0 && !asked {
        return None;
    }
    if stat.attempts_logged == 0 {
        return (stat.count > 0).then(|| {
            "the log does not list the servers tried: add $upstream_addr and $upstream_status to log_format to see which requests were already retries".to_string()
        });
    }
    let of = stat.attempts_logged;
    Some(if stat.retried == 0 && of == 1 {
        "the request was not retried: $upstream_status lists one server".to_string()
    } else if stat.retried == 0 {
        format!("none of the {of} requests was retried: $upstream_status lists one server for each")
    } else {
        format!(
            "{} of {of} requests were already retries: $upstream_status lists more than one server tried (at most {})",
            stat.retried, stat.max_attempts
        )
    })
}

/// The failed attempts (`CauseStat::timed`) of requests served in one of
/// `scopes` (or in an unknown scope: the log had no path) that took `limit`
/// within [`TOLERANCE_MS`]: (in a phase the limit can end — a logged
/// connect time rules the connect timeout out —, in any phase, measured).
fn near(stat: &CauseStat, scopes: &[Scope], limit: Duration, phase: u64) -> (u64, u64, u64) {
    let l = u64::try_from(limit.as_millis()).unwrap_or(u64::MAX);
    let (mut hit, mut any, mut of) = (0, 0, 0);
    for (key, &n) in &stat.timed {
        let Some((k, route)) = key.split_once('@') else {
            continue;
        };
        let Ok(k) = k.parse::<u64>() else { continue };
        let served = parse_scopes(route.split('|').next().unwrap_or(""));
        if !served.is_empty() && !served.iter().any(|s| scopes.contains(s)) {
            continue;
        }
        of += n;
        if (k / 4).saturating_mul(100).abs_diff(l) <= TOLERANCE_MS {
            any += n;
            let p = k % 4;
            if p == 0 || phase == 0 || p == phase {
                hit += n;
            }
        }
    }
    (hit, any, of)
}

/// Cite what bears on `cause` for the requests `ev.stat` counts.
pub(crate) fn attribute(cfg: &NginxConfig, cause: Cause, ev: &Evidence<'_>) -> Attribution {
    let mut out = Attribution::default();
    if cfg.is_empty() {
        return out;
    }
    let stat = ev.stat;
    let (mut by_scope, notes) = scopes(cfg, stat);
    out.notes = notes;
    if cause != Cause::RateLimited {
        out.notes.extend(retried(stat, cause));
    }
    // requests sent by another module's `*_pass` have no proxy_* settings
    // to fall back on
    let other_only = !stat.routes.is_empty()
        && stat
            .routes
            .keys()
            .all(|k| k.split('|').skip(1).any(|d| d.starts_with('o')));
    if by_scope.is_empty() && !other_only {
        by_scope = fallback(cfg, stat);
    }
    let c = Ctx { cfg };
    // one citation per distinct setting: (directive, value, where) → scopes
    let mut groups: Vec<(Found, Vec<(Scope, u64)>)> = Vec::new();
    for (&sc, &n) in &by_scope {
        for f in found_for(&c, sc, cause, ev) {
            let same = |g: &Found| {
                g.directive == f.directive
                    && g.value == f.value
                    && g.defaulted == f.defaulted
                    && (g.defaulted || g.span == f.span)
            };
            match groups.iter_mut().find(|(g, _)| same(g)) {
                Some((_, scopes)) => scopes.push((sc, n)),
                None => groups.push((f, vec![(sc, n)])),
            }
        }
    }
    let total = stat.count;
    let mut matched_any = false;
    for (f, scopes) in groups {
        // each scope with the requests it served, when it is one of several
        let several = by_scope.len() > 1;
        let mut names: Vec<String> = scopes
            .iter()
            .take(SCOPES_NAMED)
            .map(|(s, n)| match (several, *n) {
                (true, n) if n > 0 => format!("{} ({n})", c.label(*s)),
                _ => c.label(*s),
            })
            .collect();
        if scopes.len() > SCOPES_NAMED {
            names.push(format!("and {} more", scopes.len() - SCOPES_NAMED));
        }
        let served: u64 = scopes.iter().map(|(_, n)| n).sum();
        let mut scope = names.join(", ");
        if served > 0 && served < total {
            scope.push_str(&format!(": {served} of the {total} requests"));
        }
        let at = cfg.at(f.span);
        let mut note = if f.defaulted {
            format!("not set, nginx's default applies: {}", f.meaning)
        } else {
            f.meaning.clone()
        };
        let mut measured = None;
        if let Some(limit) = f.limit {
            let in_scope: Vec<Scope> = scopes.iter().map(|(s, _)| *s).collect();
            let (hit, any_phase, of) = near(stat, &in_scope, limit, f.phase);
            if of > 0 {
                let tol = TOLERANCE_MS as f64 / 1000.0;
                let secs = limit.as_secs_f64();
                if hit > 0 {
                    matched_any = true;
                    note = format!(
                        "{hit} of {of} timed-out requests there took {secs:.1} s ± {tol:.1} s (the failed attempt's $upstream_response_time{}): that is {} {} ({at}{})",
                        if f.phase == 2 { ", after connecting" } else { "" },
                        f.directive,
                        fmt_duration(limit),
                        if f.defaulted { ", nginx's default: not set" } else { "" }
                    );
                } else if any_phase > 0 {
                    note.push_str(&format!(
                        "; {any_phase} of {of} timed-out requests there took {secs:.1} s ± {tol:.1} s, but the log has their connect time: they were connected, so not this limit"
                    ));
                } else {
                    note.push_str(&format!(
                        "; none of the {of} timed-out requests there took {secs:.1} s ± {tol:.1} s"
                    ));
                }
                measured = Some(Measurement {
                    matched: hit,
                    of,
                    limit_ms: u64::try_from(limit.as_millis()).unwrap_or(u64::MAX),
                    tolerance_ms: TOLERANCE_MS,
                    what: "$upstream_response_time of the failed attempt".into(),
                });
            }
        }
        out.settings.push(Citation {
            directive: f.directive,
            value: f.value,
            defaulted: f.defaulted,
            file: cfg.file_name(f.span),
            line: cfg.line(f.span),
            scope,
            note,
            measured,
            header_bytes: f.header_bytes,
        });
    }
    if cause == Cause::Timeout && !matched_any {
        let of: u64 = stat.durations.values().sum();
        if let Some((k, n)) = stat
            .durations
            .iter()
            .max_by_key(|(k, v)| (**v, std::cmp::Reverse(**k)))
        {
            out.notes.push(format!(
                "{n} of {of} timed-out requests took about {:.1} s: none of the timeouts cited is within ±{:.1} s of it (a limit elsewhere — the client, a hop in front, proxy_next_upstream_timeout — or no single limit ended them)",
                *k as f64 / 10.0,
                TOLERANCE_MS as f64 / 1000.0
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::nginx_config;

    fn cfg(text: &str) -> (tempfile::TempDir, NginxConfig) {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("nginx.conf"), text).expect("write");
        let c = nginx_config::read(&[dir.path().to_path_buf()]);
        assert!(c.problems.is_empty(), "{:?}", c.problems);
        (dir, c)
    }

    fn stat(c: &NginxConfig, reqs: &[(Option<&str>, &str, &str, u64)]) -> CauseStat {
        let mut st = CauseStat::default();
        for (host, path, addr, ms) in reqs {
            st.count += 1;
            *st.routes
                .entry(c.route_key(*host, Some(path), Some(addr)))
                .or_default() += 1;
            *st.addrs.entry(addr.to_string()).or_default() += 1;
            *st.durations.entry((ms + 50) / 100).or_default() += 1;
            // connected (the rich format logs the connect time)
            let key = c.route_key(*host, Some(path), Some(addr));
            *st.timed
                .entry(format!("{}@{key}", (ms + 50) / 100 * 4 + 2))
                .or_default() += 1;
        }
        st
    }

    /// The citation of `directive` in `a` (a panic when there is none).
    pub(super) fn cited<'a>(a: &'a Attribution, directive: &str) -> &'a Citation {
        a.settings
            .iter()
            .find(|s| s.directive == directive)
            .unwrap_or_else(|| panic!("{directive} not cited: {:?}", a.settings))
    }

    fn attr(c: &NginxConfig, cause: Cause, st: &CauseStat) -> Attribution {
        let heads = HeaderSizes::default();
        attribute(
            c,
            cause,
            &Evidence {
                stat: st,
                heads: &heads,
            },
        )
    }

    const CONF: &str = "events {}
http {
    proxy_read_timeout 30s;
    upstream api { server 10.0.0.1:80; keepalive 8; }
    upstream web { server 10.0.0.2:80 max_fails=3; }
    server {
        listen 80;
        server_name shop.example.com;
        location / { proxy_pass http://web; }
        location /api/ {
            proxy_pass http://api;
            proxy_read_timeout 5s;
        }
    }
    server {
        listen 80;
        server_name admin.example.com;
        location / { proxy_pass http://web; proxy_read_timeout 90s; }
    }
}
";

    fn line_of(needle: &str) -> u32 {
        CONF.lines().position(|l| l.contains(needle)).expect("line") as u32 + 1
    }

    #[test]
    fn the_location_that_served_the_request_is_cited() {
        let (_d, c) = cfg(CONF);
        let st = stat(
            &c,
            &[
                (
                    Some("shop.example.com"),
                    "/api/orders",
                    "10.0.0.1:80",
                    5_001,
                ),
                (
                    Some("shop.example.com"),
                    "/api/cart?x=1",
                    "10.0.0.1:80",
                    5_002,
                ),
            ],
        );
        let a = attr(&c, Cause::Timeout, &st);
        let read = cited(&a, "proxy_read_timeout");
        // the location's own 5s, not http's 30s or the other server's 90s
        assert_eq!(read.value, "5s");
        assert_eq!(read.line, line_of("proxy_read_timeout 5s"));
        assert!(read.scope.contains("location /api/"), "{}", read.scope);
        assert!(
            read.note
                .starts_with("2 of 2 timed-out requests there took 5.0 s ± 0.5 s"),
            "{}",
            read.note
        );
        let m = read.measured.as_ref().expect("measured");
        assert_eq!((m.matched, m.of, m.limit_ms), (2, 2, 5_000));
        // unset: nginx's default, at the location's line
        let conn = cited(&a, "proxy_connect_timeout");
        assert_eq!(conn.value, "60s");
        assert!(
            conn.note.starts_with("not set, nginx's default applies"),
            "{}",
            conn.note
        );
        assert!(conn.defaulted);
        assert_eq!(conn.line, line_of("location /api/"));
        assert!(a.notes.is_empty(), "{:?}", a.notes);
    }

    #[test]
    fn inherited_values_and_other_servers() {
        let (_d, c) = cfg(CONF);
        // `location /` of shop inherits http's 30s; admin's sets 90s
        let st = stat(
            &c,
            &[(Some("shop.example.com"), "/", "10.0.0.2:80", 30_000)],
        );
        let a = attr(&c, Cause::Timeout, &st);
        let read = cited(&a, "proxy_read_timeout");
        assert_eq!(
            (read.value.as_str(), read.line),
            ("30s", line_of("proxy_read_timeout 30s"))
        );
        let st = stat(
            &c,
            &[(Some("admin.example.com"), "/x", "10.0.0.2:80", 1_000)],
        );
        let a = attr(&c, Cause::Timeout, &st);
        let read = cited(&a, "proxy_read_timeout");
        assert_eq!(read.value, "90s");
        assert!(
            read.note
                .contains("none of the 1 timed-out requests there took 90.0 s"),
            "{}",
            read.note
        );
        assert!(
            a.notes.iter().any(|n| n.contains("took about 1.0 s")),
            "{:?}",
            a.notes
        );
    }

    #[test]
    fn without_a_host_the_candidates_are_each_cited_and_said() {
        let (_d, c) = cfg(CONF);
        // `/` to web: shop's `location /` (30s) or admin's (90s)
        let st = stat(&c, &[(None, "/", "10.0.0.2:80", 30_000)]);
        let a = attr(&c, Cause::Timeout, &st);
        let reads: Vec<&str> = a
            .settings
            .iter()
            .filter(|s| s.directive == "proxy_read_timeout")
            .map(|s| s.value.as_str())
            .collect();
        assert_eq!(reads, ["30s", "90s"]);
        assert!(
            a.notes.iter().any(|n| n.contains("no host")),
            "{:?}",
            a.notes
        );
        assert!(
            a.notes.iter().any(|n| n.contains("more than one location")),
            "{:?}",
            a.notes
        );
        // but the upstream address narrows it: /api/ is only shop's
        let st = stat(&c, &[(None, "/api/x", "10.0.0.1:80", 5_000)]);
        let a = attr(&c, Cause::Timeout, &st);
        let reads: Vec<&str> = a
            .settings
            .iter()
            .filter(|s| s.directive == "proxy_read_timeout")
            .map(|s| s.value.as_str())
            .collect();
        assert_eq!(reads, ["5s"]);
    }

    #[test]
    fn upstream_settings_come_from_the_group_proxy_pass_names() {
        let (_d, c) = cfg(CONF);
        let st = stat(
            &c,
            &[(Some("shop.example.com"), "/api/x", "10.0.0.1:80", 10)],
        );
        let a = attr(&c, Cause::KeepaliveRace, &st);
        let ka = cited(&a, "keepalive");
        assert_eq!((ka.value.as_str(), ka.line), ("8", line_of("upstream api")));
        let kt = cited(&a, "keepalive_timeout");
        assert_eq!((kt.value.as_str(), kt.defaulted), ("60s", true));
        let st = stat(&c, &[(Some("shop.example.com"), "/", "10.0.0.2:80", 10)]);
        let a = attr(&c, Cause::UpstreamRefused, &st);
        let servers: Vec<&str> = a
            .settings
            .iter()
            .filter(|s| s.directive == "server")
            .map(|s| s.value.as_str())
            .collect();
        assert_eq!(servers, ["10.0.0.2:80 max_fails=3"]);
        assert!(
            a.settings[0]
                .note
                .contains("defaults here: fail_timeout=10s"),
            "{}",
            a.settings[0].note
        );
    }

    #[test]
    fn no_path_falls_back_to_the_locations_sending_there() {
        let (_d, c) = cfg(CONF);
        let mut st = CauseStat {
            count: 3,
            ..CauseStat::default()
        };
        st.routes = [(c.route_key(None, None, Some("10.0.0.1:80")), 3)]
            .into_iter()
            .collect();
        st.addrs = [("10.0.0.1:80".to_string(), 3)].into_iter().collect();
        let a = attr(&c, Cause::Timeout, &st);
        let reads: Vec<&str> = a
            .settings
            .iter()
            .filter(|s| s.directive == "proxy_read_timeout")
            .map(|s| s.value.as_str())
            .collect();
        assert_eq!(reads, ["5s"]);
        assert!(a.notes[0].contains("no request path"), "{:?}", a.notes);
    }
}

#[cfg(test)]
mod evidence_tests {
    use super::tests::cited;
    use super::*;
    use crate::analyze::header_sizes::Largest;
    use crate::analyze::nginx_config;

    const CONF: &str = "events {}
http {
    upstream app { server 10.0.0.5:80; }
    upstream two { server 10.0.0.1:80; server 10.0.0.2:80; }
    server {
        listen 80;
        location /h/ {
            proxy_buffer_size 1k;
            proxy_pass http://app;
        }
        location /a/ { proxy_pass http://localhost:9000; }
        location /p/ { proxy_pass http://two; }
        location /q/ {
            proxy_pass http://two;
            proxy_next_upstream error timeout http_502;
        }
        location /t/ {
            proxy_pass http://three;
            proxy_next_upstream_tries 2;
        }
    }
    upstream three { server 10.0.0.1:80; server 10.0.0.2:80; server 10.0.0.3:80; }
}
";

    fn line_of(needle: &str) -> u32 {
        CONF.lines().position(|l| l.contains(needle)).expect("line") as u32 + 1
    }

    fn setup() -> (tempfile::TempDir, NginxConfig) {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("nginx.conf"), CONF).expect("write");
        let c = nginx_config::read(&[dir.path().to_path_buf()]);
        assert!(c.problems.is_empty(), "{:?}", c.problems);
        (dir, c)
    }

    /// `n` requests to `path`, each tried on `addrs` in turn.
    fn stat(c: &NginxConfig, path: &str, addrs: &[&str], n: u64) -> CauseStat {
        let last = addrs.last().copied();
        let mut st = CauseStat {
            count: n,
            attempts_logged: n,
            ..CauseStat::default()
        };
        st.routes.insert(c.route_key(None, Some(path), last), n);
        if let Some(a) = last {
            st.addrs.insert(a.to_string(), n);
        }
        for a in addrs {
            st.tried.insert(a.to_string(), n);
        }
        st
    }

    /// What is cited for `cause`, given the requests `st` and header sizes.
    fn attr(c: &NginxConfig, cause: Cause, st: &CauseStat, heads: &HeaderSizes) -> Attribution {
        attribute(c, cause, &Evidence { stat: st, heads })
    }

    #[test]
    fn the_buffer_is_set_against_the_largest_answered_header_or_says_what_to_log() {
        let (_d, c) = setup();
        let st = stat(&c, "/h/x", &["10.0.0.5:80"], 2);
        let none = HeaderSizes::default();
        let a = attr(&c, Cause::HeaderTooBig, &st, &none);
        let buf = cited(&a, "proxy_buffer_size");
        assert_eq!(
            (buf.value.as_str(), buf.line),
            ("1k", line_of("proxy_buffer_size 1k"))
        );
        assert!(
            buf.note
                .contains("add $upstream_bytes_received and $upstream_response_length"),
            "{}",
            buf.note
        );
        assert_eq!(buf.header_bytes, None);
        let mut heads = HeaderSizes {
            logged: true,
            ..Default::default()
        };
        heads
            .by_addr
            .insert("10.0.0.5:80".into(), Largest { bytes: 700, of: 4 });
        // another upstream's headers are not this one's
        heads
            .by_addr
            .insert("10.0.0.6:80".into(), Largest { bytes: 9000, of: 1 });
        let a = attr(&c, Cause::HeaderTooBig, &st, &heads);
        let buf = cited(&a, "proxy_buffer_size");
        assert_eq!(
            buf.header_bytes,
            Some(HeaderBytes {
                largest: 700,
                of: 4,
                upstreams: vec!["10.0.0.5:80".into()]
            })
        );
        assert!(
            buf.note
                .contains("of the 4 answered requests from 10.0.0.5:80 was 700 bytes")
                && buf.note.contains("over the 1024-byte buffer"),
            "{}",
            buf.note
        );
        // logged, but the upstream answered nothing
        heads.by_addr.remove("10.0.0.5:80");
        let a = attr(&c, Cause::HeaderTooBig, &st, &heads);
        assert!(
            cited(&a, "proxy_buffer_size")
                .note
                .contains("answered no request"),
            "{a:?}"
        );
    }

    #[test]
    fn a_name_in_proxy_pass_was_resolved_once() {
        let (_d, c) = setup();
        let heads = HeaderSizes::default();
        let st = stat(&c, "/a/x", &["127.0.0.1:9000"], 3);
        let a = attr(&c, Cause::UpstreamRefused, &st, &heads);
        let pass = cited(&a, "proxy_pass");
        assert_eq!(pass.line, line_of("http://localhost:9000"));
        assert!(
            pass.note.contains("resolved it once")
                && pass.note.contains("All 3 of these requests went to 127.0.0.1:9000: the logged address never changed"),
            "{}",
            pass.note
        );
        let r = cited(&a, "resolver");
        assert!(r.defaulted && r.line == line_of("location /a/"), "{r:?}");
        // two addresses: counted, not called unchanged
        let mut st = stat(&c, "/a/x", &["127.0.0.1:9000"], 3);
        st.tried.insert("[::1]:9000".into(), 3);
        let a = attr(&c, Cause::Timeout, &st, &heads);
        let note = &cited(&a, "proxy_pass").note;
        assert!(
            note.contains("went to 2 addresses") && !note.contains("never changed"),
            "{note}"
        );
        // an upstream group is not a name resolved here
        let st = stat(&c, "/p/x", &["10.0.0.1:80"], 1);
        let a = attr(&c, Cause::UpstreamRefused, &st, &heads);
        assert!(
            a.settings.iter().all(|s| s.directive != "proxy_pass"),
            "{a:?}"
        );
    }

    /// `proxy_next_upstream_tries 2` over three servers, and requests that
    /// tried two: the limit ended their retries. None retried: not cited.
    #[test]
    fn a_tries_limit_that_ended_the_retries_is_cited() {
        let (_d, c) = setup();
        let heads = HeaderSizes::default();
        let mut st = stat(&c, "/t/x", &["10.0.0.1:80", "10.0.0.2:80"], 1);
        st.retried = 1;
        st.max_attempts = 2;
        let a = attr(&c, Cause::Timeout, &st, &heads);
        let tries = cited(&a, "proxy_next_upstream_tries");
        assert_eq!(tries.line, line_of("proxy_next_upstream_tries 2;"));
        assert!(
            tries.note.contains("gives up after 2 tries")
                && tries.note.contains("the group has 3 servers"),
            "{}",
            tries.note
        );
        st.retried = 0;
        st.max_attempts = 1;
        let a = attr(&c, Cause::Timeout, &st, &heads);
        assert!(
            a.settings
                .iter()
                .all(|s| s.directive != "proxy_next_upstream_tries"),
            "{a:?}"
        );
    }

    #[test]
    fn retries_are_counted_and_proxy_next_upstream_says_what_it_retries() {
        let (_d, c) = setup();
        let heads = HeaderSizes::default();
        let mut st = stat(&c, "/p/x", &["10.0.0.1:80", "10.0.0.2:80"], 4);
        st.retried = 1;
        st.max_attempts = 2;
        let a = attr(&c, Cause::Passthrough, &st, &heads);
        assert!(
            a.notes
                .iter()
                .any(|n| n.starts_with("1 of 4 requests were already retries")),
            "{:?}",
            a.notes
        );
        let next = cited(&a, "proxy_next_upstream");
        assert!(next.defaulted && next.value == "error timeout", "{next:?}");
        assert!(
            next.note.contains("`http_502` is not listed"),
            "{}",
            next.note
        );
        let st = stat(&c, "/q/x", &["10.0.0.2:80"], 2);
        let a = attr(&c, Cause::Passthrough, &st, &heads);
        let next = cited(&a, "proxy_next_upstream");
        assert_eq!(next.line, line_of("http_502;"));
        assert!(next.note.contains("`http_502` is listed"), "{}", next.note);
        assert!(
            a.notes
                .iter()
                .any(|n| n.starts_with("none of the 2 requests was retried")),
            "{:?}",
            a.notes
        );
        // a refused connection to a single name: no next server
        let st = stat(&c, "/a/x", &["127.0.0.1:9000"], 1);
        let a = attr(&c, Cause::UpstreamRefused, &st, &heads);
        assert!(
            cited(&a, "proxy_next_upstream")
                .note
                .contains("the next address the name resolved to"),
            "{a:?}"
        );
        // without $upstream_status, what to log
        let mut st = stat(&c, "/p/x", &["10.0.0.1:80"], 1);
        st.attempts_logged = 0;
        let a = attr(&c, Cause::UpstreamRefused, &st, &heads);
        assert!(
            a.notes
                .iter()
                .any(|n| n.contains("add $upstream_addr and $upstream_status")),
            "{:?}",
            a.notes
        );
    }
}
