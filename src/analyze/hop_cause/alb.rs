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
//! - neither time (`-1 -1`) → AWS: the load balancer "can't dispatch the
//!   request to a target", which "can happen if the target closes the
//!   connection before the idle timeout or if the client sends a malformed
//!   request" (and a refused, unreachable or TLS-failed connection logs the
//!   same): the log cannot tell which, so `unknown` says so.
//!
//! Statuses the load balancer makes without a target (the troubleshooting
//! page's list): 460 (the client closed first), 463 (`X-Forwarded-For` over
//! 30 addresses), 464 (protocol versions incompatible with the target
//! group), 500 (an unexpected error, WAF rules or the IdP), 501
//! (`Transfer-Encoding` not supported), 505 (HTTP version), 561 (the IdP
//! returned an error to the `authenticate` action); and a listener rule's
//! `fixed-response` (`actions_executed`) can answer any status, 503 often
//! (a maintenance page): its status is the rule's (`config_return`), never
//! "no targets".

use super::{context, Evidence, Lossy};
use crate::analyze::cause::Cause;
use crate::logs::hop::{HopRecord, Signals};

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
        actions,
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
    if let Some(a) = actions {
        ev.field("actions_executed", a);
    }
    let fixed = actions.is_some_and(|a| a.split(|&c| c == b',').any(|x| x == b"fixed-response"));
    let cause = if let Some(reason) = error_reason {
        let (cause, meaning) = reason_code(reason);
        ev.add(format_args!("error_reason={}: {meaning}", Lossy(reason)));
        cause
    } else if fixed && target_status.is_none() {
        ev.text("a listener rule's fixed-response action answered with this status: the load balancer's configuration, not a target");
        Cause::ConfigReturn
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
"request_processing_time and target_processing_time -1: AWS says the load balancer could not dispatch \
                         the request to a target, which happens when the target closes the connection before the idle \
                         timeout (or the client's request was malformed); a refused (RST), unreachable or TLS-failed \
                         connection logs the same, and ALB's log does not say which (see the target's logs, or the \
                         TargetConnectionErrorCount and TargetTLSNegotiationErrorCount metrics)",
);
                    Cause::Unknown
                }
            },
            s => {
                ev.text(match s {
                    460 => "460: the client closed the connection before the idle timeout elapsed (the load balancer's own code, not a target's)",
                    463 => "463: the request's X-Forwarded-For header had more than 30 addresses",
                    464 => "464: the request's protocol is incompatible with the target group's protocol version",
                    500 => "500 from the load balancer: an unexpected error of its own, in its AWS WAF rules or with the identity provider (no target answered)",
                    501 => "501: the load balancer does not support the request's Transfer-Encoding",
                    505 => "505: the load balancer does not support the request's HTTP version",
                    561 => "561: the identity provider returned an error to the authenticate action (no target involved)",
                    _ => "the load balancer made this status without a target's; its log gives no reason",
                });
                Cause::Unknown
            }
        }
    };
    context(rec, ev);
    cause
}

/// An `error_reason` → cause and meaning, from the access-log reference's
/// "Error reason codes" tables (`load-balancer-access-logs.md`), every code:
/// the `authenticate` action's (`Auth…`), weighted target groups'
/// (`AWSALBTGCookieInvalid`, `WeightedTargetGroupsUnhandledException`),
/// Lambda targets' (`Lambda…`) and AWS WAF's (`WAF…`). Only Lambda's name
/// a failure of the target; the others are the load balancer's own steps.
/// A code not in the tables is quoted as unknown.
fn reason_code(reason: &[u8]) -> (Cause, &'static str) {
    if reason.starts_with(b"Lambda") {
        return lambda(reason);
    }
    let meaning = match reason {
        b"AuthTokenEpRequestTimeout" | b"AuthUserinfoEpRequestTimeout" => {
            "the authenticate action could not reach the identity provider's endpoint (ELBAuthError): not the target"
        }
        b"AuthTokenEpRequestFailed" | b"AuthUserinfoEpRequestFailed" => {
            "the identity provider's endpoint answered an error (ELBAuthError): not the target"
        }
        b"AuthUnhandledException" | b"AuthMissingHostHeader" => {
            "the load balancer's authenticate action failed (ELBAuthError): not the target"
        }
        b"AuthUserinfoResponseSizeExceeded" => {
            "the identity provider's claims exceeded 11 KB (ELBAuthUserClaimsSizeExceeded): not the target"
        }
        b"AuthInvalidCookie" | b"AuthInvalidGrantError" | b"AuthInvalidIdToken" | b"AuthInvalidStateParam"
        | b"AuthInvalidTokenResponse" | b"AuthInvalidUserinfoResponse" | b"AuthMissingCodeParam"
        | b"AuthMissingStateParam" => {
            "the authenticate action rejected the request (cookie, token, code or state not valid; ELBAuthFailure): not the target"
        }
        b"AWSALBTGCookieInvalid" => {
            "the AWSALBTG cookie of weighted target groups was not valid (URL-encoded, for one): the load balancer's step, not the target"
        }
        b"WeightedTargetGroupsUnhandledException" => {
            "the load balancer had an unhandled exception forwarding to a weighted target group: not the target"
        }
        b"WAFConnectionError" | b"WAFConnectionTimeout" | b"WAFResponseReadTimeout" | b"WAFServiceError"
        | b"WAFUnhandledException" => {
            "the load balancer could not get AWS WAF's decision (connection, timeout or WAF error): not the target"
        }
        _ => "a code not in the access-log reference's tables",
    };
    (Cause::Unknown, meaning)
}

