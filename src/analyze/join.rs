//! Access-log request ↔ error-log lines.
//!
//! nginx writes the access line when the response is finished and an error
//! line when the failure happens, so the error lines of a request fall in
//! `[t - request_time - slack, t + slack]`. A line matches when the client and
//! the request line are the same (and the connection number, when the access
//! format logs `$connection`). The closest match wins; the other lines of that
//! connection in the window are the same request's earlier attempts.

use std::collections::HashMap;

use crate::logs::nginx_error::ErrorLine;

/// Seconds of clock slack either side of the window (timestamps are whole seconds).
pub const SLACK_S: i64 = 2;
/// Window back from the access time when the format logs no `$request_time`:
/// nginx's default proxy timeouts are 60 s.
pub const NO_REQUEST_TIME_WINDOW_S: i64 = 65;

/// At most this many error lines of one connection are joined to one
/// request: more than any `proxy_next_upstream` chain writes (one or two
/// lines per server tried), fewer than a reused connection number can pile
/// up when the same client repeats the same request.
const MAX_ATTEMPT_LINES: usize = 64;

/// At most this many lines of one key or connection in a request's window
/// are looked at, those nearest in time (see [`ErrorIndex::find`]).
const MAX_SCAN: usize = 512;

/// Error lines indexed for joining.
#[derive(Debug, Default)]
pub struct ErrorIndex {
    /// All upstream error lines, sorted by time.
    pub lines: Vec<ErrorLine>,
    by_request: HashMap<(String, String), Vec<u32>>,
    /// The same, with the query string dropped from the request line.
    by_request_sans_query: HashMap<(String, String), Vec<u32>>,
    /// By request line alone, for access logs whose client field is not
    /// the error log's `client:` (or that log none): [`Probe::any_client`].
    by_line: HashMap<String, Vec<u32>>,
    /// The same, with the query string dropped.
    by_line_sans_query: HashMap<String, Vec<u32>>,
    by_cid: HashMap<u64, Vec<u32>>,
    /// Earliest and latest time of any error-log line (any level), wall clock.
    pub span: Option<(i64, i64)>,
    /// Error-log file names, by file index.
    pub files: Vec<String>,
    /// The seconds of the lines logged after the response header had gone
    /// out ([`crate::analyze::cause::after_header`]), sorted, each once:
    /// the access pass looks for the responses they cut (`cut.rs`) only
    /// near these.
    pub body_secs: Vec<i64>,
    /// Some upstream line is at `error` or below: the logs' level lets
    /// through what nginx logs at `error` (a refused connection, a timeout).
    /// Lines at `crit` alone (a missing unix socket) do not show that.
    pub records_error_level: bool,
}

/// The request as the access log saw it.
#[derive(Debug, Clone, Copy)]
pub struct Probe<'a> {
    /// Wall-clock seconds comparable with error-log times.
    pub local_secs: i64,
    /// Request time in ms, when logged.
    pub request_time_ms: Option<u32>,
    /// Client address.
    pub client: Option<&'a str>,
    /// The request line (`GET /x HTTP/1.1`).
    pub request: Option<&'a str>,
    /// `$connection`, when logged.
    pub connection: Option<u64>,
    /// The access log's request target has no query string (`$uri`):
    /// compare the error lines' request lines without theirs.
    pub sans_query: bool,
    /// Match by request line and time alone, whatever the client: the
    /// access log's client is known not to be the error log's (see
    /// [`ErrorIndex::scan_offsets_any_client`]). A probe without a client
    /// is always matched so.
    pub any_client: bool,
}

impl Probe<'_> {
    /// Whether `l` logged this probe's request line (without the query
    /// string when the access log has none).
    fn same_request(&self, l: &ErrorLine) -> bool {
        l.request.as_deref().map(|r| {
            if self.sans_query {
                drop_query(r)
            } else {
                r.into()
            }
        }) == self.request.map(Into::into)
    }
}

/// An access-log time on the error log's clock: `--error-log-tz ZONE`'s
/// offset at that moment, else the offset detected or given (across a
/// daylight-saving change, the one of its side), else the wall clock the
/// access log showed.
pub fn error_log_secs(t: crate::logs::scan::LogTime, opts: &super::Options) -> i64 {
    match (&opts.error_log_zone, opts.error_log_offset_s) {
        (Some(z), _) => t.secs() + zone_offset(z, t.secs()) as i64,
        (None, Some(off)) => match opts.error_log_offset_change {
            // daylight saving: the error log's clock moved (OffsetChange)
            Some(c) if t.secs() >= c.from_utc => t.secs() + c.offset_s as i64,
            _ => t.secs() + off as i64,
        },
        (None, None) => t.local_secs(),
    }
}

