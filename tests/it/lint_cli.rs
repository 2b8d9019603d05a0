//! `gatecheck lint` / `rules` / `explain` as a user runs them: output in the
//! four formats, exit codes 0/1/2, selection, suppressions and settings.

use std::path::Path;
use std::process::{Command, Output};

fn gatecheck(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gatecheck"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run gatecheck")
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The findings of `gatecheck lint --format json ARGS`, run in `cwd`, and
/// the exit code.
fn lint_json_code(args: &[&str], cwd: &Path) -> (Vec<serde_json::Value>, Option<i32>) {
    let mut all = vec!["lint", "--format", "json"];
    all.extend_from_slice(args);
    let o = gatecheck(&all, cwd);
    match serde_json::from_slice(&o.stdout) {
        Ok(serde_json::Value::Array(a)) => (a, o.status.code()),
        other => panic!("not a JSON array ({other:?}): {}", stdout(&o)),
    }
}

/// The findings of `gatecheck lint --format json ARGS`, run in `cwd`.
fn lint_json(args: &[&str], cwd: &Path) -> Vec<serde_json::Value> {
    lint_json_code(args, cwd).0
}

/// Field `key` of every finding, as text.
fn field<'a>(findings: &'a [serde_json::Value], key: &str) -> Vec<&'a str> {
    findings.iter().map(|d| d[key].as_str().unwrap()).collect()
}

const BAD_TMO: &str = "fixtures/lint/nginx/NGX-TMO-001/bad.conf";
const BAD_VAL: &str = "fixtures/lint/nginx/NGX-VAL-001/bad.conf";
const GOOD_VAL: &str = "fixtures/lint/nginx/NGX-VAL-001/good.conf";

#[test]
fn exit_codes() {
    // Only warnings: exit 0 by default, 1 with --deny warnings.
    let o = gatecheck(&["lint", "--select", "NGX-TMO-001", BAD_TMO], root());
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("warning[NGX-TMO-001]"));
    let o = gatecheck(
        &[
            "lint",
            "--select",
            "NGX-TMO-001",
            "--deny",
            "warnings",
            BAD_TMO,
        ],
        root(),
    );
    assert_eq!(o.status.code(), Some(1));
    // An error finding: exit 1.
    let o = gatecheck(&["lint", BAD_VAL], root());
    assert_eq!(o.status.code(), Some(1));
    // Clean at the failing level.
    let o = gatecheck(&["lint", "--select", "NGX-VAL", GOOD_VAL], root());
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("All checks passed."));
    // Input and usage errors: exit 2.
    let o = gatecheck(
        &["lint", "fixtures/lint/nginx/parse/err_stray_brace.conf"],
        root(),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stdout(&o).contains("err_stray_brace.conf:8:1"),
        "{}",
        stdout(&o)
    );
    let o = gatecheck(&["lint", "does/not/exist.conf"], root());
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot read does/not/exist.conf"));
    let o = gatecheck(&["lint", "--select", "NOPE-1", GOOD_VAL], root());
    assert_eq!(o.status.code(), Some(2));
    let o = gatecheck(&["lint", "--deny", "loud", GOOD_VAL], root());
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn json_format() {
    let a = lint_json(&["--select", "NGX-VAL-001", BAD_VAL], root());
    assert_eq!(a.len(), 1);
    assert_eq!(a[0]["rule"], "NGX-VAL-001");
    assert_eq!(a[0]["severity"], "error");
    assert_eq!(a[0]["file"], BAD_VAL);
    assert_eq!(a[0]["line"], 9);
    assert_eq!(a[0]["column"], 32);
    assert!(a[0]["help"].as_str().unwrap().contains("30s"));
}

