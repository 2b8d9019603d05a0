//! One Parquet part file: record batches (built on the workers,
//! [`super::batch`]) → zstd-compressed, dictionary-encoded row groups of about
//! [`super::ExportOptions::row_group_bytes`] (Spark and Trino split work by
//! row group; 128 MiB is their default block size).

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use arrow_array::RecordBatch;
use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, Encoding, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use parquet::schema::types::ColumnPath;

use crate::error::Error;

/// zstd level: 3 is zstd's default, a good ratio at several hundred MB/s.
const ZSTD_LEVEL: i32 = 3;

/// The fields of an upstream attempt struct.
pub fn attempt_fields() -> Fields {
    Fields::from(vec![
        Field::new("address", DataType::Utf8, true),
        Field::new("status", DataType::Int32, true),
        Field::new("connect", DataType::Float64, true),
        Field::new("header", DataType::Float64, true),
        Field::new("response", DataType::Float64, true),
    ])
}

/// The item field of the `upstream` list.
pub fn attempt_item() -> Arc<Field> {
    Arc::new(Field::new("item", DataType::Struct(attempt_fields()), true))
}

/// The item field of the `evidence` list.
pub fn evidence_item() -> Arc<Field> {
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

/// One Parquet file being written.
pub struct PartWriter {
    w: ArrowWriter<BufWriter<File>>,
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
            // line numbers count up and times nearly so: deltas of a few
            // bits, where a dictionary would hash every value and overflow
            .set_column_dictionary_enabled(ColumnPath::from("source_line"), false)
            .set_column_encoding(
                ColumnPath::from("source_line"),
                Encoding::DELTA_BINARY_PACKED,
            )
            .set_column_dictionary_enabled(ColumnPath::from("time"), false)
            .set_column_encoding(ColumnPath::from("time"), Encoding::DELTA_BINARY_PACKED)
            .set_key_value_metadata(Some(vec![KeyValue::new(
                super::SCHEMA_VERSION_KEY.to_string(),
                super::SCHEMA_VERSION.to_string(),
            )]))
            .build();
        let w = ArrowWriter::try_new(BufWriter::new(file), schema(), Some(props))
            .map_err(|e| parquet_err(path, e))?;
        Ok(PartWriter {
            w,
            path: path.to_path_buf(),
        })
    }

    /// Add the rows of a batch (in [`schema`]).
    pub fn push_batch(&mut self, batch: &RecordBatch) -> Result<(), Error> {
        self.w.write(batch).map_err(|e| parquet_err(&self.path, e))
    }

    /// Write what is buffered and the footer; the file is complete.
    pub fn close(self) -> Result<(), Error> {
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
