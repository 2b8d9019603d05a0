//! Field helpers shared by the hop formats (`envoy`, `cloudfront`, `alb`,
//! `cloudflare`, `fastly`, `gcp_lb`): the "absent" marker, line ends, and
//! a walk over one JSON object line that borrows every key and value from
//! the line (serde_json `RawValue`; no allocation for a line whose keys and
//! values hold no escapes).
//!
//! Imports nothing from `analyze` or `report`.

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use std::fmt;

/// `None` for an empty field or the `-` logs write for "not set".
#[inline]
pub fn dash(b: &[u8]) -> Option<&[u8]> {
    if b.is_empty() || b == b"-" {
        None
    } else {
        Some(b)
    }
}

/// The line without a trailing `\r` (files written on Windows, or CRLF
/// collectors).
#[inline]
pub fn trim_cr(line: &[u8]) -> &[u8] {
    match line {
        [rest @ .., b'\r'] => rest,
        _ => line,
    }
}

/// Split `line` at every `sep` byte into `out` (field `i` in `out[i]`) and
/// return how many fields the line has; fields past `out.len()` are
/// counted, not stored. Eight bytes at a time (SWAR): a tab-separated line
/// has a separator every dozen bytes, where one `memchr` call per field
/// costs more than the search.
#[inline]
pub fn split_fields<'a>(line: &'a [u8], sep: u8, out: &mut [&'a [u8]]) -> usize {
    /// 0x01 in every byte.
    const ONES: u64 = 0x0101_0101_0101_0101;
    /// 0x7f in every byte.
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let pattern = ONES * sep as u64;
    let mut n = 0;
    let mut start = 0;
    let mut push = |end: usize, n: &mut usize| {
        if let Some(slot) = out.get_mut(*n) {
            *slot = &line[start..end];
        }
        *n += 1;
        start = end + 1;
    };
    let mut i = 0;
    while i + 8 <= line.len() {
        let mut w = [0u8; 8];
        w.copy_from_slice(&line[i..i + 8]);
        let x = u64::from_le_bytes(w) ^ pattern;
        // exact: 0x80 in each byte of x that is zero, nothing elsewhere
        let mut m = !(((x & LOW7) + LOW7) | x | LOW7);
        while m != 0 {
            let b = (m.trailing_zeros() / 8) as usize;
            push(i + b, &mut n);
            m &= m - 1;
        }
        i += 8;
    }
    for (j, &c) in line[i..].iter().enumerate() {
        if c == sep {
            push(i + j, &mut n);
        }
    }
    if let Some(slot) = out.get_mut(n) {
        *slot = &line[start..];
    }
    n + 1
}

/// A signed integer (`-1`, `42`); `None` for `-`, empty or anything else.
#[inline]
pub fn parse_i64(b: &[u8]) -> Option<i64> {
    match b {
        [b'-', rest @ ..] if !rest.is_empty() => super::scan::parse_u64(rest).map(|n| -(n as i64)),
        _ => super::scan::parse_u64(b).map(|n| n as i64),
    }
}

/// Seconds with a fraction (`0.052`, `30.000`, `-1`) → whole milliseconds.
/// `-1` (ALB's "not reached") and `-` are `None`.
#[inline]
pub fn secs_to_ms(b: &[u8]) -> Option<i64> {
    if b.first() == Some(&b'-') {
        return None;
    }
    super::scan::parse_secs_ms(b).map(i64::from)
}

/// `scheme://host:port/path?q` (or a bare `/path`) → host (without the
/// port) and path (with the query); `-` parts are `None`.
pub fn split_url(u: &[u8]) -> (Option<&[u8]>, Option<&[u8]>) {
    let Some(u) = dash(u) else {
        return (None, None);
    };
    let Some(i) = memchr::memmem::find(u, b"://") else {
        return (None, Some(u));
    };
    let after = &u[i + 3..];
    let (authority, path) = match memchr::memchr(b'/', after) {
        Some(i) => (&after[..i], &after[i..]),
        None => (after, &after[after.len()..]),
    };
    let host = match memchr::memrchr(b':', authority) {
        Some(i) if !authority.ends_with(b"]") => &authority[..i],
        _ => authority,
    };
    (dash(host), dash(path))
}

