//! Google Cloud external Application Load Balancer logs, exported from
//! Cloud Logging as JSON lines (`LogEntry`) → [`HopRecord`]s.
//!
//! Facts, from Google's "External Application Load Balancer logging and
//! monitoring" (log entry fields) and the Cloud Logging `LogEntry` /
//! `HttpRequest` reference: `httpRequest.status` is the status sent to the
//! client (absent when none was sent); `httpRequest.requestMethod`,
//! `requestUrl` (full URL), `remoteIp`, `serverIp` (the backend),
//! `latency` (a Duration string, `"0.123456s"`), `protocol`;
//! `jsonPayload.statusDetails` says why the load balancer returned what it
//! did (`response_sent_by_backend`, `failed_to_connect_to_backend`, …);
//! `timestamp` is RFC 3339; `trace` is `projects/P/traces/ID`, from
//! `X-Cloud-Trace-Context`/`traceparent` (the join key). The Envoy-based
//! regional and internal Application Load Balancers also log
//! `jsonPayload.proxyStatus` (an RFC 9209 error type, set when the load
//! balancer made the error; Google's "Internal Application Load Balancer
//! logging and monitoring"). A line is taken as a load balancer's when it
//! has `httpRequest` and `jsonPayload.statusDetails`, `proxyStatus` or a
//! `…LoadBalancerLogEntry` `@type`.

use super::hop::{HopExample, HopFormat, HopKind, HopLineError, HopParser, HopRecord, Signals};
use super::hop_fields::{
    json_bytes, json_int, json_members, json_object, json_time, split_url, trim_cr,
};

/// `"0.123456s"` → 123 ms.
fn duration_ms(b: &[u8]) -> Option<i64> {
    let b = b.strip_suffix(b"s")?;
    super::scan::parse_secs_ms(b).map(i64::from).or_else(|| {
        // more than 6 fractional digits: keep the first three
        let dot = memchr::memchr(b'.', b)?;
        super::scan::parse_secs_ms(&b[..(dot + 4).min(b.len())]).map(i64::from)
    })
}

/// The Cloud Logging export parser (stateless).
#[derive(Debug, Clone, Copy, Default)]
pub struct GcpLbParser;

impl HopParser for GcpLbParser {
    fn parse_line<'a>(&self, line: &'a [u8]) -> Result<HopRecord<'a>, HopLineError> {
        let line = trim_cr(line);
        let mut rec = HopRecord::default();
        let (mut http, mut payload) = (None, None);
        let ok = json_members(line, &mut |k, v| match k {
            "httpRequest" => http = json_object(v),
            "jsonPayload" => payload = json_object(v),
            "timestamp" => rec.time = json_time(v),
            "trace" => rec.request_id = json_bytes(v),
            _ => {}
        });
        let (Some(http), true) = (http, ok) else {
            return Err(HopLineError::Mismatch);
        };
        let (mut details, mut proxy_status, mut lb_type) = (None, None, false);
        let mut backend_ms = None;
        if let Some(p) = payload {
            json_members(p, &mut |k, v| match k {
                "statusDetails" => details = json_bytes(v),
                "proxyStatus" => proxy_status = json_bytes(v),
                "@type" => {
                    lb_type = json_bytes(v).is_some_and(|t| t.ends_with(b"LoadBalancerLogEntry"))
                }
                "backendLatency" => backend_ms = json_bytes(v).and_then(duration_ms),
                _ => {}
            });
        }
        if details.is_none() && proxy_status.is_none() && !lb_type {
            return Err(HopLineError::Mismatch);
        }
        let mut bad_status = false;
        json_members(http, &mut |k, v| match k {
            "status" => match json_int(v) {
                Some(s @ 0..=999) => rec.status = Some(s as u16),
                _ => bad_status = v.get() != "null",
            },
            "requestMethod" => rec.method = json_bytes(v),
            "requestUrl" => (rec.host, rec.path) = split_url(json_bytes(v).unwrap_or_default()),
            "remoteIp" => rec.client = json_bytes(v),
            "serverIp" => rec.upstream_addr = json_bytes(v),
            "latency" => rec.total_ms = json_bytes(v).and_then(duration_ms),
            "protocol" => rec.protocol = json_bytes(v),
            _ => {}
        });
        if bad_status {
            return Err(HopLineError::BadStatus);
        }
        rec.signals = Signals::Gcp {
            status_details: details,
            proxy_status,
            backend_ms,
        };
        Ok(rec)
    }
}

/// The Google Cloud load balancer format, for detection and the registry.
pub struct GcpLb;

