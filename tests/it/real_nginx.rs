//! Real nginx, real faults: start nginx on 127.0.0.1 with its own prefix in
//! front of a fault-injecting upstream (and an NXDOMAIN DNS responder), cause
//! each kind of 502/504 for real, then check what nginx logged and that
//! `gatecheck analyze` gives every request the right cause and evidence.
//!
//! Runs twice: with a rich `log_format` (upstream variables) and with plain
//! `combined`, where only the error log can tell the cause.
//!
//! * nginx missing: skipped with a message, or a failure when
//!   `GATECHECK_REQUIRE_PROXIES` is set (`.ci/run` sets it).
//! * `GATECHECK_NGINX=/path/to/nginx` picks the binary (default: `$PATH`,
//!   then /usr/sbin).
//! * `GATECHECK_CAPTURE_DIR=DIR` copies the logs and config nginx wrote into
//!   `DIR/{rich,combined}/` (that is how `fixtures/logs/nginx/real/` was made).

use std::collections::BTreeMap;
use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::support::cli::analyze_json_paths;
use crate::support::dns::NxDomainServer;
use crate::support::http;
use crate::support::nginx::{self, Nginx};
use crate::support::upstream::{Blackhole, FaultUpstream};
use serde_json::Value;

/// The rich access-log format: combined plus the timings and the upstream
/// variables with one element per attempt.
use crate::support::nginx::RICH_FORMAT;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Variant {
    Rich,
    Combined,
}

impl Variant {
    fn name(self) -> &'static str {
        match self {
            Variant::Rich => "rich",
            Variant::Combined => "combined",
        }
    }

    /// The `TZ` nginx runs with: UTC for one run, a fixed +01:00 for the
    /// other, so that joining the zone-less error log is tested both ways.
    fn tz(self) -> &'static str {
        match self {
            Variant::Rich => "UTC0",
            Variant::Combined => "CET-1",
        }
    }
}

/// What gatecheck must say about one request.
#[derive(Clone, Copy, Debug)]
struct Expect {
    cause: &'static str,
    /// A substring of one `evidence` string (the error-log message text);
    /// `None` where no error-log line exists (passthrough).
    evidence: Option<&'static str>,
    /// The client got a non-5xx, but an attempt failed.
    rescued: bool,
}

/// One request the test sends, in order; the n-th step is line n of the
/// access log (one worker, one request at a time).
#[derive(Clone, Copy, Debug)]
struct Step {
    method: &'static str,
    target: &'static str,
    status: u16,
    expect: Option<Expect>,
}

impl Step {
    /// The status the client sees: an HTTP/0.9 answer (logged as 009) has
    /// none (0).
    fn client_status(&self) -> u16 {
        if self.status < 100 {
            0
        } else {
            self.status
        }
    }

    fn body(&self) -> Vec<u8> {
        match (self.method, self.target) {
            // larger than any socket buffer on the way: nginx is still
            // sending it when the upstream resets the connection
            ("POST", "/upload") => vec![b'x'; UPLOAD_BYTES],
            ("POST", _) => b"{\"order\":42}".to_vec(),
            _ => Vec::new(),
        }
    }
}

/// A request that must get no event (a clean 2xx).
const fn clean(method: &'static str, target: &'static str) -> Step {
    Step {
        method,
        target,
        status: 200,
        expect: None,
    }
}

/// A request whose response (or one of its attempts) failed.
const fn fault(
    method: &'static str,
    target: &'static str,
    status: u16,
    cause: &'static str,
    evidence: Option<&'static str>,
    rescued: bool,
) -> Step {
    Step {
        method,
        target,
        status,
        expect: Some(Expect {
            cause,
            evidence,
            rescued,
        }),
    }
}

/// `upstream[].connect_time/header_time/response_time` in gatecheck's
/// events are in seconds, as nginx logs them (README, "Events").
const ATTEMPT_TIME_PER_SECOND: f64 = 1.0;

/// Request body of `POST /upload`.
const UPLOAD_BYTES: usize = 8 << 20;

const REFUSED: Option<&str> = Some("connect() failed (111: Connection refused)");
const CLOSED: Option<&str> = Some("upstream prematurely closed connection");

