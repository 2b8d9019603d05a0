//! Each hop format's 5xx → one shared [`Cause`], from that format's own
//! signals. One module per format (`envoy`, `cloudfront`, …), each
//! `judge(&HopRecord, &mut Evidence) -> Cause`, and one line in
//! [`judge_of`] ([`classify`] gives a format's [`Verdict`]); a format without a module
//! gets [`generic`], which only trusts the fields every hop record has and
//! says what it lacked. The evidence quotes the field a verdict rests on
//! (`response_flags=UF: upstream connection failure`); an `unknown` says
//! which field the format lacked or what the value leaves open.
//!
//! The evidence is written only when someone reads it ([`Evidence`]): the
//! hop pass judges every 5xx with [`Evidence::off`] and writes the text for
//! the first example of each cause and for the events it keeps. A judge
//! only writes to its `Evidence` and never reads it, so the cause is the
//! same either way.

pub mod alb;
pub mod cloudflare;
pub mod cloudfront;
pub mod envoy;
pub mod fastly;
pub mod gcp_lb;
pub mod haproxy;

use std::fmt;

use super::cause::{Cause, Verdict};
use crate::logs::hop::HopRecord;

/// A per-format classifier: the cause of one 5xx, its evidence written to
/// the [`Evidence`] given (kept or not, as the caller chose).
pub type Judge = fn(&HopRecord<'_>, &mut Evidence) -> Cause;

/// Each format's classifier, by the format's registered name.
const JUDGES: &[(&str, Judge)] = &[
    ("haproxy", haproxy::judge),
    ("envoy", envoy::judge),
    ("cloudfront", cloudfront::judge),
    ("alb", alb::judge),
    ("cloudflare", cloudflare::judge),
    ("fastly", fastly::judge),
    ("gcp_lb", gcp_lb::judge),
];

/// The classifier of the format registered as `name` (`logs::formats`).
pub fn judge_of(name: &str) -> Judge {
    JUDGES
        .iter()
        .find(|(n, _)| *n == name)
        .map_or(generic as Judge, |(_, c)| *c)
}

/// The verdict of the format registered as `format` on `rec`, its evidence
/// written out.
pub fn classify(format: &str, rec: &HopRecord<'_>) -> Verdict {
    verdict_of(judge_of(format), rec)
}

/// Judge `rec` with its evidence written out.
pub fn verdict_of(judge: Judge, rec: &HopRecord<'_>) -> Verdict {
    let mut ev = Evidence::on();
    let cause = judge(rec, &mut ev);
    Verdict {
        cause,
        evidence: ev.into_lines(),
    }
}

/// Where a classifier writes its evidence: kept as lines ([`Evidence::on`]),
/// or dropped unformatted ([`Evidence::off`]: the hop pass judges every 5xx,
/// and formatting the text of each cost more than the judging; the report
/// shows one example per cause).
#[derive(Debug, Default)]
pub struct Evidence(Option<Vec<String>>);

impl Evidence {
    /// Evidence that keeps what is written.
    pub fn on() -> Evidence {
        Evidence(Some(Vec::new()))
    }

    /// Evidence that drops what is written, without formatting it.
    pub fn off() -> Evidence {
        Evidence(None)
    }

    /// A line formatted from `args` (`format_args!`), formatted only when kept.
    #[inline]
    pub fn add(&mut self, args: fmt::Arguments<'_>) {
        if let Some(v) = &mut self.0 {
            v.push(fmt::format(args));
        }
    }

    /// A line of fixed text.
    #[inline]
    pub fn text(&mut self, s: &str) {
        if let Some(v) = &mut self.0 {
            v.push(s.to_owned());
        }
    }

    /// `name=value`, the value shown lossily if not UTF-8.
    #[inline]
    pub fn field(&mut self, name: &str, value: &[u8]) {
        self.add(format_args!("{name}={}", Lossy(value)));
    }

    /// The lines kept (none when off).
    pub fn into_lines(self) -> Vec<String> {
        self.0.unwrap_or_default()
    }
}

/// Bytes shown as text, lossily if not UTF-8. Read only when formatted
/// (`format_args!` evaluates its arguments whether the text is kept or not).
pub(crate) struct Lossy<'a>(pub &'a [u8]);

impl fmt::Display for Lossy<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(self.0))
    }
}

/// For a format with no classifier of its own: passthrough when the hop
/// logged the next hop's status and it matches, else `unknown`.
pub fn generic(rec: &HopRecord<'_>, ev: &mut Evidence) -> Cause {
    match (rec.status, rec.upstream_status) {
        (Some(s), Some(u)) if s == u => {
            ev.add(format_args!(
                "status {s} = the next hop's status {u}: the next hop answered it"
            ));
            Cause::Passthrough
        }
        _ => {
            ev.text(
                "gatecheck does not yet read this format's failure signals (no classifier for it)",
            );
            Cause::Unknown
        }
    }
}

/// Evidence of the common fields that help a reader find the request.
pub(crate) fn context(rec: &HopRecord<'_>, ev: &mut Evidence) {
    if let Some(a) = rec.upstream_addr {
        ev.field("upstream", a);
    }
    if let Some(id) = rec.request_id {
        ev.field("request_id", id);
    }
}

/// Test helper: every documented example line of a format is detected from
/// itself, parses, and gets the cause and the evidence fragment it names;
/// judged with the evidence off, it gets the same cause and no text.
#[cfg(test)]
pub(crate) fn check_examples(
    fmt: &dyn crate::logs::hop::HopFormat,
    examples: &[crate::logs::hop::HopExample],
    judge: Judge,
) {
    for ex in examples {
        let (p, _) = fmt.detect(&[ex.line.as_bytes()]).expect(ex.title);
        let r = p.parse_line(ex.line.as_bytes()).expect(ex.title);
        let v = verdict_of(judge, &r);
        assert_eq!(v.cause.id(), ex.cause, "{}: {:?}", ex.title, v.evidence);
        let mut off = Evidence::off();
        assert_eq!(judge(&r, &mut off), v.cause, "{}", ex.title);
        assert!(off.into_lines().is_empty());
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
        let mut ev = Evidence::on();
        ev.field("a", b"x\xffy");
        ev.text("why");
        assert_eq!(ev.into_lines(), ["a=x\u{fffd}y", "why"]);
        let mut off = Evidence::off();
        off.field("a", b"x");
        off.add(format_args!("{}", 1));
        assert!(off.into_lines().is_empty());
    }

    #[test]
    fn every_registered_format_has_its_classifier() {
        for f in crate::logs::formats::hop_formats() {
            assert!(
                JUDGES.iter().any(|(n, _)| *n == f.name()),
                "{} has no classifier",
                f.name()
            );
        }
    }
}
