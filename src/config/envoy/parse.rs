//! A loaded Envoy v3 bootstrap ([`Node`] tree) → [`Bootstrap`], the typed
//! view the lowering reads.
//!
//! Only the parts that bear on 502s are read; everything else is skipped
//! without complaint (the tree is not a full protobuf validator). Each value
//! read keeps its span. Decoding follows the protobuf JSON mapping that
//! Envoy's YAML/JSON loader uses:
//!
//! - field names in snake_case or lowerCamelCase;
//! - `google.protobuf.Duration` as `"1.5s"` / `"0.250s"` / `"-2s"` (up to nine
//!   fractional digits, `s` required), and also as `{seconds, nanos}`;
//! - wrapped integers and bools (`UInt32Value`, `BoolValue`) plain or as
//!   `{value: N}`, integers also as numeric strings;
//! - `typed_config` chosen by its `@type` URL;
//! - an HTTP connection manager with `rds` instead of an inline
//!   `route_config` gets a note (its routes are not in the file), not an
//!   error; likewise `dynamic_resources` and EDS clusters.
//!
//! A value of the wrong shape is recorded as an [`EnvoyError`] and left out;
//! the rest of the file is still read.

use std::fmt;

use crate::source::FileId;

use super::duration::MAX_DURATION_SECONDS;
use super::node::{load_as, Node, NodeKind, Syntax};

pub use super::duration::*;
pub use super::schema::*;

/// `@type` URL suffixes read here.
const HCM_TYPE: &str =
    "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";
const UPSTREAM_TLS_TYPE: &str = "envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext";
const UPSTREAM_HTTP_OPTIONS_KEY: &str = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";

/// Load and read an Envoy bootstrap. Never fails: an unloadable file gives
/// an empty [`Bootstrap`] with the load error in `errors`.
pub fn parse_bootstrap(file: FileId, text: &[u8], syntax: Syntax) -> Bootstrap {
    let mut boot = Bootstrap {
        file,
        ..Bootstrap::default()
    };
    let root = match load_as(file, text, syntax) {
        Ok(root) => root,
        Err(e) => {
            boot.errors.push(e.into());
            return boot;
        }
    };
    boot.span = root.span;
    let mut r = Reader {
        errors: Vec::new(),
        notes: Vec::new(),
    };
    if r.expect_map(&root, &Path::Named("(root)")) {
        not_envoy(&root, &mut r.errors);
        if let Some(dynamic) = root.get("dynamic_resources") {
            let (local_paths, remote) = config_sources(dynamic);
            r.notes.push(EnvoyNote::DynamicResources {
                span: dynamic.span,
                local_paths,
                remote,
            });
        }
        if root.get("resources").is_some() {
            // An xDS resource file (the `resources` of a DiscoveryResponse,
            // as read by `path_config_source`): lint its listeners and
            // clusters like static ones.
            let mut kinds: Vec<String> = Vec::new();
            for (i, x) in r.seq(&root, "resources", &Path::Root).iter().enumerate() {
                let p = Path::Root.index("resources", i);
                if !r.expect_map(x, &p) {
                    continue;
                }
                let ty = x
                    .get("@type")
                    .and_then(|t| t.as_scalar())
                    .map(type_name)
                    .unwrap_or("");
                match ty {
                    LISTENER_TYPE => boot.listeners.push(r.listener(x, &p)),
                    CLUSTER_TYPE => boot.clusters.push(r.cluster(x, &p)),
                    _ => {}
                }
                let short = ty.rsplit('.').next().unwrap_or(ty).to_owned();
                if !short.is_empty() && !kinds.contains(&short) {
                    kinds.push(short);
                }
            }
            boot.xds_resources = Some(kinds);
        }
        if root.get("configs").is_some() {
            // An admin `/config_dump` (envoy.admin.v3.*ConfigDump): what
            // Envoy actually runs, static and xDS-delivered alike.
            r.config_dump(&root, &mut boot);
        }
        if let Some(statics) = r.map(&root, "static_resources", &Path::Root) {
            let path = &Path::Root.field("static_resources");
            for (i, l) in r.seq(statics, "listeners", path).iter().enumerate() {
                let p = path.index("listeners", i);
                if r.expect_map(l, &p) {
                    boot.listeners.push(r.listener(l, &p));
                }
            }
            for (i, c) in r.seq(statics, "clusters", path).iter().enumerate() {
                let p = path.index("clusters", i);
                if r.expect_map(c, &p) {
                    boot.clusters.push(r.cluster(c, &p));
                }
            }
        }
    }
    boot.errors = r.errors;
    boot.notes = r.notes;
    boot
}

/// `@type`s of the parts of an admin `/config_dump` read here (Envoy's
/// The top-level fields of what gatecheck reads as an Envoy config: every
/// field of `envoy.config.bootstrap.v3.Bootstrap`
/// (api/envoy/config/bootstrap/v3/bootstrap.proto, and v2's `runtime`),
/// a DiscoveryResponse's (`resources`, `version_info`, `type_url`, `nonce`)
/// and an admin `/config_dump`'s `configs`.
const ROOT_FIELDS: &[&str] = &[
    "node",
    "node_context_params",
    "static_resources",
    "dynamic_resources",
    "cluster_manager",
    "hds_config",
    "flags_path",
    "stats_sinks",
    "deferred_stat_options",
    "stats_config",
    "stats_flush_interval",
    "stats_flush_on_admin",
    "stats_eviction_interval",
    "watchdog",
    "watchdogs",
    "tracing",
    "layered_runtime",
    "runtime",
    "admin",
    "overload_manager",
    "enable_dispatcher_stats",
    "header_prefix",
    "stats_server_version_override",
    "use_tcp_for_dns_lookups",
    "dns_resolution_config",
    "typed_dns_resolver_config",
    "bootstrap_extensions",
    "fatal_actions",
    "config_sources",
    "default_config_source",
    "default_socket_interface",
    "certificate_provider_instances",
    "inline_headers",
    "perf_tracing_file_path",
    "default_regex_engine",
    "xds_delegate_extension",
    "xds_config_tracker_extension",
    "listener_manager",
    "application_log_config",
    "grpc_async_client_manager_config",
    "memory_allocator_manager",
    "resources",
    "version_info",
    "type_url",
    "nonce",
    "configs",
];

/// A mapping none of whose keys is an Envoy top-level field (egctl's
/// `xds: <namespace/name>: configs: …` wrapper around a `/config_dump`, a
/// Kubernetes manifest, an unrelated YAML file named `envoy.yaml`): Envoy
/// refuses a bootstrap with unknown fields, and nothing in it can be
/// linted, so say so rather than pass it as clean.
fn not_envoy(root: &Node, errors: &mut Vec<EnvoyError>) {
    let Some(entries) = root.as_map() else { return };
    let Some((first, _)) = entries.first() else {
        return;
    };
    if ROOT_FIELDS.iter().any(|f| root.get_entry(f).is_some()) {
        return;
    }
    let keys: Vec<String> = entries
        .iter()
        .filter_map(|(k, _)| k.as_scalar())
        .take(3)
        .map(|k| format!("`{k}`"))
        .collect();
    errors.push(EnvoyError::WrongType {
        field: "(root)".into(),
        expected: "an Envoy bootstrap, an xDS resource file (`resources`) or an admin /config_dump (`configs`)",
        found: format!("a mapping of {}", keys.join(", ")),
        span: first.span,
    });
}

