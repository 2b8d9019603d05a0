//! nginx syntax tree → [`ProxyModel`], with nginx's inheritance resolved.
//!
//! Inheritance: a directive set at `http` applies to every `server`, and at
//! `server` to every `location` (nested locations inherit from the enclosing
//! one), unless the inner level sets it itself. For directives that may be
//! repeated (`proxy_set_header`, `access_log`, `proxy_cache_valid`,
//! `error_page`, …) the inner level's list *replaces* the outer one when it
//! has any occurrence at all — nginx never merges them. [`Directives::inherit`]
//! implements exactly that rule; rules read the result and never walk levels
//! themselves.
//!
//! Defaults come from the directive table ([`grammar::Spec::default_for`],
//! read from nginx's merge functions), in the nginx version of
//! `LoadOptions::nginx_version` (newest behaviour when unset): 1.29.7 turned
//! upstream keep-alive and HTTP/1.1 to upstreams on by default, and the
//! table holds both defaults as data. The few defaults nginx sets in its
//! own code rather than a merge (`server` parameters, `error_log`,
//! `access_log`, `proxy_ssl_name`) are constants below, each citing where.
//!
//! This pass also records invalid values (times, sizes, `proxy_buffers`) and
//! directives outside their allowed context into `ProxyModel::invalid`.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use crate::config::model::{
    AccessLog, Arg, Balance, Directive, Directives, Endpoint, Global, Host, HttpVersion, Invalid,
    Listen, Mode, ModulePass, PassModule, ProxyKind, ProxyModel, ProxyPass, Retry, Route,
    RouteMatch, Server, Setting, Target, Timeouts, UnknownDirective, Upstream, UpstreamTls, Value,
    ValueKind,
};
use crate::config::{LoadOptions, Version};
use crate::source::{FileId, Span};

use super::grammar::{self, ctx, FileContext, Spec, Type};
use super::include::Tree;
use super::parser::{Block, Node};
use super::values;
use super::variables;

/// The module of the `proxy_*` directives, as the directive table names it.
pub const PROXY_MODULE: &str = "ngx_http_proxy_module";
/// The module of the upstream `keepalive*` directives.
pub const KEEPALIVE_MODULE: &str = "ngx_http_upstream_keepalive_module";
/// The http core module (`large_client_header_buffers`, …).
pub const CORE_MODULE: &str = "ngx_http_core_module";

/// `proxy_ssl_name` default: `$proxy_host` (1.7.0, (nginx docs: px)). Not in
/// the directive table: the merge leaves the pointer NULL and
/// ngx_http_proxy_module falls back to the host of `proxy_pass` at run time.
pub const PROXY_SSL_NAME: &str = "$proxy_host";
/// `server … max_fails=` default: 1. A parameter, not a directive:
/// `max_fails = 1;` in ngx_http_upstream_server() (src/http/ngx_http_upstream.c).
pub const MAX_FAILS: u32 = 1;
/// `server … fail_timeout=` default: 10s, `fail_timeout = 10;` in
/// ngx_http_upstream_server().
pub const FAIL_TIMEOUT: Duration = Duration::from_secs(10);
/// `error_log` default level: `error` ((nginx docs: main error_log)); set by
/// ngx_log_set_log()'s own code, not a merge.
pub const ERROR_LOG_LEVEL: &str = "error";
/// `access_log` default: `logs/access.log combined` ((nginx docs: log access_log)),
/// set by ngx_http_log_merge_loc_conf()'s own code.
pub const ACCESS_LOG: (&str, &str) = ("logs/access.log", "combined");
/// The default connect, send and read timeout of the fastcgi, uwsgi, scgi
/// and grpc modules (60000 ms in each module's merge function).
const MODULE_TIMEOUT: Duration = Duration::from_secs(60);

/// The directive that makes `module` a location's content handler.
pub fn pass_directive(module: PassModule) -> &'static str {
    match module {
        PassModule::FastCgi => "fastcgi_pass",
        PassModule::Uwsgi => "uwsgi_pass",
        PassModule::Scgi => "scgi_pass",
        PassModule::Grpc => "grpc_pass",
    }
}

/// The directive that sends a request header or parameter upstream for
/// `module`: `grpc_set_header` is `proxy_set_header`'s twin (a header of
/// the gRPC request); FastCGI, uwsgi and SCGI carry request data as
/// parameters (`fastcgi_param HTTP_X_REQUEST_ID $request_id`), which the
/// application reads as CGI variables (nginx docs of each module's
/// `*_param`).
pub fn header_directive(module: PassModule) -> &'static str {
    match module {
        PassModule::FastCgi => "fastcgi_param",
        PassModule::Uwsgi => "uwsgi_param",
        PassModule::Scgi => "scgi_param",
        PassModule::Grpc => "grpc_set_header",
    }
}

/// The first `directive` (`proxy_set_header`, `grpc_set_header` or a
/// `*_param`) in effect that sends a request id upstream: an
/// `X-Request-ID` header (`HTTP_X_REQUEST_ID` as a CGI parameter), or any
/// header or parameter whose value uses `$request_id`.
fn request_id_header(d: &Directives, directive: &str) -> Option<Setting<String>> {
    d.all(directive).iter().find_map(|h| {
        let name = h.arg(0)?;
        let value = h.arg(1).unwrap_or("");
        (name.eq_ignore_ascii_case("x-request-id")
            || name.eq_ignore_ascii_case("http_x_request_id")
            || value.contains("$request_id"))
        .then(|| Setting::explicit(name.to_string(), h.span))
    })
}

/// The predefined `combined` format ((nginx docs: log log_format)).
pub const COMBINED_FORMAT: &str = "$remote_addr - $remote_user [$time_local] \"$request\" $status $body_bytes_sent \"$http_referer\" \"$http_user_agent\"";

/// The default of directive `name` as `module` defines it, in nginx
/// `version` (the newest when unknown), as the directive table writes it
/// (`60s`, `error timeout`); empty when the table has none.
pub fn default_text(name: &str, module: &str, version: Option<Version>) -> &'static str {
    grammar::spec(name, module).map_or("", |s| s.default_for(version))
}

/// That default read as the directive's value type (`None` for text,
/// enums, and when the table has no default).
pub fn default_value(name: &str, module: &str, version: Option<Version>) -> Option<Value> {
    let s = grammar::spec(name, module)?;
    values::read_type(s.value, s.default_for(version))
}

/// A time directive's default in the newest nginx (`proxy_read_timeout` →
/// 60s). Every name lowering asks for has one; a unit test checks that.
pub fn default_time(name: &str, module: &str) -> Duration {
    match default_value(name, module, None) {
        Some(Value::Time(t)) => t,
        _ => Duration::ZERO,
    }
}

/// A `number size` directive's default (`large_client_header_buffers` →
/// 4 and 8k); (0, 0) when the table has none.
pub fn default_bufs(name: &str, module: &str) -> (u64, u64) {
    let text = default_text(name, module, None);
    let mut words = text.split(' ');
    let mut next = |t| match words.next().and_then(|w| values::read_type(t, w)) {
        Some(Value::Count(n) | Value::Size(n)) => n,
        _ => 0,
    };
    (next(Type::Number), next(Type::Size))
}

/// True when nginx `v` (or the newest, when unknown) keeps idle
/// connections to upstreams without a `keepalive` directive: the table's
/// default of `keepalive` in that version.
pub fn keepalive_on_by_default(v: Option<Version>) -> bool {
    !default_text("keepalive", KEEPALIVE_MODULE, v).is_empty()
}

/// The release that made upstream keep-alive (and `proxy_http_version
/// 1.1`) the default: the last change of `keepalive`'s default in the table.
pub fn keepalive_default_since() -> Option<Version> {
    let s = grammar::spec("keepalive", KEEPALIVE_MODULE)?;
    Version::parse(s.earlier.last()?.0)
}

