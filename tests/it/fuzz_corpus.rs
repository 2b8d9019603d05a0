//! Replays every file of every fuzz corpus (`fuzz/corpus/<target>/`) through
//! the entry point its `cargo fuzz` target calls (`gatecheck::fuzzing::<target>`,
//! the one place the fuzz bodies live), so a crash found by fuzzing stays
//! fixed: none may panic. Property tests throw random token soup and bytes at
//! the nginx config target too.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use gatecheck::fuzzing;
use proptest::prelude::*;

type Entry = fn(&[u8]);

/// One test per fuzz target (`test: target, at least N corpus files;`), and
/// [`TARGETS`], the table they all come from.
macro_rules! replay_targets {
    ($($test:ident: $target:ident, at least $min:literal;)*) => {
        /// Every fuzz target: its name (`fuzz/fuzz_targets/<name>.rs`,
        /// `fuzz/corpus/<name>/`) and its entry point.
        const TARGETS: &[(&str, Entry)] = &[$((stringify!($target), fuzzing::$target)),*];

        $(
            #[test]
            fn $test() {
                let n = replay(stringify!($target), fuzzing::$target);
                assert!(n >= $min, "the {} corpus has only {n} files", stringify!($target));
            }
        )*
    };
}

replay_targets! {
    nginx_access_corpus_never_panics: nginx_access, at least 5;
    nginx_error_corpus_never_panics: nginx_error, at least 3;
    nginx_conf_corpus_never_panics: nginx_conf, at least 50;
    haproxy_log_corpus_never_panics: haproxy_log, at least 10;
    haproxy_cfg_corpus_never_panics: haproxy_cfg, at least 1;
    envoy_corpus_never_panics: envoy, at least 5;
    envoy_config_corpus_never_panics: envoy_config, at least 1;
    cloudfront_corpus_never_panics: cloudfront, at least 5;
    alb_corpus_never_panics: alb, at least 3;
    cloudflare_corpus_never_panics: cloudflare, at least 3;
    fastly_corpus_never_panics: fastly, at least 3;
    gcp_lb_corpus_never_panics: gcp_lb, at least 3;
    hop_detect_corpus_never_panics: hop_detect, at least 5;
    nginx_detect_corpus_never_panics: nginx_detect, at least 10;
    decompress_corpus_never_panics: decompress, at least 10;
}

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// The files of `fuzz/corpus/<target>/` with their bytes, sorted by name. A
/// file gone by the time it is read is passed over: a fuzzer running on the
/// corpus replaces files as it goes.
fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = fuzz_dir().join("corpus").join(target);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .collect();
    paths.sort();
    paths
        .into_iter()
        .filter_map(|p| match std::fs::read(&p) {
            Ok(data) => Some((p, data)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => panic!("{}: {e}", p.display()),
        })
        .collect()
}

/// Every file of `target`'s corpus through `f`; a panic names the file.
/// Returns the number of files.
fn replay(target: &str, f: Entry) -> usize {
    let files = corpus(target);
    for (path, data) in &files {
        if catch_unwind(AssertUnwindSafe(|| f(data))).is_err() {
            panic!("{target}: {} panicked (message above)", path.display());
        }
    }
    files.len()
}

#[test]
fn every_fuzz_target_is_replayed() {
    let mut on_disk: Vec<String> = std::fs::read_dir(fuzz_dir().join("fuzz_targets"))
        .expect("fuzz/fuzz_targets")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    let mut replayed: Vec<String> = TARGETS.iter().map(|(n, _)| n.to_string()).collect();
    replayed.sort();
    assert_eq!(on_disk, replayed, "fuzz/fuzz_targets/ and TARGETS differ");
    // and each target's file calls its own entry point
    for name in &on_disk {
        let path = fuzz_dir().join("fuzz_targets").join(format!("{name}.rs"));
        let body = std::fs::read_to_string(&path).unwrap();
        assert!(
            body.contains(&format!("gatecheck::fuzzing::{name}(data)")),
            "{} does not call gatecheck::fuzzing::{name}",
            path.display()
        );
    }
}

/// Corpus files copied from good fixtures (`*_good*`, `*_ok_*`) parse with
/// no error.
#[test]
fn good_nginx_conf_corpus_files_parse_cleanly() {
    let mut n = 0;
    for (path, data) in corpus("nginx_conf") {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.contains("_good") || name.contains("_ok_") {
            let (_, parsed) = gatecheck::config::nginx::parse_str("fuzz.conf", &data);
            assert!(parsed.errors.is_empty(), "{name}: {:?}", parsed.errors);
            n += 1;
        }
    }
    assert!(n > 0, "no good files in the nginx_conf corpus");
}

fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("{".to_string()),
        Just("}".to_string()),
        Just(";".to_string()),
        Just("\"".to_string()),
        Just("'".to_string()),
        Just("\\".to_string()),
        Just("#".to_string()),
        Just("\n".to_string()),
        Just("\r\n".to_string()),
        Just("$".to_string()),
        Just("${".to_string()),
        Just("content_by_lua_block".to_string()),
        Just("--[[".to_string()),
        Just("]]".to_string()),
        Just("[==[".to_string()),
        prop_oneof![
            Just("http"),
            Just("server"),
            Just("location"),
            Just("upstream"),
            Just("proxy_pass"),
            Just("http://b/x"),
            Just("https://$h"),
            Just("unix:/s:"),
            Just("[::1]:80"),
            Just("proxy_buffers"),
            Just("8"),
            Just("4k"),
            Just("proxy_busy_buffers_size"),
            Just("server 10.0.0.1"),
            Just("backup"),
            Just("max_fails=0"),
            Just("resolve"),
            Just("error_page"),
            Just("502"),
            Just("=200"),
            Just("proxy_cache_valid"),
            Just("any"),
            Just("access_log"),
            Just("off"),
            Just("log_format"),
            Just("~"),
            Just("="),
            Just("@x"),
            Just("proxy_next_upstream"),
            Just("if"),
            Just("map"),
            Just("include"),
            Just("keepalive"),
        ]
        .prop_map(|s| s.to_string()),
        "[ -~]{0,6}",
        proptest::collection::vec(any::<u8>(), 0..4)
            .prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn token_soup_never_panics(tokens in proptest::collection::vec(token(), 0..80)) {
        let text = tokens.join(" ");
        fuzzing::nginx_conf(text.as_bytes());
    }

    #[test]
    fn raw_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        fuzzing::nginx_conf(&bytes);
    }
}
