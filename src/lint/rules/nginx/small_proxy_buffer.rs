//! NGX-BUF-002 `small-proxy-buffer`: see the rule doc below.

use crate::config::nginx::lower::{default_bufs, CORE_MODULE};
use crate::config::nginx::units::fmt_size;
use crate::declare_rule;
use crate::lint::values::Size;
use crate::lint::LintContext;

use super::proxied;

declare_rule! {
    /// `proxy_buffer_size` is smaller than the request headers nginx accepts.
    ///
    /// ## What it does
    /// For each proxying location, compares the effective `proxy_buffer_size`
    /// (default one page, 4k) with the buffer size of
    /// `large_client_header_buffers` (default `4 8k`). It flags the location
    /// when one of the two is set explicitly and `proxy_buffer_size` is the
    /// smaller.
    ///
    /// ## Why it causes 502s
    /// Apps echo big cookies and tokens back in `Set-Cookie` and other
    /// response headers. If nginx accepts large request headers but reads the
    /// upstream's response header into a smaller buffer, the response is
    /// "too big header" and the client gets a 502 (guide step 4).
    ///
    /// ## Example
    /// ```nginx
    /// server {
    ///     large_client_header_buffers 4 32k;
    ///     location / { proxy_pass http://app; }
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```nginx
    /// server {
    ///     large_client_header_buffers 4 32k;
    ///     location / {
    ///         proxy_pass http://app;
    ///         proxy_buffer_size 32k;
    ///         proxy_buffers 8 32k;
    ///         proxy_busy_buffers_size 64k;
    ///     }
    /// }
    /// ```
    /// (then re-check NGX-BUF-001).
    ///
    /// ## Options
    /// - `min_proxy_buffer_size` (size, default none): also flag any
    ///   proxying location whose `proxy_buffer_size` is below this.
    ///
    /// ## References
    /// - nginx `proxy_buffer_size` (default one memory page, 4k or 8k):
    ///   <https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_buffer_size>
    /// - nginx `large_client_header_buffers` (default `4 8k`):
    ///   <https://nginx.org/en/docs/http/ngx_http_core_module.html#large_client_header_buffers>
    pub SmallProxyBuffer {
        id: "NGX-BUF-002",
        name: "small-proxy-buffer",
        severity: Warning,
        since: "0.1.0",
        options: SmallProxyBufferOptions,
    }
}

/// Options of [`SmallProxyBuffer`] (`options.{id or name}` in the settings).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmallProxyBufferOptions {
    /// Also flag any proxy buffer smaller than this (none by default).
    pub min_proxy_buffer_size: Option<Size>,
}

fn check(ctx: &mut LintContext<'_>, o: &SmallProxyBufferOptions) {
    let page = ctx.page_size();
    let min = o.min_proxy_buffer_size.map_or(0, |s| s.0);
    let mut seen = std::collections::HashSet::new();
    for (_, r, _, _) in proxied(ctx.model()) {
        let d = &r.directives;
        let pbs = d.get("proxy_buffer_size");
        let pbs_val = pbs.and_then(|x| x.size(0)).map_or(page, |s| s.value);
        let lchb = d.get("large_client_header_buffers");
        let lchb_val = lchb.and_then(|x| x.size(1)).map_or_else(
            || default_bufs("large_client_header_buffers", CORE_MODULE).1,
            |s| s.value,
        );
        // Point at what was written: proxy_buffer_size, else the raised
        // large_client_header_buffers (once for every location it covers).
        let at = pbs.or(lchb).map(|x| x.span).unwrap_or(r.span);
        if !seen.insert(at) {
            continue;
        }
        if (pbs.is_some() || lchb.is_some()) && pbs_val < lchb_val {
            ctx.report(
                at,
                format!(
                    "proxy_buffer_size {}{} is smaller than the {} request-header buffers nginx accepts (large_client_header_buffers{})",
                    fmt_size(pbs_val),
                    if pbs.is_none() { " (default)" } else { "" },
                    fmt_size(lchb_val),
                    if lchb.is_none() { " default" } else { "" },
                ),
                format!(
                    "set `proxy_buffer_size {};` (and proxy_buffers/proxy_busy_buffers_size to match, see NGX-BUF-001)",
                    fmt_size(lchb_val)
                ),
            );
        } else if min > 0 && pbs_val < min {
            ctx.report(
                at,
                format!(
                    "proxy_buffer_size {} is below the team minimum {}",
                    fmt_size(pbs_val),
                    fmt_size(min)
                ),
                format!("set `proxy_buffer_size {};`", fmt_size(min)),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::test_util::{findings, findings_with};
    use crate::lint::Settings;

    #[test]
    fn fail() {
        let f = findings(
            "NGX-BUF-002",
            "http { server { large_client_header_buffers 4 32k; location / { proxy_pass http://127.0.0.1; } } }",
        );
        assert_eq!(f.len(), 1);
        assert!(
            f[0].starts_with("proxy_buffer_size 4k (default) is smaller than the 32k"),
            "{f:?}"
        );
        let s = Settings::from_str_as(
            "options: {NGX-BUF-002: {min_proxy_buffer_size: 16k}}",
            false,
        )
        .unwrap();
        let f = findings_with(
            "NGX-BUF-002",
            "http { server { location / { proxy_pass http://127.0.0.1; proxy_buffer_size 8k; } } }",
            &s,
        );
        assert_eq!(f, ["proxy_buffer_size 8k is below the team minimum 16k"]);
    }

    #[test]
    fn pass() {
        assert!(findings(
            "NGX-BUF-002",
            "http { server { large_client_header_buffers 4 32k; location / { proxy_pass http://127.0.0.1; proxy_buffer_size 32k; } } }"
        )
        .is_empty());
        assert!(findings(
            "NGX-BUF-002",
            "http { server { location / { proxy_pass http://127.0.0.1; } } }"
        )
        .is_empty());
    }
}
