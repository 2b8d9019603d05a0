//! Amazon CloudFront standard (access) logs → [`HopRecord`]s, driven by the
//! file's `#Fields:` header: columns are found by name, so reordered or
//! added fields parse, and a file whose `#Fields` line is missing is
//! reported ([`HopFormat::near_miss`]), never read in a guessed order.
//!
//! Facts, from AWS's "Standard logging reference" (CloudFront Developer
//! Guide, `AccessLogs.md` / `standard-logs-reference`):
//! - two header lines `#Version: 1.0` and `#Fields: date time …`; one request
//!   per line, fields separated by tabs; `-` for an empty field;
//! - `date` + `time` are UTC and mark when the edge **finished** responding;
//! - values are URL-encoded (space → `%20`, `"` → `%22` …), so a field never
//!   holds a tab; gatecheck keeps them encoded (`cs-uri-stem` included);
//! - `sc-status` `000`: the viewer closed the connection before a response;
//! - `time-taken` and `time-to-first-byte` are seconds with ms precision;
//! - `x-edge-result-type` (`Hit`, `RefreshHit`, `OriginShieldHit`, `Miss`,
//!   `LimitExceeded`, `CapacityExceeded`, `Error`, `Redirect`) and, when it
//!   is `Error`, `x-edge-detailed-result-type` names the error
//!   (`OriginConnectError`, `OriginDnsError`, `OriginReadError`, …);
//! - `x-edge-request-id` is also sent as the `x-amz-cf-id` header (the
//!   origin receives it as `X-Amz-Cf-Id`): the join key across hops;
//! - newer files append fields (`origin-fbl`, `origin-lbl`, `asn`, …);
//! - standard logging (v2) writes the same fields, chosen per delivery, as
//!   JSON lines ([`super::cloudfront_json`], tried on a file without a
//!   `#Fields:` line), or as W3C with a `#Fields:` header and a delivery's
//!   field delimiter (CloudWatch Logs `CreateDelivery`, `fieldDelimiter`):
//!   tab or space are read, a space only when no sampled line has the
//!   declared columns at tabs and every one has them at spaces (values are
//!   URL-encoded, so neither occurs inside one);
//! - real-time logs (Kinesis Data Streams) are tab-separated records
//!   without any header, their fields in the order of the real-time log
//!   configuration: the file cannot say which column is which, so they are
//!   reported as not read ([`HopFormat::near_miss`]), never guessed.

use super::hop::{
    HopExample, HopFormat, HopKind, HopLineError, HopParser, HopRecord, HopSummary, Signals,
    SummaryCache,
};
use super::hop_fields::{dash, secs_to_ms, split_fields, trim_cr};
use super::scan::{self, days_from_civil, parse_status, parse_u64, LogTime};

/// The columns gatecheck reads, by their `#Fields` name (the same names
/// key standard logging v2's JSON output, [`super::cloudfront_json`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Col {
    Date,
    Time,
    ClientIp,
    Method,
    Host,
    Stem,
    Status,
    EdgeResult,
    EdgeResponseResult,
    DetailedResult,
    RequestId,
    HostHeader,
    Protocol,
    TimeTaken,
    OriginFbl,
}

/// Each field name gatecheck reads → its column: the one table both the
/// W3C (`#Fields:`) and the JSON parser look names up in.
const COLS: &[(&str, Col)] = &[
    ("date", Col::Date),
    ("time", Col::Time),
    ("c-ip", Col::ClientIp),
    ("cs-method", Col::Method),
    ("cs(Host)", Col::Host),
    ("cs-uri-stem", Col::Stem),
    ("sc-status", Col::Status),
    ("x-edge-result-type", Col::EdgeResult),
    ("x-edge-response-result-type", Col::EdgeResponseResult),
    ("x-edge-detailed-result-type", Col::DetailedResult),
    ("x-edge-request-id", Col::RequestId),
    ("x-host-header", Col::HostHeader),
    ("cs-protocol-version", Col::Protocol),
    ("time-taken", Col::TimeTaken),
    ("origin-fbl", Col::OriginFbl),
];

/// The column a field name holds, if gatecheck reads it.
#[inline]
pub(super) fn col_of(name: &[u8]) -> Option<Col> {
    COLS.iter().find(|(n, _)| n.as_bytes() == name).map(|x| x.1)
}

