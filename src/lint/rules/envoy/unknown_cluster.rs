//! ENV-MAP-001 `unknown-cluster`: see the rule doc below.

use crate::config::model::Target;
use crate::declare_rule;
use crate::lint::{LintContext, Severity};

declare_rule! {
    /// A route names a cluster that is not defined, picks its cluster from a request header, or its routes come from RDS.
    ///
    /// ## What it does
    /// Error when a route's `cluster` (or a `weighted_clusters` entry) names
    /// no cluster defined in `static_resources`. Warning for
    /// `cluster_header` routes (an absent or unknown header value has no
    /// fallback). Info when a listener's routes come from RDS, or resources
    /// from `dynamic_resources`, so they cannot be checked here.
    ///
    /// ## Why it causes 502s
    /// An unknown cluster is rejected when route validation applies, and
    /// otherwise answered with `cluster_not_found_response_code` (503) on
    /// every request — a gateway error the application never sees (guide
    /// step 4, upstream mappings).
    ///
    /// ## Example
    /// ```yaml
    /// # in a route
    /// route: { cluster: backnd }
    /// ```
    /// ```yaml
    /// # in clusters
    /// - name: backend
    ///   connect_timeout: 1s
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// # in a route
    /// route: { cluster: backend }
    /// ```
    /// ```yaml
    /// # in clusters
    /// - name: backend
    ///   connect_timeout: 1s
    /// ```
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// - Envoy API, `config.route.v3.RouteAction.cluster`,
    ///   `cluster_header`, `cluster_not_found_response_code` (default
    ///   SERVICE_UNAVAILABLE):
    ///   <https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto#envoy-v3-api-msg-config-route-v3-routeaction>
    pub UnknownCluster {
        id: "ENV-MAP-001",
        name: "unknown-cluster",
        severity: Error,
        since: "0.1.0",
    }
}

