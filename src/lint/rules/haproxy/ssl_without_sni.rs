//! HAP-TLS-001 `ssl-without-sni`: see the rule doc below.

use crate::config::model::Host;
use crate::config::Version;
use crate::declare_rule;
use crate::lint::LintContext;

use super::{flag, haproxy_version, param};

declare_rule! {
    /// A TLS `server` to a hostname sends no SNI (and its TLS health checks none either).
    ///
    /// ## What it does
    /// Flags `server … ssl` lines whose address is a hostname and that have
    /// no `sni` expression; also `check-ssl`/`ssl` checks without
    /// `check-sni`. With `haproxy_version` ≥ 3.5 (whose `sni-auto` default
    /// sends the host name) only servers with `no-sni-auto` are flagged.
    ///
    /// ## Why it causes 502s
    /// Origins behind CDNs, ingress controllers and shared hosting pick the
    /// certificate and the site by SNI. Without it the handshake fails or
    /// the wrong backend answers, and HAProxy returns 502/503 (guide step 4,
    /// TLS to upstream).
    ///
    /// ## Example
    /// ```haproxy
    /// backend api
    ///     server api api.example.com:443 ssl verify required ca-file /etc/ssl/certs/ca-certificates.crt
    /// ```
    ///
    /// ## Use instead
    /// ```haproxy
    /// backend api
    ///     server api api.example.com:443 ssl verify required ca-file /etc/ssl/certs/ca-certificates.crt sni str(api.example.com)
    /// ```
    ///
    /// ## Options
    /// None (reads `haproxy_version` from the settings).
    ///
    /// ## References
    /// - HAProxy configuration manual, server `sni` and `check-sni`:
    ///   <https://docs.haproxy.org/2.6/configuration.html#5.2-sni>
    /// - `sni-auto` is described as the default in the 3.5-dev manual; the
    ///   first release with it is not confirmed, so without
    ///   `haproxy_version` the older behaviour (no SNI unless set) is
    ///   assumed.
    pub SslWithoutSni {
        id: "HAP-TLS-001",
        name: "ssl-without-sni",
        severity: Warning,
        since: "0.1.0",
    }
}

fn check(ctx: &mut LintContext<'_>) {
    let auto = haproxy_version(ctx).is_some_and(|v| v >= Version(3, 5, 0));
    let model = ctx.model();
    for u in &model.upstreams {
        for s in &u.servers {
            let Host::Name(host) = &s.host else {
                continue;
            };
            if flag(s, "ssl", "no-ssl") != Some(true) {
                continue;
            }
            let no_auto = s.params.iter().any(|a| a.value == "no-sni-auto");
            if auto && !no_auto {
                continue;
            }
            if param(s, "sni").is_none() {
                ctx.report(
                    s.span,
                    format!("TLS server {} in '{}' sends no SNI", s.address, u.name),
                    format!(
                        "add `sni str({host})` (or `sni req.hdr(host)` to pass the client's host)"
                    ),
                );
            } else if flag(s, "check", "no-check") == Some(true) && param(s, "check-sni").is_none()
            {
                ctx.report(
                    s.span,
                    format!(
                        "TLS health checks of {} in '{}' send no SNI",
                        s.address, u.name
                    ),
                    format!("add `check-sni {host}`"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{findings, findings_with};
    use crate::lint::Settings;

    #[test]
    fn fail() {
        assert_eq!(
            findings(
                "HAP-TLS-001",
                "backend b\n server a api.example.com:443 ssl verify none\n"
            ),
            ["TLS server api.example.com:443 in 'b' sends no SNI"]
        );
        assert_eq!(
            findings("HAP-TLS-001", "backend b\n server a api.example.com:443 ssl verify none sni str(api.example.com) check\n"),
            ["TLS health checks of api.example.com:443 in 'b' send no SNI"]
        );
    }

    #[test]
    fn pass() {
        assert!(findings("HAP-TLS-001", "backend b\n server a api.example.com:443 ssl verify none sni str(api.example.com) check check-sni api.example.com\n").is_empty());
        assert!(findings(
            "HAP-TLS-001",
            "backend b\n server a 10.0.0.1:443 ssl verify none\n"
        )
        .is_empty());
        let new = Settings {
            haproxy_version: Some(crate::config::Version(3, 5, 0)),
            ..Settings::default()
        };
        assert!(findings_with(
            "HAP-TLS-001",
            "backend b\n server a api.example.com:443 ssl verify none\n",
            &new
        )
        .is_empty());
    }
}
