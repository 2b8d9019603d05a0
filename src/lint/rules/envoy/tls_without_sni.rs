//! ENV-TLS-001 `tls-without-sni`: see the rule doc below.

use crate::declare_rule;
use crate::lint::{LintContext, Severity};

declare_rule! {
    /// A cluster's upstream TLS sends no SNI, or does not verify the server certificate.
    ///
    /// ## What it does
    /// Warning for a cluster whose `transport_socket` is an
    /// `UpstreamTlsContext` with no `sni`, no `auto_host_sni`, and no
    /// `auto_sni` in its upstream HTTP protocol options. Info when it has no
    /// validation context (`trusted_ca`), so certificates are not verified.
    ///
    /// ## Why it causes 502s
    /// Origins behind CDNs, ingress controllers and shared hosts choose the
    /// certificate and the site by SNI: without it the handshake fails and
    /// Envoy answers "upstream connect error" (guide step 4, TLS).
    ///
    /// ## Example
    /// ```yaml
    /// # in a cluster
    /// transport_socket:
    ///   name: envoy.transport_sockets.tls
    ///   typed_config:
    ///     "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// # in a cluster
    /// transport_socket:
    ///   name: envoy.transport_sockets.tls
    ///   typed_config:
    ///     "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
    ///     sni: api.example.com
    ///     common_tls_context:
    ///       validation_context: { trusted_ca: { filename: /etc/ssl/certs/ca-certificates.crt } }
    /// ```
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// - Envoy API, `extensions.transport_sockets.tls.v3.UpstreamTlsContext`
    ///   (`sni`, at most 255 bytes; `auto_host_sni`) and
    ///   `CertificateValidationContext` (no verification without
    ///   `trusted_ca`): <https://www.envoyproxy.io/docs/envoy/latest/api-v3/extensions/transport_sockets/tls/v3/tls.proto>
    pub TlsWithoutSni {
        id: "ENV-TLS-001",
        name: "tls-without-sni",
        severity: Warning,
        since: "0.1.0",
    }
}

fn is_true(u: &crate::config::model::Upstream, name: &str) -> bool {
    u.directives.flag(name).is_some_and(|f| f.value)
}

fn check(ctx: &mut LintContext<'_>) {
    let model = ctx.model();
    for u in &model.upstreams {
        let Some(tls) = u.directives.get("tls") else {
            continue;
        };
        let sni = u.directives.has("tls.sni")
            || is_true(u, "tls.auto_host_sni")
            || is_true(u, "auto_sni")
            || is_true(u, "upstream_http_protocol_options.auto_sni");
        if !sni {
            ctx.report(
                tls.span,
                format!("cluster '{}' opens TLS without SNI", u.name),
                "set `sni: <origin host name>` in the UpstreamTlsContext (or `auto_host_sni: true`)",
            );
        }
        if !u.directives.has("tls.trusted_ca") {
            ctx.report_at(
                Severity::Info,
                tls.span,
                format!(
                    "cluster '{}' does not verify the upstream certificate (no trusted_ca)",
                    u.name
                ),
                "add `common_tls_context.validation_context.trusted_ca`",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{boot, cluster, findings, ROUTE};

    fn tls(extra: &str) -> String {
        format!("    transport_socket:\n      name: envoy.transport_sockets.tls\n      typed_config:\n        \"@type\": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext\n{extra}")
    }

    #[test]
    fn fail() {
        assert_eq!(
            findings(
                "ENV-TLS-001",
                &boot("", ROUTE, &cluster("app", 1, &tls("")))
            ),
            [
                "cluster 'app' does not verify the upstream certificate (no trusted_ca)",
                "cluster 'app' opens TLS without SNI",
            ]
        );
    }

    #[test]
    fn pass() {
        let t = tls("        sni: api.example.com\n        common_tls_context:\n          validation_context: { trusted_ca: { filename: /etc/ssl/ca.pem } }\n");
        assert!(findings("ENV-TLS-001", &boot("", ROUTE, &cluster("app", 1, &t))).is_empty());
    }

    #[test]
    fn pass_trust_bundle_from_sds_in_a_combined_context() {
        // SPIRE's k8s/envoy-x509 frontend and Istio's zipkin cluster: SAN
        // matchers in `default_validation_context`, the CA bundle from SDS
        let t = tls("        sni: backend\n        common_tls_context:\n          combined_validation_context:\n            default_validation_context: { match_typed_subject_alt_names: [ { san_type: URI, matcher: { exact: \"spiffe://example.org/backend\" } } ] }\n            validation_context_sds_secret_config: { name: \"spiffe://example.org\", sds_config: { ads: {} } }\n");
        assert!(findings("ENV-TLS-001", &boot("", ROUTE, &cluster("app", 1, &t))).is_empty());
    }
}
