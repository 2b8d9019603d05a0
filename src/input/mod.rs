//! Paths → bytes: discovery (files, directories, globs, stdin), memory maps
//! for plain files, streaming gzip (recognised by magic bytes), and cutting
//! the bytes into chunks at line boundaries for parallel parsing.
//!
//! Imports only `error`. Problems with one file never stop the others: they
//! are returned as [`Problem`]s for the report.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use crate::error::Error;

/// Target size of one chunk of a plain file. Large enough that per-chunk
/// overhead (aggregate setup and merge) is noise, small enough that 2–64 cores
/// get many chunks each from a 1 GiB file.
pub const CHUNK_SIZE: usize = 8 << 20;

/// Size of one block read from a gzip stream or stdin before it is parsed.
pub const STREAM_BLOCK: usize = 8 << 20;

/// A problem with one input that did not stop the run.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    /// The path (or `-`).
    pub path: String,
    /// What went wrong and what was still done.
    pub message: String,
}

/// One input to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    /// The file, or `None` for stdin.
    pub path: Option<PathBuf>,
    /// How to show it (`-` for stdin).
    pub display: String,
    /// Size on disk (0 for stdin).
    pub len: u64,
}

fn is_glob(s: &str) -> bool {
    s.contains(['*', '?', '[', '{'])
}

/// Expand the user's arguments into files, in a stable order. Directories are
/// walked recursively (hidden entries skipped); globs are matched against the
/// files below their literal prefix.
pub fn discover(args: &[String]) -> (Vec<Input>, Vec<Problem>) {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for arg in args {
        if arg == "-" {
            out.push(Input {
                path: None,
                display: "-".into(),
                len: 0,
            });
            continue;
        }
        let p = Path::new(arg);
        match std::fs::metadata(p) {
            Ok(m) if m.is_dir() => {
                let mut files = Vec::new();
                walk(p, &mut files, &mut problems);
                files.sort();
                if files.is_empty() {
                    problems.push(Problem {
                        path: arg.clone(),
                        message: "directory holds no files".into(),
                    });
                }
                out.extend(files.into_iter().map(input_for));
            }
            Ok(_) => out.push(input_for(p.to_path_buf())),
            Err(e) if is_glob(arg) => match glob(arg) {
                Ok(files) if !files.is_empty() => out.extend(files.into_iter().map(input_for)),
                _ => problems.push(Problem {
                    path: arg.clone(),
                    message: format!(
                        "no such file, and no file matches it as a glob pattern ({e})"
                    ),
                }),
            },
            Err(e) => problems.push(Problem {
                path: arg.clone(),
                message: format!("cannot read: {e}"),
            }),
        }
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|i| seen.insert(i.display.clone()));
    (out, problems)
}

fn input_for(path: PathBuf) -> Input {
    let len = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    Input {
        display: path.display().to_string(),
        path: Some(path),
        len,
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>, problems: &mut Vec<Problem>) {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) => {
            problems.push(Problem {
                path: dir.display().to_string(),
                message: format!("cannot list directory: {e}"),
            });
            return;
        }
    };
    for entry in rd.flatten() {
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        match entry.file_type() {
            Ok(t) if t.is_dir() => walk(&path, out, problems),
            Ok(t) if t.is_file() => out.push(path),
            Ok(t) if t.is_symlink() => {
                if path.is_file() {
                    out.push(path)
                } else if path.is_dir() {
                    walk(&path, out, problems)
                }
            }
            _ => {}
        }
    }
}

fn glob(pattern: &str) -> Result<Vec<PathBuf>, globset::Error> {
    let matcher = globset::GlobBuilder::new(pattern)
        .literal_separator(true)
        .build()?
        .compile_matcher();
    // walk from the longest literal directory prefix
    let first_meta = pattern.find(['*', '?', '[', '{']).unwrap_or(pattern.len());
    let base = match pattern[..first_meta].rfind('/') {
        Some(i) => &pattern[..i.max(1)],
        None => ".",
    };
    let mut files = Vec::new();
    let mut problems = Vec::new();
    walk(Path::new(base), &mut files, &mut problems);
    let mut hits: Vec<PathBuf> = files
        .into_iter()
        .filter(|f| {
            let rel = if base == "." {
                f.strip_prefix("./").unwrap_or(f)
            } else {
                f.as_path()
            };
            matcher.is_match(rel)
        })
        .collect();
    hits.sort();
    Ok(hits)
}

/// The bytes of one opened input.
pub enum Opened {
    /// A plain file, memory-mapped (or read, when empty or not mappable).
    Whole(Bytes),
    /// A gzip or stdin stream, read block by block.
    Stream(Box<dyn BufRead + Send>),
}

