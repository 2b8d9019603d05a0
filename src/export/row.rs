//! One exported row: an [`Event`] with the columns only the export has
//! (dump host, hop kind), in the form both writers share.

use std::borrow::Cow;
use std::sync::Arc;

use crate::analyze::event::Event;
use crate::logs::formats::hop_formats;
use crate::logs::hop::HopKind;

/// The columns of one row, borrowed from its event.
#[derive(Debug, serde::Serialize)]
pub struct Row<'a> {
    /// Log time, UTC, RFC 3339 with milliseconds (`None`: the line has none).
    pub time: Option<String>,
    /// `proxy`, `cdn`, `lb` or `app`.
    pub hop_kind: &'static str,
    /// `nginx`, `haproxy`, `envoy`, `alb`, …
    pub hop_format: &'static str,
    /// File as given.
    pub source_file: &'a str,
    /// 1-based line.
    pub source_line: u64,
    /// The host the dump comes from.
    pub dump_host: &'a str,
    /// Client address.
    pub client: Option<Cow<'a, str>>,
    /// Method.
    pub method: Option<Cow<'a, str>>,
    /// Host.
    pub host: Option<Cow<'a, str>>,
    /// Request target.
    pub path: Option<Cow<'a, str>>,
    /// Status sent to the client (`None`: not logged).
    pub status: Option<u16>,
    /// Total request time, seconds.
    pub request_time: Option<f64>,
    /// Every upstream attempt, in order.
    pub upstream: Vec<Attempt<'a>>,
    /// The next hop the report's top-upstreams table counts this request
    /// under (for 5xx: the last attempt that failed).
    pub upstream_addr: Option<Cow<'a, str>>,
    /// Cause id, for 5xx and rescued requests.
    pub cause: Option<&'static str>,
    /// Evidence, for 5xx and rescued requests.
    pub evidence: Option<&'a [String]>,
    /// A retry turned an upstream failure into a non-5xx answer.
    pub rescued: bool,
    /// Request id, when logged.
    pub request_id: Option<Cow<'a, str>>,
    /// Where the 502 was born (`edge`, `gateway`, `upstream`, `unknown`),
    /// on the 502 the client got (the outermost hop's record).
    pub born_at: Option<&'a str>,
    /// Schema version ([`super::SCHEMA_VERSION`]).
    pub schema_version: &'static str,
}

/// One upstream attempt.
#[derive(Debug, serde::Serialize)]
pub struct Attempt<'a> {
    /// `ip:port`, `unix:…` or the upstream group's name.
    pub address: Cow<'a, str>,
    /// Status from that server.
    pub status: Option<u16>,
    /// Connect time, seconds.
    pub connect: Option<f64>,
    /// Time to the response header, seconds.
    pub header: Option<f64>,
    /// Time to the end of the response, seconds.
    pub response: Option<f64>,
}

/// `proxy`, `cdn`, `lb` or `app` (as [`HopKind`] serializes).
pub fn kind_name(k: HopKind) -> &'static str {
    match k {
        HopKind::Cdn => "cdn",
        HopKind::Lb => "lb",
        HopKind::Proxy => "proxy",
        HopKind::App => "app",
    }
}

/// What every row of an export shares, as the run sets it: both writers'
/// factories hand it to each chunk they make.
#[derive(Debug, Clone)]
pub struct RowOptions {
    /// `dump_host` of every row.
    pub dump_host: Arc<str>,
    /// Only rows with a status of 500 or more.
    pub only_5xx: bool,
    /// `born_at` from the row's own cause ([`born_at_last_hop`]); false for
    /// a dump logged at several hops, whose `born_at` the writer sets from
    /// the join across hops.
    ///
    /// [`born_at_last_hop`]: crate::analyze::born::born_at_last_hop
    pub one_hop: bool,
}

/// The format that logged `e` and where that hop sits.
pub fn hop_of(e: &Event) -> (&'static str, HopKind) {
    hop_named(e.hop)
}

/// The format named `hop` (`None`: nginx's access log) and where that hop
/// sits.
pub fn hop_named(hop: Option<&'static str>) -> (&'static str, HopKind) {
    match hop {
        None => ("nginx", HopKind::Proxy),
        Some(name) => (
            name,
            hop_formats()
                .iter()
                .find(|f| f.name() == name)
                .map_or(HopKind::Proxy, |f| f.hop()),
        ),
    }
}

/// UTC RFC 3339 with milliseconds (`2026-11-20T13:03:07.000Z`).
pub fn utc_text(ms: i64) -> String {
    let ts = jiff::Timestamp::from_millisecond(ms).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    ts.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

impl<'a> Row<'a> {
    /// The row of `e`.
    pub fn new(e: &'a Event, dump_host: &'a str, born_at: Option<&'a str>) -> Self {
        let (fmt, kind) = hop_of(e);
        let classified = e.classified();
        Row {
            time: e.at.map(|t| utc_text(t.utc_ms)),
            hop_kind: kind_name(kind),
            hop_format: fmt,
            source_file: &e.file,
            source_line: e.line,
            dump_host,
            client: e.client.as_deref().map(Cow::Borrowed),
            method: e.method.as_deref().map(Cow::Borrowed),
            host: e.host.as_deref().map(Cow::Borrowed),
            path: e.path.as_deref().map(Cow::Borrowed),
            status: (e.status != 0).then_some(e.status),
            request_time: e.request_time,
            upstream: e
                .upstream
                .iter()
                .map(|a| Attempt {
                    address: Cow::Borrowed(&a.addr),
                    status: a.status,
                    connect: a.connect_time,
                    header: a.header_time,
                    response: a.response_time,
                })
                .collect(),
            upstream_addr: e.blamed.as_deref().map(Cow::Borrowed),
            cause: classified.then(|| e.cause.id()),
            evidence: classified.then_some(e.evidence.as_slice()),
            rescued: e.rescued,
            request_id: e.request_id.as_deref().map(Cow::Borrowed),
            born_at,
            schema_version: super::SCHEMA_VERSION,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_text_has_millis_and_z() {
        assert_eq!(utc_text(1_763_643_787_000), "2025-11-20T13:03:07.000Z");
        assert_eq!(utc_text(1_763_643_787_310), "2025-11-20T13:03:07.310Z");
    }
}
