//! Envoy's signals → causes: `%RESPONSE_FLAGS%` first, then
//! `%RESPONSE_CODE_DETAILS%` / `%UPSTREAM_TRANSPORT_FAILURE_REASON%`, then
//! `x-envoy-upstream-service-time`.
//!
//! How Envoy really behaves (router source, `source/common/router/router.cc`,
//! `Filter::onUpstreamReset` and `streamResetReasonToResponseFlag`):
//! - an upstream reset before the response gives **503**, except a protocol
//!   error, which gives **502** (`UPE`); the details are
//!   `upstream_reset_before_response_started{<reason>[,<transport failure>]}`
//!   with spaces written as `_`;
//! - local/remote connection failure and connection timeout all set `UF`
//!   (the details tell a `connection_timeout` apart); connection
//!   termination sets `UC`; remote reset `UR`; overflow `UO`;
//! - **which connect failure a `UF` was** depends on the Envoy version
//!   (`source/common/router/upstream_request.cc`, `onPoolFailure`, across
//!   releases): before 1.15 and again from 1.15.4 / 1.16.3 / 1.17.2
//!   (runtime guard `treat_upstream_connect_timeout_as_connect_failure`,
//!   then for good), a connect timeout and a refused connection are both
//!   the reset reason `connection failure`, so the details read
//!   `upstream_reset_before_response_started{connection_failure}` either
//!   way (envoyproxy/envoy#20311: a 0.1 s `connect_timeout` logged just
//!   that); 1.15.0–1.17.1 logged a connect timeout as `LR`
//!   `{local_reset}` instead (envoyproxy/envoy#14394). Current Envoy
//!   (`source/common/http/utility.cc`, `resetReasonToString`) writes
//!   `local_connection_failure`, `remote_connection_failure` or
//!   `connection_timeout`, and the socket's error as the transport failure
//!   reason (`delayed connect error: 111`, or its text `Connection
//!   refused` in later releases). So a `UF` whose log says no more than
//!   `connection_failure` (or a format without
//!   `%RESPONSE_CODE_DETAILS%`) is `upstream_connect_failed`: refused or
//!   timed out, never guessed to be either;
//! - a response that came from the upstream is `via_upstream`, and only then
//!   does Envoy set `x-envoy-upstream-service-time` (`onUpstreamHeaders`).
//!   So a 502 with no flag is the upstream's own (passthrough) when either
//!   says so; without either, a filter (ext_authz, Lua, direct response) may
//!   have made it, and the verdict stays `unknown`.

use super::{context, Evidence, Lossy};
use crate::analyze::cause::Cause;
use crate::logs::envoy::flag_info;
use crate::logs::hop::{HopRecord, Signals};

