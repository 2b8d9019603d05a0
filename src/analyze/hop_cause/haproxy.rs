//! HAProxy 5xx → cause, from the termination state (`%tsc`) and the timers.
//!
//! Facts: HAProxy configuration manual §8.5 "Stream state at disconnection"
//! (first character: who ended the stream, second: in which phase) and §8.4
//! "Timing events" (`-1` = phase never reached), in haproxy/haproxy
//! `doc/configuration.txt`:
//! - `SC`: the server (or something before it) refused the TCP connection
//!   (RST or ICMP) — "likely a 502 or 503". The manual does not say it, but
//!   a server line with `ssl` whose TLS handshake fails (`verify required`
//!   and a self-signed certificate, or a plain-HTTP port that answers the
//!   ClientHello with an HTTP 400) ends the same way: haproxy 2.6 logged
//!   `SC--` 503 for both (`tests/it/real_haproxy.rs`, `/tls/…`).
//! - `sC`: `timeout connect` struck — 503 or 504. The TLS handshake to an
//!   `ssl` server is part of the connect phase: one that never completes (a
//!   port that waits for a request instead of answering the ClientHello)
//!   also ends `sC` (seen with haproxy 2.6).
//! - `SH`: the server aborted before sending full response headers (crash,
//!   close or reset: the log does not say which).
//! - `sH`: `timeout server` struck before the response headers — 504.
//! - `PH`: HAProxy blocked the server's response as invalid, incomplete or
//!   dangerous — "an HTTP 502 error is sent" (500 on a rewrite failure). A
//!   response header larger than the buffer (`tune.bufsize` minus
//!   `tune.maxrewrite`) is an incomplete response to HAProxy and is logged
//!   the same way, so the log alone cannot tell the two apart. So is a
//!   body whose chunked framing is broken when it arrives with the headers
//!   (haproxy 2.6 logged `502 … PH--` with Tr `-1` for a `Transfer-Encoding:
//!   chunked` response whose second chunk-size line was not hex, written in
//!   one piece: `tests/it/real_haproxy.rs`, `/badchunk`); one that breaks
//!   later, after the headers went out, ends `SD` with the server's status
//!   (`200 … SD--` in a scratch run with the bad chunk 200 ms later), not a
//!   5xx.
//! - `SD`: the server aborted during the body (data phase): the client
//!   already had the status, usually a 200 whose body is cut short (haproxy
//!   2.6: `200 … SD--` for a `Content-Length` the server never sent in
//!   full, as haproxy/haproxy#1441 reports from production); a 5xx with
//!   `SD` is the server's own status. §8.5 says `PD` for a chunked body
//!   broken after the headers; haproxy 2.6 logged `SD--` for it.
//! - `R`, `I`, `D`, `U`, `K`, `PC`: HAProxy's own resource exhaustion,
//!   internal error, kills (server marked down, backup displaced, admin),
//!   or socket limit: said as such, cause unknown.
//! - `PR` with 403: `http-request deny` (its default status): a rule of the
//!   frontend refused the request, no server was tried — not a 5xx.
//! - `sQ`: `timeout queue` struck while waiting for a server slot — 503.
//! - `<NOSRV>` with 503: no server could be chosen (all down).
//! - `PR`: HAProxy refused the request (deny rule, or a rewrite failure: 500).
//! - `--`: normal end: a 5xx status is the server's own.

use super::Evidence;
use crate::analyze::cause::Cause;
use crate::logs::hop::{HopRecord, Signals};

/// A field as text, `-` when absent (written straight into the evidence,
/// no string per field).
struct Text<'a>(Option<&'a [u8]>);

impl std::fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(b) => f.write_str(&String::from_utf8_lossy(b)),
            None => f.write_str("-"),
        }
    }
}

/// A timer in ms, `-1` when the phase was not reached.
struct Ms(Option<i64>);

impl std::fmt::Display for Ms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(v) => write!(f, "{v}"),
            None => f.write_str("-1"),
        }
    }
}

