//! An event's NDJSON line written by hand into a chunk's byte buffer: the
//! bytes `serde_json` writes for an [`Event`], without building one.
//!
//! Issue 9: with `--events`, about 4 µs of CPU went to each event, most of
//! it in making an [`Event`] (an owned `String` per field, the time through
//! `strftime`) and in serde_json's byte-at-a-time string escaping. Here a
//! string that needs no escape (almost every logged value) is copied whole,
//! the rest escaped in place as serde_json escapes (`evidence::escape_from`),
//! numbers through serde_json's own
//! formatter, and the time is written digit by digit; the borrowed
//! [`EventRef`] lets the access pass write straight from the parsed line.
//! The property tests below hold the bytes equal to serde_json's.

use std::borrow::Cow;

use serde_json::ser::{CompactFormatter, Formatter};

use super::cause::Cause;
use super::event::{rfc3339, Event};
use super::evidence::{ascii_without_backslash, escape_from, needs_escape};
use crate::logs::nginx::{self, Escape};
use crate::logs::record::Attempt;
use crate::logs::scan::LogTime;

/// The `time` of an event: text already made, or a time to render as
/// [`rfc3339`] does.
#[derive(Debug, Clone, Copy)]
pub enum TimeField<'a> {
    /// Not logged.
    None,
    /// As [`Event::time`] holds it.
    Text(&'a str),
    /// Rendered in its own offset.
    At(LogTime),
}

/// The `evidence` of an event: its lines, or the items of its JSON array
/// already written ([`super::evidence::Evidence::json`]).
#[derive(Debug, Clone, Copy)]
pub enum EvidenceItems<'a> {
    /// As [`Event::evidence`] holds them.
    Lines(&'a [String]),
    /// The array's items as JSON (`"a","b"`), without the brackets.
    Json(&'a [u8]),
}

/// The fields of an [`Event`] that are written, borrowed; the line number
/// is written by [`super::event::NdjsonBatch::append_to`].
#[derive(Debug, Clone, Copy)]
pub struct EventRef<'a> {
    /// [`Event::file`].
    pub file: &'a str,
    /// [`Event::time`].
    pub time: TimeField<'a>,
    /// [`Event::client`].
    pub client: Option<&'a str>,
    /// [`Event::method`].
    pub method: Option<&'a str>,
    /// [`Event::host`].
    pub host: Option<&'a str>,
    /// [`Event::path`].
    pub path: Option<&'a str>,
    /// [`Event::status`].
    pub status: u16,
    /// [`Event::request_time`].
    pub request_time: Option<f64>,
    /// [`Event::upstream`].
    pub upstream: &'a [Attempt],
    /// [`Event::cause`].
    pub cause: Cause,
    /// [`Event::evidence`].
    pub evidence: EvidenceItems<'a>,
    /// [`Event::rescued`].
    pub rescued: bool,
    /// [`Event::request_id`].
    pub request_id: Option<&'a str>,
    /// [`Event::hop`].
    pub hop: Option<&'static str>,
}

impl<'a> From<&'a Event> for EventRef<'a> {
    fn from(e: &'a Event) -> Self {
        EventRef {
            file: &e.file,
            time: match &e.time {
                Some(t) => TimeField::Text(t),
                None => TimeField::None,
            },
            client: e.client.as_deref(),
            method: e.method.as_deref(),
            host: e.host.as_deref(),
            path: e.path.as_deref(),
            status: e.status,
            request_time: e.request_time,
            upstream: &e.upstream,
            cause: e.cause,
            evidence: EvidenceItems::Lines(&e.evidence),
            rescued: e.rescued,
            request_id: e.request_id.as_deref(),
            hop: e.hop,
        }
    }
}

/// `,"name":` of an `Obj` as one literal (one copy, not three), and
/// where its value goes. The names are ASCII that needs no escaping.
macro_rules! key {
    ($o:expr, $name:literal) => {
        $o.key(concat!(",\"", $name, "\":").as_bytes())
    };
}

