//! Hop log formats that are not guessed: given with `--log-format
//! envoy=…` / `haproxy=…`, or read from an Envoy config's `access_log`
//! entries (given with `--config` or found in the dump). Detection tries the
//! Envoy ones before any built-in format, and says where the format came
//! from ("format from envoy.yaml:12").
//!
//! HAProxy `log-format` lines of a `haproxy.cfg` are read by
//! `plan::haproxy_log_formats`; a `--log-format haproxy=…` joins them.

use crate::config::envoy::log_formats::{access_log_formats, FoundFormat};
use crate::config::envoy::{load_as, Syntax};
use crate::input::Problem;
use crate::logs::envoy::{compile, fits, EnvoyParser};
use crate::logs::hop::HopParser;
use crate::source::{FileId, LineIndex};

/// The proxies whose log format a user may give (`--log-format PROXY=FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormatProxy {
    /// An Envoy format string of `%COMMAND%` operators, or a `json_format`
    /// object as JSON (`{"code":"%RESPONSE_CODE%",…}`).
    Envoy,
    /// A HAProxy `log-format` string.
    Haproxy,
}

/// A hop log format the user gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GivenFormat {
    /// Whose format it is.
    pub proxy: FormatProxy,
    /// The format text.
    pub text: String,
}

/// An Envoy format ready to try on a file, and where it came from.
#[derive(Debug, Clone)]
pub(super) struct EnvoyGiven {
    /// `--log-format` or `envoy.yaml:12`.
    pub(super) origin: String,
    /// Where in the config (`….access_log[0]…text_format`), or empty.
    pub(super) key_path: String,
    pub(super) parser: EnvoyParser,
}

impl EnvoyGiven {
    /// The parser and the reason, when this format reads `head`.
    pub(super) fn detect(&self, head: &[&[u8]]) -> Option<(Box<dyn HopParser>, String)> {
        let what = if self.key_path.is_empty() {
            format!("the Envoy format from {}", self.origin)
        } else {
            format!(
                "the Envoy format from {} ({})",
                self.origin,
                self.key_path.trim_start_matches('.')
            )
        };
        let why = fits(&self.parser, head, &what)?;
        Some((
            Box::new(self.parser.clone()),
            format!("format from {}: {why}", self.origin),
        ))
    }
}

/// Compile the user's `--log-format envoy=…` values.
pub(super) fn envoy_given(given: &[GivenFormat], problems: &mut Vec<Problem>) -> Vec<EnvoyGiven> {
    let mut out = Vec::new();
    for g in given.iter().filter(|g| g.proxy == FormatProxy::Envoy) {
        match compile(&g.text) {
            Ok(parser) => out.push(EnvoyGiven {
                origin: "--log-format".into(),
                key_path: String::new(),
                parser,
            }),
            Err(e) => problems.push(Problem {
                path: "--log-format".into(),
                message: format!("envoy format not used: {e}"),
            }),
        }
    }
    out
}

