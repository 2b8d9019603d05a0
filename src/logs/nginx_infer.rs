//! An nginx `log_format` guessed from one line, for access logs in a layout
//! no built-in format and no config describes.
//!
//! * **JSON** (`log_format x escape=json '{"k":"$var",…}'`): nginx writes the
//!   keys in the format's order on every line, so the line itself, with each
//!   value replaced by a variable, *is* the format. Keys are mapped to nginx
//!   variables by name ([`json_key_var`]: the variable names themselves, the
//!   ingress-nginx / Kubernetes names such as `vhost`, `path`, `method`,
//!   `request_proto`, and common aliases such as `@timestamp`); time keys by
//!   the shape of their value (`$time_local`, `$time_iso8601` or `$msec`).
//!   Values written without quotes (`"status":$status`) may be lists
//!   (`0.001, 0.002`): a bare value runs up to the next `,"key":` or the `}`.
//! * **Text**: space-separated fields where the request line (`"GET / HTTP/1.1"`),
//!   the status right after it, a time (`[$time_local]`, `$time_iso8601`,
//!   `$msec`), a client address and `key=value` pairs with known keys
//!   (`rt=`, `ua=`, `us=`, `upstream_status=`…) can be recognised.
//! * **Delimited text**: fields between tabs or `|` (`log_format tsv
//!   '$time_iso8601\t$remote_addr\t$request\t$status…'`; nginx's config
//!   parser turns `\t` in a quoted string into a tab), each field read as
//!   above: a time, the request line (quoted or not: the delimiter ends
//!   it), the first status after it, a client address, `key=value`.
//!
//! The result is compiled like any `log_format`, and detection then checks
//! it against the other sampled lines, so a guess that fits one line only is
//! not taken. [`Inferred::reason`] says which fields were understood, which
//! the 502 analysis misses, and which keys were ignored.

use super::nginx::{Escape, LogFormat};
use super::scan;

/// A format guessed from a line, with what was and was not understood.
#[derive(Debug, Clone)]
pub struct Inferred {
    /// The compiled format.
    pub format: LogFormat,
    /// `key→$variable` for each understood field.
    pub understood: Vec<String>,
    /// Keys (JSON) or fields (text) that were not understood.
    pub ignored: Vec<String>,
    /// Variables the 502 analysis would use that were not found in the layout.
    pub missing: Vec<&'static str>,
}

impl Inferred {
    /// One sentence for the Inputs table and `--verbose`.
    pub fn reason(&self) -> String {
        let kind = match (self.format.source.starts_with('{'), self.format.escape) {
            (true, Escape::Json) => "JSON access log (escape=json)",
            (true, _) => "JSON-like access log (escape=default: \\xXX)",
            _ => "access-log layout",
        };
        let mut s = format!(
            "{kind} read from its first line: understood {}",
            self.understood.join(", ")
        );
        if !self.missing.is_empty() {
            s.push_str(&format!("; not found: {}", self.missing.join(", ")));
        }
        if !self.ignored.is_empty() {
            let n = self.ignored.len();
            let shown: Vec<&str> = self.ignored.iter().take(8).map(|s| s.as_str()).collect();
            s.push_str(&format!(
                "; ignored: {}{}",
                shown.join(", "),
                if n > 8 {
                    format!(" (+{})", n - 8)
                } else {
                    String::new()
                }
            ));
        }
        s
    }
}

/// The variables that matter for explaining 502s, in report order.
const WANTED: &[(&str, &[&str])] = &[
    ("$status", &["status"]),
    ("a time", &["time_local", "time_iso8601", "msec"]),
    ("$remote_addr", &["remote_addr"]),
    ("$request", &["request", "request_uri", "uri"]),
    ("$request_time", &["request_time"]),
    ("$upstream_addr", &["upstream_addr"]),
    ("$upstream_status", &["upstream_status"]),
    ("$upstream_connect_time", &["upstream_connect_time"]),
    ("$upstream_header_time", &["upstream_header_time"]),
    ("$upstream_response_time", &["upstream_response_time"]),
];

