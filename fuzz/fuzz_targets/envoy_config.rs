//! Any bytes → the Envoy loader, typed view, lowering and every rule, read
//! as YAML and as JSON: no panic, and every span inside the input.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    gatecheck::fuzzing::envoy_config(data);
});