#[test]
fn github_format() {
    let o = gatecheck(
        &[
            "lint",
            "--format",
            "github",
            "--select",
            "NGX-VAL-001",
            BAD_VAL,
        ],
        root(),
    );
    let out = stdout(&o);
    assert!(
        out.starts_with(&format!("::error file={BAD_VAL},line=9,col=32,endLine=9,endColumn=37,title=NGX-VAL-001 invalid-value::proxy_read_timeout: \"30sec\" is not a time%0Ahelp: ")),
        "{out}"
    );
    assert_eq!(out.lines().count(), 1);
}

#[test]
fn sarif_format_is_sarif_2_1_0() {
    let o = gatecheck(&["lint", "--format", "sarif", BAD_VAL, BAD_TMO], root());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["version"], "2.1.0");
    assert!(v["$schema"].as_str().unwrap().contains("sarif-2.1.0"));
    let run = &v["runs"][0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "gatecheck");
    let rules = driver["rules"].as_array().unwrap();
    assert!(rules.len() >= 26);
    for r in rules {
        assert!(r["id"].is_string() && r["shortDescription"]["text"].is_string());
    }
    let results = run["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for r in results {
        let idx = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], r["ruleId"]);
        assert!(["error", "warning", "note"].contains(&r["level"].as_str().unwrap()));
        assert!(r["message"]["text"].is_string());
        let region = &r["locations"][0]["physicalLocation"]["region"];
        assert!(region["startLine"].as_u64().unwrap() >= 1);
        assert!(region["startColumn"].as_u64().unwrap() >= 1);
        let uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap();
        assert!(uri.starts_with("fixtures/lint/nginx/"), "{uri}");
    }
}

#[test]
fn suppressions_and_unused_ones() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("nginx.conf"),
        "events {}\nhttp {\n  server {\n    location / { # gatecheck: ignore NGX-TMO\n      proxy_pass http://127.0.0.1:9;\n      proxy_connect_timeout 120s;\n    }\n    location /b {\n      proxy_pass http://127.0.0.1:9;\n      proxy_read_timeout 9sec; # gatecheck: ignore invalid-value, NGX-DNS-004\n    }\n  }\n}\n",
    )
    .unwrap();
    let (v, code) = lint_json_code(
        &["--select", "NGX-TMO-001,NGX-VAL,NGX-DNS", "nginx.conf"],
        tmp.path(),
    );
    assert_eq!(field(&v, "rule"), ["UNUSED-IGNORE"], "{v:#?}");
    assert_eq!(v[0]["line"], 10);
    assert!(v[0]["message"].as_str().unwrap().contains("NGX-DNS-004"));
    assert_eq!(code, Some(0));
}

#[test]
fn settings_file_severity_options_and_version() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::copy(root().join(BAD_TMO), tmp.path().join("nginx.conf")).unwrap();
    // Found in the current directory; TOML.
    std::fs::write(
        tmp.path().join("gatecheck.toml"),
        "[severity]\nNGX-TMO-001 = 'error'\n",
    )
    .unwrap();
    let o = gatecheck(
        &["lint", "--select", "NGX-TMO-001", "nginx.conf"],
        tmp.path(),
    );
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stdout(&o).contains("error[NGX-TMO-001]"));
    // Given explicitly; YAML; an option raises the threshold; off disables.
    std::fs::write(
        tmp.path().join("s.yaml"),
        "options:\n  long-connect-timeout: { max_connect_timeout: 200s }\n",
    )
    .unwrap();
    let o = gatecheck(
        &[
            "lint",
            "--settings",
            "s.yaml",
            "--select",
            "NGX-TMO-001",
            "nginx.conf",
        ],
        tmp.path(),
    );
    let out = stdout(&o);
    assert!(!out.contains("longer than"), "{out}");
    assert!(
        out.contains("proxy_connect_timeout 120s is not shorter than proxy_read_timeout 60s"),
        "{out}"
    );
    std::fs::write(tmp.path().join("off.yaml"), "severity: {NGX-TMO: off}\n").unwrap();
    let o = gatecheck(
        &[
            "lint",
            "--settings",
            "off.yaml",
            "--select",
            "NGX-TMO-001",
            "nginx.conf",
        ],
        tmp.path(),
    );
    assert!(stdout(&o).contains("All checks passed."));
    // A broken settings file is an input error naming the file and line:
    // an unknown key, an unknown option of a rule, a bad option value.
    for (text, what) in [
        ("severity: {NGX-TMO: off}\nnginx_versoin: 1\n", "unknown field `nginx_versoin`"),
        (
            "severity: {NGX-TMO: off}\noptions:\n  NGX-TMO-001: { max_conect_timeout: 200s }\n",
            "unknown field `max_conect_timeout`",
        ),
        (
            "severity: {NGX-TMO: off}\noptions:\n  NGX-TMO-001: { max_connect_timeout: 200 seconds }\n",
            "a time",
        ),
    ] {
        std::fs::write(tmp.path().join("bad.yaml"), text).unwrap();
        let o = gatecheck(
            &["lint", "--settings", "bad.yaml", "nginx.conf"],
            tmp.path(),
        );
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(
            err.contains("bad.yaml") && err.contains(what) && err.contains("line "),
            "{err}"
        );
        assert!(stdout(&o).is_empty(), "no findings on a broken settings file");
    }
    std::fs::write(
        tmp.path().join("bad.toml"),
        "[options.NGX-TMO-001]\nmax_connect_timeout = true\n",
    )
    .unwrap();
    let o = gatecheck(
        &["lint", "--settings", "bad.toml", "nginx.conf"],
        tmp.path(),
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("bad.toml") && err.contains("line 2"), "{err}");
}

