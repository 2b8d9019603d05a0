//! Cloudflare's signals → causes: `EdgeResponseStatus` (its own 52x codes)
//! and `OriginResponseStatus`.
//!
//! Cloudflare's "Cloudflare 5xx errors" troubleshooting pages: **520** the
//! origin returned an empty, unknown or unexpected response (crash, reset,
//! headers over 16 KB, no status line); **521** the origin refused the
//! connection; **522** no SYN+ACK within 19 s, or no ACK of the request
//! within 90 s; **523** the origin is unreachable (routing, DNS record);
//! **524** connected but no HTTP response within the proxy read timeout
//! (100 s by default); **525** the TLS handshake with the origin failed;
//! **526** the origin's certificate is invalid; **530** is sent with a 1xxx
//! error (1016: origin DNS error) that Logpush does not carry. A 502/504
//! with `OriginResponseStatus` equal to it is the origin's own;
//! `OriginResponseStatus=0` means no origin response (Cloudflare made it).

use super::{context, Evidence};
use crate::analyze::cause::{Cause, Verdict};
use crate::logs::hop::{HopRecord, Signals};

/// Classify one Cloudflare record.
pub fn classify(rec: &HopRecord<'_>) -> Verdict {
    super::verdict_of(judge, rec)
}

/// The cause of one Cloudflare 5xx, its evidence written to `ev`.
pub fn judge(rec: &HopRecord<'_>, ev: &mut Evidence) -> Cause {
    let Signals::Cdn {
        origin_status,
        origin_header_ms,
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
    let (cause, why) = match status {
        520 => (
            Cause::UpstreamClosedEarly,
            "520: the origin returned an empty, unknown or unexpected response (a crash or reset most often; also headers over 16 KB or no status line)",
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
        530 => (
            Cause::Unknown,
            "530 comes with a 1xxx error (1016 = origin DNS error) that Logpush does not log",
        ),
        _ => match origin_status {
            Some(o) if o == status && o != 0 => (
                Cause::Passthrough,
                "the origin answered with this status and Cloudflare passed it on",
            ),
            Some(0) => (
                Cause::Unknown,
                "no origin response (OriginResponseStatus=0): Cloudflare (or a Worker) made this status, and its log does not say why",
            ),
            Some(_) => (Cause::Unknown, "the origin answered with another status than the client got"),
            None => (Cause::Unknown, "without OriginResponseStatus the origin's part is unknown: add it to the job's fields"),
        },
    };
    ev.text(why);
    if let Some(ms) = origin_header_ms {
        ev.add(format_args!("OriginResponseHeaderReceiveDurationMs={ms}"));
    }
    context(rec, ev);
    cause
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::cloudflare::{Cloudflare, EXAMPLES};

    #[test]
    fn examples_get_their_cause() {
        super::super::check_examples(&Cloudflare, EXAMPLES, judge);
    }

    #[test]
    fn table() {
        let rec = |s: u16, o: Option<u16>| HopRecord {
            status: Some(s),
            signals: Signals::Cdn {
                edge_result: None,
                detailed_result: None,
                origin_status: o,
                origin_header_ms: None,
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
        ] {
            assert_eq!(classify(&rec(s, o)).cause, want, "{s} {o:?}");
        }
        let v = classify(&rec(502, None));
        assert!(v
            .evidence
            .iter()
            .any(|e| e.contains("does not log OriginResponseStatus")));
    }
}
