//! `include` expansion: splice included files into the syntax tree.
//!
//! Relative paths are resolved as nginx resolves them — against the
//! directory of the entry config file (nginx's "conf prefix"), or against
//! `-p`/`--prefix` when given — and, when nothing matches there, against
//! the directory of the including file (handy for trees checked out away
//! from `/etc/nginx`). A pattern containing `*`, `?` or `[` is a glob: it may
//! match nothing, as in nginx, and matches are read in sorted order.
//!
//! A plain path that does not exist or cannot be read is recorded in
//! [`Tree::missing`] with the block it sits in (the linter reports what could
//! not be checked because of it and goes on); with `strict` it is an error,
//! as it is for `nginx -t` ("open() … failed"). A file that (indirectly)
//! includes itself is always an error on the `include` line; the rest of the
//! tree is still built.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::config::ConfigError;
use crate::source::{FileId, SourceMap, Span};

use super::grammar::{self, FileContext};
use super::parser::{self, Node};

/// How deep includes may nest (nginx has no limit but cycles are caught
/// earlier; this bounds pathological trees).
pub const MAX_INCLUDE_DEPTH: usize = 32;

/// One file's nodes and the errors met parsing it.
type ParsedFile = (Vec<Node>, Vec<ConfigError>);

/// A parsed config with every include spliced in.
#[derive(Debug, Default)]
pub struct Tree {
    /// Top-level nodes of the entry file, includes expanded in place.
    pub nodes: Vec<Node>,
    /// Every file read, entry first.
    pub files: Vec<FileId>,
    /// Every problem met.
    pub errors: Vec<ConfigError>,
    /// Includes that named no readable file (when not strict).
    pub missing: Vec<Missing>,
    /// Includes left unread on purpose (includes not followed): what they
    /// hold is unknown, as for a missing one, but nothing is wrong.
    pub unread: Vec<Missing>,
}

/// An `include` whose file is not there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    /// The `include` directive.
    pub at: Span,
    /// The path as written (or as looked up in a dump).
    pub path: PathBuf,
    /// Why it could not be read.
    pub message: String,
    /// The block the include sits in (`http`, `server`, …); empty at the top
    /// level of the entry file (its context is decided later).
    pub context: String,
}

struct Ctx<'a> {
    sources: &'a mut SourceMap,
    base: PathBuf,
    /// For a fragment linted alone without `-p`: the directories above the
    /// entry's, nearest first, where nginx's prefix (the nginx.conf
    /// directory that includes the fragment) most likely is.
    ancestors: Vec<PathBuf>,
    by_path: HashMap<PathBuf, FileId>,
    stack: Vec<PathBuf>,
    tree: Tree,
    read_includes: bool,
    /// A missing include is an error (`--strict-includes`), not a note.
    strict: bool,
    /// Set for a config copied off a server: absolute includes are looked
    /// up inside this directory tree, never on the machine gatecheck runs on.
    dump_dir: Option<PathBuf>,
    /// Each include target's canonical path, asked of the file system once
    /// (a snippet included in every location was a `readlink` walk each).
    canonical: HashMap<PathBuf, PathBuf>,
    /// Files included more than once: their nodes and errors, parsed once
    /// more on the second inclusion and cloned from here after (a clone
    /// shares the arguments). A file included once is not kept.
    reparsed: HashMap<FileId, Option<ParsedFile>>,
}

/// Parse `entry` and everything it includes. With `strict`, an include
/// that names no readable file is an error; without, it is recorded in
/// [`Tree::missing`].
pub fn load_tree(
    sources: &mut SourceMap,
    entry: FileId,
    prefix: Option<&Path>,
    read_includes: bool,
    strict: bool,
) -> Tree {
    load(sources, entry, prefix, read_includes, false, strict)
}

/// Like [`load_tree`], for a config copied off a server into a dump: an
/// absolute include (`/etc/nginx/conf.d/*.conf`) is looked up inside the
/// dump — under the directory that holds `etc/nginx/…` when the entry sits
/// in such a tree, else by dropping leading components until the rest
/// exists next to the entry (`conf.d/*.conf`) — and never on this machine.
pub fn load_tree_from_dump(sources: &mut SourceMap, entry: FileId) -> Tree {
    load(sources, entry, None, true, true, true)
}

