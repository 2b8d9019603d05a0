//! The timeout ladder at run time: each hop's limit on waiting for the hop
//! inside it, outer → inner, checked rung by rung, with the observed 5xx
//! durations placed on it.
//!
//! The runtime twin of lint's ALL-TMO-001: the arithmetic (a route's wait,
//! retries included; "the outer hop gives up first") is
//! [`crate::config::ladder`], shared with the rule. Limits come from the
//! configs read for the analysis (nginx, HAProxy, Envoy, through the same
//! `config::model`), from `--hop-timeout NAME=DURATION` for a hop whose
//! config is not in the dump (a CDN, a cloud load balancer), or from the
//! vendor's documented default for a hop whose logs are there but whose
//! setting is not (said so, with the document). The order is the one the
//! 502s' join found ([`super::born::Born::order`]); hops known only from a
//! config or a flag are slotted in by kind.
//!
//! Imports `config` and the analysis' own types; knows nothing of output.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use super::attribute::{ProxyConfigs, TOLERANCE_MS};
use super::born::Born;
use super::born_tally::Tally;
use super::nginx_config::NginxConfig;
use crate::config::ladder::{
    gives_up_first, read_setting, route_scope, route_wait, DEFAULT_MARGIN,
};
use crate::config::model::Listen;
use crate::config::nginx::units::fmt_duration as human;
use crate::config::{ProxyKind, ProxyModel};
use crate::logs::hop::HopKind;

/// At most this many limits are kept per hop (the longest waits first).
pub const LIMITS_KEPT: usize = 20;

/// What is known of a hop kind gatecheck can be told about.
struct Vendor {
    /// Name in the logs' hop names and in `--hop-timeout` (`gcp_lb` is also
    /// accepted as `gcp-lb`).
    name: &'static str,
    kind: HopKind,
    /// The documented default wait for the upstream's answer: (value, the
    /// setting's name, where it is documented).
    default: Option<(u64, &'static str, &'static str)>,
    /// The status the hop answers when that wait runs out.
    gives_up_with: Option<u16>,
}

/// The hops `--hop-timeout` knows, outer kinds first.
const VENDORS: &[Vendor] = &[
    Vendor {
        name: "cdn",
        kind: HopKind::Cdn,
        default: None,
        gives_up_with: None,
    },
    Vendor {
        name: "cloudfront",
        kind: HopKind::Cdn,
        // CloudFront API reference, CustomOriginConfig `OriginReadTimeout`
        // ("also known as the origin response timeout … the default … is 30
        // seconds"); a timeout is a 504 (FORMATS.md, CloudFront).
        default: Some((
            30_000,
            "origin response timeout",
            "CloudFront API reference, OriginReadTimeout",
        )),
        gives_up_with: Some(504),
    },
    Vendor {
        name: "cloudflare",
        kind: HopKind::Cdn,
        // Cloudflare docs, "Error 524": no HTTP response "before the default
        // 100 seconds Proxy Read Timeout".
        default: Some((100_000, "Proxy Read Timeout", "Cloudflare docs, Error 524")),
        gives_up_with: Some(524),
    },
    Vendor {
        name: "fastly",
        kind: HopKind::Cdn,
        // Fastly VCL reference, `bereq.first_byte_timeout`: "By default, the
        // timeout is 15s"; it ends in vcl_error with status 503.
        default: Some((
            15_000,
            "first_byte_timeout",
            "Fastly VCL reference, bereq.first_byte_timeout",
        )),
        gives_up_with: Some(503),
    },
    Vendor {
        name: "lb",
        kind: HopKind::Lb,
        default: None,
        gives_up_with: None,
    },
    Vendor {
        name: "alb",
        kind: HopKind::Lb,
        // ELB user guide, "Edit attributes for your Application Load
        // Balancer": "By default, ELB sets the idle timeout value … to 60
        // seconds"; no answer within it is a 504 (FORMATS.md, ALB).
        default: Some((
            60_000,
            "idle timeout",
            "ELB user guide, Application Load Balancer attributes",
        )),
        gives_up_with: Some(504),
    },
    Vendor {
        name: "gcp_lb",
        kind: HopKind::Lb,
        // Compute API, BackendService `timeoutSec`: "The default is 30
        // seconds"; the log says backend_timeout with a 502 (FORMATS.md).
        default: Some((
            30_000,
            "backend service timeout",
            "Google Cloud Compute API, BackendService timeoutSec",
        )),
        gives_up_with: Some(502),
    },
    // the proxies' limits come from their configs; each answers 504 when
    // it runs out (FORMATS.md: nginx `upstream timed out`, Envoy UT,
    // HAProxy sH)
    Vendor {
        name: "nginx",
        kind: HopKind::Proxy,
        default: None,
        gives_up_with: Some(504),
    },
    Vendor {
        name: "haproxy",
        kind: HopKind::Proxy,
        default: None,
        gives_up_with: Some(504),
    },
    Vendor {
        name: "envoy",
        kind: HopKind::Proxy,
        default: None,
        gives_up_with: Some(504),
    },
    Vendor {
        name: "app",
        kind: HopKind::App,
        default: None,
        gives_up_with: None,
    },
];

fn vendor(name: &str) -> Option<&'static Vendor> {
    VENDORS.iter().find(|v| v.name == name)
}

