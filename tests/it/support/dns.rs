//! A tiny DNS responder on 127.0.0.1 (UDP) that answers every query with
//! NXDOMAIN, for nginx's `resolver`. Bounded in time; stops when dropped.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// How long the responder runs at most, whatever happens to the test.
const DEADLINE: Duration = Duration::from_secs(120);

/// The running responder.
pub struct NxDomainServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    answered: Arc<AtomicUsize>,
    handle: Option<JoinHandle<()>>,
}

impl NxDomainServer {
    /// Bind a free UDP port on 127.0.0.1 and start answering.
    pub fn start() -> io::Result<Self> {
        let sock = UdpSocket::bind("127.0.0.1:0")?;
        sock.set_read_timeout(Some(Duration::from_millis(50)))?;
        let addr = sock.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let answered = Arc::new(AtomicUsize::new(0));
        let (flag, count) = (Arc::clone(&stop), Arc::clone(&answered));
        let handle = thread::Builder::new()
            .name("nxdomain-dns".into())
            .spawn(move || serve(sock, &flag, &count))?;
        Ok(Self {
            addr,
            stop,
            answered,
            handle: Some(handle),
        })
    }

    /// The address for nginx's `resolver` directive.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// How many queries were answered so far.
    pub fn answered(&self) -> usize {
        self.answered.load(Ordering::SeqCst)
    }
}

impl Drop for NxDomainServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

fn serve(sock: UdpSocket, stop: &AtomicBool, answered: &AtomicUsize) {
    let started = Instant::now();
    let mut buf = [0u8; 512];
    while !stop.load(Ordering::SeqCst) && started.elapsed() < DEADLINE {
        let Ok((n, peer)) = sock.recv_from(&mut buf) else {
            continue;
        };
        if let Some(reply) = nxdomain_reply(&buf[..n]) {
            if sock.send_to(&reply, peer).is_ok() {
                answered.fetch_add(1, Ordering::SeqCst);
            }
        }
    }
}

/// Build the NXDOMAIN answer to one query: same id and question, QR and RA
/// set, RD copied, RCODE 3, no records.
fn nxdomain_reply(query: &[u8]) -> Option<Vec<u8>> {
    if query.len() < 12 || query[2] & 0x80 != 0 {
        return None;
    }
    // Walk the first question's name (labels, no compression in queries).
    let mut i = 12;
    loop {
        let len = *query.get(i)? as usize;
        i += 1;
        if len == 0 {
            break;
        }
        if len & 0xC0 != 0 {
            return None;
        }
        i += len;
    }
    let end = i + 4; // QTYPE + QCLASS
    if end > query.len() {
        return None;
    }
    let mut reply = Vec::with_capacity(end);
    reply.extend_from_slice(&query[0..2]); // id
    reply.push(0x80 | (query[2] & 0x79)); // QR, opcode, RD
    reply.push(0x80 | 3); // RA, RCODE=NXDOMAIN
    reply.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]); // 1 question, no records
    reply.extend_from_slice(&query[12..end]);
    Some(reply)
}
