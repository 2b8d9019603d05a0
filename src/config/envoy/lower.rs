//! [`Bootstrap`] → [`ProxyModel`].
//!
//! - each listener → a [`Server`]; the routes of its HTTP connection
//!   managers' inline `route_config` (all virtual hosts, in order) → its
//!   [`Route`]s;
//! - each cluster → an [`Upstream`], its `load_assignment` endpoints →
//!   [`Endpoint`]s.
//!
//! Envoy has no inheritance, so every field the file leaves out gets the
//! documented default of the v3 API with `defaulted: true` (the source of
//! each is in a comment at its constant). Envoy-specific facts that rules
//! need and the shared model has no field for are kept as [`Directives`]
//! named by the API field (`connect_timeout`, `type`, `health_check`, …).
//!
//! `dynamic_resources` becomes a `dynamic_resources` directive of
//! [`Global::main`](crate::config::model::Global::main), an RDS reference an
//! `rds` directive of its listener, so rules can say what is not checked.
//!
//! Values the API would reject (a bad duration, an unknown cluster `type`,
//! a non-positive `connect_timeout`, an `sni` over 255 bytes, …) become
//! [`Invalid`] entries, read by ENV-VAL-001.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use crate::config::model::{
    AccessLog, Arg, Balance, Directive, Directives, Endpoint, Host, HttpVersion, Invalid, Listen,
    Mode, ProxyKind, ProxyModel, ProxyPass, Retry, Route, RouteMatch, Server, Setting, Target,
    Timeouts, Upstream, UpstreamTls, Value,
};
use crate::source::{FileId, Span};

use super::parse::{
    Bootstrap, Cluster, Duration, EnvoyError, EnvoyNote, HttpConnectionManager, LogFormat,
    RetryPolicy, Route as EnvoyRoute, Spanned, VirtualHost, DISCOVERY_TYPES, LB_POLICIES,
};

/// `Cluster.connect_timeout` default: "The default is 5s"
/// (envoy/config/cluster/v3/cluster.proto).
pub const DEFAULT_CONNECT_TIMEOUT: StdDuration = StdDuration::from_secs(5);
/// `RouteAction.timeout` default: "If not specified, the default is 15s"
/// (envoy/config/route/v3/route_components.proto).
pub const DEFAULT_ROUTE_TIMEOUT: StdDuration = StdDuration::from_secs(15);
/// `RetryPolicy.num_retries` default: "Defaults to 1"
/// (route_components.proto).
pub const DEFAULT_NUM_RETRIES: u32 = 1;
/// `HttpProtocolOptions.idle_timeout` default: "If not specified, this
/// defaults to 1 hour" (envoy/config/core/v3/protocol.proto).
pub const DEFAULT_IDLE_TIMEOUT: StdDuration = StdDuration::from_secs(3600);
/// `Cluster.dns_refresh_rate` default: "defaults to 5000ms" (cluster.proto).
pub const DEFAULT_DNS_REFRESH_RATE: StdDuration = StdDuration::from_millis(5000);
/// `OutlierDetection.consecutive_5xx` default 5 (outlier_detection.proto).
pub const DEFAULT_CONSECUTIVE_5XX: u32 = 5;
/// `OutlierDetection.base_ejection_time` default 30000ms
/// (outlier_detection.proto).
pub const DEFAULT_BASE_EJECTION_TIME: StdDuration = StdDuration::from_secs(30);
/// `HttpConnectionManager.max_request_headers_kb` default 60 KiB, at most
/// 8192 (http_connection_manager.proto).
pub const DEFAULT_MAX_REQUEST_HEADERS_KB: u64 = 60;
/// Envoy's default access log format ("Default format string", Envoy
/// access logging docs), used when an access log gives none.
pub const DEFAULT_LOG_FORMAT: &str = "[%START_TIME%] \"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%\" %RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% \"%REQ(X-FORWARDED-FOR)%\" \"%REQ(USER-AGENT)%\" \"%REQ(X-REQUEST-ID)%\" \"%REQ(:AUTHORITY)%\" \"%UPSTREAM_HOST%\"\n";

fn std(d: Duration) -> StdDuration {
    if d.is_positive() {
        StdDuration::new(d.seconds as u64, d.nanos.max(0) as u32)
    } else {
        StdDuration::ZERO
    }
}

fn arg(value: impl Into<String>, span: Span) -> Arg {
    Arg::text(value, span, false)
}

/// An argument carrying the typed value the schema read, beside its text
/// (for messages): rules compare the value and never re-read the text.
fn typed_arg(text: String, value: Value, span: Span) -> Arg {
    Arg {
        typed: Some(value),
        ..Arg::text(text, span, false)
    }
}

/// Scalar fields lowered as typed directive arguments.
trait ToValue: ToString {
    fn to_value(&self) -> Value;
}

impl ToValue for bool {
    fn to_value(&self) -> Value {
        Value::Flag(*self)
    }
}

impl ToValue for u64 {
    fn to_value(&self) -> Value {
        Value::Count(*self)
    }
}

