//! Cross-hop rules (`ALL-*`): they read every parsed config together with
//! the hops declared in the settings (`hop` entries: CDN, load balancer,
//! app — what gatecheck cannot parse).
//!
//! The hop chain, outer → inner: declared hops of kind `cdn`, then `lb`,
//! then the parsed configs in the order given on the command line, then
//! declared hops of kind `proxy`, then `app` (declared hops keep their
//! order within a kind; a hop without kind counts as `app`).

pub mod inconsistent_upstream_timeouts;
pub mod keepalive_order;
pub mod retry_amplification;
pub mod timeout_ladder;

use std::time::Duration;

use crate::config::ladder;
use crate::config::model::{ProxyModel, Route};
use crate::lint::settings::{Hop, HopKind};
use crate::lint::values::Time;
use crate::lint::LintContext;
use crate::source::Span;

/// One hop of the chain.
#[derive(Debug, Clone, Copy)]
pub(crate) enum HopRef<'a> {
    /// Declared in the settings.
    Declared(&'a Hop),
    /// A parsed config.
    Parsed(&'a ProxyModel),
}

fn rank(kind: Option<HopKind>) -> u8 {
    match kind.unwrap_or(HopKind::App) {
        HopKind::Cdn => 0,
        HopKind::Lb => 1,
        HopKind::Proxy => 3,
        HopKind::App => 4,
    }
}

/// The hop chain, outer → inner.
pub(crate) fn chain<'a>(ctx: &LintContext<'a>) -> Vec<HopRef<'a>> {
    let mut hops: Vec<(u8, usize, HopRef<'a>)> = Vec::new();
    for (i, h) in ctx.settings().hop.iter().enumerate() {
        hops.push((rank(h.kind), i, HopRef::Declared(h)));
    }
    for (i, m) in ctx.models().iter().enumerate() {
        hops.push((2, i, HopRef::Parsed(m)));
    }
    hops.sort_by_key(|(r, i, _)| (*r, *i));
    hops.into_iter().map(|(_, _, h)| h).collect()
}

/// A declared duration field (read typed from the settings).
pub(crate) fn declared(v: &Option<Time>) -> Option<Duration> {
    v.map(|t| t.0)
}

/// How long one route of a parsed proxy may wait for its upstream, retries
/// included, with the span of the setting that decides it (the shared
/// arithmetic of [`crate::config::ladder::route_wait`], which analyze's
/// timeout ladder reads too).
pub(crate) fn route_wait(m: &ProxyModel, r: &Route) -> Option<(Duration, u32, Span)> {
    ladder::route_wait(m, r).map(|w| (w.wait, w.attempts, w.span))
}
