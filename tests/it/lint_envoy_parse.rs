//! The Envoy parser on the fixtures under `fixtures/lint/envoy/`: `syntax/`
//! files read without errors, `errors/` files give the expected first error
//! at the expected line.

use std::path::{Path, PathBuf};

use gatecheck::config::envoy::{parse_bootstrap, Duration, EnvoyNote, Syntax};
use gatecheck::source::SourceMap;

fn fixture(sub: &str, name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/lint/envoy")
        .join(sub)
        .join(name)
}

fn read(sub: &str, name: &str) -> (SourceMap, gatecheck::config::envoy::Bootstrap) {
    let path = fixture(sub, name);
    let text = std::fs::read(&path).unwrap();
    let mut sm = SourceMap::new();
    let id = sm.add(&path, text.clone());
    let boot = parse_bootstrap(id, &text, Syntax::from_path(&path));
    (sm, boot)
}

#[test]
fn yaml_bootstrap() {
    let (sm, b) = read("syntax", "bootstrap.yaml");
    assert!(b.errors.is_empty(), "{:?}", b.errors);
    assert!(b.notes.is_empty());
    let route = &b.listeners[0].http_managers[0]
        .route_config
        .as_ref()
        .unwrap()
        .virtual_hosts[0]
        .routes[0];
    let timeout = route.action.as_ref().unwrap().timeout.as_ref().unwrap();
    assert_eq!(timeout.value, Duration::from_secs(30));
    assert_eq!(sm.line_col(timeout.span), (29, 28));
    let c = &b.clusters[0];
    assert_eq!(
        c.health_checks[0].healthy_threshold.as_ref().unwrap().value,
        2
    );
    assert_eq!(sm.line_col(c.name.as_ref().unwrap().span), (39, 11));
}

#[test]
fn json_bootstrap_with_camel_case_and_object_durations() {
    let (sm, b) = read("syntax", "bootstrap.json");
    assert!(b.errors.is_empty(), "{:?}", b.errors);
    let c = &b.clusters[0];
    let t = c.connect_timeout.as_ref().unwrap();
    assert_eq!(t.value, Duration::from_millis(1500));
    assert_eq!(sm.line_col(t.span).0, 43);
    assert_eq!(c.endpoints[0].address.value, "10.0.0.5");
}

#[test]
fn rds_is_a_note() {
    let (sm, b) = read("syntax", "rds_only.yaml");
    assert!(b.errors.is_empty(), "{:?}", b.errors);
    assert!(
        matches!(&b.notes[..], [EnvoyNote::RdsRoutes { route_config_name, .. }] if route_config_name == "main")
    );
    assert_eq!(sm.line_col(b.notes[0].span()).0, 14);
}

#[test]
fn error_fixtures() {
    // (fixture, line, start of message)
    let table = [
        ("unclosed_flow.yaml", 6, "YAML/JSON syntax: "),
        (
            "trailing_comma.json",
            4,
            "YAML/JSON syntax: key must be a string",
        ),
        (
            "bare_number_duration.yaml",
            4,
            "static_resources.clusters[0].connect_timeout: '5' has no 's' suffix",
        ),
    ];
    for (name, line, message) in table {
        let (sm, b) = read("errors", name);
        let first = b
            .errors
            .first()
            .unwrap_or_else(|| panic!("{name}: no error"));
        assert_eq!(sm.line_col(first.span()).0, line, "{name}: {first}");
        assert!(first.to_string().starts_with(message), "{name}: {first}");
        assert!(
            gatecheck::report::config_error::at(&sm, first.span(), first)
                .contains(&format!("{name}:{line}:"))
        );
    }
}
