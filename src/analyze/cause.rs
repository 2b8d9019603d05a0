//! One 5xx request → exactly one [`Cause`] with its evidence, or
//! [`Cause::Unknown`] with the reason. Never a guess: every branch names the
//! log fields or the error-log line it rests on.

pub use super::evidence::{Evidence, Line};
use crate::logs::nginx_error::{ErrorLine, UpstreamError};
use crate::logs::record::Attempt;

/// How many causes there are (the length of [`Cause::ALL`]).
pub const N_CAUSES: usize = 15;

/// Why a request failed. The snake_case ids are stable: they key every output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// The upstream refused the connection (or was unreachable).
    UpstreamRefused,
    /// Connecting to the upstream failed, and the log does not say whether
    /// it was refused or timed out (Envoy's bare `UF` /
    /// `{connection_failure}`).
    UpstreamConnectFailed,
    /// The upstream reset the connection before a response.
    UpstreamReset,
    /// The upstream closed the connection before a full response header.
    UpstreamClosedEarly,
    /// A reused keep-alive connection was closed by the upstream as the request went out.
    KeepaliveRace,
    /// The response header did not fit the proxy's buffer.
    HeaderTooBig,
    /// The upstream sent an invalid status line or header.
    InvalidHeader,
    /// No server of the upstream group could be selected (all down or failed).
    NoLiveUpstream,
    /// The proxy stopped waiting at a configured timeout.
    Timeout,
    /// The TLS handshake to the upstream failed.
    Tls,
    /// The upstream's name could not be resolved.
    Dns,
    /// The upstream itself answered with this status: look one hop further in.
    Passthrough,
    /// The hop refused the request by a rate or connection limit (503/429,
    /// never a 502): nginx `limiting requests`, Envoy `RL`, HAProxy `PR--`.
    RateLimited,
    /// The config answered with this status itself (`return 502;` in the
    /// location that served the request): no upstream was tried.
    ConfigReturn,
    /// The logs given do not tell; the evidence says what is missing.
    Unknown,
}

impl Cause {
    /// Every cause, in report order.
    pub const ALL: [Cause; N_CAUSES] = [
        Cause::UpstreamRefused,
        Cause::UpstreamConnectFailed,
        Cause::UpstreamReset,
        Cause::UpstreamClosedEarly,
        Cause::KeepaliveRace,
        Cause::HeaderTooBig,
        Cause::InvalidHeader,
        Cause::NoLiveUpstream,
        Cause::Timeout,
        Cause::Tls,
        Cause::Dns,
        Cause::Passthrough,
        Cause::RateLimited,
        Cause::ConfigReturn,
        Cause::Unknown,
    ];

    /// The stable id (`upstream_refused`).
    pub fn id(self) -> &'static str {
        match self {
            Cause::UpstreamRefused => "upstream_refused",
            Cause::UpstreamConnectFailed => "upstream_connect_failed",
            Cause::UpstreamReset => "upstream_reset",
            Cause::UpstreamClosedEarly => "upstream_closed_early",
            Cause::KeepaliveRace => "keepalive_race",
            Cause::HeaderTooBig => "header_too_big",
            Cause::InvalidHeader => "invalid_header",
            Cause::NoLiveUpstream => "no_live_upstream",
            Cause::Timeout => "timeout",
            Cause::Tls => "tls",
            Cause::Dns => "dns",
            Cause::Passthrough => "passthrough",
            Cause::RateLimited => "rate_limited",
            Cause::ConfigReturn => "config_return",
            Cause::Unknown => "unknown",
        }
    }

    /// A short phrase for people.
    pub fn title(self) -> &'static str {
        match self {
            Cause::UpstreamRefused => "upstream refused connection",
            Cause::UpstreamConnectFailed => {
                "connecting to upstream failed (refused or timed out: the log does not say)"
            }
            Cause::UpstreamReset => "upstream reset connection",
            Cause::UpstreamClosedEarly => "upstream closed connection before responding",
            Cause::KeepaliveRace => "keep-alive race (reused connection closed by upstream)",
            Cause::HeaderTooBig => "response header too big for proxy buffer",
            Cause::InvalidHeader => "invalid response header from upstream",
            Cause::NoLiveUpstream => "no live upstream server",
            Cause::Timeout => "timed out waiting for upstream",
            Cause::Tls => "TLS handshake to upstream failed",
            Cause::Dns => "upstream name not resolved",
            Cause::Passthrough => "upstream itself answered with this status",
            Cause::RateLimited => "refused by a rate or connection limit",
            Cause::ConfigReturn => {
                "the proxy's config answered with this status (`return`, a deny rule)"
            }
            Cause::Unknown => "unknown",
        }
    }

    /// Where the failure was born: `upstream` (the server behind the gateway
    /// misbehaved), `gateway` (the proxy's own config or limits), or `unknown`.
    pub fn born(self) -> &'static str {
        match self {
            Cause::UpstreamRefused
            | Cause::UpstreamConnectFailed
            | Cause::UpstreamReset
            | Cause::UpstreamClosedEarly
            | Cause::InvalidHeader
            | Cause::Passthrough => "upstream",
            Cause::KeepaliveRace
            | Cause::HeaderTooBig
            | Cause::Dns
            | Cause::Tls
            | Cause::RateLimited
            | Cause::ConfigReturn => "gateway",
            Cause::NoLiveUpstream | Cause::Timeout => "upstream",
            Cause::Unknown => "unknown",
        }
    }

    /// What to look at next.
    pub fn hint(self) -> &'static str {
        match self {
            Cause::UpstreamRefused => "is the app running and listening on that address? check its health and the upstream server list",
            Cause::UpstreamConnectFailed => "the app refused or did not accept in time: check it is listening, compare the request's duration with the connect timeout, and log the transport failure reason (newer Envoy tells them apart)",
            Cause::UpstreamReset => "the app (or something between) reset the connection: app crash, a limit on connections, or a keep-alive timeout",
            Cause::UpstreamClosedEarly => "the app closed without answering: crash, worker restart, or an idle timeout shorter than the proxy's keepalive_timeout",
            Cause::KeepaliveRace => "make the app's keep-alive idle timeout longer than the proxy's upstream keepalive_timeout",
            Cause::HeaderTooBig => "raise proxy_buffer_size (and proxy_buffers) above the largest response header (cookies, JWTs)",
            Cause::InvalidHeader => "the app sent a malformed status line or header; capture one response",
            Cause::NoLiveUpstream => "every server was marked failed (max_fails/fail_timeout) or down: the earlier errors tell why",
            Cause::Timeout => "the app was slower than proxy_read_timeout/connect_timeout; compare with its latency",
            Cause::Tls => "check proxy_ssl_* settings, SNI (proxy_ssl_server_name), protocols and the upstream's certificate",
            Cause::Dns => "check the resolver directive and that the name exists",
            Cause::Passthrough => "the status came from behind the gateway: analyze the next hop's logs",
            Cause::RateLimited => "a limit_req/limit_conn (or the hop's rate limit) refused it: compare the rate with the limit, or raise the burst",
            Cause::ConfigReturn => "the config answers with this status itself (nginx `return`, HAProxy `http-request return` or a deny rule, an ALB fixed-response, a Cloud Armor deny, a Cloudflare security rule): no upstream is involved; see why requests reach that rule (a maintenance switch, a catch-all, a security policy)",
            Cause::Unknown => "the evidence says what is missing: give the error log, log $upstream_status/$upstream_addr/$upstream_header_time, or read the quoted error-log line",
        }
    }
}

/// What the log format and the inputs can tell, for honest `unknown`s.
#[derive(Debug, Clone, Copy, Default)]
pub struct Capabilities {
    /// The access format logs `$upstream_status`.
    pub upstream_status: bool,
    /// The access format logs `$upstream_header_time`.
    pub header_time: bool,
    /// The access format logs `$upstream_connect_time`.
    pub connect_time: bool,
    /// Error logs were given and cover the request's time.
    pub error_log: bool,
    /// Error logs were given (read as such), whatever time they cover.
    pub error_log_given: bool,
    /// Some input could not be opened or read: perhaps the error log.
    pub unreadable_inputs: bool,
    /// The error logs hold upstream error lines at `error` or below, so
    /// their level lets nginx's upstream errors through (a log at `crit`
    /// holds at most a missing unix socket's `[crit] connect() … failed`).
    pub error_log_records_upstream_errors: bool,
    /// Error-log lines were matched by request line and time alone, not by
    /// client (the access log names another client, or none).
    pub joined_without_client: bool,
}

