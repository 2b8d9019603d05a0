//! `haproxy.cfg` bytes → [`Config`]: sections of lines of words, each with
//! its byte span.
//!
//! A hand-written byte loop rather than nom: HAProxy's format is a per-line
//! state machine (manual §2.1–2.2; `parse_line()` in HAProxy's `tools.c`),
//! where quoting, escaping and comments switch state inside a word, and a
//! loop over bytes states that most directly. The rules followed:
//!
//! - a statement is one line up to an unprotected `#`; `\r\n` and `\n` end
//!   lines; bytes need not be UTF-8 (values are decoded lossily and flagged);
//! - words are separated by unprotected spaces and tabs; `"…"` (weak) and
//!   `'…'` (strong) quoting and bare parts concatenate into one word;
//! - outside quotes and inside double quotes, `\` escapes space, tab, `#`,
//!   `\`, `'`, `"` and `$`, and `\n`, `\r`, `\t`, `\xNN` give control bytes;
//!   any other escaped byte keeps its backslash (as HAProxy 2.6 does);
//! - inside double quotes `$NAME` / `${NAME}` are environment variables: they
//!   stay as written and the word is flagged ([`WordFlags::env`]), since the
//!   values are only known where HAProxy runs;
//! - section keywords ([`SECTION_KEYWORDS`]) start a section anywhere;
//!   `.if`/`.elif`/`.else`/`.endif` blocks are kept as lines and their
//!   nesting is checked, but not evaluated (each line records its depth).
//!
//! Errors never stop the parse: each is recorded with its span and the next
//! line is read.

use crate::source::{FileId, Span};

/// Every keyword that opens a section, as of HAProxy 3.x (2.6 knows all but
/// `crt-store`, `traces` and `acme`).
pub const SECTION_KEYWORDS: &[&str] = &[
    "global",
    "defaults",
    "frontend",
    "backend",
    "listen",
    "resolvers",
    "http-errors",
    "peers",
    "userlist",
    "cache",
    "program",
    "mailers",
    "ring",
    "log-forward",
    "crt-store",
    "traces",
    "acme",
];

/// The kind of a section, from its opening keyword.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SectionKind {
    /// `global`: process-wide settings.
    Global,
    /// `defaults [<name>] [from <defaults>]`.
    Defaults,
    /// `frontend <name>`.
    Frontend,
    /// `backend <name>`.
    Backend,
    /// `listen <name>`: frontend and backend in one.
    Listen,
    /// `resolvers <name>`: DNS resolution settings.
    Resolvers,
    /// `http-errors <name>`.
    HttpErrors,
    /// `peers <name>`.
    Peers,
    /// `userlist <name>`.
    Userlist,
    /// `cache <name>`.
    Cache,
    /// `program <name>`.
    Program,
    /// `mailers <name>`.
    Mailers,
    /// `ring <name>`.
    Ring,
    /// `log-forward <name>`.
    LogForward,
    /// `crt-store [<name>]` (3.0+).
    CrtStore,
    /// `traces` (3.1+).
    Traces,
    /// `acme <name>` (3.2+).
    Acme,
}

impl SectionKind {
    /// The kind opened by `keyword`, if it is a section keyword.
    pub fn from_keyword(keyword: &str) -> Option<Self> {
        Some(match keyword {
            "global" => Self::Global,
            "defaults" => Self::Defaults,
            "frontend" => Self::Frontend,
            "backend" => Self::Backend,
            "listen" => Self::Listen,
            "resolvers" => Self::Resolvers,
            "http-errors" => Self::HttpErrors,
            "peers" => Self::Peers,
            "userlist" => Self::Userlist,
            "cache" => Self::Cache,
            "program" => Self::Program,
            "mailers" => Self::Mailers,
            "ring" => Self::Ring,
            "log-forward" => Self::LogForward,
            "crt-store" => Self::CrtStore,
            "traces" => Self::Traces,
            "acme" => Self::Acme,
            _ => return None,
        })
    }

