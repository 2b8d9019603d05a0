//! NGX-INC-002 `fragment-context`: see the rule doc below.

use crate::declare_rule;
use crate::lint::LintContext;

declare_rule! {
    /// A file that is a fragment (meant to be included) was linted in an assumed context.
    ///
    /// ## What it does
    /// Says, once per file, which block a fragment was read in and why. A file
    /// whose top level nginx does not accept in `main` — a site file of
    /// `server { }` blocks (`conf.d/*.conf`, `sites-available/*`), a file of
    /// `upstream`s or `map`s, a snippet of `location`s or `proxy_*` lines — is
    /// linted as if it were included inside `http { }`, `server { }` or
    /// `location / { }`: the outermost block where nginx accepts every
    /// directive at its top level. `--context http|server|location` forces
    /// the context; giving the nginx.conf that includes the file as well
    /// makes gatecheck lint it where it is really included (and this note
    /// goes away).
    ///
    /// ## Why it causes 502s
    /// It does not by itself. Settings inherited from the blocks around the
    /// include (timeouts, buffers, `resolver`) are unknown, so findings about
    /// defaults may not hold where the file is included (guide step 4).
    ///
    /// ## Example
    /// ```nginx
    /// server { listen 80; location / { proxy_pass http://app:8080; } }
    /// ```
    ///
    /// ## Use instead
    /// ```text
    /// gatecheck lint nginx.conf conf.d/app.conf
    /// ```
    ///
    /// ## Options
    /// `--context http|server|location` (command line).
    ///
    /// ## References
    /// - nginx contexts ("Context:" of each directive): <https://nginx.org/en/docs/dirindex.html>
    pub FragmentContext {
        id: "NGX-INC-002",
        name: "fragment-context",
        severity: Info,
        since: "0.1.0",
    }
}

fn check(ctx: &mut LintContext<'_>) {
    let m = ctx.model();
    let Some(f) = &m.fragment else { return };
    let why = if f.forced {
        "as given by --context".to_string()
    } else {
        f.reason.clone()
    };
    ctx.report(
        m.span,
        format!(
            "linted as a fragment included in `{}` ({why}); settings inherited from around the include are unknown",
            f.context
        ),
        "lint it together with the nginx.conf that includes it, or set --context http|server|location",
    );
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::test_util::findings;

    #[test]
    fn fail() {
        let f = findings(
            "NGX-INC-002",
            "server { listen 80; location / { proxy_pass http://10.0.0.1:8080; } }",
        );
        assert_eq!(
            f,
            ["linted as a fragment included in `http` (top-level `server` is not allowed in `main`); settings inherited from around the include are unknown"]
        );
        let f = findings("NGX-INC-002", "location /api { proxy_pass http://a; }");
        assert!(f[0].contains("included in `server`"), "{f:?}");
    }

    #[test]
    fn pass() {
        assert!(findings("NGX-INC-002", "events {} http { server { listen 80; } }").is_empty());
    }
}
