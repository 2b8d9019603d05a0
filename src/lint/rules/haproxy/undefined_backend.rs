//! HAP-MAP-001 `undefined-backend`: see the rule doc below.

use crate::config::model::{Directives, Mode, RouteMatch, Target};
use crate::config::ProxyKind;
use crate::declare_rule;
use crate::lint::{LintContext, Severity};

declare_rule! {
    /// `use_backend`/`default_backend` names no backend, a backend has no servers, or requests can match no backend.
    ///
    /// ## What it does
    /// Error when `use_backend` or `default_backend` names a backend that is
    /// not defined, or when a backend has no `server` (and does not answer
    /// requests itself: stats page, `monitor-uri`, `http-request return`,
    /// `deny`, `redirect`, `use-service`) and has no `server-template`, when
    /// some frontend routes to it (or a dynamic `use_backend` may). A backend
    /// whose `use-server` names its server with a log-format expression
    /// (`use-server %[lua.pick]`) is filled at run time (the runtime API's
    /// `add server`, the Data Plane API) and counts as having servers. A
    /// backend defined in another HAProxy file linted in the same run counts
    /// as defined: HAProxy reads several `-f` files as one configuration.
    /// Warning when a frontend with a `bind` has `use_backend` rules but no
    /// `default_backend` and no unconditional `use_backend` (a rule without
    /// `if`/`unless` applies to every request, manual: "If it is omitted, the
    /// rule is unconditionally applied"). In `mode tcp` (HAProxy's default
    /// mode) there is no 503 to send: the messages say the connection is
    /// closed.
    ///
    /// ## Why it causes 502s
    /// HAProxy refuses a config naming an unknown backend (a failed reload
    /// leaves stale config serving). A backend without servers, or a request
    /// that matches no rule, is answered with 503 by HAProxy itself, which
    /// clients and outer hops often report as a gateway error (guide step 4,
    /// upstream mappings).
    ///
    /// ## Example
    /// ```haproxy
    /// frontend web
    ///     default_backend webb
    /// backend web
    ///     server w1 10.0.0.5:8080 check
    /// ```
    ///
    /// ## Use instead
    /// ```haproxy
    /// frontend web
    ///     default_backend web
    /// backend web
    ///     server w1 10.0.0.5:8080 check
    /// ```
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// - HAProxy configuration manual, `default_backend` and `use_backend`:
    ///   <https://docs.haproxy.org/2.6/configuration.html#4-use_backend>
    /// - The 503 for unmatched requests and empty backends is HAProxy's
    ///   behaviour as observed, not stated in the manual.
    pub UndefinedBackend {
        id: "HAP-MAP-001",
        name: "undefined-backend",
        severity: Error,
        since: "0.1.0",
    }
}

