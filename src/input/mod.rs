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
mod inflate;
mod plain;
mod sigbus;
pub(crate) mod stream;

use std::collections::VecDeque;
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
pub use discover::{discover, Discovered, Duplicate};
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
/// (the last one may end without one), and not inside a line a container
/// runtime cut into pieces (`piece`, see [`whole_boundary`]) unless the
/// pieces run on for more than [`PIECES_AHEAD`].
pub fn chunks(data: &[u8], size: usize, piece: PieceOf) -> Vec<&[u8]> {
    let mut out = Vec::with_capacity(data.len() / size + 1);
    let mut start = 0;
    while start < data.len() {
        let target = (start + size).min(data.len());
        let end = if target == data.len() {
            target
        } else {
            match memchr::memchr(b'\n', &data[target..]) {
                Some(i) => {
                    let l = target + i + 1;
                    let ahead = &data[..(l + PIECES_AHEAD).min(data.len())];
                    match whole_boundary(ahead, l, piece, true) {
                        Some(p) => p,
                        // the pieces run to the end of `data`: it ends there
                        None if ahead.len() == data.len() => data.len(),
                        None => l,
                    }
                }
                None => data.len(),
            }
        };
        out.push(&data[start..end]);
        start = end;
    }
    out
}

/// Says of one line (without its `\n`) whether it is a piece of a line a
/// container runtime cut (Docker json-file, CRI): `Some((stream, last))`,
/// `stream` 0 for stdout and 1 for stderr, `last` when the piece ends its
/// line; `None` for a line that is no container log line. The analysis
/// hands `logs::wrap::container_piece` (this module does not read formats).
pub type PieceOf = fn(&[u8]) -> Option<(usize, bool)>;

/// A [`PieceOf`] that sees no pieces: boundaries fall after any `\n`.
pub fn no_pieces(_: &[u8]) -> Option<(usize, bool)> {
    None
}

/// Lines looked at before a boundary for a stream's unfinished line: moby
/// copies stdout and stderr on goroutines of their own, so the other
/// stream's entries may come between the pieces of a line; a piece further
/// back than this is taken as finished.
const PIECES_BACK: usize = 64;

/// How far a boundary may move past the pieces of unfinished lines (64
/// Docker pieces of 16 KiB; a longer line keeps the old cut, read as two
/// pieces, as before).
pub const PIECES_AHEAD: usize = 1 << 20;

/// Whether no line is left unfinished before `at`, a line start in `data`
/// (`data[at - 1]` is `\n`, or `at` is 0): the line before `at` is no
/// piece of a cut line or the last one, and the nearest piece of the other
/// stream among the 64 lines before (`PIECES_BACK`) is a last one too.
/// `whole_start`: `data[0]` starts a line (else the first line of `data`
/// may be a line's tail and is not looked at).
pub fn whole_before(data: &[u8], at: usize, piece: PieceOf, whole_start: bool) -> bool {
    let mut end = at.min(data.len());
    let mut seen = [false; 2];
    for k in 0..PIECES_BACK {
        if end == 0 {
            return true;
        }
        let body = if data[end - 1] == b'\n' { end - 1 } else { end };
        let start = memchr::memrchr(b'\n', &data[..body]).map_or(0, |i| i + 1);
        if start == 0 && !whole_start {
            return true;
        }
        let line = &data[start..body];
        match piece(line.strip_suffix(b"\r").unwrap_or(line)) {
            // no container log line: nothing to keep together
            None if k == 0 => return true,
            None => {}
            Some((s, last)) => {
                let s = s.min(1);
                if !seen[s] {
                    if !last {
                        return false;
                    }
                    seen[s] = true;
                }
                if seen == [true, true] {
                    return true;
                }
            }
        }
        end = start;
    }
    true
}

/// The first line start at or after `from` (itself a line start of `data`)
/// before which no line is left unfinished ([`whole_before`]), or `None`
/// when `data` ends first.
pub fn whole_boundary(
    data: &[u8],
    from: usize,
    piece: PieceOf,
    whole_start: bool,
) -> Option<usize> {
    let mut p = from;
    while p < data.len() {
        if whole_before(data, p, piece, whole_start) {
            return Some(p);
        }
        p += memchr::memchr(b'\n', &data[p..])? + 1;
    }
    None
}

