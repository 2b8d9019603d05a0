//! NGX-CCH-001 `cached-errors`: see the rule doc below.

use crate::declare_rule;
use crate::lint::LintContext;

declare_rule! {
    /// `proxy_cache_valid` stores 5xx responses (`any` or 500/502/503/504).
    ///
    /// ## What it does
    /// Flags `proxy_cache_valid` lines whose codes include `any`, 500, 502, 503
    /// or 504 with a time above zero.
    ///
    /// ## Why it causes 502s
    /// A 502 from a blip of the origin is stored and served to everyone until
    /// it expires — long after the origin recovered (guide step 5).
    ///
    /// ## Example
    /// ```nginx
    /// proxy_cache_valid any 10m;
    /// ```
    ///
    /// ## Use instead
    /// ```nginx
    /// proxy_cache_valid 200 301 302 10m;
    /// proxy_cache_use_stale error timeout http_502 http_503;
    /// ```
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// - nginx `proxy_cache_valid` (a time alone caches 200, 301, 302 only):
    ///   <https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_cache_valid>
    pub CachedErrors {
        id: "NGX-CCH-001",
        name: "cached-errors",
        severity: Warning,
        since: "0.1.0",
    }
}

fn check(ctx: &mut LintContext<'_>) {
    for d in super::directives_named(ctx.model(), "proxy_cache_valid") {
        let Some((time, codes)) = d.args.split_last() else {
            continue;
        };
        if time.time().is_none_or(|t| t.is_zero()) {
            continue;
        }
        let bad: Vec<&str> = codes
            .iter()
            .map(|a| a.value.as_str())
            .filter(|c| matches!(*c, "any" | "500" | "502" | "503" | "504"))
            .collect();
        if !bad.is_empty() {
            ctx.report(
                d.span,
                format!("proxy_cache_valid {} caches error responses ({}) for {}", d.args_text(), bad.join(", "), time.value),
                "cache only good answers (`proxy_cache_valid 200 301 302 10m;`) and serve stale on errors with proxy_cache_use_stale",
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
            findings("NGX-CCH-001", "http { proxy_cache_valid any 10m; }").len(),
            1
        );
        assert_eq!(
            findings("NGX-CCH-001", "http { proxy_cache_valid 200 502 1m; }").len(),
            1
        );
    }

    #[test]
    fn pass() {
        assert!(findings(
            "NGX-CCH-001",
            "http { proxy_cache_valid 200 301 302 10m; proxy_cache_valid 404 1m; }"
        )
        .is_empty());
        assert!(findings("NGX-CCH-001", "http { proxy_cache_valid 502 0; }").is_empty());
    }
}
