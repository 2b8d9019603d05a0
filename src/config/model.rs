//! The normalized proxy model that every lint rule reads.
//!
//! Parsers (nginx, HAProxy, Envoy) lower their syntax trees into a
//! [`ProxyModel`]: servers (nginx `server`, HAProxy `frontend`/`listen`,
//! Envoy listener or virtual host) → routes (nginx `location`, HAProxy
//! `use_backend`/`default_backend`, Envoy route) → upstream pools (nginx
//! `upstream` or a literal `proxy_pass` address, HAProxy `backend`, Envoy
//! cluster) → endpoints (nginx `server`, HAProxy `server`, Envoy endpoint).
//!
//! Every typed value is a [`Setting`]: its effective value after the proxy's
//! inheritance rules, whether it came from the proxy's documented default, and
//! the span it came from (the directive, or the enclosing block when it is
//! defaulted). Inheritance (nginx http → server → location, HAProxy
//! `defaults` → section, …) is resolved by each proxy's `lower` step, never by
//! rules. Where a rule needs something proxy-specific, the raw effective
//! directives of each scope are kept in [`Directives`].
//!
//! This module imports only `source`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use crate::source::{FileId, Span};

/// Which proxy a config file is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProxyKind {
    /// nginx (`nginx.conf` and its includes).
    Nginx,
    /// HAProxy (`haproxy.cfg`).
    Haproxy,
    /// Envoy v3 bootstrap (YAML or JSON).
    Envoy,
}

impl ProxyKind {
    /// Lower-case name used in output (`nginx`, `haproxy`, `envoy`).
    pub fn as_str(self) -> &'static str {
        match self {
            ProxyKind::Nginx => "nginx",
            ProxyKind::Haproxy => "haproxy",
            ProxyKind::Envoy => "envoy",
        }
    }
}

/// One effective setting: value, whether it is the documented default, and
/// where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting<T> {
    /// The effective value.
    pub value: T,
    /// True when nothing in the config set it and `value` is the proxy's
    /// documented default.
    pub defaulted: bool,
    /// The directive that set it, or the block where it would belong when
    /// defaulted.
    pub span: Span,
}

impl<T> Setting<T> {
    /// A value written in the config at `span`.
    pub fn explicit(value: T, span: Span) -> Self {
        Setting {
            value,
            defaulted: false,
            span,
        }
    }

    /// The documented default, attributed to the enclosing block `span`.
    pub fn default_at(value: T, span: Span) -> Self {
        Setting {
            value,
            defaulted: true,
            span,
        }
    }

    /// True when the config set the value explicitly.
    pub fn is_explicit(&self) -> bool {
        !self.defaulted
    }
}

/// A directive or keyword argument as written (quotes removed, escapes kept
/// as nginx keeps them), with its span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arg {
    /// The text (non-UTF-8 bytes decoded lossily).
    pub value: String,
    /// Where it is.
    pub span: Span,
    /// True when it was quoted.
    pub quoted: bool,
    /// The value read in the proxy's own units, when the proxy's lowering
    /// knows this argument's type and the text is a valid value of it
    /// (`None` for text, for unknown directives and for invalid values,
    /// which the `*-VAL-*` rules report).
    pub typed: Option<Value>,
}

impl Arg {
    /// An argument with no typed value (text, or not yet typed).
    pub fn text(value: impl Into<String>, span: Span, quoted: bool) -> Self {
        Arg {
            value: value.into(),
            span,
            quoted,
            typed: None,
        }
    }

    /// The argument as a time, when it is one.
    pub fn time(&self) -> Option<Duration> {
        match self.typed {
            Some(Value::Time(t)) => Some(t),
            _ => None,
        }
    }

    /// The argument as a size in bytes, when it is one.
    pub fn size(&self) -> Option<u64> {
        match self.typed {
            Some(Value::Size(n)) => Some(n),
            _ => None,
        }
    }

    /// The argument as a whole number, when it is one.
    pub fn count(&self) -> Option<u64> {
        match self.typed {
            Some(Value::Count(n)) => Some(n),
            _ => None,
        }
    }

    /// The argument as an on/off flag, when it is one.
    pub fn flag(&self) -> Option<bool> {
        match self.typed {
            Some(Value::Flag(b)) => Some(b),
            _ => None,
        }
    }
}

/// A typed argument value, read by the proxy's lowering in that proxy's
/// units (nginx `30s`/`1m`/`16k`, HAProxy milliseconds by default, Envoy's
/// protobuf durations and booleans), so that rules compare numbers and
/// never parse text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value {
    /// A duration.
    Time(Duration),
    /// A size in bytes.
    Size(u64),
    /// A whole number (count, status code, kilobytes where the field says so).
    Count(u64),
    /// A boolean (`on`/`off`, `true`/`false`).
    Flag(bool),
}

/// What type an argument of a known directive has (the lowering's tables
/// map directive names to these).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// A duration.
    Time,
    /// A size in bytes.
    Size,
    /// A whole number.
    Count,
    /// A boolean.
    Flag,
}

/// One directive (nginx), keyword line (HAProxy) or field (Envoy) as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    /// Name (`proxy_read_timeout`, `timeout`, `connect_timeout`).
    pub name: String,
    /// Arguments after the name (shared: the model's scopes and `written`
    /// hold the same arguments, not copies).
    pub args: Arc<[Arg]>,
    /// The whole directive, name through `;` (or through the block header).
    pub span: Span,
    /// Span of the name alone.
    pub name_span: Span,
}

impl Directive {
    /// Argument `i`'s text, if present.
    pub fn arg(&self, i: usize) -> Option<&str> {
        self.args.get(i).map(|a| a.value.as_str())
    }

    /// All arguments joined by one space (for messages).
    pub fn args_text(&self) -> String {
        let v: Vec<&str> = self.args.iter().map(|a| a.value.as_str()).collect();
        v.join(" ")
    }