/// `api/envoy/admin/v3/config_dump_shared.proto`: `ClustersConfigDump`
/// holds `static_clusters[].cluster`, `dynamic_active_clusters[].cluster`
/// and `dynamic_warming_clusters[].cluster`; `ListenersConfigDump`
/// `static_listeners[].listener` and `dynamic_listeners[].active_state.listener`;
/// `RoutesConfigDump` `dynamic_route_configs[].route_config`; its
/// `static_route_configs` are the static listeners' inline ones again).
const CLUSTERS_DUMP_TYPE: &str = "envoy.admin.v3.ClustersConfigDump";
const LISTENERS_DUMP_TYPE: &str = "envoy.admin.v3.ListenersConfigDump";
const ROUTES_DUMP_TYPE: &str = "envoy.admin.v3.RoutesConfigDump";

/// `@type` of an xDS listener resource.
const LISTENER_TYPE: &str = "envoy.config.listener.v3.Listener";
/// `@type` of an xDS cluster resource.
const CLUSTER_TYPE: &str = "envoy.config.cluster.v3.Cluster";

/// The local files (`path_config_source.path`, or the deprecated `path`)
/// of `dynamic_resources`' `lds_config`/`cds_config`, and whether some
/// source is a management server (`ads`, `api_config_source`, `ads_config`).
fn config_sources(dynamic: &Node) -> (Vec<String>, bool) {
    let mut paths = Vec::new();
    let mut remote = dynamic.get("ads_config").is_some();
    for key in ["lds_config", "cds_config"] {
        let Some(src) = dynamic.get(key) else {
            continue;
        };
        let path = src
            .get("path_config_source")
            .and_then(|p| p.get("path"))
            .or_else(|| src.get("path"))
            .and_then(|p| p.as_scalar());
        match path {
            Some(p) => paths.push(p.to_owned()),
            None => remote = true,
        }
    }
    (paths, remote)
}

/// Collects errors and notes while reading.
struct Reader {
    errors: Vec<EnvoyError>,
    notes: Vec<EnvoyNote>,
}

/// Where a value sits in the file (`static_resources.clusters[0].connect_timeout`),
/// kept as borrowed segments and written out only when an error names it.
#[derive(Debug, Clone, Copy)]
enum Path<'a> {
    /// The top of the file (written as nothing).
    Root,
    /// A name standing for a place (`(root)`).
    Named(&'a str),
    /// Field `name` of the parent.
    Field(&'a Path<'a>, &'a str),
    /// Item `i` of the parent's list `name`.
    Index(&'a Path<'a>, &'a str, usize),
    /// Entry `key` of the parent map.
    Key(&'a Path<'a>, &'a str),
}

impl<'a> Path<'a> {
    fn field(&'a self, name: &'a str) -> Path<'a> {
        Path::Field(self, name)
    }

    fn index(&'a self, name: &'a str, i: usize) -> Path<'a> {
        Path::Index(self, name, i)
    }

    fn key(&'a self, key: &'a str) -> Path<'a> {
        Path::Key(self, key)
    }
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let field = |f: &mut fmt::Formatter<'_>, parent: &Path<'_>, name: &str| match parent {
            Path::Root => f.write_str(name),
            p => write!(f, "{p}.{name}"),
        };
        match self {
            Path::Root => Ok(()),
            Path::Named(n) => f.write_str(n),
            Path::Field(p, name) => field(f, p, name),
            Path::Index(p, name, i) => {
                field(f, p, name)?;
                write!(f, "[{i}]")
            }
            Path::Key(p, key) => write!(f, "{p}[{key}]"),
        }
    }
}

/// The `@type` URL's message name (after the last `/`).
fn type_name(url: &str) -> &str {
    url.rsplit('/').next().unwrap_or(url)
}

impl Reader {
    fn wrong(&mut self, node: &Node, field: &Path<'_>, expected: &'static str) {
        self.errors.push(EnvoyError::WrongType {
            field: field.to_string(),
            expected,
            found: node.shape().to_owned(),
            span: node.span,
        });
    }

    fn bad(&mut self, node: &Node, field: &Path<'_>, reason: String) {
        self.errors.push(EnvoyError::BadValue {
            field: field.to_string(),
            reason,
            span: node.span,
        });
    }

    fn expect_map(&mut self, node: &Node, field: &Path<'_>) -> bool {
        if node.as_map().is_some() {
            true
        } else {
            self.wrong(node, field, "a mapping");
            false
        }
    }

    fn map<'n>(&mut self, parent: &'n Node, name: &str, path: &Path<'_>) -> Option<&'n Node> {
        let v = parent.get(name)?;
        self.expect_map(v, &path.field(name)).then_some(v)
    }

    fn seq<'n>(&mut self, parent: &'n Node, name: &str, path: &Path<'_>) -> &'n [Node] {
        match parent.get(name) {
            None => &[],
            Some(v) => match v.as_seq() {
                Some(items) => items,
                // A single mapping where a list is expected is read as a
                // list of one: Envoy loads it (its own example
                // dynamic-config-fs/configs/lds.yaml writes `filters:` so,
                // and Envoy's example CI runs it).
                None if v.as_map().is_some() => std::slice::from_ref(v),
                None => {
                    self.wrong(v, &path.field(name), "a list");
                    &[]
                }
            },
        }
    }

    fn string(&mut self, parent: &Node, name: &str, path: &Path<'_>) -> Option<Spanned<String>> {
        let v = parent.get(name)?;
        match v.as_scalar() {
            Some(s) => Some(Spanned {
                value: s.to_owned(),
                span: v.span,
            }),
            None => {
                self.wrong(v, &path.field(name), "a string");
                None
            }
        }
    }

    /// An enum field (`type`, `lb_policy`, `priority`), upper-cased as
    /// Envoy reads it: its `MessageUtil::loadFromJson` parses with
    /// protobuf's `case_insensitive_enum_parsing = true` (envoy
    /// `source/common/protobuf/utility.cc`), so `lb_policy: round_robin`, as
    /// grpc-web's published `envoy.yaml` writes it, loads as `ROUND_ROBIN`.
    fn enumeration(
        &mut self,
        parent: &Node,
        name: &str,
        path: &Path<'_>,
    ) -> Option<Spanned<String>> {
        let mut s = self.string(parent, name, path)?;
        s.value.make_ascii_uppercase();
        Some(s)
    }

    /// A scalar, or the `value` of a wrapper mapping.
    fn unwrap<'n>(&mut self, v: &'n Node, field: &Path<'_>) -> Option<&'n Node> {
        match &v.kind {
            NodeKind::Scalar { .. } => Some(v),
            NodeKind::Map(_) => match v.get("value") {
                Some(inner) if inner.as_scalar().is_some() => Some(inner),
                _ => {
                    self.wrong(v, field, "a value or {value: …}");
                    None
                }
            },
            NodeKind::Seq(_) => {
                self.wrong(v, field, "a value");
                None
            }
        }
    }

    fn uint(&mut self, parent: &Node, name: &str, path: &Path<'_>) -> Option<Spanned<u64>> {
        let field = path.field(name);
        let v = parent.get(name)?;
        let v = self.unwrap(v, &field)?;
        let text = v.as_scalar().unwrap_or("");
        match text.parse::<u64>() {
            Ok(n) => Some(Spanned {
                value: n,
                span: v.span,
            }),
            Err(_) => {
                self.bad(v, &field, format!("'{text}' is not a non-negative integer"));
                None
            }
        }
    }

