//! One classified 5xx request, as written to `--events` / `--format ndjson`.

use super::cause::Cause;
use crate::logs::record::Attempt;
use crate::logs::scan::LogTime;

/// A 5xx request (or one rescued by a retry), with its cause and evidence.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Event {
    /// Access-log file as given.
    pub file: String,
    /// 1-based line in that file.
    pub line: u64,
    /// When it was logged, RFC 3339 in the log's own offset.
    pub time: Option<String>,
    /// Client address.
    pub client: Option<String>,
    /// Request method.
    pub method: Option<String>,
    /// Host.
    pub host: Option<String>,
    /// Request target.
    pub path: Option<String>,
    /// Status the client got.
    pub status: u16,
    /// Total request time in seconds.
    pub request_time: Option<f64>,
    /// Every upstream attempt, in order.
    pub upstream: Vec<Attempt>,
    /// The cause id.
    pub cause: Cause,
    /// The evidence.
    pub evidence: Vec<String>,
    /// The client got a non-5xx although an upstream attempt failed.
    pub rescued: bool,
    /// Request id, when logged.
    pub request_id: Option<String>,
    /// The hop format that logged it, for hop logs (`haproxy`); absent for nginx.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hop: Option<&'static str>,
    #[serde(skip)]
    /// The parsed time, for sorting.
    pub at: Option<LogTime>,
    /// The next hop the report's top-upstreams table counts this request
    /// under: the address of the last attempt that failed (else the error
    /// log's upstream) for nginx, `backend/server` or the address for a hop.
    #[serde(skip)]
    pub blamed: Option<String>,
}

impl Event {
    /// Whether it was classified: a 5xx, or rescued by a retry. Other
    /// requests (kept with `Options::all_requests`) have no cause.
    pub fn classified(&self) -> bool {
        self.status >= 500 || self.rescued
    }
}

/// RFC 3339 text of `t` in its own offset.
pub fn rfc3339(t: LogTime) -> String {
    let ts = jiff::Timestamp::from_millisecond(t.utc_ms).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let off = jiff::tz::Offset::from_seconds(t.offset_s).unwrap_or(jiff::tz::Offset::UTC);
    let dt = off.to_datetime(ts);
    let frac = if t.utc_ms % 1000 != 0 {
        format!(".{:03}", t.utc_ms.rem_euclid(1000))
    } else {
        String::new()
    };
    let offs = if t.offset_s == 0 {
        "Z".to_string()
    } else {
        let s = t.offset_s.abs();
        format!(
            "{}{:02}:{:02}",
            if t.offset_s < 0 { '-' } else { '+' },
            s / 3600,
            s % 3600 / 60
        )
    };
    format!("{}{}{}", dt.strftime("%Y-%m-%dT%H:%M:%S"), frac, offs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_in_own_offset() {
        let t = crate::logs::scan::parse_time_local(b"20/Nov/2026:14:03:07 +0100").unwrap();
        assert_eq!(rfc3339(t), "2026-11-20T14:03:07+01:00");
        let z = crate::logs::scan::parse_iso8601(b"2016-04-15T20:17:00.310Z").unwrap();
        assert_eq!(rfc3339(z), "2016-04-15T20:17:00.310Z");
    }
}
