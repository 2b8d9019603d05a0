//! NGX-LOG-003 `no-request-id`: see the rule doc below.

use crate::config::model::PassModule;
use crate::declare_rule;
use crate::lint::LintContext;

use super::access_log_without_upstream::uses_var;

declare_rule! {
    /// A proxying server neither logs nor forwards a request id.
    ///
    /// ## What it does
    /// Flags a server with proxying locations when its access log formats use
    /// neither `$request_id` nor `$http_x_request_id` and no location sends
    /// one upstream (`proxy_set_header X-Request-ID …`). Locations that pass
    /// with `fastcgi_pass`, `uwsgi_pass`, `scgi_pass` or `grpc_pass` count
    /// as proxying (one id, since 0.2: their upstream fails the same way),
    /// and send the id with their module's `grpc_set_header` or `*_param`
    /// (`fastcgi_param HTTP_X_REQUEST_ID $request_id`).
    ///
    /// ## Why it causes 502s
    /// Without one id carried across hops you cannot follow a failing request
    /// from the edge to the origin, or tell which hop produced the 502 (guide
    /// step 6).
    ///
    /// ## Example
    /// ```nginx
    /// location / { proxy_pass http://app; }
    /// ```
    ///
    /// ## Use instead
    /// ```nginx
    /// location / {
    ///     proxy_pass http://app;
    ///     proxy_set_header X-Request-ID $request_id;
    /// }
    /// ```
    /// and log `$request_id`.
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// - nginx `$request_id` (since 1.11.0):
    ///   <https://nginx.org/en/docs/http/ngx_http_core_module.html#var_request_id>
    /// - `fastcgi_param`, `grpc_set_header`:
    ///   <https://nginx.org/en/docs/http/ngx_http_fastcgi_module.html#fastcgi_param>,
    ///   <https://nginx.org/en/docs/http/ngx_http_grpc_module.html#grpc_set_header>
    pub NoRequestId {
        id: "NGX-LOG-003",
        name: "no-request-id",
        severity: Info,
        since: "0.1.0",
    }
}

fn check(ctx: &mut LintContext<'_>) {
    for s in &ctx.model().servers {
        let proxying: Vec<_> = s
            .routes
            .iter()
            .filter(|r| r.proxy.is_some() || r.module_pass.is_some())
            .collect();
        if proxying.is_empty() {
            continue;
        }
        let forwarded = proxying.iter().any(|r| r.request_id_header.is_some());
        // an empty text is a format defined outside what was read: it may
        // log the id (Zulip's `combined_with_host_and_time`)
        let logged = proxying.iter().any(|r| {
            r.access_log.formats.iter().any(|f| {
                f.value.is_empty()
                    || uses_var(&f.value, "request_id")
                    || uses_var(&f.value, "http_x_request_id")
            })
        });
        if !forwarded && !logged {
            ctx.report(
                s.span,
                format!(
                    "server{}: no request id is logged or forwarded upstream",
                    if s.name.is_empty() {
                        String::new()
                    } else {
                        format!(" {}", s.name)
                    }
                ),
                match proxying.iter().find_map(|r| r.module_pass.as_ref()) {
                    Some(mp) if proxying.iter().all(|r| r.proxy.is_none()) => format!(
                        "add `{}` and log `$request_id`",
                        match mp.module {
                            PassModule::Grpc => "grpc_set_header X-Request-ID $request_id;",
                            PassModule::FastCgi => "fastcgi_param HTTP_X_REQUEST_ID $request_id;",
                            PassModule::Uwsgi => "uwsgi_param HTTP_X_REQUEST_ID $request_id;",
                            PassModule::Scgi => "scgi_param HTTP_X_REQUEST_ID $request_id;",
                        }
                    ),
                    _ => "add `proxy_set_header X-Request-ID $request_id;` and log `$request_id`"
                        .into(),
                },
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
            findings(
                "NGX-LOG-003",
                "http { server { location / { proxy_pass http://10.0.0.1; } } }"
            )
            .len(),
            1
        );
    }

    /// The `*_pass` twins: a PHP-FPM or gRPC location with the default
    /// `combined` log and nothing forwarded is flagged; the same location
    /// sending `$request_id` in its module's parameter or header is not.
    #[test]
    fn module_passes() {
        for (loc, fix) in [
            (
                "fastcgi_pass 127.0.0.1:9000;",
                "fastcgi_param HTTP_X_REQUEST_ID $request_id;",
            ),
            (
                "uwsgi_pass unix:/run/u.sock;",
                "uwsgi_param HTTP_X_REQUEST_ID $request_id;",
            ),
            (
                "scgi_pass 10.0.0.1:4000;",
                "scgi_param REQUEST_ID $request_id;",
            ),
            (
                "grpc_pass grpc://10.0.0.1:50051;",
                "grpc_set_header X-Request-ID $request_id;",
            ),
        ] {
            let bad = format!("http {{ server {{ location / {{ {loc} }} }} }}");
            let f = findings("NGX-LOG-003", &bad);
            assert_eq!(
                f,
                ["server: no request id is logged or forwarded upstream"],
                "{bad}"
            );
            let good = format!("http {{ server {{ location / {{ {loc} {fix} }} }} }}");
            assert!(findings("NGX-LOG-003", &good).is_empty(), "{good}");
        }
        // logging the id is enough, as for proxy_pass
        assert!(findings(
            "NGX-LOG-003",
            "http { log_format r '$request_id $status'; access_log /l r;
               server { location / { fastcgi_pass 127.0.0.1:9000; } } }"
        )
        .is_empty());
        // a server that only serves files has no upstream to correlate with
        assert!(findings(
            "NGX-LOG-003",
            "http { server { location / { root /srv; } } }"
        )
        .is_empty());
    }

    #[test]
    fn pass() {
        assert!(findings(
            "NGX-LOG-003",
            "http { server { location / { proxy_pass http://10.0.0.1; proxy_set_header X-Request-ID $request_id; } } }"
        )
        .is_empty());
    }
}
