//! ENV-LOG-001 `missing-access-log`: see the rule doc below.

use crate::declare_rule;
use crate::lint::LintContext;

declare_rule! {
    /// An HTTP connection manager has no access log, or logs without response flags, upstream host, status or request id.
    ///
    /// ## What it does
    /// Flags listeners whose HTTP connection manager has no `access_log`,
    /// and access logs whose format lacks any of `%RESPONSE_FLAGS%`,
    /// `%UPSTREAM_HOST%`, `%RESPONSE_CODE%` or `%REQ(X-REQUEST-ID)%`
    /// (Envoy's default format has them all).
    ///
    /// A listener whose every route is a `direct_response` or `redirect`
    /// reaches no cluster and is left alone.
    ///
    /// ## Why it causes 502s
    /// Response flags (`UF`, `UH`, `UT`, `UC`, `URX`…) and the upstream
    /// host are the main clue to where a 502/503 came from: without them a
    /// gateway error cannot be told apart from one the application returned
    /// (guide steps 1 and 6).
    ///
    /// ## Example
    /// ```yaml
    /// # in the http_connection_manager
    /// access_log:
    /// - name: envoy.access_loggers.stdout
    ///   typed_config:
    ///     "@type": type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog
    ///     log_format:
    ///       text_format_source:
    ///         inline_string: "%START_TIME% %RESPONSE_CODE%\n"
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// # in the http_connection_manager
    /// access_log:
    /// - name: envoy.access_loggers.stdout
    ///   typed_config:
    ///     "@type": type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog
    ///     log_format:
    ///       text_format_source:
    ///         inline_string: "%START_TIME% %RESPONSE_CODE% %RESPONSE_FLAGS% %UPSTREAM_HOST% %REQ(X-REQUEST-ID)%\n"
    /// ```
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// - Envoy API, HCM `access_log` (none by default), and the access log
    ///   command operators and "Default format string":
    ///   <https://www.envoyproxy.io/docs/envoy/latest/configuration/observability/access_log/usage>
    pub MissingAccessLog {
        id: "ENV-LOG-001",
        name: "missing-access-log",
        severity: Warning,
        since: "0.1.0",
    }
}

const NEEDED: &[&str] = &[
    "%RESPONSE_FLAGS%",
    "%UPSTREAM_HOST%",
    "%RESPONSE_CODE%",
    "%REQ(X-REQUEST-ID)%",
];

fn check(ctx: &mut LintContext<'_>) {
    let model = ctx.model();
    for s in &model.servers {
        if !s.directives.has("http_connection_manager") {
            // Not an HTTP listener.
            continue;
        }
        // A listener whose every route answers itself (`direct_response`,
        // `redirect`) reaches no upstream: no 502/503 of a cluster to log
        // (envoyproxy/ratelimit's examples/envoy/mock.yaml).
        if !s.routes.is_empty() && s.routes.iter().all(|r| r.proxy.is_none()) {
            continue;
        }
        let log = &s.access_log;
        if log.off.value {
            ctx.report(
                s.span,
                format!("listener '{}' has no access log: 502/503 causes (response flags, upstream host) are not recorded", s.name),
                "add an `access_log` (e.g. StdoutAccessLog, which uses Envoy's default format)",
            );
            continue;
        }
        for f in &log.formats {
            if f.value.is_empty() {
                continue;
            }
            let upper = f.value.to_ascii_uppercase();
            let missing: Vec<&str> = NEEDED
                .iter()
                .copied()
                .filter(|op| !upper.contains(op))
                .collect();
            if !missing.is_empty() {
                ctx.report(
                    f.span,
                    format!("access log format of '{}' lacks {}", s.name, missing.join(" ")),
                    "add them to the format (or drop `log_format` to use Envoy's default, which has them)",
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{boot, cluster, findings, ROUTE};

    fn log(format: &str) -> String {
        format!("          access_log:\n          - name: envoy.access_loggers.stdout\n            typed_config:\n              \"@type\": type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog\n{format}")
    }

    #[test]
    fn fail() {
        assert_eq!(
            findings("ENV-LOG-001", &boot("", ROUTE, &cluster("app", 1, ""))),
            ["listener 'ingress' has no access log: 502/503 causes (response flags, upstream host) are not recorded"]
        );
        let f = log("              log_format: { text_format_source: { inline_string: \"%START_TIME% %RESPONSE_CODE%\\n\" } }\n");
        assert_eq!(
            findings("ENV-LOG-001", &boot(&f, ROUTE, &cluster("app", 1, ""))),
            ["access log format of 'ingress' lacks %RESPONSE_FLAGS% %UPSTREAM_HOST% %REQ(X-REQUEST-ID)%"]
        );
    }

    #[test]
    fn pass() {
        assert!(findings(
            "ENV-LOG-001",
            &boot(&log(""), ROUTE, &cluster("app", 1, ""))
        )
        .is_empty());
        let j = log("              log_format: { json_format: { code: \"%RESPONSE_CODE%\", flags: \"%RESPONSE_FLAGS%\", up: \"%UPSTREAM_HOST%\", id: \"%REQ(X-REQUEST-ID)%\" } }\n");
        assert!(findings("ENV-LOG-001", &boot(&j, ROUTE, &cluster("app", 1, ""))).is_empty());
        // envoyproxy/ratelimit's mock.yaml: every route answers itself
        let direct = "              - match: { prefix: / }\n                direct_response: { status: 200 }\n";
        assert!(findings("ENV-LOG-001", &boot("", direct, &cluster("app", 1, ""))).is_empty());
    }
}
