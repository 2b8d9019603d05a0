//! nginx error logs: the line layout and the upstream messages that explain
//! 502s and 504s.
//!
//! Layout (`ngx_log_error_core` and `ngx_http_log_error_handler`):
//! `YYYY/MM/DD HH:MM:SS [level] PID#TID: *CID MESSAGE while ACTION, client: IP,
//! server: NAME, request: "GET /x HTTP/1.1", upstream: "http://10.0.0.1:8080/x",
//! host: "example.com"`. The time is the server's local wall clock without a
//! zone. Message texts are those of `ngx_http_upstream.c`, checked against the
//! real nginx captures in `fixtures/logs/nginx/real/`.

use memchr::memmem;

use super::scan;

/// What an error-log line says went wrong with the upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UpstreamError {
    /// `connect() failed (111: Connection refused)`.
    Refused,
    /// `connect() failed (113: No route to host)` / `(101: Network is unreachable)`.
    Unreachable,
    /// `recv() failed (104: Connection reset by peer)`, `send()/writev() failed`.
    Reset,
    /// `upstream prematurely closed connection`.
    ClosedEarly,
    /// `upstream sent too big header`.
    HeaderTooBig,
    /// `upstream sent invalid header`, `invalid status line`, `no valid HTTP/1.0 header`.
    InvalidHeader,
    /// `upstream sent invalid chunked response … while reading upstream`:
    /// the body's chunked framing was broken, after nginx had passed the
    /// response header on (ngx_http_proxy_module's chunked filters run on
    /// the body only). The client already got the upstream's status (a
    /// real nginx 1.22 logs `200` and a body cut short), so this is no 5xx.
    InvalidBody,
    /// `no live upstreams`.
    NoLive,
    /// `upstream timed out`.
    Timeout,
    /// `… while SSL handshaking to upstream` (`SSL_do_handshake() failed`, a reset), `upstream SSL certificate verify error`.
    Tls,
    /// `… could not be resolved`, `no resolver defined to resolve …`.
    Dns,
    /// A line at level `error` or above about the upstream (it names one,
    /// or its message does) whose message gatecheck has no cause for, as
    /// `connect() to 10.0.0.7:8080 failed (13: Permission denied)` (SELinux)
    /// or `(99: Cannot assign requested address)` (no local port left). It
    /// still proves nginx made the status itself: never a pass-through.
    Other,
    /// Not an upstream failure: nginx itself refused the request by a
    /// `limit_req` (`limiting requests, excess: …`) or `limit_conn`
    /// (`limiting connections by zone …`) limit. Dry-run lines are not
    /// refusals and are not this.
    RateLimited,
}

impl UpstreamError {
    /// Stable snake_case id.
    pub fn id(self) -> &'static str {
        match self {
            UpstreamError::Refused => "refused",
            UpstreamError::Unreachable => "unreachable",
            UpstreamError::Reset => "reset",
            UpstreamError::ClosedEarly => "closed_early",
            UpstreamError::HeaderTooBig => "header_too_big",
            UpstreamError::InvalidHeader => "invalid_header",
            UpstreamError::InvalidBody => "invalid_body",
            UpstreamError::NoLive => "no_live_upstreams",
            UpstreamError::Timeout => "timed_out",
            UpstreamError::Tls => "tls",
            UpstreamError::Dns => "dns",
            UpstreamError::RateLimited => "rate_limited",
            UpstreamError::Other => "other",
        }
    }
}

/// `FastCGI sent in stderr: "…"`: the application's own log lines, passed
/// on by ngx_http_fastcgi_module at `error` (PHP's fatal errors, `Primary
/// script unknown`); the status after them is the application's.
const FASTCGI_STDERR: &[u8] = b"FastCGI sent in stderr";

/// Every other "upstream sent …" (see the note in [`PATTERNS`]).
const GENERIC_UPSTREAM_SENT: &str = "upstream sent ";

