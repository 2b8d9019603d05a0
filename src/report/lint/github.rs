//! GitHub Actions workflow commands: one annotation per finding,
//! `::error file=…,line=…,col=…,endLine=…,endColumn=…,title=…::message`.
//! Levels: error → `error`, warning → `warning`, info → `notice`.
//! Escaping follows the Actions toolkit (`%`, CR, LF in data; also `:` and
//! `,` in properties).

use std::io::{self, Write};

use crate::lint::{Diagnostic, Severity};
use crate::source::SourceMap;

use super::locate;

fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_prop(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// One workflow command line.
pub fn render(d: &Diagnostic, sources: &SourceMap) -> String {
    let loc = locate(sources, d.span);
    let level = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "notice",
    };
    let mut msg = d.message.clone();
    if let Some(h) = &d.help {
        msg.push_str("\nhelp: ");
        msg.push_str(h);
    }
    format!(
        "::{level} file={},line={},col={},endLine={},endColumn={},title={}::{}",
        escape_prop(&loc.path),
        loc.line,
        loc.column,
        loc.end_line,
        loc.end_column,
        escape_prop(&format!("{} {}", d.rule, d.name)),
        escape_data(&msg)
    )
}

/// Write one command per finding.
pub fn emit(w: &mut dyn Write, diags: &[Diagnostic], sources: &SourceMap) -> io::Result<()> {
    for d in diags {
        writeln!(w, "{}", render(d, sources))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(escape_data("a%b\nc"), "a%25b%0Ac");
        assert_eq!(escape_prop("x:y,z"), "x%3Ay%2Cz");
    }
}
