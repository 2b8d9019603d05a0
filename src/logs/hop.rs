//! The format-neutral view of one request at one hop (CDN, load balancer,
//! proxy, app), shared by every log format that is not nginx's, and the
//! contract each such format implements ([`HopFormat`]).
//!
//! A format module (`logs/haproxy.rs`, `logs/envoy.rs`, `logs/cloudfront.rs`,
//! …) turns one line into a [`HopRecord`] that borrows the line: no
//! allocation on the hot path. What only that format logs (HAProxy's
//! termination state, Envoy's response flags, ALB's `error_reason` …) rides
//! in [`Signals`]; `analyze` maps those signals to the shared causes.
//!
//! Imports only `logs::scan`; never `analyze` or `report`.

use super::scan::LogTime;

/// Where a hop sits on the path from the client to the application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HopKind {
    /// A CDN edge (CloudFront, Cloudflare, Fastly).
    Cdn,
    /// A cloud load balancer (AWS ALB, Google Cloud LB).
    Lb,
    /// A reverse proxy / gateway (nginx, HAProxy, Envoy).
    Proxy,
    /// The application itself.
    App,
}

impl HopKind {
    /// Order from the client inwards (CDN = 0).
    pub fn depth(self) -> u8 {
        match self {
            HopKind::Cdn => 0,
            HopKind::Lb => 1,
            HopKind::Proxy => 2,
            HopKind::App => 3,
        }
    }
}

/// What only one format logs: the signals that explain its 5xx.
/// Times are milliseconds; `None` means not logged, or logged as "not
/// reached" (HAProxy `-1`, ALB `-1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Signals<'a> {
    /// The format logs nothing beyond the common fields.
    #[default]
    None,
    /// HAProxy `option httplog` / `log-format`.
    Haproxy {
        /// Termination state, 2–4 characters (`SC--`, `sH--`, `----`).
        termination: Option<&'a [u8]>,
        /// `Tq`/`TR`: time to receive the full request, ms.
        tq: Option<i64>,
        /// `Tw`: time waiting in queues, ms.
        tw: Option<i64>,
        /// `Tc`: time to connect to the server, ms.
        tc: Option<i64>,
        /// `Tr`: server response time (to headers), ms.
        tr: Option<i64>,
        /// `Ta`/`Tt`: total active time, ms.
        ta: Option<i64>,
        /// Frontend name.
        frontend: Option<&'a [u8]>,
        /// Backend name.
        backend: Option<&'a [u8]>,
        /// Server name (`<NOSRV>` when none was selected).
        server: Option<&'a [u8]>,
        /// Retries (`+N` when redispatched).
        retries: Option<&'a [u8]>,
    },
    /// Envoy access log (text, JSON, Istio).
    Envoy {
        /// `%RESPONSE_FLAGS%` (`UF,URX`, `-` → `None`).
        flags: Option<&'a [u8]>,
        /// `%RESPONSE_CODE_DETAILS%`.
        details: Option<&'a [u8]>,
        /// `%UPSTREAM_TRANSPORT_FAILURE_REASON%`.
        transport_failure: Option<&'a [u8]>,
        /// `%UPSTREAM_CLUSTER%`.
        cluster: Option<&'a [u8]>,
        /// `%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%`, ms: set only when the
        /// upstream's response headers reached Envoy.
        upstream_service_ms: Option<i64>,
    },
    /// A CDN (CloudFront, Cloudflare, Fastly).
    Cdn {
        /// Edge result (`x-edge-result-type`, Cloudflare `EdgeResponseStatus` class …).
        edge_result: Option<&'a [u8]>,
        /// Detailed result (`x-edge-detailed-result-type`, e.g. `OriginConnectError`).
        detailed_result: Option<&'a [u8]>,
        /// Status the origin answered the CDN with, when logged.
        origin_status: Option<u16>,
        /// Time to the origin's response header, ms.
        origin_header_ms: Option<i64>,
    },
    /// Cloudflare Logpush `http_requests` (every field optional: a job logs
    /// the fields chosen for it).
    Cloudflare {
        /// `CacheCacheStatus` (`hit`, `miss`, `dynamic`, …).
        cache: Option<&'a [u8]>,
        /// `OriginResponseStatus` (0: no origin request was made, or a
        /// Worker's subrequest made it).
        origin_status: Option<u16>,
        /// `OriginResponseHeaderReceiveDurationMs`.
        origin_header_ms: Option<i64>,
        /// `OriginResponseDurationMs` (connect and response, tiers included).
        origin_duration_ms: Option<i64>,
        /// `OriginTLSHandshakeDurationMs` (0 when the connection was reused).
        origin_tls_ms: Option<i64>,
        /// `OriginDNSResponseTimeMs`.
        origin_dns_ms: Option<i64>,
        /// `WorkerStatus` ("status returned from Worker daemon").
        worker_status: Option<&'a [u8]>,
        /// `WorkerSubrequest`: this request was made by a Worker.
        worker_subrequest: Option<bool>,
        /// `SecurityAction`: the security rule's terminating action, if any.
        security_action: Option<&'a [u8]>,
        /// `SecurityRuleID` of that rule.
        security_rule: Option<&'a [u8]>,
    },
    /// AWS Application Load Balancer.
    Alb {
        /// `elb_status_code` (what the client got).
        elb_status: Option<u16>,
        /// `target_status_code` (`-` when the target never answered).
        target_status: Option<u16>,
        /// `error_reason` (`-` → `None`).
        error_reason: Option<&'a [u8]>,
        /// `actions_executed` (`forward`, `fixed-response`, `waf`, …; `-`
        /// → `None`).
        actions: Option<&'a [u8]>,
        /// `request_processing_time`, ms (`-1` → `None`).
        request_processing_ms: Option<i64>,
        /// `target_processing_time`, ms (`-1` → `None`).
        target_processing_ms: Option<i64>,
        /// `response_processing_time`, ms (`-1` → `None`).
        response_processing_ms: Option<i64>,
    },
    /// Google Cloud HTTP(S) Load Balancing.
    Gcp {
        /// `jsonPayload.statusDetails` (`failed_to_connect_to_backend`, …).
        status_details: Option<&'a [u8]>,
        /// `jsonPayload.proxyStatus` (Envoy-based regional and internal
        /// Application Load Balancers): an RFC 9209 `Proxy-Status` error,
        /// set when the load balancer made the error.
        proxy_status: Option<&'a [u8]>,
        /// `backendLatency` / `latency` of the backend, ms, when logged.
        backend_ms: Option<i64>,
    },
}

