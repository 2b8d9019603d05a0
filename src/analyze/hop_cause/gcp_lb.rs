//! Google Cloud load balancer signals → causes: `jsonPayload.statusDetails`
//! (every load balancer) and `jsonPayload.proxyStatus` (the Envoy-based
//! regional and internal Application Load Balancers).
//!
//! `statusDetails` values and meanings from Google's "External Application
//! Load Balancer logging and monitoring" (cloud.google.com/load-balancing/
//! docs/https/https-logging-monitoring, tables "statusDetails HTTP success
//! messages" and "statusDetails HTTP failure messages"), value by value in
//! `DETAILS`. The ones whose status "is set by the software running on the
//! backend" (`response_sent_by_backend`, a response forwarded after an early
//! backend answer or a byte-range mismatch, a backend or client connection
//! that broke after part of the response was sent) or that came from the
//! Cloud CDN cache (`response_from_cache…`, `byte_range_caching`) are
//! passthroughs; the load balancer made the status for the others. Notable:
//! `failed_to_connect_to_backend` "includes timeouts during the connection
//! phase", so the log cannot tell a refusal from a connect timeout
//! (`upstream_connect_failed`, not `upstream_refused`);
//! `backend_connection_closed_before_data_sent_to_client` is often a backend
//! keep-alive shorter than the load balancer's 600 s (Google recommends
//! 620 s); `backend_timeout` is a 502, not a 504. What the load balancer's
//! own config answered (Cloud Armor `denied_by_security_policy` with a
//! configured `deny(502)`, a `direct_response`, a fault-injection abort) is
//! `config_return`. What it refused or answered by itself for another
//! reason than its backend (IAP, a request loop, its own transient
//! `config_not_found`/`retriable_error`/`internal_error`, a client that went
//! away) stays `unknown`: no cause of gatecheck names it, and the evidence
//! says what the load balancer did.
//!
//! `proxyStatus` (Google's "Internal Application Load Balancer logging and
//! monitoring" and its troubleshooting guide: set when the load balancer,
//! not the backend, produced the error, e.g. `connection_refused` while a
//! configuration change propagates, `destination_unavailable` when health
//! checks fail) carries an RFC 9209 `Proxy-Status` error type; the types and
//! their meanings are RFC 9209 §2.3's (IANA "HTTP Proxy Error Types"),
//! mapped in `PROXY_ERRORS`. Read either bare (`connection_refused`) or as
//! the header's parameters (`…; error=connection_refused; details="…"`).
//! A value gatecheck does not know gives `unknown` with the value quoted.

use super::{context, Evidence, Lossy};
use crate::analyze::cause::Cause;
use crate::logs::hop::{HopRecord, Signals};

use Cause::*;