impl HopFormat for GcpLb {
    fn name(&self) -> &'static str {
        "gcp_lb"
    }
    fn hop(&self) -> HopKind {
        HopKind::Lb
    }
    fn detect(&self, head: &[&[u8]]) -> Option<(Box<dyn HopParser>, String)> {
        super::hop::detect_by_parsing(
            head,
            GcpLbParser,
            "are Cloud Logging entries with httpRequest and a load balancer jsonPayload (statusDetails/proxyStatus)",
        )
    }
    fn near_miss(&self, head: &[&[u8]]) -> Option<String> {
        // `gcloud logging read --format=json` writes one pretty-printed array
        let first = head
            .iter()
            .map(|l| l.trim_ascii())
            .find(|l| !l.is_empty())?;
        let entries = head
            .iter()
            .any(|l| memchr::memmem::find(l, b"\"httpRequest\"").is_some());
        ((first == b"[" || first == b"{") && entries).then(|| {
            "looks like Cloud Logging entries pretty-printed over many lines (`gcloud logging read --format=json`); \
             gatecheck reads one entry per line, as log sinks export them: convert with `jq -c '.[]'`"
                .to_string()
        })
    }
}

/// Entries as Cloud Logging exports them and what gatecheck reads.
pub const EXAMPLES: &[HopExample] = &[
    HopExample {
        title: "the backend closed the connection before the response (keep-alive race)",
        line: r#"{"insertId":"1ab2c3d4","jsonPayload":{"@type":"type.googleapis.com/google.cloud.loadbalancing.type.LoadBalancerLogEntry","statusDetails":"backend_connection_closed_before_data_sent_to_client","backendTargetProjectNumber":"projects/123456789"},"httpRequest":{"requestMethod":"GET","requestUrl":"https://www.example.com/api/items?page=2","requestSize":"412","status":502,"responseSize":"332","userAgent":"curl/8.4.0","remoteIp":"198.51.100.7","serverIp":"10.128.0.12","latency":"0.023481s","protocol":"HTTP/1.1"},"resource":{"type":"http_load_balancer","labels":{"backend_service_name":"web-backend","forwarding_rule_name":"web-rule","project_id":"my-project","target_proxy_name":"web-proxy","url_map_name":"web-map","zone":"global"}},"timestamp":"2024-03-12T08:00:00.123456Z","severity":"WARNING","logName":"projects/my-project/logs/requests","trace":"projects/my-project/traces/4bf92f3577b34da6a3ce929d0e0e4736","receiveTimestamp":"2024-03-12T08:00:01.000000Z"}"#,
        status: Some(502),
        cause: "upstream_closed_early",
        evidence: "statusDetails=backend_connection_closed_before_data_sent_to_client",
    },
    HopExample {
        title: "the backend answered 502 itself",
        line: r#"{"jsonPayload":{"@type":"type.googleapis.com/google.cloud.loadbalancing.type.LoadBalancerLogEntry","statusDetails":"response_sent_by_backend"},"httpRequest":{"requestMethod":"POST","requestUrl":"https://api.example.com/v1/pay","status":502,"remoteIp":"198.51.100.8","serverIp":"10.128.0.13","latency":"0.101s"},"timestamp":"2024-03-12T08:00:02Z","trace":"projects/my-project/traces/5bf92f3577b34da6a3ce929d0e0e4737"}"#,
        status: Some(502),
        cause: "passthrough",
        evidence: "statusDetails=response_sent_by_backend",
    },
    HopExample {
        title: "no connection to any backend",
        line: r#"{"jsonPayload":{"statusDetails":"failed_to_connect_to_backend"},"httpRequest":{"requestMethod":"GET","requestUrl":"https://www.example.com/","status":503,"latency":"0.004s"},"timestamp":"2024-03-12T08:00:03Z"}"#,
        status: Some(503),
        // Google: "This includes timeouts during the connection phase"
        cause: "upstream_connect_failed",
        evidence: "statusDetails=failed_to_connect_to_backend",
    },
    HopExample {
        title: "backend service timeout",
        line: r#"{"jsonPayload":{"statusDetails":"backend_timeout"},"httpRequest":{"requestMethod":"GET","requestUrl":"https://www.example.com/report","status":502,"latency":"30.001s"},"timestamp":"2024-03-12T08:00:33Z"}"#,
        status: Some(502),
        cause: "timeout",
        evidence: "statusDetails=backend_timeout",
    },
    HopExample {
        title: "the backend sent its own 502 and closed the connection mid-body",
        line: r#"{"jsonPayload":{"@type":"type.googleapis.com/google.cloud.loadbalancing.type.LoadBalancerLogEntry","statusDetails":"backend_connection_closed_after_partial_response_sent"},"httpRequest":{"requestMethod":"GET","requestUrl":"https://www.example.com/big","status":502,"latency":"1.2s"},"timestamp":"2024-03-12T08:00:34Z"}"#,
        status: Some(502),
        cause: "passthrough",
        evidence: "set by the software on the backend",
    },
    HopExample {
        title: "a Cloud Armor rule denied the request with deny(502): the load balancer's decision",
        line: r#"{"jsonPayload":{"@type":"type.googleapis.com/google.cloud.loadbalancing.type.LoadBalancerLogEntry","statusDetails":"denied_by_security_policy","enforcedSecurityPolicy":{"name":"edge-policy","priority":1000,"configuredAction":"DENY","outcome":"DENY"}},"httpRequest":{"requestMethod":"GET","requestUrl":"https://www.example.com/admin","status":502,"latency":"0.001s"},"timestamp":"2024-03-12T08:00:35Z"}"#,
        status: Some(502),
        cause: "unknown",
        evidence: "Cloud Armor security policy denied",
    },
    HopExample {
        title: "an internal Application Load Balancer: proxyStatus names the error it made",
        line: r#"{"jsonPayload":{"@type":"type.googleapis.com/google.cloud.loadbalancing.type.LoadBalancerLogEntry","proxyStatus":"error=\"connection_refused\"; details=\"upstream_reset_before_response_started{connection_failure}\""},"httpRequest":{"requestMethod":"GET","requestUrl":"http://10.1.2.99/api","status":503,"serverIp":"10.1.3.4","latency":"0.002s"},"resource":{"type":"internal_http_lb_rule"},"timestamp":"2024-03-12T08:00:36Z"}"#,
        status: Some(503),
        cause: "upstream_refused",
        evidence: "the load balancer made the error; the backend refused the connection",
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn examples_parse_and_detect() {
        for ex in EXAMPLES {
            let (p, why) = GcpLb.detect(&[ex.line.as_bytes()]).expect(ex.title);
            assert!(why.contains("1 of 1"), "{why}");
            let r = p.parse_line(ex.line.as_bytes()).unwrap();
            assert_eq!(r.status, ex.status, "{}", ex.title);
            assert!(r.time.is_some());
        }
    }

    #[test]
    fn pretty_printed_export_is_reported() {
        let head: Vec<&[u8]> = vec![
            b"[",
            b"  {",
            b"    \"httpRequest\": {",
            b"      \"status\": 502",
        ];
        assert!(GcpLb.detect(&head).is_none());
        assert!(GcpLb.near_miss(&head).unwrap().contains("jq -c"));
        assert!(GcpLb.near_miss(&[&b"{\"a\":1}"[..]]).is_none());
    }

    #[test]
    fn fields() {
        let r = GcpLbParser.parse_line(EXAMPLES[0].line.as_bytes()).unwrap();
        assert_eq!(r.host, Some(&b"www.example.com"[..]));
        assert_eq!(r.path, Some(&b"/api/items?page=2"[..]));
        assert_eq!(r.total_ms, Some(23));
        assert_eq!(r.upstream_addr, Some(&b"10.128.0.12"[..]));
        assert_eq!(r.time.unwrap().utc_ms % 1000, 123);
        assert_eq!(
            r.request_id,
            Some(&b"projects/my-project/traces/4bf92f3577b34da6a3ce929d0e0e4736"[..])
        );
        assert_eq!(duration_ms(b"0.123456789s"), Some(123));
        assert_eq!(duration_ms(b"2s"), Some(2000));
        assert_eq!(duration_ms(b"2"), None);
    }

    #[test]
    fn missing_extra_crlf_truncated_non_utf8() {
        // a client that left before any response: no status
        let r = GcpLbParser
            .parse_line(br#"{"jsonPayload":{"statusDetails":"client_disconnected_before_any_response"},"httpRequest":{"requestMethod":"GET"}}"#)
            .unwrap();
        assert_eq!(r.status, None);
        let crlf = format!("{}\r", EXAMPLES[1].line);
        assert!(GcpLbParser.parse_line(crlf.as_bytes()).is_ok());
        let l = EXAMPLES[1].line.as_bytes();
        assert_eq!(
            GcpLbParser.parse_line(&l[..l.len() / 2]),
            Err(HopLineError::Mismatch)
        );
        // another service's LogEntry
        assert_eq!(
            GcpLbParser
                .parse_line(br#"{"httpRequest":{"status":200},"jsonPayload":{"message":"hi"}}"#),
            Err(HopLineError::Mismatch)
        );
        assert_eq!(
            GcpLbParser.parse_line(
                br#"{"jsonPayload":{"statusDetails":"x"},"httpRequest":{"status":"abc"}}"#
            ),
            Err(HopLineError::BadStatus)
        );
        assert_eq!(
            GcpLbParser
                .parse_line(b"{\"jsonPayload\":{\"statusDetails\":\"\xff\"},\"httpRequest\":{}}"),
            Err(HopLineError::Mismatch)
        );
    }
}
