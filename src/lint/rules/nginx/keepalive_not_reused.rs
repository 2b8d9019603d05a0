//! NGX-KAL-001 `keepalive-not-reused`: see the rule doc below.

use crate::config::model::{HttpVersion, PassModule};
use crate::config::nginx::lower::{keepalive_default_since, keepalive_on_by_default};
use crate::declare_rule;
use crate::lint::LintContext;

use super::{proxied, route_label};

declare_rule! {
    /// Upstream keepalive is configured but the location cannot reuse connections.
    ///
    /// ## What it does
    /// For a location proxying to an `upstream` with keepalive active
    /// (`keepalive N`, or by default since nginx 1.29.7) flags
    /// `proxy_http_version 1.0` (explicit, or the default before 1.29.7) and,
    /// before 1.29.7, a missing `proxy_set_header Connection "";`. Without the
    /// `nginx_version` setting the newest behaviour is assumed and the message
    /// says so. The FastCGI twin: a `fastcgi_pass` location whose upstream
    /// sets `keepalive N` itself while `fastcgi_keep_conn` is off (its
    /// default): nginx then begins each FastCGI request without the
    /// `FCGI_KEEP_CONN` flag (ngx_http_fastcgi_module.c), so PHP-FPM closes
    /// the connection after every response (FastCGI spec, `FCGI_KEEP_CONN`).
    /// The upstream keepalive that nginx ≥ 1.29.7 turns on by itself is not
    /// held against FastCGI: nobody asked for it there.
    ///
    /// ## Why it causes 502s
    /// HTTP/1.0 or `Connection: close` makes every request open a new
    /// connection: connection churn, TIME_WAIT build-up and ephemeral-port
    /// exhaustion under load end in failed connects — 502s (guide step 4).
    ///
    /// ## Example
    /// ```nginx
    /// http {
    ///     upstream app { server 10.0.0.1:8080; keepalive 16; }
    ///     server {
    ///         location / { proxy_pass http://app; proxy_http_version 1.0; }
    ///     }
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```nginx
    /// http {
    ///     upstream app { server 10.0.0.1:8080; keepalive 16; }
    ///     server {
    ///         location / {
    ///             proxy_pass http://app;
    ///             proxy_http_version 1.1;
    ///             proxy_set_header Connection "";
    ///         }
    ///     }
    /// }
    /// ```
    ///
    /// ## Options
    /// None (uses the `nginx_version` setting).
    ///
    /// ## References
    /// - nginx upstream `keepalive` (default `32 local` since 1.29.7):
    ///   <https://nginx.org/en/docs/http/ngx_http_upstream_module.html#keepalive>
    /// - nginx `proxy_http_version` (default 1.1 since 1.29.7, 1.0 before):
    ///   <https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_http_version>
    pub KeepaliveNotReused {
        id: "NGX-KAL-001",
        name: "keepalive-not-reused",
        severity: Warning,
        since: "0.1.0",
    }
}

