//! ENV-DNS-002 `dns-refresh-too-slow`: see the rule doc below.

use crate::config::nginx::units::fmt_duration;
use crate::declare_rule;
use crate::lint::values::Time;
use crate::lint::{LintContext, Severity};

declare_rule! {
    /// A DNS cluster re-resolves rarely (`dns_refresh_rate` above 60s) and ignores record TTLs.
    ///
    /// ## What it does
    /// Warning for a STRICT_DNS/LOGICAL_DNS cluster with `respect_dns_ttl`
    /// false (the default) and `dns_refresh_rate` above `max_refresh`
    /// (60s). Info when these deprecated cluster fields are used at all
    /// (the DNS cluster extension, `cluster_type`, replaces them).
    ///
    /// ## Why it causes 502s
    /// After the origin's addresses move, Envoy keeps connecting to the old
    /// ones until the next refresh, and requests fail meanwhile (guide step
    /// 3, DNS).
    ///
    /// ## Example
    /// ```yaml
    /// # in clusters
    /// - name: app
    ///   type: STRICT_DNS
    ///   dns_refresh_rate: 300s
    /// ```
    ///
    /// ## Use instead
    /// The DNS cluster extension, with the record TTLs respected (the old
    /// cluster fields themselves are reported as deprecated, at info level):
    /// ```yaml
    /// # in clusters
    /// - name: app
    ///   cluster_type:
    ///     name: envoy.clusters.dns
    ///     typed_config:
    ///       "@type": type.googleapis.com/envoy.extensions.clusters.dns.v3.DnsCluster
    ///       respect_dns_ttl: true
    /// ```
    ///
    /// ## Options
    /// - `max_refresh` (time, default `60s`): longest accepted refresh rate.
    ///
    /// ## References
    /// - Envoy API, `config.cluster.v3.Cluster.dns_refresh_rate` (default
    ///   5000ms) and `respect_dns_ttl` (default false), both deprecated in
    ///   favour of the DNS cluster extension:
    ///   <https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/cluster/v3/cluster.proto#envoy-v3-api-field-config-cluster-v3-cluster-dns-refresh-rate>
    pub DnsRefreshTooSlow {
        id: "ENV-DNS-002",
        name: "dns-refresh-too-slow",
        severity: Warning,
        since: "0.1.0",
        options: DnsRefreshTooSlowOptions,
    }
}

/// Options of [`DnsRefreshTooSlow`] (`options.{id or name}` in the settings).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DnsRefreshTooSlowOptions {
    /// Longest accepted DNS refresh rate. Default 60s.
    pub max_refresh: Time,
}

impl Default for DnsRefreshTooSlowOptions {
    fn default() -> Self {
        DnsRefreshTooSlowOptions {
            max_refresh: Time(std::time::Duration::from_secs(60)),
        }
    }
}

fn check(ctx: &mut LintContext<'_>, o: &DnsRefreshTooSlowOptions) {
    let max = o.max_refresh.0;
    let model = ctx.model();
    for u in &model.upstreams {
        let ty = u
            .directives
            .get("type")
            .and_then(|d| d.arg(0))
            .unwrap_or("STATIC");
        if !matches!(ty, "STRICT_DNS" | "LOGICAL_DNS") {
            continue;
        }
        let ttl = u
            .directives
            .flag("respect_dns_ttl")
            .is_some_and(|t| t.value);
        if let Some(rate) = u.directives.time("dns_refresh_rate") {
            if !ttl && rate.value > max {
                ctx.report(
                    rate.span,
                    format!(
                        "cluster '{}' re-resolves only every {} and ignores DNS TTLs",
                        u.name,
                        fmt_duration(rate.value)
                    ),
                    format!(
                        "set `respect_dns_ttl: true` or a refresh rate of at most {}",
                        fmt_duration(max)
                    ),
                );
            }
        }
        for name in ["dns_refresh_rate", "respect_dns_ttl"] {
            if let Some(d) = u.directives.get(name) {
                ctx.report_at(
                    Severity::Info,
                    d.span,
                    format!("cluster '{}' uses the deprecated `{name}` field", u.name),
                    "move DNS settings to `cluster_type` with the envoy.clusters.dns extension (DnsCluster)",
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{boot, findings, ROUTE};

    fn c(extra: &str) -> String {
        format!("  - name: app\n    type: STRICT_DNS\n{extra}    load_assignment:\n      endpoints:\n      - lb_endpoints:\n        - endpoint: {{ address: {{ socket_address: {{ address: app.internal, port_value: 80 }} }} }}\n")
    }

    #[test]
    fn fail() {
        assert_eq!(
            findings(
                "ENV-DNS-002",
                &boot("", ROUTE, &c("    dns_refresh_rate: 300s\n"))
            ),
            [
                "cluster 'app' re-resolves only every 300s and ignores DNS TTLs",
                "cluster 'app' uses the deprecated `dns_refresh_rate` field",
            ]
        );
    }

    #[test]
    fn pass() {
        assert!(findings("ENV-DNS-002", &boot("", ROUTE, &c(""))).is_empty());
    }
}
