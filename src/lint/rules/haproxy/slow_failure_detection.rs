//! HAP-HLT-003 `slow-failure-detection`: see the rule doc below.

use std::time::Duration;

use crate::config::model::Endpoint;
use crate::config::nginx::units::fmt_duration;
use crate::declare_rule;
use crate::lint::values::Time;
use crate::lint::LintContext;

use super::{flag, param};

declare_rule! {
    /// Health checks take longer than 30s to mark a dead server down.
    ///
    /// ## What it does
    /// For checked servers, computes the worst-case time from a server's
    /// death to HAProxy marking it DOWN: up to one `inter` until the first
    /// failed check, then `fall − 1` more failed checks spaced by `fastinter`
    /// (the interval HAProxy uses while a server is "transitionally UP";
    /// `inter` when unset): `inter + (fall − 1) × fastinter` (defaults
    /// 2s + 2 × 2s = 6s). Flags it above `max_detection_time`.
    ///
    /// ## Why it causes 502s
    /// Until the checks fail `fall` times in a row, traffic keeps going to a
    /// dead server and fails (guide step 2, upstream health and failover).
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
    ///     server a1 10.0.0.5:8080 check inter 10s fastinter 1s fall 3 rise 2
    /// ```
    ///
    /// ## Options
    /// - `max_detection_time` (time, default `30s`): longest accepted
    ///   detection time.
    ///
    /// ## References
    /// - HAProxy configuration manual, server `inter` / `fastinter` /
    ///   `downinter` (table of the interval used in each server state),
    ///   `fall` ("defaults to 3"), `rise` (2):
    ///   <https://docs.haproxy.org/2.6/configuration.html#5.2-inter>
    pub SlowFailureDetection {
        id: "HAP-HLT-003",
        name: "slow-failure-detection",
        severity: Warning,
        since: "0.1.0",
        options: SlowFailureDetectionOptions,
    }
}

/// Options of [`SlowFailureDetection`] (`options.{id or name}` in the settings).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SlowFailureDetectionOptions {
    /// Longest accepted time to detect a dead server. Default 30s.
    pub max_detection_time: Time,
}

impl Default for SlowFailureDetectionOptions {
    fn default() -> Self {
        SlowFailureDetectionOptions {
            max_detection_time: Time(std::time::Duration::from_secs(30)),
        }
    }
}

/// A server's `fastinter`, when set and valid.
fn fastinter(s: &Endpoint) -> Option<(Duration, crate::source::Span)> {
    let w = param(s, "fastinter")?;
    Some((w.time()?, w.span))
}

fn check(ctx: &mut LintContext<'_>, o: &SlowFailureDetectionOptions) {
    let max = o.max_detection_time.0;
    let model = ctx.model();
    for u in &model.upstreams {
        for s in &u.servers {
            if flag(s, "check", "no-check") != Some(true) {
                continue;
            }
            let inter = s.fail_timeout.value;
            let fall = s.max_fails.value.max(1);
            let fast = fastinter(s);
            let step = fast.map_or(inter, |f| f.0);
            let total = inter + step * (fall - 1);
            if total > max {
                let at = if s.fail_timeout.defaulted {
                    s.max_fails.span
                } else {
                    s.fail_timeout.span
                };
                let step_text = match fast {
                    Some((f, _)) => format!("fastinter {}", fmt_duration(f)),
                    None => format!("inter {} (no fastinter)", fmt_duration(inter)),
                };
                ctx.report(
                    at,
                    format!(
                        "server {} is marked down only up to {} after it dies: inter {} + (fall {} − 1) × {step_text}; requests sent to it meanwhile fail (> {})",
                        s.address,
                        fmt_duration(total),
                        fmt_duration(inter),
                        fall,
                        fmt_duration(max)
                    ),
                    "check faster while a server is failing: `fastinter 1s` (or a shorter `inter`, or a lower `fall`)",
                );
            }
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
            ["server 10.0.0.1:80 is marked down only up to 150s after it dies: inter 30s + (fall 5 − 1) × inter 30s (no fastinter); requests sent to it meanwhile fail (> 30s)"]
        );
    }

    #[test]
    fn fastinter_counts() {
        // issue 8: inter 20s fall 3 fastinter 1s is about 22s, not 60s
        assert!(findings(
            "HAP-HLT-003",
            "backend b\n server a 10.0.0.1:80 check inter 20s fastinter 1s fall 3\n"
        )
        .is_empty());
        assert_eq!(
            findings("HAP-HLT-003", "backend b\n default-server inter 20s fastinter 10s fall 3\n server a 10.0.0.1:80 check\n"),
            ["server 10.0.0.1:80 is marked down only up to 40s after it dies: inter 20s + (fall 3 − 1) × fastinter 10s; requests sent to it meanwhile fail (> 30s)"]
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
