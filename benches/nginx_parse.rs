//! Throughput of the nginx access-line parser and of the whole analyze
//! pipeline, in bytes per second. Each bench checks its answer (record and
//! 502 counts) so a fast wrong parser cannot pass as an improvement.

use std::hint::black_box;
use std::io::Write;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use gatecheck::logs::nginx::{builtin_formats, TimeCache};

const LINES: usize = 200_000;

/// Deterministic lines in the `upstream_timing` format; every 50th is a 502.
fn make_log() -> (Vec<u8>, usize) {
    let mut out = Vec::with_capacity(LINES * 260);
    let mut n502 = 0;
    for i in 0..LINES {
        let (status, ups) = if i % 50 == 0 {
            n502 += 1;
            (
                502,
                r#"uct="-, -" uht="-, -" urt="0.000, 0.001" ua="10.0.0.5:8080, 10.0.0.6:8080" us="502, 502""#,
            )
        } else {
            (
                200,
                r#"uct="0.001" uht="0.012" urt="0.013" ua="10.0.0.7:8080" us="200""#,
            )
        };
        let _ = writeln!(
            out,
            r#"10.1.{}.{} - - [12/Mar/2024:06:{:02}:{:02} +0000] "GET /api/v1/users/{} HTTP/1.1" {} 1234 "https://example.com/" "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36" rt=0.013 {}"#,
            i % 250,
            i % 200,
            (i / 3600) % 60,
            (i / 60) % 60,
            i,
            status,
            ups
        );
    }
    (out, n502)
}

fn bench(c: &mut Criterion) {
    let (log, n502) = make_log();
    let formats = builtin_formats();
    let fmt = formats
        .iter()
        .find(|f| f.name == "upstream_timing")
        .expect("format");
    let mut g = c.benchmark_group("nginx");
    g.throughput(Throughput::Bytes(log.len() as u64));
    g.sample_size(10);
    g.bench_function("parse_line/upstream_timing", |b| {
        b.iter(|| {
            let mut cache = TimeCache::default();
            let mut records = 0usize;
            let mut s502 = 0usize;
            for line in gatecheck::logs::lines(black_box(&log)) {
                if let Ok(r) = fmt.parse(line, &mut cache) {
                    records += 1;
                    s502 += (r.status == Some(502)) as usize;
                }
            }
            assert_eq!((records, s502), (LINES, n502));
        })
    });
    g.bench_function("parse_summary/upstream_timing", |b| {
        b.iter(|| {
            let mut cache = TimeCache::default();
            let mut records = 0usize;
            let mut s502 = 0usize;
            for line in gatecheck::logs::lines(black_box(&log)) {
                let mut r = gatecheck::logs::record::Record::default();
                if fmt.parse_summary(line, &mut r, &mut cache).is_ok() {
                    records += 1;
                    s502 += (r.status == Some(502)) as usize;
                }
            }
            assert_eq!((records, s502), (LINES, n502));
        })
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("access.log");
    std::fs::write(&path, &log).expect("write");
    let paths = vec![path.display().to_string()];
    g.bench_function("analyze/upstream_timing", |b| {
        b.iter(|| {
            let a = gatecheck::analyze::analyze(&paths, &Default::default()).expect("analyze");
            assert_eq!(a.report.totals.requests, LINES as u64);
            assert_eq!(a.report.totals.status_502, n502 as u64);
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
