//! A gzip reader (RFC 1952) that reads every member of a multi-member file
//! (`pigz`, `bgzip`, `cat a.gz b.gz` write those) and, when the data is
//! damaged, first hands out every byte decoded before the damage.
//!
//! Why not `flate2::read::MultiGzDecoder`: when inflate fails inside one
//! `read` call, the bytes it decoded in that call are dropped with the error
//! (flate2 `zio::read` returns only the error), up to a whole buffer of good
//! lines. Here the raw inflate state (`flate2::Decompress`, or ISA-L's with
//! the feature `isal`: both count their output even on failure) is driven
//! directly ([`super::inflate`]), so they are kept.
//!
//! Member layout, from RFC 1952 §2.3: `1f 8b`, CM = 8 (deflate), FLG, MTIME
//! (4), XFL, OS; then FEXTRA (2-byte length + data), FNAME and FCOMMENT
//! (zero-terminated), FHCRC (2) as FLG says; the deflate data; CRC-32 and
//! ISIZE (length mod 2^32), both little-endian.

use std::io::{self, BufRead, Read};

use super::inflate::{Inflater, Member};

const FHCRC: u8 = 1 << 1;
const FEXTRA: u8 = 1 << 2;
const FNAME: u8 = 1 << 3;
const FCOMMENT: u8 = 1 << 4;

enum State {
    Header,
    Body,
    Trailer,
    Done,
}

/// Decodes a gzip stream, all members, to its plain bytes.
pub struct GzipReader<R> {
    inner: R,
    inflate: Inflater,
    state: State,
    /// Members fully read (checksums good).
    members: u64,
    /// An error to return on the next read, after the bytes before it.
    failed: Option<io::Error>,
}

fn truncated(what: String) -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, what)
}

fn corrupt(what: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what)
}

impl<R: BufRead> GzipReader<R> {
    /// Read the gzip stream `inner`.
    pub fn new(inner: R) -> Self {
        GzipReader {
            inner,
            inflate: Inflater::new(),
            state: State::Header,
            members: 0,
            failed: None,
        }
    }

    fn member(&self) -> u64 {
        self.members + 1
    }

    fn exact(&mut self, buf: &mut [u8], what: &str) -> io::Result<()> {
        let m = self.member();
        self.inner.read_exact(buf).map_err(|e| match e.kind() {
            io::ErrorKind::UnexpectedEof => {
                truncated(format!("ends inside the {what} of member {m}"))
            }
            _ => e,
        })
    }

    /// Read one member header; `Ok(false)` at the clean end of the stream.
    fn header(&mut self) -> io::Result<bool> {
        let head = self.inner.fill_buf()?;
        if head.is_empty() {
            return if self.members == 0 {
                Err(truncated("no gzip member (empty)".into()))
            } else {
                Ok(false)
            };
        }
        if self.members > 0 && head[0] != 0x1f {
            // gzip(1) also stops here ("trailing garbage ignored")
            let m = self.members;
            return Err(corrupt(format!(
                "bytes after member {m} are not gzip (trailing garbage, ignored)"
            )));
        }
        let mut fixed = [0u8; 10];
        self.exact(&mut fixed, "header")?;
        let m = self.member();
        if fixed[..3] != [0x1f, 0x8b, 8] {
            return Err(corrupt(format!("member {m} has no gzip/deflate header")));
        }
        let flags = fixed[3];
        if flags & 0xe0 != 0 {
            return Err(corrupt(format!("member {m} sets reserved header flags")));
        }
        if flags & FEXTRA != 0 {
            let mut n = [0u8; 2];
            self.exact(&mut n, "header")?;
            let mut extra = vec![0u8; u16::from_le_bytes(n) as usize];
            self.exact(&mut extra, "header")?;
        }
        for flag in [FNAME, FCOMMENT] {
            if flags & flag != 0 {
                let mut s = Vec::new();
                self.inner.read_until(0, &mut s)?;
                if s.last() != Some(&0) {
                    return Err(truncated(format!("ends inside the header of member {m}")));
                }
            }
        }
        if flags & FHCRC != 0 {
            self.exact(&mut [0u8; 2], "header")?;
        }
        Ok(true)
    }

