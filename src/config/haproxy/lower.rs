//! [`Config`] → [`ProxyModel`]: HAProxy sections lowered into the normalized
//! model, with `defaults` inheritance and `default-server` already resolved
//! by [`resolve`](super::resolve).
//!
//! - `global` → [`Global::main`](crate::config::model::Global::main), plus
//!   one `resolvers` directive per `resolvers` section (arguments: its name,
//!   then the keywords used in it);
//!   the last `defaults` section → [`Global::directives`](crate::config::model::Global::directives);
//! - `frontend` and `listen` → [`Server`]s whose routes are the
//!   `use_backend` rules (matcher: the condition) and `default_backend`
//!   (matcher: default); a `listen` also routes to itself;
//! - `backend` and `listen` → [`Upstream`]s with their `server` lines as
//!   [`Endpoint`]s (parameters = effective `default-server` + own);
//! - each proxy's effective settings → its [`Directives`], named by
//!   [`setting_key`] (`timeout connect`, `option httplog`, `retries`, …;
//!   `no option X` is kept under `no option X`); the arguments are the words
//!   after the key.
//!
//! Unset values get HAProxy's documented defaults (`defaulted: true`), with
//! the source in a comment at each. Time and size values that do not parse,
//! and keywords a section refuses or ignores (`server` or `retries` in a
//! `frontend`, `bind` in a `backend`), become [`Invalid`] entries (read by
//! HAP-VAL-001); values that reference
//! environment variables are left alone, since they are only known where
//! HAProxy runs.

use std::sync::Arc;
use std::time::Duration;

use crate::config::model::{
    AccessLog, Arg, Balance, CheckProbe, Directive, Directives, Endpoint, Host, HttpReuse,
    HttpVersion, Invalid, Listen, Mode, ProxyKind, ProxyModel, ProxyPass, Retry, Route, RouteMatch,
    Server, Setting, Target, Timeouts, Upstream, UpstreamTls, Value, ValueKind,
};
use crate::source::{FileId, Span};

use super::parser::{Config, Line, SectionKind, Word};
use super::resolve::{is_negated, resolve, setting_key, Proxy, ServerLine};
use super::{parse_size, parse_time, TimeValue};

/// HAProxy's `retries` when unset: `CONN_RETRIES 3` in HAProxy's
/// `include/haproxy/defaults.h` (the manual does not state it).
pub const DEFAULT_RETRIES: u32 = 3;
/// `inter` when unset: "the delay defaults to 2000 ms" (manual, `inter`).
pub const DEFAULT_INTER: Duration = Duration::from_millis(2000);
/// `fall` when unset: "defaults to 3" (manual, `fall`).
pub const DEFAULT_FALL: u32 = 3;
/// `rise` when unset: "defaults to 2" (manual, `rise`).
pub const DEFAULT_RISE: u32 = 2;
/// `pool-purge-delay` when unset: "The default is 5s" (manual,
/// `pool-purge-delay`): how long idle server connections are kept.
pub const DEFAULT_POOL_PURGE_DELAY: Duration = Duration::from_secs(5);
/// `tune.bufsize` when unset: "The default value is 16384" (manual).
pub const DEFAULT_BUFSIZE: u64 = 16384;

/// Lower a parsed `haproxy.cfg` into the model.
pub fn lower(cfg: &Config, file: FileId) -> ProxyModel {
    let mut model = ProxyModel::new(ProxyKind::Haproxy, file);
    for section in &cfg.sections {
        model.blocks.push(section.span);
        if section.kind == SectionKind::Resolvers {
            // One `resolvers` directive per section: its name, then the
            // keywords it uses (`nameserver`, `parse-resolv-conf`, …).
            let mut args = Vec::new();
            if let Some(name) = &section.name {
                args.push(arg(name));
            }
            for line in section.statements() {
                if !args.iter().skip(1).any(|a: &Arg| a.value == line.keyword()) {
                    args.push(arg(&line.words[0]));
                }
            }
            model.global.main.push(Directive {
                name: "resolvers".into(),
                args: args.into(),
                span: section.header.span,
                name_span: section.header.words[0].span,
            });
        }
        if section.kind == SectionKind::Global {
            if model.global.span == model.span {
                model.global.span = section.header.span;
            }
            for line in section.statements() {
                model.global.main.push(directive(line, 1));
                check_values(line, &mut model.invalid);
            }
        }
    }
    let proxies = resolve(cfg);
    // The last defaults section stands for proxy-wide settings.
    if let Some(d) = cfg.sections_of(SectionKind::Defaults).last() {
        model.global.span = d.header.span;
        for line in d.statements() {
            model.global.directives.push(directive(line, key_len(line)));
        }
    }
    for section in cfg.sections_of(SectionKind::Defaults) {
        for line in section.statements() {
            check_values(line, &mut model.invalid);
        }
    }
    let global_verify_none = cfg
        .sections_of(SectionKind::Global)
        .flat_map(|s| s.statements())
        .any(|l| l.keyword() == "ssl-server-verify" && l.str(1) == "none");
    let global_ca = cfg
        .sections_of(SectionKind::Global)
        .flat_map(|s| s.statements())
        .find(|l| l.keyword() == "ca-base")
        .map(|l| Setting::explicit(l.str(1).to_owned(), l.span));
    // `log global` uses the `log` lines of `global`; with a `global` section
    // that has none, it logs nowhere (manual, `log global`). A file without
    // a `global` section may be one of several `-f` files: not assumed.
    let globals: Vec<_> = cfg.sections_of(SectionKind::Global).collect();
    let global_logs = globals.is_empty()
        || globals
            .iter()
            .flat_map(|s| s.statements())
            .any(|l| l.keyword() == "log");
    let backends: Vec<&str> = proxies
        .iter()
        .filter(|p| matches!(p.kind(), SectionKind::Backend | SectionKind::Listen))
        .map(|p| p.name())
        .collect();
    for p in &proxies {
        for e in &p.settings {
            if !e.inherited {
                check_values(e.line, &mut model.invalid);
                check_capability(p, e.line, &mut model.invalid);
            }
        }
        for s in &p.servers {
            check_server_values(s, &mut model.invalid);
        }
        if matches!(p.kind(), SectionKind::Backend | SectionKind::Listen) {
            model.upstreams.push(upstream(p));
        }
    }
    for p in &proxies {
        if matches!(p.kind(), SectionKind::Frontend | SectionKind::Listen) {
            let server = server(
                p,
                &proxies,
                &backends,
                global_verify_none,
                &global_ca,
                global_logs,
            );
            model.servers.push(server);
        }
    }
    model
}

