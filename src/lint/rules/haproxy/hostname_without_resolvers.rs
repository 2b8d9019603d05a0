//! HAP-DNS-001 `hostname-without-resolvers`: see the rule doc below.

use crate::config::model::Host;
use crate::declare_rule;
use crate::lint::LintContext;

declare_rule! {
    /// A `server` address is a hostname but no `resolvers` section re-resolves it.
    ///
    /// ## What it does
    /// Flags `server` lines whose address is a DNS name while neither the
    /// server nor its `default-server` names `resolvers <id>`.
    ///
    /// ## Why it causes 502s
    /// Without resolvers the name is resolved once, at startup (`init-addr
    /// last,libc`). When the origin's addresses change (a cloud load
    /// balancer, a redeployed service), HAProxy keeps sending traffic to the
    /// old IPs and every request fails (guide step 3, DNS).
    ///
    /// ## Example
    /// ```haproxy
    /// backend api
    ///     server api api.internal:443 check
    /// ```
    ///
    /// ## Use instead
    /// ```haproxy
    /// resolvers dns
    ///     parse-resolv-conf
    /// backend api
    ///     server api api.internal:443 check resolvers dns init-addr last,libc,none
    /// ```
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// - HAProxy configuration manual, server `resolvers` and `init-addr`
    ///   (default `last,libc`), section 5.3 "Server IP address resolution
    ///   using DNS": <https://docs.haproxy.org/2.6/configuration.html#5.3>
    pub HostnameWithoutResolvers {
        id: "HAP-DNS-001",
        name: "hostname-without-resolvers",
        severity: Warning,
        since: "0.1.0",
    }
}

fn check(ctx: &mut LintContext<'_>) {
    let model = ctx.model();
    for u in &model.upstreams {
        for s in &u.servers {
            if let Host::Name(name) = &s.host {
                if !s.resolve && !name.eq_ignore_ascii_case("localhost") && !s.host.is_placeholder()
                {
                    ctx.report(
                        s.span,
                        format!("server {} in '{}' is resolved only once, at startup", s.address, u.name),
                        "add `resolvers <id>` to the server (or `default-server`) and a `resolvers` section with `nameserver` or `parse-resolv-conf`",
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::findings;

    #[test]
    fn placeholder_address_is_not_judged() {
        // kubeadm's HA guide (docs/ha-considerations.md): `${HOST1_ADDRESS}`
        // is filled in by hand, "a resolvable address (DNS name, IP address)"
        assert!(findings(
            "HAP-DNS-001",
            "backend b\n mode tcp\n server ${HOST1_ID} ${HOST1_ADDRESS}:${APISERVER_SRC_PORT} check\n"
        )
        .is_empty());
    }

    #[test]
    fn fail() {
        assert_eq!(
            findings(
                "HAP-DNS-001",
                "backend b\n server a api.internal:80\n server c 10.0.0.2:80\n"
            ),
            ["server api.internal:80 in 'b' is resolved only once, at startup"]
        );
    }

    #[test]
    fn pass() {
        assert!(findings("HAP-DNS-001", "resolvers dns\n parse-resolv-conf\nbackend b\n default-server resolvers dns\n server a api.internal:80\n server l localhost:81\n").is_empty());
    }
}
