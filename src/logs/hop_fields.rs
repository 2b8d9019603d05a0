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
    fn ints_from_numbers_and_strings() {
        let v: Vec<&RawValue> = serde_json::from_str(r#"[200,"503",12.7,"-",null,"x"]"#).unwrap();
        let got: Vec<Option<i64>> = v.iter().map(|r| json_int(r)).collect();
        assert_eq!(got, vec![Some(200), Some(503), Some(12), None, None, None]);
    }
}
