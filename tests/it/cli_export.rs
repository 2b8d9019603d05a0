//! `gatecheck export` as a user runs it: the Parquet read back with the
//! `parquet` crate and checked column by column against the source lines
//! (parsed here by a plain regex, an oracle independent of gatecheck's
//! parsers), row counts against the logs and against `analyze`, and bad
//! output folders.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Output;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int32Type, Int64Type, TimestampMillisecondType};
use arrow_array::{Array, RecordBatch};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::support::cli::gatecheck;

/// `gatecheck export FROM --to TO --no-progress EXTRA…`.
fn export(from: &str, to: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "export",
        from,
        "--to",
        to.to_str().unwrap(),
        "--no-progress",
    ];
    args.extend_from_slice(extra);
    gatecheck(&args)
}

fn ok(o: &Output) {
    assert!(
        o.status.success(),
        "exit {:?}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stderr)
    );
}

fn files_with_ext(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            files_with_ext(&p, ext, out);
        } else if p.extension().is_some_and(|x| x == ext) {
            out.push(p);
        }
    }
    out.sort();
}

/// One upstream attempt: address, status, connect, header, response.
type Attempt<A> = (A, Option<i32>, Option<f64>, Option<f64>, Option<f64>);

/// One row read back, every column.
#[derive(Debug, Clone)]
struct Row {
    partition: String,
    time_ms: Option<i64>,
    hop_kind: String,
    hop_format: String,
    source_file: String,
    source_line: i64,
    dump_host: String,
    client: Option<String>,
    method: Option<String>,
    host: Option<String>,
    path: Option<String>,
    status: Option<i32>,
    request_time: Option<f64>,
    upstream: Vec<Attempt<Option<String>>>,
    cause: Option<String>,
    evidence: Option<Vec<String>>,
    rescued: bool,
    request_id: Option<String>,
}

fn string(b: &RecordBatch, name: &str, i: usize) -> Option<String> {
    let c = b.column_by_name(name).expect(name).as_string::<i32>();
    c.is_valid(i).then(|| c.value(i).to_string())
}

fn read_parquet(dir: &Path) -> Vec<Row> {
    let mut files = Vec::new();
    files_with_ext(dir, "parquet", &mut files);
    assert!(!files.is_empty(), "no parquet under {}", dir.display());
    let mut rows = Vec::new();
    for f in files {
        let partition = f
            .parent()
            .and_then(|p| p.strip_prefix(dir).ok())
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let builder = ParquetRecordBatchReaderBuilder::try_new(File::open(&f).unwrap()).unwrap();
        let kv = builder
            .metadata()
            .file_metadata()
            .key_value_metadata()
            .cloned()
            .unwrap_or_default();
        assert!(
            kv.iter()
                .any(|k| k.key == "gatecheck.schema_version" && k.value.as_deref() == Some("1")),
            "no schema version in {}",
            f.display()
        );
        for b in builder.build().unwrap() {
            let b = b.unwrap();
            let time = b
                .column_by_name("time")
                .unwrap()
                .as_primitive::<TimestampMillisecondType>();
            let line = b
                .column_by_name("source_line")
                .unwrap()
                .as_primitive::<Int64Type>();
            let status = b
                .column_by_name("status")
                .unwrap()
                .as_primitive::<Int32Type>();
            let rt = b
                .column_by_name("request_time")
                .unwrap()
                .as_primitive::<Float64Type>();
            let up = b.column_by_name("upstream").unwrap().as_list::<i32>();
            let ev = b.column_by_name("evidence").unwrap().as_list::<i32>();
            let rescued = b.column_by_name("rescued").unwrap().as_boolean();
            for i in 0..b.num_rows() {
                let attempts = up.value(i);
                let attempts = attempts.as_struct();
                let f64s = |k: usize| attempts.column(k).as_primitive::<Float64Type>().clone();
                let (addr, st) = (
                    attempts.column(0).as_string::<i32>(),
                    attempts.column(1).as_primitive::<Int32Type>(),
                );
                let (c, h, r) = (f64s(2), f64s(3), f64s(4));
                let opt_f =
                    |a: &arrow_array::Float64Array, j: usize| a.is_valid(j).then(|| a.value(j));
                let upstream = (0..attempts.len())
                    .map(|j| {
                        (
                            addr.is_valid(j).then(|| addr.value(j).to_string()),
                            st.is_valid(j).then(|| st.value(j)),
                            opt_f(&c, j),
                            opt_f(&h, j),
                            opt_f(&r, j),
                        )
                    })
                    .collect();
                let evidence = ev.is_valid(i).then(|| {
                    let v = ev.value(i);
                    let v = v.as_string::<i32>();
                    (0..v.len()).map(|j| v.value(j).to_string()).collect()
                });
                rows.push(Row {
                    partition: partition.clone(),
                    time_ms: time.is_valid(i).then(|| time.value(i)),
                    hop_kind: string(&b, "hop_kind", i).unwrap(),
                    hop_format: string(&b, "hop_format", i).unwrap(),
                    source_file: string(&b, "source_file", i).unwrap(),
                    source_line: line.value(i),
                    dump_host: string(&b, "dump_host", i).unwrap(),
                    client: string(&b, "client", i),
                    method: string(&b, "method", i),
                    host: string(&b, "host", i),
                    path: string(&b, "path", i),
                    status: status.is_valid(i).then(|| status.value(i)),
                    request_time: rt.is_valid(i).then(|| rt.value(i)),
                    upstream,
                    cause: string(&b, "cause", i),
                    evidence,
                    rescued: rescued.value(i),
                    request_id: string(&b, "request_id", i),
                });
            }
        }
    }
    rows
}

