//! The normalized access-log record: borrowed slices of the line, `None` where
//! the format has no such field or the log wrote `-`.

use super::scan::LogTime;

/// The raw upstream variables of one request, each possibly a list
/// (`, ` between servers tried, ` : ` between internal redirects).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UpstreamFields<'a> {
    /// `$upstream_addr`.
    pub addr: Option<&'a [u8]>,
    /// `$upstream_status`.
    pub status: Option<&'a [u8]>,
    /// `$upstream_connect_time`.
    pub connect: Option<&'a [u8]>,
    /// `$upstream_header_time`.
    pub header: Option<&'a [u8]>,
    /// `$upstream_response_time`.
    pub response: Option<&'a [u8]>,
    /// `$upstream_bytes_received`: every byte read from the server, the
    /// response head included.
    pub bytes_received: Option<&'a [u8]>,
    /// `$upstream_response_length`: the bytes of the response body.
    pub response_length: Option<&'a [u8]>,
}

/// One access-log line, parsed. No allocation: every field borrows the line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Record<'a> {
    /// When the hop logged the request (nginx: when the response finished).
    pub time: Option<LogTime>,
    /// Client address.
    pub client: Option<&'a [u8]>,
    /// Request method.
    pub method: Option<&'a [u8]>,
    /// Request target (path and query).
    pub path: Option<&'a [u8]>,
    /// Query string without its `?` (`$args`), when logged apart from the
    /// path (`$uri` and `$args`, as ingress-nginx's JSON logs do).
    pub args: Option<&'a [u8]>,
    /// Protocol (`HTTP/1.1`).
    pub protocol: Option<&'a [u8]>,
    /// The whole request line when the format logs `$request`.
    pub request: Option<&'a [u8]>,
    /// Status sent to the client.
    pub status: Option<u16>,
    /// Host (`$host`, `$http_host` or `$server_name`).
    pub host: Option<&'a [u8]>,
    /// Total request time as logged (seconds, ms resolution); see [`Record::request_time_ms`].
    pub request_time: Option<&'a [u8]>,
    /// Upstream variables (raw lists).
    pub upstream: UpstreamFields<'a>,
    /// Request id (`$request_id`, `$http_x_request_id`).
    pub request_id: Option<&'a [u8]>,
    /// nginx connection serial number (`$connection`): the `*CID` of error-log lines.
    pub connection: Option<u64>,
}

impl<'a> Record<'a> {
    /// Total request time in milliseconds.
    pub fn request_time_ms(&self) -> Option<u32> {
        self.request_time.and_then(super::scan::parse_secs_ms)
    }

    /// Fill method, path and protocol from the request line (`GET /x HTTP/1.1`)
    /// where the format did not log them separately. Done only for the few
    /// records that need them, not on the hot path.
    pub fn split_request(&mut self) {
        let Some(r) = self.request else { return };
        // inline searches: the request line is short, a library call
        // per 5xx line cost more than the search
        let Some(sp1) = super::scan::find_byte(r, b' ') else {
            return;
        };
        let rest = &r[sp1 + 1..];
        let (path, proto) = match super::scan::rfind_byte(rest, b' ') {
            Some(sp2) => (&rest[..sp2], Some(&rest[sp2 + 1..])),
            None => (rest, None),
        };
        self.method.get_or_insert(&r[..sp1]);
        self.path.get_or_insert(path);
        if let Some(p) = proto {
            self.protocol.get_or_insert(p);
        }
    }
}

/// One server tried for a request, from the zipped upstream variables.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Attempt {
    /// `ip:port`, `unix:/path`, or an upstream group name (no server could be selected).
    pub addr: String,
    /// Status from this server (nginx writes 502/504 for errors it generated).
    pub status: Option<u16>,
    /// Connect time in seconds (`None`: `-`, never connected or not logged).
    pub connect_time: Option<f64>,
    /// Time to the response header in seconds (`None`: no header received, or not logged).
    pub header_time: Option<f64>,
    /// Time to the end of the response in seconds.
    pub response_time: Option<f64>,
    /// 0 for the first upstream group, +1 after each internal redirect (` : `).
    pub group: u16,
}

/// An [`Attempt`] borrowing its address from the line
/// ([`UpstreamFields::each_attempt`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AttemptRef<'a> {
    /// The address as logged (`None`: `-` or empty).
    pub addr: Option<&'a [u8]>,
    /// Status from this server.
    pub status: Option<u16>,
    /// Connect time in seconds.
    pub connect_time: Option<f64>,
    /// Time to the response header in seconds.
    pub header_time: Option<f64>,
    /// Time to the end of the response in seconds.
    pub response_time: Option<f64>,
    /// Upstream group (see [`Attempt::group`]).
    pub group: u16,
}

