//! One 5xx request → exactly one [`Cause`] with its evidence, or
//! [`Cause::Unknown`] with the reason. Never a guess: every branch names the
//! log fields or the error-log line it rests on.

use crate::logs::nginx_error::{ErrorLine, UpstreamError};
use crate::logs::record::Attempt;

/// How many causes there are (the length of [`Cause::ALL`]).
pub const N_CAUSES: usize = 13;

/// Why a request failed. The snake_case ids are stable: they key every output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// The upstream refused the connection (or was unreachable).
    UpstreamRefused,
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
    /// The logs given do not tell; the evidence says what is missing.
    Unknown,
}

impl Cause {
    /// Every cause, in report order.
    pub const ALL: [Cause; N_CAUSES] = [
        Cause::UpstreamRefused,
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
        Cause::Unknown,
    ];

    /// The stable id (`upstream_refused`).
    pub fn id(self) -> &'static str {
        match self {
            Cause::UpstreamRefused => "upstream_refused",
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
            Cause::Unknown => "unknown",
        }
    }

    /// A short phrase for people.
    pub fn title(self) -> &'static str {
        match self {
            Cause::UpstreamRefused => "upstream refused connection",
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
            Cause::Unknown => "unknown",
        }
    }

    /// Where the failure was born: `upstream` (the server behind the gateway
    /// misbehaved), `gateway` (the proxy's own config or limits), or `unknown`.
    pub fn born(self) -> &'static str {
        match self {
            Cause::UpstreamRefused
            | Cause::UpstreamReset
            | Cause::UpstreamClosedEarly
            | Cause::InvalidHeader
            | Cause::Passthrough => "upstream",
            Cause::KeepaliveRace
            | Cause::HeaderTooBig
            | Cause::Dns
            | Cause::Tls
            | Cause::RateLimited => "gateway",
            Cause::NoLiveUpstream | Cause::Timeout => "upstream",
            Cause::Unknown => "unknown",
        }
    }

    /// What to look at next.
    pub fn hint(self) -> &'static str {
        match self {
            Cause::UpstreamRefused => "is the app running and listening on that address? check its health and the upstream server list",
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
            Cause::Unknown => "give the error log, or log $upstream_status/$upstream_addr/$upstream_header_time",
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
    /// The error logs hold upstream error lines at all, so their level lets
    /// nginx's upstream errors through (a log at `crit` would hold none).
    pub error_log_records_upstream_errors: bool,
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
    let mut s = format!("{}:{}: [{}] {}", file, e.line, e.level, e.message);
    if let Some(u) = &e.upstream {
        s.push_str(&format!(", upstream: {u}"));
    }
    s
}

fn fmt_secs(v: Option<f64>) -> String {
    match v {
        Some(s) => format!("{s:.3}"),
        None => "-".into(),
    }
}