/// The request methods a `:method` header match admits, as a
/// `methods` directive: the exact value, or the alternatives of a regex
/// written as a plain list (`^(GET|HEAD)$`, `GET|HEAD`). Any other regex
/// gives itself as one "method", which names no real method.
fn methods_matched(value: &str, regex: bool) -> Vec<&str> {
    if !regex {
        return vec![value];
    }
    let body = value.trim_start_matches('^').trim_end_matches('$');
    let body = body
        .strip_prefix('(')
        .and_then(|b| b.strip_suffix(')'))
        .unwrap_or(body);
    body.split('|').collect()
}

/// A directive named `name` with `args`, spanning `span`.
fn dir(name: &str, args: Vec<Arg>, span: Span) -> Directive {
    Directive {
        name: name.to_owned(),
        args: args.into(),
        span,
        name_span: span,
    }
}

fn push_str(d: &mut Directives, name: &str, v: &Option<Spanned<String>>) {
    if let Some(v) = v {
        d.push(dir(name, vec![arg(v.value.clone(), v.span)], v.span));
    }
}

fn push_dur(d: &mut Directives, name: &str, v: &Option<Spanned<Duration>>) {
    if let Some(v) = v {
        // A negative duration is no time at all (Envoy refuses it): text only.
        let negative = v.value.seconds < 0 || v.value.nanos < 0;
        let a = if negative {
            arg(v.value.to_string(), v.span)
        } else {
            typed_arg(v.value.to_string(), Value::Time(std(v.value)), v.span)
        };
        d.push(dir(name, vec![a], v.span));
    }
}

fn push_num<T: ToValue>(d: &mut Directives, name: &str, v: &Option<Spanned<T>>) {
    if let Some(v) = v {
        let a = typed_arg(v.value.to_string(), v.value.to_value(), v.span);
        d.push(dir(name, vec![a], v.span));
    }
}

/// Lower a read bootstrap into the model.
pub fn lower(boot: &Bootstrap, file: FileId) -> ProxyModel {
    let mut model = ProxyModel::new(ProxyKind::Envoy, file);
    model.global.span = Span::new(file, boot.span.start as usize, boot.span.start as usize);
    for e in &boot.errors {
        if !matches!(e, EnvoyError::Load(_)) {
            model.invalid.push(Invalid {
                span: e.span(),
                directive: match e {
                    EnvoyError::WrongType { field, .. } | EnvoyError::BadValue { field, .. } => {
                        field.clone()
                    }
                    EnvoyError::Load(_) => String::new(),
                },
                problem: e.to_string(),
                help: if matches!(e, EnvoyError::WrongType { field, .. } if field == "(root)") {
                    "lint the file Envoy loads (its -c bootstrap), an xDS resource file or the admin /config_dump itself; a tool's output that wraps a /config_dump under keys of its own (egctl's `xds: <proxy>: configs:`) is not one".into()
                } else {
                    "write the value as the Envoy v3 API expects it (durations as \"5s\" or \"0.250s\")".into()
                },
            });
        }
    }
    for n in &boot.notes {
        if let EnvoyNote::DynamicResources {
            span,
            local_paths,
            remote,
        } = n
        {
            // arguments: `remote` when a management server serves some of
            // them, then the local files the others are read from
            let mut args: Vec<Arg> = Vec::new();
            if *remote {
                args.push(arg("remote", *span));
            }
            args.extend(local_paths.iter().map(|p| arg(p.as_str(), *span)));
            model
                .global
                .main
                .push(dir("dynamic_resources", args, *span));
        }
    }
    if let Some(dump) = &boot.config_dump {
        // arguments: the parts the dump holds; then the route
        // configurations no dumped listener uses
        let args: Vec<Arg> = dump
            .parts
            .iter()
            .map(|k| arg(k.as_str(), boot.span))
            .collect();
        model.global.main.push(dir("config_dump", args, boot.span));
        if !dump.unattached_routes.is_empty() {
            let args: Vec<Arg> = dump
                .unattached_routes
                .iter()
                .map(|k| arg(k.as_str(), boot.span))
                .collect();
            model
                .global
                .main
                .push(dir("config_dump.unattached_routes", args, boot.span));
        }
    }
    if let Some(kinds) = &boot.xds_resources {
        let args: Vec<Arg> = kinds.iter().map(|k| arg(k.as_str(), boot.span)).collect();
        model
            .global
            .main
            .push(dir("xds_resources", args, boot.span));
    }
    for c in &boot.clusters {
        model.blocks.push(c.span);
        check_cluster(c, &mut model.invalid);
        model.upstreams.push(upstream(c));
    }
    for l in &boot.listeners {
        model.blocks.push(l.span);
        let mut server = Server {
            // A listener without a name is known by its address (issue 8).
            name: l
                .name
                .as_ref()
                .map(|n| n.value.clone())
                .filter(|n| !n.is_empty())
                .or_else(|| l.address.as_ref().map(|a| a.value.clone()))
                .unwrap_or_else(|| "(unnamed)".to_owned()),
            span: l.span,
            directives: Directives::new(),
            access_log: empty_log(l.span),
            listen: l.address.iter().map(listen).collect(),
            routes: Vec::new(),
            // HTTP is handled only by an `http_connection_manager` filter;
            // a listener without one relays bytes (`tcp_proxy`, …).
            mode: match l.http_managers.first() {
                Some(h) => Setting::explicit(Mode::Http, h.span),
                None => Setting::default_at(Mode::Tcp, l.span),
            },
        };
        for (i, h) in l.http_managers.iter().enumerate() {
            model.blocks.push(h.span);
            check_hcm(h, &mut model.invalid);
            hcm_directives(h, &mut server.directives);
            let log = access_log(h);
            if i == 0 {
                server.access_log = log.clone();
            }
            let Some(rc) = &h.route_config else {
                continue;
            };
            model.blocks.push(rc.span);
            for vh in &rc.virtual_hosts {
                model.blocks.push(vh.span);
                for r in &vh.routes {
                    model.blocks.push(r.span);
                    server.routes.push(route(r, vh, h, &log, &boot.clusters));
                }
            }
        }
        model.servers.push(server);
    }
    // A cluster carries HTTP when an HTTP route sends to it; otherwise it is
    // read as TCP (a `tcp_proxy` cluster, or one only dynamic config uses).
    for r in model.servers.iter().flat_map(|s| &s.routes) {
        let Some(p) = &r.proxy else { continue };
        if let Target::Pool(name) = &p.target {
            for u in model.upstreams.iter_mut().filter(|u| &u.name == name) {
                u.mode = Setting::default_at(Mode::Http, p.span);
            }
        }
    }
    model
}

