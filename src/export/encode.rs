//! Parquet column encoding off the writer thread: each column of the
//! schema belongs to one of a few encoder threads ("lanes"), which turn the
//! record batches into encoded, compressed column chunks (parquet's
//! [`ArrowColumnWriter`]: dictionary interning, statistics, zstd) while the
//! writer thread only hands batches on and appends finished row groups to
//! the file, in order.
//!
//! Every lane sees every batch in the order the writer sends them (one
//! FIFO channel per lane) and encodes only its own columns, so a column's
//! values stay in row order and a row group is the same as one
//! [`parquet::arrow::ArrowWriter`] would write: same pages, same
//! dictionaries, same statistics. Lanes are fed from bounded channels, so a
//! slow lane holds the writer back (and, through the analysis window, the
//! parsing workers) instead of letting batches pile up.
//!
//! Why columns and not row groups: a row group of ~128 MB encoded holds
//! millions of rows (the whole of most hourly parts), too much to buffer as
//! Arrow arrays before encoding; splitting by column keeps row groups that
//! large while only a few batches are in flight. Imports nothing of
//! `analyze`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{channel, sync_channel, Sender, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;

use arrow_array::RecordBatch;
use arrow_schema::{DataType, SchemaRef};
use parquet::arrow::arrow_writer::{
    compute_leaves, ArrowColumnChunk, ArrowColumnWriter, ArrowRowGroupWriterFactory,
};
use parquet::errors::ParquetError;

/// Batches a lane may hold queued before the writer waits for it (each
/// batch is one analysis chunk, a few thousand rows, shared by all lanes).
const LANE_QUEUE: usize = 4;

/// Relative cost of encoding a column (its levels and its leaves), per row:
/// measured by timing each column's encoding on a 256 MiB
/// `genlogs.py nginx-upstream` log. The `upstream` list is about half of
/// all (the repetition and definition levels of its five leaves, then
/// three dictionaries of floats), `client` a fifth (30,000 distinct
/// addresses in the dictionary); `host` and `request_id`, not logged
/// there, are weighted like `path`. Only used to spread columns over lanes.
fn cost(field: &str) -> u32 {
    match field {
        "upstream" => 50,
        "client" => 20,
        "evidence" => 8,
        "path" | "request_id" => 6,
        "host" | "status" => 4,
        "hop_kind" | "hop_format" | "source_file" | "dump_host" | "time" | "upstream_addr" => 3,
        "request_time" => 2,
        _ => 1,
    }
}

/// Leaf (primitive) columns under an Arrow type: one for a primitive, the
/// sum over children for a struct, the item's for a list.
pub fn leaf_count(dt: &DataType) -> usize {
    match dt {
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
            leaf_count(f.data_type())
        }
        DataType::Struct(fs) => fs.iter().map(|f| leaf_count(f.data_type())).sum(),
        DataType::Map(f, _) => leaf_count(f.data_type()),
        _ => 1,
    }
}

/// A lane's encoded column chunks of one row group, by leaf index.
type Encoded = Result<Vec<(usize, ArrowColumnChunk)>, ParquetError>;

enum Job {
    /// Encode this lane's columns of `batch` into part `part`'s row group,
    /// then store the lane's estimated encoded bytes of it in `size`.
    Batch {
        part: u64,
        batch: RecordBatch,
        size: Arc<AtomicUsize>,
    },
    /// Finish part `part`'s row group: its column chunks to `reply`.
    Close { part: u64, reply: Sender<Encoded> },
    /// Drop part `part`'s row group (the export failed).
    Forget { part: u64 },
}

struct Lane {
    tx: Option<SyncSender<Job>>,
    handle: Option<JoinHandle<()>>,
}

/// The encoder threads of an export.
pub struct Encoders {
    lanes: Vec<Lane>,
    leaves: usize,
    next_part: AtomicUsize,
}

