//! NGX-BUF-001 `invalid-busy-buffers`: see the rule doc below.

use std::collections::HashSet;

use crate::config::model::{Directives, Setting};
use crate::config::nginx::units::fmt_size;
use crate::declare_rule;
use crate::lint::LintContext;
use crate::source::Span;

declare_rule! {
    /// `proxy_busy_buffers_size` (or `fastcgi_`, `uwsgi_`, `scgi_busy_buffers_size`) is outside the bounds nginx accepts, so the config will not load.
    ///
    /// ## What it does
    /// Computes the effective `proxy_buffer_size`, `proxy_buffers N S` and
    /// `proxy_busy_buffers_size` of every scope (defaults included: one page,
    /// `8` × one page, and twice the larger of `proxy_buffer_size` and `S`)
    /// and flags busy buffers larger than `(N − 1) × S` or smaller than
    /// `max(proxy_buffer_size, S)`, and fewer than 2 buffers. The same for
    /// `fastcgi_buffer_size`, `fastcgi_buffers` and
    /// `fastcgi_busy_buffers_size`, and their `uwsgi_` and `scgi_` twins:
    /// nginx merges them with the same code, same defaults and same bounds
    /// (the usual PHP-FPM tuning raises `fastcgi_buffer_size` alone).
    ///
    /// ## Why it causes 502s
    /// `nginx -t` rejects such a config. A reload that fails leaves the old
    /// configuration serving, so the fix you shipped for a 502 is silently not
    /// live (guide step 4). The usual trigger is raising `proxy_buffer_size`
    /// alone for big upstream headers: the implicit busy size doubles with it.
    ///
    /// ## Example
    /// ```nginx
    /// location / {
    ///     proxy_pass http://app;
    ///     proxy_buffer_size 32k;   # busy becomes 64k > 7 × 4k
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```nginx
    /// location / {
    ///     proxy_pass http://app;
    ///     proxy_buffer_size 32k;
    ///     proxy_buffers 8 32k;
    ///     proxy_busy_buffers_size 64k;
    /// }
    /// ```
    ///
    /// ## Options
    /// None. The page size behind the defaults is the `nginx_page_size`
    /// setting (default `4k`).
    ///
    /// ## References
    /// - nginx `proxy_buffer_size`, `proxy_buffers`, `proxy_busy_buffers_size`:
    ///   <https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_busy_buffers_size>
    /// - Bounds as enforced by nginx 1.22.1 `nginx -t` (busy = (N − 1) × S is
    ///   accepted, one byte more is not); the fastcgi, uwsgi and scgi bounds
    ///   are the same code in nginx's source (`ngx_http_fastcgi_merge_loc_conf`).
    ///   <https://nginx.org/en/docs/http/ngx_http_fastcgi_module.html#fastcgi_busy_buffers_size>
    pub InvalidBusyBuffers {
        id: "NGX-BUF-001",
        name: "invalid-busy-buffers",
        severity: Error,
        since: "0.1.0",
    }
}

fn size_of(d: &Directives, name: &str, default: u64, block: Span) -> Setting<u64> {
    match d.get(name) {
        Some(x) => x
            .size(0)
            .unwrap_or_else(|| Setting::default_at(default, x.span)),
        None => Setting::default_at(default, block),
    }
}

fn check_scope(
    ctx: &mut LintContext<'_>,
    p: &str,
    d: &Directives,
    block: Span,
    seen: &mut HashSet<(Span, u8)>,
) {
    let page = ctx.page_size();
    let buffer = size_of(d, &format!("{p}_buffer_size"), page, block);
    let (num, size, bufs_span, bufs_explicit) = match d.get(&format!("{p}_buffers")) {
        Some(x) => match (x.count(0), x.size(1)) {
            (Some(n), Some(s)) => (n.value, s.value, x.span, true),
            _ => return, // malformed: NGX-VAL-001 reports it
        },
        None => (8, page, block, false),
    };
    let max = buffer.value.max(size);
    let busy = match d.get(&format!("{p}_busy_buffers_size")) {
        Some(x) => match x.size(0) {
            Some(v) => v,
            None => return,
        },
        None => Setting::default_at(2 * max, block),
    };
    if !(busy.is_explicit() || buffer.is_explicit() || bufs_explicit) {
        return;
    }
    // Point at what the user wrote.
    let at = if busy.is_explicit() {
        busy.span
    } else if buffer.is_explicit() {
        buffer.span
    } else {
        bufs_span
    };
    let implicit = if busy.defaulted {
        " (implicit: twice the larger buffer)"
    } else {
        ""
    };
    if num < 2 {
        if seen.insert((bufs_span, 0)) {
            ctx.report(
                bufs_span,
                format!(
                    "{p}_buffers {num} {}: nginx needs at least 2 buffers",
                    fmt_size(size)
                ),
                format!("use at least 2 buffers, e.g. `{p}_buffers 8 16k;`"),
            );
        }
        return;
    }
    let limit = (num - 1) * size;
    if busy.value > limit {
        if seen.insert((at, 1)) {
            ctx.report(
                at,
                format!(
                    "{p}_busy_buffers_size {}{implicit} is larger than ({p}_buffers {num} − 1) × {} = {}: nginx will refuse this config",
                    fmt_size(busy.value),
                    fmt_size(size),
                    fmt_size(limit)
                ),
                format!(
                    "make the buffers as large as the biggest one: `{p}_buffers {} {}; {p}_busy_buffers_size {};`",
                    num.max(8),
                    fmt_size(max),
                    fmt_size(2 * max)
                ),
            );
        }
    } else if busy.value < max && seen.insert((at, 2)) {
        ctx.report(
            at,
            format!(
                "{p}_busy_buffers_size {} is smaller than max({p}_buffer_size {}, {p}_buffers size {}): nginx will refuse this config",
                fmt_size(busy.value),
                fmt_size(buffer.value),
                fmt_size(size)
            ),
            format!("set `{p}_busy_buffers_size {};` or more", fmt_size(max)),
        );
    }
}

