//! nginx.conf → [`ProxyModel`](crate::config::model::ProxyModel).
//!
//! Four steps, one file each: [`lexer`] (bytes → tokens, nginx's own
//! tokenizing rules), [`parser`] (tokens → directive tree with spans and
//! error recovery), [`include`] (splice `include`d files in), [`lower`]
//! (tree → model, resolving http → server → location inheritance and
//! filling documented defaults).

pub mod include;
pub mod lexer;
pub mod lower;
pub mod parser;

use crate::config::{LoadOptions, Parsed};
use crate::source::{FileId, SourceMap};

/// Parse the nginx config whose entry file is `file` (already in `sources`),
/// reading its includes into `sources` too.
pub fn parse(sources: &mut SourceMap, file: FileId, opts: &LoadOptions) -> Parsed {
    let tree = include::load_tree(sources, file, opts.prefix.as_deref(), !opts.no_includes);
    let model = lower::lower(&tree, file, opts);
    Parsed {
        model: Some(model),
        errors: tree.errors,
    }
}

/// Parse `text` as a standalone nginx config named `name`, without reading
/// any `include`. For tests, fuzzing and benches.
pub fn parse_str(name: &str, text: &[u8]) -> (SourceMap, Parsed) {
    let mut sources = SourceMap::new();
    let id = sources.add(name, text.to_vec());
    let opts = LoadOptions {
        no_includes: true,
        ..LoadOptions::default()
    };
    let parsed = parse(&mut sources, id, &opts);
    (sources, parsed)
}
