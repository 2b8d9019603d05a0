//! ENV-KAL-001 `default-idle-timeout`: see the rule doc below.

use crate::config::nginx::units::fmt_duration;
use crate::declare_rule;
use crate::lint::LintContext;

declare_rule! {
    /// A cluster keeps idle upstream connections for the default hour, or sets it in the deprecated place.
    ///
    /// ## What it does
    /// Flags clusters reached by HTTP routes whose upstream HTTP
    /// `idle_timeout` is left at its default of 1 hour, and clusters that
    /// still use the deprecated `Cluster.common_http_protocol_options`.
    ///
    /// ## Why it causes 502s
    /// Application servers close idle keep-alive connections after seconds
    /// (Node 5s, gunicorn 2s, nginx 75s). Envoy keeps them for an hour and
    /// reuses one the server has already closed: the request is reset and
    /// the client gets a 503/502 (guide step 4, keep-alive).
    ///
    /// ## Example
    /// ```yaml
    /// # in a cluster
    /// connect_timeout: 1s
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// # in a cluster
    /// connect_timeout: 1s
    /// typed_extension_protocol_options:
    ///   envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
    ///     "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
    ///     common_http_protocol_options: { idle_timeout: 4s }
    ///     explicit_http_config: { http_protocol_options: {} }
    /// ```
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// - Envoy API, `config.core.v3.HttpProtocolOptions.idle_timeout` ("If
    ///   not specified, this defaults to 1 hour"):
    ///   <https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/core/v3/protocol.proto#envoy-v3-api-field-config-core-v3-httpprotocoloptions-idle-timeout>
    /// - server-side defaults: nginx `keepalive_timeout` 75s
    ///   (<https://nginx.org/en/docs/http/ngx_http_core_module.html#keepalive_timeout>),
    ///   Node.js `server.keepAliveTimeout` 5000 ms
    ///   (<https://nodejs.org/api/http.html#serverkeepalivetimeout>),
    ///   gunicorn `keepalive` 2 s
    ///   (<https://docs.gunicorn.org/en/stable/settings.html#keepalive>)
    pub DefaultIdleTimeout {
        id: "ENV-KAL-001",
        name: "default-idle-timeout",
        severity: Warning,
        since: "0.1.0",
    }
}

fn check(ctx: &mut LintContext<'_>) {
    let model = ctx.model();
    // Clusters no HTTP route can reach (e.g. only used by tcp_proxy) have no
    // HTTP idle timeout to speak of; with RDS, or in a CDS resource file, the
    // routes are unknown, so every cluster counts. A bootstrap's static
    // clusters beside dynamic_resources are most often the control plane's
    // (xds_cluster, a gRPC stream that is never idle): only routed ones
    // count there.
    let routes_unknown = model.global.main.has("xds_resources")
        || model.servers.iter().any(|s| s.directives.has("rds"));
    let routed: Vec<&str> = model
        .routes()
        .filter_map(|(_, r)| r.proxy.as_ref())
        .flat_map(|p| match &p.target {
            crate::config::model::Target::Pool(n) => vec![n.as_str()],
            _ => Vec::new(),
        })
        .chain(model.routes().flat_map(|(_, r)| {
            r.directives
                .all("weighted_clusters")
                .iter()
                .flat_map(|d| d.args.iter().map(|a| a.value.as_str()))
                .collect::<Vec<_>>()
        }))
        .collect();
    for u in &model.upstreams {
        if !routes_unknown && !routed.contains(&u.name.as_str()) {
            continue;
        }
        if let Some(d) = u.directives.get("common_http_protocol_options") {
            ctx.report(
                d.span,
                format!("cluster '{}' uses the deprecated `common_http_protocol_options` field", u.name),
                "move it into `typed_extension_protocol_options` → envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
            );
        }
        let k = &u.keepalive_timeout;
        if k.defaulted {
            ctx.report(
                k.span,
                format!("cluster '{}' keeps idle upstream connections for the default {}, far longer than servers keep them (nginx 75s, Node.js 5s, gunicorn 2s): a request sent on a connection the server is just closing fails with 503 UC", u.name, fmt_duration(k.value)),
                "set `common_http_protocol_options: { idle_timeout: … }` below the upstream server's keep-alive timeout",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{boot, cluster, findings, ROUTE};

    #[test]
    fn fail() {
        assert_eq!(
            findings("ENV-KAL-001", &boot("", ROUTE, &cluster("app", 1, ""))),
            ["cluster 'app' keeps idle upstream connections for the default 3600s, far longer than servers keep them (nginx 75s, Node.js 5s, gunicorn 2s): a request sent on a connection the server is just closing fails with 503 UC"]
        );
        assert_eq!(
            findings(
                "ENV-KAL-001",
                &boot(
                    "",
                    ROUTE,
                    &cluster(
                        "app",
                        1,
                        "    common_http_protocol_options: { idle_timeout: 4s }\n"
                    )
                )
            ),
            ["cluster 'app' uses the deprecated `common_http_protocol_options` field"]
        );
    }

    #[test]
    fn pass_for_clusters_no_http_route_reaches() {
        assert!(findings(
            "ENV-KAL-001",
            &boot(
                "",
                ROUTE,
                &(cluster("app", 1, OPTS) + &cluster("tcp_only", 1, ""))
            )
        )
        .is_empty());
    }

    const OPTS: &str = "    typed_extension_protocol_options:\n      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:\n        \"@type\": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions\n        common_http_protocol_options: { idle_timeout: 4s }\n";

    #[test]
    fn pass() {
        let opts = "    typed_extension_protocol_options:\n      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:\n        \"@type\": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions\n        common_http_protocol_options: { idle_timeout: 4s }\n";
        assert!(findings("ENV-KAL-001", &boot("", ROUTE, &cluster("app", 1, opts))).is_empty());
    }
}
