//! HAProxy `haproxy.cfg` → [`ProxyModel`](super::ProxyModel).
//!
//! Placeholder until the HAProxy parser lands: it reports the file as
//! unsupported so the run exits 2 with a clear message. The real parser keeps
//! this signature.

use crate::source::{FileId, SourceMap};

use super::{ConfigError, LoadOptions, Parsed};

/// Parse the HAProxy config in `file` (already in `sources`).
pub fn parse(sources: &mut SourceMap, file: FileId, _opts: &LoadOptions) -> Parsed {
    Parsed {
        model: None,
        errors: vec![ConfigError::Unsupported {
            kind: "HAProxy",
            path: sources.path(file).to_path_buf(),
            at: super::file_start(file),
        }],
    }
}
