//! The `--config` paths of `analyze`, `export` and `formats`, read one way.

use std::path::PathBuf;
use std::sync::Arc;

use gatecheck::analyze::attribute::ProxyConfigs;
use gatecheck::analyze::{nginx_config, Options};

/// Every `--config` path is there: one that is not is a mistake in the
/// command (as for `lint`), not a note under Problems after a report whose
/// attributions silently lack it (it was said twice, exit 0).
pub fn exist(paths: &[PathBuf]) -> anyhow::Result<()> {
    for c in paths {
        if let Err(e) = std::fs::metadata(c) {
            anyhow::bail!(
                "--config {}: {e}; give an nginx, HAProxy or Envoy config file, or a folder holding them",
                c.display()
            );
        }
    }
    Ok(())
}

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
