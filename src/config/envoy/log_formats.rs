//! The access-log formats an Envoy config declares, with the span of each:
//! what `gatecheck analyze` reads Envoy's log files with, and cites as
//! "format from envoy.yaml:LINE".
//!
//! Where an access log's format lives (Envoy's API reference,
//! `envoy.config.core.v3.SubstitutionFormatString` and the v3 file/stdout
//! access loggers; the v2 `format`/`json_format` fields of
//! `FileAccessLog`): `typed_config.log_format.text_format`,
//! `…log_format.text_format_source.inline_string`,
//! `…log_format.json_format` (a struct of `%COMMAND%` values),
//! `…log_format.typed_json_format` (older releases), and in v2 configs
//! `typed_config.format` / `typed_config.json_format` (or `config.` before
//! `typed_config`). `text_format_source.filename` names a file elsewhere,
//! which is reported as not read. Field names are matched in snake_case and
//! lowerCamelCase (protobuf's JSON mapping accepts both).
//!
//! The walk visits every `access_log` list anywhere in the document
//! (HTTP connection manager, TCP proxy, listener-level logs), so it needs no
//! knowledge of the rest of the bootstrap. Imports `source` only.

use super::node::{field_name_matches, Node, NodeKind};
use crate::source::Span;

/// A format found in the config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FoundFormat {
    /// A format string of `%COMMAND%` operators.
    Text(String),
    /// A `json_format` / `typed_json_format`, as a JSON object text whose
    /// top-level keys map to their `%COMMAND%` strings (nested objects are
    /// left out: their keys are not top-level keys of the logged line).
    Json(String),
    /// A format gatecheck cannot read from the config (a `filename`, a
    /// `formatters` extension …): why.
    Unread(String),
}

/// One access log's format and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessLogFormat {
    /// The format.
    pub format: FoundFormat,
    /// The span of the format's value (for file:line).
    pub span: Span,
    /// The log's `path`, for file loggers (`/dev/stdout` for stdout ones is
    /// their documented destination; `None` when not given).
    pub path: Option<String>,
    /// The keys from the document root, for messages.
    pub key_path: String,
}

/// Every access log's format in `root`, in document order. Access logs
/// without a format (Envoy's default) are not listed.
pub fn access_log_formats(root: &Node) -> Vec<AccessLogFormat> {
    let mut out = Vec::new();
    walk(root, "", 0, &mut out);
    out
}

/// Deeper than any real config; guards the recursion on hostile input.
const MAX_DEPTH: usize = 64;

fn walk(n: &Node, path: &str, depth: usize, out: &mut Vec<AccessLogFormat>) {
    if depth > MAX_DEPTH {
        return;
    }
    match &n.kind {
        NodeKind::Map(m) => {
            for (k, v) in m {
                let Some(key) = k.as_scalar() else { continue };
                let here = format!("{path}.{key}");
                if field_name_matches(key, "access_log") {
                    for (i, entry) in v.as_seq().unwrap_or_default().iter().enumerate() {
                        access_log(entry, &format!("{here}[{i}]"), out);
                    }
                } else {
                    walk(v, &here, depth + 1, out);
                }
            }
        }
        NodeKind::Seq(items) => {
            for (i, c) in items.iter().enumerate() {
                walk(c, &format!("{path}[{i}]"), depth + 1, out);
            }
        }
        NodeKind::Scalar { .. } => {}
    }
}

/// The key and value of field `name`, unless absent or `null`.
fn field<'n>(n: &'n Node, name: &str) -> Option<(&'n Node, &'n Node)> {
    n.get_entry(name).filter(|(_, v)| !v.is_null())
}

