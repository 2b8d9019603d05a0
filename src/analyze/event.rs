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
/// from the chunk's start: [`NdjsonBatch::write_to`] puts them in, made
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
        let at = super::event_json::write_event(&mut self.bytes, e);
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

    /// Write the events, each line number plus `base` (the lines of the
    /// file before the chunk).
    ///
    /// The pieces between line numbers and the numbers go out as vectored
    /// writes of up to 1,024 (`SLICES`) slices, so a writer that takes them
    /// whole (a file behind a `BufWriter` smaller than the group) gets them
    /// without another copy: copying the events into the `BufWriter` on
    /// this, the one writer thread, was 1 % of the `--events` run's CPU
    /// (`perf record`, 1 GiB bench log). The bytes are the same as one
    /// `write_all` per piece.
    pub fn write_to(&self, base: u64, w: &mut dyn std::io::Write) -> std::io::Result<()> {
        use std::io::IoSlice;
        // the line numbers' digits, one after another (itoa: what
        // serde_json's `write_u64` writes)
        let mut digits: Vec<u8> = Vec::with_capacity(self.lines.len() * 8);
        let mut ends: Vec<usize> = Vec::with_capacity(self.lines.len());
        let mut num = itoa::Buffer::new();
        for &(_, line) in &self.lines {
            digits.extend_from_slice(num.format(line + base).as_bytes());
            ends.push(digits.len());
        }
        let mut slices: Vec<IoSlice<'_>> = Vec::with_capacity(SLICES.min(2 * self.lines.len() + 1));
        let (mut from, mut d) = (0, 0);
        for (&(at, _), &end) in self.lines.iter().zip(&ends) {
            slices.push(IoSlice::new(&self.bytes[from..at]));
            slices.push(IoSlice::new(&digits[d..end]));
            (from, d) = (at, end);
            if slices.len() + 2 > SLICES {
                write_all_vectored(w, &mut slices)?;
                slices.clear();
            }
        }
        slices.push(IoSlice::new(&self.bytes[from..]));
        write_all_vectored(w, &mut slices)
    }
}

/// Slices per vectored write: Linux's `IOV_MAX`.
const SLICES: usize = 1024;

/// `Write::write_all_vectored` (unstable): every byte of `bufs`, in order,
/// whatever each call takes.
fn write_all_vectored(
    w: &mut dyn std::io::Write,
    mut bufs: &mut [std::io::IoSlice<'_>],
) -> std::io::Result<()> {
    std::io::IoSlice::advance_slices(&mut bufs, 0);
    while !bufs.is_empty() {
        match w.write_vectored(bufs) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => std::io::IoSlice::advance_slices(&mut bufs, n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
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
        let mut got = Vec::new();
        batch.write_to(1000, &mut got).unwrap();
        let mut want = Vec::new();
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

    /// A writer that takes a few bytes per call, and more events than one
    /// vectored write holds: the same bytes as written one piece at a time.
    #[test]
    fn ndjson_batch_survives_short_vectored_writes() {
        struct Trickle(Vec<u8>, usize);
        impl std::io::Write for Trickle {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.1 += 1;
                let n = b.len().min(1 + self.1 % 7);
                self.0.extend_from_slice(&b[..n]);
                Ok(n)
            }
            fn write_vectored(&mut self, bufs: &[std::io::IoSlice<'_>]) -> std::io::Result<usize> {
                assert!(bufs.len() <= SLICES);
                // take the first slices whole, then part of one
                let mut n = 0;
                for b in bufs.iter().take(1 + self.1 % 3) {
                    let k = self.write(b)?;
                    n += k;
                    if k < b.len() {
                        break;
                    }
                }
                Ok(n)
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let evs: Vec<Event> = (0..700).map(|i| event("x.log", i * 3 + 1)).collect();
        let batch = NdjsonBatch::new(evs.clone());
        let mut got = Trickle(Vec::new(), 0);
        batch.write_to(99, &mut got).unwrap();
        let mut want = Vec::new();
        for mut e in evs {
            e.line += 99;
            serde_json::to_writer(&mut want, &e).unwrap();
            want.push(b'\n');
        }
        assert_eq!(got.0, want);
    }
}