    /// Argument `i` as a time set by this directive (`None` when absent or
    /// not a valid time).
    pub fn time(&self, i: usize) -> Option<Setting<Duration>> {
        self.typed(i, Arg::time)
    }

    /// Argument `i` as a size in bytes set by this directive.
    pub fn size(&self, i: usize) -> Option<Setting<u64>> {
        self.typed(i, Arg::size)
    }

    /// Argument `i` as a whole number set by this directive.
    pub fn count(&self, i: usize) -> Option<Setting<u64>> {
        self.typed(i, Arg::count)
    }

    /// Argument `i` as a flag set by this directive.
    pub fn flag(&self, i: usize) -> Option<Setting<bool>> {
        self.typed(i, Arg::flag)
    }

    fn typed<T>(&self, i: usize, get: impl Fn(&Arg) -> Option<T>) -> Option<Setting<T>> {
        let v = get(self.args.get(i)?)?;
        Some(Setting::explicit(v, self.span))
    }
}

/// The effective directives of one scope after inheritance: for each name,
/// the occurrences at the innermost level that defines it (nginx's
/// replace-not-merge rule for array directives such as `proxy_set_header`).
///
/// Each level holds only its own occurrences and a shared handle on the
/// enclosing level ([`Directives::inherit`]): a lookup walks up the few
/// levels (http → server → location → nested location), and a config of
/// 100,000 locations keeps each `http`- and `server`-level directive once,
/// not once per location (memory O(config), not O(blocks × inherited
/// names)). Cloning a set is one reference-count increment.
#[derive(Clone, Default)]
pub struct Directives {
    level: Arc<Level>,
}

/// One level of a [`Directives`] chain.
#[derive(Clone, Default)]
struct Level {
    /// This level's occurrences by name; an empty list hides the enclosing
    /// levels' occurrences ([`Directives::remove`]).
    own: BTreeMap<Arc<str>, Arc<Vec<Directive>>>,
    /// The enclosing level, shared by all its children.
    parent: Option<Directives>,
}

impl Directives {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Append one occurrence of a directive at this level.
    pub fn push(&mut self, d: Directive) {
        let level = Arc::make_mut(&mut self.level);
        match level.own.get_mut(d.name.as_str()) {
            Some(v) => Arc::make_mut(v).push(d),
            None => {
                let key: Arc<str> = Arc::from(d.name.as_str());
                level.own.insert(key, Arc::new(vec![d]));
            }
        }
    }

    /// Forget every occurrence of `name` (for directives nginx does not
    /// inherit, such as `proxy_pass`).
    pub fn remove(&mut self, name: &str) {
        let inherited = self
            .level
            .parent
            .as_ref()
            .is_some_and(|p| p.lookup(name).is_some());
        let level = Arc::make_mut(&mut self.level);
        if inherited {
            level.own.insert(Arc::from(name), Arc::new(Vec::new()));
        } else {
            level.own.remove(name);
        }
    }

    /// The list in effect for `name`: this level's, else the nearest
    /// enclosing level's (an empty list when removed here).
    fn lookup(&self, name: &str) -> Option<&Vec<Directive>> {
        let mut at = self;
        loop {
            if let Some(v) = at.level.own.get(name) {
                return Some(v);
            }
            at = at.level.parent.as_ref()?;
        }
    }

    /// Every name in effect with its occurrences, in name order.
    fn effective(&self) -> BTreeMap<&str, &[Directive]> {
        let mut chain = vec![self];
        while let Some(p) = &chain[chain.len() - 1].level.parent {
            chain.push(p);
        }
        let mut map = BTreeMap::new();
        for d in chain.iter().rev() {
            for (k, v) in &d.level.own {
                map.insert(&**k, v.as_slice());
            }
        }
        map.retain(|_, v| !v.is_empty());
        map
    }

    /// Names defined here (inherited or own).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.effective().into_keys()
    }

    /// Every occurrence of `name` in effect (empty when none).
    pub fn all(&self, name: &str) -> &[Directive] {
        self.lookup(name).map(|v| v.as_slice()).unwrap_or(&[])
    }

    /// The occurrence of `name` in effect (the last one when repeated).
    pub fn get(&self, name: &str) -> Option<&Directive> {
        self.lookup(name).and_then(|v| v.last())
    }

    /// True when `name` is in effect.
    pub fn has(&self, name: &str) -> bool {
        self.lookup(name).is_some_and(|v| !v.is_empty())
    }

    /// This level's directives over `parent`'s: a name defined here replaces
    /// the parent's occurrences of that name entirely. `parent` is shared,
    /// not copied.
    pub fn inherit(parent: &Directives, own: &Directives) -> Directives {
        own.clone().under(parent)
    }

    /// [`Directives::inherit`] taking this level by value: a level built
    /// for one block (and not cloned) becomes the child without a copy.
    pub fn under(self, parent: &Directives) -> Directives {
        let own = match &self.level.parent {
            None => Arc::try_unwrap(self.level).map_or_else(|l| l.own.clone(), |l| l.own),
            // `self` is itself a chain: its effective set is this level's
            Some(_) => self
                .effective()
                .into_iter()
                .map(|(k, v)| (Arc::from(k), Arc::new(v.to_vec())))
                .collect(),
        };
        let empty = parent.level.own.is_empty() && parent.level.parent.is_none();
        Directives {
            level: Arc::new(Level {
                own,
                parent: (!empty).then(|| parent.clone()),
            }),
        }
    }

    /// Iterate over every directive in effect.
    pub fn iter(&self) -> impl Iterator<Item = &Directive> {
        self.effective().into_values().flatten()
    }

    /// `name`'s first argument as a time, when set here and valid.
    pub fn time(&self, name: &str) -> Option<Setting<Duration>> {
        self.get(name)?.time(0)
    }

    /// `name`'s first argument as a size in bytes, when set here and valid.
    pub fn size(&self, name: &str) -> Option<Setting<u64>> {
        self.get(name)?.size(0)
    }

    /// `name`'s first argument as a whole number, when set here and valid.
    pub fn count(&self, name: &str) -> Option<Setting<u64>> {
        self.get(name)?.count(0)
    }

    /// `name`'s first argument as a flag, when set here and valid.
    pub fn flag(&self, name: &str) -> Option<Setting<bool>> {
        self.get(name)?.flag(0)
    }
}

