//! Log packaging: the layer a transport or a container runtime puts around
//! each line of a proxy's log, detected from the first lines and peeled off
//! line by line before the format is detected and parsed. Format-neutral:
//! nginx, HAProxy and Envoy lines come wrapped the same ways.
//!
//! * **syslog RFC 3164**, as nginx sends it (`ngx_syslog.c`:
//!   `<PRI>Mmm dd hh:mm:ss HOST TAG: `) and as rsyslog writes it to files
//!   (the same without `<PRI>`); the tag may carry a pid (`nginx[123]:`).
//! * **rsyslog's file format** (`RSYSLOG_FileFormat`): the same with an
//!   RFC 3339 time stamp, `2026-11-28T07:03:03.123+01:00 HOST TAG: `.
//! * **syslog RFC 5424**: `<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG`
//!   (RFC 5424 §6), with `-` for nil values and a possible BOM before MSG.
//! * **Docker json-file**: one JSON object per line,
//!   `{"log":"<line>\n","stream":"stdout","time":"<RFC 3339>"}` (Docker's
//!   `jsonfilelog` driver); the `log` string is JSON-decoded. moby's log
//!   copier (`daemon/logger/copier.go`, `bufSize = 16 * 1024`) cuts a line
//!   longer than its 16 KiB buffer into several messages, and
//!   `jsonfilelog.go` (`marshalMessage`) appends the `\n` only to the last
//!   one: an entry whose `log` does not end in `\n` continues on the next
//!   entry ([`docker_chunk`] joins them). The escaping is
//!   `jsonlog/jsonlogbytes.go`'s: `\"`, `\\`, `\n`, `\r`, and `\u00XX` for
//!   other control bytes and `<`, `>`, `&` (`\ufffd` for invalid UTF-8).
//! * **CRI** (containerd, CRI-O, what the kubelet keeps under
//!   `/var/log/pods`): `<RFC 3339 nano> <stdout|stderr> <F|P> <line>`
//!   (the kubelet's CRI logging format; `P` is a partial line).
//!
//! `kubectl logs` output is not wrapped at all; it interleaves a pod's
//! stdout and stderr, which the detection of mixed files handles.

use super::scan;

/// The packaging of a file's lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Wrap {
    /// Plain lines.
    #[default]
    None,
    /// syslog RFC 3164 (`<PRI>` optional).
    Syslog3164,
    /// syslog RFC 5424.
    Syslog5424,
    /// rsyslog's file format: an RFC 3339 time stamp, host, tag.
    SyslogFile,
    /// Docker json-file.
    Docker,
    /// CRI (containerd, CRI-O).
    Cri,
}

impl Wrap {
    /// The wrappers detection tries, most distinctive first.
    pub const ALL: [Wrap; 5] = [
        Wrap::Docker,
        Wrap::Cri,
        Wrap::Syslog5424,
        Wrap::SyslogFile,
        Wrap::Syslog3164,
    ];

    /// A name for reasons and reports.
    pub fn name(self) -> &'static str {
        match self {
            Wrap::None => "plain",
            Wrap::Syslog3164 => "syslog (RFC 3164)",
            Wrap::Syslog5424 => "syslog (RFC 5424)",
            Wrap::SyslogFile => "syslog (rsyslog file format, RFC 3339 time)",
            Wrap::Docker => "Docker json-file",
            Wrap::Cri => "CRI (containerd/CRI-O)",
        }
    }

    /// The line inside its wrapper, or `None` when `line` is not wrapped this
    /// way. Borrows `line` where the content is stored as is; decodes into
    /// `buf` where it is escaped (Docker).
    #[inline]
    pub fn peel<'a>(self, line: &'a [u8], buf: &'a mut Vec<u8>) -> Option<&'a [u8]> {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        match self {
            Wrap::None => Some(line),
            Wrap::Syslog3164 => syslog_3164(line),
            Wrap::Syslog5424 => syslog_5424(line),
            Wrap::SyslogFile => syslog_file(line),
            Wrap::Cri => cri(line),
            Wrap::Docker => {
                docker(line, buf)?;
                Some(&buf[..])
            }
        }
    }
}

