//! `samplers::objectives` and `samplers::likelihoods` against SPOTPY 1.6.7 itself: every function, on random
//! normal series and positive discharge-like series (with NaNs, with ties, lengths 1, 10 and 1000, and different
//! lengths), evaluated by `tests/reference/spotpy/objectives.py` with the Python of `HYDROGRAD_PYTHON`.
//! Floats cross the process boundary as IEEE-754 bit patterns. A value matches when
//! `|rust − spotpy| ≤ 1e-9·max(1, |spotpy|)`, NaN matching NaN and ±∞ itself.

#[path = "support/python.rs"]
mod python_ref;

use hydrograd::samplers::likelihoods::{Likelihood, ar1_coefficient, ar1_with_c};
use hydrograd::samplers::objectives::{SpotpyObjective, kge_all, kge_non_parametric_all, lognse};
use hydrograd::samplers::random::LegacyRandom;
use python_ref::bits;
use serde_json::{Value, json};

/// Runs `tests/reference/spotpy/<script>` (see `support/python.rs`).
fn python(script: &str, request: &Value) -> Value {
    python_ref::run_json(&python_ref::reference_script("spotpy", script), request, "spotpy 1.6.7 and numpy")
}

/// One pair of series with the measurement errors and φ its likelihoods use.
struct Case {
    name: &'static str,
    obs: Vec<f64>,
    sim: Vec<f64>,
    measerror: Vec<f64>,
    phi: f64,
}

impl Case {
    fn new(name: &'static str, obs: Vec<f64>, sim: Vec<f64>, rng: &mut LegacyRandom, phi: f64) -> Case {
        let measerror = obs.iter().map(|_| rng.uniform(0.05, 0.5)).collect();
        Case { name, obs, sim, measerror, phi }
    }

    fn has_nan(&self) -> bool {
        self.obs.iter().chain(&self.sim).any(|v| v.is_nan())
    }
}

/// A log-flow AR(1) turned into discharge [m³/s] and a noisy, biased simulation of it.
fn discharge(rng: &mut LegacyRandom, n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut x = 0.0;
    let obs: Vec<f64> = (0..n)
        .map(|_| {
            x = 0.9 * x + 0.3 * rng.standard_normal();
            5.0 * f64::exp(x)
        })
        .collect();
    let sim = obs.iter().map(|q| q * (0.25 * rng.standard_normal()).exp() + 0.2 * rng.random_sample()).collect();
    (obs, sim)
}

/// NaN at a few places of obs and sim, one of them shared.
fn with_nans(mut obs: Vec<f64>, mut sim: Vec<f64>) -> (Vec<f64>, Vec<f64>) {
    let n = obs.len();
    for i in [n / 3, n - 2] {
        obs[i] = f64::NAN;
    }
    for i in [1, n / 3, n / 2] {
        sim[i] = f64::NAN;
    }
    (obs, sim)
}

fn cases() -> Vec<Case> {
    let mut rng = LegacyRandom::new(42);
    let sim: Vec<f64> = (0..10).map(|_| rng.standard_normal()).collect();
    let obs: Vec<f64> = (0..10).map(|_| rng.standard_normal()).collect();
    // np.random.seed(42); randn(10): the data of the spec's golden values.
    assert_eq!((sim[0], obs[9]), (0.4967141530112327, -1.4123037013352915));
    let shift = |x: &[f64]| x.iter().map(|v| v + 3.0).collect::<Vec<_>>();
    let (obs3, sim3) = (shift(&obs), shift(&sim));
    let mut cases =
        vec![Case::new("randn10", obs, sim, &mut rng, 0.6), Case::new("randn10_plus3", obs3, sim3, &mut rng, -0.4)];
    let mut rng = LegacyRandom::new(7);
    let obs: Vec<f64> = (0..1000).map(|_| rng.standard_normal()).collect();
    let sim = obs.iter().map(|o| 0.8 * o + 0.6 * rng.standard_normal()).collect();
    cases.push(Case::new("randn1000", obs, sim, &mut rng, 0.3));
    let (obs, sim) = discharge(&mut rng, 10);
    let (obs, sim) = with_nans(obs, sim);
    cases.push(Case::new("discharge10_nan", obs, sim, &mut rng, 0.9));
    let (obs, sim) = discharge(&mut rng, 1000);
    cases.push(Case::new("discharge1000", obs.clone(), sim.clone(), &mut rng, 0.7));
    let (obs_nan, sim_nan) = with_nans(obs.clone(), sim.clone());
    cases.push(Case::new("discharge1000_nan", obs_nan, sim_nan, &mut rng, -0.2));
    // Rounded to 0.5 m³/s (at least 0.5): many ties for the Spearman ranks of kge_non_parametric.
    let round = |x: &[f64]| x.iter().map(|v| ((v * 2.0).round() / 2.0).max(0.5)).collect::<Vec<_>>();
    cases.push(Case::new("discharge1000_ties", round(&obs), round(&sim), &mut rng, 0.5));
    cases.push(Case::new("single", vec![2.5], vec![2.0], &mut rng, 0.1));
    let (obs, sim) = discharge(&mut rng, 10);
    cases.push(Case::new("mismatch", obs, sim[..9].to_vec(), &mut rng, 0.5));
    for case in &cases {
        assert!(!case.obs.contains(&0.0), "{}: SPOTPY would draw random σ for a zero observation", case.name);
    }
    cases
}

