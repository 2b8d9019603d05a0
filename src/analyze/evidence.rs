//! Where a classifier writes its evidence lines: nowhere (the cause alone
//! is wanted), kept as strings (a report's example, an [`super::event::Event`]),
//! or written straight into an NDJSON event as the items of its
//! `evidence` array.
//!
//! Issue 9: with `--events`, each event's evidence was built as `String`s
//! (`format!`, a `Vec`, a `join`), then escaped and copied into the event's
//! line and freed; written in place there is no allocation per event. The
//! bytes are what `serde_json` writes for the same strings: a line is
//! written as it is, then checked once and, in the rare line with a quote,
//! a backslash or a control byte, escaped by serde_json itself.
//!
//! A classifier only writes to its `Evidence` and never reads it, so the
//! cause is the same whichever it is given. Must not import `report`.

use std::fmt::{self, Write as _};

/// Where evidence lines go: see the module doc.
#[derive(Debug, Default)]
pub struct Evidence<'a> {
    to: To<'a>,
    /// Lines written so far.
    n: usize,
}

#[derive(Debug, Default)]
enum To<'a> {
    /// Dropped unformatted.
    #[default]
    Off,
    /// Kept as strings.
    Lines(Vec<String>),
    /// Appended to the buffer as JSON strings separated by `,`, from
    /// `start` (where the buffer ended when it was handed over).
    Json { out: &'a mut Vec<u8>, start: usize },
}

impl<'a> Evidence<'a> {
    /// Evidence that keeps what is written, as strings.
    pub fn on() -> Evidence<'static> {
        Evidence {
            to: To::Lines(Vec::new()),
            n: 0,
        }
    }

    /// Evidence that drops what is written, without formatting it.
    pub fn off() -> Evidence<'static> {
        Evidence { to: To::Off, n: 0 }
    }

    /// Evidence written to the end of `out` as the items of a JSON array
    /// (`"a","b"`: without the brackets), each escaped as `serde_json`
    /// escapes a string.
    pub fn json(out: &'a mut Vec<u8>) -> Evidence<'a> {
        let start = out.len();
        Evidence {
            to: To::Json { out, start },
            n: 0,
        }
    }

    /// Whether what is written is kept (as strings or as JSON).
    pub fn is_on(&self) -> bool {
        !matches!(self.to, To::Off)
    }

    /// A line made by `f`, which is called only when the line is kept.
    #[inline]
    pub fn with(&mut self, f: impl FnOnce(&mut Line<'_>)) {
        match &mut self.to {
            To::Off => return,
            To::Lines(v) => {
                let mut s = String::new();
                f(&mut Line(Out::Text(&mut s)));
                v.push(s);
            }
            To::Json { out, .. } => {
                if self.n > 0 {
                    out.push(b',');
                }
                json_line(out, f);
            }
        }
        self.n += 1;
    }

    /// [`Evidence::with`], the line put before those already written.
    pub fn first(&mut self, f: impl FnOnce(&mut Line<'_>)) {
        match &mut self.to {
            To::Off => {}
            To::Lines(v) => {
                let mut s = String::new();
                f(&mut Line(Out::Text(&mut s)));
                v.insert(0, s);
                self.n += 1;
            }
            To::Json { out, start } => {
                // written at the end (`"new",` when others are there),
                // then turned round to the front of the items
                let (start, end) = (*start, out.len());
                json_line(out, f);
                if self.n > 0 {
                    out.push(b',');
                }
                let len = out.len() - end;
                out[start..].rotate_right(len);
                self.n += 1;
            }
        }
    }

    /// A line formatted from `args` (`format_args!`), formatted only when kept.
    #[inline]
    pub fn add(&mut self, args: fmt::Arguments<'_>) {
        self.with(|l| {
            let _ = l.write_fmt(args);
        });
    }

    /// A line of fixed text.
    #[inline]
    pub fn text(&mut self, s: &str) {
        self.with(|l| l.push_str(s));
    }

    /// `name=value`, the value shown lossily if not UTF-8.
    #[inline]
    pub fn field(&mut self, name: &str, value: &[u8]) {
        self.with(|l| {
            l.push_str(name);
            l.push_str("=");
            for piece in value.utf8_chunks() {
                l.push_str(piece.valid());
                if !piece.invalid().is_empty() {
                    l.push_str("\u{fffd}");
                }
            }
        });
    }

    /// Lines written so far.
    pub fn len(&self) -> usize {
        self.n
    }

    /// Whether no line was written.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// The lines kept as strings (none when off or written as JSON).
    pub fn into_lines(self) -> Vec<String> {
        match self.to {
            To::Lines(v) => v,
            _ => Vec::new(),
        }
    }
}

/// The line `f` makes as a JSON string at the end of `out`. The pieces are
/// copied as they are, then the line is checked once and escaped only if
/// it has to be (almost never: a quote or a control byte in a logged
/// value): one check per line, not per piece (checking each of the ~20
/// pieces of an attempt's line was 4 % of an `--events` run's CPU,
/// `perf record`).
#[inline]
fn json_line(out: &mut Vec<u8>, f: impl FnOnce(&mut Line<'_>)) {
    out.push(b'"');
    let start = out.len();
    f(&mut Line(Out::Raw(out)));
    if needs_escape(&out[start..]) {
        let raw = out.split_off(start);
        // the pieces were `&str`s: valid UTF-8 (lossy only to never panic)
        push_escaped(out, &String::from_utf8_lossy(&raw));
    }
    out.push(b'"');
}

/// One evidence line being written, piece by piece; `write!` works on it.
pub struct Line<'b>(Out<'b>);

enum Out<'b> {
    Text(&'b mut String),
    /// The text as it is, to be escaped as a whole ([`json_line`]).
    Raw(&'b mut Vec<u8>),
}

impl Line<'_> {
    /// Append `s`.
    #[inline]
    pub fn push_str(&mut self, s: &str) {
        match &mut self.0 {
            Out::Text(t) => t.push_str(s),
            Out::Raw(out) => out.extend_from_slice(s.as_bytes()),
        }
    }
}

impl fmt::Write for Line<'_> {
    #[inline]
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.push_str(s);
        Ok(())
    }
}

