//! Lint findings → text, JSON, SARIF 2.1.0 or GitHub workflow commands.
//!
//! Findings carry byte spans; line and column are computed here, when
//! rendering, through the [`SourceMap`]'s line index. Columns are 1-based
//! and count Unicode scalar values (bytes that are not UTF-8 count one each).

pub mod catalogue;
pub mod github;
pub mod json;
pub mod sarif;
pub mod text;

use std::io::{self, Write};

use crate::lint::Diagnostic;
use crate::source::{SourceMap, Span};

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// ruff/clippy-style text with a code frame.
    Text,
    /// A JSON array.
    Json,
    /// SARIF 2.1.0.
    Sarif,
    /// GitHub Actions workflow commands.
    Github,
}

/// Where a span is, for people: path, 1-based start and end line:column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file path as given or included.
    pub path: String,
    /// Start line.
    pub line: u32,
    /// Start column.
    pub column: u32,
    /// End line.
    pub end_line: u32,
    /// End column (exclusive).
    pub end_column: u32,
}

fn char_col(sources: &SourceMap, span: Span, offset: u32) -> (u32, u32) {
    let f = sources.get(span.file);
    let offset = offset.min(f.text.len() as u32);
    let (line, _) = f.lines.line_col(offset);
    let r = f.lines.line_range(line, f.text.len());
    let start = r.start.min(offset as usize);
    let prefix = &f.text[start..offset as usize];
    let cols = String::from_utf8_lossy(prefix).chars().count() as u32;
    (line, cols + 1)
}

/// Resolve `span` to a [`Location`].
pub fn locate(sources: &SourceMap, span: Span) -> Location {
    let (line, column) = char_col(sources, span, span.start);
    let (end_line, end_column) = char_col(sources, span, span.end.max(span.start));
    Location {
        path: display_path(sources, span),
        line,
        column,
        end_line,
        end_column,
    }
}

/// The file path of `span` with `/` separators.
pub fn display_path(sources: &SourceMap, span: Span) -> String {
    sources.path(span.file).to_string_lossy().replace('\\', "/")
}

/// Write `diags` in `format`; `unread`: inputs that could not be read at
/// all, which the text summary names (the other formats carry findings
/// only, and the exit code 2 says an input failed).
pub fn emit(
    w: &mut dyn Write,
    format: Format,
    diags: &[Diagnostic],
    sources: &SourceMap,
    unread: usize,
) -> io::Result<()> {
    match format {
        Format::Text => text::emit(w, diags, sources, unread),
        Format::Json => json::emit(w, diags, sources),
        Format::Sarif => sarif::emit(w, diags, sources),
        Format::Github => github::emit(w, diags, sources),
    }
}
