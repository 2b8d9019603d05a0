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
