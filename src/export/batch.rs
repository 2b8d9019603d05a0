//! One chunk's rows as Arrow columns, filled on the worker thread that
//! parsed the chunk ([`crate::analyze::rows`]): the fields go from the
//! parsed record straight into the column builders (text is copied once,
//! unescaped only when it holds an escape), so the one writer thread only
//! encodes finished batches. Classified requests (5xx and rescued: a few
//! percent) arrive as [`Event`]s, which the analysis builds anyway.

use std::fmt::Write as _;
use std::sync::Arc;

use arrow_array::builder::{
    ArrayBuilder, BooleanBufferBuilder, BooleanBuilder, Float64Builder, Int32Builder, Int64Builder,
    StringBuilder, TimestampMillisecondBuilder,
};
use arrow_array::{Array, ArrayRef, Int64Array, ListArray, RecordBatch, StringArray, StructArray};
use arrow_buffer::{NullBuffer, OffsetBuffer, ScalarBuffer};

use super::parquet::{attempt_fields, attempt_item, evidence_item, schema};
use super::row::{kind_name, RowOptions};
use crate::analyze::born::born_at_last_hop;
use crate::analyze::event::Event;
use crate::analyze::hop_attempt::{hop_attempt, HopAttempt};
use crate::analyze::rows::{ChunkRows, RowsFactory};
use crate::logs::hop::{HopKind, HopRecord, Signals};
use crate::logs::nginx::{self, Escape};
use crate::logs::record::{AttemptRef, Record};

/// Index of `source_line` in [`schema`] (made absolute by the writer).
pub const SOURCE_LINE: usize = 4;
/// Index of `status` in [`schema`].
pub const STATUS: usize = 10;
/// Index of `born_at` in [`schema`] (filled by the writer for multi-hop dumps).
pub const BORN_AT: usize = 18;

/// Makes the builders of each chunk.
pub struct Factory(pub RowOptions);

impl RowsFactory for Factory {
    fn chunk(&self, file: &str, hop: Option<&'static str>) -> Box<dyn ChunkRows> {
        let (format, kind) = super::row::hop_named(hop);
        Box::new(Builders::new(file, format, kind, self.0.clone()))
    }
}

/// `born_at` by file and absolute line (a multi-hop dump's join).
pub type BornLookup<'a> = dyn Fn(&str, u64) -> Option<&'static str> + 'a;

/// A finished chunk: its batch (line numbers counted from the chunk's
/// start) and the file it came from.
pub struct ChunkBatch {
    /// The rows, in [`schema`] (an error if the columns did not fit it).
    pub batch: Result<RecordBatch, arrow_schema::ArrowError>,
    /// The file as shown (`source_file`).
    pub file: Arc<str>,
}

impl ChunkBatch {
    /// The batch with `base` added to each line number and, when `born` is
    /// given (a multi-hop dump), `born_at` looked up by file and line for
    /// each 5xx.
    pub fn into_batch(
        self,
        base: u64,
        born: Option<&BornLookup<'_>>,
    ) -> Result<RecordBatch, arrow_schema::ArrowError> {
        let ChunkBatch { batch, file } = self;
        let batch = batch?;
        let mut cols: Vec<ArrayRef> = batch.columns().to_vec();
        let base = i64::try_from(base).unwrap_or(i64::MAX);
        let lines = cols[SOURCE_LINE]
            .as_any()
            .downcast_ref::<Int64Array>()
            .map(|a| {
                a.values()
                    .iter()
                    .map(|l| l.saturating_add(base))
                    .collect::<Vec<i64>>()
            });
        if let Some(lines) = lines {
            if let Some(born) = born {
                let status = cols[STATUS]
                    .as_any()
                    .downcast_ref::<arrow_array::Int32Array>()
                    .cloned();
                let mut b = StringBuilder::new();
                for (i, line) in lines.iter().enumerate() {
                    let is_5xx = status
                        .as_ref()
                        .is_some_and(|s| s.is_valid(i) && s.value(i) >= 500);
                    let at = if is_5xx {
                        born(&file, u64::try_from(*line).unwrap_or(0))
                    } else {
                        None
                    };
                    b.append_option(at);
                }
                cols[BORN_AT] = Arc::new(b.finish());
            }
            cols[SOURCE_LINE] = Arc::new(Int64Array::from(lines));
        }
        RecordBatch::try_new(schema(), cols)
    }
}

/// Text into a column: as it is when it holds no escape and is UTF-8 (the
/// common case: one copy), else unescaped as the log format says (`esc`;
/// `None`: lossy UTF-8, as the hop formats' text is read).
fn text(b: &mut StringBuilder, v: Option<&[u8]>, esc: Option<Escape>) {
    let Some(v) = v else {
        b.append_null();
        return;
    };
    if memchr::memchr(b'\\', v).is_none() {
        if let Ok(s) = std::str::from_utf8(v) {
            b.append_value(s);
            return;
        }
    }
    match esc {
        Some(e) => b.append_value(nginx::unescape(v, e)),
        None => b.append_value(String::from_utf8_lossy(v)),
    }
}

