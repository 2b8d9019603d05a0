//! Proxy model → diagnostics. Rules read only [`crate::config::model`];
//! nothing here sees config syntax or output formats.
//!
//! [`check`] runs every enabled rule over every model, applies suppression
//! comments and `[[ignore]]` settings, reports unused suppressions, and sorts
//! the findings deterministically (file, offset, rule).

pub mod context;
pub mod diagnostic;
pub mod registry;
pub mod rule;
pub mod rules;
pub mod settings;
pub mod suppress;
pub mod values;

use crate::config::ProxyModel;
use crate::source::SourceMap;

pub use context::LintContext;
pub use diagnostic::{Diagnostic, Severity};
pub use registry::Selection;
pub use rule::{Category, Rule, RuleMeta, RuleProxy, Scope};
pub use settings::Settings;
use values::Level;

/// The severity `settings` give `meta`: `None` = rule's own, `Some(None)` =
/// off.
fn severity_override(meta: &RuleMeta, settings: &Settings) -> Option<Option<Severity>> {
    // The most specific key wins (full id/name over prefixes).
    let mut best: Option<(usize, Level)> = None;
    for (k, v) in &settings.severity {
        if registry::matches(meta, k) && best.is_none_or(|(len, _)| k.len() > len) {
            best = Some((k.len(), *v));
        }
    }
    match best?.1 {
        Level::Off => Some(None),
        Level::On(s) => Some(Some(s)),
    }
}

/// True when `meta` runs under `selection` and `settings`. A pedantic rule
/// (off by default) also runs when the settings give it a severity by its
/// own id or name.
pub fn is_enabled(meta: &RuleMeta, selection: &Selection, settings: &Settings) -> bool {
    let by_settings = !meta.default_on
        && !selection.ignore.iter().any(|k| registry::matches(meta, k))
        && settings
            .severity
            .iter()
            .any(|(k, v)| registry::names_exactly(meta, k) && *v != Level::Off);
    (selection.enabled(meta) || by_settings)
        && !matches!(severity_override(meta, settings), Some(None))
}

/// Run the enabled rules over `models`.
///
/// ```
/// use gatecheck::config::nginx::parse_str;
/// use gatecheck::lint::{check, Selection, Settings};
///
/// let conf = b"http { server { location / {
///     proxy_pass http://10.0.0.1;
///     proxy_read_timeout 30sec;
/// } } }";
/// let (sources, parsed) = parse_str("nginx.conf", conf);
/// let models: Vec<_> = parsed.model.into_iter().collect();
/// let only = Selection { select: vec!["NGX-VAL".into()], ignore: vec![] };
/// let diags = check(&models, &sources, &Settings::default(), &only);
/// assert_eq!(diags.len(), 1);
/// assert_eq!(diags[0].rule, "NGX-VAL-001");
/// assert_eq!(diags[0].message, "proxy_read_timeout: \"30sec\" is not a time");
/// ```
pub fn check(
    models: &[ProxyModel],
    sources: &SourceMap,
    settings: &Settings,
    selection: &Selection,
) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    for rule in registry::all() {
        let meta = rule.meta();
        if !is_enabled(meta, selection, settings) {
            continue;
        }
        let sev = severity_override(meta, settings).flatten();
        match meta.scope {
            Scope::Model => {
                for (i, m) in models.iter().enumerate() {
                    if !meta.proxy.covers(m.kind) {
                        continue;
                    }
                    let mut ctx = LintContext::new(models, i, settings, meta, sev);
                    rule.check(&mut ctx);
                    diags.append(&mut ctx.out);
                }
            }
            Scope::Workspace => {
                if models.is_empty() {
                    continue;
                }
                let mut ctx = LintContext::new(models, 0, settings, meta, sev);
                rule.check(&mut ctx);
                diags.append(&mut ctx.out);
            }
        }
    }
    // Settings-level ignores (path globs compiled once; an invalid glob
    // matches nothing).
    let ignores: Vec<(&str, Option<globset::GlobMatcher>, bool)> = settings
        .ignore
        .iter()
        .map(|ig| match &ig.path {
            None => (ig.rule.as_str(), None, true),
            Some(p) => match globset::Glob::new(p) {
                Ok(g) => (ig.rule.as_str(), Some(g.compile_matcher()), true),
                Err(_) => (ig.rule.as_str(), None, false),
            },
        })
        .collect();
    let mut used = vec![false; ignores.len()];
    diags.retain(|d| {
        let mut hit_any = false;
        for (i, (rule, glob, valid)) in ignores.iter().enumerate() {
            let rule_hit = registry::find(d.rule)
                .map(|r| registry::matches(r.meta(), rule))
                .unwrap_or(false);
            let path_hit = match glob {
                None => *valid,
                Some(g) => g.is_match(sources.path(d.span.file)),
            };
            if rule_hit && path_hit {
                used[i] = true;
                hit_any = true;
            }
        }
        !hit_any
    });
    let unused_ignores: Vec<&settings::IgnoreEntry> = settings
        .ignore
        .iter()
        .zip(&used)
        .filter(|(ig, used)| {
            !**used
                && registry::all().iter().any(|r| {
                    registry::matches(r.meta(), &ig.rule)
                        && is_enabled(r.meta(), selection, settings)
                })
        })
        .map(|(ig, _)| ig)
        .collect();
    // Comment suppressions.
    let mut sups = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for m in models {
        for &f in &m.files {
            if seen.insert(f) {
                sups.extend(suppress::scan(sources, f, &m.blocks));
            }
        }
    }
    let mut diags = suppress::apply(diags, &mut sups);
    if let Some(file) = settings.file {
        diags.extend(suppress::unused_settings_ignores(
            sources,
            file,
            &unused_ignores,
        ));
    }
    diags.extend(suppress::unused(&sups, |key| {
        registry::all()
            .iter()
            .any(|r| registry::matches(r.meta(), key) && is_enabled(r.meta(), selection, settings))
    }));
    sort(&mut diags);
    diags
}

/// Sort findings: file, offset, rule, message; drop exact duplicates (a
/// directive inherited into several locations is reported once).
pub fn sort(diags: &mut Vec<Diagnostic>) {
    diags.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    diags.dedup_by(|a, b| a.rule == b.rule && a.span == b.span && a.message == b.message);
}