/// What one line's fields say, filled column by column ([`Fields::put`])
/// by the W3C and the JSON parser alike, then made a record
/// ([`Fields::finish`]).
#[derive(Default)]
pub(super) struct Fields<'a> {
    rec: HopRecord<'a>,
    date: Option<&'a [u8]>,
    time: Option<&'a [u8]>,
    /// The time of a line without `date` + `time` (v2 JSON `timestamp(ms)`).
    pub(super) stamp: Option<LogTime>,
    /// `sc-status`: `None` when the line has no such field at all,
    /// `Some(None)` when its value is empty.
    status: Option<Option<&'a [u8]>>,
    edge: Option<&'a [u8]>,
    edge_resp: Option<&'a [u8]>,
    detailed: Option<&'a [u8]>,
    fbl: Option<i64>,
    host_header: Option<&'a [u8]>,
}

impl<'a> Fields<'a> {
    /// The value of column `col` (`None`: empty, `-`).
    #[inline]
    pub(super) fn put(&mut self, col: Col, v: Option<&'a [u8]>) {
        let rec = &mut self.rec;
        match col {
            Col::Date => self.date = v,
            Col::Time => self.time = v,
            Col::ClientIp => rec.client = v,
            Col::Method => rec.method = v,
            Col::Host => rec.host = v,
            Col::HostHeader => self.host_header = v,
            Col::Stem => rec.path = v,
            Col::Status => self.status = Some(v),
            Col::EdgeResult => self.edge = v,
            Col::EdgeResponseResult => self.edge_resp = v,
            Col::DetailedResult => self.detailed = v,
            Col::RequestId => rec.request_id = v,
            Col::Protocol => rec.protocol = v,
            Col::TimeTaken => rec.total_ms = v.and_then(secs_to_ms),
            Col::OriginFbl => self.fbl = v.and_then(secs_to_ms),
        }
    }

    /// The record: status and time checked (no `sc-status` field at all:
    /// not a CloudFront line), the viewer's Host header preferred to the
    /// distribution's name, the CDN signals.
    pub(super) fn finish(self) -> Result<HopRecord<'a>, HopLineError> {
        let mut rec = self.rec;
        let status = self.status.ok_or(HopLineError::Mismatch)?;
        rec.status = Some(
            status
                .and_then(parse_status)
                .ok_or(HopLineError::BadStatus)?,
        );
        rec.time = Some(
            match (self.date, self.time) {
                (Some(d), Some(t)) => date_time(d, t),
                _ => self.stamp,
            }
            .ok_or(HopLineError::BadTime)?,
        );
        // The viewer's Host header names the site; cs(Host) is the distribution.
        if self.host_header.is_some() {
            rec.host = self.host_header;
        }
        rec.signals = Signals::Cdn {
            edge_result: self.edge.or(self.edge_resp),
            detailed_result: self.detailed,
            origin_status: None,
            origin_header_ms: self.fbl,
        };
        Ok(rec)
    }
}

/// The most columns a line may have that gatecheck looks at.
const MAX_COLS: usize = 96;

/// A parser for one file: the column of each field, from its `#Fields` line.
#[derive(Debug, Clone)]
pub struct CloudFrontParser {
    /// `cols[i]`: what column `i` holds, if gatecheck reads it.
    cols: Vec<Option<Col>>,
    /// The `#Fields:` line it was built from (to tell a changed header).
    fields_line: Vec<u8>,
    /// Columns a line must have: every field the header declares.
    declared: usize,
    /// The columns of `date`, `time` and `sc-status` (the last of each
    /// name, as `parse_line` reads them), for the summary path.
    date_time_status: [usize; 3],
    /// The field delimiter: a tab (legacy, W3C by default) or a space.
    sep: u8,
}

/// Why a `#Fields:` line cannot drive the parser.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldsError {
    /// Not a `#Fields:` line.
    #[error("not a #Fields: line")]
    NotFields,
    /// A field gatecheck needs is not declared.
    #[error("the #Fields line declares no `{0}` field")]
    Missing(&'static str),
    /// More fields than gatecheck reads.
    #[error("the #Fields line declares {0} fields, more than the {MAX_COLS} gatecheck reads")]
    TooMany(usize),
}

