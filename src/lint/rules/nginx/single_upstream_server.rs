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
    /// excepted), and a `proxy_pass` straight to one IP address. Since 0.2
    /// the same id also covers `fastcgi_pass`, `uwsgi_pass`, `scgi_pass`
    /// and `grpc_pass` straight to one IP address: nginx documents their
    /// address the same way as `proxy_pass`'s (one address, or a server
    /// group), so a single one has nowhere to fail over to either. Loopback
    /// targets are reported as info: they are usually a sidecar (a local
    /// PHP-FPM) on purpose.
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
    /// - `fastcgi_pass` ("the address can be specified as a domain name or
    ///   IP address … or as a server group"):
    ///   <https://nginx.org/en/docs/http/ngx_http_fastcgi_module.html#fastcgi_pass>
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
    for (_, r) in m.routes() {
        let Some(mp) = &r.module_pass else { continue };
        if let Target::Address(h @ Host::Ip(_)) = &mp.target.target {
            let sev = if h.is_loopback() {
                Severity::Info
            } else {
                Severity::Warning
            };
            ctx.report_at(
                sev,
                mp.target.span,
                format!(
                    "{}_pass to the single address {}: no failover target",
                    mp.module.prefix(),
                    mp.target.host
                ),
                "pass to an `upstream` group with two servers (or a backup)",
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

    /// The `*_pass` twins of `proxy_pass` to one address: trigger and the
    /// same location sent to a two-server group instead.
    #[test]
    fn module_passes() {
        for (pass, target) in [
            ("fastcgi_pass", "10.0.0.5:9000"),
            ("uwsgi_pass", "10.0.0.5:3031"),
            ("scgi_pass", "10.0.0.5:4000"),
            ("grpc_pass", "grpc://10.0.0.5:50051"),
        ] {
            let bad = format!("http {{ server {{ location / {{ {pass} {target}; }} }} }}");
            let f = findings("NGX-HLT-001", &bad);
            assert_eq!(f.len(), 1, "{bad}");
            assert!(
                f[0].starts_with(&format!("{pass} to the single address 10.0.0.5")),
                "{f:?}"
            );
            let good = format!(
                "http {{ upstream g {{ server 10.0.0.5:9000; server 10.0.0.6:9000; }}
                   server {{ location / {{ {pass} {}g; }} }} }}",
                if pass == "grpc_pass" { "grpc://" } else { "" }
            );
            assert!(findings("NGX-HLT-001", &good).is_empty(), "{good}");
        }
        // a unix socket or a name is not one IP address
        assert!(findings(
            "NGX-HLT-001",
            "http { server { location / { fastcgi_pass unix:/run/php/fpm.sock; } } }"
        )
        .is_empty());
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