/// The nginx variable a JSON key names, when gatecheck reads it. Time keys
/// (`time`, `@timestamp`…) are decided by the shape of their value.
pub fn json_key_var(key: &str) -> Option<&'static str> {
    let k = key.to_ascii_lowercase();
    Some(match k.as_str() {
        "status" | "status_code" | "response_status" | "response_code" | "http_status" => "status",
        "request" | "request_line" => "request",
        "request_uri" | "url" => "request_uri",
        // ingress-nginx's `path` is `$uri`: no query string
        "uri" | "path" | "document_uri" => "uri",
        "method" | "request_method" | "verb" | "http_method" => "request_method",
        "remote_addr" | "realip_remote_addr" | "client_ip" | "client_addr" | "remote_ip"
        | "clientip" | "client" => "remote_addr",
        "server_protocol" | "request_proto" | "protocol" | "http_version" => "server_protocol",
        "host" | "http_host" | "vhost" | "server_name" => "host",
        "request_time" | "request_duration" => "request_time",
        // not a bare `upstream`: often the upstream *name*, which would read
        // as "no live upstreams" (a group name in place of an address)
        "upstream_addr" | "upstream_address" => "upstream_addr",
        "upstream_status" => "upstream_status",
        "upstream_connect_time" => "upstream_connect_time",
        "upstream_header_time" => "upstream_header_time",
        "upstream_response_time" => "upstream_response_time",
        "request_id" | "req_id" | "x_request_id" | "http_x_request_id" | "requestid" => {
            "request_id"
        }
        "connection" => "connection",
        "args" | "query_string" | "request_query" | "query" => "args",
        _ => return None,
    })
}

/// Keys that hold the request time stamp.
fn is_time_key(key: &str) -> bool {
    matches!(
        key.to_ascii_lowercase().as_str(),
        "time_local"
            | "time_iso8601"
            | "msec"
            | "@timestamp"
            | "timestamp"
            | "time"
            | "ts"
            | "date"
            | "datetime"
            | "time_local_iso"
    )
}

/// Which nginx time variable wrote `v`.
fn time_var(v: &[u8]) -> Option<&'static str> {
    if scan::parse_time_local(v).is_some_and(|_| v.len() == 26) {
        Some("time_local")
    } else if v.len() >= 19 && scan::parse_iso8601(v).is_some() {
        Some("time_iso8601")
    } else if is_msec(v) {
        Some("msec")
    } else {
        None
    }
}

/// `$msec`: 10 digits, a dot, 3 digits (seconds since 2001 to 2286).
fn is_msec(v: &[u8]) -> bool {
    v.len() == 14
        && v[10] == b'.'
        && v[..10].iter().all(u8::is_ascii_digit)
        && v[11..].iter().all(u8::is_ascii_digit)
}

/// Builds the format text: literal bytes with `$` doubled into a
/// non-variable, and the variables.
#[derive(Default)]
struct Builder {
    text: String,
    understood: Vec<String>,
    ignored: Vec<String>,
    vars: Vec<&'static str>,
    skips: usize,
}

impl Builder {
    fn lit(&mut self, b: &[u8]) -> Option<()> {
        let s = std::str::from_utf8(b).ok()?;
        // a `$` followed by a name would read as a variable: none in our literals
        if s.contains('$') {
            return None;
        }
        self.text.push_str(s);
        Some(())
    }

    fn var(&mut self, label: &str, var: Option<&'static str>, list: bool) {
        match var {
            Some(v) if !self.vars.contains(&v) => {
                self.understood.push(format!("{label}→${v}"));
                self.vars.push(v);
                self.text.push_str(&format!("${{{v}}}"));
            }
            _ => {
                self.ignored.push(label.to_string());
                self.skips += 1;
                // an unknown name compiles to a skipped field; `upstream_`
                // keeps list-aware splitting for unquoted list values
                let prefix = if list { "upstream_" } else { "" };
                self.text
                    .push_str(&format!("${{{prefix}gatecheck_skip_{}}}", self.skips));
            }
        }
    }

    fn finish(self, escape: Escape) -> Option<Inferred> {
        let has = |names: &[&str]| names.iter().any(|n| self.vars.contains(n));
        if !has(&["status"]) || !has(&["time_local", "time_iso8601", "msec"]) {
            return None;
        }
        let missing = WANTED
            .iter()
            .filter(|(_, names)| !has(names))
            .map(|(label, _)| *label)
            .collect();
        let format = LogFormat::compile("inferred", &self.text, escape).ok()?;
        Some(Inferred {
            format,
            understood: self.understood,
            ignored: self.ignored,
            missing,
        })
    }
}

