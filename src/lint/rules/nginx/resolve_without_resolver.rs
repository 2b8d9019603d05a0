//! NGX-DNS-003 `resolve-without-resolver`: see the rule doc below.

use crate::config::Version;
use crate::declare_rule;
use crate::lint::LintContext;

use super::stream_upstreams;

declare_rule! {
    /// `server … resolve` (`http {}` or `stream {}` upstream) lacks a `resolver` or a `zone`, or needs a newer nginx.
    ///
    /// ## What it does
    /// Flags upstream servers with `resolve` when no `resolver` is set in the
    /// upstream or at http level (for a `stream {}` upstream: at stream
    /// level), or the upstream has no `zone`; and, when
    /// `nginx_version` is set below 1.27.3, any `resolve` parameter or
    /// `resolver` inside `upstream` (open-source nginx gained both in 1.27.3).
    /// Without `nginx_version` the newest behaviour is assumed.
    ///
    /// ## Why it causes 502s
    /// Re-resolution needs both a resolver and shared memory; without them
    /// nginx refuses the config, and older versions do not know the
    /// parameter at all ("invalid parameter resolve"), so the reload that was
    /// meant to fix stale addresses never happens (guide step 3).
    ///
    /// ## Example
    /// ```nginx
    /// upstream api { server api.internal:8080 resolve; }
    /// ```
    ///
    /// ## Use instead
    /// ```nginx
    /// resolver 10.0.0.2 valid=30s;
    /// upstream api {
    ///     zone api 64k;
    ///     server api.internal:8080 resolve;
    /// }
    /// ```
    ///
    /// ## Options
    /// None (uses the `nginx_version` setting).
    ///
    /// ## References
    /// - nginx `server … resolve`, upstream `resolver` (1.27.3), `zone` (1.9.0):
    ///   <https://nginx.org/en/docs/http/ngx_http_upstream_module.html#resolve>
    pub ResolveWithoutResolver {
        id: "NGX-DNS-003",
        name: "resolve-without-resolver",
        severity: Error,
        since: "0.1.0",
    }
}

const SINCE: Version = Version(1, 27, 3);

fn check(ctx: &mut LintContext<'_>) {
    let m = ctx.model();
    let old = ctx.nginx_version().filter(|v| *v < SINCE);
    let http_resolver = m.global.directives.has("resolver");
    let stream_resolver = m
        .stream
        .as_ref()
        .is_some_and(|st| st.directives.has("resolver"));
    let pools = m
        .upstreams
        .iter()
        .map(|u| (u, http_resolver))
        .chain(stream_upstreams(m).iter().map(|u| (u, stream_resolver)));
    for (u, level_resolver) in pools {
        if let (Some(v), Some(r)) = (old, &u.resolver) {
            ctx.report(
                r.span,
                format!(
                    "`resolver` inside upstream `{}` needs nginx >= 1.27.3 (nginx_version is {v})",
                    u.name
                ),
                "move `resolver` to the http block, or upgrade nginx",
            );
        }
        for s in u
            .servers
            .iter()
            .filter(|s| s.params.iter().any(|p| p.value == "resolve"))
        {
            if let Some(v) = old {
                ctx.report(
                    s.span,
                    format!(
                        "`resolve` on server {} needs nginx >= 1.27.3 (nginx_version is {v})",
                        s.address
                    ),
                    "upgrade nginx, or use a variable in proxy_pass with a resolver",
                );
                continue;
            }
            let mut missing = Vec::new();
            if u.resolver.is_none() && !level_resolver {
                missing.push("a `resolver`");
            }
            if u.zone.is_none() {
                missing.push("a `zone` in the upstream");
            }
            if !missing.is_empty() {
                ctx.report(
                    s.span,
                    format!(
                        "server {} in upstream `{}` uses `resolve` without {}",
                        s.address,
                        u.name,
                        missing.join(" and ")
                    ),
                    format!(
                        "add `zone {} 64k;` and `resolver <dns-ip> valid=30s;`",
                        u.name
                    ),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::test_util::{findings, findings_with};
    use crate::lint::Settings;

    #[test]
    fn fail() {
        let f = findings(
            "NGX-DNS-003",
            "http { upstream a { server app.internal resolve; } }",
        );
        assert_eq!(f, ["server app.internal in upstream `a` uses `resolve` without a `resolver` and a `zone` in the upstream"]);
        let s = Settings::from_str_as("nginx_version: '1.22.1'", false).unwrap();
        let f = findings_with(
            "NGX-DNS-003",
            "http { resolver 127.0.0.1; upstream a { zone a 64k; server app.internal resolve; } }",
            &s,
        );
        assert_eq!(f.len(), 1);
        assert!(f[0].contains("1.27.3"));
    }

    #[test]
    fn pass() {
        assert!(findings(
            "NGX-DNS-003",
            "http { resolver 127.0.0.1; upstream a { zone a 64k; server app.internal resolve; } }"
        )
        .is_empty());
    }

    #[test]
    fn stream() {
        // the http resolver does not serve stream {}
        let f = findings(
            "NGX-DNS-003",
            "http { resolver 127.0.0.1; } stream { upstream a { zone a 64k; server app.internal:5432 resolve; } }",
        );
        assert_eq!(
            f,
            ["server app.internal:5432 in upstream `a` uses `resolve` without a `resolver`"]
        );
        assert!(findings(
            "NGX-DNS-003",
            "stream { resolver 127.0.0.1; upstream a { zone a 64k; server app.internal:5432 resolve; } }"
        )
        .is_empty());
    }
}
