//! The transcendental functions of the kernels, equal to the CPU engine's in both precisions.
//!
//! In single precision (`single = true`) `tanh` is the CPU's rational approximation
//! (`hydrograd_models::lanes::tanh_ratio_f32`) and `exp`, `ln`, `powf` are the device's. In double
//! precision they are computed here from `+ − × ÷`, `fma`, `floor` and `sqrt`: SPIR-V's `GLSL.std.450`
//! defines `Exp`, `Log`, `Pow` and `Tanh` for 16- and 32-bit floats only, and Vulkan drivers return
//! garbage for doubles (measured on lavapipe). Accuracy: a few ulp, against libm in the tests.

use cubecl::prelude::*;

/// `tanh(x) = n / d`.
#[derive(CubeType, Clone, Copy)]
pub struct Ratio<F: Float> {
    pub n: F,
    pub d: F,
}

/// `tanh(x)` as a ratio, as [`hydrograd_models::Real::tanh_ratio`]: in single precision the two
/// polynomials of the CPU's `tanh_f32`, in double precision `(tanh x, 1)`.
#[cube]
pub fn tanh_ratio<F: Float>(x: F, #[comptime] single: bool) -> Ratio<F> {
    if single {
        let x = clamp(x, F::new(-7.905_311), F::new(7.905_311));
        let x2 = x * x;
        let p = ((((((F::new(-2.760_768_5e-16) * x2 + F::new(2.000_188e-13)) * x2 + F::new(-8.604_672e-11)) * x2
            + F::new(5.122_297e-8))
            * x2
            + F::new(1.485_722_4e-5))
            * x2
            + F::new(6.372_619_3e-4))
            * x2
            + F::new(4.893_524_6e-3))
            * x;
        let q = ((F::new(1.198_258_4e-6) * x2 + F::new(1.185_347e-4)) * x2 + F::new(2.268_434_6e-3)) * x2
            + F::new(4.893_525e-3);
        Ratio::<F> { n: p, d: q }
    } else {
        Ratio::<F> { n: tanh_f64::<F>(x), d: F::new(1.0) }
    }
}

#[cube]
pub fn exp<F: Float>(x: F, #[comptime] single: bool) -> F {
    if single { x.exp() } else { exp_f64::<F>(x) }
}

#[cube]
pub fn ln<F: Float>(x: F, #[comptime] single: bool) -> F {
    if single { x.ln() } else { ln_f64::<F>(x) }
}

/// `x^y` for `x > 0`.
#[cube]
pub fn powf<F: Float>(x: F, y: F, #[comptime] single: bool) -> F {
    if single { x.powf(y) } else { exp_f64::<F>(y * ln_f64::<F>(x)) }
}

/// `e^x − 1` for `|x| ≤ 1.1` by its Taylor series (19 terms, error below 1e-17).
#[cube]
fn expm1_small<F: Float>(x: F) -> F {
    let mut term = F::new(1.0);
    let mut sum = F::new(0.0);
    for k in 1..20u32 {
        term = term * x / F::cast_from(k);
        sum += term;
    }
    sum
}

/// `e^x` in double precision: `x = k·ln 2 + r`, `|r| ≤ ln 2 / 2`, `e^r` by Taylor (14 terms), times
/// `2^k` by binary powering.
#[cube]
pub fn exp_f64<F: Float>(x: F) -> F {
    let x = clamp(x, F::new(-745.0), F::new(709.0));
    let k = (x * F::new(core::f32::consts::LOG2_E) + F::new(0.5)).floor();
    // ln 2 split so that k·LN2_HI is exact
    let r = x - k * F::new(0.693_145_75) - k * F::cast_from(1.428_606_820_309_417_3e-6f64);
    let mut p = F::new(1.0);
    for i in 0..14u32 {
        let j = 14 - i;
        p = F::new(1.0) + p * r / F::cast_from(j);
    }
    let negative = k < F::new(0.0);
    let mut m = u32::cast_from(k.abs());
    let mut base = select(negative, F::new(0.5), F::new(2.0));
    let mut scale = F::new(1.0);
    for _ in 0..11u32 {
        if m % 2 == 1 {
            scale *= base;
        }
        base *= base;
        m /= 2;
    }
    p * scale
}

/// `ln x` for `x > 0` in double precision: `x = m·2^e` with `m ∈ [√½, √2)` by exact scalings,
/// then `ln m = 2·atanh(s)`, `s = (m − 1)/(m + 1)`, by its series.
#[cube]
pub fn ln_f64<F: Float>(x: F) -> F {
    let two32 = F::new(4_294_967_296.0);
    let inv_two32 = F::new(2.328_306_4e-10);
    let mut m = x;
    let mut e = F::new(0.0);
    for _ in 0..33u32 {
        let big = m >= two32;
        m = select(big, m * inv_two32, m);
        e += select(big, F::new(32.0), F::new(0.0));
        let small = m < inv_two32;
        m = select(small, m * two32, m);
        e -= select(small, F::new(32.0), F::new(0.0));
    }
    for _ in 0..33u32 {
        let big = m >= F::new(core::f32::consts::SQRT_2);
        m = select(big, m * F::new(0.5), m);
        e += select(big, F::new(1.0), F::new(0.0));
        let small = m < F::new(core::f32::consts::FRAC_1_SQRT_2);
        m = select(small, m * F::new(2.0), m);
        e -= select(small, F::new(1.0), F::new(0.0));
    }
    let s = (m - F::new(1.0)) / (m + F::new(1.0));
    let s2 = s * s;
    let mut series = F::new(0.0);
    for i in 0..12u32 {
        let k = 2 * (11 - i) + 1;
        series = series * s2 + F::new(1.0) / F::cast_from(k);
    }
    e * F::cast_from(core::f64::consts::LN_2) + F::new(2.0) * s * series
}

/// `tanh x` in double precision from `e^{−2|x|}`, with `expm1` near zero to keep relative accuracy.
#[cube]
pub fn tanh_f64<F: Float>(x: F) -> F {
    let a = min(x.abs(), F::new(20.0));
    let y = F::new(-2.0) * a;
    let em1 = select(a < F::new(0.55), expm1_small::<F>(y), exp_f64::<F>(y) - F::new(1.0));
    let t = (F::new(0.0) - em1) / (F::new(2.0) + em1);
    select(x < F::new(0.0), F::new(0.0) - t, t)
}

/// The double-precision functions on the device against the host's libm, over the ranges the kernels
/// use them on (Vulkan has no native f64 `exp`, `log`, `pow`, `tanh`).
#[cfg(all(test, feature = "wgpu"))]
mod tests {
    use super::*;
    use crate::{DeviceKind, Gpu};

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
}
