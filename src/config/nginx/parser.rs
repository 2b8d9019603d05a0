//! nginx tokens → syntax tree of directives and blocks, with error recovery.
//!
//! A hand-written parser over the hand-written [`lexer`](super::lexer): the
//! grammar is four tokens deep (word, `;`, `{`, `}`), errors must name the
//! exact byte and line nginx would name, and parsing must go on after an
//! error so the rest of the file is still linted. A combinator library (nom)
//! would add little to such a grammar and make recovery harder, so it is not
//! used here. Nesting is iterative (an explicit stack) and capped at
//! [`MAX_DEPTH`], so no input can overflow the stack.

use std::sync::Arc;

use crate::config::model::Arg;
use crate::config::ConfigError;
use crate::source::{FileId, Span};

use super::lexer::{LexError, Lexer, Token};
use super::values;

/// Deepest block nesting kept; deeper blocks are reported and skipped.
pub const MAX_DEPTH: usize = 64;

/// Blocks whose entries nginx reads with a custom handler (a table, not
/// directives): a `{` inside them is a syntax error ("unexpected \"{\"").
pub const TABLE_BLOCKS: &[&str] = &["map", "geo", "types", "split_clients", "charset_map"];

/// One directive, with its block when it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// Directive name.
    pub name: String,
    /// Span of the name.
    pub name_span: Span,
    /// Arguments after the name, typed by the directive table
    /// ([`values::type_in_place`]) when the node is a directive without
    /// block; shared with the model's directives.
    pub args: Arc<[Arg]>,
    /// Name through `;`, or name through the block's `}` (through the end of
    /// the file when unclosed).
    pub span: Span,
    /// The block, for `http { … }`, `location / { … }`, ….
    pub block: Option<Block>,
}

impl Node {
    /// Argument `i`'s text.
    pub fn arg(&self, i: usize) -> Option<&str> {
        self.args.get(i).map(|a| a.value.as_str())
    }

    /// Span from the name through the last argument (the header of a block).
    pub fn header_span(&self) -> Span {
        let end = self
            .args
            .last()
            .map(|a| a.span.end)
            .unwrap_or(self.name_span.end);
        Span {
            file: self.name_span.file,
            start: self.name_span.start,
            end,
        }
    }
}

/// A `{ … }` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// The `{`.
    pub open: Span,
    /// The `}`; `None` when the file ended first.
    pub close: Option<Span>,
    /// Directives inside (raw blocks such as `content_by_lua_block` have
    /// none).
    pub children: Vec<Node>,
}

struct Frame {
    name: String,
    name_span: Span,
    args: Vec<Arg>,
    open: Span,
    children: Vec<Node>,
}

impl Frame {
    /// The block node of this frame, ending at `end`; `close` is its `}`
    /// (`None` when the file ended first).
    fn close(self, end: u32, close: Option<Span>) -> Node {
        Node {
            span: Span {
                file: self.name_span.file,
                start: self.name_span.start,
                end,
            },
            name: self.name,
            name_span: self.name_span,
            args: self.args.into(),
            block: Some(Block {
                open: self.open,
                close,
                children: self.children,
            }),
        }
    }
}

fn to_arg(value: String, quoted: bool, span: Span) -> Arg {
    Arg::text(value, span, quoted)
}

