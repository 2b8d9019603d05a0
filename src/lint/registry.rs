//! The rule registry: one line per rule, and selection by id, id prefix or
//! name.

use std::any::Any;
use std::sync::Arc;

use super::rule::{Configurable, Rule, RuleMeta};
use super::rules;

macro_rules! rules {
    ($($path:path),* $(,)?) => {
        /// Every rule, in catalogue order.
        pub static RULES: &[&dyn Rule] = &[$(&$path),*];

        /// Read the options of rule `id` from `d` into the rule's own
        /// options type ([`Configurable::Options`]).
        pub(crate) fn deserialize_options<'de, D: serde::Deserializer<'de>>(
            id: &str,
            d: D,
        ) -> Result<Arc<dyn Any + Send + Sync>, D::Error> {
            $(
                if id == <$path>::META.id {
                    let o = <<$path as Configurable>::Options as serde::Deserialize>::deserialize(d)?;
                    return Ok(Arc::new(o));
                }
            )*
            Err(serde::de::Error::custom(format_args!("no rule {id}")))
        }
    };
}

rules! {
    rules::nginx::long_connect_timeout::LongConnectTimeout,
    rules::nginx::implicit_proxy_timeouts::ImplicitProxyTimeouts,
    rules::nginx::invalid_busy_buffers::InvalidBusyBuffers,
    rules::nginx::small_proxy_buffer::SmallProxyBuffer,
    rules::nginx::non_idempotent_retry::NonIdempotentRetry,
    rules::nginx::unbounded_retries::UnboundedRetries,
    rules::nginx::retries_disabled::RetriesDisabled,
    rules::nginx::single_upstream_server::SingleUpstreamServer,
    rules::nginx::failure_accounting_off::FailureAccountingOff,
    rules::nginx::unusable_upstream_servers::UnusableUpstreamServers,
    rules::nginx::hostname_resolved_once::HostnameResolvedOnce,
    rules::nginx::variable_proxy_pass_without_resolver::VariableProxyPassWithoutResolver,
    rules::nginx::resolve_without_resolver::ResolveWithoutResolver,
    rules::nginx::resolver_without_valid::ResolverWithoutValid,
    rules::nginx::missing_proxy_sni::MissingProxySni,
    rules::nginx::unverified_upstream_tls::UnverifiedUpstreamTls,
    rules::nginx::keepalive_not_reused::KeepaliveNotReused,
    rules::nginx::cached_errors::CachedErrors,
    rules::nginx::masked_bad_gateway::MaskedBadGateway,
    rules::nginx::no_stale_on_error::NoStaleOnError,
    rules::nginx::access_log_without_upstream::AccessLogWithoutUpstream,
    rules::nginx::error_log_too_quiet::ErrorLogTooQuiet,
    rules::nginx::no_request_id::NoRequestId,
    rules::nginx::unknown_upstream::UnknownUpstream,
    rules::nginx::proxy_pass_uri_mismatch::ProxyPassUriMismatch,
    rules::nginx::low_file_limit::LowFileLimit,
    rules::nginx::invalid_value::InvalidValue,
    rules::nginx::unknown_directive::UnknownDirective,
    rules::nginx::missing_include::MissingInclude,
    rules::nginx::fragment_context::FragmentContext,
    rules::haproxy::missing_timeout::MissingTimeout,
    rules::haproxy::bare_number_timeout::BareNumberTimeout,
    rules::haproxy::small_bufsize::SmallBufsize,
    rules::haproxy::no_redispatch::NoRedispatch,
    rules::haproxy::risky_retry_on::RiskyRetryOn,
    rules::haproxy::server_without_check::ServerWithoutCheck,
    rules::haproxy::http_check_missing::HttpCheckMissing,
    rules::haproxy::slow_failure_detection::SlowFailureDetection,
    rules::haproxy::single_server_backend::SingleServerBackend,
    rules::haproxy::hostname_without_resolvers::HostnameWithoutResolvers,
    rules::haproxy::undefined_resolvers::UndefinedResolvers,
    rules::haproxy::ssl_without_sni::SslWithoutSni,
    rules::haproxy::unverifiable_tls::UnverifiableTls,
    rules::haproxy::reuse_without_retry::ReuseWithoutRetry,
    rules::haproxy::missing_log_format::MissingLogFormat,
    rules::haproxy::missing_unique_id::MissingUniqueId,
    rules::haproxy::undefined_backend::UndefinedBackend,
    rules::haproxy::invalid_value::InvalidValue,
    rules::haproxy::unknown_keyword::UnknownKeyword,
    rules::envoy::disabled_route_timeout::DisabledRouteTimeout,
    rules::envoy::per_try_timeout_too_long::PerTryTimeoutTooLong,
    rules::envoy::implicit_route_timeout::ImplicitRouteTimeout,
    rules::envoy::unmatched_header_limits::UnmatchedHeaderLimits,
    rules::envoy::non_idempotent_retry::NonIdempotentRetry,
    rules::envoy::no_retry_policy::NoRetryPolicy,
    rules::envoy::no_health_check::NoHealthCheck,
    rules::envoy::incomplete_health_check::IncompleteHealthCheck,
    rules::envoy::static_hostname::StaticHostname,
    rules::envoy::dns_refresh_too_slow::DnsRefreshTooSlow,
    rules::envoy::tls_without_sni::TlsWithoutSni,
    rules::envoy::default_idle_timeout::DefaultIdleTimeout,
    rules::envoy::missing_access_log::MissingAccessLog,
    rules::envoy::request_id_disabled::RequestIdDisabled,
    rules::envoy::unknown_cluster::UnknownCluster,
    rules::envoy::invalid_value::InvalidValue,
    rules::all::timeout_ladder::TimeoutLadder,
    rules::all::inconsistent_upstream_timeouts::InconsistentUpstreamTimeouts,
    rules::all::retry_amplification::RetryAmplification,
    rules::all::keepalive_order::KeepaliveOrder,
}