/// The oracle: the demo's `upstreamlog` format, by regex.
struct Line {
    client: String,
    time_ms: i64,
    method: String,
    path: String,
    status: i32,
    rt: Option<f64>,
    upstream: Vec<Attempt<String>>,
}

fn secs(v: &str) -> Option<f64> {
    v.parse().ok()
}

fn oracle(line: &str) -> Line {
    let re = regex::Regex::new(
        r#"^(\S+) - \S+ \[([^\]]+)\] "(\S+) (\S+) \S+" (\d+) \d+ "[^"]*" "[^"]*" rt=(\S+) uct="([^"]*)" uht="([^"]*)" urt="([^"]*)" ua="([^"]*)" us="([^"]*)"$"#,
    )
    .unwrap();
    let c = re
        .captures(line)
        .unwrap_or_else(|| panic!("oracle: {line}"));
    let time = jiff::Timestamp::strptime("%d/%b/%Y:%H:%M:%S %z", &c[2]).unwrap();
    let list = |k: usize| -> Vec<String> {
        if &c[k] == "-" {
            return Vec::new();
        }
        c[k].split([',', ':'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect()
    };
    // addresses hold a `:` (ip:port): split them on ", " only
    let addrs: Vec<String> = if &c[10] == "-" {
        Vec::new()
    } else {
        c[10].split(", ").map(String::from).collect()
    };
    let (uct, uht, urt, us) = (list(7), list(8), list(9), list(11));
    let upstream = addrs
        .iter()
        .enumerate()
        .map(|(j, a)| {
            (
                a.clone(),
                us.get(j).and_then(|s| s.parse().ok()),
                uct.get(j).and_then(|s| secs(s)),
                uht.get(j).and_then(|s| secs(s)),
                urt.get(j).and_then(|s| secs(s)),
            )
        })
        .collect();
    Line {
        client: c[1].to_string(),
        time_ms: time.as_millisecond(),
        method: c[3].to_string(),
        path: c[4].to_string(),
        status: c[5].parse().unwrap(),
        rt: secs(&c[6]),
        upstream,
    }
}

fn lines_of(path: &str) -> Vec<String> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .lines()
        .map(String::from)
        .collect()
}

/// `analyze --format ndjson`'s cause of each 5xx / rescued line.
fn analyze_causes(dump: &str) -> HashMap<(String, u64), String> {
    let o = gatecheck(&["analyze", dump, "--format", "ndjson", "--no-progress"]);
    ok(&o);
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                (
                    v["file"].as_str().unwrap().to_string(),
                    v["line"].as_u64().unwrap(),
                ),
                v["cause"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn hour_dir(ms: i64) -> String {
    let ts = jiff::Timestamp::from_millisecond(ms).unwrap();
    ts.strftime("date=%Y-%m-%d/hour=%H").to_string()
}

#[test]
fn demo_parquet_round_trip_matches_source_lines() {
    let tmp = tempfile::tempdir().unwrap();
    let to = tmp.path().join("out");
    let o = export("fixtures/incident/", &to, &[]);
    ok(&o);
    let rows = read_parquet(&to);
    let src = lines_of("fixtures/incident/access.log");
    let requests = src.iter().filter(|l| !l.trim().is_empty()).count();
    assert_eq!(rows.len(), requests, "one row per access line");
    let causes = analyze_causes("fixtures/incident/");
    let mut classified = 0;
    // every row's columns against its line (the demo is small enough for all)
    for r in &rows {
        let l = oracle(&src[(r.source_line - 1) as usize]);
        assert_eq!(r.hop_kind, "proxy");
        assert_eq!(r.hop_format, "nginx");
        assert!(r.source_file.ends_with("access.log"), "{}", r.source_file);
        assert_eq!(r.dump_host, "incident", "default --host: the folder's name");
        assert_eq!(r.time_ms, Some(l.time_ms), "line {}", r.source_line);
        assert_eq!(r.partition, hour_dir(l.time_ms));
        assert_eq!(r.client.as_deref(), Some(l.client.as_str()));
        assert_eq!(r.method.as_deref(), Some(l.method.as_str()));
        assert_eq!(r.path.as_deref(), Some(l.path.as_str()));
        assert_eq!(r.host, None, "upstreamlog logs no host");
        assert_eq!(r.request_id, None, "upstreamlog logs no request id");
        assert_eq!(r.status, Some(l.status));
        assert_eq!(r.request_time, l.rt);
        let got: Vec<_> = r
            .upstream
            .iter()
            .map(|(a, s, c, h, x)| (a.clone().unwrap_or_default(), *s, *c, *h, *x))
            .collect();
        assert_eq!(got, l.upstream, "line {}", r.source_line);
        let failed = l.upstream.iter().any(|u| u.1.is_some_and(|s| s >= 500));
        assert_eq!(
            r.rescued,
            l.status < 500 && failed,
            "line {}",
            r.source_line
        );
        let key = (r.source_file.clone(), r.source_line as u64);
        match causes.get(&key) {
            Some(c) => {
                classified += 1;
                assert_eq!(r.cause.as_ref(), Some(c), "line {}", r.source_line);
                assert!(r.evidence.as_ref().is_some_and(|e| !e.is_empty()));
            }
            None => {
                assert!(
                    l.status < 500,
                    "a 5xx without a cause: line {}",
                    r.source_line
                );
                assert_eq!(r.cause, None);
                assert_eq!(r.evidence, None);
            }
        }
    }
    assert_eq!(classified, causes.len(), "every analyzed event is a row");
    assert!(classified > 0);
}

/// A combined-format log over three UTC hours, a 502 every 7th line.
fn generated_log(dir: &Path, n: usize) -> PathBuf {
    let mut s = String::new();
    for i in 0..n {
        let secs = i * 3 * 3600 / n;
        let status = if i % 7 == 3 { 502 } else { 200 };
        s.push_str(&format!(
            "10.0.{}.{} - - [20/Nov/2026:{:02}:{:02}:{:02} +0100] \"GET /item/{i} HTTP/1.1\" {status} 12 \"-\" \"t\"\n",
            i % 4,
            i % 250,
            13 + secs / 3600,
            secs / 60 % 60,
            secs % 60
        ));
    }
    let p = dir.join("access.log");
    std::fs::write(&p, s).unwrap();
    p
}

#[test]
fn generated_log_partitions_by_utc_hour() {
    let tmp = tempfile::tempdir().unwrap();
    let dump = tmp.path().join("gen-host");
    std::fs::create_dir(&dump).unwrap();
    let log = generated_log(&dump, 3000);
    let to = tmp.path().join("out");
    let o = export(dump.to_str().unwrap(), &to, &["--host", "edge-1"]);
    ok(&o);
    let rows = read_parquet(&to);
    assert_eq!(rows.len(), 3000);
    let src: Vec<String> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    let mut per_dir: HashMap<String, usize> = HashMap::new();
    for r in &rows {
        let line = &src[(r.source_line - 1) as usize];
        let t = line.split(['[', ']']).nth(1).unwrap();
        let ms = jiff::Timestamp::strptime("%d/%b/%Y:%H:%M:%S %z", t)
            .unwrap()
            .as_millisecond();
        assert_eq!(r.time_ms, Some(ms));
        assert_eq!(r.partition, hour_dir(ms));
        assert_eq!(r.dump_host, "edge-1");
        let status: i32 = line.split("\" ").nth(1).unwrap()[..3].parse().unwrap();
        assert_eq!(r.status, Some(status));
        assert_eq!(r.cause.is_some(), status >= 500);
        *per_dir.entry(r.partition.clone()).or_default() += 1;
    }
    // +0100 local 13:00-15:59 is 12:00-14:59 UTC
    let mut dirs: Vec<_> = per_dir.keys().cloned().collect();
    dirs.sort();
    assert_eq!(
        dirs,
        [
            "date=2026-11-20/hour=12",
            "date=2026-11-20/hour=13",
            "date=2026-11-20/hour=14"
        ]
    );
}

#[test]
fn ndjson_has_one_row_per_access_line() {
    let tmp = tempfile::tempdir().unwrap();
    let to = tmp.path().join("nd");
    let o = export("fixtures/incident/", &to, &["--format", "ndjson"]);
    ok(&o);
    let mut files = Vec::new();
    files_with_ext(&to, "ndjson", &mut files);
    let mut n = 0;
    for f in files {
        for l in std::fs::read_to_string(f).unwrap().lines() {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            assert_eq!(v["schema_version"], "1");
            assert!(v["time"].as_str().is_some_and(|t| t.ends_with('Z')));
            n += 1;
        }
    }
    let src = lines_of("fixtures/incident/access.log");
    assert_eq!(n, src.iter().filter(|l| !l.trim().is_empty()).count());
}

#[test]
fn only_5xx_count_is_analyze_count() {
    let tmp = tempfile::tempdir().unwrap();
    let to = tmp.path().join("5xx");
    let o = export("fixtures/incident/", &to, &["--only", "5xx"]);
    ok(&o);
    let rows = read_parquet(&to);
    let a = gatecheck(&["analyze", "fixtures/incident/", "--format", "json"]);
    ok(&a);
    let v: serde_json::Value = serde_json::from_slice(&a.stdout).unwrap();
    let s5xx = v["totals"]["status_5xx"]
        .as_u64()
        .expect("totals.status_5xx");
    assert!(s5xx > 0);
    assert_eq!(rows.len() as u64, s5xx);
    assert!(rows.iter().all(|r| r.status.is_some_and(|s| s >= 500)));
    let n502 = rows.iter().filter(|r| r.status == Some(502)).count() as u64;
    assert_eq!(n502, v["totals"]["status_502"].as_u64().unwrap());
}

#[test]
fn existing_output_is_refused_unless_overwrite() {
    let tmp = tempfile::tempdir().unwrap();
    let to = tmp.path().join("out");
    std::fs::create_dir(&to).unwrap();
    std::fs::write(to.join("keep.txt"), "x").unwrap();
    let args = [
        "export",
        "fixtures/incident/",
        "--to",
        to.to_str().unwrap(),
        "--no-progress",
    ];
    let o = gatecheck(&args);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--overwrite"));
    let mut again = args.to_vec();
    again.push("--overwrite");
    ok(&gatecheck(&again));
    ok(&gatecheck(&again));
    // the second run replaced the first's partitions: no duplicate rows
    let rows = read_parquet(&to);
    let src = lines_of("fixtures/incident/access.log");
    assert_eq!(
        rows.len(),
        src.iter().filter(|l| !l.trim().is_empty()).count()
    );
    assert!(
        to.join("keep.txt").exists(),
        "only date=* partitions are replaced"
    );
}

#[test]
fn unwritable_output_is_an_error_without_partial_files() {
    let tmp = tempfile::tempdir().unwrap();
    // a file where the folder should be
    let to = tmp.path().join("file");
    std::fs::write(&to, "x").unwrap();
    let o = gatecheck(&["export", "fixtures/incident/", "--to", to.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    // a folder below a file cannot be created
    let to = tmp.path().join("file/below");
    let o = gatecheck(&["export", "fixtures/incident/", "--to", to.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!String::from_utf8_lossy(&o.stderr).contains("panicked"));
}

/// A tmpfs mounted for one test and unmounted when dropped.
struct SmallDisk(PathBuf);

impl SmallDisk {
    /// A `size` tmpfs at a new folder, or `None` where this process may not
    /// mount (not root, no CAP_SYS_ADMIN): `.ci/run` runs as root.
    fn mount(size: &str) -> Option<(tempfile::TempDir, SmallDisk)> {
        let tmp = tempfile::tempdir().ok()?;
        let at = tmp.path().join("disk");
        std::fs::create_dir(&at).ok()?;
        let st = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&at)
            .stderr(std::process::Stdio::null())
            .status()
            .ok()?;
        st.success().then(|| (tmp, SmallDisk(at)))
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn full_disk_is_an_error_without_partial_files() {
    // The demo's Parquet is ≈ 28 KB: it cannot fit in 8 KB.
    let Some((_tmp, disk)) = SmallDisk::mount("8k") else {
        eprintln!("full_disk: skipped, cannot mount a tmpfs here (needs root and CAP_SYS_ADMIN)");
        return;
    };
    let to = disk.0.join("out");
    let o = export("fixtures/incident/", &to, &[]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "stderr: {err}");
    assert!(err.contains("No space left on device"), "stderr: {err}");
    assert!(err.contains("export to another --to"), "stderr: {err}");
    assert!(!err.contains("panicked"));
    // nothing that looks complete, and no temporary file left behind
    let mut left = Vec::new();
    if to.exists() {
        files_with_ext(&to, "parquet", &mut left);
        files_with_ext(&to, "tmp", &mut left);
    }
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn unreadable_inputs_are_reported_as_analyze_does() {
    let tmp = tempfile::tempdir().unwrap();
    let to = tmp.path().join("out");
    let o = export("fixtures/no/such/dir", &to, &[]);
    let a = gatecheck(&["analyze", "fixtures/no/such/dir", "--no-progress"]);
    assert_eq!(o.status.code(), a.status.code());
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no input could be read as a log"));
}

/// Every `born_at` value of the Parquet under `dir`.
fn born_ats(dir: &Path) -> HashMap<String, u64> {
    let mut files = Vec::new();
    files_with_ext(dir, "parquet", &mut files);
    let mut out = HashMap::new();
    for f in files {
        let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(&f).unwrap())
            .unwrap()
            .build()
            .unwrap();
        for b in reader {
            let b = b.unwrap();
            for i in 0..b.num_rows() {
                if let Some(v) = string(&b, "born_at", i) {
                    *out.entry(v).or_default() += 1;
                }
            }
        }
    }
    out
}

fn analyze_born(dump: &str) -> HashMap<String, u64> {
    let a = gatecheck(&["analyze", dump, "--format", "json"]);
    ok(&a);
    let v: serde_json::Value = serde_json::from_slice(&a.stdout).unwrap();
    v["born"]["totals"]
        .as_object()
        .expect("born.totals")
        .iter()
        .map(|(k, n)| (k.clone(), n.as_u64().unwrap()))
        .collect()
}

#[test]
fn born_at_matches_analyze_one_hop_and_two_hops() {
    // the demo: nginx only; the chain: nginx in front of HAProxy (joined by request id)
    for dump in ["fixtures/incident/", "fixtures/logs/chain/"] {
        let tmp = tempfile::tempdir().unwrap();
        let to = tmp.path().join("out");
        ok(&export(dump, &to, &[]));
        let want = analyze_born(dump);
        assert!(!want.is_empty(), "{dump}: no 502 to place");
        assert_eq!(born_ats(&to), want, "{dump}");
    }
}

/// HAProxy rows carry their one upstream attempt: `backend/server`, `Tc`
/// and `Tr` (seconds; `-1`: not reached, null), and the status only when it
/// is the server's (`Tr` set and a normal end, `----`). The oracle splits
/// the `option httplog` line by whitespace (HAProxy manual §8.2.3).
#[test]
fn hop_rows_carry_their_upstream_attempt() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    ok(&gatecheck(&[
        "export",
        "fixtures/logs/chain",
        "--to",
        out.to_str().unwrap(),
        "--no-progress",
    ]));
    let rows = read_parquet(&out);
    let lines = lines_of("fixtures/logs/chain/haproxy.log");
    let hap: Vec<&Row> = rows.iter().filter(|r| r.hop_format == "haproxy").collect();
    assert_eq!(hap.len(), lines.len());
    for r in hap {
        let line = &lines[r.source_line as usize - 1];
        let f: Vec<&str> = line.split_whitespace().collect();
        // syslog header (5 fields), client, [date], frontend, backend/server, timers, status
        let (server, timers, status, state) = (f[8], f[9], f[10], f[14]);
        let t: Vec<i64> = timers.split('/').map(|v| v.parse().unwrap()).collect();
        let ms = |v: i64| (v >= 0).then(|| v as f64 / 1000.0);
        let status: i32 = status.parse().unwrap();
        let own = t[3] >= 0 && state.starts_with('-');
        assert_eq!(
            r.upstream,
            vec![(
                Some(server.to_string()),
                own.then_some(status),
                ms(t[2]),
                ms(t[3]),
                None
            )],
            "line {}",
            r.source_line
        );
    }
}
