//! HAProxy HTTP logs: `option httplog` and `option httpslog`, bare (`log
//! stdout format raw`), behind an RFC 3164 syslog prefix (what haproxy sends
//! by default and rsyslog stores in `/var/log/haproxy.log`, with or without
//! the host name, classic or RFC 3339 timestamp) or an RFC 5424 one.
//!
//! Field reference: HAProxy configuration manual §8.2.3 "HTTP log format"
//! (the `option httplog` format string, fields 1–16), §8.2.4 (httpslog
//! appends fields after the request, which this parser ignores), §8.4
//! (timers, `-1` = phase never reached) and §8.5 (termination state), read
//! in haproxy/haproxy `doc/configuration.txt`. The event lines (`Server
//! be/s1 is DOWN, reason: …`, `backend be has no server available!`) are the
//! strings of `src/server.c` and `src/backend.c` (`send_log`).
//!
//! `option httplog clf` is read by `logs::haproxy_clf` (detection falls
//! back to it), custom `log-format` strings by `logs::haproxy_custom`. Not
//! read: `option tcplog` lines (skipped as non-requests).

use super::byteclass;
use super::hop::{
    HopEvent, HopEventKind, HopFormat, HopKind, HopLineError, HopParser, HopRecord, HopSummary,
    Signals, SummaryCache,
};
use super::scan::{self, LogTime};

/// The HAProxy log format (`haproxy`).
pub struct Haproxy;

impl HopFormat for Haproxy {
    fn name(&self) -> &'static str {
        "haproxy"
    }

    fn hop(&self) -> HopKind {
        HopKind::Proxy
    }

    fn detect(&self, head: &[&[u8]]) -> Option<(Box<dyn HopParser>, String)> {
        let probe = HaproxyParser { year: None };
        let (mut req, mut events, mut foreign) = (0usize, 0usize, 0usize);
        let mut year = None;
        let mut prefix = None;
        let mut matched = Vec::new();
        for (i, l) in head.iter().enumerate() {
            match probe.parse_line(l) {
                Ok(r) => {
                    req += 1;
                    if matched.len() < 5 {
                        matched.push((i + 1).to_string());
                    }
                    if year.is_none() {
                        year = r.time.map(|t| year_of(t.utc_ms));
                    }
                    prefix.get_or_insert(split_prefix(l).prefix);
                }
                Err(HopLineError::NotARequest) => {
                    let s = split_prefix(l);
                    if s.tag.is_some_and(|t| !is_haproxy_tag(t)) {
                        foreign += 1;
                    } else {
                        events += 1;
                    }
                }
                Err(_) => {}
            }
        }
        let own = head.len() - foreign;
        if req == 0 || (req + events) * 2 < own {
            // not `option httplog`: perhaps its CLF variant
            return super::haproxy_clf::detect(head)
                .map(|(p, why)| (Box::new(p) as Box<dyn HopParser>, why));
        }
        let mut why = format!(
            "{req} of the first {} lines are HAProxy `option httplog` requests ({}; sampled lines {}{})",
            head.len(),
            prefix.unwrap_or(Prefix::Raw).describe(),
            matched.join(", "),
            if req > matched.len() { ", …" } else { "" }
        );
        if events > 0 {
            why.push_str(&format!(", {events} HAProxy notices"));
        }
        if foreign > 0 {
            why.push_str(&format!(", {foreign} other programs' syslog lines"));
        }
        Some((Box::new(HaproxyParser { year }), why))
    }

    fn forced(&self, head: &[&[u8]]) -> Option<Box<dyn HopParser>> {
        if let Some((p, _)) = self.detect(head) {
            return Some(p);
        }
        let probe = HaproxyParser { year: None };
        let year = head
            .iter()
            .find_map(|l| probe.parse_line(l).ok().and_then(|r| r.time))
            .map(|t| year_of(t.utc_ms));
        Some(Box::new(HaproxyParser { year }))
    }
}

/// Civil year of a UTC epoch millisecond.
pub(crate) fn year_of(utc_ms: i64) -> i64 {
    // days_from_civil's inverse, by search around the estimate (no calendar crate on the hot path)
    let days = utc_ms.div_euclid(86_400_000);
    let mut y = 1970 + days.div_euclid(365);
    while scan::days_from_civil(y, 1, 1) > days {
        y -= 1;
    }
    while scan::days_from_civil(y + 1, 1, 1) <= days {
        y += 1;
    }
    y
}

/// A parser for one HAProxy log file.
pub struct HaproxyParser {
    /// The year of the file's first request, for RFC 3164 timestamps
    /// (which have none) on event lines.
    year: Option<i64>,
}

impl HaproxyParser {
    /// A parser that dates RFC 3164 event lines in `year`.
    pub fn with_year(year: Option<i64>) -> HaproxyParser {
        HaproxyParser { year }
    }
}

/// The message of a line without its syslog prefix (RFC 3164, RFC 5424,
/// rsyslog's RFC 3339 layout), or the whole line.
pub(crate) fn split_message(line: &[u8]) -> &[u8] {
    split_prefix(line).msg
}

/// The syslog layout a line was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Prefix {
    /// `Mmm dd HH:MM:SS [host] tag[pid]: `.
    Rfc3164,
    /// rsyslog's RFC 3339 file format: `2024-03-12T06:00:00.123+00:00 host tag[pid]: `.
    Rfc3339,
    /// `<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD `.
    Rfc5424,
    /// No prefix (`log stdout format raw`).
    Raw,
}

impl Prefix {
    fn describe(self) -> &'static str {
        match self {
            Prefix::Rfc3164 => "RFC 3164 syslog prefix",
            Prefix::Rfc3339 => "syslog prefix with RFC 3339 time",
            Prefix::Rfc5424 => "RFC 5424 syslog prefix",
            Prefix::Raw => "no syslog prefix",
        }
    }
}

/// A line split into its syslog prefix and the message.
struct Split<'a> {
    prefix: Prefix,
    /// The syslog time (RFC 3164: wall clock of a year not written; the
    /// caller supplies it).
    time: Option<SyslogTime>,
    /// The tag / APP-NAME (`haproxy[1234]:` → `haproxy[1234]`).
    tag: Option<&'a [u8]>,
    msg: &'a [u8],
}

#[derive(Clone, Copy)]
enum SyslogTime {
    /// Month, day, seconds of day (RFC 3164: no year, no zone).
    NoYear(u32, u32, i64),
    Full(LogTime),
}

fn is_haproxy_tag(tag: &[u8]) -> bool {
    tag.starts_with(b"haproxy")
}

/// Next space-separated token and the rest after the single space. A plain
/// loop: the fields are a few bytes long, where memchr's setup costs more
/// than it saves (measured: 25 % of the time on a 64 MiB httplog file).
#[inline]
fn token(b: &[u8]) -> (&[u8], &[u8]) {
    match b.iter().position(|&c| c == b' ') {
        Some(i) => (&b[..i], &b[i + 1..]),
        None => (b, &b[b.len()..]),
    }
}

