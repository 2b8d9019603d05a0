//! `gatecheck export`: every request of a dump (or every 5xx), parsed and
//! classified by the very passes `analyze` runs, written as typed rows for
//! a distributed engine (Spark, Trino, DuckDB, ClickHouse) to aggregate
//! across a fleet.
//!
//! The rows come from [`analyze::analyze_rows`] with
//! [`Options::all_requests`]: the analysis workers turn each chunk's
//! requests into Arrow columns ([`batch`]) or NDJSON text
//! ([`ndjson_chunk`]), handed out in file and line order a window of chunks
//! at a time, so memory stays bounded. [`parts`] routes them to one file
//! per UTC hour (`date=YYYY-MM-DD/hour=HH/part-N.parquet`, Hive-style,
//! which Spark, Trino and DuckDB read as partition columns), written by
//! [`parquet`] (its columns encoded by [`encode`]'s threads) or [`ndjson`].
//! Imports `analyze`; never the CLI.

pub mod batch;
pub mod encode;
pub mod ndjson;
pub mod ndjson_chunk;
pub mod parquet;
pub mod parts;
pub mod row;

use std::path::{Path, PathBuf};

use std::collections::HashMap;
use std::sync::Arc;

use crate::analyze::rows::FinishedRows;
use crate::analyze::{self, InputKind, Options, Report};
use crate::error::Error;

/// Version of the row schema, written in each Parquet file's key-value
/// metadata (key [`SCHEMA_VERSION_KEY`]) and in each NDJSON row. Bumped
/// when a column changes meaning or type; adding a column keeps it.
pub const SCHEMA_VERSION: &str = "1";
/// Key-value metadata key of [`SCHEMA_VERSION`].
pub const SCHEMA_VERSION_KEY: &str = "gatecheck.schema_version";

/// Output file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Apache Parquet, zstd-compressed, dictionary-encoded.
    #[default]
    Parquet,
    /// One JSON object per line (ClickHouse `JSONEachRow`, Loki, jq).
    Ndjson,
}

impl Format {
    /// File extension.
    pub fn ext(self) -> &'static str {
        match self {
            Format::Parquet => "parquet",
            Format::Ndjson => "ndjson",
        }
    }
}

/// What to write where.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    /// Output folder.
    pub to: PathBuf,
    /// File format.
    pub format: Format,
    /// Only requests with a status of 500 or more.
    pub only_5xx: bool,
    /// Name of the host the dump comes from (`dump_host` column).
    pub host: String,
    /// Write into an existing, non-empty folder (its `date=*` partitions are
    /// removed first).
    pub overwrite: bool,
    /// Close a Parquet row group when its encoded size reaches this.
    pub row_group_bytes: usize,
}

impl ExportOptions {
    /// Defaults for writing to `to`: Parquet, every request, 128 MiB row
    /// groups (the block size Spark and Trino split on), the host named by
    /// `host`.
    pub fn new(to: impl Into<PathBuf>, host: impl Into<String>) -> Self {
        ExportOptions {
            to: to.into(),
            format: Format::Parquet,
            only_5xx: false,
            host: host.into(),
            overwrite: false,
            row_group_bytes: 128 << 20,
        }
    }
}

/// What an export did.
pub struct Exported {
    /// The analysis of the same run (inputs read, problems, counts).
    pub report: Report,
    /// Rows written.
    pub rows: u64,
    /// Files written, in the order they were closed.
    pub files: Vec<PathBuf>,
}

