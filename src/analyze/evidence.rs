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
        escape_from(out, start);
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
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    if n >= 16 {
        return sse2::any_escape(b);
    }
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

/// Whether every byte of `b` is ASCII and none is `\`: a logged value
/// that no nginx escaping decodes and that is its own UTF-8 text
/// ([`super::event_json::text`]). A word at a time as [`needs_escape`]:
/// short strings as one or two overlapping words, longer ones word by
/// word, the last word overlapping the one before.
pub(crate) fn ascii_without_backslash(b: &[u8]) -> bool {
    const ONES: u64 = u64::MAX / 255;
    const HIGH: u64 = ONES * 0x80;
    // a byte at or above 0x80, or (the "has a zero byte" test of `x` xor
    // `\`) a backslash
    let bad = |x: u64| {
        let y = x ^ (ONES * u64::from(b'\\'));
        (x | (y.wrapping_sub(ONES) & !y)) & HIGH != 0
    };
    let n = b.len();
    if n < 8 {
        // padded with a byte that is neither
        let mut w = [b'a'; 8];
        w[..n].copy_from_slice(b);
        return !bad(u64::from_le_bytes(w));
    }
    let mut words = b.chunks_exact(8);
    let any = (&mut words).fold(false, |m, c| m | bad(word(c)));
    !any && (words.remainder().is_empty() || !bad(word(&b[n - 8..])))
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
    // one bounds check on a slice of 8, so the compiler loads it at once
    // (indexing `b` itself checked, loaded and shifted each byte)
    let w = &b[..8];
    u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]])
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

/// [`needs_escape`] of 16 bytes at a time with SSE2, as `logs/scan.rs`
/// does its searches: each vector built from two bounds-checked words (the
/// compiler makes it one unaligned load), so no pointer is read; the only
/// `unsafe` is calling the intrinsics, compiled in only where SSE2 is
/// enabled for the whole build (always on x86-64: its baseline). The word
/// and byte tests above cost ≈ 1.2 instructions a byte (`callgrind`, the
/// `--events` bench run: 548 instructions an event, most of them on its
/// evidence lines of 80–180 bytes); this, ≈ 0.5.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
mod sse2 {
    use core::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
        _mm_set_epi64x, _mm_setzero_si128,
    };

    /// Lanes all ones where `b[at..at + 16]` holds a byte serde_json
    /// escapes (`"`, `\`, below 0x20); `at + 16 <= b.len()`.
    #[inline(always)]
    fn escapes16(b: &[u8], at: usize) -> __m128i {
        let w = &b[at..at + 16];
        let (lo, hi) = (super::word(w), super::word(&w[8..]));
        // SAFETY: SSE2 is enabled for this build (the module's `cfg`), so
        // the CPU running it has these instructions; they compute on the
        // two words already read with bounds checks and touch no memory.
        unsafe {
            let v = _mm_set_epi64x(hi as i64, lo as i64);
            let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
            let backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
            // below 0x20, unsigned: the byte is its own minimum with 0x1f
            let control = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
            _mm_or_si128(_mm_or_si128(quote, backslash), control)
        }
    }

    /// `a | b`, lane by lane.
    #[inline(always)]
    fn or(a: __m128i, b: __m128i) -> __m128i {
        // SAFETY: as in `escapes16`: SSE2 is there, no memory is touched.
        unsafe { _mm_or_si128(a, b) }
    }

    /// [`super::needs_escape`] of `b`, at least 16 bytes long: every
    /// 16 bytes, the last 16 overlapping those before, the lanes gathered
    /// without a branch (a line almost never has such a byte).
    pub(super) fn any_escape(b: &[u8]) -> bool {
        debug_assert!(b.len() >= 16);
        let n = b.len();
        // SAFETY: as in `escapes16`: SSE2 is there, no memory is touched.
        let mut acc = unsafe { _mm_setzero_si128() };
        let mut at = 0;
        while at + 16 <= n {
            acc = or(acc, escapes16(b, at));
            at += 16;
        }
        if at < n {
            acc = or(acc, escapes16(b, n - 16));
        }
        // SAFETY: as in `escapes16`: SSE2 is there, no memory is touched.
        unsafe { _mm_movemask_epi8(acc) != 0 }
    }
}

/// Escape `out[start..]` in place as serde_json escapes a string's text
/// (its `ESCAPE` table: `\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`, and
/// `\u00xx` with lowercase hex for the other bytes below 0x20; 0x7f and
/// non-ASCII as they are): from the first byte to escape, the rest taken
/// out and put back a run of plain bytes at a time. For the rare text
/// that needs it (an upstream group's quoted name: 7 % of the bench log's
/// events), which went through a copy, `from_utf8_lossy`, serde_json and a
/// shift of the whole text. The bytes are those of `&str`s: escaping byte
/// by byte leaves their UTF-8 as it is.
pub(crate) fn escape_from(out: &mut Vec<u8>, start: usize) {
    let Some(first) = out[start..]
        .iter()
        .position(|&b| ESCAPE[usize::from(b)] != 0)
    else {
        return;
    };
    let rest = out.split_off(start + first);
    let mut plain = 0;
    for (i, &b) in rest.iter().enumerate() {
        let e = ESCAPE[usize::from(b)];
        if e == 0 {
            continue;
        }
        out.extend_from_slice(&rest[plain..i]);
        plain = i + 1;
        if e == b'u' {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 0xf)],
            ]);
        } else {
            out.extend_from_slice(&[b'\\', e]);
        }
    }
    out.extend_from_slice(&rest[plain..]);
}

/// For each byte, the letter after its `\` in a JSON string (`u` for
/// `\u00xx`), or 0 for a byte written as it is: serde_json's table.
static ESCAPE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 0x20 {
        t[b] = b'u';
        b += 1;
    }
    t[0x08] = b'b';
    t[0x09] = b't';
    t[0x0a] = b'n';
    t[0x0c] = b'f';
    t[0x0d] = b'r';
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t
};

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
            let plain = b.iter().all(|&x| x < 0x80 && x != b'\\');
            prop_assert_eq!(ascii_without_backslash(&b), plain);
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
