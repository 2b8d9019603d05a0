//! CloudFront **standard logging (v2)** in its JSON output (one object per
//! line, as delivered to S3, CloudWatch Logs or Data Firehose) →
//! [`HopRecord`]s. Part of the `cloudfront` format: [`super::cloudfront`]
//! tries it on a file without a `#Fields:` header.
//!
//! Facts, from AWS's CloudFront Developer Guide: "Configure standard logging
//! (v2)" (output formats JSON, plain, W3C, raw and Parquet; the fields of
//! the legacy log plus a subset of the real-time log fields can be chosen)
//! and "Standard logging reference" (the field list, which "applies to both
//! standard logging (v2) and standard logging (legacy)"). The JSON keys are
//! those field names (`date`, `time`, `sc-status`, `x-edge-result-type`,
//! `x-edge-detailed-result-type`, `time-taken`, `origin-fbl`, …); the values
//! are written as strings, `-` for an empty field (a public v2 line in
//! `fixtures/logs/cloudfront/real/SOURCES.md`), and numbers are accepted
//! too. Only the fields the job selected are present, so a line needs
//! `sc-status` and a time: `date` + `time` (UTC, when the edge finished
//! responding), else `timestamp(ms)` / `timestamp` (epoch milliseconds, or
//! seconds with a fraction as in real-time logs).
//!
//! The keys map to columns through [`super::cloudfront`]'s one table, and
//! the values fill the same `Fields` the W3C parser fills.

use super::cloudfront::{col_of, Fields};
use super::hop::{HopLineError, HopParser, HopRecord};
use super::hop_fields::{json_bytes, json_members, json_time, trim_cr};

/// The JSON-lines parser (stateless).
#[derive(Debug, Clone, Copy, Default)]
pub struct CloudFrontJsonParser;

impl HopParser for CloudFrontJsonParser {
    fn parse_line<'a>(&self, line: &'a [u8]) -> Result<HopRecord<'a>, HopLineError> {
        let line = trim_cr(line);
        let mut fields = Fields::default();
        let ok = json_members(line, &mut |k, v| match col_of(k.as_bytes()) {
            Some(col) => fields.put(col, json_bytes(v)),
            None => {
                if k == "timestamp(ms)" || k == "timestamp" {
                    fields.stamp = fields.stamp.or_else(|| json_time(v));
                }
            }
        });
        if !ok {
            return Err(HopLineError::Mismatch);
        }
        fields.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::hop::Signals;

    /// A v2 JSON line as published (fixtures/logs/cloudfront/real/v2_json.log).
    const LINE: &str = r#"{"date":"2026-04-04","time":"12:57:53","x-edge-location":"SFO53-P7","sc-bytes":"1068","c-ip":"8.29.198.27","cs-method":"GET","cs(Host)":"d3bkd4xdlxgkfz.cloudfront.net","cs-uri-stem":"/feed.xml","sc-status":"304","cs(Referer)":"-","cs(User-Agent)":"Feedly/1.0","cs-uri-query":"-","cs(Cookie)":"-","x-edge-result-type":"Hit","x-edge-request-id":"VqkomJQiWUvU0bQu33T0","x-host-header":"post-tenebras-lire.net","cs-protocol":"https","cs-bytes":"336","time-taken":"0.001","x-forwarded-for":"-","ssl-protocol":"TLSv1.3","ssl-cipher":"TLS_AES_128_GCM_SHA256","x-edge-response-result-type":"Hit","cs-protocol-version":"HTTP/1.1","fle-status":"-","fle-encrypted-fields":"-","c-port":"19103","time-to-first-byte":"0.001","x-edge-detailed-result-type":"Hit","sc-content-type":"-","sc-content-len":"-","sc-range-start":"-","sc-range-end":"-","c-country":"US"}"#;

    #[test]
    fn reads_the_fields_by_name() {
        let r = CloudFrontJsonParser.parse_line(LINE.as_bytes()).unwrap();
        assert_eq!(r.status, Some(304));
        assert_eq!(r.host, Some(&b"post-tenebras-lire.net"[..]));
        assert_eq!(r.path, Some(&b"/feed.xml"[..]));
        assert_eq!(r.total_ms, Some(1));
        assert_eq!(r.time.unwrap().utc_ms, 1_775_307_473_000);
        assert!(matches!(
            r.signals,
            Signals::Cdn {
                detailed_result: Some(b"Hit"),
                ..
            }
        ));
    }

    #[test]
    fn numbers_subsets_and_bad_lines() {
        // a subset of fields, numbers, the epoch-ms time
        let r = CloudFrontJsonParser
            .parse_line(br#"{"timestamp(ms)":1775307473123,"sc-status":502,"x-edge-detailed-result-type":"OriginConnectError"}"#)
            .unwrap();
        assert_eq!(
            (r.status, r.time.unwrap().utc_ms),
            (Some(502), 1_775_307_473_123)
        );
        for (line, want) in [
            (
                &br#"{"date":"2026-04-04","time":"12:57:53"}"#[..],
                HopLineError::Mismatch,
            ),
            (
                br#"{"sc-status":"abc","date":"2026-04-04","time":"12:57:53"}"#,
                HopLineError::BadStatus,
            ),
            (br#"{"sc-status":"502"}"#, HopLineError::BadTime),
            (
                br#"{"sc-status":"502","date":"2026-04-04","time":"12:5"#,
                HopLineError::Mismatch,
            ),
            (b"not json", HopLineError::Mismatch),
            (b"{\"sc-status\":\"\xff\"}", HopLineError::Mismatch),
        ] {
            assert_eq!(
                CloudFrontJsonParser.parse_line(line).err(),
                Some(want),
                "{}",
                String::from_utf8_lossy(line)
            );
        }
    }
}
