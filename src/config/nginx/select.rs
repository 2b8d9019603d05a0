//! Which `server` and `location` of an nginx [`ProxyModel`] serve a request:
//! the scope whose settings were in effect for it.
//!
//! The rules are nginx's own, read from its documentation and source:
//!
//! - **server** (docs "How nginx processes a request", "Server names";
//!   `ngx_http_find_virtual_server()`): the connection's `listen` socket
//!   first, then among the servers on that socket the `Host` by exact name,
//!   then the longest wildcard starting with `*` (or `.example.com`), then
//!   the longest wildcard ending with `*`, then the first regular expression
//!   in config order; no match → the socket's `default_server`, else the
//!   first server listening on it. An access log rarely has the socket, so
//!   every socket is tried and the union kept.
//! - **location** (docs `location`; `ngx_http_core_find_location()` in
//!   `src/http/ngx_http_core_module.c`): an `=` location equal to the URI
//!   ends the search; else the longest matching prefix is remembered and its
//!   nested locations are searched the same way; then, unless that prefix
//!   was `^~`, the regular expressions of the level are tried in config
//!   order and the first match wins (its nested locations searched in
//!   turn); else the remembered prefix serves. Matching is against the
//!   normalized URI: without the query, `%XX` decoded, `//` merged.
//!
//! Where the log cannot tell (no host and several servers, a regular
//! expression this reader cannot evaluate), every scope that could have
//! served the request is returned with the [`Doubt`] that made it several:
//! never one of them as a guess.
//!
//! Imports `config::model` and `source` only.

use regex::Regex;

use crate::config::model::{ProxyModel, RouteMatch};
use crate::source::{SourceMap, Span};

/// Why a [`Selection`] holds more than one scope, or holds one with a
/// caveat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Doubt {
    /// The log has no host: every server that could have served the path is
    /// kept.
    NoHost,
    /// A location's regular expression uses syntax this reader cannot run
    /// (PCRE-only: look-around, back-references): it may or may not match.
    Regex {
        /// The `location` header.
        span: Span,
    },
    /// The location serving the request holds an `if` block, whose settings
    /// apply only when its condition held (the log does not say).
    If {
        /// The `if` header.
        span: Span,
    },
}

/// The scopes that may have served one request: (server index, location
/// index in that server's `routes`, `None` when no location matched).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// Every candidate, in config order, without repeats.
    pub scopes: Vec<(usize, Option<usize>)>,
    /// What made the answer several (or uncertain).
    pub doubts: Vec<Doubt>,
}

enum Name {
    Exact(String),
    /// `*.example.com` / `.example.com`: the suffix with its dot
    /// (`.example.com`); `also` is `example.com` for the `.example.com` form.
    Leading {
        suffix: String,
        also: Option<String>,
    },
    /// `www.example.*`: the prefix with its dot (`www.example.`).
    Trailing(String),
    /// `~re`: `None` when the expression cannot be compiled here.
    Regex(Option<Regex>),
}

struct Loc {
    parent: Option<usize>,
    matcher: Matcher,
}

enum Matcher {
    Exact(String),
    Prefix {
        path: String,
        noregex: bool,
    },
    /// `None` when the expression cannot be compiled here.
    Regex(Option<Regex>, Span),
    /// Named locations and `if` blocks: never selected by the URI.
    Other {
        is_if: bool,
        span: Span,
    },
}

struct Srv {
    names: Vec<Name>,
    /// (socket as written, normalized; `default_server`).
    sockets: Vec<(String, bool)>,
    locs: Vec<Loc>,
    /// The locations directly inside each location (`kids[i]`), and at the
    /// server's top level (`top`), in config order.
    kids: Vec<Vec<usize>>,
    top: Vec<usize>,
}

/// The model's servers and locations, compiled for matching requests (one
/// per model; cheap to query from many threads).
pub struct Router {
    servers: Vec<Srv>,
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Router")
            .field("servers", &self.servers.len())
            .finish()
    }
}

/// `listen` arguments → the socket nginx binds (`80` → `*:80`); no `listen`
/// is `*:80` (docs `listen`: default `*:80 | *:8000`, 80 when run as root).
fn socket(arg: &str) -> String {
    if arg.starts_with("unix:") || arg.starts_with('[') || arg.contains(':') {
        arg.to_string()
    } else if arg.bytes().all(|b| b.is_ascii_digit()) {
        format!("*:{arg}")
    } else {
        format!("{arg}:80")
    }
}

