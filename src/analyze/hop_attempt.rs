//! The upstream attempt a hop log records (HAProxy, Envoy, a CDN, a load
//! balancer): one next hop per request, with what the format logs of it.
//! nginx logs a list (`$upstream_*`); the other formats log the server
//! they forwarded to once, so a hop record has at most one attempt.
//!
//! Which field is which, by format (vendor docs):
//! - HAProxy (configuration manual §8.4 "Timing events", §8.5 "Stream state
//!   at disconnection"): the server is `backend/server` (`<NOSRV>`: none was
//!   chosen, no attempt); `Tc` is the connect time and `Tr` the time to the
//!   response headers (`-1`: phase not reached). The status is the
//!   server's when the server sent headers (`Tr` ≥ 0) and the stream ended
//!   normally or on the client's side (state `-`, `C`, `c`); otherwise
//!   HAProxy may have made it (`PH`: a 502 of its own), so it is left out.
//! - Envoy: `%UPSTREAM_HOST%`; `x-envoy-upstream-service-time`, which the
//!   router sets from the upstream's response headers, as the header time.
//! - CloudFront / Cloudflare / Fastly: the origin's address when logged
//!   (`OriginIP`, `backend_name`), the origin status, and the time to the
//!   origin's response header.
//! - ALB: `target:port`, `target_status_code`, and `target_processing_time`
//!   ("from the moment the load balancer sent the request to a target until
//!   the target started to send the response headers") as the header time.
//! - Google Cloud LB: `serverIp`, and `backendLatency` (request sent to the
//!   backend until the last byte of its response) as the response time.

use crate::logs::hop::{HopRecord, Signals};
use crate::logs::record::Attempt;

/// The attempt of a hop record, its texts borrowed from the line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HopAttempt<'a> {
    /// HAProxy: the backend; the address text is then `backend/server`.
    pub backend: Option<&'a [u8]>,
    /// The server or address (`None`: not logged).
    pub addr: Option<&'a [u8]>,
    /// Status the next hop answered with, when known to be its own.
    pub status: Option<u16>,
    /// Connect time, seconds.
    pub connect_time: Option<f64>,
    /// Time to the response header, seconds.
    pub header_time: Option<f64>,
    /// Time to the end of the response, seconds.
    pub response_time: Option<f64>,
}

fn secs(ms: Option<i64>) -> Option<f64> {
    ms.filter(|v| *v >= 0).map(|v| v as f64 / 1000.0)
}

impl HopAttempt<'_> {
    /// The address as one text (`backend/server` for HAProxy).
    pub fn address(&self) -> String {
        let mut s = String::new();
        self.write_address(&mut s);
        s
    }

    /// [`HopAttempt::address`] into `out`, which is cleared first (a
    /// buffer reused from line to line allocates nothing).
    pub fn write_address(&self, out: &mut String) {
        out.clear();
        // `str::from_utf8` first: its ASCII fast path beats the lossy walk
        let mut put = |b: &[u8]| match std::str::from_utf8(b) {
            Ok(s) => out.push_str(s),
            Err(_) => out.push_str(&String::from_utf8_lossy(b)),
        };
        match (self.backend, self.addr) {
            (Some(b), Some(s)) => {
                put(b);
                put(b"/");
                put(s);
            }
            (_, Some(a)) | (Some(a), None) => put(a),
            (None, None) => {}
        }
    }

    /// Make `out` this attempt ([`HopAttempt::to_attempt`]), reusing its
    /// address buffer.
    pub fn fill(&self, out: &mut Attempt) {
        self.write_address(&mut out.addr);
        out.status = self.status;
        out.connect_time = self.connect_time;
        out.header_time = self.header_time;
        out.response_time = self.response_time;
        out.group = 0;
    }

    /// As the owned [`Attempt`] events carry.
    pub fn to_attempt(&self) -> Attempt {
        Attempt {
            addr: self.address(),
            status: self.status,
            connect_time: self.connect_time,
            header_time: self.header_time,
            response_time: self.response_time,
            group: 0,
        }
    }
}

