//! Decoding a stream on its own thread, a block ahead of the parser, so a
//! compressed file keeps one core inflating while the others parse (before,
//! the two took turns on a 2-core machine: 1.08 cores used on one `.gz`,
//! issue 9).

use std::io;
use std::sync::mpsc::{sync_channel, TrySendError};
use std::sync::Mutex;

use super::{Block, BlockReader};

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
/// stream, taken from and given back to a pool shared by all streams.
///
/// Without `first`, the first block is read on this thread; a stream that
/// ends within it (a small `.gz`) starts no thread (issue 9: 2,000 small
/// `.gz` files each started a decoder thread and faulted in fresh blocks).
pub fn each_block(
    first: Option<Vec<u8>>,
    reader: &mut BlockReader,
    each: &mut dyn FnMut(&[u8]),
) -> io::Result<()> {
    let first = match first {
        Some(b) => Block::from_vec(b),
        None => {
            let mut buf = pool_take();
            let got = reader.next_block_into(&mut buf);
            if !matches!(got, Ok(true)) {
                pool_give(buf);
                return got.map(|_| ());
            }
            buf
        }
    };
    if reader.done {
        // the whole stream is in its first block
        each(first.bytes());
        pool_give(first);
        return Ok(());
    }
    let reader = Mutex::new(reader);
    let next = |buf: &mut Block| match reader.lock() {
        Ok(mut r) => r.next_block_into(buf),
        Err(_) => Ok(false),
    };
    let next = &next;
    std::thread::scope(|s| {
        let (tx, rx) = sync_channel::<io::Result<Block>>(AHEAD);
        // parsed buffers, back to the decoder (never more than are in flight)
        let (back_tx, back_rx) = sync_channel::<Block>(AHEAD + 2);
        let decoder = std::thread::Builder::new()
            .name("gatecheck-decode".into())
            .spawn_scoped(s, move || {
                loop {
                    let mut buf = back_rx.try_recv().unwrap_or_else(|_| pool_take());
                    let item = match next(&mut buf) {
                        Ok(true) => Ok(buf),
                        Ok(false) => {
                            pool_give(buf);
                            break;
                        }
                        Err(e) => {
                            pool_give(buf);
                            Err(e)
                        }
                    };
                    let last = item.is_err();
                    // a send fails only when the parser stopped listening
                    if let Err(unsent) = tx.send(item) {
                        if let Ok(b) = unsent.0 {
                            pool_give(b);
                        }
                        break;
                    }
                    if last {
                        break;
                    }
                }
                // its spare buffers, back to the pool
                while let Ok(b) = back_rx.try_recv() {
                    pool_give(b);
                }
            });
        each(first.bytes());
        let _ = back_tx.try_send(first);
        if decoder.is_err() {
            drop(rx);
            let mut buf = pool_take();
            let mut end = Ok(());
            loop {
                match next(&mut buf) {
                    Ok(true) => each(buf.bytes()),
                    Ok(false) => break,
                    Err(e) => {
                        end = Err(e);
                        break;
                    }
                }
            }
            pool_give(buf);
            end
        } else {
            // the decoder ends (dropping its sender) after the last block or
            // the error
            let mut end = Ok(());
            for item in rx {
                match item {
                    Ok(buf) => {
                        each(buf.bytes());
                        // refused only when the decoder has ended or holds enough
                        if let Err(TrySendError::Full(b) | TrySendError::Disconnected(b)) =
                            back_tx.try_send(buf)
                        {
                            pool_give(b);
                        }
                    }
                    Err(e) => {
                        end = Err(e);
                        break;
                    }
                }
            }
            end
        }
    })
}

/// Spare block buffers, shared by all streams (as `plain.rs` pools its
/// chunk buffers), so a stream's blocks cost no allocation and no page
/// faults once a buffer of that size was filled before.
static POOL: Mutex<Vec<Block>> = Mutex::new(Vec::new());

/// Buffers kept in [`POOL`] at most: about as many as the streams decoding
/// at once on a few cores hold.
const POOL_MAX: usize = 8;

fn pool_take() -> Block {
    POOL.lock()
        .ok()
        .and_then(|mut p| p.pop())
        .unwrap_or_default()
}

fn pool_give(buf: Block) {
    // a block grown far past its size by one long line is not kept
    if buf.size() == 0 || buf.size() > 2 * super::STREAM_BLOCK {
        return;
    }
    if let Ok(mut p) = POOL.lock() {
        if p.len() < POOL_MAX {
            p.push(buf);
        }
    }
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
