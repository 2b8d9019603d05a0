//! One chunk's rows serialized as NDJSON on the worker thread that parsed
//! the chunk ([`crate::analyze::rows`]), the counterpart of
//! [`super::batch`] for `--format ndjson`: each row is written as
//! [`super::row::Row`] straight from the parsed record (no [`Event`] for the
//! requests that are not classified), so the one writer thread only copies
//! bytes into the hour's file.
//!
//! Two values are not known on the worker and are patched as the writer
//! copies: the line number (the worker counts from the chunk's start; a
//! placeholder of 20 digits is written) and, for a dump logged at several
//! hops, `born_at` of each 5xx (the join across hops, looked up by file and
//! absolute line; a `null` is written and its place noted).

use std::borrow::Cow;
use std::io::Write;
use std::sync::Arc;

use super::batch::BornLookup;
use super::row::{kind_name, utc_text, Attempt, Row, RowOptions};
use crate::analyze::born::born_at_last_hop;
use crate::analyze::event::Event;
use crate::analyze::hop_attempt::hop_attempt;
use crate::analyze::rows::{ChunkRows, FinishedRows, RowsFactory};
use crate::logs::hop::{HopKind, HopRecord, Signals};
use crate::logs::nginx::{self, Escape};
use crate::logs::record::Record;

/// Written as each row's `source_line`, then replaced: `u64::MAX` has the
/// most digits, and `"source_line":` with its quotes unescaped cannot occur
/// inside the JSON string of `source_file` before it.
const LINE_PLACEHOLDER: &[u8] = b"\"source_line\":18446744073709551615";
/// Where `born_at` is patched: the last field but one, so searched from
/// the end (a string before it holds its quotes escaped).
const BORN_NULL: &[u8] = b"\"born_at\":null";
const HOUR_MS: i64 = 3_600_000;

/// Makes the NDJSON rows of each chunk.
pub struct NdjsonFactory(pub RowOptions);

impl RowsFactory for NdjsonFactory {
    fn chunk(&self, file: &str, hop: Option<&'static str>) -> Box<dyn ChunkRows> {
        let (format, kind) = super::row::hop_named(hop);
        Box::new(NdjsonChunk {
            file: Arc::from(file),
            format,
            kind,
            opts: self.0.clone(),
            bytes: Vec::new(),
            rows: Vec::new(),
            line_at: memchr::memmem::Finder::new(LINE_PLACEHOLDER).into_owned(),
        })
    }
}

/// Where one row is in [`NdjsonChunk::bytes`].
#[derive(Debug, Clone, Copy)]
pub struct RowAt {
    /// Its bytes, `\n` included.
    pub start: usize,
    /// End of its bytes.
    pub end: usize,
    /// Offset of the 20 placeholder digits of its line number.
    pub line_at: usize,
    /// Its line, counted from the chunk's start.
    pub line: u64,
    /// Offset of the `null` of `born_at`, to look up (a 5xx of a dump
    /// logged at several hops).
    pub born_at: Option<usize>,
    /// UTC hour (ms / 3600000), `None` without a time.
    pub hour: Option<i64>,
    /// Status (0: not logged).
    pub status: u16,
}

/// One chunk's rows, serialized.
pub struct NdjsonChunk {
    /// The file as shown (`source_file`).
    pub file: Arc<str>,
    format: &'static str,
    kind: HopKind,
    opts: RowOptions,
    /// The rows, one JSON object and `\n` each.
    pub bytes: Vec<u8>,
    /// Where each row is, in line order.
    pub rows: Vec<RowAt>,
    line_at: memchr::memmem::Finder<'static>,
}

/// Text as the Parquet columns hold it ([`super::batch`]): as it is when
/// it holds no escape and is UTF-8, else unescaped as the format says
/// (`None`: lossy UTF-8, as hop formats' text is read).
fn text(v: Option<&[u8]>, esc: Option<Escape>) -> Option<Cow<'_, str>> {
    let v = v?;
    if memchr::memchr(b'\\', v).is_none() {
        if let Ok(s) = std::str::from_utf8(v) {
            return Some(Cow::Borrowed(s));
        }
    }
    Some(match esc {
        Some(e) => Cow::Owned(nginx::unescape(v, e)),
        None => String::from_utf8_lossy(v),
    })
}

