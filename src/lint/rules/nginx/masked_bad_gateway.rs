//! NGX-CCH-002 `masked-bad-gateway`: see the rule doc below.

use crate::declare_rule;
use crate::lint::LintContext;

declare_rule! {
    /// `error_page 502` rewrites the status to a success or a redirect.
    ///
    /// ## What it does
    /// Flags `error_page` lines that handle 502 and change the response code
    /// to 2xx or 3xx (`=200`, `=302`, …).
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
    pub MaskedBadGateway {
        id: "NGX-CCH-002",
        name: "masked-bad-gateway",
        severity: Warning,
        category: "CCH",
        proxy: "nginx",
        since: "0.1.0",
    }
}

fn check(ctx: &mut LintContext<'_>) {
    for d in super::directives_named(ctx.model(), "error_page") {
        if !d.args.iter().any(|a| a.value == "502") {
            continue;
        }
        let Some(a) = d.args.iter().find(|a| a.value.starts_with('=')) else {
            continue;
        };
        let code = a.value[1..].parse::<u16>().ok();
        if code.is_some_and(|c| (200..400).contains(&c)) {
            ctx.report(
                a.span,
                format!("error_page {} turns 502 into {}", d.args_text(), &a.value[1..]),
                "keep the error status (`error_page 502 /502.html;`) so clients, monitors and caches see the failure",
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
            findings("NGX-CCH-002", "http { error_page 502 503 =200 /ok.html; }").len(),
            1
        );
    }

    #[test]
    fn pass() {
        assert!(findings(
            "NGX-CCH-002",
            "http { error_page 502 /502.html; error_page 404 =200 /x; }"
        )
        .is_empty());
    }
}
