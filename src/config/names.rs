//! "Did you mean": the edit distance between two names and the closest
//! known name to a misspelt one. Shared by the config readers (unknown
//! directives) and the rules (unknown upstreams, backends, clusters).

/// Levenshtein distance in characters (names are short; quadratic is
/// fine).
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The candidate closest to `name` within `max` edits; among equally close
/// ones the alphabetically first, so the answer does not depend on order.
pub fn nearest<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    max: usize,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (edit_distance(name, c), c))
        .filter(|(d, _)| *d <= max)
        .min()
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance() {
        assert_eq!(edit_distance("bakend", "backend"), 1);
        assert_eq!(edit_distance("", "ab"), 2);
        assert_eq!(edit_distance("same", "same"), 0);
        assert_eq!(edit_distance("ab", "ba"), 2);
    }

    #[test]
    fn nearest_within_limit() {
        let names = ["web", "backend", "backends"];
        assert_eq!(nearest("backnd", names, 1), Some("backend"));
        assert_eq!(nearest("api", names, 2), None);
        assert_eq!(nearest("wex", ["wez", "wey"], 1), Some("wey"));
    }
}
