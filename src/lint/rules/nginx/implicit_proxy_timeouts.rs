//! NGX-TMO-002 `implicit-proxy-timeouts`: see the rule doc below.

use crate::declare_rule;
use crate::lint::LintContext;

use super::{proxied, route_label, stream_proxied};
use crate::config::nginx::stream::{CONNECT_TIMEOUT, PROXY_TIMEOUT};
use crate::config::nginx::units::fmt_duration;

declare_rule! {
    /// A proxying location leaves all three proxy timeouts at their implicit 60s (a `stream {}` server: 60s connect, 10m `proxy_timeout`).
    ///
    /// ## What it does
    /// Flags a location with `proxy_pass` whose effective
    /// `proxy_connect_timeout`, `proxy_read_timeout` and `proxy_send_timeout`
    /// are all defaulted (nothing sets them at http, server or location level),
    /// and a `stream {}` server with `proxy_pass` whose `proxy_connect_timeout`
    /// (60s) and `proxy_timeout` (10m) are both defaulted.
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
    for (s, _, _) in stream_proxied(ctx.model()) {
        if s.connect_timeout.defaulted && s.timeout.defaulted {
            ctx.report(
                s.span,
                format!(
                    "{}: proxy_connect_timeout and proxy_timeout are implicit ({} and {})",
                    s.label(),
                    fmt_duration(CONNECT_TIMEOUT),
                    fmt_duration(PROXY_TIMEOUT)
                ),
                "set both explicitly (here or in stream {}): proxy_timeout closes a connection idle that long, and the hops around must agree with it",
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
        let f = findings(
            "NGX-TMO-002",
            "stream { server { listen 5432; proxy_pass 10.0.0.1:5432; } }",
        );
        assert_eq!(
            f,
            ["stream server 5432: proxy_connect_timeout and proxy_timeout are implicit (60s and 600s)"]
        );
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
        assert!(findings(
            "NGX-TMO-002",
            "stream { proxy_timeout 1h; server { listen 1; proxy_pass 10.0.0.1:1; } }"
        )
        .is_empty());
    }
}
