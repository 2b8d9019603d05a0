//! HAProxy: the settings of the backend the log names (`%b`), after
//! `defaults` inheritance (resolved by `config::haproxy`), behind each cause.
//! Facts from the HAProxy configuration manual (section and keyword named at
//! each) and `include/haproxy/defaults.h` for the values the manual leaves
//! out.

use std::time::Duration;

use super::{human, Attribution, Measured, Phase, ProxyConfigs, TOLERANCE_MS};
use crate::analyze::cause::Cause;
use crate::config::haproxy::lower::{
    DEFAULT_BUFSIZE, DEFAULT_FALL, DEFAULT_INTER, DEFAULT_RETRIES, DEFAULT_RISE,
};
use crate::config::model::{Directive, ProxyModel, Upstream};
use crate::source::Span;

/// `tune.maxrewrite` when unset: 1024 (`MAXREWRITE` in defaults.h; the
/// manual: "it is generally wise to set it to about 1024").
const DEFAULT_MAXREWRITE: u64 = 1024;

/// How many server lines are cited for `no_live_upstream`.
const SERVERS_CITED: usize = 5;

struct Ctx<'a> {
    cfg: &'a ProxyConfigs,
    up: &'a Upstream,
    scope: String,
    m: &'a Measured,
}

impl Ctx<'_> {
    fn at(&self, span: Span) -> String {
        format!("{}, {}", self.cfg.at(span), self.scope)
    }

    /// A `timeout <name>` of the backend: (value, written text, directive).
    fn timeout(&self, name: &str) -> (Option<Duration>, Option<&Directive>) {
        let d = self.up.directives.get(&format!("timeout {name}"));
        let v = d
            .and_then(|d| d.time(0))
            .map(|t| t.value)
            .filter(|d| !d.is_zero());
        (v, d)
    }

    fn retries(&self) -> (u32, Option<&Directive>) {
        let d = self.up.directives.get("retries");
        let n = d
            .and_then(|d| d.count(0))
            .and_then(|n| u32::try_from(n.value).ok())
            .unwrap_or(DEFAULT_RETRIES);
        (n, d)
    }
}

/// Cite what bears on `cause` for backend `name` of `model`.
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
    let c = Ctx {
        cfg,
        up,
        scope: format!("backend {name}"),
        m,
    };
    // the counts are over all the cause's requests: said once, with the
    // first backend
    if m.pools.first().is_none_or(|(p, _)| p == name) {
        out.notes.extend(retried(&c, cause));
    }
    match cause {
        Cause::Timeout => timeouts(&c, out),
        Cause::UpstreamRefused
        | Cause::UpstreamReset
        | Cause::UpstreamClosedEarly
        | Cause::KeepaliveRace
        | Cause::Passthrough => retries(&c, cause, out),
        Cause::HeaderTooBig => buffers(&c, model, out),
        Cause::NoLiveUpstream => servers(&c, out),
        Cause::InvalidHeader => {
            // `PH` is both an invalid header and headers over
            // tune.bufsize − tune.maxrewrite; the log does not tell which
            invalid_header(&c, out);
            buffers(&c, model, out);
        }
        _ => {}
    }
}

