//! What `haproxy -c` refuses in a file that parses: names with characters
//! HAProxy does not permit, port ranges where one port is expected, ports
//! above 65535, proxies or servers named twice, a server without address,
//! unknown `mode`s and `timeout` types, and a last line without its line
//! feed. Each is recorded in the model's
//! `invalid` list (HAP-VAL-001) in HAProxy's own words, with the word it is
//! about.
//!
//! Facts, from HAProxy's source (3.5-dev, the same in 2.6) and checked with
//! the `haproxy -c` 2.6 of Debian 12:
//! - `invalid_char()` (src/tools.c) permits only letters, digits, `.`, `:`,
//!   `_` and `-`; the section parsers of `frontend`, `backend`, `listen`
//!   (cfgparse-listen.c), `resolvers`, `userlist`, `mailers`, `log-forward`,
//!   `http-errors` (cfgparse.c, http_htx.c, log.c), `peers`
//!   (cfgparse-peers.c) and `ring` (sink.c) refuse any other in their name,
//!   and so does `acl` for an ACL's name. A `defaults` name is only checked
//!   where `from` names it; `cache` and `program` names are not checked.
//! - `str2sa_range()` refuses `port1-port2` unless the caller allows ranges
//!   ("port range not permitted here"): `bind` does, `log` targets and
//!   `server` addresses do not.
//! - readcfgfile() (cfgparse.c): "Missing LF on last line, file might have
//!   been truncated": a warning in 2.2, a fatal error since 2.3 (commit
//!   f92afb732, "Emit hard error on truncated lines").
//! - Keywords HAProxy removed and now refuses with its own message
//!   (the table `REMOVED`, each message as `haproxy -c` 2.6 prints it): the
//!   regex header actions `reqadd`/`reqrep`/`rspdel`/… and `block` (2.1),
//!   `redispatch` as a keyword (2.1), and the options `forceclose` (2.0),
//!   `http-tunnel` (2.1) and `http_proxy` (2.5). A config written for an
//!   older HAProxy that still uses them does not start on a supported one.
//!
//! Lines inside `.if` blocks are not checked: HAProxy reads only the branch
//! its condition picks, which depends on where it runs.

use std::collections::HashMap;

use crate::config::model::Invalid;
use crate::source::Span;

use super::parser::{Config, Line, Section, SectionKind, Word};

/// The sections whose name HAProxy checks with `invalid_char()`.
fn name_checked(kind: SectionKind) -> bool {
    use SectionKind::*;
    matches!(
        kind,
        Frontend
            | Backend
            | Listen
            | Resolvers
            | Peers
            | Userlist
            | Mailers
            | Ring
            | LogForward
            | HttpErrors
    )
}

/// The first character of `name` that HAProxy's `invalid_char()` refuses.
pub fn invalid_char(name: &str) -> Option<char> {
    name.chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '_' | '-')))
}

/// Record what `haproxy -c` refuses in `cfg` (whose bytes are `text`).
pub fn check(cfg: &Config, text: &[u8], out: &mut Vec<Invalid>) {
    // Proxies seen so far: name → (frontend side, backend side, header),
    // by name: a search of every proxy per proxy (and of every server per
    // server, below) was quadratic, 18 s for a backend of 100,000 servers
    let mut proxies: HashMap<&str, Vec<(bool, bool, &Line)>> = HashMap::new();
    for section in &cfg.sections {
        if section.header.cond_depth == 0 && name_checked(section.kind) {
            if let Some(name) = &section.name {
                bad_name(section.kind.keyword(), name, out);
            }
        }
        if section.header.cond_depth == 0 {
            same_name(text, section, &mut proxies, out);
        }
        // Server names of this backend → the line of the first.
        let mut servers: HashMap<&str, &Line> = HashMap::new();
        for line in section.lines.iter().filter(|l| l.cond_depth == 0) {
            let proxy = section.kind.is_proxy();
            match line.keyword() {
                "mode" if proxy => mode(line, out),
                "timeout" if proxy => timeout(line, out),
                "bind" if proxy => {
                    if let Some(addrs) = line.word(1) {
                        bind_ports(addrs, out);
                    }
                }
                "server" if proxy => server(text, section, line, &mut servers, out),
                "acl" => {
                    if let Some(name) = line.word(1) {
                        bad_name("acl", name, out);
                    }
                }
                "log" => {
                    if let Some(target) = line.word(1) {
                        port_range("log", target, out);
                    }
                }
                "option" | "no" if proxy || section.kind == SectionKind::Defaults => {
                    removed_option(line, out)
                }
                k if proxy || section.kind == SectionKind::Defaults => removed(k, line, out),
                _ => {}
            }
        }
    }
    missing_lf(cfg, text, out);
}

