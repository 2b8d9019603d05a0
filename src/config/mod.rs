//! Config text → syntax tree with spans → normalized proxy model.
//!
//! [`load`] reads each entry file into the [`SourceMap`], detects which proxy
//! it is for ([`detect`]), and hands it to that proxy's parser:
//! [`nginx::parse`], [`haproxy::parse`] or [`envoy::parse()`]. Every parser has
//! the same shape — `fn parse(&mut SourceMap, FileId, &LoadOptions) -> Parsed`
//! — and reports problems as [`ConfigError`]s with spans while still
//! returning as much of the model as it could build, so the rest of a broken
//! config is still linted.
//!
//! Imports `source` only; never `lint` or `report`.

pub mod envoy;
pub mod haproxy;
pub mod ladder;
pub mod model;
pub mod names;
pub mod nginx;
/// nginx's units, moved to [`nginx::units`]; this path stays for code written
/// before the move.
pub use nginx::units;

use std::path::{Path, PathBuf};

use crate::source::{FileId, SourceMap, Span};

pub use model::{ProxyKind, ProxyModel};

/// Options that change how configs are read.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Base directory for relative nginx `include`s (like `nginx -p`);
    /// default: the directory of the entry file, as nginx does.
    pub prefix: Option<PathBuf>,
    /// nginx version whose defaults apply (`None` = newest documented
    /// behaviour).
    pub nginx_version: Option<Version>,
    /// Leave nginx `include`s unread (fuzzing and benches of the parser
    /// alone).
    pub no_includes: bool,
    /// An nginx `include` naming no readable file is an error (as for
    /// `nginx -t`) instead of a finding that says what was not checked.
    pub strict_includes: bool,
    /// The block an nginx entry file is read in (`--context`); `None` =
    /// inferred from what the file holds.
    pub nginx_context: Option<nginx::grammar::FileContext>,
}

/// A dotted version such as `1.22.1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version(pub u32, pub u32, pub u32);

