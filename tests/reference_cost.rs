//! The cost against smash 1.3 on Cance (golden case `cance_cost` from `tests/reference/make_golden.py`):
//! gauge mean precipitation, `smash.evaluation` metrics, `smash.signatures` (continuous and per event, observed
//! and simulated), the event segmentation, and `J` of `forward_run` for a dozen `cost_options`, all evaluated
//! by hydrograd on smash's own discharge and within 1e-5 relative of smash.

mod common;

use common::{Golden, case};
use hydrograd::config::Config;
use hydrograd::cost::segmentation::{event_mask, events};
use hydrograd::cost::{
    CostOptions, CostSetup, Metric, ObservationCost, RawCostOptions, Signature, downstream_gauges, gauge_mean_forcing,
};
use hydrograd::model::{Inputs, load_inputs};

const CASE: &str = "cance_cost";

struct Reference {
    golden: Golden,
    config: Config,
    inputs: Inputs,
    nt: usize,
    ng: usize,
}

impl Reference {
    fn load() -> Reference {
        let golden = Golden::load(CASE, "cost.safetensors");
        let mut config = Config::from_file(&case(CASE).join("config.toml")).unwrap();
        let cache = tempfile::tempdir().unwrap();
        config.cache_directory = cache.path().to_path_buf();
        let inputs = load_inputs(&config).unwrap();
        let (ng, nt) = (golden.shape("qsim")[0], golden.shape("qsim")[1]);
        assert_eq!((nt, ng), (config.time.ntime, inputs.mesh.gauges.len()));
        let codes: Vec<&str> = inputs.mesh.gauges.iter().map(|g| g.code.as_str()).collect();
        assert_eq!(codes.join(","), golden.meta("code"));
        Reference { golden, config, inputs, nt, ng }
    }

    /// Golden `[G, T]` tensor as `[T, G]` f32.
    fn time_major(&self, name: &str) -> Vec<f32> {
        let v = self.golden.get(name);
        (0..self.nt * self.ng).map(|k| v[(k % self.ng) * self.nt + k / self.ng] as f32).collect()
    }

    /// Row `g` of a golden `[G, T]` tensor.
    fn series(&self, name: &str, g: usize) -> Vec<f32> {
        self.golden.get(name)[g * self.nt..(g + 1) * self.nt].iter().map(|&v| v as f32).collect()
    }

    /// smash.signatures' precipitation: `mean_prcp · 0.001 · area_dln / dt` in f32 (numpy's order).
    fn prcp_cvt(&self, g: usize) -> Vec<f32> {
        let area = self.golden.get("area_dln")[g] as f32;
        let dt = self.config.time.dt as f32;
        self.series("mean_prcp", g).iter().map(|&p| p * 0.001 * area / dt).collect()
    }
}

/// `ours` within 1e-5 relative of smash's `reference`; smash's NaN (its −99 in signatures) must match −99 or NaN.
fn assert_close(ours: f64, reference: f64, what: &str) {
    if reference.is_nan() {
        assert!(ours.is_nan() || ours == -99.0, "{what}: {ours} where smash has none");
        return;
    }
    let tol = 1e-5 * reference.abs().max(1e-6);
    assert!(
        (ours - reference).abs() <= tol,
        "{what}: {ours} vs smash {reference} (|Δ| = {:e})",
        (ours - reference).abs()
    );
}

#[test]
fn gauge_mean_precipitation_equals_smash() {
    let r = Reference::load();
    let ours = gauge_mean_forcing(&r.inputs.mesh, &r.inputs.forcing.prcp, r.nt);
    let smash = r.time_major("mean_prcp");
    for (k, (a, b)) in ours.iter().zip(&smash).enumerate() {
        assert_close(*a as f64, *b as f64, &format!("mean_prcp step {} gauge {}", k / r.ng, k % r.ng));
    }
    for (g, gauge) in r.inputs.mesh.gauges.iter().enumerate() {
        assert_eq!(gauge.area_dln as f32, r.golden.get("area_dln")[g] as f32, "area_dln of {}", gauge.code);
    }
}