/// Two sets are equal when the same directives are in effect, however
/// their levels are shared.
impl PartialEq for Directives {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.level, &other.level) || self.effective() == other.effective()
    }
}

impl Eq for Directives {}

/// The directives in effect, by name (the levels are not shown).
impl std::fmt::Debug for Directives {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Directives")
            .field("map", &self.effective())
            .finish()
    }
}

impl<T> Setting<T> {
    /// `set` when the config gave a value, else `default` attributed to
    /// the enclosing `block`.
    pub fn or_default(set: Option<Setting<T>>, default: T, block: Span) -> Setting<T> {
        set.unwrap_or_else(|| Setting::default_at(default, block))
    }
}

/// The whole normalized config of one proxy (one entry file and what it
/// includes).
///
/// A parser builds it with [`ProxyModel::new`], fills servers, upstreams,
/// `blocks` (for block-wide suppressions), `written` and `invalid`, and ends
/// with [`ProxyModel::index`].
#[derive(Debug, Clone)]
pub struct ProxyModel {
    /// Which proxy.
    pub kind: ProxyKind,
    /// The entry file.
    pub file: FileId,
    /// Every file read for this config (entry first, then includes).
    pub files: Vec<FileId>,
    /// Span standing for the whole config (start of the entry file), used
    /// for findings about something missing everywhere.
    pub span: Span,
    /// Proxy-wide settings (nginx `main` + `http`, HAProxy `global` +
    /// `defaults`, Envoy bootstrap).
    pub global: Global,
    /// nginx `server`s, HAProxy `frontend`/`listen`s, Envoy listeners.
    pub servers: Vec<Server>,
    /// nginx `upstream`s, HAProxy `backend`s, Envoy clusters.
    pub upstreams: Vec<Upstream>,
    /// Span of every block (nginx `{…}`, HAProxy section, YAML mapping),
    /// from the line opening it to its end: a suppression comment on the
    /// opening line covers the whole block.
    pub blocks: Vec<Span>,
    /// Values that do not parse or directives in a context that does not
    /// allow them (read by the `*-VAL-*` rules).
    pub invalid: Vec<Invalid>,
    /// Every directive / keyword line as written, in source order (each
    /// once, however many scopes inherit it), for rules about a directive
    /// wherever it appears.
    pub written: Vec<Directive>,
    /// Pool name → index in `upstreams`; filled by [`ProxyModel::index`]
    /// (lookups fall back to a scan when it is stale).
    pub upstream_index: std::collections::HashMap<String, usize>,
    /// Set when the entry file is a fragment (an nginx file meant to be
    /// included, linted in an assumed context).
    pub fragment: Option<Fragment>,
    /// Includes that named no readable file: what they hold was not checked.
    pub missing_includes: Vec<MissingInclude>,
    /// Directives the proxy's stock build does not know (third-party
    /// modules, or typos too far from any known name): first use of each.
    pub unknown: Vec<UnknownDirective>,
    /// nginx: every value a variable is given by `set` or by a `map`
    /// anywhere in the config, by name without `$` (variables set nowhere,
    /// such as `$host`, are absent).
    pub variables: std::collections::HashMap<String, Vec<String>>,
    /// nginx: variables a `*_pass` (or a `map`, as source or value) uses
    /// that neither nginx nor the config defines (names as written, without
    /// `$`). With every file read,
    /// nginx -t refuses them (each is also in `invalid`); in a fragment they
    /// may come from the including config, or from a template engine
    /// (`envsubst`) that fills them in before nginx reads the file.
    pub undefined_variables: Vec<String>,
    /// nginx `stream {}`: TCP/UDP servers and their pools, kept apart from
    /// `servers` and `upstreams` (an http `upstream` is not visible to a
    /// stream `proxy_pass`, and the http rules do not apply there).
    pub stream: Option<Stream>,
}

/// How a fragment was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fragment {
    /// The block it was linted as being included in (`http`, `server`,
    /// `location`).
    pub context: &'static str,
    /// Why that context (empty when forced).
    pub reason: String,
    /// Given with `--context` rather than inferred.
    pub forced: bool,
}

/// An include whose file could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingInclude {
    /// The `include` directive.
    pub span: Span,
    /// The path as written.
    pub path: String,
    /// Why it could not be read.
    pub reason: String,
    /// The block it sits in (`main`, `http`, `server`, `location`, …).
    pub context: String,
    /// Left unread on purpose (includes not followed, as in the corpus
    /// tests): its content is unknown, but the file is not missing.
    pub unread: bool,
}

/// A directive name the stock proxy does not define.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownDirective {
    /// Its first use.
    pub span: Span,
    /// The name.
    pub name: String,
    /// How many times it is used.
    pub count: usize,
}

impl ProxyModel {
    /// An empty model of `kind` rooted at `file`.
    pub fn new(kind: ProxyKind, file: FileId) -> Self {
        let span = Span::new(file, 0, 0);
        ProxyModel {
            kind,
            file,
            files: vec![file],
            span,
            global: Global::new(span),
            servers: Vec::new(),
            upstreams: Vec::new(),
            blocks: Vec::new(),
            invalid: Vec::new(),
            written: Vec::new(),
            upstream_index: std::collections::HashMap::new(),
            fragment: None,
            missing_includes: Vec::new(),
            unknown: Vec::new(),
            variables: std::collections::HashMap::new(),
            undefined_variables: Vec::new(),
            stream: None,
        }
    }

