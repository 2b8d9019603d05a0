//! NGX-TMO-001 `long-connect-timeout`: see the rule doc below.

use crate::config::nginx::units::fmt_duration;
use crate::declare_rule;
use crate::lint::values::Time;
use crate::lint::LintContext;

use super::stream_proxied;

declare_rule! {
    /// `proxy_connect_timeout` (or its `fastcgi_`, `uwsgi_`, `scgi_`, `grpc_` twin) is above 75s or not below the read timeout (in `stream {}`: above 75s).
    ///
    /// ## What it does
    /// Flags a location whose effective `proxy_connect_timeout` is longer than
    /// `max_connect_timeout` (75s), or at least as long as its effective
    /// `proxy_read_timeout`. In `stream {}` a server's
    /// `proxy_connect_timeout` (same default, 60s) is held to the same
    /// maximum; it is not compared with `proxy_timeout`, which bounds the
    /// pause between two reads or writes of an established connection.
    /// Locations that pass to PHP-FPM, uWSGI, SCGI or gRPC are checked the
    /// same way with `fastcgi_connect_timeout` and `fastcgi_read_timeout`
    /// (and the `uwsgi_`, `scgi_`, `grpc_` ones): same defaults (60s), same
    /// meaning, same 75s note in nginx's docs.
    ///
    /// ## Why it causes 502s
    /// While nginx waits to connect to a dead server it does not fail over to
    /// the next one, and the hop in front of nginx (CDN, load balancer) often
    /// gives up first and answers 502/504 itself, hiding the cause (guide
    /// steps 2 and 4). A healthy server accepts a connection in milliseconds.
    ///
    /// ## Example
    /// ```nginx
    /// location / {
    ///     proxy_pass http://app;
    ///     proxy_connect_timeout 120s;
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```nginx
    /// location / {
    ///     proxy_pass http://app;
    ///     proxy_connect_timeout 5s;
    /// }
    /// ```
    ///
    /// ## Options
    /// - `max_connect_timeout` (time, default `75s`): longest connect timeout
    ///   accepted.
    ///
    /// ## References
    /// - nginx `proxy_connect_timeout` (default 60s; "usually cannot exceed
    ///   75 seconds"): <https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_connect_timeout>
    /// - nginx `fastcgi_connect_timeout` (the same words; likewise
    ///   `uwsgi_`, `scgi_`, `grpc_connect_timeout`):
    ///   <https://nginx.org/en/docs/http/ngx_http_fastcgi_module.html#fastcgi_connect_timeout>
    pub LongConnectTimeout {
        id: "NGX-TMO-001",
        name: "long-connect-timeout",
        severity: Warning,
        since: "0.1.0",
        options: LongConnectTimeoutOptions,
    }
}

/// Options of [`LongConnectTimeout`] (`options.{id or name}` in the settings).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LongConnectTimeoutOptions {
    /// Longest connect timeout accepted. Default 75s.
    pub max_connect_timeout: Time,
}

impl Default for LongConnectTimeoutOptions {
    fn default() -> Self {
        LongConnectTimeoutOptions {
            max_connect_timeout: Time(std::time::Duration::from_secs(75)),
        }
    }
}

