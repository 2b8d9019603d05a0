//! Typed values of the settings file and of rule options: durations, sizes,
//! counts, versions and severities, each read by serde straight into its
//! type, so a bad value fails the read with the file's line and column
//! (`serde_yaml` and `toml` put the position of the value being read into
//! the error) instead of being ignored later.

use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

use crate::config::nginx::units::{parse_size, parse_time};
use crate::config::Version;

use super::diagnostic::Severity;

/// What a value may be written as, and how text and numbers become `T`.
trait Kind: Sized {
    /// "a time (`30s`, `1m`, or seconds)", for the error message.
    const EXPECTING: &'static str;
    fn from_text(s: &str) -> Option<Self>;
    fn from_u64(n: u64) -> Option<Self>;
    fn from_f64(f: f64) -> Option<Self>;
}

struct KindVisitor<T>(std::marker::PhantomData<T>);

impl<T: Kind> Visitor<'_> for KindVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(T::EXPECTING)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        T::from_text(v).ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        T::from_u64(v).ok_or_else(|| E::invalid_value(de::Unexpected::Unsigned(v), &self))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        u64::try_from(v)
            .ok()
            .and_then(T::from_u64)
            .ok_or_else(|| E::invalid_value(de::Unexpected::Signed(v), &self))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
        T::from_f64(v).ok_or_else(|| E::invalid_value(de::Unexpected::Float(v), &self))
    }
}

fn kind<'de, T: Kind, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
    d.deserialize_any(KindVisitor(std::marker::PhantomData))
}

/// A duration: nginx-style text (`30s`, `1m`, `500ms`) or seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Time(pub Duration);

impl Kind for Time {
    const EXPECTING: &'static str = "a time (`30s`, `1m`, `500ms`, or a number of seconds)";
    fn from_text(s: &str) -> Option<Self> {
        parse_time(s.trim()).map(Time)
    }
    fn from_u64(n: u64) -> Option<Self> {
        Some(Time(Duration::from_secs(n)))
    }
    fn from_f64(f: f64) -> Option<Self> {
        (0.0..1e12)
            .contains(&f)
            .then(|| Time(Duration::from_secs_f64(f)))
    }
}

impl<'de> Deserialize<'de> for Time {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        kind(d)
    }
}

/// A size in bytes: text with an optional `k`/`m`/`g` suffix, or bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Size(pub u64);

impl Kind for Size {
    const EXPECTING: &'static str = "a size (`4k`, `1m`, or a number of bytes)";
    fn from_text(s: &str) -> Option<Self> {
        parse_size(s.trim()).map(Size)
    }
    fn from_u64(n: u64) -> Option<Self> {
        Some(Size(n))
    }
    fn from_f64(_: f64) -> Option<Self> {
        None
    }
}

impl<'de> Deserialize<'de> for Size {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        kind(d)
    }
}

/// A whole count (`3`, or `"3"` as TOML users often quote it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Count(pub u64);

impl Kind for Count {
    const EXPECTING: &'static str = "a whole number";
    fn from_text(s: &str) -> Option<Self> {
        s.trim().parse().ok().map(Count)
    }
    fn from_u64(n: u64) -> Option<Self> {
        Some(Count(n))
    }
    fn from_f64(_: f64) -> Option<Self> {
        None
    }
}

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        kind(d)
    }
}

/// A proxy version, written as a string: YAML reads an unquoted `1.20` as
/// the number 1.2, so a number is refused rather than misread.
pub(crate) fn version<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Version>, D::Error> {
    struct V;
    impl Visitor<'_> for V {
        type Value = Option<Version>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a quoted version such as \"1.22.1\"")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Version::parse(v)
                .map(Some)
                .ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))
        }
    }
    d.deserialize_any(V)
}

/// A severity override: `error`, `warning`, `info` or `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// The rule does not run.
    Off,
    /// The rule reports at this severity.
    On(Severity),
}

impl<'de> Deserialize<'de> for Level {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Level;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("error, warning, info or off")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Level, E> {
                if v.trim().eq_ignore_ascii_case("off") {
                    return Ok(Level::Off);
                }
                Severity::parse(v)
                    .map(Level::On)
                    .ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))
            }
            // YAML 1.1 readers and hand-written TOML may give `off` as false.
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Level, E> {
                if v {
                    Err(E::invalid_value(de::Unexpected::Bool(v), &self))
                } else {
                    Ok(Level::Off)
                }
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct T {
        t: Option<Time>,
        s: Option<Size>,
        c: Option<Count>,
        l: Option<Level>,
        #[serde(default, deserialize_with = "version")]
        v: Option<Version>,
    }

    fn yaml(s: &str) -> Result<T, String> {
        serde_yaml::from_str(s).map_err(|e| e.to_string())
    }

    #[test]
    fn good_values() {
        let t = yaml("t: 30s\ns: 4k\nc: '3'\nl: warning\nv: '1.22.1'\n").unwrap();
        assert_eq!(t.t, Some(Time(Duration::from_secs(30))));
        assert_eq!(t.s, Some(Size(4096)));
        assert_eq!(t.c, Some(Count(3)));
        assert_eq!(t.l, Some(Level::On(Severity::Warning)));
        assert_eq!(t.v, Some(Version(1, 22, 1)));
        let t = yaml("t: 1.5\ns: 100\nc: 2\nl: off\n").unwrap();
        assert_eq!(t.t, Some(Time(Duration::from_millis(1500))));
        assert_eq!(
            (t.s, t.c, t.l),
            (Some(Size(100)), Some(Count(2)), Some(Level::Off))
        );
    }

    #[test]
    fn bad_values_name_the_line() {
        for (text, what) in [
            ("c: 1\nt: 30sec\n", "a time"),
            ("c: 1\ns: big\n", "a size"),
            ("c: 1\nt: -3\n", "a time"),
            ("c: 1\nl: loud\n", "error, warning, info or off"),
            ("c: 1\nv: 1.20\n", "quoted version"),
            ("t: 1s\nc: 2.5\n", "whole number"),
        ] {
            let e = yaml(text).unwrap_err();
            assert!(e.contains(what) && e.contains("line 2"), "{text:?}: {e}");
        }
    }
}