/// One request as one hop logged it. Every field borrows the line (or a
/// decoded copy of it the caller keeps alive); `None` where the format has
/// no such field or the log wrote its "absent" marker (`-`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HopRecord<'a> {
    /// When the hop logged the request (UTC ms, plus the offset written).
    pub time: Option<LogTime>,
    /// Client address as this hop saw it.
    pub client: Option<&'a [u8]>,
    /// Request method.
    pub method: Option<&'a [u8]>,
    /// Host (`Host` header, SNI or the CDN distribution's host).
    pub host: Option<&'a [u8]>,
    /// Request target (path and query).
    pub path: Option<&'a [u8]>,
    /// Protocol (`HTTP/1.1`).
    pub protocol: Option<&'a [u8]>,
    /// Status this hop returned to its client.
    pub status: Option<u16>,
    /// Status the next hop in answered with, when logged (ALB
    /// `target_status_code`, CloudFront has none, HAProxy none: its status is
    /// the server's unless HAProxy made it).
    pub upstream_status: Option<u16>,
    /// Address of the next hop in (`ip:port`, Envoy `%UPSTREAM_HOST%`, ALB `target:port`).
    pub upstream_addr: Option<&'a [u8]>,
    /// Total time at this hop, ms.
    pub total_ms: Option<i64>,
    /// Request id / trace id for the join across hops (X-Request-ID,
    /// `%ID`, `x-amz-cf-id`, `RayID`, Envoy `x-request-id`, ALB `trace_id`).
    pub request_id: Option<&'a [u8]>,
    /// What only this format logs.
    pub signals: Signals<'a>,
}

/// Why a line could not be read as its format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HopLineError {
    /// Not this format, or cut short.
    Mismatch,
    /// A header / comment / event line that holds no request (CloudFront
    /// `#Fields`, HAProxy `Server be/s1 is DOWN`): not malformed, not a request.
    NotARequest,
    /// The status is not a number.
    BadStatus,
    /// The time could not be read.
    BadTime,
    /// A header line that changes the columns mid-file (a CloudFront
    /// `#Fields:` line unlike the one the file began with): the lines after
    /// it may be misread.
    HeaderChanged,
}

impl HopLineError {
    /// A short description for reports.
    pub fn describe(self) -> &'static str {
        match self {
            HopLineError::Mismatch => "does not match the log format",
            HopLineError::NotARequest => "holds no request",
            HopLineError::BadStatus => "status is not a number",
            HopLineError::BadTime => "time field is not a valid time",
            HopLineError::HeaderChanged => {
                "header line changes the columns mid-file: the lines after it may be misread"
            }
        }
    }
}