impl Version {
    /// Parse `1.22.1` (missing parts are 0).
    pub fn parse(s: &str) -> Option<Version> {
        let mut it = s.trim().split('.');
        let a = it.next()?.parse().ok()?;
        let b = it.next().map(|x| x.parse().ok()).unwrap_or(Some(0))?;
        let c = it.next().map(|x| x.parse().ok()).unwrap_or(Some(0))?;
        if it.next().is_some() {
            return None;
        }
        Some(Version(a, b, c))
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

/// A problem reading or parsing a config. Each has the span it is about
/// (except when the entry file itself cannot be read).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A file could not be read.
    #[error("cannot read {}: {message}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error text.
        message: String,
        /// The `include` that named it, if any.
        at: Option<Span>,
    },
    /// The kind of config could not be told from its name or content.
    #[error("cannot tell whether {} is an nginx, HAProxy or Envoy config", path.display())]
    UnknownKind {
        /// The file.
        path: PathBuf,
    },
    /// A block `{` without its `}` before the end of the file. The message
    /// for people names the line of `open`: `report::config_error_message`.
    #[error("unexpected end of file, expecting \"}}\"")]
    UnclosedBlock {
        /// Where the file ended (where nginx reports it).
        at: Span,
        /// The `{` that is not closed.
        open: Span,
    },
    /// A quoted string without its closing quote (the message for people
    /// names the line of `open`).
    #[error("unterminated quoted string")]
    UnclosedQuote {
        /// Where the file ended.
        at: Span,
        /// The opening quote.
        open: Span,
    },
    /// A directive without `;` before the end of the file.
    #[error("unexpected end of file, expecting \";\" or \"}}\"")]
    UnexpectedEof {
        /// Where the file ended.
        at: Span,
    },
    /// A `}` that closes nothing, or other unexpected character.
    #[error("unexpected \"{ch}\"")]
    Unexpected {
        /// The character.
        ch: char,
        /// Where.
        at: Span,
    },
    /// A file that (indirectly) includes itself.
    #[error("include cycle: {} is already being read", path.display())]
    IncludeCycle {
        /// The `include` directive.
        at: Span,
        /// The file.
        path: PathBuf,
    },
    /// A syntax error in a `haproxy.cfg` (its span is the word or line).
    #[error(transparent)]
    Haproxy(#[from] haproxy::HaproxyError),
    /// An Envoy bootstrap that does not load as YAML/JSON.
    #[error(transparent)]
    Envoy(#[from] envoy::LoadError),
    /// Any other syntax error.
    #[error("{message}")]
    Syntax {
        /// Where.
        at: Span,
        /// What is wrong.
        message: String,
    },
}

impl ConfigError {
    /// The span the error is about, when there is one.
    pub fn span(&self) -> Option<Span> {
        match self {
            ConfigError::Io { at, .. } => *at,
            ConfigError::UnknownKind { .. } => None,
            ConfigError::UnclosedBlock { at, .. }
            | ConfigError::UnclosedQuote { at, .. }
            | ConfigError::UnexpectedEof { at }
            | ConfigError::Unexpected { at, .. }
            | ConfigError::IncludeCycle { at, .. }
            | ConfigError::Syntax { at, .. } => Some(*at),
            ConfigError::Haproxy(e) => Some(e.span()),
            ConfigError::Envoy(e) => Some(e.span()),
        }
    }

    /// The span a message for people also points at, with what it is: the
    /// `{` or quote an unclosed block or string was opened at.
    pub fn opened_at(&self) -> Option<(&'static str, Span)> {
        match self {
            ConfigError::UnclosedBlock { open, .. } => Some(("block opened", *open)),
            ConfigError::UnclosedQuote { open, .. } => Some(("opened", *open)),
            ConfigError::Envoy(envoy::LoadError::DuplicateKey { first, .. }) => {
                Some(("first set", *first))
            }
            _ => None,
        }
    }

    /// The file the error is about (by span, or by path when no span).
    pub fn path<'a>(&'a self, sources: &'a SourceMap) -> Option<&'a Path> {
        match (self.span(), self) {
            (Some(s), _) => Some(sources.path(s.file)),
            (None, ConfigError::Io { path, .. }) | (None, ConfigError::UnknownKind { path }) => {
                Some(path)
            }
            _ => None,
        }
    }
}

/// What a parser returns: the model it could build (if any) and every
/// problem it met.
#[derive(Debug, Default)]
pub struct Parsed {
    /// The model, possibly partial when there were errors.
    pub model: Option<ProxyModel>,
    /// Problems, in file order.
    pub errors: Vec<ConfigError>,
}

/// What [`load`] returns for all entry files.
#[derive(Debug, Default)]
pub struct Loaded {
    /// One model per entry file that could be parsed (even partially).
    pub models: Vec<ProxyModel>,
    /// Every problem met, in input order.
    pub errors: Vec<ConfigError>,
    /// Entry files that are not proxy configs and were not linted, with
    /// why (an HAProxy SPOE file).
    pub skipped: Vec<(PathBuf, &'static str)>,
}

/// Tell the proxy kind of `path` from its name and content; the second value
/// says why (for `gatecheck formats` and error messages).
pub fn detect(path: &Path, text: &[u8]) -> Option<(ProxyKind, &'static str)> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let head = &text[..text.len().min(64 * 1024)];
    let head_str = String::from_utf8_lossy(head);
    let envoyish = [
        "static_resources",
        "dynamic_resources",
        "\"@type\"",
        "@type:",
    ]
    .iter()
    .any(|k| head_str.contains(k))
        || (head_str.contains("listeners") && head_str.contains("clusters"));
    if matches!(ext.as_str(), "yaml" | "yml" | "json") {
        return Some((ProxyKind::Envoy, "YAML/JSON file name"));
    }
    if envoyish && (head_str.trim_start().starts_with('{') || !head_str.contains(';')) {
        return Some((ProxyKind::Envoy, "Envoy bootstrap keys in content"));
    }
    if name.contains("haproxy") || ext == "cfg" {
        return Some((ProxyKind::Haproxy, "haproxy.cfg-style file name"));
    }
    if name.contains("nginx") || ext == "conf" {
        return Some((ProxyKind::Nginx, "nginx-style file name"));
    }
    // Content: HAProxy sections start at column 0 without `;`/`{`.
    let mut hap = 0;
    let mut ngx = 0;
    for line in head_str.lines() {
        let t = line.trim();
        if t.starts_with('#') || t.is_empty() {
            continue;
        }
        let first = t.split_whitespace().next().unwrap_or("");
        if !line.starts_with([' ', '\t'])
            && matches!(
                first,
                "global" | "defaults" | "frontend" | "backend" | "listen" | "resolvers"
            )
            && !t.ends_with('{')
        {
            hap += 1;
        }
        if t.ends_with(';') || t.ends_with('{') || t.ends_with('}') {
            ngx += 1;
        }
    }
    if hap > 0 && hap * 4 >= ngx {
        return Some((ProxyKind::Haproxy, "HAProxy section keywords in content"));
    }
    if ngx > 0 {
        return Some((ProxyKind::Nginx, "nginx directives (`;`, `{`) in content"));
    }
    if envoyish {
        return Some((ProxyKind::Envoy, "Envoy bootstrap keys in content"));
    }
    None
}

/// Read, detect and parse every entry file. I/O and syntax problems are
/// collected, never fatal: the other files (and the rest of a broken file)
/// are still modelled.
///
/// An nginx entry file that another entry includes (a site file given
/// beside the nginx.conf that includes it) is linted only as part of the
/// including config, in the context it is included in, so its findings are
/// neither doubled nor read in a guessed context.
pub fn load(paths: &[PathBuf], opts: &LoadOptions, sources: &mut SourceMap) -> Loaded {
    let mut out = Loaded::default();
    let mut per_file: Vec<(Option<PathBuf>, Parsed)> = Vec::new();
    for path in paths {
        let text = match std::fs::read(path) {
            Ok(t) => t,
            Err(e) => {
                let errors = vec![ConfigError::Io {
                    path: path.clone(),
                    message: e.to_string(),
                    at: None,
                }];
                per_file.push((
                    None,
                    Parsed {
                        model: None,
                        errors,
                    },
                ));
                continue;
            }
        };
        if haproxy::spoe::is_spoe(&text) {
            out.skipped.push((path.clone(), haproxy::spoe::SKIP_REASON));
            continue;
        }
        let kind = detect(path, &text);
        let file = sources.add(path.clone(), text);
        let parsed = match kind {
            Some((ProxyKind::Nginx, _)) => nginx::parse(sources, file, opts),
            Some((ProxyKind::Haproxy, _)) => haproxy::parse(sources, file, opts),
            Some((ProxyKind::Envoy, _)) => envoy::parse(sources, file, opts),
            None => Parsed {
                model: None,
                errors: vec![ConfigError::UnknownKind { path: path.clone() }],
            },
        };
        let canon = matches!(kind, Some((ProxyKind::Nginx, _)))
            .then(|| std::fs::canonicalize(path).unwrap_or_else(|_| path.clone()));
        per_file.push((canon, parsed));
    }
    // Files that some nginx entry read as an include (not as its entry).
    let included: std::collections::HashSet<PathBuf> = per_file
        .iter()
        .filter_map(|(_, p)| p.model.as_ref())
        .filter(|m| m.kind == ProxyKind::Nginx)
        .flat_map(|m| m.files.iter().skip(1))
        .map(|f| {
            let p = sources.path(*f);
            std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
        })
        .collect();
    for (canon, parsed) in per_file {
        if canon.is_some_and(|c| included.contains(&c)) {
            continue;
        }
        out.errors.extend(parsed.errors);
        out.models.extend(parsed.model);
    }
    out
}

/// Span of the first byte of `file` (for findings about the whole file).
pub fn file_start(file: FileId) -> Span {
    Span::new(file, 0, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_by_name_and_content() {
        let d = |p: &str, t: &str| detect(Path::new(p), t.as_bytes()).map(|x| x.0);
        assert_eq!(d("nginx.conf", ""), Some(ProxyKind::Nginx));
        assert_eq!(d("haproxy.cfg", ""), Some(ProxyKind::Haproxy));
        assert_eq!(d("envoy.yaml", ""), Some(ProxyKind::Envoy));
        assert_eq!(
            d("x", "global\n  maxconn 10\ndefaults\n  mode http\n"),
            Some(ProxyKind::Haproxy)
        );
        assert_eq!(
            d("x", "events {}\nhttp { server { listen 80; } }\n"),
            Some(ProxyKind::Nginx)
        );
        assert_eq!(
            d("x", "{\"static_resources\": {\"listeners\": []}}"),
            Some(ProxyKind::Envoy)
        );
        assert_eq!(d("x", "hello"), None);
    }

    #[test]
    fn version_parses() {
        assert_eq!(Version::parse("1.22.1"), Some(Version(1, 22, 1)));
        assert_eq!(Version::parse("1.29"), Some(Version(1, 29, 0)));
        assert_eq!(Version::parse("x"), None);
        assert!(Version(1, 29, 7) > Version(1, 22, 1));
    }
}
