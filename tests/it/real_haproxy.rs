//! Real HAProxy, real faults: start `haproxy` on 127.0.0.1 in front of the
//! fault-injecting upstream of `tests/it/support/upstream.rs` (plus a closed
//! port, a port that swallows SYNs and a backend whose only server fails its
//! health check), cause each kind of 5xx for real, and check that `gatecheck
//! analyze` gives every request the right cause from what haproxy wrote.
//!
//! haproxy logs each request twice: to a UDP syslog receiver in this test,
//! which stores the lines as rsyslog's default file template does
//! (`Mmm dd HH:MM:SS host haproxy[pid]: msg`, the `<PRI>` dropped, the host
//! inserted), and with `log stdout format raw` (a container's log). Both
//! files must give the same causes.
//!
//! * haproxy missing: skipped with a message, or a failure when
//!   `GATECHECK_REQUIRE_PROXIES` is set (`.ci/run` sets it).
//! * `GATECHECK_HAPROXY=/path/to/haproxy` picks the binary.
//! * `GATECHECK_CAPTURE_DIR=DIR` copies the logs and the config into `DIR/`
//!   (that is how `fixtures/logs/haproxy/real/` was made).

use std::collections::BTreeMap;
use std::fs;
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::support::haproxy::{require_haproxy, Haproxy};
use crate::support::http::request_with_id as request;
use crate::support::nginx::free_port;
use crate::support::upstream::{Blackhole, FaultUpstream};
use serde_json::Value;

/// haproxy's buffer for this test: smaller than the upstream's oversized
/// response header ([`crate::support::upstream::BIG_HEADER_BYTES`]) once tune.maxrewrite is
/// taken off.
const BUFSIZE: usize = 4096;

/// The request that holds be_queue's only connection slot.
const QUEUE_HOLDER: &str = "/slow?queue";

/// One request, its expected status and the cause gatecheck must give.
struct Step {
    target: &'static str,
    status: u16,
    cause: Option<&'static str>,
}

const STEPS: &[Step] = &[
    Step {
        target: "/ok",
        status: 200,
        cause: None,
    },
    // a closed port: the kernel answers the SYN with a RST
    Step {
        target: "/refused/x",
        status: 503,
        cause: Some("upstream_refused"),
    },
    // SO_LINGER 0: a RST before any response byte
    Step {
        target: "/reset",
        status: 502,
        cause: Some("upstream_closed_early"),
    },
    // a clean FIN before any response byte
    Step {
        target: "/closed",
        status: 502,
        cause: Some("upstream_closed_early"),
    },
    // a 4 KiB response header, larger than tune.bufsize minus tune.maxrewrite
    Step {
        target: "/bigheader",
        status: 502,
        cause: Some("invalid_header"),
    },
    // a space in a header name
    Step {
        target: "/badheader",
        status: 502,
        cause: Some("invalid_header"),
    },
    // no answer: timeout server 1s
    Step {
        target: "/slow",
        status: 504,
        cause: Some("timeout"),
    },
    // SYNs swallowed: timeout connect 1s
    Step {
        target: "/connect-timeout/x",
        status: 503,
        cause: Some("timeout"),
    },
    // the only server failed its health check: <NOSRV>
    Step {
        target: "/nosrv/x",
        status: 503,
        cause: Some("no_live_upstream"),
    },
    // `ssl verify required` against a self-signed certificate: the TLS
    // handshake fails, and haproxy logs it as a refused connection (SC)
    Step {
        target: "/tls/verify",
        status: 503,
        cause: Some("upstream_refused"),
    },
    // `ssl` in front of a plain-HTTP port that answers the ClientHello
    // with an HTTP 400, as most HTTP servers do: SC again (a server that
    // waits for a request instead ends sC at `timeout connect`)
    Step {
        target: "/tls/plain",
        status: 503,
        cause: Some("upstream_refused"),
    },
    // be_queue's one slot (maxconn 1) held by a request the server never
    // answers (sent in the background) ...
    Step {
        target: QUEUE_HOLDER,
        status: 504,
        cause: Some("timeout"),
    },
    // ... so this one waits in the backend's queue, with no server chosen,
    // until `timeout queue`: `<NOSRV>` and sQ, the servers busy, not down
    Step {
        target: "/ok?queue",
        status: 503,
        cause: Some("timeout"),
    },
    // the application's own 502
    Step {
        target: "/passthrough",
        status: 502,
        cause: Some("passthrough"),
    },
    // `http-request return status 503`: haproxy's own answer (LR--)
    Step {
        target: "/maint",
        status: 503,
        cause: Some("config_return"),
    },
    // `http-request tarpit deny_status 503`: held, then refused (PT--); the
    // log does not say what the rule tested: the config's answer
    Step {
        target: "/tarpit",
        status: 503,
        cause: Some("config_return"),
    },
    // a chunked body whose second chunk-size line is not hex, sent with the
    // head: haproxy rejects the whole response (PH--, Tr -1)
    Step {
        target: "/badchunk",
        status: 502,
        cause: Some("invalid_header"),
    },
    // the server stops mid-body after its 200 (SD--): the client had the
    // status already; not a 5xx, not an upstream failure to count
    Step {
        target: "/truncated",
        status: 200,
        cause: None,
    },
    // `http-request deny` (403, PR--): the frontend's rule, no server tried
    Step {
        target: "/deny/x",
        status: 403,
        cause: None,
    },
    Step {
        target: "/ok-again",
        status: 200,
        cause: None,
    },
];