    /// The keyword that opens this kind of section.
    pub fn keyword(self) -> &'static str {
        match self {
            Self::Global => "global",
            Self::Defaults => "defaults",
            Self::Frontend => "frontend",
            Self::Backend => "backend",
            Self::Listen => "listen",
            Self::Resolvers => "resolvers",
            Self::HttpErrors => "http-errors",
            Self::Peers => "peers",
            Self::Userlist => "userlist",
            Self::Cache => "cache",
            Self::Program => "program",
            Self::Mailers => "mailers",
            Self::Ring => "ring",
            Self::LogForward => "log-forward",
            Self::CrtStore => "crt-store",
            Self::Traces => "traces",
            Self::Acme => "acme",
        }
    }

    /// True when the section must be named.
    fn requires_name(self) -> bool {
        !matches!(
            self,
            Self::Global | Self::Defaults | Self::CrtStore | Self::Traces
        )
    }

    /// True for the proxy sections, which may inherit `from` a named
    /// `defaults` section.
    pub fn is_proxy(self) -> bool {
        matches!(
            self,
            Self::Defaults | Self::Frontend | Self::Backend | Self::Listen
        )
    }
}

/// What was notable about how a word was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct WordFlags {
    /// Some part was in single or double quotes.
    pub quoted: bool,
    /// Some part used a backslash escape.
    pub escaped: bool,
    /// It references an environment variable (`"$VAR"`, `"${VAR}"`), kept as
    /// written: its value is only known where HAProxy runs.
    pub env: bool,
    /// Its bytes were not valid UTF-8 (the value was decoded lossily).
    pub non_utf8: bool,
}

/// One word of a line, after quote and escape removal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// The value, unquoted and unescaped (environment variables left as
    /// written).
    pub value: String,
    /// The raw text of the word, quotes included.
    pub span: Span,
    /// How it was written.
    pub flags: WordFlags,
}

impl Word {
    /// The value as a `&str`.
    pub fn as_str(&self) -> &str {
        &self.value
    }
}

/// One statement: a non-empty line cut into words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The words, keyword first. Never empty.
    pub words: Vec<Word>,
    /// From the first word to the end of the last one.
    pub span: Span,
    /// How many `.if` blocks enclose the line (0 = unconditional).
    pub cond_depth: u32,
}

impl Line {
    /// The first word.
    pub fn keyword(&self) -> &str {
        self.words.first().map_or("", |w| w.as_str())
    }

    /// Word `i` (0 = the keyword), if present.
    pub fn word(&self, i: usize) -> Option<&Word> {
        self.words.get(i)
    }

    /// The value of word `i`, or `""`.
    pub fn str(&self, i: usize) -> &str {
        self.words.get(i).map_or("", |w| w.as_str())
    }

    /// True when the line starts with exactly these words, e.g.
    /// `starts_with(&["timeout", "server"])`.
    pub fn starts_with(&self, words: &[&str]) -> bool {
        words.len() <= self.words.len() && words.iter().zip(&self.words).all(|(a, b)| *a == b.value)
    }

    /// True for a conditional-block or diagnostic directive (`.if`,
    /// `.notice`, …).
    pub fn is_directive(&self) -> bool {
        self.keyword().starts_with('.')
    }
}

/// A section: its opening line and the statements up to the next section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// Which section keyword opened it.
    pub kind: SectionKind,
    /// The opening line (`backend web from base`).
    pub header: Line,
    /// The section's name, when given.
    pub name: Option<Word>,
    /// The `from <defaults>` name, when given.
    pub from: Option<Word>,
    /// The statements, in order (conditional directives included).
    pub lines: Vec<Line>,
    /// From the header to the end of the last statement.
    pub span: Span,
}

impl Section {
    /// The section name, or `""`.
    pub fn name_str(&self) -> &str {
        self.name.as_ref().map_or("", |w| w.as_str())
    }