/// Which wrapper, if any, fits at least half of `sample`; with the reason.
pub fn detect(sample: &[&[u8]]) -> Option<(Wrap, String)> {
    if sample.is_empty() {
        return None;
    }
    let need = sample.len().div_ceil(2);
    let mut buf = Vec::new();
    Wrap::ALL.into_iter().find_map(|w| {
        let ok = sample
            .iter()
            .filter(|l| w.peel(l, &mut buf).is_some())
            .count();
        (ok >= need).then(|| {
            (
                w,
                format!(
                    "{ok} of the first {} lines are {} lines (peeled before reading)",
                    sample.len(),
                    w.name()
                ),
            )
        })
    })
}

/// `<PRI>` at the start, if any: `<` 1–3 digits `>`. Returns the rest.
fn pri(line: &[u8]) -> Option<&[u8]> {
    if line.first() != Some(&b'<') {
        return Some(line);
    }
    let n = line[1..].iter().take_while(|c| c.is_ascii_digit()).count();
    ((1..=3).contains(&n) && line.get(1 + n) == Some(&b'>')).then(|| &line[2 + n..])
}

/// The next space-delimited token and the rest after its space.
fn token(b: &[u8]) -> Option<(&[u8], &[u8])> {
    let i = memchr::memchr(b' ', b)?;
    (i > 0).then(|| (&b[..i], &b[i + 1..]))
}

/// `Mmm dd hh:mm:ss HOST TAG: MSG` (day space-padded: `Nov  8`).
fn syslog_3164(line: &[u8]) -> Option<&[u8]> {
    let b = pri(line)?;
    if b.len() < 16 || !b[..3].iter().all(u8::is_ascii_alphabetic) || b[3] != b' ' {
        return None;
    }
    let t = &b[7..15];
    if t[2] != b':' || t[5] != b':' || b[6] != b' ' || b[15] != b' ' {
        return None;
    }
    host_tag_msg(&b[16..])
}

/// `[HOST ]TAG: MSG` after a syslog time stamp: the host is optional (some
/// rsyslog templates drop it); TAG is letters, digits, `_-./`, optionally
/// `[pid]`, ending with `:`.
fn host_tag_msg(b: &[u8]) -> Option<&[u8]> {
    let is_tag = |t: &[u8]| {
        t.len() > 1
            && t.len() <= 65
            && t.ends_with(b":")
            && t[..t.len() - 1]
                .iter()
                .all(|c| c.is_ascii_alphanumeric() || b"_-./[]".contains(c))
    };
    let (first, rest) = token(b)?;
    let msg = if is_tag(first) {
        rest
    } else {
        let (tag, rest) = token(rest)?;
        if !is_tag(tag) {
            return None;
        }
        rest
    };
    Some(msg)
}

/// rsyslog's `RSYSLOG_FileFormat`: `2026-11-28T07:03:03.123456+00:00 HOST TAG: MSG`.
fn syslog_file(line: &[u8]) -> Option<&[u8]> {
    let (ts, b) = token(line)?;
    scan::parse_iso8601(ts)?;
    host_tag_msg(b)
}

/// `<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD [BOM]MSG`.
fn syslog_5424(line: &[u8]) -> Option<&[u8]> {
    if line.first() != Some(&b'<') {
        return None;
    }
    let b = pri(line)?;
    let b = b.strip_prefix(b"1 ")?;
    let (ts, b) = token(b)?;
    if ts != b"-" && scan::parse_iso8601(ts).is_none() {
        return None;
    }
    let (_host, b) = token(b)?;
    let (_app, b) = token(b)?;
    let (_procid, b) = token(b)?;
    let (_msgid, b) = token(b)?;
    // structured data: `-` or one or more `[...]` (a `]` inside is escaped `\]`)
    let msg = if let Some(rest) = b.strip_prefix(b"-") {
        rest
    } else {
        let mut i = 0;
        while b.get(i) == Some(&b'[') {
            i += 1;
            let mut quoted = false;
            loop {
                match b.get(i)? {
                    b'\\' => i += 2,
                    b'"' => {
                        quoted = !quoted;
                        i += 1;
                    }
                    b']' if !quoted => {
                        i += 1;
                        break;
                    }
                    _ => i += 1,
                }
            }
        }
        if i == 0 {
            return None;
        }
        &b[i..]
    };
    let msg = msg.strip_prefix(b" ").unwrap_or(msg);
    Some(msg.strip_prefix("\u{feff}".as_bytes()).unwrap_or(msg))
}