/// The access-log formats of one Envoy config (`name` for messages,
/// `text` its contents), compiled; what cannot be used is a problem at
/// its file:line. YAML unless the name ends in `.json`.
pub(super) fn envoy_config_formats(
    name: &str,
    text: &[u8],
    problems: &mut Vec<Problem>,
) -> Vec<EnvoyGiven> {
    let syntax = Syntax::from_path(std::path::Path::new(name));
    let Ok(root) = load_as(FileId(0), text, syntax) else {
        // the config's own syntax error is reported where its settings are read
        return Vec::new();
    };
    let lines = LineIndex::new(text);
    let mut out = Vec::new();
    for f in access_log_formats(&root) {
        let (line, _) = lines.line_col(f.span.start);
        let origin = format!("{name}:{line}");
        let compiled = match &f.format {
            FoundFormat::Text(t) | FoundFormat::Json(t) => compile(t).map_err(|e| e.to_string()),
            FoundFormat::Unread(why) => Err(why.clone()),
        };
        match compiled {
            Ok(parser) => out.push(EnvoyGiven {
                origin,
                key_path: f.key_path,
                parser,
            }),
            Err(why) => problems.push(Problem {
                path: origin,
                message: format!("access_log format not used to read logs: {why}"),
            }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_formats_carry_their_line_and_read_logs() {
        let yaml = b"static_resources:\n  listeners:\n  - access_log:\n    - typed_config:\n        log_format:\n          text_format: \"%START_TIME(%s.%3f)% %RESPONSE_CODE% %RESPONSE_FLAGS%\\n\"\n    - typed_config:\n        log_format:\n          text_format: \"%DURATION% only\\n\"\n";
        let mut problems = Vec::new();
        let f = envoy_config_formats("dump/envoy.yaml", yaml, &mut problems);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].origin, "dump/envoy.yaml:6");
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].path, "dump/envoy.yaml:9");
        assert!(
            problems[0].message.contains("RESPONSE_CODE"),
            "{}",
            problems[0].message
        );
        let head: Vec<&[u8]> = vec![b"1527590590.528 503 UF", b"1527590591.000 200 -"];
        let (p, why) = f[0].detect(&head).expect("fits");
        assert!(
            why.starts_with("format from dump/envoy.yaml:6: 2 of 2 sampled lines"),
            "{why}"
        );
        let r = p.parse_line(head[0]).expect("parses");
        assert_eq!(r.status, Some(503));
        assert_eq!(r.time.map(|t| t.utc_ms), Some(1_527_590_590_528));
        assert!(f[0]
            .detect(&[b"127.0.0.1 - - [x] \"GET / HTTP/1.1\" 200 1"])
            .is_none());
    }

    /// The cases of the reader this one replaced (`logs::envoy::formats_from_config`):
    /// stdout and file loggers, text and JSON formats, a non-string JSON
    /// value, a format without `%RESPONSE_CODE%`, text that is not YAML,
    /// and a JSON config with a v2 `config.format`.
    #[test]
    fn stdout_and_file_loggers_text_and_json() {
        let yaml = br#"
static_resources:
  listeners:
  - name: l
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          access_log:
          - name: envoy.access_loggers.stdout
            typed_config:
              log_format:
                text_format_source:
                  inline_string: "%START_TIME% %RESPONSE_CODE% %RESPONSE_FLAGS% %UPSTREAM_CLUSTER%\n"
          - name: envoy.access_loggers.file
            typed_config:
              path: /var/log/envoy/json.log
              log_format:
                json_format:
                  code: "%RESPONSE_CODE%"
                  flags: "%RESPONSE_FLAGS%"
                  n: 1
          - name: no.status
            typed_config:
              log_format:
                text_format: "%START_TIME% %DURATION%"
"#;
        let mut problems = Vec::new();
        let f = envoy_config_formats("envoy.yaml", yaml, &mut problems);
        assert_eq!(f.len(), 2, "{:?}", problems);
        assert!(
            f[0].key_path.ends_with("text_format_source.inline_string"),
            "{}",
            f[0].key_path
        );
        assert_eq!(f[0].origin, "envoy.yaml:14");
        let r = f[0]
            .parser
            .parse_line(b"2024-03-12T08:00:00.000Z 503 UF backend")
            .unwrap();
        assert_eq!(r.status, Some(503));
        let r = f[1]
            .parser
            .parse_line(br#"{"code":502,"flags":"UPE"}"#)
            .unwrap();
        assert_eq!(r.status, Some(502));
        // the format without a status is not used, and said so at its line
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].path, "envoy.yaml:26");

        let mut problems = Vec::new();
        assert!(envoy_config_formats("envoy.yaml", b"::: not yaml {", &mut problems).is_empty());
        let json = br#"{"access_log":[{"config":{"format":"%RESPONSE_CODE% x"}}]}"#;
        let f = envoy_config_formats("envoy.json", json, &mut problems);
        assert_eq!(f.len(), 1, "{problems:?}");
        assert_eq!(f[0].parser.parse_line(b"502 x").unwrap().status, Some(502));
    }

    #[test]
    fn given_formats_compile_or_say_why() {
        let mut problems = Vec::new();
        let g = envoy_given(
            &[
                GivenFormat {
                    proxy: FormatProxy::Envoy,
                    text: "[%START_TIME%] %RESPONSE_CODE%".into(),
                },
                GivenFormat {
                    proxy: FormatProxy::Envoy,
                    text: "%BYTES_SENT%".into(),
                },
                GivenFormat {
                    proxy: FormatProxy::Haproxy,
                    text: "%ST".into(),
                },
            ],
            &mut problems,
        );
        assert_eq!(g.len(), 1);
        assert_eq!(problems.len(), 1);
        assert!(problems[0].message.contains("no %RESPONSE_CODE%"));
    }
}
