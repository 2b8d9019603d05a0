//! nginx access logs: a `log_format` string compiled into a fast extractor.
//!
//! Reference: <https://nginx.org/en/docs/http/ngx_http_log_module.html#log_format>.
//! The format is literal text with `$variable`s in it. [`LogFormat::compile`]
//! turns it into a list of literals and fields, and that list into the ops
//! the walks run (what to do with each field decided once, not per line);
//! [`LogFormat::parse`] walks a line, taking each field up to the next
//! literal. No regex, no allocation per line. With `escape=default` nginx writes `"`, `\` and bytes
//! outside printable ASCII as `\xXX`, so a quoted field never contains a raw
//! `"` and the next literal is a safe delimiter. A variable with no value is
//! logged as `-`, which becomes `None`.

use super::record::Record;
use super::scan::{self, LogTime};
use crate::error::Error;

/// How nginx escaped variable values (`log_format … escape=…`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Escape {
    /// `"`, `\`, control and non-ASCII bytes as `\xXX`.
    #[default]
    Default,
    /// JSON string escapes.
    Json,
    /// Raw bytes.
    None,
}

impl Escape {
    /// Split a leading `escape=default|json|none` (as in nginx's
    /// `log_format name escape=json '…'`) off a format given on the
    /// command line: the escape mode and the format text after it.
    pub fn split(text: &str) -> Result<(Option<Escape>, &str), String> {
        let t = text.trim_start();
        let Some(rest) = t.strip_prefix("escape=") else {
            return Ok((None, text));
        };
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let esc = match &rest[..end] {
            "default" => Escape::Default,
            "json" => Escape::Json,
            "none" => Escape::None,
            other => {
                return Err(format!(
                    "escape={other}: nginx knows escape=default, escape=json and escape=none"
                ))
            }
        };
        Ok((Some(esc), rest[end..].trim_start()))
    }
}

/// nginx's predefined `combined` format (`ngx_http_log_module.c`).
pub const COMBINED: &str = r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent""#;

/// The variables gatecheck reads; every other variable is skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    RemoteAddr,
    TimeLocal,
    TimeIso8601,
    Msec,
    Request,
    Method,
    Uri,
    /// `$uri` / `$document_uri`: the path without its query string.
    UriNoArgs,
    /// `$args` / `$query_string`.
    Args,
    Protocol,
    Status,
    Host,
    RequestTime,
    UpstreamAddr,
    UpstreamStatus,
    UpstreamConnectTime,
    UpstreamHeaderTime,
    UpstreamResponseTime,
    UpstreamBytesReceived,
    UpstreamResponseLength,
    RequestId,
    Connection,
    Skip,
}

impl Field {
    fn from_name(name: &str) -> Field {
        match name {
            "remote_addr" | "realip_remote_addr" | "binary_remote_addr" => Field::RemoteAddr,
            "time_local" => Field::TimeLocal,
            "time_iso8601" => Field::TimeIso8601,
            "msec" => Field::Msec,
            "request" => Field::Request,
            "request_method" => Field::Method,
            "request_uri" => Field::Uri,
            "uri" | "document_uri" => Field::UriNoArgs,
            "args" | "query_string" => Field::Args,
            "server_protocol" => Field::Protocol,
            "status" => Field::Status,
            "host" | "http_host" | "server_name" => Field::Host,
            "request_time" => Field::RequestTime,
            "upstream_addr" => Field::UpstreamAddr,
            "upstream_status" => Field::UpstreamStatus,
            "upstream_connect_time" => Field::UpstreamConnectTime,
            "upstream_header_time" => Field::UpstreamHeaderTime,
            "upstream_response_time" => Field::UpstreamResponseTime,
            "upstream_bytes_received" => Field::UpstreamBytesReceived,
            "upstream_response_length" => Field::UpstreamResponseLength,
            "request_id" | "http_x_request_id" | "req_id" => Field::RequestId,
            "connection" => Field::Connection,
            _ => Field::Skip,
        }
    }
}

#[derive(Debug, Clone)]
enum Item {
    Lit(scan::Lit),
    /// A variable, and whether nginx may write it as a list (every
    /// `$upstream_*` variable: `, ` between servers, ` : ` between groups).
    Var(Field, bool),
}

/// Where [`LogFormat::parse_summary`] stopped reading a line, for
/// [`LogFormat::complete`]: nowhere when it read every field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Resume(Option<(usize, usize)>);

impl Resume {
    /// True when the summary skipped part of the line.
    pub fn is_partial(self) -> bool {
        self.0.is_some()
    }
}

/// Why a line did not match its format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineError {
    /// Expected literal text was not found (the line is cut short or is of another format).
    Mismatch,
    /// `$status` is not a 3-digit number.
    BadStatus,
    /// The time field could not be read.
    BadTime,
}

impl LineError {
    /// A short description for reports.
    pub fn describe(self) -> &'static str {
        match self {
            LineError::Mismatch => "does not match the log format",
            LineError::BadStatus => "status is not a 3-digit number",
            LineError::BadTime => "time field is not a valid time",
        }
    }
}

/// One compiled nginx `log_format`.
#[derive(Debug, Clone)]
pub struct LogFormat {
    /// The format's name (`combined`, the config's name, or `--log-format`).
    pub name: String,
    /// The format string as written.
    pub source: String,
    /// Escaping mode.
    pub escape: Escape,
    items: Vec<Item>,
    fields: u64,
    /// Fast plan (see [`LogFormat::parse_summary`]): items `..front_end` are
    /// matched forward, items `back_start..` backward from the end of the line.
    front_end: usize,
    back_start: Option<usize>,
    /// Items `upstream_start..` (every upstream variable `each_attempt`
    /// zips, and what follows them) matched backward from the end of the
    /// line by [`LogFormat::complete_upstream`], when they lie after the
    /// summary's forward part.
    upstream_start: Option<usize>,
    /// The walks the hot loop runs, compiled ([`Op`]): every item, the
    /// summary's forward part (`..front_end`) and the rest of the line
    /// after it (`front_end..`, what [`LogFormat::complete`] reads).
    ops_all: Box<[Op]>,
    ops_front: Box<[Op]>,
    ops_rest: Box<[Op]>,
    /// The summary's backward walk (`back_start..`) and
    /// [`LogFormat::complete_upstream`]'s (`upstream_start..`), compiled.
    back_ops: Box<[BackOp]>,
    upstream_ops: Box<[BackOp]>,
}

impl LogFormat {
    /// Compile `format` (the text of nginx's `log_format`, strings already joined).
    pub fn compile(name: &str, format: &str, escape: Escape) -> Result<LogFormat, Error> {
        let err = |message: String| Error::LogFormat {
            name: name.to_string(),
            message,
        };
        let b = format.as_bytes();
        let mut items: Vec<Item> = Vec::new();
        let mut lit = Vec::new();
        let mut i = 0;
        while i < b.len() {
            if b[i] != b'$' {
                lit.push(b[i]);
                i += 1;
                continue;
            }
            let (name_start, name_end, next) = if b.get(i + 1) == Some(&b'{') {
                let close = b[i + 2..]
                    .iter()
                    .position(|&c| c == b'}')
                    .ok_or_else(|| err(format!("unclosed `${{` at byte {i}")))?;
                (i + 2, i + 2 + close, i + 3 + close)
            } else {
                let n = b[i + 1..]
                    .iter()
                    .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
                    .count();
                (i + 1, i + 1 + n, i + 1 + n)
            };
            if name_end == name_start {
                lit.push(b'$');
                i += 1;
                continue;
            }
            if !lit.is_empty() {
                items.push(Item::Lit(scan::Lit::new(&std::mem::take(&mut lit))));
            }
            if let Some(Item::Var(..)) = items.last() {
                return Err(err(format!(
                    "variables `${}` and the one before it are not separated by any text, so their values cannot be told apart",
                    &format[name_start..name_end]
                )));
            }
            let var = &format[name_start..name_end];
            items.push(Item::Var(
                Field::from_name(var),
                var.starts_with("upstream_"),
            ));
            i = next;
        }
        if !lit.is_empty() {
            items.push(Item::Lit(scan::Lit::new(&lit)));
        }
        let fields = items
            .iter()
            .filter_map(|it| match it {
                Item::Var(f, _) if *f != Field::Skip => Some(1u64 << (*f as u8)),
                _ => None,
            })
            .fold(0, |a, b| a | b);
        if fields & (1 << Field::Status as u8) == 0 {
            return Err(err("it has no $status, so 502s cannot be found".into()));
        }
        let (front_end, back_start) = plan(&items);
        let upstream_start = upstream_plan(&items, front_end, back_start);
        let ops_all = compile_ops(&items, 0, items.len(), escape);
        let ops_front = compile_ops(&items, 0, front_end, escape);
        let ops_rest = compile_ops(&items, front_end, items.len(), escape);
        let back_ops = back_start.map_or_else(Box::default, |b| compile_back(&items, b, escape));
        let upstream_ops =
            upstream_start.map_or_else(Box::default, |u| compile_back(&items, u, escape));
        Ok(LogFormat {
            name: name.to_string(),
            source: format.to_string(),
            escape,
            items,
            fields,
            front_end,
            back_start,
            upstream_start,
            ops_all,
            ops_front,
            ops_rest,
            back_ops,
            upstream_ops,
        })
    }