const STEPS: &[Step] = &[
    clean("GET", "/ok"),
    fault("GET", "/refused", 502, "upstream_refused", REFUSED, false),
    fault(
        "GET",
        "/reset",
        502,
        "upstream_reset",
        Some("recv() failed (104: Connection reset by peer)"),
        false,
    ),
    fault(
        "GET",
        "/closed",
        502,
        "upstream_closed_early",
        CLOSED,
        false,
    ),
    // The upstream resets while nginx is still sending an 8 MiB body.
    fault(
        "POST",
        "/upload",
        502,
        "upstream_reset",
        Some("(104: Connection reset by peer)"),
        false,
    ),
    fault(
        "GET",
        "/bigheader",
        502,
        "header_too_big",
        Some("upstream sent too big header"),
        false,
    ),
    fault(
        "GET",
        "/badheader",
        502,
        "invalid_header",
        Some("upstream sent invalid header"),
        false,
    ),
    // A SYN that is never answered (full accept queue):
    // proxy_connect_timeout 1s.
    fault(
        "GET",
        "/connect-timeout",
        504,
        "timeout",
        Some("upstream timed out (110: Connection timed out) while connecting to upstream"),
        false,
    ),
    fault(
        "GET",
        "/slow",
        504,
        "timeout",
        Some("upstream timed out (110: Connection timed out)"),
        false,
    ),
    // Both servers of `dead_pool` refuse: two attempts, both refused; each
    // is then marked failed for fail_timeout=30s ...
    fault(
        "GET",
        "/nolive?try=1",
        502,
        "upstream_refused",
        REFUSED,
        false,
    ),
    // ... so the next request finds no server to try at all.
    fault(
        "GET",
        "/nolive?try=2",
        502,
        "no_live_upstream",
        Some("no live upstreams"),
        false,
    ),
    // mixed_pool: A (max_fails=2) and B (max_fails=1) both refuse. First
    // request: A fails once (still live), B is disabled ...
    fault(
        "GET",
        "/mixed?try=1",
        502,
        "upstream_refused",
        REFUSED,
        false,
    ),
    // ... second: A refuses again, and the retry finds no live server:
    // one request, a refused attempt then "no live upstreams".
    fault(
        "GET",
        "/mixed?try=2",
        502,
        "no_live_upstream",
        Some("no live upstreams"),
        false,
    ),
    // Garbage instead of a status line: nginx logs an error but passes the
    // bytes through as an HTTP/0.9 response and logs status 009. Not a 5xx.
    Step {
        method: "GET",
        target: "/badstatus",
        status: 9,
        expect: None,
    },
    // The upstream's own 502: no error-log line.
    fault("GET", "/passthrough", 502, "passthrough", None, false),
    fault(
        "GET",
        "/tls",
        502,
        "tls",
        Some("SSL_do_handshake() failed"),
        false,
    ),
    fault(
        "GET",
        "/dns",
        502,
        "dns",
        Some("could not be resolved (3: Host not found)"),
        false,
    ),
    // retry_pool: the first server refuses, nginx retries on the second,
    // which answers 200: a 502 attempt rescued by the retry.
    fault("GET", "/retry", 200, "upstream_refused", REFUSED, true),
    // Keepalive race: `ka_backend` keeps an idle connection; the upstream
    // closes it just as nginx reuses it. nginx retries a failed cached
    // connection for free (same server, fresh connection): rescued.
    clean("GET", "/keepalive/prime"),
    fault("GET", "/keepalive/get", 200, "keepalive_race", CLOSED, true),
    // A POST is not retried (non-idempotent): the client gets the 502. Its
    // log lines look exactly like `/closed` (a reused connection logs
    // uct="0.000" like a fresh one on loopback), so without the config
    // nothing proves it was a race: the evidence says one is possible.
    // tests/it/real_nginx_causes.rs gives the config, whose `keepalive` makes
    // it a likely race.
    fault(
        "POST",
        "/keepalive/post",
        502,
        "upstream_closed_early",
        CLOSED,
        false,
    ),
    clean("GET", "/ok"),
];

