//! Cloudflare's signals → causes: `EdgeResponseStatus` (its own 52x codes)
//! and `OriginResponseStatus`, with the Worker and security fields that say
//! the edge itself answered.
//!
//! Cloudflare's "Cloudflare 5xx errors" troubleshooting pages: **520** the
//! origin returned an empty, unknown or unexpected response (crash, reset,
//! headers over the limit, no status line); **521** the origin refused the
//! connection; **522** no SYN+ACK within 19 s, or no ACK of the request
//! within 90 s; **523** the origin is unreachable (routing, DNS record);
//! **524** connected but no HTTP response within the proxy read timeout
//! (100 s by default); **525** the TLS handshake with the origin failed;
//! **526** the origin's certificate is invalid; **527** a Railgun listener
//! to origin error (Railgun is retired); **530** is sent with a 1xxx error
//! (1016: origin DNS error, 1033: the Cloudflare Tunnel is not connected)
//! that Logpush does not log. The log-field reference
//! (`logs/reference/log-fields/zone/http_requests`): `OriginResponseStatus`
//! 0 means no request was made to the origin (the edge answered), "however,
//! if the zone has a Worker running on it, the value 0 could be the result
//! of a Workers subrequest made to the origin"; `SecurityAction` is the
//! terminating action of a security rule (`block`, `challenge`,
//! `managedChallenge`, `connectionClose`, …); `WorkerStatus` is the
//! Worker's status. So: an origin status equal to the edge status is a
//! passthrough, whatever the code (an origin behind another Cloudflare zone
//! answers 52x itself); a terminating security action or a Worker that did
//! not end `ok` made the response at the edge (`unknown`, saying so: no
//! cause of gatecheck names them); then the 52x table; any other status
//! with origin status 0 is Cloudflare's (or a Worker's) own, unexplained.

use super::{context, Evidence, Lossy};
use crate::analyze::cause::Cause;
use crate::logs::hop::{HopRecord, Signals};

/// `SecurityAction` values that end the request at the edge (the
/// reference's list of actions, less the ones that let it through:
/// `allow`, `log`, `skip`, `bypass`, `rewrite`, `…Solved`, `…Bypassed`).
const TERMINATING: &[&[u8]] = &[
    b"block",
    b"challenge",
    b"jschallenge",
    b"managedChallenge",
    b"connectionClose",
    b"forceConnectionClose",
];

/// The cause of one Cloudflare 5xx, its evidence written to `ev`.
pub fn judge(rec: &HopRecord<'_>, ev: &mut Evidence) -> Cause {
    let Signals::Cloudflare {
        origin_status,
        origin_header_ms,
        origin_duration_ms,
        origin_tls_ms,
        origin_dns_ms,
        worker_status,
        worker_subrequest,
        security_action,
        security_rule,
        ..
    } = rec.signals
    else {
        ev.text("not a Cloudflare record");
        return Cause::Unknown;
    };
    let status = rec.status.unwrap_or(0);
    ev.add(format_args!("EdgeResponseStatus={status}"));
    match origin_status {
        Some(o) => ev.add(format_args!("OriginResponseStatus={o}")),
        None => ev.text("the Logpush job does not log OriginResponseStatus"),
    }
    if worker_subrequest == Some(true) {
        ev.text("WorkerSubrequest=true: a Worker made this request to the origin");
    }
    let no_origin = matches!(origin_status, Some(0) | None);
    let blocked = security_action.filter(|a| TERMINATING.contains(a));
    let worker_failed = worker_status.filter(|w| !matches!(*w, b"ok" | b"unknown"));
    let cause = if let Some(o) = origin_status.filter(|o| *o == status && *o != 0) {
        ev.add(format_args!(
            "the origin answered {o} itself and Cloudflare passed it on{}",
            if (520..=530).contains(&o) {
                " (an origin behind another Cloudflare zone answers 52x itself)"
            } else {
                ""
            }
        ));
        Cause::Passthrough
    } else if let (Some(a), true) = (blocked, no_origin) {
        ev.add(format_args!(
            "SecurityAction={}{}: a Cloudflare security rule ended the request at the edge, not the origin",
            Lossy(a),
            security_rule.map(|r| format!(" (SecurityRuleID={})", Lossy(r))).unwrap_or_default()
        ));
        // the zone's own rule answered: the config made this status
        Cause::ConfigReturn
    } else if let (Some(w), true) = (worker_failed, no_origin && !(520..=530).contains(&status)) {
        ev.add(format_args!(
            "WorkerStatus={}: the zone's Worker did not end ok and no origin response came back: the Worker (edge code) made this status, not the origin",
            Lossy(w)
        ));
        Cause::Unknown
    } else {
        let (cause, why) = by_status(status, origin_status);
        ev.text(why);
        cause
    };
    if let Some(ms) = origin_dns_ms {
        ev.add(format_args!("OriginDNSResponseTimeMs={ms}"));
    }
    if let Some(ms) = origin_tls_ms {
        ev.add(format_args!("OriginTLSHandshakeDurationMs={ms}"));
    }
    if let Some(ms) = origin_header_ms {
        ev.add(format_args!("OriginResponseHeaderReceiveDurationMs={ms}"));
    }
    if let Some(ms) = origin_duration_ms {
        ev.add(format_args!("OriginResponseDurationMs={ms}"));
    }
    context(rec, ev);
    cause
}

