//! gatecheck explains 502 Bad Gateway.
//!
//! Two jobs: [`analyze`] reads proxy access and error logs and classifies every
//! 502 by cause with its evidence; [`lint`] checks proxy configs against the
//! rules of the 502 troubleshooting guide.
//!
//! Data flows one way: bytes → records → classified events → mergeable
//! aggregates → report; config text → syntax tree with spans → normalized
//! model → rules → diagnostics.
//!
//! Modules, in the order data flows through them: [`source`] (files, byte
//! spans, line indexes), [`input`] (paths → chunks of lines), [`logs`]
//! (lines → records, one parser per log format), [`analyze`] (records →
//! causes and aggregates), [`config`] (nginx / HAProxy / Envoy text → one
//! [`config::model::ProxyModel`] whose settings are typed values with spans
//! and defaults), [`lint`] (model → diagnostics, one file per rule) and
//! [`report`] (results → text, JSON, SARIF, …).
//!
//! # Example
//!
//! Lint an nginx config, and read a setting from the same model the rules
//! read:
//!
//! ```
//! use std::time::Duration;
//!
//! use gatecheck::config::nginx::parse_str;
//! use gatecheck::lint::{check, Selection, Settings};
//!
//! let conf = b"http {
//!     upstream app { server 10.0.0.1:8080; server 10.0.0.2:8080; }
//!     server {
//!         location / {
//!             proxy_pass http://app;
//!             proxy_next_upstream off;
//!             proxy_read_timeout 1m30s;
//!         }
//!     }
//! }";
//! let (sources, parsed) = parse_str("nginx.conf", conf);
//! let models: Vec<_> = parsed.model.into_iter().collect();
//! let rules = Selection { select: vec!["default".into()], ignore: vec![] };
//! let diags = check(&models, &sources, &Settings::default(), &rules);
//! // proxy_next_upstream off with two servers: a failing one gives 502s.
//! assert!(diags.iter().any(|d| d.rule == "NGX-RTY-003"));
//!
//! let (_, route) = models[0].routes().next().unwrap();
//! assert_eq!(route.timeouts.read.value, Some(Duration::from_secs(90)));
//! let written = route.directives.time("proxy_read_timeout").unwrap();
//! assert_eq!(written.value, Duration::from_secs(90));
//! assert!(!written.defaulted);
//! ```
#![deny(missing_docs)]

pub mod analyze;
pub mod config;
pub mod error;
pub mod export;
// Entry points for the `cargo fuzz` targets and the corpus-replay tests:
// public so those crates can call them, hidden from the documented API.
#[doc(hidden)]
pub mod fuzzing;
pub mod input;
pub mod lint;
pub mod logs;
pub mod report;
pub mod source;