/// How many leading words form the setting's name (`timeout connect` = 2,
/// `no option httplog` = 3).
fn key_len(line: &Line) -> usize {
    match line.keyword() {
        "timeout" | "option" => 2,
        "no" | "default" if line.str(1) == "option" => 3,
        _ => 1,
    }
}

fn arg(w: &Word) -> Arg {
    Arg::text(w.value.clone(), w.span, w.flags.quoted)
}

/// `w` as an argument with its typed value `v`.
fn typed(w: &Word, v: Option<Value>) -> Arg {
    Arg { typed: v, ..arg(w) }
}

/// HAProxy's time and size values read in its own units (times without a
/// unit are milliseconds for every keyword typed here); words made of
/// environment variables are only known where HAProxy runs.
fn read(kind: ValueKind, w: &Word) -> Option<Value> {
    if w.flags.env {
        return None;
    }
    let text = w.as_str();
    match kind {
        ValueKind::Time => parse_time(text).ok().map(|t| Value::Time(to_duration(t))),
        ValueKind::Size => parse_size(text).ok().map(Value::Size),
        // HAProxy reads counts with atol() after checking for digits.
        ValueKind::Count => (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
            .then(|| text.parse().ok().map(Value::Count))
            .flatten(),
        ValueKind::Flag => None,
    }
}

/// The type of argument `i` after setting `key` (`timeout server` 30s,
/// `retries` 3, `retry-on` … 503, `tune.bufsize` 16k): the one place that
/// says which values lowering types and (times and sizes) checks.
fn setting_kind(key: &str, i: usize) -> Option<ValueKind> {
    match (key, i) {
        (k, 0) if k.starts_with("timeout ") || TIME_KEYWORDS.contains(&k) => Some(ValueKind::Time),
        (k, 0) if SIZE_KEYWORDS.contains(&k) => Some(ValueKind::Size),
        ("retries", 0) => Some(ValueKind::Count),
        // `retry-on` conditions are keywords or HTTP status codes.
        ("retry-on", _) => Some(ValueKind::Count),
        _ => None,
    }
}

/// The typed value of argument `i` after setting `key`.
fn setting_value(key: &str, i: usize, w: &Word) -> Option<Value> {
    read(setting_kind(key, i)?, w)
}

/// The typed value of server parameter word `w` following `param`
/// (`inter 2s`, `fall 3`).
fn param_value(param: &str, w: &Word) -> Option<Value> {
    if SERVER_TIME_PARAMS.contains(&param) {
        read(ValueKind::Time, w)
    } else if SERVER_COUNT_PARAMS.contains(&param) {
        read(ValueKind::Count, w)
    } else {
        None
    }
}

/// A line as a model directive whose name is its first `n` words.
fn directive(line: &Line, n: usize) -> Directive {
    let n = n.min(line.words.len()).max(1);
    let name = if is_negated(line) {
        format!("no {}", setting_key(line))
    } else if n == 1 {
        line.keyword().to_owned()
    } else {
        setting_key(line)
    };
    let key = setting_key(line);
    let args = line.words[n..]
        .iter()
        .enumerate()
        .map(|(i, w)| typed(w, setting_value(&key, i, w)))
        .collect();
    Directive {
        name,
        args,
        span: line.span,
        name_span: Span {
            end: line.words[n - 1].span.end,
            ..line.words[0].span
        },
    }
}

fn directives(p: &Proxy<'_>) -> Directives {
    let mut d = Directives::new();
    for e in &p.settings {
        d.push(directive(e.line, key_len(e.line)));
    }
    d
}

/// A time value, `None` when it references environment variables or does
/// not parse (the latter is recorded by [`check_values`]).
fn time_of(w: Option<&Word>) -> Option<TimeValue> {
    let w = w?;
    if w.flags.env {
        return None;
    }
    parse_time(w.as_str()).ok()
}

fn to_duration(t: TimeValue) -> Duration {
    Duration::from_micros(t.micros)
}

/// The effective `mode` of `p`: `http`, else TCP (`tcp` is the default,
/// and `log`/`spop` carry no HTTP either; manual, `mode`).
fn mode(p: &Proxy<'_>) -> Setting<Mode> {
    match p.get("mode") {
        Some(l) if l.str(1) == "http" => Setting::explicit(Mode::Http, l.span),
        Some(l) => Setting::explicit(Mode::Tcp, l.span),
        None => Setting::default_at(Mode::Tcp, p.span()),
    }
}

/// The effective `http-reuse` of `p` (default `safe`, manual
/// `http-reuse`). An unknown keyword is left to HAP-VAL-001 (HAProxy
/// refuses to start) and reads as the default here.
fn http_reuse(p: &Proxy<'_>) -> Setting<HttpReuse> {
    match p.get("http-reuse") {
        Some(l) => match HttpReuse::parse(l.str(1)) {
            Some(r) => Setting::explicit(r, l.span),
            None => Setting::default_at(HttpReuse::Safe, l.span),
        },
        None => Setting::default_at(HttpReuse::Safe, p.span()),
    }
}

/// A `timeout <name>` of `p`: its value (`None` = infinite) and span; the
/// section header with `defaulted` when unset (HAProxy's timeouts have no
/// default: unset means no timeout, with a startup warning for
/// connect/client/server — manual, `timeout connect`).
fn timeout(p: &Proxy<'_>, name: &str) -> Setting<Option<Duration>> {
    match p.get(&format!("timeout {name}")) {
        Some(line) => match time_of(line.word(2)) {
            // 0 disables the timeout.
            Some(t) if t.micros == 0 => Setting::explicit(None, line.span),
            Some(t) => Setting::explicit(Some(to_duration(t)), line.span),
            None => Setting::explicit(None, line.span),
        },
        None => Setting::default_at(None, p.span()),
    }
}

/// `option <name>` in effect for `p`: on with `option <name>`, explicitly
/// off with `no option <name>`, and off by default when unset or reset by
/// `default option <name>` (the options read here are all off unless set:
/// manual, section 4, `option redispatch`, `option httpchk`, …).
fn option(p: &Proxy<'_>, name: &str) -> Setting<bool> {
    let key = format!("option {name}");
    match p.settings.iter().rev().find(|e| e.key == key) {
        Some(e) if e.line.keyword() == "default" => Setting::default_at(false, p.span()),
        Some(e) => Setting::explicit(!is_negated(e.line), e.line.span),
        None => Setting::default_at(false, p.span()),
    }
}

/// The protocol checks (manual, section 4: each replaces the plain connect
/// check with that protocol's handshake or an external program).
const PROTOCOL_CHECKS: &[&str] = &[
    "ssl-hello-chk",
    "mysql-check",
    "pgsql-check",
    "redis-check",
    "ldap-check",
    "smtpchk",
    "external-check",
    "spop-check",
];

/// What the health checks of `p` send, and the line that says so: an HTTP
/// request (`option httpchk`, or `http-check` rules), a protocol check, or
/// `tcp-check send`/`expect` rules; else only a connection is opened.
fn check_probe(p: &Proxy<'_>) -> Setting<CheckProbe> {
    let httpchk = option(p, "httpchk");
    if httpchk.value {
        return Setting::explicit(CheckProbe::Http, httpchk.span);
    }
    if let Some(l) = p.all("http-check").next() {
        return Setting::explicit(CheckProbe::Http, l.span);
    }
    if let Some(o) = PROTOCOL_CHECKS
        .iter()
        .map(|name| option(p, name))
        .find(|o| o.value)
    {
        return Setting::explicit(CheckProbe::Protocol, o.span);
    }
    let script = p
        .all("tcp-check")
        .find(|l| l.str(1).starts_with("send") || l.str(1).starts_with("expect"));
    match script {
        Some(l) => Setting::explicit(CheckProbe::TcpScript, l.span),
        None => Setting::default_at(CheckProbe::Connect, p.span()),
    }
}

fn upstream(p: &Proxy<'_>) -> Upstream {
    let span = p.span();
    let balance = match p.get("balance") {
        Some(l) => Setting::explicit(Balance::from_haproxy(l.str(1)), l.span),
        // "roundrobin" is the default algorithm (manual, `balance`).
        None => Setting::default_at(Balance::RoundRobin, span),
    };
    let http_reuse = http_reuse(p);
    // Idle server connections are kept for reuse unless `http-reuse never`
    // (default `safe`, manual `http-reuse`); `pool-max-conn` bounds them
    // (default -1 = unlimited, manual `pool-max-conn`). 0 = off.
    let reuse_never = http_reuse.value == HttpReuse::Never;
    let max_conn = p.servers.iter().find_map(|s| {
        s.value("pool-max-conn")
            .map(|w| (w.as_str().parse::<i64>(), w.span))
    });
    let keepalive = if reuse_never {
        Setting::explicit(0, http_reuse.span)
    } else {
        match max_conn {
            Some((Ok(n), s)) if n >= 0 => Setting::explicit(n.min(u32::MAX as i64) as u32, s),
            Some((_, s)) => Setting::explicit(u32::MAX, s),
            None => Setting::default_at(u32::MAX, span),
        }
    };
    let purge = p
        .servers
        .iter()
        .find_map(|s| s.value("pool-purge-delay"))
        .and_then(|w| Some((to_duration(time_of(Some(w))?), w.span)));
    let keepalive_timeout = match purge {
        Some((d, s)) => Setting::explicit(d, s),
        None => Setting::default_at(DEFAULT_POOL_PURGE_DELAY, span),
    };
    let resolvers: Vec<String> = p
        .servers
        .iter()
        .filter_map(|s| s.value("resolvers").map(|w| w.value.clone()))
        .collect();
    let resolver = p
        .servers
        .iter()
        .find_map(|s| s.value("resolvers"))
        .map(|w| Setting::explicit(resolvers.clone(), w.span));
    let checked = p
        .servers
        .iter()
        .find(|s| s.flag("check", "no-check") == Some(true));
    let health_check = match checked {
        Some(s) => Setting::explicit(true, s.line.span),
        None => Setting::default_at(false, span),
    };
    Upstream {
        name: p.name().to_owned(),
        span,
        directives: directives(p),
        servers: p.servers.iter().map(endpoint).collect(),
        balance,
        keepalive,
        keepalive_timeout,
        zone: None,
        resolver,
        health_check,
        mode: mode(p),
        http_reuse: Some(http_reuse),
        redispatch: Some(option(p, "redispatch")),
        check_probe: Some(check_probe(p)),
    }
}

/// True for an address family prefix of HAProxy's "Address formats"
/// (configuration manual §2.9): `ipv4@`, `unix@`, `mptcp@`, `quic4@`,
/// `stream+ipv4@`, ….
fn is_family_prefix(p: &str) -> bool {
    matches!(
        p,
        "ip" | "ipv4"
            | "ipv6"
            | "tcp"
            | "tcp4"
            | "tcp6"
            | "mptcp"
            | "mptcp4"
            | "mptcp6"
            | "udp"
            | "udp4"
            | "udp6"
            | "quic4"
            | "quic6"
            | "unix"
            | "uxst"
            | "uxdg"
            | "abns"
            | "abnsz"
            | "fd"
            | "sockpair"
            | "rhttp"
    ) || ["stream+", "dgram+", "quic+"]
        .iter()
        .any(|k| p.strip_prefix(k).is_some_and(is_family_prefix))
}

/// Split an address as HAProxy reads it (manual §2.9): an optional family
/// prefix (`mptcp@`, `ipv6@`, …; socket families make a local address), an
/// IPv6 address in brackets or with the port after the last `:`, and a
/// port or port range (`80`, `2000-2100`: the first port is kept).
fn split_address(addr: &str) -> (Host, Option<u16>) {
    let (prefix, rest) = match addr.split_once('@') {
        Some((p, r)) if is_family_prefix(p) => (Some(p), r),
        _ => (None, addr),
    };
    let family = prefix.map(|p| p.rsplit('+').next().unwrap_or(p));
    match family {
        Some("unix" | "uxst" | "uxdg" | "abns" | "abnsz") => {
            return (Host::Unix(rest.to_owned()), None)
        }
        // inherited descriptors and reverse-HTTP servers are not network names
        Some("fd" | "sockpair" | "rhttp") => return (Host::Unix(addr.to_owned()), None),
        _ => {}
    }
    if rest.starts_with('/') {
        return (Host::Unix(rest.to_owned()), None);
    }
    let port_of = |p: &str| -> Option<u16> {
        let first = p.split_once('-').map_or(p, |(a, _)| a);
        first.trim_start_matches('+').parse().ok()
    };
    if let Some(inner) = rest.strip_prefix('[') {
        if let Some((host, port)) = inner.split_once(']') {
            return (
                Host::classify(host),
                port.strip_prefix(':').and_then(port_of),
            );
        }
    }
    // A bare IPv6 address has several colons; HAProxy then takes the last
    // part as the port only when the address is not valid as a whole.
    if rest.parse::<std::net::Ipv6Addr>().is_ok() {
        return (Host::classify(rest), None);
    }
    match rest.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') || host.parse::<std::net::Ipv6Addr>().is_ok() => {
            (Host::classify(host), port_of(port))
        }
        _ => (Host::classify(rest), None),
    }
}

