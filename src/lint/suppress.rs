//! Suppression comments: `# gatecheck: ignore ID[,ID…]`.
//!
//! A small scanner of its own (it does not need the config's grammar): a
//! `#` followed by `gatecheck: ignore` and a list of rule ids, id prefixes or
//! names separated by commas or spaces. On a plain line it covers findings on
//! that line; on the line that opens a block (nginx `location … {`, an
//! HAProxy section, a YAML mapping key) it covers the whole block. A
//! suppression entry that covers no finding is itself reported (info), but
//! only for rules that ran, so `--select` does not make others look unused.

use crate::source::{FileId, SourceMap, Span};

use super::diagnostic::{Diagnostic, Severity, UNUSED_SUPPRESSION};
use super::registry;

/// One rule entry of one suppression comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The selector as written.
    pub key: String,
    /// Where it is written.
    pub span: Span,
    /// Set when it suppressed something.
    pub used: bool,
}

/// One suppression comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    /// The file.
    pub file: FileId,
    /// Covered byte range (line, or block opened on the line).
    pub start: u32,
    /// End of the covered range (exclusive).
    pub end: u32,
    /// Rules it names.
    pub entries: Vec<Entry>,
}

const MARKER: &[u8] = b"gatecheck:";

/// Find suppressions in `file`; `blocks` are block spans of the model.
pub fn scan(sources: &SourceMap, file: FileId, blocks: &[Span]) -> Vec<Suppression> {
    let src = sources.get(file);
    let text = &src.text;
    let mut out = Vec::new();
    for pos in memchr::memmem::find_iter(text, MARKER) {
        let line_start = memchr::memrchr(b'\n', &text[..pos])
            .map(|i| i + 1)
            .unwrap_or(0);
        let line_end = memchr::memchr(b'\n', &text[pos..])
            .map(|i| pos + i)
            .unwrap_or(text.len());
        // `#` then optional spaces right before the marker.
        let before = &text[line_start..pos];
        let trimmed = before.iter().rposition(|&c| c != b' ' && c != b'\t');
        if trimmed.map(|i| before[i]) != Some(b'#') {
            continue;
        }
        let mut i = pos + MARKER.len();
        while i < line_end && (text[i] == b' ' || text[i] == b'\t') {
            i += 1;
        }
        if !text[i..line_end].starts_with(b"ignore") {
            continue;
        }
        i += b"ignore".len();
        let mut entries = Vec::new();
        while i < line_end {
            while i < line_end && matches!(text[i], b' ' | b'\t' | b',' | b'\r') {
                i += 1;
            }
            let s = i;
            while i < line_end
                && (text[i].is_ascii_alphanumeric() || text[i] == b'-' || text[i] == b'_')
            {
                i += 1;
            }
            if s == i {
                break;
            }
            entries.push(Entry {
                key: String::from_utf8_lossy(&text[s..i]).into_owned(),
                span: Span::new(file, s, i),
                used: false,
            });
        }
        if entries.is_empty() {
            continue;
        }
        let mut end = line_end as u32;
        for b in blocks.iter().filter(|b| b.file == file) {
            if (b.start as usize) >= line_start && (b.start as usize) < line_end {
                end = end.max(b.end);
            }
        }
        out.push(Suppression {
            file,
            start: line_start as u32,
            end,
            entries,
        });
    }
    out
}

/// Drop suppressed findings from `diags`; mark entries used. Findings of
/// rule [`PARSE_ERROR`](super::diagnostic::PARSE_ERROR) cannot be
/// suppressed.
pub fn apply(diags: Vec<Diagnostic>, sups: &mut [Suppression]) -> Vec<Diagnostic> {
    diags
        .into_iter()
        .filter(|d| {
            if d.rule == super::diagnostic::PARSE_ERROR {
                return true;
            }
            let mut suppressed = false;
            for s in sups.iter_mut() {
                if s.file != d.span.file || d.span.start < s.start || d.span.start > s.end {
                    continue;
                }
                for e in s.entries.iter_mut() {
                    let hit = registry::find(d.rule)
                        .map(|r| registry::matches(r.meta(), &e.key))
                        .unwrap_or_else(|| e.key.eq_ignore_ascii_case(d.rule));
                    if hit {
                        e.used = true;
                        suppressed = true;
                    }
                }
            }
            !suppressed
        })
        .collect()
}

/// Info findings for entries that suppressed nothing; `ran` tells whether a
/// selector covers a rule that ran this time.
pub fn unused(sups: &[Suppression], ran: impl Fn(&str) -> bool) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for s in sups {
        for e in s.entries.iter().filter(|e| !e.used) {
            let known = registry::is_known(&e.key);
            if known && !ran(&e.key) {
                continue;
            }
            let message = if known {
                format!("unused suppression: no `{}` finding here", e.key)
            } else {
                format!(
                    "unused suppression: `{}` is not a rule id, prefix or name",
                    e.key
                )
            };
            out.push(Diagnostic {
                rule: UNUSED_SUPPRESSION,
                name: "unused-suppression",
                severity: Severity::Info,
                span: e.span,
                message,
                help: Some("remove it from the `gatecheck: ignore` comment".into()),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diag(file: FileId, at: usize, rule: &'static str) -> Diagnostic {
        Diagnostic {
            rule,
            name: "x",
            severity: Severity::Warning,
            span: Span::new(file, at, at + 1),
            message: String::new(),
            help: None,
        }
    }

    #[test]
    fn line_and_block_scopes() {
        let text = "a 1; # gatecheck: ignore NGX-TMO-001, long-connect-timeout\nlocation / { # gatecheck: ignore NGX-TMO\n  b 2;\n}\nc 3;\nd 4; #gatecheck: ignore NGX-TMO-001 NOT-A-RULE\n";
        let mut sm = SourceMap::new();
        let f = sm.add("x.conf", text.as_bytes().to_vec());
        let block_start = text.find("location").unwrap();
        let block_end = text.find("}\n").unwrap() + 1;
        let mut sups = scan(&sm, f, &[Span::new(f, block_start, block_end)]);
        assert_eq!(sups.len(), 3);
        assert_eq!(sups[0].entries.len(), 2);
        let inner = text.find("b 2").unwrap();
        let after = text.find("c 3").unwrap();
        let kept = apply(
            vec![
                diag(f, 0, "NGX-TMO-001"),
                diag(f, inner, "NGX-TMO-001"),
                diag(f, after, "NGX-TMO-001"),
            ],
            &mut sups,
        );
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].span.start as usize, after);
        let unused = unused(&sups, |_| true);
        assert_eq!(unused.len(), 2, "{unused:?}");
        assert!(unused[0].message.contains("no `NGX-TMO-001` finding"));
        assert!(unused[1].message.contains("`NOT-A-RULE` is not a rule"));
        // Rules that did not run are not reported; unknown names always are.
        assert_eq!(super::unused(&sups, |_| false).len(), 1);
    }

    #[test]
    fn needs_hash_and_ignore_keyword() {
        let mut sm = SourceMap::new();
        let f = sm.add(
            "x",
            b"a \"gatecheck: ignore X\";\n# gatecheck: nope\n#gatecheck:ignore A\n".to_vec(),
        );
        let s = scan(&sm, f, &[]);
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].entries[0].key, "A");
    }
}
