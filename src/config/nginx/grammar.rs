//! nginx's own grammar rules for directives: where each directive may
//! appear and how many arguments it takes, read from the generated
//! [`directives`](super::directives) table; and the context a config
//! *fragment* (a file meant to be included) is read in.
//!
//! The checks mirror `ngx_conf_handler()` in nginx's src/core/ngx_conf_file.c:
//! a name no module defines is "unknown directive", a name whose modules do
//! not allow the current block is "directive is not allowed here", and the
//! argument count is tested against the `NGX_CONF_TAKE*`/`FLAG`/`1MORE`/
//! `2MORE`/`ANY` bits. Third-party modules are not in the table: their
//! directives are *unknown*, which is not the same as wrong.

use super::parser::Node;
use crate::config::Version;

pub use super::directives::DIRECTIVES;

/// Context bits (which block a directive sits in). nginx reuses bit values
/// across http, stream and mail; here every context has its own bit.
pub mod ctx {
    /// Top level of nginx.conf (`NGX_MAIN_CONF`).
    pub const MAIN: u32 = 1 << 0;
    /// `events { }`.
    pub const EVENTS: u32 = 1 << 1;
    /// `http { }` (`NGX_HTTP_MAIN_CONF`).
    pub const HTTP: u32 = 1 << 2;
    /// `server { }` in http.
    pub const SERVER: u32 = 1 << 3;
    /// `location { }`.
    pub const LOCATION: u32 = 1 << 4;
    /// `upstream { }` in http.
    pub const UPSTREAM: u32 = 1 << 5;
    /// `if { }` in a server.
    pub const IF_SERVER: u32 = 1 << 6;
    /// `if { }` in a location.
    pub const IF_LOCATION: u32 = 1 << 7;
    /// `limit_except { }`.
    pub const LIMIT_EXCEPT: u32 = 1 << 8;
    /// `stream { }`.
    pub const STREAM: u32 = 1 << 9;
    /// `server { }` in stream.
    pub const STREAM_SERVER: u32 = 1 << 10;
    /// `upstream { }` in stream.
    pub const STREAM_UPSTREAM: u32 = 1 << 11;
    /// `mail { }`.
    pub const MAIL: u32 = 1 << 12;
    /// `server { }` in mail.
    pub const MAIL_SERVER: u32 = 1 << 13;
    /// Anywhere (`include`).
    pub const ANY: u32 = u32::MAX;

    /// The name nginx users know a context by.
    pub fn name(c: u32) -> &'static str {
        match c {
            MAIN => "main",
            EVENTS => "events",
            HTTP => "http",
            SERVER => "server",
            LOCATION => "location",
            UPSTREAM => "upstream",
            IF_SERVER => "if (in server)",
            IF_LOCATION => "if (in location)",
            LIMIT_EXCEPT => "limit_except",
            STREAM => "stream",
            STREAM_SERVER => "stream server",
            STREAM_UPSTREAM => "stream upstream",
            MAIL => "mail",
            MAIL_SERVER => "mail server",
            _ => "any",
        }
    }

    /// The names of every context in `mask`.
    pub fn names(mask: u32) -> Vec<&'static str> {
        if mask == ANY {
            return vec!["any"];
        }
        (0..14)
            .map(|b| 1u32 << b)
            .filter(|b| mask & b != 0)
            .map(name)
            .collect()
    }
}

/// `NGX_CONF_*` argument bits (src/core/ngx_conf_file.h).
pub mod args {
    /// No arguments.
    pub const NOARGS: u32 = 0x1;
    /// Mask of the TAKE0..TAKE7 bits.
    pub const NUMBER: u32 = 0xff;
    /// Opens a block.
    pub const BLOCK: u32 = 0x100;
    /// Exactly one argument, `on` or `off`.
    pub const FLAG: u32 = 0x200;
    /// Any number of arguments.
    pub const ANY: u32 = 0x400;
    /// One or more.
    pub const ONE_MORE: u32 = 0x800;
    /// Two or more.
    pub const TWO_MORE: u32 = 0x1000;
    /// Most arguments `TAKEn` allows.
    pub const MAX_ARGS: usize = 8;
}