fn endpoint(s: &ServerLine<'_>) -> Endpoint {
    let address = s.address.map_or(String::new(), |w| w.value.clone());
    let (host, port) = split_address(&address);
    let fall = s.value("fall");
    let inter = s.value("inter");
    Endpoint {
        name: Some(s.name.value.clone()),
        address,
        host,
        port,
        span: s.line.span,
        backup: s.flag("backup", "no-backup") == Some(true),
        down: s.has("disabled"),
        resolve: s.value("resolvers").is_some(),
        max_fails: match fall.and_then(|w| Some((w.as_str().parse::<u32>().ok()?, w.span))) {
            Some((n, span)) => Setting::explicit(n, span),
            None => Setting::default_at(DEFAULT_FALL, s.line.span),
        },
        fail_timeout: match inter.and_then(|w| Some((to_duration(time_of(Some(w))?), w.span))) {
            Some((d, span)) => Setting::explicit(d, span),
            None => Setting::default_at(DEFAULT_INTER, s.line.span),
        },
        params: s
            .params
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let before = i.checked_sub(1).map(|j| s.params[j].as_str());
                typed(w, before.and_then(|p| param_value(p, w)))
            })
            .collect(),
    }
}

/// The access logging of a frontend/listen: `log` targets (own or
/// inherited), `no log`, and the format (`option httplog`, `option
/// tcplog`, `option httpslog`, `log-format`).
fn access_log(p: &Proxy<'_>, global_logs: bool) -> AccessLog {
    let span = p.span();
    let format = if let Some(l) = p.get("log-format") {
        Setting::explicit(l.str(1).to_owned(), l.span)
    } else if let Some(l) = p
        .get("option httplog")
        .or_else(|| p.get("option httpslog"))
        .or_else(|| p.get("option tcplog"))
    {
        Setting::explicit(l.str(1).to_owned(), l.span)
    } else {
        // No format: HAProxy's default log line (manual §8.2.1 "Default log
        // format": addresses and proxy name only).
        Setting::default_at("default".to_owned(), span)
    };
    let no_log = p.get("no").filter(|l| l.str(1) == "log");
    let logs: Vec<Setting<(String, String)>> = p
        .all("log")
        .filter(|l| global_logs || l.str(1) != "global")
        .map(|l| Setting::explicit((l.str(1).to_owned(), format.value.clone()), l.span))
        .collect();
    let off = match no_log {
        Some(l) => Setting::explicit(true, l.span),
        None if logs.is_empty() => Setting::default_at(true, span),
        None => Setting::explicit(false, logs[0].span),
    };
    AccessLog {
        logs,
        off,
        formats: vec![Setting {
            value: Arc::from(format.value),
            defaulted: format.defaulted,
            span: format.span,
        }],
    }
}

