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

use super::hop::{
    CutPieces, HopExample, HopFormat, HopKind, HopLineError, HopParser, HopRecord, Signals,
};
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

/// `gcloud logging read --format=json` output: one JSON array that gcloud's
/// json printer writes with two-space indentation, so each entry runs from
/// a line `  {` to a line `  }` or `  },` (deeper lines are indented more,
/// and a JSON string never holds a raw line end). Read by joining each
/// entry's lines onto its first line and leaving the others blank
/// ([`join_entries`]): line numbers still point at the file, and each entry
/// is read by [`GcpLbParser`]. gatecheck reads files in chunks of whole
/// lines; an entry a chunk border cuts is handed over in two pieces
/// ([`HopParser::cut_pieces`]), which the hop pass joins and reads whole.
/// The layout is gcloud's JsonPrinter's
/// (`googlecloudsdk/core/resource/json_printer.py`: `[`, each record
/// `json.dumps(indent=2, sort_keys=True)` indented by two more spaces, `,`
/// between records, `]`).
#[derive(Debug, Clone, Copy, Default)]
pub struct GcpLbArrayParser;

impl HopParser for GcpLbArrayParser {
    fn parse_line<'a>(&self, line: &'a [u8]) -> Result<HopRecord<'a>, HopLineError> {
        GcpLbParser.parse_line(line)
    }

    fn decode_chunk<'c>(&self, chunk: &'c [u8]) -> std::borrow::Cow<'c, [u8]> {
        std::borrow::Cow::Owned(join_entries(chunk).0)
    }

    fn cut_pieces(&self, chunk: &[u8]) -> Option<CutPieces> {
        Some(join_entries(chunk).1)
    }
}

/// The lines of a pretty-printed array (whole lines of it), each entry
/// joined onto its first line without its indentation (and without the
/// `,` after it), its other lines blank, the array's brackets blank; and
/// the pieces of the entries the chunk's borders cut, left blank here
/// ([`CutPieces`]: the lines before the first entry's `  {`, and an entry
/// the chunk ends in). As many lines out as in.
pub fn join_entries(chunk: &[u8]) -> (Vec<u8>, CutPieces) {
    let mut out = Vec::with_capacity(chunk.len());
    let mut cut = CutPieces::default();
    // the entry being joined: its line in the chunk, text, lines
    let mut entry: Option<(u64, Vec<u8>, usize)> = None;
    // still before the chunk's first entry: lines there are the head piece
    let mut before_first = true;
    let mut no = 0u64;
    for line in super::lines(chunk) {
        no += 1;
        let l = trim_cr(line);
        let t = l.trim_ascii();
        let starts = l.starts_with(b"  {") && !l.starts_with(b"   ");
        let ends = matches!(l, b"  }" | b"  },");
        if starts {
            before_first = false;
            if let Some((_, text, n)) = entry.take() {
                // an entry without its end: left as it is, to be reported
                out.extend_from_slice(&text);
                out.resize(out.len() + n, b'\n');
            }
            entry = Some((no, Vec::new(), 0));
        }
        match &mut entry {
            Some((_, text, n)) => {
                text.extend_from_slice(t);
                *n += 1;
                if ends {
                    if text.last() == Some(&b',') {
                        text.pop();
                    }
                    out.extend_from_slice(text);
                    out.resize(out.len() + *n, b'\n');
                    entry = None;
                }
            }
            None => {
                if before_first && !matches!(t, b"" | b"[" | b"]" | b"[]") {
                    cut.head.extend_from_slice(t);
                    if ends {
                        if cut.head.last() == Some(&b',') {
                            cut.head.pop();
                        }
                        before_first = false;
                    }
                }
                out.push(b'\n');
            }
        }
    }
    if let Some((at, text, n)) = entry {
        cut.tail = Some((at, text));
        out.resize(out.len() + n, b'\n');
    }
    if !chunk.is_empty() && !chunk.ends_with(b"\n") && out.last() == Some(&b'\n') {
        // the last line has no line end: nor has its decoded form, which
        // stays a line (a blank one is a space)
        out.pop();
        if out.is_empty() || out.last() == Some(&b'\n') {
            out.push(b' ');
        }
    }
    (out, cut)
}

