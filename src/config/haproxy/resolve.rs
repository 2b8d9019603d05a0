//! [`Config`] → effective settings of each proxy section: `defaults`
//! inheritance (unnamed and named, with `from`) and `default-server` →
//! `server` resolved, so that the lowering and the rules never have to.
//!
//! The rules applied (HAProxy configuration manual §4, "Proxies"):
//!
//! - a `frontend`, `backend` or `listen` section takes its defaults from the
//!   section named by `from`, or else from the last `defaults` section above
//!   it (named or not); a `defaults` section may itself inherit `from`
//!   another one;
//! - a keyword set in the proxy replaces the inherited one; `no option X`
//!   cancels an inherited `option X`; list keywords (`log`, `acl`,
//!   `http-request`, …) add to what is inherited;
//! - `bind`, `server`, `server-template`, `use_backend` and `use-server` are
//!   never inherited;
//! - a `server` line's effective parameters are those of the inherited
//!   `default-server` lines, then the proxy's own `default-server` lines,
//!   then its own (the last occurrence of a parameter wins).

use std::collections::HashMap;

use crate::source::Span;

use super::parser::{Config, Line, Section, SectionKind, Word};

/// Keywords that are lists: a proxy's occurrences add to the inherited ones.
const LIST_KEYWORDS: &[&str] = &[
    "log",
    "acl",
    "http-request",
    "http-response",
    "http-after-response",
    "tcp-request",
    "tcp-response",
    "http-check",
    "tcp-check",
    "errorfile",
    "http-error",
    "capture",
    "stick",
    "stick-table",
    "redirect",
    "monitor",
    "reqadd",
    "rspadd",
    "filter",
    "email-alert",
    "stats",
];

/// Keywords a proxy never inherits from `defaults`.
const NOT_INHERITED: &[&str] = &[
    "bind",
    "server",
    "server-template",
    "use_backend",
    "use-server",
    "default-server",
];

/// The identity of a setting: `timeout connect`, `option httplog` (also for
/// `no option httplog`), or the keyword.
pub fn setting_key(line: &Line) -> String {
    match line.keyword() {
        "timeout" => format!("timeout {}", line.str(1)),
        "option" => format!("option {}", line.str(1)),
        "no" | "default" if line.str(1) == "option" => format!("option {}", line.str(2)),
        kw => kw.to_owned(),
    }
}

/// True when the line is `no option X`.
pub fn is_negated(line: &Line) -> bool {
    line.keyword() == "no" && line.str(1) == "option"
}

/// A statement in effect for a proxy, and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Effective<'c> {
    /// The line.
    pub line: &'c Line,
    /// True when it came from a `defaults` section.
    pub inherited: bool,
    /// Its [`setting_key`], computed once.
    pub key: String,
}

/// One `server` line with its effective parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerLine<'c> {
    /// The `server` line itself.
    pub line: &'c Line,
    /// `server <name>`.
    pub name: &'c Word,
    /// The address (`10.0.0.5:80`, `api.example.com:443`, `unix@/s`).
    pub address: Option<&'c Word>,
    /// `default-server` parameters in effect, then the server's own.
    pub params: Vec<&'c Word>,
}

/// The last of `on` / `off` among server parameters `params` (HAProxy
/// reads them left to right, so the last one wins): `Some(true)` when `on`
/// wins (`check` vs `no-check`), `None` when neither is given.
pub fn last_flag<'a>(
    params: impl DoubleEndedIterator<Item = &'a str>,
    on: &str,
    off: &str,
) -> Option<bool> {
    params.rev().find_map(|p| {
        if p == on {
            Some(true)
        } else if p == off {
            Some(false)
        } else {
            None
        }
    })
}

impl ServerLine<'_> {
    /// The last of `on` / `off` among the parameters: `Some(true)` when `on`
    /// wins (e.g. `check` vs `no-check`).
    pub fn flag(&self, on: &str, off: &str) -> Option<bool> {
        last_flag(self.params.iter().map(|w| w.value.as_str()), on, off)
    }

    /// The value after the last occurrence of parameter `name`
    /// (`inter 2s` → `2s`).
    pub fn value(&self, name: &str) -> Option<&Word> {
        let i = self.params.iter().rposition(|w| w.value == name)?;
        self.params.get(i + 1).copied()
    }

    /// True when parameter `name` occurs (`backup`, `ssl`).
    pub fn has(&self, name: &str) -> bool {
        self.params.iter().any(|w| w.value == name)
    }
}

