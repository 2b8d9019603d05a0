//! nginx.conf bytes → tokens, following nginx's own `ngx_conf_read_token`.
//!
//! The rules copied from nginx: whitespace (space, tab, CR, LF) separates
//! words; `;`, `{` and `}` are punctuation only at the start of a token (a `}`
//! inside a word is part of it, a `{` right after `$` is a `${var}`); `#`
//! starts a comment only at the start of a token; `"…"` and `'…'` quote, and
//! after the closing quote only whitespace, `;`, `{` or `)` may follow; `\x`
//! escapes the next byte, and `\"`, `\'`, `\\`, `\t`, `\r`, `\n` are
//! unescaped in the word's value while other escapes are kept as written
//! (regexes keep `\d`). Bytes need not be UTF-8: values are decoded lossily,
//! spans are byte offsets.

use crate::source::{FileId, Span};

/// One token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    /// A word or quoted string, with its unescaped value.
    Word {
        /// Unescaped value (lossy UTF-8).
        value: String,
        /// True when quoted.
        quoted: bool,
        /// Byte range including quotes.
        span: Span,
    },
    /// `;`
    Semi(Span),
    /// `{`
    Open(Span),
    /// `}`
    Close(Span),
    /// End of input.
    Eof(Span),
}

/// A lexing problem; the lexer recovers and goes on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LexError {
    /// A quote without its closing quote before end of input.
    UnclosedQuote {
        /// The opening quote.
        open: Span,
        /// End of input.
        at: Span,
    },
    /// A character that may not follow a closing quote.
    Unexpected {
        /// The character.
        ch: char,
        /// Where.
        at: Span,
    },
}

/// The lexer over one file's bytes.
pub struct Lexer<'a> {
    src: &'a [u8],
    pos: usize,
    file: FileId,
    /// Problems met so far.
    pub errors: Vec<LexError>,
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

/// Unescape a raw token body the way nginx does.
pub fn unescape(raw: &[u8]) -> String {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'\\' && i + 1 < raw.len() {
            match raw[i + 1] {
                b'"' | b'\'' | b'\\' => {
                    out.push(raw[i + 1]);
                    i += 2;
                    continue;
                }
                b't' => {
                    out.push(b'\t');
                    i += 2;
                    continue;
                }
                b'r' => {
                    out.push(b'\r');
                    i += 2;
                    continue;
                }
                b'n' => {
                    out.push(b'\n');
                    i += 2;
                    continue;
                }
                _ => {}
            }
        }
        out.push(raw[i]);
        i += 1;
    }
    match String::from_utf8(out) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

impl<'a> Lexer<'a> {
    /// A lexer over `src`, which belongs to `file`.
    pub fn new(src: &'a [u8], file: FileId) -> Self {
        Lexer {
            src,
            pos: 0,
            file,
            errors: Vec::new(),
        }
    }

    fn span(&self, start: usize, end: usize) -> Span {
        Span::new(self.file, start, end)
    }

    /// Current byte offset.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// The next token.
    pub fn next_token(&mut self) -> Token {
        loop {
            while self.pos < self.src.len() && is_space(self.src[self.pos]) {
                self.pos += 1;
            }
            if self.pos >= self.src.len() {
                let n = self.src.len();
                return Token::Eof(self.span(n, n));
            }
            let start = self.pos;
            match self.src[start] {
                b'#' => {
                    self.pos = memchr::memchr(b'\n', &self.src[start..])
                        .map(|i| start + i + 1)
                        .unwrap_or(self.src.len());
                    continue;
                }
                b';' => {
                    self.pos += 1;
                    return Token::Semi(self.span(start, start + 1));
                }
                b'{' => {
                    self.pos += 1;
                    return Token::Open(self.span(start, start + 1));
                }
                b'}' => {
                    self.pos += 1;
                    return Token::Close(self.span(start, start + 1));
                }
                q @ (b'"' | b'\'') => return self.quoted(start, q),
                _ => return self.word(start),
            }
        }
    }

    fn quoted(&mut self, start: usize, q: u8) -> Token {
        let mut i = start + 1;
        loop {
            if i >= self.src.len() {
                let n = self.src.len();
                self.errors.push(LexError::UnclosedQuote {
                    open: self.span(start, start + 1),
                    at: self.span(n, n),
                });
                self.pos = n;
                return Token::Word {
                    value: unescape(&self.src[start + 1..]),
                    quoted: true,
                    span: self.span(start, n),
                };
            }
            match self.src[i] {
                b'\\' => i += 2,
                c if c == q => break,
                _ => i += 1,
            }
        }
        let body = &self.src[start + 1..i.min(self.src.len())];
        self.pos = i + 1;
        if let Some(&c) = self.src.get(self.pos) {
            if !(is_space(c) || c == b';' || c == b'{' || c == b')') {
                let ch = c as char;
                self.errors.push(LexError::Unexpected {
                    ch,
                    at: self.span(self.pos, self.pos + 1),
                });
            }
        }
        Token::Word {
            value: unescape(body),
            quoted: true,
            span: self.span(start, self.pos),
        }
    }

    fn word(&mut self, start: usize) -> Token {
        let mut i = start;
        let mut variable = false;
        while i < self.src.len() {
            let c = self.src[i];
            if c == b'{' && variable {
                i += 1;
                continue;
            }
            variable = false;
            match c {
                b'\\' => {
                    i += 2;
                    continue;
                }
                b'$' => variable = true,
                b';' | b'{' => break,
                c if is_space(c) => break,
                _ => {}
            }
            i += 1;
        }
        let end = i.min(self.src.len());
        self.pos = end;
        Token::Word {
            value: unescape(&self.src[start..end]),
            quoted: false,
            span: self.span(start, end),
        }
    }

