//! The compact counter must count exactly as tiktoken does, for both vocabularies.

use super::{CL100K, O200K};

fn samples() -> Vec<String> {
    let mut s: Vec<String> = [
        "",
        "hello world",
        "Hello, World! How's it going? I'm fine; they've left, we'll see.",
        "   leading and trailing spaces   ",
        "tabs\tand\nnewlines\r\n\r\nand more\n\n\n",
        "numbers 1 12 123 1234 12345 3.14159 -42 1e10 0x1F",
        "fn main() { let x = vec![1, 2, 3]; println!(\"{x:?}\"); }",
        "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
        "Übergrößenträger naïve café résumé coöperate",
        "日本語のテキストと中文文本和한국어 텍스트",
        "emoji 🙂🚀👩‍👩‍👧‍👦 and symbols ∑∫√∞ ≠ ≤",
        "<|endoftext|> special-looking text <|fim_prefix|>",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "antidisestablishmentarianism pneumonoultramicroscopicsilicovolcanoconiosis",
        "a\u{0300}\u{0301}\u{0302} combining marks, zero\u{200b}width, rtl עברית عربي",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    // A longer mixed document, and every prefix of a tricky string.
    s.push(s.join(" | ").repeat(3));
    let tricky = "x = 'it''s' + \"q\"  \n\t 12345678 ";
    for i in 0..=tricky.len() {
        if tricky.is_char_boundary(i) {
            s.push(tricky[..i].to_owned());
        }
    }
    s
}

#[test]
fn counts_equal_tiktoken_o200k() {
    let reference = tiktoken_rs::o200k_base().unwrap();
    for text in samples() {
        assert_eq!(
            O200K.count(&text),
            reference.encode_ordinary(&text).len(),
            "{text:?}"
        );
    }
}

#[test]
fn counts_equal_tiktoken_cl100k() {
    let reference = tiktoken_rs::cl100k_base().unwrap();
    for text in samples() {
        assert_eq!(
            CL100K.count(&text),
            reference.encode_ordinary(&text).len(),
            "{text:?}"
        );
    }
}

#[test]
fn every_token_is_found_by_its_bytes() {
    for vocab in [&O200K, &CL100K] {
        let ranks = vocab.ends.len() / 4;
        for r in (0..ranks as u32).step_by(97) {
            let token = vocab.token(r);
            if !token.is_empty() {
                assert_eq!(vocab.rank(token), Some(r));
            }
        }
    }
}

#[test]
fn counts_from_many_threads_agree() {
    let text = samples().join("\n");
    let expected = O200K.count(&text);
    let counts: Vec<usize> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..10).map(|_| s.spawn(|| O200K.count(&text))).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(counts.iter().all(|&c| c == expected));
}
