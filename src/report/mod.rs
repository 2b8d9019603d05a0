//! Results → bytes for people and machines. Knows nothing of log or config
//! file formats.

pub mod lint;
pub mod table;