/// Why encoding failed.
#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    /// The Parquet encoder refused the data.
    #[error(transparent)]
    Parquet(#[from] ParquetError),
    /// An encoder thread is gone (it panicked).
    #[error("a Parquet encoder thread stopped")]
    Stopped,
}

impl Encoders {
    /// `lanes` threads (at least 1, at most one per column) encoding the
    /// columns of `schema` with the writers `factory` makes.
    pub fn new(
        factory: ArrowRowGroupWriterFactory,
        schema: SchemaRef,
        lanes: usize,
    ) -> std::io::Result<Self> {
        let fields = schema.fields();
        let lanes = lanes.clamp(1, fields.len().max(1));
        // leaf range of each field, in schema order
        let mut ranges = Vec::with_capacity(fields.len());
        let mut at = 0;
        for f in fields {
            let n = leaf_count(f.data_type());
            ranges.push(at..at + n);
            at += n;
        }
        let leaves = at;
        // longest first onto the least loaded lane (LPT)
        let mut order: Vec<usize> = (0..fields.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(cost(fields[i].name())));
        let mut load = vec![0u32; lanes];
        let mut mine: Vec<Vec<usize>> = vec![Vec::new(); lanes];
        for i in order {
            let lane = (0..lanes).min_by_key(|&l| load[l]).unwrap_or(0);
            load[lane] += cost(fields[i].name());
            mine[lane].push(i);
        }
        let factory = Arc::new(factory);
        let mut out = Vec::with_capacity(lanes);
        for (n, mut fields_of_lane) in mine.into_iter().enumerate() {
            fields_of_lane.sort_unstable();
            let (tx, rx) = sync_channel::<Job>(LANE_QUEUE);
            let factory = factory.clone();
            let schema = schema.clone();
            let ranges = ranges.clone();
            let handle = std::thread::Builder::new()
                .name(format!("gatecheck-encode-{n}"))
                .spawn(move || {
                    let lane = LaneState {
                        factory,
                        schema,
                        fields: fields_of_lane,
                        ranges,
                        open: HashMap::new(),
                    };
                    lane.run(rx)
                })?;
            out.push(Lane {
                tx: Some(tx),
                handle: Some(handle),
            });
        }
        Ok(Encoders {
            lanes: out,
            leaves,
            next_part: AtomicUsize::new(0),
        })
    }

    /// A new part (file) id.
    pub fn part(&self) -> u64 {
        self.next_part.fetch_add(1, Ordering::Relaxed) as u64
    }

    /// Number of lanes.
    pub fn lanes(&self) -> usize {
        self.lanes.len()
    }

    fn send(&self, lane: usize, job: Job) -> Result<(), EncodeError> {
        let tx = self.lanes[lane].tx.as_ref().ok_or(EncodeError::Stopped)?;
        tx.send(job).map_err(|_| EncodeError::Stopped)
    }

    /// Queue `batch` for part `part`; each lane stores its estimated
    /// encoded bytes of the part's row group in `sizes[lane]`.
    pub fn push(
        &self,
        part: u64,
        batch: &RecordBatch,
        sizes: &[Arc<AtomicUsize>],
    ) -> Result<(), EncodeError> {
        for (lane, size) in sizes.iter().enumerate().take(self.lanes.len()) {
            self.send(
                lane,
                Job::Batch {
                    part,
                    batch: batch.clone(),
                    size: size.clone(),
                },
            )?;
        }
        Ok(())
    }

    /// Finish part `part`'s row group: its column chunks in leaf order
    /// (waits for the lanes to encode what was queued).
    pub fn close(&self, part: u64) -> Result<Vec<ArrowColumnChunk>, EncodeError> {
        let mut replies = Vec::with_capacity(self.lanes.len());
        for lane in 0..self.lanes.len() {
            let (reply, rx) = channel();
            self.send(lane, Job::Close { part, reply })?;
            replies.push(rx);
        }
        let mut chunks: Vec<Option<ArrowColumnChunk>> = (0..self.leaves).map(|_| None).collect();
        for rx in replies {
            let got = rx.recv().map_err(|_| EncodeError::Stopped)??;
            for (leaf, chunk) in got {
                if let Some(slot) = chunks.get_mut(leaf) {
                    *slot = Some(chunk);
                }
            }
        }
        chunks
            .into_iter()
            .map(|c| c.ok_or(EncodeError::Stopped))
            .collect()
    }