fn check(ctx: &mut LintContext<'_>) {
    let model = ctx.model();
    // Clusters of every Envoy config in the run: xDS resource files split
    // listeners and clusters across files (`path_config_source`).
    let names: Vec<&str> = ctx
        .models()
        .iter()
        .filter(|m| m.kind == model.kind)
        .flat_map(|m| m.upstreams.iter().map(|u| u.name.as_str()))
        .collect();
    // Listeners of an xDS resource file, or of a bootstrap with
    // dynamic_resources, may route to clusters that come from elsewhere
    // (CDS): an unknown name is not known to be wrong.
    // A `/config_dump` holds every cluster Envoy has in its
    // `ClustersConfigDump`; a partial dump (`?resource=dynamic_listeners`)
    // without that part does not.
    let partial_dump = model
        .global
        .main
        .get("config_dump")
        .is_some_and(|d| !d.args.iter().any(|a| a.value == "ClustersConfigDump"));
    let clusters_elsewhere = model.global.main.has("xds_resources")
        || model.global.main.has("dynamic_resources")
        || partial_dump;
    if let Some(d) = model.global.main.get("config_dump.unattached_routes") {
        let names: Vec<&str> = d.args.iter().map(|a| a.value.as_str()).collect();
        ctx.report_at(
            Severity::Info,
            d.span,
            format!(
                "route configurations {} of this config dump are used by no listener in it and are not checked",
                names.join(", ")
            ),
            "dump the listeners too (`/config_dump` without `?resource=`), so the routes are read where they are used",
        );
    }
    if let Some(d) = model.global.main.get("dynamic_resources") {
        let remote = d.arg(0) == Some("remote");
        let local: Vec<&str> = d
            .args
            .iter()
            .map(|a| a.value.as_str())
            .filter(|a| *a != "remote")
            .collect();
        let (what, help) = if local.is_empty() {
            (
                "dynamic_resources: listeners, routes and clusters served by a management server are not in this file and are not checked".to_owned(),
                "lint the resources the management server serves, too".to_owned(),
            )
        } else {
            (
                format!(
                    "dynamic_resources: listeners and clusters are read from {}{}; they are not in this file and are checked only when linted too",
                    local.join(", "),
                    if remote { " and from a management server" } else { "" }
                ),
                format!("lint them together: gatecheck lint <bootstrap> {}", local.join(" ")),
            )
        };
        ctx.report_at(Severity::Info, d.span, what, help);
    }
    // xDS resources other than listeners and clusters (RouteConfiguration,
    // ClusterLoadAssignment, Secret, …) are not read: say so rather than
    // pass the file silently.
    if let Some(x) = model.global.main.get("xds_resources") {
        let skipped: Vec<&str> = x
            .args
            .iter()
            .map(|a| a.value.as_str())
            .filter(|k| !matches!(*k, "Listener" | "Cluster"))
            .collect();
        if !skipped.is_empty() {
            ctx.report_at(
                Severity::Info,
                x.span,
                format!(
                    "xDS resources of type {} in this file are not checked (only Listener and Cluster resources are)",
                    skipped.join(", ")
                ),
                "inline such routes as `route_config` in a listener to have them checked",
            );
        }
    }
    for s in &model.servers {
        if let Some(rds) = s.directives.get("rds") {
            ctx.report_at(
                Severity::Info,
                rds.span,
                format!("routes of '{}' come from RDS ('{}') and are not in this file: they are not checked", s.name, rds.arg(0).unwrap_or("")),
                "lint the route configuration too (served by the management server or read from the file its config_source names), or inline it as `route_config`",
            );
        }
        for r in &s.routes {
            let Some(p) = &r.proxy else { continue };
            match &p.target {
                Target::Unknown(name) if names.contains(&name.as_str()) => {}
                Target::Unknown(_) if clusters_elsewhere => {}
                Target::Unknown(name) => {
                    let near = names.iter().filter(|n| close(name, n)).copied().next();
                    ctx.report(
                        p.span,
                        format!("route sends to cluster '{name}', which is not defined"),
                        match near {
                            Some(n) => format!("did you mean '{n}'?"),
                            None => {
                                "define the cluster in static_resources.clusters or fix the name"
                                    .to_owned()
                            }
                        },
                    );
                }
                Target::Dynamic => {
                    if let Some(h) = r.directives.get("cluster_header") {
                        ctx.report_at(
                            Severity::Warning,
                            h.span,
                            format!("cluster chosen by request header '{}': a missing or unknown value is answered with 503", h.arg(0).unwrap_or("")),
                            "route known values explicitly, with a catch-all route to a default cluster",
                        );
                    }
                }
                _ => {}
            }
        }
    }
}