    /// Build the name index of `upstreams` (call after filling them; the
    /// first pool of a name wins, as in a linear search).
    pub fn index(&mut self) {
        self.upstream_index.clear();
        for (i, u) in self.upstreams.iter().enumerate() {
            self.upstream_index.entry(u.name.clone()).or_insert(i);
        }
    }

    /// The upstream pool called `name`, if defined.
    pub fn upstream(&self, name: &str) -> Option<&Upstream> {
        if self.upstream_index.len() == self.upstreams.len() && !self.upstreams.is_empty() {
            return self
                .upstream_index
                .get(name)
                .and_then(|&i| self.upstreams.get(i))
                .filter(|u| u.name == name);
        }
        self.upstreams.iter().find(|u| u.name == name)
    }

    /// Every route of every server, with its server.
    pub fn routes(&self) -> impl Iterator<Item = (&Server, &Route)> {
        self.servers
            .iter()
            .flat_map(|s| s.routes.iter().map(move |r| (s, r)))
    }

    /// The pool a route sends to: a named pool, or `None` for literal
    /// addresses and variables.
    pub fn target_pool(&self, route: &Route) -> Option<&Upstream> {
        match &route.proxy.as_ref()?.target {
            Target::Pool(name) => self.upstream(name),
            _ => None,
        }
    }

    /// The `upstream` a route's `fastcgi_pass`/`uwsgi_pass`/`scgi_pass`/
    /// `grpc_pass` names, if it names one.
    pub fn module_pool(&self, route: &Route) -> Option<&Upstream> {
        match &route.module_pass.as_ref()?.target.target {
            Target::Pool(name) => self.upstream(name),
            _ => None,
        }
    }
}

/// Proxy-wide settings.
#[derive(Debug, Clone)]
pub struct Global {
    /// Span of the proxy-wide block (nginx `http`, HAProxy `defaults`, Envoy
    /// `static_resources`), or the file start.
    pub span: Span,
    /// Effective directives at the outermost level that servers inherit from
    /// (nginx: `http` over `main`).
    pub directives: Directives,
    /// Directives of the top level outside `http` (nginx `main`: `error_log`,
    /// `worker_processes`, …; HAProxy `global`).
    pub main: Directives,
    /// Error/diagnostic log level in effect (nginx `error_log` level).
    pub error_log_level: Setting<String>,
}

impl Global {
    /// Empty settings attributed to `span`.
    pub fn new(span: Span) -> Self {
        Global {
            span,
            directives: Directives::new(),
            main: Directives::new(),
            error_log_level: Setting::default_at("error".into(), span),
        }
    }
}

/// A virtual server / frontend / listener.
#[derive(Debug, Clone)]
pub struct Server {
    /// Display name: first `server_name`, frontend name, listener name.
    pub name: String,
    /// The block header (`server {`, `frontend web`).
    pub span: Span,
    /// Effective directives at server level (inherited from `global`).
    pub directives: Directives,
    /// Access logging at server level.
    pub access_log: AccessLog,
    /// The addresses it accepts connections on (nginx `listen`, HAProxy
    /// `bind`, Envoy listener `address`), as the proxy reads them; an
    /// nginx server without `listen` gets nginx's defaults, marked
    /// [`Listen::defaulted`].
    pub listen: Vec<Listen>,
    /// Routes in source order (nested nginx locations flattened, each with
    /// its own effective settings).
    pub routes: Vec<Route>,
    /// HTTP or TCP.
    pub mode: Setting<Mode>,
}

/// One address a server listens on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listen {
    /// The address as written (`127.0.0.1:8080`, `:80`, `[::]:443`).
    pub text: String,
    /// The host; `None` for every address of the machine (nothing written,
    /// `*`, `0.0.0.0`, `::`).
    pub host: Option<Host>,
    /// First and last port (one port: both the same; a HAProxy range
    /// `8000-8010`); `None` for a unix socket.
    pub ports: Option<(u16, u16)>,
    /// The directive (or Envoy field) it came from; for a default, the
    /// block it applies to.
    pub span: Span,
    /// Not written: the proxy's default for a block without one (nginx's
    /// `*:80`, `*:8000` when not started as root).
    pub defaulted: bool,
}

impl Listen {
    /// A listen address from its host part (`""`, `*`, `0.0.0.0` and `::`
    /// mean every address) and ports.
    pub fn new(text: &str, host: &str, ports: Option<(u16, u16)>, span: Span) -> Listen {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let any = matches!(bare, "" | "*" | "0.0.0.0" | "::");
        Listen {
            text: text.to_owned(),
            host: (!any).then(|| Host::classify(host)),
            ports,
            span,
            defaulted: false,
        }
    }

    /// The address as written, or for a default what it is and why.
    pub fn describe(&self) -> String {
        if self.defaulted {
            format!(
                "{} (nginx's default: that server block has no listen)",
                self.text
            )
        } else {
            self.text.clone()
        }
    }

    /// Does a connection to `addr` (`ip:port`, `[v6]:port`, as proxies log
    /// the address they connected to) reach this listener? `Some(true)`
    /// when host and port are the same, `Some(false)` when only the port
    /// is (the listener takes every address, so `addr` may be this
    /// machine's or another's), `None` when it does not.
    pub fn reached_by(&self, addr: &str) -> Option<bool> {
        if let Some(Host::Unix(path)) = &self.host {
            // nginx logs a socket upstream as `unix:/path`
            return (addr.strip_prefix("unix:") == Some(path.as_str())).then_some(true);
        }
        let (host, port) = addr.rsplit_once(':')?;
        let port: u16 = port.parse().ok()?;
        let (first, last) = self.ports?;
        if port < first || port > last {
            return None;
        }
        let host = host.trim_start_matches('[').trim_end_matches(']');
        match &self.host {
            None => Some(false),
            Some(Host::Ip(ip)) => {
                let same = match (
                    ip.parse::<std::net::IpAddr>(),
                    host.parse::<std::net::IpAddr>(),
                ) {
                    (Ok(a), Ok(b)) => a == b,
                    _ => false,
                };
                same.then_some(true)
            }
            Some(Host::Name(n)) => {
                let loopback = n.eq_ignore_ascii_case("localhost")
                    && host
                        .parse::<std::net::IpAddr>()
                        .is_ok_and(|a| a.is_loopback());
                (n.eq_ignore_ascii_case(host) || loopback).then_some(true)
            }
            Some(Host::Unix(_)) => None,
        }
    }
}

