//! nginx rules (`NGX-*`), one module per rule, plus helpers they share.

pub mod access_log_without_upstream;
pub mod cached_errors;
pub mod error_log_too_quiet;
pub mod failure_accounting_off;
pub mod fragment_context;
pub mod hostname_resolved_once;
pub mod implicit_proxy_timeouts;
pub mod invalid_busy_buffers;
pub mod invalid_value;
pub mod keepalive_not_reused;
pub mod long_connect_timeout;
pub mod low_file_limit;
pub mod masked_bad_gateway;
pub mod missing_include;
pub mod missing_proxy_sni;
pub mod no_request_id;
pub mod no_stale_on_error;
pub mod non_idempotent_retry;
pub mod proxy_pass_uri_mismatch;
pub mod resolve_without_resolver;
pub mod resolver_without_valid;
pub mod retries_disabled;
pub mod single_upstream_server;
pub mod small_proxy_buffer;
pub mod unbounded_retries;
pub mod unknown_directive;
pub mod unknown_upstream;
pub mod unusable_upstream_servers;
pub mod unverified_upstream_tls;
pub mod variable_proxy_pass_without_resolver;

use crate::config::model::{
    Directive, ProxyModel, ProxyPass, Route, Server, StreamServer, Upstream,
};
use crate::config::names::edit_distance;

/// Every route that proxies, with its server, target and pool (if any).
pub(crate) fn proxied(
    m: &ProxyModel,
) -> impl Iterator<Item = (&Server, &Route, &ProxyPass, Option<&Upstream>)> {
    m.routes().filter_map(move |(s, r)| {
        let p = r.proxy.as_ref()?;
        Some((s, r, p, m.target_pool(r)))
    })
}

/// Every `stream {}` server that proxies, with its target and its pool (an
/// `upstream` of stream, if it names one).
pub(crate) fn stream_proxied(
    m: &ProxyModel,
) -> impl Iterator<Item = (&StreamServer, &ProxyPass, Option<&Upstream>)> {
    m.stream.iter().flat_map(|st| {
        st.servers.iter().filter_map(move |s| {
            let p = s.proxy.as_ref()?;
            Some((s, p, st.target_pool(s)))
        })
    })
}

/// The `upstream`s of `stream {}`.
pub(crate) fn stream_upstreams(m: &ProxyModel) -> &[Upstream] {
    m.stream.as_ref().map_or(&[], |st| st.upstreams.as_slice())
}

/// Every directive named `name` written anywhere in the config (each
/// once, even when inherited into many scopes), in source order.
pub(crate) fn directives_named<'a>(m: &'a ProxyModel, name: &str) -> Vec<&'a Directive> {
    m.written.iter().filter(|d| d.name == name).collect()
}

/// The upstream an unknown `proxy_pass` name is probably a typo of (one
/// or two edits away); `None` when it is just a DNS name (nginx resolves
/// a name that matches no upstream at start-up).
pub(crate) fn upstream_typo<'a>(m: &'a ProxyModel, name: &str) -> Option<&'a str> {
    m.upstreams
        .iter()
        .map(|u| (edit_distance(name, &u.name), u.name.as_str()))
        .filter(|(d, n)| match *d {
            1 => n.len() >= 4,
            2 => n.len() >= 8,
            _ => false,
        })
        .min()
        .map(|(_, n)| n)
}

/// `location /x` style label of a route for messages.
pub(crate) fn route_label(r: &Route) -> String {
    use crate::config::model::RouteMatch::*;
    match &r.matcher {
        Prefix(p) => format!("location {p}"),
        Exact(p) => format!("location = {p}"),
        Regex(p, false) => format!("location ~ {p}"),
        Regex(p, true) => format!("location ~* {p}"),
        Named(p) => format!("location {p}"),
        Default => "server".into(),
        Other(t) => t.clone(),
    }
}