/// One `access_log` entry: its `typed_config` (v3) or `config` (v2).
fn access_log(entry: &Node, path: &str, out: &mut Vec<AccessLogFormat>) {
    let (tc, tp) = match (entry.get("typed_config"), entry.get("config")) {
        (Some(tc), _) => (tc, format!("{path}.typed_config")),
        (None, Some(c)) => (c, format!("{path}.config")),
        (None, None) => return,
    };
    let log_path = tc.get("path").and_then(Node::as_scalar).map(str::to_owned);
    let (holder, hp) = match tc.get("log_format") {
        Some(lf) => (lf, format!("{tp}.log_format")),
        None => (tc, tp),
    };
    let mut push = |format: FoundFormat, span: Span, key: &str| {
        out.push(AccessLogFormat {
            format,
            span,
            path: log_path.clone(),
            key_path: format!("{hp}.{key}"),
        })
    };
    // spans are the keys': a block mapping's own span starts on the line after
    for key in ["text_format", "format"] {
        if let Some((k, v)) = field(holder, key) {
            match v.as_scalar() {
                Some(s) => push(FoundFormat::Text(s.to_owned()), k.span, key),
                None => push(
                    FoundFormat::Unread(format!("{key} is {}, not a string", v.shape())),
                    k.span,
                    key,
                ),
            }
            return;
        }
    }
    if let Some((sk, src)) = field(holder, "text_format_source") {
        if let Some((k, s)) = field(src, "inline_string") {
            match s.as_scalar() {
                Some(t) => push(
                    FoundFormat::Text(t.to_owned()),
                    k.span,
                    "text_format_source.inline_string",
                ),
                None => push(
                    FoundFormat::Unread("inline_string is not a string".into()),
                    k.span,
                    "text_format_source.inline_string",
                ),
            }
        } else {
            let what = if src.get("filename").is_some() {
                "the format is in a file (text_format_source.filename) gatecheck does not read; give it with --log-format envoy=..."
            } else {
                "text_format_source holds no inline_string"
            };
            push(
                FoundFormat::Unread(what.into()),
                sk.span,
                "text_format_source",
            );
        }
        return;
    }
    for key in ["json_format", "typed_json_format"] {
        if let Some((k, v)) = field(holder, key) {
            match v.as_map() {
                Some(m) => {
                    let mut obj = serde_json::Map::new();
                    for (k, val) in m {
                        if let (Some(k), Some(val)) = (k.as_scalar(), val.as_scalar()) {
                            obj.insert(k.to_owned(), serde_json::Value::String(val.to_owned()));
                        }
                    }
                    let text = serde_json::Value::Object(obj).to_string();
                    push(FoundFormat::Json(text), k.span, key);
                }
                None => push(
                    FoundFormat::Unread(format!("{key} is {}, not a mapping", v.shape())),
                    k.span,
                    key,
                ),
            }
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    fn found(yaml: &str) -> Vec<AccessLogFormat> {
        let root = super::super::node::load(FileId(0), yaml.as_bytes()).expect("loads");
        access_log_formats(&root)
    }

    #[test]
    fn every_place_a_format_can_be() {
        let yaml = r#"
static_resources:
  listeners:
  - name: l
    access_log:
    - name: envoy.access_loggers.stdout
      typed_config:
        log_format:
          text_format: "%START_TIME% %RESPONSE_CODE%\n"
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          access_log:
          - name: envoy.access_loggers.file
            typed_config:
              path: /var/log/envoy/access.log
              log_format:
                text_format_source:
                  inline_string: "[%START_TIME%] %RESPONSE_CODE% %RESPONSE_FLAGS%\n"
          - name: json
            typedConfig:
              logFormat:
                jsonFormat:
                  code: "%RESPONSE_CODE%"
                  nested: { a: "%UPSTREAM_HOST%" }
          - name: v2
            config:
              format: "%RESPONSE_CODE% v2\n"
          - name: elsewhere
            typed_config:
              log_format: { text_format_source: { filename: /etc/envoy/fmt.txt } }
          - name: default
            typed_config: { path: /dev/stdout }
"#;
        let f = found(yaml);
        let kinds: Vec<&FoundFormat> = f.iter().map(|f| &f.format).collect();
        assert_eq!(f.len(), 5, "{kinds:?}");
        assert_eq!(
            kinds[0],
            &FoundFormat::Text("%START_TIME% %RESPONSE_CODE%\n".into())
        );
        assert!(matches!(kinds[1], FoundFormat::Text(t) if t.starts_with("[%START_TIME%]")));
        assert_eq!(f[1].path.as_deref(), Some("/var/log/envoy/access.log"));
        assert_eq!(
            kinds[2],
            &FoundFormat::Json(r#"{"code":"%RESPONSE_CODE%"}"#.into())
        );
        assert_eq!(kinds[3], &FoundFormat::Text("%RESPONSE_CODE% v2\n".into()));
        assert!(matches!(kinds[4], FoundFormat::Unread(w) if w.contains("filename")));
        // the spans point at the keys: line 9 holds the first text_format
        let line = yaml[..f[0].span.start as usize].matches('\n').count() + 1;
        assert_eq!(line, 9);
        assert!(f[1].key_path.ends_with("text_format_source.inline_string"));
    }

    #[test]
    fn no_access_log_nothing_found() {
        assert!(found("static_resources: {clusters: []}\n").is_empty());
        assert!(found("access_log: 5\n").is_empty());
        assert!(found("access_log: [1, {typed_config: 2}]\n").is_empty());
    }
}
