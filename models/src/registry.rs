//! Metadata of model variables: smash's registry (`smash/_constant.py`, spec §3) kept next to the code.

/// Default value of a variable.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DefaultValue {
    /// The same value whatever the time step.
    Fixed(f64),
    /// `value · dt / 3600` (smash scales `llr` this way).
    PerHour(f64),
}

impl DefaultValue {
    /// The default for a step of `dt` seconds.
    pub fn at(self, dt: f64) -> f64 {
        match self {
            DefaultValue::Fixed(v) => v,
            DefaultValue::PerHour(v) => v * dt / 3600.0,
        }
    }
}

/// A parameter or state of a model structure.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VarInfo {
    /// smash's name (`cp`, `hlr`, …).
    pub name: &'static str,
    /// Unit, as written in docs and output metadata.
    pub unit: &'static str,
    pub description: &'static str,
    pub default: DefaultValue,
    /// Default calibration bounds (smash's `DEFAULT_BOUNDS_*`).
    pub bounds: (f64, f64),
    /// Feasible domain, open interval `(low, high)`; infinite ends allowed.
    pub feasible: (f64, f64),
    /// Whether calibration may optimize it (smash's `OPTIMIZABLE_*`: every variable but `ci`, which the
    /// interception-capacity adjustment sets).
    pub optimizable: bool,
}

impl VarInfo {
    /// Whether `v` is feasible: finite and inside the open domain widened by smash's tolerance
    /// `F_PRECISION = 1e-5` (smash rejects `v + 1e-5 ≤ low` or `v − 1e-5 ≥ high`), so that an emptied
    /// store (`hi = 0`) is a valid initial state.
    pub fn is_feasible(&self, v: f64) -> bool {
        v.is_finite() && v + F_PRECISION > self.feasible.0 && v - F_PRECISION < self.feasible.1
    }
}

/// smash's tolerance on feasible domains.
pub const F_PRECISION: f64 = 1e-5;

#[cfg(test)]
mod tests {

    #[test]
    fn feasibility_uses_smash_tolerance() {
        let hi = crate::gr::gr4::STATES[0];
        assert!(hi.is_feasible(0.0) && hi.is_feasible(1.0) && hi.is_feasible(0.5));
        assert!(!hi.is_feasible(-1e-5) && !hi.is_feasible(1.00001) && !hi.is_feasible(f64::NAN));
        let kexc = crate::gr::gr4::PARAMETERS[3];
        assert!(kexc.is_feasible(-1e6) && !kexc.is_feasible(f64::INFINITY));
    }
}