impl CloudFrontParser {
    /// Build from a `#Fields: date time …` line.
    pub fn from_fields_line(line: &[u8]) -> Result<Self, FieldsError> {
        let line = trim_cr(line);
        let rest = line
            .strip_prefix(b"#Fields:")
            .ok_or(FieldsError::NotFields)?;
        let names: Vec<&[u8]> = rest
            .split(|c| c.is_ascii_whitespace())
            .filter(|n| !n.is_empty())
            .collect();
        if names.len() > MAX_COLS {
            return Err(FieldsError::TooMany(names.len()));
        }
        let cols: Vec<Option<Col>> = names.iter().map(|n| col_of(n)).collect();
        for (name, need) in [
            ("sc-status", Col::Status),
            ("date", Col::Date),
            ("time", Col::Time),
        ] {
            if !cols.contains(&Some(need)) {
                return Err(FieldsError::Missing(name));
            }
        }
        let last = |c: Col| cols.iter().rposition(|x| *x == Some(c)).unwrap_or(0);
        Ok(CloudFrontParser {
            date_time_status: [last(Col::Date), last(Col::Time), last(Col::Status)],
            declared: cols.len(),
            cols,
            fields_line: line.to_vec(),
            sep: b'\t',
        })
    }
}

/// `2019-12-04` + `21:02:31` (UTC).
pub(super) fn date_time(d: &[u8], t: &[u8]) -> Option<LogTime> {
    if d.len() != 10 || d[4] != b'-' || d[7] != b'-' || t.len() != 8 || t[2] != b':' || t[5] != b':'
    {
        return None;
    }
    let y = parse_u64(&d[..4])? as i64;
    let m = parse_u64(&d[5..7])? as u32;
    let day = parse_u64(&d[8..])? as u32;
    let h = parse_u64(&t[..2])?;
    let mi = parse_u64(&t[3..5])?;
    let s = parse_u64(&t[6..])?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let secs = days_from_civil(y, m, day) * 86400 + (h * 3600 + mi * 60 + s) as i64;
    Some(LogTime {
        utc_ms: secs * 1000,
        offset_s: 0,
    })
}

impl HopParser for CloudFrontParser {
    fn parse_line<'a>(&self, line: &'a [u8]) -> Result<HopRecord<'a>, HopLineError> {
        let line = trim_cr(line);
        if line.first() == Some(&b'#') {
            if line.starts_with(b"#Fields:") && line != self.fields_line.as_slice() {
                return Err(HopLineError::HeaderChanged);
            }
            return Err(HopLineError::NotARequest);
        }
        let mut f: [&[u8]; MAX_COLS] = [&[]; MAX_COLS];
        if split_fields(line, self.sep, &mut f) < self.declared {
            return Err(HopLineError::Mismatch);
        }
        let mut fields = Fields::default();
        for (v, col) in f.iter().zip(&self.cols) {
            let Some(col) = *col else { continue };
            // date, time and status are checked as written (`-` is a bad
            // value there, not an absent one); an empty duration is absent,
            // as in the JSON output (it read as 0 ms)
            let v = match col {
                Col::Date | Col::Time | Col::Status => Some(*v),
                _ => dash(v),
            };
            fields.put(col, v);
        }
        fields.finish()
    }

    /// The hot path: for a non-5xx line, only the column count, status and
    /// time, as `parse_line` checks them (no other column can make it fail);
    /// the tabs before the last of the three columns are located in one
    /// pass, the rest only counted, and the date read once per second.
    /// Anything else (a header, a 5xx, a line it would refuse) takes the
    /// full parse, whose record comes along.
    fn parse_summary<'a>(
        &self,
        line: &'a [u8],
        cache: &mut SummaryCache,
    ) -> Result<HopSummary<'a>, HopLineError> {
        match self.summary(trim_cr(line), cache) {
            Some((time, status)) => Ok(HopSummary {
                time: Some(time),
                status: Some(status),
                record: None,
            }),
            None => self.parse_line(line).map(HopSummary::of),
        }
    }
}

impl CloudFrontParser {
    fn summary(&self, line: &[u8], cache: &mut SummaryCache) -> Option<(LogTime, u16)> {
        if line.first() == Some(&b'#') {
            return None;
        }
        let [d, t, st] = self.date_time_status;
        let need = d.max(t).max(st) + 1;
        let mut tabs = [0usize; MAX_COLS];
        if scan::find_each(line, self.sep, &mut tabs[..need]) < need {
            return None;
        }
        // fields = tabs + 1, as `split_fields` counts them
        let more = scan::count_byte(&line[tabs[need - 1] + 1..], self.sep);
        if need + more + 1 < self.declared {
            return None;
        }
        let field = |i: usize| &line[if i == 0 { 0 } else { tabs[i - 1] + 1 }..tabs[i]];
        let status = parse_status(field(st))?;
        if status >= 500 {
            return None;
        }
        let (date, time) = (field(d), field(t));
        if date.len() != 10 || time.len() != 8 {
            return None;
        }
        let mut key = [0u8; 20];
        key[..10].copy_from_slice(date);
        key[10..18].copy_from_slice(time);
        let utc_ms = match cache.last_second {
            Some((k, v)) if k == key => v,
            _ => {
                let v = date_time(date, time)?.utc_ms;
                cache.last_second = Some((key, v));
                v
            }
        };
        Some((
            LogTime {
                utc_ms,
                offset_s: 0,
            },
            status,
        ))
    }
}

