//! Bytes → records. One module per log format, plus the shared hot-path
//! helpers in [`scan`]. Imports nothing from `analyze` or `report`.

pub mod alb;
pub mod byteclass;
pub mod cloudflare;
pub mod cloudfront;
pub mod cloudfront_json;
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

/// Iterate over the lines of `data` (without their `\n`; the last one may
/// have none). The line ends are found 64 bytes at a time over the whole of
/// `data` ([`scan::Offsets`]), not by a search call per line.
#[inline]
pub fn lines(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut start = 0;
    let mut ends = scan::Offsets::new(data, b'\n');
    std::iter::from_fn(move || match ends.next() {
        Some(end) => {
            let line = &data[start..end];
            start = end + 1;
            Some(line)
        }
        None if start < data.len() => {
            let line = &data[start..];
            start = data.len();
            Some(line)
        }
        None => None,
    })
}
