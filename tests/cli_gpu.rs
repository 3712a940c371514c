//! `--device wgpu` on every command of the embedded demo: `run`, `grad` and `train` give the CPU
//! engine's results (CI: on Mesa's lavapipe), also with a hybrid structure (gr4_mlp, its weights
//! trained) and in a derivative-free search stage (a batch of parameter sets in one launch), and a device
//! the build or the machine lacks is a clear error.
#![cfg(feature = "wgpu")]

#[path = "support/samples.rs"]
mod store;

use safetensors::SafeTensors;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const STAGES: &str = r#"
[[train.stage]]
mapping = "uniform"
optimizer = "sbs"
[train.stage.optimize_options]
termination_crit = { maxiter = 2 }

[[train.stage]]
mapping = "distributed"
optimizer = "lbfgsb"
[train.stage.optimize_options]
termination_crit = { maxiter = 5 }
"#;

/// Pretraining, then the network's initialisation and fine-tuning of weights and parameters together.
const HYBRID_STAGES: &str = r#"
[[train.stage]]
mapping = "uniform"
optimizer = "sbs"
[train.stage.optimize_options]
parameters = ["cp", "ct", "kexc", "llr"]
termination_crit = { maxiter = 1 }

[[train.stage]]
mapping = "uniform"
optimizer = "lbfgsb"
[train.stage.init]
weights = { initializer = "he_uniform", random_state = 23, scale = 0.1 }
[train.stage.optimize_options]
termination_crit = { maxiter = 4 }
"#;

/// A search stage whose proposals do not depend on the costs (Monte Carlo from the priors): one batch of
/// 96 parameter sets, evaluated by one engine call.
const SEARCH_STAGE: &str = r#"
[[train.stage]]
mapping = "uniform"
optimizer = "mc"
[train.stage.optimize_options]
max_evaluations = 96
random_state = 11
"#;

/// The demo configuration (absolute paths, the test's stages) in a fresh folder.
fn demo() -> tempfile::TempDir {
    demo_with("gr4", STAGES)
}

/// The demo with another hydrological module and other stages.
fn demo_with(module: &str, stages: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let configs = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs");
    let text = fs::read_to_string(configs.join("demo.toml")).unwrap();
    let text = text.split("\n# Calibration with").next().unwrap();
    let text = text.replace("\"demo/", &format!("\"{}/demo/", configs.display()));
    // a network of 6 hidden neurons for the hybrid structures
    let module = match module {
        "gr4" => "hydrological_module = \"gr4\"".to_string(),
        hybrid => format!("hydrological_module = \"{hybrid}\"\nhidden_neuron = 6 #"),
    };
    let text = text.replacen("hydrological_module = \"gr4\"", &module, 1);
    fs::write(dir.path().join("demo.toml"), format!("{text}\n{stages}")).unwrap();
    dir
}

fn hydrograd(dir: &Path, args: &[&str]) -> Output {
    hydrograd_cached(dir, args, "cache")
}

/// `hydrograd args` with the cache folder `dir/cache`.
fn hydrograd_cached(dir: &Path, args: &[&str], cache: &str) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_hydrograd"))
        .args(args)
        .current_dir(dir)
        .env("HYDROGRAD_CACHE_DIR", dir.join(cache))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "hydrograd panicked:\n{stderr}");
    out
}

