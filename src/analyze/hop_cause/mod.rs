//! Each hop format's 5xx → one shared [`Cause`], from that format's own
//! signals. One module per format (`envoy`, `cloudfront`, …), each
//! `classify(&HopRecord) -> Verdict`, and one line in
//! [`classifier`]; a format without a module gets [`generic`], which only
//! trusts the fields every hop record has and says what it lacked. The
//! evidence quotes the field a verdict rests on
//! (`response_flags=UF: upstream connection failure`); an `unknown` says
//! which field the format lacked or what the value leaves open.

pub mod alb;
pub mod cloudflare;
pub mod cloudfront;
pub mod envoy;
pub mod fastly;
pub mod gcp_lb;
pub mod haproxy;

use super::cause::{Cause, Verdict};
use crate::logs::hop::HopRecord;

/// A per-format classifier.
pub type Classify = fn(&HopRecord<'_>) -> Verdict;

/// Each format's classifier, by the format's registered name.
const CLASSIFIERS: &[(&str, Classify)] = &[
    ("haproxy", haproxy::classify),
    ("envoy", envoy::classify),
    ("cloudfront", cloudfront::classify),
    ("alb", alb::classify),
    ("cloudflare", cloudflare::classify),
    ("fastly", fastly::classify),
    ("gcp_lb", gcp_lb::classify),
];

/// The classifier of the format registered as `name` (`logs::formats`).
pub fn classifier(name: &str) -> Classify {
    CLASSIFIERS
        .iter()
        .find(|(n, _)| *n == name)
        .map_or(generic as Classify, |(_, c)| *c)
}

/// For a format with no classifier of its own: passthrough when the hop
/// logged the next hop's status and it matches, else `unknown`.
pub fn generic(rec: &HopRecord<'_>) -> Verdict {
    match (rec.status, rec.upstream_status) {
        (Some(s), Some(u)) if s == u => Verdict {
            cause: Cause::Passthrough,
            evidence: vec![format!(
                "status {s} = the next hop's status {u}: the next hop answered it"
            )],
        },
        _ => Verdict {
            cause: Cause::Unknown,
            evidence: vec![
                "gatecheck does not yet read this format's failure signals (no classifier for it)"
                    .into(),
            ],
        },
    }
}

/// A verdict with its evidence.
pub(crate) fn verdict(cause: Cause, evidence: Vec<String>) -> Verdict {
    Verdict { cause, evidence }
}

/// `name=value` for evidence, the value shown lossily if not UTF-8.
pub(crate) fn field(name: &str, value: &[u8]) -> String {
    format!("{name}={}", String::from_utf8_lossy(value))
}

/// Evidence of the common fields that help a reader find the request.
pub(crate) fn context(rec: &HopRecord<'_>, ev: &mut Vec<String>) {
    if let Some(a) = rec.upstream_addr {
        ev.push(field("upstream", a));
    }
    if let Some(id) = rec.request_id {
        ev.push(field("request_id", id));
    }
}

/// Test helper: every documented example line of a format is detected from
/// itself, parses, and gets the cause and the evidence fragment it names.
#[cfg(test)]
pub(crate) fn check_examples(
    fmt: &dyn crate::logs::hop::HopFormat,
    examples: &[crate::logs::hop::HopExample],
    classify: fn(&crate::logs::hop::HopRecord<'_>) -> super::cause::Verdict,
) {
    for ex in examples {
        let (p, _) = fmt.detect(&[ex.line.as_bytes()]).expect(ex.title);
        let r = p.parse_line(ex.line.as_bytes()).expect(ex.title);
        let v = classify(&r);
        assert_eq!(v.cause.id(), ex.cause, "{}: {:?}", ex.title, v.evidence);
        assert!(
            v.evidence.iter().any(|e| e.contains(ex.evidence)),
            "{}: {:?}",
            ex.title,
            v.evidence
        );
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

    #[test]
    fn every_registered_format_has_its_classifier() {
        for f in crate::logs::formats::hop_formats() {
            assert!(
                CLASSIFIERS.iter().any(|(n, _)| *n == f.name()),
                "{} has no classifier",
                f.name()
            );
        }
    }
}
