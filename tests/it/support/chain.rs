//! Two real hops on 127.0.0.1: nginx → haproxy → the fault-injecting
//! upstream, with the client's X-Request-ID logged by nginx
//! (`$http_x_request_id`), forwarded, and captured by haproxy. The dump
//! directory gathers what `gatecheck analyze` reads: both configs, nginx's
//! access and error logs and haproxy's `log stdout format raw` file.

use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use super::haproxy::{find_haproxy, Haproxy};
use super::nginx::{find_nginx, free_port, is_root, Nginx};
use super::upstream::FaultUpstream;

/// The timeouts a chain test sets; everything else is the same config.
pub struct Timeouts {
    /// haproxy's `timeout server` (`defaults`).
    pub haproxy_server: &'static str,
    /// nginx's `proxy_read_timeout` (in the proxying `location`).
    pub nginx_read: &'static str,
}

/// nginx's and haproxy's binaries; `None` (with a message) when one is not
/// installed, a panic instead when `GATECHECK_REQUIRE_PROXIES` is set.
pub fn proxies() -> Option<(PathBuf, PathBuf)> {
    let (Some(ngx_bin), Some(hap_bin)) = (find_nginx(), find_haproxy()) else {
        if std::env::var_os("GATECHECK_REQUIRE_PROXIES").is_some() {
            panic!("nginx or haproxy not found and GATECHECK_REQUIRE_PROXIES is set");
        }
        eprintln!("skipped: nginx or haproxy not installed");
        return None;
    };
    Some((ngx_bin, hap_bin))
}

/// Copy every file of `from` into `to` (created), for `$GATECHECK_CAPTURE_DIR`.
pub fn copy_files(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        fs::copy(&p, to.join(p.file_name().unwrap())).unwrap();
    }
}

/// A running chain; the proxies stop on drop, the temp dir goes with it.
pub struct Chain {
    /// nginx's listening address: where the client sends its requests.
    pub ngx_addr: SocketAddr,
    /// haproxy's `bind` (line 14 of haproxy.cfg), where nginx proxies to.
    pub hap_addr: SocketAddr,
    /// The guards, for tests that stop a hop on purpose.
    pub ngx: Nginx,
    /// See `ngx`.
    pub hap: Haproxy,
    _up: FaultUpstream,
    dump: PathBuf,
    hap_cfg: PathBuf,
    dir: tempfile::TempDir,
}

impl Chain {
    /// Start the upstream, haproxy and nginx; `None` (with a message) when
    /// nginx or haproxy is not installed, a panic instead when
    /// `GATECHECK_REQUIRE_PROXIES` is set (`.ci/run` sets it).
    pub fn start(t: Timeouts) -> Option<Chain> {
        let (ngx_bin, hap_bin) = proxies()?;
        let dir = tempfile::tempdir().unwrap();
        let dump = dir.path().join("dump");
        fs::create_dir_all(&dump).unwrap();
        let up = FaultUpstream::start().expect("upstream");
        let (ngx_port, hap_port) = (free_port(), free_port());
        let hap_addr: SocketAddr = format!("127.0.0.1:{hap_port}").parse().unwrap();
        let ngx_addr: SocketAddr = format!("127.0.0.1:{ngx_port}").parse().unwrap();
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
    timeout client 5s
    timeout server {hap_server}

frontend fe_main
    bind 127.0.0.1:{hap_port}
    capture request header X-Request-ID len 64
    default_backend be_app

backend be_app
    server app1 {up}
",
                hap_server = t.haproxy_server,
                up = up.addr()
            ),
        )
        .unwrap();
        let hap = Haproxy::start(&hap_bin, &hap_cfg, &dump.join("haproxy.log"), hap_addr);
        let user = if is_root() { "user root;\n" } else { "" };
        let conf = format!(
            r#"{user}worker_processes 1;
pid nginx.pid;
error_log logs/error.log warn;
events {{ worker_connections 64; }}
http {{
    log_format chain '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" rt=$request_time uct="$upstream_connect_time" uht="$upstream_header_time" urt="$upstream_response_time" ua="$upstream_addr" us="$upstream_status" rid=$http_x_request_id';
    access_log logs/access.log chain;
    client_body_temp_path temp/body;
    proxy_temp_path temp/proxy;
    fastcgi_temp_path temp/fastcgi;
    uwsgi_temp_path temp/uwsgi;
    scgi_temp_path temp/scgi;
    server {{
        listen 127.0.0.1:{ngx_port};
        location / {{
            proxy_pass http://127.0.0.1:{hap_port};
            proxy_set_header X-Request-ID $http_x_request_id;
            proxy_read_timeout {ngx_read};
        }}
    }}
}}
"#,
            ngx_read = t.nginx_read
        );
        let ngx = Nginx::start(&ngx_bin, dir.path(), &conf, ngx_addr, "UTC0")
            .unwrap_or_else(|e| panic!("{e}"));
        Some(Chain {
            ngx_addr,
            hap_addr,
            ngx,
            hap,
            _up: up,
            dump,
            hap_cfg,
            dir,
        })
    }

    /// Stop both proxies, copy both configs and nginx's logs next to
    /// haproxy's log in the dump directory (and into `$GATECHECK_CAPTURE_DIR`
    /// when set), and return that directory.
    pub fn dump(&mut self) -> &Path {
        self.ngx.stop();
        self.hap.stop();
        let dir = self.dir.path();
        fs::copy(dir.join("nginx.conf"), self.dump.join("nginx.conf")).unwrap();
        // haproxy's config too: its `bind` is the address nginx proxied to
        fs::copy(&self.hap_cfg, self.dump.join("haproxy.cfg")).unwrap();
        for f in ["access.log", "error.log"] {
            fs::copy(dir.join("logs").join(f), self.dump.join(f)).unwrap();
        }
        if let Some(capture) = std::env::var_os("GATECHECK_CAPTURE_DIR") {
            copy_files(&self.dump, Path::new(&capture));
        }
        &self.dump
    }

    /// The logs of the dump, for a failure message.
    pub fn dump_text(&self) -> String {
        ["access.log", "haproxy.log", "error.log"]
            .map(|f| fs::read_to_string(self.dump.join(f)).unwrap_or_default())
            .join("\n----\n")
    }
}