/// Order of hops of one kind (the usual layout: nginx in front of HAProxy,
/// in front of Envoy sidecars; as `born` assumes without evidence).
fn rank(name: &str) -> usize {
    VENDORS
        .iter()
        .position(|v| v.name == name)
        .unwrap_or(usize::MAX)
}

/// `--hop-timeout NAME=DURATION` that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HopTimeoutError {
    /// No `=`.
    #[error("--hop-timeout {arg:?}: expected NAME=DURATION, like cdn=30s")]
    Shape {
        /// The argument.
        arg: String,
    },
    /// A name that is no hop gatecheck knows.
    #[error("--hop-timeout {arg:?}: {name:?} is not a hop kind (known: {known})")]
    UnknownHop {
        /// The argument.
        arg: String,
        /// The name given.
        name: String,
        /// The names accepted.
        known: String,
    },
    /// A duration that does not read.
    #[error("--hop-timeout {arg:?}: {value:?} is not a duration (write 30s, 1500ms, 2m)")]
    Duration {
        /// The argument.
        arg: String,
        /// The value given.
        value: String,
    },
}

/// One `--hop-timeout`: a hop's wait limit given on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HopTimeout {
    /// The hop (`cdn`, `cloudfront`, `gcp_lb`, `nginx`, …).
    pub hop: &'static str,
    /// Its limit.
    pub limit: Duration,
}

impl std::str::FromStr for HopTimeout {
    type Err = HopTimeoutError;

    fn from_str(arg: &str) -> Result<HopTimeout, HopTimeoutError> {
        let (name, value) = arg
            .split_once('=')
            .ok_or_else(|| HopTimeoutError::Shape { arg: arg.into() })?;
        let key = name.trim().to_ascii_lowercase().replace('-', "_");
        let v = vendor(&key).ok_or_else(|| HopTimeoutError::UnknownHop {
            arg: arg.into(),
            name: name.into(),
            known: VENDORS
                .iter()
                .map(|v| v.name.replace('_', "-"))
                .collect::<Vec<_>>()
                .join(", "),
        })?;
        // nginx's units (`30s`, `1500ms`, `2m`, a bare number = seconds)
        let limit = crate::config::nginx::units::parse_time(value.trim())
            .filter(|d| !d.is_zero())
            .ok_or_else(|| HopTimeoutError::Duration {
                arg: arg.into(),
                value: value.into(),
            })?;
        Ok(HopTimeout { hop: v.name, limit })
    }
}

/// 5xx durations per hop: (status, 100 ms step) → count, from the records
/// kept for the join (every 5xx of every hop, up to the join's cap).
#[derive(Debug, Clone, Default)]
pub struct Durations {
    by_hop: HashMap<&'static str, BTreeMap<(u16, u64), u64>>,
    /// 5xx per hop without a duration in the log.
    untimed: HashMap<&'static str, u64>,
}

impl Durations {
    /// From the tally of every hop's 5xx (each 5xx, timed or not).
    pub fn from_tally(t: &Tally) -> Durations {
        let mut d = Durations::default();
        for h in t.hops() {
            if !h.durations.is_empty() {
                d.by_hop.insert(h.hop, h.durations.clone());
            }
            if h.untimed > 0 {
                d.untimed.insert(h.hop, h.untimed);
            }
        }
        d
    }

    /// Add one 5xx of `hop` that took `ms`.
    #[cfg(test)]
    pub(crate) fn add(&mut self, hop: &'static str, status: u16, ms: u64) {
        *self
            .by_hop
            .entry(hop)
            .or_default()
            .entry((status, ms / 100))
            .or_default() += 1;
    }
}

/// One limit a hop puts on waiting for the hop inside it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Limit {
    /// The setting (`proxy_read_timeout`, `timeout server`, `route
    /// timeout`, `origin response timeout`, `--hop-timeout`).
    pub setting: String,
    /// One attempt's limit, ms.
    pub read_ms: u64,
    /// Attempts its retry settings allow on a timeout.
    pub attempts: u32,
    /// The whole wait, retries included, ms.
    pub wait_ms: u64,
    /// Where it comes from: `file:line`, `from --hop-timeout` or `vendor
    /// default (document)`.
    pub source: String,
    /// True when it is a documented default (the proxy's, when the config
    /// does not set it — then `source` is the enclosing block — or the
    /// vendor's).
    pub defaulted: bool,
    /// Where it applies (`location /api`, `backend be_app`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub scope: String,
    /// Where the server of this route listens (nginx `listen`, HAProxy
    /// `bind`, Envoy listener `address`), from `config::model`.
    #[serde(skip)]
    pub listens: Vec<Listen>,
    /// The `host:port` addresses this route sends to (its `proxy_pass`
    /// address or its pool's servers'), when the config writes a port.
    #[serde(skip)]
    pub sends_to: Vec<String>,
}

impl Limit {
    /// `60s (proxy_read_timeout, nginx.conf:12, location /)`.
    pub fn describe(&self) -> String {
        let mut s = human(Duration::from_millis(self.read_ms));
        if self.attempts > 1 {
            s.push_str(&format!(
                " × {} attempts = {}",
                self.attempts,
                human(Duration::from_millis(self.wait_ms))
            ));
        }
        if self.defaulted {
            s.push_str(" (default)");
        }
        s
    }