/// The verdict for one request.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// The cause.
    pub cause: Cause,
    /// The evidence (or, for `unknown`, why nothing more can be said).
    pub evidence: Vec<String>,
}

/// A matched error-log line with the name of its file, for evidence.
#[derive(Debug, Clone, Copy)]
pub struct ErrorRef<'a> {
    /// The line.
    pub line: &'a ErrorLine,
    /// Its file as shown to the user.
    pub file: &'a str,
}

/// Render an error line as evidence: `error.log:12: <message>, upstream: "…"`.
pub fn error_evidence(file: &str, e: &ErrorLine) -> String {
    let mut s = String::new();
    write_error(&mut s, file, e);
    s
}

/// [`error_evidence`] written to `w`.
fn write_error(w: &mut impl std::fmt::Write, file: &str, e: &ErrorLine) {
    let _ = write!(w, "{}:{}: [{}] {}", file, e.line, e.level, e.message);
    if let Some(u) = &e.upstream {
        let _ = write!(w, ", upstream: {u}");
    }
}

#[cfg(test)]
fn fmt_secs(v: Option<f64>) -> String {
    let mut s = String::new();
    push_secs(&mut s, v);
    s
}

/// `format!("{v:.3}")`, or `-` for `None`, appended to `s`: by integer
/// digits when `v` is a whole number of milliseconds give or take a
/// quarter (a time logged with three decimals always is), so the rounding
/// cannot differ from the exact decimal rounding of `{:.3}`; through
/// `core::fmt` otherwise. Every `--events` line has one to three attempts
/// of three times each (issue 9: `format!` was 5 % of such a run).
fn push_secs(s: &mut impl std::fmt::Write, v: Option<f64>) {
    let Some(v) = v else {
        let _ = s.write_str("-");
        return;
    };
    if let Some(text) = short_millis(v) {
        // most logged times: one digit, the text in one piece
        // SAFETY: digits and a dot: ASCII, valid UTF-8 (checking it was
        // ≈ 30 instructions a time, `callgrind`)
        let _ = s.write_str(unsafe { std::str::from_utf8_unchecked(&text) });
        return;
    }
    // `x` is within 1.2e-4 of v × 1000 below 1e12: with the quarter, the
    // exact value is closer to `k` than half a millisecond. `k` by a cast,
    // not `round` (a libm call, as in `event_json::write_millis`): a `k`
    // off by one at a half is more than a quarter away, and not taken
    let x = v * 1000.0;
    if v >= 0.0 && !v.is_sign_negative() && x < 1e12 {
        let ms = (x + 0.5) as u64;
        if (x - ms as f64).abs() < 0.25 {
            let _ = s.write_str(itoa::Buffer::new().format(ms / 1000));
            let text = super::event_json::dot_millis((ms % 1000) as u16);
            // SAFETY: as above
            let _ = s.write_str(unsafe { std::str::from_utf8_unchecked(&text) });
            return;
        }
    }
    let _ = write!(s, "{v:.3}");
}

/// [`push_secs`] as a `Display`, for `format_args!`.
struct Secs(Option<f64>);

impl std::fmt::Display for Secs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        push_secs(f, self.0);
        Ok(())
    }
}

/// Render an attempt as evidence: `attempt 2/2: 10.0.0.7:8080 status=502 connect=- header=- response=0.001`.
pub fn attempt_evidence(i: usize, n: usize, a: &Attempt) -> String {
    let mut s = String::with_capacity(80 + a.addr.len());
    write_attempt(&mut s, i, n, a);
    s
}

/// [`attempt_evidence`] written to `s`, in five to seven pieces rather
/// than fourteen: each piece is a copy (a `memcpy` call) into the line, and
/// every `--events` event has one to three such lines (`callgrind`: copies
/// were ≈ 540 instructions an event, the most of any step).
fn write_attempt(s: &mut impl std::fmt::Write, i: usize, n: usize, a: &Attempt) {
    let mut num = itoa::Buffer::new();
    if i + 1 < 10 && n < 10 {
        let mut head = *b"attempt 1/1: ";
        head[8] = b'0' + (i + 1) as u8;
        head[10] = b'0' + n as u8;
        // SAFETY: ASCII letters, digits and punctuation: valid UTF-8
        let _ = s.write_str(unsafe { std::str::from_utf8_unchecked(&head) });
    } else {
        let _ = s.write_str("attempt ");
        let _ = s.write_str(num.format(i + 1));
        let _ = s.write_str("/");
        let _ = s.write_str(num.format(n));
        let _ = s.write_str(": ");
    }
    let _ = s.write_str(if a.addr.is_empty() { "-" } else { &a.addr });
    match a.status {
        Some(st @ 100..=999) => {
            let mut t = *b" upstream_status=000";
            t[17] = b'0' + (st / 100) as u8;
            t[18] = b'0' + (st / 10 % 10) as u8;
            t[19] = b'0' + (st % 10) as u8;
            // SAFETY: as above
            let _ = s.write_str(unsafe { std::str::from_utf8_unchecked(&t) });
        }
        st => {
            let _ = s.write_str(" upstream_status=");
            let _ = match st {
                Some(st) => s.write_str(num.format(st)),
                None => s.write_str("-"),
            };
        }
    }
    push_labeled_secs(s, " connect=", a.connect_time);
    push_labeled_secs(s, " header=", a.header_time);
    push_labeled_secs(s, " response=", a.response_time);
}

/// `label` and [`push_secs`] of `v`, in one piece when the label is at
/// most 16 bytes and the time is `-` or a whole number of milliseconds
/// under 10 s (almost every logged time).
fn push_labeled_secs(s: &mut impl std::fmt::Write, label: &'static str, v: Option<f64>) {
    let mut buf = [0u8; 24];
    let l = label.len();
    let len = match v.and_then(short_millis) {
        _ if l > 16 => 0,
        _ if v.is_none() => {
            buf[l] = b'-';
            l + 1
        }
        Some(t) => {
            buf[l..l + 5].copy_from_slice(&t);
            l + 5
        }
        None => 0,
    };
    if len == 0 {
        let _ = s.write_str(label);
        push_secs(s, v);
        return;
    }
    buf[..l].copy_from_slice(label.as_bytes());
    // SAFETY: a `&str`'s bytes whole (valid UTF-8), then ASCII (digits, a
    // dot or a dash)
    let _ = s.write_str(unsafe { std::str::from_utf8_unchecked(&buf[..len]) });
}

/// `format!("{v:.3}")` as five ASCII bytes (`d.ddd`) when `v` is a whole
/// number of milliseconds (give or take a quarter, as [`push_secs`] says)
/// from 0 to 9.999 s; `None` otherwise.
#[inline]
fn short_millis(v: f64) -> Option<[u8; 5]> {
    let x = v * 1000.0;
    if !(v >= 0.0 && !v.is_sign_negative() && x < 10_000.0) {
        return None;
    }
    let ms = (x + 0.5) as u64;
    if ms >= 10_000 || (x - ms as f64).abs() >= 0.25 {
        return None;
    }
    let [dot, a, b, c] = super::event_json::dot_millis((ms % 1000) as u16);
    Some([b'0' + (ms / 1000) as u8, dot, a, b, c])
}

/// The failed status of the last upstream attempt when the client got
/// another one (not 499, the client's own close): nginx answered in the
/// upstream's place. `error_page 502 =200 /x;` (the `=code` form), or a
/// stale cached copy by `proxy_cache_use_stale error`, turn the upstream's
/// 502 into a 200 in `$status` while `$upstream_status` keeps 502 (seen
/// with nginx 1.22); `error_page 502 /x;` without `=` keeps the 502. A
/// retry that succeeded is not this: its last attempt did not fail.
pub fn replaced(status: u16, attempts: &[Attempt]) -> Option<u16> {
    let last = attempts.last()?.status?;
    (last >= 500 && last != status && status != 499 && status != 0).then_some(last)
}

