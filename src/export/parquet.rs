//! One Parquet part file: record batches (built on the workers,
//! [`super::batch`]) → zstd-compressed, dictionary-encoded row groups of about
//! [`super::ExportOptions::row_group_bytes`] (Spark and Trino split work by
//! row group; 128 MiB is their default block size). The columns are encoded
//! by [`super::encode`]'s threads; this file's writer appends the finished
//! row groups and writes the footer.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use arrow_array::RecordBatch;
use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, Encoding, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::ColumnPath;

use super::encode::{EncodeError, Encoders};
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

/// The writer properties of every part: zstd, dictionaries, the schema
/// version in the key-value metadata.
fn properties() -> Result<WriterProperties, String> {
    let level = ZstdLevel::try_new(ZSTD_LEVEL).map_err(|e| e.to_string())?;
    Ok(WriterProperties::builder()
        .set_compression(Compression::ZSTD(level))
        .set_max_row_group_row_count(None)
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
        .build())
}

/// A file writer for `out` with [`properties`] and the Arrow schema in its
/// metadata (as [`ArrowWriter`] writes it, so readers get the Arrow types
/// back), and the factory of column writers that match it.
fn file_writer<W: std::io::Write + Send>(
    out: W,
) -> Result<
    (
        SerializedFileWriter<W>,
        parquet::arrow::arrow_writer::ArrowRowGroupWriterFactory,
    ),
    String,
> {
    let w = ArrowWriter::try_new(out, schema(), Some(properties()?)).map_err(|e| e.to_string())?;
    w.into_serialized_writer().map_err(|e| e.to_string())
}

/// The encoder threads for Parquet parts: `lanes` of them.
pub fn encoders(lanes: usize) -> Result<Encoders, String> {
    let (_, factory) = file_writer(std::io::sink())?;
    Encoders::new(factory, schema(), lanes).map_err(|e| e.to_string())
}

/// One Parquet file being written.
pub struct PartWriter {
    w: SerializedFileWriter<BufWriter<File>>,
    path: PathBuf,
    enc: Arc<Encoders>,
    part: u64,
    /// Each lane's estimated encoded bytes of the row group in progress.
    sizes: Vec<Arc<AtomicUsize>>,
    /// Rows in the row group in progress.
    rows: usize,
    row_group_bytes: usize,
}

fn parquet_err(path: &Path, e: impl std::fmt::Display) -> Error {
    let text = e.to_string();
    // An I/O error comes back wrapped as parquet's `External: …`.
    let text = text.strip_prefix("External: ").unwrap_or(&text);
    let message = if text.contains("os error 28") {
        format!("{text}: free space on that disk, or export to another --to")
    } else {
        text.to_owned()
    };
    Error::Export {
        path: path.to_path_buf(),
        message,
    }
}

impl PartWriter {
    /// Start a file at `path` (created; the caller renames it when closed),
    /// its columns encoded by `enc`.
    pub fn create(path: &Path, row_group_bytes: usize, enc: Arc<Encoders>) -> Result<Self, Error> {
        let file = File::create(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let (w, _) = file_writer(BufWriter::new(file)).map_err(|e| parquet_err(path, e))?;
        let sizes = (0..enc.lanes())
            .map(|_| Arc::new(AtomicUsize::new(0)))
            .collect();
        Ok(PartWriter {
            w,
            path: path.to_path_buf(),
            part: enc.part(),
            enc,
            sizes,
            rows: 0,
            row_group_bytes: row_group_bytes.max(1),
        })
    }

    fn err(&self, e: EncodeError) -> Error {
        parquet_err(&self.path, e)
    }

    /// Add the rows of a batch (in [`schema`]); a row group is closed when
    /// its estimated encoded size reaches the bound.
    pub fn push_batch(&mut self, batch: &RecordBatch) -> Result<(), Error> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        self.enc
            .push(self.part, batch, &self.sizes)
            .map_err(|e| self.err(e))?;
        self.rows += batch.num_rows();
        // the lanes' figures lag by the batches they still hold: a row
        // group overshoots the bound by at most that much
        let bytes: usize = self.sizes.iter().map(|s| s.load(Ordering::Relaxed)).sum();
        if bytes >= self.row_group_bytes {
            self.flush_group()?;
        }
        Ok(())
    }

    /// Append the row group in progress (if any) to the file.
    fn flush_group(&mut self) -> Result<(), Error> {
        if self.rows == 0 {
            return Ok(());
        }
        self.rows = 0;
        for s in &self.sizes {
            s.store(0, Ordering::Relaxed);
        }
        let chunks = self.enc.close(self.part).map_err(|e| self.err(e))?;
        let path = &self.path;
        let mut rg = self.w.next_row_group().map_err(|e| parquet_err(path, e))?;
        for c in chunks {
            c.append_to_row_group(&mut rg)
                .map_err(|e| parquet_err(path, e))?;
        }
        rg.close().map_err(|e| parquet_err(path, e))?;
        Ok(())
    }

