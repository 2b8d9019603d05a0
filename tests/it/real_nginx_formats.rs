//! Real nginx, the log layouts people really have: one nginx 1.22 writes the
//! same requests through several `access_log` formats at once (JSON with
//! `escape=json`, `$time_iso8601`, `$msec`, ingress-nginx's `upstreaminfo`),
//! through syslog (access and error log, as datagrams like rsyslog receives
//! them), and into one file holding access and error lines interleaved (what
//! `kubectl logs` shows). nginx runs in a +05:30 zone so that the `$msec`
//! log (UTC) and the error log (local, no zone) disagree by a half-hour
//! multiple. Then `gatecheck analyze` must find the same 502s, causes and
//! rescued attempts in each, without being told the format.
//!
//! * nginx missing: skipped, or a failure with `GATECHECK_REQUIRE_PROXIES`.
//! * `GATECHECK_CAPTURE_DIR=DIR` copies what nginx wrote into `DIR/`
//!   (that is how `fixtures/logs/nginx/real/formats/` was made).

use std::collections::BTreeMap;
use std::fs;
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use crate::support::http;
use crate::support::nginx::{self, Nginx};
use crate::support::upstream::FaultUpstream;
use serde_json::Value;

/// The `TZ` nginx runs with: India, +05:30, no DST.
const TZ: &str = "IST-5:30";

/// Formats written side by side: (file stem, `log_format` line).
const FORMATS: &[(&str, &str)] = &[
    (
        "json",
        r#"escape=json '{"time":"$time_iso8601","remote_addr":"$remote_addr","request":"$request","status":$status,"body_bytes_sent":$body_bytes_sent,"request_time":$request_time,"upstream_addr":"$upstream_addr","upstream_status":"$upstream_status","upstream_connect_time":"$upstream_connect_time","upstream_header_time":"$upstream_header_time","upstream_response_time":"$upstream_response_time","host":"$host","http_user_agent":"$http_user_agent","request_id":"$request_id"}'"#,
    ),
    // the keys of ingress-nginx's JSON examples (log-format-escape-json)
    (
        "json_k8s",
        r#"escape=json '{"time": "$time_iso8601", "remote_addr": "$remote_addr", "x_forwarded_for": "$http_x_forwarded_for", "request_id": "$req_id", "remote_user": "$remote_user", "bytes_sent": $bytes_sent, "request_time": $request_time, "status": $status, "vhost": "$host", "request_proto": "$server_protocol", "path": "$uri", "request_query": "$args", "request_length": $request_length, "duration": $request_time, "method": "$request_method", "http_referrer": "$http_referer", "http_user_agent": "$http_user_agent", "upstream_addr": "$upstream_addr", "upstream_status": "$upstream_status", "upstream_response_time": "$upstream_response_time", "proxy_upstream_name": "$proxy_upstream_name"}'"#,
    ),
    (
        "iso8601",
        r#"'$remote_addr - $remote_user [$time_iso8601] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"'"#,
    ),
    (
        "msec",
        r#"'$msec $remote_addr "$request" $status $body_bytes_sent $request_time "$http_user_agent" ua="$upstream_addr" us="$upstream_status"'"#,
    ),
    // ingress-nginx's default, verbatim (internal/ingress/controller/config/config.go, logFormatUpstream)
    (
        "upstreaminfo",
        r#"'$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_length $request_time [$proxy_upstream_name] [$proxy_alternative_upstream_name] $upstream_addr $upstream_response_length $upstream_response_time $upstream_status $req_id'"#,
    ),
];

/// One request and what gatecheck must make of it.
struct Step {
    target: &'static str,
    status: u16,
    /// Cause of the 502 (or of the rescued attempt).
    cause: Option<&'static str>,
    rescued: bool,
}

const fn step(target: &'static str, status: u16, cause: Option<&'static str>) -> Step {
    Step {
        target,
        status,
        cause,
        rescued: false,
    }
}

