//! One scheduler over every input of a pass: the chunks of regular files and
//! whole compressed streams are tasks run by the rayon pool's threads, taken
//! in input order; results are handed to the caller's sink on the calling
//! thread in input and chunk order, so the report does not depend on which
//! thread ran what.
//!
//! Files are opened lazily (when their first task runs) and closed when
//! their last result is handed out; at most [`WINDOW_PER_THREAD`] tasks per
//! thread are started ahead of the oldest unfinished one, so memory and open
//! files stay bounded whatever the number of inputs (issue 9: 2,000 `.gz`
//! files all opened before any was parsed took 3.4 GB of heap, and files
//! were read one after another, so many small ones used one core).
//!
//! A stream (compressed file, stdin, pipe) is one task: its blocks are
//! decoded a block ahead on a thread of their own (`input::each_block`) and
//! parsed chunk by chunk on the worker, so several streams decode at once,
//! one per worker. A stream that is not the oldest unfinished task queues at
//! most [`STREAM_PENDING`] chunk results, then waits its turn.
//!
//! Deadlock freedom: tasks are taken strictly in order (one queue, FIFO), so
//! the oldest unfinished task has always been taken by a worker, and the
//! calling thread drains exactly that task's results; only later tasks can
//! wait. Tasks never call back into rayon.

use std::collections::VecDeque;
use std::sync::mpsc::{channel, sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};

use super::inputs::{Data, Loaded};
use super::Options;
use crate::input::{self, BlockReader, Opened, PlainFile, Problem};
use crate::logs::wrap::{container_piece, Wrap};

/// Tasks started ahead of the oldest unfinished one, per worker thread.
/// A task's result is one chunk's aggregate (a few KiB, plus its events with
/// `--events`), so this bounds memory at a few MB while keeping every worker
/// busy when tasks differ in length.
const WINDOW_PER_THREAD: usize = 32;
/// The same with [`Options::all_requests`] (`gatecheck export`): a chunk's
/// result then holds an event for each of its ~8,000 requests (~3 MB), so
/// fewer are kept ahead (measured: 32 per thread held 455 MB for a 256 MiB
/// log on 2 threads).
const WINDOW_PER_THREAD_ALL_REQUESTS: usize = 4;

/// Chunk results a stream that is not yet due queues before it waits
/// (256 × 2 MiB chunks: 512 MiB of decoded input ahead).
const STREAM_PENDING: usize = 256;

/// The parser of one chunk of input `i`: its result and line count.
pub(super) type ParseFn<'a, T> = dyn Fn(usize, &[u8]) -> (T, u64) + Sync + 'a;

/// The parser of a group of whole small files read by one task: it is
/// handed a driver that gives each file's index and bytes, in input order,
/// to the visitor it passes, and returns one result for them all and their
/// line count. The result must say what the caller needs of each file: the
/// sink gets it for the group's first file, then each file's end.
pub(super) type GroupFn<'a, T> = dyn Fn(&mut Each<'_>) -> (T, u64) + Sync + 'a;

/// The driver a [`GroupFn`] is handed: it gives each file of the group to
/// the visitor, as (input index, its bytes), in input order.
pub(super) type Each<'a> = dyn FnMut(&mut Visit<'_>) + 'a;

/// What a [`GroupFn`] does with each file of its group.
pub(super) type Visit<'a> = dyn FnMut(usize, &[u8]) + 'a;

/// A regular plain file at most this long may be read whole with others in
/// one task (as many as fit in one chunk, [`input::CHUNK_SIZE`]), into one
/// result: thousands of small files then cost a task, a result and its
/// merge per chunk's worth of bytes, as one large file does, not per file
/// (issue 9: a small file's own aggregate, grown from empty and merged on
/// the calling thread, was most of what 2,049 files of 512 KiB cost more
/// than the same bytes in one file).
const GROUP_FILE_MAX: u64 = input::CHUNK_SIZE as u64;

