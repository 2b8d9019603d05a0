//! Run a real nginx as a child process with its own prefix directory (config,
//! logs, pid and temp paths all inside it), listening on 127.0.0.1 only.
//! Dropping the guard stops nginx (SIGTERM, then SIGKILL after a bound).

use std::fs;
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// Where to look for nginx besides `$PATH` (Debian puts it in /usr/sbin,
/// which a non-root `$PATH` often lacks).
const CANDIDATES: &[&str] = &[
    "/usr/sbin/nginx",
    "/usr/local/sbin/nginx",
    "/usr/local/nginx/sbin/nginx",
];

/// The nginx binary, if one is installed: `$GATECHECK_NGINX` when set (a
/// path that is not a file means "none"), else `$PATH`, else the usual places.
pub fn find_nginx() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("GATECHECK_NGINX") {
        let p = PathBuf::from(p);
        return p.is_file().then_some(p);
    }
    let from_path = std::env::var_os("PATH")
        .map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("nginx"))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    from_path
        .into_iter()
        .chain(CANDIDATES.iter().map(PathBuf::from))
        .find(|p| p.is_file())
}

/// A port on 127.0.0.1 that was free a moment ago and that nobody listens on
/// now (bind port 0, note the port, close).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

/// True when this process runs as root (nginx then needs `user root;` so
/// that its workers can write into the test's temp dir).
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// A running nginx; stopped on drop.
pub struct Nginx {
    child: Option<Child>,
    prefix: PathBuf,
}

impl Nginx {
    /// Write `conf` to `prefix/nginx.conf`, start nginx in the foreground
    /// with that prefix and wait (bounded) until `listen` accepts.
    /// `tz` is the `TZ` nginx runs with (it writes local time in its logs).
    pub fn start(
        bin: &Path,
        prefix: &Path,
        conf: &str,
        listen: SocketAddr,
        tz: &str,
    ) -> io::Result<Self> {
        for dir in ["logs", "temp"] {
            fs::create_dir_all(prefix.join(dir))?;
        }
        let conf_path = prefix.join("nginx.conf");
        fs::write(&conf_path, conf)?;
        let stderr = fs::File::create(prefix.join("stderr.log"))?;
        let mut prefix_arg = prefix.as_os_str().to_owned();
        prefix_arg.push("/");
        let child = Command::new(bin)
            .arg("-p")
            .arg(&prefix_arg)
            .arg("-c")
            .arg(&conf_path)
            .arg("-g")
            .arg("daemon off;")
            .env("TZ", tz)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()?;
        let mut guard = Self {
            child: Some(child),
            prefix: prefix.to_path_buf(),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if TcpStream::connect_timeout(&listen, Duration::from_millis(200)).is_ok() {
                return Ok(guard);
            }
            let exited = guard
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            if exited.is_some() || Instant::now() > deadline {
                let err = fs::read_to_string(prefix.join("stderr.log")).unwrap_or_default();
                let log = fs::read_to_string(prefix.join("logs/error.log")).unwrap_or_default();
                guard.stop();
                return Err(io::Error::other(format!(
                    "nginx did not start (exit: {exited:?}); stderr:\n{err}\nerror.log:\n{log}"
                )));
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// The prefix directory.
    pub fn prefix(&self) -> &Path {
        &self.prefix
    }

    /// Stop nginx: SIGTERM (fast shutdown, the master stops its workers),
    /// then SIGKILL if it has not exited within 5 s.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if let Ok(pid) = libc::pid_t::try_from(child.id()) {
            // SAFETY: kill(2) with a pid of our own child that was not yet
            // reaped (we still hold its `Child`), so the pid is not reused.
            unsafe {
                libc::kill(pid, libc::SIGTERM);
            }
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        self.stop();
    }
}