fn ok(dir: &Path, args: &[&str]) {
    let out = hydrograd(dir, args);
    assert!(out.status.success(), "hydrograd {args:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
}

/// Every tensor of a safetensors file (f32 or f64) as f32, by name.
fn tensors(path: PathBuf) -> Vec<(String, Vec<f32>)> {
    let bytes = fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let mut t: Vec<_> = st
        .tensors()
        .into_iter()
        .map(|(n, v)| {
            let values = match v.dtype() {
                safetensors::Dtype::F64 => {
                    v.data().chunks_exact(8).map(|b| f64::from_le_bytes(b.try_into().unwrap()) as f32).collect()
                }
                _ => v.data().chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect(),
            };
            (n, values)
        })
        .collect();
    t.sort_by(|a, b| a.0.cmp(&b.0));
    t
}

/// The tensors of two files agree within `tol` of each tensor's largest magnitude.
fn assert_close(a: PathBuf, b: PathBuf, tol: f64) {
    for ((name, x), (_, y)) in tensors(a.clone()).into_iter().zip(tensors(b)) {
        let scale = y.iter().fold(0f64, |m, &v| m.max(v.abs() as f64)).max(1e-30);
        let err = x.iter().zip(&y).fold(0f64, |m, (&p, &q)| m.max((p as f64 - q as f64).abs())) / scale;
        assert!(err <= tol, "{}: {name} differs by {err:.2e} between the devices", a.display());
    }
}

#[test]
fn run_grad_and_train_on_wgpu_equal_the_cpu_engine() {
    let dir = demo();
    let d = dir.path();
    for device in ["cpu", "wgpu"] {
        ok(d, &["run", "demo.toml", "--out", &format!("run-{device}"), "--device", device]);
        ok(d, &["grad", "demo.toml", "--out", &format!("grad-{device}"), "--device", device]);
        ok(d, &["train", "demo.toml", "--out", &format!("train-{device}"), "--device", device]);
    }
    assert_close(d.join("run-wgpu/final_states.safetensors"), d.join("run-cpu/final_states.safetensors"), 1e-5);
    assert_close(d.join("grad-wgpu/gradient.safetensors"), d.join("grad-cpu/gradient.safetensors"), 1e-5);
    // the optimizers follow the same path: SBS's steps are discrete, L-BFGS-B's gradients agree to 1e-5
    assert_close(d.join("train-wgpu/parameters.safetensors"), d.join("train-cpu/parameters.safetensors"), 1e-3);
}

#[test]
fn a_hybrid_structure_trains_on_wgpu_as_on_the_cpu() {
    let dir = demo_with("gr4_mlp", HYBRID_STAGES);
    let d = dir.path();
    for device in ["cpu", "wgpu"] {
        ok(d, &["train", "demo.toml", "--out", &format!("train-{device}"), "--device", device]);
        // ∂J/∂weights of the trained network
        let weights = d.join(format!("train-{device}/weights.safetensors"));
        let grad_config =
            fs::read_to_string(d.join("demo.toml")).unwrap().split("\n[[train.stage]]").next().unwrap().to_string()
                + &format!("\n[parameters]\nweights = {:?}\n", weights.display().to_string());
        fs::write(d.join(format!("grad-{device}.toml")), grad_config).unwrap();
        ok(d, &["grad", &format!("grad-{device}.toml"), "--out", &format!("grad-{device}"), "--device", device]);
    }
    assert_close(d.join("train-wgpu/weights.safetensors"), d.join("train-cpu/weights.safetensors"), 1e-3);
    assert_close(d.join("train-wgpu/parameters.safetensors"), d.join("train-cpu/parameters.safetensors"), 1e-3);
    let (cpu, gpu) =
        (d.join("grad-cpu/weights_gradient.safetensors"), d.join("grad-wgpu/weights_gradient.safetensors"));
    assert!(tensors(cpu.clone()).iter().any(|(_, v)| v.iter().any(|&x| x != 0.0)), "the weights have a gradient");
    assert_close(gpu, cpu, 1e-3);
}

#[test]
fn a_search_stage_on_wgpu_evaluates_the_cpu_engines_costs() {
    let dir = demo_with("gr4", SEARCH_STAGE);
    let d = dir.path();
    for device in ["cpu", "wgpu"] {
        // one cache per device: the evaluation cache would otherwise answer the second run from the first
        let args = ["train", "demo.toml", "--out", &format!("search-{device}"), "--device", device];
        let out = hydrograd_cached(d, &args, &format!("cache-{device}"));
        assert!(out.status.success(), "train on {device} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    }
    let names = ["cp", "ct", "kexc", "llr"];
    let cpu = store::samples(&d.join("search-cpu/samples"), &names);
    let gpu = store::samples(&d.join("search-wgpu/samples"), &names);
    assert_eq!(cpu.len(), 96);
    assert_eq!(gpu.len(), 96);
    let mut worst = 0f64;
    for (c, g) in cpu.iter().zip(&gpu) {
        assert_eq!((c.eval_id, &c.x), (g.eval_id, &g.x), "the same proposals on both devices");
        // one ask, one batched engine call: the whole population in one launch on the GPU
        assert_eq!((c.batch, g.batch, c.cached, g.cached), (0, 0, false, false));
        let (a, b) = (f64::from_bits(c.cost), f64::from_bits(g.cost));
        assert!(a.is_finite() && b.is_finite());
        worst = worst.max((a - b).abs() / a.abs().max(1e-3));
    }
    println!("largest relative difference of the 96 costs between the devices: {worst:.2e}");
    assert!(worst <= 1e-5, "costs differ by {worst:.2e} between the devices");
}

#[test]
fn a_device_the_build_lacks_is_a_clear_error() {
    let dir = demo();
    let out = hydrograd(dir.path(), &["run", "demo.toml", "--device", "cuda"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--features cuda"), "{stderr}");
    let out = hydrograd(dir.path(), &["run", "demo.toml", "--device", "tpu"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown device `tpu`"));
    fs::write(
        dir.path().join("bad.toml"),
        fs::read_to_string(dir.path().join("demo.toml")).unwrap() + "\n[compute]\ndevice = \"gpu\"\n",
    )
    .unwrap();
    let out = hydrograd(dir.path(), &["run", "bad.toml"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains("compute") && stderr.contains("device"), "{stderr}");
}
