//! nginx measurement units: times and sizes.
//!
//! From nginx's "Configuration file measurement units" page
//! (nginx.org/en/docs/syntax.html): times take `ms s m h d w M y` (several
//! may be combined, `1h 30m`), a bare number means seconds; sizes take `k K m
//! M g G`, a bare number means bytes.

use std::time::Duration;

/// Parse an nginx time (`30s`, `500ms`, `1h30m`, `60`).
pub fn parse_time(s: &str) -> Option<Duration> {
    let b = s.as_bytes();
    if b.is_empty() {
        return None;
    }
    let mut total_ms: u128 = 0;
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && b[i] == b' ' {
            i += 1;
        }
        if i == b.len() {
            break;
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if start == i {
            return None;
        }
        let n: u128 = s[start..i].parse().ok()?;
        let (mult, len) = match &b[i..] {
            [b'm', b's', ..] => (1, 2),
            [b's', ..] => (1000, 1),
            [b'm', ..] => (60_000, 1),
            [b'h', ..] => (3_600_000, 1),
            [b'd', ..] => (86_400_000, 1),
            [b'w', ..] => (604_800_000, 1),
            [b'M', ..] => (2_592_000_000, 1),
            [b'y', ..] => (31_536_000_000, 1),
            [] | [b' ', ..] => (1000, 0),
            _ => return None,
        };
        i += len;
        total_ms = total_ms.checked_add(n.checked_mul(mult)?)?;
    }
    let ms = u64::try_from(total_ms).ok()?;
    Some(Duration::from_millis(ms))
}

/// Parse an nginx size (`4k`, `1m`, `512`) into bytes.
pub fn parse_size(s: &str) -> Option<u64> {
    let (num, mult) = match s.as_bytes().last()? {
        b'k' | b'K' => (&s[..s.len() - 1], 1024),
        b'm' | b'M' => (&s[..s.len() - 1], 1024 * 1024),
        b'g' | b'G' => (&s[..s.len() - 1], 1024 * 1024 * 1024),
        _ => (s, 1),
    };
    if num.is_empty() || !num.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    num.parse::<u64>().ok()?.checked_mul(mult)
}

/// Render a duration as nginx accepts it, in seconds or milliseconds
/// (`60s`, `500ms`).
pub fn fmt_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms % 1000 != 0 {
        format!("{ms}ms")
    } else {
        format!("{}s", ms / 1000)
    }
}

/// Render a size in bytes the way nginx configs write it (`8k`, `1m`).
pub fn fmt_size(n: u64) -> String {
    if n > 0 && n % (1024 * 1024) == 0 {
        format!("{}m", n / (1024 * 1024))
    } else if n > 0 && n % 1024 == 0 {
        format!("{}k", n / 1024)
    } else {
        n.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        let t = |s| parse_time(s).map(|d| d.as_millis());
        assert_eq!(t("30s"), Some(30_000));
        assert_eq!(t("500ms"), Some(500));
        assert_eq!(t("60"), Some(60_000));
        assert_eq!(t("1h30m"), Some(5_400_000));
        assert_eq!(t("1h 30m"), Some(5_400_000));
        assert_eq!(t("30sec"), None);
        assert_eq!(t(""), None);
        assert_eq!(t("s"), None);
        assert_eq!(t("99999999999999999999999y"), None);
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("4k"), Some(4096));
        assert_eq!(parse_size("1M"), Some(1 << 20));
        assert_eq!(parse_size("512"), Some(512));
        assert_eq!(parse_size("8kb"), None);
        assert_eq!(parse_size("k"), None);
    }

    #[test]
    fn formatting() {
        assert_eq!(fmt_duration(Duration::from_secs(120)), "120s");
        assert_eq!(fmt_duration(Duration::from_secs(75)), "75s");
        assert_eq!(fmt_duration(Duration::from_millis(1500)), "1500ms");
        assert_eq!(fmt_size(8192), "8k");
        assert_eq!(fmt_size(100), "100");
    }
}
