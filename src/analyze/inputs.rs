//! Inputs of one run: open each file (positioned reads or stream), read its
//! first bytes, decide what it holds; regular files are closed again until
//! their pass (`schedule.rs`) reads them.

use std::borrow::Cow;
use std::cell::RefCell;

use super::nginx_config::NginxConfig;
use std::io::BufRead;

use super::attribute::hop_config_kind;
use crate::config::ProxyKind;
use crate::input::{self, BlockReader, Input, Opened};
use crate::logs::detect::{self, Detection, Kind};
use crate::logs::nginx::LogFormat;
use crate::logs::wrap::Wrap;

/// Bytes read from the start of a file to detect its kind.
pub(super) const HEAD_BYTES: usize = 64 << 10;

/// One input after detection.
pub(super) struct Loaded {
    pub(super) index: u32,
    pub(super) input: Input,
    data: Data,
    pub(super) head: Vec<u8>,
    pub(super) kind: Kind,
    pub(super) reason: String,
    /// The packaging peeled off each line.
    pub(super) wrap: Wrap,
    /// Access and error lines in one file: read by both passes.
    pub(super) mixed: bool,
    /// For a HAProxy / Envoy config (`kind` is `Kind::Config`): which.
    pub(super) config_of: Option<crate::config::ProxyKind>,
    /// Whether the start of the input, as read, holds a HAProxy or Envoy
    /// config ([`hop_config_kind`] of the whole head, which is kept only
    /// when this is set or the name says config).
    pub(super) hop_config: Option<ProxyKind>,
    /// `head` was not kept: its kind was decided from it when it was read
    /// ([`open_judged`]).
    pub(super) head_dropped: bool,
}

/// How an input's bytes are got when its turn comes.
pub(super) enum Data {
    /// A regular file, closed after its start was read for detection and
    /// opened again by the pass that reads it (so memory and open files do
    /// not grow with the number of inputs; issue 9: 2,000 `.gz` files held
    /// open with their first decoded block took 3.4 GB).
    Closed {
        /// Its bytes are compressed (recognised by magic bytes).
        compressed: bool,
    },
    /// Anything that can be read only once (stdin, a pipe, a device): kept
    /// open from detection on, with the first block already read.
    Stream(BlockReader, Option<Vec<u8>>),
    /// A stream read by an earlier pass.
    Spent,
}

/// What the caller of [`open_judged`] says of the start of a regular or
/// compressed file, read as detection will read it: whether it may be
/// forgotten at once (its kind is already decided from it).
pub(super) type Judge<'a> = dyn FnMut(&[u8], Option<&std::path::Path>) -> bool + 'a;

pub(super) fn open(index: u32, input: Input) -> Result<Loaded, (Input, String)> {
    open_judged(index, input, &mut |_, _| false)
}

/// [`open`], handing the start of the input (what would be kept of it, when
/// it cannot be a config) to `judge` while it is still in this thread's
/// buffer: when `judge` decides the input's kind from it, nothing of it is
/// kept (issue 9: the few KiB kept per input until all were detected were
/// 8 % of the detection of 2,049 small files, in allocations and page
/// faults; see [`Loaded::restore_head`] for when it is wanted after all).
pub(super) fn open_judged(
    index: u32,
    input: Input,
    judge: &mut Judge<'_>,
) -> Result<Loaded, (Input, String)> {
    let opened = match input::open(&input) {
        Ok(o) => o,
        Err(e) => return Err((input, format!("cannot read: {e}"))),
    };
    let mut head_dropped = false;
    let mut keep = |buf: &[u8]| {
        let (keep, hop_config) = kept_span(&input, buf);
        // not what may be a config (its head is read as text later)
        let log_like = hop_config.is_none() && !may_be_config(&input) && !buf.is_empty();
        if log_like && judge(&buf[..keep], input.path.as_deref()) {
            head_dropped = true;
            return (Vec::new(), hop_config);
        }
        (buf[..keep].to_vec(), hop_config)
    };
    let (data, head, hop_config): (Data, Vec<u8>, _) = match opened {
        Opened::File(f) => {
            let (head, hop_config) = with_head_buf(|buf| {
                f.head_into(HEAD_BYTES, buf);
                keep(buf)
            });
            (Data::Closed { compressed: false }, head, hop_config)
        }
        Opened::Compressed(r) => {
            match with_head_buf(|buf| read_up_to(r, HEAD_BYTES, buf).map(|()| keep(buf))) {
                Ok((head, hop_config)) => (Data::Closed { compressed: true }, head, hop_config),
                Err(e) => return Err((input, format!("cannot read: {e}"))),
            }
        }
        Opened::Stream(r) => {
            let mut br = BlockReader::new(r);
            match br.next_block() {
                Ok(first) => {
                    let head = first
                        .as_deref()
                        .map(|f| f[..f.len().min(HEAD_BYTES)].to_vec())
                        .unwrap_or_default();
                    let hop_config = hop_config_kind(&head);
                    (Data::Stream(br, first), head, hop_config)
                }
                Err(e) => return Err((input, format!("cannot read: {e}"))),
            }
        }
    };
    Ok(Loaded {
        index,
        input,
        data,
        head,
        kind: Kind::Unknown,
        reason: String::new(),
        wrap: Wrap::None,
        mixed: false,
        config_of: None,
        hop_config,
        head_dropped,
    })
}

