//! Any bytes → the Envoy loader, typed view, lowering and every rule, read
//! as YAML and as JSON: no panic, and every span inside the input.
#![no_main]

use gatecheck::config::envoy::{parse_bootstrap, parse_str, Syntax};
use gatecheck::lint::{check, Selection, Settings};
use gatecheck::source::{FileId, LineIndex, Span};
use libfuzzer_sys::fuzz_target;

fn in_bounds(span: Span, len: usize) {
    assert!(span.start <= span.end && span.end as usize <= len, "{span:?} / {len}");
}

const NAMES: &[&str] = &["envoy.yaml", "envoy.json"];

fuzz_target!(|data: &[u8]| {
    let lines = LineIndex::new(data);
    for syntax in [Syntax::Yaml, Syntax::Json] {
        let boot = parse_bootstrap(FileId(0), data, syntax);
        for e in &boot.errors {
            in_bounds(e.span(), data.len());
            let _ = lines.line_col(e.span().start);
            let _ = e.to_string();
        }
        for n in &boot.notes {
            in_bounds(n.span(), data.len());
        }
        for c in &boot.clusters {
            in_bounds(c.span, data.len());
            for ep in &c.endpoints {
                in_bounds(ep.address.span, data.len());
            }
        }
        for l in &boot.listeners {
            in_bounds(l.span, data.len());
            for h in &l.http_managers {
                in_bounds(h.span, data.len());
            }
        }
    }
    for name in NAMES {
        let (sm, parsed) = parse_str(name, data);
        let models: Vec<_> = parsed.model.into_iter().collect();
        for d in check(&models, &sm, &Settings::default(), &Selection::default()) {
            in_bounds(d.span, data.len());
        }
    }
});
