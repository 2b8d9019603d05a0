//! The `--config` paths of `analyze`, `export` and `formats`, read one way.

use std::path::PathBuf;
use std::sync::Arc;

use gatecheck::analyze::attribute::ProxyConfigs;
use gatecheck::analyze::{nginx_config, Options};

/// Read `paths` into `opts`: HAProxy / Envoy configs (told by content) are
/// returned, for attribution; the rest (and every directory, searched for
/// nginx.conf) is read as nginx's into `opts.config`.
pub fn read(paths: &[PathBuf], opts: &mut Options) -> ProxyConfigs {
    opts.config_paths = paths.to_vec();
    if paths.is_empty() {
        return ProxyConfigs::default();
    }
    let hop = ProxyConfigs::load(paths);
    let hop_files: Vec<String> = hop.files().into_iter().map(|(f, _)| f).collect();
    let nginx: Vec<PathBuf> = paths
        .iter()
        .filter(|p| p.is_dir() || !hop_files.contains(&p.display().to_string()))
        .cloned()
        .collect();
    if !nginx.is_empty() {
        opts.config = Some(Arc::new(nginx_config::read(&nginx)));
    }
    hop
}