fn compile(re: &str, case_insensitive: bool) -> Option<Regex> {
    let text = if case_insensitive {
        format!("(?i){re}")
    } else {
        re.to_string()
    };
    Regex::new(&text).ok()
}

impl Router {
    /// Compile `model` (whose files are in `sources`).
    pub fn new(model: &ProxyModel, sources: &SourceMap) -> Router {
        // a block's whole extent, by the span of its header
        let extent = |s: Span| {
            model
                .blocks
                .iter()
                .find(|b| b.file == s.file && b.start == s.start)
                .copied()
                .unwrap_or(s)
        };
        let servers = model
            .servers
            .iter()
            .map(|s| {
                let names = s
                    .directives
                    .all("server_name")
                    .iter()
                    .flat_map(|d| d.args.iter())
                    .map(|a| {
                        let n = a.value.to_ascii_lowercase();
                        if let Some(re) = a.value.strip_prefix('~') {
                            // server names are matched case-insensitively
                            Name::Regex(compile(re, true))
                        } else if let Some(rest) = n.strip_prefix("*.") {
                            Name::Leading {
                                suffix: format!(".{rest}"),
                                also: None,
                            }
                        } else if let Some(rest) = n.strip_prefix('.') {
                            Name::Leading {
                                suffix: n.clone(),
                                also: Some(rest.to_string()),
                            }
                        } else if let Some(rest) = n.strip_suffix(".*") {
                            Name::Trailing(format!("{rest}."))
                        } else {
                            Name::Exact(n)
                        }
                    })
                    .collect();
                let mut sockets: Vec<(String, bool)> = s
                    .directives
                    .all("listen")
                    .iter()
                    .filter_map(|d| {
                        let addr = d.arg(0)?;
                        let default = d
                            .args
                            .iter()
                            .skip(1)
                            .any(|a| a.value == "default_server" || a.value == "default");
                        Some((socket(addr), default))
                    })
                    .collect();
                if sockets.is_empty() {
                    sockets.push(("*:80".into(), false));
                }
                let extents: Vec<Span> = s.routes.iter().map(|r| extent(r.span)).collect();
                let locs: Vec<Loc> = s
                    .routes
                    .iter()
                    .enumerate()
                    .map(|(i, r)| {
                        let me = extents[i];
                        // the nearest earlier block holding this one: routes are
                        // listed parent first
                        let parent = (0..i).rev().find(|&j| {
                            let p = extents[j];
                            p.file == me.file && p.start < me.start && me.end <= p.end
                        });
                        let header = sources
                            .get(r.span.file)
                            .text
                            .get(r.span.start as usize..r.span.end as usize)
                            .unwrap_or(&[]);
                        let matcher = match &r.matcher {
                            RouteMatch::Exact(p) => Matcher::Exact(p.clone()),
                            RouteMatch::Prefix(p) => Matcher::Prefix {
                                path: p.clone(),
                                // the model keeps `^~` as a plain prefix; the
                                // header says which
                                noregex: header
                                    .split(|b| b.is_ascii_whitespace())
                                    .any(|w| w == b"^~"),
                            },
                            RouteMatch::Regex(re, ci) => Matcher::Regex(compile(re, *ci), r.span),
                            RouteMatch::Other(t) => Matcher::Other {
                                is_if: t.starts_with("if"),
                                span: r.span,
                            },
                            _ => Matcher::Other {
                                is_if: false,
                                span: r.span,
                            },
                        };
                        Loc { parent, matcher }
                    })
                    .collect();
                let mut kids = vec![Vec::new(); locs.len()];
                let mut top = Vec::new();
                for (i, l) in locs.iter().enumerate() {
                    match l.parent {
                        Some(p) => kids[p].push(i),
                        None => top.push(i),
                    }
                }
                Srv {
                    names,
                    sockets,
                    locs,
                    kids,
                    top,
                }
            })
            .collect();
        Router { servers }
    }