    /// Statements other than `.if`-style directives.
    pub fn statements(&self) -> impl Iterator<Item = &Line> {
        self.lines.iter().filter(|l| !l.is_directive())
    }
}

/// A parsed `haproxy.cfg`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Config {
    /// The file it came from.
    pub file: FileId,
    /// Sections in file order.
    pub sections: Vec<Section>,
    /// Directives (`.if`, `.notice`, …) before the first section.
    pub preamble: Vec<Line>,
    /// Everything that was refused; the parse went on after each.
    pub errors: Vec<HaproxyError>,
}

impl Config {
    /// Sections of one kind.
    pub fn sections_of(&self, kind: SectionKind) -> impl Iterator<Item = &Section> {
        self.sections.iter().filter(move |s| s.kind == kind)
    }

    /// Words flagged as environment variable references, in file order.
    pub fn env_words(&self) -> impl Iterator<Item = &Word> {
        self.sections
            .iter()
            .flat_map(|s| std::iter::once(&s.header).chain(&s.lines))
            .flat_map(|l| &l.words)
            .filter(|w| w.flags.env)
    }
}

/// A syntax error in `haproxy.cfg`. Each carries the span it is about;
/// `report::config_error::at` gives `file:line:col: message`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HaproxyError {
    /// A quote opened on this line is never closed.
    #[error("unmatched {quote} quote")]
    UnmatchedQuote {
        /// `'` or `"`.
        quote: char,
        /// From the opening quote to the end of the line.
        span: Span,
    },
    /// A `\x` escape not followed by two hex digits.
    #[error("truncated or invalid hexadecimal sequence")]
    BadHexEscape {
        /// The escape.
        span: Span,
    },
    /// `"${NAME` without its closing `}`.
    #[error("unmatched brace in environment variable name")]
    UnmatchedEnvBrace {
        /// The `{`.
        span: Span,
    },
    /// `$` inside double quotes not followed by a variable name (escape it
    /// as `\$`).
    #[error("forbidden first char in environment variable name")]
    BadEnvName {
        /// The character after `$` (or `${`).
        span: Span,
    },
    /// A statement before any section.
    #[error("unknown keyword '{keyword}' out of section")]
    OutOfSection {
        /// The keyword as written.
        keyword: String,
        /// The keyword.
        span: Span,
    },
    /// A section that needs a name has none.
    #[error("'{section}' expects an <id> argument")]
    MissingName {
        /// The section keyword.
        section: &'static str,
        /// The section keyword.
        span: Span,
    },
    /// `from` not followed by a name.
    #[error("'{section}' expects a defaults section name after 'from'")]
    MissingFrom {
        /// The section keyword.
        section: &'static str,
        /// The `from` word.
        span: Span,
    },
    /// `.elif`, `.else` or `.endif` with no open `.if`.
    #[error("lone '{directive}' with no matching '.if'")]
    LoneConditional {
        /// The directive.
        directive: String,
        /// The directive.
        span: Span,
    },
    /// An `.if` never closed by `.endif`.
    #[error("non-terminated '.if' block")]
    UnterminatedConditional {
        /// The `.if` that stays open.
        span: Span,
    },
}

impl HaproxyError {
    /// Where the error is.
    pub fn span(&self) -> Span {
        match self {
            Self::UnmatchedQuote { span, .. }
            | Self::BadHexEscape { span }
            | Self::UnmatchedEnvBrace { span }
            | Self::BadEnvName { span }
            | Self::OutOfSection { span, .. }
            | Self::MissingName { span, .. }
            | Self::MissingFrom { span, .. }
            | Self::LoneConditional { span, .. }
            | Self::UnterminatedConditional { span } => *span,
        }
    }
}

