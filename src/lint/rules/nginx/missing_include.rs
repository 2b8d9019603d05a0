//! NGX-INC-001 `missing-include`: see the rule doc below.

use crate::declare_rule;
use crate::lint::LintContext;

declare_rule! {
    /// An `include` names a file that is not there, so what it holds was not checked.
    ///
    /// ## What it does
    /// Flags each `include` whose path (not a glob: a glob may match nothing,
    /// as in nginx) names no readable file, looked up as nginx does (against
    /// the prefix, `-p`, or the entry file's directory) and then beside the
    /// including file. The message says which block the include sits in and
    /// what could not be checked because of it; the rest of the config is
    /// linted as if the include were empty. `--strict-includes` makes a
    /// missing include an input error instead (exit 2), as it is for
    /// `nginx -t`.
    ///
    /// ## Why it causes 502s
    /// Upstreams, timeouts and buffers set in the missing file are unknown to
    /// the linter: findings that depend on them may be missing, and on the
    /// server the same missing file makes `nginx -t` fail ("open() … failed"),
    /// so a reload keeps the old config serving (guide step 4). Often the file
    /// simply lives elsewhere in the repository (`mime.types` beside a
    /// packaged nginx.conf): pass `-p DIR` so the include resolves.
    ///
    /// ## Example
    /// ```nginx
    /// http { include conf/upstreams.conf; }
    /// ```
    ///
    /// ## Use instead
    /// ```text
    /// gatecheck lint -p /path/to/nginx-root nginx.conf
    /// ```
    ///
    /// ## Options
    /// `--strict-includes` (command line): a missing include is an error.
    ///
    /// ## References
    /// - nginx `include`: <https://nginx.org/en/docs/ngx_core_module.html#include>
    pub MissingInclude {
        id: "NGX-INC-001",
        name: "missing-include",
        severity: Warning,
        since: "0.1.0",
    }
}

/// What a file included in `context` usually holds, for the message.
fn unchecked(context: &str) -> &'static str {
    match context {
        "main" => "the modules, `events` and `http` settings it may hold",
        "http" => "the servers, upstreams, maps and http-wide settings it may hold",
        "server" => "the locations and server-wide settings it may hold",
        "location" | "if" | "limit_except" => "the proxy settings it may hold for this location",
        "upstream" => "the upstream servers it may hold",
        _ => "what it holds",
    }
}

fn check(ctx: &mut LintContext<'_>) {
    for mi in ctx.model().missing_includes.iter().filter(|m| !m.unread) {
        // `mime.types` holds a `types { }` table only: no rule reads it.
        let what = if mi.path.rsplit('/').next() == Some("mime.types") {
            "MIME types only; no rule depends on them".to_string()
        } else {
            format!("{} were not checked", unchecked(&mi.context))
        };
        ctx.report(
            mi.span,
            format!(
                "include {} (in `{}`): {}; {what}",
                mi.path, mi.context, mi.reason
            ),
            "pass -p DIR (the nginx prefix) so the include resolves, or lint the files it names too; --strict-includes makes this an error",
        );
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use crate::config::{self, LoadOptions};
    use crate::lint::{check, Selection, Settings};
    use crate::source::SourceMap;

    fn lint(text: &str, strict: bool) -> (Vec<String>, usize) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("nginx.conf");
        std::fs::write(&p, text).unwrap();
        let mut sm = SourceMap::new();
        let opts = LoadOptions {
            strict_includes: strict,
            ..LoadOptions::default()
        };
        let loaded = config::load(&[PathBuf::from(&p)], &opts, &mut sm);
        let sel = Selection {
            select: vec!["NGX-INC-001".into(), "NGX-HLT-001".into()],
            ignore: vec![],
        };
        let d = check(&loaded.models, &sm, &Settings::default(), &sel);
        (
            d.into_iter().map(|d| d.message).collect(),
            loaded.errors.len(),
        )
    }

    #[test]
    fn fail() {
        let (f, errors) = lint(
            "http { include mime.types; include upstreams.conf;\n server { location / { proxy_pass http://10.0.0.1; } } }",
            false,
        );
        assert_eq!(errors, 0);
        assert_eq!(f.len(), 3, "{f:?}");
        assert!(
            f[0].starts_with("include mime.types (in `http`): no such file"),
            "{f:?}"
        );
        assert!(
            f[0].ends_with("MIME types only; no rule depends on them"),
            "{f:?}"
        );
        assert!(
            f[1].ends_with(
                "the servers, upstreams, maps and http-wide settings it may hold were not checked"
            ),
            "{f:?}"
        );
        // the rest of the config is still linted
        assert!(f[2].contains("10.0.0.1"), "{f:?}");
    }

    #[test]
    fn strict_makes_it_an_input_error() {
        let (f, errors) = lint("http { include upstreams.conf; }", true);
        assert_eq!(errors, 1);
        assert!(f.is_empty(), "{f:?}");
    }

    #[test]
    fn pass() {
        let (f, errors) = lint("http { include conf.d/*.conf; }", false);
        assert!(f.is_empty() && errors == 0, "{f:?}");
    }
}
