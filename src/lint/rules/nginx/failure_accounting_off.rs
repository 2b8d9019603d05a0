//! NGX-HLT-002 `failure-accounting-off`: see the rule doc below.

use crate::declare_rule;
use crate::lint::LintContext;

use super::stream_upstreams;

declare_rule! {
    /// Every server of an upstream (`http {}` or `stream {}`) has `max_fails=0`, so dead servers are never skipped.
    ///
    /// ## What it does
    /// Flags an `upstream` whose servers all set `max_fails=0`, in `http {}`
    /// and in `stream {}` (ngx_stream_upstream_module reads the parameter
    /// the same way: a dead server keeps getting TCP connections).
    ///
    /// ## Why it causes 502s
    /// `max_fails=0` turns failure accounting off: nginx keeps sending a share
    /// of requests to a server that is down, and each of them fails (or waits
    /// for a timeout before retrying) — a steady trickle of 502s (guide step
    /// 2).
    ///
    /// ## Example
    /// ```nginx
    /// upstream app {
    ///     server 10.0.0.1:8080 max_fails=0;
    ///     server 10.0.0.2:8080 max_fails=0;
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```nginx
    /// upstream app {
    ///     server 10.0.0.1:8080 max_fails=3 fail_timeout=10s;
    ///     server 10.0.0.2:8080 max_fails=3 fail_timeout=10s;
    /// }
    /// ```
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// - nginx `server` parameters `max_fails` (default 1) and `fail_timeout`
    ///   (default 10s): <https://nginx.org/en/docs/http/ngx_http_upstream_module.html#server>
    pub FailureAccountingOff {
        id: "NGX-HLT-002",
        name: "failure-accounting-off",
        severity: Warning,
        since: "0.1.0",
    }
}

fn check(ctx: &mut LintContext<'_>) {
    let m = ctx.model();
    for u in m.upstreams.iter().chain(stream_upstreams(m)) {
        if !u.servers.is_empty() && u.servers.iter().all(|s| s.max_fails.value == 0) {
            ctx.report(
                u.span,
                format!(
                    "every server of upstream `{}` has max_fails=0: failed servers stay in rotation",
                    u.name
                ),
                "use `max_fails=3 fail_timeout=10s` (or drop max_fails=0 for the default of 1)",
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
            "NGX-HLT-002",
            "http { upstream a { server 10.0.0.1 max_fails=0; server 10.0.0.2 max_fails=0; } }",
        );
        assert_eq!(f.len(), 1);
    }

    #[test]
    fn pass() {
        assert!(findings(
            "NGX-HLT-002",
            "http { upstream a { server 10.0.0.1 max_fails=0; server 10.0.0.2; } }"
        )
        .is_empty());
    }
}
