// SPDX-License-Identifier: GPL-2.0

//! What the engine's host tests and the guest's stress programs share: the
//! seeded generator their random programs and inputs come from.
//!
//! Runs must be reproducible from their seed alone (on the host, and on the
//! C and the Rust kernel alike), so nothing here reads the clock or any
//! address.

/// A splitmix64 generator: tiny, seedable, and every stream of a seed is
/// reproducible on its own ([`Rng::stream`]).
#[derive(Clone, Debug)]
pub struct Rng(pub u64);

impl Rng {
    /// The generator for `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// An independent generator for item `n` of the run with `seed`, so
    /// that item `n` can be regenerated without generating the others.
    pub fn stream(seed: u64, n: u64) -> Self {
        let mut r = Rng(seed ^ 0x5ecc_0a11_d1ff_0000);
        let a = r.next_u64();
        Rng(a ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(17))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// The next 32 random bits.
    pub fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    /// Uniform in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `percent`/100.
    pub fn percent(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// One element of `items` (not empty).
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }

    /// An index into `weights`, each chosen with probability proportional
    /// to its weight.
    pub fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u64 = weights.iter().map(|&w| w as u64).sum();
        let mut x = self.below(total);
        for (i, &w) in weights.iter().enumerate() {
            if x < w as u64 {
                return i;
            }
            x -= w as u64;
        }
        weights.len() - 1
    }
}

#[cfg(test)]
mod tests {
    use super::Rng;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let first: Vec<u64> = (0..4).map(|_| Rng::stream(7, 3).next_u64()).collect();
        assert!(first.windows(2).all(|w| w[0] == w[1]));
        assert_ne!(Rng::stream(7, 3).next_u64(), Rng::stream(7, 4).next_u64());
        assert_ne!(Rng::stream(7, 3).next_u64(), Rng::stream(8, 3).next_u64());
    }

    #[test]
    fn below_range_and_weights_stay_in_bounds() {
        let mut rng = Rng::new(1);
        let mut seen = [0u32; 5];
        for _ in 0..10_000 {
            let i = rng.below(5) as usize;
            seen[i] += 1;
            let r = rng.range(10, 12);
            assert!((10..=12).contains(&r));
            assert!(rng.weighted(&[0, 3, 0]) == 1);
        }
        // Every value turns up, none far from a fifth.
        assert!(seen.iter().all(|&n| (1700..2300).contains(&n)), "{seen:?}");
    }
}