/// True when `a` and `b` differ by one insertion, deletion or substitution.
fn close(a: &str, b: &str) -> bool {
    crate::config::names::edit_distance(a, b) <= 1
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{boot, cluster, findings, route};

    #[test]
    fn fail() {
        let y = boot(
            "",
            &route("/", "cluster: backnd"),
            &cluster("backend", 1, ""),
        );
        assert_eq!(
            findings("ENV-MAP-001", &y),
            ["route sends to cluster 'backnd', which is not defined"]
        );
        let y = boot(
            "",
            &route("/", "cluster_header: x-target"),
            &cluster("backend", 1, ""),
        );
        assert_eq!(
            findings("ENV-MAP-001", &y),
            ["cluster chosen by request header 'x-target': a missing or unknown value is answered with 503"]
        );
    }

    #[test]
    fn pass() {
        let y = boot(
            "",
            &route("/", "cluster: backend"),
            &cluster("backend", 1, ""),
        );
        assert!(findings("ENV-MAP-001", &y).is_empty());
    }

    #[test]
    fn config_dumps() {
        let hcm = r#"{"name": "hcm", "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager", "stat_prefix": "web", "rds": {"route_config_name": "r80"}}}"#;
        let listeners = format!(
            r#"{{"@type": "type.googleapis.com/envoy.admin.v3.ListenersConfigDump", "dynamic_listeners": [{{"name": "web", "active_state": {{"listener": {{"name": "web", "filter_chains": [{{"filters": [{hcm}]}}]}}}}}}]}}"#
        );
        let routes = r#"{"@type": "type.googleapis.com/envoy.admin.v3.RoutesConfigDump", "dynamic_route_configs": [{"route_config": {"name": "r80", "virtual_hosts": [{"name": "all", "domains": ["*"], "routes": [{"match": {"prefix": "/"}, "route": {"cluster": "app"}}]}]}}, {"route_config": {"name": "unused", "virtual_hosts": []}}]}"#;
        let clusters = r#"{"@type": "type.googleapis.com/envoy.admin.v3.ClustersConfigDump", "dynamic_active_clusters": [{"cluster": {"name": "other"}}]}"#;
        // the dump holds every cluster: `app` is missing for real
        let full = format!(r#"{{"configs": [{clusters}, {listeners}, {routes}]}}"#);
        assert_eq!(
            findings("ENV-MAP-001", &full),
            [
                "route configurations unused of this config dump are used by no listener in it and are not checked",
                "route sends to cluster 'app', which is not defined",
            ]
        );
        // `/config_dump?resource=dynamic_listeners` and routes: clusters
        // are not in the file, so nothing is said about `app`
        let partial = format!(r#"{{"configs": [{listeners}, {routes}]}}"#);
        assert_eq!(
            findings("ENV-MAP-001", &partial),
            ["route configurations unused of this config dump are used by no listener in it and are not checked"]
        );
    }

    #[test]
    fn rds_and_dynamic_resources_are_info() {
        let y = "dynamic_resources:\n  cds_config: { ads: {} }\nstatic_resources:\n  listeners:\n  - name: l\n    filter_chains:\n    - filters:\n      - name: hcm\n        typed_config:\n          \"@type\": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager\n          stat_prefix: x\n          rds: { route_config_name: main, config_source: { ads: {} } }\n";
        assert_eq!(
            findings("ENV-MAP-001", y),
            [
                "dynamic_resources: listeners, routes and clusters served by a management server are not in this file and are not checked",
                "routes of 'l' come from RDS ('main') and are not in this file: they are not checked",
            ]
        );
    }

    #[test]
    fn xds_resource_files_and_local_dynamic_resources() {
        // issue 8: a listener resource file (path_config_source) routes to
        // clusters of another file; a local path is not a management server
        let lds = "resources:\n- \"@type\": type.googleapis.com/envoy.config.listener.v3.Listener\n  address: { socket_address: { address: 0.0.0.0, port_value: 10000 } }\n  filter_chains:\n  - filters:\n    - name: hcm\n      typed_config:\n        \"@type\": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager\n        stat_prefix: x\n        route_config:\n          virtual_hosts:\n          - name: all\n            domains: [\"*\"]\n            routes:\n            - match: { prefix: / }\n              route: { cluster: svc }\n";
        assert!(findings("ENV-MAP-001", lds).is_empty());
        let rds = "resources:\n- \"@type\": type.googleapis.com/envoy.config.route.v3.RouteConfiguration\n  name: r\n";
        assert_eq!(
            findings("ENV-MAP-001", rds),
            ["xDS resources of type RouteConfiguration in this file are not checked (only Listener and Cluster resources are)"]
        );
        let boot = "dynamic_resources:\n  lds_config: { path_config_source: { path: /etc/envoy/lds.yaml } }\n  cds_config: { path_config_source: { path: /etc/envoy/cds.yaml } }\n";
        assert_eq!(
            findings("ENV-MAP-001", boot),
            ["dynamic_resources: listeners and clusters are read from /etc/envoy/lds.yaml, /etc/envoy/cds.yaml; they are not in this file and are checked only when linted too"]
        );
    }

    #[test]
    fn close_names() {
        assert!(super::close("backnd", "backend"));
        assert!(super::close("app", "apq"));
        assert!(!super::close("app", "web"));
    }
}
