//! Shared test helpers: running the gatecheck binary (`cli`), and for the
//! real-proxy tests a fault-injecting upstream, an NXDOMAIN
//! DNS responder, a tiny HTTP client, nginx and haproxy process guards and
//! the nginx → haproxy chain (`chain`) and the haproxy → nginx one
//! (`lb_chain`). All of them
//! use 127.0.0.1 only and stop by themselves.

pub mod chain;
pub mod cli;
pub mod dns;
pub mod haproxy;
pub mod haproxy_cfg;
pub mod http;
pub mod lb_chain;
pub mod nginx;
pub mod upstream;
