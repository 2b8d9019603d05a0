//! One classified 5xx request, as written to `--events` / `--format ndjson`.

use super::cause::Cause;
use super::event_json::EventRef;
use super::rows::ChunkRows;
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

/// The fields of a request that gets no cause, borrowed from whichever
/// log's record it came from (nginx's or a hop's), for
/// [`Event::unclassified`].
#[derive(Debug)]
pub struct Unclassified<'a> {
    /// Access-log file as given.
    pub file: String,
    /// 1-based line (or chunk-relative, as the caller counts).
    pub line: u64,
    /// When it was logged.
    pub time: Option<LogTime>,
    /// Client address, as logged.
    pub client: Option<&'a [u8]>,
    /// Request method, as logged.
    pub method: Option<&'a [u8]>,
    /// Host, as logged.
    pub host: Option<&'a [u8]>,
    /// Request target, as logged.
    pub path: Option<&'a [u8]>,
    /// Request id, as logged.
    pub request_id: Option<&'a [u8]>,
    /// Status the client got.
    pub status: Option<u16>,
    /// Total request time in milliseconds.
    pub request_time_ms: Option<i64>,
    /// Every upstream attempt, in order.
    pub upstream: Vec<Attempt>,
    /// The hop format that logged it (`None` for nginx).
    pub hop: Option<&'static str>,
    /// The next hop the top-upstreams table counts it under.
    pub blamed: Option<String>,
}

