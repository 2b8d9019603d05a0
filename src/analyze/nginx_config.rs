//! `--config`: what an nginx config tells the analysis — a thin adapter over
//! the model lint builds.
//!
//! Each config is parsed once, by `config::nginx` (lexer, parser, includes
//! looked up inside the dump, lowering with nginx's inheritance and
//! defaults), into the same [`ProxyModel`] lint reads. From it this module
//! takes the access-log formats (`log_format` and the `access_log` lines
//! that name them, so each file of a dump is parsed with the format that
//! wrote it) and, per failing request, the `server`/`location` that served
//! it ([`route_key`](NginxConfig::route_key), by `config::nginx::select`);
//! `attribute::nginx` cites the settings in effect there. Knows nothing of
//! reports.

use std::path::{Path, PathBuf};

use super::cause::Keepalive;
use crate::config::model::{Host, ProxyModel, Target};
use crate::config::nginx::select::{Doubt, Router};
use crate::config::{ConfigError, LoadOptions};
use crate::logs::nginx::{Escape, LogFormat};
use crate::source::{SourceMap, Span};

/// One `access_log` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessLog {
    /// The path it writes.
    pub path: String,
    /// The format's name.
    pub format: String,
    /// `file:line`.
    pub at: String,
}

/// What the configs given with `--config` say.
#[derive(Debug, Default)]
pub struct NginxConfig {
    /// Every `log_format`, compiled (plus nginx's predefined `combined`).
    pub formats: Vec<LogFormat>,
    /// Every `access_log`.
    pub access_logs: Vec<AccessLog>,
    /// Problems met (unreadable file, syntax error, bad log_format).
    pub problems: Vec<(String, String)>,
    /// Included files that are not in the dump (`path (file:line)`).
    pub missing_includes: Vec<String>,
    /// Files read.
    pub files: Vec<String>,
    /// The files' text, for file:line.
    pub(crate) sources: SourceMap,
    /// One model per entry config.
    pub(crate) models: Vec<ProxyModel>,
    /// `models[i]`'s servers and locations, compiled for matching.
    pub(crate) routers: Vec<Router>,
}

