//! NGX-TLS-001 `missing-proxy-sni`: see the rule doc below.

use crate::config::model::{Host, Target};
use crate::declare_rule;
use crate::lint::LintContext;

use super::proxied;

declare_rule! {
    /// `proxy_pass https://<name>` without `proxy_ssl_server_name on` sends no SNI.
    ///
    /// ## What it does
    /// Flags a `proxy_pass` with the `https` scheme to a hostname or an
    /// upstream group while the effective `proxy_ssl_server_name` is off (the
    /// default).
    ///
    /// ## Why it causes 502s
    /// Without SNI, origins that pick a certificate or a tenant by server name
    /// (CDNs, Kubernetes ingresses, shared hosting, most SaaS APIs) fail the
    /// handshake or present the wrong certificate; nginx logs an SSL error and
    /// answers 502 (guide step 4, TLS).
    ///
    /// ## Example
    /// ```nginx
    /// location / { proxy_pass https://api.example.com; }
    /// ```
    ///
    /// ## Use instead
    /// ```nginx
    /// location / {
    ///     proxy_pass https://api.example.com;
    ///     proxy_ssl_server_name on;
    /// }
    /// ```
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// - nginx `proxy_ssl_server_name` (default off, since 1.7.0):
    ///   <https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_ssl_server_name>
    pub MissingProxySni {
        id: "NGX-TLS-001",
        name: "missing-proxy-sni",
        severity: Warning,
        since: "0.1.0",
    }
}

fn check(ctx: &mut LintContext<'_>) {
    for (_, r, p, _) in proxied(ctx.model()) {
        if p.scheme.as_deref() != Some("https") || r.tls.server_name.value {
            continue;
        }
        let named = match &p.target {
            Target::Pool(_) | Target::Dynamic | Target::Unknown(_) => true,
            Target::Address(Host::Name(_)) => true,
            Target::Address(_) => false,
        };
        if named {
            ctx.report(
                p.span,
                format!("proxy_pass {} sends no SNI (proxy_ssl_server_name is off)", p.raw),
                "add `proxy_ssl_server_name on;` (and `proxy_ssl_name <host>;` for an upstream group)",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::test_util::findings;

    #[test]
    fn fail() {
        assert_eq!(
            findings(
                "NGX-TLS-001",
                "http { server { location / { proxy_pass https://api.example.com; } } }"
            )
            .len(),
            1
        );
    }

    #[test]
    fn pass() {
        assert!(findings(
            "NGX-TLS-001",
            "http { proxy_ssl_server_name on; server { location / { proxy_pass https://api.example.com; } } }"
        )
        .is_empty());
        assert!(findings(
            "NGX-TLS-001",
            "http { server { location / { proxy_pass https://10.0.0.1; } } }"
        )
        .is_empty());
    }
}