    /// Skip a raw block body (`*_by_lua_block { … }`) whose `{` was just
    /// read: balance braces, skipping Lua strings, long brackets and
    /// comments. Returns the span of the closing `}`, or `None` at end of
    /// input.
    pub fn skip_raw_block(&mut self) -> Option<Span> {
        let s = self.src;
        let mut depth = 1usize;
        let mut i = self.pos;
        while i < s.len() {
            match s[i] {
                b'{' => depth += 1,
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        self.pos = i + 1;
                        return Some(self.span(i, i + 1));
                    }
                }
                q @ (b'"' | b'\'') => {
                    i += 1;
                    while i < s.len() && s[i] != q && s[i] != b'\n' {
                        if s[i] == b'\\' {
                            i += 1;
                        }
                        i += 1;
                    }
                }
                b'[' if matches!(s.get(i + 1), Some(b'[') | Some(b'=')) => {
                    i = skip_long_bracket(s, i);
                    continue;
                }
                b'-' if s.get(i + 1) == Some(&b'-') => {
                    if s.get(i + 2) == Some(&b'[') {
                        let j = skip_long_bracket(s, i + 2);
                        if j > i + 3 {
                            i = j;
                            continue;
                        }
                    }
                    i = memchr::memchr(b'\n', &s[i..])
                        .map(|k| i + k)
                        .unwrap_or(s.len());
                    continue;
                }
                _ => {}
            }
            i += 1;
        }
        self.pos = s.len();
        None
    }
}

/// Skip a Lua long bracket `[[…]]` / `[==[…]==]` starting at `i`; returns the
/// offset after it, or `i + 1` when it is not a long bracket.
fn skip_long_bracket(s: &[u8], i: usize) -> usize {
    let mut j = i + 1;
    let mut level = 0;
    while s.get(j) == Some(&b'=') {
        level += 1;
        j += 1;
    }
    if s.get(j) != Some(&b'[') {
        return i + 1;
    }
    j += 1;
    while j < s.len() {
        if s[j] == b']' {
            let mut k = j + 1;
            let mut l = 0;
            while s.get(k) == Some(&b'=') {
                l += 1;
                k += 1;
            }
            if l == level && s.get(k) == Some(&b']') {
                return k + 1;
            }
        }
        j += 1;
    }
    s.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(src: &str) -> Vec<String> {
        let mut lx = Lexer::new(src.as_bytes(), FileId(0));
        let mut out = Vec::new();
        loop {
            match lx.next_token() {
                Token::Word { value, quoted, .. } => {
                    out.push(if quoted { format!("q:{value}") } else { value })
                }
                Token::Semi(_) => out.push(";".into()),
                Token::Open(_) => out.push("{".into()),
                Token::Close(_) => out.push("}".into()),
                Token::Eof(_) => return out,
            }
        }
    }

    #[test]
    fn words_punctuation_comments() {
        assert_eq!(
            toks("a b;# c;\nd { e; }"),
            ["a", "b", ";", "d", "{", "e", ";", "}"]
        );
        assert_eq!(toks("a#b;"), ["a#b", ";"]);
    }

    #[test]
    fn quotes_and_escapes() {
        assert_eq!(toks(r#"a "x \"y\" z";"#), ["a", "q:x \"y\" z", ";"]);
        assert_eq!(toks(r"a 'it\'s';"), ["a", "q:it's", ";"]);
        assert_eq!(toks(r"a ^/\d+$;"), ["a", r"^/\d+$", ";"]);
        // nginx keeps unknown escapes, but the word does not end at `\ `.
        assert_eq!(toks(r"a b\ c;"), ["a", r"b\ c", ";"]);
    }

    #[test]
    fn braces_in_words_and_variables() {
        assert_eq!(toks("a ${x}y;"), ["a", "${x}y", ";"]);
        assert_eq!(toks("a b}c;"), ["a", "b}c", ";"]);
        assert_eq!(
            toks("location ~ \"^/a{2}$\" {"),
            ["location", "~", "q:^/a{2}$", "{"]
        );
    }

    #[test]
    fn crlf_and_non_utf8() {
        assert_eq!(toks("a b;\r\nc d;\r\n"), ["a", "b", ";", "c", "d", ";"]);
        let mut lx = Lexer::new(b"a \xff\xfe;", FileId(0));
        assert!(matches!(lx.next_token(), Token::Word { .. }));
        match lx.next_token() {
            Token::Word { value, span, .. } => {
                assert_eq!(value, "\u{fffd}\u{fffd}");
                assert_eq!((span.start, span.end), (2, 4));
            }
            t => panic!("unexpected {t:?}"),
        }
    }

    #[test]
    fn unclosed_quote_is_reported() {
        let mut lx = Lexer::new(b"a \"bc;\n", FileId(0));
        lx.next_token();
        lx.next_token();
        assert!(matches!(lx.next_token(), Token::Eof(_)));
        assert!(matches!(lx.errors[0], LexError::UnclosedQuote { open, .. } if open.start == 2));
    }

    #[test]
    fn char_after_quote_is_reported() {
        let mut lx = Lexer::new(b"a \"b\"c;", FileId(0));
        lx.next_token();
        lx.next_token();
        assert!(matches!(lx.errors[0], LexError::Unexpected { ch: 'c', .. }));
    }

    #[test]
    fn raw_lua_block() {
        let src = b"{ local s = \"}\" -- }\n if x then t = {1} end --[[ } ]] }\nnext;";
        let mut lx = Lexer::new(src, FileId(0));
        assert!(matches!(lx.next_token(), Token::Open(_)));
        let close = lx.skip_raw_block().expect("closed");
        assert_eq!(src[close.start as usize], b'}');
        assert!(matches!(lx.next_token(), Token::Word { value, .. } if value == "next"));
    }
}