fn split_prefix(line: &[u8]) -> Split<'_> {
    let raw = Split {
        prefix: Prefix::Raw,
        time: None,
        tag: None,
        msg: line,
    };
    let mut l = line;
    // <PRI>, as haproxy sends it (a file writer usually drops it)
    if l.first() == Some(&b'<') {
        if let Some(e) = l.iter().take(5).position(|&c| c == b'>') {
            if e > 1 && l[1..e].iter().all(u8::is_ascii_digit) {
                l = &l[e + 1..];
            }
        }
        if let Some(rest) = l.strip_prefix(b"1 ") {
            return split_5424(rest).unwrap_or(raw);
        }
    }
    if l.len() >= 16
        && scan::month(&l[..3]).is_some()
        && l[3] == b' '
        && l[6] == b' '
        && l[9] == b':'
        && l[12] == b':'
        && (l[15] == b' ' || l[15] == b'.')
    {
        let day = match (l[4], l[5]) {
            (b' ', d) if d.is_ascii_digit() => (d - b'0') as u32,
            (a, b) if a.is_ascii_digit() && b.is_ascii_digit() => {
                ((a - b'0') * 10 + b - b'0') as u32
            }
            _ => return raw,
        };
        let hms = scan::parse_u64(&l[7..9])
            .zip(scan::parse_u64(&l[10..12]))
            .zip(scan::parse_u64(&l[13..15]))
            .map(|((h, m), s)| (h * 3600 + m * 60 + s) as i64);
        let (Some(mon), Some(secs)) = (scan::month(&l[..3]), hms) else {
            return raw;
        };
        // `journalctl -o short-precise` writes microseconds after the
        // seconds (`Nov 28 08:50:52.412345 host haproxy[7]: `): skipped, the
        // request's own `%tr` is exact to the ms
        let rest = if l[15] == b'.' {
            let digits = l[16..].iter().take_while(|c| c.is_ascii_digit()).count();
            match l.get(16 + digits) {
                Some(b' ') if (1..=9).contains(&digits) => &l[17 + digits..],
                _ => return raw,
            }
        } else {
            &l[16..]
        };
        return tag_and_msg(
            rest,
            Prefix::Rfc3164,
            Some(SyslogTime::NoYear(mon, day, secs)),
        )
        .unwrap_or(raw);
    }
    if l.len() > 20 && l[4] == b'-' && l[7] == b'-' && l[10] == b'T' {
        let (ts, rest) = token(l);
        let t = scan::parse_iso8601(ts).map(SyslogTime::Full);
        if t.is_some() {
            return tag_and_msg(rest, Prefix::Rfc3339, t).unwrap_or(raw);
        }
    }
    raw
}

/// `[host] tag: msg` after an RFC 3164 timestamp (haproxy itself sends no
/// host; rsyslog inserts one).
fn tag_and_msg(b: &[u8], prefix: Prefix, time: Option<SyslogTime>) -> Option<Split<'_>> {
    let (first, rest) = token(b);
    let (tag, msg) = if first.ends_with(b":") {
        (first, rest)
    } else {
        let (second, rest) = token(rest);
        if !second.ends_with(b":") {
            return None;
        }
        (second, rest)
    };
    Some(Split {
        prefix,
        time,
        tag: Some(&tag[..tag.len() - 1]),
        msg,
    })
}

/// After `<PRI>1 `: `TIMESTAMP HOST APP PROCID MSGID SD MSG`.
fn split_5424(b: &[u8]) -> Option<Split<'_>> {
    let (ts, r) = token(b);
    let (_host, r) = token(r);
    let (app, r) = token(r);
    let (_pid, r) = token(r);
    let (_msgid, mut r) = token(r);
    if let Some(rest) = r.strip_prefix(b"- ") {
        r = rest;
    } else if r == b"-" {
        r = &r[1..];
    } else {
        while r.first() == Some(&b'[') {
            let e = memchr::memchr(b']', r)?;
            r = &r[e + 1..];
        }
        r = r.strip_prefix(b" ").unwrap_or(r);
    }
    Some(Split {
        prefix: Prefix::Rfc5424,
        time: scan::parse_iso8601(ts).map(SyslogTime::Full),
        tag: Some(app),
        msg: r,
    })
}

/// A timer: `-1` (phase not reached) → `None`; `+` (logasap) allowed.
fn timer(b: &[u8]) -> Result<Option<i64>, HopLineError> {
    let b = b.strip_prefix(b"+").unwrap_or(b);
    if b == b"-1" {
        return Ok(None);
    }
    scan::parse_u64(b)
        .map(|v| Some(v as i64))
        .ok_or(HopLineError::Mismatch)
}

/// The five timers `Tq/TR`, `Tw`, `Tc`, `Tr`, `Ta/Tt` (manual §8.4), each
/// read with [`timer`]: the `option httplog` line writes them joined by `/`,
/// the `clf` variant as five fields (`haproxy_clf`).
pub(super) type Timers = (
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
);

/// Read the five timers (see [`Timers`]).
pub(super) fn five_timer_values(t: [&[u8]; 5]) -> Result<Timers, HopLineError> {
    Ok((
        timer(t[0])?,
        timer(t[1])?,
        timer(t[2])?,
        timer(t[3])?,
        timer(t[4])?,
    ))
}

/// A termination state as haproxy writes it (manual §8.5): 2 to 4
/// characters, letters or `-` (`SC--`, `sH`, `----`).
#[inline]
pub(super) fn termination_state(tsc: &[u8]) -> bool {
    (2..=4).contains(&tsc.len()) && tsc.iter().all(|c| c.is_ascii_alphabetic() || *c == b'-')
}

/// `a/b/c/…` into at most `N` parts; the count of parts found.
fn slashes<const N: usize>(b: &[u8]) -> ([&[u8]; N], usize) {
    let mut out: [&[u8]; N] = [&[]; N];
    let mut n = 0;
    for part in b.split(|&c| c == b'/') {
        if n == N {
            return (out, N + 1);
        }
        out[n] = part;
        n += 1;
    }
    (out, n)
}

/// The bytes of an IPv4 or IPv6 address as haproxy logs it: hex digits,
/// `.`, `:`, `[`, `]` (a table: this runs on every line).
static ADDR_BYTE: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = b.is_ascii_hexdigit() || matches!(b, b'.' | b':' | b'[' | b']');
        c += 1;
    }
    t
};

/// `ip:port`, `[v6]:port`, `v6:port`, `unix:1` → the address.
fn client_addr(b: &[u8]) -> Option<&[u8]> {
    // the port: the digits at the end, after the last `:` (a plain loop:
    // they are a few bytes, where `memrchr`'s setup costs more)
    let digits = b.iter().rev().take_while(|c| c.is_ascii_digit()).count();
    let i = b.len().checked_sub(digits + 1)?;
    if digits == 0 || b[i] != b':' {
        return None;
    }
    let ip = &b[..i];
    if ip.is_empty() {
        return None;
    }
    let ok = ip.iter().all(|&c| ADDR_BYTE[c as usize]) || ip == b"unix";
    ok.then(|| {
        ip.strip_prefix(b"[")
            .and_then(|v| v.strip_suffix(b"]"))
            .unwrap_or(ip)
    })
}

/// A captured header value that can serve as a request id: a UUID or 16+
/// hex characters (X-Request-ID as nginx `$request_id`, Envoy or most
/// middleware make them).
pub(crate) fn id_like(v: &[u8]) -> bool {
    v.len() >= 16 && v.len() <= 64 && v.iter().all(|c| c.is_ascii_hexdigit() || *c == b'-')
}

/// Does the message begin like an httplog line (`addr:port [`, or any
/// first field followed by a bracketed accept date)? Such a line that does
/// not parse is a malformed request, never a notice.
fn looks_like_request(msg: &[u8]) -> bool {
    let (first, rest) = token(msg);
    if client_addr(first).is_some() && rest.first() == Some(&b'[') {
        return true;
    }
    // a client field haproxy does not write (`-:22222`, a custom `%ci`
    // layout) before `[dd/Mmm/yyyy:hh:mm:ss.mmm]`
    let Some(r) = rest.strip_prefix(b"[") else {
        return false;
    };
    memchr::memchr(b']', r).is_some_and(|e| scan::parse_time_local(&r[..e]).is_some())
}

