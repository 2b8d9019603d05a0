//! HAProxy `option httplog clf`: the Common Log Format variant of the HTTP
//! log, with or without a syslog prefix.
//!
//! Layout: HAProxy's `src/log.c` (`clf_http_log_format`, 2.x):
//! ```text
//! %{+Q}o %{-Q}ci - - [%trg] %r %ST %B "" "" %cp %ms %ft %b %s %TR %Tw %Tc %Tr %Ta %tsc %ac %fc %bc %sc %rc %sq %bq %CC %CS %hrl %hsl
//! ```
//! (1.x: the same fields under their old names, `%T`, `%st`, `%Tq`, `%Tt`.)
//! `%{+Q}o` quotes every string field after it (`"fe" "be" "s1"`), the
//! client address excepted; `%trg` is the accept date in GMT with its zone
//! (`[28/Nov/2026:11:33:39 +0000]`) and `%ms` its milliseconds, a field of
//! its own; `%hrl`/`%hsl` write each captured header as a quoted field.
//! Checked against what haproxy 2.6.12 (Debian 12) really wrote with
//! `option httplog clf` for a refused server, no server, an early close, a
//! server timeout and the application's own 502: the fixture
//! `fixtures/logs/haproxy/clf/real_haproxy_2.6.log`.
//!
//! Signals: the clf variant carries every field `option httplog` has that
//! the causes rest on (the five timers, `-1` = phase not reached, the
//! termination state, frontend/backend/server, retries), so the same causes
//! are told. What it loses is the `{…}` grouping of captured headers: request
//! and response captures are one run of quoted fields, so a request id is
//! taken from any capture that looks like one (a UUID or 16+ hex digits).

use super::haproxy::{
    five_timer_values, id_like, split_message, termination_state, year_of, HaproxyParser, Httplog,
    RequestPart,
};
use super::hop::{HopEvent, HopLineError, HopParser, HopRecord};
use super::scan;

/// The fields of a clf line before the captured headers.
const FIXED: usize = 29;

/// Split `msg` into fields: `"quoted"` (a `\"` inside does not end it),
/// `[bracketed]`, or bare words; at most `out.len()` fields, the rest of the
/// line after them is returned.
fn fields<'a>(mut msg: &'a [u8], out: &mut [&'a [u8]]) -> Option<(usize, &'a [u8])> {
    let mut n = 0;
    while n < out.len() {
        msg = msg.strip_prefix(b" ").unwrap_or(msg);
        if msg.is_empty() {
            break;
        }
        let (field, rest) = match msg[0] {
            b'"' => {
                let mut i = 1;
                loop {
                    match msg.get(i)? {
                        b'\\' => i += 2,
                        b'"' => break,
                        _ => i += 1,
                    }
                }
                (&msg[1..i], &msg[i + 1..])
            }
            b'[' => {
                let e = memchr::memchr(b']', msg)?;
                (&msg[1..e], &msg[e + 1..])
            }
            _ => {
                let e = memchr::memchr(b' ', msg).unwrap_or(msg.len());
                (&msg[..e], &msg[e..])
            }
        };
        if !rest.is_empty() && rest[0] != b' ' {
            return None;
        }
        out[n] = field;
        n += 1;
        msg = rest;
    }
    Some((n, msg))
}

