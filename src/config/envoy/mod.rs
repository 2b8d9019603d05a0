//! Envoy v3: a bootstrap in YAML or JSON → a typed view with spans →
//! the normalized model.
//!
//! [`node`] loads the text into a tree whose every value knows its bytes;
//! [`parse`](mod@parse) reads that tree into the [`schema`] types, the parts
//! of the bootstrap the linter needs (listeners → HTTP connection managers → routes, and
//! clusters), with protobuf durations ([`duration`]) and wrapped integers decoded and both
//! snake_case and lowerCamelCase field names accepted; [`lower`] builds the
//! [`ProxyModel`](crate::config::model::ProxyModel), filling Envoy's
//! documented defaults. Imports `source` and `config::model` only.

pub mod duration;
pub mod log_formats;
pub mod lower;
pub mod node;
pub mod parse;
pub mod schema;

pub use node::{load, load_as, LoadError, Node, NodeKind, Syntax};
pub use parse::*;

use crate::config::{ConfigError, LoadOptions, Parsed};
use crate::source::{FileId, SourceMap};

/// Parse the Envoy bootstrap in `file` (already in `sources`) and lower it.
/// A file that does not load as YAML/JSON gives a syntax error and no model;
/// values of the wrong shape become [`Invalid`](crate::config::model::Invalid)
/// entries of the model (read by ENV-VAL-001).
pub fn parse(sources: &mut SourceMap, file: FileId, _opts: &LoadOptions) -> Parsed {
    let syntax = Syntax::from_path(sources.path(file));
    let boot = parse_bootstrap(file, &sources.get(file).text, syntax);
    let mut errors = Vec::new();
    for e in &boot.errors {
        if let EnvoyError::Load(load) = e {
            errors.push(ConfigError::Envoy(load.clone()));
        }
    }
    if !errors.is_empty() {
        return Parsed {
            model: None,
            errors,
        };
    }
    Parsed {
        model: Some(lower::lower(&boot, file)),
        errors,
    }
}

/// Parse `text` as a standalone Envoy bootstrap named `name` (its extension
/// picks YAML or JSON). For tests, fuzzing and benches.
pub fn parse_str(name: &str, text: &[u8]) -> (SourceMap, Parsed) {
    let mut sources = SourceMap::new();
    let id = sources.add(name, text.to_vec());
    let parsed = parse(&mut sources, id, &LoadOptions::default());
    (sources, parsed)
}