/// Ports and addresses one nginx run uses.
struct Net {
    listen: SocketAddr,
    app: SocketAddr,
    blackhole: SocketAddr,
    dns: SocketAddr,
    refused_port: u16,
    retry_dead_port: u16,
    pool_dead_ports: [u16; 2],
    mixed_dead_ports: [u16; 2],
}

fn nginx_conf(variant: Variant, net: &Net) -> String {
    let user = if nginx::is_root() { "user root;\n" } else { "" };
    let (error_log, log_format, access_log) = match variant {
        Variant::Rich => (
            "error_log logs/error.log warn;",
            format!("    log_format upstream_rich '{RICH_FORMAT}';\n"),
            "access_log logs/access.log upstream_rich;",
        ),
        Variant::Combined => (
            "error_log logs/error.log;",
            String::new(),
            "access_log logs/access.log combined;",
        ),
    };
    let Net {
        listen,
        app,
        blackhole,
        dns,
        refused_port,
        retry_dead_port,
        pool_dead_ports: [dead1, dead2],
        mixed_dead_ports: [mixed_a, mixed_b],
    } = net;
    format!(
        r#"# Written by tests/it/real_nginx.rs ({variant} run): nginx in front of a
# fault-injecting upstream on {app}; every path below fails in its own way.
{user}worker_processes 1;
pid nginx.pid;
{error_log}

events {{
    worker_connections 64;
}}

http {{
{log_format}    {access_log}

    client_body_temp_path temp/body;
    proxy_temp_path temp/proxy;
    fastcgi_temp_path temp/fastcgi;
    uwsgi_temp_path temp/uwsgi;
    scgi_temp_path temp/scgi;

    proxy_connect_timeout 2s;
    resolver {dns};
    resolver_timeout 2s;

    upstream app_backend {{
        server {app};
    }}

    upstream retry_pool {{
        server 127.0.0.1:{retry_dead_port};
        server {app};
    }}

    upstream ka_backend {{
        server {app};
        keepalive 4;
    }}

    upstream dead_pool {{
        server 127.0.0.1:{dead1} max_fails=1 fail_timeout=30s;
        server 127.0.0.1:{dead2} max_fails=1 fail_timeout=30s;
    }}

    upstream mixed_pool {{
        server 127.0.0.1:{mixed_a} max_fails=2 fail_timeout=30s;
        server 127.0.0.1:{mixed_b} max_fails=1 fail_timeout=30s;
    }}

    server {{
        listen {listen};
        server_name gatecheck.test;

        location / {{
            proxy_pass http://app_backend;
        }}
        location /refused {{
            proxy_pass http://127.0.0.1:{refused_port};
        }}
        location /upload {{
            client_max_body_size 16m;
            proxy_pass http://app_backend;
        }}
        location /bigheader {{
            proxy_buffer_size 1k;
            proxy_pass http://app_backend;
        }}
        location /connect-timeout {{
            proxy_connect_timeout 1s;
            proxy_pass http://{blackhole};
        }}
        location /slow {{
            proxy_read_timeout 1s;
            proxy_pass http://app_backend;
        }}
        location /nolive {{
            proxy_pass http://dead_pool;
        }}
        location /mixed {{
            proxy_pass http://mixed_pool;
        }}
        location /retry {{
            proxy_pass http://retry_pool;
        }}
        location /tls {{
            proxy_pass https://app_backend;
        }}
        location /keepalive {{
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass http://ka_backend;
        }}
        location /dns {{
            set $backend_host orders.internal.invalid;
            proxy_pass http://$backend_host:8080;
        }}
    }}
}}
"#,
        variant = variant.name(),
    )
}

/// What one nginx run left behind.
struct Run {
    access: PathBuf,
    error: PathBuf,
    conf: PathBuf,
    net: Net,
    _dir: tempfile::TempDir,
}

