//! ENV-VAL-001 `invalid-value`: see the rule doc below.

use crate::declare_rule;
use crate::lint::LintContext;

declare_rule! {
    /// A value Envoy rejects: a malformed duration, an unknown enum, a non-positive `connect_timeout`, an over-long `sni`, a header limit out of range.
    ///
    /// ## What it does
    /// Reports values the Envoy reader recorded as invalid: durations that
    /// are not protobuf JSON durations (`"5s"`, `"0.250s"`), values of the
    /// wrong shape, unknown cluster `type` or `lb_policy`, a
    /// `connect_timeout` that is not positive, an `sni` over 255 bytes, and
    /// `max_request_headers_kb` outside 1..8192.
    ///
    /// ## Why it causes 502s
    /// Envoy rejects the whole config; a rejected update leaves the old one
    /// serving, and a rejected bootstrap does not start (guide step 4).
    ///
    /// ## Example
    /// ```yaml
    /// # in a cluster
    /// connect_timeout: 5
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// # in a cluster
    /// connect_timeout: 5s
    /// ```
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// - Envoy API, `config.cluster.v3.Cluster.connect_timeout` (default 5s,
    ///   must be > 0), `DiscoveryType`, `LbPolicy`, and the protobuf JSON
    ///   mapping of `Duration`:
    ///   <https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/cluster/v3/cluster.proto>
    pub InvalidValue {
        id: "ENV-VAL-001",
        name: "envoy-invalid-value",
        severity: Error,
        since: "0.1.0",
    }
}

fn check(ctx: &mut LintContext<'_>) {
    super::super::report_invalid(ctx, |i| i.problem.clone());
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{boot, findings, ROUTE};

    fn c(extra: &str) -> String {
        format!("  - name: app\n{extra}    load_assignment:\n      endpoints:\n      - lb_endpoints:\n        - endpoint: {{ address: {{ socket_address: {{ address: 10.0.0.1, port_value: 80 }} }} }}\n")
    }

    #[test]
    fn fail() {
        assert_eq!(
            findings("ENV-VAL-001", &boot("", ROUTE, &c("    connect_timeout: 5\n    type: STRICT_DNZ\n"))),
            [
                "static_resources.clusters[0].connect_timeout: '5' has no 's' suffix (protobuf durations look like \"5s\" or \"0.250s\")",
                "cluster 'app': unknown type 'STRICT_DNZ'",
            ]
        );
    }

    #[test]
    fn pass() {
        assert!(findings(
            "ENV-VAL-001",
            &boot("", ROUTE, &c("    connect_timeout: 5s\n    type: STATIC\n"))
        )
        .is_empty());
    }
}
