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
/// have none). One `memchr` iterator runs over the whole of `data`, its
/// searcher set up once rather than per line (as ripgrep finds line ends).
#[inline]
pub fn lines(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut start = 0;
    let mut ends = memchr::memchr_iter(b'\n', data);
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
