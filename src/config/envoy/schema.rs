//! The typed view of an Envoy v3 bootstrap that the reader
//! ([`parse`](mod@super::parse)) fills and the lowering reads: only the
//! parts that bear on 502s, each value with its span.

use std::fmt;

use crate::source::{FileId, Span};

use super::duration::Duration;
use super::node::LoadError;

/// A value with the span of its text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Spanned<T> {
    /// The decoded value.
    pub value: T,
    /// Where it was written.
    pub span: Span,
}

/// Something in the file that Envoy would reject, or that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvoyError {
    /// The file is not loadable YAML/JSON.
    #[error("{0}")]
    Load(#[from] LoadError),
    /// A field of the wrong shape (a list where a mapping belongs, …).
    #[error("{field}: expected {expected}, found {found}")]
    WrongType {
        /// Path of the field (`static_resources.clusters[0].connect_timeout`).
        field: String,
        /// What the API wants.
        expected: &'static str,
        /// What the file has.
        found: String,
        /// The value.
        span: Span,
    },
    /// A value that does not decode (duration, integer, bool).
    #[error("{field}: {reason}")]
    BadValue {
        /// Path of the field.
        field: String,
        /// What is wrong, with the text as written.
        reason: String,
        /// The value.
        span: Span,
    },
}

impl EnvoyError {
    /// Where the error is.
    pub fn span(&self) -> Span {
        match self {
            Self::Load(e) => e.span(),
            Self::WrongType { span, .. } | Self::BadValue { span, .. } => *span,
        }
    }
}

/// Something worth telling that is not an error: parts of the config that
/// live elsewhere and so are not linted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvoyNote {
    /// An HTTP connection manager takes its routes from RDS.
    RdsRoutes {
        /// `rds.route_config_name`.
        route_config_name: String,
        /// The `rds` mapping.
        span: Span,
    },
    /// `dynamic_resources` (LDS/CDS/ADS): those resources are not in the file.
    DynamicResources {
        /// The `dynamic_resources` mapping.
        span: Span,
        /// Local files named by `path_config_source.path` (or the older
        /// `path`) of `lds_config`/`cds_config`; empty when every source is a
        /// management server.
        local_paths: Vec<String>,
        /// True when some source is a management server (ADS, API config
        /// sources).
        remote: bool,
    },
    /// An EDS cluster: its endpoints are not in the file.
    EdsEndpoints {
        /// The cluster name.
        cluster: String,
        /// The cluster's `type`.
        span: Span,
    },
}

impl EnvoyNote {
    /// Where the note points.
    pub fn span(&self) -> Span {
        match self {
            Self::RdsRoutes { span, .. }
            | Self::DynamicResources { span, .. }
            | Self::EdsEndpoints { span, .. } => *span,
        }
    }
}

impl fmt::Display for EnvoyNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::RdsRoutes {
                route_config_name, ..
            } => write!(
                f,
                "routes come from RDS (route_config_name '{route_config_name}') and are not in this file; route rules skip this listener"
            ),
            Self::DynamicResources {
                local_paths,
                remote,
                ..
            } => {
                if !local_paths.is_empty() {
                    write!(
                        f,
                        "dynamic_resources are read from local files ({}) and are not in this file",
                        local_paths.join(", ")
                    )?;
                }
                if *remote {
                    if !local_paths.is_empty() {
                        f.write_str("; ")?;
                    }
                    f.write_str("dynamic_resources (LDS/CDS/ADS) are served by a management server and are not in this file")?;
                }
                Ok(())
            }
            Self::EdsEndpoints { cluster, .. } => write!(
                f,
                "cluster '{cluster}' gets its endpoints from EDS; endpoint counts are unknown here"
            ),
        }
    }
}

/// The parts of an Envoy v3 bootstrap that the linter reads.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Bootstrap {
    /// The file.
    pub file: FileId,
    /// The root mapping's span.
    pub span: Span,
    /// `static_resources.listeners`.
    pub listeners: Vec<Listener>,
    /// `static_resources.clusters`.
    pub clusters: Vec<Cluster>,
    /// What could not be read (the rest was).
    pub errors: Vec<EnvoyError>,
    /// Parts that live elsewhere.
    pub notes: Vec<EnvoyNote>,
    /// The file is a list of xDS resources (`resources:`, as served by a
    /// management server or read through `path_config_source`), not a
    /// bootstrap: the type names of the resources it holds.
    pub xds_resources: Option<Vec<String>>,
    /// The file is an admin `/config_dump`.
    pub config_dump: Option<ConfigDump>,
}