/// HAProxy's fixed "error log format" (configuration manual §8.2.5): a
/// connection that failed before it carried a request (SSL handshake,
/// PROXY protocol header) is logged as `ip:port [accept_date]
/// frontend/bind: message`, e.g. `127.0.0.1:56059 [03/Dec/2012:17:35:10.380]
/// frt/f1: Connection error during SSL handshake`. An event, not a request.
fn is_connection_error(msg: &[u8]) -> bool {
    let (first, rest) = token(msg);
    let Some(r) = rest
        .strip_prefix(b"[")
        .filter(|_| client_addr(first).is_some())
    else {
        return false;
    };
    let Some(e) = memchr::memchr(b']', r) else {
        return false;
    };
    let (fe_bind, message) = token(r[e + 1..].strip_prefix(b" ").unwrap_or(&[]));
    fe_bind.len() > 2 && fe_bind.ends_with(b":") && fe_bind.contains(&b'/') && !message.is_empty()
}

/// The `option httplog` message (§8.2.3), fields 2–16; anything after the
/// request (httpslog) is ignored.
fn parse_http(msg: &[u8]) -> Result<HopRecord<'_>, HopLineError> {
    use HopLineError::Mismatch;
    let (ci, r) = token(msg);
    let client = client_addr(ci).ok_or(Mismatch)?;
    let r = r.strip_prefix(b"[").ok_or(Mismatch)?;
    let e = r.iter().position(|&c| c == b']').ok_or(Mismatch)?;
    let time = scan::parse_time_local(&r[..e]).ok_or(HopLineError::BadTime)?;
    let r = r[e + 1..].strip_prefix(b" ").ok_or(Mismatch)?;
    let (frontend, r) = token(r);
    let (bs, r) = token(r);
    let slash = bs.iter().position(|&c| c == b'/').ok_or(Mismatch)?;
    let (backend, server) = (&bs[..slash], &bs[slash + 1..]);
    let (timers, r) = token(r);
    let (t, n) = slashes::<5>(timers);
    if n == 3 && r.split(|&c| c == b' ').filter(|t| !t.is_empty()).count() >= 4 {
        // `option tcplog`: Tw/Tc/Tt B tsc conns queues, no HTTP request
        return Err(HopLineError::NotARequest);
    }
    if n != 5 || frontend.is_empty() {
        return Err(Mismatch);
    }
    let (tq, tw, tc, tr, ta) = five_timer_values(t)?;
    let (st, r) = token(r);
    let status = if st == b"-1" {
        None
    } else {
        Some(scan::parse_status(st).ok_or(HopLineError::BadStatus)?)
    };
    let (bytes, r) = token(r);
    scan::parse_u64(bytes.strip_prefix(b"+").unwrap_or(bytes)).ok_or(Mismatch)?;
    let (_cc, r) = token(r);
    let (_cs, r) = token(r);
    let (tsc, r) = token(r);
    if !termination_state(tsc) {
        return Err(Mismatch);
    }
    let (conns, r) = token(r);
    let (c, n) = slashes::<5>(conns);
    if n != 5 {
        return Err(Mismatch);
    }
    let retries = c[4];
    let (queues, r) = token(r);
    if slashes::<2>(queues).1 != 2 {
        return Err(Mismatch);
    }
    Ok(Httplog {
        time,
        client: Some(client),
        status,
        timers: [tq, tw, tc, tr, ta],
        termination: tsc,
        frontend,
        backend,
        server,
        retries,
        request: request_part(r)?,
    }
    .record())
}

/// What an httplog line holds after its queues: the request id (from the
/// captured request headers) and the request line's parts.
pub(crate) struct RequestPart<'a> {
    pub(crate) request_id: Option<&'a [u8]>,
    pub(crate) method: Option<&'a [u8]>,
    pub(crate) path: Option<&'a [u8]>,
    pub(crate) protocol: Option<&'a [u8]>,
}

/// One request as every httplog reader finds it (the syslog httplog, its
/// byte-class fast path, `option httplog clf`): its record is made here,
/// in one place.
pub(crate) struct Httplog<'a> {
    pub(crate) time: LogTime,
    pub(crate) client: Option<&'a [u8]>,
    pub(crate) status: Option<u16>,
    /// Tq/TR, Tw, Tc, Tr, Ta in ms; `None` for `-1` (not reached).
    pub(crate) timers: [Option<i64>; 5],
    pub(crate) termination: &'a [u8],
    pub(crate) frontend: &'a [u8],
    pub(crate) backend: &'a [u8],
    pub(crate) server: &'a [u8],
    pub(crate) retries: &'a [u8],
    pub(crate) request: RequestPart<'a>,
}

impl<'a> Httplog<'a> {
    /// The hop record of this request.
    #[inline]
    pub(crate) fn record(self) -> HopRecord<'a> {
        let [tq, tw, tc, tr, ta] = self.timers;
        HopRecord {
            time: Some(self.time),
            client: self.client,
            method: self.request.method,
            host: None,
            path: self.request.path,
            protocol: self.request.protocol,
            status: self.status,
            upstream_status: None,
            upstream_addr: None,
            total_ms: ta,
            request_id: self.request.request_id,
            signals: Signals::Haproxy {
                termination: Some(self.termination),
                tq,
                tw,
                tc,
                tr,
                ta,
                frontend: Some(self.frontend),
                backend: Some(self.backend),
                server: Some(self.server),
                retries: Some(self.retries),
            },
        }
    }
}

/// The captures (`{…}`, request headers first) and the quoted request
/// after the queues field of an httplog line (§8.2.3 fields 15–16).
#[inline]
fn request_part(mut r: &[u8]) -> Result<RequestPart<'_>, HopLineError> {
    use HopLineError::Mismatch;
    let mut request_id = None;
    let mut captures = 0;
    while r.first() == Some(&b'{') {
        let e = memchr::memchr(b'}', r).ok_or(Mismatch)?;
        if captures == 0 {
            // captured request headers, `|`-separated
            request_id = r[1..e].split(|&c| c == b'|').find(|v| id_like(v));
        }
        captures += 1;
        r = r[e + 1..].strip_prefix(b" ").unwrap_or(&r[e + 1..]);
    }
    let r = r.strip_prefix(b"\"").ok_or(Mismatch)?;
    // haproxy escapes `"` in the request (#22), so the next quote closes it;
    // a line cut by the syslog length limit (`len`, 1024 by default) may
    // have lost it, and what was read so far still stands.
    let req = match memchr::memchr(b'"', r) {
        Some(e) => &r[..e],
        None => r,
    };
    let (method, path, protocol) = if req == b"<BADREQ>" {
        (None, None, None)
    } else {
        let (m, rest) = token(req);
        let (p, pr) = token(rest);
        (
            Some(m).filter(|m| !m.is_empty()),
            Some(p).filter(|p| !p.is_empty()),
            Some(pr).filter(|p| !p.is_empty()),
        )
    };
    Ok(RequestPart {
        request_id,
        method,
        path,
        protocol,
    })
}

/// Exactly five valid timers (`Tq/Tw/Tc/Tr/Ta`), as `parse_http` reads them
/// with [`timer`]: each an optional `+`, then `-1` or 1 to 18 digits. One
/// pass over the bytes (this runs on every line).
#[inline]
fn five_timers(b: &[u8]) -> bool {
    let mut parts = 0;
    let mut i = 0;
    loop {
        if b.get(i) == Some(&b'+') {
            i += 1;
        }
        if b.get(i) == Some(&b'-') {
            if b.get(i + 1) != Some(&b'1') {
                return false;
            }
            i += 2;
        } else {
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i == start || i - start > 18 {
                return false;
            }
        }
        parts += 1;
        if i == b.len() {
            return parts == 5;
        }
        if b[i] != b'/' || parts == 5 {
            return false;
        }
        i += 1;
    }
}

