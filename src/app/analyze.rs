//! `gatecheck analyze`: arguments → [`gatecheck::analyze::Options`] → report on stdout.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;

use gatecheck::analyze::{self, Options};
use gatecheck::logs::nginx::{Escape, LogFormat};

use crate::cli::{AnalyzeArgs, AnalyzeFormat, InputArgs};

/// Names and problems written to stderr at most, without `--verbose`.
const STDERR_ITEMS: usize = 10;

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

/// `--error-log-tz`: an offset (`+02:00`, `-0500`, `Z`, `UTC`), or a zone
/// name of the tz database (`Europe/Berlin`), whose offset follows its
/// daylight saving time.
enum ErrorLogTz {
    Offset(i32),
    Zone(jiff::tz::TimeZone),
}

fn parse_offset(s: &str) -> anyhow::Result<ErrorLogTz> {
    let v = if s == "UTC" { "Z" } else { s };
    if let Some(off) = gatecheck::logs::scan::parse_offset(v.as_bytes()) {
        return Ok(ErrorLogTz::Offset(off));
    }
    jiff::tz::TimeZone::get(s).map(ErrorLogTz::Zone).map_err(|e| {
        anyhow::anyhow!(
            "--error-log-tz {s:?}: expected an offset like +02:00, -0500 or Z, or a zone name like Europe/Berlin ({e})"
        )
    })
}

/// The output format: `--format`, else the extension of `-o`, else a table.
fn output_format(format: Option<AnalyzeFormat>, output: Option<&std::path::Path>) -> AnalyzeFormat {
    let ext = output
        .and_then(|p| p.extension())
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    format.unwrap_or(match ext.as_deref() {
        Some("html" | "htm") => AnalyzeFormat::Html,
        Some("md" | "markdown") => AnalyzeFormat::Markdown,
        Some("json") => AnalyzeFormat::Json,
        Some("ndjson" | "jsonl") => AnalyzeFormat::Ndjson,
        _ => AnalyzeFormat::Table,
    })
}

/// Run `gatecheck analyze`.
pub fn run(args: AnalyzeArgs) -> anyhow::Result<ExitCode> {
    let keep_events = args.events.is_some()
        || output_format(args.format, args.output.as_deref()) == AnalyzeFormat::Ndjson;
    let (mut opts, bar) = options(&args.input, keep_events)?;
    opts.hop_timeouts = args
        .hop_timeout
        .iter()
        .map(|a| a.parse::<analyze::ladder::HopTimeout>())
        .collect::<Result<_, _>>()?;
    for (flag, path) in [("-o", &args.output), ("--events", &args.events)] {
        if let Some(path) = path {
            refuse_input_as_output(flag, path, &args.input.paths)?;
        }
    }
    if let (Some(o), Some(e)) = (&args.output, &args.events) {
        // each would be renamed onto the other: only the last would be left
        anyhow::ensure!(
            o != e,
            "-o and --events name the same file, {}: give each its own",
            o.display()
        );
    }
    // events are written as they are made (file and line order): memory
    // stays bounded. They come as writes of a MiB (`analyze_ndjson`), which
    // a buffer smaller than that hands to the file as they are
    let mut events_file = match &args.events {
        Some(path) => Some(crate::app::output::OutFile::create(
            "--events",
            path,
            64 << 10,
        )?),
        None => None,
    };
    let format = output_format(args.format, args.output.as_deref());
    let stdout = std::io::stdout();
    let mut report_file = match &args.output {
        Some(path) => Some(crate::app::output::OutFile::create("-o", path, 8 << 10)?),
        None => None,
    };
    let mut out: Box<dyn Write> = match report_file.as_mut() {
        Some(f) => Box::new(f),
        None => Box::new(crate::app::output::Named::new(
            std::io::BufWriter::new(stdout.lock()),
            "the report to standard output".into(),
        )),
    };
    let ndjson = format == AnalyzeFormat::Ndjson;
    // events are serialized on the worker threads and written here, in order
    let report = if events_file.is_some() || ndjson {
        let mut tee = Tee {
            file: events_file.as_mut(),
            stdout: ndjson.then_some(&mut out),
        };
        analyze::analyze_ndjson(&args.input.paths, &opts, &mut tee)?
    } else {
        (
            analyze::analyze_streaming(&args.input.paths, &opts, &mut |_| {})?,
            Ok(()),
        )
    };
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let (report, written) = report;
    written?;
    if let Some(w) = events_file {
        w.commit()?;
    }
    match format {
        AnalyzeFormat::Markdown => {
            out.write_all(gatecheck::report::markdown::render(&report).as_bytes())?;
        }
        AnalyzeFormat::Html => {
            out.write_all(gatecheck::report::html::render(&report).as_bytes())?;
        }
        AnalyzeFormat::Table => {
            let width = terminal_width();
            let text = gatecheck::report::table::render_with(&report, width, args.input.verbose);
            out.write_all(text.as_bytes())?;
        }
        AnalyzeFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &report)?;
            out.write_all(b"\n")?;
        }
        AnalyzeFormat::Ndjson => {}
    }
    out.flush()?;
    drop(out);
    if let Some(f) = report_file {
        f.commit()?;
    }
    if let Some(code) = check_inputs(&opts, &args.input, &report) {
        return Ok(code);
    }
    if args.fail_on_502 && report.totals.status_502 > 0 {
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// `-o`/`--events` naming a file that is also an input would overwrite a
/// log with the report: refused before anything is read or written.
fn refuse_input_as_output(
    flag: &str,
    out: &std::path::Path,
    inputs: &[String],
) -> anyhow::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let Ok(o) = std::fs::metadata(out) else {
        return Ok(());
    };
    if !o.is_file() {
        return Ok(());
    }
    for i in inputs {
        if std::fs::metadata(i).is_ok_and(|m| m.dev() == o.dev() && m.ino() == o.ino()) {
            anyhow::bail!(
                "{flag} {}: this file is also an input ({i}): writing the report there would destroy the log; write it elsewhere",
                out.display()
            );
        }
    }
    Ok(())
}

