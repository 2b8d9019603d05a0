//! nginx's variables: which names a stock nginx provides, which a config
//! defines itself, and which a `*_pass` uses that neither provides nor
//! defines — nginx -t refuses those (`unknown "name" variable`, from
//! `ngx_http_variables_init_vars`), and a template filled in before nginx
//! reads it (`envsubst`, `${VAR}`) looks exactly like that.
//!
//! [`BUILTIN`] and [`PREFIXES`] are every `ngx_http_variable_t` and
//! `ngx_stream_variable_t` of nginx's own modules (nginx 1.31.5, commit
//! 3f6f7824d: the arrays of src/http and src/stream, prefix variables those
//! flagged `NGX_HTTP_VAR_PREFIX` / `NGX_STREAM_VAR_PREFIX`), plus the ones
//! modules add one by one (`$gzip_ratio`, `$uid_got`, `$uid_set`,
//! `$uid_reset`, `$slice_range`, `$invalid_referer`, `$secure_link`,
//! `$secure_link_expires`, `$memcached_key`). Variable names
//! are case-insensitive (`ngx_http_get_variable_index` lower-cases them).

use std::collections::HashSet;

use super::grammar;
use super::parser::Node;

/// Built-in variable names of the http and stream modules shipped with nginx.
#[rustfmt::skip]
pub static BUILTIN: &[&str] = &[
    "ancient_browser", "args", "binary_remote_addr", "body_bytes_sent", "bytes_received",
    "bytes_sent", "connection", "connection_requests", "connection_time", "connections_active",
    "connections_reading", "connections_waiting", "connections_writing", "content_length",
    "content_type", "date_gmt", "date_local", "document_root", "document_uri",
    "fastcgi_path_info", "fastcgi_script_name", "geoip_area_code", "geoip_city",
    "geoip_city_continent_code", "geoip_city_country_code", "geoip_city_country_code3",
    "geoip_city_country_name", "geoip_country_code", "geoip_country_code3",
    "geoip_country_name", "geoip_dma_code", "geoip_latitude", "geoip_longitude", "geoip_org",
    "geoip_postal_code", "geoip_region", "geoip_region_name", "grpc_internal_trailers",
    "gzip_ratio", "host", "hostname", "http2", "http3", "http_cookie", "http_host",
    "http_referer", "http_user_agent", "http_via", "http_x_forwarded_for", "https",
    "invalid_referer", "is_args", "is_request_port", "limit_conn_status", "limit_rate",
    "limit_req_status", "memcached_key", "modern_browser", "msec", "msie", "nginx_version",
    "pid", "pipe", "protocol", "proxy_add_via", "proxy_add_x_forwarded_for", "proxy_host",
    "proxy_internal_body_length", "proxy_internal_chunked", "proxy_port", "proxy_protocol_addr",
    "proxy_protocol_port", "proxy_protocol_server_addr", "proxy_protocol_server_port",
    "query_string", "realip_remote_addr", "realip_remote_port", "realpath_root", "remote_addr",
    "remote_port", "remote_user", "request", "request_body", "request_body_file",
    "request_completion", "request_filename", "request_id", "request_length", "request_method",
    "request_port", "request_time", "request_uri", "scheme", "secure_link",
    "secure_link_expires", "sent_http_cache_control", "sent_http_connection",
    "sent_http_content_length", "sent_http_content_type", "sent_http_keep_alive",
    "sent_http_last_modified", "sent_http_link", "sent_http_location",
    "sent_http_transfer_encoding", "server_addr", "server_name", "server_port",
    "server_protocol", "session_time", "slice_range", "ssl_alpn_protocol", "ssl_cipher",
    "ssl_ciphers", "ssl_client_cert", "ssl_client_escaped_cert", "ssl_client_fingerprint",
    "ssl_client_i_dn", "ssl_client_i_dn_legacy", "ssl_client_raw_cert", "ssl_client_s_dn",
    "ssl_client_s_dn_legacy", "ssl_client_serial", "ssl_client_sigalg", "ssl_client_v_end",
    "ssl_client_v_remain", "ssl_client_v_start", "ssl_client_verify", "ssl_curve", "ssl_curves",
    "ssl_early_data", "ssl_ech_outer_server_name", "ssl_ech_status",
    "ssl_preread_alpn_protocols", "ssl_preread_protocol", "ssl_preread_server_name",
    "ssl_protocol", "ssl_server_name", "ssl_session_id", "ssl_session_reused", "ssl_sigalg",
    "ssl_sigalgs", "status", "tcpinfo_rcv_space", "tcpinfo_rtt", "tcpinfo_rttvar",
    "tcpinfo_snd_cwnd", "time_iso8601", "time_local", "uid_got", "uid_reset", "uid_set",
    "upstream_addr", "upstream_bytes_received", "upstream_bytes_sent", "upstream_cache_etag",
    "upstream_cache_last_modified", "upstream_cache_status", "upstream_connect_time",
    "upstream_first_byte_time", "upstream_header_time", "upstream_response_length",
    "upstream_response_time", "upstream_session_time", "upstream_status", "uri",
];

