//! Run a real haproxy in the foreground (`-db`) as a child process, with
//! its stdout (where `log stdout format raw` writes) in a file. Dropping the
//! guard stops it (SIGUSR1: soft stop, then SIGKILL after a bound).

use std::fs;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// The haproxy binary: `$GATECHECK_HAPROXY` when set, else `$PATH`, else
/// the usual places (Debian: /usr/sbin).
pub fn find_haproxy() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("GATECHECK_HAPROXY") {
        let p = PathBuf::from(p);
        return p.is_file().then_some(p);
    }
    let from_path = std::env::var_os("PATH")
        .map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("haproxy"))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    from_path
        .into_iter()
        .chain(["/usr/sbin/haproxy", "/usr/local/sbin/haproxy"].map(PathBuf::from))
        .find(|p| p.is_file())
}

/// [`find_haproxy`], or `None` with a "SKIPPED" message; a panic instead
/// when `GATECHECK_REQUIRE_PROXIES` is set (`.ci/run` sets it).
pub fn require_haproxy() -> Option<PathBuf> {
    let found = find_haproxy();
    if found.is_none() {
        if std::env::var_os("GATECHECK_REQUIRE_PROXIES").is_some() {
            panic!("haproxy not found and GATECHECK_REQUIRE_PROXIES is set");
        }
        eprintln!("SKIPPED: haproxy binary not found (install the Debian package `haproxy`)");
    }
    found
}

/// A running haproxy; stopped on drop.
pub struct Haproxy {
    child: Child,
}

impl Haproxy {
    /// Start `bin -db -f cfg` with stdout to `stdout` and stderr to
    /// `dir/stderr.log`; wait (bounded) until `listen` accepts. The wait
    /// itself opens one empty connection, which haproxy logs as `<BADREQ>`.
    pub fn start(bin: &Path, cfg: &Path, stdout: &Path, listen: SocketAddr) -> Haproxy {
        let err_path = cfg.with_file_name("stderr.log");
        let child = Command::new(bin)
            .arg("-db")
            .arg("-f")
            .arg(cfg)
            .stdin(Stdio::null())
            .stdout(Stdio::from(fs::File::create(stdout).expect("stdout file")))
            .stderr(Stdio::from(
                fs::File::create(&err_path).expect("stderr file"),
            ))
            .spawn()
            .expect("start haproxy");
        let guard = Haproxy { child };
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if TcpStream::connect_timeout(&listen, Duration::from_millis(200)).is_ok() {
                return guard;
            }
            thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "haproxy did not listen: {}",
            fs::read_to_string(err_path).unwrap_or_default()
        );
    }

    /// Stop haproxy and wait for it (bounded).
    pub fn stop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        if let Ok(pid) = libc::pid_t::try_from(self.child.id()) {
            // SAFETY: kill(2) on the pid of our own child, not yet reaped
            // (we hold its `Child`), so the pid is not reused.
            unsafe {
                libc::kill(pid, libc::SIGUSR1);
            }
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        self.stop();
    }
}
