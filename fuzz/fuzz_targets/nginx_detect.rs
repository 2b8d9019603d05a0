//! Any bytes as the head of an nginx access log: detection, then every line parsed as the access pass does.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    gatecheck::fuzzing::nginx_detect(data);
});
