//! Keywords no HAProxy knows in the section they open a line of: `haproxy
//! -c` refuses the config ("unknown keyword 'timout' in 'defaults'
//! section"), and gatecheck's model would otherwise read such a line as
//! nothing at all (a misspelt `timeout server` is no timeout).
//!
//! Facts, from HAProxy's source (cfgparse-global.c, cfgparse-listen.c,
//! cfgparse.c, 1.4 to 3.5-dev) and checked with the `haproxy -c` 2.6 of
//! Debian 12:
//! - a `global` or proxy (`defaults`, `frontend`, `backend`, `listen`) line
//!   whose first word neither the section parser compares by hand nor a
//!   module registers for the section ([`keywords`]) is a fatal error;
//! - `no` and `default` before the keyword are modifiers (`KWM_NO`,
//!   `KWM_DEF` in readcfgfile()): the keyword is the next word;
//! - HAProxy suggests the closest keyword ("did you mean 'timeout'
//!   maybe ?").
//!
//! What is reported, and how sure it is: the table holds every keyword of
//! every release from 1.4 to the newest source scanned, so a keyword of an
//! older or newer HAProxy than the one installed is never flagged. A name
//! close to a known keyword (one edit, two for names over 8 characters,
//! the limits nginx's NGX-VAL-001 uses) is a typo: HAP-VAL-001, an error,
//! with the keyword it meant. Any other unknown name may well be a keyword
//! of HAProxy Enterprise's modules (`module-path`, `module-load`) or of a
//! release newer than the table: it is only recorded in the model's
//! `unknown` list (HAP-VAL-002, off unless selected, once per name).
//! Lines inside `.if` blocks are not checked (HAProxy reads only the
//! branch its condition picks), nor first words taken from the environment
//! (`"${KW}"`), nor the other sections (`resolvers`, `peers`, `userlist`,
//! …), whose keyword tables are not generated, nor the lines after a
//! section keyword the parser does not open a section for (`fcgi-app`,
//! `log-profile`: [`keywords::SECTIONS`]).

use crate::config::model::{Invalid, UnknownDirective};
use crate::config::names;

use super::keywords::{self, Keyword};
use super::parser::{Config, SectionKind};

/// The keyword table of a section kind, when it is checked.
fn table(kind: SectionKind) -> Option<&'static [Keyword]> {
    match kind {
        SectionKind::Global => Some(keywords::GLOBAL),
        k if k.is_proxy() => Some(keywords::LISTEN),
        _ => None,
    }
}

/// True when some release scanned knows `name` in a section of `table`.
pub fn is_known(table: &[Keyword], name: &str) -> bool {
    table.binary_search_by(|k| k.name.cmp(name)).is_ok()
}

