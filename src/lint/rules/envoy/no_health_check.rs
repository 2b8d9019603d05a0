//! ENV-HLT-001 `no-health-check`: see the rule doc below.

use crate::declare_rule;
use crate::lint::LintContext;

declare_rule! {
    /// A cluster with several hosts (or DNS discovery) has neither health checks nor outlier detection.
    ///
    /// ## What it does
    /// Flags clusters with two or more endpoints, or of a DNS type, that have
    /// no `health_checks` and no `outlier_detection`.
    ///
    /// ## Why it causes 502s
    /// With neither, Envoy counts every host as healthy forever: a dead or
    /// failing host keeps its share of traffic and every request to it fails
    /// (guide step 2, upstream health).
    ///
    /// ## Example
    /// ```yaml
    /// clusters:
    /// - name: app
    ///   type: STRICT_DNS
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// clusters:
    /// - name: app
    ///   type: STRICT_DNS
    ///   outlier_detection: { consecutive_5xx: 5, interval: 10s, base_ejection_time: 30s }
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
        category: "HLT",
        proxy: "envoy",
        since: "0.1.0",
    }
}

fn check(ctx: &mut LintContext<'_>) {
    let model = ctx.model();
    for u in &model.upstreams {
        let dns = u.servers.iter().any(|s| s.resolve);
        if (u.servers.len() < 2 && !dns)
            || u.health_check.value
            || u.directives.has("outlier_detection")
        {
            continue;
        }
        let why = if u.servers.len() >= 2 {
            format!("{} hosts", u.servers.len())
        } else {
            "DNS discovery".to_owned()
        };
        ctx.report(
            u.span,
            format!("cluster '{}' ({why}) has no health_checks and no outlier_detection: failing hosts are never ejected", u.name),
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
            ["cluster 'app' (2 hosts) has no health_checks and no outlier_detection: failing hosts are never ejected"]
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
    }
}
