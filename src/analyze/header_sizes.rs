//! The response heads nginx received from each upstream address, in bytes,
//! as a mergeable aggregate: for every answered attempt (status below 500)
//! `$upstream_bytes_received − $upstream_response_length`. Set against
//! `proxy_buffer_size` when a cause is "upstream sent too big header"
//! (`attribute::nginx`).
//!
//! Why the difference is the head, from nginx's source
//! (`src/http/ngx_http_upstream.c`, read at commit 3f6f782 of
//! github.com/nginx/nginx): while the head is read,
//! `ngx_http_upstream_process_header` adds every `recv()` to
//! `bytes_received` — the head, and whatever body bytes came in the same
//! reads (the "preread"). With buffering on, `ngx_http_upstream_finalize_request`
//! then adds `pipe->read_length − pipe->preread_size` to `bytes_received`
//! and sets `response_length = pipe->read_length` (preread included); with
//! buffering off, each body `recv()` is added to both, and the preread to
//! `response_length` when the body starts. Either way the difference is the
//! bytes from the status line to the blank line, as the server sent them.
//! Not for an upgraded connection (status 101): its bytes go to
//! `bytes_received` only, so those attempts are left out.

use std::collections::HashMap;
use std::ops::AddAssign;

use crate::logs::record::UpstreamFields;

/// The largest head seen from one address, and how many were measured.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Largest {
    /// Bytes of the largest response head.
    pub bytes: u64,
    /// Answered attempts measured.
    pub of: u64,
}

/// Response head sizes per upstream address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeaderSizes {
    /// True when some log read has the variables (whether or not any
    /// attempt was answered).
    pub logged: bool,
    /// Per `$upstream_addr` element.
    pub by_addr: HashMap<String, Largest>,
}

impl HeaderSizes {
    /// Count the answered attempts of one request.
    pub fn see(&mut self, u: &UpstreamFields<'_>) {
        u.answered_heads(|addr, bytes| {
            let Ok(addr) = std::str::from_utf8(addr) else {
                return;
            };
            let e = match self.by_addr.get_mut(addr) {
                Some(e) => e,
                None => self.by_addr.entry(addr.to_string()).or_default(),
            };
            e.bytes = e.bytes.max(bytes);
            e.of += 1;
        });
    }

    /// The largest head over `addrs` (answered attempts of those
    /// addresses), or `None` when none was measured.
    pub fn largest<'a>(&self, addrs: impl IntoIterator<Item = &'a str>) -> Option<Largest> {
        let mut out: Option<Largest> = None;
        for a in addrs {
            if let Some(l) = self.by_addr.get(a) {
                let o = out.get_or_insert_with(Largest::default);
                o.bytes = o.bytes.max(l.bytes);
                o.of += l.of;
            }
        }
        out
    }
}

impl AddAssign for HeaderSizes {
    fn add_assign(&mut self, o: HeaderSizes) {
        self.logged |= o.logged;
        for (k, v) in o.by_addr {
            let e = self.by_addr.entry(k).or_default();
            e.bytes = e.bytes.max(v.bytes);
            e.of += v.of;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields<'a>(addr: &'a str, status: &'a str, rx: &'a str, len: &'a str) -> UpstreamFields<'a> {
        UpstreamFields {
            addr: Some(addr.as_bytes()),
            status: Some(status.as_bytes()),
            bytes_received: Some(rx.as_bytes()),
            response_length: Some(len.as_bytes()),
            ..Default::default()
        }
    }

    #[test]
    fn answered_attempts_count_and_failed_or_upgraded_ones_do_not() {
        let mut h = HeaderSizes::default();
        // a retry: the first server failed (its 1024 bytes are a buffer
        // that filled up, not a head), the second answered a 612-byte head
        h.see(&fields(
            "10.0.0.1:80, 10.0.0.2:80",
            "502, 200",
            "1024, 615",
            "0, 3",
        ));
        h.see(&fields("10.0.0.2:80", "404", "300", "100"));
        h.see(&fields("10.0.0.2:80", "101", "9000", "0"));
        // unparseable or inconsistent numbers are no measurement
        h.see(&fields("10.0.0.2:80", "200", "-", "3"));
        h.see(&fields("10.0.0.2:80", "200", "3", "10"));
        assert_eq!(h.by_addr.get("10.0.0.1:80"), None);
        assert_eq!(
            h.by_addr.get("10.0.0.2:80"),
            Some(&Largest { bytes: 612, of: 2 })
        );
        let mut other = HeaderSizes {
            logged: true,
            ..Default::default()
        };
        other.see(&fields("10.0.0.2:80", "200", "803", "3"));
        h += other;
        assert!(h.logged);
        assert_eq!(
            h.largest(["10.0.0.2:80", "10.0.0.9:80"]),
            Some(Largest { bytes: 800, of: 3 })
        );
        assert_eq!(h.largest(["10.0.0.9:80"]), None);
    }
}