const STEPS: &[Step] = &[
    step("/ok", 200, None),
    step("/refused", 502, Some("upstream_refused")),
    step("/closed", 502, Some("upstream_closed_early")),
    step("/reset", 502, Some("upstream_reset")),
    // retry_pool: the first server refuses, the second answers
    Step {
        target: "/retry",
        status: 200,
        cause: Some("upstream_refused"),
        rescued: true,
    },
    step("/passthrough", 502, Some("passthrough")),
    step("/nolive?try=1", 502, Some("upstream_refused")),
    step("/nolive?try=2", 502, Some("no_live_upstream")),
    step("/ok", 200, None),
];

/// A UDP syslog sink: every datagram nginx sends becomes one line of a
/// file, as a syslog server writing raw messages keeps them.
struct SyslogSink {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<Vec<u8>>>,
}

impl SyslogSink {
    fn start() -> SyslogSink {
        let sock = UdpSocket::bind("127.0.0.1:0").expect("udp bind");
        sock.set_read_timeout(Some(Duration::from_millis(100)))
            .expect("udp timeout");
        let addr = sock.local_addr().expect("udp addr");
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let handle = thread::spawn(move || {
            let mut out = Vec::new();
            let mut buf = [0u8; 65536];
            let deadline = std::time::Instant::now() + Duration::from_secs(120);
            while std::time::Instant::now() < deadline {
                match sock.recv(&mut buf) {
                    Ok(n) => {
                        out.extend_from_slice(&buf[..n]);
                        out.push(b'\n');
                    }
                    Err(_) if flag.load(Ordering::SeqCst) => break,
                    Err(_) => {}
                }
            }
            out
        });
        SyslogSink {
            addr,
            stop,
            handle: Some(handle),
        }
    }

    fn finish(mut self) -> Vec<u8> {
        self.stop.store(true, Ordering::SeqCst);
        self.handle
            .take()
            .and_then(|h| h.join().ok())
            .unwrap_or_default()
    }
}