/// A proxy section with its effective settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proxy<'c> {
    /// The section.
    pub section: &'c Section,
    /// The `defaults` section it inherits from, if any.
    pub defaults: Option<&'c Section>,
    /// Settings in effect, inherited first then own, each key once except
    /// for list keywords; `no option X` lines are kept (so a rule can tell
    /// "explicitly off" from "never set").
    pub settings: Vec<Effective<'c>>,
    /// `server` lines with `default-server` applied.
    pub servers: Vec<ServerLine<'c>>,
    /// The `default-server` parameters in effect (inherited, then own).
    pub default_server: Vec<&'c Word>,
}

impl<'c> Proxy<'c> {
    /// The section kind.
    pub fn kind(&self) -> SectionKind {
        self.section.kind
    }

    /// The section name.
    pub fn name(&self) -> &'c str {
        self.section.name_str()
    }

    /// The setting in effect for `key` (the last one; `None` if unset or
    /// negated with `no option`).
    pub fn get(&self, key: &str) -> Option<&'c Line> {
        self.settings
            .iter()
            .rev()
            .find(|e| e.key == key)
            .filter(|e| !is_negated(e.line))
            .map(|e| e.line)
    }

    /// Every line in effect for `key` (list keywords).
    pub fn all<'s>(&'s self, key: &'s str) -> impl Iterator<Item = &'c Line> + 's {
        self.settings
            .iter()
            .filter(move |e| e.key == key && !is_negated(e.line))
            .map(|e| e.line)
    }

    /// True when the line in effect for `key` is inherited from `defaults`.
    pub fn is_inherited(&self, key: &str) -> bool {
        self.settings
            .iter()
            .rev()
            .find(|e| e.key == key)
            .is_some_and(|e| e.inherited)
    }

    /// The section header span (for findings about missing settings).
    pub fn span(&self) -> Span {
        self.section.header.span
    }
}

/// Resolve every `frontend`, `backend` and `listen` section of `cfg`, in
/// file order.
pub fn resolve(cfg: &Config) -> Vec<Proxy<'_>> {
    let mut named: HashMap<&str, usize> = HashMap::new();
    let mut last_defaults: Option<usize> = None;
    // Effective settings of each defaults section, by section index.
    let mut defaults_eff: HashMap<usize, (Vec<Effective<'_>>, Vec<&Word>)> = HashMap::new();
    let mut out = Vec::new();
    for (i, section) in cfg.sections.iter().enumerate() {
        if !section.kind.is_proxy() {
            continue;
        }
        let parent = match &section.from {
            Some(from) => named.get(from.as_str()).copied(),
            None if section.kind == SectionKind::Defaults => None,
            None => last_defaults,
        };
        let (inherited, inherited_ds) = parent
            .and_then(|p| defaults_eff.get(&p))
            .cloned()
            .unwrap_or_default();
        let (settings, default_server) = merge(section, inherited, inherited_ds);
        if section.kind == SectionKind::Defaults {
            if let Some(name) = &section.name {
                named.insert(name.as_str(), i);
            }
            last_defaults = Some(i);
            let marked = settings
                .into_iter()
                .map(|e| Effective {
                    inherited: true,
                    ..e
                })
                .collect();
            defaults_eff.insert(i, (marked, default_server));
            continue;
        }
        let servers = section
            .statements()
            .filter(|l| l.keyword() == "server" && l.words.len() >= 2)
            .map(|l| ServerLine {
                line: l,
                name: &l.words[1],
                address: l.words.get(2),
                params: default_server
                    .iter()
                    .copied()
                    .chain(l.words.iter().skip(3))
                    .collect(),
            })
            .collect();
        out.push(Proxy {
            section,
            defaults: parent.map(|p| &cfg.sections[p]),
            settings,
            servers,
            default_server,
        });
    }
    out
}