/// Parse `text` (the contents of `file`). Never fails: errors are collected
/// in [`Config::errors`] and the rest of the file is still parsed.
pub fn parse_cfg(file: FileId, text: &[u8]) -> Config {
    let mut cfg = Config {
        file,
        ..Config::default()
    };
    let mut cond_stack: Vec<Span> = Vec::new();
    let mut start = 0usize;
    while start <= text.len() {
        let end = memchr::memchr(b'\n', &text[start..]).map_or(text.len(), |i| start + i);
        let mut line_end = end;
        if line_end > start && text[line_end - 1] == b'\r' {
            line_end -= 1;
        }
        let mut words = Vec::new();
        split_words(file, text, start, line_end, &mut words, &mut cfg.errors);
        if !words.is_empty() {
            let span = Span::new(
                file,
                words[0].span.start as usize,
                words[words.len() - 1].span.end as usize,
            );
            let mut line = Line {
                words,
                span,
                cond_depth: cond_stack.len() as u32,
            };
            match line.keyword() {
                ".if" => cond_stack.push(line.words[0].span),
                ".elif" | ".else" | ".endif" => {
                    if cond_stack.is_empty() {
                        cfg.errors.push(HaproxyError::LoneConditional {
                            directive: line.keyword().to_owned(),
                            span: line.words[0].span,
                        });
                    } else if line.keyword() == ".endif" {
                        cond_stack.pop();
                    }
                    // The directive itself sits at its `.if`'s level.
                    line.cond_depth = line.cond_depth.saturating_sub(1);
                }
                _ => {}
            }
            add_line(&mut cfg, line);
        }
        if end == text.len() {
            break;
        }
        start = end + 1;
    }
    for span in cond_stack {
        cfg.errors
            .push(HaproxyError::UnterminatedConditional { span });
    }
    cfg
}

/// File a statement: open a section, append to the current one, or record
/// it as out of section.
fn add_line(cfg: &mut Config, line: Line) {
    if let Some(kind) = SectionKind::from_keyword(line.keyword()) {
        let (name, from) = section_names(kind, &line, &mut cfg.errors);
        cfg.sections.push(Section {
            kind,
            span: line.span,
            header: line,
            name,
            from,
            lines: Vec::new(),
        });
        return;
    }
    match cfg.sections.last_mut() {
        Some(section) => {
            section.span.end = line.span.end;
            section.lines.push(line);
        }
        None if line.is_directive() => cfg.preamble.push(line),
        None => cfg.errors.push(HaproxyError::OutOfSection {
            keyword: line.keyword().to_owned(),
            span: line.words[0].span,
        }),
    }
}

/// The name and `from` parts of a section header.
fn section_names(
    kind: SectionKind,
    line: &Line,
    errors: &mut Vec<HaproxyError>,
) -> (Option<Word>, Option<Word>) {
    let mut rest = line.words[1..].iter();
    let mut name = None;
    let mut from = None;
    let mut next = rest.next();
    if let Some(w) = next {
        if !(kind == SectionKind::Defaults && w.value == "from") {
            name = Some(w.clone());
            next = rest.next();
        }
    }
    if kind.requires_name() && name.is_none() {
        errors.push(HaproxyError::MissingName {
            section: kind.keyword(),
            span: line.words[0].span,
        });
    }
    if let Some(w) = next {
        if w.value == "from" && kind.is_proxy() {
            match rest.next() {
                Some(target) => from = Some(target.clone()),
                None => errors.push(HaproxyError::MissingFrom {
                    section: kind.keyword(),
                    span: w.span,
                }),
            }
        }
    }
    (name, from)
}

/// Quoting state inside a word.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Quote {
    None,
    Single,
    Double,
}

