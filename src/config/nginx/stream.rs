//! nginx `stream {}` syntax → [`Stream`]: TCP/UDP servers and their pools,
//! lowered apart from `http {}` with ngx_stream_proxy_module's own
//! directive names and defaults.
//!
//! Defaults are those of ngx_stream_proxy_merge_srv_conf()
//! (src/stream/ngx_stream_proxy_module.c; the directive table has none for
//! the stream modules): `proxy_connect_timeout 60s`, `proxy_timeout 10m`,
//! `proxy_next_upstream on`, `proxy_next_upstream_tries 0`,
//! `proxy_next_upstream_timeout 0` (both 0 = no limit).
//!
//! What `nginx -t` refuses about a stream `proxy_pass` or upstream `server`
//! is recorded in `invalid` with nginx's own words (checked against nginx
//! 1.22 with the stream module loaded, see `fixtures/lint/nginx/stream/`):
//! ngx_stream_proxy_pass() turns every literal target into an upstream
//! (ngx_stream_upstream_add), so a name that is no `upstream` *of stream*
//! needs a port ("no port in upstream"), and a `scheme://` is refused
//! ("invalid host in upstream").

use std::collections::HashSet;
use std::time::Duration;

use crate::config::model::{
    Directives, Host, Invalid, Mode, Setting, Stream, StreamServer, Target,
};
use crate::config::Version;
use crate::source::Span;

use super::lower::{count_u32, invalid, listen, own_directives, parse_proxy_pass, upstream};
use super::parser::Node;

/// `proxy_connect_timeout` default (ngx_stream_proxy_merge_srv_conf:
/// 60000 ms).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(60);
/// `proxy_timeout` default (ngx_stream_proxy_merge_srv_conf: 10 * 60000 ms).
pub const PROXY_TIMEOUT: Duration = Duration::from_secs(600);

/// Lower the `stream` block `n`. `complete` is true when every include was
/// read, so an upstream missing from what was read is missing from nginx's
/// view too (otherwise refusals that depend on it are not recorded).
pub(super) fn lower_stream(
    n: &Node,
    version: Option<Version>,
    complete: bool,
    out: &mut Vec<Invalid>,
) -> Option<Stream> {
    let block = n.block.as_ref()?;
    let span = n.header_span();
    let directives = own_directives(&block.children);
    let mut upstreams = Vec::new();
    for u in block.children.iter().filter(|c| c.name == "upstream") {
        if let Some(up) = upstream(u, version, Mode::Tcp) {
            for s in &up.servers {
                let service = s.params.iter().any(|p| p.value.starts_with("service="));
                if s.port.is_none() && !matches!(s.host, Host::Unix(_)) && !service {
                    invalid(
                        out,
                        s.span,
                        "server",
                        format!("no port in upstream \"{}\"", s.address),
                        "a stream upstream server needs a port: `server host:port;`",
                    );
                }
            }
            upstreams.push(up);
        }
    }
    let names: HashSet<String> = upstreams.iter().map(|u| u.name.clone()).collect();
    let mut servers = Vec::new();
    for s in block.children.iter().filter(|c| c.name == "server") {
        let server = server(s, &directives, &names);
        if let Some(p) = &server.proxy {
            refusal(p, &server, complete, out);
        }
        servers.push(server);
    }
    Some(Stream {
        span,
        directives,
        servers,
        upstreams,
    })
}

/// What `nginx -t` says about this `proxy_pass`, recorded in `out`.
fn refusal(
    p: &crate::config::model::ProxyPass,
    s: &StreamServer,
    complete: bool,
    out: &mut Vec<Invalid>,
) {
    let Some(arg) = s.directives.get("proxy_pass").and_then(|d| d.args.first()) else {
        return;
    };
    if p.scheme.is_some() {
        invalid(
            out,
            arg.span,
            "proxy_pass",
            format!("invalid host in upstream \"{}\"", p.raw),
            "a stream proxy_pass takes `host:port`, `unix:/path` or an upstream name, without a scheme",
        );
        return;
    }
    let literal = matches!(
        p.target,
        Target::Unknown(_) | Target::Address(Host::Name(_) | Host::Ip(_))
    );
    if literal && p.port.is_none() && complete {
        invalid(
            out,
            arg.span,
            "proxy_pass",
            format!("no port in upstream \"{}\"", p.raw),
            &format!(
                "`{0}` names no upstream of stream {{}} (an http {{}} upstream does not count): define `upstream {0} {{ server host:port; }}` inside stream, or give a port",
                p.host
            ),
        );
    }
}

fn time(d: &Directives, name: &str, default: Duration, block: Span) -> Setting<Option<Duration>> {
    match d.get(name) {
        // 0 is a zero timeout here, not "off" (ngx_conf_set_msec_slot).
        Some(x) => match x.time(0) {
            Some(t) => Setting::explicit(Some(t.value), t.span),
            // Invalid (NGX-VAL-001): read as the default.
            None => Setting::default_at(Some(default), x.span),
        },
        None => Setting::default_at(Some(default), block),
    }
}

