//! HAProxy logs written with a custom `log-format` (read from a
//! `haproxy.cfg` in the dump or given with `--config`): the format string is
//! compiled into items (literal text and `%` aliases / `%[sample]`
//! expressions), and each line is walked item by item between the literals.
//!
//! Reference: HAProxy configuration manual §8.2.6 "Custom log format"
//! (aliases, `%{+Q}` quoting, `%%`, spaces in the directive merged) and the
//! alias table after it; the meaning of each field as in §8.2.3.
//! The syslog prefix is the one `logs::haproxy` strips.

use super::haproxy::{split_message, HaproxyParser};
use super::hop::{HopEvent, HopLineError, HopParser, HopRecord, Signals};
use super::scan;

/// One item of a compiled format.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    /// Literal text (spaces merged to one).
    Lit(Vec<u8>),
    /// An alias (`ci`, `tr`, `ST` …) or a sample expression (`[…]`).
    Var(Var),
}

/// The aliases gatecheck reads; anything else is skipped over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Var {
    ClientIp,
    /// `%tr`, `%t`: `dd/Mon/yyyy:HH:MM:SS.mmm`, no zone.
    DateMs,
    /// `%trg`, `%trl`, `%T`, `%Tl`: `dd/Mon/yyyy:HH:MM:SS +zzzz`.
    DateZone,
    /// `%Ts`: epoch seconds.
    Epoch,
    Frontend,
    Backend,
    Server,
    Tq,
    Tw,
    Tc,
    Tr,
    Ta,
    Status,
    Termination,
    Retries,
    /// `%hr`: captured request headers `{a|b}`; absent without captures.
    ReqCaptures,
    /// `%hs`: captured response headers; absent without captures.
    RespCaptures,
    /// `%r`: the request line.
    Request,
    Method,
    /// `%HU`, `%HP`: URI / path.
    Uri,
    Version,
    /// `%ID`, or a sample expression naming a request id.
    RequestId,
    /// `%[…]`, other aliases.
    Other,
}

fn alias(name: &str) -> Var {
    match name {
        "ci" => Var::ClientIp,
        "tr" | "t" => Var::DateMs,
        "trg" | "trl" | "T" | "Tl" => Var::DateZone,
        "Ts" => Var::Epoch,
        "ft" | "f" => Var::Frontend,
        "b" => Var::Backend,
        "s" => Var::Server,
        "TR" | "Tq" => Var::Tq,
        "Tw" => Var::Tw,
        "Tc" => Var::Tc,
        "Tr" => Var::Tr,
        "Ta" | "Tt" => Var::Ta,
        "ST" => Var::Status,
        "tsc" | "ts" => Var::Termination,
        "rc" => Var::Retries,
        "hr" => Var::ReqCaptures,
        "hs" => Var::RespCaptures,
        "r" => Var::Request,
        "HM" => Var::Method,
        "HU" | "HP" | "HPO" => Var::Uri,
        "HV" => Var::Version,
        "ID" => Var::RequestId,
        _ => Var::Other,
    }
}

/// A compiled `log-format`.
#[derive(Debug, Clone)]
pub struct CustomFormat {
    /// Where it came from (`haproxy.cfg:12`).
    pub source: String,
    items: Vec<Item>,
}

/// Why a `log-format` string could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// An item that never ends (`%[…` without `]`, `%{…` without `}`).
    #[error("unterminated item at byte {at}")]
    Unterminated {
        /// Byte offset of the `%`.
        at: usize,
    },
    /// Two items with no literal between them: their boundary cannot be found.
    #[error("items without a separator between them at byte {at}")]
    Adjacent {
        /// Byte offset of the second item.
        at: usize,
    },
    /// Encoded formats (`%{+json}o`, `%{+cbor}o`) are not read.
    #[error("JSON/CBOR-encoded log formats are not read")]
    Encoded,
    /// No status and no termination state: nothing to classify.
    #[error("the format logs neither %ST nor %tsc")]
    NoStatus,
}

