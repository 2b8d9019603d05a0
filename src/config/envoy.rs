//! Envoy v3 bootstrap (YAML or JSON) → [`ProxyModel`](super::ProxyModel).
//!
//! Placeholder until the Envoy parser lands: it reports the file as
//! unsupported so the run exits 2 with a clear message. The real parser keeps
//! this signature.

use crate::source::{FileId, SourceMap};

use super::{ConfigError, LoadOptions, Parsed};

/// Parse the Envoy config in `file` (already in `sources`).
pub fn parse(sources: &mut SourceMap, file: FileId, _opts: &LoadOptions) -> Parsed {
    Parsed {
        model: None,
        errors: vec![ConfigError::Unsupported {
            kind: "Envoy",
            path: sources.path(file).to_path_buf(),
            at: super::file_start(file),
        }],
    }
}