/// What one task is.
enum Task {
    /// The lines starting in a byte range of a regular plain file.
    Chunk { file: usize, range: (u64, u64) },
    /// A whole stream (compressed file, or one readable only once).
    Stream { file: usize },
    /// Consecutive small regular plain files `first..=last`, each read
    /// whole, by a [`GroupFn`].
    Group { first: usize, last: usize },
}

impl Task {
    /// The first and last input it reads.
    fn files(&self) -> (usize, usize) {
        match *self {
            Task::Chunk { file, .. } | Task::Stream { file } => (file, file),
            Task::Group { first, last } => (first, last),
        }
    }
}

/// What a task hands back.
enum Msg<T> {
    /// One chunk's result and its line count.
    Part(T, u64),
    /// The stream broke off (a truncated or corrupt compressed file): why.
    Broke(String),
    /// The input could not be read at all: why.
    Problem(String),
}

/// A regular plain file's state, shared by its chunk tasks.
enum Slot {
    NotOpened,
    Open(Arc<PlainFile>),
    Failed(String),
    /// A small file read whole by its group's task and closed at once, with
    /// what its reading found to say: a group holds thousands of files, and
    /// keeping each open until the group's turn in the output ran out of
    /// descriptors (`ulimit -n` 1024: 5,000 files of 450 bytes, 3,000 of
    /// them "cannot read: Too many open files", exit 0).
    Read(Vec<String>),
}

/// Per input, as the tasks see it.
struct Source {
    display: String,
    input: input::Input,
    /// A plain file's state (its chunk tasks share it).
    slot: Mutex<Slot>,
    /// A stream handed over by the plan (read once).
    stream: Mutex<Option<(BlockReader, Option<Vec<u8>>)>>,
    /// The pieces a chunk or block boundary must not fall between: a
    /// container runtime's cut lines where the input was detected as
    /// Docker json-file or CRI, none elsewhere (no look around the
    /// boundaries of a plain log).
    pieces: Option<input::PieceOf>,
}

/// Run `f` over every chunk of every input of `files` and hand each result
/// to `sink(i, Some((result, lines)))` in input order, then chunk order,
/// where `i` indexes `files`; after an input's last chunk, its problems (a
/// file that vanished before it was read, changed size while read, or a
/// stream that broke off) go to `problems` and `sink(i, None)` is called.
pub(super) fn for_each_chunk<T: Send>(
    files: &mut [&mut Loaded],
    opts: &Options,
    problems: &mut Vec<Problem>,
    f: &ParseFn<'_, T>,
    sink: &mut dyn FnMut(usize, Option<(T, u64)>),
) {
    for_each_task(files, opts, problems, f, None, sink)
}

/// [`for_each_chunk`], with consecutive small plain files read whole by one
/// task each few (up to a chunk's bytes) with `group`; the sink then gets
/// that task's result for its first file (`sink(first, Some(..))`), then
/// the end of each of its files.
pub(super) fn for_each_chunk_grouped<T: Send>(
    files: &mut [&mut Loaded],
    opts: &Options,
    problems: &mut Vec<Problem>,
    f: &ParseFn<'_, T>,
    group: &GroupFn<'_, T>,
    sink: &mut dyn FnMut(usize, Option<(T, u64)>),
) {
    for_each_task(files, opts, problems, f, Some(group), sink)
}

/// Consecutive small plain files gathered for one [`Task::Group`].
#[derive(Default)]
struct Gathered {
    /// (first, last, bytes) of the group being gathered.
    open: Option<(usize, usize, u64)>,
}

impl Gathered {
    /// Whether input `i` of `len` bytes joins the group (started with it
    /// when none is open); the group that cannot take it is closed first.
    fn add(&mut self, i: usize, len: u64, tasks: &mut Vec<Task>, last_task: &mut [Option<usize>]) {
        if let Some((_, last, bytes)) = &mut self.open {
            if *last + 1 == i && *bytes + len <= input::CHUNK_SIZE as u64 {
                *last = i;
                *bytes += len;
                return;
            }
        }
        self.close(tasks, last_task);
        self.open = Some((i, i, len));
    }

