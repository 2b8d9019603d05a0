//! Replays the hop-format fuzz corpora (`fuzz/corpus/<target>/`) through the
//! entry points their fuzz targets call: none may panic.

use std::path::Path;

fn replay(target: &str, f: fn(&[u8])) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let data = std::fs::read(entry.expect("dir entry").path()).expect("read corpus file");
        f(&data);
        n += 1;
    }
    n
}

#[test]
fn haproxy_log_corpus_never_panics() {
    let n = replay("haproxy_log", gatecheck::fuzzing::haproxy_log);
    assert!(n >= 10, "the corpus has only {n} files");
}