/// `dd/Mmm/yyyy:HH:MM:SS.mmm]` at the start of `r` (after the `[`), the
/// layout haproxy writes for `%tr` and `%t` (milliseconds, no zone): the
/// time. The seconds are looked up in `cache` when the same second was read
/// just before. Any other layout is `None` (the caller takes the full parse).
#[inline]
fn fixed_date(r: &[u8], cache: &mut SummaryCache) -> Option<LogTime> {
    // the separators checked here keep a `]` out of the first 24 bytes, so
    // the full parse cuts the date where this one does, and reads the same
    // three digits of milliseconds
    if r.len() < 25
        || r[14] != b':'
        || r[17] != b':'
        || r[20] != b'.'
        || r[24] != b']'
        || !r[21..24].iter().all(u8::is_ascii_digit)
    {
        return None;
    }
    let key: [u8; 20] = r[..20].try_into().ok()?;
    // the cached text compared as a 16- and a 4-byte word: `==` on the
    // arrays was a `memcmp` call per line (`perf record`)
    let same = |k: &[u8; 20]| {
        let w16 = |b: &[u8; 20]| u128::from_le_bytes(b[..16].try_into().expect("16 bytes"));
        let w4 = |b: &[u8; 20]| u32::from_le_bytes(b[16..].try_into().expect("4 bytes"));
        w16(k) == w16(&key) && w4(k) == w4(&key)
    };
    let secs_ms = match cache.last_second {
        Some((k, v)) if same(&k) => v,
        _ => {
            let t = scan::parse_time_local(&r[..20])?;
            cache.last_second = Some((key, t.utc_ms));
            t.utc_ms
        }
    };
    let ms = (r[21] - b'0') as i64 * 100 + (r[22] - b'0') as i64 * 10 + (r[23] - b'0') as i64;
    Some(LogTime {
        utc_ms: secs_ms + ms,
        offset_s: 0,
    })
}

/// Spaces the summary path locates at once: the ones after the client,
/// date, frontend, backend/server, timers, status, bytes, the two cookies,
/// the termination state, the connection counts and the queues.
const SUMMARY_SPACES: usize = 12;

/// The summary path of an `option httplog` message: the time and status of
/// a line `parse_http` accepts with a status below 500, checking the same
/// fields the same way but building nothing. `None` for a 5xx, a `-1`
/// status, a tcplog line or anything `parse_http` might refuse: the caller
/// runs the full parse then.
///
/// The twelve field boundaries are found in one pass, eight bytes at a time
/// ([`scan::find_each`]); `parse_http` walks the same single-space-separated
/// tokens one by one, so the fields seen are the same.
fn summary_http(msg: &[u8], cache: &mut SummaryCache) -> Option<(LogTime, u16)> {
    let mut sp = [0usize; SUMMARY_SPACES];
    if scan::find_each(msg, b' ', &mut sp) < SUMMARY_SPACES {
        return None;
    }
    // field i runs from after space i-1 to space i
    let field = |i: usize| &msg[if i == 0 { 0 } else { sp[i - 1] + 1 }..sp[i]];
    client_addr(field(0))?;
    // `[` + 24 bytes of date + `]`: no space inside, so it is field 1 whole
    if sp[1] != sp[0] + 27 || msg[sp[0] + 1] != b'[' {
        return None;
    }
    let time = fixed_date(&msg[sp[0] + 2..sp[1]], cache)?;
    let bs = field(3);
    if field(2).is_empty() || !bs.contains(&b'/') || !five_timers(field(4)) {
        return None;
    }
    let status = scan::parse_status(field(5))?;
    if status >= 500 {
        return None;
    }
    let bytes = field(6);
    scan::parse_u64(bytes.strip_prefix(b"+").unwrap_or(bytes))?;
    // fields 7 and 8 (cookies): anything
    if !termination_state(field(9)) {
        return None;
    }
    let count = |b: &[u8]| b.iter().filter(|&&c| c == b'/').count();
    if count(field(10)) != 4 || count(field(11)) != 1 {
        return None;
    }
    let mut r = &msg[sp[SUMMARY_SPACES - 1] + 1..];
    while r.first() == Some(&b'{') {
        let e = memchr::memchr(b'}', r)?;
        r = r[e + 1..].strip_prefix(b" ").unwrap_or(&r[e + 1..]);
    }
    (r.first() == Some(&b'"')).then_some((time, status))
}

/// What [`summary_masks`] made of a line.
// the record is held inline: `Fast` lives in the caller's frame for one
// line, and a box would be an allocation per 5xx
#[allow(clippy::large_enum_variant)]
enum Fast<'a> {
    /// A request below 500 read whole: its time and status.
    Hit(LogTime, u16),
    /// A 5xx, or a line whose record the caller wants
    /// ([`SummaryCache::want_record`]): the record `parse_http` makes of it,
    /// built from the field boundaries the masks found.
    Record(HopRecord<'a>),
    /// A 5xx (or an unreadable status): the full parse reads it.
    Full,
    /// Not the common layout: the byte walk ([`summary_http`]) decides.
    Unsure,
}

