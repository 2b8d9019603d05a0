//! NGX-TLS-001 `missing-proxy-sni`: see the rule doc below.

use crate::config::model::{Host, PassModule, Target};
use crate::declare_rule;
use crate::lint::LintContext;

use super::proxied;

declare_rule! {
    /// `proxy_pass https://<name>` (or `grpc_pass grpcs://<name>`) without `proxy_ssl_server_name on` (`grpc_ssl_server_name on`) sends no SNI.
    ///
    /// ## What it does
    /// Flags a `proxy_pass` with the `https` scheme to a hostname or an
    /// upstream group while the effective `proxy_ssl_server_name` is off (the
    /// default). The same for `grpc_pass grpcs://…` and
    /// `grpc_ssl_server_name`, off by default too (nginx.org,
    /// `grpc_ssl_server_name`, in the proxy module's words).
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
    for (_, r) in ctx.model().routes() {
        let Some(mp) = r
            .module_pass
            .as_ref()
            .filter(|m| m.module == PassModule::Grpc)
        else {
            continue;
        };
        let p = &mp.target;
        let sni = r
            .directives
            .get("grpc_ssl_server_name")
            .is_some_and(|d| d.flag(0).is_some_and(|f| f.value));
        if p.scheme.as_deref() == Some("grpcs") && !sni && named(&p.target) {
            ctx.report(
                p.span,
                format!("grpc_pass {} sends no SNI (grpc_ssl_server_name is off)", p.raw),
                "add `grpc_ssl_server_name on;` (and `grpc_ssl_name <host>;` for an upstream group)",
            );
        }
    }
    for (_, r, p, _) in proxied(ctx.model()) {
        if p.scheme.as_deref() != Some("https") || r.tls.server_name.value {
            continue;
        }
        if named(&p.target) {
            ctx.report(
                p.span,
                format!("proxy_pass {} sends no SNI (proxy_ssl_server_name is off)", p.raw),
                "add `proxy_ssl_server_name on;` (and `proxy_ssl_name <host>;` for an upstream group)",
            );
        }
    }
}

/// True when the TLS peer is known by a name (a host name, an upstream, a
/// variable), where SNI matters; not for an IP literal.
fn named(t: &Target) -> bool {
    match t {
        Target::Pool(_) | Target::Dynamic | Target::Unknown(_) => true,
        Target::Address(Host::Name(_)) => true,
        Target::Address(_) => false,
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
    fn grpcs() {
        // Zitadel's nginx-enabled-tls.conf
        assert_eq!(
            findings(
                "NGX-TLS-001",
                "http { server { location / { grpc_pass grpcs://zitadel-enabled-tls:8080; } } }"
            ),
            ["grpc_pass grpcs://zitadel-enabled-tls:8080 sends no SNI (grpc_ssl_server_name is off)"]
        );
        for ok in [
            "http { server { location / { grpc_pass grpcs://zitadel:8080; grpc_ssl_server_name on; } } }",
            "http { server { location / { grpc_pass grpc://zitadel:8080; } } }",
            "http { server { location / { grpc_pass grpcs://10.0.0.1:8080; } } }",
            // proxy_ssl_server_name is the proxy module's, not grpc's
        ] {
            assert!(findings("NGX-TLS-001", ok).is_empty(), "{ok}");
        }
        assert_eq!(
            findings(
                "NGX-TLS-001",
                "http { proxy_ssl_server_name on; server { location / { grpc_pass grpcs://api.example.com; } } }"
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
