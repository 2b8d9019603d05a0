//! Responses cut after their header: the upstream closed, reset or timed
//! out (or broke its chunked encoding) while nginx was passing the body on.
//! The client had the status already, so nginx logs it as sent (a 200 with
//! a short `$body_bytes_sent`) and writes an error line of the body phase:
//! `upstream prematurely closed connection while reading upstream` (seen
//! with a real nginx 1.22, for a `Content-Length` body and for a chunked
//! one alike). They are no 5xx and have no cause among the 5xx causes, but
//! each client got a broken body: counted here, with examples.
//!
//! Found in the access pass, only for lines answered below 500 whose
//! second (on the error log's clock) is within [`join::SLACK_S`] of such an
//! error line: the hot loop pays one `is_empty` test per line when the
//! error logs hold none.

use std::ops::AddAssign;

use super::access::Ctx;
use super::cause::{self, ErrorRef};
use super::event_json;
use super::join::{self, request_text, Probe};
use crate::logs::nginx::{Resume, TimeCache};
use crate::logs::record::Record;

/// Examples kept (the first by file and line).
pub const MAX_EXAMPLES: usize = 5;

/// The responses cut after their header (`cut_responses` in JSON, present
/// only when there are some).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Cut {
    /// How many.
    pub count: u64,
    /// The first [`MAX_EXAMPLES`], by file and line.
    pub examples: Vec<CutExample>,
}

/// One cut response: the access line and the error line joined to it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CutExample {
    /// The access log as shown.
    pub file: String,
    /// Its input index (for ordering).
    #[serde(skip)]
    pub file_index: u32,
    /// 1-based line.
    pub line: u64,
    /// `GET /x → 200`.
    pub request: String,
    /// The status the client got.
    pub status: u16,
    /// The error line: `error.log:12: [error] upstream prematurely closed
    /// connection while reading upstream, upstream: 10.0.0.1:80`.
    pub error: String,
}

impl Cut {
    /// None were cut.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The report's line: `2 responses cut after the header: …`.
    pub fn headline(&self) -> String {
        format!(
            "{} response{} cut after the header (the upstream closed, reset or broke the body after nginx had sent the status: the client got its status, then a broken body; not 5xx)",
            self.count,
            if self.count == 1 { "" } else { "s" }
        )
    }

    /// One example as a line: `access.log:5 GET /x → 200: error.log:2: …`.
    pub fn example_line(e: &CutExample) -> String {
        format!("{}:{} {}: {}", e.file, e.line, e.request, e.error)
    }

    /// Count one; keep it as an example while there are fewer than
    /// [`MAX_EXAMPLES`] (a chunk's lines come in order).
    fn see(&mut self, ex: impl FnOnce() -> CutExample) {
        self.count += 1;
        if self.examples.len() < MAX_EXAMPLES {
            self.examples.push(ex());
        }
    }
}

impl AddAssign for Cut {
    fn add_assign(&mut self, o: Cut) {
        self.count += o.count;
        self.examples.extend(o.examples);
        self.examples.sort_by_key(|e| (e.file_index, e.line));
        self.examples.truncate(MAX_EXAMPLES);
    }
}

/// The access line `line` (its summary in `rec`, the rest from `at`),
/// answered below 500 at `t`: counted in `cut` when an error line of the
/// body phase belongs to it.
// kept out of the hot loop's code: called for a few lines of a few logs
#[cold]
#[inline(never)]
#[allow(clippy::too_many_arguments)]
pub(super) fn probe<'a>(
    line: &'a [u8],
    rec: &Record<'a>,
    at: Resume,
    cache: &mut TimeCache,
    t: crate::logs::scan::LogTime,
    n: u64,
    ctx: &Ctx<'_>,
    cut: &mut Cut,
) {
    let ls = join::error_log_secs(t, ctx.opts);
    if !ctx.index.body_phase_near(ls) {
        return;
    }
    let mut full = *rec;
    if ctx.fmt.complete(line, &mut full, at, cache).is_err() {
        return;
    }
    full.split_request();
    let esc = ctx.fmt.escape;
    let client = full.client.map(|b| event_json::text(b, esc));
    let request = request_text(&full, esc);
    let found = ctx.index.find(&Probe {
        local_secs: ls,
        request_time_ms: full.request_time_ms(),
        client: client.as_deref(),
        request: request.as_deref(),
        connection: full.connection,
        sans_query: ctx.fmt.path_without_query(),
        any_client: ctx.opts.join_any_client,
    });
    // the body failed as the response ended, and nginx logs the request
    // right after: the line's second is the access line's, give or take
    let Some(e) = found
        .iter()
        .rev()
        .find(|e| cause::after_header(e) && (e.local_secs - ls).abs() <= join::SLACK_S)
    else {
        return;
    };
    let status = full.status.unwrap_or(0);
    cut.see(|| {
        let text = |v: Option<&'a [u8]>| v.map(|b| event_json::text(b, esc).into_owned());
        let file = ctx
            .names
            .get(e.file as usize)
            .map_or("error.log", |s| s.as_str());
        let r = ErrorRef { line: e, file };
        CutExample {
            file: ctx.display.to_string(),
            file_index: ctx.file,
            line: n,
            request: format!(
                "{} {} → {status}",
                text(full.method).as_deref().unwrap_or("-"),
                text(full.path).as_deref().unwrap_or("-"),
            ),
            status,
            error: cause::error_evidence(r.file, r.line),
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(file_index: u32, line: u64) -> CutExample {
        CutExample {
            file: format!("f{file_index}"),
            file_index,
            line,
            request: "GET / → 200".into(),
            status: 200,
            error: String::new(),
        }
    }

    /// Merged in any order, the examples are the first by file and line.
    #[test]
    fn merged_examples_are_the_first_by_file_and_line() {
        let mut a = Cut::default();
        for l in [40, 41, 42] {
            a.see(|| ex(1, l));
        }
        let mut b = Cut::default();
        for l in [1, 2, 3, 4, 5, 6] {
            b.see(|| ex(0, l));
        }
        assert_eq!(b.count, 6);
        assert_eq!(b.examples.len(), MAX_EXAMPLES);
        let mut ab = a.clone();
        ab += b.clone();
        let mut ba = b;
        ba += a;
        assert_eq!(ab, ba);
        assert_eq!(ab.count, 9);
        let at: Vec<(u32, u64)> = ab.examples.iter().map(|e| (e.file_index, e.line)).collect();
        assert_eq!(at, vec![(0, 1), (0, 2), (0, 3), (0, 4), (0, 5)]);
    }
}
