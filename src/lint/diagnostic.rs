//! What a rule reports: [`Diagnostic`] and [`Severity`].

use crate::source::Span;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// Hygiene.
    Info,
    /// Raises 502 risk or hides where a 502 comes from.
    Warning,
    /// Config is invalid or will produce 502s.
    Error,
}

impl Severity {
    /// `error`, `warning` or `info`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }

    /// Parse `error`, `warning`/`warnings`/`warn`, `info`.
    pub fn parse(s: &str) -> Option<Severity> {
        match s.trim().to_ascii_lowercase().as_str() {
            "error" | "errors" => Some(Severity::Error),
            "warning" | "warnings" | "warn" => Some(Severity::Warning),
            "info" | "infos" | "note" => Some(Severity::Info),
            _ => None,
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Rule id used for config parse errors (not a registered rule; cannot be
/// selected away).
pub const PARSE_ERROR: &str = "PARSE";
/// Rule id used for unused suppressions.
pub const UNUSED_SUPPRESSION: &str = "UNUSED-IGNORE";

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Rule id (`NGX-DNS-001`), or [`PARSE_ERROR`] / [`UNUSED_SUPPRESSION`].
    pub rule: &'static str,
    /// Rule name (`hostname-resolved-once`).
    pub name: &'static str,
    /// Effective severity (after settings).
    pub severity: Severity,
    /// What it points at.
    pub span: Span,
    /// What is wrong, with the actual values.
    pub message: String,
    /// How to fix it.
    pub help: Option<String>,
}

impl Diagnostic {
    /// Deterministic order: file, offset, rule id, message.
    pub fn sort_key(&self) -> (u32, u32, &'static str, &str) {
        (self.span.file.0, self.span.start, self.rule, &self.message)
    }
}