/// Guess the format of one access-log line (JSON or text); `None` when the
/// line shows no status and no time.
pub fn infer(line: &[u8]) -> Option<Inferred> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let start = line.iter().position(|c| !c.is_ascii_whitespace())?;
    if line[start] == b'{' {
        infer_json(line)
    } else {
        infer_text(line)
            .or_else(|| infer_delimited(line, b'\t'))
            .or_else(|| infer_delimited(line, b'|'))
    }
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// End (index of the closing quote) of a JSON string whose opening quote is at `open`.
fn string_end(b: &[u8], open: usize) -> Option<usize> {
    let mut i = open + 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// A flat JSON object as nginx writes it, values replaced by variables.
fn infer_json(line: &[u8]) -> Option<Inferred> {
    let mut bld = Builder::default();
    let mut i = skip_ws(line, 0);
    // literal text not yet pushed starts at `lit`
    let mut lit = 0;
    if line.get(i) != Some(&b'{') {
        return None;
    }
    i += 1;
    loop {
        i = skip_ws(line, i);
        match line.get(i)? {
            b'}' => break,
            b'"' => {}
            _ => return None,
        }
        let kend = string_end(line, i)?;
        let key = std::str::from_utf8(&line[i + 1..kend]).ok()?.to_string();
        i = skip_ws(line, kend + 1);
        if line.get(i) != Some(&b':') {
            return None;
        }
        i = skip_ws(line, i + 1);
        let (vstart, vend, next) = match line.get(i)? {
            b'"' => {
                let e = string_end(line, i)?;
                (i + 1, e, e + 1)
            }
            b'{' | b'[' => return None,
            _ => {
                // bare: up to `,` + optional space + `"` (the next key), or `}`
                let mut j = i;
                let end = loop {
                    match line.get(j) {
                        None => return None,
                        Some(b'}') => break j,
                        Some(b',') if line.get(skip_ws(line, j + 1)) == Some(&b'"') => break j,
                        _ => j += 1,
                    }
                };
                let mut e = end;
                while e > i && line[e - 1].is_ascii_whitespace() {
                    e -= 1;
                }
                (i, e, e)
            }
        };
        let value = &line[vstart..vend];
        bld.lit(&line[lit..vstart])?;
        let var = if is_time_key(&key) {
            time_var(value)
        } else {
            json_key_var(&key)
        };
        let list = key.to_ascii_lowercase().starts_with("upstream");
        bld.var(&key, var, list);
        lit = vend;
        i = skip_ws(line, next);
        match line.get(i)? {
            b',' => i += 1,
            b'}' => break,
            _ => return None,
        }
    }
    bld.lit(&line[lit..=i])?;
    // a JSON-looking log_format without `escape=json` escapes nginx's way
    // (`\x22`); `\x` is no JSON escape, so its presence tells them apart
    let default_escaped = line
        .windows(4)
        .any(|w| w[0] == b'\\' && w[1] == b'x' && w[2..].iter().all(u8::is_ascii_hexdigit));
    bld.finish(if default_escaped {
        Escape::Default
    } else {
        Escape::Json
    })
}

/// The `key=` names of text layouts, mapped to variables.
fn text_key_var(key: &str) -> Option<&'static str> {
    Some(match key {
        "rt" | "request_time" | "req_time" => "request_time",
        "uct" | "upstream_connect_time" => "upstream_connect_time",
        "uht" | "upstream_header_time" => "upstream_header_time",
        "urt" | "upstream_response_time" => "upstream_response_time",
        "ua" | "upstream_addr" => "upstream_addr",
        "us" | "upstream_status" => "upstream_status",
        "host" | "vhost" | "server_name" => "host",
        "rid" | "request_id" | "req_id" => "request_id",
        "cid" | "connection" => "connection",
        "status" => "status",
        _ => return None,
    })
}

