//! NGX-DNS-004 `resolver-without-valid`: see the rule doc below.

use crate::declare_rule;
use crate::lint::LintContext;

declare_rule! {
    /// `resolver` without `valid=` caches answers for the record's full TTL.
    ///
    /// ## What it does
    /// Flags every `resolver` directive that has no `valid=` parameter.
    ///
    /// ## Why it causes 502s
    /// nginx then caches each answer for its TTL. Records with long TTLs keep
    /// nginx on old addresses after a failover or a move: connections are
    /// refused or time out until the TTL runs out (guide step 3).
    ///
    /// ## Example
    /// ```nginx
    /// resolver 10.0.0.2;
    /// ```
    ///
    /// ## Use instead
    /// ```nginx
    /// resolver 10.0.0.2 valid=30s;
    /// ```
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// - nginx `resolver` (`valid` overrides the TTL, since 1.1.9):
    ///   <https://nginx.org/en/docs/http/ngx_http_core_module.html#resolver>
    pub ResolverWithoutValid {
        id: "NGX-DNS-004",
        name: "resolver-without-valid",
        severity: Info,
        since: "0.1.0",
    }
}

fn check(ctx: &mut LintContext<'_>) {
    for d in super::directives_named(ctx.model(), "resolver") {
        if !d.args.iter().any(|a| a.value.starts_with("valid=")) {
            ctx.report(
                d.span,
                format!(
                    "resolver {} caches answers for their whole TTL",
                    d.args_text()
                ),
                format!(
                    "add a short cache time: `resolver {} valid=30s;`",
                    d.args_text()
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::test_util::findings;

    #[test]
    fn fail() {
        assert_eq!(
            findings("NGX-DNS-004", "http { resolver 10.0.0.2; }").len(),
            1
        );
    }

    #[test]
    fn pass() {
        assert!(findings("NGX-DNS-004", "http { resolver 10.0.0.2 valid=30s; }").is_empty());
    }
}
