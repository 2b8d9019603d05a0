//! ALL-TMO-002 `inconsistent-upstream-timeouts`: see the rule doc below.

use std::collections::BTreeMap;

use crate::config::nginx::units::fmt_duration;
use crate::declare_rule;
use crate::lint::rules::nginx::route_label;
use crate::lint::values::Count;
use crate::lint::LintContext;

declare_rule! {
    /// One upstream is waited for very differently depending on the route that reaches it.
    ///
    /// ## What it does
    /// Groups every proxying route of every parsed config by the upstream
    /// pool it sends to (by name) and flags a pool whose routes' read timeouts
    /// differ by a factor of `ratio` (2) or more, or whose routes retry on
    /// different conditions. WebSocket routes (`proxy_set_header Upgrade`)
    /// are left out of the timeout comparison: their read timeout is an
    /// idle time between frames; so are NGINX Plus probe locations (with a
    /// `health_check`), whose timeouts are the probes'.
    ///
    /// ## Why it causes 502s
    /// The same backend then fails on one path and succeeds on another:
    /// 502/504s look intermittent, depend on the URL, and are hard to
    /// reproduce (guide steps 1 and 4).
    ///
    /// ## Example
    /// ```nginx
    /// http {
    ///     upstream app { server 10.0.0.1:8080; }
    ///     server {
    ///         location /api    { proxy_pass http://app; proxy_read_timeout 60s; }
    ///         location /api/v2 { proxy_pass http://app; proxy_read_timeout 5s; }
    ///     }
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```nginx
    /// http {
    ///     upstream app { server 10.0.0.1:8080; }
    ///     server {
    ///         location /api    { proxy_pass http://app; proxy_read_timeout 30s; }
    ///         location /api/v2 { proxy_pass http://app; proxy_read_timeout 30s; }
    ///     }
    /// }
    /// ```
    /// or keep the difference and say why with `# gatecheck: ignore ALL-TMO-002`.
    ///
    /// ## Options
    /// - `ratio` (integer, default `2`): the factor between the longest and the
    ///   shortest timeout that is flagged.
    ///
    /// ## References
    /// - nginx `proxy_read_timeout`, `proxy_next_upstream`:
    ///   <https://nginx.org/en/docs/http/ngx_http_proxy_module.html>
    pub InconsistentUpstreamTimeouts {
        id: "ALL-TMO-002",
        name: "inconsistent-upstream-timeouts",
        severity: Warning,
        since: "0.1.0",
        scope: Workspace,
        options: InconsistentUpstreamTimeoutsOptions,
    }
}

/// Options of [`InconsistentUpstreamTimeouts`] (`options.{id or name}` in the settings).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InconsistentUpstreamTimeoutsOptions {
    /// The factor between the longest and the shortest wait accepted. Default 2.
    pub ratio: Count,
}

impl Default for InconsistentUpstreamTimeoutsOptions {
    fn default() -> Self {
        InconsistentUpstreamTimeoutsOptions { ratio: Count(2) }
    }
}

