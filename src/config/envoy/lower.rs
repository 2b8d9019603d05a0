//! [`Bootstrap`] → [`ProxyModel`].

use crate::config::model::{ProxyKind, ProxyModel};
use crate::source::FileId;

use super::parse::Bootstrap;

/// Lower a read bootstrap into the model.
pub fn lower(_boot: &Bootstrap, file: FileId) -> ProxyModel {
    ProxyModel::new(ProxyKind::Envoy, file)
}