    /// Drop part `part`'s row group.
    pub fn forget(&self, part: u64) {
        for lane in 0..self.lanes.len() {
            let _ = self.send(lane, Job::Forget { part });
        }
    }
}

impl Drop for Encoders {
    fn drop(&mut self) {
        for lane in &mut self.lanes {
            lane.tx.take();
        }
        for lane in &mut self.lanes {
            if let Some(h) = lane.handle.take() {
                let _ = h.join();
            }
        }
    }
}

/// One lane's row groups in progress.
struct LaneState {
    factory: Arc<ArrowRowGroupWriterFactory>,
    schema: SchemaRef,
    /// The fields this lane encodes, in schema order.
    fields: Vec<usize>,
    /// Leaf range of every field.
    ranges: Vec<std::ops::Range<usize>>,
    open: HashMap<u64, Group>,
}

/// A row group in progress: this lane's column writers (by leaf index),
/// or the first error met.
struct Group {
    writers: Result<Vec<(usize, ArrowColumnWriter)>, ParquetError>,
}

impl LaneState {
    fn run(mut self, rx: std::sync::mpsc::Receiver<Job>) {
        while let Ok(job) = rx.recv() {
            match job {
                Job::Batch { part, batch, size } => {
                    let group = match self.open.remove(&part) {
                        Some(g) => g,
                        None => Group {
                            writers: self.writers(),
                        },
                    };
                    let group = self.write(group, &batch);
                    if let Ok(ws) = &group.writers {
                        let bytes = ws.iter().map(|(_, w)| w.get_estimated_total_bytes()).sum();
                        size.store(bytes, Ordering::Relaxed);
                    }
                    self.open.insert(part, group);
                }
                Job::Close { part, reply } => {
                    let encoded = match self.open.remove(&part) {
                        Some(g) => g.writers.and_then(|ws| {
                            ws.into_iter()
                                .map(|(leaf, w)| w.close().map(|c| (leaf, c)))
                                .collect()
                        }),
                        None => Ok(Vec::new()),
                    };
                    let _ = reply.send(encoded);
                }
                Job::Forget { part } => {
                    self.open.remove(&part);
                }
            }
        }
    }

    /// Fresh writers for this lane's leaves.
    fn writers(&self) -> Result<Vec<(usize, ArrowColumnWriter)>, ParquetError> {
        let all = self.factory.create_column_writers(0)?;
        let mut keep = vec![false; all.len()];
        for &f in &self.fields {
            for leaf in self.ranges[f].clone() {
                if let Some(k) = keep.get_mut(leaf) {
                    *k = true;
                }
            }
        }
        Ok(all
            .into_iter()
            .enumerate()
            .filter(|(i, _)| keep[*i])
            .collect())
    }

    fn write(&self, group: Group, batch: &RecordBatch) -> Group {
        let Ok(mut writers) = group.writers else {
            return group;
        };
        let mut at = writers.iter_mut();
        for &f in &self.fields {
            let field = self.schema.field(f);
            let leaves = match compute_leaves(field, batch.column(f)) {
                Ok(l) => l,
                Err(e) => return Group { writers: Err(e) },
            };
            for leaf in leaves {
                let Some((_, w)) = at.next() else {
                    return Group {
                        writers: Err(ParquetError::General(format!(
                            "column {} has more leaves than the schema",
                            field.name()
                        ))),
                    };
                };
                if let Err(e) = w.write(&leaf) {
                    return Group { writers: Err(e) };
                }
            }
        }
        Group {
            writers: Ok(writers),
        }
    }
}
