//! One module per rule, grouped by proxy.

pub mod envoy;
pub mod haproxy;
pub mod nginx;

#[cfg(test)]
pub(crate) mod test_util {
    //! Run one rule over a config snippet.

    use crate::config::nginx::parse_str;
    use crate::lint::{check, Selection, Settings};

    /// Messages of rule `id` on nginx config `src`.
    pub fn findings(id: &str, src: &str) -> Vec<String> {
        findings_with(id, src, &Settings::default())
    }

    /// Messages of rule `id` on nginx config `src` with `settings`.
    pub fn findings_with(id: &str, src: &str, settings: &Settings) -> Vec<String> {
        let (sm, parsed) = parse_str("test.conf", src.as_bytes());
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
