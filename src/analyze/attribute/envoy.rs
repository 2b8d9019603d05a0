//! Envoy: the settings of the cluster the log names (`%UPSTREAM_CLUSTER%`)
//! and of the routes that send to it, behind each cause. Envoy has no
//! inheritance: an unset field is the v3 API's documented default (the
//! constants of `config::envoy::lower`, with their sources). Facts from the
//! Envoy API docs (`route_components.proto`, `cluster.proto`,
//! `protocol.proto`, `http_connection_manager.proto`) as named at each.

use std::time::Duration;

use super::{human, Attribution, Measured, ProxyConfigs, TOLERANCE_MS};
use crate::analyze::cause::Cause;
use crate::config::envoy::lower::{DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_REQUEST_HEADERS_KB};
use crate::config::model::{ProxyModel, Route, RouteMatch, Server, Setting, Target, Upstream};
#[cfg(test)]
use crate::config::ProxyKind;

/// How many routes to one cluster are cited.
const ROUTES_CITED: usize = 3;

struct Ctx<'a> {
    cfg: &'a ProxyConfigs,
    up: &'a Upstream,
    scope: String,
    m: &'a Measured,
    routes: Vec<(&'a Server, &'a Route)>,
}

fn route_scope(s: &Server, r: &Route, cluster: &str) -> String {
    let m = match &r.matcher {
        RouteMatch::Prefix(p) => format!("prefix {p}"),
        RouteMatch::Exact(p) => format!("path {p}"),
        RouteMatch::Regex(p, _) => format!("regex {p}"),
        RouteMatch::Named(p) | RouteMatch::Other(p) => p.clone(),
        RouteMatch::Default => "any path".into(),
    };
    format!("listener {}, route {m} → cluster {cluster}", s.name)
}

fn tol() -> String {
    format!("±{:.1} s", TOLERANCE_MS as f64 / 1000.0)
}

/// Cite what bears on `cause` for cluster `name` of `model`.
pub(super) fn attribute(
    cfg: &ProxyConfigs,
    model: &ProxyModel,
    name: &str,
    cause: Cause,
    m: &Measured,
    out: &mut Attribution,
) {
    let Some(up) = model.upstream(name) else {
        return;
    };
    let routes: Vec<(&Server, &Route)> = model
        .routes()
        .filter(|(_, r)| {
            r.proxy
                .as_ref()
                .is_some_and(|p| p.target == Target::Pool(name.to_string()) || p.host == name)
        })
        .collect();
    let c = Ctx {
        cfg,
        up,
        scope: format!("cluster {name}"),
        m,
        routes,
    };
    if c.routes.is_empty()
        && matches!(
            cause,
            Cause::Timeout
                | Cause::UpstreamRefused
                | Cause::UpstreamConnectFailed
                | Cause::UpstreamReset
        )
    {
        out.notes.push(format!(
            "no route of the config sends to cluster `{name}` (routes from RDS are not in the file): route timeouts and retry policies are not cited"
        ));
    }
    match cause {
        Cause::Timeout => timeouts(&c, out),
        Cause::UpstreamRefused | Cause::UpstreamConnectFailed => {
            connect_timeout(&c, out);
            retry_policies(&c, out);
            outlier(&c, out);
        }
        Cause::UpstreamReset | Cause::UpstreamClosedEarly | Cause::KeepaliveRace => {
            idle_timeout(&c, out);
            retry_policies(&c, out);
        }
        Cause::NoLiveUpstream => {
            health_checks(&c, out);
            outlier(&c, out);
            out.notes.push(format!(
                "circuit breakers (`circuit_breakers.thresholds` of cluster `{name}`; flag UO in the log) are not read from the config yet"
            ));
        }
        Cause::HeaderTooBig => header_limits(&c, out),
        _ => {}
    }
}

