//! ENV-TMO-001 `disabled-route-timeout`: see the rule doc below.

use crate::config::units::fmt_duration;
use crate::declare_rule;
use crate::lint::{LintContext, Severity};

declare_rule! {
    /// A route disables its upstream timeout (`timeout: 0s`) with no `idle_timeout`, or leaves it at the implicit 15s.
    ///
    /// ## What it does
    /// Warning for a route with `timeout: 0s` and no `idle_timeout`; info
    /// for a route whose `timeout` is left at the default 15s.
    ///
    /// ## Why it causes 502s
    /// With no timeout Envoy waits forever for a hung upstream, so the hop
    /// in front of it gives up first and answers 502/504 itself. An implicit
    /// 15s is easy to get out of line with the other hops, and undercuts
    /// slow endpoints (guide step 4, gateway timeouts).
    ///
    /// ## Example
    /// ```yaml
    /// route: { cluster: app, timeout: 0s }
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// route: { cluster: app, timeout: 30s }
    /// ```
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// - Envoy API, `config.route.v3.RouteAction.timeout` ("If not specified,
    ///   the default is 15s"; 0 disables it) and `idle_timeout`:
    ///   <https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto#envoy-v3-api-field-config-route-v3-routeaction-timeout>
    pub DisabledRouteTimeout {
        id: "ENV-TMO-001",
        name: "disabled-route-timeout",
        severity: Warning,
        category: "TMO",
        proxy: "envoy",
        since: "0.1.0",
    }
}

fn check(ctx: &mut LintContext<'_>) {
    let model = ctx.model();
    for (_, r) in model.routes() {
        if r.proxy.is_none() {
            continue;
        }
        let t = &r.timeouts.read;
        if t.value.is_none() && !r.directives.has("idle_timeout") {
            ctx.report(
                t.span,
                "route `timeout: 0s` disables the upstream timeout and no `idle_timeout` bounds it",
                "set a finite `timeout` (e.g. `30s`), or at least an `idle_timeout`",
            );
        } else if t.defaulted {
            if let Some(v) = t.value {
                ctx.report_at(
                    Severity::Info,
                    t.span,
                    format!("route timeout is the implicit default {}", fmt_duration(v)),
                    "write the `timeout` explicitly so that it can be checked against the other hops",
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{boot, cluster, findings};

    #[test]
    fn fail() {
        let y = boot(
            "",
            "              - match: { prefix: / }\n                route: { cluster: app, timeout: 0s }\n              - match: { prefix: /b }\n                route: { cluster: app }\n",
            &cluster("app", 1, ""),
        );
        assert_eq!(
            findings("ENV-TMO-001", &y),
            [
                "route `timeout: 0s` disables the upstream timeout and no `idle_timeout` bounds it",
                "route timeout is the implicit default 15s",
            ]
        );
    }

    #[test]
    fn pass() {
        let y = boot(
            "",
            "              - match: { prefix: / }\n                route: { cluster: app, timeout: 30s }\n              - match: { prefix: /ws }\n                route: { cluster: app, timeout: 0s, idle_timeout: 300s }\n",
            &cluster("app", 1, ""),
        );
        assert!(findings("ENV-TMO-001", &y).is_empty());
    }
}