    /// Parse only what every line needs — status, time and
    /// `$upstream_status` — into `rec` (which it clears first) and skip the
    /// rest of the line: the fields before the last of status/time are
    /// matched forward, `$upstream_status` and what follows it backward from
    /// the end of the line, and the middle (request, referer, user agent…)
    /// is not looked at. Lines whose status or upstream status call for a
    /// closer look are then finished with [`LogFormat::complete`]. Falls back
    /// to the full parse when the line does not end the way the format does
    /// (appended fields). The record is filled in place, not returned: it is
    /// a few hundred bytes, and moving it per line cost 9 % of the CPU;
    /// inlined, so that clearing it here and the caller's fresh record are
    /// one store, not two.
    #[inline(always)]
    pub fn parse_summary<'a>(
        &self,
        line: &'a [u8],
        rec: &mut Record<'a>,
        cache: &mut TimeCache,
    ) -> Result<Resume, LineError> {
        let line = strip_cr(line);
        *rec = Record::default();
        let whole = |rec: &Record<'a>| match rec.status {
            Some(_) => Ok(Resume(None)),
            None => Err(LineError::BadStatus),
        };
        if self.back_start.is_none() {
            run_ops(&self.ops_all, line, 0, rec, cache)?;
            return whole(rec);
        }
        let front = run_ops(&self.ops_front, line, 0, rec, cache)?;
        match run_back(&self.back_ops, line, front, false, rec, cache) {
            Ok(()) if rec.status.is_some() => Ok(Resume(Some((self.front_end, front)))),
            _ => {
                *rec = Record::default();
                run_ops(&self.ops_all, line, 0, rec, cache)?;
                whole(rec)
            }
        }
    }

    /// Finish the parse of `line` whose summary [`LogFormat::parse_summary`]
    /// put in `rec` and returned `at`: afterwards `rec` holds what
    /// [`LogFormat::parse`] returns, or the same error is returned (then
    /// `rec` holds part of the fields). The forward walk is resumed where the
    /// summary's stopped instead of started again (issue 9: the second parse
    /// of every 5xx line took 17 % of the CPU for 4.7 % of the lines).
    #[inline]
    pub fn complete<'a>(
        &self,
        line: &'a [u8],
        rec: &mut Record<'a>,
        at: Resume,
        cache: &mut TimeCache,
    ) -> Result<(), LineError> {
        let Resume(Some((item, pos))) = at else {
            return Ok(());
        };
        let line = strip_cr(line);
        // the summary's backward walk stored the fields after the skipped
        // middle; the forward walk puts each of them again, as `parse` does
        if item == self.front_end {
            run_ops(&self.ops_rest, line, pos, rec, cache)?;
        } else {
            // not a summary of this format's: the generic walk
            self.walk_forward(line, item, pos, self.items.len(), rec, cache)?;
        }
        match rec.status {
            Some(_) => Ok(()),
            None => Err(LineError::BadStatus),
        }
    }

    /// Read the upstream variables (address, status and the three times)
    /// of `line` whose summary [`LogFormat::parse_summary`] put in `rec`
    /// and returned `at`, for the timings of the sampled successful
    /// requests: walked backward from the end of the line, as the summary
    /// reads `$upstream_status`, instead of finishing the forward walk
    /// through the request, referer and user agent as
    /// [`LogFormat::complete`] does. Where `complete` succeeds, the fields
    /// read are the same (tested); falls back to `complete` when the
    /// format's upstream variables are not all after the summary's
    /// forward part.
    #[inline]
    pub fn complete_upstream<'a>(
        &self,
        line: &'a [u8],
        rec: &mut Record<'a>,
        at: Resume,
        cache: &mut TimeCache,
    ) -> Result<(), LineError> {
        let (Resume(Some((_, floor))), Some(_)) = (at, self.upstream_start) else {
            return self.complete(line, rec, at, cache);
        };
        match run_back(&self.upstream_ops, strip_cr(line), floor, true, rec, cache) {
            Ok(()) => Ok(()),
            // appended fields, a value holding a delimiter: the forward walk decides
            Err(_) => self.complete(line, rec, at, cache),
        }
    }

    /// Match `items[start..end]` from byte `pos` of `line` (where
    /// `items[..start]` ended); returns the position reached. The generic
    /// walk: the hot paths run the same items compiled ([`run_ops`]); this
    /// one is their tests' reference, and resumes a [`Resume`] that is not
    /// this format's.
    #[inline]
    fn walk_forward<'a, S: Sink<'a>>(
        &self,
        line: &'a [u8],
        start: usize,
        mut pos: usize,
        end: usize,
        rec: &mut S,
        cache: &mut TimeCache,
    ) -> Result<usize, LineError> {
        let mut i = start;
        while i < end {
            match &self.items[i] {
                Item::Lit(l) => {
                    if !l.is_at(line, pos) {
                        return Err(LineError::Mismatch);
                    }
                    pos += l.len();
                    i += 1;
                }
                Item::Var(f, list) => {
                    // where the field ends, and the length of the literal
                    // found there (0: none, the field runs to the end)
                    let (stop, next) = match self.items.get(i + 1) {
                        // the last field, not read (`combined`'s user
                        // agent), when the line ends with the literal that
                        // closes it: the forward search would find that
                        // literal somewhere in between, and the walk would
                        // succeed all the same, so the field is not scanned
                        Some(Item::Lit(l))
                            if *f == Field::Skip
                                && !*list
                                && end == self.items.len()
                                && i + 2 == end
                                && self.escape != Escape::Json
                                && line.len() >= pos + l.len()
                                && l.is_at(line, line.len() - l.len()) =>
                        {
                            (line.len() - l.len(), l.len())
                        }
                        // the time of the line before, followed by the
                        // literal (logs are in time order): where the search
                        // would stop too, not searched (`TimeCache::ends_at`)
                        Some(Item::Lit(l))
                            if matches!(f, Field::TimeLocal | Field::TimeIso8601)
                                && cache.ends_at(line, pos, l).is_some() =>
                        {
                            (pos + cache.len, l.len())
                        }
                        Some(Item::Lit(l)) => (
                            find_lit(line, pos, l, self.escape == Escape::Json, *list)
                                .ok_or(LineError::Mismatch)?,
                            l.len(),
                        ),
                        _ => (line.len(), 0),
                    };
                    rec.put(*f, &line[pos..stop], cache)?;
                    if next > 0 && i + 1 < end {
                        // the literal was found at `stop`, so it matches
                        // there: stepped over, not compared again (a
                        // second compare and a turn of the loop per field)
                        pos = stop + next;
                        i += 2;
                    } else {
                        pos = stop;
                        i += 1;
                    }
                }
            }
        }
        Ok(pos)
    }

    /// Match `items[start..]` backward from the end of `line`, not crossing
    /// `floor`. With `as_forward`, each field must also end where the
    /// forward walk would end it (the first occurrence of the literal after
    /// it): a line with fields appended or a delimiter inside a value is
    /// refused, not read differently. The generic walk: the hot paths run
    /// the same items compiled ([`run_back`]); this one is their tests'
    /// reference.
    #[cfg(test)]
    fn walk_backward<'a, S: Sink<'a>>(
        &self,
        line: &'a [u8],
        start: usize,
        floor: usize,
        as_forward: bool,
        rec: &mut S,
        cache: &mut TimeCache,
    ) -> Result<(), LineError> {
        let json = self.escape == Escape::Json;
        let mut pos = line.len();
        let mut j = self.items.len();
        while j > start {
            j -= 1;
            match &self.items[j] {
                Item::Lit(l) => {
                    if pos < floor + l.len() || !l.is_at(line, pos - l.len()) {
                        return Err(LineError::Mismatch);
                    }
                    pos -= l.len();
                }
                Item::Var(f, list) => {
                    let Some(Item::Lit(l)) = j.checked_sub(1).map(|k| &self.items[k]) else {
                        return Err(LineError::Mismatch);
                    };
                    let begin = rfind_lit(&line[floor..pos], l, json, *list)
                        .ok_or(LineError::Mismatch)?
                        + floor
                        + l.len();
                    if as_forward {
                        if let Some(Item::Lit(next)) = self.items.get(j + 1) {
                            if find_lit(line, begin, next, json, *list) != Some(pos) {
                                return Err(LineError::Mismatch);
                            }
                        }
                    }
                    rec.put(*f, &line[begin..pos], cache)?;
                    pos = begin;
                    if j > start {
                        // the literal before the field was found ending at
                        // `begin`, within the floor: stepped over, not
                        // compared again
                        pos -= l.len();
                        j -= 1;
                    }
                }
            }
        }
        Ok(())
    }

    fn has(&self, f: Field) -> bool {
        self.fields & (1 << f as u8) != 0
    }

    /// True when the format logs `$upstream_status`.
    pub fn has_upstream_status(&self) -> bool {
        self.has(Field::UpstreamStatus)
    }

    /// True when the request target this format logs has no query string:
    /// `$uri` without `$request` or `$request_uri` (error-log lines show
    /// the request line with its query, so the join must drop it).
    pub fn path_without_query(&self) -> bool {
        self.has(Field::UriNoArgs)
            && !self.has(Field::Uri)
            && !self.has(Field::Request)
            && !self.has(Field::Args)
    }

    /// True when the format logs `$upstream_header_time`.
    pub fn has_upstream_header_time(&self) -> bool {
        self.has(Field::UpstreamHeaderTime)
    }

    /// True when the format logs the upstream address or any of its times
    /// (then every line is worth a full parse for the upstream timings).
    pub fn has_upstream_timing(&self) -> bool {
        self.has(Field::UpstreamAddr)
            || self.has(Field::UpstreamConnectTime)
            || self.has(Field::UpstreamHeaderTime)
            || self.has(Field::UpstreamResponseTime)
    }

    /// True when the format logs `$upstream_connect_time`.
    pub fn has_upstream_connect_time(&self) -> bool {
        self.has(Field::UpstreamConnectTime)
    }

    /// True when the format logs `$upstream_addr`, `$upstream_status`,
    /// `$upstream_bytes_received` and `$upstream_response_length`: enough
    /// to tell the size of each answer's response header
    /// (`analyze::header_sizes`).
    pub fn has_upstream_bytes(&self) -> bool {
        self.has(Field::UpstreamAddr)
            && self.has(Field::UpstreamStatus)
            && self.has(Field::UpstreamBytesReceived)
            && self.has(Field::UpstreamResponseLength)
    }

    /// How many fields gatecheck reads from this format (for detection: more is more specific).
    pub fn specificity(&self) -> usize {
        self.items.len()
    }

    /// The literal text between its variables, in order. Each must occur in
    /// a line that [`LogFormat::parse`] reads (the walk matches every one
    /// of them in place), so a line without one of them cannot parse:
    /// detection rules formats out with that (`logs::detect`).
    pub fn literals(&self) -> impl Iterator<Item = &[u8]> {
        self.items.iter().filter_map(|it| match it {
            Item::Lit(l) => Some(l.bytes()),
            Item::Var(..) => None,
        })
    }

    /// Parse one line (without its `\n`; a trailing `\r` is ignored). Text
    /// after the last item is tolerated (vendors append fields).
    #[inline]
    pub fn parse<'a>(
        &self,
        line: &'a [u8],
        cache: &mut TimeCache,
    ) -> Result<Record<'a>, LineError> {
        let line = strip_cr(line);
        let mut rec = Record::default();
        run_ops(&self.ops_all, line, 0, &mut rec, cache)?;
        if rec.status.is_none() {
            return Err(LineError::BadStatus);
        }
        Ok(rec)
    }
}

