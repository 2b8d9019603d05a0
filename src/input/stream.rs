//! Streams: recognise compression by its magic bytes (never by the file
//! name: rotated logs are often `access.log.1` holding gzip), decode it, and
//! turn a decoder's failure into a message that says how far it got.
//!
//! Magic bytes: gzip `1f 8b` (RFC 1952 §2.3.1), zstd frame `28 b5 2f fd`
//! (RFC 8878 §3.1.1), bzip2 `BZh` + block size `1`–`9` (the bzip2 file
//! format), xz `fd 37 7a 58 5a 00` (the .xz file format §2.1.1.1). lz4 frame
//! `04 22 4d 18` and zip `PK 03 04` are recognised only to say so.

use std::io::{self, BufRead, BufReader, Read};

/// A compression gatecheck decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// gzip, one or more members.
    Gzip,
    /// Zstandard, one or more frames.
    Zstd,
    /// bzip2, one or more streams.
    Bzip2,
    /// xz, one or more streams.
    Xz,
}

impl Codec {
    /// The codec whose magic bytes start `head`, or a message naming a
    /// compression or archive gatecheck does not read.
    pub fn sniff(head: &[u8]) -> Result<Option<Codec>, String> {
        Ok(Some(match head {
            [0x1f, 0x8b, ..] => Codec::Gzip,
            [0x28, 0xb5, 0x2f, 0xfd, ..] => Codec::Zstd,
            [b'B', b'Z', b'h', b'1'..=b'9', ..] => Codec::Bzip2,
            [0xfd, b'7', b'z', b'X', b'Z', 0, ..] => Codec::Xz,
            [0x04, 0x22, 0x4d, 0x18, ..] => {
                return Err("compressed with lz4, which gatecheck does not read; \
                            decompress it first (lz4 -dc FILE | gatecheck analyze -)"
                    .into())
            }
            [b'P', b'K', 3, 4, ..] => {
                return Err("a zip archive, which gatecheck does not read; unzip it first".into())
            }
            _ => return Ok(None),
        }))
    }

    /// Its name in messages.
    pub fn name(self) -> &'static str {
        match self {
            Codec::Gzip => "gzip",
            Codec::Zstd => "zstd",
            Codec::Bzip2 => "bzip2",
            Codec::Xz => "xz",
        }
    }
}

/// Bytes needed to recognise every magic above.
const MAGIC_LEN: usize = 6;

/// Output buffer of a decoder. A decoder other than gzip may drop the bytes
/// it decoded in the `read` call that fails, so this bounds what damage can
/// cost beyond the damaged part itself. [`super::BlockReader`] reads a
/// decoded stream straight into its blocks in reads of this size, which the
/// buffer then passes through, so where blocks end is as when they were
/// copied from the buffer.
pub(crate) const DECODED_BUF: usize = 64 << 10;

/// Read the start of `r`, and return a stream of its plain bytes: decoded
/// when it starts with a known compression's magic, as is otherwise.
pub fn decode(mut r: Box<dyn BufRead + Send>) -> io::Result<Box<dyn BufRead + Send>> {
    // a pipe may hand out fewer bytes than a magic at first
    let mut head = Vec::with_capacity(MAGIC_LEN);
    while head.len() < MAGIC_LEN {
        let buf = match r.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            break;
        }
        let n = buf.len().min(MAGIC_LEN - head.len());
        head.extend_from_slice(&buf[..n]);
        r.consume(n);
    }
    let codec = Codec::sniff(&head).map_err(|m| io::Error::new(io::ErrorKind::Unsupported, m))?;
    let r: Box<dyn BufRead + Send> = Box::new(io::Cursor::new(head).chain(r));
    let Some(codec) = codec else {
        return Ok(r);
    };
    let dec: Box<dyn Read + Send> = match codec {
        Codec::Gzip => Box::new(super::gzip::GzipReader::new(r)),
        Codec::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(r)?),
        Codec::Bzip2 => Box::new(bzip2::bufread::MultiBzDecoder::new(r)),
        Codec::Xz => Box::new(liblzma::bufread::XzDecoder::new_multi_decoder(r)),
    };
    Ok(Box::new(BufReader::with_capacity(
        DECODED_BUF,
        Counted {
            inner: dec,
            codec,
            decoded: 0,
        },
    )))
}

