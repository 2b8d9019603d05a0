//! Byte-class bitmasks over a fixed window of a line: which bytes are a
//! space, a `/`, a digit, or one of `.`, `/`, `0`–`9`, `:` (an IPv4
//! address with its port), one bit per byte. A parser that knows its
//! line's layout finds all its field boundaries and checks the fields'
//! characters with a few mask operations, instead of one short loop per
//! field (each loop's exit, at a length that changes from line to line, is
//! a mispredicted branch: `perf record` of the HAProxy summary path put 10 %
//! of it on the exit of the client-address loop alone).
//!
//! On x86_64 the masks are built with SSE2, which every x86_64 CPU has
//! (part of the architecture's baseline); elsewhere a plain loop builds the
//! same masks ([`classes16_scalar`], the oracle of the tests).
//!
//! Imports nothing; used by `logs/haproxy.rs`.

/// Which bytes of a block are of each class: bit `i` is byte `i`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Classes<T> {
    /// `' '`.
    pub space: T,
    /// `'/'`.
    pub slash: T,
    /// `'0'..='9'`.
    pub digit: T,
    /// `'.'..=':'`: `.`, `/`, the digits and `:` (0x2e–0x3a).
    pub dotted: T,
}

/// The classes of 16 bytes, one loop (the oracle; the build on targets
/// without SSE2).
pub fn classes16_scalar(b: &[u8; 16]) -> Classes<u16> {
    let mut c = Classes::<u16>::default();
    for (i, &x) in b.iter().enumerate() {
        c.space |= u16::from(x == b' ') << i;
        c.slash |= u16::from(x == b'/') << i;
        c.digit |= u16::from(x.is_ascii_digit()) << i;
        c.dotted |= u16::from((b'.'..=b':').contains(&x)) << i;
    }
    c
}

/// The classes of 16 bytes.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub fn classes16(b: &[u8; 16]) -> Classes<u16> {
    use core::arch::x86_64::*;
    // SAFETY: SSE2 is part of the x86_64 baseline, so these intrinsics run
    // on every CPU this code is built for; the one load reads the 16 bytes
    // of `b` (`loadu` needs no alignment).
    unsafe {
        let v = _mm_loadu_si128(b.as_ptr().cast());
        let eq = |c: u8| _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(c as i8))) as u16;
        // `lo..=lo+n-1` ↦ i8::MIN..i8::MIN+n by a wrapping add, then a signed `<`
        let range = |lo: u8, n: u8| {
            let s = _mm_add_epi8(v, _mm_set1_epi8(128u8.wrapping_sub(lo) as i8));
            _mm_movemask_epi8(_mm_cmplt_epi8(s, _mm_set1_epi8((128u8 + n) as i8))) as u16
        };
        Classes {
            space: eq(b' '),
            slash: eq(b'/'),
            digit: range(b'0', 10),
            dotted: range(b'.', 13),
        }
    }
}

/// The classes of 16 bytes.
#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
pub fn classes16(b: &[u8; 16]) -> Classes<u16> {
    classes16_scalar(b)
}

/// The classes of 32 bytes.
#[inline(always)]
pub fn classes32(b: &[u8; 32]) -> Classes<u32> {
    let (lo, hi) = b.split_at(16);
    let lo = classes16(lo.try_into().expect("16 bytes"));
    let hi = classes16(hi.try_into().expect("16 bytes"));
    let join = |a: u16, b: u16| u32::from(a) | u32::from(b) << 16;
    Classes {
        space: join(lo.space, hi.space),
        slash: join(lo.slash, hi.slash),
        digit: join(lo.digit, hi.digit),
        dotted: join(lo.dotted, hi.dotted),
    }
}

/// The classes of 128 bytes.
#[inline(always)]
pub fn classes128(b: &[u8; 128]) -> Classes<u128> {
    let mut c = Classes::<u128>::default();
    for (k, block) in b.chunks_exact(16).enumerate() {
        let m = classes16(block.try_into().expect("16 bytes"));
        c.space |= u128::from(m.space) << (16 * k);
        c.slash |= u128::from(m.slash) << (16 * k);
        c.digit |= u128::from(m.digit) << (16 * k);
        c.dotted |= u128::from(m.dotted) << (16 * k);
    }
    c
}

/// Which bytes of 16 equal each of four given bytes, one loop (the oracle;
/// the build on targets without SSE2).
pub fn equal4_scalar(b: &[u8; 16], cs: [u8; 4]) -> [u16; 4] {
    let mut out = [0u16; 4];
    for (m, c) in out.iter_mut().zip(cs) {
        for (i, &x) in b.iter().enumerate() {
            *m |= u16::from(x == c) << i;
        }
    }
    out
}

/// Which bytes of 16 equal each of four given bytes (the delimiters' first
/// bytes of a format: `logs/envoy.rs`).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub fn equal4(b: &[u8; 16], cs: [u8; 4]) -> [u16; 4] {
    use core::arch::x86_64::*;
    // SAFETY: as in `classes16`: SSE2 is in the x86_64 baseline, and the
    // one unaligned load reads the 16 bytes of `b`.
    unsafe {
        let v = _mm_loadu_si128(b.as_ptr().cast());
        cs.map(|c| _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(c as i8))) as u16)
    }
}

/// Which bytes of 16 equal each of four given bytes.
#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
pub fn equal4(b: &[u8; 16], cs: [u8; 4]) -> [u16; 4] {
    equal4_scalar(b, cs)
}

/// Longest line [`Positions`] covers, in bytes (eight 64-bit words).
pub const POSITIONS_MAX: usize = 512;