    /// Make the open group a task: a file alone is a chunk as any other.
    fn close(&mut self, tasks: &mut Vec<Task>, last_task: &mut [Option<usize>]) {
        let Some((first, last, bytes)) = self.open.take() else {
            return;
        };
        tasks.push(if first == last {
            Task::Chunk {
                file: first,
                range: (0, bytes),
            }
        } else {
            Task::Group { first, last }
        });
        for t in &mut last_task[first..=last] {
            *t = Some(tasks.len() - 1);
        }
    }
}

/// [`for_each_chunk`] and [`for_each_chunk_grouped`].
fn for_each_task<T: Send>(
    files: &mut [&mut Loaded],
    opts: &Options,
    problems: &mut Vec<Problem>,
    f: &ParseFn<'_, T>,
    group: Option<&GroupFn<'_, T>>,
    sink: &mut dyn FnMut(usize, Option<(T, u64)>),
) {
    let mut tasks: Vec<Task> = Vec::new();
    // per input: the index of its last task (None: no task, nothing to read)
    let mut last_task: Vec<Option<usize>> = vec![None; files.len()];
    let mut sources = Vec::with_capacity(files.len());
    let mut gathered = Gathered::default();
    for (i, l) in files.iter_mut().enumerate() {
        let mut stream = None;
        let data = l.take_data();
        let len = l.input.len;
        if let (Some(_), Data::Closed { compressed: false }) = (group, &data) {
            if len > 0 && len <= GROUP_FILE_MAX {
                gathered.add(i, len, &mut tasks, &mut last_task);
                sources.push(Source::of(l, None));
                continue;
            }
        }
        gathered.close(&mut tasks, &mut last_task);
        let before = tasks.len();
        match data {
            Data::Closed { compressed: false } => {
                let size = input::CHUNK_SIZE as u64;
                let len = l.input.len;
                tasks.extend((0..len.div_ceil(size)).map(|c| Task::Chunk {
                    file: i,
                    range: (c * size, ((c + 1) * size).min(len)),
                }));
                if len == 0 {
                    // still opened once: a file that vanished is said to have
                    tasks.push(Task::Chunk {
                        file: i,
                        range: (0, 0),
                    });
                }
            }
            Data::Closed { compressed: true } => tasks.push(Task::Stream { file: i }),
            Data::Stream(br, first) => {
                stream = Some((br, first));
                tasks.push(Task::Stream { file: i });
            }
            Data::Spent => {}
        }
        let n = tasks.len();
        last_task[i] = (n > before).then(|| n - 1);
        sources.push(Source::of(l, stream));
    }
    gathered.close(&mut tasks, &mut last_task);
    let mut done = Done {
        next_file: 0,
        sources: &sources,
    };
    let handle = |file: usize,
                  lines: &mut u64,
                  msg: Msg<T>,
                  problems: &mut Vec<Problem>,
                  sink: &mut dyn FnMut(usize, Option<(T, u64)>)| {
        let path = || sources[file].display.clone();
        match msg {
            Msg::Part(r, n) => {
                *lines += n;
                sink(file, Some((r, n)));
            }
            Msg::Broke(m) => problems.push(Problem {
                path: path(),
                message: format!("{m}; the {lines} lines before it were read"),
            }),
            Msg::Problem(message) => problems.push(Problem {
                path: path(),
                message,
            }),
        }
    };
    if rayon::current_thread_index().is_some() {
        // called from a task of the pool itself: the pool's threads may all
        // be busy waiting on this one, so run every task here, in order
        for (t, task) in tasks.iter().enumerate() {
            let (file, last) = task.files();
            done.upto(file, problems, sink);
            let mut lines = 0;
            run_task(task, &sources, opts, f, group, &mut |m| {
                handle(file, &mut lines, m, problems, sink);
                true
            });
            if last_task[last] == Some(t) {
                done.upto(last + 1, problems, sink);
            }
        }
        done.upto(sources.len(), problems, sink);
        return;
    }
    let threads = rayon::current_num_threads().max(1);
    let per_thread = if opts.all_requests {
        WINDOW_PER_THREAD_ALL_REQUESTS
    } else {
        WINDOW_PER_THREAD
    };
    let window = per_thread * threads;
    let (job_tx, job_rx) = channel::<(usize, SyncSender<Msg<T>>)>();
    let job_rx = Mutex::new(job_rx);
    let tasks = &tasks;
    let sources_ref = &sources;
    let worker = || loop {
        let job = match job_rx.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok((t, tx)) = job else {
            return;
        };
        run_task(&tasks[t], sources_ref, opts, f, group, &mut |m| {
            tx.send(m).is_ok()
        });
    };
    let worker = &worker;
    rayon::in_place_scope(|s| {
        for _ in 0..threads {
            s.spawn(move |_| worker());
        }
        let mut inflight: VecDeque<(usize, Receiver<Msg<T>>)> = VecDeque::new();
        let mut next = 0usize;
        let mut admit = |inflight: &mut VecDeque<_>| {
            while next < tasks.len() && inflight.len() < window {
                let bound = match tasks[next] {
                    Task::Chunk { .. } | Task::Group { .. } => 1,
                    Task::Stream { .. } => STREAM_PENDING,
                };
                let (tx, rx) = sync_channel(bound);
                if job_tx.send((next, tx)).is_err() {
                    return;
                }
                inflight.push_back((next, rx));
                next += 1;
            }
        };
        admit(&mut inflight);
        while let Some((t, rx)) = inflight.pop_front() {
            let (file, last) = tasks[t].files();
            // inputs before this one with no task (read by an earlier pass)
            // are finished now, in order
            done.upto(file, problems, sink);
            let mut lines = 0u64;
            while let Ok(msg) = rx.recv() {
                handle(file, &mut lines, msg, problems, sink);
                admit(&mut inflight);
            }
            if last_task[last] == Some(t) {
                done.upto(last + 1, problems, sink);
            }
            admit(&mut inflight);
        }
        // the workers end when the queue is closed and empty
        drop(job_tx);
    });
    done.upto(sources.len(), problems, sink);
}

