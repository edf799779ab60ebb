//! The hasher of the `allow_origins` map: a fixed multiply-rotate hash, a
//! word at a time (FxHash's scheme, with rustc-hash 2's constant and final
//! rotation).
//!
//! A fixed, public function is safe here, although `Origin` values come from
//! anyone: hash flooding needs the attacker to choose the keys *inserted*,
//! and only the config's entries are. A lookup with a chosen key probes a
//! table it cannot fill, so it costs at worst what any miss costs. What it
//! saves over hashbrown's default (foldhash, with a global random seed) is a
//! few kilobytes of the Envoy module.

use core::hash::{BuildHasherDefault, Hasher};

/// Builds [`FixedHasher`]s, for `HashMap<K, V, BuildFixedHasher>`.
pub(crate) type BuildFixedHasher = BuildHasherDefault<FixedHasher>;

/// An odd constant with its bits well spread (rustc-hash 2's).
const K: u64 = 0xf135_7aea_2e62_a9c5;

#[derive(Default)]
pub(crate) struct FixedHasher(u64);

impl FixedHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(K);
    }
}

impl Hasher for FixedHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
    }

    /// The length `[u8]` hashes first, which also tells apart keys that
    /// differ only by trailing zero bytes in their last word.
    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    /// The multiplication leaves its best-mixed bits at the top; hashbrown
    /// takes both the bucket and the tag from the low ones (on wasm32 from
    /// the low 32 bits), so rotate the top bits down.
    fn finish(&self) -> u64 {
        self.0.rotate_left(26)
    }
}
