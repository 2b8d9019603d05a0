//! Config errors → messages for people. Errors carry byte spans only; the
//! line numbers a message names are computed here, as for findings.

use std::fmt::Display;

use crate::config::ConfigError;
use crate::lint::{diagnostic, Diagnostic, Severity};
use crate::source::{SourceMap, Span};

/// The error's message, with the line an unclosed block or quote was opened
/// on (`unexpected end of file, expecting "}" (block opened on line 2)`, as
/// nginx words it).
pub fn message(err: &ConfigError, sources: &SourceMap) -> String {
    match err.opened_at() {
        Some((what, open)) => {
            let (line, _) = sources.line_col(open);
            format!("{err} ({what} on line {line})")
        }
        None => err.to_string(),
    }
}

/// A config error with a span as a finding (rule `PARSE`, error), so it is
/// rendered like any other; `None` for errors without a location.
pub fn diagnostic(err: &ConfigError, sources: &SourceMap) -> Option<Diagnostic> {
    Some(Diagnostic {
        rule: diagnostic::PARSE_ERROR,
        name: "parse-error",
        severity: Severity::Error,
        span: err.span()?,
        message: message(err, sources),
        help: None,
    })
}

/// `path:line:col: message`, for people (line and column of `span`'s start,
/// the column counted in bytes as the proxies' own messages do).
pub fn at(sources: &SourceMap, span: Span, message: &dyn Display) -> String {
    let (line, col) = sources.line_col(span);
    format!(
        "{}:{line}:{col}: {message}",
        sources.path(span.file).display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unclosed_block_names_the_line_it_was_opened_on() {
        let mut sources = SourceMap::new();
        let src = b"http {\n  server {\n    listen 80;\n".to_vec();
        let id = sources.add("n.conf", src.clone());
        let (_, errors) = crate::config::nginx::parser::parse(&src, id);
        assert_eq!(
            message(&errors[0], &sources),
            "unexpected end of file, expecting \"}\" (block opened on line 2)"
        );
        let d = diagnostic(&errors[0], &sources).expect("has a span");
        assert_eq!(d.span.start as usize, src.len());
    }

    #[test]
    fn unclosed_quote_names_its_line_and_at_names_the_place() {
        let mut sources = SourceMap::new();
        let src = b"http {\n a \"b;\n}\n".to_vec();
        let id = sources.add("q.conf", src.clone());
        let (_, errors) = crate::config::nginx::parser::parse(&src, id);
        assert_eq!(
            message(&errors[0], &sources),
            "unterminated quoted string (opened on line 2)"
        );
        let open = errors[0].opened_at().expect("opened").1;
        assert_eq!(at(&sources, open, &"x"), "q.conf:2:4: x");
    }
}