/// Up to about `max` bytes of whole lines from across a stream, read to
/// its end: all of it when it is no longer than `max`, else three windows
/// of `max / 3` bytes: its start, one near its middle, and its end. A
/// compressed file cannot be read at its middle without decoding what comes
/// before, so this decodes it all once and keeps only the windows (memory:
/// about `max` plus two [`STREAM_BLOCK`]s). The middle one is taken where
/// the stream had reached a power of two times `max / 3`, the one of those
/// nearest its middle once its length is known. A read error ends the
/// stream there (the pass that reads it says so).
pub fn stream_windows(r: Box<dyn BufRead + Send>, max: usize) -> Vec<Vec<u8>> {
    let part = (max / 3).max(1);
    let mut br = BlockReader::new(r);
    let mut head: Vec<u8> = Vec::new();
    // windows taken at offsets part·2, part·4, …: the last two (offset, bytes)
    let mut marks: VecDeque<(u64, Vec<u8>)> = VecDeque::new();
    let mut next_mark = 2 * part as u64;
    // the last two blocks, for the end window
    let mut last: VecDeque<Vec<u8>> = VecDeque::new();
    let mut pos = 0u64;
    let upto_line = |b: &[u8], n: usize| -> Vec<u8> {
        let b = &b[..n.min(b.len())];
        let keep = memchr::memrchr(b'\n', b).map_or(b.len(), |i| i + 1);
        b[..keep].to_vec()
    };
    while let Ok(Some(block)) = br.next_block() {
        if head.len() <= max {
            let room = max + 1 - head.len();
            head.extend_from_slice(&block[..room.min(block.len())]);
        }
        // blocks start at a line start: a window from a block's start is whole lines
        if pos >= next_mark {
            marks.push_back((pos, upto_line(&block, part)));
            if marks.len() > 2 {
                marks.pop_front();
            }
            while next_mark <= pos {
                next_mark *= 2;
            }
        }
        pos += block.len() as u64;
        last.push_back(block);
        if last.len() > 2 {
            last.pop_front();
        }
    }
    if head.len() <= max {
        return vec![head];
    }
    let mut out = vec![upto_line(&head, part)];
    let end_from = pos.saturating_sub(part as u64);
    let middle = pos / 2;
    if let Some((_, m)) = marks
        .into_iter()
        .filter(|(at, _)| *at >= part as u64 && *at + part as u64 <= end_from)
        .min_by_key(|(at, _)| at.abs_diff(middle))
    {
        out.push(m);
    }
    let tail: Vec<u8> = last.into_iter().flatten().collect();
    let cut = tail.len().saturating_sub(part);
    let from = if cut == 0 {
        0
    } else {
        memchr::memchr(b'\n', &tail[cut - 1..]).map_or(tail.len(), |i| cut + i)
    };
    out.push(tail[from..].to_vec());
    out
}

/// The buffer of one block of a stream ([`BlockReader::next_block_into`]):
/// the block is its first bytes. The buffer's bytes are all initialized and
/// its size only grows, so a buffer used again is read into as it is, with
/// no zeroing and no page faults.
#[derive(Debug, Default)]
pub struct Block {
    buf: Vec<u8>,
    len: usize,
}

impl Block {
    /// A block holding `bytes`.
    pub fn from_vec(bytes: Vec<u8>) -> Block {
        Block {
            len: bytes.len(),
            buf: bytes,
        }
    }

    /// The block's bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// The block's bytes, as a vector of their length.
    pub fn into_vec(mut self) -> Vec<u8> {
        self.buf.truncate(self.len);
        self.buf
    }

    /// Bytes the buffer holds, the block's and the room after them.
    pub fn size(&self) -> usize {
        self.buf.len()
    }