fn check(ctx: &mut LintContext<'_>) {
    let model = ctx.model();
    let names: Vec<&str> = model.upstreams.iter().map(|u| u.name.as_str()).collect();
    // Backends of the other HAProxy files linted in the same run. HAProxy
    // reads several `-f` files as one configuration, in order (management
    // guide, `-f <cfgfile|cfgdir>`; `haproxy -c -f a.cfg -f b.cfg`), and
    // split layouts keep frontends and backends apart: Percona's XtraDB
    // Cluster operator loads `haproxy-global.cfg` (frontends) with
    // `haproxy.cfg` (backends). Given together, such a name is defined.
    let elsewhere: Vec<&str> = ctx
        .models()
        .iter()
        .filter(|m| m.kind == ProxyKind::Haproxy && !std::ptr::eq(*m, model))
        .flat_map(|m| m.upstreams.iter().map(|u| u.name.as_str()))
        .collect();
    for s in &model.servers {
        let mut has_rules = false;
        let mut has_default = false;
        for r in &s.routes {
            let Some(p) = &r.proxy else { continue };
            match &r.matcher {
                RouteMatch::Default => has_default = true,
                // `use_backend NAME` without a condition takes every request
                // that reaches it, as `default_backend` does; a dynamic name
                // that resolves to no backend falls through, so it does not.
                RouteMatch::Other(cond)
                    if cond.trim().is_empty() && !matches!(p.target, Target::Dynamic) =>
                {
                    has_default = true
                }
                _ => has_rules = true,
            }
            if let Target::Unknown(name) = &p.target {
                if elsewhere.contains(&name.as_str()) {
                    continue;
                }
                let near = nearest(name, &names);
                ctx.report(
                    p.span,
                    format!(
                        "'{}' sends requests to backend '{name}', which is not defined",
                        s.name
                    ),
                    match near {
                        Some(n) => format!("did you mean '{n}'?"),
                        None => "define the backend or fix the name".to_owned(),
                    },
                );
            }
        }
        // Without `bind` the frontend receives nothing as written (HAProxy
        // warns "has no 'bind' directive", src/proxy.c); an ingress
        // controller's base config adds its binds and default at run time.
        if has_rules && !has_default && s.directives.has("bind") {
            ctx.report_at(
                Severity::Warning,
                s.span,
                // In `mode tcp` there is no HTTP answer: HAProxy finds no
                // server and closes the connection (logged `NOSRV`).
                match s.mode.value {
                    Mode::Tcp => format!("'{}' has `use_backend` rules but no `default_backend`: connections matching none are closed (no server)", s.name),
                    _ => format!("'{}' has `use_backend` rules but no `default_backend`: requests matching none get 503", s.name),
                },
                "add a `default_backend`",
            );
        }
    }
    // A backend nothing routes to receives no request: an empty one is a
    // placeholder (HAProxy's tests/conf/test-pollers.cfg, a Data Plane API
    // base config filled at run time), not a 503. A dynamic `use_backend`
    // (`%[…]`) may name any backend.
    let mut referenced = std::collections::HashSet::new();
    let mut dynamic = false;
    for s in &model.servers {
        for r in &s.routes {
            match r.proxy.as_ref().map(|p| &p.target) {
                Some(Target::Pool(name)) => {
                    referenced.insert(name.as_str());
                }
                Some(Target::Dynamic) => dynamic = true,
                _ => {}
            }
        }
    }
    for u in &model.upstreams {
        if !dynamic && !referenced.contains(u.name.as_str()) {
            continue;
        }
        if u.servers.is_empty()
            && !u.directives.has("server-template")
            && !answers_itself(&own_lines(&u.directives, u.span))
            && !filled_at_run_time(&u.directives)
        {
            ctx.report(
                u.span,
                match u.mode.value {
                    Mode::Tcp => format!(
                        "backend '{}' has no servers: every connection to it is closed",
                        u.name
                    ),
                    _ => format!(
                        "backend '{}' has no servers: every request to it fails with 503",
                        u.name
                    ),
                },
                "add `server` lines (or a `server-template`)",
            );
        }
    }
}

/// The lines written in the section itself: those inherited from a
/// `defaults` section come before its header (HAProxy applies a `defaults`
/// to the sections that follow it). A `stats enable` in `defaults` turns
/// the stats page on in every backend, but a backend answers only the stats
/// URI itself; every other request still needs a server (CouchDB's
/// haproxy.cfg before its server lines are generated).
fn own_lines(d: &Directives, header: crate::source::Span) -> Directives {
    let mut own = Directives::new();
    for x in d.iter() {
        if x.span.file == header.file && x.span.start >= header.start {
            own.push(x.clone());
        }
    }
    own
}

/// True when the section answers requests itself, so it needs no server:
/// the stats page (`stats enable`/`stats uri`), `monitor-uri`, `http-request
/// return|deny|redirect|use-service`, `redirect`, `use-service` (HAProxy
/// manual: `stats enable` "enables statistics reporting", `monitor-uri`,
/// `http-request return`; `haproxy -c` accepts such a `listen` without
/// servers).
fn answers_itself(d: &Directives) -> bool {
    d.has("stats")
        || d.has("monitor-uri")
        || d.has("redirect")
        || d.all("http-request").iter().any(|r| {
            matches!(
                r.arg(0),
                Some("return" | "deny" | "redirect" | "use-service" | "tarpit")
            )
        })
        || d.all("tcp-request")
            .iter()
            .any(|r| r.args.iter().any(|a| a.value == "use-service"))
}

