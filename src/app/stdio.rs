//! The process's standard descriptors and limits.

/// Raise the soft limit on open files to the hard one, as Go's runtime
/// does for every program since Go 1.19: the soft limit (often 1,024) is
/// a guard for old `select()` users, which gatecheck is not, and a run over
/// thousands of files on many cores keeps a file open per task in flight.
/// Failing to raise it changes nothing: a file that cannot be opened then is
/// reported as such, with what to do.
pub fn raise_open_files_limit() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid `rlimit` for getrlimit to fill in.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return;
    }
    // an unlimited hard limit is refused above the kernel's nr_open
    // (1,048,576 by default on Linux)
    let want = lim.rlim_max.min(1 << 20);
    if lim.rlim_cur >= want {
        return;
    }
    lim.rlim_cur = want;
    // SAFETY: `lim` is a valid `rlimit`; the call only reads it.
    unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) };
}
