//! HAP-VAL-001 `invalid-value`: see the rule doc below.

use crate::config::model::Directive;
use crate::declare_rule;
use crate::lint::LintContext;

declare_rule! {
    /// A time or size value that does not parse, an unknown `retry-on` / `http-reuse` keyword, a keyword its section refuses or ignores, or what `haproxy -c` refuses (a bad name character, a port range, no final newline, a removed keyword such as `reqadd`, a misspelt keyword such as `timout`).
    ///
    /// ## What it does
    /// Reports values the HAProxy parser recorded as malformed (times with
    /// units other than `us ms s m h d`, sizes with suffixes other than `k m
    /// g`), `retry-on` or `http-reuse` arguments HAProxy does not know, and
    /// keywords used in a section that refuses them (`server` in a
    /// `frontend`) or ignores them (`retries`, `timeout server`, `option
    /// redispatch` in a `frontend`; `bind`, `timeout client` in a
    /// `backend`). Also what `haproxy -c` refuses in a file that parses: a
    /// character other than letters, digits, `.`, `:`, `_`, `-` in the name
    /// of a `frontend`, `backend`, `listen`, `resolvers`, `peers`,
    /// `userlist`, `mailers`, `ring`, `log-forward`, `http-errors` or
    /// `acl`; a port range in a `log` target or a `server` address; a port
    /// above 65535 in `bind` or `server`; two frontends, two backends or a
    /// listen and either of one name; two servers of one name in a
    /// backend; a `server` without address; an unknown `mode` or `timeout`
    /// type; a last line without its line feed (fatal since HAProxy 2.3); a
    /// `global` or proxy-section keyword no HAProxy from 1.4 to the newest
    /// source knows that is one or two edits from one it knows (`timout
    /// server 30s`: "did you mean 'timeout'?"; other unknown keywords are
    /// HAP-VAL-002's). Values written with environment variables are not
    /// checked.
    ///
    /// ## Why it causes 502s
    /// HAProxy rejects the config (or, for some time values in 2.x, warns
    /// and ignores the rest of the value); a rejected reload leaves stale
    /// config serving. An ignored keyword silently does nothing: `retries`
    /// in a frontend protects no backend (guide step 4).
    ///
    /// ## Example
    /// ```haproxy
    /// defaults
    ///     timeout server 30sec
    /// ```
    ///
    /// ## Use instead
    /// ```haproxy
    /// defaults
    ///     timeout server 30s
    /// ```
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// - HAProxy configuration manual §2.5 "Time format", `retry-on`,
    ///   `http-reuse`: <https://docs.haproxy.org/2.6/configuration.html#2.5>
    /// - Section capabilities as HAProxy 2.6 reports them ("not allowed" /
    ///   "ignored because frontend … has no backend capability"); the
    ///   keywords of every release, from HAProxy's source
    ///   (`src/config/haproxy/keywords.rs`).
    pub InvalidValue {
        id: "HAP-VAL-001",
        name: "haproxy-invalid-value",
        severity: Error,
        since: "0.1.0",
    }
}

/// `retry-on` keywords (manual, `retry-on`), besides HTTP status codes.
const RETRY_ON: &[&str] = &[
    "none",
    "conn-failure",
    "empty-response",
    "junk-response",
    "response-timeout",
    "0rtt-rejected",
    "all-retryable-errors",
];

const HTTP_REUSE: &[&str] = &["never", "safe", "aggressive", "always"];

fn check(ctx: &mut LintContext<'_>) {
    super::super::report_invalid(ctx, |i| i.problem.clone());
    let model = ctx.model();
    let mut seen = std::collections::HashSet::new();
    let dirs: Vec<&Directive> = model
        .servers
        .iter()
        .flat_map(|s| s.directives.iter())
        .chain(model.upstreams.iter().flat_map(|u| u.directives.iter()))
        .filter(|d| seen.insert(d.span))
        .collect();
    for d in dirs {
        match d.name.as_str() {
            "retry-on" => {
                for a in d.args.iter() {
                    let status = a.count().is_some_and(|n| (100..600).contains(&n));
                    if !status && !RETRY_ON.contains(&a.value.as_str()) {
                        ctx.report(
                            a.span,
                            format!("retry-on: unknown condition '{}'", a.value),
                            format!("use status codes or {}", RETRY_ON.join(", ")),
                        );
                    }
                }
            }
            "http-reuse" => {
                if let Some(a) = d.args.first() {
                    if !HTTP_REUSE.contains(&a.value.as_str()) {
                        ctx.report(
                            a.span,
                            format!("http-reuse: unknown mode '{}'", a.value),
                            "use never, safe, aggressive or always",
                        );
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::findings;

    #[test]
    fn fail() {
        assert_eq!(
            findings("HAP-VAL-001", "defaults\n timeout server 30sec\nbackend b\n retry-on conn-failure 503 empty-respons\n http-reuse sometimes\n server a 10.0.0.1:80 inter 2x\n"),
            [
                "timeout server: unknown unit 'sec' in '30sec' (expected us, ms, s, m, h, d)",
                "retry-on: unknown condition 'empty-respons'",
                "http-reuse: unknown mode 'sometimes'",
                "inter: unknown unit 'x' in '2x' (expected us, ms, s, m, h, d)",
            ]
        );
    }

    #[test]
    fn section_capabilities() {
        assert_eq!(
            findings("HAP-VAL-001", "frontend f\n bind :80\n retries 3\n server s 10.0.0.1:80\n default_backend b\nbackend b\n timeout client 5s\n server s 10.0.0.1:80\nlisten l\n bind :81\n retries 3\n server s 10.0.0.1:80\n"),
            [
                "`retries` is ignored in frontend 'f': a frontend has no backend side",
                "`server` is not allowed in frontend 'f'",
                "`timeout client` is ignored in backend 'b': a backend has no frontend side",
            ]
        );
    }

    #[test]
    fn pass() {
        assert!(findings("HAP-VAL-001", "defaults\n timeout server \"${T}\"\nbackend b\n retry-on conn-failure 503\n http-reuse safe\n server a 10.0.0.1:80 inter 2s\n").is_empty());
    }
}
