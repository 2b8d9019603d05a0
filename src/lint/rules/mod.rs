//! One module per rule, grouped by proxy.

pub mod all;
pub mod envoy;
pub mod haproxy;
pub mod nginx;

#[cfg(test)]
mod examples;

use crate::config::model::Invalid;
use crate::lint::LintContext;

/// Report every value the config reader could not take
/// (`ProxyModel::invalid`), one finding each, worded by `message`: the
/// loop of the three `*-VAL-001` rules.
pub(crate) fn report_invalid(ctx: &mut LintContext<'_>, message: impl Fn(&Invalid) -> String) {
    for i in &ctx.model().invalid {
        ctx.report(i.span, message(i), i.help.clone());
    }
}

/// " (used N times)" after a name used more than once, for the rules that
/// report an unknown name once (NGX-VAL-002, HAP-VAL-002).
pub(crate) fn times_used(count: usize) -> String {
    match count {
        1 => String::new(),
        n => format!(" (used {n} times)"),
    }
}

#[cfg(test)]
pub(crate) mod test_util {
    //! Run one rule over a config snippet.

    use std::path::Path;

    use crate::config::{self, LoadOptions, ProxyKind};
    use crate::lint::{check, Selection, Settings};
    use crate::source::SourceMap;

    /// Messages of rule `id` on nginx config `src`.
    pub fn findings(id: &str, src: &str) -> Vec<String> {
        findings_with(id, src, &Settings::default())
    }

    /// Messages of rule `id` on nginx config `src` with `settings`.
    pub fn findings_with(id: &str, src: &str, settings: &Settings) -> Vec<String> {
        findings_in("test.conf", id, src, settings)
    }

    /// Messages of rule `id` on config `src` named `name`; the name picks
    /// the parser as `gatecheck lint` would (`x.conf` nginx, `x.cfg`
    /// HAProxy, `x.yaml`/`x.json` Envoy).
    pub fn findings_in(name: &str, id: &str, src: &str, settings: &Settings) -> Vec<String> {
        let mut sm = SourceMap::new();
        let file = sm.add(name, src.as_bytes().to_vec());
        let opts = LoadOptions {
            nginx_version: settings.nginx_version(),
            no_includes: true,
            ..LoadOptions::default()
        };
        let parsed = match config::detect(Path::new(name), src.as_bytes()).map(|d| d.0) {
            Some(ProxyKind::Haproxy) => config::haproxy::parse(&mut sm, file, &opts),
            Some(ProxyKind::Envoy) => config::envoy::parse(&mut sm, file, &opts),
            _ => config::nginx::parse(&mut sm, file, &opts),
        };
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        let models: Vec<_> = parsed.model.into_iter().collect();
        let sel = Selection {
            select: vec![id.to_string()],
            ignore: vec![],
        };
        check(&models, &sm, settings, &sel)
            .into_iter()
            .filter(|d| d.rule == id)
            .map(|d| d.message)
            .collect()
    }
}
