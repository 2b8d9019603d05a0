//! Throughput of the HAProxy httplog parser, in bytes per second: the full
//! line parse and the summary path the hop pass runs on every line (the
//! full parse only for 5xx). Each bench checks the 502 count, so a fast
//! wrong parser cannot pass as an improvement.

use std::hint::black_box;
use std::io::Write;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use gatecheck::logs::haproxy::HaproxyParser;
use gatecheck::logs::hop::{HopParser, SummaryCache};

const LINES: usize = 200_000;

/// Deterministic `option httplog` lines with an RFC 3164 prefix, a few per
/// second as in a busy log; every 40th is a 502 (`SH--`).
fn make_log() -> (Vec<u8>, usize) {
    let mut out = Vec::with_capacity(LINES * 220);
    let mut n502 = 0;
    for i in 0..LINES {
        let (status, tsc) = if i % 40 == 0 {
            n502 += 1;
            (502, "SH--")
        } else {
            (200, "----")
        };
        let (m, s, ms) = ((i / 6000) % 60, (i / 100) % 60, i % 1000);
        let _ = writeln!(
            out,
            r#"Mar 12 06:{m:02}:{s:02} lb1 haproxy[2841]: 10.1.{}.{}:{} [12/Mar/2024:06:{m:02}:{s:02}.{ms:03}] fe_main~ be_api/app{} 0/0/1/{}/{} {status} 1234 - - {tsc} 119/117/39/3/0 0/0 "GET /api/v1/users/{i}?fields=id,name HTTP/1.1""#,
            i % 250,
            i % 200,
            20000 + i % 40000,
            i % 4,
            i % 300,
            i % 300 + 1,
        );
    }
    (out, n502)
}

fn bench(c: &mut Criterion) {
    let (log, n502) = make_log();
    let parser = HaproxyParser::with_year(Some(2024));
    let mut g = c.benchmark_group("haproxy");
    g.throughput(Throughput::Bytes(log.len() as u64));
    g.sample_size(10);
    g.bench_function("parse_line/httplog", |b| {
        b.iter(|| {
            let mut s502 = 0usize;
            for line in gatecheck::logs::lines(black_box(&log)) {
                let r = parser.parse_line(line).expect("a request line");
                s502 += usize::from(r.status == Some(502));
            }
            assert_eq!(s502, n502);
        })
    });
    g.bench_function("parse_summary/httplog", |b| {
        b.iter(|| {
            let mut cache = SummaryCache::default();
            let mut s502 = 0usize;
            for line in gatecheck::logs::lines(black_box(&log)) {
                let r = parser
                    .parse_summary(line, &mut cache)
                    .expect("a request line");
                s502 += usize::from(r.status == Some(502));
            }
            assert_eq!(s502, n502);
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