/// Proxy keywords HAProxy no longer knows, with the version that removed
/// them and what to use instead, as `haproxy -c` 2.6 words it
/// (cfgparse-listen.c).
const REMOVED: &[(&str, &str, &str)] = &[
    ("reqadd", "2.1", "Use 'http-request add-header' instead."),
    ("reqrep", "2.1", "Use 'http-request replace-path', 'http-request replace-uri' or 'http-request replace-header' instead."),
    ("reqirep", "2.1", "Use 'http-request replace-header' instead."),
    ("reqdel", "2.1", "Use 'http-request del-header' instead."),
    ("reqidel", "2.1", "Use 'http-request del-header' instead."),
    ("reqdeny", "2.1", "Use 'http-request deny' instead."),
    ("reqideny", "2.1", "Use 'http-request deny' instead."),
    ("reqpass", "2.1", ""),
    ("reqipass", "2.1", ""),
    ("reqallow", "2.1", "Use 'http-request allow' instead."),
    ("reqiallow", "2.1", "Use 'http-request allow' instead."),
    ("reqtarpit", "2.1", "Use 'http-request tarpit' instead."),
    ("reqitarpit", "2.1", "Use 'http-request tarpit' instead."),
    ("reqsetbe", "2.1", "Use 'use_backend' instead."),
    ("reqisetbe", "2.1", "Use 'use_backend' instead."),
    ("rspadd", "2.1", "Use 'http-response add-header' instead."),
    ("rsprep", "2.1", "Use 'http-response replace-header' instead."),
    ("rspirep", "2.1", "Use 'http-response replace-header' instead."),
    ("rspdel", "2.1", "Use 'http-response del-header' instead."),
    ("rspidel", "2.1", "Use 'http-response del-header' instead."),
    ("rspdeny", "2.1", "Use 'http-response deny' instead."),
    ("rspideny", "2.1", "Use 'http-response deny' instead."),
    ("block", "2.1", "Use 'http-request deny' which uses the exact same syntax."),
    ("redispatch", "2.1", "Use 'option redispatch'."),
];

/// Options HAProxy no longer knows (cfgparse-listen.c), as [`REMOVED`].
const REMOVED_OPTIONS: &[(&str, &str, &str)] = &[
    ("forceclose", "2.0", "please just remove it, or use 'option httpclose' if absolutely needed."),
    ("http-tunnel", "2.1", "please just remove it, it shouldn't be needed."),
    ("http_proxy", "2.5", "use 'http-request set-dst' and 'http-request set-uri' (and 'http-request do-resolve' for DNS) instead."),
];

fn removed(keyword: &str, line: &Line, out: &mut Vec<Invalid>) {
    let Some((_, since, instead)) = REMOVED.iter().find(|(k, ..)| *k == keyword) else {
        return;
    };
    let problem =
        format!("the '{keyword}' directive is not supported anymore since HAProxy {since}");
    let help = format!("HAProxy {since} and later refuse the file. {instead}");
    refuse(out, line.span, keyword, problem, help.trim_end());
}

