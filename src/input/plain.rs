//! A regular file read chunk by chunk, so chunks can be read and parsed in
//! parallel: each chunk is memory-mapped on its own (no copy out of the
//! page cache), with positioned reads (`pread`) into reused buffers as the
//! fallback.
//!
//! A log can be truncated while it is read (logrotate `copytruncate`,
//! `> access.log` during an incident), and touching a mapped page past the
//! new end of the file raises SIGBUS, which would kill the process (mmap(2):
//! "SIGBUS: Attempted access to a page of the buffer that lies beyond the
//! end of the mapped file"). Each mapping is watched by [`super::sigbus`]:
//! such a page reads as zeros instead, and the chunk is then read again
//! with `pread`, which just returns fewer bytes past the end; that is
//! noticed and reported. A chunk is mapped with a short tail past its end
//! (one page), then again with a longer one when its last line runs on past
//! it; one whose last line runs past that too, or that cannot be mapped or
//! watched, is read with `pread`.
//!
//! The file is read up to the size it had when discovered; a file that
//! changed size meanwhile is reported by [`PlainFile::changed`].

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use crate::error::Error;

/// Bytes read past a chunk's nominal end at first to find the end of its
/// last line (nginx lines are rarely over a few KiB; longer ones read more).
const TAIL: usize = 64 << 10;

/// Bytes mapped past a chunk's nominal end at first to find the end of its
/// last line; [`TAIL`] when the line runs on past them. The tail's pages
/// are mapped again by the next chunk (its first line starts there), and
/// each mapped page costs the kernel the same (`MAP_POPULATE` maps every
/// page: `next_uptodate_folio`, then `unmap_page_range` at `munmap`, ≈ 28 %
/// of a plain nginx run's CPU), so a 64 KiB tail on every 2 MiB chunk made
/// the kernel map 3 % of the file twice; the last line of a chunk of
/// ≈ 300-byte nginx lines ends within one page of its nominal end.
const MAP_TAIL: usize = 4 << 10;

/// A line longer than this (nginx request lines are limited to a few KiB by
/// `large_client_header_buffers`) is cut here (its first bytes are parsed, as a
/// malformed line; the rest is skipped), so one huge line (a binary file, a
/// dump without newlines) cannot make a buffer as large as the file.
const MAX_LINE: usize = 16 << 20;

/// Buffers larger than this (grown by a long line) are freed, not pooled.
const POOL_MAX: usize = 16 << 20;

/// An open regular file and the size it is read up to.
#[derive(Debug)]
pub struct PlainFile {
    file: File,
    len: u64,
    /// The lowest offset at which a read found the end of the file (or an
    /// error) before `len`: the file shrank. `u64::MAX` when none did.
    short_at: AtomicU64,
    /// The first read error other than the end of the file.
    error: Mutex<Option<(u64, io::Error)>>,
}

/// What [`PlainFile::with_mapped_chunk`] did.
enum Mapped<R> {
    /// Parsed: `f`'s result.
    Done(R),
    /// Not parsed: the chunk's last line runs past the mapped tail.
    LongLine,
    /// Not parsed (or its result dropped): read it with `pread`.
    No,
}

/// Spare chunk buffers, shared by all files, so each worker reuses one
/// instead of allocating per chunk. There are never more than chunks read at
/// once (one per worker thread), so memory stays at about one chunk per
/// thread whatever the number of files.
static BUFFERS: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());

/// How a file differed at the end of reading from what was planned.
#[derive(Debug, PartialEq, Eq)]
pub struct Changed {
    /// Size the file was read up to (its size when discovered).
    pub was: u64,
    /// Its size after reading.
    pub now: u64,
    /// Where reading stopped short, if it did (the file shrank under it).
    pub short_at: Option<u64>,
}