fn timeouts(c: &Ctx<'_>, out: &mut Attribution) {
    let (retries, _) = c.retries();
    let (connect, connect_d) = c.timeout("connect");
    let mut matched = false;
    for (name, meaning) in [
        (
            "server",
            "how long HAProxy waits for the server's response once the request is sent (manual, `timeout server`); a 504 with `sH` when it fires",
        ),
        (
            "connect",
            "how long each connection attempt may take (manual, `timeout connect`); a failed attempt is retried `retries` times",
        ),
        (
            "queue",
            "how long a request may wait for a free server slot (manual, `timeout queue`); a 503 with `sQ` when it fires",
        ),
    ] {
        let (mut v, d) = c.timeout(name);
        let mut defaulted = d.is_none();
        let mut value = match d {
            Some(d) => d.args_text(),
            None => "not set".into(),
        };
        let span = d.map_or(c.up.span, |d| d.span);
        if name == "queue" && d.is_none() {
            // "If unspecified, the same value as the backend's connection
            // timeout ("timeout connect") is used" (manual, `timeout queue`).
            v = connect;
            value = match connect_d {
                Some(cd) => format!("{} (timeout connect)", cd.args_text()),
                None => "not set".into(),
            };
            defaulted = true;
        }
        let mut note = match (v, d.is_some()) {
            (None, true) => format!("`timeout {name} {value}` disables the limit: {meaning}"),
            (None, false) => format!(
                "`timeout {name}` is not set: no limit (HAProxy warns at start-up); {meaning}"
            ),
            (Some(_), _) => format!("`timeout {name} {value}`: {meaning}"),
        };
        // the phase the requests ended in says which timer can have fired
        let phase = match name {
            "server" => Phase::Server,
            "connect" => Phase::Connect,
            _ => Phase::Queue,
        };
        let in_phase = c.m.phase == phase || c.m.phase == Phase::Any;
        if let (Some(limit), true) = (v, in_phase) {
            let what = format!("(±{:.1} s)", TOLERANCE_MS as f64 / 1000.0);
            if c.m.matches(limit) {
                matched = true;
                note = format!(
                    "{}: that is `timeout {name} {}` ({})",
                    c.m.waited_phrase(&format!("{} {what}", match phase {
                        Phase::Server => "for the server's response (Ta − TR − Tw − Tc)",
                        Phase::Connect => "connecting (Ta − TR − Tw)",
                        _ => "in the queue (Ta − TR)",
                    })).unwrap_or_default(),
                    human(limit),
                    c.at(span)
                );
            } else if name == "connect" && retries > 0 {
                let total = limit.checked_mul(retries.saturating_add(1));
                if total.is_some_and(|t| c.m.matches(t)) {
                    matched = true;
                    note = format!(
                        "{}: that is {} connection attempts of `timeout connect {}` ({}; `retries {retries}`)",
                        c.m.waited_phrase(&format!("connecting {what}")).unwrap_or_default(),
                        retries.saturating_add(1),
                        human(limit),
                        c.at(span)
                    );
                }
            }
        }
        out.settings.push(c.cfg.cite(
            &format!("timeout {name}"),
            value,
            defaulted,
            span,
            &c.scope,
            note,
        ));
    }
    if !matched {
        if let Some(p) =
            c.m.waited_phrase("in the phase that failed (Ta − TR − Tw − Tc)")
        {
            out.notes.push(format!(
                "{p}: none of the timeouts of {} is within ±{:.1} s of it (a limit outside this backend, or no single limit, ended them)",
                c.scope,
                TOLERANCE_MS as f64 / 1000.0
            ));
        }
    }
}

/// How many of the cause's requests HAProxy had already retried, by the
/// retries field of its log (`%rc`, `+` when redispatched: manual §8.2.3).
/// Said for every cause when some were; that none were only where retries
/// are the question (a refused server, a server's own 5xx).
fn retried(c: &Ctx<'_>, cause: Cause) -> Option<String> {
    let (of, n, moved) = c.m.retries;
    let asked = matches!(cause, Cause::UpstreamRefused | Cause::Passthrough);
    if of == 0 || (n == 0 && !asked) {
        return None;
    }
    Some(if n == 0 {
        format!(
            "none of the {of} requests was retried: the log's retries field (%rc) is 0 for each"
        )
    } else {
        format!(
            "{n} of {of} requests were already retries (the log's retries field, %rc, above 0){}",
            if moved > 0 {
                format!(", {moved} of them redispatched to another server (`+`)")
            } else {
                String::new()
            }
        )
    })
}

/// True when the backend balances round-robin (`balance roundrobin` or
/// `static-rr`, or no `balance`: roundrobin is the default) over more than
/// one server.
fn round_robin(up: &Upstream) -> bool {
    let rr = up
        .directives
        .get("balance")
        .and_then(|d| d.arg(0))
        .is_none_or(|a| a == "roundrobin" || a == "static-rr");
    rr && up.servers.len() > 1
}

