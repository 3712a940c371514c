//! The twin experiment's random numbers: SplitMix64 streams, so that one seed gives the same gauges,
//! descriptors and forcing on every machine and in every thread order (each day draws from its own
//! stream).

/// A SplitMix64 generator.
#[derive(Debug, Clone)]
pub(super) struct SplitMix(u64);

impl SplitMix {
    /// The stream of `seed`, salted by `stream` (e.g. a day index or a descriptor number) so that
    /// different uses of one seed do not share values.
    pub fn new(seed: u64, stream: u64) -> SplitMix {
        let mut s = SplitMix(seed ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03));
        s.next_u64();
        s
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `[lo, hi)`.
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }

    /// Exponential with mean `mean`.
    pub fn exponential(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.uniform()).ln()
    }

    /// Poisson with mean `mean` (Knuth's product of uniforms; `mean` up to a few hundred).
    pub fn poisson(&mut self, mean: f64) -> usize {
        // split a large mean so that e^{−mean} stays far from underflow
        if mean > 30.0 {
            return self.poisson(mean / 2.0) + self.poisson(mean / 2.0);
        }
        let limit = (-mean).exp();
        let (mut k, mut p) = (0, self.uniform());
        while p > limit {
            k += 1;
            p *= self.uniform();
        }
        k
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_deterministic_and_distinct() {
        let draw = |seed, stream| {
            let mut s = SplitMix::new(seed, stream);
            (0..4).map(|_| s.next_u64()).collect::<Vec<_>>()
        };
        assert_eq!(draw(7, 1), draw(7, 1));
        assert_ne!(draw(7, 1), draw(7, 2));
        assert_ne!(draw(7, 1), draw(8, 1));
    }

    #[test]
    fn moments_of_the_draws() {
        let mut s = SplitMix::new(3, 0);
        let n = 200_000;
        let mean = |f: &mut dyn FnMut() -> f64| (0..n).map(|_| f()).sum::<f64>() / n as f64;
        assert!((mean(&mut || s.uniform()) - 0.5).abs() < 0.005);
        assert!((mean(&mut || s.exponential(2.0)) - 2.0).abs() < 0.03);
        assert!((mean(&mut || s.poisson(4.0) as f64) - 4.0).abs() < 0.03);
        assert!((mean(&mut || s.poisson(70.0) as f64) - 70.0).abs() < 0.2);
    }
}