/// Lower `tree` (entry `file`) to the model, reading the entry's top level
/// in `context` (a fragment's directives are lowered as if they sat inside
/// `http { }`, `server { }` or `location / { }`).
pub fn lower(tree: &Tree, file: FileId, opts: &LoadOptions, context: FileContext) -> ProxyModel {
    let mut m = ProxyModel::new(ProxyKind::Nginx, file);
    m.files = tree.files.clone();
    collect_blocks(&tree.nodes, &mut m.blocks);
    validate(
        &tree.nodes,
        context.mask(),
        opts.nginx_version,
        &mut m.invalid,
        &mut m.unknown,
    );
    let wrapped = wrap(&tree.nodes, context, file);
    let nodes: &[Node] = match &wrapped {
        Some(w) => w,
        None => &tree.nodes,
    };

    let main = own_directives(nodes);
    let mut global = Global::new(m.span);
    global.error_log_level = error_log_level(&main, m.span);
    global.main = main;
    collect_written(&tree.nodes, &mut m.written);
    m.written.shrink_to_fit();
    collect_variables(&tree.nodes, &mut m.variables);
    // With every file read, a variable nothing defines makes nginx -t fail
    // (`unknown "x" variable`); in a fragment, or with includes unread, the
    // definition may be elsewhere: only recorded (NGX-DNS-002 says so).
    // A third-party module (a directive nginx does not know) may define
    // variables of its own: then only recorded too.
    let complete = context == FileContext::Main
        && !opts.no_includes
        && tree.missing.is_empty()
        && m.unknown.is_empty();
    let defined = variables::defined(&tree.nodes);
    for (v, n, directive) in variables::undefined_in_passes(&tree.nodes, &defined) {
        if complete {
            invalid(
                &mut m.invalid,
                n.span,
                directive,
                format!("unknown \"{}\" variable", v.to_ascii_lowercase()),
                "no nginx module and no `set`, `map` or `geo` of this config defines it; if the file is a template filled in before nginx reads it (envsubst, `${VAR}`), lint the rendered file",
            );
        }
        m.undefined_variables.push(v);
    }
    if complete {
        for (arg, directive, problem, help) in super::zones::undefined(&tree.nodes) {
            invalid(&mut m.invalid, arg.span, directive, problem, &help);
        }
    }
    let mut ctx = Lower {
        version: opts.nginx_version,
        upstream_names: HashSet::new(),
        formats: HashMap::new(),
        combined: Arc::from(COMBINED_FORMAT),
    };
    for http in nodes.iter().filter(|n| n.name == "http") {
        let Some(block) = &http.block else { continue };
        global.span = http.header_span();
        let own = own_directives(&block.children);
        if own.has("error_log") {
            global.error_log_level = error_log_level(&own, global.span);
        }
        global.directives = Directives::inherit(&global.directives, &own);
        for d in own.all("log_format") {
            if let Some(name) = d.arg(0) {
                let text: Vec<&str> = d
                    .args
                    .iter()
                    .skip(1)
                    .map(|a| a.value.as_str())
                    .filter(|v| !v.starts_with("escape="))
                    .collect();
                ctx.formats
                    .insert(name.to_string(), Arc::from(text.concat()));
            }
        }
        for u in block.children.iter().filter(|n| n.name == "upstream") {
            if let Some(name) = u.arg(0) {
                ctx.upstream_names.insert(name.to_string());
            }
        }
        for u in block.children.iter().filter(|n| n.name == "upstream") {
            if let Some(up) = ctx.upstream(u) {
                m.upstreams.push(up);
            }
        }
    }
    for http in nodes.iter().filter(|n| n.name == "http") {
        let Some(block) = &http.block else { continue };
        for s in block.children.iter().filter(|n| n.name == "server") {
            m.servers.push(ctx.server(s, &global.directives));
        }
    }
    // An upstream a stream proxy_pass names may sit in an include not read,
    // or, in a fragment, in another file of the same stream {}.
    let all_read = context == FileContext::Main && !opts.no_includes && tree.missing.is_empty();
    if all_read {
        no_port_passes(&m.servers, &mut m.invalid);
    }
    if let Some(st) = nodes
        .iter()
        .find(|n| n.name == "stream" && n.block.is_some())
    {
        m.stream = super::stream::lower_stream(st, opts.nginx_version, all_read, &mut m.invalid);
    }
    m.global = global;
    m.index();
    m
}

/// `fastcgi_pass`, `uwsgi_pass`, `scgi_pass` and `grpc_pass` to a host
/// without a port that names no `upstream`: unlike `proxy_pass` (port 80 by
/// default) these modules have no default port, and nginx -t refuses the
/// config with `no port in upstream "php"` (checked with nginx 1.22.1 for
/// all four). Only when every file was read: in a fragment, or with an
/// include missing, the upstream may be defined elsewhere.
fn no_port_passes(servers: &[Server], out: &mut Vec<Invalid>) {
    let mut seen = HashSet::new();
    for r in servers.iter().flat_map(|s| s.routes.iter()) {
        let Some(mp) = &r.module_pass else { continue };
        let p = &mp.target;
        let literal = matches!(
            p.target,
            Target::Unknown(_) | Target::Address(Host::Name(_) | Host::Ip(_))
        );
        // `host:port` with a port nginx cannot read is "invalid port"
        // (validate), not a missing one
        let unreadable_port =
            !matches!(p.target, Target::Address(Host::Ip(_))) && p.host.contains(':');
        if !literal || p.port.is_some() || unreadable_port || !seen.insert(p.span) {
            continue;
        }
        let pass = pass_directive(mp.module);
        invalid(
            out,
            p.span,
            pass,
            format!("no port in upstream \"{}\"", p.host),
            &format!(
                "`{0}` names no `upstream` and {pass} has no default port: define `upstream {0} {{ server host:port; }}`, or give the port (`{pass} {0}:9000;`)",
                p.host
            ),
        );
    }
}

/// A fragment's nodes inside the synthetic blocks of `context` (spans at
/// the start of the file); `None` for a full config.
fn wrap(nodes: &[Node], context: FileContext, file: FileId) -> Option<Vec<Node>> {
    let at = Span::new(file, 0, 0);
    let block = |name: &str, args: Vec<Arg>, children: Vec<Node>| Node {
        name: name.to_string(),
        name_span: at,
        args: args.into(),
        span: at,
        block: Some(Block {
            open: at,
            close: None,
            children,
        }),
    };
    let root = Arg::text("/", at, false);
    let inner = nodes.to_vec();
    Some(match context {
        FileContext::Main => return None,
        FileContext::Http => vec![block("http", vec![], inner)],
        FileContext::Stream => vec![block("stream", vec![], inner)],
        FileContext::Server => vec![block("http", vec![], vec![block("server", vec![], inner)])],
        FileContext::Location => vec![block(
            "http",
            vec![],
            vec![block(
                "server",
                vec![],
                vec![block("location", vec![root], inner)],
            )],
        )],
    })
}

struct Lower {
    version: Option<Version>,
    upstream_names: HashSet<String>,
    formats: HashMap<String, Arc<str>>,
    /// nginx's predefined `combined` format, shared by every route that logs in it.
    combined: Arc<str>,
}

/// The model's directive for a node (whose arguments the parser typed):
/// its arguments are shared, not copied.
fn to_directive(n: &Node) -> Directive {
    Directive {
        name: n.name.clone(),
        args: n.args.clone(),
        span: n.span,
        name_span: n.name_span,
    }
}

/// The plain (non-block) directives of one level.
pub(super) fn own_directives(nodes: &[Node]) -> Directives {
    let mut d = Directives::new();
    for n in nodes.iter().filter(|n| n.block.is_none()) {
        d.push(to_directive(n));
    }
    d
}

fn collect_written(nodes: &[Node], out: &mut Vec<Directive>) {
    for n in nodes {
        match &n.block {
            None => out.push(to_directive(n)),
            Some(b) => collect_written(&b.children, out),
        }
    }
}

