//! nginx.conf → [`ProxyModel`](crate::config::model::ProxyModel).
//!
//! Four steps, one file each: [`lexer`] (bytes → tokens, nginx's own
//! tokenizing rules), [`parser`] (tokens → directive tree with spans and
//! error recovery), [`include`](mod@self::include) (splice `include`d files in), [`lower`]
//! (tree → model, resolving http → server → location inheritance and
//! filling documented defaults).

pub mod directives;
pub mod grammar;
pub mod include;
pub mod lexer;
pub mod lower;
pub mod parser;
pub mod select;
pub mod stream;
pub mod units;
pub mod values;
pub mod variables;
pub mod zones;

use crate::config::model::{Fragment, MissingInclude};
use crate::config::{LoadOptions, Parsed};
use crate::source::{FileId, SourceMap};

/// Parse the nginx config whose entry file is `file` (already in `sources`),
/// reading its includes into `sources` too.
///
/// A file whose top level nginx would not accept in `main` (a site file of
/// `server` blocks, a snippet of `location`s or `proxy_*` lines) is a
/// fragment: it is read as if included in the context
/// [`grammar::infer`] finds (or `opts.nginx_context`), and the model says
/// so in [`ProxyModel::fragment`](crate::config::model::ProxyModel::fragment).
pub fn parse(sources: &mut SourceMap, file: FileId, opts: &LoadOptions) -> Parsed {
    let tree = include::load_tree(
        sources,
        file,
        opts.prefix.as_deref(),
        !opts.no_includes,
        opts.strict_includes,
    );
    parse_tree(tree, file, opts)
}

/// Like [`parse`], for a config copied off a server into an incident dump:
/// includes are looked up inside the dump, never on this machine
/// ([`include::load_tree_from_dump`]); an include the dump lacks is an
/// [`ConfigError::Io`](crate::config::ConfigError::Io) with the `include`'s
/// span. `analyze` reads `--config` this way, so lint and analyze share one
/// parse and one model.
pub fn parse_from_dump(sources: &mut SourceMap, file: FileId, opts: &LoadOptions) -> Parsed {
    let tree = include::load_tree_from_dump(sources, file);
    parse_tree(tree, file, opts)
}

fn parse_tree(tree: include::Tree, file: FileId, opts: &LoadOptions) -> Parsed {
    let (context, reason) = match opts.nginx_context {
        Some(c) => (c, String::new()),
        None => grammar::infer(&tree.nodes),
    };
    let mut model = lower::lower(&tree, file, opts, context);
    if context != grammar::FileContext::Main {
        model.fragment = Some(Fragment {
            context: context.as_str(),
            reason,
            forced: opts.nginx_context.is_some(),
        });
    }
    let unread = tree.unread.iter().map(|m| (m, true));
    model.missing_includes = tree
        .missing
        .iter()
        .map(|m| (m, false))
        .chain(unread)
        .map(|(m, unread)| MissingInclude {
            span: m.at,
            path: m.path.display().to_string(),
            reason: m.message.clone(),
            context: if m.context.is_empty() {
                context.as_str().to_string()
            } else {
                m.context.clone()
            },
            unread,
        })
        .collect();
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
