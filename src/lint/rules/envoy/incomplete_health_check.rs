//! ENV-HLT-002 `incomplete-health-check`: see the rule doc below.

use crate::declare_rule;
use crate::lint::LintContext;

declare_rule! {
    /// A `health_checks` entry lacks one of its required fields.
    ///
    /// ## What it does
    /// Flags `health_checks` entries without `timeout`, `interval`,
    /// `unhealthy_threshold` or `healthy_threshold`.
    ///
    /// ## Why it causes 502s
    /// The four fields are required: Envoy rejects the config, and a
    /// rejected update leaves the old (maybe broken) config serving (guide
    /// step 2, health checks).
    ///
    /// ## Example
    /// ```yaml
    /// # in a cluster
    /// health_checks:
    /// - timeout: 1s
    ///   interval: 5s
    ///   http_health_check: { path: /healthz }
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// # in a cluster
    /// health_checks:
    /// - timeout: 1s
    ///   interval: 5s
    ///   unhealthy_threshold: 3
    ///   healthy_threshold: 2
    ///   http_health_check: { path: /healthz }
    /// ```
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// - Envoy API, `config.core.v3.HealthCheck` (all four fields required):
    ///   <https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/core/v3/health_check.proto>
    pub IncompleteHealthCheck {
        id: "ENV-HLT-002",
        name: "incomplete-health-check",
        severity: Error,
        since: "0.1.0",
    }
}

const REQUIRED: &[&str] = &[
    "timeout",
    "interval",
    "unhealthy_threshold",
    "healthy_threshold",
];

fn check(ctx: &mut LintContext<'_>) {
    let model = ctx.model();
    for u in &model.upstreams {
        for hc in u.directives.all("health_check") {
            let missing: Vec<&str> = REQUIRED
                .iter()
                .copied()
                .filter(|f| !hc.args.iter().any(|a| a.value == *f))
                .collect();
            if !missing.is_empty() {
                ctx.report(
                    hc.span,
                    format!("health check of cluster '{}' lacks required {}", u.name, missing.join(", ")),
                    "give every health check timeout, interval, unhealthy_threshold and healthy_threshold",
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{boot, cluster, findings, ROUTE};

    #[test]
    fn fail() {
        let c = cluster(
            "app",
            1,
            "    health_checks:\n    - { timeout: 1s, interval: 5s, tcp_health_check: {} }\n",
        );
        assert_eq!(
            findings("ENV-HLT-002", &boot("", ROUTE, &c)),
            ["health check of cluster 'app' lacks required unhealthy_threshold, healthy_threshold"]
        );
    }

    #[test]
    fn pass() {
        let c = cluster("app", 1, "    health_checks:\n    - { timeout: 1s, interval: 5s, unhealthy_threshold: 3, healthy_threshold: 2, tcp_health_check: {} }\n");
        assert!(findings("ENV-HLT-002", &boot("", ROUTE, &c)).is_empty());
    }
}
