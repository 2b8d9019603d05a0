//! Paths → bytes: discovery (files, directories, globs, stdin), positioned
//! reads of regular files chunk by chunk, streams (stdin, pipes, devices, and
//! gzip, zstd, bzip2 and xz recognised by magic bytes) block by block, cut at
//! line boundaries for parallel parsing.
//!
//! Imports only `error`. Problems with one file never stop the others: they
//! are returned as [`Problem`]s for the report.

mod ahead;
mod discover;
mod gzip;
mod plain;
mod sigbus;
pub(crate) mod stream;

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::FileExt;
use std::path::PathBuf;

use crate::error::Error;

/// Target size of one chunk of a regular file. Large enough that per-chunk
/// overhead (a `pread`, aggregate setup and merge) is noise, small enough
/// that the bytes read are still in cache when parsed, that 2–64 cores get
/// many chunks each from a 1 GiB file, and that the one buffer each worker
/// thread keeps stays small. 1, 2 and 8 MiB measured alike on 1 GiB
/// (`benches/HISTORY.md`, "Reading inputs").
pub const CHUNK_SIZE: usize = 2 << 20;

/// Size of one block read from a stream (compressed, stdin, a pipe) before it is parsed.
pub const STREAM_BLOCK: usize = 8 << 20;

/// A problem with one input that did not stop the run.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    /// The path (or `-`).
    pub path: String,
    /// What went wrong and what was still done.
    pub message: String,
}

impl Problem {
    /// Whether part or all of an input's lines were not read because of
    /// it: a file or directory that could not be opened or listed
    /// (`discover`, `analyze::inputs`), a read error or damaged compressed
    /// data partway (`stream::decode`'s and `plain`'s messages, to which
    /// the scheduler adds "the N lines before it were read"), or a file cut
    /// while read. Not: what was skipped on purpose (symlink loops, second
    /// links, sockets and devices inside a directory) or a file still being
    /// written to, whose new lines were never part of the run.
    pub fn lost_lines(&self) -> bool {
        let m = self.message.as_str();
        m.starts_with("cannot read")
            || m.starts_with("cannot list directory")
            || m.ends_with("lines before it were read")
            || (m.starts_with("changed while read") && m.contains("(truncated"))
    }
}

/// One input to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    /// The file, or `None` for stdin.
    pub path: Option<PathBuf>,
    /// How to show it (`-` for stdin).
    pub display: String,
    /// Size when discovered (0 for anything not a regular file): a regular
    /// file is read up to this size, and a change from it is reported.
    pub len: u64,
}

pub use ahead::each_block;
pub use discover::discover;
pub use plain::{Changed, PlainFile};
pub use stream::Codec;

/// The bytes of one opened input.
pub enum Opened {
    /// A regular file, read chunk by chunk with positioned reads.
    File(PlainFile),
    /// A compressed regular file, decoded block by block; it can be opened
    /// again (to read its start for detection, then the whole of it).
    Compressed(Box<dyn BufRead + Send>),
    /// Anything that is not a regular file (stdin, a named pipe,
    /// `/dev/fd/N`, a character device), read block by block, only once.
    Stream(Box<dyn BufRead + Send>),
}

/// Open an input: compressed files (zstd, gzip, bzip2, xz, by magic bytes)
/// and anything that is not a regular file as streams, regular files for
/// positioned reads up to the size they had when discovered.
pub fn open(input: &Input) -> Result<Opened, Error> {
    let Some(path) = &input.path else {
        let stdin = BufReader::with_capacity(1 << 20, std::io::stdin());
        return stream::decode(Box::new(stdin))
            .map(Opened::Stream)
            .map_err(|source| Error::Io {
                path: "-".into(),
                source,
            });
    };
    let io = |source| Error::Io {
        path: path.clone(),
        source,
    };
    let file = File::open(path).map_err(io)?;
    let regular = file.metadata().map_err(io)?.is_file();
    let mut head = [0u8; 8];
    let n = if regular {
        file.read_at(&mut head, 0).map_err(io)?
    } else {
        0
    };
    let compressed = Codec::sniff(&head[..n])
        .map_err(|m| io(std::io::Error::new(std::io::ErrorKind::Unsupported, m)))?
        .is_some();
    if regular && !compressed {
        return Ok(Opened::File(PlainFile::new(file, input.len)));
    }
    // a compressed file's own reads are small: its decoder reads ahead only
    // what one call needs, and many may be open at once (one per worker)
    let cap = if regular { 64 << 10 } else { 1 << 20 };
    let r = BufReader::with_capacity(cap, file);
    let decoded = stream::decode(Box::new(r)).map_err(io)?;
    Ok(if regular {
        Opened::Compressed(decoded)
    } else {
        Opened::Stream(decoded)
    })
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
    /// The last block ended inside a line longer than [`STREAM_BLOCK`]:
    /// the rest of that line is skipped before the next block.
    skip_line: bool,
}

