//! numpy's legacy `RandomState`, so that a seed draws what `np.random.seed(seed)` draws: the sampler
//! reference tests replay SPOTPY's streams, and smash's network initializers use it too.

use rand_mt::Mt;

/// numpy's legacy `RandomState` (MT19937 seeded by `init_genrand`): `random_sample` from 53 bits of two
/// draws, `uniform = low + (high − low)·random_sample`, `normal` by the polar Box–Muller method with its
/// cached second value (`legacy_gauss`), `randint` and `shuffle` by masked rejection (`random_interval`).
#[derive(Clone)]
pub struct LegacyRandom {
    mt: Mt,
    gauss: Option<f64>,
}

impl std::fmt::Debug for LegacyRandom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LegacyRandom")
    }
}

impl LegacyRandom {
    pub fn new(seed: u32) -> LegacyRandom {
        LegacyRandom { mt: Mt::new(seed), gauss: None }
    }

    /// The next raw 32-bit output.
    pub fn next_u32(&mut self) -> u32 {
        self.mt.next_u32()
    }

    /// A double in [0, 1) (`mt19937_next_double`).
    pub fn random_sample(&mut self) -> f64 {
        let a = (self.mt.next_u32() >> 5) as f64;
        let b = (self.mt.next_u32() >> 6) as f64;
        (a * 67_108_864.0 + b) / 9_007_199_254_740_992.0
    }

    pub fn uniform(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.random_sample()
    }

    pub fn normal(&mut self, loc: f64, scale: f64) -> f64 {
        loc + scale * self.standard_normal()
    }

    /// `N(0, 1)` (`legacy_gauss`).
    pub fn standard_normal(&mut self) -> f64 {
        if let Some(g) = self.gauss.take() {
            return g;
        }
        loop {
            let x1 = 2.0 * self.random_sample() - 1.0;
            let x2 = 2.0 * self.random_sample() - 1.0;
            let r2 = x1 * x1 + x2 * x2;
            if r2 < 1.0 && r2 != 0.0 {
                let f = (-2.0 * r2.ln() / r2).sqrt();
                self.gauss = Some(f * x1);
                return f * x2;
            }
        }
    }

    /// An integer uniform in `0..=max` (`random_interval`: the smallest all-ones mask, rejection).
    pub fn interval(&mut self, max: u32) -> u32 {
        if max == 0 {
            return 0;
        }
        let mask = u32::MAX >> max.leading_zeros();
        loop {
            let v = self.mt.next_u32() & mask;
            if v <= max {
                return v;
            }
        }
    }

    /// `randint(low, high)`: an integer in `[low, high)`; `low` when the range is empty or one value.
    pub fn randint(&mut self, low: i64, high: i64) -> i64 {
        if high - low <= 1 {
            return low;
        }
        low + self.interval((high - low - 1) as u32) as i64
    }

    /// An index in `0..n` (`randint(0, n)`), `n ≥ 1`.
    pub fn below(&mut self, n: usize) -> usize {
        self.randint(0, n as i64) as usize
    }

    /// `shuffle` in place: Fisher–Yates from the last element down, as numpy's legacy `shuffle`.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.interval(i as u32) as usize;
            items.swap(i, j);
        }
    }

    /// `k` distinct indices of `0..n`, none in `exclude`, in draw order (rejection of repeats).
    pub fn distinct(&mut self, n: usize, k: usize, exclude: &[usize]) -> Vec<usize> {
        let mut out = Vec::with_capacity(k);
        assert!(n >= k + exclude.len(), "cannot draw {k} distinct of {n} excluding {}", exclude.len());
        while out.len() < k {
            let i = self.below(n);
            if !out.contains(&i) && !exclude.contains(&i) {
                out.push(i);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mt19937_follows_the_reference_generator() {
        // Matsumoto & Nishimura's mt19937ar.c with init_genrand(5489): first output 3499211612
        let mut rng = LegacyRandom::new(5489);
        assert_eq!(rng.next_u32(), 3_499_211_612);
    }

    #[test]
    fn draws_match_numpy_legacy_stream() {
        // np.random.seed(42); np.random.rand(2), np.random.randn(2), np.random.randint(0, 10, 3)
        let mut rng = LegacyRandom::new(42);
        let close = |a: f64, b: f64| (a - b).abs() < 1e-15;
        assert!(close(rng.random_sample(), 0.3745401188473625));
        assert!(close(rng.random_sample(), 0.9507143064099162));
        let mut rng = LegacyRandom::new(42);
        assert!(close(rng.standard_normal(), 0.4967141530112327));
        assert!(close(rng.standard_normal(), -0.13826430117118466));
        let mut rng = LegacyRandom::new(42);
        let ints: Vec<i64> = (0..3).map(|_| rng.randint(0, 10)).collect();
        assert_eq!(ints, [6, 3, 7]);
    }

    #[test]
    fn shuffle_matches_numpy_legacy_shuffle() {
        // np.random.seed(0); a = np.arange(10); np.random.shuffle(a)
        let mut rng = LegacyRandom::new(0);
        let mut a: Vec<u32> = (0..10).collect();
        rng.shuffle(&mut a);
        assert_eq!(a, [2, 8, 4, 9, 1, 6, 7, 3, 0, 5]);
    }

    #[test]
    fn normal_draws_have_the_requested_spread() {
        let mut rng = LegacyRandom::new(1);
        let n = 200_000;
        let draws: Vec<f64> = (0..n).map(|_| rng.normal(0.0, 2.0)).collect();
        let mean = draws.iter().sum::<f64>() / n as f64;
        let var = draws.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.02 && (var.sqrt() - 2.0).abs() < 0.02, "mean {mean}, sd {}", var.sqrt());
    }
}
