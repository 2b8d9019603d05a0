//! `gatecheck formats`: each input's detected (or forced) format and why.

use std::io::Write;
use std::process::ExitCode;

use gatecheck::analyze::given_formats::{FormatProxy, GivenFormat};
use gatecheck::analyze::{self, InputKind, Options};
use gatecheck::logs::nginx::{Escape, LogFormat};

use crate::cli::FormatsArgs;

/// `--format-of GLOB=NAME` values → (glob, name).
pub fn parse_format_of(v: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    v.iter()
        .map(|s| match s.rsplit_once('=') {
            Some((g, n)) if !g.is_empty() && !n.is_empty() => {
                globset::Glob::new(g)
                    .map_err(|e| anyhow::anyhow!("--format-of {s:?}: bad glob: {e}"))?;
                Ok((g.to_string(), n.to_string()))
            }
            _ => anyhow::bail!("--format-of {s:?}: expected GLOB=NAME, e.g. 'lb*.log=haproxy'"),
        })
        .collect()
}

/// `--log-format` values, told apart by their `PROXY=` prefix.
#[derive(Debug, Default)]
pub struct LogFormats {
    /// The nginx log_format (a value without a prefix, or `nginx=`).
    pub nginx: Option<String>,
    /// `envoy=` / `haproxy=` values.
    pub hop: Vec<GivenFormat>,
}

/// Split `--log-format` values: `envoy=…` and `haproxy=…` name their
/// proxy; anything else (`nginx=…`, or no prefix, as before) is nginx's.
pub fn split_log_formats(v: &[String]) -> anyhow::Result<LogFormats> {
    let mut out = LogFormats::default();
    for f in v {
        let (proxy, text) = match f.split_once('=') {
            Some(("envoy", t)) => (Some(FormatProxy::Envoy), t),
            Some(("haproxy", t)) => (Some(FormatProxy::Haproxy), t),
            Some(("nginx", t)) => (None, t),
            _ => (None, f.as_str()),
        };
        anyhow::ensure!(
            !text.trim().is_empty(),
            "--log-format {f:?}: the format is empty"
        );
        match proxy {
            Some(proxy) => {
                if proxy == FormatProxy::Envoy {
                    gatecheck::logs::envoy::compile(text)
                        .map_err(|e| anyhow::anyhow!("--log-format {f:?}: {e}"))?;
                } else {
                    // as for envoy=: a format that cannot be compiled is a
                    // mistake in the command (it was only "fits no line of
                    // any input", its own error left in the report)
                    gatecheck::logs::haproxy_custom::CustomFormat::compile("--log-format", text)
                        .map_err(|e| anyhow::anyhow!("--log-format {f:?}: {e}"))?;
                }
                out.hop.push(GivenFormat {
                    proxy,
                    text: text.to_string(),
                });
            }
            None if out.nginx.is_some() => anyhow::bail!(
                "--log-format given twice for nginx; prefix the others with envoy= or haproxy="
            ),
            None => out.nginx = Some(text.to_string()),
        }
    }
    Ok(out)
}

/// Run `gatecheck formats`.
pub fn run(args: FormatsArgs) -> anyhow::Result<ExitCode> {
    let mut opts = Options {
        format_of: parse_format_of(&args.format_of)?,
        ..Options::default()
    };
    let given = split_log_formats(&args.log_format)?;
    if let Some(f) = &given.nginx {
        opts.formats
            .push(LogFormat::compile("--log-format", f, Escape::Default)?);
    }
    opts.hop_log_formats = given.hop;
    // as `analyze` does; the HAProxy / Envoy configs are only set apart
    // from nginx's here
    super::configs::exist(&args.config)?;
    super::configs::read(&args.config, &mut opts);
    let (inputs, problems) = analyze::detect_formats(&args.paths, &opts);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if args.json {
        serde_json::to_writer_pretty(
            &mut out,
            &serde_json::json!({
                "inputs": inputs,
                "problems": problems,
            }),
        )?;
        out.write_all(b"\n")?;
    } else {
        for i in &inputs {
            let what = match (&i.input_kind, &i.format) {
                (InputKind::NginxAccess, Some(f)) => format!("nginx access log, log_format {f}"),
                (InputKind::Hop(name), _) => format!("{name} log"),
                (InputKind::NginxError, _) => "nginx error log".into(),
                (InputKind::ProxyConfig(k), _) => format!("{} config", k.as_str()),
                _ => "unknown".into(),
            };
            writeln!(out, "{}: {what}\n    {}", i.path, i.reason)?;
        }
        for p in &problems {
            writeln!(out, "{}: error: {}", p.path, p.message)?;
        }
    }
    out.flush()?;
    if !problems.is_empty() && inputs.is_empty() {
        return Ok(ExitCode::from(2));
    }
    let unknown = inputs.iter().any(|i| i.input_kind == InputKind::Unknown);
    Ok(if unknown {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
