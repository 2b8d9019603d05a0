//! `%START_TIME(FORMAT)%`: the strftime pattern an Envoy format may give its
//! start time, compiled once and read back from each line.
//!
//! Facts (Envoy's `docs/root/configuration/observability/access_log/usage.rst`,
//! "START_TIME"): the pattern is strftime's, written in UTC, plus two Envoy
//! specifiers: `%s`, the seconds since the epoch, and `%f` / `%1f`…`%9f`,
//! the fraction of the second with that many digits (`%f` alone: 9). The
//! documented examples are `%START_TIME(%Y/%m/%dT%H:%M:%S%z %s)%` and
//! `%START_TIME(%s.%3f)%` (`1527590590.528`).
//!
//! A pattern with a specifier not read here (`%A`, `%p`, `%j` …) compiles to
//! `None`: the line still parses, without a time, rather than a wrong one.
//!
//! Imports only `logs::scan`.

use super::scan::{days_from_civil, month, LogTime};

/// One piece of a compiled pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    /// Text that must be there as written.
    Lit(Vec<u8>),
    /// `%Y`: the year, 4 digits.
    Year,
    /// `%m`: month 01–12.
    Month,
    /// `%b` / `%h`: `Jan`…`Dec`.
    MonthName,
    /// `%d` / `%e`: day of month (`%e` space-padded).
    Day,
    /// `%H`: hour 00–23.
    Hour,
    /// `%M`: minute.
    Minute,
    /// `%S`: second.
    Second,
    /// `%s`: seconds since the epoch.
    Epoch,
    /// `%f` / `%Nf`: fraction of a second, that many digits (9 for `%f`).
    Frac(usize),
    /// `%z`: `+0000`.
    Offset,
    /// `%Z`: a zone name; Envoy writes UTC, so only `UTC`/`GMT` are read.
    ZoneName,
}

/// A compiled `%START_TIME(...)%` pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartTimeFormat {
    toks: Vec<Tok>,
}

impl StartTimeFormat {
    /// Compile a strftime pattern; `None` when it holds a specifier this
    /// reader does not know, or nothing that tells the time.
    pub fn compile(pattern: &str) -> Option<StartTimeFormat> {
        let b = pattern.as_bytes();
        let mut toks: Vec<Tok> = Vec::new();
        let mut lit: Vec<u8> = Vec::new();
        let mut i = 0;
        let push = |toks: &mut Vec<Tok>, lit: &mut Vec<u8>, t: Tok| {
            if !lit.is_empty() {
                toks.push(Tok::Lit(std::mem::take(lit)));
            }
            toks.push(t);
        };
        while i < b.len() {
            if b[i] != b'%' {
                lit.push(b[i]);
                i += 1;
                continue;
            }
            let c = *b.get(i + 1)?;
            i += 2;
            match c {
                b'%' => lit.push(b'%'),
                b'Y' => push(&mut toks, &mut lit, Tok::Year),
                b'm' => push(&mut toks, &mut lit, Tok::Month),
                b'b' | b'h' => push(&mut toks, &mut lit, Tok::MonthName),
                b'd' | b'e' => push(&mut toks, &mut lit, Tok::Day),
                b'H' => push(&mut toks, &mut lit, Tok::Hour),
                b'M' => push(&mut toks, &mut lit, Tok::Minute),
                b'S' => push(&mut toks, &mut lit, Tok::Second),
                b's' => push(&mut toks, &mut lit, Tok::Epoch),
                b'f' => push(&mut toks, &mut lit, Tok::Frac(9)),
                b'z' => push(&mut toks, &mut lit, Tok::Offset),
                b'Z' => push(&mut toks, &mut lit, Tok::ZoneName),
                b'T' => {
                    for t in [Tok::Hour, Tok::Minute, Tok::Second] {
                        if t != Tok::Hour {
                            lit.push(b':');
                        }
                        push(&mut toks, &mut lit, t);
                    }
                }
                b'F' => {
                    for t in [Tok::Year, Tok::Month, Tok::Day] {
                        if t != Tok::Year {
                            lit.push(b'-');
                        }
                        push(&mut toks, &mut lit, t);
                    }
                }
                b'1'..=b'9' if b.get(i) == Some(&b'f') => {
                    push(&mut toks, &mut lit, Tok::Frac((c - b'0') as usize));
                    i += 1;
                }
                _ => return None,
            }
        }
        if !lit.is_empty() {
            toks.push(Tok::Lit(lit));
        }
        let dated = [Tok::Year, Tok::Day, Tok::Hour, Tok::Minute, Tok::Second]
            .iter()
            .all(|t| toks.contains(t))
            && (toks.contains(&Tok::Month) || toks.contains(&Tok::MonthName));
        (dated || toks.contains(&Tok::Epoch)).then_some(StartTimeFormat { toks })
    }

