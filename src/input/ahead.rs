//! Decoding a stream on its own thread, a block ahead of the parser, so a
//! compressed file keeps one core inflating while the others parse (before,
//! the two took turns on a 2-core machine: 1.08 cores used on one `.gz`,
//! issue 9).

use std::io;
use std::sync::mpsc::sync_channel;
use std::sync::Mutex;

use super::BlockReader;

/// Blocks decoded and waiting, besides the one being parsed and the one
/// being decoded: memory stays at about three [`super::STREAM_BLOCK`]s per
/// stream.
const AHEAD: usize = 1;

/// Hand `first` (a block already read) and then every further block of
/// `reader` to `each`, in order, while the next block is decoded on another
/// thread. A read error is returned after every block before it was handed
/// out. If no thread can be started, the blocks are read on this one.
///
/// The blocks' buffers go back to the decoder once parsed and are filled
/// again ([`BlockReader::next_block_into`]): at most three buffers per
/// stream, each allocated once.
pub fn each_block(
    first: Option<Vec<u8>>,
    reader: &mut BlockReader,
    each: &mut dyn FnMut(&[u8]),
) -> io::Result<()> {
    let reader = Mutex::new(reader);
    let next = |buf: &mut Vec<u8>| match reader.lock() {
        Ok(mut r) => r.next_block_into(buf),
        Err(_) => Ok(false),
    };
    let next = &next;
    std::thread::scope(|s| {
        let (tx, rx) = sync_channel::<io::Result<Vec<u8>>>(AHEAD);
        // parsed buffers, back to the decoder (never more than are in flight)
        let (back_tx, back_rx) = sync_channel::<Vec<u8>>(AHEAD + 2);
        let decoder = std::thread::Builder::new()
            .name("gatecheck-decode".into())
            .spawn_scoped(s, move || loop {
                let mut buf = back_rx.try_recv().unwrap_or_default();
                let item = match next(&mut buf) {
                    Ok(true) => Ok(buf),
                    Ok(false) => return,
                    Err(e) => Err(e),
                };
                let last = item.is_err();
                // a send fails only when the parser stopped listening
                if tx.send(item).is_err() || last {
                    return;
                }
            });
        if let Some(b) = first {
            each(&b);
        }
        if decoder.is_err() {
            drop(rx);
            let mut buf = Vec::new();
            while next(&mut buf)? {
                each(&buf);
            }
            return Ok(());
        }
        // the decoder ends (dropping its sender) after the last block or the error
        for item in rx {
            let buf = item?;
            each(&buf);
            // refused only when the decoder has ended or holds enough
            let _ = back_tx.try_send(buf);
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufReader, Write};

    fn lines(n: usize) -> Vec<u8> {
        (0..n)
            .flat_map(|i| format!("line {i} {}\n", "x".repeat(i % 97)).into_bytes())
            .collect()
    }

    #[test]
    fn every_block_arrives_in_order() {
        let data = lines(400_000);
        assert!(data.len() > 2 * super::super::STREAM_BLOCK);
        // a reader that hands out 64 KiB at a time, as a file or decoder does
        let src = BufReader::with_capacity(64 << 10, io::Cursor::new(data.clone()));
        let mut r = BlockReader::new(Box::new(src));
        let first = r.next_block().unwrap();
        let mut got = Vec::new();
        let mut blocks = 0;
        each_block(first, &mut r, &mut |b| {
            assert!(b.ends_with(b"\n"));
            blocks += 1;
            got.extend_from_slice(b);
        })
        .unwrap();
        assert!(
            blocks >= 3,
            "{blocks} blocks: the stream was read a block at a time"
        );
        assert!(got == data, "{} of {} bytes", got.len(), data.len());
    }

    #[test]
    fn a_cut_stream_hands_out_its_start_then_the_error() {
        let data = lines(400_000);
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&data).unwrap();
        let mut gz = enc.finish().unwrap();
        gz.truncate(gz.len() * 3 / 4);
        let dec = super::super::stream::decode(Box::new(BufReader::new(io::Cursor::new(gz))));
        let mut r = BlockReader::new(dec.unwrap());
        let mut got = Vec::new();
        let err = each_block(None, &mut r, &mut |b| got.extend_from_slice(b))
            .expect_err("the cut is reported");
        assert!(err.to_string().contains("truncated"), "{err}");
        assert!(got.len() > data.len() / 2, "{} bytes kept", got.len());
        assert!(data.starts_with(&got), "what was kept is the start");
    }
}
