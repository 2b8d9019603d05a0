//! Any bytes through the nginx error-log line parser.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    gatecheck::fuzzing::nginx_error(data);
});
