//! NGX-LOG-001 `access-log-without-upstream`: see the rule doc below.

use std::collections::HashSet;

use crate::config::model::{ProxyModel, Route, Server};
use crate::declare_rule;
use crate::lint::LintContext;

use super::route_label;

/// The other handlers that pass requests to an upstream: a PHP-FPM,
/// uWSGI, SCGI or gRPC server failing is a 502 as well ("upstream
/// prematurely closed FastCGI stdout", "connect() failed … while
/// connecting to upstream"), and `$upstream_*` describe it the same way
/// (ngx_http_upstream_module, embedded variables).
const OTHER_PASSES: &[&str] = &["fastcgi_pass", "uwsgi_pass", "scgi_pass", "grpc_pass"];

/// True when `r` itself (not an enclosing location: nginx does not inherit
/// a handler) uses one of [`OTHER_PASSES`].
fn passes_elsewhere(m: &ProxyModel, r: &Route) -> bool {
    let Some(block) = m
        .blocks
        .iter()
        .find(|b| b.file == r.span.file && b.start == r.span.start)
    else {
        return false;
    };
    OTHER_PASSES
        .iter()
        .flat_map(|n| r.directives.all(n))
        .any(|d| {
            d.span.file == block.file && block.start <= d.span.start && d.span.end <= block.end
        })
}

/// Locations that pass requests to an upstream, by `proxy_pass` or another
/// `*_pass`.
fn passing(m: &ProxyModel) -> impl Iterator<Item = (&Server, &Route)> {
    m.routes()
        .filter(move |(_, r)| r.proxy.is_some() || passes_elsewhere(m, r))
}

/// Variables an access log needs to tell where a 502 came from.
pub const NEEDED: &[&str] = &[
    "upstream_status",
    "upstream_addr",
    "upstream_response_time",
    "request_time",
];

