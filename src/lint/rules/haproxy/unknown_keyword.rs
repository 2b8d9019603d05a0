//! HAP-VAL-002 `haproxy-unknown-keyword`: see the rule doc below.

use crate::config::haproxy::keywords;
use crate::declare_rule;
use crate::lint::LintContext;

declare_rule! {
    /// A `global` or proxy-section keyword that no HAProxy release from 1.4 to the newest scanned knows, and that is no typo of one (an HAProxy Enterprise or newer keyword, most likely).
    ///
    /// ## What it does
    /// Reports, once per name, the first word of a `global`, `defaults`,
    /// `frontend`, `backend` or `listen` line that is neither compared by
    /// HAProxy's section parser nor registered by any of its modules in any
    /// release whose source was scanned (1.4 to 3.5-dev; generated from
    /// HAProxy's source). A name one or two edits away from a known keyword
    /// (`timout`) is a typo and is reported by HAP-VAL-001 as an error
    /// instead. What is left is usually a keyword of an HAProxy Enterprise
    /// module (`module-path`, `module-load`) or of a release newer than the
    /// table: gatecheck reads such a line as nothing, and `haproxy -c` of
    /// the open-source releases refuses it ("unknown keyword '…' in '…'
    /// section"). Off unless selected (`--select HAP-VAL-002` or
    /// `pedantic`): on an HAProxy Enterprise config it reports what is
    /// right there.
    ///
    /// ## Why it causes 502s
    /// Where that keyword is unknown, HAProxy does not start and a reload
    /// keeps the old config serving (guide step 4). Where it is known, what
    /// it sets (a timeout, a retry, a check) was not read by gatecheck, so
    /// findings about that proxy may be wrong.
    ///
    /// ## Example
    /// ```haproxy
    /// backend app
    ///     server-timeout 30s
    ///     server a 10.0.0.1:8080
    /// ```
    ///
    /// ## Use instead
    /// ```haproxy
    /// backend app
    ///     timeout server 30s
    ///     server a 10.0.0.1:8080
    /// ```
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// - "unknown keyword '%s' in '%s' section" in HAProxy's
    ///   cfgparse-global.c and cfgparse-listen.c; the keyword list of the
    ///   configuration manual: <https://docs.haproxy.org/2.6/configuration.html#4.1>
    pub UnknownKeyword {
        id: "HAP-VAL-002",
        name: "haproxy-unknown-keyword",
        severity: Info,
        since: "0.1.0",
        default: off,
    }
}

fn check(ctx: &mut LintContext<'_>) {
    for u in &ctx.model().unknown {
        let uses = super::super::times_used(u.count);
        ctx.report(
            u.span,
            format!(
                "unknown keyword '{}'{uses}: no HAProxy ≤ {} knows it (an HAProxy Enterprise or newer keyword?); the line was not read",
                u.name,
                keywords::NEWEST
            ),
            "if it belongs to HAProxy Enterprise or a newer release, ignore this rule for this config; else remove or correct it",
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::haproxy::test_util::findings;

    #[test]
    fn fail() {
        let f = findings(
            "HAP-VAL-002",
            "global\n  module-load hapee-lb-waf.so\nbackend b\n  server-timeout 30s\n  server-timeout 40s\n  server a 10.0.0.1:80\n",
        );
        assert_eq!(f.len(), 2, "{f:?}");
        assert!(
            f[0].starts_with("unknown keyword 'module-load': no HAProxy ≤ "),
            "{f:?}"
        );
        assert!(
            f[1].starts_with("unknown keyword 'server-timeout' (used 2 times):"),
            "{f:?}"
        );
    }

    #[test]
    fn pass() {
        // a typo is HAP-VAL-001's (an error), and keywords of releases
        // older or newer than 2.6 are known
        assert!(findings(
            "HAP-VAL-002",
            "global\n  nbproc 1\ndefaults\n  timout server 30s\nbackend b\n  hash-preserve-affinity always\n  server a 10.0.0.1:80\n"
        )
        .is_empty());
    }
}