impl CustomFormat {
    /// Compile the argument of a `log-format` directive (already unquoted).
    pub fn compile(source: &str, fmt: &str) -> Result<CustomFormat, FormatError> {
        let fmt = fmt.replace("${HAPROXY_HTTP_LOG_FMT}", HTTPLOG);
        let b = fmt.as_bytes();
        let mut items: Vec<Item> = Vec::new();
        let mut lit = Vec::new();
        let mut i = 0;
        let flush = |lit: &mut Vec<u8>, items: &mut Vec<Item>| {
            if !lit.is_empty() {
                items.push(Item::Lit(std::mem::take(lit)));
            }
        };
        while i < b.len() {
            let c = b[i];
            if c == b'%' && b.get(i + 1) == Some(&b'%') {
                lit.push(b'%');
                i += 2;
                continue;
            }
            if c != b'%' {
                // spaces in the directive are delimiters, merged
                if c == b' ' || c == b'\t' {
                    if lit.last() != Some(&b' ') {
                        lit.push(b' ');
                    }
                } else {
                    lit.push(c);
                }
                i += 1;
                continue;
            }
            let start = i;
            i += 1;
            // %(name:type)
            if b.get(i) == Some(&b'(') {
                i += memchr::memchr(b')', &b[i..])
                    .ok_or(FormatError::Unterminated { at: start })?
                    + 1;
            }
            // %{flags}
            if b.get(i) == Some(&b'{') {
                let e =
                    memchr::memchr(b'}', &b[i..]).ok_or(FormatError::Unterminated { at: start })?;
                let flags = &fmt[i + 1..i + e];
                if flags.contains("json") || flags.contains("cbor") {
                    return Err(FormatError::Encoded);
                }
                i += e + 1;
            }
            let var = if b.get(i) == Some(&b'[') {
                let e =
                    memchr::memchr(b']', &b[i..]).ok_or(FormatError::Unterminated { at: start })?;
                let expr = fmt[i + 1..i + e].to_ascii_lowercase();
                i += e + 1;
                if [
                    "unique-id",
                    "unique_id",
                    "request-id",
                    "request_id",
                    "req-id",
                    "x-request-id",
                ]
                .iter()
                .any(|k| expr.contains(k))
                {
                    Var::RequestId
                } else {
                    Var::Other
                }
            } else {
                let n = b[i..]
                    .iter()
                    .take_while(|c| c.is_ascii_alphanumeric())
                    .count();
                let name = &fmt[i..i + n];
                i += n;
                if name == "o" {
                    // flags for what follows: not a field
                    continue;
                }
                alias(name)
            };
            flush(&mut lit, &mut items);
            if matches!(items.last(), Some(Item::Var(_))) {
                return Err(FormatError::Adjacent { at: start });
            }
            items.push(Item::Var(var));
        }
        flush(&mut lit, &mut items);
        // a trailing space in the directive is not written
        if let Some(Item::Lit(l)) = items.last_mut() {
            while l.last() == Some(&b' ') {
                l.pop();
            }
            if l.is_empty() {
                items.pop();
            }
        }
        let has = |v: Var| items.contains(&Item::Var(v));
        if !has(Var::Status) && !has(Var::Termination) {
            return Err(FormatError::NoStatus);
        }
        Ok(CustomFormat {
            source: source.to_string(),
            items,
        })
    }

    /// Whether the lines of a file's head are written in this format: the
    /// parser and the reason.
    pub fn detect(&self, head: &[&[u8]]) -> Option<(CustomParser, String)> {
        let p = CustomParser {
            format: self.clone(),
            fallback: HaproxyParser::with_year(None),
        };
        let mut req = 0;
        let mut other = 0;
        for l in head {
            match p.parse_line(l) {
                Ok(_) => req += 1,
                Err(HopLineError::NotARequest) => other += 1,
                Err(_) => {}
            }
        }
        if req == 0 || (req + other) * 2 < head.len() {
            return None;
        }
        let why = format!(
            "{req} of the first {} lines parse with the HAProxy log-format of {}",
            head.len(),
            self.source
        );
        Some((p, why))
    }