/// The summary path's first try, for the common layout (an IPv4 client,
/// timers without `-1` or `+`, a plain byte count): the byte classes of the
/// first 32 bytes and of the 128 after the client ([`byteclass`]) give the
/// twelve field boundaries and check each field as [`summary_http`] does,
/// with mask operations instead of a loop per field (half its CPU, `perf`
/// on `genlogs.py haproxy-http`). Every line it does not accept as such
/// goes on to [`summary_http`] (a 5xx straight to the full parse), so
/// results stay those of `parse_line` (tested on fixtures and generated
/// lines).
#[inline]
fn summary_masks<'a>(msg: &'a [u8], cache: &mut SummaryCache) -> Fast<'a> {
    use byteclass::{bits, exactly};
    // field 0, the client `a.b.c.d:port`, within the first 32 bytes
    let mut pad_h = [0u8; 32];
    let head = byteclass::window(msg, 0, &mut pad_h);
    let h = byteclass::classes32(head);
    if h.space == 0 {
        return Fast::Unsure;
    }
    let c = h.space.trailing_zeros();
    // what `client_addr` reads: digits after the last non-digit, which is a
    // `:` neither first nor last; here the address before it is made of
    // digits, `.` and `:` only (`/` is in `dotted`: refused)
    let nd = !h.digit & ((1u32 << c) - 1);
    if nd == 0 {
        return Fast::Unsure;
    }
    let colon = 31 - nd.leading_zeros();
    let ip = (1u32 << colon) - 1;
    if head[colon as usize] != b':'
        || colon == 0
        || colon + 1 == c
        || h.dotted & !h.slash & ip != ip
    {
        return Fast::Unsure;
    }
    // fields 1 to 11 within the 128 bytes after the client's space
    let base = c as usize + 1;
    let mut pad_w = [0u8; 128];
    let w = byteclass::window(msg, base, &mut pad_w);
    let m = byteclass::classes128(w);
    // p[i]: the space after field i, from `base` (128 when missing)
    let mut p = [0u32; SUMMARY_SPACES];
    let mut sp = m.space;
    for v in p.iter_mut().skip(1) {
        *v = sp.trailing_zeros();
        sp &= sp.wrapping_sub(1);
    }
    // field 1: `[` + 24 bytes of date + `]`
    if p[SUMMARY_SPACES - 1] >= 128 || p[1] != 26 || w[0] != b'[' {
        return Fast::Unsure;
    }
    let f = |i: usize| bits(p[i - 1] + 1, p[i]);
    // field 2 (frontend) not empty, field 3 has its `/`
    let mut ok = p[2] > p[1] + 1 && m.slash & f(3) != 0;
    // field 4, the timers: digits and four single `/` inside, ≤ 22 bytes
    // (so no part has more than 18 digits)
    let (t0, t1) = (p[3] + 1, p[4]);
    let t = f(4);
    let ts = m.slash & t;
    ok &= t1 > t0
        && t1 - t0 <= 22
        && (m.digit | m.slash) & t == t
        && exactly(ts, 4)
        && ts & (ts >> 1) == 0
        && ts & ((1u128 << t0) | (1u128 << (t1 - 1))) == 0;
    // field 5, the status: three digits; field 6, the bytes: 1 to 18 digits
    ok &= p[5] == p[4] + 4 && m.digit & f(5) == f(5);
    ok &= p[6] > p[5] + 1 && p[6] - p[5] <= 19 && m.digit & f(6) == f(6);
    // fields 10 and 11: connection counts (four `/`) and queues (one)
    ok &= exactly(m.slash & f(10), 4) && exactly(m.slash & f(11), 1);
    if !ok {
        return Fast::Unsure;
    }
    let s = p[4] as usize + 1;
    let status =
        u16::from(w[s] - b'0') * 100 + u16::from(w[s + 1] - b'0') * 10 + u16::from(w[s + 2] - b'0');
    // a line refused below goes to the full parse when a 5xx, else to the
    // byte walk
    let refused = || {
        if status >= 500 {
            Fast::Full
        } else {
            Fast::Unsure
        }
    };
    // the fields as the line's bytes (the window may be the padded copy)
    let at = |a: u32, b: u32| &msg[base + a as usize..base + b as usize];
    let tsc = at(p[8] + 1, p[9]);
    if !termination_state(tsc) {
        return refused();
    }
    let Some(time) = fixed_date(&w[1..26], cache) else {
        return refused();
    };
    let mut r = &msg[base + p[SUMMARY_SPACES - 1] as usize + 1..];
    if status >= 500 || cache.want_record {
        // the record `parse_http` makes, from the boundaries found: the
        // 5xx took `parse_http` again, which re-found every field
        // boundary the masks had (6 % of a run, `perf record`)
        let Ok(req) = request_part(r) else {
            return refused();
        };
        let slash = (m.slash & f(3)).trailing_zeros();
        let last_slash = 127 - (m.slash & f(10)).leading_zeros();
        // the five timers: digits only (`-1` and `+` went to the byte
        // walk), split at the four `/` of `ts`
        let mut v = [0i64; 5];
        let (mut from, mut rest) = (t0, ts);
        for (k, x) in v.iter_mut().enumerate() {
            let to = if k < 4 { rest.trailing_zeros() } else { t1 };
            rest &= rest.wrapping_sub(1);
            *x = w[from as usize..to as usize]
                .iter()
                .fold(0i64, |n, &d| n * 10 + i64::from(d - b'0'));
            from = to + 1;
        }
        return Fast::Record(
            Httplog {
                time,
                client: Some(&msg[..colon as usize]),
                status: Some(status),
                timers: v.map(Some),
                termination: tsc,
                frontend: at(p[1] + 1, p[2]),
                backend: at(p[2] + 1, slash),
                server: at(slash + 1, p[3]),
                retries: at(last_slash + 1, p[10]),
                request: req,
            }
            .record(),
        );
    }
    while r.first() == Some(&b'{') {
        let Some(e) = memchr::memchr(b'}', r) else {
            return Fast::Unsure;
        };
        r = r[e + 1..].strip_prefix(b" ").unwrap_or(&r[e + 1..]);
    }
    if r.first() == Some(&b'"') {
        Fast::Hit(time, status)
    } else {
        Fast::Unsure
    }
}

/// Notices haproxy logs about itself (`src/proxy.c`, `src/server.c`,
/// `src/backend.c`, `src/haproxy.c`).
const NOTICE_STARTS: &[&[u8]] = &[
    b"Proxy ",
    b"Server ",
    b"Backup Server ",
    b"backend ",
    b"Backend ",
    b"proxy ",
    b"frontend ",
    b"Frontend ",
    b"Stopping ",
    b"Pausing ",
    b"Resuming ",
    b"Connect from ",
    b"Health check ",
    b"Health agent ",
    b"Loading ",
];

impl HaproxyParser {
    fn event_time(&self, t: Option<SyslogTime>) -> Option<LogTime> {
        match t? {
            SyslogTime::Full(t) => Some(t),
            SyslogTime::NoYear(m, d, s) => {
                let y = self.year?;
                Some(LogTime {
                    utc_ms: (scan::days_from_civil(y, m, d) * 86400 + s) * 1000,
                    offset_s: 0,
                })
            }
        }
    }
}