/// The next hop `rec` forwarded to, or `None` when the line shows no
/// attempt (HAProxy `<NOSRV>`, a CDN cache hit with no origin field).
pub fn hop_attempt<'a>(rec: &HopRecord<'a>) -> Option<HopAttempt<'a>> {
    let mut a = HopAttempt {
        backend: None,
        addr: rec.upstream_addr.filter(|a| !a.is_empty() && *a != b"-"),
        status: rec.upstream_status,
        connect_time: None,
        header_time: None,
        response_time: None,
    };
    match rec.signals {
        Signals::Haproxy {
            termination,
            tc,
            tr,
            backend,
            server,
            ..
        } => {
            let server = server.filter(|s| *s != b"<NOSRV>" && !s.is_empty())?;
            a.backend = backend;
            a.addr = Some(server);
            a.connect_time = secs(tc);
            a.header_time = secs(tr);
            let ended_ok = termination
                .and_then(|t| t.first())
                .is_some_and(|c| matches!(c, b'-' | b'C' | b'c'));
            if a.status.is_none() && a.header_time.is_some() && ended_ok {
                a.status = rec.status;
            }
        }
        Signals::Envoy {
            upstream_service_ms,
            ..
        } => a.header_time = secs(upstream_service_ms),
        Signals::Cdn {
            origin_status,
            origin_header_ms,
            ..
        } => {
            a.status = a.status.or(origin_status);
            a.header_time = secs(origin_header_ms);
        }
        Signals::Cloudflare {
            origin_status,
            origin_header_ms,
            ..
        } => {
            a.status = a.status.or(origin_status);
            a.header_time = secs(origin_header_ms);
        }
        Signals::Alb {
            target_status,
            target_processing_ms,
            ..
        } => {
            a.status = a.status.or(target_status);
            a.header_time = secs(target_processing_ms);
        }
        Signals::Gcp { backend_ms, .. } => a.response_time = secs(backend_ms),
        Signals::None => {}
    }
    let any = a.addr.is_some()
        || a.status.is_some()
        || a.connect_time.is_some()
        || a.header_time.is_some()
        || a.response_time.is_some();
    any.then_some(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn haproxy<'a>(term: &'a [u8], server: &'a [u8], tr: Option<i64>) -> HopRecord<'a> {
        HopRecord {
            status: Some(502),
            signals: Signals::Haproxy {
                termination: Some(term),
                tq: Some(0),
                tw: Some(0),
                tc: Some(1),
                tr,
                ta: Some(20),
                frontend: Some(b"fe"),
                backend: Some(b"be"),
                server: Some(server),
                retries: None,
            },
            ..HopRecord::default()
        }
    }

    #[test]
    fn haproxy_server_timers_and_own_status() {
        let a = hop_attempt(&haproxy(b"----", b"s1", Some(15))).unwrap();
        assert_eq!(a.address(), "be/s1");
        assert_eq!(a.status, Some(502));
        assert_eq!(a.connect_time, Some(0.001));
        assert_eq!(a.header_time, Some(0.015));
        // PH: HAProxy's own 502, not the server's status
        let a = hop_attempt(&haproxy(b"PH--", b"s1", Some(15))).unwrap();
        assert_eq!(a.status, None);
        // SH: no headers from the server
        let a = hop_attempt(&haproxy(b"SH--", b"s1", None)).unwrap();
        assert_eq!((a.status, a.header_time), (None, None));
        assert!(hop_attempt(&haproxy(b"SC--", b"<NOSRV>", None)).is_none());
    }

    #[test]
    fn alb_target_and_nothing_logged() {
        let rec = HopRecord {
            status: Some(502),
            upstream_addr: Some(b"10.0.1.20:8080"),
            upstream_status: Some(502),
            signals: Signals::Alb {
                elb_status: Some(502),
                target_status: Some(502),
                error_reason: None,
                actions: None,
                request_processing_ms: Some(0),
                target_processing_ms: Some(1),
                response_processing_ms: Some(0),
            },
            ..HopRecord::default()
        };
        let a = hop_attempt(&rec).unwrap();
        assert_eq!(a.to_attempt().addr, "10.0.1.20:8080");
        assert_eq!((a.status, a.header_time), (Some(502), Some(0.001)));
        assert!(hop_attempt(&HopRecord::default()).is_none());
    }
}