/// How nginx reads a directive's value: the `set` handler of its
/// `ngx_command_t` (src/core/ngx_conf_file.c), from the generated table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    /// `ngx_conf_set_msec_slot`: a time, `ngx_parse_time(…, 0)` (ms allowed,
    /// no `M` or `y`).
    Time,
    /// `ngx_conf_set_sec_slot`: a time in whole seconds,
    /// `ngx_parse_time(…, 1)` (no `ms`).
    Seconds,
    /// `ngx_conf_set_size_slot`: `ngx_parse_size` (`k`, `m`; no `g`).
    Size,
    /// `ngx_conf_set_off_slot`: `ngx_parse_offset` (`k`, `m`, `g`).
    Offset,
    /// `ngx_conf_set_flag_slot`: `on` or `off`, any case.
    Flag,
    /// `ngx_conf_set_num_slot`: `ngx_atoi`, digits only.
    Number,
    /// `ngx_conf_set_bufs_slot`: `number size`, both above 0.
    Bufs,
    /// `ngx_conf_set_str_slot`: any text.
    Text,
    /// `ngx_conf_set_enum_slot`: one of these names, any case.
    Enum(&'static [&'static str]),
    /// `ngx_conf_set_bitmask_slot`: one or more of these names, any case.
    Bitmask(&'static [&'static str]),
    /// The module's own handler: read by hand-written code, if at all.
    Custom,
}

/// One module's definition of a directive.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    /// Directive name.
    pub name: &'static str,
    /// [`ctx`] bits where it is allowed.
    pub contexts: u32,
    /// [`args`] bits.
    pub args: u32,
    /// The C file that defines it (`ngx_http_proxy_module`).
    pub module: &'static str,
    /// First nginx release that has it, when known.
    pub since: &'static str,
    /// How its value is read.
    pub value: Type,
    /// Its default in the newest nginx, as written in a config (`60s`,
    /// `error timeout`); empty when the table does not know it.
    pub default: &'static str,
    /// Defaults of older releases, oldest first: `(release that changed
    /// it, the default before that release)`.
    pub earlier: &'static [(&'static str, &'static str)],
}

impl Spec {
    /// True when `n` arguments (after the name) are accepted, as
    /// `ngx_conf_handler()` counts them.
    pub fn takes(&self, n: usize) -> bool {
        let a = self.args;
        if a & args::ANY != 0 {
            true
        } else if a & args::FLAG != 0 {
            n == 1
        } else if a & args::ONE_MORE != 0 {
            n >= 1
        } else if a & args::TWO_MORE != 0 {
            n >= 2
        } else if n >= args::MAX_ARGS {
            false
        } else {
            a & (1 << n) != 0
        }
    }

    /// True when it opens a block.
    pub fn is_block(&self) -> bool {
        self.args & args::BLOCK != 0
    }

    /// The default of nginx `version` (the newest when unknown); empty
    /// when the table does not know it.
    pub fn default_for(&self, version: Option<Version>) -> &'static str {
        let Some(v) = version else {
            return self.default;
        };
        self.earlier
            .iter()
            .find(|(until, _)| Version::parse(until).is_some_and(|u| v < u))
            .map_or(self.default, |(_, old)| old)
    }
}

/// The definition of `name` by `module` (`ngx_http_proxy_module`).
pub fn spec(name: &str, module: &str) -> Option<&'static Spec> {
    lookup(name).iter().find(|s| s.module == module)
}

/// Directives removed from nginx that old configs still carry: known, so
/// they are not reported as unknown (name, contexts, removed in).
pub const REMOVED: &[(&str, u32, &str)] = &[
    // `ssl on;` — deprecated 1.15.0, removed 1.25.1 (nginx CHANGES).
    (
        "ssl",
        ctx::HTTP | ctx::SERVER | ctx::MAIL | ctx::MAIL_SERVER,
        "1.25.1",
    ),
];

/// Every definition of `name` (empty when no module shipped with nginx has
/// it).
pub fn lookup(name: &str) -> &'static [Spec] {
    let start = DIRECTIVES.partition_point(|s| s.name < name);
    let end = start + DIRECTIVES[start..].partition_point(|s| s.name == name);
    &DIRECTIVES[start..end]
}

/// True when nginx knows `name` (now or in an older release).
pub fn is_known(name: &str) -> bool {
    !lookup(name).is_empty() || REMOVED.iter().any(|r| r.0 == name)
}

