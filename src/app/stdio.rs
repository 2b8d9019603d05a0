//! A standard output closed by the caller (`gatecheck … >&-`). Rust's
//! runtime opens `/dev/null` (read-write) on a standard descriptor that is
//! closed when the process starts (`sanitize_standard_fds` in the standard
//! library's `sys/pal/unix`), so that no file opened later takes its
//! number; a report written there was then lost with exit 0. A shell's
//! `> /dev/null` opens it write-only, so a read-write `/dev/null` on
//! descriptor 1 is told apart as the runtime's stand-in for a closed one
//! (or a service manager's `StandardOutput=null`, where a report written
//! to standard output is lost just the same).

/// Whether standard output is the runtime's `/dev/null` in place of a
/// closed descriptor (see the module's doc).
pub fn stdout_closed() -> bool {
    use std::os::unix::fs::MetadataExt;
    let Ok(null) = std::fs::metadata("/dev/null") else {
        return false;
    };
    // SAFETY: fstat on descriptor 1 writes into `st`, a valid `stat`;
    // fcntl F_GETFL only reads the descriptor's flags.
    let (st, flags) = unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        if libc::fstat(1, &mut st) != 0 {
            return false;
        }
        (st, libc::fcntl(1, libc::F_GETFL))
    };
    (st.st_mode & libc::S_IFMT) == libc::S_IFCHR
        && st.st_rdev == null.rdev()
        && flags >= 0
        && (flags & libc::O_ACCMODE) == libc::O_RDWR
}

/// Whether `cmd` writes its result to standard output: all but `analyze
/// -o FILE` (its report goes to the file) and `export` (its files go under
/// `--to`, its summary to standard error).
pub fn needs_stdout(cmd: &crate::cli::Command) -> bool {
    use crate::cli::Command;
    match cmd {
        Command::Analyze(a) => a.output.is_none(),
        Command::Export(_) => false,
        _ => true,
    }
}

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