#[test]
fn includes_relative_to_prefix() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join("etc/conf.d")).unwrap();
    std::fs::create_dir_all(tmp.path().join("elsewhere")).unwrap();
    std::fs::write(
        tmp.path().join("etc/conf.d/x.conf"),
        "proxy_read_timeout 9sec;\n",
    )
    .unwrap();
    std::fs::write(
        tmp.path().join("elsewhere/nginx.conf"),
        "events {}\nhttp { include conf.d/*.conf; }\n",
    )
    .unwrap();
    let v = lint_json(&["-p", "etc", "elsewhere/nginx.conf"], tmp.path());
    assert_eq!(v[0]["rule"], "NGX-VAL-001", "{v:#?}");
    assert_eq!(v[0]["file"], "etc/conf.d/x.conf");
}

/// A site file linted alone from the nginx.conf directory, as
/// h5bp/server-configs-nginx lays them out: its `include h5bp/basic.conf`
/// is relative to the nginx prefix (two directories up), not to the file.
#[test]
fn fragment_includes_resolve_under_ancestors() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::create_dir_all(dir.join("conf.d/templates")).unwrap();
    std::fs::create_dir_all(dir.join("h5bp")).unwrap();
    std::fs::write(dir.join("h5bp/basic.conf"), "proxy_read_timeout 9sec;\n").unwrap();
    std::fs::write(
        dir.join("conf.d/templates/example.com.conf"),
        "server {\n listen 80;\n include h5bp/basic.conf;\n}\n",
    )
    .unwrap();
    for cwd in [dir.to_path_buf(), dir.join("conf.d")] {
        let entry = if cwd == dir {
            "conf.d/templates/example.com.conf"
        } else {
            "templates/example.com.conf"
        };
        let f = lint_json(&[entry], &cwd);
        let rules = field(&f, "rule");
        assert!(!rules.contains(&"NGX-INC-001"), "{f:#?}");
        // the included file was read: nginx's objection to its value is there
        assert!(rules.contains(&"NGX-VAL-001"), "{f:#?}");
    }
}