    fn trailer(&mut self) -> io::Result<()> {
        let mut t = [0u8; 8];
        self.exact(&mut t, "trailer")?;
        let crc = u32::from_le_bytes([t[0], t[1], t[2], t[3]]);
        let size = u32::from_le_bytes([t[4], t[5], t[6], t[7]]);
        if (crc, size) != self.inflate.sums() {
            return Err(self.bad_check());
        }
        self.next_member();
        Ok(())
    }

    fn bad_check(&self) -> io::Error {
        let m = self.member();
        corrupt(format!(
            "member {m} fails its CRC-32/length check: the data decoded from it is damaged"
        ))
    }

    fn next_member(&mut self) {
        self.members += 1;
        self.inflate.reset();
    }

    /// `produced` bytes now, and `err` on the next read if there are any.
    fn fail_after(&mut self, produced: usize, err: io::Error) -> io::Result<usize> {
        if produced > 0 {
            self.failed = Some(err);
            return Ok(produced);
        }
        Err(err)
    }

    /// Inflate into `dst`; `Ok(0)` only when the member's data ended.
    fn body(&mut self, dst: &mut [u8]) -> io::Result<usize> {
        loop {
            let input = self.inner.fill_buf()?;
            let eof = input.is_empty();
            let step = self.inflate.inflate(input, dst);
            let (consumed, produced) = (step.consumed, step.produced);
            self.inner.consume(consumed);
            let m = self.member();
            match step.state {
                Member::Corrupt(e) => {
                    return self.fail_after(produced, corrupt(format!("member {m}: {e}")))
                }
                Member::DeflateEnd => {
                    self.state = State::Trailer;
                    return Ok(produced);
                }
                Member::Checked => {
                    self.next_member();
                    self.state = State::Header;
                    return Ok(produced);
                }
                Member::BadTrailer => {
                    let err = self.bad_check();
                    return self.fail_after(produced, err);
                }
                Member::Going if produced > 0 => return Ok(produced),
                Member::Going if eof => {
                    let part = if self.inflate.in_trailer() {
                        "trailer"
                    } else {
                        "data"
                    };
                    return Err(truncated(format!("ends inside the {part} of member {m}")));
                }
                Member::Going if consumed == 0 => {
                    return Err(corrupt(format!("member {m}: inflate makes no progress")))
                }
                Member::Going => continue,
            }
        }
    }
}