/// Values given to variables by `set $v value;` and `map $src $v { … }`
/// (each entry's value and `default`); a map value from anywhere else
/// (`include` left unread) is simply not seen.
fn collect_variables(nodes: &[Node], out: &mut HashMap<String, Vec<String>>) {
    for n in nodes {
        match (n.name.as_str(), &n.block) {
            ("set", None) => {
                if let (Some(var), Some(value)) = (n.arg(0), n.arg(1)) {
                    if let Some(name) = var.strip_prefix('$') {
                        out.entry(name.to_string())
                            .or_default()
                            .push(value.to_string());
                    }
                }
            }
            ("map", Some(b)) => {
                let Some(name) = n.arg(1).and_then(|v| v.strip_prefix('$')) else {
                    continue;
                };
                let values = out.entry(name.to_string()).or_default();
                for e in &b.children {
                    // `hostnames;` and `volatile;` are flags, not entries
                    if let Some(v) = e.args.last() {
                        values.push(v.value.clone());
                    }
                }
            }
            (_, Some(b)) => collect_variables(&b.children, out),
            _ => {}
        }
    }
}

fn collect_blocks(nodes: &[Node], out: &mut Vec<Span>) {
    for n in nodes {
        if let Some(b) = &n.block {
            out.push(n.span);
            collect_blocks(&b.children, out);
        }
    }
}

fn error_log_level(d: &Directives, block: Span) -> Setting<String> {
    // With several error_log lines, the most verbose one decides what is
    // written at all.
    const ORDER: &[&str] = &[
        "debug", "info", "notice", "warn", "error", "crit", "alert", "emerg",
    ];
    let mut best: Option<Setting<String>> = None;
    for e in d.all("error_log") {
        let level = e.arg(1).unwrap_or(ERROR_LOG_LEVEL).to_string();
        if e.arg(0) == Some("off") {
            continue;
        }
        let rank = |s: &str| ORDER.iter().position(|x| *x == s).unwrap_or(4);
        if best.as_ref().is_none_or(|b| rank(&level) < rank(&b.value)) {
            best = Some(Setting::explicit(level, e.span));
        }
    }
    best.unwrap_or_else(|| Setting::default_at(ERROR_LOG_LEVEL.into(), block))
}

/// A `proxy_*` time directive in effect, or its default from the table.
fn time_setting(d: &Directives, name: &str, block: Span) -> Setting<Option<Duration>> {
    let default = default_time(name, PROXY_MODULE);
    match d.get(name) {
        Some(x) => match x.time(0) {
            Some(t) => Setting::explicit(Some(t.value), t.span),
            None => Setting::default_at(Some(default), x.span),
        },
        None => Setting::default_at(Some(default), block),
    }
}

/// A `proxy_*` flag directive in effect, or its default from the table.
fn bool_setting(d: &Directives, name: &str, block: Span) -> Setting<bool> {
    let default = default_value(name, PROXY_MODULE, None) == Some(Value::Flag(true));
    match d.get(name) {
        // nginx compares on/off without case (ngx_conf_set_flag_slot);
        // anything else fails `nginx -t`, read here as off.
        Some(x) => Setting::explicit(x.flag(0).is_some_and(|f| f.value), x.span),
        None => Setting::default_at(default, block),
    }
}

/// A count directive's first argument as a `u32`, 0 when it is not one.
pub(super) fn count_u32(x: &Directive) -> u32 {
    x.count(0)
        .and_then(|c| u32::try_from(c.value).ok())
        .unwrap_or(0)
}

/// Parse a `proxy_pass` URL.
pub fn parse_proxy_pass(raw: &str, span: Span, upstreams: &HashSet<String>) -> ProxyPass {
    let (scheme, rest) = match raw.split_once("://") {
        Some((s, r)) => (Some(s.to_ascii_lowercase()), r),
        None => (None, raw),
    };
    let (hostport, uri) = if let Some(path) = rest.strip_prefix("unix:") {
        // http://unix:/path/to.sock:/uri
        match path.find(':') {
            Some(i) => (&rest[..5 + i], Some(path[i + 1..].to_string())),
            None => (rest, None),
        }
    } else {
        match rest.find('/') {
            Some(i) => (&rest[..i], Some(rest[i..].to_string())),
            None => (rest, None),
        }
    };
    let has_variables = raw.contains('$');
    // A variable in the host part: the literal text before it is the host.
    let host_lit = hostport.split('$').next().unwrap_or("");
    let (host, port) = split_host_port(host_lit);
    let host_has_var = hostport.contains('$');
    let target = if host.is_empty() {
        Target::Dynamic
    } else if upstreams.contains(host_lit) {
        Target::Pool(host_lit.to_string())
    } else if upstreams.contains(&host) {
        Target::Pool(host.clone())
    } else if host_has_var {
        match Host::classify(&host) {
            // `http://10.0.0.1$request_uri`: the variable is the URI.
            h @ Host::Ip(_) => Target::Address(h),
            _ => Target::Dynamic,
        }
    } else {
        match Host::classify(&host) {
            Host::Name(_) if has_variables => Target::Dynamic,
            Host::Name(n)
                if !n.contains('.') && port.is_none() && !n.eq_ignore_ascii_case("localhost") =>
            {
                Target::Unknown(n)
            }
            h => Target::Address(h),
        }
    };
    ProxyPass {
        span,
        raw: raw.to_string(),
        scheme,
        host,
        port,
        uri,
        has_variables,
        target,
    }
}

/// Split `host:port` (with `[v6]:port` and `unix:` forms).
pub fn split_host_port(s: &str) -> (String, Option<u16>) {
    if s.starts_with("unix:") {
        return (s.to_string(), None);
    }
    if let Some(rest) = s.strip_prefix('[') {
        if let Some((h, p)) = rest.split_once(']') {
            let port = p.strip_prefix(':').and_then(|p| p.parse().ok());
            return (h.to_string(), port);
        }
    }
    match s.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => match p.parse() {
            Ok(port) => (h.to_string(), Some(port)),
            Err(_) => (s.to_string(), None),
        },
        _ => (s.to_string(), None),
    }
}

impl Lower {
    fn upstream(&self, n: &Node) -> Option<Upstream> {
        upstream(n, self.version, Mode::Http)
    }
}

/// Lower one `upstream` block of `http {}` (`Mode::Http`) or `stream {}`
/// (`Mode::Tcp`: there is no `keepalive` in a stream upstream, so none is
/// kept). The `server` parameters (`max_fails`, `fail_timeout`, `backup`,
/// `down`, `resolve`) read the same in both: ngx_http_upstream_server() and
/// ngx_stream_upstream_server() share their defaults.
pub(super) fn upstream(n: &Node, version: Option<Version>, mode: Mode) -> Option<Upstream> {
    {
        let name = n.arg(0)?.to_string();
        let block = n.block.as_ref()?;
        let span = n.header_span();
        let d = own_directives(&block.children);
        let mut servers = Vec::new();
        for s in d.all("server") {
            let Some(addr) = s.args.first() else { continue };
            let (host, port) = split_host_port(&addr.value);
            let mut e = Endpoint {
                name: None,
                address: addr.value.clone(),
                host: Host::classify(&host),
                port,
                span: s.span,
                backup: false,
                down: false,
                resolve: false,
                max_fails: Setting::default_at(MAX_FAILS, s.span),
                fail_timeout: Setting::default_at(FAIL_TIMEOUT, s.span),
                params: s.args[1..].to_vec(),
            };
            for p in &s.args[1..] {
                let v = p.value.as_str();
                match v {
                    "backup" => e.backup = true,
                    "down" => e.down = true,
                    "resolve" => e.resolve = true,
                    _ => {
                        if let Some(x) = v.strip_prefix("max_fails=") {
                            if let Ok(n) = x.parse() {
                                e.max_fails = Setting::explicit(n, p.span);
                            }
                        } else if let Some(x) = v.strip_prefix("fail_timeout=") {
                            if let Some(Value::Time(t)) = values::read_seconds(x) {
                                e.fail_timeout = Setting::explicit(t, p.span);
                            }
                        } else if v.starts_with("service=") {
                            e.resolve = true;
                        }
                    }
                }
            }
            servers.push(e);
        }
        let balance = ["hash", "ip_hash", "random", "least_conn", "least_time"]
            .iter()
            .find_map(|b| {
                d.get(b)
                    .map(|x| Setting::explicit(Balance::from_nginx(b), x.span))
            })
            .unwrap_or_else(|| Setting::default_at(Balance::RoundRobin, span));
        let keepalive = match d.get("keepalive") {
            Some(x) => Setting::explicit(count_u32(x), x.span),
            None if mode == Mode::Tcp => Setting::default_at(0, span),
            // empty before 1.29.7: no connections kept
            None => Setting::default_at(
                values::read(
                    ValueKind::Count,
                    default_text("keepalive", KEEPALIVE_MODULE, version),
                )
                .and_then(|v| match v {
                    Value::Count(n) => u32::try_from(n).ok(),
                    _ => None,
                })
                .unwrap_or(0),
                span,
            ),
        };
        let idle = default_time("keepalive_timeout", KEEPALIVE_MODULE);
        let keepalive_timeout = match d.get("keepalive_timeout") {
            Some(x) => Setting::explicit(x.time(0).map_or(idle, |t| t.value), x.span),
            None => Setting::default_at(idle, span),
        };
        let zone = d
            .get("zone")
            .and_then(|x| Some(Setting::explicit(x.arg(0)?.to_string(), x.span)));
        let resolver = d
            .get("resolver")
            .map(|x| Setting::explicit(x.args.iter().map(|a| a.value.clone()).collect(), x.span));
        Some(Upstream {
            name,
            span,
            directives: d,
            servers,
            balance,
            keepalive,
            keepalive_timeout,
            zone,
            resolver,
            // Active health checks are an NGINX Plus feature.
            health_check: Setting::default_at(false, span),
            mode: Setting::default_at(mode, span),
            http_reuse: None,
            redispatch: None,
            check_probe: None,
        })
    }
}

