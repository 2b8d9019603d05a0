//! AWS ALB's signals → causes: `target_status_code` vs `elb_status_code`,
//! `error_reason` (Lambda targets, and the load balancer's own authenticate,
//! weighted-target-group and WAF steps), and which processing times are `-1`.
//!
//! From AWS's "Troubleshoot your Application Load Balancers" ("The load
//! balancer generates an HTTP error"): an ALB **502** is a TCP RST or an
//! ICMP unreachable when connecting, the target closing the connection
//! (RST/FIN) while a request was outstanding (keep-alive shorter than the
//! ALB idle timeout), a malformed response or invalid headers, a TLS
//! handshake error/timeout to the target, a deregistration delay that
//! elapsed, or a Lambda error/oversized response; **503**: no registered
//! targets; **504**: no connection within 10 s, or no response within the
//! idle timeout. From the access-log reference: `request_processing_time`
//! is the time until the request was **sent** to a target (`-1` if it could
//! not be dispatched), `target_processing_time` until the target **started**
//! its response headers, and `target_status_code` is set only when the
//! target sent a response. So:
//! - sent (`request_processing_time` ≥ 0) but no response start
//!   (`target_processing_time` = -1) → the target closed with the request
//!   outstanding;
//! - a response start but no `target_status_code` → the response was not
//!   valid HTTP;
//! - not dispatched at all → connect refused, unreachable or TLS: the log
//!   cannot tell which, so `unknown` says so.

use super::{context, Evidence, Lossy};
use crate::analyze::cause::{Cause, Verdict};
use crate::logs::hop::{HopRecord, Signals};

/// Classify one ALB record.
pub fn classify(rec: &HopRecord<'_>) -> Verdict {
    super::verdict_of(judge, rec)
}

/// Seconds with milliseconds (`0.012`) as the log writes them, `-1` when
/// absent.
struct Secs(Option<i64>);

impl std::fmt::Display for Secs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(v) => write!(f, "{:.3}", v as f64 / 1000.0),
            None => f.write_str("-1"),
        }
    }
}

/// A status, `-` when absent.
struct Status(Option<u16>);

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(s) => write!(f, "{s}"),
            None => f.write_str("-"),
        }
    }
}

/// The cause of one ALB 5xx, its evidence written to `ev`.
pub fn judge(rec: &HopRecord<'_>, ev: &mut Evidence) -> Cause {
    let Signals::Alb {
        elb_status,
        target_status,
        error_reason,
        request_processing_ms: rpt,
        target_processing_ms: tpt,
        ..
    } = rec.signals
    else {
        ev.text("not an ALB record");
        return Cause::Unknown;
    };
    let elb = elb_status.or(rec.status).unwrap_or(0);
    ev.add(format_args!("elb_status_code={elb}"));
    ev.add(format_args!("target_status_code={}", Status(target_status)));
    ev.add(format_args!("request_processing_time={}", Secs(rpt)));
    ev.add(format_args!("target_processing_time={}", Secs(tpt)));
    let cause = if let Some(reason) = error_reason {
        let (cause, meaning) = reason_code(reason);
        ev.add(format_args!("error_reason={}: {meaning}", Lossy(reason)));
        cause
    } else if let Some(t) = target_status {
        if t == elb {
            ev.text("the target answered with this status; the load balancer passed it on");
            Cause::Passthrough
        } else {
            ev.add(format_args!(
                "the target answered {t} but the load balancer sent {elb}"
            ));
            Cause::Unknown
        }
    } else {
        match elb {
            503 => {
                ev.text("503 from the load balancer: the target group has no registered (or healthy) targets");
                Cause::NoLiveUpstream
            }
            504 => {
                ev.text(
"504 from the load balancer: no connection to the target within 10 s, or no response within the idle timeout",
);
                Cause::Timeout
            }
            502 => match (rpt, tpt) {
                (_, Some(_)) => {
                    ev.text("the target started a response, but no target status was logged: the response was malformed or its headers invalid");
                    Cause::InvalidHeader
                }
                (Some(_), None) => {
                    ev.text(
"the request was sent to the target but no response started: the target closed the connection \
                         (RST/FIN) with the request outstanding; is its keep-alive timeout shorter than the ALB idle timeout?",
);
                    Cause::UpstreamClosedEarly
                }
                (None, None) => {
                    ev.text(
"the request was never dispatched to the target: connection refused (RST), host unreachable, or a TLS \
                         handshake error to the target; ALB's log does not say which (see the target's logs, or the \
                         TargetConnectionErrorCount and TargetTLSNegotiationErrorCount metrics)",
);
                    Cause::Unknown
                }
            },
            _ => {
                ev.text("the load balancer made this status; its log gives no reason");
                Cause::Unknown
            }
        }
    };
    context(rec, ev);
    cause
}