/// Start the upstream, the DNS responder and nginx, send every step, stop
/// everything, and return the log paths.
fn run_nginx(bin: &Path, variant: Variant) -> Run {
    let dir = tempfile::Builder::new()
        .prefix(&format!("gatecheck-nginx-{}-", variant.name()))
        .tempdir()
        .expect("temp dir");
    let upstream = FaultUpstream::start().expect("fault upstream");
    let dns = NxDomainServer::start().expect("dns responder");
    let blackhole = Blackhole::start().expect("blackhole listener");
    let net = Net {
        listen: SocketAddr::from(([127, 0, 0, 1], nginx::free_port())),
        app: upstream.addr(),
        blackhole: blackhole.addr(),
        dns: dns.addr(),
        refused_port: nginx::free_port(),
        retry_dead_port: nginx::free_port(),
        pool_dead_ports: [nginx::free_port(), nginx::free_port()],
        mixed_dead_ports: [nginx::free_port(), nginx::free_port()],
    };
    let conf = nginx_conf(variant, &net);
    let mut ngx = Nginx::start(bin, dir.path(), &conf, net.listen, variant.tz())
        .unwrap_or_else(|e| panic!("{e}"));
    for step in STEPS {
        let status = http::request(net.listen, step.method, step.target, &step.body())
            .unwrap_or_else(|e| panic!("{} {}: {e}", variant.name(), step.target));
        assert_eq!(
            status,
            step.client_status(),
            "{} run: {} {} got {status}",
            variant.name(),
            step.method,
            step.target
        );
    }
    assert!(dns.answered() >= 1, "nginx never asked the DNS responder");
    let prefix = ngx.prefix().to_path_buf();
    ngx.stop();
    drop(upstream);
    drop(dns);
    drop(blackhole);
    Run {
        access: prefix.join("logs/access.log"),
        error: prefix.join("logs/error.log"),
        conf: prefix.join("nginx.conf"),
        net,
        _dir: dir,
    }
}

/// Check what nginx itself wrote, independently of gatecheck.
fn check_raw_logs(variant: Variant, run: &Run) {
    let access = fs::read_to_string(&run.access).expect("access.log");
    let error = fs::read_to_string(&run.error).expect("error.log");
    let lines: Vec<&str> = access.lines().collect();
    assert_eq!(lines.len(), STEPS.len(), "access.log:\n{access}");
    for (line, step) in lines.iter().zip(STEPS) {
        let request = format!(
            "\"{} {} HTTP/1.1\" {:03} ",
            step.method, step.target, step.status
        );
        assert!(line.contains(&request), "expected {request:?} in {line:?}");
        // The error-log lines of this request (its request line is unique).
        let field = format!("request: \"{} {} HTTP/1.1\"", step.method, step.target);
        let own: Vec<&str> = error.lines().filter(|l| l.contains(&field)).collect();
        match step.expect {
            Some(Expect {
                evidence: Some(ev), ..
            }) => assert!(
                own.iter().any(|l| l.contains(ev) && l.contains("[error]")),
                "{} run: no [error] line with {ev:?} for {field}:\n{error}",
                variant.name()
            ),
            _ if step.target == "/badstatus" => assert!(
                own.iter()
                    .any(|l| l.contains("upstream sent no valid HTTP/1.0 header")),
                "{} run: /badstatus: {own:?}",
                variant.name()
            ),
            // passthrough and clean requests: nginx logged no error at all
            _ => assert!(
                !own.iter().any(|l| l.contains("[error]")),
                "{} run: unexpected error line for {field}: {own:?}",
                variant.name()
            ),
        }
    }
    if variant == Variant::Rich {
        let retry = lines[STEPS.iter().position(|s| s.target == "/retry").unwrap()];
        let want = format!(
            "ua=\"127.0.0.1:{}, {}\" us=\"502, 200\"",
            run.net.retry_dead_port, run.net.app
        );
        assert!(retry.contains(&want), "{want:?} not in {retry:?}");
        let nolive = lines[STEPS
            .iter()
            .position(|s| s.target == "/nolive?try=2")
            .unwrap()];
        assert!(
            nolive.contains("ua=\"dead_pool\" us=\"502\""),
            "no live upstreams: {nolive:?}"
        );
        let mixed = lines[STEPS
            .iter()
            .position(|s| s.target == "/mixed?try=2")
            .unwrap()];
        let want = format!(
            "ua=\"127.0.0.1:{}, mixed_pool\" us=\"502, 502\"",
            run.net.mixed_dead_ports[0]
        );
        assert!(mixed.contains(&want), "{want:?} not in {mixed:?}");
    }
}

