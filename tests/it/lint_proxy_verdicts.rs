//! `gatecheck lint`'s verdict against the proxies' own, file by file: every
//! config `haproxy -c` / `nginx -t` refuses gets an error from lint, and
//! every config they accept gets none.
//!
//! The corpus: the real configs of `fixtures/realworld/`, the HAProxy
//! parser fixtures (`fixtures/lint/haproxy/{syntax,errors}/`) and every
//! rule fixture whose first line says the proxy refuses it. (Other rule
//! fixtures carry errors about configs the proxy accepts but that fail at
//! run time, such as a `tune.bufsize` too small for HTTP/2: not a verdict
//! to compare.) nginx fragments are tested inside the blocks gatecheck
//! infers for them (`http`, `server`, `location`), as the nginx.conf that
//! includes them would hold them.
//!
//! A refusal that depends on the machine rather than on the file is
//! skipped with its reason printed: files the config names that are not
//! here (certificates, includes, maps), names that do not resolve without
//! the site's DNS, users that do not exist, keywords of modules or versions
//! this proxy build lacks. Without the proxy the test is skipped, unless
//! `GATECHECK_REQUIRE_PROXIES` is set.

use std::path::{Path, PathBuf};
use std::process::Command;

use gatecheck::config::nginx::grammar::FileContext;
use gatecheck::config::{self, LoadOptions, ProxyKind};
use gatecheck::lint::{self, Selection, Settings, Severity};
use gatecheck::source::SourceMap;

use crate::support::{haproxy, nginx};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out);
        } else if p.file_name().is_some_and(|n| n != "SOURCES.md") {
            out.push(p);
        }
    }
}

fn first_line(path: &Path) -> String {
    let text = std::fs::read(path).unwrap_or_default();
    String::from_utf8_lossy(text.split(|&b| b == b'\n').next().unwrap_or(b"")).into_owned()
}

/// Lint `path` (relative to the crate root) as `gatecheck lint` does with
/// the default rules: the model (if any) and the error-level findings,
/// syntax errors included, as `file:line: message`.
fn lint_errors(path: &Path) -> (Option<config::ProxyModel>, Vec<String>) {
    let rel = path.strip_prefix(root()).unwrap_or(path).to_path_buf();
    let mut sources = SourceMap::new();
    let loaded = config::load(
        std::slice::from_ref(&rel),
        &LoadOptions::default(),
        &mut sources,
    );
    let mut out: Vec<String> = loaded
        .errors
        .iter()
        .map(|e| format!("parse error: {e}"))
        .collect();
    let diags = lint::check(
        &loaded.models,
        &sources,
        &Settings::default(),
        &Selection::default(),
    );
    for d in diags
        .iter()
        .filter(|d| d.severity == Severity::Error && !run_time_error(d.rule, &d.message))
    {
        let (line, _) = sources.line_col(d.span);
        out.push(format!(
            "{}:{line}: {} {}",
            rel.display(),
            d.rule,
            d.message
        ));
    }
    (loaded.models.into_iter().next(), out)
}

/// Errors about what fails at run time in a config the proxy accepts:
/// not a verdict on the file, so not compared (as the rule fixtures of
/// such errors are not). A backend with no server that a rule routes to
/// loads fine and answers 503 to every request it gets (the Data Plane
/// API's backend_switching_rules.cfg, whose servers the API adds later).
fn run_time_error(rule: &str, message: &str) -> bool {
    rule == "HAP-MAP-001" && message.contains("has no servers")
}

/// Why a proxy's refusal says nothing about the file itself, if it does
/// not (`None`: the file is refused for what it says).
fn machine_dependent(msg: &str) -> Option<&'static str> {
    const CAUSES: &[(&str, &str)] = &[
        (
            "No such file or directory",
            "names a file that is not on this machine",
        ),
        (
            "unable to stat SSL certificate",
            "names a certificate that is not on this machine",
        ),
        ("unable to load", "names a file that is not on this machine"),
        (
            "host not found",
            "names a host only the site's DNS resolves",
        ),
        (
            "could not resolve",
            "names a host only the site's DNS resolves",
        ),
        ("getpwnam", "names a user this machine does not have"),
        ("getgrnam", "names a group this machine does not have"),
        (
            "unknown keyword",
            "uses a keyword of another HAProxy version or build",
        ),
        (
            "unknown directive",
            "uses a directive of a module this nginx was not built with",
        ),
        (
            "invalid address: 'mptcp",
            "uses an address family of a newer HAProxy",
        ),
        ("dlopen()", "loads a module this machine does not have"),
        ("failed to open", "names a file that is not on this machine"),
        (
            "unknown fetch method",
            "uses a sample fetch of another HAProxy version",
        ),
        (
            "unknown converter",
            "uses a converter of another HAProxy version",
        ),
        (
            "invalid parameter \"quic\"",
            "uses a listen parameter of a newer nginx (quic: 1.25)",
        ),
        // `${VAR}` outside double quotes is not expanded by HAProxy: the
        // file is a template a shell fills in (kubeadm's HA guide)
        (
            "${",
            "is a template whose `${VAR}` placeholders are filled in before the proxy reads it",
        ),
    ];
    CAUSES
        .iter()
        .find(|(k, _)| msg.contains(k))
        .map(|(_, why)| *why)
}

