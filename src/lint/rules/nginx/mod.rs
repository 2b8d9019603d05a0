//! nginx rules (`NGX-*`).

pub mod long_connect_timeout;
