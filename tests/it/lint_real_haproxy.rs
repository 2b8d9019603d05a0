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

use crate::support::{haproxy, haproxy_cfg};
use gatecheck::config::haproxy::parse_cfg;

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
    let Some(bin) = haproxy::require_haproxy() else {
        return;
    };
    let mut checked = 0;
    for path in &files {
        let (accepted, line, col, output) = check(&bin, path);
        let in_errors = path.parent().is_some_and(|d| d.ends_with("errors"));
        let parsed = haproxy_cfg::parse(path);
        let (sm, cfg) = (&parsed.sm, &parsed.cfg);
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
            let errors = parsed.errors();
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
        let p = haproxy_cfg::parse(path);
        let errors = p.errors();
        assert!(errors.is_empty(), "{errors:?}");
        assert!(!p.cfg.sections.is_empty(), "{}", path.display());
    }
}

/// Token soup for the quoting/escaping differential test: words, quotes,
/// escapes (valid and broken), comments, tabs.
const SOUP: &[&str] = &[
    "a",
    "b1",
    " ",
    "  ",
    "\t",
    "'",
    "\"",
    "\\",
    "\\ ",
    "\\#",
    "\\\\",
    "\\'",
    "\\\"",
    "\\x41",
    "\\x4",
    "\\xg1",
    "\\n",
    "\\t",
    "\\r",
    "\\q",
    "#",
    "'x y'",
    "\"x y\"",
    "\"a#b\"",
    "'a#b'",
    "\"$HOME\"",
    "\"${HOME}\"",
    "\"${NOPE-d}\"",
    "\"${HOME\"",
    "$",
    "\"\\$x\"",
    "\"$1\"",
    "\"${.FILE}\"",
    "\"${A.b}\"",
    "\"a$\"",
    "\"${}\"",
    "\"${X[*]}\"",
];

/// A small deterministic generator (64-bit LCG), so that every run tests
/// the same configs.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) as usize
    }
}

/// How many lines the differential test generates.
const CASES: usize = 200;

