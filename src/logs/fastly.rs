//! Fastly real-time log streaming, JSON lines → [`HopRecord`]s.
//!
//! Fastly has no fixed log format: each logging endpoint has a VCL format
//! string. gatecheck reads the **JSON layout of Fastly's documentation**
//! (the "JSON" example of docs.fastly.com "Custom log formats", also the
//! format used in Fastly's Terraform provider examples):
//!
//! ```text
//! { "timestamp": "%{strftime(\{"%Y-%m-%dT%H:%M:%S%z"\}, time.start)}V",
//!   "client_ip": "%{req.http.Fastly-Client-IP}V", "host": "%{if(req.http.Fastly-Orig-Host, req.http.Fastly-Orig-Host, req.http.Host)}V",
//!   "url": "%{json.escape(req.url)}V", "request_method": "%{json.escape(req.method)}V",
//!   "request_protocol": "%{json.escape(req.proto)}V", "response_state": "%{json.escape(fastly_info.state)}V",
//!   "response_status": %{resp.status}V, "response_reason": %{if(resp.response, "%22"+json.escape(resp.response)+"%22", "null")}V,
//!   "fastly_server": "%{json.escape(server.identity)}V", … }
//! ```
//!
//! plus these optional keys, which the layout lacks and which make the
//! verdicts sharper: `request_id` (`req.xid` or `X-Request-ID`),
//! `backend_status` (`beresp.status`, copied into a header in `vcl_fetch`,
//! since it only exists there), `backend_name`, `ttfb_ms`.
//!
//! Facts (Fastly VCL reference): `fastly_info.state` is `HIT`, `MISS`,
//! `PASS`, `ERROR`, … (final only in `vcl_log`); `resp.response` is the
//! reason phrase, which for Fastly's own errors names the failure
//! ("Fastly-generated 503 errors": `backend read error`, `first byte
//! timeout`, `Connection refused`, …).

use super::hop::{HopExample, HopFormat, HopKind, HopLineError, HopParser, HopRecord, Signals};
use super::hop_fields::{json_bytes, json_int, json_members, json_time, trim_cr};

/// The Fastly JSON parser (stateless).
#[derive(Debug, Clone, Copy, Default)]
pub struct FastlyParser;

impl HopParser for FastlyParser {
    fn parse_line<'a>(&self, line: &'a [u8]) -> Result<HopRecord<'a>, HopLineError> {
        let line = trim_cr(line);
        let mut rec = HopRecord::default();
        let (mut status, mut bad_status, mut fastly_key) = (None, false, false);
        let (mut state, mut reason, mut backend, mut ttfb) = (None, None, None, None);
        let ok = json_members(line, &mut |k, v| match k {
            "response_status" | "status" => match json_int(v) {
                Some(s @ 0..=999) => status = Some(s as u16),
                _ => bad_status = true,
            },
            "response_state" => {
                state = json_bytes(v);
                fastly_key = true;
            }
            "fastly_server" | "fastly_is_edge" => fastly_key = true,
            "response_reason" => reason = json_bytes(v),
            "backend_status" => backend = json_int(v).filter(|s| (100..=999).contains(s)),
            "ttfb_ms" => ttfb = json_int(v),
            "timestamp" => rec.time = json_time(v),
            "client_ip" => rec.client = json_bytes(v),
            "host" => rec.host = json_bytes(v),
            "url" => rec.path = json_bytes(v),
            "request_method" => rec.method = json_bytes(v),
            "request_protocol" => rec.protocol = json_bytes(v),
            "request_id" => rec.request_id = json_bytes(v),
            "backend_name" => rec.upstream_addr = json_bytes(v),
            _ => {}
        });
        if !ok || !fastly_key {
            return Err(HopLineError::Mismatch);
        }
        if bad_status {
            return Err(HopLineError::BadStatus);
        }
        rec.status = Some(status.ok_or(HopLineError::Mismatch)?);
        rec.upstream_status = backend.map(|s| s as u16);
        rec.signals = Signals::Cdn {
            edge_result: state,
            detailed_result: reason,
            origin_status: backend.map(|s| s as u16),
            origin_header_ms: ttfb,
        };
        Ok(rec)
    }
}

/// The Fastly JSON format, for detection and the registry.
pub struct Fastly;

