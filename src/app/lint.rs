//! `gatecheck lint`, `gatecheck rules`, `gatecheck explain`: arguments →
//! library calls → rendered output and exit code (0 clean, 1 findings at the
//! failing level, 2 usage or input error).

use std::io::Write;
use std::process::ExitCode;

use anyhow::{bail, Context};

use gatecheck::config::nginx::grammar::FileContext;
use gatecheck::config::{self, LoadOptions};
use gatecheck::lint::{self, registry, Selection, Settings, Severity};
use gatecheck::report::lint::{self as report, catalogue, Format};

use crate::cli::{ExplainArgs, LintArgs, LintContext, LintFormat, RulesArgs};

/// Run `gatecheck lint`.
pub fn run(args: LintArgs) -> anyhow::Result<ExitCode> {
    let settings_path = match &args.settings {
        Some(p) => Some(p.clone()),
        None => {
            let cwd = std::env::current_dir().context("current directory")?;
            Settings::discover(&cwd)
                .map(|p| p.strip_prefix(&cwd).map(|r| r.to_path_buf()).unwrap_or(p))
        }
    };
    let mut settings = match &settings_path {
        Some(p) => Settings::from_path(p)?,
        None => Settings::default(),
    };
    let selection = Selection {
        select: args.select.clone(),
        ignore: args.ignore.clone(),
    };
    let unknown = selection.unknown();
    if !unknown.is_empty() {
        bail!(
            "unknown rule selector(s): {} (see `gatecheck rules`)",
            unknown.join(", ")
        );
    }
    let fail_at = match args.deny.as_deref() {
        None => Severity::Error,
        Some(s) => Severity::parse(s)
            .with_context(|| format!("--deny {s}: expected error, warnings or info"))?,
    };
    let format = match args.format {
        LintFormat::Text => Format::Text,
        LintFormat::Json => Format::Json,
        LintFormat::Sarif => Format::Sarif,
        LintFormat::Github => Format::Github,
    };

    let opts = LoadOptions {
        prefix: args.prefix.clone(),
        nginx_version: settings.nginx_version(),
        no_includes: false,
        strict_includes: args.strict_includes,
        nginx_context: args.context.map(|c| match c {
            LintContext::Main => FileContext::Main,
            LintContext::Http => FileContext::Http,
            LintContext::Stream => FileContext::Stream,
            LintContext::Server => FileContext::Server,
            LintContext::Location => FileContext::Location,
        }),
    };
    if let Some(p) = &args.prefix {
        // relative includes are looked up under it: a prefix that is not
        // there made every one of them "missing", exit 0
        if !p.is_dir() {
            bail!(
                "-p {}: no such folder (it is where relative includes are looked up, as nginx -p)",
                p.display()
            );
        }
    }
    // a folder is not a config: said as such ("cannot read: Is a directory"
    // said nothing of what to give instead); the files are still linted
    let (folders, files): (Vec<_>, Vec<_>) = args.paths.iter().cloned().partition(|p| p.is_dir());
    let mut sources = gatecheck::source::SourceMap::new();
    let loaded = config::load(&files, &opts, &mut sources);
    // The settings file joins the source map so unused `ignore` entries can
    // be reported on their line.
    if let Some(p) = &settings_path {
        if !settings.ignore.is_empty() {
            let text = std::fs::read(p).with_context(|| format!("reading {}", p.display()))?;
            settings.file = Some(sources.add(p.clone(), text));
        }
    }
    let mut diags = lint::check(&loaded.models, &sources, &settings, &selection);
    let mut input_error = !folders.is_empty();
    let mut unread = folders.len();
    for f in &folders {
        say!(
            "gatecheck: error: {}: is a folder; give the config files in it (nginx.conf, haproxy.cfg, envoy.yaml; nginx includes are followed)",
            f.display()
        );
    }
    for (path, why) in &loaded.skipped {
        say!("gatecheck: note: {}: {why}", path.display());
    }
    for e in &loaded.errors {
        input_error = true;
        match gatecheck::report::config_error::diagnostic(e, &sources) {
            Some(d) => {
                if format != Format::Text {
                    let loc = report::locate(&sources, d.span);
                    say!(
                        "gatecheck: error: {}:{}:{}: {}",
                        loc.path,
                        loc.line,
                        loc.column,
                        d.message
                    );
                }
                diags.push(d);
            }
            None => {
                unread += 1;
                say!("gatecheck: error: {e}");
            }
        }
    }
    lint::sort(&mut diags);

    let stdout = std::io::stdout();
    let mut out = crate::app::output::Named::new(
        std::io::BufWriter::new(stdout.lock()),
        "to standard output".into(),
    );
    report::emit(&mut out, format, &diags, &sources, unread)?;
    out.flush()?;

    Ok(if input_error {
        ExitCode::from(2)
    } else if diags.iter().any(|d| d.severity >= fail_at) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Run `gatecheck rules`.
pub fn rules(args: RulesArgs) -> anyhow::Result<ExitCode> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &catalogue::json())?;
        writeln!(out)?;
    } else {
        out.write_all(catalogue::text().as_bytes())?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Run `gatecheck explain`.
pub fn explain(args: ExplainArgs) -> anyhow::Result<ExitCode> {
    let Some(rule) = registry::find(&args.rule) else {
        let near: Vec<&str> = registry::all()
            .iter()
            .map(|r| r.meta())
            .filter(|m| registry::matches(m, &args.rule))
            .map(|m| m.id)
            .collect();
        match near.as_slice() {
            [] => bail!("no rule `{}` (see `gatecheck rules`)", args.rule),
            [one] => {
                if let Some(r) = registry::find(one) {
                    std::io::stdout().write_all(catalogue::explain(r.meta()).as_bytes())?;
                    return Ok(ExitCode::SUCCESS);
                }
            }
            _ => {}
        }
        bail!(
            "`{}` is a prefix of several rules: {} — name one",
            args.rule,
            near.join(", ")
        );
    };
    std::io::stdout().write_all(catalogue::explain(rule.meta()).as_bytes())?;
    Ok(ExitCode::SUCCESS)
}
