//! NGX-RTY-001 `non-idempotent-retry`: see the rule doc below.

use crate::declare_rule;
use crate::lint::LintContext;

declare_rule! {
    /// `proxy_next_upstream` retries non-idempotent requests (POST, PATCH, LOCK).
    ///
    /// ## What it does
    /// Flags `proxy_next_upstream` lists that contain `non_idempotent`.
    ///
    /// ## Why it causes 502s
    /// After a timeout the first server may already have acted on a POST;
    /// replaying it elsewhere duplicates writes, and failures hide as retries
    /// until every server fails and the client gets the 502 anyway (guide
    /// step 4).
    ///
    /// ## Example
    /// ```nginx
    /// proxy_next_upstream error timeout non_idempotent;
    /// ```
    ///
    /// ## Use instead
    /// ```nginx
    /// proxy_next_upstream error timeout;
    /// ```
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// - nginx `proxy_next_upstream` (default `error timeout`; non-idempotent
    ///   requests are not retried since 1.9.13 unless `non_idempotent`):
    ///   <https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_next_upstream>
    pub NonIdempotentRetry {
        id: "NGX-RTY-001",
        name: "non-idempotent-retry",
        severity: Warning,
        since: "0.1.0",
    }
}

fn check(ctx: &mut LintContext<'_>) {
    for d in super::directives_named(ctx.model(), "proxy_next_upstream") {
        if let Some(a) = d.args.iter().find(|a| a.value == "non_idempotent") {
            ctx.report(
                a.span,
                format!("proxy_next_upstream {} replays POST/PATCH/LOCK requests on another server", d.args_text()),
                "drop `non_idempotent` (make the app idempotent with request keys if it must be retried)",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::test_util::findings;

    #[test]
    fn fail() {
        let f = findings(
            "NGX-RTY-001",
            "http { proxy_next_upstream error timeout non_idempotent; }",
        );
        assert_eq!(f.len(), 1);
    }

    #[test]
    fn pass() {
        assert!(findings("NGX-RTY-001", "http { proxy_next_upstream error timeout; }").is_empty());
    }
}