fn check(ctx: &mut LintContext<'_>) {
    let version = ctx.nginx_version();
    let new = keepalive_on_by_default(version);
    let assumed = match (version, keepalive_default_since()) {
        (None, Some(since)) => format!(" (assuming nginx >= {since}; set nginx_version)"),
        _ => String::new(),
    };
    let m = ctx.model();
    for (_, r) in m.routes() {
        let (Some(mp), Some(pool)) = (&r.module_pass, m.module_pool(r)) else {
            continue;
        };
        if mp.module != PassModule::FastCgi || pool.keepalive.value == 0 || pool.keepalive.defaulted
        {
            continue;
        }
        let keep = r
            .directives
            .get("fastcgi_keep_conn")
            .is_some_and(|d| d.flag(0).is_some_and(|f| f.value));
        if !keep {
            ctx.report(
                mp.target.span,
                format!(
                    "{}: upstream `{}` keeps idle connections (keepalive {}) but fastcgi_keep_conn is off: the FastCGI server closes each connection after its response",
                    route_label(r),
                    pool.name,
                    pool.keepalive.value
                ),
                "add `fastcgi_keep_conn on;`",
            );
        }
    }
    for (_, r, p, pool) in proxied(ctx.model()) {
        let Some(pool) = pool else { continue };
        if pool.keepalive.value == 0 {
            continue;
        }
        let hv = &r.upstream_http_version;
        if hv.value != HttpVersion::Http11 {
            ctx.report(
                if hv.defaulted { p.span } else { hv.span },
                format!(
                    "{}: upstream `{}` keeps idle connections (keepalive {}) but proxy_http_version is {}{}{}",
                    route_label(r),
                    pool.name,
                    pool.keepalive.value,
                    hv.value,
                    if hv.defaulted { " (default)" } else { "" },
                    if pool.keepalive.defaulted { assumed.as_str() } else { "" }
                ),
                "add `proxy_http_version 1.1;` and `proxy_set_header Connection \"\";`",
            );
            continue;
        }
        if !new {
            let clears = r.directives.all("proxy_set_header").iter().any(|h| {
                h.arg(0)
                    .is_some_and(|n| n.eq_ignore_ascii_case("connection"))
                    && h.arg(1)
                        .is_some_and(|v| v.is_empty() || v.eq_ignore_ascii_case("keep-alive"))
            });
            if !clears {
                ctx.report(
                    p.span,
                    format!(
                        "{}: upstream `{}` keeps idle connections but nginx sends `Connection: close` (no proxy_set_header Connection \"\")",
                        route_label(r),
                        pool.name
                    ),
                    "add `proxy_set_header Connection \"\";`",
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::test_util::{findings, findings_with};
    use crate::lint::Settings;

    const UP: &str = "upstream a { server 10.0.0.1; keepalive 16; }";

    #[test]
    fn fail() {
        let f = findings("NGX-KAL-001", &format!("http {{ {UP} server {{ location / {{ proxy_pass http://a; proxy_http_version 1.0; }} }} }}"));
        assert_eq!(f.len(), 1);
        assert!(!f[0].contains("assuming"), "{f:?}");
        let f = findings(
            "NGX-KAL-001",
            "http { upstream a { server 10.0.0.1; } server { location / { proxy_pass http://a; proxy_http_version 1.0; } } }",
        );
        assert!(
            f[0].contains("keepalive 32) but proxy_http_version is 1.0 (assuming nginx >= 1.29.7"),
            "{f:?}"
        );
        let old = Settings::from_str_as("nginx_version: '1.22.1'", false).unwrap();
        let f = findings_with(
            "NGX-KAL-001",
            &format!("http {{ {UP} server {{ location / {{ proxy_pass http://a; }} }} }}"),
            &old,
        );
        assert!(
            f[0].contains("proxy_http_version is 1.0 (default)"),
            "{f:?}"
        );
        let f = findings_with(
            "NGX-KAL-001",
            &format!("http {{ {UP} server {{ location / {{ proxy_pass http://a; proxy_http_version 1.1; }} }} }}"),
            &old,
        );
        assert!(f[0].contains("Connection: close"), "{f:?}");
    }

    #[test]
    fn fastcgi_keep_conn() {
        let up = "upstream php { server 10.0.0.1:9000; keepalive 8; }";
        let f = findings(
            "NGX-KAL-001",
            &format!("http {{ {up} server {{ location ~ \\.php$ {{ fastcgi_pass php; }} }} }}"),
        );
        assert_eq!(
            f,
            ["location ~ \\.php$: upstream `php` keeps idle connections (keepalive 8) but fastcgi_keep_conn is off: the FastCGI server closes each connection after its response"]
        );
        assert!(findings(
            "NGX-KAL-001",
            &format!("http {{ {up} server {{ fastcgi_keep_conn on; location ~ \\.php$ {{ fastcgi_pass php; }} }} }}"),
        )
        .is_empty());
        // keepalive nobody wrote (the 1.29.7 default) is not asked of FastCGI
        assert!(findings(
            "NGX-KAL-001",
            "http { upstream php { server 10.0.0.1:9000; } server { location ~ \\.php$ { fastcgi_pass php; } } }",
        )
        .is_empty());
    }

    #[test]
    fn pass() {
        let old = Settings::from_str_as("nginx_version: '1.22.1'", false).unwrap();
        let src = format!("http {{ {UP} server {{ location / {{ proxy_pass http://a; proxy_http_version 1.1; proxy_set_header Connection \"\"; }} }} }}");
        assert!(findings_with("NGX-KAL-001", &src, &old).is_empty());
        let src = "http { upstream a { server 10.0.0.1; } server { location / { proxy_pass http://a; } } }";
        assert!(findings_with("NGX-KAL-001", src, &old).is_empty());
        assert!(findings("NGX-KAL-001", src).is_empty());
    }
}
