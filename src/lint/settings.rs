//! Team settings: `.gatecheck.yaml` or `gatecheck.toml`.
//!
//! ```yaml
//! nginx_version: "1.22.1"      # version-gated rules; newest behaviour when unset
//! nginx_page_size: 4k          # what "one memory page" means for buffer defaults (default 4k)
//! severity:                    # per-rule severity: error | warning | info | off
//!   NGX-TMO-002: off
//! options:                     # per-rule thresholds (each rule's doc lists its options)
//!   NGX-TMO-001: { max_connect_timeout: 30s }
//! ignore:                      # for files without comments (JSON): rule + path glob
//!   - { rule: NGX-LOG-003, path: "sites/legacy/*.conf" }
//! hop:                         # cross-hop rules: outer → inner hops gatecheck cannot parse
//!   - { name: cdn, kind: cdn, timeout: 30s }
//! ```
//!
//! The same keys work in TOML (`[options.NGX-TMO-001]`, `[[ignore]]`,
//! `[[hop]]`).

use std::any::Any;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;

use crate::config::Version;

use super::registry;
use super::values::{self, Level, Size, Time};

/// A settings file problem.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// Could not read it.
    #[error("cannot read settings {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Could not parse it.
    #[error("invalid settings {}: {message}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message (with line and column).
        message: String,
    },
}

/// One `[[ignore]]` entry.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct IgnoreEntry {
    /// Rule id, prefix or name.
    pub rule: String,
    /// Glob on the file path (`*` = any file when absent).
    #[serde(default)]
    pub path: Option<String>,
}

/// One `[[hop]]` entry: a hop gatecheck cannot parse (CDN, cloud LB, app).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Hop {
    /// Display name.
    pub name: String,
    /// What it is (`app` when absent).
    #[serde(default)]
    pub kind: Option<HopKind>,
    /// Upstream wait of this hop (`30s`).
    #[serde(default)]
    pub timeout: Option<Time>,
    /// Keep-alive (idle) timeout this hop applies to connections it serves.
    #[serde(default)]
    pub keepalive_timeout: Option<Time>,
    /// Attempts per request (1 = no retry).
    #[serde(default)]
    pub attempts: Option<u32>,
}

/// What a declared hop is; orders the hop chain (outer → inner).
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum HopKind {
    /// A CDN (outermost).
    Cdn,
    /// A load balancer.
    Lb,
    /// Another proxy.
    Proxy,
    /// The application (innermost).
    App,
}

/// All settings. Every field is optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// nginx version for version-gated rules.
    #[serde(deserialize_with = "values::version")]
    pub nginx_version: Option<Version>,
    /// HAProxy version for version-gated rules.
    #[serde(deserialize_with = "values::version")]
    pub haproxy_version: Option<Version>,
    /// Envoy version for version-gated rules.
    #[serde(deserialize_with = "values::version")]
    pub envoy_version: Option<Version>,
    /// Size of one memory page for nginx's page-sized defaults (default 4k).
    pub nginx_page_size: Option<Size>,
    /// Per-rule severity override, keyed by id, prefix or name (each must
    /// cover at least one rule).
    #[serde(deserialize_with = "severity_map")]
    pub severity: BTreeMap<String, Level>,
    /// Per-rule options, keyed by rule id or name, each read into its
    /// rule's options type.
    pub options: RuleOptions,
    /// Suppressions by path (for files that cannot hold comments).
    pub ignore: Vec<IgnoreEntry>,
    /// Hops gatecheck cannot parse, outer → inner.
    pub hop: Vec<Hop>,
    /// Where the settings came from (not a key).
    #[serde(skip)]
    pub source: Option<PathBuf>,
    /// The settings file in the run's source map, when the caller added it
    /// there: unused `ignore` entries are then reported on their line.
    #[serde(skip)]
    pub file: Option<crate::source::FileId>,
}

/// File names looked up, in order, in the current directory and its parents.
pub const SETTINGS_FILES: &[&str] = &[
    ".gatecheck.yaml",
    ".gatecheck.yml",
    "gatecheck.toml",
    ".gatecheck.toml",
];

