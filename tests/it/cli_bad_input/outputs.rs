//! Outputs that cannot be written or are cut: every error names what was
//! being written, and no file is left under the name asked for unless it is
//! complete.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::support::cli::gatecheck_os;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_gatecheck");
const LOG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/incident/access.log");

#[test]
fn a_read_write_dev_null_stdout_is_no_error() {
    // Python's `subprocess.DEVNULL`, Go's `exec` and service managers give
    // a child `/dev/null` opened read-write, as Rust's runtime does for a
    // closed descriptor: the caller wants the exit status, not the output,
    // so such a stdout must not be taken for a closed one (an exit 2 there
    // would fail every CI step that runs lint for its status)
    for (args, want) in [
        (vec!["analyze", LOG, "--no-progress"], 0),
        (
            vec![
                "lint",
                concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/incident/nginx.conf"),
            ],
            gatecheck_os![
                "lint",
                concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/incident/nginx.conf")
            ]
            .status
            .code()
            .unwrap(),
        ),
    ] {
        let out = Command::new("sh")
            .arg("-c")
            .arg(r#"exec "$@" 1<>/dev/null"#)
            .arg("sh")
            .arg(BIN)
            .args(&args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(want), "{args:?}: {err}");
    }
}

#[test]
fn a_closed_stdout_with_o_writes_the_report_to_the_file() {
    // with -o the report does not need stdout, and a file opened then does
    // not take its descriptor: it holds the report only
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.json");
    let out = Command::new("sh")
        .arg("-c")
        .arg(r#"exec "$@" >&-"#)
        .arg("sh")
        .arg(BIN)
        .args(["analyze", LOG, "--no-progress", "-o"])
        .arg(&report)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(v["totals"]["status_502"], 75);
}

#[test]
fn a_full_disk_names_the_file_written() {
    for (args, names) in [
        (
            vec!["--events", "/dev/full"],
            "writing --events /dev/full: ",
        ),
        (vec!["-o", "/dev/full"], "writing -o /dev/full: "),
    ] {
        let out = Command::new(BIN)
            .args(["analyze", LOG, "--no-progress"])
            .args(&args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(
            err.contains(names) && err.contains("No space left"),
            "{err}"
        );
    }
    // and standard output, for the report and for lint
    for args in [
        vec!["analyze", LOG, "--no-progress"],
        vec![
            "lint",
            concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/incident/nginx.conf"),
        ],
    ] {
        let out = Command::new(BIN)
            .args(&args)
            .stdout(
                std::fs::File::options()
                    .write(true)
                    .open("/dev/full")
                    .unwrap(),
            )
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains("to standard output: No space left"), "{err}");
    }
}

#[test]
fn output_in_a_missing_folder_or_onto_an_input_is_refused_up_front() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no/such/events.ndjson");
    let out = gatecheck_os!["analyze", LOG, "--no-progress", "--events", missing];
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("does not exist; create it first"), "{err}");
    // -o onto the log being read would have emptied it before reading it
    let log = dir.path().join("access.log");
    std::fs::copy(LOG, &log).unwrap();
    let before = std::fs::read(&log).unwrap();
    let out = gatecheck_os!["analyze", "--no-progress", "-o", log, log];
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("is also an input"), "{err}");
    assert_eq!(std::fs::read(&log).unwrap(), before);
    let both = dir.path().join("both.json");
    let out = gatecheck_os![
        "analyze",
        LOG,
        "--no-progress",
        "-o",
        both,
        "--events",
        both
    ];
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("name the same file"), "{err}");
}

/// Files in `dir` (names), sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn ctrl_c_leaves_no_file_cut_short_under_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let (report, events) = (out.join("report.html"), out.join("5xx.ndjson"));
    let mut child = Command::new(BIN)
        .args(["analyze", "-", "--no-progress", "-o"])
        .arg(&report)
        .arg("--events")
        .arg(&events)
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // the first lines go in; the pipe stays open, so the run waits for more
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&std::fs::read(LOG).unwrap()).unwrap();
    stdin.flush().unwrap();
    // the partial files are there while it runs (a generous bound: this
    // is no timing assertion, it only keeps a broken run from hanging)
    let t0 = Instant::now();
    while names(&out).len() < 2 && t0.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let during = names(&out);
    assert_eq!(during.len(), 2, "{during:?}");
    assert!(
        during
            .iter()
            .all(|n| n.starts_with('.') && n.contains(".gatecheck-partial-")),
        "{during:?}"
    );
    // Ctrl-C, unless this test runs where SIGINT is ignored (a background
    // job of a script), which the child inherits: then SIGTERM, handled alike
    // SAFETY: a query of this process's SIGINT action into a zeroed struct.
    let ignored = unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(libc::SIGINT, std::ptr::null(), &mut old) == 0
            && old.sa_sigaction == libc::SIG_IGN
    };
    let sig = if ignored { libc::SIGTERM } else { libc::SIGINT };
    // SAFETY: kill(2) on the child's pid, which has not been waited for.
    unsafe { libc::kill(child.id() as i32, sig) };
    // a generous bound, only so that a run the signal did not end fails
    // instead of hanging
    let t0 = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if t0.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("signal {sig} did not end the run");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    drop(stdin);
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(sig), "{status:?}");
    assert_eq!(names(&out), Vec::<String>::new());
}

