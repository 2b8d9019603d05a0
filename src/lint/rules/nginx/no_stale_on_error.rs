//! NGX-CCH-003 `no-stale-on-error`: see the rule doc below.

use crate::declare_rule;
use crate::lint::LintContext;

use super::route_label;

declare_rule! {
    /// `proxy_cache` is on but stale content is not served on upstream errors.
    ///
    /// ## What it does
    /// Flags a location with `proxy_cache` in effect (not `off`) whose
    /// `proxy_cache_use_stale` is off (the default) or lacks any of `error`,
    /// `timeout` and `http_502`.
    ///
    /// ## Why it causes 502s
    /// A cache that could answer with a slightly stale copy passes the origin's
    /// failure to the client instead: every origin blip becomes a visible 502
    /// (guide step 5).
    ///
    /// ## Example
    /// ```nginx
    /// location / {
    ///     proxy_pass http://app;
    ///     proxy_cache pages;
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```nginx
    /// location / {
    ///     proxy_pass http://app;
    ///     proxy_cache pages;
    ///     proxy_cache_use_stale error timeout http_502 http_503 updating;
    /// }
    /// ```
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// - nginx `proxy_cache_use_stale` (default off):
    ///   <https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_cache_use_stale>
    pub NoStaleOnError {
        id: "NGX-CCH-003",
        name: "no-stale-on-error",
        severity: Info,
        since: "0.1.0",
    }
}

fn check(ctx: &mut LintContext<'_>) {
    for (_, r) in ctx.model().routes() {
        let Some(cache) = r.directives.get("proxy_cache") else {
            continue;
        };
        if cache.arg(0) == Some("off") || r.proxy.is_none() {
            continue;
        }
        let stale = r.directives.get("proxy_cache_use_stale");
        let have: Vec<&str> = stale
            .map(|s| s.args.iter().map(|a| a.value.as_str()).collect())
            .unwrap_or_default();
        let missing: Vec<&str> = ["error", "timeout", "http_502"]
            .into_iter()
            .filter(|k| !have.contains(k))
            .collect();
        if !missing.is_empty() {
            ctx.report(
                stale.map(|s| s.span).unwrap_or(r.span),
                format!(
                    "{}: proxy_cache {} does not serve stale content on {}",
                    route_label(r),
                    cache.args_text(),
                    missing.join(", ")
                ),
                "add `proxy_cache_use_stale error timeout http_502 http_503 updating;`",
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
            "NGX-CCH-003",
            "http { server { location / { proxy_pass http://10.0.0.1; proxy_cache c; } } }",
        );
        assert_eq!(f.len(), 1);
        assert!(f[0].ends_with("on error, timeout, http_502"), "{f:?}");
    }

    #[test]
    fn pass() {
        assert!(findings(
            "NGX-CCH-003",
            "http { server { location / { proxy_pass http://10.0.0.1; proxy_cache c; proxy_cache_use_stale error timeout http_502; } } }"
        )
        .is_empty());
    }
}
