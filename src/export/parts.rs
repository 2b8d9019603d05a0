//! Rows → one file per UTC hour, in Hive-style partition folders
//! (`date=2026-11-20/hour=14/part-00000.parquet`), which Spark, Trino and
//! DuckDB (`hive_partitioning`) read as `date` and `hour` columns. Rows
//! without a time go to `date=__HIVE_DEFAULT_PARTITION__/hour=…`, the name
//! Hive and Spark give a NULL partition value.
//!
//! A file is written under a hidden name (`.part-00000.parquet.tmp`, which
//! the engines skip, as they skip names starting with `.` or `_`) and
//! renamed when complete, so a run that fails (a full disk) leaves no file
//! that looks complete. Logs are in time order within a file, so few hours
//! are open at once; at most [`MAX_OPEN`] are, the least recently used is
//! closed (a later row of its hour starts the next part).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{Array, RecordBatch, TimestampMillisecondArray};

use super::encode::Encoders;
use super::{ndjson, parquet, ExportOptions, Format};
use crate::error::Error;

/// Part files open at once (each holds a row group in memory, so this
/// bounds memory at about `MAX_OPEN × row_group_bytes` of encoded data).
pub const MAX_OPEN: usize = 2;
/// The partition value Hive and Spark write for NULL.
pub const NULL_PARTITION: &str = "__HIVE_DEFAULT_PARTITION__";
const HOUR_MS: i64 = 3_600_000;

/// Check the output folder: create it, or refuse a non-empty one unless
/// `overwrite`, which removes its `date=*` partitions (nothing else).
pub fn prepare(to: &Path, overwrite: bool) -> Result<(), Error> {
    let io = |source| Error::Io {
        path: to.to_path_buf(),
        source,
    };
    match std::fs::read_dir(to) {
        Ok(entries) => {
            let entries: Vec<_> = entries.collect::<Result<_, _>>().map_err(io)?;
            if entries.is_empty() {
                return Ok(());
            }
            if !overwrite {
                return Err(Error::OutputExists {
                    path: to.to_path_buf(),
                });
            }
            for e in entries {
                let name = e.file_name();
                if name.to_string_lossy().starts_with("date=") {
                    std::fs::remove_dir_all(e.path()).map_err(|source| Error::Io {
                        path: e.path(),
                        source,
                    })?;
                }
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(to).map_err(io)
        }
        // a file: neither --overwrite nor an empty folder would help
        Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => Err(io(std::io::Error::new(
            e.kind(),
            "is a file, not a folder: --to names a folder to write the partitions in",
        ))),
        Err(e) => Err(io(e)),
    }
}

enum Out {
    // boxed: the writer's state is a few KB, the NDJSON one a buffer pointer
    Parquet(Box<parquet::PartWriter>),
    Ndjson(ndjson::PartWriter),
}

struct Open {
    /// UTC hour (ms / 3600000), `None` for rows without a time.
    hour: Option<i64>,
    tmp: PathBuf,
    path: PathBuf,
    out: Out,
    used: u64,
}

/// The files being written.
pub struct Parts<'o> {
    eo: &'o ExportOptions,
    open: Vec<Open>,
    next_part: HashMap<Option<i64>, u32>,
    files: Vec<PathBuf>,
    rows: u64,
    clock: u64,
    /// The Parquet encoder threads, started with the first part.
    encoders: Option<Arc<Encoders>>,
}

/// `date=YYYY-MM-DD/hour=HH` of an hour.
pub fn partition_dir(hour: Option<i64>) -> PathBuf {
    let Some(h) = hour else {
        return PathBuf::from(format!("date={NULL_PARTITION}/hour={NULL_PARTITION}"));
    };
    let ts = jiff::Timestamp::from_millisecond(h * HOUR_MS).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    PathBuf::from(ts.strftime("date=%Y-%m-%d/hour=%H").to_string())
}

impl<'o> Parts<'o> {
    /// Nothing open yet.
    pub fn new(eo: &'o ExportOptions) -> Self {
        Parts {
            eo,
            open: Vec::new(),
            next_part: HashMap::new(),
            files: Vec::new(),
            rows: 0,
            clock: 0,
            encoders: None,
        }
    }

    /// Write one row already serialized into its hour's file: `write`
    /// writes it.
    pub fn push_serialized(
        &mut self,
        hour: Option<i64>,
        write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
    ) -> Result<(), Error> {
        let o = self.file_of(hour)?;
        match &mut o.out {
            Out::Ndjson(w) => w.push_with(write)?,
            Out::Parquet(_) => {
                return Err(Error::Export {
                    path: o.path.clone(),
                    message: "serialized rows are written to NDJSON only".into(),
                })
            }
        }
        self.rows += 1;
        Ok(())
    }

