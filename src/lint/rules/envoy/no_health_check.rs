//! ENV-HLT-001 `no-health-check`: see the rule doc below.

use crate::declare_rule;
use crate::lint::LintContext;

declare_rule! {
    /// A cluster with several hosts has neither health checks nor outlier detection.
    ///
    /// ## What it does
    /// Flags clusters with two or more endpoints that have no
    /// `health_checks` and no `outlier_detection`. A single endpoint (a load
    /// balancer's or a service's DNS name) is left alone: there is no other
    /// host to send its traffic to, and DNS discovery drops addresses that
    /// leave DNS by itself.
    ///
    /// ## Why it causes 502s
    /// With neither, Envoy counts every host as healthy forever: when one of
    /// N hosts dies or starts failing, about 1 in N requests keeps going to
    /// it and fails (503 with flags UF/UC, or the host's own 5xx) until it is
    /// back (guide step 2, upstream health).
    ///
    /// ## Example
    /// ```yaml
    /// # in clusters
    /// - name: app
    ///   connect_timeout: 1s
    ///   load_assignment:
    ///     cluster_name: app
    ///     endpoints:
    ///     - lb_endpoints:
    ///       - endpoint: { address: { socket_address: { address: 10.0.0.1, port_value: 8080 } } }
    ///       - endpoint: { address: { socket_address: { address: 10.0.0.2, port_value: 8080 } } }
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// # in clusters
    /// - name: app
    ///   connect_timeout: 1s
    ///   outlier_detection: { consecutive_5xx: 5, interval: 10s, base_ejection_time: 30s }
    ///   load_assignment:
    ///     cluster_name: app
    ///     endpoints:
    ///     - lb_endpoints:
    ///       - endpoint: { address: { socket_address: { address: 10.0.0.1, port_value: 8080 } } }
    ///       - endpoint: { address: { socket_address: { address: 10.0.0.2, port_value: 8080 } } }
    /// ```
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// - Envoy API, `config.cluster.v3.Cluster.health_checks` and
    ///   `config.cluster.v3.OutlierDetection` (consecutive_5xx 5, interval
    ///   10s, base_ejection_time 30s, max_ejection_percent 10):
    ///   <https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/cluster/v3/outlier_detection.proto>
    pub NoHealthCheck {
        id: "ENV-HLT-001",
        name: "no-health-check",
        severity: Warning,
        since: "0.1.0",
    }
}

fn check(ctx: &mut LintContext<'_>) {
    let model = ctx.model();
    for u in &model.upstreams {
        // One endpoint (often a DNS name of a load balancer or a service
        // VIP) has nothing to eject in favour of; DNS discovery drops
        // addresses that leave DNS by itself.
        if u.servers.len() < 2 || u.health_check.value || u.directives.has("outlier_detection") {
            continue;
        }
        let n = u.servers.len();
        ctx.report(
            u.span,
            format!("cluster '{}' ({n} hosts) has no health_checks and no outlier_detection: when one host dies, about 1 in {n} requests keeps going to it and fails (503 UF/UC) until it is back", u.name),
            "add `outlier_detection: { consecutive_5xx: 5, interval: 10s }` and/or an HTTP health check",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{boot, cluster, findings, ROUTE};

    #[test]
    fn fail() {
        assert_eq!(
            findings("ENV-HLT-001", &boot("", ROUTE, &cluster("app", 2, ""))),
            ["cluster 'app' (2 hosts) has no health_checks and no outlier_detection: when one host dies, about 1 in 2 requests keeps going to it and fails (503 UF/UC) until it is back"]
        );
    }

    #[test]
    fn pass() {
        assert!(findings(
            "ENV-HLT-001",
            &boot("", ROUTE, &cluster("app", 2, "    outlier_detection: {}\n"))
        )
        .is_empty());
        assert!(findings("ENV-HLT-001", &boot("", ROUTE, &cluster("app", 1, ""))).is_empty());
        // issue 8 noise: one DNS name (a load balancer, a service VIP)
        assert!(findings(
            "ENV-HLT-001",
            &boot("", ROUTE, &cluster("app", 1, "    type: STRICT_DNS\n"))
        )
        .is_empty());
    }
}