fn server(n: &Node, stream: &Directives, upstreams: &HashSet<String>) -> StreamServer {
    let span = n.header_span();
    let children = n.block.as_ref().map_or(&[][..], |b| b.children.as_slice());
    let d = own_directives(children).under(stream);
    let listen = d
        .all("listen")
        .iter()
        .filter_map(|l| Some(listen(l.args.first()?, l.span)))
        .collect();
    // A stream proxy_pass has no scheme; parse_proxy_pass reads `host:port`,
    // `unix:/path`, an upstream name or a variable the same way.
    let proxy = d.get("proxy_pass").and_then(|p| {
        let a = p.args.first()?;
        Some(parse_proxy_pass(&a.value, p.span, upstreams))
    });
    let next_upstream = match d.get("proxy_next_upstream") {
        Some(x) => Setting::explicit(x.flag(0).is_some_and(|f| f.value), x.span),
        None => Setting::default_at(true, span),
    };
    let tries = match d.get("proxy_next_upstream_tries") {
        Some(x) => Setting::explicit(count_u32(x), x.span),
        None => Setting::default_at(0, span),
    };
    let retry_timeout = match d.get("proxy_next_upstream_timeout") {
        Some(x) => Setting::explicit(x.time(0).map(|t| t.value).filter(|t| !t.is_zero()), x.span),
        None => Setting::default_at(None, span),
    };
    StreamServer {
        span,
        connect_timeout: time(&d, "proxy_connect_timeout", CONNECT_TIMEOUT, span),
        timeout: time(&d, "proxy_timeout", PROXY_TIMEOUT, span),
        directives: d,
        listen,
        proxy,
        next_upstream,
        tries,
        retry_timeout,
    }
}

#[cfg(test)]
mod tests {
    use crate::config::model::{Mode, ProxyModel, Target};
    use crate::config::nginx::parse;
    use crate::config::LoadOptions;
    use crate::source::SourceMap;

    /// The model with includes read (there are none), so what nginx -t
    /// refuses for lack of an upstream is known to be refused.
    fn model(src: &str) -> ProxyModel {
        let mut sources = SourceMap::new();
        let id = sources.add("t.conf", src.as_bytes().to_vec());
        let p = parse(&mut sources, id, &LoadOptions::default());
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        p.model.expect("model")
    }

    #[test]
    fn stream_is_kept_apart_from_http() {
        let m = model(
            "http { upstream web { server 10.0.0.1:80; } }
             stream { upstream db { server 10.0.0.2:5432 max_fails=0; }
                      server { listen 5432; proxy_pass db; proxy_timeout 1h; } }",
        );
        assert_eq!(m.upstreams.len(), 1);
        assert!(m.servers.is_empty());
        let st = m.stream.as_ref().expect("stream");
        assert_eq!(st.upstreams.len(), 1);
        assert_eq!(st.upstreams[0].mode.value, Mode::Tcp);
        assert_eq!(st.upstreams[0].keepalive.value, 0);
        assert_eq!(st.upstreams[0].servers[0].max_fails.value, 0);
        let s = &st.servers[0];
        assert_eq!(s.label(), "stream server 5432");
        assert_eq!(s.proxy.as_ref().unwrap().target, Target::Pool("db".into()));
        assert_eq!(st.target_pool(s).unwrap().name, "db");
        assert_eq!(s.timeout.value, Some(std::time::Duration::from_secs(3600)));
        assert!(s.timeout.is_explicit());
        assert_eq!(s.connect_timeout.value, Some(super::CONNECT_TIMEOUT));
        assert!(s.connect_timeout.defaulted);
        assert!(s.next_upstream.value && s.next_upstream.defaulted);
        assert!(m.invalid.is_empty(), "{:?}", m.invalid);
    }

    #[test]
    fn stream_level_settings_are_inherited() {
        let m = model(
            "stream { proxy_connect_timeout 3s; proxy_next_upstream off;
                      server { listen 1; proxy_pass 10.0.0.1:1; } }",
        );
        let s = &m.stream.as_ref().unwrap().servers[0];
        assert_eq!(
            s.connect_timeout.value,
            Some(std::time::Duration::from_secs(3))
        );
        assert!(!s.next_upstream.value && s.next_upstream.is_explicit());
    }

    #[test]
    fn what_nginx_t_refuses() {
        // Each problem as nginx 1.22 -t words it (stream module loaded).
        for (src, problem) in [
            (
                "http { upstream app { server 10.0.0.1:80; } } stream { server { listen 1; proxy_pass app; } }",
                "no port in upstream \"app\"",
            ),
            (
                "stream { server { listen 1; proxy_pass db.example.com; } }",
                "no port in upstream \"db.example.com\"",
            ),
            (
                "stream { server { listen 1; proxy_pass http://10.0.0.1:1; } }",
                "invalid host in upstream \"http://10.0.0.1:1\"",
            ),
            (
                "stream { upstream u { server 10.0.0.1; } server { listen 1; proxy_pass u; } }",
                "no port in upstream \"10.0.0.1\"",
            ),
        ] {
            let m = model(src);
            let got: Vec<&str> = m.invalid.iter().map(|i| i.problem.as_str()).collect();
            assert_eq!(got, [problem], "{src}");
        }
    }

    #[test]
    fn what_nginx_t_accepts() {
        for src in [
            "stream { upstream app { server 10.0.0.1:80; } server { listen 1; proxy_pass app; } }",
            "stream { server { listen 1; proxy_pass localhost:5432; } }",
            "stream { server { listen 1; proxy_pass unix:/run/app.sock; } }",
            "stream { map $ssl_preread_server_name $b { default 10.0.0.1:443; } server { listen 1; ssl_preread on; proxy_pass $b; } }",
        ] {
            let m = model(src);
            assert!(m.invalid.is_empty(), "{src}: {:?}", m.invalid);
        }
    }
}
