//! Google Cloud load balancer signals → causes: `jsonPayload.statusDetails`.
//!
//! Meanings from Google's "External Application Load Balancer logging and
//! monitoring" (`statusDetails` for HTTP failure messages): the backend
//! produced the status (`response_sent_by_backend`); the load balancer could
//! not connect (`failed_to_connect_to_backend`, connect timeouts included)
//! or pick a healthy backend (`failed_to_pick_backend`); the backend closed
//! the connection before or during the response
//! (`backend_connection_closed_before_data_sent_to_client`: often a backend
//! keep-alive shorter than the load balancer's 600 s, Google recommends
//! 620 s); the backend service timeout expired (`backend_timeout`, a 502,
//! not a 504); the response was invalid (`backend_response_corrupted`,
//! `backend_early_response_with_non_error_status`,
//! `backend_interim_response_not_supported`,
//! `error_uncompressing_gzipped_body`) or its headers too long
//! (`backend_response_headers_too_long`); ALPN with the backend failed
//! (`failed_to_negotiate_alpn`).

use super::{context, Evidence, Lossy};
use crate::analyze::cause::{Cause, Verdict};
use crate::logs::hop::{HopRecord, Signals};

/// `(statusDetails prefix, cause, meaning)`.
const DETAILS: &[(&str, Cause, &str)] = &[
    ("response_sent_by_backend", Cause::Passthrough, "the backend produced this status"),
    ("failed_to_connect_to_backend", Cause::UpstreamRefused, "the load balancer failed to connect to the backend (refused, unreachable or connect timeout)"),
    ("failed_to_pick_backend", Cause::NoLiveUpstream, "no healthy backend could be picked"),
    ("backend_connection_closed_before_data_sent_to_client", Cause::UpstreamClosedEarly, "the backend closed the connection before the response was sent; a backend keep-alive timeout under the load balancer's 600 s (Google recommends 620 s) is the usual cause"),
    ("backend_connection_closed_after_partial_response_sent", Cause::UpstreamClosedEarly, "the backend closed the connection in the middle of the response"),
    ("backend_timeout", Cause::Timeout, "the backend service timeout expired before the response"),
    ("backend_response_headers_too_long", Cause::HeaderTooBig, "the backend's response headers exceed the load balancer's limit"),
    ("backend_response_corrupted", Cause::InvalidHeader, "the backend's response was corrupted (chunking, body)"),
    ("backend_early_response_with_non_error_status", Cause::InvalidHeader, "the backend answered with a non-error status before the request body was sent"),
    ("backend_interim_response_not_supported", Cause::InvalidHeader, "the backend sent a 1xx the load balancer does not support"),
    ("error_uncompressing_gzipped_body", Cause::InvalidHeader, "the backend's gzip body could not be uncompressed"),
    ("failed_to_negotiate_alpn", Cause::Tls, "ALPN negotiation with the backend failed"),
    ("throttled_by_security_policy", Cause::RateLimited, "a Cloud Armor rate-limiting rule throttled the request"),
    ("client_disconnected", Cause::Unknown, "the client disconnected: not a backend failure"),
    ("denied_by_security_policy", Cause::Unknown, "a Cloud Armor rule denied the request"),
    ("config_not_found", Cause::Unknown, "the load balancer's configuration was missing (transient, load-balancer side)"),
    ("internal_error", Cause::Unknown, "an internal error at the load balancer"),
];

/// Classify one Google Cloud load balancer record.
pub fn classify(rec: &HopRecord<'_>) -> Verdict {
    super::verdict_of(judge, rec)
}

/// The cause of one Google Cloud load balancer 5xx, its evidence written
/// to `ev`.
pub fn judge(rec: &HopRecord<'_>, ev: &mut Evidence) -> Cause {
    let Signals::Gcp {
        status_details,
        backend_ms,
    } = rec.signals
    else {
        ev.text("not a Google Cloud load balancer record");
        return Cause::Unknown;
    };
    match rec.status {
        Some(s) => ev.add(format_args!("httpRequest.status={s}")),
        None => ev.text("httpRequest.status absent: no response was sent"),
    }
    let cause = match status_details {
        Some(d) => {
            let known = DETAILS.iter().find(|(p, _, _)| d.starts_with(p.as_bytes()));
            match known {
                Some((_, c, meaning)) => {
                    ev.add(format_args!("statusDetails={}: {meaning}", Lossy(d)));
                    *c
                }
                None => {
                    ev.add(format_args!(
                        "statusDetails={}: a value gatecheck does not know",
                        Lossy(d)
                    ));
                    Cause::Unknown
                }
            }
        }
        None => {
            ev.text("the entry has no jsonPayload.statusDetails, which says why the load balancer answered as it did");
            Cause::Unknown
        }
    };
    if let Some(ms) = backend_ms {
        ev.add(format_args!("backendLatency={ms}ms"));
    }
    if let Some(ms) = rec.total_ms {
        ev.add(format_args!("latency={ms}ms"));
    }
    context(rec, ev);
    cause
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::gcp_lb::{GcpLb, EXAMPLES};

    #[test]
    fn examples_get_their_cause() {
        super::super::check_examples(&GcpLb, EXAMPLES, judge);
    }

    #[test]
    fn table() {
        let rec = |d: Option<&'static [u8]>| HopRecord {
            status: Some(502),
            signals: Signals::Gcp {
                status_details: d,
                backend_ms: None,
            },
            ..Default::default()
        };
        for (d, want) in [
            (
                Some(&b"backend_response_headers_too_long"[..]),
                Cause::HeaderTooBig,
            ),
            (Some(b"failed_to_pick_backend"), Cause::NoLiveUpstream),
            (
                Some(b"client_disconnected_before_any_response"),
                Cause::Unknown,
            ),
            (Some(b"something_new"), Cause::Unknown),
            (None, Cause::Unknown),
        ] {
            assert_eq!(classify(&rec(d)).cause, want, "{d:?}");
        }
    }
}
