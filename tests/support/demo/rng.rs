//! A tiny deterministic random number generator (SplitMix64), so that the demo dataset does not
//! depend on the `rand` crate or its version.

/// SplitMix64 (Steele, Lea & Flood 2014): 64-bit state, full period, good enough for synthetic noise.
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed`; each component of the dataset uses its own seed so that
    /// changing one (e.g. the storms) leaves the others byte-identical.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1), with 53 random bits (exact in f64 on every platform).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [lo, hi).
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }
}
