//! Which kind of log a file holds, from its first lines, with the reason.

use super::hop::{
    HopEvent, HopFormat, HopLineError, HopParser, HopRecord, HopSummary, SummaryCache,
};
use super::nginx::{LogFormat, TimeCache};
use super::wrap::{self, Wrap};
use super::{lines, nginx_error, nginx_infer, scan};

/// Lines sampled from the start of a file.
pub const SAMPLE_LINES: usize = 50;

/// What a file was recognised as.
#[derive(Debug, Clone)]
pub enum Kind {
    /// An nginx access log in the format at this index of the candidates
    /// (or, with [`Detection::inferred`], of the candidates plus that one).
    Access(usize),
    /// An nginx error log.
    Error,
    /// A proxy config found among the logs (read as config, not as a log).
    Config,
    /// A hop log (HAProxy, Envoy, a CDN, a load balancer): the format at
    /// this index of [`super::formats::hop_formats`].
    Hop(usize),
    /// The config of the hop format at this index (a `haproxy.cfg`), read
    /// for its log formats, not as a log.
    HopConfig(usize),
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
    /// A format read from the file's own first line (JSON keys, a text
    /// layout), when no candidate fits: `Kind::Access(i)` then points one
    /// past the candidates.
    pub inferred: Option<LogFormat>,
    /// The packaging around each line, peeled before parsing.
    pub wrap: Wrap,
    /// Access lines with nginx error-log lines interleaved (`kubectl logs`,
    /// or `access_log` and `error_log` writing to one file): the file is
    /// read as both.
    pub mixed: bool,
}

impl Detection {
    fn new(kind: Kind, reason: String) -> Detection {
        Detection {
            kind,
            reason,
            inferred: None,
            wrap: Wrap::None,
            mixed: false,
        }
    }
}

/// The first lines of `head` that are not blank, with their 1-based line
/// numbers; the last line is dropped when `head` cuts it.
fn sample_lines(head: &[u8]) -> Vec<(usize, &[u8])> {
    let mut sample: Vec<(usize, &[u8])> = lines(head)
        .enumerate()
        .filter(|(_, l)| !l.iter().all(|c| c.is_ascii_whitespace()))
        .map(|(i, l)| (i + 1, l))
        .take(SAMPLE_LINES)
        .collect();
    if sample.len() > 1 && !head.ends_with(b"\n") {
        sample.pop();
    }
    sample
}

fn show(line: &[u8]) -> String {
    String::from_utf8_lossy(&line[..line.len().min(120)]).into_owned()
}

/// Decide from the first bytes of a file (`head`) which of `formats` (most
/// specific first) parses its lines, or whether it is an error log; when
/// none fits, try a format read from the first line ([`nginx_infer`]).
pub fn detect(head: &[u8], formats: &[LogFormat]) -> Detection {
    detect_with(head, formats, true)
}

/// [`detect`], with reading a format from the first line allowed or not
/// (not when the user forced a format).
pub fn detect_with(head: &[u8], formats: &[LogFormat], infer: bool) -> Detection {
    let raw = sample_lines(head);
    if raw.is_empty() {
        return Detection::new(Kind::Unknown, "no lines".into());
    }
    let raw_lines: Vec<&[u8]> = raw.iter().map(|(_, l)| *l).collect();
    let (wrap, wrap_reason) = wrap::detect(&raw_lines).unwrap_or((Wrap::None, String::new()));
    // CRI: the pieces of a cut line joined, as the passes will read them
    let joined;
    let raw = if wrap == Wrap::Cri {
        joined = wrap::cri_chunk(head);
        sample_lines(&joined)
    } else {
        raw
    };
    // bare lines are read where they lie (`Wrap::None` only strips a `\r`):
    // no copy per line of every input (issue 9: thousands of small files);
    // packaged ones are copied out of their packaging
    let peeled: Vec<(usize, Vec<u8>)>;
    let sample: Vec<(usize, &[u8])> = if wrap == Wrap::None {
        raw.iter()
            .map(|&(n, l)| (n, l.strip_suffix(b"\r").unwrap_or(l)))
            .collect()
    } else {
        let mut buf = Vec::new();
        peeled = raw
            .iter()
            .filter_map(|(n, l)| wrap.peel(l, &mut buf).map(|p| (*n, p.to_vec())))
            .collect();
        peeled.iter().map(|(n, l)| (*n, &l[..])).collect()
    };
    let mut d = detect_peeled(&sample, formats, infer);
    d.wrap = wrap;
    if wrap != Wrap::None {
        d.reason = format!("{wrap_reason}; {}", d.reason);
    }
    d
}

