//! NGX-RTY-002 `unbounded-retries`: see the rule doc below.

use crate::declare_rule;
use crate::lint::LintContext;

use super::{proxied, route_label, stream_proxied};

declare_rule! {
    /// Retries across an upstream group (`http {}` or `stream {}`) are bounded neither in tries nor in time.
    ///
    /// ## What it does
    /// Flags a location that proxies to an `upstream` with two or more usable
    /// servers, retries (`proxy_next_upstream` is not `off`), and leaves both
    /// `proxy_next_upstream_tries` and `proxy_next_upstream_timeout` at 0
    /// (unlimited, the defaults). The same in `stream {}`, where
    /// `proxy_next_upstream` is `on` by default and each try may wait the
    /// full `proxy_connect_timeout`.
    ///
    /// ## Why it causes 502s
    /// Each attempt may take the full connect + read timeout, so a request can
    /// walk every server for minutes. The hop in front gives up first and
    /// emits its own 502/504; the real failure is never logged there (guide
    /// step 4).
    ///
    /// ## Example
    /// ```nginx
    /// http {
    ///     upstream app { server 10.0.0.1:8080; server 10.0.0.2:8080; }
    ///     server {
    ///         location / { proxy_pass http://app; }
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
    ///             proxy_next_upstream_tries 2;
    ///             proxy_next_upstream_timeout 10s;
    ///         }
    ///     }
    /// }
    /// ```
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// - nginx `proxy_next_upstream_tries`, `proxy_next_upstream_timeout`
    ///   (both default 0 = unlimited, since 1.7.5):
    ///   <https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_next_upstream_tries>
    pub UnboundedRetries {
        id: "NGX-RTY-002",
        name: "unbounded-retries",
        severity: Warning,
        since: "0.1.0",
    }
}

fn check(ctx: &mut LintContext<'_>) {
    for (_, r, p, pool) in proxied(ctx.model()) {
        let Some(pool) = pool else { continue };
        let n = pool.servers.iter().filter(|s| !s.down).count();
        if n < 2 || r.retry.on.value.is_empty() {
            continue;
        }
        if r.retry.tries.value == 0 && r.retry.timeout.value.is_none() {
            ctx.report(
                p.span,
                format!(
                    "{}: retries over {n} servers of `{}` are unlimited (proxy_next_upstream_tries and proxy_next_upstream_timeout are 0)",
                    route_label(r),
                    pool.name
                ),
                "bound them: `proxy_next_upstream_tries 2; proxy_next_upstream_timeout 10s;`",
            );
        }
    }
    for (s, p, pool) in stream_proxied(ctx.model()) {
        let Some(pool) = pool else { continue };
        let n = pool.servers.iter().filter(|s| !s.down).count();
        if n < 2 || !s.next_upstream.value {
            continue;
        }
        if s.tries.value == 0 && s.retry_timeout.value.is_none() {
            ctx.report(
                p.span,
                format!(
                    "{}: retries over {n} servers of `{}` are unlimited (proxy_next_upstream_tries and proxy_next_upstream_timeout are 0)",
                    s.label(),
                    pool.name
                ),
                "bound them: `proxy_next_upstream_tries 2; proxy_next_upstream_timeout 10s;`",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::test_util::findings;

    const UP: &str = "upstream app { server 10.0.0.1; server 10.0.0.2; }";

    #[test]
    fn fail() {
        let f = findings(
            "NGX-RTY-002",
            &format!("http {{ {UP} server {{ location / {{ proxy_pass http://app; }} }} }}"),
        );
        assert_eq!(f.len(), 1);
    }

    #[test]
    fn pass() {
        for extra in [
            "proxy_next_upstream_tries 2;",
            "proxy_next_upstream_timeout 10s;",
            "proxy_next_upstream off;",
        ] {
            let src = format!(
                "http {{ {UP} server {{ location / {{ proxy_pass http://app; {extra} }} }} }}"
            );
            assert!(findings("NGX-RTY-002", &src).is_empty(), "{extra}");
        }
    }

    #[test]
    fn stream() {
        let f = findings(
            "NGX-RTY-002",
            "stream { upstream a { server 10.0.0.1:1; server 10.0.0.2:1; } server { listen 1; proxy_pass a; } }",
        );
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(
            f[0].starts_with("stream server 1: retries over 2 servers"),
            "{f:?}"
        );
        assert!(findings(
            "NGX-RTY-002",
            "stream { upstream a { server 10.0.0.1:1; server 10.0.0.2:1; } server { listen 1; proxy_pass a; proxy_next_upstream_tries 2; } }",
        )
        .is_empty());
    }
}