#[test]
fn rules_and_explain() {
    let o = gatecheck(&["rules"], root());
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert!(out
        .lines()
        .any(|l| l.starts_with("NGX-DNS-001") && l.contains("hostname-resolved-once")));
    let o = gatecheck(&["rules", "--json"], root());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["id"] == "NGX-BUF-001"));
    for key in ["NGX-DNS-001", "hostname-resolved-once", "ngx-dns-001"] {
        let o = gatecheck(&["explain", key], root());
        assert_eq!(o.status.code(), Some(0));
        let out = stdout(&o);
        assert!(
            out.starts_with("NGX-DNS-001 (hostname-resolved-once)"),
            "{out}"
        );
        for h in [
            "## What it does",
            "## Why it causes 502s",
            "## Example",
            "## Use instead",
            "## Options",
            "## References",
        ] {
            assert!(out.contains(h), "{key}: {h}");
        }
    }
    let o = gatecheck(&["explain", "NGX-NOPE-001"], root());
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn deterministic_order() {
    let a = gatecheck(&["lint", "--format", "json", BAD_VAL, BAD_TMO], root());
    let b = gatecheck(&["lint", "--format", "json", BAD_VAL, BAD_TMO], root());
    assert_eq!(a.stdout, b.stdout);
    let v: Vec<serde_json::Value> = serde_json::from_slice(&a.stdout).unwrap();
    let keys: Vec<(String, u64, String)> = v
        .iter()
        .map(|d| {
            (
                d["file"].as_str().unwrap().to_string(),
                d["line"].as_u64().unwrap(),
                d["rule"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    // Files in input order, then by line.
    let mut sorted = keys.clone();
    sorted.sort_by(|x, y| {
        let fx = usize::from(x.0 != BAD_VAL);
        let fy = usize::from(y.0 != BAD_VAL);
        (fx, x.1).cmp(&(fy, y.1))
    });
    assert_eq!(
        keys.iter().map(|k| (&k.0, k.1)).collect::<Vec<_>>(),
        sorted.iter().map(|k| (&k.0, k.1)).collect::<Vec<_>>()
    );
}

#[test]
fn settings_ignore_by_path() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join("legacy")).unwrap();
    std::fs::copy(root().join(BAD_VAL), tmp.path().join("legacy/old.conf")).unwrap();
    std::fs::copy(root().join(BAD_VAL), tmp.path().join("new.conf")).unwrap();
    std::fs::write(
        tmp.path().join(".gatecheck.yaml"),
        "ignore:\n  - { rule: invalid-value, path: 'legacy/*.conf' }\n",
    )
    .unwrap();
    let v = lint_json(
        &["--select", "NGX-VAL", "legacy/old.conf", "new.conf"],
        tmp.path(),
    );
    assert_eq!(field(&v, "file"), ["new.conf"]);
    // An entry that matches nothing is reported on its line of the settings.
    std::fs::write(
        tmp.path().join(".gatecheck.yaml"),
        "ignore:\n  - { rule: invalid-value, path: 'legacy/*.conf' }\n  - { rule: NGX-VAL-001, path: 'gone/*.conf' }\n",
    )
    .unwrap();
    let v = lint_json(&["--select", "NGX-VAL", "legacy/old.conf"], tmp.path());
    assert_eq!(v[0]["rule"], "UNUSED-IGNORE", "{v:#?}");
    assert_eq!(v[0]["file"], ".gatecheck.yaml");
    assert_eq!(v[0]["line"], 3);
    assert_eq!(v.len(), 1);
}

/// issue 8: a site file is linted as a fragment (its context said), a
/// missing include is a finding unless `--strict-includes`, and a site file
/// given beside the nginx.conf that includes it is linted only there.
#[test]
fn issue_8_fragments_and_missing_includes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::create_dir(dir.join("conf.d")).unwrap();
    std::fs::write(
        dir.join("conf.d/app.conf"),
        "upstream app { server 10.0.0.1:8080; server 10.0.0.2:8080; }\nserver { listen 80; location / { proxy_pass http://app; } }\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("nginx.conf"),
        "events {}\nhttp {\n include mime.types;\n include conf.d/*.conf;\n}\n",
    )
    .unwrap();

    // the fragment alone: no false "not allowed in main", and the context said
    let (f, code) = lint_json_code(&["conf.d/app.conf"], dir);
    assert_eq!(code, Some(0), "{f:?}");
    let rules = field(&f, "rule");
    assert!(rules.contains(&"NGX-INC-002"), "{rules:?}");
    assert!(!rules.contains(&"NGX-VAL-001"), "{rules:?}");
    assert!(
        rules.contains(&"NGX-RTY-002"),
        "the fragment is linted: {rules:?}"
    );
    // forced into the wrong context, nginx's own objection comes back
    let (f, code) = lint_json_code(&["--context", "main", "conf.d/app.conf"], dir);
    assert_eq!(code, Some(1));
    assert!(field(&f, "rule").contains(&"NGX-VAL-001"));

    // the missing mime.types is a warning naming it; the rest is linted
    let (f, code) = lint_json_code(&["nginx.conf", "conf.d/app.conf"], dir);
    assert_eq!(code, Some(0), "{f:?}");
    let rules = field(&f, "rule");
    assert!(rules.contains(&"NGX-INC-001"), "{rules:?}");
    // app.conf is linted inside nginx.conf only: no fragment note, no doubles
    assert!(!rules.contains(&"NGX-INC-002"), "{rules:?}");
    let retries = rules.iter().filter(|r| **r == "NGX-RTY-002").count();
    assert_eq!(retries, 1, "{rules:?}");
    let msgs = field(&f, "message");
    assert!(
        msgs.iter()
            .any(|m| m.starts_with("include mime.types (in `http`)")),
        "{msgs:?}"
    );

    // --strict-includes: an input error, as for nginx -t
    let o = gatecheck(&["lint", "--strict-includes", "nginx.conf"], dir);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
}

/// issue 8 noise: pedantic rules stay quiet by default and run when asked
/// for by group, id or a severity in the settings.
#[test]
fn issue_8_pedantic_rules_are_opt_in() {
    let bad = "fixtures/lint/nginx/NGX-TMO-002/bad.conf";
    let rules = |args: &[&str]| -> Vec<String> {
        let f = lint_json(args, root());
        field(&f, "rule").iter().map(|s| s.to_string()).collect()
    };
    assert!(!rules(&[bad]).contains(&"NGX-TMO-002".to_string()));
    assert!(rules(&["--select", "pedantic", bad]).contains(&"NGX-TMO-002".to_string()));
    assert!(rules(&["--select", "NGX-TMO-002", bad]).contains(&"NGX-TMO-002".to_string()));
    // a prefix selects the default rules of that prefix only
    assert!(!rules(&["--select", "NGX-TMO", bad]).contains(&"NGX-TMO-002".to_string()));
    let tmp = tempfile::tempdir().unwrap();
    let settings = tmp.path().join("gatecheck.yaml");
    std::fs::write(&settings, "severity:\n  NGX-TMO-002: warning\n").unwrap();
    let s = settings.to_string_lossy();
    let with = rules(&["--settings", &s, bad]);
    assert!(with.contains(&"NGX-TMO-002".to_string()), "{with:?}");
    // the catalogue says which rules are on by default
    let o = gatecheck(&["rules", "--json"], root());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let tmo = v
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "NGX-TMO-002")
        .unwrap();
    assert_eq!(tmo["default_on"], false);
}

#[test]
fn spoe_file_is_skipped_with_a_note() {
    // An SPOE configuration named like a haproxy.cfg: not a proxy config,
    // so no syntax errors and no findings, exit 0, and a note saying why.
    let spoe = "fixtures/lint/haproxy/spoe/spoe-ip-reputation.cfg";
    let o = gatecheck(&["lint", spoe], root());
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("spoe-ip-reputation.cfg: an HAProxy SPOE configuration"),
        "{err}"
    );
    assert!(!stdout(&o).contains("error"), "{}", stdout(&o));
    // Beside a real config, the other file is still linted.
    let (found, code) = lint_json_code(&[spoe, BAD_VAL], root());
    assert_eq!(code, Some(1));
    assert!(field(&found, "rule").contains(&"NGX-VAL-001"));
}