fn retries(c: &Ctx<'_>, cause: Cause, out: &mut Attribution) {
    let (n, d) = c.retries();
    let span = d.map_or(c.up.span, |d| d.span);
    let redispatch = c.up.directives.get("option redispatch");
    let no_redispatch = c.up.directives.get("no option redispatch");
    let on_redispatch = redispatch.is_some() && no_redispatch.is_none();
    let retry_on = c.up.directives.get("retry-on");
    let after_send = !matches!(cause, Cause::UpstreamRefused);
    let note = if cause == Cause::Passthrough {
        // a status the server sent is retried only when `retry-on` names
        // it (or `all-retryable-errors`); the default is `conn-failure`
        let listed = retry_on.is_some_and(|r| {
            r.args.iter().any(|a| {
                a.value == "all-retryable-errors"
                    || a.value.len() == 3 && a.value.bytes().all(|b| b.is_ascii_digit())
            })
        });
        match retry_on {
            Some(r) if listed => format!(
                "`retries {n}` with `retry-on {}`: the statuses listed are retried (manual, `retry-on`); these requests got the server's answer after the retries it allowed",
                r.args_text()
            ),
            Some(r) => format!(
                "`retry-on {}` lists no status: the server's own 5xx is passed to the client as it is, not retried (manual, `retry-on`)",
                r.args_text()
            ),
            None => format!(
                "`retries {n}` with the default `retry-on conn-failure`: only failed connections are retried; the server's own 5xx is passed to the client as it is, not retried (manual, `retries`, `retry-on`)"
            ),
        }
    } else if after_send {
        match retry_on {
            Some(r) => format!(
                "`retries {n}` with `retry-on {}`: a failure after the request was sent is retried only for the conditions listed (manual, `retry-on`)",
                r.args_text()
            ),
            None => format!(
                "`retries {n}` applies to connection failures only: with the default `retry-on conn-failure`, a connection that fails after the request was sent is not retried (manual, `retries`, `retry-on`)"
            ),
        }
    } else {
        if n == 0 {
            "`retries 0`: a refused connection is not retried (manual, `retries`)".to_string()
        } else {
            format!(
                "a refused connection is retried up to {n} times{} before HAProxy gives up (manual, `retries`)",
                if on_redispatch && round_robin(c.up) {
                    // stream_choose_redispatch() (HAProxy's stream.h):
                    // without persistence, with round-robin balancing and
                    // more than one active server, the retry goes to
                    // another server at once
                    ", the first retry already on another server (`option redispatch`, round-robin balancing over several servers)"
                } else if on_redispatch {
                    ", the last one on another server (`option redispatch`; with round-robin balancing over several servers, the first)"
                } else {
                    " on the same server (no `option redispatch`)"
                }
            )
        }
    };
    out.settings.push(
        c.cfg
            .cite("retries", n.to_string(), d.is_none(), span, &c.scope, note),
    );
    let (rd_span, rd_val, rd_default) = match (redispatch, no_redispatch) {
        (_, Some(d)) => (d.span, "off (no option redispatch)".to_string(), false),
        (Some(d), None) => (
            d.span,
            if d.args.is_empty() {
                "on".to_string()
            } else {
                format!("on, every {} retries", d.args_text())
            },
            false,
        ),
        (None, None) => (c.up.span, "off".to_string(), true),
    };
    out.settings.push(c.cfg.cite(
        "option redispatch",
        rd_val,
        rd_default,
        rd_span,
        &c.scope,
        if on_redispatch {
            "retries may move to another server of the backend (manual, `option redispatch`)".into()
        } else {
            "retries stay on the server that failed (manual, `option redispatch`: off unless set)"
                .into()
        },
    ));
    if let Some(r) = retry_on {
        out.settings.push(c.cfg.cite(
            "retry-on",
            r.args_text(),
            false,
            r.span,
            &c.scope,
            "the failures HAProxy retries (manual, `retry-on`)".into(),
        ));
    }
    if matches!(
        cause,
        Cause::KeepaliveRace | Cause::UpstreamReset | Cause::UpstreamClosedEarly
    ) {
        let reuse = c.up.directives.get("http-reuse");
        out.settings.push(c.cfg.cite(
            "http-reuse",
            reuse.map_or("safe".into(), |d| d.args_text()),
            reuse.is_none(),
            reuse.map_or(c.up.span, |d| d.span),
            &c.scope,
            "idle server connections are reused for other requests (manual, `http-reuse`, default `safe`): a server that closes an idle connection as HAProxy reuses it resets the request".into(),
        ));
    }
}

fn buffers(c: &Ctx<'_>, model: &ProxyModel, out: &mut Attribution) {
    let main = &model.global.main;
    let size = |name: &str, default: u64| -> (u64, Option<&Directive>) {
        let d = main.get(name);
        let v = d.and_then(|d| d.size(0)).map_or(default, |s| s.value);
        (v, d)
    };
    let (buf, bd) = size("tune.bufsize", DEFAULT_BUFSIZE);
    let (rew, rd) = size("tune.maxrewrite", DEFAULT_MAXREWRITE);
    let room = buf.saturating_sub(rew);
    let scope = "global";
    out.settings.push(c.cfg.cite(
        "tune.bufsize",
        bd.map_or(buf.to_string(), |d| d.args_text()),
        bd.is_none(),
        bd.map_or(model.span, |d| d.span),
        scope,
        format!(
            "a request or response whose headers do not fit in tune.bufsize − tune.maxrewrite = {room} bytes is refused (manual, `tune.bufsize`, `tune.maxrewrite`): a response gets the client a 502 with `PH`"
        ),
    ));
    out.settings.push(c.cfg.cite(
        "tune.maxrewrite",
        rd.map_or(rew.to_string(), |d| d.args_text()),
        rd.is_none(),
        rd.map_or(model.span, |d| d.span),
        scope,
        "kept free in each buffer for header rewrites (manual, `tune.maxrewrite`)".into(),
    ));
}

