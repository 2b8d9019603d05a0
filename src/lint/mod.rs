//! Proxy model → diagnostics. Rules read only `config::model`.