/// Whether serde_json escapes a byte of `b`: `"`, `\` and the control
/// characters below 0x20 (its `ESCAPE` table; 0x7f and non-ASCII are
/// written as they are). Sixteen bytes at a time without a branch per byte
/// (the compiler makes it vector compares), the last sixteen overlapping
/// the ones before; shorter strings (most logged fields: an address, a
/// method) as one or two overlapping words. A byte loop for the tail cost
/// more than the vector loop (`callgrind`: 2.4 instructions per byte).
pub(crate) fn needs_escape(b: &[u8]) -> bool {
    let n = b.len();
    if n >= 16 {
        let mut chunks = b.chunks_exact(16);
        for c in &mut chunks {
            if escape_in(c) {
                return true;
            }
        }
        return !chunks.remainder().is_empty() && escape_in(&b[n - 16..]);
    }
    if n >= 8 {
        return escape_in_word(word(&b[..8])) || escape_in_word(word(&b[n - 8..]));
    }
    // padded with a byte that needs none
    let mut w = [b'a'; 8];
    w[..n].copy_from_slice(b);
    escape_in_word(u64::from_le_bytes(w))
}

/// [`needs_escape`] of a short slice, byte by byte without a branch.
#[inline(always)]
fn escape_in(c: &[u8]) -> bool {
    c.iter()
        .fold(false, |m, &x| m | (x < 0x20) | (x == b'"') | (x == b'\\'))
}

/// The first 8 bytes of `b` (at least 8) as a word.
#[inline(always)]
fn word(b: &[u8]) -> u64 {
    u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
}

/// Whether a byte of `x` is below 0x20, `"` or `\`: the "has a byte less
/// than n" test of Bit Twiddling Hacks (exact for whether any byte is,
/// for n ≤ 128), for 0x20 and, of `x` xor the byte, for 1.
#[inline(always)]
fn escape_in_word(x: u64) -> bool {
    const ONES: u64 = u64::MAX / 255;
    const HIGH: u64 = ONES * 0x80;
    let below = |v: u64, n: u64| v.wrapping_sub(ONES * n) & !v & HIGH;
    (below(x, 0x20) | below(x ^ (ONES * 0x22), 1) | below(x ^ (ONES * 0x5c), 1)) != 0
}

