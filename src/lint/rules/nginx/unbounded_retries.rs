//! NGX-RTY-002 `unbounded-retries`: see the rule doc below.

use std::time::Duration;

use crate::config::nginx::units::fmt_duration;
use crate::declare_rule;
use crate::lint::LintContext;

use super::{proxied, route_label, stream_proxied};

declare_rule! {
    /// Retries across an upstream group (`http {}` or `stream {}`; `proxy_pass` or `fastcgi_pass`, `uwsgi_pass`, `scgi_pass`, `grpc_pass`) are bounded neither in tries nor in time.
    ///
    /// ## What it does
    /// Flags a location that proxies to an `upstream` with two or more usable
    /// servers, retries (`proxy_next_upstream` is not `off`), and leaves both
    /// `proxy_next_upstream_tries` and `proxy_next_upstream_timeout` at 0
    /// (unlimited, the defaults). The same for a location that passes to an
    /// `upstream` with `fastcgi_pass`, `uwsgi_pass`, `scgi_pass` or
    /// `grpc_pass` and leaves that module's `*_next_upstream_tries` and
    /// `*_next_upstream_timeout` at 0: same directives, defaults and
    /// meaning under the module's prefix (nginx.org, e.g.
    /// `fastcgi_next_upstream_tries`). The same in `stream {}`, where
    /// `proxy_next_upstream` is `on` by default, but only when the worst case
    /// is long: there nginx moves to the next server only when it cannot
    /// connect (or finish the upstream TLS handshake), and tries each server
    /// once, so a client waits at most servers × `proxy_connect_timeout`
    /// (nginx source, `ngx_stream_proxy_connect_handler`, and
    /// `ngx_stream_upstream_tries`). That is flagged above 60s, one attempt
    /// at nginx's default connect timeout: Kubespray's API-server balancer
    /// (3 servers, `proxy_connect_timeout 1s`, at most 3s) is bounded.
    ///
    /// ## Why it causes 502s
    /// Each attempt may take the full connect + read timeout, so a request can
    /// walk every server for minutes. The hop in front gives up first and
    /// emits its own 502/504; the real failure is never logged there (guide
    /// step 4).
    ///
    /// ## Example
    /// ```nginx
    /// http {
    ///     upstream app { server 10.0.0.1:8080; server 10.0.0.2:8080; }
    ///     server {
    ///         location / { proxy_pass http://app; }
    ///     }
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```nginx
    /// http {
    ///     upstream app { server 10.0.0.1:8080; server 10.0.0.2:8080; }
    ///     server {
    ///         location / {
    ///             proxy_pass http://app;
    ///             proxy_next_upstream_tries 2;
    ///             proxy_next_upstream_timeout 10s;
    ///         }
    ///     }
    /// }
    /// ```
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// - nginx `proxy_next_upstream_tries`, `proxy_next_upstream_timeout`
    ///   (both default 0 = unlimited, since 1.7.5):
    ///   <https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_next_upstream_tries>
    pub UnboundedRetries {
        id: "NGX-RTY-002",
        name: "unbounded-retries",
        severity: Warning,
        since: "0.1.0",
    }
}

fn check(ctx: &mut LintContext<'_>) {
    for (_, r, p, pool) in proxied(ctx.model()) {
        let Some(pool) = pool else { continue };
        let n = pool.servers.iter().filter(|s| !s.down).count();
        if n < 2 || r.retry.on.value.is_empty() {
            continue;
        }
        if r.retry.tries.value == 0 && r.retry.timeout.value.is_none() {
            ctx.report(
                p.span,
                format!(
                    "{}: retries over {n} servers of `{}` are unlimited (proxy_next_upstream_tries and proxy_next_upstream_timeout are 0)",
                    route_label(r),
                    pool.name
                ),
                "bound them: `proxy_next_upstream_tries 2; proxy_next_upstream_timeout 10s;`",
            );
        }
    }
    let m = ctx.model();
    for (_, r) in m.routes() {
        let (Some(mp), Some(pool)) = (&r.module_pass, m.module_pool(r)) else {
            continue;
        };
        let n = pool.servers.iter().filter(|s| !s.down).count();
        if n < 2 || mp.retry.on.value.is_empty() {
            continue;
        }
        if mp.retry.tries.value == 0 && mp.retry.timeout.value.is_none() {
            let p = mp.module.prefix();
            ctx.report(
                mp.target.span,
                format!(
                    "{}: retries over {n} servers of `{}` are unlimited ({p}_next_upstream_tries and {p}_next_upstream_timeout are 0)",
                    route_label(r),
                    pool.name
                ),
                format!("bound them: `{p}_next_upstream_tries 2; {p}_next_upstream_timeout 10s;`"),
            );
        }
    }
    for (s, p, pool) in stream_proxied(ctx.model()) {
        let Some(pool) = pool else { continue };
        let n = pool.servers.iter().filter(|s| !s.down).count();
        if n < 2 || !s.next_upstream.value {
            continue;
        }
        if s.tries.value != 0 || s.retry_timeout.value.is_some() {
            continue;
        }
        // An infinite connect timeout (never in nginx: `0` is refused) is
        // read as unbounded.
        let worst = s
            .connect_timeout
            .value
            .map(|c| c.saturating_mul(u32::try_from(n).unwrap_or(u32::MAX)));
        if worst.is_some_and(|w| w <= STREAM_WAIT) {
            continue;
        }
        let wait = match (s.connect_timeout.value, worst) {
            (Some(c), Some(w)) => format!(
                "a client may wait {n} × proxy_connect_timeout {} = {}",
                fmt_duration(c),
                fmt_duration(w)
            ),
            _ => "the wait is unbounded".to_owned(),
        };
        ctx.report(
            p.span,
            format!(
                "{}: retries over {n} servers of `{}` are not bounded (proxy_next_upstream_tries and proxy_next_upstream_timeout are 0): {wait} while nginx tries to connect to each",
                s.label(),
                pool.name
            ),
            "bound them (`proxy_next_upstream_tries 2; proxy_next_upstream_timeout 10s;`) or shorten `proxy_connect_timeout` (a healthy server accepts in milliseconds)",
        );
    }
}

