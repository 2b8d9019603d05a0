//! The binary's edge: one module per subcommand turns clap arguments into
//! library calls and renders the result. The only place that uses `anyhow`.

pub mod analyze;
pub mod configs;
pub mod export;
pub mod formats;
pub mod interrupt;
pub mod lint;
pub mod output;
pub mod stdio;

/// True when `err` comes from writing into a closed pipe (`gatecheck … | head`).
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// `err` and its causes, `: `-separated as anyhow's `{:#}`, without a cause
/// the message before it already ends with: the library's I/O errors
/// include their OS error in their own text and also give it as their
/// source, which printed "/root/x: Permission denied (os error 13):
/// Permission denied (os error 13)".
pub fn error_text(err: &anyhow::Error) -> String {
    let mut text = err.to_string();
    for cause in err.chain().skip(1) {
        let c = cause.to_string();
        if !text.ends_with(&c) {
            text = format!("{text}: {c}");
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cause_already_said_is_not_repeated() {
        let os = std::io::Error::from_raw_os_error(13);
        let lib = gatecheck::error::Error::Io {
            path: "/root/x".into(),
            source: os,
        };
        let err = anyhow::Error::new(lib).context("--to /root/x");
        assert_eq!(
            error_text(&err),
            "--to /root/x: /root/x: Permission denied (os error 13)"
        );
    }
}
