//! A minimal HTTP/1.1 client (std only) for sending one request to nginx on
//! 127.0.0.1 with bounded timeouts.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// The `Host` header every test request carries.
pub const HOST: &str = "gatecheck.test";
/// The `User-Agent` every test request carries.
pub const USER_AGENT: &str = "gatecheck-realnginx/1.0";
/// The `Referer` every test request carries (nginx appends it to error-log
/// lines as `referrer: "…"`).
pub const REFERER: &str = "http://gatecheck.test/cart";

/// Send one request (`body` empty: no body) and return the response status,
/// or 0 when the response has no HTTP status line (nginx passing an
/// upstream's garbage through as HTTP/0.9).
pub fn request(addr: SocketAddr, method: &str, target: &str, body: &[u8]) -> io::Result<u16> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.set_write_timeout(Some(Duration::from_secs(2)))?;
    let mut req = format!(
        "{method} {target} HTTP/1.1\r\nHost: {HOST}\r\nUser-Agent: {USER_AGENT}\r\nReferer: {REFERER}\r\nAccept: */*\r\nConnection: close\r\n"
    );
    if !body.is_empty() {
        req.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    req.push_str("\r\n");
    let mut bytes = req.into_bytes();
    bytes.extend_from_slice(body);
    stream.write_all(&bytes)?;
    let mut resp = Vec::new();
    stream.take(1 << 20).read_to_end(&mut resp)?;
    let line = resp.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    if !resp.is_empty() && !line.starts_with("HTTP/") {
        return Ok(0);
    }
    line.split(' ')
        .nth(1)
        .and_then(|s| s.trim().parse().ok())
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("no HTTP status line in response to {target}: {line:?}"),
            )
        })
}

/// Send `GET target` with `X-Request-ID: id` and return the status, or 0
/// when there is none (connection refused, reset, no status line).
pub fn request_with_id(addr: SocketAddr, target: &str, id: &str) -> u16 {
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_secs(2)) else {
        return 0;
    };
    if s.set_read_timeout(Some(Duration::from_secs(10))).is_err() {
        return 0;
    }
    let req = format!(
        "GET {target} HTTP/1.1\r\nHost: {HOST}\r\nX-Request-ID: {id}\r\nConnection: close\r\n\r\n"
    );
    if s.write_all(req.as_bytes()).is_err() {
        return 0;
    }
    let mut resp = Vec::new();
    let _ = s.take(1 << 20).read_to_end(&mut resp);
    String::from_utf8_lossy(&resp)
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}
