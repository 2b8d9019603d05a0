//! Any bytes through the access-line parser, under several log formats
//! (the first input byte picks the format), and through format compilation.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    gatecheck::fuzzing::nginx_access(data);
});