fn timeouts(c: &Ctx<'_>, out: &mut Attribution) {
    let mut matched = false;
    for (s, r) in c.routes.iter().take(ROUTES_CITED) {
        let scope = route_scope(s, r, &c.up.name);
        let t = &r.timeouts.read;
        let value = t.value.map_or("0 (disabled)".into(), human);
        let mut note = match t.value {
            None => "`timeout: 0s`: no route timeout (route_components.proto, RouteAction.timeout)".to_string(),
            Some(_) => format!(
                "the whole upstream exchange, retries included, must end within {value} or Envoy answers 504 with flag UT (route_components.proto, RouteAction.timeout; default 15s)"
            ),
        };
        if let Some(limit) = t.value {
            if c.m.matches(limit) {
                matched = true;
                note = format!(
                    "{}: that is the route `timeout: {value}` ({}, {scope})",
                    c.m.waited_phrase(&format!("({})", tol()))
                        .unwrap_or_default(),
                    c.cfg.at(t.span)
                );
            }
        }
        out.settings.push(
            c.cfg
                .cite("timeout", value, t.defaulted, t.span, &scope, note),
        );
        if r.directives.has("retry_policy") {
            let p = &r.retry.per_try;
            let tries = r.retry.tries.value;
            if let Some(limit) = p.value {
                let v = human(limit);
                let mut note = format!(
                    "each of up to {tries} attempts may take {v} (route_components.proto, RetryPolicy.per_try_timeout)"
                );
                if c.m.matches(limit) {
                    matched = true;
                    note = format!(
                        "{}: that is `per_try_timeout: {v}` ({}, {scope})",
                        c.m.waited_phrase(&format!("({})", tol()))
                            .unwrap_or_default(),
                        c.cfg.at(p.span)
                    );
                } else if tries > 1 && limit.checked_mul(tries).is_some_and(|t| c.m.matches(t)) {
                    matched = true;
                    note = format!(
                        "{}: that is {tries} attempts of `per_try_timeout: {v}` ({}, {scope})",
                        c.m.waited_phrase(&format!("({})", tol()))
                            .unwrap_or_default(),
                        c.cfg.at(p.span)
                    );
                }
                out.settings.push(c.cfg.cite(
                    "per_try_timeout",
                    v,
                    p.defaulted,
                    p.span,
                    &scope,
                    note,
                ));
            }
        }
        retry_policy(c, s, r, out);
    }
    if connect_timeout(c, out) {
        matched = true;
    }
    if !matched {
        if let Some(p) = c.m.waited_phrase("(%DURATION%)") {
            out.notes.push(format!(
                "{p}: none of the timeouts above is within {} of it",
                tol()
            ));
        }
    }
}

/// The cluster's `connect_timeout`; true when it matches the measurement.
fn connect_timeout(c: &Ctx<'_>, out: &mut Attribution) -> bool {
    let d = c.up.directives.get("connect_timeout");
    let st = match d {
        Some(d) => Setting::explicit(d.args_text(), d.span),
        None => Setting::default_at(human(DEFAULT_CONNECT_TIMEOUT), c.up.span),
    };
    let limit = d
        .and_then(|d| d.time(0))
        .map_or(DEFAULT_CONNECT_TIMEOUT, |t| t.value);
    let mut note = format!(
        "a connection to a host of the cluster must be up within {} (cluster.proto, connect_timeout; default 5s); a failure is flag UF",
        human(limit)
    );
    let matched = c.m.matches(limit);
    if matched {
        note = format!(
            "{}: that is `connect_timeout: {}` ({}, {})",
            c.m.waited_phrase(&format!("({})", tol()))
                .unwrap_or_default(),
            human(limit),
            c.cfg.at(st.span),
            c.scope
        );
    }
    out.settings.push(c.cfg.cite(
        "connect_timeout",
        st.value,
        st.defaulted,
        st.span,
        &c.scope,
        note,
    ));
    matched
}

fn retry_policy(c: &Ctx<'_>, s: &Server, r: &Route, out: &mut Attribution) {
    let scope = route_scope(s, r, &c.up.name);
    let on = &r.retry.on;
    let tries = r.retry.tries.value;
    let (value, note) = if r.directives.has("retry_policy") {
        (
            format!(
                "retry_on: {}, num_retries: {}",
                on.value.join(","),
                tries.saturating_sub(1)
            ),
            if on.value.is_empty() {
                "a retry policy without `retry_on` retries nothing (route_components.proto, RetryPolicy.retry_on)".to_string()
            } else {
                format!(
                    "up to {} attempts when a failure matches {} (route_components.proto, RetryPolicy; `connect-failure`, `reset` and `5xx` cover refused and reset connections); a retried request is flag URX when all fail",
                    tries,
                    on.value.join(",")
                )
            },
        )
    } else {
        (
            "none".to_string(),
            "no retry policy on the route or its virtual host: a failed attempt is not retried"
                .to_string(),
        )
    };
    out.settings.push(c.cfg.cite(
        "retry_policy",
        value,
        on.defaulted && !r.directives.has("retry_policy"),
        on.span,
        &scope,
        note,
    ));
}

fn retry_policies(c: &Ctx<'_>, out: &mut Attribution) {
    for (s, r) in c.routes.iter().take(ROUTES_CITED) {
        retry_policy(c, s, r, out);
    }
}

