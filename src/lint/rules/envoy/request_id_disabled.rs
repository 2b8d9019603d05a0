//! ENV-LOG-002 `request-id-disabled`: see the rule doc below.

use crate::declare_rule;
use crate::lint::LintContext;

declare_rule! {
    /// The HTTP connection manager does not generate `x-request-id` (`generate_request_id: false`).
    ///
    /// ## What it does
    /// Flags HTTP connection managers with `generate_request_id: false`.
    ///
    /// ## Why it causes 502s
    /// Without a request id generated at the edge and passed to every hop,
    /// one failing request cannot be followed across proxies, and a 502
    /// cannot be pinned on the hop that produced it (guide step 6).
    ///
    /// ## Example
    /// ```yaml
    /// # in the http_connection_manager
    /// generate_request_id: false
    /// ```
    ///
    /// ## Use instead
    /// Remove the override (`generate_request_id` defaults to true), or:
    /// ```yaml
    /// # in the http_connection_manager
    /// generate_request_id: true
    /// ```
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// - Envoy API, HCM `generate_request_id` (default true):
    ///   <https://www.envoyproxy.io/docs/envoy/latest/api-v3/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto>
    pub RequestIdDisabled {
        id: "ENV-LOG-002",
        name: "request-id-disabled",
        severity: Info,
        since: "0.1.0",
    }
}

fn check(ctx: &mut LintContext<'_>) {
    let model = ctx.model();
    for s in &model.servers {
        for d in s.directives.all("generate_request_id") {
            if d.flag(0).is_some_and(|f| !f.value) {
                ctx.report(
                    d.span,
                    format!("listener '{}' does not generate x-request-id: requests cannot be followed across hops", s.name),
                    "remove `generate_request_id: false`, and log %REQ(X-REQUEST-ID)%",
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
        assert_eq!(
            findings("ENV-LOG-002", &boot("          generate_request_id: false\n", ROUTE, &cluster("app", 1, ""))),
            ["listener 'ingress' does not generate x-request-id: requests cannot be followed across hops"]
        );
    }

    #[test]
    fn pass() {
        assert!(findings("ENV-LOG-002", &boot("", ROUTE, &cluster("app", 1, ""))).is_empty());
    }
}
