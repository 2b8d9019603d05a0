//! The whole `analyze()` pipeline per input shape, on the same lines: one
//! plain file, many small plain files, one `.gz`, many small `.gz`, 8 `.gz`
//! parts, one `.zst`, and one plain file with events serialized (ndjson).
//! Each bench checks the request and 502 counts, so a shape that loses or
//! doubles lines cannot pass as fast. Throughput is the plain bytes.
//!
//! `cargo bench --bench input_shapes`; whole-process figures (time and peak
//! memory, old binary against new) are in `benches/HISTORY.md`.

use std::io::Write;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const LINES: usize = 400_000;

/// Deterministic lines in the `upstream_timing` format; every 50th is a 502.
fn make_log() -> (Vec<u8>, usize) {
    let mut out = Vec::with_capacity(LINES * 260);
    let mut n502 = 0;
    for i in 0..LINES {
        let (status, ups) = if i % 50 == 0 {
            n502 += 1;
            (
                502,
                r#"uct="-" uht="-" urt="0.001" ua="10.0.0.5:8080" us="502""#,
            )
        } else {
            (
                200,
                r#"uct="0.001" uht="0.012" urt="0.013" ua="10.0.0.7:8080" us="200""#,
            )
        };
        let _ = writeln!(
            out,
            r#"10.1.{}.{} - - [12/Mar/2024:06:{:02}:{:02} +0000] "GET /api/v1/users/{} HTTP/1.1" {} 1234 "https://example.com/" "Mozilla/5.0 (X11; Linux x86_64)" rt=0.013 {}"#,
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

/// `data` cut into `n` pieces at line ends.
fn split(data: &[u8], n: usize) -> Vec<&[u8]> {
    gatecheck::input::chunks(
        data,
        data.len().div_ceil(n),
        gatecheck::logs::wrap::container_piece,
    )
}

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
    e.write_all(data).expect("gzip");
    e.finish().expect("gzip")
}

/// Write each piece as `dir/name{i}.log{ext}`; the paths, as given.
fn write_all(dir: &Path, name: &str, pieces: &[Vec<u8>], ext: &str) -> Vec<String> {
    std::fs::create_dir_all(dir).expect("dir");
    pieces
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let path = dir.join(format!("{name}{i:04}.log{ext}"));
            std::fs::write(&path, p).expect("write");
            path.display().to_string()
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let (log, n502) = make_log();
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let small: Vec<Vec<u8>> = split(&log, 400).into_iter().map(<[u8]>::to_vec).collect();
    let parts: Vec<Vec<u8>> = split(&log, 8).into_iter().map(gz).collect();
    let shapes: Vec<(&str, Vec<String>)> = vec![
        (
            "one_plain",
            write_all(&d.join("a"), "one", std::slice::from_ref(&log), ""),
        ),
        ("400_plain", write_all(&d.join("b"), "s", &small, "")),
        ("one_gz", write_all(&d.join("c"), "one", &[gz(&log)], ".gz")),
        (
            "400_gz",
            write_all(
                &d.join("d"),
                "s",
                &small.iter().map(|s| gz(s)).collect::<Vec<_>>(),
                ".gz",
            ),
        ),
        ("8_gz_parts", write_all(&d.join("e"), "p", &parts, ".gz")),
        (
            "one_zst",
            write_all(
                &d.join("f"),
                "one",
                &[zstd::stream::encode_all(&log[..], 3).expect("zstd")],
                ".zst",
            ),
        ),
    ];
    let mut g = c.benchmark_group("input_shapes");
    g.throughput(Throughput::Bytes(log.len() as u64));
    g.sample_size(10);
    let check = |r: &gatecheck::analyze::Report| {
        assert_eq!(r.totals.requests, LINES as u64);
        assert_eq!(r.totals.status_502, n502 as u64);
    };
    for (name, paths) in &shapes {
        g.bench_function(*name, |b| {
            b.iter(|| {
                let a = gatecheck::analyze::analyze(paths, &Default::default()).expect("analyze");
                check(&a.report);
            })
        });
    }
    let opts = gatecheck::analyze::Options {
        keep_events: true,
        ..Default::default()
    };
    g.bench_function("one_plain_events_ndjson", |b| {
        b.iter(|| {
            let mut out = std::io::sink();
            let (r, written) =
                gatecheck::analyze::analyze_ndjson(&shapes[0].1, &opts, &mut out).expect("analyze");
            written.expect("written");
            check(&r);
            assert_eq!(r.totals.status_502, n502 as u64);
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