/// (key, our value, the SPOTPY call of `objectives.py` that must give it) for every function on `case`.
fn checks(case: &Case) -> Vec<(String, f64, Value)> {
    let (obs, sim) = (&case.obs[..], &case.sim[..]);
    let mut out = Vec::new();
    for name in SpotpyObjective::NAMES {
        let f = SpotpyObjective::from_name(name).unwrap();
        let call = json!({ "module": "objectivefunctions", "function": f.names().1 });
        out.push((format!("objectives::{name}"), f.evaluate(obs, sim), call));
    }
    let epsilon = 0.01_f64;
    let call = json!({ "module": "objectivefunctions", "function": "lognashsutcliffe", "epsilon": epsilon.to_bits() });
    out.push(("objectives::lognse(epsilon 0.01)".into(), lognse(obs, sim, epsilon), call));
    let parts = ["kge", "r", "alpha", "beta"];
    let (k, r, a, b) = kge_all(obs, sim);
    for (part, value) in [k, r, a, b].into_iter().enumerate() {
        let call = json!({ "module": "objectivefunctions", "function": "kge", "part": part });
        out.push((format!("objectives::kge_all.{}", parts[part]), value, call));
    }
    let (k, r, a, b) = kge_non_parametric_all(obs, sim);
    for (part, value) in [k, r, a, b].into_iter().enumerate() {
        if part == 1 && case.has_nan() {
            // With a NaN, SPOTPY's Spearman ranks come from Python's sort of NaN keys (an artefact); ours is NaN
            // by design (module doc of objectives.rs). Checked here instead of against SPOTPY.
            assert!(value.is_nan(), "{}: kge_non_parametric r with NaNs is {value}", case.name);
            continue;
        }
        let call = json!({ "module": "objectivefunctions", "function": "kge_non_parametric", "part": part });
        out.push((format!("objectives::kge_non_parametric_all.{}", parts[part]), value, call));
    }
    for name in Likelihood::NAMES {
        let ar1 = name.starts_with("ar1");
        let l = Likelihood::from_name(name, ar1.then_some(case.phi)).unwrap();
        let mut call = json!({ "module": "likelihoods", "function": l.names().1 });
        if ar1 {
            call["phi"] = json!(case.phi.to_bits());
        }
        if l.takes_measerror() {
            out.push((format!("likelihoods::{name}(default σ)"), l.evaluate(obs, sim, None), call.clone()));
            call["measerror"] = json!(bits(&case.measerror));
        }
        out.push((format!("likelihoods::{name}"), l.evaluate(obs, sim, Some(&case.measerror)), call));
    }
    let call = json!({ "module": "acf", "function": "AR_1_Coeff" });
    out.push(("likelihoods::ar1_coefficient".into(), ar1_coefficient(obs), call));
    let value = ar1_with_c(obs, sim, Some(&case.measerror), ar1_coefficient(obs));
    let call = json!({ "module": "likelihoods", "function": "LikelihoodAR1WithC", "measerror": bits(&case.measerror) });
    out.push(("likelihoods::ar1_with_c(phi = ar1_coefficient)".into(), value, call));
    out
}

#[test]
fn objectives_and_likelihoods_match_spotpy() {
    let cases = cases();
    let all: Vec<Vec<(String, f64, Value)>> = cases.iter().map(checks).collect();
    let request = json!({ "cases": cases.iter().zip(&all).map(|(case, checks)| json!({
        "name": case.name,
        "obs": bits(&case.obs),
        "sim": bits(&case.sim),
        "checks": checks.iter().map(|(key, _, call)| {
            let mut call = call.clone();
            call["key"] = json!(key);
            call
        }).collect::<Vec<_>>(),
    })).collect::<Vec<_>>() });
    let reply = python("objectives.py", &request);

    let mut failures = Vec::new();
    // Per function: (largest |rust − spotpy|, largest relative difference, values compared, values bit-equal,
    // finite values).
    let mut stats: Vec<(String, f64, f64, usize, usize, usize)> = Vec::new();
    for (case, checks) in cases.iter().zip(&all) {
        for (key, ours, _) in checks {
            let bits = reply[case.name][key].as_u64().unwrap_or_else(|| panic!("{}: no value for {key}", case.name));
            let theirs = f64::from_bits(bits);
            let diff = if ours.is_nan() && theirs.is_nan() || ours == &theirs { 0.0 } else { (ours - theirs).abs() };
            if diff.is_nan() || diff > 1e-9 * theirs.abs().max(1.0) {
                failures.push(format!("{}: {key}: rust {ours:e}, spotpy {theirs:e}", case.name));
            }
            let index = stats.iter().position(|s| &s.0 == key).unwrap_or_else(|| {
                stats.push((key.clone(), 0.0, 0.0, 0, 0, 0));
                stats.len() - 1
            });
            let s = &mut stats[index];
            s.1 = s.1.max(diff);
            s.2 = s.2.max(diff / theirs.abs().max(f64::MIN_POSITIVE));
            s.3 += 1;
            s.4 += usize::from(ours.to_bits() == bits || ours.is_nan() && theirs.is_nan());
            s.5 += usize::from(theirs.is_finite());
        }
    }
    println!("{:<62} {:>10} {:>10} {:>9} {:>6}", "function", "max |diff|", "max rel", "bit-equal", "finite");
    for (key, diff, rel, n, equal, finite) in &stats {
        println!("{key:<62} {diff:>10.2e} {rel:>10.2e} {equal:>5}/{n:<3} {finite:>6}");
    }
    assert!(failures.is_empty(), "{} values differ from SPOTPY:\n{}", failures.len(), failures.join("\n"));
}
