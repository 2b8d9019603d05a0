//! YAML or JSON text → a tree of [`Node`]s, each with the byte span of its
//! text: the position-keeping pass that lets every Envoy setting point at
//! its file:line.
//!
//! Why `saphyr-parser`: serde_yaml's `Location` is only exposed for errors,
//! not for values, and serde_json has no positions at all. saphyr-parser (the
//! maintained successor of yaml-rust/yaml-rust2, by the same maintainers) is
//! a YAML 1.2 event parser whose every event carries a start and end
//! [`Marker`](saphyr_parser::Marker); YAML 1.2 is a superset of JSON, so one
//! loader serves both `.yaml` and `.json` bootstraps. Its only dependencies
//! are `arraydeque` and `thiserror`. Markers count characters, so they are
//! converted to byte offsets here.
//!
//! Anchors and aliases are expanded (an alias keeps the spans of the anchored
//! node), `<<` merge keys are applied, and both are bounded so that a hostile
//! file cannot blow up memory or the stack.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Span as YSpan};

use crate::source::{FileId, Span};

/// Deepest nesting accepted (Envoy configs are far shallower).
const MAX_DEPTH: usize = 200;
/// Most nodes that alias expansion may create (guards "billion laughs").
const MAX_ALIAS_NODES: usize = 100_000;

/// One YAML/JSON value with its span.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The value.
    pub kind: NodeKind,
    /// The bytes of its text (for a mapping or sequence, from its first to
    /// its last byte).
    pub span: Span,
}

/// The shape of a [`Node`].
#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    /// A scalar as written (after YAML unquoting).
    Scalar {
        /// The text.
        text: String,
        /// True when it was quoted (so `"5"` is a string, `5` may be a
        /// number).
        quoted: bool,
    },
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in document order.
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// The scalar text, if this is a scalar.
    pub fn as_scalar(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    /// True for a plain `null`, `~` or empty scalar.
    pub fn is_null(&self) -> bool {
        matches!(&self.kind, NodeKind::Scalar { text, quoted: false } if matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }

    /// The entries, if this is a mapping.
    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.kind {
            NodeKind::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The items, if this is a sequence.
    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.kind {
            NodeKind::Seq(s) => Some(s),
            _ => None,
        }
    }

    /// The value of field `name` (given in snake_case) of a mapping, found
    /// under its snake_case or its lowerCamelCase JSON name, as protobuf's
    /// JSON mapping accepts both. `None` when absent or explicitly `null`.
    pub fn get(&self, name: &str) -> Option<&Node> {
        let (_, v) = self.get_entry(name)?;
        (!v.is_null()).then_some(v)
    }

    /// Like [`Node::get`], but also gives the key node.
    pub fn get_entry(&self, name: &str) -> Option<(&Node, &Node)> {
        let map = self.as_map()?;
        map.iter()
            .find(|(k, _)| k.as_scalar().is_some_and(|k| field_name_matches(k, name)))
            .map(|(k, v)| (k, v))
    }

    /// A short name of the node's shape, for messages.
    pub fn shape(&self) -> &'static str {
        match &self.kind {
            NodeKind::Scalar { .. } if self.is_null() => "null",
            NodeKind::Scalar { .. } => "a scalar",
            NodeKind::Seq(_) => "a list",
            NodeKind::Map(_) => "a mapping",
        }
    }
}

/// True when `key` is `snake` or its lowerCamelCase form.
pub fn field_name_matches(key: &str, snake: &str) -> bool {
    if key == snake {
        return true;
    }
    // Compare against the camelCase form without allocating.
    let mut k = key.bytes();
    let mut upper = false;
    for b in snake.bytes() {
        if b == b'_' {
            upper = true;
            continue;
        }
        let want = if upper { b.to_ascii_uppercase() } else { b };
        upper = false;
        if k.next() != Some(want) {
            return false;
        }
    }
    k.next().is_none()
}

