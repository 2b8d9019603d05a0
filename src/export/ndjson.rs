//! One NDJSON part file: one JSON object per row, the columns of
//! [`super::row::Row`] (the Parquet schema's, with the time as RFC 3339
//! text and the schema version in each row), serialized on the workers
//! ([`super::ndjson_chunk`]).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::Error;

/// One NDJSON file being written.
pub struct PartWriter {
    w: BufWriter<File>,
    path: PathBuf,
}

impl PartWriter {
    /// Start a file at `path` (created; the caller renames it when closed).
    pub fn create(path: &Path) -> Result<Self, Error> {
        let file = File::create(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(PartWriter {
            w: BufWriter::with_capacity(1 << 20, file),
            path: path.to_path_buf(),
        })
    }

    fn io(&self, source: std::io::Error) -> Error {
        Error::Io {
            path: self.path.clone(),
            source,
        }
    }

    /// Add one row already serialized: `write` writes it, `\n` included.
    pub fn push_with(
        &mut self,
        write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
    ) -> Result<(), Error> {
        write(&mut self.w).map_err(|err| self.io(err))
    }

    /// Flush; the file is complete.
    pub fn close(mut self) -> Result<(), Error> {
        self.w.flush().map_err(|err| self.io(err))?;
        self.w.get_ref().sync_all().map_err(|err| self.io(err))
    }
}