fn removed_option(line: &Line, out: &mut Vec<Invalid>) {
    // `no option X` names the option one word later
    let at = if line.keyword() == "no" { 2 } else { 1 };
    if line.keyword() == "no" && line.str(1) != "option" {
        return;
    }
    let Some(w) = line.word(at) else { return };
    let Some((name, since, instead)) = REMOVED_OPTIONS.iter().find(|(k, ..)| *k == w.as_str())
    else {
        return;
    };
    refuse(
        out,
        w.span,
        "option",
        format!("option '{name}' is not supported any more since HAProxy {since}"),
        &format!("HAProxy {since} and later refuse the file: {instead}"),
    );
}

/// The 1-based line of `at` in `text`.
fn line_of(text: &[u8], at: Span) -> usize {
    let end = (at.start as usize).min(text.len());
    text[..end].iter().filter(|&&b| b == b'\n').count() + 1
}

fn refuse(out: &mut Vec<Invalid>, span: Span, directive: &str, problem: String, help: &str) {
    out.push(Invalid {
        span,
        directive: directive.to_owned(),
        problem,
        help: help.to_owned(),
    });
}

/// Two proxies of one name with a side in common (cfgparse-listen.c: "same
/// capability in common: always forbidden"). A frontend and a backend of
/// one name are accepted before HAProxy 3.3 and refused since: not
/// reported, as the version is not known.
fn same_name<'c>(
    text: &[u8],
    section: &'c Section,
    seen: &mut HashMap<&'c str, Vec<(bool, bool, &'c Line)>>,
    out: &mut Vec<Invalid>,
) {
    let (fe, be) = match section.kind {
        SectionKind::Frontend => (true, false),
        SectionKind::Backend => (false, true),
        SectionKind::Listen => (true, true),
        _ => return,
    };
    let Some(name) = &section.name else { return };
    if name.flags.env {
        return;
    }
    if let Some((_, _, other)) = seen
        .get(name.value.as_str())
        .and_then(|same| same.iter().find(|(f, b, _)| (fe && *f) || (be && *b)))
    {
        refuse(
            out,
            name.span,
            section.kind.keyword(),
            format!(
                "{} '{}' has the same name as {} '{}' declared at line {}",
                section.kind.keyword(),
                name.value,
                // proxy_type_str(): a listen section is a "proxy"
                match other.keyword() {
                    "listen" => "proxy",
                    k => k,
                },
                name.value,
                line_of(text, other.span)
            ),
            "HAProxy refuses the file: give each frontend, backend and listen section its own name",
        );
    }
    seen.entry(name.value.as_str())
        .or_default()
        .push((fe, be, &section.header));
}

/// The proxy modes HAProxy knows (str_to_proxy_mode() in proxy.c, and
/// `haterm` for frontends).
const MODES: &[&str] = &["http", "tcp", "log", "spop", "haterm"];

fn mode(line: &Line, out: &mut Vec<Invalid>) {
    let Some(w) = line.word(1).filter(|w| !w.flags.env) else {
        return;
    };
    if MODES.contains(&w.as_str()) {
        return;
    }
    let (problem, help) = if w.value == "health" {
        (
            "'mode health' doesn't exist anymore".to_owned(),
            "HAProxy refuses the file: use `http-request return status 200` instead",
        )
    } else {
        (
            format!("unknown proxy mode '{}'", w.value),
            "HAProxy refuses the file: use `mode http` or `mode tcp`",
        )
    };
    refuse(out, w.span, "mode", problem, help);
}

/// The `timeout` types of proxy_parse_timeout() (proxy.c; `client-hs`
/// since 2.8).
const TIMEOUTS: &[&str] = &[
    "client",
    "server",
    "connect",
    "check",
    "queue",
    "http-keep-alive",
    "http-request",
    "tunnel",
    "client-fin",
    "server-fin",
    "tarpit",
    "client-hs",
];