/// The known keyword `name` is a typo of, if any.
pub fn near_miss(table: &'static [Keyword], name: &str) -> Option<&'static str> {
    let limit = if name.chars().count() > 8 { 2 } else { 1 };
    names::nearest(name, table.iter().map(|k| k.name), limit)
}

/// Record the unknown keywords of `cfg`: typos into `invalid`, other
/// names into `unknown` (first use of each, with a count).
pub fn check(cfg: &Config, invalid: &mut Vec<Invalid>, unknown: &mut Vec<UnknownDirective>) {
    for section in &cfg.sections {
        let Some(table) = table(section.kind) else {
            continue;
        };
        for line in section.statements().filter(|l| l.cond_depth == 0) {
            // A section gatecheck's parser does not open (`fcgi-app`,
            // `log-profile`, …): its lines are not this section's.
            if keywords::SECTIONS.contains(&line.keyword()) {
                break;
            }
            let at = usize::from(keywords::MODIFIERS.contains(&line.keyword()));
            let Some(word) = line.word(at) else { continue };
            let name = word.as_str();
            if word.flags.env || name.is_empty() || is_known(table, name) {
                continue;
            }
            if let Some(u) = unknown.iter_mut().find(|u| u.name == name) {
                u.count += 1;
                continue;
            }
            let section_kw = section.kind.keyword();
            match near_miss(table, name) {
                Some(near) => invalid.push(Invalid {
                    span: word.span,
                    directive: name.to_string(),
                    problem: format!(
                        "unknown keyword '{name}' in '{section_kw}' section: no HAProxy ≤ {} knows it, haproxy -c refuses the config",
                        keywords::NEWEST
                    ),
                    help: format!("did you mean '{near}'?"),
                }),
                None => unknown.push(UnknownDirective {
                    span: word.span,
                    name: name.to_string(),
                    count: 1,
                }),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::haproxy::parse_cfg;
    use crate::source::FileId;

    /// (problem, help) of each typo; (name, count) of each unknown name.
    type Found = (Vec<(String, String)>, Vec<(String, usize)>);

    fn run(text: &str) -> Found {
        let cfg = parse_cfg(FileId(0), text.as_bytes());
        let (mut invalid, mut unknown) = (Vec::new(), Vec::new());
        check(&cfg, &mut invalid, &mut unknown);
        (
            invalid.into_iter().map(|i| (i.problem, i.help)).collect(),
            unknown.into_iter().map(|u| (u.name, u.count)).collect(),
        )
    }

    #[test]
    fn tables_are_sorted_and_hold_the_keywords_of_every_release() {
        for t in [keywords::GLOBAL, keywords::LISTEN] {
            assert!(t.windows(2).all(|w| w[0].name < w[1].name));
        }
        // keywords of 2.6, of older releases only (`nbproc`, refused since
        // 2.5; `reqadd`, since 2.1) and of newer ones than 2.6
        for (t, k) in [
            (keywords::GLOBAL, "maxconn"),
            (keywords::GLOBAL, "nbproc"),
            (keywords::GLOBAL, "tune.bufsize"),
            (keywords::GLOBAL, "lua-load"),
            (keywords::LISTEN, "timeout"),
            (keywords::LISTEN, "http-after-response"),
            (keywords::LISTEN, "use_backend"),
            (keywords::LISTEN, "reqadd"),
            (keywords::LISTEN, "hash-preserve-affinity"),
        ] {
            assert!(is_known(t, k), "{k}");
        }
    }

    #[test]
    fn a_typo_names_the_keyword_meant() {
        let (invalid, unknown) =
            run("defaults\n  timout server 30s\n  no optio redispatch\nglobal\n  maxcon 100\n");
        assert_eq!(
            invalid,
            [
                (
                    format!("unknown keyword 'timout' in 'defaults' section: no HAProxy ≤ {} knows it, haproxy -c refuses the config", keywords::NEWEST),
                    "did you mean 'timeout'?".to_string()
                ),
                (
                    format!("unknown keyword 'optio' in 'defaults' section: no HAProxy ≤ {} knows it, haproxy -c refuses the config", keywords::NEWEST),
                    "did you mean 'option'?".to_string()
                ),
                (
                    format!("unknown keyword 'maxcon' in 'global' section: no HAProxy ≤ {} knows it, haproxy -c refuses the config", keywords::NEWEST),
                    "did you mean 'maxconn'?".to_string()
                ),
            ]
        );
        assert!(unknown.is_empty(), "{unknown:?}");
    }

    #[test]
    fn a_name_far_from_every_keyword_is_unknown_once_with_a_count() {
        let (invalid, unknown) = run(
            "global\n  module-load hapee-lb-waf.so\nfrontend f\n  bind :80\n  waf-ruleset-xyz on\n  waf-ruleset-xyz off\n",
        );
        assert!(invalid.is_empty(), "{invalid:?}");
        assert_eq!(
            unknown,
            [
                ("module-load".to_string(), 1),
                ("waf-ruleset-xyz".to_string(), 2)
            ]
        );
    }

    #[test]
    fn conditional_lines_environment_words_and_other_sections_are_not_checked() {
        let (invalid, unknown) = run(concat!(
            "global\n  .if version_atleast(9.0)\n  timout-new 1\n  .endif\n",
            "defaults\n  \"${KW}\" 1\n",
            "resolvers dns\n  nameservr a 1.1.1.1:53\n",
            "fcgi-app php\n  docroot /var/www\n",
            "log-profile p\n  on tcp format x\n",
            "backend b\n  no option redispatch\n  default-server check\n",
        ));
        assert!(invalid.is_empty(), "{invalid:?}");
        assert!(unknown.is_empty(), "{unknown:?}");
    }
}