/// Why a file could not be loaded as YAML/JSON.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    /// The file is not UTF-8 (YAML and JSON must be).
    #[error("not valid UTF-8 (YAML and JSON files must be UTF-8)")]
    NotUtf8 {
        /// The first invalid byte.
        span: Span,
    },
    /// The YAML/JSON syntax is broken.
    #[error("YAML/JSON syntax: {message}")]
    Syntax {
        /// The parser's message.
        message: String,
        /// Where the parser stopped.
        span: Span,
    },
    /// Nesting deeper than the loader accepts.
    #[error("nesting deeper than {MAX_DEPTH} levels")]
    TooDeep {
        /// The node that went too deep.
        span: Span,
    },
    /// An alias names no anchor, or expansion grew too large.
    #[error("{message}")]
    Alias {
        /// What went wrong.
        message: String,
        /// The alias.
        span: Span,
    },
    /// The file holds no document.
    #[error("the file is empty")]
    Empty {
        /// The start of the file.
        span: Span,
    },
    /// A key given twice in one mapping (JSON or YAML): Envoy does not keep
    /// both values, and which one a loader keeps differs, so the file is
    /// not read rather than linted with a guess.
    #[error("duplicate key `{key}`: one mapping sets it twice and Envoy keeps only one of the values; remove one")]
    DuplicateKey {
        /// The key.
        key: String,
        /// Its first occurrence.
        first: Span,
        /// The second.
        span: Span,
    },
}

impl LoadError {
    /// Where the error is.
    pub fn span(&self) -> Span {
        match self {
            Self::NotUtf8 { span }
            | Self::Syntax { span, .. }
            | Self::TooDeep { span }
            | Self::Alias { span, .. }
            | Self::DuplicateKey { span, .. }
            | Self::Empty { span } => *span,
        }
    }
}

/// Char index → byte offset, for non-ASCII text.
struct Offsets {
    /// Byte offset of each char, plus the text length at the end; empty when
    /// the text is ASCII (then char index = byte offset).
    table: Vec<u32>,
    len: usize,
}

impl Offsets {
    fn new(text: &str) -> Self {
        let table = if text.is_ascii() {
            Vec::new()
        } else {
            text.char_indices()
                .map(|(i, _)| i as u32)
                .chain(std::iter::once(text.len() as u32))
                .collect()
        };
        Offsets {
            table,
            len: text.len(),
        }
    }

    fn byte(&self, char_index: usize) -> usize {
        if self.table.is_empty() {
            char_index.min(self.len)
        } else {
            self.table.get(char_index).map_or(self.len, |&b| b as usize)
        }
    }
}

struct Loader<'a> {
    parser: Parser<'a, saphyr_parser::StrInput<'a>>,
    file: FileId,
    offsets: Offsets,
    anchors: HashMap<usize, Node>,
    alias_nodes: usize,
}

/// The syntax a file is read with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    /// YAML 1.2 (also accepts JSON).
    Yaml,
    /// Strict JSON: checked by serde_json first, so that what YAML would
    /// forgive (`{"a": }`, comments) is reported as Envoy's JSON loader would.
    Json,
}

impl Syntax {
    /// As Envoy decides: `.json` files are JSON, everything else YAML.
    pub fn from_path(path: &std::path::Path) -> Self {
        match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("json") => Syntax::Json,
            _ => Syntax::Yaml,
        }
    }
}

/// Load the first document of `text` (the contents of `file`).
pub fn load(file: FileId, text: &[u8]) -> Result<Node, LoadError> {
    load_as(file, text, Syntax::Yaml)
}

/// Load `text` with the given syntax.
pub fn load_as(file: FileId, text: &[u8], syntax: Syntax) -> Result<Node, LoadError> {
    let text = std::str::from_utf8(text).map_err(|e| LoadError::NotUtf8 {
        span: Span::new(file, e.valid_up_to(), e.valid_up_to() + 1),
    })?;
    if syntax == Syntax::Json {
        if let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(text) {
            let at = json_error_offset(text, e.line(), e.column());
            let message = e.to_string();
            // serde_json appends " at line L column C"; the span says that.
            let message = message
                .rsplit_once(" at line ")
                .map_or(message.as_str(), |(m, _)| m)
                .to_owned();
            return Err(LoadError::Syntax {
                message,
                span: Span::new(file, at, at),
            });
        }
    }
    let mut loader = Loader {
        parser: Parser::new_from_str(text),
        file,
        offsets: Offsets::new(text),
        anchors: HashMap::new(),
        alias_nodes: 0,
    };
    loop {
        let (ev, span) = loader.next()?;
        match ev {
            Event::StreamStart | Event::DocumentStart(_) | Event::Nothing => continue,
            Event::StreamEnd => return Err(LoadError::Empty { span }),
            ev => return loader.node(ev, span, 0),
        }
    }
}