/// One step of a format's compiled walk ([`LogFormat`]'s op lists): the
/// item list with every per-field question the generic walk asks at run
/// time (which item comes next, is it the unread last field, a time, the
/// status, may the value be a list or hold escaped quotes) answered once,
/// when the format is compiled. Each op reads exactly what the generic
/// walk ([`LogFormat::walk_forward`], kept as the tests' reference) reads
/// and leaves the same position, record and error (proptests below).
#[derive(Debug, Clone)]
enum Op {
    /// A literal matched in place (a format's leading text, or the
    /// literal after the summary's last field, not stepped over).
    Lit(scan::Lit),
    /// A field gatecheck does not read (`$remote_user`,
    /// `$body_bytes_sent`, `$http_referer`…), up to the first `lit` (as
    /// [`find_lit`] finds it): nothing is stored, `adv` bytes of the
    /// literal stepped over (its length, or 0 when the walk stops there).
    Skip(Closing),
    /// An unread field that closes the format, with nothing after its
    /// closing literal: when the line ends with that literal, the field
    /// runs to it (`combined`'s user agent); else searched as [`Op::Skip`].
    SkipLast(scan::Lit),
    /// A field stored in the record (`Sink::put`), up to its literal.
    Put(Field, Closing),
    /// `$status`: three digits followed by the literal, read in place
    /// (the literal starts with no digit, so its first occurrence cannot
    /// be earlier); else as [`Op::Put`].
    Status(Closing),
    /// `$time_local` / `$time_iso8601`: the time of the line before,
    /// followed by the literal, taken from the cache without a search
    /// ([`TimeCache::ends_at`]); else as [`Op::Put`].
    Time(Field, Closing),
    /// A field running to the end of the line (the format's last item).
    Rest(Field),
}

/// The literal that closes a field, and how it is searched for.
#[derive(Debug, Clone)]
struct Closing {
    lit: scan::Lit,
    /// Bytes stepped over after the field: the literal's length, or 0
    /// when the walk ends before the literal.
    adv: usize,
    /// `escape=json`: a quote after an odd run of backslashes is no
    /// delimiter ([`escaped_quote`]).
    json: bool,
    /// The value may be an nginx list ([`in_list_sep`]).
    list: bool,
}

impl Closing {
    /// Where the field starting at `pos` ends (the first occurrence of
    /// the literal, as the generic walk finds it).
    #[inline(always)]
    fn find(&self, line: &[u8], pos: usize) -> Result<usize, LineError> {
        find_lit(line, pos, &self.lit, self.json, self.list).ok_or(LineError::Mismatch)
    }
}

/// Compile `items[start..end]` into ops for a walk that stops at `end`
/// (`end == items.len()`: the whole line).
fn compile_ops(items: &[Item], start: usize, end: usize, escape: Escape) -> Box<[Op]> {
    let json = escape == Escape::Json;
    let mut ops = Vec::new();
    let mut i = start;
    while i < end {
        match &items[i] {
            Item::Lit(l) => {
                ops.push(Op::Lit(l.clone()));
                i += 1;
            }
            Item::Var(f, list) => {
                let Some(Item::Lit(l)) = items.get(i + 1) else {
                    // the last item (two variables in a row do not compile)
                    ops.push(Op::Rest(*f));
                    i += 1;
                    continue;
                };
                let step = i + 1 < end;
                let closing = Closing {
                    lit: l.clone(),
                    adv: if step { l.len() } else { 0 },
                    json,
                    list: *list,
                };
                ops.push(match f {
                    // the generic walk's condition for the unread last
                    // field, but for the line's end, known here
                    Field::Skip if !*list && end == items.len() && i + 2 == end && !json => {
                        Op::SkipLast(l.clone())
                    }
                    Field::Skip => Op::Skip(closing),
                    Field::Status if !l.first().is_ascii_digit() => Op::Status(closing),
                    Field::TimeLocal | Field::TimeIso8601 => Op::Time(*f, closing),
                    _ => Op::Put(*f, closing),
                });
                i += if step { 2 } else { 1 };
            }
        }
    }
    ops.into_boxed_slice()
}