/// The 52x table, else what the origin status says.
fn by_status(status: u16, origin_status: Option<u16>) -> (Cause, &'static str) {
    match status {
        520 => (
            Cause::UpstreamClosedEarly,
            "520: the origin returned an empty, unknown or unexpected response (a crash or reset most often; also headers over Cloudflare's limit or no status line)",
        ),
        521 => (Cause::UpstreamRefused, "521: the origin refused the connection"),
        522 => (
            Cause::Timeout,
            "522: connecting to the origin timed out (no SYN+ACK within 19 s, or the request not acknowledged within 90 s)",
        ),
        523 => (Cause::UpstreamRefused, "523: the origin is unreachable (routing, or its DNS record)"),
        524 => (
            Cause::Timeout,
            "524: connected, but the origin sent no HTTP response before Cloudflare's proxy read timeout (100 s by default)",
        ),
        525 => (Cause::Tls, "525: the TLS handshake between Cloudflare and the origin failed"),
        526 => (Cause::Tls, "526: Cloudflare could not validate the origin's TLS certificate"),
        527 => (
            Cause::Unknown,
            "527: an error between Cloudflare's Railgun listener and the origin (Railgun is retired); the log does not say which",
        ),
        530 => (
            Cause::Unknown,
            "530 comes with a 1xxx error (1016 = origin DNS error, 1033 = Cloudflare Tunnel not connected) that Logpush does not log",
        ),
        _ => match origin_status {
            Some(0) => (
                Cause::Unknown,
                "no origin response (OriginResponseStatus=0): Cloudflare (or a Worker) made this status, and its log does not say why",
            ),
            Some(_) => (Cause::Unknown, "the origin answered with another status than the client got"),
            None => (Cause::Unknown, "without OriginResponseStatus the origin's part is unknown: add it to the job's fields"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::hop_cause::verdict_of;
    use crate::logs::cloudflare::{Cloudflare, EXAMPLES};

    #[test]
    fn examples_get_their_cause() {
        super::super::check_examples(&Cloudflare, EXAMPLES, judge);
    }

    #[test]
    fn table() {
        let rec = |s: u16, o: Option<u16>| HopRecord {
            status: Some(s),
            signals: Signals::Cloudflare {
                cache: None,
                origin_status: o,
                origin_header_ms: None,
                origin_duration_ms: None,
                origin_tls_ms: None,
                origin_dns_ms: None,
                worker_status: None,
                worker_subrequest: None,
                security_action: None,
                security_rule: None,
            },
            ..Default::default()
        };
        for (s, o, want) in [
            (502, Some(0), Cause::Unknown),
            (502, None, Cause::Unknown),
            (504, Some(504), Cause::Passthrough),
            (520, Some(0), Cause::UpstreamClosedEarly),
            (523, Some(0), Cause::UpstreamRefused),
            (524, Some(0), Cause::Timeout),
            (526, Some(0), Cause::Tls),
            (530, Some(0), Cause::Unknown),
            (527, Some(0), Cause::Unknown),
            // an origin behind another Cloudflare zone answers 52x itself
            (522, Some(522), Cause::Passthrough),
            (521, None, Cause::UpstreamRefused),
        ] {
            assert_eq!(verdict_of(judge, &rec(s, o)).cause, want, "{s} {o:?}");
        }
        let with = |s: u16, o: u16, w: Option<&'static [u8]>, a: Option<&'static [u8]>| {
            let mut r = rec(s, Some(o));
            if let Signals::Cloudflare {
                worker_status,
                security_action,
                ..
            } = &mut r.signals
            {
                *worker_status = w;
                *security_action = a;
            }
            verdict_of(judge, &r)
        };
        // a security rule or a failing Worker made it at the edge
        let v = with(503, 0, None, Some(b"block"));
        assert_eq!(v.cause, Cause::ConfigReturn);
        assert!(
            v.evidence.iter().any(|e| e.contains("security rule ended")),
            "{:?}",
            v.evidence
        );
        let v = with(500, 0, Some(b"exception"), None);
        assert_eq!(v.cause, Cause::Unknown);
        assert!(
            v.evidence
                .iter()
                .any(|e| e.contains("WorkerStatus=exception")),
            "{:?}",
            v.evidence
        );
        // non-terminating actions and an ok Worker change nothing
        assert_eq!(
            with(522, 0, Some(b"ok"), Some(b"log")).cause,
            Cause::Timeout
        );
        assert_eq!(
            with(502, 502, Some(b"exception"), Some(b"block")).cause,
            Cause::Passthrough
        );
        // a Worker's fetch that got a 52x: the 52x table still applies
        assert_eq!(with(522, 0, Some(b"exception"), None).cause, Cause::Timeout);
        let v = verdict_of(judge, &rec(502, None));
        assert!(v
            .evidence
            .iter()
            .any(|e| e.contains("does not log OriginResponseStatus")));
    }
}
