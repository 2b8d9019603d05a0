//! HAP-TMO-001 `missing-timeout`: see the rule doc below.

use crate::config::model::Mode;
use crate::declare_rule;
use crate::lint::LintContext;

declare_rule! {
    /// A proxy has no `timeout connect`, `timeout client` or `timeout server`, own or inherited.
    ///
    /// ## What it does
    /// After `defaults` inheritance, checks that every `frontend` and `listen`
    /// has a `timeout client`, and every `backend` and `listen` has a
    /// `timeout connect` and a `timeout server`. As HAProxy's own check, a
    /// backend without servers is skipped, and a TCP one with `timeout
    /// tunnel` needs no `timeout server`.
    ///
    /// ## Why it causes 502s
    /// A missing timeout is infinite. Hung server connections pile up until
    /// `maxconn` is reached, and the hop in front of HAProxy (CDN, load
    /// balancer) times out first and answers 502/504 itself, so the cause
    /// never shows in HAProxy's logs (guide step 4, gateway settings).
    ///
    /// ## Example
    /// ```haproxy
    /// defaults
    ///     mode http
    /// backend app
    ///     server a1 10.0.0.5:8080 check
    /// ```
    ///
    /// ## Use instead
    /// ```haproxy
    /// defaults
    ///     mode http
    ///     timeout connect 5s
    ///     timeout client 30s
    ///     timeout server 30s
    /// ```
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// - HAProxy configuration manual, `timeout connect`, `timeout client`,
    ///   `timeout server` (no default: unset means no timeout, and HAProxy
    ///   warns at startup): <https://docs.haproxy.org/2.6/configuration.html#4-timeout%20server>
    pub MissingTimeout {
        id: "HAP-TMO-001",
        name: "missing-timeout",
        severity: Warning,
        since: "0.1.0",
    }
}

fn check(ctx: &mut LintContext<'_>) {
    let model = ctx.model();
    for s in &model.servers {
        if !s.directives.has("timeout client") {
            ctx.report(
                s.span,
                format!("'{}' has no `timeout client` (own or from defaults): idle client connections are never closed", s.name),
                "set it in the `defaults` section, e.g. `timeout client 30s`",
            );
        }
    }
    for u in &model.upstreams {
        // As HAProxy's own "missing timeouts" check (src/proxy.c): a backend
        // without servers waits on nothing, and in TCP mode `timeout tunnel`
        // bounds an established connection in place of `timeout server`.
        if u.servers.is_empty() && !u.directives.has("server-template") {
            continue;
        }
        let tunnel = u.mode.value != Mode::Http && u.directives.has("timeout tunnel");
        let missing: Vec<&str> = ["timeout connect", "timeout server"]
            .into_iter()
            .filter(|k| !(u.directives.has(k) || (tunnel && *k == "timeout server")))
            .collect();
        if !missing.is_empty() {
            ctx.report(
                u.span,
                format!(
                    "'{}' has no `{}` (own or from defaults): HAProxy waits forever on a dead or hung server",
                    u.name,
                    missing.join("` or `")
                ),
                format!(
                    "set {} in the `defaults` section, e.g. {}",
                    if missing.len() == 1 { "it" } else { "them" },
                    missing
                        .iter()
                        .map(|k| format!("`{k} {}`", if *k == "timeout connect" { "5s" } else { "30s" }))
                        .collect::<Vec<_>>()
                        .join(" and ")
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::findings;

    #[test]
    fn fail() {
        let f = findings(
            "HAP-TMO-001",
            "defaults\n mode http\nfrontend f\n bind :80\n default_backend b\nbackend b\n timeout connect 5s\n server s 10.0.0.1:80\n",
        );
        assert_eq!(
            f,
            [
                "'f' has no `timeout client` (own or from defaults): idle client connections are never closed",
                "'b' has no `timeout server` (own or from defaults): HAProxy waits forever on a dead or hung server",
            ]
        );
    }

    #[test]
    fn pass() {
        assert!(findings(
            "HAP-TMO-001",
            "defaults\n timeout connect 5s\n timeout client 30s\n timeout server 30s\nfrontend f\n bind :80\n default_backend b\nbackend b\n server s 10.0.0.1:80\n",
        )
        .is_empty());
        // no server to wait on (Data Plane API fixtures); TCP with a tunnel
        // timeout (HAProxy's "missing timeouts" check, src/proxy.c)
        for src in [
            "defaults\n timeout client 30s\nbackend b\n mode http\n",
            "defaults\n timeout client 30s\n timeout connect 5s\n timeout tunnel 1h\nbackend b\n mode tcp\n server s 10.0.0.1:5432\n",
        ] {
            assert!(findings("HAP-TMO-001", src).is_empty(), "{src}");
        }
    }
}
