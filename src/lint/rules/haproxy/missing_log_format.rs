//! HAP-LOG-001 `missing-log-format`: see the rule doc below.

use crate::declare_rule;
use crate::lint::LintContext;

use crate::config::model::{Mode, ProxyModel, Server, Target};

declare_rule! {
    /// An HTTP frontend logs nowhere, or logs without `option httplog` / `log-format`.
    ///
    /// ## What it does
    /// For every `mode http` frontend and listen, checks (after `defaults`
    /// inheritance) that there is a `log` target and that the format is
    /// `option httplog`, `option httpslog` or a `log-format`. A section that
    /// says `no log`, has no `bind`, or reaches no server (a stats page,
    /// `monitor-uri`) is left alone.
    ///
    /// ## Why it causes 502s
    /// HAProxy's default log line carries only addresses and the proxy
    /// name: no status, no timers, no termination state. Those are what tell
    /// whether a 502 came from HAProxy (`SH--`, `PH--`) or from the server
    /// (guide steps 1 and 6, logging).
    ///
    /// ## Example
    /// ```haproxy
    /// frontend web
    ///     mode http
    ///     bind :80
    ///     default_backend app
    /// backend app
    ///     mode http
    ///     server a1 10.0.0.1:8080 check
    /// ```
    ///
    /// ## Use instead
    /// ```haproxy
    /// defaults
    ///     mode http
    ///     log global
    ///     option httplog
    /// ```
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// - HAProxy configuration manual, `log`, `option httplog`, and section
    ///   8.2 "Log formats": <https://docs.haproxy.org/2.6/configuration.html#8.2>
    pub MissingLogFormat {
        id: "HAP-LOG-001",
        name: "missing-log-format",
        severity: Warning,
        since: "0.1.0",
    }
}

fn check(ctx: &mut LintContext<'_>) {
    let model = ctx.model();
    for s in &model.servers {
        if s.mode.value != Mode::Http {
            continue;
        }
        let log = &s.access_log;
        // An explicit `no log` (health-check and stats frontends) is a
        // choice, not an omission.
        if log.off.value && !log.off.defaulted {
            continue;
        }
        // A frontend without `bind` receives nothing (HAProxy warns "has no
        // 'bind' directive", src/proxy.c): its `bind` lines come from
        // elsewhere (an ingress controller, the Data Plane API). And a
        // section that reaches no server (a stats page, `monitor-uri`, a
        // placeholder frontend of HAProxy's tests/conf) cannot produce a 502
        // to log.
        if !s.directives.has("bind") || !reaches_servers(model, s) {
            continue;
        }
        if log.off.value {
            let global = s
                .directives
                .all("log")
                .iter()
                .any(|d| d.arg(0) == Some("global"));
            ctx.report(
                s.span,
                if global {
                    format!(
                        "'{}' logs to `log global`, but `global` has no `log` line: its requests, and its 502s, are not logged",
                        s.name
                    )
                } else {
                    format!(
                        "'{}' has no `log` target: its requests, and its 502s, are not logged",
                        s.name
                    )
                },
                "add `log global` (with a `log` line in `global`) and `option httplog`",
            );
        } else if log.formats.iter().all(|f| f.defaulted) {
            ctx.report(
                s.span,
                format!(
                    "'{}' logs in HAProxy's default format: no status, timers or termination state",
                    s.name
                ),
                "add `option httplog` (or a `log-format` with %ST %Tr %tsc %s)",
            );
        }
    }
}

/// True when some route of `s` reaches a backend with servers.
fn reaches_servers(m: &ProxyModel, s: &Server) -> bool {
    s.routes
        .iter()
        .any(|r| match r.proxy.as_ref().map(|p| &p.target) {
            Some(Target::Pool(name)) => m.upstreams.iter().any(|u| {
                &u.name == name && (!u.servers.is_empty() || u.directives.has("server-template"))
            }),
            Some(Target::Dynamic) => true,
            _ => false,
        })
}

#[cfg(test)]
mod tests {
    use super::super::test_util::findings;

    #[test]
    fn fail() {
        assert_eq!(
            findings(
                "HAP-LOG-001",
                "frontend f\n mode http\n bind :80\n default_backend b\nbackend b\n server a 10.0.0.1:80\n"
            ),
            ["'f' has no `log` target: its requests, and its 502s, are not logged"]
        );
        assert_eq!(
            findings(
                "HAP-LOG-001",
                "global\n log stdout local0\ndefaults\n mode http\n log global\nfrontend f\n bind :80\n default_backend b\nbackend b\n server a 10.0.0.1:80\n"
            ),
            ["'f' logs in HAProxy's default format: no status, timers or termination state"]
        );
        // Patroni's haproxy.cfg: `log global` with no `log` in `global`
        assert_eq!(
            findings(
                "HAP-LOG-001",
                "global\n maxconn 100\ndefaults\n mode http\n log global\nlisten web\n bind :80\n server a 10.0.0.1:80\n"
            ),
            ["'web' logs to `log global`, but `global` has no `log` line: its requests, and its 502s, are not logged"]
        );
    }

    #[test]
    fn pass() {
        assert!(findings(
            "HAP-LOG-001",
            "defaults\n mode http\n log global\n option httplog\nfrontend f\n bind :80\n"
        )
        .is_empty());
        assert!(findings("HAP-LOG-001", "frontend f\n mode tcp\n bind :80\n").is_empty());
        // issue 8: an explicit `no log` on a health/stats frontend
        assert!(findings(
            "HAP-LOG-001",
            "defaults\n mode http\n log global\nfrontend health\n bind :81\n monitor-uri /healthz\n no log\n"
        )
        .is_empty());
        // the kubernetes-ingress base config: frontends get their `bind`
        // lines from the controller at run time
        assert!(findings(
            "HAP-LOG-001",
            "defaults d\n timeout client 5s\nfrontend https from d\n mode http\n use_backend %[var(txn.b)]\n"
        )
        .is_empty());
        // Patroni's stats page: serves itself, proxies nothing
        assert!(findings(
            "HAP-LOG-001",
            "global\n maxconn 100\ndefaults\n log global\nlisten stats\n mode http\n bind *:7000\n stats enable\n stats uri /\n"
        )
        .is_empty());
        // HAProxy's tests/conf/basic-check.cfg: a frontend with no backend
        assert!(findings(
            "HAP-LOG-001",
            "frontend dummy\n mode http\n bind :9000-9004\n"
        )
        .is_empty());
    }
}
