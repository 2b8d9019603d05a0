//! Ctrl-C (SIGINT), SIGTERM and SIGHUP while an output file is being
//! written: the file's hidden partial copy is removed, then the signal
//! takes its default action (the process ends as killed by it, exit status
//! 130 for Ctrl-C in a shell). Without this, a run interrupted while writing
//! `--events` left a file cut at a line boundary that looked complete.
//!
//! The handler only calls `unlink`, `signal` and `raise`, which POSIX lists
//! as async-signal-safe; the paths it removes are C strings published
//! before the handler can see them and taken back with an atomic swap, so
//! the handler and [`unregister`] never both own one.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::ptr;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::Once;

/// Partial files that can be open at once: `-o` and `--events`.
const SLOTS: usize = 4;

static PARTIAL: [AtomicPtr<libc::c_char>; SLOTS] =
    [const { AtomicPtr::new(ptr::null_mut()) }; SLOTS];

/// The signals that end a run from outside.
const SIGNALS: [libc::c_int; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

/// A registered partial file; [`unregister`] it once renamed or removed.
#[derive(Debug)]
pub struct Slot(Option<usize>);

/// Remove `path` if a signal ends the process before [`unregister`]. A
/// path that does not fit (more than [`SLOTS`] files, a NUL byte) is not
/// registered: its partial file then stays behind under its hidden name.
pub fn register(path: &Path) -> Slot {
    install();
    let Ok(c) = CString::new(path.as_os_str().as_bytes()) else {
        return Slot(None);
    };
    let raw = c.into_raw();
    for (i, slot) in PARTIAL.iter().enumerate() {
        if slot
            .compare_exchange(ptr::null_mut(), raw, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            return Slot(Some(i));
        }
    }
    // SAFETY: `raw` came from `CString::into_raw` above and was published
    // nowhere, so this is its only owner.
    drop(unsafe { CString::from_raw(raw) });
    Slot(None)
}

/// The file is complete (renamed) or gone: a signal no longer removes it.
pub fn unregister(slot: Slot) {
    let Some(i) = slot.0 else { return };
    let raw = PARTIAL[i].swap(ptr::null_mut(), Ordering::SeqCst);
    if !raw.is_null() {
        // SAFETY: the swap took the pointer out of the slot, so neither the
        // handler nor another call can reach it; it came from `into_raw`.
        drop(unsafe { CString::from_raw(raw) });
    }
}

/// Install the handler for [`SIGNALS`] once, except for a signal that is
/// ignored (`nohup`, a background job of a non-interactive shell), which
/// stays ignored.
fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for sig in SIGNALS {
            // SAFETY: all-zero `sigaction`s are valid values to fill in;
            // `old` is written by the first call before it is read, and the
            // handler is an `extern "C" fn(c_int)` as `sa_handler` expects.
            unsafe {
                let mut old: libc::sigaction = std::mem::zeroed();
                if libc::sigaction(sig, ptr::null(), &mut old) != 0
                    || old.sa_sigaction == libc::SIG_IGN
                {
                    continue;
                }
                let mut new: libc::sigaction = std::mem::zeroed();
                new.sa_sigaction = on_signal as *const () as libc::sighandler_t;
                libc::sigemptyset(&mut new.sa_mask);
                libc::sigaction(sig, &new, ptr::null_mut());
            }
        }
    });
}

/// Remove every registered partial file, then die of `sig` as if no
/// handler had been installed.
extern "C" fn on_signal(sig: libc::c_int) {
    for slot in &PARTIAL {
        let raw = slot.swap(ptr::null_mut(), Ordering::SeqCst);
        if !raw.is_null() {
            // SAFETY: `raw` is a NUL-terminated path from `CString::into_raw`
            // that the swap made ours; `unlink` is async-signal-safe. It is
            // not freed: the process is about to end.
            unsafe { libc::unlink(raw) };
        }
    }
    // SAFETY: `signal` and `raise` are async-signal-safe; with the default
    // action restored, `raise` ends the process with `sig`.
    unsafe {
        libc::signal(sig, libc::SIG_DFL);
        libc::raise(sig);
    }
}