/// Message patterns, checked in order; the first that occurs in the message wins.
const PATTERNS: &[(&str, UpstreamError)] = &[
    ("no live upstreams", UpstreamError::NoLive),
    ("upstream timed out", UpstreamError::Timeout),
    ("upstream sent too big header", UpstreamError::HeaderTooBig),
    // ngx_http_proxy_module.c / ngx_http_upstream.c: every other "upstream
    // sent …" of the response-header phase ("… invalid header", "… invalid
    // status line", "\"Content-Length\" and \"Transfer-Encoding\" headers at
    // the same time" since 1.23, "… duplicate header line", grpc's "…
    // frame for closed stream") ends as NGX_HTTP_UPSTREAM_INVALID_HEADER, a
    // 502; the specific ones below are only listed for their docs.
    ("upstream sent invalid header", UpstreamError::InvalidHeader),
    (
        "upstream sent invalid status line",
        UpstreamError::InvalidHeader,
    ),
    (
        "upstream sent no valid HTTP/1.0 header",
        UpstreamError::InvalidHeader,
    ),
    (
        "upstream sent invalid chunked response",
        UpstreamError::InvalidBody,
    ),
    (
        "upstream sent duplicate header line",
        UpstreamError::InvalidHeader,
    ),
    (
        "upstream prematurely closed connection",
        UpstreamError::ClosedEarly,
    ),
    // ngx_http_grpc_module.c (grpc_pass, HTTP/2 to the upstream): the
    // server reset the request's stream (RST_STREAM, e.g. error 7
    // REFUSED_STREAM), or ended the connection before answering it (GOAWAY
    // with an error, "TODO: we can retry non-idempotent requests"), or
    // closed the stream before the whole response; nginx 1.22 answers 502
    // to the first two (seen with a raw HTTP/2 server sending each frame).
    ("upstream rejected request with error", UpstreamError::Reset),
    (
        "upstream sent goaway with error",
        UpstreamError::ClosedEarly,
    ),
    (
        "upstream prematurely closed stream",
        UpstreamError::ClosedEarly,
    ),
    ("upstream SSL certificate", UpstreamError::Tls),
    // the upstream's handshake runs with the action "SSL handshaking to
    // upstream" (ngx_http_upstream_ssl_init_connection); a bare
    // "SSL_do_handshake() failed … while SSL handshaking, client: …" is a
    // *client's* handshake with nginx (bots, old clients: `[info]`, some
    // `[crit]`), which a real nginx 1.22 logs next to every upstream one
    // when the upstream is itself an nginx
    ("SSL handshaking to upstream", UpstreamError::Tls),
    ("could not be resolved", UpstreamError::Dns),
    ("no resolver defined to resolve", UpstreamError::Dns),
    // ngx_resolver.c talks to the resolver itself with the action "while
    // resolving, resolver: ADDR": `send() failed (111: Connection refused)
    // while resolving` is the DNS server refusing, not the upstream (a real
    // nginx 1.22 logs it with `resolver` pointing at a closed port).
    ("while resolving", UpstreamError::Dns),
    // ngx_event_connect.c (ngx_event_connect_peer): Linux answers EAGAIN
    // instead of ECONNREFUSED for a unix socket whose listen queue is full,
    // and nginx treats it as a refusal (logged at `error`, next upstream);
    // a socket path with nothing at it is ENOENT, logged at `crit`: a real
    // nginx 1.22 wrote `[crit] … connect() to unix:/…/missing.sock failed
    // (2: No such file or directory) while connecting to upstream` and 502.
    // Nothing listens there either way: refused.
    (
        "(2: No such file or directory) while connecting to upstream",
        UpstreamError::Refused,
    ),
    (
        "(11: Resource temporarily unavailable) while connecting to upstream",
        UpstreamError::Refused,
    ),
    ("(111: Connection refused)", UpstreamError::Refused),
    ("(113: No route to host)", UpstreamError::Unreachable),
    ("(101: Network is unreachable)", UpstreamError::Unreachable),
    ("(104: Connection reset by peer)", UpstreamError::Reset),
    ("(32: Broken pipe)", UpstreamError::Reset),
    (GENERIC_UPSTREAM_SENT, UpstreamError::InvalidHeader),
    // ngx_http_limit_req_module.c: "limiting requests%s, excess: %ui.%03ui by
    // zone \"%V\"" with %s = ", dry run" for limit_req_dry_run (which lets the
    // request through), at limit_req_log_level (default error).
    ("limiting requests, excess: ", UpstreamError::RateLimited),
    // ngx_http_limit_conn_module.c: "limiting connections%s by zone \"%V\""
    // with %s = ", dry run," in dry-run mode, at limit_conn_log_level
    // (default error).
    ("limiting connections by zone ", UpstreamError::RateLimited),
];

