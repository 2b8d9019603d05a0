//! HAP-TMO-002 `bare-number-timeout`: see the rule doc below.

use crate::config::model::Directive;
use crate::declare_rule;
use crate::lint::LintContext;

declare_rule! {
    /// A timeout written as a bare number below 1000, which HAProxy reads as milliseconds.
    ///
    /// ## What it does
    /// Flags `timeout …` values that are a plain number below 1000 with no
    /// unit, such as `timeout server 30`.
    ///
    /// ## Why it causes 502s
    /// HAProxy's time unit defaults to milliseconds, so `timeout server 30`
    /// gives servers 30 ms to answer: nearly every real response is cut off
    /// and clients get 504/502 (guide step 4, gateway timeouts). The author
    /// almost always meant seconds.
    ///
    /// ## Example
    /// ```haproxy
    /// defaults
    ///     timeout server 30
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
    /// - HAProxy configuration manual §2.5 "Time format" (milliseconds unless
    ///   a unit is given): <https://docs.haproxy.org/2.6/configuration.html#2.5>
    pub BareNumberTimeout {
        id: "HAP-TMO-002",
        name: "bare-number-timeout",
        severity: Warning,
        since: "0.1.0",
    }
}

fn check(ctx: &mut LintContext<'_>) {
    let model = ctx.model();
    let dirs = model
        .global
        .directives
        .iter()
        .chain(model.servers.iter().flat_map(|s| s.directives.iter()))
        .chain(model.upstreams.iter().flat_map(|u| u.directives.iter()));
    let mut seen = std::collections::HashSet::new();
    for d in dirs {
        if !d.name.starts_with("timeout ") || !seen.insert(d.span) {
            continue;
        }
        if let Some(n) = bare_ms(d) {
            ctx.report(
                d.args[0].span,
                format!(
                    "`{} {n}` is {n} ms: a number without a unit is milliseconds",
                    d.name
                ),
                format!(
                    "if seconds were meant, write `{} {n}s`; if milliseconds, write `{n}ms`",
                    d.name
                ),
            );
        }
    }
}

/// The value of a unit-less timeout between 1 and 999.
fn bare_ms(d: &Directive) -> Option<u64> {
    let a = d.args.first()?;
    // Written as digits alone: HAProxy read it as milliseconds.
    let unitless = a.value.bytes().all(|b| b.is_ascii_digit());
    let n = u64::try_from(a.time()?.as_millis()).ok()?;
    (unitless && (1..1000).contains(&n)).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::super::test_util::findings;

    #[test]
    fn fail() {
        let f = findings(
            "HAP-TMO-002",
            "defaults\n timeout server 30\n timeout connect 5\nbackend b\n server s 10.0.0.1:80\n",
        );
        assert_eq!(
            f,
            [
                "`timeout server 30` is 30 ms: a number without a unit is milliseconds",
                "`timeout connect 5` is 5 ms: a number without a unit is milliseconds",
            ]
        );
    }

    #[test]
    fn pass() {
        assert!(findings(
            "HAP-TMO-002",
            "defaults\n timeout server 30s\n timeout connect 5000\n timeout client 0\nbackend b\n server s 10.0.0.1:80\n",
        )
        .is_empty());
    }
}
