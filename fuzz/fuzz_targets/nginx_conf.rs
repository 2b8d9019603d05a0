//! Arbitrary bytes → nginx parser → model → every rule → text rendering.
//! Nothing may panic. Includes are not read (no file system access).
#![no_main]

use gatecheck::config::nginx::parse_str;
use gatecheck::lint::{self, Selection, Settings};
use gatecheck::report::lint::text;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (sources, parsed) = parse_str("fuzz.conf", data);
    let models: Vec<_> = parsed.model.into_iter().collect();
    let mut diags = lint::check(&models, &sources, &Settings::default(), &Selection::default());
    diags.extend(parsed.errors.iter().filter_map(|e| gatecheck::report::config_error::diagnostic(e, &sources)));
    for d in &diags {
        let _ = text::render(d, &sources);
    }
});
