//! NGX-MAP-001 `unknown-upstream`: see the rule doc below.

use crate::config::model::Target;
use crate::declare_rule;
use crate::lint::LintContext;

use super::{proxied, stream_upstreams, upstream_typo};

declare_rule! {
    /// `proxy_pass` names an upstream that does not exist, or an upstream has no servers.
    ///
    /// ## What it does
    /// Flags `proxy_pass http://NAME` where NAME has no dot and no port,
    /// matches no `upstream` but is one or two edits away from one (a typo:
    /// `bakend` for `backend`), and `upstream` blocks without any `server`
    /// (in `http {}` or `stream {}`: nginx -t refuses both, "no servers are
    /// inside upstream"). Not in an NGINX Plus config (one that uses a
    /// directive only NGINX Plus has, such as `api`, `health_check` or
    /// `status_zone`) when the upstream has a `zone`: NGINX Plus adds its
    /// servers at run time through the API (nginx.org, `zone`: "such groups
    /// allow changing the group membership … without the need of restarting
    /// nginx"), or from the upstream's `state` file.
    /// A name close to no upstream is a DNS name to nginx (a container name,
    /// say): NGX-DNS-001 covers it.
    ///
    /// ## Why it causes 502s
    /// nginx treats an unknown NAME as a hostname: it fails to start ("host not
    /// found in upstream") or, when the name happens to resolve, sends traffic
    /// to the wrong place. An upstream without servers is rejected ("no servers
    /// are inside upstream") (guide step 4).
    ///
    /// ## Example
    /// ```nginx
    /// http {
    ///     upstream backend { server 10.0.0.1:8080; }
    ///     server {
    ///         location / { proxy_pass http://bakend; }
    ///     }
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```nginx
    /// http {
    ///     upstream backend { server 10.0.0.1:8080; }
    ///     server {
    ///         location / { proxy_pass http://backend; }
    ///     }
    /// }
    /// ```
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// - nginx `proxy_pass`: <https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_pass>
    /// - nginx `upstream`: <https://nginx.org/en/docs/http/ngx_http_upstream_module.html#upstream>
    pub UnknownUpstream {
        id: "NGX-MAP-001",
        name: "unknown-upstream",
        severity: Error,
        since: "0.1.0",
    }
}

fn check(ctx: &mut LintContext<'_>) {
    let m = ctx.model();
    for (_, _, p, _) in proxied(m) {
        let Target::Unknown(name) = &p.target else {
            continue;
        };
        // A name that is no typo of an upstream is a DNS name to nginx
        // (the docker-compose idiom): NGX-DNS-001's business (issue 8).
        let Some(near) = upstream_typo(m, name) else {
            continue;
        };
        ctx.report(
            p.span,
            format!("proxy_pass {}: no upstream named `{name}` (upstream `{near}` exists)", p.raw),
            format!(
                "did you mean `{near}`? (`proxy_pass {}://{near};`); as written, nginx looks `{name}` up in DNS at start-up",
                p.scheme.as_deref().unwrap_or("http")
            ),
        );
    }
    let plus = m
        .unknown
        .iter()
        .any(|d| PLUS_ONLY.contains(&d.name.as_str()));
    for u in m.upstreams.iter().chain(stream_upstreams(m)) {
        if u.servers.is_empty() && !(plus && u.zone.is_some()) {
            ctx.report(
                u.span,
                format!("upstream `{}` has no servers", u.name),
                "add `server <address>;` lines",
            );
        }
    }
}

/// Directives only NGINX Plus defines (nginx.org marks each "available as
/// part of our commercial subscription"): the API and its predecessors,
/// live activity monitoring, active health checks, upstream state files,
/// queues and session persistence.
const PLUS_ONLY: &[&str] = &[
    "api",
    "upstream_conf",
    "status",
    "status_format",
    "status_zone",
    "health_check",
    "health_check_timeout",
    "match",
    "state",
    "queue",
    "sticky",
    "ntlm",
    "zone_sync",
];

#[cfg(test)]
mod tests {
    use crate::lint::rules::test_util::findings;

    #[test]
    fn fail() {
        let f = findings(
            "NGX-MAP-001",
            "http { upstream backend { server 10.0.0.1; } upstream empty { } server { location / { proxy_pass http://bakend; } } }",
        );
        assert_eq!(
            f,
            [
                "upstream `empty` has no servers",
                "proxy_pass http://bakend: no upstream named `bakend` (upstream `backend` exists)"
            ]
        );
    }

    #[test]
    fn pass() {
        assert!(findings(
            "NGX-MAP-001",
            "http { upstream backend { server 10.0.0.1; } server { location / { proxy_pass http://backend; } location /b { proxy_pass http://app:80; } } }"
        )
        .is_empty());
        // issue 8: a name that is no upstream's typo is resolved by nginx
        assert!(findings(
            "NGX-MAP-001",
            "http { upstream backend { server 10.0.0.1; } server { location / { proxy_pass http://app/; } } }"
        )
        .is_empty());
    }

    #[test]
    fn empty_stream_upstream() {
        let f = findings(
            "NGX-MAP-001",
            "stream { upstream db { } server { listen 1; proxy_pass db; } }",
        );
        assert_eq!(f, ["upstream `db` has no servers"]);
    }

    #[test]
    fn nginx_plus_fills_zoned_upstreams_at_run_time() {
        // NGINX-Demos' random-files/nginx.conf: servers come from the API
        let plus = "http { upstream backend { zone backend 64k; } server { listen 80; location / { proxy_pass http://backend; } location /api { api write=on; } } }";
        assert!(findings("NGX-MAP-001", plus).is_empty());
        // without a zone there is nowhere to add them; in open-source nginx
        // (no Plus directive) nginx -t refuses the empty upstream
        for src in [
            "http { upstream backend { } server { listen 80; location / { proxy_pass http://backend; } location /api { api write=on; } } }",
            "http { upstream backend { zone backend 64k; } server { listen 80; location / { proxy_pass http://backend; } } }",
        ] {
            assert_eq!(findings("NGX-MAP-001", src), ["upstream `backend` has no servers"], "{src}");
        }
    }
}