/// The elements of an nginx multi-value upstream variable, as (group,
/// element): `, ` separates servers tried, ` : ` starts the next group (an
/// internal redirect). An iterator, so zipping five variables allocates nothing.
struct Values<'a> {
    v: &'a [u8],
    pos: usize,
    group: u16,
    done: bool,
}

impl<'a> Values<'a> {
    fn new(v: Option<&'a [u8]>) -> Self {
        Values {
            v: v.unwrap_or_default(),
            pos: 0,
            group: 0,
            done: v.is_none(),
        }
    }
}

impl<'a> Iterator for Values<'a> {
    type Item = (u16, &'a [u8]);

    /// Both separators hold a space (`, ` after the comma, ` : ` first),
    /// so the element ends at the first space that is part of one, found
    /// by [`super::scan::find_byte`] instead of testing every byte (a
    /// sampled line's five variables went through this byte by byte:
    /// `each_attempt` was ≈ 2 % of a plain nginx run's instructions under
    /// cachegrind). The same elements as `Values::next_by_bytes`, the
    /// byte-by-byte reference (proptest).
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let v = self.v;
        let start = self.pos;
        let mut from = start;
        while let Some(k) = super::scan::find_byte(&v[from..], b' ') {
            let j = from + k;
            // `, ` ending at this space (the comma inside the element's
            // bytes); else ` : ` starting at it
            if j > start && v[j - 1] == b',' {
                self.pos = j + 1;
                return Some((self.group, &v[start..j - 1]));
            }
            if v.get(j + 1) == Some(&b':') && v.get(j + 2) == Some(&b' ') {
                let g = self.group;
                self.group = self.group.saturating_add(1);
                self.pos = j + 3;
                return Some((g, &v[start..j]));
            }
            from = j + 1;
        }
        self.done = true;
        Some((self.group, &v[start..]))
    }
}

#[cfg(test)]
impl<'a> Values<'a> {
    /// [`Values::next`] by testing every byte: the reference.
    fn next_by_bytes(&mut self) -> Option<(u16, &'a [u8])> {
        if self.done {
            return None;
        }
        let v = self.v;
        let start = self.pos;
        let mut i = start;
        while i < v.len() {
            if v[i] == b',' && v.get(i + 1) == Some(&b' ') {
                self.pos = i + 2;
                return Some((self.group, &v[start..i]));
            }
            if v[i] == b' ' && v.get(i + 1) == Some(&b':') && v.get(i + 2) == Some(&b' ') {
                let g = self.group;
                self.group = self.group.saturating_add(1);
                self.pos = i + 3;
                return Some((g, &v[start..i]));
            }
            i += 1;
        }
        self.done = true;
        Some((self.group, &v[start..]))
    }
}

fn secs(b: &[u8]) -> Option<f64> {
    super::scan::parse_secs_ms(b).map(|ms| ms as f64 / 1000.0)
}

impl<'a> UpstreamFields<'a> {
    /// True when the format logs nothing about upstreams.
    pub fn is_empty(&self) -> bool {
        self.addr.is_none() && self.status.is_none()
    }

    /// Zip the lists into one [`Attempt`] per server tried.
    pub fn attempts(&self) -> Vec<Attempt> {
        let mut out = Vec::new();
        self.attempts_into(&mut out);
        out
    }

    /// [`UpstreamFields::attempts`] into `out` (its contents replaced),
    /// reusing its attempts' address strings: the hot loop zips every 5xx
    /// line's attempts into one buffer instead of allocating a vector and
    /// a string per attempt per line.
    pub fn attempts_into(&self, out: &mut Vec<Attempt>) {
        let mut n = 0;
        self.each_attempt(|a| {
            if n == out.len() {
                out.push(Attempt {
                    addr: String::new(),
                    status: None,
                    connect_time: None,
                    header_time: None,
                    response_time: None,
                    group: 0,
                });
            }
            let slot = &mut out[n];
            slot.addr.clear();
            if let Some(b) = a.addr {
                // what `from_utf8_lossy` gives, without its chunk walk
                // when the address is valid (always, in practice)
                match std::str::from_utf8(b) {
                    Ok(s) => slot.addr.push_str(s),
                    Err(_) => slot.addr.push_str(&String::from_utf8_lossy(b)),
                }
            }
            slot.group = a.group;
            slot.status = a.status;
            slot.connect_time = a.connect_time;
            slot.header_time = a.header_time;
            slot.response_time = a.response_time;
            n += 1;
        });
        out.truncate(n);
    }