fn detect_peeled(sample: &[(usize, &[u8])], formats: &[LogFormat], infer: bool) -> Detection {
    let Some((first_n, first)) = sample.first() else {
        return Detection::new(Kind::Unknown, "no lines".into());
    };
    let is_err = |l: &[u8]| nginx_error::looks_like(l);
    let errors = sample.iter().filter(|(_, l)| is_err(l)).count();
    let rest: Vec<&[u8]> = sample
        .iter()
        .filter(|(_, l)| !is_err(l))
        .map(|(_, l)| &l[..])
        .collect();
    let need = rest.len().div_ceil(2);
    let mixed_note = |d: &mut Detection| {
        if errors > 0 {
            d.mixed = true;
            d.reason.push_str(&format!(
                "; {errors} nginx error-log lines are interleaved (read as the error log too)"
            ));
        }
    };
    // a fresh time cache per format: a cached `$time_iso8601` value must
    // not answer for another format's `$time_local` at the same place
    //
    // How many lines `f` parses, or `None` as soon as it cannot reach
    // `need`: the formats tried before the one that fits stop half-way
    // (this runs for every input; issue 9: thousands of small files).
    let fits = |f: &LogFormat| {
        let mut cache = TimeCache::default();
        let mut ok = 0;
        let key = Key::of(f);
        for (seen, l) in rest.iter().enumerate() {
            if key.may_parse(l) && f.parse(l, &mut cache).is_ok() {
                ok += 1;
            } else if ok + (rest.len() - seen - 1) < need {
                return None;
            }
        }
        Some(ok).filter(|&ok| ok >= need)
    };
    if !rest.is_empty() {
        for (i, f) in formats.iter().enumerate() {
            if let Some(ok) = fits(f) {
                // a layout without upstream variables (`combined`, `main`)
                // parses the start of a line and ignores the rest: a
                // `log_format` that appends `upstream_addr=… urt="…"` to it
                // (the nginx blog's `upstream_time`, many a `main`) would
                // lose its upstream fields unsaid; read from the line, they
                // are kept when that reading fits as many lines
                let bare = !f.has_upstream_timing() && !f.has_upstream_status();
                if infer && bare {
                    if let Some(inf) = rest.first().and_then(|l| nginx_infer::infer(l)) {
                        let richer =
                            inf.format.has_upstream_timing() || inf.format.has_upstream_status();
                        if let Some(ok2) = richer
                            .then(|| fits(&inf.format))
                            .flatten()
                            .filter(|&n| n >= ok)
                        {
                            let mut d = Detection::new(
                                Kind::Access(formats.len()),
                                format!(
                                    "{}; {ok2} of the first {} lines fit it (log_format {:?} parses their start, without the upstream fields after it)",
                                    inf.reason(),
                                    rest.len(),
                                    f.name
                                ),
                            );
                            d.inferred = Some(inf.format);
                            mixed_note(&mut d);
                            return d;
                        }
                    }
                }
                let mut d = Detection::new(
                    Kind::Access(i),
                    format!(
                        "{ok} of the first {} lines parse with log_format {:?}",
                        rest.len(),
                        f.name
                    ),
                );
                mixed_note(&mut d);
                return d;
            }
        }
        if infer {
            // the first few distinct lines: one odd line must not decide
            for l in rest.iter().take(3) {
                let Some(inf) = nginx_infer::infer(l) else {
                    continue;
                };
                if let Some(ok) = fits(&inf.format) {
                    let mut d = Detection::new(
                        Kind::Access(formats.len()),
                        format!(
                            "{}; {ok} of the first {} lines fit it",
                            inf.reason(),
                            rest.len()
                        ),
                    );
                    d.inferred = Some(inf.format);
                    mixed_note(&mut d);
                    return d;
                }
            }
        }
    }
    if errors >= sample.len().div_ceil(2) {
        return Detection::new(
            Kind::Error,
            format!(
                "{errors} of the first {} lines start like nginx error-log lines (`YYYY/MM/DD HH:MM:SS [level]`)",
                sample.len()
            ),
        );
    }
    // the first line that fits the most preferred format (a forced one) not
    let misfit = formats.first().and_then(|f| {
        let mut cache = TimeCache::default();
        sample
            .iter()
            .find(|(_, l)| !is_err(l) && f.parse(l, &mut cache).is_err())
    });
    let (n, l) = misfit.map_or((*first_n, &first[..]), |(n, l)| (*n, &l[..]));
    let why = if infer {
        "no known format parses its first lines"
    } else {
        "the format given does not parse its first lines"
    };
    Detection::new(
        Kind::Unknown,
        format!(
            "{why} (line {n}: {:?}); give the format with --log-format or --config",
            show(l)
        ),
    )
}