/// Run `ops` over `line` from byte `pos`; returns the position reached,
/// as [`LogFormat::walk_forward`] over the items they were compiled from.
#[inline(always)]
fn run_ops<'a>(
    ops: &[Op],
    line: &'a [u8],
    mut pos: usize,
    rec: &mut Record<'a>,
    cache: &mut TimeCache,
) -> Result<usize, LineError> {
    for op in ops {
        match op {
            Op::Lit(l) => {
                if !l.is_at(line, pos) {
                    return Err(LineError::Mismatch);
                }
                pos += l.len();
            }
            Op::Skip(c) => pos = c.find(line, pos)? + c.adv,
            Op::SkipLast(l) => {
                // the forward search would find the literal somewhere
                // between, and the walk would succeed all the same
                pos = if line.len() >= pos + l.len() && l.is_at(line, line.len() - l.len()) {
                    line.len()
                } else {
                    find_lit(line, pos, l, false, false).ok_or(LineError::Mismatch)? + l.len()
                };
            }
            Op::Put(f, c) => {
                let stop = c.find(line, pos)?;
                rec.put(*f, &line[pos..stop], cache)?;
                pos = stop + c.adv;
            }
            Op::Status(c) => {
                let end = pos + 3;
                let digits = line.len() >= end
                    && line[pos..end].iter().all(|d| d.is_ascii_digit())
                    && c.lit.is_at(line, end);
                if digits {
                    // the digits checked: `parse_status` cannot fail
                    rec.status = scan::parse_status(&line[pos..end]);
                    pos = end + c.adv;
                } else {
                    let stop = c.find(line, pos)?;
                    rec.put(Field::Status, &line[pos..stop], cache)?;
                    pos = stop + c.adv;
                }
            }
            Op::Time(f, c) => {
                if cache.ends_at(line, pos, &c.lit).is_some() {
                    // what `cache.get` returns for the same text
                    rec.time = cache.value;
                    pos += cache.len + c.adv;
                } else {
                    let stop = c.find(line, pos)?;
                    rec.put(*f, &line[pos..stop], cache)?;
                    pos = stop + c.adv;
                }
            }
            Op::Rest(f) => {
                rec.put(*f, &line[pos..], cache)?;
                pos = line.len();
            }
        }
    }
    Ok(pos)
}

/// One step of a backward walk, compiled ([`compile_back`]): the items
/// from the end of the line back to where the walk starts, as
/// [`LogFormat::walk_backward`] (the tests' reference) reads them.
#[derive(Debug, Clone)]
enum BackOp {
    /// A literal ending where the walk stands.
    Lit(scan::Lit),
    /// A field that starts after the last occurrence of `open` (as
    /// [`rfind_lit`] finds it) before where the walk stands; `adv` bytes
    /// of `open` stepped back over (its length, or 0 when the walk ends
    /// there).
    Field {
        field: Field,
        open: scan::Lit,
        /// The literal after the field, which the forward walk would find
        /// first (checked when the walk must read as the forward one).
        close: Option<scan::Lit>,
        adv: usize,
        json: bool,
        list: bool,
    },
    /// A field with no literal before it: never read backward.
    Fail,
}

/// Compile `items[start..]` into the backward walk from the line's end.
fn compile_back(items: &[Item], start: usize, escape: Escape) -> Box<[BackOp]> {
    let json = escape == Escape::Json;
    let mut ops = Vec::new();
    let mut j = items.len();
    while j > start {
        j -= 1;
        match &items[j] {
            Item::Lit(l) => ops.push(BackOp::Lit(l.clone())),
            Item::Var(f, list) => {
                let Some(Item::Lit(open)) = j.checked_sub(1).map(|k| &items[k]) else {
                    ops.push(BackOp::Fail);
                    break;
                };
                let close = match items.get(j + 1) {
                    Some(Item::Lit(c)) => Some(c.clone()),
                    _ => None,
                };
                let step = j > start;
                ops.push(BackOp::Field {
                    field: *f,
                    open: open.clone(),
                    close,
                    adv: if step { open.len() } else { 0 },
                    json,
                    list: *list,
                });
                if step {
                    j -= 1;
                }
            }
        }
    }
    ops.into_boxed_slice()
}

/// Run the backward `ops` from the end of `line`, not crossing `floor`,
/// as [`LogFormat::walk_backward`] over the items they were compiled
/// from (`as_forward`: each field must end where the forward walk would
/// end it).
#[inline(always)]
fn run_back<'a>(
    ops: &[BackOp],
    line: &'a [u8],
    floor: usize,
    as_forward: bool,
    rec: &mut Record<'a>,
    cache: &mut TimeCache,
) -> Result<(), LineError> {
    let mut pos = line.len();
    for op in ops {
        match op {
            BackOp::Lit(l) => {
                if pos < floor + l.len() || !l.is_at(line, pos - l.len()) {
                    return Err(LineError::Mismatch);
                }
                pos -= l.len();
            }
            BackOp::Field {
                field,
                open,
                close,
                adv,
                json,
                list,
            } => {
                let begin = rfind_lit(&line[floor..pos], open, *json, *list)
                    .ok_or(LineError::Mismatch)?
                    + floor
                    + open.len();
                if as_forward {
                    if let Some(c) = close {
                        if find_lit(line, begin, c, *json, *list) != Some(pos) {
                            return Err(LineError::Mismatch);
                        }
                    }
                }
                rec.put(*field, &line[begin..pos], cache)?;
                pos = begin - adv;
            }
            BackOp::Fail => return Err(LineError::Mismatch),
        }
    }
    Ok(())
}

/// `line` without a trailing `\r` (CRLF logs).
#[inline(always)]
fn strip_cr(line: &[u8]) -> &[u8] {
    match line {
        [rest @ .., b'\r'] => rest,
        _ => line,
    }
}

/// Where the walk puts the fields it reads: a full [`Record`], or a
/// [`Summary`] that keeps only what every line needs.
trait Sink<'a> {
    fn put(&mut self, f: Field, v: &'a [u8], cache: &mut TimeCache) -> Result<(), LineError>;
}

impl<'a> Sink<'a> for Record<'a> {
    // inlined into each walk: a call per field was 4 % of a run
    #[inline(always)]
    fn put(&mut self, f: Field, v: &'a [u8], cache: &mut TimeCache) -> Result<(), LineError> {
        let rec = self;
        let val = if v == b"-" || v.is_empty() {
            None
        } else {
            Some(v)
        };
        match f {
            Field::Skip => {}
            Field::Status => rec.status = Some(scan::parse_status(v).ok_or(LineError::BadStatus)?),
            Field::TimeLocal => {
                rec.time = Some(
                    cache
                        .get(v, scan::parse_time_local)
                        .ok_or(LineError::BadTime)?,
                )
            }
            Field::TimeIso8601 => {
                rec.time = Some(
                    cache
                        .get(v, scan::parse_iso8601)
                        .ok_or(LineError::BadTime)?,
                )
            }
            Field::Msec => rec.time = Some(scan::parse_msec(v).ok_or(LineError::BadTime)?),
            Field::RemoteAddr => rec.client = val,
            Field::Request => {
                rec.request = val;
            }
            Field::Method => rec.method = val,
            Field::Uri | Field::UriNoArgs => rec.path = val,
            Field::Args => rec.args = val,
            Field::Protocol => rec.protocol = val,
            Field::Host => rec.host = val,
            Field::RequestTime => rec.request_time = val,
            Field::UpstreamAddr => rec.upstream.addr = val,
            Field::UpstreamStatus => rec.upstream.status = val,
            Field::UpstreamConnectTime => rec.upstream.connect = val,
            Field::UpstreamHeaderTime => rec.upstream.header = val,
            Field::UpstreamResponseTime => rec.upstream.response = val,
            Field::UpstreamBytesReceived => rec.upstream.bytes_received = val,
            Field::UpstreamResponseLength => rec.upstream.response_length = val,
            Field::RequestId => rec.request_id = val,
            Field::Connection => rec.connection = val.and_then(scan::parse_u64),
        }
        Ok(())
    }
}

/// The fast plan of a format: how far the forward walk must go (past the
/// status and time fields) and where the backward walk starts (the literal
/// before `$upstream_status`), or `None` when a split does not pay off.
fn plan(items: &[Item]) -> (usize, Option<usize>) {
    let is = |i: usize, f: &[Field]| matches!(&items[i], Item::Var(v, _) if f.contains(v));
    let front_fields = [
        Field::Status,
        Field::TimeLocal,
        Field::TimeIso8601,
        Field::Msec,
    ];
    let front_end = (0..items.len())
        .filter(|&i| is(i, &front_fields))
        .max()
        .map_or(0, |i| i + 1);
    let back = (0..items.len())
        .find(|&i| is(i, &[Field::UpstreamStatus]))
        .and_then(|u| u.checked_sub(1))
        .filter(|&b| matches!(items[b], Item::Lit(_)) && b >= front_end);
    match back {
        // split only when it skips something: at least one item in between
        Some(b) if b > front_end => (front_end, Some(b)),
        _ => (items.len(), None),
    }
}

