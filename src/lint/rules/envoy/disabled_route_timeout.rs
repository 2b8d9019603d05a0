//! ENV-TMO-001 `disabled-route-timeout`: see the rule doc below.

use crate::declare_rule;
use crate::lint::LintContext;

declare_rule! {
    /// A route disables its upstream timeout (`timeout: 0s`) with no `idle_timeout`.
    ///
    /// ## What it does
    /// Flags a route with `timeout: 0s` and no `idle_timeout`, unless its
    /// `max_stream_duration` bounds the stream (a `max_stream_duration`
    /// above 0, or a `grpc_timeout_header_max`: the caller's gRPC deadline).
    /// (A `timeout`
    /// left at the default 15s is ENV-TMO-003, pedantic.)
    ///
    /// ## Why it causes 502s
    /// With no timeout Envoy waits forever for a hung upstream, so the hop
    /// in front of it gives up first and answers 502/504 itself, and the
    /// hung requests pile up as open streams (guide step 4, gateway
    /// timeouts).
    ///
    /// ## Example
    /// ```yaml
    /// # in a route
    /// route: { cluster: app, timeout: 0s }
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
    ///   the default is 15s"; 0 disables it) and `idle_timeout`:
    ///   <https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto#envoy-v3-api-field-config-route-v3-routeaction-timeout>
    pub DisabledRouteTimeout {
        id: "ENV-TMO-001",
        name: "disabled-route-timeout",
        severity: Warning,
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
        // `max_stream_duration` bounds the stream instead; with
        // `grpc_timeout_header_max` the caller's gRPC deadline does (the
        // setup Envoy's gRPC-Web docs and grpc-web's own envoy.yaml use for
        // streaming calls). Envoy API, RouteAction.MaxStreamDuration.
        let bounded = r
            .directives
            .get("max_stream_duration.max_stream_duration")
            .and_then(|d| d.args.first())
            .and_then(|a| a.time())
            .is_some_and(|d| !d.is_zero())
            || r.directives
                .has("max_stream_duration.grpc_timeout_header_max");
        if t.value.is_none() && !r.directives.has("idle_timeout") && !bounded {
            ctx.report(
                t.span,
                "route `timeout: 0s` disables the upstream timeout and no `idle_timeout` bounds it: a hung upstream holds the request until the hop in front gives up with its own 502/504",
                "set a finite `timeout` (e.g. `30s`), or at least an `idle_timeout`",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{boot, cluster, findings, route};

    #[test]
    fn fail() {
        let y = boot(
            "",
            &(route("/", "cluster: app, timeout: 0s") + &route("/b", "cluster: app")),
            &cluster("app", 1, ""),
        );
        assert_eq!(
            findings("ENV-TMO-001", &y),
            [
                "route `timeout: 0s` disables the upstream timeout and no `idle_timeout` bounds it: a hung upstream holds the request until the hop in front gives up with its own 502/504",
            ]
        );
    }

    #[test]
    fn pass() {
        let y = boot(
            "",
            &(route("/", "cluster: app, timeout: 30s")
                + &route("/ws", "cluster: app, timeout: 0s, idle_timeout: 300s")),
            &cluster("app", 1, ""),
        );
        assert!(findings("ENV-TMO-001", &y).is_empty());
        // grpc-web's net/grpc/gateway/examples/echo/envoy.yaml: the caller's
        // grpc-timeout bounds the stream; or a max_stream_duration does
        for bound in [
            "max_stream_duration: { grpc_timeout_header_max: 0s }",
            "max_stream_duration: { max_stream_duration: 60s }",
        ] {
            let y = boot(
                "",
                &route("/", &format!("cluster: app, timeout: 0s, {bound}")),
                &cluster("app", 1, ""),
            );
            assert!(findings("ENV-TMO-001", &y).is_empty(), "{bound}");
        }
        // a zero max_stream_duration bounds nothing
        let y = boot(
            "",
            &route(
                "/",
                "cluster: app, timeout: 0s, max_stream_duration: { max_stream_duration: 0s }",
            ),
            &cluster("app", 1, ""),
        );
        assert_eq!(findings("ENV-TMO-001", &y).len(), 1);
    }
}
