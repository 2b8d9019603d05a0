//! ALL-TMO-001 `timeout-ladder`: see the rule doc below.

use crate::config::ladder::gives_up_first;
use crate::config::nginx::units::fmt_duration;
use crate::declare_rule;
use crate::lint::values::Time;
use crate::lint::LintContext;

use super::{chain, declared, route_wait, HopRef};
use crate::lint::rules::nginx::route_label;

declare_rule! {
    /// An outer hop gives up before the hop behind it (the timeout ladder is upside down).
    ///
    /// ## What it does
    /// Walks the hop chain outer → inner (CDN and load balancer declared in
    /// the settings' `hop` list, then the parsed proxy configs, then declared
    /// app hops) and checks that each hop waits for its upstream at least
    /// `margin` (1s) longer than the next hop inward may take. A parsed
    /// proxy's wait is its longest effective upstream wait over its routes:
    /// `proxy_read_timeout` (or the route timeout) × the attempts its retry
    /// settings allow.
    ///
    /// ## Why it causes 502s
    /// When an outer hop gives up first it answers 502/504 itself while the
    /// inner hop is still working; the inner hop's real result (and its log
    /// line) is lost, and the origin keeps doing work nobody waits for
    /// (guide steps 4 and 5).
    ///
    /// ## Example
    /// ```yaml
    /// # .gatecheck.yaml
    /// hop:
    ///   - { name: cdn, kind: cdn, timeout: 30s }
    /// ```
    /// ```nginx
    /// location / { proxy_pass http://app; proxy_read_timeout 60s; }
    /// ```
    ///
    /// ## Use instead
    /// ```nginx
    /// location / { proxy_pass http://app; proxy_read_timeout 25s; }
    /// ```
    /// (or raise the CDN's origin timeout above 61s).
    ///
    /// ## Options
    /// - `margin` (time, default `1s`): how much longer each outer hop must wait.
    ///
    /// ## References
    /// - nginx `proxy_read_timeout`: <https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_read_timeout>
    /// - the settings' `hop` list (README, "Settings").
    pub TimeoutLadder {
        id: "ALL-TMO-001",
        name: "timeout-ladder",
        severity: Warning,
        since: "0.1.0",
        scope: Workspace,
        options: TimeoutLadderOptions,
    }
}

/// Options of [`TimeoutLadder`] (`options.{id or name}` in the settings).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TimeoutLadderOptions {
    /// How much longer each outer hop must wait. Default 1s.
    pub margin: Time,
}

impl Default for TimeoutLadderOptions {
    fn default() -> Self {
        TimeoutLadderOptions {
            margin: Time(crate::config::ladder::DEFAULT_MARGIN),
        }
    }
}

fn check(ctx: &mut LintContext<'_>, o: &TimeoutLadderOptions) {
    let margin = o.margin.0;
    let hops = chain(ctx);
    for pair in hops.windows(2) {
        let (outer, inner) = (pair[0], pair[1]);
        match (outer, inner) {
            (HopRef::Declared(o), HopRef::Parsed(m)) => {
                let Some(limit) = declared(&o.timeout) else {
                    continue;
                };
                for (_, r) in m.routes() {
                    if r.proxy.is_none() {
                        continue;
                    }
                    let Some((wait, attempts, span)) = route_wait(m, r) else {
                        continue;
                    };
                    if gives_up_first(limit, wait, margin) {
                        ctx.report(
                            span,
                            format!(
                                "{} gives up after {} but {} may wait {} ({} × {} attempt{}): the outer hop answers 502/504 first",
                                o.name,
                                fmt_duration(limit),
                                route_label(r),
                                fmt_duration(wait),
                                fmt_duration(r.timeouts.read.value.unwrap_or_default()),
                                attempts,
                                if attempts == 1 { "" } else { "s" }
                            ),
                            format!(
                                "keep this hop's total wait below {} (lower the timeout or the retries), or raise {}'s timeout above {}",
                                fmt_duration(limit.saturating_sub(margin)),
                                o.name,
                                fmt_duration(wait + margin)
                            ),
                        );
                    }
                }
            }
            (HopRef::Parsed(m), HopRef::Declared(i)) => {
                let Some(inner_wait) = declared(&i.timeout) else {
                    continue;
                };
                let attempts = i.attempts.unwrap_or(1).max(1);
                let inner_total = inner_wait * attempts;
                for (_, r) in m.routes() {
                    if r.proxy.is_none() {
                        continue;
                    }
                    let Some(read) = r.timeouts.read.value else {
                        continue;
                    };
                    if gives_up_first(read, inner_total, margin) {
                        ctx.report(
                            r.timeouts.read.span,
                            format!(
                                "{} waits {} but {} may take {}: this proxy gives up first and answers 504/502",
                                route_label(r),
                                fmt_duration(read),
                                i.name,
                                fmt_duration(inner_total)
                            ),
                            format!(
                                "raise the read timeout above {}, or lower {}'s timeout",
                                fmt_duration(inner_total + margin),
                                i.name
                            ),
                        );
                    }
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

    const SRC: &str =
        "http { server { location / { proxy_pass http://10.0.0.1; proxy_read_timeout 60s; } } }";

    #[test]
    fn fail() {
        let s = Settings::from_str_as("hop:\n  - {name: cdn, kind: cdn, timeout: 30s}\n", false)
            .unwrap();
        let f = findings_with("ALL-TMO-001", SRC, &s);
        assert_eq!(f.len(), 1);
        assert!(
            f[0].starts_with("cdn gives up after 30s but location / may wait 60s"),
            "{f:?}"
        );
        let s = Settings::from_str_as("hop:\n  - {name: app, kind: app, timeout: 90s}\n", false)
            .unwrap();
        let f = findings_with("ALL-TMO-001", SRC, &s);
        assert_eq!(f.len(), 1, "{f:?}");
    }

    #[test]
    fn pass() {
        let s = Settings::from_str_as(
            "hop:\n  - {name: cdn, kind: cdn, timeout: 65s}\n  - {name: app, timeout: 50s}\n",
            false,
        )
        .unwrap();
        assert!(findings_with("ALL-TMO-001", SRC, &s).is_empty());
        assert!(findings_with("ALL-TMO-001", SRC, &Settings::default()).is_empty());
    }

    #[test]
    fn retries_multiply_the_wait() {
        let s =
            Settings::from_str_as("hop:\n  - {name: lb, kind: lb, timeout: 65s}\n", false).unwrap();
        let src = "http { upstream a { server 10.0.0.1; server 10.0.0.2; } server { location / { proxy_pass http://a; proxy_read_timeout 60s; } } }";
        let f = findings_with("ALL-TMO-001", src, &s);
        assert!(f[0].contains("may wait 120s (60s × 2 attempts)"), "{f:?}");
    }
}
