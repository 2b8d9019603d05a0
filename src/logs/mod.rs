//! Bytes → records. One module per log format, plus the shared hot-path
//! helpers in [`scan`]. Imports nothing from `analyze` or `report`.

pub mod alb;
pub mod cloudflare;
pub mod cloudfront;
pub mod detect;
pub mod envoy;
pub mod envoy_time;
pub mod fastly;
pub mod formats;
pub mod gcp_lb;
pub mod haproxy;
pub mod haproxy_clf;
pub mod haproxy_custom;
pub mod hop;
pub mod hop_fields;
pub mod nginx;
pub mod nginx_error;
pub mod nginx_infer;
pub mod record;
pub mod scan;
pub mod wrap;

/// Iterate over the lines of `data` (without their `\n`), with `memchr`.
#[inline]
pub fn lines(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = data;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        match memchr::memchr(b'\n', rest) {
            Some(i) => {
                let line = &rest[..i];
                rest = &rest[i + 1..];
                Some(line)
            }
            None => {
                let line = rest;
                rest = &rest[..0];
                Some(line)
            }
        }
    })
}
