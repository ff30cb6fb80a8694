//! Writes the BPE vocabularies the token counter uses (`o200k_base`, `cl100k_base`) in a
//! compact, ready-to-use form: tiktoken's own tables hold each token three times in separate
//! heap allocations (~24 and ~46 MB); these are ~2 and ~4 MB, embedded in the binary and paged
//! in only when a count reads them.

#[path = "src/bpe/table.rs"]
mod table;

use std::path::Path;

fn write(out: &Path, name: &str, core: &tiktoken_rs::CoreBPE, ranks: u32) {
    let mut bytes = Vec::new();
    let mut ends = Vec::with_capacity(ranks as usize * 4);
    let mut present = Vec::new();
    for r in 0..ranks {
        if let Ok(token) = core.decode_bytes(&[r]) {
            bytes.extend_from_slice(&token);
            present.push((r, token));
        }
        ends.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    }
    let slots = table::slots_for(ranks as usize);
    let mut index = vec![table::EMPTY; slots];
    for (r, token) in &present {
        let mut i = table::hash(token) as usize & (slots - 1);
        while index[i] != table::EMPTY {
            i = (i + 1) & (slots - 1);
        }
        index[i] = *r;
    }
    let index: Vec<u8> = index.iter().flat_map(|r| r.to_le_bytes()).collect();
    for (ext, data) in [("bytes", &bytes), ("ends", &ends), ("index", &index)] {
        std::fs::write(out.join(format!("{name}.{ext}")), data).expect("write vocabulary");
    }
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=src/bpe/table.rs");
    let out = std::env::var("OUT_DIR").expect("OUT_DIR");
    let out = Path::new(&out);
    let o200k = tiktoken_rs::o200k_base().expect("o200k_base");
    write(out, "o200k_base", &o200k, 199_998);
    drop(o200k);
    let cl100k = tiktoken_rs::cl100k_base().expect("cl100k_base");
    write(out, "cl100k_base", &cl100k, 100_256);
    std::fs::write(
        out.join("o200k_base.pattern"),
        tiktoken_rs::O200K_BASE_PAT_STR,
    )
    .expect("write pattern");
}