/// `a/b` from two lossy UTF-8 byte strings.
fn joined(a: &[u8], b: &[u8]) -> String {
    format!(
        "{}/{}",
        String::from_utf8_lossy(a),
        String::from_utf8_lossy(b)
    )
}

/// The names every row of a chunk shares (cloned out of the chunk, so a
/// row can borrow them while the chunk grows).
struct Names {
    file: Arc<str>,
    format: &'static str,
    kind: HopKind,
    dump_host: Arc<str>,
}

impl Names {
    /// A row without cause or evidence, its line a placeholder.
    fn plain(&self, time: Option<i64>, status: u16, request_time: Option<f64>) -> Row<'_> {
        Row {
            time: time.map(utc_text),
            hop_kind: kind_name(self.kind),
            hop_format: self.format,
            source_file: &self.file,
            source_line: u64::MAX,
            dump_host: &self.dump_host,
            client: None,
            method: None,
            host: None,
            path: None,
            status: (status != 0).then_some(status),
            request_time,
            upstream: Vec::new(),
            upstream_addr: None,
            cause: None,
            evidence: None,
            rescued: false,
            request_id: None,
            born_at: None,
            schema_version: super::SCHEMA_VERSION,
        }
    }
}

impl NdjsonChunk {
    fn names(&self) -> Names {
        Names {
            file: self.file.clone(),
            format: self.format,
            kind: self.kind,
            dump_host: self.opts.dump_host.clone(),
        }
    }

    /// Append `row` (its line `line`, its time in UTC ms `time`).
    fn push(&mut self, row: &Row<'_>, line: u64, time: Option<i64>, look_up_born: bool) {
        let start = self.bytes.len();
        let mut out = std::mem::take(&mut self.bytes);
        // a Row is plain data: serializing it into memory cannot fail
        let ok = serde_json::to_writer(&mut out, row).is_ok();
        out.push(b'\n');
        let found = self.line_at.find(&out[start..]);
        let (Some(at), true) = (found, ok) else {
            out.truncate(start);
            self.bytes = out;
            return;
        };
        let born_at = if look_up_born {
            memchr::memmem::rfind(&out[start..], BORN_NULL).map(|b| start + b + BORN_NULL.len() - 4)
        } else {
            None
        };
        self.rows.push(RowAt {
            start,
            end: out.len(),
            line_at: start + at + LINE_PLACEHOLDER.len() - 20,
            line,
            born_at,
            hour: time.map(|t| t.div_euclid(HOUR_MS)),
            status: row.status.unwrap_or(0),
        });
        self.bytes = out;
    }

    /// Write row `r` to `w`, its line number plus `base`, its `born_at`
    /// looked up in `born` when it was left to the writer.
    pub fn write_row(
        &self,
        r: &RowAt,
        base: u64,
        born: Option<&BornLookup<'_>>,
        w: &mut dyn Write,
    ) -> std::io::Result<()> {
        let line = r.line.saturating_add(base);
        w.write_all(&self.bytes[r.start..r.line_at])?;
        write!(w, "{line}")?;
        let after = r.line_at + 20;
        match (r.born_at, born) {
            (Some(at), Some(born)) => {
                w.write_all(&self.bytes[after..at])?;
                match born(&self.file, line) {
                    Some(b) => serde_json::to_writer(&mut *w, b).map_err(std::io::Error::from)?,
                    None => w.write_all(b"null")?,
                }
                w.write_all(&self.bytes[at + 4..r.end])
            }
            _ => w.write_all(&self.bytes[after..r.end]),
        }
    }
}

impl ChunkRows for NdjsonChunk {
    fn nginx(&mut self, rec: &Record<'_>, line: u64, esc: Escape) {
        if self.opts.only_5xx {
            return;
        }
        let mut rec = *rec;
        rec.split_request();
        let e = Some(esc);
        let time = rec.time.map(|t| t.utc_ms);
        let names = self.names();
        let mut row = names.plain(
            time,
            rec.status.unwrap_or(0),
            rec.request_time_ms().map(|ms| ms as f64 / 1000.0),
        );
        row.client = text(rec.client, e);
        row.method = text(rec.method, e);
        row.host = text(rec.host, e);
        row.path = text(rec.path, e);
        rec.upstream.each_attempt(|a| {
            row.upstream.push(Attempt {
                address: String::from_utf8_lossy(a.addr.unwrap_or_default()),
                status: a.status,
                connect: a.connect_time,
                header: a.header_time,
                response: a.response_time,
            })
        });
        row.request_id = text(rec.request_id, e);
        self.push(&row, line, time, false);
    }

