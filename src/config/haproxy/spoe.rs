//! Tell an SPOE configuration file from a `haproxy.cfg`.
//!
//! `filter spoe [engine <name>] config <file>` makes HAProxy read a second
//! file of its own format (doc/SPOE.txt): `[engine]` scope lines and
//! `spoe-agent`, `spoe-message` and `spoe-group` sections, which
//! flt_spoe.c registers as sections only while it reads that file. Given
//! to `haproxy -f` it is refused ("unknown keyword 'spoe-agent' out of
//! section", HAProxy 2.6), so linting it as a `haproxy.cfg` would report
//! every line as a syntax error: [`crate::config::load`] skips it with a
//! note instead.

/// The section keywords of an SPOE file (flt_spoe.c,
/// `cfg_register_section`).
pub const SPOE_SECTIONS: &[&str] = &["spoe-agent", "spoe-message", "spoe-group"];

/// True when `text` holds an SPOE section (a line whose first word is one
/// of [`SPOE_SECTIONS`]); no `haproxy.cfg` or nginx keyword starts that way.
pub fn is_spoe(text: &[u8]) -> bool {
    text.split(|&b| b == b'\n').any(|line| {
        let line = String::from_utf8_lossy(line);
        let first = line.split_whitespace().next().unwrap_or("");
        SPOE_SECTIONS.contains(&first)
    })
}

/// Why a file [`is_spoe`] is skipped, for the note.
pub const SKIP_REASON: &str = "an HAProxy SPOE configuration (spoe-agent/spoe-message/spoe-group sections, read through `filter spoe … config <file>`), not a haproxy.cfg: not linted; lint the haproxy.cfg whose `filter spoe` names it";

#[cfg(test)]
mod tests {
    use super::is_spoe;

    #[test]
    fn spoe_files_are_told_apart() {
        // doc/SPOE.txt's example, shortened
        let spoe = "[ip-reputation]\nspoe-agent iprep-agent\n    messages check-client-ip\n    timeout hello 2s\n    use-backend agents\nspoe-message check-client-ip\n    args ip=src\n    event on-client-session\n";
        assert!(is_spoe(spoe.as_bytes()));
        for cfg in [
            "frontend web\n    bind :80\n    filter spoe engine ip-reputation config /etc/haproxy/spoe-ip-reputation.conf\n",
            "global\n  log stdout local0\n",
            "http { server { listen 80; } }",
            "",
        ] {
            assert!(!is_spoe(cfg.as_bytes()), "{cfg}");
        }
    }
}
