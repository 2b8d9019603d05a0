//! A JSON array of findings, one object each:
//! `{rule, name, severity, message, help, file, line, column, end_line,
//! end_column}` (1-based lines and columns).

use std::io::{self, Write};

use serde_json::json;

use crate::lint::Diagnostic;
use crate::source::SourceMap;

use super::locate;

/// The findings as a JSON value.
pub fn to_value(diags: &[Diagnostic], sources: &SourceMap) -> serde_json::Value {
    let items: Vec<_> = diags
        .iter()
        .map(|d| {
            let loc = locate(sources, d.span);
            json!({
                "rule": d.rule,
                "name": d.name,
                "severity": d.severity.as_str(),
                "message": d.message,
                "help": d.help,
                "file": loc.path,
                "line": loc.line,
                "column": loc.column,
                "end_line": loc.end_line,
                "end_column": loc.end_column,
            })
        })
        .collect();
    serde_json::Value::Array(items)
}

/// Write the array, pretty-printed.
pub fn emit(w: &mut dyn Write, diags: &[Diagnostic], sources: &SourceMap) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, &to_value(diags, sources))?;
    writeln!(w)
}
