//! Envoy rules (`ENV-*`). Envoy-specific facts the shared model has no
//! field for are read from the directives the Envoy lowering keeps, named by
//! API field (`connect_timeout`, `health_check`, `tls.sni`, …).

pub mod default_idle_timeout;
pub mod disabled_route_timeout;
pub mod dns_refresh_too_slow;
pub mod implicit_route_timeout;
pub mod incomplete_health_check;
pub mod invalid_value;
pub mod missing_access_log;
pub mod no_health_check;
pub mod no_retry_policy;
pub mod non_idempotent_retry;
pub mod per_try_timeout_too_long;
pub mod request_id_disabled;
pub mod static_hostname;
pub mod tls_without_sni;
pub mod unknown_cluster;
pub mod unmatched_header_limits;

#[cfg(test)]
pub(crate) mod test_util {
    //! Run one rule over an Envoy bootstrap snippet (YAML).

    use crate::lint::Settings;

    /// Messages of rule `id` on `yaml`.
    pub fn findings(id: &str, yaml: &str) -> Vec<String> {
        crate::lint::rules::test_util::findings_in("envoy.yaml", id, yaml, &Settings::default())
    }

    /// One route, `/` to cluster `app`, for [`boot`].
    pub const ROUTE: &str =
        "              - match: { prefix: / }\n                route: { cluster: app }\n";

    /// One route for [`boot`]'s `routes`: requests under `prefix` to the
    /// `route:` object whose fields are `action` (`cluster: app, timeout: 0s`).
    pub fn route(prefix: &str, action: &str) -> String {
        format!("              - match: {{ prefix: {prefix} }}\n                route: {{ {action} }}\n")
    }

    /// A bootstrap with one listener whose single virtual host has `routes`
    /// (YAML list items indented by 14 spaces), `hcm_extra` lines inside the
    /// HCM (indented by 10), and `clusters` (list items indented by 2).
    pub fn boot(hcm_extra: &str, routes: &str, clusters: &str) -> String {
        format!(
            r#"static_resources:
  listeners:
  - name: ingress
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress
{hcm_extra}          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
{routes}  clusters:
{clusters}"#
        )
    }

    /// A STATIC cluster named `name` with `n` endpoints on 10.0.0.x, plus
    /// `extra` lines (indented by 4).
    pub fn cluster(name: &str, n: usize, extra: &str) -> String {
        let eps: String = (1..=n)
            .map(|i| format!("        - endpoint: {{ address: {{ socket_address: {{ address: 10.0.0.{i}, port_value: 8080 }} }} }}\n"))
            .collect();
        format!("  - name: {name}\n    connect_timeout: 1s\n{extra}    load_assignment:\n      cluster_name: {name}\n      endpoints:\n      - lb_endpoints:\n{eps}")
    }
}
