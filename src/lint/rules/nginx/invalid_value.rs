//! NGX-VAL-001 `invalid-value`: see the rule doc below.

use crate::declare_rule;
use crate::lint::LintContext;

declare_rule! {
    /// A directive nginx refuses: a typo, the wrong block, the wrong number of arguments, a value that does not parse, a `stream {}` `proxy_pass` or upstream server nginx cannot use.
    ///
    /// ## What it does
    /// Flags what `nginx -t` refuses, checked against nginx's own directive
    /// table (generated from the `ngx_command_t` arrays of its source):
    /// directives outside the contexts their module allows (`keepalive`
    /// outside `upstream`, `proxy_pass` at server level, …), argument counts
    /// the module does not take (`user a b c`), a block where none is taken
    /// and the reverse, unknown names one or two edits from a known one
    /// (`proxy_passs`), and, when `nginx_version` is set, directives that
    /// appeared in a later nginx. Also times that are not nginx times (units
    /// `ms s m h d w M y`, bare numbers are seconds), sizes that are not
    /// nginx sizes (`k m g`, bare numbers are bytes), flags other than `on`
    /// / `off` (`proxy_ssl_verify yes`; nginx takes no variable there
    /// either), and `proxy_buffers` / `large_client_header_buffers` not of
    /// the form `number size`. In `stream {}`, what nginx -t refuses of
    /// ngx_stream_proxy_module: a `proxy_pass` name that is no `upstream`
    /// of stream and has no port ("no port in upstream": an http upstream
    /// does not count), a `proxy_pass` with a scheme ("invalid host in
    /// upstream"), a stream upstream `server` without a port. In `http {}`,
    /// a `fastcgi_pass`, `uwsgi_pass`, `scgi_pass` or `grpc_pass` to a name
    /// without a port that is no `upstream` ("no port in upstream": these
    /// modules have no default port), when every file of the config was
    /// read.
    ///
    /// ## Why it causes 502s
    /// `nginx -t` rejects these ("invalid value", "directive is not allowed
    /// here"); a failed reload keeps the old config serving, so the change
    /// meant to stop the 502s never goes live (guide step 4).
    ///
    /// ## Example
    /// ```nginx
    /// proxy_read_timeout 30sec;
    /// ```
    ///
    /// ## Use instead
    /// ```nginx
    /// proxy_read_timeout 30s;
    /// ```
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// - nginx measurement units: <https://nginx.org/en/docs/syntax.html>
    /// - each directive's "Context:" line in the module docs, e.g.
    ///   <https://nginx.org/en/docs/http/ngx_http_upstream_module.html#keepalive>
    pub InvalidValue {
        id: "NGX-VAL-001",
        name: "invalid-value",
        severity: Error,
        since: "0.1.0",
    }
}

fn check(ctx: &mut LintContext<'_>) {
    super::super::report_invalid(ctx, |i| format!("{}: {}", i.directive, i.problem));
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::test_util::findings;

    #[test]
    fn fail() {
        let f = findings(
            "NGX-VAL-001",
            "http { proxy_read_timeout 30sec; server { keepalive 4; } }",
        );
        assert_eq!(
            f,
            [
                "proxy_read_timeout: \"30sec\" is not a time",
                "keepalive: \"keepalive\" directive is not allowed in `server`"
            ]
        );
    }

    #[test]
    fn pass() {
        assert!(findings(
            "NGX-VAL-001",
            "http { proxy_read_timeout 30s; upstream a { server 10.0.0.1; keepalive 4; } }"
        )
        .is_empty());
    }
}