/// A section's own statements over inherited ones.
fn merge<'c>(
    section: &'c Section,
    mut settings: Vec<Effective<'c>>,
    mut default_server: Vec<&'c Word>,
) -> (Vec<Effective<'c>>, Vec<&'c Word>) {
    for line in section.statements() {
        let kw = line.keyword();
        if kw == "default-server" {
            default_server.extend(line.words.iter().skip(1));
            continue;
        }
        if NOT_INHERITED.contains(&kw) && section.kind == SectionKind::Defaults {
            continue;
        }
        let key = setting_key(line);
        if !LIST_KEYWORDS.contains(&kw) {
            // An own setting replaces the inherited one (and any earlier own
            // one: the last occurrence wins in HAProxy).
            settings.retain(|e| e.key != key);
        }
        settings.push(Effective {
            line,
            inherited: false,
            key,
        });
    }
    (settings, default_server)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::haproxy::parse_cfg;
    use crate::source::FileId;

    const CFG: &[u8] = b"\
defaults
    mode http
    timeout connect 5s
    timeout server 30s
    option redispatch
    log global
    default-server inter 3s check
defaults strict from base_missing
    mode tcp
defaults base
    mode http
    timeout connect 1s
    retries 2
    default-server inter 1s
backend implicit
    timeout server 10s
    server a 10.0.0.1:80
backend explicit from base
    no option redispatch
    default-server fall 5
    server b 10.0.0.2:80 inter 4s no-check
frontend fe
    bind :80
    default_backend implicit
";

    #[test]
    fn defaults_inheritance() {
        let cfg = parse_cfg(FileId(0), CFG);
        assert!(cfg.errors.is_empty(), "{:?}", cfg.errors);
        let proxies = resolve(&cfg);
        let names: Vec<&str> = proxies.iter().map(|p| p.name()).collect();
        assert_eq!(names, ["implicit", "explicit", "fe"]);

        // `implicit` follows the last defaults above it: `base`.
        let p = &proxies[0];
        assert_eq!(p.defaults.unwrap().name_str(), "base");
        assert_eq!(p.get("timeout connect").unwrap().str(2), "1s");
        assert!(p.is_inherited("timeout connect"));
        assert_eq!(p.get("timeout server").unwrap().str(2), "10s");
        assert!(!p.is_inherited("timeout server"));
        assert_eq!(p.get("retries").unwrap().str(1), "2");
        assert!(p.get("option redispatch").is_none());
        let s = &p.servers[0];
        assert_eq!(s.value("inter").unwrap().as_str(), "1s");
        assert_eq!(s.flag("check", "no-check"), None);

        // `explicit from base`, with own default-server and no option.
        let p = &proxies[1];
        assert_eq!(p.defaults.unwrap().name_str(), "base");
        assert!(p.get("option redispatch").is_none());
        let s = &p.servers[0];
        assert_eq!(s.address.unwrap().as_str(), "10.0.0.2:80");
        assert_eq!(s.value("inter").unwrap().as_str(), "4s");
        assert_eq!(s.value("fall").unwrap().as_str(), "5");
        assert_eq!(s.flag("check", "no-check"), Some(false));
    }

    #[test]
    fn unnamed_defaults_and_no_option() {
        let cfg = parse_cfg(
            FileId(0),
            b"defaults\n option redispatch\n option httplog\n log global\n default-server check\nbackend b\n no option httplog\n log 127.0.0.1 local0\n server s 1.2.3.4:80\n",
        );
        let p = &resolve(&cfg)[0];
        assert!(p.get("option redispatch").is_some());
        assert!(p.get("option httplog").is_none());
        assert_eq!(p.all("log").count(), 2);
        assert_eq!(p.servers[0].flag("check", "no-check"), Some(true));
    }

    #[test]
    fn defaults_chain_with_from() {
        let cfg = parse_cfg(
            FileId(0),
            b"defaults a\n timeout client 9s\n retries 1\ndefaults b from a\n retries 5\nfrontend f from b\n bind :80\nbackend nodefaults\n",
        );
        let proxies = resolve(&cfg);
        let f = &proxies[0];
        assert_eq!(f.get("timeout client").unwrap().str(2), "9s");
        assert_eq!(f.get("retries").unwrap().str(1), "5");
        // A backend after `defaults b` (no from) uses b.
        assert_eq!(proxies[1].get("retries").unwrap().str(1), "5");
    }

    #[test]
    fn no_defaults_at_all() {
        let cfg = parse_cfg(FileId(0), b"backend b\n server s 1.2.3.4:80 check\n");
        let p = &resolve(&cfg)[0];
        assert!(p.defaults.is_none());
        assert!(p.get("timeout connect").is_none());
        assert!(p.servers[0].has("check"));
    }
}
