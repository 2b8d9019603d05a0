//! `--config`: what an nginx config tells the analysis.
//!
//! Two things: the access-log formats (`log_format` and the `access_log`
//! lines that name them, so each file of a dump is parsed with the format
//! that wrote it), and the directives that explain a cause (the timeouts, the
//! buffer sizes, the upstream blocks, the resolver, the upstream TLS
//! settings), each with its file:line. Reads the directive tree of
//! `config::nginx` (with includes); knows nothing of reports.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use super::cause::{Cause, Keepalive};
use crate::config::nginx::{include, parser::Node};
use crate::config::ConfigError;
use crate::logs::nginx::{Escape, LogFormat};
use crate::source::{SourceMap, Span};

/// A directive as written, with where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    /// Name.
    pub name: String,
    /// Arguments.
    pub args: Vec<String>,
    /// `file:line`.
    pub at: String,
    /// The enclosing blocks, e.g. `server shop.example.com > location /api/`.
    pub context: String,
}

impl Directive {
    /// `proxy_read_timeout 30s (nginx.conf:23, in server x > location /)`.
    pub fn describe(&self) -> String {
        let ctx = if self.context.is_empty() {
            String::new()
        } else {
            format!(", in {}", self.context)
        };
        format!("{} {} ({}{})", self.name, self.args.join(" "), self.at, ctx)
    }
}

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
    /// Directives that explain causes, in file order.
    pub directives: Vec<Directive>,
    /// `upstream` blocks: name → (`file:line`, its `server` lines).
    pub upstreams: BTreeMap<String, (String, Vec<Directive>)>,
    /// Problems met (unreadable file, syntax error, bad log_format).
    pub problems: Vec<(String, String)>,
    /// Included files that are not in the dump (`path (file:line)`).
    pub missing_includes: Vec<String>,
    /// Files read.
    pub files: Vec<String>,
}

/// Directives worth citing as the explanation of some cause.
const INTEREST: &[&str] = &[
    "proxy_connect_timeout",
    "proxy_read_timeout",
    "proxy_send_timeout",
    "proxy_next_upstream",
    "proxy_next_upstream_tries",
    "proxy_next_upstream_timeout",
    "proxy_buffer_size",
    "proxy_buffers",
    "proxy_busy_buffers_size",
    "proxy_http_version",
    "proxy_ssl_server_name",
    "proxy_ssl_name",
    "proxy_ssl_verify",
    "proxy_ssl_protocols",
    "proxy_ssl_trusted_certificate",
    "resolver",
    "resolver_timeout",
    "keepalive",
    "keepalive_timeout",
    "keepalive_requests",
    "proxy_pass",
    "error_log",
    "limit_req",
    "limit_req_zone",
    "limit_req_status",
    "limit_req_log_level",
    "limit_conn",
    "limit_conn_zone",
    "limit_conn_status",
    "limit_conn_log_level",
];

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

/// Read the configs at `paths` (files or directories).
pub fn read(paths: &[PathBuf]) -> NginxConfig {
    let mut cfg = NginxConfig::default();
    if let Ok(f) = LogFormat::compile("combined", crate::logs::nginx::COMBINED, Escape::Default) {
        cfg.formats.push(f);
    }
    let mut sources = SourceMap::new();
    for entry in entries(paths) {
        let text = match std::fs::read(&entry) {
            Ok(t) => t,
            Err(e) => {
                cfg.problems
                    .push((entry.display().to_string(), format!("cannot read: {e}")));
                continue;
            }
        };
        let id = sources.add(entry.clone(), text);
        let tree = include::load_tree_from_dump(&mut sources, id);
        for e in &tree.errors {
            let where_ = e
                .span()
                .map(|s| at(&sources, s))
                .unwrap_or_else(|| entry.display().to_string());
            match e {
                // an include a dump did not copy (mime.types, say): noted, not a problem
                ConfigError::Io {
                    path, at: Some(_), ..
                } => cfg
                    .missing_includes
                    .push(format!("{} ({where_})", path.display())),
                _ => cfg.problems.push((where_, e.to_string())),
            }
        }
        for f in &tree.files {
            cfg.files.push(sources.path(*f).display().to_string());
        }
        let mut ctx = Vec::new();
        visit(&tree.nodes, &sources, &mut ctx, &mut cfg);
    }
    cfg
}

