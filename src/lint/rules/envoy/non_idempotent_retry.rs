//! ENV-RTY-001 `non-idempotent-retry`: see the rule doc below.

use crate::config::model::Route;
use crate::declare_rule;
use crate::lint::LintContext;

declare_rule! {
    /// A route retries after the request reached the upstream, for all methods (POST included).
    ///
    /// ## What it does
    /// Flags a route whose effective `retry_on` contains `5xx`,
    /// `gateway-error`, `reset` or `retriable-status-codes` while its match
    /// does not restrict `:method` to idempotent methods (GET, HEAD, OPTIONS,
    /// PUT, DELETE, TRACE).
    ///
    /// ## Why it causes 502s
    /// Those conditions fire after the upstream may have acted on the
    /// request: a POST is replayed, writes happen twice, and the failures
    /// hide as retries until they surface as 502s under load (guide step 4,
    /// retry policies).
    ///
    /// ## Example
    /// ```yaml
    /// # in routes
    /// - match: { prefix: / }
    ///   route: { cluster: app, retry_policy: { retry_on: 5xx, num_retries: 2 } }
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// # in routes
    /// - match:
    ///     prefix: /
    ///     headers: [{ name: ":method", string_match: { exact: GET } }]
    ///   route: { cluster: app, retry_policy: { retry_on: 5xx, num_retries: 2 } }
    /// - match: { prefix: / }
    ///   route: { cluster: app, retry_policy: { retry_on: "connect-failure,refused-stream" } }
    /// ```
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// - Envoy API, `config.route.v3.RetryPolicy.retry_on` (no default) and
    ///   the router's `x-envoy-retry-on` conditions:
    ///   <https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_filters/router_filter#x-envoy-retry-on>
    pub NonIdempotentRetry {
        id: "ENV-RTY-001",
        name: "envoy-non-idempotent-retry",
        severity: Warning,
        since: "0.1.0",
    }
}

const AFTER_SEND: &[&str] = &["5xx", "gateway-error", "reset", "retriable-status-codes"];
const IDEMPOTENT: &[&str] = &["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"];

/// True when the route only matches idempotent methods.
fn idempotent_only(r: &Route) -> bool {
    // `methods`: what each `:method` header match admits (Envoy lowering).
    r.directives.all("methods").iter().any(|d| {
        d.args
            .iter()
            .all(|m| IDEMPOTENT.contains(&m.value.as_str()))
    })
}

fn check(ctx: &mut LintContext<'_>) {
    let model = ctx.model();
    for (_, r) in model.routes() {
        let risky: Vec<&str> = r
            .retry
            .on
            .value
            .iter()
            .map(String::as_str)
            .filter(|c| AFTER_SEND.contains(c))
            .collect();
        if risky.is_empty() || idempotent_only(r) {
            continue;
        }
        // A route that admits only some methods (ESPv2's per-operation
        // routes: one `:method` exact match each) replays those.
        let admitted: Vec<&str> = r
            .directives
            .all("methods")
            .iter()
            .flat_map(|d| d.args.iter().map(|a| a.value.as_str()))
            .filter(|m| !IDEMPOTENT.contains(m))
            .collect();
        let replayed = if r.directives.all("methods").is_empty() || admitted.is_empty() {
            "requests of every method, POST included".to_owned()
        } else {
            format!("the {} requests this route matches", admitted.join("/"))
        };
        ctx.report(
            r.retry.on.span,
            format!("retry_on `{}` replays {replayed}", risky.join(",")),
            "restrict this route to idempotent methods with a `:method` header match, or retry only on `connect-failure,refused-stream`",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{boot, cluster, findings};

    fn y(matcher: &str, on: &str) -> String {
        boot(
            "",
            &format!("              - match: {matcher}\n                route: {{ cluster: app, retry_policy: {{ retry_on: \"{on}\" }} }}\n"),
            &cluster("app", 2, ""),
        )
    }

    #[test]
    fn fail() {
        assert_eq!(
            findings("ENV-RTY-001", &y("{ prefix: / }", "5xx,connect-failure")),
            ["retry_on `5xx` replays requests of every method, POST included"]
        );
    }

    #[test]
    fn method_routes_name_what_they_replay() {
        // ESPv2's per-operation routes: `CreateShelf` matches POST only
        assert_eq!(
            findings(
                "ENV-RTY-001",
                &y(
                    "{ path: /shelves, headers: [{ name: \":method\", string_match: { exact: POST } }] }",
                    "reset,connect-failure,refused-stream"
                )
            ),
            ["retry_on `reset` replays the POST requests this route matches"]
        );
    }

    #[test]
    fn pass() {
        assert!(findings(
            "ENV-RTY-001",
            &y("{ prefix: / }", "connect-failure,refused-stream")
        )
        .is_empty());
        assert!(findings(
            "ENV-RTY-001",
            &y(
                "{ prefix: /, headers: [{ name: \":method\", string_match: { exact: GET } }] }",
                "5xx"
            )
        )
        .is_empty());
        assert!(findings(
            "ENV-RTY-001",
            &y("{ prefix: /, headers: [{ name: \":method\", safe_regex_match: { regex: \"^(GET|HEAD)$\" } }] }", "reset")
        )
        .is_empty());
    }
}