/// The nginx config files behind `paths`: a file is an entry; a directory
/// holds `nginx.conf` somewhere below it (else every `*.conf` is an entry).
fn entries(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for p in paths {
        if !p.is_dir() {
            out.push(p.clone());
            continue;
        }
        let mut confs = Vec::new();
        walk(p, &mut confs);
        confs.sort();
        match confs
            .iter()
            .find(|c| c.file_name().is_some_and(|n| n == "nginx.conf"))
        {
            Some(main) => out.push(main.clone()),
            None => out.extend(
                confs
                    .into_iter()
                    .filter(|c| c.extension().is_some_and(|e| e == "conf")),
            ),
        }
    }
    out
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn at(sources: &SourceMap, span: Span) -> String {
    let (line, _) = sources.line_col(span);
    format!("{}:{}", sources.path(span.file).display(), line)
}

/// Read the configs at `paths` (files or directories): each entry parsed
/// once into the model lint reads.
pub fn read(paths: &[PathBuf]) -> NginxConfig {
    let mut cfg = NginxConfig::default();
    if let Ok(f) = LogFormat::compile("combined", crate::logs::nginx::COMBINED, Escape::Default) {
        cfg.formats.push(f);
    }
    let opts = LoadOptions::default();
    let mut models: Vec<ProxyModel> = Vec::new();
    for entry in entries(paths) {
        let text = match std::fs::read(&entry) {
            Ok(t) => t,
            Err(e) => {
                cfg.problems
                    .push((entry.display().to_string(), format!("cannot read: {e}")));
                continue;
            }
        };
        let id = cfg.sources.add(entry.clone(), text);
        let parsed = crate::config::nginx::parse_from_dump(&mut cfg.sources, id, &opts);
        for e in &parsed.errors {
            let where_ = e
                .span()
                .map(|s| at(&cfg.sources, s))
                .unwrap_or_else(|| entry.display().to_string());
            match e {
                // an include a dump did not copy (mime.types, say): noted, not a problem
                ConfigError::Io {
                    path, at: Some(_), ..
                } => cfg
                    .missing_includes
                    .push(format!("{} ({where_})", path.display())),
                _ => cfg.problems.push((
                    where_,
                    crate::report::config_error::message(e, &cfg.sources),
                )),
            }
        }
        models.extend(parsed.model);
    }
    // an entry another entry includes (every *.conf of a directory without
    // nginx.conf) is read as part of the one including it, not twice
    let canon = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let included: std::collections::HashSet<PathBuf> = models
        .iter()
        .flat_map(|m| m.files.iter().skip(1))
        .map(|f| canon(cfg.sources.path(*f)))
        .collect();
    models.retain(|m| !included.contains(&canon(cfg.sources.path(m.file))));
    for m in &models {
        for f in &m.files {
            cfg.files.push(cfg.sources.path(*f).display().to_string());
        }
        for d in &m.written {
            match d.name.as_str() {
                "log_format" => log_format(d, &mut cfg),
                "access_log" if d.arg(0).is_some_and(|a| a != "off") => {
                    let a = AccessLog {
                        path: d.arg(0).unwrap_or_default().to_string(),
                        format: d
                            .arg(1)
                            .filter(|f| !f.contains('='))
                            .unwrap_or("combined")
                            .to_string(),
                        at: at(&cfg.sources, d.span),
                    };
                    cfg.access_logs.push(a);
                }
                _ => {}
            }
        }
    }
    cfg.routers = models
        .iter()
        .map(|m| Router::new(m, &cfg.sources))
        .collect();
    cfg.models = models;
    cfg
}

fn log_format(d: &crate::config::model::Directive, cfg: &mut NginxConfig) {
    let Some(name) = d.arg(0) else { return };
    let mut rest = &d.args[1..];
    let mut escape = Escape::Default;
    if let Some(e) = rest.first().and_then(|a| a.value.strip_prefix("escape=")) {
        escape = match e {
            "json" => Escape::Json,
            "none" => Escape::None,
            _ => Escape::Default,
        };
        rest = &rest[1..];
    }
    let text: String = rest.iter().map(|a| a.value.as_str()).collect();
    match LogFormat::compile(name, &text, escape) {
        Ok(f) => {
            cfg.formats.retain(|g| g.name != f.name);
            cfg.formats.push(f);
        }
        Err(e) => cfg.problems.push((at(&cfg.sources, d.span), e.to_string())),
    }
}

/// Is this file, found among the logs of a dump, an nginx config? Only by
/// name (`*.conf`, `nginx.conf*`): guessing from content would take scripts
/// and notes for configs.
pub fn is_config_name(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    path.extension().is_some_and(|e| e == "conf") || name.starts_with("nginx.conf")
}

/// `access.log.2.gz` → `access.log`: the name nginx wrote before rotation.
fn base_name(name: &str) -> &str {
    let mut s = name;
    for ext in [".gz", ".zst", ".bz2", ".xz"] {
        if let Some(t) = s.strip_suffix(ext) {
            s = t;
        }
    }
    if let Some((head, tail)) = s.rsplit_once('.') {
        if !tail.is_empty() && tail.chars().all(|c| c.is_ascii_digit()) {
            s = head;
        }
    }
    if let Some((head, tail)) = s.rsplit_once('-') {
        // logrotate dateext: access.log-20261120
        if tail.len() == 8 && tail.chars().all(|c| c.is_ascii_digit()) {
            s = head;
        }
    }
    s
}

/// Can `logged` (`$upstream_addr`, an IP and port) be an address of
/// `written` (`name[:port]` in a `proxy_pass` or a `server` line) when
/// `written` is a DNS name? nginx logs the address the name resolved to, so
/// only the port can be compared (`default_port` when none is written: the
/// scheme's for `proxy_pass`, 80 for a `server`). False when `written` is not
/// a name.
fn by_name(written: &str, default_port: Option<u16>, logged: &str) -> bool {
    // a name has no `:` but the one before its port (IPv6 literals and
    // `unix:` paths are not names, and fail here or below)
    let (host, port) = match written.split_once(':') {
        Some((h, p)) => match p.parse::<u16>() {
            Ok(p) => (h, p),
            Err(_) => return false,
        },
        None => (written, default_port.unwrap_or(80)),
    };
    if host.is_empty() || !matches!(Host::classify(host), Host::Name(_)) {
        return false;
    }
    logged
        .rsplit_once(':')
        .and_then(|(_, p)| p.parse::<u16>().ok())
        .is_some_and(|p| p == port)
}

impl NginxConfig {
    /// The format for a dump file, by matching its name against the
    /// `access_log` paths (a dump copied off a server keeps the names, not
    /// the directories): the format's name and why.
    pub fn format_for(&self, file: &Path) -> Option<(&str, String)> {
        let name = file.file_name()?.to_string_lossy();
        let base = base_name(&name);
        self.access_logs.iter().find_map(|a| {
            let target = Path::new(&a.path).file_name()?.to_string_lossy();
            (target == base).then(|| {
                (
                    a.format.as_str(),
                    format!("{}: access_log {} {}", a.at, a.path, a.format),
                )
            })
        })
    }

    /// `file:line` of `span`.
    pub(crate) fn at(&self, span: Span) -> String {
        at(&self.sources, span)
    }

    /// The file of `span`, as named.
    pub(crate) fn file_name(&self, span: Span) -> String {
        self.sources.path(span.file).display().to_string()
    }

    /// 1-based line of `span`.
    pub(crate) fn line(&self, span: Span) -> u32 {
        self.sources.line_col(span).0
    }

    /// The config text of `span` (a `location` header, say).
    pub(crate) fn text(&self, span: Span) -> String {
        let t = &self.sources.get(span.file).text;
        String::from_utf8_lossy(t.get(span.start as usize..span.end as usize).unwrap_or(&[]))
            .into_owned()
    }

    /// True when no config was parsed into a model.
    pub fn is_empty(&self) -> bool {
        self.models.is_empty()
    }

    /// Does the `upstream` block holding `addr` keep idle connections
    /// (`keepalive N`)? [`Keepalive::Unknown`] when no block holds it, or
    /// when several do and they disagree (the access log does not say which
    /// block a request went through).
    ///
    /// Only a `keepalive` the config writes counts: nginx turned upstream
    /// keep-alive on by default in 1.29.7 (the directive table's `keepalive` default),
    /// and a dump does not say which nginx ran, while the releases in the
    /// distributions (Debian 12: 1.22.1) keep it off.
    pub fn keepalive_of(&self, addr: &str) -> Keepalive {
        let mut found = self.models.iter().flat_map(|m| {
            m.upstreams
                .iter()
                .filter(|u| u.name != addr && u.servers.iter().any(|e| e.address == addr))
        });
        let of = |u: &crate::config::model::Upstream| match u.directives.get("keepalive") {
            Some(d) => Keepalive::On {
                group: u.name.clone(),
                directive: format!("keepalive {} ({})", d.args_text(), self.at(d.span)),
            },
            None => Keepalive::Off {
                group: u.name.clone(),
            },
        };
        let Some(first) = found.next().map(of) else {
            return Keepalive::Unknown;
        };
        let same_kind = |k: &Keepalive| std::mem::discriminant(k) == std::mem::discriminant(&first);
        let rest: Vec<Keepalive> = found.map(of).collect();
        if rest.iter().all(same_kind) {
            return first;
        }
        let name = |k: &Keepalive| match k {
            Keepalive::On { group, directive } => format!("{group} ({directive})"),
            Keepalive::Off { group } => format!("{group} (no keepalive)"),
            _ => String::new(),
        };
        Keepalive::Mixed {
            groups: std::iter::once(&first)
                .chain(&rest)
                .map(name)
                .collect::<Vec<_>>()
                .join(", "),
        }
    }

    /// Does the location `(m, s, r)` send to `addr` (an upstream group's
    /// name, one of its servers, or the literal address of its
    /// `proxy_pass`)? A variable `proxy_pass` may send anywhere.
    pub(crate) fn sends_to(&self, m: usize, s: usize, r: usize, addr: &str) -> bool {
        let model = &self.models[m];
        let route = &model.servers[s].routes[r];
        let Some(p) = &route.proxy else { return false };
        match &p.target {
            Target::Pool(name) => {
                name == addr
                    || model.upstream(name).is_some_and(|u| {
                        u.servers
                            .iter()
                            .any(|e| e.address == addr || by_name(&e.address, None, addr))
                    })
            }
            Target::Dynamic => true,
            Target::Address(_) | Target::Unknown(_) => {
                let hp = match p.port {
                    Some(port) => format!("{}:{port}", p.host),
                    None => p.host.clone(),
                };
                let default_port = if p.scheme.as_deref() == Some("https") {
                    443
                } else {
                    80
                };
                hp == addr
                    || (p.port.is_none() && addr == format!("{}:{default_port}", p.host))
                    || by_name(&hp, Some(default_port), addr)
            }
        }
    }

    /// The scopes (`model.server.location`, `-` for no location) that may
    /// have served a request to `host` for `path` whose failed attempt went
    /// to `addr`, with what the log could not tell: a key for
    /// `CauseStat::routes`, read back by `attribute::nginx`.
    ///
    /// A request that reached an upstream was served by a location that
    /// proxies, and one that names an address by a location sending there:
    /// scopes that could not have are dropped, unless none is left (then
    /// the key says the config does not match the log).
    pub fn route_key(&self, host: Option<&str>, path: Option<&str>, addr: Option<&str>) -> String {
        let Some(path) = path else {
            return NO_PATH.into();
        };
        let mut scopes: Vec<(usize, usize, Option<usize>)> = Vec::new();
        let mut doubts: Vec<String> = Vec::new();
        for (m, router) in self.routers.iter().enumerate() {
            let sel = router.select(host, path);
            scopes.extend(sel.scopes.iter().map(|&(s, r)| (m, s, r)));
            for d in sel.doubts {
                let code = match d {
                    Doubt::NoHost => "h".to_string(),
                    Doubt::Regex { span } => {
                        format!("x{}:{}:{}", span.file.0, span.start, span.end)
                    }
                    Doubt::If { span } => format!("i{}:{}:{}", span.file.0, span.start, span.end),
                };
                if !doubts.contains(&code) {
                    doubts.push(code);
                }
            }
        }
        if let Some(addr) = addr {
            let proxying: Vec<_> = scopes
                .iter()
                .copied()
                .filter(|&(m, s, r)| {
                    r.is_some_and(|r| self.models[m].servers[s].routes[r].proxy.is_some())
                })
                .collect();
            // a location whose content handler is another module's `*_pass`
            // (uwsgi, scgi, grpc, fastcgi, memcached) reached an upstream
            // too, through that module's own settings: said, never cited
            // as proxy_pass's
            let other: Vec<Span> = scopes
                .iter()
                .filter_map(|&(m, s, r)| {
                    let route = &self.models[m].servers[s].routes[r?];
                    if route.proxy.is_some() {
                        return None;
                    }
                    OTHER_PASS
                        .iter()
                        .find_map(|name| route.directives.get(name))
                        .map(|d| d.span)
                })
                .collect();
            if proxying.is_empty() && !other.is_empty() {
                for span in other {
                    let code = format!("o{}:{}:{}", span.file.0, span.start, span.end);
                    if !doubts.contains(&code) {
                        doubts.push(code);
                    }
                }
                scopes.clear();
            } else if proxying.is_empty() {
                doubts.push("n".into());
            } else {
                let sending: Vec<_> = proxying
                    .iter()
                    .copied()
                    .filter(|&(m, s, r)| r.is_some_and(|r| self.sends_to(m, s, r, addr)))
                    .collect();
                scopes = if sending.is_empty() {
                    proxying
                } else {
                    sending
                };
            }
        }
        // without a host, only a doubt while servers remain to choose from
        let mut servers: Vec<(usize, usize)> = scopes.iter().map(|&(m, s, _)| (m, s)).collect();
        servers.sort_unstable();
        servers.dedup();
        if servers.len() < 2 {
            doubts.retain(|d| d != "h");
        }
        let mut key: Vec<String> = scopes
            .iter()
            .map(|(m, s, r)| match r {
                Some(r) => format!("{m}.{s}.{r}"),
                None => format!("{m}.{s}.-"),
            })
            .collect();
        key.sort();
        key.dedup();
        let mut out = key.join(";");
        for d in doubts {
            out.push('|');
            out.push_str(&d);
        }
        out
    }
}

impl NginxConfig {
    /// `` `return 502` (nginx.conf:20) `` when every location of a
    /// [`route_key`](Self::route_key) (no doubt about which) answers with
    /// `status` by a `return` of its own or of its server: the config made
    /// that status. `None` when any of them could have done otherwise.
    pub(crate) fn returned(&self, key: &str, status: u16) -> Option<String> {
        let (list, doubts) = key.split_once('|').unwrap_or((key, ""));
        if list.is_empty() || key == NO_PATH || !doubts.is_empty() {
            return None;
        }
        let mut found: Option<String> = None;
        for t in list.split(';') {
            let mut it = t.split('.');
            let m: usize = it.next()?.parse().ok()?;
            let s: usize = it.next()?.parse().ok()?;
            let srv = self.models.get(m)?.servers.get(s)?;
            let d = match it.next()?.parse::<usize>() {
                Ok(r) => &srv.routes.get(r)?.directives,
                Err(_) => &srv.directives,
            };
            let ret = d
                .all("return")
                .iter()
                .find(|x| x.arg(0).and_then(|a| a.parse::<u16>().ok()) == Some(status))?;
            found.get_or_insert_with(|| {
                format!("`return {}` ({})", ret.args_text(), self.at(ret.span))
            });
        }
        found
    }
}

/// The content handlers other than `proxy_pass` that send a request to an
/// upstream (nginx's ngx_http_{uwsgi,scgi,grpc,fastcgi,memcached}_module):
/// their timeouts and retries are their own `uwsgi_*`, `grpc_*`… settings.
const OTHER_PASS: &[&str] = &[
    "uwsgi_pass",
    "scgi_pass",
    "grpc_pass",
    "fastcgi_pass",
    "memcached_pass",
];

/// [`NginxConfig::route_key`] when the log has no request path.
pub const NO_PATH: &str = "!path";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotated_names() {
        assert_eq!(base_name("access.log.2.gz"), "access.log");
        assert_eq!(base_name("shop.access.log"), "shop.access.log");
        assert_eq!(base_name("access.log-20261120.gz"), "access.log");
        assert_eq!(base_name("access.log.1"), "access.log");
    }

    #[test]
    fn reads_formats_and_directives() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("nginx.conf"),
            "http {\n  log_format up escape=json '$remote_addr [$time_local] '\n    '\"$request\" $status us=$upstream_status';\n  include conf.d/*.conf;\n}\n",
        )
        .unwrap();
        std::fs::create_dir(dir.path().join("conf.d")).unwrap();
        std::fs::write(
            dir.path().join("conf.d/shop.conf"),
            "upstream app { server 10.0.0.7:8080 max_fails=2; }\nserver {\n  server_name shop;\n  access_log /var/log/nginx/shop.log up;\n  location / { proxy_pass http://app; proxy_read_timeout 30s; }\n}\n",
        )
        .unwrap();
        let cfg = read(&[dir.path().to_path_buf()]);
        assert!(cfg.problems.is_empty(), "{:?}", cfg.problems);
        let f = cfg.formats.iter().find(|f| f.name == "up").unwrap();
        assert_eq!(f.escape, Escape::Json);
        assert!(f.has_upstream_status());
        let (fmt, why) = cfg.format_for(Path::new("/dump/shop.log.1.gz")).unwrap();
        assert_eq!(fmt, "up");
        assert!(why.contains("shop.conf:4"), "{why}");
        // the location of the request is found in the one parsed model
        let key = cfg.route_key(Some("shop"), Some("/x"), Some("10.0.0.7:8080"));
        assert_eq!(key, "0.0.0");
        assert_eq!(cfg.files.len(), 2, "{:?}", cfg.files);
    }

    #[test]
    fn a_location_passing_by_another_module_is_said_not_taken_for_a_mismatch() {
        let dir = tempfile::tempdir().unwrap();
        let text = "http {\n  server {\n    location /py { uwsgi_pass 127.0.0.1:9000; }\n    location /rpc { grpc_pass grpc://127.0.0.1:9001; }\n    location / { proxy_pass http://127.0.0.1:9002; }\n  }\n}\n";
        std::fs::write(dir.path().join("nginx.conf"), text).unwrap();
        let cfg = read(&[dir.path().to_path_buf()]);
        assert!(cfg.problems.is_empty(), "{:?}", cfg.problems);
        for (path, addr, directive) in [
            ("/py/x", "127.0.0.1:9000", "uwsgi_pass"),
            ("/rpc.Svc/Get", "127.0.0.1:9001", "grpc_pass"),
        ] {
            let key = cfg.route_key(None, Some(path), Some(addr));
            // no scope (no proxy_* setting applies), one `o` doubt at the
            // directive, and not the "config does not match" doubt
            let (scopes, doubts) = key.split_once('|').expect(&key);
            assert_eq!(scopes, "", "{key}");
            let code = doubts.strip_prefix('o').expect(&key);
            let mut it = code.split(':').map(|x| x.parse::<u32>().unwrap());
            let span = Span {
                file: crate::source::FileId(it.next().unwrap()),
                start: it.next().unwrap(),
                end: it.next().unwrap(),
            };
            assert!(cfg.text(span).starts_with(directive), "{key}");
        }
        // proxy_pass is read as before
        assert_eq!(
            cfg.route_key(None, Some("/x"), Some("127.0.0.1:9002")),
            "0.0.2"
        );
    }

    #[test]
    fn a_location_that_returns_the_status_made_it() {
        let dir = tempfile::tempdir().unwrap();
        let text = "http {\n  server {\n    location /maint { return 503; }\n    location /gone { return 502 \"bye\"; }\n    location / { proxy_pass http://127.0.0.1:9002; }\n  }\n}\n";
        std::fs::write(dir.path().join("nginx.conf"), text).unwrap();
        let cfg = read(&[dir.path().to_path_buf()]);
        let key = |p: &str| cfg.route_key(None, Some(p), None);
        let at = cfg.returned(&key("/maint/x"), 503).expect("return 503");
        assert!(
            at.starts_with("`return 503` (") && at.ends_with("nginx.conf:3)"),
            "{at}"
        );
        assert!(cfg.returned(&key("/gone"), 502).is_some());
        // another status, a proxying location, no path: not the config's
        assert_eq!(cfg.returned(&key("/maint/x"), 502), None);
        assert_eq!(cfg.returned(&key("/app"), 502), None);
        assert_eq!(cfg.returned(NO_PATH, 502), None);
    }

    #[test]
    fn a_name_matches_the_addresses_it_resolved_to_by_port() {
        assert!(by_name("localhost:8080", Some(80), "127.0.0.1:8080"));
        assert!(by_name("api.internal", Some(443), "[2001:db8::1]:443"));
        assert!(!by_name("api.internal", Some(443), "10.0.0.1:80"));
        // addresses and sockets are compared as written, not here
        assert!(!by_name("10.0.0.1:8080", Some(80), "10.0.0.2:8080"));
        assert!(!by_name("[::1]:8080", Some(80), "[::1]:8080"));
        assert!(!by_name(
            "unix:/run/app.sock",
            Some(80),
            "unix:/run/app.sock"
        ));
        assert!(!by_name("api:http", Some(80), "10.0.0.1:80"));
        // a location proxying to a name serves requests logged with its address
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("nginx.conf"),
            "http {\n  server {\n    location /a/ { proxy_pass http://localhost:9000; }\n    location /b/ { proxy_pass http://10.0.0.9:9000; }\n  }\n}\n",
        )
        .unwrap();
        let cfg = read(&[dir.path().to_path_buf()]);
        assert_eq!(
            cfg.route_key(None, Some("/a/x"), Some("127.0.0.1:9000")),
            "0.0.0"
        );
    }

    #[test]
    fn keepalive_of_an_address() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("nginx.conf"),
            "http {\n  upstream api { server 10.0.0.1:80; keepalive 32; }\n  upstream web { server 10.0.0.2:80; }\n  upstream both { server 10.0.0.2:80; server 10.0.0.3:80; keepalive 8; }\n}\n",
        )
        .unwrap();
        let cfg = read(&[dir.path().to_path_buf()]);
        match cfg.keepalive_of("10.0.0.1:80") {
            Keepalive::On { group, directive } => {
                assert_eq!(group, "api");
                assert!(
                    directive.starts_with("keepalive 32 (") && directive.ends_with("nginx.conf:2)"),
                    "{directive}"
                );
            }
            other => panic!("{other:?}"),
        }
        match cfg.keepalive_of("10.0.0.3:80") {
            Keepalive::On { group, directive } => {
                assert_eq!(group, "both");
                assert!(directive.starts_with("keepalive 8 ("), "{directive}");
                assert!(directive.ends_with("nginx.conf:4)"), "{directive}");
            }
            other => panic!("{other:?}"),
        }
        // in two blocks that disagree: undecided, and said so
        match cfg.keepalive_of("10.0.0.2:80") {
            Keepalive::Mixed { groups } => {
                assert!(
                    groups.contains("web (no keepalive)") && groups.contains("both (keepalive 8"),
                    "{groups}"
                )
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(cfg.keepalive_of("10.9.9.9:80"), Keepalive::Unknown);
    }
}
