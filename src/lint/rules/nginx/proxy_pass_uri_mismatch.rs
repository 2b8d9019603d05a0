//! NGX-MAP-002 `proxy-pass-uri-mismatch`: see the rule doc below.

use crate::config::model::RouteMatch;
use crate::declare_rule;
use crate::lint::{LintContext, Severity};

use super::{proxied, route_label};

declare_rule! {
    /// `proxy_pass` has a URI part where nginx forbids it, or its trailing slash disagrees with the location.
    ///
    /// ## What it does
    /// Error: a `proxy_pass` with a URI part (anything after `host[:port]`, even
    /// `/`) and no variables inside a regex location, a named location, an
    /// `if` block or `limit_except`. Warning: a prefix location and the
    /// `proxy_pass` URI disagree on the trailing slash (`location /api` with
    /// `…/v1/`, or `location /api/` with `…/v1`).
    ///
    /// ## Why it causes 502s
    /// nginx refuses the first ("proxy_pass cannot have URI part in location
    /// given by regular expression…"). The second rewrites `/api/x` to
    /// `/v1x` or `/v1//x`, paths the origin does not route — errors that look
    /// like an origin fault (guide step 4).
    ///
    /// ## Example
    /// ```nginx
    /// location ~ ^/api { proxy_pass http://app/; }
    /// location /api/   { proxy_pass http://app/v1; }
    /// ```
    ///
    /// ## Use instead
    /// ```nginx
    /// location ~ ^/api { proxy_pass http://app; }
    /// location /api/   { proxy_pass http://app/v1/; }
    /// ```
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// - nginx `proxy_pass` (URI replacement rules):
    ///   <https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_pass>
    pub ProxyPassUriMismatch {
        id: "NGX-MAP-002",
        name: "proxy-pass-uri-mismatch",
        severity: Error,
        since: "0.1.0",
    }
}

fn check(ctx: &mut LintContext<'_>) {
    for (_, r, p, _) in proxied(ctx.model()) {
        let Some(uri) = &p.uri else { continue };
        if p.has_variables || p.host.starts_with("unix:") && uri.is_empty() {
            continue;
        }
        let forbidden = match &r.matcher {
            RouteMatch::Regex(..) | RouteMatch::Named(_) => true,
            RouteMatch::Other(t) => t.starts_with("if"),
            _ => r
                .directives
                .get("proxy_pass")
                .is_some_and(|d| d.span != p.span),
        };
        if forbidden {
            ctx.report(
                p.span,
                format!("proxy_pass {} has a URI part (`{uri}`) in {}: nginx refuses this", p.raw, route_label(r)),
                format!("drop the URI: `proxy_pass {}://{};` (rewrite the path with `rewrite` if needed)", p.scheme.as_deref().unwrap_or("http"), hostport(p)),
            );
            continue;
        }
        if let RouteMatch::Prefix(loc) = &r.matcher {
            if loc.ends_with('/') != uri.ends_with('/') {
                ctx.report_at(
                    Severity::Warning,
                    p.span,
                    format!(
                        "{} and proxy_pass {} disagree on the trailing slash: `{loc}x` is sent upstream as `{}`",
                        route_label(r),
                        p.raw,
                        rewritten(loc, uri)
                    ),
                    "end both the location and the proxy_pass URI with `/`, or neither",
                );
            }
        }
    }
}

fn hostport(p: &crate::config::model::ProxyPass) -> String {
    match p.port {
        Some(port) if p.host.contains(':') => format!("[{}]:{port}", p.host),
        Some(port) => format!("{}:{port}", p.host),
        None => p.host.clone(),
    }
}

fn rewritten(loc: &str, uri: &str) -> String {
    format!("{uri}{}", if loc.ends_with('/') { "x" } else { "/x" })
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::test_util::findings;

    #[test]
    fn fail() {
        let f = findings(
            "NGX-MAP-002",
            "http { server { location ~ ^/api { proxy_pass http://10.0.0.1/; } } }",
        );
        assert_eq!(f.len(), 1);
        assert!(f[0].contains("nginx refuses"));
        let f = findings(
            "NGX-MAP-002",
            "http { server { location /api/ { proxy_pass http://10.0.0.1/v1; } } }",
        );
        assert_eq!(f, ["location /api/ and proxy_pass http://10.0.0.1/v1 disagree on the trailing slash: `/api/x` is sent upstream as `/v1x`"]);
    }

    #[test]
    fn pass() {
        for src in [
            "http { server { location ~ ^/api { proxy_pass http://10.0.0.1; } } }",
            "http { server { location /api/ { proxy_pass http://10.0.0.1/v1/; } } }",
            "http { server { location / { proxy_pass http://10.0.0.1/; } } }",
            "http { server { location ~ ^/(.*) { proxy_pass http://10.0.0.1/$1; } } }",
        ] {
            assert!(findings("NGX-MAP-002", src).is_empty(), "{src}");
        }
    }
}
