//! Every rule's fixtures, for the three proxies and the cross-hop rules, in
//! one harness: `fixtures/lint/<proxy>/<ID>/*.{conf,cfg,yaml,json}` is loaded
//! as `gatecheck lint` loads it (the proxy detected from the file), linted
//! with every rule and the folder's settings file (`.gatecheck.yaml`) if any, and rendered as
//! users see it (text format). A `bad*` file must trigger the folder's rule and
//! a `good*` file must not (that is the whole check: no empty snapshot); any
//! other name (`implicit_*`, `rds_*`) may go either way and is there for
//! what it shows. What fires is snapshotted as
//! `it__lint_fixtures__rule_fixtures@<proxy>__<ID>__<file>.snap`.
//! `nginx/parse/err_*.conf` must give a parse error and `parse/ok_*.conf`
//! none; the HAProxy and Envoy parsers' own fixtures (`syntax/`, `errors/`)
//! are in `lint_haproxy_parse.rs` and `lint_envoy_parse.rs`.

use std::path::{Path, PathBuf};

use gatecheck::config::{self, LoadOptions};
use gatecheck::lint::diagnostic::PARSE_ERROR;
use gatecheck::lint::{self, registry, Diagnostic, Selection, Settings};
use gatecheck::report::lint::text;
use gatecheck::source::SourceMap;

/// The fixture path relative to the crate root (so snapshots do not depend
/// on where the checkout lives).
fn relative(path: &Path) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    path.strip_prefix(root).unwrap_or(path).to_path_buf()
}

/// Lint one fixture with all rules and its directory's settings, if any.
fn lint_fixture(path: &Path) -> (SourceMap, Vec<Diagnostic>) {
    let rel = relative(path);
    let dir = path.parent().expect("fixture dir");
    let settings = Settings::discover(dir)
        .filter(|p| p.parent() == Some(dir))
        .map(|p| Settings::from_path(&p).expect("fixture settings"))
        .unwrap_or_default();
    let opts = LoadOptions {
        nginx_version: settings.nginx_version(),
        ..LoadOptions::default()
    };
    let mut sources = SourceMap::new();
    let loaded = config::load(&[rel], &opts, &mut sources);
    // every rule, pedantic ones included: each fixture shows its own rule
    let every = Selection {
        select: vec!["default".into(), "pedantic".into()],
        ignore: vec![],
    };
    let mut diags = lint::check(&loaded.models, &sources, &settings, &every);
    diags.extend(
        loaded
            .errors
            .iter()
            .filter_map(|e| gatecheck::report::config_error::diagnostic(e, &sources)),
    );
    lint::sort(&mut diags);
    (sources, diags)
}

fn render(sources: &SourceMap, diags: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diags {
        out += &text::render(d, sources);
        out.push('\n');
    }
    out + &text::summary(diags, 0)
}

#[test]
fn rule_fixtures() {
    insta::glob!(
        "../../fixtures",
        "lint/{nginx/NGX,all/ALL,haproxy/HAP,envoy/ENV}-*/*.{conf,cfg,yaml,json}",
        |path| {
            let id = path
                .parent()
                .unwrap()
                .file_name()
                .unwrap()
                .to_string_lossy()
                .to_string();
            assert!(
                registry::find(&id).is_some(),
                "{}: fixture folder for an unknown rule",
                path.display()
            );
            let stem = path.file_stem().unwrap().to_string_lossy().to_string();
            if stem.starts_with('.') {
                // the folder's settings (`.gatecheck.yaml`), read by lint_fixture
                return;
            }
            let (sources, diags) = lint_fixture(path);
            let parse: Vec<_> = diags.iter().filter(|d| d.rule == PARSE_ERROR).collect();
            assert!(parse.is_empty(), "{}: {parse:?}", path.display());
            let mine: Vec<Diagnostic> = diags.into_iter().filter(|d| d.rule == id).collect();
            if stem.starts_with("bad") {
                assert!(!mine.is_empty(), "{}: {id} did not fire", path.display());
            } else if stem.starts_with("good") {
                // Nothing fires: that is the whole check, no empty snapshot.
                assert!(mine.is_empty(), "{}: {id} fired: {mine:?}", path.display());
                return;
            }
            insta::assert_snapshot!(render(&sources, &mine));
        }
    );
}

#[test]
fn parse_fixtures() {
    insta::glob!("../../fixtures", "lint/nginx/parse/*.conf", |path| {
        let stem = path.file_stem().unwrap().to_string_lossy().to_string();
        let (sources, diags) = lint_fixture(path);
        let parse: Vec<Diagnostic> = diags
            .into_iter()
            .filter(|d| d.rule == PARSE_ERROR)
            .collect();
        if stem.starts_with("err_") {
            assert!(!parse.is_empty(), "{}: no parse error", path.display());
        } else {
            assert!(parse.is_empty(), "{}: {parse:?}", path.display());
            return;
        }
        insta::assert_snapshot!(render(&sources, &parse));
    });
}

#[test]
fn broken_files_are_still_linted() {
    // The rest of a file with a syntax error still gets its findings.
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("nginx.conf");
    std::fs::write(
        &p,
        "events {}\nhttp {\n server {\n  location / { proxy_pass http://10.0.0.1; proxy_read_timeout 9sec; }\n }\n }\n}\n",
    )
    .unwrap();
    let (_, diags) = lint_fixture(&p);
    let rules: Vec<&str> = diags.iter().map(|d| d.rule).collect();
    assert!(rules.contains(&PARSE_ERROR), "{rules:?}");
    assert!(rules.contains(&"NGX-VAL-001"), "{rules:?}");
}

#[test]
fn every_rule_has_bad_and_good_fixtures() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/lint");
    for r in registry::all() {
        let dir = root.join(r.meta().proxy.as_str()).join(r.meta().id);
        let names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap_or_else(|_| panic!("no fixtures for {}", r.meta().id))
            .flatten()
            .map(|e| e.file_name().to_string_lossy().to_string())
            .collect();
        assert!(
            names.iter().any(|n| n.starts_with("bad")),
            "{}: no bad fixture",
            r.meta().id
        );
        assert!(
            names.iter().any(|n| n.starts_with("good")),
            "{}: no good fixture",
            r.meta().id
        );
    }
}
