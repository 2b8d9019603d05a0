//! HAP-HLT-002 `http-check-missing`: see the rule doc below.

use crate::config::model::CheckProbe;
use crate::declare_rule;
use crate::lint::LintContext;

use super::flag;
use crate::config::model::Mode;

declare_rule! {
    /// An HTTP backend checks its servers with a bare TCP connect.
    ///
    /// ## What it does
    /// Flags a `mode http` backend whose servers have `check` but which has
    /// neither `option httpchk` nor any `http-check` rule.
    ///
    /// ## Why it causes 502s
    /// A TCP check only proves the port accepts connections. An application
    /// that accepts and then answers errors, hangs, or resets stays "UP" and
    /// keeps receiving traffic that fails with 502 (guide step 2, upstream
    /// health).
    ///
    /// ## Example
    /// ```haproxy
    /// backend app
    ///     mode http
    ///     server a1 10.0.0.5:8080 check
    /// ```
    ///
    /// ## Use instead
    /// ```haproxy
    /// backend app
    ///     mode http
    ///     option httpchk GET /healthz
    ///     server a1 10.0.0.5:8080 check
    /// ```
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// - HAProxy configuration manual, `option httpchk` (default request
    ///   `OPTIONS / HTTP/1.0`) and `http-check`:
    ///   <https://docs.haproxy.org/2.6/configuration.html#4-option%20httpchk>
    pub HttpCheckMissing {
        id: "HAP-HLT-002",
        name: "http-check-missing",
        severity: Warning,
        since: "0.1.0",
    }
}

fn check(ctx: &mut LintContext<'_>) {
    let model = ctx.model();
    for u in &model.upstreams {
        if u.mode.value != Mode::Http {
            continue;
        }
        let checked = u
            .servers
            .iter()
            .any(|s| flag(s, "check", "no-check") == Some(true));
        // What the checks send beyond a connection: lowered from `option
        // httpchk`, `http-check`, the protocol checks and `tcp-check
        // send`/`expect` (config/haproxy/lower.rs, `check_probe`).
        let connect_only = u
            .check_probe
            .as_ref()
            .is_some_and(|c| c.value == CheckProbe::Connect);
        if checked && connect_only {
            ctx.report(
                u.span,
                format!("'{}' is `mode http` but its health checks only open a TCP connection", u.name),
                "add `option httpchk GET /healthz` (a path the application answers 200 on only when it can serve)",
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
            findings(
                "HAP-HLT-002",
                "defaults\n mode http\nbackend b\n server a 10.0.0.1:80 check\n"
            ),
            ["'b' is `mode http` but its health checks only open a TCP connection"]
        );
    }

    #[test]
    fn pass() {
        assert!(findings("HAP-HLT-002", "defaults\n mode http\n option httpchk GET /healthz\nbackend b\n server a 10.0.0.1:80 check\n").is_empty());
        assert!(findings(
            "HAP-HLT-002",
            "backend b\n mode tcp\n server a 10.0.0.1:80 check\n"
        )
        .is_empty());
        assert!(findings(
            "HAP-HLT-002",
            "backend b\n mode http\n server a 10.0.0.1:80\n"
        )
        .is_empty());
        // issue 8: an HTTP request and expect written as tcp-check rules
        assert!(findings(
            "HAP-HLT-002",
            "backend b\n mode http\n option tcp-check\n tcp-check connect\n tcp-check send GET\\ /health\\ HTTP/1.0\\r\\n\\r\\n\n tcp-check expect rstring ^HTTP/1\\.[01]\\ 200\n server a 10.0.0.1:80 check\n"
        )
        .is_empty());
    }
}
