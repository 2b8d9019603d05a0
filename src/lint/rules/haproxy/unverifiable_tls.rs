//! HAP-TLS-002 `unverifiable-tls`: see the rule doc below.

use crate::declare_rule;
use crate::lint::{LintContext, Severity};

use super::{flag, param};

declare_rule! {
    /// A TLS `server` verifies certificates with no CA to verify against, or does not verify at all.
    ///
    /// ## What it does
    /// Error when a `server … ssl` verifies the certificate (`verify
    /// required`, explicit or by default) but has no `ca-file`. Info when it
    /// has `verify none`, or the global section sets `ssl-server-verify
    /// none`.
    ///
    /// ## Why it causes 502s
    /// Verification without a CA cannot succeed: HAProxy 2.6 refuses to start
    /// ("verify is enabled by default but no CA file specified"), and a
    /// refused reload leaves stale config serving. `verify none` hides a
    /// misrouted or intercepted origin (guide step 4, TLS).
    ///
    /// ## Example
    /// ```haproxy
    /// backend api
    ///     server api 10.0.0.5:443 ssl
    /// ```
    ///
    /// ## Use instead
    /// ```haproxy
    /// backend api
    ///     server api 10.0.0.5:443 ssl verify required ca-file /etc/ssl/certs/ca-certificates.crt
    /// ```
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// - HAProxy configuration manual, server `verify` (default `required`
    ///   unless global `ssl-server-verify none`) and `ca-file`:
    ///   <https://docs.haproxy.org/2.6/configuration.html#5.2-verify>
    pub UnverifiableTls {
        id: "HAP-TLS-002",
        name: "unverifiable-tls",
        severity: Error,
        since: "0.1.0",
    }
}

fn check(ctx: &mut LintContext<'_>) {
    let model = ctx.model();
    let global_none = model
        .global
        .main
        .get("ssl-server-verify")
        .filter(|d| d.arg(0) == Some("none"));
    if let Some(d) = global_none {
        ctx.report_at(
            Severity::Info,
            d.span,
            "`ssl-server-verify none`: no server certificate is verified",
            "verify servers (`ssl-server-verify required`) and give each TLS server a `ca-file`",
        );
    }
    for u in &model.upstreams {
        for s in &u.servers {
            if flag(s, "ssl", "no-ssl") != Some(true) {
                continue;
            }
            let verify = param(s, "verify");
            match verify.map(|a| a.value.as_str()) {
                Some("none") => ctx.report_at(
                    Severity::Info,
                    verify.map_or(s.span, |a| a.span),
                    format!(
                        "TLS server {} in '{}' does not verify its certificate",
                        s.address, u.name
                    ),
                    "use `verify required ca-file <bundle>`",
                ),
                None if global_none.is_some() => {}
                _ => {
                    if param(s, "ca-file").is_none() {
                        ctx.report(
                            s.span,
                            format!("TLS server {} in '{}' verifies its certificate but has no `ca-file`: HAProxy refuses this config", s.address, u.name),
                            "add `ca-file /etc/ssl/certs/ca-certificates.crt` (or your internal CA)",
                        );
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::findings;

    #[test]
    fn fail() {
        assert_eq!(
            findings("HAP-TLS-002", "backend b\n server a 10.0.0.1:443 ssl\n"),
            ["TLS server 10.0.0.1:443 in 'b' verifies its certificate but has no `ca-file`: HAProxy refuses this config"]
        );
        assert_eq!(
            findings(
                "HAP-TLS-002",
                "backend b\n server a 10.0.0.1:443 ssl verify none\n"
            ),
            ["TLS server 10.0.0.1:443 in 'b' does not verify its certificate"]
        );
    }

    #[test]
    fn pass() {
        assert!(findings("HAP-TLS-002", "backend b\n server a 10.0.0.1:443 ssl verify required ca-file /etc/ssl/ca.pem\n server c 10.0.0.2:80\n").is_empty());
    }
}