/// A listener's `address.socket_address` (`address:port`, as the schema
/// reads it; `0.0.0.0` and `::` take every address) or `pipe.path`.
fn listen(a: &Spanned<String>) -> Listen {
    let t = a.value.as_str();
    if t.starts_with('/') || t.starts_with('@') {
        return Listen {
            text: t.to_owned(),
            host: Some(Host::Unix(t.to_owned())),
            ports: None,
            span: a.span,
            defaulted: false,
        };
    }
    match t
        .rsplit_once(':')
        .and_then(|(h, p)| Some((h, p.parse::<u16>().ok()?)))
    {
        Some((host, port)) => Listen::new(t, host, Some((port, port)), a.span),
        None => Listen::new(t, t, None, a.span),
    }
}

fn empty_log(span: Span) -> AccessLog {
    AccessLog {
        logs: Vec::new(),
        // HCM.access_log: none by default.
        off: Setting::default_at(true, span),
        formats: Vec::new(),
    }
}

fn access_log(h: &HttpConnectionManager) -> AccessLog {
    if h.access_log.is_empty() {
        return empty_log(h.span);
    }
    let mut logs = Vec::new();
    let mut formats = Vec::new();
    for a in &h.access_log {
        let dest = a
            .path
            .as_ref()
            .map(|p| p.value.clone())
            .or_else(|| {
                a.type_url
                    .as_ref()
                    .map(|t| t.value.rsplit('.').next().unwrap_or("").to_owned())
            })
            .unwrap_or_default();
        let (kind, format) = match &a.format {
            LogFormat::Default => (
                "default",
                Setting::default_at(DEFAULT_LOG_FORMAT.to_owned(), a.span),
            ),
            LogFormat::Text(t) => ("text", Setting::explicit(t.value.clone(), t.span)),
            LogFormat::Json(j) => ("json", Setting::explicit(j.value.clone(), j.span)),
            LogFormat::Other(s) => ("other", Setting::explicit(String::new(), *s)),
        };
        logs.push(Setting::explicit((dest, kind.to_owned()), a.span));
        formats.push(Setting {
            value: Arc::from(format.value),
            defaulted: format.defaulted,
            span: format.span,
        });
    }
    AccessLog {
        off: Setting::explicit(false, h.access_log[0].span),
        logs,
        formats,
    }
}

fn hcm_directives(h: &HttpConnectionManager, d: &mut Directives) {
    let prefix = h.stat_prefix.as_ref().map(|p| arg(p.value.clone(), p.span));
    d.push(dir(
        "http_connection_manager",
        prefix.into_iter().collect(),
        h.span,
    ));
    push_num(d, "generate_request_id", &h.generate_request_id);
    push_num(d, "max_request_headers_kb", &h.max_request_headers_kb);
    push_dur(d, "stream_idle_timeout", &h.stream_idle_timeout);
    push_dur(d, "request_timeout", &h.request_timeout);
    push_str(d, "rds", &h.rds);
    if let Some(o) = &h.common_http_protocol_options {
        push_dur(
            d,
            "common_http_protocol_options.idle_timeout",
            &o.idle_timeout,
        );
        push_num(
            d,
            "common_http_protocol_options.max_response_headers_kb",
            &o.max_response_headers_kb,
        );
    }
    for a in &h.access_log {
        let kind = match &a.format {
            LogFormat::Default => "default",
            LogFormat::Text(_) => "text",
            LogFormat::Json(_) => "json",
            LogFormat::Other(_) => "other",
        };
        d.push(dir("access_log", vec![arg(kind, a.span)], a.span));
    }
}

