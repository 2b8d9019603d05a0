//! A gzip reader (RFC 1952) that reads every member of a multi-member file
//! (`pigz`, `bgzip`, `cat a.gz b.gz` write those) and, when the data is
//! damaged, first hands out every byte decoded before the damage.
//!
//! Why not `flate2::read::MultiGzDecoder`: when inflate fails inside one
//! `read` call, the bytes it decoded in that call are dropped with the error
//! (flate2 `zio::read` returns only the error), up to a whole buffer of good
//! lines. Here the raw inflate state (`flate2::Decompress`, which counts its
//! output even on failure) is driven directly, so they are kept.
//!
//! Member layout, from RFC 1952 §2.3: `1f 8b`, CM = 8 (deflate), FLG, MTIME
//! (4), XFL, OS; then FEXTRA (2-byte length + data), FNAME and FCOMMENT
//! (zero-terminated), FHCRC (2) as FLG says; the deflate data; CRC-32 and
//! ISIZE (length mod 2^32), both little-endian.

use std::io::{self, BufRead, Read};

use flate2::{Decompress, FlushDecompress, Status};

/// CRC-32 and length (mod 2^32) of a member's decoded bytes, as its trailer
/// holds them (RFC 1952 §2.3.1). `crc32fast` (PCLMULQDQ) rather than
/// `flate2::Crc`, which with the zlib-rs backend is zlib-rs's portable
/// "braid" CRC: 12 % of the CPU of reading a `.gz` (perf, issue 9).
#[derive(Default)]
struct Crc {
    hasher: crc32fast::Hasher,
    amount: u32,
}

impl Crc {
    fn new() -> Crc {
        Crc::default()
    }

    fn update(&mut self, data: &[u8]) {
        self.hasher.update(data);
        self.amount = self.amount.wrapping_add(data.len() as u32);
    }

    fn sum(&self) -> u32 {
        self.hasher.clone().finalize()
    }

    fn amount(&self) -> u32 {
        self.amount
    }

    fn reset(&mut self) {
        *self = Crc::default();
    }
}

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
    inflate: Decompress,
    crc: Crc,
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
            inflate: Decompress::new(false),
            crc: Crc::new(),
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
        let m = self.member();
        let crc = u32::from_le_bytes([t[0], t[1], t[2], t[3]]);
        let size = u32::from_le_bytes([t[4], t[5], t[6], t[7]]);
        if crc != self.crc.sum() || size != self.crc.amount() {
            return Err(corrupt(format!(
                "member {m} fails its CRC-32/length check: the data decoded from it is damaged"
            )));
        }
        self.members += 1;
        self.inflate.reset(false);
        self.crc.reset();
        Ok(())
    }

    /// Inflate into `dst`; `Ok(0)` only when the member ended.
    fn body(&mut self, dst: &mut [u8]) -> io::Result<usize> {
        loop {
            let input = self.inner.fill_buf()?;
            let eof = input.is_empty();
            let (in0, out0) = (self.inflate.total_in(), self.inflate.total_out());
            let res = self.inflate.decompress(input, dst, FlushDecompress::None);
            let consumed = (self.inflate.total_in() - in0) as usize;
            let produced = (self.inflate.total_out() - out0) as usize;
            self.inner.consume(consumed);
            self.crc.update(&dst[..produced]);
            let m = self.member();
            match res {
                Err(e) => {
                    let err = corrupt(format!("member {m}: {e}"));
                    if produced > 0 {
                        self.failed = Some(err);
                        return Ok(produced);
                    }
                    return Err(err);
                }
                Ok(Status::StreamEnd) => {
                    self.state = State::Trailer;
                    return Ok(produced);
                }
                Ok(_) if produced > 0 => return Ok(produced),
                Ok(_) if eof => {
                    return Err(truncated(format!("ends inside the data of member {m}")))
                }
                Ok(_) if consumed == 0 => {
                    return Err(corrupt(format!("member {m}: inflate makes no progress")))
                }
                Ok(_) => continue,
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
        let mut r = GzipReader::new(io::BufReader::with_capacity(1000, data));
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
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
}
