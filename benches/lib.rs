//! Nothing: this package holds only the criterion benches (`[[bench]]` in
//! `Cargo.toml`).
