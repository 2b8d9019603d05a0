//! The registry of hop log formats (everything that is not nginx): one line
//! per format. A new format is a module under `logs/` implementing
//! [`HopFormat`] plus one line in `hop_formats!`; detection, `gatecheck
//! formats`, `--format-of` and the analyze pipeline all read this list.

use super::hop::HopFormat;

/// Builds [`hop_formats`] from `module::Type` entries, most specific first
/// (detection tries them in this order).
macro_rules! hop_formats {
    ($($module:ident :: $ty:ident),* $(,)?) => {
        /// Every hop format gatecheck reads, in detection order.
        pub fn hop_formats() -> &'static [&'static dyn HopFormat] {
            &[$(&super::$module::$ty),*]
        }
    };
}

hop_formats! {
    haproxy::Haproxy,
    cloudfront::CloudFront,
    alb::Alb,
    envoy::Envoy,
    gcp_lb::GcpLb,
    cloudflare::Cloudflare,
    fastly::Fastly,
}

/// The format registered under `name` (its CLI name).
pub fn by_name(name: &str) -> Option<&'static dyn HopFormat> {
    hop_formats().iter().copied().find(|f| f.name() == name)
}

/// The names of every registered format, for messages.
pub fn names() -> Vec<&'static str> {
    hop_formats().iter().map(|f| f.name()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_found() {
        let n = names();
        for (i, a) in n.iter().enumerate() {
            assert!(!n[i + 1..].contains(a), "{a} registered twice");
            assert_eq!(by_name(a).map(|f| f.name()), Some(*a));
        }
        assert!(by_name("no-such-format").is_none());
    }
}