/// Run `f` with this thread's buffer for the heads of inputs: read into a
/// buffer used again, the 64 KiB of each of thousands of small files cost
/// no allocation and no page faults (issue 9: 20 % of a run over 500 small
/// files went to faulting in and zeroing fresh heads).
fn with_head_buf<R>(f: impl FnOnce(&mut Vec<u8>) -> R) -> R {
    thread_local! {
        static HEAD_BUF: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    }
    HEAD_BUF.with(|b| f(&mut b.borrow_mut()))
}

/// How much of the head read (`buf`) is kept until the input's kind is
/// decided, and whether it holds a HAProxy / Envoy config: the whole of it
/// for what may be a config (read as text later: a `.cfg`, an nginx config
/// name, a HAProxy or Envoy config by content), else only the lines
/// detection reads ([`detect::sample_span`]), so memory does not grow by
/// 64 KiB per input (issue 9: 134 MB at 2,049 small files).
fn kept_span(input: &Input, buf: &[u8]) -> (usize, Option<ProxyKind>) {
    let hop_config = hop_config_kind(buf);
    let keep = if hop_config.is_some() || may_be_config(input) {
        buf.len()
    } else {
        detect::sample_span(buf)
    };
    (keep, hop_config)
}

/// Whether the name of `input` says it may be a config (`*.cfg`, or an
/// nginx config name): then all of its head is kept, to be read as text.
fn may_be_config(input: &Input) -> bool {
    input.path.as_deref().is_some_and(|p| {
        p.extension().is_some_and(|e| e == "cfg") || super::nginx_config::is_config_name(p)
    })
}

/// Up to `max` bytes from the start of `r` into `out` (its contents
/// replaced). An error after some bytes were read ends the read early (the
/// pass that reads the whole input reports it); one before any byte is
/// returned.
fn read_up_to(
    mut r: Box<dyn BufRead + Send>,
    max: usize,
    out: &mut Vec<u8>,
) -> std::io::Result<()> {
    out.clear();
    while out.len() < max {
        let buf = match r.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) if out.is_empty() => return Err(e),
            Err(_) => break,
        };
        if buf.is_empty() {
            break;
        }
        let n = buf.len().min(max - out.len());
        out.extend_from_slice(&buf[..n]);
        r.consume(n);
    }
    Ok(())
}

