//! A mutation fuzzer for the hop-log parsers that needs no nightly
//! toolchain or cargo-fuzz: each target's corpus (`fuzz/corpus/<target>/`)
//! is mutated at random (byte flips, delimiter bytes, cuts, repeats, splices)
//! and fed to the same `gatecheck::fuzzing` entry point the cargo-fuzz
//! target calls, every target on its own thread, for the given seconds. A
//! panic is reported with the input written to `/tmp/hop_fuzz-<target>-crash`.
//! Not coverage-guided: it complements `cargo fuzz run <target>`.
//!
//! `cargo run --release --example hop_fuzz -- SECONDS [TARGET…]`

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::time::{Duration, Instant};

type Target = (&'static str, fn(&[u8]));

const TARGETS: &[Target] = &[
    ("envoy", gatecheck::fuzzing::envoy),
    ("cloudfront", gatecheck::fuzzing::cloudfront),
    ("alb", gatecheck::fuzzing::alb),
    ("cloudflare", gatecheck::fuzzing::cloudflare),
    ("fastly", gatecheck::fuzzing::fastly),
    ("gcp_lb", gatecheck::fuzzing::gcp_lb),
];

/// Bytes that delimit fields in these formats.
const INTERESTING: &[u8] = b"\"\t\n\r -{}[],:%\\0123456789.eE\xff\x00";

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

fn mutate(rng: &mut Rng, corpus: &[Vec<u8>], out: &mut Vec<u8>) {
    out.clear();
    out.extend_from_slice(&corpus[rng.below(corpus.len())]);
    for _ in 0..1 + rng.below(8) {
        let len = out.len();
        match rng.below(7) {
            0 if len > 0 => {
                let i = rng.below(len);
                out[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                out[i] = INTERESTING[rng.below(INTERESTING.len())];
            }
            2 => {
                let i = rng.below(len + 1);
                out.insert(i, INTERESTING[rng.below(INTERESTING.len())]);
            }
            3 if len > 0 => out.truncate(rng.below(len)),
            4 if len > 0 => {
                let (a, b) = (rng.below(len), rng.below(len));
                let (a, b) = (a.min(b), a.max(b));
                let chunk = out[a..b].to_vec();
                let at = rng.below(out.len() + 1);
                out.splice(at..at, chunk);
            }
            5 => {
                let other = &corpus[rng.below(corpus.len())];
                if !other.is_empty() {
                    let a = rng.below(other.len());
                    let at = rng.below(out.len() + 1);
                    out.truncate(at);
                    out.extend_from_slice(&other[a..]);
                }
            }
            _ if len > 1 => {
                let (a, b) = (rng.below(len), rng.below(len));
                out.remove(a.max(b));
            }
            _ => {}
        }
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let secs: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(60);
    let only: Vec<String> = args.collect();
    std::panic::set_hook(Box::new(|_| {}));
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    let handles: Vec<_> = TARGETS
        .iter()
        .filter(|(n, _)| only.is_empty() || only.iter().any(|o| o == n))
        .map(|&(name, f)| {
            let dir = root.join(name);
            std::thread::spawn(move || {
                let corpus: Vec<Vec<u8>> = std::fs::read_dir(&dir)
                    .map(|d| {
                        d.filter_map(|e| std::fs::read(e.ok()?.path()).ok())
                            .collect()
                    })
                    .unwrap_or_default();
                if corpus.is_empty() {
                    return (name, 0u64, Some(format!("no corpus in {}", dir.display())));
                }
                let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (name.len() as u64 * 0x1234_5678));
                let (start, mut n, mut input) = (Instant::now(), 0u64, Vec::new());
                while start.elapsed() < Duration::from_secs(secs) {
                    mutate(&mut rng, &corpus, &mut input);
                    if catch_unwind(AssertUnwindSafe(|| f(&input))).is_err() {
                        let path = format!("/tmp/hop_fuzz-{name}-crash");
                        let _ = std::fs::write(&path, &input);
                        return (name, n, Some(format!("PANIC, input in {path}")));
                    }
                    n += 1;
                }
                (name, n, None)
            })
        })
        .collect();
    let mut failed = false;
    for h in handles {
        let (name, n, problem) = h.join().expect("fuzz thread");
        match problem {
            Some(p) => {
                failed = true;
                println!("{name}: {n} inputs, then {p}");
            }
            None => println!("{name}: {n} inputs in {secs} s, no panic"),
        }
    }
    std::process::exit(i32::from(failed));
}