/// Parse the message of a clf line (no syslog prefix).
fn parse_clf(msg: &[u8]) -> Result<HopRecord<'_>, HopLineError> {
    use HopLineError::Mismatch;
    let mut f: [&[u8]; FIXED] = [&[]; FIXED];
    let (n, mut rest) = fields(msg, &mut f).ok_or(Mismatch)?;
    if n < FIXED || f[1] != b"-" || f[2] != b"-" {
        return Err(Mismatch);
    }
    // `[28/Nov/2026:11:33:39 +0000]` and `%ms`
    let mut time = scan::parse_time_local(f[3]).ok_or(HopLineError::BadTime)?;
    let ms = scan::parse_u64(f[10])
        .filter(|m| *m < 1000)
        .ok_or(Mismatch)?;
    time.utc_ms += ms as i64;
    scan::parse_u64(f[9]).ok_or(Mismatch)?; // %cp
    let status = match f[5] {
        b"-1" => None,
        s => Some(scan::parse_status(s).ok_or(HopLineError::BadStatus)?),
    };
    scan::parse_u64(f[6].strip_prefix(b"+").unwrap_or(f[6])).ok_or(Mismatch)?;
    // the five timers and the termination state, read as `option httplog`'s are
    let (tq, tw, tc, tr, ta) = five_timer_values([f[14], f[15], f[16], f[17], f[18]])?;
    let tsc = f[19];
    if !termination_state(tsc) {
        return Err(Mismatch);
    }
    for c in &f[20..24] {
        scan::parse_u64(c).ok_or(Mismatch)?;
    }
    let retries = f[24];
    scan::parse_u64(retries.strip_prefix(b"+").unwrap_or(retries)).ok_or(Mismatch)?;
    let (method, path, protocol) = if f[4] == b"<BADREQ>" {
        (None, None, None)
    } else {
        let mut w = f[4].splitn(3, |&c| c == b' ').filter(|v| !v.is_empty());
        (w.next(), w.next(), w.next())
    };
    // the captured headers: quoted fields to the end of the line
    let mut request_id = None;
    let mut cap: [&[u8]; 1] = [&[]];
    while let Some((1, r)) = fields(rest, &mut cap) {
        if request_id.is_none() && id_like(cap[0]) {
            request_id = Some(cap[0]);
        }
        rest = r;
    }
    if rest.iter().any(|c| !c.is_ascii_whitespace()) {
        return Err(Mismatch);
    }
    Ok(Httplog {
        time,
        client: Some(f[0]).filter(|c| !c.is_empty()),
        status,
        timers: [tq, tw, tc, tr, ta],
        termination: tsc,
        frontend: f[11],
        backend: f[12],
        server: f[13],
        retries,
        request: RequestPart {
            request_id,
            method,
            path,
            protocol,
        },
    }
    .record())
}

/// Does the message begin like a clf request (`addr - - [`)?
fn looks_like_clf(msg: &[u8]) -> bool {
    let sp = memchr::memchr(b' ', msg).unwrap_or(msg.len());
    sp > 0
        && msg[..sp]
            .iter()
            .all(|c| c.is_ascii_hexdigit() || b".:[]".contains(c))
        && msg[sp..].starts_with(b" - - [")
}

/// A parser for a file of `option httplog clf` lines; HAProxy's event and
/// notice lines, and other programs' syslog lines, are read as
/// [`HaproxyParser`] reads them.
pub struct ClfParser {
    fallback: HaproxyParser,
}

impl ClfParser {
    /// A parser that dates RFC 3164 event lines in `year`.
    pub fn with_year(year: Option<i64>) -> ClfParser {
        ClfParser {
            fallback: HaproxyParser::with_year(year),
        }
    }
}

impl HopParser for ClfParser {
    fn parse_line<'a>(&self, line: &'a [u8]) -> Result<HopRecord<'a>, HopLineError> {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let msg = split_message(line);
        match parse_clf(msg) {
            Ok(r) => Ok(r),
            // begun as a request and cut short or garbled: malformed, not a notice
            Err(e) if looks_like_clf(msg) => Err(e),
            Err(e) => match self.fallback.parse_line(line) {
                Err(HopLineError::NotARequest) => Err(HopLineError::NotARequest),
                _ => Err(e),
            },
        }
    }

    fn parse_event<'a>(&self, line: &'a [u8]) -> Option<HopEvent<'a>> {
        self.fallback.parse_event(line)
    }
}

