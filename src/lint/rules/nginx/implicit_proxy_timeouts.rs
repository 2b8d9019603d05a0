//! NGX-TMO-002 `implicit-proxy-timeouts`: see the rule doc below.

use crate::declare_rule;
use crate::lint::LintContext;

use super::{proxied, route_label};

declare_rule! {
    /// A proxying location leaves all three proxy timeouts at their implicit 60s.
    ///
    /// ## What it does
    /// Flags a location with `proxy_pass` whose effective
    /// `proxy_connect_timeout`, `proxy_read_timeout` and `proxy_send_timeout`
    /// are all defaulted (nothing sets them at http, server or location level).
    ///
    /// ## Why it causes 502s
    /// Implicit 60s values drift out of line with the hops around nginx: a CDN
    /// or load balancer that waits less answers 502/504 itself and the real
    /// cause is lost; the cross-hop timeout ladder (ALL-TMO-001) needs explicit
    /// numbers to check (guide step 4).
    ///
    /// ## Example
    /// ```nginx
    /// location / {
    ///     proxy_pass http://app;
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```nginx
    /// location / {
    ///     proxy_pass http://app;
    ///     proxy_connect_timeout 5s;
    ///     proxy_send_timeout 30s;
    ///     proxy_read_timeout 30s;
    /// }
    /// ```
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// - nginx proxy module, `proxy_connect_timeout`, `proxy_read_timeout`,
    ///   `proxy_send_timeout` (default 60s each):
    ///   <https://nginx.org/en/docs/http/ngx_http_proxy_module.html>
    pub ImplicitProxyTimeouts {
        id: "NGX-TMO-002",
        name: "implicit-proxy-timeouts",
        severity: Info,
        since: "0.1.0",
        default: off,
    }
}

fn check(ctx: &mut LintContext<'_>) {
    for (_, r, _, _) in proxied(ctx.model()) {
        let t = &r.timeouts;
        if t.connect.defaulted && t.read.defaulted && t.send.defaulted {
            ctx.report(
                r.span,
                format!(
                    "{}: proxy_connect_timeout, proxy_read_timeout and proxy_send_timeout are all implicit (60s)",
                    route_label(r)
                ),
                "set the three timeouts explicitly (here or at server/http level) so they can be checked against the other hops",
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
            "NGX-TMO-002",
            "http { server { location /a { proxy_pass http://127.0.0.1; } } }",
        );
        assert_eq!(f.len(), 1);
        assert!(f[0].starts_with("location /a:"));
    }

    #[test]
    fn pass() {
        assert!(findings(
            "NGX-TMO-002",
            "http { proxy_read_timeout 30s; server { location / { proxy_pass http://127.0.0.1; } } }"
        )
        .is_empty());
        assert!(findings(
            "NGX-TMO-002",
            "http { server { location / { root /srv; } } }"
        )
        .is_empty());
    }
}
