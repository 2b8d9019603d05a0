//! HAP-VAL-001 `invalid-value`: see the rule doc below.

use crate::config::model::{Directive, ProxyKind};
use crate::declare_rule;
use crate::lint::LintContext;

declare_rule! {
    /// A time or size value that does not parse, or an unknown `retry-on` / `http-reuse` keyword.
    ///
    /// ## What it does
    /// Reports values the HAProxy parser recorded as malformed (times with
    /// units other than `us ms s m h d`, sizes with suffixes other than `k m
    /// g`), and `retry-on` or `http-reuse` arguments HAProxy does not know.
    /// Values written with environment variables are not checked.
    ///
    /// ## Why it causes 502s
    /// HAProxy rejects the config (or, for some time values in 2.x, warns
    /// and ignores the rest of the value); a rejected reload leaves stale
    /// config serving (guide step 4).
    ///
    /// ## Example
    /// ```haproxy
    /// defaults
    ///     timeout server 30sec
    /// ```
    ///
    /// ## Use instead
    /// ```haproxy
    /// defaults
    ///     timeout server 30s
    /// ```
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// - HAProxy configuration manual §2.5 "Time format", `retry-on`,
    ///   `http-reuse`: <https://docs.haproxy.org/2.6/configuration.html#2.5>
    /// - Not checked (yet): which keywords each section allows (the
    ///   manual's keyword matrix).
    pub InvalidValue {
        id: "HAP-VAL-001",
        name: "haproxy-invalid-value",
        severity: Error,
        category: "VAL",
        proxy: "haproxy",
        since: "0.1.0",
    }
}

/// `retry-on` keywords (manual, `retry-on`), besides HTTP status codes.
const RETRY_ON: &[&str] = &[
    "none",
    "conn-failure",
    "empty-response",
    "junk-response",
    "response-timeout",
    "0rtt-rejected",
    "all-retryable-errors",
];

const HTTP_REUSE: &[&str] = &["never", "safe", "aggressive", "always"];

fn check(ctx: &mut LintContext<'_>) {
    let model = ctx.model();
    if model.kind != ProxyKind::Haproxy {
        return;
    }
    for inv in &model.invalid {
        ctx.report(inv.span, inv.problem.clone(), inv.help.clone());
    }
    let mut seen = std::collections::HashSet::new();
    let dirs: Vec<&Directive> = model
        .servers
        .iter()
        .flat_map(|s| s.directives.iter())
        .chain(model.upstreams.iter().flat_map(|u| u.directives.iter()))
        .filter(|d| seen.insert(d.span))
        .collect();
    for d in dirs {
        match d.name.as_str() {
            "retry-on" => {
                for a in &d.args {
                    let status = a
                        .value
                        .parse::<u16>()
                        .is_ok_and(|n| (100..600).contains(&n));
                    if !status && !RETRY_ON.contains(&a.value.as_str()) {
                        ctx.report(
                            a.span,
                            format!("retry-on: unknown condition '{}'", a.value),
                            format!("use status codes or {}", RETRY_ON.join(", ")),
                        );
                    }
                }
            }
            "http-reuse" => {
                if let Some(a) = d.args.first() {
                    if !HTTP_REUSE.contains(&a.value.as_str()) {
                        ctx.report(
                            a.span,
                            format!("http-reuse: unknown mode '{}'", a.value),
                            "use never, safe, aggressive or always",
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
    use super::super::test_util::findings;

    #[test]
    fn fail() {
        assert_eq!(
            findings("HAP-VAL-001", "defaults\n timeout server 30sec\nbackend b\n retry-on conn-failure 503 empty-respons\n http-reuse sometimes\n server a 10.0.0.1:80 inter 2x\n"),
            [
                "timeout server: unknown unit 'sec' in '30sec' (expected us, ms, s, m, h, d)",
                "retry-on: unknown condition 'empty-respons'",
                "http-reuse: unknown mode 'sometimes'",
                "inter: unknown unit 'x' in '2x' (expected us, ms, s, m, h, d)",
            ]
        );
    }

    #[test]
    fn pass() {
        assert!(findings("HAP-VAL-001", "defaults\n timeout server \"${T}\"\nbackend b\n retry-on conn-failure 503\n http-reuse safe\n server a 10.0.0.1:80 inter 2s\n").is_empty());
    }
}
