//! Each hop format's own signals → the shared [`Cause`]s, one module per
//! format (`envoy`, `cloudfront`, …), each `classify(&HopRecord) -> Verdict`.
//! The evidence quotes the field a verdict rests on
//! (`response_flags=UF: upstream connection failure`); an `unknown` says
//! which field the format lacked or what the value leaves open.

use crate::analyze::cause::{Cause, Verdict};

pub mod alb;
pub mod cloudflare;
pub mod cloudfront;
pub mod envoy;
pub mod fastly;
pub mod gcp_lb;

/// A verdict with its evidence.
pub(crate) fn verdict(cause: Cause, evidence: Vec<String>) -> Verdict {
    Verdict { cause, evidence }
}

/// `name=value` for evidence, the value shown lossily if not UTF-8.
pub(crate) fn field(name: &str, value: &[u8]) -> String {
    format!("{name}={}", String::from_utf8_lossy(value))
}

/// Evidence of the common fields that help a reader find the request.
pub(crate) fn context(rec: &crate::logs::hop::HopRecord<'_>, ev: &mut Vec<String>) {
    if let Some(a) = rec.upstream_addr {
        ev.push(field("upstream", a));
    }
    if let Some(id) = rec.request_id {
        ev.push(field("request_id", id));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_renders_non_utf8_lossily() {
        assert_eq!(field("a", b"x\xffy"), "a=x\u{fffd}y");
        let v = verdict(Cause::Unknown, vec!["why".into()]);
        assert_eq!(v.cause, Cause::Unknown);
    }
}