/// Prefix variables (`$http_<header>`, `$arg_<name>`, …).
pub static PREFIXES: &[&str] = &[
    "arg_",
    "cookie_",
    "http_",
    "proxy_protocol_tlv_",
    "sent_http_",
    "sent_trailer_",
    "upstream_cookie_",
    "upstream_http_",
    "upstream_trailer_",
];

/// True when a stock nginx provides `$name` (any case), including the
/// regex captures `$1`…`$9`.
pub fn is_builtin(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.bytes().all(|b| b.is_ascii_digit())
        || BUILTIN.binary_search(&lower.as_str()).is_ok()
        || PREFIXES
            .iter()
            .any(|p| lower.len() > p.len() && lower.starts_with(p))
}

/// The variables referenced in `text`: `$name` and `${name}`, names as
/// written.
pub fn references(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'$' {
            i += 1;
            continue;
        }
        i += 1;
        if b.get(i) == Some(&b'{') {
            if let Some(end) = text[i + 1..].find('}') {
                out.push(&text[i + 1..i + 1 + end]);
                i += end + 2;
            }
            continue;
        }
        let start = i;
        while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
            i += 1;
        }
        if i > start {
            out.push(&text[start..i]);
        }
    }
    out
}

/// Every variable the config defines itself, lower-cased: by `set` and the
/// other `*_set` / `set_*` directives (`auth_request_set`, `perl_set`,
/// `js_set`, `set_by_lua_block`), `map`, `geo`, `split_clients`, `js_var`,
/// a named regex capture anywhere (`(?<name>…)`, `(?P<name>…)`), and any
/// whole `$name` argument of a directive no stock module defines (a
/// third-party module's, e.g. `geoip2`, which may define it).
pub fn defined(nodes: &[Node]) -> HashSet<String> {
    let mut out = HashSet::new();
    collect(nodes, false, &mut out);
    out
}

fn collect(nodes: &[Node], in_unknown: bool, out: &mut HashSet<String>) {
    for n in nodes {
        let name = n.name.as_str();
        let unknown = in_unknown || !grammar::is_known(name);
        let var = |i: usize| n.arg(i).and_then(|a| a.strip_prefix('$'));
        let defines = match name {
            "map" | "split_clients" => var(1),
            "geo" => n.args.last().and_then(|a| a.value.strip_prefix('$')),
            "js_var" => var(0),
            _ if name == "set" || name.ends_with("_set") || name.starts_with("set_") => var(0),
            _ => None,
        };
        // inside a third-party block the "directive" may be the variable
        // (`geoip2 /db { $geo_country country iso_code; }`)
        let own = name.strip_prefix('$').filter(|_| in_unknown);
        if let Some(v) = defines.or(own) {
            out.insert(v.to_ascii_lowercase());
        }
        for a in n.args.iter() {
            if unknown {
                if let Some(v) = a.value.strip_prefix('$') {
                    out.insert(v.to_ascii_lowercase());
                }
            }
            named_captures(&a.value, out);
        }
        if let Some(b) = &n.block {
            // a `map` key may be a regex whose named captures its values use
            if name == "map" {
                for e in &b.children {
                    named_captures(&e.name, out);
                }
            }
            // a `map`/`geo`/`split_clients` table holds values, not directives
            if !matches!(name, "map" | "geo" | "split_clients" | "types") {
                collect(&b.children, unknown, out);
            }
        }
    }
}

/// Insert the named captures of regex `text` (`(?<name>…)`, `(?P<name>…)`,
/// `(?'name'…)`).
fn named_captures(text: &str, out: &mut HashSet<String>) {
    for marker in ["(?<", "(?P<", "(?'"] {
        let mut rest = text;
        while let Some(i) = rest.find(marker) {
            rest = &rest[i + marker.len()..];
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            out.insert(rest[..end].to_ascii_lowercase());
        }
    }
}

/// The `*_pass` directives, whose variables name the upstream.
const PASSES: &[&str] = &[
    "proxy_pass",
    "fastcgi_pass",
    "uwsgi_pass",
    "scgi_pass",
    "grpc_pass",
    "memcached_pass",
];