/// Write `e` as one JSON object and its `\n` to `out`, leaving out the
/// value of `line`: returns the offset where it goes (right after
/// `"line":`).
pub fn write_event(out: &mut Vec<u8>, e: &EventRef<'_>) -> usize {
    write_event_with(out, e, &mut TimeText::default())
}

/// [`write_event`], the time's text taken from `times` when it holds the
/// same second (the events of a chunk mostly share their second with the
/// one before).
pub fn write_event_with(out: &mut Vec<u8>, e: &EventRef<'_>, times: &mut TimeText) -> usize {
    let mut o = Obj::open(out, b"{\"file\":");
    write_str(o.out, e.file);
    let line_at = key!(o, "line").at();
    match e.time {
        TimeField::None => key!(o, "time").null(),
        TimeField::Text(t) => key!(o, "time").str(t),
        TimeField::At(t) => write_time(key!(o, "time").out(), t, times),
    }
    key!(o, "client").opt_str(e.client);
    key!(o, "method").opt_str(e.method);
    key!(o, "host").opt_str(e.host);
    key!(o, "path").opt_str(e.path);
    key!(o, "status").u64(u64::from(e.status));
    key!(o, "request_time").opt_f64(e.request_time);
    key!(o, "upstream").out().push(b'[');
    for (i, a) in e.upstream.iter().enumerate() {
        if i > 0 {
            o.out.push(b',');
        }
        let mut at = Obj::open(o.out, b"{\"addr\":");
        write_str(at.out, &a.addr);
        match a.status {
            Some(s) => key!(at, "status").u64(u64::from(s)),
            None => key!(at, "status").null(),
        }
        key!(at, "connect_time").opt_f64(a.connect_time);
        key!(at, "header_time").opt_f64(a.header_time);
        key!(at, "response_time").opt_f64(a.response_time);
        key!(at, "group").u64(u64::from(a.group));
        at.close();
    }
    o.out.push(b']');
    // an id is snake_case ASCII: nothing to escape
    key!(o, "cause").raw_str(e.cause.id());
    key!(o, "evidence").out().push(b'[');
    match e.evidence {
        EvidenceItems::Lines(lines) => {
            for (i, s) in lines.iter().enumerate() {
                if i > 0 {
                    o.out.push(b',');
                }
                write_str(o.out, s);
            }
        }
        EvidenceItems::Json(items) => o.out.extend_from_slice(items),
    }
    o.out.push(b']');
    key!(o, "rescued").raw(if e.rescued { b"true" } else { b"false" });
    key!(o, "request_id").opt_str(e.request_id);
    if let Some(h) = e.hop {
        key!(o, "hop").str(h);
    }
    o.out.extend_from_slice(b"}\n");
    line_at
}

/// An object being written: `{` and its first key done, each next key
/// put after a `,` (`key!`).
struct Obj<'a> {
    out: &'a mut Vec<u8>,
}

impl<'a> Obj<'a> {
    /// `{"first":`, given whole.
    fn open(out: &'a mut Vec<u8>, head: &[u8]) -> Obj<'a> {
        out.extend_from_slice(head);
        Obj { out }
    }

    /// `,"key":`, given whole (`key!`), and where its value goes.
    fn key(&mut self, framed: &[u8]) -> Val<'_> {
        self.out.extend_from_slice(framed);
        Val(self.out)
    }

    /// `}`.
    fn close(self) {
        self.out.push(b'}');
    }
}

/// Where one value goes, right after its key.
struct Val<'a>(&'a mut Vec<u8>);

