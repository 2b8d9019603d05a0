//! gatecheck explains 502 Bad Gateway.
//!
//! Two jobs: [`analyze`] reads proxy access and error logs and classifies every
//! 502 by cause with its evidence; [`lint`] checks proxy configs against the
//! rules of the 502 troubleshooting guide.
//!
//! Data flows one way: bytes → records → classified events → mergeable
//! aggregates → report; config text → syntax tree with spans → normalized
//! model → rules → diagnostics.
#![deny(missing_docs)]

pub mod analyze;
pub mod config;
pub mod error;
pub mod export;
pub mod fuzzing;
pub mod input;
pub mod lint;
pub mod logs;
pub mod report;
pub mod source;
