//! `gatecheck analyze`.

use std::process::ExitCode;

use crate::cli::AnalyzeArgs;

/// Run `gatecheck analyze`.
pub fn run(_args: AnalyzeArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`gatecheck analyze` is being built")
}
