//! Opens a realistic calibration report in headless Chromium and checks that every plot and map
//! rendered, with no script error and no network request.
//!
//! Needs the Debian package `chromium` (`/usr/bin/chromium`, or the binary named by
//! `HYDROGRAD_CHROMIUM`); `tests/run_all.sh` installs it. Without it the tests fail: they never skip.
//! Set `HYDROGRAD_REPORT_OUT=<file.html>` to keep a copy of the realistic page.

#[path = "support/demo_case.rs"]
mod demo_case;

use demo_case::DemoCase;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use hydrograd::report::{CostPoint, Hydrograph, ParameterMap, PredictiveBand, Report, SearchSection, render};

const STEPS: usize = 1440;
/// 2021-09-01 01:00 UTC [unix ms].
const START_MS: i64 = 1_630_458_000_000;

fn chromium() -> PathBuf {
    let path = PathBuf::from(std::env::var("HYDROGRAD_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()));
    if !path.is_file() {
        panic!(
            "{} not found: the report browser test needs headless Chromium; run tests/run_all.sh \
             (it installs the Debian package `chromium`) or set HYDROGRAD_CHROMIUM",
            path.display()
        );
    }
    path
}

/// Runs headless Chromium on `page` with `args`, killing it after 120 s. Returns its stdout.
fn run_chromium(page: &Path, args: &[String]) -> String {
    let profile = tempfile::tempdir().unwrap();
    let mut command = Command::new(chromium());
    command.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
    ]);
    command.arg(format!("--user-data-dir={}", profile.path().display()));
    command.args(args).arg(format!("file://{}", page.display()));
    let out_path = profile.path().join("stdout");
    let err_path = profile.path().join("stderr");
    command.stdin(Stdio::null());
    command.stdout(std::fs::File::create(&out_path).unwrap());
    command.stderr(std::fs::File::create(&err_path).unwrap());
    let mut child = command.spawn().expect("cannot start chromium");
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within 120 s; stderr:\n{}", std::fs::read_to_string(&err_path).unwrap());
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let stdout = std::fs::read_to_string(&out_path).unwrap();
    assert!(status.success(), "chromium failed ({status}); stderr:\n{}", std::fs::read_to_string(&err_path).unwrap());
    stdout
}

