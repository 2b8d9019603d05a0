//! Hot-path helpers: number and time parsing by hand, no allocation.
//!
//! Every function takes bytes and returns `None` on anything unexpected; none
//! panics. Times are seconds since the Unix epoch; sub-second parts are kept in
//! milliseconds where the log has them.

/// The lines of `data` as [`crate::logs::lines`] gives them (split at
/// `\n`, the newline dropped, a last line without one included), with the
/// newline searcher made once per call instead of once per line: on
/// x86-64 with AVX2, memchr's AVX2 searcher is built here and each line's
/// end is one direct call to its search, where `memchr::memchr_iter` goes
/// through memchr's run-time dispatch (an atomic function pointer, then a
/// searcher built per call) for every line (`perf record` of a plain
/// nginx log: that dispatch, `memchr_raw::find_avx2`, was 1.4–2.7 % of the
/// samples beside the search itself, one call per ≈ 280-byte line).
#[inline]
pub fn lines(data: &[u8]) -> Lines<'_> {
    Lines {
        data,
        start: 0,
        #[cfg(target_arch = "x86_64")]
        avx2: memchr::arch::x86_64::avx2::memchr::One::new(b'\n'),
    }
}

/// The iterator of [`lines`].
pub struct Lines<'a> {
    data: &'a [u8],
    /// Where the next line starts (`data.len()`: none left).
    start: usize,
    /// memchr's AVX2 searcher for `\n`, when the CPU has AVX2.
    #[cfg(target_arch = "x86_64")]
    avx2: Option<memchr::arch::x86_64::avx2::memchr::One>,
}

impl<'a> Iterator for Lines<'a> {
    type Item = &'a [u8];

    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        let rest = self.data.get(self.start..).filter(|r| !r.is_empty())?;
        #[cfg(target_arch = "x86_64")]
        let end = match &self.avx2 {
            Some(one) => one.find(rest),
            None => memchr::memchr(b'\n', rest),
        };
        #[cfg(not(target_arch = "x86_64"))]
        let end = memchr::memchr(b'\n', rest);
        Some(match end {
            Some(i) => {
                self.start += i + 1;
                &rest[..i]
            }
            None => {
                self.start = self.data.len();
                rest
            }
        })
    }
}

/// Parse an unsigned decimal integer of at most 18 digits.
#[inline]
pub fn parse_u64(b: &[u8]) -> Option<u64> {
    if b.is_empty() || b.len() > 18 {
        return None;
    }
    let mut n: u64 = 0;
    for &c in b {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        n = n * 10 + d as u64;
    }
    Some(n)
}

/// Offsets of the first `out.len()` bytes equal to `needle` in `hay`, in
/// order; returns how many were found. Eight bytes are tested at once (SWAR:
/// the exact zero-byte test of `hay ^ needle`, no false positives), which
/// beats a byte loop or repeated `memchr` calls when the hits are a few
/// bytes apart, as the separators of a log line are.
#[inline]
pub fn find_each(hay: &[u8], needle: u8, out: &mut [usize]) -> usize {
    const LO7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let want = u64::from_ne_bytes([needle; 8]);
    let mut n = 0;
    if out.is_empty() {
        return 0;
    }
    let mut words = hay.chunks_exact(8);
    let mut base = 0;
    for w in words.by_ref() {
        let x = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]) ^ want;
        // bit 7 of each byte of `hit` is set iff that byte of `x` is 0
        let mut hit = !(((x & LO7).wrapping_add(LO7)) | x | LO7);
        while hit != 0 {
            out[n] = base + (hit.trailing_zeros() / 8) as usize;
            n += 1;
            if n == out.len() {
                return n;
            }
            hit &= hit - 1;
        }
        base += 8;
    }
    for (i, &c) in words.remainder().iter().enumerate() {
        if c == needle {
            out[n] = base + i;
            n += 1;
            if n == out.len() {
                return n;
            }
        }
    }
    n
}

