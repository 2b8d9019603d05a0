//! `gatecheck export`: arguments → the same [`gatecheck::analyze::Options`]
//! as `analyze` → [`gatecheck::export::export`] → a summary on stderr.

use std::process::ExitCode;

use gatecheck::export::{self, ExportOptions, Format};

use crate::cli::{ExportArgs, ExportFormat};

/// Run `gatecheck export`.
pub fn run(args: ExportArgs) -> anyhow::Result<ExitCode> {
    let (opts, bar) = crate::app::analyze::options(&args.input, true)?;
    let mut eo = ExportOptions::new(
        &args.to,
        args.host
            .clone()
            .unwrap_or_else(|| export::default_host(&args.input.paths)),
    );
    eo.format = match args.format {
        ExportFormat::Parquet => Format::Parquet,
        ExportFormat::Ndjson => Format::Ndjson,
    };
    eo.only_5xx = args.only.is_some();
    eo.overwrite = args.overwrite;
    let done = export::export(&args.input.paths, &opts, &eo);
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let done = done?;
    if let Some(code) = crate::app::analyze::check_inputs(&opts, &args.input, &done.report) {
        return Ok(code);
    }
    say!(
        "gatecheck: wrote {} row{} to {} file{} under {} (dump_host {:?})",
        done.rows,
        if done.rows == 1 { "" } else { "s" },
        done.files.len(),
        if done.files.len() == 1 { "" } else { "s" },
        args.to.display(),
        eo.host
    );
    Ok(ExitCode::SUCCESS)
}