/// Value of parameter `name` on a server line (the word after it).
fn param<'a>(
    params: &'a [crate::config::model::Arg],
    name: &str,
) -> Option<&'a crate::config::model::Arg> {
    let i = params.iter().position(|a| a.value == name)?;
    params.get(i + 1)
}

fn servers(c: &Ctx<'_>, out: &mut Attribution) {
    for e in c.up.servers.iter().take(SERVERS_CITED) {
        let line = c.cfg.line_text(e.span);
        let sname = line.split_whitespace().nth(1).unwrap_or("?").to_string();
        let checked = e.params.iter().any(|a| a.value == "check");
        let inter = param(&e.params, "inter")
            .and_then(|a| a.time())
            .unwrap_or(DEFAULT_INTER);
        let fall: u32 = param(&e.params, "fall")
            .and_then(|a| a.count())
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(DEFAULT_FALL);
        let rise: u32 = param(&e.params, "rise")
            .and_then(|a| a.count())
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(DEFAULT_RISE);
        let maxconn = param(&e.params, "maxconn").map(|a| a.value.clone());
        let (value, note) = if checked {
            (
                format!("check inter {} fall {fall} rise {rise}", human(inter)),
                format!(
                    "health-checked every {}: marked DOWN after {fall} failed checks (about {}), UP again after {rise} good ones (manual, `check`, `inter`, `fall`, `rise`; defaults 2s/3/2){}",
                    human(inter),
                    inter.checked_mul(fall).map_or("a very long time".into(), human),
                    maxconn.as_ref().map_or(String::new(), |m| format!("; at most {m} connections, the rest queue (`maxconn`)"))
                ),
            )
        } else {
            (
                "no check".to_string(),
                format!(
                    "not health-checked: HAProxy never marks it DOWN by itself (manual, `check`), so \"no server available\" means it was disabled, in maintenance, or every server was full{}",
                    maxconn.as_ref().map_or(String::new(), |m| format!(" (`maxconn {m}`)"))
                ),
            )
        };
        out.settings.push(c.cfg.cite(
            &format!("server {sname}"),
            value,
            !checked,
            e.span,
            &c.scope,
            note,
        ));
    }
    if c.up.servers.is_empty() {
        out.notes.push(format!(
            "{} has no server line ({}): every request to it fails",
            c.scope,
            c.cfg.at(c.up.span)
        ));
    }
    let (q, d) = c.timeout("queue");
    if let Some(d) = d {
        out.settings.push(c.cfg.cite(
            "timeout queue",
            d.args_text(),
            false,
            d.span,
            &c.scope,
            format!(
                "a request waits at most {} for a free server before a 503 with `sQ` (manual, `timeout queue`)",
                q.map_or("without limit".into(), human)
            ),
        ));
    }
}

