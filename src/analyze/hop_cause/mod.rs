//! Each hop format's 5xx → one shared [`Cause`], from
//! that format's own signals. One module per format, one line in
//! [`classifier`]; a format without a module gets [`generic`], which only
//! trusts the fields every hop record has and says what it lacked.

pub mod haproxy;

use super::cause::{Cause, Verdict};
use crate::logs::hop::HopRecord;

/// A per-format classifier.
pub type Classify = fn(&HopRecord<'_>) -> Verdict;

/// The classifier of the format registered as `name` (`logs::formats`).
pub fn classifier(name: &str) -> Classify {
    match name {
        "haproxy" => haproxy::classify,
        _ => generic,
    }
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