/// One upstream-related error-log line, owned (error logs are small next to access logs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorLine {
    /// Index of the file among the inputs.
    pub file: u32,
    /// 1-based line number.
    pub line: u64,
    /// Wall-clock seconds as written (no zone).
    pub local_secs: i64,
    /// `error`, `warn`, …
    pub level: String,
    /// Connection number (`*CID`).
    pub cid: Option<u64>,
    /// The category.
    pub kind: UpstreamError,
    /// The message, up to `, client:`.
    pub message: String,
    /// `client:` field.
    pub client: Option<String>,
    /// `request:` field (`GET /x HTTP/1.1`).
    pub request: Option<String>,
    /// Server address (or group name) from the `upstream:` URL.
    pub upstream: Option<String>,
    /// `host:` field.
    pub host: Option<String>,
}

/// Result of reading one error-log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// An upstream problem gatecheck uses as evidence.
    Upstream(ErrorLine),
    /// A well-formed line about something else.
    Other,
    /// Not an nginx error-log line.
    Malformed,
}

/// True when `line` starts like an nginx error-log line (for format detection).
pub fn looks_like(line: &[u8]) -> bool {
    line.len() > 22
        && scan::parse_error_log_time(&line[..19]).is_some()
        && line[19] == b' '
        && line[20] == b'['
}

/// Parse one line (without `\n`).
pub fn parse(line: &[u8], file: u32, line_no: u64) -> Parsed {
    let line = match line {
        [rest @ .., b'\r'] => rest,
        _ => line,
    };
    if !looks_like(line) {
        return Parsed::Malformed;
    }
    let Some(local_secs) = scan::parse_error_log_time(&line[..19]) else {
        return Parsed::Malformed;
    };
    let rest = &line[21..];
    let Some(close) = memchr::memchr(b']', rest) else {
        return Parsed::Malformed;
    };
    let level = &rest[..close];
    let mut rest = rest.get(close + 1..).unwrap_or_default();
    if rest.first() == Some(&b' ') {
        rest = &rest[1..];
    }
    // PID#TID:
    if let Some(colon) = memchr::memchr(b':', rest) {
        if rest[..colon]
            .iter()
            .all(|c| c.is_ascii_digit() || *c == b'#')
        {
            rest = rest.get(colon + 1..).unwrap_or_default();
        }
    }
    if rest.first() == Some(&b' ') {
        rest = &rest[1..];
    }
    let mut cid = None;
    if rest.first() == Some(&b'*') {
        let n = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
        cid = scan::parse_u64(&rest[1..1 + n]);
        rest = rest.get(1 + n..).unwrap_or_default();
        if rest.first() == Some(&b' ') {
            rest = &rest[1..];
        }
    }
    if rest.starts_with(FASTCGI_STDERR) {
        // whatever the application wrote, it is no nginx failure
        return Parsed::Other;
    }
    let pattern = PATTERNS
        .iter()
        .find(|(p, _)| memmem::find(rest, p.as_bytes()).is_some());
    let kind = pattern
        // the catch-all "upstream sent " also matches warnings about a
        // response already passed on (`[warn] … upstream sent more data
        // than specified in "Content-Length" header while reading upstream`)
        .filter(|(p, _)| *p != GENERIC_UPSTREAM_SENT || is_error_level(level))
        .map(|(_, k)| *k);
    let (message, ctx) = match memmem::find(rest, b", client: ") {
        Some(i) => (&rest[..i], &rest[i + 2..]),
        None => (rest, &rest[..0]),
    };
    // An errno alone does not say whose socket failed: nginx logs a client
    // that resets or goes away as `recv() failed (104: Connection reset by
    // peer) while reading client request headers` or `writev() failed (32:
    // Broken pipe) while sending to client` (`[info]`), with an `upstream:`
    // field too when proxying. Its upstream ones carry an upstream action
    // (`… while connecting to upstream`, `… while reading response header
    // from upstream`, `… while sending request to upstream`).
    let kind = kind.filter(|k| {
        !matches!(
            k,
            UpstreamError::Refused | UpstreamError::Unreachable | UpstreamError::Reset
        ) || memmem::find(message, b"upstream").is_some()
    });
    let kind = match kind {
        Some(k) => k,
        None if is_unknown_upstream_error(level, message) => UpstreamError::Other,
        None => return Parsed::Other,
    };
    let field = |name: &[u8]| -> Option<String> { context_field(ctx, name) };
    Parsed::Upstream(ErrorLine {
        file,
        line: line_no,
        local_secs,
        level: String::from_utf8_lossy(level).into_owned(),
        cid,
        kind,
        message: String::from_utf8_lossy(message).into_owned(),
        client: field(b"client: "),
        request: field(b"request: "),
        upstream: field(b"upstream: ").map(|u| upstream_addr(&u)),
        host: field(b"host: "),
    })
}

