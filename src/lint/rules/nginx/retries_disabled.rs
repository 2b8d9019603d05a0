//! NGX-RTY-003 `retries-disabled`: see the rule doc below.

use crate::declare_rule;
use crate::lint::LintContext;

use super::{proxied, route_label, stream_proxied};

declare_rule! {
    /// `proxy_next_upstream off` (or `fastcgi_`, `uwsgi_`, `scgi_`, `grpc_next_upstream off`) on a location or `stream {}` server whose upstream has several servers.
    ///
    /// ## What it does
    /// Flags `proxy_next_upstream off` in effect for a location that proxies
    /// to an `upstream` with two or more non-backup, non-down servers; and a
    /// `stream {}` server with `proxy_next_upstream off` (a flag there,
    /// default `on`) before such a stream `upstream`. The same for
    /// `fastcgi_next_upstream off` (and the `uwsgi_`, `scgi_`, `grpc_`
    /// ones) in a location that passes to such an `upstream`.
    ///
    /// ## Why it causes 502s
    /// With failover off, one dead or restarting server turns its share of
    /// requests into 502s although healthy servers stand next to it (guide
    /// step 2).
    ///
    /// ## Example
    /// ```nginx
    /// http {
    ///     upstream app { server 10.0.0.1:8080; server 10.0.0.2:8080; }
    ///     server {
    ///         location / {
    ///             proxy_pass http://app;
    ///             proxy_next_upstream off;
    ///         }
    ///     }
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```nginx
    /// http {
    ///     upstream app { server 10.0.0.1:8080; server 10.0.0.2:8080; }
    ///     server {
    ///         location / {
    ///             proxy_pass http://app;
    ///             proxy_next_upstream error timeout;
    ///             proxy_next_upstream_tries 2;
    ///         }
    ///     }
    /// }
    /// ```
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// - nginx `proxy_next_upstream`:
    ///   <https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_next_upstream>
    pub RetriesDisabled {
        id: "NGX-RTY-003",
        name: "retries-disabled",
        severity: Warning,
        since: "0.1.0",
    }
}

fn check(ctx: &mut LintContext<'_>) {
    for (_, r, _, pool) in proxied(ctx.model()) {
        let Some(pool) = pool else { continue };
        let n = pool.primary().count();
        if n >= 2 && r.retry.on.is_explicit() && r.retry.on.value.is_empty() {
            ctx.report(
                r.retry.on.span,
                format!(
                    "{}: proxy_next_upstream off, so a failing server of `{}` ({n} servers) returns 502 instead of failing over",
                    route_label(r),
                    pool.name
                ),
                "use `proxy_next_upstream error timeout;` with bounded tries (NGX-RTY-002)",
            );
        }
    }
    let m = ctx.model();
    for (_, r) in m.routes() {
        let (Some(mp), Some(pool)) = (&r.module_pass, m.module_pool(r)) else {
            continue;
        };
        let n = pool.primary().count();
        let on = &mp.retry.on;
        if n >= 2 && on.is_explicit() && on.value.is_empty() {
            let p = mp.module.prefix();
            ctx.report(
                on.span,
                format!(
                    "{}: {p}_next_upstream off, so a failing server of `{}` ({n} servers) returns 502 instead of failing over",
                    route_label(r),
                    pool.name
                ),
                format!("use `{p}_next_upstream error timeout;` with bounded tries (NGX-RTY-002)"),
            );
        }
    }
    for (s, _, pool) in stream_proxied(ctx.model()) {
        let Some(pool) = pool else { continue };
        let n = pool.primary().count();
        if n >= 2 && s.next_upstream.is_explicit() && !s.next_upstream.value {
            ctx.report(
                s.next_upstream.span,
                format!(
                    "{}: proxy_next_upstream off, so a connection that fails to connect to a server of `{}` ({n} servers) is closed instead of trying the next one",
                    s.label(),
                    pool.name
                ),
                "drop `proxy_next_upstream off;` (on by default in stream) and bound the tries with `proxy_next_upstream_tries 2;`",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::test_util::findings;

    #[test]
    fn fail() {
        let f = findings(
            "NGX-RTY-003",
            "http { upstream a { server 10.0.0.1; server 10.0.0.2; } server { location / { proxy_pass http://a; proxy_next_upstream off; } } }",
        );
        assert_eq!(f.len(), 1);
    }

    #[test]
    fn fastcgi() {
        let up = "upstream php { server 10.0.0.1:9000; server 10.0.0.2:9000; }";
        assert_eq!(
            findings(
                "NGX-RTY-003",
                &format!("http {{ {up} server {{ location ~ \\.php$ {{ fastcgi_pass php; fastcgi_next_upstream off; }} }} }}"),
            ),
            ["location ~ \\.php$: fastcgi_next_upstream off, so a failing server of `php` (2 servers) returns 502 instead of failing over"]
        );
        assert!(findings(
            "NGX-RTY-003",
            &format!("http {{ {up} server {{ location ~ \\.php$ {{ fastcgi_pass php; fastcgi_next_upstream error timeout; fastcgi_next_upstream_tries 2; }} }} }}"),
        )
        .is_empty());
    }

    #[test]
    fn pass() {
        assert!(findings(
            "NGX-RTY-003",
            "http { upstream a { server 10.0.0.1; server 10.0.0.2 backup; } server { location / { proxy_pass http://a; proxy_next_upstream off; } } }"
        )
        .is_empty());
        assert!(findings(
            "NGX-RTY-003",
            "http { upstream a { server 10.0.0.1; server 10.0.0.2; } server { location / { proxy_pass http://a; } } }"
        )
        .is_empty());
    }

    #[test]
    fn stream() {
        let f = findings(
            "NGX-RTY-003",
            "stream { upstream a { server 10.0.0.1:1; server 10.0.0.2:1; } server { listen 1; proxy_pass a; proxy_next_upstream off; } }",
        );
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(
            f[0].starts_with("stream server 1: proxy_next_upstream off"),
            "{f:?}"
        );
        // on by default in stream
        assert!(findings(
            "NGX-RTY-003",
            "stream { upstream a { server 10.0.0.1:1; server 10.0.0.2:1; } server { listen 1; proxy_pass a; } }",
        )
        .is_empty());
    }
}
