//! The timeout ladder's shared arithmetic: how long one route of a parsed
//! proxy may wait for its upstream (retries included), and when an outer hop
//! gives up before the hop inside it.
//!
//! Read by lint's ALL-TMO-001 / ALL-RTY-001 (configs alone) and by
//! `analyze::ladder` (configs, `--hop-timeout` and the logs' durations), so
//! both sides answer the same question the same way. Imports `config::model`
//! only.

use std::time::Duration;

use super::model::{ProxyModel, Route, RouteMatch};
use crate::source::Span;

/// How much longer each outer hop must wait than the hop inside it, by
/// default (ALL-TMO-001's `margin`): with equal limits the two timers race,
/// and the outer one usually wins, since it started first.
pub const DEFAULT_MARGIN: Duration = Duration::from_secs(1);

/// How long one route may wait for its upstream's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteWait {
    /// The whole wait: the read timeout × the attempts, capped by the retry
    /// budget when there is one.
    pub wait: Duration,
    /// Attempts the retry settings allow when the upstream times out.
    pub attempts: u32,
    /// The read timeout of one attempt (nginx `proxy_read_timeout`, HAProxy
    /// `timeout server`, Envoy route `timeout`).
    pub read: Duration,
    /// The setting that decides it (or the block where its default applies).
    pub span: Span,
    /// True when the read timeout is the proxy's documented default.
    pub defaulted: bool,
}

/// How long route `r` of `m` may wait for its upstream, retries included,
/// with the span of the setting that decides it; `None` when the wait is
/// unbounded (no read timeout).
///
/// Retries count only where the route retries on a timeout (nginx
/// `proxy_next_upstream timeout`): each attempt may wait the full read
/// timeout, up to `proxy_next_upstream_tries` (0 = every server of the
/// pool) and within `proxy_next_upstream_timeout` when set (nginx
/// `ngx_http_proxy_module` docs).
pub fn route_wait(m: &ProxyModel, r: &Route) -> Option<RouteWait> {
    let read = r.timeouts.read.value?;
    let servers = m
        .target_pool(r)
        .map(|p| p.servers.iter().filter(|s| !s.down).count() as u32)
        .unwrap_or(1)
        .max(1);
    let retries_on_timeout = r.retry.on.value.iter().any(|c| c == "timeout");
    let attempts = if retries_on_timeout {
        match r.retry.tries.value {
            0 => servers,
            t => t.min(servers),
        }
    } else {
        1
    };
    let mut wait = read * attempts;
    if let Some(cap) = r.retry.timeout.value {
        if attempts > 1 {
            wait = wait.min(cap.max(read));
        }
    }
    Some(RouteWait {
        wait,
        attempts,
        read,
        span: r.timeouts.read.span,
        defaulted: r.timeouts.read.defaulted,
    })
}

/// True when an outer hop that gives up after `outer` answers before the
/// inner hop, which may take `inner`: the outer hop must wait at least
/// `margin` longer.
pub fn gives_up_first(outer: Duration, inner: Duration, margin: Duration) -> bool {
    outer < inner.saturating_add(margin)
}

/// The setting that bounds a route's upstream wait, by proxy.
pub fn read_setting(m: &ProxyModel) -> &'static str {
    match m.kind {
        super::ProxyKind::Nginx => "proxy_read_timeout",
        super::ProxyKind::Haproxy => "timeout server",
        super::ProxyKind::Envoy => "route timeout",
    }
}

/// A short name for where a route sends its requests (`location /api`,
/// `backend be_app`, `route prefix / → cluster api`).
pub fn route_scope(m: &ProxyModel, r: &Route) -> String {
    let target = r.proxy.as_ref().map(|p| p.raw.as_str()).unwrap_or("");
    match m.kind {
        super::ProxyKind::Nginx => match &r.matcher {
            RouteMatch::Prefix(p) | RouteMatch::Named(p) => format!("location {p}"),
            RouteMatch::Exact(p) => format!("location = {p}"),
            RouteMatch::Regex(p, false) => format!("location ~ {p}"),
            RouteMatch::Regex(p, true) => format!("location ~* {p}"),
            RouteMatch::Default => "server".into(),
            RouteMatch::Other(t) => t.clone(),
        },
        super::ProxyKind::Haproxy => format!("backend {target}"),
        super::ProxyKind::Envoy => match &r.matcher {
            RouteMatch::Prefix(p) => format!("route prefix {p} → cluster {target}"),
            RouteMatch::Exact(p) => format!("route path {p} → cluster {target}"),
            RouteMatch::Regex(p, _) => format!("route regex {p} → cluster {target}"),
            _ => format!("cluster {target}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{load, LoadOptions};
    use crate::source::SourceMap;

    fn nginx(text: &str) -> ProxyModel {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("nginx.conf");
        std::fs::write(&p, text).unwrap();
        let mut sources = SourceMap::default();
        let mut loaded = load(&[p], &LoadOptions::default(), &mut sources);
        loaded.models.remove(0)
    }

    #[test]
    fn retries_on_timeout_multiply_the_wait() {
        let m = nginx("http { upstream a { server 10.0.0.1; server 10.0.0.2; server 10.0.0.3 down; } server { location / { proxy_pass http://a; proxy_read_timeout 20s; } location /once { proxy_pass http://a; proxy_read_timeout 20s; proxy_next_upstream error; } location /capped { proxy_pass http://a; proxy_read_timeout 20s; proxy_next_upstream_timeout 30s; } } }");
        let waits: Vec<(String, u64, u32)> = m
            .routes()
            .filter_map(|(_, r)| {
                route_wait(&m, r).map(|w| (route_scope(&m, r), w.wait.as_secs(), w.attempts))
            })
            .collect();
        // nginx's default proxy_next_upstream is "error timeout"
        assert_eq!(
            waits,
            vec![
                ("location /".to_string(), 40, 2),
                ("location /once".to_string(), 20, 1),
                ("location /capped".to_string(), 30, 2),
            ]
        );
    }

    #[test]
    fn the_outer_hop_must_wait_a_margin_longer() {
        let s = Duration::from_secs;
        assert!(gives_up_first(s(30), s(60), DEFAULT_MARGIN));
        // equal limits race: the outer timer started first
        assert!(gives_up_first(s(60), s(60), DEFAULT_MARGIN));
        assert!(!gives_up_first(s(61), s(60), DEFAULT_MARGIN));
        assert!(!gives_up_first(s(60), s(60), Duration::ZERO));
    }
}