fn check_hcm(h: &HttpConnectionManager, out: &mut Vec<Invalid>) {
    if let Some(kb) = &h.max_request_headers_kb {
        if kb.value == 0 || kb.value > 8192 {
            out.push(Invalid {
                span: kb.span,
                directive: "max_request_headers_kb".into(),
                problem: format!("max_request_headers_kb {} is outside 1..8192", kb.value),
                help: "the API accepts 1 to 8192 KiB (default 60)".into(),
            });
        }
    }
}

fn check_cluster(c: &Cluster, out: &mut Vec<Invalid>) {
    let name = c.name_str();
    if let Some(t) = &c.discovery_type {
        if !DISCOVERY_TYPES.contains(&t.value.as_str()) {
            out.push(Invalid {
                span: t.span,
                directive: "type".into(),
                problem: format!("cluster '{name}': unknown type '{}'", t.value),
                help: format!("use one of {}", DISCOVERY_TYPES.join(", ")),
            });
        }
    }
    if let Some(p) = &c.lb_policy {
        if !LB_POLICIES.contains(&p.value.as_str()) {
            out.push(Invalid {
                span: p.span,
                directive: "lb_policy".into(),
                problem: format!("cluster '{name}': unknown lb_policy '{}'", p.value),
                help: format!("use one of {}", LB_POLICIES.join(", ")),
            });
        }
    }
    if let Some(t) = &c.connect_timeout {
        if !t.value.is_positive() {
            out.push(Invalid {
                span: t.span,
                directive: "connect_timeout".into(),
                problem: format!(
                    "cluster '{name}': connect_timeout {} is not positive",
                    t.value
                ),
                help: "connect_timeout must be greater than 0, e.g. `connect_timeout: 1s`".into(),
            });
        }
    }
    if let Some(sni) = c.tls.as_ref().and_then(|t| t.sni.as_ref()) {
        if sni.value.len() > 255 {
            out.push(Invalid {
                span: sni.span,
                directive: "sni".into(),
                problem: format!(
                    "cluster '{name}': sni is {} bytes, more than the 255 allowed",
                    sni.value.len()
                ),
                help: "SNI is a host name of at most 255 bytes".into(),
            });
        }
    }
}

fn is_dns(c: &Cluster) -> bool {
    matches!(c.type_str(), "STRICT_DNS" | "LOGICAL_DNS")
        || c.cluster_type
            .as_ref()
            .is_some_and(|t| t.value.contains("dns"))
}

fn upstream(c: &Cluster) -> Upstream {
    let span = c.span;
    let mut d = Directives::new();
    push_str(&mut d, "type", &c.discovery_type);
    push_str(&mut d, "cluster_type", &c.cluster_type);
    push_dur(&mut d, "connect_timeout", &c.connect_timeout);
    push_str(&mut d, "lb_policy", &c.lb_policy);
    push_dur(&mut d, "dns_refresh_rate", &c.dns_refresh_rate);
    push_num(&mut d, "respect_dns_ttl", &c.respect_dns_ttl);
    for hc in &c.health_checks {
        // Args: the required fields that are present.
        let mut present = Vec::new();
        if hc.timeout.is_some() {
            present.push(arg("timeout", hc.span));
        }
        if hc.interval.is_some() {
            present.push(arg("interval", hc.span));
        }
        if hc.unhealthy_threshold.is_some() {
            present.push(arg("unhealthy_threshold", hc.span));
        }
        if hc.healthy_threshold.is_some() {
            present.push(arg("healthy_threshold", hc.span));
        }
        d.push(dir("health_check", present, hc.span));
    }
    if let Some(od) = &c.outlier_detection {
        d.push(dir("outlier_detection", Vec::new(), od.span));
    }
    if let Some(o) = &c.common_http_protocol_options {
        d.push(dir("common_http_protocol_options", Vec::new(), o.span));
    }
    push_num(
        &mut d,
        "upstream_http_protocol_options.auto_sni",
        &c.legacy_auto_sni,
    );
    let common = c
        .upstream_http_options
        .as_ref()
        .and_then(|u| u.common.as_ref())
        .or(c.common_http_protocol_options.as_ref());
    if let Some(o) = common {
        push_num(
            &mut d,
            "max_response_headers_kb",
            &o.max_response_headers_kb,
        );
    }
    if let Some(u) = &c.upstream_http_options {
        push_num(&mut d, "auto_sni", &u.auto_sni);
        if u.http2 {
            d.push(dir("http2", Vec::new(), u.span));
        }
    }
    if let Some(t) = &c.tls {
        d.push(dir("tls", Vec::new(), t.span));
        push_str(&mut d, "tls.sni", &t.sni);
        push_num(&mut d, "tls.auto_host_sni", &t.auto_host_sni);
        push_str(&mut d, "tls.trusted_ca", &t.trusted_ca);
    }
    let idle = common.and_then(|o| o.idle_timeout.as_ref());
    let keepalive_timeout = match idle {
        Some(t) => Setting::explicit(std(t.value), t.span),
        None => Setting::default_at(DEFAULT_IDLE_TIMEOUT, span),
    };
    let balance = match &c.lb_policy {
        Some(p) => Setting::explicit(Balance::from_envoy(&p.value), p.span),
        // `lb_policy` default ROUND_ROBIN (cluster.proto, LbPolicy = 0).
        None => Setting::default_at(Balance::RoundRobin, span),
    };
    let health_check = match c.health_checks.first() {
        Some(hc) => Setting::explicit(true, hc.span),
        // No health_checks: every host counts as healthy (cluster.proto).
        None => Setting::default_at(false, span),
    };
    let dns = is_dns(c);
    let od = c.outlier_detection.as_ref();
    let servers = c
        .endpoints
        .iter()
        .map(|e| {
            let max_fails = match od {
                Some(o) => match &o.consecutive_5xx {
                    Some(n) => Setting::explicit(n.value.min(u32::MAX as u64) as u32, n.span),
                    None => Setting::default_at(DEFAULT_CONSECUTIVE_5XX, o.span),
                },
                // Without outlier detection no failure is counted.
                None => Setting::default_at(0, span),
            };
            let fail_timeout = match od.and_then(|o| o.base_ejection_time.as_ref()) {
                Some(t) => Setting::explicit(std(t.value), t.span),
                None => {
                    Setting::default_at(DEFAULT_BASE_EJECTION_TIME, od.map_or(span, |o| o.span))
                }
            };
            // A `pipe` endpoint is a Unix socket even with a relative path
            // (Envoy's `Pipe.path` is any path; `@` is the abstract namespace).
            let host = if e.pipe || (e.port.is_none() && e.address.value.starts_with('/')) {
                Host::Unix(e.address.value.clone())
            } else {
                Host::classify(&e.address.value)
            };
            Endpoint {
                name: None,
                address: match &e.port {
                    Some(p) => format!("{}:{}", e.address.value, p.value),
                    None => e.address.value.clone(),
                },
                host,
                port: e.port.as_ref().and_then(|p| u16::try_from(p.value).ok()),
                span: e.span,
                backup: false,
                down: false,
                resolve: dns,
                max_fails,
                fail_timeout,
                params: vec![arg(e.address.value.clone(), e.address.span)],
            }
        })
        .collect();
    Upstream {
        name: c.name_str().to_owned(),
        span,
        directives: d,
        servers,
        balance,
        // Envoy pools upstream connections without a count limit of its
        // own (circuit breakers bound them): "unbounded" here.
        keepalive: Setting::default_at(u32::MAX, span),
        keepalive_timeout,
        zone: None,
        resolver: None,
        health_check,
        // Set to HTTP by `lower` when an HTTP route sends to it.
        mode: Setting::default_at(Mode::Tcp, span),
        http_reuse: None,
        redispatch: None,
        check_probe: None,
    }
}

