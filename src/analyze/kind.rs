//! What one input holds, as the pipeline's stages see it. A new hop format
//! needs no new variant: it is a [`InputKind::Hop`] named by the registry
//! (`logs::formats`).

use std::borrow::Cow;

use crate::config::ProxyKind;
use crate::logs::detect::Kind;
use crate::logs::formats::hop_formats;

/// The kind of one input, decided by the plan stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InputKind {
    /// An nginx access log.
    NginxAccess,
    /// An nginx error log.
    NginxError,
    /// A proxy's config found among the logs (`nginx.conf`, `haproxy.cfg`,
    /// an Envoy bootstrap), whatever detected it: read for its log formats
    /// and the settings cited behind causes.
    ProxyConfig(ProxyKind),
    /// The access log of a hop format, by its registry name (`haproxy`).
    Hop(&'static str),
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
            Kind::Config => InputKind::ProxyConfig(ProxyKind::Nginx),
            Kind::Hop(i) => hop_formats()
                .get(*i)
                .map_or(InputKind::Unknown, |f| InputKind::Hop(f.name())),
            Kind::HopConfig(i) => hop_formats()
                .get(*i)
                .and_then(|f| proxy_of(f.name()))
                .map_or(InputKind::Unknown, InputKind::ProxyConfig),
            Kind::Unknown => InputKind::Unknown,
        }
    }

    /// The id shown in reports and JSON: `nginx_access`, `nginx_error`,
    /// `<proxy>_config` (`nginx_config`, `haproxy_config`, `envoy_config`),
    /// `<format>_access` (`haproxy_access`), `unknown`.
    pub fn id(self) -> Cow<'static, str> {
        match self {
            InputKind::NginxAccess => "nginx_access".into(),
            InputKind::NginxError => "nginx_error".into(),
            InputKind::ProxyConfig(k) => format!("{}_config", k.as_str()).into(),
            InputKind::Hop(name) => format!("{name}_access").into(),
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

/// The proxy whose config a hop format reads (`haproxy` → HAProxy).
fn proxy_of(format: &str) -> Option<ProxyKind> {
    [ProxyKind::Nginx, ProxyKind::Haproxy, ProxyKind::Envoy]
        .into_iter()
        .find(|k| k.as_str() == format)
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
        let nginx = InputKind::from_detected(&Kind::Config);
        assert_eq!(nginx, InputKind::ProxyConfig(ProxyKind::Nginx));
        assert_eq!(nginx.id(), "nginx_config");
        assert!(!nginx.is_log());
        // a config found by a hop format's detector is the same kind as one
        // found by name: one JSON id per proxy
        for (i, f) in hop_formats().iter().enumerate() {
            if let InputKind::ProxyConfig(k) = InputKind::from_detected(&Kind::HopConfig(i)) {
                assert_eq!(k.as_str(), f.name());
                assert_eq!(
                    InputKind::ProxyConfig(k).id(),
                    format!("{}_config", f.name())
                );
            }
        }
        assert_eq!(
            InputKind::from_detected(&Kind::HopConfig(usize::MAX)),
            InputKind::Unknown
        );
        assert!(!InputKind::Unknown.is_log());
        assert_eq!(
            InputKind::from_detected(&Kind::Hop(usize::MAX)),
            InputKind::Unknown
        );
    }
}
