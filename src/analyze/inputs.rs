//! Inputs of one run: open each file (map or stream), keep its first bytes,
//! decide what it holds, and run a parser over its chunks in parallel.

use rayon::prelude::*;

use super::nginx_config::NginxConfig;
use super::Options;
use crate::input::{self, BlockReader, Bytes, Input, Opened, Problem};
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
}

enum Data {
    Whole(Bytes),
    Stream(BlockReader, Option<Vec<u8>>),
}

pub(super) fn open(index: u32, input: Input) -> Result<Loaded, (Input, String)> {
    let opened = match input::open(&input) {
        Ok(o) => o,
        Err(e) => return Err((input, format!("cannot read: {e}"))),
    };
    let (data, head): (Data, Vec<u8>) = match opened {
        Opened::Whole(b) => {
            let head = b[..b.len().min(HEAD_BYTES)].to_vec();
            (Data::Whole(b), head)
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
                Err(e) => return Err((input, format!("cannot decompress: {e}"))),
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
    })
}

impl Loaded {
    /// The start of the file, for a quick look before the full pass: up to
    /// `max` bytes of a mapped file, cut at a line end, or the first block
    /// of a stream (which cannot be read twice).
    pub(super) fn prefix(&self, max: usize) -> &[u8] {
        match &self.data {
            Data::Whole(b) if b.len() > max => {
                let s = &b[..max];
                memchr::memrchr(b'\n', s).map_or(s, |i| &s[..=i])
            }
            Data::Whole(b) => b,
            Data::Stream(_, Some(first)) => first,
            Data::Stream(_, None) => &self.head,
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
/// chunks at a time for mapped files, block by block for streams — and hand
/// each result to `sink` in file order, with the chunk's line count so line
/// numbers can be made absolute.
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
        Data::Whole(b) => {
            for group in input::chunks(b, input::CHUNK_SIZE).chunks(window) {
                let parts: Vec<(T, u64)> = group
                    .par_iter()
                    .map(|c| {
                        let r = f(c);
                        tick(c.len());
                        r
                    })
                    .collect();
                for (t, n) in parts {
                    sink(t, n);
                }
            }
        }
        Data::Stream(br, first) => {
            let mut lines = 0u64;
            let mut next = first.take();
            loop {
                let block = match next.take() {
                    Some(b) => b,
                    None => match br.next_block() {
                        Ok(Some(b)) => b,
                        Ok(None) => break,
                        Err(e) => {
                            problems.push(Problem {
                                path: l.input.display.clone(),
                                message: format!(
                                    "read error after line {lines}: {e}; the {lines} lines before it were analyzed (a truncated or corrupt gzip file?)"
                                ),
                            });
                            break;
                        }
                    },
                };
                // parse this block's chunks in parallel
                let parts: Vec<(T, u64)> = input::chunks(&block, input::CHUNK_SIZE / 4)
                    .into_par_iter()
                    .map(f)
                    .collect();
                tick(block.len());
                for (t, n) in parts {
                    lines += n;
                    sink(t, n);
                }
            }
        }
    }
}