fn timeout(line: &Line, out: &mut Vec<Invalid>) {
    let Some(w) = line.word(1).filter(|w| !w.flags.env) else {
        return;
    };
    if !TIMEOUTS.contains(&w.as_str()) {
        refuse(
            out,
            w.span,
            "timeout",
            format!("unknown timeout '{}'", w.value),
            &format!(
                "HAProxy refuses the file: 'timeout' supports {}",
                TIMEOUTS.join(", ")
            ),
        );
    }
}

/// A port above 65535 in `addr` (`port` or `low-high`).
fn bad_port(port: &str) -> Option<&str> {
    port.split('-').find(|p| {
        !p.is_empty()
            && p.bytes().all(|c| c.is_ascii_digit())
            && p.parse::<u32>().map_or(true, |n| n > 65535)
    })
}

fn bind_ports(addrs: &Word, out: &mut Vec<Invalid>) {
    if addrs.flags.env {
        return;
    }
    for addr in addrs.value.split(',') {
        if let Some(p) = port_part(addr).and_then(bad_port) {
            refuse(
                out,
                addrs.span,
                "bind",
                format!("'bind' : invalid port '{p}'"),
                "HAProxy refuses the file: a port is 1 to 65535",
            );
        }
    }
}

fn server<'c>(
    text: &[u8],
    section: &Section,
    line: &'c Line,
    seen: &mut HashMap<&'c str, &'c Line>,
    out: &mut Vec<Invalid>,
) {
    let Some(name) = line.word(1) else { return };
    let Some(addr) = line.word(2) else {
        refuse(
            out,
            line.span,
            "server",
            "'server' expects <name> and <addr>[:<port>] as arguments".into(),
            "HAProxy refuses the file: write `server <name> <address>[:<port>]`",
        );
        return;
    };
    port_range("server", addr, out);
    if !addr.flags.env {
        if let Some(p) = port_part(&addr.value)
            .filter(|p| !p.contains('-'))
            .and_then(bad_port)
        {
            refuse(
                out,
                addr.span,
                "server",
                format!(
                    "'server {}/{}' : invalid port '{p}'",
                    section.name_str(),
                    name.value
                ),
                "HAProxy refuses the file: a port is 1 to 65535",
            );
        }
    }
    if name.flags.env {
        return;
    }
    if let Some(first) = seen.get(name.value.as_str()) {
        refuse(
            out,
            name.span,
            "server",
            format!(
                "{} '{}', another server named '{}' was already defined at line {}",
                section.kind.keyword(),
                section.name_str(),
                name.value,
                line_of(text, first.span)
            ),
            "HAProxy refuses the file: give each server of a backend its own name",
        );
    }
    seen.entry(name.value.as_str()).or_insert(line);
}

fn bad_name(what: &str, name: &Word, out: &mut Vec<Invalid>) {
    if name.flags.env {
        return;
    }
    if let Some(c) = invalid_char(&name.value) {
        let problem = if what == "acl" {
            format!(
                "character '{c}' is not permitted in acl name '{}'",
                name.value
            )
        } else if what == "ring" {
            // sink.c words it its own way
            format!(
                "invalid ring name '{}' (character '{c}' is not permitted)",
                name.value
            )
        } else {
            format!(
                "character '{c}' is not permitted in '{what}' name '{}'",
                name.value
            )
        };
        out.push(Invalid {
            span: name.span,
            directive: what.to_owned(),
            problem,
            help: "HAProxy refuses the file: names may hold only letters, digits, `.`, `:`, `_` and `-`".into(),
        });
    }
}

