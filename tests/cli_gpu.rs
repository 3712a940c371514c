//! `--device wgpu` on every command of the embedded demo: `run`, `grad` and `train` give the CPU
//! engine's results (CI: on Mesa's lavapipe), and a device the build or the machine lacks is a clear
//! error.
#![cfg(feature = "wgpu")]

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

/// The demo configuration (absolute paths, the test's stages) in a fresh folder.
fn demo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let configs = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs");
    let text = fs::read_to_string(configs.join("demo.toml")).unwrap();
    let text = text.split("\n# Calibration with").next().unwrap();
    let text = text.replace("\"demo/", &format!("\"{}/demo/", configs.display()));
    fs::write(dir.path().join("demo.toml"), format!("{text}\n{STAGES}")).unwrap();
    dir
}

fn hydrograd(dir: &Path, args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_hydrograd"))
        .args(args)
        .current_dir(dir)
        .env("HYDROGRAD_CACHE_DIR", dir.join("cache"))
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

/// Every f32 tensor of a safetensors file, by name.
fn tensors(path: PathBuf) -> Vec<(String, Vec<f32>)> {
    let bytes = fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let mut t: Vec<_> = st
        .tensors()
        .into_iter()
        .map(|(n, v)| (n, v.data().chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect()))
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