fn load(
    sources: &mut SourceMap,
    entry: FileId,
    prefix: Option<&Path>,
    read_includes: bool,
    from_dump: bool,
    strict: bool,
) -> Tree {
    let entry_path = sources.path(entry).to_path_buf();
    let base = match prefix {
        Some(p) => p.to_path_buf(),
        None => entry_path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default(),
    };
    let canon = std::fs::canonicalize(&entry_path).unwrap_or(entry_path.clone());
    let mut ctx = Ctx {
        sources,
        base,
        ancestors: Vec::new(),
        by_path: HashMap::new(),
        stack: vec![canon.clone()],
        tree: Tree::default(),
        read_includes,
        strict,
        dump_dir: None,
        canonical: HashMap::new(),
        reparsed: HashMap::new(),
    };
    if from_dump {
        ctx.dump_dir = Some(ctx.base.clone());
    }
    ctx.by_path.insert(canon, entry);
    ctx.tree.files.push(entry);
    let (nodes, errors) = parser::parse(&ctx.sources.get(entry).text, entry);
    // nginx resolves a relative include against its prefix, the directory
    // of the nginx.conf it was started with (`ngx_conf_full_name`). A
    // fragment (a site file, a snippet) linted alone, without `-p`, has no
    // nginx.conf beside it: its `include h5bp/basic.conf` names a path
    // under an ancestor directory (h5bp/server-configs-nginx's
    // conf.d/templates/example.com.conf), so those are tried last.
    if prefix.is_none() && !from_dump && grammar::infer(&nodes).0 != FileContext::Main {
        let mut up = PathBuf::new();
        ctx.ancestors = (0..ANCESTOR_LEVELS)
            .map(|_| {
                up.push("..");
                lexical(&ctx.base.join(&up))
            })
            .collect();
        ctx.ancestors.dedup();
    }
    ctx.tree.errors.extend(errors);
    let nodes = expand(&mut ctx, nodes, &entry_path, "");
    ctx.tree.nodes = nodes;
    ctx.tree
}

fn is_glob(p: &str) -> bool {
    p.contains(['*', '?', '['])
}

fn expand(ctx: &mut Ctx<'_>, nodes: Vec<Node>, current: &Path, block: &str) -> Vec<Node> {
    let mut out = Vec::with_capacity(nodes.len());
    for mut node in nodes {
        if node.name == "include" && node.block.is_none() {
            match node.arg(0) {
                Some(pattern) if !ctx.read_includes => ctx.tree.unread.push(Missing {
                    at: node.span,
                    path: PathBuf::from(pattern),
                    message: "not read (includes are not followed)".into(),
                    context: block.to_string(),
                }),
                Some(pattern) if node.args.len() == 1 => {
                    let pattern = pattern.to_string();
                    include(ctx, &pattern, node.span, current, block, &mut out);
                }
                _ => ctx.tree.errors.push(ConfigError::Syntax {
                    at: node.span,
                    message: "invalid number of arguments in \"include\" directive".into(),
                }),
            }
            continue;
        }
        if let Some(block) = node.block.as_mut() {
            let children = std::mem::take(&mut block.children);
            let name = node.name.clone();
            block.children = expand(ctx, children, current, &name);
        }
        out.push(node);
    }
    // includes grow `out` past the capacity it was made with; the tree
    // is held until the model is built, so its slack is part of the peak
    out.shrink_to_fit();
    out
}

