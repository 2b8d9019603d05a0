//! Replays every file of the fuzz corpora (`fuzz/corpus/<target>/`) through
//! the same entry points the fuzz targets call: none may panic.

use std::path::Path;

fn replay(target: &str, f: fn(&[u8])) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("dir entry").path();
        let data = std::fs::read(&path).expect("read corpus file");
        f(&data);
        n += 1;
    }
    n
}

#[test]
fn nginx_access_corpus_never_panics() {
    let n = replay("nginx_access", gatecheck::fuzzing::nginx_access);
    assert!(n >= 5, "the corpus has only {n} files");
}

#[test]
fn nginx_error_corpus_never_panics() {
    let n = replay("nginx_error", gatecheck::fuzzing::nginx_error);
    assert!(n >= 3, "the corpus has only {n} files");
}

#[test]
fn envoy_corpus_never_panics() {
    let n = replay("envoy", gatecheck::fuzzing::envoy);
    assert!(n >= 5, "the corpus has only {n} files");
}

#[test]
fn cloudfront_corpus_never_panics() {
    let n = replay("cloudfront", gatecheck::fuzzing::cloudfront);
    assert!(n >= 5, "the corpus has only {n} files");
}

#[test]
fn alb_corpus_never_panics() {
    let n = replay("alb", gatecheck::fuzzing::alb);
    assert!(n >= 3, "the corpus has only {n} files");
}

#[test]
fn cloudflare_corpus_never_panics() {
    let n = replay("cloudflare", gatecheck::fuzzing::cloudflare);
    assert!(n >= 3, "the corpus has only {n} files");
}

#[test]
fn fastly_corpus_never_panics() {
    let n = replay("fastly", gatecheck::fuzzing::fastly);
    assert!(n >= 3, "the corpus has only {n} files");
}

#[test]
fn gcp_lb_corpus_never_panics() {
    let n = replay("gcp_lb", gatecheck::fuzzing::gcp_lb);
    assert!(n >= 3, "the corpus has only {n} files");
}