fn route(
    r: &EnvoyRoute,
    vh: &VirtualHost,
    h: &HttpConnectionManager,
    log: &AccessLog,
    clusters: &[Cluster],
) -> Route {
    let span = r.span;
    let matcher = match (&r.matcher.path, r.matcher.kind) {
        (Some(p), "path") => RouteMatch::Exact(p.value.clone()),
        (Some(p), "safe_regex") => RouteMatch::Regex(p.value.clone(), false),
        (Some(p), _) => RouteMatch::Prefix(p.value.clone()),
        (None, _) => RouteMatch::Default,
    };
    let mut d = Directives::new();
    for hm in &r.matcher.headers {
        let mut args = vec![arg(hm.name.clone(), hm.span)];
        if let Some(v) = &hm.value {
            args.push(arg(v.clone(), hm.span));
        }
        let name = match (hm.regex, hm.invert) {
            (false, false) => "header",
            (true, false) => "header_regex",
            (false, true) => "header_not",
            (true, true) => "header_regex_not",
        };
        d.push(dir(name, args, hm.span));
        if hm.name == ":method" && !hm.invert {
            if let Some(v) = &hm.value {
                let methods = methods_matched(v, hm.regex)
                    .into_iter()
                    .map(|m| arg(m, hm.span))
                    .collect();
                d.push(dir("methods", methods, hm.span));
            }
        }
    }
    let Some(a) = &r.action else {
        return Route {
            matcher,
            span,
            directives: d,
            proxy: None,
            timeouts: Timeouts {
                connect: Setting::default_at(Some(DEFAULT_CONNECT_TIMEOUT), span),
                read: Setting::default_at(Some(DEFAULT_ROUTE_TIMEOUT), span),
                send: Setting::default_at(Some(DEFAULT_ROUTE_TIMEOUT), span),
            },
            retry: Retry {
                on: Setting::default_at(Vec::new(), span),
                tries: Setting::default_at(1, span),
                timeout: Setting::default_at(None, span),
                per_try: Setting::default_at(None, span),
            },
            tls: no_tls(span),
            access_log: log.clone(),
            upstream_http_version: Setting::default_at(HttpVersion::Http11, span),
            request_id_header: request_id(h),
            module_pass: None,
        };
    };
    let (cluster_name, target, pass_span) = if let Some(c) = &a.cluster {
        let t = if clusters.iter().any(|k| k.name_str() == c.value) {
            Target::Pool(c.value.clone())
        } else {
            Target::Unknown(c.value.clone())
        };
        (c.value.clone(), t, c.span)
    } else if let Some(first) = a.weighted_clusters.first() {
        let missing = a
            .weighted_clusters
            .iter()
            .find(|w| !clusters.iter().any(|k| k.name_str() == w.value));
        let t = match missing {
            Some(m) => Target::Unknown(m.value.clone()),
            None => Target::Pool(first.value.clone()),
        };
        let names: Vec<Arg> = a
            .weighted_clusters
            .iter()
            .map(|w| arg(w.value.clone(), w.span))
            .collect();
        d.push(dir("weighted_clusters", names, first.span));
        (
            first.value.clone(),
            t,
            missing.map_or(first.span, |m| m.span),
        )
    } else if let Some(hdr) = &a.cluster_header {
        d.push(dir(
            "cluster_header",
            vec![arg(hdr.value.clone(), hdr.span)],
            hdr.span,
        ));
        (hdr.value.clone(), Target::Dynamic, hdr.span)
    } else {
        (String::new(), Target::Dynamic, a.span)
    };
    let cluster = clusters.iter().find(|k| k.name_str() == cluster_name);
    let connect = match cluster.and_then(|c| c.connect_timeout.as_ref()) {
        Some(t) => Setting::explicit(Some(std(t.value)), t.span),
        None => Setting::default_at(
            Some(DEFAULT_CONNECT_TIMEOUT),
            cluster.map_or(a.span, |c| c.span),
        ),
    };
    let read = match &a.timeout {
        // 0 disables the route timeout.
        Some(t) if t.value.is_zero() => Setting::explicit(None, t.span),
        Some(t) => Setting::explicit(Some(std(t.value)), t.span),
        None => Setting::default_at(Some(DEFAULT_ROUTE_TIMEOUT), a.span),
    };
    push_dur(&mut d, "timeout", &a.timeout);
    push_dur(&mut d, "idle_timeout", &a.idle_timeout);
    push_dur(
        &mut d,
        "max_stream_duration.max_stream_duration",
        &a.max_stream_duration,
    );
    push_dur(
        &mut d,
        "max_stream_duration.grpc_timeout_header_max",
        &a.grpc_timeout_header_max,
    );
    let (policy, from_vhost) = match (&a.retry_policy, &vh.retry_policy) {
        (Some(p), _) => (Some(p), false),
        (None, Some(p)) => (Some(p), true),
        (None, None) => (None, false),
    };
    let retry = retry(policy, a.span, &mut d, from_vhost);
    let tls = match cluster.and_then(|c| c.tls.as_ref().map(|t| (c, t))) {
        Some((c, t)) => {
            let auto_sni = c
                .upstream_http_options
                .as_ref()
                .and_then(|u| u.auto_sni.as_ref())
                .or(c.legacy_auto_sni.as_ref());
            let server_name = match (&t.sni, &t.auto_host_sni, auto_sni) {
                (Some(s), _, _) => Setting::explicit(true, s.span),
                (None, Some(b), _) if b.value => Setting::explicit(true, b.span),
                (None, _, Some(b)) if b.value => Setting::explicit(true, b.span),
                _ => Setting::default_at(false, t.span),
            };
            UpstreamTls {
                server_name,
                name: match &t.sni {
                    Some(s) => Setting::explicit(s.value.clone(), s.span),
                    None => Setting::default_at(String::new(), t.span),
                },
                // Without a validation context the server certificate is
                // not verified (UpstreamTlsContext / CertificateValidationContext docs).
                verify: if t.has_validation_context {
                    Setting::explicit(true, t.trusted_ca.as_ref().map_or(t.span, |c| c.span))
                } else {
                    Setting::default_at(false, t.span)
                },
                trusted_ca: t
                    .trusted_ca
                    .as_ref()
                    .map(|c| Setting::explicit(c.value.clone(), c.span)),
            }
        }
        None => no_tls(a.span),
    };
    let http2 = cluster
        .and_then(|c| c.upstream_http_options.as_ref())
        .is_some_and(|u| u.http2);
    Route {
        matcher,
        span,
        directives: d,
        proxy: Some(ProxyPass {
            span: pass_span,
            raw: cluster_name.clone(),
            scheme: cluster
                .and_then(|c| c.tls.as_ref())
                .map(|_| "https".to_owned()),
            host: cluster_name,
            port: None,
            uri: None,
            has_variables: matches!(target, Target::Dynamic),
            target,
        }),
        timeouts: Timeouts {
            connect,
            send: read.clone(),
            read,
        },
        retry,
        tls,
        access_log: log.clone(),
        upstream_http_version: if http2 {
            Setting::explicit(HttpVersion::Http2, a.span)
        } else {
            Setting::default_at(HttpVersion::Http11, a.span)
        },
        request_id_header: request_id(h),
        module_pass: None,
    }
}

