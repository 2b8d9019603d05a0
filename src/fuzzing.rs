//! The body of every `cargo fuzz` target (`fuzz/fuzz_targets/<name>.rs` calls
//! the function of the same name) and of the test that replays their corpora
//! (`tests/it/fuzz_corpus.rs`), so both exercise the same code. Each must never
//! panic, whatever the bytes; the config ones also check that every span they
//! get back lies inside the input.

use crate::logs::nginx::{builtin_formats, Escape, LogFormat, TimeCache};
use crate::logs::{lines, nginx_error};

/// Formats the access fuzzer cycles through, beyond the built-in ones.
const EXTRA_FORMATS: &[&str] = &[
    r#"$remote_addr [$time_iso8601] "$request" $status $request_time $upstream_addr $upstream_status $upstream_connect_time $upstream_header_time $upstream_response_time $connection $request_id"#,
    r#"$msec|$status|$upstream_status|$host|$uri"#,
    r#"{"t":"$time_local","s":"$status","ua":"$upstream_addr","us":"$upstream_status"}"#,
];

/// Parse `data` as access-log lines with a format chosen by its first byte,
/// zip the upstream lists, and compile `data` itself as a log format.
pub fn nginx_access(data: &[u8]) {
    static FORMATS: std::sync::OnceLock<Vec<LogFormat>> = std::sync::OnceLock::new();
    let formats = FORMATS.get_or_init(|| {
        let mut formats = builtin_formats();
        for (i, f) in EXTRA_FORMATS.iter().enumerate() {
            if let Ok(f) = LogFormat::compile(&format!("extra{i}"), f, Escape::Default) {
                formats.push(f);
            }
        }
        formats
    });
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let fmt = &formats[pick as usize % formats.len()];
    let mut cache = TimeCache::default();
    for line in lines(rest) {
        if let Ok(r) = fmt.parse(line, &mut cache) {
            let _ = r.upstream.attempts();
            let _ = r.upstream.any_5xx();
        }
    }
    if let Ok(s) = std::str::from_utf8(rest) {
        if let Ok(f) = LogFormat::compile("fuzz", s, Escape::Default) {
            let _ = f.parse(rest, &mut cache);
        }
    }
    for esc in [Escape::Default, Escape::Json, Escape::None] {
        let _ = crate::logs::nginx::unescape(rest, esc);
    }
}

/// Parse `data` as nginx error-log lines.
pub fn nginx_error(data: &[u8]) {
    for (i, line) in lines(data).enumerate() {
        let _ = nginx_error::parse(line, 0, i as u64 + 1);
    }
}

/// Parse `data` as a HAProxy log: detection on its first lines, then every
/// line through the parser (forced, whatever detection said), the event
/// reader, and the 5xx classifier; and, when the first line is a
/// `log-format` directive, the rest with that custom format.
pub fn haproxy_log(data: &[u8]) {
    use crate::logs::haproxy::Haproxy;
    use crate::logs::hop::{HopFormat, HopLineError, HopParser};
    let head = crate::logs::detect::head_lines(data);
    let _ = Haproxy.detect(&head);
    // the first line as a custom log-format, the rest as lines written in it
    if let Some((first, rest)) = data.split_first().and_then(|_| {
        let i = memchr::memchr(b'\n', data)?;
        Some((&data[..i], &data[i + 1..]))
    }) {
        let text = String::from_utf8_lossy(first);
        for (_, f) in crate::logs::haproxy_custom::log_formats_in_config(&text) {
            if let Ok(f) = crate::logs::haproxy_custom::CustomFormat::compile("fuzz", &f) {
                let lines_: Vec<&[u8]> = lines(rest).collect();
                if let Some((p, _)) = f.detect(&lines_) {
                    for l in &lines_ {
                        let _ = p.parse_line(l);
                    }
                }
            }
        }
    }
    // the `option httplog clf` parser on every line, whatever the head says
    let _ = crate::logs::haproxy_clf::detect(&head);
    let clf = crate::logs::haproxy_clf::ClfParser::with_year(Some(2024));
    for line in lines(data) {
        if let Ok(r) = clf.parse_line(line) {
            let _ = crate::analyze::hop_cause::classify("haproxy", &r);
        }
    }
    let Some(parser) = Haproxy.forced(&head) else {
        return;
    };
    for line in lines(data) {
        match parser.parse_line(line) {
            Ok(r) => {
                let _ = crate::analyze::hop_cause::classify("haproxy", &r);
            }
            Err(HopLineError::NotARequest) => {
                let _ = parser.parse_event(line);
            }
            Err(_) => {}
        }
    }
}