/// `GATECHECK_CAPTURE_DIR`: keep the real logs and config as fixtures.
fn capture(variant: Variant, run: &Run) {
    let Some(root) = std::env::var_os("GATECHECK_CAPTURE_DIR") else {
        return;
    };
    let dir = Path::new(&root).join(variant.name());
    fs::create_dir_all(&dir).expect("capture dir");
    fs::copy(&run.access, dir.join("access.log")).expect("copy access.log");
    fs::copy(&run.error, dir.join("error.log")).expect("copy error.log");
    fs::copy(&run.conf, dir.join("nginx.conf")).expect("copy nginx.conf");
    let mut tsv = String::from("line\trequest\tstatus\tcause\trescued\tevidence\n");
    for (i, s) in STEPS.iter().enumerate() {
        let (cause, rescued, ev) = match s.expect {
            Some(e) => (e.cause, e.rescued, e.evidence.unwrap_or("-")),
            None => ("-", false, "-"),
        };
        tsv.push_str(&format!(
            "{}\t{} {}\t{}\t{cause}\t{rescued}\t{ev}\n",
            i + 1,
            s.method,
            s.target,
            s.status
        ));
    }
    fs::write(dir.join("expected.tsv"), tsv).expect("write expected.tsv");
    eprintln!("captured {} run into {}", variant.name(), dir.display());
}

/// Run `gatecheck analyze` on the run's logs and return its stdout.
fn gatecheck(variant: Variant, run: &Run, format: &str) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gatecheck"));
    cmd.arg("analyze")
        .arg(&run.access)
        .arg(&run.error)
        .args(["--format", format, "--no-progress"]);
    if variant == Variant::Rich {
        cmd.args(["--log-format", RICH_FORMAT]);
    }
    let out = cmd.output().expect("run gatecheck");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{}: gatecheck analyze --format {format} failed ({}):\n{stderr}",
        variant.name(),
        out.status
    );
    String::from_utf8(out.stdout).expect("gatecheck output is UTF-8")
}

/// Seconds since the epoch of an nginx `$time_local` (`27/Nov/2026:01:40:00 +0100`).
fn time_local_epoch(access_line: &str) -> i64 {
    let start = access_line.find('[').expect("[time_local]") + 1;
    let end = access_line[start..].find(']').expect("]") + start;
    jiff::fmt::strtime::parse("%d/%b/%Y:%H:%M:%S %z", &access_line[start..end])
        .and_then(|t| t.to_timestamp())
        .expect("time_local")
        .as_second()
}

