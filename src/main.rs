//! The `gatecheck` binary: parse the command line, call the library, print,
//! and map the outcome to an exit code (0 clean, 1 findings, 2 error).

/// `eprintln!` that never panics: writing to a standard error that is a
/// closed pipe (`gatecheck … 2>&1 | head -1`) made `eprintln!` panic, exit
/// 101; a message that cannot be shown is dropped and the run goes on.
macro_rules! say {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($t)*);
    }};
}

mod app;
mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    app::stdio::raise_open_files_limit();
    let cli = cli::Cli::parse();
    let result = match cli.command {
        cli::Command::Analyze(args) => app::analyze::run(args),
        cli::Command::Lint(args) => app::lint::run(args),
        cli::Command::Export(args) => app::export::run(args),
        cli::Command::Formats(args) => app::formats::run(args),
        cli::Command::Rules(args) => app::lint::rules(args),
        cli::Command::Explain(args) => app::lint::explain(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            if app::is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            say!("gatecheck: error: {}", app::error_text(&err));
            ExitCode::from(2)
        }
    }
}