/// `2026-11-28T07:03:03.123456789Z stdout F <line>`.
fn cri(line: &[u8]) -> Option<&[u8]> {
    let (ts, b) = token(line)?;
    scan::parse_iso8601(ts)?;
    let (stream, b) = token(b)?;
    if stream != b"stdout" && stream != b"stderr" {
        return None;
    }
    // the tag: `F` (full) or `P` (partial), possibly more `:`-separated tags
    match b.first()? {
        b'F' | b'P' => {}
        _ => return None,
    }
    match memchr::memchr(b' ', b) {
        Some(i) => Some(&b[i + 1..]),
        None if b.len() == 1 => Some(&b[1..]),
        None => None,
    }
}

/// The parts of a CRI line: the time stamp and stream with their spaces
/// (`2026-…Z stdout `), whether it is stderr's, whether the tag says
/// partial (`P`), and the content.
fn cri_parts(line: &[u8]) -> Option<(&[u8], bool, bool, &[u8])> {
    let content = cri(line)?;
    let (ts, b) = token(line)?;
    let (stream, b) = token(b)?;
    let prefix = &line[..ts.len() + stream.len() + 2];
    Some((
        prefix,
        stream == b"stderr",
        b.first() == Some(&b'P'),
        content,
    ))
}

/// The chunk `chunk` of a CRI log (the kubelet's layout, `/var/log/pods`)
/// with the pieces of each partial line joined, on the line of the first
/// piece and tagged `F`, the lines of the other pieces left blank, so line
/// numbers still point at the file's lines. The runtime cuts a line longer
/// than its buffer (containerd's `max_container_log_line_size`, 16 KiB by
/// default) into lines tagged `P`, the last one `F`; the kubelet joins them
/// per stream until the `F` (`pkg/kubelet/kuberuntime/logs/logs.go`,
/// `parseCRILog`), as done here. A line that is not CRI is kept as it is;
/// pieces whose `F` is not in `chunk` stay one `P` line. Without any `P`
/// tag in the chunk, the chunk itself (no copy).
pub fn cri_chunk(chunk: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    if memchr::memmem::find(chunk, b" stdout P").is_none()
        && memchr::memmem::find(chunk, b" stderr P").is_none()
    {
        return chunk.into();
    }
    join_pieces(chunk, cri_piece, |prefix, last, content| {
        [prefix, if last { b"F" } else { b"P" }, b" ", content].concat()
    })
    .into()
}

/// A CRI line as a [`Piece`].
fn cri_piece<'x>(raw: &'x [u8], line: &'x [u8], _: &'x mut Vec<u8>) -> Option<Piece<'x>> {
    let (prefix, stderr, partial, content) = cri_parts(line)?;
    Some(Piece {
        stream: usize::from(stderr),
        last: !partial,
        prefix,
        content,
        whole: raw,
    })
}

/// Whether `line` (one line of a file, without its `\n`) is a piece of a
/// container log line, as `input::PieceOf` asks: a Docker json-file entry
/// or a CRI line, with its stream (0 stdout, 1 stderr) and whether it ends
/// its line (a Docker `log` ending in `\n`, a CRI `F` tag) or the next
/// piece of its stream continues it. Chunk boundaries are kept from falling
/// between the pieces of one line ([`docker_chunk`] and [`cri_chunk`] join
/// them only within a chunk).
pub fn container_piece(line: &[u8]) -> Option<(usize, bool)> {
    if line.starts_with(b"{\"log\":\"") {
        // moby's entry, not a JSON access log that happens to start with a
        // `log` key: `stream` and `time` follow `log` (jsonlog.JSONLogs)
        let moby = |key: &[u8]| memchr::memmem::find(line, key).is_some();
        if !moby(b"\",\"stream\":\"std") || !moby(b",\"time\":\"") {
            return None;
        }
        let mut buf = Vec::new();
        let (last, stderr) = docker_entry(line, &mut buf)?;
        return Some((usize::from(stderr), last));
    }
    let (_, stderr, partial, _) = cri_parts(line)?;
    Some((usize::from(stderr), !partial))
}

