//! nginx measurement units: times and sizes.
//!
//! From nginx's "Configuration file measurement units" page
//! (nginx.org/en/docs/syntax.html): times take `ms s m h d w M y` (several
//! may be combined, `1h 30m`), a bare number means seconds; sizes take `k K m
//! M g G`, a bare number means bytes.
//!
//! [`parse_time`] and [`parse_size`] are the lenient readings gatecheck uses
//! for its own settings file. What nginx itself accepts depends on the
//! directive's `set` handler, and is stricter: [`ngx_time`] follows
//! `ngx_parse_time()` and [`ngx_size`] / [`ngx_offset`] follow
//! `ngx_parse_size()` / `ngx_parse_offset()` (src/core/ngx_parse.c).

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

/// Which unit `ngx_parse_time()` counts in (its `is_sec` argument).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeIn {
    /// Milliseconds (`ngx_conf_set_msec_slot`): `ms` allowed; `y` and `M`
    /// refused (the parse starts past them).
    Millis,
    /// Seconds (`ngx_conf_set_sec_slot`, `fail_timeout=`): `ms` refused.
    Seconds,
}

/// A time as `ngx_parse_time()` reads it: numbers each followed by a unit,
/// units strictly from largest to smallest (`1h30m`, not `30m1h`), spaces
/// between parts, a bare trailing number in seconds, and no overflow of a
/// 64-bit signed count of the unit.
pub fn ngx_time(s: &str, unit: TimeIn) -> Option<Duration> {
    let is_sec = unit == TimeIn::Seconds;
    let b = s.as_bytes();
    // nginx's steps: start 0, y 1, M 2, w 3, d 4, h 5, m 6, s 7, ms 8,
    // bare number before a space 9. The msec reading starts at M.
    let mut step: u8 = if is_sec { 0 } else { 2 };
    let (mut value, mut total, mut valid) = (0i64, 0i64, false);
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        i += 1;
        if c.is_ascii_digit() {
            value = value.checked_mul(10)?.checked_add(i64::from(c - b'0'))?;
            valid = true;
            continue;
        }
        // (step it moves to, refused when the current step is at least
        // this, seconds per unit)
        let (next, guard, secs): (u8, u8, i64) = match c {
            b'y' => (1, 1, 31_536_000),
            b'M' => (2, 2, 2_592_000),
            b'w' => (3, 3, 604_800),
            b'd' => (4, 4, 86_400),
            b'h' => (5, 5, 3_600),
            b'm' if b.get(i) == Some(&b's') => {
                if is_sec {
                    return None;
                }
                i += 1;
                (8, 8, 0)
            }
            b'm' => (6, 6, 60),
            b's' => (7, 7, 1),
            b' ' => (9, 7, 1),
            _ => return None,
        };
        if step >= guard {
            return None;
        }
        step = next;
        let scaled = match (next, is_sec) {
            (8, _) => value,
            (_, true) => value.checked_mul(secs)?,
            (_, false) => value.checked_mul(secs)?.checked_mul(1000)?,
        };
        total = total.checked_add(scaled)?;
        value = 0;
        while b.get(i) == Some(&b' ') {
            i += 1;
        }
    }
    if !valid {
        return None;
    }
    let last = if is_sec {
        value
    } else {
        value.checked_mul(1000)?
    };
    let total = u64::try_from(total.checked_add(last)?).ok()?;
    Some(if is_sec {
        Duration::from_secs(total)
    } else {
        Duration::from_millis(total)
    })
}

/// A size as `ngx_parse_size()` reads it (`ngx_conf_set_size_slot`):
/// digits with an optional `k`/`K` or `m`/`M`; `g` is refused.
pub fn ngx_size(s: &str) -> Option<u64> {
    match s.as_bytes().last()? {
        b'g' | b'G' => None,
        _ => parse_size(s).filter(|&n| i64::try_from(n).is_ok()),
    }
}

/// A size as `ngx_parse_offset()` reads it (`ngx_conf_set_off_slot`):
/// digits with an optional `k`, `m` or `g` (any case).
pub fn ngx_offset(s: &str) -> Option<u64> {
    parse_size(s).filter(|&n| i64::try_from(n).is_ok())
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
    fn nginx_times() {
        let ms = |s| ngx_time(s, TimeIn::Millis).map(|d| d.as_millis());
        let sec = |s| ngx_time(s, TimeIn::Seconds).map(|d| d.as_secs());
        assert_eq!(ms("30s"), Some(30_000));
        assert_eq!(ms("500ms"), Some(500));
        assert_eq!(ms("60"), Some(60_000));
        assert_eq!(ms("1h 30m"), Some(5_400_000));
        assert_eq!(ms("1d1h1m1s1ms"), Some(90_061_001));
        // units out of order, repeated, or outside the reading's range
        for bad in ["30m1h", "1s1s", "1y", "1M", "30sec", "", "s", "-1s", "1x"] {
            assert_eq!(ms(bad), None, "{bad}");
        }
        assert_eq!(sec("1y"), Some(31_536_000));
        assert_eq!(sec("2M1w"), Some(2 * 2_592_000 + 604_800));
        assert_eq!(sec("10"), Some(10));
        assert_eq!(sec("500ms"), None);
        assert_eq!(ms("99999999999999999999"), None);
    }

    #[test]
    fn nginx_sizes() {
        assert_eq!(ngx_size("16k"), Some(16 * 1024));
        assert_eq!(ngx_size("1M"), Some(1 << 20));
        assert_eq!(ngx_size("1g"), None);
        assert_eq!(ngx_offset("1g"), Some(1 << 30));
        assert_eq!(ngx_offset("-1"), None);
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