#[test]
fn metrics_equal_smash_evaluation() {
    let r = Reference::load();
    let evaluation = r.golden.get("evaluation");
    for g in 0..r.ng {
        let (obs, sim) = (r.series("qobs", g), r.series("qsim", g));
        for (m, metric) in Metric::ALL.iter().enumerate() {
            let reference = evaluation[g * Metric::ALL.len() + m];
            assert_close(metric.value(&obs, &sim) as f64, reference, &format!("{} at gauge {g}", metric.name()));
        }
    }
}

#[test]
fn signatures_equal_smash_signatures() {
    let r = Reference::load();
    for (domain, q_name) in [("obs", "qobs"), ("sim", "qsim")] {
        let cont = r.golden.get(&format!("cont_{domain}"));
        for g in 0..r.ng {
            let (p, q) = (r.prcp_cvt(g), r.series(q_name, g));
            for (k, s) in Signature::CONTINUOUS.iter().enumerate() {
                assert_close(s.value(&p, &q) as f64, cont[g * 8 + k], &format!("{s:?} {domain} gauge {g}"));
            }
        }
        let values = r.golden.get(&format!("event_{domain}"));
        let (gauge, start, end) = (r.golden.get("event_gauge"), r.golden.get("event_start"), r.golden.get("event_end"));
        assert!(!gauge.is_empty(), "smash found no event");
        for e in 0..gauge.len() {
            let (g, a, b) = (gauge[e] as usize, start[e] as usize, end[e] as usize);
            let (p, q) = (r.prcp_cvt(g), r.series(q_name, g));
            for (k, s) in Signature::EVENT.iter().enumerate() {
                let ours = s.value(&p[a..=b], &q[a..=b]) as f64;
                assert_close(
                    ours,
                    values[e * 8 + k],
                    &format!("{s:?} {domain} event {e} (gauge {g}, steps {a}..={b})"),
                );
            }
        }
    }
}

#[test]
fn event_segmentation_equals_smash() {
    let r = Reference::load();
    let mask = r.golden.get("mask_event");
    let (gauge, start, end) = (r.golden.get("event_gauge"), r.golden.get("event_start"), r.golden.get("event_end"));
    for g in 0..r.ng {
        let ev = events(&r.series("mean_prcp", g), &r.series("qobs", g), &Default::default(), r.config.time.dt as f64);
        let ours: Vec<f64> = event_mask(&ev, r.nt).into_iter().map(f64::from).collect();
        assert_eq!(ours, mask[g * r.nt..(g + 1) * r.nt], "mask_event of gauge {g}: ours {ev:?}");
        // smash.signatures segments on precipitation in m³/s: the same events
        let ev_cvt = events(&r.prcp_cvt(g), &r.series("qobs", g), &Default::default(), r.config.time.dt as f64);
        let theirs: Vec<(usize, usize)> = (0..gauge.len())
            .filter(|&e| gauge[e] as usize == g)
            .map(|e| (start[e] as usize, end[e] as usize))
            .collect();
        assert_eq!(ev_cvt.iter().map(|e| (e.start, e.end)).collect::<Vec<_>>(), theirs, "events of gauge {g}");
    }
}

#[test]
fn cost_equals_smash_forward_run_cost() {
    let r = Reference::load();
    let codes: Vec<String> = r.inputs.mesh.gauges.iter().map(|g| g.code.clone()).collect();
    let downstream = downstream_gauges(&r.inputs.mesh);
    let (qobs, qsim, mean_prcp) = (r.time_major("qobs"), r.time_major("qsim"), r.time_major("mean_prcp"));
    let area: Vec<f64> = r.golden.get("area_dln").to_vec();
    let setup = CostSetup {
        codes: &codes,
        qobs: &qobs,
        mean_prcp: &mean_prcp,
        gauge_area: &area,
        downstream: &downstream,
        time: &r.config.time,
    };
    let all: Vec<serde_json::Value> = serde_json::from_str(r.golden.meta("cost_options")).unwrap();
    let costs = r.golden.get("cost");
    assert_eq!(all.len(), costs.len());
    for (options, &reference) in all.iter().zip(costs) {
        let raw: RawCostOptions = serde_json::from_value(options.clone()).unwrap_or_else(|e| panic!("{options}: {e}"));
        let validated = CostOptions::from_raw(&raw, &r.config.time, &codes, &downstream).unwrap();
        let jobs = ObservationCost::<f32>::new(&validated, &setup).evaluate(&qsim, None).jobs;
        assert_close(jobs as f64, reference, &format!("J for {options}"));
    }
}
