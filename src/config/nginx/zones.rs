//! Shared memory zones a config uses but never sizes, which nginx -t
//! refuses: a `proxy_cache` (or `fastcgi_`, `uwsgi_`, `scgi_cache`) zone no
//! `*_cache_path … keys_zone=` of the same module defines (`"proxy_cache"
//! zone "c" is unknown`, from each module's merge_loc_conf: the zone the
//! directive added has no data), and a `limit_req` / `limit_conn` zone no
//! `limit_req_zone` / `limit_conn_zone` sizes (`zero size shared memory
//! zone "r"`, ngx_init_cycle in src/core/ngx_cycle.c); a name sized for
//! another module is `the shared memory zone "c" is already declared for a
//! different use` (ngx_shared_memory_add). All three checked with nginx
//! 1.22.1 -t. Only meaningful when every file of the config was read:
//! a fragment's zone may be defined by the nginx.conf that includes it.
//!
//! A zone belongs to the module that declared it (the `tag` of
//! ngx_shared_memory_add: `proxy_cache_path` declares a zone of
//! ngx_http_proxy_module, which `fastcgi_cache` cannot use), and stream's
//! `limit_conn` uses stream's `limit_conn_zone`, not http's.

use std::collections::HashSet;

use crate::config::model::Arg;

use super::parser::Node;

/// The modules with a file cache: `<m>_cache` uses a zone `<m>_cache_path`
/// defines.
const CACHES: [&str; 4] = ["proxy", "fastcgi", "uwsgi", "scgi"];

/// A zone: the declaring directive family (`proxy_cache`, `limit_req`,
/// `limit_conn`), whether it is stream's, and its name.
type Zone = (String, bool, String);

/// Every use of a zone nothing defines, as (the argument naming it, the
/// directive, nginx's message, the fix).
pub fn undefined(nodes: &[Node]) -> Vec<(&Arg, &str, String, String)> {
    let mut defined = HashSet::new();
    walk(nodes, false, &mut |n, stream| {
        if let Some(z) = definition(n, stream) {
            defined.insert(z);
        }
    });
    let mut out = Vec::new();
    walk(nodes, false, &mut |n, stream| {
        if let Some((arg, zone)) = usage(n, stream) {
            if !defined.contains(&zone) {
                // the name sized for another module (ngx_shared_memory_add
                // compares the tag): refused whichever comes first
                let defining = match zone.0.as_str() {
                    "limit_req" | "limit_conn" => format!("{}_zone … zone={}:10m", zone.0, zone.2),
                    cache => format!("{cache}_path … keys_zone={}:10m", zone.2),
                };
                let (message, help) = if defined.iter().any(|d| d.2 == zone.2) {
                    (
                        format!(
                            "the shared memory zone \"{}\" is already declared for a different use",
                            zone.2
                        ),
                        format!("the zone is sized for another module: give `{}` a zone of its own (`{defining}`) under another name", zone.0),
                    )
                } else if zone.0.ends_with("_cache") {
                    (
                        format!("\"{}\" zone \"{}\" is unknown", zone.0, zone.2),
                        format!("define it: `{defining}`"),
                    )
                } else {
                    (
                        format!("zero size shared memory zone \"{}\"", zone.2),
                        format!("define it: `{defining}`"),
                    )
                };
                out.push((arg, n.name.as_str(), message, help));
            }
        }
    });
    out
}

fn walk<'a>(nodes: &'a [Node], stream: bool, f: &mut impl FnMut(&'a Node, bool)) {
    for n in nodes {
        f(n, stream);
        if let Some(b) = &n.block {
            walk(&b.children, stream || n.name == "stream", f);
        }
    }
}

/// The zone `n` defines, if it is a `*_cache_path` or `limit_*_zone`.
fn definition(n: &Node, stream: bool) -> Option<Zone> {
    let (family, key) = if let Some(m) = n.name.strip_suffix("_cache_path") {
        (format!("{m}_cache"), "keys_zone=")
    } else if let Some(f) = n.name.strip_suffix("_zone") {
        if f != "limit_req" && f != "limit_conn" {
            return None;
        }
        (f.to_string(), "zone=")
    } else {
        return None;
    };
    let name = n.args.iter().find_map(|a| a.value.strip_prefix(key))?;
    let name = name.split(':').next().unwrap_or(name);
    Some((family, stream, name.to_string()))
}

/// The zone `n` uses, with the argument naming it: `<m>_cache NAME`,
/// `limit_req zone=NAME`, `limit_conn NAME N`. A variable (`proxy_cache
/// $zone`, resolved per request) and `off` use none.
fn usage(n: &Node, stream: bool) -> Option<(&Arg, Zone)> {
    let name = n.name.as_str();
    let (arg, zone) = if CACHES
        .iter()
        .any(|m| name.strip_suffix("_cache") == Some(m))
    {
        let a = n.args.first()?;
        (a, a.value.as_str())
    } else if name == "limit_req" {
        let a = n.args.iter().find(|a| a.value.starts_with("zone="))?;
        (a, &a.value["zone=".len()..])
    } else if name == "limit_conn" {
        let a = n.args.first()?;
        (a, a.value.as_str())
    } else {
        return None;
    };
    if zone.is_empty() || zone.contains('$') || zone == "off" {
        return None;
    }
    Some((arg, (name.to_string(), stream, zone.to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::nginx::parser::parse;
    use crate::source::FileId;

    fn messages(src: &str) -> Vec<String> {
        let (nodes, errors) = parse(src.as_bytes(), FileId(0));
        assert!(errors.is_empty(), "{errors:?}");
        undefined(&nodes)
            .into_iter()
            .map(|(a, d, m, _)| format!("{d} {}: {m}", a.value))
            .collect()
    }

    #[test]
    fn zones_used_but_not_defined() {
        assert_eq!(
            messages(
                "http { limit_conn_zone $binary_remote_addr zone=c:10m;
                   proxy_cache_path /c keys_zone=pc:10m;
                   server { location / { proxy_cache pc; limit_conn c 10; }
                            location /f { fastcgi_cache pc; limit_req zone=r burst=5; }
                            location /g { fastcgi_cache php; }
                            location /o { proxy_cache off; fastcgi_cache $z; } } }
                 stream { server { limit_conn c 1; } }"
            ),
            [
                "fastcgi_cache pc: the shared memory zone \"pc\" is already declared for a different use",
                "limit_req zone=r: zero size shared memory zone \"r\"",
                "fastcgi_cache php: \"fastcgi_cache\" zone \"php\" is unknown",
                "limit_conn c: the shared memory zone \"c\" is already declared for a different use",
            ]
        );
        assert!(messages(
            "http { fastcgi_cache_path /c levels=1:2 keys_zone=php:10m; limit_req_zone $a zone=r:1m rate=1r/s;
               server { location / { fastcgi_cache php; limit_req zone=r; } } }"
        )
        .is_empty());
    }
}