/// How a route matches requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteMatch {
    /// Path prefix (`location /api/`, Envoy `prefix`).
    Prefix(String),
    /// Exact path (`location = /x`, Envoy `path`).
    Exact(String),
    /// Regular expression (`location ~ re`, `~*`, Envoy `safe_regex`); the
    /// flag is true when case-insensitive.
    Regex(String, bool),
    /// Named location (`location @fallback`).
    Named(String),
    /// Server-level pseudo-route (nginx `proxy_pass` outside any location is
    /// invalid; HAProxy `default_backend`).
    Default,
    /// Something else (HAProxy ACL condition text).
    Other(String),
}

/// A location / route / backend selection.
#[derive(Debug, Clone)]
pub struct Route {
    /// How it matches.
    pub matcher: RouteMatch,
    /// The block header (`location /api {`).
    pub span: Span,
    /// Effective directives (inherited from server and enclosing routes).
    pub directives: Directives,
    /// Where it proxies, if it proxies.
    pub proxy: Option<ProxyPass>,
    /// Upstream timeouts.
    pub timeouts: Timeouts,
    /// Retries to other servers.
    pub retry: Retry,
    /// TLS towards the upstream.
    pub tls: UpstreamTls,
    /// Access logging in effect.
    pub access_log: AccessLog,
    /// HTTP version used towards the upstream (nginx `proxy_http_version`,
    /// HAProxy server `proto h2`, Envoy `http2_protocol_options`).
    pub upstream_http_version: Setting<HttpVersion>,
    /// Request-id header forwarded upstream, if any (nginx
    /// `proxy_set_header X-Request-ID …`; in a [`ModulePass`] location its
    /// module's `grpc_set_header` or `*_param`, `fastcgi_param
    /// HTTP_X_REQUEST_ID $request_id`).
    pub request_id_header: Option<Setting<String>>,
    /// nginx: where the location passes requests when its content handler
    /// is `fastcgi_pass`, `uwsgi_pass`, `scgi_pass` or `grpc_pass` rather
    /// than `proxy_pass` (`proxy` is then `None`). Always `None` for
    /// HAProxy and Envoy. Boxed: most routes have none, and inline it was
    /// a third of every route's size.
    pub module_pass: Option<Box<ModulePass>>,
}

/// An nginx upstream module other than `proxy`: each has the proxy
/// module's connect/send/read timeouts, `*_next_upstream`,
/// `*_next_upstream_tries` and `*_next_upstream_timeout` under its own
/// prefix, with the same defaults (60s, `error timeout`, 0, 0: each
/// module's merge function in nginx's source) and the same meaning
/// (nginx.org describes each in the proxy module's words).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PassModule {
    /// ngx_http_fastcgi_module (`fastcgi_pass`: PHP-FPM).
    FastCgi,
    /// ngx_http_uwsgi_module (`uwsgi_pass`).
    Uwsgi,
    /// ngx_http_scgi_module (`scgi_pass`).
    Scgi,
    /// ngx_http_grpc_module (`grpc_pass`).
    Grpc,
}

impl PassModule {
    /// Every module, in the order a location is searched for its `*_pass`.
    pub const ALL: [PassModule; 4] = [
        PassModule::FastCgi,
        PassModule::Uwsgi,
        PassModule::Scgi,
        PassModule::Grpc,
    ];

    /// The directive prefix (`fastcgi` of `fastcgi_read_timeout`).
    pub fn prefix(self) -> &'static str {
        match self {
            PassModule::FastCgi => "fastcgi",
            PassModule::Uwsgi => "uwsgi",
            PassModule::Scgi => "scgi",
            PassModule::Grpc => "grpc",
        }
    }
}

/// A location whose content handler is a [`PassModule`]'s `*_pass`, with
/// that module's effective timeouts and retries.
#[derive(Debug, Clone)]
pub struct ModulePass {
    /// Which module.
    pub module: PassModule,
    /// The address or upstream passed to, read as `proxy_pass` reads its
    /// host part (`unix:` sockets, `host:port`, an `upstream` name, a
    /// `grpc://`/`grpcs://` scheme); its span is the `*_pass` directive.
    pub target: ProxyPass,
    /// `*_connect_timeout`, `*_read_timeout`, `*_send_timeout`.
    pub timeouts: Timeouts,
    /// `*_next_upstream`, `*_next_upstream_tries`,
    /// `*_next_upstream_timeout` (`per_try` is always `None`).
    pub retry: Retry,
}

/// An HTTP version spoken to an upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum HttpVersion {
    /// HTTP/1.0 (nginx's `proxy_http_version` default before 1.29.7).
    Http10,
    /// HTTP/1.1.
    Http11,
    /// HTTP/2.
    Http2,
}

impl HttpVersion {
    /// Read the version as nginx's `proxy_http_version` writes it (`1.0`,
    /// `1.1`, `2`; nginx compares without case, ngx_conf_set_enum_slot).
    pub fn parse(s: &str) -> Option<HttpVersion> {
        match s {
            "1.0" => Some(HttpVersion::Http10),
            "1.1" => Some(HttpVersion::Http11),
            "2" => Some(HttpVersion::Http2),
            _ => None,
        }
    }