/// `s` escaped as the inside of a JSON string (no quotes), as serde_json
/// escapes it: by serde_json itself (writing to a Vec cannot fail), its
/// quotes taken off again. For the rare line that needs it.
fn push_escaped(out: &mut Vec<u8>, s: &str) {
    let at = out.len();
    let _ = serde_json::to_writer(&mut *out, s);
    out.pop();
    out.remove(at);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The JSON items for `lines` as serde_json writes the array, without
    /// its brackets.
    fn serde_items(lines: &[String]) -> String {
        let s = serde_json::to_string(lines).unwrap();
        s[1..s.len() - 1].to_string()
    }

    /// Text with what JSON escapes, cut into pieces at character boundaries.
    fn any_pieces() -> impl Strategy<Value = Vec<String>> {
        proptest::collection::vec(
            prop_oneof![
                any::<String>(),
                "[\\x00-\\x7f\"\\\\é]{0,20}",
                "[a-z :=/.]{0,40}",
            ],
            0..5,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        /// The word and vector tests against a byte loop, at every length
        /// around 8 and 16 and with the hit anywhere.
        #[test]
        fn needs_escape_is_the_byte_loop(
            b in prop_oneof![
                proptest::collection::vec(any::<u8>(), 0..48),
                proptest::collection::vec(prop_oneof![Just(b'a'), Just(0x7f), Just(0xff), Just(b'!'), Just(b'#')], 0..48),
                (proptest::collection::vec(Just(b'x'), 0..48), any::<prop::sample::Index>(), prop_oneof![Just(b'"'), Just(b'\\'), 0u8..0x20])
                    .prop_map(|(mut v, i, c)| {
                        if !v.is_empty() {
                            let at = i.index(v.len());
                            v[at] = c;
                        }
                        v
                    }),
            ],
        ) {
            let slow = b.iter().any(|&x| x < 0x20 || x == b'"' || x == b'\\');
            prop_assert_eq!(needs_escape(&b), slow);
        }

        /// Lines written piece by piece, some put first, some formatted:
        /// as JSON, the bytes serde_json writes for the same strings kept.
        #[test]
        fn json_lines_are_what_serde_writes(
            lines in proptest::collection::vec((any_pieces(), 0u8..4), 0..6),
            prefix in "[a-z{,]{0,8}",
        ) {
            let mut out = prefix.clone().into_bytes();
            let mut json = Evidence::json(&mut out);
            let mut kept = Evidence::on();
            for (pieces, how) in &lines {
                let write = |l: &mut Line<'_>| match how {
                    0 | 1 => pieces.iter().for_each(|p| l.push_str(p)),
                    2 => {
                        let _ = write!(l, "{}|{:?}", pieces.concat(), pieces.len());
                    }
                    _ => {}
                };
                match how {
                    1 => {
                        json.first(write);
                        kept.first(write);
                    }
                    3 => {
                        let joined = pieces.concat();
                        json.field("f", joined.as_bytes());
                        kept.field("f", joined.as_bytes());
                    }
                    _ => {
                        json.with(write);
                        kept.with(write);
                    }
                }
            }
            prop_assert_eq!(json.len(), lines.len());
            prop_assert!(json.into_lines().is_empty());
            let kept = kept.into_lines();
            prop_assert_eq!(kept.len(), lines.len());
            let want = format!("{prefix}{}", serde_items(&kept));
            prop_assert_eq!(String::from_utf8(out).unwrap(), want);
        }
    }

    #[test]
    fn off_formats_nothing_and_field_is_lossy() {
        let mut off = Evidence::off();
        off.with(|_| panic!("formatted while off"));
        off.first(|_| panic!("formatted while off"));
        assert!(!off.is_on());
        assert!(off.is_empty() && off.into_lines().is_empty());
        let mut ev = Evidence::on();
        ev.field("a", b"x\xffy\xf0\x9f");
        ev.text("why");
        assert_eq!(ev.into_lines(), ["a=x\u{fffd}y\u{fffd}", "why"]);
        let mut out = Vec::new();
        let mut j = Evidence::json(&mut out);
        j.text("b \"q\"");
        j.first(|l| l.push_str("a\n"));
        assert_eq!(out, br#""a\n","b \"q\"""#);
    }
}
