//! SARIF output checked by real consumers: the OASIS SARIF 2.1.0 JSON schema
//! (`fixtures/lint/sarif/sarif-schema-2.1.0.json`, copied unchanged from the
//! `serde-sarif` 0.8.0 package on crates.io, `src/schema.json`) through the
//! `jsonschema` validator. (`serde-sarif`'s typed model, generated from that
//! same schema, was a second reader here: it checked nothing the schema does
//! not, and its build-time code generation and derives were ≈ 8 % of a clean
//! test build: README, "Test build time".)

use std::path::Path;
use std::process::Command;

fn sarif_for(files: &[&str]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_gatecheck"))
        .arg("lint")
        .arg("--format")
        .arg("sarif")
        .args(files)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run gatecheck");
    serde_json::from_slice(&out.stdout).expect("SARIF is JSON")
}

#[test]
fn sarif_validates_against_the_2_1_0_schema() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let schema: serde_json::Value = serde_json::from_slice(
        &std::fs::read(root.join("fixtures/lint/sarif/sarif-schema-2.1.0.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let cases: &[&[&str]] = &[
        // Findings of every severity, a parse error, an unused suppression.
        &[
            "fixtures/lint/nginx/NGX-VAL-001/bad.conf",
            "fixtures/lint/nginx/NGX-TMO-002/bad.conf",
            "fixtures/lint/nginx/NGX-LOG-001/bad.conf",
            "fixtures/lint/nginx/parse/err_unclosed_quote.conf",
            "fixtures/lint/nginx/parse/ok_non_utf8.conf",
        ],
        // No findings at all.
        &[
            "fixtures/lint/nginx/NGX-VAL-001/good.conf",
            "--select",
            "NGX-VAL",
        ],
    ];
    for files in cases {
        let log = sarif_for(files);
        let errors: Vec<String> = validator
            .iter_errors(&log)
            .map(|e| format!("{} at {}", e, e.instance_path))
            .collect();
        assert!(errors.is_empty(), "{files:?}:\n{}", errors.join("\n"));
        let runs = log["runs"].as_array().expect("runs is an array");
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0]["tool"]["driver"]["name"], "gatecheck");
    }
    // The validator does reject a broken log (so the check above means something).
    let mut broken = sarif_for(&["fixtures/lint/nginx/NGX-VAL-001/bad.conf"]);
    broken["runs"][0]["results"][0]["level"] = "fatal".into();
    broken["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] =
        0.into();
    assert_eq!(validator.iter_errors(&broken).count(), 2);
}
