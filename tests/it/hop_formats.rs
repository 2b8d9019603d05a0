//! Every hop-format fixture (`fixtures/logs/<fmt>/`) is detected as its
//! format, every line is read (or counted as not a request), the 5xx count
//! equals a naive split-based count of the same file, and every 5xx gets a
//! cause with evidence.

use gatecheck::analyze::cause::Cause;
use gatecheck::analyze::hop_cause;
use gatecheck::logs::hop::{HopFormat, HopLineError, HopParser};
use gatecheck::logs::lines;
use std::path::{Path, PathBuf};

fn fixture(rel: &str) -> (PathBuf, Vec<u8>) {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/logs")
        .join(rel);
    let data = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    (p, data)
}

struct Read {
    records: usize,
    not_requests: usize,
    errors: Vec<(usize, HopLineError)>,
    fivexx: usize,
    causes: Vec<Cause>,
}

/// Every line of `data` read by `parser`, each 5xx judged as `format`'s.
fn read_all(parser: &dyn HopParser, data: &[u8], format: &str) -> Read {
    let mut r = Read {
        records: 0,
        not_requests: 0,
        errors: Vec::new(),
        fivexx: 0,
        causes: Vec::new(),
    };
    for (i, line) in lines(data).enumerate() {
        match parser.parse_line(line) {
            Ok(rec) => {
                r.records += 1;
                if rec.status.is_some_and(|s| s >= 500) {
                    r.fivexx += 1;
                    let v = hop_cause::classify(format, &rec);
                    assert!(!v.evidence.is_empty(), "line {}: no evidence", i + 1);
                    r.causes.push(v.cause);
                }
            }
            Err(HopLineError::NotARequest) => r.not_requests += 1,
            Err(e) => r.errors.push((i + 1, e)),
        }
    }
    r
}

fn detect(fmt: &dyn HopFormat, data: &[u8]) -> (Box<dyn HopParser>, String) {
    let head: Vec<&[u8]> = lines(data).take(50).collect();
    fmt.detect(&head).expect("detected")
}

/// The 5xx count the way `genlogs.py` and `awk` see an Envoy default line:
/// the first word after the request's closing quote.
fn naive_envoy_5xx(data: &[u8]) -> usize {
    String::from_utf8_lossy(data)
        .lines()
        .filter(|l| {
            l.split('"')
                .nth(2)
                .and_then(|s| s.split_whitespace().next())
                .is_some_and(|s| s.starts_with('5') && s.len() == 3)
        })
        .count()
}

/// `awk -F'\t' '$N ~ /^5/'` with N the column of `sc-status` in `#Fields`.
fn naive_cloudfront_5xx(data: &[u8]) -> usize {
    let text = String::from_utf8_lossy(data);
    let fields = text
        .lines()
        .find(|l| l.starts_with("#Fields:"))
        .expect("#Fields");
    let col = fields["#Fields:".len()..]
        .split_whitespace()
        .position(|f| f == "sc-status")
        .expect("sc-status");
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.split('\t').nth(col).is_some_and(|s| s.starts_with('5')))
        .count()
}

#[test]
fn envoy_fixtures() {
    use gatecheck::logs::envoy::Envoy;
    for (file, kind) in [
        ("envoy/genlogs_sample.log", "default"),
        ("envoy/default_5xx_kinds.log", "default"),
        ("envoy/istio_default.log", "Istio"),
        ("envoy/istio_json.log", "JSON"),
    ] {
        let (_, data) = fixture(file);
        let (p, why) = detect(&Envoy, &data);
        assert!(why.contains(kind), "{file}: {why}");
        let r = read_all(p.as_ref(), &data, "envoy");
        assert!(r.errors.is_empty(), "{file}: {:?}", r.errors);
        assert_eq!(r.records, lines(&data).count(), "{file}");
        if kind != "JSON" {
            assert_eq!(r.fivexx, naive_envoy_5xx(&data), "{file}");
        }
    }
    // the generator's 502 mix: passthrough, UPE, UC, URX; none left unknown
    let (_, data) = fixture("envoy/genlogs_sample.log");
    let (p, _) = detect(&Envoy, &data);
    let r = read_all(p.as_ref(), &data, "envoy");
    assert!(r.fivexx > 10);
    assert!(r.causes.contains(&Cause::Passthrough));
    assert!(r.causes.contains(&Cause::InvalidHeader));
    assert!(!r.causes.contains(&Cause::Unknown), "{:?}", r.causes);
}

#[test]
fn envoy_custom_format_from_a_config_string() {
    let (_, format) = fixture("envoy/custom_long_flags.format");
    let (_, data) = fixture("envoy/custom_long_flags.log");
    let p = gatecheck::logs::envoy::compile(std::str::from_utf8(&format).unwrap()).unwrap();
    let r = read_all(&p, &data, "envoy");
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    // a connection failure without %RESPONSE_CODE_DETAILS%: refused or a
    // connect timeout, the log cannot tell
    assert_eq!(r.causes, vec![Cause::UpstreamConnectFailed, Cause::Timeout]);
}