fn check_events(variant: Variant, run: &Run, ndjson: &str) {
    let v = variant.name();
    let access = fs::read_to_string(&run.access).expect("access.log");
    let access_lines: Vec<&str> = access.lines().collect();
    let mut by_line: BTreeMap<u64, Value> = BTreeMap::new();
    for (n, text) in ndjson
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let ev: Value = serde_json::from_str(text)
            .unwrap_or_else(|e| panic!("{v}: ndjson line {} is not JSON ({e}): {text}", n + 1));
        let line = ev["line"]
            .as_u64()
            .unwrap_or_else(|| panic!("{v}: no int \"line\": {text}"));
        assert!(
            by_line.insert(line, ev).is_none(),
            "{v}: two events for line {line}"
        );
    }
    for (i, step) in STEPS.iter().enumerate() {
        let line = i as u64 + 1;
        let what = format!("{v} run, access.log:{line} {} {}", step.method, step.target);
        let Some(expect) = step.expect else {
            assert!(
                !by_line.contains_key(&line),
                "{what}: a clean 200 got an event: {}",
                by_line[&line]
            );
            continue;
        };
        let Some(ev) = by_line.get(&line) else {
            if expect.rescued && variant == Variant::Combined {
                // combined has no $upstream_status: the rescued attempt is
                // visible only as an error-log line next to a 200.
                continue;
            }
            panic!("{what}: no event; events: {ndjson}");
        };
        let mut cause = expect.cause;
        if variant == Variant::Combined && cause == "keepalive_race" && ev["cause"] != cause {
            // Without $upstream_addr the same-server retry is invisible.
            cause = "upstream_closed_early";
        }
        let file = ev["file"]
            .as_str()
            .unwrap_or_else(|| panic!("{what}: no \"file\": {ev}"));
        assert!(file.ends_with("access.log"), "{what}: file {file:?}");
        let time = ev["time"]
            .as_str()
            .unwrap_or_else(|| panic!("{what}: no \"time\": {ev}"));
        let t: jiff::Timestamp = time
            .parse()
            .unwrap_or_else(|e| panic!("{what}: time {time:?} is not RFC 3339: {e}"));
        assert_eq!(
            t.as_second(),
            time_local_epoch(access_lines[i]),
            "{what}: time {time} vs {}",
            access_lines[i]
        );
        assert_eq!(ev["method"], step.method, "{what}: {ev}");
        let path = ev["path"]
            .as_str()
            .unwrap_or_else(|| panic!("{what}: no \"path\": {ev}"));
        let bare = step.target.split('?').next().unwrap();
        assert!(path.starts_with(bare), "{what}: path {path:?}");
        assert_eq!(ev["status"], u64::from(step.status), "{what}: {ev}");
        assert_eq!(ev["cause"], cause, "{what}: {ev}");
        assert_eq!(ev["rescued"], expect.rescued, "{what}: {ev}");
        let evidence: Vec<&str> = ev["evidence"]
            .as_array()
            .unwrap_or_else(|| panic!("{what}: no \"evidence\" array: {ev}"))
            .iter()
            .map(|e| {
                e.as_str()
                    .unwrap_or_else(|| panic!("{what}: evidence not strings: {ev}"))
            })
            .collect();
        if let Some(want) = expect.evidence {
            assert!(
                evidence.iter().any(|e| e.contains(want)),
                "{what}: no evidence containing {want:?}: {ev}"
            );
        }
        let upstream = ev["upstream"]
            .as_array()
            .unwrap_or_else(|| panic!("{what}: no \"upstream\" array: {ev}"));
        for u in upstream {
            for key in [
                "addr",
                "status",
                "connect_time",
                "header_time",
                "response_time",
            ] {
                assert!(u.get(key).is_some(), "{what}: upstream lacks {key:?}: {ev}");
            }
        }
        if variant == Variant::Rich {
            check_upstream(&what, i, run, upstream);
        }
    }
    for line in by_line.keys() {
        assert!(
            (1..=STEPS.len() as u64).contains(line),
            "{v}: event for a line that does not exist: {line}"
        );
    }
}