/// The cause of one Envoy 5xx, its evidence written to `ev`.
pub fn judge(rec: &HopRecord<'_>, ev: &mut Evidence) -> Cause {
    let Signals::Envoy {
        flags,
        details,
        transport_failure,
        cluster,
        upstream_service_ms,
    } = rec.signals
    else {
        ev.text("not an Envoy record");
        return Cause::Unknown;
    };
    let reason = failure_text(details, transport_failure);
    let cause = match flags {
        Some(f) => {
            let (cause, flag) = by_flags(f, &reason);
            match flag {
                Some((name, meaning)) => ev.add(format_args!(
                    "response_flags={}: {name} = {meaning}",
                    Lossy(f)
                )),
                None => ev.add(format_args!(
                    "response_flags={}: no flag gatecheck knows",
                    Lossy(f)
                )),
            }
            // URX or DI alone on a response that came from the upstream
            match cause {
                Cause::Unknown if from_upstream(details, upstream_service_ms) => Cause::Passthrough,
                c => c,
            }
        }
        None => by_details(details, &reason, upstream_service_ms),
    };
    if let Some(d) = details {
        ev.field("response_code_details", d);
    }
    if let Some(t) = transport_failure {
        ev.field("upstream_transport_failure_reason", t);
    }
    if let Some(ms) = upstream_service_ms {
        ev.add(format_args!(
            "x-envoy-upstream-service-time={ms}: the upstream's response headers reached Envoy"
        ));
    }
    if let Some(c) = cluster {
        ev.field("upstream_cluster", c);
    }
    if cause == Cause::UpstreamConnectFailed {
        ev.text(
            "the log does not say whether the upstream refused the connection or did not accept it \
             within the cluster's connect_timeout: Envoy logs both as UF `connection_failure` \
             until the releases that write `remote_connection_failure` with the socket error, or \
             `connection_timeout`; log %RESPONSE_CODE_DETAILS% and \
             %UPSTREAM_TRANSPORT_FAILURE_REASON% to tell them apart",
        );
        if let Some(ms) = rec.total_ms {
            ev.add(format_args!(
                "duration={ms} ms (retries included): compare with the cluster's connect_timeout \
                 (default 5 s)"
            ));
        }
    }
    if flags.is_some_and(|f| f.split(|&c| c == b',').any(|x| x == b"LR"))
        && reason.contains("local_reset")
    {
        ev.text(
            "Envoy 1.15.0-1.17.1 logged an upstream connect timeout as LR {local_reset} \
             (envoyproxy/envoy#14394): compare the duration with the cluster's connect_timeout",
        );
    }
    if cause == Cause::UpstreamClosedEarly {
        ev.text(
            "a pooled connection the upstream had already closed when Envoy reused it (a keep-alive race: \
             the upstream's idle timeout shorter than the cluster's) looks the same; Envoy does not log \
             whether the connection was reused",
        );
    }
    if cause == Cause::Unknown
        && flags.is_none()
        && details.is_none()
        && upstream_service_ms.is_none()
    {
        ev.text(
            "response_flags=- (Envoy flagged no failure of its own), but the format logs neither \
             %RESPONSE_CODE_DETAILS% nor x-envoy-upstream-service-time to show the upstream answered: \
             a filter may have made this status; log %RESPONSE_CODE_DETAILS%",
        );
    }
    context(rec, ev);
    cause
}

/// Details and transport failure reason, lower-cased, for substring tests.
fn failure_text(details: Option<&[u8]>, transport: Option<&[u8]>) -> String {
    let mut s = String::new();
    for b in [details, transport].into_iter().flatten() {
        s.push_str(&String::from_utf8_lossy(b).to_ascii_lowercase());
        s.push(' ');
    }
    s
}

fn from_upstream(details: Option<&[u8]>, service_ms: Option<i64>) -> bool {
    details == Some(b"via_upstream") || service_ms.is_some()
}

/// The most telling flag decides; `(cause, (flag, meaning))`.
fn by_flags(flags: &[u8], reason: &str) -> (Cause, Option<(&'static str, &'static str)>) {
    // Most specific first: a request can carry `UF,URX` or `UC,URX`.
    const ORDER: &[&str] = &[
        "RL", "UO", "OM", "DO", "DF", "UH", "LH", "UT", "UMSDR", "SI", "UF", "UPE", "UC", "UR",
        "LR", "NR", "NC", "FI", "UAEX", "RLSE", "DC", "DT", "DPE", "IH", "URX", "DI", "RFCF",
        "NFCF",
    ];
    let present: Vec<&'static (&str, &str, &str)> =
        flags.split(|&c| c == b',').filter_map(flag_info).collect();
    let Some(best) = ORDER
        .iter()
        .find_map(|o| present.iter().find(|f| f.0 == *o))
    else {
        return (Cause::Unknown, None);
    };
    let cause = match best.0 {
        // a limit refused it: rate limit, circuit breaker, overload manager
        "RL" | "UO" | "OM" | "DO" => Cause::RateLimited,
        "DF" => Cause::Dns,
        "UH" | "LH" => Cause::NoLiveUpstream,
        "UT" | "UMSDR" | "SI" => Cause::Timeout,
        "UF" => by_reason(reason).unwrap_or(Cause::UpstreamConnectFailed),
        "UPE" => {
            if reason.contains("too_large") || reason.contains("header_size") {
                Cause::HeaderTooBig
            } else {
                Cause::InvalidHeader
            }
        }
        "UC" => Cause::UpstreamClosedEarly,
        "UR" => Cause::UpstreamReset,
        // LR, NR, NC, FI, UAEX, RLSE, DC, DT, DPE, IH: Envoy's own reply or
        // the client's doing; URX/DI alone say nothing of the failure.
        _ => Cause::Unknown,
    };
    (cause, Some((best.0, best.2)))
}

