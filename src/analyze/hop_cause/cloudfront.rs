//! CloudFront's signals → causes: `x-edge-detailed-result-type` (the error
//! CloudFront met at the origin) with `sc-status`, else
//! `x-edge-result-type`.
//!
//! Meanings: AWS "Standard logging reference" (field 29,
//! `x-edge-detailed-result-type`: the values when `x-edge-result-type` is
//! `Error`, `OriginShieldHit`, `MissGeneratedResponse`; each value
//! in `by_detailed`) and "Troubleshooting error responses from your
//! origin" (a 504 is CloudFront giving up on the origin: connection or read
//! timeout; a 502 is a failed connection, TLS negotiation or DNS, or an
//! invalid response). `OriginCommError` is documented as "the request timed
//! out while connecting to the origin, or reading data from the origin".
//! CloudFront never logs the origin's own status: a 5xx with result type
//! `Error` and detailed type `Error` may be the origin's answer or
//! CloudFront's ("can occur when the server serves an error response from
//! the cache"), so it stays `unknown`.
//!
//! Edge functions: AWS's "Troubleshooting Lambda@Edge" / CloudFront
//! Functions pages and the `X-Cache` values CloudFront sends (`… from
//! cloudfront`), which the result-type fields carry: `LambdaValidationError`
//! (502: the function's response or request change failed validation),
//! `LambdaExecutionError` (503: the function failed or timed out),
//! `LambdaLimitExceeded` (503: Lambda throttled it), `FunctionExecutionError`,
//! `FunctionThrottledError` (503: a CloudFront Function over its compute
//! budget), and `…GeneratedResponse` (the function chose the status). These
//! were made at the edge by the distribution's own code, not by the origin:
//! `unknown` (the throttles `rate_limited`), with the evidence saying so.
//! Any other value gives `unknown` with the value quoted.

use super::{context, Evidence, Lossy};
use crate::analyze::cause::Cause;
use crate::logs::hop::{HopRecord, Signals};

/// The cause of one CloudFront 5xx, its evidence written to `ev`.
pub fn judge(rec: &HopRecord<'_>, ev: &mut Evidence) -> Cause {
    let Signals::Cdn {
        edge_result,
        detailed_result,
        origin_header_ms,
        ..
    } = rec.signals
    else {
        ev.text("not a CloudFront record");
        return Cause::Unknown;
    };
    let status = rec.status.unwrap_or(0);
    if let Some(s) = rec.status {
        ev.add(format_args!("sc-status={s:03}"));
    }
    if let Some(e) = edge_result {
        ev.field("x-edge-result-type", e);
    }
    let timeout = status == 504;
    let cause = match detailed_result {
        Some(d) => {
            let (cause, meaning) = by_detailed(d, timeout);
            ev.add(format_args!(
                "x-edge-detailed-result-type={}: {meaning}",
                Lossy(d)
            ));
            match (cause, edge_result) {
                (Some(c), _) => c,
                (None, Some(e)) => by_result(e, status, ev),
                (None, None) => Cause::Unknown,
            }
        }
        None => {
            ev.text("the file logs no x-edge-detailed-result-type, which names the origin error");
            match edge_result {
                Some(e) => by_result(e, status, ev),
                None => Cause::Unknown,
            }
        }
    };
    if timeout && cause == Cause::Timeout {
        ev.text(
            "504: CloudFront gave up waiting for the origin (origin connection/response timeout)",
        );
    }
    if let Some(ms) = origin_header_ms {
        ev.add(format_args!("origin-fbl={ms}ms"));
    }
    if let Some(ms) = rec.total_ms {
        ev.add(format_args!("time-taken={ms}ms"));
    }
    context(rec, ev);
    cause
}