    fn boolean(&mut self, parent: &Node, name: &str, path: &Path<'_>) -> Option<Spanned<bool>> {
        let field = path.field(name);
        let v = parent.get(name)?;
        let v = self.unwrap(v, &field)?;
        match v.as_scalar().unwrap_or("") {
            "true" | "True" | "TRUE" => Some(Spanned {
                value: true,
                span: v.span,
            }),
            "false" | "False" | "FALSE" => Some(Spanned {
                value: false,
                span: v.span,
            }),
            text => {
                let reason = format!("'{text}' is not true or false");
                self.bad(v, &field, reason);
                None
            }
        }
    }

    fn duration(
        &mut self,
        parent: &Node,
        name: &str,
        path: &Path<'_>,
    ) -> Option<Spanned<Duration>> {
        let field = path.field(name);
        let v = parent.get(name)?;
        match &v.kind {
            NodeKind::Scalar { text, .. } => match parse_duration(text) {
                Ok(d) => Some(Spanned {
                    value: d,
                    span: v.span,
                }),
                Err(reason) => {
                    self.bad(v, &field, reason);
                    None
                }
            },
            NodeKind::Map(_) => {
                let seconds = v.get("seconds").and_then(|s| s.as_scalar()).unwrap_or("0");
                let nanos = v.get("nanos").and_then(|s| s.as_scalar()).unwrap_or("0");
                match (seconds.parse::<i64>(), nanos.parse::<i32>()) {
                    (Ok(s), Ok(n))
                        if s.abs() <= MAX_DURATION_SECONDS
                            && n.abs() < 1_000_000_000
                            && (s == 0 || n == 0 || (s < 0) == (n < 0)) =>
                    {
                        Some(Spanned {
                            value: Duration {
                                seconds: s,
                                nanos: n,
                            },
                            span: v.span,
                        })
                    }
                    _ => {
                        let reason = format!(
                            "{{seconds: {seconds}, nanos: {nanos}}} is not a valid duration"
                        );
                        self.bad(v, &field, reason);
                        None
                    }
                }
            }
            NodeKind::Seq(_) => {
                self.wrong(v, &field, "a duration like \"5s\"");
                None
            }
        }
    }