    /// `proxy_read_timeout, nginx.conf:12, location /`; `from --hop-timeout`.
    pub fn origin(&self) -> String {
        let mut s = if self.source.starts_with("from ") {
            self.source.clone()
        } else {
            format!("{}, {}", self.setting, self.source)
        };
        if !self.scope.is_empty() {
            s.push_str(", ");
            s.push_str(&self.scope);
        }
        s
    }
}

/// How many of a hop's 5xx of one status took about one rung's limit.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Placed {
    /// The status the hop logged.
    pub status: u16,
    /// 5xx of that status within `tolerance_ms` of the limit.
    pub count: u64,
    /// The rung whose limit it is.
    pub rung: String,
    /// The limit, ms.
    pub limit_ms: u64,
}

/// One hop of the ladder.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Rung {
    /// The hop (`cloudfront`, `cdn`, `nginx`, `haproxy`, …).
    pub hop: String,
    /// `cdn`, `lb`, `proxy`, `app`.
    pub kind: HopKind,
    /// True when the dump holds this hop's logs.
    pub logged: bool,
    /// Its limits, the longest wait first (empty: not known).
    pub limits: Vec<Limit>,
    /// Limits beyond [`LIMITS_KEPT`] not listed.
    #[serde(skip_serializing_if = "is_zero")]
    pub limits_more: usize,
    /// The status it answers when its limit runs out, when documented.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gives_up_with: Option<u16>,
    /// Its 5xx that took about a rung's limit (± `tolerance_ms`).
    pub placed: Vec<Placed>,
    /// Its 5xx with a logged duration, by status.
    pub timed: BTreeMap<u16, u64>,
    /// What is missing to know its limit, when it is not known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing: Option<String>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Rung {
    /// The shortest one-attempt limit: when the hop gives up at the latest
    /// on a request it sent inwards.
    fn gives_up(&self) -> Option<&Limit> {
        self.limits
            .iter()
            .min_by_key(|l| (l.read_ms, l.source.clone()))
    }

    /// The longest whole wait: how long the hop may keep the hop outside it
    /// waiting.
    fn longest(&self) -> Option<&Limit> {
        self.limits.iter().max_by_key(|l| l.wait_ms)
    }
}

impl Rung {
    /// When it gives up, for a table cell: `30s (default)`, `1s–60s (3
    /// limits)`, `not known`.
    pub fn limit_text(&self) -> String {
        match self.limits.as_slice() {
            [] => "not known".into(),
            [one] => one.describe(),
            many => {
                let lo = many.iter().map(|l| l.read_ms).min().unwrap_or(0);
                let hi = many.iter().map(|l| l.wait_ms).max().unwrap_or(0);
                format!(
                    "{}–{} ({} limits)",
                    human(Duration::from_millis(lo)),
                    human(Duration::from_millis(hi)),
                    many.len() + self.limits_more
                )
            }
        }
    }

    /// Where its limits come from, for a table cell (each limit on its own
    /// line), or what is missing to know them.
    pub fn source_text(&self) -> String {
        if let Some(m) = &self.missing {
            return m.clone();
        }
        let mut lines: Vec<String> = self
            .limits
            .iter()
            .map(|l| {
                if self.limits.len() > 1 {
                    format!("{}: {}", l.describe(), l.origin())
                } else {
                    l.origin()
                }
            })
            .collect();
        if self.limits_more > 0 {
            lines.push(format!("and {} more", self.limits_more));
        }
        lines.join("\n")
    }

    /// Its 5xx placed on the ladder, for a table cell: `504 × 3 at 30s
    /// (cloudfront)`, one per line; `no 5xx in its logs`, `not logged`.
    pub fn placed_text(&self) -> String {
        if !self.logged {
            return "not in the logs".into();
        }
        let timed: u64 = self.timed.values().sum();
        if timed == 0 {
            return "no timed 5xx in its logs".into();
        }
        let mut lines: Vec<String> = self
            .placed
            .iter()
            .map(|p| {
                format!(
                    "{} × {} at {} ({})",
                    p.status,
                    p.count,
                    human(Duration::from_millis(p.limit_ms)),
                    p.rung
                )
            })
            .collect();
        let at: BTreeMap<u16, u64> = self.placed.iter().fold(BTreeMap::new(), |mut m, p| {
            let e = m.entry(p.status).or_insert(0);
            *e = (*e).max(p.count);
            m
        });
        let of: Vec<String> = self
            .timed
            .iter()
            .map(|(s, n)| format!("{n} × {s}"))
            .collect();
        if at.is_empty() {
            lines.push(format!(
                "none at a limit, of {} with a duration",
                of.join(", ")
            ));
        } else {
            lines.push(format!("of {} with a duration", of.join(", ")));
        }
        lines.join("\n")
    }
}

/// An outer hop that gives up before the hop inside it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Inversion {
    /// The outer hop.
    pub outer: String,
    /// The inner hop.
    pub inner: String,
    /// When the outer hop gives up, ms.
    pub outer_limit_ms: u64,
    /// How long the inner hop may wait, ms.
    pub inner_wait_ms: u64,
    /// The finding, with both settings and where they are.
    pub message: String,
    /// What to change.
    pub help: String,
}

