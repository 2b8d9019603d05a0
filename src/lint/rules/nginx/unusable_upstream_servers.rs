//! NGX-HLT-003 `unusable-upstream-servers`: see the rule doc below.

use crate::config::model::Mode;
use crate::declare_rule;
use crate::lint::LintContext;

use super::stream_upstreams;

declare_rule! {
    /// An upstream's servers (`http {}` or `stream {}`) cannot be used: `backup` with a hash method, or every server `down`.
    ///
    /// ## What it does
    /// Flags (a) a `backup` server in an `upstream` that balances with `hash`,
    /// `ip_hash` or `random`, and (b) an `upstream` whose servers are all
    /// marked `down`; in `http {}` and `stream {}` upstreams alike.
    ///
    /// ## Why it causes 502s
    /// (a) nginx rejects `backup` with these methods ("balancing method does
    /// not support parameter backup") when the method comes first, and
    /// ignores the intent otherwise; (b) with every server down, each request
    /// fails with 502 (guide step 2).
    ///
    /// ## Example
    /// ```nginx
    /// upstream app {
    ///     ip_hash;
    ///     server 10.0.0.1:8080;
    ///     server 10.0.0.2:8080 backup;
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```nginx
    /// upstream app {
    ///     ip_hash;
    ///     server 10.0.0.1:8080;
    ///     server 10.0.0.2:8080;
    /// }
    /// ```
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// - nginx `server` parameter `backup` ("cannot be used along with the
    ///   hash, ip_hash, and random load balancing methods"):
    ///   <https://nginx.org/en/docs/http/ngx_http_upstream_module.html#server>
    pub UnusableUpstreamServers {
        id: "NGX-HLT-003",
        name: "unusable-upstream-servers",
        severity: Error,
        since: "0.1.0",
    }
}

fn check(ctx: &mut LintContext<'_>) {
    let m = ctx.model();
    for u in m.upstreams.iter().chain(stream_upstreams(m)) {
        let method = &u.balance.value;
        if method.is_hash_or_random() {
            for s in u.servers.iter().filter(|s| s.backup) {
                ctx.report(
                    s.span,
                    format!(
                        "`backup` server {} in upstream `{}` that balances with {method}",
                        s.address, u.name
                    ),
                    format!("drop `backup`, or drop `{method}` to keep a backup server"),
                );
            }
        }
        if !u.servers.is_empty() && u.servers.iter().all(|s| s.down) {
            ctx.report(
                u.span,
                format!(
                    "every server of upstream `{}` is marked down: {}",
                    u.name,
                    if u.mode.value == Mode::Tcp {
                        "every connection is closed at once"
                    } else {
                        "every request gets 502"
                    }
                ),
                "bring at least one server back (remove `down`)",
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
            "NGX-HLT-003",
            "http { upstream a { ip_hash; server 10.0.0.1; server 10.0.0.2 backup; } }",
        );
        assert_eq!(f.len(), 1);
        let f = findings(
            "NGX-HLT-003",
            "http { upstream a { server 10.0.0.1 down; } }",
        );
        assert_eq!(f.len(), 1);
    }

    #[test]
    fn pass() {
        assert!(findings(
            "NGX-HLT-003",
            "http { upstream a { server 10.0.0.1; server 10.0.0.2 backup; } }"
        )
        .is_empty());
    }
}
