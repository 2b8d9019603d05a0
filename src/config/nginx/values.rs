//! The types of nginx directive arguments the model reads as values, and
//! how nginx reads each type.
//!
//! The type of a directive's value comes from the generated directive table
//! ([`Spec::value`](super::grammar::Spec::value), the `set` handler of its
//! `ngx_command_t`): lowering uses it to give each argument its typed
//! [`Value`] (so rules compare numbers and never parse text) and to report
//! the values nginx would refuse (NGX-VAL-001, [`problem`]). Directives read
//! by a module's own handler (`Type::Custom`) are typed by the small
//! hand-written [`CUSTOM`] table, each entry citing the handler.
//!
//! How each type is read follows nginx's `ngx_conf_set_*_slot` handlers
//! (src/core/ngx_conf_file.c): `msec`/`sec` → [`ngx_time`], `size` →
//! [`ngx_size`] (no `g`), `off` → [`ngx_offset`], `num` → `ngx_atoi`
//! (digits only, no sign), `flag` → `on` / `off` and `enum` / `bitmask` →
//! their names, all compared case-insensitively (`ngx_strcasecmp`).

use crate::config::model::{Arg, Value, ValueKind};
use crate::source::Span;

use super::grammar::{self, Type};
use super::units::{ngx_offset, ngx_size, ngx_time, TimeIn};

use ValueKind::{Count, Flag, Size, Time};

/// Where in a directive's arguments its typed values sit.
#[derive(Debug, Clone, Copy)]
pub enum Shape {
    /// The arguments at these positions (times in milliseconds).
    At(&'static [ValueKind]),
    /// The last argument is a time in seconds (`proxy_cache_valid [code …]
    /// time`: `ngx_parse_time(…, 1)`, which refuses `ms`).
    LastSeconds,
    /// `error_page code … [=[response]] uri`: each code, and the response
    /// code after `=`, are numbers.
    ErrorPage,
}

/// Directives read by their module's own handler whose arguments the model
/// types, with the flag set where lowering reports the first argument when
/// nginx refuses it (NGX-VAL-001). Arguments containing a variable (`$`)
/// are neither typed nor refused.
#[rustfmt::skip]
pub static CUSTOM: &[(&str, Shape, bool)] = &[
    // ngx_http_file_cache_valid_set_slot: ngx_parse_time(…, 1).
    ("proxy_cache_valid", Shape::LastSeconds, false),
    // ngx_http_core_error_page: ngx_atoi on each code.
    ("error_page", Shape::ErrorPage, false),
    // http: ngx_http_core_keepalive, `timeout [header_timeout]`, both with
    // ngx_parse_time; upstream: ngx_conf_set_msec_slot.
    ("keepalive_timeout", Shape::At(&[Time, Time]), true),
    // ngx_http_upstream_keepalive: ngx_atoi.
    ("keepalive", Shape::At(&[Count]), false),
    // ngx_event_connections: ngx_atoi ("invalid number").
    ("worker_connections", Shape::At(&[Count]), false),
];

fn custom(name: &str) -> Option<&'static (&'static str, Shape, bool)> {
    CUSTOM.iter().find(|(n, _, _)| *n == name)
}

/// The one value type every module's definition of `name` agrees on
/// (`None` when unknown or when they differ).
pub fn table_type(name: &str) -> Option<Type> {
    let specs = grammar::lookup(name);
    let first = specs.first()?.value;
    specs.iter().all(|s| s.value == first).then_some(first)
}

/// `args` are `number size` with both above 0 (`ngx_conf_set_bufs_slot`:
/// `ngx_atoi` and `ngx_parse_size`).
pub fn bufs_ok(args: &[Arg]) -> bool {
    match args {
        [n, size] => {
            read_type(Type::Number, &n.value).is_some_and(|v| v != Value::Count(0))
                && read_type(Type::Size, &size.value).is_some_and(|v| v != Value::Size(0))
        }
        _ => false,
    }
}

/// Read `text` as nginx reads a value of type `t` (`None` for the types
/// that carry no number: text, enums, bitmasks, custom; and for a value
/// with a variable, which nginx does not expand there).
pub fn read_type(t: Type, text: &str) -> Option<Value> {
    if text.contains('$') {
        return None;
    }
    match t {
        Type::Time => ngx_time(text, TimeIn::Millis).map(Value::Time),
        Type::Seconds => ngx_time(text, TimeIn::Seconds).map(Value::Time),
        Type::Size => ngx_size(text).map(Value::Size),
        Type::Offset => ngx_offset(text).map(Value::Size),
        Type::Number => atoi(text).map(Value::Count),
        Type::Flag => {
            if text.eq_ignore_ascii_case("on") {
                Some(Value::Flag(true))
            } else if text.eq_ignore_ascii_case("off") {
                Some(Value::Flag(false))
            } else {
                None
            }
        }
        Type::Bufs | Type::Text | Type::Enum(_) | Type::Bitmask(_) | Type::Custom => None,
    }
}