#[test]
fn cloudfront_fixtures() {
    use gatecheck::logs::cloudfront::CloudFront;
    for file in [
        "cloudfront/genlogs_sample.log",
        "cloudfront/aws_doc_example.log",
        "cloudfront/reordered_added_fields.log",
    ] {
        let (_, data) = fixture(file);
        let (p, why) = detect(&CloudFront, &data);
        assert!(why.contains("#Fields"), "{why}");
        let r = read_all(p.as_ref(), &data, "cloudfront");
        assert!(r.errors.is_empty(), "{file}: {:?}", r.errors);
        assert_eq!(r.not_requests, 2, "{file}");
        assert_eq!(r.fivexx, naive_cloudfront_5xx(&data), "{file}");
    }
    let (_, data) = fixture("cloudfront/aws_doc_example.log");
    let (p, _) = detect(&CloudFront, &data);
    assert_eq!(
        read_all(p.as_ref(), &data, "cloudfront").causes,
        vec![Cause::Dns, Cause::Dns]
    );
    let (_, data) = fixture("cloudfront/reordered_added_fields.log");
    let (p, _) = detect(&CloudFront, &data);
    assert_eq!(
        read_all(p.as_ref(), &data, "cloudfront").causes,
        vec![Cause::UpstreamRefused, Cause::Timeout]
    );
}

#[test]
fn cloudfront_without_fields_line_is_reported() {
    use gatecheck::logs::cloudfront::CloudFront;
    let (_, data) = fixture("cloudfront/fields_line_cut.log");
    let head: Vec<&[u8]> = lines(&data).take(50).collect();
    assert!(CloudFront.detect(&head).is_none());
    let why = CloudFront.near_miss(&head).expect("a reason");
    assert!(why.contains("#Fields"), "{why}");
}

#[test]
fn formats_do_not_claim_each_other() {
    use gatecheck::logs::cloudfront::CloudFront;
    use gatecheck::logs::envoy::Envoy;
    let (_, cf) = fixture("cloudfront/genlogs_sample.log");
    let (_, env) = fixture("envoy/genlogs_sample.log");
    let head = |d: &'static [u8]| -> Vec<&'static [u8]> { lines(d).take(50).collect() };
    let cf: &'static [u8] = Box::leak(cf.into_boxed_slice());
    let env: &'static [u8] = Box::leak(env.into_boxed_slice());
    assert!(Envoy.detect(&head(cf)).is_none());
    assert!(CloudFront.detect(&head(env)).is_none());
}

/// `awk '{print $9}'` on ALB lines: the 9th space-separated word is
/// `elb_status_code` (no quoted field comes before it).
fn naive_alb_5xx(data: &[u8]) -> usize {
    String::from_utf8_lossy(data)
        .lines()
        .filter(|l| l.split(' ').nth(8).is_some_and(|s| s.starts_with('5')))
        .count()
}

#[test]
fn alb_fixtures() {
    use gatecheck::logs::alb::Alb;
    for file in ["alb/aws_doc_examples.log", "alb/5xx_kinds.log"] {
        let (_, data) = fixture(file);
        let (p, why) = detect(&Alb, &data);
        assert!(why.contains("ALB"), "{why}");
        let r = read_all(p.as_ref(), &data, "alb");
        assert!(r.errors.is_empty(), "{file}: {:?}", r.errors);
        assert_eq!(r.records, lines(&data).count(), "{file}");
        assert_eq!(r.fivexx, naive_alb_5xx(&data), "{file}");
    }
    let (_, data) = fixture("alb/aws_doc_examples.log");
    let (p, _) = detect(&Alb, &data);
    assert_eq!(
        read_all(p.as_ref(), &data, "alb").causes,
        vec![Cause::InvalidHeader]
    );
}

#[test]
fn json_hop_fixtures() {
    use gatecheck::logs::{cloudflare::Cloudflare, fastly::Fastly, gcp_lb::GcpLb};
    let cases: [(&str, &dyn HopFormat, &str); 3] = [
        ("cloudflare/examples.log", &Cloudflare, "cloudflare"),
        ("fastly/examples.log", &Fastly, "fastly"),
        ("gcp_lb/examples.log", &GcpLb, "gcp_lb"),
    ];
    for (file, fmt, name) in cases {
        let (_, data) = fixture(file);
        let (p, _) = detect(fmt, &data);
        let r = read_all(p.as_ref(), &data, name);
        assert!(r.errors.is_empty(), "{file}: {:?}", r.errors);
        assert_eq!(r.records, lines(&data).count(), "{file}");
        // each JSON format claims only its own lines
        for (other, _, _) in cases.iter().filter(|o| o.0 != file) {
            let (_, od) = fixture(other);
            let head: Vec<&[u8]> = lines(&od).take(50).collect();
            assert!(
                fmt.detect(&head).is_none(),
                "{file}'s format claims {other}"
            );
        }
    }
}