/// The default `--host`: the name of the dump's folder (of the first path;
/// for a file, of the folder holding it).
pub fn default_host(paths: &[String]) -> String {
    let Some(p) = paths.first() else {
        return "unknown".into();
    };
    let path = Path::new(p);
    let abs = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let dir = if abs.is_dir() {
        abs.as_path()
    } else {
        abs.parent().unwrap_or(&abs)
    };
    dir.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

/// Where each 502 was born, by file and line, for a dump whose requests
/// are logged at several hops (nginx and HAProxy, a CDN and nginx): the
/// join across hops needs every hop's 5xx first, so such a dump is read
/// twice (a first pass without rows). `None` for a one-hop dump, whose
/// 502s are placed by their own cause ([`born_at_last_hop`]).
fn born_map(paths: &[String], opts: &Options) -> Result<Option<BornMap>, Error> {
    let (inputs, _) = analyze::detect_formats(paths, opts);
    let mut hops: Vec<&str> = inputs
        .iter()
        .filter_map(|i| match i.input_kind {
            InputKind::NginxAccess => Some("nginx"),
            InputKind::Hop(name) => Some(name),
            _ => None,
        })
        .collect();
    hops.sort_unstable();
    hops.dedup();
    if hops.len() < 2 {
        return Ok(None);
    }
    let mut first = opts.clone();
    first.keep_events = false;
    first.progress = None;
    let report = analyze::analyze_streaming(paths, &first, &mut |_| {})?;
    let placed = report.born.map(|b| b.placed).unwrap_or_default();
    let mut map = BornMap::default();
    for (file, line, born_at) in placed {
        map.0.entry(file).or_default().insert(line, born_at);
    }
    Ok(Some(map))
}

/// `born_at` by file, then line, of the record that starts each 502's chain.
#[derive(Default)]
struct BornMap(HashMap<String, HashMap<u64, &'static str>>);

impl BornMap {
    fn get(&self, file: &str, line: u64) -> Option<&'static str> {
        self.0.get(file)?.get(&line).copied()
    }
}

/// A chunk's rows as the writer's type `T`, or nothing once a write has
/// failed (the rest of the run only finishes the report).
fn unless_failed<T: 'static>(rows: FinishedRows, failed: &Option<Error>) -> Option<Box<T>> {
    if failed.is_some() {
        return None;
    }
    rows.downcast::<T>().ok()
}

/// Analyze `paths` and write their rows to `eo.to`. Inputs that cannot be
/// read are in the report's problems and inputs, as for `analyze`; an
/// output that cannot be written is an error, and leaves no file that looks
/// complete (files are written under a hidden name and renamed when closed).
pub fn export(paths: &[String], opts: &Options, eo: &ExportOptions) -> Result<Exported, Error> {
    parts::prepare(&eo.to, eo.overwrite)?;
    let born = born_map(paths, opts)?;
    let mut opts = opts.clone();
    opts.keep_events = true;
    opts.all_requests = !eo.only_5xx;
    let mut parts = parts::Parts::new(eo);
    let mut failed: Option<Error> = None;
    let lookup = |file: &str, line: u64| born.as_ref().and_then(|m| m.get(file, line));
    let lookup: &batch::BornLookup<'_> = &lookup;
    let born_of = born.is_some().then_some(lookup);
    let rows = row::RowOptions {
        dump_host: Arc::from(eo.host.as_str()),
        only_5xx: eo.only_5xx,
        one_hop: born.is_none(),
    };
    let report = match eo.format {
        Format::Parquet => {
            // rows built on the workers, batches written here in order
            opts.rows = Some(Arc::new(batch::Factory(rows)));
            let mut on_rows = |rows: FinishedRows, base: u64| {
                let Some(chunk) = unless_failed::<batch::ChunkBatch>(rows, &failed) else {
                    return;
                };
                let file = chunk.file.clone();
                let pushed = chunk
                    .into_batch(base, born_of)
                    .map_err(|e| Error::Export {
                        path: eo.to.clone(),
                        message: format!("{file}: {e}"),
                    })
                    .and_then(|b| parts.push_batch(&b));
                if let Err(err) = pushed {
                    failed = Some(err);
                }
            };
            analyze::analyze_rows(paths, &opts, &mut on_rows)
        }
        Format::Ndjson => {
            // rows serialized on the workers, copied here in order
            opts.rows = Some(Arc::new(ndjson_chunk::NdjsonFactory(rows)));
            let mut on_rows = |rows: FinishedRows, base: u64| {
                let Some(chunk) = unless_failed::<ndjson_chunk::NdjsonChunk>(rows, &failed) else {
                    return;
                };
                for r in &chunk.rows {
                    let pushed =
                        parts.push_serialized(r.hour, |w| chunk.write_row(r, base, born_of, w));
                    if let Err(err) = pushed {
                        failed = Some(err);
                        return;
                    }
                }
            };
            analyze::analyze_rows(paths, &opts, &mut on_rows)
        }
    };
    if let Some(err) = failed {
        parts.abandon();
        return Err(err);
    }
    let report = match report {
        Ok(r) => r,
        Err(e) => {
            parts.abandon();
            return Err(e);
        }
    };
    let (rows, files) = parts.finish()?;
    Ok(Exported {
        report,
        rows,
        files,
    })
}
