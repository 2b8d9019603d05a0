//! Real nginx, the dump an on-call engineer really copies: `/var/log/nginx`
//! after logrotate (`access.log`, `access.log.1`, `access.log.2.gz`, the
//! same for `error.log`), a `combined` access log (no upstream variables, so
//! only the error log can tell a cause), the error log at `info` (client
//! aborts, keep-alive closes and start-up notices between the errors), and a
//! second access log in `$msec` (UTC) while nginx's zone leaves daylight
//! saving time in the middle of the run, and a third with `$http_x_forwarded_for`
//! as its first field (behind a load balancer: never the error log's `client:`).
//!
//! The faults are the ones the other real tests do not cause: a unix-socket
//! upstream that is not there (`[crit] connect() to unix:… failed (2: No such
//! file or directory)`), a `proxy_bind` address the host does not have
//! (`[crit] bind(…) failed (99: Cannot assign requested address)`: nginx
//! answers 500 and gatecheck has no cause for it, so it must say `unknown`
//! and quote the line, never "the upstream sent this status"), a self-signed
//! upstream certificate with `proxy_ssl_verify on`, a gRPC upstream that
//! refuses, a resolver that never answers, a client that gives up (499),
//! an upstream that closes mid-body after its 200 (logged 200, not a 5xx),
//! and a FastCGI script that dies (PHP's fatal error on stderr, its own 500).
//!
//! Skipped (or a failure with `GATECHECK_REQUIRE_PROXIES`) without nginx, as
//! `tests/it/real_nginx.rs`; `GATECHECK_CAPTURE_DIR=DIR` keeps the dump in
//! `DIR/dumps/`.

use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::Path;
use std::process::Command;
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::support::cli::{analyze_json_paths, events_by_path};
use crate::support::http;
use crate::support::nginx::{self, Nginx};
use crate::support::upstream::{set_linger_zero, FaultUpstream};
use serde_json::Value;

/// What gatecheck must say about one request.
struct Want {
    target: &'static str,
    status: u16,
    /// `None`: no event (not a 5xx, nothing rescued).
    cause: Option<&'static str>,
    /// A substring of one evidence string.
    evidence: &'static str,
}

const fn want(
    target: &'static str,
    status: u16,
    cause: Option<&'static str>,
    evidence: &'static str,
) -> Want {
    Want {
        target,
        status,
        cause,
        evidence,
    }
}

/// Before the first rotation.
const PHASE_1: &[Want] = &[
    want("/ok/1", 200, None, ""),
    // ngx_event_connect.c logs ENOENT at `crit`: nothing listens at the path
    want(
        "/unix/missing",
        502,
        Some("upstream_refused"),
        "(2: No such file or directory) while connecting to upstream",
    ),
    want(
        "/bind/nowhere",
        500,
        Some("unknown"),
        "(99: Cannot assign requested address)",
    ),
];

/// Between the two rotations.
const PHASE_2: &[Want] = &[
    want(
        "/verify/selfsigned",
        502,
        Some("tls"),
        "upstream SSL certificate verify error",
    ),
    want(
        "/grpc/refused",
        502,
        Some("upstream_refused"),
        "(111: Connection refused)",
    ),
];

/// After the second rotation (and after the zone's change of offset).
const PHASE_3: &[Want] = &[
    want(
        "/resolve/silent",
        502,
        Some("dns"),
        "could not be resolved (110: Operation timed out)",
    ),
    want("/truncated/body", 200, None, ""),
    // PHP's own 500, with its fatal error passed on by nginx at `error`
    // (`FastCGI sent in stderr: "PHP message: …"`): the application's status
    want(
        "/php/fatal.php",
        500,
        Some("passthrough"),
        "no error-log line matches this request",
    ),
    want(
        "/unix/again",
        502,
        Some("upstream_refused"),
        "(2: No such file or directory)",
    ),
    want("/ok/2", 200, None, ""),
];

