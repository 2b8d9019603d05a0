//! Any bytes → the Envoy loader and typed view, read as YAML and as JSON: no
//! panic, and every span inside the input.
#![no_main]

use gatecheck::config::envoy::{parse_bootstrap, Syntax};
use gatecheck::source::{FileId, LineIndex, Span};
use libfuzzer_sys::fuzz_target;

fn in_bounds(span: Span, len: usize) {
    assert!(span.start <= span.end && span.end as usize <= len, "{span:?} / {len}");
}

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
});