/// The CloudFront standard-log format, for detection and the registry.
pub struct CloudFront;

impl CloudFront {
    /// The `#Fields:` line of `head`, if any.
    fn fields_line<'a>(head: &[&'a [u8]]) -> Option<(usize, &'a [u8])> {
        head.iter()
            .enumerate()
            .find(|(_, l)| l.starts_with(b"#Fields:"))
            .map(|(i, l)| (i, *l))
    }
}

impl HopFormat for CloudFront {
    fn name(&self) -> &'static str {
        "cloudfront"
    }
    fn hop(&self) -> HopKind {
        HopKind::Cdn
    }
    fn detect(&self, head: &[&[u8]]) -> Option<(Box<dyn HopParser>, String)> {
        let Some((i, fields)) = Self::fields_line(head) else {
            // standard logging (v2), JSON output
            return super::hop::detect_by_parsing(
                head,
                super::cloudfront_json::CloudFrontJsonParser,
                "are JSON objects with CloudFront's field names (sc-status, date/time; standard logging v2 JSON output)",
            );
        };
        let mut parser = CloudFrontParser::from_fields_line(fields).ok()?;
        let data: Vec<&[u8]> = head[i + 1..]
            .iter()
            .copied()
            .filter(|l| !l.is_empty() && l[0] != b'#')
            .collect();
        // the delimiter: a tab (legacy), or a space (a W3C delivery's
        // choice) when no sampled line has the declared columns split at
        // tabs and every one has them split at spaces (a line may carry
        // more columns than declared, as the tab-separated path allows)
        let fits = |sep: u8| {
            data.iter().all(|l| {
                let l = trim_cr(l);
                memchr::memchr_iter(sep, l).count() + 1 >= parser.declared
            })
        };
        let no_tabs = data
            .iter()
            .all(|l| memchr::memchr_iter(b'\t', trim_cr(l)).count() + 1 < parser.declared);
        if !data.is_empty() && no_tabs && fits(b' ') {
            parser.sep = b' ';
        }
        let ok = data.iter().filter(|l| parser.parse_line(l).is_ok()).count();
        // A header with no data line yet is still CloudFront's.
        if !data.is_empty() && ok * 10 < data.len() * 8 {
            return None;
        }
        let reason = format!(
            "line {} is a CloudFront #Fields: header ({} fields{}) and {ok} of {} sampled lines after it parse by it",
            i + 1,
            parser.declared,
            if parser.sep == b' ' { ", space-separated" } else { "" },
            data.len()
        );
        Some((Box::new(parser), reason))
    }
    fn near_miss(&self, head: &[&[u8]]) -> Option<String> {
        if let Some((i, fields)) = Self::fields_line(head) {
            return match CloudFrontParser::from_fields_line(fields) {
                Ok(_) => None,
                Err(e) => Some(format!("line {}: CloudFront #Fields: header: {e}", i + 1)),
            };
        }
        // tab-separated lines starting with a date, as CloudFront writes them
        let looks = head.iter().filter(|l| !l.is_empty()).take(5).all(|l| {
            l.len() > 11
                && l[4] == b'-'
                && l[7] == b'-'
                && l[10] == b'\t'
                && memchr::memchr_iter(b'\t', l).count() >= 8
        });
        let has_data = head.iter().any(|l| !l.is_empty());
        if has_data && !looks && real_time(head) {
            return Some(
                "looks like CloudFront real-time log records (tab-separated, a Unix time with \
                 milliseconds first): they carry no header and their fields are in the order of \
                 the real-time log configuration, which the file does not say, so they are not read \
                 (a column is not guessed from its values)"
                    .to_string(),
            );
        }
        (looks && has_data).then(|| {
            "looks like a CloudFront standard log (tab-separated, a date first) but has no #Fields: \
             header line, so the column order is unknown; put the file's #Version/#Fields lines back \
             (or concatenate it after the first file of the same distribution)"
                .to_string()
        })
    }
}

