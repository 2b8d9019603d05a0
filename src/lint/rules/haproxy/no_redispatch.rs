//! HAP-RTY-001 `no-redispatch`: see the rule doc below.

use crate::declare_rule;
use crate::lint::LintContext;

declare_rule! {
    /// A backend with several servers has `retries 0` or no `option redispatch`.
    ///
    /// ## What it does
    /// For every backend (and listen) with at least two servers, checks the
    /// effective `retries` (default 3) and `option redispatch`.
    ///
    /// ## Why it causes 502s
    /// Without `option redispatch` a failed connection is retried on the
    /// same dead server; with `retries 0` it is not retried at all. Either
    /// way the client gets an error although another server is up (guide
    /// step 2, failover).
    ///
    /// ## Example
    /// ```haproxy
    /// backend app
    ///     retries 0
    ///     server a1 10.0.0.5:8080 check
    ///     server a2 10.0.0.6:8080 check
    /// ```
    ///
    /// ## Use instead
    /// ```haproxy
    /// backend app
    ///     retries 3
    ///     option redispatch
    ///     server a1 10.0.0.5:8080 check
    ///     server a2 10.0.0.6:8080 check
    /// ```
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// - HAProxy configuration manual, `retries` and `option redispatch`
    ///   (off unless set; redispatches on the last retry by default):
    ///   <https://docs.haproxy.org/2.6/configuration.html#4-option%20redispatch>
    /// - `retries` default 3: `CONN_RETRIES` in HAProxy's
    ///   `include/haproxy/defaults.h` (the manual does not state it).
    pub NoRedispatch {
        id: "HAP-RTY-001",
        name: "no-redispatch",
        severity: Warning,
        since: "0.1.0",
    }
}

fn check(ctx: &mut LintContext<'_>) {
    let model = ctx.model();
    for u in &model.upstreams {
        if u.servers.len() < 2 {
            continue;
        }
        if let Some(r) = u.directives.get("retries") {
            if r.count(0).is_some_and(|n| n.value == 0) {
                ctx.report(
                    r.span,
                    format!("'{}' has {} servers but `retries 0`: a failed connection is never tried again", u.name, u.servers.len()),
                    "use `retries 3` with `option redispatch`",
                );
                continue;
            }
        }
        let Some(redispatch) = &u.redispatch else {
            continue;
        };
        if !redispatch.value {
            // `no option redispatch` is where it was turned off.
            let at = if redispatch.defaulted {
                u.span
            } else {
                redispatch.span
            };
            ctx.report(
                at,
                format!("'{}' has {} servers but no `option redispatch`: retries stay on the failed server", u.name, u.servers.len()),
                "add `option redispatch` (in the backend or in `defaults`)",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::findings;

    const TWO: &str = " server a 10.0.0.1:80\n server b 10.0.0.2:80\n";

    #[test]
    fn fail() {
        assert_eq!(
            findings(
                "HAP-RTY-001",
                &format!("backend b\n retries 0\n option redispatch\n{TWO}")
            ),
            ["'b' has 2 servers but `retries 0`: a failed connection is never tried again"]
        );
        assert_eq!(
            findings(
                "HAP-RTY-001",
                &format!("defaults\n option redispatch\nbackend b\n no option redispatch\n{TWO}")
            ),
            ["'b' has 2 servers but no `option redispatch`: retries stay on the failed server"]
        );
    }

    #[test]
    fn pass() {
        assert!(findings(
            "HAP-RTY-001",
            &format!("defaults\n option redispatch\nbackend b\n{TWO}")
        )
        .is_empty());
        assert!(findings("HAP-RTY-001", "backend b\n server a 10.0.0.1:80\n").is_empty());
    }
}