/// The inputs finished so far (closed, their problems said, the sink told).
struct Done<'a> {
    next_file: usize,
    sources: &'a [Source],
}

impl Done<'_> {
    /// Finish every input before `upto` not finished yet.
    fn upto<T>(
        &mut self,
        upto: usize,
        problems: &mut Vec<Problem>,
        sink: &mut dyn FnMut(usize, Option<(T, u64)>),
    ) {
        while self.next_file < upto {
            close(&self.sources[self.next_file], problems);
            sink(self.next_file, None);
            self.next_file += 1;
        }
    }
}

/// Run one task, handing its results to `send`, which says `false` only
/// when nobody listens any more (then the task stops).
fn run_task<T>(
    task: &Task,
    sources: &[Source],
    opts: &Options,
    f: &ParseFn<'_, T>,
    group: Option<&GroupFn<'_, T>>,
    send: &mut dyn FnMut(Msg<T>) -> bool,
) {
    let tick = |n: u64| {
        if let Some(p) = &opts.progress {
            p(n)
        }
    };
    match *task {
        Task::Chunk { file, range } => {
            let src = &sources[file];
            let Some(plain) = open_plain(src) else {
                return;
            };
            if range.1 > range.0 {
                let r = plain.with_chunk(src.boundaries(&plain, range), |c| f(file, c));
                drop(plain);
                tick(range.1 - range.0);
                send(Msg::Part(r.0, r.1));
            }
        }
        Task::Group { first, last } => {
            let Some(group) = group else {
                return;
            };
            let mut each = |visit: &mut Visit<'_>| {
                for (file, src) in sources.iter().enumerate().take(last + 1).skip(first) {
                    let Some(plain) = open_plain(src) else {
                        continue;
                    };
                    // read with `pread`, which hands the bytes over once
                    // (a mapped read is done again when the file shrank)
                    plain.with_read_chunk((0, src.input.len), |c| visit(file, c));
                    drop(plain);
                    read_whole(src);
                    tick(src.input.len);
                }
            };
            let (r, n) = group(&mut each);
            send(Msg::Part(r, n));
        }
        Task::Stream { file } => {
            let src = &sources[file];
            let handed = src.stream.lock().ok().and_then(|mut s| s.take());
            let (mut br, mut first) = match handed {
                Some(s) => s,
                None => match input::open(&src.input) {
                    Ok(Opened::Compressed(r) | Opened::Stream(r)) => (BlockReader::new(r), None),
                    Ok(Opened::File(p)) => {
                        // no longer compressed (replaced since detection):
                        // read it as it is now, in order, on this worker
                        for range in p.ranges(input::CHUNK_SIZE) {
                            let range = src.boundaries(&p, range);
                            let r = p.with_chunk(range, |c| f(file, c));
                            tick(range.1 - range.0);
                            if !send(Msg::Part(r.0, r.1)) {
                                return;
                            }
                        }
                        return;
                    }
                    Err(e) => {
                        send(Msg::Problem(vanished(&e)));
                        return;
                    }
                },
            };
            // blocks and chunks end after whole lines, a container
            // runtime's pieces of one line included; a first block read
            // for detection gives back the pieces it cut
            br.keep_pieces(src.piece());
            if let Some(b) = first.as_mut().filter(|_| !br.is_done()) {
                if let Some(i) = memchr::memrchr(b'\n', b) {
                    let cut = input::block_end(b, i + 1, src.piece());
                    br.unread(b.split_off(cut));
                }
            }
            let mut gone = false;
            let end = input::each_block(first, &mut br, &mut |block| {
                if gone {
                    return;
                }
                for chunk in input::chunks(block, input::CHUNK_SIZE, src.piece()) {
                    let (r, n) = f(file, chunk);
                    if !send(Msg::Part(r, n)) {
                        gone = true;
                        return;
                    }
                }
                tick(block.len() as u64);
            });
            if let Err(e) = end {
                send(Msg::Broke(e.to_string()));
            }
        }
    }
}