/// A decoder that counts its output and says, on failure, how far it got.
struct Counted {
    inner: Box<dyn Read + Send>,
    codec: Codec,
    decoded: u64,
}

impl Read for Counted {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => {
                self.decoded += n as u64;
                Ok(n)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
            Err(e) => {
                let (name, n) = (self.codec.name(), self.decoded);
                let what = if e.kind() == io::ErrorKind::UnexpectedEof {
                    "truncated"
                } else {
                    "corrupt"
                };
                Err(io::Error::new(
                    e.kind(),
                    format!("{name} data {what} after {n} decoded bytes: {e}"),
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn text() -> Vec<u8> {
        (0..30000)
            .flat_map(|i| format!("10.0.0.{} - - line {i}\n", i % 250).into_bytes())
            .collect()
    }

    fn compress(codec: Codec, data: &[u8]) -> Vec<u8> {
        match codec {
            Codec::Gzip => {
                let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                e.write_all(data).unwrap();
                e.finish().unwrap()
            }
            Codec::Zstd => zstd::stream::encode_all(data, 3).unwrap(),
            Codec::Bzip2 => {
                let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
                e.write_all(data).unwrap();
                e.finish().unwrap()
            }
            Codec::Xz => {
                let mut e = liblzma::write::XzEncoder::new(Vec::new(), 1);
                e.write_all(data).unwrap();
                e.finish().unwrap()
            }
        }
    }

    fn read_all(data: Vec<u8>) -> (Vec<u8>, Option<io::Error>) {
        let mut r = decode(Box::new(io::Cursor::new(data))).unwrap();
        let mut out = Vec::new();
        let mut buf = vec![0u8; 1 << 16];
        loop {
            match r.read(&mut buf) {
                Ok(0) => return (out, None),
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(e) => return (out, Some(e)),
            }
        }
    }

    const ALL: [Codec; 4] = [Codec::Gzip, Codec::Zstd, Codec::Bzip2, Codec::Xz];

    #[test]
    fn each_codec_is_sniffed_and_read_whole_across_members() {
        let t = text();
        for codec in ALL {
            let mut two = compress(codec, &t[..1000]);
            two.extend(compress(codec, &t[1000..]));
            let (out, err) = read_all(two);
            assert!(err.is_none(), "{codec:?}: {err:?}");
            assert!(out == t, "{codec:?}: {} of {} bytes", out.len(), t.len());
        }
        let (out, err) = read_all(t.clone());
        assert!(err.is_none() && out == t, "plain text passes as is");
    }

    #[test]
    fn each_codec_cut_short_keeps_the_start_and_says_truncated() {
        let t = text();
        for codec in ALL {
            let mut c = compress(codec, &t);
            c.truncate(c.len() * 2 / 3);
            let (out, err) = read_all(c);
            let err = err.unwrap_or_else(|| panic!("{codec:?}: cut not reported"));
            let msg = err.to_string();
            assert!(msg.starts_with(&format!("{} data ", codec.name())), "{msg}");
            assert!(
                msg.contains(&format!("after {} decoded bytes", out.len())),
                "{msg}"
            );
            assert!(
                out.len() > t.len() / 4,
                "{codec:?}: {} bytes kept",
                out.len()
            );
            assert!(t.starts_with(&out), "{codec:?}: what was kept is the start");
        }
    }

    #[test]
    fn each_codec_damaged_keeps_the_start_and_says_corrupt() {
        let t = text();
        for codec in ALL {
            let mut c = compress(codec, &t);
            let at = c.len() * 3 / 4;
            for b in &mut c[at..at + 64] {
                *b ^= 0x5a;
            }
            let (out, err) = read_all(c);
            let err = err.unwrap_or_else(|| panic!("{codec:?}: damage not reported"));
            assert!(err.to_string().contains(" decoded bytes"), "{err}");
            let good = out.iter().zip(&t).take_while(|(a, b)| a == b).count();
            assert!(good > t.len() / 3, "{codec:?}: {good} good bytes kept");
        }
    }

    #[test]
    fn unsupported_compression_is_named() {
        for (head, name) in [
            (&b"\x04\x22\x4d\x18xxxx"[..], "lz4"),
            (b"PK\x03\x04xx", "zip"),
        ] {
            let err = decode(Box::new(io::Cursor::new(head.to_vec())))
                .err()
                .expect("refused");
            assert!(err.to_string().contains(name), "{err}");
        }
    }
}
