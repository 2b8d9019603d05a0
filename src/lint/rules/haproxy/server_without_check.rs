//! HAP-HLT-001 `server-without-check`: see the rule doc below.

use crate::config::model::{Endpoint, Host, ProxyModel};
use crate::declare_rule;
use crate::lint::LintContext;

use super::flag;

declare_rule! {
    /// A `server` has no `check`, after `default-server` is applied.
    ///
    /// ## What it does
    /// Flags every `server` line whose effective parameters (inherited and
    /// own `default-server`, then its own) do not enable health checks.
    /// A server that is this HAProxy's own `bind` (a `unix@` socket or a
    /// loopback port one of its frontends listens on: haproxy-ingress's
    /// SSL-passthrough chaining) is not a backend that can die on its own
    /// and is not flagged.
    ///
    /// ## Why it causes 502s
    /// Without active checks HAProxy only learns that a server is dead when
    /// real requests fail on it: it stays in rotation and keeps producing
    /// 502/503 (guide step 2, upstream health).
    ///
    /// ## Example
    /// ```haproxy
    /// backend app
    ///     server a1 10.0.0.5:8080
    /// ```
    ///
    /// ## Use instead
    /// ```haproxy
    /// backend app
    ///     default-server check
    ///     server a1 10.0.0.5:8080
    /// ```
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// - HAProxy configuration manual, server `check` (checks are off unless
    ///   set): <https://docs.haproxy.org/2.6/configuration.html#5.2-check>
    pub ServerWithoutCheck {
        id: "HAP-HLT-001",
        name: "server-without-check",
        severity: Warning,
        since: "0.1.0",
    }
}

/// True when `server` is an address one of this config's own `bind`s
/// listens on: the same `unix@` socket, or a loopback address and port.
fn own_bind(model: &ProxyModel, server: &Endpoint) -> bool {
    let listens = model.servers.iter().flat_map(|f| &f.listen);
    match &server.host {
        Host::Unix(path) => listens
            .clone()
            .any(|l| matches!(&l.host, Some(Host::Unix(p)) if p == path)),
        h if h.is_loopback() => listens
            .into_iter()
            .any(|l| match l.reached_by(&server.address) {
                Some(true) => true,
                // a bind on every address reaches the loopback one too
                Some(false) => l.host.is_none(),
                None => false,
            }),
        _ => false,
    }
}

fn check(ctx: &mut LintContext<'_>) {
    let model = ctx.model();
    for u in &model.upstreams {
        for s in &u.servers {
            if own_bind(model, s) {
                continue;
            }
            // Address "0.0.0.0" or "*" forwards to the client's original
            // destination (manual, `server` <address>): no fixed host to check.
            let to_original_destination = matches!(s.host, Host::Ip(ref ip) if ip == "0.0.0.0" || ip == "::")
                || s.address.starts_with('*');
            if flag(s, "check", "no-check") != Some(true) && !to_original_destination {
                ctx.report(
                    s.span,
                    format!("server {} in '{}' has no health check", s.address, u.name),
                    "add `check` to the server, or `default-server check` to the backend or defaults",
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    /// haproxy-ingress's SSL passthrough: a `mode tcp` frontend sends TLS
    /// it terminates itself to its own https frontend over a unix socket.
    #[test]
    fn servers_that_are_this_haproxys_own_binds() {
        let own = "frontend tls\n mode tcp\n bind :443\n default_backend loop\n\
                   backend loop\n mode tcp\n server s unix@/run/haproxy/https.sock\n server l 127.0.0.1:8443\n\
                   frontend https\n bind unix@/run/haproxy/https.sock\n bind :8443 ssl crt /c.pem\n default_backend app\n\
                   backend app\n server a 10.0.0.1:80 check\n";
        assert!(super::super::test_util::findings("HAP-HLT-001", own).is_empty());
        // another socket, or a loopback port no frontend binds: a server
        let other = own
            .replace(
                "server s unix@/run/haproxy/https.sock",
                "server s unix@/run/app.sock",
            )
            .replace("server l 127.0.0.1:8443", "server l 127.0.0.1:9443");
        assert_eq!(
            super::super::test_util::findings("HAP-HLT-001", &other),
            [
                "server unix@/run/app.sock in 'loop' has no health check",
                "server 127.0.0.1:9443 in 'loop' has no health check"
            ]
        );
    }

    #[test]
    fn original_destination_servers_have_nothing_to_check() {
        // issue 8 corpus: HAProxy's examples/option-http_proxy.cfg
        assert!(super::super::test_util::findings(
            "HAP-HLT-001",
            "backend b\n option http_proxy\n server next-hop 0.0.0.0\n"
        )
        .is_empty());
    }

    use super::super::test_util::findings;

    #[test]
    fn fail() {
        assert_eq!(
            findings(
                "HAP-HLT-001",
                "defaults\n default-server check\nbackend b\n server a 10.0.0.1:80 no-check\n"
            ),
            ["server 10.0.0.1:80 in 'b' has no health check"]
        );
    }

    #[test]
    fn pass() {
        assert!(findings(
            "HAP-HLT-001",
            "defaults\n default-server check\nbackend b\n server a 10.0.0.1:80\n"
        )
        .is_empty());
        assert!(findings("HAP-HLT-001", "backend b\n server a 10.0.0.1:80 check\n").is_empty());
    }
}