    /// The servers that serve `host` (`None`: not logged → all of them).
    fn servers_for(&self, host: Option<&str>) -> Vec<usize> {
        let Some(host) = host else {
            return (0..self.servers.len()).collect();
        };
        let mut h = host.trim().to_ascii_lowercase();
        // `$http_host` may carry the port; `[v6]:port` keeps its brackets
        if let Some(i) = h.rfind(':') {
            if !h[..i].contains(':') || h[..i].ends_with(']') {
                h.truncate(i);
            }
        }
        let h = h.trim_end_matches('.');
        let mut sockets: Vec<&str> = self
            .servers
            .iter()
            .flat_map(|s| s.sockets.iter().map(|(k, _)| k.as_str()))
            .collect();
        sockets.sort_unstable();
        sockets.dedup();
        let mut out = Vec::new();
        for sock in sockets {
            let on: Vec<usize> = (0..self.servers.len())
                .filter(|&i| self.servers[i].sockets.iter().any(|(k, _)| k == sock))
                .collect();
            let pick = name_match(&self.servers, &on, h).or_else(|| {
                on.iter()
                    .copied()
                    .find(|&i| self.servers[i].sockets.iter().any(|(k, d)| k == sock && *d))
                    .or_else(|| on.first().copied())
            });
            if let Some(i) = pick {
                if !out.contains(&i) {
                    out.push(i);
                }
            }
        }
        out.sort_unstable();
        out
    }

    /// The scopes that may have served a request for `uri` (as logged:
    /// `/a/b?x=1`, or absolute-form) with Host `host`.
    pub fn select(&self, host: Option<&str>, uri: &str) -> Selection {
        let uri = normalize(uri);
        let mut sel = Selection::default();
        let servers = self.servers_for(host);
        if host.is_none() && servers.len() > 1 {
            sel.doubts.push(Doubt::NoHost);
        }
        for s in servers {
            let srv = &self.servers[s];
            let mut cur = None;
            let mut alts = Vec::new();
            let rc = find(srv, None, &uri, &mut cur, &mut alts, &mut sel.doubts);
            let chosen = match rc {
                Rc::Declined => None,
                _ => cur,
            };
            for c in std::iter::once(chosen).chain(alts.into_iter().map(Some)) {
                if !sel.scopes.contains(&(s, c)) {
                    sel.scopes.push((s, c));
                }
                if let Some(l) = c {
                    if let Some(span) =
                        srv.kids[l].iter().find_map(|&k| match srv.locs[k].matcher {
                            Matcher::Other { is_if: true, span } => Some(span),
                            _ => None,
                        })
                    {
                        let d = Doubt::If { span };
                        if !sel.doubts.contains(&d) {
                            sel.doubts.push(d);
                        }
                    }
                }
            }
        }
        sel
    }
}

/// Among servers `on` (one socket's), the one whose `server_name` takes
/// `host`, in nginx's order of precedence.
fn name_match(servers: &[Srv], on: &[usize], host: &str) -> Option<usize> {
    let names = || {
        on.iter()
            .flat_map(move |&i| servers[i].names.iter().map(move |n| (i, n)))
    };
    if let Some((i, _)) = names().find(|(_, n)| match n {
        Name::Exact(e) => e == host,
        Name::Leading { also: Some(a), .. } => a == host,
        _ => false,
    }) {
        return Some(i);
    }
    let leading = names()
        .filter_map(|(i, n)| match n {
            Name::Leading { suffix, .. } if host.ends_with(suffix.as_str()) => {
                Some((suffix.len(), i))
            }
            _ => None,
        })
        .max_by_key(|(len, i)| (*len, std::cmp::Reverse(*i)));
    if let Some((_, i)) = leading {
        return Some(i);
    }
    let trailing = names()
        .filter_map(|(i, n)| match n {
            Name::Trailing(prefix) if host.starts_with(prefix.as_str()) => Some((prefix.len(), i)),
            _ => None,
        })
        .max_by_key(|(len, i)| (*len, std::cmp::Reverse(*i)));
    if let Some((_, i)) = trailing {
        return Some(i);
    }
    names()
        .find(|(_, n)| matches!(n, Name::Regex(Some(re)) if re.is_match(host)))
        .map(|(i, _)| i)
}

/// nginx's return codes of `ngx_http_core_find_location()`: `Ok` a final
/// choice, `Again` a prefix match (regexes of outer levels may still win),
/// `Declined` nothing here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rc {
    Ok,
    Again,
    Declined,
}