/// `(cause, meaning)`; `None` when the value leaves the cause to the result type.
fn by_detailed(d: &[u8], timeout: bool) -> (Option<Cause>, &'static str) {
    use Cause::*;
    let t = |other: Cause| Some(if timeout { Timeout } else { other });
    match d {
        b"OriginConnectError" => (
            t(UpstreamRefused),
            "CloudFront couldn't connect to the origin (refused or unreachable; AWS also lists a failed TLS negotiation with a custom origin among its 502s without saying which type it logs)",
        ),
        b"OriginDnsError" | b"NonS3OriginDnsError" => {
            (Some(Dns), "CloudFront couldn't resolve the origin's domain name")
        }
        b"OriginReadTimeout" => (Some(Timeout), "reading from the origin timed out"),
        b"OriginReadError" => (t(UpstreamClosedEarly), "CloudFront couldn't read from the origin"),
        b"OriginWriteError" => (t(UpstreamReset), "CloudFront couldn't write the request to the origin"),
        b"OriginHeaderTooBigError" => (Some(HeaderTooBig), "a header from the origin is too big for the edge"),
        b"OriginInvalidResponseError" => (Some(InvalidHeader), "the origin returned an invalid response"),
        b"OriginContentRangeLengthError" => (
            Some(InvalidHeader),
            "the origin's Content-Length doesn't match its Content-Range",
        ),
        b"OriginZeroSizeObjectError" => (Some(InvalidHeader), "a zero-size object from the origin caused an error"),
        b"OriginCommError" => (
            Some(Timeout),
            "the request timed out while connecting to the origin or reading data from it",
        ),
        b"OriginError" => (
            Some(InvalidHeader),
            "the origin returned an incorrect response (AWS's words; CloudFront does not say how)",
        ),
        b"AbortedOrigin" => (Some(Unknown), "CloudFront met an issue with the origin; it does not say which"),
        b"Error" => (
            None,
            "an error of no other category; CloudFront does not log whether the origin or the edge made the status",
        ),
        b"ClientCommError" | b"ClientHungUpRequest" | b"SlowReaderOriginError" => {
            (Some(Unknown), "the viewer's side, not the origin")
        }
        b"ClientGeoBlocked" | b"InvalidRequest" | b"InvalidRequestBlocked" | b"InvalidRequestCertificate"
        | b"InvalidRequestHeader" | b"InvalidRequestMethod" => {
            (Some(Unknown), "CloudFront refused the viewer's request")
        }
        b"Hit" | b"RefreshHit" | b"Miss" | b"OriginShieldHit" | b"LimitExceeded" | b"CapacityExceeded"
        | b"Redirect" => (None, "the same as the result type"),
        other => match edge_function(other) {
            Some((c, meaning)) => (Some(c), meaning),
            None => (None, "a value gatecheck does not know"),
        },
    }
}

/// A result type naming an edge function (Lambda@Edge or a CloudFront
/// Function): `(cause, meaning)`, or `None` for any other value.
fn edge_function(v: &[u8]) -> Option<(Cause, &'static str)> {
    use Cause::*;
    Some(match v {
        b"LambdaValidationError" => (
            Unknown,
            "a Lambda@Edge function's response (or its change to the request) failed CloudFront's validation: made at the edge by the distribution's function, not by the origin",
        ),
        b"LambdaExecutionError" => (
            Unknown,
            "a Lambda@Edge function failed (an error, or its timeout): made at the edge by the distribution's function, not by the origin",
        ),
        b"LambdaLimitExceeded" | b"LambdaLimitExceededError" => (
            RateLimited,
            "Lambda throttled the Lambda@Edge function (its concurrency quota)",
        ),
        b"FunctionExecutionError" => (
            Unknown,
            "a CloudFront Function failed at run time: made at the edge, not by the origin",
        ),
        b"FunctionThrottledError" => (
            RateLimited,
            "a CloudFront Function was throttled for exceeding its compute utilization",
        ),
        b"FunctionGeneratedResponse" | b"LambdaGeneratedResponse" | b"MissGeneratedResponse" => (
            Unknown,
            "an edge function generated this response itself (its code chose the status): not the origin",
        ),
        _ => return None,
    })
}