/// An address no host has (TEST-NET-1, RFC 5737): `proxy_bind` to it fails.
const NOT_OURS: &str = "192.0.2.1";

/// `combined` with the client taken from `X-Forwarded-For`, as behind a
/// load balancer without the realip module: the error log's `client:` is
/// the balancer's address, never this one.
const XFF_FORMAT: &str = r#"$http_x_forwarded_for - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent""#;

/// Delimited layouts no built-in format has: tabs (nginx's config parser
/// turns `\t` in a quoted string into a tab) and `|`.
const TSV_FORMAT: &str = r#"$time_iso8601\t$remote_addr\t$request\t$status\t$body_bytes_sent\t$request_time\t$upstream_addr\t$upstream_status"#;
const PIPE_FORMAT: &str =
    r#"$remote_addr|$time_local|$request|$status|$body_bytes_sent|$request_time|$upstream_status"#;

/// What the load balancer in front says the client was.
const XFF: &str = "203.0.113.7";

/// The `$msec` access log, as a JSON-less custom layout people write.
const MSEC_FORMAT: &str = r#"$msec $remote_addr "$request" $status $body_bytes_sent $request_time ua="$upstream_addr" us="$upstream_status""#;

fn conf(
    listen: SocketAddr,
    tls: SocketAddr,
    app: SocketAddr,
    dns: SocketAddr,
    fcgi: SocketAddr,
    root: &Path,
) -> String {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/tls");
    let (crt, key) = (
        fixtures.join("selfsigned.crt"),
        fixtures.join("selfsigned.key"),
    );
    let sock = root.join("app.sock");
    let http = format!(
        r#"
    log_format msec '{MSEC_FORMAT}';
    log_format xff '{XFF_FORMAT}';
    log_format tsv '{TSV_FORMAT}';
    log_format pipe '{PIPE_FORMAT}';
    access_log xff/tsv.log tsv;
    access_log xff/pipe.log pipe;
    access_log logs/access.log combined;
    access_log msec/access.log msec;
    access_log xff/access.log xff;

    # the "upstream" with a self-signed certificate
    server {{
        listen {tls} ssl;
        ssl_certificate {crt};
        ssl_certificate_key {key};
        location / {{ return 200 "tls\n"; }}
    }}

    server {{
        listen {listen};
        server_name gatecheck.test;
        proxy_read_timeout 2s;

        location /unix/ {{
            proxy_pass http://unix:{sock};
        }}
        location /bind/ {{
            proxy_bind {NOT_OURS};
            proxy_pass http://{app};
        }}
        location /verify/ {{
            proxy_ssl_verify on;
            proxy_ssl_trusted_certificate /etc/ssl/certs/ca-certificates.crt;
            proxy_pass https://{tls};
        }}
        location /grpc/ {{
            grpc_pass grpc://127.0.0.1:{closed};
        }}
        location /php/ {{
            fastcgi_pass {fcgi};
        }}
        location /resolve/ {{
            resolver {dns} valid=1s;
            resolver_timeout 1s;
            set $backend "app.gatecheck.invalid";
            proxy_pass http://$backend:8080;
        }}
        location / {{
            proxy_pass http://{app};
        }}
    }}
"#,
        sock = sock.display(),
        crt = crt.display(),
        key = key.display(),
        closed = nginx::free_port(),
    );
    // the error log at `info`, as people set it to see more, and a second
    // one at `crit`, as people set it to see less
    nginx::conf("tests/it/real_dumps.rs", &http).replace(
        "error_log logs/error.log;",
        "error_log logs/error.log info;\nerror_log crit/error.log crit;",
    )
}

