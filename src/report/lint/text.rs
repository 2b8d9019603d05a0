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
    let line_text = line_text.trim_end();
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
    let (shown, start, width) = window(line_text, start, width);
    out += &format!("{} | {shown}\n", loc.line);
    out += &format!("{pad} | {}{}\n", " ".repeat(start), "^".repeat(width));
    if let Some(h) = &d.help {
        out += &format!("{pad} = help: {h}\n");
    }
    out
}

/// A source line longer than this (in chars, tabs widened) is shown in
/// part around the span: a minified or generated config (10,000 nested
/// blocks on one line) printed its whole line under every finding.
const FRAME_MAX: usize = 160;

/// The part of `line` shown in a code frame and the caret's start and
/// width in it: the whole line when it fits in [`FRAME_MAX`], else a window
/// from a little before the span, with `…` where the line goes on.
fn window(line: &str, start: usize, width: usize) -> (String, usize, usize) {
    let len = line.chars().count();
    if len <= FRAME_MAX {
        return (line.to_owned(), start, width);
    }
    let from = start.saturating_sub(FRAME_MAX / 4).min(len);
    let to = (from + FRAME_MAX).min(len);
    let mut shown = String::new();
    if from > 0 {
        shown.push('…');
    }
    shown.extend(line.chars().skip(from).take(to - from));
    if to < len {
        shown.push('…');
    }
    let lead = usize::from(from > 0);
    let width = width.min(to.saturating_sub(start)).max(1);
    (shown, start - from + lead, width)
}

/// The closing summary line; `unread`: inputs that could not be read at
/// all (their errors, without a location, went to stderr), so an empty
/// result is never called "All checks passed." when part of the input was
/// not checked.
pub fn summary(diags: &[Diagnostic], unread: usize) -> String {
    let not_read = match unread {
        0 => String::new(),
        1 => " 1 input could not be read (see the error above): it was not checked.".into(),
        n => {
            format!(" {n} inputs could not be read (see the errors above): they were not checked.")
        }
    };
    if diags.is_empty() {
        return if unread == 0 {
            "All checks passed.\n".into()
        } else {
            format!("No findings in what was read.{not_read}\n")
        };
    }
    let count = |s: Severity| diags.iter().filter(|d| d.severity == s).count();
    let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
    format!(
        "Found {} ({}, {}, {}).",
        plural(diags.len(), "problem"),
        plural(count(Severity::Error), "error"),
        plural(count(Severity::Warning), "warning"),
        plural(count(Severity::Info), "info"),
    ) + &not_read
        + "\n"
}

/// Write every finding, a blank line between them, then the summary
/// (`unread` as for [`summary`]).
pub fn emit(
    w: &mut dyn Write,
    diags: &[Diagnostic],
    sources: &SourceMap,
    unread: usize,
) -> io::Result<()> {
    for d in diags {
        writeln!(w, "{}", render(d, sources))?;
    }
    w.write_all(summary(diags, unread).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Span;

    fn diag(span: Span) -> Diagnostic {
        Diagnostic {
            rule: "NGX-TEST-001",
            name: "test",
            severity: Severity::Warning,
            span,
            message: "msg".into(),
            help: Some("fix it".into()),
        }
    }

    #[test]
    fn caret_under_span_with_tabs_and_non_utf8() {
        let mut sm = SourceMap::new();
        let text = b"a;\n\tcaf\xe9 x;\n".to_vec();
        let f = sm.add("t.conf", text);
        // `x;` starts at byte 9 (after a tab and 5 bytes incl. the bad byte).
        let out = render(&diag(Span::new(f, 9, 11)), &sm);
        assert_eq!(
            out,
            "warning[NGX-TEST-001]: msg\n --> t.conf:2:7\n  |\n2 |     caf\u{fffd} x;\n  |          ^^\n  = help: fix it\n"
        );
    }

    #[test]
    fn a_long_line_is_shown_around_its_span() {
        let mut sm = SourceMap::new();
        let mut text = "a ".repeat(2000);
        let at = text.len();
        text += "bad;";
        text += &" b".repeat(2000);
        let f = sm.add("t.conf", text.into_bytes());
        let out = render(&diag(Span::new(f, at, at + 4)), &sm);
        let lines: Vec<&str> = out.lines().collect();
        let (code, caret) = (lines[3], lines[4]);
        assert!(
            code.starts_with("1 | …a a") && code.ends_with("b b…"),
            "{code}"
        );
        assert!(code.chars().count() < FRAME_MAX + 10, "{code}");
        // the caret is under `bad;`
        let col = caret.find('^').unwrap();
        let under: String = code
            .chars()
            .skip(caret[..col].chars().count())
            .take(4)
            .collect();
        assert_eq!(under, "bad;", "{code}\n{caret}");
    }

    #[test]
    fn span_at_end_of_file() {
        let mut sm = SourceMap::new();
        let f = sm.add("t.conf", b"a {\n".to_vec());
        let out = render(&diag(Span::new(f, 4, 4)), &sm);
        assert!(out.contains(" --> t.conf:2:1\n"), "{out}");
        assert!(out.contains("  | ^\n"), "{out}");
    }

    #[test]
    fn summary_counts() {
        let mut sm = SourceMap::new();
        let f = sm.add("t.conf", b"x;".to_vec());
        let d = diag(Span::new(f, 0, 1));
        assert_eq!(summary(&[], 0), "All checks passed.\n");
        assert_eq!(
            summary(&[], 1),
            "No findings in what was read. 1 input could not be read (see the error above): it was not checked.\n"
        );
        assert_eq!(
            summary(&[d.clone(), d], 0),
            "Found 2 problems (0 errors, 2 warnings, 0 infos).\n"
        );
    }
}