/// Where `name` may appear (0 when unknown).
pub fn contexts(name: &str) -> u32 {
    lookup(name).iter().fold(0, |m, s| m | s.contexts)
        | REMOVED
            .iter()
            .filter(|r| r.0 == name)
            .fold(0, |m, r| m | r.1)
}

/// The known directive closest to an unknown `name`, when it is close
/// enough to be a typo (one edit for short names, two for long ones).
pub fn near_miss(name: &str) -> Option<&'static str> {
    let limit = if name.len() > 8 { 2 } else { 1 };
    crate::config::names::nearest(name, DIRECTIVES.iter().map(|s| s.name), limit)
}

/// The context a whole file is read in: `main` for an nginx.conf, or one
/// of the blocks a fragment is included into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileContext {
    /// A full nginx.conf.
    Main,
    /// Included inside `http { }` (conf.d/*.conf, sites-available/*).
    Http,
    /// Included inside `stream { }` (a TCP/UDP site file: `server`s whose
    /// `proxy_pass` sits at server level, stream `upstream`s).
    Stream,
    /// Included inside `server { }`.
    Server,
    /// Included inside `location { }`.
    Location,
}

impl FileContext {
    /// Every context, outermost first (the order inference tries them).
    pub const ALL: [FileContext; 5] = [
        FileContext::Main,
        FileContext::Http,
        FileContext::Stream,
        FileContext::Server,
        FileContext::Location,
    ];

    /// `main`, `http`, `stream`, `server`, `location`.
    pub fn as_str(self) -> &'static str {
        match self {
            FileContext::Main => "main",
            FileContext::Http => "http",
            FileContext::Stream => "stream",
            FileContext::Server => "server",
            FileContext::Location => "location",
        }
    }

    /// Parse a `--context` value.
    pub fn parse(s: &str) -> Option<FileContext> {
        FileContext::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(s.trim()))
    }

    /// Its [`ctx`] bit.
    pub fn mask(self) -> u32 {
        match self {
            FileContext::Main => ctx::MAIN,
            FileContext::Http => ctx::HTTP,
            FileContext::Stream => ctx::STREAM,
            FileContext::Server => ctx::SERVER,
            FileContext::Location => ctx::LOCATION,
        }
    }
}