/// Bytes of a field searched inline before [`find_byte`] / [`rfind_byte`]
/// hand the rest to `memchr`: most fields of a log line (addresses, times,
/// statuses, numbers, upstream values) are far shorter, and for them a
/// library call (its dispatch and its setup for long haystacks) costs more
/// than the search itself (issue 9's profile: ~15 `memchr` calls per line,
/// 23 % of the CPU on delimiters). On x86-64 the inline search takes 16
/// bytes at a time with SSE2 (part of every x86-64 CPU), so it covers the
/// request line and most user agents too (a `combined` line's longest
/// fields); longer spans go to `memchr`'s AVX2 loop.
pub const SHORT_SPAN: usize = 128;

/// Without SSE2 (other architectures, or a haystack under 16 bytes): the
/// bytes searched eight at a time (SWAR) before `memchr`.
const SWAR_SPAN: usize = 32;

/// Bit 7 of each byte of the result is set iff that byte of `x` is 0, and
/// no other bit is set (exact: no borrow crosses bytes).
#[inline(always)]
fn zero_bytes(x: u64) -> u64 {
    const LO7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    !(((x & LO7).wrapping_add(LO7)) | x | LO7)
}

#[inline(always)]
fn word(b: &[u8], at: usize) -> u64 {
    let w = &b[at..at + 8];
    u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]])
}

/// 16 bytes at a time with SSE2. The vector is built from two
/// bounds-checked words (the compiler makes it one unaligned load), so no
/// pointer is read; the only `unsafe` is calling the intrinsics, which are
/// compiled in only where SSE2 is enabled for the whole build (always on
/// x86-64: it is part of the architecture's baseline).
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
mod sse2 {
    use core::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_movemask_epi8, _mm_set1_epi8, _mm_set_epi64x,
    };

    /// `b` in every lane.
    #[inline(always)]
    pub(super) fn splat(b: u8) -> __m128i {
        // SAFETY: SSE2 is enabled for this build (the module's `cfg`), so
        // the CPU running it has the instruction; no memory is touched.
        unsafe { _mm_set1_epi8(b as i8) }
    }

    /// Bit `k` (of 16) set iff `hay[at + k]` is the splatted byte;
    /// `at + 16 <= hay.len()`.
    #[inline(always)]
    pub(super) fn eq16(hay: &[u8], at: usize, needle: __m128i) -> u32 {
        let (hi, lo) = (super::word(hay, at + 8), super::word(hay, at));
        // SAFETY: SSE2 is enabled for this build (the module's `cfg`), so
        // the CPU running it has these instructions; they read only the
        // two words above, already loaded with bounds checks.
        unsafe {
            let v = _mm_set_epi64x(hi as i64, lo as i64);
            _mm_movemask_epi8(_mm_cmpeq_epi8(v, needle)) as u32 & 0xffff
        }
    }

    /// Bit `k` (of 64) set iff `hay[k]` is the splatted byte;
    /// `64 <= hay.len()`.
    #[inline(always)]
    pub(super) fn eq64(hay: &[u8], needle: __m128i) -> u64 {
        let hay = &hay[..64];
        let m = |at| u64::from(eq16(hay, at, needle));
        m(0) | m(16) << 16 | m(32) << 32 | m(48) << 48
    }
}

/// [`find_byte`], the first 64 bytes tested at once when `hay` has
/// them: one branch for any field up to 64 bytes, where `find_byte` takes
/// one per 16. A log line's fields vary in length from line to line (the
/// request line, the referer), so the exit of a loop over 16-byte blocks
/// is mispredicted about once a field; four compares that are wasted on a
/// short field cost less.
#[inline(always)]
pub fn find_byte_wide(hay: &[u8], needle: u8) -> Option<usize> {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    if hay.len() >= 64 {
        let m = sse2::eq64(hay, sse2::splat(needle));
        if m != 0 {
            return Some(m.trailing_zeros() as usize);
        }
        return find_byte(&hay[64..], needle).map(|j| 64 + j);
    }
    find_byte(hay, needle)
}