/// A UDP syslog receiver that stores each datagram as rsyslog's
/// `RSYSLOG_TraditionalFileFormat` does: `<PRI>` dropped, the host name
/// inserted after the RFC 3164 timestamp (haproxy sends none).
struct Syslog {
    addr: SocketAddr,
    lines: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    handle: Option<thread::JoinHandle<()>>,
}

impl Syslog {
    fn start() -> Syslog {
        let sock = UdpSocket::bind("127.0.0.1:0").expect("bind udp");
        sock.set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        let addr = sock.local_addr().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (l2, s2) = (Arc::clone(&lines), Arc::clone(&stop));
        let handle = thread::spawn(move || {
            let started = Instant::now();
            let mut buf = vec![0u8; 65536];
            while !s2.load(Ordering::SeqCst) && started.elapsed() < Duration::from_secs(120) {
                if let Ok(n) = sock.recv(&mut buf) {
                    let msg = String::from_utf8_lossy(&buf[..n]).trim_end().to_string();
                    l2.lock().unwrap().push(as_rsyslog(&msg));
                }
            }
        });
        Syslog {
            addr,
            lines,
            stop,
            handle: Some(handle),
        }
    }

    fn finish(mut self) -> Vec<String> {
        // let the last datagrams arrive
        thread::sleep(Duration::from_millis(200));
        self.stop.store(true, Ordering::SeqCst);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
        std::mem::take(&mut *self.lines.lock().unwrap())
    }
}

/// `<134>Nov 28 08:50:00 haproxy[12]: msg` → `Nov 28 08:50:00 gatecheck-test haproxy[12]: msg`.
fn as_rsyslog(msg: &str) -> String {
    let m = match (msg.starts_with('<'), msg.find('>')) {
        (true, Some(i)) if i < 5 => &msg[i + 1..],
        _ => msg,
    };
    if m.len() > 16 && m.as_bytes()[15] == b' ' {
        format!("{} gatecheck-test {}", &m[..15], &m[16..])
    } else {
        m.to_string()
    }
}

/// Ports of the TLS part: haproxy's own TLS frontend (a self-signed
/// certificate), and the PEM file it serves.
struct Tls {
    port: u16,
    pem: PathBuf,
}