/// `{"log":"…","stream":…}`: decode the `log` string into `buf`, without its
/// final `\n`.
fn docker(line: &[u8], buf: &mut Vec<u8>) -> Option<()> {
    docker_entry(line, buf).map(|_| ())
}

/// The chunk `chunk` of a Docker json-file log with every entry's `log`
/// decoded, one line per line of `chunk`, so line numbers still point at
/// the wrapped file's lines: the pieces of a line Docker cut at 16 KiB
/// (entries whose `log` lacks the final `\n`) are joined on the line of
/// the first piece, and the lines of the other pieces are left blank.
/// stdout and stderr are copied by separate goroutines (moby's `Copier`,
/// one `copySrc` per stream), so the other stream's entries may come
/// between the pieces: pieces are joined per `stream`.
/// A line that is no Docker entry (or whose `log` holds a line end before
/// its last byte, which Docker's copier never writes) is kept as it is,
/// for the format's parser to call malformed. A line whose last piece is
/// not in `chunk` (the end of the file or of a chunk) ends where its
/// pieces do.
pub fn docker_chunk(chunk: &[u8]) -> Vec<u8> {
    join_pieces(chunk, docker_piece, |_, _, content| content.to_vec())
}

/// A Docker json-file entry as a [`Piece`]: its decoded `log`. An entry
/// whose `log` holds a line end before its last byte (which Docker's
/// copier never writes) is not one.
fn docker_piece<'x>(_: &'x [u8], line: &'x [u8], buf: &'x mut Vec<u8>) -> Option<Piece<'x>> {
    let (last, stderr) = docker_entry(line, buf)?;
    if buf.contains(&b'\n') {
        return None;
    }
    Some(Piece {
        stream: usize::from(stderr),
        last,
        prefix: &[],
        content: buf,
        whole: buf,
    })
}

/// Reads one line (raw, without its `\r`, a scratch buffer) as a [`Piece`].
type Decode = for<'x> fn(&'x [u8], &'x [u8], &'x mut Vec<u8>) -> Option<Piece<'x>>;

/// One line of a container log, as [`join_pieces`] sees it.
struct Piece<'x> {
    /// 0 for stdout, 1 for stderr.
    stream: usize,
    /// The last piece of its line (CRI `F`; a Docker `log` ending in `\n`).
    last: bool,
    /// What the joined line starts with (CRI's time and stream).
    prefix: &'x [u8],
    /// This piece's part of the line.
    content: &'x [u8],
    /// What is written for a line that is whole in one piece.
    whole: &'x [u8],
}

/// `chunk` with the pieces of each cut line joined per stream, on the line
/// of the first piece (`render(prefix, complete, content)`), the lines of
/// the other pieces left blank, so line numbers still point at the file's
/// lines. A line `decode` does not take is kept as it is; pieces whose last
/// one is not in `chunk` are rendered as far as they go.
fn join_pieces(chunk: &[u8], decode: Decode, render: fn(&[u8], bool, &[u8]) -> Vec<u8>) -> Vec<u8> {
    let mut out = Vec::with_capacity(chunk.len());
    let mut buf = Vec::new();
    // per stream: where the joined line goes in `out`, its prefix, its
    // content so far
    type Pending = Option<(usize, Vec<u8>, Vec<u8>)>;
    let mut pending: [Pending; 2] = [None, None];
    // put a joined line at its place, moving the other stream's place on
    let place = |out: &mut Vec<u8>, pending: &mut [Pending; 2], s: usize, last: bool| {
        if let Some((at, prefix, content)) = pending[s].take() {
            let line = render(&prefix, last, &content);
            out.splice(at..at, line.iter().copied());
            if let Some((other, ..)) = pending[1 - s].as_mut() {
                if *other >= at {
                    *other += line.len();
                }
            }
        }
    };
    let mut start = 0;
    while start < chunk.len() {
        let (raw, nl) = match memchr::memchr(b'\n', &chunk[start..]) {
            Some(i) => (&chunk[start..start + i], true),
            None => (&chunk[start..], false),
        };
        start += raw.len() + usize::from(nl);
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        match decode(raw, line, &mut buf) {
            Some(p) => {
                let s = p.stream;
                match pending[s].as_mut() {
                    Some((.., joined)) => joined.extend_from_slice(p.content),
                    None if p.last => out.extend_from_slice(p.whole),
                    None => pending[s] = Some((out.len(), p.prefix.to_vec(), p.content.to_vec())),
                }
                if p.last {
                    place(&mut out, &mut pending, s, true);
                }
            }
            None => out.extend_from_slice(raw),
        }
        if nl {
            out.push(b'\n');
        }
    }
    for s in 0..2 {
        place(&mut out, &mut pending, s, false);
    }
    out
}