impl Lower {
    fn server(&self, n: &Node, http: &Directives) -> Server {
        let span = n.header_span();
        let children = n
            .block
            .as_ref()
            .map(|b| b.children.as_slice())
            .unwrap_or(&[]);
        let eff = own_directives(children).under(http);
        let name = eff
            .get("server_name")
            .and_then(|d| d.arg(0))
            .unwrap_or("")
            .to_string();
        let access_log = self.access_log(&eff, span);
        let mut routes = Vec::new();
        for c in children {
            if c.name == "location" {
                self.location(c, &eff, &mut routes);
            }
        }
        // a Route is ≈ 1 KB: the doubling's spare capacity (up to half of
        // it) was a third of the model of a config of many locations
        routes.shrink_to_fit();
        let mut listen: Vec<Listen> = eff
            .all("listen")
            .iter()
            .filter_map(|d| Some(listen(d.args.first()?, d.span)))
            .collect();
        if eff.all("listen").is_empty() {
            listen = default_listen(span);
        }
        Server {
            name,
            span,
            directives: eff,
            access_log,
            listen,
            routes,
            // Only `http {}` servers are lowered.
            mode: Setting::default_at(Mode::Http, span),
        }
    }

    fn location(&self, n: &Node, parent: &Directives, out: &mut Vec<Route>) {
        let Some(block) = &n.block else { return };
        let own = own_directives(&block.children);
        // The content handler is per location: a nested `location` does not
        // proxy unless it says so (an `if` or `limit_except` inside one does).
        let not_inherited: Vec<&str> = if n.name == "location" {
            std::iter::once("proxy_pass")
                .chain(PassModule::ALL.iter().map(|m| pass_directive(*m)))
                .filter(|pass| !own.has(pass))
                .collect()
        } else {
            Vec::new()
        };
        let mut eff = own.under(parent);
        for pass in not_inherited {
            eff.remove(pass);
        }
        let matcher = match (n.arg(0), n.arg(1)) {
            (Some("="), Some(p)) => RouteMatch::Exact(p.into()),
            (Some("~"), Some(p)) => RouteMatch::Regex(p.into(), false),
            (Some("~*"), Some(p)) => RouteMatch::Regex(p.into(), true),
            (Some("^~"), Some(p)) => RouteMatch::Prefix(p.into()),
            (Some(p), _) if p.starts_with('@') => RouteMatch::Named(p.into()),
            (Some(p), _) => RouteMatch::Prefix(p.into()),
            (None, _) if n.name == "if" => RouteMatch::Other(String::new()),
            (None, _) => RouteMatch::Prefix(String::new()),
        };
        let matcher = if n.name == "if" {
            let cond: Vec<&str> = n.args.iter().map(|a| a.value.as_str()).collect();
            RouteMatch::Other(format!("if {}", cond.join(" ")))
        } else {
            matcher
        };
        out.push(self.route(matcher, n.header_span(), eff.clone()));
        for c in &block.children {
            if c.name == "location" || c.name == "if" {
                self.location(c, &eff, out);
            }
        }
    }

    fn route(&self, matcher: RouteMatch, span: Span, d: Directives) -> Route {
        let proxy = d.get("proxy_pass").and_then(|p| {
            let a = p.args.first()?;
            Some(parse_proxy_pass(&a.value, p.span, &self.upstream_names))
        });
        let timeouts = Timeouts {
            connect: time_setting(&d, "proxy_connect_timeout", span),
            read: time_setting(&d, "proxy_read_timeout", span),
            send: time_setting(&d, "proxy_send_timeout", span),
        };
        let on = match d.get("proxy_next_upstream") {
            Some(x) if x.arg(0) == Some("off") => Setting::explicit(Vec::new(), x.span),
            Some(x) => Setting::explicit(x.args.iter().map(|a| a.value.clone()).collect(), x.span),
            None => Setting::default_at(
                default_text("proxy_next_upstream", PROXY_MODULE, self.version)
                    .split_whitespace()
                    .map(str::to_string)
                    .collect(),
                span,
            ),
        };
        let tries = match d.get("proxy_next_upstream_tries") {
            Some(x) => Setting::explicit(count_u32(x), x.span),
            None => Setting::default_at(
                match default_value("proxy_next_upstream_tries", PROXY_MODULE, self.version) {
                    Some(Value::Count(n)) => u32::try_from(n).unwrap_or(0),
                    _ => 0,
                },
                span,
            ),
        };
        let retry_timeout = match d.get("proxy_next_upstream_timeout") {
            Some(x) => {
                let t = x.time(0).map(|t| t.value).filter(|t| !t.is_zero());
                Setting::explicit(t, x.span)
            }
            None => Setting::default_at(None, span),
        };
        let tls = UpstreamTls {
            server_name: bool_setting(&d, "proxy_ssl_server_name", span),
            name: match d.get("proxy_ssl_name") {
                Some(x) => Setting::explicit(x.arg(0).unwrap_or("").to_string(), x.span),
                None => Setting::default_at(PROXY_SSL_NAME.into(), span),
            },
            verify: bool_setting(&d, "proxy_ssl_verify", span),
            trusted_ca: d
                .get("proxy_ssl_trusted_certificate")
                .and_then(|x| Some(Setting::explicit(x.arg(0)?.to_string(), x.span))),
        };
        // The table's default in this nginx version (1.0 before 1.29.7);
        // a value nginx refuses is reported by validate() (NGX-VAL-001) and
        // read here as the default, as for times.
        let http_default = HttpVersion::parse(default_text(
            "proxy_http_version",
            PROXY_MODULE,
            self.version,
        ))
        .unwrap_or(HttpVersion::Http10);
        let upstream_http_version = match d.get("proxy_http_version") {
            Some(x) => match x
                .arg(0)
                .and_then(|v| HttpVersion::parse(&v.to_ascii_lowercase()))
            {
                Some(v) => Setting::explicit(v, x.span),
                None => Setting::default_at(http_default, x.span),
            },
            None => Setting::default_at(http_default, span),
        };
        let access_log = self.access_log(&d, span);
        let module_pass = if proxy.is_none() {
            self.module_pass(&d, span).map(Box::new)
        } else {
            None
        };
        let request_id_header = request_id_header(
            &d,
            module_pass
                .as_ref()
                .map_or("proxy_set_header", |mp| header_directive(mp.module)),
        );
        Route {
            matcher,
            span,
            directives: d,
            proxy,
            timeouts,
            retry: Retry {
                on,
                tries,
                timeout: retry_timeout,
                per_try: Setting::default_at(None, span),
            },
            tls,
            access_log,
            upstream_http_version,
            request_id_header,
            module_pass,
        }
    }