impl<'a> Val<'a> {
    /// The offset of the value: where it is to be put later.
    fn at(self) -> usize {
        self.0.len()
    }
    fn out(self) -> &'a mut Vec<u8> {
        self.0
    }
    fn null(self) {
        self.0.extend_from_slice(b"null");
    }
    fn raw(self, v: &[u8]) {
        self.0.extend_from_slice(v);
    }
    /// A string known to need no escaping.
    fn raw_str(self, v: &str) {
        self.0.push(b'"');
        self.0.extend_from_slice(v.as_bytes());
        self.0.push(b'"');
    }
    fn str(self, v: &str) {
        write_str(self.0, v);
    }
    fn opt_str(self, v: Option<&str>) {
        write_opt_str(self.0, v);
    }
    fn u64(self, v: u64) {
        write_u64(self.0, v);
    }
    fn opt_f64(self, v: Option<f64>) {
        write_opt_f64(self.0, v);
    }
}

/// `s` as a JSON string, as serde_json writes it.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    let start = out.len();
    out.extend_from_slice(s.as_bytes());
    if needs_escape(s.as_bytes()) {
        // the rare string with something to escape, in place
        escape_from(out, start);
    }
    out.push(b'"');
}

fn write_opt_str(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => write_str(out, s),
        None => out.extend_from_slice(b"null"),
    }
}

fn write_u64(out: &mut Vec<u8>, v: u64) {
    // serde_json's formatter (itoa); writing to a Vec cannot fail
    let _ = CompactFormatter.write_u64(out, v);
}

/// As serde_json's `serialize_f64`: `null` when not finite, else its
/// formatter's shortest round-trip text.
fn write_opt_f64(out: &mut Vec<u8>, v: Option<f64>) {
    match v {
        Some(v) if v.is_finite() => {
            if !write_millis(out, v) {
                let _ = CompactFormatter.write_f64(out, v);
            }
        }
        _ => out.extend_from_slice(b"null"),
    }
}

/// `.` and the three digits of `f` milliseconds (`f` < 1000), as ASCII.
pub(super) fn dot_millis(f: u16) -> [u8; 4] {
    [
        b'.',
        b'0' + (f / 100) as u8,
        b'0' + (f / 10 % 10) as u8,
        b'0' + (f % 10) as u8,
    ]
}

/// Write `v` as serde_json does when it is the double nearest to a whole
/// number `k` of milliseconds below 10⁹ s (a time logged with three
/// decimals always is): then its shortest round-trip text is `k / 1000`
/// without trailing zeros (at most 12 significant digits, which no other
/// decimal of as few digits shares with it), `.0` for a whole number.
/// Returns false, writing nothing, for any other value.
fn write_millis(out: &mut Vec<u8>, v: f64) -> bool {
    // the nearest whole number of milliseconds, by a cast, not `round`
    // (a libm call: 1.6 % of an `--events` run's CPU, `perf record`): any
    // `k` is checked below, and one that is not `v`'s is not written
    let x = v * 1000.0 + 0.5;
    if v.is_sign_negative() || !(0.0..1e12).contains(&x) {
        return false;
    }
    let k = x as u64;
    if k as f64 / 1000.0 != v {
        return false;
    }
    let (secs, f) = (k / 1000, (k % 1000) as u16);
    let len = match f {
        0 => 2,
        _ if f % 100 == 0 => 2,
        _ if f % 10 == 0 => 3,
        _ => 4,
    };
    let [dot, a, b, c] = dot_millis(f);
    if secs < 10 {
        // most logged times: one digit, the number as five bytes (a copy
        // of a known length, no `memcpy` call) cut to its length; no itoa
        // (`callgrind` had ≈ 160 instructions a number here)
        out.extend_from_slice(&[b'0' + secs as u8, dot, a, b, c]);
        out.truncate(out.len() - (4 - len));
    } else {
        out.extend_from_slice(itoa::Buffer::new().format(secs).as_bytes());
        out.extend_from_slice(&[dot, a, b, c][..len]);
    }
    true
}

/// The last second an event's time was written with: the UTC second and
/// offset, and its `YYYY-MM-DDTHH:MM:SS` in that offset.
#[derive(Debug, Default, Clone)]
pub struct TimeText {
    key: Option<(i64, i32)>,
    text: [u8; 19],
}

