//! Any bytes → the HAProxy parser, the lowering and every rule: no panic,
//! and every span inside the input.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    gatecheck::fuzzing::haproxy_cfg(data);
});