    /// The location's `fastcgi_pass`/`uwsgi_pass`/`scgi_pass`/`grpc_pass`
    /// with its module's timeouts and retries in effect. Their defaults are
    /// the proxy module's: `ngx_conf_merge_msec_value(…connect_timeout…,
    /// 60000)` and the same for send and read, `next_upstream_tries` 0,
    /// `next_upstream_timeout` 0, `next_upstream` error|timeout, in each
    /// module's merge function (nginx 1.31 source).
    fn module_pass(&self, d: &Directives, span: Span) -> Option<ModulePass> {
        let (module, pass) = PassModule::ALL
            .iter()
            .find_map(|m| Some((*m, d.get(pass_directive(*m))?)))?;
        let raw = pass.args.first()?.value.as_str();
        // `unix:///run/app.sock` (Weblate's uwsgi_pass) is a socket path,
        // not a `unix` scheme: read it behind a scheme of its own.
        let target = if raw
            .get(..5)
            .is_some_and(|p| p.eq_ignore_ascii_case("unix:"))
        {
            let mut t = parse_proxy_pass(
                &format!("{}://{raw}", module.prefix()),
                pass.span,
                &self.upstream_names,
            );
            t.raw = raw.to_owned();
            t.scheme = None;
            t
        } else {
            parse_proxy_pass(raw, pass.span, &self.upstream_names)
        };
        let p = module.prefix();
        let time = |suffix: &str| {
            let name = format!("{p}_{suffix}");
            match d.get(&name) {
                Some(x) => match x.time(0) {
                    Some(t) => Setting::explicit(Some(t.value), t.span),
                    None => Setting::default_at(Some(MODULE_TIMEOUT), x.span),
                },
                None => Setting::default_at(Some(MODULE_TIMEOUT), span),
            }
        };
        let timeouts = Timeouts {
            connect: time("connect_timeout"),
            read: time("read_timeout"),
            send: time("send_timeout"),
        };
        let on = match d.get(&format!("{p}_next_upstream")) {
            Some(x) if x.arg(0) == Some("off") => Setting::explicit(Vec::new(), x.span),
            Some(x) => Setting::explicit(x.args.iter().map(|a| a.value.clone()).collect(), x.span),
            None => Setting::default_at(vec!["error".into(), "timeout".into()], span),
        };
        let tries = match d.get(&format!("{p}_next_upstream_tries")) {
            Some(x) => Setting::explicit(count_u32(x), x.span),
            None => Setting::default_at(0, span),
        };
        let timeout = match d.get(&format!("{p}_next_upstream_timeout")) {
            Some(x) => {
                Setting::explicit(x.time(0).map(|t| t.value).filter(|t| !t.is_zero()), x.span)
            }
            None => Setting::default_at(None, span),
        };
        Some(ModulePass {
            module,
            target,
            timeouts,
            retry: Retry {
                on,
                tries,
                timeout,
                per_try: Setting::default_at(None, span),
            },
        })
    }

    fn access_log(&self, d: &Directives, block: Span) -> AccessLog {
        let all = d.all("access_log");
        if all.is_empty() {
            return AccessLog {
                logs: vec![Setting::default_at(
                    (ACCESS_LOG.0.to_string(), ACCESS_LOG.1.to_string()),
                    block,
                )],
                off: Setting::default_at(false, block),
                formats: vec![Setting::default_at(self.combined.clone(), block)],
            };
        }
        if all.iter().all(|a| a.arg(0) == Some("off")) {
            return AccessLog {
                logs: Vec::new(),
                off: Setting::explicit(true, all[0].span),
                formats: Vec::new(),
            };
        }
        let mut logs = Vec::new();
        let mut formats = Vec::new();
        for a in all.iter().filter(|a| a.arg(0) != Some("off")) {
            let path = a.arg(0).unwrap_or("").to_string();
            let fmt = a
                .arg(1)
                .filter(|f| !f.contains('='))
                .unwrap_or("combined")
                .to_string();
            let text = if fmt == "combined" {
                self.formats
                    .get("combined")
                    .unwrap_or(&self.combined)
                    .clone()
            } else {
                // A format no `log_format` read defines (it is in the
                // nginx.conf that includes this fragment, or in an include
                // left unread): empty text, which rules read as unknown.
                self.formats
                    .get(&fmt)
                    .cloned()
                    .unwrap_or_else(|| Arc::from(""))
            };
            formats.push(Setting::explicit(text, a.span));
            logs.push(Setting::explicit((path, fmt), a.span));
        }
        AccessLog {
            logs,
            off: Setting::explicit(false, all[0].span),
            formats,
        }
    }
}

pub(super) fn invalid(
    out: &mut Vec<Invalid>,
    span: Span,
    directive: &str,
    problem: String,
    help: &str,
) {
    out.push(Invalid {
        span,
        directive: directive.to_string(),
        problem,
        help: help.to_string(),
    });
}

/// The context of the block a known block directive opens, when its
/// contents are directives (`map`, `types`, `geo`, … hold tables; blocks of
/// unknown modules are not looked into).
fn child_context(name: &str, context: u32) -> Option<u32> {
    Some(match (name, context) {
        ("events", _) => ctx::EVENTS,
        ("http", _) => ctx::HTTP,
        ("stream", _) => ctx::STREAM,
        ("mail", _) => ctx::MAIL,
        ("server", ctx::HTTP) => ctx::SERVER,
        ("server", ctx::STREAM) => ctx::STREAM_SERVER,
        ("server", ctx::MAIL) => ctx::MAIL_SERVER,
        ("upstream", ctx::HTTP) => ctx::UPSTREAM,
        ("upstream", ctx::STREAM) => ctx::STREAM_UPSTREAM,
        ("location", _) => ctx::LOCATION,
        ("if", ctx::SERVER) => ctx::IF_SERVER,
        ("if", ctx::LOCATION) => ctx::IF_LOCATION,
        ("limit_except", _) => ctx::LIMIT_EXCEPT,
        _ => return None,
    })
}

/// "1 or 2 arguments", "one or more arguments", … for a spec's count bits.
fn expected_args(s: &Spec) -> String {
    use grammar::args as a;
    if s.args & a::FLAG != 0 {
        return "`on` or `off`".into();
    }
    if s.args & a::ONE_MORE != 0 {
        return "one or more arguments".into();
    }
    if s.args & a::TWO_MORE != 0 {
        return "two or more arguments".into();
    }
    let counts: Vec<String> = (0..8)
        .filter(|n| s.args & (1 << n) != 0)
        .map(|n: u32| n.to_string())
        .collect();
    match counts.as_slice() {
        [one] if one == "0" => "no arguments".into(),
        [one] if one == "1" => "1 argument".into(),
        [one] => format!("{one} arguments"),
        many => format!("{} arguments", many.join(" or ")),
    }
}