/// Where [`LogFormat::complete_upstream`]'s backward walk starts: at the
/// first upstream variable `each_attempt` reads, when the summary walks
/// backward at all, that variable comes after its forward part and a
/// literal precedes it; `None` otherwise (then `complete` is used).
fn upstream_plan(items: &[Item], front_end: usize, back_start: Option<usize>) -> Option<usize> {
    back_start?;
    let zipped = [
        Field::UpstreamAddr,
        Field::UpstreamStatus,
        Field::UpstreamConnectTime,
        Field::UpstreamHeaderTime,
        Field::UpstreamResponseTime,
    ];
    let first =
        (0..items.len()).find(|&i| matches!(&items[i], Item::Var(v, _) if zipped.contains(v)))?;
    let lit = first.checked_sub(1)?;
    (lit >= front_end && matches!(items[lit], Item::Lit(_))).then_some(first)
}

/// Find literal `lit` in `hay` searching backward; its start offset. With
/// `list`, the value after the literal may be an nginx list, so a literal
/// that is part of a list separator is not taken.
#[inline(always)]
fn rfind_lit(hay: &[u8], lit: &scan::Lit, json: bool, list: bool) -> Option<usize> {
    let last = lit.last();
    let mut end = hay.len();
    loop {
        let i = scan::rfind_byte(&hay[..end], last)?;
        if i + 1 >= lit.len() && lit.is_at(hay, i + 1 - lit.len()) {
            let start = i + 1 - lit.len();
            let inside = (json && escaped_quote(hay, start, lit.bytes()))
                || (list && in_list_sep(hay, start, lit.bytes()));
            if !inside {
                return Some(start);
            }
        }
        end = i;
    }
}

/// Is the literal found at `at` part of an nginx list separator (`, `
/// between servers tried, ` : ` between upstream groups,
/// `ngx_http_upstream_addr_variable`)? Only then can an unquoted list
/// variable, such as ingress-nginx's `$upstream_addr $upstream_status`,
/// hold the literal that follows it.
#[inline(always)]
fn in_list_sep(line: &[u8], at: usize, lit: &[u8]) -> bool {
    match lit[0] {
        b' ' => {
            (at > 0 && line[at - 1] == b',')
                || line[at..].starts_with(b" : ")
                || (at >= 2 && line[at - 2] == b' ' && line[at - 1] == b':')
        }
        b',' => lit.get(1) != Some(&b' ') && line.get(at + 1) == Some(&b' '),
        _ => false,
    }
}

/// With `escape=json`, a value may hold `\"`: a literal that starts with a
/// quote does not match where that quote is escaped (an odd number of
/// backslashes before it).
#[inline]
fn escaped_quote(line: &[u8], at: usize, lit: &[u8]) -> bool {
    lit[0] == b'"' && line[..at].iter().rev().take_while(|&&c| c == b'\\').count() % 2 == 1
}

/// Find literal `lit` in `line` at or after `from`; its start offset. With
/// `list`, a literal inside a list separator is skipped ([`in_list_sep`]).
#[inline(always)]
fn find_lit(line: &[u8], from: usize, lit: &scan::Lit, json: bool, list: bool) -> Option<usize> {
    let first = lit.first();
    let mut at = from;
    loop {
        // fields are mostly short: no library call for them
        // (scan::SHORT_SPAN), and one branch for the first 64 bytes
        let i = at + scan::find_byte_wide(&line[at..], first)?;
        if lit.is_at(line, i)
            && !((json && escaped_quote(line, i, lit.bytes()))
                || (list && in_list_sep(line, i, lit.bytes())))
        {
            return Some(i);
        }
        at = i + 1;
    }
}

/// Remembers the last time string and its value: log lines arrive in time
/// order, so most lines repeat the previous line's second.
#[derive(Debug, Default, Clone)]
pub struct TimeCache {
    raw: [u8; 32],
    len: usize,
    value: Option<LogTime>,
    /// A literal's first byte that `raw` was found not to hold (nor a
    /// backslash): see [`TimeCache::ends_at`].
    clean_for: Option<u8>,
}

impl TimeCache {
    #[inline]
    fn get(&mut self, v: &[u8], parse: fn(&[u8]) -> Option<LogTime>) -> Option<LogTime> {
        if v.len() == self.len && self.value.is_some() && scan::eq_short(&self.raw[..self.len], v) {
            return self.value;
        }
        let t = parse(v)?;
        if v.len() <= self.raw.len() {
            self.raw[..v.len()].copy_from_slice(v);
            self.len = v.len();
            self.value = Some(t);
            self.clean_for = None;
        }
        Some(t)
    }

    /// `Some(end)` when `line` at `pos` holds the remembered time text,
    /// followed by `lit` (at `end`), and that text holds neither `lit`'s
    /// first byte nor a backslash: then the forward search for `lit` from
    /// `pos` ([`find_lit`]) finds it at `end` (no earlier candidate; not
    /// an escaped quote, since no backslash precedes it; a time is no
    /// list), so the walk takes `end` without searching. Checked against
    /// the search by `complete_equals_a_fresh_full_parse` and the fuzz
    /// corpus replay.
    #[inline(always)]
    fn ends_at(&mut self, line: &[u8], pos: usize, lit: &scan::Lit) -> Option<usize> {
        let n = self.len;
        let end = pos + n;
        if self.value.is_none()
            || line.len() < end
            || !scan::eq_short(&self.raw[..n], &line[pos..end])
            || !lit.is_at(line, end)
        {
            return None;
        }
        let first = lit.first();
        if self.clean_for != Some(first) {
            if self.raw[..n].iter().any(|&c| c == first || c == b'\\') {
                return None;
            }
            self.clean_for = Some(first);
        }
        Some(end)
    }
}

/// Decode a field value as nginx escaped it, for display.
pub fn unescape(v: &[u8], escape: Escape) -> String {
    match escape {
        Escape::None => String::from_utf8_lossy(v).into_owned(),
        Escape::Default if memchr::memchr(b'\\', v).is_none() => {
            String::from_utf8_lossy(v).into_owned()
        }
        Escape::Default => {
            let mut out = Vec::with_capacity(v.len());
            let mut i = 0;
            while i < v.len() {
                if v[i] == b'\\' && v.get(i + 1) == Some(&b'x') && i + 4 <= v.len() {
                    if let Some(b) = hex_byte(&v[i + 2..i + 4]) {
                        out.push(b);
                        i += 4;
                        continue;
                    }
                }
                out.push(v[i]);
                i += 1;
            }
            String::from_utf8_lossy(&out).into_owned()
        }
        Escape::Json => {
            let quoted = [b"\"", v, b"\""].concat();
            serde_json::from_slice::<String>(&quoted)
                .unwrap_or_else(|_| String::from_utf8_lossy(v).into_owned())
        }
    }
}

fn hex_byte(h: &[u8]) -> Option<u8> {
    let d = |c: u8| (c as char).to_digit(16);
    Some((d(h[0])? * 16 + d(h[1])?) as u8)
}

/// A format shipped in `grammars/nginx.yaml`.
#[derive(Debug, serde::Deserialize)]
struct GrammarFormat {
    name: String,
    format: String,
    #[serde(default)]
    escape: Escape,
}

#[derive(Debug, serde::Deserialize)]
struct Grammar {
    formats: Vec<GrammarFormat>,
}

