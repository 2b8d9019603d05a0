//! HAP-RTY-002 `risky-retry-on`: see the rule doc below.

use crate::declare_rule;
use crate::lint::LintContext;

declare_rule! {
    /// `retry-on` replays requests the server may have processed, with no `disable-l7-retry` guard.
    ///
    /// ## What it does
    /// Flags a backend whose `retry-on` includes `response-timeout`,
    /// `empty-response`, `junk-response`, `all-retryable-errors` or a 5xx
    /// status, when no `http-request disable-l7-retry` rule (e.g. `if
    /// METH_POST`) protects non-idempotent requests.
    ///
    /// ## Why it causes 502s
    /// These conditions fire after the request was sent, so a POST may be
    /// executed twice; `junk-response` retries also hide a wrong port or a
    /// broken server behind apparently random 502s (guide step 4, retry
    /// policies).
    ///
    /// ## Example
    /// ```haproxy
    /// backend app
    ///     retry-on all-retryable-errors
    /// ```
    ///
    /// ## Use instead
    /// ```haproxy
    /// backend app
    ///     retry-on conn-failure empty-response 503
    ///     http-request disable-l7-retry if METH_POST
    /// ```
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// - HAProxy configuration manual, `retry-on` (default `conn-failure`)
    ///   and `http-request disable-l7-retry`:
    ///   <https://docs.haproxy.org/2.6/configuration.html#4-retry-on>
    pub RiskyRetryOn {
        id: "HAP-RTY-002",
        name: "risky-retry-on",
        severity: Warning,
        since: "0.1.0",
    }
}

const REPLAYING: &[&str] = &[
    "response-timeout",
    "empty-response",
    "junk-response",
    "all-retryable-errors",
];

fn check(ctx: &mut LintContext<'_>) {
    let model = ctx.model();
    for u in &model.upstreams {
        let Some(r) = u.directives.get("retry-on") else {
            continue;
        };
        let risky: Vec<&str> = r
            .args
            .iter()
            .filter(|a| {
                REPLAYING.contains(&a.value.as_str())
                    || a.count().is_some_and(|n| (500..600).contains(&n))
            })
            .map(|a| a.value.as_str())
            .collect();
        if risky.is_empty() {
            continue;
        }
        let guarded = u
            .directives
            .all("http-request")
            .iter()
            .any(|d| d.arg(0) == Some("disable-l7-retry"));
        if !guarded {
            ctx.report(
                r.span,
                format!("'{}' retries on `{}` without `http-request disable-l7-retry`: non-idempotent requests can run twice", u.name, risky.join(" ")),
                "add `http-request disable-l7-retry if METH_POST` (or `!{ method GET HEAD }`), or retry only on `conn-failure`",
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
            findings("HAP-RTY-002", "backend b\n retry-on conn-failure 503 junk-response\n server a 10.0.0.1:80\n"),
            ["'b' retries on `503 junk-response` without `http-request disable-l7-retry`: non-idempotent requests can run twice"]
        );
    }

    #[test]
    fn pass() {
        assert!(findings("HAP-RTY-002", "backend b\n retry-on conn-failure 503\n http-request disable-l7-retry if METH_POST\n server a 10.0.0.1:80\n").is_empty());
        assert!(findings(
            "HAP-RTY-002",
            "backend b\n retry-on conn-failure\n server a 10.0.0.1:80\n"
        )
        .is_empty());
    }
}
