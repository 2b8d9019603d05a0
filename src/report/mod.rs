//! Results → bytes for people and machines. Knows nothing of file formats.

pub mod lint;