/// Parse `data` as Envoy access-log lines under the default, Istio and
/// JSON formats, classify what parses, and compile `data` itself as an
/// Envoy format string (text or `json_format`).
pub fn envoy(data: &[u8]) {
    use crate::logs::envoy::{common_json_parser, compile, default_parser, istio_parser, Envoy};
    use crate::logs::hop::{HopFormat, HopParser};
    static PARSERS: std::sync::OnceLock<Vec<crate::logs::envoy::EnvoyParser>> =
        std::sync::OnceLock::new();
    let parsers =
        PARSERS.get_or_init(|| vec![default_parser(), istio_parser(), common_json_parser()]);
    let head: Vec<&[u8]> = lines(data).take(50).collect();
    if let Some((p, _)) = Envoy.detect(&head) {
        for line in lines(data) {
            let _ = p.parse_line(line);
        }
    }
    for line in lines(data) {
        for p in parsers {
            if let Ok(r) = p.parse_line(line) {
                let _ = crate::analyze::hop_cause::classify("envoy", &r);
            }
        }
    }
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(p) = compile(s) {
            let _ = p.parse_line(data);
        }
    }
    // `data` as an Envoy config: its access_log formats, compiled as
    // `analyze` compiles them, on its own lines
    if let Ok(root) = crate::config::envoy::load(crate::source::FileId(0), data) {
        use crate::config::envoy::log_formats::{access_log_formats, FoundFormat};
        for f in access_log_formats(&root) {
            if let FoundFormat::Text(t) | FoundFormat::Json(t) = &f.format {
                if let Ok(p) = compile(t) {
                    for line in lines(data).take(64) {
                        let _ = p.parse_line(line);
                    }
                }
            }
        }
    }
}

/// Detect `data` as a CloudFront log from its head, parse every line and
/// classify what parses; also try its first line as a `#Fields:` header.
pub fn cloudfront(data: &[u8]) {
    use crate::logs::cloudfront::{CloudFront, CloudFrontParser};
    use crate::logs::hop::{HopFormat, HopParser};
    let head: Vec<&[u8]> = lines(data).take(50).collect();
    let _ = CloudFront.near_miss(&head);
    if let Some((p, _)) = CloudFront.detect(&head) {
        for line in lines(data) {
            if let Ok(r) = p.parse_line(line) {
                let _ = crate::analyze::hop_cause::classify("cloudfront", &r);
            }
        }
    }
    if let Some(first) = head.first() {
        if let Ok(p) = CloudFrontParser::from_fields_line(first) {
            for line in lines(data).skip(1) {
                let _ = p.parse_line(line);
            }
        }
    }
}

/// Parse `data` as ALB access-log lines and classify what parses.
pub fn alb(data: &[u8]) {
    use crate::logs::alb::{Alb, AlbParser};
    use crate::logs::hop::{HopFormat, HopParser};
    let head: Vec<&[u8]> = lines(data).take(50).collect();
    let _ = Alb.detect(&head);
    for line in lines(data) {
        if let Ok(r) = AlbParser.parse_line(line) {
            let _ = crate::analyze::hop_cause::classify("alb", &r);
        }
    }
}

/// Detect `data` as one JSON hop format, parse every line with each JSON
/// hop parser and classify what parses.
fn json_hops(data: &[u8], fmt: &dyn crate::logs::hop::HopFormat) {
    use crate::analyze::hop_cause as c;
    use crate::logs::hop::HopParser;
    let head: Vec<&[u8]> = lines(data).take(50).collect();
    let _ = fmt.detect(&head);
    for line in lines(data) {
        if let Ok(r) = crate::logs::cloudflare::CloudflareParser.parse_line(line) {
            let _ = c::classify("cloudflare", &r);
        }
        if let Ok(r) = crate::logs::fastly::FastlyParser.parse_line(line) {
            let _ = c::classify("fastly", &r);
        }
        if let Ok(r) = crate::logs::gcp_lb::GcpLbParser.parse_line(line) {
            let _ = c::classify("gcp_lb", &r);
        }
    }
}

