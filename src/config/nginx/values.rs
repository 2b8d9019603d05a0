//! The types of nginx directive arguments the model reads as values, and
//! how nginx reads each type.
//!
//! One table ([`VALUES`]) says which argument of which directive is a time,
//! a size, a number or a flag; lowering uses it to give each such argument
//! its typed [`Value`] (so rules compare numbers and never parse text) and
//! to report the ones nginx would refuse (NGX-VAL-001). How each type is
//! read follows nginx's `ngx_conf_set_*_slot` handlers
//! (src/core/ngx_conf_file.c): `ngx_conf_set_msec_slot` /
//! `ngx_conf_set_sec_slot` → [`parse_time`], `ngx_conf_set_size_slot` /
//! `ngx_conf_set_off_slot` → [`parse_size`], `ngx_conf_set_num_slot` →
//! `ngx_atoi` (digits only, no sign), `ngx_conf_set_flag_slot` → `on` /
//! `off` compared case-insensitively (`ngx_strcasecmp`).

use crate::config::model::{Arg, Value, ValueKind};

use super::units::{parse_size, parse_time};

use ValueKind::{Count, Flag, Size, Time};

/// Where in a directive's arguments its typed values sit.
#[derive(Debug, Clone, Copy)]
pub enum Shape {
    /// The arguments at these positions (`proxy_buffers number size`).
    At(&'static [ValueKind]),
    /// The last argument is a time in seconds (`proxy_cache_valid [code …]
    /// time`: `ngx_parse_time(…, 1)`, which refuses `ms`).
    LastSeconds,
    /// `error_page code … [=[response]] uri`: each code, and the response
    /// code after `=`, are numbers.
    ErrorPage,
    /// `number size`, as `ngx_conf_set_bufs_slot` reads it (`proxy_buffers
    /// 8 4k`): a count above 0 and a size.
    Bufs,
}

/// What lowering checks of a directive's value (NGX-VAL-001).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// The first argument is a valid value of this type.
    First(ValueKind),
    /// The arguments are `number size` ([`Shape::Bufs`]).
    Bufs,
}

/// Directives whose arguments the model types, with the flag set where
/// lowering reports a value nginx refuses (NGX-VAL-001, see [`check`]). Arguments
/// containing a variable (`$`) are neither typed nor refused.
#[rustfmt::skip]
pub static VALUES: &[(&str, Shape, bool)] = &[
    // ngx_http_proxy_module
    ("proxy_buffer_size", Shape::At(&[Size]), true),
    ("proxy_buffering", Shape::At(&[Flag]), true),
    ("proxy_buffers", Shape::Bufs, true),
    ("proxy_busy_buffers_size", Shape::At(&[Size]), true),
    ("proxy_cache_lock_timeout", Shape::At(&[Time]), true),
    ("proxy_cache_valid", Shape::LastSeconds, false),
    ("proxy_connect_timeout", Shape::At(&[Time]), true),
    ("proxy_intercept_errors", Shape::At(&[Flag]), true),
    ("proxy_max_temp_file_size", Shape::At(&[Size]), true),
    ("proxy_next_upstream_timeout", Shape::At(&[Time]), true),
    ("proxy_next_upstream_tries", Shape::At(&[Count]), false),
    ("proxy_read_timeout", Shape::At(&[Time]), true),
    ("proxy_send_timeout", Shape::At(&[Time]), true),
    ("proxy_ssl_server_name", Shape::At(&[Flag]), true),
    ("proxy_ssl_verify", Shape::At(&[Flag]), true),
    ("proxy_temp_file_write_size", Shape::At(&[Size]), true),
    // ngx_http_core_module
    ("client_body_buffer_size", Shape::At(&[Size]), true),
    ("client_body_timeout", Shape::At(&[Time]), true),
    ("client_header_buffer_size", Shape::At(&[Size]), true),
    ("client_header_timeout", Shape::At(&[Time]), true),
    ("client_max_body_size", Shape::At(&[Size]), true),
    ("error_page", Shape::ErrorPage, false),
    // http: `keepalive_timeout timeout [header_timeout]`; upstream: one time.
    ("keepalive_timeout", Shape::At(&[Time, Time]), true),
    ("large_client_header_buffers", Shape::Bufs, true),
    ("lingering_timeout", Shape::At(&[Time]), true),
    ("resolver_timeout", Shape::At(&[Time]), true),
    ("send_timeout", Shape::At(&[Time]), true),
    // ngx_http_upstream_keepalive_module
    ("keepalive", Shape::At(&[Count]), false),
    // core and events
    ("worker_connections", Shape::At(&[Count]), false),
    ("worker_rlimit_nofile", Shape::At(&[Count]), false),
];

fn entry(name: &str) -> Option<&'static (&'static str, Shape, bool)> {
    VALUES.iter().find(|(n, _, _)| *n == name)
}

/// What lowering checks of directive `name`'s value, if anything.
pub fn check(name: &str) -> Option<Check> {
    match entry(name)? {
        (_, Shape::At(kinds), true) => kinds.first().map(|&k| Check::First(k)),
        (_, Shape::Bufs, true) => Some(Check::Bufs),
        _ => None,
    }
}

/// `args` are `number size` with a number above 0 (`ngx_conf_set_bufs_slot`).
pub fn bufs_ok(args: &[Arg]) -> bool {
    match args {
        [n, size] => {
            read(Count, &n.value).is_some_and(|v| v != Value::Count(0))
                && read(Size, &size.value).is_some()
        }
        _ => false,
    }
}

/// Read `text` as nginx reads a value of `kind`.
pub fn read(kind: ValueKind, text: &str) -> Option<Value> {
    if text.contains('$') {
        return None;
    }
    match kind {
        Time => parse_time(text).map(Value::Time),
        Size => parse_size(text).map(Value::Size),
        Count => atoi(text).map(Value::Count),
        Flag => {
            if text.eq_ignore_ascii_case("on") {
                Some(Value::Flag(true))
            } else if text.eq_ignore_ascii_case("off") {
                Some(Value::Flag(false))
            } else {
                None
            }
        }
    }
}

/// A time nginx reads in whole seconds (`ngx_parse_time(value, 1)`:
/// the `ms` unit is an error there).
pub fn read_seconds(text: &str) -> Option<Value> {
    if text.contains("ms") {
        return None;
    }
    read(Time, text)
}

/// `ngx_atoi`: one or more ASCII digits, nothing else.
fn atoi(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// `args` of directive `name`, each with its typed value where [`VALUES`]
/// gives one and the text is a valid value of that type.
pub fn typed(name: &str, args: &[Arg]) -> Vec<Arg> {
    let mut out = args.to_vec();
    let Some((_, shape, _)) = entry(name) else {
        return out;
    };
    let shape = match *shape {
        Shape::Bufs => Shape::At(&[Count, Size]),
        s => s,
    };
    match shape {
        Shape::Bufs => {}
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
    out
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
        assert_eq!(check("proxy_buffers"), Some(Check::Bufs));
        assert_eq!(check("proxy_read_timeout"), Some(Check::First(Time)));
        assert!(bufs_ok(&args(&["8", "4k"])));
        for bad in [&["0", "4k"][..], &["8"], &["+8", "4k"], &["8", "4x"]] {
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
}
