//! The binary's edge: one module per subcommand turns clap arguments into
//! library calls and renders the result. The only place that uses `anyhow`.

pub mod analyze;
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
