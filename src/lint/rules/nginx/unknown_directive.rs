//! NGX-VAL-002 `unknown-directive`: see the rule doc below.

use crate::declare_rule;
use crate::lint::LintContext;

declare_rule! {
    /// A directive that no module shipped with nginx defines (a third-party module's, most likely).
    ///
    /// ## What it does
    /// Reports, once per name, directives that are in none of the
    /// `ngx_command_t` tables of nginx's own modules (core, events, http,
    /// stream, mail; generated from nginx's source). They usually belong to a
    /// third-party module (`lua_*`, `more_set_headers`, `brotli`, …) or to
    /// NGINX Plus: gatecheck cannot check their arguments or contexts, and
    /// nginx refuses them ("unknown directive") unless that module is loaded.
    /// A name one or two edits away from a known directive (`proxy_passs`) is
    /// a typo and is reported by NGX-VAL-001 as an error instead.
    ///
    /// ## Why it causes 502s
    /// It does not by itself; it marks what the linter could not check. When
    /// the module is missing on a server, `nginx -t` fails and a reload keeps
    /// the old config serving (guide step 4).
    ///
    /// ## Example
    /// ```nginx
    /// more_set_headers "Server: edge";
    /// ```
    ///
    /// ## Use instead
    /// ```nginx
    /// load_module modules/ngx_http_headers_more_filter_module.so;
    /// ```
    /// (and ignore this rule for configs that use such modules).
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// - nginx directive index: <https://nginx.org/en/docs/dirindex.html>
    pub UnknownDirective {
        id: "NGX-VAL-002",
        name: "unknown-directive",
        severity: Info,
        since: "0.1.0",
    }
}

fn check(ctx: &mut LintContext<'_>) {
    for u in &ctx.model().unknown {
        let uses = super::super::times_used(u.count);
        ctx.report(
            u.span,
            format!(
                "unknown directive \"{}\"{uses}: not defined by any module shipped with nginx; its arguments and context were not checked",
                u.name
            ),
            "if it comes from a third-party module, make sure the module is loaded (`load_module`) where this config runs",
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::test_util::findings;

    #[test]
    fn fail() {
        let f = findings(
            "NGX-VAL-002",
            "http { lua_shared_dict d 1m; server { location / { more_set_headers 'A: b'; more_set_headers 'C: d'; } } }",
        );
        assert_eq!(f.len(), 2, "{f:?}");
        assert!(
            f[0].starts_with("unknown directive \"lua_shared_dict\":"),
            "{f:?}"
        );
        assert!(
            f[1].starts_with("unknown directive \"more_set_headers\" (used 2 times)"),
            "{f:?}"
        );
    }

    #[test]
    fn pass() {
        // a typo is NGX-VAL-001's (an error), not an unknown module's
        assert!(findings(
            "NGX-VAL-002",
            "http { server { ssl on; location / { proxy_passs http://a; } } }"
        )
        .is_empty());
    }
}
