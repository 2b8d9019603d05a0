//! Arbitrary bytes → nginx parser → model → every rule → text rendering.
//! Nothing may panic. Includes are not read (no file system access).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    gatecheck::fuzzing::nginx_conf(data);
});
