//! The hybrid structures against smash 1.3 on Lez, with the same non-zero network weights in both tools:
//! gr4_mlp (golden cases `lez_mlp`, hidden_neuron 16, and `lez_mlp2`, [12, 6]), gr4_ode (`lez_ode`) and
//! gr4_ude (`lez_ude`, [12, 6]). Discharge and final states of the forward run, the gradient of the
//! default cost with respect to every cell's parameters and every network weight against smash's adjoint,
//! and weight gradients against finite differences in f64.

mod common;

use common::{Golden, case};
use hydrograd::calibration::control::{ControlSpace, ControlTfm, Domain, Mapping, Selection};
use hydrograd::calibration::cost::GaugeCost;
use hydrograd::config::{Config, Precision};
use hydrograd::cost::RawCostOptions;
use hydrograd::model::{
    Fields, Inputs, forward_cost, gauge_cells, gradient, initial_fields, load_inputs, simulate_batch,
};
use hydrograd_models::adjoint::AdjointOptions;

const CASES: [&str; 4] = ["lez_mlp", "lez_mlp2", "lez_ode", "lez_ude"];

fn load(name: &str, precision: Precision) -> (Config, Inputs, Golden, Fields, Fields, tempfile::TempDir) {
    let mut config = Config::from_file(&case(name).join("config.toml")).unwrap();
    let cache = tempfile::tempdir().unwrap();
    config.cache_directory = cache.path().to_path_buf();
    config.precision = precision;
    let inputs = load_inputs(&config).unwrap();
    let golden = Golden::load(name, "hybrid.safetensors");
    let (mut parameters, states) = initial_fields(&config, &inputs).unwrap();
    if let Some(shape) = config.structure.hydrology.net() {
        parameters.weights = shape.tensors().iter().flat_map(|(t, _)| golden.get(t).to_vec()).collect();
        assert_eq!(parameters.weights.len(), shape.len());
    }
    (config, inputs, golden, parameters, states, cache)
}

fn relative_l2(ours: &[f64], reference: &[f64]) -> f64 {
    let diff: f64 = ours.iter().zip(reference).map(|(a, b)| (a - b).powi(2)).sum();
    (diff / reference.iter().map(|b| b * b).sum::<f64>()).sqrt()
}

/// The control space of smash's golden gradient: distributed cp, ct, kexc, llr (keep) and every tensor.
fn space(config: &Config, inputs: &Inputs, parameters: &Fields, states: &Fields) -> ControlSpace {
    let mut names: Vec<String> = ["cp", "ct", "kexc", "llr"].map(String::from).to_vec();
    if let Some(shape) = config.structure.hydrology.net() {
        names.extend(shape.tensors().into_iter().map(|(t, _)| t));
    }
    let s = config.structure;
    let selection = Selection { names: &names, ..Selection::default() };
    let infos = (&s.parameters()[..], &s.states()[..]);
    let domain = Domain::of(config, inputs);
    ControlSpace::new(Mapping::Distributed, ControlTfm::Keep, &selection, infos, (parameters, states), &domain).unwrap()
}

#[test]
fn hybrid_forward_equals_smash() {
    for name in CASES {
        let (config, inputs, golden, parameters, states, _cache) = load(name, Precision::F32);
        let (q, final_states) = simulate_batch(&config, &inputs, std::slice::from_ref(&parameters), &states).unwrap();
        let (nt, g) = (config.time.ntime, inputs.mesh.gauges.len());
        let smash = golden.get("qsim"); // [G, T]
        let mut worst: f64 = 0.0;
        for j in 0..g {
            let peak = (0..nt).map(|t| smash[j * nt + t].abs()).fold(0.0, f64::max);
            for t in 0..nt {
                let (a, b) = (q[t * g + j] as f64, smash[j * nt + t]);
                // relative to the value, with a floor of 1e-3 of the gauge's peak for near-zero flows
                worst = worst.max((a - b).abs() / b.abs().max(1e-3 * peak));
            }
        }
        println!("{name}: discharge at {g} gauges, largest relative error {worst:.2e}");
        assert!(worst <= 1e-4, "{name}: discharge differs from smash's by {worst:e} (relative)");
        let n = inputs.mesh.nac();
        for (k, st) in ["hi", "hp", "ht", "hlr"].iter().enumerate() {
            let smash = golden.get(&format!("final_{st}"));
            for (i, &cell) in inputs.mesh.routing_order.iter().enumerate() {
                let (a, b) = (final_states[k * n + i], smash[cell]);
                assert!((a - b).abs() <= 1e-4 * b.abs().max(1e-2), "{name}: final {st} at cell {cell}: {a} vs {b}");
            }
        }
    }
}

#[test]
fn hybrid_gradient_equals_smash() {
    for name in CASES {
        let (config, inputs, golden, parameters, states, _cache) = load(name, Precision::F32);
        let space = space(&config, &inputs, &parameters, &states);
        assert_eq!(space.names().join(","), golden.meta("grad_names"), "{name}: control names");
        let cost = GaugeCost::new(&config, &inputs, &RawCostOptions::default(), "cost_options").unwrap();
        let cells = gauge_cells(&inputs.mesh);
        let g = gradient(&config, &inputs, &parameters, &states, &cells, &cost, &AdjointOptions::default()).unwrap();
        let j = golden.get("cost")[0];
        assert!((g.cost - j).abs() <= 1e-4 * j, "{name}: J {} vs smash {j}", g.cost);
        let x = space.first_guess(&parameters, &states);
        let ours = space.pull_back(&x, &g.parameters, &g.states);
        let smash = golden.get("grad");
        let nw = parameters.weights.len();
        let split = ours.len() - nw;
        let (all, cells_part) = (relative_l2(&ours, smash), relative_l2(&ours[..split], &smash[..split]));
        let weights_part = if nw > 0 { relative_l2(&ours[split..], &smash[split..]) } else { 0.0 };
        println!(
            "{name}: J {:.7} (smash {j:.7}); ∂J/∂x relative L2 error {all:.2e} (cell parameters {cells_part:.2e}, \
             {nw} weights {weights_part:.2e})",
            g.cost
        );
        assert!(all <= 1e-3 && weights_part <= 1e-3, "{name}: gradient differs from smash's");
    }
}

#[test]
fn hybrid_weight_gradient_equals_finite_differences_in_f64() {
    for name in ["lez_mlp2", "lez_ude"] {
        let (config, inputs, _, parameters, states, _cache) = load(name, Precision::F64);
        let cost = GaugeCost::new(&config, &inputs, &RawCostOptions::default(), "cost_options").unwrap();
        let cells = gauge_cells(&inputs.mesh);
        let g = gradient(&config, &inputs, &parameters, &states, &cells, &cost, &AdjointOptions::default()).unwrap();
        let scale = g.parameters.weights.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let j = |w: &[f64]| {
            let p = Fields { weights: w.to_vec(), ..parameters.clone() };
            forward_cost(&config, &inputs, &p, &states, &cells, &cost).unwrap().0
        };
        let w = &parameters.weights;
        // every 7th weight, and the biases of the output layer (the last 4)
        let picked: Vec<usize> = (0..w.len()).step_by(7).chain(w.len() - 4..w.len()).collect();
        for i in picked {
            let h = 1e-6;
            let (mut a, mut b) = (w.clone(), w.clone());
            a[i] += h;
            b[i] -= h;
            let fd = (j(&a) - j(&b)) / (2.0 * h);
            let adj = g.parameters.weights[i];
            assert!((adj - fd).abs() <= 1e-5 * scale, "{name}: weight {i}: adjoint {adj:e}, finite difference {fd:e}");
        }
    }
}
