//! Cloudflare Logpush `http_requests` (NDJSON, one object per line) →
//! [`HopRecord`]s.
//!
//! Facts, from Cloudflare's log-field reference
//! (`logs/reference/log-fields/zone/http_requests`): a job logs only the
//! fields chosen for it; `EdgeResponseStatus` is the status sent to the
//! client; `OriginResponseStatus` the origin's, **0 when no origin request
//! was made** (or, on a zone with a Worker, a Worker subrequest);
//! `OriginIP`, `OriginResponseHeaderReceiveDurationMs` (origin headers after
//! the request headers were sent), `OriginTLSHandshakeDurationMs` /
//! `OriginTCPHandshakeDurationMs` (0 when the connection was reused);
//! `OriginResponseDurationMs` (connect and response, from the first data
//! center), `OriginDNSResponseTimeMs`; `WorkerStatus` ("status returned
//! from Worker daemon"), `WorkerSubrequest` (the request was a Worker's
//! subrequest); `SecurityAction` / `SecurityRuleID` (the security rule
//! that took a terminating action, if any);
//! `EdgeStartTimestamp` / `EdgeEndTimestamp` are "int or string" per the
//! job's timestamp format (unixnano by default, unix, or RFC 3339); `RayID`
//! is the request id (the origin sees it in `CF-Ray`).
//! Keys are matched exactly as Cloudflare names them; other keys are
//! ignored, missing ones are absent.

use super::hop::{HopExample, HopFormat, HopKind, HopLineError, HopParser, HopRecord, Signals};
use super::hop_fields::{json_bytes, json_int, json_members, json_time, trim_cr};

/// The Logpush `http_requests` parser (stateless).
#[derive(Debug, Clone, Copy, Default)]
pub struct CloudflareParser;

impl HopParser for CloudflareParser {
    fn parse_line<'a>(&self, line: &'a [u8]) -> Result<HopRecord<'a>, HopLineError> {
        let line = trim_cr(line);
        let mut rec = HopRecord::default();
        let (mut status, mut origin, mut header_ms, mut cache) = (None, None, None, None);
        let (mut duration_ms, mut tls_ms, mut dns_ms) = (None, None, None);
        let (mut worker_status, mut worker_subrequest) = (None, None);
        let (mut security_action, mut security_rule) = (None, None);
        let (mut start, mut end) = (None, None);
        let mut bad_status = false;
        let mut uri = None;
        let ok = json_members(line, &mut |k, v| match k {
            "EdgeResponseStatus" => match json_int(v) {
                Some(s @ 0..=999) => status = Some(s as u16),
                _ => bad_status = true,
            },
            "OriginResponseStatus" => origin = json_int(v).filter(|s| (0..=999).contains(s)),
            "OriginResponseHeaderReceiveDurationMs" => header_ms = json_int(v),
            "OriginResponseDurationMs" => duration_ms = json_int(v),
            "OriginTLSHandshakeDurationMs" => tls_ms = json_int(v),
            "OriginDNSResponseTimeMs" => dns_ms = json_int(v),
            "WorkerStatus" => worker_status = json_bytes(v),
            "WorkerSubrequest" => worker_subrequest = json_bytes(v).map(|b| b == b"true"),
            "SecurityAction" => security_action = json_bytes(v),
            "SecurityRuleID" => security_rule = json_bytes(v),
            "CacheCacheStatus" => cache = json_bytes(v),
            "EdgeStartTimestamp" => start = Some(v),
            "EdgeEndTimestamp" => end = Some(v),
            "ClientIP" => rec.client = json_bytes(v),
            "ClientRequestHost" => rec.host = json_bytes(v),
            "ClientRequestMethod" => rec.method = json_bytes(v),
            "ClientRequestURI" => uri = json_bytes(v),
            "ClientRequestPath" if uri.is_none() => rec.path = json_bytes(v),
            "ClientRequestProtocol" => rec.protocol = json_bytes(v),
            "OriginIP" => rec.upstream_addr = json_bytes(v),
            "RayID" => rec.request_id = json_bytes(v),
            _ => {}
        });
        if !ok {
            return Err(HopLineError::Mismatch);
        }
        if bad_status {
            return Err(HopLineError::BadStatus);
        }
        rec.status = Some(status.ok_or(HopLineError::Mismatch)?);
        if uri.is_some() {
            rec.path = uri;
        }
        let (start, end) = (start.and_then(json_time), end.and_then(json_time));
        rec.time = start.or(end);
        if let (Some(s), Some(e)) = (start, end) {
            rec.total_ms = Some(e.utc_ms - s.utc_ms).filter(|d| *d >= 0);
        }
        rec.upstream_status = origin.filter(|s| *s != 0).map(|s| s as u16);
        rec.signals = Signals::Cloudflare {
            cache,
            origin_status: origin.map(|s| s as u16),
            origin_header_ms: header_ms,
            origin_duration_ms: duration_ms,
            origin_tls_ms: tls_ms,
            origin_dns_ms: dns_ms,
            worker_status,
            worker_subrequest,
            security_action,
            security_rule,
        };
        Ok(rec)
    }
}

