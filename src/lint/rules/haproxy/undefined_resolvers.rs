//! HAP-DNS-002 `undefined-resolvers`: see the rule doc below.

use crate::declare_rule;
use crate::lint::{LintContext, Severity};

use super::param;

declare_rule! {
    /// A server names a `resolvers` section that does not exist, or a `resolvers` section has no name servers.
    ///
    /// ## What it does
    /// Error when a server's `resolvers <id>` matches no `resolvers` section
    /// (other than the built-in `default`). Warning when a `resolvers`
    /// section has neither `nameserver` nor `parse-resolv-conf`.
    ///
    /// ## Why it causes 502s
    /// HAProxy refuses to start with an unknown resolvers id (a failed
    /// reload leaves the old config serving); a section without name servers
    /// never resolves anything, so servers keep stale or no addresses (guide
    /// step 3, DNS).
    ///
    /// ## Example
    /// ```haproxy
    /// resolvers dns
    ///     nameserver ns1 10.0.0.2:53
    /// backend api
    ///     server api api.internal:443 resolvers dnz
    /// ```
    ///
    /// ## Use instead
    /// ```haproxy
    /// resolvers dns
    ///     nameserver ns1 10.0.0.2:53
    /// backend api
    ///     server api api.internal:443 resolvers dns
    /// ```
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// - HAProxy configuration manual, section 5.3.2 "The resolvers section"
    ///   (a `default` section always exists), `nameserver`,
    ///   `parse-resolv-conf`: <https://docs.haproxy.org/2.6/configuration.html#5.3.2>
    /// - HAProxy 2.6 `haproxy -c`: "unable to find required resolvers" is
    ///   fatal; "has no nameservers configured!" is a warning.
    pub UndefinedResolvers {
        id: "HAP-DNS-002",
        name: "undefined-resolvers",
        severity: Error,
        since: "0.1.0",
    }
}

fn check(ctx: &mut LintContext<'_>) {
    let model = ctx.model();
    let sections = model.global.main.all("resolvers");
    let defined: Vec<&str> = sections.iter().filter_map(|d| d.arg(0)).collect();
    for u in &model.upstreams {
        for s in &u.servers {
            if let Some(id) = param(s, "resolvers") {
                if id.value != "default" && !defined.contains(&id.value.as_str()) {
                    ctx.report(
                        id.span,
                        format!("server {} in '{}' uses resolvers '{}', which is not defined", s.address, u.name, id.value),
                        match defined.first() {
                            Some(d) => format!("define `resolvers {}` or use `resolvers {d}`", id.value),
                            None => format!("add a `resolvers {}` section with `nameserver` lines or `parse-resolv-conf`", id.value),
                        },
                    );
                }
            }
        }
    }
    for d in sections {
        let has_ns = d
            .args
            .iter()
            .skip(1)
            .any(|a| a.value == "nameserver" || a.value == "parse-resolv-conf");
        if !has_ns {
            ctx.report_at(
                Severity::Warning,
                d.span,
                format!("resolvers '{}' has no `nameserver` and no `parse-resolv-conf`: it resolves nothing", d.arg(0).unwrap_or("")),
                "add `parse-resolv-conf` or `nameserver <name> <ip>:53` lines",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::findings;

    #[test]
    fn fail() {
        assert_eq!(
            findings("HAP-DNS-002", "resolvers dns\n hold valid 10s\nbackend b\n server a api.internal:80 resolvers dnz\n"),
            [
                "resolvers 'dns' has no `nameserver` and no `parse-resolv-conf`: it resolves nothing",
                "server api.internal:80 in 'b' uses resolvers 'dnz', which is not defined",
            ]
        );
    }

    #[test]
    fn pass() {
        assert!(findings("HAP-DNS-002", "resolvers dns\n nameserver a 10.0.0.2:53\nbackend b\n server a api.internal:80 resolvers dns\n server c b.internal:80 resolvers default\n").is_empty());
    }
}