/// One level of `ngx_http_core_find_location()`: the children of `parent`.
/// `cur` is the location chosen so far (`r->loc_conf`); a regex that cannot
/// be evaluated adds what it would have chosen to `alts`.
fn find(
    srv: &Srv,
    parent: Option<usize>,
    uri: &str,
    cur: &mut Option<usize>,
    alts: &mut Vec<usize>,
    doubts: &mut Vec<Doubt>,
) -> Rc {
    let level = match parent {
        Some(p) => &srv.kids[p],
        None => &srv.top,
    };
    let kids = || level.iter().copied();
    if let Some(i) = kids().find(|&i| matches!(&srv.locs[i].matcher, Matcher::Exact(p) if p == uri))
    {
        *cur = Some(i);
        return Rc::Ok;
    }
    let best = kids()
        .filter_map(|i| match &srv.locs[i].matcher {
            Matcher::Prefix { path, .. } if uri.starts_with(path.as_str()) => Some((path.len(), i)),
            _ => None,
        })
        // the first of equal prefixes (nginx refuses duplicates)
        .max_by_key(|(len, i)| (*len, std::cmp::Reverse(*i)));
    let mut rc = Rc::Declined;
    let mut noregex = false;
    if let Some((_, b)) = best {
        *cur = Some(b);
        noregex = matches!(srv.locs[b].matcher, Matcher::Prefix { noregex: true, .. });
        match find(srv, Some(b), uri, cur, alts, doubts) {
            Rc::Ok => return Rc::Ok,
            Rc::Again => {}
            Rc::Declined => *cur = Some(b),
        }
        rc = Rc::Again;
    }
    if noregex {
        return rc;
    }
    for i in kids() {
        let Matcher::Regex(re, span) = &srv.locs[i].matcher else {
            continue;
        };
        match re {
            Some(re) if re.is_match(uri) => {
                *cur = Some(i);
                let _ = find(srv, Some(i), uri, cur, alts, doubts);
                return Rc::Ok;
            }
            Some(_) => {}
            None => {
                // may match: what it would choose is one more candidate
                let mut alt = Some(i);
                let _ = find(srv, Some(i), uri, &mut alt, alts, doubts);
                if let Some(a) = alt {
                    alts.push(a);
                }
                let d = Doubt::Regex { span: *span };
                if !doubts.contains(&d) {
                    doubts.push(d);
                }
            }
        }
    }
    rc
}