/// TLS / timeout / refusal from the reset reason and transport failure text.
/// Envoy's TLS transport socket writes its failures as `TLS error: …`
/// (`source/common/tls/ssl_socket.cc`; the details carry the same with `_`
/// for spaces), including ones that name no SSL routine, such as Istio's
/// `TLS error: Secret is not supplied by SDS` (no certificate pushed yet).
/// A connect error is `delayed connect error: <errno>` (the number in
/// older releases, its `strerror` text in later ones; Linux errno values).
/// A bare `connection_failure` is [`Cause::UpstreamConnectFailed`] (see the
/// module doc: refused and connect timeout read the same there).
fn by_reason(reason: &str) -> Option<Cause> {
    let socket_error = |codes: &[&str], texts: &[&str]| {
        codes.iter().any(|c| {
            reason.contains(&format!("delayed_connect_error:_{c}"))
                || reason.contains(&format!("delayed connect error: {c}"))
        }) || texts
            .iter()
            .any(|t| reason.contains(t) || reason.contains(&t.replace(' ', "_")))
    };
    if reason.contains("tls_error")
        || reason.contains("tls error")
        || reason.contains("ssl")
        || reason.contains("certificate")
        || reason.contains("handshake")
    {
        Some(Cause::Tls)
    } else if reason.contains("connection_timeout")
        || reason.contains("connect_timeout")
        // ETIMEDOUT: the kernel gave up on the SYN before Envoy did
        || socket_error(&["110"], &["connection timed out"])
    {
        Some(Cause::Timeout)
    } else if socket_error(
        // ECONNREFUSED, EHOSTUNREACH, ENETUNREACH
        &["111", "113", "101"],
        &[
            "connection refused",
            "no route to host",
            "network is unreachable",
        ],
    ) || reason.contains("remote_connection_failure")
        || reason.contains("remote connection failure")
    {
        // a remote failure in a release that logs connect timeouts apart
        // (`connection_timeout`): the peer refused or dropped the connect
        Some(Cause::UpstreamRefused)
    } else if reason.contains("connection_failure") || reason.contains("connection failure") {
        Some(Cause::UpstreamConnectFailed)
    } else {
        None
    }
}

