//! NGX-LOG-002 `error-log-too-quiet`: see the rule doc below.

use crate::declare_rule;
use crate::lint::LintContext;

declare_rule! {
    /// The `error_log` level drops the messages that explain 502s.
    ///
    /// ## What it does
    /// Flags an effective `error_log` level of `crit`, `alert` or `emerg` (the
    /// most verbose `error_log` at main/http level decides), and any server
    /// or location `error_log` at those levels.
    ///
    /// ## Why it causes 502s
    /// nginx logs upstream failures — `connect() failed`, `upstream
    /// prematurely closed connection`, `upstream sent too big header` — at
    /// level `error`. Above it they are dropped, and the cause of each 502
    /// with them (guide step 6).
    ///
    /// ## Example
    /// ```nginx
    /// error_log /var/log/nginx/error.log crit;
    /// ```
    ///
    /// ## Use instead
    /// ```nginx
    /// error_log /var/log/nginx/error.log warn;
    /// ```
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// - nginx `error_log` (default `logs/error.log error`):
    ///   <https://nginx.org/en/docs/ngx_core_module.html#error_log>
    pub ErrorLogTooQuiet {
        id: "NGX-LOG-002",
        name: "error-log-too-quiet",
        severity: Warning,
        since: "0.1.0",
    }
}

fn quiet(level: &str) -> bool {
    matches!(level, "crit" | "alert" | "emerg")
}

fn check(ctx: &mut LintContext<'_>) {
    let m = ctx.model();
    let lvl = &m.global.error_log_level;
    let mut reported = Vec::new();
    if quiet(&lvl.value) {
        reported.push(lvl.span);
        ctx.report(
            lvl.span,
            format!(
                "error_log level `{}` drops upstream errors (logged at `error`)",
                lvl.value
            ),
            "use level `error` or `warn`",
        );
    }
    for s in &m.servers {
        let scopes = std::iter::once(&s.directives).chain(s.routes.iter().map(|r| &r.directives));
        for d in scopes.flat_map(|d| d.all("error_log")) {
            let level = d.arg(1).unwrap_or("error");
            if quiet(level)
                && !reported.contains(&d.span)
                && !m.global.directives.all("error_log").contains(d)
            {
                reported.push(d.span);
                ctx.report(
                    d.span,
                    format!("error_log level `{level}` drops upstream errors (logged at `error`)"),
                    "use level `error` or `warn`",
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::test_util::findings;

    #[test]
    fn fail() {
        assert_eq!(
            findings("NGX-LOG-002", "error_log /tmp/e.log crit; http { }").len(),
            1
        );
        assert_eq!(
            findings(
                "NGX-LOG-002",
                "http { server { error_log /tmp/e.log alert; location / { } } }"
            )
            .len(),
            1
        );
    }

    #[test]
    fn pass() {
        assert!(findings("NGX-LOG-002", "error_log /tmp/e.log warn; http { }").is_empty());
        assert!(findings(
            "NGX-LOG-002",
            "error_log /tmp/e.log crit; error_log /tmp/f.log error; http { }"
        )
        .is_empty());
    }
}