fn server(
    p: &Proxy<'_>,
    proxies: &[Proxy<'_>],
    backends: &[&str],
    global_verify_none: bool,
    global_ca: &Option<Setting<String>>,
    global_logs: bool,
) -> Server {
    let access_log = access_log(p, global_logs);
    let mut routes = Vec::new();
    let mut target_route = |name_word: &Word, matcher: RouteMatch, span: Span| {
        let name = name_word.as_str();
        let dynamic = name.contains("%[") || name_word.flags.env;
        let target = if dynamic {
            Target::Dynamic
        } else if backends.contains(&name) {
            Target::Pool(name.to_owned())
        } else {
            Target::Unknown(name.to_owned())
        };
        let backend = proxies.iter().find(|b| {
            b.name() == name && matches!(b.kind(), SectionKind::Backend | SectionKind::Listen)
        });
        routes.push(route(
            p,
            backend,
            matcher,
            ProxyPass {
                span,
                raw: name.to_owned(),
                scheme: None,
                host: name.to_owned(),
                port: None,
                uri: None,
                has_variables: dynamic,
                target,
            },
            &access_log,
            global_verify_none,
            global_ca,
        ));
    };
    for line in p.section.statements() {
        if line.keyword() == "use_backend" {
            if let Some(name) = line.word(1) {
                let cond: Vec<&str> = line.words[2..].iter().map(|w| w.as_str()).collect();
                target_route(name, RouteMatch::Other(cond.join(" ")), line.span);
            }
        }
    }
    if let Some(line) = p.get("default_backend") {
        if let Some(name) = line.word(1) {
            target_route(name, RouteMatch::Default, line.span);
        }
    }
    if p.kind() == SectionKind::Listen {
        let name = &p.section.name;
        if let Some(name) = name {
            let has_default = p.get("default_backend").is_some();
            if !has_default {
                target_route(name, RouteMatch::Default, p.span());
            }
        }
    }
    Server {
        name: p.name().to_owned(),
        span: p.span(),
        directives: directives(p),
        access_log,
        // every `bind` line of the section (each adds addresses; `all`
        // keeps only the effective one of a keyword)
        listen: p
            .section
            .statements()
            .filter(|l| l.keyword() == "bind")
            .flat_map(bind_listens)
            .collect(),
        routes,
        mode: mode(p),
    }
}

/// The addresses of a `bind` line (manual, `bind [<address>]:<port_range>
/// [, ...]`: no address, `*` or `0.0.0.0` for every IPv4 address, `::` for
/// every IPv6 one; a range `8000-8010`; address formats of §2.9). Addresses
/// from environment variables are only known where HAProxy runs: left out.
fn bind_listens(line: &Line) -> Vec<Listen> {
    let Some(w) = line.word(1).filter(|w| !w.flags.env) else {
        return Vec::new();
    };
    w.as_str()
        .split(',')
        .filter(|a| !a.is_empty())
        .map(|a| {
            let (host, first) = split_address(a);
            if let Host::Unix(_) = host {
                return Listen {
                    text: a.to_owned(),
                    host: Some(host),
                    ports: None,
                    span: line.span,
                    defaulted: false,
                };
            }
            let last = a
                .rsplit(':')
                .next()
                .and_then(|p| p.split_once('-'))
                .and_then(|(_, l)| l.parse::<u16>().ok());
            let ports = first.map(|f| (f, last.unwrap_or(f).max(f)));
            let host = match &host {
                Host::Ip(h) | Host::Name(h) => h.as_str(),
                Host::Unix(_) => "",
            };
            Listen::new(a, host, ports, line.span)
        })
        .collect()
}

fn route(
    front: &Proxy<'_>,
    backend: Option<&Proxy<'_>>,
    matcher: RouteMatch,
    pass: ProxyPass,
    access_log: &AccessLog,
    global_verify_none: bool,
    global_ca: &Option<Setting<String>>,
) -> Route {
    let span = pass.span;
    let b = backend.unwrap_or(front);
    let read = timeout(b, "server");
    let retries = match b.get("retries") {
        Some(l) => match l.str(1).parse::<u32>() {
            Ok(n) => Setting::explicit(n.saturating_add(1), l.span),
            Err(_) => Setting::explicit(DEFAULT_RETRIES + 1, l.span),
        },
        None => Setting::default_at(DEFAULT_RETRIES + 1, b.span()),
    };
    let on = match b.get("retry-on") {
        Some(l) => Setting::explicit(
            l.words[1..].iter().map(|w| w.value.clone()).collect(),
            l.span,
        ),
        // "conn-failure … This is the default." (manual, `retry-on`).
        None => Setting::default_at(vec!["conn-failure".to_owned()], b.span()),
    };
    let tls = upstream_tls(b, global_verify_none, global_ca);
    let request_id_header = front
        .get("unique-id-header")
        .map(|l| Setting::explicit(l.str(1).to_owned(), l.span));
    let upstream_http_version = match b
        .servers
        .iter()
        .find(|s| s.value("proto").is_some_and(|w| w.as_str() == "h2"))
    {
        Some(s) => Setting::explicit(HttpVersion::Http2, s.line.span),
        None => Setting::default_at(HttpVersion::Http11, b.span()),
    };
    Route {
        matcher,
        span,
        directives: directives(b),
        proxy: Some(pass),
        timeouts: Timeouts {
            connect: timeout(b, "connect"),
            read: read.clone(),
            send: read,
        },
        retry: Retry {
            on,
            tries: retries,
            timeout: Setting::default_at(None, b.span()),
            per_try: Setting::default_at(None, b.span()),
        },
        tls,
        access_log: access_log.clone(),
        upstream_http_version,
        request_id_header,
        module_pass: None,
    }
}

/// TLS towards the servers of `b`, from its first `ssl` server.
fn upstream_tls(
    b: &Proxy<'_>,
    global_verify_none: bool,
    global_ca: &Option<Setting<String>>,
) -> UpstreamTls {
    let span = b.span();
    let Some(s) = b
        .servers
        .iter()
        .find(|s| s.flag("ssl", "no-ssl") == Some(true))
    else {
        return UpstreamTls {
            server_name: Setting::default_at(false, span),
            name: Setting::default_at(String::new(), span),
            verify: Setting::default_at(false, span),
            trusted_ca: None,
        };
    };
    let sni = s.value("sni");
    // `verify` defaults to `required` unless the global
    // `ssl-server-verify none` (manual, server `verify`).
    let verify = match s.value("verify") {
        Some(w) => Setting::explicit(w.as_str() == "required", w.span),
        None => Setting::default_at(!global_verify_none, s.line.span),
    };
    UpstreamTls {
        server_name: match sni {
            Some(w) => Setting::explicit(true, w.span),
            None => Setting::default_at(false, s.line.span),
        },
        name: match sni {
            Some(w) => Setting::explicit(w.value.clone(), w.span),
            None => Setting::default_at(String::new(), s.line.span),
        },
        verify,
        trusted_ca: s
            .value("ca-file")
            .map(|w| Setting::explicit(w.value.clone(), w.span))
            .or_else(|| global_ca.clone()),
    }
}

/// Keywords whose first argument is a time (the `timeout` family is
/// handled apart).
const TIME_KEYWORDS: &[&str] = &["hard-stop-after", "grace"];
/// Server parameters that take a time.
const SERVER_TIME_PARAMS: &[&str] = &[
    "inter",
    "fastinter",
    "downinter",
    "slowstart",
    "pool-purge-delay",
];
/// Server parameters that take a whole number.
const SERVER_COUNT_PARAMS: &[&str] = &["fall", "rise", "weight", "maxconn", "maxqueue"];
/// Keywords whose first argument is a size.
const SIZE_KEYWORDS: &[&str] = &[
    "tune.bufsize",
    "tune.maxrewrite",
    "tune.h2.initial-window-size",
];

fn bad_time(out: &mut Vec<Invalid>, name: &str, w: &Word) {
    if w.flags.env {
        return;
    }
    if let Err(e) = parse_time(w.as_str()) {
        out.push(Invalid {
            span: w.span,
            directive: name.to_owned(),
            problem: format!("{name}: {e}"),
            help: "write a number with one of the units us, ms, s, m, h, d (no unit = milliseconds), e.g. `30s`".into(),
        });
    }
}

/// Record time and size values of `line` that do not parse.
fn check_values(line: &Line, out: &mut Vec<Invalid>) {
    if line.keyword() == "default-server" {
        check_params(&line.words[1..], out);
        return;
    }
    let key = setting_key(line);
    let Some(w) = line.word(key_len(line)) else {
        return;
    };
    match setting_kind(&key, 0) {
        Some(ValueKind::Time) => bad_time(out, &key, w),
        Some(ValueKind::Size) if !w.flags.env => {
            if let Err(e) = parse_size(w.as_str()) {
                out.push(Invalid {
                    span: w.span,
                    directive: key.clone(),
                    problem: format!("{key}: {e}"),
                    help:
                        "write a number of bytes, optionally with k, m or g, e.g. `16384` or `16k`"
                            .into(),
                });
            }
        }
        _ => {}
    }
}

/// Keywords a `frontend` refuses (HAProxy 2.6: "not allowed because
/// frontend … has no backend capability").
const FRONTEND_REFUSES: &[&str] = &["server", "default-server", "server-template"];
/// Settings a `frontend` ignores, with a warning (HAProxy 2.6: "ignored
/// because frontend … has no backend capability").
const FRONTEND_IGNORES: &[&str] = &[
    "balance",
    "retries",
    "retry-on",
    "http-reuse",
    "hash-type",
    "cookie",
    "fullconn",
    "http-check",
    "option redispatch",
    "option httpchk",
    "timeout connect",
    "timeout server",
    "timeout queue",
];
/// Settings a `backend` ignores, with a warning (HAProxy 2.6: "ignored
/// because backend … has no frontend capability", "directive is ignored in
/// backends").
const BACKEND_IGNORES: &[&str] = &[
    "bind",
    "use_backend",
    "default_backend",
    "capture",
    "monitor-uri",
    "maxconn",
    "timeout client",
    "option httplog",
];

/// Record an own statement of `p` that its section kind refuses or ignores.
fn check_capability(p: &Proxy<'_>, line: &Line, out: &mut Vec<Invalid>) {
    let key = setting_key(line);
    let name = p.name();
    let (problem, help) = match p.kind() {
        SectionKind::Frontend if FRONTEND_REFUSES.contains(&key.as_str()) => (
            format!("`{key}` is not allowed in frontend '{name}'"),
            "servers belong in a `backend` (or `listen`) section",
        ),
        SectionKind::Frontend if FRONTEND_IGNORES.contains(&key.as_str()) => (
            format!("`{key}` is ignored in frontend '{name}': a frontend has no backend side"),
            "move it to the backend, or to `defaults`",
        ),
        SectionKind::Backend if BACKEND_IGNORES.contains(&key.as_str()) => (
            format!("`{key}` is ignored in backend '{name}': a backend has no frontend side"),
            "move it to the frontend, or to `defaults`",
        ),
        _ => return,
    };
    out.push(Invalid {
        span: line.span,
        directive: key,
        problem,
        help: help.into(),
    });
}

fn check_params(words: &[Word], out: &mut Vec<Invalid>) {
    for (i, w) in words.iter().enumerate() {
        if SERVER_TIME_PARAMS.contains(&w.as_str()) {
            if let Some(v) = words.get(i + 1) {
                bad_time(out, w.as_str(), v);
            }
        }
    }
}

fn check_server_values(s: &ServerLine<'_>, out: &mut Vec<Invalid>) {
    check_params(s.line.words.get(3..).unwrap_or(&[]), out);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::haproxy::parse_cfg;

    fn model(text: &str) -> ProxyModel {
        let cfg = parse_cfg(FileId(0), text.as_bytes());
        assert!(cfg.errors.is_empty(), "{:?}", cfg.errors);
        lower(&cfg, FileId(0))
    }

    /// `option redispatch` read typed: set, inherited, turned off by `no
    /// option` (explicit, at that line), reset by `default option` and unset
    /// (both defaulted off).
    #[test]
    fn redispatch_option_is_typed() {
        let m = model(
            "defaults\n option redispatch\nbackend on\n server a 10.0.0.1:80\nbackend off\n no option redispatch\n server a 10.0.0.1:80\nbackend reset\n default option redispatch\n server a 10.0.0.1:80\n",
        );
        let r: Vec<_> = m
            .upstreams
            .iter()
            .map(|u| {
                let r = u.redispatch.as_ref().unwrap();
                (u.name.as_str(), r.value, r.defaulted)
            })
            .collect();
        assert_eq!(
            r,
            [
                ("on", true, false),
                ("off", false, false),
                ("reset", false, true)
            ]
        );
        let off = m.upstreams[1].redispatch.as_ref().unwrap();
        assert_eq!(
            off.span,
            m.upstreams[1]
                .directives
                .get("no option redispatch")
                .unwrap()
                .span
        );
        let unset = model("backend b\n server a 10.0.0.1:80\n");
        assert!(unset.upstreams[0].redispatch.as_ref().unwrap().defaulted);
    }

    /// What the health checks send, from `option httpchk`, `http-check`, a
    /// protocol check, `tcp-check send`/`expect`, or nothing.
    #[test]
    fn check_probe_is_typed() {
        let probe = |body: &str| {
            let m = model(&format!("backend b\n{body} server a 10.0.0.1:80 check\n"));
            let c = m.upstreams[0].check_probe.clone().unwrap();
            (c.value, c.defaulted)
        };
        assert_eq!(probe(" option httpchk GET /h\n"), (CheckProbe::Http, false));
        assert_eq!(
            probe(" http-check send meth GET uri /h\n"),
            (CheckProbe::Http, false)
        );
        assert_eq!(
            probe(" option mysql-check user u\n"),
            (CheckProbe::Protocol, false)
        );
        assert_eq!(
            probe(" option tcp-check\n tcp-check send PING\\r\\n\n"),
            (CheckProbe::TcpScript, false)
        );
        assert_eq!(
            probe(" option tcp-check\n tcp-check connect\n"),
            (CheckProbe::Connect, true)
        );
        assert_eq!(probe(""), (CheckProbe::Connect, true));
        // turned off again: only a connection
        let m = model("defaults\n option httpchk\nbackend b\n no option httpchk\n server a 10.0.0.1:80 check\n");
        assert_eq!(
            m.upstreams[0].check_probe.as_ref().unwrap().value,
            CheckProbe::Connect
        );
    }

    /// `bind` addresses (no address, `*`, a range, a list, a family
    /// prefix, a unix socket) and the servers' names.
    #[test]
    fn bind_addresses_and_server_names() {
        let m = model(
            "frontend f\n bind :80,127.0.0.1:8000-8010\n bind ipv6@:::443 ssl\n bind unix@/run/h.sock\n default_backend b\nbackend b\n server app1 10.0.0.9:9000\n",
        );
        let l = &m.servers[0].listen;
        let got: Vec<_> = l.iter().map(|l| (l.host.clone(), l.ports)).collect();
        assert_eq!(
            got,
            vec![
                (None, Some((80, 80))),
                (Some(Host::Ip("127.0.0.1".into())), Some((8000, 8010))),
                (None, Some((443, 443))),
                (Some(Host::Unix("/run/h.sock".into())), None),
            ]
        );
        assert_eq!(l[1].reached_by("127.0.0.1:8005"), Some(true));
        assert_eq!(l[1].reached_by("127.0.0.1:8011"), None);
        let e = &m.upstreams[0].servers[0];
        assert_eq!(
            (e.name.as_deref(), e.address.as_str()),
            (Some("app1"), "10.0.0.9:9000")
        );
    }

    const CFG: &str = "\
global
    tune.bufsize 8192
    log stdout local0
defaults
    mode http
    log global
    option httplog
    timeout connect 5s
    timeout server 30
    retries 2
    default-server inter 3s fall 2
frontend web
    bind :80
    unique-id-header X-Request-ID
    use_backend api if { path_beg /api }
    use_backend missing if { path_beg /x }
    default_backend app
backend app
    retry-on conn-failure empty-response
    server a1 10.0.0.1:8080 check
    server a2 app.internal:8080 check backup resolvers dns
backend api
    timeout server 1m
    server s [2001:db8::1]:443 ssl sni str(api.example.com) ca-file /etc/ssl/ca.pem
listen stats
    bind :9000
    timeout connect 20sec
    server local unix@/run/app.sock
";

    #[test]
    fn lowers_frontends_backends_and_defaults() {
        let m = model(CFG);
        assert_eq!(m.kind, ProxyKind::Haproxy);
        let names: Vec<&str> = m.upstreams.iter().map(|u| u.name.as_str()).collect();
        assert_eq!(names, ["app", "api", "stats"]);
        let servers: Vec<&str> = m.servers.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(servers, ["web", "stats"]);
        assert_eq!(
            m.global.main.get("tune.bufsize").unwrap().arg(0),
            Some("8192")
        );

        let app = m.upstream("app").unwrap();
        assert_eq!(app.servers.len(), 2);
        assert!(app.health_check.value);
        assert_eq!(app.servers[0].fail_timeout.value, Duration::from_secs(3));
        assert_eq!(app.servers[0].max_fails.value, 2);
        assert!(!app.servers[0].max_fails.defaulted);
        assert!(app.servers[1].backup);
        assert!(app.servers[1].resolve);
        assert_eq!(app.servers[1].host, Host::Name("app.internal".into()));
        assert_eq!(app.servers[1].port, Some(8080));
        assert_eq!(app.balance.value, Balance::RoundRobin);
        assert!(app.balance.defaulted);
        assert_eq!(
            app.directives.get("timeout connect").unwrap().arg(0),
            Some("5s")
        );
        assert_eq!(app.keepalive_timeout.value, DEFAULT_POOL_PURGE_DELAY);

        let api = m.upstream("api").unwrap();
        assert_eq!(api.servers[0].host, Host::Ip("2001:db8::1".into()));
        assert_eq!(api.servers[0].port, Some(443));
        let stats = m.upstream("stats").unwrap();
        assert_eq!(stats.servers[0].host, Host::Unix("/run/app.sock".into()));

        let web = &m.servers[0];
        let targets: Vec<(&RouteMatch, &Target)> = web
            .routes
            .iter()
            .map(|r| (&r.matcher, &r.proxy.as_ref().unwrap().target))
            .collect();
        assert_eq!(
            targets,
            [
                (
                    &RouteMatch::Other("if { path_beg /api }".into()),
                    &Target::Pool("api".into())
                ),
                (
                    &RouteMatch::Other("if { path_beg /x }".into()),
                    &Target::Unknown("missing".into())
                ),
                (&RouteMatch::Default, &Target::Pool("app".into())),
            ]
        );
        let to_api = &web.routes[0];
        assert_eq!(to_api.timeouts.read.value, Some(Duration::from_secs(60)));
        assert_eq!(to_api.timeouts.connect.value, Some(Duration::from_secs(5)));
        assert_eq!(to_api.retry.tries.value, 3);
        assert_eq!(to_api.retry.on.value, ["conn-failure"]);
        assert!(to_api.retry.on.defaulted);
        assert!(to_api.tls.server_name.value);
        assert_eq!(to_api.tls.name.value, "str(api.example.com)");
        assert!(to_api.tls.verify.value && to_api.tls.verify.defaulted);
        assert_eq!(
            to_api.tls.trusted_ca.as_ref().unwrap().value,
            "/etc/ssl/ca.pem"
        );
        let to_app = &web.routes[2];
        assert_eq!(to_app.timeouts.read.value, Some(Duration::from_millis(30)));
        assert_eq!(to_app.retry.on.value, ["conn-failure", "empty-response"]);
        assert_eq!(
            to_app.request_id_header.as_ref().unwrap().value,
            "X-Request-ID"
        );
        assert!(!web.access_log.off.value);
        assert_eq!(&*web.access_log.formats[0].value, "httplog");

        // The listen section routes to itself.
        let st = &m.servers[1];
        assert_eq!(
            st.routes[0].proxy.as_ref().unwrap().target,
            Target::Pool("stats".into())
        );
        // Invalid values are collected.
        let problems: Vec<&str> = m.invalid.iter().map(|i| i.problem.as_str()).collect();
        assert_eq!(
            problems,
            ["timeout connect: unknown unit 'sec' in '20sec' (expected us, ms, s, m, h, d)"]
        );
        // One block per section.
        assert_eq!(m.blocks.len(), 6);
    }

    #[test]
    fn missing_timeouts_are_infinite_defaults() {
        let m =
            model("backend b\n server s 10.0.0.1:80\nfrontend f\n bind :80\n default_backend b\n");
        let r = &m.servers[0].routes[0];
        assert_eq!(r.timeouts.connect.value, None);
        assert!(r.timeouts.connect.defaulted);
        assert_eq!(r.retry.tries.value, DEFAULT_RETRIES + 1);
        assert!(m.servers[0].access_log.off.value);
        assert!(!r.tls.server_name.value);
    }

    #[test]
    fn mode_reuse_and_balance_are_typed() {
        let m = model(
            "defaults\n mode http\nfrontend web\n bind :80\n default_backend app\nbackend app\n balance hdr(host)\n http-reuse always\n server a 10.0.0.1:80\nbackend db\n mode tcp\n balance source\n server d 10.0.0.2:5432\nlisten plain\n bind :81\n server p 10.0.0.3:80\n",
        );
        // `mode http` inherited from `defaults` is explicit, at that line.
        assert_eq!(m.servers[0].mode.value, Mode::Http);
        assert!(!m.servers[0].mode.defaulted);
        let app = m.upstream("app").unwrap();
        assert_eq!(app.mode.value, Mode::Http);
        assert_eq!(app.balance.value, Balance::Hash);
        let reuse = app.http_reuse.as_ref().unwrap();
        assert_eq!((reuse.value, reuse.defaulted), (HttpReuse::Always, false));
        let db = m.upstream("db").unwrap();
        assert_eq!(db.mode.value, Mode::Tcp);
        assert_eq!(db.balance.value, Balance::IpHash);
        // default `safe` when unset
        let r = db.http_reuse.as_ref().unwrap();
        assert_eq!((r.value, r.defaulted), (HttpReuse::Safe, true));
        // `listen` inherits `mode http` too; without `defaults` it is tcp.
        let m = model("listen plain\n bind :81\n server p 10.0.0.3:80\n");
        assert_eq!(m.servers[0].mode.value, Mode::Tcp);
        assert!(m.servers[0].mode.defaulted);
        // `http-reuse never` keeps no idle connection
        let m = model("backend b\n http-reuse never\n server a 10.0.0.1:80\n");
        assert_eq!(m.upstream("b").unwrap().keepalive.value, 0);
    }

    #[test]
    fn addresses() {
        let table: &[(&str, Host, Option<u16>)] = &[
            ("10.0.0.1:80", Host::Ip("10.0.0.1".into()), Some(80)),
            ("10.0.0.1", Host::Ip("10.0.0.1".into()), None),
            (
                "api.example.com:443",
                Host::Name("api.example.com".into()),
                Some(443),
            ),
            ("[::1]:8080", Host::Ip("::1".into()), Some(8080)),
            ("::1", Host::Ip("::1".into()), None),
            ("ipv4@10.0.0.2:81", Host::Ip("10.0.0.2".into()), Some(81)),
            ("unix@/run/s.sock", Host::Unix("/run/s.sock".into()), None),
            ("/run/s.sock", Host::Unix("/run/s.sock".into()), None),
            // issue 8: protocol prefixes are not host names
            ("mptcp@[::]:4331", Host::Ip("::".into()), Some(4331)),
            ("mptcp4@10.0.0.3:80", Host::Ip("10.0.0.3".into()), Some(80)),
            ("quic4@10.0.0.4:443", Host::Ip("10.0.0.4".into()), Some(443)),
            (
                "tcp6@[2001:db8::1]:80",
                Host::Ip("2001:db8::1".into()),
                Some(80),
            ),
            (
                "stream+ipv4@10.0.0.5:80",
                Host::Ip("10.0.0.5".into()),
                Some(80),
            ),
            ("abnsz@agent", Host::Unix("agent".into()), None),
            ("fd@3", Host::Unix("fd@3".into()), None),
            (
                "10.0.0.6:2000-2100",
                Host::Ip("10.0.0.6".into()),
                Some(2000),
            ),
            (
                "app.internal:8080",
                Host::Name("app.internal".into()),
                Some(8080),
            ),
        ];
        for (addr, host, port) in table {
            assert_eq!(split_address(addr), (host.clone(), *port), "{addr}");
        }
    }
}
