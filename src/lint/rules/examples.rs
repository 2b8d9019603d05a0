//! Every rule's doc examples are tests (as biome runs its rule docs): the
//! code under `## Example` must trigger the rule and the code under
//! `## Use instead` must not.
//!
//! An nginx snippet is read in the context `gatecheck lint` infers for a
//! fragment (a bare `location` as if included in `server { }`). A ```yaml block whose first line is
//! `# .gatecheck.yaml` is the settings the example runs with (the hops of
//! the cross-hop rules).
//!
//! An Envoy example need not be a whole bootstrap: one that starts with a
//! comment naming where it goes is placed there in the bootstrap of the
//! Envoy rule tests (one listener, one virtual host routing `/` to cluster
//! `app`, cluster `app` with two endpoints), see [`EnvoyParts`]:
//! `# in a route` (fields of the route, after `match`), `# in routes`
//! (items of the virtual host's `routes`), `# in a cluster` (fields of
//! cluster `app` after its name), `# in clusters` (items of `clusters`),
//! `# in the http_connection_manager` (fields of the HCM).

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

/// Envoy example fragments, gathered by where they go (see the module doc).
#[derive(Default)]
struct EnvoyParts {
    hcm: String,
    routes: String,
    clusters: String,
}

impl EnvoyParts {
    /// Take `code` when its first line says where it goes; false otherwise.
    fn add(&mut self, code: &str) -> bool {
        let Some((first, rest)) = code.split_once('\n') else {
            return false;
        };
        // Doc lines keep the space after `///`: drop the common indentation.
        let strip = rest
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| l.len() - l.trim_start().len())
            .min()
            .unwrap_or(0);
        let indent = |n: usize| -> String {
            rest.lines()
                .map(|l| format!("{:n$}{}\n", "", l.get(strip..).unwrap_or("")))
                .collect::<String>()
        };
        match first.trim() {
            "# in a route" => {
                self.routes += &format!("{:14}- match: {{ prefix: / }}\n{}", "", indent(16))
            }
            "# in routes" => self.routes += &indent(14),
            "# in a cluster" => self.clusters += &format!("  - name: app\n{}", indent(4)),
            "# in clusters" => self.clusters += &indent(2),
            "# in the http_connection_manager" => self.hcm += &indent(10),
            _ => return false,
        }
        true
    }

    fn is_empty(&self) -> bool {
        self.hcm.is_empty() && self.routes.is_empty() && self.clusters.is_empty()
    }

    /// The bootstrap of the Envoy rule tests with the fragments in place
    /// (`/` → `app` and a two-endpoint `app` where none are given).
    fn bootstrap(&self) -> String {
        use super::envoy::test_util::{boot, cluster, ROUTE};
        let routes = if self.routes.is_empty() {
            ROUTE.to_string()
        } else {
            self.routes.clone()
        };
        let clusters = if self.clusters.is_empty() {
            cluster("app", 2, "")
        } else {
            self.clusters.clone()
        };
        boot(&self.hcm, &routes, &clusters)
    }
}

/// Findings of `meta` on the config of one doc section, or why it could
/// not be read; `None` when the section holds no config, only a command
/// line (```text or ```sh: the fix of NGX-INC-001 is to pass `-p`).
fn run(meta: &RuleMeta, section: &str) -> Result<Option<usize>, String> {
    let mut settings = Settings::default();
    let mut nginx = String::new();
    let mut other: Option<(&str, String)> = None;
    let mut command = false;
    let mut envoy = EnvoyParts::default();
    for (lang, code) in blocks(section) {
        match lang.as_str() {
            "text" | "sh" | "console" => command = true,
            "yaml" if code.starts_with("# .gatecheck.yaml") => {
                settings = Settings::from_str_as(&code, false)?;
            }
            "nginx" => nginx.push_str(&code),
            "haproxy" => other = Some(("haproxy.cfg", code)),
            // An Envoy fragment is taken by `envoy`; a whole config is kept.
            "yaml" if !envoy.add(&code) => other = Some(("envoy.yaml", code)),
            _ => {}
        }
    }
    let sel = Selection {
        select: vec![meta.id.to_string()],
        ignore: vec![],
    };
    if other.is_none() && !envoy.is_empty() {
        other = Some(("envoy.yaml", envoy.bootstrap()));
    }
    if command && nginx.is_empty() && other.is_none() {
        return Ok(None);
    }
    let mut sm = SourceMap::new();
    // Includes are looked up in an empty directory: a relative include in
    // an example names a file that is not there, never one on this machine.
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let parsed = if !nginx.is_empty() {
        let file = sm.add(dir.path().join("nginx.conf"), nginx.into_bytes());
        let opts = LoadOptions {
            nginx_version: settings.nginx_version(),
            prefix: Some(dir.path().to_path_buf()),
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
    Ok(Some(
        check(&models, &sm, &settings, &sel)
            .iter()
            .filter(|d| d.rule == meta.id)
            .count(),
    ))
}

#[test]
fn every_example_triggers_its_rule_and_every_fix_does_not() {
    let mut wrong = Vec::new();
    for r in registry::all() {
        let m = r.meta();
        let example = m.section("## Example").unwrap_or_default();
        let fix = m.section("## Use instead").unwrap_or_default();
        match run(m, &example) {
            Ok(Some(0)) => wrong.push(format!("{}: the example does not trigger it", m.id)),
            Ok(Some(_)) => {}
            Ok(None) => wrong.push(format!("{}: the example holds no config", m.id)),
            Err(e) => wrong.push(format!("{}: example: {e}", m.id)),
        }
        match run(m, &fix) {
            Ok(Some(0) | None) => {}
            Ok(Some(n)) => wrong.push(format!("{}: the fix still triggers it ({n})", m.id)),
            Err(e) => wrong.push(format!("{}: use instead: {e}", m.id)),
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