/// A literal of a format that every line it parses holds (its longest,
/// the last of those as long: the one formats that extend another add,
/// such as `upstream_timing_host`'s `" host="` or `upstreaminfo`'s `] [`),
/// looked for before the line is walked: a format tried before the one
/// that fits is then ruled out line by line for the price of one search,
/// not of a walk through request, referer and user agent (issue 9: the
/// formats tried first on each of thousands of small files). Exact: a
/// line without it fails [`LogFormat::parse`] all the same.
struct Key(Option<memchr::memmem::Finder<'static>>);

impl Key {
    fn of(f: &LogFormat) -> Key {
        let longest =
            f.literals()
                .filter(|l| l.len() >= 2)
                .fold(None::<&[u8]>, |best, l| match best {
                    Some(b) if b.len() > l.len() => Some(b),
                    _ => Some(l),
                });
        Key(longest.map(|l| memchr::memmem::Finder::new(l).into_owned()))
    }

    /// Whether `line` may parse: it holds the key (as `parse` sees it,
    /// without a trailing `\r`).
    fn may_parse(&self, line: &[u8]) -> bool {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        self.0.as_ref().is_none_or(|k| k.find(line).is_some())
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

/// How much of `head` detection reads: the shortest start of it from which
/// [`detect`], [`head_lines`] and every hop format's detection (all of which
/// see only the first [`SAMPLE_LINES`] + 1 non-blank lines, and whether
/// `head` ends with a line end) decide exactly as from all of `head`. Many
/// small files then keep a few KiB each for detection, not the whole head
/// read (issue 9).
pub fn sample_span(head: &[u8]) -> usize {
    let mut seen = 0;
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', head) {
        let line = &head[start..end];
        start = end + 1;
        if line.iter().all(|c| c.is_ascii_whitespace()) {
            continue;
        }
        seen += 1;
        if seen == SAMPLE_LINES + 1 {
            break;
        }
    }
    if seen <= SAMPLE_LINES || start >= head.len() || head.ends_with(b"\n") {
        // every sampled line whole, and the end (a line end or not) kept
        return if seen <= SAMPLE_LINES {
            head.len()
        } else {
            start
        };
    }
    // `head` ends inside a line: keep that so (the last sampled line is
    // then taken as cut, as it is in all of `head`), adding the line ends
    // after the sample up to the next other byte
    let mut k = start + 1;
    while head[k - 1] == b'\n' {
        k += 1;
    }
    k
}

/// Which hop format (of `formats`, tried in order) reads `head`: its index,
/// a parser for the file and the reason. When the bare lines fit no format,
/// the packaging of a container's log is peeled first: the kubelet's CRI
/// layout (`/var/log/pods/…`: `<RFC 3339 time> stdout F <line>`), or the
/// time stamp alone that `kubectl logs --timestamps` / `docker logs -t`
/// put before each line; or Docker's json-file entries are decoded
/// (`/var/lib/docker/containers/<id>/<id>-json.log`, [`wrap::docker_chunk`]).
pub fn detect_hop(
    head: &[u8],
    formats: &[&'static dyn HopFormat],
) -> Option<(usize, Box<dyn HopParser>, String)> {
    let sample = head_lines(head);
    if sample.is_empty() {
        return None;
    }
    let found = |sample: &[&[u8]]| {
        formats
            .iter()
            .enumerate()
            .find_map(|(i, f)| f.detect(sample).map(|(p, why)| (i, p, why)))
    };
    // CRI: the pieces of a cut line joined, as the parser will see them
    let cri_head = wrap::cri_chunk(&head[..sample_span(head)]);
    let cri_sample = head_lines(&cri_head);
    found(&sample).or_else(|| {
        [Peel::Cri, Peel::Stamp, Peel::Kubectl]
            .into_iter()
            .find_map(|peel| {
                let sample = match peel {
                    Peel::Cri => &cri_sample,
                    _ => &sample,
                };
                let peeled: Vec<&[u8]> = sample.iter().filter_map(|l| peel.peel(l)).collect();
                // most of the sample must be packaged this way
                if peeled.len() * 10 < sample.len() * 8 {
                    return None;
                }
                let (i, p, reason) = found(&peeled)?;
                let why = format!(
                    "{} of the first {} lines are {} (peeled before reading); {reason}",
                    peeled.len(),
                    sample.len(),
                    peel.name()
                );
                Some((i, Box::new(Peeled(peel, p)) as Box<dyn HopParser>, why))
            })
            .or_else(|| {
                let mut buf = Vec::new();
                let wrapped = sample
                    .iter()
                    .filter(|l| Wrap::Docker.peel(l, &mut buf).is_some())
                    .count();
                if wrapped * 10 < sample.len() * 8 {
                    return None;
                }
                let decoded = wrap::docker_chunk(&head[..sample_span(head)]);
                let (i, p, reason) = found(&head_lines(&decoded))?;
                let why = format!(
                    "{wrapped} of the first {} lines are Docker json-file entries (decoded before reading); {reason}",
                    sample.len()
                );
                Some((i, Box::new(DockerJson(p)) as Box<dyn HopParser>, why))
            })
    })
}

/// A hop parser for a Docker json-file log: each chunk's entries are
/// decoded first ([`wrap::docker_chunk`]), then read by the format's parser.
struct DockerJson(Box<dyn HopParser>);

impl HopParser for DockerJson {
    fn parse_line<'a>(&self, line: &'a [u8]) -> Result<HopRecord<'a>, HopLineError> {
        self.0.parse_line(line)
    }

    fn parse_summary<'a>(
        &self,
        line: &'a [u8],
        cache: &mut SummaryCache,
    ) -> Result<HopSummary<'a>, HopLineError> {
        self.0.parse_summary(line, cache)
    }

    fn parse_event<'a>(&self, line: &'a [u8]) -> Option<HopEvent<'a>> {
        self.0.parse_event(line)
    }

    fn decode_chunk<'c>(&self, chunk: &'c [u8]) -> std::borrow::Cow<'c, [u8]> {
        wrap::docker_chunk(chunk).into()
    }
}