impl HopParser for HaproxyParser {
    fn parse_line<'a>(&self, line: &'a [u8]) -> Result<HopRecord<'a>, HopLineError> {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let s = split_prefix(line);
        let parsed = parse_http(s.msg);
        if parsed.is_err() && is_connection_error(s.msg) {
            return Err(HopLineError::NotARequest);
        }
        if parsed.is_ok() || looks_like_request(s.msg) {
            let mut r = parsed?;
            // `%tr` is the wall clock of haproxy's host, without a zone; a
            // syslog prefix that carries an offset (RFC 5424, rsyslog's RFC
            // 3339 template) tells which one
            if let (Some(SyslogTime::Full(p)), Some(t)) = (s.time, r.time.as_mut()) {
                if p.offset_s != 0 {
                    t.utc_ms -= p.offset_s as i64 * 1000;
                    t.offset_s = p.offset_s;
                }
            }
            return Ok(r);
        }
        let ours = s.tag.is_none_or(is_haproxy_tag);
        if !ours
            || NOTICE_STARTS.iter().any(|p| s.msg.starts_with(p))
            || memchr::memmem::find(s.msg, b"has no server available").is_some()
            || s.tag.is_some()
        {
            return Err(HopLineError::NotARequest);
        }
        Err(HopLineError::Mismatch)
    }

    fn parse_summary<'a>(
        &self,
        line: &'a [u8],
        cache: &mut SummaryCache,
    ) -> Result<HopSummary<'a>, HopLineError> {
        // a non-5xx httplog line: checked as `parse_http` checks it, without
        // building the record; a 5xx, a `-1` status or anything the fast
        // walk does not accept takes the full parse, so results and errors
        // stay those of `parse_line` (tested on fixtures and generated lines)
        let trimmed = line.strip_suffix(b"\r").unwrap_or(line);
        let (msg, offset_s) = match cache.prefix.get(trimmed) {
            Some((n, offset_s)) => (&trimmed[n..], offset_s as i32),
            None => {
                let s = split_prefix(trimmed);
                let offset_s = match s.time {
                    Some(SyslogTime::Full(p)) => p.offset_s,
                    _ => 0,
                };
                // `split_prefix` reads no byte past the message's start, so
                // a line with the same bytes up to there splits the same way;
                // remembered only when a space ends the prefix (after an RFC
                // 5424 structured data element the space is optional, and a
                // line with one would split one byte further)
                let n = trimmed.len() - s.msg.len();
                if s.prefix != Prefix::Raw && n > 0 && trimmed[n - 1] == b' ' {
                    cache.prefix.set(&trimmed[..n], offset_s as i64);
                }
                (s.msg, offset_s)
            }
        };
        let fast = match summary_masks(msg, cache) {
            Fast::Hit(time, status) => Some((time, status)),
            Fast::Record(mut r) => {
                if let Some(t) = r.time.as_mut().filter(|_| offset_s != 0) {
                    t.utc_ms -= offset_s as i64 * 1000;
                    t.offset_s = offset_s;
                }
                return Ok(HopSummary::of(r));
            }
            Fast::Full => None,
            // the record is wanted: the byte walk would not make it
            Fast::Unsure if cache.want_record => None,
            Fast::Unsure => summary_http(msg, cache),
        };
        match fast {
            Some((mut time, status)) => {
                if offset_s != 0 {
                    time.utc_ms -= offset_s as i64 * 1000;
                    time.offset_s = offset_s;
                }
                Ok(HopSummary {
                    time: Some(time),
                    status: Some(status),
                    record: None,
                })
            }
            // a 5xx or a line the summary did not take: the full parse of
            // the message already split off (what `parse_line` does first,
            // with the same offset); anything it refuses goes to
            // `parse_line`, whose errors tell a notice from a bad line
            None => match parse_http(msg) {
                Ok(mut r) => {
                    if let Some(t) = r.time.as_mut().filter(|_| offset_s != 0) {
                        t.utc_ms -= offset_s as i64 * 1000;
                        t.offset_s = offset_s;
                    }
                    Ok(HopSummary::of(r))
                }
                Err(_) => self.parse_line(line).map(HopSummary::of),
            },
        }
    }

    fn parse_event<'a>(&self, line: &'a [u8]) -> Option<HopEvent<'a>> {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let s = split_prefix(line);
        if s.tag.is_some_and(|t| !is_haproxy_tag(t)) {
            return None;
        }
        let msg = s.msg;
        let time = self.event_time(s.time);
        let find = |needle: &[u8]| memchr::memmem::find(msg, needle);
        // `[Backup ]Server be/srv is DOWN, reason: …` / `is UP` / `is going DOWN for maintenance`
        let server_msg = msg
            .strip_prefix(b"Server ")
            .or_else(|| msg.strip_prefix(b"Backup Server "));
        if let Some(rest) = server_msg {
            let (name, tail) = token(rest);
            let slash = memchr::memchr(b'/', name);
            let (backend, server) = match slash {
                Some(i) => (Some(&name[..i]), Some(&name[i + 1..])),
                None => (None, Some(name)),
            };
            let kind = if tail.starts_with(b"is DOWN") || tail.starts_with(b"is going DOWN") {
                HopEventKind::ServerDown
            } else if tail.starts_with(b"is UP") {
                HopEventKind::ServerUp
            } else {
                HopEventKind::Notice
            };
            return Some(HopEvent {
                time,
                kind,
                backend,
                server,
                message: msg,
            });
        }
        // `backend be has no server available!` (send_log in src/backend.c)
        if let Some(i) = find(b" has no server available") {
            let head = &msg[..i];
            let backend = head.rsplit(|&c| c == b' ').next().filter(|b| !b.is_empty());
            return Some(HopEvent {
                time,
                kind: HopEventKind::NoServer,
                backend,
                server: None,
                message: msg,
            });
        }
        let ours = s.tag.is_some()
            || NOTICE_STARTS.iter().any(|p| msg.starts_with(p))
            || is_connection_error(msg);
        ours.then_some(HopEvent {
            time,
            kind: HopEventKind::Notice,
            backend: None,
            server: None,
            message: msg,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANUAL: &[u8] = b"Feb  6 12:14:14 localhost haproxy[14389]: 10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in static/srv1 10/0/30/69/109 200 2750 - - ---- 1/1/1/1/0 0/0 {1wt.eu} {} \"GET /index.html HTTP/1.1\"";

    fn p() -> HaproxyParser {
        HaproxyParser { year: Some(2009) }
    }

    type Sig<'a> = (Option<&'a [u8]>, [Option<i64>; 5], Option<&'a [u8]>);

    fn hap<'a>(r: &HopRecord<'a>) -> Sig<'a> {
        match r.signals {
            Signals::Haproxy {
                termination,
                tq,
                tw,
                tc,
                tr,
                ta,
                server,
                ..
            } => (termination, [tq, tw, tc, tr, ta], server),
            _ => panic!("not haproxy signals"),
        }
    }

    #[test]
    fn manual_example_with_rfc3164_prefix() {
        let r = p().parse_line(MANUAL).unwrap();
        assert_eq!(r.status, Some(200));
        assert_eq!(r.client, Some(&b"10.0.1.2"[..]));
        assert_eq!(r.method, Some(&b"GET"[..]));
        assert_eq!(r.path, Some(&b"/index.html"[..]));
        assert_eq!(r.protocol, Some(&b"HTTP/1.1"[..]));
        assert_eq!(r.total_ms, Some(109));
        let (t, timers, srv) = hap(&r);
        assert_eq!(t, Some(&b"----"[..]));
        assert_eq!(timers, [Some(10), Some(0), Some(30), Some(69), Some(109)]);
        assert_eq!(srv, Some(&b"srv1"[..]));
        let t = r.time.unwrap();
        assert_eq!(t.utc_ms % 1000, 655);
    }

    #[test]
    fn prefixes_and_raw() {
        let msg = "10.0.0.1:5000 [12/Mar/2024:08:12:01.100] fe be/<NOSRV> 0/-1/-1/-1/0 503 217 - - SC-- 1/1/0/0/0 0/0 \"GET /a HTTP/1.1\"";
        for line in [
            msg.to_string(),
            format!("Mar 12 08:12:01 lb1 haproxy[7]: {msg}"),
            format!("<134>Mar 12 08:12:01 haproxy[7]: {msg}"),
            // journalctl -o short-precise
            format!("Mar 12 08:12:01.100234 lb1 haproxy[7]: {msg}"),
            format!("2024-03-12T08:12:01.100+00:00 lb1 haproxy[7]: {msg}"),
            format!("<134>1 2024-03-12T08:12:01.100+00:00 lb1 haproxy 7 - - {msg}"),
            format!("<134>1 2024-03-12T08:12:01.100+00:00 lb1 haproxy 7 - [x@1 a=\"b\"] {msg}"),
            format!("{msg} 0/0000000000000000/0/0/0 example.com/TLSv1.3/TLS_AES_256_GCM_SHA384"),
            format!("{msg}\r"),
        ] {
            let r = p()
                .parse_line(line.as_bytes())
                .unwrap_or_else(|e| panic!("{line}: {e:?}"));
            assert_eq!(r.status, Some(503), "{line}");
            let (t, timers, srv) = hap(&r);
            assert_eq!(t, Some(&b"SC--"[..]));
            assert_eq!(timers, [Some(0), None, None, None, Some(0)]);
            assert_eq!(srv, Some(&b"<NOSRV>"[..]));
        }
    }

    #[test]
    fn syslog_offset_applies_to_tr() {
        let msg = "10.0.0.1:5000 [12/Mar/2024:10:12:01.100] fe be/app1 0/0/0/-1/3 502 209 - - SH-- 1/1/0/0/0 0/0 \"GET /a HTTP/1.1\"";
        let utc = p().parse_line(msg.as_bytes()).unwrap().time.unwrap();
        let line = format!("<134>1 2024-03-12T10:12:01.100+02:00 lb1 haproxy 7 - - {msg}");
        let t = p().parse_line(line.as_bytes()).unwrap().time.unwrap();
        assert_eq!(t.offset_s, 7200);
        assert_eq!(utc.utc_ms - t.utc_ms, 7_200_000);
    }

    #[test]
    fn odd_but_valid_lines() {
        // IPv6 client, logasap `+`, retries `+1`, BADREQ, status -1, captures with an id
        let l = b"2001:db8::7f9b:45571 [12/Mar/2024:06:00:08.062] fe~ be/app1 0/0/0/-1/+5 -1 +0 - - CH-- 1/1/1/1/+1 0/0 {3f2b9c1e-8d7a-4c2e-9b1f-0a1b2c3d4e5f|x} {} \"<BADREQ>\"";
        let r = p().parse_line(l).unwrap();
        assert_eq!(r.client, Some(&b"2001:db8::7f9b"[..]));
        assert_eq!(r.status, None);
        assert_eq!(r.method, None);
        assert_eq!(
            r.request_id,
            Some(&b"3f2b9c1e-8d7a-4c2e-9b1f-0a1b2c3d4e5f"[..])
        );
        // a line cut by the syslog length limit inside the request still counts
        let cut = b"1.2.3.4:1 [12/Mar/2024:06:00:08.062] fe be/s 0/0/0/1/1 502 0 - - SH-- 1/1/1/1/0 0/0 \"GET /very/long/ur";
        assert_eq!(p().parse_line(cut).unwrap().status, Some(502));
    }

    #[test]
    fn bad_lines() {
        let cases: &[(&[u8], HopLineError)] = &[
            (b"1.2.3.4:1 [12/Mar/2024:06:00:08.062] fe be/s 0/0/0", HopLineError::Mismatch),
            (b"1.2.3.4:1 [12/Mar/2024:06:00:08.062] fe be/s 0/0/0/1/1 5x2 0 - - SH-- 1/1/1/1/0 0/0 \"GET / HTTP/1.1\"", HopLineError::BadStatus),
            (b"1.2.3.4:1 [99/Foo/2024:06:00:08.062] fe be/s 0/0/0/1/1 502 0 - - SH-- 1/1/1/1/0 0/0 \"GET / HTTP/1.1\"", HopLineError::BadTime),
            (b"1.2.3.4:1 [12/Mar/2024:06:00:08.062] fe be/s 0/0/0/1/1 502 0 - - SH-- 1/1/1/1/0 0/0", HopLineError::Mismatch),
            (b"random text", HopLineError::Mismatch),
            (b"", HopLineError::Mismatch),
            (b"\xff\xfe\x00", HopLineError::Mismatch),
            // tcplog, other programs, notices: no request, not malformed
            (b"1.2.3.4:1 [12/Mar/2024:06:00:08.062] fe be/s 0/0/5 100 -- 1/1/1/1/0 0/0", HopLineError::NotARequest),
            (b"Mar 12 08:12:01 lb1 CRON[99]: (root) CMD (run-parts /etc/cron.hourly)", HopLineError::NotARequest),
            (b"Mar 12 08:12:01 lb1 haproxy[7]: Proxy fe_main started.", HopLineError::NotARequest),
            // §8.2.5's own example of the error log format, with and without syslog
            (b"Dec  3 18:27:14 localhost haproxy[6103]: 127.0.0.1:56059 [03/Dec/2012:17:35:10.380] frt/f1: Connection error during SSL handshake", HopLineError::NotARequest),
            (b"127.0.0.1:56059 [03/Dec/2012:17:35:10.380] frt/f1: Timeout during SSL handshake", HopLineError::NotARequest),
            // a request line with a client field that is no address (a
            // custom `%ci` layout, fixtures/logs/haproxy/real/): malformed, not a notice
            (b"May 22 02:22:22 server1 haproxy[5089]: -:22222 [22/May/2021:02:22:22.222] www-https~ myapp/node2 site.domain.com 0/0/0/18/18 200 200 - - ---- 222/222/2/0/0 0/0 \"OPTIONS /api/v2/app/ HTTP/1.1\"", HopLineError::Mismatch),
        ];
        for (l, want) in cases {
            assert_eq!(
                p().parse_line(l).err(),
                Some(*want),
                "{}",
                String::from_utf8_lossy(l)
            );
        }
    }

    #[test]
    fn events() {
        let down = b"Mar 12 08:12:01 lb1 haproxy[7]: Server be_api/app1 is DOWN, reason: Layer4 connection problem, info: \"Connection refused\", check duration: 0ms. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.";
        let e = p().parse_event(down).unwrap();
        assert_eq!(e.kind, HopEventKind::ServerDown);
        assert_eq!(e.backend, Some(&b"be_api"[..]));
        assert_eq!(e.server, Some(&b"app1"[..]));
        assert!(e.time.is_some());
        let none = b"Mar 12 08:12:01 lb1 haproxy[7]: backend be_api has no server available!";
        let e = p().parse_event(none).unwrap();
        assert_eq!(e.kind, HopEventKind::NoServer);
        assert_eq!(e.backend, Some(&b"be_api"[..]));
        let raw = b"Server be_api/app1 is UP, reason: Layer4 check passed, check duration: 0ms.";
        assert_eq!(p().parse_event(raw).unwrap().kind, HopEventKind::ServerUp);
        let cron = b"Mar 12 08:12:01 lb1 CRON[99]: (root) CMD (x)";
        assert!(p().parse_event(cron).is_none());
        // §8.2.5's error log format without syslog (`log stdout format raw`)
        let tls = b"127.0.0.1:56059 [03/Dec/2012:17:35:10.380] frt/f1: Connection error during SSL handshake";
        assert_eq!(p().parse_event(tls).unwrap().kind, HopEventKind::Notice);
    }

    #[test]
    fn detects_with_reason() {
        let lines: Vec<&[u8]> = vec![
            b"Mar 12 08:12:01 lb1 haproxy[7]: Proxy fe_main started.",
            MANUAL,
            MANUAL,
            b"Mar 12 08:12:01 lb1 CRON[99]: (root) CMD (x)",
        ];
        let (_, why) = Haproxy.detect(&lines).unwrap();
        assert!(why.contains("2 of the first 4"), "{why}");
        assert!(why.contains("RFC 3164"), "{why}");
        let nginx: Vec<&[u8]> =
            vec![b"1.2.3.4 - - [20/Nov/2026:14:03:07 +0100] \"GET / HTTP/1.1\" 200 5 \"-\" \"ua\""];
        assert!(Haproxy.detect(&nginx).is_none());
        let only_notices: Vec<&[u8]> =
            vec![b"Mar 12 08:12:01 lb1 haproxy[7]: Proxy fe_main started."];
        assert!(Haproxy.detect(&only_notices).is_none());
    }

    #[test]
    fn grammar_examples() {
        #[derive(serde::Deserialize)]
        struct Grammar {
            examples: Vec<Ex>,
        }
        #[derive(serde::Deserialize)]
        struct Ex {
            title: String,
            line: String,
            status: u16,
            termination: String,
        }
        let g: Grammar = serde_yaml::from_str(include_str!("../../grammars/haproxy.yaml")).unwrap();
        assert!(!g.examples.is_empty());
        for ex in g.examples {
            let r = p()
                .parse_line(ex.line.as_bytes())
                .unwrap_or_else(|e| panic!("{}: {e:?}", ex.title));
            assert_eq!(r.status, Some(ex.status), "{}", ex.title);
            assert_eq!(hap(&r).0, Some(ex.termination.as_bytes()), "{}", ex.title);
        }
    }

    #[test]
    fn summary_agrees_with_the_full_parse() {
        let text = [
            std::str::from_utf8(MANUAL).unwrap().to_string(),
            include_str!("../../fixtures/logs/haproxy/syslog_mixed.log").to_string(),
            include_str!("../../fixtures/logs/haproxy/real/haproxy.log").to_string(),
            include_str!("../../fixtures/logs/haproxy/real/stdout.log").to_string(),
            include_str!("../../fixtures/logs/haproxy/real/public_httplog.log").to_string(),
            "<134>1 2024-03-12T10:12:01.100+02:00 lb1 haproxy 7 - - 10.0.0.1:5000 [12/Mar/2024:10:12:01.100] fe be/app1 0/0/0/5/6 200 209 - - ---- 1/1/0/0/0 0/0 \"GET /a HTTP/1.1\"".into(),
            "1.2.3.4:1 [12/Mar/2024:06:00:08.062] fe be/s 0/0/0/1/1 200 0 - - ---- 1/1/1/1/0".into(),
        ]
        .join("\n");
        let mut cache = SummaryCache::default();
        let mut fast = 0;
        let mut masks = 0;
        let mut records = 0;
        for line in text.lines() {
            let full = p().parse_line(line.as_bytes()).map(|r| (r.time, r.status));
            let sum = p()
                .parse_summary(line.as_bytes(), &mut cache)
                .map(|s| (s.time, s.status));
            assert_eq!(sum, full, "{line}");
            // the whole record, when wanted or a 5xx, is the full parse's
            for want in [false, true] {
                cache.want_record = want;
                let rec = p().parse_summary(line.as_bytes(), &mut cache);
                let whole = p().parse_line(line.as_bytes());
                if want || whole.is_ok_and(|r| r.status.is_some_and(|s| s >= 500)) {
                    assert_eq!(rec.map(|s| s.record), whole.map(Some), "{line}");
                    records += 1;
                }
            }
            cache.want_record = false;
            fast += summary_http(split_message(line.as_bytes()), &mut cache).is_some() as u32;
            // the masks' path reads the message as the byte walk does (the
            // syslog offset is applied after both)
            let msg = split_message(line.as_bytes());
            if let Fast::Hit(t, s) = summary_masks(msg, &mut cache) {
                masks += 1;
                let walk = summary_http(msg, &mut SummaryCache::default());
                assert_eq!(walk, Some((t, s)), "{line}");
            }
        }
        assert!(fast > 0, "no fixture line took the fast path");
        assert!(masks > 0, "no fixture line took the masks' path");
        assert!(records > 0, "no record compared");
    }

    /// Client fields for the generated lines: common, odd and wrong ones
    /// (for the masks' path and the byte walk behind it).
    const CLIENTS: &[&str] = &[
        "10.0.0.2:40002",
        "255.255.255.255:65535",
        "1.2.3.4:1",
        "[::1]:80",
        "2001:db8::7f9b:45571",
        "unix:1",
        ":80",
        "1.2.3.4:",
        "1.2/3.4:5",
        "1.2.3.4:5:6",
        "1.2.3.4.5.6.7.8.9.10.11.12.13:5",
        "1.2.3.4.5.6.7.8.9.10.11.12.13.14:5",
        "a.b.c.d:5",
    ];

    /// Byte counts for the generated lines.
    const BYTES: &[&str] = &[
        "209",
        "0",
        "+12",
        "",
        "123456789012345678",
        "1234567890123456789",
        "1x",
    ];

    proptest::proptest! {
        /// Lines shaped like genlogs.py's `haproxy-http` (and bent: any
        /// field may be replaced by arbitrary text) read the same through
        /// the summary path, with its time cache warm or cold, as through
        /// the full parse.
        #[test]
        fn summary_agrees_on_generated_lines(
            fields in proptest::collection::vec(0usize..14, 0..3),
            junk in "[ -~]{0,12}",
            sec in 0u32..3,
            ms in 0u32..1000,
            status in 100u16..600,
            timers in proptest::collection::vec(-1i64..3000, 5),
            captures in proptest::option::of("[0-9a-f|-]{0,40}"),
            prefix in 0usize..7,
            other in 0usize..7,
            client in 0usize..CLIENTS.len(),
            bytes in 0usize..BYTES.len(),
        ) {
            let mut f: Vec<String> = vec![
                CLIENTS[client].into(),
                format!("[12/Mar/2024:08:12:0{sec}.{ms:03}]"),
                "fe_main~".into(),
                "be_api/app1".into(),
                timers.iter().map(|t| t.to_string()).collect::<Vec<_>>().join("/"),
                status.to_string(),
                BYTES[bytes].into(),
                "-".into(),
                "-".into(),
                "----".into(),
                "3/3/1/1/0".into(),
                "0/0".into(),
                captures.map(|c| format!("{{{c}}}")).unwrap_or_default(),
                "\"GET /a?b=1 HTTP/1.1\"".into(),
            ];
            for &i in &fields {
                f[i] = junk.clone();
            }
            let msg = f.iter().filter(|x| !x.is_empty()).cloned().collect::<Vec<_>>().join(" ");
            let with = |k: usize| match k {
                0 => msg.clone(),
                1 => format!("Mar 12 08:12:01 lb1 haproxy[2841]: {msg}"),
                2 => format!("2024-03-12T08:12:01.100+02:00 lb1 haproxy[7]: {msg}"),
                3 => format!("<134>1 2024-03-12T08:12:01.100-05:00 lb1 haproxy 7 - - {msg}"),
                // structured data, then the message with or without the space
                4 => format!("<134>1 2024-03-12T08:12:01.100-05:00 lb1 haproxy 7 - [x@1 a=\"b\"] {msg}"),
                5 => format!("<134>1 2024-03-12T08:12:01.100-05:00 lb1 haproxy 7 - [x@1 a=\"b\"]{msg}"),
                _ => format!("Mar 12 08:12:01 haproxy[2841]: {msg}"),
            };
            let line = with(prefix);
            let full = p().parse_line(line.as_bytes()).map(|r| (r.time, r.status));
            let mut cold = SummaryCache::default();
            let cold_sum = p().parse_summary(line.as_bytes(), &mut cold).map(|s| (s.time, s.status));
            proptest::prop_assert_eq!(&cold_sum, &full);
            let warm_sum = p().parse_summary(line.as_bytes(), &mut cold).map(|s| (s.time, s.status));
            proptest::prop_assert_eq!(&warm_sum, &full);
            // another layout after it, with the cache of the first, and back
            let second = with(other);
            let full2 = p().parse_line(second.as_bytes()).map(|r| (r.time, r.status));
            let sum2 = p().parse_summary(second.as_bytes(), &mut cold).map(|s| (s.time, s.status));
            proptest::prop_assert_eq!(&sum2, &full2);
            let again = p().parse_summary(line.as_bytes(), &mut cold).map(|s| (s.time, s.status));
            proptest::prop_assert_eq!(&again, &full);
            // the whole record when wanted (and for a 5xx), as the full
            // parse makes it, with the cache warm
            let whole = p().parse_line(line.as_bytes());
            cold.want_record = true;
            let rec = p().parse_summary(line.as_bytes(), &mut cold).map(|s| s.record);
            proptest::prop_assert_eq!(rec, whole.map(Some));
            cold.want_record = false;
            let rec = p().parse_summary(line.as_bytes(), &mut cold).map(|s| s.record);
            if whole.is_ok_and(|r| r.status.is_some_and(|s| s >= 500)) {
                proptest::prop_assert_eq!(rec, whole.map(Some));
            }
        }
    }

    #[test]
    fn five_timers_reads_as_timer_does() {
        let parts = [
            "0",
            "12",
            "-1",
            "+5",
            "+-1",
            "-",
            "",
            "+",
            "-12",
            "1a",
            "++1",
            "1234567890123456789",
            "123456789012345678",
        ];
        for a in parts {
            for b in parts {
                for n in [4, 5, 6] {
                    let mut v = vec![a; n];
                    v[n / 2] = b;
                    let f = v.join("/");
                    let want = f.split('/').count() == 5
                        && f.split('/').all(|t| timer(t.as_bytes()).is_ok());
                    assert_eq!(five_timers(f.as_bytes()), want, "{f}");
                }
            }
        }
    }

    #[test]
    fn years() {
        for (y, m, d) in [(1970, 1, 1), (2009, 2, 6), (2024, 12, 31), (2000, 2, 29)] {
            assert_eq!(year_of(scan::days_from_civil(y, m, d) * 86_400_000 + 5), y);
        }
    }
}
