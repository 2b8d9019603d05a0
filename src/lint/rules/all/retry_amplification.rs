//! ALL-RTY-001 `retry-amplification`: see the rule doc below.

use crate::declare_rule;
use crate::lint::rules::nginx::route_label;
use crate::lint::values::Count;
use crate::lint::LintContext;

use super::{chain, route_wait, HopRef};

declare_rule! {
    /// Retries at several hops multiply into a burst of attempts per request.
    ///
    /// ## What it does
    /// Multiplies the attempts each hop of the chain may make for one request
    /// — a declared hop's `attempts` (default 1), a parsed proxy's largest
    /// number of attempts over its routes (nginx: servers tried on `timeout`,
    /// bounded by `proxy_next_upstream_tries`) — and flags a product above
    /// `max_attempts` (4).
    ///
    /// ## Why it causes 502s
    /// One failing origin request becomes a burst (3 × 4 × 2 = 24 attempts)
    /// that overloads the origin just when it struggles and stretches each
    /// request past the outer hops' timeouts, which then answer 502/504
    /// themselves (guide steps 2 and 4).
    ///
    /// ## Example
    /// ```yaml
    /// # .gatecheck.yaml
    /// hop:
    ///   - { name: cdn, kind: cdn, attempts: 3 }
    /// ```
    /// ```nginx
    /// http {
    ///     upstream app { server 10.0.0.1; server 10.0.0.2; server 10.0.0.3; }
    ///     server {
    ///         location / { proxy_pass http://app; }   # up to 3 attempts
    ///     }
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// # .gatecheck.yaml
    /// hop:
    ///   - { name: cdn, kind: cdn, attempts: 3 }
    /// ```
    /// ```nginx
    /// http {
    ///     upstream app { server 10.0.0.1; server 10.0.0.2; server 10.0.0.3; }
    ///     server {
    ///         location / { proxy_pass http://app; proxy_next_upstream_tries 1; }
    ///     }
    /// }
    /// ```
    /// (retry at one hop only).
    ///
    /// ## Options
    /// - `max_attempts` (integer, default `4`): the largest product accepted.
    ///
    /// ## References
    /// - nginx `proxy_next_upstream_tries`:
    ///   <https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_next_upstream_tries>
    pub RetryAmplification {
        id: "ALL-RTY-001",
        name: "retry-amplification",
        severity: Warning,
        since: "0.1.0",
        scope: Workspace,
        options: RetryAmplificationOptions,
    }
}

/// Options of [`RetryAmplification`] (`options.{id or name}` in the settings).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetryAmplificationOptions {
    /// The largest product of attempts accepted. Default 4.
    pub max_attempts: Count,
}

impl Default for RetryAmplificationOptions {
    fn default() -> Self {
        RetryAmplificationOptions {
            max_attempts: Count(4),
        }
    }
}

fn check(ctx: &mut LintContext<'_>, o: &RetryAmplificationOptions) {
    let max = o.max_attempts.0;
    let hops = chain(ctx);
    let mut product: u64 = 1;
    let mut factors = Vec::new();
    let mut worst = None;
    for h in &hops {
        match h {
            HopRef::Declared(d) => {
                let a = u64::from(d.attempts.unwrap_or(1).max(1));
                product = product.saturating_mul(a);
                factors.push(format!("{} {a}", d.name));
            }
            HopRef::Parsed(m) => {
                let best = m
                    .routes()
                    .filter(|(_, r)| r.proxy.is_some())
                    .filter_map(|(_, r)| route_wait(m, r).map(|(_, a, span)| (a, span, r)))
                    .max_by_key(|(a, _, _)| *a);
                if let Some((a, span, r)) = best {
                    product = product.saturating_mul(u64::from(a));
                    factors.push(format!("{} {} {a}", m.kind.as_str(), route_label(r)));
                    if worst.is_none_or(|(w, _)| a > w) {
                        worst = Some((a, span));
                    }
                }
            }
        }
    }
    if product > max {
        if let Some((_, span)) = worst {
            ctx.report(
                span,
                format!(
                    "one request may be tried {product} times across hops ({}), more than {max}",
                    factors.join(" × ")
                ),
                "retry at one hop only (e.g. `proxy_next_upstream_tries 1;` here, or no retries at the CDN)",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::test_util::findings_with;
    use crate::lint::Settings;

    const SRC: &str = "http { upstream app { server 10.0.0.1; server 10.0.0.2; server 10.0.0.3; } server { location / { proxy_pass http://app; } } }";

    #[test]
    fn fail() {
        let s = Settings::from_str_as("hop:\n  - {name: cdn, kind: cdn, attempts: 3}\n", false)
            .unwrap();
        let f = findings_with("ALL-RTY-001", SRC, &s);
        assert_eq!(f, ["one request may be tried 9 times across hops (cdn 3 × nginx location / 3), more than 4"]);
    }

    #[test]
    fn pass() {
        let s = Settings::from_str_as("hop:\n  - {name: cdn, kind: cdn, attempts: 3}\n", false)
            .unwrap();
        let src = SRC.replace(
            "proxy_pass http://app;",
            "proxy_pass http://app; proxy_next_upstream_tries 1;",
        );
        assert!(findings_with("ALL-RTY-001", &src, &s).is_empty());
        assert!(findings_with("ALL-RTY-001", SRC, &Settings::default()).is_empty());
    }
}
