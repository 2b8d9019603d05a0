//! ENV-DNS-001 `static-hostname`: see the rule doc below.

use crate::config::model::Host;
use crate::declare_rule;
use crate::lint::LintContext;

declare_rule! {
    /// A STATIC cluster (the default type) lists a hostname as an endpoint address.
    ///
    /// ## What it does
    /// Flags endpoints whose `socket_address.address` is a DNS name in a
    /// cluster whose `type` is `STATIC` or absent (STATIC is the default).
    ///
    /// ## Why it causes 502s
    /// STATIC clusters take IP literals only; a hostname there is rejected
    /// (or never connects), so the route has no usable host (guide step 3,
    /// DNS).
    ///
    /// ## Example
    /// ```yaml
    /// # in clusters
    /// - name: app
    ///   load_assignment:
    ///     cluster_name: app
    ///     endpoints:
    ///     - lb_endpoints:
    ///       - endpoint: { address: { socket_address: { address: app.internal, port_value: 8080 } } }
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// # in clusters
    /// - name: app
    ///   type: STRICT_DNS
    ///   load_assignment:
    ///     cluster_name: app
    ///     endpoints:
    ///     - lb_endpoints:
    ///       - endpoint: { address: { socket_address: { address: app.internal, port_value: 8080 } } }
    /// ```
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// - Envoy API, `config.cluster.v3.Cluster.DiscoveryType` (STATIC = 0,
    ///   the default): <https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/cluster/v3/cluster.proto#enum-config-cluster-v3-cluster-discoverytype>
    pub StaticHostname {
        id: "ENV-DNS-001",
        name: "static-hostname",
        severity: Error,
        since: "0.1.0",
    }
}

fn check(ctx: &mut LintContext<'_>) {
    let model = ctx.model();
    for u in &model.upstreams {
        let ty = u
            .directives
            .get("type")
            .and_then(|d| d.arg(0))
            .unwrap_or("STATIC");
        if ty != "STATIC" || u.directives.has("cluster_type") {
            continue;
        }
        let implicit = !u.directives.has("type");
        for s in &u.servers {
            if let Host::Name(name) = &s.host {
                let at = s.params.first().map_or(s.span, |a| a.span);
                ctx.report(
                    at,
                    format!(
                        "cluster '{}' is STATIC{} but endpoint '{name}' is a hostname",
                        u.name,
                        if implicit { " (the default type)" } else { "" }
                    ),
                    "use `type: STRICT_DNS` (or LOGICAL_DNS for one name fronting many hosts)",
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{boot, findings, ROUTE};

    fn c(ty: &str, addr: &str) -> String {
        format!("  - name: app\n{ty}    load_assignment:\n      endpoints:\n      - lb_endpoints:\n        - endpoint: {{ address: {{ socket_address: {{ address: {addr}, port_value: 80 }} }} }}\n")
    }

    #[test]
    fn fail() {
        assert_eq!(
            findings("ENV-DNS-001", &boot("", ROUTE, &c("", "app.internal"))),
            ["cluster 'app' is STATIC (the default type) but endpoint 'app.internal' is a hostname"]
        );
    }

    #[test]
    fn pass() {
        assert!(findings(
            "ENV-DNS-001",
            &boot("", ROUTE, &c("    type: STRICT_DNS\n", "app.internal"))
        )
        .is_empty());
        assert!(findings("ENV-DNS-001", &boot("", ROUTE, &c("", "10.0.0.1"))).is_empty());
    }

    #[test]
    fn pass_unix_socket_with_relative_path() {
        // Istio's sidecar bootstrap (pkg/bootstrap/testdata/*_golden.json):
        // the SDS cluster is STATIC with a `pipe` endpoint whose path is
        // relative; a socket path is no hostname.
        let cluster = "  - name: sds-grpc\n    type: STATIC\n    load_assignment:\n      endpoints:\n      - lb_endpoints:\n        - endpoint: { address: { pipe: { path: ./var/run/secrets/workload-spiffe-uds/socket } } }\n";
        assert!(findings("ENV-DNS-001", &boot("", ROUTE, cluster)).is_empty());
    }
}
