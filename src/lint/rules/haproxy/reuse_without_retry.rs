//! HAP-KAL-001 `reuse-without-retry`: see the rule doc below.

use crate::config::model::HttpReuse;
use crate::declare_rule;
use crate::lint::LintContext;

declare_rule! {
    /// `http-reuse aggressive` or `always` without `retry-on` covering `conn-failure` and `empty-response`.
    ///
    /// ## What it does
    /// Flags a backend with `http-reuse aggressive|always` whose effective
    /// `retry-on` (default `conn-failure`) does not include both
    /// `conn-failure` and `empty-response` (or `all-retryable-errors`).
    ///
    /// ## Why it causes 502s
    /// With aggressive reuse the first request of a client can go out on an
    /// idle connection the server is closing at that moment. The server
    /// answers nothing, HAProxy sees an empty response and returns 502 —
    /// unless it may retry it on a fresh connection (guide step 4,
    /// keep-alive).
    ///
    /// ## Example
    /// ```haproxy
    /// backend app
    ///     http-reuse always
    /// ```
    ///
    /// ## Use instead
    /// ```haproxy
    /// backend app
    ///     http-reuse always
    ///     retry-on conn-failure empty-response
    /// ```
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// - HAProxy configuration manual, `http-reuse` (default `safe`) and
    ///   `retry-on` (default `conn-failure`):
    ///   <https://docs.haproxy.org/2.6/configuration.html#4-http-reuse>
    pub ReuseWithoutRetry {
        id: "HAP-KAL-001",
        name: "reuse-without-retry",
        severity: Warning,
        since: "0.1.0",
    }
}

fn check(ctx: &mut LintContext<'_>) {
    let model = ctx.model();
    for u in &model.upstreams {
        let Some(reuse) = &u.http_reuse else {
            continue;
        };
        if !matches!(reuse.value, HttpReuse::Aggressive | HttpReuse::Always) {
            continue;
        }
        let mode = reuse.value.as_str();
        let on: Vec<&str> = match u.directives.get("retry-on") {
            Some(r) => r.args.iter().map(|a| a.value.as_str()).collect(),
            None => vec!["conn-failure"],
        };
        let all = on.contains(&"all-retryable-errors");
        let missing: Vec<&str> = ["conn-failure", "empty-response"]
            .into_iter()
            .filter(|c| !all && !on.contains(c))
            .collect();
        if !missing.is_empty() {
            ctx.report(
                reuse.span,
                format!("'{}' has `http-reuse {mode}` but `retry-on` lacks {}: a request sent on a connection the server is closing fails with 502", u.name, missing.join(" and ")),
                "add `retry-on conn-failure empty-response`, or use `http-reuse safe`",
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
            findings("HAP-KAL-001", "backend b\n http-reuse always\n server a 10.0.0.1:80\n"),
            ["'b' has `http-reuse always` but `retry-on` lacks empty-response: a request sent on a connection the server is closing fails with 502"]
        );
    }

    #[test]
    fn pass() {
        assert!(findings("HAP-KAL-001", "backend b\n http-reuse always\n retry-on conn-failure empty-response\n server a 10.0.0.1:80\n").is_empty());
        assert!(findings(
            "HAP-KAL-001",
            "backend b\n http-reuse safe\n server a 10.0.0.1:80\n"
        )
        .is_empty());
    }
}
