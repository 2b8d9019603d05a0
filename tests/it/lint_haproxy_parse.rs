//! The HAProxy parser on the fixtures under `fixtures/lint/haproxy/`:
//! `syntax/` files parse without errors, `errors/` files give the expected
//! first error at the expected line and column.

use std::path::{Path, PathBuf};

use crate::support::haproxy_cfg;
use gatecheck::config::haproxy::{parse_cfg, SectionKind};

fn fixture_dir(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/lint/haproxy")
        .join(sub)
}

fn cfg_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "cfg"))
        .collect();
    files.sort();
    files
}

#[test]
fn syntax_fixtures_parse_cleanly() {
    let files = cfg_files(&fixture_dir("syntax"));
    assert!(files.len() >= 5);
    for path in files {
        let p = haproxy_cfg::parse(&path);
        let errors = p.errors();
        assert!(errors.is_empty(), "{errors:?}");
        assert!(
            p.cfg.sections_of(SectionKind::Backend).count() >= 1,
            "{path:?}"
        );
    }
}

#[test]
fn quoting_fixture_values() {
    let path = fixture_dir("syntax").join("quoting.cfg");
    let text = std::fs::read(&path).unwrap();
    let cfg = parse_cfg(Default::default(), &text);
    let fe = cfg.sections_of(SectionKind::Frontend).next().unwrap();
    let formats: Vec<&str> = fe
        .lines
        .iter()
        .filter(|l| l.keyword() == "log-format")
        .map(|l| l.str(1))
        .collect();
    assert_eq!(formats, ["%{+Q}o %t %s %{-Q}r"; 5]);
    let hash = fe.lines.iter().find(|l| l.str(2) == "X-Hash").unwrap();
    assert_eq!(hash.str(3), "a#b");
    assert_eq!(hash.words.len(), 4, "the trailing comment is not a word");
    let hex = fe.lines.iter().find(|l| l.str(2) == "X-Hex").unwrap();
    assert_eq!(hex.str(3), "AB");
}

#[test]
fn named_defaults_and_env_fixtures() {
    let text = std::fs::read(fixture_dir("syntax").join("named_defaults.cfg")).unwrap();
    let cfg = parse_cfg(Default::default(), &text);
    let defaults: Vec<(&str, Option<&str>)> = cfg
        .sections_of(SectionKind::Defaults)
        .map(|s| (s.name_str(), s.from.as_ref().map(|w| w.as_str())))
        .collect();
    assert_eq!(defaults, [("base", None), ("tcp_base", Some("base"))]);
    let listen = cfg.sections_of(SectionKind::Listen).next().unwrap();
    assert_eq!(listen.from.as_ref().unwrap().as_str(), "tcp_base");

    let text = std::fs::read(fixture_dir("syntax").join("env_vars.cfg")).unwrap();
    let cfg = parse_cfg(Default::default(), &text);
    let env: Vec<&str> = cfg.env_words().map(|w| w.as_str()).collect();
    assert_eq!(
        env,
        ["${LOG_TARGET-127.0.0.1:514}", "127.0.0.1:${PORT-8080}"]
    );
}

/// (fixture, line, column, message): the first error of each.
const ERRORS: &[(&str, u32, u32, &str)] = &[
    (
        "backend_without_name.cfg",
        4,
        1,
        "'backend' expects an <id> argument",
    ),
    (
        "bad_hex_escape.cfg",
        6,
        36,
        "truncated or invalid hexadecimal sequence",
    ),
    (
        "lone_endif.cfg",
        3,
        1,
        "lone '.endif' with no matching '.if'",
    ),
    (
        "out_of_section.cfg",
        2,
        1,
        "unknown keyword 'maxconn' out of section",
    ),
    ("unmatched_quote.cfg", 6, 36, "unmatched \" quote"),
];

#[test]
fn error_fixtures_report_line_and_column() {
    let files = cfg_files(&fixture_dir("errors"));
    assert_eq!(files.len(), ERRORS.len(), "every error fixture has a row");
    for &(name, line, col, message) in ERRORS {
        let path = fixture_dir("errors").join(name);
        let haproxy_cfg::Parsed { sm, cfg } = haproxy_cfg::parse(&path);
        let first = cfg
            .errors
            .first()
            .unwrap_or_else(|| panic!("{name}: no error"));
        assert_eq!(sm.line_col(first.span()), (line, col), "{name}");
        assert_eq!(first.to_string(), message, "{name}");
        let rendered = gatecheck::report::config_error::at(&sm, first.span(), first);
        assert!(
            rendered.ends_with(&format!("{name}:{line}:{col}: {message}")),
            "{rendered}"
        );
    }
}