/// Where each of up to four bytes occurs in one line of at most
/// [`POSITIONS_MAX`] bytes, to find the next one from any offset without
/// scanning the bytes again.
pub struct Positions {
    words: [[u64; POSITIONS_MAX / 64]; 4],
    len: usize,
}

impl Positions {
    /// The positions of `cs` in `line`; `None` when the line is longer
    /// than [`POSITIONS_MAX`].
    #[inline]
    pub fn of(line: &[u8], cs: [u8; 4]) -> Option<Positions> {
        if line.len() > POSITIONS_MAX {
            return None;
        }
        let mut p = Positions {
            words: [[0; POSITIONS_MAX / 64]; 4],
            len: line.len(),
        };
        // 64 bytes at a time, their four masks kept in registers
        let mut pad = [0u8; 64];
        for g in 0..line.len().div_ceil(64) {
            let group = window(line, g * 64, &mut pad);
            let mut acc = [0u64; 4];
            for (b, block) in group.chunks_exact(16).enumerate() {
                let m = equal4(block.try_into().expect("16 bytes"), cs);
                for (a, m) in acc.iter_mut().zip(m) {
                    *a |= u64::from(m) << (16 * b);
                }
            }
            for (w, a) in p.words.iter_mut().zip(acc) {
                w[g] = a;
            }
        }
        Some(p)
    }

    /// The first position at or after `from` of the byte `cs[k]`.
    #[inline(always)]
    pub fn next(&self, k: usize, from: usize) -> Option<usize> {
        let words = &self.words[k];
        let mut w = from / 64;
        let mut m = *words.get(w)? & (!0u64 << (from % 64));
        loop {
            if m != 0 {
                let at = w * 64 + m.trailing_zeros() as usize;
                // the padding after the line is 0: a `0` byte there is not in it
                return (at < self.len).then_some(at);
            }
            w += 1;
            m = *words.get(w)?;
        }
    }
}

/// `N` bytes of `b` from `at` as an array: borrowed when they are there,
/// else copied into `pad` after zeroing it (bytes past the end read as
/// `0`, a byte of no class).
#[inline(always)]
pub fn window<'a, const N: usize>(b: &'a [u8], at: usize, pad: &'a mut [u8; N]) -> &'a [u8; N] {
    let rest = b.get(at..).unwrap_or(&[]);
    match rest.first_chunk::<N>() {
        Some(w) => w,
        None => {
            pad.fill(0);
            pad[..rest.len()].copy_from_slice(rest);
            pad
        }
    }
}

/// Bits `a..b` set (`a <= b < 128`).
#[inline(always)]
pub fn bits(a: u32, b: u32) -> u128 {
    debug_assert!(a <= b && b < 128);
    (1u128 << b) - (1u128 << a)
}

/// Exactly `k` (≥ 1) bits set in `m`. Not `count_ones`: POPCNT is not in
/// the x86_64 baseline, and its emulation cost more than this (`perf`).
#[inline(always)]
pub fn exactly(mut m: u128, k: u32) -> bool {
    for _ in 1..k {
        m &= m.wrapping_sub(1);
    }
    m != 0 && m & m.wrapping_sub(1) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The masks are the plain loop's, whatever the bytes.
        #[test]
        fn classes_are_the_loops(b in proptest::collection::vec(proptest::prelude::any::<u8>(), 128)) {
            let w: &[u8; 128] = b[..].try_into().unwrap();
            let c = classes128(w);
            for (i, &x) in w.iter().enumerate() {
                let bit = |m: u128| m >> i & 1 == 1;
                proptest::prop_assert_eq!(bit(c.space), x == b' ');
                proptest::prop_assert_eq!(bit(c.slash), x == b'/');
                proptest::prop_assert_eq!(bit(c.digit), x.is_ascii_digit());
                proptest::prop_assert_eq!(bit(c.dotted), (b'.'..=b':').contains(&x));
            }
            let s: &[u8; 16] = b[..16].try_into().unwrap();
            proptest::prop_assert_eq!(classes16(s), classes16_scalar(s));
        }

        #[test]
        fn exactly_is_count_ones(m in proptest::prelude::any::<u128>(), k in 1u32..6) {
            proptest::prop_assert_eq!(exactly(m, k), m.count_ones() == k);
        }
    }

    proptest::proptest! {
        /// `Positions::next` finds what a plain search finds.
        #[test]
        fn positions_are_a_search(
            line in proptest::collection::vec(proptest::sample::select(vec![b'a', b' ', b'"', b']', 0u8]), 0..600),
            from in 0usize..620,
        ) {
            let cs = [b' ', b'"', b']', 0];
            match Positions::of(&line, cs) {
                None => proptest::prop_assert!(line.len() > POSITIONS_MAX),
                Some(p) => {
                    for (k, c) in cs.into_iter().enumerate() {
                        let want = line.get(from..).and_then(|r| r.iter().position(|&x| x == c)).map(|i| from + i);
                        proptest::prop_assert_eq!(p.next(k, from), want);
                    }
                }
            }
            let b: [u8; 16] = std::array::from_fn(|i| line.get(i).copied().unwrap_or(b'x'));
            proptest::prop_assert_eq!(equal4(&b, cs), equal4_scalar(&b, cs));
        }
    }

    #[test]
    fn every_byte_value() {
        for x in 0..=255u8 {
            let b = [x; 16];
            assert_eq!(classes16(&b), classes16_scalar(&b), "{x}");
        }
        let mut pad = [9u8; 8];
        assert_eq!(window(b"abc", 1, &mut pad), b"bc\0\0\0\0\0\0");
        assert_eq!(window(b"abc", 7, &mut pad), &[0u8; 8]);
        assert_eq!(bits(2, 5), 0b11100);
        assert_eq!(bits(3, 3), 0);
    }
}