/// The verdict for a request no upstream was tried for, served by a
/// location whose config answers with its status (`return 502;`, at
/// `directive`: `` `return 502` (nginx.conf:20) ``): nginx writes no
/// error-log line for it, so without the config it reads as a pass-through
/// (no `$upstream_status`) or as unknown. From ngx_http_rewrite_module:
/// `return` ends processing at the rewrite phase, before any `*_pass`.
pub fn config_returned(status: u16, directive: &str) -> Verdict {
    let mut ev = Evidence::on();
    let cause = config_returned_into(status, directive, &mut ev);
    Verdict {
        cause,
        evidence: ev.into_lines(),
    }
}

/// [`config_returned`], its evidence written to `ev`.
pub fn config_returned_into(status: u16, directive: &str, ev: &mut Evidence<'_>) -> Cause {
    ev.add(format_args!(
        "the location that served it answers {directive}: nginx made this {status} itself, no upstream was tried"
    ));
    Cause::ConfigReturn
}

/// An address from `$upstream_addr` that is an upstream group name: no port,
/// not `unix:`. nginx writes the group's name when no server could be chosen.
pub fn is_group_name(addr: &str) -> bool {
    !addr.is_empty()
        && !addr.starts_with("unix:")
        && !addr.starts_with('[')
        && !addr.contains(':')
        && !addr.chars().all(|c| c.is_ascii_digit() || c == '.')
}

/// Whether nginx logged `e` after it had passed the upstream's response
/// header on to the client: the action `reading upstream` is the body's
/// (ngx_http_upstream.c sets it once the header is sent; the header phase
/// is `reading response header from upstream`), and a broken chunked body
/// is only found there. Such a line does not explain the status: a 5xx
/// with it is the upstream's own, its body then cut or broken.
pub fn after_header(e: &ErrorLine) -> bool {
    e.kind == UpstreamError::InvalidBody || e.message.ends_with(" while reading upstream")
}

/// The status nginx answers for an upstream failure of this kind when no
/// other server is tried (`ngx_http_upstream_next`: 504 for
/// `NGX_HTTP_UPSTREAM_FT_TIMEOUT`, 502 for the others; a resolver failure
/// and `no live upstreams` finalize with 502 too), `None` for lines that
/// make no status of nginx's (a body already passed on, a limit, a message
/// gatecheck has no cause for).
fn nginx_status(kind: UpstreamError) -> Option<u16> {
    match kind {
        UpstreamError::Timeout => Some(504),
        UpstreamError::Refused
        | UpstreamError::Unreachable
        | UpstreamError::Reset
        | UpstreamError::ClosedEarly
        | UpstreamError::HeaderTooBig
        | UpstreamError::InvalidHeader
        | UpstreamError::NoLive
        | UpstreamError::Tls
        | UpstreamError::Dns => Some(502),
        UpstreamError::InvalidBody | UpstreamError::RateLimited | UpstreamError::Other => None,
    }
}

fn from_error(kind: UpstreamError) -> Cause {
    match kind {
        UpstreamError::Refused | UpstreamError::Unreachable => Cause::UpstreamRefused,
        UpstreamError::Reset => Cause::UpstreamReset,
        UpstreamError::ClosedEarly => Cause::UpstreamClosedEarly,
        UpstreamError::HeaderTooBig => Cause::HeaderTooBig,
        UpstreamError::InvalidHeader => Cause::InvalidHeader,
        // nginx had sent the header already (see the variant): should a
        // 5xx still be joined to it, the upstream's response was invalid
        UpstreamError::InvalidBody => Cause::InvalidHeader,
        UpstreamError::NoLive => Cause::NoLiveUpstream,
        UpstreamError::Timeout => Cause::Timeout,
        UpstreamError::Tls => Cause::Tls,
        UpstreamError::Dns => Cause::Dns,
        UpstreamError::RateLimited => Cause::RateLimited,
        UpstreamError::Other => Cause::Unknown,
    }
}

/// What the nginx config says about keep-alive connections to the upstream
/// an attempt went to (`keepalive N` in its `upstream` block).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Keepalive {
    /// No config was given, or no `upstream` block of it holds the address.
    #[default]
    Unknown,
    /// The `upstream` block `group` holds the address and has no `keepalive`:
    /// every connection to it is fresh.
    Off {
        /// The group's name.
        group: String,
    },
    /// The `upstream` block `group` keeps idle connections (`directive`, as
    /// `keepalive 32 (nginx.conf:40)`).
    On {
        /// The group's name.
        group: String,
        /// The `keepalive` directive with its file:line.
        directive: String,
    },
    /// Several `upstream` blocks hold the address, some with `keepalive`
    /// and some without; the access log does not say which one was used.
    Mixed {
        /// The groups, as `api (keepalive 32 (nginx.conf:40)), web (no keepalive)`.
        groups: String,
    },
}

/// Said under an `unknown` whose only error-log line has no cause.
const UNKNOWN_ERROR_LINE: &str = "cannot tell: nginx logged this upstream error for the request, so it made the status itself (not a pass-through), but gatecheck has no cause for this message: read it as it is";

const NO_ERROR_LINE: &str = "no error-log line matches this request, and nginx logs every error it turns into a 502/504 (at level `error`): the upstream sent this status";

/// Said beside [`NO_ERROR_LINE`] when the format has no `$upstream_status`:
/// a `return 502;` of the config is told apart only by the config.
const NO_UPSTREAM_STATUS_RETURN: &str = "unless the config answers it itself (`return 502;` writes no error line, and without $upstream_status the log cannot show that no upstream was tried): give the nginx config with --config to tell";

/// The same inference for the other 5xx (500, 501, 503 with an upstream
/// attempt, …), which nginx makes itself only by config (`return 500`).
const NO_ERROR_LINE_5XX: &str = "no error-log line matches this request, and nginx logs every upstream failure (at level `error`): the upstream sent this status (unless the config itself answers it, as `return 500` does)";