/// What an admin `/config_dump` holds (a dump may be partial:
/// `/config_dump?resource=…` keeps one part).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ConfigDump {
    /// Type names of its parts (`ClustersConfigDump`, `ListenersConfigDump`, …).
    pub parts: Vec<String>,
    /// Route configurations no dumped connection manager uses (by name;
    /// `(unnamed)` for one without): not checked.
    pub unattached_routes: Vec<String>,
}

/// A listener.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Listener {
    /// `name`.
    pub name: Option<Spanned<String>>,
    /// `address.socket_address` as `address:port`.
    pub address: Option<Spanned<String>>,
    /// HTTP connection managers found in its filter chains (and
    /// `default_filter_chain`).
    pub http_managers: Vec<HttpConnectionManager>,
    /// The listener mapping.
    pub span: Span,
}

/// `envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HttpConnectionManager {
    /// `stat_prefix`.
    pub stat_prefix: Option<Spanned<String>>,
    /// Inline `route_config`.
    pub route_config: Option<RouteConfiguration>,
    /// `rds.route_config_name`, when routes come from RDS.
    pub rds: Option<Spanned<String>>,
    /// `access_log` entries.
    pub access_log: Vec<AccessLog>,
    /// `generate_request_id` (default true).
    pub generate_request_id: Option<Spanned<bool>>,
    /// `max_request_headers_kb` (default 60).
    pub max_request_headers_kb: Option<Spanned<u64>>,
    /// `common_http_protocol_options` (downstream side).
    pub common_http_protocol_options: Option<HttpProtocolOptions>,
    /// `stream_idle_timeout` (default 5 min).
    pub stream_idle_timeout: Option<Spanned<Duration>>,
    /// `request_timeout` (default 0 = off).
    pub request_timeout: Option<Spanned<Duration>>,
    /// Names of `http_filters`, in order.
    pub http_filters: Vec<Spanned<String>>,
    /// The `typed_config` mapping.
    pub span: Span,
}

/// One access log.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AccessLog {
    /// `name`.
    pub name: Option<Spanned<String>>,
    /// The `@type` of its `typed_config`.
    pub type_url: Option<Spanned<String>>,
    /// `path` for file logs.
    pub path: Option<Spanned<String>>,
    /// The format.
    pub format: LogFormat,
    /// The entry's mapping.
    pub span: Span,
}

/// An access log's format.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum LogFormat {
    /// No format given: Envoy's default format.
    #[default]
    Default,
    /// A text format (`log_format.text_format_source.inline_string`, or the
    /// older `format`).
    Text(Spanned<String>),
    /// A JSON format: the values of all its keys joined by spaces (what
    /// command operators it uses is what matters).
    Json(Spanned<String>),
    /// A format given in a way not read here (a file, typed formatters).
    Other(Span),
}

/// A route configuration.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RouteConfiguration {
    /// `name`.
    pub name: Option<Spanned<String>>,
    /// `virtual_hosts`.
    pub virtual_hosts: Vec<VirtualHost>,
    /// `validate_clusters`.
    pub validate_clusters: Option<Spanned<bool>>,
    /// The mapping.
    pub span: Span,
}

/// A virtual host.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct VirtualHost {
    /// `name`.
    pub name: Option<Spanned<String>>,
    /// `domains`.
    pub domains: Vec<Spanned<String>>,
    /// `routes`.
    pub routes: Vec<Route>,
    /// `retry_policy` (applies to routes without their own).
    pub retry_policy: Option<RetryPolicy>,
    /// The mapping.
    pub span: Span,
}

/// A route.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Route {
    /// `name`.
    pub name: Option<Spanned<String>>,
    /// `match`.
    pub matcher: RouteMatch,
    /// `route` (absent for `redirect` / `direct_response` routes).
    pub action: Option<RouteAction>,
    /// The mapping.
    pub span: Span,
}

/// A route's `match`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RouteMatch {
    /// `prefix`, `path`, `safe_regex.regex` or `path_separated_prefix`, as
    /// written.
    pub path: Option<Spanned<String>>,
    /// Which of those it was (`"prefix"`, `"path"`, `"safe_regex"`,
    /// `"path_separated_prefix"`; `""` when none).
    pub kind: &'static str,
    /// `headers` matchers.
    pub headers: Vec<HeaderMatcher>,
    /// The mapping.
    pub span: Span,
}