/// Cut `text[start..end]` (one line, no terminator) into words.
fn split_words(
    file: FileId,
    text: &[u8],
    start: usize,
    end: usize,
    words: &mut Vec<Word>,
    errors: &mut Vec<HaproxyError>,
) {
    let mut i = start;
    loop {
        while i < end && matches!(text[i], b' ' | b'\t') {
            i += 1;
        }
        if i >= end || text[i] == b'#' {
            return;
        }
        let word_start = i;
        let mut value: Vec<u8> = Vec::new();
        let mut flags = WordFlags::default();
        let mut quote = Quote::None;
        let mut quote_start = i;
        while i < end {
            let c = text[i];
            match (quote, c) {
                (Quote::None, b' ' | b'\t' | b'#') => break,
                (Quote::None, b'\'') => {
                    quote = Quote::Single;
                    quote_start = i;
                    flags.quoted = true;
                    i += 1;
                }
                (Quote::None, b'"') => {
                    quote = Quote::Double;
                    quote_start = i;
                    flags.quoted = true;
                    i += 1;
                }
                (Quote::Single, b'\'') | (Quote::Double, b'"') => {
                    quote = Quote::None;
                    i += 1;
                }
                (Quote::Single, _) => {
                    value.push(c);
                    i += 1;
                }
                (_, b'\\') => {
                    flags.escaped = true;
                    i = unescape(file, text, i, end, &mut value, errors);
                }
                (Quote::Double, b'$') => {
                    // An environment variable: `$NAME`, `${NAME}`,
                    // `${NAME-default}`, `${NAME[*]}`; pseudo-variables start
                    // with a dot (manual §2.3). Kept as written.
                    let braced = text.get(i + 1) == Some(&b'{') && i + 1 < end;
                    let name = if braced { i + 2 } else { i + 1 };
                    let first = text.get(name).copied().filter(|_| name < end);
                    if !matches!(first, Some(b'.' | b'_' | b'a'..=b'z' | b'A'..=b'Z')) {
                        errors.push(HaproxyError::BadEnvName {
                            span: Span::new(file, name.min(end), (name + 1).min(end)),
                        });
                    } else if braced && !env_brace_closed(&text[name..end]) {
                        errors.push(HaproxyError::UnmatchedEnvBrace {
                            span: Span::new(file, i + 1, i + 2),
                        });
                    } else {
                        flags.env = true;
                    }
                    value.push(c);
                    i += 1;
                }
                _ => {
                    value.push(c);
                    i += 1;
                }
            }
        }
        if quote != Quote::None {
            errors.push(HaproxyError::UnmatchedQuote {
                quote: if quote == Quote::Single { '\'' } else { '"' },
                span: Span::new(file, quote_start, end),
            });
        }
        let value = match String::from_utf8(value) {
            Ok(s) => s,
            Err(e) => {
                flags.non_utf8 = true;
                String::from_utf8_lossy(e.as_bytes()).into_owned()
            }
        };
        words.push(Word {
            value,
            span: Span::new(file, word_start, i),
            flags,
        });
    }
}

