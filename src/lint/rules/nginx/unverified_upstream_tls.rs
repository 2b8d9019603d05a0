//! NGX-TLS-002 `unverified-upstream-tls`: see the rule doc below.

use crate::config::model::Target;
use crate::declare_rule;
use crate::lint::{LintContext, Severity};

use super::proxied;

declare_rule! {
    /// Upstream certificate verification cannot succeed, or is off.
    ///
    /// ## What it does
    /// For `proxy_pass https://…` with `proxy_ssl_verify on`: flags (error) a
    /// missing `proxy_ssl_trusted_certificate`, and a target that is an
    /// upstream group while `proxy_ssl_name` is left at `$proxy_host` (the
    /// group name is then checked against the certificate). With verification
    /// off (the default) it adds an info note.
    ///
    /// ## Why it causes 502s
    /// Verification without a CA bundle, or against the group's name, fails
    /// on every handshake: every request is a 502 ("upstream SSL certificate
    /// verify error"). With verification off, a misrouted origin is never
    /// noticed (guide step 4, TLS).
    ///
    /// ## Example
    /// ```nginx
    /// location / {
    ///     proxy_pass https://backend;
    ///     proxy_ssl_verify on;
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```nginx
    /// location / {
    ///     proxy_pass https://backend;
    ///     proxy_ssl_verify on;
    ///     proxy_ssl_name api.example.com;
    ///     proxy_ssl_server_name on;
    ///     proxy_ssl_trusted_certificate /etc/ssl/certs/ca-certificates.crt;
    /// }
    /// ```
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// - nginx `proxy_ssl_verify` (default off), `proxy_ssl_name` (default
    ///   `$proxy_host`), `proxy_ssl_trusted_certificate`, all since 1.7.0:
    ///   <https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_ssl_verify>
    pub UnverifiedUpstreamTls {
        id: "NGX-TLS-002",
        name: "unverified-upstream-tls",
        severity: Error,
        since: "0.1.0",
    }
}

fn check(ctx: &mut LintContext<'_>) {
    for (_, r, p, _) in proxied(ctx.model()) {
        if p.scheme.as_deref() != Some("https") {
            continue;
        }
        let tls = &r.tls;
        if !tls.verify.value {
            ctx.report_at(
                Severity::Info,
                p.span,
                format!("proxy_pass {}: the upstream certificate is not verified (proxy_ssl_verify off)", p.raw),
                "turn on `proxy_ssl_verify` with `proxy_ssl_trusted_certificate` to catch misrouted origins",
            );
            continue;
        }
        if tls.trusted_ca.is_none() {
            ctx.report(
                tls.verify.span,
                "proxy_ssl_verify on without proxy_ssl_trusted_certificate: every handshake fails verification",
                "add `proxy_ssl_trusted_certificate /etc/ssl/certs/ca-certificates.crt;` (or your CA bundle)",
            );
        }
        if let Target::Pool(name) = &p.target {
            if tls.name.defaulted {
                ctx.report(
                    tls.verify.span,
                    format!("proxy_ssl_verify on with proxy_ssl_name defaulted: the certificate is checked against the group name `{name}`"),
                    "set `proxy_ssl_name <host on the certificate>;`",
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::test_util::findings;

    #[test]
    fn fail() {
        let f = findings(
            "NGX-TLS-002",
            "http { upstream b { server 10.0.0.1:443; } server { location / { proxy_pass https://b; proxy_ssl_verify on; } } }",
        );
        assert_eq!(f.len(), 2, "{f:?}");
    }

    #[test]
    fn pass() {
        assert!(findings(
            "NGX-TLS-002",
            "http { upstream b { server 10.0.0.1:443; } server { location / { proxy_pass https://b; proxy_ssl_verify on; proxy_ssl_name a.example.com; proxy_ssl_trusted_certificate /etc/ssl/ca.pem; } } }"
        )
        .is_empty());
        assert!(findings(
            "NGX-TLS-002",
            "http { server { location / { proxy_pass http://b.example.com; } } }"
        )
        .is_empty());
    }
}