impl std::fmt::Display for Changed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (was, now) = (self.was, self.now);
        match self.short_at {
            Some(at) => write!(
                f,
                "changed while read: was {was} bytes, now {now} (truncated, by logrotate copytruncate or `>`?); \
                 reading met the new end at byte {at}: the lines after it not read by then are missing"
            ),
            None if now > was => write!(
                f,
                "changed while read: was {was} bytes, now {now} (still written to); \
                 lines after byte {was} were not read"
            ),
            None => write!(
                f,
                "changed while read: was {was} bytes, now {now}; \
                 the lines read may mix old and new content"
            ),
        }
    }
}

impl PlainFile {
    /// Open `path` to be read up to `len` bytes (its size at discovery).
    pub fn open(path: &Path, len: u64) -> Result<PlainFile, Error> {
        let file = File::open(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(PlainFile::new(file, len))
    }

    /// Read the open `file` up to `len` bytes.
    pub fn new(file: File, len: u64) -> PlainFile {
        PlainFile {
            file,
            len,
            short_at: AtomicU64::new(u64::MAX),
            error: Mutex::new(None),
        }
    }

    /// The size the file is read up to.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether there is nothing to read.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Its first `n` bytes (fewer if the file is shorter).
    pub fn head(&self, n: usize) -> Vec<u8> {
        let mut buf = Vec::new();
        self.head_into(n, &mut buf);
        buf
    }

    /// [`PlainFile::head`] into `buf` (its contents replaced), so a buffer
    /// used again costs no allocation and no page faults.
    pub fn head_into(&self, n: usize, buf: &mut Vec<u8>) {
        let got = self.read_at(0, n.min(self.len as usize), buf, 0);
        buf.truncate(got);
    }

    /// The nominal byte ranges of chunks of about `size` bytes. Each chunk
    /// holds the lines that *start* in its range; see [`PlainFile::with_chunk`].
    pub fn ranges(&self, size: usize) -> Vec<(u64, u64)> {
        let size = size.max(1) as u64;
        (0..self.len.div_ceil(size))
            .map(|i| (i * size, ((i + 1) * size).min(self.len)))
            .collect()
    }

    /// Where a chunk boundary nominally at `at` falls: the first line start
    /// at or after `at`, moved on past the pieces of a line a container
    /// runtime cut (`piece`: Docker json-file entries of 16 KiB, CRI `P`
    /// lines; [`super::whole_boundary`]), so that one chunk reads the line
    /// whole. `at` itself when the pieces run on past
    /// [`super::PIECES_AHEAD`]; 0 and the file's length stay. The answer
    /// depends on `at` and the bytes only, so the two chunks on either
    /// side of a boundary agree on it; chunks hold the lines that start in
    /// their range ([`PlainFile::with_chunk`]), whatever the boundary.
    pub fn boundary(&self, at: u64, piece: super::PieceOf) -> u64 {
        if at == 0 || at >= self.len {
            return at;
        }
        let mut buf = Vec::new();
        // a small look first: in a file that is no container log (the
        // common case) the line before the boundary is no piece
        let windows = [
            (4usize << 10, 4usize << 10),
            // a Docker piece holds 16 KiB of the line, escaped up to 6×
            (128 << 10, 64 << 10),
            (256 << 10, super::PIECES_AHEAD),
        ];
        for (w, (back, ahead)) in windows.into_iter().enumerate() {
            let from = at.saturating_sub(1 + back as u64);
            let want = ((at - from) as usize + ahead).min((self.len - from) as usize);
            let got = self.read_at(from, want, &mut buf, 0);
            let data = &buf[..got];
            let to_end = from + got as u64 >= self.len;
            let whole_start = from == 0;
            let skip = ((at - 1 - from) as usize).min(data.len());
            let Some(nl) = memchr::memchr(b'\n', &data[skip..]) else {
                if to_end {
                    return self.len;
                }
                continue;
            };
            let l = skip + nl + 1;
            if w == 0 {
                let start = match memchr::memrchr(b'\n', &data[..l - 1]) {
                    Some(i) => Some(i + 1),
                    None => whole_start.then_some(0),
                };
                if let Some(start) = start {
                    let line = &data[start..l - 1];
                    if piece(line.strip_suffix(b"\r").unwrap_or(line)).is_none() {
                        return from + l as u64;
                    }
                }
                continue;
            }
            match super::whole_boundary(data, l, piece, whole_start) {
                Some(p) => return from + p as u64,
                None if to_end => return self.len,
                None => {}
            }
        }
        at
    }

    /// Read the lines that start in `range` (the last one whole, even when it
    /// ends past the range) and hand them to `f`. Safe to call from many
    /// threads at once; each call reuses a buffer from a small shared pool.
    pub fn with_chunk<R>(&self, range: (u64, u64), f: impl Fn(&[u8]) -> R) -> R {
        match self.with_mapped_chunk(range, &f, MAP_TAIL) {
            Mapped::Done(r) => return r,
            // the last line runs past the short tail: map it with the long one
            Mapped::LongLine => {
                if let Mapped::Done(r) = self.with_mapped_chunk(range, &f, TAIL) {
                    return r;
                }
            }
            Mapped::No => {}
        }
        self.with_read_chunk(range, f)
    }

    /// [`PlainFile::with_chunk`] on a memory map of the chunk and `tail`
    /// bytes past it; [`Mapped::LongLine`] (`f` not called) when the last
    /// line runs past that tail, [`Mapped::No`] when it has to be read with
    /// `pread` (the map or its watch failed, or the file shrank under it:
    /// then `f`'s result is dropped).
    fn with_mapped_chunk<R>(
        &self,
        (start, end): (u64, u64),
        f: &impl Fn(&[u8]) -> R,
        tail: usize,
    ) -> Mapped<R> {
        if end <= start {
            return Mapped::No;
        }
        // as `chunk`: from the byte before `start`, to a tail past `end`
        let from = start.saturating_sub(1);
        let want = ((end - from) as usize + tail).min((self.len - from) as usize);
        // SAFETY: the map is read only through `data` below while `watch`
        // guards it: a page past the end of the file (it shrank) reads as
        // zeros instead of raising SIGBUS, and `watch.hit()` says so, after
        // which the bytes read are dropped. `watch` is dropped before the
        // map (declaration order below), so a later mapping at the same
        // address is never taken for this one. Another process writing the
        // file changes the bytes under us, as it would between `pread`s.
        let map = unsafe {
            memmap2::MmapOptions::new()
                .offset(from)
                .len(want)
                .populate()
                .map(&self.file)
        };
        let Ok(map) = map else {
            return Mapped::No;
        };
        let Some(watch) = super::sigbus::Watch::new(map.as_ptr(), map.len()) else {
            return Mapped::No;
        };
        let data: &[u8] = &map;
        let first = if start == 0 {
            0
        } else {
            match memchr::memchr(b'\n', &data[..(end - from - 1) as usize]) {
                Some(i) => i + 1,
                None => return Mapped::No,
            }
        };
        let search = (end - 1 - from) as usize;
        let stop = match memchr::memchr(b'\n', &data[search..]) {
            Some(i) => search + i + 1,
            // the last line of the file, without a newline
            None if from + want as u64 >= self.len => data.len(),
            None => return Mapped::LongLine,
        };
        let r = f(&data[first..stop]);
        let shrank = watch.hit();
        drop(watch);
        drop(map);
        if shrank {
            Mapped::No
        } else {
            Mapped::Done(r)
        }
    }

    /// [`PlainFile::with_chunk`] with `pread` into a pooled buffer: `f` is
    /// called once (a file that shrank meanwhile gives the lines read up
    /// to its new end, as noted by [`PlainFile::changed`]), so it may add
    /// into what it borrows (issue 9: whole small files read by one task
    /// into one aggregate).
    pub fn with_read_chunk<R>(&self, range: (u64, u64), f: impl FnOnce(&[u8]) -> R) -> R {
        let mut buf = (BUFFERS.lock().ok())
            .and_then(|mut pool| pool.pop())
            .unwrap_or_default();
        let span = self.chunk(range, &mut buf);
        let r = f(&buf[span]);
        if buf.capacity() <= POOL_MAX {
            if let Ok(mut pool) = BUFFERS.lock() {
                pool.push(buf);
            }
        }
        r
    }

    /// Fill `buf` and return the part of it holding the chunk's lines.
    fn chunk(&self, (start, end): (u64, u64), buf: &mut Vec<u8>) -> std::ops::Range<usize> {
        // A line starts at `p` when p == 0 or byte p-1 is '\n', so read from
        // start-1 to see that byte.
        let from = start.saturating_sub(1);
        let want = ((end - from) as usize + TAIL).min((self.len - from) as usize);
        let mut have = self.read_at(from, want, buf, 0);
        let first = if start == 0 {
            0
        } else {
            // the first '\n' at or after start-1, among bytes start-1..end-1
            let scan = ((end - from - 1) as usize).min(have);
            match memchr::memchr(b'\n', &buf[..scan]) {
                Some(i) => i + 1,
                None => return 0..0,
            }
        };
        // the chunk ends after the first '\n' at or after end-1
        let mut search = (end - 1 - from) as usize;
        loop {
            if search < have {
                if let Some(i) = memchr::memchr(b'\n', &buf[search..have]) {
                    return first..search + i + 1;
                }
            }
            let at = from + have as u64;
            if at >= self.len || self.short_at.load(Ordering::Relaxed) <= at {
                break;
            }
            if have - (end - 1 - from) as usize > MAX_LINE {
                return first..have;
            }
            // a long last line: read on, doubling
            search = have;
            let more = have.max(TAIL).min((self.len - at) as usize);
            have += self.read_at(at, more, buf, have);
        }
        if from + (have as u64) < self.len {
            // the file ended early (shrank): the last line is cut, drop it
            let first = first.min(have);
            let keep = memchr::memrchr(b'\n', &buf[first..have]).map_or(first, |i| first + i + 1);
            return first..keep;
        }
        first.min(have)..have
    }

    /// Read up to `n` bytes at `offset` into `buf[into..]` (grown as needed,
    /// never shrunk or cleared: zeroing the buffer per chunk would cost about
    /// as much as the read); returns how many were read. Stops at the end of
    /// the file, noting where when that is before `len`.
    fn read_at(&self, offset: u64, n: usize, buf: &mut Vec<u8>, into: usize) -> usize {
        if buf.len() < into + n {
            buf.resize(into + n, 0);
        }
        let dst = &mut buf[into..into + n];
        let mut got = 0;
        while got < n {
            match self.file.read_at(&mut dst[got..], offset + got as u64) {
                Ok(0) => break,
                Ok(k) => got += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    if let Ok(mut slot) = self.error.lock() {
                        slot.get_or_insert((offset + got as u64, e));
                    }
                    break;
                }
            }
        }
        if got < n {
            self.short_at
                .fetch_min(offset + got as u64, Ordering::Relaxed);
        }
        got
    }