/// A Lambda target's `error_reason`: every code of the reference's table.
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
        b"LambdaEC2AccessDeniedException" | b"LambdaEC2ThrottledException" | b"LambdaEC2UnexpectedException"
        | b"LambdaENILimitReachedException" | b"LambdaSubnetIPAddressLimitReachedException"
        | b"LambdaInvalidSecurityGroupIDException" | b"LambdaInvalidSubnetIDException" => {
            (Cause::Unknown, "Lambda could not set up the function's VPC access (EC2, network interfaces, subnets, security groups): configuration")
        }
        b"LambdaKMSAccessDeniedException" | b"LambdaKMSDisabledException" | b"LambdaKMSInvalidStateException"
        | b"LambdaKMSNotFoundException" => {
            (Cause::Unknown, "Lambda could not decrypt the function's environment variables (KMS key): configuration")
        }
        b"LambdaInvalidRuntimeException" | b"LambdaInvalidZipFileException" => {
            (Cause::Unknown, "Lambda could not start the function (runtime not supported, or its zip file): configuration")
        }
        _ => (Cause::Unknown, "a Lambda code not in the access-log reference's table"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::hop_cause::verdict_of;
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
                actions: None,
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
            let v = verdict_of(judge, &r);
            assert_eq!(v.cause, want, "{:?}", v.evidence);
        }
        let v = verdict_of(judge, &rec(502, None, None, None));
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
        // codes not in AWS's tables are quoted as such, never described
        for code in [&b"AuthSomethingNew"[..], b"LambdaSomethingNew", b"Other"] {
            let (cause, meaning) = reason_code(code);
            assert_eq!(cause, Cause::Unknown);
            assert!(
                meaning.contains("not in the access-log reference"),
                "{meaning}"
            );
        }
        // a listener rule's fixed response is not "no targets"
        let mut r = rec(503, None, None, None);
        if let Signals::Alb { actions, .. } = &mut r.signals {
            *actions = Some(b"fixed-response");
        }
        let v = verdict_of(judge, &r);
        assert_eq!(v.cause, Cause::ConfigReturn, "{:?}", v.evidence);
        assert!(
            v.evidence
                .iter()
                .any(|e| e.contains("fixed-response action")),
            "{:?}",
            v.evidence
        );
        for s in [460u16, 463, 464, 500, 501, 505, 561] {
            let v = verdict_of(judge, &rec(s, None, None, None));
            assert_eq!(v.cause, Cause::Unknown);
            assert!(
                v.evidence.iter().any(|e| e.starts_with(&format!("{s}"))),
                "{s}: {:?}",
                v.evidence
            );
        }
        let mut r = rec(500, None, Some(0), None);
        if let Signals::Alb { error_reason, .. } = &mut r.signals {
            *error_reason = Some(b"WAFConnectionTimeout");
        }
        let v = verdict_of(judge, &r);
        assert!(
            v.evidence.iter().any(|e| e.contains("AWS WAF")),
            "{:?}",
            v.evidence
        );
    }
}