/// The Cloudflare `http_requests` format, for detection and the registry.
pub struct Cloudflare;

impl HopFormat for Cloudflare {
    fn name(&self) -> &'static str {
        "cloudflare"
    }
    fn hop(&self) -> HopKind {
        HopKind::Cdn
    }
    fn detect(&self, head: &[&[u8]]) -> Option<(Box<dyn HopParser>, String)> {
        super::hop::detect_by_parsing(
            head,
            CloudflareParser,
            "are JSON objects with Cloudflare's EdgeResponseStatus (Logpush http_requests)",
        )
    }

    /// Logpush's CSV output (`output_options.output_type: csv`, Cloudflare's
    /// "Log Output Options": fields joined by `field_delimiter`, `,` by
    /// default, no header line): the columns are the job's `field_names`,
    /// which the file does not carry, so it is not read. Told by a Ray ID
    /// (16 hex digits) and a status among comma-separated fields.
    fn near_miss(&self, head: &[&[u8]]) -> Option<String> {
        let lines: Vec<&[u8]> = head
            .iter()
            .map(|l| trim_cr(l))
            .filter(|l| !l.is_empty())
            .take(5)
            .collect();
        let csv_with_ray_id = |l: &&[u8]| {
            let fields: Vec<&[u8]> = l.split(|&c| c == b',').collect();
            let ray = |f: &&[u8]| {
                let f = f.strip_prefix(b"\"").unwrap_or(f);
                let f = f.strip_suffix(b"\"").unwrap_or(f);
                f.len() == 16
                    && f.iter()
                        .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c))
            };
            let status = |f: &&[u8]| {
                f.len() == 3 && (b'1'..=b'5').contains(&f[0]) && f.iter().all(u8::is_ascii_digit)
            };
            l.first() != Some(&b'{')
                && fields.len() >= 3
                && fields.iter().any(ray)
                && fields.iter().any(status)
        };
        (!lines.is_empty() && lines.iter().all(csv_with_ray_id)).then(|| {
            "looks like Cloudflare Logpush CSV output (comma-separated, a Ray ID): CSV has no header \
             line, its columns are the job's output_options.field_names, which the file does not \
             carry, so it is not read; push the default ndjson output instead"
                .to_string()
        })
    }
}

