//! Every HAProxy rule on its fixtures, `fixtures/lint/haproxy/<ID>/*.cfg`:
//! a `bad*` file gives at least one finding of that rule and a `good*` or
//! `implicit*` file whose name says so gives none (`implicit*` files may go
//! either way and are there for the defaulted value); the rendered findings
//! are snapshots named `{ID}__{fixture}` (what users see, reviewed with
//! `cargo insta review`).

use std::path::{Path, PathBuf};

use gatecheck::config::haproxy;
use gatecheck::lint::{self, registry, Selection, Settings};
use gatecheck::report::lint::text;
use gatecheck::source::SourceMap;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// (rule id, fixture path relative to the crate root).
fn fixtures() -> Vec<(String, PathBuf)> {
    let dir = root().join("fixtures/lint/haproxy");
    let mut out = Vec::new();
    for e in std::fs::read_dir(&dir).unwrap().flatten() {
        let id = e.file_name().to_string_lossy().into_owned();
        if !id.starts_with("HAP-") {
            continue;
        }
        for f in std::fs::read_dir(e.path()).unwrap().flatten() {
            let p = f.path();
            if p.extension().is_some_and(|x| x == "cfg") {
                out.push((id.clone(), p.strip_prefix(root()).unwrap().to_path_buf()));
            }
        }
    }
    out.sort();
    out
}

fn settings_for(dir: &Path) -> Settings {
    let toml = root().join(dir).join("gatecheck.toml");
    if toml.exists() {
        Settings::from_path(&toml).unwrap()
    } else {
        Settings::default()
    }
}

/// The rendered findings of rule `id` on `rel`, and their count.
fn run(id: &str, rel: &Path) -> (String, usize) {
    let text = std::fs::read(root().join(rel)).unwrap();
    let mut sm = SourceMap::new();
    let file = sm.add(rel.to_string_lossy().replace('\\', "/"), text);
    let parsed = haproxy::parse(&mut sm, file, &Default::default());
    assert!(parsed.errors.is_empty(), "{rel:?}: {:?}", parsed.errors);
    let models: Vec<_> = parsed.model.into_iter().collect();
    let sel = Selection {
        select: vec![id.to_owned()],
        ignore: vec![],
    };
    let diags: Vec<_> = lint::check(&models, &sm, &settings_for(rel.parent().unwrap()), &sel)
        .into_iter()
        .filter(|d| d.rule == id)
        .collect();
    let rendered: String = diags.iter().map(|d| text::render(d, &sm) + "\n").collect();
    (rendered, diags.len())
}

#[test]
fn every_haproxy_rule_has_bad_and_good_fixtures() {
    let fx = fixtures();
    for r in registry::all()
        .iter()
        .filter(|r| r.meta().proxy == "haproxy")
    {
        let id = r.meta().id;
        let names: Vec<String> = fx
            .iter()
            .filter(|(i, _)| i == id)
            .map(|(_, p)| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert!(
            names.iter().any(|n| n.starts_with("bad")),
            "{id}: no bad fixture"
        );
        assert!(
            names.iter().any(|n| n.starts_with("good")),
            "{id}: no good fixture"
        );
    }
}

#[test]
fn haproxy_rule_snapshots() {
    for (id, rel) in fixtures() {
        assert!(
            registry::find(&id).is_some(),
            "{id}: fixture folder for an unknown rule"
        );
        let stem = rel.file_stem().unwrap().to_string_lossy().into_owned();
        let (rendered, n) = run(&id, &rel);
        if stem.starts_with("bad") {
            assert!(n > 0, "{rel:?}: no {id} finding");
        } else if stem.starts_with("good") {
            assert_eq!(n, 0, "{rel:?}: unexpected {id} finding:\n{rendered}");
        }
        insta::assert_snapshot!(format!("{id}__{stem}"), rendered);
    }
}
