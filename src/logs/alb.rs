//! AWS Application Load Balancer access logs → [`HopRecord`]s.
//!
//! Facts, from AWS's "Access logs for your Application Load Balancer"
//! (`load-balancer-access-logs.md`, "Access log entries"):
//! - one request per line, fields separated by spaces, some in `"…"`; new
//!   fields are appended at the end, so extra trailing fields are ignored;
//! - order: `type time elb client:port target:port request_processing_time
//!   target_processing_time response_processing_time elb_status_code
//!   target_status_code received_bytes sent_bytes "request" "user_agent"
//!   ssl_cipher ssl_protocol target_group_arn "trace_id" "domain_name"
//!   "chosen_cert_arn" matched_rule_priority request_creation_time
//!   "actions_executed" "redirect_url" "error_reason" …`;
//! - `time` is when the load balancer generated the response (ISO 8601, UTC,
//!   µs); the three processing times are seconds with ms precision and `-1`
//!   when the load balancer could not dispatch the request to a target, the
//!   target closed the connection before the idle timeout, or it did not
//!   respond before the idle timeout;
//! - `target:port` is `-` when no target got the request (and for Lambda);
//!   `target_status_code` is `-` unless a connection was made and the target
//!   sent a response;
//! - `"request"` is `METHOD scheme://host:port/uri PROTOCOL`;
//! - `"trace_id"` holds the `X-Amzn-Trace-Id` header (the join key);
//! - `"actions_executed"` lists what the load balancer did (`forward`,
//!   `fixed-response`, `redirect`, `authenticate`, `waf`, `waf-failed`):
//!   a `fixed-response` status is the listener rule's, not a target's;
//! - `"error_reason"` is set when an `authenticate` action, a weighted target
//!   group, a Lambda target or AWS WAF failed (`LambdaInvalidResponse`,
//!   `AuthTokenEpRequestTimeout`, `WAFConnectionError`, …);
//! - `"classification"`/`"classification_reason"` (desync mitigation:
//!   `Acceptable`/`Ambiguous`/`Severe`, `BadContentLength`, …) describe the
//!   client's request, which the mitigation answers with a 400 or passes
//!   on: never the cause of a 5xx, so not read.

use super::hop::{HopExample, HopFormat, HopKind, HopLineError, HopParser, HopRecord, Signals};
use super::hop_fields::{dash, secs_to_ms, split_url, trim_cr};
use super::scan::{parse_iso8601, parse_status};

/// Fields a line must have: up to `"trace_id"` (index 17).
const MIN_FIELDS: usize = 18;
/// Fields read: up to `"error_reason"` (index 24).
const READ_FIELDS: usize = 25;

/// The connection types ALB writes first on a line.
const TYPES: &[&[u8]] = &[b"http", b"https", b"h2", b"grpcs", b"ws", b"wss"];

/// The next space-separated field; a `"…"` field runs to the `"` that is
/// followed by a space or the end of the line (ALB does not escape quotes
/// inside, e.g. in a user agent).
#[inline]
fn next_field(rest: &[u8]) -> Option<(&[u8], &[u8])> {
    if rest.is_empty() {
        return None;
    }
    if rest[0] == b'"' {
        let mut from = 1;
        loop {
            let i = from + memchr::memchr(b'"', &rest[from..])?;
            match rest.get(i + 1) {
                None => return Some((&rest[1..i], &rest[i + 1..])),
                Some(b' ') => return Some((&rest[1..i], &rest[i + 2..])),
                Some(_) => from = i + 1,
            }
        }
    }
    match memchr::memchr(b' ', rest) {
        Some(i) => Some((&rest[..i], &rest[i + 1..])),
        None => Some((rest, &rest[rest.len()..])),
    }
}

