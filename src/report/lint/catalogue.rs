//! The rule catalogue for people: the plain-text list of `gatecheck rules`,
//! its JSON, `gatecheck explain`, and the README's Markdown table.

use serde_json::json;

use crate::lint::registry;
use crate::lint::RuleMeta;

/// `gatecheck rules`: one line per rule.
pub fn text() -> String {
    let mut out = String::new();
    for r in registry::all() {
        let m = r.meta();
        out += &format!(
            "{:<12} {:<8} {:<40} {}{}\n",
            m.id,
            m.severity.as_str(),
            m.name,
            m.summary(),
            if m.default_on { "" } else { " [pedantic]" }
        );
    }
    out
}

/// `gatecheck rules --json`.
pub fn json() -> serde_json::Value {
    let v: Vec<_> = registry::all()
        .iter()
        .map(|r| {
            let m = r.meta();
            json!({
                "id": m.id,
                "name": m.name,
                "severity": m.severity.as_str(),
                "category": m.category.as_str(),
                "proxy": m.proxy.as_str(),
                "since": m.since,
                "default_on": m.default_on,
                "summary": m.summary(),
                "doc": m.doc_text(),
            })
        })
        .collect();
    serde_json::Value::Array(v)
}

/// `gatecheck explain ID`.
pub fn explain(m: &RuleMeta) -> String {
    format!(
        "{} ({}) · {} · {} · since {}\n\n{}",
        m.id,
        m.name,
        m.severity.as_str(),
        m.proxy.as_str(),
        m.since,
        m.doc_text()
    )
}

/// The README rule table (Markdown), generated from the registry.
pub fn markdown_table() -> String {
    let mut out =
        String::from("| id | name | severity | default on | summary |\n|---|---|---|---|---|\n");
    for r in registry::all() {
        let m = r.meta();
        out += &format!(
            "| `{}` | `{}` | {} | {} | {} |\n",
            m.id,
            m.name,
            m.severity.as_str(),
            if m.default_on { "yes" } else { "pedantic" },
            m.summary().replace('|', "\\|")
        );
    }
    out
}
