//! Any bytes through the cloudfront hop-log parser (detection, every line, causes).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    gatecheck::fuzzing::cloudfront(data);
});
