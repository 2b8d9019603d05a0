//! Command-line definitions (clap derive) and the help examples. No logic:
//! the binary's `app` modules turn these into library calls.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Explains 502 Bad Gateway: forensics on proxy logs, and a linter for proxy configs.
#[derive(Debug, Parser)]
#[command(name = "gatecheck", version, about, long_about = None)]
#[command(after_help = "Examples:
  gatecheck analyze fixtures/incident/                 # the embedded demo
  gatecheck analyze /var/log/nginx/ --config /etc/nginx/nginx.conf
  gatecheck lint /etc/nginx/nginx.conf haproxy.cfg envoy.yaml --format github
  gatecheck rules                                      # the lint rule catalogue
  gatecheck explain NGX-DNS-001")]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Find the 502s in access and error logs and explain where and why each was born.
    #[command(after_help = ANALYZE_EXAMPLES)]
    Analyze(AnalyzeArgs),
    /// Check nginx, HAProxy and Envoy configs against the 502 troubleshooting rules.
    #[command(after_help = LINT_EXAMPLES)]
    Lint(LintArgs),
    /// Write every request (or every 5xx) with its cause to Parquet or NDJSON, for Spark, Trino, DuckDB.
    #[command(after_help = EXPORT_EXAMPLES)]
    Export(ExportArgs),
    /// Show what format each log file was detected as, and why (or why none fits).
    #[command(after_help = FORMATS_EXAMPLES)]
    Formats(FormatsArgs),
    /// List the lint rules (id, severity, summary).
    Rules(RulesArgs),
    /// Print one lint rule's full documentation.
    Explain(ExplainArgs),
}

const ANALYZE_EXAMPLES: &str = "Examples:
  gatecheck analyze fixtures/incident/
  gatecheck analyze access.log error.log \\
    --log-format '$remote_addr [$time_local] \"$request\" $status $upstream_addr'
  gatecheck analyze access.json error.log \\
    --log-format 'escape=json {\"t\":\"$msec\",\"s\":$status,\"r\":\"$request\"}'
  gatecheck analyze envoy/ --log-format 'envoy=[%START_TIME(%s.%3f)%] \\
    %REQ(:METHOD)% %REQ(:PATH)% %RESPONSE_CODE% %RESPONSE_FLAGS% %DURATION%'
  gatecheck analyze ./dump/ --config envoy.yaml   # its access_log formats
  gatecheck analyze ./dump/ --config ./dump/etc/nginx/nginx.conf \\
    --since 2026-11-20T14:00Z --until 2026-11-20T16:00Z
  zcat access.log.1.gz | gatecheck analyze -
  gatecheck analyze ./dump/ --format json > report.json
  gatecheck analyze ./dump/ --events 5xx.ndjson
  gatecheck analyze ./dump/ --hop-timeout cloudfront=30s   # the CDN's limit

Inputs are files, directories (searched recursively), glob patterns or `-` for stdin.
Gzip files are recognised by their magic bytes, whatever their name.
Access logs are recognised without a config: combined/main and their $time_iso8601/$msec
variants, ingress-nginx's upstreaminfo, JSON (keys read from the first line), and other
layouts whose request line, status and time can be told apart; syslog, Docker json-file
and CRI wrappers are peeled, and access and error lines may share one file.
Exit codes: 0 done, 1 502s found and --fail-on-502 given, 2 usage or input error, or
inputs that could not be read while the error logs show upstream errors (--partial-ok: 0).";

const EXPORT_EXAMPLES: &str = "Examples:
  gatecheck export ./dump-edge-17/ --to out/edge-17/
  gatecheck export ./dump-edge-17/ --to out/5xx/ --only 5xx --host edge-17
  gatecheck export access.log --to out/ndjson/ --format ndjson
  duckdb -c \"select cause, count(*) from read_parquet('out/*/**/*.parquet', \\
    hive_partitioning=true) where status = 502 group by 1\"

One row per request: time (UTC), hop_kind, hop_format, source_file, source_line, dump_host,
client, method, host, path, status, request_time, upstream (list of attempts), upstream_addr,
cause and evidence (5xx and rescued requests), rescued, request_id. Parquet files are written
to date=YYYY-MM-DD/hour=HH/part-N.parquet (zstd, about 128 MiB row groups); sql/ has the
report's tables as SQL over them. Inputs are read and classified exactly as by `analyze`.
Exit codes: 0 done, 2 usage, input or output error (an existing non-empty --to without
--overwrite, an unwritable folder, a full disk: no partial file is left under a final name).";

const FORMATS_EXAMPLES: &str = "Examples:
  gatecheck formats ./dump/
  gatecheck formats lb1.log --format-of 'lb*.log=haproxy'
  gatecheck formats envoy/ --config envoy.yaml   # its access_log formats