/// [`rfc3339`] of `t` as a JSON string (its text never needs escaping),
/// digit by digit for the years 1000–9999 (where `%Y` is four digits);
/// other times through [`rfc3339`] itself. The date and time to the second
/// come from `times` when it was made for the same second and offset
/// (jiff's civil time for each event cost more than the rest of the time),
/// else are made and kept there.
fn write_time(out: &mut Vec<u8>, t: LogTime, times: &mut TimeText) {
    let key = (t.utc_ms.div_euclid(1000), t.offset_s);
    if times.key != Some(key) {
        let fast = jiff::Timestamp::from_millisecond(t.utc_ms)
            .ok()
            .zip(jiff::tz::Offset::from_seconds(t.offset_s).ok())
            .map(|(ts, off)| off.to_datetime(ts))
            .filter(|dt| (1000..=9999).contains(&dt.year()));
        let Some(dt) = fast else {
            write_str(out, &rfc3339(t));
            return;
        };
        let two = |v: i8| [b'0' + v as u8 / 10, b'0' + v as u8 % 10];
        let y = dt.year() as u16;
        let [mo, mo1] = two(dt.month());
        let [d, d1] = two(dt.day());
        let [h, h1] = two(dt.hour());
        let [mi, mi1] = two(dt.minute());
        let [se, se1] = two(dt.second());
        times.text = [
            b'0' + (y / 1000) as u8,
            b'0' + (y / 100 % 10) as u8,
            b'0' + (y / 10 % 10) as u8,
            b'0' + (y % 10) as u8,
            b'-',
            mo,
            mo1,
            b'-',
            d,
            d1,
            b'T',
            h,
            h1,
            b':',
            mi,
            mi1,
            b':',
            se,
            se1,
        ];
        times.key = Some(key);
    }
    out.push(b'"');
    out.extend_from_slice(&times.text);
    // the milliseconds of the second `key` holds (floored, as jiff's time is)
    let ms = t.utc_ms.rem_euclid(1000) as u16;
    if ms != 0 {
        out.extend_from_slice(&[
            b'.',
            b'0' + (ms / 100) as u8,
            b'0' + (ms / 10 % 10) as u8,
            b'0' + (ms % 10) as u8,
        ]);
    }
    if t.offset_s == 0 {
        out.push(b'Z');
    } else {
        // a valid offset is within ±25:59:59: two digits of hours
        let s = t.offset_s.unsigned_abs();
        let (h, m) = ((s / 3600) as u8, (s % 3600 / 60) as u8);
        out.extend_from_slice(&[
            if t.offset_s < 0 { b'-' } else { b'+' },
            b'0' + h / 10,
            b'0' + h % 10,
            b':',
            b'0' + m / 10,
            b'0' + m % 10,
        ]);
    }
    out.push(b'"');
}

