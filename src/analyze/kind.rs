//! What one input holds, as the pipeline's stages see it. A new hop format
//! needs no new variant: it is a [`InputKind::Hop`] named by the registry
//! (`logs::formats`).

use std::borrow::Cow;

use crate::logs::detect::Kind;
use crate::logs::formats::hop_formats;

/// The kind of one input, decided by the plan stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InputKind {
    /// An nginx access log.
    NginxAccess,
    /// An nginx error log.
    NginxError,
    /// An nginx config found among the logs.
    NginxConfig,
    /// A HAProxy or Envoy config found among the logs.
    ProxyConfig(crate::config::ProxyKind),
    /// The access log of a hop format, by its registry name (`haproxy`).
    Hop(&'static str),
    /// The config of a hop format (`haproxy.cfg`), read for its log formats.
    HopConfig(&'static str),
    /// Nothing gatecheck reads.
    #[default]
    Unknown,
}

impl InputKind {
    /// From what detection found.
    pub fn from_detected(k: &Kind) -> InputKind {
        match k {
            Kind::Access(_) => InputKind::NginxAccess,
            Kind::Error => InputKind::NginxError,
            Kind::Config => InputKind::NginxConfig,
            Kind::Hop(i) => hop_formats()
                .get(*i)
                .map_or(InputKind::Unknown, |f| InputKind::Hop(f.name())),
            Kind::HopConfig(i) => hop_formats()
                .get(*i)
                .map_or(InputKind::Unknown, |f| InputKind::HopConfig(f.name())),
            Kind::Unknown => InputKind::Unknown,
        }
    }

    /// The id shown in reports and JSON: `nginx_access`, `nginx_error`,
    /// `nginx_config`, `<format>_access` (`haproxy_access`), `unknown`.
    pub fn id(self) -> Cow<'static, str> {
        match self {
            InputKind::NginxAccess => "nginx_access".into(),
            InputKind::NginxError => "nginx_error".into(),
            InputKind::NginxConfig => "nginx_config".into(),
            InputKind::ProxyConfig(k) => format!("{}_config", k.as_str()).into(),
            InputKind::Hop(name) => format!("{name}_access").into(),
            InputKind::HopConfig(name) => format!("{name}_config").into(),
            InputKind::Unknown => "unknown".into(),
        }
    }

    /// Whether the input was read as a log (so the run analyzed something).
    pub fn is_log(self) -> bool {
        matches!(
            self,
            InputKind::NginxAccess | InputKind::NginxError | InputKind::Hop(_)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_logs() {
        assert_eq!(InputKind::NginxAccess.id(), "nginx_access");
        assert_eq!(InputKind::Hop("haproxy").id(), "haproxy_access");
        assert!(InputKind::Hop("haproxy").is_log());
        assert!(InputKind::NginxError.is_log());
        assert!(!InputKind::NginxConfig.is_log());
        assert!(!InputKind::Unknown.is_log());
        assert_eq!(
            InputKind::from_detected(&Kind::Hop(usize::MAX)),
            InputKind::Unknown
        );
    }
}