impl Source {
    /// The source of input `l`, with the stream handed over if any.
    fn of(l: &Loaded, stream: Option<(BlockReader, Option<Vec<u8>>)>) -> Source {
        Source {
            display: l.input.display.clone(),
            input: l.input.clone(),
            slot: Mutex::new(Slot::NotOpened),
            stream: Mutex::new(stream),
            pieces: matches!(l.wrap, Wrap::Docker | Wrap::Cri).then_some(container_piece as _),
        }
    }

    /// The bytes of `plain` a chunk task for `range` reads: as they are
    /// when the input has no pieces (a chunk holds the lines that start in
    /// its range), else moved past a cut line's pieces on both ends
    /// ([`PlainFile::boundary`]).
    fn boundaries(&self, plain: &PlainFile, range: (u64, u64)) -> (u64, u64) {
        let Some(piece) = self.pieces else {
            return range;
        };
        let start = plain.boundary(range.0, piece);
        (start, plain.boundary(range.1, piece).max(start))
    }

    /// The pieces stream blocks and chunks must not end between.
    fn piece(&self) -> input::PieceOf {
        self.pieces.unwrap_or(input::no_pieces)
    }
}

/// A plain file's open handle, opening it on first use; `None` when it
/// could not be opened (said once, when the file is closed).
fn open_plain(src: &Source) -> Option<Arc<PlainFile>> {
    let mut slot = src.slot.lock().ok()?;
    if let Slot::NotOpened = *slot {
        let path = src.input.path.as_deref()?;
        *slot = match PlainFile::open(path, src.input.len) {
            Ok(p) => Slot::Open(Arc::new(p)),
            Err(e) => Slot::Failed(vanished(&e)),
        };
    }
    match &*slot {
        Slot::Open(p) => Some(p.clone()),
        _ => None,
    }
}

/// A file of a group was read whole: close it, keeping what it has to say.
fn read_whole(src: &Source) {
    let Ok(mut slot) = src.slot.lock() else {
        return;
    };
    if let Slot::Open(p) = &*slot {
        let said = messages(p);
        *slot = Slot::Read(said);
    }
}

/// What a plain file's reading has to say: a read error, a change of size.
fn messages(p: &PlainFile) -> Vec<String> {
    [p.read_error(), p.changed().map(|c| c.to_string())]
        .into_iter()
        .flatten()
        .collect()
}

