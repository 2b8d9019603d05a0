//! ENV-BUF-001 `unmatched-header-limits`: see the rule doc below.

use crate::config::envoy::lower::DEFAULT_MAX_REQUEST_HEADERS_KB;
use crate::config::model::Target;
use crate::declare_rule;
use crate::lint::LintContext;

declare_rule! {
    /// Request headers may be larger than upstream response headers may be, or `max_response_headers_kb` is set where it is ignored.
    ///
    /// ## What it does
    /// (a) Flags an HTTP connection manager with `max_request_headers_kb`
    /// above the default 60 whose routes go to clusters that keep the default
    /// `max_response_headers_kb`. (b) Flags `max_response_headers_kb` set in
    /// the HCM's `common_http_protocol_options`, where it is not honoured.
    ///
    /// ## Why it causes 502s
    /// Apps that receive big cookies or tokens tend to send big headers back
    /// (`Set-Cookie`, tokens). A response whose headers exceed the cluster's
    /// limit is rejected and the client gets a gateway error instead (guide
    /// step 4, buffer sizes).
    ///
    /// ## Example
    /// ```yaml
    /// # in the http_connection_manager
    /// max_request_headers_kb: 96
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// # in the http_connection_manager
    /// max_request_headers_kb: 96
    /// ```
    /// ```yaml
    /// # in a cluster
    /// connect_timeout: 1s
    /// typed_extension_protocol_options:
    ///   envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
    ///     "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
    ///     common_http_protocol_options: { max_response_headers_kb: 96 }
    ///     explicit_http_config: { http_protocol_options: {} }
    /// ```
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// - Envoy API, HCM `max_request_headers_kb` (default 60, max 8192):
    ///   <https://www.envoyproxy.io/docs/envoy/latest/api-v3/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto>
    /// - `config.core.v3.HttpProtocolOptions.max_response_headers_kb`
    ///   (default 60 KiB; for upstream connections only).
    pub UnmatchedHeaderLimits {
        id: "ENV-BUF-001",
        name: "unmatched-header-limits",
        severity: Warning,
        since: "0.1.0",
    }
}

fn check(ctx: &mut LintContext<'_>) {
    let model = ctx.model();
    for s in &model.servers {
        if let Some(d) = s
            .directives
            .get("common_http_protocol_options.max_response_headers_kb")
        {
            ctx.report(
                d.span,
                format!("max_response_headers_kb {} on the connection manager is not applied to upstream responses", d.arg(0).unwrap_or("")),
                "set it in each cluster's `typed_extension_protocol_options` HttpProtocolOptions instead",
            );
        }
        let Some(req) = s.directives.get("max_request_headers_kb") else {
            continue;
        };
        let kb = req
            .count(0)
            .map_or(DEFAULT_MAX_REQUEST_HEADERS_KB, |n| n.value);
        if kb <= 60 {
            continue;
        }
        let mut named = Vec::new();
        for r in &s.routes {
            if let Some(Target::Pool(c)) = r.proxy.as_ref().map(|p| &p.target) {
                if let Some(u) = model.upstream(c) {
                    if !u.directives.has("max_response_headers_kb") && !named.contains(&c.as_str())
                    {
                        named.push(c.as_str());
                    }
                }
            }
        }
        if !named.is_empty() {
            ctx.report(
                req.span,
                format!("requests may carry {kb} KiB of headers but cluster(s) {} accept only the default 60 KiB of response headers", named.join(", ")),
                format!("set `max_response_headers_kb: {kb}` in those clusters' HttpProtocolOptions"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{boot, cluster, findings, ROUTE};

    const OPTS: &str = "    typed_extension_protocol_options:\n      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:\n        \"@type\": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions\n        common_http_protocol_options: { max_response_headers_kb: 96 }\n";

    #[test]
    fn fail() {
        let y = boot("          max_request_headers_kb: 96\n          common_http_protocol_options: { max_response_headers_kb: 96 }\n", ROUTE, &cluster("app", 1, ""));
        assert_eq!(
            findings("ENV-BUF-001", &y),
            [
                "requests may carry 96 KiB of headers but cluster(s) app accept only the default 60 KiB of response headers",
                "max_response_headers_kb 96 on the connection manager is not applied to upstream responses",
            ]
        );
    }

    #[test]
    fn pass() {
        let y = boot(
            "          max_request_headers_kb: 96\n",
            ROUTE,
            &cluster("app", 1, OPTS),
        );
        assert!(findings("ENV-BUF-001", &y).is_empty());
    }
}