/// The cause of one HAProxy 5xx, its evidence written to `ev`.
pub fn judge(rec: &HopRecord<'_>, ev: &mut Evidence) -> Cause {
    let Signals::Haproxy {
        termination,
        tq,
        tw,
        tc,
        tr,
        ta,
        backend,
        server,
        retries,
        ..
    } = rec.signals
    else {
        return super::generic(rec, ev);
    };
    let status = rec.status.unwrap_or(0);
    ev.add(format_args!(
        "backend={} server={} termination_state={} TR/Tw/Tc/Tr/Ta={}/{}/{}/{}/{} retries={}",
        Text(backend),
        Text(server),
        Text(termination),
        Ms(tq),
        Ms(tw),
        Ms(tc),
        Ms(tr),
        Ms(ta),
        Text(retries)
    ));
    let mut verdict = |cause: Cause, why: &str| {
        ev.text(why);
        cause
    };
    let Some(tsc) = termination.filter(|t| t.len() >= 2) else {
        return verdict(
            Cause::Unknown,
            "the log format lacks the termination state (%tsc): use `option httplog` or add %tsc to the log-format",
        );
    };
    let nosrv = server == Some(b"<NOSRV>");
    match (tsc[0], tsc[1]) {
        // `sQ` is `timeout queue`, even with <NOSRV>: a request waiting in
        // the backend's queue (every server at its `maxconn`) has no server
        // yet, and haproxy 2.6 logs `be/<NOSRV> 0/1003/-1/-1/1003 503 … sQ--
        // … 0/1` for it (a scratch run with `maxconn 1` and `timeout queue
        // 1s`): the servers were up and busy, not down.
        (b'S' | b's', b'C') | (b'S', b'Q') if nosrv && status == 503 => verdict(
            Cause::NoLiveUpstream,
            "server <NOSRV> with 503: no server of the backend was available (all down or in maintenance)",
        ),
        (b'S', b'C') => verdict(
            Cause::UpstreamRefused,
            "termination state SC: the server refused the TCP connection (RST or ICMP) — HAProxy manual §8.5; to a server line with `ssl`, a failed TLS handshake (certificate not verified, no common protocol) is logged the same way: check that server's `ssl`/`verify`/`ca-file`",
        ),
        (b's', b'C') => verdict(
            Cause::Timeout,
            "termination state sC: `timeout connect` expired before the server accepted the connection — HAProxy manual §8.5; to a server line with `ssl` the TLS handshake counts too: a port behind `ssl` that never answers the TLS handshake ends the same way",
        ),
        (b'S', b'H') => verdict(
            Cause::UpstreamClosedEarly,
            "termination state SH: the server closed or reset the connection before sending full response headers (HAProxy does not log which) — HAProxy manual §8.5",
        ),
        (b's', b'H') => verdict(
            Cause::Timeout,
            "termination state sH: `timeout server` expired before the response headers — HAProxy manual §8.5",
        ),
        (b'P', b'H') if status == 500 => verdict(
            Cause::Unknown,
            "termination state PH with 500: HAProxy failed to rewrite a response header (see tune.maxrewrite, http-response strict-mode) — HAProxy manual §8.5",
        ),
        (b'P', b'H') => verdict(
            Cause::InvalidHeader,
            "termination state PH: HAProxy rejected the server's response as invalid or incomplete — an invalid header, headers larger than tune.bufsize minus tune.maxrewrite, or a broken chunked body that arrived with them (the log does not tell which; `show errors` on the stats socket keeps the last rejected response) — HAProxy manual §8.5",
        ),
        (b's', b'Q') => verdict(
            Cause::Timeout,
            "termination state sQ: `timeout queue` expired while waiting for a free server slot (maxconn) — HAProxy manual §8.5",
        ),
        // a deny rule's status is the config's choice: 429 says a rate
        // limit; a 503 may be one too, or any other ACL, so it is said to
        // be the config's answer, not guessed to be a rate limit
        (b'P', b'R') if status == 429 => verdict(
            Cause::RateLimited,
            "termination state PR with 429: an http-request deny rule refused the request before any server was tried (429: a rate limit) — HAProxy manual §8.5",
        ),
        (b'P', b'R') if status == 503 => verdict(
            Cause::ConfigReturn,
            "termination state PR: an http-request deny rule refused the request before any server was tried; the log does not say what the rule tested (often a rate limit: see the frontend's `http-request deny` lines) — HAProxy manual §8.5",
        ),
        // haproxy 2.6 logs `fe/<NOSRV> -1/202/-1/-1/201 503 … PT--` for
        // `http-request tarpit deny_status 503` (a scratch run)
        (b'P', b'T') if status == 429 => verdict(
            Cause::RateLimited,
            "termination state PT with 429: an http-request tarpit rule held the request for `timeout tarpit` (Tw), then refused it (429: a rate limit); no server was tried — HAProxy manual §8.5",
        ),
        (b'P', b'T') if status == 503 => verdict(
            Cause::ConfigReturn,
            "termination state PT: an http-request tarpit rule held the request for `timeout tarpit` (Tw), then refused it; no server was tried, and the log does not say what the rule tested — HAProxy manual §8.5",
        ),
        // §8.5: `L` the stream was locally processed, `R` nothing was sent
        // to any server; haproxy 2.6 logs `fe/<NOSRV> 0/-1/-1/-1/0 503 …
        // LR--` for `http-request return status 503` (a scratch run)
        (b'L', b'R') if nosrv && status >= 500 => verdict(
            Cause::ConfigReturn,
            "termination state LR with <NOSRV>: HAProxy answered the request itself (locally processed: an `http-request return`, a redirect, the stats page or its cache) and sent nothing to any server: the config made this status — HAProxy manual §8.5",
        ),
        (b'-', _) | (b'S' | b's' | b'P' | b'C' | b'c', b'D' | b'L') if !nosrv && tr.is_some() => verdict(
            Cause::Passthrough,
            "the server sent this status itself (its response headers arrived: Tr ≥ 0): look at the application behind this backend",
        ),
        // §8.5: `CC` the client aborted before the server connection was
        // made, `CH`/`cH` it aborted (or timed out) while waiting for the
        // response headers, `CQ`/`CT` while queued or tarpitted; HAProxy
        // has logged a 503 for `CC` (haproxy/haproxy#1266)
        (b'C' | b'c', b'C' | b'H' | b'Q' | b'T') => {
            ev.add(format_args!(
                "termination state {}{}: the client went away (closed, or `timeout client`) before the response; \
                 this {status} was never served; the server may have been slow, or (CC) dead and not yet marked down \
                 (Ta={}) — HAProxy manual §8.5",
                tsc[0] as char,
                tsc[1] as char,
                Ms(ta)
            ));
            Cause::Unknown
        }
        // §8.5's first characters for HAProxy's own failures and kills:
        // not the server's doing, and not one cause gatecheck can name
        (a @ (b'R' | b'I' | b'D' | b'U' | b'K'), b) | (a @ b'P', b @ b'C') => {
            let why = match (a, b) {
                (b'R', _) => "a resource of HAProxy was exhausted (memory, sockets, source ports…): it made this status itself, and the system log holds the precise error",
                (b'I', _) => "HAProxy found an internal error in a self-check (the manual: almost certainly a bug; report it and restart the process)",
                (b'D', _) => "HAProxy killed the stream because its server was marked down (`on-marked-down shutdown-sessions`)",
                (b'U', _) => "HAProxy killed the stream on a backup server because an active one came up (`on-marked-up shutdown-backup-sessions`)",
                (b'K', _) => "an admin killed the stream (`shutdown session` on the stats socket)",
                _ => "HAProxy did not connect to the server: the process's socket limit was reached (global `maxconn`, `ulimit-n`)",
            };
            ev.add(format_args!(
                "termination state {}{}: {why}; not a failure of the server — HAProxy manual §8.5",
                a as char, b as char
            ));
            Cause::Unknown
        }
        (a, b) => {
            ev.add(format_args!(
                "termination state {}{}: not a server failure gatecheck can name (HAProxy manual §8.5 explains each code)",
                a as char, b as char
            ));
            Cause::Unknown
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::hop_cause::verdict_of;
    use crate::logs::haproxy::Haproxy;
    use crate::logs::hop::HopFormat;

    fn cause_of(status: &str, server: &str, timers: &str, tsc: &str) -> Cause {
        let line = format!(
            "10.0.0.1:5000 [12/Mar/2024:08:12:01.100] fe be/{server} {timers} {status} 217 - - {tsc} 1/1/0/0/0 0/0 \"GET /a HTTP/1.1\""
        );
        let (p, _) = Haproxy.detect(&[line.as_bytes()]).expect("detected");
        verdict_of(judge, &p.parse_line(line.as_bytes()).unwrap()).cause
    }

    #[test]
    fn termination_states() {
        use Cause::*;
        let cases = [
            ("503", "app1", "0/0/-1/-1/3", "SC--", UpstreamRefused),
            ("502", "app1", "0/0/-1/-1/3", "SC--", UpstreamRefused),
            ("503", "<NOSRV>", "0/-1/-1/-1/0", "SC--", NoLiveUpstream),
            ("504", "app1", "0/0/-1/-1/5000", "sC--", Timeout),
            ("502", "app1", "0/0/0/-1/3", "SH--", UpstreamClosedEarly),
            ("504", "app1", "0/0/0/-1/30000", "sH--", Timeout),
            ("502", "app1", "0/0/0/-1/3", "PH--", InvalidHeader),
            ("500", "app1", "0/0/0/-1/3", "PH--", Unknown),
            ("503", "app1", "0/5000/-1/-1/5000", "sQ--", Timeout),
            // the backend's queue: no server chosen yet, all busy (not down)
            ("503", "<NOSRV>", "0/1003/-1/-1/1003", "sQ--", Timeout),
            ("502", "app1", "0/0/0/4/5", "----", Passthrough),
            ("503", "app1", "0/0/0/4/5", "--NI", Passthrough),
            ("502", "app1", "0/0/0/4/5", "SD--", Passthrough),
            ("503", "<NOSRV>", "0/-1/-1/-1/0", "PR--", ConfigReturn),
            ("503", "<NOSRV>", "-1/202/-1/-1/201", "PT--", ConfigReturn),
            ("429", "<NOSRV>", "0/-1/-1/-1/0", "PR--", RateLimited),
            ("429", "<NOSRV>", "-1/202/-1/-1/201", "PT--", RateLimited),
            ("503", "<NOSRV>", "0/-1/-1/-1/0", "LR--", ConfigReturn),
            ("500", "app1", "0/0/0/-1/3", "RC--", Unknown),
            ("503", "app1", "0/0/-1/-1/0", "PC--", Unknown),
            ("502", "app1", "0/0/0/-1/3", "DH--", Unknown),
            ("503", "app1", "0/0/-1/-1/12", "CC--", Unknown),
        ];
        for (st, srv, t, tsc, want) in cases {
            assert_eq!(cause_of(st, srv, t, tsc), want, "{st} {srv} {t} {tsc}");
        }
    }

    /// HAProxy's own failures are said to be its own (§8.5), not a server's.
    #[test]
    fn haproxy_own_failures_are_named() {
        for (tsc, says) in [
            ("RC--", "a resource of HAProxy was exhausted"),
            ("IH--", "internal error"),
            ("DH--", "marked down"),
            ("KH--", "an admin killed"),
            ("PC--", "socket limit"),
        ] {
            let line = format!("10.0.0.1:5000 [12/Mar/2024:08:12:01.100] fe be/app1 0/0/0/-1/12 503 0 - - {tsc} 1/1/0/0/0 0/0 \"GET /a HTTP/1.1\"");
            let (p, _) = Haproxy.detect(&[line.as_bytes()]).expect("detected");
            let v = verdict_of(judge, &p.parse_line(line.as_bytes()).unwrap());
            assert_eq!(v.cause, Cause::Unknown, "{tsc}");
            assert!(
                v.evidence
                    .iter()
                    .any(|e| e.contains(says) && e.contains("not a failure of the server")),
                "{tsc}: {:?}",
                v.evidence
            );
        }
    }

    /// A client abort is said to be one, not "not a server failure
    /// gatecheck can name".
    #[test]
    fn client_abort_is_named() {
        let line = "10.0.0.1:5000 [12/Mar/2024:08:12:01.100] fe be/app1 0/0/-1/-1/12 503 0 - - CC-- 1/1/0/0/0 0/0 \"GET /a HTTP/1.1\"";
        let (p, _) = Haproxy.detect(&[line.as_bytes()]).expect("detected");
        let v = verdict_of(judge, &p.parse_line(line.as_bytes()).unwrap());
        assert!(
            v.evidence
                .iter()
                .any(|e| e.contains("the client went away")),
            "{:?}",
            v.evidence
        );
    }
}