    /// `1.0`, `1.1` or `2`.
    pub fn as_str(self) -> &'static str {
        match self {
            HttpVersion::Http10 => "1.0",
            HttpVersion::Http11 => "1.1",
            HttpVersion::Http2 => "2",
        }
    }
}

impl std::fmt::Display for HttpVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The protocol a server or pool carries: HTTP, or bytes of TCP (HAProxy
/// `mode`, whose default is `tcp` (manual, `mode`); nginx `http {}` vs
/// `stream {}`; an Envoy listener with or without an
/// `http_connection_manager`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// HTTP: requests, responses and status codes are seen.
    Http,
    /// TCP (or HAProxy `mode log`/`spop`): bytes relayed, no HTTP status.
    Tcp,
}

impl Mode {
    /// `http` or `tcp`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Http => "http",
            Mode::Tcp => "tcp",
        }
    }
}

/// How a pool picks a server, across proxies (nginx `hash`/`ip_hash`/…,
/// HAProxy `balance`, Envoy `lb_policy`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Balance {
    /// Weighted round robin (nginx's default, HAProxy `roundrobin` and
    /// `static-rr`, Envoy `ROUND_ROBIN`).
    RoundRobin,
    /// Fewest active connections or requests (nginx `least_conn`, HAProxy
    /// `leastconn`, Envoy `LEAST_REQUEST`).
    LeastConn,
    /// nginx Plus `least_time`.
    LeastTime,
    /// Random choice (nginx `random`, HAProxy `random`, Envoy `RANDOM`).
    Random,
    /// A hash of a request key (nginx `hash`, HAProxy `uri`, `url_param`,
    /// `hdr(…)`, `rdp-cookie`, `hash`; Envoy `RING_HASH`, `MAGLEV`).
    Hash,
    /// A hash of the client address (nginx `ip_hash`, HAProxy `source`).
    IpHash,
    /// The first server with a free slot (HAProxy `first`).
    First,
    /// Anything else, as written.
    Other(String),
}

impl Balance {
    /// Read nginx's balancing directive name (`hash`, `ip_hash`, `random`,
    /// `least_conn`, `least_time`).
    pub fn from_nginx(directive: &str) -> Balance {
        match directive {
            "hash" => Balance::Hash,
            "ip_hash" => Balance::IpHash,
            "random" => Balance::Random,
            "least_conn" => Balance::LeastConn,
            "least_time" => Balance::LeastTime,
            other => Balance::Other(other.to_owned()),
        }
    }

    /// Read HAProxy's `balance` algorithm (manual, `balance`; `hdr(name)`
    /// and `rdp-cookie(name)` carry an argument).
    pub fn from_haproxy(algo: &str) -> Balance {
        let name = algo.split('(').next().unwrap_or(algo);
        match name {
            "roundrobin" | "static-rr" => Balance::RoundRobin,
            "leastconn" => Balance::LeastConn,
            "random" => Balance::Random,
            "first" => Balance::First,
            "source" => Balance::IpHash,
            "uri" | "url_param" | "hdr" | "rdp-cookie" | "hash" => Balance::Hash,
            _ => Balance::Other(algo.to_owned()),
        }
    }

    /// Read Envoy's `lb_policy` enum name (cluster.proto `LbPolicy`).
    pub fn from_envoy(policy: &str) -> Balance {
        match policy {
            "ROUND_ROBIN" => Balance::RoundRobin,
            "LEAST_REQUEST" => Balance::LeastConn,
            "RANDOM" => Balance::Random,
            "RING_HASH" | "MAGLEV" => Balance::Hash,
            other => Balance::Other(other.to_owned()),
        }
    }

    /// True for the methods that pick a server from a hash of the request
    /// (or client) or at random, which nginx does not combine with
    /// `backup` servers (upstream module, `server … backup`).
    pub fn is_hash_or_random(&self) -> bool {
        matches!(self, Balance::Hash | Balance::IpHash | Balance::Random)
    }

    /// nginx-style name (`round_robin`, `least_conn`, `hash`, `ip_hash`,
    /// …), or the text as written for [`Balance::Other`].
    pub fn as_str(&self) -> &str {
        match self {
            Balance::RoundRobin => "round_robin",
            Balance::LeastConn => "least_conn",
            Balance::LeastTime => "least_time",
            Balance::Random => "random",
            Balance::Hash => "hash",
            Balance::IpHash => "ip_hash",
            Balance::First => "first",
            Balance::Other(s) => s,
        }
    }
}

impl std::fmt::Display for Balance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// HAProxy: what a health check of a backend's servers does beyond opening
/// a connection (manual, `option httpchk`, `http-check`, `tcp-check`, and the
/// protocol checks `option ssl-hello-chk`, `mysql-check`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckProbe {
    /// Only a TCP connection is opened (the default check).
    Connect,
    /// An HTTP request: `option httpchk` or `http-check` rules.
    Http,
    /// A protocol's own handshake: `option ssl-hello-chk`, `mysql-check`,
    /// `pgsql-check`, `redis-check`, `ldap-check`, `smtpchk`,
    /// `external-check` or `spop-check`.
    Protocol,
    /// `tcp-check send`/`expect` rules (an HTTP request and its answer can
    /// be written with them).
    TcpScript,
}

/// HAProxy `http-reuse`: which requests may go out on an idle connection
/// another request opened (manual, `http-reuse`; default `safe`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpReuse {
    /// No connection is shared between requests of different clients.
    Never,
    /// The first request of a session gets a connection of its own; later
    /// ones may reuse (the default).
    Safe,
    /// Also the first request, on connections proven reusable.
    Aggressive,
    /// Any request, on any idle connection.
    Always,
}

