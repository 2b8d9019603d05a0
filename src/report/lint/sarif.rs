//! SARIF 2.1.0 (OASIS): one run, the rule catalogue in
//! `tool.driver.rules` (descriptions and help from each rule's doc), one
//! result per finding. Levels: error → `error`, warning → `warning`, info →
//! `note`. Columns count Unicode code points (`columnKind`).

use std::io::{self, Write};

use serde_json::json;

use crate::lint::diagnostic::{PARSE_ERROR, UNUSED_SUPPRESSION};
use crate::lint::{registry, Diagnostic, Severity};
use crate::source::SourceMap;

use super::locate;

/// The SARIF schema URI written into `$schema`.
pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

fn uri(path: &str) -> String {
    let mut out = String::new();
    for c in path.chars() {
        match c {
            ' ' => out.push_str("%20"),
            '%' => out.push_str("%25"),
            '#' => out.push_str("%23"),
            '?' => out.push_str("%3F"),
            c => out.push(c),
        }
    }
    if path.starts_with('/') {
        format!("file://{out}")
    } else {
        out
    }
}

/// The SARIF log as a JSON value.
pub fn to_value(diags: &[Diagnostic], sources: &SourceMap) -> serde_json::Value {
    let mut rules: Vec<serde_json::Value> = registry::all()
        .iter()
        .map(|r| {
            let m = r.meta();
            json!({
                "id": m.id,
                "name": m.name,
                "shortDescription": { "text": m.summary() },
                "fullDescription": { "text": m.section("## What it does").unwrap_or_default() },
                "help": { "text": m.doc_text(), "markdown": m.doc_text() },
                "defaultConfiguration": { "level": level(m.severity) },
                "properties": { "category": m.category.as_str(), "proxy": m.proxy.as_str(), "tags": [m.proxy.as_str(), m.category.as_str()] },
            })
        })
        .collect();
    for (id, name, text, sev) in [
        (
            PARSE_ERROR,
            "parse-error",
            "The config could not be read or parsed.",
            Severity::Error,
        ),
        (
            UNUSED_SUPPRESSION,
            "unused-suppression",
            "A `gatecheck: ignore` entry suppresses nothing.",
            Severity::Info,
        ),
    ] {
        rules.push(json!({
            "id": id,
            "name": name,
            "shortDescription": { "text": text },
            "defaultConfiguration": { "level": level(sev) },
        }));
    }
    let index = |id: &str| rules.iter().position(|r| r["id"] == id);
    let results: Vec<_> = diags
        .iter()
        .map(|d| {
            let loc = locate(sources, d.span);
            let mut text = d.message.clone();
            if let Some(h) = &d.help {
                text.push_str("\nhelp: ");
                text.push_str(h);
            }
            let mut r = json!({
                "ruleId": d.rule,
                "level": level(d.severity),
                "message": { "text": text },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": uri(&loc.path) },
                        "region": {
                            "startLine": loc.line,
                            "startColumn": loc.column,
                            "endLine": loc.end_line,
                            "endColumn": loc.end_column.max(if loc.end_line == loc.line { loc.column } else { 1 }),
                        }
                    }
                }],
            });
            if let Some(i) = index(d.rule) {
                r["ruleIndex"] = json!(i);
            }
            r
        })
        .collect();
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "gatecheck",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    })
}

/// Write the SARIF log, pretty-printed.
pub fn emit(w: &mut dyn Write, diags: &[Diagnostic], sources: &SourceMap) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, &to_value(diags, sources))?;
    writeln!(w)
}