/// Variables used by a `*_pass`, or by a `map` as its source or a value,
/// that nginx does not provide and the config does not define: `(name as
/// written, the node it is in, the directive to name)`, in source order.
pub fn undefined_in_passes<'n>(
    nodes: &'n [Node],
    defined: &HashSet<String>,
) -> Vec<(String, &'n Node, &'n str)> {
    let mut out = Vec::new();
    walk(nodes, defined, &mut out);
    out
}

/// One found: the variable, the node it is in, the directive to name.
type Found<'n> = (String, &'n Node, &'n str);

fn walk<'n>(nodes: &'n [Node], defined: &HashSet<String>, out: &mut Vec<Found<'n>>) {
    let check = |text: &str, n: &'n Node, directive: &'n str, out: &mut Vec<Found<'n>>| {
        for v in references(text) {
            if !is_builtin(v) && !defined.contains(&v.to_ascii_lowercase()) {
                out.push((v.to_string(), n, directive));
            }
        }
    };
    for n in nodes {
        if PASSES.contains(&n.name.as_str()) {
            for a in n.args.iter() {
                check(&a.value, n, &n.name, out);
            }
        }
        if n.name == "map" {
            // `map SOURCE $result { key value; … }`: the source and each
            // value are compiled as complex values (ngx_http_map_module,
            // and its stream twin), so nginx -t refuses an unknown
            // variable there too (`unknown "arg" variable`).
            if let Some(src) = n.args.first() {
                check(&src.value, n, &n.name, out);
            }
            for e in n.block.iter().flat_map(|b| &b.children) {
                if let Some(v) = e.args.last() {
                    check(&v.value, e, &n.name, out);
                }
            }
            continue;
        }
        if let Some(b) = &n.block {
            walk(&b.children, defined, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::nginx::parser;
    use crate::source::FileId;

    fn undefined(src: &str) -> Vec<String> {
        let (nodes, errors) = parser::parse(src.as_bytes(), FileId(0));
        assert!(errors.is_empty(), "{errors:?}");
        let d = defined(&nodes);
        undefined_in_passes(&nodes, &d)
            .into_iter()
            .map(|(v, _, _)| v)
            .collect()
    }

    #[test]
    fn table_is_sorted_and_knows_the_common_ones() {
        assert!(BUILTIN.windows(2).all(|w| w[0] < w[1]));
        for v in [
            "host",
            "request_uri",
            "upstream_addr",
            "Host",
            "http_x_forwarded_for",
            "1",
            "ssl_server_name",
        ] {
            assert!(is_builtin(v), "{v}");
        }
        assert!(!is_builtin("http_"));
        assert!(!is_builtin("flask_server_addr"));
    }

    #[test]
    fn references_in_text() {
        assert_eq!(references("http://$a${b}c/$1x-$"), ["a", "b", "1x"]);
    }

    #[test]
    fn envsubst_placeholders_are_undefined() {
        // docker/awesome-compose nginx-flask-mongo/nginx/nginx.conf
        assert_eq!(
            undefined("server { location / { proxy_pass http://$FLASK_SERVER_ADDR; } }"),
            ["FLASK_SERVER_ADDR"]
        );
        assert_eq!(
            undefined("server { location / { proxy_pass http://${BACKEND}:80; } }"),
            ["BACKEND"]
        );
    }

    #[test]
    fn map_sources_and_values_are_checked() {
        // crossplane's empty-value-map.conf: nginx 1.22 -t says
        // `unknown "arg" variable`
        assert_eq!(
            undefined("map string $variable { '' $arg; *.example.com ''; }"),
            ["arg"]
        );
        assert_eq!(undefined("map $nope $v { default 1; }"), ["nope"]);
    }

    #[test]
    fn what_a_config_defines_is_not() {
        for src in [
            "server { location / { proxy_pass http://$host$request_uri; } }",
            "map $host $pool { default a; } server { location / { proxy_pass http://$pool; } }",
            "server { set $b 10.0.0.1; location / { proxy_pass http://$B; } }",
            "geo $remote_addr $g { default a; } server { location / { proxy_pass http://$g; } }",
            "split_clients $remote_addr $s { 50% a; * b; } server { location / { proxy_pass http://$s; } }",
            "server { location ~ ^/(?<svc>[a-z]+)/ { proxy_pass http://$svc; } }",
            "server { location ~ ^/([a-z]+)/ { proxy_pass http://$1; } }",
            "server { location / { auth_request /a; auth_request_set $u $upstream_http_x_u; proxy_pass http://$u; } }",
            "geoip2 /db { $geo_host default=a country iso_code; } server { location / { proxy_pass http://$geo_host; } }",
            "map $host $m { ~^(?<sub>[a-z]+)\\. $sub; default $scheme://$host; hostnames; }",
        ] {
            assert!(undefined(src).is_empty(), "{src}");
        }
    }
}
