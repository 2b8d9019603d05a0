//! One module per rule, grouped by proxy.

pub mod all;
pub mod nginx;

#[cfg(test)]
pub(crate) mod test_util {
    //! Run one rule over a config snippet.

    use crate::config::{nginx, LoadOptions};
    use crate::lint::{check, Selection, Settings};
    use crate::source::SourceMap;

    /// Messages of rule `id` on nginx config `src`.
    pub fn findings(id: &str, src: &str) -> Vec<String> {
        findings_with(id, src, &Settings::default())
    }

    /// Messages of rule `id` on nginx config `src` with `settings`.
    pub fn findings_with(id: &str, src: &str, settings: &Settings) -> Vec<String> {
        let mut sm = SourceMap::new();
        let file = sm.add("test.conf", src.as_bytes().to_vec());
        let opts = LoadOptions {
            nginx_version: settings.nginx_version(),
            no_includes: true,
            ..LoadOptions::default()
        };
        let parsed = nginx::parse(&mut sm, file, &opts);
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
