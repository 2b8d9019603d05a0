//! NGX-RES-001 `low-file-limit`: see the rule doc below.

use crate::declare_rule;
use crate::lint::LintContext;

use super::directives_named;

/// `worker_connections` default: 512 (nginx docs, events module).
const WORKER_CONNECTIONS: u64 = 512;

declare_rule! {
    /// `worker_rlimit_nofile` is below twice `worker_connections`: a busy worker runs out of file descriptors.
    ///
    /// ## What it does
    /// Flags `worker_rlimit_nofile N` when N < 2 × `worker_connections`
    /// (default 512). Each proxied request holds two descriptors, the client
    /// connection and the upstream one, besides log and temp files. Nothing
    /// is flagged when `worker_rlimit_nofile` is not set: the limit then
    /// comes from the system, which the config does not show.
    ///
    /// ## Why it causes 502s
    /// Under load the worker hits the descriptor limit before its connection
    /// limit: new upstream sockets fail ("socket() failed (24: Too many open
    /// files) while connecting to upstream", answered 500) and clients are
    /// not accepted ("accept4() failed (24: …)"); the hop in front then
    /// reports 502s for the dropped connections (guide step 4).
    ///
    /// ## Example
    /// ```nginx
    /// worker_rlimit_nofile 1024;
    /// events { worker_connections 1024; }
    /// ```
    ///
    /// ## Use instead
    /// ```nginx
    /// worker_rlimit_nofile 4096;
    /// events { worker_connections 1024; }
    /// ```
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// - nginx `worker_rlimit_nofile`, `worker_connections` ("the maximum
    ///   number of simultaneous connections … includes all connections,
    ///   e.g. connections with proxied servers"):
    ///   <https://nginx.org/en/docs/ngx_core_module.html#worker_connections>
    /// - gixy-next's check of the same ratio.
    pub LowFileLimit {
        id: "NGX-RES-001",
        name: "low-file-limit",
        severity: Warning,
        since: "0.1.0",
    }
}

fn check(ctx: &mut LintContext<'_>) {
    let m = ctx.model();
    let Some(limit) = directives_named(m, "worker_rlimit_nofile").last().copied() else {
        return;
    };
    let Some(nofile) = limit.count(0).map(|n| n.value) else {
        return;
    };
    let conns = directives_named(m, "worker_connections")
        .last()
        .and_then(|d| d.count(0))
        .map_or(WORKER_CONNECTIONS, |n| n.value);
    if nofile < 2 * conns {
        ctx.report(
            limit.span,
            format!("worker_rlimit_nofile {nofile} < 2 × worker_connections {conns}: a busy worker runs out of file descriptors (two per proxied request) before it reaches its connection limit"),
            format!("raise it to at least {}", 2 * conns),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::test_util::findings;

    #[test]
    fn fail() {
        assert_eq!(
            findings(
                "NGX-RES-001",
                "worker_rlimit_nofile 1024; events { worker_connections 1024; } http { }"
            ),
            ["worker_rlimit_nofile 1024 < 2 × worker_connections 1024: a busy worker runs out of file descriptors (two per proxied request) before it reaches its connection limit"]
        );
        // worker_connections defaults to 512
        assert_eq!(
            findings(
                "NGX-RES-001",
                "worker_rlimit_nofile 1000; events { } http { }"
            )
            .len(),
            1
        );
    }

    #[test]
    fn pass() {
        for src in [
            "worker_rlimit_nofile 4096; events { worker_connections 1024; } http { }",
            "events { worker_connections 1024; } http { }",
            "worker_rlimit_nofile 1024; events { } http { }",
        ] {
            assert!(findings("NGX-RES-001", src).is_empty(), "{src}");
        }
    }
}