impl Event {
    /// A request that is neither a 5xx nor rescued, kept for
    /// `Options::all_requests` (`gatecheck export`): its fields, cause
    /// `unknown`, no evidence. `decode` turns a logged value into text
    /// (nginx's `escape=` rule, or lossy UTF-8 for the hops' logs).
    pub fn unclassified(u: Unclassified<'_>, decode: impl Fn(&[u8]) -> String) -> Event {
        let text = |v: Option<&[u8]>| v.map(&decode);
        Event {
            file: u.file,
            line: u.line,
            time: u.time.map(rfc3339),
            client: text(u.client),
            method: text(u.method),
            host: text(u.host),
            path: text(u.path),
            status: u.status.unwrap_or(0),
            request_time: u.request_time_ms.map(|ms| ms as f64 / 1000.0),
            upstream: u.upstream,
            cause: Cause::Unknown,
            evidence: Vec::new(),
            rescued: false,
            request_id: text(u.request_id),
            hop: u.hop,
            at: u.time,
            blamed: u.blamed,
        }
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

/// Events of one chunk serialized as ndjson (one JSON object a line) on the
/// worker thread that parsed the chunk, their line numbers still counted
/// from the chunk's start: [`NdjsonBatch::append_to`] puts them in, made
/// absolute, as it writes, so the one writer thread only copies bytes
/// (issue 9: events serialized on the main thread between batches were
/// 18 % of the samples). The bytes are [`super::event_json::write_event`]'s,
/// which are serde_json's.
#[derive(Debug, Default)]
pub struct NdjsonBatch {
    bytes: Vec<u8>,
    /// Per event: the offset in `bytes` where its line number goes, and
    /// its line counted from the chunk's start.
    lines: Vec<(usize, u64)>,
    /// Where the next event's evidence is written before the event
    /// ([`NdjsonBatch::evidence_buf`]), reused from event to event.
    evidence: Vec<u8>,
    /// The text of the last event's second.
    times: super::event_json::TimeText,
}

/// The buffers of batches already written, for the next chunks: a fresh
/// buffer per chunk grown by doubling was copied about twice over and
/// faulted in page by page (issue 9, `perf record`: memmove, realloc and
/// page faults were a third of the cost of `--events` left after the
/// hand-written serializer).
static SPARE: std::sync::Mutex<Vec<Buffers>> = std::sync::Mutex::new(Vec::new());
/// [`NdjsonBatch::bytes`] and [`NdjsonBatch::lines`].
type Buffers = (Vec<u8>, Vec<(usize, u64)>);
/// At most this many spare buffers are kept…
const SPARE_MAX: usize = 4;
/// …of at most this capacity each (a chunk of 5xx lines only), so they hold
/// at most 32 MiB.
const SPARE_CAP: usize = 8 << 20;
/// A new buffer's capacity: the events of a 2 MiB chunk of a log with 12 %
/// 5xx lines (the bench log) take about 250 KiB.
const FIRST_CAP: usize = 256 << 10;

impl NdjsonBatch {
    /// Serialize `events` (line numbers relative to their chunk).
    pub fn new(events: Vec<Event>) -> NdjsonBatch {
        let mut b = NdjsonBatch::default();
        for e in &events {
            b.push(&EventRef::from(e), e.line);
        }
        b
    }

    /// Append one event, at `line` counted from the chunk's start.
    pub fn push(&mut self, e: &EventRef<'_>, line: u64) {
        if self.bytes.capacity() == 0 {
            let spare = SPARE.lock().ok().and_then(|mut s| s.pop());
            (self.bytes, self.lines) =
                spare.unwrap_or_else(|| (Vec::with_capacity(FIRST_CAP), Vec::new()));
        }
        let at = super::event_json::write_event_with(&mut self.bytes, e, &mut self.times);
        self.lines.push((at, line));
    }

    /// An empty buffer for an event's evidence, written as the items of
    /// its JSON array ([`super::evidence::Evidence::json`]) before the
    /// event is pushed with [`super::event_json::EvidenceItems::Json`];
    /// handed back with [`NdjsonBatch::give_back`], so one buffer serves
    /// every event of the chunk (the evidence is known before the event's
    /// cause, which its line writes first).
    pub fn evidence_buf(&mut self) -> Vec<u8> {
        let mut b = std::mem::take(&mut self.evidence);
        b.clear();
        b
    }

    /// Keep `buf` ([`NdjsonBatch::evidence_buf`]) for the next event.
    pub fn give_back(&mut self, buf: Vec<u8>) {
        self.evidence = buf;
    }

    /// Whether it holds no event.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Append the events to `out`, each line number plus `base` (the lines
    /// of the file before the chunk).
    ///
    /// The writer gathers the batches into one buffer and writes it a MiB
    /// at a time ([`super::analyze_ndjson`]): a `writev` of up to 1,024
    /// slices per chunk (the pieces between line numbers and the numbers)
    /// cost the kernel more than this one copy saves (measured: 124 MB in
    /// 306-byte pieces, `perf stat` task-clock, 76–82 ms by `writev` of
    /// 1,024 slices, 54–56 ms copied into a MiB buffer and written).
    pub fn append_to(&self, base: u64, out: &mut Vec<u8>) {
        // (itoa: what serde_json's `write_u64` writes)
        let mut num = itoa::Buffer::new();
        out.reserve(self.bytes.len() + 8 * self.lines.len());
        let mut from = 0;
        for &(at, line) in &self.lines {
            out.extend_from_slice(&self.bytes[from..at]);
            out.extend_from_slice(num.format(line + base).as_bytes());
            from = at;
        }
        out.extend_from_slice(&self.bytes[from..]);
    }
}

impl Drop for NdjsonBatch {
    fn drop(&mut self) {
        let (mut bytes, mut lines) = (
            std::mem::take(&mut self.bytes),
            std::mem::take(&mut self.lines),
        );
        if bytes.capacity() == 0 || bytes.capacity() > SPARE_CAP {
            return;
        }
        if let Ok(mut s) = SPARE.lock() {
            if s.len() < SPARE_MAX {
                bytes.clear();
                lines.clear();
                s.push((bytes, lines));
            }
        }
    }
}

/// A chunk's events as a pass hands them on: as they are, or serialized.
pub(super) enum ChunkEvents {
    /// For [`super::analyze_streaming`].
    List(Vec<Event>),
    /// For [`super::analyze_ndjson`].
    Ndjson(NdjsonBatch),
    /// For [`super::analyze_rows`]: a finished [`ChunkRows`].
    Rows(crate::analyze::rows::FinishedRows),
}

impl ChunkEvents {
    /// Wrap a chunk's events, serializing them when `ndjson` (on the
    /// calling thread: a worker).
    pub(super) fn new(events: Vec<Event>, ndjson: bool) -> ChunkEvents {
        if ndjson {
            ChunkEvents::Ndjson(NdjsonBatch::new(events))
        } else {
            ChunkEvents::List(events)
        }
    }
}

/// What a pass collects from one chunk for its sink: events, events
/// serialized as they come, or rows built on the worker (with
/// [`super::Options::rows`]).
pub(super) enum Collect {
    /// Events, for [`super::analyze_streaming`].
    Events(Vec<Event>),
    /// Events written as ndjson, for [`super::analyze_ndjson`].
    Ndjson(NdjsonBatch),
    /// Rows, for [`super::analyze_rows`].
    Rows(Box<dyn ChunkRows>),
}

impl Default for Collect {
    fn default() -> Self {
        Collect::Events(Vec::new())
    }
}

impl Collect {
    /// For a chunk of the file shown as `file`, logged by `hop`.
    pub(super) fn new(opts: &super::Options, file: &str, hop: Option<&'static str>) -> Collect {
        match &opts.rows {
            Some(f) => Collect::Rows(f.chunk(file, hop)),
            None => Collect::Events(Vec::new()),
        }
    }

    /// Events written as they come when `ndjson` (the sink asks for it:
    /// [`EventSink::ndjson`]), instead of kept until the chunk's end.
    pub(super) fn with_ndjson(self, ndjson: bool) -> Collect {
        match self {
            Collect::Events(v) if ndjson && v.is_empty() => Collect::Ndjson(NdjsonBatch::default()),
            c => c,
        }
    }

    /// A classified request.
    pub(super) fn push(&mut self, e: Event) {
        match self {
            Collect::Events(v) => v.push(e),
            Collect::Ndjson(b) => b.push(&EventRef::from(&e), e.line),
            Collect::Rows(r) => r.event(e),
        }
    }

    /// The batch to write an event into without making an [`Event`].
    pub(super) fn ndjson(&mut self) -> Option<&mut NdjsonBatch> {
        match self {
            Collect::Ndjson(b) => Some(b),
            _ => None,
        }
    }

    /// The chunk's result, serialized when `ndjson` (on the calling thread: a worker).
    pub(super) fn finish(self, ndjson: bool) -> ChunkEvents {
        match self {
            Collect::Events(v) => ChunkEvents::new(v, ndjson),
            Collect::Ndjson(b) => ChunkEvents::Ndjson(b),
            Collect::Rows(r) => ChunkEvents::Rows(r.finish()),
        }
    }
}

/// Where a pass sends its events, in file and line order.
pub(super) enum EventSink<'a> {
    /// Each chunk's events, line numbers made absolute.
    List(&'a mut dyn FnMut(Vec<Event>)),
    /// Each chunk's serialized events and the lines of its file before it.
    Ndjson(&'a mut dyn FnMut(&NdjsonBatch, u64)),
    /// Each chunk's rows and the lines of its file before it.
    Rows(&'a mut dyn FnMut(crate::analyze::rows::FinishedRows, u64)),
}

impl EventSink<'_> {
    /// Events are to be serialized on the workers.
    pub(super) fn ndjson(&self) -> bool {
        matches!(self, EventSink::Ndjson(_))
    }

    /// Hand on a chunk's events; `base` is the lines of its file before it.
    pub(super) fn send(&mut self, events: ChunkEvents, base: u64) {
        match (self, events) {
            (EventSink::List(f), ChunkEvents::List(mut evs)) if !evs.is_empty() => {
                for e in &mut evs {
                    e.line += base;
                }
                f(evs)
            }
            (EventSink::Ndjson(f), ChunkEvents::Ndjson(b)) if !b.is_empty() => f(&b, base),
            (EventSink::Rows(f), ChunkEvents::Rows(r)) => f(r, base),
            // nothing to send (a pass makes the kind its sink asks for)
            _ => {}
        }
    }
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

    fn event(file: &str, line: u64) -> Event {
        Event {
            file: file.into(),
            line,
            time: None,
            client: Some("10.0.0.1".into()),
            method: Some("GET".into()),
            host: None,
            path: Some("/a\"line\":1".into()),
            status: 502,
            request_time: Some(0.5),
            upstream: Vec::new(),
            cause: Cause::UpstreamReset,
            evidence: vec!["x".into()],
            rescued: false,
            request_id: None,
            hop: None,
            at: None,
            blamed: Some("10.0.0.2:80".into()),
        }
    }

    #[test]
    fn unclassified_decodes_each_field_and_has_no_cause() {
        let t = crate::logs::scan::parse_time_local(b"20/Nov/2026:14:03:07 +0100").unwrap();
        let u = Unclassified {
            file: "a.log".into(),
            line: 7,
            time: Some(t),
            client: Some(b"10.0.0.1"),
            method: Some(b"GET"),
            host: None,
            path: Some(b"/p"),
            request_id: Some(b"r1"),
            status: Some(200),
            request_time_ms: Some(1234),
            upstream: Vec::new(),
            hop: Some("haproxy"),
            blamed: Some("be/s1".into()),
        };
        let e = Event::unclassified(u, |b| String::from_utf8_lossy(b).to_uppercase());
        assert_eq!(e.time.as_deref(), Some("2026-11-20T14:03:07+01:00"));
        assert_eq!(e.at, Some(t));
        assert_eq!(e.method.as_deref(), Some("GET"));
        assert_eq!(
            e.path.as_deref(),
            Some("/P"),
            "decoded by the caller's rule"
        );
        assert_eq!(e.request_id.as_deref(), Some("R1"));
        assert_eq!(e.host, None);
        assert_eq!((e.status, e.request_time), (200, Some(1.234)));
        assert_eq!(
            (e.cause, e.rescued, e.evidence.len()),
            (Cause::Unknown, false, 0)
        );
        assert!(!e.classified());
        assert_eq!(
            (e.hop, e.blamed.as_deref()),
            (Some("haproxy"), Some("be/s1"))
        );
    }

    #[test]
    fn ndjson_batch_writes_what_serde_writes_with_absolute_lines() {
        let evs = vec![
            event("a \"line\":18446744073709551615.log", 3),
            event("b.log", 17),
        ];
        let batch = NdjsonBatch::new(evs.clone());
        let mut got = b"before\n".to_vec();
        batch.append_to(1000, &mut got);
        let mut want = b"before\n".to_vec();
        for mut e in evs {
            e.line += 1000;
            serde_json::to_writer(&mut want, &e).unwrap();
            want.push(b'\n');
        }
        assert_eq!(
            String::from_utf8(got).unwrap(),
            String::from_utf8(want).unwrap()
        );
    }

    /// Many events with times, one batch: each line as serde_json writes
    /// the event, the time text taken from the batch's cache or not.
    #[test]
    fn ndjson_batch_of_many_events_with_times() {
        let t0 = crate::logs::scan::parse_time_local(b"20/Nov/2026:14:03:07 +0100").unwrap();
        let times = [0, 0, 250, 1000, 1001, 1001, 999, 60_000, -5, 86_400_000];
        let mut evs = Vec::new();
        let mut batch = NdjsonBatch::default();
        for i in 0..700u64 {
            let mut e = event("x.log", i * 3 + 1);
            let t = LogTime {
                utc_ms: t0.utc_ms + times[i as usize % times.len()] * (1 + i as i64 / 100),
                offset_s: if i % 7 == 0 { 0 } else { t0.offset_s },
            };
            e.time = Some(rfc3339(t));
            let r = EventRef {
                time: super::super::event_json::TimeField::At(t),
                ..EventRef::from(&e)
            };
            batch.push(&r, e.line);
            evs.push(e);
        }
        let mut got = Vec::new();
        batch.append_to(99, &mut got);
        let mut want = Vec::new();
        for mut e in evs {
            e.line += 99;
            serde_json::to_writer(&mut want, &e).unwrap();
            want.push(b'\n');
        }
        assert_eq!(
            String::from_utf8(got).unwrap(),
            String::from_utf8(want).unwrap()
        );
    }
}
