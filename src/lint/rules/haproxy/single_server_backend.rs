//! HAP-HLT-004 `single-server-backend`: see the rule doc below.

use crate::declare_rule;
use crate::lint::LintContext;

use super::primaries;

declare_rule! {
    /// A backend with a single server and no backup (pedantic).
    ///
    /// ## What it does
    /// Flags a backend (or `listen`) whose only server is not backed by a
    /// second server or a `backup`. Off by default (`--select pedantic`): most
    /// deployments run one instance on purpose.
    ///
    /// ## Why it causes 502s
    /// When that server is down or restarting, HAProxy has nothing to fail
    /// over to and answers 503 until it is back (guide step 2).
    ///
    /// ## Example
    /// ```haproxy
    /// backend app
    ///     server a1 10.0.0.5:8080 check
    /// ```
    ///
    /// ## Use instead
    /// ```haproxy
    /// backend app
    ///     server a1 10.0.0.5:8080 check
    ///     server a2 10.0.0.6:8080 check backup
    /// ```
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// - HAProxy configuration manual, server `backup`:
    ///   <https://docs.haproxy.org/2.6/configuration.html#5.2-backup>
    pub SingleServerBackend {
        id: "HAP-HLT-004",
        name: "single-server-backend",
        severity: Info,
        since: "0.1.0",
        default: off,
    }
}

fn check(ctx: &mut LintContext<'_>) {
    let model = ctx.model();
    for u in &model.upstreams {
        if primaries(u).count() == 1 && u.servers.len() == 1 {
            ctx.report(
                u.servers[0].span,
                format!(
                    "'{}' has a single server and no backup: while it is down, requests get 503",
                    u.name
                ),
                "add a second server or a `backup` server",
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
            findings("HAP-HLT-004", "backend b\n server a 10.0.0.1:80 check\n"),
            ["'b' has a single server and no backup: while it is down, requests get 503"]
        );
    }

    #[test]
    fn pass() {
        assert!(findings(
            "HAP-HLT-004",
            "backend b\n server a 10.0.0.1:80 check\n server c 10.0.0.2:80 check backup\n"
        )
        .is_empty());
    }
}