fn outlier(c: &Ctx<'_>, out: &mut Attribution) {
    match c.up.directives.get("outlier_detection") {
        Some(d) => {
            let e = c.up.servers.first();
            let n = e.map_or(5, |e| e.max_fails.value);
            let t = e.map_or(Duration::from_secs(30), |e| e.fail_timeout.value);
            out.settings.push(c.cfg.cite(
                "outlier_detection",
                format!("consecutive_5xx: {n}, base_ejection_time: {}", human(t)),
                false,
                d.span,
                &c.scope,
                format!(
                    "a host is ejected after {n} consecutive 5xx / connection failures, for {} × the times it was ejected (outlier_detection.proto)",
                    human(t)
                ),
            ));
        }
        None => out.settings.push(c.cfg.cite(
            "outlier_detection",
            "none".into(),
            true,
            c.up.span,
            &c.scope,
            "no outlier detection: a failing host keeps getting its share of requests (cluster.proto)".into(),
        )),
    }
}

fn health_checks(c: &Ctx<'_>, out: &mut Attribution) {
    let checks = c.up.directives.all("health_check");
    if checks.is_empty() {
        out.settings.push(c.cfg.cite(
            "health_checks",
            "none".into(),
            true,
            c.up.span,
            &c.scope,
            "no active health checks: every host counts as healthy unless outlier detection ejects it (cluster.proto), so flag UH means the cluster had no host at all or all were ejected".into(),
        ));
    }
    for d in checks {
        out.settings.push(c.cfg.cite(
            "health_checks",
            c.cfg.line_text(d.span).trim().to_string(),
            false,
            d.span,
            &c.scope,
            "hosts failing the active health check are taken out of the cluster: flag UH when none is left (health_check.proto)".into(),
        ));
    }
}

fn idle_timeout(c: &Ctx<'_>, out: &mut Attribution) {
    let k = &c.up.keepalive_timeout;
    out.settings.push(c.cfg.cite(
        "common_http_protocol_options.idle_timeout",
        human(k.value),
        k.defaulted,
        k.span,
        &c.scope,
        format!(
            "Envoy keeps an idle upstream connection up to {} (protocol.proto, idle_timeout; default 1h): if the app closes idle connections sooner, a request sent on one as it closes is reset (flag UC)",
            human(k.value)
        ),
    ));
}