fn include(
    ctx: &mut Ctx<'_>,
    pattern: &str,
    at: Span,
    current: &Path,
    block: &str,
    out: &mut Vec<Node>,
) {
    let missing = |ctx: &mut Ctx<'_>, path: PathBuf, message: String| {
        if ctx.strict {
            ctx.tree.errors.push(ConfigError::Io {
                path,
                message,
                at: Some(at),
            });
        } else {
            ctx.tree.missing.push(Missing {
                at,
                path,
                message,
                context: block.to_string(),
            });
        }
    };
    let rerooted;
    let pattern = match (&ctx.dump_dir, Path::new(pattern).is_absolute()) {
        (Some(dir), true) => match in_dump(dir, pattern) {
            Some(p) => {
                rerooted = p;
                rerooted.as_str()
            }
            None => {
                missing(ctx, PathBuf::from(pattern), "not in the dump (absolute includes are looked up inside the config's directory tree, not on this machine)".into());
                return;
            }
        },
        _ => pattern,
    };
    let paths = match resolve(&ctx.base, current, pattern, &ctx.ancestors) {
        Ok(p) => p,
        Err(message) => {
            missing(ctx, PathBuf::from(pattern), message);
            return;
        }
    };
    for path in paths {
        let canon = match ctx.canonical.get(&path) {
            Some(c) => c.clone(),
            None => {
                let c = std::fs::canonicalize(&path).unwrap_or(path.clone());
                ctx.canonical.insert(path.clone(), c.clone());
                c
            }
        };
        if ctx.stack.contains(&canon) {
            ctx.tree.errors.push(ConfigError::IncludeCycle {
                at,
                path: path.clone(),
            });
            continue;
        }
        if ctx.stack.len() > MAX_INCLUDE_DEPTH {
            ctx.tree.errors.push(ConfigError::Syntax {
                at,
                message: format!("includes nested deeper than {MAX_INCLUDE_DEPTH} levels"),
            });
            continue;
        }
        let id = match ctx.by_path.get(&canon) {
            Some(&id) => id,
            None => match std::fs::read(&path) {
                Ok(text) => {
                    let id = ctx.sources.add(path.clone(), text);
                    ctx.by_path.insert(canon.clone(), id);
                    ctx.tree.files.push(id);
                    id
                }
                Err(e) => {
                    missing(ctx, path.clone(), e.to_string());
                    continue;
                }
            },
        };
        let (nodes, errors) = match ctx.reparsed.get(&id) {
            Some(Some((nodes, errors))) => (nodes.clone(), errors.clone()),
            seen => {
                let again = seen.is_some();
                let parsed = parser::parse(&ctx.sources.get(id).text, id);
                ctx.reparsed.insert(id, again.then(|| parsed.clone()));
                parsed
            }
        };
        ctx.tree.errors.extend(errors);
        ctx.stack.push(canon);
        let nodes = expand(ctx, nodes, &path, block);
        ctx.stack.pop();
        out.extend(nodes);
    }
}

/// Where an absolute include of a server's config lives in a dump whose
/// entry file is in `dir`: `<root>/etc/nginx/x` when `dir` is inside such a
/// tree, else the longest tail of the path that exists below `dir`.
fn in_dump(dir: &Path, pattern: &str) -> Option<String> {
    let rel = pattern.trim_start_matches('/');
    let dir_abs = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    // the dump keeps the server's tree: <root>/etc/nginx/nginx.conf; look at
    // a few ancestors, never at `/` itself (that is this machine's tree)
    for root in dir_abs.ancestors().take(4).filter(|a| a.parent().is_some()) {
        let cand = root.join(rel);
        if exists_or_matches(&cand) {
            return Some(cand.to_string_lossy().into_owned());
        }
    }
    // a flat copy: drop leading components (`etc/nginx/conf.d/x` → `conf.d/x`)
    let parts: Vec<&str> = rel.split('/').collect();
    (1..parts.len()).find_map(|k| {
        let cand = dir_abs.join(parts[k..].join("/"));
        exists_or_matches(&cand).then(|| cand.to_string_lossy().into_owned())
    })
}

fn exists_or_matches(p: &Path) -> bool {
    if is_glob(&p.to_string_lossy()) {
        !glob(p).is_empty()
    } else {
        p.exists()
    }
}

/// The files `pattern` names, in nginx's order.
/// `p` with `dir/..` pairs removed, without touching the file system, so
/// a relative entry (`conf.d/templates/x.conf`, linted from the directory
/// that holds nginx.conf) gets `conf.d`, `.`, `..` as its ancestors and the
/// files found keep short relative names.
fn lexical(p: &Path) -> PathBuf {
    use std::path::Component;
    let mut out: Vec<Component<'_>> = Vec::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.last() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => out.push(c),
            },
            _ => out.push(c),
        }
    }
    if out.is_empty() {
        PathBuf::from(".")
    } else {
        out.iter().collect()
    }
}