Formats: nginx access logs (built-in log_formats, --log-format, --config), nginx_error,
and the hop formats (haproxy, ...). Exit codes: 0 every file has a format, 1 some have none, 2 error.";

const LINT_EXAMPLES: &str = "Examples:
  gatecheck lint /etc/nginx/nginx.conf
  gatecheck lint nginx.conf haproxy.cfg envoy.yaml --format github
  gatecheck lint nginx.conf --select NGX-DNS,NGX-TMO --deny warnings
  gatecheck lint -p /etc/nginx nginx.conf --format sarif > gatecheck.sarif
  gatecheck lint conf.d/app.conf     # a fragment: read as inside http { }
  gatecheck lint snippets/proxy.conf --context location

Exit codes: 0 clean, 1 findings at the failing level, 2 usage or input error.";

/// Output format of `analyze`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AnalyzeFormat {
    /// Tables for a terminal.
    Table,
    /// One JSON document (schema versioned, see README).
    Json,
    /// One JSON line per 5xx request.
    Ndjson,
    /// A Markdown document for a post-incident review (GitHub tables).
    Markdown,
    /// One self-contained HTML file (inline CSS and SVG, no script, nothing fetched).
    Html,
}

/// The input flags `analyze` and `export` share: which logs, how to read
/// them, which requests, how to run.
#[derive(Debug, Clone, Args)]
pub struct InputArgs {
    /// Log files, directories, glob patterns, or `-` for stdin.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<String>,
    /// A proxy config (file or directory): nginx's log_format/access_log, HAProxy's
    /// log-format and Envoy's access_log formats tell how to read the logs, and their
    /// settings are cited behind the causes.
    #[arg(long, value_name = "PATH")]
    pub config: Vec<PathBuf>,
    /// A log format to read the logs with (repeatable, one per proxy). Plain: an nginx
    /// log_format string (overrides nginx detection: no other nginx format is tried),
    /// which may start with `escape=json|default|none`, as in nginx.
    /// `envoy=FORMAT`: an Envoy format string of %COMMAND% operators, or a json_format
    /// object as JSON, tried before Envoy's built-in formats.
    /// `haproxy=FORMAT`: a HAProxy log-format string. A format that fits no line of any
    /// input is an error.
    #[arg(long, value_name = "[PROXY=]FORMAT")]
    pub log_format: Vec<String>,
    /// How --log-format's values are escaped (nginx's `escape=`), if not given in it.
    #[arg(long, value_name = "MODE", value_parser = ["default", "json", "none"])]
    pub log_escape: Option<String>,
    /// Exit 0 even when some inputs could not be read while the others show
    /// upstream errors (the report still says what is missing, first).
    #[arg(long)]
    pub partial_ok: bool,
    /// Only requests at or after this time (RFC 3339, e.g. 2026-11-20T14:00Z).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Only requests before this time (RFC 3339).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// UTC offset of error-log timestamps (nginx writes them in local time without a zone), e.g. +02:00,
    /// or the servers' zone name (Europe/Berlin), whose offset follows daylight saving time.
    /// Default: the offset seen in the access logs.
    #[arg(long, value_name = "OFFSET")]
    pub error_log_tz: Option<String>,
    /// Read files matching GLOB as format NAME, skipping detection (repeatable):
    /// a hop format (haproxy, ...), nginx_error, or an nginx log_format name.
    #[arg(long, value_name = "GLOB=NAME")]
    pub format_of: Vec<String>,
    /// Number of worker threads, 1 to 1024 (default: all cores).
    // bounded: `-j 100000` spent minutes starting threads before reading a byte
    #[arg(short = 'j', long, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
    /// Never show a progress bar.
    #[arg(long)]
    pub no_progress: bool,
    /// List every input and problem (by default, more than 20 inputs are folded by folder and format).
    #[arg(short, long)]
    pub verbose: bool,
}

/// Arguments of `gatecheck analyze`.
#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// Which logs and how to read them.
    #[command(flatten)]
    pub input: InputArgs,
    /// Output format [default: from the extension of -o (.md, .html, .json,
    /// .ndjson), else table].
    #[arg(long, value_enum)]
    pub format: Option<AnalyzeFormat>,
    /// Write the report to FILE instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also write one JSON line per 5xx request to this file.
    #[arg(long, value_name = "FILE")]
    pub events: Option<PathBuf>,
    /// The wait limit of a hop whose config is not in the dump, for the timeout
    /// ladder (repeatable): NAME is cdn, cloudfront, cloudflare, fastly, lb, alb,
    /// gcp-lb, nginx, haproxy, envoy or app; DURATION like 30s, 1500ms, 2m.
    #[arg(long, value_name = "NAME=DURATION")]
    pub hop_timeout: Vec<String>,
    /// Exit with code 1 when any 502 was found.
    #[arg(long)]
    pub fail_on_502: bool,
}