/// The request line as the error log writes it (`GET /x?y HTTP/1.1`):
/// `$request`, or rebuilt from method, path (+ `$args`) and protocol.
pub fn request_text(
    rec: &crate::logs::record::Record<'_>,
    esc: crate::logs::nginx::Escape,
) -> Option<String> {
    let text = |v: Option<&[u8]>| v.map(|b| crate::logs::nginx::unescape(b, esc));
    text(rec.request).or_else(|| match (rec.method, rec.path, rec.protocol) {
        (Some(m), Some(p), Some(pr)) => {
            // `$uri` + `$args` (ingress-nginx JSON): the target with its query
            let query = match rec.args {
                Some(a) if !p.contains(&b'?') => {
                    format!("?{}", crate::logs::nginx::unescape(a, esc))
                }
                _ => String::new(),
            };
            Some(format!(
                "{} {}{query} {}",
                crate::logs::nginx::unescape(m, esc),
                crate::logs::nginx::unescape(p, esc),
                crate::logs::nginx::unescape(pr, esc)
            ))
        }
        _ => None,
    })
}

/// `GET /a?b=1 HTTP/1.1` → `GET /a HTTP/1.1`.
pub fn drop_query(request: &str) -> std::borrow::Cow<'_, str> {
    let Some(q) = request.find('?') else {
        return request.into();
    };
    match request[q..].find(' ') {
        Some(sp) => format!("{}{}", &request[..q], &request[q + sp..]).into(),
        None => request[..q].into(),
    }
}

impl ErrorIndex {
    /// Build the index from every upstream error line and the time span of all lines.
    pub fn new(mut lines: Vec<ErrorLine>, span: Option<(i64, i64)>, files: Vec<String>) -> Self {
        lines.sort_by_key(|l| (l.local_secs, l.file, l.line));
        let mut by_request: HashMap<(String, String), Vec<u32>> = HashMap::new();
        let mut by_request_sans_query: HashMap<(String, String), Vec<u32>> = HashMap::new();
        let mut by_cid: HashMap<u64, Vec<u32>> = HashMap::new();
        let mut by_line: HashMap<String, Vec<u32>> = HashMap::new();
        let mut by_line_sans_query: HashMap<String, Vec<u32>> = HashMap::new();
        for (i, l) in lines.iter().enumerate() {
            if let Some(r) = &l.request {
                by_line_sans_query
                    .entry(drop_query(r).into_owned())
                    .or_default()
                    .push(i as u32);
                by_line.entry(r.clone()).or_default().push(i as u32);
            }
            if let (Some(c), Some(r)) = (&l.client, &l.request) {
                by_request_sans_query
                    .entry((c.clone(), drop_query(r).into_owned()))
                    .or_default()
                    .push(i as u32);
                by_request
                    .entry((c.clone(), r.clone()))
                    .or_default()
                    .push(i as u32);
            }
            if let Some(cid) = l.cid {
                by_cid.entry(cid).or_default().push(i as u32);
            }
        }
        let records_error_level = lines
            .iter()
            .any(|l| !matches!(l.level.as_str(), "crit" | "alert" | "emerg"));
        let mut body_secs: Vec<i64> = lines
            .iter()
            .filter(|l| super::cause::after_header(l))
            .map(|l| l.local_secs)
            .collect();
        body_secs.dedup();
        ErrorIndex {
            records_error_level,
            lines,
            by_request,
            by_request_sans_query,
            by_line,
            by_line_sans_query,
            by_cid,
            span,
            files,
            body_secs,
        }
    }

    /// Is an error line of the body phase within [`SLACK_S`] of the
    /// error-log second `secs`?
    pub fn body_phase_near(&self, secs: i64) -> bool {
        let i = self.body_secs.partition_point(|&s| s < secs - SLACK_S);
        self.body_secs.get(i).is_some_and(|&s| s <= secs + SLACK_S)
    }