/// The formats of `grammars/nginx.yaml`, compiled, most specific first.
pub fn builtin_formats() -> Vec<LogFormat> {
    static FORMATS: std::sync::OnceLock<Vec<LogFormat>> = std::sync::OnceLock::new();
    FORMATS
        .get_or_init(|| {
            static GRAMMAR: &str = include_str!("../../grammars/nginx.yaml");
            // The grammar is part of the binary and covered by a test, so a failure
            // here is a build defect; still, degrade to no formats instead of panicking.
            let grammar: Grammar = match serde_yaml::from_str(GRAMMAR) {
                Ok(g) => g,
                Err(_) => return Vec::new(),
            };
            // each layout with `$time_local` also comes with `$time_iso8601`
            // and `$msec` in its place: the same layouts people switch to
            // for a zone-explicit or machine time
            let mut v: Vec<LogFormat> = Vec::new();
            for f in &grammar.formats {
                v.extend(LogFormat::compile(&f.name, &f.format, f.escape).ok());
                if f.format.contains("$time_local") {
                    for (suffix, var) in [("iso8601", "$time_iso8601"), ("msec", "$msec")] {
                        let text = f.format.replace("$time_local", var);
                        let name = format!("{}_{suffix}", f.name);
                        v.extend(LogFormat::compile(&name, &text, f.escape).ok());
                    }
                }
            }
            v.sort_by_key(|f| std::cmp::Reverse(f.specificity()));
            v
        })
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `.log` under `fixtures/logs/nginx`, sorted.
    fn nginx_fixture_logs() -> Vec<std::path::PathBuf> {
        fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for e in std::fs::read_dir(dir).unwrap().flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, out);
                } else if p.extension().is_some_and(|x| x == "log") {
                    out.push(p);
                }
            }
        }
        let mut out = Vec::new();
        walk(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/logs/nginx"),
            &mut out,
        );
        out.sort();
        out
    }

    #[test]
    fn grammar_formats_compile() {
        let f = builtin_formats();
        assert_eq!(f.len(), 15);
        assert!(f.iter().any(|f| f.name == "combined_iso8601"));
        assert!(f.iter().any(|f| f.name == "upstreaminfo"));
    }

    #[test]
    fn parses_combined() {
        let f = LogFormat::compile("combined", COMBINED, Escape::Default).unwrap();
        let mut c = TimeCache::default();
        let line = br#"10.1.2.3 - - [20/Nov/2026:14:03:07 +0100] "GET /api/v1/x?y=1 HTTP/1.1" 502 157 "-" "curl/8.5.0""#;
        let mut r = f.parse(line, &mut c).unwrap();
        r.split_request();
        assert_eq!(r.status, Some(502));
        assert_eq!(r.client, Some(&b"10.1.2.3"[..]));
        assert_eq!(r.method, Some(&b"GET"[..]));
        assert_eq!(r.path, Some(&b"/api/v1/x?y=1"[..]));
        assert_eq!(r.protocol, Some(&b"HTTP/1.1"[..]));
        assert_eq!(r.time.unwrap().offset_s, 3600);
        // CRLF and trailing appended fields are tolerated
        let mut l2 = line.to_vec();
        l2.extend_from_slice(b" extra\r");
        assert_eq!(f.parse(&l2, &mut c).unwrap().status, Some(502));
    }

    /// The closing field of `combined`, not read, is not scanned when the
    /// line ends with its quote: the record is the one the search gives
    /// (the same line with text appended, which must be searched), and a
    /// raw quote inside the user agent changes nothing either way.
    #[test]
    fn an_unread_last_field_is_skipped_as_the_search_would() {
        let f = LogFormat::compile("combined", COMBINED, Escape::None).unwrap();
        let mut c = TimeCache::default();
        for line in [
            &br#"10.1.2.3 - - [20/Nov/2026:14:03:07 +0100] "GET /x HTTP/1.1" 502 157 "-" "curl/8.5.0""#[..],
            br#"10.1.2.3 - - [20/Nov/2026:14:03:07 +0100] "GET /x HTTP/1.1" 200 1 "-" "a "quoted" agent""#,
        ] {
            let skipped = f.parse(line, &mut c).unwrap();
            let appended = [line, b" appended"].concat();
            let searched = f.parse(&appended, &mut c).unwrap();
            assert_eq!(format!("{skipped:?}"), format!("{searched:?}"));
        }
        let cut = br#"10.1.2.3 - - [20/Nov/2026:14:03:07 +0100] "GET /x HTTP/1.1" 200 1 "-" "#;
        assert_eq!(f.parse(cut, &mut c), Err(LineError::Mismatch));
    }

    #[test]
    fn rejects_bad_lines() {
        let f = LogFormat::compile("combined", COMBINED, Escape::Default).unwrap();
        let mut c = TimeCache::default();
        assert_eq!(f.parse(b"", &mut c), Err(LineError::Mismatch));
        assert_eq!(f.parse(b"\x00\xff junk", &mut c), Err(LineError::Mismatch));
        let bad_status =
            br#"1.2.3.4 - - [20/Nov/2026:14:03:07 +0100] "GET / HTTP/1.1" 5x2 1 "-" "-""#;
        assert_eq!(f.parse(bad_status, &mut c), Err(LineError::BadStatus));
        let bad_time =
            br#"1.2.3.4 - - [20/Nov/2026:99:03:07 +0100] "GET / HTTP/1.1" 502 1 "-" "-""#;
        assert_eq!(f.parse(bad_time, &mut c), Err(LineError::BadTime));
        let cut = br#"1.2.3.4 - - [20/Nov/2026:14:03:07 +0100] "GET / HT"#;
        assert_eq!(f.parse(cut, &mut c), Err(LineError::Mismatch));
    }

    #[test]
    fn upstream_lists_and_dashes() {
        let fmts = builtin_formats();
        let f = fmts.iter().find(|f| f.name == "upstream_timing").unwrap();
        let mut c = TimeCache::default();
        let line = br#"1.2.3.4 - - [20/Nov/2026:14:03:07 +0000] "POST /api HTTP/1.1" 502 157 "-" "ua" rt=0.003 uct="-, -" uht="-, -" urt="0.000, 0.001" ua="10.0.0.5:8080, 10.0.0.6:8080" us="502, 502""#;
        let r = f.parse(line, &mut c).unwrap();
        assert_eq!(r.request_time_ms(), Some(3));
        assert_eq!(r.upstream.addr, Some(&b"10.0.0.5:8080, 10.0.0.6:8080"[..]));
        let a = r.upstream.attempts();
        assert_eq!(a.len(), 2);
        assert_eq!(a[1].response_time, Some(0.001));
        let none = br#"1.2.3.4 - - [20/Nov/2026:14:03:07 +0000] "GET /a.js HTTP/1.1" 200 10 "-" "ua" rt=0.001 uct="-" uht="-" urt="-" ua="-" us="-""#;
        let r = f.parse(none, &mut c).unwrap();
        assert!(r.upstream.is_empty());
    }

    #[test]
    fn summary_agrees_with_full_parse() {
        let fmts = builtin_formats();
        let f = fmts.iter().find(|f| f.name == "upstream_timing").unwrap();
        assert!(f.back_start.is_some());
        let mut c = TimeCache::default();
        let lines: [&[u8]; 4] = [
            br#"1.2.3.4 - - [20/Nov/2026:14:03:07 +0000] "POST /api HTTP/1.1" 502 157 "-" "ua us=\x22x" rt=0.003 uct="-, -" uht="-, -" urt="0.000, 0.001" ua="10.0.0.5:8080, 10.0.0.6:8080" us="502, 502""#,
            br#"1.2.3.4 - - [20/Nov/2026:14:03:07 +0000] "GET / HTTP/1.1" 200 1 "-" "ua" rt=0.1 uct="-" uht="-" urt="-" ua="-" us="-"
"#,
            br#"1.2.3.4 - - [20/Nov/2026:14:03:07 +0000] "GET / HTTP/1.1" 200 1 "-" "ua" rt=0.1 uct="-" uht="-" urt="-" ua="-" us="200" appended=1"#,
            br#"1.2.3.4 - - [20/Nov/2026:14:03:07 +0000] "GET / HTTP/1.1" 200 1 "-" "ua" rt=0.1 uct="-" uht="-" urt="-" ua="-" us="#,
        ];
        for l in lines {
            let full = f.parse(l, &mut c);
            let mut b = Record::default();
            let fast = f.parse_summary(l, &mut b, &mut c);
            match (full, fast) {
                (Ok(a), Ok(_)) => {
                    assert_eq!(
                        (a.status, a.time, a.upstream.status),
                        (b.status, b.time, b.upstream.status)
                    )
                }
                (a, b) => assert_eq!(a.map(|_| ()), b.map(|_| ())),
            }
        }
        assert_eq!(
            rfind_lit(
                b"a\" us=\"b\" us=\"c",
                &scan::Lit::new(b"\" us=\""),
                false,
                false
            ),
            Some(8)
        );
        assert_eq!(
            rfind_lit(b"abc", &scan::Lit::new(b"zz"), false, false),
            None
        );
    }

    /// `complete` (the full parse resumed where the summary stopped) gives
    /// what `parse` gives, field for field or the same error, for every
    /// built-in format on every nginx fixture line and on lines cut short,
    /// with appended fields, CRLF or a list separator inside a value.
    #[test]
    fn complete_equals_a_fresh_full_parse() {
        let paths = nginx_fixture_logs();
        assert!(paths.len() > 5, "{paths:?}");
        let mut lines: Vec<Vec<u8>> = Vec::new();
        for p in &paths {
            let text = std::fs::read(p).unwrap();
            for l in crate::logs::lines(&text) {
                lines.push(l.to_vec());
                // cut short, CRLF, an appended field
                lines.push(l[..l.len() / 2].to_vec());
                lines.push(l[..l.len().saturating_sub(3)].to_vec());
                lines.push([l, b"\r"].concat());
                lines.push([l, b" extra=1"].concat());
            }
        }
        lines.push(br#"1.2.3.4 - - [20/Nov/2026:14:03:07 +0000] "GET / HTTP/1.1" 502 1 "-" "ua, x" rt=0.1 uct="-" uht="-" urt="-" ua="a, b" us="502, 502""#.to_vec());
        let (mut finished, mut compared, mut backward) = (0, 0, 0);
        for f in builtin_formats() {
            for l in &lines {
                let mut c = TimeCache::default();
                let want = f.parse(l, &mut TimeCache::default());
                let mut rec = Record::default();
                let Ok(at) = f.parse_summary(l, &mut rec, &mut c) else {
                    continue;
                };
                finished += usize::from(at.is_partial());
                compared += 1;
                // the backward read of the upstream variables agrees
                // wherever the full parse succeeds
                let mut up = rec;
                let got_up = f.complete_upstream(l, &mut up, at, &mut c.clone());
                if let Ok(w) = &want {
                    assert_eq!(
                        got_up,
                        Ok(()),
                        "{} on {}",
                        f.name,
                        String::from_utf8_lossy(l)
                    );
                    fn zipped<'a>(r: &Record<'a>) -> impl PartialEq + std::fmt::Debug + 'a {
                        let u = r.upstream;
                        (
                            r.time, r.status, u.addr, u.status, u.connect, u.header, u.response,
                        )
                    }
                    assert_eq!(
                        zipped(&up),
                        zipped(w),
                        "{} on {}",
                        f.name,
                        String::from_utf8_lossy(l)
                    );
                    backward += usize::from(f.upstream_start.is_some() && at.is_partial());
                }
                let got = f.complete(l, &mut rec, at, &mut c).map(|()| rec);
                assert_eq!(got, want, "{} on {}", f.name, String::from_utf8_lossy(l));
            }
        }
        assert!(
            finished > 100 && compared > finished,
            "{finished} of {compared}"
        );
        assert!(backward > 50, "{backward} lines read backward");
    }

    /// A time cache warmed by the lines before (where the walk takes the
    /// end of a repeated time without searching: `TimeCache::ends_at`)
    /// reads every line as a fresh cache does, for every built-in format
    /// on the nginx fixture lines in order, each followed by variants
    /// that repeat its time but end the field differently.
    #[test]
    fn a_warm_time_cache_reads_as_a_fresh_one() {
        let mut lines: Vec<Vec<u8>> = Vec::new();
        let paths = nginx_fixture_logs();
        assert!(paths.len() > 5, "{paths:?}");
        for p in &paths {
            let text = std::fs::read(p).unwrap();
            for l in crate::logs::lines(&text) {
                lines.push(l.to_vec());
                // the time's end moved, the closing literal cut or doubled
                for (from, to) in [
                    (&b"] \""[..], &b"x] \""[..]),
                    (b"] \"", b"]] \""),
                    (b"] \"", b"] "),
                    (b"\",\"", b"\\\",\""),
                    (b"\",\"", b"\"x,\""),
                ] {
                    if let Some(i) = l.windows(from.len()).position(|w| w == from) {
                        lines.push([&l[..i], to, &l[i + from.len()..]].concat());
                    }
                }
            }
        }
        let mut hits = 0;
        for f in builtin_formats() {
            let mut warm = TimeCache::default();
            for l in &lines {
                let fresh = f.parse(l, &mut TimeCache::default());
                let before = warm.value.is_some();
                assert_eq!(
                    f.parse(l, &mut warm),
                    fresh,
                    "{} on {}",
                    f.name,
                    String::from_utf8_lossy(l)
                );
                hits += usize::from(before && fresh.is_ok());
                let (mut a, mut b) = (Record::default(), Record::default());
                let got = f.parse_summary(l, &mut a, &mut warm);
                let want = f.parse_summary(l, &mut b, &mut TimeCache::default());
                assert_eq!(
                    (got, a),
                    (want, b),
                    "{} on {}",
                    f.name,
                    String::from_utf8_lossy(l)
                );
            }
        }
        assert!(hits > 100, "{hits} lines read with a warm cache");
    }

    /// The compiled ops ([`run_ops`]) against the generic walk they
    /// replace ([`LogFormat::walk_forward`], the reference): on lines
    /// made from a format's items with arbitrary values, then cut, with
    /// bytes inserted or removed, both must reach the same position (or
    /// error) with the same record and the same time cache, over the whole
    /// line, the summary's forward part and the rest after it, lines
    /// read in a row so that repeated times hit the warm cache.
    mod ops_agree {
        use super::super::*;
        use proptest::prelude::*;

        /// The built-in formats, each in the three escapes, and a few
        /// shapes they lack: JSON, a leading literal and a last field
        /// running to the end, `$msec`, a literal after `$status` that
        /// starts with a digit, an unread last field that may be a list.
        fn formats() -> &'static [LogFormat] {
            static F: std::sync::OnceLock<Vec<LogFormat>> = std::sync::OnceLock::new();
            F.get_or_init(|| {
                let mut v = Vec::new();
                for f in builtin_formats() {
                    for esc in [Escape::Default, Escape::Json, Escape::None] {
                        v.extend(LogFormat::compile(&f.name, &f.source, esc).ok());
                    }
                }
                for (text, esc) in [
                    (
                        r#"{"t":"$time_iso8601","req":"$request","s":"$status","ua":"$http_user_agent","us":"$upstream_status"}"#,
                        Escape::Json,
                    ),
                    ("[$time_local] $status $request_time $upstream_addr", Escape::Default),
                    ("$msec $status $request", Escape::Default),
                    ("$remote_addr ${status}1 $request x", Escape::Default),
                    (r#"$time_local $status "$upstream_cache_status""#, Escape::Default),
                    (r#"$remote_addr [$time_local] $status "$http_referer""#, Escape::None),
                ] {
                    v.push(LogFormat::compile("t", text, esc).unwrap());
                }
                v
            })
        }

        /// A value for a field: what nginx writes there, or bytes rich in
        /// the formats' delimiters.
        fn value() -> impl Strategy<Value = Vec<u8>> {
            prop_oneof![
                "[0-9]{3}",
                "[0-9]{2,4}",
                "[0-9]{1,2}/Nov/2026:14:03:0[0-9] \\+0[01]00",
                "2026-11-20T14:00:0[0-9]\\+00:00",
                "17[0-9]{8}\\.[0-9]{3}",
                "-",
                "[0-9]{1,3}(, [0-9]{1,3}){0,2}( : [0-9]{1,3})?",
                "[-0-9a-z \",:=/\\[\\]\\\\{}]{0,14}",
            ]
            .prop_map(String::into_bytes)
        }

        /// A change to a line: where (a fraction of its length) and what
        /// (0: cut there, 1: remove a byte, 2: insert `byte`).
        fn edit() -> impl Strategy<Value = (f64, u8, u8)> {
            (
                0.0..1.0f64,
                0..3u8,
                proptest::sample::select(b"\" [],:\\-0123=x\r".to_vec()),
            )
        }

        fn make(f: &LogFormat, values: &[Vec<u8>], edits: &[(f64, u8, u8)]) -> Vec<u8> {
            let mut line = Vec::new();
            for (k, it) in f.items.iter().enumerate() {
                match it {
                    Item::Lit(l) => line.extend_from_slice(l.bytes()),
                    Item::Var(..) => line.extend_from_slice(&values[k % values.len()]),
                }
            }
            for &(at, what, byte) in edits {
                let i = ((line.len() as f64) * at) as usize;
                match what {
                    0 => line.truncate(i),
                    1 if i < line.len() => {
                        line.remove(i);
                    }
                    _ => line.insert(i.min(line.len()), byte),
                }
            }
            line
        }

        /// Both walks over one line, from the same cache; panics (with
        /// the line) where they differ.
        fn agree(f: &LogFormat, line: &[u8], gen: &mut TimeCache, ops: &mut TimeCache) {
            let show = || {
                format!(
                    "{} {:?} on {}",
                    f.name,
                    f.escape,
                    String::from_utf8_lossy(line)
                )
            };
            let n = f.items.len();
            let (mut a, mut b) = (Record::default(), Record::default());
            let want = f.walk_forward(line, 0, 0, n, &mut a, gen);
            let got = run_ops(&f.ops_all, line, 0, &mut b, ops);
            assert_eq!((got, b), (want, a), "all: {}", show());
            assert_eq!(format!("{ops:?}"), format!("{gen:?}"), "cache: {}", show());
            let (mut a, mut b) = (Record::default(), Record::default());
            let want = f.walk_forward(line, 0, 0, f.front_end, &mut a, gen);
            let got = run_ops(&f.ops_front, line, 0, &mut b, ops);
            assert_eq!((got, b), (want, a), "front: {}", show());
            // the rest, from where the front stopped and from every byte
            let from = want.ok().into_iter().chain(0..=line.len());
            for pos in from {
                let (mut a, mut b) = (Record::default(), Record::default());
                let want = f.walk_forward(line, f.front_end, pos, n, &mut a, gen);
                let got = run_ops(&f.ops_rest, line, pos, &mut b, ops);
                assert_eq!((got, b), (want, a), "rest from {pos}: {}", show());
            }
            assert_eq!(format!("{ops:?}"), format!("{gen:?}"), "cache: {}", show());
            // the backward walks, down to every floor, reading as the
            // forward walk would or not
            let backs = [
                (f.back_start, &f.back_ops),
                (f.upstream_start, &f.upstream_ops),
            ];
            for (start, compiled) in backs {
                let Some(start) = start else { continue };
                for floor in 0..=line.len() {
                    for as_forward in [false, true] {
                        let (mut a, mut b) = (Record::default(), Record::default());
                        let want = f.walk_backward(line, start, floor, as_forward, &mut a, gen);
                        let got = run_back(compiled, line, floor, as_forward, &mut b, ops);
                        assert_eq!(
                            (got, b),
                            (want, a),
                            "back from {start} to {floor} ({as_forward}): {}",
                            show()
                        );
                    }
                }
            }
            assert_eq!(format!("{ops:?}"), format!("{gen:?}"), "cache: {}", show());
        }

        fn run(k: usize, values: &[Vec<u8>], edits: &[Vec<(f64, u8, u8)>]) {
            let f = &formats()[k % formats().len()];
            let (mut gen, mut ops) = (TimeCache::default(), TimeCache::default());
            // lines in a row: the same values (so the same time), each
            // with its own edits
            for e in edits {
                let line = make(f, values, e);
                agree(f, &line, &mut gen, &mut ops);
            }
        }

        /// Each op kind is compiled from at least one of the formats
        /// above, so the proptests run every one.
        #[test]
        fn every_op_is_exercised() {
            let mut seen = [false; 7];
            for f in formats() {
                for op in f.ops_all.iter().chain(&*f.ops_front).chain(&*f.ops_rest) {
                    seen[match op {
                        Op::Lit(_) => 0,
                        Op::Skip(_) => 1,
                        Op::SkipLast(_) => 2,
                        Op::Put(..) => 3,
                        Op::Status(_) => 4,
                        Op::Time(..) => 5,
                        Op::Rest(_) => 6,
                    }] = true;
                }
            }
            assert_eq!(seen, [true; 7]);
            let mut back = [false; 3];
            for f in formats() {
                for op in f.back_ops.iter().chain(&*f.upstream_ops) {
                    back[match op {
                        BackOp::Lit(_) => 0,
                        BackOp::Field { .. } => 1,
                        BackOp::Fail => 2,
                    }] = true;
                }
            }
            assert_eq!(
                back,
                [true, true, false],
                "no format has a field without a literal before it"
            );
            let f = &formats()[formats().len() - 3];
            assert!(
                matches!(f.ops_all[1], Op::Put(Field::Status, _)),
                "{:?}",
                f.ops_all
            );
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(512))]

            /// Every op on every format, values of every kind.
            #[test]
            fn ops_agree_with_the_generic_walk(
                k in 0..64usize,
                values in proptest::collection::vec(value(), 1..12),
                edits in proptest::collection::vec(proptest::collection::vec(edit(), 0..3), 1..4),
            ) {
                run(k, &values, &edits);
            }

            /// `Op::Status`: statuses of 2–4 digits or with a letter, the
            /// literal after them moved or removed.
            #[test]
            fn status_op_agrees(
                k in 0..64usize,
                status in "[0-9x]{2,4}",
                edits in proptest::collection::vec(proptest::collection::vec(edit(), 0..2), 1..3),
            ) {
                run(k, &[status.into_bytes()], &edits);
            }

            /// `Op::Time`: a time repeated over lines in a row (the warm
            /// cache), its end or its closing literal changed.
            #[test]
            fn time_op_agrees_with_a_warm_cache(
                k in 0..64usize,
                time in prop_oneof![
                    "[0-9]{2}/Nov/2026:14:03:0[0-9] \\+0100\\]?",
                    "2026-11-20T14:00:0[0-9]\\+00:00\"?",
                    "17[0-9]{8}\\.[0-9]{3}",
                ],
                edits in proptest::collection::vec(proptest::collection::vec(edit(), 0..2), 2..5),
            ) {
                run(k, &[time.into_bytes(), b"200".to_vec()], &edits);
            }

            /// `Op::SkipLast`, `Op::Skip`, `Op::Put` and `Op::Rest`:
            /// values holding quotes, list separators and escapes, lines
            /// cut or with text after the last literal.
            #[test]
            fn field_ops_agree_on_delimiters_in_values(
                k in 0..64usize,
                values in proptest::collection::vec("[-a \",:\\\\]{0,8}", 1..6),
                tail in "[ \"a]{0,4}",
                edits in proptest::collection::vec(proptest::collection::vec(edit(), 0..2), 1..3),
            ) {
                let f = &formats()[k % formats().len()];
                let values: Vec<Vec<u8>> = values.into_iter().map(String::into_bytes).collect();
                let (mut gen, mut ops) = (TimeCache::default(), TimeCache::default());
                for e in &edits {
                    let mut line = make(f, &values, e);
                    line.extend_from_slice(tail.as_bytes());
                    agree(f, &line, &mut gen, &mut ops);
                }
            }
        }
    }

    #[test]
    fn json_escaped_quotes_do_not_end_a_field() {
        let f = LogFormat::compile(
            "j",
            r#"{"t":"$time_iso8601","req":"$request","s":"$status","ua":"$http_user_agent","us":"$upstream_status"}"#,
            Escape::Json,
        )
        .unwrap();
        let mut c = TimeCache::default();
        let line = br#"{"t":"2026-11-20T14:00:00+00:00","req":"GET /a\"b HTTP/1.1","s":"502","ua":"x\\","us":"502"}"#;
        let full = f.parse(line, &mut c).unwrap();
        assert_eq!(full.status, Some(502));
        assert_eq!(full.request, Some(&br#"GET /a\"b HTTP/1.1"#[..]));
        let mut fast = Record::default();
        f.parse_summary(line, &mut fast, &mut c).unwrap();
        assert_eq!(fast.upstream.status, Some(&b"502"[..]));
    }

    #[test]
    fn compile_errors_are_clear() {
        let e = LogFormat::compile("x", "$remote_addr$status", Escape::Default).unwrap_err();
        assert!(e.to_string().contains("not separated"), "{e}");
        let e = LogFormat::compile("x", "$remote_addr [$time_local]", Escape::Default).unwrap_err();
        assert!(e.to_string().contains("no $status"), "{e}");
        let f = LogFormat::compile("x", "${remote_addr}x $status", Escape::Default).unwrap();
        assert_eq!(
            f.parse(b"1.2.3.4x 200", &mut TimeCache::default())
                .unwrap()
                .status,
            Some(200)
        );
    }

    #[test]
    fn unescapes() {
        assert_eq!(unescape(br"a\x22b\x5C", Escape::Default), "a\"b\\");
        assert_eq!(unescape(br"\xE2\x82\xAC", Escape::Default), "€");
        assert_eq!(unescape(br"\x1", Escape::Default), "\\x1");
        assert_eq!(unescape(br#"a\"b"#, Escape::Json), "a\"b");
    }
}
