//! The double-precision functions of `hydrograd_kernels::math` on the device against the host's libm,
//! over the ranges the kernels use them on (Vulkan has no native f64 `exp`, `log`, `pow`, `tanh`).
#![cfg(feature = "wgpu")]

use cubecl::prelude::*;
use hydrograd_kernels::math::{exp_f64, ln_f64, tanh_f64};
use hydrograd_kernels::{DeviceKind, Gpu};

#[cube(launch_unchecked)]
fn functions<F: Float>(x: &[F], out: &mut [F]) {
    let u = ABSOLUTE_POS;
    if u < x.len() {
        let v = x[u];
        out[3 * u] = exp_f64::<F>(v);
        out[3 * u + 1] = tanh_f64::<F>(v);
        out[3 * u + 2] = ln_f64::<F>(v.abs() + F::cast_from(1e-300f64));
    }
}

#[test]
fn exp_ln_tanh_in_f64_are_within_a_few_ulp_of_libm() {
    let gpu = Gpu::open(DeviceKind::Wgpu).unwrap_or_else(|e| panic!("needs a wgpu device (lavapipe in CI): {e}"));
    assert!(gpu.supports_f64());
    let mut xs: Vec<f64> = (-2000..=2000).map(|i| i as f64 * 0.0173).collect();
    xs.extend([1e-12, -3e-9, 0.5499, 0.5501, 19.9, -25.0, 300.0, -700.0, 1e5, 1e-200, 7e100]);
    let client = &gpu.client;
    let input = client.create_from_slice(f64::as_bytes(&xs));
    let out = client.empty(xs.len() * 3 * 8);
    unsafe {
        functions::launch_unchecked::<f64>(
            client,
            CubeCount::Static(xs.len().div_ceil(64) as u32, 1, 1),
            CubeDim::new_1d(64),
            BufferArg::from_raw_parts(input, xs.len()),
            BufferArg::from_raw_parts(out.clone(), xs.len() * 3),
        )
    };
    let bytes = client.read_one_unchecked(out);
    let got = f64::from_bytes(&bytes);
    let rel = |a: f64, b: f64| if b == 0.0 { a.abs() } else { ((a - b) / b).abs() };
    let mut worst = [0.0f64; 3];
    for (i, &x) in xs.iter().enumerate() {
        for k in 0..3 {
            let want = [x.clamp(-745.0, 709.0).exp(), x.tanh(), (x.abs() + 1e-300).ln()][k];
            worst[k] = worst[k].max(rel(got[3 * i + k], want));
        }
    }
    eprintln!("worst relative errors: exp {:.1e}, tanh {:.1e}, ln {:.1e}", worst[0], worst[1], worst[2]);
    for (i, &x) in xs.iter().enumerate() {
        let want = [x.clamp(-745.0, 709.0).exp(), x.tanh(), (x.abs() + 1e-300).ln()];
        for (k, name) in ["exp", "tanh", "ln"].iter().enumerate() {
            let (g, w) = (got[3 * i + k], want[k]);
            // exp's error grows with |x| through the reduction x − k·ln 2 (5e-14 at |x| = 700 on lavapipe);
            // the kernels take it of arguments below 60
            let tol = if k == 0 { 2e-16 * (8.0 + x.abs() / 2.0) } else { 1.6e-15 };
            assert!(rel(g, w) <= tol || (g - w).abs() < 1e-300, "{name}({x:e}) = {g:e} on the device, libm {w:e}");
        }
    }
}