/// The port part of an address as HAProxy cuts it (after the last `:`,
/// behind an optional `proto@` prefix); `None` for sockets and targets
/// without a port.
fn port_part(addr: &str) -> Option<&str> {
    let bare = addr.split_once('@').map_or(addr, |(proto, rest)| {
        match proto {
            "ipv4" | "ipv6" | "udp" | "udp4" | "udp6" | "tcp" | "tcp4" | "tcp6" | "quic4"
            | "quic6" => rest,
            // unix@, abns@, fd@, sockpair@, ring@…: no port
            _ => "",
        }
    });
    if bare.starts_with('/') {
        return None;
    }
    bare.rsplit_once(':').map(|(_, p)| p)
}

fn port_range(what: &str, w: &Word, out: &mut Vec<Invalid>) {
    if w.flags.env {
        return;
    }
    let Some(port) = port_part(&w.value) else {
        return;
    };
    let is_range = port.split_once('-').is_some_and(|(a, b)| {
        !a.is_empty()
            && !b.is_empty()
            && a.bytes().all(|c| c.is_ascii_digit())
            && b.bytes().all(|c| c.is_ascii_digit())
    });
    if is_range {
        out.push(Invalid {
            span: w.span,
            directive: what.to_owned(),
            problem: format!("{what}: port range not permitted here in '{}'", w.value),
            help: "HAProxy refuses the file: give one port (only `bind` takes a range)".into(),
        });
    }
}

fn missing_lf(cfg: &Config, text: &[u8], out: &mut Vec<Invalid>) {
    if text.is_empty() || text.ends_with(b"\n") {
        return;
    }
    let start = text.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let span = Span::new(cfg.file, start, text.len());
    out.push(Invalid {
        span,
        directive: "file".into(),
        problem: format!(
            "Missing LF on last line, file might have been truncated at position {}",
            text.len() - start + 1
        ),
        help:
            "end the file with a newline: HAProxy >= 2.3 refuses the file without one (2.2 warned)"
                .into(),
    });
}

#[cfg(test)]
mod tests {
    use crate::config::haproxy::parse_str;

    fn problems(text: &str) -> Vec<String> {
        let (_, p) = parse_str("h.cfg", text.as_bytes());
        let m = p.model.expect("model");
        m.invalid.iter().map(|i| i.problem.clone()).collect()
    }

    #[test]
    fn many_servers_and_proxies_are_checked_by_name_not_pairwise() {
        // 60,000 servers in a backend and 20,000 backends: names were
        // compared pairwise (18 s for 100,000 servers, optimized); the
        // last of each is named twice, and only it is refused (no timing
        // is asserted: a regression shows as a test that takes minutes)
        let mut text = String::from("backend b\n");
        for i in 0..60_000 {
            text += &format!("  server s{i} 10.0.0.1:80\n");
        }
        text += "  server s7 10.0.0.2:80\n";
        for i in 0..20_000 {
            text += &format!("backend p{i}\n");
        }
        text += "backend p5\n";
        let p = problems(&text);
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(
            p[0].contains("another server named 's7' was already defined at line 9"),
            "{p:?}"
        );
        assert!(
            p[1].contains("backend 'p5' has the same name as backend 'p5'"),
            "{p:?}"
        );
    }