/// No flag: the details (when logged) or the upstream service time decide.
fn by_details(details: Option<&[u8]>, reason: &str, service_ms: Option<i64>) -> Cause {
    if from_upstream(details, service_ms) {
        return Cause::Passthrough;
    }
    if let Some(c) = by_reason(reason) {
        return c;
    }
    for (needle, cause) in [
        ("protocol_error", Cause::InvalidHeader),
        ("connection_termination", Cause::UpstreamClosedEarly),
        ("remote_reset", Cause::UpstreamReset),
        ("no_healthy_upstream", Cause::NoLiveUpstream),
        ("response_timeout", Cause::Timeout),
        ("per_try_timeout", Cause::Timeout),
        ("overflow", Cause::RateLimited),
        ("rate_limited", Cause::RateLimited),
    ] {
        if reason.contains(needle) {
            return cause;
        }
    }
    Cause::Unknown
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::hop_cause::verdict_of;
    use crate::logs::envoy::{Envoy, EXAMPLES};
    use crate::logs::hop::HopRecord;

    fn rec(
        flags: Option<&'static [u8]>,
        details: Option<&'static [u8]>,
        ust: Option<i64>,
    ) -> HopRecord<'static> {
        HopRecord {
            status: Some(502),
            signals: Signals::Envoy {
                flags,
                details,
                transport_failure: None,
                cluster: None,
                upstream_service_ms: ust,
            },
            ..Default::default()
        }
    }

    #[test]
    fn examples_get_their_cause() {
        super::super::check_examples(&Envoy, EXAMPLES, judge);
    }

    type Case = (
        Option<&'static [u8]>,
        Option<&'static [u8]>,
        Option<i64>,
        Cause,
    );

    #[test]
    fn table() {
        let cases: &[Case] = &[
            (None, Some(b"via_upstream"), None, Cause::Passthrough),
            (None, None, Some(3), Cause::Passthrough),
            (None, None, None, Cause::Unknown),
            (None, Some(b"ext_authz_error"), None, Cause::Unknown),
            (None, Some(b"upstream_reset_before_response_started{protocol_error}"), None, Cause::InvalidHeader),
            (Some(b"URX"), None, Some(40), Cause::Passthrough),
            (Some(b"URX"), None, None, Cause::Unknown),
            (Some(b"UF"), Some(b"upstream_reset_before_response_started{connection_timeout}"), None, Cause::Timeout),
            (Some(b"UF"), Some(b"upstream_reset_before_response_started{remote_connection_failure,delayed_connect_error:_Connection_refused}"), None, Cause::UpstreamRefused),
            // older releases: the errno as a number (envoyproxy/envoy#22368)
            (Some(b"UF"), Some(b"upstream_reset_before_response_started{connection_failure,delayed_connect_error:_111}"), None, Cause::UpstreamRefused),
            (Some(b"UF"), Some(b"upstream_reset_before_response_started{connection_failure,delayed_connect_error:_113}"), None, Cause::UpstreamRefused),
            (Some(b"UF"), Some(b"upstream_reset_before_response_started{connection_failure,delayed_connect_error:_110}"), None, Cause::Timeout),
            (Some(b"UF"), Some(b"upstream_reset_before_response_started{remote_connection_failure}"), None, Cause::UpstreamRefused),
            // refused or connect timeout: the log cannot tell
            (Some(b"UF"), Some(b"upstream_reset_before_response_started{connection_failure}"), None, Cause::UpstreamConnectFailed),
            (Some(b"UF,URX"), None, None, Cause::UpstreamConnectFailed),
            (Some(b"UF"), Some(b"upstream_reset_before_response_started{local_connection_failure}"), None, Cause::UpstreamConnectFailed),
            (None, Some(b"upstream_reset_before_response_started{connection_failure}"), None, Cause::UpstreamConnectFailed),
            (Some(b"LR"), Some(b"upstream_reset_before_response_started{local_reset}"), None, Cause::Unknown),
            (Some(b"UC,URX"), None, None, Cause::UpstreamClosedEarly),
            (Some(b"UR"), None, None, Cause::UpstreamReset),
            (Some(b"UO"), None, None, Cause::RateLimited),
            (Some(b"UPE"), Some(b"upstream_reset_before_response_started{protocol_error,http1.headers_too_large}"), None, Cause::HeaderTooBig),
            (Some(b"UpstreamProtocolError"), None, None, Cause::InvalidHeader),
            (Some(b"NR"), Some(b"route_not_found"), None, Cause::Unknown),
            (Some(b"DC"), None, None, Cause::Unknown),
            (Some(b"ZZ"), None, None, Cause::Unknown),
        ];
        for (f, d, u, want) in cases {
            let v = verdict_of(judge, &rec(*f, *d, *u));
            assert_eq!(v.cause, *want, "{f:?} {d:?} {u:?}: {:?}", v.evidence);
            assert!(!v.evidence.is_empty());
        }
    }

    /// `UF` whose transport failure is a TLS error without "SSL" in it
    /// (an Istio 1.6 sidecar, fixtures/logs/envoy/real/istio_1_6_mixer.log):
    /// tls, not refused.
    #[test]
    fn tls_error_without_ssl_routine_is_tls() {
        let mut r = rec(Some(b"UF,URX"), None, None);
        if let Signals::Envoy {
            transport_failure, ..
        } = &mut r.signals
        {
            *transport_failure = Some(b"TLS error: Secret is not supplied by SDS");
        }
        assert_eq!(verdict_of(judge, &r).cause, Cause::Tls);
    }

    #[test]
    fn unknown_names_the_missing_fields() {
        let v = verdict_of(judge, &rec(None, None, None));
        assert!(
            v.evidence
                .iter()
                .any(|e| e.contains("%RESPONSE_CODE_DETAILS%")),
            "{:?}",
            v.evidence
        );
        let v = verdict_of(judge, &HopRecord::default());
        assert_eq!(v.cause, Cause::Unknown);
    }
}
