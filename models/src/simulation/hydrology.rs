//! The per-cell hydrology over a chunk of steps, for one pack of cells, with run-time dispatch to the
//! widest instruction set the CPU has.

use super::prefetch;
use crate::Real;
use crate::gr::{ci_adjust, production::percolation_beta};
use crate::lanes::{Lane, Pack};
use crate::nn::{Activations, Mlp};
use crate::structure::{Gr4, Gr4Mlp, Gr4Ode, Gr4Ude, HydrologicalModule, HydrologyStep};

/// Maximum number of parameters or states of a hydrological module.
pub(crate) const MAX_VARS: usize = 8;

/// What a pack of cells needs over a chunk of steps (an implementation detail of [`Kernel`]).
#[doc(hidden)]
pub struct HydrologyJob<'a, T> {
    /// Forcing \[mm/dt\], `[T, N]`.
    pub prcp: &'a [T],
    pub pet: &'a [T],
    /// Number of cells `N` (row length of the forcing).
    pub n: usize,
    /// First step of the chunk and its length.
    pub t0: usize,
    pub tc: usize,
    /// First cell of the pack and the number of real cells in it (≤ lanes).
    pub c0: usize,
    pub width: usize,
    /// Constants of the step: step \[s\], cell size \[m\].
    pub dt: T,
    pub dx: T,
    pub dy: T,
    pub module: HydrologicalModule,
    /// The module's network weights `[W]` (empty without a network).
    pub weights: &'a [T],
}

impl<T> HydrologyJob<'_, T> {
    /// The module's network (a shape with no weights for modules without one; never evaluated).
    pub(crate) fn net(&self) -> Mlp<'_, T> {
        let shape = self.module.net().unwrap_or(crate::nn::MlpShape::DEFAULT);
        Mlp { shape, weights: self.weights }
    }
}

/// Scalar types with a vectorised hydrology kernel.
pub trait Kernel: Real {
    /// Cells per pack.
    const LANES: usize;

    /// Runs the pack over the chunk.
    ///
    /// * `params`: `[P, LANES]`; `states`: `[K, LANES]`, updated;
    /// * `q`: the pack's runoff `qt` \[m³/s\], `[LANES, tc]` (cell-major);
    /// * `tape`: when given, receives the states at the start of every step, `[tc, K, LANES]` (for the adjoint).
    #[doc(hidden)]
    fn hydrology_pack(
        job: &HydrologyJob<'_, Self>,
        params: &[Self],
        states: &mut [Self],
        q: &mut [Self],
        tape: Option<&mut [Self]>,
    );

    /// Interception-capacity adjustment ([`crate::gr::ci_adjust`]) with the widest instruction set.
    fn adjust_interception_capacity(prcp: &[Self], pet: &[Self], day: &[i64], n: usize) -> Vec<Self>;
}

/// The pack's values of one row `[N]` (a partial pack is padded with zeros).
#[inline(always)]
pub(crate) fn load<V: Lane>(row: &[V::Scalar], c0: usize, width: usize) -> V {
    if width == V::WIDTH {
        V::from_slice(&row[c0..c0 + V::WIDTH])
    } else {
        let mut buf = [V::Scalar::ZERO; MAX_LANES];
        buf[..width].copy_from_slice(&row[c0..c0 + width]);
        V::from_slice(&buf)
    }
}

/// The generic pack kernel: the time loop of one structure for `V::WIDTH` cells.
#[inline(always)]
fn run_pack<H: HydrologyStep, V: Lane>(
    job: &HydrologyJob<'_, V::Scalar>,
    nparams: usize,
    params: &[V::Scalar],
    states: &mut [V::Scalar],
    q: &mut [V::Scalar],
    mut tape: Option<&mut [V::Scalar]>,
) {
    let l = V::WIDTH;
    let nstates = states.len() / l;
    let mut par = [V::splat(V::Scalar::ZERO); MAX_VARS];
    let mut st = [V::splat(V::Scalar::ZERO); MAX_VARS];
    for k in 0..nparams {
        par[k] = V::from_slice(&params[k * l..]);
    }
    for k in 0..nstates {
        st[k] = V::from_slice(&states[k * l..]);
    }
    let beta = V::splat(percolation_beta(job.dt));
    let net = job.net();
    let mut act = Activations::default();
    // mm over the cell → m³/s, smash's `qt · 1e-3 · dx · dy / dt` as one factor
    let to_m3s = V::splat(V::Scalar::from_f64(1e-3) * job.dx * job.dy / job.dt);
    let n = job.n;
    let mut tile = [[V::Scalar::ZERO; MAX_LANES]; TILE_STEPS];
    for t in 0..job.tc {
        let row = (job.t0 + t) * n;
        if t + PREFETCH_STEPS < job.tc {
            // Rows are N values apart: a large mesh misses the cache on every step without this.
            let ahead = row + PREFETCH_STEPS * n + job.c0;
            prefetch(job.prcp, ahead, job.width);
            prefetch(job.pet, ahead, job.width);
        }
        let p = load::<V>(&job.prcp[row..row + n], job.c0, job.width);
        let e = load::<V>(&job.pet[row..row + n], job.c0, job.width);
        if let Some(tape) = tape.as_deref_mut() {
            for (k, s) in st[..nstates].iter().enumerate() {
                s.write_to(&mut tape[(t * nstates + k) * l..]);
            }
        }
        let qt_mm = H::step(p, e, &par[..nparams], &mut st[..nstates], beta, &net, &mut act);
        let k = t % TILE_STEPS;
        (qt_mm * to_m3s).write_to(&mut tile[k]);
        if k + 1 == TILE_STEPS || t + 1 == job.tc {
            // the tile's steps, cell-major: one contiguous run per cell instead of a scattered store per
            // cell and step
            let first = t - k;
            for (i, series) in q.chunks_exact_mut(job.tc).take(l).enumerate() {
                for (value, row) in series[first..=t].iter_mut().zip(&tile) {
                    *value = row[i];
                }
            }
        }
    }
    for k in 0..nstates {
        st[k].write_to(&mut states[k * l..]);
    }
}