/// Classify one request: `status` sent to the client, the upstream
/// `attempts` (empty when the format logs none), and the error-log lines
/// joined to it (in time order). Without config knowledge of keep-alive:
/// see [`classify_with`].
pub fn classify(
    status: u16,
    attempts: &[Attempt],
    errors: &[ErrorRef<'_>],
    caps: Capabilities,
    want_evidence: bool,
) -> Verdict {
    classify_with(
        status,
        attempts,
        errors,
        caps,
        &|_| Keepalive::Unknown,
        want_evidence,
    )
}

/// [`classify`], with what the config says about keep-alive to an upstream
/// address (`keepalive`), which tells a reused connection from a fresh one.
pub fn classify_with(
    status: u16,
    attempts: &[Attempt],
    errors: &[ErrorRef<'_>],
    caps: Capabilities,
    keepalive: &dyn Fn(&str) -> Keepalive,
    want_evidence: bool,
) -> Verdict {
    let mut ev = if want_evidence {
        Evidence::on()
    } else {
        Evidence::off()
    };
    let cause = classify_into(status, attempts, errors, caps, keepalive, &mut ev);
    Verdict {
        cause,
        evidence: ev.into_lines(),
    }
}

/// [`classify_with`], the evidence written to `ev` (kept as lines, dropped,
/// or written into an NDJSON event: [`Evidence`]); the cause is the same
/// whichever.
pub fn classify_into(
    status: u16,
    attempts: &[Attempt],
    errors: &[ErrorRef<'_>],
    caps: Capabilities,
    keepalive: &dyn Fn(&str) -> Keepalive,
    evidence: &mut Evidence<'_>,
) -> Cause {
    let n = attempts.len();
    // the attempt that failed last: the last 5xx one
    let failed = attempts
        .iter()
        .rposition(|a| a.status.is_some_and(|s| s >= 500));
    if evidence.is_on() {
        for (i, a) in attempts.iter().enumerate() {
            evidence.with(|l| write_attempt(l, i, n, a));
        }
    }
    // lines of the body phase came after nginx had passed the response
    // header, and so its status, on: they cannot be what made it
    let body_lines = errors.iter().any(|e| after_header(e.line));
    let kept: Vec<ErrorRef<'_>>;
    let errors = if body_lines {
        for e in errors.iter().filter(|e| after_header(e.line)) {
            evidence.with(|l| {
                l.push_str(
                    "after the response header had gone out (so not what made this status): ",
                );
                write_error(l, e.file, e.line);
            });
        }
        kept = errors
            .iter()
            .filter(|e| !after_header(e.line))
            .copied()
            .collect();
        &kept[..]
    } else {
        errors
    };
    let replaced = replaced(status, attempts);
    if let Some(up) = replaced {
        evidence.add(format_args!(
            "the last attempt failed ($upstream_status {up}) but the client got {status}: nginx answered in the upstream's place (an `error_page {up} ={status}` or `proxy_intercept_errors`, or a stale cached copy by proxy_cache_use_stale), not a retry: this {up} is hidden from the status column"
        ));
    }

    // 1. The failed attempt received a response header with this status: the
    //    upstream answered it (passthrough), whatever happened to earlier attempts.
    if let Some(i) = failed {
        let a = &attempts[i];
        let answered = a.status == Some(status) || replaced.is_some();
        if a.header_time.is_some() && caps.header_time && answered {
            evidence.with(|l| {
                l.push_str("the upstream sent a response header ($upstream_header_time=");
                push_secs(l, a.header_time);
                l.push_str(") with status ");
                l.push_str(itoa::Buffer::new().format(a.status.unwrap_or(status)));
            });
            // `proxy_next_upstream` moved on from earlier servers that
            // failed (refused, timed out: a real nginx 1.22 logs `us="502,
            // 504, 502"` and one error line for each of the first two); the
            // cause is the last attempt's, the earlier failures are said
            if n > 1 {
                for e in errors.iter().filter(|e| {
                    e.line.kind != UpstreamError::Other
                        && e.line.upstream.as_deref() != Some(a.addr.as_str())
                }) {
                    evidence.with(|l| {
                        l.push_str("an earlier attempt: ");
                        write_error(l, e.file, e.line);
                    });
                }
            }
            return Cause::Passthrough;
        }
    }

    // 2. An error-log line for the failed attempt names the cause.
    let failed_addr = failed
        .map(|i| attempts[i].addr.as_str())
        .filter(|a| !a.is_empty());
    // a line whose message has a cause goes before one gatecheck cannot
    // classify (`UpstreamError::Other`), which only says nginx failed
    let pick = |known: bool| {
        let mut of = errors
            .iter()
            .filter(move |e| (e.line.kind != UpstreamError::Other) == known);
        let by_addr = failed_addr.and_then(|addr| {
            of.clone()
                .rev()
                .find(|e| e.line.upstream.as_deref() == Some(addr))
        });
        by_addr.or_else(|| of.next_back())
    };
    let chosen = pick(true).or_else(|| pick(false));
    // The line found may be an earlier attempt's, the last attempt having
    // left none: `proxy_next_upstream` went on from a refused or timed-out
    // server to one that answered the status itself (a real nginx 1.22
    // over three servers logs `us="502, 504, 502"`, a refusal and a timeout
    // line, and nothing for the third server's own 502). It shows when the
    // line names another server than the failed attempt, or when its
    // failure makes nginx answer another status than the failed attempt's
    // (or, without $upstream_status, the client's) — ngx_http_upstream_next
    // answers 504 for a timeout and 502 for every other failure.
    //
    // Without $upstream_status (a `log_format` of `$upstream_addr` and
    // `$upstream_response_time` only: `failed` is `None`), the attempts are
    // still counted, and the last one is the one whose outcome the client
    // got: `ngx_http_upstream_next` moves on after a failure that
    // `proxy_next_upstream` names (`error timeout` by default: a refusal,
    // a reset, an early close, a timeout), and the failure only finalizes
    // the request when no try is left. A failure with another attempt after
    // it did not make the status (seen with a real nginx 1.22: refused by
    // the first server, the second's own 502; `ua="A, B" urt="0.000,
    // 0.004"`, one error line naming A).
    let unlogged = failed.is_none() && !caps.upstream_status && n > 0;
    let last_unlogged = unlogged.then(|| &attempts[n - 1]);
    if let Some(e) = chosen.filter(|e| e.line.kind != UpstreamError::Other) {
        let target = match failed {
            Some(i) => attempts[i].status,
            // (one attempt logged: the line is that attempt's)
            None if !caps.upstream_status && n != 1 => Some(status),
            None => None,
        }
        .filter(|t| matches!(t, 502 | 504));
        let other_status =
            target.is_some_and(|t| nginx_status(e.line.kind).is_some_and(|s| s != t));
        let other_server = match failed {
            Some(i) => {
                let a = &attempts[i];
                a.status == Some(status)
                    && !a.addr.is_empty()
                    && e.line.upstream.as_deref().is_some_and(|u| u != a.addr)
            }
            None => last_unlogged.is_some_and(|a| {
                n > 1
                    && !a.addr.is_empty()
                    && !is_group_name(&a.addr)
                    && e.line.upstream.as_deref().is_some_and(|u| u != a.addr)
            }),
        };
        // only the number of attempts is known ($upstream_response_time,
        // or addresses logged as `-`): each failure nginx retried or
        // answered for wrote one line, so fewer lines than attempts leave
        // one attempt unaccounted for, and the log does not say which
        if last_unlogged.is_some_and(|a| n > 1 && (a.addr.is_empty() || a.addr == "-")) {
            let lines = errors
                .iter()
                .filter(|o| o.line.kind != UpstreamError::Other)
                .count();
            if lines < n && !other_status {
                for o in errors
                    .iter()
                    .filter(|o| o.line.kind != UpstreamError::Other)
                {
                    evidence.with(|l| {
                        l.push_str("an attempt's failure: ");
                        write_error(l, o.file, o.line);
                    });
                }
                return unknown(
                    evidence,
                    &[&format!(
                        "nginx made {n} attempts (the access log lists {n} upstream times) and the error log holds {lines} failure line(s) for them: whether the last attempt failed (and made this {status}) or answered it itself, the log does not say without $upstream_status or $upstream_addr"
                    )],
                );
            }
        }
        if other_status || other_server {
            for o in errors
                .iter()
                .filter(|o| o.line.kind != UpstreamError::Other)
            {
                evidence.with(|l| {
                    l.push_str("an earlier attempt: ");
                    write_error(l, o.file, o.line);
                });
            }
            let last = match failed.map(|i| &attempts[i]).or(last_unlogged) {
                Some(a) if !a.addr.is_empty() => format!("the last attempt ({})", a.addr),
                _ => "the attempt that ended the request".to_string(),
            };
            if other_server && failed.is_none() {
                evidence.add(format_args!(
                    "nginx tried {n} servers ($upstream_addr), the log format has no $upstream_status: a failure nginx retried (proxy_next_upstream) did not make the status, the last attempt's outcome did"
                ));
            }
            let why = if other_server {
                format!("no error-log line names {last}, while nginx wrote one for each earlier failure")
            } else {
                format!(
                    "the last error line's failure makes nginx answer {}, not {}: it ended an earlier attempt, and {last} left no error line",
                    nginx_status(e.line.kind).unwrap_or(0),
                    target.unwrap_or(status)
                )
            };
            if caps.error_log_records_upstream_errors {
                evidence.add(format_args!("{why}: the upstream answered this {status} itself (nginx logs every failure it answers 502/504 for)"));
                return Cause::Passthrough;
            }
            return unknown(
                evidence,
                &[&format!(
                    "{why}, and the error logs do not show that they record upstream errors"
                )],
            );
        }
    }
    if let Some(e) = chosen {
        let mut cause = from_error(e.line.kind);
        if matches!(cause, Cause::UpstreamClosedEarly | Cause::UpstreamReset) {
            let addr = failed
                .map(|i| attempts[i].addr.as_str())
                .or(e.line.upstream.as_deref())
                .unwrap_or("");
            if reuse(attempts, failed, &keepalive(addr), caps, evidence) {
                cause = Cause::KeepaliveRace;
            }
        }
        evidence.first(|l| write_error(l, e.file, e.line));
        // `proxy_next_upstream`: the earlier attempts failed too, each with
        // its own error line (the first refused, the last timed out); the
        // cause is the last attempt's, the others are said
        if n > 1 {
            for other in errors.iter().filter(|o| {
                !std::ptr::eq(o.line, e.line)
                    && o.line.kind != UpstreamError::Other
                    && o.line.upstream.is_some()
                    && o.line.upstream != e.line.upstream
            }) {
                evidence.with(|l| {
                    l.push_str("an earlier attempt: ");
                    write_error(l, other.file, other.line);
                });
            }
        }
        if caps.joined_without_client {
            evidence.add(format_args!(
                "matched by request line and time alone, not by client (the error line's client is {}; the access log names none or another address): another client's identical request in the same seconds would match too",
                e.line.client.as_deref().unwrap_or("-")
            ));
        }
        if e.line.kind == UpstreamError::Other {
            evidence.text(UNKNOWN_ERROR_LINE);
        }
        return cause;
    }

    // 3. The access-log fields alone.
    if let Some(i) = failed {
        let a = &attempts[i];
        if is_group_name(&a.addr) {
            evidence.add(format_args!(
                "$upstream_addr is {:?}, an upstream group name: nginx writes the group's name when no server could be selected",
                a.addr
            ));
            return Cause::NoLiveUpstream;
        }
        if status == 504
            && a.status == Some(504)
            && caps.header_time
            && a.header_time.is_none()
            && a.connect_time.is_some()
        {
            evidence.add(format_args!(
                "status 504 with no response header after {}s ($upstream_header_time '-'): nginx stopped waiting",
                Secs(a.response_time)
            ));
            return Cause::Timeout;
        }
    }
    // 4. No error line although the error logs cover the time. nginx logs every
    //    failure it turns into a 502/504, so the upstream sent the status, unless
    //    the fields show no response came (no header, never connected).
    let covered = errors.is_empty() && caps.error_log;
    let no_header = failed.is_some() && caps.header_time;
    let never_connected =
        failed.is_some_and(|i| attempts[i].connect_time.is_none()) && caps.connect_time;
    if covered && (no_header || never_connected) {
        return unknown(
            evidence,
            &["no error-log line matched, yet the fields show the upstream sent no response header: is the error log complete (error_log level `error` or lower)?"],
        );
    }
    // nginx answers 503 on its own (limit_req, limit_conn, whose lines may
    // be logged below the error log's level), so a 503 is inferred from an
    // absence only when an upstream attempt shows it; the other 5xx as
    // 502/504 are. A request with no attempt logged ($upstream_status '-')
    // never reached an upstream.
    let inferable = match status {
        502 | 504 => true,
        503 => failed.is_some(),
        _ => (500..600).contains(&status),
    };
    if covered
        && caps.error_log_records_upstream_errors
        && (failed.is_some() || !caps.upstream_status)
        && inferable
    {
        if let Some(i) = failed {
            if attempts[i].status != Some(status) {
                // the client status differs from the failed attempt's: not a plain pass-through
                return unknown(
                    evidence,
                    &["the client status differs from the failed upstream attempt's and no error-log line matched"],
                );
            }
        }
        evidence.text(if matches!(status, 502 | 504) {
            NO_ERROR_LINE
        } else {
            NO_ERROR_LINE_5XX
        });
        if !caps.upstream_status && attempts.is_empty() && matches!(status, 502 | 504) {
            // `return 502;` writes no error line either; with --config the
            // location that served it tells (cause::config_returned); an
            // address in $upstream_addr shows an upstream was tried
            evidence.with(|l| {
                // NO_UPSTREAM_STATUS_RETURN with each `502` made the status
                let mut rest = NO_UPSTREAM_STATUS_RETURN;
                while let Some(at) = rest.find("502") {
                    l.push_str(&rest[..at]);
                    l.push_str(itoa::Buffer::new().format(status));
                    rest = &rest[at + 3..];
                }
                l.push_str(rest);
            });
        }
        return Cause::Passthrough;
    }
    if covered && caps.upstream_status && attempts.is_empty() {
        return unknown(
            evidence,
            &["no upstream was tried ($upstream_status '-') and no error-log line matched: nginx answered this status itself (a `return`, or a limit logged below the error log's level)"],
        );
    }
    if covered && status == 503 && !caps.upstream_status {
        return unknown(
            evidence,
            &["no error-log line matched, and without $upstream_status a 503 from the upstream looks like nginx's own (limit_req/limit_conn log below `error` when limit_req_log_level/limit_conn_log_level say so)"],
        );
    }
    // "no error log given", "none readable", "given but not this time",
    // "present but no matching line" are different findings
    let log = if caps.error_log && !caps.error_log_records_upstream_errors {
        "the error logs hold no upstream error at level `error` (at most `crit` ones): is error_log's level above `error`?"
    } else if caps.error_log {
        "the error log is present, but no line of it matched this request"
    } else if caps.error_log_given {
        "an error log was given, but it does not cover this request's time"
    } else if caps.unreadable_inputs {
        "no nginx error log could be read (an input was unreadable: see the warnings)"
    } else {
        "no nginx error log was given"
    };
    let format = if !caps.upstream_status {
        Some("the log format has no $upstream_status")
    } else if !caps.header_time {
        Some("the log format has no $upstream_header_time")
    } else {
        None
    };
    let connect = (failed.is_some_and(|i| attempts[i].connect_time.is_none())
        && caps.upstream_status)
        .then_some("the upstream connection never completed ($upstream_connect_time '-'): refused, unreachable and TLS failures look alike without the error log");
    let missing = [Some(log), format, connect];
    let missing: &[Option<&str>] = &missing;
    unknown_of(evidence, missing.iter().flatten().copied())
}

/// `cannot tell: ` and the reasons `why`, joined by `; `.
fn unknown(evidence: &mut Evidence<'_>, why: &[&str]) -> Cause {
    unknown_of(evidence, why.iter().copied())
}

/// [`unknown`] of reasons given one by one.
fn unknown_of<'w>(evidence: &mut Evidence<'_>, why: impl Iterator<Item = &'w str>) -> Cause {
    evidence.with(|l| {
        l.push_str("cannot tell: ");
        for (i, w) in why.enumerate() {
            if i > 0 {
                l.push_str("; ");
            }
            l.push_str(w);
        }
    });
    Cause::Unknown
}

/// The longest upstream time of a keep-alive race. An idle connection the
/// upstream has closed fails at nginx's first read, one round trip after the
/// request went out (DESIGN.md: "near-zero upstream time"); 10 ms covers a
/// round trip within a region. A request the upstream worked on for longer
/// died with the upstream instead.
pub const RACE_WINDOW_S: f64 = 0.010;

/// Was the failed attempt (closed or reset by the upstream) on a reused
/// keep-alive connection? DESIGN.md: a keep-alive race is any reset or early
/// close on a reused upstream connection. From nginx's source
/// (`ngx_http_upstream.c`, 1.22):
/// * `ngx_http_upstream_connect` sets `u->start_time = ngx_current_msec`;
///   a cached connection (the keepalive module's `get` returns `NGX_DONE`)
///   goes straight to `ngx_http_upstream_send_request`, which sets
///   `connect_time = ngx_current_msec - u->start_time`: exactly 0 for every
///   reused connection. A fresh connect that completes at once (loopback) or
///   within the same millisecond also logs 0.000, so 0.000 is necessary, not
///   sufficient; a connect time above 0 proves a fresh connection.
/// * `ngx_http_upstream_next` gives a failed *cached* connection its try
///   back (`if (u->peer.cached && ft_type == NGX_HTTP_UPSTREAM_FT_ERROR)
///   u->peer.tries++`), so the same server tried twice in a row, the first
///   time with connect time 0.000, is a reused connection for certain.
/// * Only an `upstream` block with `keepalive` caches connections.
///
/// Returns whether it was a race; the sentence that says how sure the logs
/// make it, when there is one, goes to `ev`.
fn reuse(
    attempts: &[Attempt],
    failed: Option<usize>,
    ka: &Keepalive,
    caps: Capabilities,
    ev: &mut Evidence<'_>,
) -> bool {
    let Some(i) = failed else {
        if let Keepalive::On { group, directive } = ka {
            if !caps.connect_time {
                ev.add(format_args!(
                    "upstream {group} keeps idle connections ({directive}), so this may be a keep-alive race; the log format has no $upstream_connect_time to tell a reused connection (0.000) from a fresh one"
                ));
            }
        }
        return false;
    };
    let a = &attempts[i];
    if a.addr.is_empty() {
        return false;
    }
    let prev_same = i > 0 && attempts[i - 1].addr == a.addr;
    let next_same = attempts
        .get(i + 1)
        .is_some_and(|b| b.addr == a.addr && b.group == a.group);
    match (a.connect_time, ka) {
        (Some(c), _) if c > 0.0 => false,
        (Some(_), _) if prev_same || next_same => {
            ev.add(format_args!(
                "certain: {} was tried twice in a row and the failed attempt's connect time is 0.000 s: nginx gives a try back, and retries the same server, only when a reused keep-alive connection fails",
                a.addr
            ));
            true
        }
        (Some(_), Keepalive::On { group, directive })
            if a.response_time.is_none_or(|t| t <= RACE_WINDOW_S) =>
        {
            ev.add(format_args!(
                "likely: connect time 0.000 s on upstream {group}, which keeps idle connections ({directive}), and the attempt failed after {} s: nginx logs 0.000 for every reused keep-alive connection (a fresh connect within the same millisecond, as on loopback, looks the same)",
                Secs(a.response_time)
            ));
            true
        }
        (Some(_), Keepalive::On { group, .. }) => {
            ev.add(format_args!(
                "not a keep-alive race, though upstream {group} keeps idle connections: the upstream held the request {} s before closing, so it died while working on it (crash, restart, its own timeout)",
                Secs(a.response_time)
            ));
            false
        }
        (Some(_), Keepalive::Off { group }) => {
            ev.add(format_args!(
                "not a keep-alive race: upstream {group} has no `keepalive`, so the connection was fresh"
            ));
            false
        }
        (Some(_), Keepalive::Mixed { groups }) => {
            ev.add(format_args!(
                "connect time 0.000 s: a reused keep-alive connection (a keep-alive race) is possible: {} is in upstream {groups}, and the access log does not say which one this request used",
                a.addr
            ));
            false
        }
        (Some(_), Keepalive::Unknown) => {
            ev.text(
                "connect time 0.000 s: a reused keep-alive connection (a keep-alive race) is possible; give --config to tell whether this upstream keeps idle connections",
            );
            false
        }
        (None, _) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn att(addr: &str, status: u16, c: Option<f64>, h: Option<f64>) -> Attempt {
        Attempt {
            addr: addr.into(),
            status: Some(status),
            connect_time: c,
            header_time: h,
            response_time: Some(1.0),
            group: 0,
        }
    }

    /// `line` as found in a file named `error.log`.
    fn in_error_log(line: &ErrorLine) -> ErrorRef<'_> {
        ErrorRef {
            line,
            file: "error.log",
        }
    }

    fn eline(kind: UpstreamError, up: &str) -> ErrorLine {
        ErrorLine {
            file: 0,
            line: 7,
            local_secs: 0,
            level: "error".into(),
            cid: Some(1),
            kind,
            message: "connect() failed (111: Connection refused) while connecting to upstream"
                .into(),
            client: None,
            request: None,
            upstream: Some(up.into()),
            host: None,
        }
    }

    #[test]
    fn a_failed_last_attempt_the_client_did_not_get_was_replaced_not_rescued() {
        let refused = att("10.0.0.1:80", 502, None, None);
        let ok = att("10.0.0.2:80", 200, Some(0.001), Some(0.002));
        // error_page 502 =200: the only attempt failed, the client got 200
        assert_eq!(replaced(200, std::slice::from_ref(&refused)), Some(502));
        // error_page 502 =503 too (the report keeps it with its status)
        assert_eq!(replaced(503, std::slice::from_ref(&refused)), Some(502));
        // a retry that succeeded, the failure passed on as it is, the
        // client's own close, no attempt: not replaced
        assert_eq!(replaced(200, &[refused.clone(), ok.clone()]), None);
        assert_eq!(replaced(502, std::slice::from_ref(&refused)), None);
        assert_eq!(replaced(499, std::slice::from_ref(&refused)), None);
        assert_eq!(replaced(200, &[]), None);
        // the evidence says so, and the failed attempt keeps its cause
        let e = eline(UpstreamError::Refused, "10.0.0.1:80");
        let refs = [in_error_log(&e)];
        let v = classify(200, std::slice::from_ref(&refused), &refs, RICH, true);
        assert_eq!(v.cause, Cause::UpstreamRefused);
        assert!(
            v.evidence
                .iter()
                .any(|x| x.contains("$upstream_status 502) but the client got 200")),
            "{:?}",
            v.evidence
        );
        // an upstream's own 502 turned into 200 (proxy_intercept_errors +
        // error_page =200): the upstream answered it
        let answered = att("10.0.0.1:80", 502, Some(0.001), Some(0.003));
        let v = classify(200, std::slice::from_ref(&answered), &[], RICH, true);
        assert_eq!(v.cause, Cause::Passthrough);
        assert!(v.evidence.iter().any(|x| x.contains("with status 502")));
    }

    /// `proxy_next_upstream`: the first server refused, the second timed
    /// out: the 504's cause is the last attempt's, the refusal is said.
    #[test]
    fn a_retry_names_the_last_attempts_cause_and_says_the_earlier_one() {
        let a = [
            att("10.0.0.1:80", 502, None, None),
            att("10.0.0.2:80", 504, Some(0.0), None),
        ];
        let refused = eline(UpstreamError::Refused, "10.0.0.1:80");
        let mut timed_out = eline(UpstreamError::Timeout, "10.0.0.2:80");
        timed_out.line = 9;
        timed_out.message = "upstream timed out (110: Connection timed out) while reading response header from upstream".into();
        let refs = [in_error_log(&refused), in_error_log(&timed_out)];
        let v = classify(504, &a, &refs, RICH, true);
        assert_eq!(v.cause, Cause::Timeout);
        assert!(
            v.evidence[0].starts_with("error.log:9: "),
            "{:?}",
            v.evidence
        );
        let earlier: Vec<&String> = v
            .evidence
            .iter()
            .filter(|e| e.starts_with("an earlier attempt: error.log:7: "))
            .collect();
        assert_eq!(earlier.len(), 1, "{:?}", v.evidence);
        assert!(earlier[0].contains("Connection refused"));
        // one attempt: nothing earlier to say
        let v = classify(504, &a[1..], &refs, RICH, true);
        assert!(!v
            .evidence
            .iter()
            .any(|e| e.starts_with("an earlier attempt")));
    }

    /// `proxy_next_upstream` over three servers, the third answering 502
    /// itself: its cause (passthrough), with the two failures before it.
    #[test]
    fn a_passthrough_after_retries_says_the_earlier_failures() {
        let a = [
            att("10.0.0.1:80", 502, None, None),
            att("10.0.0.2:80", 504, None, None),
            att("10.0.0.3:80", 502, Some(0.0), Some(0.002)),
        ];
        let refused = eline(UpstreamError::Refused, "10.0.0.1:80");
        let mut timed_out = eline(UpstreamError::Timeout, "10.0.0.2:80");
        timed_out.line = 9;
        let refs = [in_error_log(&refused), in_error_log(&timed_out)];
        let v = classify(502, &a, &refs, RICH, true);
        assert_eq!(v.cause, Cause::Passthrough);
        let earlier = |v: &Verdict| {
            v.evidence
                .iter()
                .filter(|e| e.starts_with("an earlier attempt: error.log:"))
                .count()
        };
        assert_eq!(earlier(&v), 2, "{:?}", v.evidence);
        // the one attempt that answered: nothing earlier to say
        assert_eq!(earlier(&classify(502, &a[2..], &refs, RICH, true)), 0);
    }

    /// The same three tries logged without header times (`us="502, 504,
    /// 502"`), or with no `$upstream_status` at all (`combined`): the error
    /// lines are the first two servers'; the third answered itself. A
    /// timeout line alone under a 504 stays a timeout.
    #[test]
    fn an_error_line_of_an_earlier_attempt_is_not_the_last_ones_cause() {
        let a = [
            att("10.0.0.1:80", 502, None, None),
            att("10.0.0.2:80", 504, None, None),
            att("10.0.0.3:80", 502, None, None),
        ];
        let refused = eline(UpstreamError::Refused, "10.0.0.1:80");
        let mut timed_out = eline(UpstreamError::Timeout, "10.0.0.2:80");
        timed_out.line = 9;
        let refs = [in_error_log(&refused), in_error_log(&timed_out)];
        let no_header_time = Capabilities {
            header_time: false,
            ..RICH
        };
        let v = classify(502, &a, &refs, no_header_time, true);
        assert_eq!(v.cause, Cause::Passthrough, "{:?}", v.evidence);
        assert!(
            v.evidence
                .iter()
                .any(|e| e.contains("no error-log line names the last attempt (10.0.0.3:80)")),
            "{:?}",
            v.evidence
        );
        let combined = Capabilities {
            upstream_status: false,
            header_time: false,
            connect_time: false,
            ..RICH
        };
        let v = classify(502, &[], &refs, combined, true);
        assert_eq!(v.cause, Cause::Passthrough, "{:?}", v.evidence);
        assert!(
            v.evidence
                .iter()
                .any(|e| e.contains("makes nginx answer 504, not 502")),
            "{:?}",
            v.evidence
        );
        // the timeout ended it: a 504
        assert_eq!(
            classify(504, &[], &refs, combined, true).cause,
            Cause::Timeout
        );
        // error logs that show no upstream errors recorded: cannot tell
        let quiet = Capabilities {
            error_log_records_upstream_errors: false,
            ..combined
        };
        assert_eq!(classify(502, &[], &refs, quiet, true).cause, Cause::Unknown);
    }

    /// A `log_format` of `$upstream_addr` and `$upstream_response_time`
    /// without `$upstream_status` (seen with a real nginx 1.22: `ua="A, B"
    /// urt="0.000, 0.004"`, one refusal line naming A, B's own 502): the
    /// refusal nginx retried is not the cause. Its own line under the last
    /// attempt is; with only the times, fewer lines than attempts cannot
    /// tell.
    #[test]
    fn without_upstream_status_a_retried_failure_is_not_the_cause() {
        let addr_times = Capabilities {
            upstream_status: false,
            header_time: false,
            connect_time: false,
            ..RICH
        };
        let tried = |addr: &str| Attempt {
            addr: addr.into(),
            status: None,
            connect_time: None,
            header_time: None,
            response_time: Some(0.004),
            group: 0,
        };
        let refused = eline(UpstreamError::Refused, "10.0.0.1:80");
        let refs = [in_error_log(&refused)];
        let two = [tried("10.0.0.1:80"), tried("10.0.0.2:80")];
        let v = classify(502, &two, &refs, addr_times, true);
        assert_eq!(v.cause, Cause::Passthrough, "{:?}", v.evidence);
        assert!(
            v.evidence
                .iter()
                .any(|e| e.contains("no error-log line names the last attempt (10.0.0.2:80)")),
            "{:?}",
            v.evidence
        );
        assert!(v
            .evidence
            .iter()
            .any(|e| e.starts_with("an earlier attempt: error.log:7:")));
        // the refused server was the last one tried: its refusal made the 502
        let back = [tried("10.0.0.2:80"), tried("10.0.0.1:80")];
        assert_eq!(
            classify(502, &back, &refs, addr_times, true).cause,
            Cause::UpstreamRefused
        );
        // one attempt: its line
        assert_eq!(
            classify(502, &two[..1], &refs, addr_times, true).cause,
            Cause::UpstreamRefused
        );
        // error logs not shown to record upstream errors: cannot tell
        let quiet = Capabilities {
            error_log_records_upstream_errors: false,
            ..addr_times
        };
        assert_eq!(
            classify(502, &two, &refs, quiet, true).cause,
            Cause::Unknown
        );
        // only the times: two attempts, one line, which one's is not said
        let times = [tried(""), tried("")];
        let v = classify(502, &times, &refs, addr_times, true);
        assert_eq!(v.cause, Cause::Unknown, "{:?}", v.evidence);
        assert!(
            v.evidence
                .iter()
                .any(|e| e.starts_with("cannot tell: nginx made 2 attempts")),
            "{:?}",
            v.evidence
        );
        // a line for each: the last is the last attempt's
        let mut second = eline(UpstreamError::Refused, "10.0.0.2:80");
        second.line = 8;
        let both = [in_error_log(&refused), in_error_log(&second)];
        assert_eq!(
            classify(502, &times, &both, addr_times, true).cause,
            Cause::UpstreamRefused
        );
    }

    /// An upstream's own 502 whose body was then cut (`upstream
    /// prematurely closed connection while reading upstream`) or broken
    /// (`invalid chunked response`): the line came after the header, so
    /// the 502 is the upstream's, not an early close.
    #[test]
    fn a_body_phase_line_does_not_explain_the_status() {
        let combined = Capabilities {
            upstream_status: false,
            header_time: false,
            connect_time: false,
            ..RICH
        };
        for (kind, message) in [
            (
                UpstreamError::ClosedEarly,
                "upstream prematurely closed connection while reading upstream",
            ),
            (
                UpstreamError::InvalidBody,
                "upstream sent invalid chunked response while reading upstream",
            ),
        ] {
            let mut body = eline(kind, "10.0.0.1:80");
            body.message = message.into();
            let refs = [in_error_log(&body)];
            let v = classify(502, &[], &refs, combined, true);
            assert_eq!(v.cause, Cause::Passthrough, "{message}: {:?}", v.evidence);
            assert!(
                v.evidence
                    .iter()
                    .any(|e| e.starts_with("after the response header had gone out")),
                "{:?}",
                v.evidence
            );
            // the header phase's early close is one
            body.message = "upstream prematurely closed connection while reading response header from upstream".into();
            let refs = [in_error_log(&body)];
            if kind == UpstreamError::ClosedEarly {
                assert_eq!(
                    classify(502, &[], &refs, combined, true).cause,
                    Cause::UpstreamClosedEarly
                );
            }
        }
    }

    const RICH: Capabilities = Capabilities {
        upstream_status: true,
        header_time: true,
        connect_time: true,
        error_log: true,
        error_log_given: true,
        unreadable_inputs: false,
        error_log_records_upstream_errors: true,
        joined_without_client: false,
    };

    #[test]
    fn error_line_names_the_cause() {
        let e = eline(UpstreamError::Refused, "10.0.0.1:80");
        let v = classify(
            502,
            &[att("10.0.0.1:80", 502, None, None)],
            &[in_error_log(&e)],
            RICH,
            true,
        );
        assert_eq!(v.cause, Cause::UpstreamRefused);
        assert!(v.evidence[0].starts_with("error.log:7: [error] connect() failed"));
    }

    #[test]
    fn header_received_means_passthrough() {
        let v = classify(
            502,
            &[att("10.0.0.1:80", 502, Some(1.0), Some(12.0))],
            &[],
            RICH,
            true,
        );
        assert_eq!(v.cause, Cause::Passthrough);
    }

    #[test]
    fn group_name_means_no_live_upstream() {
        let caps = Capabilities {
            error_log: false,
            ..RICH
        };
        let v = classify(502, &[att("app_backend", 502, None, None)], &[], caps, true);
        assert_eq!(v.cause, Cause::NoLiveUpstream);
        assert!(is_group_name("backend"));
        assert!(!is_group_name("10.0.0.1:80"));
        assert!(!is_group_name("unix:/tmp/x.sock"));
        assert!(!is_group_name("[::1]:80"));
    }

    #[test]
    fn timeout_from_fields() {
        let caps = Capabilities {
            error_log: false,
            ..RICH
        };
        let v = classify(
            504,
            &[att("10.0.0.1:80", 504, Some(1.0), None)],
            &[],
            caps,
            true,
        );
        assert_eq!(v.cause, Cause::Timeout);
    }

    #[test]
    fn never_guesses_without_evidence() {
        let caps = Capabilities {
            error_log: false,
            error_log_given: false,
            ..RICH
        };
        let v = classify(502, &[att("10.0.0.1:80", 502, None, None)], &[], caps, true);
        assert_eq!(v.cause, Cause::Unknown);
        assert!(v
            .evidence
            .last()
            .unwrap()
            .contains("no nginx error log was given"));
        let unreadable = Capabilities {
            unreadable_inputs: true,
            ..caps
        };
        let v = classify(502, &[], &[], unreadable, true);
        assert!(
            v.evidence.iter().any(|e| e.contains("could be read")),
            "{v:?}"
        );
        let elsewhen = Capabilities {
            error_log_given: true,
            ..caps
        };
        let v = classify(502, &[], &[], elsewhen, true);
        assert!(
            v.evidence.iter().any(|e| e.contains("does not cover")),
            "{v:?}"
        );
        let combined = Capabilities::default();
        let v = classify(502, &[], &[], combined, true);
        assert_eq!(v.cause, Cause::Unknown);
        assert!(v.evidence.last().unwrap().contains("$upstream_status"));
    }

    #[test]
    fn absence_of_error_line_is_evidence_only_when_it_can_be() {
        let combined = Capabilities {
            error_log: true,
            error_log_records_upstream_errors: true,
            ..Capabilities::default()
        };
        let v = classify(502, &[], &[], combined, true);
        assert_eq!(v.cause, Cause::Passthrough);
        // ... unless the config returned it, which only the config tells
        assert!(
            v.evidence.last().unwrap().contains("`return 502;`"),
            "{:?}",
            v.evidence
        );
        // nginx answers 503 itself (limit_req) without an upstream error line
        assert_eq!(
            classify(503, &[], &[], combined, true).cause,
            Cause::Unknown
        );
        // an error log without a single upstream error may be at level crit
        let quiet = Capabilities {
            error_log_records_upstream_errors: false,
            ..combined
        };
        let v = classify(502, &[], &[], quiet, true);
        assert_eq!(v.cause, Cause::Unknown);
        assert!(
            v.evidence.last().unwrap().contains("level"),
            "{:?}",
            v.evidence
        );
    }

    #[test]
    fn keepalive_race_needs_same_server_retry() {
        let e = eline(UpstreamError::ClosedEarly, "10.0.0.1:80");
        let r = [in_error_log(&e)];
        let a = [
            att("10.0.0.1:80", 502, Some(0.0), None),
            att("10.0.0.1:80", 200, Some(1.0), Some(3.0)),
        ];
        assert_eq!(
            classify(200, &a, &r, RICH, true).cause,
            Cause::KeepaliveRace
        );
        let single = [att("10.0.0.1:80", 502, Some(0.0), None)];
        assert_eq!(
            classify(502, &single, &r, RICH, true).cause,
            Cause::UpstreamClosedEarly
        );
    }

    #[test]
    fn keepalive_race_from_config_and_connect_time() {
        let e = eline(UpstreamError::ClosedEarly, "10.0.0.1:80");
        let r = [in_error_log(&e)];
        let on = |_: &str| Keepalive::On {
            group: "api".into(),
            directive: "keepalive 32 (nginx.conf:40)".into(),
        };
        let off = |_: &str| Keepalive::Off {
            group: "api".into(),
        };
        let mut single = [att("10.0.0.1:80", 502, Some(0.0), None)];
        single[0].response_time = Some(0.0);
        // no retry (a POST): the keepalive group and the 0.000 connect time say "likely"
        let v = classify_with(502, &single, &r, RICH, &on, true);
        assert_eq!(v.cause, Cause::KeepaliveRace);
        assert!(
            v.evidence
                .iter()
                .any(|e| e.starts_with("likely:") && e.contains("keepalive 32 (nginx.conf:40)")),
            "{:?}",
            v.evidence
        );
        // a group without keepalive never reuses a connection
        let v = classify_with(502, &single, &r, RICH, &off, true);
        assert_eq!(v.cause, Cause::UpstreamClosedEarly);
        assert!(v
            .evidence
            .iter()
            .any(|e| e.contains("not a keep-alive race")));
        // a request the upstream held for seconds died with it: no race
        let mut held = single.clone();
        held[0].response_time = Some(2.5);
        let v = classify_with(502, &held, &r, RICH, &on, true);
        assert_eq!(v.cause, Cause::UpstreamClosedEarly);
        assert!(v
            .evidence
            .iter()
            .any(|e| e.contains("held the request 2.500 s")));
        // a connect time above 0 is a fresh connection, keepalive or not
        let fresh = [att("10.0.0.1:80", 502, Some(0.004), None)];
        assert_eq!(
            classify_with(502, &fresh, &r, RICH, &on, true).cause,
            Cause::UpstreamClosedEarly
        );
        // no config: possible, said so, not claimed
        let v = classify(502, &single, &r, RICH, true);
        assert_eq!(v.cause, Cause::UpstreamClosedEarly);
        assert!(v.evidence.iter().any(|e| e.contains("possible")));
        // the same-server retry is certain even without a config
        let retried = [
            att("10.0.0.1:80", 502, Some(0.0), None),
            att("10.0.0.1:80", 200, Some(0.001), Some(0.003)),
        ];
        let v = classify(200, &retried, &r, RICH, true);
        assert_eq!(v.cause, Cause::KeepaliveRace);
        assert!(v.evidence.iter().any(|e| e.starts_with("certain:")));
    }

    #[test]
    fn limit_lines_are_rate_limited() {
        let mut e = eline(UpstreamError::RateLimited, "-");
        e.upstream = None;
        e.message = r#"limiting requests, excess: 0.960 by zone "perip""#.into();
        let v = classify(503, &[], &[in_error_log(&e)], RICH, true);
        assert_eq!(v.cause, Cause::RateLimited);
        assert!(v.evidence[0].contains("limiting requests"));
    }

    #[test]
    fn other_5xx_passthrough_from_absence() {
        let combined = Capabilities {
            error_log: true,
            error_log_records_upstream_errors: true,
            ..Capabilities::default()
        };
        // an app 500 in `combined`, with an error log that covers the time
        let v = classify(500, &[], &[], combined, true);
        assert_eq!(v.cause, Cause::Passthrough);
        assert!(v.evidence.last().unwrap().contains("return 500"));
        // $upstream_status without $upstream_header_time: the attempt shows it
        let no_ht = Capabilities {
            upstream_status: true,
            connect_time: true,
            ..combined
        };
        let a = [att("10.0.0.1:80", 503, Some(0.001), None)];
        assert_eq!(
            classify(503, &a, &[], no_ht, true).cause,
            Cause::Passthrough
        );
        assert_eq!(
            classify(500, &a[..0], &[], no_ht, true).cause,
            Cause::Unknown
        );
        let v = classify(500, &[], &[], no_ht, true);
        assert!(v.evidence.last().unwrap().contains("no upstream was tried"));
        // with $upstream_header_time '-', the upstream sent no header: not passthrough
        let a = [att("10.0.0.1:80", 500, Some(0.001), None)];
        assert_eq!(classify(500, &a, &[], RICH, true).cause, Cause::Unknown);
    }

    use proptest::prelude::Strategy;

    /// The rendering `attempt_evidence` had, with `format!`: the oracle.
    fn attempt_evidence_oracle(i: usize, n: usize, a: &Attempt) -> String {
        let secs = |v: Option<f64>| v.map_or("-".to_string(), |s| format!("{s:.3}"));
        format!(
            "attempt {}/{}: {} upstream_status={} connect={} header={} response={}",
            i + 1,
            n,
            if a.addr.is_empty() { "-" } else { &a.addr },
            a.status.map_or("-".to_string(), |s| s.to_string()),
            secs(a.connect_time),
            secs(a.header_time),
            secs(a.response_time),
        )
    }

    proptest::proptest! {
        #[test]
        fn seconds_render_as_format_does(
            v in proptest::prop_oneof![
                proptest::prelude::any::<f64>(),
                (0u64..100_000_000).prop_map(|ms| ms as f64 / 1000.0),
                // under 10 s: one digit (push_secs' own path)
                (0u64..12_000).prop_map(|ms| ms as f64 / 1000.0),
                (0u64..2_000_000).prop_map(|h| h as f64 / 2000.0 + 1e-9),
                (0u64..2_000_000).prop_map(|h| h as f64 / 2000.0),
                proptest::prelude::Just(-0.0),
                proptest::prelude::Just(0.0625),
                (0.0..1e13f64),
            ],
        ) {
            proptest::prop_assert_eq!(fmt_secs(Some(v)), format!("{v:.3}"));
        }

        #[test]
        fn attempt_evidence_is_as_formatted(
            (i, n) in (1usize..14).prop_flat_map(|n| (0..n, proptest::prelude::Just(n))),
            addr in ".{0,20}",
            status in proptest::prop_oneof![
                proptest::prelude::any::<Option<u16>>(),
                (90u16..1010).prop_map(Some),
            ],
            c in proptest::option::of(0u32..100_000),
            h in proptest::option::of(proptest::prelude::any::<f64>()),
            r in proptest::prop_oneof![
                proptest::option::of(0u32..12_000).prop_map(|v| v.map(|ms| f64::from(ms) / 1000.0)),
                proptest::prelude::Just(Some(0.0005)),
                proptest::prelude::Just(Some(9.9996)),
                proptest::prelude::Just(Some(-0.0)),
            ],
        ) {
            let a = Attempt {
                addr,
                status,
                connect_time: c.map(|ms| f64::from(ms) / 1000.0),
                header_time: h,
                response_time: r,
                group: 0,
            };
            proptest::prop_assert_eq!(attempt_evidence(i, n, &a), attempt_evidence_oracle(i, n, &a));
        }
    }
}
