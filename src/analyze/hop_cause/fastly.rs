//! Fastly's signals → causes: `backend_status` (when logged),
//! `response_state` (`fastly_info.state`) and the reason phrase
//! (`resp.response`).
//!
//! Fastly's own upstream failures are **503**s whose `obj.response` names
//! the failure (fastly.com/documentation "Fastly-generated 503 errors in
//! VCL": "the value of obj.status is always 503 and obj.response is set to
//! a descriptive name for the error", case-sensitive; docs.fastly.com
//! "Common 503 errors"): `backend read error` ("typically … a timeout …
//! when Fastly cache servers attempt to fetch content from your origins",
//! also transient network failures or an overloaded origin), `first byte
//! timeout`, `between bytes timeout`, `Connection timed out`, `Connection
//! refused`, `No healthy backends` / `All backends failed or unhealthy` /
//! `Backend is unhealthy` / `Quorum weight not reached`, TLS failures (`SSL
//! handshake error`, OpenSSL's certificate messages such as `certificate
//! verify failed`, `unable to get local issuer certificate`, `hostname
//! mismatch`), `Backend.max_conn reached`, `Maximum threads for service
//! reached` (`REASONS`). A 502 is almost always the origin's own (a
//! passthrough) unless VCL made it; the verdict says so only when the record
//! shows it (`backend_status`, or a state that served from the cache or the
//! backend). `fastly_info.state` values: `HIT`, `MISS`, `PASS` and their
//! compounds (`HIT-STALE`, `HIT-CLUSTER`, `MISS-CLUSTER`, `PASS-WAIT`,
//! `HITPASS`, …) came through from the backend or the cache; `ERROR` is
//! Fastly's error; a `…SYNTH` state is a synthetic response the service's
//! own VCL made (`error` statement): not the backend, `unknown`. Any other
//! state or reason gives `unknown`, quoted.

use super::{context, Evidence};
use crate::analyze::cause::Cause;
use crate::logs::hop::{HopRecord, Signals};

/// `(lower-cased prefix of a Fastly-generated reason phrase, cause)`.
const REASONS: &[(&str, Cause)] = &[
    // "typically appears if a timeout error occurs when Fastly cache
    // servers attempt to fetch content from your origins" (Common 503s)
    ("backend read error", Cause::Timeout),
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
    ("generic ssl handshake error", Cause::Tls),
    ("certificate", Cause::Tls),
    ("unable to get local issuer certificate", Cause::Tls),
    ("self signed certificate", Cause::Tls),
    ("self-signed certificate", Cause::Tls),
    ("hostname mismatch", Cause::Tls),
    ("illegal vary header from backend", Cause::InvalidHeader),
    ("maximum threads for service reached", Cause::RateLimited),
    ("backend.max_conn reached", Cause::RateLimited),
    ("dns lookup failed", Cause::Dns),
    ("domain lookup failed", Cause::Dns),
];

/// What `fastly_info.state` says of where the response came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// `ERROR…`: Fastly's own error.
    Error,
    /// `…SYNTH…`: the service's VCL made a synthetic response.
    Synth,
    /// `HIT`/`MISS`/`PASS` and their compounds: from the backend or cache.
    Fetched,
    /// Not a state gatecheck knows.
    Other,
}

fn state_of(s: &[u8]) -> State {
    let has = |w: &[u8]| memchr::memmem::find(s, w).is_some();
    if s.starts_with(b"ERROR") {
        State::Error
    } else if has(b"SYNTH") {
        State::Synth
    } else if s.starts_with(b"HIT") || s.starts_with(b"MISS") || s.starts_with(b"PASS") {
        State::Fetched
    } else {
        State::Other
    }
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
    let state = edge_result.map(state_of);
    let cause = match (origin_status, by_reason) {
        (Some(b), _) if b == status => {
            ev.text("the backend answered with this status; Fastly passed it on");
            Cause::Passthrough
        }
        (_, Some(c)) => {
            ev.text(if reason.starts_with("backend read error") {
                "the reason phrase of a Fastly-generated error (obj.response): Fastly says it typically means a timeout fetching from the origin, also a transient network failure (router failover, packet loss) or an overloaded origin"
            } else {
                "the reason phrase of a Fastly-generated error (obj.response)"
            });
            c
        }
        (None, None) => match state {
            Some(State::Fetched) => {
                ev.text("response_state is not ERROR: the response came through from the backend (or its cache)");
                Cause::Passthrough
            }
            Some(State::Synth) => {
                ev.text("a synthetic response made by the service's own VCL (error statement), not by the backend");
                Cause::Unknown
            }
            Some(State::Other) => {
                ev.text("a response_state gatecheck does not know");
                Cause::Unknown
            }
            Some(State::Error) | None => {
                ev.text(
                    "Fastly does not log the backend's status unless the format copies beresp.status \
                     (backend_status); the reason phrase names no Fastly error gatecheck knows",
                );
                Cause::Unknown
            }
        },
        (Some(_), None) => {
            ev.text("the backend answered another status than the client got, and the reason phrase names no Fastly error");
            Cause::Unknown
        }
    };
    context(rec, ev);
    cause
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::hop_cause::verdict_of;
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
                Cause::Timeout,
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
            // Fastly: "typically … a timeout" fetching from the origin
            (
                rec(503, Some(b"ERROR"), Some(b"backend read error")),
                Cause::Timeout,
            ),
            (
                rec(503, Some(b"ERROR"), Some(b"Backend is unhealthy")),
                Cause::NoLiveUpstream,
            ),
            (
                rec(
                    503,
                    Some(b"ERROR"),
                    Some(b"All backends failed or unhealthy (chash)"),
                ),
                Cause::NoLiveUpstream,
            ),
            (
                rec(
                    503,
                    Some(b"ERROR"),
                    Some(b"unable to get local issuer certificate"),
                ),
                Cause::Tls,
            ),
            (
                rec(503, Some(b"ERROR"), Some(b"certificate has expired")),
                Cause::Tls,
            ),
            (
                rec(
                    503,
                    Some(b"ERROR"),
                    Some(b"Maximum threads for service reached"),
                ),
                Cause::RateLimited,
            ),
            (
                rec(503, Some(b"ERROR"), Some(b"Connection timed out")),
                Cause::Timeout,
            ),
            (
                rec(502, Some(b"HIT-STALE"), Some(b"Bad Gateway")),
                Cause::Passthrough,
            ),
            (rec(502, Some(b"MISS-CLUSTER"), None), Cause::Passthrough),
            // the service's VCL made it, or a state not known
            (
                rec(502, Some(b"HIT-SYNTH"), Some(b"Bad Gateway")),
                Cause::Unknown,
            ),
            (
                rec(502, Some(b"NEWSTATE"), Some(b"Bad Gateway")),
                Cause::Unknown,
            ),
        ] {
            let v = verdict_of(judge, &r);
            assert_eq!(v.cause, want, "{:?}", v.evidence);
        }
    }
}