fn header_limits(c: &Ctx<'_>, out: &mut Attribution) {
    for (s, _) in c.routes.iter().take(1) {
        let d = s.directives.get("max_request_headers_kb");
        let v = d
            .and_then(|d| d.arg(0))
            .map_or(DEFAULT_MAX_REQUEST_HEADERS_KB.to_string(), str::to_string);
        out.settings.push(c.cfg.cite(
            "max_request_headers_kb",
            v.clone(),
            d.is_none(),
            d.map_or(s.span, |d| d.span),
            &format!("listener {}", s.name),
            format!("request headers over {v} KiB are refused with 431 (http_connection_manager.proto; default 60)"),
        ));
    }
    let d = c.up.directives.get("max_response_headers_kb");
    out.settings.push(c.cfg.cite(
        "max_response_headers_kb",
        d.map_or("60".into(), |d| d.args_text()),
        d.is_none(),
        d.map_or(c.up.span, |d| d.span),
        &c.scope,
        "response headers over this many KiB from the cluster fail the request with a 502 (protocol.proto, max_response_headers_kb; default 60)".into(),
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/attrib/envoy/envoy.yaml"
    );

    fn configs() -> (ProxyConfigs, String) {
        let text = std::fs::read_to_string(FIXTURE).expect("fixture");
        let mut c = ProxyConfigs::default();
        c.add(
            FIXTURE.into(),
            text.clone().into_bytes(),
            crate::config::ProxyKind::Envoy,
        );
        assert!(c.problems.is_empty(), "{:?}", c.problems);
        (c, text)
    }

    fn line(text: &str, needle: &str) -> u32 {
        text.lines()
            .position(|l| l.contains(needle))
            .map(|i| i as u32 + 1)
            .expect("line in fixture")
    }

    fn measured(pool: &str, mode_ms: Option<u64>) -> Measured {
        Measured {
            pools: vec![(pool.to_string(), 4)],
            mode_ms: mode_ms.map(|m| (m, 3)),
            phase: super::super::Phase::Any,
            count: 4,
            ..Measured::default()
        }
    }

    fn get<'a>(a: &'a Attribution, directive: &str) -> &'a super::super::Citation {
        a.settings
            .iter()
            .find(|s| s.directive == directive)
            .unwrap_or_else(|| panic!("{directive} in {:?}", a.settings))
    }

    #[test]
    fn route_timeout_of_the_cluster_route_matches_the_durations() {
        let (c, text) = configs();
        let a = c.attribute(
            ProxyKind::Envoy,
            Cause::Timeout,
            &measured("api", Some(29_900)),
        );
        let t = get(&a, "timeout");
        assert_eq!(t.value, "30s");
        assert!(!t.defaulted);
        assert_eq!(t.line, line(&text, "timeout: 30s"));
        assert!(
            t.scope.contains("route prefix /api → cluster api"),
            "{}",
            t.scope
        );
        assert!(
            t.note.contains("that is the route `timeout: 30s`"),
            "{}",
            t.note
        );
        let p = get(&a, "per_try_timeout");
        assert_eq!(p.value, "8s");
        assert_eq!(p.line, line(&text, "per_try_timeout: 8s"));
        assert!(!p.note.contains("that is"), "{}", p.note);
        let ct = get(&a, "connect_timeout");
        assert_eq!(ct.value, "0.250s");
        assert_eq!(ct.line, line(&text, "connect_timeout: 0.25s"));
        assert!(a.notes.is_empty(), "{:?}", a.notes);
    }

    #[test]
    fn per_try_timeouts_times_attempts_are_recognised() {
        let (c, _) = configs();
        // 3 attempts of 8s
        let a = c.attribute(
            ProxyKind::Envoy,
            Cause::Timeout,
            &measured("api", Some(23_900)),
        );
        let p = get(&a, "per_try_timeout");
        assert!(
            p.note
                .contains("that is 3 attempts of `per_try_timeout: 8s`"),
            "{}",
            p.note
        );
        assert!(!get(&a, "timeout").note.contains("that is"));
        let a = c.attribute(
            ProxyKind::Envoy,
            Cause::Timeout,
            &measured("api", Some(8_000)),
        );
        assert!(get(&a, "per_try_timeout")
            .note
            .contains("that is `per_try_timeout: 8s`"));
    }

    #[test]
    fn unset_fields_are_the_documented_defaults_at_their_block() {
        let (c, text) = configs();
        let a = c.attribute(
            ProxyKind::Envoy,
            Cause::Timeout,
            &measured("web", Some(15_000)),
        );
        let t = get(&a, "timeout");
        assert_eq!(t.value, "15s");
        assert!(t.defaulted);
        assert!(
            t.note.contains("that is the route `timeout: 15s`"),
            "{}",
            t.note
        );
        let ct = get(&a, "connect_timeout");
        assert_eq!(ct.value, "5s");
        assert!(ct.defaulted);
        assert_eq!(ct.line, line(&text, "- name: web"));
        let r = get(&a, "retry_policy");
        assert_eq!(r.value, "none");
    }

    #[test]
    fn no_live_upstream_cites_health_checks_and_outlier_detection() {
        let (c, text) = configs();
        let a = c.attribute(
            ProxyKind::Envoy,
            Cause::NoLiveUpstream,
            &measured("api", None),
        );
        let h = get(&a, "health_checks");
        assert!(!h.defaulted);
        assert_eq!(h.line, line(&text, "- timeout: 1s"));
        let o = get(&a, "outlier_detection");
        assert!(o.value.contains("consecutive_5xx: 3"), "{}", o.value);
        assert!(a.notes.iter().any(|n| n.contains("circuit_breakers")));
        let a = c.attribute(
            ProxyKind::Envoy,
            Cause::NoLiveUpstream,
            &measured("web", None),
        );
        assert!(get(&a, "health_checks").defaulted);
        assert_eq!(get(&a, "outlier_detection").value, "none");
    }

    #[test]
    fn resets_cite_idle_timeout_and_headers_the_limits() {
        let (c, text) = configs();
        let a = c.attribute(
            ProxyKind::Envoy,
            Cause::UpstreamReset,
            &measured("api", None),
        );
        let i = get(&a, "common_http_protocol_options.idle_timeout");
        assert_eq!(i.value, "5m");
        assert_eq!(i.line, line(&text, "idle_timeout: 300s"));
        assert!(get(&a, "retry_policy")
            .value
            .contains("connect-failure,reset"));
        let a = c.attribute(
            ProxyKind::Envoy,
            Cause::HeaderTooBig,
            &measured("api", None),
        );
        let h = get(&a, "max_request_headers_kb");
        assert_eq!(h.value, "96");
        assert_eq!(h.line, line(&text, "max_request_headers_kb: 96"));
        assert!(get(&a, "max_response_headers_kb").defaulted);
    }

    #[test]
    fn a_cluster_not_in_the_config_or_not_logged_is_said() {
        let (c, _) = configs();
        let a = c.attribute(
            ProxyKind::Envoy,
            Cause::Timeout,
            &measured("billing", Some(1000)),
        );
        assert!(a.settings.is_empty());
        assert!(a.notes[0].contains("`billing`"), "{:?}", a.notes);
        let a = c.attribute(ProxyKind::Envoy, Cause::Timeout, &Measured::default());
        assert!(a.settings.is_empty());
        assert!(a.notes[0].contains("%UPSTREAM_CLUSTER%"), "{:?}", a.notes);
    }
}