    /// The same zip, without allocating: `f` gets each attempt with its
    /// address borrowed from the line (`None` for `-`), in order.
    pub fn each_attempt(&self, mut f: impl FnMut(AttemptRef<'a>)) {
        let mut addrs = Values::new(self.addr);
        let mut statuses = Values::new(self.status);
        let mut connects = Values::new(self.connect);
        let mut headers = Values::new(self.header);
        let mut responses = Values::new(self.response);
        // a format that logs upstream times but neither `$upstream_addr`
        // nor `$upstream_status` (the nginx blog's `upstream_time`): each
        // time of the list is still one server tried, its address unknown
        let by_times = self.addr.is_none() && self.status.is_none();
        let value = |x: Option<(u16, &'a [u8])>| x.map(|(_, b)| b);
        loop {
            let (addr, status) = (addrs.next(), statuses.next());
            if addr.is_none() && status.is_none() {
                if by_times {
                    if let Some((group, r)) = responses.next() {
                        f(AttemptRef {
                            group,
                            addr: None,
                            status: None,
                            connect_time: value(connects.next()).and_then(secs),
                            header_time: value(headers.next()).and_then(secs),
                            response_time: secs(r),
                        });
                        continue;
                    }
                }
                break;
            }
            f(AttemptRef {
                group: addr.or(status).map_or(0, |(g, _)| g),
                addr: value(addr).filter(|a| *a != b"-"),
                status: value(status).and_then(super::scan::parse_status),
                connect_time: value(connects.next()).and_then(secs),
                header_time: value(headers.next()).and_then(secs),
                response_time: value(responses.next()).and_then(secs),
            });
        }
    }

    /// For each attempt answered below 500 (not 101: an upgraded
    /// connection's bytes are not a response), its address and
    /// `$upstream_bytes_received − $upstream_response_length`: the bytes
    /// of its response head (`analyze::header_sizes` says why). Attempts
    /// whose numbers are missing or do not add up are skipped. No
    /// allocation.
    pub fn answered_heads(&self, mut f: impl FnMut(&'a [u8], u64)) {
        if self.bytes_received.is_none() || self.response_length.is_none() {
            return;
        }
        let mut addrs = Values::new(self.addr);
        let mut statuses = Values::new(self.status);
        let mut received = Values::new(self.bytes_received);
        let mut lengths = Values::new(self.response_length);
        while let (Some((_, a)), Some((_, s))) = (addrs.next(), statuses.next()) {
            let (rx, len) = (received.next(), lengths.next());
            let answered = super::scan::parse_status(s).is_some_and(|s| s < 500 && s != 101);
            let num = |v: Option<(u16, &[u8])>| v.and_then(|(_, b)| super::scan::parse_u64(b));
            if let (true, Some(rx), Some(len)) = (answered, num(rx), num(len)) {
                if rx >= len && a != b"-" {
                    f(a, rx - len);
                }
            }
        }
    }

    /// Fast check, without allocating: does any attempt have a 5xx status?
    #[inline]
    pub fn any_5xx(&self) -> bool {
        any_5xx(self.status)
    }
}

/// Does an `$upstream_status` list hold a 5xx element? No allocation.
#[inline]
pub fn any_5xx(status: Option<&[u8]>) -> bool {
    let Some(rest) = status else { return false };
    // one server tried (almost every line): its three digits, without the
    // list's search (which this called once per line: ≈ 40 instructions
    // per line of a plain nginx log under cachegrind)
    if rest.len() == 3 {
        return rest[0] == b'5' && super::scan::parse_status(rest).is_some();
    }
    any_5xx_in_list(rest)
}

/// [`any_5xx`] of a list (or anything but three bytes).
fn any_5xx_in_list(mut rest: &[u8]) -> bool {
    while let Some(i) = super::scan::find_byte(rest, b'5') {
        let at_start = i == 0 || rest[i - 1] == b' ';
        if at_start && rest.len() >= i + 3 && super::scan::parse_status(&rest[i..i + 3]).is_some() {
            let after = rest.get(i + 3);
            if matches!(after, None | Some(b',') | Some(b' ')) {
                return true;
            }
        }
        rest = &rest[i + 1..];
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zips_retries_and_redirects() {
        let u = UpstreamFields {
            addr: Some(b"10.0.0.1:80, 10.0.0.2:80 : 10.0.9.2:80"),
            status: Some(b"502, 502 : 200"),
            connect: Some(b"-, 0.001 : 0.000"),
            header: Some(b"-, - : 0.010"),
            response: Some(b"0.000, 0.002 : 0.011"),
            ..Default::default()
        };
        let a = u.attempts();
        assert_eq!(a.len(), 3);
        assert_eq!(a[0].addr, "10.0.0.1:80");
        assert_eq!(a[0].status, Some(502));
        assert_eq!(a[0].connect_time, None);
        assert_eq!(a[1].connect_time, Some(0.001));
        assert_eq!(a[2].group, 1);
        assert_eq!(a[2].status, Some(200));
        assert_eq!(a[2].header_time, Some(0.01));
        assert!(u.any_5xx());
    }

    /// A reused buffer holds the same attempts as a fresh one, whether it
    /// held more, fewer or other attempts before.
    #[test]
    fn attempts_into_a_used_buffer_are_fresh_attempts() {
        let lists = [
            (
                Some(&b"10.0.0.1:80, 10.0.0.2:80 : 10.0.9.2:80"[..]),
                Some(&b"502, 502 : 200"[..]),
            ),
            (Some(b"10.0.0.7:8080"), Some(b"504")),
            (Some(b"-"), Some(b"502")),
            (Some(b"\xff\xfe:80, x"), Some(b"502, 200")),
            (None, None),
            (Some(b"a, b, c, d, e"), Some(b"502, 502, 502, 502, 502")),
        ];
        let mut buf = Vec::new();
        for round in 0..2 {
            for (addr, status) in lists {
                let u = UpstreamFields {
                    addr,
                    status,
                    response: Some(b"0.001, 0.002"),
                    ..Default::default()
                };
                u.attempts_into(&mut buf);
                assert_eq!(buf, u.attempts(), "round {round}");
                let fresh: Vec<Attempt> = {
                    let mut v = Vec::new();
                    u.each_attempt(|a| {
                        v.push(Attempt {
                            group: a.group,
                            addr: a
                                .addr
                                .map(|a| String::from_utf8_lossy(a).into_owned())
                                .unwrap_or_default(),
                            status: a.status,
                            connect_time: a.connect_time,
                            header_time: a.header_time,
                            response_time: a.response_time,
                        })
                    });
                    v
                };
                assert_eq!(buf, fresh);
            }
        }
    }

    #[test]
    fn any_5xx_ignores_other_digits() {
        let u = UpstreamFields {
            status: Some(b"200"),
            ..Default::default()
        };
        assert!(!u.any_5xx());
        let u = UpstreamFields {
            status: Some(b"404, 200"),
            ..Default::default()
        };
        assert!(!u.any_5xx());
        let u = UpstreamFields {
            status: Some(b"504"),
            ..Default::default()
        };
        assert!(u.any_5xx());
    }

    proptest::proptest! {
        /// The elements found by searching spaces are the byte loop's,
        /// for lists of separators, commas, colons, spaces and values.
        #[test]
        fn values_by_spaces_are_the_byte_loops(
            parts in proptest::collection::vec(
                proptest::sample::select(vec![
                    &b", "[..], &b" : "[..], &b","[..], &b":"[..], &b" "[..], &b"  "[..], &b",,"[..], &b" :"[..], &b": "[..], &b"10.0.0.1:80"[..], &b"502"[..], &b"-"[..], &b"0.001"[..], &b"x"[..],
                ]),
                0..14,
            )
        ) {
            let v: Vec<u8> = parts.concat();
            let (mut a, mut b) = (Values::new(Some(&v)), Values::new(Some(&v)));
            loop {
                let (x, y) = (a.next(), b.next_by_bytes());
                proptest::prop_assert_eq!(x, y);
                if x.is_none() {
                    break;
                }
            }
        }
    }

    /// Three bytes are read as the list search reads them, whatever they are.
    #[test]
    fn three_bytes_as_by_the_list_search() {
        let bytes = [b'5', b'0', b'2', b'9', b' ', b',', b'-', b'x', b':'];
        for &a in &bytes {
            for &b in &bytes {
                for &c in &bytes {
                    let s = [a, b, c];
                    assert_eq!(any_5xx(Some(&s)), any_5xx_in_list(&s), "{s:?}");
                }
            }
        }
    }
}
