//! NGX-RTY-001 `non-idempotent-retry`: see the rule doc below.

use crate::config::model::PassModule;
use crate::declare_rule;
use crate::lint::LintContext;

declare_rule! {
    /// `proxy_next_upstream` (or `fastcgi_`, `uwsgi_`, `scgi_`, `grpc_next_upstream`) retries non-idempotent requests (POST, PATCH, LOCK).
    ///
    /// ## What it does
    /// Flags `proxy_next_upstream` lists that contain `non_idempotent`, and
    /// the same in `fastcgi_next_upstream`, `uwsgi_next_upstream`,
    /// `scgi_next_upstream` and `grpc_next_upstream`, which take the same
    /// flag with the same meaning (nginx.org, each module's
    /// `*_next_upstream`).
    ///
    /// ## Why it causes 502s
    /// After a timeout the first server may already have acted on a POST;
    /// replaying it elsewhere duplicates writes, and failures hide as retries
    /// until every server fails and the client gets the 502 anyway (guide
    /// step 4).
    ///
    /// ## Example
    /// ```nginx
    /// proxy_next_upstream error timeout non_idempotent;
    /// ```
    ///
    /// ## Use instead
    /// ```nginx
    /// proxy_next_upstream error timeout;
    /// ```
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// - nginx `proxy_next_upstream` (default `error timeout`; non-idempotent
    ///   requests are not retried since 1.9.13 unless `non_idempotent`):
    ///   <https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_next_upstream>
    /// - nginx `fastcgi_next_upstream` (likewise `uwsgi_`, `scgi_`, `grpc_`):
    ///   <https://nginx.org/en/docs/http/ngx_http_fastcgi_module.html#fastcgi_next_upstream>
    pub NonIdempotentRetry {
        id: "NGX-RTY-001",
        name: "non-idempotent-retry",
        severity: Warning,
        since: "0.1.0",
    }
}

fn check(ctx: &mut LintContext<'_>) {
    let model = ctx.model();
    let names = std::iter::once("proxy").chain(PassModule::ALL.iter().map(|m| m.prefix()));
    for d in names.flat_map(|p| super::directives_named(model, &format!("{p}_next_upstream"))) {
        if let Some(a) = d.args.iter().find(|a| a.value == "non_idempotent") {
            ctx.report(
                a.span,
                format!("{} {} replays POST/PATCH/LOCK requests on another server", d.name, d.args_text()),
                "drop `non_idempotent` (make the app idempotent with request keys if it must be retried)",
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
            "NGX-RTY-001",
            "http { proxy_next_upstream error timeout non_idempotent; }",
        );
        assert_eq!(f.len(), 1);
    }

    #[test]
    fn other_modules() {
        let f = findings(
            "NGX-RTY-001",
            "http { server { location ~ \\.php$ { fastcgi_pass php; fastcgi_next_upstream error timeout non_idempotent; } } }",
        );
        assert_eq!(
            f,
            ["fastcgi_next_upstream error timeout non_idempotent replays POST/PATCH/LOCK requests on another server"]
        );
        assert!(findings(
            "NGX-RTY-001",
            "http { server { location ~ \\.php$ { fastcgi_pass php; fastcgi_next_upstream error timeout; } } }",
        )
        .is_empty());
        assert_eq!(
            findings(
                "NGX-RTY-001",
                "http { grpc_next_upstream error non_idempotent; }"
            )
            .len(),
            1
        );
    }

    #[test]
    fn pass() {
        assert!(findings("NGX-RTY-001", "http { proxy_next_upstream error timeout; }").is_empty());
    }
}