/// Record directives nginx would refuse (unknown to every module and close
/// to a known name, outside their allowed context, wrong argument count,
/// block/no-block mismatch — the checks of `ngx_conf_handler()`), malformed
/// values, and directives of modules nginx does not ship (`unknown`, first
/// use of each name).
///
/// With `version` (the `nginx_version` setting), a directive whose every
/// definition here appeared in a later release (the table's `since`, from
/// nginx's git history) is refused as nginx of that version refuses it:
/// "unknown directive".
fn validate(
    nodes: &[Node],
    context: u32,
    version: Option<Version>,
    out: &mut Vec<Invalid>,
    unknown: &mut Vec<UnknownDirective>,
) {
    for n in nodes {
        let name = n.name.as_str();
        let specs = grammar::lookup(name);
        if specs.is_empty() {
            if grammar::is_known(name) {
                continue;
            }
            // A name met before is counted without another near-miss search
            // (a third-party module's directive may be used thousands of times).
            if let Some(u) = unknown.iter_mut().find(|u| u.name == name) {
                u.count += 1;
                continue;
            }
            match grammar::near_miss(name) {
                Some(near) => invalid(
                    out,
                    n.name_span,
                    name,
                    format!("unknown directive \"{name}\""),
                    &format!("did you mean `{near}`?"),
                ),
                None => unknown.push(UnknownDirective {
                    span: n.name_span,
                    name: name.to_string(),
                    count: 1,
                }),
            }
            continue;
        }
        let here: Vec<&Spec> = specs.iter().filter(|s| s.contexts & context != 0).collect();
        if here.is_empty() {
            let allowed = specs.iter().fold(0, |m, s| m | s.contexts);
            invalid(
                out,
                n.name_span,
                name,
                format!(
                    "\"{name}\" directive is not allowed in `{}`",
                    ctx::name(context)
                ),
                &format!("move it into one of: {}", ctx::names(allowed).join(", ")),
            );
            continue;
        }
        let newer: Option<Version> = here
            .iter()
            .map(|s| Version::parse(s.since))
            .collect::<Option<Vec<Version>>>()
            .and_then(|v| v.into_iter().min());
        if let (Some(v), Some(since)) = (version, newer) {
            if since > v {
                invalid(
                    out,
                    n.name_span,
                    name,
                    format!(
                        "unknown directive \"{name}\" for nginx {v} (nginx_version): it appeared in nginx {since}"
                    ),
                    &format!("upgrade nginx to {since} or later, or remove the directive"),
                );
                continue;
            }
        }
        let count_ok = here.iter().any(|s| s.takes(n.args.len()));
        if !count_ok {
            invalid(
                out,
                n.name_span,
                name,
                format!(
                    "invalid number of arguments in \"{name}\" directive ({} given)",
                    n.args.len()
                ),
                &format!("`{name}` takes {}", expected_args(here[0])),
            );
        } else if n.block.is_none() && here.iter().all(|s| s.is_block()) {
            invalid(
                out,
                n.name_span,
                name,
                format!("directive \"{name}\" has no opening \"{{\""),
                &format!("`{name}` opens a block: `{name} … {{ … }}`"),
            );
        } else if n.block.is_some() && !here.iter().any(|s| s.is_block()) {
            invalid(
                out,
                n.name_span,
                name,
                format!("directive \"{name}\" is not terminated by \";\""),
                &format!("`{name}` takes no block: end it with `;`"),
            );
        }
        // The value's type from the table, when every definition allowed
        // here reads it the same way; a module's own handler is checked
        // only where values::CUSTOM says how.
        let first = here[0].value;
        let ty = if here.iter().all(|s| s.value == first) {
            match first {
                Type::Custom => values::custom_check(name),
                t => Some(t),
            }
        } else {
            None
        };
        if let Some(t) = ty.filter(|_| count_ok) {
            if let Some((span, problem, mut help)) = values::problem(t, &n.args, n.name_span) {
                // `${VAR}` is no nginx syntax for these values: the file is
                // a template (envsubst, as frappe_docker's
                // nginx-template.conf), refused by nginx as it stands.
                if n.args.iter().any(|a| a.value.contains("${")) {
                    help.push_str("; if the file is a template filled in before nginx reads it (envsubst, `${VAR}`), lint the rendered file");
                }
                invalid(out, span, name, problem, &help);
            }
        }
        if name == "server" && (context == ctx::UPSTREAM || context == ctx::STREAM_UPSTREAM) {
            for p in n.args.iter().skip(1) {
                if let Some(v) = p.value.strip_prefix("fail_timeout=") {
                    // ngx_http_upstream_server (and its stream twin) reads it with
                    // ngx_parse_time(…, 1): whole seconds, `ms` refused
                    // ("invalid parameter" from nginx -t 1.22).
                    if values::read_seconds(v).is_none() {
                        invalid(
                            out,
                            p.span,
                            "fail_timeout",
                            format!("\"{v}\" is not a time in seconds"),
                            "use s, m, h, d, w, M or y (nginx refuses ms here), e.g. `fail_timeout=10s`",
                        );
                    }
                }
                if let Some(v) = p.value.strip_prefix("max_fails=") {
                    if v.parse::<u32>().is_err() {
                        invalid(
                            out,
                            p.span,
                            "max_fails",
                            format!("\"{v}\" is not a number"),
                            "use a whole number, e.g. `max_fails=3`",
                        );
                    }
                }
            }
        }
        let address = match name {
            "proxy_pass" | "fastcgi_pass" | "uwsgi_pass" | "scgi_pass" | "grpc_pass" => {
                n.args.first()
            }
            "server" if context == ctx::UPSTREAM || context == ctx::STREAM_UPSTREAM => {
                n.args.first()
            }
            _ => None,
        };
        if let Some(a) = address {
            if let Some(hostport) = bad_port(&a.value) {
                let mut help =
                    "give the port as a number from 1 to 65535 (`host:8080`)".to_string();
                if a.value.contains("REPLACE") || a.value.contains("${") || a.value.contains("{{") {
                    help.push_str("; if the file is a template filled in before nginx reads it, lint the rendered file");
                }
                invalid(
                    out,
                    a.span,
                    name,
                    format!("invalid port in upstream \"{hostport}\""),
                    &help,
                );
            }
        }
        if let (Some(b), Some(inner)) = (&n.block, child_context(name, context)) {
            validate(&b.children, inner, version, out, unknown);
        }
    }
}

/// The `host:port` of an upstream address whose port nginx refuses, if
/// any: ngx_parse_inet_url (src/core/ngx_inet.c) takes the text after the
/// first `:` of the host part (before any `/` or `?`) as the port and reads
/// it with ngx_atoi, refusing anything but a number from 1 to 65535 with
/// "invalid port in upstream" (`nginx -t` 1.22 on a `proxy_pass` with a
/// `REPLACE_ME_WITH_API_PORT` placeholder says exactly that). An address
/// with a variable is parsed at run time instead; `unix:` sockets and
/// `[v6]` literals are parsed by other functions.
fn bad_port(addr: &str) -> Option<&str> {
    if addr.contains('$') {
        return None;
    }
    let rest = addr.split_once("://").map_or(addr, |(_, r)| r);
    if rest
        .get(..5)
        .is_some_and(|p| p.eq_ignore_ascii_case("unix:"))
        || rest.starts_with('[')
    {
        return None;
    }
    let hostport = &rest[..rest.find(['/', '?']).unwrap_or(rest.len())];
    let (_, port) = hostport.split_once(':')?;
    let ok = !port.is_empty()
        && port.bytes().all(|b| b.is_ascii_digit())
        && port.parse::<u32>().is_ok_and(|p| (1..=65535).contains(&p));
    (!ok).then_some(hostport)
}

/// Where a `server` without `listen` listens: nginx adds `INADDR_ANY` on
/// port 80 when its master runs as root, 8000 otherwise
/// (`ngx_http_core_server` in `src/http/ngx_http_core_module.c`: `if
/// (!cscf->listen)` … `htons((getuid() == 0) ? 80 : 8000)`). The config
/// does not say which user starts nginx, so both are modelled, marked as
/// defaults.
fn default_listen(server: Span) -> Vec<Listen> {
    [80, 8000]
        .into_iter()
        .map(|p| Listen {
            defaulted: true,
            ..Listen::new(&format!("*:{p}"), "*", Some((p, p)), server)
        })
        .collect()
}