/// A log format of a hop other than nginx. One implementation per module;
/// one line in the registry.
pub trait HopFormat: Send + Sync {
    /// The CLI name, file stem and grammar stem (`haproxy`, `cloudfront`).
    fn name(&self) -> &'static str;
    /// Where this format's hop sits.
    fn hop(&self) -> HopKind;
    /// From the first lines of a file (comments and blank lines included),
    /// whether this format reads it: `Some(parser, reason)` names the lines
    /// that matched. The parser may carry state read from the head (such as
    /// CloudFront's `#Fields:` order).
    fn detect(&self, head: &[&[u8]]) -> Option<(Box<dyn HopParser>, String)>;

    /// A parser for a file the user said holds this format (`--format-of`),
    /// whatever its first lines look like. By default only when
    /// [`HopFormat::detect`] accepts them (a format whose parser needs a
    /// header it did not find cannot be forced).
    fn forced(&self, head: &[&[u8]]) -> Option<Box<dyn HopParser>> {
        self.detect(head).map(|(p, _)| p)
    }

    /// When [`detect`](Self::detect) says no but the file looks like this
    /// format and cannot be read as it (a CloudFront log whose `#Fields:`
    /// line was cut), why, for the message naming the formats tried.
    fn near_miss(&self, _head: &[&[u8]]) -> Option<String> {
        None
    }
}

/// A parser for one file of one hop format, ready to run on every line
/// of the file in parallel.
pub trait HopParser: Send + Sync {
    /// Parse one line (no `\n`; a trailing `\r` may remain).
    fn parse_line<'a>(&self, line: &'a [u8]) -> Result<HopRecord<'a>, HopLineError>;

    /// The hot path: only the time and the status of a line, for the
    /// lines that are not 5xx (they are only counted). A format may read
    /// these faster than the whole line; the default parses it all. Errors
    /// as [`HopParser::parse_line`] would give them.
    /// `cache` is the caller's, one per run of consecutive lines (a chunk),
    /// for what a format can reuse from line to line.
    /// When the format took the full parse for a line (a 5xx, a line its
    /// fast path does not read), the record comes along in
    /// [`HopSummary::record`], so the caller need not parse it again.
    fn parse_summary<'a>(
        &self,
        line: &'a [u8],
        _cache: &mut SummaryCache,
    ) -> Result<HopSummary<'a>, HopLineError> {
        self.parse_line(line).map(HopSummary::of)
    }

    /// For a line [`HopParser::parse_line`] called
    /// [`HopLineError::NotARequest`]: the event it reports, if it is one the
    /// analysis uses (a server going down, a backend left without servers).
    /// `None`: a line to skip and count (a start notice, another program's
    /// syslog line, a header).
    fn parse_event<'a>(&self, _line: &'a [u8]) -> Option<HopEvent<'a>> {
        None
    }

    /// A run of whole lines of the file (a chunk) as this parser reads
    /// them: the chunk itself, or, under a packaging that escapes each
    /// line (Docker json-file), the lines decoded, one line for each line
    /// of `chunk` so that line numbers still point at the file's lines.
    /// The caller gives the lines of what this returns to the other
    /// methods.
    fn decode_chunk<'c>(&self, chunk: &'c [u8]) -> std::borrow::Cow<'c, [u8]> {
        std::borrow::Cow::Borrowed(chunk)
    }

    /// For a format whose records span several lines (gcloud's
    /// pretty-printed JSON array): the pieces of the records the chunk's
    /// borders cut, which [`HopParser::decode_chunk`] leaves blank. The
    /// caller joins one chunk's tail to the next chunk's head and reads the
    /// record whole, so a record is read the same wherever the chunks fall.
    /// `None` (the default): every record is one line.
    fn cut_pieces(&self, _chunk: &[u8]) -> Option<CutPieces> {
        None
    }
}

/// The ends of a chunk that belong to records cut by its borders
/// ([`HopParser::cut_pieces`]), as the parser joins a record's lines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CutPieces {
    /// The text before the chunk's first whole record: the end of a record
    /// that began in the previous chunk (empty when none).
    pub head: Vec<u8>,
    /// The record the chunk's end cut: its line in the chunk (1-based) and
    /// its text so far.
    pub tail: Option<(u64, Vec<u8>)>,
}

/// What [`HopParser::parse_summary`] may carry from one line to the next
/// of a chunk: the text of the last timestamp read, to the second, and its
/// value (a busy log repeats the same second for thousands of lines); and
/// the last line prefix a format chose to remember (a syslog header).
#[derive(Debug, Clone, Copy, Default)]
pub struct SummaryCache {
    /// The timestamp's text up to the second, and its UTC milliseconds.
    pub last_second: Option<([u8; 20], i64)>,
    /// The last prefix remembered, and what it told.
    pub prefix: PrefixMemo,
    /// Set by the caller when it will want the next line's whole record
    /// (a sampled request, or every one for an export): a format whose
    /// summary path can build it from what it found hands it over in
    /// [`HopSummary::record`]; the others may ignore it.
    pub want_record: bool,
}