/// A line no pattern knows that still reports an upstream failure: logged
/// at `error` or above (nginx logs what it turns into a 502/504 at `error`,
/// or `crit` for an unexpected errno in `ngx_event_connect_peer`; `warn`
/// holds notices such as `upstream server temporarily disabled` that come
/// with the real error line) and about an upstream: the word in the
/// message, as the action nginx was in (`… while connecting to upstream`,
/// `… while reading response header from upstream`). The `upstream:`
/// field alone is not enough: `ngx_http_log_error` adds it to every line of
/// a proxied request, such as `open() "/usr/share/nginx/html/50x.html"
/// failed (2: No such file or directory)` for a missing `error_page` file.
/// Never [`FASTCGI_STDERR`].
fn is_unknown_upstream_error(level: &[u8], message: &[u8]) -> bool {
    is_error_level(level)
        && !message.starts_with(FASTCGI_STDERR)
        && memmem::find(message, b"upstream").is_some()
}

/// `error` or above: what nginx logs the failures it answers 5xx for at.
fn is_error_level(level: &[u8]) -> bool {
    matches!(level, b"error" | b"crit" | b"alert" | b"emerg")
}

/// Value of `name` (`client: `, `request: `…) in the context part of a line.
fn context_field(ctx: &[u8], name: &[u8]) -> Option<String> {
    let mut at = 0;
    // the name must start the context or follow ", "
    let start = loop {
        let i = at + memmem::find(&ctx[at..], name)?;
        if i == 0 || ctx[..i].ends_with(b", ") {
            break i + name.len();
        }
        at = i + 1;
    };
    let v = &ctx[start..];
    let v = if v.first() == Some(&b'"') {
        let v = &v[1..];
        // values are escaped by nginx; the closing quote is followed by ", " or the end
        let mut end = v.len();
        let mut j = 0;
        while let Some(k) = memchr::memchr(b'"', &v[j..]) {
            let q = j + k;
            if q + 1 == v.len() || v[q + 1..].starts_with(b", ") {
                end = q;
                break;
            }
            j = q + 1;
        }
        &v[..end]
    } else {
        let end = memmem::find(v, b", ").unwrap_or(v.len());
        &v[..end]
    };
    Some(String::from_utf8_lossy(v).into_owned())
}