/// Cloudflare Logpush lines (and the other JSON hop parsers on them).
pub fn cloudflare(data: &[u8]) {
    json_hops(data, &crate::logs::cloudflare::Cloudflare);
}

/// Fastly JSON lines (and the other JSON hop parsers on them).
pub fn fastly(data: &[u8]) {
    json_hops(data, &crate::logs::fastly::Fastly);
}

/// Google Cloud load balancer entries (and the other JSON hop parsers on them).
pub fn gcp_lb(data: &[u8]) {
    json_hops(data, &crate::logs::gcp_lb::GcpLb);
}

/// Any bytes as the head of a file in an unknown hop format: detection over
/// every registered format, with a container's packaging (CRI, time stamps,
/// `kubectl logs --prefix`, Docker json-file) peeled when the bare lines fit
/// none; then every line through the parser picked, on the summary path and
/// the full one, events for what is not a request, and each record's cause.
pub fn hop_detect(data: &[u8]) {
    use crate::analyze::hop_cause;
    use crate::logs::hop::{HopLineError, SummaryCache};
    let formats = crate::logs::formats::hop_formats();
    let Some((i, parser, _why)) = crate::logs::detect::detect_hop(data, formats) else {
        return;
    };
    let judge = hop_cause::judge_of(formats[i].name());
    let mut cache = SummaryCache::default();
    let data = parser.decode_chunk(data);
    for (n, line) in lines(&data).enumerate() {
        cache.want_record = n % 2 == 0;
        let _ = parser.parse_summary(line, &mut cache);
        match parser.parse_line(line) {
            Ok(r) => {
                let _ = hop_cause::verdict_of(judge, &r);
            }
            Err(HopLineError::NotARequest) => {
                let _ = parser.parse_event(line);
            }
            Err(_) => {}
        }
    }
}

/// Any bytes as the head of an nginx access log: detection over the
/// built-in formats (packaging peeled, a format read from the first line
/// when none fits), then every line of the file as the access pass reads it
/// (a Docker or CRI file decoded per chunk, each line peeled) through the
/// summary parse, its completion and the full parse, which must agree.
pub fn nginx_detect(data: &[u8]) {
    use crate::logs::detect::{detect, Kind};
    use crate::logs::wrap::{self, Wrap};
    static FORMATS: std::sync::OnceLock<Vec<LogFormat>> = std::sync::OnceLock::new();
    let formats = FORMATS.get_or_init(builtin_formats);
    let _ = crate::logs::nginx_infer::infer(lines(data).next().unwrap_or_default());
    let d = detect(data, formats);
    let Kind::Access(i) = d.kind else {
        return;
    };
    let Some(fmt) = formats.get(i).or(d.inferred.as_ref()) else {
        return;
    };
    let decoded: std::borrow::Cow<'_, [u8]> = match d.wrap {
        Wrap::Docker => wrap::docker_chunk(data).into(),
        Wrap::Cri => wrap::cri_chunk(data),
        _ => data.into(),
    };
    let each = if d.wrap == Wrap::Docker {
        Wrap::None
    } else {
        d.wrap
    };
    let mut cache = TimeCache::default();
    let mut buf = Vec::new();
    for raw in lines(&decoded) {
        let Some(line) = each.peel(raw, &mut buf) else {
            continue;
        };
        let full = fmt.parse(line, &mut cache).map(|r| (r.status, r.time));
        let mut rec = crate::logs::record::Record::default();
        if let Ok(at) = fmt.parse_summary(line, &mut rec, &mut cache) {
            let done = fmt.complete(line, &mut rec, at, &mut cache);
            if let (Ok(()), Ok(f)) = (done, &full) {
                assert_eq!((rec.status, rec.time), *f, "summary+complete vs parse");
            }
        }
    }
}