impl Settings {
    /// Read settings from `path` (TOML when it ends in `.toml`, else YAML).
    pub fn from_path(path: &Path) -> Result<Settings, SettingsError> {
        let text = std::fs::read_to_string(path).map_err(|source| SettingsError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let mut s = Self::from_str_as(&text, path.extension().is_some_and(|e| e == "toml"))
            .map_err(|message| SettingsError::Parse {
                path: path.to_path_buf(),
                message,
            })?;
        s.source = Some(path.to_path_buf());
        Ok(s)
    }

    /// Parse settings text; `toml` chooses the syntax.
    pub fn from_str_as(text: &str, toml: bool) -> Result<Settings, String> {
        if toml {
            toml::from_str(text).map_err(|e| e.to_string())
        } else if text.trim().is_empty() {
            Ok(Settings::default())
        } else {
            serde_yaml::from_str(text).map_err(|e| e.to_string())
        }
    }

    /// Find a settings file in `dir` or its parents.
    pub fn discover(dir: &Path) -> Option<PathBuf> {
        let mut d = Some(dir);
        while let Some(cur) = d {
            for name in SETTINGS_FILES {
                let p = cur.join(name);
                if p.is_file() {
                    return Some(p);
                }
            }
            d = cur.parent();
        }
        None
    }

    /// `nginx_version` (`None` = assume the newest behaviour).
    pub fn nginx_version(&self) -> Option<Version> {
        self.nginx_version
    }

    /// One memory page in bytes (`nginx_page_size`, default 4k).
    pub fn page_size(&self) -> u64 {
        self.nginx_page_size.map_or(4096, |s| s.0)
    }
}

/// Severity keys must cover a rule: a typo would otherwise silently change
/// nothing.
fn severity_map<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, Level>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = BTreeMap<String, Level>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a map of rule id, prefix or name to error, warning, info or off")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some(key) = map.next_key::<String>()? {
                if !registry::is_known(&key) {
                    return Err(de::Error::custom(format_args!(
                        "severity: `{key}` is no rule id, prefix or name (see `gatecheck rules`)"
                    )));
                }
                let level = map.next_value::<Level>()?;
                out.insert(key, level);
            }
            Ok(out)
        }
    }
    d.deserialize_map(V)
}

/// The `options` of the settings: for each rule given, its options read
/// into the rule's own type ([`crate::lint::rule::Configurable`]).
#[derive(Clone, Default)]
pub struct RuleOptions(BTreeMap<&'static str, Arc<dyn Any + Send + Sync>>);

impl RuleOptions {
    /// The options given for rule `id`, when they are of type `T`.
    pub fn get<T: 'static>(&self, id: &str) -> Option<&T> {
        self.0.get(id).and_then(|o| o.downcast_ref::<T>())
    }
}

impl fmt::Debug for RuleOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

