//! ENV-RTY-002 `no-retry-policy`: see the rule doc below.

use crate::declare_rule;
use crate::lint::LintContext;

declare_rule! {
    /// A route to a cluster of several hosts has no retry policy, so a connect failure is not tried elsewhere.
    ///
    /// ## What it does
    /// Flags routes (without a retry policy of their own or of their virtual
    /// host) whose cluster has two or more endpoints.
    ///
    /// ## Why it causes 502s
    /// Without a retry policy a connection refused by one host goes straight
    /// back to the client as an error, although the next host would have
    /// answered (guide step 2, failover).
    ///
    /// ## Example
    /// ```yaml
    /// # in a route
    /// route: { cluster: app }
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// # in a route
    /// route:
    ///   cluster: app
    ///   retry_policy: { retry_on: "connect-failure,refused-stream", num_retries: 2 }
    /// ```
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// - Envoy API, `config.route.v3.RetryPolicy` (routes and virtual hosts):
    ///   <https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto#envoy-v3-api-msg-config-route-v3-retrypolicy>
    pub NoRetryPolicy {
        id: "ENV-RTY-002",
        name: "no-retry-policy",
        severity: Info,
        since: "0.1.0",
    }
}

fn check(ctx: &mut LintContext<'_>) {
    let model = ctx.model();
    for (_, r) in model.routes() {
        if r.directives.has("retry_policy") {
            continue;
        }
        let Some(u) = model.target_pool(r) else {
            continue;
        };
        if u.servers.len() >= 2 {
            let at = r.proxy.as_ref().map_or(r.span, |p| p.span);
            ctx.report(
                at,
                format!("route to '{}' ({} hosts) has no retry policy: a failed connection is not retried on another host", u.name, u.servers.len()),
                "add `retry_policy: { retry_on: \"connect-failure,refused-stream\", num_retries: 2 }` to the route or virtual host",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{boot, cluster, findings, route, ROUTE};

    #[test]
    fn fail() {
        let y = boot("", ROUTE, &cluster("app", 2, ""));
        assert_eq!(
            findings("ENV-RTY-002", &y),
            ["route to 'app' (2 hosts) has no retry policy: a failed connection is not retried on another host"]
        );
    }

    #[test]
    fn pass() {
        let y = boot(
            "",
            &route(
                "/",
                "cluster: app, retry_policy: { retry_on: connect-failure }",
            ),
            &cluster("app", 2, ""),
        );
        assert!(findings("ENV-RTY-002", &y).is_empty());
        let y = boot("", ROUTE, &cluster("app", 1, ""));
        assert!(findings("ENV-RTY-002", &y).is_empty());
    }
}