/// An `error_reason` → cause and meaning, from the access-log reference's
/// "Error reason codes" tables (`load-balancer-access-logs.md`): the
/// `authenticate` action's codes (`Auth…`), weighted target groups'
/// (`AWSALBTGCookieInvalid`, `WeightedTargetGroupsUnhandledException`),
/// Lambda targets' (`Lambda…`) and AWS WAF's (`WAF…`). Only Lambda's name
/// a failure of the target; the others are the load balancer's own steps.
fn reason_code(reason: &[u8]) -> (Cause, &'static str) {
    if reason.starts_with(b"Lambda") {
        return lambda(reason);
    }
    match reason {
        b"AuthTokenEpRequestTimeout" | b"AuthUserinfoEpRequestTimeout" => (
            Cause::Unknown,
            "the authenticate action could not reach the identity provider's endpoint (ELBAuthError): not the target",
        ),
        b"AuthTokenEpRequestFailed" | b"AuthUserinfoEpRequestFailed" => (
            Cause::Unknown,
            "the identity provider's endpoint answered an error (ELBAuthError): not the target",
        ),
        b"AuthUnhandledException" | b"AuthMissingHostHeader" | b"AuthUserinfoResponseSizeExceeded" => (
            Cause::Unknown,
            "the load balancer's authenticate action failed (ELBAuthError): not the target",
        ),
        r if r.starts_with(b"Auth") => (
            Cause::Unknown,
            "the authenticate action rejected the request (cookie, token or state not valid; ELBAuthFailure): not the target",
        ),
        b"AWSALBTGCookieInvalid" | b"WeightedTargetGroupsUnhandledException" => (
            Cause::Unknown,
            "forwarding to a weighted target group failed in the load balancer (AWSALBTG cookie not valid, or an unhandled exception): not the target",
        ),
        b"WAFConnectionError" | b"WAFConnectionTimeout" | b"WAFResponseReadTimeout" | b"WAFServiceError"
        | b"WAFUnhandledException" => (
            Cause::Unknown,
            "the load balancer could not get AWS WAF's decision (connection, timeout or WAF error): not the target",
        ),
        _ => (
            Cause::Unknown,
            "a code not in the access-log reference's tables gatecheck knows",
        ),
    }
}

/// A Lambda target's `error_reason` (the access-log reference's table).
fn lambda(reason: &[u8]) -> (Cause, &'static str) {
    match reason {
        b"LambdaInvalidResponse" => (Cause::InvalidHeader, "the function's response is malformed or misses required fields"),
        b"LambdaResponseTooLarge" => (Cause::InvalidHeader, "the function's response exceeded 1 MB"),
        b"LambdaUnhandled" => (Cause::UpstreamClosedEarly, "the function failed with an unhandled exception, without a response"),
        b"LambdaConnectionTimeout" => (Cause::Timeout, "connecting to Lambda timed out"),
        b"LambdaThrottling" => (Cause::RateLimited, "Lambda throttled the function: too many requests"),
        b"LambdaServiceException" => (Cause::Unknown, "Lambda had an internal error"),
        b"LambdaUnhandledException" => (Cause::Unknown, "the load balancer had an unhandled exception invoking Lambda"),
        b"LambdaRequestTooLarge" => (Cause::Unknown, "the request body exceeded 1 MB (a client-side limit)"),
        b"LambdaBadRequest" => (Cause::Unknown, "the client's request headers or body were not all UTF-8 (a client-side problem)"),
        b"LambdaAccessDenied" | b"LambdaResourceNotFound" => {
            (Cause::Unknown, "the load balancer could not invoke the function (permission or function missing): configuration")
        }
        _ => (Cause::Unknown, "the function could not be set up or run (VPC, KMS or runtime configuration)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::alb::{Alb, EXAMPLES};

    #[test]
    fn examples_get_their_cause() {
        super::super::check_examples(&Alb, EXAMPLES, judge);
    }

    fn rec(
        elb: u16,
        target: Option<u16>,
        rpt: Option<i64>,
        tpt: Option<i64>,
    ) -> HopRecord<'static> {
        HopRecord {
            status: Some(elb),
            signals: Signals::Alb {
                elb_status: Some(elb),
                target_status: target,
                error_reason: None,
                request_processing_ms: rpt,
                target_processing_ms: tpt,
                response_processing_ms: None,
            },
            ..Default::default()
        }
    }

    #[test]
    fn table() {
        for (r, want) in [
            (rec(502, None, None, None), Cause::Unknown),
            (rec(502, None, Some(0), Some(12)), Cause::InvalidHeader),
            (rec(502, None, Some(0), None), Cause::UpstreamClosedEarly),
            (rec(503, Some(503), Some(0), Some(3)), Cause::Passthrough),
            (rec(500, None, None, None), Cause::Unknown),
            (rec(502, Some(200), Some(0), Some(3)), Cause::Unknown),
        ] {
            let v = classify(&r);
            assert_eq!(v.cause, want, "{:?}", v.evidence);
        }
        let v = classify(&rec(502, None, None, None));
        assert!(
            v.evidence.iter().any(|e| e.contains("does not say which")),
            "{:?}",
            v.evidence
        );
        assert_eq!(lambda(b"LambdaThrottling").0, Cause::RateLimited);
        assert_eq!(lambda(b"LambdaKMSDisabledException").0, Cause::Unknown);
        // the non-Lambda codes of the reference are the load balancer's own
        // steps: never described as a function's setup (they were, before)
        for code in [
            &b"AuthTokenEpRequestTimeout"[..],
            b"AuthInvalidCookie",
            b"WAFConnectionError",
            b"AWSALBTGCookieInvalid",
            b"SomethingNew",
        ] {
            let (cause, meaning) = reason_code(code);
            assert_eq!(cause, Cause::Unknown);
            assert!(!meaning.contains("function"), "{meaning}");
        }
        assert_eq!(
            reason_code(b"LambdaUnhandled").0,
            Cause::UpstreamClosedEarly
        );
        let mut r = rec(500, None, Some(0), None);
        if let Signals::Alb { error_reason, .. } = &mut r.signals {
            *error_reason = Some(b"WAFConnectionTimeout");
        }
        let v = classify(&r);
        assert!(
            v.evidence.iter().any(|e| e.contains("AWS WAF")),
            "{:?}",
            v.evidence
        );
    }
}