impl<'de> Deserialize<'de> for RuleOptions {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RuleOptions;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of rule id or name to that rule's options")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RuleOptions, A::Error> {
                let mut out = BTreeMap::new();
                while let Some(key) = map.next_key::<String>()? {
                    let Some(rule) = registry::find(&key) else {
                        return Err(de::Error::custom(format_args!(
                            "options: `{key}` is no rule id or name (see `gatecheck rules`)"
                        )));
                    };
                    let id = rule.meta().id;
                    let o = map.next_value_seed(Seed(id))?;
                    if out.insert(id, o).is_some() {
                        return Err(de::Error::custom(format_args!(
                            "options: {id} is given twice (by id and by name)"
                        )));
                    }
                }
                Ok(RuleOptions(out))
            }
        }
        struct Seed(&'static str);
        impl<'de> de::DeserializeSeed<'de> for Seed {
            type Value = Arc<dyn Any + Send + Sync>;
            fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                registry::deserialize_options(self.0, d)
            }
        }
        d.deserialize_map(V)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::lint::rules::nginx::long_connect_timeout::LongConnectTimeoutOptions;

    #[test]
    fn yaml_and_toml_agree() {
        let y = Settings::from_str_as(
            "nginx_version: '1.22.1'\nseverity: {NGX-TMO-002: off}\noptions:\n  NGX-TMO-001: {max_connect_timeout: 30s}\nignore:\n  - {rule: NGX-LOG-003, path: 'a/*.conf'}\nhop:\n  - {name: cdn, timeout: 30s}\n",
            false,
        )
        .unwrap();
        let t = Settings::from_str_as(
            "nginx_version = '1.22.1'\n[severity]\nNGX-TMO-002 = 'off'\n[options.long-connect-timeout]\nmax_connect_timeout = '30s'\n[[ignore]]\nrule = 'NGX-LOG-003'\npath = 'a/*.conf'\n[[hop]]\nname = 'cdn'\ntimeout = '30s'\n",
            true,
        )
        .unwrap();
        for s in [&y, &t] {
            assert_eq!(s.nginx_version(), Some(Version(1, 22, 1)));
            assert_eq!(s.severity["NGX-TMO-002"], Level::Off);
            let o = s.options.get::<LongConnectTimeoutOptions>("NGX-TMO-001");
            assert_eq!(
                o.map(|o| o.max_connect_timeout),
                Some(Time(Duration::from_secs(30)))
            );
            assert_eq!(s.ignore[0].path.as_deref(), Some("a/*.conf"));
            assert_eq!(s.hop[0].timeout, Some(Time(Duration::from_secs(30))));
        }
        assert_eq!(y.page_size(), 4096);
    }

    /// Every unknown key and bad value is refused with the line it is on
    /// (line 2 in each case: line 1 is valid).
    #[test]
    fn unknown_keys_and_bad_values_are_errors_with_their_line() {
        for (text, what) in [
            (
                "nginx_version: '1.22'\nnginx_versoin: 1\n",
                "unknown field `nginx_versoin`",
            ),
            (
                "nginx_version: '1.22'\nseverity: {NGX-TMO-001: loud}\n",
                "error, warning, info or off",
            ),
            (
                "nginx_version: '1.22'\nseverity: {NGX-XYZ: off}\n",
                "no rule id, prefix or name",
            ),
            (
                "nginx_version: '1.22'\noptions: {NGX-NOPE-001: {a: 1}}\n",
                "no rule id or name",
            ),
            (
                "nginx_version: '1.22'\noptions: {NGX-TMO-001: {max_conect_timeout: 1s}}\n",
                "unknown field `max_conect_timeout`",
            ),
            (
                "nginx_version: '1.22'\noptions: {NGX-TMO-001: {max_connect_timeout: soon}}\n",
                "a time",
            ),
            (
                "nginx_version: '1.22'\noptions: {NGX-DNS-001: {max: 1}}\n",
                "unknown field `max`",
            ),
            (
                "nginx_version: '1.22'\noptions: {NGX-TMO-001: {}, long-connect-timeout: {}}\n",
                "given twice",
            ),
            ("nginx_version: '1.22'\nnginx_page_size: huge\n", "a size"),
            (
                "nginx_version: '1.22'\nhop: [{name: cdn, timeout: 30x}]\n",
                "a time",
            ),
            (
                "nginx_version: '1.22'\nhop: [{name: cdn, kind: cnd}]\n",
                "unknown variant `cnd`",
            ),
        ] {
            let e = Settings::from_str_as(text, false).unwrap_err();
            assert!(e.contains(what) && e.contains("line 2"), "{text:?}: {e}");
        }
        let e = Settings::from_str_as(
            "nginx_version = '1.22'\n[options.NGX-TMO-001]\nmax_connect_timeout = 'soon'\n",
            true,
        )
        .unwrap_err();
        assert!(e.contains("a time") && e.contains("line 3"), "{e}");
    }

    #[test]
    fn every_rule_takes_its_documented_options_and_no_others() {
        // An empty table is valid for every rule; the keys listed under
        // `## Options` are the fields of its options type.
        for r in registry::all() {
            let m = r.meta();
            let text = format!("options: {{{}: {{}}}}\n", m.id);
            assert!(Settings::from_str_as(&text, false).is_ok(), "{}", m.id);
            let doc = m.section("## Options").unwrap_or_default();
            for line in doc.lines().filter(|l| l.starts_with("- `")) {
                let key = line[3..].split('`').next().unwrap_or_default();
                let text = format!("options: {{{}: {{{key}: 1}}}}\n", m.id);
                let e = Settings::from_str_as(&text, false)
                    .err()
                    .unwrap_or_default();
                assert!(!e.contains("unknown field"), "{}: {key}: {e}", m.id);
            }
        }
    }
}
