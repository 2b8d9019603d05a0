//! The error-log pass: every upstream error line of the error logs, with the
//! time span the logs cover, for the join.

use super::inputs::{for_chunks, Loaded};
use super::stats::{self, Sample};
use super::Options;
use crate::input::Problem;
use crate::logs::lines;
use crate::logs::nginx_error::{self, ErrorLine, Parsed};

pub(super) struct ErrorLogResult {
    pub(super) lines_kept: Vec<ErrorLine>,
    pub(super) span: Option<(i64, i64)>,
    pub(super) lines: u64,
    pub(super) malformed: u64,
    pub(super) samples: Vec<Sample>,
}

pub(super) fn parse_error_log(
    l: &mut Loaded,
    opts: &Options,
    problems: &mut Vec<Problem>,
) -> ErrorLogResult {
    let file = l.index;
    let (wrap, mixed) = (l.wrap, l.mixed);
    let display = l.input.display.clone();
    let mut out = ErrorLogResult {
        lines_kept: Vec::new(),
        span: None,
        lines: 0,
        malformed: 0,
        samples: Vec::new(),
    };
    let mut base = 0;
    let mut add = |mut r: ErrorLogResult, n: u64| {
        for e in &mut r.lines_kept {
            e.line += base;
        }
        for s in &mut r.samples {
            s.line += base;
        }
        base += n;
        out.lines_kept.extend(r.lines_kept);
        out.lines += r.lines;
        out.malformed += r.malformed;
        if let Some((a, b)) = r.span {
            out.span = Some(out.span.map_or((a, b), |(x, y)| (x.min(a), y.max(b))));
        }
        for s in r.samples {
            if out.samples.len() < stats::MALFORMED_SAMPLES {
                out.samples.push(s);
            }
        }
    };
    let parse = |chunk: &[u8]| {
        let mut r = ErrorLogResult {
            lines_kept: Vec::new(),
            span: None,
            lines: 0,
            malformed: 0,
            samples: Vec::new(),
        };
        let mut n = 0u64;
        let mut buf = Vec::new();
        for raw in lines(chunk) {
            n += 1;
            if raw.iter().all(|c| c.is_ascii_whitespace()) {
                continue;
            }
            let peeled = wrap.peel(raw, &mut buf);
            if mixed && !peeled.is_some_and(nginx_error::looks_like) {
                // an access line (the access pass reads it) or not ours
                continue;
            }
            r.lines += 1;
            let Some(line) = peeled else {
                r.malformed += 1;
                if r.samples.len() < stats::MALFORMED_SAMPLES {
                    let why = format!("not a {} line", wrap.name());
                    r.samples.push(sample(&display, n, &why, raw));
                }
                continue;
            };
            let t = if line.len() >= 19 {
                crate::logs::scan::parse_error_log_time(&line[..19])
            } else {
                None
            };
            if let Some(t) = t {
                r.span = Some(r.span.map_or((t, t), |(a, b)| (a.min(t), b.max(t))));
            }
            match nginx_error::parse(line, file, n) {
                Parsed::Upstream(e) => r.lines_kept.push(e),
                Parsed::Other => {}
                Parsed::Malformed => {
                    r.malformed += 1;
                    if r.samples.len() < stats::MALFORMED_SAMPLES {
                        r.samples
                            .push(sample(&display, n, "not an nginx error-log line", line));
                    }
                }
            }
        }
        (r, n)
    };
    for_chunks(l, opts, problems, &parse, &mut add);
    out
}

pub(super) fn sample(file: &str, line: u64, reason: &str, text: &[u8]) -> Sample {
    let cut = &text[..text.len().min(stats::SAMPLE_CHARS)];
    let mut t = String::from_utf8_lossy(cut).into_owned();
    if text.len() > stats::SAMPLE_CHARS {
        t.push_str(&format!("… ({} bytes)", text.len()));
    }
    Sample {
        file: file.to_string(),
        line,
        reason: reason.to_string(),
        text: t,
    }
}

/// What the error-log stage hands on: the index the access pass joins
/// against, the error logs' input summaries and their malformed samples.
pub(super) struct ErrorPass {
    pub(super) index: super::join::ErrorIndex,
    pub(super) inputs: Vec<super::report::InputSummary>,
    pub(super) samples: Vec<Sample>,
    /// Upstream error lines of files read as both access and error log, by
    /// display name (their Inputs row is the access log's).
    pub(super) mixed: Vec<(String, u64)>,
}

/// The error-log stage: parse every nginx error log of the plan.
pub(super) fn error_pass(plan: &mut super::plan::Plan, opts: &Options) -> ErrorPass {
    use super::kind::InputKind;
    let mut error_lines = Vec::new();
    let mut error_span: Option<(i64, i64)> = None;
    let mut inputs = Vec::new();
    let mut samples = Vec::new();
    let mut mixed = Vec::new();
    for l in plan
        .loaded
        .iter_mut()
        .filter(|l| matches!(l.kind, crate::logs::detect::Kind::Error) || l.mixed)
    {
        let r = parse_error_log(l, opts, &mut plan.problems);
        if let Some((a, b)) = r.span {
            error_span = Some(error_span.map_or((a, b), |(x, y)| (x.min(a), y.max(b))));
        }
        if l.mixed {
            // one file, read as both: reported once, as an access log
            mixed.push((l.input.display.clone(), r.lines_kept.len() as u64));
            error_lines.extend(r.lines_kept);
            samples.extend(r.samples);
            continue;
        }
        inputs.push(super::report::InputSummary::new(
            l.input.display.clone(),
            InputKind::NginxError,
            None,
            l.reason.clone(),
            r.lines,
            r.malformed,
            r.lines_kept.len() as u64,
        ));
        error_lines.extend(r.lines_kept);
        samples.extend(r.samples);
    }
    ErrorPass {
        index: super::join::ErrorIndex::new(error_lines, error_span, plan.names.clone()),
        inputs,
        samples,
        mixed,
    }
}
