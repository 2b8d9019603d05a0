//! `gatecheck analyze`: arguments → [`gatecheck::analyze::Options`] → report on stdout.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use gatecheck::analyze::{self, Options};
use gatecheck::logs::nginx::{Escape, LogFormat};

use crate::cli::{AnalyzeArgs, AnalyzeFormat};

fn parse_time(what: &str, s: &str) -> anyhow::Result<i64> {
    if let Ok(ts) = s.parse::<jiff::Timestamp>() {
        return Ok(ts.as_millisecond());
    }
    if let Ok(dt) = s.parse::<jiff::civil::DateTime>() {
        if let Ok(z) = dt.to_zoned(jiff::tz::TimeZone::UTC) {
            return Ok(z.timestamp().as_millisecond());
        }
    }
    anyhow::bail!(
        "{what} {s:?}: not a time; use RFC 3339 like 2026-11-20T14:00:00Z or 2026-11-20T14:00+01:00 (no zone = UTC)"
    )
}

fn parse_offset(s: &str) -> anyhow::Result<i32> {
    let v = if s == "UTC" { "Z" } else { s };
    gatecheck::logs::scan::parse_offset(v.as_bytes()).ok_or_else(|| {
        anyhow::anyhow!("--error-log-tz {s:?}: expected an offset like +02:00, -0500 or Z")
    })
}

/// Run `gatecheck analyze`.
pub fn run(args: AnalyzeArgs) -> anyhow::Result<ExitCode> {
    if let Some(n) = args.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global()
            .ok();
    }
    let mut opts = Options {
        keep_events: args.events.is_some() || args.format == AnalyzeFormat::Ndjson,
        since_ms: args
            .since
            .as_deref()
            .map(|s| parse_time("--since", s))
            .transpose()?,
        until_ms: args
            .until
            .as_deref()
            .map(|s| parse_time("--until", s))
            .transpose()?,
        error_log_offset_s: args.error_log_tz.as_deref().map(parse_offset).transpose()?,
        ..Options::default()
    };
    if let Some(f) = &args.log_format {
        opts.formats
            .push(LogFormat::compile("--log-format", f, Escape::Default)?);
    }
    if !args.config.is_empty() {
        opts.config = Some(Arc::new(gatecheck::analyze::nginx_config::read(
            &args.config,
        )));
    }
    let bar = (!args.no_progress && std::io::stderr().is_terminal()).then(|| {
        let total = analyze::total_bytes(&args.paths);
        let bar = indicatif::ProgressBar::new(total);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {bytes}/{total_bytes} {binary_bytes_per_sec} {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    if let Some(b) = &bar {
        let b = b.clone();
        opts.progress = Some(Arc::new(move |n| b.inc(n)));
    }
    // events are written as they are made (file and line order): memory stays bounded
    let mut events_file = match &args.events {
        Some(path) => Some(std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("--events {}", path.display()))?,
        )),
        None => None,
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let ndjson = args.format == AnalyzeFormat::Ndjson;
    let mut write_error: Option<std::io::Error> = None;
    let mut on_events = |evs: Vec<gatecheck::analyze::event::Event>| {
        if write_error.is_some() {
            return;
        }
        let mut write = || -> std::io::Result<()> {
            for e in &evs {
                if let Some(w) = events_file.as_mut() {
                    serde_json::to_writer(&mut *w, e)?;
                    w.write_all(b"\n")?;
                }
                if ndjson {
                    serde_json::to_writer(&mut out, e)?;
                    out.write_all(b"\n")?;
                }
            }
            Ok(())
        };
        if let Err(e) = write() {
            write_error = Some(e);
        }
    };
    let report = analyze::analyze_streaming(&args.paths, &opts, &mut on_events)?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    if let Some(e) = write_error {
        return Err(e).context("writing events");
    }
    if let Some(mut w) = events_file {
        w.flush().context("writing --events")?;
    }
    match args.format {
        AnalyzeFormat::Table => {
            let width = terminal_width();
            out.write_all(gatecheck::report::table::render(&report, width).as_bytes())?;
        }
        AnalyzeFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &report)?;
            out.write_all(b"\n")?;
        }
        AnalyzeFormat::Ndjson => {}
    }
    out.flush()?;
    let r = &report;
    let logs = r.inputs.iter().filter(|i| i.input_kind.is_log()).count();
    if logs == 0 {
        for p in &r.problems {
            eprintln!("gatecheck: {}: {}", p.path, p.message);
        }
        for i in r.inputs.iter().filter(|i| i.kind == "unknown") {
            eprintln!("gatecheck: {}: {}", i.path, i.reason);
        }
        eprintln!("gatecheck: error: no input could be read as a log");
        return Ok(ExitCode::from(2));
    }
    let skipped: Vec<&str> = r
        .inputs
        .iter()
        .filter(|i| i.kind == "unknown")
        .map(|i| i.path.as_str())
        .collect();
    if !skipped.is_empty() {
        eprintln!(
            "gatecheck: note: {} file{} not read as logs (no known format; see Inputs): {}",
            skipped.len(),
            if skipped.len() == 1 { "" } else { "s" },
            skipped.join(", ")
        );
    }
    for p in &r.problems {
        eprintln!("gatecheck: warning: {}: {}", p.path, p.message);
    }
    if args.fail_on_502 && r.totals.status_502 > 0 {
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

fn terminal_width() -> u16 {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(120)
}