impl HttpReuse {
    /// Read the keyword (`never`, `safe`, `aggressive`, `always`).
    pub fn parse(s: &str) -> Option<HttpReuse> {
        match s {
            "never" => Some(HttpReuse::Never),
            "safe" => Some(HttpReuse::Safe),
            "aggressive" => Some(HttpReuse::Aggressive),
            "always" => Some(HttpReuse::Always),
            _ => None,
        }
    }

    /// The keyword.
    pub fn as_str(self) -> &'static str {
        match self {
            HttpReuse::Never => "never",
            HttpReuse::Safe => "safe",
            HttpReuse::Aggressive => "aggressive",
            HttpReuse::Always => "always",
        }
    }
}

/// Where a route sends requests.
#[derive(Debug, Clone, PartialEq)]
pub struct ProxyPass {
    /// The directive (`proxy_pass http://b/;`, `use_backend b`, `cluster: b`).
    pub span: Span,
    /// The target as written.
    pub raw: String,
    /// URL scheme when there is one (`http`, `https`).
    pub scheme: Option<String>,
    /// Host part (pool name, hostname, IP, `unix:` path).
    pub host: String,
    /// Port when written.
    pub port: Option<u16>,
    /// URI part after `host[:port]` (nginx), `None` when absent.
    pub uri: Option<String>,
    /// True when the target contains variables (`$host`).
    pub has_variables: bool,
    /// What the host resolves to.
    pub target: Target,
}

/// What a proxy target names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A defined pool (nginx `upstream`, HAProxy backend, Envoy cluster).
    Pool(String),
    /// A literal address: IP, hostname, or `unix:` path.
    Address(Host),
    /// Computed at run time (variables).
    Dynamic,
    /// A name that matches no pool and is not an address (nginx: no dot, not
    /// `localhost`).
    Unknown(String),
}

/// The kind of a host in an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    /// IPv4 or IPv6 literal.
    Ip(String),
    /// A DNS name (resolved by the proxy).
    Name(String),
    /// A unix socket path.
    Unix(String),
}

impl Host {
    /// Classify `host` (no port).
    pub fn classify(host: &str) -> Host {
        if let Some(p) = host.strip_prefix("unix:") {
            return Host::Unix(p.to_string());
        }
        let h = host.trim_start_matches('[').trim_end_matches(']');
        if h.parse::<std::net::IpAddr>().is_ok() {
            Host::Ip(h.to_string())
        } else {
            Host::Name(host.to_string())
        }
    }

    /// A name that is a placeholder filled in before the proxy reads the
    /// file (`${BACKEND}` of an envsubst template, kubeadm's
    /// `${HOST1_ADDRESS}`): neither nginx nor HAProxy expands `$` in a
    /// server address (HAProxy 2.6 only inside double quotes, at start-up),
    /// so what it resolves to, a name or an IP, is unknown here.
    pub fn is_placeholder(&self) -> bool {
        matches!(self, Host::Name(n) if n.contains('$'))
    }

    /// True for 127.0.0.0/8, ::1, `localhost` and unix sockets.
    pub fn is_loopback(&self) -> bool {
        match self {
            Host::Ip(ip) => ip
                .parse::<std::net::IpAddr>()
                .map(|a| a.is_loopback())
                .unwrap_or(false),
            Host::Name(n) => n.eq_ignore_ascii_case("localhost"),
            Host::Unix(_) => true,
        }
    }
}

/// Upstream timeouts of a route.
#[derive(Debug, Clone)]
pub struct Timeouts {
    /// Time to establish the upstream connection (nginx
    /// `proxy_connect_timeout`, HAProxy `timeout connect`, Envoy cluster
    /// `connect_timeout`). `None` value = infinite.
    pub connect: Setting<Option<Duration>>,
    /// Time to wait for the upstream's response (nginx `proxy_read_timeout`
    /// between reads, HAProxy `timeout server`, Envoy route `timeout`).
    pub read: Setting<Option<Duration>>,
    /// Time to wait while sending (nginx `proxy_send_timeout`).
    pub send: Setting<Option<Duration>>,
}

/// Retry behaviour of a route.
#[derive(Debug, Clone)]
pub struct Retry {
    /// Conditions that trigger a retry on another server (nginx
    /// `proxy_next_upstream`, HAProxy `retry-on`, Envoy `retry_on`); empty =
    /// retries off.
    pub on: Setting<Vec<String>>,
    /// Maximum attempts; 0 = unlimited (nginx `proxy_next_upstream_tries`).
    pub tries: Setting<u32>,
    /// Time budget for all attempts together (nginx
    /// `proxy_next_upstream_timeout`); `None` = unlimited.
    pub timeout: Setting<Option<Duration>>,
    /// Timeout of each attempt where it is its own setting (Envoy
    /// `per_try_timeout`); `None` = each attempt waits the read timeout.
    pub per_try: Setting<Option<Duration>>,
}

/// TLS settings towards the upstream.
#[derive(Debug, Clone)]
pub struct UpstreamTls {
    /// SNI is sent (nginx `proxy_ssl_server_name`).
    pub server_name: Setting<bool>,
    /// Name used for SNI and verification (nginx `proxy_ssl_name`).
    pub name: Setting<String>,
    /// The server certificate is verified.
    pub verify: Setting<bool>,
    /// CA bundle for verification, when set.
    pub trusted_ca: Option<Setting<String>>,
}

/// Access logging in effect for a scope.
#[derive(Debug, Clone)]
pub struct AccessLog {
    /// Log destinations in effect: (path, format name); empty with
    /// `off = true` when logging is disabled.
    pub logs: Vec<Setting<(String, String)>>,
    /// True when access logging is switched off.
    pub off: Setting<bool>,
    /// The text of each format used (resolved from `log_format` by name;
    /// nginx's built-in `combined` when unnamed). Shared: every route under
    /// one `access_log` holds the same text.
    pub formats: Vec<Setting<Arc<str>>>,
}