fn config(
    port: u16,
    syslog: SocketAddr,
    up: SocketAddr,
    closed: u16,
    hole: SocketAddr,
    tls: &Tls,
) -> String {
    let (tls_port, pem) = (tls.port, tls.pem.display());
    format!(
        "global
    log {syslog} len 8192 local0
    log stdout format raw local0
    tune.bufsize {BUFSIZE}

defaults
    mode http
    log global
    option httplog
    retries 0
    timeout connect 1s
    timeout client 5s
    timeout server 1s
    timeout tarpit 200ms

frontend fe_main
    bind 127.0.0.1:{port}
    capture request header X-Request-ID len 64
    http-request return status 503 if {{ path_beg /maint }}
    http-request tarpit deny_status 503 if {{ path_beg /tarpit }}
    http-request deny if {{ path_beg /deny }}
    use_backend be_refused if {{ path_beg /refused }}
    use_backend be_hole if {{ path_beg /connect-timeout }}
    use_backend be_nosrv if {{ path_beg /nosrv }}
    use_backend be_queue if {{ query -m sub queue }}
    use_backend be_tls_verify if {{ path_beg /tls/verify }}
    use_backend be_tls_plain if {{ path_beg /tls/plain }}
    default_backend be_app

# the self-signed upstream; its own requests are not logged
frontend fe_selfsigned
    bind 127.0.0.1:{tls_port} ssl crt {pem}
    no log
    http-request return status 200

backend be_queue
    timeout queue 300ms
    server busy1 {up} maxconn 1

backend be_tls_verify
    server selfsigned 127.0.0.1:{tls_port} ssl verify required ca-file /etc/ssl/certs/ca-certificates.crt

backend be_tls_plain
    server plain1 {up} ssl verify none

backend be_app
    server app1 {up}

backend be_refused
    server dead1 127.0.0.1:{closed}

backend be_hole
    server hole1 {hole}

backend be_nosrv
    server down1 127.0.0.1:{closed} check inter 100ms fall 1 rise 1
"
    )
}

/// gatecheck's cause per request id, from `--format ndjson` on `log` (and
/// under `"<id> evidence"` its evidence, as JSON).
fn causes_by_id(log: &Path) -> (BTreeMap<String, String>, Value) {
    let run = |fmt: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_gatecheck"))
            .args([
                "analyze",
                log.to_str().unwrap(),
                "--format",
                fmt,
                "--no-progress",
            ])
            .output()
            .expect("run gatecheck");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    let mut by_id = BTreeMap::new();
    for line in String::from_utf8(run("ndjson")).unwrap().lines() {
        let ev: Value = serde_json::from_str(line).unwrap();
        assert_eq!(ev["hop"], "haproxy", "{ev}");
        let id = ev["request_id"]
            .as_str()
            .expect("request id from the captured header");
        by_id.insert(id.to_string(), ev["cause"].as_str().unwrap().to_string());
        by_id.insert(format!("{id} evidence"), ev["evidence"].to_string());
    }
    let report: Value = serde_json::from_slice(&run("json")).unwrap();
    (by_id, report)
}