/// The message for an input found (and read for detection) that could no
/// longer be opened when its turn came.
fn vanished(e: &crate::error::Error) -> String {
    if let crate::error::Error::Io { source, .. } = e {
        if matches!(source.raw_os_error(), Some(libc::EMFILE | libc::ENFILE)) {
            return format!(
                "cannot read: {e}: more files open at once than the system allows \
                 (`ulimit -n`); raise the limit (ulimit -n 65536) and run again: none of \
                 its lines are counted"
            );
        }
    }
    format!(
        "cannot read: {e} (it was there when the inputs were listed and its start was read \
         to detect its format; it was removed or replaced before its turn, by log rotation?): \
         none of its lines are counted"
    )
}

/// A plain file's last chunk was handed out: say what changed, and close it.
fn close(src: &Source, problems: &mut Vec<Problem>) {
    let Ok(mut slot) = src.slot.lock() else {
        return;
    };
    let messages = match std::mem::replace(&mut *slot, Slot::NotOpened) {
        Slot::NotOpened => Vec::new(),
        Slot::Failed(m) => vec![m],
        Slot::Read(m) => m,
        Slot::Open(p) => messages(&p),
    };
    problems.extend(messages.into_iter().map(|message| Problem {
        path: src.display.clone(),
        message,
    }));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::inputs::open;
    use std::io::Write;

    fn text(seed: usize, lines: usize) -> Vec<u8> {
        (0..lines)
            .flat_map(|i| format!("file {seed} line {i} {}\n", "x".repeat(i % 61)).into_bytes())
            .collect()
    }

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    /// `n` files `f00.log`… in `dir` of `lines(i)` lines each (gzipped
    /// where `gzipped(i)`), discovered and opened (their starts read), then
    /// the `vanish` ones removed; with the bytes each must give (none for
    /// the removed ones).
    fn inputs_in(
        dir: &std::path::Path,
        n: usize,
        lines: impl Fn(usize) -> usize,
        gzipped: impl Fn(usize) -> bool,
        vanish: &[usize],
    ) -> (Vec<Vec<u8>>, Vec<Loaded>) {
        let mut want: Vec<Vec<u8>> = Vec::new();
        let mut paths = Vec::new();
        for i in 0..n {
            let t = text(i, lines(i));
            let path = dir.join(format!("f{i:02}.log"));
            let bytes = if gzipped(i) { gz(&t) } else { t.clone() };
            std::fs::write(&path, bytes).unwrap();
            want.push(t);
            paths.push(path.display().to_string());
        }
        let crate::input::Discovered {
            inputs, problems, ..
        } = crate::input::discover(&paths);
        assert!(problems.is_empty());
        let loaded = inputs
            .into_iter()
            .enumerate()
            .map(|(i, inp)| open(i as u32, inp).expect("opened"))
            .collect();
        for &i in vanish {
            std::fs::remove_file(&paths[i]).unwrap();
            want[i].clear();
        }
        (want, loaded)
    }

    /// Every byte of every input arrives once, in input then chunk order,
    /// each input closed after its last chunk, whatever ran where: plain
    /// files of several chunks, small ones, `.gz` ones, an empty one, and
    /// one removed after detection (said, with no chunk).
    #[test]
    fn every_input_arrives_whole_in_order_and_a_vanished_one_is_said() {
        let dir = tempfile::tempdir().unwrap();
        let lines = |i: usize| match i % 5 {
            0 => 60_000, // several 2 MiB chunks
            4 => 0,
            _ => 50 + i * 7,
        };
        // detected, then gone before its turn: a `.gz` and a plain one
        let (want, mut loaded) = inputs_in(dir.path(), 40, lines, |i| i % 5 == 2, &[7, 8]);
        let mut files: Vec<&mut Loaded> = loaded.iter_mut().collect();
        let mut got: Vec<Vec<u8>> = vec![Vec::new(); files.len()];
        let mut closed = Vec::new();
        let mut problems = Vec::new();
        let f = |i: usize, chunk: &[u8]| ((i, chunk.to_vec()), lines_in(chunk));
        for_each_chunk(
            &mut files,
            &Options::default(),
            &mut problems,
            &f,
            &mut |i, part| match part {
                Some(((j, bytes), n)) => {
                    assert_eq!(i, j);
                    assert!(
                        closed.last().is_none_or(|&c| c < i),
                        "input {i} after it closed"
                    );
                    assert_eq!(n, lines_in(&bytes));
                    got[i].extend_from_slice(&bytes);
                }
                None => closed.push(i),
            },
        );
        assert_eq!(
            closed,
            (0..40).collect::<Vec<_>>(),
            "each closed once, in order"
        );
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert!(g == w, "input {i}: {} of {} bytes", g.len(), w.len());
        }
        assert_eq!(problems.len(), 2, "{problems:?}");
        for (p, name) in problems.iter().zip(["f07.log", "f08.log"]) {
            assert!(p.path.ends_with(name), "{problems:?}");
            assert!(p.message.contains("before its turn"), "{problems:?}");
        }
    }

    /// With a group parser, small plain files are read whole, several by
    /// one task (never more than a chunk's bytes), and every byte of every
    /// input still arrives once, in order, each input closed after its
    /// bytes; the large, compressed, empty and vanished ones as before.
    #[test]
    fn small_files_are_read_whole_in_groups_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let lines = |i: usize| match i % 6 {
            0 => 60_000, // several 2 MiB chunks
            5 => 0,
            3 => 9_000 + i * 100, // about half a chunk
            _ => 50 + i * 7,
        };
        // detected, then gone before their turn, in groups
        let (want, mut loaded) = inputs_in(dir.path(), 60, lines, |i| i % 6 == 4, &[13, 21]);
        let mut files: Vec<&mut Loaded> = loaded.iter_mut().collect();
        // a result: the (input, bytes) it read
        type Read = Vec<(usize, Vec<u8>)>;
        let f = |i: usize, chunk: &[u8]| (vec![(i, chunk.to_vec())], lines_in(chunk));
        let group = |each: &mut Each<'_>| {
            let mut read: Read = Vec::new();
            each(&mut |i, bytes| read.push((i, bytes.to_vec())));
            let n = read.iter().map(|(_, b)| lines_in(b)).sum();
            (read, n)
        };
        let mut got: Vec<Vec<u8>> = vec![Vec::new(); files.len()];
        let mut closed = Vec::new();
        let mut groups = 0;
        let mut problems = Vec::new();
        for_each_chunk_grouped(
            &mut files,
            &Options::default(),
            &mut problems,
            &f,
            &group,
            &mut |i, part: Option<(Read, u64)>| match part {
                Some((read, n)) => {
                    // under the group's first input (which may have vanished)
                    assert!(read.iter().all(|r| r.0 >= i), "{i}");
                    assert_eq!(n, read.iter().map(|(_, b)| lines_in(b)).sum::<u64>());
                    let bytes: usize = read.iter().map(|(_, b)| b.len()).sum();
                    assert!(read.len() == 1 || bytes <= crate::input::CHUNK_SIZE);
                    groups += usize::from(read.len() > 1);
                    for (j, b) in read {
                        assert!(
                            closed.last().is_none_or(|&c| c < j),
                            "input {j} after it closed"
                        );
                        got[j].extend_from_slice(&b);
                    }
                }
                None => closed.push(i),
            },
        );
        assert_eq!(
            closed,
            (0..60).collect::<Vec<_>>(),
            "each closed once, in order"
        );
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert!(g == w, "input {i}: {} of {} bytes", g.len(), w.len());
        }
        assert!(groups > 3, "{groups} groups");
        assert_eq!(problems.len(), 2, "{problems:?}");
        for (p, name) in problems.iter().zip(["f13.log", "f21.log"]) {
            assert!(p.path.ends_with(name), "{problems:?}");
            assert!(p.message.contains("before its turn"), "{problems:?}");
        }
    }

    fn lines_in(b: &[u8]) -> u64 {
        memchr::memchr_iter(b'\n', b).count() as u64
    }
}
