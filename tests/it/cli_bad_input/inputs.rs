//! Inputs that are not what they seem: a line longer than a stream block,
//! thousands of files under a low open-files limit, files that cannot be
//! read or were cut, a missing config, out-of-range options. Nothing is
//! lost without being said before any figure, and nothing hangs.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::support::cli::gatecheck_os;

const BIN: &str = env!("CARGO_BIN_EXE_gatecheck");
const LOG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/incident/access.log");

fn json(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn a_line_longer_than_a_stream_block_counts_once() {
    // 5 lines, one of 20 MiB (2.5 stream blocks), 5 lines, through a pipe:
    // before, each 8 MiB of it was a malformed line and later lines were
    // numbered 2 too far
    let log = std::fs::read_to_string(LOG).unwrap();
    let lines: Vec<&str> = log.lines().collect();
    let mut data = Vec::new();
    for l in &lines[..5] {
        writeln!(data, "{l}").unwrap();
    }
    data.resize(data.len() + (20 << 20), b'x');
    data.push(b'\n');
    for l in &lines[5..10] {
        writeln!(data, "{l}").unwrap();
    }
    let mut child = Command::new(BIN)
        .args(["analyze", "-", "--no-progress", "--format", "json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&data));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    let v = json(&out);
    assert_eq!(v["totals"]["lines"], 11, "{}", v["totals"]);
    assert_eq!(v["totals"]["malformed"], 1, "{}", v["totals"]);
    assert_eq!(v["totals"]["requests"], 10, "{}", v["totals"]);
    assert_eq!(v["malformed_samples"][0]["line"], 6);
}

#[test]
fn thousands_of_small_files_are_read_under_a_low_open_files_limit() {
    // 3,000 files of 2 lines: a group of small files kept each open until
    // its turn in the output, and with `ulimit -n 256` most were "cannot
    // read: Too many open files", exit 0
    let dir = tempfile::tempdir().unwrap();
    let log = std::fs::read_to_string(LOG).unwrap();
    let two: String = log.lines().take(2).map(|l| format!("{l}\n")).collect();
    for i in 0..3000 {
        std::fs::write(dir.path().join(format!("f{i:04}.log")), &two).unwrap();
    }
    // `ulimit -n` sets the hard limit too, so gatecheck cannot raise it
    let out = Command::new("sh")
        .arg("-c")
        .arg(r#"ulimit -n 256 && exec "$@""#)
        .arg("sh")
        .arg(BIN)
        .args(["analyze", "--no-progress", "--format", "json"])
        .arg(dir.path())
        .output()
        .unwrap();
    let v = json(&out);
    assert_eq!(
        v["problems"],
        serde_json::json!([]),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(v["totals"]["requests"], 6000);
}

#[test]
fn unread_and_cut_inputs_are_named_before_any_figure() {
    let dir = tempfile::tempdir().unwrap();
    // other requests than LOG's (its methods changed): a copy of LOG's
    // requests would be set aside as the same stream (analyze::copies)
    let raw = std::fs::read_to_string(LOG)
        .unwrap()
        .replace("\"GET ", "\"PUT ")
        .replace("\"POST ", "\"PATCH ");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(raw.as_bytes()).unwrap();
    let gz = gz.finish().unwrap();
    let cut = dir.path().join("cut.log.gz");
    std::fs::write(&cut, &gz[..gz.len() / 2]).unwrap();
    let missing = dir.path().join("acess.log");
    let empty = dir.path().join("empty.log");
    std::fs::write(&empty, b"").unwrap();
    let dangling = dir.path().join("current.log");
    std::os::unix::fs::symlink("access.log.1", &dangling).unwrap();
    let out = gatecheck_os![200; "analyze", LOG, "--no-progress", cut, missing, empty, dangling];
    let text = String::from_utf8_lossy(&out.stdout);
    let second = text.lines().nth(1).unwrap_or_default();
    assert!(
        second.starts_with("not read: 1 empty file (")
            && second.contains("empty.log); 3 inputs not read or read only in part (")
            && second.contains("cut.log.gz")
            && second.contains("acess.log"),
        "{text}"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("current.log: cannot read: a symlink to access.log.1, which does not exist"),
        "{err}"
    );
}

#[test]
fn lint_never_says_all_checks_passed_of_a_file_it_could_not_read() {
    let out = gatecheck_os!["lint", "no/such/nginx.conf"];
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2));
    assert!(!text.contains("All checks passed"), "{text}");
    assert!(text.contains("1 input could not be read"), "{text}");
    // a folder among the files: said as such, the files still linted
    let conf = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/incident/nginx.conf");
    let out = gatecheck_os!["lint", conf, env!("CARGO_MANIFEST_DIR")];
    let (text, err) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("is a folder; give the config files in it"),
        "{err}"
    );
    assert!(
        text.contains("--> ") && text.contains("1 input could not be read"),
        "{text}"
    );
    // a prefix that is not there made every relative include missing, exit 0
    let out = gatecheck_os!["lint", conf, "-p", "/no/such/prefix"];
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("-p /no/such/prefix: no such folder"), "{err}");
}

#[test]
fn bad_option_values_are_refused_with_what_to_do() {
    let conf = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/incident/nginx.conf");
    for (args, says) in [
        // `-j 100000` started 100,000 threads before reading a byte
        (vec!["-j", "100000"], "100000"),
        (vec!["-j", "0"], "--threads"),
        // a config that is not there was two warnings and exit 0
        (
            vec!["--config", "no/such.conf"],
            "--config no/such.conf: No such file",
        ),
        // a HAProxy log-format that cannot compile "fitted no line of any input"
        (
            vec!["--log-format", "haproxy=%ci %[bogus"],
            "unterminated item at byte 4",
        ),
        (
            vec!["--log-format", "haproxy=%ci:%cp"],
            "neither %ST nor %tsc",
        ),
    ] {
        let out = Command::new(BIN)
            .args(["analyze", LOG, "--no-progress"])
            .args(&args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
    let out = gatecheck_os!["analyze", LOG, "--no-progress", "-j", "1", "--config", conf];
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn dash_on_a_terminal_says_how_to_give_the_logs() {
    // `script` gives the run a terminal on stdin; Ctrl-D (EOT) ends it
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped: no `script` to run gatecheck on a terminal");
        return;
    }
    let mut child = Command::new("script")
        .args(["-qec"])
        .arg(format!("{BIN} analyze - --no-progress"))
        .arg("/dev/null")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"\x04").unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let all = String::from_utf8_lossy(&out.stdout);
    assert!(all.contains("reading logs from the terminal"), "{all}");
}

#[test]
fn stdin_named_twice_is_read_once() {
    // `- /dev/stdin`: two readers of one pipe split its lines between them,
    // a line cut in two and the second's lines numbered from 1 again
    let mut child = Command::new(BIN)
        .args([
            "analyze",
            "-",
            "/dev/stdin",
            "--no-progress",
            "--format",
            "json",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let data = std::fs::read(LOG).unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&data));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    let v = json(&out);
    assert_eq!(v["inputs"].as_array().unwrap().len(), 1, "{}", v["inputs"]);
    assert_eq!(v["totals"]["requests"], 1240);
    assert_eq!(v["totals"]["malformed"], 0);
    // said in the Inputs row of the stream read
    let reason = v["inputs"][0]["reason"].to_string();
    assert!(
        reason.contains("/dev/stdin is the same stream as -; read once"),
        "{reason}"
    );
}

#[test]
fn a_named_pipe_is_said_to_wait_for_its_writer() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    let ok = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(ok.success());
    let child = Command::new(BIN)
        .args(["analyze", "--no-progress", "--format", "json"])
        .arg(&fifo)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // the writer comes after the run started, writes and closes
    std::fs::write(&fifo, std::fs::read(LOG).unwrap()).unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("is a named pipe: it is read as its writer sends lines"),
        "{err}"
    );
    assert_eq!(json(&out)["totals"]["requests"], 1240);
}
