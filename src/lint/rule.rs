//! The [`Rule`] trait, its metadata and the [`declare_rule!`](crate::declare_rule) macro.
//!
//! A rule's `///` doc comment is the only source of its documentation: the
//! macro captures it into [`RuleMeta::doc`], which feeds `gatecheck explain`,
//! `gatecheck rules`, SARIF and the README table. The doc must use the
//! headings in [`DOC_HEADINGS`] (a test checks every rule).

use crate::config::ProxyKind;

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

/// What a rule is about: the middle part of its id (`NGX-DNS-001` → `DNS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Category {
    /// `TMO`: timeouts.
    Tmo,
    /// `BUF`: buffers and header sizes.
    Buf,
    /// `RTY`: retries.
    Rty,
    /// `HLT`: health checks and failure accounting.
    Hlt,
    /// `DNS`: name resolution.
    Dns,
    /// `TLS`: TLS to the upstream.
    Tls,
    /// `KAL`: keep-alive.
    Kal,
    /// `CCH`: caching of errors.
    Cch,
    /// `LOG`: logging what explains a 502.
    Log,
    /// `MAP`: routing to an upstream that exists.
    Map,
    /// `VAL`: values and directives the proxy rejects.
    Val,
    /// `INC`: includes and the context a file is read in.
    Inc,
    /// `RES`: resource limits.
    Res,
}

impl Category {
    /// Every category with its id code.
    const CODES: [(Category, &'static str); 13] = [
        (Category::Tmo, "TMO"),
        (Category::Buf, "BUF"),
        (Category::Rty, "RTY"),
        (Category::Hlt, "HLT"),
        (Category::Dns, "DNS"),
        (Category::Tls, "TLS"),
        (Category::Kal, "KAL"),
        (Category::Cch, "CCH"),
        (Category::Log, "LOG"),
        (Category::Map, "MAP"),
        (Category::Val, "VAL"),
        (Category::Inc, "INC"),
        (Category::Res, "RES"),
    ];

    /// The category of rule id `id` (`PPP-CCC-NNN`). Evaluated when
    /// [`declare_rule!`](crate::declare_rule) builds a rule's `META`
    /// constant, so a malformed id fails the build, not a run.
    pub const fn from_id(id: &str) -> Category {
        let b = id.as_bytes();
        assert!(
            b.len() == 11 && b[3] == b'-' && b[7] == b'-',
            "rule id is not PPP-CCC-NNN"
        );
        let mut i = 0;
        while i < Self::CODES.len() {
            let c = Self::CODES[i].1.as_bytes();
            if b[4] == c[0] && b[5] == c[1] && b[6] == c[2] {
                return Self::CODES[i].0;
            }
            i += 1;
        }
        panic!("rule id has an unknown category")
    }

    /// The three-letter code (`DNS`).
    pub fn as_str(self) -> &'static str {
        Self::CODES
            .iter()
            .find(|(c, _)| *c == self)
            .map_or("", |(_, s)| s)
    }
}

/// Which proxy a rule checks: the first part of its id (`NGX`, `HAP`,
/// `ENV`, `ALL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RuleProxy {
    /// `NGX-*`.
    Nginx,
    /// `HAP-*`.
    Haproxy,
    /// `ENV-*`.
    Envoy,
    /// `ALL-*`: every proxy (cross-hop rules).
    All,
}

impl RuleProxy {
    /// The proxy of rule id `id`; like [`Category::from_id`], evaluated at
    /// build time.
    pub const fn from_id(id: &str) -> RuleProxy {
        let b = id.as_bytes();
        assert!(b.len() > 3 && b[3] == b'-', "rule id is not PPP-CCC-NNN");
        match (b[0], b[1], b[2]) {
            (b'N', b'G', b'X') => RuleProxy::Nginx,
            (b'H', b'A', b'P') => RuleProxy::Haproxy,
            (b'E', b'N', b'V') => RuleProxy::Envoy,
            (b'A', b'L', b'L') => RuleProxy::All,
            _ => panic!("rule id has an unknown proxy prefix"),
        }
    }

    /// `nginx`, `haproxy`, `envoy` or `all` (as in output).
    pub fn as_str(self) -> &'static str {
        match self {
            RuleProxy::Nginx => "nginx",
            RuleProxy::Haproxy => "haproxy",
            RuleProxy::Envoy => "envoy",
            RuleProxy::All => "all",
        }
    }

    /// True when a rule of this proxy checks a model of `kind`.
    pub fn covers(self, kind: ProxyKind) -> bool {
        matches!(
            (self, kind),
            (RuleProxy::All, _)
                | (RuleProxy::Nginx, ProxyKind::Nginx)
                | (RuleProxy::Haproxy, ProxyKind::Haproxy)
                | (RuleProxy::Envoy, ProxyKind::Envoy)
        )
    }
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
    /// Area, from the id.
    pub category: Category,
    /// The proxy it checks, from the id.
    pub proxy: RuleProxy,
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

/// The options a rule takes from the settings file (`options:` keyed by
/// its id or name). [`declare_rule!`](crate::declare_rule) implements it
/// for every rule: with [`NoOptions`] unless the rule names its own struct.
pub trait Configurable {
    /// The options, read straight from the settings file; `Default` gives
    /// the documented defaults. Unknown keys must be refused
    /// (`#[serde(deny_unknown_fields)]`).
    type Options: serde::de::DeserializeOwned + Default + Clone + Send + Sync + 'static;
}

/// The options of a rule that has none: any key given for it is an error.
#[derive(Debug, Clone, Copy, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoOptions {}

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
///         since: "0.1.0",
///         // optional: `scope: Workspace,`, `default: off,` (pedantic) and
///         // `options: LongConnectTimeoutOptions,`
///     }
/// }
/// fn check(ctx: &mut LintContext<'_>) { … }
/// // with options: fn check(ctx: &mut LintContext<'_>, o: &LongConnectTimeoutOptions)
/// ```
#[macro_export]
macro_rules! declare_rule {
    (
        $(#[doc = $doc:literal])*
        $vis:vis $name:ident {
            id: $id:literal,
            name: $rname:literal,
            severity: $sev:ident,
            since: $since:literal,
            $(scope: $scope:ident,)?
            $(default: $default:ident,)?
            $(options: $opt:ty,)?
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
                category: $crate::lint::rule::Category::from_id($id),
                proxy: $crate::lint::rule::RuleProxy::from_id($id),
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
                $crate::declare_rule!(@check ctx $($opt)?)
            }
        }

        impl $crate::lint::rule::Configurable for $name {
            type Options = $crate::declare_rule!(@options $($opt)?);
        }
    };
    (@check $ctx:ident) => { check($ctx) };
    (@check $ctx:ident $opt:ty) => {{
        let options: $opt = $ctx.options();
        check($ctx, &options)
    }};
    (@options) => { $crate::lint::rule::NoOptions };
    (@options $opt:ty) => { $opt };
    (@default) => { true };
    (@default off) => { false };
    (@scope) => { $crate::lint::rule::Scope::Model };
    (@scope $s:ident) => { $crate::lint::rule::Scope::$s };
}
