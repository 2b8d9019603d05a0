//! A fault-injecting HTTP upstream on 127.0.0.1: each request path asks for
//! one way of failing (reset, clean close, oversized or invalid header, no
//! answer, a 502 or 500 of its own, garbage to a TLS client, a response
//! head of an exact size after a delay). Everything it does is bounded in
//! time, and it stops when dropped.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// How long any one connection is served at most.
const CONN_DEADLINE: Duration = Duration::from_secs(5);
/// How long the accept loop runs at most, whatever happens to the test.
const LISTEN_DEADLINE: Duration = Duration::from_secs(120);
/// Size of the response header sent for `/bigheader` (nginx is given 1k).
pub const BIG_HEADER_BYTES: usize = 4096;

/// The running upstream; dropping it stops the accept loop and joins every
/// connection thread.
pub struct FaultUpstream {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl FaultUpstream {
    /// Listen on a free port of 127.0.0.1.
    pub fn start() -> io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let handle = thread::Builder::new()
            .name("fault-upstream".into())
            .spawn(move || accept_loop(listener, flag))?;
        Ok(Self {
            addr,
            stop,
            handle: Some(handle),
        })
    }

    /// The address nginx proxies to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for FaultUpstream {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

fn accept_loop(listener: TcpListener, stop: Arc<AtomicBool>) {
    let started = Instant::now();
    let mut workers = Vec::new();
    while !stop.load(Ordering::SeqCst) && started.elapsed() < LISTEN_DEADLINE {
        match listener.accept() {
            Ok((stream, _)) => {
                let flag = Arc::clone(&stop);
                workers.push(thread::spawn(move || {
                    let _ = serve(stream, &flag);
                }));
            }
            Err(_) => thread::sleep(Duration::from_millis(5)),
        }
    }
    for w in workers {
        let _ = w.join();
    }
}

/// Read the request head (up to the blank line), bounded in size and time.
/// Returns the bytes read; they may be a TLS ClientHello instead of HTTP.
fn read_head(stream: &mut TcpStream) -> io::Result<Vec<u8>> {
    let deadline = Instant::now() + CONN_DEADLINE;
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    while Instant::now() < deadline && buf.len() < 64 * 1024 {
        let n = match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e)
                if e.kind() == io::ErrorKind::WouldBlock || e.kind() == io::ErrorKind::TimedOut =>
            {
                continue
            }
            Err(e) => return Err(e),
        };
        buf.extend_from_slice(&chunk[..n]);
        if buf.first() == Some(&0x16) || buf.windows(4).any(|w| w == b"\r\n\r\n") {
            break;
        }
    }
    Ok(buf)
}

fn serve(mut stream: TcpStream, stop: &AtomicBool) -> io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_millis(200)))?;
    stream.set_write_timeout(Some(Duration::from_secs(2)))?;
    let head = read_head(&mut stream)?;
    if head.first() == Some(&0x16) {
        // A TLS ClientHello on a plain-HTTP port: answer like a plain HTTP
        // server would, which the TLS client cannot take for a ServerHello.
        stream.write_all(
            b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        )?;
        return Ok(());
    }
    let path = request_path(&head);
    if let Some((head_bytes, delay_ms)) = sized(&path) {
        // `/sized/<head bytes>/<delay ms>`: wait, then answer 200 with a
        // response head (status line to the blank line) of exactly that
        // many bytes and a 3-byte body.
        thread::sleep(Duration::from_millis(
            delay_ms.min(CONN_DEADLINE.as_millis() as u64),
        ));
        stream.write_all(&sized_response(head_bytes))?;
    } else if path.starts_with("/keepalive") {
        // An upstream whose keepalive timeout fires just as nginx reuses the
        // idle connection: the first request on a connection is answered and
        // the connection kept open; the next one is read, then the
        // connection is closed without an answer.
        drain_body(&mut stream, &head)?;
        respond(&mut stream, "200 OK", "text/plain", b"ok\n", true)?;
        let next = read_head(&mut stream)?;
        if !next.is_empty() {
            drain_body(&mut stream, &next)?;
        }
        drop(stream);
    } else if path.starts_with("/reset") || path.starts_with("/upload") {
        // SO_LINGER with a zero timeout turns close() into a TCP RST. For
        // /upload the body is still on its way: nginx is mid-send.
        set_linger_zero(&stream)?;
        drop(stream);
    } else if path.starts_with("/closed") {
        drop(stream); // a clean FIN, no response bytes
    } else if path.starts_with("/bigheader") {
        let mut resp = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Session-State: ".to_vec();
        resp.extend_from_slice(&vec![b'a'; BIG_HEADER_BYTES]);
        resp.extend_from_slice(b"\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n");
        stream.write_all(&resp)?;
    } else if path.starts_with("/badheader") {
        // A space inside a header name: nginx >= 1.21.1 rejects it.
        stream.write_all(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX Broken Header: yes\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n",
        )?;
    } else if path.starts_with("/slow") {
        // Never answer; hold the connection until nginx gives up (EOF) or
        // the deadline passes.
        let deadline = Instant::now() + CONN_DEADLINE;
        let mut sink = [0u8; 1024];
        while Instant::now() < deadline && !stop.load(Ordering::SeqCst) {
            match stream.read(&mut sink) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e)
                    if e.kind() == io::ErrorKind::WouldBlock
                        || e.kind() == io::ErrorKind::TimedOut => {}
                Err(_) => break,
            }
        }
    } else if path.starts_with("/truncated-chunked") {
        // A chunked 200 whose connection closes after its first chunk,
        // before the last (zero-size) chunk: the body is cut as for a
        // Content-Length one
        stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\nb\r\npartial...\n\r\n")?;
        thread::sleep(Duration::from_millis(50));
    } else if path.starts_with("/truncated") {
        // A 200 whose body stops short of its Content-Length: the client
        // already has the status, nginx logs 200 and an error line.
        stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\n\r\npartial...\n")?;
        thread::sleep(Duration::from_millis(50));
    } else if path.starts_with("/cut502") {
        // the application's own 502 whose body stops short of its
        // Content-Length: nginx passes the 502 on, then logs the cut
        stream.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\n\r\npartial...\n")?;
        thread::sleep(Duration::from_millis(50));
    } else if path.starts_with("/badchunk") {
        // `Transfer-Encoding: chunked` whose second chunk-size line is not
        // hex, in one write with the head: nginx has passed the 200 on
        // before its chunked filter sees the body; haproxy parses it with
        // the head and rejects the whole response.
        stream.write_all(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nZZ\r\nbad\r\n",
        )?;
        thread::sleep(Duration::from_millis(50));
    } else if path.starts_with("/badstatus") {
        // Not HTTP at all (say, proxy_pass to an SSH port): no status line.
        stream.write_all(b"SSH-2.0-OpenSSH_9.6\r\n")?;
    } else if path.starts_with("/app500") {
        // The application's own error page.
        let body = b"{\"error\":\"NullPointerException\"}\n";
        respond(
            &mut stream,
            "500 Internal Server Error",
            "application/json",
            body,
            false,
        )?;
    } else if path.starts_with("/passthrough") {
        let body = b"{\"error\":\"payments backend unavailable\"}\n";
        respond(
            &mut stream,
            "502 Bad Gateway",
            "application/json",
            body,
            false,
        )?;
    } else {
        respond(&mut stream, "200 OK", "text/plain", b"ok\n", false)?;
    }
    Ok(())
}

