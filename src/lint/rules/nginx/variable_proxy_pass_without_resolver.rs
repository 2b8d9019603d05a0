//! NGX-DNS-002 `variable-proxy-pass-without-resolver`: see the rule doc below.

use std::collections::HashSet;

use crate::config::model::{Host, MissingInclude, ProxyModel, Target};
use crate::config::nginx::lower::parse_proxy_pass;
use crate::config::nginx::variables::references;
use crate::declare_rule;
use crate::lint::{LintContext, Severity};
use crate::source::Span;

use super::{proxied, stream_proxied, stream_upstreams};

declare_rule! {
    /// `proxy_pass` (or `fastcgi_pass`, `uwsgi_pass`, `scgi_pass`, `grpc_pass`) with variables (`http {}` or `stream {}`) names a host at run time, but no `resolver` is set.
    ///
    /// ## What it does
    /// Flags a `proxy_pass` whose host is computed from variables (or is a
    /// hostname followed by variables) when it is not an `upstream` name and
    /// no `resolver` is in effect for the location; and the same for a
    /// `stream {}` server's `proxy_pass` (`$ssl_preread_server_name:443`,
    /// a `map` to host names), where only a `resolver` of stream counts and
    /// a variable whose every value is a stream `upstream` name or an IP
    /// address needs none. The same for `fastcgi_pass`, `uwsgi_pass`,
    /// `scgi_pass` and `grpc_pass` with variables, where a variable whose
    /// every value is an `upstream` name, an IP address or a `unix:` socket
    /// needs none.
    ///
    /// ## Why it causes 502s
    /// With variables nginx resolves the host per request. If the value is not
    /// an upstream name it needs a `resolver`; without one the lookup fails
    /// ("no resolver defined to resolve …") and the request fails with a 502
    /// (guide step 3). When the host is only a variable, it may always hold an
    /// upstream name: then the finding is a warning.
    ///
    /// ## Example
    /// ```nginx
    /// location / { proxy_pass http://$backend_host; }
    /// ```
    ///
    /// ## Use instead
    /// ```nginx
    /// resolver 10.0.0.2 valid=30s;
    /// location / { proxy_pass http://$backend_host; }
    /// ```
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// - nginx `proxy_pass` (with variables: upstream names first, then the
    ///   resolver): <https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_pass>
    /// - nginx `resolver` (no default):
    ///   <https://nginx.org/en/docs/http/ngx_http_core_module.html#resolver>
    pub VariableProxyPassWithoutResolver {
        id: "NGX-DNS-002",
        name: "variable-proxy-pass-without-resolver",
        severity: Error,
        since: "0.1.0",
    }
}

/// True when the host part of `raw` is one variable and every value it is
/// given (by `set` or `map`) makes the URL name an `upstream` block: nginx
/// then picks the group by name and never needs a resolver (issue 8; nginx
/// docs, `proxy_pass`: "the server name is searched among the described
/// server groups, and, if not found, is determined using a resolver").
fn only_upstreams(m: &ProxyModel, raw: &str) -> bool {
    let names: HashSet<String> = m.upstreams.iter().map(|u| u.name.clone()).collect();
    only_known(m, raw, &names, false)
}

/// True when every value of the one variable in `raw`'s host makes it an
/// upstream of `names`, or (with `addresses`) an IP address or unix socket,
/// which nginx uses without a lookup.
fn only_known(m: &ProxyModel, raw: &str, names: &HashSet<String>, addresses: bool) -> bool {
    let Some(i) = raw.find('$') else { return false };
    let rest = &raw[i + 1..];
    let (name, after) = match rest.strip_prefix('{') {
        Some(r) => match r.split_once('}') {
            Some((n, a)) => (n, a),
            None => return false,
        },
        None => {
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            (&rest[..end], &rest[end..])
        }
    };
    let Some(values) = m.variables.get(name) else {
        return false;
    };
    !values.is_empty()
        && values.iter().all(|v| {
            let url = format!("{}{v}{after}", &raw[..i]);
            match parse_proxy_pass(&url, Span::default(), names).target {
                Target::Pool(_) => true,
                Target::Address(Host::Ip(_) | Host::Unix(_)) => addresses,
                _ => false,
            }
        })
}