/// `GET http://www.example.com:80/path?q HTTP/1.1` → method, host, path, protocol.
#[allow(clippy::type_complexity)]
fn request_line(r: &[u8]) -> (Option<&[u8]>, Option<&[u8]>, Option<&[u8]>, Option<&[u8]>) {
    let mut parts = r.splitn(3, |&c| c == b' ');
    let method = parts.next().and_then(dash);
    let (host, path) = split_url(parts.next().unwrap_or_default());
    let proto = parts.next().and_then(dash);
    (method, host, path, proto)
}

/// The ALB parser (stateless).
#[derive(Debug, Clone, Copy, Default)]
pub struct AlbParser;

impl HopParser for AlbParser {
    fn parse_line<'a>(&self, line: &'a [u8]) -> Result<HopRecord<'a>, HopLineError> {
        let mut rest = trim_cr(line);
        let mut f: [&[u8]; READ_FIELDS] = [&[]; READ_FIELDS];
        let mut n = 0;
        while n < READ_FIELDS {
            let Some((v, r)) = next_field(rest) else {
                break;
            };
            f[n] = v;
            rest = r;
            n += 1;
        }
        if n < MIN_FIELDS || !TYPES.contains(&f[0]) {
            return Err(HopLineError::Mismatch);
        }
        let mut rec = HopRecord {
            time: Some(parse_iso8601(f[1]).ok_or(HopLineError::BadTime)?),
            client: dash(f[3]),
            upstream_addr: dash(f[4]),
            ..Default::default()
        };
        let elb_status = parse_status(f[8]).ok_or(HopLineError::BadStatus)?;
        let target_status = match f[9] {
            b"-" => None,
            s => Some(parse_status(s).ok_or(HopLineError::BadStatus)?),
        };
        let (rpt, tpt, respt) = (secs_to_ms(f[5]), secs_to_ms(f[6]), secs_to_ms(f[7]));
        for t in [f[5], f[6], f[7]] {
            if t != b"-1" && secs_to_ms(t).is_none() {
                return Err(HopLineError::Mismatch);
            }
        }
        rec.total_ms = match (rpt, tpt, respt) {
            (Some(a), Some(b), Some(c)) => Some(a + b + c),
            _ => None,
        };
        rec.status = Some(elb_status);
        rec.upstream_status = target_status;
        (rec.method, rec.host, rec.path, rec.protocol) = request_line(f[12]);
        rec.request_id = dash(f[17]);
        let error_reason = if n > 24 { dash(f[24]) } else { None };
        let actions = if n > 22 { dash(f[22]) } else { None };
        rec.signals = Signals::Alb {
            elb_status: Some(elb_status),
            target_status,
            error_reason,
            actions,
            request_processing_ms: rpt,
            target_processing_ms: tpt,
            response_processing_ms: respt,
        };
        Ok(rec)
    }
}

/// The ALB access-log format, for detection and the registry.
pub struct Alb;

impl HopFormat for Alb {
    fn name(&self) -> &'static str {
        "alb"
    }
    fn hop(&self) -> HopKind {
        HopKind::Lb
    }
    fn detect(&self, head: &[&[u8]]) -> Option<(Box<dyn HopParser>, String)> {
        super::hop::detect_by_parsing(
            head,
            AlbParser,
            "read as ALB access-log entries (type, ISO time, load balancer id, … \"trace_id\")",
        )
    }
}