    /// Make room for `n` bytes (zeroed once, when the buffer first grows).
    fn grow(&mut self, n: usize) {
        if self.buf.len() < n {
            self.buf.resize(n, 0);
        }
    }
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
    piece: PieceOf,
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
            piece: no_pieces,
        }
    }

    /// End blocks only where no line a container runtime cut into pieces
    /// is left unfinished ([`whole_boundary`]), as far as [`PIECES_AHEAD`]
    /// back from the last `\n`.
    pub fn keep_pieces(&mut self, piece: PieceOf) {
        self.piece = piece;
    }

    /// Whether the stream has been read to its end.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Put `tail` back before what is still to be read (the end of a block
    /// read before [`BlockReader::keep_pieces`] that cut a line's pieces).
    pub fn unread(&mut self, mut tail: Vec<u8>) {
        if tail.is_empty() {
            return;
        }
        tail.append(&mut self.carry);
        self.carry = tail;
        self.done = false;
        // what is put back is read again, not skipped as the rest of a
        // line too long for a block
        self.skip_line = false;
    }

    /// The next block, `Ok(None)` at the end. A read error (a truncated gzip,
    /// say) is returned only after every complete byte before it was handed out.
    pub fn next_block(&mut self) -> std::io::Result<Option<Vec<u8>>> {
        let mut block = Block::default();
        Ok(self.next_block_into(&mut block)?.then(|| block.into_vec()))
    }

    /// The next block into `block` (emptied first), `Ok(false)` at the end;
    /// errors as [`BlockReader::next_block`]. A buffer used again keeps its
    /// size, so filling it costs no allocation and no page faults (issue 9's
    /// profile of a `.gz`: 8 % of the CPU went to faulting in a fresh 8 MiB
    /// block each time).
    ///
    /// The stream is read straight into the block (a decoder writes its
    /// output there: copying it over from the decoder's 64 KiB buffer was
    /// a fifth of the decoding thread's time on a `.gz` with ISA-L), in
    /// reads of the size of that buffer (`stream::DECODED_BUF`): each
    /// returns what one fill of it did, so blocks end where they always did
    /// (after the read that crosses [`STREAM_BLOCK`], at its last `\n`), and
    /// so do the results that depend on chunk boundaries (the 1-in-16
    /// timing sample).
    pub fn next_block_into(&mut self, block: &mut Block) -> std::io::Result<bool> {
        block.len = 0;
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
        let mut len = self.carry.len();
        block.grow(len);
        block.buf[..len].copy_from_slice(&self.carry);
        self.carry.clear();
        let mut eof = false;
        while len < STREAM_BLOCK {
            block.grow(len + stream::DECODED_BUF);
            match self
                .inner
                .read(&mut block.buf[len..len + stream::DECODED_BUF])
            {
                Ok(0) => {
                    eof = true;
                    break;
                }
                Ok(n) => len += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.pending = Some(e);
                    eof = true;
                    break;
                }
            }
        }
        block.len = len;
        if eof && self.pending.is_none() {
            self.done = true;
        }
        if len == 0 {
            return match self.pending.take() {
                Some(e) => {
                    self.done = true;
                    Err(e)
                }
                None => Ok(false),
            };
        }
        if !eof {
            let buf = &block.buf[..len];
            match memchr::memrchr(b'\n', buf) {
                Some(i) => {
                    let cut = block_end(buf, i + 1, self.piece);
                    self.carry.extend_from_slice(&buf[cut..]);
                    block.len = cut;
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

/// Where a block whose last line ends at `last` (just after a `\n`) should
/// end: there, unless that leaves a cut line's pieces unfinished; then at
/// the last earlier line start that does not, searched back as far as
/// [`PIECES_AHEAD`] (else at `last`, as without pieces). A block never
/// ends empty: a start of 0 is not taken.
pub fn block_end(buf: &[u8], last: usize, piece: PieceOf) -> usize {
    let floor = last.saturating_sub(PIECES_AHEAD);
    let mut p = last;
    while p > floor && p > 0 {
        if whole_before(buf, p, piece, true) {
            return p;
        }
        match memchr::memrchr(b'\n', &buf[..p - 1]) {
            Some(i) => p = i + 1,
            None => break,
        }
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_end_at_newlines() {
        let data = b"aaaa\nbbbb\ncccc\ndd";
        let c = chunks(data, 3, no_pieces);
        assert_eq!(c, vec![&b"aaaa\n"[..], b"bbbb\n", b"cccc\n", b"dd"]);
        assert_eq!(chunks(b"", 3, no_pieces).len(), 0);
        let one = chunks(b"xxxxxxxxxx", 3, no_pieces);
        assert_eq!(one, vec![&b"xxxxxxxxxx"[..]]);
    }

    /// A toy container log: `P`/`F` a stdout piece (partial / last),
    /// `p`/`f` stderr's; anything else no container line.
    fn toy(line: &[u8]) -> Option<(usize, bool)> {
        match line.first()? {
            b'P' => Some((0, false)),
            b'F' => Some((0, true)),
            b'p' => Some((1, false)),
            b'f' => Some((1, true)),
            _ => None,
        }
    }

    #[test]
    fn boundaries_keep_a_cut_lines_pieces_together() {
        let data = b"F1\nP2\nf3\nP4\nF5\nF6\n";
        let at = |i: usize| whole_before(data, i, toy, true);
        // after F1: whole; after P2 (and after stderr's f3 between the
        // pieces): stdout's line is open; after F5: whole
        assert_eq!(
            (at(0), at(3), at(6), at(9), at(12), at(15)),
            (true, true, false, false, false, true)
        );
        assert_eq!(whole_boundary(data, 6, toy, true), Some(15));
        // no container lines: any line start
        assert!(whole_before(b"a\nb\n", 2, toy, true));
        // chunks of 4 bytes never end inside P2…F5
        let c = chunks(data, 4, toy);
        assert_eq!(c, vec![&b"F1\nP2\nf3\nP4\nF5\n"[..], b"F6\n"]);
        assert_eq!(c.concat(), data);
        // a block ends before the unfinished pieces (its tail is carried)
        assert_eq!(block_end(b"F1\nP2\nf3\nP4\n", 12, toy), 3);
        // pieces to the block's very start: cut where it always was
        assert_eq!(block_end(b"P1\nP2\n", 6, toy), 6);
    }

    #[test]
    fn blocks_keep_a_cut_lines_pieces_together() {
        // far more than a block: every block must end after a whole line
        let mut text = Vec::new();
        for i in 0..(STREAM_BLOCK / 16) {
            let k = i % 5;
            text.extend_from_slice(if k < 4 {
                b"P-piece-of-line\n"
            } else {
                b"F-last-of-line.\n"
            });
        }
        let mut r = BlockReader::new(Box::new(std::io::Cursor::new(text.clone())));
        r.keep_pieces(toy);
        let mut all = Vec::new();
        while let Some(b) = r.next_block().unwrap() {
            assert!(
                b.starts_with(b"P"),
                "a block starts at a line's first piece"
            );
            all.extend_from_slice(&b);
        }
        assert_eq!(all, text);
    }

    #[test]
    fn stream_windows_take_start_middle_and_end() {
        let mut text = Vec::new();
        let mut i = 0;
        while text.len() < 3 * STREAM_BLOCK {
            text.extend_from_slice(format!("line {i:08}\n").as_bytes());
            i += 1;
        }
        // as a decoder hands it over: 64 KiB at a time
        let stream = |t: &[u8]| -> Box<dyn BufRead + Send> {
            Box::new(BufReader::with_capacity(
                64 << 10,
                std::io::Cursor::new(t.to_vec()),
            ))
        };
        let max = 3 << 20;
        let w = stream_windows(stream(&text), max);
        assert_eq!(w.len(), 3);
        let at = |win: &[u8]| memchr::memmem::find(&text, win).expect("a part of the text");
        assert_eq!(at(&w[0]), 0);
        let middle = at(&w[1]);
        assert!(
            middle > max && middle + w[1].len() < text.len() - max,
            "{middle}"
        );
        assert_eq!(at(&w[2]) + w[2].len(), text.len());
        for win in &w {
            assert!(win.len() <= max / 3 && win.len() > max / 4);
            assert!(win.starts_with(b"line ") && win.ends_with(b"\n"));
        }
        // a short stream: all of it
        assert_eq!(
            stream_windows(stream(&text[..1000]), max),
            vec![text[..1000].to_vec()]
        );
    }

    #[test]
    fn blocks_end_where_they_did_when_copied_from_the_decoders_buffer() {
        // 2.5 blocks of lines of varied length, gzipped
        let mut text = Vec::new();
        let mut i = 0usize;
        while text.len() < STREAM_BLOCK * 5 / 2 {
            let pad = "y".repeat(i * 7919 % 300);
            text.extend_from_slice(format!("{i} {pad}\n").as_bytes());
            i += 1;
        }
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&text).unwrap();
        let gz = enc.finish().unwrap();
        let decoded = || {
            let file = BufReader::with_capacity(64 << 10, std::io::Cursor::new(gz.clone()));
            stream::decode(Box::new(file)).unwrap()
        };
        let mut br = BlockReader::new(decoded());
        let mut got = Vec::new();
        while let Some(b) = br.next_block().unwrap() {
            got.push(b.len());
        }
        // the blocks as they were cut before: the decoder's buffer copied
        // over until a block reached STREAM_BLOCK, then cut at its last \n
        let mut r = decoded();
        let (mut want, mut block) = (Vec::new(), Vec::new());
        loop {
            let piece = r.fill_buf().unwrap();
            let n = piece.len();
            block.extend_from_slice(piece);
            r.consume(n);
            if n == 0 || block.len() >= STREAM_BLOCK {
                let cut = if n == 0 {
                    block.len()
                } else {
                    memchr::memrchr(b'\n', &block).unwrap() + 1
                };
                want.push(cut);
                block.drain(..cut);
                if n == 0 {
                    break;
                }
            }
        }
        want.retain(|&n| n > 0);
        assert!(want.len() >= 3, "{want:?}");
        assert_eq!(got, want);
        assert_eq!(got.iter().sum::<usize>(), text.len());
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
        // about a block's length (past it by less than one read)
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
        assert!((STREAM_BLOCK..STREAM_BLOCK + stream::DECODED_BUF).contains(&lines[1]));
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