    /// After reading: whether the file changed size meanwhile or a read ran
    /// into its end early, with the sizes for the report.
    pub fn changed(&self) -> Option<Changed> {
        let now = self.file.metadata().map(|m| m.len()).unwrap_or(0);
        let short = self.short_at.load(Ordering::Relaxed);
        let short_at = (short < self.len).then_some(short);
        (now != self.len || short_at.is_some()).then_some(Changed {
            was: self.len,
            now,
            short_at,
        })
    }

    /// The first read error other than the end of the file, with its offset.
    pub fn read_error(&self) -> Option<String> {
        let slot = self.error.lock().ok()?;
        slot.as_ref()
            .map(|(at, e)| format!("read error at byte {at}: {e}; lines after it were not read"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file_with(data: &[u8]) -> (tempfile::NamedTempFile, PlainFile) {
        let mut t = tempfile::NamedTempFile::new().unwrap();
        t.write_all(data).unwrap();
        let p = PlainFile::open(t.path(), data.len() as u64).unwrap();
        (t, p)
    }

    fn all_chunks(p: &PlainFile, size: usize) -> Vec<Vec<u8>> {
        p.ranges(size)
            .into_iter()
            .map(|r| p.with_chunk(r, |c| c.to_vec()))
            .collect()
    }

    #[test]
    fn chunks_hold_each_line_once_whatever_the_size() {
        let mut data = Vec::new();
        for i in 0..500 {
            data.extend_from_slice(format!("line {i} {}\n", "x".repeat(i % 37)).as_bytes());
        }
        data.extend_from_slice(b"last line without newline");
        let (_t, p) = file_with(&data);
        for size in [1, 2, 7, 64, 1000, 4096, data.len(), data.len() * 2] {
            let got: Vec<u8> = all_chunks(&p, size).concat();
            assert_eq!(got, data, "size {size}");
            for c in all_chunks(&p, size) {
                assert!(c.is_empty() || c.ends_with(b"\n") || c.ends_with(b"newline"));
            }
        }
        assert!(p.changed().is_none());
    }

    /// Chunks cut at [`PlainFile::boundary`] hold every line once, and
    /// never a cut line's pieces apart (a toy container log: `P` a partial
    /// piece, `F` a last one, `f` stderr's own line between).
    #[test]
    fn boundaries_keep_a_cut_lines_pieces_in_one_chunk() {
        fn toy(line: &[u8]) -> Option<(usize, bool)> {
            match line.first()? {
                b'P' => Some((0, false)),
                b'F' => Some((0, true)),
                b'f' => Some((1, true)),
                _ => None,
            }
        }
        let mut data = Vec::new();
        for i in 0..300 {
            let line = match i % 4 {
                0 => format!("P piece {i}\n"),
                1 => format!("f stderr {i}\n"),
                2 => format!("P piece {i} {}\n", "x".repeat(i % 29)),
                _ => format!("F last {i}\n"),
            };
            data.extend_from_slice(line.as_bytes());
        }
        let (_t, p) = file_with(&data);
        for size in [1, 7, 64, 1000, data.len()] {
            let chunks: Vec<Vec<u8>> = p
                .ranges(size)
                .into_iter()
                .map(|(a, b)| {
                    let (a, b) = (p.boundary(a, toy), p.boundary(b, toy));
                    p.with_chunk((a, b.max(a)), |c| c.to_vec())
                })
                .collect();
            assert_eq!(chunks.concat(), data, "size {size}");
            for c in chunks.iter().filter(|c| !c.is_empty()) {
                assert!(
                    c.starts_with(b"P"),
                    "size {size}: {:?}",
                    String::from_utf8_lossy(c)
                );
                assert!(
                    c.ends_with(b"\n")
                        && c[..c.len() - 1]
                            .rsplit(|&b| b == b'\n')
                            .next()
                            .is_some_and(|l| l.starts_with(b"F"))
                );
            }
        }
        // no container lines: the next line start
        let (_t, p) = file_with(b"aaa\nbbb\n");
        assert_eq!(p.boundary(2, toy), 4);
    }

    #[test]
    fn a_line_longer_than_the_tail_is_read_whole() {
        let mut data = b"short\n".to_vec();
        data.extend_from_slice(&vec![b'y'; TAIL * 3 + 5]);
        data.extend_from_slice(b"\nend\n");
        let (_t, p) = file_with(&data);
        let chunks = all_chunks(&p, 10);
        assert_eq!(chunks.concat(), data);
        assert_eq!(chunks.iter().filter(|c| !c.is_empty()).count(), 2);
    }

    /// Lines longer than the short mapped tail but within the long one,
    /// across every chunk boundary: each chunk is mapped again with the
    /// long tail, and every line still arrives once, whole.
    #[test]
    fn lines_past_the_short_tail_are_read_whole() {
        let mut data = Vec::new();
        for i in 0..40 {
            let n = MAP_TAIL + 1 + (i * 997) % (TAIL - MAP_TAIL - 64);
            data.extend_from_slice(format!("{i} ").as_bytes());
            data.extend(vec![b'a' + (i % 26) as u8; n]);
            data.push(b'\n');
        }
        let (_t, p) = file_with(&data);
        for size in [MAP_TAIL, 3 * MAP_TAIL + 7, 64 << 10] {
            let chunks = all_chunks(&p, size);
            assert_eq!(chunks.concat(), data, "size {size}");
            for c in chunks.iter().filter(|c| !c.is_empty()) {
                assert!(c.ends_with(b"\n"), "size {size}");
            }
        }
        assert!(p.changed().is_none());
    }

    #[test]
    fn a_huge_line_is_cut_not_read_whole() {
        let mut data = b"short\n".to_vec();
        data.resize(6 + MAX_LINE + 3 * TAIL, b'z');
        data.extend_from_slice(b"\nend\n");
        let (_t, p) = file_with(&data);
        let chunks = all_chunks(&p, 1 << 20);
        let first = &chunks[0];
        assert!(first.len() > MAX_LINE && first.len() < MAX_LINE + (4 << 20));
        assert!(first.starts_with(b"short\nzzz"));
        let rest: Vec<u8> = chunks[1..].concat();
        assert_eq!(rest, b"end\n", "the rest of the long line is skipped");
    }

    #[test]
    fn truncation_is_noticed_and_the_cut_line_dropped() {
        let data: Vec<u8> = (0..2000)
            .flat_map(|i| format!("line number {i}\n").into_bytes())
            .collect();
        let (t, p) = file_with(&data);
        let first = p.with_chunk((0, 100), |c| c.to_vec());
        assert!(first.starts_with(b"line number 0\n"));
        t.as_file().set_len(1000).unwrap();
        let rest: Vec<Vec<u8>> = p
            .ranges(100)
            .into_iter()
            .skip(1)
            .map(|r| p.with_chunk(r, |c| c.to_vec()))
            .collect();
        let read = [first, rest.concat()].concat();
        assert!(
            read.len() <= 1000 && read.ends_with(b"\n"),
            "{}",
            read.len()
        );
        assert_eq!(&read[..], &data[..read.len()]);
        let c = p.changed().expect("reported");
        assert_eq!((c.was, c.now), (data.len() as u64, 1000));
        assert_eq!(c.short_at, Some(1000));
        assert!(c.to_string().contains("changed while read"), "{c}");
    }

    /// The file is cut while a mapped chunk is being parsed (`f` cuts it,
    /// then reads on past the new end): no SIGBUS, the bytes read over
    /// zeros are dropped, the chunk is read again with `pread` (the lines
    /// still there) and the cut is reported.
    #[test]
    fn a_file_cut_while_its_mapped_chunk_is_read_is_read_again_and_said() {
        let data: Vec<u8> = (0..40_000)
            .flat_map(|i| format!("line number {i}\n").into_bytes())
            .collect();
        let (t, p) = file_with(&data);
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let got = p.with_chunk((0, data.len() as u64), |c| {
            if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                t.as_file().set_len(10_000).unwrap();
            }
            // touch every byte, as a parse would
            (c.to_vec(), c.iter().map(|&b| u64::from(b)).sum::<u64>())
        });
        assert_eq!(calls.load(Ordering::SeqCst), 2, "mapped, then read again");
        let (bytes, _) = got;
        assert!(
            bytes.len() <= 10_000 && bytes.ends_with(b"\n"),
            "{}",
            bytes.len()
        );
        assert_eq!(&bytes[..], &data[..bytes.len()]);
        let c = p.changed().expect("reported");
        assert_eq!(
            (c.was, c.now, c.short_at),
            (data.len() as u64, 10_000, Some(10_000))
        );
    }

    #[test]
    fn growth_is_noticed_and_not_read() {
        let (t, p) = file_with(b"a\nb\n");
        writeln!(t.as_file(), "c").unwrap();
        let got: Vec<u8> = all_chunks(&p, 1).concat();
        assert_eq!(got, b"a\nb\n");
        let c = p.changed().expect("reported");
        assert_eq!((c.was, c.now, c.short_at), (4, 6, None));
        assert!(c.to_string().contains("lines after byte 4"), "{c}");
    }
}
