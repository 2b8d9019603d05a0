//! HAP-HLT-003 `slow-failure-detection`: see the rule doc below.

use std::time::Duration;

use crate::config::units::fmt_duration;
use crate::declare_rule;
use crate::lint::LintContext;

use super::{flag, primaries};

declare_rule! {
    /// Health checks take longer than 30s to mark a dead server down, or a backend has no fallback server.
    ///
    /// ## What it does
    /// For checked servers, computes the detection time `inter × fall`
    /// (defaults 2s × 3 = 6s) and flags it above `max_detection_time`. Also
    /// flags a backend with a single server and no `backup`.
    ///
    /// ## Why it causes 502s
    /// Until the checks fail `fall` times in a row, traffic keeps going to a
    /// dead server and fails; with a single server there is nothing to fail
    /// over to at all (guide step 2, upstream health and failover).
    ///
    /// ## Example
    /// ```haproxy
    /// backend app
    ///     server a1 10.0.0.5:8080 check inter 30s fall 5
    /// ```
    ///
    /// ## Use instead
    /// ```haproxy
    /// backend app
    ///     server a1 10.0.0.5:8080 check inter 2s fall 3 rise 2
    ///     server a2 10.0.0.6:8080 check inter 2s fall 3 rise 2
    /// ```
    ///
    /// ## Options
    /// - `max_detection_time` (time, default `30s`): longest accepted
    ///   `inter × fall`.
    ///
    /// ## References
    /// - HAProxy configuration manual, server `inter` ("defaults to 2000
    ///   ms"), `fall` ("defaults to 3"), `rise` (2), `backup`:
    ///   <https://docs.haproxy.org/2.6/configuration.html#5.2-inter>
    pub SlowFailureDetection {
        id: "HAP-HLT-003",
        name: "slow-failure-detection",
        severity: Info,
        category: "HLT",
        proxy: "haproxy",
        since: "0.1.0",
    }
}

fn check(ctx: &mut LintContext<'_>) {
    let max = ctx.option_duration("max_detection_time", Duration::from_secs(30));
    let model = ctx.model();
    for u in &model.upstreams {
        for s in &u.servers {
            if flag(s, "check", "no-check") != Some(true) {
                continue;
            }
            let total = s.fail_timeout.value * s.max_fails.value;
            if total > max {
                let at = if s.fail_timeout.defaulted {
                    s.max_fails.span
                } else {
                    s.fail_timeout.span
                };
                ctx.report(
                    at,
                    format!(
                        "server {} is marked down only after inter {} × fall {} = {} (> {})",
                        s.address,
                        fmt_duration(s.fail_timeout.value),
                        s.max_fails.value,
                        fmt_duration(total),
                        fmt_duration(max)
                    ),
                    "use a shorter interval, e.g. `inter 2s fall 3 rise 2`",
                );
            }
        }
        let primary = primaries(u).count();
        if primary == 1 && u.servers.len() == 1 {
            ctx.report(
                u.servers[0].span,
                format!(
                    "'{}' has a single server and no backup: nothing to fail over to",
                    u.name
                ),
                "add a second server or a `backup` server",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::findings;

    #[test]
    fn fail() {
        assert_eq!(
            findings("HAP-HLT-003", "backend b\n server a 10.0.0.1:80 check inter 30s fall 5\n server c 10.0.0.2:80 check\n"),
            ["server 10.0.0.1:80 is marked down only after inter 30s × fall 5 = 150s (> 30s)"]
        );
        assert_eq!(
            findings("HAP-HLT-003", "backend b\n server a 10.0.0.1:80 check\n"),
            ["'b' has a single server and no backup: nothing to fail over to"]
        );
    }

    #[test]
    fn pass() {
        assert!(findings(
            "HAP-HLT-003",
            "backend b\n server a 10.0.0.1:80 check\n server c 10.0.0.2:80 check backup\n"
        )
        .is_empty());
    }
}