fn conf(app: SocketAddr, listen: SocketAddr, syslog: SocketAddr, dead: [u16; 3]) -> String {
    let user = if nginx::is_root() { "user root;\n" } else { "" };
    let mut formats = String::new();
    let mut logs = String::new();
    for (name, f) in FORMATS {
        formats.push_str(&format!("    log_format {name} {f};\n"));
        logs.push_str(&format!("    access_log logs/{name}.log {name};\n"));
    }
    let [refused, dead1, dead2] = dead;
    format!(
        r#"# Written by tests/it/real_nginx_formats.rs: one nginx, the same requests in several layouts.
{user}worker_processes 1;
pid nginx.pid;
error_log logs/error.log warn;
error_log logs/kubectl.log warn;
error_log syslog:server={syslog},facility=local7,tag=nginx warn;

events {{
    worker_connections 64;
}}

http {{
    # ingress-nginx's own variables, as plain nginx can set them
    map $request_id $req_id {{ default $request_id; }}
{formats}{logs}    access_log logs/kubectl.log upstreaminfo;
    access_log syslog:server={syslog},facility=local7,tag=nginx,severity=info combined;

    client_body_temp_path temp/body;
    proxy_temp_path temp/proxy;
    fastcgi_temp_path temp/fastcgi;
    uwsgi_temp_path temp/uwsgi;
    scgi_temp_path temp/scgi;
    proxy_connect_timeout 2s;

    upstream app_backend {{ server {app}; }}
    upstream retry_pool {{ server 127.0.0.1:{refused}; server {app}; }}
    upstream dead_pool {{
        server 127.0.0.1:{dead1} max_fails=1 fail_timeout=30s;
        server 127.0.0.1:{dead2} max_fails=1 fail_timeout=30s;
    }}

    server {{
        listen {listen};
        server_name gatecheck.test;
        set $proxy_upstream_name "default-app-80";
        set $proxy_alternative_upstream_name "";

        location / {{ proxy_pass http://app_backend; }}
        location /refused {{ proxy_pass http://127.0.0.1:{refused}; }}
        location /retry {{ proxy_pass http://retry_pool; }}
        location /nolive {{ proxy_pass http://dead_pool; }}
    }}
}}
"#
    )
}

/// The logs one run left behind, in a directory that lives as long as this.
struct Run {
    dir: tempfile::TempDir,
}

impl Run {
    fn logs(&self) -> PathBuf {
        self.dir.path().join("logs")
    }
}

fn run_nginx(bin: &Path) -> Run {
    let dir = tempfile::Builder::new()
        .prefix("gatecheck-nginx-formats-")
        .tempdir()
        .expect("temp dir");
    let upstream = FaultUpstream::start().expect("fault upstream");
    let sink = SyslogSink::start();
    let listen = SocketAddr::from(([127, 0, 0, 1], nginx::free_port()));
    let dead = [nginx::free_port(), nginx::free_port(), nginx::free_port()];
    let text = conf(upstream.addr(), listen, sink.addr, dead);
    let mut ngx =
        Nginx::start(bin, dir.path(), &text, listen, TZ).unwrap_or_else(|e| panic!("{e}"));
    for s in STEPS {
        let got = http::request(listen, "GET", s.target, b"").expect("request");
        assert_eq!(got, s.status, "GET {}", s.target);
    }
    ngx.stop();
    drop(upstream);
    // nginx sends its datagrams before it answers; give the socket a moment
    thread::sleep(Duration::from_millis(200));
    let syslog = sink.finish();
    fs::write(dir.path().join("logs/syslog.log"), &syslog).expect("write syslog.log");
    let run = Run { dir };
    wrap_container_logs(&run.logs());
    run
}

/// What Docker's json-file driver and CRI runtimes (containerd, CRI-O) make
/// of a container's output, built from the interleaved file: the same lines,
/// each in its wrapper (access lines on stdout, error lines on stderr).
fn wrap_container_logs(logs: &Path) {
    let text = fs::read_to_string(logs.join("kubectl.log")).expect("kubectl.log");
    let mut docker = String::new();
    let mut cri = String::new();
    for (i, line) in text.lines().enumerate() {
        let stream = if line.as_bytes().get(4) == Some(&b'/') {
            "stderr"
        } else {
            "stdout"
        };
        let time = format!("2026-11-28T07:03:{:02}.{:09}Z", i % 60, i * 1000 + 17);
        let obj = serde_json::json!({"log": format!("{line}\n"), "stream": stream, "time": time});
        docker.push_str(&obj.to_string());
        docker.push('\n');
        cri.push_str(&format!("{time} {stream} F {line}\n"));
    }
    fs::write(logs.join("docker.log"), docker).expect("docker.log");
    fs::write(logs.join("cri.log"), cri).expect("cri.log");
}

fn capture(run: &Run) {
    let Some(root) = std::env::var_os("GATECHECK_CAPTURE_DIR") else {
        return;
    };
    let dir = Path::new(&root);
    fs::create_dir_all(dir).expect("capture dir");
    for e in fs::read_dir(run.logs()).expect("logs dir").flatten() {
        fs::copy(e.path(), dir.join(e.file_name())).expect("copy log");
    }
    fs::copy(run.dir.path().join("nginx.conf"), dir.join("nginx.conf")).expect("copy conf");
}

fn gatecheck(args: &[&Path], extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gatecheck"))
        .arg("analyze")
        .args(args)
        .args(["--format", "json", "--no-progress"])
        .args(extra)
        .output()
        .expect("run gatecheck")
}

fn json(what: &str, out: &Output) -> Value {
    assert!(
        out.status.success(),
        "{what}: gatecheck failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{what}: not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// The 502 causes and rescued causes the steps call for.
fn expected() -> (BTreeMap<String, u64>, BTreeMap<String, u64>) {
    let mut c502 = BTreeMap::new();
    let mut rescued = BTreeMap::new();
    for s in STEPS {
        if let Some(c) = s.cause {
            let m = if s.rescued { &mut rescued } else { &mut c502 };
            *m.entry(c.to_string()).or_default() += 1;
        }
    }
    (c502, rescued)
}

fn rows(doc: &Value, key: &str) -> BTreeMap<String, u64> {
    doc[key]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|r| {
                    (
                        r["cause"].as_str().unwrap_or("?").to_string(),
                        r["count"].as_u64().unwrap_or(0),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn causes(doc: &Value) -> BTreeMap<String, u64> {
    doc["causes"]
        .as_object()
        .map(|o| {
            o.iter()
                .filter(|(_, n)| n.as_u64() != Some(0))
                .map(|(k, n)| (k.clone(), n.as_u64().unwrap_or(0)))
                .collect()
        })
        .unwrap_or_default()
}

/// Every layout, analyzed with the plain error log, without any format
/// given: same 502s, same causes; rescued attempts where the layout logs
/// `$upstream_status`.
fn check_layouts(logs: &Path) {
    let (want502, want_rescued) = expected();
    let n502 = STEPS.iter().filter(|s| s.status == 502).count() as u64;
    for (name, _) in FORMATS {
        let access = logs.join(format!("{name}.log"));
        let doc = json(name, &gatecheck(&[&access, &logs.join("error.log")], &[]));
        let input = &doc["inputs"][0];
        assert_eq!(input["kind"], "nginx_access", "{name}: {input}");
        assert_eq!(doc["totals"]["requests"], STEPS.len() as u64, "{name}");
        assert_eq!(doc["totals"]["malformed"], 0, "{name}: {doc}");
        assert_eq!(doc["totals"]["status_502"], n502, "{name}");
        assert_eq!(causes(&doc), want502, "{name}: 502 causes");
        if *name != "iso8601" {
            assert_eq!(
                rows(&doc, "causes_rescued"),
                want_rescued,
                "{name}: rescued"
            );
        }
    }
}

/// The `$msec` log is UTC and the error log +05:30: the offset is found
/// and said.
fn check_offset(logs: &Path) {
    let out = gatecheck(&[&logs.join("msec.log"), &logs.join("error.log")], &[]);
    let doc = json("msec", &out);
    let text = doc.to_string();
    assert!(
        text.contains("UTC+05:30"),
        "msec: the detected error-log offset is not reported: {text}"
    );
    // --error-log-tz still wins: read as UTC, nothing joins
    let out = gatecheck(
        &[&logs.join("msec.log"), &logs.join("error.log")],
        &["--error-log-tz", "+00:00"],
    );
    let doc = json("msec forced UTC", &out);
    assert!(
        causes(&doc).contains_key("unknown"),
        "msec with a wrong --error-log-tz must not join: {doc}"
    );
}

/// Syslog, kubectl, Docker and CRI packaging: peeled, both kinds of line
/// read from one file.
fn check_packaging(logs: &Path) {
    let (want502, want_rescued) = expected();
    for name in ["kubectl", "docker", "cri"] {
        let doc = json(name, &gatecheck(&[&logs.join(format!("{name}.log"))], &[]));
        assert_eq!(doc["totals"]["malformed"], 0, "{name}: {doc}");
        assert_eq!(causes(&doc), want502, "{name}: 502 causes");
        assert_eq!(
            rows(&doc, "causes_rescued"),
            want_rescued,
            "{name}: rescued"
        );
    }
    let doc = json("syslog", &gatecheck(&[&logs.join("syslog.log")], &[]));
    assert_eq!(doc["totals"]["malformed"], 0, "syslog: {doc}");
    assert_eq!(causes(&doc), want502, "syslog: 502 causes");
}

#[test]
fn real_nginx_log_layouts() {
    let Some(bin) = nginx::require_nginx() else {
        return;
    };
    let run = run_nginx(&bin);
    capture(&run);
    let logs = run.logs();
    check_layouts(&logs);
    check_offset(&logs);
    check_packaging(&logs);
}
