//! Time gatecheck's decoding of a compressed file alone, as `analyze` opens
//! it (`input::open`: magic bytes, the gzip/zstd/bzip2/xz reader, 64 KiB
//! reads) but with no parsing: every decoded byte is read into one 8 MiB
//! buffer and its lines counted. Prints the decoded bytes and lines, the
//! thread's CPU seconds and the decoded GB per CPU second.
//!
//! `cargo run --release [--features isal] --example inflate_speed -- FILE…`
//!
//! Compare with `perf stat -e task-clock igzip -dc FILE > /dev/null` (or
//! `gzip -dc`, `zstd -dc`): the CPU time is the thread's, so a busy machine
//! does not inflate it.

use std::io::Read;
use std::time::Instant;

use gatecheck::input::{open, Input, Opened};

/// CPU time of this thread, seconds.
fn thread_cpu() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the duration of the call.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9
}

fn main() {
    let backend = if cfg!(feature = "isal") {
        "ISA-L"
    } else {
        "zlib-rs"
    };
    // GATECHECK_READ=BYTES: the size of each read (8 MiB by default)
    let size = std::env::var("GATECHECK_READ")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(8 << 20);
    let mut buf = vec![0u8; size];
    for path in std::env::args().skip(1) {
        let input = Input {
            path: Some(path.clone().into()),
            display: path.clone(),
            len: std::fs::metadata(&path).map_or(0, |m| m.len()),
        };
        let mut r = match open(&input) {
            Ok(Opened::Compressed(r) | Opened::Stream(r)) => r,
            Ok(Opened::File(_)) => {
                println!("{path}: not compressed");
                continue;
            }
            Err(e) => {
                println!("{path}: {e}");
                continue;
            }
        };
        let (t, c) = (Instant::now(), thread_cpu());
        let (mut bytes, mut lines) = (0u64, 0u64);
        let end = loop {
            match r.read(&mut buf) {
                Ok(0) => break None,
                Ok(n) => {
                    bytes += n as u64;
                    lines += memchr::memchr_iter(b'\n', &buf[..n]).count() as u64;
                }
                Err(e) => break Some(e),
            }
        };
        let (wall, cpu) = (t.elapsed().as_secs_f64(), thread_cpu() - c);
        println!(
            "{path} ({backend}): {bytes} bytes, {lines} lines in {cpu:.3} CPU-s ({wall:.3} s wall): {:.2} GB per CPU-s",
            bytes as f64 / 1e9 / cpu
        );
        if let Some(e) = end {
            println!("  stopped: {e}");
        }
    }
}