    /// Write what is buffered and the footer; the file is complete.
    pub fn close(mut self) -> Result<(), Error> {
        self.flush_group()?;
        let path = self.path.clone();
        // writes the footer
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

    /// Drop the row group in progress (the file is being abandoned).
    pub fn abandon(self) {
        if self.rows > 0 {
            self.enc.forget(self.part);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::cause::Cause;
    use crate::analyze::event::Event;
    use crate::analyze::rows::RowsFactory;
    use crate::export::batch::{ChunkBatch, Factory};
    use crate::logs::record::Attempt;
    use crate::logs::scan::LogTime;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    /// A chunk of `n` rows with every column kind filled in varied ways
    /// (nulls, empty and long lists, 5xx with evidence).
    fn chunk(n: usize, seed: usize) -> RecordBatch {
        let f = Factory(crate::export::row::RowOptions {
            dump_host: Arc::from("edge-1"),
            only_5xx: false,
            one_hop: true,
        });
        let mut rows = f.chunk("access.log", None);
        for i in 0..n {
            let k = i * 7 + seed * 13;
            let status = [200u16, 200, 404, 502, 504, 200][k % 6];
            let upstream = (0..k % 3)
                .map(|a| Attempt {
                    addr: format!("10.0.{}.{}:80", a, k % 11),
                    status: (a + k % 2 > 0).then_some(status),
                    connect_time: Some((k % 5) as f64 / 1000.0),
                    header_time: (k % 4 != 0).then_some((k % 97) as f64 / 100.0),
                    response_time: Some((k % 89) as f64 / 10.0),
                    group: 0,
                })
                .collect();
            rows.event(Event {
                file: "access.log".into(),
                line: i as u64 + 1,
                time: None,
                client: (k % 9 != 0).then(|| format!("192.0.2.{}", k % 50)),
                method: Some(["GET", "POST"][k % 2].into()),
                host: (k % 3 == 0).then(|| "example.com".into()),
                path: Some(format!("/api/{}/items?q={}", k % 40, k)),
                status,
                request_time: Some((k % 1000) as f64 / 1000.0),
                upstream,
                cause: if status >= 500 {
                    Cause::UpstreamReset
                } else {
                    Cause::Unknown
                },
                evidence: if status >= 500 {
                    vec![format!("error.log:{k}: recv() failed (104)"), "x".into()]
                } else {
                    Vec::new()
                },
                rescued: false,
                request_id: (k % 2 == 0).then(|| format!("{k:032x}")),
                hop: None,
                at: Some(LogTime {
                    utc_ms: 1_763_643_787_000 + (seed * n + i) as i64 * 250,
                    offset_s: 0,
                }),
                blamed: (status >= 500).then(|| "10.0.0.1:80".into()),
            });
        }
        let done = rows.finish().downcast::<ChunkBatch>().unwrap();
        done.into_batch((seed * n) as u64, None).unwrap()
    }

    /// The file `PartWriter` writes, a row group per batch when `groups`.
    fn write_parts(batches: &[RecordBatch], groups: bool) -> Vec<u8> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.parquet");
        let enc = Arc::new(encoders(2).unwrap());
        let mut w = PartWriter::create(&path, 128 << 20, enc).unwrap();
        for b in batches {
            w.push_batch(b).unwrap();
            if groups {
                w.flush_group().unwrap();
            }
        }
        w.close().unwrap();
        std::fs::read(&path).unwrap()
    }

    #[test]
    fn leaf_counts_match_the_parquet_schema() {
        let (w, factory) = file_writer(std::io::sink()).unwrap();
        let n: usize = (schema().fields().iter())
            .map(|f| crate::export::encode::leaf_count(f.data_type()))
            .sum();
        assert_eq!(n, w.schema_descr().num_columns());
        assert_eq!(n, factory.create_column_writers(0).unwrap().len());
    }

    #[test]
    fn lanes_write_the_bytes_arrow_writer_writes() {
        let batches: Vec<RecordBatch> = (0..4).map(|s| chunk(700, s)).collect();
        let ours = write_parts(&batches, false);
        let mut theirs = Vec::new();
        let mut w =
            ArrowWriter::try_new(&mut theirs, schema(), Some(properties().unwrap())).unwrap();
        for b in &batches {
            w.write(b).unwrap();
        }
        w.close().unwrap();
        assert_eq!(ours.len(), theirs.len());
        assert!(ours == theirs, "same bytes as one ArrowWriter");
    }

    #[test]
    fn row_groups_appended_one_by_one_read_back_whole() {
        let batches: Vec<RecordBatch> = (0..3).map(|s| chunk(500, s)).collect();
        let bytes = write_parts(&batches, true);
        let file = tempfile::tempfile().unwrap();
        std::io::Write::write_all(&mut &file, &bytes).unwrap();
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .unwrap()
            .with_batch_size(500);
        assert_eq!(reader.metadata().num_row_groups(), batches.len());
        let back: Vec<RecordBatch> = reader.build().unwrap().map(|b| b.unwrap()).collect();
        assert_eq!(back.len(), batches.len());
        for (got, want) in back.iter().zip(&batches) {
            assert_eq!(got.columns(), want.columns());
        }
    }
}