/// Rich run: the upstream attempts must be those nginx logged.
fn check_upstream(what: &str, i: usize, run: &Run, upstream: &[Value]) {
    let step = &STEPS[i];
    let app = run.net.app.to_string();
    let addrs: Vec<&str> = upstream
        .iter()
        .map(|u| u["addr"].as_str().unwrap_or("-"))
        .collect();
    let statuses: Vec<Option<u64>> = upstream.iter().map(|u| u["status"].as_u64()).collect();
    let dead = |p: u16| format!("127.0.0.1:{p}");
    let (want_addrs, want_status): (Vec<String>, Vec<Option<u64>>) = match step.target {
        "/refused" => (vec![dead(run.net.refused_port)], vec![Some(502)]),
        "/slow" => (vec![app.clone()], vec![Some(504)]),
        "/connect-timeout" => (vec![run.net.blackhole.to_string()], vec![Some(504)]),
        "/passthrough" => (vec![app.clone()], vec![Some(502)]),
        "/nolive?try=1" => (
            run.net.pool_dead_ports.iter().map(|&p| dead(p)).collect(),
            vec![Some(502), Some(502)],
        ),
        "/nolive?try=2" => (vec!["dead_pool".into()], vec![Some(502)]),
        "/mixed?try=1" => (
            run.net.mixed_dead_ports.iter().map(|&p| dead(p)).collect(),
            vec![Some(502), Some(502)],
        ),
        "/mixed?try=2" => (
            vec![dead(run.net.mixed_dead_ports[0]), "mixed_pool".into()],
            vec![Some(502), Some(502)],
        ),
        "/retry" => (
            vec![dead(run.net.retry_dead_port), app.clone()],
            vec![Some(502), Some(200)],
        ),
        "/keepalive/get" => (vec![app.clone(), app.clone()], vec![Some(502), Some(200)]),
        "/reset" | "/upload" | "/closed" | "/bigheader" | "/badheader" | "/tls"
        | "/keepalive/post" => (vec![app.clone()], vec![Some(502)]),
        _ => return,
    };
    assert_eq!(addrs, want_addrs, "{what}: upstream addrs");
    assert_eq!(statuses, want_status, "{what}: upstream statuses");
    // Every attempt's times are what nginx logged (`-` as null), in the
    // README's unit for `upstream[]` times: milliseconds (nginx logs
    // seconds, and the event's `request_time` is in seconds).
    let line = access_line(run, i);
    for (key, var) in [
        ("connect_time", "uct"),
        ("header_time", "uht"),
        ("response_time", "urt"),
    ] {
        let logged = logged_values(&line, var);
        assert_eq!(logged.len(), upstream.len(), "{what}: {var} in {line}");
        for (n, (u, want)) in upstream.iter().zip(&logged).enumerate() {
            let got = u[key].as_f64();
            let want: Option<f64> = want.parse().ok();
            let same = match (got, want) {
                (Some(g), Some(w)) => (g / ATTEMPT_TIME_PER_SECOND - w).abs() < 0.0005,
                (None, None) => u[key].is_null(),
                _ => false,
            };
            assert!(
                same,
                "{what}: attempt {} {key} is {} (ms), nginx logged {var}=\"{}\" (s)",
                n + 1,
                u[key],
                logged.join(", ")
            );
        }
    }
    if step.target == "/passthrough" {
        assert!(
            upstream[0]["header_time"].is_number(),
            "{what}: passthrough has a header time: {upstream:?}"
        );
    }
    if step.target == "/refused" {
        assert!(
            upstream[0]["header_time"].is_null(),
            "{what}: a refused attempt has no header time: {upstream:?}"
        );
    }
}

/// Line `i` (0-based) of the access log.
fn access_line(run: &Run, i: usize) -> String {
    let access = fs::read_to_string(&run.access).expect("access.log");
    access
        .lines()
        .nth(i)
        .expect("one line per step")
        .to_string()
}

/// The `, `-separated elements of `var="…"` in a rich access-log line.
fn logged_values(line: &str, var: &str) -> Vec<String> {
    let key = format!(" {var}=\"");
    let start = line.find(&key).expect("variable in line") + key.len();
    let end = line[start..].find('"').expect("closing quote") + start;
    line[start..end].split(", ").map(str::to_string).collect()
}

fn check_summary(variant: Variant, json: &str) {
    let v = variant.name();
    let doc: Value = serde_json::from_str(json)
        .unwrap_or_else(|e| panic!("{v}: --format json is not one JSON document ({e}):\n{json}"));
    assert_eq!(doc["schema_version"], 1, "{v}: schema_version");
    let causes = doc["causes"]
        .as_object()
        .unwrap_or_else(|| panic!("{v}: no \"causes\" object:\n{json}"));
    // `causes` counts the 502s the clients got (504s and rescued attempts
    // are reported beside it, in `causes_504` / `causes_rescued`).
    let mut want: BTreeMap<&str, u64> = BTreeMap::new();
    for step in STEPS.iter().filter(|s| s.status == 502) {
        let cause = step
            .expect
            .expect("every 502 step has an expectation")
            .cause;
        *want.entry(cause).or_default() += 1;
    }
    let got: BTreeMap<&str, u64> = causes
        .iter()
        .filter(|(_, n)| n.as_u64() != Some(0))
        .map(|(k, n)| (k.as_str(), n.as_u64().unwrap_or(u64::MAX)))
        .collect();
    assert_eq!(got, want, "{v}: cause counts of the 502s");
    let count = |status: u16| STEPS.iter().filter(|s| s.status == status).count() as u64;
    assert_eq!(doc["totals"]["status_502"], count(502), "{v}: totals");
    assert_eq!(doc["totals"]["status_504"], count(504), "{v}: totals");
    assert_eq!(
        doc["totals"]["requests"],
        STEPS.len() as u64,
        "{v}: every line is a request (status 009 included)"
    );
    assert_eq!(doc["totals"]["malformed"], 0, "{v}: malformed lines");
}

