//! Two real hops the other way round, as a load balancer usually stands in
//! front of a web server: haproxy → nginx → the fault-injecting upstream.
//! Nothing carries a request id: haproxy logs `option httplog`'s default
//! format (no header captured), nginx the predefined `combined` format (no
//! `$request_time`, no `$upstream_addr`), so a dump can only be joined by
//! method + path + time. nginx's `location /refused/` proxies to a closed
//! port (its own 502). The dump holds the logs; [`LbChain::dump`] also gives
//! a copy with both configs, as a dump with and without them.

use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub use super::chain::Timeouts;
use super::chain::{copy_files, proxies};
use super::haproxy::Haproxy;
use super::nginx::{free_port, is_root, Nginx};
use super::upstream::FaultUpstream;

/// A running chain; the proxies stop on drop, the temp dir goes with it.
pub struct LbChain {
    /// haproxy's `bind`, where the client sends its requests.
    pub hap_addr: SocketAddr,
    /// nginx's `listen`, haproxy's only server.
    pub ngx_addr: SocketAddr,
    /// The guards, for tests that stop a hop on purpose.
    pub ngx: Nginx,
    /// See `ngx`.
    pub hap: Haproxy,
    _up: FaultUpstream,
    hap_cfg: PathBuf,
    dir: tempfile::TempDir,
}

impl LbChain {
    /// Start the upstream, nginx and haproxy; `None` (with a message) when
    /// nginx or haproxy is not installed, a panic instead when
    /// `GATECHECK_REQUIRE_PROXIES` is set.
    pub fn start(t: Timeouts) -> Option<LbChain> {
        let (ngx_bin, hap_bin) = proxies()?;
        let dir = tempfile::tempdir().unwrap();
        let up = FaultUpstream::start().expect("upstream");
        let (ngx_port, hap_port, closed_port) = (free_port(), free_port(), free_port());
        let hap_addr: SocketAddr = format!("127.0.0.1:{hap_port}").parse().unwrap();
        let ngx_addr: SocketAddr = format!("127.0.0.1:{ngx_port}").parse().unwrap();
        let user = if is_root() { "user root;\n" } else { "" };
        let conf = format!(
            r#"{user}worker_processes 1;
pid nginx.pid;
error_log logs/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log logs/access.log combined;
    client_body_temp_path temp/body;
    proxy_temp_path temp/proxy;
    fastcgi_temp_path temp/fastcgi;
    uwsgi_temp_path temp/uwsgi;
    scgi_temp_path temp/scgi;
    server {{
        listen 127.0.0.1:{ngx_port};
        location /refused/ {{
            proxy_pass http://127.0.0.1:{closed_port};
        }}
        location / {{
            proxy_pass http://{up};
            proxy_read_timeout {ngx_read};
        }}
    }}
}}
"#,
            up = up.addr(),
            ngx_read = t.nginx_read
        );
        let ngx = Nginx::start(&ngx_bin, dir.path(), &conf, ngx_addr, "UTC0")
            .unwrap_or_else(|e| panic!("{e}"));
        let hap_cfg = dir.path().join("haproxy.cfg");
        fs::write(
            &hap_cfg,
            format!(
                "global
    log stdout format raw local0

defaults
    mode http
    log global
    option httplog
    retries 0
    timeout connect 1s
    timeout client 10s
    timeout server {hap_server}

frontend fe_web
    bind 127.0.0.1:{hap_port}
    default_backend be_web

backend be_web
    server web1 127.0.0.1:{ngx_port}
",
                hap_server = t.haproxy_server,
            ),
        )
        .unwrap();
        let hap = Haproxy::start(
            &hap_bin,
            &hap_cfg,
            &dir.path().join("haproxy.log"),
            hap_addr,
        );
        Some(LbChain {
            hap_addr,
            ngx_addr,
            ngx,
            hap,
            _up: up,
            hap_cfg,
            dir,
        })
    }

    /// SIGKILL nginx's worker (the master starts another): what a crash
    /// looks like to haproxy in the middle of a request.
    pub fn kill_nginx_worker(&self) {
        let Some(master) = self.ngx.pid() else {
            return;
        };
        for e in fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Ok(stat) = fs::read_to_string(e.path().join("stat")) else {
                continue;
            };
            // `pid (comm) state ppid …`: comm may hold spaces, so after ')'
            let ppid = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                .and_then(|p| p.parse::<u32>().ok());
            let pid = e.file_name().to_str().and_then(|p| p.parse::<i32>().ok());
            if let (Some(pp), Some(pid)) = (ppid, pid) {
                if pp == master {
                    // SAFETY: kill(2) on a child of the nginx master this
                    // test started and still holds (not reaped), read from
                    // /proc just now.
                    unsafe {
                        libc::kill(pid, libc::SIGKILL);
                    }
                }
            }
        }
    }

    /// Stop both proxies and gather the dump: `(logs, logs and configs)`,
    /// two directories, both also copied into `$GATECHECK_CAPTURE_DIR` when
    /// set (the first into `logs/`, the second into `with-configs/`).
    pub fn dump(&mut self) -> (PathBuf, PathBuf) {
        self.ngx.stop();
        self.hap.stop();
        let dir = self.dir.path();
        let (logs, full) = (dir.join("dump-logs"), dir.join("dump-full"));
        for d in [&logs, &full] {
            fs::create_dir_all(d).unwrap();
            fs::copy(dir.join("haproxy.log"), d.join("haproxy.log")).unwrap();
            for f in ["access.log", "error.log"] {
                fs::copy(dir.join("logs").join(f), d.join(f)).unwrap();
            }
        }
        fs::copy(dir.join("nginx.conf"), full.join("nginx.conf")).unwrap();
        fs::copy(&self.hap_cfg, full.join("haproxy.cfg")).unwrap();
        if let Some(capture) = std::env::var_os("GATECHECK_CAPTURE_DIR") {
            for (d, sub) in [(&logs, "logs"), (&full, "with-configs")] {
                copy_files(d, &Path::new(&capture).join(sub));
            }
        }
        (logs, full)
    }

    /// A log of the dump, for assertions and failure messages.
    pub fn log(&self, name: &str) -> String {
        let p = if name == "haproxy.log" {
            self.dir.path().join(name)
        } else {
            self.dir.path().join("logs").join(name)
        };
        fs::read_to_string(p).unwrap_or_default()
    }

    /// The prefix directory (for a failure message).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}
