//! The error-log pass: every upstream error line of the error logs, with the
//! time span the logs cover, for the join.

use super::inputs::Loaded;
use super::schedule::for_each_chunk;
use super::stats::{self, Sample};
use super::Options;
use crate::logs::lines;
use crate::logs::nginx_error::{self, ErrorLine, Parsed};

pub(super) struct ErrorLogResult {
    pub(super) lines_kept: Vec<ErrorLine>,
    pub(super) span: Option<(i64, i64)>,
    pub(super) lines: u64,
    pub(super) malformed: u64,
    pub(super) samples: Vec<Sample>,
}

/// What the lines of one error log are read with.
struct ErrCtx {
    file: u32,
    wrap: crate::logs::wrap::Wrap,
    mixed: bool,
    display: String,
}

impl ErrorLogResult {
    fn new() -> Self {
        ErrorLogResult {
            lines_kept: Vec::new(),
            span: None,
            lines: 0,
            malformed: 0,
            samples: Vec::new(),
        }
    }

    /// Add the next chunk's result, whose line numbers start after `base`.
    fn add(&mut self, mut r: ErrorLogResult, base: u64) {
        for e in &mut r.lines_kept {
            e.line += base;
        }
        for s in &mut r.samples {
            s.line += base;
        }
        self.lines_kept.extend(r.lines_kept);
        self.lines += r.lines;
        self.malformed += r.malformed;
        if let Some((a, b)) = r.span {
            self.span = Some(self.span.map_or((a, b), |(x, y)| (x.min(a), y.max(b))));
        }
        for s in r.samples {
            if self.samples.len() < stats::MALFORMED_SAMPLES {
                self.samples.push(s);
            }
        }
    }
}

/// One chunk of an error log.
fn parse_error_chunk(chunk: &[u8], ctx: &ErrCtx) -> (ErrorLogResult, u64) {
    let (wrap, mixed, display, file) = (ctx.wrap, ctx.mixed, &ctx.display, ctx.file);
    // Docker json-file: decoded at once; Docker and CRI: a line cut at
    // 16 KiB joined again on its first line (`wrap::docker_chunk`,
    // `wrap::cri_chunk`)
    use crate::logs::wrap::{cri_chunk, docker_chunk, Wrap};
    let decoded: std::borrow::Cow<'_, [u8]>;
    let (chunk, wrap) = match wrap {
        Wrap::Docker => {
            decoded = docker_chunk(chunk).into();
            (&decoded[..], Wrap::None)
        }
        Wrap::Cri => {
            decoded = cri_chunk(chunk);
            (&decoded[..], Wrap::Cri)
        }
        w => (chunk, w),
    };
    let mut r = ErrorLogResult::new();
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
                r.samples.push(sample(display, n, &why, raw));
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
                        .push(sample(display, n, "not an nginx error-log line", line));
                }
            }
        }
    }
    (r, n)
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

/// The error-log stage: parse every nginx error log of the plan (all files
/// at once, results taken in input order).
pub(super) fn error_pass(plan: &mut super::plan::Plan, opts: &Options) -> ErrorPass {
    use super::kind::InputKind;
    let mut error_lines = Vec::new();
    let mut error_span: Option<(i64, i64)> = None;
    let mut inputs = Vec::new();
    let mut samples = Vec::new();
    let mut mixed = Vec::new();
    let mut files: Vec<&mut Loaded> = plan
        .loaded
        .iter_mut()
        .filter(|l| matches!(l.kind, crate::logs::detect::Kind::Error) || l.mixed)
        .collect();
    let ctxs: Vec<ErrCtx> = files
        .iter()
        .map(|l| ErrCtx {
            file: l.index,
            wrap: l.wrap,
            mixed: l.mixed,
            display: l.input.display.clone(),
        })
        .collect();
    let about: Vec<(String, String, bool)> = files
        .iter()
        .map(|l| (l.input.display.clone(), l.reason.clone(), l.mixed))
        .collect();
    let mut cur = ErrorLogResult::new();
    let mut base = 0u64;
    let parse = |i: usize, chunk: &[u8]| parse_error_chunk(chunk, &ctxs[i]);
    for_each_chunk(
        &mut files,
        opts,
        &mut plan.problems,
        &parse,
        &mut |i, part| {
            if let Some((r, n)) = part {
                cur.add(r, base);
                base += n;
                return;
            }
            // the file's last chunk was handed out
            let r = std::mem::replace(&mut cur, ErrorLogResult::new());
            base = 0;
            if let Some((a, b)) = r.span {
                error_span = Some(error_span.map_or((a, b), |(x, y)| (x.min(a), y.max(b))));
            }
            let (display, reason, is_mixed) = &about[i];
            if *is_mixed {
                // one file, read as both: reported once, as an access log
                mixed.push((display.clone(), r.lines_kept.len() as u64));
            } else {
                inputs.push(super::report::InputSummary::new(
                    display.clone(),
                    InputKind::NginxError,
                    None,
                    reason.clone(),
                    r.lines,
                    r.malformed,
                    r.lines_kept.len() as u64,
                ));
            }
            error_lines.extend(r.lines_kept);
            samples.extend(r.samples);
        },
    );
    ErrorPass {
        index: super::join::ErrorIndex::new(error_lines, error_span, plan.names.clone()),
        inputs,
        samples,
        mixed,
    }
}