fn is_request(v: &[u8]) -> bool {
    let Ok(s) = std::str::from_utf8(v) else {
        return false;
    };
    let mut parts = s.split(' ');
    let (Some(m), Some(t), Some(p), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    !m.is_empty()
        && m.bytes().all(|c| c.is_ascii_uppercase())
        && !t.is_empty()
        && p.starts_with("HTTP/")
}

fn is_addr(v: &[u8]) -> bool {
    let Ok(s) = std::str::from_utf8(v) else {
        return false;
    };
    s.parse::<std::net::IpAddr>().is_ok()
}

/// The end of a bare value whose first word ends at `word_end`: an
/// unquoted list continues across `, ` and ` : ` (nginx's separators of
/// attempts and of internal redirects in `$upstream_*`).
fn bare_end(line: &[u8], word_end: usize) -> usize {
    let mut e = word_end;
    while e < line.len() && e > 0 && (line[e - 1] == b',' || line[e..].starts_with(b" : ")) {
        let from = if line[e - 1] == b',' { e + 1 } else { e + 3 };
        e = memchr::memchr(b' ', &line[from..]).map_or(line.len(), |k| from + k);
    }
    e
}

/// The value after `at` (spaces skipped): a quoted one without its
/// quotes, or a bare one with its list.
fn next_value(line: &[u8], at: usize) -> Option<&[u8]> {
    let i = skip_ws(line, at);
    match line.get(i)? {
        b'"' => {
            let e = i + 1 + memchr::memchr(b'"', &line[i + 1..])?;
            Some(&line[i + 1..e])
        }
        _ => {
            let w = memchr::memchr(b' ', &line[i..]).map_or(line.len(), |k| i + k);
            Some(&line[i..bare_end(line, w)])
        }
    }
}

/// The items of an nginx `$upstream_*` list (`a, b : c`).
fn list_items(v: &[u8]) -> impl Iterator<Item = &[u8]> {
    v.split(|c| *c == b',' || *c == b' ')
        .filter(|p| !p.is_empty() && *p != b":")
}

/// `$upstream_addr`: `ip:port` or `unix:/path` items, at least one.
fn is_addr_list(v: &[u8]) -> bool {
    let Ok(s) = std::str::from_utf8(v) else {
        return false;
    };
    let mut any = false;
    for item in s.split([',', ' ']).filter(|p| !p.is_empty() && *p != ":") {
        let ok = item.starts_with("unix:") || item.parse::<std::net::SocketAddr>().is_ok();
        if !ok {
            return false;
        }
        any = true;
    }
    any
}

/// `$upstream_status`: status codes (or `-`), at least one code.
fn is_status_list(v: &[u8]) -> bool {
    let mut any = false;
    for item in list_items(v) {
        if item == b"-" {
            continue;
        }
        if scan::parse_status(item).is_none() {
            return false;
        }
        any = true;
    }
    any
}

/// Space-separated text: quoted and bracketed groups, `key=value` pairs, bare words.
fn infer_text(line: &[u8]) -> Option<Inferred> {
    let mut bld = Builder::default();
    let mut lit = 0;
    let mut i = 0;
    let mut seen_request = false;
    let mut n = 0;
    while i < line.len() {
        if line[i] == b' ' {
            i += 1;
            continue;
        }
        n += 1;
        // key=value, key="value"
        let word_end = memchr::memchr(b' ', &line[i..]).map_or(line.len(), |k| i + k);
        let eq = memchr::memchr(b'=', &line[i..word_end]).map(|k| i + k);
        let (key, vstart) = match eq {
            Some(e)
                if e > i
                    && line[i..e]
                        .iter()
                        .all(|c| c.is_ascii_alphanumeric() || *c == b'_') =>
            {
                (std::str::from_utf8(&line[i..e]).ok(), e + 1)
            }
            _ => (None, i),
        };
        let (open, close) = match line.get(vstart) {
            Some(b'"') => (Some(b'"'), b'"'),
            Some(b'[') => (Some(b'['), b']'),
            _ => (None, b' '),
        };
        let (value_start, value_end, next) = match open {
            Some(_) => {
                let s = vstart + 1;
                let e = s + memchr::memchr(close, &line[s..])?;
                (s, e, e + 1)
            }
            None => {
                let e = bare_end(line, word_end);
                (vstart, e, e)
            }
        };
        let value = &line[value_start..value_end];
        let (label, var) = if let Some(k) = key {
            (format!("{k}="), text_key_var(k))
        } else if let Some(t) = time_var(value) {
            ("time".to_string(), Some(t))
        } else if open == Some(b'"') && is_request(value) && !seen_request {
            seen_request = true;
            ("request".to_string(), Some("request"))
        } else if open.is_none()
            && seen_request
            && !bld.vars.contains(&"status")
            && scan::parse_status(value).is_some()
        {
            ("status".to_string(), Some("status"))
        } else if key.is_none()
            && bld.vars.contains(&"status")
            && !bld.vars.contains(&"upstream_addr")
            && is_addr_list(value)
            && next_value(line, next).is_some_and(is_status_list)
        {
            // `"$upstream_addr" $upstream_status` where `main` has
            // `"$http_x_forwarded_for"`: an `ip:port` list followed by a
            // status list (real nginx 1.22: `"127.0.0.1:18771,
            // 127.0.0.1:18772" 502, 502`); an X-Forwarded-For holds no
            // port, and no status follows it
            ("upstream_addr".to_string(), Some("upstream_addr"))
        } else if key.is_none()
            && bld.vars.contains(&"upstream_addr")
            && !bld.vars.contains(&"upstream_status")
            && is_status_list(value)
        {
            ("upstream_status".to_string(), Some("upstream_status"))
        } else if open.is_none() && n <= 2 && is_addr(value) && !bld.vars.contains(&"remote_addr") {
            ("client".to_string(), Some("remote_addr"))
        } else {
            let shown = String::from_utf8_lossy(&value[..value.len().min(24)]).into_owned();
            (format!("field {n} `{shown}`"), None)
        };
        if value_end == value_start && open.is_none() {
            return None;
        }
        bld.lit(&line[lit..value_start])?;
        let list = key.is_some_and(|k| text_key_var(k).is_some_and(|v| v.starts_with("upstream")));
        bld.var(&label, var, list);
        lit = value_end;
        i = next;
    }
    bld.lit(&line[lit..])?;
    if !seen_request || !bld.vars.contains(&"remote_addr") {
        return None;
    }
    bld.finish(Escape::Default)
}

/// Fields between `sep` (a tab or `|`), each a time, the request line, the
/// status, a client address, `key=value` or an ignored field; a field may
/// be quoted or bracketed. At least three separators, the request line, a
/// status after it and a time, or nothing is guessed.
fn infer_delimited(line: &[u8], sep: u8) -> Option<Inferred> {
    if memchr::memchr_iter(sep, line).count() < 3 {
        return None;
    }
    let mut bld = Builder::default();
    let mut lit = 0;
    let mut seen_request = false;
    for (n, field) in line.split(|&c| c == sep).enumerate() {
        let start = field.as_ptr() as usize - line.as_ptr() as usize;
        let eq = memchr::memchr(b'=', field).filter(|&e| {
            e > 0
                && field[..e]
                    .iter()
                    .all(|c| c.is_ascii_alphanumeric() || *c == b'_')
        });
        let key = eq.and_then(|e| std::str::from_utf8(&field[..e]).ok());
        let vstart = eq.map_or(0, |e| e + 1);
        let v = &field[vstart..];
        // a quoted or bracketed value: the quotes stay literals
        let wrapped = v.len() >= 2 && matches!((v[0], v[v.len() - 1]), (b'"', b'"') | (b'[', b']'));
        let (vs, ve) = if wrapped {
            (start + vstart + 1, start + field.len() - 1)
        } else {
            (start + vstart, start + field.len())
        };
        let value = &line[vs..ve];
        let (label, var) = if let Some(k) = key {
            (format!("{k}="), text_key_var(k))
        } else if let Some(t) = time_var(value) {
            ("time".to_string(), Some(t))
        } else if !seen_request && is_request(value) {
            seen_request = true;
            ("request".to_string(), Some("request"))
        } else if seen_request
            && !bld.vars.contains(&"status")
            && value.len() == 3
            && scan::parse_status(value).is_some()
        {
            ("status".to_string(), Some("status"))
        } else if is_addr(value) && !bld.vars.contains(&"remote_addr") {
            ("client".to_string(), Some("remote_addr"))
        } else {
            let shown = String::from_utf8_lossy(&value[..value.len().min(24)]).into_owned();
            (format!("field {} `{shown}`", n + 1), None)
        };
        bld.lit(&line[lit..vs])?;
        let list = key.is_some_and(|k| text_key_var(k).is_some_and(|v| v.starts_with("upstream")));
        bld.var(&label, var, list);
        lit = ve;
    }
    bld.lit(&line[lit..])?;
    if !seen_request {
        return None;
    }
    bld.finish(Escape::Default)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::nginx::TimeCache;

    #[test]
    fn json_keys_map_and_lists_split() {
        let line = br#"{"time":"2026-11-28T12:33:03+05:30","remote_addr":"127.0.0.1","request":"GET /retry HTTP/1.1","status":200,"request_time":0.002,"upstream_addr":"127.0.0.1:1, 127.0.0.1:2","upstream_status":"502, 200","upstream_response_time":"0.000, 0.001","bytes":12,"req_id":"ab\"c"}"#;
        let inf = infer(line).expect("inferred");
        let r = inf.format.parse(line, &mut TimeCache::default()).unwrap();
        assert_eq!(r.status, Some(200));
        assert_eq!(r.upstream.attempts().len(), 2);
        assert_eq!(r.request_id, Some(&br#"ab\"c"#[..]));
        assert_eq!(r.time.unwrap().offset_s, 19800);
        let why = inf.reason();
        assert!(why.contains("status→$status"), "{why}");
        assert!(why.contains("not found: $upstream_connect_time"), "{why}");
        assert!(why.contains("ignored: bytes"), "{why}");
        // unquoted list values in JSON (not valid JSON, but what nginx writes)
        let bare = br#"{"msec":1764313383.123,"status":502,"remote_addr":"1.2.3.4","request":"GET / HTTP/1.1","upstream_status":502, 502,"upstream_addr":"a:1, b:2"}"#;
        let inf = infer(bare).expect("bare");
        let r = inf.format.parse(bare, &mut TimeCache::default()).unwrap();
        assert_eq!(r.upstream.status, Some(&b"502, 502"[..]));
        assert_eq!(r.time.unwrap().utc_ms, 1_764_313_383_123);
    }

    #[test]
    fn text_layouts() {
        let iso =
            br#"127.0.0.1 - - [2026-11-28T12:33:03+05:30] "GET /ok HTTP/1.1" 200 3 "-" "ua/1.0""#;
        let inf = infer(iso).expect("iso");
        let r = inf.format.parse(iso, &mut TimeCache::default()).unwrap();
        assert_eq!((r.status, r.client), (Some(200), Some(&b"127.0.0.1"[..])));
        let msec = br#"1764313383.123 127.0.0.1 "GET /retry HTTP/1.1" 200 3 0.002 "ua" ua="127.0.0.1:1, 127.0.0.1:2" us="502, 200""#;
        let inf = infer(msec).expect("msec");
        let r = inf.format.parse(msec, &mut TimeCache::default()).unwrap();
        assert_eq!(r.upstream.attempts().len(), 2);
        assert!(
            inf.reason().contains("us=→$upstream_status"),
            "{}",
            inf.reason()
        );
        // tab- and pipe-separated, as `log_format tsv '…\t…'` writes
        let tsv = b"2026-11-28T12:33:03+05:30\t127.0.0.1\tGET /retry?x=1 HTTP/1.1\t502\t157\t0.002\t127.0.0.1:1, 127.0.0.1:2\t502, 502";
        let inf = infer(tsv).expect("tsv");
        let r = inf.format.parse(tsv, &mut TimeCache::default()).unwrap();
        assert_eq!((r.status, r.client), (Some(502), Some(&b"127.0.0.1"[..])));
        assert_eq!(r.request, Some(&b"GET /retry?x=1 HTTP/1.1"[..]));
        let why = inf.reason();
        assert!(why.contains("request→$request"), "{why}");
        let pipe = br#"127.0.0.1|[28/Nov/2026:12:33:03 +0530]|"GET /a HTTP/1.1"|504|0|us=504|ua=10.0.0.7:8080"#;
        let inf = infer(pipe).expect("pipe");
        let r = inf.format.parse(pipe, &mut TimeCache::default()).unwrap();
        assert_eq!(r.status, Some(504));
        assert_eq!(r.upstream.status, Some(&b"504"[..]));
        assert_eq!(r.time.unwrap().offset_s, 19800);
        // `"$upstream_addr" $upstream_status` where `main` has
        // `"$http_x_forwarded_for"`: lines real nginx 1.22 wrote (a refused
        // server; two refused servers of one upstream group)
        let one = br#"127.0.0.1 - - [29/Nov/2026:09:04:13 +0000] "GET /one/x HTTP/1.1" 502 157 "-" "curl/7.88.1" "127.0.0.1:18771" 502"#;
        let two = br#"127.0.0.1 - - [29/Nov/2026:09:04:13 +0000] "GET /two/y HTTP/1.1" 502 157 "-" "curl/7.88.1" "127.0.0.1:18771, 127.0.0.1:18772" 502, 502"#;
        for line in [&one[..], &two[..]] {
            let inf = infer(line).expect("addr and status after the user agent");
            let why = inf.reason();
            assert!(why.contains("upstream_addr→$upstream_addr"), "{why}");
            assert!(why.contains("upstream_status→$upstream_status"), "{why}");
            let r = inf.format.parse(line, &mut TimeCache::default()).unwrap();
            assert_eq!(r.status, Some(502));
            assert!(r
                .upstream
                .addr
                .is_some_and(|a| a.starts_with(b"127.0.0.1:18771")));
        }
        let r = infer(two)
            .unwrap()
            .format
            .parse(two, &mut TimeCache::default())
            .unwrap();
        assert_eq!(r.upstream.status, Some(&b"502, 502"[..]));
        assert_eq!(r.upstream.attempts().len(), 2);
        // an X-Forwarded-For (no port, no status after it) stays unread
        let xff = br#"127.0.0.1 - - [29/Nov/2026:09:04:13 +0000] "GET /one/x HTTP/1.1" 502 157 "-" "curl/7.88.1" "203.0.113.7, 10.0.0.1""#;
        let why = infer(xff).expect("main").reason();
        assert!(!why.contains("→$upstream_addr"), "{why}");
        // no request line, or no time: nothing guessed
        assert!(infer(b"a|b|c|d").is_none());
        assert!(infer(b"127.0.0.1|GET / HTTP/1.1|200|5").is_none());
        // not a request log
        assert!(infer(b"hello world").is_none());
        assert!(infer(b"{\"a\":1}").is_none());
        assert!(infer(b"{\"a\":{\"b\":1}}").is_none());
        assert!(infer(b"").is_none());
        // JSON written without escape=json: nginx's \xXX escapes
        let dflt = br#"{"time":"2026-11-28T12:33:03+05:30","status":"502","request":"GET /a\x22b HTTP/1.1"}"#;
        let inf = infer(dflt).expect("default-escaped JSON");
        assert_eq!(inf.format.escape, Escape::Default);
        assert!(inf.reason().contains("escape=default"), "{}", inf.reason());
    }

    proptest::proptest! {
        /// Any bytes: no panic; and a format read from a line parses that
        /// line (the line, values replaced by variables, is the format).
        #[test]
        fn inferred_format_parses_its_own_line(
            parts in proptest::collection::vec(proptest::sample::select(vec![
                "{", "}", "\"", ":", ",", ", ", " : ", " ", "[", "]", "\\", "\\\"", "-", "=",
                "\"status\":", "\"time\":", "\"request\":", "\"upstream_status\":",
                "\"upstream_addr\":", "\"remote_addr\":", "502", "200", "1.2.3.4",
                "\"GET / HTTP/1.1\"", "2026-11-28T12:33:03+05:30", "1764313383.123",
                "[28/Nov/2026:12:33:03 +0530]", "us=", "ua=", "a:1, b:2", "$x", "\\x22", "é",
                "|", "\t", "GET / HTTP/1.1", "|504|",
            ]), 0..24)
        ) {
            let line = parts.concat();
            if let Some(inf) = infer(line.as_bytes()) {
                let r = inf.format.parse(line.as_bytes(), &mut TimeCache::default());
                proptest::prop_assert!(r.is_ok(), "{line:?} → {:?}: {r:?}", inf.format.source);
            }
        }
    }
}