/// Whether `head` starts like `gcloud logging read --format=json` output
/// holding load balancer entries: `[`, then an entry line `  {`, and the
/// entry's `"httpRequest": {` and a load balancer member (`statusDetails`,
/// `proxyStatus` or the `LoadBalancerLogEntry` `@type`) among the lines.
fn pretty_array(head: &[&[u8]]) -> bool {
    let mut lines = head
        .iter()
        .map(|l| trim_cr(l))
        .filter(|l| !l.trim_ascii().is_empty());
    let (Some(b"["), Some(b"  {")) = (lines.next(), lines.next()) else {
        return false;
    };
    let has = |w: &[u8]| head.iter().any(|l| memchr::memmem::find(l, w).is_some());
    has(b"\"httpRequest\": {")
        && (has(b"\"statusDetails\": \"")
            || has(b"\"proxyStatus\": \"")
            || has(b"LoadBalancerLogEntry\""))
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
        if pretty_array(head) {
            return Some((
                Box::new(GcpLbArrayParser),
                "a pretty-printed JSON array of Cloud Logging load balancer entries \
                 (gcloud logging read --format=json): read entry by entry"
                    .to_string(),
            ));
        }
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
            "looks like Cloud Logging entries pretty-printed over many lines, but not in the layout of \
             `gcloud logging read --format=json` (a `[` line, then entries from `  {` to `  }` with two-space \
             indentation, and a load balancer jsonPayload): convert to one entry per line with `jq -c '.[]'`"
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
        cause: "config_return",
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

    /// A file as gcloud's JsonPrinter writes it: `[`, each entry indented
    /// by two spaces, `,` between entries, `]`.
    fn gcloud_json(entries: &[&str]) -> String {
        let mut out = String::from("[\n");
        for (i, e) in entries.iter().enumerate() {
            let v: serde_json::Value = serde_json::from_str(e).unwrap();
            let pretty = serde_json::to_string_pretty(&v).unwrap();
            if i > 0 {
                out.push_str(",\n");
            }
            let lines: Vec<String> = pretty.lines().map(|l| format!("  {l}")).collect();
            out.push_str(&lines.join("\n"));
        }
        out.push_str("\n]\n");
        out
    }

    #[test]
    fn gcloud_pretty_array_is_read_entry_by_entry() {
        let text = gcloud_json(&[EXAMPLES[0].line, EXAMPLES[1].line, EXAMPLES[3].line]);
        let head: Vec<&[u8]> = text.lines().map(str::as_bytes).take(50).collect();
        let (p, why) = GcpLb.detect(&head).expect("detected");
        assert!(why.contains("gcloud logging read"), "{why}");
        let decoded = p.decode_chunk(text.as_bytes());
        // as many lines as the file, each entry on its `  {` line
        assert_eq!(super::super::lines(&decoded).count(), text.lines().count());
        let got: Vec<(usize, Option<u16>)> = super::super::lines(&decoded)
            .enumerate()
            .filter(|(_, l)| !l.is_empty())
            .map(|(i, l)| (i + 1, p.parse_line(l).unwrap().status))
            .collect();
        let starts: Vec<usize> = text
            .lines()
            .enumerate()
            .filter(|(_, l)| *l == "  {")
            .map(|(i, _)| i + 1)
            .collect();
        assert_eq!(
            got,
            vec![
                (starts[0], Some(502)),
                (starts[1], Some(502)),
                (starts[2], Some(502))
            ]
        );
        // chunks cut anywhere: each chunk reads its whole entries, and the
        // pieces the border cuts, joined, are the entry it cut
        let lines: Vec<&str> = text.lines().collect();
        for at in 1..lines.len() {
            let a = lines[..at].join("\n") + "\n";
            let b = lines[at..].join("\n") + "\n";
            let (da, ca) = join_entries(a.as_bytes());
            let (db, cb) = join_entries(b.as_bytes());
            assert_eq!(super::super::lines(&da).count(), at);
            let whole = |d: &[u8]| {
                super::super::lines(d)
                    .filter(|l| !l.trim_ascii().is_empty())
                    .inspect(|l| assert!(p.parse_line(l).is_ok()))
                    .count()
            };
            let mut n = whole(&da) + whole(&db);
            match (ca.tail, cb.head.is_empty()) {
                (Some((line, mut t)), false) => {
                    let first = starts.iter().rev().find(|s| **s <= at).copied();
                    assert_eq!(Some(line as usize), first, "cut at {at}");
                    t.extend_from_slice(&cb.head);
                    assert_eq!(p.parse_line(&t).unwrap().status, Some(502), "cut at {at}");
                    n += 1;
                }
                (None, true) => {}
                (t, _) => panic!("cut at {at}: {t:?} {:?}", String::from_utf8_lossy(&cb.head)),
            }
            assert_eq!(n, 3, "cut at {at}");
        }
        // an empty list, CRLF, no final line end
        assert_eq!(join_entries(b"[]\n").0, b"\n");
        let crlf = text.replace('\n', "\r\n");
        let d = p.decode_chunk(crlf.trim_end().as_bytes());
        assert_eq!(super::super::lines(&d).count(), text.lines().count());
        assert_eq!(
            super::super::lines(&d)
                .filter(|l| p.parse_line(l).is_ok())
                .count(),
            3
        );
        // arrays of other entries are not claimed
        let other = "[\n  {\n    \"httpRequest\": {\n      \"status\": 200\n    },\n    \"jsonPayload\": {\n      \"message\": \"hi\"\n    }\n  }\n]\n";
        let head: Vec<&[u8]> = other.lines().map(str::as_bytes).collect();
        assert!(GcpLb.detect(&head).is_none());
        assert!(GcpLb.near_miss(&head).unwrap().contains("jq -c"));
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
