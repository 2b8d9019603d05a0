//! The corpus of real configs in `fixtures/realworld/` (sources and
//! licences in `fixtures/realworld/SOURCES.md`): every file lints without a
//! crash and without a syntax error (they are all configs their proxy
//! accepts), and the findings of the default rule set are snapshotted, so a
//! change in what users of real configs see is reviewed as a diff.
//!
//! Each file is linted on its own, as a CI job linting one file would, with
//! includes left unread so the result does not depend on this machine's
//! `/etc/nginx` (a Debian nginx.conf includes absolute paths).

use std::path::{Path, PathBuf};

use gatecheck::config::{self, LoadOptions};
use gatecheck::lint::{self, Selection, Settings};
use gatecheck::report::lint::locate;
use gatecheck::source::SourceMap;

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files(&p, out);
        } else if p.file_name().is_some_and(|n| n != "SOURCES.md") {
            out.push(p);
        }
    }
}

#[test]
fn realworld_corpus() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut all = Vec::new();
    files(&root.join("fixtures/realworld"), &mut all);
    assert!(all.len() >= 40, "corpus has {} files", all.len());
    let opts = LoadOptions {
        no_includes: true,
        ..LoadOptions::default()
    };
    let mut report = String::new();
    let mut counts = std::collections::BTreeMap::<&str, usize>::new();
    for path in &all {
        let rel = path.strip_prefix(root).unwrap().to_path_buf();
        let mut sources = SourceMap::new();
        let loaded = config::load(std::slice::from_ref(&rel), &opts, &mut sources);
        assert!(
            loaded.errors.is_empty(),
            "{}: no syntax error expected in a real config: {:?}",
            rel.display(),
            loaded.errors
        );
        assert_eq!(loaded.models.len(), 1, "{}", rel.display());
        let diags = lint::check(
            &loaded.models,
            &sources,
            &Settings::default(),
            &Selection::default(),
        );
        report += &format!("== {} ({} findings)\n", rel.display(), diags.len());
        for d in &diags {
            let loc = locate(&sources, d.span);
            *counts.entry(d.rule).or_default() += 1;
            report += &format!(
                "{}:{} {} {}: {}\n",
                loc.line,
                loc.column,
                d.severity.as_str(),
                d.rule,
                d.message
            );
        }
    }
    report += "\n== findings per rule\n";
    for (rule, n) in &counts {
        report += &format!("{rule} {n}\n");
    }
    insta::assert_snapshot!(report);
}
