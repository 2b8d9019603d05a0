//! Any bytes → the HAProxy parser, the lowering and every rule: no panic,
//! and every span inside the input.
#![no_main]

use gatecheck::config::haproxy::{parse_cfg, parse_size, parse_str, parse_time};
use gatecheck::lint::{check, Selection, Settings};
use gatecheck::source::{FileId, LineIndex, Span};
use libfuzzer_sys::fuzz_target;

fn in_bounds(span: Span, len: usize) {
    assert!(span.start <= span.end && span.end as usize <= len, "{span:?} / {len}");
}

const NAMES: &[&str] = &["haproxy.cfg"];

fuzz_target!(|data: &[u8]| {
    let cfg = parse_cfg(FileId(0), data);
    let lines = LineIndex::new(data);
    for section in &cfg.sections {
        in_bounds(section.span, data.len());
        for line in std::iter::once(&section.header).chain(&section.lines) {
            in_bounds(line.span, data.len());
            for word in &line.words {
                in_bounds(word.span, data.len());
                let _ = parse_time(word.as_str());
                let _ = parse_size(word.as_str());
            }
        }
    }
    for e in &cfg.errors {
        in_bounds(e.span(), data.len());
        let _ = lines.line_col(e.span().start);
        let _ = e.to_string();
    }
    for name in NAMES {
        let (sm, parsed) = parse_str(name, data);
        let models: Vec<_> = parsed.model.into_iter().collect();
        for d in check(&models, &sm, &Settings::default(), &Selection::default()) {
            in_bounds(d.span, data.len());
        }
    }
});