/// The offset of the first `needle` in `hay`: the first [`SHORT_SPAN`]
/// bytes inline (16 at a time), the rest with `memchr`.
#[inline(always)]
pub fn find_byte(hay: &[u8], needle: u8) -> Option<usize> {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    if hay.len() >= 16 {
        let len = hay.len();
        let n = sse2::splat(needle);
        let short = len.min(SHORT_SPAN);
        let mut i = 0;
        while i + 16 <= short {
            let m = sse2::eq16(hay, i, n);
            if m != 0 {
                return Some(i + m.trailing_zeros() as usize);
            }
            i += 16;
        }
        if short < len {
            return memchr::memchr(needle, &hay[i..]).map(|j| i + j);
        }
        if i < len {
            // the last 16 bytes, the ones before `i` (searched) shifted out
            let base = len - 16;
            let m = sse2::eq16(hay, base, n) >> (i - base);
            if m != 0 {
                return Some(i + m.trailing_zeros() as usize);
            }
        }
        return None;
    }
    find_byte_swar(hay, needle)
}

/// [`find_byte`] eight bytes at a time.
#[inline(always)]
fn find_byte_swar(hay: &[u8], needle: u8) -> Option<usize> {
    let want = u64::from_ne_bytes([needle; 8]);
    let short = hay.len().min(SWAR_SPAN);
    let mut i = 0;
    while i + 8 <= short {
        let hit = zero_bytes(word(hay, i) ^ want);
        if hit != 0 {
            return Some(i + (hit.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    while i < short {
        if hay[i] == needle {
            return Some(i);
        }
        i += 1;
    }
    if short == hay.len() {
        return None;
    }
    memchr::memchr(needle, &hay[short..]).map(|j| short + j)
}

/// The offset of the last `needle` in `hay`: the last [`SHORT_SPAN`]
/// bytes inline (16 at a time), the rest with `memrchr`.
#[inline(always)]
pub fn rfind_byte(hay: &[u8], needle: u8) -> Option<usize> {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    if hay.len() >= 16 {
        let len = hay.len();
        let n = sse2::splat(needle);
        let floor = len.saturating_sub(SHORT_SPAN);
        let mut end = len;
        while end >= floor + 16 {
            let m = sse2::eq16(hay, end - 16, n);
            if m != 0 {
                return Some(end - 16 + 31 - m.leading_zeros() as usize);
            }
            end -= 16;
        }
        if floor > 0 {
            return memchr::memrchr(needle, &hay[..end]);
        }
        if end > 0 {
            // the first 16 bytes, the ones from `end` (searched) masked off
            let m = sse2::eq16(hay, 0, n) & ((1u32 << end) - 1);
            if m != 0 {
                return Some(31 - m.leading_zeros() as usize);
            }
        }
        return None;
    }
    rfind_byte_swar(hay, needle)
}

/// [`rfind_byte`] eight bytes at a time.
#[inline(always)]
fn rfind_byte_swar(hay: &[u8], needle: u8) -> Option<usize> {
    let want = u64::from_ne_bytes([needle; 8]);
    let floor = hay.len().saturating_sub(SWAR_SPAN);
    let mut end = hay.len();
    while end >= floor + 8 {
        let hit = zero_bytes(word(hay, end - 8) ^ want);
        if hit != 0 {
            return Some(end - 8 + 7 - (hit.leading_zeros() / 8) as usize);
        }
        end -= 8;
    }
    while end > floor {
        end -= 1;
        if hay[end] == needle {
            return Some(end);
        }
    }
    memchr::memrchr(needle, &hay[..floor])
}

/// `a == b` for the short strings of a log line (literals, time stamps),
/// inline: a call to `memcmp` costs more than comparing them.
#[inline(always)]
pub fn eq_short(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i + 8 <= a.len() {
        if word(a, i) != word(b, i) {
            return false;
        }
        i += 8;
    }
    a[i..].iter().zip(&b[i..]).all(|(x, y)| x == y)
}

/// A literal of a log format (the text between two fields: `" `, ` [`,
/// `" rt=`), compiled for the one question the walk asks of it many times
/// per line: does it occur at this offset? Literals are mostly 1–8 bytes;
/// comparing them byte by byte was the hottest loop of the nginx walk
/// (issue 9's profile of `combined`: 18 % of the walk on the loop's
/// unpredictable exit), so a literal of up to 8 bytes is one masked
/// 8-byte compare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lit {
    bytes: Box<[u8]>,
    /// The literal's bytes as a little-endian word (up to 8 of them).
    word: u64,
    /// The low `len` bytes set (all of `word` that is literal).
    mask: u64,
    /// Its last byte (what a backward search looks for first).
    last: u8,
}

impl Lit {
    /// Compile `bytes` (not empty: a format's literals never are).
    pub fn new(bytes: &[u8]) -> Lit {
        let n = bytes.len().min(8);
        let mut w = [0u8; 8];
        w[..n].copy_from_slice(&bytes[..n]);
        let mask = if n == 8 {
            u64::MAX
        } else {
            (1u64 << (8 * n)) - 1
        };
        Lit {
            bytes: bytes.into(),
            word: u64::from_le_bytes(w),
            mask,
            last: bytes.last().copied().unwrap_or_default(),
        }
    }

    /// The literal's bytes.
    #[inline(always)]
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Its first byte, from the word (the bytes are behind a pointer: one
    /// load less in each field's search).
    #[inline(always)]
    pub fn first(&self) -> u8 {
        self.word as u8
    }

    /// Its last byte, kept apart for the same reason.
    #[inline(always)]
    pub fn last(&self) -> u8 {
        self.last
    }

    /// Its length in bytes.
    #[inline(always)]
    #[allow(clippy::len_without_is_empty)] // never empty (see `new`)
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Does `hay[at..]` start with the literal? (`at <= hay.len()`.)
    #[inline(always)]
    pub fn is_at(&self, hay: &[u8], at: usize) -> bool {
        let n = self.bytes.len();
        debug_assert!(at <= hay.len());
        if n <= 8 {
            if hay.len() >= at + 8 {
                // the 8 bytes from `at`, the literal in the low `n`
                return word(hay, at) & self.mask == self.word;
            }
            if at + n <= hay.len() && at + n >= 8 {
                // near the end of `hay`: the 8 bytes that end where the
                // literal would, the literal in the high `n`
                return word(hay, at + n - 8) >> (8 * (8 - n)) == self.word;
            }
        }
        hay.len() >= at + n && eq_short(&hay[at..at + n], &self.bytes)
    }
}

/// How many bytes of `hay` equal `needle`, eight at a time (the test of
/// [`find_each`], counted with `count_ones`).
#[inline]
pub fn count_byte(hay: &[u8], needle: u8) -> usize {
    const LO7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let want = u64::from_ne_bytes([needle; 8]);
    let mut words = hay.chunks_exact(8);
    let mut n = 0;
    for w in words.by_ref() {
        let x = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]) ^ want;
        n += (!(((x & LO7).wrapping_add(LO7)) | x | LO7)).count_ones() as usize;
    }
    n + words.remainder().iter().filter(|&&c| c == needle).count()
}

/// Parse a 3-digit HTTP status (`000`..`999`).
#[inline]
pub fn parse_status(b: &[u8]) -> Option<u16> {
    if b.len() != 3 {
        return None;
    }
    let d0 = b[0].wrapping_sub(b'0');
    let d1 = b[1].wrapping_sub(b'0');
    let d2 = b[2].wrapping_sub(b'0');
    if d0 > 9 || d1 > 9 || d2 > 9 {
        return None;
    }
    Some(d0 as u16 * 100 + d1 as u16 * 10 + d2 as u16)
}

/// Parse nginx seconds with millisecond resolution (`0.052`, `60.001`, `12`)
/// into milliseconds. `-` and anything else unexpected is `None`.
#[inline]
pub fn parse_secs_ms(b: &[u8]) -> Option<u32> {
    // inline: a library call per value cost more than the search
    let (int, frac) = match find_byte(b, b'.') {
        Some(i) => (&b[..i], &b[i + 1..]),
        None => (b, &b[..0]),
    };
    if int.len() > 7 || frac.len() > 6 {
        return None;
    }
    let whole = if int.is_empty() { 0 } else { parse_u64(int)? };
    let mut ms = 0u64;
    for i in 0..3 {
        let d = match frac.get(i) {
            Some(c) => {
                let d = c.wrapping_sub(b'0');
                if d > 9 {
                    return None;
                }
                d as u64
            }
            None => 0,
        };
        ms = ms * 10 + d;
    }
    if frac.iter().skip(3).any(|c| !c.is_ascii_digit()) {
        return None;
    }
    Some((whole * 1000 + ms).min(u32::MAX as u64) as u32)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
#[inline]
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

#[inline]
fn num2(b: &[u8], i: usize) -> Option<u32> {
    let a = b.get(i)?.wrapping_sub(b'0');
    let c = b.get(i + 1)?.wrapping_sub(b'0');
    if a > 9 || c > 9 {
        return None;
    }
    Some(a as u32 * 10 + c as u32)
}

#[inline]
fn num4(b: &[u8], i: usize) -> Option<i64> {
    Some(num2(b, i)? as i64 * 100 + num2(b, i + 2)? as i64)
}

/// A month abbreviation (`Jan`…`Dec`) → 1..=12.
pub fn month(b: &[u8]) -> Option<u32> {
    Some(match b {
        b"Jan" => 1,
        b"Feb" => 2,
        b"Mar" => 3,
        b"Apr" => 4,
        b"May" => 5,
        b"Jun" => 6,
        b"Jul" => 7,
        b"Aug" => 8,
        b"Sep" => 9,
        b"Oct" => 10,
        b"Nov" => 11,
        b"Dec" => 12,
        _ => return None,
    })
}

/// A point in time read from a log: UTC epoch milliseconds, plus the UTC
/// offset the log wrote it in (seconds east), when it had one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LogTime {
    /// Milliseconds since the Unix epoch, UTC.
    pub utc_ms: i64,
    /// The offset the line was written in (0 for UTC or unknown).
    pub offset_s: i32,
}

impl LogTime {
    /// Seconds since the epoch of the wall-clock time the log showed
    /// (UTC plus the offset): what a zone-less error log line would say.
    pub fn local_secs(&self) -> i64 {
        self.utc_ms.div_euclid(1000) + self.offset_s as i64
    }
    /// UTC seconds since the epoch.
    pub fn secs(&self) -> i64 {
        self.utc_ms.div_euclid(1000)
    }
}

fn check_time(h: u32, mi: u32, s: u32, m: u32, d: u32) -> Option<()> {
    (h < 24 && mi < 60 && s < 61 && (1..=12).contains(&m) && (1..=31).contains(&d)).then_some(())
}

/// A UTC offset, `+0600`, `+06:00` or `Z`, in seconds east.
pub fn parse_offset(b: &[u8]) -> Option<i32> {
    // "+0600" or "+06:00" or "Z"
    if b == b"Z" {
        return Some(0);
    }
    let sign = match b.first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let (h, m) = match b.len() {
        5 => (num2(b, 1)?, num2(b, 3)?),
        6 if b[3] == b':' => (num2(b, 1)?, num2(b, 4)?),
        _ => return None,
    };
    if h > 23 || m > 59 {
        return None;
    }
    Some(sign * (h as i32 * 3600 + m as i32 * 60))
}

/// `$time_local`: `28/Sep/1970:12:00:00 +0600` (HAProxy's `%tr` adds `.mmm`
/// and has no zone; both are accepted).
pub fn parse_time_local(b: &[u8]) -> Option<LogTime> {
    if b.len() < 20 || b[2] != b'/' || b[6] != b'/' || b[11] != b':' {
        return None;
    }
    let d = num2(b, 0)?;
    let m = month(&b[3..6])?;
    let y = num4(b, 7)?;
    let h = num2(b, 12)?;
    let mi = num2(b, 15)?;
    let s = num2(b, 18)?;
    check_time(h, mi, s, m, d)?;
    let mut rest = &b[20..];
    let mut ms = 0i64;
    if let [b'.', r @ ..] = rest {
        let n = r.iter().take_while(|c| c.is_ascii_digit()).count();
        ms = parse_u64(&r[..n.min(3)])? as i64 * [100, 10, 1][n.clamp(1, 3) - 1];
        rest = &r[n..];
    }
    let offset = match rest {
        [] => 0,
        [b' ', z @ ..] => parse_offset(z)?,
        _ => return None,
    };
    let secs = days_from_civil(y, m, d) * 86400 + (h * 3600 + mi * 60 + s) as i64 - offset as i64;
    Some(LogTime {
        utc_ms: secs * 1000 + ms,
        offset_s: offset,
    })
}

/// ISO 8601 / RFC 3339: `1970-09-28T12:00:00+06:00`, `2016-04-15T20:17:00.310Z`,
/// `2024-06-12T10:09:11.823400+02:00`. A missing zone is taken as UTC.
pub fn parse_iso8601(b: &[u8]) -> Option<LogTime> {
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !(b[10] == b'T' || b[10] == b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let wall = ymd_hms(b)?;
    let mut rest = &b[19..];
    let mut ms = 0i64;
    if let [b'.', r @ ..] = rest {
        let n = r.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        ms = parse_u64(&r[..n.min(3)])? as i64 * [100, 10, 1][n.min(3) - 1];
        rest = &r[n..];
    }
    let offset = if rest.is_empty() {
        0
    } else {
        parse_offset(rest)?
    };
    let secs = wall - offset as i64;
    Some(LogTime {
        utc_ms: secs * 1000 + ms,
        offset_s: offset,
    })
}

/// 9999-12-31T23:59:59Z in seconds since the epoch: the last time any log
/// format here can write.
const MAX_EPOCH_S: i64 = 253_402_300_799;

/// `$msec`: `1700000000.123`.
pub fn parse_msec(b: &[u8]) -> Option<LogTime> {
    // inline: a library call per value cost more than the search
    let (int, frac) = match find_byte(b, b'.') {
        Some(i) => (&b[..i], &b[i + 1..]),
        None => (b, &b[..0]),
    };
    let secs = parse_u64(int)? as i64;
    // past 9999-12-31 it is no time nginx wrote, and ×1000 could overflow
    if secs > MAX_EPOCH_S {
        return None;
    }
    let ms = if frac.is_empty() {
        0
    } else {
        let n = frac.len().min(3);
        parse_u64(&frac[..n])? as i64 * [100, 10, 1][n - 1]
    };
    Some(LogTime {
        utc_ms: secs * 1000 + ms,
        offset_s: 0,
    })
}

/// nginx error log time `2026/11/20 14:03:07` (local wall clock, no zone):
/// seconds since the epoch of that wall-clock time read as if UTC.
pub fn parse_error_log_time(b: &[u8]) -> Option<i64> {
    if b.len() < 19
        || b[4] != b'/'
        || b[7] != b'/'
        || b[10] != b' '
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    ymd_hms(b)
}

/// `YYYY?MM?DD?HH:MM:SS` (any separators, already checked by the caller) →
/// seconds since the epoch of that wall-clock time read as UTC.
fn ymd_hms(b: &[u8]) -> Option<i64> {
    let y = num4(b, 0)?;
    let m = num2(b, 5)?;
    let d = num2(b, 8)?;
    let h = num2(b, 11)?;
    let mi = num2(b, 14)?;
    let s = num2(b, 17)?;
    check_time(h, mi, s, m, d)?;
    Some(days_from_civil(y, m, d) * 86400 + (h * 3600 + mi * 60 + s) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lines are `logs::lines`' (memchr's iterator) for any bytes:
    /// empty lines, a last line with and without its newline, only newlines.
    #[test]
    fn lines_are_the_iterators() {
        let cases: [&[u8]; 7] = [b"", b"\n", b"\n\n", b"a", b"a\n", b"a\nb", b"\nab\n\ncd"];
        for c in cases {
            let want: Vec<&[u8]> = crate::logs::lines(c).collect();
            assert_eq!(lines(c).collect::<Vec<_>>(), want, "{c:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_split_as_by_the_iterator(
            data in proptest::collection::vec(
                proptest::prop_oneof![proptest::strategy::Just(b'\n'), proptest::strategy::Just(b'x'), proptest::num::u8::ANY], 0..600)
        ) {
            let want: Vec<&[u8]> = crate::logs::lines(&data).collect();
            proptest::prop_assert_eq!(lines(&data).collect::<Vec<_>>(), want);
        }
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_u64(b"0"), Some(0));
        assert_eq!(parse_u64(b"123"), Some(123));
        assert_eq!(parse_u64(b""), None);
        assert_eq!(parse_u64(b"-"), None);
        assert_eq!(parse_u64(b"12a"), None);
        assert_eq!(parse_status(b"502"), Some(502));
        assert_eq!(parse_status(b"50"), None);
        assert_eq!(parse_status(b"5x2"), None);
        assert_eq!(parse_secs_ms(b"0.052"), Some(52));
        assert_eq!(parse_secs_ms(b"60.001"), Some(60001));
        assert_eq!(parse_secs_ms(b"12"), Some(12000));
        assert_eq!(parse_secs_ms(b"0.5"), Some(500));
        assert_eq!(parse_secs_ms(b"-"), None);
        assert_eq!(parse_secs_ms(b"1.2.3"), None);
    }

    #[test]
    fn times() {
        let t = parse_time_local(b"28/Sep/1970:12:00:00 +0600").unwrap();
        assert_eq!(t.offset_s, 6 * 3600);
        let iso = parse_iso8601(b"1970-09-28T12:00:00+06:00").unwrap();
        assert_eq!(t, iso);
        assert_eq!(t.local_secs() - t.secs(), 6 * 3600);
        let z = parse_iso8601(b"2016-04-15T20:17:00.310Z").unwrap();
        assert_eq!(z.utc_ms, 1_460_751_420_310);
        assert_eq!(
            parse_msec(b"1460751420.310").unwrap().utc_ms,
            1_460_751_420_310
        );
        // 19 digits, found by fuzzing (nginx_detect): no time, no overflow
        assert_eq!(parse_msec(b"179585489958548989.689"), None);
        assert!(parse_msec(b"253402300799.999").is_some());
        assert_eq!(
            parse_error_log_time(b"2016/04/15 20:17:00"),
            Some(1_460_751_420)
        );
        let hap = parse_time_local(b"06/Feb/2009:12:14:14.655").unwrap();
        assert_eq!(hap.utc_ms % 1000, 655);
        assert!(parse_time_local(b"28/Foo/1970:12:00:00 +0600").is_none());
        assert!(parse_time_local(b"28/Sep/1970:25:00:00 +0600").is_none());
        assert!(parse_iso8601(b"2016-04-15T20:17:00.Z").is_none());
    }

    proptest::proptest! {
        /// `find_each` finds what a plain scan finds, whatever the bytes.
        #[test]
        fn find_each_is_a_plain_scan(
            hay in proptest::collection::vec(proptest::sample::select(vec![b' ', b'a', 0x20 ^ 0x80, 0, 0xff, b'\t']), 0..100),
            needle in proptest::sample::select(vec![b' ', b'\t', 0u8, 0xff]),
            k in 0usize..40,
        ) {
            let want: Vec<usize> = hay.iter().enumerate().filter(|(_, &c)| c == needle).map(|(i, _)| i).take(k).collect();
            let mut out = vec![usize::MAX; k];
            let n = find_each(&hay, needle, &mut out);
            proptest::prop_assert_eq!(&out[..n], &want[..]);
            proptest::prop_assert_eq!(count_byte(&hay, needle), hay.iter().filter(|&&c| c == needle).count());
        }
    }

    /// `Lit::is_at` against `starts_with` at every offset, for literals
    /// of 1 to 11 bytes (both sides of the 8-byte word), near both ends.
    #[test]
    fn literal_compare_equals_starts_with() {
        let hay = b"ab\" rt=\"x\" uct=\"0.001\" us=\"200\"\r\n\"";
        for lit in [
            &b"\""[..],
            b"\" ",
            b"\" rt=",
            b"\" uct=\"",
            b"\" us=\"20",
            b"\r\n\"",
            b"\" uct=\"0.0",
            b"zz",
        ] {
            let l = Lit::new(lit);
            assert_eq!((l.bytes(), l.len(), l.first()), (lit, lit.len(), lit[0]));
            for end in [hay.len(), 9, 7, 3, 0] {
                let h = &hay[..end];
                for at in 0..=h.len() {
                    assert_eq!(
                        l.is_at(h, at),
                        h[at..].starts_with(lit),
                        "{lit:?} at {at} of {end}"
                    );
                }
            }
        }
    }

    proptest::proptest! {
        /// `find_byte`, `rfind_byte` and `eq_short` agree with plain
        /// scans and `==`, across the short-span boundaries (16 bytes, the
        /// SWAR and the SSE2 spans).
        #[test]
        fn short_span_helpers_are_plain_scans(
            hay in proptest::collection::vec(proptest::sample::select(vec![b'"', b'a', b'"' ^ 0x80, 0, 0xff, b' ']), 0..300),
            needle in proptest::sample::select(vec![b'"', b' ', 0u8, 0xff]),
            cut in 0usize..120,
        ) {
            proptest::prop_assert_eq!(find_byte(&hay, needle), hay.iter().position(|&c| c == needle));
            proptest::prop_assert_eq!(find_byte_wide(&hay, needle), hay.iter().position(|&c| c == needle));
            proptest::prop_assert_eq!(rfind_byte(&hay, needle), hay.iter().rposition(|&c| c == needle));
            proptest::prop_assert_eq!(find_byte_swar(&hay, needle), hay.iter().position(|&c| c == needle));
            proptest::prop_assert_eq!(rfind_byte_swar(&hay, needle), hay.iter().rposition(|&c| c == needle));
            let (a, b) = hay.split_at(cut.min(hay.len()));
            proptest::prop_assert_eq!(eq_short(a, b), a == b);
            proptest::prop_assert!(eq_short(a, a));
            let mut other = a.to_vec();
            if let Some(last) = other.last_mut() {
                *last ^= 1;
                proptest::prop_assert!(!eq_short(a, &other));
            }
        }

        /// `find_byte_wide` on long hays with a needle or two (or none)
        /// anywhere: in its 64-byte window, past it, on its edges.
        #[test]
        fn find_byte_wide_is_a_plain_scan(
            len in 0usize..300,
            hits in proptest::collection::vec(proptest::prop_oneof![0usize..300, 60usize..68], 0..3),
            needle in proptest::sample::select(vec![b'"', 0u8, 0xff]),
        ) {
            let mut hay = vec![b'a'; len];
            for h in hits {
                if h < len {
                    hay[h] = needle;
                }
            }
            proptest::prop_assert_eq!(find_byte_wide(&hay, needle), hay.iter().position(|&c| c == needle));
        }
    }

    #[test]
    fn civil_days() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11017);
        assert_eq!(days_from_civil(1969, 12, 31), -1);
    }
}