/// Whether the first lines look like CloudFront real-time log records as
/// AWS documents them ("Real-time logs", fields separated by tabs, the
/// `timestamp` field first when chosen first: `1607733474.226`, seconds
/// with milliseconds) and carry many fields.
fn real_time(head: &[&[u8]]) -> bool {
    let lines: Vec<&[u8]> = head
        .iter()
        .copied()
        .filter(|l| !l.is_empty())
        .take(5)
        .collect();
    !lines.is_empty()
        && lines.iter().all(|l| {
            let first = l.split(|&c| c == b'\t').next().unwrap_or_default();
            first.len() == 14
                && first[10] == b'.'
                && first[..10].iter().all(u8::is_ascii_digit)
                && first[11..].iter().all(u8::is_ascii_digit)
                && memchr::memchr_iter(b'\t', l).count() >= 4
        })
}

/// The `#Fields:` line of the 33 legacy fields (the AWS doc's example).
pub const LEGACY_FIELDS: &str = "#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header cs-protocol cs-bytes time-taken x-forwarded-for ssl-protocol ssl-cipher x-edge-response-result-type cs-protocol-version fle-status fle-encrypted-fields c-port time-to-first-byte x-edge-detailed-result-type sc-content-type sc-content-len sc-range-start sc-range-end";