    /// Read a value written with this pattern; `None` when it does not fit.
    pub fn parse(&self, v: &[u8]) -> Option<LogTime> {
        let (mut y, mut mo, mut d, mut h, mut mi, mut s) = (1970i64, 1u32, 1u32, 0u32, 0u32, 0u32);
        let (mut epoch, mut ms, mut offset) = (None::<i64>, 0i64, 0i32);
        let mut rest = v;
        for t in &self.toks {
            match t {
                Tok::Lit(l) => rest = rest.strip_prefix(l.as_slice())?,
                Tok::Year => y = digits(&mut rest, 4, 4)? as i64,
                Tok::Month => mo = digits(&mut rest, 1, 2)? as u32,
                Tok::MonthName => {
                    mo = month(rest.get(..3)?)?;
                    rest = &rest[3..];
                }
                Tok::Day => {
                    if let [b' ', r @ ..] = rest {
                        rest = r;
                    }
                    d = digits(&mut rest, 1, 2)? as u32;
                }
                Tok::Hour => h = digits(&mut rest, 1, 2)? as u32,
                Tok::Minute => mi = digits(&mut rest, 1, 2)? as u32,
                Tok::Second => s = digits(&mut rest, 1, 2)? as u32,
                Tok::Epoch => epoch = Some(digits(&mut rest, 1, 12)? as i64),
                Tok::Frac(n) => {
                    let start = rest;
                    digits(&mut rest, *n, *n)?;
                    let take = (*n).min(3);
                    let mut v = 0i64;
                    for c in &start[..take] {
                        v = v * 10 + (c - b'0') as i64;
                    }
                    ms = v * [100, 10, 1][take - 1];
                }
                Tok::Offset => {
                    let z = rest.get(..5)?;
                    offset = super::scan::parse_offset(z)?;
                    rest = &rest[5..];
                }
                Tok::ZoneName => {
                    rest = rest
                        .strip_prefix(b"UTC")
                        .or_else(|| rest.strip_prefix(b"GMT"))?;
                }
            }
        }
        if !rest.is_empty() {
            return None;
        }
        let secs = match epoch {
            Some(e) => e,
            None => {
                if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60
                {
                    return None;
                }
                days_from_civil(y, mo, d) * 86400 + (h * 3600 + mi * 60 + s) as i64 - offset as i64
            }
        };
        Some(LogTime {
            utc_ms: secs.checked_mul(1000)?.checked_add(ms)?,
            offset_s: offset,
        })
    }
}

/// Between `min` and `max` ASCII digits from the front of `rest`, consumed.
fn digits(rest: &mut &[u8], min: usize, max: usize) -> Option<u64> {
    let n = rest
        .iter()
        .take(max)
        .take_while(|c| c.is_ascii_digit())
        .count();
    if n < min {
        return None;
    }
    let v = rest[..n]
        .iter()
        .fold(0u64, |a, c| a * 10 + (c - b'0') as u64);
    *rest = &rest[n..];
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(p: &str, v: &str) -> Option<i64> {
        StartTimeFormat::compile(p)?
            .parse(v.as_bytes())
            .map(|t| t.utc_ms)
    }

    #[test]
    fn documented_patterns() {
        // usage.rst: %START_TIME(%s.%3f)% → 1527590590.528
        assert_eq!(at("%s.%3f", "1527590590.528"), Some(1_527_590_590_528));
        assert_eq!(at("%s.%6f", "1527590590.528123"), Some(1_527_590_590_528));
        assert_eq!(
            at("%s.%9f", "1527590590.528123456"),
            Some(1_527_590_590_528)
        );
        assert_eq!(at("%s", "1527590590"), Some(1_527_590_590_000));
        // usage.rst: %START_TIME(%Y/%m/%dT%H:%M:%S%z %s)%
        assert_eq!(
            at(
                "%Y/%m/%dT%H:%M:%S%z %s",
                "2018/05/29T10:43:10+0000 1527590590"
            ),
            Some(1_527_590_590_000)
        );
        assert_eq!(
            at("%Y-%m-%dT%H:%M:%S.%3fZ", "2018-05-29T10:43:10.528Z"),
            Some(1_527_590_590_528)
        );
        assert_eq!(
            at("%d/%b/%Y:%T %z", "29/May/2018:12:43:10 +0200"),
            Some(1_527_590_590_000)
        );
        assert_eq!(at("%F %T", "2018-05-29 10:43:10"), Some(1_527_590_590_000));
    }

    #[test]
    fn what_does_not_fit_is_no_time() {
        assert_eq!(at("%s.%3f", "1527590590"), None);
        assert_eq!(at("%s.%3f", "1527590590.52"), None);
        assert_eq!(at("%s", "-"), None);
        assert_eq!(at("%Y-%m-%d %H:%M:%S", "2018-13-29 10:43:10"), None);
        assert_eq!(
            at("%Y-%m-%d %H:%M:%S", "2018-05-29 10:43:10 trailing"),
            None
        );
        assert_eq!(at("%s", "99999999999999999999"), None);
        // unknown specifiers, or nothing that tells the time
        assert!(StartTimeFormat::compile("%A %s").is_none());
        assert!(StartTimeFormat::compile("%H:%M").is_none());
        assert!(StartTimeFormat::compile("%").is_none());
    }
}
