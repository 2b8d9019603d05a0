//! The user's arguments → the files to read, each real file once.
//!
//! Directories are walked recursively (hidden entries skipped), entries in
//! name order. Every file and directory is known by its device and inode, so
//! a directory symlink loop (`logs/again -> ..`), a second link to a walked
//! directory or file, or a hard link is read once, and each skipped link is
//! reported with why. Within one argument, real entries win over symlinks:
//! links are followed only after the real tree below the argument is walked.

use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::{Input, Problem};

fn is_glob(s: &str) -> bool {
    s.contains(['*', '?', '[', '{'])
}

/// Device and inode: the identity of a file whatever path reaches it.
type Id = (u64, u64);

fn id(m: &std::fs::Metadata) -> Id {
    (m.dev(), m.ino())
}

/// The walk's memory across all arguments.
#[derive(Default)]
struct Walk {
    files: Vec<Input>,
    /// Files taken, by identity → how they were shown.
    seen_files: HashMap<Id, String>,
    /// Directories walked, by identity → their path.
    seen_dirs: HashMap<Id, PathBuf>,
    /// Streams taken (pipes, devices, stdin), by identity → how they were
    /// shown: `-` and `/dev/stdin` are one pipe, and reading it as two
    /// inputs split its lines between them (one cut in two, later lines
    /// numbered from 1 again).
    seen_streams: HashMap<Id, String>,
    problems: Vec<Problem>,
    /// Paths that reach a file, stream or directory already taken.
    duplicates: Vec<Duplicate>,
}

/// What [`discover`] found.
#[derive(Debug, Default)]
pub struct Discovered {
    /// The files and streams to read, each once.
    pub inputs: Vec<Input>,
    /// Paths that could not be read or were skipped on purpose.
    pub problems: Vec<Problem>,
    /// Paths that name a file, stream or directory already taken, by
    /// another path or by the same one again (`logs/ logs/access.log`, a
    /// symlink or a hard link to a file given): read once.
    pub duplicates: Vec<Duplicate>,
}

/// A path that reaches an input already taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duplicate {
    /// The path as given or found (the second one).
    pub path: String,
    /// The path it was first taken by.
    pub first: String,
    /// `file`, `stream` or `directory`.
    pub what: &'static str,
}

impl Duplicate {
    /// `X is the same file as Y; read once`, or `X was given more than
    /// once (…); read once` when both paths are the same text.
    pub fn message(&self) -> String {
        if self.path == self.first {
            format!(
                "{} was given more than once (by name, or in a folder given); read once",
                self.path
            )
        } else {
            format!(
                "{} is the same {} as {}; read once",
                self.path, self.what, self.first
            )
        }
    }
}

impl Walk {
    /// Take a file unless its inode was taken already (by another path).
    fn take(&mut self, path: PathBuf, m: &std::fs::Metadata) {
        let display = path.display().to_string();
        if m.is_file() {
            if let Some(first) = self.seen_files.get(&id(m)) {
                // said once per path that reaches it again, even the same
                // path named twice: never read twice, never hidden
                self.duplicates.push(Duplicate {
                    path: display,
                    first: first.clone(),
                    what: "file",
                });
                return;
            }
            self.seen_files.insert(id(m), display.clone());
        } else if let Some(first) = self.seen_streams.get(&id(m)) {
            self.duplicates.push(Duplicate {
                path: display,
                first: first.clone(),
                what: "stream",
            });
            return;
        } else {
            self.seen_streams.insert(id(m), display.clone());
        }
        self.files.push(Input {
            display,
            path: Some(path),
            len: if m.is_file() { m.len() } else { 0 },
        });
    }

    /// Walk the tree at `root` (a directory): real entries first, then the
    /// symlinks found in it, breadth-wise, until none are left.
    fn tree(&mut self, root: &Path, m: &std::fs::Metadata) -> usize {
        let before = self.files.len();
        if let Some(first) = self.seen_dirs.get(&id(m)) {
            self.duplicates.push(Duplicate {
                path: root.display().to_string(),
                first: first.display().to_string(),
                what: "directory",
            });
            return 0;
        }
        self.seen_dirs.insert(id(m), root.to_path_buf());
        let mut links = Vec::new();
        self.dir(root, &mut links);
        let mut i = 0;
        while i < links.len() {
            let link: PathBuf = links[i].clone();
            i += 1;
            self.link(&link, &mut links);
        }
        self.files.len() - before
    }

