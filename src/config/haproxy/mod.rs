//! HAProxy: `haproxy.cfg` text → syntax tree with byte spans ([`parser`]),
//! plus the value helpers every HAProxy reader needs (time and size values,
//! [`parse_time`] and [`parse_size`]).
//!
//! The syntax tree keeps what the file says: sections in order, every line
//! cut into words with HAProxy's quoting and escaping rules (configuration
//! manual §2.2), each word with the span of its raw text. Nothing is resolved
//! in the parser: `defaults` inheritance and `default-server` are resolved
//! by [`resolve`], and [`lower`] builds the normalized model from that.
//! Imports `source` and `config::model` only.

pub mod keywords;
pub mod lower;
pub mod parser;
pub mod refusals;
pub mod resolve;
pub mod spoe;
pub mod unknown;

pub use parser::{
    parse_cfg, Config, HaproxyError, Line, Section, SectionKind, Word, WordFlags, SECTION_KEYWORDS,
};

use std::fmt;

use crate::config::{ConfigError, LoadOptions, Parsed};
use crate::source::{FileId, SourceMap};

/// Parse the `haproxy.cfg` in `file` (already in `sources`) and lower it
/// into the model. Syntax errors are returned with their spans; the model is
/// built from everything that did parse.
pub fn parse(sources: &mut SourceMap, file: FileId, _opts: &LoadOptions) -> Parsed {
    let text = &sources.get(file).text;
    let cfg = parse_cfg(file, text);
    let mut model = lower::lower(&cfg, file);
    refusals::check(&cfg, text, &mut model.invalid);
    unknown::check(&cfg, &mut model.invalid, &mut model.unknown);
    Parsed {
        model: Some(model),
        errors: cfg.errors.into_iter().map(ConfigError::Haproxy).collect(),
    }
}

/// Parse `text` as a standalone `haproxy.cfg` named `name`. For tests,
/// fuzzing and benches.
pub fn parse_str(name: &str, text: &[u8]) -> (SourceMap, Parsed) {
    let mut sources = SourceMap::new();
    let id = sources.add(name, text.to_vec());
    let parsed = parse(&mut sources, id, &LoadOptions::default());
    (sources, parsed)
}

/// A time value from the configuration, in microseconds (the finest unit the
/// manual allows: `us`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimeValue {
    /// The value in microseconds.
    pub micros: u64,
    /// True when the text had no unit, so the keyword's default unit
    /// (milliseconds for timeouts) was applied.
    pub unitless: bool,
}

impl TimeValue {
    /// The value in whole milliseconds, rounded up as HAProxy does for
    /// sub-millisecond values.
    pub fn as_millis(&self) -> u64 {
        self.micros.div_ceil(1000)
    }
}

impl fmt::Display for TimeValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let us = self.micros;
        const UNITS: [(u64, &str); 5] = [
            (86_400_000_000, "d"),
            (3_600_000_000, "h"),
            (60_000_000, "m"),
            (1_000_000, "s"),
            (1_000, "ms"),
        ];
        if us == 0 {
            return f.write_str("0ms");
        }
        for (n, unit) in UNITS {
            if us % n == 0 {
                return write!(f, "{}{}", us / n, unit);
            }
        }
        write!(f, "{us}us")
    }
}

/// Why a time or size value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    /// The text was empty.
    #[error("empty value")]
    Empty,
    /// The text did not start with a digit.
    #[error("'{text}' does not start with a number")]
    NotANumber {
        /// The text as written.
        text: String,
    },
    /// The suffix after the number is not a known unit.
    #[error("unknown unit '{unit}' in '{text}' (expected {expected})")]
    BadUnit {
        /// The text as written.
        text: String,
        /// The suffix that was not recognized.
        unit: String,
        /// The units this kind of value accepts.
        expected: &'static str,
    },
    /// The number does not fit.
    #[error("'{text}' is too large")]
    Overflow {
        /// The text as written.
        text: String,
    },
}

/// The units a time value accepts, as the manual lists them (§2.5).
pub const TIME_UNITS: &str = "us, ms, s, m, h, d";

/// Split `text` into its leading decimal digits and the rest.
fn split_number(text: &str) -> Result<(u64, &str), ValueError> {
    if text.is_empty() {
        return Err(ValueError::Empty);
    }
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return Err(ValueError::NotANumber {
            text: text.to_owned(),
        });
    }
    let n = text[..digits]
        .parse::<u64>()
        .map_err(|_| ValueError::Overflow {
            text: text.to_owned(),
        })?;
    Ok((n, &text[digits..]))
}

