//! Results → bytes for people and machines. Knows nothing of log or config
//! file formats.

pub mod config_error;
pub mod lint;
pub mod table;
