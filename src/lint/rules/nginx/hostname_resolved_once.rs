//! NGX-DNS-001 `hostname-resolved-once`: see the rule doc below.

use crate::config::model::{Host, Target};
use crate::declare_rule;
use crate::lint::LintContext;

use super::{proxied, stream_proxied, stream_upstreams, upstream_typo};

declare_rule! {
    /// A `proxy_pass` (or `fastcgi_pass`, `uwsgi_pass`, `scgi_pass`, `grpc_pass`) host or upstream server (`http {}` or `stream {}`) is a DNS name resolved only at start-up.
    ///
    /// ## What it does
    /// Flags `proxy_pass` to a literal hostname (no variables, not an
    /// `upstream` name, not `localhost`; a bare name such as `app` that
    /// names no upstream counts: nginx resolves it too) and `upstream`
    /// servers given by hostname without the `resolve` parameter; the same
    /// in `stream {}` (`proxy_pass host:port;`, stream `upstream` servers),
    /// where ngx_stream_proxy_module also resolves a literal name once. The
    /// same for `fastcgi_pass`, `uwsgi_pass`, `scgi_pass` and `grpc_pass` to
    /// a `host:port` (a PHP-FPM or gRPC container's name): nginx adds each
    /// as an implicit upstream, resolved when the config is loaded.
    ///
    /// ## Why it causes 502s
    /// nginx looks such names up once, when it loads the config. When the
    /// origin's addresses change (cloud load balancers, failover, blue/green
    /// deploys), nginx keeps connecting to the old ones until the next reload:
    /// refused or timed-out connections, 502s (guide step 3).
    ///
    /// ## Example
    /// ```nginx
    /// location / { proxy_pass https://api.example.com; }
    /// ```
    ///
    /// ## Use instead
    /// ```nginx
    /// resolver 10.0.0.2 valid=30s;
    /// upstream api {
    ///     zone api 64k;
    ///     server api.example.com:443 resolve;   # nginx >= 1.27.3
    /// }
    /// ```
    /// or, on older versions, a variable (`set $api api.example.com;
    /// proxy_pass https://$api;`) with a `resolver`.
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// - nginx `proxy_pass` (names resolved at start unless variables are
    ///   used): <https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_pass>
    /// - nginx `server … resolve` (open source since 1.27.3):
    ///   <https://nginx.org/en/docs/http/ngx_http_upstream_module.html#resolve>
    pub HostnameResolvedOnce {
        id: "NGX-DNS-001",
        name: "hostname-resolved-once",
        severity: Warning,
        since: "0.1.0",
    }
}

