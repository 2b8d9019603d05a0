//! gatecheck's integration tests, in one binary (as ripgrep keeps its
//! `tests/`): one module per area, sharing `support/` (the fault upstream,
//! the DNS responder, the HTTP client and the proxy guards). One binary links
//! the library and its dependencies once, instead of once per test file.
//!
//! Run one area with `cargo test --test it <module>::`, e.g.
//! `cargo test --test it cli_analyze::`. Snapshots are under `snapshots/`
//! (insta names them `it__<module>__<test>`).

mod support;

mod browser_report;
mod cli_analyze;
mod cli_attrib;
mod cli_attrib_nginx;
mod cli_bad_input;
mod cli_export;
mod cli_hop_formats;
mod cli_hops;
mod cli_ladder;
mod cli_report_docs;
mod fuzz_corpus;
mod hop_formats;
mod lint_cli;
mod lint_envoy_parse;
mod lint_fixtures;
mod lint_haproxy_parse;
mod lint_proxy_verdicts;
mod lint_readme;
mod lint_real_haproxy;
mod lint_real_nginx;
mod lint_realworld;
mod lint_sarif;
mod real_chain;
mod real_chain_lb;
mod real_dumps;
mod real_haproxy;
mod real_haproxy_attrib;
mod real_ladder;
mod real_nginx;
mod real_nginx_attrib;
mod real_nginx_causes;
mod real_nginx_copies;
mod real_nginx_everyday;
mod real_nginx_formats;
mod real_nginx_rewrites;
