//! Any bytes as a possibly compressed input, decoded by magic bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    gatecheck::fuzzing::decompress(data);
});
