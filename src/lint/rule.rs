//! The [`Rule`] trait, its metadata and the [`declare_rule!`](crate::declare_rule) macro.
//!
//! A rule's `///` doc comment is the only source of its documentation: the
//! macro captures it into [`RuleMeta::doc`], which feeds `gatecheck explain`,
//! `gatecheck rules`, SARIF and the README table. The doc must use the
//! headings in [`DOC_HEADINGS`] (a test checks every rule).

use super::context::LintContext;
use super::diagnostic::Severity;

/// Headings every rule doc must have, in this order.
pub const DOC_HEADINGS: &[&str] = &[
    "## What it does",
    "## Why it causes 502s",
    "## Example",
    "## Use instead",
    "## Options",
    "## References",
];

/// What a rule applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Runs once per config model (the model's kind must match `proxy`).
    Model,
    /// Runs once over all models together (cross-hop `ALL-*` rules).
    Workspace,
}

/// Static facts about a rule.
#[derive(Debug)]
pub struct RuleMeta {
    /// Stable id (`NGX-DNS-001`); never reused.
    pub id: &'static str,
    /// kebab-case name reading as "ignore `name`" (`hostname-resolved-once`).
    pub name: &'static str,
    /// Default severity.
    pub severity: Severity,
    /// Area: `TMO`, `BUF`, `RTY`, `HLT`, `DNS`, `TLS`, `KAL`, `CCH`, `LOG`,
    /// `MAP`, `VAL`.
    pub category: &'static str,
    /// `nginx`, `haproxy`, `envoy` or `all`.
    pub proxy: &'static str,
    /// gatecheck version that added it.
    pub since: &'static str,
    /// Per-model or cross-model.
    pub scope: Scope,
    /// Runs without being asked for. `false` for the `pedantic` group:
    /// rules about defaults that do not by themselves cause 502s, run only
    /// when selected by id, name or `--select pedantic`.
    pub default_on: bool,
    /// The full doc comment (Markdown); its first line is the summary.
    pub doc: &'static str,
}

impl RuleMeta {
    /// The first line of the doc.
    pub fn summary(&self) -> &'static str {
        self.doc
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("")
    }

    /// The doc with the one leading space of each `///` line removed.
    pub fn doc_text(&self) -> String {
        let mut out = String::new();
        for l in self.doc.lines() {
            out.push_str(l.strip_prefix(' ').unwrap_or(l));
            out.push('\n');
        }
        out.trim().to_string() + "\n"
    }

    /// One section of the doc (text under `heading`, without it).
    pub fn section(&self, heading: &str) -> Option<String> {
        let text = self.doc_text();
        let start = text.find(heading)? + heading.len();
        let rest = &text[start..];
        let end = rest.find("\n## ").unwrap_or(rest.len());
        Some(rest[..end].trim().to_string())
    }
}

/// A lint rule.
pub trait Rule: Sync {
    /// Its metadata.
    fn meta(&self) -> &'static RuleMeta;
    /// Check the model(s) in `ctx`, reporting through `ctx.report`.
    fn check(&self, ctx: &mut LintContext<'_>);
}

/// Declare a rule: a unit struct, its [`RuleMeta`] (doc captured from the
/// `///` lines) and a [`Rule`] impl that calls the `check` function of the
/// invoking module.
///
/// ```text
/// declare_rule! {
///     /// Summary line.
///     ///
///     /// ## What it does
///     /// …
///     pub LongConnectTimeout {
///         id: "NGX-TMO-001",
///         name: "long-connect-timeout",
///         severity: Warning,
///         category: "TMO",
///         proxy: "nginx",
///         since: "0.1.0",
///         // optional: `scope: Workspace,` and `default: off,` (pedantic)
///     }
/// }
/// fn check(ctx: &mut LintContext<'_>) { … }
/// ```
#[macro_export]
macro_rules! declare_rule {
    (
        $(#[doc = $doc:literal])*
        $vis:vis $name:ident {
            id: $id:literal,
            name: $rname:literal,
            severity: $sev:ident,
            category: $cat:literal,
            proxy: $proxy:literal,
            since: $since:literal,
            $(scope: $scope:ident,)?
            $(default: $default:ident,)?
        }
    ) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, Copy, Default)]
        $vis struct $name;

        impl $name {
            /// This rule's metadata.
            pub const META: &'static $crate::lint::rule::RuleMeta = &$crate::lint::rule::RuleMeta {
                id: $id,
                name: $rname,
                severity: $crate::lint::diagnostic::Severity::$sev,
                category: $cat,
                proxy: $proxy,
                since: $since,
                scope: $crate::declare_rule!(@scope $($scope)?),
                default_on: $crate::declare_rule!(@default $($default)?),
                doc: concat!($($doc, "\n"),*),
            };
        }

        impl $crate::lint::rule::Rule for $name {
            fn meta(&self) -> &'static $crate::lint::rule::RuleMeta {
                Self::META
            }
            fn check(&self, ctx: &mut $crate::lint::context::LintContext<'_>) {
                check(ctx)
            }
        }
    };
    (@default) => { true };
    (@default off) => { false };
    (@scope) => { $crate::lint::rule::Scope::Model };
    (@scope $s:ident) => { $crate::lint::rule::Scope::$s };
}