/// Decode the `log` string of a Docker json-file entry into `buf`, without
/// its final `\n`; whether it had one (the last piece of a line) or not
/// (Docker cut the line and the next entry continues it), and whether the
/// entry is stderr's (`"stream":"stderr"`, which moby writes right after
/// `log`) rather than stdout's.
fn docker_entry(line: &[u8], buf: &mut Vec<u8>) -> Option<(bool, bool)> {
    let b = line.strip_prefix(b"{\"log\":\"")?;
    buf.clear();
    let mut i = 0;
    loop {
        let c = *b.get(i)?;
        match c {
            b'"' => break,
            b'\\' => {
                let e = *b.get(i + 1)?;
                i += 2;
                match e {
                    b'n' => buf.push(b'\n'),
                    b't' => buf.push(b'\t'),
                    b'r' => buf.push(b'\r'),
                    b'b' => buf.push(8),
                    b'f' => buf.push(12),
                    b'u' => {
                        let mut cp = hex4(b.get(i..i + 4)?)?;
                        i += 4;
                        if (0xD800..0xDC00).contains(&cp) && b.get(i..i + 2) == Some(b"\\u") {
                            let lo = hex4(b.get(i + 2..i + 6)?)?;
                            if (0xDC00..0xE000).contains(&lo) {
                                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                                i += 6;
                            }
                        }
                        let ch = char::from_u32(cp).unwrap_or('\u{fffd}');
                        let mut tmp = [0u8; 4];
                        buf.extend_from_slice(ch.encode_utf8(&mut tmp).as_bytes());
                    }
                    other => buf.push(other),
                }
            }
            _ => {
                buf.push(c);
                i += 1;
            }
        }
    }
    // the rest must close the object: `,"stream":…}` or `}`
    if !b[i + 1..].ends_with(b"}") {
        return None;
    }
    let last = buf.last() == Some(&b'\n');
    if last {
        buf.pop();
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
    }
    let stderr = b[i + 1..].starts_with(b",\"stream\":\"stderr\"");
    Some((last, stderr))
}

