//! Every rule's doc examples are tests (as biome runs its rule docs): the
//! code under `## Example` must trigger the rule and the code under
//! `## Use instead` must not.
//!
//! An nginx snippet is read in the context `gatecheck lint` infers for a
//! fragment (a bare `location` as if included in `server { }`). A ```yaml block whose first line is
//! `# .gatecheck.yaml` is the settings the example runs with (the hops of
//! the cross-hop rules).

use crate::config::{self, LoadOptions};
use crate::lint::registry;
use crate::lint::{check, RuleMeta, RuleProxy, Selection, Settings};
use crate::source::SourceMap;

/// The fenced code blocks of `text`: (language, code).
fn blocks(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut cur: Option<(String, String)> = None;
    for line in text.lines() {
        let t = line.trim_start();
        if let Some(lang) = t.strip_prefix("```") {
            match cur.take() {
                Some(b) => out.push(b),
                None => cur = Some((lang.trim().to_string(), String::new())),
            }
        } else if let Some((_, code)) = &mut cur {
            code.push_str(line);
            code.push('\n');
        }
    }
    out
}

/// Findings of `meta` on the config of one doc section, or why it could
/// not be read.
fn run(meta: &RuleMeta, section: &str) -> Result<usize, String> {
    let mut settings = Settings::default();
    let mut nginx = String::new();
    let mut other: Option<(&str, String)> = None;
    for (lang, code) in blocks(section) {
        match lang.as_str() {
            "yaml" if code.starts_with("# .gatecheck.yaml") => {
                settings = Settings::from_str_as(&code, false)?;
            }
            "nginx" => nginx.push_str(&code),
            "haproxy" => other = Some(("haproxy.cfg", code)),
            "yaml" => other = Some(("envoy.yaml", code)),
            _ => {}
        }
    }
    let sel = Selection {
        select: vec![meta.id.to_string()],
        ignore: vec![],
    };
    let mut sm = SourceMap::new();
    let parsed = if !nginx.is_empty() {
        let file = sm.add("nginx.conf", nginx.into_bytes());
        let opts = LoadOptions {
            nginx_version: settings.nginx_version(),
            no_includes: true,
            ..LoadOptions::default()
        };
        let p = config::nginx::parse(&mut sm, file, &opts);
        if !p.errors.is_empty() {
            return Err(format!("{:?}", p.errors));
        }
        p
    } else {
        let (name, code) = other.ok_or("no code block")?;
        let file = sm.add(name, code.into_bytes());
        let opts = LoadOptions::default();
        let p = match meta.proxy {
            RuleProxy::Haproxy => config::haproxy::parse(&mut sm, file, &opts),
            _ => config::envoy::parse(&mut sm, file, &opts),
        };
        if !p.errors.is_empty() {
            return Err(format!("{:?}", p.errors));
        }
        p
    };
    let models: Vec<_> = parsed.model.into_iter().collect();
    Ok(check(&models, &sm, &settings, &sel)
        .iter()
        .filter(|d| d.rule == meta.id)
        .count())
}

/// Rules whose doc examples do not yet do what they say, as found when
/// this test was added: Envoy examples are fragments (a cluster, a route)
/// that the reader does not complete into a bootstrap; the others need a
/// fuller snippet or settings. The test fails when this list is not exact,
/// so each fixed doc must leave it.
const NOT_YET: &[&str] = &[
    "NGX-RTY-003",
    "NGX-LOG-001",
    "NGX-INC-001",
    "NGX-INC-002",
    "ENV-TMO-001",
    "ENV-TMO-002",
    "ENV-TMO-003",
    "ENV-BUF-001",
    "ENV-RTY-001",
    "ENV-RTY-002",
    "ENV-HLT-001",
    "ENV-HLT-002",
    "ENV-DNS-001",
    "ENV-DNS-002",
    "ENV-TLS-001",
    "ENV-KAL-001",
    "ENV-LOG-001",
    "ENV-LOG-002",
    "ENV-MAP-001",
    "ENV-VAL-001",
    "ALL-TMO-002",
    "ALL-RTY-001",
    "ALL-KAL-001",
];

#[test]
fn every_example_triggers_its_rule_and_every_fix_does_not() {
    let mut wrong = Vec::new();
    let mut not_yet = Vec::new();
    for r in registry::all() {
        let m = r.meta();
        let example = m.section("## Example").unwrap_or_default();
        let fix = m.section("## Use instead").unwrap_or_default();
        let before = wrong.len();
        match run(m, &example) {
            Ok(0) => wrong.push(format!("{}: the example does not trigger it", m.id)),
            Ok(_) => {}
            Err(e) => wrong.push(format!("{}: example: {e}", m.id)),
        }
        match run(m, &fix) {
            Ok(0) => {}
            Ok(n) => wrong.push(format!("{}: the fix still triggers it ({n})", m.id)),
            Err(e) => wrong.push(format!("{}: use instead: {e}", m.id)),
        }
        if NOT_YET.contains(&m.id) {
            if wrong.len() == before {
                not_yet.push(format!(
                    "{}: its examples work now: remove it from NOT_YET",
                    m.id
                ));
            }
            wrong.truncate(before);
        }
    }
    wrong.extend(not_yet);
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