/// True when the backend picks its server by a name computed per request
/// (`use-server %[…]`: manual, `use-server`, "a Custom log format string
/// resolving to a server name"): with no `server` line such a name can only
/// be one added at run time (`add server` on the runtime API since 2.4, the
/// Data Plane API), as BasedFlare's haproxy-protection does.
fn filled_at_run_time(d: &Directives) -> bool {
    d.all("use-server")
        .iter()
        .any(|u| u.arg(0).is_some_and(|n| n.contains("%[")))
}

/// The defined name closest to `name` (edit distance ≤ 2).
fn nearest<'a>(name: &str, names: &[&'a str]) -> Option<&'a str> {
    crate::config::names::nearest(name, names.iter().copied(), 2)
}

#[cfg(test)]
mod tests {
    use super::super::test_util::findings;

    #[test]
    fn fail() {
        assert_eq!(
            findings("HAP-MAP-001", "defaults\n mode http\nfrontend f\n bind :80\n use_backend api if { path_beg /api }\n use_backend ap if { path_beg /x }\nbackend web\n server a 10.0.0.1:80\nbackend ap\n"),
            [
                "'f' has `use_backend` rules but no `default_backend`: requests matching none get 503",
                "'f' sends requests to backend 'api', which is not defined",
                "backend 'ap' has no servers: every request to it fails with 503",
            ]
        );
        // a conditional rule, or a dynamic name that may resolve to nothing,
        // leaves requests without a backend
        for rules in [
            " use_backend app if { path_beg /app }\n",
            " use_backend %[req.hdr(host),lower]\n",
        ] {
            assert_eq!(
                findings(
                    "HAP-MAP-001",
                    &format!("frontend f\n mode http\n bind :80\n{rules}backend app\n server a 10.0.0.1:80\n")
                ),
                ["'f' has `use_backend` rules but no `default_backend`: requests matching none get 503"],
                "{rules}"
            );
        }
        // a static `use-server` names a server that must be in the file
        assert_eq!(
            findings(
                "HAP-MAP-001",
                "defaults\n mode http\nfrontend f\n bind :80\n default_backend b\nbackend b\n use-server s1 if TRUE\n"
            ),
            ["backend 'b' has no servers: every request to it fails with 503"]
        );
        // an unreferenced empty backend counts once a dynamic rule may name it
        assert_eq!(
            findings("HAP-MAP-001", "defaults\n mode http\nfrontend f\n bind :80\n use_backend %[req.hdr(host),lower]\n default_backend web\nbackend web\n server a 10.0.0.1:80\nbackend spare\n"),
            ["backend 'spare' has no servers: every request to it fails with 503"]
        );
    }

    #[test]
    fn tcp_frontends_close_what_matches_no_rule() {
        // SNI routing in mode tcp: there is no 503 to send
        assert_eq!(
            findings(
                "HAP-MAP-001",
                "defaults\n mode tcp\nfrontend tls\n bind :443\n tcp-request inspect-delay 5s\n use_backend a if { req.ssl_sni -i a.example.com }\nbackend a\n server a1 10.0.0.1:443 check\n"
            ),
            ["'tls' has `use_backend` rules but no `default_backend`: connections matching none are closed (no server)"]
        );
        assert_eq!(
            findings(
                "HAP-MAP-001",
                "frontend tls\n bind :443\n default_backend a\nbackend a\n"
            ),
            ["backend 'a' has no servers: every connection to it is closed"]
        );
    }

