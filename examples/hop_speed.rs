//! Time the hop-log parsers alone on a file: detect its format from the
//! first lines, then parse every line once on one thread and once on all
//! cores (rayon, the file cut at line ends), and print bytes/s with the
//! record and 5xx counts (compare the 5xx count with `awk`).
//!
//! `cargo run --release --example hop_speed -- FILE [FILE…]`
//!
//! The one-thread figure is per CPU second (the thread's CPU time), so a
//! busy machine does not halve it; the all-cores figure is wall time.

use gatecheck::logs::hop::{HopFormat, HopParser};
use gatecheck::logs::lines;
use rayon::prelude::*;
use std::time::Instant;

fn formats() -> Vec<Box<dyn HopFormat>> {
    vec![
        Box::new(gatecheck::logs::envoy::Envoy),
        Box::new(gatecheck::logs::cloudfront::CloudFront),
    ]
}

/// CPU time of this thread, seconds: on a shared, busy machine wall time
/// measures the neighbours as much as the parser.
fn thread_cpu() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the duration of the call.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9
}

fn count(p: &dyn HopParser, data: &[u8]) -> (usize, usize, usize) {
    let (mut ok, mut bad, mut s5) = (0, 0, 0);
    for line in lines(data) {
        match p.parse_line(line) {
            Ok(r) => {
                ok += 1;
                s5 += r.status.is_some_and(|s| s >= 500) as usize;
            }
            Err(_) => bad += 1,
        }
    }
    (ok, bad, s5)
}

fn chunks(data: &[u8], n: usize) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    let size = data.len() / n + 1;
    while !rest.is_empty() {
        let cut = if rest.len() <= size {
            rest.len()
        } else {
            memchr::memchr(b'\n', &rest[size..]).map_or(rest.len(), |i| size + i + 1)
        };
        out.push(&rest[..cut]);
        rest = &rest[cut..];
    }
    out
}

fn main() {
    for path in std::env::args().skip(1) {
        let data = std::fs::read(&path).expect("read the file");
        let head: Vec<&[u8]> = lines(&data).take(50).collect();
        let Some((fmt, (parser, why))) = formats()
            .into_iter()
            .find_map(|f| f.detect(&head).map(|d| (f.name(), d)))
        else {
            println!("{path}: no hop format detected");
            continue;
        };
        println!("{path}: {fmt} ({why})");
        let mb = data.len() as f64 / 1e6;
        for _ in 0..3 {
            let (t, c) = (Instant::now(), thread_cpu());
            let (ok, bad, s5) = count(parser.as_ref(), &data);
            let (s, cpu) = (t.elapsed().as_secs_f64(), thread_cpu() - c);
            println!(
                "  1 thread : {:.0} MB in {s:.3}s wall, {cpu:.3}s CPU = {:.2} GB/s per core; {ok} records, {bad} not requests/bad, {s5} 5xx",
                mb,
                mb / cpu / 1000.0
            );
            let t = Instant::now();
            let parts = chunks(&data, rayon::current_num_threads() * 16);
            let (ok, bad, s5) = parts
                .par_iter()
                .map(|c| count(parser.as_ref(), c))
                .reduce(|| (0, 0, 0), |a, b| (a.0 + b.0, a.1 + b.1, a.2 + b.2));
            let s = t.elapsed().as_secs_f64();
            println!(
                "  {} threads: {:.0} MB in {s:.3}s = {:.2} GB/s; {ok} records, {bad} not requests/bad, {s5} 5xx",
                rayon::current_num_threads(),
                mb,
                mb / s / 1000.0
            );
        }
    }
}