/// The "Timeout ladder" section.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Ladder {
    /// Hops outer → inner.
    pub rungs: Vec<Rung>,
    /// Outer hops that give up before the hop inside them.
    pub findings: Vec<Inversion>,
    /// True when the order of some hops was assumed (no request id told
    /// which saw the requests first; hops known only from a config or
    /// `--hop-timeout` are slotted in by kind).
    pub order_assumed: bool,
    /// How the order was told.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_note: Option<String>,
    /// How much longer each outer hop must wait than the next (lint's
    /// ALL-TMO-001 `margin`), ms.
    pub margin_ms: u64,
    /// A duration within this many ms of a limit counts as "at the limit".
    pub tolerance_ms: u64,
    /// What could not be used (a `--hop-timeout` naming no hop, two CDNs
    /// for `cdn=`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// What the ladder is built from.
pub struct Inputs<'a> {
    /// Where the 502s were born (the hop order).
    pub born: Option<&'a Born>,
    /// Hops whose logs were read, with their kind.
    pub logged: Vec<(&'static str, HopKind)>,
    /// nginx configs.
    pub nginx: Option<&'a NginxConfig>,
    /// HAProxy / Envoy configs.
    pub proxies: Option<&'a ProxyConfigs>,
    /// `--hop-timeout`s.
    pub given: &'a [HopTimeout],
    /// The 5xx durations per hop.
    pub durations: &'a Durations,
}

fn limits_of(models: &[&ProxyModel], at: &dyn Fn(crate::source::Span) -> String) -> Vec<Limit> {
    let mut out: Vec<Limit> = Vec::new();
    for m in models {
        for (srv, r) in m.routes() {
            if r.proxy.is_none() {
                continue;
            }
            let Some(w) = route_wait(m, r) else { continue };
            let mut l = Limit {
                setting: read_setting(m).to_string(),
                read_ms: ms(w.read),
                attempts: w.attempts,
                wait_ms: ms(w.wait),
                source: at(w.span),
                defaulted: w.defaulted,
                scope: route_scope(m, r),
                listens: srv.listen.clone(),
                sends_to: target_addrs(m, r),
            };
            // one line per setting and wait (many locations inherit one
            // http-level proxy_read_timeout)
            if let Some(same) = out
                .iter_mut()
                .find(|o| o.source == l.source && o.wait_ms == l.wait_ms)
            {
                if !same.scope.ends_with('…') && same.scope != l.scope {
                    same.scope.push_str(", …");
                }
                merge(&mut same.listens, std::mem::take(&mut l.listens));
                merge(&mut same.sends_to, std::mem::take(&mut l.sends_to));
                continue;
            }
            out.push(l);
        }
    }
    out.sort_by(|a, b| b.wait_ms.cmp(&a.wait_ms).then(a.source.cmp(&b.source)));
    out
}

/// Add the items of `b` that `a` lacks.
fn merge<T: PartialEq>(a: &mut Vec<T>, b: Vec<T>) {
    for x in b {
        if !a.contains(&x) {
            a.push(x);
        }
    }
}

/// The `host:port` addresses route `r` sends to: its pool's servers', or
/// its target's; those without a written port are left out (a port-less
/// name could be any listener).
fn target_addrs(m: &ProxyModel, r: &crate::config::model::Route) -> Vec<String> {
    let with_port = |addr: &str, port: Option<u16>| {
        let p = port?;
        Some(if addr.ends_with(&format!(":{p}")) {
            addr.to_string()
        } else {
            format!("{addr}:{p}")
        })
    };
    let mut v: Vec<String> = match (m.target_pool(r), r.proxy.as_ref()) {
        (Some(pool), _) => pool
            .servers
            .iter()
            .filter_map(|e| with_port(&e.address, e.port))
            .collect(),
        (None, Some(p)) => with_port(&p.host, p.port).into_iter().collect(),
        (None, None) => Vec::new(),
    };
    v.dedup();
    v
}

/// Does the outer route `ol` send to where the inner route `il` listens?
/// The one test hop_order uses too: [`Listen::reached_by`] (same host and
/// port, or a port the inner hop takes on every address); `Some` with the
/// address it sends to.
fn link<'a>(ol: &'a Limit, il: &Limit) -> Option<&'a str> {
    ol.sends_to
        .iter()
        .find(|a| il.listens.iter().any(|l| l.reached_by(a).is_some()))
        .map(String::as_str)
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The limits the configs give `hop` (`nginx`, `haproxy`, `envoy`), and
/// whether a config of it was read.
fn config_limits(hop: &str, inp: &Inputs<'_>) -> (Vec<Limit>, bool) {
    match hop {
        "nginx" => match inp.nginx.filter(|c| !c.is_empty()) {
            Some(c) => {
                let models: Vec<&ProxyModel> = c.models.iter().collect();
                (limits_of(&models, &|s| c.at(s)), true)
            }
            None => (Vec::new(), false),
        },
        "haproxy" | "envoy" => {
            let kind = if hop == "haproxy" {
                ProxyKind::Haproxy
            } else {
                ProxyKind::Envoy
            };
            match inp.proxies {
                Some(p) => {
                    let models: Vec<&ProxyModel> =
                        p.models.iter().filter(|m| m.kind == kind).collect();
                    let any = !models.is_empty();
                    (limits_of(&models, &|s| p.at(s)), any)
                }
                None => (Vec::new(), false),
            }
        }
        _ => (Vec::new(), false),
    }
}

fn declared(setting: &str, limit_ms: u64, source: String, defaulted: bool) -> Limit {
    Limit {
        setting: setting.to_string(),
        read_ms: limit_ms,
        attempts: 1,
        wait_ms: limit_ms,
        source,
        defaulted,
        scope: String::new(),
        listens: Vec::new(),
        sends_to: Vec::new(),
    }
}