/// `(statusDetails, cause, meaning)`, every value of Google's two tables.
/// Matched whole (a value that only starts like one is not that value).
#[rustfmt::skip]
pub(crate) const DETAILS: &[(&str, Cause, &str)] = &[
    // success messages: the status came from the backend or the cache
    ("response_sent_by_backend", Passthrough, "the request was proxied to the backend and the backend produced this status"),
    ("response_from_cache", Passthrough, "served from the Cloud CDN cache: the status is a cached backend response"),
    ("response_from_cache_validated", Passthrough, "served from a Cloud CDN cache entry the backend validated: the status is the backend's"),
    ("byte_range_caching", Passthrough, "served by Cloud CDN byte-range caching: the status is the backend's"),
    // failure messages whose status the backend set
    ("aborted_request_due_to_backend_early_response", Passthrough, "the backend answered early with this status, which was forwarded; the request body was aborted"),
    ("backend_connection_closed_after_partial_response_sent", Passthrough, "the status is the backend's (Google: set by the software on the backend); the backend then closed the connection after part of the response was sent"),
    ("byte_range_caching_forwarded_backend_response", Passthrough, "Cloud CDN got an inconsistent byte-range response and forwarded the backend's response as it was"),
    ("client_disconnected_after_partial_response", Passthrough, "the status is the backend's; the client went away after part of the response was sent"),
    // the load balancer made the status: its backend failed
    ("backend_connection_closed_before_data_sent_to_client", UpstreamClosedEarly, "the backend closed its connection to the load balancer before the response was proxied; a backend keep-alive timeout under the load balancer's 600 s (Google recommends 620 s) is the usual cause"),
    ("backend_early_response_with_non_error_status", InvalidHeader, "the backend sent a non-error status (1xx/2xx) before it had received the whole request body"),
    ("backend_interim_response_not_supported", InvalidHeader, "the backend sent an interim 1xx where interim responses aren't supported"),
    ("backend_response_corrupted", InvalidHeader, "the backend's response body had invalid chunked transfer-encoding or was otherwise corrupted"),
    ("backend_response_headers_too_long", HeaderTooBig, "the backend's response headers exceeded the load balancer's limit"),
    ("backend_timeout", Timeout, "the backend service timeout expired before the backend's response (a 502, not a 504)"),
    ("error_uncompressing_gzipped_body", InvalidHeader, "the backend's gzipped response could not be uncompressed"),
    ("failed_to_connect_to_backend", UpstreamConnectFailed, "the load balancer failed to connect to the backend; Google counts connect timeouts here too, so the log does not tell a refusal from a timeout"),
    ("failed_to_pick_backend", NoLiveUpstream, "the load balancer failed to pick a healthy backend"),
    ("failed_to_negotiate_alpn", Tls, "the load balancer and the backend failed to negotiate an application protocol (such as HTTP/2) over TLS"),
    ("ssl_certificate_san_verification_failed", Tls, "no Subject Alternative Name of the backend's certificate matches the configured hostname"),
    ("ssl_certificate_chain_verification_failed", Tls, "the backend's certificate failed verification"),
    ("server_cert_chain_exceeded_limit", Tls, "the backend's certificate chain has more than 10 intermediates"),
    ("server_cert_chain_invalid_eku", Tls, "the backend's certificate has an Extended Key Usage without serverAuth"),
    ("server_cert_chain_max_name_constraints_exceeded", Tls, "an intermediate of the backend's certificate has more than 10 name constraints"),
    ("server_cert_exceeded_size_limit", Tls, "the backend's certificate chain is over 16 KB"),
    ("server_cert_invalid_rsa_key_size", Tls, "a backend or intermediate certificate has an invalid RSA key size"),
    ("server_cert_not_provided", Tls, "the backend did not provide the requested certificate in the handshake"),
    ("server_cert_pki_too_large", Tls, "the PKI to validate the backend's certificate has more than ten intermediates sharing Subject and key"),
    ("server_cert_trust_config_not_found", Tls, "no matching TrustConfig to validate the backend's certificate"),
    ("server_cert_unsupported_elliptic_curve_key", Tls, "a backend or intermediate certificate uses an unsupported elliptic curve"),
    ("server_cert_unsupported_key_algorithm", Tls, "a backend or intermediate certificate uses a non-RSA, non-ECDSA algorithm"),
    ("server_cert_validation_internal_error", Tls, "an internal error validating the backend's certificate chain"),
    ("server_cert_validation_not_performed", Tls, "backend mTLS is configured without a TrustConfig"),
    ("server_cert_validation_search_limit_exceeded", Tls, "the depth or iteration limit was reached validating the backend's certificate chain"),
    ("server_cert_validation_timed_out", Tls, "validating the backend's certificate chain timed out"),
    ("server_cert_validation_unavailable", Tls, "certificate chain validation of the backend was unavailable"),
    ("banned_by_security_policy", RateLimited, "a Cloud Armor rate-based ban rule banned the request"),
    ("throttled_by_security_policy", RateLimited, "a Cloud Armor throttle rule blocked the request"),
    // the load balancer made the status for another reason than its backend
    ("denied_by_security_policy", ConfigReturn, "a Cloud Armor security policy denied the request, with the status the policy configures: the load balancer's decision, not a backend failure"),
    ("handled_by_identity_aware_proxy", Unknown, "Identity-Aware Proxy generated this response while verifying the client: not the backend"),
    ("direct_response", ConfigReturn, "the load balancer overrode the request with a fixed response (its configuration, or e.g. a 410 for a billing-suspended backend)"),
    ("fault_filter_abort", ConfigReturn, "a configured fault-injection filter aborted the request on purpose"),
    ("request_loop_detected", Unknown, "the load balancer detected a request loop (a backend forwarding the request back to the load balancer): a configuration problem"),
    ("serverless_neg_routing_failed", Unknown, "the serverless NEG request could not be dispatched (its region unreachable, or the Cloud Run/App Engine/function name not found)"),
    ("invalid_external_origin_endpoint", Unknown, "the internet NEG's external backend (FQDN/IP and port) is configured wrong"),
    ("multiple_iap_policies", Unknown, "two Identity-Aware Proxy policies apply to the request and cannot be combined: a configuration problem"),
    ("service_extension_error", Unknown, "calling a service extension (e.g. a Wasm plugin) of the load balancer failed"),
    ("config_not_found", Unknown, "the load balancer was missing project configuration (transient after a change, or its two GFE layers failed to talk): the load balancer's, not the backend's"),
    ("retriable_error", Unknown, "a retriable infrastructure error of the load balancer (transient after a change, a rollout or overload)"),
    ("internal_error", Unknown, "an internal error of the load balancer (transient)"),
    ("byte_range_caching_aborted", Unknown, "Cloud CDN got an inconsistent byte-range response while filling its cache and aborted the response"),
    ("byte_range_caching_retrieval_abandoned", Unknown, "the client cancelled a byte-range or validation request Cloud CDN had started"),
    ("byte_range_caching_retrieval_from_backend_failed_after_partial_response", Unknown, "a byte-range or validation request of Cloud CDN failed after part of the response; its own log entry has the backend's status"),
    ("cache_lookup_failed_after_partial_response", Unknown, "an internal error serving from the Cloud CDN cache after part of the response"),
    ("cache_lookup_timeout_after_partial_response", Unknown, "the Cloud CDN cache lookup timed out because the client did not read in time"),
    ("websocket_closed", Unknown, "the websocket connection was closed"),
    ("websocket_handshake_failed", Unknown, "the websocket handshake failed"),
    ("early_data_rejected", Unknown, "the request sent in TLS early data was rejected"),
    // the client's side
    ("client_disconnected_before_any_response", Unknown, "the client's connection broke before any response: not a backend failure"),
    ("client_timed_out", Unknown, "the load balancer idled out the client connection for lack of progress"),
    ("body_not_allowed", Unknown, "the client sent a body with a method that allows none"),
    ("failed_parsing_client_headers", Unknown, "the client's request method is not RFC 9110-compliant"),
    ("headers_too_long", Unknown, "the client's request headers were over the limit"),
    ("http_version_not_supported", Unknown, "the client's HTTP version is not supported"),
    ("invalid_chunk_framing", Unknown, "chunked framing not RFC 9112-compliant"),
    ("invalid_request_headers", Unknown, "the client's request headers hold characters HTTP does not allow"),
    ("invalid_http2_client_header_format", Unknown, "the client's HTTP/2 headers are invalid"),
    ("invalid_http2_client_request_path", Unknown, "the client's HTTP/2 request path holds characters a URI does not allow"),
    ("malformed_chunked_body", Unknown, "the client's request body was improperly chunk-encoded"),
    ("required_body_but_no_content_length", Unknown, "the client's request needs a body but has no Content-Length or chunked encoding"),
    ("request_body_too_large", Unknown, "the client's request body exceeded what the backend supports"),
    ("secure_url_rejected", Unknown, "an https:// URL came over plaintext HTTP/1.1"),
    ("unsupported_method", Unknown, "the client used an unsupported method"),
    ("unsupported_100_continue", Unknown, "the client sent Expect: 100-continue on a protocol without it"),
    ("upgrade_header_rejected", Unknown, "the client's Upgrade header was refused"),
    ("client_cert_invalid_rsa_key_size", Unknown, "a client (mTLS) certificate has an invalid RSA key size"),
    ("client_cert_unsupported_elliptic_curve_key", Unknown, "a client (mTLS) certificate uses an unsupported curve"),
    ("client_cert_unsupported_key_algorithm", Unknown, "a client (mTLS) certificate uses a non-RSA, non-ECDSA algorithm"),
    ("client_cert_pki_too_large", Unknown, "the client (mTLS) PKI has too many intermediates sharing Subject and key"),
    ("client_cert_chain_max_name_constraints_exceeded", Unknown, "a client (mTLS) intermediate has more than ten name constraints"),
    ("client_cert_chain_invalid_eku", Unknown, "a client (mTLS) certificate lacks the clientAuth Extended Key Usage"),
    ("client_cert_validation_timed_out", Unknown, "validating the client (mTLS) certificate chain timed out"),
    ("client_cert_validation_search_limit_exceeded", Unknown, "the depth or iteration limit was reached validating the client (mTLS) chain"),
    ("client_cert_validation_not_performed", Unknown, "mTLS is configured without a TrustConfig"),
    ("client_cert_not_provided", Unknown, "the client did not provide the requested (mTLS) certificate"),
    ("client_cert_validation_failed", Unknown, "the client (mTLS) certificate failed validation"),
];

