//! Helpers for the real-proxy tests: a fault-injecting upstream, an NXDOMAIN
//! DNS responder, a tiny HTTP client and nginx and haproxy process guards. All of them
//! use 127.0.0.1 only and stop by themselves.

pub mod dns;
pub mod haproxy;
pub mod http;
pub mod nginx;
pub mod upstream;