/// [`run_pack`] for the job's module.
#[inline(always)]
fn run_module<V: Lane>(
    job: &HydrologyJob<'_, V::Scalar>,
    params: &[V::Scalar],
    states: &mut [V::Scalar],
    q: &mut [V::Scalar],
    tape: Option<&mut [V::Scalar]>,
) {
    let nparams = params.len() / V::WIDTH;
    match job.module {
        HydrologicalModule::Gr4 => run_pack::<Gr4, V>(job, nparams, params, states, q, tape),
        HydrologicalModule::Gr4Mlp(_) => run_pack::<Gr4Mlp, V>(job, nparams, params, states, q, tape),
        HydrologicalModule::Gr4Ode => run_pack::<Gr4Ode, V>(job, nparams, params, states, q, tape),
        HydrologicalModule::Gr4Ude(_) => run_pack::<Gr4Ude, V>(job, nparams, params, states, q, tape),
    }
}

/// Steps of runoff a pack gathers, time-major, before writing them out cell-major.
const TILE_STEPS: usize = 16;

/// How many steps ahead the forcing of a pack is prefetched.
const PREFETCH_STEPS: usize = 6;

/// The pack kernel compiled for the CPU features `$features`.
macro_rules! pack_kernel {
    ($name:ident, $features:literal, $t:ty, $lanes:expr) => {
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = $features)]
        fn $name(job: &HydrologyJob<'_, $t>, params: &[$t], states: &mut [$t], q: &mut [$t], tape: Option<&mut [$t]>) {
            run_module::<Pack<$t, $lanes>>(job, params, states, q, tape)
        }
    };
}

macro_rules! dispatch {
    ($t:ty, $lanes:expr, $avx512:ident, $avx2:ident, $ci_avx2:ident) => {
        pack_kernel!($avx512, "avx512f,avx512vl,avx512dq,avx2,fma", $t, $lanes);
        pack_kernel!($avx2, "avx2,fma", $t, $lanes);

        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2,fma")]
        fn $ci_avx2(prcp: &[$t], pet: &[$t], day: &[i64], n: usize, x: usize) -> $t {
            ci_adjust::adjust_cell(prcp, pet, day, n, x)
        }

        impl Kernel for $t {
            const LANES: usize = $lanes;

            fn hydrology_pack(
                job: &HydrologyJob<'_, $t>,
                params: &[$t],
                states: &mut [$t],
                q: &mut [$t],
                tape: Option<&mut [$t]>,
            ) {
                #[cfg(target_arch = "x86_64")]
                if avx512() {
                    // SAFETY: the CPU supports the features `$avx512` is compiled for.
                    return unsafe { $avx512(job, params, states, q, tape) };
                }
                #[cfg(target_arch = "x86_64")]
                if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
                    // SAFETY: the CPU supports the features `$avx2` is compiled for.
                    return unsafe { $avx2(job, params, states, q, tape) };
                }
                run_module::<Pack<$t, $lanes>>(job, params, states, q, tape)
            }

            fn adjust_interception_capacity(prcp: &[$t], pet: &[$t], day: &[i64], n: usize) -> Vec<$t> {
                #[cfg(target_arch = "x86_64")]
                if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
                    // SAFETY: the CPU supports the features `$ci_avx2` is compiled for.
                    return ci_adjust::adjust_with(prcp, pet, day, n, |p, e, d, n, x| unsafe {
                        $ci_avx2(p, e, d, n, x)
                    });
                }
                ci_adjust::adjust_interception_capacity(prcp, pet, day, n)
            }
        }
    };
}

/// Whether the CPU has the AVX-512 subsets the widest kernels are compiled for (one 512-bit register per
/// pack: 16 f32 or 8 f64 lanes).
#[cfg(target_arch = "x86_64")]
pub(crate) fn avx512() -> bool {
    std::is_x86_feature_detected!("avx512f")
        && std::is_x86_feature_detected!("avx512vl")
        && std::is_x86_feature_detected!("avx512dq")
        && std::is_x86_feature_detected!("avx2")
        && std::is_x86_feature_detected!("fma")
}

/// Cells per pack in f32 and f64: one AVX-512 register or two AVX2 registers per value.
pub(crate) const F32_LANES: usize = 16;
pub(crate) const F64_LANES: usize = 8;
/// The widest pack.
const MAX_LANES: usize = 16;

dispatch!(f32, F32_LANES, gr4_pack_f32_avx512, gr4_pack_f32_avx2, ci_cell_f32_avx2);
dispatch!(f64, F64_LANES, gr4_pack_f64_avx512, gr4_pack_f64_avx2, ci_cell_f64_avx2);
