//! gatecheck's HAProxy parser against the real `haproxy -c`.
//!
//! - Every `.cfg` fixture under `fixtures/lint/haproxy/` is a config HAProxy
//!   accepts, except files whose first line says `haproxy -c rejects` (bad
//!   fixtures of rules about configs HAProxy refuses), which it must refuse.
//! - Every fixture under an `errors/` folder is refused by HAProxy *and* by
//!   gatecheck's parser, on the same line (and the same column when HAProxy
//!   gives a position).
//! - The configs the Debian package ships parse without errors.
//!
//! Without a `haproxy` binary the HAProxy half is skipped with a message,
//! unless `GATECHECK_REQUIRE_PROXIES` is set (as `.ci/run` does), which makes
//! it a failure.

use std::path::{Path, PathBuf};
use std::process::Command;

use gatecheck::config::haproxy::parse_cfg;
use gatecheck::source::SourceMap;

fn haproxy() -> Option<PathBuf> {
    let candidates = [
        "/usr/sbin/haproxy",
        "/usr/local/sbin/haproxy",
        "/usr/bin/haproxy",
    ];
    if let Some(p) = candidates.iter().map(PathBuf::from).find(|p| p.exists()) {
        return Some(p);
    }
    let ok = Command::new("haproxy")
        .arg("-v")
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        return Some(PathBuf::from("haproxy"));
    }
    if std::env::var_os("GATECHECK_REQUIRE_PROXIES").is_some() {
        panic!("haproxy not found and GATECHECK_REQUIRE_PROXIES is set");
    }
    eprintln!("SKIPPED: haproxy binary not found (install the Debian package `haproxy`, or set GATECHECK_REQUIRE_PROXIES to make this a failure)");
    None
}

fn fixtures() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|e| e == "cfg") {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/lint/haproxy"),
        &mut out,
    );
    out.sort();
    out
}

/// Run `haproxy -c -f path`: (accepted, first "parsing [file:LINE]" line,
/// first "at position N" column, the whole output).
fn check(bin: &Path, path: &Path) -> (bool, Option<u32>, Option<u32>, String) {
    let out = Command::new(bin)
        .args(["-c", "-f"])
        .arg(path)
        .output()
        .expect("run haproxy");
    let text =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    let line = text.split("parsing [").skip(1).find_map(|rest| {
        let inside = rest.split(']').next()?;
        inside.rsplit(':').next()?.trim().parse().ok()
    });
    let col = text
        .split("at position ")
        .nth(1)
        .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok());
    (out.status.success(), line, col, text)
}

fn first_line(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .next()
        .unwrap_or("")
        .to_owned()
}

#[test]
fn fixtures_agree_with_haproxy() {
    let files = fixtures();
    assert!(!files.is_empty());
    let Some(bin) = haproxy() else {
        return;
    };
    let mut checked = 0;
    for path in &files {
        let (accepted, line, col, output) = check(&bin, path);
        let in_errors = path.parent().is_some_and(|d| d.ends_with("errors"));
        let text = std::fs::read(path).unwrap();
        let mut sm = SourceMap::new();
        let id = sm.add(path, text.clone());
        let cfg = parse_cfg(id, &text);
        if in_errors {
            assert!(
                !accepted,
                "{}: haproxy accepts a parser-error fixture",
                path.display()
            );
            let first = cfg.errors.first().unwrap_or_else(|| {
                panic!(
                    "{}: gatecheck accepts what haproxy rejects:\n{output}",
                    path.display()
                )
            });
            let (l, c) = sm.line_col(first.span());
            assert_eq!(
                Some(l),
                line,
                "{}: {first} vs haproxy:\n{output}",
                path.display()
            );
            if let Some(col) = col {
                assert_eq!(c, col, "{}: column; haproxy:\n{output}", path.display());
            }
        } else if first_line(path).contains("haproxy -c rejects") {
            assert!(
                !accepted,
                "{}: marked as rejected but haproxy accepts it",
                path.display()
            );
        } else {
            assert!(
                accepted,
                "{}: haproxy -c refuses it:\n{output}",
                path.display()
            );
            let errors: Vec<String> = cfg.errors.iter().map(|e| e.render(&sm)).collect();
            assert!(errors.is_empty(), "{errors:?}");
        }
        checked += 1;
    }
    println!("{checked} fixtures checked with {}", bin.display());
}

#[test]
fn debian_shipped_configs_parse() {
    let mut files: Vec<PathBuf> = vec![PathBuf::from("/etc/haproxy/haproxy.cfg")];
    if let Ok(dir) = std::fs::read_dir("/usr/share/doc/haproxy/examples") {
        files.extend(
            dir.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "cfg")),
        );
    }
    let present: Vec<&PathBuf> = files.iter().filter(|p| p.exists()).collect();
    if present.is_empty() {
        if std::env::var_os("GATECHECK_REQUIRE_PROXIES").is_some() {
            panic!("no Debian haproxy configs found and GATECHECK_REQUIRE_PROXIES is set");
        }
        eprintln!(
            "SKIPPED: no Debian haproxy configs (/etc/haproxy, /usr/share/doc/haproxy/examples)"
        );
        return;
    }
    for path in present {
        let text = std::fs::read(path).unwrap();
        let mut sm = SourceMap::new();
        let id = sm.add(path, text.clone());
        let cfg = parse_cfg(id, &text);
        let errors: Vec<String> = cfg.errors.iter().map(|e| e.render(&sm)).collect();
        assert!(errors.is_empty(), "{errors:?}");
        assert!(!cfg.sections.is_empty(), "{}", path.display());
    }
}