    /// The `typed_config` of `parent` and its `@type` message name.
    fn typed_config<'n>(
        &mut self,
        parent: &'n Node,
        path: &Path<'_>,
    ) -> Option<(&'n Node, String)> {
        let tc = self.map(parent, "typed_config", path)?;
        let url = tc.get("@type").and_then(|t| t.as_scalar()).unwrap_or("");
        Some((tc, type_name(url).to_owned()))
    }

    /// Read an admin `/config_dump`: its clusters and active listeners as
    /// if they were static, and each connection manager's RDS routes put in
    /// place from the dumped route configurations (Envoy has them all, so
    /// the routes are known). `BootstrapConfigDump` is skipped: its static
    /// resources are dumped again in the other parts, and its
    /// `dynamic_resources` are what the dump already resolved.
    fn config_dump(&mut self, root: &Node, boot: &mut Bootstrap) {
        let mut routes: Vec<RouteConfiguration> = Vec::new();
        let mut dump = ConfigDump::default();
        for (i, c) in self.seq(root, "configs", &Path::Root).iter().enumerate() {
            let p = Path::Root.index("configs", i);
            if !self.expect_map(c, &p) {
                continue;
            }
            let ty = c
                .get("@type")
                .and_then(|t| t.as_scalar())
                .map(type_name)
                .unwrap_or("");
            let short = ty.rsplit('.').next().unwrap_or(ty);
            if !short.is_empty() && !dump.parts.iter().any(|k| k == short) {
                dump.parts.push(short.to_owned());
            }
            match ty {
                CLUSTERS_DUMP_TYPE => {
                    for key in [
                        "static_clusters",
                        "dynamic_active_clusters",
                        "dynamic_warming_clusters",
                    ] {
                        for (j, e) in self.seq(c, key, &p).iter().enumerate() {
                            let ep = p.index(key, j);
                            if let Some(cl) = self.map(e, "cluster", &ep) {
                                boot.clusters.push(self.cluster(cl, &ep.field("cluster")));
                            }
                        }
                    }
                }
                LISTENERS_DUMP_TYPE => {
                    for (j, e) in self.seq(c, "static_listeners", &p).iter().enumerate() {
                        let ep = p.index("static_listeners", j);
                        if let Some(l) = self.map(e, "listener", &ep) {
                            boot.listeners.push(self.listener(l, &ep.field("listener")));
                        }
                    }
                    for (j, e) in self.seq(c, "dynamic_listeners", &p).iter().enumerate() {
                        let ep = p.index("dynamic_listeners", j);
                        let Some(active) = self.map(e, "active_state", &ep) else {
                            continue;
                        };
                        let ap = ep.field("active_state");
                        if let Some(l) = self.map(active, "listener", &ap) {
                            boot.listeners.push(self.listener(l, &ap.field("listener")));
                        }
                    }
                }
                ROUTES_DUMP_TYPE => {
                    // `static_route_configs` are the inline `route_config`s
                    // of static listeners, dumped again: read with them.
                    let key = "dynamic_route_configs";
                    for (j, e) in self.seq(c, key, &p).iter().enumerate() {
                        let ep = p.index(key, j);
                        if let Some(rc) = self.map(e, "route_config", &ep) {
                            routes.push(self.route_config(rc, &ep.field("route_config")));
                        }
                    }
                }
                _ => {}
            }
        }
        // Put each RDS route configuration in its connection manager, and
        // drop the note that said the routes were elsewhere.
        let mut resolved: Vec<String> = Vec::new();
        let mut used = vec![false; routes.len()];
        for h in boot
            .listeners
            .iter_mut()
            .flat_map(|l| l.http_managers.iter_mut())
        {
            let Some(name) = h.rds.as_ref().map(|n| n.value.clone()) else {
                continue;
            };
            let found = routes
                .iter()
                .position(|rc| rc.name.as_ref().is_some_and(|n| n.value == name));
            if let Some(i) = found {
                used[i] = true;
                h.route_config = Some(routes[i].clone());
                h.rds = None;
                resolved.push(name);
            }
        }
        self.notes.retain(|n| match n {
            EnvoyNote::RdsRoutes {
                route_config_name, ..
            } => !resolved.contains(route_config_name),
            _ => true,
        });
        dump.unattached_routes = routes
            .iter()
            .zip(&used)
            .filter(|(rc, used)| !**used && rc.name.is_some())
            .map(|(rc, _)| rc.name.as_ref().map_or(String::new(), |n| n.value.clone()))
            .collect();
        boot.config_dump = Some(dump);
    }

    fn listener(&mut self, l: &Node, path: &Path<'_>) -> Listener {
        let mut out = Listener {
            name: self.string(l, "name", path),
            span: l.span,
            ..Listener::default()
        };
        if let Some(addr) = self.map(l, "address", path) {
            if let Some(sa) = self.map(addr, "socket_address", &path.field("address")) {
                let p = path.field("address.socket_address");
                let host = self.string(sa, "address", &p);
                let port = self.uint(sa, "port_value", &p);
                if let Some(host) = host {
                    let value = match &port {
                        Some(port) => format!("{}:{}", host.value, port.value),
                        None => host.value.clone(),
                    };
                    out.address = Some(Spanned {
                        value,
                        span: sa.span,
                    });
                }
            }
        }
        let mut chains: Vec<(Path<'_>, &Node)> = self
            .seq(l, "filter_chains", path)
            .iter()
            .enumerate()
            .map(|(i, c)| (path.index("filter_chains", i), c))
            .collect();
        if let Some(d) = l.get("default_filter_chain") {
            chains.push((path.field("default_filter_chain"), d));
        }
        for (cp, chain) in chains {
            if !self.expect_map(chain, &cp) {
                continue;
            }
            for (i, f) in self.seq(chain, "filters", &cp).iter().enumerate() {
                let fp = cp.index("filters", i);
                if !self.expect_map(f, &fp) {
                    continue;
                }
                if let Some((tc, ty)) = self.typed_config(f, &fp) {
                    if ty == HCM_TYPE {
                        let hp = fp.field("typed_config");
                        out.http_managers.push(self.hcm(tc, &hp));
                    }
                }
            }
        }
        out
    }

    fn hcm(&mut self, h: &Node, path: &Path<'_>) -> HttpConnectionManager {
        let mut out = HttpConnectionManager {
            stat_prefix: self.string(h, "stat_prefix", path),
            generate_request_id: self.boolean(h, "generate_request_id", path),
            max_request_headers_kb: self.uint(h, "max_request_headers_kb", path),
            stream_idle_timeout: self.duration(h, "stream_idle_timeout", path),
            request_timeout: self.duration(h, "request_timeout", path),
            span: h.span,
            ..HttpConnectionManager::default()
        };
        if let Some(o) = self.map(h, "common_http_protocol_options", path) {
            let p = path.field("common_http_protocol_options");
            out.common_http_protocol_options = Some(self.http_options(o, &p));
        }
        if let Some(rc) = self.map(h, "route_config", path) {
            out.route_config = Some(self.route_config(rc, &path.field("route_config")));
        }
        if let Some(rds) = self.map(h, "rds", path) {
            let name = self.string(rds, "route_config_name", &path.field("rds"));
            let route_config_name = name.as_ref().map_or(String::new(), |n| n.value.clone());
            self.notes.push(EnvoyNote::RdsRoutes {
                route_config_name,
                span: rds.span,
            });
            out.rds = Some(name.unwrap_or(Spanned {
                value: String::new(),
                span: rds.span,
            }));
        }
        for (i, a) in self.seq(h, "access_log", path).iter().enumerate() {
            let ap = path.index("access_log", i);
            if self.expect_map(a, &ap) {
                out.access_log.push(self.access_log(a, &ap));
            }
        }
        for (i, f) in self.seq(h, "http_filters", path).iter().enumerate() {
            if let Some(name) = self.string(f, "name", &path.index("http_filters", i)) {
                out.http_filters.push(name);
            }
        }
        out
    }

    fn access_log(&mut self, a: &Node, path: &Path<'_>) -> AccessLog {
        let mut out = AccessLog {
            name: self.string(a, "name", path),
            span: a.span,
            ..AccessLog::default()
        };
        let Some(tc) = self.map(a, "typed_config", path) else {
            return out;
        };
        let tp = path.field("typed_config");
        out.type_url = self.string(tc, "@type", &tp);
        out.path = self.string(tc, "path", &tp);
        if let Some(lf) = self.map(tc, "log_format", &tp) {
            let lp = tp.field("log_format");
            out.format = if let Some(src) = lf.get("text_format_source") {
                match src.get("inline_string").and_then(|s| s.as_scalar()) {
                    Some(s) => LogFormat::Text(Spanned {
                        value: s.to_owned(),
                        span: src.span,
                    }),
                    None => LogFormat::Other(src.span),
                }
            } else if let Some(t) = self.string(lf, "text_format", &lp) {
                LogFormat::Text(t)
            } else if let Some(j) = lf.get("json_format") {
                LogFormat::Json(Spanned {
                    value: scalar_text(j),
                    span: j.span,
                })
            } else {
                LogFormat::Other(lf.span)
            };
        } else if let Some(f) = self.string(tc, "format", &tp) {
            out.format = LogFormat::Text(f);
        } else if let Some(j) = tc.get("json_format") {
            out.format = LogFormat::Json(Spanned {
                value: scalar_text(j),
                span: j.span,
            });
        }
        out
    }

    fn route_config(&mut self, rc: &Node, path: &Path<'_>) -> RouteConfiguration {
        let mut out = RouteConfiguration {
            name: self.string(rc, "name", path),
            validate_clusters: self.boolean(rc, "validate_clusters", path),
            span: rc.span,
            ..RouteConfiguration::default()
        };
        for (i, vh) in self.seq(rc, "virtual_hosts", path).iter().enumerate() {
            let vp = path.index("virtual_hosts", i);
            if !self.expect_map(vh, &vp) {
                continue;
            }
            let mut v = VirtualHost {
                name: self.string(vh, "name", &vp),
                span: vh.span,
                ..VirtualHost::default()
            };
            for (j, d) in self.seq(vh, "domains", &vp).iter().enumerate() {
                match d.as_scalar() {
                    Some(s) => v.domains.push(Spanned {
                        value: s.to_owned(),
                        span: d.span,
                    }),
                    None => self.wrong(d, &vp.index("domains", j), "a string"),
                }
            }
            if let Some(rp) = self.map(vh, "retry_policy", &vp) {
                v.retry_policy = Some(self.retry_policy(rp, &vp.field("retry_policy")));
            }
            for (j, r) in self.seq(vh, "routes", &vp).iter().enumerate() {
                let rp = vp.index("routes", j);
                if self.expect_map(r, &rp) {
                    v.routes.push(self.route(r, &rp));
                }
            }
            out.virtual_hosts.push(v);
        }
        out
    }

    fn route(&mut self, r: &Node, path: &Path<'_>) -> Route {
        let mut out = Route {
            name: self.string(r, "name", path),
            span: r.span,
            ..Route::default()
        };
        if let Some(m) = self.map(r, "match", path) {
            let mp = path.field("match");
            out.matcher.span = m.span;
            for key in ["prefix", "path", "path_separated_prefix"] {
                if out.matcher.path.is_none() {
                    if let Some(v) = self.string(m, key, &mp) {
                        out.matcher.path = Some(v);
                        out.matcher.kind = key;
                    }
                }
            }
            if out.matcher.path.is_none() {
                if let Some(re) = m.get("safe_regex").and_then(|s| s.get("regex")) {
                    if let Some(text) = re.as_scalar() {
                        out.matcher.path = Some(Spanned {
                            value: text.to_owned(),
                            span: re.span,
                        });
                        out.matcher.kind = "safe_regex";
                    }
                }
            }
            for h in self.seq(m, "headers", &mp) {
                out.matcher.headers.push(header_matcher(h));
            }
        }
        if let Some(a) = self.map(r, "route", path) {
            out.action = Some(self.route_action(a, &path.field("route")));
        }
        out
    }

    fn route_action(&mut self, a: &Node, path: &Path<'_>) -> RouteAction {
        let mut out = RouteAction {
            cluster: self.string(a, "cluster", path),
            cluster_header: self.string(a, "cluster_header", path),
            timeout: self.duration(a, "timeout", path),
            idle_timeout: self.duration(a, "idle_timeout", path),
            span: a.span,
            ..RouteAction::default()
        };
        if let Some(m) = self.map(a, "max_stream_duration", path) {
            let mp = path.field("max_stream_duration");
            out.max_stream_duration = self.duration(m, "max_stream_duration", &mp);
            out.grpc_timeout_header_max = self.duration(m, "grpc_timeout_header_max", &mp);
        }
        if let Some(w) = self.map(a, "weighted_clusters", path) {
            let wp = path.field("weighted_clusters");
            for (i, c) in self.seq(w, "clusters", &wp).iter().enumerate() {
                if let Some(n) = self.string(c, "name", &wp.index("clusters", i)) {
                    out.weighted_clusters.push(n);
                }
            }
        }
        if let Some(rp) = self.map(a, "retry_policy", path) {
            out.retry_policy = Some(self.retry_policy(rp, &path.field("retry_policy")));
        }
        out
    }

    fn retry_policy(&mut self, rp: &Node, path: &Path<'_>) -> RetryPolicy {
        let mut out = RetryPolicy {
            retry_on: self.string(rp, "retry_on", path),
            num_retries: self.uint(rp, "num_retries", path),
            per_try_timeout: self.duration(rp, "per_try_timeout", path),
            per_try_idle_timeout: self.duration(rp, "per_try_idle_timeout", path),
            span: rp.span,
            ..RetryPolicy::default()
        };
        for (i, c) in self
            .seq(rp, "retriable_status_codes", path)
            .iter()
            .enumerate()
        {
            let field = path.index("retriable_status_codes", i);
            match c.as_scalar().and_then(|s| s.parse::<u64>().ok()) {
                Some(n) => out.retriable_status_codes.push(Spanned {
                    value: n,
                    span: c.span,
                }),
                None => self.wrong(c, &field, "a status code"),
            }
        }
        out
    }

    fn http_options(&mut self, o: &Node, path: &Path<'_>) -> HttpProtocolOptions {
        HttpProtocolOptions {
            idle_timeout: self.duration(o, "idle_timeout", path),
            max_connection_duration: self.duration(o, "max_connection_duration", path),
            max_headers_count: self.uint(o, "max_headers_count", path),
            max_response_headers_kb: self.uint(o, "max_response_headers_kb", path),
            span: o.span,
        }
    }

    fn cluster(&mut self, c: &Node, path: &Path<'_>) -> Cluster {
        let mut out = Cluster {
            name: self.string(c, "name", path),
            discovery_type: self.enumeration(c, "type", path),
            connect_timeout: self.duration(c, "connect_timeout", path),
            lb_policy: self.enumeration(c, "lb_policy", path),
            dns_refresh_rate: self.duration(c, "dns_refresh_rate", path),
            respect_dns_ttl: self.boolean(c, "respect_dns_ttl", path),
            span: c.span,
            ..Cluster::default()
        };
        if let Some(ct) = self.map(c, "cluster_type", path) {
            out.cluster_type = self.string(ct, "name", &path.field("cluster_type"));
        }
        if out.type_str() == "EDS" {
            self.notes.push(EnvoyNote::EdsEndpoints {
                cluster: out.name_str().to_owned(),
                span: out.discovery_type.as_ref().map_or(c.span, |t| t.span),
            });
        }
        if let Some(la) = self.map(c, "load_assignment", path) {
            let lp = path.field("load_assignment");
            for (i, group) in self.seq(la, "endpoints", &lp).iter().enumerate() {
                let gp = lp.index("endpoints", i);
                for (j, lb) in self.seq(group, "lb_endpoints", &gp).iter().enumerate() {
                    let ep = gp.index("lb_endpoints", j);
                    if let Some(e) = self.endpoint(lb, &ep) {
                        out.endpoints.push(e);
                    }
                }
            }
        }
        for (i, hc) in self.seq(c, "health_checks", path).iter().enumerate() {
            let hp = path.index("health_checks", i);
            if self.expect_map(hc, &hp) {
                out.health_checks.push(self.health_check(hc, &hp));
            }
        }
        if let Some(od) = self.map(c, "outlier_detection", path) {
            let op = path.field("outlier_detection");
            out.outlier_detection = Some(OutlierDetection {
                consecutive_5xx: self.uint(od, "consecutive_5xx", &op),
                consecutive_gateway_failure: self.uint(od, "consecutive_gateway_failure", &op),
                interval: self.duration(od, "interval", &op),
                base_ejection_time: self.duration(od, "base_ejection_time", &op),
                max_ejection_percent: self.uint(od, "max_ejection_percent", &op),
                span: od.span,
            });
        }
        if let Some(cb) = self.map(c, "circuit_breakers", path) {
            let cp = path.field("circuit_breakers");
            for (i, t) in self.seq(cb, "thresholds", &cp).iter().enumerate() {
                let tp = cp.index("thresholds", i);
                if self.expect_map(t, &tp) {
                    out.circuit_breakers.push(CircuitThresholds {
                        priority: self.enumeration(t, "priority", &tp),
                        max_connections: self.uint(t, "max_connections", &tp),
                        max_pending_requests: self.uint(t, "max_pending_requests", &tp),
                        max_requests: self.uint(t, "max_requests", &tp),
                        max_retries: self.uint(t, "max_retries", &tp),
                        span: t.span,
                    });
                }
            }
        }
        if let Some(o) = self.map(c, "common_http_protocol_options", path) {
            let p = path.field("common_http_protocol_options");
            out.common_http_protocol_options = Some(self.http_options(o, &p));
        }
        if let Some(o) = self.map(c, "upstream_http_protocol_options", path) {
            out.legacy_auto_sni =
                self.boolean(o, "auto_sni", &path.field("upstream_http_protocol_options"));
        }
        if let Some(teo) = self.map(c, "typed_extension_protocol_options", path) {
            let tp = path.field("typed_extension_protocol_options");
            // Keyed by extension name (the message name, or the older
            // `envoy.upstreams.http.http_protocol_options`); told apart by
            // the value's `@type`.
            let entry = teo.as_map().unwrap_or(&[]).iter().find(|(k, v)| {
                let key = k.as_scalar().unwrap_or("");
                let ty = v.get("@type").and_then(|t| t.as_scalar()).map(type_name);
                ty == Some(UPSTREAM_HTTP_OPTIONS_KEY)
                    || (ty.is_none()
                        && matches!(
                            key,
                            UPSTREAM_HTTP_OPTIONS_KEY
                                | "envoy.upstreams.http.http_protocol_options"
                        ))
            });
            if let Some((k, o)) = entry {
                let op = tp.key(k.as_scalar().unwrap_or(""));
                if self.expect_map(o, &op) {
                    out.upstream_http_options = Some(self.upstream_http_options(o, &op));
                }
            }
        }
        if let Some(ts) = self.map(c, "transport_socket", path) {
            let tsp = path.field("transport_socket");
            if let Some((tc, ty)) = self.typed_config(ts, &tsp) {
                if ty == UPSTREAM_TLS_TYPE {
                    out.tls = Some(self.upstream_tls(tc, &tsp.field("typed_config")));
                }
            }
        }
        out
    }

    fn endpoint(&mut self, lb: &Node, path: &Path<'_>) -> Option<Endpoint> {
        let ep = self.map(lb, "endpoint", path)?;
        let epp = path.field("endpoint");
        let addr = self.map(ep, "address", &epp)?;
        let ap = epp.field("address");
        if let Some(sa) = self.map(addr, "socket_address", &ap) {
            let sp = ap.field("socket_address");
            let address = self.string(sa, "address", &sp)?;
            return Some(Endpoint {
                address,
                port: self.uint(sa, "port_value", &sp),
                pipe: false,
                span: lb.span,
            });
        }
        if let Some(pipe) = self.map(addr, "pipe", &ap) {
            let address = self.string(pipe, "path", &ap.field("pipe"))?;
            return Some(Endpoint {
                address,
                port: None,
                pipe: true,
                span: lb.span,
            });
        }
        None
    }

    fn health_check(&mut self, hc: &Node, path: &Path<'_>) -> HealthCheck {
        let mut out = HealthCheck {
            timeout: self.duration(hc, "timeout", path),
            interval: self.duration(hc, "interval", path),
            unhealthy_threshold: self.uint(hc, "unhealthy_threshold", path),
            healthy_threshold: self.uint(hc, "healthy_threshold", path),
            span: hc.span,
            ..HealthCheck::default()
        };
        for kind in ["http", "tcp", "grpc", "custom"] {
            let key = format!("{kind}_health_check");
            if let Some((k, v)) = hc.get_entry(&key) {
                out.kind = Some(Spanned {
                    value: kind.to_owned(),
                    span: k.span,
                });
                if kind == "http" {
                    out.http_path = self.string(v, "path", &path.field(&key));
                }
                break;
            }
        }
        out
    }

    fn upstream_http_options(&mut self, o: &Node, path: &Path<'_>) -> UpstreamHttpOptions {
        let mut out = UpstreamHttpOptions {
            span: o.span,
            ..UpstreamHttpOptions::default()
        };
        if let Some(c) = self.map(o, "common_http_protocol_options", path) {
            out.common = Some(self.http_options(c, &path.field("common_http_protocol_options")));
        }
        if let Some(u) = self.map(o, "upstream_http_protocol_options", path) {
            out.auto_sni =
                self.boolean(u, "auto_sni", &path.field("upstream_http_protocol_options"));
        }
        let explicit_h2 = o
            .get("explicit_http_config")
            .is_some_and(|e| e.get("http2_protocol_options").is_some());
        let auto = o.get("auto_config").is_some();
        out.http2 = explicit_h2 || auto;
        out
    }

    fn upstream_tls(&mut self, t: &Node, path: &Path<'_>) -> UpstreamTls {
        let mut out = UpstreamTls {
            sni: self.string(t, "sni", path),
            auto_host_sni: self.boolean(t, "auto_host_sni", path),
            span: t.span,
            ..UpstreamTls::default()
        };
        if let Some(ctx) = t.get("common_tls_context") {
            let vc = ctx.get("validation_context").or_else(|| {
                ctx.get("combined_validation_context")
                    .and_then(|c| c.get("default_validation_context"))
            });
            if let Some(vc) = vc {
                out.has_validation_context = true;
                if let Some(ca) = vc.get("trusted_ca") {
                    let value = ca
                        .get("filename")
                        .and_then(|f| f.as_scalar())
                        .map(str::to_owned)
                        .unwrap_or_else(|| "<inline>".to_owned());
                    out.trusted_ca = Some(Spanned {
                        value,
                        span: ca.span,
                    });
                }
            }
            // The trust bundle from SDS: straight in `common_tls_context`, or
            // in `combined_validation_context` beside a default context of
            // SAN matchers (SPIRE's Envoy tutorials; Envoy's
            // `CombinedCertificateValidationContext`, where it is required).
            let sds = ctx.get("validation_context_sds_secret_config").or_else(|| {
                ctx.get("combined_validation_context")
                    .and_then(|c| c.get("validation_context_sds_secret_config"))
            });
            if let Some(sds) = sds {
                out.has_validation_context = true;
                let name = sds.get("name").and_then(|n| n.as_scalar()).unwrap_or("sds");
                out.trusted_ca = Some(Spanned {
                    value: format!("sds:{name}"),
                    span: sds.span,
                });
            }
        }
        out
    }
}

