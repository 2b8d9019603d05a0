//! Where a report goes: every write error names its destination (`-o
//! FILE`, `--events FILE`, standard output), and a file is written under a
//! hidden name next to it and renamed onto it only when complete, so a run
//! that fails or is interrupted (Ctrl-C, a full disk) never leaves a file
//! cut short under the name asked for (as `export` does with its parts).

use std::fs::File;
use std::io::{self, BufWriter, IoSlice, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::interrupt;

/// A writer whose errors say what was being written: `writing --events
/// 5xx.ndjson: No space left on device`. The error kind is kept, so a
/// broken pipe is still told apart ([`super::is_broken_pipe`]).
pub struct Named<W> {
    inner: W,
    what: String,
}

impl<W: Write> Named<W> {
    /// `what` reads after "writing": `the report to standard output`.
    pub fn new(inner: W, what: String) -> Self {
        Named { inner, what }
    }

    fn err(&self, e: io::Error) -> io::Error {
        io::Error::new(e.kind(), format!("writing {}: {e}", self.what))
    }
}

impl<W: Write> Write for Named<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf).map_err(|e| self.err(e))
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.inner.write_all(buf).map_err(|e| self.err(e))
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.inner.write_vectored(bufs).map_err(|e| self.err(e))
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush().map_err(|e| self.err(e))
    }
}

/// A file being written (`-o`, `--events`): under a hidden name in the
/// same folder until [`OutFile::commit`] renames it onto its path; dropped
/// without a commit (an error), or ended by a signal, it is removed. A path
/// that exists and is not a regular file (`/dev/stdout`, a named pipe,
/// `/dev/null`) is written directly.
pub struct OutFile {
    out: Named<BufWriter<File>>,
    /// The hidden file and the file it becomes, with its signal slot.
    partial: Option<(PathBuf, PathBuf, interrupt::Slot)>,
}

impl OutFile {
    /// Start writing `path` for the flag `flag` (`-o`, `--events`), through
    /// a buffer of `cap` bytes.
    pub fn create(flag: &str, path: &Path, cap: usize) -> anyhow::Result<OutFile> {
        let what = format!("{flag} {}", path.display());
        let named = |f: File| Named::new(BufWriter::with_capacity(cap, f), what.clone());
        let direct = || {
            File::create(path).with_context(|| match path.parent() {
                Some(d) if !d.as_os_str().is_empty() && !d.is_dir() => format!(
                    "{flag} {}: the folder {} does not exist; create it first or write elsewhere",
                    path.display(),
                    d.display()
                ),
                _ => format!("{flag} {}: cannot create it", path.display()),
            })
        };
        if std::fs::metadata(path).is_ok_and(|m| !m.is_file()) {
            return Ok(OutFile {
                out: named(direct()?),
                partial: None,
            });
        }
        // a symlink's target is what gets replaced (or created, when the
        // link dangles), not the link, as File::create would
        let target = match std::fs::read_link(path) {
            Ok(to) => match path.parent() {
                Some(dir) if to.is_relative() => dir.join(to),
                _ => to,
            },
            Err(_) => path.to_path_buf(),
        };
        let (Some(dir), Some(name)) = (target.parent(), target.file_name()) else {
            return Ok(OutFile {
                out: named(direct()?),
                partial: None,
            });
        };
        let mut hidden = std::ffi::OsString::from(".");
        hidden.push(name);
        hidden.push(format!(".gatecheck-partial-{}", std::process::id()));
        let tmp = dir.join(hidden);
        let slot = interrupt::register(&tmp);
        match File::options().write(true).create_new(true).open(&tmp) {
            Ok(f) => Ok(OutFile {
                out: named(f),
                partial: Some((tmp, target, slot)),
            }),
            Err(_) => {
                // no room for a hidden file next to it (a folder we may
                // not create in, a missing one): the error is the path's own
                interrupt::unregister(slot);
                Ok(OutFile {
                    out: named(direct()?),
                    partial: None,
                })
            }
        }
    }

    /// Everything was written: flush it and give it its name.
    pub fn commit(mut self) -> anyhow::Result<()> {
        self.out.flush()?;
        if let Some((tmp, target, slot)) = self.partial.take() {
            let renamed = replace(&tmp, &target);
            if renamed.is_err() {
                let _ = std::fs::remove_file(&tmp);
            }
            interrupt::unregister(slot);
            renamed.with_context(|| {
                format!("{}: cannot rename {} onto it", self.out.what, tmp.display())
            })?;
        }
        Ok(())
    }
}

/// Give `tmp` (complete) the name `target`, atomically: `target` is at
/// every moment the previous file or the new one.
///
/// When `target` is a regular file, the two names are swapped
/// (`renameat2(RENAME_EXCHANGE)`, Linux 3.15+) and the previous file, now
/// under the hidden name, is removed; else (no file there yet, or a
/// system or file system without the exchange) a plain `rename`. Why not
/// always `rename`: on ext4 (the default `auto_da_alloc` mount option) a
/// `rename` onto an existing file first starts writing the new file's
/// delayed-allocation blocks out (`ext4_rename` calls
/// `ext4_alloc_da_blocks`, the replace-by-rename heuristic), on the
/// thread that renames, at the very end of the run. Measured on this VM
/// (`/tmp` on ext4, a 124 MB `--events` file replacing the previous
/// run's, 5 runs each under load): `rename` 56–102 ms of wall time,
/// exchange then unlink 14–44 ms, `strace -T` of a whole run: the
/// `rename` alone 71 ms of a 0.48 s run. The cost of that heuristic's
/// absence: after a power loss in the seconds after the run (before the
/// kernel wrote the file out, ≤ 30 s by default) the name may hold a
/// file cut short, as after any program that writes without `fsync`;
/// neither way ever `fsync`ed, so neither promised more.
fn replace(tmp: &Path, target: &Path) -> io::Result<()> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::fs::symlink_metadata(target).is_ok_and(|m| m.is_file()) {
        use std::os::unix::ffi::OsStrExt;
        let (Ok(from), Ok(to)) = (
            std::ffi::CString::new(tmp.as_os_str().as_bytes()),
            std::ffi::CString::new(target.as_os_str().as_bytes()),
        ) else {
            return std::fs::rename(tmp, target);
        };
        // SAFETY: both are NUL-terminated C strings alive for the call;
        // renameat2 only reads them.
        let swapped = unsafe {
            libc::renameat2(
                libc::AT_FDCWD,
                from.as_ptr(),
                libc::AT_FDCWD,
                to.as_ptr(),
                libc::RENAME_EXCHANGE,
            )
        } == 0;
        if swapped {
            // the previous file, now under the hidden name: whether it
            // goes or not, the new file has its name
            let _ = std::fs::remove_file(tmp);
            return Ok(());
        }
        // EINVAL (a file system without the exchange), ENOSYS, or the
        // file gone meanwhile: the plain rename says what is wrong
    }
    std::fs::rename(tmp, target)
}

impl Write for OutFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.out.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.out.write_all(buf)
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.out.write_vectored(bufs)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

impl Drop for OutFile {
    fn drop(&mut self) {
        if let Some((tmp, _, slot)) = self.partial.take() {
            let _ = std::fs::remove_file(&tmp);
            interrupt::unregister(slot);
        }
    }
}