/// Render an attempt as evidence: `attempt 2/2: 10.0.0.7:8080 status=502 connect=- header=- response=0.001`.
pub fn attempt_evidence(i: usize, n: usize, a: &Attempt) -> String {
    format!(
        "attempt {}/{}: {} upstream_status={} connect={} header={} response={}",
        i + 1,
        n,
        if a.addr.is_empty() { "-" } else { &a.addr },
        a.status
            .map(|s| s.to_string())
            .unwrap_or_else(|| "-".into()),
        fmt_secs(a.connect_time),
        fmt_secs(a.header_time),
        fmt_secs(a.response_time),
    )
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

fn from_error(kind: UpstreamError) -> Cause {
    match kind {
        UpstreamError::Refused | UpstreamError::Unreachable => Cause::UpstreamRefused,
        UpstreamError::Reset => Cause::UpstreamReset,
        UpstreamError::ClosedEarly => Cause::UpstreamClosedEarly,
        UpstreamError::HeaderTooBig => Cause::HeaderTooBig,
        UpstreamError::InvalidHeader => Cause::InvalidHeader,
        UpstreamError::NoLive => Cause::NoLiveUpstream,
        UpstreamError::Timeout => Cause::Timeout,
        UpstreamError::Tls => Cause::Tls,
        UpstreamError::Dns => Cause::Dns,
    }
}

const NO_ERROR_LINE: &str = "no error-log line matches this request, and nginx logs every error it turns into a 502/504 (at level `error`): the upstream sent this status";

/// Classify one request: `status` sent to the client, the upstream
/// `attempts` (empty when the format logs none), and the error-log lines
/// joined to it (in time order).
pub fn classify(
    status: u16,
    attempts: &[Attempt],
    errors: &[ErrorRef<'_>],
    caps: Capabilities,
    want_evidence: bool,
) -> Verdict {
    let n = attempts.len();
    // the attempt that failed last: the last 5xx one
    let failed = attempts
        .iter()
        .rposition(|a| a.status.is_some_and(|s| s >= 500));
    let mut evidence = Evidence {
        on: want_evidence,
        v: Vec::new(),
    };
    if want_evidence {
        evidence.v = attempts
            .iter()
            .enumerate()
            .map(|(i, a)| attempt_evidence(i, n, a))
            .collect();
    }

    // 1. The failed attempt received a response header with this status: the
    //    upstream answered it (passthrough), whatever happened to earlier attempts.
    if let Some(i) = failed {
        let a = &attempts[i];
        if a.header_time.is_some() && caps.header_time && a.status == Some(status) {
            evidence.push(|| {
                format!(
                    "the upstream sent a response header ($upstream_header_time={}) with status {}",
                    fmt_secs(a.header_time),
                    status
                )
            });
            return evidence.verdict(Cause::Passthrough);
        }
    }

    // 2. An error-log line for the failed attempt names the cause.
    let failed_addr = failed
        .map(|i| attempts[i].addr.as_str())
        .filter(|a| !a.is_empty());
    let chosen = match failed_addr {
        Some(addr) => errors
            .iter()
            .rev()
            .find(|e| e.line.upstream.as_deref() == Some(addr))
            .or_else(|| errors.last()),
        None => errors.last(),
    };
    if let Some(e) = chosen {
        let mut cause = from_error(e.line.kind);
        if matches!(cause, Cause::UpstreamClosedEarly | Cause::UpstreamReset) {
            if let Some(i) = failed {
                if let Some(why) = keepalive_race(attempts, i) {
                    evidence.push(|| why);
                    cause = Cause::KeepaliveRace;
                }
            }
        }
        evidence.first(|| error_evidence(e.file, e.line));
        return evidence.verdict(cause);
    }

    // 3. The access-log fields alone.
    if let Some(i) = failed {
        let a = &attempts[i];
        if is_group_name(&a.addr) {
            evidence.push(|| format!(
                "$upstream_addr is {:?}, an upstream group name: nginx writes the group's name when no server could be selected",
                a.addr
            ));
            return evidence.verdict(Cause::NoLiveUpstream);
        }
        if status == 504
            && a.status == Some(504)
            && caps.header_time
            && a.header_time.is_none()
            && a.connect_time.is_some()
        {
            evidence.push(|| format!(
                "status 504 with no response header after {}s ($upstream_header_time '-'): nginx stopped waiting",
                fmt_secs(a.response_time)
            ));
            return evidence.verdict(Cause::Timeout);
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
            "no error-log line matched, yet the fields show the upstream sent no response header: is the error log complete (error_log level `error` or lower)?",
        );
    }
    // nginx answers 503 on its own without an upstream error (limit_req,
    // limit_conn), so only 502 and 504 can be inferred from an absence.
    if covered
        && caps.error_log_records_upstream_errors
        && (failed.is_some() || !caps.upstream_status)
        && matches!(status, 502 | 504)
    {
        if let Some(i) = failed {
            if attempts[i].status != Some(status) {
                // the client status differs from the failed attempt's: not a plain pass-through
                return unknown(
                    evidence,
                    "the client status differs from the failed upstream attempt's and no error-log line matched",
                );
            }
        }
        evidence.push(|| NO_ERROR_LINE.into());
        return evidence.verdict(Cause::Passthrough);
    }
    let mut missing = Vec::new();
    // "no error log given", "none readable", "given but not this time",
    // "present but no matching line" are different findings
    if caps.error_log && !caps.error_log_records_upstream_errors {
        missing.push(
            "the error logs hold no upstream error at all: is error_log's level above `error`?",
        );
    } else if caps.error_log {
        missing.push("the error log is present, but no line of it matched this request");
    } else if caps.error_log_given {
        missing.push("an error log was given, but it does not cover this request's time");
    } else if caps.unreadable_inputs {
        missing
            .push("no nginx error log could be read (an input was unreadable: see the warnings)");
    } else {
        missing.push("no nginx error log was given");
    }
    if !caps.upstream_status {
        missing.push("the log format has no $upstream_status");
    } else if !caps.header_time {
        missing.push("the log format has no $upstream_header_time");
    }
    if failed.is_some_and(|i| attempts[i].connect_time.is_none()) && caps.upstream_status {
        missing.push("the upstream connection never completed ($upstream_connect_time '-'): refused, unreachable and TLS failures look alike without the error log");
    }
    unknown(evidence, &missing.join("; "))
}

fn unknown(mut evidence: Evidence, why: &str) -> Verdict {
    evidence.push(|| format!("cannot tell: {why}"));
    evidence.verdict(Cause::Unknown)
}

/// Evidence strings, built only when wanted: the hot path first classifies
/// without them and asks again only for the requests it shows.
struct Evidence {
    on: bool,
    v: Vec<String>,
}

impl Evidence {
    fn push(&mut self, f: impl FnOnce() -> String) {
        if self.on {
            self.v.push(f());
        }
    }
    fn first(&mut self, f: impl FnOnce() -> String) {
        if self.on {
            self.v.insert(0, f());
        }
    }
    fn verdict(self, cause: Cause) -> Verdict {
        Verdict {
            cause,
            evidence: self.v,
        }
    }
}

/// A closed/reset attempt on a reused keep-alive connection: nginx re-tries a
/// failed *cached* connection on the same server without counting a try
/// (`ngx_http_upstream_next`), so the same address twice in a row, the first
/// with a zero connect time, is the mark of a keep-alive race.
fn keepalive_race(attempts: &[Attempt], failed: usize) -> Option<String> {
    let a = &attempts[failed];
    let prev_same = failed > 0 && attempts[failed - 1].addr == a.addr;
    let next_same = attempts
        .get(failed + 1)
        .is_some_and(|b| b.addr == a.addr && b.group == a.group);
    let reused = a.connect_time == Some(0.0);
    ((prev_same || next_same) && reused && !a.addr.is_empty()).then(|| {
        format!(
            "{} was tried twice in a row and the failed attempt's connect time is 0.000: nginx retries the same server only for a reused keep-alive connection",
            a.addr
        )
    })
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

    const RICH: Capabilities = Capabilities {
        upstream_status: true,
        header_time: true,
        connect_time: true,
        error_log: true,
        error_log_given: true,
        unreadable_inputs: false,
        error_log_records_upstream_errors: true,
    };

    #[test]
    fn error_line_names_the_cause() {
        let e = eline(UpstreamError::Refused, "10.0.0.1:80");
        let v = classify(
            502,
            &[att("10.0.0.1:80", 502, None, None)],
            &[ErrorRef {
                line: &e,
                file: "error.log",
            }],
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
        assert_eq!(
            classify(502, &[], &[], combined, true).cause,
            Cause::Passthrough
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
        let r = [ErrorRef {
            line: &e,
            file: "error.log",
        }];
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
}