/// A `listen` address as nginx reads it (`ngx_http_core_module`, `listen`:
/// `address[:port]`, `port`, `unix:path`; "if only address is given, the
/// port 80 is used"; IPv6 in brackets; `*` for every address).
pub(super) fn listen(a: &Arg, span: Span) -> Listen {
    let t = a.value.as_str();
    if t.starts_with("unix:") {
        return Listen::new(t, t, None, span);
    }
    let port = |p: &str| p.parse::<u16>().ok().map(|p| (p, p));
    if t.bytes().all(|b| b.is_ascii_digit()) {
        return Listen::new(t, "", port(t), span);
    }
    let (host, ports) = match t.rfind(']') {
        // `[::1]:8080` or `[::1]`
        Some(e) if t.starts_with('[') => match t[e + 1..].strip_prefix(':') {
            Some(p) => (&t[..=e], port(p)),
            None => (&t[..=e], Some((80, 80))),
        },
        _ => match t.rsplit_once(':') {
            Some((h, p)) => (h, port(p)),
            None => (t, Some((80, 80))),
        },
    };
    Listen::new(t, host, ports, span)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::nginx::parse_str;

    fn model(src: &str) -> ProxyModel {
        let (_, p) = parse_str("t.conf", src.as_bytes());
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        p.model.expect("model")
    }

    /// A server without `listen` listens where nginx's
    /// `ngx_http_core_server` puts it: every address, port 80 (root) or
    /// 8000, both marked as defaults; a written `listen` has no default.
    #[test]
    fn module_passes_and_their_settings() {
        let m = model(
            "http { upstream php { server 10.0.0.1:9000; } fastcgi_read_timeout 300s; server {
               location /a { fastcgi_pass php; fastcgi_next_upstream off; }
               location /b { uwsgi_pass unix:///run/uwsgi/app.sock; }
               location /c { uwsgi_pass suwsgi://app.internal:3031; }
               location /d { grpc_pass grpcs://[::1]:50051; grpc_next_upstream_tries 3; }
               location /e { scgi_pass 127.0.0.1:4000; location /e/f { root /srv; } }
               location /g { proxy_pass http://php; }
            } }",
        );
        let got: Vec<_> = m.servers[0]
            .routes
            .iter()
            .map(|r| {
                r.module_pass.as_ref().map(|p| {
                    (
                        p.module.prefix(),
                        p.target.target.clone(),
                        p.target.scheme.clone(),
                        p.timeouts.read.value,
                        p.retry.on.value.len(),
                        p.retry.tries.value,
                    )
                })
            })
            .collect();
        let s300 = Some(Duration::from_secs(300));
        let s60 = Some(Duration::from_secs(60));
        assert_eq!(
            got,
            [
                Some(("fastcgi", Target::Pool("php".into()), None, s300, 0, 0)),
                Some((
                    "uwsgi",
                    Target::Address(Host::Unix("///run/uwsgi/app.sock".into())),
                    None,
                    s60,
                    2,
                    0
                )),
                Some((
                    "uwsgi",
                    Target::Address(Host::Name("app.internal".into())),
                    Some("suwsgi".into()),
                    s60,
                    2,
                    0
                )),
                Some((
                    "grpc",
                    Target::Address(Host::Ip("::1".into())),
                    Some("grpcs".into()),
                    s60,
                    2,
                    3
                )),
                Some((
                    "scgi",
                    Target::Address(Host::Ip("127.0.0.1".into())),
                    None,
                    s60,
                    2,
                    0
                )),
                // a nested location does not inherit the content handler
                None,
                // proxy_pass locations keep `proxy`
                None,
            ]
        );
    }

    #[test]
    fn a_server_without_listen_gets_the_defaults() {
        let m = model("http { server { server_name a; } server { listen 81; } }");
        let l = &m.servers[0].listen;
        let got: Vec<_> = l
            .iter()
            .map(|l| (l.host.clone(), l.ports, l.defaulted))
            .collect();
        assert_eq!(
            got,
            vec![
                (None, Some((80, 80)), true),
                (None, Some((8000, 8000)), true)
            ]
        );
        assert_eq!(
            l[0].span, m.servers[0].span,
            "the default points at its server"
        );
        assert!(
            l[0].describe().contains("nginx's default"),
            "{}",
            l[0].describe()
        );
        assert_eq!(l[0].reached_by("10.0.0.5:80"), Some(false));
        let written = &m.servers[1].listen;
        assert_eq!(written.len(), 1);
        assert!(!written[0].defaulted);
        assert_eq!(written[0].describe(), "81");
    }

    /// `listen` as nginx reads it: port alone, address alone (port 80),
    /// `*`, IPv6 in brackets, unix sockets.
    #[test]
    fn listen_addresses() {
        let m = model(
            "http { server { listen 8080; listen 10.0.0.5; listen *:81; listen [::1]:8443 ssl; listen unix:/run/n.sock; } }",
        );
        let l = &m.servers[0].listen;
        let got: Vec<_> = l.iter().map(|l| (l.host.clone(), l.ports)).collect();
        assert_eq!(
            got,
            vec![
                (None, Some((8080, 8080))),
                (Some(Host::Ip("10.0.0.5".into())), Some((80, 80))),
                (None, Some((81, 81))),
                (Some(Host::Ip("::1".into())), Some((8443, 8443))),
                (Some(Host::Unix("/run/n.sock".into())), None),
            ]
        );
        assert_eq!(l[1].reached_by("10.0.0.5:80"), Some(true));
        assert_eq!(l[0].reached_by("10.9.9.9:8080"), Some(false));
        assert_eq!(l[3].reached_by("[::1]:8443"), Some(true));
        assert_eq!(l[4].reached_by("unix:/run/n.sock"), Some(true));
        assert_eq!(l[1].reached_by("10.0.0.6:80"), None);
    }

    /// nginx reads the port of an upstream address with ngx_atoi and
    /// refuses anything but 1-65535 ("invalid port in upstream").
    #[test]
    fn upstream_address_ports() {
        for bad in [
            "http://REPLACE_ME_WITH_API_HOST:REPLACE_ME_WITH_API_PORT",
            "http://app:0/x",
            "app:70000",
            "grpc://app:",
            "10.0.0.1:80x",
        ] {
            assert!(bad_port(bad).is_some(), "{bad}");
        }
        for good in [
            "http://app:8080/x:y",
            "http://app/a:b",
            "http://$host:$port",
            "unix:/run/php.sock",
            "http://unix:/run/a.sock:/uri",
            "[::1]:9000",
            "grpcs://[::1]:50051",
            "app",
            "10.0.0.1:65535",
        ] {
            assert!(bad_port(good).is_none(), "{good}");
        }
    }

    #[test]
    fn inheritance_replaces_arrays() {
        let m = model(
            "http { proxy_set_header A 1; proxy_set_header B 2; proxy_read_timeout 30s;
               server { location / { proxy_set_header C 3; proxy_pass http://10.0.0.1; }
                        location /b { proxy_pass http://10.0.0.1; } } }",
        );
        let r = &m.servers[0].routes;
        let names = |i: usize| -> Vec<String> {
            r[i].directives
                .all("proxy_set_header")
                .iter()
                .map(|d| d.arg(0).unwrap().to_string())
                .collect()
        };
        assert_eq!(names(0), ["C"]);
        assert_eq!(names(1), ["A", "B"]);
        let m =
            model("http { server { location / { proxy_pass http://10.0.0.1; location /x { } } } }");
        assert!(m.servers[0].routes[0].proxy.is_some());
        assert!(m.servers[0].routes[1].proxy.is_none());
        assert_eq!(r[0].timeouts.read.value, Some(Duration::from_secs(30)));
        assert!(!r[0].timeouts.read.defaulted);
        assert!(r[0].timeouts.connect.defaulted);
    }

    #[test]
    fn proxy_pass_targets() {
        let ups: HashSet<String> = ["backend".to_string()].into();
        let s = Span::default();
        let t = |u: &str| parse_proxy_pass(u, s, &ups).target;
        assert_eq!(t("http://backend"), Target::Pool("backend".into()));
        assert_eq!(
            t("http://backend$request_uri"),
            Target::Pool("backend".into())
        );
        assert_eq!(t("http://bakend"), Target::Unknown("bakend".into()));
        assert_eq!(
            t("http://app:3000"),
            Target::Address(Host::Name("app".into()))
        );
        assert_eq!(
            t("http://127.0.0.1:8080/x"),
            Target::Address(Host::Ip("127.0.0.1".into()))
        );
        assert_eq!(t("http://$up"), Target::Dynamic);
        assert_eq!(t("https://api.example.com$uri"), Target::Dynamic);
        assert_eq!(
            t("http://10.0.0.1$uri"),
            Target::Address(Host::Ip("10.0.0.1".into()))
        );
        let p = parse_proxy_pass("http://unix:/tmp/s.sock:/api/", s, &ups);
        assert_eq!(p.host, "unix:/tmp/s.sock");
        assert_eq!(p.uri.as_deref(), Some("/api/"));
        let p = parse_proxy_pass("http://[::1]:81/", s, &ups);
        assert_eq!((p.host.as_str(), p.port), ("::1", Some(81)));
    }

    #[test]
    fn upstream_servers_and_defaults() {
        let m = model(
            "http { upstream b { server 10.0.0.1:80 max_fails=0; server b.internal backup; keepalive 8; }
               server { location / { proxy_pass http://b; } } }",
        );
        let u = &m.upstreams[0];
        assert_eq!(u.servers.len(), 2);
        assert_eq!(u.servers[0].max_fails.value, 0);
        assert!(u.servers[1].backup);
        assert!(u.servers[1].max_fails.defaulted);
        assert_eq!(u.keepalive.value, 8);
        assert_eq!(
            m.target_pool(&m.servers[0].routes[0])
                .map(|u| u.name.as_str()),
            Some("b")
        );
    }

    #[test]
    fn invalid_values_and_contexts() {
        let m = model(
            "http { proxy_read_timeout 30sec; proxy_buffers 8; keepalive 4;
               server { proxy_pass http://x; location / { proxy_buffer_size 4kb; } } }",
        );
        let probs: Vec<&str> = m.invalid.iter().map(|i| i.directive.as_str()).collect();
        assert_eq!(
            probs,
            [
                "proxy_read_timeout",
                "proxy_buffers",
                "keepalive",
                "proxy_pass",
                "proxy_buffer_size"
            ]
        );
    }

    #[test]
    fn flags_other_than_on_or_off_are_invalid() {
        let m = model(
            "http { proxy_ssl_verify yes; proxy_buffering OFF; proxy_intercept_errors $x;
               server { proxy_ssl_server_name on; } }",
        );
        let probs: Vec<(&str, &str)> = m
            .invalid
            .iter()
            .map(|i| (i.directive.as_str(), i.problem.as_str()))
            .collect();
        assert_eq!(
            probs,
            [
                (
                    "proxy_ssl_verify",
                    "\"yes\" is not a flag: nginx accepts only on or off"
                ),
                (
                    "proxy_intercept_errors",
                    "\"$x\" is not a flag: nginx accepts only on or off"
                ),
            ]
        );
    }

    #[test]
    fn fail_timeout_is_whole_seconds() {
        // nginx -t: invalid parameter "fail_timeout=500ms".
        let m = model("http { upstream u { server 10.0.0.1 fail_timeout=500ms; server 10.0.0.2 fail_timeout=1m; } }");
        let probs: Vec<&str> = m.invalid.iter().map(|i| i.problem.as_str()).collect();
        assert_eq!(probs, ["\"500ms\" is not a time in seconds"]);
        let u = m.upstream("u").unwrap();
        assert!(u.servers[0].fail_timeout.defaulted);
        assert_eq!(u.servers[1].fail_timeout.value, Duration::from_secs(60));
    }

    #[test]
    fn unknown_variable_only_with_every_file_read() {
        // nginx -t on this file: unknown "flask_server_addr" variable
        // (docker/awesome-compose's envsubst template, used as it stands)
        let src =
            b"events {} http { server { location / { proxy_pass http://$FLASK_SERVER_ADDR; } } }";
        for no_includes in [false, true] {
            let mut sm = crate::source::SourceMap::new();
            let id = sm.add("nginx.conf", src.to_vec());
            let opts = LoadOptions {
                no_includes,
                ..LoadOptions::default()
            };
            let m = super::super::parse(&mut sm, id, &opts).model.unwrap();
            let probs: Vec<&str> = m.invalid.iter().map(|i| i.problem.as_str()).collect();
            let want: &[&str] = if no_includes {
                &[]
            } else {
                &["unknown \"flask_server_addr\" variable"]
            };
            assert_eq!(probs, want);
            assert_eq!(m.undefined_variables, ["FLASK_SERVER_ADDR"]);
        }
        // a third-party module may define it (NGINX Plus `auth_jwt`, a
        // geoip2 block): recorded, not claimed to be refused
        let src = b"events {} http { auth_jwt_claim_set $x sub; server { location / { proxy_pass http://$jwt_up; } } }";
        let mut sm = crate::source::SourceMap::new();
        let id = sm.add("nginx.conf", src.to_vec());
        let m = super::super::parse(&mut sm, id, &LoadOptions::default())
            .model
            .unwrap();
        assert!(
            m.invalid.iter().all(|i| !i.problem.contains("variable")),
            "{:?}",
            m.invalid
        );
        assert_eq!(m.undefined_variables, ["jwt_up"]);
    }

    #[test]
    fn directives_newer_than_nginx_version() {
        // nginx 1.22.1 refuses `early_hints` (1.29.0): "unknown directive"
        let src =
            b"http { server { location / { early_hints $http2; proxy_pass http://10.0.0.1; } } }";
        let mut sm = crate::source::SourceMap::new();
        let id = sm.add("t.conf", src.to_vec());
        let opts = LoadOptions {
            nginx_version: Some(Version(1, 22, 1)),
            no_includes: true,
            ..Default::default()
        };
        let m = super::super::parse(&mut sm, id, &opts).model.unwrap();
        let probs: Vec<&str> = m.invalid.iter().map(|i| i.problem.as_str()).collect();
        assert_eq!(
            probs,
            ["unknown directive \"early_hints\" for nginx 1.22.1 (nginx_version): it appeared in nginx 1.29.0"]
        );
        // without a version, the newest nginx is assumed
        let (_, p) = parse_str("t.conf", src);
        assert!(p.model.unwrap().invalid.is_empty());
    }

    #[test]
    fn lowering_defaults_come_from_the_table() {
        // every default lowering reads is in the table, with nginx's value
        let t = |n| default_time(n, PROXY_MODULE);
        assert_eq!(t("proxy_connect_timeout"), Duration::from_secs(60));
        assert_eq!(t("proxy_read_timeout"), Duration::from_secs(60));
        assert_eq!(t("proxy_send_timeout"), Duration::from_secs(60));
        assert_eq!(
            default_time("keepalive_timeout", KEEPALIVE_MODULE),
            Duration::from_secs(60)
        );
        assert_eq!(
            default_text("proxy_next_upstream", PROXY_MODULE, None),
            "error timeout"
        );
        assert_eq!(
            default_value("proxy_next_upstream_tries", PROXY_MODULE, None),
            Some(Value::Count(0))
        );
        for flag in ["proxy_ssl_server_name", "proxy_ssl_verify"] {
            assert_eq!(
                default_value(flag, PROXY_MODULE, None),
                Some(Value::Flag(false))
            );
        }
        assert_eq!(
            default_bufs("large_client_header_buffers", CORE_MODULE),
            (4, 8 * 1024)
        );
        assert_eq!(keepalive_default_since(), Some(Version(1, 29, 7)));
        assert!(!keepalive_on_by_default(Some(Version(1, 29, 6))));
        assert_eq!(
            default_text("proxy_http_version", PROXY_MODULE, Some(Version(1, 29, 6))),
            "1.0"
        );
    }

    #[test]
    fn version_gated_defaults() {
        let src = b"http { upstream b { server 10.0.0.1; } server { location / { proxy_pass http://b; } } }";
        let (_, p) = parse_str("t.conf", src);
        let m = p.model.unwrap();
        assert_eq!(m.upstreams[0].keepalive.value, 32);
        assert_eq!(
            m.servers[0].routes[0].upstream_http_version.value,
            HttpVersion::Http11
        );
        let mut sm = crate::source::SourceMap::new();
        let id = sm.add("t.conf", src.to_vec());
        let opts = LoadOptions {
            nginx_version: Some(Version(1, 22, 1)),
            no_includes: true,
            ..Default::default()
        };
        let m = super::super::parse(&mut sm, id, &opts).model.unwrap();
        assert_eq!(m.upstreams[0].keepalive.value, 0);
        assert_eq!(
            m.servers[0].routes[0].upstream_http_version.value,
            HttpVersion::Http10
        );
    }
}
