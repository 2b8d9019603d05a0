//! One Parquet part file: events → Arrow column builders → record batches
//! → zstd-compressed, dictionary-encoded row groups of about
//! [`super::ExportOptions::row_group_bytes`] (Spark and Trino split work by
//! row group; 128 MiB is their default block size).

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use arrow_array::builder::{
    BooleanBuilder, Float64Builder, Int32Builder, Int64Builder, ListBuilder, StringBuilder,
    StructBuilder, TimestampMillisecondBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use parquet::schema::types::ColumnPath;

use super::row::{hop_of, kind_name};
use crate::analyze::event::Event;
use crate::error::Error;

/// Rows buffered in the column builders before they go to the writer as one
/// batch (the writer encodes a batch at a time; 8 Ki rows is a few MB).
const BATCH_ROWS: usize = 8192;
/// zstd level: 3 is zstd's default, a good ratio at several hundred MB/s.
const ZSTD_LEVEL: i32 = 3;

fn attempt_fields() -> Fields {
    Fields::from(vec![
        Field::new("address", DataType::Utf8, true),
        Field::new("status", DataType::Int32, true),
        Field::new("connect", DataType::Float64, true),
        Field::new("header", DataType::Float64, true),
        Field::new("response", DataType::Float64, true),
    ])
}

fn attempt_item() -> Arc<Field> {
    Arc::new(Field::new("item", DataType::Struct(attempt_fields()), true))
}

fn evidence_item() -> Arc<Field> {
    Arc::new(Field::new("item", DataType::Utf8, true))
}

/// The Arrow schema of the rows (the README's table), with the schema
/// version in its metadata. Integers are signed (Spark reads unsigned
/// Parquet integers poorly).
pub fn schema() -> SchemaRef {
    static SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            let s = |name: &str, nullable| Field::new(name, DataType::Utf8, nullable);
            let fields = vec![
                Field::new(
                    "time",
                    DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
                    true,
                ),
                s("hop_kind", false),
                s("hop_format", false),
                s("source_file", false),
                Field::new("source_line", DataType::Int64, false),
                s("dump_host", false),
                s("client", true),
                s("method", true),
                s("host", true),
                s("path", true),
                Field::new("status", DataType::Int32, true),
                Field::new("request_time", DataType::Float64, true),
                Field::new("upstream", DataType::List(attempt_item()), true),
                s("upstream_addr", true),
                s("cause", true),
                Field::new("evidence", DataType::List(evidence_item()), true),
                Field::new("rescued", DataType::Boolean, false),
                s("request_id", true),
                s("born_at", true),
            ];
            let meta = [(
                super::SCHEMA_VERSION_KEY.to_string(),
                super::SCHEMA_VERSION.to_string(),
            )]
            .into_iter()
            .collect();
            Arc::new(Schema::new(fields).with_metadata(meta))
        })
        .clone()
}

/// The columns being filled.
struct Builders {
    time: TimestampMillisecondBuilder,
    hop_kind: StringBuilder,
    hop_format: StringBuilder,
    source_file: StringBuilder,
    source_line: Int64Builder,
    dump_host: StringBuilder,
    client: StringBuilder,
    method: StringBuilder,
    host: StringBuilder,
    path: StringBuilder,
    status: Int32Builder,
    request_time: Float64Builder,
    upstream: ListBuilder<StructBuilder>,
    upstream_addr: StringBuilder,
    cause: StringBuilder,
    evidence: ListBuilder<StringBuilder>,
    rescued: BooleanBuilder,
    request_id: StringBuilder,
    born_at: StringBuilder,
    len: usize,
}

impl Builders {
    fn new() -> Self {
        Builders {
            time: TimestampMillisecondBuilder::new().with_timezone("UTC"),
            hop_kind: StringBuilder::new(),
            hop_format: StringBuilder::new(),
            source_file: StringBuilder::new(),
            source_line: Int64Builder::new(),
            dump_host: StringBuilder::new(),
            client: StringBuilder::new(),
            method: StringBuilder::new(),
            host: StringBuilder::new(),
            path: StringBuilder::new(),
            status: Int32Builder::new(),
            request_time: Float64Builder::new(),
            upstream: ListBuilder::new(StructBuilder::from_fields(attempt_fields(), 0))
                .with_field(attempt_item()),
            upstream_addr: StringBuilder::new(),
            cause: StringBuilder::new(),
            evidence: ListBuilder::new(StringBuilder::new()).with_field(evidence_item()),
            rescued: BooleanBuilder::new(),
            request_id: StringBuilder::new(),
            born_at: StringBuilder::new(),
            len: 0,
        }
    }

