//! The layout of a compact vocabulary, shared by the build script that writes it and the
//! counter that reads it: token bytes concatenated in rank order, each rank's end offset, and
//! an open-addressing hash table of ranks keyed by FNV-1a of the token's bytes.

/// An empty slot of the hash table.
pub const EMPTY: u32 = u32::MAX;

/// FNV-1a, 64 bit: tokens are short, so a simple byte hash is enough and is the same at build
/// time and at run time.
pub fn hash(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Slots for `ranks` entries (used by the build script only): a power of two at least twice as many, so probes stay short.
#[allow(dead_code)]
pub fn slots_for(ranks: usize) -> usize {
    (ranks * 2).next_power_of_two()
}
