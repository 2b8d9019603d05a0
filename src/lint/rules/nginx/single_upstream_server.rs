//! NGX-HLT-001 `single-upstream-server`: see the rule doc below.

use crate::config::model::{Host, Target};
use crate::declare_rule;
use crate::lint::{LintContext, Severity};

use super::proxied;

declare_rule! {
    /// An upstream (or a `proxy_pass` address) has a single server and no backup.
    ///
    /// ## What it does
    /// Flags an `upstream` with exactly one non-backup server and no `backup`
    /// server (unix sockets and servers re-resolved with `resolve`/`service=`
    /// excepted), and a `proxy_pass` straight to one IP address. Loopback
    /// targets are reported as info: they are usually a sidecar on purpose.
    ///
    /// ## Why it causes 502s
    /// With one server there is nothing to fail over to: every restart,
    /// deploy or crash of that server is a burst of 502s (guide step 2).
    ///
    /// ## Example
    /// ```nginx
    /// upstream app { server 10.0.0.5:8080; }
    /// ```
    ///
    /// ## Use instead
    /// ```nginx
    /// upstream app {
    ///     server 10.0.0.5:8080;
    ///     server 10.0.0.6:8080;
    /// }
    /// ```
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// - nginx `upstream` / `server` (`backup`):
    ///   <https://nginx.org/en/docs/http/ngx_http_upstream_module.html#server>
    pub SingleUpstreamServer {
        id: "NGX-HLT-001",
        name: "single-upstream-server",
        severity: Warning,
        since: "0.1.0",
    }
}

fn check(ctx: &mut LintContext<'_>) {
    let m = ctx.model();
    for u in &m.upstreams {
        let primary: Vec<_> = u.servers.iter().filter(|s| !s.backup).collect();
        let backups = u.servers.iter().filter(|s| s.backup).count();
        if primary.len() != 1 || backups > 0 {
            continue;
        }
        let s = primary[0];
        if matches!(s.host, Host::Unix(_)) || s.resolve {
            continue;
        }
        let sev = if s.host.is_loopback() {
            Severity::Info
        } else {
            Severity::Warning
        };
        ctx.report_at(
            sev,
            u.span,
            format!(
                "upstream `{}` has a single server ({}) and no backup",
                u.name, s.address
            ),
            "add a second server or a `backup` server so failures can fail over",
        );
    }
    for (_, _, p, _) in proxied(m) {
        if let Target::Address(h @ Host::Ip(_)) = &p.target {
            let sev = if h.is_loopback() {
                Severity::Info
            } else {
                Severity::Warning
            };
            ctx.report_at(
                sev,
                p.span,
                format!(
                    "proxy_pass to the single address {}: no failover target",
                    p.host
                ),
                "proxy to an `upstream` group with two servers (or a backup)",
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
            "NGX-HLT-001",
            "http { upstream a { server 10.0.0.5:8080; } }",
        );
        assert_eq!(
            f,
            ["upstream `a` has a single server (10.0.0.5:8080) and no backup"]
        );
        let f = findings(
            "NGX-HLT-001",
            "http { server { location / { proxy_pass http://10.0.0.5:80; } } }",
        );
        assert_eq!(f.len(), 1);
    }

    #[test]
    fn pass() {
        assert!(findings(
            "NGX-HLT-001",
            "http { upstream a { server 10.0.0.5; server 10.0.0.6 backup; } }"
        )
        .is_empty());
        assert!(findings(
            "NGX-HLT-001",
            "http { upstream a { server unix:/run/app.sock; } }"
        )
        .is_empty());
    }
}