/// True when `inner` lies within `outer` (same file).
fn within(inner: Span, outer: Span) -> bool {
    inner.file == outer.file && outer.start <= inner.start && inner.end <= outer.end
}

/// An include that could not be read and whose directives would apply
/// where `at` is: it sits in a block that also holds `at` (the location,
/// an enclosing location, the server), or at the top of a file (`main`,
/// `http`, or a fragment's own top level). Whatever it holds (a
/// `resolver`: linuxserver's site files include `resolver.conf` in each
/// proxying location) is unknown, and NGX-INC-001 says so.
fn unread_include_around(m: &ProxyModel, at: Span) -> Option<&MissingInclude> {
    m.missing_includes.iter().find(|i| {
        // nginx's own tables (conf/mime.types, fastcgi_params, fastcgi.conf,
        // uwsgi_params, scgi_params) hold `types` and `*_param` lines only.
        let name = i.path.rsplit('/').next().unwrap_or(&i.path);
        if matches!(
            name,
            "mime.types" | "fastcgi_params" | "fastcgi.conf" | "uwsgi_params" | "scgi_params"
        ) {
            return false;
        }
        let innermost = m
            .blocks
            .iter()
            .filter(|b| within(i.span, **b) && **b != i.span)
            .min_by_key(|b| b.end - b.start);
        match innermost {
            Some(b) => within(at, *b),
            None => matches!(i.context.as_str(), "main" | "http") || i.span.file == at.file,
        }
    })
}