/// A container log's packaging around each line, stored as is (so the
/// line's content is a slice of it).
#[derive(Debug, Clone, Copy)]
enum Peel {
    /// The kubelet's CRI layout, `<time> <stream> <F|P> <line>`. The pieces
    /// of a partial line (`P`, longer than the runtime's buffer, 16 KiB by
    /// default) are joined per chunk first ([`wrap::cri_chunk`]).
    Cri,
    /// `<RFC 3339 time> <line>` (`kubectl logs --timestamps`, `docker logs -t`).
    Stamp,
    /// `[pod/<pod>/<container>] <line>` (`kubectl logs --prefix`), with or
    /// without a `--timestamps` time stamp after it.
    Kubectl,
}

impl Peel {
    fn name(self) -> &'static str {
        match self {
            Peel::Cri => "CRI (containerd/CRI-O) lines",
            Peel::Stamp => "lines behind an RFC 3339 time stamp (`kubectl logs --timestamps`)",
            Peel::Kubectl => "lines behind `kubectl logs --prefix`'s `[pod/…/…]`",
        }
    }

    /// The content of `line`, a slice of it; `None` when it is not packaged
    /// this way.
    fn peel(self, line: &[u8]) -> Option<&[u8]> {
        let trimmed = line.strip_suffix(b"\r").unwrap_or(line);
        match self {
            Peel::Cri => {
                let mut buf = Vec::new();
                let n = Wrap::Cri.peel(line, &mut buf)?.len();
                Some(&trimmed[trimmed.len() - n..])
            }
            Peel::Stamp => {
                let sp = memchr::memchr(b' ', trimmed)?;
                let ts = &trimmed[..sp];
                (ts.len() >= 20
                    && ts[4] == b'-'
                    && ts[10] == b'T'
                    && scan::parse_iso8601(ts).is_some())
                .then(|| &trimmed[sp + 1..])
            }
            Peel::Kubectl => {
                let rest = trimmed.strip_prefix(b"[pod/")?;
                let end = memchr::memchr(b']', rest)?;
                let rest = rest[end + 1..].strip_prefix(b" ")?;
                Some(Peel::Stamp.peel(rest).unwrap_or(rest))
            }
        }
    }
}