    fn parse<'a>(&self, msg: &'a [u8]) -> Result<HopRecord<'a>, HopLineError> {
        use HopLineError::Mismatch;
        let mut rec = HopRecord::default();
        let (mut term, mut tq, mut tw, mut tc, mut tr, mut ta) =
            (None, None, None, None, None, None);
        let (mut fe, mut be, mut srv, mut retries) = (None, None, None, None);
        let mut rest = msg;
        // haproxy writes nothing, separator included, for %hr/%hs without captures
        let mut skipped = false;
        for (k, item) in self.items.iter().enumerate() {
            match item {
                Item::Lit(l) => {
                    let mut l = l.as_slice();
                    if std::mem::take(&mut skipped) && !rest.starts_with(b" ") {
                        l = l.strip_prefix(b" ").unwrap_or(l);
                    }
                    rest = rest.strip_prefix(l).ok_or(Mismatch)?;
                }
                Item::Var(Var::ReqCaptures | Var::RespCaptures) if rest.first() != Some(&b'{') => {
                    skipped = true;
                }
                Item::Var(v) => {
                    let next = match self.items.get(k + 1) {
                        Some(Item::Lit(l)) => Some(l.as_slice()),
                        _ => None,
                    };
                    let (val, r) = take_value(*v, rest, next).ok_or(Mismatch)?;
                    rest = r;
                    let val = unquote(val);
                    let some = Some(val).filter(|v| !v.is_empty() && *v != b"-");
                    match v {
                        Var::ClientIp => rec.client = some,
                        Var::DateMs | Var::DateZone => {
                            rec.time =
                                Some(scan::parse_time_local(val).ok_or(HopLineError::BadTime)?)
                        }
                        Var::Epoch => {
                            rec.time = Some(scan::parse_msec(val).ok_or(HopLineError::BadTime)?)
                        }
                        Var::Frontend => fe = some,
                        Var::Backend => be = some,
                        Var::Server => srv = some,
                        Var::Tq => tq = timer(val)?,
                        Var::Tw => tw = timer(val)?,
                        Var::Tc => tc = timer(val)?,
                        Var::Tr => tr = timer(val)?,
                        Var::Ta => ta = timer(val)?,
                        Var::Status => {
                            rec.status = if val == b"-1" {
                                None
                            } else {
                                Some(scan::parse_status(val).ok_or(HopLineError::BadStatus)?)
                            }
                        }
                        Var::Termination => {
                            // `%tsc` is 4 characters, `%ts` 2 (§8.5: a letter
                            // or `-` each); anything else is another field
                            // read in its place: an `option httplog` line of
                            // another frontend in the same file put its
                            // captured-cookie `-` here
                            let ok = matches!(val.len(), 2 | 4)
                                && val.iter().all(|c| c.is_ascii_alphabetic() || *c == b'-');
                            if !ok {
                                return Err(Mismatch);
                            }
                            term = some;
                        }
                        Var::Retries => retries = some,
                        Var::ReqCaptures => {
                            let inner = val
                                .strip_prefix(b"{")
                                .and_then(|v| v.strip_suffix(b"}"))
                                .unwrap_or(val);
                            if rec.request_id.is_none() {
                                rec.request_id = inner
                                    .split(|&c| c == b'|')
                                    .find(|v| super::haproxy::id_like(v));
                            }
                        }
                        Var::Request => {
                            if val != b"<BADREQ>" {
                                let mut parts = val.splitn(3, |&c| c == b' ');
                                rec.method = parts.next().filter(|m| !m.is_empty());
                                rec.path = parts.next().filter(|p| !p.is_empty());
                                rec.protocol = parts.next().filter(|p| !p.is_empty());
                            }
                        }
                        Var::RespCaptures => {}
                        Var::Method => rec.method = some,
                        Var::Uri => rec.path = some,
                        Var::Version => rec.protocol = some,
                        Var::RequestId => rec.request_id = some.or(rec.request_id),
                        Var::Other => {}
                    }
                }
            }
        }
        if !rest.is_empty() && !rest.iter().all(|c| c.is_ascii_whitespace()) {
            return Err(Mismatch);
        }
        rec.total_ms = ta;
        rec.signals = Signals::Haproxy {
            termination: term,
            tq,
            tw,
            tc,
            tr,
            ta,
            frontend: fe,
            backend: be,
            server: srv,
            retries,
        };
        Ok(rec)
    }
}

/// `option httplog`, for `${HAPROXY_HTTP_LOG_FMT}` (§8.2.3).
const HTTPLOG: &str = "%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r";

fn timer(b: &[u8]) -> Result<Option<i64>, HopLineError> {
    let b = b.strip_prefix(b"+").unwrap_or(b);
    if b == b"-1" || b == b"-" {
        return Ok(None);
    }
    scan::parse_u64(b)
        .map(|v| Some(v as i64))
        .ok_or(HopLineError::Mismatch)
}

fn unquote(v: &[u8]) -> &[u8] {
    v.strip_prefix(b"\"")
        .and_then(|v| v.strip_suffix(b"\""))
        .unwrap_or(v)
}

