//! Replays the fuzz corpus (`fuzz/corpus/nginx_conf/`) through the same path
//! as the `nginx_conf` fuzz target — parse, lint with every rule, render — so
//! a crash found by fuzzing stays fixed. Corpus files copied from good
//! fixtures must also parse cleanly. A property test throws random token soup
//! at the same path.

use std::path::Path;

use gatecheck::config::nginx::parse_str;
use gatecheck::lint::{self, Selection, Settings};
use gatecheck::report::lint::text;
use proptest::prelude::*;

/// What the fuzz target does; returns the number of parse errors.
fn run(data: &[u8]) -> usize {
    let (sources, parsed) = parse_str("fuzz.conf", data);
    let models: Vec<_> = parsed.model.into_iter().collect();
    assert_eq!(models.len(), 1, "the parser always returns a model");
    let mut diags = lint::check(
        &models,
        &sources,
        &Settings::default(),
        &Selection::default(),
    );
    diags.extend(
        parsed
            .errors
            .iter()
            .filter_map(|e| gatecheck::report::config_error::diagnostic(e, &sources)),
    );
    for d in &diags {
        assert!(!text::render(d, &sources).is_empty());
    }
    parsed.errors.len()
}

#[test]
fn corpus_replays_without_panics() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/nginx_conf");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("corpus dir").flatten() {
        let data = match std::fs::read(entry.path()) {
            Ok(d) => d,
            // A fuzzer running on this corpus replaces files as it goes.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => panic!("{}: {e}", entry.path().display()),
        };
        let errors = run(&data);
        let name = entry.file_name().to_string_lossy().to_string();
        if name.contains("_good") || name.contains("_ok_") {
            assert_eq!(errors, 0, "{name} should parse cleanly");
        }
        n += 1;
    }
    assert!(n >= 50, "corpus too small: {n} files");
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
        run(text.as_bytes());
    }

    #[test]
    fn raw_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        run(&bytes);
    }
}
