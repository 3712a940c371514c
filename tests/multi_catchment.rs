//! Multi-catchment pieces on smash's Cance dataset with two separate gauged catchments (V3515010, 107 km²,
//! and V3517010, 25.3 km², neither upstream of the other): the mesh splits into two components; each
//! component simulated alone gives the discharge of the whole mesh at its gauge bit for bit; and the cost and
//! field gradient of the whole mesh are the sums of the components' (each with its gauge's weight), to f64
//! round-off. These are what MPI ranks compute for their share of the catchments.

mod common;

use hydrograd::calibration::cost::GaugeCost;
use hydrograd::config::{Config, Precision};
use hydrograd::cost::RawCostOptions;
use hydrograd::mesh::components::{assign, components};
use hydrograd::model::{Fields, gauge_cells, gradient, initial_fields, load_inputs, simulate_batch};
use hydrograd_models::adjoint::AdjointOptions;
use std::fs;

/// Cance over 30 days with the two upstream gauges only, in `dir`.
fn config(dir: &std::path::Path) -> Config {
    let golden = fs::read_to_string(common::case("cance").join("config.toml")).unwrap();
    let attributes = golden.lines().find_map(|l| l.strip_prefix("gauge_attributes = ")).unwrap().trim_matches('"');
    let text = fs::read_to_string(attributes).unwrap();
    let kept: Vec<&str> = text.lines().filter(|l| !l.starts_with("V3524010")).collect();
    assert_eq!(kept.len(), 3, "the header and two gauges");
    let csv = dir.join("gauges.csv");
    fs::write(&csv, kept.join("\n") + "\n").unwrap();
    let text = golden
        .replace("end_time = \"2014-11-14 00:00\"", "end_time = \"2014-10-15 00:00\"")
        .replace(&format!("gauge_attributes = \"{attributes}\""), &format!("gauge_attributes = \"{}\"", csv.display()));
    let path = dir.join("two.toml");
    fs::write(&path, text + "\n[cost_options]\ngauge = \"all\"\njobs_cmpt = [\"nse\", \"kge\"]\n").unwrap();
    let mut config = Config::from_file(&path).unwrap();
    config.cache_directory = dir.join("cache");
    config.precision = Precision::F64;
    config
}

fn cost(config: &Config, inputs: &hydrograd::model::Inputs, toml: &str) -> GaugeCost {
    let raw: RawCostOptions = toml::from_str(toml).unwrap();
    GaugeCost::new(config, inputs, &raw, "cost_options").unwrap()
}

#[test]
fn separate_catchments_simulate_and_differentiate_alone_as_in_the_whole_mesh() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let inputs = load_inputs(&config).unwrap();
    let codes: Vec<&str> = inputs.mesh.gauges.iter().map(|g| g.code.as_str()).collect();
    assert_eq!(codes, ["V3515010", "V3517010"]);
    let parts = components(&inputs.mesh);
    assert_eq!(parts.len(), 2, "two separate catchments");
    assert_eq!(parts.iter().map(|p| p.cells.len()).sum::<usize>(), inputs.mesh.nac());
    let mut gauges: Vec<usize> = parts.iter().flat_map(|p| p.gauges.clone()).collect();
    gauges.sort_unstable();
    assert_eq!(gauges, [0, 1], "each gauge in one catchment");
    assert_eq!(assign(&parts, 2).iter().filter(|s| s.len() == 1).count(), 2, "one catchment per rank");

    let (mut parameters, states) = initial_fields(&config, &inputs).unwrap();
    // not the defaults: distinct values per cell
    for (k, v) in parameters.get_mut("cp").unwrap().iter_mut().enumerate() {
        *v = 150.0 + (k % 17) as f64 * 10.0;
    }
    let nt = config.time.ntime;
    let (whole, _) = simulate_batch(&config, &inputs, std::slice::from_ref(&parameters), &states).unwrap();
    let full_cost = cost(&config, &inputs, "gauge = \"all\"\njobs_cmpt = [\"nse\", \"kge\"]");
    let options = AdjointOptions::default();
    let g = gradient(&config, &inputs, &parameters, &states, &gauge_cells(&inputs.mesh), &full_cost, &options).unwrap();

    let zero =
        |f: &Fields| Fields { values: vec![0.0; f.values.len()], weights: vec![0.0; f.weights.len()], ..f.clone() };
    let (mut summed_p, mut summed_s, mut summed_cost) = (zero(&g.parameters), zero(&g.states), 0.0);
    for part in &parts {
        let sub = inputs.restricted(&part.cells, &part.gauges);
        let (p, s) = (parameters.restricted(&part.cells), states.restricted(&part.cells));
        let (q, _) = simulate_batch(&config, &sub, std::slice::from_ref(&p), &s).unwrap();
        let gauge = part.gauges[0];
        let expected: Vec<u32> = (0..nt).map(|t| whole[t * 2 + gauge].to_bits()).collect();
        assert_eq!(q.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), expected, "{}: discharge", codes[gauge]);
        // the gauge's share of the mean over both gauges
        let own = cost(
            &config,
            &sub,
            &format!("gauge = [\"{}\"]\nwgauge = [0.5]\njobs_cmpt = [\"nse\", \"kge\"]", codes[gauge]),
        );
        let gp = gradient(&config, &sub, &p, &s, &gauge_cells(&sub.mesh), &own, &options).unwrap();
        summed_cost += gp.cost;
        summed_p.add_restricted(&gp.parameters, &part.cells);
        summed_s.add_restricted(&gp.states, &part.cells);
    }
    assert!((summed_cost - g.cost).abs() <= 1e-12 * g.cost.abs(), "cost {summed_cost} vs {}", g.cost);
    let scale = g.parameters.values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    assert!(scale > 0.0);
    for (a, b) in summed_p.values.iter().zip(&g.parameters.values).chain(summed_s.values.iter().zip(&g.states.values)) {
        assert!((a - b).abs() <= 1e-12 * scale, "gradient {a} vs {b}");
    }
}