/// Lines as a Logpush job writes them and what gatecheck reads.
pub const EXAMPLES: &[HopExample] = &[
    HopExample {
        title: "522: Cloudflare timed out connecting to the origin",
        line: r#"{"ClientIP":"198.51.100.7","ClientRequestHost":"www.example.com","ClientRequestMethod":"GET","ClientRequestURI":"/","EdgeStartTimestamp":1710230400000000000,"EdgeEndTimestamp":1710230419000000000,"EdgeResponseStatus":522,"OriginResponseStatus":0,"OriginIP":"203.0.113.10","RayID":"8633b2f5be6a1234"}"#,
        status: Some(522),
        cause: "timeout",
        evidence: "EdgeResponseStatus=522",
    },
    HopExample {
        title: "502 from the origin, passed on",
        line: r#"{"ClientRequestHost":"api.example.com","ClientRequestMethod":"POST","ClientRequestURI":"/v1/pay","EdgeStartTimestamp":"2024-03-12T08:00:01Z","EdgeEndTimestamp":"2024-03-12T08:00:01Z","EdgeResponseStatus":502,"OriginResponseStatus":502,"OriginResponseHeaderReceiveDurationMs":31,"CacheCacheStatus":"dynamic","RayID":"8633b2f5be6a1235"}"#,
        status: Some(502),
        cause: "passthrough",
        evidence: "OriginResponseStatus=502",
    },
    HopExample {
        title: "525: TLS handshake to the origin failed",
        line: r#"{"EdgeStartTimestamp":1710230402,"EdgeResponseStatus":525,"OriginResponseStatus":0,"OriginTLSHandshakeDurationMs":0,"RayID":"8633b2f5be6a1236"}"#,
        status: Some(525),
        cause: "tls",
        evidence: "EdgeResponseStatus=525",
    },
    HopExample {
        title: "521: the origin refused the connection",
        line: r#"{"EdgeStartTimestamp":1710230403000,"EdgeResponseStatus":521,"OriginResponseStatus":0,"OriginIP":"203.0.113.10","RayID":"8633b2f5be6a1237"}"#,
        status: Some(521),
        cause: "upstream_refused",
        evidence: "EdgeResponseStatus=521",
    },
    HopExample {
        title: "a 500 the zone's Worker made (it threw), not the origin",
        line: r#"{"EdgeStartTimestamp":1710230404000,"EdgeResponseStatus":500,"OriginResponseStatus":0,"WorkerStatus":"exception","WorkerCPUTime":1200,"WorkerSubrequest":false,"RayID":"8633b2f5be6a1238"}"#,
        status: Some(500),
        cause: "unknown",
        evidence: "WorkerStatus=exception",
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logpush_csv_is_said_not_read() {
        let csv: Vec<&[u8]> = vec![
            b"198.51.100.7,www.example.com,GET,/,1710230400000000000,522,0,8633b2f5be6a1234",
            b"198.51.100.8,www.example.com,GET,/a,1710230401000000000,200,200,8633b2f5be6a1235\r",
        ];
        assert!(Cloudflare.detect(&csv).is_none());
        let why = Cloudflare.near_miss(&csv).expect("said");
        assert!(why.contains("field_names"), "{why}");
        let ndjson: Vec<&[u8]> = vec![EXAMPLES[0].line.as_bytes()];
        assert!(Cloudflare.near_miss(&ndjson).is_none());
        assert!(Cloudflare.near_miss(&[&b"a,b,c"[..]]).is_none());
    }

    #[test]
    fn examples_parse_and_detect() {
        for ex in EXAMPLES {
            let (p, why) = Cloudflare.detect(&[ex.line.as_bytes()]).expect(ex.title);
            assert!(why.contains("1 of 1"), "{why}");
            let r = p.parse_line(ex.line.as_bytes()).unwrap();
            assert_eq!(r.status, ex.status, "{}", ex.title);
            assert!(r.time.is_some(), "{}", ex.title);
        }
    }

    #[test]
    fn fields() {
        let r = CloudflareParser
            .parse_line(EXAMPLES[0].line.as_bytes())
            .unwrap();
        assert_eq!(r.time.unwrap().utc_ms, 1_710_230_400_000);
        assert_eq!(r.total_ms, Some(19_000));
        assert_eq!(r.request_id, Some(&b"8633b2f5be6a1234"[..]));
        assert_eq!(r.upstream_status, None);
        assert!(matches!(
            r.signals,
            Signals::Cloudflare {
                origin_status: Some(0),
                ..
            }
        ));
        let r = CloudflareParser
            .parse_line(EXAMPLES[1].line.as_bytes())
            .unwrap();
        assert_eq!(r.path, Some(&b"/v1/pay"[..]));
        assert_eq!(r.upstream_status, Some(502));
        assert!(matches!(
            r.signals,
            Signals::Cloudflare {
                origin_header_ms: Some(31),
                cache: Some(b"dynamic"),
                ..
            }
        ));
    }

    #[test]
    fn missing_extra_crlf_truncated_non_utf8() {
        // only the status: still a record, everything else absent
        let r = CloudflareParser
            .parse_line(br#"{"EdgeResponseStatus":200}"#)
            .unwrap();
        assert_eq!((r.time, r.request_id), (None, None));
        assert!(CloudflareParser
            .parse_line(br#"{"EdgeResponseStatus":200,"New":{"a":[1]}}"#)
            .is_ok());
        let crlf = format!("{}\r", EXAMPLES[0].line);
        assert!(CloudflareParser.parse_line(crlf.as_bytes()).is_ok());
        let l = EXAMPLES[0].line.as_bytes();
        assert_eq!(
            CloudflareParser.parse_line(&l[..l.len() - 5]),
            Err(HopLineError::Mismatch)
        );
        assert_eq!(
            CloudflareParser.parse_line(br#"{"RayID":"x"}"#),
            Err(HopLineError::Mismatch)
        );
        assert_eq!(
            CloudflareParser.parse_line(br#"{"EdgeResponseStatus":"abc"}"#),
            Err(HopLineError::BadStatus)
        );
        assert_eq!(
            CloudflareParser
                .parse_line(b"{\"EdgeResponseStatus\":502,\"ClientRequestURI\":\"/\xff\"}"),
            Err(HopLineError::Mismatch)
        );
    }

    #[test]
    fn not_other_json() {
        let envoy = br#"{"response_code":502,"response_flags":"UF"}"#;
        assert!(Cloudflare.detect(&[&envoy[..]]).is_none());
    }
}