/// The analysis options and the progress bar of `args` (shared with
/// `export`); `keep_events`: hand out every 5xx as an event.
pub fn options(
    args: &InputArgs,
    keep_events: bool,
) -> anyhow::Result<(Options, Option<indicatif::ProgressBar>)> {
    if args.paths.iter().any(|p| p == "-" || p == "/dev/stdin") && std::io::stdin().is_terminal() {
        // `-` with nothing piped in: reading waits for typed lines, which
        // looked like a hang
        say!(
            "gatecheck: reading logs from the terminal (`-` with nothing piped in): paste lines and end with Ctrl-D, \
             or pipe them in: zcat access.log.1.gz | gatecheck analyze -"
        );
    }
    for p in &args.paths {
        use std::os::unix::fs::FileTypeExt;
        // a named pipe whose writer has not opened it yet blocks the run, as
        // `cat` would, which looked like a hang (not /dev/fd/N: `<(zcat …)`
        // has its writer already)
        if !p.starts_with("/dev/fd/") && std::fs::metadata(p).is_ok_and(|m| m.file_type().is_fifo())
        {
            say!(
                "gatecheck: note: {p} is a named pipe: it is read as its writer sends lines, until the writer closes it (nothing happens until one opens it; Ctrl-C to stop)"
            );
        }
    }
    if let Some(n) = args.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(usize::from(n))
            .build_global()
            .ok();
    }
    let mut opts = Options {
        keep_events,
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
        ..Options::default()
    };
    match args.error_log_tz.as_deref().map(parse_offset).transpose()? {
        Some(ErrorLogTz::Offset(off)) => opts.error_log_offset_s = Some(off),
        Some(ErrorLogTz::Zone(z)) => opts.error_log_zone = Some(z),
        None => {}
    }
    if let (Some(s), Some(u)) = (opts.since_ms, opts.until_ms) {
        // --since is inclusive and --until exclusive: since >= until keeps nothing
        anyhow::ensure!(
            s < u,
            "--since {:?} is not before --until {:?}: the window is empty (did you swap them?)",
            args.since.as_deref().unwrap_or_default(),
            args.until.as_deref().unwrap_or_default()
        );
    }
    opts.format_of = crate::app::formats::parse_format_of(&args.format_of)?;
    let given = crate::app::formats::split_log_formats(&args.log_format)?;
    opts.hop_log_formats = given.hop;
    if let Some(f) = &given.nginx {
        let (esc, text) = Escape::split(f).map_err(|e| anyhow::anyhow!("--log-format: {e}"))?;
        let flag = match args.log_escape.as_deref() {
            Some("json") => Some(Escape::Json),
            Some("none") => Some(Escape::None),
            Some(_) => Some(Escape::Default),
            None => None,
        };
        if let (Some(a), Some(b)) = (esc, flag) {
            if a != b {
                anyhow::bail!("--log-format says escape={a:?} but --log-escape says {b:?}");
            }
        }
        let esc = esc.or(flag).unwrap_or_default();
        opts.formats
            .push(LogFormat::compile("--log-format", text, esc)?);
        // it overrides detection: the built-in formats are not tried
        opts.only_given_formats = true;
    } else if args.log_escape.is_some() {
        anyhow::bail!("--log-escape needs --log-format");
    }
    super::configs::exist(&args.config)?;
    // HAProxy / Envoy configs go to attribution
    let hop = super::configs::read(&args.config, &mut opts);
    if !hop.is_empty() || !hop.problems.is_empty() {
        opts.proxy_configs = Some(Arc::new(hop));
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
    Ok((opts, bar))
}