/// Byte offset of serde_json's 1-based line and column (column counts bytes).
fn json_error_offset(text: &str, line: usize, column: usize) -> usize {
    let line_start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    (line_start + column.saturating_sub(1)).min(text.len())
}

impl<'a> Loader<'a> {
    fn span(&self, s: YSpan) -> Span {
        let start = self.offsets.byte(s.start.index());
        let end = self.offsets.byte(s.end.index()).max(start);
        Span::new(self.file, start, end)
    }

    fn next(&mut self) -> Result<(Event<'a>, Span), LoadError> {
        match self.parser.next_event() {
            Some(Ok((ev, s))) => Ok((ev, self.span(s))),
            Some(Err(e)) => {
                let at = self.offsets.byte(e.marker().index());
                Err(LoadError::Syntax {
                    message: e.info().to_owned(),
                    span: Span::new(self.file, at, at),
                })
            }
            None => {
                let end = self.offsets.len;
                Err(LoadError::Syntax {
                    message: "unexpected end of input".into(),
                    span: Span::new(self.file, end, end),
                })
            }
        }
    }

    fn node(&mut self, ev: Event<'a>, span: Span, depth: usize) -> Result<Node, LoadError> {
        if depth > MAX_DEPTH {
            return Err(LoadError::TooDeep { span });
        }
        let (node, anchor) = match ev {
            Event::Scalar(text, style, anchor, _tag) => (
                Node {
                    kind: NodeKind::Scalar {
                        text: text.into_owned(),
                        quoted: !matches!(style, ScalarStyle::Plain),
                    },
                    span,
                },
                anchor,
            ),
            Event::SequenceStart(anchor, _) => {
                let mut items = Vec::new();
                let mut end = span.end;
                loop {
                    let (ev, s) = self.next()?;
                    if matches!(ev, Event::SequenceEnd) {
                        end = end.max(s.start);
                        break;
                    }
                    let item = self.node(ev, s, depth + 1)?;
                    end = end.max(item.span.end);
                    items.push(item);
                }
                (
                    Node {
                        kind: NodeKind::Seq(items),
                        span: Span { end, ..span },
                    },
                    anchor,
                )
            }
            Event::MappingStart(anchor, _) => {
                let mut entries: Vec<(Node, Node)> = Vec::new();
                let mut merged: Vec<(Node, Node)> = Vec::new();
                // the explicit scalar keys and where each is: a search of
                // `entries` per key was quadratic (an object of 100,000
                // keys did not load in two minutes)
                let mut keys: HashMap<String, Span> = HashMap::new();
                let mut end = span.end;
                loop {
                    let (ev, s) = self.next()?;
                    if matches!(ev, Event::MappingEnd) {
                        end = end.max(s.start);
                        break;
                    }
                    let key = self.node(ev, s, depth + 1)?;
                    let (ev, s) = self.next()?;
                    let value = self.node(ev, s, depth + 1)?;
                    end = end.max(value.span.end);
                    let is_merge = matches!(&key.kind, NodeKind::Scalar { text, quoted: false } if text == "<<");
                    if let Some(k) = key.as_scalar().filter(|_| !is_merge) {
                        if let Some(first) = keys.get(k) {
                            return Err(LoadError::DuplicateKey {
                                key: k.to_owned(),
                                first: *first,
                                span: key.span,
                            });
                        }
                        keys.insert(k.to_owned(), key.span);
                    }
                    if is_merge {
                        match value.kind {
                            NodeKind::Map(m) => merged.extend(m),
                            NodeKind::Seq(items) => {
                                for item in items {
                                    if let NodeKind::Map(m) = item.kind {
                                        merged.extend(m);
                                    }
                                }
                            }
                            NodeKind::Scalar { .. } => {}
                        }
                    } else {
                        entries.push((key, value));
                    }
                }
                // Merge keys: explicit entries win over merged ones.
                for (k, v) in merged {
                    if !k.as_scalar().is_some_and(|k| keys.contains_key(k)) {
                        entries.push((k, v));
                    }
                }
                (
                    Node {
                        kind: NodeKind::Map(entries),
                        span: Span { end, ..span },
                    },
                    anchor,
                )
            }
            Event::Alias(id) => {
                let Some(target) = self.anchors.get(&id) else {
                    return Err(LoadError::Alias {
                        message: "alias to an unknown anchor".into(),
                        span,
                    });
                };
                self.alias_nodes += count_nodes(target);
                if self.alias_nodes > MAX_ALIAS_NODES {
                    return Err(LoadError::Alias {
                        message: format!("aliases expand to more than {MAX_ALIAS_NODES} nodes"),
                        span,
                    });
                }
                return Ok(target.clone());
            }
            other => {
                return Err(LoadError::Syntax {
                    message: format!("unexpected YAML event {other:?}"),
                    span,
                })
            }
        };
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        Ok(node)
    }
}