fn check(ctx: &mut LintContext<'_>) {
    let m = ctx.model();
    let mut seen = HashSet::new();
    // The fastcgi, uwsgi and scgi modules merge their buffers with the
    // same code and refuse the same configs in their own words ("there
    // must be at least 2 \"fastcgi_buffers\"", "\"fastcgi_busy_buffers_size\"
    // must be less than the size of all \"fastcgi_buffers\" minus one
    // buffer": ngx_http_fastcgi_merge_loc_conf and its uwsgi, scgi twins).
    // grpc has `grpc_buffer_size` only.
    for p in ["proxy", "fastcgi", "uwsgi", "scgi"] {
        check_scope(ctx, p, &m.global.directives, m.global.span, &mut seen);
        for s in &m.servers {
            check_scope(ctx, p, &s.directives, s.span, &mut seen);
            for r in &s.routes {
                check_scope(ctx, p, &r.directives, r.span, &mut seen);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::test_util::findings;

    #[test]
    fn fail() {
        let f = findings(
            "NGX-BUF-001",
            "http { server { location / { proxy_buffer_size 32k; } } }",
        );
        assert_eq!(f.len(), 1);
        assert!(
            f[0].starts_with("proxy_busy_buffers_size 64k (implicit"),
            "{f:?}"
        );
        let f = findings(
            "NGX-BUF-001",
            "http { proxy_buffers 8 4k; proxy_busy_buffers_size 32k; }",
        );
        assert_eq!(f.len(), 1);
        let f = findings(
            "NGX-BUF-001",
            "http { proxy_buffer_size 8k; proxy_busy_buffers_size 4k; }",
        );
        assert!(f[0].contains("smaller than"), "{f:?}");
    }

    #[test]
    fn fastcgi_uwsgi_scgi_twins() {
        // raising fastcgi_buffer_size alone: busy becomes 64k > 7 × 4k
        let f = findings(
            "NGX-BUF-001",
            "http { server { location ~ \\.php$ { fastcgi_pass 127.0.0.1:9000; fastcgi_buffer_size 32k; } } }",
        );
        assert_eq!(
            f,
            ["fastcgi_busy_buffers_size 64k (implicit: twice the larger buffer) is larger than (fastcgi_buffers 8 − 1) × 4k = 28k: nginx will refuse this config"]
        );
        assert_eq!(
            findings("NGX-BUF-001", "http { uwsgi_buffers 1 8k; }").len(),
            1
        );
        assert_eq!(
            findings(
                "NGX-BUF-001",
                "http { scgi_buffer_size 8k; scgi_busy_buffers_size 4k; }"
            )
            .len(),
            1
        );
        // the usual fix, and buffers sized together
        for ok in [
            "fastcgi_buffer_size 32k; fastcgi_buffers 8 32k; fastcgi_busy_buffers_size 64k;",
            "fastcgi_buffers 16 16k; fastcgi_buffer_size 32k;",
            "fastcgi_buffers 4 256k; fastcgi_buffer_size 128k; fastcgi_busy_buffers_size 256k;",
        ] {
            assert!(
                findings(
                    "NGX-BUF-001",
                    &format!("http {{ server {{ location ~ \\.php$ {{ fastcgi_pass 127.0.0.1:9000; {ok} }} }} }}"),
                )
                .is_empty(),
                "{ok}"
            );
        }
    }

    #[test]
    fn pass() {
        assert!(findings(
            "NGX-BUF-001",
            "http { proxy_buffers 8 4k; proxy_busy_buffers_size 28k; }"
        )
        .is_empty());
        assert!(findings(
            "NGX-BUF-001",
            "http { server { location / { proxy_buffer_size 32k; proxy_buffers 8 32k; proxy_busy_buffers_size 64k; } } }"
        )
        .is_empty());
        assert!(findings("NGX-BUF-001", "http { server { location / { } } }").is_empty());
    }
}