/// What analyze says on stderr about the inputs it could not read, and the
/// exit code 2 when they leave nothing (or too little) to go on (shared
/// with `export`).
pub fn check_inputs(
    opts: &Options,
    args: &InputArgs,
    report: &analyze::Report,
) -> Option<ExitCode> {
    let r = report;
    let logs = r.inputs.iter().filter(|i| i.input_kind.is_log()).count();
    if !opts.hop_log_formats.is_empty()
        && !r
            .inputs
            .iter()
            // the reasons the given formats' detection writes (given_formats,
            // haproxy_custom): a file read with one of them
            .any(|i| {
                i.input_kind.is_log()
                    && (i.reason.starts_with("format from --log-format")
                        || i.reason.contains("log-format of --log-format"))
            })
    {
        for i in r.inputs.iter().filter(|i| i.kind == "unknown") {
            say!("gatecheck: {}: not read: {}", i.path, i.reason);
        }
        say!("gatecheck: error: --log-format envoy=/haproxy= fits no line of any input");
        return Some(ExitCode::from(2));
    }
    if !opts.formats.is_empty()
        && opts.only_given_formats
        && !r
            .inputs
            .iter()
            .any(|i| i.input_kind == gatecheck::analyze::InputKind::NginxAccess)
    {
        for i in r.inputs.iter().filter(|i| i.kind == "unknown") {
            say!(
                "gatecheck: {}: does not fit --log-format: {}",
                i.path,
                i.reason
            );
        }
        say!("gatecheck: error: --log-format fits no line of any input (it overrides detection, so no other format was tried)");
        return Some(ExitCode::from(2));
    }
    if logs == 0 {
        for p in &r.problems {
            say!("gatecheck: {}: {}", p.path, p.message);
        }
        for i in r.inputs.iter().filter(|i| i.kind == "unknown") {
            say!("gatecheck: {}: {}", i.path, i.reason);
        }
        say!("gatecheck: error: no input could be read as a log");
        return Some(ExitCode::from(2));
    }
    let skipped: Vec<&str> = r
        .inputs
        .iter()
        .filter(|i| i.kind == "unknown")
        .map(|i| i.path.as_str())
        .collect();
    // bounded: a dump of 20,000 files must not print 20,000 lines here
    let limit = if args.verbose {
        usize::MAX
    } else {
        STDERR_ITEMS
    };
    if !skipped.is_empty() {
        let more = skipped.len().saturating_sub(limit);
        say!(
            "gatecheck: note: {} file{} not read as logs (no known format, empty, or cut while read: each reason in Inputs): {}{}",
            skipped.len(),
            if skipped.len() == 1 { "" } else { "s" },
            skipped[..skipped.len() - more].join(", "),
            if more > 0 {
                format!(" and {more} more (--verbose lists each)")
            } else {
                String::new()
            }
        );
    }
    for p in r.problems.iter().take(limit) {
        say!("gatecheck: warning: {}: {}", p.path, p.message);
    }
    if r.problems.len() > limit {
        say!(
            "gatecheck: warning: … and {} more problems (see the report, or --verbose)",
            r.problems.len() - limit
        );
    }
    if let Some(why) = &r.incomplete {
        if !args.partial_ok {
            say!("gatecheck: error: {why} (--partial-ok to exit 0 anyway)");
            return Some(ExitCode::from(2));
        }
    }
    None
}

fn terminal_width() -> u16 {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(120)
}

/// Events go to the `--events` file and, with `--format ndjson`, stdout.
struct Tee<'a, F: Write, O: Write> {
    file: Option<&'a mut F>,
    stdout: Option<&'a mut O>,
}

impl<F: Write, O: Write> Write for Tee<'_, F, O> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.write_all(buf)?;
        Ok(buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        if let Some(f) = self.file.as_deref_mut() {
            f.write_all(buf)?;
        }
        if let Some(o) = self.stdout.as_deref_mut() {
            o.write_all(buf)?;
        }
        Ok(())
    }

    /// One destination: its own vectored write; both: each slice whole to
    /// each.
    fn write_vectored(&mut self, bufs: &[std::io::IoSlice<'_>]) -> std::io::Result<usize> {
        match (self.file.as_deref_mut(), self.stdout.as_deref_mut()) {
            (Some(f), None) => f.write_vectored(bufs),
            (None, Some(o)) => o.write_vectored(bufs),
            _ => {
                for b in bufs {
                    self.write_all(b)?;
                }
                Ok(bufs.iter().map(|b| b.len()).sum())
            }
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if let Some(f) = self.file.as_deref_mut() {
            f.flush()?;
        }
        if let Some(o) = self.stdout.as_deref_mut() {
            o.flush()?;
        }
        Ok(())
    }
}