/// Lines in AWS's documented layout and what gatecheck reads from them.
pub const EXAMPLES: &[HopExample] = &[
    HopExample {
        title: "AWS doc example: a Lambda target's malformed response",
        line: r#"http 2018-11-30T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 - 0.000 0.001 0.000 502 - 34 366 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.46.0" - - arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337364-23a8c76965a2ef7629b185e3" "-" "-" 0 2018-11-30T22:22:48.364000Z "forward" "-" "LambdaInvalidResponse""#,
        status: Some(502),
        cause: "invalid_header",
        evidence: "error_reason=LambdaInvalidResponse",
    },
    HopExample {
        title: "the target answered 502 itself",
        line: r#"https 2024-03-12T08:10:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 203.0.113.9:51544 10.0.1.20:8080 0.000 0.031 0.000 502 502 210 345 "GET https://api.example.com:443/orders?id=7 HTTP/1.1" "curl/8.4.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/api/73e2d6bc24d8a067 "Root=1-65f00000-0123456789abcdef01234567" "api.example.com" "arn:aws:acm:us-east-2:123456789012:certificate/12345678-1234-1234-1234-123456789012" 1 2024-03-12T08:10:00.155000Z "forward" "-" "-" "10.0.1.20:8080" "502" "-" "-""#,
        status: Some(502),
        cause: "passthrough",
        evidence: "target_status_code=502",
    },
    HopExample {
        title: "the target closed the connection with the request outstanding",
        line: r#"http 2024-03-12T08:10:01.000100Z app/my-loadbalancer/50dc6c495c0c9188 203.0.113.9:51545 10.0.1.21:8080 0.001 -1 -1 502 - 180 277 "POST http://api.example.com:80/pay HTTP/1.1" "okhttp/4.9" - - arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/api/73e2d6bc24d8a067 "Root=1-65f00001-0123456789abcdef01234567" "-" "-" 1 2024-03-12T08:10:00.998000Z "forward" "-" "-" "10.0.1.21:8080" "-" "-" "-""#,
        status: Some(502),
        cause: "upstream_closed_early",
        evidence: "request_processing_time=0.001",
    },
    HopExample {
        title: "no registered target",
        line: r#"http 2024-03-12T08:10:02.000000Z app/my-loadbalancer/50dc6c495c0c9188 203.0.113.9:51546 - -1 -1 -1 503 - 120 326 "GET http://www.example.com:80/ HTTP/1.1" "curl/8.4.0" - - arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/web/73e2d6bc24d8a067 "Root=1-65f00002-0123456789abcdef01234567" "-" "-" 0 2024-03-12T08:10:02.000000Z "forward" "-" "-" "-" "-" "-" "-""#,
        status: Some(503),
        cause: "no_live_upstream",
        evidence: "elb_status_code=503",
    },
    HopExample {
        title: "the target did not answer within the idle timeout",
        line: r#"http 2024-03-12T08:11:02.000000Z app/my-loadbalancer/50dc6c495c0c9188 203.0.113.9:51547 10.0.1.22:8080 -1 -1 -1 504 - 120 326 "GET http://www.example.com:80/report HTTP/1.1" "curl/8.4.0" - - arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/web/73e2d6bc24d8a067 "Root=1-65f00003-0123456789abcdef01234567" "-" "-" 0 2024-03-12T08:10:02.000000Z "forward" "-" "-""#,
        status: Some(504),
        cause: "timeout",
        evidence: "elb_status_code=504",
    },
    HopExample {
        title: "a listener rule's fixed-response 503 (a maintenance page), not a missing target",
        line: r#"https 2024-03-12T08:12:02.000000Z app/my-loadbalancer/50dc6c495c0c9188 203.0.113.9:51548 - -1 -1 -1 503 - 120 326 "GET https://www.example.com:443/ HTTP/1.1" "curl/8.4.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 - "Root=1-65f00004-0123456789abcdef01234567" "www.example.com" "arn:aws:acm:us-east-2:123456789012:certificate/12345678-1234-1234-1234-123456789012" 2 2024-03-12T08:12:02.000000Z "fixed-response" "-" "-" "-" "-" "-" "-""#,
        status: Some(503),
        cause: "config_return",
        evidence: "fixed-response action",
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn examples_parse_and_detect() {
        for ex in EXAMPLES {
            let (p, why) = Alb.detect(&[ex.line.as_bytes()]).expect(ex.title);
            assert!(why.contains("1 of 1"), "{why}");
            assert_eq!(
                p.parse_line(ex.line.as_bytes()).unwrap().status,
                ex.status,
                "{}",
                ex.title
            );
        }
    }

    #[test]
    fn fields() {
        let r = AlbParser.parse_line(EXAMPLES[1].line.as_bytes()).unwrap();
        assert_eq!(r.method, Some(&b"GET"[..]));
        assert_eq!(r.host, Some(&b"api.example.com"[..]));
        assert_eq!(r.path, Some(&b"/orders?id=7"[..]));
        assert_eq!(r.protocol, Some(&b"HTTP/1.1"[..]));
        assert_eq!(r.upstream_addr, Some(&b"10.0.1.20:8080"[..]));
        assert_eq!(r.upstream_status, Some(502));
        assert_eq!(r.total_ms, Some(31));
        assert_eq!(
            r.request_id,
            Some(&b"Root=1-65f00000-0123456789abcdef01234567"[..])
        );
        assert_eq!(r.time.unwrap().utc_ms % 1000, 186);
        let r = AlbParser.parse_line(EXAMPLES[2].line.as_bytes()).unwrap();
        assert!(matches!(
            r.signals,
            Signals::Alb {
                target_status: None,
                request_processing_ms: Some(1),
                target_processing_ms: None,
                ..
            }
        ));
        assert_eq!(r.total_ms, None);
    }

    #[test]
    fn quotes_inside_a_quoted_field() {
        let l = EXAMPLES[1]
            .line
            .replace(r#""curl/8.4.0""#, r#""curl "x"/8.4""#);
        let r = AlbParser.parse_line(l.as_bytes()).unwrap();
        assert_eq!(
            r.request_id,
            Some(&b"Root=1-65f00000-0123456789abcdef01234567"[..])
        );
    }

    #[test]
    fn dash_crlf_truncated_non_utf8() {
        let line = EXAMPLES[0].line;
        let crlf = format!("{line}\r");
        let r = AlbParser.parse_line(crlf.as_bytes()).unwrap();
        assert!(matches!(
            r.signals,
            Signals::Alb {
                error_reason: Some(b"LambdaInvalidResponse"),
                ..
            }
        ));
        assert_eq!(r.upstream_addr, None);
        // an older line that ends before error_reason still reads
        let old = &line[..line.find("e3\"").unwrap() + 3];
        assert!(AlbParser.parse_line(old.as_bytes()).is_ok());
        assert_eq!(
            AlbParser.parse_line(&line.as_bytes()[..120]),
            Err(HopLineError::Mismatch)
        );
        let mut b = line.as_bytes().to_vec();
        let at = line.find("curl").unwrap();
        b[at] = 0xff;
        assert!(AlbParser.parse_line(&b).is_ok());
        let bad = line.replace(" 502 - ", " 5x2 - ");
        assert_eq!(
            AlbParser.parse_line(bad.as_bytes()),
            Err(HopLineError::BadStatus)
        );
        let bad = line.replace("2018-11-30T22:23", "2018-11-30X22:23");
        assert_eq!(
            AlbParser.parse_line(bad.as_bytes()),
            Err(HopLineError::BadTime)
        );
        assert_eq!(AlbParser.parse_line(b""), Err(HopLineError::Mismatch));
        // a malformed client request: request line "- - -"
        let l = EXAMPLES[3]
            .line
            .replace("GET http://www.example.com:80/ HTTP/1.1", "- - -");
        let r = AlbParser.parse_line(l.as_bytes()).unwrap();
        assert_eq!((r.method, r.path), (None, None));
    }

    #[test]
    fn not_other_formats() {
        let envoy = br#"[2024-03-12T08:10:00.120Z] "GET / HTTP/1.1" 502 - 0 107 31 30 "-" "curl" "id" "h" "10.0.3.7:8080""#;
        assert!(Alb.detect(&[&envoy[..]]).is_none());
        assert!(Alb.detect(&[]).is_none());
    }
}