/// Output format of `export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// Apache Parquet (zstd, dictionary-encoded), partitioned by hour.
    Parquet,
    /// One JSON object per line, partitioned by hour.
    Ndjson,
}

/// Which requests `export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportOnly {
    /// Requests answered with a status of 500 or more.
    #[value(name = "5xx")]
    FiveXx,
}

/// Arguments of `gatecheck export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Which logs and how to read them (as for `analyze`).
    #[command(flatten)]
    pub input: InputArgs,
    /// Output folder (created; must be empty unless --overwrite).
    #[arg(long, value_name = "DIR")]
    pub to: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ExportFormat::Parquet)]
    pub format: ExportFormat,
    /// Only these requests (default: every request).
    #[arg(long, value_enum, value_name = "WHICH")]
    pub only: Option<ExportOnly>,
    /// Host name of the dump, in the `dump_host` column (default: the dump folder's name).
    #[arg(long, value_name = "NAME")]
    pub host: Option<String>,
    /// Write into an existing folder, replacing its date=* partitions.
    #[arg(long)]
    pub overwrite: bool,
}

/// Arguments of `gatecheck formats`.
#[derive(Debug, Args)]
pub struct FormatsArgs {
    /// Log files, directories, glob patterns, or `-` for stdin.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<String>,
    /// A proxy config whose formats are tried first (nginx log_format/access_log,
    /// HAProxy log-format, Envoy access_log).
    #[arg(long, value_name = "PATH")]
    pub config: Vec<PathBuf>,
    /// A log format to try first (repeatable): an nginx log_format string, or
    /// `envoy=FORMAT` / `haproxy=FORMAT` (as for `analyze`).
    #[arg(long, value_name = "[PROXY=]FORMAT")]
    pub log_format: Vec<String>,
    /// Read files matching GLOB as format NAME (repeatable).
    #[arg(long, value_name = "GLOB=NAME")]
    pub format_of: Vec<String>,
    /// Print as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Output format of `lint`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LintFormat {
    /// Human-readable diagnostics with a code frame.
    Text,
    /// JSON array of diagnostics.
    Json,
    /// SARIF 2.1.0.
    Sarif,
    /// GitHub Actions workflow commands (annotations).
    Github,
}

/// Arguments of `gatecheck lint`.
#[derive(Debug, Args)]
pub struct LintArgs {
    /// Config files: nginx.conf, haproxy.cfg, Envoy YAML/JSON (kind detected from content and name).
    #[arg(required = true, value_name = "FILE")]
    pub paths: Vec<PathBuf>,
    /// Prefix for relative nginx includes (like `nginx -p`).
    #[arg(short = 'p', long, value_name = "DIR")]
    pub prefix: Option<PathBuf>,
    /// Settings file (.gatecheck.yaml or gatecheck.toml); default: looked up from the current directory.
    #[arg(long, value_name = "FILE")]
    pub settings: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = LintFormat::Text)]
    pub format: LintFormat,
    /// Only these rules: ids, id prefixes, names, or the groups `default` / `pedantic` (rules off by default) (comma separated or repeated).
    #[arg(long, value_delimiter = ',')]
    pub select: Vec<String>,
    /// Skip these rules: ids, id prefixes or names.
    #[arg(long, value_delimiter = ',')]
    pub ignore: Vec<String>,
    /// Fail (exit 1) on findings at this level or above: error (default), warnings, info.
    #[arg(long, value_name = "LEVEL")]
    pub deny: Option<String>,
    /// Block an nginx fragment is included in (default: inferred from what the file holds).
    #[arg(long, value_enum, value_name = "CONTEXT")]
    pub context: Option<LintContext>,
    /// A missing nginx include is an input error (exit 2), as for `nginx -t`, instead of a warning.
    #[arg(long)]
    pub strict_includes: bool,
}

/// `--context` of `lint`: the block an nginx fragment is included in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LintContext {
    /// A full nginx.conf.
    Main,
    /// Inside `http { }` (conf.d/*.conf, sites-available/*).
    Http,
    /// Inside `stream { }` (a TCP/UDP site file).
    Stream,
    /// Inside `server { }`.
    Server,
    /// Inside `location { }`.
    Location,
}

/// Arguments of `gatecheck rules`.
#[derive(Debug, Args)]
pub struct RulesArgs {
    /// Print as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `gatecheck explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// A rule id (NGX-DNS-001) or name (unresolved-hostname).
    pub rule: String,
}