fn invalid_header(c: &Ctx<'_>, out: &mut Attribution) {
    for name in [
        "option accept-unsafe-violations-in-http-response",
        "option accept-invalid-http-response",
    ] {
        if let Some(d) = c.up.directives.get(name) {
            out.settings.push(c.cfg.cite(
                name,
                "on".into(),
                false,
                d.span,
                &c.scope,
                "some invalid response headers are let through (manual); the 502s are responses even this does not accept".into(),
            ));
            return;
        }
    }
    out.settings.push(c.cfg.cite(
        "option accept-unsafe-violations-in-http-response",
        "off".into(),
        true,
        c.up.span,
        &c.scope,
        "off: HAProxy answers 502 (`PH`) to a response it cannot parse as valid HTTP (manual, `option accept-unsafe-violations-in-http-response`, before 2.9 `accept-invalid-http-response`)".into(),
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ProxyKind;

    const CFG: &str = "global\n    tune.bufsize 8192\n\ndefaults\n    mode http\n    timeout connect 1s\n    timeout server 1s\n    retries 2\n\nbackend be\n    option redispatch\n    server a 10.0.0.1:80 check inter 3s fall 2\n    server b 10.0.0.2:80\n";

    fn run(cause: Cause, phase: Phase, mode_ms: Option<u64>) -> Attribution {
        let mut c = ProxyConfigs::default();
        c.add(
            "haproxy.cfg".into(),
            CFG.as_bytes().to_vec(),
            ProxyKind::Haproxy,
        );
        assert!(c.problems.is_empty(), "{:?}", c.problems);
        let m = Measured {
            pools: vec![("be".into(), 2)],
            mode_ms: mode_ms.map(|m| (m, 2)),
            phase,
            count: 2,
            ..Measured::default()
        };
        c.attribute(ProxyKind::Haproxy, cause, &m)
    }

    fn get<'a>(a: &'a Attribution, d: &str) -> &'a super::super::Citation {
        a.settings
            .iter()
            .find(|s| s.directive == d)
            .unwrap_or_else(|| panic!("{d}: {:?}", a.settings))
    }

    #[test]
    fn only_the_timer_of_the_phase_that_ended_is_matched() {
        // connect and server are both 1s: the termination state decides
        let a = run(Cause::Timeout, Phase::Connect, Some(1000));
        assert!(get(&a, "timeout connect")
            .note
            .contains("that is `timeout connect 1s`"));
        assert!(!get(&a, "timeout server").note.contains("that is"));
        let a = run(Cause::Timeout, Phase::Server, Some(1000));
        assert!(get(&a, "timeout server")
            .note
            .contains("that is `timeout server 1s`"));
        assert!(!get(&a, "timeout connect").note.contains("that is"));
        // inherited from defaults: cited at the defaults line
        assert_eq!(get(&a, "timeout server").line, 7);
        assert!(!get(&a, "timeout server").defaulted);
    }

    #[test]
    fn connect_timeouts_with_retries_count_every_attempt() {
        // retries 2: three attempts of 1s
        let a = run(Cause::Timeout, Phase::Connect, Some(3000));
        let n = &get(&a, "timeout connect").note;
        assert!(n.contains("3 connection attempts"), "{n}");
        let a = run(Cause::Timeout, Phase::Connect, Some(7000));
        assert!(a.notes[0].contains("none of the timeouts"), "{:?}", a.notes);
    }

    #[test]
    fn refused_servers_and_buffers_are_cited() {
        let a = run(Cause::UpstreamRefused, Phase::Any, None);
        assert_eq!(get(&a, "retries").value, "2");
        // two servers, round-robin by default: redispatched at once
        assert!(get(&a, "retries")
            .note
            .contains("the first retry already on another server"));
        assert_eq!(get(&a, "option redispatch").line, 11);
        let a = run(Cause::NoLiveUpstream, Phase::Any, None);
        assert_eq!(get(&a, "server a").value, "check inter 3s fall 2 rise 2");
        assert_eq!(get(&a, "server b").value, "no check");
        assert!(get(&a, "server b").defaulted);
        let a = run(Cause::HeaderTooBig, Phase::Any, None);
        assert!(get(&a, "tune.bufsize").note.contains("7168 bytes"));
        assert!(get(&a, "tune.maxrewrite").defaulted);
    }

    #[test]
    fn extreme_values_do_not_panic() {
        let cfg = "defaults\n    mode http\n    timeout connect 2147483647s\n    retries 4294967295\n\nbackend be\n    server a 10.0.0.1:80 check inter 2147483647s fall 4294967295\n";
        let mut c = ProxyConfigs::default();
        c.add("h.cfg".into(), cfg.as_bytes().to_vec(), ProxyKind::Haproxy);
        let m = Measured {
            pools: vec![("be".into(), 1)],
            mode_ms: Some((u64::MAX, 1)),
            phase: Phase::Connect,
            count: 1,
            ..Measured::default()
        };
        for cause in [
            Cause::Timeout,
            Cause::NoLiveUpstream,
            Cause::UpstreamRefused,
        ] {
            let a = c.attribute(ProxyKind::Haproxy, cause, &m);
            assert!(!a.settings.is_empty() || !a.notes.is_empty());
        }
        let mut stat = crate::analyze::stats::CauseStat::default();
        stat.waited.insert(u64::MAX, 1);
        assert_eq!(Measured::of(&stat).mode_ms.map(|m| m.1), Some(1));
    }
}