    #[test]
    fn what_haproxy_c_refuses() {
        // Each as HAProxy 2.6 -c words it.
        for (text, want) in [
            (
                "backend be/one\n",
                "character '/' is not permitted in 'backend' name 'be/one'",
            ),
            (
                "frontend f@x\n",
                "character '@' is not permitted in 'frontend' name 'f@x'",
            ),
            (
                "peers p/x\n",
                "character '/' is not permitted in 'peers' name 'p/x'",
            ),
            (
                "ring r/x\n",
                "invalid ring name 'r/x' (character '/' is not permitted)",
            ),
            (
                "backend b\n  acl a/b path /\n",
                "character '/' is not permitted in acl name 'a/b'",
            ),
            (
                "global\n  log 127.0.0.1:514-516 local0\n",
                "log: port range not permitted here in '127.0.0.1:514-516'",
            ),
            (
                "backend b\n  log udp@[::1]:1-2 local0\n",
                "log: port range not permitted here in 'udp@[::1]:1-2'",
            ),
            (
                "backend b\n  server s 127.0.0.1:80-90\n",
                "server: port range not permitted here in '127.0.0.1:80-90'",
            ),
            (
                "global\n  log stdout format raw local0\n# end",
                "Missing LF on last line, file might have been truncated at position 6",
            ),
            (
                "backend b\n  server s 127.0.0.1:1\nbackend b\n  server s 127.0.0.1:2\n",
                "backend 'b' has the same name as backend 'b' declared at line 1",
            ),
            (
                "listen b\n  bind :1\nfrontend b\n  bind :2\n",
                "frontend 'b' has the same name as proxy 'b' declared at line 1",
            ),
            (
                "backend b\n  server s 127.0.0.1:1\n  server s 127.0.0.1:2\n",
                "backend 'b', another server named 's' was already defined at line 2",
            ),
            (
                "backend b\n  server s\n",
                "'server' expects <name> and <addr>[:<port>] as arguments",
            ),
            ("backend b\n  mode https\n", "unknown proxy mode 'https'"),
            (
                "defaults\n  mode health\n",
                "'mode health' doesn't exist anymore",
            ),
            ("backend b\n  timeout foo 5s\n", "unknown timeout 'foo'"),
            (
                "frontend f\n  bind :70000\n",
                "'bind' : invalid port '70000'",
            ),
            (
                "backend b\n  server s 127.0.0.1:99999\n",
                "'server b/s' : invalid port '99999'",
            ),
            (
                "frontend f\n  reqadd X-Proto:\\ https\n",
                "the 'reqadd' directive is not supported anymore since HAProxy 2.1",
            ),
            (
                "backend b\n  rspidel ^Server:.*\n",
                "the 'rspidel' directive is not supported anymore since HAProxy 2.1",
            ),
            (
                "defaults\n  redispatch\n",
                "the 'redispatch' directive is not supported anymore since HAProxy 2.1",
            ),
            (
                "listen l\n  block if TRUE\n",
                "the 'block' directive is not supported anymore since HAProxy 2.1",
            ),
            (
                "backend b\n  option forceclose\n",
                "option 'forceclose' is not supported any more since HAProxy 2.0",
            ),
            (
                "defaults\n  no option http-tunnel\n",
                "option 'http-tunnel' is not supported any more since HAProxy 2.1",
            ),
        ] {
            assert_eq!(problems(text), [want], "{text:?}");
        }
    }

    #[test]
    fn what_haproxy_c_accepts() {
        for text in [
            // a frontend and a backend may share a name before HAProxy 3.3
            "frontend b\n  bind :1\nbackend b\n  server s 10.0.0.1:1\n",
            "backend b\n  mode tcp\n  timeout tunnel 1h\n  timeout client-hs 5s\n",
            "frontend f\n  bind :8000-8010,:443\n",
            "backend b\n  server s 10.0.0.1:80\n  server t 10.0.0.1:80\nbackend c\n  server s 10.0.0.2:80\n",
            "resolvers dns\n  timeout resolve 1s\n",
            "backend b\n  server-template s 3 app.internal:80\n",
            "backend b.x:y_z-w\n",
            "defaults d/x\n",
            "cache c/x\n  total-max-size 4\n",
            "global\n  log /dev/log local0\n  log stdout format raw local0\n  log ring@buf local0\n",
            "frontend f\n  bind :8000-8010\n",
            "backend b\n  server s 10.0.0.1:+1\n",
            "backend b\n  server s \"${HOST}:${PORTS}\"\n",
            ".if defined(X)\nbackend b/x\n.endif\n",
            // still known: the option, and the words as arguments
            "backend b\n  option httpclose\n  option redispatch\n  http-request deny if { path /block }\n",
            "",
        ] {
            assert!(problems(text).is_empty(), "{text:?}: {:?}", problems(text));
        }
    }
}