#[test]
fn haproxy_faults_get_their_causes() {
    let Some(bin) = require_haproxy() else {
        return;
    };
    // headers get tune.bufsize minus tune.maxrewrite (1024 by default)
    const { assert!(BUFSIZE - 1024 < crate::support::upstream::BIG_HEADER_BYTES) };
    let dir = tempfile::tempdir().unwrap();
    let up = FaultUpstream::start().expect("upstream");
    let hole = Blackhole::start().expect("blackhole");
    let syslog = Syslog::start();
    let port = free_port();
    let closed = free_port();
    let cfg = dir.path().join("haproxy.cfg");
    let tls = Tls {
        port: free_port(),
        pem: dir.path().join("selfsigned.pem"),
    };
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/tls");
    let pem = [
        fs::read_to_string(fixtures.join("selfsigned.crt")).unwrap(),
        fs::read_to_string(fixtures.join("selfsigned.key")).unwrap(),
    ]
    .concat();
    fs::write(&tls.pem, pem).unwrap();
    fs::write(
        &cfg,
        config(port, syslog.addr, up.addr(), closed, hole.addr(), &tls),
    )
    .unwrap();
    let raw_path = dir.path().join("stdout.log");
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let mut hap = Haproxy::start(&bin, &cfg, &raw_path, addr);
    // let the health check mark be_nosrv/down1 down (inter 100ms, fall 1)
    thread::sleep(Duration::from_millis(800));
    let mut ids = Vec::new();
    let mut holder = None;
    for (i, step) in STEPS.iter().enumerate() {
        let id = format!("{:08x}-0000-4000-8000-{:012x}", 0x6a7e_c4ec_u32, i);
        if step.target == QUEUE_HOLDER {
            // takes be_queue's only slot until `timeout server`; the next
            // step waits for it in the queue meanwhile
            let hold_id = id.clone();
            holder = Some(thread::spawn(move || request(addr, QUEUE_HOLDER, &hold_id)));
            thread::sleep(Duration::from_millis(200));
            ids.push(id);
            continue;
        }
        let got = request(addr, step.target, &id);
        assert_eq!(got, step.status, "{} answered {got}", step.target);
        ids.push(id);
    }
    if let Some(h) = holder {
        assert_eq!(h.join().expect("queue holder"), 504, "{QUEUE_HOLDER}");
    }
    hap.stop();
    let syslog_lines = syslog.finish();
    let syslog_path = dir.path().join("haproxy.log");
    fs::write(&syslog_path, syslog_lines.join("\n") + "\n").unwrap();
    if let Some(capture) = std::env::var_os("GATECHECK_CAPTURE_DIR") {
        let capture = PathBuf::from(capture);
        fs::create_dir_all(&capture).unwrap();
        for f in ["haproxy.log", "stdout.log", "haproxy.cfg"] {
            fs::copy(dir.path().join(f), capture.join(f)).unwrap();
        }
    }
    for log in [&syslog_path, &raw_path] {
        let (by_id, report) = causes_by_id(log);
        let text = fs::read_to_string(log).unwrap();
        for (step, id) in STEPS.iter().zip(&ids) {
            assert_eq!(
                by_id.get(id).map(String::as_str),
                step.cause,
                "{} in {}:\n{text}",
                step.target,
                log.display()
            );
            // a TLS failure is logged as a connect failure: the evidence says so
            if step.target.starts_with("/tls/") {
                let evidence = &by_id[&format!("{id} evidence")];
                assert!(evidence.contains("`ssl`"), "{}: {evidence}", step.target);
            }
            // what haproxy wrote for the ones gatecheck must not call 5xx
            let want = match step.target {
                "/truncated" => Some(" 200 "),
                "/deny/x" => Some(" 403 "),
                "/badchunk" => Some(" 502 "),
                _ => None,
            };
            if let Some(status) = want {
                let tsc = match step.target {
                    "/truncated" => " SD-- ",
                    "/deny/x" => " PR-- ",
                    _ => " PH-- ",
                };
                assert!(
                    text.lines()
                        .any(|l| l.contains(id) && l.contains(status) && l.contains(tsc)),
                    "{}: no{status}…{tsc} line in {}:\n{text}",
                    step.target,
                    log.display()
                );
            }
            if step.target == "/badchunk" {
                let evidence = &by_id[&format!("{id} evidence")];
                assert!(evidence.contains("chunked body"), "{evidence}");
            }
        }
        // neither the cut 200 nor the 403 is a failure of the backend
        assert_eq!(
            h_5xx(&report),
            STEPS.iter().filter(|s| s.status >= 500).count() as u64,
            "{text}"
        );
        // the 503s of the backend with no server cite its DOWN line, with
        // its time when the line has one (rsyslog's file; not raw stdout)
        let nolive = report["hops"][0]["causes_other_5xx"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["cause"] == "no_live_upstream"))
            .unwrap_or_else(|| panic!("no no_live_upstream row: {report}"));
        let ev = nolive["example"]["evidence"].to_string();
        assert!(
            ev.contains("Server be_nosrv/down1 is DOWN, reason: Layer4 connection problem"),
            "{ev}"
        );
        if log == &syslog_path {
            let year = &report["hops"][0]["first_502"].as_str().unwrap_or("")[..4];
            assert!(ev.contains(&format!(" at {year}-")), "{ev}");
        }
        let h = &report["hops"][0];
        assert_eq!(h["totals"]["malformed"], 0, "{text}");
        // + the readiness probe's empty connection: `<BADREQ>` 400 CR--
        assert_eq!(h["totals"]["requests"], STEPS.len() as u64 + 1, "{text}");
        // the health check's verdict is an event, and evidence for no_live_upstream
        assert!(
            h["events"]["server_down"].as_u64().unwrap_or(0) >= 1,
            "{text}"
        );
    }
}

/// The 5xx haproxy answered, as the report counts them.
fn h_5xx(report: &Value) -> u64 {
    report["hops"][0]["totals"]["status_5xx"]
        .as_u64()
        .unwrap_or_else(|| panic!("no totals.status_5xx: {}", report["hops"][0]["totals"]))
}
