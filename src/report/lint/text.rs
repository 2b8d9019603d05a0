//! ruff/clippy-style text: a header, the location, a code frame with a
//! caret underline, and the help.
//!
//! ```text
//! warning[NGX-TMO-001]: proxy_connect_timeout 2m is longer than 75s
//!  --> nginx.conf:7:9
//!   |
//! 7 |         proxy_connect_timeout 120s;
//!   |         ^^^^^^^^^^^^^^^^^^^^^^^^^^^
//!   = help: …
//! ```

use std::io::{self, Write};

use crate::lint::{Diagnostic, Severity};
use crate::source::SourceMap;

use super::locate;

const TAB: &str = "    ";

/// Render one finding.
pub fn render(d: &Diagnostic, sources: &SourceMap) -> String {
    let loc = locate(sources, d.span);
    let file = sources.get(d.span.file);
    let line_text = file.line_text(loc.line).replace('\t', TAB);
    let gutter = loc.line.to_string().len();
    let pad = " ".repeat(gutter);
    let mut out = format!("{}[{}]: {}\n", d.severity, d.rule, d.message);
    out += &format!("{pad}--> {}:{}:{}\n", loc.path, loc.line, loc.column);
    out += &format!("{pad} |\n");
    out += &format!("{} | {}\n", loc.line, line_text.trim_end());
    // Caret under the span's first line (tabs widened like the text).
    let raw_line = file.line_text(loc.line);
    let before: String = raw_line.chars().take(loc.column as usize - 1).collect();
    let start = before.replace('\t', TAB).chars().count();
    let end_col = if loc.end_line == loc.line {
        loc.end_column as usize - 1
    } else {
        raw_line.chars().count()
    };
    let upto: String = raw_line
        .chars()
        .take(end_col.max(loc.column as usize - 1))
        .collect();
    let width = upto
        .replace('\t', TAB)
        .chars()
        .count()
        .saturating_sub(start)
        .max(1);
    out += &format!("{pad} | {}{}\n", " ".repeat(start), "^".repeat(width));
    if let Some(h) = &d.help {
        out += &format!("{pad} = help: {h}\n");
    }
    out
}

/// The closing summary line.
pub fn summary(diags: &[Diagnostic]) -> String {
    if diags.is_empty() {
        return "All checks passed.\n".into();
    }
    let count = |s: Severity| diags.iter().filter(|d| d.severity == s).count();
    let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
    format!(
        "Found {} ({}, {}, {}).\n",
        plural(diags.len(), "problem"),
        plural(count(Severity::Error), "error"),
        plural(count(Severity::Warning), "warning"),
        plural(count(Severity::Info), "info"),
    )
}

/// Write every finding, a blank line between them, then the summary.
pub fn emit(w: &mut dyn Write, diags: &[Diagnostic], sources: &SourceMap) -> io::Result<()> {
    for d in diags {
        writeln!(w, "{}", render(d, sources))?;
    }
    w.write_all(summary(diags).as_bytes())
}