/// A header matcher of a route.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HeaderMatcher {
    /// `name` (`:method` for the method).
    pub name: String,
    /// The exact value, or the regex, matched.
    pub value: Option<String>,
    /// True when `value` is a regex.
    pub regex: bool,
    /// `invert_match`.
    pub invert: bool,
    /// The mapping.
    pub span: Span,
}

/// A route's `route` action.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RouteAction {
    /// `cluster`.
    pub cluster: Option<Spanned<String>>,
    /// `cluster_header`.
    pub cluster_header: Option<Spanned<String>>,
    /// `weighted_clusters.clusters[].name`.
    pub weighted_clusters: Vec<Spanned<String>>,
    /// `timeout` (default 15s).
    pub timeout: Option<Spanned<Duration>>,
    /// `idle_timeout`.
    pub idle_timeout: Option<Spanned<Duration>>,
    /// `max_stream_duration.max_stream_duration`.
    pub max_stream_duration: Option<Spanned<Duration>>,
    /// `max_stream_duration.grpc_timeout_header_max`: present, the request's
    /// `grpc-timeout` header bounds the stream (0: unmodified).
    pub grpc_timeout_header_max: Option<Spanned<Duration>>,
    /// `retry_policy`.
    pub retry_policy: Option<RetryPolicy>,
    /// The mapping.
    pub span: Span,
}

/// A retry policy.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RetryPolicy {
    /// `retry_on`, as written (comma-separated).
    pub retry_on: Option<Spanned<String>>,
    /// `num_retries` (default 1).
    pub num_retries: Option<Spanned<u64>>,
    /// `per_try_timeout`.
    pub per_try_timeout: Option<Spanned<Duration>>,
    /// `per_try_idle_timeout`.
    pub per_try_idle_timeout: Option<Spanned<Duration>>,
    /// `retriable_status_codes`.
    pub retriable_status_codes: Vec<Spanned<u64>>,
    /// The mapping.
    pub span: Span,
}

impl RetryPolicy {
    /// The `retry_on` conditions, trimmed.
    pub fn conditions(&self) -> impl Iterator<Item = &str> {
        self.retry_on
            .iter()
            .flat_map(|r| r.value.split(','))
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }
}

/// A cluster.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Cluster {
    /// `name`.
    pub name: Option<Spanned<String>>,
    /// `type` as written (`STRICT_DNS`, …); absent means STATIC.
    pub discovery_type: Option<Spanned<String>>,
    /// `cluster_type.name` (extension clusters).
    pub cluster_type: Option<Spanned<String>>,
    /// `connect_timeout` (default 5s).
    pub connect_timeout: Option<Spanned<Duration>>,
    /// `lb_policy`.
    pub lb_policy: Option<Spanned<String>>,
    /// `dns_refresh_rate` (default 5s).
    pub dns_refresh_rate: Option<Spanned<Duration>>,
    /// `respect_dns_ttl` (default false).
    pub respect_dns_ttl: Option<Spanned<bool>>,
    /// `load_assignment` endpoints.
    pub endpoints: Vec<Endpoint>,
    /// `health_checks`.
    pub health_checks: Vec<HealthCheck>,
    /// `outlier_detection`.
    pub outlier_detection: Option<OutlierDetection>,
    /// `circuit_breakers.thresholds`.
    pub circuit_breakers: Vec<CircuitThresholds>,
    /// The deprecated `Cluster.common_http_protocol_options`.
    pub common_http_protocol_options: Option<HttpProtocolOptions>,
    /// `typed_extension_protocol_options["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]`.
    pub upstream_http_options: Option<UpstreamHttpOptions>,
    /// The deprecated `Cluster.upstream_http_protocol_options.auto_sni`.
    pub legacy_auto_sni: Option<Spanned<bool>>,
    /// `transport_socket` with an `UpstreamTlsContext`.
    pub tls: Option<UpstreamTls>,
    /// The mapping.
    pub span: Span,
}

impl Cluster {
    /// The name, or `""`.
    pub fn name_str(&self) -> &str {
        self.name.as_ref().map_or("", |n| n.value.as_str())
    }

    /// The discovery type as written, `STATIC` when absent.
    pub fn type_str(&self) -> &str {
        self.discovery_type
            .as_ref()
            .map_or("STATIC", |t| t.value.as_str())
    }
}

/// The cluster discovery types the v3 API defines.
pub const DISCOVERY_TYPES: &[&str] =
    &["STATIC", "STRICT_DNS", "LOGICAL_DNS", "EDS", "ORIGINAL_DST"];