    /// Walk the real entries below `dir`, collecting symlinks in `links`.
    fn dir(&mut self, dir: &Path, links: &mut Vec<PathBuf>) {
        let rd = match std::fs::read_dir(dir) {
            Ok(rd) => rd,
            Err(e) => {
                self.problems.push(Problem {
                    path: dir.display().to_string(),
                    message: format!("cannot list directory: {e}"),
                });
                return;
            }
        };
        let mut entries: Vec<_> = rd
            .flatten()
            .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
            .collect();
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let path = entry.path();
            let Ok(m) = std::fs::symlink_metadata(&path) else {
                continue; // vanished during the walk
            };
            let t = m.file_type();
            if t.is_symlink() {
                links.push(path);
            } else if t.is_dir() {
                if self.seen_dirs.insert(id(&m), path.clone()).is_none() {
                    self.dir(&path, links);
                }
            } else if t.is_file() {
                self.take(path, &m);
            } else {
                self.problems.push(Problem {
                    path: path.display().to_string(),
                    message: format!(
                        "skipped: not a regular file ({}) inside a directory; name it on the \
                         command line to read it as a stream",
                        kind_of(&m)
                    ),
                });
            }
        }
    }

    /// Follow one symlink met in a walk.
    fn link(&mut self, link: &Path, links: &mut Vec<PathBuf>) {
        let shown = link.display().to_string();
        let m = match std::fs::metadata(link) {
            Ok(m) => m,
            Err(e) => {
                let why = if e.raw_os_error() == Some(40) {
                    // ELOOP (40 on Linux): the chain of links itself loops
                    "symlink loop".to_string()
                } else {
                    format!("broken symlink ({e})")
                };
                self.problems.push(Problem {
                    path: shown,
                    message: format!("skipped: {why}"),
                });
                return;
            }
        };
        if m.is_dir() {
            if let Some(first) = self.seen_dirs.get(&id(&m)).cloned() {
                let is_ancestor = match (link.parent(), std::fs::canonicalize(link)) {
                    (Some(parent), Ok(target)) => std::fs::canonicalize(parent)
                        .map(|p| p.starts_with(&target))
                        .unwrap_or(false),
                    _ => false,
                };
                let message = if is_ancestor {
                    format!(
                        "skipped: symlink loop (points to {}, a directory above it)",
                        first.display()
                    )
                } else {
                    format!(
                        "skipped: same directory as {} (walked already)",
                        first.display()
                    )
                };
                self.problems.push(Problem {
                    path: shown,
                    message,
                });
                return;
            }
            self.seen_dirs.insert(id(&m), link.to_path_buf());
            self.dir(link, links);
        } else if m.is_file() {
            self.take(link.to_path_buf(), &m);
        } else {
            self.problems.push(Problem {
                path: shown,
                message: format!(
                    "skipped: links to a {} inside a directory; name it on the command line \
                     to read it as a stream",
                    kind_of(&m)
                ),
            });
        }
    }
}

fn kind_of(m: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = m.file_type();
    if t.is_fifo() {
        "named pipe"
    } else if t.is_socket() {
        "socket"
    } else if t.is_char_device() {
        "character device"
    } else if t.is_block_device() {
        "block device"
    } else {
        "special file"
    }
}

/// Expand the user's arguments into files, in a stable order (arguments in
/// the order given; below a directory, paths in name order). Globs are
/// matched against the files below their literal prefix. Anything that is
/// not a regular file or directory (`-`, `/dev/stdin`, a named pipe,
/// `<(zcat …)`) is kept as given, to be read as a stream.
pub fn discover(args: &[String]) -> Discovered {
    let mut w = Walk::default();
    for arg in args {
        if arg == "-" {
            if w.files.iter().any(|i| i.path.is_none()) {
                w.duplicates.push(Duplicate {
                    path: "-".into(),
                    first: "-".into(),
                    what: "stream",
                });
                continue;
            }
            // what stdin is, to know it again under another name
            let stdin = std::fs::metadata("/dev/stdin").ok().map(|m| id(&m));
            let first = stdin.and_then(|i| w.seen_files.get(&i).or(w.seen_streams.get(&i)));
            if let Some(first) = first {
                w.duplicates.push(Duplicate {
                    path: "-".into(),
                    first: first.clone(),
                    what: "stream",
                });
                continue;
            }
            if let Some(i) = stdin {
                w.seen_files.insert(i, "-".into());
                w.seen_streams.insert(i, "-".into());
            }
            w.files.push(Input {
                path: None,
                display: "-".into(),
                len: 0,
            });
            continue;
        }
        let p = Path::new(arg);
        match std::fs::metadata(p) {
            Ok(m) if m.is_dir() => {
                let before = w.files.len();
                let seen = w.seen_dirs.contains_key(&id(&m));
                w.tree(p, &m);
                let batch = &mut w.files[before..];
                batch.sort_by(|a, b| a.path.cmp(&b.path));
                if w.files.len() == before && !seen {
                    w.problems.push(Problem {
                        path: arg.clone(),
                        message: "directory holds no files".into(),
                    });
                }
            }
            Ok(m) => w.take(p.to_path_buf(), &m),
            Err(e) if is_glob(arg) => {
                let before = w.problems.len();
                match glob(arg, &mut w) {
                    Ok(n) if n > 0 => {}
                    _ => {
                        w.problems.truncate(before);
                        w.problems.push(Problem {
                            path: arg.clone(),
                            message: format!(
                                "no such file, and no file matches it as a glob pattern ({e})"
                            ),
                        })
                    }
                }
            }
            Err(e) => w.problems.push(Problem {
                path: arg.clone(),
                message: match std::fs::read_link(p) {
                    // "No such file or directory" of a path that is there
                    // (as a link) said nothing of where it points
                    Ok(to) if e.kind() == std::io::ErrorKind::NotFound => format!(
                        "cannot read: a symlink to {}, which does not exist ({e})",
                        to.display()
                    ),
                    _ => format!("cannot read: {e}"),
                },
            }),
        }
    }
    Discovered {
        inputs: w.files,
        problems: w.problems,
        duplicates: w.duplicates,
    }
}

