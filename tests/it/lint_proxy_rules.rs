//! Every HAProxy and Envoy rule on its fixtures,
//! `fixtures/lint/{haproxy,envoy}/<ID>/*.{cfg,yaml,json}`: a `bad*` file
//! gives at least one finding of that rule and a `good*` file gives none
//! (`implicit*` files may go either way and are there for the defaulted
//! value); the rendered findings are snapshots named `{ID}__{fixture}` (what
//! users see, reviewed with `cargo insta review`). The nginx and cross-hop
//! rules have the same checks in `lint_fixtures.rs`.

use std::path::{Path, PathBuf};

use gatecheck::config::{envoy, haproxy, LoadOptions, Parsed};
use gatecheck::lint::{self, registry, Selection, Settings};
use gatecheck::report::lint::text;
use gatecheck::source::{FileId, SourceMap};

/// One proxy's fixtures and parser.
struct Proxy {
    name: &'static str,
    id_prefix: &'static str,
    exts: &'static [&'static str],
    parse: fn(&mut SourceMap, FileId, &LoadOptions) -> Parsed,
}

const HAPROXY: Proxy = Proxy {
    name: "haproxy",
    id_prefix: "HAP-",
    exts: &["cfg"],
    parse: haproxy::parse,
};

const ENVOY: Proxy = Proxy {
    name: "envoy",
    id_prefix: "ENV-",
    exts: &["yaml", "json"],
    parse: envoy::parse,
};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// (rule id, fixture path relative to the crate root).
fn fixtures(px: &Proxy) -> Vec<(String, PathBuf)> {
    let dir = root().join("fixtures/lint").join(px.name);
    let mut out = Vec::new();
    for e in std::fs::read_dir(&dir).unwrap().flatten() {
        let id = e.file_name().to_string_lossy().into_owned();
        if !id.starts_with(px.id_prefix) {
            continue;
        }
        for f in std::fs::read_dir(e.path()).unwrap().flatten() {
            let p = f.path();
            if p.extension()
                .is_some_and(|x| px.exts.iter().any(|e| x == *e))
            {
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
fn run(px: &Proxy, id: &str, rel: &Path) -> (String, usize) {
    let text = std::fs::read(root().join(rel)).unwrap();
    let mut sm = SourceMap::new();
    let file = sm.add(rel.to_string_lossy().replace('\\', "/"), text);
    let parsed = (px.parse)(&mut sm, file, &Default::default());
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

fn every_rule_has_bad_and_good_fixtures(px: &Proxy) {
    let fx = fixtures(px);
    for r in registry::all()
        .iter()
        .filter(|r| r.meta().proxy.as_str() == px.name)
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

fn rule_snapshots(px: &Proxy) {
    for (id, rel) in fixtures(px) {
        assert!(
            registry::find(&id).is_some(),
            "{id}: fixture folder for an unknown rule"
        );
        let stem = rel.file_stem().unwrap().to_string_lossy().into_owned();
        // a JSON twin of a YAML fixture gets its own snapshot name
        let name = if rel.extension().is_some_and(|e| e == "json") {
            format!("{stem}_json")
        } else {
            stem.clone()
        };
        let (rendered, n) = run(px, &id, &rel);
        if stem.starts_with("bad") {
            assert!(n > 0, "{rel:?}: no {id} finding");
        } else if stem.starts_with("good") {
            // Nothing fires: that is the whole check, no empty snapshot.
            assert_eq!(n, 0, "{rel:?}: unexpected {id} finding:\n{rendered}");
            continue;
        }
        insta::assert_snapshot!(format!("{id}__{name}"), rendered);
    }
}

#[test]
fn every_haproxy_rule_has_bad_and_good_fixtures() {
    every_rule_has_bad_and_good_fixtures(&HAPROXY);
}

#[test]
fn every_envoy_rule_has_bad_and_good_fixtures() {
    every_rule_has_bad_and_good_fixtures(&ENVOY);
}

#[test]
fn haproxy_rule_snapshots() {
    rule_snapshots(&HAPROXY);
}

#[test]
fn envoy_rule_snapshots() {
    rule_snapshots(&ENVOY);
}