/// A hop parser for packaged lines: each line's content goes to the
/// format's parser; a line not packaged this way is given as it is.
struct Peeled(Peel, Box<dyn HopParser>);

impl Peeled {
    fn content<'a>(&self, line: &'a [u8]) -> &'a [u8] {
        self.0.peel(line).unwrap_or(line)
    }
}

impl HopParser for Peeled {
    fn parse_line<'a>(&self, line: &'a [u8]) -> Result<HopRecord<'a>, HopLineError> {
        self.1.parse_line(self.content(line))
    }

    fn parse_summary<'a>(
        &self,
        line: &'a [u8],
        cache: &mut SummaryCache,
    ) -> Result<HopSummary<'a>, HopLineError> {
        self.1.parse_summary(self.content(line), cache)
    }

    fn parse_event<'a>(&self, line: &'a [u8]) -> Option<HopEvent<'a>> {
        self.1.parse_event(self.content(line))
    }

    /// CRI: the pieces of a line the runtime cut (`P`) joined first.
    fn decode_chunk<'c>(&self, chunk: &'c [u8]) -> std::borrow::Cow<'c, [u8]> {
        match self.0 {
            Peel::Cri => wrap::cri_chunk(chunk),
            _ => chunk.into(),
        }
    }
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

    /// `combined` or `main` with upstream fields appended (the nginx
    /// blog's `upstream_time`; `main` with `upstream_addr=…`, as real nginx
    /// 1.22 writes them): read with the fields, not as the bare layout
    /// whose start they share; the bare layout itself stays as it was.
    #[test]
    fn a_built_in_layout_with_upstream_fields_after_it_keeps_them() {
        let f = builtin_formats();
        let blog = b"127.0.0.1 - - [29/Nov/2026:07:28:46 +0000] \"GET /down/x HTTP/1.1\" 502 157 \"-\" \"curl/7.88.1\"rt=0.000 uct=\"-\" uht=\"-\" urt=\"0.000\"\n";
        let main = b"127.0.0.1 - - [29/Nov/2026:07:28:46 +0000] \"GET /down/x HTTP/1.1\" 502 157 \"-\" \"curl/7.88.1\" \"-\" upstream_addr=127.0.0.1:18779 upstream_status=502 request_time=0.000 upstream_response_time=0.000\n";
        for (line, bare, wants) in [
            (&blog[..], "combined", "urt=→$upstream_response_time"),
            (&main[..], "main", "upstream_status=→$upstream_status"),
        ] {
            let d = detect(line, &f);
            assert!(
                matches!(d.kind, Kind::Access(i) if i == f.len()),
                "{}",
                d.reason
            );
            let inf = d.inferred.as_ref().expect("inferred");
            assert!(inf.has_upstream_timing(), "{}", d.reason);
            assert!(d.reason.contains(wants), "{}", d.reason);
            assert!(
                d.reason
                    .contains(&format!("log_format {bare:?} parses their start")),
                "{}",
                d.reason
            );
        }
    }

    #[test]
    fn wrapped_mixed_and_inferred() {
        let f = builtin_formats();
        // kubectl logs: access and error lines interleaved
        let acc = "1.2.3.4 - - [20/Nov/2026:14:03:07 +0100] \"GET / HTTP/1.1\" 502 5 \"-\" \"ua\"";
        let err = "2026/11/20 14:03:07 [error] 1#1: *5 connect() failed (111: Connection refused)";
        let mixed = format!("{acc}\n{err}\n{acc}\n{err}\n{err}\n");
        let d = detect(mixed.as_bytes(), &f);
        assert!(matches!(d.kind, Kind::Access(_)) && d.mixed, "{d:?}");
        // the same in CRI packaging
        let cri: String = mixed
            .lines()
            .map(|l| format!("2026-11-20T13:03:07.1Z stdout F {l}\n"))
            .collect();
        let d = detect(cri.as_bytes(), &f);
        assert_eq!(d.wrap, Wrap::Cri);
        assert!(matches!(d.kind, Kind::Access(_)) && d.mixed, "{d:?}");
        // JSON in Docker packaging: the layout is read from the first line
        let json = r#"{"log":"{\"time\":\"2026-11-20T14:03:07+01:00\",\"status\":502,\"request\":\"GET / HTTP/1.1\"}\n","stream":"stdout","time":"2026-11-20T13:03:07Z"}"#;
        let d = detect(format!("{json}\n{json}\n").as_bytes(), &f);
        assert_eq!(d.wrap, Wrap::Docker);
        assert!(matches!(d.kind, Kind::Access(i) if i == f.len()), "{d:?}");
        assert!(
            d.inferred.is_some() && d.reason.contains("status→$status"),
            "{}",
            d.reason
        );
        // a forced format: nothing else is tried, the misfit line is named
        let d = detect_with(b"x\n{\"status\":1}\n", &f[..1], false);
        assert!(matches!(d.kind, Kind::Unknown));
        assert!(d.reason.contains("line 1: \"x\""), "{}", d.reason);
    }

    /// HAProxy's raw lines as containerd stores them (`/var/log/pods/…`):
    /// peeled and read; in Docker json-file: decoded and read.
    #[test]
    fn hop_lines_in_container_runtime_packaging() {
        let formats = crate::logs::formats::hop_formats();
        let raw = [
            "127.0.0.1:60448 [28/Nov/2026:08:50:52.412] fe_main be_app/app1 0/0/0/-1/3 502 209 - - SH-- 1/1/0/0/0 0/0 {a1} \"GET /reset HTTP/1.1\"",
            "127.0.0.1:60452 [28/Nov/2026:08:50:52.431] fe_main be_app/app1 0/0/0/4/4 200 120 - - ---- 1/1/0/0/0 0/0 {a2} \"GET / HTTP/1.1\"",
        ];
        let cri: String = raw
            .iter()
            .map(|l| format!("2026-11-28T08:50:52.413456789Z stdout F {l}\n"))
            .collect();
        let (i, p, why) = detect_hop(cri.as_bytes(), formats).expect("read");
        assert_eq!(formats[i].name(), "haproxy");
        assert!(why.contains("CRI"), "{why}");
        let first = cri.lines().next().unwrap().as_bytes();
        let r = p.parse_line(first).unwrap();
        assert_eq!(r.status, Some(502));
        let mut cache = SummaryCache::default();
        assert_eq!(
            p.parse_summary(first, &mut cache).unwrap().status,
            Some(502)
        );
        let stamped: String = raw
            .iter()
            .map(|l| format!("2026-11-28T08:50:52.413456789Z {l}\r\n"))
            .collect();
        let (i, p, why) = detect_hop(stamped.as_bytes(), formats).expect("read");
        assert_eq!(formats[i].name(), "haproxy");
        assert!(why.contains("--timestamps"), "{why}");
        let first = stamped.lines().next().unwrap().as_bytes();
        assert_eq!(p.parse_line(first).unwrap().status, Some(502));
        let prefixed: String = raw
            .iter()
            .map(|l| format!("[pod/haproxy-5d9f7c6b8-x2x9q/haproxy] {l}\n"))
            .collect();
        let (i, p, why) = detect_hop(prefixed.as_bytes(), formats).expect("read");
        assert_eq!(formats[i].name(), "haproxy");
        assert!(why.contains("--prefix"), "{why}");
        let first = prefixed.lines().next().unwrap().as_bytes();
        assert_eq!(p.parse_line(first).unwrap().status, Some(502));
        let docker: String = raw
            .iter()
            .map(|l| {
                format!(
                    "{{\"log\":{},\"stream\":\"stdout\",\"time\":\"2026-11-28T08:50:52.4Z\"}}\n",
                    serde_json::to_string(&format!("{l}\n")).unwrap()
                )
            })
            .collect();
        let (i, p, why) = detect_hop(docker.as_bytes(), formats).expect("read");
        assert_eq!(formats[i].name(), "haproxy");
        assert!(why.contains("Docker json-file"), "{why}");
        let decoded = p.decode_chunk(docker.as_bytes());
        let lines: Vec<&[u8]> = crate::logs::lines(&decoded).collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(p.parse_line(lines[0]).unwrap().status, Some(502));
        assert_eq!(p.parse_line(lines[1]).unwrap().status, Some(200));
    }

    proptest::proptest! {
        /// The start of a head that [`sample_span`] keeps reads as the whole
        /// head: the same lines, the same detection (kind, format, reason),
        /// whatever the blank lines, cut last line or length.
        #[test]
        fn sample_span_detects_as_the_whole(
            parts in proptest::collection::vec(0usize..7, 0..160),
        ) {
            let acc = "1.2.3.4 - - [20/Nov/2026:14:03:07 +0100] \"GET / HTTP/1.1\" 502 5 \"-\" \"ua\"\n";
            let err = "2026/11/20 14:03:07 [error] 1#1: *5 connect() failed (111: Connection refused)\n";
            let pieces = [acc, err, "\n", " \t\n", "x y", "\r\n", "junk line\n"];
            let head: String = parts.iter().map(|&i| pieces[i]).collect();
            let head = head.as_bytes();
            let kept = &head[..sample_span(head)];
            proptest::prop_assert_eq!(head_lines(kept), head_lines(head));
            let f = builtin_formats();
            proptest::prop_assert_eq!(
                format!("{:?}", detect(kept, &f)),
                format!("{:?}", detect(head, &f))
            );
            proptest::prop_assert_eq!(kept.is_empty(), head.is_empty());
        }

        /// A format's [`Key`] never rules out a line the format parses:
        /// lines of every built-in layout (and `\r`-ended), with a span
        /// cut out or a byte changed anywhere.
        #[test]
        fn key_never_rules_out_a_line_that_parses(
            which in 0usize..5,
            cut in proptest::option::of((0usize..400, 0usize..40)),
            poke in proptest::option::of((0usize..400, proptest::prelude::any::<u8>())),
            cr in proptest::prelude::any::<bool>(),
        ) {
            let base = "1.2.3.4 - - [20/Nov/2026:14:03:07 +0100] \"GET /a HTTP/1.1\" 502 5 \"-\" \"ua\"";
            let tails = [
                "",
                " \"10.0.0.9\"",
                " rt=0.001 uct=\"0.000\" uht=\"-\" urt=\"0.001\" ua=\"10.0.0.1:80\" us=\"502\"",
                " host=\"x\" rt=0.001 uct=\"0.000\" uht=\"-\" urt=\"0.001\" ua=\"10.0.0.1:80\" us=\"502\"",
                " 120 0.001 [default-app-80] [] 10.0.0.1:80 0 0.001 502 abc",
            ];
            let mut line = format!("{base}{}", tails[which]).into_bytes();
            if let Some((at, n)) = cut {
                let at = at.min(line.len());
                let end = (at + n).min(line.len());
                line.drain(at..end);
            }
            if let Some((at, b)) = poke {
                if let Some(c) = line.get_mut(at) {
                    *c = b;
                }
            }
            if cr {
                line.push(b'\r');
            }
            for f in builtin_formats() {
                let parses = f.parse(&line, &mut TimeCache::default()).is_ok();
                proptest::prop_assert!(!parses || Key::of(&f).may_parse(&line), "{}", f.name);
            }
        }

        /// Any bytes: detection (wrappers, error lines, every built-in
        /// format, a layout read from the line) never panics, and an access
        /// verdict points at a format that exists.
        #[test]
        fn detect_never_panics(head in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600)) {
            let f = builtin_formats();
            let d = detect(&head, &f);
            if let Kind::Access(i) = d.kind {
                proptest::prop_assert!(i < f.len() || (i == f.len() && d.inferred.is_some()));
            }
        }
    }
}