/// True when `rest` (what follows `${`) holds a well-formed variable
/// reference up to its `}`: a name (an optional leading `.`, then letters,
/// digits and `_`), then optionally `[*]` or a `-default`, then `}`
/// (HAProxy's `parse_line()`).
fn env_brace_closed(rest: &[u8]) -> bool {
    let dot = usize::from(rest.first() == Some(&b'.'));
    let mut j = dot
        + rest[dot..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
            .count();
    if rest[j..].starts_with(b"[*]") {
        j += 3;
    } else if rest.get(j) == Some(&b'-') {
        return rest[j..].contains(&b'}');
    }
    rest.get(j) == Some(&b'}')
}

/// Decode the escape at `text[i] == b'\\'`, push its bytes, return the index
/// after it.
fn unescape(
    file: FileId,
    text: &[u8],
    i: usize,
    end: usize,
    value: &mut Vec<u8>,
    errors: &mut Vec<HaproxyError>,
) -> usize {
    let Some(&c) = text.get(i + 1).filter(|_| i + 1 < end) else {
        // A backslash ending the line stays a backslash (HAProxy 2.6 passes
        // it on as a word of its own; there are no continuation lines).
        value.push(b'\\');
        return i + 1;
    };
    match c {
        b' ' | b'\t' | b'#' | b'\\' | b'\'' | b'"' | b'$' => value.push(c),
        b'n' => value.push(b'\n'),
        b'r' => value.push(b'\r'),
        b't' => value.push(b'\t'),
        b'x' => {
            let hex = |j: usize| {
                text.get(j)
                    .filter(|_| j < end)
                    .and_then(|&b| (b as char).to_digit(16))
            };
            match (hex(i + 2), hex(i + 3)) {
                (Some(h), Some(l)) => {
                    value.push((h * 16 + l) as u8);
                    return i + 4;
                }
                _ => {
                    let stop = (i + 4).min(end);
                    errors.push(HaproxyError::BadHexEscape {
                        span: Span::new(file, i, stop),
                    });
                    return stop;
                }
            }
        }
        _ => {
            value.push(b'\\');
            value.push(c);
        }
    }
    i + 2
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceMap;

    fn words(line: &str) -> Vec<String> {
        let cfg = parse_cfg(FileId(0), format!("global\n{line}\n").as_bytes());
        assert!(cfg.errors.is_empty(), "{line}: {:?}", cfg.errors);
        cfg.sections[0].lines[0]
            .words
            .iter()
            .map(|w| w.value.clone())
            .collect()
    }

    #[test]
    fn quoting_and_escaping_follow_the_manual() {
        // The manual's §2.2 example: all five lines are the same words.
        let expect = vec!["log-format", "%{+Q}o %t %s %{-Q}r"];
        for line in [
            r"log-format %{+Q}o\ %t\ %s\ %{-Q}r",
            r#"log-format "%{+Q}o %t %s %{-Q}r""#,
            r"log-format '%{+Q}o %t %s %{-Q}r'",
            r#"log-format "%{+Q}o %t"' %s %{-Q}r'"#,
            r#"log-format "%{+Q}o %t"' %s'\ %{-Q}r"#,
        ] {
            assert_eq!(words(line), expect, "{line}");
        }
        let table: &[(&str, &[&str])] = &[
            ("a b\tc", &["a", "b", "c"]),
            (r"a\#b c", &["a#b", "c"]),
            (r##"a "#b" c"##, &["a", "#b", "c"]),
            (r"a '#b' c", &["a", "#b", "c"]),
            ("a #b c", &["a"]),
            ("a#b", &["a"]),
            (r"a\\b", &[r"a\b"]),
            (r"'a\b'", &[r"a\b"]),
            (r#""a\"b""#, &["a\"b"]),
            (r"a\'b", &["a'b"]),
            (r"\x41\x6a", &["Aj"]),
            (r#""\x41""#, &["A"]),
            (r"a\nb", &["a\nb"]),
            (r"a\tb\rc", &["a\tb\rc"]),
            (r"a\qb", &[r"a\qb"]),
            (r"daemon \", &["daemon", r"\"]),
            (r#""" x"#, &["", "x"]),
            (r#"'"'"#, &["\""]),
            (r#""'""#, &["'"]),
            (r#""\$x""#, &["$x"]),
            (
                r#"http-request set-path '%[path,regsub("^/(here)(/|$)","my/\1",g)]'"#,
                &[
                    "http-request",
                    "set-path",
                    r#"%[path,regsub("^/(here)(/|$)","my/\1",g)]"#,
                ],
            ),
        ];
        for (line, expect) in table {
            assert_eq!(words(line), *expect, "{line}");
        }
    }

    #[test]
    fn word_spans_cover_the_raw_text() {
        let text = b"global\n  log \"a b\" x\\ y\n";
        let cfg = parse_cfg(FileId(0), text);
        let line = &cfg.sections[0].lines[0];
        let raw: Vec<&[u8]> = line
            .words
            .iter()
            .map(|w| &text[w.span.start as usize..w.span.end as usize])
            .collect();
        assert_eq!(raw, [&b"log"[..], b"\"a b\"", b"x\\ y"]);
        assert!(line.words[1].flags.quoted);
        assert!(line.words[2].flags.escaped);
        assert_eq!(
            &text[line.span.start as usize..line.span.end as usize],
            b"log \"a b\" x\\ y"
        );
    }

    #[test]
    fn environment_variables_are_kept_and_flagged() {
        let cfg = parse_cfg(
            FileId(0),
            b"global\n  user \"$HAPROXY_USER\"\n  log \"${SYSLOG-127.0.0.1}:514\" local0\n  x $NOT_A_VAR '$NEITHER'\n",
        );
        let lines = &cfg.sections[0].lines;
        assert_eq!(lines[0].str(1), "$HAPROXY_USER");
        assert!(lines[0].words[1].flags.env);
        assert_eq!(lines[1].str(1), "${SYSLOG-127.0.0.1}:514");
        assert!(lines[1].words[1].flags.env);
        assert!(!lines[2].words[1].flags.env);
        assert!(!lines[2].words[2].flags.env);
        assert_eq!(cfg.env_words().count(), 2);
    }

    #[test]
    fn sections_names_and_from() {
        let cfg = parse_cfg(
            FileId(0),
            b"global\n daemon\ndefaults\n mode http\ndefaults base from other\ndefaults from base\nfrontend fe from base\n bind :80\nbackend be\nlisten li\nresolvers dns\n nameserver a 10.0.0.2:53\nhttp-errors errs\npeers p\nuserlist u\ncache c\nprogram p\nmailers m\nring r\n",
        );
        assert!(cfg.errors.is_empty(), "{:?}", cfg.errors);
        let got: Vec<(SectionKind, &str, Option<&str>, usize)> = cfg
            .sections
            .iter()
            .map(|s| {
                (
                    s.kind,
                    s.name_str(),
                    s.from.as_ref().map(|w| w.as_str()),
                    s.lines.len(),
                )
            })
            .collect();
        use SectionKind::*;
        assert_eq!(
            got,
            [
                (Global, "", None, 1),
                (Defaults, "", None, 1),
                (Defaults, "base", Some("other"), 0),
                (Defaults, "", Some("base"), 0),
                (Frontend, "fe", Some("base"), 1),
                (Backend, "be", None, 0),
                (Listen, "li", None, 0),
                (Resolvers, "dns", None, 1),
                (HttpErrors, "errs", None, 0),
                (Peers, "p", None, 0),
                (Userlist, "u", None, 0),
                (Cache, "c", None, 0),
                (Program, "p", None, 0),
                (Mailers, "m", None, 0),
                (Ring, "r", None, 0),
            ]
        );
    }

    #[test]
    fn crlf_and_non_utf8() {
        let cfg = parse_cfg(FileId(0), b"global\r\n  daemon\r\n  node \xff\xfe\r\n");
        assert!(cfg.errors.is_empty());
        let lines = &cfg.sections[0].lines;
        assert_eq!(lines[0].str(0), "daemon");
        assert!(lines[1].words[1].flags.non_utf8);
        assert_eq!(lines[1].str(1), "\u{fffd}\u{fffd}");
    }

    /// (input, expected errors as "line:col message").
    #[test]
    fn errors_carry_line_and_col_and_parsing_goes_on() {
        let table: &[(&str, &[&str])] = &[
            (
                "foo bar\nglobal\n",
                &["1:1 unknown keyword 'foo' out of section"],
            ),
            (
                "global\n  x \"abc\n  y 'z\nbackend b\n",
                &["2:5 unmatched \" quote", "3:5 unmatched ' quote"],
            ),
            ("backend\n", &["1:1 'backend' expects an <id> argument"]),
            (
                "global\n  x \\x4\n",
                &["2:5 truncated or invalid hexadecimal sequence"],
            ),
            (
                "global\n.endif\n",
                &["2:1 lone '.endif' with no matching '.if'"],
            ),
            (
                "global\n  x \"${HOME\" \"${A}\" \"${B-d}\" \"${C[*]}\" \"${D x}\"\n",
                &[
                    "2:7 unmatched brace in environment variable name",
                    "2:42 unmatched brace in environment variable name",
                ],
            ),
            (
                "global\n  x \"${.FILE}\" \"$.LINE\" \"${_A}\" \"${A.b}\"\n",
                &["2:35 unmatched brace in environment variable name"],
            ),
            (
                "global\n  x \"$1\" \"${1A}\" \"a$\" \"$ x\" '$ok' $ok \"\\$ok\"\n",
                &[
                    "2:7 forbidden first char in environment variable name",
                    "2:13 forbidden first char in environment variable name",
                    "2:21 forbidden first char in environment variable name",
                    "2:25 forbidden first char in environment variable name",
                ],
            ),
            (
                "global\n.if defined(X)\n x\n",
                &["2:1 non-terminated '.if' block"],
            ),
            (
                "frontend fe from\n",
                &["1:13 'frontend' expects a defaults section name after 'from'"],
            ),
        ];
        for (text, expect) in table {
            let mut sm = SourceMap::new();
            let id = sm.add("t.cfg", text.as_bytes().to_vec());
            let cfg = parse_cfg(id, text.as_bytes());
            let got: Vec<String> = cfg
                .errors
                .iter()
                .map(|e| {
                    let (l, c) = sm.line_col(e.span());
                    format!("{l}:{c} {e}")
                })
                .collect();
            assert_eq!(got, *expect, "{text:?}");
        }
        // After an error the rest is still there.
        let cfg = parse_cfg(
            FileId(0),
            b"global\n  x \"abc\nbackend b\n  server s 1.2.3.4:80\n",
        );
        assert_eq!(cfg.sections.len(), 2);
        assert_eq!(cfg.sections[1].lines[0].str(2), "1.2.3.4:80");
    }

    #[test]
    fn conditional_blocks_are_kept_with_depth() {
        let cfg = parse_cfg(
            FileId(0),
            b".if defined(A)\nglobal\n .if feature(OPENSSL)\n  x\n .else\n  y\n .endif\n z\n.endif\n",
        );
        assert!(cfg.errors.is_empty(), "{:?}", cfg.errors);
        assert_eq!(cfg.preamble.len(), 1);
        let depths: Vec<(&str, u32)> = cfg.sections[0]
            .lines
            .iter()
            .map(|l| (l.keyword(), l.cond_depth))
            .collect();
        assert_eq!(
            depths,
            [
                (".if", 1),
                ("x", 2),
                (".else", 1),
                ("y", 2),
                (".endif", 1),
                ("z", 1),
                (".endif", 0)
            ]
        );
        assert_eq!(cfg.sections[0].statements().count(), 3);
    }

    #[test]
    fn line_helpers() {
        let cfg = parse_cfg(FileId(0), b"defaults\n  timeout server 30s\n");
        let l = &cfg.sections[0].lines[0];
        assert!(l.starts_with(&["timeout", "server"]));
        assert!(!l.starts_with(&["timeout", "client"]));
        assert!(!l.starts_with(&["timeout", "server", "30s", "x"]));
        assert_eq!(l.str(2), "30s");
        assert_eq!(l.str(9), "");
    }

    #[test]
    fn never_panics_on_odd_bytes() {
        for text in [
            &b""[..],
            b"\n\n\n",
            b"\\",
            b"\"",
            b"'",
            b"global\n\\x",
            b"global\n\"\\",
            b"global\n\"$",
            b"\r",
            b"\r\n\r",
            b"defaults from",
            b".else\n.elif\n.if",
            b"\xff\xfe\x00",
        ] {
            let _ = parse_cfg(FileId(0), text);
        }
    }
}