fn visit(nodes: &[Node], sources: &SourceMap, ctx: &mut Vec<String>, cfg: &mut NginxConfig) {
    for n in nodes {
        let args: Vec<String> = n.args.iter().map(|a| a.value.clone()).collect();
        match n.name.as_str() {
            "log_format" => log_format(n, &args, sources, cfg),
            "access_log" if args.first().is_some_and(|a| a != "off") => {
                cfg.access_logs.push(AccessLog {
                    path: args[0].clone(),
                    format: args.get(1).cloned().unwrap_or_else(|| "combined".into()),
                    at: at(sources, n.span),
                })
            }
            name if INTEREST.contains(&name) => {
                let d = Directive {
                    name: name.to_string(),
                    args,
                    at: at(sources, n.span),
                    context: ctx.join(" > "),
                };
                if name == "server" || ctx.last().is_some_and(|c| c.starts_with("upstream ")) {
                    push_upstream_member(ctx, &d, cfg);
                }
                cfg.directives.push(d);
            }
            "server" if ctx.last().is_some_and(|c| c.starts_with("upstream ")) => {
                let d = Directive {
                    name: "server".into(),
                    args,
                    at: at(sources, n.span),
                    context: ctx.join(" > "),
                };
                push_upstream_member(ctx, &d, cfg);
            }
            _ => {}
        }
        if let Some(b) = &n.block {
            let label = match n.name.as_str() {
                "server" => {
                    let name = server_name(&b.children);
                    format!("server {name}")
                }
                _ if n.args.is_empty() => n.name.clone(),
                _ => format!(
                    "{} {}",
                    n.name,
                    n.args
                        .iter()
                        .map(|a| a.value.as_str())
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
            };
            if n.name == "upstream" {
                if let Some(name) = n.arg(0) {
                    cfg.upstreams
                        .entry(name.to_string())
                        .or_insert_with(|| (at(sources, n.span), Vec::new()));
                }
            }
            ctx.push(label);
            visit(&b.children, sources, ctx, cfg);
            ctx.pop();
        }
    }
}

fn push_upstream_member(ctx: &[String], d: &Directive, cfg: &mut NginxConfig) {
    if let Some(name) = ctx.last().and_then(|c| c.strip_prefix("upstream ")) {
        if let Some((_, members)) = cfg.upstreams.get_mut(name) {
            members.push(d.clone());
        }
    }
}

fn server_name(children: &[Node]) -> String {
    children
        .iter()
        .find(|c| c.name == "server_name")
        .and_then(|c| c.arg(0))
        .unwrap_or("_")
        .to_string()
}

fn log_format(n: &Node, args: &[String], sources: &SourceMap, cfg: &mut NginxConfig) {
    let Some(name) = args.first() else { return };
    let mut rest = &args[1..];
    let mut escape = Escape::Default;
    if let Some(e) = rest.first().and_then(|a| a.strip_prefix("escape=")) {
        escape = match e {
            "json" => Escape::Json,
            "none" => Escape::None,
            _ => Escape::Default,
        };
        rest = &rest[1..];
    }
    let text: String = rest.concat();
    match LogFormat::compile(name, &text, escape) {
        Ok(f) => {
            cfg.formats.retain(|g| g.name != f.name);
            cfg.formats.push(f);
        }
        Err(e) => cfg.problems.push((at(sources, n.span), e.to_string())),
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

    fn all(&self, names: &[&str]) -> Vec<String> {
        self.directives
            .iter()
            .filter(|d| names.contains(&d.name.as_str()) && !d.context.starts_with("upstream"))
            .map(Directive::describe)
            .collect()
    }

    fn upstream_of(&self, addr: &str) -> Option<(&String, &(String, Vec<Directive>))> {
        self.upstreams.iter().find(|(name, (_, servers))| {
            name.as_str() == addr
                || servers
                    .iter()
                    .any(|s| s.name == "server" && s.args.first().is_some_and(|a| a == addr))
        })
    }

    /// Does the `upstream` block holding `addr` keep idle connections
    /// (`keepalive N`)? [`Keepalive::Unknown`] when no block holds it, or
    /// when several do and they disagree (the access log does not say which
    /// block a request went through).
    pub fn keepalive_of(&self, addr: &str) -> Keepalive {
        let mut found = self.upstreams.iter().filter(|(name, (_, servers))| {
            name.as_str() != addr
                && servers
                    .iter()
                    .any(|s| s.name == "server" && s.args.first().is_some_and(|a| a == addr))
        });
        let of = |(name, (_, members)): (&String, &(String, Vec<Directive>))| match members
            .iter()
            .find(|m| m.name == "keepalive")
        {
            Some(d) => Keepalive::On {
                group: name.clone(),
                directive: format!("keepalive {} ({})", d.args.join(" "), d.at),
            },
            None => Keepalive::Off {
                group: name.clone(),
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

    fn describe_upstream(&self, addr: &str) -> Option<String> {
        let (name, (at, members)) = self.upstream_of(addr)?;
        let lines: Vec<String> = members
            .iter()
            .map(|m| format!("{} {}", m.name, m.args.join(" ")))
            .collect();
        Some(format!("upstream {name} ({at}): {}", lines.join("; ")))
    }

    /// The proxy timeouts set to about `ms` (within 1 s), as
    /// `proxy_read_timeout 30s`; nginx's default 60s when none is set and
    /// `ms` is about 60 s. Several distinct ones are joined with ` or `.
    pub fn timeout_at(&self, ms: u64) -> Option<String> {
        let mut found: Vec<String> = Vec::new();
        for d in self
            .directives
            .iter()
            .filter(|d| d.name.ends_with("_timeout") && d.name.starts_with("proxy_"))
        {
            let near = d
                .args
                .first()
                .and_then(|a| parse_duration_ms(a))
                .is_some_and(|v| ms.abs_diff(v) <= 1000);
            let text = format!("{} {}", d.name, d.args.join(" "));
            if near && !found.contains(&text) {
                found.push(text);
            }
        }
        if found.is_empty() && ms.abs_diff(60_000) <= 1000 {
            let set = self.all(&[
                "proxy_read_timeout",
                "proxy_connect_timeout",
                "proxy_send_timeout",
            ]);
            if set.is_empty() {
                return Some("nginx's default 60s proxy timeout".into());
            }
        }
        (!found.is_empty()).then(|| found.join(" or "))
    }

    /// The config lines that bear on `cause`, for the addresses it hit
    /// (`addrs`) and, for timeouts, the most common duration (`mode_ms`).
    pub fn attribute(&self, cause: Cause, addrs: &[String], mode_ms: Option<u64>) -> Vec<String> {
        let mut out = Vec::new();
        let none = |out: &mut Vec<String>, what: &str, default: &str| {
            out.push(format!(
                "{what} is not set in the config: nginx's default {default} applies"
            ));
        };
        match cause {
            Cause::Timeout => {
                let set = self.all(&[
                    "proxy_read_timeout",
                    "proxy_connect_timeout",
                    "proxy_send_timeout",
                ]);
                if set.is_empty() {
                    none(
                        &mut out,
                        "proxy_read_timeout / proxy_connect_timeout / proxy_send_timeout",
                        "60s",
                    );
                }
                if let Some(ms) = mode_ms {
                    let secs = ms as f64 / 1000.0;
                    let matching: Vec<&Directive> = self
                        .directives
                        .iter()
                        .filter(|d| d.name.ends_with("_timeout") && d.name.starts_with("proxy_"))
                        .filter(|d| {
                            d.args
                                .first()
                                .and_then(|a| parse_duration_ms(a))
                                .is_some_and(|v| ms.abs_diff(v) <= 1000)
                        })
                        .collect();
                    match matching.as_slice() {
                        [] if set.is_empty() && ms.abs_diff(60_000) <= 1000 => out.push(format!(
                            "most timed-out attempts lasted {secs:.3}s: nginx's default 60s proxy timeout"
                        )),
                        [] => {}
                        ds => out.extend(ds.iter().map(|d| {
                            format!("most timed-out attempts lasted {secs:.3}s, which is {}", d.describe())
                        })),
                    }
                }
                let cited = out.join("\n");
                out.extend(set.into_iter().filter(|d| !cited.contains(d.as_str())));
            }
            Cause::HeaderTooBig => {
                let set = self.all(&["proxy_buffer_size", "proxy_buffers"]);
                if set.is_empty() {
                    none(
                        &mut out,
                        "proxy_buffer_size",
                        "of one memory page (4k or 8k)",
                    );
                }
                out.extend(set);
            }
            Cause::Dns => {
                let set = self.all(&["resolver", "resolver_timeout"]);
                if set.is_empty() {
                    out.push("no resolver directive in the config: names in variable proxy_pass cannot be resolved at run time".into());
                }
                out.extend(set);
            }
            Cause::Tls => {
                let set = self.all(&[
                    "proxy_ssl_server_name",
                    "proxy_ssl_name",
                    "proxy_ssl_verify",
                    "proxy_ssl_protocols",
                    "proxy_ssl_trusted_certificate",
                ]);
                if set.is_empty() {
                    none(&mut out, "proxy_ssl_server_name", "off (no SNI sent)");
                }
                out.extend(set);
            }
            Cause::KeepaliveRace | Cause::UpstreamClosedEarly | Cause::UpstreamReset => {
                out.extend(addrs.iter().filter_map(|a| self.describe_upstream(a)));
                out.extend(self.all(&["proxy_http_version"]));
            }
            Cause::RateLimited => {
                let set = self.all(&[
                    "limit_req_zone",
                    "limit_req",
                    "limit_req_status",
                    "limit_conn_zone",
                    "limit_conn",
                    "limit_conn_status",
                ]);
                if set.is_empty() {
                    out.push("no limit_req/limit_conn in the config given: the limit is set elsewhere (an include not in the dump?)".into());
                }
                out.extend(set);
            }
            Cause::NoLiveUpstream | Cause::UpstreamRefused => {
                let mut seen = HashMap::new();
                for a in addrs {
                    if let Some(d) = self.describe_upstream(a) {
                        seen.entry(d).or_insert(());
                    }
                }
                let mut v: Vec<String> = seen.into_keys().collect();
                v.sort();
                out.extend(v);
                if cause == Cause::NoLiveUpstream {
                    out.push("nginx skips a server for fail_timeout after max_fails failures (defaults where a server line sets neither: max_fails=1, fail_timeout=10s)".into());
                }
            }
            _ => {}
        }
        out
    }
}

/// nginx time: `60s`, `500ms`, `1m`, `90` (seconds) → ms.
pub fn parse_duration_ms(s: &str) -> Option<u64> {
    let (num, unit) = s
        .find(|c: char| !c.is_ascii_digit())
        .map_or((s, ""), |i| s.split_at(i));
    let n: u64 = num.parse().ok()?;
    let mult = match unit {
        "" | "s" => 1000,
        "ms" => 1,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    };
    Some(n * mult)
}

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
    fn durations() {
        assert_eq!(parse_duration_ms("60s"), Some(60_000));
        assert_eq!(parse_duration_ms("500ms"), Some(500));
        assert_eq!(parse_duration_ms("2m"), Some(120_000));
        assert_eq!(parse_duration_ms("75"), Some(75_000));
        assert_eq!(parse_duration_ms("x"), None);
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
        let t = cfg.attribute(Cause::Timeout, &[], Some(30_001));
        assert!(t.iter().any(|l| l.contains("which is proxy_read_timeout 30s") && l.contains("shop.conf:5")), "{t:?}");
        let r = cfg.attribute(Cause::UpstreamRefused, &["10.0.0.7:8080".into()], None);
        assert!(
            r[0].contains("upstream app") && r[0].contains("max_fails=2"),
            "{r:?}"
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
        assert_eq!(
            cfg.keepalive_of("10.0.0.3:80"),
            Keepalive::On {
                group: "both".into(),
                directive: cfg.upstreams["both"]
                    .1
                    .iter()
                    .find(|d| d.name == "keepalive")
                    .map(|d| format!("keepalive 8 ({})", d.at))
                    .unwrap()
            }
        );
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