    fn push(&mut self, e: &Event, dump_host: &str, born_at: Option<&str>) {
        let (fmt, kind) = hop_of(e);
        self.time.append_option(e.at.map(|t| t.utc_ms));
        self.hop_kind.append_value(kind_name(kind));
        self.hop_format.append_value(fmt);
        self.source_file.append_value(&e.file);
        self.source_line
            .append_value(i64::try_from(e.line).unwrap_or(i64::MAX));
        self.dump_host.append_value(dump_host);
        self.client.append_option(e.client.as_deref());
        self.method.append_option(e.method.as_deref());
        self.host.append_option(e.host.as_deref());
        self.path.append_option(e.path.as_deref());
        self.status
            .append_option((e.status != 0).then_some(i32::from(e.status)));
        self.request_time.append_option(e.request_time);
        let attempts = self.upstream.values();
        for a in &e.upstream {
            push_attempt(attempts, a);
        }
        self.upstream.append(true);
        self.upstream_addr.append_option(e.blamed.as_deref());
        let classified = e.classified();
        self.cause.append_option(classified.then(|| e.cause.id()));
        if classified {
            for line in &e.evidence {
                self.evidence.values().append_value(line);
            }
        }
        self.evidence.append(classified);
        self.rescued.append_value(e.rescued);
        self.request_id.append_option(e.request_id.as_deref());
        self.born_at.append_option(born_at);
        self.len += 1;
    }

    fn finish(&mut self) -> Result<RecordBatch, arrow_schema::ArrowError> {
        let cols: Vec<ArrayRef> = vec![
            Arc::new(self.time.finish()),
            Arc::new(self.hop_kind.finish()),
            Arc::new(self.hop_format.finish()),
            Arc::new(self.source_file.finish()),
            Arc::new(self.source_line.finish()),
            Arc::new(self.dump_host.finish()),
            Arc::new(self.client.finish()),
            Arc::new(self.method.finish()),
            Arc::new(self.host.finish()),
            Arc::new(self.path.finish()),
            Arc::new(self.status.finish()),
            Arc::new(self.request_time.finish()),
            Arc::new(self.upstream.finish()),
            Arc::new(self.upstream_addr.finish()),
            Arc::new(self.cause.finish()),
            Arc::new(self.evidence.finish()),
            Arc::new(self.rescued.finish()),
            Arc::new(self.request_id.finish()),
            Arc::new(self.born_at.finish()),
        ];
        self.len = 0;
        RecordBatch::try_new(schema(), cols)
    }
}

fn push_attempt(b: &mut StructBuilder, a: &crate::logs::record::Attempt) {
    if let Some(f) = b.field_builder::<StringBuilder>(0) {
        f.append_value(&a.addr);
    }
    if let Some(f) = b.field_builder::<Int32Builder>(1) {
        f.append_option(a.status.map(i32::from));
    }
    for (i, v) in [
        (2, a.connect_time),
        (3, a.header_time),
        (4, a.response_time),
    ] {
        if let Some(f) = b.field_builder::<Float64Builder>(i) {
            f.append_option(v);
        }
    }
    b.append(true);
}

/// One Parquet file being written.
pub struct PartWriter {
    w: ArrowWriter<BufWriter<File>>,
    b: Builders,
    path: PathBuf,
}

fn parquet_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Export {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

impl PartWriter {
    /// Start a file at `path` (created; the caller renames it when closed).
    pub fn create(path: &Path, row_group_bytes: usize) -> Result<Self, Error> {
        let file = File::create(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let level = ZstdLevel::try_new(ZSTD_LEVEL).map_err(|e| parquet_err(path, e))?;
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(level))
            .set_max_row_group_row_count(None)
            .set_max_row_group_bytes(Some(row_group_bytes.max(1)))
            // ids are unique: a dictionary only costs time (other strings
            // keep the default, dictionary pages with a plain fallback)
            .set_column_dictionary_enabled(ColumnPath::from("request_id"), false)
            .set_key_value_metadata(Some(vec![KeyValue::new(
                super::SCHEMA_VERSION_KEY.to_string(),
                super::SCHEMA_VERSION.to_string(),
            )]))
            .build();
        let w = ArrowWriter::try_new(BufWriter::new(file), schema(), Some(props))
            .map_err(|e| parquet_err(path, e))?;
        Ok(PartWriter {
            w,
            b: Builders::new(),
            path: path.to_path_buf(),
        })
    }

    /// Add one row.
    pub fn push(&mut self, e: &Event, dump_host: &str, born_at: Option<&str>) -> Result<(), Error> {
        self.b.push(e, dump_host, born_at);
        if self.b.len >= BATCH_ROWS {
            self.write_batch()?;
        }
        Ok(())
    }

    fn write_batch(&mut self) -> Result<(), Error> {
        if self.b.len == 0 {
            return Ok(());
        }
        let batch = self.b.finish().map_err(|e| parquet_err(&self.path, e))?;
        self.w.write(&batch).map_err(|e| parquet_err(&self.path, e))
    }

    /// Write what is buffered and the footer; the file is complete.
    pub fn close(mut self) -> Result<(), Error> {
        self.write_batch()?;
        let path = self.path.clone();
        let mut out = self.w.into_inner().map_err(|e| parquet_err(&path, e))?;
        std::io::Write::flush(&mut out).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        let file = out
            .into_inner()
            .map_err(|e| parquet_err(&path, e.error()))?;
        file.sync_all().map_err(|source| Error::Io { path, source })
    }
}
