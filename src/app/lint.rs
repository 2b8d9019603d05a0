//! `gatecheck lint`, `gatecheck rules`, `gatecheck explain`.

use std::process::ExitCode;

use crate::cli::{ExplainArgs, LintArgs, RulesArgs};

/// Run `gatecheck lint`.
pub fn run(_args: LintArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`gatecheck lint` is not built yet in this version")
}

/// Run `gatecheck rules`.
pub fn rules(_args: RulesArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`gatecheck rules` is not built yet in this version")
}

/// Run `gatecheck explain`.
pub fn explain(_args: ExplainArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`gatecheck explain` is not built yet in this version")
}