/// Lossy UTF-8 into a column, appended in place (no row finished).
fn lossy_into(b: &mut StringBuilder, v: &[u8]) {
    match std::str::from_utf8(v) {
        Ok(s) => {
            let _ = b.write_str(s);
        }
        Err(_) => {
            let _ = b.write_str(&String::from_utf8_lossy(v));
        }
    }
}

/// The `upstream` column: a list of attempt structs, one builder per field.
struct Attempts {
    address: StringBuilder,
    status: Int32Builder,
    connect: Float64Builder,
    header: Float64Builder,
    response: Float64Builder,
    offsets: Vec<i32>,
}

impl Attempts {
    fn new() -> Self {
        Attempts {
            address: StringBuilder::new(),
            status: Int32Builder::new(),
            connect: Float64Builder::new(),
            header: Float64Builder::new(),
            response: Float64Builder::new(),
            offsets: vec![0],
        }
    }

    fn times(&mut self, status: Option<u16>, c: Option<f64>, h: Option<f64>, r: Option<f64>) {
        self.status.append_option(status.map(i32::from));
        self.connect.append_option(c);
        self.header.append_option(h);
        self.response.append_option(r);
    }

    fn nginx(&mut self, a: AttemptRef<'_>) {
        lossy_into(&mut self.address, a.addr.unwrap_or_default());
        self.address.append_value("");
        self.times(a.status, a.connect_time, a.header_time, a.response_time);
    }

    fn hop(&mut self, a: &HopAttempt<'_>) {
        match (a.backend, a.addr) {
            (Some(b), Some(s)) => {
                lossy_into(&mut self.address, b);
                let _ = self.address.write_char('/');
                lossy_into(&mut self.address, s);
            }
            (_, Some(x)) | (Some(x), None) => lossy_into(&mut self.address, x),
            (None, None) => {}
        }
        self.address.append_value("");
        self.times(a.status, a.connect_time, a.header_time, a.response_time);
    }

    fn owned(&mut self, a: &crate::logs::record::Attempt) {
        self.address.append_value(&a.addr);
        self.times(a.status, a.connect_time, a.header_time, a.response_time);
    }

    /// Close the current row's list.
    fn end_row(&mut self) {
        let n = i32::try_from(self.status.len()).unwrap_or(i32::MAX);
        self.offsets.push(n);
    }

    fn finish(&mut self) -> ListArray {
        let cols: Vec<ArrayRef> = vec![
            Arc::new(self.address.finish()),
            Arc::new(self.status.finish()),
            Arc::new(self.connect.finish()),
            Arc::new(self.header.finish()),
            Arc::new(self.response.finish()),
        ];
        let values = StructArray::new(attempt_fields(), cols, None);
        let offsets = std::mem::replace(&mut self.offsets, vec![0]);
        ListArray::new(
            attempt_item(),
            OffsetBuffer::new(ScalarBuffer::from(offsets)),
            Arc::new(values),
            None,
        )
    }
}

/// The columns of one chunk being filled.
struct Builders {
    file: Arc<str>,
    format: &'static str,
    kind: HopKind,
    opts: RowOptions,
    time: TimestampMillisecondBuilder,
    source_line: Int64Builder,
    client: StringBuilder,
    method: StringBuilder,
    host: StringBuilder,
    path: StringBuilder,
    status: Int32Builder,
    request_time: Float64Builder,
    upstream: Attempts,
    upstream_addr: StringBuilder,
    cause: StringBuilder,
    evidence: StringBuilder,
    evidence_offsets: Vec<i32>,
    evidence_valid: BooleanBufferBuilder,
    rescued: BooleanBuilder,
    request_id: StringBuilder,
    born_at: StringBuilder,
    len: usize,
}

impl Builders {
    fn new(file: &str, format: &'static str, kind: HopKind, opts: RowOptions) -> Self {
        Builders {
            file: Arc::from(file),
            format,
            kind,
            opts,
            time: TimestampMillisecondBuilder::new().with_timezone("UTC"),
            source_line: Int64Builder::new(),
            client: StringBuilder::new(),
            method: StringBuilder::new(),
            host: StringBuilder::new(),
            path: StringBuilder::new(),
            status: Int32Builder::new(),
            request_time: Float64Builder::new(),
            upstream: Attempts::new(),
            upstream_addr: StringBuilder::new(),
            cause: StringBuilder::new(),
            evidence: StringBuilder::new(),
            evidence_offsets: vec![0],
            evidence_valid: BooleanBufferBuilder::new(0),
            rescued: BooleanBuilder::new(),
            request_id: StringBuilder::new(),
            born_at: StringBuilder::new(),
            len: 0,
        }
    }

    /// The columns every row fills the same way.
    fn common(&mut self, line: u64, time: Option<i64>, status: u16, request_time: Option<f64>) {
        self.time.append_option(time);
        self.source_line
            .append_value(i64::try_from(line).unwrap_or(i64::MAX));
        self.status
            .append_option((status != 0).then_some(i32::from(status)));
        self.request_time.append_option(request_time);
        self.len += 1;
    }