/// Owned or mapped bytes.
pub enum Bytes {
    /// A memory map of the whole file.
    Mapped(memmap2::Mmap),
    /// Bytes in memory.
    Owned(Vec<u8>),
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Mapped(m) => m,
            Bytes::Owned(v) => v,
        }
    }
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Open an input: gzip (by magic bytes) and stdin as streams, other files as maps.
pub fn open(input: &Input) -> Result<Opened, Error> {
    let Some(path) = &input.path else {
        let stdin = BufReader::with_capacity(1 << 20, std::io::stdin());
        return Ok(Opened::Stream(maybe_gunzip(
            Box::new(stdin),
            Path::new("-"),
        )?));
    };
    let io = |source| Error::Io {
        path: path.clone(),
        source,
    };
    let file = File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    let mut head = [0u8; 2];
    let n = (&file).read(&mut head).map_err(io)?;
    if n == 2 && head == GZIP_MAGIC {
        let file = File::open(path).map_err(io)?;
        let dec = flate2::read::MultiGzDecoder::new(BufReader::with_capacity(1 << 20, file));
        return Ok(Opened::Stream(Box::new(BufReader::with_capacity(
            1 << 20,
            dec,
        ))));
    }
    if len == 0 {
        return Ok(Opened::Whole(Bytes::Owned(Vec::new())));
    }
    // SAFETY: the map is read-only and private to this process. If another
    // process truncates the file while we read it, accessing the lost pages
    // raises SIGBUS; that is the documented trade-off of memory-mapped reading
    // (ripgrep makes the same one) and log dumps are not written while analyzed.
    match unsafe { memmap2::Mmap::map(&file) } {
        Ok(m) => Ok(Opened::Whole(Bytes::Mapped(m))),
        Err(_) => {
            let mut v = Vec::with_capacity(len as usize);
            File::open(path)
                .map_err(io)?
                .read_to_end(&mut v)
                .map_err(io)?;
            Ok(Opened::Whole(Bytes::Owned(v)))
        }
    }
}

fn maybe_gunzip(
    mut r: Box<dyn BufRead + Send>,
    path: &Path,
) -> Result<Box<dyn BufRead + Send>, Error> {
    let head = r.fill_buf().map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if head.starts_with(&GZIP_MAGIC) {
        Ok(Box::new(BufReader::with_capacity(
            1 << 20,
            flate2::read::MultiGzDecoder::new(r),
        )))
    } else {
        Ok(r)
    }
}

/// Cut `data` into pieces of about `size` bytes, each ending just after a `\n`
/// (the last one may end without one).
pub fn chunks(data: &[u8], size: usize) -> Vec<&[u8]> {
    let mut out = Vec::with_capacity(data.len() / size + 1);
    let mut start = 0;
    while start < data.len() {
        let target = (start + size).min(data.len());
        let end = if target == data.len() {
            target
        } else {
            match memchr::memchr(b'\n', &data[target..]) {
                Some(i) => target + i + 1,
                None => data.len(),
            }
        };
        out.push(&data[start..end]);
        start = end;
    }
    out
}

/// Reads a stream (gzip, stdin) in blocks of about [`STREAM_BLOCK`] bytes,
/// each ending at a line boundary.
pub struct BlockReader {
    inner: Box<dyn BufRead + Send>,
    carry: Vec<u8>,
    pending: Option<std::io::Error>,
    done: bool,
}

impl BlockReader {
    /// Wrap a stream.
    pub fn new(inner: Box<dyn BufRead + Send>) -> Self {
        BlockReader {
            inner,
            carry: Vec::new(),
            pending: None,
            done: false,
        }
    }

    /// The next block, `Ok(None)` at the end. A read error (a truncated gzip,
    /// say) is returned only after every complete byte before it was handed out.
    pub fn next_block(&mut self) -> std::io::Result<Option<Vec<u8>>> {
        if let Some(e) = self.pending.take() {
            self.done = true;
            return Err(e);
        }
        if self.done {
            return Ok(None);
        }
        let mut buf = std::mem::take(&mut self.carry);
        buf.reserve(STREAM_BLOCK);
        let mut eof = false;
        while buf.len() < STREAM_BLOCK {
            let chunk = match self.inner.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.pending = Some(e);
                    eof = true;
                    break;
                }
            };
            if chunk.is_empty() {
                eof = true;
                break;
            }
            let n = chunk.len();
            buf.extend_from_slice(chunk);
            self.inner.consume(n);
        }
        if eof && self.pending.is_none() {
            self.done = true;
        }
        if buf.is_empty() {
            return match self.pending.take() {
                Some(e) => {
                    self.done = true;
                    Err(e)
                }
                None => Ok(None),
            };
        }
        if !eof {
            if let Some(i) = memchr::memrchr(b'\n', &buf) {
                self.carry.extend_from_slice(&buf[i + 1..]);
                buf.truncate(i + 1);
            }
        }
        Ok(Some(buf))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_end_at_newlines() {
        let data = b"aaaa\nbbbb\ncccc\ndd";
        let c = chunks(data, 3);
        assert_eq!(c, vec![&b"aaaa\n"[..], b"bbbb\n", b"cccc\n", b"dd"]);
        assert_eq!(chunks(b"", 3).len(), 0);
        let one = chunks(b"xxxxxxxxxx", 3);
        assert_eq!(one, vec![&b"xxxxxxxxxx"[..]]);
    }

    #[test]
    fn blocks_carry_partial_lines() {
        let text = "line one\nline two\nlast".to_string();
        let mut r = BlockReader::new(Box::new(std::io::Cursor::new(text.into_bytes())));
        let b = r.next_block().unwrap().unwrap();
        assert_eq!(b, b"line one\nline two\nlast");
        assert!(r.next_block().unwrap().is_none());
    }

    #[test]
    fn truncated_gzip_yields_data_then_error() {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        for i in 0..20000 {
            writeln!(enc, "line number {i} with some padding text").unwrap();
        }
        let gz = enc.finish().unwrap();
        let cut = &gz[..gz.len() / 2];
        let dec = flate2::read::MultiGzDecoder::new(cut.to_vec().leak() as &'static [u8]);
        let mut r = BlockReader::new(Box::new(BufReader::new(dec)));
        let mut got = 0;
        let mut err = None;
        loop {
            match r.next_block() {
                Ok(Some(b)) => got += b.len(),
                Ok(None) => break,
                Err(e) => {
                    err = Some(e);
                    break;
                }
            }
        }
        assert!(got > 0, "bytes before the cut are handed out");
        assert!(err.is_some(), "the truncation is reported");
    }
}