/// `http://10.0.0.7:8080/x` → `10.0.0.7:8080`; `http://backend/x` → `backend`.
pub fn upstream_addr(url: &str) -> String {
    let s = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    if let Some(unix) = s.strip_prefix("unix:") {
        return format!("unix:{}", unix.split(':').next().unwrap_or(unix));
    }
    s.split('/').next().unwrap_or(s).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn up(line: &str) -> ErrorLine {
        match parse(line.as_bytes(), 0, 1) {
            Parsed::Upstream(e) => e,
            other => panic!("not an upstream line: {other:?}"),
        }
    }

    #[test]
    fn refused() {
        let e = up(
            r#"2026/11/20 14:03:07 [error] 1234#1234: *5 connect() failed (111: Connection refused) while connecting to upstream, client: 10.1.2.3, server: shop, request: "GET /api/x HTTP/1.1", upstream: "http://10.0.0.7:8080/api/x", host: "shop.example.com""#,
        );
        assert_eq!(e.kind, UpstreamError::Refused);
        assert_eq!(e.cid, Some(5));
        assert_eq!(e.level, "error");
        assert_eq!(e.client.as_deref(), Some("10.1.2.3"));
        assert_eq!(e.request.as_deref(), Some("GET /api/x HTTP/1.1"));
        assert_eq!(e.upstream.as_deref(), Some("10.0.0.7:8080"));
        assert_eq!(e.host.as_deref(), Some("shop.example.com"));
        assert_eq!(
            e.message,
            "connect() failed (111: Connection refused) while connecting to upstream"
        );
    }

    #[test]
    fn kinds() {
        let cases = [
            ("upstream prematurely closed connection while reading response header from upstream", UpstreamError::ClosedEarly),
            ("upstream rejected request with error 7 while reading response header from upstream", UpstreamError::Reset),
            ("upstream sent goaway with error 2 while reading response header from upstream", UpstreamError::ClosedEarly),
            ("upstream prematurely closed stream while reading upstream", UpstreamError::ClosedEarly),
            ("upstream sent frame for closed stream 1 while reading upstream", UpstreamError::InvalidHeader),
            // the body's framing, after the header went out (real nginx 1.22: status 200)
            ("upstream sent invalid chunked response while reading upstream", UpstreamError::InvalidBody),
            ("recv() failed (104: Connection reset by peer) while reading response header from upstream", UpstreamError::Reset),
            ("upstream sent too big header while reading response header from upstream", UpstreamError::HeaderTooBig),
            (r#"upstream sent invalid header: "X\x20Y..." while reading response header from upstream"#, UpstreamError::InvalidHeader),
            ("no live upstreams while connecting to upstream", UpstreamError::NoLive),
            ("upstream timed out (110: Connection timed out) while reading response header from upstream", UpstreamError::Timeout),
            ("SSL_do_handshake() failed (SSL: error:0A00010B:SSL routines::wrong version number) while SSL handshaking to upstream", UpstreamError::Tls),
            ("backend.invalid could not be resolved (3: Host not found)", UpstreamError::Dns),
            ("connect() failed (113: No route to host) while connecting to upstream", UpstreamError::Unreachable),
            (r#"limiting requests, excess: 0.960 by zone "perip""#, UpstreamError::RateLimited),
            (r#"limiting connections by zone "conns""#, UpstreamError::RateLimited),
            // what a real nginx 1.22 wrote (scratch run with a missing socket, a self-signed upstream)
            ("connect() to unix:/tmp/rd3/missing.sock failed (2: No such file or directory) while connecting to upstream", UpstreamError::Refused),
            ("connect() to unix:/run/php/php-fpm.sock failed (11: Resource temporarily unavailable) while connecting to upstream", UpstreamError::Refused),
            ("upstream SSL certificate verify error: (18:self-signed certificate) while SSL handshaking to upstream", UpstreamError::Tls),
            ("nosuch.example could not be resolved (110: Operation timed out)", UpstreamError::Dns),
            (r#"upstream sent "Content-Length" and "Transfer-Encoding" headers at the same time while reading response header from upstream"#, UpstreamError::InvalidHeader),
            ("connect() to 10.0.0.7:8080 failed (13: Permission denied) while connecting to upstream", UpstreamError::Other),
            ("connect() to 10.0.0.7:8080 failed (99: Cannot assign requested address) while connecting to upstream", UpstreamError::Other),
        ];
        for (msg, kind) in cases {
            let line = format!("2026/11/20 14:03:07 [error] 1#1: *9 {msg}, client: 1.2.3.4, server: _, request: \"GET / HTTP/1.1\", host: \"h\"");
            assert_eq!(up(&line).kind, kind, "{msg}");
        }
    }

    #[test]
    fn other_and_malformed() {
        assert_eq!(
            parse(
                b"2026/11/20 14:03:07 [notice] 1#1: signal process started",
                0,
                1
            ),
            Parsed::Other
        );
        // a dry run lets the request through: not a refusal
        for msg in [
            r#"limiting requests, dry run, excess: 1.000 by zone "perip""#,
            r#"limiting connections, dry run, by zone "conns""#,
            r#"delaying request, excess: 0.500, by zone "perip""#,
        ] {
            let line = format!("2026/11/20 14:03:07 [error] 1#1: *9 {msg}, client: 1.2.3.4, server: _, request: \"GET / HTTP/1.1\", host: \"h\"");
            assert_eq!(parse(line.as_bytes(), 0, 1), Parsed::Other, "{msg}");
        }
        // the resolver refusing is DNS, not the upstream
        let line = b"2026/11/28 23:12:58 [error] 21591#21591: send() failed (111: Connection refused) while resolving, resolver: 127.0.0.1:18853";
        assert!(matches!(parse(line, 0, 1), Parsed::Upstream(e) if e.kind == UpstreamError::Dns));
        // below `error`, or about no upstream: not evidence
        for line in [
            "2026/11/20 14:03:07 [error] 1#1: *9 FastCGI sent in stderr: \"PHP message: PHP Fatal error:  Uncaught Error: Call to undefined function foo() in /srv/index.php:3\" while reading response header from upstream, client: 1.2.3.4, server: _, request: \"GET /index.php HTTP/1.1\", upstream: \"fastcgi://unix:/run/php/php8.2-fpm.sock:\", host: \"h\"",
            "2026/11/20 14:03:07 [warn] 1#1: *9 upstream sent more data than specified in \"Content-Length\" header while reading upstream, client: 1.2.3.4, server: _, request: \"GET / HTTP/1.1\", upstream: \"http://10.0.0.7:80/\", host: \"h\"",
            "2026/11/28 23:31:23 [info] 30299#30299: *44 SSL_do_handshake() failed (SSL: error:0A000418:SSL routines::tlsv1 alert unknown ca:SSL alert number 48) while SSL handshaking, client: 127.0.0.1, server: 127.0.0.1:18443",
            "2026/11/28 23:31:23 [crit] 30299#30299: *45 SSL_do_handshake() failed (SSL: error:0A00006C:SSL routines::bad key share) while SSL handshaking, client: 10.0.0.9, server: 0.0.0.0:443",
            "2026/11/28 23:31:23 [info] 1#1: *46 recv() failed (104: Connection reset by peer) while reading client request headers, client: 10.0.0.9, server: _",
            "2026/11/28 23:31:23 [info] 1#1: *47 writev() failed (32: Broken pipe) while sending to client, client: 10.0.0.9, server: _, request: \"GET /big HTTP/1.1\", upstream: \"http://10.0.0.7:80/big\", host: \"h\"",
            "2026/11/20 14:03:07 [warn] 1#1: *9 upstream server temporarily disabled while connecting to upstream, client: 1.2.3.4, server: _, request: \"GET / HTTP/1.1\", upstream: \"http://10.0.0.7:80/\", host: \"h\"",
            "2026/11/20 14:03:07 [info] 1#1: *9 epoll_wait() reported that client prematurely closed connection, so upstream connection is closed too while sending request to upstream, client: 1.2.3.4, server: _, request: \"GET / HTTP/1.1\", upstream: \"http://10.0.0.7:80/\", host: \"h\"",
            "2026/11/20 14:03:07 [error] 1#1: *9 open() \"/srv/x\" failed (2: No such file or directory), client: 1.2.3.4, server: _, request: \"GET /x HTTP/1.1\", host: \"h\"",
            "2026/11/20 14:03:07 [error] 1#1: *9 open() \"/usr/share/nginx/html/50x.html\" failed (2: No such file or directory), client: 1.2.3.4, server: _, request: \"GET /x HTTP/1.1\", upstream: \"http://10.0.0.7:80/x\", host: \"h\"",
        ] {
            assert_eq!(parse(line.as_bytes(), 0, 1), Parsed::Other, "{line}");
        }
        assert_eq!(parse(b"hello", 0, 1), Parsed::Malformed);
        assert_eq!(parse(b"", 0, 1), Parsed::Malformed);
        assert_eq!(parse(b"2026/11/20 14:03:07 [err", 0, 1), Parsed::Malformed);
    }

    #[test]
    fn upstream_addrs() {
        assert_eq!(upstream_addr("http://10.0.0.1:80/x?y"), "10.0.0.1:80");
        assert_eq!(upstream_addr("http://backend/x"), "backend");
        assert_eq!(
            upstream_addr("http://unix:/run/app.sock:/x"),
            "unix:/run/app.sock"
        );
        assert_eq!(upstream_addr("https://[::1]:8443/"), "[::1]:8443");
    }
}
