//! NGX-CCH-002 `masked-bad-gateway`: see the rule doc below.

use crate::config::model::{Directive, Route, RouteMatch};
use crate::declare_rule;
use crate::lint::LintContext;

use super::route_label;

declare_rule! {
    /// `error_page 502` rewrites the status to a success or a redirect.
    ///
    /// ## What it does
    /// Flags `error_page` lines that handle 502 and change the response code
    /// to 2xx or 3xx (`=200`, `=302`, …), and, where `proxy_intercept_errors`
    /// is on, an `error_page` for 502 whose target location is itself proxied
    /// or cached.
    ///
    /// ## Why it causes 502s
    /// The failure disappears from clients, monitors and access-log status
    /// counts, and caches may store the "successful" error page: 502s go on
    /// unseen and come back from cache (guide steps 5 and 6).
    ///
    /// ## Example
    /// ```nginx
    /// error_page 502 =200 /ok.html;
    /// ```
    ///
    /// ## Use instead
    /// ```nginx
    /// error_page 502 /502.html;
    /// ```
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// - nginx `error_page` (`=response` changes the code):
    ///   <https://nginx.org/en/docs/http/ngx_http_core_module.html#error_page>
    /// - nginx `proxy_intercept_errors` (default off):
    ///   <https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_intercept_errors>
    pub MaskedBadGateway {
        id: "NGX-CCH-002",
        name: "masked-bad-gateway",
        severity: Warning,
        since: "0.1.0",
    }
}

fn check(ctx: &mut LintContext<'_>) {
    let m = ctx.model();
    for d in super::directives_named(m, "error_page") {
        if !handles_502(d) {
            continue;
        }
        let Some(a) = d.args.iter().find(|a| a.value.starts_with('=')) else {
            continue;
        };
        if a.count().is_some_and(|c| (200..400).contains(&c)) {
            ctx.report(
                a.span,
                format!("error_page {} turns 502 into {}", d.args_text(), &a.value[1..]),
                "keep the error status (`error_page 502 /502.html;`) so clients, monitors and caches see the failure",
            );
        }
    }
    // With proxy_intercept_errors, the 502 page itself must not come from a
    // proxied or cached location.
    let mut seen = std::collections::HashSet::new();
    for s in &m.servers {
        for r in &s.routes {
            let intercept = r
                .directives
                .get("proxy_intercept_errors")
                .and_then(|d| d.flag(0))
                .is_some_and(|f| f.value);
            if !intercept || r.proxy.is_none() {
                continue;
            }
            for d in r.directives.all("error_page") {
                if !handles_502(d) || !seen.insert(d.span) {
                    continue;
                }
                let Some(uri) = d.args.last().map(|a| a.value.as_str()) else {
                    continue;
                };
                let Some(target) = error_page_target(&s.routes, uri) else {
                    continue;
                };
                let cached = target
                    .directives
                    .get("proxy_cache")
                    .is_some_and(|c| c.arg(0) != Some("off"));
                if target.proxy.is_some() || cached {
                    ctx.report(
                        d.span,
                        format!(
                            "error_page {} sends intercepted 502s to {}, which is {}",
                            d.args_text(),
                            route_label(target),
                            if cached { "cached" } else { "proxied" }
                        ),
                        "serve error pages from a static location (`location = /502.html { root /srv/errors; internal; }`)",
                    );
                }
            }
        }
    }
}

/// `error_page` lists 502 among the codes it handles (not after `=`).
fn handles_502(d: &Directive) -> bool {
    d.args
        .iter()
        .any(|a| !a.value.starts_with('=') && a.count() == Some(502))
}

/// The location an `error_page` URI lands in: a named location, an exact
/// match, or the longest matching prefix.
fn error_page_target<'a>(routes: &'a [Route], uri: &str) -> Option<&'a Route> {
    if uri.starts_with('@') {
        return routes
            .iter()
            .find(|r| r.matcher == RouteMatch::Named(uri.to_string()));
    }
    if let Some(r) = routes
        .iter()
        .find(|r| r.matcher == RouteMatch::Exact(uri.to_string()))
    {
        return Some(r);
    }
    routes
        .iter()
        .filter_map(|r| match &r.matcher {
            RouteMatch::Prefix(p) if uri.starts_with(p.as_str()) => Some((p.len(), r)),
            _ => None,
        })
        .max_by_key(|(len, _)| *len)
        .map(|(_, r)| r)
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::test_util::findings;

    #[test]
    fn fail() {
        assert_eq!(
            findings("NGX-CCH-002", "http { error_page 502 503 =200 /ok.html; }").len(),
            1
        );
    }

    #[test]
    fn fail_intercepted_to_proxied_page() {
        let f = findings(
            "NGX-CCH-002",
            "http { server { proxy_intercept_errors on; error_page 502 /errors/502.html; location / { proxy_pass http://10.0.0.1; } location /errors/ { proxy_pass http://10.0.0.2; proxy_cache c; } } }",
        );
        assert_eq!(f, ["error_page 502 /errors/502.html sends intercepted 502s to location /errors/, which is cached"]);
    }

    #[test]
    fn pass() {
        assert!(findings(
            "NGX-CCH-002",
            "http { server { proxy_intercept_errors on; error_page 502 /502.html; location / { proxy_pass http://10.0.0.1; } location = /502.html { root /srv; } } }"
        )
        .is_empty());
        assert!(findings(
            "NGX-CCH-002",
            "http { error_page 502 /502.html; error_page 404 =200 /x; }"
        )
        .is_empty());
    }
}
