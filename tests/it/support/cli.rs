//! Running the `gatecheck` binary this test crate is built with, from the
//! crate root (fixture paths are relative to it), and reading what it said.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;

/// `gatecheck ARGS` with `COLUMNS=120`, so that tables wrap the same
/// whatever terminal runs the tests. ARGS mixing text and paths (a
/// temporary file's `PathBuf`, a name that is not UTF-8) are written with
/// [`gatecheck_os!`].
pub fn gatecheck<S: AsRef<OsStr>>(args: &[S]) -> Output {
    gatecheck_width(args, 120)
}

/// [`gatecheck`] with a terminal `columns` wide.
pub fn gatecheck_width<S: AsRef<OsStr>>(args: &[S], columns: u16) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gatecheck"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("COLUMNS", columns.to_string())
        .output()
        .expect("run gatecheck")
}

/// `gatecheck` run with arguments of mixed types, each anything that is an
/// `OsStr` (`&str`, `String`, `Path`, `PathBuf`):
/// `gatecheck_os!["analyze", LOG, "-o", &out]`, or with a terminal width,
/// `gatecheck_os![200; "analyze", LOG]`. Returns the [`Output`].
macro_rules! gatecheck_os {
    ($columns:expr; $($arg:expr),+ $(,)?) => {
        $crate::support::cli::gatecheck_width(&[$(::std::ffi::OsStr::new(&$arg)),+], $columns)
    };
    ($($arg:expr),+ $(,)?) => {
        $crate::support::cli::gatecheck(&[$(::std::ffi::OsStr::new(&$arg)),+])
    };
}
pub(crate) use gatecheck_os;

/// A temporary folder holding one file `name` with `text`: the folder
/// (removed when dropped, so keep it) and the file's path.
pub fn temp_file(name: &str, text: impl AsRef<[u8]>) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temporary folder");
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("write the temporary file");
    (dir, path)
}

/// stdout, lossily decoded.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// stdout as one JSON document; a panic with stdout and stderr when not.
pub fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "not one JSON document ({e}):\n{}\n{}",
            stdout(o),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

/// `gatecheck analyze ARGS --format json --no-progress`: it must succeed
/// and print one JSON document, which is returned.
pub fn analyze_json(args: &[&str]) -> Value {
    let mut all = vec!["analyze"];
    all.extend(args);
    all.extend(["--format", "json", "--no-progress"]);
    let o = gatecheck(&all);
    assert!(
        o.status.success(),
        "gatecheck {all:?}: exit {:?}\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stderr)
    );
    json(&o)
}

/// `gatecheck analyze --format json --no-progress INPUTS`, started with
/// stdin, stdout and stderr piped: for inputs written while it runs (stdin,
/// FIFOs); `wait_with_output` then gives what [`json`] reads.
pub fn spawn_analyze_json<S: AsRef<OsStr>>(inputs: impl IntoIterator<Item = S>) -> Child {
    Command::new(env!("CARGO_BIN_EXE_gatecheck"))
        .args(["analyze", "--format", "json", "--no-progress"])
        .args(inputs)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start gatecheck")
}

/// `gatecheck formats ARGS`: its exit code and stdout.
pub fn formats(args: &[&str]) -> (i32, String) {
    let mut all = vec!["formats"];
    all.extend(args);
    let o = gatecheck(&all);
    (o.status.code().unwrap_or(-1), stdout(&o))
}

/// [`analyze_json`] on files given by path.
pub fn analyze_json_paths(paths: &[&Path], args: &[&str]) -> Value {
    let mut all: Vec<&str> = paths
        .iter()
        .map(|p| p.to_str().expect("UTF-8 path"))
        .collect();
    all.extend(args);
    analyze_json(&all)
}

/// 1-based line of the first line of `text` that is `needle`, trimmed: where
/// a config says a directive.
pub fn line_of(text: &str, needle: &str) -> u64 {
    text.lines()
        .position(|l| l.trim() == needle)
        .map(|i| i as u64 + 1)
        .unwrap_or_else(|| panic!("{needle:?} is no line of the config"))
}

/// `gatecheck analyze PATHS ARGS --format ndjson --no-progress`: it must
/// succeed; its events by request path (the last of a path wins).
pub fn events_by_path(paths: &[&Path], args: &[&str]) -> std::collections::BTreeMap<String, Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_gatecheck"))
        .arg("analyze")
        .args(paths)
        .args(args)
        .args(["--format", "ndjson", "--no-progress"])
        .output()
        .expect("run gatecheck");
    assert!(
        out.status.success(),
        "gatecheck {paths:?} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("ndjson");
            (v["path"].as_str().unwrap_or("").to_string(), v)
        })
        .collect()
}
