//! Helpers for the real-proxy tests: a fault-injecting upstream, an NXDOMAIN
//! DNS responder, a tiny HTTP client and an nginx process guard. All of them
//! use 127.0.0.1 only and stop by themselves.

pub mod dns;
pub mod http;
pub mod nginx;
pub mod upstream;
