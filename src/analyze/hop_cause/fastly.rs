//! Fastly's signals → causes: `backend_status` (when logged),
//! `response_state` and the reason phrase (`resp.response`).
//!
//! Fastly's own upstream failures are **503**s whose reason names the
//! failure (Fastly's "Fastly-generated 503 errors" and VCL reference:
//! `backend read error`, `first byte timeout`, `between bytes timeout`,
//! `Connection refused`, `Connection timed out`, `No healthy backends` /
//! `All backends failed or unhealthy`, `SSL handshake error`, `Maximum
//! threads for service reached`). A 502 is almost always the origin's own
//! (a passthrough) unless VCL made it; the verdict says so only when the
//! record shows it (`backend_status`, or a state other than `ERROR`).

use super::{context, Evidence};
use crate::analyze::cause::{Cause, Verdict};
use crate::logs::hop::{HopRecord, Signals};

/// Reason phrases of Fastly-generated errors, lower-cased prefixes.
const REASONS: &[(&str, Cause)] = &[
    ("backend read error", Cause::UpstreamClosedEarly),
    ("first byte timeout", Cause::Timeout),
    ("between bytes timeout", Cause::Timeout),
    ("connection timed out", Cause::Timeout),
    ("origin timeout", Cause::Timeout),
    ("connection refused", Cause::UpstreamRefused),
    ("no healthy backends", Cause::NoLiveUpstream),
    ("all backends failed or unhealthy", Cause::NoLiveUpstream),
    ("backend is unhealthy", Cause::NoLiveUpstream),
    ("quorum weight not reached", Cause::NoLiveUpstream),
    ("ssl handshake error", Cause::Tls),
    ("certificate", Cause::Tls),
    ("maximum threads for service reached", Cause::RateLimited),
    ("backend.max_conn reached", Cause::RateLimited),
    ("dns lookup failed", Cause::Dns),
    ("domain lookup failed", Cause::Dns),
];

/// Classify one Fastly record.
pub fn classify(rec: &HopRecord<'_>) -> Verdict {
    super::verdict_of(judge, rec)
}

/// The cause of one Fastly 5xx, its evidence written to `ev`.
pub fn judge(rec: &HopRecord<'_>, ev: &mut Evidence) -> Cause {
    let Signals::Cdn {
        edge_result,
        detailed_result,
        origin_status,
        ..
    } = rec.signals
    else {
        ev.text("not a Fastly record");
        return Cause::Unknown;
    };
    let status = rec.status.unwrap_or(0);
    ev.add(format_args!("response_status={status}"));
    if let Some(s) = edge_result {
        ev.field("response_state", s);
    }
    if let Some(r) = detailed_result {
        ev.field("response_reason", r);
    }
    if let Some(b) = origin_status {
        ev.add(format_args!("backend_status={b}"));
    }
    let reason = detailed_result
        .map(|r| String::from_utf8_lossy(r).to_ascii_lowercase())
        .unwrap_or_default();
    let by_reason = REASONS
        .iter()
        .find(|(p, _)| reason.starts_with(p))
        .map(|x| x.1);
    let errored = edge_result.is_some_and(|s| s.starts_with(b"ERROR"));
    let cause = match (origin_status, by_reason) {
        (Some(b), _) if b == status => {
            ev.text("the backend answered with this status; Fastly passed it on");
            Cause::Passthrough
        }
        (_, Some(c)) => {
            ev.text("a reason phrase of a Fastly-generated error");
            c
        }
        (None, None) if !errored && edge_result.is_some() => {
            ev.text("response_state is not ERROR: the response came through from the backend");
            Cause::Passthrough
        }
        _ => {
            ev.text(
                "Fastly does not log the backend's status unless the format copies beresp.status \
                 (backend_status); the reason phrase names no Fastly error",
            );
            Cause::Unknown
        }
    };
    context(rec, ev);
    cause
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::fastly::{Fastly, EXAMPLES};

    #[test]
    fn examples_get_their_cause() {
        super::super::check_examples(&Fastly, EXAMPLES, judge);
    }

    #[test]
    fn table() {
        let rec = |s: u16, state: Option<&'static [u8]>, reason: Option<&'static [u8]>| HopRecord {
            status: Some(s),
            signals: Signals::Cdn {
                edge_result: state,
                detailed_result: reason,
                origin_status: None,
                origin_header_ms: None,
            },
            ..Default::default()
        };
        for (r, want) in [
            (
                rec(503, Some(b"ERROR"), Some(b"backend read error")),
                Cause::UpstreamClosedEarly,
            ),
            (
                rec(503, Some(b"ERROR"), Some(b"No healthy backends")),
                Cause::NoLiveUpstream,
            ),
            (
                rec(503, Some(b"ERROR"), Some(b"SSL handshake error")),
                Cause::Tls,
            ),
            (
                rec(502, Some(b"MISS"), Some(b"Bad Gateway")),
                Cause::Passthrough,
            ),
            (
                rec(502, Some(b"ERROR"), Some(b"Bad Gateway")),
                Cause::Unknown,
            ),
            (rec(502, None, None), Cause::Unknown),
        ] {
            let v = classify(&r);
            assert_eq!(v.cause, want, "{:?}", v.evidence);
        }
    }
}