/// The value of one item at the start of `rest`, and what follows it.
fn take_value<'a>(v: Var, rest: &'a [u8], next: Option<&[u8]>) -> Option<(&'a [u8], &'a [u8])> {
    // a quoted value ends at its closing quote (haproxy escapes `"` inside)
    if rest.first() == Some(&b'"') {
        let e = memchr::memchr(b'"', &rest[1..]).map_or(rest.len(), |e| e + 2);
        return Some((&rest[..e], &rest[e..]));
    }
    if matches!(v, Var::ReqCaptures | Var::RespCaptures) && rest.first() == Some(&b'{') {
        let e = memchr::memchr(b'}', rest)? + 1;
        return Some((&rest[..e], &rest[e..]));
    }
    // values that hold a space: `dd/Mon/yyyy:HH:MM:SS +zzzz`, `METHOD URI HTTP/x`
    let min = match v {
        Var::DateZone if rest.len() >= 26 && rest[2] == b'/' => 26,
        // the version ends at a space, or at the quote of a `"%r"` written
        // with literal quotes
        Var::Request => memchr::memmem::find(rest, b" HTTP/")
            .map(|i| {
                i + 6
                    + rest[i + 6..]
                        .iter()
                        .take_while(|c| **c != b' ' && **c != b'"')
                        .count()
            })
            .unwrap_or(0),
        _ => 0,
    };
    let end = match next {
        Some(l) => min + memchr::memmem::find(&rest[min..], l)?,
        None => rest.len(),
    };
    Some((&rest[..end], &rest[end..]))
}

/// A parser for one file written with a custom `log-format`.
pub struct CustomParser {
    format: CustomFormat,
    fallback: HaproxyParser,
}

impl HopParser for CustomParser {
    fn parse_line<'a>(&self, line: &'a [u8]) -> Result<HopRecord<'a>, HopLineError> {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let msg = split_message(line);
        match self.format.parse(msg) {
            Ok(r) => Ok(r),
            // one haproxy log holds every frontend's lines: those of a
            // frontend with `option httplog`/`httpslog` (no log-format) are
            // in the built-in layout, read as such (seen with haproxy 2.6)
            Err(e) => match self.fallback.parse_line(line) {
                Ok(r) => Ok(r),
                Err(HopLineError::NotARequest) => Err(HopLineError::NotARequest),
                Err(_) => Err(e),
            },
        }
    }

    fn parse_event<'a>(&self, line: &'a [u8]) -> Option<HopEvent<'a>> {
        self.fallback.parse_event(line)
    }
}