impl Loaded {
    /// About `max` bytes of the file for a quick look across it: of a
    /// regular file longer than `max`, the whole lines in three windows
    /// (its start, its middle, its end), so a dump whose first part differs
    /// from the rest (a quiet morning before the incident, a clock change)
    /// is not judged by its start alone; a compressed file the same, decoded
    /// to its end once more ([`input::stream_windows`]: ask
    /// [`Loaded::is_compressed_file`] and look at [`Loaded::prefix`] first,
    /// as that costs what inflating the whole file costs); else
    /// [`Loaded::prefix`] (a stream can be read only once).
    pub(super) fn spread(&self, max: usize) -> Vec<Cow<'_, [u8]>> {
        if let Data::Closed { compressed: true } = self.data {
            if let Ok(Opened::Compressed(r)) = input::open(&self.input) {
                return input::stream_windows(r, max)
                    .into_iter()
                    .map(Cow::Owned)
                    .collect();
            }
        }
        if let Data::Closed { compressed: false } = self.data {
            if let Ok(Opened::File(f)) = input::open(&self.input) {
                let (len, part) = (f.len(), (max / 3).max(1) as u64);
                if len > max as u64 {
                    let mid = len / 2 - part / 2;
                    return [(0, part), (mid, mid + part), (len - part, len)]
                        .into_iter()
                        .map(|r| Cow::Owned(f.with_chunk(r, |b| b.to_vec())))
                        .collect();
                }
            }
        }
        vec![self.prefix(max)]
    }

    /// True for a compressed regular file (which [`Loaded::spread`] can
    /// sample across only by decoding all of it once more).
    pub(super) fn is_compressed_file(&self) -> bool {
        matches!(self.data, Data::Closed { compressed: true })
    }

    /// The start of the file, for a quick look before the full pass: up to
    /// `max` bytes of a regular file (read now, cut at a line end unless it
    /// is the whole file), or the first block of a stream (which cannot be
    /// read twice). A file that cannot be opened again gives what was read
    /// for detection.
    pub(super) fn prefix(&self, max: usize) -> Cow<'_, [u8]> {
        match &self.data {
            Data::Closed { .. } => {
                let (mut b, whole) = match input::open(&self.input) {
                    Ok(Opened::File(f)) => {
                        let b = f.head(max);
                        let whole = b.len() as u64 >= f.len();
                        (b, whole)
                    }
                    Ok(Opened::Compressed(r) | Opened::Stream(r)) => {
                        let mut b = Vec::new();
                        match read_up_to(r, max.saturating_add(1), &mut b) {
                            Ok(()) => {
                                let whole = b.len() <= max;
                                b.truncate(max);
                                (b, whole)
                            }
                            Err(_) => return Cow::Borrowed(&self.head),
                        }
                    }
                    Err(_) => return Cow::Borrowed(&self.head),
                };
                if !whole {
                    let keep = memchr::memrchr(b'\n', &b).map_or(b.len(), |i| i + 1);
                    b.truncate(keep);
                }
                Cow::Owned(b)
            }
            Data::Stream(_, Some(first)) => Cow::Borrowed(first),
            Data::Stream(_, None) | Data::Spent => Cow::Borrowed(&self.head),
        }
    }

    /// Take what the pass reading this input needs: a stream is handed over
    /// (it can be read once), a regular file is opened again by the pass.
    pub(super) fn take_data(&mut self) -> Data {
        match &self.data {
            Data::Closed { compressed } => Data::Closed {
                compressed: *compressed,
            },
            _ => std::mem::replace(&mut self.data, Data::Spent),
        }
    }

    /// The start of the input as [`open`] keeps it, read again when
    /// [`open_judged`] did not keep it and it is wanted after all (formats
    /// read from an Envoy config found among the inputs are tried on every
    /// log before its detected kind). Left empty when it cannot be read
    /// again (the pass then says why).
    pub(super) fn restore_head(&mut self) {
        if !std::mem::take(&mut self.head_dropped) {
            return;
        }
        let input = &self.input;
        let head = match input::open(input) {
            Ok(Opened::File(f)) => with_head_buf(|buf| {
                f.head_into(HEAD_BYTES, buf);
                Some(buf[..kept_span(input, buf).0].to_vec())
            }),
            Ok(Opened::Compressed(r)) => with_head_buf(|buf| {
                read_up_to(r, HEAD_BYTES, buf).ok()?;
                Some(buf[..kept_span(input, buf).0].to_vec())
            }),
            _ => None,
        };
        self.head = head.unwrap_or_default();
    }

    /// A plain file listed with bytes whose start then read none: it was cut
    /// to 0 bytes between the listing and its turn (logrotate
    /// `copytruncate`, `> file`). The plan also reports it as a problem.
    /// Meaningful only while the start read for detection is kept (not
    /// after [`Loaded::forget_head`], nor when [`open_judged`] dropped it).
    pub(super) fn shrank_to_nothing(&self) -> bool {
        self.head.is_empty()
            && self.input.len > 0
            && matches!(self.data, Data::Closed { compressed: false })
    }

    /// The start of the input is no longer needed (its kind is decided):
    /// free it, so memory does not grow with the number of inputs.
    pub(super) fn forget_head(&mut self) {
        self.head = Vec::new();
    }
}

/// What a file holds: the format its config `access_log` names (if its
/// lines match it), else the first format that parses its first lines, else
/// one read from its first line (not when `forced`: a format given with
/// `--log-format` is the only one tried).
pub(super) fn classify_input(
    l: &Loaded,
    formats: &[LogFormat],
    config: Option<&NginxConfig>,
    forced: bool,
) -> Detection {
    let head = &l.head;
    if head.is_empty() {
        let reason = match &l.data {
            _ if l.shrank_to_nothing() => "nothing could be read (the file shrank to 0 bytes?)",
            Data::Closed { compressed: false } => "empty (0 bytes)",
            Data::Closed { compressed: true } | Data::Stream(..) | Data::Spent => {
                "empty (the stream ended without a byte)"
            }
        };
        return Detection {
            kind: Kind::Unknown,
            reason: reason.into(),
            inferred: None,
            wrap: Wrap::None,
            mixed: false,
        };
    }
    classify_head(head, l.input.path.as_deref(), formats, config, forced)
}