/// The cluster `lb_policy` values the v3 API defines.
pub const LB_POLICIES: &[&str] = &[
    "ROUND_ROBIN",
    "LEAST_REQUEST",
    "RING_HASH",
    "RANDOM",
    "MAGLEV",
    "CLUSTER_PROVIDED",
    "LOAD_BALANCING_POLICY_CONFIG",
];

/// One endpoint of `load_assignment`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Endpoint {
    /// `socket_address.address` (or `pipe.path`).
    pub address: Spanned<String>,
    /// `socket_address.port_value`.
    pub port: Option<Spanned<u64>>,
    /// Given as `pipe.path`: a Unix socket, whatever the path looks like
    /// (Istio's bootstraps use relative ones, `./var/run/secrets/…`).
    pub pipe: bool,
    /// The `lb_endpoints` entry.
    pub span: Span,
}

/// One `health_checks` entry.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HealthCheck {
    /// `timeout` (required).
    pub timeout: Option<Spanned<Duration>>,
    /// `interval` (required).
    pub interval: Option<Spanned<Duration>>,
    /// `unhealthy_threshold` (required).
    pub unhealthy_threshold: Option<Spanned<u64>>,
    /// `healthy_threshold` (required).
    pub healthy_threshold: Option<Spanned<u64>>,
    /// `http_health_check`, `tcp_health_check`, `grpc_health_check`, … (the
    /// key present, without `_health_check`).
    pub kind: Option<Spanned<String>>,
    /// `http_health_check.path`.
    pub http_path: Option<Spanned<String>>,
    /// The mapping.
    pub span: Span,
}

/// `outlier_detection`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OutlierDetection {
    /// `consecutive_5xx` (default 5).
    pub consecutive_5xx: Option<Spanned<u64>>,
    /// `consecutive_gateway_failure` (default 5).
    pub consecutive_gateway_failure: Option<Spanned<u64>>,
    /// `interval` (default 10s).
    pub interval: Option<Spanned<Duration>>,
    /// `base_ejection_time` (default 30s).
    pub base_ejection_time: Option<Spanned<Duration>>,
    /// `max_ejection_percent` (default 10).
    pub max_ejection_percent: Option<Spanned<u64>>,
    /// The mapping.
    pub span: Span,
}

/// One `circuit_breakers.thresholds` entry.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CircuitThresholds {
    /// `priority` (default DEFAULT).
    pub priority: Option<Spanned<String>>,
    /// `max_connections` (default 1024).
    pub max_connections: Option<Spanned<u64>>,
    /// `max_pending_requests` (default 1024).
    pub max_pending_requests: Option<Spanned<u64>>,
    /// `max_requests` (default 1024).
    pub max_requests: Option<Spanned<u64>>,
    /// `max_retries` (default 3).
    pub max_retries: Option<Spanned<u64>>,
    /// The mapping.
    pub span: Span,
}

/// `config.core.v3.HttpProtocolOptions`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HttpProtocolOptions {
    /// `idle_timeout` (default 1h).
    pub idle_timeout: Option<Spanned<Duration>>,
    /// `max_connection_duration`.
    pub max_connection_duration: Option<Spanned<Duration>>,
    /// `max_headers_count`.
    pub max_headers_count: Option<Spanned<u64>>,
    /// `max_response_headers_kb` (cluster-side only).
    pub max_response_headers_kb: Option<Spanned<u64>>,
    /// The mapping.
    pub span: Span,
}

/// `envoy.extensions.upstreams.http.v3.HttpProtocolOptions` of a cluster.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UpstreamHttpOptions {
    /// `common_http_protocol_options`.
    pub common: Option<HttpProtocolOptions>,
    /// `upstream_http_protocol_options.auto_sni`.
    pub auto_sni: Option<Spanned<bool>>,
    /// True when HTTP/2 is configured (explicit or auto).
    pub http2: bool,
    /// The mapping.
    pub span: Span,
}

/// `envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UpstreamTls {
    /// `sni`.
    pub sni: Option<Spanned<String>>,
    /// `auto_host_sni`.
    pub auto_host_sni: Option<Spanned<bool>>,
    /// `common_tls_context.validation_context.trusted_ca` (file name or
    /// `<inline>`), or the SDS secret name of a validation context.
    pub trusted_ca: Option<Spanned<String>>,
    /// True when any validation context is configured.
    pub has_validation_context: bool,
    /// The `typed_config` mapping.
    pub span: Span,
}
