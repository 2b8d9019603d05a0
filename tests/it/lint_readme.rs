//! The README's rule table is generated from the registry: this test fails
//! when they disagree and prints the table to paste (or rewrites it with
//! `GATECHECK_UPDATE_README=1`). Only the text between
//! `<!-- lint-rules:begin -->` and `<!-- lint-rules:end -->` (inside the
//! `<!-- lint:begin -->` … `<!-- lint:end -->` section) is generated.

use gatecheck::report::lint::catalogue;

const BEGIN: &str = "<!-- lint-rules:begin -->\n";
const END: &str = "<!-- lint-rules:end -->";

#[test]
fn readme_rule_table_matches_registry() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
    let readme = std::fs::read_to_string(path).expect("README.md");
    let lint_start = readme
        .find("<!-- lint:begin -->")
        .expect("lint:begin marker");
    let lint_end = readme.find("<!-- lint:end -->").expect("lint:end marker");
    let start = readme[lint_start..lint_end]
        .find(BEGIN)
        .map(|i| lint_start + i + BEGIN.len())
        .expect("lint-rules:begin marker inside the lint section");
    let end = readme[start..lint_end]
        .find(END)
        .map(|i| start + i)
        .expect("lint-rules:end marker inside the lint section");
    let expected = catalogue::markdown_table();
    if readme[start..end] != expected {
        if std::env::var_os("GATECHECK_UPDATE_README").is_some() {
            let updated = format!("{}{}{}", &readme[..start], expected, &readme[end..]);
            std::fs::write(path, updated).expect("write README.md");
            return;
        }
        panic!(
            "README rule table is out of date; paste this between the lint-rules markers \
             (or run with GATECHECK_UPDATE_README=1):\n\n{expected}"
        );
    }
}
