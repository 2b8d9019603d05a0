//! `gatecheck export`: arguments → the same [`gatecheck::analyze::Options`]
//! as `analyze` → [`gatecheck::export::export`] → a summary on stderr.

use std::process::ExitCode;

use gatecheck::export::{self, ExportOptions, Format};

use crate::cli::{AnalyzeArgs, AnalyzeFormat, ExportArgs, ExportFormat};

/// The `analyze` arguments that read the same inputs the same way.
fn as_analyze(a: &ExportArgs) -> AnalyzeArgs {
    AnalyzeArgs {
        paths: a.paths.clone(),
        config: a.config.clone(),
        log_format: a.log_format.clone(),
        log_escape: a.log_escape.clone(),
        partial_ok: a.partial_ok,
        since: a.since.clone(),
        until: a.until.clone(),
        error_log_tz: a.error_log_tz.clone(),
        format: Some(AnalyzeFormat::Json),
        output: None,
        events: None,
        format_of: a.format_of.clone(),
        hop_timeout: Vec::new(),
        fail_on_502: false,
        threads: a.threads,
        no_progress: a.no_progress,
        verbose: a.verbose,
    }
}

/// Run `gatecheck export`.
pub fn run(args: ExportArgs) -> anyhow::Result<ExitCode> {
    let aargs = as_analyze(&args);
    let (opts, bar) = crate::app::analyze::options(&aargs)?;
    let mut eo = ExportOptions::new(
        &args.to,
        args.host
            .clone()
            .unwrap_or_else(|| export::default_host(&args.paths)),
    );
    eo.format = match args.format {
        ExportFormat::Parquet => Format::Parquet,
        ExportFormat::Ndjson => Format::Ndjson,
    };
    eo.only_5xx = args.only.is_some();
    eo.overwrite = args.overwrite;
    let done = export::export(&args.paths, &opts, &eo);
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let done = done?;
    if let Some(code) = crate::app::analyze::check_inputs(&opts, &aargs, &done.report) {
        return Ok(code);
    }
    eprintln!(
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
