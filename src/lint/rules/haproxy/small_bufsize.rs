//! HAP-BUF-001 `small-bufsize`: see the rule doc below.

use crate::config::model::Directives;
use crate::declare_rule;
use crate::lint::{LintContext, Severity};

declare_rule! {
    /// `tune.bufsize` below the default 16384 (an error with HTTP/2), or `tune.maxrewrite` above half of it.
    ///
    /// ## What it does
    /// Reads `tune.bufsize` and `tune.maxrewrite` from `global`. Error when
    /// the buffer is smaller than 16384 bytes while HTTP/2 is used (`alpn h2`
    /// or `proto h2` on a `bind` or `server`); warning when it is smaller
    /// than the default otherwise, or when `tune.maxrewrite` is more than
    /// half of it.
    ///
    /// ## Why it causes 502s
    /// A request or response whose headers do not fit in `bufsize −
    /// maxrewrite` is rejected: large cookies, JWTs or upstream headers then
    /// fail with 400/502 (guide step 4, buffer sizes). HTTP/2 frames need at
    /// least the default buffer.
    ///
    /// ## Example
    /// ```haproxy
    /// global
    ///     tune.bufsize 8192
    /// ```
    ///
    /// ## Use instead
    /// ```haproxy
    /// global
    ///     tune.bufsize 32768
    /// ```
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// - HAProxy configuration manual, `tune.bufsize` ("The default value is
    ///   16384"; "use of HTTP/2 mandates that this value must be 16384 or
    ///   more") and `tune.maxrewrite` ("automatically readjusted to half of
    ///   bufsize if it is larger"; "generally wise to set it to about 1024"):
    ///   <https://docs.haproxy.org/2.6/configuration.html#3.2-tune.bufsize>
    pub SmallBufsize {
        id: "HAP-BUF-001",
        name: "small-bufsize",
        severity: Warning,
        since: "0.1.0",
    }
}

/// HAProxy's default `tune.bufsize` (manual: "The default value is 16384").
const DEFAULT_BUFSIZE: u64 = 16384;

fn uses_h2(d: &Directives) -> bool {
    d.all("bind").iter().chain(d.all("server")).any(|b| {
        b.args.windows(2).any(|w| {
            matches!(w[0].value.as_str(), "alpn" | "proto")
                && w[1].value.split(',').any(|p| p == "h2")
        })
    })
}

fn check(ctx: &mut LintContext<'_>) {
    let model = ctx.model();
    let main = &model.global.main;
    let Some(buf) = main.get("tune.bufsize") else {
        return;
    };
    let Some(size) = buf.size(0).map(|s| s.value) else {
        return;
    };
    let h2 = model.servers.iter().any(|s| uses_h2(&s.directives))
        || model.upstreams.iter().any(|u| {
            u.servers.iter().any(|ep| {
                ep.params.windows(2).any(|w| {
                    matches!(w[0].value.as_str(), "alpn" | "proto")
                        && w[1].value.split(',').any(|p| p == "h2")
                })
            })
        });
    if size < DEFAULT_BUFSIZE {
        let (sev, why) = if h2 {
            (Severity::Error, "HTTP/2 is used and needs at least 16384")
        } else {
            (Severity::Warning, "large headers and cookies will not fit")
        };
        ctx.report_at(
            sev,
            buf.span,
            format!("tune.bufsize {size} is below the default {DEFAULT_BUFSIZE}: {why}"),
            "remove the line to get 16384, or raise it (e.g. `tune.bufsize 32768`) when headers are large",
        );
    }
    if let Some(rw) = main.get("tune.maxrewrite") {
        if let Some(n) = rw.size(0).map(|s| s.value) {
            if n > size / 2 {
                ctx.report(
                    rw.span,
                    format!("tune.maxrewrite {n} is more than half of tune.bufsize {size}: HAProxy lowers it to {}, so headers larger than {} bytes are rejected", size / 2, size - size / 2),
                    "leave tune.maxrewrite unset or set it to about 1024, as the manual advises",
                );
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
            findings("HAP-BUF-001", "global\n tune.bufsize 8k\n tune.maxrewrite 6000\n"),
            [
                "tune.bufsize 8192 is below the default 16384: large headers and cookies will not fit",
                "tune.maxrewrite 6000 is more than half of tune.bufsize 8192: HAProxy lowers it to 4096, so headers larger than 4096 bytes are rejected",
            ]
        );
        assert_eq!(
            findings("HAP-BUF-001", "global\n tune.bufsize 8192\nfrontend f\n bind :443 ssl crt /x.pem alpn h2,http/1.1\n"),
            ["tune.bufsize 8192 is below the default 16384: HTTP/2 is used and needs at least 16384"]
        );
    }

    #[test]
    fn pass() {
        assert!(findings(
            "HAP-BUF-001",
            "global\n tune.bufsize 32768\n tune.maxrewrite 1024\n"
        )
        .is_empty());
        assert!(findings("HAP-BUF-001", "global\n maxconn 100\n").is_empty());
    }
}
