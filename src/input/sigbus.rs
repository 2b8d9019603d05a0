//! A SIGBUS guard for memory-mapped chunks of files that may shrink while
//! they are read.
//!
//! Touching a mapped page that lies wholly past the end of the file raises
//! SIGBUS (mmap(2): "Attempted access to a page of the buffer that lies
//! beyond the end of the mapped file"), whose default action kills the
//! process: a log truncated by logrotate `copytruncate` during a run would
//! end it. Each live chunk mapping is registered here; a process-wide
//! handler, when the faulting address lies in a registered mapping, maps
//! anonymous zero pages over the rest of that mapping (from the faulting
//! page on), marks the mapping hit and returns, so the read goes on over
//! zeros; the reader sees the mark after the chunk and reads the chunk again
//! with `pread`, which reports the new end. Any other SIGBUS goes to the
//! action that was installed before (Rust's own, or the default: death).
//!
//! The handler only loads and stores atomics and calls `mmap`, `sigaction`
//! and `raise` (system calls), so it is async-signal-safe.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::OnceLock;

/// Live mappings the guard can watch at once (a few per worker thread are
/// ever live; a reader that finds none free reads with `pread`).
const SLOTS: usize = 256;

/// One watched mapping: `[start, end)`, 0..0 when free.
struct Slot {
    /// Taken by a [`Watch`] (set before the range, cleared after it).
    busy: AtomicBool,
    start: AtomicUsize,
    end: AtomicUsize,
    /// The handler put zero pages into it.
    hit: AtomicBool,
}

#[allow(clippy::declare_interior_mutable_const)]
const FREE: Slot = Slot {
    busy: AtomicBool::new(false),
    start: AtomicUsize::new(0),
    end: AtomicUsize::new(0),
    hit: AtomicBool::new(false),
};

static TABLE: [Slot; SLOTS] = [FREE; SLOTS];

/// The page size, read once before the handler is installed.
static PAGE: AtomicUsize = AtomicUsize::new(0);

/// The SIGBUS action before ours (restored for a SIGBUS that is not ours),
/// or `None` when installing ours failed (then nothing may be mapped).
static PREVIOUS: OnceLock<Option<libc::sigaction>> = OnceLock::new();

/// Install the handler (once per process); false when it could not be.
fn installed() -> bool {
    PREVIOUS
        .get_or_init(|| {
            // SAFETY: sysconf has no preconditions.
            let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
            if page <= 0 || (page as usize) & (page as usize - 1) != 0 {
                return None;
            }
            PAGE.store(page as usize, Ordering::SeqCst);
            // SAFETY: an all-zero `sigaction` is a valid value to fill in
            // (an empty mask, no flags), and `old` is written by the call.
            unsafe {
                let mut new: libc::sigaction = std::mem::zeroed();
                new.sa_sigaction = on_sigbus as *const () as libc::sighandler_t;
                new.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
                libc::sigemptyset(&mut new.sa_mask);
                let mut old: libc::sigaction = std::mem::zeroed();
                if libc::sigaction(libc::SIGBUS, &new, &mut old) != 0 {
                    return None;
                }
                Some(old)
            }
        })
        .is_some()
}

/// A registered mapping; unregistered when dropped, which must happen
/// before the mapping is unmapped (so that a new mapping at the same
/// address is never mistaken for it).
pub struct Watch {
    slot: &'static Slot,
}

impl Watch {
    /// Watch the mapping of `len` bytes at `start`; `None` when the guard
    /// could not be installed or every slot is taken (then do not map).
    pub fn new(start: *const u8, len: usize) -> Option<Watch> {
        if !installed() {
            return None;
        }
        let slot = TABLE.iter().find(|s| {
            s.busy
                .compare_exchange(false, true, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
        })?;
        slot.hit.store(false, Ordering::SeqCst);
        slot.start.store(start as usize, Ordering::SeqCst);
        slot.end.store(start as usize + len, Ordering::SeqCst);
        Some(Watch { slot })
    }

    /// Whether part of the mapping lay past the end of the file when read
    /// (those bytes read as zeros).
    pub fn hit(&self) -> bool {
        self.slot.hit.load(Ordering::SeqCst)
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.slot.start.store(0, Ordering::SeqCst);
        self.slot.end.store(0, Ordering::SeqCst);
        self.slot.busy.store(false, Ordering::SeqCst);
    }
}

extern "C" fn on_sigbus(sig: libc::c_int, info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid `siginfo_t` to an SA_SIGINFO handler.
    let (addr, code) = unsafe { ((*info).si_addr() as usize, (*info).si_code) };
    let page = PAGE.load(Ordering::SeqCst);
    // si_code > 0: raised by the kernel for a fault, not sent by kill()
    if code > 0 && page != 0 {
        for s in &TABLE {
            let (start, end) = (s.start.load(Ordering::SeqCst), s.end.load(Ordering::SeqCst));
            if start <= addr && addr < end {
                let from = addr & !(page - 1);
                let to = (end + page - 1) & !(page - 1);
                // SAFETY: `from..to` lies within a live mapping registered
                // by a `Watch` (the mapping covers whole pages, so rounding
                // `end` up stays inside it); replacing those pages with
                // private zero pages changes only what that mapping's
                // reader sees, and the reader checks `hit` afterwards.
                let p = unsafe {
                    libc::mmap(
                        from as *mut libc::c_void,
                        to - from,
                        libc::PROT_READ,
                        libc::MAP_FIXED | libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                        -1,
                        0,
                    )
                };
                if p != libc::MAP_FAILED {
                    s.hit.store(true, Ordering::SeqCst);
                    return;
                }
                break;
            }
        }
    }
    // not ours: the action before ours takes it (a fault happens again
    // when this returns; a sent signal is sent again)
    if let Some(Some(old)) = PREVIOUS.get() {
        // SAFETY: `old` is the action `sigaction` returned at install time.
        unsafe {
            libc::sigaction(libc::SIGBUS, old, std::ptr::null_mut());
            if code <= 0 {
                libc::raise(sig);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A page of a mapping past the end of its file reads as zeros and is
    /// said, instead of killing the test process.
    #[test]
    fn a_page_past_the_end_reads_as_zeros_and_is_said() {
        let mut t = tempfile::NamedTempFile::new().unwrap();
        let page = 4096 * 4;
        t.write_all(&vec![b'x'; page * 3]).unwrap();
        // SAFETY: the file is this test's own; it is cut below on purpose,
        // with the guard watching.
        let map = unsafe {
            memmap2::MmapOptions::new()
                .len(page * 3)
                .map(t.as_file())
                .unwrap()
        };
        let w = Watch::new(map.as_ptr(), map.len()).expect("installed");
        assert_eq!(map[page * 2], b'x');
        assert!(!w.hit());
        t.as_file().set_len(page as u64).unwrap();
        let sum: u64 = map.iter().map(|&b| u64::from(b)).sum();
        assert!(w.hit(), "the cut was seen");
        assert_eq!(sum, u64::from(b'x') * page as u64, "the rest read as zeros");
        drop(w);
        let w2 = Watch::new(map.as_ptr(), map.len()).expect("a slot");
        assert!(!w2.hit(), "a slot taken again starts clear");
    }
}
