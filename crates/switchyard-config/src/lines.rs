//! Builds the [`LineIndex`]: YAML path → 1-based line for every mapping key and sequence item.
//!
//! serde_yaml 0.9 keeps no positions once a document is a `Value`, so this walks the marked
//! events of `saphyr-parser` once. Errors found later (filter factories, the route table)
//! can then point at a line with `config.lines.line_of("filters[3]")`.

use saphyr_parser::{Event, Parser};

use crate::LineIndex;

/// One open collection while walking the events.
enum Frame {
    /// A mapping at `path`; `key` is the pending key path once a key scalar was read.
    Map { path: String, key: Option<String> },
    /// A sequence at `path` and the index of its next item.
    Seq { path: String, next: usize },
}

/// Indexes the first document of `text`. A document the parser rejects yields whatever was
/// indexed before the error (serde_yaml reports the syntax error itself).
pub(crate) fn index(text: &str) -> LineIndex {
    let mut lines = LineIndex::default();
    let mut stack: Vec<Frame> = Vec::new();
    for event in Parser::new_from_str(text) {
        let Ok((event, span)) = event else { break };
        let line = span.start.line();
        match event {
            Event::DocumentEnd => break,
            Event::Scalar(text, ..) => {
                if let Some(Frame::Map { path, key }) = stack.last_mut() {
                    if key.is_none() {
                        let full = join(path, &text);
                        lines.by_path.entry(full.clone()).or_insert(line);
                        *key = Some(full);
                        continue;
                    }
                }
                node_at(&mut stack, &mut lines, line);
            }
            Event::Alias(_) => {
                node_at(&mut stack, &mut lines, line);
            }
            Event::MappingStart(..) => {
                let path = node_at(&mut stack, &mut lines, line);
                stack.push(Frame::Map { path, key: None });
            }
            Event::SequenceStart(..) => {
                let path = node_at(&mut stack, &mut lines, line);
                stack.push(Frame::Seq { path, next: 0 });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                stack.pop();
                // The collection was a value (or an item): its parent moves on.
                if let Some(Frame::Map { key, .. }) = stack.last_mut() {
                    *key = None;
                }
            }
            _ => {}
        }
    }
    lines
}

/// A value node starts at `line`: returns its path, records it when it is a sequence item,
/// and advances the parent (a map's pending key is consumed by a scalar value).
fn node_at(stack: &mut [Frame], lines: &mut LineIndex, line: usize) -> String {
    match stack.last_mut() {
        None => String::new(),
        Some(Frame::Seq { path, next }) => {
            let item = format!("{path}[{next}]");
            *next += 1;
            lines.by_path.entry(item.clone()).or_insert(line);
            item
        }
        Some(Frame::Map { path, key }) => match key.take() {
            Some(k) => k,
            // A non-scalar key (rare, unsupported here): keep paths stable with a marker.
            None => {
                let k = join(path, "?");
                *key = Some(k.clone());
                k
            }
        },
    }
}

fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

#[cfg(test)]
mod tests {
    use super::index;

    #[test]
    fn indexes_keys_and_items() {
        let text = "version: 1\nproviders:\n  - id: a\n    type: openai\n  - { id: b, type: x }\nfilters:\n  - auth\n  - retry:\n      attempts: 3\n";
        let l = index(text);
        assert_eq!(l.by_path.get("version"), Some(&1));
        assert_eq!(l.by_path.get("providers"), Some(&2));
        assert_eq!(l.by_path.get("providers[0]"), Some(&3));
        assert_eq!(l.by_path.get("providers[0].type"), Some(&4));
        assert_eq!(l.by_path.get("providers[1]"), Some(&5));
        assert_eq!(l.by_path.get("providers[1].type"), Some(&5));
        assert_eq!(l.by_path.get("filters[0]"), Some(&7));
        assert_eq!(l.by_path.get("filters[1]"), Some(&8));
        assert_eq!(l.by_path.get("filters[1].retry.attempts"), Some(&9));
        assert_eq!(l.line_of("providers[0].timeouts.connect"), Some(3));
    }
}
