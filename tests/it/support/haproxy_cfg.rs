//! A haproxy.cfg as gatecheck's own parser reads it, for the tests that hold
//! the parser to what HAProxy accepts.

use std::path::Path;

use gatecheck::config::haproxy::{parse_cfg, Config};
use gatecheck::source::SourceMap;

/// One file parsed, with the source map its spans point into.
pub struct Parsed {
    /// Holds the file only.
    pub sm: SourceMap,
    /// What the parser made of it.
    pub cfg: Config,
}

/// Read and parse `path`.
pub fn parse(path: &Path) -> Parsed {
    let text = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut sm = SourceMap::new();
    let id = sm.add(path, text.clone());
    let cfg = parse_cfg(id, &text);
    Parsed { sm, cfg }
}

impl Parsed {
    /// The parse errors as gatecheck prints them (`file:line:col: message`).
    pub fn errors(&self) -> Vec<String> {
        self.cfg
            .errors
            .iter()
            .map(|e| gatecheck::report::config_error::at(&self.sm, e.span(), e))
            .collect()
    }
}
