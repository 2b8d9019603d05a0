//! Why a top table of the 502s (upstreams, hosts, paths) covers fewer than
//! all of them, per hop and in that hop's own terms: nginx's
//! `$upstream_addr`, HAProxy's `<NOSRV>`, Envoy's `%UPSTREAM_HOST%` …

use super::stats::PerHop;

/// The key of a top table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// The upstream (next hop) address.
    Upstream,
    /// The `Host`.
    Host,
    /// The request path.
    Path,
}

impl Key {
    fn what(self) -> &'static str {
        match self {
            Key::Upstream => "upstream address",
            Key::Host => "host",
            Key::Path => "request path",
        }
    }
}

/// Why `hop` logged no `key` for a 502, in its terms (`None`: nothing more
/// to say than that it is missing).
fn why(key: Key, hop: &str) -> Option<&'static str> {
    Some(match (key, hop) {
        (Key::Upstream, "nginx") => {
            "$upstream_addr not in the format or '-', and no error-log line names one"
        }
        // HAProxy manual §8.2.3: the server name is `<NOSRV>` when the
        // request was not sent to any server (none usable, or HAProxy
        // answered or refused it itself)
        (Key::Upstream, "haproxy") => {
            "no server was chosen (`<NOSRV>`: none was usable, or HAProxy answered the request itself), or the log format has no %b/%s"
        }
        // Envoy: %UPSTREAM_HOST% is `-` when no upstream host was selected
        (Key::Upstream, "envoy") => {
            "%UPSTREAM_HOST% is '-' (no upstream host was selected) or not in the format"
        }
        // ALB docs: target:port is `-` when the request was not sent to a target
        (Key::Upstream, "alb") => "target:port is '-': no target was sent the request",
        (Key::Upstream, _) => "the log names no next hop for them",
        (Key::Host, "nginx") => {
            "$host not in the format or '-', and no error-log line names one"
        }
        (Key::Host, "haproxy") => "not logged (HAProxy's httplog has no Host field)",
        (Key::Host, "envoy") => "%REQ(:AUTHORITY)% is '-' or not in the format",
        (Key::Host, _) => "the log names no host for them",
        (Key::Path, "haproxy") => "`<BADREQ>`: HAProxy could not read the request line",
        (Key::Path, "nginx") => return None,
        (Key::Path, _) => "the log names no path for them",
    })
}

/// `14 lines have no host (…)`, or with several hops `14 lines have no
/// host: nginx 4 (…), haproxy 10 (…)`; `None` when none is missing.
pub fn missing(key: Key, per: &PerHop) -> Option<String> {
    let total = per.total();
    if total == 0 {
        return None;
    }
    let what = key.what();
    let hops: Vec<(&str, u64)> = per
        .0
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(h, n)| (*h, *n))
        .collect();
    Some(match hops.as_slice() {
        // nginx alone: its wording as it always was
        [("nginx", _)] => match why(key, "nginx") {
            Some(w) => format!("{total} lines have no {what} ({w})"),
            None => format!("{total} lines have no {what}"),
        },
        [(hop, _)] => match why(key, hop) {
            Some(w) => format!("{total} lines have no {what} ({hop}: {w})"),
            None => format!("{total} lines have no {what} ({hop})"),
        },
        _ => {
            let parts: Vec<String> = hops
                .iter()
                .map(|(hop, n)| match why(key, hop) {
                    Some(w) => format!("{hop} {n} ({w})"),
                    None => format!("{hop} {n}"),
                })
                .collect();
            format!("{total} lines have no {what}: {}", parts.join(", "))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn per(v: &[(&'static str, u64)]) -> PerHop {
        PerHop(v.iter().copied().collect())
    }

    #[test]
    fn each_hop_in_its_terms() {
        assert_eq!(missing(Key::Upstream, &per(&[])), None);
        let n = missing(Key::Host, &per(&[("nginx", 2)])).unwrap();
        assert_eq!(
            n,
            "2 lines have no host ($host not in the format or '-', and no error-log line names one)"
        );
        assert_eq!(
            missing(Key::Path, &per(&[("nginx", 1)])).unwrap(),
            "1 lines have no request path"
        );
        let h = missing(Key::Upstream, &per(&[("haproxy", 3)])).unwrap();
        assert!(
            h.starts_with("3 lines have no upstream address (haproxy: "),
            "{h}"
        );
        assert!(h.contains("<NOSRV>"), "{h}");
        assert!(!h.contains("$upstream_addr"), "{h}");
        let both = missing(Key::Upstream, &per(&[("envoy", 1), ("nginx", 4)])).unwrap();
        assert!(
            both.starts_with("5 lines have no upstream address: envoy 1 (%UPSTREAM_HOST%"),
            "{both}"
        );
        assert!(both.contains(", nginx 4 ($upstream_addr"), "{both}");
    }
}