impl<R: BufRead> Read for GzipReader<R> {
    fn read(&mut self, dst: &mut [u8]) -> io::Result<usize> {
        if dst.is_empty() {
            return Ok(0);
        }
        if let Some(e) = self.failed.take() {
            self.state = State::Done;
            return Err(e);
        }
        loop {
            let step = match self.state {
                State::Done => return Ok(0),
                State::Header => match self.header() {
                    Ok(true) => {
                        self.state = State::Body;
                        continue;
                    }
                    Ok(false) => {
                        self.state = State::Done;
                        return Ok(0);
                    }
                    Err(e) => Err(e),
                },
                State::Body => match self.body(dst) {
                    Ok(0) => continue,
                    other => other,
                },
                State::Trailer => match self.trailer() {
                    Ok(()) => {
                        self.state = State::Header;
                        continue;
                    }
                    Err(e) => Err(e),
                },
            };
            if step.is_err() {
                self.state = State::Done;
            }
            return step;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gz(text: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(text).unwrap();
        enc.finish().unwrap()
    }

    fn lines(n: usize, tag: &str) -> Vec<u8> {
        (0..n)
            .flat_map(|i| format!("{tag} line {i} {}\n", i * 7919 % 1000).into_bytes())
            .collect()
    }

    /// Read all, in small reads, returning the bytes and the error if any.
    fn read_all(data: &[u8]) -> (Vec<u8>, Option<io::Error>) {
        read_sized(data, 1000, 4096)
    }

    /// Read all with input reads of at most `input` bytes and output
    /// reads of `output` bytes.
    fn read_sized(data: &[u8], input: usize, output: usize) -> (Vec<u8>, Option<io::Error>) {
        let mut r = GzipReader::new(io::BufReader::with_capacity(input, data));
        let mut out = Vec::new();
        let mut buf = vec![0u8; output];
        loop {
            match r.read(&mut buf) {
                Ok(0) => return (out, None),
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(e) => return (out, Some(e)),
            }
        }
    }

    #[test]
    fn every_member_is_read() {
        let (a, b) = (lines(3000, "a"), lines(10, "b"));
        let mut both = gz(&a);
        both.extend(gz(&b));
        both.extend(gz(b""));
        let (out, err) = read_all(&both);
        assert!(err.is_none(), "{err:?}");
        assert_eq!(out, [a, b].concat());
    }

    #[test]
    fn header_fields_are_skipped() {
        let text = lines(50, "x");
        let mut enc = flate2::GzBuilder::new()
            .filename("access.log")
            .comment("rotated")
            .extra(vec![b'B', b'C', 2, 0, 0, 0])
            .write(Vec::new(), flate2::Compression::fast());
        enc.write_all(&text).unwrap();
        let (out, err) = read_all(&enc.finish().unwrap());
        assert!(err.is_none(), "{err:?}");
        assert_eq!(out, text);
    }

    #[test]
    fn a_truncated_member_keeps_what_was_decoded() {
        let text = lines(20000, "t");
        let data = gz(&text);
        let (out, err) = read_all(&data[..data.len() / 2]);
        let err = err.expect("reported");
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof, "{err}");
        assert!(out.len() > text.len() / 4, "{}", out.len());
        assert_eq!(out, text[..out.len()]);
    }

    #[test]
    fn damage_keeps_every_byte_before_it() {
        let text = lines(20000, "d");
        let mut data = gz(&text);
        let at = data.len() / 2;
        for b in &mut data[at..at + 40] {
            *b = 0xff;
        }
        let (out, err) = read_all(&data);
        let err = err.expect("damage is reported");
        assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{err}");
        // what came out before the error is a true prefix of the text up to
        // near the damage (inflate may emit a few wrong bytes before it sees
        // the damage; the CRC check then names it)
        let good = out.iter().zip(&text).take_while(|(a, b)| a == b).count();
        assert!(good > text.len() / 3, "{good} of {}", text.len());
    }

    fn gz_at(text: &[u8], level: u32) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(level));
        enc.write_all(text).unwrap();
        enc.finish().unwrap()
    }

    /// Members of every kind: stored (level 0), fixed and dynamic Huffman
    /// blocks, an empty one, one of several blocks.
    fn members() -> Vec<(Vec<u8>, Vec<u8>)> {
        let big = lines(40_000, "big");
        [
            (lines(300, "a"), 6),
            (Vec::new(), 6),
            (lines(2000, "stored"), 0),
            (b"x".to_vec(), 1),
            (big, 9),
            (lines(5, "end"), 1),
        ]
        .into_iter()
        .map(|(text, level)| {
            let data = gz_at(&text, level);
            (text, data)
        })
        .collect()
    }

    #[test]
    fn any_read_sizes_give_every_member_whole() {
        let all = members();
        let text: Vec<u8> = all.iter().flat_map(|(t, _)| t.clone()).collect();
        let data: Vec<u8> = all.iter().flat_map(|(_, d)| d.clone()).collect();
        for input in [1, 3, 64, 1 << 16] {
            for output in [1, 5, 4096, 1 << 20] {
                if input * output < 64 && data.len() > 100_000 {
                    // one byte in, one out: the small cases below cover it
                    continue;
                }
                let (out, err) = read_sized(&data, input, output);
                assert!(err.is_none(), "in {input} out {output}: {err:?}");
                assert!(
                    out == text,
                    "in {input} out {output}: {} of {} bytes",
                    out.len(),
                    text.len()
                );
            }
        }
        let small: Vec<u8> = all[..4].iter().flat_map(|(_, d)| d.clone()).collect();
        let small_text: Vec<u8> = all[..4].iter().flat_map(|(t, _)| t.clone()).collect();
        let (out, err) = read_sized(&small, 1, 1);
        assert!(err.is_none() && out == small_text, "{err:?}");
    }

    #[test]
    fn every_cut_keeps_a_prefix_and_says_where_it_fell() {
        let (a, b) = (lines(60, "a"), lines(40, "b"));
        let (ga, gb) = (gz_at(&a, 6), gz_at(&b, 1));
        let data = [ga.clone(), gb.clone()].concat();
        let text = [a.clone(), b].concat();
        // (start, end) of each member in `data`
        let spans = [(0, ga.len()), (ga.len(), data.len())];
        for cut in 0..data.len() {
            for (input, output) in [(1, 4096), (7, 3), (4096, 4096)] {
                let (out, err) = read_sized(&data[..cut], input, output);
                let at = format!("cut at {cut} of {} (in {input} out {output})", data.len());
                assert!(text.starts_with(&out), "{at}: what was kept is the start");
                if cut == ga.len() {
                    // the stream ends cleanly after the first member
                    assert!(err.is_none(), "{at}: {err:?}");
                    assert!(out == a, "{at}");
                    continue;
                }
                let err = err.unwrap_or_else(|| panic!("{at}: the cut is not reported"));
                assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof, "{at}: {err}");
                if cut == 0 {
                    assert_eq!(err.to_string(), "no gzip member (empty)", "{at}");
                    continue;
                }
                let (m, (start, end)) = spans
                    .iter()
                    .enumerate()
                    .find(|(_, (s, e))| (*s..*e).contains(&cut))
                    .map(|(i, span)| (i + 1, *span))
                    .unwrap();
                let part = if cut < start + 10 {
                    "header"
                } else if cut >= end - 8 {
                    "trailer"
                } else {
                    "data"
                };
                assert_eq!(
                    err.to_string(),
                    format!("ends inside the {part} of member {m}"),
                    "{at}"
                );
                if part == "trailer" {
                    // every byte of the member's data came out before
                    assert_eq!(out.len(), if m == 1 { a.len() } else { text.len() }, "{at}");
                }
            }
        }
    }

    #[test]
    fn a_trailer_that_does_not_match_is_named_after_the_data() {
        let (a, b) = (lines(3000, "a"), lines(3000, "b"));
        let (ga, gb) = (gz_at(&a, 6), gz_at(&b, 6));
        // the CRC-32, then the length, of the second member
        for at in [gb.len() - 8, gb.len() - 1] {
            let mut bad = gb.clone();
            bad[at] ^= 0x01;
            for (input, output) in [(1000, 4096), (1 << 16, 1 << 20)] {
                let (out, err) = read_sized(&[ga.clone(), bad.clone()].concat(), input, output);
                let err = err.expect("reported");
                assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{err}");
                assert_eq!(
                    err.to_string(),
                    "member 2 fails its CRC-32/length check: the data decoded from it is damaged"
                );
                assert!(
                    out == [a.clone(), b.clone()].concat(),
                    "all data before the check"
                );
            }
        }
    }

    #[test]
    fn trailing_garbage_ends_the_stream_after_the_last_member() {
        let a = lines(100, "a");
        let data = [gz_at(&a, 6), b"\0\0garbage".to_vec()].concat();
        let (out, err) = read_all(&data);
        let err = err.expect("reported");
        assert!(err.to_string().contains("trailing garbage"), "{err}");
        assert!(out == a);
    }
}