/// An upstream pool.
#[derive(Debug, Clone)]
pub struct Upstream {
    /// Pool name (nginx `upstream NAME`, HAProxy backend, Envoy cluster).
    pub name: String,
    /// The block header, or the `proxy_pass` directive for implicit pools.
    pub span: Span,
    /// Effective directives inside the pool.
    pub directives: Directives,
    /// Endpoints in source order.
    pub servers: Vec<Endpoint>,
    /// Balancing method.
    pub balance: Setting<Balance>,
    /// Idle keep-alive connections cached per worker; 0 = off.
    pub keepalive: Setting<u32>,
    /// How long an idle upstream connection is kept.
    pub keepalive_timeout: Setting<Duration>,
    /// Shared-memory zone (needed for re-resolution in nginx).
    pub zone: Option<Setting<String>>,
    /// Resolver configured for this pool, if any.
    pub resolver: Option<Setting<Vec<String>>>,
    /// True when active health checks are configured.
    pub health_check: Setting<bool>,
    /// HTTP or TCP.
    pub mode: Setting<Mode>,
    /// HAProxy `http-reuse` (`None` for the proxies that have no such
    /// setting).
    pub http_reuse: Option<Setting<HttpReuse>>,
    /// HAProxy `option redispatch` (`no option redispatch` = explicitly
    /// off; off by default); `None` for the proxies that have no such
    /// setting.
    pub redispatch: Option<Setting<bool>>,
    /// HAProxy: what the health checks send ([`CheckProbe`]); `None` for
    /// the proxies that have no such setting.
    pub check_probe: Option<Setting<CheckProbe>>,
}

impl Upstream {
    /// Servers that are neither `backup` nor `down`.
    pub fn primary(&self) -> impl Iterator<Item = &Endpoint> {
        self.servers.iter().filter(|s| !s.backup && !s.down)
    }
}

/// One upstream server.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// The server's name where the proxy gives it one (HAProxy `server
    /// NAME addr`: the name its logs carry); `None` for nginx and Envoy.
    pub name: Option<String>,
    /// The address as written (`10.0.0.5:8080`, `app.internal`, `unix:/s`).
    pub address: String,
    /// The host part, classified.
    pub host: Host,
    /// The port when written.
    pub port: Option<u16>,
    /// The `server` line.
    pub span: Span,
    /// Marked `backup`.
    pub backup: bool,
    /// Marked `down`.
    pub down: bool,
    /// Re-resolved at run time (`resolve`, HAProxy `resolvers`, Envoy DNS
    /// cluster type).
    pub resolve: bool,
    /// Failures before the server is considered unavailable (nginx
    /// `max_fails`, 0 = accounting off).
    pub max_fails: Setting<u32>,
    /// Window for `max_fails` and how long the server is then skipped.
    pub fail_timeout: Setting<Duration>,
    /// Other parameters as written.
    pub params: Vec<Arg>,
}

/// A value that does not parse or a directive in the wrong place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// The offending argument or directive.
    pub span: Span,
    /// Directive name.
    pub directive: String,
    /// What is wrong, for the message (`"30sec" is not a time`).
    pub problem: String,
    /// How to fix it.
    pub help: String,
}

/// nginx `stream {}` (ngx_stream_core_module): TCP/UDP proxying.
#[derive(Debug, Clone)]
pub struct Stream {
    /// The `stream {` header.
    pub span: Span,
    /// Effective directives at `stream` level (servers inherit them).
    pub directives: Directives,
    /// The `server`s of `stream`, in source order.
    pub servers: Vec<StreamServer>,
    /// The `upstream`s of `stream` (mode [`Mode::Tcp`]): the only pools a
    /// stream `proxy_pass` can name.
    pub upstreams: Vec<Upstream>,
}

impl Stream {
    /// The stream pool called `name`, if defined.
    pub fn upstream(&self, name: &str) -> Option<&Upstream> {
        self.upstreams.iter().find(|u| u.name == name)
    }

    /// The pool a stream server sends to, when its `proxy_pass` names one.
    pub fn target_pool(&self, s: &StreamServer) -> Option<&Upstream> {
        match &s.proxy.as_ref()?.target {
            Target::Pool(name) => self.upstream(name),
            _ => None,
        }
    }
}

/// One `server` of `stream {}`, with the settings of
/// ngx_stream_proxy_module in effect (its own names and defaults: there is
/// no `proxy_read_timeout` here, `proxy_timeout` is the idle timeout).
#[derive(Debug, Clone)]
pub struct StreamServer {
    /// The `server {` header.
    pub span: Span,
    /// Effective directives (inherited from `stream`).
    pub directives: Directives,
    /// Its `listen` addresses (a stream server has no default one).
    pub listen: Vec<Listen>,
    /// `proxy_pass` (an address or an upstream name, no scheme), if any.
    pub proxy: Option<ProxyPass>,
    /// `proxy_connect_timeout` (default 60s). `None` value = infinite.
    pub connect_timeout: Setting<Option<Duration>>,
    /// `proxy_timeout`: the longest pause between two successive reads or
    /// writes, either way, before the connection is closed (default 10m).
    pub timeout: Setting<Option<Duration>>,
    /// `proxy_next_upstream` (a flag here, default `on`): a failed connect
    /// is tried on the next server.
    pub next_upstream: Setting<bool>,
    /// `proxy_next_upstream_tries` (default 0 = no limit).
    pub tries: Setting<u32>,
    /// `proxy_next_upstream_timeout` (default 0 = no limit → `None`).
    pub retry_timeout: Setting<Option<Duration>>,
}

impl StreamServer {
    /// `stream server <first listen>` (or `stream server` without one), for
    /// messages.
    pub fn label(&self) -> String {
        match self.listen.first() {
            Some(l) => format!("stream server {}", l.text),
            None => "stream server".into(),
        }
    }
}