/// The `log-format` directives of a haproxy config text: (line, format).
/// Quoted (`"…"`, `'…'`) or with backslash-escaped spaces, as §8.2.6 allows.
pub fn log_formats_in_config(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let t = line.trim_start();
        let Some(arg) = t
            .strip_prefix("log-format")
            .filter(|a| a.starts_with([' ', '\t']))
        else {
            continue;
        };
        let arg = arg.trim();
        let mut s = String::new();
        let mut chars = arg.chars();
        let mut quote = None;
        while let Some(c) = chars.next() {
            match (c, quote) {
                ('\\', _) => {
                    if let Some(n) = chars.next() {
                        s.push(n);
                    }
                }
                ('"' | '\'', None) => quote = Some(c),
                (c, Some(q)) if c == q => quote = None,
                ('#', None) => break,
                (c, None) if c.is_whitespace() => s.push(' '),
                (c, _) => s.push(c),
            }
        }
        out.push((n + 1, s.trim().to_string()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn httplog_as_a_custom_format_reads_like_httplog() {
        let f = CustomFormat::compile("cfg:1", "${HAPROXY_HTTP_LOG_FMT}").unwrap();
        let line = b"Mar 12 08:12:01 lb1 haproxy[7]: 10.0.0.1:5000 [12/Mar/2024:08:12:01.100] fe be/app1 0/0/-1/-1/3 503 217 - - SC-- 1/1/0/0/0 0/0 {6a7ec4ec-0000-4000-8000-000000000001} \"GET /a HTTP/1.1\"";
        let (p, why) = f.detect(&[line]).unwrap();
        assert!(why.contains("cfg:1"));
        let r = p.parse_line(line).unwrap();
        assert_eq!(r.status, Some(503));
        assert_eq!(r.path, Some(&b"/a"[..]));
        assert_eq!(
            r.request_id,
            Some(&b"6a7ec4ec-0000-4000-8000-000000000001"[..])
        );
    }

    #[test]
    fn a_custom_format() {
        let cfg = r#"
frontend fe
    log-format "%ci [%trg] %ID %HM %HU %ST %tsc %Tc/%Tr/%Ta %b/%s \"%[capture.req.hdr(1)]\""
"#;
        let fmts = log_formats_in_config(cfg);
        assert_eq!(fmts.len(), 1);
        assert_eq!(fmts[0].0, 3);
        let f = CustomFormat::compile("haproxy.cfg:3", &fmts[0].1).unwrap();
        let line = b"10.0.0.9 [12/Mar/2024:08:12:01 +0100] abc123def4567890 GET /api/x?y=1 502 SH-- 0/-1/7 be_api/app2 \"Mozilla/5.0 (X11)\"";
        let r = f.parse(line).unwrap();
        assert_eq!(r.status, Some(502));
        assert_eq!(r.method, Some(&b"GET"[..]));
        assert_eq!(r.path, Some(&b"/api/x?y=1"[..]));
        assert_eq!(r.request_id, Some(&b"abc123def4567890"[..]));
        assert_eq!(r.time.unwrap().offset_s, 3600);
        match r.signals {
            Signals::Haproxy {
                termination,
                tc,
                tr,
                server,
                ..
            } => {
                assert_eq!(termination, Some(&b"SH--"[..]));
                assert_eq!((tc, tr), (Some(0), None));
                assert_eq!(server, Some(&b"app2"[..]));
            }
            _ => panic!(),
        }
        assert_eq!(
            f.parse(b"10.0.0.9 [bad] x").err(),
            Some(HopLineError::BadTime)
        );
        assert_eq!(f.parse(b"garbage").err(), Some(HopLineError::Mismatch));
    }

    /// One log of three frontends (haproxy 2.6, `log stdout`): `option
    /// httplog`, `option httpslog`, and a `log-format` with `%tsc`. The
    /// log-format of the config reads its own lines; the others keep their
    /// built-in layout, not misread by it (the httplog line's cookie `-`
    /// taken for the termination state).
    #[test]
    fn other_frontends_lines_in_the_same_log_keep_their_layout() {
        let f = CustomFormat::compile(
            "hap.cfg:22",
            "%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %{+Q}r",
        )
        .unwrap();
        let lines: [&[u8]; 3] = [
            br#"127.0.0.1:38156 [29/Nov/2026:02:04:12.937] fe_main be_app/app1 0/0/0/-1/0 502 209 - - PH-- 1/1/0/0/0 0/0 "GET /badhdr HTTP/1.1""#,
            br#"127.0.0.1:47912 [29/Nov/2026:02:04:13.068] fe_https_log be_app/app1 0/0/0/-1/0 502 209 - - PH-- 1/1/0/0/0 0/0 "GET /badhdr HTTP/1.1" 0/-/-/-/0 -/-/-"#,
            br#"127.0.0.1:54248 [29/Nov/2026:02:04:13.220] fe_custom be_app/app1 0/0/0/-1/4 502 209 PH-- 1/1/0/0/0 0/0 "GET /badhdr HTTP/1.1""#,
        ];
        // the custom format alone does not take the httplog line
        assert_eq!(f.parse(lines[0]).err(), Some(HopLineError::Mismatch));
        let (p, _) = f.detect(&lines).expect("the file is read");
        for l in lines {
            let r = p.parse_line(l).unwrap_or_else(|e| panic!("{e:?}"));
            assert_eq!(r.status, Some(502));
            assert_eq!(r.path, Some(&b"/badhdr"[..]));
            match r.signals {
                Signals::Haproxy { termination, .. } => {
                    assert_eq!(termination, Some(&b"PH--"[..]))
                }
                _ => panic!(),
            }
        }
    }

    /// `"%r"` with literal quotes (not `%{+Q}r`): the request ends at the
    /// quote, not at the next space.
    #[test]
    fn request_in_literal_quotes() {
        let f = CustomFormat::compile(
            "c",
            r#"%ci - - [%trl] "%r" %ST %B "-" "-" %tsc %Tc/%Tr/%Ta %b/%s"#,
        )
        .unwrap();
        let r = f
            .parse(br#"10.0.0.2 - - [12/Mar/2024:08:12:01 +0000] "GET /a HTTP/1.1" 502 209 "-" "-" SH-- 0/-1/12 be/s1"#)
            .unwrap();
        assert_eq!(r.status, Some(502));
        assert_eq!(r.protocol, Some(&b"HTTP/1.1"[..]));
        assert_eq!(r.path, Some(&b"/a"[..]));
    }

    #[test]
    fn unusable_formats() {
        assert_eq!(
            CustomFormat::compile("c", "%{+json}o %ci %ST").err(),
            Some(FormatError::Encoded)
        );
        assert_eq!(
            CustomFormat::compile("c", "%ci %B").err(),
            Some(FormatError::NoStatus)
        );
        assert!(matches!(
            CustomFormat::compile("c", "%ci%ST"),
            Err(FormatError::Adjacent { .. })
        ));
        assert!(matches!(
            CustomFormat::compile("c", "%ci %[src"),
            Err(FormatError::Unterminated { .. })
        ));
        assert_eq!(
            log_formats_in_config("  log-format %ci\\ %ST # comment\n"),
            vec![(1, "%ci %ST".to_string())]
        );
    }
}
