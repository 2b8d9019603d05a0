//! ENV-TMO-003 `implicit-route-timeout`: see the rule doc below.

use crate::config::nginx::units::fmt_duration;
use crate::declare_rule;
use crate::lint::LintContext;

declare_rule! {
    /// A route leaves its upstream timeout at the implicit 15s (pedantic).
    ///
    /// ## What it does
    /// Flags routes whose `timeout` is not written, so Envoy's default 15s
    /// applies. Off by default (`--select pedantic`): the default is a
    /// reasonable bound and only slow endpoints (exports, uploads, long
    /// polls) outlive it.
    ///
    /// ## Why it causes 502s
    /// A request that takes longer than 15s is cut by Envoy with 504
    /// "upstream request timeout", and an implicit value is easy to get out
    /// of line with the timeouts of the other hops (guide step 4).
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
    /// route: { cluster: app, timeout: 30s }
    /// ```
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// - Envoy API, `config.route.v3.RouteAction.timeout` ("If not specified,
    ///   the default is 15s"):
    ///   <https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto#envoy-v3-api-field-config-route-v3-routeaction-timeout>
    pub ImplicitRouteTimeout {
        id: "ENV-TMO-003",
        name: "implicit-route-timeout",
        severity: Info,
        since: "0.1.0",
        default: off,
    }
}

fn check(ctx: &mut LintContext<'_>) {
    let model = ctx.model();
    for (_, r) in model.routes() {
        if r.proxy.is_none() {
            continue;
        }
        let t = &r.timeouts.read;
        if let (true, Some(v)) = (t.defaulted, t.value) {
            ctx.report(
                t.span,
                format!("route timeout is the implicit default {}: requests slower than that get 504 from Envoy", fmt_duration(v)),
                "write the `timeout` explicitly so that it can be checked against the other hops",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{boot, cluster, findings, route};

    #[test]
    fn fail() {
        let y = boot("", &route("/b", "cluster: app"), &cluster("app", 1, ""));
        assert_eq!(
            findings("ENV-TMO-003", &y),
            ["route timeout is the implicit default 15s: requests slower than that get 504 from Envoy"]
        );
    }

    #[test]
    fn pass() {
        let y = boot(
            "",
            &route("/", "cluster: app, timeout: 30s"),
            &cluster("app", 1, ""),
        );
        assert!(findings("ENV-TMO-003", &y).is_empty());
    }
}