/// The render check the page wrote on load: `{"plots":N,"maps":M,"errors":[...]}`.
fn render_check(page: &Path) -> serde_json::Value {
    let dom = run_chromium(page, &["--virtual-time-budget=5000".into(), "--dump-dom".into()]);
    let start =
        dom.find(r#"<pre id="render-check" hidden="">"#).unwrap_or_else(|| panic!("no render check in:\n{dom}"));
    let body = &dom[start..];
    let text = &body[body.find('>').unwrap() + 1..body.find("</pre>").unwrap()];
    assert!(!text.is_empty(), "the render check did not run (a script failed before load?)");
    let json = text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&amp;", "&");
    serde_json::from_str(&json).unwrap_or_else(|e| panic!("render check {json:?}: {e}"))
}

/// A storm hydrograph: base flow plus events with a fast rise and an exponential recession [m³/s].
fn storm(steps: usize, base: f32, events: &[(usize, f32)]) -> Vec<f32> {
    (0..steps)
        .map(|t| {
            let mut q = base;
            for &(at, peak) in events {
                if t >= at {
                    let dt = (t - at) as f32;
                    q += peak * (1.0 - (-dt / 3.0).exp()) * (-dt / 40.0).exp();
                }
            }
            q
        })
        .collect()
}

fn gauge(code: &str, base: f32, events: &[(usize, f32)], gaps: impl Fn(usize) -> bool) -> Hydrograph {
    let truth = storm(STEPS, base, events);
    let observed = truth.iter().enumerate().map(|(t, &q)| if gaps(t) { -99.0 } else { q }).collect();
    let before: Vec<f32> =
        truth.iter().enumerate().map(|(t, &q)| 0.6 * q + 0.4 * base + 0.3 * (t as f32 * 0.05).sin().abs()).collect();
    let after: Vec<f32> = truth.iter().map(|&q| 0.95 * q + 0.05 * base).collect();
    Hydrograph {
        code: code.into(),
        start_ms: START_MS,
        dt_s: 3600,
        observed,
        before,
        after,
        scores: vec![("NSE before".into(), 0.412), ("NSE after".into(), 0.874), ("KGE after".into(), 0.81)],
    }
}

/// A smooth field on `nrow × ncol` with NaN outside an irregular catchment-like shape.
fn field(name: &str, unit: &str, nrow: usize, ncol: usize, lo: f32, hi: f32) -> ParameterMap {
    let mut values = Vec::with_capacity(nrow * ncol);
    for r in 0..nrow {
        for c in 0..ncol {
            let (y, x) = (r as f32 / nrow as f32 - 0.5, c as f32 / ncol as f32 - 0.5);
            let angle = y.atan2(x);
            let radius = 0.42 + 0.06 * (3.0 * angle).sin();
            let v = lo + (hi - lo) * (0.5 + 0.35 * (6.0 * x).sin() * (4.0 * y).cos() + 0.15 * (x + y));
            values.push(if (x * x + y * y).sqrt() <= radius { v.clamp(lo, hi) } else { f32::NAN });
        }
    }
    ParameterMap { name: name.into(), unit: unit.into(), nrow, ncol, values }
}

/// A DREAM-like search stage on 4 parameters: 7 chains, 20 000 evaluations (thinned in the dotty plots),
/// the best 10 % behavioural, and a band around each gauge's calibrated discharge.
fn search_stage(hydrographs: &[Hydrograph]) -> SearchSection {
    let mut state = 42u64;
    let mut uniform = || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let names: Vec<String> = ["cp", "ct", "kexc", "llr"].map(String::from).to_vec();
    let (lo, hi) = ([50.0, 20.0, -5.0, 5.0], [900.0, 400.0, 2.0, 120.0]);
    let e = 20_000;
    let sets: Vec<[f64; 4]> = (0..e).map(|_| std::array::from_fn(|i| lo[i] + (hi[i] - lo[i]) * uniform())).collect();
    let costs: Vec<f64> = sets
        .iter()
        .map(|x| {
            0.1 + ((x[0] - 400.0) / 850.0).powi(2) + ((x[1] - 150.0 + 0.3 * x[0]) / 380.0).powi(2) + 0.01 * x[2].abs()
        })
        .collect();
    let mut sorted = costs.clone();
    sorted.sort_by(f64::total_cmp);
    let limit = sorted[e / 10];
    let behavioural: Vec<bool> = costs.iter().map(|&c| c < limit).collect();
    let posterior = (0..4).map(|i| (0..e).filter(|&k| behavioural[k]).map(|k| sets[k][i]).collect()).collect();
    let bands = hydrographs
        .iter()
        .map(|h| PredictiveBand {
            code: h.code.clone(),
            start_ms: h.start_ms,
            dt_s: h.dt_s,
            observed: h.observed.clone(),
            lower: h.after.iter().map(|q| 0.8 * q).collect(),
            median: h.after.clone(),
            upper: h.after.iter().map(|q| 1.25 * q).collect(),
        })
        .collect();
    SearchSection {
        stage: 3,
        method: "dream".into(),
        rule: "best 10 % of the runs".into(),
        names,
        values: (0..4).map(|i| sets.iter().map(|x| x[i]).collect()).collect(),
        costs,
        behavioural,
        posterior,
        chains: 7,
        r_hat: Some(vec![1.02, 1.08, 1.31, 1.15]),
        geweke: Some(vec![vec![0.4, -1.2, 2.3, 0.1]; 4]),
        correlation: vec![
            vec![1.0, -0.72, 0.05, 0.1],
            vec![-0.72, 1.0, 0.0, f64::NAN],
            vec![0.05, 0.0, 1.0, 0.3],
            vec![0.1, f64::NAN, 0.3, 1.0],
        ],
        band_sets: 100,
        bands,
        pareto: None,
    }
}

fn realistic_report() -> Report {
    let hydrographs = vec![
        gauge("V3524010", 4.0, &[(100, 60.0), (520, 140.0), (900, 35.0), (1210, 90.0)], |_| false),
        gauge("V3515010", 1.5, &[(140, 20.0), (610, 45.0), (1300, 12.0)], |t| (300..360).contains(&t) || t >= 1400),
        gauge("V3517<&>010", 0.8, &[(90, 8.0), (700, 15.0)], |t| t % 97 == 0 || (1000..1003).contains(&t)),
    ];
    let mut cost_curve: Vec<CostPoint> = (0..40)
        .map(|i| CostPoint { stage: 0, iteration: i, cost: 0.35 + 0.6 * (-(i as f64) / 8.0).exp(), validation: None })
        .collect();
    cost_curve.extend((0..60).map(|i| CostPoint {
        stage: 1,
        iteration: i,
        cost: 0.2 + 0.15 * (-(i as f64) / 12.0).exp(),
        validation: Some(0.26 + 0.12 * (-(i as f64) / 15.0).exp()),
    }));
    let maps = vec![
        field("cp", "mm", 28, 28, 50.0, 900.0),
        field("ct", "mm", 28, 28, 20.0, 400.0),
        field("kexc", "mm/d", 28, 28, -5.0, 2.0),
        field("llr", "min", 28, 28, 5.0, 120.0),
        field("cp (France)", "mm", 1075, 1150, 10.0, 1500.0),
    ];
    Report {
        title: "Calibration of the Ardèche catchments".into(),
        summary: vec![
            ("config".into(), "/data/configs/ardeche <test>.toml".into()),
            ("structure".into(), "gr4-lr".into()),
            ("cells".into(), "612 active of 784".into()),
            ("steps".into(), format!("{STEPS} × 1 h, 2021-09-01 01:00 → 2021-10-31 00:00 UTC")),
            ("optimizers".into(), "stage 0: sbs (uniform) · stage 1: lbfgsb (distributed)".into()),
            ("final cost".into(), "0.2001".into()),
            ("timings".into(), "total 41.2 s, 1.3 ms per forward+adjoint".into()),
        ],
        searches: vec![search_stage(&hydrographs)],
        hydrographs,
        cost_curve,
        maps,
    }
}

#[test]
fn realistic_report_renders_in_chromium() {
    let report = realistic_report();
    let html = render(&report);
    assert!(!html.contains("http://") && !html.contains("https://"), "the page names a network URL");
    assert!(html.len() < 8_000_000, "page is {} bytes", html.len());
    // 3 hydrographs, the cost curve; the search stage's convergence, 4 dotty, 4 histograms, 3 bands
    assert_eq!(html.matches(r#"<svg class="plot"#).count(), 4 + 12);
    assert_eq!(html.matches(r#"<img class="map"#).count(), 5);

    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("report.html");
    std::fs::write(&page, &html).unwrap();
    if let Ok(keep) = std::env::var("HYDROGRAD_REPORT_OUT") {
        // For looking at the page: `HYDROGRAD_REPORT_OUT=/tmp/report.html cargo test --test report_browser`.
        std::fs::write(keep, &html).unwrap();
    }
    let check = render_check(&page);
    assert_eq!(check["errors"], serde_json::json!([]), "errors in the page: {check}");
    assert_eq!(check["plots"], 3 + 1 + 12, "{check}");
    assert_eq!(check["search"], 12, "{check}");
    assert_eq!(check["maps"], 5, "{check}");
}

/// The render check must notice a broken image and a script error, or the test above proves nothing.
#[test]
fn render_check_reports_failures() {
    let report = Report {
        title: "broken".into(),
        cost_curve: vec![CostPoint { stage: 0, iteration: 0, cost: 1.0, validation: None }],
        maps: vec![field("cp", "mm", 8, 8, 0.0, 1.0), field("ct", "mm", 8, 8, 0.0, 1.0)],
        ..Report::default()
    };
    let html = render(&report);
    let at = html.find("base64,").unwrap() + "base64,".len();
    let broken = format!("{}AAAA{}", &html[..at], &html[at + 40..]).replacen(
        "</main>",
        "</main><script>undefinedFunction();</script><script>console.error('boom');</script>",
        1,
    );
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("broken.html");
    std::fs::write(&page, broken).unwrap();
    let check = render_check(&page);
    assert_eq!(check["plots"], 1, "{check}");
    assert_eq!(check["maps"], 1, "{check}");
    let errors: Vec<String> =
        check["errors"].as_array().unwrap().iter().map(|e| e.as_str().unwrap().to_string()).collect();
    assert!(errors.iter().any(|e| e.contains("undefinedFunction")), "{errors:?}");
    assert!(errors.iter().any(|e| e.contains("console.error: boom")), "{errors:?}");
    assert!(errors.iter().any(|e| e.contains("map-0")), "{errors:?}");
}

/// The report that `hydrograd train` writes for the demo calibration renders: two hydrographs, the cost
/// curve and the five parameter maps.
#[test]
fn train_report_of_the_demo_renders_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let configs = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs");
    let text = std::fs::read_to_string(configs.join("demo.toml"))
        .unwrap()
        .replace("\"demo/", &format!("\"{}/demo/", configs.display()))
        .replace("termination_crit = { maxiter = 30 }", "termination_crit = { maxiter = 5 }");
    let config = dir.path().join("demo.toml");
    std::fs::write(&config, text).unwrap();
    let out = dir.path().join("out");
    let status = Command::new(env!("CARGO_BIN_EXE_hydrograd"))
        .args(["train", config.to_str().unwrap(), "--out", out.to_str().unwrap()])
        .env("HYDROGRAD_CACHE_DIR", dir.path().join("cache"))
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let page = out.join("report.html");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(!html.contains("http://") && !html.contains("https://"), "the page names a network URL");
    let check = render_check(&page);
    assert_eq!(check["errors"], serde_json::json!([]), "errors in the page: {check}");
    assert_eq!(check["plots"], 2 + 1, "{check}");
    assert_eq!(check["search"], 0, "{check}");
    assert_eq!(check["maps"], 5, "{check}");
}

/// A demo calibration by SCE-UA then DREAM: each search stage renders its section (convergence, a dotty
/// plot and a histogram per parameter, a predictive band per gauge) without errors.
#[test]
fn search_report_of_the_demo_renders_in_chromium() {
    let stages = r#"
[[train.stage]]
mapping = "uniform"
optimizer = "sceua"
[train.stage.optimize_options]
max_evaluations = 400
random_state = 3
ngs = 4

[[train.stage]]
mapping = "uniform"
optimizer = "dream"
[train.stage.optimize_options]
max_evaluations = 1400
random_state = 5
"#;
    let case = DemoCase::new(stages);
    case.train("out", &[], "cache");
    let page = case.path("out/report.html");
    let html = std::fs::read_to_string(&page).unwrap();
    if let Ok(keep) = std::env::var("HYDROGRAD_SEARCH_REPORT_OUT") {
        std::fs::write(keep, &html).unwrap();
    }
    for stage in [1, 2] {
        assert!(html.contains(&format!(r#"id="search-stage-{stage}""#)), "no section for stage {stage}");
    }
    assert!(html.contains("best 10 % of the runs") && html.contains("states of the second half of each chain"));
    let check = render_check(&page);
    assert_eq!(check["errors"], serde_json::json!([]), "errors in the page: {check}");
    // per stage: convergence, 4 dotty plots, 4 histograms, 2 bands
    assert_eq!(check["search"], 2 * 11, "{check}");
    assert_eq!(check["plots"], 2 + 1 + 2 * 11, "{check}");
}

/// A demo calibration by NSGA-II on −NSE and |PBIAS|: the stage's section adds its Pareto front (a table
/// and one panel for the pair of objectives) and renders without errors.
#[test]
fn pareto_report_of_the_demo_renders_in_chromium() {
    let stages = r#"
[[train.stage]]
mapping = "uniform"
optimizer = "nsgaii"
[train.stage.optimize_options]
max_evaluations = 400
random_state = 2
n_pop = 20
objectives = ["nse", "pbias"]
[train.stage.cost_options]
gauge = "all"
"#;
    let case = DemoCase::new(stages);
    case.train("out", &[], "cache");
    let page = case.path("out/report.html");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains(r#"id="pareto-1""#) && html.contains(r#"id="search-1-pareto-0""#), "no Pareto section");
    assert!(html.contains("passed on (compromise)") && html.contains("<th>best pbias</th>"));
    let check = render_check(&page);
    assert_eq!(check["errors"], serde_json::json!([]), "errors in the page: {check}");
    // convergence, the front's panel, 4 dotty plots, 4 histograms, 2 bands
    assert_eq!(check["search"], 12, "{check}");
    assert_eq!(check["plots"], 2 + 1 + 12, "{check}");
}