fn count_nodes(node: &Node) -> usize {
    1 + match &node.kind {
        NodeKind::Scalar { .. } => 0,
        NodeKind::Seq(items) => items.iter().map(count_nodes).sum(),
        NodeKind::Map(m) => m.iter().map(|(k, v)| count_nodes(k) + count_nodes(v)).sum(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_of<'t>(text: &'t str, n: &Node) -> &'t str {
        &text[n.span.start as usize..n.span.end as usize]
    }

    #[test]
    fn yaml_values_keep_byte_spans() {
        let text = "a:\n  b: \"x y\"\n  c: [1, two]\nd: é\ne: 5\n";
        let root = load(FileId(0), text.as_bytes()).unwrap();
        let b = root.get("a").unwrap().get("b").unwrap();
        assert_eq!(b.as_scalar(), Some("x y"));
        assert_eq!(text_of(text, b), "\"x y\"");
        let c = root.get("a").unwrap().get("c").unwrap();
        assert_eq!(c.as_seq().unwrap().len(), 2);
        assert_eq!(text_of(text, &c.as_seq().unwrap()[1]), "two");
        // Non-ASCII before a node: offsets are bytes, not chars.
        let e = root.get("e").unwrap();
        assert_eq!(text_of(text, e), "5");
        assert_eq!(text_of(text, root.get("d").unwrap()), "é");
    }

    #[test]
    fn json_loads_with_spans_and_tabs() {
        let text = "{\n\t\"connectTimeout\": \"0.25s\",\n\t\"hosts\": [ {\"x\": 1} ]\n}\n";
        let root = load(FileId(0), text.as_bytes()).unwrap();
        let t = root.get("connect_timeout").unwrap();
        assert_eq!(t.as_scalar(), Some("0.25s"));
        assert_eq!(text_of(text, t), "\"0.25s\"");
        assert!(root.get("hosts").unwrap().as_seq().is_some());
    }

    #[test]
    fn camel_case_names() {
        let table = [
            ("connect_timeout", "connect_timeout", true),
            ("connectTimeout", "connect_timeout", true),
            ("connecttimeout", "connect_timeout", false),
            ("ConnectTimeout", "connect_timeout", false),
            ("max_request_headers_kb", "max_request_headers_kb", true),
            ("maxRequestHeadersKb", "max_request_headers_kb", true),
            ("name", "name", true),
            ("names", "name", false),
            ("nam", "name", false),
        ];
        for (key, snake, ok) in table {
            assert_eq!(field_name_matches(key, snake), ok, "{key} vs {snake}");
        }
    }

    #[test]
    fn anchors_aliases_and_merge_keys() {
        let text = "base: &b\n  timeout: 5s\n  retries: 1\nx:\n  <<: *b\n  retries: 3\ny: *b\n";
        let root = load(FileId(0), text.as_bytes()).unwrap();
        let x = root.get("x").unwrap();
        assert_eq!(x.get("retries").unwrap().as_scalar(), Some("3"));
        assert_eq!(x.get("timeout").unwrap().as_scalar(), Some("5s"));
        assert_eq!(
            root.get("y").unwrap().get("retries").unwrap().as_scalar(),
            Some("1")
        );
    }

    #[test]
    fn a_mapping_of_many_keys_loads_in_linear_time() {
        // 200,000 keys: a quadratic duplicate search is 2·10^10 compares,
        // minutes even optimized; a hash set, milliseconds (no timing is
        // asserted: a regression shows as a test that does not end)
        let keys: Vec<String> = (0..200_000).map(|i| format!("\"k{i}\": {i}")).collect();
        let text = format!("{{{}}}", keys.join(","));
        let node = load_as(FileId(0), text.as_bytes(), Syntax::Json).unwrap();
        assert_eq!(node.as_map().map(<[_]>::len), Some(200_000));
    }

    #[test]
    fn a_key_given_twice_is_refused_naming_both() {
        // Envoy keeps one value of a duplicated key (which one depends on
        // its loader): reading either would be a guess
        for (text, syntax) in [
            ("a:\n  t: 1s\n  u: 2\n  t: 300s\n", Syntax::Yaml),
            (
                "{\"a\": {\"t\": \"1s\", \"u\": 2, \"t\": \"300s\"}}",
                Syntax::Json,
            ),
        ] {
            let err = load_as(FileId(0), text.as_bytes(), syntax).unwrap_err();
            let LoadError::DuplicateKey { key, first, span } = &err else {
                panic!("{err:?}");
            };
            assert_eq!(key, "t");
            assert_eq!(
                &text[first.start as usize..first.end as usize].trim_matches('"'),
                &"t"
            );
            assert!(
                first.start < span.start
                    && text[span.start as usize..]
                        .trim_start_matches('"')
                        .starts_with("t")
            );
        }
        // the same key in two mappings, and merge keys, are not duplicates
        let ok = "a: &x {t: 1s}\nb: {t: 2s}\nc:\n  <<: *x\n  t: 3s\n";
        assert!(load_as(FileId(0), ok.as_bytes(), Syntax::Yaml).is_ok());
    }

    #[test]
    fn errors_not_panics() {
        let cases: &[&[u8]] = &[
            b"",
            b"a: [1, 2",
            b"a: *nope",
            b"\xff\xfe",
            b"a:\n  - b\n c",
            b"key: 'unterminated",
        ];
        for text in cases {
            assert!(
                load(FileId(0), text).is_err(),
                "{:?}",
                String::from_utf8_lossy(text)
            );
        }
        let deep = "[".repeat(300);
        assert!(load(FileId(0), deep.as_bytes()).is_err());
        let deep_block: String = (0..400)
            .map(|i| format!("{}- \n", " ".repeat(i * 2)))
            .collect();
        let _ = load(FileId(0), deep_block.as_bytes());
        // Billion laughs stays bounded.
        let mut lol = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 0..9 {
            let prev = (b'a' + i) as char;
            let cur = (b'a' + i + 1) as char;
            lol.push_str(&format!("{cur}: &{cur} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
        }
        assert!(matches!(
            load(FileId(0), lol.as_bytes()),
            Err(LoadError::Alias { .. })
        ));
    }

    #[test]
    fn strict_json_errors_have_positions() {
        let text = b"{\n  \"a\": }\n";
        let err = load_as(FileId(0), text, Syntax::Json).unwrap_err();
        assert_eq!(err.span().start, 9);
        assert!(
            err.to_string()
                .starts_with("YAML/JSON syntax: expected value"),
            "{err}"
        );
        assert!(load_as(FileId(0), b"{\"a\": 1}", Syntax::Json).is_ok());
        assert_eq!(Syntax::from_path("x/e.JSON".as_ref()), Syntax::Json);
        assert_eq!(Syntax::from_path("x/e.yaml".as_ref()), Syntax::Yaml);
    }

    #[test]
    fn null_and_missing_are_alike() {
        let root = load(FileId(0), b"a: null\nb: ~\nc:\nd: \"null\"\n").unwrap();
        assert!(root.get("a").is_none());
        assert!(root.get("b").is_none());
        assert!(root.get("c").is_none());
        assert_eq!(root.get("d").unwrap().as_scalar(), Some("null"));
    }
}
