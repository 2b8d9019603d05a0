//! Replays every file of the `haproxy_cfg` and `envoy_config` fuzz corpora
//! (`fuzz/corpus/<target>/`) through the same checks as the fuzz targets:
//! parse, lower and run every rule; no panic, every span inside the input.

use std::path::{Path, PathBuf};

use gatecheck::config::envoy::{self, parse_bootstrap, Syntax};
use gatecheck::config::haproxy::{self, parse_cfg, parse_size, parse_time};
use gatecheck::lint::{check, Selection, Settings};
use gatecheck::source::{FileId, LineIndex, Span};

fn corpus(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

fn in_bounds(span: Span, len: usize, file: &Path) {
    assert!(
        span.start <= span.end && span.end as usize <= len,
        "{}: {span:?} outside 0..{len}",
        file.display()
    );
}

#[test]
fn haproxy_cfg_corpus_replays() {
    let files = corpus("haproxy_cfg");
    assert!(!files.is_empty());
    for path in &files {
        let data = std::fs::read(path).unwrap();
        let cfg = parse_cfg(FileId(0), &data);
        let lines = LineIndex::new(&data);
        for section in &cfg.sections {
            in_bounds(section.span, data.len(), path);
            for line in std::iter::once(&section.header).chain(&section.lines) {
                in_bounds(line.span, data.len(), path);
                for word in &line.words {
                    in_bounds(word.span, data.len(), path);
                    let _ = parse_time(word.as_str());
                    let _ = parse_size(word.as_str());
                }
            }
        }
        for e in &cfg.errors {
            in_bounds(e.span(), data.len(), path);
            let _ = lines.line_col(e.span().start);
        }
        let (sm, parsed) = haproxy::parse_str("haproxy.cfg", &data);
        let models: Vec<_> = parsed.model.into_iter().collect();
        for d in check(&models, &sm, &Settings::default(), &Selection::default()) {
            in_bounds(d.span, data.len(), path);
        }
    }
}

#[test]
fn envoy_config_corpus_replays() {
    let files = corpus("envoy_config");
    assert!(!files.is_empty());
    for path in &files {
        let data = std::fs::read(path).unwrap();
        let lines = LineIndex::new(&data);
        for syntax in [Syntax::Yaml, Syntax::Json] {
            let boot = parse_bootstrap(FileId(0), &data, syntax);
            for e in &boot.errors {
                in_bounds(e.span(), data.len(), path);
                let _ = lines.line_col(e.span().start);
            }
            for n in &boot.notes {
                in_bounds(n.span(), data.len(), path);
            }
            for c in &boot.clusters {
                in_bounds(c.span, data.len(), path);
            }
            for l in &boot.listeners {
                in_bounds(l.span, data.len(), path);
            }
        }
        for name in ["envoy.yaml", "envoy.json"] {
            let (sm, parsed) = envoy::parse_str(name, &data);
            let models: Vec<_> = parsed.model.into_iter().collect();
            for d in check(&models, &sm, &Settings::default(), &Selection::default()) {
                in_bounds(d.span, data.len(), path);
            }
        }
    }
}
