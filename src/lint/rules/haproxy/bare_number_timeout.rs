//! HAP-TMO-002 `bare-number-timeout`: see the rule doc below.

use crate::config::model::Directive;
use crate::declare_rule;
use crate::lint::LintContext;

declare_rule! {
    /// A timeout written as a bare number below 1000, which HAProxy reads as milliseconds.
    ///
    /// ## What it does
    /// Flags `timeout …` values that are a plain number below 1000 with no
    /// unit, such as `timeout server 30`. A section that writes another
    /// timeout as a bare number of 1000 or more (`timeout server 3600000`)
    /// counts milliseconds on purpose, and its short values are left alone.
    ///
    /// ## Why it causes 502s
    /// HAProxy's time unit defaults to milliseconds, so `timeout server 30`
    /// gives servers 30 ms to answer: nearly every real response is cut off
    /// and clients get 504/502 (guide step 4, gateway timeouts). The author
    /// almost always meant seconds.
    ///
    /// ## Example
    /// ```haproxy
    /// defaults
    ///     timeout server 30
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
    /// - HAProxy configuration manual §2.5 "Time format" (milliseconds unless
    ///   a unit is given): <https://docs.haproxy.org/2.6/configuration.html#2.5>
    pub BareNumberTimeout {
        id: "HAP-TMO-002",
        name: "bare-number-timeout",
        severity: Warning,
        since: "0.1.0",
    }
}

fn check(ctx: &mut LintContext<'_>) {
    let model = ctx.model();
    let sections = std::iter::once(&model.global.directives)
        .chain(model.servers.iter().map(|s| &s.directives))
        .chain(model.upstreams.iter().map(|u| &u.directives));
    let mut seen = std::collections::HashSet::new();
    for dirs in sections {
        // A section that writes its other timeouts as bare milliseconds
        // (CouchDB's `timeout client 150000`, `timeout connect 500`) knows
        // the unit: its short value is meant as milliseconds.
        if dirs.iter().any(writes_millis) {
            continue;
        }
        for d in dirs.iter() {
            if !d.name.starts_with("timeout ") || !seen.insert(d.span) {
                continue;
            }
            let Some(n) = bare_ms(d) else { continue };
            ctx.report(
                d.args[0].span,
                format!(
                    "`{} {n}` is {n} ms: a number without a unit is milliseconds",
                    d.name
                ),
                format!(
                    "if seconds were meant, write `{} {n}s`; if milliseconds, write `{n}ms`",
                    d.name
                ),
            );
        }
    }
}

/// A `timeout` written as digits alone, 1000 or more: milliseconds on
/// purpose (a number of seconds that large would be hours).
fn writes_millis(d: &Directive) -> bool {
    d.name.starts_with("timeout ")
        && d.args.first().is_some_and(|a| {
            !a.value.is_empty()
                && a.value.bytes().all(|b| b.is_ascii_digit())
                && a.time().is_some_and(|t| t.as_millis() >= 1000)
        })
}

/// The value of a unit-less timeout between 1 and 999.
fn bare_ms(d: &Directive) -> Option<u64> {
    let a = d.args.first()?;
    // Written as digits alone: HAProxy read it as milliseconds.
    let unitless = a.value.bytes().all(|b| b.is_ascii_digit());
    let n = u64::try_from(a.time()?.as_millis()).ok()?;
    (unitless && (1..1000).contains(&n)).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::super::test_util::findings;

    #[test]
    fn fail() {
        let f = findings(
            "HAP-TMO-002",
            "defaults\n timeout server 30\n timeout connect 5\nbackend b\n server s 10.0.0.1:80\n",
        );
        assert_eq!(
            f,
            [
                "`timeout server 30` is 30 ms: a number without a unit is milliseconds",
                "`timeout connect 5` is 5 ms: a number without a unit is milliseconds",
            ]
        );
    }

    #[test]
    fn pass() {
        assert!(findings(
            "HAP-TMO-002",
            "defaults\n timeout server 30s\n timeout connect 5000\n timeout client 0\nbackend b\n server s 10.0.0.1:80\n",
        )
        .is_empty());
        // CouchDB's rel/haproxy.cfg: every timeout in bare milliseconds
        assert!(findings(
            "HAP-TMO-002",
            "defaults\n timeout client 150000\n timeout server 3600000\n timeout connect 500\nbackend b\n server s 10.0.0.1:80\n",
        )
        .is_empty());
    }

    #[test]
    fn millis_elsewhere_in_the_file_do_not_count() {
        // the ms-style section is another one: this `30` is still suspect
        let f = findings(
            "HAP-TMO-002",
            "backend b\n timeout server 30\n server s 10.0.0.1:80\nbackend c\n timeout connect 500\n timeout server 60000\n server s 10.0.0.2:80\n",
        );
        assert_eq!(
            f,
            ["`timeout server 30` is 30 ms: a number without a unit is milliseconds"]
        );
    }
}
