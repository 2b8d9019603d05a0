//! Rows built on the worker threads, for `gatecheck export`: with
//! [`super::Options::rows`], each chunk's requests go straight from the
//! parsed record into a [`ChunkRows`] (column builders) on the worker that
//! parsed the chunk, with no [`Event`] (owned strings) in between for the
//! requests that are not classified; the finished chunk is handed to the
//! caller's sink in file and chunk order ([`super::analyze_rows`]).
//!
//! The traits live here so that `analyze` does not import `export`, which
//! implements them.

use super::event::Event;
use crate::logs::hop::HopRecord;
use crate::logs::nginx::Escape;
use crate::logs::record::Record;

/// A finished chunk of rows, as [`ChunkRows::finish`] hands it to the sink
/// (the implementer downcasts it back).
pub type FinishedRows = Box<dyn std::any::Any + Send>;

/// Makes one [`ChunkRows`] per chunk.
pub trait RowsFactory: Send + Sync {
    /// Rows of one chunk of the file shown as `file`, logged by the hop
    /// format `hop` (`None`: an nginx access log).
    fn chunk(&self, file: &str, hop: Option<&'static str>) -> Box<dyn ChunkRows>;
}

/// The rows of one chunk, in line order; line numbers are counted from the
/// chunk's start (the sink gets the lines before it).
pub trait ChunkRows: Send {
    /// A request of an nginx access log that is neither a 5xx nor rescued
    /// (its values escaped as `esc` says).
    fn nginx(&mut self, rec: &Record<'_>, line: u64, esc: Escape);
    /// A request of a hop log below 500.
    fn hop(&mut self, rec: &HopRecord<'_>, line: u64);
    /// A classified request (a 5xx, or rescued by a retry).
    fn event(&mut self, e: Event);
    /// The finished chunk, for the sink.
    fn finish(self: Box<Self>) -> FinishedRows;
}