/// Why nginx's refusal of a file read alone may not hold where it is used
/// (`None`: it holds): a fragment may rely on what the nginx.conf that
/// includes it defines, and a main-level file without `events {}` may be
/// a piece that an nginx.conf includes (lint cannot tell it from a whole
/// config, and says nothing).
fn including_config_dependent(msg: &str, fragment: bool) -> Option<&'static str> {
    const CAUSES: &[(&str, &str)] = &[
        (
            "no \"ssl_certificate\" is defined",
            "may get `ssl_certificate` from the http {} that includes it",
        ),
        (
            "unknown log format",
            "may use a `log_format` of the http {} that includes it",
        ),
        (
            "variable",
            "may use a variable the including config (or a template engine) defines",
        ),
        // `fastcgi_cache phpCache` in nginx-boilerplate's php_cache.conf:
        // the zone is sized by `fastcgi_cache_path` in another file of the
        // same nginx.conf; nginx says "zero size shared memory zone" for a
        // zone used but never sized (ngx_init_cycle, src/core/ngx_cycle.c)
        (
            "zero size shared memory zone",
            "may use a cache or limit zone the including config defines (`*_cache_path`, `limit_*_zone`)",
        ),
    ];
    if msg.contains("no \"events\" section in configuration") {
        return Some("has no events {}: it may be a piece an nginx.conf includes at main level");
    }
    CAUSES
        .iter()
        .find(|(k, _)| fragment && msg.contains(k))
        .map(|(_, why)| *why)
}

/// Refusals lint does not report yet, by file: the gap is printed, not
/// hidden (remove the entry when lint learns it).
/// (crossplane's empty-value-map.conf was one until lint checked the
/// variables of `map` values.)
const KNOWN_GAPS: &[(&str, &str)] = &[];

/// Compare one verdict; push a failure when lint and the proxy disagree.
/// False when the verdict could not be compared (skipped, printed).
fn compare(name: &str, v: &Verdict, failures: &mut Vec<String>) -> bool {
    let Verdict {
        refused,
        msg,
        lint,
        excuse,
    } = v;
    if *refused && lint.is_empty() {
        if let Some(why) = excuse.or_else(|| machine_dependent(msg)) {
            eprintln!("SKIPPED {name}: the proxy refuses it, but it {why}");
            return false;
        }
        if let Some((_, gap)) = KNOWN_GAPS.iter().find(|(f, _)| *f == name) {
            eprintln!("KNOWN GAP {name}: the proxy refuses it and lint does not say so: {gap}");
            return false;
        }
        failures.push(format!(
            "{name}: the proxy refuses it, lint reports no error:\n{msg}"
        ));
    } else if !*refused && !lint.is_empty() {
        failures.push(format!(
            "{name}: the proxy accepts it, lint reports errors: {lint:#?}"
        ));
    }
    true
}

/// What the proxy and lint said of one file.
struct Verdict {
    /// The proxy refused it.
    refused: bool,
    /// What the proxy printed.
    msg: String,
    /// Lint's errors.
    lint: Vec<String>,
    /// Why a refusal does not hold for the file itself, if it does not.
    excuse: Option<&'static str>,
}

/// The rule fixtures under `dir` (relative to the root) whose first line
/// says the proxy itself refuses them (`marked`).
fn refused_fixtures(dir: &str, marked: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    let mut rules = Vec::new();
    walk(&root().join(dir), &mut rules);
    rules.retain(|p| marked(&first_line(p)));
    rules
}