/// A JSON timestamp: RFC 3339 text, or epoch seconds, ms, µs or ns
/// (told apart by magnitude: Cloudflare's `unix`, `unixnano`, …).
pub fn json_time(raw: &RawValue) -> Option<super::scan::LogTime> {
    let b = json_bytes(raw)?;
    if b.len() >= 19 && b[4] == b'-' {
        return super::scan::parse_iso8601(b);
    }
    let int = match memchr::memchr(b'.', b) {
        Some(i) => &b[..i],
        None => b,
    };
    // unixnano has 19 digits, one more than scan::parse_u64 takes
    let n: i64 = if int.is_empty() || !int.iter().all(u8::is_ascii_digit) {
        return None;
    } else {
        std::str::from_utf8(int).ok()?.parse().ok()?
    };
    let ms = match n {
        0..=99_999_999_999 => n * 1000,
        100_000_000_000..=99_999_999_999_999 => n,
        100_000_000_000_000..=99_999_999_999_999_999 => n / 1000,
        _ => n / 1_000_000,
    };
    Some(super::scan::LogTime {
        utc_ms: ms,
        offset_s: 0,
    })
}

/// Call `f(key, value)` for each member of the JSON object `line`, in
/// order. Keys with escapes in them are skipped (none of the keys the
/// formats read has one). `false` when the line is not one JSON object.
pub fn json_members<'a>(line: &'a [u8], f: &mut dyn FnMut(&'a str, &'a RawValue)) -> bool {
    let mut de = serde_json::Deserializer::from_slice(line);
    let ok = de.deserialize_map(MembersVisitor { f }).is_ok();
    ok && de.end().is_ok()
}

struct MembersVisitor<'f, 'a> {
    f: &'f mut dyn FnMut(&'a str, &'a RawValue),
}

impl<'de, 'f> Visitor<'de> for MembersVisitor<'f, 'de> {
    type Value = ();
    fn expecting(&self, out: &mut fmt::Formatter) -> fmt::Result {
        out.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let value: &'de RawValue = map.next_value()?;
            if let Some(key) = key {
                (self.f)(key, value);
            }
        }
        Ok(())
    }
}

/// A key borrowed from the line, or `None` when it had to be unescaped.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Option<&'de str>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(KeySeed)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Option<&'de str>;
    fn expecting(&self, out: &mut fmt::Formatter) -> fmt::Result {
        out.write_str("a key")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Some(v))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }
}

/// A JSON value as bytes borrowed from the line: a string's content
/// (still escaped, if it had escapes), a number's digits, `true`/`false`;
/// `None` for `null`, `""`, `"-"`, objects and arrays.
#[inline]
pub fn json_bytes(raw: &RawValue) -> Option<&[u8]> {
    let b = raw.get().as_bytes();
    match b.first()? {
        b'"' => dash(&b[1..b.len().saturating_sub(1).max(1)]),
        b'{' | b'[' | b'n' => None,
        _ => Some(b),
    }
}

/// A JSON number or a string holding an integer (`200`, `"200"`,
/// `12.7` → 12); `None` otherwise.
#[inline]
pub fn json_int(raw: &RawValue) -> Option<i64> {
    let b = json_bytes(raw)?;
    let int = match memchr::memchr(b'.', b) {
        Some(i) => &b[..i],
        None => b,
    };
    parse_i64(int)
}

