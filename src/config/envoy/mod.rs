//! Envoy v3: a bootstrap in YAML or JSON → a typed view with spans.
//!
//! [`node`] loads the text into a tree whose every value knows its bytes;
//! [`parse`] reads that tree into the parts of the bootstrap the linter
//! needs (listeners → HTTP connection managers → routes, and clusters), with
//! protobuf durations and wrapped integers decoded and both snake_case and
//! lowerCamelCase field names accepted. Imports `source` only.

pub mod node;
pub mod parse;

pub use node::{load, load_as, LoadError, Node, NodeKind, Syntax};
pub use parse::*;