/// [`nginx::unescape`], borrowing the logged bytes when they are already
/// the text (valid UTF-8 with nothing to decode).
pub fn text(v: &[u8], esc: Escape) -> Cow<'_, str> {
    // almost every logged value (an address, a method, a path): ASCII
    // without a backslash, which no escaping decodes (`Json` too: serde_json
    // reads such text as it is or fails, and the failure falls back to the
    // bytes; the property test below holds it). One pass over the bytes
    // instead of a `memchr` call and `from_utf8` (≈ 460 instructions per
    // `--events` event of the bench log, `callgrind`)
    if ascii_without_backslash(v) {
        // SAFETY: every byte is below 0x80: ASCII, which is valid UTF-8
        return Cow::Borrowed(unsafe { std::str::from_utf8_unchecked(v) });
    }
    let plain = match esc {
        Escape::None => true,
        Escape::Default => memchr::memchr(b'\\', v).is_none(),
        Escape::Json => false,
    };
    if plain {
        // `from_utf8` first: its ASCII fast path beats `from_utf8_lossy`'s
        // chunk walk (as in `hops.rs`); the result is the same
        match std::str::from_utf8(v) {
            Ok(s) => Cow::Borrowed(s),
            Err(_) => String::from_utf8_lossy(v),
        }
    } else {
        Cow::Owned(nginx::unescape(v, esc))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What serde_json writes for `e`, and what [`write_event`] writes
    /// with the line put in its place.
    fn both(e: &Event) -> (String, String) {
        let mut want = serde_json::to_vec(e).unwrap();
        want.push(b'\n');
        let mut got = Vec::new();
        let at = write_event(&mut got, &EventRef::from(e));
        let mut line = Vec::new();
        write_u64(&mut line, e.line);
        got.splice(at..at, line);
        (
            String::from_utf8(got).unwrap(),
            String::from_utf8(want).unwrap(),
        )
    }

    fn any_f64() -> impl Strategy<Value = Option<f64>> {
        prop_oneof![
            Just(None),
            Just(Some(f64::NAN)),
            Just(Some(f64::INFINITY)),
            Just(Some(-0.0)),
            any::<f64>().prop_map(Some),
            (0u32..10_000_000).prop_map(|ms| Some(ms as f64 / 1000.0)),
            // under 10 s: one digit (write_millis' own path)
            (0u32..12_000).prop_map(|ms| Some(ms as f64 / 1000.0)),
            (0u64..2_000_000_000_000).prop_map(|ms| Some(ms as f64 / 1000.0)),
            (0u64..1_000_000_000).prop_map(|us| Some(us as f64 / 1_000_000.0)),
        ]
    }

    /// Strings with what JSON escapes (quotes, backslashes, every control
    /// byte), non-ASCII, and lossy-decoded bytes, long ones too.
    fn any_text() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            "[\\x00-\\x7f\"\\\\]{0,40}",
            proptest::collection::vec(any::<u8>(), 0..80)
                .prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
            "[a-z/.?=&]{0,200}",
        ]
    }

    fn any_attempt() -> impl Strategy<Value = Attempt> {
        (
            any_text(),
            any::<Option<u16>>(),
            any_f64(),
            any_f64(),
            any_f64(),
            any::<u16>(),
        )
            .prop_map(|(addr, status, c, h, r, group)| Attempt {
                addr,
                status,
                connect_time: c,
                header_time: h,
                response_time: r,
                group,
            })
    }

    fn any_event() -> impl Strategy<Value = Event> {
        (
            (
                any_text(),
                any::<u64>(),
                proptest::option::of(any_text()),
                proptest::option::of(any_text()),
                proptest::option::of(any_text()),
                proptest::option::of(any_text()),
                proptest::option::of(any_text()),
            ),
            (
                any::<u16>(),
                any_f64(),
                proptest::collection::vec(any_attempt(), 0..4),
                proptest::sample::select(Cause::ALL.to_vec()),
                proptest::collection::vec(any_text(), 0..4),
                any::<bool>(),
                proptest::option::of(any_text()),
                proptest::option::of(proptest::sample::select(vec!["haproxy", "envoy", "a\"b"])),
            ),
        )
            .prop_map(
                |(
                    (file, line, time, client, method, host, path),
                    (status, request_time, upstream, cause, evidence, rescued, request_id, hop),
                )| Event {
                    file,
                    line,
                    time,
                    client,
                    method,
                    host,
                    path,
                    status,
                    request_time,
                    upstream,
                    cause,
                    evidence,
                    rescued,
                    request_id,
                    hop,
                    at: None,
                    blamed: None,
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn writes_what_serde_writes(e in any_event()) {
            let (got, want) = both(&e);
            prop_assert_eq!(got, want);
        }

        /// The evidence written as JSON items (`Evidence::json`) gives
        /// the line its lines give.
        #[test]
        fn evidence_as_json_items_writes_the_same(e in any_event()) {
            let mut items = Vec::new();
            let mut ev = crate::analyze::evidence::Evidence::json(&mut items);
            for l in &e.evidence {
                ev.text(l);
            }
            let mut lines = Vec::new();
            write_event(&mut lines, &EventRef::from(&e));
            let mut json = Vec::new();
            let r = EventRef {
                evidence: EvidenceItems::Json(&items),
                ..EventRef::from(&e)
            };
            write_event(&mut json, &r);
            prop_assert_eq!(String::from_utf8(json).unwrap(), String::from_utf8(lines).unwrap());
        }

        #[test]
        fn seconds_as_serde_writes_them(v in any_f64()) {
            let mut got = Vec::new();
            write_opt_f64(&mut got, v);
            prop_assert_eq!(String::from_utf8(got).unwrap(), serde_json::to_string(&v).unwrap());
        }

        #[test]
        fn time_is_rfc3339(
            utc_ms in prop_oneof![
                any::<i64>(),
                -62_000_000_000_000i64..253_402_300_800_000,
                1_700_000_000_000i64..1_800_000_000_000,
            ],
            offset_s in prop_oneof![any::<i32>(), -93_599i32..93_600, Just(0)],
        ) {
            let t = LogTime { utc_ms, offset_s };
            let mut got = Vec::new();
            write_time(&mut got, t, &mut TimeText::default());
            let mut want = Vec::new();
            write_str(&mut want, &rfc3339(t));
            prop_assert_eq!(String::from_utf8(got).unwrap(), String::from_utf8(want).unwrap());
        }

        /// Times in a row, as a chunk's events come (the same second again,
        /// the next one, another offset, a jump), written with one cache.
        #[test]
        fn times_in_a_row_are_rfc3339(
            first in -62_000_000_000_000i64..253_402_300_800_000,
            steps in proptest::collection::vec(
                (prop_oneof![Just(0i64), 0i64..1000, -1000i64..0, any::<i64>()],
                 prop_oneof![Just(0i32), Just(3600), -93_599i32..93_600]),
                1..12,
            ),
        ) {
            let mut times = TimeText::default();
            let mut at = first;
            for (step, offset_s) in steps {
                at = at.saturating_add(step);
                let t = LogTime { utc_ms: at, offset_s };
                let mut got = Vec::new();
                write_time(&mut got, t, &mut times);
                let mut want = Vec::new();
                write_str(&mut want, &rfc3339(t));
                prop_assert_eq!(String::from_utf8(got).unwrap(), String::from_utf8(want).unwrap());
            }
        }

        #[test]
        fn text_is_unescape(
            v in prop_oneof![
                proptest::collection::vec(any::<u8>(), 0..60),
                "[a-z\\\\x0-9\"]{0,30}".prop_map(String::into_bytes),
                // ASCII with quotes and control bytes, no backslash
                "[\\x00-\\x5b\\x5d-\\x7f]{0,40}".prop_map(String::into_bytes),
            ],
            esc in proptest::sample::select(vec![Escape::Default, Escape::Json, Escape::None]),
        ) {
            prop_assert_eq!(text(&v, esc).into_owned(), nginx::unescape(&v, esc));
        }
    }

    #[test]
    fn milliseconds_as_serde_writes_them() {
        for v in [
            0.0,
            0.001,
            0.01,
            0.1,
            0.5,
            1.0,
            12.25,
            100.0,
            999_999.999,
            0.0005,
            -0.0,
            1e12,
        ] {
            let mut got = Vec::new();
            write_opt_f64(&mut got, Some(v));
            assert_eq!(
                String::from_utf8(got).unwrap(),
                serde_json::to_string(&v).unwrap(),
                "{v}"
            );
        }
    }

    #[test]
    fn a_logged_time_and_escapes() {
        let t = crate::logs::scan::parse_time_local(b"20/Nov/2026:14:03:07 -0130").unwrap();
        let mut out = Vec::new();
        write_time(&mut out, t, &mut TimeText::default());
        assert_eq!(out, b"\"2026-11-20T14:03:07-01:30\"");
        out.clear();
        write_str(&mut out, "a\"b\\c\u{1}\u{7f}é");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\"a\\\"b\\\\c\\u0001\u{7f}é\""
        );
        assert!(matches!(text(b"/plain", Escape::Default), Cow::Borrowed(_)));
    }
}
