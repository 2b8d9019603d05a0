//! Source text bookkeeping shared by every parser: file ids, byte spans and
//! line indexes.
//!
//! Parsers carry [`Span`]s (byte offsets); line and column are computed only
//! when something is rendered for a person, through [`LineIndex`]. This module
//! is a leaf: it imports nothing else from the crate.

use std::path::{Path, PathBuf};

/// Index of a file in a [`SourceMap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct FileId(pub u32);

/// A half-open byte range `start..end` in one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Span {
    /// The file the bytes belong to.
    pub file: FileId,
    /// First byte.
    pub start: u32,
    /// One past the last byte.
    pub end: u32,
}

impl Span {
    /// A span of `start..end` in `file`.
    pub fn new(file: FileId, start: usize, end: usize) -> Self {
        Span {
            file,
            start: start as u32,
            end: end as u32,
        }
    }
}

/// Byte offsets of line starts, for turning offsets into 1-based line:column.
#[derive(Debug, Clone, Default)]
pub struct LineIndex {
    starts: Vec<u32>,
}

impl LineIndex {
    /// Index `text` (one `memchr` pass over it).
    pub fn new(text: &[u8]) -> Self {
        let mut starts = Vec::with_capacity(text.len() / 40 + 1);
        starts.push(0);
        starts.extend(memchr::memchr_iter(b'\n', text).map(|i| (i + 1) as u32));
        LineIndex { starts }
    }

    /// 1-based line and 1-based column (in bytes) of `offset`.
    pub fn line_col(&self, offset: u32) -> (u32, u32) {
        let line = match self.starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        (line as u32 + 1, offset - self.starts[line] + 1)
    }

    /// Byte range of 1-based `line`, without its line terminator.
    pub fn line_range(&self, line: u32, text_len: usize) -> std::ops::Range<usize> {
        let i = (line.max(1) - 1) as usize;
        let start = self.starts.get(i).copied().unwrap_or(text_len as u32) as usize;
        let end = self
            .starts
            .get(i + 1)
            .map(|&s| s as usize - 1)
            .unwrap_or(text_len);
        start..end.max(start)
    }

    /// Number of lines.
    pub fn len(&self) -> usize {
        self.starts.len()
    }

    /// True when the indexed text was empty.
    pub fn is_empty(&self) -> bool {
        self.starts.len() <= 1
    }
}

/// One file's text and line index.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Path as the user named it (or as an include resolved it).
    pub path: PathBuf,
    /// The raw bytes (not necessarily UTF-8).
    pub text: Vec<u8>,
    /// Line starts of `text`.
    pub lines: LineIndex,
}

impl SourceFile {
    /// The text of 1-based `line`, lossily decoded, without `\r\n`.
    pub fn line_text(&self, line: u32) -> String {
        let r = self.lines.line_range(line, self.text.len());
        let mut s = &self.text[r];
        if let [rest @ .., b'\r'] = s {
            s = rest;
        }
        String::from_utf8_lossy(s).into_owned()
    }
}

/// Every file read for one run; [`FileId`] indexes into it.
#[derive(Debug, Clone, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add a file's bytes and get its id.
    pub fn add(&mut self, path: impl Into<PathBuf>, text: Vec<u8>) -> FileId {
        let lines = LineIndex::new(&text);
        self.files.push(SourceFile {
            path: path.into(),
            text,
            lines,
        });
        FileId(self.files.len() as u32 - 1)
    }

    /// The file behind `id`.
    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    /// Path of the file behind `id`.
    pub fn path(&self, id: FileId) -> &Path {
        &self.get(id).path
    }

    /// 1-based (line, column) of the start of `span`.
    pub fn line_col(&self, span: Span) -> (u32, u32) {
        self.get(span.file).lines.line_col(span.start)
    }

    /// All files, in the order they were added.
    pub fn files(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| (FileId(i as u32), f))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_is_one_based() {
        let idx = LineIndex::new(b"ab\ncd\r\n\nx");
        assert_eq!(idx.line_col(0), (1, 1));
        assert_eq!(idx.line_col(1), (1, 2));
        assert_eq!(idx.line_col(3), (2, 1));
        assert_eq!(idx.line_col(7), (3, 1));
        assert_eq!(idx.line_col(8), (4, 1));
        assert_eq!(idx.len(), 4);
    }

    #[test]
    fn line_text_strips_crlf() {
        let mut sm = SourceMap::new();
        let id = sm.add("a.conf", b"one\r\ntwo\nthree".to_vec());
        assert_eq!(sm.get(id).line_text(1), "one");
        assert_eq!(sm.get(id).line_text(2), "two");
        assert_eq!(sm.get(id).line_text(3), "three");
    }
}