    fn hop(&mut self, rec: &HopRecord<'_>, line: u64) {
        if self.opts.only_5xx {
            return;
        }
        let time = rec.time.map(|t| t.utc_ms);
        let names = self.names();
        let mut row = names.plain(
            time,
            rec.status.unwrap_or(0),
            rec.total_ms.map(|ms| ms as f64 / 1000.0),
        );
        row.client = text(rec.client, None);
        row.method = text(rec.method, None);
        row.host = text(rec.host, None);
        row.path = text(rec.path, None);
        if let Some(a) = hop_attempt(rec) {
            let address = match (a.backend, a.addr) {
                (Some(b), Some(s)) => Cow::Owned(joined(b, s)),
                (_, Some(x)) | (Some(x), None) => String::from_utf8_lossy(x),
                (None, None) => Cow::Borrowed(""),
            };
            row.upstream.push(Attempt {
                address,
                status: a.status,
                connect: a.connect_time,
                header: a.header_time,
                response: a.response_time,
            });
        }
        // the next hop as the report's top-upstreams names it
        row.upstream_addr = match rec.signals {
            Signals::Haproxy {
                backend: Some(b),
                server: Some(s),
                ..
            } => Some(Cow::Owned(joined(b, s))),
            _ => text(rec.upstream_addr, None),
        };
        row.request_id = text(rec.request_id, None);
        self.push(&row, line, time, false);
    }

    fn event(&mut self, e: Event) {
        if self.opts.only_5xx && e.status < 500 {
            return;
        }
        let born =
            (self.opts.one_hop && e.status == 502).then(|| born_at_last_hop(self.kind, e.cause));
        let dump_host = self.opts.dump_host.clone();
        let mut row = Row::new(&e, &dump_host, born);
        row.source_line = u64::MAX;
        let look_up = !self.opts.one_hop && e.status >= 500;
        let time = e.at.map(|t| t.utc_ms);
        self.push(&row, e.line, time, look_up);
    }

    fn finish(self: Box<Self>) -> FinishedRows {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::cause::Cause;

    fn event(line: u64, status: u16) -> Event {
        Event {
            // a name holding the placeholder's text: escaped in JSON
            file: "a \"source_line\":18446744073709551615 \"born_at\":null.log".into(),
            line,
            time: None,
            client: Some("10.0.0.1".into()),
            method: Some("GET".into()),
            host: None,
            path: Some("/x\"born_at\":null".into()),
            status,
            request_time: Some(0.5),
            upstream: Vec::new(),
            cause: Cause::UpstreamReset,
            evidence: vec!["e".into()],
            rescued: false,
            request_id: None,
            hop: None,
            at: None,
            blamed: None,
        }
    }

    #[test]
    fn rows_get_their_absolute_line_and_looked_up_born_at() {
        let f = NdjsonFactory(RowOptions {
            dump_host: Arc::from("h"),
            only_5xx: false,
            one_hop: false,
        });
        let mut rows = f.chunk("ignored", None);
        rows.event(event(3, 502));
        rows.event(event(9, 200));
        let chunk = rows.finish().downcast::<NdjsonChunk>().unwrap();
        assert_eq!(chunk.rows.len(), 2);
        let born = |_: &str, line: u64| (line == 1003).then_some("edge");
        let mut got = Vec::new();
        for r in &chunk.rows {
            chunk.write_row(r, 1000, Some(&born), &mut got).unwrap();
        }
        let mut want = Vec::new();
        for (line, status, born_at) in [(1003, 502, Some("edge")), (1009, 200, None)] {
            let e = event(line, status);
            let row = Row::new(&e, "h", born_at);
            serde_json::to_writer(&mut want, &row).unwrap();
            want.push(b'\n');
        }
        assert_eq!(
            String::from_utf8(got).unwrap(),
            String::from_utf8(want).unwrap()
        );
    }
}
