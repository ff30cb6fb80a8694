//! "Did you mean …?" for unknown ids: the closest known id by edit distance.

/// `; did you mean `x`?` when a known id is close to `name`, else `; known: a, b` for short
/// lists, else nothing.
pub(super) fn hint(name: &str, known: &[&str]) -> String {
    let best = known
        .iter()
        .map(|k| (distance(name, k), *k))
        .min_by_key(|(d, _)| *d);
    match best {
        Some((d, k)) if d <= (name.chars().count() / 3).max(2) => format!("; did you mean `{k}`?"),
        _ if !known.is_empty() && known.len() <= 8 => format!("; known: {}", known.join(", ")),
        _ => String::new(),
    }
}

/// Levenshtein distance over chars, one row at a time.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diag + usize::from(ca != *cb));
            diag = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_ids() {
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(
            hint("gpt4o", &["gpt-4o", "claude"]),
            "; did you mean `gpt-4o`?"
        );
        assert_eq!(
            hint("zzz", &["gpt-4o", "claude"]),
            "; known: gpt-4o, claude"
        );
        assert_eq!(hint("zzz", &[]), "");
    }
}