impl HopFormat for Fastly {
    fn name(&self) -> &'static str {
        "fastly"
    }
    fn hop(&self) -> HopKind {
        HopKind::Cdn
    }
    fn detect(&self, head: &[&[u8]]) -> Option<(Box<dyn HopParser>, String)> {
        super::hop::detect_by_parsing(
            head,
            FastlyParser,
            "are JSON objects with response_status and response_state/fastly_server (Fastly's documented JSON log layout)",
        )
    }
}

/// Lines in the documented layout and what gatecheck reads.
pub const EXAMPLES: &[HopExample] = &[
    HopExample {
        title: "Fastly's own 503: the backend did not send its first byte in time",
        line: r#"{"timestamp":"2024-03-12T08:00:00+0000","client_ip":"198.51.100.7","geo_country":"germany","host":"www.example.com","url":"/report","request_method":"GET","request_protocol":"HTTP/2","request_referer":"","request_user_agent":"curl/8.4.0","response_state":"ERROR","response_status":503,"response_reason":"first byte timeout","response_body_size":444,"fastly_server":"cache-fra-etou8220047-FRA","fastly_is_edge":true}"#,
        status: Some(503),
        cause: "timeout",
        evidence: "response_reason=first byte timeout",
    },
    HopExample {
        title: "a 502 from the origin, passed on",
        line: r#"{"timestamp":"2024-03-12T08:00:01+0000","host":"api.example.com","url":"/v1/pay","request_method":"POST","response_state":"PASS","response_status":502,"response_reason":"Bad Gateway","fastly_server":"cache-fra-etou8220047-FRA","fastly_is_edge":true,"backend_status":502,"request_id":"a1b2c3"}"#,
        status: Some(502),
        cause: "passthrough",
        evidence: "backend_status=502",
    },
    HopExample {
        title: "Fastly's own 503: connection refused by the backend",
        line: r#"{"timestamp":"2024-03-12T08:00:02+0000","host":"api.example.com","url":"/","request_method":"GET","response_state":"ERROR","response_status":503,"response_reason":"Connection refused","fastly_server":"cache-fra-etou8220047-FRA","fastly_is_edge":true}"#,
        status: Some(503),
        cause: "upstream_refused",
        evidence: "response_reason=Connection refused",
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn examples_parse_and_detect() {
        for ex in EXAMPLES {
            let (p, why) = Fastly.detect(&[ex.line.as_bytes()]).expect(ex.title);
            assert!(why.contains("1 of 1"), "{why}");
            let r = p.parse_line(ex.line.as_bytes()).unwrap();
            assert_eq!(r.status, ex.status, "{}", ex.title);
            assert!(r.time.is_some());
        }
    }

    #[test]
    fn fields_missing_and_bad_lines() {
        let r = FastlyParser
            .parse_line(EXAMPLES[1].line.as_bytes())
            .unwrap();
        assert_eq!(r.upstream_status, Some(502));
        assert_eq!(r.request_id, Some(&b"a1b2c3"[..]));
        assert_eq!(r.time.unwrap().utc_ms, 1_710_230_401_000);
        // response_reason null (the layout writes null when there is none)
        let r = FastlyParser
            .parse_line(br#"{"response_state":"HIT","response_status":200,"response_reason":null}"#)
            .unwrap();
        assert!(matches!(
            r.signals,
            Signals::Cdn {
                detailed_result: None,
                ..
            }
        ));
        let crlf = format!("{}\r", EXAMPLES[0].line);
        assert!(FastlyParser.parse_line(crlf.as_bytes()).is_ok());
        let l = EXAMPLES[0].line.as_bytes();
        assert_eq!(
            FastlyParser.parse_line(&l[..50]),
            Err(HopLineError::Mismatch)
        );
        // a status alone is not enough to call a line Fastly's
        assert_eq!(
            FastlyParser.parse_line(br#"{"status":200}"#),
            Err(HopLineError::Mismatch)
        );
        assert_eq!(
            FastlyParser.parse_line(br#"{"fastly_server":"x","response_status":"5o3"}"#),
            Err(HopLineError::BadStatus)
        );
        assert_eq!(
            FastlyParser.parse_line(b"{\"fastly_server\":\"\xff\",\"response_status\":503}"),
            Err(HopLineError::Mismatch)
        );
    }
}
