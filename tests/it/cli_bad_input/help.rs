//! Every example of every `--help` can be copied from a terminal 80
//! columns wide and run: clap wraps its text at the terminal's width, and
//! it used to cut examples longer than that in two, neither of which ran.
//! Each example runs here on small inputs named as it names them; it must
//! exit 0 or 1 (findings), never 2.

use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_gatecheck");
const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The examples block of `gatecheck ARGS --help` on a terminal `columns` wide.
fn block(args: &[&str], columns: u16) -> String {
    let out = Command::new(BIN)
        .args(args)
        .arg("--help")
        .env("COLUMNS", columns.to_string())
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let block = text
        .split("Examples:\n")
        .nth(1)
        .unwrap_or_else(|| panic!("{args:?}: no examples"));
    block
        .lines()
        .take_while(|l| l.starts_with("  "))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// The examples of `gatecheck ARGS --help`, continuation lines (`\`)
/// joined, once checked that an 80-column terminal shows them unwrapped.
fn examples(args: &[&str]) -> Vec<String> {
    let wide = block(args, 1000);
    assert_eq!(block(args, 80), wide, "{args:?}: wrapped at 80 columns");
    let mut out = Vec::new();
    let mut joined = String::new();
    for line in wide.lines() {
        match line.trim().strip_suffix('\\') {
            Some(part) => joined += part,
            None => {
                joined += line.trim();
                out.push(std::mem::take(&mut joined));
            }
        }
    }
    assert!(out.len() >= 3, "{args:?}: {out:?}");
    out
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

/// A folder holding every file the examples name, in the layout they name.
fn workdir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let fx = Path::new(ROOT).join("fixtures");
    let incident = fx.join("incident");
    for to in ["fixtures/incident", "dump", "dump-edge-17", "var/log/nginx"] {
        copy_dir(&incident, &d.join(to));
    }
    for to in [
        "dump/etc/nginx/nginx.conf",
        "etc/nginx/nginx.conf",
        "nginx.conf",
    ] {
        std::fs::create_dir_all(d.join(to).parent().unwrap()).unwrap();
        std::fs::copy(incident.join("nginx.conf"), d.join(to)).unwrap();
    }
    std::fs::copy(
        fx.join("logs/envoy_config/envoy.yaml"),
        d.join("envoy.yaml"),
    )
    .unwrap();
    std::fs::copy(
        fx.join("logs/haproxy/real/haproxy.cfg"),
        d.join("haproxy.cfg"),
    )
    .unwrap();
    std::fs::copy(fx.join("logs/haproxy/syslog_mixed.log"), d.join("lb1.log")).unwrap();
    std::fs::copy(incident.join("error.log"), d.join("error.log")).unwrap();
    // in the formats the examples give with --log-format
    std::fs::write(
        d.join("access.log"),
        "10.0.0.1 [20/Nov/2026:14:05:00 +0000] \"GET / HTTP/1.1\" 502 10.1.0.1:80\n\
         10.0.0.2 [20/Nov/2026:14:05:01 +0000] \"GET /a HTTP/1.1\" 200 10.1.0.1:80\n",
    )
    .unwrap();
    std::fs::write(
        d.join("access.json"),
        "{\"t\":\"1763647500.000\",\"s\":502,\"r\":\"GET / HTTP/1.1\"}\n\
         {\"t\":\"1763647501.000\",\"s\":200,\"r\":\"GET /b HTTP/1.1\"}\n",
    )
    .unwrap();
    std::fs::create_dir(d.join("envoy")).unwrap();
    std::fs::write(
        d.join("envoy/e.log"),
        "[1763647500.000] GET / 503 UF 12\n[1763647501.000] GET /x 200 - 3\n",
    )
    .unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(
        &mut gz,
        &std::fs::read(incident.join("access.log")).unwrap(),
    )
    .unwrap();
    std::fs::write(d.join("access.log.1.gz"), gz.finish().unwrap()).unwrap();
    std::fs::create_dir(d.join("conf.d")).unwrap();
    std::fs::write(
        d.join("conf.d/app.conf"),
        "server { listen 80; location / { proxy_pass http://127.0.0.1:8080; } }\n",
    )
    .unwrap();
    std::fs::create_dir(d.join("snippets")).unwrap();
    std::fs::write(
        d.join("snippets/proxy.conf"),
        "proxy_pass http://127.0.0.1:8080;\nproxy_read_timeout 30s;\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(BIN, d.join("gatecheck")).unwrap();
    dir
}

#[test]
fn help_examples_fit_80_columns_and_run() {
    let dir = workdir();
    let path = format!(
        "{}:{}",
        dir.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let comment = regex::Regex::new(r"\s{2,}# .*$").unwrap();
    let mut ran = 0;
    for sub in [&[][..], &["analyze"], &["lint"], &["formats"], &["export"]] {
        for ex in examples(sub) {
            let ex = comment
                .replace(&ex, "")
                .replace(" /etc/", " etc/")
                .replace(" /var/", " var/");
            if !ex.contains("gatecheck ") {
                continue; // duckdb over export's output
            }
            let out = Command::new("sh")
                .arg("-c")
                .arg(&ex)
                .current_dir(dir.path())
                .env("PATH", &path)
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(
                matches!(out.status.code(), Some(0 | 1)) && !err.contains("error"),
                "{ex}: {:?}\n{err}",
                out.status
            );
            ran += 1;
        }
    }
    assert!(ran >= 20, "{ran}");
}