/// Build the ladder; the reason there is none when fewer than two hops
/// have a known limit (nothing to compare).
pub fn build(inp: &Inputs<'_>) -> Result<Ladder, String> {
    // the hops, outer → inner: the join's order, then the logged hops it
    // did not see (no 502 of theirs), then hops known from a config or a flag
    let mut order: Vec<(&'static str, HopKind, bool)> = Vec::new();
    let mut order_assumed = false;
    let mut order_note = None;
    if let Some(b) = inp.born {
        for h in &b.order {
            let kind = inp
                .logged
                .iter()
                .find(|(n, _)| n == h)
                .map(|(_, k)| *k)
                .unwrap_or(HopKind::Proxy);
            order.push((h, kind, true));
        }
        order_note = b.order_note.clone();
        order_assumed = b
            .order_note
            .as_deref()
            .is_some_and(|n| n.starts_with("hop order assumed"));
    }
    let mut extra: Vec<(&'static str, HopKind, bool)> = Vec::new();
    for &(h, k) in &inp.logged {
        if !order.iter().any(|(n, _, _)| *n == h) {
            extra.push((h, k, true));
        }
    }
    let configured = [
        ("nginx", inp.nginx.is_some_and(|c| !c.is_empty())),
        (
            "haproxy",
            inp.proxies
                .is_some_and(|p| p.models.iter().any(|m| m.kind == ProxyKind::Haproxy)),
        ),
        (
            "envoy",
            inp.proxies
                .is_some_and(|p| p.models.iter().any(|m| m.kind == ProxyKind::Envoy)),
        ),
    ];
    for (h, there) in configured {
        if there && !order.iter().chain(&extra).any(|(n, _, _)| *n == h) {
            extra.push((h, HopKind::Proxy, false));
        }
    }
    let mut notes = Vec::new();
    // `--hop-timeout`: a generic `cdn` / `lb` names the one logged hop of that kind
    let mut given: Vec<(&'static str, Duration)> = Vec::new();
    for g in inp.given {
        // a HopTimeout built by hand (not parsed) may name anything
        let Some(v) = vendor(g.hop) else {
            notes.push(format!("--hop-timeout {}: not a hop kind, not used", g.hop));
            continue;
        };
        let mut hop = g.hop;
        if matches!(g.hop, "cdn" | "lb") {
            let same: Vec<&'static str> = order
                .iter()
                .chain(&extra)
                .filter(|(_, k, logged)| *logged && *k == v.kind)
                .map(|(n, _, _)| *n)
                .collect();
            match same.as_slice() {
                [] => {}
                [one] => hop = one,
                many => {
                    notes.push(format!(
                        "--hop-timeout {}={}: the logs hold {} hops of that kind ({}); name one of them instead",
                        g.hop,
                        human(g.limit),
                        many.len(),
                        many.join(", ")
                    ));
                    continue;
                }
            }
        }
        if let Some(i) = given.iter().position(|(h, _)| *h == hop) {
            notes.push(format!(
                "--hop-timeout for {hop} given twice: the last one ({}) is used",
                human(g.limit)
            ));
            given.remove(i);
        }
        given.push((hop, g.limit));
        if !order.iter().chain(&extra).any(|(n, _, _)| *n == hop) {
            extra.push((hop, v.kind, false));
        }
    }
    // slot the extra hops in by kind, then by the usual layout
    for e in extra {
        if !e.2 || inp.born.is_none() {
            order_assumed |= order.iter().any(|o| o.1 == e.1);
        }
        let at = order
            .iter()
            .position(|o| (o.1.depth(), rank(o.0)) > (e.1.depth(), rank(e.0)))
            .unwrap_or(order.len());
        order.insert(at, e);
    }
    let mut rungs: Vec<Rung> = Vec::new();
    for (hop, kind, logged) in order {
        let v = vendor(hop);
        let mut missing = None;
        let limits = if let Some((_, limit)) = given.iter().find(|(h, _)| *h == hop) {
            vec![declared(
                "--hop-timeout",
                ms(*limit),
                "from --hop-timeout".into(),
                false,
            )]
        } else {
            let (limits, read) = config_limits(hop, inp);
            if !limits.is_empty() {
                limits
            } else if let Some((d, setting, doc)) = v.and_then(|v| v.default) {
                vec![declared(
                    setting,
                    d,
                    format!("vendor default ({doc})"),
                    true,
                )]
            } else {
                missing = Some(if read {
                    format!("the {hop} config read sets no upstream wait limit on any route that proxies (unbounded)")
                } else {
                    format!(
                        "no {hop} config read: give it with --config, or --hop-timeout {}=DURATION",
                        hop.replace('_', "-")
                    )
                });
                Vec::new()
            }
        };
        let limits_more = limits.len().saturating_sub(LIMITS_KEPT);
        let mut limits = limits;
        limits.truncate(LIMITS_KEPT);
        rungs.push(Rung {
            hop: hop.to_string(),
            kind,
            logged,
            limits,
            limits_more,
            gives_up_with: v.and_then(|v| v.gives_up_with),
            placed: Vec::new(),
            timed: BTreeMap::new(),
            missing,
        });
    }
    let known = rungs.iter().filter(|r| !r.limits.is_empty()).count();
    if known < 2 {
        return Err(format!(
            "the timeout ladder needs two hops with a known limit, and {} {} one ({}): give the other hops' configs with --config or their limits with --hop-timeout NAME=DURATION",
            if known == 1 { "has" } else { "has not" },
            if known == 1 { "only" } else { "even" },
            rungs
                .iter()
                .map(|r| r.hop.as_str())
                .collect::<Vec<_>>()
                .join(" → ")
        ));
    }
    place(&mut rungs, inp.durations);
    let findings = check(&rungs, DEFAULT_MARGIN);
    Ok(Ladder {
        rungs,
        findings,
        order_assumed,
        order_note,
        margin_ms: ms(DEFAULT_MARGIN),
        tolerance_ms: TOLERANCE_MS,
        notes,
    })
}

/// Count each logged hop's 5xx that took about each rung's limits (one
/// attempt's and, with retries, the whole wait).
fn place(rungs: &mut [Rung], durations: &Durations) {
    let mut targets: Vec<(String, u64)> = Vec::new();
    for r in rungs.iter() {
        for l in &r.limits {
            for v in [l.read_ms, l.wait_ms] {
                if !targets.iter().any(|(h, x)| *h == r.hop && *x == v) {
                    targets.push((r.hop.clone(), v));
                }
            }
        }
    }
    for r in rungs.iter_mut() {
        let Some(hist) = durations.by_hop.get(r.hop.as_str()) else {
            continue;
        };
        let mut placed: BTreeMap<(u16, u64, String), u64> = BTreeMap::new();
        for (&(status, step), &n) in hist {
            *r.timed.entry(status).or_default() += n;
            // as attribution compares them (`attribute::nginx::near`): the
            // lower edge of the 100 ms step, within TOLERANCE_MS
            let took = step.saturating_mul(100);
            for (hop, limit) in &targets {
                if took.abs_diff(*limit) <= TOLERANCE_MS {
                    *placed.entry((status, *limit, hop.clone())).or_default() += n;
                }
            }
        }
        r.placed = placed
            .into_iter()
            .map(|((status, limit_ms, rung), count)| Placed {
                status,
                count,
                rung,
                limit_ms,
            })
            .collect();
        r.placed
            .sort_by(|a, b| b.count.cmp(&a.count).then(a.limit_ms.cmp(&b.limit_ms)));
    }
}

/// Each hop with a known limit against the next one inwards with a known
/// limit: the outer hop's shortest one-attempt limit against the inner
/// hop's longest whole wait.
fn check(rungs: &[Rung], margin: Duration) -> Vec<Inversion> {
    let known: Vec<&Rung> = rungs.iter().filter(|r| !r.limits.is_empty()).collect();
    let mut out = Vec::new();
    for w in known.windows(2) {
        let (o, i) = (w[0], w[1]);
        // the outer hop's routes that send to a port the inner hop listens
        // on, when the configs tell (else every limit of each, said so)
        let linked: Vec<(&Limit, &Limit)> = o
            .limits
            .iter()
            .flat_map(|ol| {
                i.limits
                    .iter()
                    .filter(move |il| link(ol, il).is_some())
                    .map(move |il| (ol, il))
            })
            .collect();
        let pair = if linked.is_empty() {
            o.gives_up().zip(i.longest())
        } else {
            let ol = linked
                .iter()
                .map(|p| p.0)
                .min_by_key(|l| (l.read_ms, l.source.clone()));
            let il = linked.iter().map(|p| p.1).max_by_key(|l| l.wait_ms);
            ol.zip(il)
        };
        let Some((ol, il)) = pair else {
            continue;
        };
        let (olim, iwait) = (
            Duration::from_millis(ol.read_ms),
            Duration::from_millis(il.wait_ms),
        );
        if !gives_up_first(olim, iwait, margin) {
            continue;
        }
        let several = |r: &Rung, what: &str, untold: String| {
            if r.limits.len() > 1 && linked.is_empty() {
                format!(
                    " ({what} of {} limits at {}; {untold})",
                    r.limits.len(),
                    r.hop
                )
            } else {
                String::new()
            }
        };
        let port = link(ol, il)
            .and_then(|a| a.rsplit_once(':'))
            .map(|(_, p)| format!(", through port {p}"))
            .unwrap_or_default();
        let answers = match o.gives_up_with {
            Some(s) => format!("{} answers {s}", o.hop),
            None => format!("{} answers with its own error", o.hop),
        };
        let message = format!(
            "{} gives up after {} ({}){} before {} may wait {} ({}){}{}: {} while {} still waits",
            o.hop,
            ol.describe(),
            ol.origin(),
            several(
                o,
                "the shortest",
                format!("the configs do not tell which of them send to {}", i.hop)
            ),
            i.hop,
            il.describe(),
            il.origin(),
            several(
                i,
                "the longest",
                format!("which of them {}'s requests reach is not told", o.hop)
            ),
            port,
            answers,
            i.hop
        );
        let raise = format!(
            "raise {}'s limit above {}",
            o.hop,
            human(iwait.saturating_add(margin))
        );
        let help = if olim > margin {
            format!(
                "{raise}, or keep {}'s whole wait below {}",
                i.hop,
                human(olim.saturating_sub(margin))
            )
        } else {
            raise
        };
        out.push(Inversion {
            outer: o.hop.clone(),
            inner: i.hop.clone(),
            outer_limit_ms: ol.read_ms,
            inner_wait_ms: il.wait_ms,
            message,
            help,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<HopTimeout, HopTimeoutError> {
        s.parse()
    }

    #[test]
    fn hop_timeouts_parse_and_say_what_is_wrong() {
        assert_eq!(
            parse("cdn=30s").unwrap(),
            HopTimeout {
                hop: "cdn",
                limit: Duration::from_secs(30)
            }
        );
        assert_eq!(parse("GCP-LB=1500ms").unwrap().hop, "gcp_lb");
        assert_eq!(parse("alb=2m").unwrap().limit, Duration::from_secs(120));
        let e = parse("cdn=abc").unwrap_err();
        assert!(matches!(e, HopTimeoutError::Duration { .. }), "{e}");
        assert!(e.to_string().contains("\"abc\" is not a duration"), "{e}");
        assert!(matches!(
            parse("cdn=0s"),
            Err(HopTimeoutError::Duration { .. })
        ));
        let e = parse("akamai=30s").unwrap_err();
        assert!(e.to_string().contains("known: cdn, cloudfront"), "{e}");
        assert!(matches!(parse("30s"), Err(HopTimeoutError::Shape { .. })));
    }

    fn inputs<'a>(
        given: &'a [HopTimeout],
        d: &'a Durations,
        logged: &[(&'static str, HopKind)],
    ) -> Inputs<'a> {
        Inputs {
            born: None,
            logged: logged.to_vec(),
            nginx: None,
            proxies: None,
            given,
            durations: d,
        }
    }

    #[test]
    fn an_edge_that_gives_up_first_is_a_finding_and_durations_are_placed() {
        let given = vec![parse("cdn=30s").unwrap(), parse("nginx=60s").unwrap()];
        let mut d = Durations::default();
        for ms in [30_020, 30_110, 29_950, 12_000] {
            d.add("cloudfront", 504, ms);
        }
        d.add("nginx", 504, 60_010);
        let l = build(&inputs(
            &given,
            &d,
            &[("nginx", HopKind::Proxy), ("cloudfront", HopKind::Cdn)],
        ))
        .unwrap();
        let hops: Vec<&str> = l.rungs.iter().map(|r| r.hop.as_str()).collect();
        // `cdn=` names the one CDN logged; the CDN is outside nginx
        assert_eq!(hops, ["cloudfront", "nginx"]);
        assert_eq!(l.rungs[0].limits[0].source, "from --hop-timeout");
        assert_eq!(l.findings.len(), 1, "{:?}", l.findings);
        let f = &l.findings[0];
        assert_eq!(
            (f.outer.as_str(), f.inner.as_str()),
            ("cloudfront", "nginx")
        );
        assert!(
            f.message.starts_with("cloudfront gives up after 30s (from --hop-timeout) before nginx may wait 60s (from --hop-timeout)"),
            "{}",
            f.message
        );
        assert!(
            f.message.contains("cloudfront answers 504"),
            "{}",
            f.message
        );
        let p = &l.rungs[0].placed;
        assert_eq!(
            (p[0].status, p[0].count, p[0].rung.as_str(), p[0].limit_ms),
            (504, 3, "cloudfront", 30_000)
        );
        assert_eq!(l.rungs[0].timed.get(&504), Some(&4));
        assert_eq!(l.rungs[1].placed[0].rung, "nginx");
    }

    #[test]
    fn vendor_defaults_are_said_and_a_right_ladder_has_no_finding() {
        let given = vec![parse("nginx=25s").unwrap()];
        let d = Durations::default();
        let l = build(&inputs(
            &given,
            &d,
            &[("cloudfront", HopKind::Cdn), ("nginx", HopKind::Proxy)],
        ))
        .unwrap();
        let cf = &l.rungs[0].limits[0];
        assert!(cf.defaulted);
        assert_eq!(cf.read_ms, 30_000);
        assert!(cf.source.starts_with("vendor default"), "{}", cf.source);
        assert!(l.findings.is_empty(), "{:?}", l.findings);
        // equal limits race: within the margin is a finding
        let given = vec![parse("nginx=29500ms").unwrap()];
        let l = build(&inputs(
            &given,
            &d,
            &[("cloudfront", HopKind::Cdn), ("nginx", HopKind::Proxy)],
        ))
        .unwrap();
        assert_eq!(l.findings.len(), 1);
    }

    /// nginx's routes are compared with haproxy's limits only where they
    /// send to where haproxy binds (`Listen::reached_by`, as hop_order
    /// links hops): /health sends to haproxy's port on another host, so it
    /// is not linked.
    #[test]
    fn routes_are_linked_to_the_inner_hop_by_port() {
        let dir = tempfile::tempdir().unwrap();
        let ngx = |root_read: &str| {
            let p = dir.path().join("nginx.conf");
            std::fs::write(
                &p,
                format!("http {{ server {{ listen 80; location /health {{ proxy_pass http://10.0.0.9:8404; proxy_read_timeout 2s; }} location / {{ proxy_pass http://127.0.0.1:8404; proxy_read_timeout {root_read}; }} }} }}\n"),
            )
            .unwrap();
            crate::analyze::nginx_config::read(&[p])
        };
        let mut hap = ProxyConfigs::default();
        hap.add(
            dir.path().join("haproxy.cfg"),
            b"defaults\n  mode http\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\nfrontend fe\n  bind 127.0.0.1:8404\n  default_backend be\nbackend be\n  server a 10.0.0.1:8080\n".to_vec(),
            ProxyKind::Haproxy,
        );
        let d = Durations::default();
        let run = |n: &NginxConfig| {
            build(&Inputs {
                born: None,
                logged: vec![("nginx", HopKind::Proxy), ("haproxy", HopKind::Proxy)],
                nginx: Some(n),
                proxies: Some(&hap),
                given: &[],
                durations: &d,
            })
            .unwrap()
        };
        // /health's 2s goes elsewhere: / waits 10s for haproxy's 5s
        let n = ngx("10s");
        let l = run(&n);
        assert_eq!(l.rungs[0].limits.len(), 2, "{:?}", l.rungs[0]);
        assert!(l.findings.is_empty(), "{:?}", l.findings);
        let n = ngx("5s");
        let l = run(&n);
        assert_eq!(l.findings.len(), 1, "{:?}", l.findings);
        let m = &l.findings[0].message;
        assert!(
            m.starts_with("nginx gives up after 5s (proxy_read_timeout"),
            "{m}"
        );
        assert!(m.contains("through port 8404"), "{m}");
        assert!(!m.contains("/health"), "{m}");
    }

    /// An Envoy listener (`0.0.0.0:8080`) links nginx's route that sends
    /// to its port; nginx's server without `listen` is reached on its
    /// default port, said to be a default by the model.
    #[test]
    fn envoy_listeners_link_like_the_other_proxies() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("nginx.conf");
        std::fs::write(
            &p,
            "http { server { location /api { proxy_pass http://127.0.0.1:8080; proxy_read_timeout 10s; } location /x { proxy_pass http://127.0.0.1:9999; proxy_read_timeout 1s; } } }\n",
        )
        .unwrap();
        let n = crate::analyze::nginx_config::read(&[p]);
        let mut px = ProxyConfigs::default();
        let envoy = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/attrib/envoy/envoy.yaml");
        px.add(
            envoy.clone(),
            std::fs::read(&envoy).unwrap(),
            ProxyKind::Envoy,
        );
        let d = Durations::default();
        let l = build(&Inputs {
            born: None,
            logged: vec![("nginx", HopKind::Proxy), ("envoy", HopKind::Proxy)],
            nginx: Some(&n),
            proxies: Some(&px),
            given: &[],
            durations: &d,
        })
        .unwrap();
        // /api (10s) is linked to envoy's listener and waits longer than
        // its longest route (30s)? no: 10s < 30s + 1s, a finding through 8080;
        // /x's 1s goes elsewhere and is not the one compared
        assert_eq!(l.findings.len(), 1, "{:?}", l.findings);
        let m = &l.findings[0].message;
        assert!(m.starts_with("nginx gives up after 10s"), "{m}");
        assert!(m.contains("through port 8080"), "{m}");
        let ngx = n.models.first().unwrap();
        assert!(ngx.servers[0].listen.iter().all(|x| x.defaulted));
    }

    /// Envoy's route timeouts, as written (file:line) and defaulted (15 s,
    /// said so), behind an ALB at its documented 60 s.
    #[test]
    fn envoy_routes_behind_an_alb_default() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/attrib/envoy/envoy.yaml");
        let mut cfg = ProxyConfigs::default();
        cfg.add(
            path.clone(),
            std::fs::read(&path).unwrap(),
            ProxyKind::Envoy,
        );
        let d = Durations::default();
        let l = build(&Inputs {
            born: None,
            logged: vec![("envoy", HopKind::Proxy), ("alb", HopKind::Lb)],
            nginx: None,
            proxies: Some(&cfg),
            given: &[],
            durations: &d,
        })
        .unwrap();
        let hops: Vec<&str> = l.rungs.iter().map(|r| r.hop.as_str()).collect();
        assert_eq!(hops, ["alb", "envoy"]);
        assert!(l.rungs[0].limits[0].source.starts_with("vendor default"));
        let envoy: Vec<(u64, bool, String)> = l.rungs[1]
            .limits
            .iter()
            .map(|x| (x.wait_ms, x.defaulted, x.source.clone()))
            .collect();
        assert_eq!(envoy.len(), 2, "{envoy:?}");
        assert_eq!((envoy[0].0, envoy[0].1), (30_000, false), "{envoy:?}");
        assert!(envoy[0].2.ends_with("envoy.yaml:24"), "{envoy:?}");
        assert_eq!((envoy[1].0, envoy[1].1), (15_000, true), "{envoy:?}");
        // 60s is above both waits by more than the margin
        assert!(l.findings.is_empty(), "{:?}", l.findings);
    }

    #[test]
    fn one_known_limit_is_no_ladder_and_two_cdns_make_cdn_ambiguous() {
        let d = Durations::default();
        let given = vec![parse("cdn=30s").unwrap()];
        let e = build(&inputs(&given, &d, &[("nginx", HopKind::Proxy)])).unwrap_err();
        assert!(e.contains("cdn → nginx"), "{e}");
        let l = build(&inputs(
            &given,
            &d,
            &[("cloudfront", HopKind::Cdn), ("fastly", HopKind::Cdn)],
        ))
        .unwrap();
        assert!(l.notes[0].contains("2 hops of that kind"), "{:?}", l.notes);
        // the vendor defaults still make a ladder
        assert_eq!(l.rungs.len(), 2);
    }
}
