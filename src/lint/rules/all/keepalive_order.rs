//! ALL-KAL-001 `keepalive-order`: see the rule doc below.

use std::time::Duration;

use crate::config::model::{ProxyKind, ProxyModel};
use crate::config::nginx::units::fmt_duration;
use crate::declare_rule;
use crate::lint::LintContext;
use crate::source::Span;

use super::{chain, declared, HopRef};

/// nginx core `keepalive_timeout` default: 75s ((nginx docs: core keepalive_timeout)).
pub const NGINX_CLIENT_KEEPALIVE: Duration = Duration::from_secs(75);

declare_rule! {
    /// A hop keeps idle upstream connections longer than the server behind it keeps them open.
    ///
    /// ## What it does
    /// For each pair of adjacent hops (see ALL-TMO-001 for the chain) checks
    /// that the outer hop's idle timeout for upstream connections is shorter
    /// than the inner hop's keep-alive timeout. Outer side: a declared hop's
    /// `keepalive_timeout`, or nginx upstream `keepalive_timeout` (default
    /// 60s) of pools with keepalive. Inner side: a declared hop's
    /// `keepalive_timeout`, or nginx `keepalive_timeout` (default 75s) of its
    /// servers.
    ///
    /// ## Why it causes 502s
    /// When the server closes an idle connection first, the proxy can write
    /// the next request into a socket that is already closing: the request is
    /// reset and the client gets a 502 — the classic "intermittent 502 behind
    /// a load balancer" (guide step 4).
    ///
    /// ## Example
    /// ```yaml
    /// # .gatecheck.yaml
    /// hop:
    ///   - { name: node-app, kind: app, keepalive_timeout: 5s }
    /// ```
    /// ```nginx
    /// http {
    ///     upstream app { server 10.0.0.1:3000; keepalive 16; }   # idle 60s by default
    ///     server { location / { proxy_pass http://app; } }
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// # .gatecheck.yaml
    /// hop:
    ///   - { name: node-app, kind: app, keepalive_timeout: 5s }
    /// ```
    /// ```nginx
    /// http {
    ///     upstream app { server 10.0.0.1:3000; keepalive 16; keepalive_timeout 4s; }
    ///     server { location / { proxy_pass http://app; } }
    /// }
    /// ```
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// - nginx upstream `keepalive_timeout` (default 60s, since 1.15.3):
    ///   <https://nginx.org/en/docs/http/ngx_http_upstream_module.html#keepalive_timeout>
    /// - nginx `keepalive_timeout` (default 75s):
    ///   <https://nginx.org/en/docs/http/ngx_http_core_module.html#keepalive_timeout>
    pub KeepaliveOrder {
        id: "ALL-KAL-001",
        name: "keepalive-order",
        severity: Warning,
        since: "0.1.0",
        scope: Workspace,
    }
}

/// Shortest client-side keep-alive of a parsed nginx config, with its span.
fn server_keepalive(m: &ProxyModel) -> Option<(Duration, Span)> {
    if m.kind != ProxyKind::Nginx {
        return None;
    }
    let mut best: Option<(Duration, Span)> = None;
    let scopes: Vec<_> = if m.servers.is_empty() {
        vec![(&m.global.directives, m.global.span)]
    } else {
        m.servers.iter().map(|s| (&s.directives, s.span)).collect()
    };
    for (d, block) in scopes {
        let v = match d.get("keepalive_timeout") {
            Some(k) => (
                k.time(0).map_or(NGINX_CLIENT_KEEPALIVE, |t| t.value),
                k.span,
            ),
            None => (NGINX_CLIENT_KEEPALIVE, block),
        };
        if best.is_none_or(|b| v.0 < b.0) {
            best = Some(v);
        }
    }
    best
}

fn check(ctx: &mut LintContext<'_>) {
    let hops = chain(ctx);
    for pair in hops.windows(2) {
        match (pair[0], pair[1]) {
            (HopRef::Parsed(m), HopRef::Declared(inner)) => {
                let Some(inner_ka) = declared(&inner.keepalive_timeout) else {
                    continue;
                };
                for u in m.upstreams.iter().filter(|u| u.keepalive.value > 0) {
                    let idle = u.keepalive_timeout.value;
                    if idle >= inner_ka {
                        ctx.report(
                            u.keepalive_timeout.span,
                            format!(
                                "upstream `{}` keeps idle connections {}{} but {} closes them after {}: requests land on closing sockets (502)",
                                u.name,
                                fmt_duration(idle),
                                if u.keepalive_timeout.defaulted { " (default)" } else { "" },
                                inner.name,
                                fmt_duration(inner_ka)
                            ),
                            format!(
                                "set `keepalive_timeout {};` in upstream `{}` (shorter than {}'s)",
                                fmt_duration(inner_ka.saturating_sub(Duration::from_secs(1)).max(Duration::from_secs(1))),
                                u.name,
                                inner.name
                            ),
                        );
                    }
                }
            }
            (HopRef::Declared(outer), HopRef::Parsed(m)) => {
                let Some(outer_idle) = declared(&outer.keepalive_timeout) else {
                    continue;
                };
                let Some((ka, span)) = server_keepalive(m) else {
                    continue;
                };
                if outer_idle >= ka {
                    ctx.report(
                        span,
                        format!(
                            "{} keeps idle connections {} but this nginx closes them after {} (keepalive_timeout): requests land on closing sockets (502)",
                            outer.name,
                            fmt_duration(outer_idle),
                            fmt_duration(ka)
                        ),
                        format!("set `keepalive_timeout {};` or more here", fmt_duration(outer_idle + Duration::from_secs(5))),
                    );
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::test_util::findings_with;
    use crate::lint::Settings;

    const SRC: &str = "http { upstream a { server 10.0.0.1; keepalive 16; } server { location / { proxy_pass http://a; } } }";

    #[test]
    fn fail() {
        let s = Settings::from_str_as(
            "hop:\n  - {name: node, kind: app, keepalive_timeout: 5s}\n",
            false,
        )
        .unwrap();
        let f = findings_with("ALL-KAL-001", SRC, &s);
        assert_eq!(f.len(), 1);
        assert!(
            f[0].starts_with(
                "upstream `a` keeps idle connections 60s (default) but node closes them after 5s"
            ),
            "{f:?}"
        );
        let s = Settings::from_str_as(
            "hop:\n  - {name: alb, kind: lb, keepalive_timeout: 120s}\n",
            false,
        )
        .unwrap();
        let f = findings_with("ALL-KAL-001", SRC, &s);
        assert!(
            f[0].starts_with(
                "alb keeps idle connections 120s but this nginx closes them after 75s"
            ),
            "{f:?}"
        );
    }

    #[test]
    fn pass() {
        let s = Settings::from_str_as(
            "hop:\n  - {name: alb, kind: lb, keepalive_timeout: 60s}\n  - {name: node, keepalive_timeout: 65s}\n",
            false,
        )
        .unwrap();
        assert!(findings_with("ALL-KAL-001", SRC, &s).is_empty());
    }
}
