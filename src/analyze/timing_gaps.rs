//! Which log field each hop's timing phases come from, so that the timing
//! sections say what they measured and, for a phase no line had a value
//! for, which field to log next time ("add $upstream_connect_time to the
//! access log's log_format").
//!
//! The fields are the ones gatecheck's parsers read (`logs/*`,
//! [`super::hop_attempt`] for the hops); the vendor references behind them:
//! - nginx: `$upstream_connect_time`, `$upstream_header_time`,
//!   `$upstream_response_time` (ngx_http_upstream_module, "Embedded
//!   variables").
//! - HAProxy: `%Tc` (time to establish the connection to the server) and
//!   `%Tr` (time to the server's response headers), both part of
//!   `option httplog` (configuration manual §8.2.3 "HTTP log format", §8.4
//!   "Timing events"); its `Td` runs until the client has the data, so it
//!   is no server timer and no response phase is reported.
//! - Envoy: `%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%`, in Envoy's default
//!   access log format (docs "Access logging", "Default format string").
//! - CloudFront `origin-fbl`, Cloudflare Logpush
//!   `OriginResponseHeaderReceiveDurationMs`, Fastly's documented JSON
//!   layout `ttfb_ms`, ALB `target_processing_time` (always in the line,
//!   `-1` when no target answered), Google Cloud `backendLatency`.

use super::timing::{Phases, Timings};

/// One phase no line had a value for, and what to log to get it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PhaseGap {
    /// `connect`, `header` or `response`.
    pub phase: &'static str,
    /// The log field gatecheck reads it from.
    pub field: &'static str,
    /// The sentence the reports print.
    pub note: String,
}

/// Where a hop's phases come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhaseFields {
    /// What the phases are, for the timing note (`HAProxy's %Tc (connect)
    /// and %Tr (header)`).
    pub measured: String,
    /// The field of each phase (connect, header, response) the format can
    /// log, `None` when it has no timer for it.
    pub fields: [Option<&'static str>; 3],
    /// Where to add a field (`the access log's log_format (read as "main")`).
    pub add_to: String,
    /// What a field without a value in every line can also mean, when the
    /// format always has the field (ALB), instead of "add it".
    pub always_logged: Option<&'static str>,
    /// How the format writes a phase that was not reached, when it has a
    /// value for that (HAProxy's `-1`).
    pub unset: Option<&'static str>,
}

const PHASES: [&str; 3] = ["connect", "header", "response"];

