//! Any bytes through the HAProxy log detector, line parser, event reader
//! and 5xx classifier.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    gatecheck::fuzzing::haproxy_log(data);
});
