//! Lint a generated 5 000-file nginx tree (1 nginx.conf including 4 000
//! site files and 999 upstream files by glob): read + parse + include +
//! lower + every rule. The bench also checks the answer (files read and
//! findings per rule), so a fast wrong run cannot pass for a fast one.

use std::path::{Path, PathBuf};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use gatecheck::config::{self, LoadOptions};
use gatecheck::lint::{self, Selection, Settings};
use gatecheck::source::SourceMap;

const SITES: usize = 4000;
const UPSTREAMS: usize = 999;

fn generate(dir: &Path) -> (PathBuf, u64) {
    let mut bytes = 0u64;
    let mut write = |p: PathBuf, s: String| {
        bytes += s.len() as u64;
        std::fs::write(p, s).unwrap();
    };
    std::fs::create_dir_all(dir.join("sites")).unwrap();
    std::fs::create_dir_all(dir.join("upstreams")).unwrap();
    let main = dir.join("nginx.conf");
    write(
        main.clone(),
        "worker_processes auto;\nerror_log logs/error.log warn;\nevents { worker_connections 1024; }\n\
         http {\n    log_format up '$remote_addr $status $request_time $upstream_status $upstream_addr $upstream_response_time $request_id';\n    access_log logs/access.log up;\n    proxy_connect_timeout 5s;\n    proxy_read_timeout 30s;\n    proxy_send_timeout 30s;\n    include upstreams/*.conf;\n    include sites/*.conf;\n}\n"
            .to_string(),
    );
    for i in 0..UPSTREAMS {
        write(
            dir.join(format!("upstreams/u{i:04}.conf")),
            format!(
                "upstream app{i} {{\n    server 10.0.{}.{}:8080 max_fails=3 fail_timeout=10s;\n    server 10.1.{}.{}:8080 max_fails=3 fail_timeout=10s;\n    keepalive 16;\n}}\n",
                i / 250,
                i % 250,
                i / 250,
                i % 250
            ),
        );
    }
    for i in 0..SITES {
        let up = i % UPSTREAMS;
        // Every 100th site has a bare timeout typo (NGX-VAL-001).
        let typo = if i % 100 == 0 {
            "        proxy_read_timeout 30sec;\n"
        } else {
            ""
        };
        write(
            dir.join(format!("sites/s{i:04}.conf")),
            format!(
                "server {{\n    listen 80;\n    server_name site{i}.example.com;\n\
                 \n    location / {{\n        proxy_pass http://app{up};\n        proxy_http_version 1.1;\n        proxy_set_header Connection \"\";\n        proxy_set_header X-Request-ID $request_id;\n        proxy_next_upstream_tries 2;\n{typo}    }}\n\
                 \n    location /api/ {{\n        proxy_pass http://app{up}/v1/;\n        proxy_http_version 1.1;\n        proxy_set_header Connection \"\";\n        proxy_next_upstream_tries 2;\n    }}\n\
                 \n    location = /healthz {{\n        return 200;\n    }}\n}}\n"
            ),
        );
    }
    (main, bytes)
}

fn lint_tree(main: &Path) -> (usize, Vec<lint::Diagnostic>) {
    let mut sources = SourceMap::new();
    let loaded = config::load(&[main.to_path_buf()], &LoadOptions::default(), &mut sources);
    assert!(loaded.errors.is_empty(), "{:?}", &loaded.errors[..1]);
    let diags = lint::check(
        &loaded.models,
        &sources,
        &Settings::default(),
        &Selection::default(),
    );
    (sources.files().count(), diags)
}

fn bench(c: &mut Criterion) {
    let tmp = tempfile::tempdir().unwrap();
    let (main, bytes) = generate(tmp.path());
    let (files, diags) = lint_tree(&main);
    assert_eq!(files, 1 + SITES + UPSTREAMS);
    let val = diags.iter().filter(|d| d.rule == "NGX-VAL-001").count();
    assert_eq!(val, SITES / 100, "one NGX-VAL-001 per 100 sites");
    let errors = diags
        .iter()
        .filter(|d| d.severity == lint::Severity::Error)
        .count();
    assert_eq!(
        errors,
        val,
        "only the planted errors: {:?}",
        diags
            .iter()
            .find(|d| d.rule != "NGX-VAL-001" && d.severity == lint::Severity::Error)
    );

    let mut g = c.benchmark_group("lint_tree");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(bytes));
    g.bench_function("5000_files", |b| {
        b.iter(|| {
            let (files, diags) = lint_tree(&main);
            assert_eq!(files, 1 + SITES + UPSTREAMS);
            diags.len()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