/// Whether a file's head is written in the clf variant: the parser and the
/// reason, when at least half of the lines are clf requests or HAProxy's
/// own notices.
pub fn detect(head: &[&[u8]]) -> Option<(ClfParser, String)> {
    let probe = ClfParser::with_year(None);
    let (mut req, mut other, mut year) = (0usize, 0usize, None);
    for (seen, l) in head.iter().enumerate() {
        // stop as soon as half the lines cannot be reached any more: the
        // answer is then no whatever the rest hold (this runs on every
        // input, most of them not HAProxy: issue 9, thousands of small
        // files, where the whole sample was parsed for a no)
        if (req + other + (head.len() - seen)) * 2 < head.len() {
            return None;
        }
        match probe.parse_line(l) {
            Ok(r) => {
                req += 1;
                if year.is_none() {
                    year = r.time.map(|t| t.utc_ms);
                }
            }
            Err(HopLineError::NotARequest) => other += 1,
            Err(_) => {}
        }
    }
    if req == 0 || (req + other) * 2 < head.len() {
        return None;
    }
    let year = year.map(year_of);
    let why = format!(
        "{req} of the first {} lines are HAProxy `option httplog clf` requests",
        head.len()
    );
    Some((ClfParser::with_year(year), why))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::hop::Signals;

    /// What haproxy 2.6.12 wrote (log stdout format raw), from the fixture.
    const REAL: &[&str] = &[
        r#"127.0.0.1 - - [28/Nov/2026:11:33:39 +0000] "GET /refused?x=1 HTTP/1.1" 503 217 "" "" 59048 796 "fe" "be" "s1" 0 0 -1 -1 3018 SC-- 1 1 0 0 3 0 0 "" "" "0123456789abcdef0123" "#,
        r#"127.0.0.1 - - [28/Nov/2026:11:33:42 +0000] "GET /nosrv HTTP/1.1" 503 217 "" "" 52952 865 "fe2" "nosrv" "<NOSRV>" 0 -1 -1 -1 0 SC-- 1 1 0 0 0 0 0 "" "" "#,
        r#"127.0.0.1 - - [28/Nov/2026:11:33:44 +0000] "GET /early_close HTTP/1.1" 502 209 "" "" 59062 457 "fe" "be" "s1" 0 0 0 -1 0 SH-- 1 1 0 0 0 0 0 "" "" "" "#,
    ];

    #[test]
    fn real_lines() {
        let p = ClfParser::with_year(None);
        let r = p.parse_line(REAL[0].as_bytes()).unwrap();
        assert_eq!(r.status, Some(503));
        assert_eq!(r.time.unwrap().utc_ms % 1000, 796);
        assert_eq!(r.path, Some(&b"/refused?x=1"[..]));
        assert_eq!(r.request_id, Some(&b"0123456789abcdef0123"[..]));
        match r.signals {
            Signals::Haproxy {
                termination,
                tc,
                server,
                retries,
                ..
            } => {
                assert_eq!(termination, Some(&b"SC--"[..]));
                assert_eq!(tc, None);
                assert_eq!(server, Some(&b"s1"[..]));
                assert_eq!(retries, Some(&b"3"[..]));
            }
            _ => panic!("not haproxy signals"),
        }
        let r = p.parse_line(REAL[2].as_bytes()).unwrap();
        assert_eq!(r.status, Some(502));
        assert!(matches!(
            r.signals,
            Signals::Haproxy {
                termination: Some(b"SH--"),
                tr: None,
                ..
            }
        ));
        // behind a syslog prefix, as rsyslog stores it
        let l = format!("Nov 28 11:33:42 lb1 haproxy[123]: {}", REAL[1]);
        assert_eq!(p.parse_line(l.as_bytes()).unwrap().status, Some(503));
    }

    #[test]
    fn detection_and_bad_lines() {
        let head: Vec<&[u8]> = REAL.iter().map(|l| l.as_bytes()).collect();
        let (_, why) = detect(&head).expect("clf");
        assert!(why.contains("3 of the first 3"), "{why}");
        // httplog is not clf
        let httplog: &[u8] = br#"10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in static/srv1 10/0/30/69/109 200 2750 - - ---- 1/1/1/1/0 0/0 {1wt.eu} {} "GET /index.html HTTP/1.1""#;
        assert!(detect(&[httplog]).is_none());
        let p = ClfParser::with_year(None);
        for bad in [
            &REAL[0][..80],
            "127.0.0.1 - - [28/Nov/2026:11:33:39 +0000] \"GET / HTTP/1.1\" 5x3 217",
            "",
            "\"",
            "127.0.0.1 - - [28/Nov/2026:99:33:39 +0000] \"GET /\" 503 217 \"\" \"\" 1 1 \"a\" \"b\" \"c\" 0 0 0 0 0 SC-- 1 1 0 0 0 0 0 \"\" \"\"",
        ] {
            assert!(p.parse_line(bad.as_bytes()).is_err(), "{bad}");
        }
        let notice = b"Nov 28 11:33:42 lb1 haproxy[123]: Proxy fe started.";
        assert_eq!(p.parse_line(notice), Err(HopLineError::NotARequest));
    }
}