    /// True when no error log was given.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Do the error logs cover this wall-clock second (their span, widened by 5 minutes)?
    pub fn covers(&self, local_secs: i64) -> bool {
        self.span
            .is_some_and(|(a, b)| local_secs >= a - 300 && local_secs <= b + 300)
    }

    /// The error lines of this request, oldest first.
    pub fn find<'s>(&'s self, p: &Probe<'_>) -> Vec<&'s ErrorLine> {
        let back = match p.request_time_ms {
            Some(ms) => (ms as i64 + 999) / 1000 + SLACK_S,
            None => NO_REQUEST_TIME_WINDOW_S,
        };
        let (lo, hi) = (p.local_secs - back, p.local_secs + SLACK_S);
        let candidates: &[u32] = if let Some(cid) = p.connection {
            self.by_cid.get(&cid).map(|v| &v[..]).unwrap_or(&[])
        } else if p.any_client || p.client.is_none() {
            let map = if p.sans_query {
                &self.by_line_sans_query
            } else {
                &self.by_line
            };
            p.request
                .and_then(|r| map.get(r))
                .map(|v| &v[..])
                .unwrap_or(&[])
        } else {
            let map = if p.sans_query {
                &self.by_request_sans_query
            } else {
                &self.by_request
            };
            match (p.client, p.request) {
                (Some(c), Some(r)) => map
                    .get(&(c.to_string(), r.to_string()))
                    .map(|v| &v[..])
                    .unwrap_or(&[]),
                _ => &[],
            }
        };
        // a list's lines are in index order, i.e. in time order: only its
        // lines in the window are looked at, found by binary search (one
        // client repeating one request - a health check, every request of a
        // load balancer in front - can put thousands of lines under one key;
        // a scan of all of them per 5xx was quadratic)
        let at = |i: &u32| self.lines[*i as usize].local_secs;
        let window = |list: &'s [u32]| -> &'s [u32] {
            let from = list.partition_point(|i| at(i) < lo);
            let to = from + list[from..].partition_point(|i| at(i) <= hi);
            &list[from..to]
        };
        // at most MAX_SCAN of a window's lines, those around second `t`: a
        // window holds a few lines (one request's attempts, a client's
        // requests of a minute) unless one number or key repeats at a rate
        // no single request explains; then the nearest decide
        let around = |list: &'s [u32], t: i64| -> &'s [u32] {
            if list.len() <= MAX_SCAN {
                return list;
            }
            let k = list.partition_point(|i| at(i) < t);
            let from = k.saturating_sub(MAX_SCAN / 2).min(list.len() - MAX_SCAN);
            &list[from..from + MAX_SCAN]
        };
        let best = if p.connection.is_some() {
            // by connection: the client and request must agree where logged
            around(window(candidates), p.local_secs)
                .iter()
                .map(|&i| &self.lines[i as usize])
                .filter(|l| {
                    (p.client.is_none() || l.client.as_deref() == p.client)
                        && (p.request.is_none() || p.same_request(l))
                })
                .min_by_key(|l| (p.local_secs - l.local_secs).abs())
        } else {
            // by request: every line of the key matches; the nearest in
            // time, the oldest of those as near
            let list = window(candidates);
            let k = list.partition_point(|i| at(i) < p.local_secs);
            let after = list.get(k);
            let before = k.checked_sub(1).map(|j| {
                let t = at(&list[j]);
                &list[list[..j].partition_point(|i| at(i) < t)]
            });
            match (before, after) {
                (Some(b), Some(a)) if p.local_secs - at(b) <= at(a) - p.local_secs => Some(b),
                (_, Some(a)) => Some(a),
                (b, None) => b,
            }
            .map(|&i| &self.lines[i as usize])
        };
        let Some(best) = best else {
            return Vec::new();
        };
        // the same request's other attempts: same connection and request,
        // in the window
        let Some(cid) = best.cid else {
            return vec![best];
        };
        let by_client = p.connection.is_some() || !(p.any_client || p.client.is_none());
        let mut same: Vec<&ErrorLine> = around(
            window(self.by_cid.get(&cid).map_or(&[], |v| &v[..])),
            best.local_secs,
        )
        .iter()
        .map(|&i| &self.lines[i as usize])
        .filter(|l| {
            (p.request.is_none() || p.same_request(l))
                && (!by_client || p.client.is_none() || l.client.as_deref() == p.client)
        })
        .collect();
        if same.len() > MAX_ATTEMPT_LINES {
            // more lines of one connection in the window than one request's
            // attempts write: the number was reused (several nginx
            // instances, a restart) - the ones nearest in time are kept
            let ls = p.local_secs;
            same.sort_by_key(|l| (ls - l.local_secs).abs());
            same.truncate(MAX_ATTEMPT_LINES);
            same.sort_by_key(|l| (l.local_secs, l.file, l.line));
        }
        same
    }
}