fn check(ctx: &mut LintContext<'_>) {
    let m = ctx.model();
    for (_, r, p, _) in proxied(m) {
        if p.target != Target::Dynamic || r.directives.has("resolver") || only_upstreams(m, &p.raw)
        {
            continue;
        }
        // An unread include in scope may set the resolver: its content was
        // not checked (NGX-INC-001), so nothing is claimed about it.
        if unread_include_around(m, p.span).is_some() {
            continue;
        }
        // A variable neither nginx nor the config defines: with the whole
        // config read nginx -t refuses it (NGX-VAL-001 says so); in a
        // fragment it may be set by the including config, or be a template
        // placeholder (envsubst) that is never an nginx variable at all.
        let undefined: Vec<&str> = references(&p.raw)
            .into_iter()
            .filter(|v| m.undefined_variables.iter().any(|u| u == v))
            .collect();
        if !undefined.is_empty() {
            if m.invalid.iter().any(|i| i.span == p.span) {
                continue;
            }
            let names = undefined
                .iter()
                .map(|v| format!("${v}"))
                .collect::<Vec<_>>()
                .join(", ");
            ctx.report_at(
                Severity::Warning,
                p.span,
                format!(
                    "proxy_pass {}: {names} is no nginx variable and nothing in what was read sets it; nginx refuses the file unless the including config defines it",
                    p.raw
                ),
                "if the file is a template filled in before nginx reads it (envsubst, `${VAR}`), lint the rendered file; if a `map` or `set` elsewhere gives it a host name, add `resolver <dns-ip> valid=30s;`",
            );
            continue;
        }
        let pure_variable = p.host.is_empty();
        // In a fragment the including config's http (or server) block may
        // set the resolver: say so, as a warning, instead of an error.
        let fragment = m.fragment.is_some();
        let sev = if fragment || (pure_variable && !m.upstreams.is_empty()) {
            Severity::Warning
        } else {
            Severity::Error
        };
        let message = if fragment {
            format!(
                "proxy_pass {} is resolved per request but no resolver is set in this fragment; unless the including config sets one, the lookup fails with 502",
                p.raw
            )
        } else {
            format!(
                "proxy_pass {} is resolved per request but no resolver is set",
                p.raw
            )
        };
        ctx.report_at(
            sev,
            p.span,
            message,
            "add `resolver <dns-ip> valid=30s;` (http, server or location level), or proxy to an upstream name",
        );
    }
    // fastcgi_pass/uwsgi_pass/scgi_pass/grpc_pass with variables: looked up
    // per request as proxy_pass is (each module's *_eval, nginx source),
    // unless every value names an upstream, an IP address or a unix socket
    // (ngx_parse_url hands those over without a lookup: PHP-FPM sockets
    // kept in a `set $fpm unix:/run/php-fpm.sock;`).
    let upstream_names: HashSet<String> = m.upstreams.iter().map(|u| u.name.clone()).collect();
    for (_, r) in m.routes() {
        let Some(mp) = &r.module_pass else { continue };
        let p = &mp.target;
        if p.target != Target::Dynamic
            || r.directives.has("resolver")
            || only_known(m, &p.raw, &upstream_names, true)
            || unread_include_around(m, p.span).is_some()
            || references(&p.raw)
                .into_iter()
                .any(|v| m.undefined_variables.iter().any(|u| *u == v))
        {
            continue;
        }
        let sev = if m.fragment.is_some() || (p.host.is_empty() && !upstream_names.is_empty()) {
            Severity::Warning
        } else {
            Severity::Error
        };
        let pass = format!("{}_pass", mp.module.prefix());
        let message = if m.fragment.is_some() {
            format!(
                "{pass} {} is resolved per request but no resolver is set in this fragment; unless the including config sets one, the lookup fails with 502",
                p.raw
            )
        } else {
            format!(
                "{pass} {} is resolved per request but no resolver is set",
                p.raw
            )
        };
        ctx.report_at(
            sev,
            p.span,
            message,
            "add `resolver <dns-ip> valid=30s;` (http, server or location level), or pass to an upstream name",
        );
    }
    let stream_names: HashSet<String> =
        stream_upstreams(m).iter().map(|u| u.name.clone()).collect();
    for (s, p, _) in stream_proxied(m) {
        if p.target != Target::Dynamic
            || s.directives.has("resolver")
            || only_known(m, &p.raw, &stream_names, true)
            || unread_include_around(m, p.span).is_some()
        {
            continue;
        }
        // A variable nothing defines: NGX-VAL-001 (whole config) or the
        // including config's business (fragment), as above.
        if references(&p.raw)
            .into_iter()
            .any(|v| m.undefined_variables.iter().any(|u| *u == v))
        {
            continue;
        }
        // In a fragment the including stream {} may set the resolver.
        let sev = if m.fragment.is_some() || (p.host.is_empty() && !stream_names.is_empty()) {
            Severity::Warning
        } else {
            Severity::Error
        };
        ctx.report_at(
            sev,
            p.span,
            format!(
                "{}: proxy_pass {} is resolved per connection but no resolver is set in stream",
                s.label(),
                p.raw
            ),
            "add `resolver <dns-ip> valid=30s;` in stream {} or the server (the http resolver does not count), or map to stream upstream names",
        );
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn fastcgi_and_grpc_variables() {
        // docker-compose PHP-FPM by a variable: looked up per request
        assert_eq!(
            findings(
                "NGX-DNS-002",
                "http { server { set $fpm php:9000; location ~ \\.php$ { fastcgi_pass $fpm; } } }"
            ),
            ["fastcgi_pass $fpm is resolved per request but no resolver is set"]
        );
        for ok in [
            // a socket or an IP kept in a variable needs no lookup
            "http { server { set $fpm_sock 'unix:/run/php-fpm.sock'; location / { fastcgi_pass $fpm_sock; } } }",
            // Weblate's uwsgi_pass: a socket path written with three slashes
            "http { server { location / { uwsgi_pass unix:///run/uwsgi/app/weblate/socket; } } }",
            "http { server { set $fpm 127.0.0.1:9000; location / { fastcgi_pass $fpm; } } }",
            "http { upstream php { server 10.0.0.1:9000; } server { set $b php; location / { fastcgi_pass $b; } } }",
            "http { resolver 127.0.0.11; server { set $g app:50051; location / { grpc_pass grpc://$g; } } }",
        ] {
            assert!(findings("NGX-DNS-002", ok).is_empty(), "{ok}");
        }
    }

    use crate::lint::rules::test_util::findings;

    #[test]
    fn fail() {
        // one value of the map is a host name: a resolver is needed
        let f = findings(
            "NGX-DNS-002",
            "http { upstream a { server 10.0.0.1; } map $host $pool { default a; x.example.com api.example.com; } server { location / { proxy_pass http://$pool; } } }",
        );
        assert_eq!(f.len(), 1);
        let f = findings(
            "NGX-DNS-002",
            "http { server { location / { proxy_pass http://$host$uri; } } }",
        );
        assert_eq!(f.len(), 1);
        let f = findings(
            "NGX-DNS-002",
            "http { server { location / { proxy_pass https://api.example.com$request_uri; } } }",
        );
        assert_eq!(f.len(), 1);
    }

    #[test]
    fn template_placeholder() {
        // docker/awesome-compose nginx-wsgi-flask/nginx/default.conf, filled
        // in by envsubst: a fragment, so the variable may be set elsewhere
        let f = findings(
            "NGX-DNS-002",
            "server { listen 80; location / { proxy_pass http://$FLASK_SERVER_ADDR; } }",
        );
        assert_eq!(f.len(), 1);
        assert!(
            f[0].contains("$FLASK_SERVER_ADDR is no nginx variable"),
            "{f:?}"
        );
    }

    #[test]
    fn resolver_in_an_unread_include() {
        // linuxserver/reverse-proxy-confs: each proxying location includes
        // /config/nginx/resolver.conf (SWAG writes the `resolver` there)
        // and proxies to `$upstream_proto://$upstream_app:$upstream_port`.
        let site = "http { server { location / { include /config/nginx/resolver.conf; set $upstream_app app; proxy_pass http://$upstream_app:80; } } }";
        assert!(findings("NGX-DNS-002", site).is_empty());
        // at http level the include covers every location
        let http =
            "http { include resolver.conf; server { location / { proxy_pass http://$host; } } }";
        assert!(findings("NGX-DNS-002", http).is_empty());
        // an include in another server does not
        let other = "http { server { include resolver.conf; } server { location / { proxy_pass http://$host; } } }";
        assert_eq!(findings("NGX-DNS-002", other).len(), 1);
        // nor nginx's MIME table, which holds no resolver
        let mime =
            "http { include mime.types; server { location / { proxy_pass http://$host; } } }";
        assert_eq!(findings("NGX-DNS-002", mime).len(), 1);
        // nor one in a sibling location
        let sibling = "http { server { location /a { include r.conf; } location / { proxy_pass http://$host; } } }";
        assert_eq!(findings("NGX-DNS-002", sibling).len(), 1);
    }

    #[test]
    fn fragment_says_the_including_config_may_set_it() {
        // swag's ldap-server.conf: locations meant for a `server` block; the
        // resolver of the including nginx.conf's http block is unknown
        let f = findings(
            "NGX-DNS-002",
            "location /ldap { set $upstream_auth_app ldap; proxy_pass http://$upstream_auth_app:8888; }",
        );
        assert_eq!(f.len(), 1);
        assert!(
            f[0].contains("no resolver is set in this fragment"),
            "{f:?}"
        );
    }

    #[test]
    fn pass() {
        for src in [
            "http { resolver 127.0.0.1; server { location / { proxy_pass http://$host; } } }",
            "http { upstream b { server 10.0.0.1; } server { location / { proxy_pass http://b$request_uri; } } }",
            "http { server { location / { proxy_pass http://10.0.0.1$request_uri; } } }",
            // issue 8: every value of the variable names an upstream
            "http { upstream a { server 10.0.0.1; } server { location / { set $p \"http://a\"; proxy_pass $p; } } }",
            "http { upstream a { server 10.0.0.1; } upstream b { server 10.0.0.2; } map $host $pool { default a; beta.example.com b; } server { location / { proxy_pass http://$pool$request_uri; } } }",
        ] {
            assert!(findings("NGX-DNS-002", src).is_empty(), "{src}");
        }
    }

    #[test]
    fn stream() {
        let f = findings(
            "NGX-DNS-002",
            "http { resolver 127.0.0.1; } stream { server { listen 443; ssl_preread on; proxy_pass $ssl_preread_server_name:443; } }",
        );
        assert_eq!(
            f,
            ["stream server 443: proxy_pass $ssl_preread_server_name:443 is resolved per connection but no resolver is set in stream"]
        );
        for src in [
            "stream { resolver 127.0.0.1; server { listen 443; ssl_preread on; proxy_pass $ssl_preread_server_name:443; } }",
            // the ssl_preread idiom: every value names a stream upstream or an address
            "stream { upstream a { server 10.0.0.1:443; } map $ssl_preread_server_name $b { a.example.com a; default 10.0.0.2:443; } server { listen 443; ssl_preread on; proxy_pass $b; } }",
        ] {
            assert!(findings("NGX-DNS-002", src).is_empty(), "{src}");
        }
    }
}