/// How many directories above a fragment's own are tried for its relative
/// includes (conf.d/templates/x.conf → conf.d → the nginx.conf directory,
/// with one to spare).
const ANCESTOR_LEVELS: usize = 3;

fn resolve(
    base: &Path,
    current: &Path,
    pattern: &str,
    ancestors: &[PathBuf],
) -> Result<Vec<PathBuf>, String> {
    let p = Path::new(pattern);
    let mut candidates = vec![if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }];
    if !p.is_absolute() {
        let dirs = current
            .parent()
            .into_iter()
            .chain(ancestors.iter().map(PathBuf::as_path));
        for dir in dirs {
            let alt = dir.join(p);
            if !candidates.contains(&alt) {
                candidates.push(alt);
            }
        }
    }
    if !is_glob(pattern) {
        for c in &candidates {
            if c.is_file() {
                return Ok(vec![c.clone()]);
            }
        }
        return Err("no such file (open() failed)".into());
    }
    for c in &candidates {
        let found = glob(c);
        if !found.is_empty() {
            return Ok(found);
        }
    }
    Ok(Vec::new())
}

/// Files matching a glob path (wildcards in any component), sorted.
fn glob(pattern: &Path) -> Vec<PathBuf> {
    let text = pattern.to_string_lossy();
    let Ok(glob) = globset::GlobBuilder::new(&text)
        .literal_separator(true)
        .build()
    else {
        return Vec::new();
    };
    let matcher = glob.compile_matcher();
    // Walk from the longest wildcard-free directory prefix.
    let mut root = PathBuf::new();
    let mut depth = 0usize;
    let mut in_glob = false;
    for comp in pattern.components() {
        let s = comp.as_os_str().to_string_lossy();
        if in_glob || is_glob(&s) {
            in_glob = true;
            depth += 1;
        } else {
            root.push(comp);
        }
    }
    let mut out = Vec::new();
    let mut dirs = vec![(root, 0usize)];
    while let Some((dir, d)) = dirs.pop() {
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in rd.flatten() {
            let path = entry.path();
            if entry
                .file_name()
                .to_str()
                .is_some_and(|n| n.starts_with('.'))
            {
                continue;
            }
            let is_dir = path.is_dir();
            if d + 1 < depth {
                if is_dir {
                    dirs.push((path, d + 1));
                }
            } else if !is_dir && matcher.is_match(&path) {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn globs_sorted_and_nested() {
        let tmp = tempfile::tempdir().unwrap();
        let main = write(tmp.path(), "nginx.conf", "http { include conf.d/*.conf; }");
        write(tmp.path(), "conf.d/b.conf", "b;");
        write(tmp.path(), "conf.d/a.conf", "a; include snippets/x.conf;");
        write(tmp.path(), "snippets/x.conf", "x;");
        write(tmp.path(), "conf.d/.hidden.conf", "hidden;");
        let mut sm = SourceMap::new();
        let id = sm.add(&main, std::fs::read(&main).unwrap());
        let t = load_tree(&mut sm, id, None, true, false);
        assert!(t.errors.is_empty(), "{:?}", t.errors);
        let http = t.nodes[0].block.as_ref().unwrap();
        let names: Vec<_> = http.children.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["a", "x", "b"]);
        assert_eq!(t.files.len(), 4);
    }

    #[test]
    fn absolute_and_nested_directory_globs() {
        let tmp = tempfile::tempdir().unwrap();
        write(tmp.path(), "sites/a/x.conf", "ax;");
        write(tmp.path(), "sites/b/y.conf", "by;");
        write(tmp.path(), "sites/b/z.txt", "no;");
        let abs = tmp.path().join("sites").join("*").join("*.conf");
        let main = write(
            tmp.path(),
            "etc/nginx.conf",
            &format!("include {};\ninclude ../sites/a/x.conf;\n", abs.display()),
        );
        let mut sm = SourceMap::new();
        let id = sm.add(&main, std::fs::read(&main).unwrap());
        let t = load_tree(&mut sm, id, None, true, false);
        assert!(t.errors.is_empty(), "{:?}", t.errors);
        let names: Vec<_> = t.nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["ax", "by", "ax"]);
        // The same file included twice is read once.
        assert_eq!(t.files.len(), 3);
    }

    #[test]
    fn a_fragment_finds_includes_under_its_ancestors() {
        // h5bp/server-configs-nginx: conf.d/templates/example.com.conf
        // includes h5bp/basic.conf, relative to the nginx.conf directory
        let tmp = tempfile::tempdir().unwrap();
        write(tmp.path(), "h5bp/basic.conf", "add_header X-A a;");
        let site = write(
            tmp.path(),
            "conf.d/templates/example.com.conf",
            "server { listen 80; include h5bp/basic.conf; }",
        );
        let mut sm = SourceMap::new();
        let id = sm.add(&site, std::fs::read(&site).unwrap());
        let t = load_tree(&mut sm, id, None, true, false);
        assert!(t.missing.is_empty(), "{:?}", t.missing);
        let server = t.nodes[0].block.as_ref().unwrap();
        let names: Vec<_> = server.children.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["listen", "add_header"]);
        // a whole nginx.conf resolves against its own directory only, as
        // nginx does
        let main = write(
            tmp.path(),
            "conf.d/templates/nginx.conf",
            "events {} http { include h5bp/basic.conf; }",
        );
        let mut sm = SourceMap::new();
        let id = sm.add(&main, std::fs::read(&main).unwrap());
        let t = load_tree(&mut sm, id, None, true, false);
        assert_eq!(t.missing.len(), 1);
    }

    #[test]
    fn lexical_ancestors() {
        for (p, want) in [
            ("conf.d/templates/..", "conf.d"),
            ("conf.d/templates/../..", "."),
            ("conf.d/templates/../../..", ".."),
            ("/etc/nginx/conf.d/../..", "/etc"),
            ("/../..", "/"),
        ] {
            assert_eq!(lexical(Path::new(p)), Path::new(want), "{p}");
        }
    }

    #[test]
    fn prefix_then_including_file_directory() {
        let tmp = tempfile::tempdir().unwrap();
        write(tmp.path(), "prefix/snippets/p.conf", "from_prefix;");
        write(tmp.path(), "conf/snippets/p.conf", "from_conf_dir;");
        write(tmp.path(), "conf/local.conf", "from_including_dir;");
        let main = write(
            tmp.path(),
            "conf/nginx.conf",
            "include snippets/p.conf;\ninclude local.conf;\n",
        );
        let mut sm = SourceMap::new();
        let id = sm.add(&main, std::fs::read(&main).unwrap());
        let prefix = tmp.path().join("prefix");
        let t = load_tree(&mut sm, id, Some(&prefix), true, false);
        assert!(t.errors.is_empty(), "{:?}", t.errors);
        let names: Vec<_> = t.nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["from_prefix", "from_including_dir"]);
    }

    #[test]
    fn missing_cycle_and_empty_glob() {
        let tmp = tempfile::tempdir().unwrap();
        let main = write(
            tmp.path(),
            "nginx.conf",
            "include missing.conf;\ninclude none/*.conf;\ninclude self.conf;\nok;",
        );
        write(tmp.path(), "self.conf", "include self.conf;\n");
        let mut sm = SourceMap::new();
        let id = sm.add(&main, std::fs::read(&main).unwrap());
        let t = load_tree(&mut sm, id, None, true, false);
        assert_eq!(t.errors.len(), 1, "{:?}", t.errors);
        assert!(matches!(&t.errors[0], ConfigError::IncludeCycle { .. }));
        assert_eq!(t.missing.len(), 1, "{:?}", t.missing);
        assert_eq!(t.missing[0].at.start, 0);
        assert_eq!(t.missing[0].path, Path::new("missing.conf"));
        assert_eq!(t.nodes.last().unwrap().name, "ok");
        // strict: the missing include is an error, as for `nginx -t`
        let t = load_tree(&mut sm, id, None, true, true);
        assert_eq!(t.errors.len(), 2, "{:?}", t.errors);
        assert!(matches!(&t.errors[0], ConfigError::Io { at: Some(s), .. } if s.start == 0));
        assert!(t.missing.is_empty());
    }
}