fn check(ctx: &mut LintContext<'_>, o: &LongConnectTimeoutOptions) {
    let max = o.max_connect_timeout.0;
    let model = ctx.model();
    for (s, _, _) in stream_proxied(model) {
        let c = &s.connect_timeout;
        if let Some(cv) = c.value.filter(|cv| c.is_explicit() && *cv > max) {
            ctx.report(
                c.span,
                format!(
                    "{}: proxy_connect_timeout {} is longer than {}",
                    s.label(),
                    fmt_duration(cv),
                    fmt_duration(max)
                ),
                "a healthy upstream accepts in milliseconds: while nginx waits it does not try the next server; use a few seconds, e.g. `proxy_connect_timeout 5s;`",
            );
        }
    }
    // `proxy_pass` locations, and those of the modules with the same
    // timeouts (nginx.org, `fastcgi_connect_timeout`, `uwsgi_…`, `scgi_…`,
    // `grpc_…`: "It should be noted that this timeout cannot usually exceed
    // 75 seconds", as for `proxy_connect_timeout`).
    let passing = model
        .routes()
        .filter_map(|(_, r)| match (&r.proxy, &r.module_pass) {
            (Some(_), _) => Some(("proxy", &r.timeouts)),
            (None, Some(m)) => Some((m.module.prefix(), &m.timeouts)),
            (None, None) => None,
        });
    for (p, timeouts) in passing {
        let c = &timeouts.connect;
        let r = &timeouts.read;
        let (Some(cv), Some(rv)) = (c.value, r.value) else {
            continue;
        };
        if c.defaulted && r.defaulted {
            continue;
        }
        if cv > max {
            ctx.report(
                c.span,
                format!(
                    "{p}_connect_timeout {} is longer than {}",
                    fmt_duration(cv),
                    fmt_duration(max)
                ),
                format!("a healthy upstream accepts in milliseconds: use a few seconds, e.g. `{p}_connect_timeout 5s;`"),
            );
        } else if cv >= rv {
            ctx.report(
                if c.defaulted { r.span } else { c.span },
                format!(
                    "{p}_connect_timeout {} is not shorter than {p}_read_timeout {}",
                    fmt_duration(cv),
                    fmt_duration(rv)
                ),
                format!("connecting should take far less than waiting for a response: lower {p}_connect_timeout (e.g. 5s)"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::test_util::findings;

    #[test]
    fn fastcgi_uwsgi_scgi_grpc_twins() {
        // the common PHP-FPM tuning: fastcgi_connect_timeout 300
        let f = findings(
            "NGX-TMO-001",
            "http { server { location ~ \\.php$ { fastcgi_pass unix:/run/php/php-fpm.sock; fastcgi_connect_timeout 300; fastcgi_read_timeout 300; } } }",
        );
        assert_eq!(f, ["fastcgi_connect_timeout 300s is longer than 75s"]);
        let f = findings(
            "NGX-TMO-001",
            "http { server { location / { grpc_pass grpc://127.0.0.1:50051; grpc_connect_timeout 10s; grpc_read_timeout 10s; } } }",
        );
        assert_eq!(
            f,
            ["grpc_connect_timeout 10s is not shorter than grpc_read_timeout 10s"]
        );
        // inherited from the server into the location that passes
        let f = findings(
            "NGX-TMO-001",
            "http { server { uwsgi_connect_timeout 90s; location / { uwsgi_pass 127.0.0.1:3031; } } }",
        );
        assert_eq!(f, ["uwsgi_connect_timeout 90s is longer than 75s"]);
        // near-identical, fixed: short connect, long read
        assert!(findings(
            "NGX-TMO-001",
            "http { server { location ~ \\.php$ { fastcgi_pass unix:/run/php/php-fpm.sock; fastcgi_connect_timeout 5s; fastcgi_read_timeout 300; } } }",
        )
        .is_empty());
        // a proxy_* timeout does not apply to a fastcgi location
        assert!(findings(
            "NGX-TMO-001",
            "http { server { proxy_connect_timeout 300s; location ~ \\.php$ { fastcgi_pass 127.0.0.1:9000; } } }",
        )
        .is_empty());
    }

    #[test]
    fn fail() {
        let f = findings(
            "NGX-TMO-001",
            "http { server { location / { proxy_pass http://127.0.0.1:8080; proxy_connect_timeout 120s; } } }",
        );
        assert_eq!(f, ["proxy_connect_timeout 120s is longer than 75s"]);
        let f = findings(
            "NGX-TMO-001",
            "http { proxy_read_timeout 10s; server { location / { proxy_pass http://127.0.0.1:8080; proxy_connect_timeout 10s; } } }",
        );
        assert_eq!(
            f,
            ["proxy_connect_timeout 10s is not shorter than proxy_read_timeout 10s"]
        );
        let f = findings(
            "NGX-TMO-001",
            "stream { proxy_connect_timeout 2m; server { listen 5432; proxy_pass 10.0.0.1:5432; } }",
        );
        assert_eq!(
            f,
            ["stream server 5432: proxy_connect_timeout 120s is longer than 75s"]
        );
    }

    #[test]
    fn pass() {
        assert!(findings(
            "NGX-TMO-001",
            "http { server { location / { proxy_pass http://127.0.0.1:8080; proxy_connect_timeout 5s; } } }",
        )
        .is_empty());
        assert!(findings(
            "NGX-TMO-001",
            "http { server { location / { proxy_connect_timeout 100s; } } }"
        )
        .is_empty());
        // proxy_timeout is an idle timeout, not a response wait
        assert!(findings(
            "NGX-TMO-001",
            "stream { server { listen 1; proxy_pass 10.0.0.1:1; proxy_connect_timeout 5s; proxy_timeout 3s; } }"
        )
        .is_empty());
    }
}