/// Read `text` as nginx reads a value of `kind` (times in milliseconds).
pub fn read(kind: ValueKind, text: &str) -> Option<Value> {
    read_type(
        match kind {
            Time => Type::Time,
            Size => Type::Size,
            Count => Type::Number,
            Flag => Type::Flag,
        },
        text,
    )
}

/// A time nginx reads in whole seconds (`ngx_parse_time(value, 1)`:
/// the `ms` unit is an error there).
pub fn read_seconds(text: &str) -> Option<Value> {
    read_type(Type::Seconds, text)
}

/// `ngx_atoi`: one or more ASCII digits, nothing else.
fn atoi(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse()
        .ok()
        .filter(|&n: &u64| i64::try_from(n).is_ok())
}

/// What nginx refuses in a directive's arguments given its type: the span,
/// the problem and the fix, for NGX-VAL-001. `None` when the value is fine,
/// when the type is not checked, or when a time/size/number holds a
/// variable (a template; nginx itself does not expand it there, but the
/// file is then not the one nginx reads).
pub fn problem(t: Type, args: &[Arg], at: Span) -> Option<(Span, String, String)> {
    let first = args.first();
    let scalar = |a: &Arg, what: &str, help: &str| {
        (read_type(t, &a.value).is_none() && !a.value.contains('$')).then(|| {
            (
                a.span,
                format!("\"{}\" is not {what}", a.value),
                help.to_string(),
            )
        })
    };
    match t {
        Type::Time => scalar(
            first?,
            "a time",
            "use a number with a unit: ms, s, m, h, d, w, largest first (e.g. `30s`, `1m30s`)",
        ),
        Type::Seconds => scalar(
            first?,
            "a time in seconds",
            "use s, m, h, d, w, M or y, largest first (nginx refuses ms here), e.g. `10s`",
        ),
        Type::Size => scalar(
            first?,
            "a size",
            "use a number with an optional k or m suffix (e.g. `16k`; nginx refuses g here)",
        ),
        Type::Offset => scalar(
            first?,
            "a size",
            "use a number with an optional k, m or g suffix (e.g. `16k`)",
        ),
        Type::Number => scalar(first?, "a number", "use a whole number, e.g. `8`"),
        // ngx_conf_set_flag_slot compares the text with on/off and expands
        // no variables (`$x` is refused by nginx -t too). nginx -t:
        // `invalid value "yes" in "proxy_ssl_verify" directive, it must be
        // "on" or "off"`.
        Type::Flag => {
            let a = first?;
            read_type(t, &a.value).is_none().then(|| {
                (
                    a.span,
                    format!(
                        "\"{}\" is not a flag: nginx accepts only on or off",
                        a.value
                    ),
                    "write `on` or `off`".to_string(),
                )
            })
        }
        // ngx_conf_set_enum_slot / _bitmask_slot: `invalid value "x"`.
        Type::Enum([]) | Type::Bitmask([]) => None,
        Type::Enum(names) | Type::Bitmask(names) => {
            let take = if matches!(t, Type::Enum(_)) {
                1
            } else {
                args.len()
            };
            let bad = args
                .iter()
                .take(take)
                .find(|a| !names.iter().any(|n| n.eq_ignore_ascii_case(&a.value)))?;
            Some((
                bad.span,
                format!("\"{}\" is not one of {}", bad.value, names.join(", ")),
                format!("write one of: {}", names.join(", ")),
            ))
        }
        Type::Bufs => (!bufs_ok(args)).then(|| {
            let text: Vec<&str> = args.iter().map(|a| a.value.as_str()).collect();
            (
                first.map_or(at, |a| a.span),
                format!("\"{}\" is not of the form `number size`", text.join(" ")),
                "write a count and a size, e.g. `8 16k`".to_string(),
            )
        }),
        Type::Text | Type::Custom => None,
    }
}

/// What lowering checks of directive `name` when its handler is its
/// module's own ([`CUSTOM`] entries with the check flag): the type of the
/// first argument.
pub fn custom_check(name: &str) -> Option<Type> {
    match custom(name)? {
        (_, Shape::At(kinds), true) => kinds.first().map(|&k| match k {
            Time => Type::Time,
            Size => Type::Size,
            Count => Type::Number,
            Flag => Type::Flag,
        }),
        _ => None,
    }
}

/// `args` of directive `name`, each with its typed value where the
/// directive table (or [`CUSTOM`]) gives one and the text is a valid value
/// of that type.
pub fn typed(name: &str, args: &[Arg]) -> Vec<Arg> {
    let mut out = args.to_vec();
    type_in_place(name, &mut out);
    out
}

