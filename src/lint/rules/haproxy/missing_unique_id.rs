//! HAP-LOG-002 `missing-unique-id`: see the rule doc below.

use crate::declare_rule;
use crate::lint::LintContext;

use crate::config::model::Mode;

declare_rule! {
    /// An HTTP frontend has no per-request id (`unique-id-format`), or does not log it.
    ///
    /// ## What it does
    /// Flags a `mode http` frontend or listen without `unique-id-format`, or
    /// whose custom `log-format` does not contain `%ID`.
    ///
    /// ## Why it causes 502s
    /// Without a request id sent upstream and logged at every hop, one
    /// failing request cannot be followed from the edge to the application,
    /// and a 502 cannot be pinned on the hop that produced it (guide step 6).
    ///
    /// ## Example
    /// ```haproxy
    /// frontend web
    ///     mode http
    ///     option httplog
    /// ```
    ///
    /// ## Use instead
    /// ```haproxy
    /// frontend web
    ///     mode http
    ///     unique-id-format %{+X}o\ %ci:%cp_%fi:%fp_%Ts_%rt:%pid
    ///     unique-id-header X-Request-ID
    ///     log-format "%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %tsc %ID %{+Q}r"
    /// ```
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// - HAProxy configuration manual, `unique-id-format`,
    ///   `unique-id-header`, and the `%ID` log variable:
    ///   <https://docs.haproxy.org/2.6/configuration.html#4-unique-id-format>
    pub MissingUniqueId {
        id: "HAP-LOG-002",
        name: "missing-unique-id",
        severity: Info,
        since: "0.1.0",
        default: off,
    }
}

fn check(ctx: &mut LintContext<'_>) {
    let model = ctx.model();
    for s in &model.servers {
        if s.mode.value != Mode::Http {
            continue;
        }
        if !s.directives.has("unique-id-format") {
            ctx.report(
                s.span,
                format!("'{}' gives requests no unique id to follow across hops", s.name),
                "set `unique-id-format`, send it with `unique-id-header X-Request-ID`, and log `%ID`",
            );
        } else if let Some(f) = s.directives.get("log-format") {
            if !f.args.iter().any(|a| a.value.contains("%ID")) {
                ctx.report(
                    f.span,
                    format!(
                        "'{}' has a unique id but its log-format does not log it (`%ID`)",
                        s.name
                    ),
                    "add `%ID` to the log-format",
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
            findings("HAP-LOG-002", "frontend f\n mode http\n bind :80\n"),
            ["'f' gives requests no unique id to follow across hops"]
        );
        assert_eq!(
            findings(
                "HAP-LOG-002",
                "frontend f\n mode http\n unique-id-format %Ts\n log-format \"%ci %ST\"\n"
            ),
            ["'f' has a unique id but its log-format does not log it (`%ID`)"]
        );
    }

    #[test]
    fn pass() {
        assert!(findings(
            "HAP-LOG-002",
            "frontend f\n mode http\n unique-id-format %Ts\n log-format \"%ci %ST %ID\"\n"
        )
        .is_empty());
        assert!(findings(
            "HAP-LOG-002",
            "frontend f\n mode http\n unique-id-format %Ts\n option httplog\n"
        )
        .is_empty());
    }
}
