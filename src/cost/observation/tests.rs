//! Observation cost: composition of the terms, options, and gradients against finite differences.

use super::*;
use crate::cost::options::RawCostOptions;
use crate::time::parse_datetime;

const NT: usize = 400;
const NG: usize = 3;
/// Segmentation that finds both floods of [`data`] (the default 0.995 keeps only the larger).
const EVENTS: &str = "event_seg = { peak_quant = 0.95 }";

fn lcg(seed: u64) -> impl FnMut() -> f64 {
    let mut s = seed;
    move || {
        s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (s >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Three gauges with two rain-driven floods each, gaps in qobs, and a simulation close to them.
struct Data {
    codes: Vec<String>,
    qobs: Vec<f32>,
    prcp: Vec<f32>,
    qsim: Vec<f64>,
    area: Vec<f64>,
    time: TimeAxis,
}

fn data(seed: u64) -> Data {
    let mut u = lcg(seed);
    let (mut qobs, mut prcp, mut qsim) = (vec![0f32; NT * NG], vec![0f32; NT * NG], vec![0f64; NT * NG]);
    for g in 0..NG {
        let scale = 1.0 + g as f64;
        for t in 0..NT {
            let rain = |t0: f64| if (t as f64 - t0).abs() < 5.0 { 4.0 } else { 0.0 };
            let p = rain(80.0) + rain(250.0) + 0.05 * u();
            let flood = |t0: f64, h: f64| h * (-((t as f64 - t0) / 8.0).powi(2)).exp();
            let q = scale * (1.0 + flood(92.0, 20.0) + flood(262.0, 12.0)) + 0.1 * u();
            prcp[t * NG + g] = if t % 97 == 13 { -99.0 } else { p as f32 };
            qobs[t * NG + g] = if t % 131 == 5 || (g == 2 && (150..170).contains(&t)) { -99.0 } else { q as f32 };
            qsim[t * NG + g] = q * (0.8 + 0.3 * u()) + 0.2 * u();
        }
    }
    Data {
        codes: (0..NG).map(|g| format!("G{g}")).collect(),
        qobs,
        prcp,
        qsim,
        area: vec![3.0e8, 1.0e8, 5.0e7],
        time: TimeAxis { start: parse_datetime("2020-01-01 00:00").unwrap(), dt: 3600, ntime: NT },
    }
}

fn cost(d: &Data, toml_text: &str) -> ObservationCost<f64> {
    let raw: RawCostOptions = toml::from_str(toml_text).unwrap();
    let downstream = [true, false, false];
    let options = CostOptions::from_raw(&raw, &d.time, &d.codes, &downstream).unwrap();
    let setup = CostSetup {
        codes: &d.codes,
        qobs: &d.qobs,
        mean_prcp: &d.prcp,
        gauge_area: &d.area,
        downstream: &downstream,
        time: &d.time,
    };
    ObservationCost::new(&options, &setup)
}

fn column(v: &[f64], g: usize, from: usize) -> Vec<f64> {
    (from..NT).map(|t| v[t * NG + g]).collect()
}

#[test]
fn default_cost_is_one_minus_nse_at_the_downstream_gauge() {
    let d = data(1);
    let ev = cost(&d, "").evaluate(&d.qsim, None);
    let qo: Vec<f64> = (0..NT).map(|t| d.qobs[t * NG] as f64).collect();
    let expected = 1.0 - Metric::Nse.value(&qo, &column(&d.qsim, 0, 0));
    assert!((ev.jobs - expected).abs() < 1e-14);
    assert_eq!(ev.components.len(), NG);
    assert_eq!(ev.components[1], 0.0);
}

#[test]
fn weights_warmup_and_transforms_compose_as_smash() {
    let d = data(2);
    let c = cost(
        &d,
        r#"
        jobs_cmpt = ["nse", "kge", "rmse"]
        wjobs_cmpt = [0.5, 0.3, 0.2]
        jobs_cmpt_tfm = ["sqrt", "keep", "inv"]
        end_warmup = "2020-01-03 12:00"
        gauge = ["G2", "G0"]
        wgauge = [0.6, 0.4]
        "#,
    );
    let ev = c.evaluate(&d.qsim, None);
    let w0 = 60; // 2.5 days of hourly steps
    let mut jobs = 0.0;
    for (g, wg) in [(0usize, 0.6), (2, 0.4)] {
        // transforms accumulate: kge sees √(q + ε); rmse sees 1/(√(q + ε) + ε')
        let mut qo: Vec<f64> = (w0..NT).map(|t| d.qobs[t * NG + g] as f64).collect();
        let mut qs: Vec<f64> =
            column(&d.qsim, g, w0).iter().zip(&qo).map(|(&s, &o)| if o < 0.0 { -99.0 } else { s }).collect();
        let eps = |qo: &[f64]| {
            let v: Vec<f64> = qo.iter().copied().filter(|&q| q >= 0.0).collect();
            0.01 * v.iter().sum::<f64>() / v.len() as f64
        };
        let apply = |qo: &mut Vec<f64>, qs: &mut Vec<f64>, f: &dyn Fn(f64, f64) -> f64| {
            let e = eps(qo);
            for q in qo.iter_mut().chain(qs.iter_mut()) {
                if *q >= 0.0 {
                    *q = f(*q, e);
                }
            }
        };
        apply(&mut qo, &mut qs, &|q, e| (q + e).sqrt());
        let j1 = 1.0 - Metric::Nse.value(&qo, &qs);
        let j2 = 1.0 - Metric::Kge.value(&qo, &qs);
        apply(&mut qo, &mut qs, &|q, e| 1.0 / (q + e));
        let j3 = Metric::Rmse.value(&qo, &qs);
        // weights go to the selected gauges in mesh order: G0 gets 0.6, G2 gets 0.4
        jobs += wg * 0.5 * j1 + wg * 0.3 * j2 + wg * 0.2 * j3;
        assert!((ev.components[g * 3] - j1).abs() < 1e-12);
        assert!((ev.components[g * 3 + 2] - j3).abs() < 1e-12);
    }
    assert!((ev.jobs - jobs).abs() < 1e-12, "{} vs {jobs}", ev.jobs);
}

#[test]
fn quantile_gauge_weights_take_the_quantile_over_gauges() {
    let d = data(3);
    let all = cost(&d, r#"gauge = "all""#).evaluate(&d.qsim, None);
    let mut per_gauge = all.gauge_jobs.clone();
    per_gauge.sort_by(f64::total_cmp);
    let median = cost(&d, "gauge = \"all\"\nwgauge = \"median\"").evaluate(&d.qsim, None);
    assert!((median.jobs - per_gauge[1]).abs() < 1e-14);
    let upper = cost(&d, "gauge = \"all\"\nwgauge = \"uquartile\"").evaluate(&d.qsim, None);
    assert!((upper.jobs - (per_gauge[1] + 0.5 * (per_gauge[2] - per_gauge[1]))).abs() < 1e-14);
    assert!((all.jobs - per_gauge.iter().sum::<f64>() / 3.0).abs() < 1e-14);
}

#[test]
fn event_terms_average_over_events_of_the_window() {
    let d = data(4);
    let c = cost(&d, &format!("jobs_cmpt = \"Epf\"\n{EVENTS}"));
    let g = &c.gauges[0];
    assert_eq!(g.events.len(), 2, "two floods: {:?}", g.events);
    let qo = &g.qo;
    let qs = column(&d.qsim, 0, 0);
    let mut expected = 0.0;
    for &(a, b) in g.events.iter().flatten() {
        let max = |v: &[f64]| v.iter().copied().fold(f64::MIN, f64::max);
        expected += (max(&qs[a..=b]) / max(&qo[a..=b]) - 1.0).powi(2) / 2.0;
    }
    assert!((c.evaluate(&d.qsim, None).jobs - expected).abs() < 1e-12);
    // a warm-up ending with the first flood leaves only the second one, shifted into the window
    let (first_end, second) = (g.events[0].unwrap().1, g.events[1].unwrap());
    let date = d.time.start + chrono::TimeDelta::hours(first_end as i64 + 1);
    let late = cost(&d, &format!("jobs_cmpt = \"Epf\"\nend_warmup = \"{}\"\n{EVENTS}", date.format("%Y-%m-%d %H:%M")));
    let shift = first_end + 1;
    assert_eq!(late.gauges[0].events, vec![None, Some((second.0 - shift, second.1 - shift))]);
}

fn check_gradient(toml_text: &str, seed: u64) {
    let d = data(seed);
    let c = cost(&d, toml_text);
    let mut grad = vec![0.0; NT * NG];
    let jobs = c.evaluate(&d.qsim, Some(&mut grad)).jobs;
    assert!(jobs.is_finite(), "{toml_text}: J = {jobs}");
    let mut u = lcg(seed + 100);
    let mut checked = 0;
    for _ in 0..60 {
        let i = (u() * (NT * NG) as f64) as usize;
        let h = 1e-6 * d.qsim[i].abs().max(1.0);
        let mut q = d.qsim.clone();
        q[i] += h;
        let up = c.evaluate(&q, None).jobs;
        q[i] -= 2.0 * h;
        let down = c.evaluate(&q, None).jobs;
        let fd = (up - down) / (2.0 * h);
        assert!(
            (fd - grad[i]).abs() <= 1e-6 * (1.0 + fd.abs()),
            "{toml_text}: step {} gauge {}: fd {fd} vs {}",
            i / NG,
            i % NG,
            grad[i]
        );
        checked += (grad[i] != 0.0) as usize;
    }
    assert!(checked > 0, "{toml_text}: every sampled gradient entry was zero");
}

#[test]
fn metric_gradients_match_finite_differences() {
    for name in ["nse", "nnse", "kge", "mae", "mape", "mse", "rmse", "lgrm"] {
        check_gradient(&format!("jobs_cmpt = \"{name}\"\ngauge = \"all\""), 5);
    }
}

#[test]
fn transform_and_weight_gradients_match_finite_differences() {
    check_gradient(
        "jobs_cmpt = [\"nse\", \"kge\", \"mse\"]\njobs_cmpt_tfm = [\"sqrt\", \"inv\", \"sqrt\"]\nwjobs_cmpt = [1, 2, 0.5]\ngauge = \"all\"\nend_warmup = \"2020-01-02 00:00\"",
        6,
    );
    check_gradient("jobs_cmpt = [\"nse\", \"lgrm\"]\ngauge = \"all\"\nwgauge = \"lquartile\"", 7);
    check_gradient("jobs_cmpt = \"kge\"\ngauge = [\"G1\", \"G2\"]\nwgauge = \"median\"", 8);
}

#[test]
fn signature_gradients_match_finite_differences() {
    for name in ["Crc", "Crchf", "Crclf", "Crch2r", "Cfp2", "Cfp10", "Cfp50", "Cfp90"] {
        check_gradient(&format!("jobs_cmpt = [\"nse\", \"{name}\"]\ngauge = \"all\""), 9);
    }
    for name in ["Eff", "Ebf", "Erc", "Erchf", "Erclf", "Erch2r", "Epf"] {
        check_gradient(&format!("jobs_cmpt = [\"{name}\", \"mae\"]\ngauge = \"all\"\n{EVENTS}"), 10);
    }
}

#[test]
fn lag_time_has_a_value_and_no_gradient() {
    let d = data(11);
    let c = cost(&d, &format!("jobs_cmpt = \"Elt\"\ngauge = \"all\"\n{EVENTS}"));
    let mut grad = vec![1.0; NT * NG];
    let ev = c.evaluate(&d.qsim, Some(&mut grad));
    assert!(ev.jobs.is_finite());
    assert!(grad.iter().all(|&g| g == 0.0));
}

#[test]
fn f32_evaluation_follows_f64_closely() {
    let d = data(12);
    let raw: RawCostOptions =
        toml::from_str(&format!("jobs_cmpt = [\"nse\", \"Crc\", \"Erchf\"]\ngauge = \"all\"\n{EVENTS}")).unwrap();
    let downstream = [true, false, false];
    let options = CostOptions::from_raw(&raw, &d.time, &d.codes, &downstream).unwrap();
    let setup = CostSetup {
        codes: &d.codes,
        qobs: &d.qobs,
        mean_prcp: &d.prcp,
        gauge_area: &d.area,
        downstream: &downstream,
        time: &d.time,
    };
    let q32: Vec<f32> = d.qsim.iter().map(|&v| v as f32).collect();
    let j32 = ObservationCost::<f32>::new(&options, &setup).evaluate(&q32, None).jobs;
    let q64: Vec<f64> = q32.iter().map(|&v| v as f64).collect();
    let j64 = ObservationCost::<f64>::new(&options, &setup).evaluate(&q64, None).jobs;
    assert!(((j32 as f64) - j64).abs() < 1e-4 * j64.abs().max(1e-3), "{j32} vs {j64}");
}