fn check(ctx: &mut LintContext<'_>, o: &InconsistentUpstreamTimeoutsOptions) {
    let ratio = u32::try_from(o.ratio.0).unwrap_or(u32::MAX).max(1);
    let mut pools: BTreeMap<&str, Vec<&crate::config::model::Route>> = BTreeMap::new();
    for m in ctx.models() {
        for (_, r) in m.routes() {
            if let Some(pool) = m.target_pool(r) {
                pools.entry(pool.name.as_str()).or_default().push(r);
            }
        }
    }
    for (name, routes) in pools {
        // On a WebSocket route the read timeout is the idle time allowed
        // between frames of a long-lived connection, not a response time
        // (nginx docs, "WebSocket proxying"): not comparable (Mattermost's
        // websocket location, 90s, beside its API's 600s).
        // A location with an NGINX Plus `health_check` sets the timeouts of
        // the probes it sends (nginx.org, `health_check`: "periodic health
        // checks of the servers in a group referenced in the surrounding
        // location"), short on purpose: not a path requests wait on.
        let timed: Vec<_> = routes
            .iter()
            .filter(|r| !upgrades(r) && !r.directives.has("health_check"))
            .filter_map(|r| r.timeouts.read.value.map(|t| (t, *r)))
            .collect();
        let (Some(min), Some(max)) = (
            timed.iter().min_by_key(|(t, _)| *t),
            timed.iter().max_by_key(|(t, _)| *t),
        ) else {
            continue;
        };
        if !min.0.is_zero() && max.0 >= min.0 * ratio {
            ctx.report(
                min.1.timeouts.read.span,
                format!(
                    "upstream `{name}` is waited for {} in {} but {} in {}",
                    fmt_duration(min.0),
                    route_label(min.1),
                    fmt_duration(max.0),
                    route_label(max.1)
                ),
                "align the read timeouts of the routes to one upstream, or document the difference with an ignore",
            );
            continue;
        }
        let first = &routes[0].retry.on.value;
        if let Some(other) = routes.iter().find(|r| &r.retry.on.value != first) {
            ctx.report(
                other.retry.on.span,
                format!(
                    "upstream `{name}` is retried on `{}` in {} but on `{}` in {}",
                    other.retry.on.value.join(" "),
                    route_label(other),
                    first.join(" "),
                    route_label(routes[0])
                ),
                "use the same proxy_next_upstream for every route to one upstream",
            );
        }
    }
}

/// True when the route passes on a connection upgrade (nginx
/// `proxy_set_header Upgrade …`), i.e. proxies WebSockets.
fn upgrades(r: &crate::config::model::Route) -> bool {
    r.directives
        .all("proxy_set_header")
        .iter()
        .any(|d| d.arg(0).is_some_and(|h| h.eq_ignore_ascii_case("upgrade")))
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::test_util::findings;

    const UP: &str = "upstream app { server 10.0.0.1; server 10.0.0.2; }";

    #[test]
    fn fail() {
        let f = findings(
            "ALL-TMO-002",
            &format!("http {{ {UP} server {{ location /api {{ proxy_pass http://app; proxy_read_timeout 60s; }} location /api/v2 {{ proxy_pass http://app; proxy_read_timeout 5s; }} }} }}"),
        );
        assert_eq!(
            f,
            ["upstream `app` is waited for 5s in location /api/v2 but 60s in location /api"]
        );
        let f = findings(
            "ALL-TMO-002",
            &format!("http {{ {UP} server {{ location /a {{ proxy_pass http://app; }} location /b {{ proxy_pass http://app; proxy_next_upstream off; }} }} }}"),
        );
        assert_eq!(f.len(), 1, "{f:?}");
    }

    #[test]
    fn pass() {
        assert!(findings(
            "ALL-TMO-002",
            &format!("http {{ {UP} server {{ location /a {{ proxy_pass http://app; proxy_read_timeout 40s; }} location /b {{ proxy_pass http://app; proxy_read_timeout 30s; }} }} }}"),
        )
        .is_empty());
        // NGINX-Demos' random-files/nginx.conf: the probe location's 1s
        assert!(findings(
            "ALL-TMO-002",
            &format!("http {{ {UP} server {{ location / {{ proxy_pass http://app; }} location @healthcheck {{ proxy_pass http://app; proxy_read_timeout 1s; health_check uri=/; }} }} }}"),
        )
        .is_empty());
        // mattermost/docker nginx/conf.d/default.conf: the websocket
        // location's 90s is an idle time between frames
        assert!(findings(
            "ALL-TMO-002",
            &format!("http {{ {UP} server {{ location /ws {{ proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection upgrade; proxy_pass http://app; proxy_read_timeout 90s; }} location / {{ proxy_pass http://app; proxy_read_timeout 600s; }} }} }}"),
        )
        .is_empty());
    }
}
