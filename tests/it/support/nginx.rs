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

/// [`find_nginx`], or `None` with a "SKIPPED" message; a panic instead when
/// `GATECHECK_REQUIRE_PROXIES` is set (`.ci/run` sets it).
pub fn require_nginx() -> Option<PathBuf> {
    let found = find_nginx();
    if found.is_none() {
        if std::env::var_os("GATECHECK_REQUIRE_PROXIES").is_some() {
            panic!("nginx not found and GATECHECK_REQUIRE_PROXIES is set");
        }
        eprintln!("SKIPPED: nginx not found (install nginx-light, or run .ci/run)");
    }
    found
}

/// A whole nginx.conf for a [`Nginx`] prefix: `user root;` when root, one
/// worker, the pid, `logs/error.log` and the temp paths inside the prefix,
/// and an `http` block that holds `http` (the caller's own directives,
/// indented). Its first line says it was written by `written_by`.
pub fn conf(written_by: &str, http: &str) -> String {
    let user = if is_root() { "user root;\n" } else { "" };
    format!(
        "# Written by {written_by}.
{user}worker_processes 1;
pid nginx.pid;
error_log logs/error.log;

events {{
    worker_connections 64;
}}

http {{
    client_body_temp_path temp/body;
    proxy_temp_path temp/proxy;
    fastcgi_temp_path temp/fastcgi;
    uwsgi_temp_path temp/uwsgi;
    scgi_temp_path temp/scgi;
{http}}}
"
    )
}

/// The access-log format with every upstream variable the real-nginx
/// tests read (`log_format upstream_rich`).
pub const RICH_FORMAT: &str = r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" rt=$request_time uct="$upstream_connect_time" uht="$upstream_header_time" urt="$upstream_response_time" ua="$upstream_addr" us="$upstream_status""#;

/// A port on 127.0.0.1 that was free a moment ago and that nobody listens on
/// now, never the same twice in this process.
///
/// All integration tests share one process and run in parallel, so a port
/// from `bind(…:0)`, closed again, could be handed by the kernel to another
/// test's `bind(…:0)` (one test's "refused" port would then be another's
/// nginx, whose log gains lines it never asked for). The ports come instead
/// from below Linux's ephemeral range (`ip_local_port_range`, 32768–60999
/// by default), which `bind(…:0)` and outgoing connections draw from, in
/// turn from an offset chosen by the process id (other test processes on
/// the machine start elsewhere), each checked free by binding it.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    const LOW: u32 = 20_000;
    const SPAN: u32 = 12_000;
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let base = std::process::id().wrapping_mul(211) % SPAN;
    loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        assert!(n < SPAN, "no free port left in {LOW}..{}", LOW + SPAN);
        let port = (LOW + (base + n) % SPAN) as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
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

    /// The master's pid, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
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