/// Renamed rules: (old id or name, new id). Ids are never reused.
pub const REDIRECTS: &[(&str, &str)] = &[];

/// Every rule.
pub fn all() -> &'static [&'static dyn Rule] {
    RULES
}

fn redirect(key: &str) -> &str {
    REDIRECTS
        .iter()
        .find(|(old, _)| old.eq_ignore_ascii_case(key))
        .map(|(_, new)| *new)
        .unwrap_or(key)
}

/// The rule with this exact id or name (after redirects).
pub fn find(key: &str) -> Option<&'static dyn Rule> {
    let key = redirect(key.trim());
    RULES
        .iter()
        .copied()
        .find(|r| r.meta().id.eq_ignore_ascii_case(key) || r.meta().name.eq_ignore_ascii_case(key))
}

/// Selector of the rules that are off by default (clippy's `pedantic`).
pub const PEDANTIC: &str = "pedantic";
/// Selector of the rules that are on by default.
pub const DEFAULT: &str = "default";

/// True when selector `key` (id, id prefix such as `NGX-DNS` or `NGX`,
/// name, or the group `pedantic` / `default`) covers `meta`.
pub fn matches(meta: &RuleMeta, key: &str) -> bool {
    let key = redirect(key.trim());
    if key.is_empty() {
        return false;
    }
    if key.eq_ignore_ascii_case(PEDANTIC) {
        return !meta.default_on;
    }
    if key.eq_ignore_ascii_case(DEFAULT) {
        return meta.default_on;
    }
    let id = meta.id.as_bytes();
    let k = key.as_bytes();
    meta.name.eq_ignore_ascii_case(key)
        || (k.len() <= id.len() && id[..k.len()].eq_ignore_ascii_case(k))
}

/// True when `key` covers at least one rule (or an id-like prefix of one).
pub fn is_known(key: &str) -> bool {
    RULES.iter().any(|r| matches(r.meta(), key))
}

/// True when `key` asks for `meta` by its own id or name, or by the
/// `pedantic` group (what turns on a rule that is off by default; an id
/// prefix such as `NGX` does not).
pub fn names_exactly(meta: &RuleMeta, key: &str) -> bool {
    let key = redirect(key.trim());
    meta.id.eq_ignore_ascii_case(key)
        || meta.name.eq_ignore_ascii_case(key)
        || (!meta.default_on && key.eq_ignore_ascii_case(PEDANTIC))
}

/// Which rules run: `select` (empty = every default-on rule) minus
/// `ignore`. A `pedantic` rule runs only when selected by id, name or
/// `pedantic`.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Only these (ids, prefixes, names); empty = all.
    pub select: Vec<String>,
    /// Not these.
    pub ignore: Vec<String>,
}