/// [`typed`] in place: set each of `args`' typed value (the tree's
/// arguments are typed once and shared by every scope that sees them).
pub fn type_in_place(name: &str, out: &mut [Arg]) {
    if let Some((_, shape, _)) = custom(name) {
        match *shape {
            Shape::At(kinds) => {
                for (a, &k) in out.iter_mut().zip(kinds) {
                    a.typed = read(k, &a.value);
                }
            }
            Shape::LastSeconds => {
                if let Some(a) = out.last_mut() {
                    a.typed = read_seconds(&a.value);
                }
            }
            Shape::ErrorPage => {
                let n = out.len().saturating_sub(1); // the last one is the URI
                for a in &mut out[..n] {
                    let code = a.value.strip_prefix('=').unwrap_or(&a.value);
                    a.typed = read(Count, code);
                }
            }
        }
        return;
    }
    match table_type(name) {
        Some(Type::Bufs) => {
            if let [n, size] = out {
                n.typed = read_type(Type::Number, &n.value);
                size.typed = read_type(Type::Size, &size.value);
            }
        }
        Some(t) => {
            if let Some(a) = out.first_mut() {
                a.typed = read_type(t, &a.value);
            }
        }
        None => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{FileId, Span};
    use std::time::Duration;

    fn args(v: &[&str]) -> Vec<Arg> {
        let at = Span::new(FileId(0), 0, 0);
        v.iter().map(|s| Arg::text(*s, at, false)).collect()
    }

    fn values(name: &str, v: &[&str]) -> Vec<Option<Value>> {
        typed(name, &args(v)).into_iter().map(|a| a.typed).collect()
    }

    #[test]
    fn types_follow_the_table() {
        assert_eq!(
            values("proxy_buffers", &["8", "16k"]),
            [Some(Value::Count(8)), Some(Value::Size(16 * 1024))]
        );
        assert_eq!(
            values("proxy_read_timeout", &["1m30s"]),
            [Some(Value::Time(Duration::from_secs(90)))]
        );
        assert_eq!(
            values("proxy_cache_valid", &["200", "502", "10m"]),
            [None, None, Some(Value::Time(Duration::from_secs(600)))]
        );
        assert_eq!(values("proxy_cache_valid", &["500ms"]), [None]);
        assert_eq!(
            values("error_page", &["502", "=200", "/x"]),
            [Some(Value::Count(502)), Some(Value::Count(200)), None]
        );
        assert_eq!(
            values("proxy_ssl_verify", &["ON"]),
            [Some(Value::Flag(true))]
        );
        assert_eq!(values("add_header", &["X", "1"]), [None, None]);
        assert_eq!(
            values("client_max_body_size", &["1g"]),
            [Some(Value::Size(1 << 30))]
        );
        // ngx_conf_set_size_slot: ngx_parse_size has no `g`
        assert_eq!(values("client_body_buffer_size", &["1g"]), [None]);
        assert_eq!(table_type("proxy_buffers"), Some(Type::Bufs));
        assert_eq!(table_type("proxy_read_timeout"), Some(Type::Time));
        assert_eq!(custom_check("keepalive_timeout"), Some(Type::Time));
        assert!(bufs_ok(&args(&["8", "4k"])));
        for bad in [
            &["0", "4k"][..],
            &["8"],
            &["+8", "4k"],
            &["8", "4x"],
            &["8", "0"],
        ] {
            assert!(!bufs_ok(&args(bad)), "{bad:?}");
        }
    }

    #[test]
    fn invalid_and_variable_values_stay_untyped() {
        assert_eq!(values("proxy_read_timeout", &["30sec"]), [None]);
        assert_eq!(values("proxy_read_timeout", &["$t"]), [None]);
        assert_eq!(values("worker_connections", &["+5"]), [None]);
        assert_eq!(values("proxy_ssl_verify", &["yes"]), [None]);
        assert_eq!(values("error_page", &["="]), [None]);
    }

    #[test]
    fn problems_by_type() {
        let at = Span::new(FileId(0), 0, 0);
        let p = |t: Type, v: &[&str]| problem(t, &args(v), at).map(|(_, p, _)| p);
        assert_eq!(p(Type::Time, &["30s"]), None);
        assert_eq!(p(Type::Time, &["$t"]), None);
        assert_eq!(
            p(Type::Time, &["1x"]).as_deref(),
            Some("\"1x\" is not a time")
        );
        assert_eq!(
            p(Type::Flag, &["$x"]).as_deref(),
            Some("\"$x\" is not a flag: nginx accepts only on or off")
        );
        let http = Type::Enum(&["1.0", "1.1"]);
        assert_eq!(p(http, &["1.1"]), None);
        assert_eq!(
            p(http, &["1.2"]).as_deref(),
            Some("\"1.2\" is not one of 1.0, 1.1")
        );
        let next = Type::Bitmask(&["error", "timeout"]);
        assert_eq!(p(next, &["ERROR", "timeout"]), None);
        assert!(p(next, &["error", "http_599"]).is_some_and(|m| m.starts_with("\"http_599\"")));
        assert_eq!(p(Type::Text, &["anything"]), None);
    }
}