impl BlockReader {
    /// Wrap a stream.
    pub fn new(inner: Box<dyn BufRead + Send>) -> Self {
        BlockReader {
            inner,
            carry: Vec::new(),
            pending: None,
            done: false,
            skip_line: false,
        }
    }

    /// The next block, `Ok(None)` at the end. A read error (a truncated gzip,
    /// say) is returned only after every complete byte before it was handed out.
    pub fn next_block(&mut self) -> std::io::Result<Option<Vec<u8>>> {
        let mut buf = Vec::new();
        Ok(self.next_block_into(&mut buf)?.then_some(buf))
    }

    /// The next block into `buf` (cleared first), `Ok(false)` at the end;
    /// errors as [`BlockReader::next_block`]. A buffer used again keeps its
    /// capacity, so filling it costs no allocation and no page faults
    /// (issue 9's profile of a `.gz`: 8 % of the CPU went to faulting in a
    /// fresh 8 MiB block each time). Blocks end where they always did
    /// (the reads and the cut at the last `\n` are unchanged), so results
    /// that depend on chunk boundaries (the 1-in-16 timing sample) are too.
    pub fn next_block_into(&mut self, buf: &mut Vec<u8>) -> std::io::Result<bool> {
        buf.clear();
        if let Some(e) = self.pending.take() {
            self.done = true;
            return Err(e);
        }
        if self.done {
            return Ok(false);
        }
        if self.skip_line && !self.skip_rest_of_line()? {
            return Ok(false);
        }
        buf.extend_from_slice(&self.carry);
        self.carry.clear();
        buf.reserve(STREAM_BLOCK.saturating_sub(buf.len()));
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
                None => Ok(false),
            };
        }
        if !eof {
            match memchr::memrchr(b'\n', buf) {
                Some(i) => {
                    self.carry.extend_from_slice(&buf[i + 1..]);
                    buf.truncate(i + 1);
                }
                // one line fills the block: it is handed out cut there, as
                // one (malformed) line, and its rest is skipped, so it counts
                // once and the lines after it keep their numbers (before, each
                // 8 MiB of it counted as a line of its own: a 2 GiB line in a
                // pipe was 256 malformed lines, and every later file:line was
                // off by 255). No log line is that long.
                None => self.skip_line = true,
            }
        }
        Ok(true)
    }

    /// Skip the stream up to and including the next `\n`; `Ok(false)` when
    /// it ends first.
    fn skip_rest_of_line(&mut self) -> std::io::Result<bool> {
        loop {
            let chunk = match self.inner.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.done = true;
                    return Err(e);
                }
            };
            if chunk.is_empty() {
                self.done = true;
                return Ok(false);
            }
            match memchr::memchr(b'\n', chunk) {
                Some(i) => {
                    self.inner.consume(i + 1);
                    self.skip_line = false;
                    return Ok(true);
                }
                None => {
                    let n = chunk.len();
                    self.inner.consume(n);
                }
            }
        }
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
    fn a_line_longer_than_a_block_is_one_line() {
        // a line, one of 2.5 blocks, 2 lines: 4 lines, the long one cut at
        // about a block's length (reads of 1,000 bytes)
        let mut text = b"first\n".to_vec();
        text.resize(text.len() + STREAM_BLOCK * 5 / 2, b'x');
        text.extend_from_slice(b"\nafter\nlast");
        let reader = BufReader::with_capacity(1000, std::io::Cursor::new(text));
        let mut r = BlockReader::new(Box::new(reader));
        let mut lines = Vec::new();
        while let Some(b) = r.next_block().unwrap() {
            lines.extend(
                b.split(|&c| c == b'\n')
                    .filter(|l| !l.is_empty())
                    .map(<[u8]>::len),
            );
        }
        assert_eq!(lines.len(), 4, "{lines:?}");
        assert_eq!((lines[0], lines[2], lines[3]), (5, 5, 4));
        assert!((STREAM_BLOCK..STREAM_BLOCK + 1000).contains(&lines[1]));
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
