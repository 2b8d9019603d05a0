//! NGX-LOG-003 `no-request-id`: see the rule doc below.

use crate::declare_rule;
use crate::lint::LintContext;

use super::access_log_without_upstream::uses_var;

declare_rule! {
    /// A proxying server neither logs nor forwards a request id.
    ///
    /// ## What it does
    /// Flags a server with proxying locations when its access log formats use
    /// neither `$request_id` nor `$http_x_request_id` and no location sends
    /// one upstream (`proxy_set_header X-Request-ID …`).
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
    pub NoRequestId {
        id: "NGX-LOG-003",
        name: "no-request-id",
        severity: Info,
        since: "0.1.0",
    }
}

fn check(ctx: &mut LintContext<'_>) {
    for s in &ctx.model().servers {
        let proxying: Vec<_> = s.routes.iter().filter(|r| r.proxy.is_some()).collect();
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
                "add `proxy_set_header X-Request-ID $request_id;` and log `$request_id`",
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

    #[test]
    fn pass() {
        assert!(findings(
            "NGX-LOG-003",
            "http { server { location / { proxy_pass http://10.0.0.1; proxy_set_header X-Request-ID $request_id; } } }"
        )
        .is_empty());
    }
}