/// Add the files matching `pattern` to the walk; how many were added.
fn glob(pattern: &str, w: &mut Walk) -> Result<usize, globset::Error> {
    let matcher = globset::GlobBuilder::new(pattern)
        .literal_separator(true)
        .build()?
        .compile_matcher();
    // walk from the longest literal directory prefix
    let first_meta = pattern.find(['*', '?', '[', '{']).unwrap_or(pattern.len());
    let base = match pattern[..first_meta].rfind('/') {
        Some(i) => &pattern[..i.max(1)],
        None => ".",
    };
    // a separate walk: files outside the pattern must not count as seen
    let mut sub = Walk::default();
    if let Ok(m) = std::fs::metadata(base) {
        sub.tree(Path::new(base), &m);
    }
    let mut hits: Vec<Input> = sub
        .files
        .into_iter()
        .filter(|i| {
            let f = i.path.as_deref().unwrap_or(Path::new(""));
            let rel = if base == "." {
                f.strip_prefix("./").unwrap_or(f)
            } else {
                f
            };
            matcher.is_match(rel)
        })
        .collect();
    hits.sort_by(|a, b| a.path.cmp(&b.path));
    let before = w.files.len();
    for hit in hits {
        let Some(path) = hit.path else { continue };
        if let Ok(m) = std::fs::metadata(&path) {
            w.take(path, &m);
        }
    }
    Ok(w.files.len() - before)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn names(inputs: &[Input], root: &Path) -> Vec<String> {
        inputs
            .iter()
            .map(|i| {
                let p = i.path.as_deref().unwrap();
                p.strip_prefix(root).unwrap().display().to_string()
            })
            .collect()
    }

    #[test]
    fn a_directory_symlink_loop_is_walked_once_and_reported() {
        let d = tempfile::tempdir().unwrap();
        let logs = d.path().join("logs");
        std::fs::create_dir_all(logs.join("old")).unwrap();
        std::fs::write(logs.join("access.log"), "a\n").unwrap();
        std::fs::write(logs.join("old/access.log.1"), "b\n").unwrap();
        symlink("..", logs.join("old/up")).unwrap();
        symlink(".", logs.join("again")).unwrap();
        symlink("old", logs.join("current")).unwrap();
        symlink("access.log", logs.join("latest.log")).unwrap();
        symlink("nowhere", logs.join("broken")).unwrap();
        let Discovered {
            inputs: files,
            problems,
            duplicates,
        } = discover(&[logs.display().to_string()]);
        assert_eq!(
            names(&files, &logs),
            vec!["access.log", "old/access.log.1"],
            "{problems:?}"
        );
        let said = |name: &str, what: &str| {
            problems
                .iter()
                .any(|p| p.path.ends_with(name) && p.message.contains(what))
        };
        assert!(said("old/up", "symlink loop"), "{problems:?}");
        assert!(said("again", "symlink loop"), "{problems:?}");
        assert!(said("current", "same directory as"), "{problems:?}");
        assert!(said("broken", "broken symlink"), "{problems:?}");
        assert_eq!(problems.len(), 4, "{problems:?}");
        // the link to a file taken is a duplicate, said with both paths
        assert_eq!(duplicates.len(), 1, "{duplicates:?}");
        let first = logs.join("access.log").display().to_string();
        assert_eq!(
            duplicates[0].message(),
            format!(
                "{} is the same file as {first}; read once",
                duplicates[0].path
            )
        );
        assert!(duplicates[0].path.ends_with("latest.log"));
        assert_eq!(duplicates[0].first, first);
    }

    #[test]
    fn the_same_file_by_two_arguments_is_read_once() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("access.log");
        std::fs::write(&f, "a\n").unwrap();
        std::fs::hard_link(&f, d.path().join("hard.log")).unwrap();
        let dir = d.path().display().to_string();
        let file = f.display().to_string();
        let found = discover(&[dir.clone(), file.clone(), file.clone(), dir.clone()]);
        assert_eq!(names(&found.inputs, d.path()), vec!["access.log"]);
        assert!(found.problems.is_empty(), "{:?}", found.problems);
        // the hard link (in the first walk), the file named after its
        // folder, the file named again, the folder named again
        let dups: Vec<(&str, &str)> = found
            .duplicates
            .iter()
            .map(|p| (p.path.as_str(), p.first.as_str()))
            .collect();
        let hard = d.path().join("hard.log").display().to_string();
        assert_eq!(
            dups,
            vec![
                (hard.as_str(), file.as_str()),
                (file.as_str(), file.as_str()),
                (file.as_str(), file.as_str()),
                (dir.as_str(), dir.as_str()),
            ],
            "{:?}",
            found.duplicates
        );
    }
}