/// A 5xx access line, owned, for [`ErrorIndex::guess_offset`].
#[derive(Debug, Clone)]
pub struct OffsetProbe {
    /// UTC seconds of the access line.
    pub utc_secs: i64,
    /// The offset the access line was written in (0 for `$msec`/UTC).
    pub own_offset_s: i32,
    /// Request time in ms, when logged.
    pub request_time_ms: Option<u32>,
    /// Client address.
    pub client: String,
    /// Request line.
    pub request: String,
    /// See [`Probe::sans_query`].
    pub sans_query: bool,
}

/// The error log's offset from UTC, as the join evidence shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OffsetGuess {
    /// Seconds east of UTC.
    pub offset_s: i32,
    /// 5xx access lines that match an error line at that offset.
    pub matched: usize,
    /// 5xx access lines tried.
    pub of: usize,
    /// Matches with each access line's own offset (the default reading).
    pub own: usize,
    /// The zone changed offset inside the logs (daylight saving time):
    /// from this UTC second on, read the error log at this offset instead.
    pub change: Option<OffsetChange>,
}

/// Seconds east of UTC of `zone` at the UTC second `utc`: what the error
/// log's clock read then (`--error-log-tz Europe/Berlin`; a zone with
/// daylight saving time moves it twice a year). 0 outside jiff's range.
pub fn zone_offset(zone: &jiff::tz::TimeZone, utc: i64) -> i32 {
    jiff::Timestamp::from_second(utc)
        .map(|t| zone.to_offset(t).seconds())
        .unwrap_or(0)
}

/// A change of the error log's offset at a moment of the logs: what a
/// daylight-saving switch does to nginx's zone-less local times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OffsetChange {
    /// The first UTC second read at `offset_s` (the first 5xx access line
    /// that joins only at it).
    pub from_utc: i64,
    /// Seconds east of UTC from then on.
    pub offset_s: i32,
    /// 5xx access lines that match at this offset (and not at the first).
    pub matched: usize,
}

impl OffsetGuess {
    /// The offset of the error log's clock at UTC second `utc`.
    pub fn at(&self, utc: i64) -> i32 {
        match self.change {
            Some(c) if utc >= c.from_utc => c.offset_s,
            _ => self.offset_s,
        }
    }
}

/// Candidate offsets: −14:00 … +14:00 in 30-minute steps (every zone in
/// use is a whole or half hour off, but for a few 45-minute ones).
const OFFSET_STEP_S: i32 = 1800;
const OFFSET_MAX_S: i32 = 14 * 3600;