#[test]
fn a_complete_run_renames_its_files_and_leaves_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let (report, events) = (dir.path().join("r.md"), dir.path().join("e.ndjson"));
    let out = gatecheck_os![
        "analyze",
        LOG,
        "--no-progress",
        "-o",
        report,
        "--events",
        events
    ];
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(names(dir.path()), vec!["e.ndjson", "r.md"]);
    let events = std::fs::read_to_string(&events).unwrap();
    // one line per 5xx: 75 × 502, 17 × 504 and the other 5xx of the demo
    assert!(events.lines().count() >= 92, "{}", events.lines().count());
    assert!(std::fs::read_to_string(&report)
        .unwrap()
        .starts_with("# 502 report"));
    // through a symlink, dangling or not, the file it names is written
    let link = dir.path().join("link.md");
    std::os::unix::fs::symlink("real.md", &link).unwrap();
    let out = gatecheck_os!["analyze", LOG, "--no-progress", "-o", link];
    assert_eq!(out.status.code(), Some(0));
    assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
    let real = std::fs::read_to_string(dir.path().join("real.md")).unwrap();
    assert!(real.starts_with("# 502 report"));
}

#[test]
fn existing_files_are_replaced_whole_and_nothing_else_is_left() {
    // the previous files are swapped out (`replace` in app/output.rs) and
    // removed, as a rename onto them would: through a symlink the file it
    // names is replaced, and another hard link keeps the previous bytes
    let dir = tempfile::tempdir().unwrap();
    let (report, events) = (dir.path().join("r.md"), dir.path().join("e.ndjson"));
    let real = dir.path().join("real.ndjson");
    std::fs::write(&report, "old report").unwrap();
    std::fs::write(&real, "old events").unwrap();
    std::os::unix::fs::symlink("real.ndjson", &events).unwrap();
    std::fs::hard_link(&real, dir.path().join("kept.ndjson")).unwrap();
    let mut first = None;
    for _ in 0..2 {
        let out = Command::new(BIN)
            .args(["analyze", LOG, "--no-progress", "-o"])
            .arg(&report)
            .arg("--events")
            .arg(&events)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{err}");
        assert_eq!(
            names(dir.path()),
            vec!["e.ndjson", "kept.ndjson", "r.md", "real.ndjson"]
        );
        assert!(std::fs::symlink_metadata(&events).unwrap().is_symlink());
        let written = std::fs::read_to_string(&real).unwrap();
        assert!(written.lines().count() >= 92, "{written}");
        assert!(written.lines().all(|l| l.starts_with("{\"file\":")));
        // the second run's file is the first's, byte for byte
        assert_eq!(first.get_or_insert_with(|| written.clone()), &written);
        assert!(std::fs::read_to_string(&report)
            .unwrap()
            .starts_with("# 502 report"));
        assert_eq!(
            std::fs::read_to_string(dir.path().join("kept.ndjson")).unwrap(),
            "old events"
        );
    }
}

#[test]
fn export_to_a_file_says_it_is_a_file_once() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("out");
    std::fs::write(&file, b"x").unwrap();
    let out = gatecheck_os!["export", LOG, "--no-progress", "--to", file];
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    // it said "not an empty folder (give --overwrite …)", which cannot help
    assert!(err.contains("is a file, not a folder"), "{err}");
    assert!(!err.contains("--overwrite"), "{err}");
    assert_eq!(err.matches("is a file").count(), 1, "{err}");
}

#[test]
fn a_closed_pipe_on_stdout_or_stderr_is_no_panic() {
    // `gatecheck explain X | head -0`: print! panicked, exit 101
    let mut child = Command::new(BIN)
        .args(["explain", "NGX-DNS-001"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    // warnings into a closed pipe (`2>&1 | head -1`): eprintln! panicked
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(LOG, dir.path().join("access.log")).unwrap();
    for i in 0..30 {
        std::os::unix::fs::symlink(format!("nowhere{i}"), dir.path().join(format!("d{i}")))
            .unwrap();
    }
    let mut child = Command::new(BIN)
        .args(["analyze", "--no-progress", "--format", "json"])
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["totals"]["status_502"], 75);
}