    /// Write a batch's rows, each into its hour's file (a batch is a chunk
    /// of one log, in time order but for a few lines: split into runs of
    /// one hour, zero-copy slices).
    pub fn push_batch(&mut self, batch: &RecordBatch) -> Result<(), Error> {
        let n = batch.num_rows();
        if n == 0 {
            return Ok(());
        }
        let times = batch
            .column(0)
            .as_any()
            .downcast_ref::<TimestampMillisecondArray>();
        let hour_of = |i: usize| -> Option<i64> {
            let t = times?;
            t.is_valid(i).then(|| t.value(i).div_euclid(HOUR_MS))
        };
        let mut start = 0;
        let mut hour = hour_of(0);
        for i in 1..=n {
            let h = if i < n { hour_of(i) } else { None };
            if i < n && h == hour {
                continue;
            }
            self.push_run(hour, &batch.slice(start, i - start))?;
            start = i;
            hour = h;
        }
        Ok(())
    }

    fn push_run(&mut self, hour: Option<i64>, run: &RecordBatch) -> Result<(), Error> {
        let o = self.file_of(hour)?;
        match &mut o.out {
            Out::Parquet(w) => w.push_batch(run)?,
            Out::Ndjson(_) => {
                return Err(Error::Export {
                    path: o.path.clone(),
                    message: "record batches are written to Parquet only".into(),
                })
            }
        }
        self.rows += run.num_rows() as u64;
        Ok(())
    }

    /// The file of `hour`, opened if it is not, marked as just used.
    fn file_of(&mut self, hour: Option<i64>) -> Result<&mut Open, Error> {
        self.clock += 1;
        let i = match self.open.iter().position(|o| o.hour == hour) {
            Some(i) => i,
            None => self.open_hour(hour)?,
        };
        let o = &mut self.open[i];
        o.used = self.clock;
        Ok(o)
    }

    fn open_hour(&mut self, hour: Option<i64>) -> Result<usize, Error> {
        if self.open.len() >= MAX_OPEN {
            let lru = (0..self.open.len())
                .min_by_key(|&i| self.open[i].used)
                .unwrap_or(0);
            let o = self.open.swap_remove(lru);
            self.close(o)?;
        }
        let dir = self.eo.to.join(partition_dir(hour));
        std::fs::create_dir_all(&dir).map_err(|source| Error::Io {
            path: dir.clone(),
            source,
        })?;
        let n = self.next_part.entry(hour).or_default();
        // a part number not taken yet (another run may have written here)
        let ext = self.eo.format.ext();
        let mut name = format!("part-{n:05}.{ext}");
        while dir.join(&name).exists() {
            *n += 1;
            name = format!("part-{n:05}.{ext}");
        }
        *n += 1;
        let path = dir.join(&name);
        let tmp = dir.join(format!(".{name}.tmp"));
        let out = match self.eo.format {
            Format::Parquet => Out::Parquet(Box::new(parquet::PartWriter::create(
                &tmp,
                self.eo.row_group_bytes,
                self.encoders(&tmp)?,
            )?)),
            Format::Ndjson => Out::Ndjson(ndjson::PartWriter::create(&tmp)?),
        };
        self.open.push(Open {
            hour,
            tmp,
            path,
            out,
            used: self.clock,
        });
        Ok(self.open.len() - 1)
    }

    /// The encoder threads (started on first use): one lane per thread
    /// of the analysis pool, at least two.
    fn encoders(&mut self, path: &Path) -> Result<Arc<Encoders>, Error> {
        if let Some(e) = &self.encoders {
            return Ok(e.clone());
        }
        let lanes = rayon::current_num_threads().max(2);
        let e = Arc::new(parquet::encoders(lanes).map_err(|message| Error::Export {
            path: path.to_path_buf(),
            message,
        })?);
        self.encoders = Some(e.clone());
        Ok(e)
    }

    fn close(&mut self, o: Open) -> Result<(), Error> {
        let done = match o.out {
            Out::Parquet(w) => w.close(),
            Out::Ndjson(w) => w.close(),
        };
        if let Err(e) = done {
            let _ = std::fs::remove_file(&o.tmp);
            return Err(e);
        }
        std::fs::rename(&o.tmp, &o.path).map_err(|source| Error::Io {
            path: o.path.clone(),
            source,
        })?;
        self.files.push(o.path);
        Ok(())
    }

    /// Close every file; the rows and files written.
    pub fn finish(mut self) -> Result<(u64, Vec<PathBuf>), Error> {
        let mut open = std::mem::take(&mut self.open);
        open.sort_by_key(|o| o.hour);
        let mut first_err = None;
        for o in open {
            if first_err.is_some() {
                let _ = std::fs::remove_file(&o.tmp);
                continue;
            }
            if let Err(e) = self.close(o) {
                first_err = Some(e);
            }
        }
        match first_err {
            Some(e) => Err(e),
            None => Ok((self.rows, self.files)),
        }
    }

    /// Remove the files not yet complete (after an error).
    pub fn abandon(self) {
        for o in self.open {
            if let Out::Parquet(w) = o.out {
                w.abandon();
            }
            let _ = std::fs::remove_file(&o.tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_names() {
        // 2026-11-20T14:03:07Z
        let ms = 1_795_701_787_000i64 - 6 * 86_400_000;
        assert_eq!(
            partition_dir(Some(ms / HOUR_MS)),
            PathBuf::from("date=2026-11-20/hour=14")
        );
        assert_eq!(
            partition_dir(None),
            PathBuf::from(format!("date={NULL_PARTITION}/hour={NULL_PARTITION}"))
        );
    }
}