/// Infer the context of a file from its top-level directives: the
/// outermost context in which nginx accepts every known one (a top-level
/// `server`/`upstream`/`map` means `http`, a top-level `location`/`listen`
/// means `server`, a top-level `proxy_pass` means `location`). `server`
/// and `upstream` blocks fit both `http` and `stream`: what they hold
/// decides (`proxy_pass` or `proxy_timeout` in a `server` belong to
/// `stream`, `location` to `http`; a tie is `http`). Returns the context
/// and why, naming the directive that ruled out `main` (and `http`).
pub fn infer(nodes: &[Node]) -> (FileContext, String) {
    let known: Vec<(&Node, u32)> = nodes
        .iter()
        .filter(|n| n.name != "include")
        .map(|n| (n, contexts(&n.name)))
        .filter(|(_, m)| *m != 0)
        .collect();
    // Directives inside the top-level `server`/`upstream` blocks that the
    // block of that name in `c` refuses, with the first of them.
    let inner_misfits = |c: FileContext| -> (usize, Option<(&str, &str)>) {
        let mut count = 0;
        let mut first = None;
        for (n, _) in &known {
            let inner = match (n.name.as_str(), c) {
                ("server", FileContext::Http) => ctx::SERVER,
                ("server", FileContext::Stream) => ctx::STREAM_SERVER,
                ("upstream", FileContext::Http) => ctx::UPSTREAM,
                ("upstream", FileContext::Stream) => ctx::STREAM_UPSTREAM,
                _ => continue,
            };
            for child in n.block.iter().flat_map(|b| &b.children) {
                let m = contexts(&child.name);
                if m != 0 && m & inner == 0 {
                    count += 1;
                    first.get_or_insert((n.name.as_str(), child.name.as_str()));
                }
            }
        }
        (count, first)
    };
    let misfits = |c: FileContext| {
        known.iter().filter(|(_, m)| m & c.mask() == 0).count() + inner_misfits(c).0
    };
    let best = FileContext::ALL
        .into_iter()
        .min_by_key(|c| misfits(*c))
        .unwrap_or(FileContext::Main);
    if best == FileContext::Main {
        return (best, String::new());
    }
    // The first directive that does not fit in `main`.
    let mut why = known
        .iter()
        .find(|(_, m)| m & ctx::MAIN == 0)
        .map(|(n, _)| format!("top-level `{}` is not allowed in `main`", n.name))
        .unwrap_or_default();
    if best == FileContext::Stream {
        if let (_, Some((block, d))) = inner_misfits(FileContext::Http) {
            why += &format!(", and `{d}` inside `{block}` belongs to `stream`, not `http`");
        }
    }
    (best, why)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::nginx::parser;
    use crate::source::FileId;

    fn infer_src(src: &str) -> FileContext {
        infer(&parser::parse(src.as_bytes(), FileId(0)).0).0
    }

    #[test]
    fn table_is_sorted_and_has_the_core_directives() {
        assert!(DIRECTIVES.windows(2).all(|w| w[0].name <= w[1].name));
        let pp = lookup("proxy_pass");
        assert!(pp
            .iter()
            .any(|s| s.contexts & ctx::LOCATION != 0 && s.takes(1) && !s.takes(2)));
        assert!(lookup("proxy_passs").is_empty());
        assert!(lookup("user")
            .iter()
            .all(|s| s.takes(1) && s.takes(2) && !s.takes(3)));
        assert_eq!(near_miss("proxy_passs"), Some("proxy_pass"));
        assert_eq!(near_miss("lua_shared_dict"), None);
        assert!(lookup("proxy_next_upstream_tries")
            .iter()
            .any(|s| s.since == "1.7.5"));
        assert!(lookup("http").iter().all(|s| s.is_block() && s.takes(0)));
        // a command whose `post` is an expression (`&…_types[0]`) is kept
        assert!(lookup("gzip_types").iter().any(|s| s.takes(3)));
        // value types and defaults from nginx's handlers and merge functions
        let read = lookup("proxy_read_timeout");
        assert!(read.iter().all(|s| s.value == Type::Time));
        assert!(lookup("proxy_http_version")
            .iter()
            .all(|s| matches!(s.value, Type::Enum(v) if v.contains(&"1.1"))));
        let http = spec("proxy_http_version", "ngx_http_proxy_module").unwrap();
        assert_eq!(http.default_for(None), "1.1");
        assert_eq!(http.default_for(Some(Version(1, 29, 6))), "1.0");
        assert_eq!(http.default_for(Some(Version(1, 29, 7))), "1.1");
    }

    #[test]
    fn infers_fragment_contexts() {
        assert_eq!(infer_src("events {} http { }"), FileContext::Main);
        assert_eq!(
            infer_src("user www; worker_processes 2;"),
            FileContext::Main
        );
        assert_eq!(infer_src("server { listen 80; }"), FileContext::Http);
        assert_eq!(
            infer_src("upstream a { server x; } map $a $b { }"),
            FileContext::Http
        );
        assert_eq!(
            infer_src("proxy_cache_path /c keys_zone=c:1m;"),
            FileContext::Http
        );
        assert_eq!(infer_src("listen 80; location / { }"), FileContext::Server);
        assert_eq!(
            infer_src("proxy_pass http://a; proxy_set_header A b;"),
            FileContext::Location
        );
        assert_eq!(infer_src("proxy_set_header Host $host;"), FileContext::Http);
        assert_eq!(infer_src("lua_shared_dict x 1m;"), FileContext::Main);
        // a TCP site file (/etc/nginx/stream.d/*.conf)
        let tcp = "upstream db { server 10.0.0.1:5432; } server { listen 5432; proxy_pass db; }";
        assert_eq!(infer_src(tcp), FileContext::Stream);
        let (_, why) = infer(&parser::parse(tcp.as_bytes(), FileId(0)).0);
        assert_eq!(
            why,
            "top-level `upstream` is not allowed in `main`, and `proxy_pass` inside `server` belongs to `stream`, not `http`"
        );
        assert_eq!(
            infer_src("server { listen 53 udp; proxy_timeout 1s; proxy_pass 10.0.0.1:53; }"),
            FileContext::Stream
        );
        // a location decides for http
        assert_eq!(
            infer_src("server { listen 80; location / { proxy_pass http://a; } }"),
            FileContext::Http
        );
        let (_, why) = infer(&parser::parse(b"server { }", FileId(0)).0);
        assert!(why.contains("`server`"), "{why}");
    }
}