/// The leading bytes of the last line a format read a prefix from, with a
/// value it derived from them. A line that starts with the same bytes yields
/// the same value, so it need not be read again; the format decides which
/// prefixes have that property (see `logs/haproxy.rs`).
#[derive(Debug, Clone, Copy)]
pub struct PrefixMemo {
    bytes: [u8; PrefixMemo::CAP],
    len: u8,
    value: i64,
}

impl Default for PrefixMemo {
    fn default() -> Self {
        PrefixMemo {
            bytes: [0; PrefixMemo::CAP],
            len: 0,
            value: 0,
        }
    }
}

impl PrefixMemo {
    /// The longest prefix remembered (a syslog header with host and tag).
    pub const CAP: usize = 80;

    /// When `line` starts with the remembered bytes: their length and value.
    #[inline]
    pub fn get(&self, line: &[u8]) -> Option<(usize, i64)> {
        let n = self.len as usize;
        // compared inline, eight bytes at a time: as a slice `==` this was a
        // `memcmp` call per line, 3 % of a HAProxy run (`perf record`)
        let same = n > 0 && line.len() >= n && super::scan::eq_short(&line[..n], &self.bytes[..n]);
        same.then_some((n, self.value))
    }

    /// Remember `prefix` (ignored when empty or longer than [`Self::CAP`]).
    #[inline]
    pub fn set(&mut self, prefix: &[u8], value: i64) {
        if prefix.is_empty() || prefix.len() > Self::CAP {
            self.len = 0;
            return;
        }
        self.bytes[..prefix.len()].copy_from_slice(prefix);
        self.len = prefix.len() as u8;
        self.value = value;
    }
}

/// The time and status of a request line ([`HopParser::parse_summary`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HopSummary<'a> {
    /// When the hop logged it.
    pub time: Option<LogTime>,
    /// The status it returned.
    pub status: Option<u16>,
    /// The whole record, when the line took the full parse.
    pub record: Option<HopRecord<'a>>,
}

impl<'a> HopSummary<'a> {
    /// The summary of a fully parsed record (which it keeps).
    pub fn of(r: HopRecord<'a>) -> HopSummary<'a> {
        HopSummary {
            time: r.time,
            status: r.status,
            record: Some(r),
        }
    }
}

/// What a hop's event line reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HopEventKind {
    /// A server was marked down (health check or observed errors).
    ServerDown,
    /// A server came back up.
    ServerUp,
    /// A backend has no usable server left.
    NoServer,
    /// Anything else the hop says about itself (start, stop, reload).
    Notice,
}

/// An event line of a hop's log (HAProxy `Server be/s1 is DOWN, reason: …`,
/// `backend be has no server available!`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HopEvent<'a> {
    /// When, if the line carries a time.
    pub time: Option<LogTime>,
    /// What happened.
    pub kind: HopEventKind,
    /// The backend / cluster concerned.
    pub backend: Option<&'a [u8]>,
    /// The server concerned.
    pub server: Option<&'a [u8]>,
    /// The message, without the syslog prefix.
    pub message: &'a [u8],
}

/// One documented line of a format and what gatecheck must read from it:
/// each format module's `EXAMPLES` table is run as a test (the record's
/// status and the cause its `hop_cause` module gives) and printed as docs.
#[derive(Debug, Clone, Copy)]
pub struct HopExample {
    /// What the line shows.
    pub title: &'static str,
    /// The line, as the hop writes it (after any header lines the format needs).
    pub line: &'static str,
    /// The status the hop returned to its client.
    pub status: Option<u16>,
    /// The stable id of the cause the line must be classified as.
    pub cause: &'static str,
    /// A fragment the evidence must contain (the field it rests on).
    pub evidence: &'static str,
}

/// Detection for a format whose parser needs no state from the head: the
/// non-blank sampled lines are parsed, and the format is taken when at
/// least 80 % of them (and at least one) read; `what` completes the reason
/// `"N of M sampled lines <what>"`.
pub fn detect_by_parsing<P: HopParser + Copy + 'static>(
    head: &[&[u8]],
    parser: P,
    what: &str,
) -> Option<(Box<dyn HopParser>, String)> {
    let lines: Vec<&[u8]> = head
        .iter()
        .copied()
        .filter(|l| !l.strip_suffix(b"\r").unwrap_or(l).is_empty())
        .collect();
    let ok = lines
        .iter()
        .filter(|l| parser.parse_line(l).is_ok())
        .count();
    (ok > 0 && ok * 10 >= lines.len() * 8).then(|| {
        let reason = format!("{ok} of {} sampled lines {what}", lines.len());
        (Box::new(parser) as Box<dyn HopParser>, reason)
    })
}