/// The longest worst-case connect wait of a `stream {}` server that is not
/// flagged: one attempt at nginx's default `proxy_connect_timeout` (60s).
const STREAM_WAIT: Duration = Duration::from_secs(60);

#[cfg(test)]
mod stream_tests {
    use crate::lint::rules::test_util::findings;

    #[test]
    fn fastcgi_and_grpc_pools() {
        // two PHP-FPM pools, retries left unbounded
        let up = "upstream php { server 10.0.0.1:9000; server 10.0.0.2:9000; }";
        let f = findings(
            "NGX-RTY-002",
            &format!("http {{ {up} server {{ location ~ \\.php$ {{ fastcgi_pass php; }} }} }}"),
        );
        assert_eq!(
            f,
            ["location ~ \\.php$: retries over 2 servers of `php` are unlimited (fastcgi_next_upstream_tries and fastcgi_next_upstream_timeout are 0)"]
        );
        for fix in [
            "fastcgi_next_upstream_tries 2;",
            "fastcgi_next_upstream_timeout 10s;",
            "fastcgi_next_upstream off;",
        ] {
            assert!(
                findings(
                    "NGX-RTY-002",
                    &format!("http {{ {up} server {{ location ~ \\.php$ {{ fastcgi_pass php; {fix} }} }} }}"),
                )
                .is_empty(),
                "{fix}"
            );
        }
        // a proxy_* bound does not bound fastcgi retries
        assert_eq!(
            findings(
                "NGX-RTY-002",
                &format!("http {{ {up} server {{ proxy_next_upstream_tries 2; location ~ \\.php$ {{ fastcgi_pass php; }} }} }}"),
            )
            .len(),
            1
        );
        let f = findings(
            "NGX-RTY-002",
            "http { upstream g { server 10.0.0.1:50051; server 10.0.0.2:50051; } server { location / { grpc_pass grpc://g; } } }",
        );
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].contains("grpc_next_upstream_tries"), "{f:?}");
    }

    #[test]
    fn short_connect_timeouts_bound_the_wait() {
        // Kubespray's nginx-proxy: 3 API servers, 1s each, at most 3s
        let up = "upstream a { server 10.0.0.1:6443; server 10.0.0.2:6443; server 10.0.0.3:6443; }";
        assert!(findings(
            "NGX-RTY-002",
            &format!("stream {{ {up} server {{ listen 6443; proxy_pass a; proxy_connect_timeout 1s; }} }}"),
        )
        .is_empty());
        let f = findings(
            "NGX-RTY-002",
            &format!("stream {{ {up} server {{ listen 6443; proxy_pass a; proxy_connect_timeout 30s; }} }}"),
        );
        assert_eq!(
            f,
            ["stream server 6443: retries over 3 servers of `a` are not bounded (proxy_next_upstream_tries and proxy_next_upstream_timeout are 0): a client may wait 3 × proxy_connect_timeout 30s = 90s while nginx tries to connect to each"]
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::test_util::findings;

    const UP: &str = "upstream app { server 10.0.0.1; server 10.0.0.2; }";

    #[test]
    fn fail() {
        let f = findings(
            "NGX-RTY-002",
            &format!("http {{ {UP} server {{ location / {{ proxy_pass http://app; }} }} }}"),
        );
        assert_eq!(f.len(), 1);
    }

    #[test]
    fn pass() {
        for extra in [
            "proxy_next_upstream_tries 2;",
            "proxy_next_upstream_timeout 10s;",
            "proxy_next_upstream off;",
        ] {
            let src = format!(
                "http {{ {UP} server {{ location / {{ proxy_pass http://app; {extra} }} }} }}"
            );
            assert!(findings("NGX-RTY-002", &src).is_empty(), "{extra}");
        }
    }

    #[test]
    fn stream() {
        let f = findings(
            "NGX-RTY-002",
            "stream { upstream a { server 10.0.0.1:1; server 10.0.0.2:1; } server { listen 1; proxy_pass a; } }",
        );
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(
            f[0].starts_with("stream server 1: retries over 2 servers")
                && f[0].contains("2 × proxy_connect_timeout 60s = 120s"),
            "{f:?}"
        );
        assert!(findings(
            "NGX-RTY-002",
            "stream { upstream a { server 10.0.0.1:1; server 10.0.0.2:1; } server { listen 1; proxy_pass a; proxy_next_upstream_tries 2; } }",
        )
        .is_empty());
    }
}
