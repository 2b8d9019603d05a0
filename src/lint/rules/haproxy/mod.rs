//! HAProxy rules (`HAP-*`), and the small helpers they share for reading
//! HAProxy facts out of the model (effective directives are named by their
//! keyword, `timeout server`, `option httpchk`, …; server parameters are the
//! effective `default-server` + own words).

pub mod bare_number_timeout;
pub mod hostname_without_resolvers;
pub mod http_check_missing;
pub mod invalid_value;
pub mod missing_log_format;
pub mod missing_timeout;
pub mod missing_unique_id;
pub mod no_redispatch;
pub mod reuse_without_retry;
pub mod risky_retry_on;
pub mod server_without_check;
pub mod single_server_backend;
pub mod slow_failure_detection;
pub mod small_bufsize;
pub mod ssl_without_sni;
pub mod undefined_backend;
pub mod undefined_resolvers;
pub mod unknown_keyword;
pub mod unverifiable_tls;

use crate::config::model::{Endpoint, Upstream};
use crate::config::Version;
use crate::lint::LintContext;

/// The last of `on`/`off` among a server's parameters: `Some(true)` when
/// `on` wins (`check` vs `no-check`).
pub(crate) fn flag(ep: &Endpoint, on: &str, off: &str) -> Option<bool> {
    crate::config::haproxy::resolve::last_flag(ep.params.iter().map(|a| a.value.as_str()), on, off)
}

/// The value after the last occurrence of server parameter `name`.
pub(crate) fn param<'a>(ep: &'a Endpoint, name: &str) -> Option<&'a crate::config::model::Arg> {
    let i = ep.params.iter().rposition(|a| a.value == name)?;
    ep.params.get(i + 1)
}

/// Servers of `u` that are not `backup`.
pub(crate) fn primaries(u: &Upstream) -> impl Iterator<Item = &Endpoint> {
    u.servers.iter().filter(|s| !s.backup)
}

/// `haproxy_version` from the settings, `None` = assume the newest.
pub(crate) fn haproxy_version(ctx: &LintContext<'_>) -> Option<Version> {
    ctx.settings().haproxy_version
}

#[cfg(test)]
pub(crate) mod test_util {
    //! Run one rule over a `haproxy.cfg` snippet.

    use crate::lint::Settings;

    /// Messages of rule `id` on `src`.
    pub fn findings(id: &str, src: &str) -> Vec<String> {
        findings_with(id, src, &Settings::default())
    }

    /// Messages of rule `id` on `src` with `settings`.
    pub fn findings_with(id: &str, src: &str, settings: &Settings) -> Vec<String> {
        crate::lint::rules::test_util::findings_in("haproxy.cfg", id, src, settings)
    }
}