/// A POSIX `TZ` whose daylight saving time (UTC+02:00) ends `secs` seconds
/// from now, back to UTC+01:00: glibc reads such rules, and nginx takes the
/// new offset on its next time update, as on a real October night.
fn tz_leaving_dst_in(secs: u64) -> (String, u64) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let change = now + secs;
    // the rule names the end in local daylight time, day of year 0-based
    let local = change + 2 * 3600;
    let days = local / 86400;
    let (year_start, _) = year_start(days);
    let yday = days - year_start;
    let s = local % 86400;
    let tz = format!(
        "XST-1XDT-2,0/0,{yday}/{:02}:{:02}:{:02}",
        s / 3600,
        s / 60 % 60,
        s % 60
    );
    (tz, change)
}

/// The day number (since 1970-01-01) of January 1 of the year holding
/// `days`, and that year.
fn year_start(days: u64) -> (u64, u64) {
    let mut y = 1970;
    let mut start = 0;
    loop {
        let len = if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 {
            366
        } else {
            365
        };
        if start + len > days {
            return (start, y);
        }
        start += len;
        y += 1;
    }
}

/// `mv access.log access.log.1`-style rotation of both logs, then USR1
/// (nginx reopens its logs), as logrotate's nginx script does.
fn rotate(ngx: &Nginx, gzip_old: bool) {
    let logs = ngx.prefix().join("logs");
    for stem in ["access.log", "error.log"] {
        if gzip_old {
            let one = logs.join(format!("{stem}.1"));
            let two = logs.join(format!("{stem}.2"));
            fs::rename(&one, &two).unwrap();
            let st = Command::new("gzip").arg(&two).status().expect("gzip");
            assert!(st.success());
        }
        fs::rename(logs.join(stem), logs.join(format!("{stem}.1"))).unwrap();
    }
    let pid: i32 = fs::read_to_string(ngx.prefix().join("nginx.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // SAFETY: kill(2) on the pid nginx wrote for itself; a signal number.
    unsafe {
        libc::kill(pid, libc::SIGUSR1);
    }
    // the reopen is done when the new files exist
    for _ in 0..100 {
        if logs.join("access.log").exists() && logs.join("error.log").exists() {
            return;
        }
        thread::sleep(Duration::from_millis(20));
    }
    panic!("nginx did not reopen its logs");
}

/// `GET target` as a load balancer forwards it (with `X-Forwarded-For`).
fn send(listen: SocketAddr, w: &Want) {
    let mut s = TcpStream::connect(listen).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: {}\r\nX-Forwarded-For: {XFF}\r\nConnection: close\r\n\r\n",
        w.target,
        http::HOST,
        http::USER_AGENT
    )
    .unwrap();
    let mut resp = Vec::new();
    let _ = s.take(1 << 20).read_to_end(&mut resp);
    let got: u16 = String::from_utf8_lossy(&resp)
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    assert_eq!(got, w.status, "{}", w.target);
}

/// A client that gives up while the upstream is still thinking: 499.
fn abort(listen: SocketAddr) {
    let mut s = TcpStream::connect(listen).expect("connect");
    write!(
        s,
        "GET /slow/abandoned HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        http::HOST
    )
    .unwrap();
    thread::sleep(Duration::from_millis(300));
}

/// A scanner's broken TLS ClientHello to nginx's own TLS port: nginx logs
/// the client's failed handshake (`[info] SSL_do_handshake() failed …
/// while SSL handshaking, client: …`), which is no upstream's failure.
fn bad_client_hello(tls: SocketAddr) {
    let mut s = TcpStream::connect(tls).expect("connect");
    s.write_all(b"\x16\x03\x01\x00\x05hello").unwrap();
    s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let _ = s.read(&mut [0u8; 64]);
}

/// A client that resets its connection in the middle of its request
/// headers: `[info] recv() failed (104: Connection reset by peer) while
/// reading client request headers`, the client's reset, not an upstream's.
fn client_reset(listen: SocketAddr) {
    let mut s = TcpStream::connect(listen).expect("connect");
    s.write_all(b"GET /reset/by-client HTTP/1.1\r\nHost: gatecheck.test\r\n")
        .unwrap();
    thread::sleep(Duration::from_millis(200));
    set_linger_zero(&s).unwrap();
}

/// One FastCGI record: version 1, `kind`, request id 1, no padding.
fn fcgi_record(kind: u8, content: &[u8]) -> Vec<u8> {
    let len = u16::try_from(content.len()).expect("short record");
    let mut r = vec![1, kind, 0, 1];
    r.extend_from_slice(&len.to_be_bytes());
    r.extend_from_slice(&[0, 0]);
    r.extend_from_slice(content);
    r
}

/// What php-fpm answers for a script that dies with a fatal error: the
/// error on FCGI_STDERR (7), `Status: 500` on FCGI_STDOUT (6), then
/// FCGI_END_REQUEST (3). Serves connections for at most 60 s.
fn fake_php_fpm(listener: TcpListener) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        listener.set_nonblocking(true).unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while std::time::Instant::now() < deadline {
            let mut s = match listener.accept() {
                Ok((s, _)) => s,
                Err(_) => {
                    thread::sleep(Duration::from_millis(20));
                    continue;
                }
            };
            s.set_nonblocking(false).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
            // read records up to the empty FCGI_STDIN (5) that ends the request
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let done = |b: &[u8]| {
                let mut i = 0;
                while i + 8 <= b.len() {
                    let len = usize::from(u16::from_be_bytes([b[i + 4], b[i + 5]]));
                    let pad = usize::from(b[i + 6]);
                    if b[i + 1] == 5 && len == 0 {
                        return true;
                    }
                    i += 8 + len + pad;
                }
                false
            };
            while !done(&buf) {
                match s.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
            let mut out = fcgi_record(
                7,
                b"PHP message: PHP Fatal error:  Uncaught Error: Call to undefined function checkout() in /srv/www/fatal.php:3",
            );
            out.extend(fcgi_record(
                6,
                b"Status: 500 Internal Server Error\r\nContent-Type: text/html\r\n\r\nerror\n",
            ));
            out.extend(fcgi_record(6, b""));
            out.extend(fcgi_record(3, &[0, 0, 0, 0, 0, 0, 0, 0]));
            let _ = s.write_all(&out);
        }
    })
}