/// Any bytes as a possibly compressed input (gzip with every member, zstd,
/// bzip2, xz, or plain), decoded by magic bytes as `gatecheck analyze`
/// reads a file; at most 4 MiB of output is read, so a small bomb stays a
/// quick run. Damage must be an error, never a panic.
pub fn decompress(data: &[u8]) {
    use std::io::Read;
    let src: Box<dyn std::io::BufRead + Send> = Box::new(std::io::Cursor::new(data.to_vec()));
    let Ok(mut r) = crate::input::stream::decode(src) else {
        return;
    };
    let mut buf = [0u8; 64 << 10];
    let mut total = 0usize;
    while total < 4 << 20 {
        match r.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => total += n,
        }
    }
}

/// A span reaching past the input is a bug in the reader that made it.
fn in_bounds(span: crate::source::Span, len: usize) {
    assert!(
        span.start <= span.end && span.end as usize <= len,
        "{span:?} outside 0..{len}"
    );
}

/// Parse `data` as an nginx config (includes are not read), lint it with
/// every rule and render every diagnostic, parse errors included.
pub fn nginx_conf(data: &[u8]) {
    use crate::lint::{check, Selection, Settings};
    let (sources, parsed) = crate::config::nginx::parse_str("fuzz.conf", data);
    let models: Vec<_> = parsed.model.into_iter().collect();
    assert_eq!(models.len(), 1, "the parser always returns a model");
    let mut diags = check(
        &models,
        &sources,
        &Settings::default(),
        &Selection::default(),
    );
    diags.extend(
        parsed
            .errors
            .iter()
            .filter_map(|e| crate::report::config_error::diagnostic(e, &sources)),
    );
    for d in &diags {
        assert!(!crate::report::lint::text::render(d, &sources).is_empty());
    }
}

/// Parse `data` as a HAProxy config (and every word as a time and a size),
/// lower it and run every rule.
pub fn haproxy_cfg(data: &[u8]) {
    use crate::config::haproxy::{parse_cfg, parse_size, parse_str, parse_time};
    use crate::lint::{check, Selection, Settings};
    let cfg = parse_cfg(crate::source::FileId(0), data);
    let lines = crate::source::LineIndex::new(data);
    for section in &cfg.sections {
        in_bounds(section.span, data.len());
        for line in std::iter::once(&section.header).chain(&section.lines) {
            in_bounds(line.span, data.len());
            for word in &line.words {
                in_bounds(word.span, data.len());
                let _ = parse_time(word.as_str());
                let _ = parse_size(word.as_str());
            }
        }
    }
    for e in &cfg.errors {
        in_bounds(e.span(), data.len());
        let _ = lines.line_col(e.span().start);
        let _ = e.to_string();
    }
    let (sm, parsed) = parse_str("haproxy.cfg", data);
    let models: Vec<_> = parsed.model.into_iter().collect();
    for d in check(&models, &sm, &Settings::default(), &Selection::default()) {
        in_bounds(d.span, data.len());
    }
}

/// Read `data` as an Envoy bootstrap in YAML and in JSON (loader, typed
/// view), lower it and run every rule.
pub fn envoy_config(data: &[u8]) {
    use crate::config::envoy::{parse_bootstrap, parse_str, Syntax};
    use crate::lint::{check, Selection, Settings};
    let lines = crate::source::LineIndex::new(data);
    for syntax in [Syntax::Yaml, Syntax::Json] {
        let boot = parse_bootstrap(crate::source::FileId(0), data, syntax);
        for e in &boot.errors {
            in_bounds(e.span(), data.len());
            let _ = lines.line_col(e.span().start);
            let _ = e.to_string();
        }
        for n in &boot.notes {
            in_bounds(n.span(), data.len());
        }
        for c in &boot.clusters {
            in_bounds(c.span, data.len());
            for ep in &c.endpoints {
                in_bounds(ep.address.span, data.len());
            }
        }
        for l in &boot.listeners {
            in_bounds(l.span, data.len());
            for h in &l.http_managers {
                in_bounds(h.span, data.len());
            }
        }
    }
    for name in ["envoy.yaml", "envoy.json"] {
        let (sm, parsed) = parse_str(name, data);
        let models: Vec<_> = parsed.model.into_iter().collect();
        for d in check(&models, &sm, &Settings::default(), &Selection::default()) {
            in_bounds(d.span, data.len());
        }
    }
}
