//! Config text → syntax tree with spans → normalized proxy model.
//! Imports `source` only; never `lint` or `report`.

pub mod envoy;
pub mod haproxy;