    /// A row without cause or evidence.
    fn unclassified(&mut self) {
        self.cause.append_null();
        self.evidence_offsets
            .push(self.evidence_offsets[self.evidence_offsets.len() - 1]);
        self.evidence_valid.append(false);
        self.rescued.append_value(false);
        self.born_at.append_null();
    }
}

impl ChunkRows for Builders {
    fn nginx(&mut self, rec: &Record<'_>, line: u64, esc: Escape) {
        if self.opts.only_5xx {
            return;
        }
        let mut rec = *rec;
        rec.split_request();
        let e = Some(esc);
        self.common(
            line,
            rec.time.map(|t| t.utc_ms),
            rec.status.unwrap_or(0),
            rec.request_time_ms().map(|ms| ms as f64 / 1000.0),
        );
        text(&mut self.client, rec.client, e);
        text(&mut self.method, rec.method, e);
        text(&mut self.host, rec.host, e);
        text(&mut self.path, rec.path, e);
        let up = &mut self.upstream;
        rec.upstream.each_attempt(|a| up.nginx(a));
        up.end_row();
        self.upstream_addr.append_null();
        text(&mut self.request_id, rec.request_id, e);
        self.unclassified();
    }

    fn hop(&mut self, rec: &HopRecord<'_>, line: u64) {
        if self.opts.only_5xx {
            return;
        }
        self.common(
            line,
            rec.time.map(|t| t.utc_ms),
            rec.status.unwrap_or(0),
            rec.total_ms.map(|ms| ms as f64 / 1000.0),
        );
        text(&mut self.client, rec.client, None);
        text(&mut self.method, rec.method, None);
        text(&mut self.host, rec.host, None);
        text(&mut self.path, rec.path, None);
        if let Some(a) = hop_attempt(rec) {
            self.upstream.hop(&a);
        }
        self.upstream.end_row();
        // the next hop as the report's top-upstreams names it
        match rec.signals {
            Signals::Haproxy {
                backend: Some(b),
                server: Some(s),
                ..
            } => {
                lossy_into(&mut self.upstream_addr, b);
                let _ = self.upstream_addr.write_char('/');
                lossy_into(&mut self.upstream_addr, s);
                self.upstream_addr.append_value("");
            }
            _ => text(&mut self.upstream_addr, rec.upstream_addr, None),
        }
        text(&mut self.request_id, rec.request_id, None);
        self.unclassified();
    }

    fn event(&mut self, e: Event) {
        if self.opts.only_5xx && e.status < 500 {
            return;
        }
        self.common(e.line, e.at.map(|t| t.utc_ms), e.status, e.request_time);
        self.client.append_option(e.client.as_deref());
        self.method.append_option(e.method.as_deref());
        self.host.append_option(e.host.as_deref());
        self.path.append_option(e.path.as_deref());
        for a in &e.upstream {
            self.upstream.owned(a);
        }
        self.upstream.end_row();
        self.upstream_addr.append_option(e.blamed.as_deref());
        let classified = e.classified();
        self.cause.append_option(classified.then(|| e.cause.id()));
        if classified {
            for line in &e.evidence {
                self.evidence.append_value(line);
            }
        }
        self.evidence_offsets
            .push(i32::try_from(self.evidence.len()).unwrap_or(i32::MAX));
        self.evidence_valid.append(classified);
        self.rescued.append_value(e.rescued);
        self.request_id.append_option(e.request_id.as_deref());
        let born =
            (self.opts.one_hop && e.status == 502).then(|| born_at_last_hop(self.kind, e.cause));
        self.born_at.append_option(born);
    }

    fn finish(mut self: Box<Self>) -> crate::analyze::rows::FinishedRows {
        let n = self.len;
        let constant = |v: &str| -> ArrayRef {
            Arc::new(StringArray::from_iter_values(std::iter::repeat_n(v, n)))
        };
        let evidence_offsets = std::mem::take(&mut self.evidence_offsets);
        let evidence = ListArray::new(
            evidence_item(),
            OffsetBuffer::new(ScalarBuffer::from(evidence_offsets)),
            Arc::new(self.evidence.finish()),
            Some(NullBuffer::new(self.evidence_valid.finish())),
        );
        let cols: Vec<ArrayRef> = vec![
            Arc::new(self.time.finish()),
            constant(kind_name(self.kind)),
            constant(self.format),
            constant(&self.file),
            Arc::new(self.source_line.finish()),
            constant(&self.opts.dump_host),
            Arc::new(self.client.finish()),
            Arc::new(self.method.finish()),
            Arc::new(self.host.finish()),
            Arc::new(self.path.finish()),
            Arc::new(self.status.finish()),
            Arc::new(self.request_time.finish()),
            Arc::new(self.upstream.finish()),
            Arc::new(self.upstream_addr.finish()),
            Arc::new(self.cause.finish()),
            Arc::new(evidence),
            Arc::new(self.rescued.finish()),
            Arc::new(self.request_id.finish()),
            Arc::new(self.born_at.finish()),
        ];
        let batch = RecordBatch::try_new(schema(), cols);
        Box::new(ChunkBatch {
            batch,
            file: self.file.clone(),
        })
    }
}