/// `(RFC 9209 error type, cause, meaning)`: RFC 9209 §2.3, the types a
/// proxy writes in `Proxy-Status` (and Google's load balancers in
/// `proxyStatus`).
#[rustfmt::skip]
pub(crate) const PROXY_ERRORS: &[(&str, Cause, &str)] = &[
    ("dns_timeout", Dns, "resolving the backend's name timed out"),
    ("dns_error", Dns, "resolving the backend's name failed"),
    ("destination_not_found", Unknown, "the load balancer could not determine a backend for the request (configuration)"),
    ("destination_unavailable", NoLiveUpstream, "the load balancer considers the backend unavailable (recent failures, or failing health checks: is there a firewall rule for the health checks?)"),
    ("destination_ip_prohibited", Unknown, "the load balancer is configured to prohibit connections to the backend's address"),
    ("destination_ip_unroutable", UpstreamRefused, "the load balancer found no route to the backend's address"),
    ("connection_refused", UpstreamRefused, "the backend refused the connection (Google: also while a configuration change propagates)"),
    ("connection_terminated", UpstreamClosedEarly, "the connection to the backend closed before any response was received"),
    ("connection_timeout", Timeout, "opening a connection to the backend timed out"),
    ("connection_read_timeout", Timeout, "the backend sent no data within the time limit"),
    ("connection_write_timeout", Timeout, "writing to the backend did not complete within the time limit"),
    ("connection_limit_reached", RateLimited, "the configured connection limit to the backend was exceeded"),
    ("tls_protocol_error", Tls, "a TLS error talking to the backend"),
    ("tls_certificate_error", Tls, "the backend's TLS certificate could not be verified"),
    ("tls_alert_received", Tls, "the backend sent a TLS alert"),
    ("http_request_error", Unknown, "the client's request was invalid"),
    ("http_request_denied", Unknown, "the load balancer denied the request (policy)"),
    ("http_response_incomplete", UpstreamClosedEarly, "the backend's response was incomplete"),
    ("http_response_header_section_size", HeaderTooBig, "the backend's response header section was too large"),
    ("http_response_header_size", HeaderTooBig, "a header of the backend's response was too large"),
    ("http_response_body_size", Unknown, "the backend's response body was larger than allowed"),
    ("http_response_trailer_section_size", Unknown, "the backend's response trailer section was too large"),
    ("http_response_trailer_size", Unknown, "a trailer of the backend's response was too large"),
    ("http_response_transfer_coding", InvalidHeader, "the backend's response transfer-coding could not be handled"),
    ("http_response_content_coding", InvalidHeader, "the backend's response content-coding could not be handled"),
    ("http_response_timeout", Timeout, "the backend's response did not come within the time limit"),
    ("http_upgrade_failed", Unknown, "the protocol upgrade (e.g. websocket) failed"),
    ("http_protocol_error", InvalidHeader, "the backend's response broke the HTTP protocol"),
    ("proxy_internal_response", Unknown, "the load balancer answered by itself (internal response)"),
    ("proxy_internal_error", Unknown, "an internal error of the load balancer"),
    ("proxy_configuration_error", Unknown, "the load balancer's configuration is wrong"),
    ("proxy_loop_detected", Unknown, "the load balancer detected a request loop"),
];

