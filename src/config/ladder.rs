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
/// Retries count only where the route re-sends the request after its read
/// timeout fired ([`read_timeout_attempts`]); each attempt may then wait the
/// full read timeout, within `proxy_next_upstream_timeout` when set (nginx
/// `ngx_http_proxy_module` docs).
pub fn route_wait(m: &ProxyModel, r: &Route) -> Option<RouteWait> {
    let read = r.timeouts.read.value?;
    let attempts = read_timeout_attempts(m, r);
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

/// How many times route `r` may wait its full read timeout: 1, unless its
/// retry settings re-send the request after a read timeout.
///
/// - nginx: `proxy_next_upstream` with `timeout` (its default is `error
///   timeout`) tries the next server, up to `proxy_next_upstream_tries`
///   (0 = every server of the pool that is not `down`); nginx tries each
///   server once per request (`ngx_http_proxy_module`,
///   `ngx_http_upstream_module` docs).
/// - HAProxy: only `retry-on response-timeout` or `all-retryable-errors`
///   (which "activates … response-timeout") retry after `timeout server`
///   struck; the default `conn-failure` retries a connection that could not
///   be made (its `timeout connect`), never a response timeout (manual,
///   `retry-on`; `src/http_ana.c`: a read timeout retries only when the
///   backend's retry type has `PR_RE_TIMEOUT`, which `src/proxy.c` sets for
///   those two keywords). The attempts are `retries` + 1 (the L7 retries
///   share the `retries` counter, `do_l7_retry`), on the same server unless
///   `option redispatch`, so they are not capped by the pool's size.
/// - Envoy: the route `timeout` spans every retry ("the entire request,
///   including retries"), so it is waited once whatever `retry_on` says.
pub fn read_timeout_attempts(m: &ProxyModel, r: &Route) -> u32 {
    let on = |c: &str| r.retry.on.value.iter().any(|v| v == c);
    match m.kind {
        super::ProxyKind::Nginx if on("timeout") => {
            let servers = m
                .target_pool(r)
                .map(|p| p.servers.iter().filter(|s| !s.down).count() as u32)
                .unwrap_or(1)
                .max(1);
            match r.retry.tries.value {
                0 => servers,
                t => t.min(servers),
            }
        }
        super::ProxyKind::Haproxy if on("response-timeout") || on("all-retryable-errors") => {
            r.retry.tries.value.max(1)
        }
        _ => 1,
    }
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

    fn haproxy(text: &str) -> ProxyModel {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("haproxy.cfg");
        std::fs::write(&p, text).unwrap();
        let mut sources = SourceMap::default();
        let mut loaded = load(&[p], &LoadOptions::default(), &mut sources);
        assert_eq!(loaded.models.len(), 1);
        loaded.models.remove(0)
    }

    #[test]
    fn haproxy_retries_a_response_timeout_only_when_told() {
        let cfg = |retry: &str| {
            haproxy(&format!(
                "defaults\n  mode http\n  timeout connect 5s\n  timeout client 60s\n  timeout server 20s\n\
                 frontend fe\n  bind :80\n  default_backend be\n\
                 backend be\n{retry}  server s1 10.0.0.1:80\n"
            ))
        };
        let wait = |retry: &str| {
            let m = cfg(retry);
            let (_, r) = m.routes().next().expect("a route");
            let w = route_wait(&m, r).expect("timeout server is set");
            (w.wait.as_secs(), w.attempts)
        };
        // the default, conn-failure: a connection not made is retried, a
        // response timeout is not
        assert_eq!(wait(""), (20, 1));
        assert_eq!(
            wait("  retry-on conn-failure empty-response 504\n"),
            (20, 1)
        );
        assert_eq!(wait("  retry-on none\n"), (20, 1));
        // response-timeout: retries + 1 attempts (default retries 3), on the
        // one server of the pool
        assert_eq!(wait("  retry-on response-timeout\n"), (80, 4));
        assert_eq!(
            wait("  retries 1\n  retry-on conn-failure response-timeout\n"),
            (40, 2)
        );
        assert_eq!(
            wait("  retries 2\n  retry-on all-retryable-errors\n"),
            (60, 3)
        );
        assert_eq!(wait("  retries 0\n  retry-on response-timeout\n"), (20, 1));
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