impl ErrorIndex {
    /// For one probe: how far (seconds) each error line of the same client
    /// and request is from the access line's UTC time. Looked up once per
    /// probe; every candidate offset is then plain arithmetic.
    fn deltas(&self, p: &OffsetProbe, any_client: bool) -> Vec<i64> {
        let found = if any_client {
            let map = if p.sans_query {
                &self.by_line_sans_query
            } else {
                &self.by_line
            };
            map.get(&p.request)
        } else {
            let map = if p.sans_query {
                &self.by_request_sans_query
            } else {
                &self.by_request
            };
            map.get(&(p.client.clone(), p.request.clone()))
        };
        found
            .map(|v| {
                v.iter()
                    .map(|&i| self.lines[i as usize].local_secs - p.utc_secs)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Count, for the access lines' own offsets and for every candidate
    /// offset, the 5xx access lines that join an error line of the same
    /// client and request within the join window ([`ErrorIndex::find`]).
    pub fn scan_offsets(&self, probes: &[OffsetProbe]) -> OffsetScan {
        self.scan(probes, false)
    }

    /// [`ErrorIndex::scan_offsets`] by request line and time alone, for
    /// when no 5xx access line joins with its client: an access log whose
    /// first field is `$http_x_forwarded_for` or `$proxy_protocol_addr`
    /// names another client than the error log's `client:` (the address
    /// nginx's connection came from).
    pub fn scan_offsets_any_client(&self, probes: &[OffsetProbe]) -> OffsetScan {
        self.scan(probes, true)
    }

    fn scan(&self, probes: &[OffsetProbe], any_client: bool) -> OffsetScan {
        let candidates: Vec<i32> = (-OFFSET_MAX_S / OFFSET_STEP_S..=OFFSET_MAX_S / OFFSET_STEP_S)
            .map(|k| k * OFFSET_STEP_S)
            .collect();
        let mut counts = vec![0usize; candidates.len()];
        // per candidate, the UTC seconds of the probes that join at it
        let mut when: Vec<Vec<i64>> = vec![Vec::new(); candidates.len()];
        let mut own = 0;
        let mut any = 0;
        for p in probes {
            let d = self.deltas(p, any_client);
            if d.is_empty() {
                continue;
            }
            let back = match p.request_time_ms {
                Some(ms) => (ms as i64 + 999) / 1000 + SLACK_S,
                None => NO_REQUEST_TIME_WINDOW_S,
            };
            // the error line is in [local - back, local + SLACK], local = utc
            // + offset; `d` is sorted (the key's lines are in time order)
            let hits = |o: i64| {
                let k = d.partition_point(|&x| x - o < -back);
                d.get(k).is_some_and(|&x| x - o <= SLACK_S)
            };
            let mut hit_any = false;
            if hits(p.own_offset_s as i64) {
                own += 1;
                hit_any = true;
            }
            for ((c, w), &o) in counts.iter_mut().zip(&mut when).zip(&candidates) {
                if hits(o as i64) {
                    *c += 1;
                    w.push(p.utc_secs);
                    hit_any = true;
                }
            }
            any += usize::from(hit_any);
        }
        let change = zone_change(&candidates, &when);
        let mut ranked: Vec<(i32, usize)> = candidates.into_iter().zip(counts).collect();
        ranked.sort_by_key(|(o, n)| (std::cmp::Reverse(*n), o.abs()));
        OffsetScan {
            probes: probes.len(),
            own,
            any,
            best: ranked[0],
            runner_up: ranked.get(1).map_or(0, |c| c.1),
            change,
        }
    }

    /// [`ErrorIndex::scan_offsets`], then [`OffsetScan::guess`].
    pub fn guess_offset(&self, probes: &[OffsetProbe]) -> Option<OffsetGuess> {
        self.scan_offsets(probes).guess()
    }
}

/// Daylight saving moves a zone's offset by one hour (half an hour on Lord
/// Howe Island): the only changes looked for.
const DST_SHIFTS_S: [i32; 2] = [3600, 1800];

/// Two offsets a daylight-saving shift apart, each joining at least two 5xx
/// lines, where every line joined only at the first comes before every line
/// joined only at the second: the error log's clock changed offset in
/// between (nginx takes the zone's new offset at its next time update, so
/// its local times jump by the shift while `$msec` goes on). Returns the
/// first offset, the change, and the lines they join together.
fn zone_change(candidates: &[i32], when: &[Vec<i64>]) -> Option<(i32, OffsetChange, usize)> {
    let mut best: Option<(i32, OffsetChange, usize)> = None;
    // sorted copies, for membership by binary search (up to 2,000 probes each)
    let sorted: Vec<Vec<i64>> = when
        .iter()
        .map(|w| {
            let mut w = w.clone();
            w.sort_unstable();
            w
        })
        .collect();
    for (i, &a) in candidates.iter().enumerate() {
        for (j, &b) in candidates.iter().enumerate() {
            if !DST_SHIFTS_S.contains(&(a - b).abs()) {
                continue;
            }
            let only = |x: &[i64], y: &[i64]| -> Vec<i64> {
                x.iter()
                    .copied()
                    .filter(|t| y.binary_search(t).is_err())
                    .collect()
            };
            let (wa, wb) = (only(&when[i], &sorted[j]), only(&when[j], &sorted[i]));
            if wa.len() < 2 || wb.len() < 2 {
                continue;
            }
            let (a_last, b_first) = (wa.iter().max()?, wb.iter().min()?);
            if a_last >= b_first {
                continue;
            }
            let joined = when[i].len() + wb.len();
            if best.is_none_or(|(_, _, n)| joined > n) {
                best = Some((
                    a,
                    OffsetChange {
                        from_utc: *b_first,
                        offset_s: b,
                        matched: wb.len(),
                    },
                    joined,
                ));
            }
        }
    }
    best
}

/// What [`ErrorIndex::scan_offsets`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OffsetScan {
    /// 5xx access lines tried.
    pub probes: usize,
    /// Lines that join at their own offset.
    pub own: usize,
    /// Lines that join at some offset (own or candidate).
    pub any: usize,
    /// The candidate offset with the most joins, and how many.
    pub best: (i32, usize),
    /// Joins at the second-best candidate.
    pub runner_up: usize,
    /// Two offsets, one before and one after a moment of the logs (see
    /// [`OffsetChange`]), and the lines they join together.
    pub change: Option<(i32, OffsetChange, usize)>,
}

impl OffsetScan {
    /// `Some` when one offset has clearly the most joins (more than twice
    /// the runner-up) and more than the lines' own offsets, i.e. when
    /// reading the error log at that offset changes the answer.
    ///
    /// A change of offset inside the logs (daylight saving) is taken when
    /// its two offsets together join more lines than the best single one
    /// and than the lines' own offsets.
    pub fn guess(&self) -> Option<OffsetGuess> {
        let (offset_s, matched) = self.best;
        if let Some((first, change, joined)) = self.change {
            if joined > matched && joined > self.own {
                return Some(OffsetGuess {
                    offset_s: first,
                    matched: joined,
                    of: self.probes,
                    own: self.own,
                    change: Some(change),
                });
            }
        }
        (matched > 0 && matched > 2 * self.runner_up && matched > self.own).then_some(OffsetGuess {
            offset_s,
            matched,
            of: self.probes,
            own: self.own,
            change: None,
        })
    }
}

/// `+05:30` for 19800.
pub fn offset_str(offset_s: i32) -> String {
    let sign = if offset_s < 0 { '-' } else { '+' };
    let a = offset_s.unsigned_abs();
    format!("{sign}{:02}:{:02}", a / 3600, a % 3600 / 60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::nginx_error::UpstreamError;

    fn line(t: i64, cid: u64, req: &str, up: &str) -> ErrorLine {
        ErrorLine {
            file: 0,
            line: t as u64,
            local_secs: t,
            level: "error".into(),
            cid: Some(cid),
            kind: UpstreamError::Refused,
            message: "m".into(),
            client: Some("1.2.3.4".into()),
            request: Some(req.into()),
            upstream: Some(up.into()),
            host: None,
        }
    }

    /// What `find` did before it searched windows: every line of the key
    /// looked at, for the property below.
    fn find_by_scan<'s>(idx: &'s ErrorIndex, p: &Probe<'_>) -> Vec<&'s ErrorLine> {
        let back = match p.request_time_ms {
            Some(ms) => (ms as i64 + 999) / 1000 + SLACK_S,
            None => NO_REQUEST_TIME_WINDOW_S,
        };
        let (lo, hi) = (p.local_secs - back, p.local_secs + SLACK_S);
        let matching: Vec<&ErrorLine> = idx
            .lines
            .iter()
            .filter(|l| l.local_secs >= lo && l.local_secs <= hi)
            .filter(|l| match p.connection {
                Some(c) => {
                    l.cid == Some(c)
                        && (p.client.is_none() || l.client.as_deref() == p.client)
                        && (p.request.is_none() || p.same_request(l))
                }
                None if p.any_client || p.client.is_none() => {
                    p.request.is_some() && p.same_request(l)
                }
                None => {
                    p.request.is_some()
                        && l.client.is_some()
                        && l.client.as_deref() == p.client
                        && p.same_request(l)
                }
            })
            .collect();
        let Some(best) = matching
            .iter()
            .min_by_key(|l| (p.local_secs - l.local_secs).abs())
        else {
            return Vec::new();
        };
        match best.cid {
            Some(cid) => matching
                .into_iter()
                .filter(|l| l.cid == Some(cid))
                .collect(),
            None => vec![*best],
        }
    }

    proptest::proptest! {
        /// The windowed search finds what a scan of every line finds, when
        /// no key has more lines in a window than it looks at.
        #[test]
        fn windowed_find_equals_a_full_scan(
            lines in proptest::collection::vec(
                (0i64..400, 0u64..6, 0usize..3, 0usize..2, proptest::bool::ANY), 0..200),
            probes in proptest::collection::vec(
                (0i64..400, proptest::option::of(0u32..90_000), 0usize..3, 0usize..3,
                 proptest::option::of(0u64..6), proptest::bool::ANY, proptest::bool::ANY),
                1..20),
        ) {
            let reqs = ["GET /a HTTP/1.1", "GET /a?x=1 HTTP/1.1", "POST /b HTTP/1.1"];
            let clients = ["1.2.3.4", "5.6.7.8"];
            let ls: Vec<ErrorLine> = lines
                .iter()
                .enumerate()
                .map(|(n, &(t, cid, r, c, has_cid))| ErrorLine {
                    line: n as u64,
                    cid: has_cid.then_some(cid),
                    client: Some(clients[c].into()),
                    ..line(t, cid, reqs[r], "u")
                })
                .collect();
            let idx = ErrorIndex::new(ls, Some((0, 400)), vec!["e".into()]);
            for &(t, ms, r, c, conn, sans, any) in &probes {
                let req = if sans { drop_query(reqs[r]).into_owned() } else { reqs[r].to_string() };
                let p = Probe {
                    local_secs: t,
                    request_time_ms: ms,
                    client: clients.get(c).copied(),
                    request: Some(&req),
                    connection: conn,
                    sans_query: sans,
                    any_client: any,
                };
                let got: Vec<(u32, u64)> = idx.find(&p).iter().map(|l| (l.file, l.line)).collect();
                let want: Vec<(u32, u64)> =
                    find_by_scan(&idx, &p).iter().map(|l| (l.file, l.line)).collect();
                proptest::prop_assert_eq!(got, want);
            }
        }
    }

    #[test]
    fn one_key_repeated_thousands_of_times_in_one_second_stays_bounded() {
        // every line of one client, request and connection number, as a
        // dump of several nginx instances or a health check can hold
        let ls: Vec<ErrorLine> = (0..20_000)
            .map(|n| ErrorLine {
                line: n,
                ..line(100, 4, "GET /healthz HTTP/1.1", "u")
            })
            .collect();
        let idx = ErrorIndex::new(ls, Some((0, 200)), vec!["e".into()]);
        let p = Probe {
            local_secs: 100,
            request_time_ms: Some(5),
            client: Some("1.2.3.4"),
            request: Some("GET /healthz HTTP/1.1"),
            connection: None,
            sans_query: false,
            any_client: false,
        };
        let got = idx.find(&p);
        assert_eq!(got.len(), MAX_ATTEMPT_LINES);
        assert!(got.windows(2).all(|w| w[0].line < w[1].line));
    }

    #[test]
    fn joins_closest_and_its_retries() {
        let idx = ErrorIndex::new(
            vec![
                line(100, 7, "GET /a HTTP/1.1", "10.0.0.1:80"),
                line(100, 7, "GET /a HTTP/1.1", "10.0.0.2:80"),
                line(40, 3, "GET /a HTTP/1.1", "10.0.0.1:80"),
                line(101, 8, "GET /b HTTP/1.1", "10.0.0.1:80"),
            ],
            Some((40, 101)),
            vec!["error.log".into()],
        );
        let p = Probe {
            local_secs: 101,
            request_time_ms: Some(3),
            client: Some("1.2.3.4"),
            request: Some("GET /a HTTP/1.1"),
            connection: None,
            sans_query: false,
            any_client: false,
        };
        let got = idx.find(&p);
        assert_eq!(got.len(), 2);
        assert!(got.iter().all(|l| l.cid == Some(7)));
        // outside the window: nothing
        let far = Probe {
            local_secs: 500,
            ..p
        };
        assert!(idx.find(&far).is_empty());
        assert!(idx.covers(101));
        assert!(idx.records_error_level);
        let mut crit = line(100, 7, "GET /a HTTP/1.1", "unix:/run/app.sock");
        crit.level = "crit".into();
        let only_crit = ErrorIndex::new(vec![crit], Some((40, 101)), vec!["error.log".into()]);
        assert!(!only_crit.records_error_level);
        // a `$uri` log has no query: the error line's is dropped to compare
        let idx = ErrorIndex::new(
            vec![line(100, 7, "GET /a?x=1 HTTP/1.1", "10.0.0.1:80")],
            Some((40, 101)),
            vec!["error.log".into()],
        );
        let sans = Probe {
            sans_query: true,
            ..p
        };
        assert_eq!(idx.find(&sans).len(), 1);
        assert!(idx.find(&p).is_empty());
        // another client's line joins only by request line alone
        let other = Probe {
            client: Some("9.9.9.9"),
            ..p
        };
        assert!(idx.find(&other).is_empty());
        let loose = Probe {
            any_client: true,
            sans_query: true,
            ..other
        };
        assert_eq!(idx.find(&loose).len(), 1);
        assert_eq!(drop_query("GET /a?b=1 HTTP/1.1"), "GET /a HTTP/1.1");
        assert_eq!(drop_query("GET /a"), "GET /a");
    }

    /// Six 5xx of one client, 7 s apart from UTC second 1000 on: an error
    /// index whose line `i` is written at the local offset `offset(i)`
    /// (covering `covers`), and the access lines' probes at UTC (`$msec`).
    fn offset_case(
        offset: impl Fn(i64) -> i64,
        covers: (i64, i64),
    ) -> (ErrorIndex, Vec<OffsetProbe>) {
        let idx = ErrorIndex::new(
            (0..6)
                .map(|i| {
                    line(
                        1000 + i * 7 + offset(i),
                        i as u64,
                        &format!("GET /{i} HTTP/1.1"),
                        "a:1",
                    )
                })
                .collect(),
            Some(covers),
            vec!["error.log".into()],
        );
        (idx, probes_at_utc())
    }

    /// The probes of [`offset_case`]: at UTC, 7 s apart from second 1000.
    fn probes_at_utc() -> Vec<OffsetProbe> {
        (0..6)
            .map(|i| OffsetProbe {
                utc_secs: 1000 + i * 7,
                own_offset_s: 0,
                request_time_ms: Some(5),
                client: "1.2.3.4".into(),
                request: format!("GET /{i} HTTP/1.1"),
                sans_query: false,
            })
            .collect()
    }

    #[test]
    fn guesses_a_half_hour_offset() {
        // error log at +05:30; access lines in UTC
        let off = 19800;
        let (idx, probes) = offset_case(|_| off, (1000 + off, 2000 + off));
        let g = idx.guess_offset(&probes).expect("an offset");
        assert_eq!((g.offset_s, g.matched, g.of, g.own), (off as i32, 6, 6, 0));
        assert_eq!(offset_str(g.offset_s), "+05:30");
        assert_eq!(offset_str(-12600), "-03:30");
        // already right at the lines' own offset: nothing to change
        let right: Vec<OffsetProbe> = probes
            .iter()
            .cloned()
            .map(|p| OffsetProbe {
                own_offset_s: off as i32,
                ..p
            })
            .collect();
        assert_eq!(idx.guess_offset(&right), None);
        assert!(!idx.covers(10_000));
    }

    #[test]
    fn follows_a_daylight_saving_change() {
        // the error log at +02:00 for three 5xx, then at +01:00 for three;
        // the access lines in UTC ($msec)
        let (idx, probes) = offset_case(|i| if i < 3 { 7200 } else { 3600 }, (0, 20_000));
        let g = idx.guess_offset(&probes).expect("an offset");
        assert_eq!((g.offset_s, g.matched, g.of), (7200, 6, 6));
        let c = g.change.expect("a change");
        assert_eq!((c.from_utc, c.offset_s, c.matched), (1021, 3600, 3));
        assert_eq!((g.at(1014), g.at(1021)), (7200, 3600));
        // one line at the other offset is no change (a stray match)
        let (idx1, _) = offset_case(|i| if i == 5 { 3600 } else { 7200 }, (0, 20_000));
        let g = idx1.guess_offset(&probes).expect("an offset");
        assert_eq!((g.offset_s, g.matched, g.change), (7200, 5, None));
    }

    #[test]
    fn a_zones_offset_follows_its_daylight_saving_time() {
        // Europe/Berlin left summer time at 2026-10-25T01:00:00Z
        let z = jiff::tz::TimeZone::get("Europe/Berlin").expect("tz database");
        let change = 1_792_890_000; // 2026-10-25T01:00:00Z
        assert_eq!(zone_offset(&z, change - 1), 7200);
        assert_eq!(zone_offset(&z, change), 3600);
        assert_eq!(zone_offset(&jiff::tz::TimeZone::UTC, change), 0);
    }
}