/// HAProxy and gatecheck agree on which generated `description` lines are
/// lexically broken (unmatched quotes, bad `\x` escapes), and on the line.
#[test]
fn quoting_differential_against_haproxy() {
    let Some(bin) = haproxy::require_haproxy() else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("gatecheck-hap-soup-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut rng = Lcg(0x5eed);
    let mut disagreements = Vec::new();
    let mut rejected = 0;
    for case in 0..CASES {
        let mut line = String::from("    description x ");
        for _ in 0..(1 + rng.next() % 6) {
            line.push_str(SOUP[rng.next() % SOUP.len()]);
        }
        let text = format!(
            "global\n    log stdout format raw local0\n\ndefaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n\nfrontend web\n    bind 127.0.0.1:8080\n{line}\n    default_backend app\n\nbackend app\n    server a1 127.0.0.1:9001\n"
        );
        let path = dir.join(format!("case{case}.cfg"));
        std::fs::write(&path, &text).unwrap();
        let (accepted, hap_line, _, output) = check(&bin, &path);
        let cfg = parse_cfg(Default::default(), text.as_bytes());
        let lines = gatecheck::source::LineIndex::new(text.as_bytes());
        let ours = cfg.errors.first().map(|e| lines.line_col(e.span().start).0);
        rejected += usize::from(!accepted);
        let agree = match (accepted, ours) {
            (true, None) => true,
            (false, Some(l)) => hap_line == Some(l),
            // HAProxy may refuse for reasons that are not lexical.
            (false, None) => !["quote", "hexadecimal", "environment variable"]
                .iter()
                .any(|w| output.contains(w)),
            (true, Some(_)) => false,
        };
        if !agree {
            disagreements.push(format!("{line:?}: haproxy accepted={accepted} line={hap_line:?}, gatecheck {ours:?}\n{output}"));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!("{CASES} generated lines, {rejected} refused by haproxy");
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
    assert!(rejected > 10, "the soup should produce broken lines too");
}

/// The lines `haproxy -c` output refuses as "unknown keyword '…' in '…'
/// section", by line number.
fn unknown_keyword_lines(output: &str) -> Vec<u32> {
    output
        .lines()
        .filter(|l| l.contains("unknown keyword '"))
        .filter_map(|l| {
            let inside = l.split("parsing [").nth(1)?.split(']').next()?;
            inside.rsplit(':').next()?.trim().parse().ok()
        })
        .collect()
}

/// gatecheck's keyword table against the installed HAProxy: every keyword
/// it lists for `global` and proxy sections (`haproxy -dKcfg`) is known
/// (no finding on a real keyword), and each of those keywords less its last
/// letter, where HAProxy refuses it as an unknown keyword, is reported by
/// gatecheck (a typo, HAP-VAL-001, or unknown, HAP-VAL-002) unless some
/// other release knows that word; gatecheck reports no line HAProxy
/// accepts as a keyword. HAProxy stops after 50 errors, so the typos go 40
/// to a file.
#[test]
fn keywords_agree_with_haproxy() {
    use gatecheck::config::haproxy::keywords::{GLOBAL, LISTEN};
    use gatecheck::config::haproxy::unknown::is_known;
    let Some(bin) = haproxy::require_haproxy() else {
        return;
    };
    let out = Command::new(&bin)
        .args(["-dKcfg", "-q", "-c", "-f", "/dev/null"])
        .output()
        .expect("run haproxy -dKcfg");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let mut section = String::new();
    let mut listed = Vec::new();
    for line in text.lines() {
        match line.strip_prefix('\t') {
            Some(kw) if section == "global" || section == "listen" => listed.push((
                section.clone(),
                kw.split_whitespace().next().unwrap_or("").to_string(),
            )),
            Some(_) => {}
            None => section = line.trim().to_string(),
        }
    }
    assert!(
        listed.len() > 100,
        "haproxy -dKcfg listed {}:\n{text}",
        listed.len()
    );
    let table = |s: &str| if s == "global" { GLOBAL } else { LISTEN };
    for (s, kw) in &listed {
        assert!(
            is_known(table(s), kw),
            "{s} keyword {kw} of haproxy -dKcfg is not in the table"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let (mut refused, mut reported, mut other_release) = (0, 0, 0);
    for s in ["global", "listen"] {
        let typos: Vec<&str> = listed
            .iter()
            .filter(|(sec, kw)| sec == s && kw.len() > 3)
            .map(|(_, kw)| &kw[..kw.len() - 1])
            .collect();
        for (n, chunk) in typos.chunks(40).enumerate() {
            let header = if s == "global" {
                "global\n"
            } else {
                "defaults\n  mode http\n"
            };
            let mut cfg = header.to_string();
            for t in chunk {
                cfg.push_str(&format!("  {t} x\n"));
            }
            let path = dir.path().join(format!("{s}{n}.cfg"));
            std::fs::write(&path, &cfg).unwrap();
            let (_, _, _, output) = check(&bin, &path);
            let unknown = unknown_keyword_lines(&output);
            let (sm, parsed) = gatecheck::config::haproxy::parse_str("t.cfg", cfg.as_bytes());
            let model = parsed.model.expect("model");
            let flagged: Vec<u32> = model
                .invalid
                .iter()
                .map(|i| i.span)
                .chain(model.unknown.iter().map(|u| u.span))
                .map(|span| sm.line_col(span).0)
                .collect();
            for l in &flagged {
                assert!(unknown.contains(l), "{s}: gatecheck flags line {l} that haproxy -c reads as a keyword:\n{cfg}\n{output}");
            }
            for l in &unknown {
                refused += 1;
                let word = cfg
                    .lines()
                    .nth(*l as usize - 1)
                    .unwrap()
                    .split_whitespace()
                    .next()
                    .unwrap();
                if flagged.contains(l) {
                    reported += 1;
                } else {
                    other_release += 1;
                    assert!(is_known(table(s), word), "{s}: haproxy -c refuses '{word}' (line {l}) and gatecheck does not report it:\n{output}");
                }
            }
        }
    }
    assert!(reported > 0);
    println!("{} keywords of {}; {refused} typos refused by haproxy -c: {reported} reported, {other_release} keywords of another release", listed.len(), bin.display());
}