impl Selection {
    /// True when `meta` is selected.
    pub fn enabled(&self, meta: &RuleMeta) -> bool {
        let selected = if meta.default_on {
            self.select.is_empty() || self.select.iter().any(|k| matches(meta, k))
        } else {
            self.select.iter().any(|k| names_exactly(meta, k))
        };
        selected && !self.ignore.iter().any(|k| matches(meta, k))
    }

    /// Selectors that match no rule (a usage error).
    pub fn unknown(&self) -> Vec<&str> {
        self.select
            .iter()
            .chain(&self.ignore)
            .map(|s| s.as_str())
            .filter(|k| !is_known(k))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::rule::DOC_HEADINGS;

    #[test]
    fn ids_and_names_are_unique_and_well_formed() {
        let mut ids = std::collections::HashSet::new();
        let mut names = std::collections::HashSet::new();
        for r in RULES {
            let m = r.meta();
            assert!(ids.insert(m.id), "duplicate id {}", m.id);
            assert!(names.insert(m.name), "duplicate name {}", m.name);
            let parts: Vec<&str> = m.id.split('-').collect();
            assert_eq!(parts.len(), 3, "{}", m.id);
            assert!(parts[2].bytes().all(|b| b.is_ascii_digit()), "{}", m.id);
            // Category and proxy are derived from the id; check the
            // derivation reads the right parts.
            assert_eq!(parts[1], m.category.as_str(), "{}", m.id);
            let prefix = match m.proxy {
                crate::lint::rule::RuleProxy::Nginx => "NGX",
                crate::lint::rule::RuleProxy::Haproxy => "HAP",
                crate::lint::rule::RuleProxy::Envoy => "ENV",
                crate::lint::rule::RuleProxy::All => "ALL",
            };
            assert_eq!(parts[0], prefix, "{}", m.id);
            assert!(
                m.name.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{}",
                m.name
            );
        }
    }

    #[test]
    fn pedantic_rules_run_only_when_asked_for() {
        let tmo = find("NGX-TMO-002").unwrap().meta();
        let dns = find("NGX-DNS-001").unwrap().meta();
        assert!(!tmo.default_on && dns.default_on);
        let sel = |s: &[&str]| Selection {
            select: s.iter().map(|x| x.to_string()).collect(),
            ignore: vec![],
        };
        assert!(!sel(&[]).enabled(tmo));
        assert!(sel(&[]).enabled(dns));
        assert!(!sel(&["NGX"]).enabled(tmo), "a prefix does not turn it on");
        assert!(sel(&["NGX-TMO-002"]).enabled(tmo));
        assert!(sel(&["implicit-proxy-timeouts"]).enabled(tmo));
        assert!(sel(&["pedantic"]).enabled(tmo));
        assert!(!sel(&["pedantic"]).enabled(dns));
        assert!(sel(&["default", "pedantic"]).enabled(dns));
        assert!(is_known("pedantic") && is_known("default"));
    }

    #[test]
    fn every_doc_has_every_heading_in_order() {
        for r in RULES {
            let m = r.meta();
            let doc = m.doc_text();
            let mut last = 0;
            for h in DOC_HEADINGS {
                let pos = doc
                    .find(&format!("\n{h}\n"))
                    .unwrap_or_else(|| panic!("{}: missing {h}", m.id));
                assert!(pos >= last, "{}: {h} out of order", m.id);
                last = pos;
                let body = m.section(h).unwrap_or_default();
                assert!(!body.is_empty(), "{}: empty {h}", m.id);
            }
            let example = m.section("## Example").unwrap_or_default();
            assert!(
                example.contains("```"),
                "{}: example has no code block",
                m.id
            );
            assert!(
                !m.summary().starts_with('#'),
                "{}: summary line first",
                m.id
            );
        }
    }

    #[test]
    fn selection_by_id_prefix_and_name() {
        let m = RULES[0].meta();
        assert!(matches(m, m.id));
        assert!(matches(m, &m.id.to_lowercase()));
        assert!(matches(m, &m.id[..3]));
        assert!(matches(m, m.name));
        assert!(!matches(m, "XYZ"));
        let sel = Selection {
            select: vec![m.id[..3].to_string()],
            ignore: vec![m.name.to_string()],
        };
        assert!(!sel.enabled(m));
        assert_eq!(
            Selection {
                select: vec!["nope".into()],
                ignore: vec![]
            }
            .unknown(),
            ["nope"]
        );
        assert!(find(m.name).is_some());
    }
}
