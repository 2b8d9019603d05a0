//! Results → bytes for people and machines. Knows nothing of log or config
//! file formats.

pub mod config_error;
pub mod fold;
pub mod html;
pub mod lint;
pub mod markdown;
pub mod table;