fn hex4(h: &[u8]) -> Option<u32> {
    std::str::from_utf8(h)
        .ok()
        .and_then(|s| u32::from_str_radix(s, 16).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a chunk boundary asks of a line: Docker and CRI pieces with
    /// their stream and whether they end their line; a JSON access log
    /// with a `log` key first, or a plain line, is none.
    #[test]
    fn container_pieces() {
        type Case<'a> = (&'a [u8], Option<(usize, bool)>);
        let cases: [Case<'_>; 6] = [
            (
                br#"{"log":"GET /a\n","stream":"stdout","time":"2026-11-28T07:03:03.1Z"}"#,
                Some((0, true)),
            ),
            (
                br#"{"log":"GET /a","stream":"stderr","time":"2026-11-28T07:03:03.1Z"}"#,
                Some((1, false)),
            ),
            (b"2026-11-28T07:03:03.1Z stdout P GET /a", Some((0, false))),
            (b"2026-11-28T07:03:03.1Z stderr F GET /a", Some((1, true))),
            (br#"{"log":"GET /a","status":502}"#, None),
            (
                b"10.0.0.1 - - [28/Nov/2026:07:03:03 +0000] \"GET /a HTTP/1.1\" 502 0",
                None,
            ),
        ];
        for (line, want) in cases {
            assert_eq!(
                container_piece(line),
                want,
                "{}",
                String::from_utf8_lossy(line)
            );
        }
    }

    fn peel(w: Wrap, l: &[u8]) -> Option<Vec<u8>> {
        let mut buf = Vec::new();
        w.peel(l, &mut buf).map(<[u8]>::to_vec)
    }

    #[test]
    fn peels_each_wrapper() {
        let inner = b"127.0.0.1 - - [28/Nov/2026:12:33:03 +0530] \"GET / HTTP/1.1\" 502 157";
        let cases: [(Wrap, Vec<u8>); 8] = [
            (
                Wrap::Syslog3164,
                [&b"Nov 28 07:03:03 nginx: "[..], inner].concat(),
            ),
            (
                Wrap::SyslogFile,
                [
                    &b"2026-11-28T07:03:03.123456+01:00 edge-1 nginx: "[..],
                    inner,
                ]
                .concat(),
            ),
            (
                Wrap::Syslog3164,
                [&b"<190>Nov 28 07:03:03 edge-1 nginx: "[..], inner].concat(),
            ),
            (
                Wrap::Syslog3164,
                [&b"Nov  8 07:03:03 edge-1 nginx[12]: "[..], inner].concat(),
            ),
            (
                Wrap::Syslog5424,
                [
                    &b"<190>1 2026-11-28T07:03:03.1Z edge-1 nginx 12 - - "[..],
                    inner,
                ]
                .concat(),
            ),
            (
                Wrap::Syslog5424,
                [
                    &b"<190>1 2026-11-28T07:03:03Z h nginx - - [x a=\"]\\]\"] "[..],
                    inner,
                ]
                .concat(),
            ),
            (
                Wrap::Cri,
                [&b"2026-11-28T07:03:03.123456789Z stdout F "[..], inner].concat(),
            ),
            (
                Wrap::Docker,
                [
                    &b"{\"log\":\""[..],
                    &inner[..].replace_quotes(),
                    b"\\n\",\"stream\":\"stdout\",\"time\":\"2026-11-28T07:03:03Z\"}",
                ]
                .concat(),
            ),
        ];
        for (w, line) in cases {
            assert_eq!(
                peel(w, &line).as_deref(),
                Some(&inner[..]),
                "{w:?}: {}",
                String::from_utf8_lossy(&line)
            );
            let sample = [&line[..], &line[..]];
            assert_eq!(detect(&sample).map(|d| d.0), Some(w));
        }
        assert_eq!(peel(Wrap::Syslog3164, inner), None);
        assert_eq!(peel(Wrap::Cri, inner), None);
        assert_eq!(peel(Wrap::Docker, b"{\"log\":\"x"), None);
        assert_eq!(
            peel(Wrap::Docker, b"{\"log\":\"\\u00e9\\ud83d\\ude00\"}").unwrap(),
            "é😀".as_bytes()
        );
        assert!(detect(&[&inner[..]]).is_none());
    }

    /// A Docker json-file entry holding `log` (JSON-escaped as moby does).
    fn entry(log: &str) -> String {
        format!(
            "{{\"log\":{},\"stream\":\"stdout\",\"time\":\"2026-11-28T07:03:03.1Z\"}}",
            serde_json::to_string(log).unwrap()
        )
    }

    #[test]
    fn docker_chunk_joins_cut_lines_on_their_first_line() {
        // a 40,000-byte line as moby's copier cuts it: 16 KiB, 16 KiB, the
        // rest with the `\n` (jsonfilelog.go appends it to the last piece)
        let long: String = "a<&>\"\\\t".repeat(5000);
        let (a, rest) = long.split_at(16 * 1024);
        let (b, c) = rest.split_at(16 * 1024);
        let file = [
            entry("first\n"),
            entry(a),
            entry(b),
            entry(&format!("{c}\n")),
            "not docker".to_string(),
            entry("crlf\r\n"),
            entry("cut at the end"),
        ]
        .join("\n")
            + "\n";
        let out = docker_chunk(file.as_bytes());
        let lines: Vec<&[u8]> = crate::logs::lines(&out).collect();
        let want: Vec<&[u8]> = vec![
            b"first",
            long.as_bytes(),
            b"",
            b"",
            b"not docker",
            b"crlf",
            b"cut at the end",
        ];
        assert_eq!(lines, want);
        // a line that is no entry between the pieces: kept on its own line,
        // the stream's pieces still joined
        let file = format!("{}\nx\n{}", entry("piece"), entry("y\n"));
        assert_eq!(docker_chunk(file.as_bytes()), b"piecey\nx\n");
        // a cut line whose last piece never comes: as far as it goes
        assert_eq!(docker_chunk(entry("cut").as_bytes()), b"cut");
        // a `log` with a line end inside is no entry Docker writes: kept raw
        let odd = entry("a\nb\n");
        assert_eq!(docker_chunk(odd.as_bytes()), odd.as_bytes());
        // stderr entries between the pieces of a stdout line: joined per stream
        let err = |log: &str| entry(log).replace("\"stdout\"", "\"stderr\"");
        let file = [
            entry("GET /lo"),
            err("[error] one\n"),
            err("[error] tw"),
            entry("ng 502\n"),
            err("o\n"),
            entry("next\n"),
        ]
        .join("\n")
            + "\n";
        let out = docker_chunk(file.as_bytes());
        let lines: Vec<&[u8]> = crate::logs::lines(&out).collect();
        let want: Vec<&[u8]> = vec![
            b"GET /long 502",
            b"[error] one",
            b"[error] two",
            b"",
            b"",
            b"next",
        ];
        assert_eq!(lines, want);
    }

    #[test]
    fn cri_chunk_joins_partial_lines_per_stream() {
        let t = "2026-11-28T07:03:03.123456789Z";
        let file = format!(
            "{t} stdout P GET /lo\n{t} stderr F [error] one\n{t} stdout P ng?q=\n\
             {t} stdout F 1 502\n{t} stdout F next\n{t} stderr P cut"
        );
        let out = cri_chunk(file.as_bytes());
        let lines: Vec<String> = crate::logs::lines(&out)
            .map(|l| String::from_utf8_lossy(l).into_owned())
            .collect();
        assert_eq!(
            lines,
            [
                format!("{t} stdout F GET /long?q=1 502"),
                format!("{t} stderr F [error] one"),
                String::new(),
                String::new(),
                format!("{t} stdout F next"),
                format!("{t} stderr P cut"),
            ]
        );
        // no partial line: the chunk itself
        let full = format!("{t} stdout F a\n{t} stderr F b\n");
        assert!(matches!(
            cri_chunk(full.as_bytes()),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    trait ReplaceQuotes {
        fn replace_quotes(&self) -> Vec<u8>;
    }
    impl ReplaceQuotes for [u8] {
        fn replace_quotes(&self) -> Vec<u8> {
            self.iter()
                .flat_map(|&c| {
                    if c == b'"' {
                        vec![b'\\', b'"']
                    } else {
                        vec![c]
                    }
                })
                .collect()
        }
    }

    proptest::proptest! {
        /// Any lines, Docker entries or not, cut or not: [`docker_chunk`]
        /// keeps one line for each line of its input.
        #[test]
        fn docker_chunk_keeps_the_line_count(
            parts in proptest::collection::vec((0usize..5, "[a-z\\\\\"\\n]{0,6}"), 0..30),
        ) {
            let text: String = parts
                .iter()
                .map(|(k, t)| match k {
                    0 => entry(&format!("{t}\n")),
                    1 => entry(t),
                    2 => t.clone(),
                    3 => "\n".into(),
                    _ => format!("{}\n", entry(t)),
                })
                .collect::<Vec<_>>()
                .join("\n");
            let out = docker_chunk(text.as_bytes());
            let ends = |b: &[u8]| b.iter().filter(|&&c| c == b'\n').count();
            proptest::prop_assert_eq!(ends(&out), ends(text.as_bytes()));
            // the same lines in CRI packaging, P for the cut ones
            let cri: String = parts
                .iter()
                .map(|(k, t)| {
                    let t = t.replace('\n', " ");
                    match k {
                        0 | 4 => format!("2026-11-28T07:03:03Z stdout F {t}"),
                        1 => format!("2026-11-28T07:03:03Z stderr P {t}"),
                        2 => t,
                        _ => "2026-11-28T07:03:03Z stdout P x".into(),
                    }
                })
                .collect::<Vec<_>>()
                .join("\n");
            let out = cri_chunk(cri.as_bytes());
            proptest::prop_assert_eq!(ends(&out), ends(cri.as_bytes()));
        }

        /// Any bytes through every wrapper: no panic, and what is peeled is
        /// never longer than the line (Docker's decoding only shrinks it).
        #[test]
        fn peel_never_panics(line in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            let mut buf = Vec::new();
            for w in Wrap::ALL {
                if let Some(p) = w.peel(&line, &mut buf) {
                    proptest::prop_assert!(p.len() <= line.len());
                }
            }
        }
    }
}