/// True when `format` uses `$name` or `${name}`.
pub fn uses_var(format: &str, name: &str) -> bool {
    let plain = format!("${name}");
    let braced = format!("${{{name}}}");
    format.match_indices(&plain).any(|(i, _)| {
        !format[i + plain.len()..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
    }) || format.contains(&braced)
}

declare_rule! {
    /// A proxying location's access log cannot tell who produced a 502.
    ///
    /// ## What it does
    /// For every location with `proxy_pass` (or `fastcgi_pass`, `uwsgi_pass`,
    /// `scgi_pass`, `grpc_pass`: PHP-FPM and uWSGI fail with 502s too),
    /// checks the access logs in effect:
    /// flags `access_log off`, and formats (the default is `combined`) that lack
    /// any of `$upstream_status`, `$upstream_addr`, `$upstream_response_time`
    /// or `$request_time`.
    ///
    /// ## Why it causes 502s
    /// Without the upstream status and address you cannot tell whether nginx
    /// generated the 502 or passed on the origin's, nor which server failed;
    /// without the times you cannot match it to a timeout (guide steps 1, 5
    /// and 6).
    ///
    /// ## Example
    /// ```nginx
    /// http {
    ///     access_log /var/log/nginx/access.log combined;
    ///     server {
    ///         location / { proxy_pass http://10.0.0.1:8080; }
    ///     }
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```nginx
    /// http {
    ///     log_format upstream '$remote_addr [$time_local] "$request" $status '
    ///                         'rt=$request_time us=$upstream_status ua=$upstream_addr '
    ///                         'urt=$upstream_response_time rid=$request_id';
    ///     access_log /var/log/nginx/access.log upstream;
    ///     server {
    ///         location / { proxy_pass http://10.0.0.1:8080; }
    ///     }
    /// }
    /// ```
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// - nginx `log_format` / `access_log` (default `combined`):
    ///   <https://nginx.org/en/docs/http/ngx_http_log_module.html>
    /// - upstream variables: <https://nginx.org/en/docs/http/ngx_http_upstream_module.html#variables>
    pub AccessLogWithoutUpstream {
        id: "NGX-LOG-001",
        name: "access-log-without-upstream",
        severity: Warning,
        since: "0.1.0",
    }
}

fn check(ctx: &mut LintContext<'_>) {
    let mut seen = HashSet::new();
    // In a fragment the http-level `access_log` of the including config is
    // not seen: an unset one is nginx's default only if that config sets
    // none either.
    let default_note = if ctx.model().fragment.is_some() {
        " (none set here: nginx's default, unless the including config sets one)"
    } else {
        " (default)"
    };
    let m = ctx.model();
    for (server, r) in passing(m) {
        let log = &r.access_log;
        if log.off.value {
            if seen.insert(log.off.span) {
                ctx.report(
                    log.off.span,
                    format!("{}: access_log off where requests are proxied: 502s leave no trace", route_label(r)),
                    "log proxied requests with a format that has $upstream_status, $upstream_addr, $upstream_response_time and $request_time",
                );
            }
            continue;
        }
        for (fmt, dest) in log.formats.iter().zip(&log.logs) {
            // A format defined outside what was read (Zulip's
            // `combined_with_host_and_time`, set in its nginx.conf): its
            // variables are unknown.
            if fmt.value.is_empty() {
                continue;
            }
            let missing: Vec<String> = NEEDED
                .iter()
                .filter(|v| !uses_var(&fmt.value, v))
                .map(|v| format!("${v}"))
                .collect();
            // The implicit log is reported once per server.
            let at = if fmt.defaulted { server.span } else { fmt.span };
            if !missing.is_empty() && seen.insert(at) {
                let scope = if fmt.defaulted {
                    format!(
                        "server{}",
                        if server.name.is_empty() {
                            String::new()
                        } else {
                            format!(" {}", server.name)
                        }
                    )
                } else {
                    route_label(r)
                };
                ctx.report(
                    at,
                    format!(
                        "{}: access log format `{}`{} lacks {}",
                        scope,
                        dest.value.1,
                        if fmt.defaulted { default_note } else { "" },
                        missing.join(", ")
                    ),
                    "use a log_format with $upstream_status, $upstream_addr, $upstream_response_time and $request_time",
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::uses_var;
    use crate::lint::rules::test_util::findings;

    #[test]
    fn variables() {
        assert!(uses_var("a $request_time b", "request_time"));
        assert!(uses_var("a ${request_time}b", "request_time"));
        assert!(!uses_var("a $request_timex", "request_time"));
    }

    #[test]
    fn fail() {
        let f = findings(
            "NGX-LOG-001",
            "http { server { location / { proxy_pass http://10.0.0.1; } } }",
        );
        assert_eq!(f.len(), 1);
        assert!(
            f[0].contains("`combined` (default) lacks $upstream_status"),
            "{f:?}"
        );
        // a site file: the including nginx.conf may set the format
        let f = findings(
            "NGX-LOG-001",
            "server { location / { proxy_pass http://10.0.0.1; } }",
        );
        assert!(
            f[0].contains("`combined` (none set here: nginx's default, unless the including config sets one) lacks"),
            "{f:?}"
        );
        let f = findings(
            "NGX-LOG-001",
            "http { server { access_log off; location / { proxy_pass http://10.0.0.1; } } }",
        );
        assert_eq!(f.len(), 1);
    }

    #[test]
    fn fastcgi_and_uwsgi_locations_pass_to_an_upstream_too() {
        // TrafeX/docker-php-nginx, Weblate's uWSGI site file
        let f = findings(
            "NGX-LOG-001",
            "http { server { location ~ \\.php$ { fastcgi_pass unix:/run/php-fpm.sock; } } }",
        );
        assert_eq!(f.len(), 1, "{f:?}");
        let f = findings(
            "NGX-LOG-001",
            "http { server { location / { uwsgi_pass unix:///run/uwsgi/app/weblate/socket; } } }",
        );
        assert_eq!(f.len(), 1, "{f:?}");
        // a handler is not inherited: a nested location without one serves
        // files, and a location serving files has nothing to say
        assert!(findings(
            "NGX-LOG-001",
            "http { server { location /static/ { root /srv; } location /app/ { fastcgi_pass 127.0.0.1:9000; location /app/img/ { root /srv; access_log off; } } } }"
        )
        .len() == 1);
    }

    #[test]
    fn pass() {
        assert!(findings(
            "NGX-LOG-001",
            "http { log_format u '$status $upstream_status $upstream_addr $upstream_response_time $request_time'; access_log /tmp/a.log u; server { location / { proxy_pass http://10.0.0.1; } } }"
        )
        .is_empty());
        // zulip-include-frontend/app: the format is defined in the
        // nginx.conf that includes the file
        assert!(findings(
            "NGX-LOG-001",
            "access_log /var/log/nginx/access.log combined_with_host_and_time; location / { proxy_pass http://10.0.0.1; }"
        )
        .is_empty());
    }
}