    #[test]
    fn stats_inherited_from_defaults_answer_no_request() {
        // CouchDB's rel/haproxy.cfg with its `<<server …>>` template line
        // not expanded: `stats enable` and `monitor-uri` come from defaults
        assert_eq!(
            findings(
                "HAP-MAP-001",
                "defaults\n mode http\n stats enable\n stats uri /_stats\n monitor-uri /_health\n timeout connect 5s\n timeout client 5s\n timeout server 5s\nfrontend f\n bind :80\n default_backend b\nbackend b\n option httpchk GET /_up\n"
            ),
            ["backend 'b' has no servers: every request to it fails with 503"]
        );
    }

    #[test]
    fn backends_in_another_file_of_the_run() {
        // Percona's XtraDB Cluster operator: frontends in haproxy-global.cfg,
        // backends in haproxy.cfg, loaded with `-f` each
        use crate::config::{haproxy, LoadOptions};
        use crate::lint::{check, Selection, Settings};
        use crate::source::SourceMap;
        let mut sm = SourceMap::new();
        let global = sm.add(
            "haproxy-global.cfg",
            b"frontend galera-in\n mode tcp\n bind *:3306\n default_backend galera-nodes\n"
                .to_vec(),
        );
        let backends = sm.add(
            "haproxy.cfg",
            b"backend galera-nodes\n mode tcp\n server n0 10.0.0.1:3306 check\n".to_vec(),
        );
        let opts = LoadOptions::default();
        let sel = Selection {
            select: vec!["HAP-MAP-001".into()],
            ignore: vec![],
        };
        let alone: Vec<_> = haproxy::parse(&mut sm, global, &opts)
            .model
            .into_iter()
            .collect();
        assert_eq!(check(&alone, &sm, &Settings::default(), &sel).len(), 1);
        let both: Vec<_> = [global, backends]
            .into_iter()
            .flat_map(|f| haproxy::parse(&mut sm, f, &opts).model)
            .collect();
        let found = check(&both, &sm, &Settings::default(), &sel);
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn pass() {
        assert!(findings("HAP-MAP-001", "frontend f\n bind :80\n use_backend api if { path_beg /api }\n default_backend web\nbackend web\n server a 10.0.0.1:80\nbackend api\n server-template s 3 api.internal:80\n").is_empty());
        // issue 8: sections that answer requests themselves need no server
        for src in [
            "listen stats\n mode http\n bind :8404\n stats enable\n stats uri /stats\n",
            "listen health\n mode http\n bind :81\n monitor-uri /healthz\n",
            "listen ok\n mode http\n bind :82\n http-request return status 200\n",
            "listen https\n mode http\n bind :80\n http-request redirect scheme https\n",
        ] {
            assert!(findings("HAP-MAP-001", src).is_empty(), "{src}");
        }
        // HAProxy's tests/conf/test-pollers.cfg: a placeholder nothing uses
        assert!(findings(
            "HAP-MAP-001",
            "global\n maxconn 10\nbackend dummy\n balance\n"
        )
        .is_empty());
        // coraza-spoa's and CrowdSec's examples: an unconditional
        // `use_backend` is the default for every request that reaches it
        assert!(findings(
            "HAP-MAP-001",
            "frontend f\n bind :80\n http-request deny if { path_beg /admin }\n use_backend app\nbackend app\n server a 10.0.0.1:80\n"
        )
        .is_empty());
        // BasedFlare's haproxy-protection: servers added at run time and
        // picked by a Lua-computed name
        assert!(findings(
            "HAP-MAP-001",
            "frontend f\n bind :80\n default_backend servers\nbackend servers\n use-server %[lua.get_server_names] if TRUE\n"
        )
        .is_empty());
        // kubernetes-ingress's base haproxy.cfg: no `bind` yet, the
        // controller adds binds and the default backend at run time
        assert!(findings(
            "HAP-MAP-001",
            "frontend https\n mode http\n use_backend %[var(txn.path_match),field(1,.)]\n"
        )
        .is_empty());
    }

    #[test]
    fn nearest_name() {
        assert_eq!(super::nearest("webb", &["web", "api"]), Some("web"));
        assert_eq!(super::nearest("zzz", &["web", "api"]), None);
    }
}