/// [`classify_input`] of a start of input that is not empty, read from
/// `path` (`None`: stdin).
pub(super) fn classify_head(
    head: &[u8],
    path: Option<&std::path::Path>,
    formats: &[LogFormat],
    config: Option<&NginxConfig>,
    forced: bool,
) -> Detection {
    let preferred = config
        .zip(path)
        .and_then(|(c, p)| c.format_for(p))
        .and_then(|(name, why)| {
            formats
                .iter()
                .position(|f| f.name == name)
                .map(|i| (i, why))
        });
    let Some((i, why)) = preferred else {
        return detect::detect_with(head, formats, !forced);
    };
    let mut d = detect::detect_with(head, &formats[i..=i], false);
    if let Kind::Access(_) = d.kind {
        d.kind = Kind::Access(i);
        d.reason = format!("{why}; {}", d.reason);
        return d;
    }
    let mut d = detect::detect_with(head, formats, !forced);
    if !matches!(d.kind, Kind::Error) {
        d.reason = format!(
            "{}; the config says {why}, but its lines do not match format {:?}",
            d.reason, formats[i].name
        );
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file listed with bytes that reads none when its start is read has
    /// shrunk (the plan reports it); one listed with none is empty.
    #[test]
    fn shrank_is_told_from_empty_by_the_listed_size() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("access.log");
        std::fs::write(&path, b"").unwrap();
        for (listed, shrank, reason) in [
            (
                4_096,
                true,
                "nothing could be read (the file shrank to 0 bytes?)",
            ),
            (0, false, "empty (0 bytes)"),
        ] {
            let input = Input {
                path: Some(path.clone()),
                display: "access.log".into(),
                len: listed,
            };
            let l = open(0, input).unwrap_or_else(|(_, e)| panic!("{e}"));
            assert_eq!(l.shrank_to_nothing(), shrank, "listed {listed}");
            assert_eq!(classify_input(&l, &[], None, false).reason, reason);
        }
    }
}

/// Say each duplicate path (`logs/ logs/access.log`, a link to a file
/// given) in the Inputs row of the input it is the same as: `; X is the
/// same file as Y; read once` (or `X was given more than once …`), once
/// per duplicate. Those whose input has no row (a directory given twice,
/// a file that could not be opened) are returned as problems, to be said
/// there: never hidden.
pub(super) fn say_duplicates(
    rows: &mut [super::report::InputSummary],
    duplicates: &[input::Duplicate],
) -> Vec<input::Problem> {
    let mut rest = Vec::new();
    for d in duplicates {
        match rows.iter_mut().find(|r| r.path == d.first) {
            Some(r) => {
                r.reason.push_str("; ");
                r.reason.push_str(&d.message());
            }
            None => rest.push(input::Problem {
                path: d.path.clone(),
                message: d.message(),
            }),
        }
    }
    rest
}

#[cfg(test)]
mod duplicate_tests {
    use super::*;
    use crate::analyze::kind::InputKind;
    use crate::analyze::report::InputSummary;

    #[test]
    fn each_duplicate_is_said_in_its_inputs_row() {
        let row = |p: &str| {
            InputSummary::new(
                p.into(),
                InputKind::NginxAccess,
                Some("combined".into()),
                "2 of the first 2 lines parse".into(),
                2,
                0,
                0,
            )
        };
        let mut rows = vec![row("logs/access.log"), row("logs/other.log")];
        let dup = |p: &str, first: &str| input::Duplicate {
            path: p.into(),
            first: first.into(),
            what: "file",
        };
        let rest = say_duplicates(
            &mut rows,
            &[
                dup("logs/access.log", "logs/access.log"),
                dup("latest.log", "logs/access.log"),
                dup("gone.log", "missing.log"),
            ],
        );
        assert_eq!(
            rows[0].reason,
            "2 of the first 2 lines parse; logs/access.log was given more than once (by name, or in a folder given); read once; latest.log is the same file as logs/access.log; read once"
        );
        assert_eq!(rows[1].reason, "2 of the first 2 lines parse");
        assert_eq!(rows.len(), 2);
        assert_eq!(rest.len(), 1);
        assert_eq!(rest[0].path, "gone.log");
        assert_eq!(
            rest[0].message,
            "gone.log is the same file as missing.log; read once"
        );
    }
}