fn respond(
    stream: &mut TcpStream,
    status: &str,
    content_type: &str,
    body: &[u8],
    keep_alive: bool,
) -> io::Result<()> {
    let connection = if keep_alive { "keep-alive" } else { "close" };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: {connection}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)
}

/// Read the rest of a request body (by Content-Length) so that closing the
/// connection sends a clean FIN rather than a reset for unread data.
fn drain_body(stream: &mut TcpStream, head: &[u8]) -> io::Result<()> {
    let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Ok(());
    };
    let text = String::from_utf8_lossy(&head[..end]).to_ascii_lowercase();
    let len: usize = text
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let mut missing = len.saturating_sub(head.len() - (end + 4));
    let deadline = Instant::now() + CONN_DEADLINE;
    let mut buf = [0u8; 4096];
    while missing > 0 && Instant::now() < deadline {
        match stream.read(&mut buf[..missing.min(4096)]) {
            Ok(0) => break,
            Ok(n) => missing -= n,
            Err(e)
                if e.kind() == io::ErrorKind::WouldBlock || e.kind() == io::ErrorKind::TimedOut => {
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// `/sized/<head bytes>/<delay ms>[/…]` → (head bytes, delay ms).
fn sized(path: &str) -> Option<(usize, u64)> {
    let mut it = path.strip_prefix("/sized/")?.split(['/', '?']);
    let head = it.next()?.parse().ok()?;
    let delay = it.next()?.parse().ok()?;
    Some((head, delay))
}

/// A 200 response whose head (status line, headers and the blank line) is
/// `head_bytes` long (at least the fixed part, about 100 bytes), padded
/// with an `X-Pad` header, and whose body is `ok\n`.
pub fn sized_response(head_bytes: usize) -> Vec<u8> {
    let fixed = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: close\r\nX-Pad: \r\n\r\n";
    let mut resp = fixed.replace(
        "X-Pad: ",
        &format!(
            "X-Pad: {}",
            "p".repeat(head_bytes.saturating_sub(fixed.len()))
        ),
    );
    resp.push_str("ok\n");
    resp.into_bytes()
}

/// The request target of an HTTP request head (`GET /x HTTP/1.0`), or "".
fn request_path(head: &[u8]) -> String {
    let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    line.split(' ').nth(1).unwrap_or_default().to_string()
}

/// `SO_LINGER` 0: `close()` sends a TCP RST instead of a FIN.
pub fn set_linger_zero(stream: &TcpStream) -> io::Result<()> {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: the fd is owned by `stream` and open for the whole call; the
    // option value points to a live `linger` of the size passed.
    let rc = unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// A listening port whose accept queue is full: the kernel drops new SYNs,
/// so a connect() to it neither succeeds nor is refused, it times out.
/// Dropping it closes everything.
pub struct Blackhole {
    listener: TcpListener,
    _queued: Vec<TcpStream>,
}

impl Blackhole {
    /// Listen with a backlog of 0 and fill the queue (never accepting).
    pub fn start() -> io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        // SAFETY: listen(2) on the fd `listener` owns, open for the call;
        // calling it again on a listening socket only changes the backlog.
        if unsafe { libc::listen(listener.as_raw_fd(), 0) } != 0 {
            return Err(io::Error::last_os_error());
        }
        let addr = listener.local_addr()?;
        let mut queued = Vec::new();
        // A backlog of 0 queues one connection; stop at the first connect
        // that does not complete (its SYN was dropped). Bounded.
        for _ in 0..8 {
            match TcpStream::connect_timeout(&addr, Duration::from_millis(300)) {
                Ok(s) => queued.push(s),
                Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                    return Ok(Self {
                        listener,
                        _queued: queued,
                    })
                }
                Err(e) => return Err(e),
            }
        }
        Err(io::Error::other("the accept queue never filled up"))
    }

    /// The address that swallows connection attempts.
    pub fn addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("local addr")
    }
}
