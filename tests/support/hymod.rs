//! HYMOD on SPOTPY's shipped data, for the sampler tests (`shared/spec/samplers.md` §4): a reimplementation of
//! SPOTPY 1.6.7's `examples/hymod_python/hymod.py` and of its setup `spot_setup_hymod_python.py`, in the same
//! operations and order, so that the simulated series equal SPOTPY's to the last bits.
//!
//! Model (daily): a Moore soil store of capacity `cmax` and shape `bexp` yields the excess rainfall `ER1 + ER2`
//! and loses evaporation linear in its storage; a fraction `alpha` of the excess goes through three linear
//! reservoirs in series (`Kq`), the rest through one (`Ks`). A reservoir is `x ← (1−K)(x + u)`, `Q = K/(1−K)·x`.
//! Every state starts at 0. The outflow [mm/d] times `1.783·10⁶/86400` gives l/s (1.783 km²); the first 366
//! days (2012) are the warm-up and the remaining 1461 (2013–2016) are compared with the observed discharge.
//!
//! The data, `hymod_input.csv`, are read from the installed SPOTPY package (never copied into the repository);
//! `tests/reference/spotpy/methods.py` (`{"mode": "info"}`) says where it is.

#![allow(dead_code)]

use std::path::Path;

/// Parameter names, in SPOTPY's order.
pub const NAMES: [&str; 5] = ["cmax", "bexp", "alpha", "Ks", "Kq"];
/// SPOTPY's bounds (the `Uniform` low/high of its setup).
pub const BOUNDS: [(f64, f64); 5] = [(1.0, 500.0), (0.1, 2.0), (0.1, 0.99), (0.001, 0.10), (0.1, 0.99)];
/// SPOTPY's `optguess`.
pub const OPTGUESS: [f64; 5] = [412.33, 0.1725, 0.8127, 0.0404, 0.5592];
/// Days of warm-up, dropped from the simulation.
pub const WARM_UP: usize = 366;

/// The forcing and observations of `hymod_input.csv`.
#[derive(Clone, Debug)]
pub struct Hymod {
    /// Rainfall [mm/d], every day.
    pub precip: Vec<f64>,
    /// Turc potential evaporation [mm/d], every day.
    pub pet: Vec<f64>,
    /// Observed discharge [l/s] after the warm-up.
    pub observed: Vec<f64>,
}

impl Hymod {
    /// Reads `hymod_input.csv` from SPOTPY's `examples/hymod_python` folder `dir`.
    pub fn load(dir: &Path) -> Hymod {
        let path = dir.join("hymod_input.csv");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let mut lines = text.lines();
        let header = lines.next().expect("a header line");
        let delimiter = if header.contains(';') { ';' } else { ',' };
        let (mut precip, mut pet, mut discharge) = (Vec::new(), Vec::new(), Vec::new());
        for line in lines.filter(|l| !l.trim().is_empty()) {
            let fields: Vec<&str> = line.trim().split(delimiter).collect();
            let value = |i: usize| -> f64 {
                fields[i].trim().parse().unwrap_or_else(|e| panic!("{}: bad value in {line:?}: {e}", path.display()))
            };
            precip.push(value(1));
            pet.push(value(2));
            discharge.push(value(3));
        }
        assert!(precip.len() > WARM_UP, "{}: only {} days", path.display(), precip.len());
        Hymod { precip, pet, observed: discharge.split_off(WARM_UP) }
    }

    /// The discharge [l/s] after the warm-up, `[days − 366]`, at `x = (cmax, bexp, alpha, Ks, Kq)`.
    pub fn simulate(&self, x: &[f64]) -> Vec<f64> {
        let factor = 1.783 * 1000.0 * 1000.0 / (60.0 * 60.0 * 24.0);
        let mut q = run(&self.precip, &self.pet, x[0], x[1], x[2], x[3], x[4]);
        q.drain(..WARM_UP);
        q.iter_mut().for_each(|v| *v *= factor);
        q
    }

    /// SPOTPY's RMSE of the simulation at `x` against the observations (NaN stays NaN).
    pub fn rmse(&self, x: &[f64]) -> f64 {
        hydrograd::samplers::objectives::rmse(&self.observed, &self.simulate(x))
    }
}

/// SPOTPY's `power`: `|x|^y` (C `pow`, as Python's `**`).
fn power(x: f64, y: f64) -> f64 {
    x.abs().powf(y)
}

/// Python's `max(a, b)`: `a` unless `b > a`.
fn py_max(a: f64, b: f64) -> f64 {
    if b > a { b } else { a }
}

/// Python's `min(a, b)`: `a` unless `b < a`.
fn py_min(a: f64, b: f64) -> f64 {
    if b < a { b } else { a }
}

/// A linear reservoir: the new storage and the outflow.
fn linres(x: f64, inflow: f64, k: f64) -> (f64, f64) {
    let x = (1.0 - k) * x + (1.0 - k) * inflow;
    (x, (k / (1.0 - k)) * x)
}

/// The soil store: excess rainfalls `ER1`, `ER2` and the new storage.
fn excess(x_loss: f64, cmax: f64, bexp: f64, p: f64, pet: f64) -> (f64, f64, f64) {
    let xn_prev = x_loss;
    let ct_prev = cmax * (1.0 - power(1.0 - ((bexp + 1.0) * xn_prev / cmax), 1.0 / (bexp + 1.0)));
    let er1 = py_max(p - cmax + ct_prev, 0.0);
    let p = p - er1;
    let dummy = py_min((ct_prev + p) / cmax, 1.0);
    let xn = (cmax / (bexp + 1.0)) * (1.0 - power(1.0 - dummy, bexp + 1.0));
    let er2 = py_max(p - (xn - xn_prev), 0.0);
    let evap = (1.0 - (((cmax / (bexp + 1.0)) - xn) / (cmax / (bexp + 1.0)))) * pet;
    let xn = py_max(xn - evap, 0.0);
    (er1, er2, xn)
}

/// SPOTPY's `hymod(Precip, PET, cmax, bexp, alpha, Rs, Rq)`: the outflow [mm/d] of every day.
pub fn run(precip: &[f64], pet: &[f64], cmax: f64, bexp: f64, alpha: f64, rs: f64, rq: f64) -> Vec<f64> {
    let mut x_loss = 0.0;
    let mut x_slow = 0.0;
    let mut x_quick = [0.0; 3];
    let mut output = Vec::with_capacity(precip.len());
    for (&p, &e) in precip.iter().zip(pet) {
        let (er1, er2, xn) = excess(x_loss, cmax, bexp, p, e);
        x_loss = xn;
        let et = er1 + er2;
        let uq = alpha * et;
        let us = (1.0 - alpha) * et;
        let (xs, qs) = linres(x_slow, us, rs);
        x_slow = xs;
        let mut inflow = uq;
        for x in &mut x_quick {
            let (xq, outflow) = linres(*x, inflow, rq);
            *x = xq;
            inflow = outflow;
        }
        output.push(qs + inflow);
    }
    output
}