/// Compare the verdicts `judge` gives on `files` (`None`: not compared; it
/// may push a failure), print how many were compared and fail with every
/// disagreement.
fn agree(
    bin: &Path,
    files: &[PathBuf],
    mut judge: impl FnMut(&Path, &str, &mut Vec<String>) -> Option<Verdict>,
) {
    let mut failures = Vec::new();
    let mut compared = 0;
    for path in files {
        let name = path.strip_prefix(root()).unwrap().display().to_string();
        let Some(v) = judge(path, &name, &mut failures) else {
            continue;
        };
        compared += usize::from(compare(&name, &v, &mut failures));
    }
    println!(
        "{compared} of {} files compared with {}",
        files.len(),
        bin.display()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn haproxy_c_and_lint_agree() {
    let Some(bin) = haproxy::require_haproxy() else {
        return;
    };
    let mut files = Vec::new();
    walk(&root().join("fixtures/realworld/haproxy"), &mut files);
    for dir in ["syntax", "errors"] {
        walk(&root().join("fixtures/lint/haproxy").join(dir), &mut files);
    }
    files.extend(refused_fixtures("fixtures/lint/haproxy", |l| {
        l.contains("haproxy -c rejects")
    }));
    files.retain(|p| p.extension().is_some_and(|e| e == "cfg"));
    files.sort();
    files.dedup();
    assert!(files.len() >= 40, "{} files", files.len());
    agree(&bin, &files, |path, name, _| {
        // In the file's directory, as HAProxy resolves relative paths
        // against where it runs.
        let out = Command::new(&bin)
            .args(["-c", "-f"])
            .arg(path.file_name().unwrap())
            .current_dir(path.parent().unwrap())
            .output()
            .expect("run haproxy -c");
        let msg = String::from_utf8_lossy(&out.stderr).into_owned()
            + &String::from_utf8_lossy(&out.stdout);
        // Exit 2: "Configuration file has no error but will not start (no
        // listener)": accepted.
        let refused = out.status.code() == Some(1);
        let (model, lint) = lint_errors(path);
        // A file without `global` may be one of several `-f` files: what
        // HAProxy requires of `global` may be in another (lint assumes
        // nothing about it either).
        let has_global = std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .any(|l| l.split_whitespace().next() == Some("global"));
        let excuse = (!has_global && msg.contains("required 'global."))
            .then_some("has no global section: HAProxy reads it with the others of its -f files");
        if model.is_none() && lint.is_empty() {
            // Not a haproxy.cfg (an SPOE file): skipped by lint with a note.
            eprintln!("SKIPPED {name}: not linted as a haproxy.cfg");
            return None;
        }
        Some(Verdict {
            refused,
            msg,
            lint,
            excuse,
        })
    });
}

/// An nginx.conf in `dir` that holds `path` where gatecheck read it: the
/// file itself for a whole config, else `include`d in the inferred block.
fn nginx_wrapper(path: &Path, context: FileContext, dir: &Path) -> PathBuf {
    let abs = std::fs::canonicalize(path).unwrap();
    let include = format!("include {};", abs.display());
    let body = match context {
        FileContext::Main => return abs,
        FileContext::Http => format!("http {{\n{include}\n}}"),
        // Debian's dynamic stream module, when installed (else nginx says
        // `unknown directive "stream"`, which the test skips).
        FileContext::Stream => {
            let module = Path::new("/usr/lib/nginx/modules/ngx_stream_module.so");
            let load = if module.is_file() {
                format!("load_module {};\n", module.display())
            } else {
                String::new()
            };
            let conf = dir.join("nginx.conf");
            std::fs::write(
                &conf,
                format!("{load}events {{}}\nstream {{\n{include}\n}}\n"),
            )
            .unwrap();
            return conf;
        }
        FileContext::Server => {
            format!("http {{\nserver {{\nlisten 127.0.0.1:1;\n{include}\n}}\n}}")
        }
        FileContext::Location => {
            format!("http {{\nserver {{\nlisten 127.0.0.1:1;\nlocation / {{\n{include}\n}}\n}}\n}}")
        }
    };
    let conf = dir.join("nginx.conf");
    std::fs::write(&conf, format!("events {{}}\n{body}\n")).unwrap();
    conf
}

#[test]
fn nginx_t_and_lint_agree() {
    let Some(bin) = nginx::require_nginx() else {
        return;
    };
    let mut files = Vec::new();
    walk(&root().join("fixtures/realworld/nginx"), &mut files);
    assert!(files.len() >= 20, "{} files", files.len());
    // Fragments, each in the context gatecheck infers for it.
    walk(&root().join("fixtures/lint/nginx/NGX-INC-002"), &mut files);
    files.extend(refused_fixtures("fixtures/lint/nginx", |l| {
        l.starts_with("# nginx -t: rejects")
    }));
    agree(&bin, &files, |path, name, failures| {
        let (model, lint) = lint_errors(path);
        let Some(model) = model else {
            failures.push(format!("{name}: gatecheck built no model: {lint:?}"));
            return None;
        };
        if model.kind != ProxyKind::Nginx {
            return None;
        }
        let context = match &model.fragment {
            None => FileContext::Main,
            Some(f) => match f.context {
                "http" => FileContext::Http,
                "stream" => FileContext::Stream,
                "server" => FileContext::Server,
                _ => FileContext::Location,
            },
        };
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join("logs")).unwrap();
        let conf = nginx_wrapper(path, context, tmp.path());
        // A whole config sets its own pid and error_log (a second one from
        // -g would be a duplicate): only the prefix is ours.
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg("ulimit -n 64; exec \"$0\" \"$@\"")
            .arg(&bin)
            .args(["-t", "-q", "-p"])
            .arg(tmp.path())
            .arg("-c")
            .arg(&conf);
        if context != FileContext::Main {
            cmd.arg("-g").arg(format!(
                "pid {0}/nginx.pid; error_log {0}/logs/error.log;",
                tmp.path().display()
            ));
        }
        let out = cmd.output().expect("run nginx -t");
        let msg = String::from_utf8_lossy(&out.stderr).into_owned()
            + &String::from_utf8_lossy(&out.stdout);
        let excuse = including_config_dependent(&msg, model.fragment.is_some());
        let refused = !out.status.success();
        Some(Verdict {
            refused,
            msg,
            lint,
            excuse,
        })
    });
}