fn no_tls(span: Span) -> UpstreamTls {
    UpstreamTls {
        server_name: Setting::default_at(false, span),
        name: Setting::default_at(String::new(), span),
        verify: Setting::default_at(false, span),
        trusted_ca: None,
    }
}

/// `x-request-id` is generated and forwarded unless `generate_request_id:
/// false` (HCM `generate_request_id`, default true).
fn request_id(h: &HttpConnectionManager) -> Option<Setting<String>> {
    match &h.generate_request_id {
        Some(g) if !g.value => None,
        Some(g) => Some(Setting::explicit("x-request-id".into(), g.span)),
        None => Some(Setting::default_at("x-request-id".into(), h.span)),
    }
}

fn retry(policy: Option<&RetryPolicy>, span: Span, d: &mut Directives, from_vhost: bool) -> Retry {
    let Some(p) = policy else {
        // No retry policy: no retries.
        return Retry {
            on: Setting::default_at(Vec::new(), span),
            tries: Setting::default_at(1, span),
            timeout: Setting::default_at(None, span),
            per_try: Setting::default_at(None, span),
        };
    };
    d.push(dir(
        "retry_policy",
        vec![arg(
            if from_vhost { "virtual_host" } else { "route" },
            p.span,
        )],
        p.span,
    ));
    push_str(d, "retry_on", &p.retry_on);
    push_num(d, "num_retries", &p.num_retries);
    push_dur(d, "per_try_timeout", &p.per_try_timeout);
    Retry {
        on: match &p.retry_on {
            Some(r) => Setting::explicit(p.conditions().map(str::to_owned).collect(), r.span),
            None => Setting::default_at(Vec::new(), p.span),
        },
        tries: match &p.num_retries {
            Some(n) => Setting::explicit((n.value.min(u32::MAX as u64 - 1) as u32) + 1, n.span),
            None => Setting::default_at(DEFAULT_NUM_RETRIES + 1, p.span),
        },
        // The route `timeout` bounds every attempt together (RetryPolicy
        // docs: it "includes all retries"); it is the route's read timeout.
        timeout: Setting::default_at(None, p.span),
        per_try: match &p.per_try_timeout {
            Some(t) => Setting::explicit(Some(std(t.value)), t.span),
            None => Setting::default_at(None, p.span),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::envoy::{parse_bootstrap, Syntax};

    fn model(yaml: &str) -> ProxyModel {
        let b = parse_bootstrap(FileId(0), yaml.as_bytes(), Syntax::Yaml);
        lower(&b, FileId(0))
    }

    /// A listener's `socket_address`: `0.0.0.0` takes every address.
    #[test]
    fn listener_addresses() {
        let m = model(
            "static_resources:\n  listeners:\n  - name: a\n    address: { socket_address: { address: 0.0.0.0, port_value: 10000 } }\n  - name: b\n    address: { socket_address: { address: 10.0.0.7, port_value: 15001 } }\n",
        );
        let l: Vec<_> = m.servers.iter().flat_map(|s| s.listen.iter()).collect();
        assert_eq!(l.len(), 2);
        assert_eq!(
            (l[0].host.as_ref(), l[0].ports),
            (None, Some((10000, 10000)))
        );
        assert_eq!(l[1].reached_by("10.0.0.7:15001"), Some(true));
        assert_eq!(l[0].reached_by("10.0.0.7:10000"), Some(false));
    }

    const YAML: &str = r#"
static_resources:
  listeners:
  - name: ingress
    filter_chains:
    - filters:
      - name: hcm
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: x
          generate_request_id: false
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              retry_policy: { retry_on: connect-failure }
              routes:
              - match: { prefix: /api }
                route: { cluster: api, timeout: 0s }
              - match: { prefix: / }
                route: { cluster: nope }
              - match: { prefix: /old }
                redirect: { path_redirect: /new }
  clusters:
  - name: api
    type: STRICT_DNS
    connect_timeout: 0s
    lb_policy: ROUND_ROBINN
    load_assignment:
      endpoints:
      - lb_endpoints:
        - endpoint: { address: { socket_address: { address: api.internal, port_value: 80 } } }
        - endpoint: { address: { socket_address: { address: 10.0.0.2, port_value: 80 } } }
    outlier_detection: {}
    health_checks:
    - { timeout: 1s, interval: 5s }
"#;

    #[test]
    fn per_try_timeout_is_per_attempt_not_a_budget() {
        let m = model(
            "static_resources:\n  listeners:\n  - name: l\n    filter_chains:\n    - filters:\n      - name: hcm\n        typed_config:\n          \"@type\": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager\n          stat_prefix: x\n          route_config:\n            virtual_hosts:\n            - name: all\n              domains: [\"*\"]\n              routes:\n              - match: { prefix: / }\n                route: { cluster: app, timeout: 9s, retry_policy: { retry_on: 5xx, num_retries: 2, per_try_timeout: 3s } }\n  clusters:\n  - name: app\n",
        );
        let r = &m.servers[0].routes[0];
        assert_eq!(
            r.retry.per_try.value,
            Some(std::time::Duration::from_secs(3))
        );
        assert!(!r.retry.per_try.defaulted);
        assert_eq!(r.retry.timeout.value, None);
        assert_eq!(r.retry.tries.value, 3);
    }

    #[test]
    fn modes_and_balance() {
        let m = model(YAML);
        assert_eq!(m.servers[0].mode.value, Mode::Http);
        let api = m.upstream("api").unwrap();
        // routed to by an HTTP route
        assert_eq!(api.mode.value, Mode::Http);
        // `ROUND_ROBINN` is no policy Envoy knows: kept as written
        assert_eq!(api.balance.value, Balance::Other("ROUND_ROBINN".into()));
        assert!(api.http_reuse.is_none());
        let m = model(
            "static_resources:\n  listeners:\n  - name: db\n    address: { socket_address: { address: 0.0.0.0, port_value: 5432 } }\n  clusters:\n  - name: pg\n    lb_policy: RING_HASH\n",
        );
        assert_eq!(m.servers[0].mode.value, Mode::Tcp);
        let pg = m.upstream("pg").unwrap();
        assert_eq!(
            (pg.mode.value, pg.balance.value.clone()),
            (Mode::Tcp, Balance::Hash)
        );
    }

    #[test]
    fn lowers_listeners_routes_clusters() {
        let m = model(YAML);
        assert_eq!(m.kind, ProxyKind::Envoy);
        let s = &m.servers[0];
        assert_eq!(s.name, "ingress");
        assert!(s.access_log.off.value && s.access_log.off.defaulted);
        assert_eq!(s.routes.len(), 3);
        let r0 = &s.routes[0];
        assert_eq!(r0.matcher, RouteMatch::Prefix("/api".into()));
        assert_eq!(
            r0.proxy.as_ref().unwrap().target,
            Target::Pool("api".into())
        );
        assert_eq!(r0.timeouts.read.value, None);
        assert!(!r0.timeouts.read.defaulted);
        assert_eq!(r0.timeouts.connect.value, Some(StdDuration::ZERO));
        assert_eq!(r0.retry.on.value, ["connect-failure"]);
        assert_eq!(r0.retry.tries.value, 2);
        assert!(r0.retry.tries.defaulted);
        // no per_try_timeout: each attempt waits the route timeout; the
        // route timeout, not a retry budget, bounds them all
        assert_eq!(r0.retry.per_try.value, None);
        assert_eq!(r0.retry.timeout.value, None);
        assert_eq!(
            r0.directives.get("retry_policy").unwrap().arg(0),
            Some("virtual_host")
        );
        assert!(r0.request_id_header.is_none());
        let r1 = &s.routes[1];
        assert_eq!(
            r1.proxy.as_ref().unwrap().target,
            Target::Unknown("nope".into())
        );
        assert_eq!(r1.timeouts.read.value, Some(DEFAULT_ROUTE_TIMEOUT));
        assert!(r1.timeouts.read.defaulted);
        assert_eq!(r1.timeouts.connect.value, Some(DEFAULT_CONNECT_TIMEOUT));
        assert!(s.routes[2].proxy.is_none());

        let u = &m.upstreams[0];
        assert_eq!(u.servers.len(), 2);
        assert!(u.servers[0].resolve);
        assert_eq!(u.servers[0].host, Host::Name("api.internal".into()));
        assert_eq!(u.servers[0].max_fails.value, DEFAULT_CONSECUTIVE_5XX);
        assert_eq!(u.keepalive_timeout.value, DEFAULT_IDLE_TIMEOUT);
        assert!(u.keepalive_timeout.defaulted);
        assert!(u.health_check.value);
        let hc = u.directives.get("health_check").unwrap();
        assert_eq!(hc.args_text(), "timeout interval");

        let problems: Vec<&str> = m.invalid.iter().map(|i| i.problem.as_str()).collect();
        assert_eq!(
            problems,
            [
                "cluster 'api': unknown lb_policy 'ROUND_ROBINN'",
                "cluster 'api': connect_timeout 0s is not positive",
            ]
        );
    }

    #[test]
    fn bad_values_become_invalid_entries() {
        let m = model("static_resources:\n  clusters:\n  - name: c\n    connect_timeout: 5\n");
        assert_eq!(m.invalid.len(), 1);
        assert!(m.invalid[0].problem.contains("'5' has no 's' suffix"));
        assert_eq!(
            m.invalid[0].directive,
            "static_resources.clusters[0].connect_timeout"
        );
    }

    #[test]
    fn xds_resource_files_are_modelled() {
        // issue 8: `resources:` lists (path_config_source files) are linted
        // like static resources; a listener without a name is its address
        let m = model(
            "version_info: \"1\"\nresources:\n- \"@type\": type.googleapis.com/envoy.config.cluster.v3.Cluster\n  name: svc\n  type: STRICT_DNS\n  load_assignment:\n    cluster_name: svc\n    endpoints:\n    - lb_endpoints:\n      - endpoint: { address: { socket_address: { address: svc.internal, port_value: 80 } } }\n- \"@type\": type.googleapis.com/envoy.config.listener.v3.Listener\n  address: { socket_address: { address: 0.0.0.0, port_value: 10000 } }\n",
        );
        assert_eq!(m.upstreams.len(), 1);
        assert_eq!(m.upstreams[0].name, "svc");
        assert_eq!(m.servers.len(), 1);
        assert_eq!(m.servers[0].name, "0.0.0.0:10000");
        let kinds: Vec<&str> = m
            .global
            .main
            .get("xds_resources")
            .unwrap()
            .args
            .iter()
            .map(|a| a.value.as_str())
            .collect();
        assert_eq!(kinds, ["Cluster", "Listener"]);
    }
}
