//! Which kind of log a file holds, from its first lines, with the reason.

use super::hop::{HopFormat, HopParser};
use super::nginx::{LogFormat, TimeCache};
use super::{lines, nginx_error};

/// Lines sampled from the start of a file.
pub const SAMPLE_LINES: usize = 50;

/// What a file was recognised as.
#[derive(Debug, Clone)]
pub enum Kind {
    /// An nginx access log in the format at this index of the candidates.
    Access(usize),
    /// An nginx error log.
    Error,
    /// A proxy config found among the logs (read as config, not as a log).
    Config,
    /// A hop log (HAProxy, Envoy, a CDN, a load balancer): the format at
    /// this index of [`super::formats::hop_formats`].
    Hop(usize),
    /// Nothing gatecheck knows.
    Unknown,
}

/// The verdict for one file and why.
#[derive(Debug, Clone)]
pub struct Detection {
    /// The kind.
    pub kind: Kind,
    /// Why, in words, for `--verbose` and the report.
    pub reason: String,
}

/// Decide from the first bytes of a file (`head`) which of `formats` (most
/// specific first) parses its lines, or whether it is an error log.
pub fn detect(head: &[u8], formats: &[LogFormat]) -> Detection {
    let sample: Vec<&[u8]> = lines(head)
        .filter(|l| !l.iter().all(|c| c.is_ascii_whitespace()))
        .take(SAMPLE_LINES)
        .collect();
    // the last sampled line may be cut by the end of `head`
    let sample = if sample.len() > 1 && !head.ends_with(b"\n") {
        &sample[..sample.len() - 1]
    } else {
        &sample[..]
    };
    if sample.is_empty() {
        return Detection {
            kind: Kind::Unknown,
            reason: "no lines".into(),
        };
    }
    let need = sample.len().div_ceil(2);
    let err_lines = sample.iter().filter(|l| nginx_error::looks_like(l)).count();
    if err_lines >= need {
        return Detection {
            kind: Kind::Error,
            reason: format!(
                "{err_lines} of the first {} lines start like nginx error-log lines (`YYYY/MM/DD HH:MM:SS [level]`)",
                sample.len()
            ),
        };
    }
    let mut cache = TimeCache::default();
    for (i, f) in formats.iter().enumerate() {
        let ok = sample
            .iter()
            .filter(|l| f.parse(l, &mut cache).is_ok())
            .count();
        if ok >= need {
            return Detection {
                kind: Kind::Access(i),
                reason: format!(
                    "{ok} of the first {} lines parse with log_format {:?}",
                    sample.len(),
                    f.name
                ),
            };
        }
    }
    let first = String::from_utf8_lossy(&sample[0][..sample[0].len().min(120)]).into_owned();
    Detection {
        kind: Kind::Unknown,
        reason: format!(
            "no known format parses its first lines (first line: {first:?}); give the format with --log-format or --config"
        ),
    }
}

/// The first lines of `head` that detection looks at: non-blank, at most
/// [`SAMPLE_LINES`], without a last line cut by the end of `head`.
pub fn head_lines(head: &[u8]) -> Vec<&[u8]> {
    let mut sample: Vec<&[u8]> = lines(head)
        .filter(|l| !l.iter().all(|c| c.is_ascii_whitespace()))
        .take(SAMPLE_LINES + 1)
        .collect();
    let cut = !head.ends_with(b"\n") && sample.len() <= SAMPLE_LINES;
    if sample.len() > 1 && cut {
        sample.pop();
    }
    sample.truncate(SAMPLE_LINES);
    sample
}

/// Which hop format (of `formats`, tried in order) reads `head`: its index,
/// a parser for the file and the reason.
pub fn detect_hop(
    head: &[u8],
    formats: &[&'static dyn HopFormat],
) -> Option<(usize, Box<dyn HopParser>, String)> {
    let sample = head_lines(head);
    if sample.is_empty() {
        return None;
    }
    formats
        .iter()
        .enumerate()
        .find_map(|(i, f)| f.detect(&sample).map(|(p, why)| (i, p, why)))
}

/// For a file no hop format reads: what the formats that it looks like say
/// about it (a CloudFront log whose `#Fields:` line was cut), joined.
pub fn hop_near_miss(head: &[u8], formats: &[&'static dyn HopFormat]) -> Option<String> {
    let sample = head_lines(head);
    let why: Vec<String> = formats
        .iter()
        .filter_map(|f| f.near_miss(&sample).map(|w| format!("{}: {w}", f.name())))
        .collect();
    (!why.is_empty()).then(|| why.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::nginx::builtin_formats;

    #[test]
    fn detects_each_kind() {
        let f = builtin_formats();
        let err =
            b"2026/11/20 14:03:07 [error] 1#1: *5 connect() failed (111: Connection refused)\n";
        assert!(matches!(detect(err, &f).kind, Kind::Error));
        let comb =
            b"1.2.3.4 - - [20/Nov/2026:14:03:07 +0100] \"GET / HTTP/1.1\" 200 5 \"-\" \"ua\"\n";
        match detect(comb, &f).kind {
            Kind::Access(i) => assert_eq!(f[i].name, "combined"),
            k => panic!("{k:?}"),
        }
        let up = b"1.2.3.4 - - [20/Nov/2026:14:03:07 +0100] \"GET / HTTP/1.1\" 200 5 \"-\" \"ua\" rt=0.001 uct=\"0.000\" uht=\"0.001\" urt=\"0.001\" ua=\"10.0.0.1:80\" us=\"200\"\n";
        match detect(up, &f).kind {
            Kind::Access(i) => assert_eq!(f[i].name, "upstream_timing"),
            k => panic!("{k:?}"),
        }
        let junk = b"\x00\x01\x02 binary\nmore junk\n";
        let d = detect(junk, &f);
        assert!(matches!(d.kind, Kind::Unknown));
        assert!(d.reason.contains("--log-format"));
    }
}