fn check_events(what: &str, evs: &BTreeMap<String, Value>, dump: &str) {
    for w in PHASE_1.iter().chain(PHASE_2).chain(PHASE_3) {
        let ev = evs.get(w.target);
        assert_eq!(
            ev.and_then(|e| e["cause"].as_str()),
            w.cause,
            "{what}: {} got {ev:?}\n{dump}",
            w.target
        );
        if let Some(ev) = ev {
            assert_eq!(ev["status"], w.status, "{what}: {ev}");
            let evidence = ev["evidence"].to_string();
            assert!(
                evidence.contains(&w.evidence.replace('"', "\\\"")),
                "{what}: {} evidence lacks {:?}: {evidence}",
                w.target,
                w.evidence
            );
        }
    }
    // the client abort is a 499, never a 5xx
    assert!(!evs.contains_key("/slow/abandoned"), "{what}: {evs:?}");
}

#[test]
fn a_rotated_var_log_nginx_gets_every_cause() {
    let Some(bin) = nginx::require_nginx() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let app = FaultUpstream::start().expect("fault upstream");
    // a FastCGI server whose script dies (PHP's fatal error and 500)
    let php = TcpListener::bind("127.0.0.1:0").expect("fastcgi bind");
    // a resolver that never answers
    let silent_dns = UdpSocket::bind("127.0.0.1:0").expect("udp");
    let listen = SocketAddr::from(([127, 0, 0, 1], nginx::free_port()));
    let tls = SocketAddr::from(([127, 0, 0, 1], nginx::free_port()));
    fs::create_dir_all(dir.path().join("msec")).unwrap();
    fs::create_dir_all(dir.path().join("xff")).unwrap();
    fs::create_dir_all(dir.path().join("crit")).unwrap();
    let conf = conf(
        listen,
        tls,
        app.addr(),
        silent_dns.local_addr().unwrap(),
        php.local_addr().unwrap(),
        dir.path(),
    );
    let _php = fake_php_fpm(php);
    let (tz, change) = tz_leaving_dst_in(4);
    let mut ngx =
        Nginx::start(&bin, dir.path(), &conf, listen, &tz).unwrap_or_else(|e| panic!("{e}"));

    PHASE_1.iter().for_each(|w| send(listen, w));
    rotate(&ngx, false);
    PHASE_2.iter().for_each(|w| send(listen, w));
    abort(listen);
    bad_client_hello(tls);
    client_reset(listen);
    rotate(&ngx, true);
    // past the change of offset, with a second for nginx's cached time
    loop {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        if now > change + 1 {
            break;
        }
        thread::sleep(Duration::from_millis(100));
    }
    PHASE_3.iter().for_each(|w| send(listen, w));
    let prefix = ngx.prefix().to_path_buf();
    ngx.stop();
    drop(app);

    let logs = prefix.join("logs");
    let read = |name: &str| fs::read_to_string(logs.join(name)).unwrap_or_default();
    let dump = format!(
        "access.log.1:\n{}\naccess.log:\n{}\nerror.log.1:\n{}\nerror.log:\n{}",
        read("access.log.1"),
        read("access.log"),
        read("error.log.1"),
        read("error.log")
    );
    if let Some(root) = std::env::var_os("GATECHECK_CAPTURE_DIR") {
        let to = Path::new(&root).join("dumps");
        fs::create_dir_all(&to).unwrap();
        for e in fs::read_dir(&logs).unwrap().flatten() {
            fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
        fs::copy(prefix.join("msec/access.log"), to.join("msec_access.log")).unwrap();
        fs::copy(prefix.join("xff/access.log"), to.join("xff_access.log")).unwrap();
        fs::copy(prefix.join("nginx.conf"), to.join("nginx.conf")).unwrap();
    }

    // what nginx wrote: the faults happened as meant, in the files meant
    let err_all = format!("{}{}", read("error.log.1"), read("error.log"));
    assert!(err_all.contains("[crit]"), "{dump}");
    assert!(err_all.contains("[info]"), "{dump}");
    assert!(read("access.log.1").contains("\" 499 "), "{dump}");
    // PHP's fatal error is in the error log, at `error`, next to its 500
    assert!(
        err_all.contains("[error]") && err_all.contains("FastCGI sent in stderr"),
        "{dump}"
    );
    assert!(
        err_all.contains("upstream prematurely closed connection while reading upstream"),
        "{dump}"
    );
    assert!(read("access.log").contains("+0100]"), "{dump}");

    // the rotated directory, as copied off the server
    let evs = events_by_path(&[&logs], &[]);
    check_events("logs/", &evs, &dump);
    let doc = analyze_json_paths(&[&logs], &[]);
    let inputs = doc["inputs"].as_array().unwrap();
    let kinds: Vec<&str> = inputs.iter().filter_map(|i| i["kind"].as_str()).collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "nginx_access").count(),
        3,
        "{inputs:?}"
    );
    assert_eq!(
        kinds.iter().filter(|k| **k == "nginx_error").count(),
        3,
        "{inputs:?}"
    );
    for i in inputs {
        assert_eq!(i["malformed"], 0, "{i}");
    }
    // the self-signed server's side of the failed verification is a
    // client's handshake failure (`[info] … while SSL handshaking, client:`),
    // not an upstream error: one TLS upstream error, the /verify one
    assert!(
        err_all.contains("while SSL handshaking, client: "),
        "{dump}"
    );
    assert_eq!(
        doc["error_log_kinds"]["tls"], 1,
        "{}",
        doc["error_log_kinds"]
    );
    // nor is a client's reset: no upstream was reset in this run
    assert!(
        err_all.contains("(104: Connection reset by peer) while reading client request headers"),
        "{dump}"
    );
    assert_eq!(
        doc["error_log_kinds"].get("reset"),
        None,
        "{}",
        doc["error_log_kinds"]
    );
    // + the 499 and the reset request's 400 (the broken ClientHello is on
    // the TLS server, where no request was read, so none is logged)
    let sent = PHASE_1.len() + PHASE_2.len() + PHASE_3.len() + 2;
    assert_eq!(doc["totals"]["requests"], sent as u64, "{dump}");

    // the `$msec` log with the same error logs: UTC against a local clock
    // that moved back an hour in the middle
    let msec = prefix.join("msec/access.log");
    let errors = [
        &msec,
        &logs.join("error.log.2.gz"),
        &logs.join("error.log.1"),
        &logs.join("error.log"),
    ];
    let paths: Vec<&Path> = errors.iter().map(|p| p.as_path()).collect();
    let evs = events_by_path(&paths, &[]);
    check_events("$msec", &evs, &fs::read_to_string(&msec).unwrap());
    // and it says which offsets it read the error log at, and when it changed
    let doc = analyze_json_paths(&paths, &[]);
    let notes = doc["notes"].to_string();
    assert!(
        notes.contains("UTC+02:00 before") && notes.contains("UTC+01:00 from then on"),
        "{notes}"
    );

    // the X-Forwarded-For log: its clients are never the error log's, so
    // the lines are joined by request line and time, and each cause says so
    let xff = prefix.join("xff/access.log");
    let xff_text = fs::read_to_string(&xff).unwrap();
    assert!(xff_text.starts_with(XFF), "{xff_text}");
    assert!(!err_all.contains(XFF), "{err_all}");
    let mut paths = paths;
    paths[0] = xff.as_path();
    let evs = events_by_path(&paths, &[]);
    check_events("X-Forwarded-For", &evs, &xff_text);
    // (PHP's 500 has no error line of its own: nothing to match)
    for (path, ev) in evs.iter().filter(|(_, e)| e["cause"] != "passthrough") {
        assert!(
            ev["evidence"]
                .to_string()
                .contains("matched by request line and time alone"),
            "{path}: {ev}"
        );
    }
    let doc = analyze_json_paths(&paths, &[]);
    assert!(
        doc["notes"]
            .to_string()
            .contains("joined by request line and time alone"),
        "{}",
        doc["notes"]
    );

    // the error log at `crit` holds only the crit lines (missing socket,
    // bind): the other 5xx cannot be told (nginx logs refusals, TLS and DNS
    // failures at `error`), and no absence shows a pass-through
    let crit = prefix.join("crit/error.log");
    let crit_text = fs::read_to_string(&crit).unwrap();
    assert!(
        crit_text.contains("[crit]") && !crit_text.contains("[error]"),
        "{crit_text}"
    );
    let evs = events_by_path(
        &[
            &logs.join("access.log.2.gz"),
            &logs.join("access.log.1"),
            &logs.join("access.log"),
            &crit,
        ],
        &[],
    );
    for w in PHASE_1.iter().chain(PHASE_2).chain(PHASE_3) {
        let got = evs.get(w.target).and_then(|e| e["cause"].as_str());
        let want = match w.cause {
            Some(_) if !w.target.starts_with("/unix/") => Some("unknown"),
            c => c,
        };
        assert_eq!(got, want, "`crit` error log: {}\n{crit_text}", w.target);
    }

    // tab- and pipe-separated layouts, read without being told the format
    for name in ["tsv.log", "pipe.log"] {
        let log = prefix.join("xff").join(name);
        let text = fs::read_to_string(&log).unwrap();
        let mut paths = paths.clone();
        paths[0] = log.as_path();
        let evs = events_by_path(&paths, &[]);
        check_events(name, &evs, &text);
        let doc = analyze_json_paths(&paths, &[]);
        assert_eq!(
            doc["inputs"][0]["kind"], "nginx_access",
            "{}",
            doc["inputs"][0]
        );
        assert_eq!(doc["inputs"][0]["malformed"], 0, "{}", doc["inputs"][0]);
    }
}
