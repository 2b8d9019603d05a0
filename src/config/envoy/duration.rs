//! `google.protobuf.Duration` as Envoy's YAML/JSON loader reads it: the
//! protobuf JSON mapping's `"1.5s"` / `"0.250s"` / `"-2s"` strings (up to
//! nine fractional digits, `s` required; `{seconds, nanos}` objects are
//! read by the [`parse`](mod@super::parse) reader).

use std::fmt;

/// A `google.protobuf.Duration`: seconds and nanoseconds of the same sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration {
    /// Whole seconds.
    pub seconds: i64,
    /// Nanoseconds, `-999_999_999..=999_999_999`, same sign as `seconds`.
    pub nanos: i32,
}

/// Largest magnitude protobuf allows for a Duration, in seconds (10 000
/// years).
pub(crate) const MAX_DURATION_SECONDS: i64 = 315_576_000_000;

impl Duration {
    /// A duration of whole seconds.
    pub const fn from_secs(seconds: i64) -> Self {
        Duration { seconds, nanos: 0 }
    }

    /// A duration of whole milliseconds.
    pub const fn from_millis(ms: i64) -> Self {
        Duration {
            seconds: ms / 1000,
            nanos: ((ms % 1000) * 1_000_000) as i32,
        }
    }

    /// The value in (fractional) seconds.
    pub fn as_secs_f64(&self) -> f64 {
        self.seconds as f64 + self.nanos as f64 / 1e9
    }

    /// The value in whole milliseconds (truncated).
    pub fn as_millis(&self) -> i64 {
        self.seconds * 1000 + (self.nanos / 1_000_000) as i64
    }

    /// True for exactly zero.
    pub fn is_zero(&self) -> bool {
        self.seconds == 0 && self.nanos == 0
    }

    /// True when strictly greater than zero.
    pub fn is_positive(&self) -> bool {
        self.seconds > 0 || (self.seconds == 0 && self.nanos > 0)
    }
}

impl fmt::Display for Duration {
    /// Protobuf JSON form: `5s`, `0.250s`, `-1.5s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let neg = self.seconds < 0 || self.nanos < 0;
        let secs = self.seconds.unsigned_abs();
        let nanos = self.nanos.unsigned_abs();
        let sign = if neg { "-" } else { "" };
        if nanos == 0 {
            write!(f, "{sign}{secs}s")
        } else if nanos % 1_000_000 == 0 {
            write!(f, "{sign}{secs}.{:03}s", nanos / 1_000_000)
        } else if nanos % 1_000 == 0 {
            write!(f, "{sign}{secs}.{:06}s", nanos / 1_000)
        } else {
            write!(f, "{sign}{secs}.{nanos:09}s")
        }
    }
}

/// Parse a protobuf JSON duration string (`"5s"`, `"0.250s"`, `"-1.5s"`).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let body = text.strip_suffix('s').ok_or_else(|| {
        format!("'{text}' has no 's' suffix (protobuf durations look like \"5s\" or \"0.250s\")")
    })?;
    let (neg, body) = match body.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, body),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || !(frac.is_empty() || digits(frac)) || body.ends_with('.') {
        return Err(format!(
            "'{text}' is not a duration like \"5s\" or \"0.250s\""
        ));
    }
    if frac.len() > 9 {
        return Err(format!("'{text}' has more than 9 fractional digits"));
    }
    let seconds: i64 = int
        .parse()
        .ok()
        .filter(|s| *s <= MAX_DURATION_SECONDS)
        .ok_or_else(|| format!("'{text}' is out of range"))?;
    let nanos: i32 = if frac.is_empty() {
        0
    } else {
        let n: i32 = frac.parse().map_err(|_| format!("'{text}' is malformed"))?;
        n * 10i32.pow(9 - frac.len() as u32)
    };
    Ok(if neg {
        Duration {
            seconds: -seconds,
            nanos: -nanos,
        }
    } else {
        Duration { seconds, nanos }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        let table: &[(&str, i64, i32)] = &[
            ("5s", 5, 0),
            ("0s", 0, 0),
            ("1.5s", 1, 500_000_000),
            ("0.250s", 0, 250_000_000),
            ("0.000000001s", 0, 1),
            ("-2s", -2, 0),
            ("-0.5s", 0, -500_000_000),
            ("315576000000s", 315_576_000_000, 0),
        ];
        for &(text, seconds, nanos) in table {
            assert_eq!(
                parse_duration(text),
                Ok(Duration { seconds, nanos }),
                "{text}"
            );
        }
        for bad in [
            "",
            "5",
            "5ms",
            "s",
            "1.s",
            ".5s",
            "1.5.5s",
            "1,5s",
            "+1s",
            "1e3s",
            "0.0000000001s",
            "315576000001s",
            " 5s",
            "5 s",
            "--1s",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        let e = parse_duration("5").unwrap_err();
        assert!(e.contains("no 's' suffix"), "{e}");
    }

    #[test]
    fn duration_display_roundtrips() {
        for text in [
            "5s",
            "0s",
            "1.500s",
            "0.250s",
            "0.000001s",
            "0.000000001s",
            "-1.500s",
        ] {
            let d = parse_duration(text).unwrap();
            assert_eq!(d.to_string(), text);
            assert_eq!(parse_duration(&d.to_string()), Ok(d));
        }
        assert_eq!(Duration::from_millis(2500).to_string(), "2.500s");
        assert_eq!(parse_duration("1.5s").unwrap().as_millis(), 1500);
        assert!(parse_duration("0.001s").unwrap().is_positive());
        assert!(!parse_duration("-0.001s").unwrap().is_positive());
    }
}
