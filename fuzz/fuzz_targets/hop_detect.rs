//! Any bytes through hop-format detection (container packaging peeled when
//! the bare lines fit no format), then every line through the parser picked.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    gatecheck::fuzzing::hop_detect(data);
});