/// Parse a HAProxy time value (`30`, `250ms`, `5s`, `2m`, `1h`, `1d`, `100us`)
/// whose unit defaults to milliseconds (manual §2.5).
///
/// HAProxy 2.6 only warns about trailing garbage after a valid unit
/// (`30sec`); this helper refuses it, since the warning says newer versions
/// will.
pub fn parse_time(text: &str) -> Result<TimeValue, ValueError> {
    let (n, unit) = split_number(text)?;
    let mult: u64 = match unit {
        "" | "ms" => 1_000,
        "us" => 1,
        "s" => 1_000_000,
        "m" => 60_000_000,
        "h" => 3_600_000_000,
        "d" => 86_400_000_000,
        _ => {
            return Err(ValueError::BadUnit {
                text: text.to_owned(),
                unit: unit.to_owned(),
                expected: TIME_UNITS,
            })
        }
    };
    let micros = n.checked_mul(mult).ok_or_else(|| ValueError::Overflow {
        text: text.to_owned(),
    })?;
    Ok(TimeValue {
        micros,
        unitless: unit.is_empty(),
    })
}

/// Parse a HAProxy size value in bytes: a number with an optional `k`, `m`
/// or `g` suffix (either case; powers of 1024), as `tune.bufsize` and the
/// other size keywords take it.
pub fn parse_size(text: &str) -> Result<u64, ValueError> {
    let (n, unit) = split_number(text)?;
    let mult: u64 = match unit {
        "" => 1,
        "k" | "K" => 1 << 10,
        "m" | "M" => 1 << 20,
        "g" | "G" => 1 << 30,
        _ => {
            return Err(ValueError::BadUnit {
                text: text.to_owned(),
                unit: unit.to_owned(),
                expected: "k, m, g",
            })
        }
    };
    n.checked_mul(mult).ok_or_else(|| ValueError::Overflow {
        text: text.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_values() {
        let table: &[(&str, u64, bool)] = &[
            ("0", 0, true),
            ("30", 30_000, true),
            ("250ms", 250_000, false),
            ("100us", 100, false),
            ("5s", 5_000_000, false),
            ("2m", 120_000_000, false),
            ("1h", 3_600_000_000, false),
            ("1d", 86_400_000_000, false),
        ];
        for &(text, micros, unitless) in table {
            assert_eq!(
                parse_time(text),
                Ok(TimeValue { micros, unitless }),
                "{text}"
            );
        }
    }

    #[test]
    fn time_errors() {
        assert_eq!(parse_time(""), Err(ValueError::Empty));
        assert!(matches!(
            parse_time("s"),
            Err(ValueError::NotANumber { .. })
        ));
        for bad in ["30sec", "1.5s", "5S", "10 s", "3w", "-1s"] {
            assert!(parse_time(bad).is_err(), "{bad}");
        }
        assert!(matches!(
            parse_time("99999999999999999999"),
            Err(ValueError::Overflow { .. })
        ));
        assert!(matches!(
            parse_time("9999999999999d"),
            Err(ValueError::Overflow { .. })
        ));
        let e = parse_time("30sec").unwrap_err().to_string();
        assert_eq!(
            e,
            "unknown unit 'sec' in '30sec' (expected us, ms, s, m, h, d)"
        );
    }

    #[test]
    fn time_display_and_millis() {
        assert_eq!(parse_time("30").unwrap().to_string(), "30ms");
        assert_eq!(parse_time("90s").unwrap().to_string(), "90s");
        assert_eq!(parse_time("120s").unwrap().to_string(), "2m");
        assert_eq!(parse_time("1500us").unwrap().to_string(), "1500us");
        assert_eq!(parse_time("0").unwrap().to_string(), "0ms");
        assert_eq!(parse_time("1500us").unwrap().as_millis(), 2);
        assert_eq!(parse_time("5s").unwrap().as_millis(), 5000);
    }

    #[test]
    fn size_values() {
        let table: &[(&str, u64)] = &[
            ("16384", 16384),
            ("16k", 16384),
            ("16K", 16384),
            ("1m", 1 << 20),
            ("2G", 2 << 30),
            ("0", 0),
        ];
        for &(text, n) in table {
            assert_eq!(parse_size(text), Ok(n), "{text}");
        }
        for bad in ["", "k", "16kb", "1.5k", "16 k", "1t"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
        assert!(matches!(
            parse_size("99999999999999999g"),
            Err(ValueError::Overflow { .. })
        ));
    }
}