/// Parse one file's bytes into top-level nodes. Never fails: problems are
/// returned beside the tree.
pub fn parse(src: &[u8], file: FileId) -> (Vec<Node>, Vec<ConfigError>) {
    let mut lx = Lexer::new(src, file);
    let mut errors = Vec::new();
    let mut top: Vec<Node> = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut pending: Vec<Arg> = Vec::new();
    let mut skipped_depth = 0usize;

    fn push_node(stack: &mut [Frame], top: &mut Vec<Node>, node: Node) {
        match stack.last_mut() {
            Some(f) => f.children.push(node),
            None => top.push(node),
        }
    }

    fn node_from(mut pending: Vec<Arg>, end: u32, block: Option<Block>) -> Option<Node> {
        if pending.is_empty() {
            return None;
        }
        let name = pending.remove(0);
        // typed once here: every scope of the model, `written`, and every
        // inclusion of a file included many times share these arguments
        values::type_in_place(&name.value, &mut pending);
        Some(Node {
            span: Span {
                file: name.span.file,
                start: name.span.start,
                end,
            },
            name: name.value,
            name_span: name.span,
            args: pending.into(),
            block,
        })
    }

    loop {
        let tok = lx.next_token();
        if skipped_depth > 0 {
            match tok {
                Token::Open(_) => skipped_depth += 1,
                Token::Close(_) => skipped_depth -= 1,
                Token::Eof(_) => skipped_depth = 0,
                _ => continue,
            }
            if !matches!(tok, Token::Eof(_)) {
                continue;
            }
        }
        match tok {
            Token::Word {
                value,
                quoted,
                span,
            } => pending.push(to_arg(value, quoted, span)),
            Token::Semi(at) => {
                if pending.is_empty() {
                    errors.push(ConfigError::Unexpected { ch: ';', at });
                    continue;
                }
                if let Some(n) = node_from(std::mem::take(&mut pending), at.end, None) {
                    push_node(&mut stack, &mut top, n);
                }
            }
            Token::Open(at) => {
                let in_table = stack
                    .last()
                    .is_some_and(|f| TABLE_BLOCKS.contains(&f.name.as_str()));
                if pending.is_empty() || in_table {
                    errors.push(ConfigError::Unexpected { ch: '{', at });
                }
                let mut args = std::mem::take(&mut pending);
                let (name, name_span) = if args.is_empty() {
                    (String::new(), at)
                } else {
                    let a = args.remove(0);
                    (a.value, a.span)
                };
                if name.ends_with("_by_lua_block") {
                    let close = lx.skip_raw_block();
                    let end = close.map(|c| c.end).unwrap_or(src.len() as u32);
                    if close.is_none() {
                        let n = src.len();
                        errors.push(ConfigError::UnclosedBlock {
                            at: Span::new(file, n, n),
                            open: at,
                        });
                    }
                    let node = Node {
                        span: Span {
                            file,
                            start: name_span.start,
                            end,
                        },
                        name,
                        name_span,
                        args: args.into(),
                        block: Some(Block {
                            open: at,
                            close,
                            children: Vec::new(),
                        }),
                    };
                    push_node(&mut stack, &mut top, node);
                    continue;
                }
                if stack.len() >= MAX_DEPTH {
                    errors.push(ConfigError::Syntax {
                        at,
                        message: format!("blocks nested deeper than {MAX_DEPTH} levels"),
                    });
                    skipped_depth = 1;
                    continue;
                }
                stack.push(Frame {
                    name,
                    name_span,
                    args,
                    open: at,
                    children: Vec::new(),
                });
            }
            Token::Close(at) => {
                if !pending.is_empty() {
                    errors.push(ConfigError::Unexpected { ch: '}', at });
                    pending.clear();
                }
                match stack.pop() {
                    None => errors.push(ConfigError::Unexpected { ch: '}', at }),
                    Some(f) => {
                        let node = f.close(at.end, Some(at));
                        push_node(&mut stack, &mut top, node);
                    }
                }
            }
            Token::Eof(at) => {
                let unclosed_quote = lx
                    .errors
                    .iter()
                    .any(|e| matches!(e, LexError::UnclosedQuote { .. }));
                if !pending.is_empty() && !unclosed_quote {
                    errors.push(ConfigError::UnexpectedEof { at });
                }
                if !stack.is_empty() && !unclosed_quote {
                    let open = stack.last().map(|f| f.open).unwrap_or(at);
                    errors.push(ConfigError::UnclosedBlock { at, open });
                }
                // Keep what was read: close every open block at end of file.
                if let Some(n) = node_from(std::mem::take(&mut pending), at.end, None) {
                    push_node(&mut stack, &mut top, n);
                }
                while let Some(f) = stack.pop() {
                    let node = f.close(at.end, None);
                    push_node(&mut stack, &mut top, node);
                }
                break;
            }
        }
    }
    for e in lx.errors {
        errors.push(match e {
            LexError::UnclosedQuote { open, at } => ConfigError::UnclosedQuote { at, open },
            LexError::Unexpected { ch, at } => ConfigError::Unexpected { ch, at },
        });
    }
    errors.sort_by_key(|e| e.span().map(|s| s.start));
    (top, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(nodes: &[Node]) -> Vec<String> {
        nodes
            .iter()
            .map(|n| match &n.block {
                Some(b) => format!("{}{{{}}}", n.name, names(&b.children).join(",")),
                None => n.name.clone(),
            })
            .collect()
    }

    #[test]
    fn nested_blocks() {
        let (t, e) = parse(
            b"events {}\nhttp { server { listen 80; location / { } } }",
            FileId(0),
        );
        assert!(e.is_empty(), "{e:?}");
        assert_eq!(names(&t), ["events{}", "http{server{listen,location{}}}"]);
        let loc = &t[1].block.as_ref().unwrap().children[0]
            .block
            .as_ref()
            .unwrap()
            .children[1];
        assert_eq!(loc.arg(0), Some("/"));
    }

    #[test]
    fn map_geo_types_blocks_are_plain_directives() {
        let src =
            b"map $uri $x { default 0; ~^/a 1; \"~^/b{2}\" 2; }\ntypes { text/html html htm; }";
        let (t, e) = parse(src, FileId(0));
        assert!(e.is_empty(), "{e:?}");
        assert_eq!(names(&t), ["map{default,~^/a,~^/b{2}}", "types{text/html}"]);
    }

    #[test]
    fn brace_inside_a_table_block_is_an_error() {
        let (_, e) = parse(b"map $a $b {\n x {\n}\n}\n", FileId(0));
        assert!(
            matches!(e[0], ConfigError::Unexpected { ch: '{', at } if at.start == 15),
            "{e:?}"
        );
    }

    #[test]
    fn lua_block_is_raw() {
        let src = b"location / { content_by_lua_block { ngx.say(\"}\") } }\nx;";
        let (t, e) = parse(src, FileId(0));
        assert!(e.is_empty(), "{e:?}");
        assert_eq!(names(&t), ["location{content_by_lua_block{}}", "x"]);
    }

    #[test]
    fn stray_close_brace_reported_and_rest_kept() {
        let (t, e) = parse(b"a;\n}\nb;", FileId(0));
        assert_eq!(names(&t), ["a", "b"]);
        assert!(matches!(e[0], ConfigError::Unexpected { ch: '}', at } if at.start == 3));
    }

    #[test]
    fn unclosed_block_reports_eof_and_the_open_brace() {
        let src = b"http {\n  server {\n    listen 80;\n";
        let (t, e) = parse(src, FileId(0));
        assert_eq!(names(&t), ["http{server{listen}}"]);
        match &e[0] {
            ConfigError::UnclosedBlock { at, open } => {
                assert_eq!(at.start as usize, src.len());
                // the `{` of `server`, on line 2
                assert_eq!(open.start, 16);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn missing_semicolon_at_eof() {
        let (_, e) = parse(b"a b", FileId(0));
        assert!(matches!(e[0], ConfigError::UnexpectedEof { .. }));
    }

    #[test]
    fn unclosed_quote_is_one_error() {
        let (_, e) = parse(b"http {\n a \"b;\n}\n", FileId(0));
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(matches!(
            e[0],
            ConfigError::UnclosedQuote { open, .. } if open.start == 10
        ));
    }

    #[test]
    fn deep_nesting_is_capped() {
        let mut src = Vec::new();
        for _ in 0..10_000 {
            src.extend_from_slice(b"a {");
        }
        let (_, e) = parse(&src, FileId(0));
        assert!(e.iter().any(|e| matches!(e, ConfigError::Syntax { .. })));
    }
}