fn scenario(variant: Variant) {
    let Some(bin) = nginx::require_nginx() else {
        return;
    };
    let started = Instant::now();
    let run = run_nginx(&bin, variant);
    capture(variant, &run);
    check_raw_logs(variant, &run);
    check_events(variant, &run, &gatecheck(variant, &run, "ndjson"));
    check_summary(variant, &gatecheck(variant, &run, "json"));
    eprintln!("real_nginx {}: {:.1?}", variant.name(), started.elapsed());
}

#[test]
fn real_nginx_rich_log_format() {
    scenario(Variant::Rich);
}

#[test]
fn real_nginx_combined() {
    scenario(Variant::Combined);
}

/// The demo dump (`fixtures/incident/`, written by `fixtures/gen/incident.py`): the
/// README's first command must report what the generator did. These numbers
/// are the truth `python3 fixtures/gen/incident.py` prints.
#[test]
fn demo_incident_matches_truth() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/incident");
    let doc = analyze_json_paths(&[&dir], &[]);
    let counts = |v: &[(&str, u64)]| -> BTreeMap<String, u64> {
        v.iter().map(|(k, n)| (k.to_string(), *n)).collect()
    };
    let rows = |key: &str| -> BTreeMap<String, u64> {
        doc[key]
            .as_array()
            .unwrap_or_else(|| panic!("no {key:?} array"))
            .iter()
            .map(|r| {
                let cause = r["cause"].as_str().expect("cause").to_string();
                (cause, r["count"].as_u64().expect("count"))
            })
            .collect()
    };
    let causes: BTreeMap<String, u64> =
        serde_json::from_value(doc["causes"].clone()).expect("causes: {id: count}");
    assert_eq!(
        causes,
        counts(&[
            ("dns", 8),
            ("header_too_big", 23),
            ("no_live_upstream", 21),
            ("passthrough", 15),
            ("upstream_closed_early", 5),
            ("upstream_reset", 3),
        ]),
        "502s by cause"
    );
    assert_eq!(rows("causes_504"), counts(&[("timeout", 17)]), "504s");
    assert_eq!(
        rows("causes_rescued"),
        counts(&[("upstream_refused", 17), ("upstream_reset", 2)]),
        "attempts rescued by a retry"
    );
    assert_eq!(doc["totals"]["requests"], 1240);
    assert_eq!(doc["totals"]["status_502"], 75);
    assert_eq!(doc["totals"]["status_504"], 17);
    assert_eq!(doc["totals"]["malformed"], 0);
    let top = &doc["top_upstreams"][0];
    assert_eq!(top["key"], "10.20.3.12:8080", "the canary leads: {top}");
}

/// The demo's nginx.conf is one nginx accepts (`nginx -t`), with its log and
/// pid paths moved into a temp dir.
#[test]
fn demo_incident_conf_passes_nginx_t() {
    let Some(bin) = nginx::require_nginx() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let tmp = dir.path().to_str().expect("UTF-8 temp path");
    let conf = fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/incident/nginx.conf"),
    )
    .expect("demo nginx.conf");
    let user = if nginx::is_root() { "user root;" } else { "" };
    let mut conf = conf
        .replace("/var/log/nginx", tmp)
        .replace("/run/nginx.pid", &format!("{tmp}/nginx.pid"))
        .replace("user www-data;", user);
    if !Path::new("/etc/nginx/mime.types").is_file() {
        conf = conf.replace("include /etc/nginx/mime.types;", "");
    }
    fs::write(dir.path().join("nginx.conf"), conf).expect("write conf");
    let out = Command::new(bin)
        .arg("-t")
        .arg("-p")
        .arg(format!("{tmp}/"))
        .arg("-c")
        .arg(dir.path().join("nginx.conf"))
        .output()
        .expect("run nginx -t");
    assert!(
        out.status.success(),
        "nginx -t rejects fixtures/incident/nginx.conf:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
