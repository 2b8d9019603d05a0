//! ENV-TMO-002 `per-try-timeout-too-long`: see the rule doc below.

use crate::config::nginx::units::fmt_duration;
use crate::declare_rule;
use crate::lint::LintContext;

declare_rule! {
    /// `per_try_timeout` leaves no room for the retries within the route `timeout`.
    ///
    /// ## What it does
    /// Flags a retry policy whose `per_try_timeout` is at least the route
    /// `timeout`, or whose attempts (`num_retries + 1`) × `per_try_timeout`
    /// exceed the route timeout by more than one try.
    ///
    /// ## Why it causes 502s
    /// The route timeout bounds all attempts together: when one try may use
    /// it all, a timed-out request is never retried, and the client sees the
    /// timeout of the first slow host instead of an answer from a healthy
    /// one (guide step 4, retries and timeouts).
    ///
    /// ## Example
    /// ```yaml
    /// # in a route
    /// route:
    ///   cluster: app
    ///   timeout: 10s
    ///   retry_policy: { retry_on: connect-failure, num_retries: 2, per_try_timeout: 10s }
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// # in a route
    /// route:
    ///   cluster: app
    ///   timeout: 10s
    ///   retry_policy: { retry_on: connect-failure, num_retries: 2, per_try_timeout: 3s }
    /// ```
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// - Envoy API, `config.route.v3.RetryPolicy.per_try_timeout` (default:
    ///   the route timeout) and `num_retries` (default 1):
    ///   <https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto#envoy-v3-api-field-config-route-v3-retrypolicy-per-try-timeout>
    pub PerTryTimeoutTooLong {
        id: "ENV-TMO-002",
        name: "per-try-timeout-too-long",
        severity: Warning,
        since: "0.1.0",
    }
}

fn check(ctx: &mut LintContext<'_>) {
    let model = ctx.model();
    for (_, r) in model.routes() {
        let (Some(per_try), Some(total)) = (r.retry.per_try.value, r.timeouts.read.value) else {
            continue;
        };
        let tries = r.retry.tries.value.max(1);
        if per_try >= total {
            ctx.report(
                r.retry.per_try.span,
                format!(
                    "per_try_timeout {} is not shorter than the route timeout {}: a timed-out try is never retried",
                    fmt_duration(per_try),
                    fmt_duration(total)
                ),
                format!("use a per_try_timeout of about {} or less", fmt_duration(total / tries)),
            );
        } else if per_try * tries > total + per_try {
            let fit = (total.as_millis() / per_try.as_millis().max(1)) as u32;
            ctx.report(
                r.retry.per_try.span,
                format!(
                    "{tries} attempts × per_try_timeout {} exceed the route timeout {}: only {fit} fit",
                    fmt_duration(per_try),
                    fmt_duration(total)
                ),
                "lower per_try_timeout or num_retries, or raise the route timeout",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{boot, cluster, findings};

    fn route(timeout: &str, per_try: &str, n: u32) -> String {
        boot(
            "",
            &format!("              - match: {{ prefix: / }}\n                route:\n                  cluster: app\n                  timeout: {timeout}\n                  retry_policy: {{ retry_on: connect-failure, num_retries: {n}, per_try_timeout: {per_try} }}\n"),
            &cluster("app", 2, ""),
        )
    }

    #[test]
    fn fail() {
        assert_eq!(
            findings("ENV-TMO-002", &route("10s", "10s", 2)),
            ["per_try_timeout 10s is not shorter than the route timeout 10s: a timed-out try is never retried"]
        );
        assert_eq!(
            findings("ENV-TMO-002", &route("10s", "4s", 4)),
            ["5 attempts × per_try_timeout 4s exceed the route timeout 10s: only 2 fit"]
        );
    }

    #[test]
    fn pass() {
        assert!(findings("ENV-TMO-002", &route("10s", "3s", 2)).is_empty());
    }
}