fn check(ctx: &mut LintContext<'_>) {
    let m = ctx.model();
    // Where an upstream of that name could hide (an include not read).
    let unread: Vec<&str> = m
        .missing_includes
        .iter()
        .filter(|i| matches!(i.context.as_str(), "main" | "http"))
        .map(|i| i.path.as_str())
        .collect();
    for (_, _, p, _) in proxied(m) {
        match &p.target {
            // a name with `:` kept an unreadable port: nginx refuses the
            // address ("invalid port in upstream", NGX-VAL-001) and
            // resolves nothing
            Target::Address(Host::Name(n)) | Target::Unknown(n) if n.contains(':') => {}
            Target::Address(Host::Name(n)) if !n.eq_ignore_ascii_case("localhost") => {
                ctx.report(
                    p.span,
                    format!("proxy_pass host `{n}` is resolved once, at start-up; address changes are missed until reload"),
                    "use an upstream with `zone` + `server … resolve` and a `resolver`, or a variable with a `resolver`",
                );
            }
            // A bare name that is no upstream (and no typo of one, see
            // NGX-MAP-001): nginx resolves it as a host name at start-up.
            Target::Unknown(n) if upstream_typo(m, n).is_none() => {
                let hidden = match unread.as_slice() {
                    [] => String::new(),
                    files => format!(
                        " (unless it is an upstream defined in {}, which was not read)",
                        files.join(", ")
                    ),
                };
                ctx.report(
                    p.span,
                    format!("proxy_pass host `{n}` names no upstream, so nginx resolves it in DNS once, at start-up (it fails to start when `{n}` does not resolve); address changes are missed until reload{hidden}"),
                    "use an upstream with `zone` + `server … resolve` and a `resolver`, or a variable with a `resolver`",
                );
            }
            _ => {}
        }
    }
    // fastcgi_pass/uwsgi_pass/scgi_pass/grpc_pass to `host:port`: nginx
    // adds it as an implicit upstream and resolves the name when it loads
    // the config, as for proxy_pass (ngx_http_upstream_add, then
    // ngx_http_upstream_init_round_robin: "host not found in upstream").
    for (_, r) in m.routes() {
        let Some(mp) = &r.module_pass else { continue };
        let p = &mp.target;
        if let (Target::Address(Host::Name(n)), Some(_)) = (&p.target, p.port) {
            if !n.eq_ignore_ascii_case("localhost") {
                ctx.report(
                    p.span,
                    format!(
                        "{}_pass host `{n}` is resolved once, at start-up; address changes are missed until reload",
                        mp.module.prefix()
                    ),
                    "use an upstream with `zone` + `server … resolve` and a `resolver`, or a variable with a `resolver`",
                );
            }
        }
    }
    for (s, p, _) in stream_proxied(m) {
        // Without a port nginx -t refuses it (NGX-VAL-001 says so).
        if let (Target::Address(Host::Name(n)), Some(_)) = (&p.target, p.port) {
            if !n.eq_ignore_ascii_case("localhost") {
                ctx.report(
                    p.span,
                    format!("{}: proxy_pass host `{n}` is resolved once, at start-up; address changes are missed until reload", s.label()),
                    "use a stream `upstream` with `zone` + `server … resolve` and a `resolver` in stream {} (nginx >= 1.27.3), or a variable with a `resolver`",
                );
            }
        }
    }
    for u in m.upstreams.iter().chain(stream_upstreams(m)) {
        for s in &u.servers {
            if let Host::Name(n) = &s.host {
                if !s.resolve
                    && !n.eq_ignore_ascii_case("localhost")
                    && !s.host.is_placeholder()
                    && !n.contains(':')
                {
                    ctx.report(
                        s.span,
                        format!("server `{}` in upstream `{}` is resolved once, at start-up", s.address, u.name),
                        "add `resolve` (with `zone` in the upstream and a `resolver`; nginx >= 1.27.3)",
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::test_util::findings;

    #[test]
    fn template_placeholder_server_is_not_judged() {
        // frappe_docker's nginx-template.conf (envsubst): `${BACKEND}` is
        // replaced before nginx reads it, by a name or an IP
        let f = findings(
            "NGX-DNS-001",
            "upstream backend-server { server ${BACKEND} fail_timeout=0; }",
        );
        assert!(f.is_empty(), "{f:?}");
    }

    #[test]
    fn fail() {
        let f = findings(
            "NGX-DNS-001",
            "http { server { location / { proxy_pass https://api.example.com; } } }",
        );
        assert_eq!(f.len(), 1);
        let f = findings(
            "NGX-DNS-001",
            "http { upstream a { server app.internal:80; } }",
        );
        assert_eq!(f.len(), 1);
        // issue 8: the docker-compose idiom, a container name without port
        let f = findings(
            "NGX-DNS-001",
            "http { server { location / { proxy_pass http://app/; } } }",
        );
        assert_eq!(f.len(), 1);
        assert!(
            f[0].starts_with("proxy_pass host `app` names no upstream"),
            "{f:?}"
        );
        let f = findings(
            "NGX-DNS-001",
            "stream { upstream db { server db.internal:5432; } server { listen 5432; proxy_pass db.example.com:5432; } }",
        );
        assert_eq!(f.len(), 2, "{f:?}");
        assert!(
            f[0].starts_with("server `db.internal:5432` in upstream `db`"),
            "{f:?}"
        );
        assert!(
            f[1].starts_with("stream server 5432: proxy_pass host `db.example.com`"),
            "{f:?}"
        );
    }

    #[test]
    fn fastcgi_and_grpc_hosts() {
        // Laradock-style PHP-FPM container, Zitadel's gRPC container
        assert_eq!(
            findings(
                "NGX-DNS-001",
                "http { server { location ~ \\.php$ { fastcgi_pass php-fpm:9000; } } }"
            ),
            ["fastcgi_pass host `php-fpm` is resolved once, at start-up; address changes are missed until reload"]
        );
        assert_eq!(
            findings(
                "NGX-DNS-001",
                "http { server { location / { grpc_pass grpc://zitadel:8080; } } }"
            )
            .len(),
            1
        );
        for ok in [
            "http { server { location ~ \\.php$ { fastcgi_pass 127.0.0.1:9000; } } }",
            "http { server { location ~ \\.php$ { fastcgi_pass unix:/run/php/php-fpm.sock; } } }",
            "http { upstream php { server 10.0.0.1:9000; } server { location ~ \\.php$ { fastcgi_pass php; } } }",
            "http { server { location / { uwsgi_pass localhost:3031; } } }",
        ] {
            assert!(findings("NGX-DNS-001", ok).is_empty(), "{ok}");
        }
    }

    #[test]
    fn pass() {
        for src in [
            "http { resolver 127.0.0.1; server { location / { set $a api.example.com; proxy_pass https://$a; } } }",
            "http { upstream a { zone a 64k; server app.internal resolve; } }",
            "stream { server { listen 1; proxy_pass 10.0.0.1:5432; } }",
            "stream { upstream db { server 10.0.0.1:5432; } server { listen 1; proxy_pass db; } }",
            "http { server { location / { proxy_pass http://localhost:8080; } } }",
        ] {
            assert!(findings("NGX-DNS-001", src).is_empty(), "{src}");
        }
    }
}