impl PhaseFields {
    /// nginx, its access logs read with the log_format names `formats`
    /// (as the inputs list them).
    pub fn nginx(formats: &[&str]) -> PhaseFields {
        let names = if formats.is_empty() {
            String::new()
        } else {
            format!(
                " (read as {})",
                formats
                    .iter()
                    .map(|f| format!("\"{f}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        PhaseFields {
            measured: "nginx's $upstream_*_time".into(),
            fields: [
                Some("$upstream_connect_time"),
                Some("$upstream_header_time"),
                Some("$upstream_response_time"),
            ],
            add_to: format!("the access log's log_format{names}"),
            always_logged: None,
            unset: None,
        }
    }

    /// A hop log of format `name` (`haproxy`, `envoy`, …); a format
    /// gatecheck reads no timer of has no field (and so no gap).
    pub fn hop(name: &str) -> PhaseFields {
        let (measured, fields, add_to, always): (&str, [Option<&'static str>; 3], &str, _) =
            match name {
                "haproxy" => (
                    "HAProxy's %Tc (connect) and %Tr (header)",
                    [Some("%Tc"), Some("%Tr"), None],
                    "the frontend's log-format (option httplog has it)",
                    None,
                ),
                "envoy" => (
                    "Envoy's %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% (header)",
                    [None, Some("%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%"), None],
                    "the access_log format (Envoy's default format has it)",
                    None,
                ),
                "cloudfront" => (
                    "CloudFront's origin-fbl (header)",
                    [None, Some("origin-fbl"), None],
                    "the distribution's log fields",
                    None,
                ),
                "cloudflare" => (
                    "Cloudflare's OriginResponseHeaderReceiveDurationMs (header)",
                    [None, Some("OriginResponseHeaderReceiveDurationMs"), None],
                    "the Logpush job's fields",
                    None,
                ),
                "fastly" => (
                    "Fastly's ttfb_ms (header)",
                    [None, Some("ttfb_ms"), None],
                    "the logging endpoint's JSON format",
                    None,
                ),
                "alb" => (
                    "the ALB's target_processing_time (header)",
                    [None, Some("target_processing_time"), None],
                    "",
                    Some("every line had -1: the load balancer got no response from a target (or could not send it the request)"),
                ),
                "gcp_lb" => (
                    "Google Cloud's backendLatency (response)",
                    [None, None, Some("backendLatency")],
                    "the exported log entries",
                    None,
                ),
                _ => {
                    return PhaseFields {
                        measured: format!("the times the {name} log carries"),
                        fields: [None; 3],
                        add_to: String::new(),
                        always_logged: None,
                        unset: None,
                    }
                }
            };
        PhaseFields {
            measured: measured.into(),
            fields,
            add_to: add_to.into(),
            always_logged: always,
            unset: (name == "haproxy").then_some("HAProxy logs -1 for a phase not reached"),
        }
    }

    /// The phases with a field but no value in any attempt `t` counted
    /// (every upstream it kept, not only the top ones). Nothing when no
    /// attempt was counted: the section is absent then, and a field cannot
    /// be said to be missing (a CDN line without an origin address or
    /// status is not counted, whatever timers it has).
    pub fn gaps(&self, t: &Timings) -> Vec<PhaseGap> {
        let attempts: u64 = t.upstreams.values().map(|u| u.attempts).sum();
        if attempts == 0 {
            return Vec::new();
        }
        let mut seen = [0u64; 3];
        let mut add = |p: &Phases| {
            seen[0] += p.connect.count();
            seen[1] += p.header.count();
            seen[2] += p.response.count();
        };
        for u in t.upstreams.values() {
            add(&u.timings.ok);
            add(&u.timings.failed);
        }
        PHASES
            .iter()
            .zip(self.fields)
            .zip(seen)
            .filter_map(|((phase, field), n)| {
                let field = field.filter(|_| n == 0)?;
                let counted = format!(
                    "no {phase} time in the {attempts} attempt{} counted",
                    if attempts == 1 { "" } else { "s" }
                );
                let note = match self.always_logged {
                    Some(why) => format!("{counted}: {field} {why}"),
                    None => format!(
                        "{counted}{}: gatecheck reads it from {field}; add {field} to {} if it lacks it",
                        self.unset.map(|u| format!(" ({u})")).unwrap_or_default(),
                        self.add_to
                    ),
                };
                Some(PhaseGap {
                    phase,
                    field,
                    note,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::record::Attempt;

    fn att(connect: Option<f64>, header: Option<f64>) -> Attempt {
        Attempt {
            addr: "10.0.0.1:80".into(),
            status: Some(200),
            connect_time: connect,
            header_time: header,
            response_time: None,
            group: 0,
        }
    }

    #[test]
    fn a_phase_without_values_names_its_field() {
        let mut t = Timings::default();
        t.see(&[att(None, Some(0.02))], 200, Some(0));
        t.flush();
        let g = PhaseFields::nginx(&["main"]).gaps(&t);
        let phases: Vec<_> = g.iter().map(|g| g.phase).collect();
        assert_eq!(phases, ["connect", "response"]);
        assert_eq!(g[0].field, "$upstream_connect_time");
        assert!(
            g[0].note.contains(
                "add $upstream_connect_time to the access log's log_format (read as \"main\")"
            ),
            "{}",
            g[0].note
        );
        // HAProxy has no response timer: only a missing %Tc is reported
        let g = PhaseFields::hop("haproxy").gaps(&t);
        assert_eq!(g.len(), 1);
        assert_eq!((g[0].phase, g[0].field), ("connect", "%Tc"));
        assert!(
            g[0].note
                .contains("in the 1 attempt counted (HAProxy logs -1"),
            "{}",
            g[0].note
        );
        // no attempt counted: nothing to say
        assert!(PhaseFields::nginx(&[]).gaps(&Timings::default()).is_empty());
    }

    #[test]
    fn a_fixed_format_says_what_an_empty_field_means() {
        let mut t = Timings::default();
        t.see(&[att(None, None)], 200, Some(0));
        let g = PhaseFields::hop("alb").gaps(&t);
        assert_eq!(g.len(), 1);
        assert!(
            g[0].note.contains("-1") && !g[0].note.contains("add "),
            "{}",
            g[0].note
        );
        assert!(PhaseFields::hop("no_such_format").gaps(&t).is_empty());
    }
}
