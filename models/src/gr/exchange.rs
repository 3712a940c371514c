//! Groundwater exchange (spec §1.2, `gr_exchange`).

use crate::lanes::Lane;

/// Exchange `l = kexc·ht^3.5` \[mm/dt\] from the transfer level `ht` at the start of the step; negative
/// `kexc` \[mm/dt\] means losses. `ht^3.5` is computed as `ht³·√ht`.
#[inline(always)]
pub fn exchange<V: Lane>(kexc: V, ht: V) -> V {
    kexc * ht * ht * ht * ht.sqrt()
}

#[cfg(test)]
mod tests {
    #[test]
    fn power_three_and_a_half() {
        let l = super::exchange(-2.0f64, 0.5);
        assert!((l + 2.0 * 0.5f64.powf(3.5)).abs() < 1e-15);
    }
}