/// Documented lines (under [`LEGACY_FIELDS`]) and what gatecheck reads.
pub const EXAMPLES: &[HopExample] = &[
    HopExample {
        title: "502, origin DNS name not resolved (the AWS doc's own example line)",
        line: "2019-12-13\t22:36:27\tSEA19-C1\t900\t192.0.2.200\tGET\td111111abcdef8.cloudfront.net\t/favicon.ico\t502\thttp://www.example.com/\tMozilla/5.0%20(Windows%20NT%2010.0;%20Win64;%20x64)\t-\t-\tError\t1pkpNfBQ39sYMnjjUQjmH2w1wdJnbHYTbag21o_3OfcQgPzdL2RSSQ==\twww.example.com\thttp\t675\t0.102\t-\t-\t-\tError\tHTTP/1.1\t-\t-\t25260\t0.102\tOriginDnsError\ttext/html\t507\t-\t-",
        status: Some(502),
        cause: "dns",
        evidence: "x-edge-detailed-result-type=OriginDnsError",
    },
    HopExample {
        title: "502, could not connect to the origin",
        line: "2024-03-12\t08:10:00\tFRA56-P1\t951\t198.51.100.7\tGET\td1a2b3c4d5e6f7.cloudfront.net\t/api/orders\t502\t-\tcurl/8.4.0\t-\t-\tError\tq8cJ3ZkMJaX2j7fV2kAqVQbq0d5Yw1r9c5l6m1n2o3p4q5r6s7t8uQ==\tapi.example.com\thttps\t320\t0.045\t-\tTLSv1.3\tTLS_AES_128_GCM_SHA256\tError\tHTTP/2.0\t-\t-\t443\t0.045\tOriginConnectError\ttext/html\t915\t-\t-",
        status: Some(502),
        cause: "upstream_refused",
        evidence: "OriginConnectError",
    },
    HopExample {
        title: "504, origin read timeout",
        line: "2024-03-12\t08:10:31\tFRA56-P1\t1033\t198.51.100.7\tGET\td1a2b3c4d5e6f7.cloudfront.net\t/report\t504\t-\tcurl/8.4.0\ta=1\t-\tError\tzz8cJ3ZkMJaX2j7fV2kAqVQbq0d5Yw1r9c5l6m1n2o3p4q5r6s7t8u==\twww.example.com\thttps\t310\t30.012\t-\tTLSv1.3\tTLS_AES_128_GCM_SHA256\tError\tHTTP/1.1\t-\t-\t50000\t30.000\tOriginReadError\ttext/html\t915\t-\t-",
        status: Some(504),
        cause: "timeout",
        evidence: "sc-status=504",
    },
    HopExample {
        title: "502, the origin timed out (OriginCommError: connecting or reading)",
        line: "2024-03-12\t08:10:41\tFRA56-P1\t951\t198.51.100.7\tGET\td1a2b3c4d5e6f7.cloudfront.net\t/api/slow\t502\t-\tcurl/8.4.0\t-\t-\tError\tc0mmErr0rJaX2j7fV2kAqVQbq0d5Yw1r9c5l6m1n2o3p4q5r6s7t8==\tapi.example.com\thttps\t320\t10.045\t-\tTLSv1.3\tTLS_AES_128_GCM_SHA256\tError\tHTTP/2.0\t-\t-\t443\t10.045\tOriginCommError\ttext/html\t915\t-\t-",
        status: Some(502),
        cause: "timeout",
        evidence: "timed out while connecting to the origin or reading",
    },
    HopExample {
        title: "502 made at the edge by a Lambda@Edge function (LambdaValidationError), not the origin",
        line: "2024-03-12\t08:10:51\tFRA56-P1\t951\t198.51.100.7\tGET\td1a2b3c4d5e6f7.cloudfront.net\t/\t502\t-\tcurl/8.4.0\t-\t-\tLambdaValidationError\tl4mbd4V4lJaX2j7fV2kAqVQbq0d5Yw1r9c5l6m1n2o3p4q5r6s7t8==\twww.example.com\thttps\t320\t0.021\t-\tTLSv1.3\tTLS_AES_128_GCM_SHA256\tLambdaValidationError\tHTTP/2.0\t-\t-\t443\t0.021\tLambdaValidationError\ttext/html\t915\t-\t-",
        status: Some(502),
        cause: "unknown",
        evidence: "not by the origin",
    },
    HopExample {
        title: "200 from cache",
        line: "2019-12-04\t21:02:31\tLAX1\t392\t192.0.2.100\tGET\td111111abcdef8.cloudfront.net\t/index.html\t200\t-\tMozilla/5.0\t-\t-\tHit\tSOX4xwn4XV6Q4rgb7XiVGOHms_BGlTAC4KyHmureZmBNrjGdRLiNIQ==\td111111abcdef8.cloudfront.net\thttps\t23\t0.001\t-\tTLSv1.2\tECDHE-RSA-AES128-GCM-SHA256\tHit\tHTTP/2.0\t-\t-\t11040\t0.001\tHit\ttext/html\t78\t-\t-",
        status: Some(200),
        cause: "passthrough",
        evidence: "x-edge-result-type=Hit",
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    fn legacy() -> CloudFrontParser {
        CloudFrontParser::from_fields_line(LEGACY_FIELDS.as_bytes()).unwrap()
    }

    fn head_of(text: &str) -> Vec<&[u8]> {
        text.lines().map(str::as_bytes).collect()
    }

    #[test]
    fn an_empty_duration_is_absent_not_zero() {
        let p = CloudFrontParser::from_fields_line(
            b"#Fields: date time sc-status time-taken origin-fbl",
        )
        .unwrap();
        let r = p.parse_line(b"2024-03-12\t08:00:02\t504\t\t").unwrap();
        assert_eq!(r.total_ms, None);
        assert!(matches!(
            r.signals,
            Signals::Cdn {
                origin_header_ms: None,
                ..
            }
        ));
        let r = p
            .parse_line(b"2024-03-12\t08:00:02\t504\t30.004\t0.000")
            .unwrap();
        assert_eq!(r.total_ms, Some(30_004));
        assert!(matches!(
            r.signals,
            Signals::Cdn {
                origin_header_ms: Some(0),
                ..
            }
        ));
    }

    #[test]
    fn examples_parse() {
        for ex in EXAMPLES {
            let text = format!("#Version: 1.0\n{LEGACY_FIELDS}\n{}\n", ex.line);
            let (p, why) = CloudFront.detect(&head_of(&text)).expect(ex.title);
            assert!(why.contains("1 of 1"), "{why}");
            let r = p.parse_line(ex.line.as_bytes()).expect(ex.title);
            assert_eq!(r.status, ex.status, "{}", ex.title);
        }
    }

    #[test]
    fn fields_of_the_doc_example() {
        let r = legacy().parse_line(EXAMPLES[0].line.as_bytes()).unwrap();
        assert_eq!(r.host, Some(&b"www.example.com"[..]));
        assert_eq!(r.path, Some(&b"/favicon.ico"[..]));
        assert_eq!(r.client, Some(&b"192.0.2.200"[..]));
        assert_eq!(r.total_ms, Some(102));
        assert_eq!(r.protocol, Some(&b"HTTP/1.1"[..]));
        assert_eq!(r.request_id.map(|b| b.len()), Some(56));
        // 2019-12-13T22:36:27Z
        assert_eq!(r.time.unwrap().utc_ms, 1_576_276_587_000);
        assert!(matches!(
            r.signals,
            Signals::Cdn {
                edge_result: Some(b"Error"),
                detailed_result: Some(b"OriginDnsError"),
                ..
            }
        ));
    }

    #[test]
    fn reordered_and_added_fields() {
        let p = CloudFrontParser::from_fields_line(
            b"#Fields: sc-status x-edge-detailed-result-type date time origin-fbl asn cs-uri-stem",
        )
        .unwrap();
        let r = p
            .parse_line(b"502\tOriginConnectError\t2024-03-12\t08:00:00\t0.250\t16509\t/x")
            .unwrap();
        assert_eq!(r.status, Some(502));
        assert_eq!(r.path, Some(&b"/x"[..]));
        assert!(matches!(
            r.signals,
            Signals::Cdn {
                origin_header_ms: Some(250),
                ..
            }
        ));
        assert_eq!(
            CloudFrontParser::from_fields_line(b"#Fields: date time cs-uri-stem").unwrap_err(),
            FieldsError::Missing("sc-status")
        );
    }

    #[test]
    fn dash_crlf_truncated_non_utf8() {
        let p = legacy();
        let line = EXAMPLES[0].line;
        let crlf = format!("{line}\r");
        assert_eq!(p.parse_line(crlf.as_bytes()).unwrap().status, Some(502));
        // the doc's example has a trailing tab on one line: an extra empty field
        let extra = format!("{line}\t");
        assert!(p.parse_line(extra.as_bytes()).is_ok());
        let cut = &line.as_bytes()[..line.len() / 2];
        assert_eq!(p.parse_line(cut), Err(HopLineError::Mismatch));
        let r = p
            .parse_line(EXAMPLES.last().unwrap().line.as_bytes())
            .unwrap();
        assert_eq!(r.client, Some(&b"192.0.2.100"[..]));
        let mut bytes = line.as_bytes().to_vec();
        let at = line.find("Mozilla").unwrap();
        bytes[at] = 0xff;
        assert_eq!(p.parse_line(&bytes).unwrap().status, Some(502));
        let bad = line.replace("\t502\t", "\t5o2\t");
        assert_eq!(p.parse_line(bad.as_bytes()), Err(HopLineError::BadStatus));
        let bad = line.replace("22:36:27", "22:36");
        assert_eq!(p.parse_line(bad.as_bytes()), Err(HopLineError::BadTime));
        assert_eq!(
            p.parse_line(b"#Version: 1.0"),
            Err(HopLineError::NotARequest)
        );
        assert_eq!(
            p.parse_line(b"#Fields: date time sc-status"),
            Err(HopLineError::HeaderChanged)
        );
        assert_eq!(
            p.parse_line(LEGACY_FIELDS.as_bytes()),
            Err(HopLineError::NotARequest)
        );
        // sc-status 000: the viewer left before any response
        let zero = line.replace("\t502\t", "\t000\t");
        assert_eq!(p.parse_line(zero.as_bytes()).unwrap().status, Some(0));
    }

    #[test]
    fn cut_fields_line_is_reported_not_guessed() {
        let text = format!("{}\n{}\n", EXAMPLES[0].line, EXAMPLES[1].line);
        let head = head_of(&text);
        assert!(CloudFront.detect(&head).is_none());
        let why = CloudFront.near_miss(&head).unwrap();
        assert!(why.contains("no #Fields"), "{why}");
        let head = head_of("#Version: 1.0\n#Fields: date time cs-uri-stem\n");
        assert!(CloudFront.detect(&head).is_none());
        assert!(CloudFront.near_miss(&head).unwrap().contains("sc-status"));
        assert!(CloudFront.near_miss(&head_of("hello\nworld\n")).is_none());
    }

    /// Standard logging (v2): W3C output with a space as the delivery's
    /// field delimiter is read by its header (the summary path too); JSON
    /// output by its keys; real-time records (no header) are not read and
    /// said so.
    #[test]
    fn v2_outputs_and_real_time_records() {
        let spaced: Vec<String> = EXAMPLES
            .iter()
            .map(|ex| ex.line.replace('\t', " "))
            .collect();
        let text = format!("#Version: 1.0\n{}\n{}\n", LEGACY_FIELDS, spaced.join("\n"));
        let (p, why) = CloudFront.detect(&head_of(&text)).expect("W3C, spaces");
        assert!(why.contains("space-separated"), "{why}");
        for (ex, line) in EXAMPLES.iter().zip(&spaced) {
            let r = p.parse_line(line.as_bytes()).unwrap();
            assert_eq!(r.status, ex.status, "{line}");
            let mut cache = SummaryCache::default();
            assert_eq!(
                p.parse_summary(line.as_bytes(), &mut cache).unwrap().status,
                ex.status
            );
        }
        // tab-separated stays tab-separated even when a value has a space
        let legacy = format!("#Version: 1.0\n{LEGACY_FIELDS}\n{}\n", EXAMPLES[0].line);
        let (_, why) = CloudFront.detect(&head_of(&legacy)).unwrap();
        assert!(!why.contains("space"), "{why}");
        // v2 JSON lines
        let json = r#"{"date":"2019-12-13","time":"22:36:27","sc-status":"502","x-edge-result-type":"Error","x-edge-detailed-result-type":"OriginDnsError"}"#;
        let (p, why) = CloudFront.detect(&head_of(json)).expect("v2 JSON");
        assert!(why.contains("standard logging v2"), "{why}");
        assert_eq!(p.parse_line(json.as_bytes()).unwrap().status, Some(502));
        // real-time records: no header, the order is the configuration's
        let rt = "1607733474.226\t192.0.2.1\t0.002\t502\t2390\tGET\thttps\n\
                  1607733475.012\t192.0.2.2\t0.001\t200\t1000\tGET\thttps\n";
        assert!(CloudFront.detect(&head_of(rt)).is_none());
        let why = CloudFront.near_miss(&head_of(rt)).expect("said");
        assert!(why.contains("real-time"), "{why}");
    }

    /// Every line read through the summary path (one cache for the file, as
    /// the hop pass keeps one per chunk) gives the time, status and error
    /// the full parse gives.
    fn summary_agrees(p: &CloudFrontParser, lines: &[&str]) -> usize {
        let mut cache = SummaryCache::default();
        let mut fast = 0;
        for line in lines {
            let full = p.parse_line(line.as_bytes()).map(|r| (r.time, r.status));
            let sum = p
                .parse_summary(line.as_bytes(), &mut cache)
                .map(|s| (s.time, s.status));
            assert_eq!(sum, full, "{line}");
            fast += p.summary(trim_cr(line.as_bytes()), &mut cache).is_some() as usize;
        }
        fast
    }

    #[test]
    fn summary_agrees_with_the_full_parse_on_fixtures() {
        let mut fast = 0;
        for text in [
            include_str!("../../fixtures/logs/cloudfront/aws_doc_example.log"),
            include_str!("../../fixtures/logs/cloudfront/genlogs_sample.log"),
            include_str!("../../fixtures/logs/cloudfront/reordered_added_fields.log"),
        ] {
            let head = head_of(text);
            let fields = head.iter().find(|l| l.starts_with(b"#Fields:")).unwrap();
            let p = CloudFrontParser::from_fields_line(fields).unwrap();
            fast += summary_agrees(&p, &text.lines().collect::<Vec<_>>());
        }
        assert!(fast > 50, "only {fast} fixture lines took the fast path");
    }

    proptest::proptest! {
        /// Lines of the legacy layout with fields replaced by junk (tabs,
        /// bad dates, statuses of any width), columns dropped or added, and
        /// a `\r`, read the same through both paths.
        #[test]
        fn summary_agrees_on_generated_lines(
            edits in proptest::collection::vec((0usize..33, "[0-9:\t-]{0,12}"), 0..3),
            status in 0u16..1000,
            sec in 0u32..62,
            cut in proptest::option::of(0usize..33),
            extra in 0usize..3,
            cr in proptest::bool::ANY,
        ) {
            let base = EXAMPLES[EXAMPLES.len() - 1].line;
            let mut f: Vec<String> = base.split('\t').map(str::to_string).collect();
            f[8] = format!("{status:03}");
            f[1] = format!("21:02:{sec:02}");
            for (i, junk) in edits {
                f[i] = junk;
            }
            if let Some(c) = cut {
                f.truncate(c);
            }
            f.extend(std::iter::repeat_n("x".to_string(), extra));
            let mut line = f.join("\t");
            if cr {
                line.push('\r');
            }
            let p = legacy();
            let other = "2019-12-04\t21:02:31\tLAX1\t1\t1.2.3.4\tGET\th\t/\t200".to_string();
            summary_agrees(&p, &[&line, &line, &other, &line]);
        }
    }
}

#[cfg(test)]
mod grammar_tests {
    use super::COLS;

    #[test]
    fn grammar_lists_exactly_the_fields_read() {
        let g: serde_yaml::Value =
            serde_yaml::from_str(include_str!("../../grammars/cloudfront.yaml")).unwrap();
        let reads = g["reads"].as_mapping().unwrap();
        let mut listed: Vec<&str> = reads.keys().map(|k| k.as_str().unwrap()).collect();
        let mut read: Vec<&str> = COLS.iter().map(|(n, _)| *n).collect();
        listed.sort_unstable();
        read.sort_unstable();
        assert_eq!(listed, read);
    }
}