/// The URI nginx matches locations against, from a logged request target:
/// absolute-form reduced to its path, the query dropped, `%XX` decoded,
/// repeated slashes merged (`merge_slashes on`, the default).
pub fn normalize(target: &str) -> String {
    let mut t = target;
    if let Some(i) = t.find("://") {
        let rest = &t[i + 3..];
        t = rest.find('/').map_or("/", |j| &rest[j..]);
    }
    let t = t.split(['?', '#']).next().unwrap_or("");
    let b = t.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        let c = match (b[i], b.get(i + 1).copied(), b.get(i + 2).copied()) {
            (b'%', Some(x), Some(y)) if hex(x).is_some() && hex(y).is_some() => {
                i += 2;
                (hex(x).unwrap_or(0) * 16 + hex(y).unwrap_or(0)) as u8
            }
            (c, ..) => c,
        };
        if !(c == b'/' && out.last() == Some(&b'/')) {
            out.push(c);
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::nginx::parse_str;

    /// (server_name, location header) of each scope chosen.
    fn pick(conf: &str, host: Option<&str>, uri: &str) -> (Vec<String>, Vec<Doubt>) {
        let (sources, p) = parse_str("t.conf", conf.as_bytes());
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        let m = p.model.expect("model");
        let r = Router::new(&m, &sources);
        let sel = r.select(host, uri);
        let names = sel
            .scopes
            .iter()
            .map(|&(s, l)| {
                let srv = &m.servers[s];
                match l {
                    Some(l) => {
                        let sp = srv.routes[l].span;
                        let text = &sources.get(sp.file).text[sp.start as usize..sp.end as usize];
                        format!("{} {}", srv.name, String::from_utf8_lossy(text))
                    }
                    None => format!("{} -", srv.name),
                }
            })
            .collect();
        (names, sel.doubts)
    }

    const LOCS: &str = "http { server { server_name a;
        location / { proxy_pass http://10.0.0.1; }
        location /api/ { proxy_pass http://10.0.0.2;
            location /api/admin/ { proxy_pass http://10.0.0.3; }
            location ~ \\.json$ { proxy_pass http://10.0.0.4; } }
        location ^~ /static/ { root /srv; }
        location ~* \\.(png|jpg)$ { root /img; }
        location = /exact { return 204; }
        location @named { proxy_pass http://10.0.0.9; }
    } }";

    #[test]
    fn locations_follow_nginx_order() {
        let one = |uri: &str| {
            let (v, d) = pick(LOCS, Some("a"), uri);
            assert!(d.is_empty(), "{uri}: {d:?}");
            assert_eq!(v.len(), 1, "{uri}: {v:?}");
            v[0].clone()
        };
        // (uri, the location nginx picks)
        for (uri, want) in [
            ("/", "location /"),
            ("/x", "location /"),
            ("/exact", "location = /exact"),
            ("/exact/", "location /"),
            ("/api/orders?id=1", "location /api/"),
            // a nested prefix inside the longest prefix
            ("/api/admin/users", "location /api/admin/"),
            // a nested regex beats the nested prefix's parent
            ("/api/x.json", "location ~ \\.json$"),
            // outer regexes beat a plain prefix, case-insensitively for ~*
            ("/api/logo.PNG", "location ~* \\.(png|jpg)$"),
            ("/logo.png", "location ~* \\.(png|jpg)$"),
            // ^~ stops the regexes
            ("/static/logo.png", "location ^~ /static/"),
            // decoded and slash-merged before matching
            ("//api%2Fadmin/u", "location /api/admin/"),
            ("http://a/api/", "location /api/"),
        ] {
            assert_eq!(one(uri), format!("a {want}"), "{uri}");
        }
    }

    #[test]
    fn servers_by_host_then_default() {
        let conf = "http {
            server { listen 80; server_name www.example.com; location / { proxy_pass http://10.0.0.1; } }
            server { listen 80 default_server; server_name _; location / { proxy_pass http://10.0.0.2; } }
            server { listen 80; server_name *.example.com; location / { proxy_pass http://10.0.0.3; } }
            server { listen 80; server_name api.*; location / { proxy_pass http://10.0.0.4; } }
            server { listen 80; server_name ~^img\\d+\\.example\\.org$; location / { proxy_pass http://10.0.0.5; } }
            server { listen 8080; server_name other; location / { proxy_pass http://10.0.0.6; } }
        }";
        let names = |host: Option<&str>| {
            pick(conf, host, "/")
                .0
                .into_iter()
                .map(|s| s.split(' ').next().unwrap_or("").to_string())
                .collect::<Vec<_>>()
        };
        // port 80 by name; on 8080 the only server is its default
        assert_eq!(
            names(Some("WWW.example.com:443")),
            ["www.example.com", "other"]
        );
        assert_eq!(names(Some("shop.example.com")), ["*.example.com", "other"]);
        assert_eq!(names(Some("api.example.net")), ["api.*", "other"]);
        assert_eq!(
            names(Some("img12.example.org")),
            ["~^img\\d+\\.example\\.org$", "other"]
        );
        assert_eq!(names(Some("unknown.test")), ["_", "other"]);
        // no host logged: all six, and said so
        let (all, doubts) = pick(conf, None, "/");
        assert_eq!(all.len(), 6);
        assert_eq!(doubts, [Doubt::NoHost]);
    }

    #[test]
    fn what_cannot_be_told_is_said() {
        // look-ahead is PCRE-only: the location may or may not match
        let conf = "http { server { server_name a;
            location / { proxy_pass http://10.0.0.1; }
            location ~ ^/(?!health) { proxy_pass http://10.0.0.2; if ($x) { proxy_read_timeout 5s; } }
        } }";
        let (v, d) = pick(conf, Some("a"), "/orders");
        assert_eq!(v.len(), 2, "{v:?}");
        assert!(matches!(d[0], Doubt::Regex { .. }), "{d:?}");
        assert!(d.iter().any(|x| matches!(x, Doubt::If { .. })), "{d:?}");
        // no location at all: the server's own scope
        let (v, _) = pick(
            "http { server { server_name a; location /x { } } }",
            Some("a"),
            "/y",
        );
        assert_eq!(v, ["a -"]);
    }

    #[test]
    fn uris_are_normalized() {
        assert_eq!(normalize("/a//b?c=%2F"), "/a/b");
        assert_eq!(normalize("/caf%C3%A9"), "/café");
        assert_eq!(normalize("/bad%zz"), "/bad%zz");
        assert_eq!(normalize("https://h.example"), "/");
        assert_eq!(normalize(""), "");
    }
}
