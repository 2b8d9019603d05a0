//! Inputs of one run: open each file (positioned reads or stream), keep its first bytes,
//! decide what it holds, and run a parser over its chunks in parallel.

use std::borrow::Cow;

use rayon::prelude::*;

use super::nginx_config::NginxConfig;
use super::Options;
use crate::input::{self, BlockReader, Input, Opened, PlainFile, Problem};
use crate::logs::detect::{self, Detection, Kind};
use crate::logs::nginx::LogFormat;
use crate::logs::wrap::Wrap;

/// Bytes read from the start of a file to detect its kind.
pub(super) const HEAD_BYTES: usize = 64 << 10;

/// One input after opening and detection.
pub(super) struct Loaded {
    pub(super) index: u32,
    pub(super) input: Input,
    data: Data,
    pub(super) head: Vec<u8>,
    pub(super) kind: Kind,
    pub(super) reason: String,
    /// The packaging peeled off each line before parsing.
    pub(super) wrap: Wrap,
    /// Access and error lines in one file: read by both passes.
    pub(super) mixed: bool,
    /// For a HAProxy / Envoy config (`kind` is `Kind::Config`): which.
    pub(super) config_of: Option<crate::config::ProxyKind>,
}

enum Data {
    File(PlainFile),
    Stream(BlockReader, Option<Vec<u8>>),
}

pub(super) fn open(index: u32, input: Input) -> Result<Loaded, (Input, String)> {
    let opened = match input::open(&input) {
        Ok(o) => o,
        Err(e) => return Err((input, format!("cannot read: {e}"))),
    };
    let (data, head): (Data, Vec<u8>) = match opened {
        Opened::File(f) => {
            let head = f.head(HEAD_BYTES);
            (Data::File(f), head)
        }
        Opened::Stream(r) => {
            let mut br = BlockReader::new(r);
            match br.next_block() {
                Ok(first) => {
                    let head = first
                        .as_deref()
                        .map(|f| f[..f.len().min(HEAD_BYTES)].to_vec())
                        .unwrap_or_default();
                    (Data::Stream(br, first), head)
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
    })
}

impl Loaded {
    /// The start of the file, for a quick look before the full pass: up to
    /// `max` bytes of a regular file (read now, cut at a line end), or the
    /// first block of a stream (which cannot be read twice).
    pub(super) fn prefix(&self, max: usize) -> Cow<'_, [u8]> {
        match &self.data {
            Data::File(f) => {
                let mut b = f.head(max);
                if (b.len() as u64) < f.len() {
                    let keep = memchr::memrchr(b'\n', &b).map_or(b.len(), |i| i + 1);
                    b.truncate(keep);
                }
                Cow::Owned(b)
            }
            Data::Stream(_, Some(first)) => Cow::Borrowed(first),
            Data::Stream(_, None) => Cow::Borrowed(&self.head),
        }
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
            Data::File(f) if f.is_empty() => "empty (0 bytes)",
            Data::File(_) => "nothing could be read (the file shrank to 0 bytes?)",
            Data::Stream(..) => "empty (the stream ended without a byte)",
        };
        return Detection {
            kind: Kind::Unknown,
            reason: reason.into(),
            inferred: None,
            wrap: Wrap::None,
            mixed: false,
        };
    }
    let preferred = config
        .zip(l.input.path.as_deref())
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

/// How many chunks are parsed at once per worker thread: results are handed
/// to the sink in file order a window at a time, so memory stays bounded
/// however large the file (events and per-chunk aggregates of one window).
const WINDOW_PER_THREAD: usize = 16;

/// Run `f` over every chunk of a loaded input — in parallel, a window of
/// chunks at a time for regular files, block by block for streams — and hand
/// each result to `sink` in file order, with the chunk's line count so line
/// numbers can be made absolute. A file that changed size while read, or a
/// stream that broke off, is reported in `problems` after the lines read.
pub(super) fn for_chunks<T: Send>(
    l: &mut Loaded,
    opts: &Options,
    problems: &mut Vec<Problem>,
    f: &(dyn Fn(&[u8]) -> (T, u64) + Sync),
    sink: &mut dyn FnMut(T, u64),
) {
    let tick = |n: usize| {
        if let Some(p) = &opts.progress {
            p(n as u64)
        }
    };
    let window = WINDOW_PER_THREAD * rayon::current_num_threads().max(1);
    match &mut l.data {
        Data::File(file) => {
            for group in file.ranges(input::CHUNK_SIZE).chunks(window) {
                let parts: Vec<(T, u64)> = group
                    .par_iter()
                    .map(|&range| {
                        let r = file.with_chunk(range, f);
                        tick((range.1 - range.0) as usize);
                        r
                    })
                    .collect();
                for (t, n) in parts {
                    sink(t, n);
                }
            }
            let path = &l.input.display;
            for message in [file.read_error(), file.changed().map(|c| c.to_string())]
                .into_iter()
                .flatten()
            {
                problems.push(Problem {
                    path: path.clone(),
                    message,
                });
            }
        }
        Data::Stream(br, first) => {
            let mut lines = 0u64;
            // the next block is decoded on another thread while this one is parsed
            let end = input::each_block(first.take(), br, &mut |block| {
                let parts: Vec<(T, u64)> = input::chunks(&block, input::CHUNK_SIZE)
                    .into_par_iter()
                    .map(f)
                    .collect();
                tick(block.len());
                for (t, n) in parts {
                    lines += n;
                    sink(t, n);
                }
            });
            if let Err(e) = end {
                problems.push(Problem {
                    path: l.input.display.clone(),
                    message: format!("{e}; the {lines} lines before it were read"),
                });
            }
        }
    }
}