/// The error type of a `proxyStatus` value: the `error` parameter of an
/// RFC 9209 member (`name; error=connection_refused; details="…"`, the
/// token quoted or not), or the whole value when it is one bare token.
pub(crate) fn proxy_error(v: &[u8]) -> Option<&[u8]> {
    let tok = |c: &u8| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'-';
    if !v.is_empty() && v.iter().all(tok) {
        return Some(v);
    }
    let at = memchr::memmem::find(v, b"error=")?;
    // `error=` must start a parameter, not end a longer name
    if at > 0 && tok(&v[at - 1]) {
        return None;
    }
    let rest = &v[at + 6..];
    // quoted, and still JSON-escaped as the log line holds it (`\"`)
    let rest = rest.strip_prefix(b"\\").unwrap_or(rest);
    let rest = rest.strip_prefix(b"\"").unwrap_or(rest);
    let end = rest.iter().position(|c| !tok(c)).unwrap_or(rest.len());
    (end > 0).then_some(&rest[..end])
}

/// The cause of one Google Cloud load balancer 5xx, its evidence written
/// to `ev`.
pub fn judge(rec: &HopRecord<'_>, ev: &mut Evidence) -> Cause {
    let Signals::Gcp {
        status_details,
        proxy_status,
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
    let by_proxy = proxy_status.filter(|p| !p.is_empty()).and_then(|p| {
        let known =
            proxy_error(p).and_then(|e| PROXY_ERRORS.iter().find(|(n, _, _)| n.as_bytes() == e));
        match known {
            Some((_, c, meaning)) => {
                ev.add(format_args!(
                    "proxyStatus={}: the load balancer made the error; {meaning}",
                    Lossy(p)
                ));
                Some(*c)
            }
            None => {
                ev.add(format_args!(
                    "proxyStatus={}: an error type gatecheck does not know",
                    Lossy(p)
                ));
                None
            }
        }
    });
    let by_details = match status_details {
        Some(d) => match DETAILS.iter().find(|(n, _, _)| n.as_bytes() == d) {
            Some((n, c, meaning)) => {
                ev.add(format_args!("statusDetails={n}: {meaning}"));
                if *c == Cause::Passthrough && rec.status.is_none_or(|s| s < 100) {
                    // Google: status 0 here means the backend sent
                    // incomplete headers; no status, nothing passed on
                    ev.text("no status was logged: the backend's headers were incomplete");
                    Some(Cause::UpstreamClosedEarly)
                } else {
                    Some(*c)
                }
            }
            None => {
                ev.add(format_args!(
                    "statusDetails={}: a value gatecheck does not know (not in Google's tables)",
                    Lossy(d)
                ));
                Some(Cause::Unknown)
            }
        },
        None => None,
    };
    let cause = match (by_proxy, by_details) {
        // proxyStatus is set only when the load balancer made the error:
        // its error type names the failure
        (Some(c), _) => c,
        (None, Some(c)) => c,
        (None, None) => {
            if proxy_status.is_none() {
                ev.text("the entry has neither jsonPayload.statusDetails nor proxyStatus, which say why the load balancer answered as it did");
            }
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
    use crate::analyze::hop_cause::verdict_of;
    use crate::logs::gcp_lb::{GcpLb, EXAMPLES};

    #[test]
    fn examples_get_their_cause() {
        super::super::check_examples(&GcpLb, EXAMPLES, judge);
    }

    fn rec(status: u16, d: Option<&'static [u8]>, p: Option<&'static [u8]>) -> HopRecord<'static> {
        HopRecord {
            status: Some(status),
            signals: Signals::Gcp {
                status_details: d,
                proxy_status: p,
                backend_ms: None,
            },
            ..Default::default()
        }
    }

    #[test]
    fn table() {
        for (s, d, want) in [
            (
                502,
                Some(&b"backend_response_headers_too_long"[..]),
                Cause::HeaderTooBig,
            ),
            (502, Some(b"failed_to_pick_backend"), Cause::NoLiveUpstream),
            // Google: "includes timeouts during the connection phase"
            (
                502,
                Some(b"failed_to_connect_to_backend"),
                Cause::UpstreamConnectFailed,
            ),
            (
                502,
                Some(b"client_disconnected_before_any_response"),
                Cause::Unknown,
            ),
            // the backend set the status, then the connection broke
            (
                502,
                Some(b"backend_connection_closed_after_partial_response_sent"),
                Cause::Passthrough,
            ),
            (
                502,
                Some(b"ssl_certificate_san_verification_failed"),
                Cause::Tls,
            ),
            (503, Some(b"server_cert_not_provided"), Cause::Tls),
            (502, Some(b"denied_by_security_policy"), Cause::ConfigReturn),
            (
                502,
                Some(b"handled_by_identity_aware_proxy"),
                Cause::Unknown,
            ),
            (503, Some(b"response_from_cache"), Cause::Passthrough),
            // whole values only: a prefix of a known value is not that value
            (502, Some(b"backend_timeout_v2"), Cause::Unknown),
            (502, Some(b"byte_range_caching_aborted"), Cause::Unknown),
            (502, Some(b"something_new"), Cause::Unknown),
            (502, None, Cause::Unknown),
        ] {
            assert_eq!(verdict_of(judge, &rec(s, d, None)).cause, want, "{d:?}");
        }
        let v = verdict_of(judge, &rec(502, Some(b"something_new"), None));
        assert!(
            v.evidence
                .iter()
                .any(|e| e.contains("something_new") && e.contains("does not know")),
            "{:?}",
            v.evidence
        );
        // every value is listed once
        for (i, (n, _, _)) in DETAILS.iter().enumerate() {
            assert!(!DETAILS[i + 1..].iter().any(|(m, _, _)| m == n), "{n}");
        }
    }

    #[test]
    fn proxy_status() {
        for (p, d, want) in [
            (&b"connection_refused"[..], None, Cause::UpstreamRefused),
            (b"destination_unavailable", None, Cause::NoLiveUpstream),
            (
                b"error=http_response_timeout; details=\"stream_timeout\"",
                None,
                Cause::Timeout,
            ),
            (b"gfe; error=\"tls_certificate_error\"", None, Cause::Tls),
            (
                b"dns_error",
                Some(&b"response_sent_by_backend"[..]),
                Cause::Dns,
            ),
            // an unknown type leaves the verdict to statusDetails
            (b"brand_new_error", Some(b"backend_timeout"), Cause::Timeout),
            (b"brand_new_error", None, Cause::Unknown),
            (b"", Some(b"response_sent_by_backend"), Cause::Passthrough),
        ] {
            let v = verdict_of(judge, &rec(502, d, Some(p)));
            assert_eq!(
                v.cause,
                want,
                "{:?}: {:?}",
                String::from_utf8_lossy(p),
                v.evidence
            );
        }
        assert_eq!(proxy_error(b"x; myerror=dns_error"), None);
        assert_eq!(
            proxy_error(br#"error=\"dns_error\"; details=\"x\""#),
            Some(&b"dns_error"[..])
        );
        assert_eq!(proxy_error(b"error=\"\""), None);
        for (i, (n, _, _)) in PROXY_ERRORS.iter().enumerate() {
            assert!(!PROXY_ERRORS[i + 1..].iter().any(|(m, _, _)| m == n), "{n}");
        }
    }
}
