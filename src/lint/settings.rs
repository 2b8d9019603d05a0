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

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::config::units::{parse_size, parse_time};
use crate::config::Version;

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
    /// `cdn`, `lb`, `proxy` or `app`.
    #[serde(default)]
    pub kind: Option<String>,
    /// Upstream wait of this hop (`30s`).
    #[serde(default)]
    pub timeout: Option<String>,
    /// Keep-alive (idle) timeout this hop applies to connections it serves.
    #[serde(default)]
    pub keepalive_timeout: Option<String>,
    /// Attempts per request (1 = no retry).
    #[serde(default)]
    pub attempts: Option<u32>,
}

/// All settings. Every field is optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// nginx version for version-gated rules.
    pub nginx_version: Option<String>,
    /// HAProxy version for version-gated rules.
    pub haproxy_version: Option<String>,
    /// Envoy version for version-gated rules.
    pub envoy_version: Option<String>,
    /// Size of one memory page for nginx's page-sized defaults (default 4k).
    pub nginx_page_size: Option<String>,
    /// Per-rule severity override (`error`, `warning`, `info`, `off`),
    /// keyed by id, prefix or name.
    pub severity: BTreeMap<String, String>,
    /// Per-rule options, keyed by rule id or name.
    pub options: BTreeMap<String, BTreeMap<String, serde_json::Value>>,
    /// Suppressions by path (for files that cannot hold comments).
    pub ignore: Vec<IgnoreEntry>,
    /// Hops gatecheck cannot parse, outer → inner.
    pub hop: Vec<Hop>,
    /// Where the settings came from (not a key).
    #[serde(skip)]
    pub source: Option<PathBuf>,
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

    /// `nginx_version`, parsed.
    pub fn nginx_version(&self) -> Option<Version> {
        self.nginx_version.as_deref().and_then(Version::parse)
    }

    /// One memory page in bytes (`nginx_page_size`, default 4k).
    pub fn page_size(&self) -> u64 {
        self.nginx_page_size
            .as_deref()
            .and_then(parse_size)
            .unwrap_or(4096)
    }

    /// Check values that rules would otherwise silently ignore.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(v) = &self.nginx_version {
            Version::parse(v).ok_or(format!("nginx_version: \"{v}\" is not a version"))?;
        }
        if let Some(v) = &self.nginx_page_size {
            parse_size(v).ok_or(format!("nginx_page_size: \"{v}\" is not a size"))?;
        }
        for (k, v) in &self.severity {
            if v != "off" && crate::lint::diagnostic::Severity::parse(v).is_none() {
                return Err(format!(
                    "severity.{k}: \"{v}\" is not error, warning, info or off"
                ));
            }
        }
        Ok(())
    }

    fn option(&self, id: &str, name: &str, key: &str) -> Option<&serde_json::Value> {
        self.options
            .get(id)
            .or_else(|| self.options.get(name))
            .and_then(|m| m.get(key))
    }

    /// A duration option of rule `id`/`name` (string with unit, or seconds).
    pub fn option_duration(&self, id: &str, name: &str, key: &str) -> Option<Duration> {
        match self.option(id, name, key)? {
            serde_json::Value::String(s) => parse_time(s),
            serde_json::Value::Number(n) => n
                .as_f64()
                .filter(|f| *f >= 0.0)
                .map(Duration::from_secs_f64),
            _ => None,
        }
    }

    /// A size option (string with k/m/g suffix, or bytes).
    pub fn option_size(&self, id: &str, name: &str, key: &str) -> Option<u64> {
        match self.option(id, name, key)? {
            serde_json::Value::String(s) => parse_size(s),
            serde_json::Value::Number(n) => n.as_u64(),
            _ => None,
        }
    }

    /// An integer option.
    pub fn option_u64(&self, id: &str, name: &str, key: &str) -> Option<u64> {
        match self.option(id, name, key)? {
            serde_json::Value::Number(n) => n.as_u64(),
            serde_json::Value::String(s) => s.parse().ok(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_and_toml_agree() {
        let y = Settings::from_str_as(
            "nginx_version: '1.22.1'\nseverity: {NGX-TMO-002: off}\noptions:\n  NGX-TMO-001: {max_connect_timeout: 30s}\nignore:\n  - {rule: NGX-LOG-003, path: 'a/*.conf'}\nhop:\n  - {name: cdn, timeout: 30s}\n",
            false,
        )
        .unwrap();
        let t = Settings::from_str_as(
            "nginx_version = '1.22.1'\n[severity]\nNGX-TMO-002 = 'off'\n[options.NGX-TMO-001]\nmax_connect_timeout = '30s'\n[[ignore]]\nrule = 'NGX-LOG-003'\npath = 'a/*.conf'\n[[hop]]\nname = 'cdn'\ntimeout = '30s'\n",
            true,
        )
        .unwrap();
        for s in [&y, &t] {
            assert_eq!(s.nginx_version(), Some(Version(1, 22, 1)));
            assert_eq!(s.severity["NGX-TMO-002"], "off");
            assert_eq!(
                s.option_duration("NGX-TMO-001", "x", "max_connect_timeout"),
                Some(Duration::from_secs(30))
            );
            assert_eq!(s.ignore[0].path.as_deref(), Some("a/*.conf"));
            assert_eq!(s.hop[0].timeout.as_deref(), Some("30s"));
            assert!(s.validate().is_ok());
        }
        assert_eq!(y.page_size(), 4096);
    }

    #[test]
    fn unknown_keys_and_bad_values_are_errors() {
        assert!(Settings::from_str_as("nginx_versoin: 1\n", false).is_err());
        let s = Settings::from_str_as("severity: {NGX-TMO-001: loud}\n", false).unwrap();
        assert!(s.validate().is_err());
    }
}