/// From `x-edge-result-type` alone.
fn by_result(e: &[u8], status: u16, ev: &mut Evidence) -> Cause {
    match e {
        b"LimitExceeded" | b"CapacityExceeded" => {
            ev.text("a CloudFront quota or capacity limit refused the request");
            Cause::RateLimited
        }
        b"Hit" | b"RefreshHit" | b"OriginShieldHit" | b"Miss" if status >= 500 => {
            ev.text("the edge served the origin's response (from the origin or its cache)");
            Cause::Passthrough
        }
        b"Hit" | b"RefreshHit" | b"OriginShieldHit" | b"Miss" | b"Redirect" => Cause::Passthrough,
        b"Error" => {
            ev.text(
                "result type Error without a more specific detailed type: CloudFront logs no origin \
                 status, so whether the origin sent it is unknown; look at the origin's logs (join on X-Amz-Cf-Id)",
            );
            Cause::Unknown
        }
        other => match edge_function(other) {
            Some((c, meaning)) => {
                ev.add(format_args!(
                    "x-edge-result-type={}: {meaning}",
                    Lossy(other)
                ));
                c
            }
            None => {
                ev.add(format_args!(
                    "x-edge-result-type={}: a value gatecheck does not know",
                    Lossy(other)
                ));
                Cause::Unknown
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::hop_cause::verdict_of;
    use crate::logs::cloudfront::{CloudFront, EXAMPLES, LEGACY_FIELDS};
    use crate::logs::hop::HopFormat;

    #[test]
    fn examples_get_their_cause() {
        for ex in EXAMPLES {
            let text = format!("#Version: 1.0\n{LEGACY_FIELDS}\n{}\n", ex.line);
            let head: Vec<&[u8]> = text.lines().map(str::as_bytes).collect();
            let (p, _) = CloudFront.detect(&head).expect(ex.title);
            let v = verdict_of(judge, &p.parse_line(ex.line.as_bytes()).unwrap());
            assert_eq!(v.cause.id(), ex.cause, "{}: {:?}", ex.title, v.evidence);
            assert!(
                v.evidence.iter().any(|e| e.contains(ex.evidence)),
                "{}: {:?}",
                ex.title,
                v.evidence
            );
        }
    }

    fn rec(status: u16, edge: &'static [u8], det: Option<&'static [u8]>) -> HopRecord<'static> {
        HopRecord {
            status: Some(status),
            signals: Signals::Cdn {
                edge_result: Some(edge),
                detailed_result: det,
                origin_status: None,
                origin_header_ms: None,
            },
            ..Default::default()
        }
    }

    type Case = (u16, &'static [u8], Option<&'static [u8]>, Cause);

    #[test]
    fn table() {
        let cases: &[Case] = &[
            (
                502,
                b"Error",
                Some(b"OriginConnectError"),
                Cause::UpstreamRefused,
            ),
            (504, b"Error", Some(b"OriginConnectError"), Cause::Timeout),
            (
                502,
                b"Error",
                Some(b"OriginReadError"),
                Cause::UpstreamClosedEarly,
            ),
            (504, b"Error", Some(b"OriginCommError"), Cause::Timeout),
            // AWS: "timed out while connecting to the origin, or reading"
            (502, b"Error", Some(b"OriginCommError"), Cause::Timeout),
            (502, b"Error", Some(b"OriginError"), Cause::InvalidHeader),
            (
                502,
                b"Error",
                Some(b"OriginZeroSizeObjectError"),
                Cause::InvalidHeader,
            ),
            (
                502,
                b"Error",
                Some(b"SlowReaderOriginError"),
                Cause::Unknown,
            ),
            (502, b"Error", Some(b"AbortedOrigin"), Cause::Unknown),
            (403, b"Error", Some(b"ClientGeoBlocked"), Cause::Unknown),
            // edge functions: made at the edge, not by the origin
            (
                502,
                b"LambdaValidationError",
                Some(b"LambdaValidationError"),
                Cause::Unknown,
            ),
            (
                503,
                b"LambdaExecutionError",
                Some(b"LambdaExecutionError"),
                Cause::Unknown,
            ),
            (
                503,
                b"LambdaLimitExceeded",
                Some(b"LambdaLimitExceeded"),
                Cause::RateLimited,
            ),
            (
                503,
                b"FunctionThrottledError",
                Some(b"FunctionThrottledError"),
                Cause::RateLimited,
            ),
            (503, b"FunctionExecutionError", None, Cause::Unknown),
            (
                502,
                b"Error",
                Some(b"FunctionGeneratedResponse"),
                Cause::Unknown,
            ),
            (502, b"Miss", Some(b"MissGeneratedResponse"), Cause::Unknown),
            (502, b"SomethingNew", Some(b"SomethingNew"), Cause::Unknown),
            (
                502,
                b"Error",
                Some(b"OriginSomethingNewError"),
                Cause::Unknown,
            ),
            (502, b"Hit", Some(b"Hit"), Cause::Passthrough),
            (
                503,
                b"LimitExceeded",
                Some(b"LimitExceeded"),
                Cause::RateLimited,
            ),
            (
                502,
                b"Error",
                Some(b"OriginHeaderTooBigError"),
                Cause::HeaderTooBig,
            ),
            (
                502,
                b"Error",
                Some(b"OriginInvalidResponseError"),
                Cause::InvalidHeader,
            ),
            (502, b"Error", Some(b"Error"), Cause::Unknown),
            (
                503,
                b"CapacityExceeded",
                Some(b"CapacityExceeded"),
                Cause::RateLimited,
            ),
            (502, b"Miss", Some(b"Miss"), Cause::Passthrough),
            (502, b"Error", None, Cause::Unknown),
            (0, b"Error", Some(b"ClientHungUpRequest"), Cause::Unknown),
        ];
        for (s, e, d, want) in cases {
            let v = verdict_of(judge, &rec(*s, e, *d));
            assert_eq!(v.cause, *want, "{s} {d:?}: {:?}", v.evidence);
        }
        let v = verdict_of(judge, &rec(502, b"Error", None));
        assert!(v
            .evidence
            .iter()
            .any(|e| e.contains("logs no x-edge-detailed-result-type")));
        // a value AWS has not documented is quoted, never explained
        for (e, d) in [
            (&b"SomethingNew"[..], &b"SomethingNew"[..]),
            (b"Error", b"OriginSomethingNewError"),
        ] {
            let v = verdict_of(judge, &rec(502, e, Some(d)));
            assert!(
                v.evidence.iter().any(
                    |l| l.contains(&*String::from_utf8_lossy(d)) && l.contains("does not know")
                ),
                "{:?}",
                v.evidence
            );
        }
        let v = verdict_of(
            judge,
            &rec(
                502,
                b"LambdaValidationError",
                Some(b"LambdaValidationError"),
            ),
        );
        assert!(
            v.evidence.iter().any(|l| l.contains("not by the origin")),
            "{:?}",
            v.evidence
        );
    }
}