/// The raw text of a nested object member (`{…}`), for a second walk.
#[inline]
pub fn json_object(raw: &RawValue) -> Option<&[u8]> {
    let b = raw.get().as_bytes();
    (b.first() == Some(&b'{')).then_some(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dash_and_cr() {
        assert_eq!(dash(b"-"), None);
        assert_eq!(dash(b""), None);
        assert_eq!(dash(b"UF"), Some(&b"UF"[..]));
        assert_eq!(trim_cr(b"a b\r"), b"a b");
        assert_eq!(trim_cr(b"a b"), b"a b");
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_i64(b"-1"), Some(-1));
        assert_eq!(parse_i64(b"17"), Some(17));
        assert_eq!(parse_i64(b"-"), None);
        assert_eq!(secs_to_ms(b"0.052"), Some(52));
        assert_eq!(secs_to_ms(b"-1"), None);
        assert_eq!(secs_to_ms(b"x"), None);
    }

    #[test]
    fn members_borrow_keys_and_values() {
        let line = br#"{"a":"x","b":502,"c":null,"d":{"e":"-"},"f\u0041":"y","g":"q\"r"}"#;
        let mut seen = Vec::new();
        assert!(json_members(line, &mut |k, v| seen
            .push((k, json_bytes(v).map(|b| b.to_vec())))));
        assert_eq!(
            seen,
            vec![
                ("a", Some(b"x".to_vec())),
                ("b", Some(b"502".to_vec())),
                ("c", None),
                ("d", None),
                ("g", Some(br#"q\"r"#.to_vec())),
            ]
        );
    }

    #[test]
    fn members_reject_what_is_not_one_object() {
        for bad in [
            &b"[1,2]"[..],
            b"{\"a\":1",
            b"{\"a\":1} x",
            b"",
            b"\xff\xfe",
            b"{\"a\":\"\xff\"}",
        ] {
            assert!(!json_members(bad, &mut |_, _| {}), "{bad:?}");
        }
    }

    #[test]
    fn split_fields_matches_split() {
        let cases: &[&[u8]] = &[
            b"",
            b"\t",
            b"a\tb",
            b"0123456\t89abcdef\t\t\tx\ty\t",
            b"\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t",
            b"\xff\x09\x89\x08\x0a\t\x80\x88\x09\x09\xfe\t12345678",
        ];
        for line in cases {
            let want: Vec<&[u8]> = line.split(|&c| c == b'\t').collect();
            let mut out: [&[u8]; 32] = [&[]; 32];
            let n = split_fields(line, b'\t', &mut out);
            assert_eq!(n, want.len(), "{line:?}");
            assert_eq!(&out[..n], &want[..], "{line:?}");
            let mut small: [&[u8]; 2] = [&[]; 2];
            assert_eq!(split_fields(line, b'\t', &mut small), want.len());
        }
        // every byte value next to the separator
        for b in 0..=255u8 {
            let line = [b, b'\t', b, b, b'\t', b, b, b, b, b, b'\t', b];
            let want: Vec<&[u8]> = line.split(|&c| c == b'\t').collect();
            let mut out: [&[u8]; 16] = [&[]; 16];
            let n = split_fields(&line, b'\t', &mut out);
            assert_eq!(&out[..n], &want[..], "{b}");
        }
    }

    #[test]
    fn urls_and_times() {
        assert_eq!(
            split_url(b"https://api.example.com:443/a?b=1"),
            (Some(&b"api.example.com"[..]), Some(&b"/a?b=1"[..]))
        );
        assert_eq!(
            split_url(b"http://[::1]:80/"),
            (Some(&b"[::1]"[..]), Some(&b"/"[..]))
        );
        assert_eq!(split_url(b"/only/path"), (None, Some(&b"/only/path"[..])));
        assert_eq!(split_url(b"-"), (None, None));
        let v: Vec<&RawValue> = serde_json::from_str(
            r#"[1710230400, 1710230400123, 1710230400123456, 1710230400123456789, "2024-03-12T08:00:00.123Z", "x", null]"#,
        )
        .unwrap();
        let got: Vec<Option<i64>> = v.iter().map(|r| json_time(r).map(|t| t.utc_ms)).collect();
        let s = 1_710_230_400_000;
        assert_eq!(
            got,
            vec![
                Some(s),
                Some(s + 123),
                Some(s + 123),
                Some(s + 123),
                Some(1_710_230_400_123),
                None,
                None
            ]
        );
    }

    #[test]
    fn ints_from_numbers_and_strings() {
        let v: Vec<&RawValue> = serde_json::from_str(r#"[200,"503",12.7,"-",null,"x"]"#).unwrap();
        let got: Vec<Option<i64>> = v.iter().map(|r| json_int(r)).collect();
        assert_eq!(got, vec![Some(200), Some(503), Some(12), None, None, None]);
    }
}