fn header_matcher(h: &Node) -> HeaderMatcher {
    let s = |n: Option<&Node>| n.and_then(|n| n.as_scalar()).map(str::to_owned);
    let mut out = HeaderMatcher {
        name: s(h.get("name")).unwrap_or_default(),
        invert: h.get("invert_match").and_then(|n| n.as_scalar()) == Some("true"),
        span: h.span,
        ..HeaderMatcher::default()
    };
    if let Some(v) = s(h.get("exact_match")) {
        out.value = Some(v);
    } else if let Some(re) = s(h.get("safe_regex_match").and_then(|r| r.get("regex"))) {
        out.value = Some(re);
        out.regex = true;
    } else if let Some(sm) = h.get("string_match") {
        if let Some(v) = s(sm.get("exact")) {
            out.value = Some(v);
        } else if let Some(re) = s(sm.get("safe_regex").and_then(|r| r.get("regex"))) {
            out.value = Some(re);
            out.regex = true;
        }
    }
    out
}

/// Every scalar under `node`, joined by spaces.
fn scalar_text(node: &Node) -> String {
    fn walk(n: &Node, out: &mut String) {
        match &n.kind {
            NodeKind::Scalar { text, .. } => {
                if !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(text);
            }
            NodeKind::Seq(items) => items.iter().for_each(|i| walk(i, out)),
            NodeKind::Map(m) => m.iter().for_each(|(_, v)| walk(v, out)),
        }
    }
    let mut out = String::new();
    walk(node, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const YAML: &str = r#"
static_resources:
  listeners:
  - name: ingress
    address:
      socket_address: { address: 0.0.0.0, port_value: 8080 }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress_http
          generate_request_id: false
          max_request_headers_kb: { value: 96 }
          access_log:
          - name: envoy.access_loggers.file
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
              path: /dev/stdout
              log_format:
                text_format_source:
                  inline_string: "%RESPONSE_CODE% %RESPONSE_FLAGS%\n"
          route_config:
            name: local
            virtual_hosts:
            - name: app
              domains: ["*"]
              retry_policy: { retry_on: "connect-failure", num_retries: 2 }
              routes:
              - match:
                  prefix: /api
                  headers:
                  - name: ":method"
                    string_match: { exact: GET }
                route:
                  cluster: app
                  timeout: 0s
                  idle_timeout: { seconds: 30 }
                  retry_policy:
                    retry_on: 5xx,reset
                    num_retries: "3"
                    per_try_timeout: 2.5s
              - match: { prefix: / }
                route:
                  weighted_clusters:
                    clusters: [{name: a, weight: 1}, {name: b, weight: 1}]
  clusters:
  - name: app
    type: STRICT_DNS
    connectTimeout: 0.25s
    dnsRefreshRate: 300s
    respect_dns_ttl: true
    load_assignment:
      cluster_name: app
      endpoints:
      - lb_endpoints:
        - endpoint: { address: { socket_address: { address: app.internal, port_value: 443 } } }
        - endpoint: { address: { socket_address: { address: 10.0.0.2, port_value: 443 } } }
    health_checks:
    - timeout: 1s
      interval: 5s
      unhealthy_threshold: 3
      http_health_check: { path: /healthz }
    outlier_detection: { consecutive_5xx: 5 }
    circuit_breakers:
      thresholds: [{ max_connections: 100, max_retries: 5 }]
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        common_http_protocol_options: { idle_timeout: 50s }
        upstream_http_protocol_options: { auto_sni: true }
        explicit_http_config: { http2_protocol_options: {} }
    transport_socket:
      name: envoy.transport_sockets.tls
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
        sni: app.internal
        common_tls_context:
          validation_context:
            trusted_ca: { filename: /etc/ssl/certs/ca.pem }
  - name: legacy
    connect_timeout: 5
    common_http_protocol_options: { idle_timeout: 3600s }
"#;

    #[test]
    fn reads_a_bootstrap() {
        let b = parse_bootstrap(FileId(0), YAML.as_bytes(), Syntax::Yaml);
        let errors: Vec<String> = b.errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            errors,
            ["static_resources.clusters[1].connect_timeout: '5' has no 's' suffix (protobuf durations look like \"5s\" or \"0.250s\")"]
        );
        let l = &b.listeners[0];
        assert_eq!(l.name.as_ref().unwrap().value, "ingress");
        assert_eq!(l.address.as_ref().unwrap().value, "0.0.0.0:8080");
        let h = &l.http_managers[0];
        assert!(!h.generate_request_id.as_ref().unwrap().value);
        assert_eq!(h.max_request_headers_kb.as_ref().unwrap().value, 96);
        assert!(
            matches!(&h.access_log[0].format, LogFormat::Text(t) if t.value.starts_with("%RESPONSE_CODE%"))
        );
        let vh = &h.route_config.as_ref().unwrap().virtual_hosts[0];
        assert_eq!(
            vh.retry_policy
                .as_ref()
                .unwrap()
                .num_retries
                .as_ref()
                .unwrap()
                .value,
            2
        );
        let r = &vh.routes[0];
        assert_eq!(r.matcher.path.as_ref().unwrap().value, "/api");
        assert_eq!(r.matcher.headers[0].name, ":method");
        assert_eq!(r.matcher.headers[0].value.as_deref(), Some("GET"));
        let a = r.action.as_ref().unwrap();
        assert_eq!(a.cluster.as_ref().unwrap().value, "app");
        assert!(a.timeout.as_ref().unwrap().value.is_zero());
        assert_eq!(
            a.idle_timeout.as_ref().unwrap().value,
            Duration::from_secs(30)
        );
        let rp = a.retry_policy.as_ref().unwrap();
        assert_eq!(rp.conditions().collect::<Vec<_>>(), ["5xx", "reset"]);
        assert_eq!(rp.num_retries.as_ref().unwrap().value, 3);
        assert_eq!(
            rp.per_try_timeout.as_ref().unwrap().value,
            Duration::from_millis(2500)
        );
        let names: Vec<&str> = vh.routes[1]
            .action
            .as_ref()
            .unwrap()
            .weighted_clusters
            .iter()
            .map(|c| c.value.as_str())
            .collect();
        assert_eq!(names, ["a", "b"]);

        let c = &b.clusters[0];
        assert_eq!(c.type_str(), "STRICT_DNS");
        assert_eq!(
            c.connect_timeout.as_ref().unwrap().value,
            Duration::from_millis(250)
        );
        assert_eq!(
            c.dns_refresh_rate.as_ref().unwrap().value,
            Duration::from_secs(300)
        );
        assert!(c.respect_dns_ttl.as_ref().unwrap().value);
        assert_eq!(c.endpoints.len(), 2);
        assert_eq!(c.endpoints[0].address.value, "app.internal");
        assert_eq!(c.endpoints[0].port.as_ref().unwrap().value, 443);
        let hc = &c.health_checks[0];
        assert!(hc.healthy_threshold.is_none());
        assert_eq!(hc.http_path.as_ref().unwrap().value, "/healthz");
        assert_eq!(hc.kind.as_ref().unwrap().value, "http");
        assert_eq!(
            c.outlier_detection
                .as_ref()
                .unwrap()
                .consecutive_5xx
                .as_ref()
                .unwrap()
                .value,
            5
        );
        assert_eq!(c.circuit_breakers[0].max_retries.as_ref().unwrap().value, 5);
        let uo = c.upstream_http_options.as_ref().unwrap();
        assert_eq!(
            uo.common
                .as_ref()
                .unwrap()
                .idle_timeout
                .as_ref()
                .unwrap()
                .value,
            Duration::from_secs(50)
        );
        assert!(uo.auto_sni.as_ref().unwrap().value);
        assert!(uo.http2);
        let tls = c.tls.as_ref().unwrap();
        assert_eq!(tls.sni.as_ref().unwrap().value, "app.internal");
        assert_eq!(
            tls.trusted_ca.as_ref().unwrap().value,
            "/etc/ssl/certs/ca.pem"
        );

        let legacy = &b.clusters[1];
        assert_eq!(legacy.type_str(), "STATIC");
        assert!(legacy.connect_timeout.is_none());
        assert!(legacy.common_http_protocol_options.is_some());
    }

    #[test]
    fn upstream_http_options_by_type_or_old_name() {
        for key in ["envoy.upstreams.http.http_protocol_options", "whatever"] {
            let yaml = format!("static_resources:\n  clusters:\n  - name: c\n    typed_extension_protocol_options:\n      {key}:\n        \"@type\": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions\n        common_http_protocol_options: {{ idle_timeout: 4s }}\n");
            let b = parse_bootstrap(FileId(0), yaml.as_bytes(), Syntax::Yaml);
            let o = b.clusters[0].upstream_http_options.as_ref().expect(key);
            let idle = o.common.as_ref().unwrap().idle_timeout.as_ref().unwrap();
            assert_eq!(idle.value, Duration::from_secs(4));
        }
    }

    #[test]
    fn spans_point_at_the_value() {
        let b = parse_bootstrap(FileId(0), YAML.as_bytes(), Syntax::Yaml);
        let t = b.clusters[0].dns_refresh_rate.as_ref().unwrap();
        assert_eq!(&YAML[t.span.start as usize..t.span.end as usize], "300s");
        let lines = crate::source::LineIndex::new(YAML.as_bytes());
        assert_eq!(lines.line_col(t.span.start), (51, 21));
    }

    #[test]
    fn json_with_camel_case() {
        let json = r#"{
  "staticResources": {
    "clusters": [
      { "name": "c", "type": "LOGICAL_DNS", "connectTimeout": "1s",
        "loadAssignment": { "clusterName": "c", "endpoints": [ { "lbEndpoints": [
          { "endpoint": { "address": { "socketAddress": { "address": "x.example", "portValue": 80 } } } } ] } ] } }
    ],
    "listeners": []
  }
}"#;
        let b = parse_bootstrap(FileId(0), json.as_bytes(), Syntax::Json);
        assert!(b.errors.is_empty(), "{:?}", b.errors);
        assert_eq!(b.clusters[0].type_str(), "LOGICAL_DNS");
        assert_eq!(
            b.clusters[0].connect_timeout.as_ref().unwrap().value,
            Duration::from_secs(1)
        );
        assert_eq!(b.clusters[0].endpoints[0].address.value, "x.example");
    }

    #[test]
    fn enums_are_read_without_case() {
        // grpc-web's net/grpc/gateway/examples/echo/envoy.yaml, which Envoy
        // loads (case-insensitive enum parsing).
        let yaml = "static_resources:\n  clusters:\n  - name: c\n    type: logical_dns\n    lb_policy: round_robin\n";
        let b = parse_bootstrap(FileId(0), yaml.as_bytes(), Syntax::Yaml);
        assert!(b.errors.is_empty(), "{:?}", b.errors);
        assert_eq!(b.clusters[0].type_str(), "LOGICAL_DNS");
        let p = b.clusters[0].lb_policy.as_ref().unwrap();
        assert_eq!(p.value, "ROUND_ROBIN");
        assert_eq!(
            &yaml[p.span.start as usize..p.span.end as usize],
            "round_robin"
        );
    }

    #[test]
    fn rds_dynamic_and_eds_are_notes() {
        let yaml = r#"
dynamic_resources:
  cds_config: { ads: {} }
static_resources:
  listeners:
  - name: l
    filter_chains:
    - filters:
      - name: hcm
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: x
          rds: { route_config_name: main, config_source: { ads: {} } }
  clusters:
  - name: e
    type: EDS
    eds_cluster_config: { eds_config: { ads: {} } }
"#;
        let b = parse_bootstrap(FileId(0), yaml.as_bytes(), Syntax::Yaml);
        assert!(b.errors.is_empty(), "{:?}", b.errors);
        let notes: Vec<String> = b.notes.iter().map(|n| n.to_string()).collect();
        assert_eq!(notes.len(), 3, "{notes:?}");
        assert!(notes[1].contains("route_config_name 'main'"));
        assert_eq!(
            b.listeners[0].http_managers[0].rds.as_ref().unwrap().value,
            "main"
        );
        assert!(b.listeners[0].http_managers[0].route_config.is_none());
    }

    #[test]
    fn config_dump_reads_clusters_active_listeners_and_rds_routes() {
        // The shape of `curl localhost:9901/config_dump` (istioctl's test
        // dumps have it): the bootstrap part is skipped (its static
        // resources are dumped again), a warming listener is not serving.
        let json = r#"{"configs": [
  {"@type": "type.googleapis.com/envoy.admin.v3.BootstrapConfigDump",
   "bootstrap": {"static_resources": {"clusters": [{"name": "dup"}]}}},
  {"@type": "type.googleapis.com/envoy.admin.v3.ClustersConfigDump",
   "static_clusters": [{"cluster": {"name": "agent", "connect_timeout": "0.250s"}}],
   "dynamic_active_clusters": [{"version_info": "1", "cluster": {"name": "app", "type": "EDS"}}]},
  {"@type": "type.googleapis.com/envoy.admin.v3.ListenersConfigDump",
   "dynamic_listeners": [
    {"name": "web", "active_state": {"listener": {"name": "web", "filter_chains": [{"filters": [{"name": "hcm", "typed_config": {
      "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
      "stat_prefix": "web", "rds": {"route_config_name": "r80", "config_source": {"ads": {}}}}}]}]}}},
    {"name": "warm", "warming_state": {"listener": {"name": "warm"}}}]},
  {"@type": "type.googleapis.com/envoy.admin.v3.RoutesConfigDump",
   "dynamic_route_configs": [{"route_config": {"name": "r80", "virtual_hosts": [
     {"name": "all", "domains": ["*"], "routes": [{"match": {"prefix": "/"}, "route": {"cluster": "app"}}]}]}},
     {"route_config": {"name": "orphan", "virtual_hosts": []}}]}
]}"#;
        let b = parse_bootstrap(FileId(0), json.as_bytes(), Syntax::Json);
        assert!(b.errors.is_empty(), "{:?}", b.errors);
        let clusters: Vec<&str> = b
            .clusters
            .iter()
            .map(|c| c.name.as_ref().unwrap().value.as_str())
            .collect();
        assert_eq!(clusters, ["agent", "app"]);
        assert_eq!(b.listeners.len(), 1);
        let h = &b.listeners[0].http_managers[0];
        assert!(h.rds.is_none());
        let rc = h.route_config.as_ref().expect("RDS routes put in place");
        assert_eq!(rc.virtual_hosts[0].routes.len(), 1);
        // The RDS note is gone; the EDS one stays (endpoints not read).
        let notes: Vec<String> = b.notes.iter().map(|n| n.to_string()).collect();
        assert!(
            notes.iter().all(|n| !n.contains("route_config_name")),
            "{notes:?}"
        );
        assert_eq!(notes.len(), 1, "{notes:?}");
        let dump = b.config_dump.as_ref().expect("a config dump");
        assert_eq!(
            dump.parts,
            [
                "BootstrapConfigDump",
                "ClustersConfigDump",
                "ListenersConfigDump",
                "RoutesConfigDump"
            ]
        );
        assert_eq!(dump.unattached_routes, ["orphan"]);
    }

    /// egctl's output wraps a `/config_dump` under keys of its own: Envoy
    /// would refuse it as a bootstrap and there is nothing to lint, which
    /// is said rather than passed as clean; an empty file or one with a
    /// single Bootstrap field (camelCase too) is not flagged.
    #[test]
    fn unknown_top_level_is_said() {
        let b = parse_bootstrap(
            FileId(0),
            b"xds:\n  default/eg:\n    configs: []\n",
            Syntax::Yaml,
        );
        let errors: Vec<String> = b.errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            errors,
            ["(root): expected an Envoy bootstrap, an xDS resource file (`resources`) or an admin /config_dump (`configs`), found a mapping of `xds`"]
        );
        for ok in ["layeredRuntime: {}\n", "{}\n", "admin: {}\nfoo: 1\n"] {
            let b = parse_bootstrap(FileId(0), ok.as_bytes(), Syntax::Yaml);
            assert!(b.errors.is_empty(), "{ok}: {:?}", b.errors);
        }
    }

    #[test]
    fn wrong_shapes_are_errors_and_reading_goes_on() {
        let yaml = "static_resources:\n  clusters:\n  - name: [x]\n    connect_timeout: {seconds: 1, nanos: -5}\n  - name: ok\n    respect_dns_ttl: maybe\n  listeners: 5\n";
        let b = parse_bootstrap(FileId(0), yaml.as_bytes(), Syntax::Yaml);
        let errors: Vec<String> = b.errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            errors,
            [
                "static_resources.listeners: expected a list, found a scalar",
                "static_resources.clusters[0].name: expected a string, found a list",
                "static_resources.clusters[0].connect_timeout: {seconds: 1, nanos: -5} is not a valid duration",
                "static_resources.clusters[1].respect_dns_ttl: 'maybe' is not true or false",
            ]
        );
        assert_eq!(b.clusters.len(), 2);
        assert_eq!(b.clusters[1].name_str(), "ok");
        let bad = parse_bootstrap(FileId(0), b"[1, 2]", Syntax::Yaml);
        assert_eq!(
            bad.errors[0].to_string(),
            "(root): expected a mapping, found a list"
        );
        let broken = parse_bootstrap(FileId(0), b"a: [", Syntax::Yaml);
        assert!(matches!(broken.errors[0], EnvoyError::Load(_)));
    }

    #[test]
    fn errors_name_nested_fields_lists_and_keys() {
        let yaml = r#"
static_resources:
  listeners:
  - filter_chains:
    - filters:
      - name: hcm
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          route_config:
            virtual_hosts:
            - domains: ["*"]
              routes:
              - match: { prefix: / }
                route: { cluster: a, timeout: 5 }
  clusters:
  - name: a
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        common_http_protocol_options: { idle_timeout: 1 }
"#;
        let b = parse_bootstrap(FileId(0), yaml.as_bytes(), Syntax::Yaml);
        let fields: Vec<String> = b
            .errors
            .iter()
            .map(|e| e.to_string().split(':').next().unwrap_or("").to_string())
            .collect();
        assert_eq!(
            fields,
            [
                "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes[0].route.timeout",
                "static_resources.clusters[0].typed_extension_protocol_options[envoy.extensions.upstreams.http.v3.HttpProtocolOptions].common_http_protocol_options.idle_timeout",
            ]
        );
        let xds = "resources:\n- \"@type\": type.googleapis.com/envoy.config.cluster.v3.Cluster\n  name: c\n  connect_timeout: 5\n";
        let b = parse_bootstrap(FileId(0), xds.as_bytes(), Syntax::Yaml);
        assert_eq!(
            b.errors[0].to_string().split(':').next(),
            Some("resources[0].connect_timeout")
        );
    }
}
