//! The hydrology adjoint over a segment, one pack of cells at a time (the forward's lanes): from the
//! states at the start of every step, which the segment's forward run kept (its tape), the steps are
//! reversed with [`super::gr4::step_adjoint`] (gr4, gr4_mlp) or [`super::ode::step_adjoint`] (gr4_ode,
//! gr4_ude).

use super::gr4::{NetAdjoint, Params, States};
use super::{gr4, ode};
use crate::Real;
use crate::lanes::{Lane, Pack};
use crate::nn::{Activations, Mlp, MlpShape};
#[cfg(target_arch = "x86_64")]
use crate::simulation::avx512;
use crate::simulation::{F32_LANES, F64_LANES, Kernel, load};
use crate::structure::HydrologicalModule;

/// One pack of cells over one segment (an implementation detail of [`AdjointKernel`]).
#[doc(hidden)]
pub struct PackSegment<'a, T> {
    /// Forcing \[mm/dt\], `[T, N]`.
    pub prcp: &'a [T],
    pub pet: &'a [T],
    pub n: usize,
    /// First cell of the pack and the number of real cells in it.
    pub c0: usize,
    pub width: usize,
    /// First step and length of the segment.
    pub t0: usize,
    pub tc: usize,
    pub beta: T,
    /// Factor from mm/dt over the cell to m³/s.
    pub to_m3s: T,
    pub module: HydrologicalModule,
    /// The module's network weights `[W]` (empty without a network).
    pub weights: &'a [T],
}

/// Scalar types with a compiled, vectorised hydrology adjoint.
pub trait AdjointKernel: Kernel {
    /// Reverse of gr4 or gr4_mlp over the segment for one pack of [`Kernel::LANES`] cells.
    ///
    /// * `par`: `[4, LANES]`; `tape`: the states at the start of every step, `[K, 3, LANES]`;
    /// * `lambda_qt`: ∂J/∂qt \[per m³/s\] of the pack's real cells, `[width, K]` cell-major;
    /// * `lambda_st`: ∂J/∂states `[3, LANES]` at the segment end on entry, at its start on return;
    /// * `lambda_par`: `[4, LANES]`, contributions added;
    /// * `lambda_w`: ∂J/∂(network weights) `[W]`, the pack's contributions added;
    /// * `scratch`: `K·LANES` values (`lambda_qt` time-major).
    #[doc(hidden)]
    #[allow(clippy::too_many_arguments)]
    fn hydrology_segment_adjoint(
        job: &PackSegment<'_, Self>,
        par: &[Self],
        tape: &[Self],
        lambda_qt: &[Self],
        lambda_st: &mut [Self],
        lambda_par: &mut [Self],
        lambda_w: &mut [Self],
        scratch: &mut [Self],
    );
}

/// `K` variables of a pack, `[K, LANES]`.
#[inline(always)]
fn lanes<V: Lane, const K: usize>(s: &[V::Scalar]) -> [V; K] {
    let mut out = [V::splat(V::Scalar::ZERO); K];
    for (k, v) in out.iter_mut().enumerate() {
        *v = V::from_slice(&s[k * V::WIDTH..]);
    }
    out
}

/// Rainfall and PET of the pack at step `t` of the segment.
#[inline(always)]
fn forcing<V: Lane>(job: &PackSegment<'_, V::Scalar>, t: usize) -> (V, V) {
    let row = (job.t0 + t) * job.n;
    let (p, e) = (&job.prcp[row..row + job.n], &job.pet[row..row + job.n]);
    (load::<V>(p, job.c0, job.width), load::<V>(e, job.c0, job.width))
}

#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn segment_adjoint<V: Lane>(
    job: &PackSegment<'_, V::Scalar>,
    par: &[V::Scalar],
    tape: &[V::Scalar],
    lambda_qt: &[V::Scalar],
    lambda_st: &mut [V::Scalar],
    lambda_par: &mut [V::Scalar],
    lambda_w: &mut [V::Scalar],
    scratch: &mut [V::Scalar],
) {
    // no closures here: they would not inherit the caller's target features, nor inline
    let l = V::WIDTH;
    let par: [V; 4] = lanes(par);
    let beta = V::splat(job.beta);
    let mut lam_st: [V; 3] = lanes(lambda_st);
    let mut lam_par: [V; 4] = lanes(lambda_par);
    let to_m3s = V::splat(job.to_m3s);
    // ∂J/∂qt time-major `[K, LANES]`, so each step reads one vector (padding lanes 0)
    let lq = &mut scratch[..job.tc * l];
    lq.fill(V::Scalar::ZERO);
    for i in 0..job.width {
        for (t, &v) in lambda_qt[i * job.tc..(i + 1) * job.tc].iter().enumerate() {
            lq[t * l + i] = v;
        }
    }
    let steps = Steps { job, par, beta, tape, lq, to_m3s };
    match job.module {
        HydrologicalModule::Gr4 => steps.reverse::<Gr4Reverse>(&mut lam_st, &mut lam_par, None),
        HydrologicalModule::Gr4Ode => steps.reverse::<OdeReverse>(&mut lam_st, &mut lam_par, None),
        HydrologicalModule::Gr4Mlp(shape) => {
            steps.reverse_with_network::<Gr4Reverse>(shape, &mut lam_st, &mut lam_par, lambda_w)
        }
        HydrologicalModule::Gr4Ude(shape) => {
            steps.reverse_with_network::<OdeReverse>(shape, &mut lam_st, &mut lam_par, lambda_w)
        }
    }
    for (k, v) in lam_st.iter().enumerate() {
        v.write_to(&mut lambda_st[k * l..]);
    }
    for (k, v) in lam_par.iter().enumerate() {
        v.write_to(&mut lambda_par[k * l..]);
    }
}

/// The reverse of one step of a module.
trait StepReverse {
    #[allow(clippy::too_many_arguments)]
    fn step<V: Lane>(
        p: V,
        e: V,
        par: &Params<V>,
        start: &States<V>,
        beta: V,
        lambda_q: V,
        lam_st: &mut States<V>,
        lam_par: &mut Params<V>,
        net: NetAdjoint<'_, '_, V>,
    );
}

struct Gr4Reverse;

impl StepReverse for Gr4Reverse {
    #[inline(always)]
    fn step<V: Lane>(
        p: V,
        e: V,
        par: &Params<V>,
        start: &States<V>,
        beta: V,
        lambda_q: V,
        lam_st: &mut States<V>,
        lam_par: &mut Params<V>,
        net: NetAdjoint<'_, '_, V>,
    ) {
        gr4::step_adjoint(p, e, par, start, beta, lambda_q, lam_st, lam_par, net)
    }
}

struct OdeReverse;

impl StepReverse for OdeReverse {
    #[inline(always)]
    fn step<V: Lane>(
        p: V,
        e: V,
        par: &Params<V>,
        start: &States<V>,
        _: V,
        lambda_q: V,
        lam_st: &mut States<V>,
        lam_par: &mut Params<V>,
        net: NetAdjoint<'_, '_, V>,
    ) {
        ode::step_adjoint(p, e, par, start, lambda_q, lam_st, lam_par, net)
    }
}

/// The segment's steps of one pack, to reverse.
struct Steps<'a, V: Lane> {
    job: &'a PackSegment<'a, V::Scalar>,
    par: [V; 4],
    beta: V,
    tape: &'a [V::Scalar],
    /// ∂J/∂qt \[per m³/s\], `[K, LANES]`.
    lq: &'a [V::Scalar],
    to_m3s: V,
}

impl<V: Lane> Steps<'_, V> {
    #[inline(always)]
    fn reverse<R: StepReverse>(&self, lam_st: &mut States<V>, lam_par: &mut Params<V>, net: NetAdjoint<'_, '_, V>) {
        let l = V::WIDTH;
        let mut net = net;
        for t in (0..self.job.tc).rev() {
            let (p, e) = forcing(self.job, t);
            let start: [V; 3] = lanes(&self.tape[t * 3 * l..]);
            let lambda_q = V::from_slice(&self.lq[t * l..]) * self.to_m3s;
            // a match, not `Option::map` with a closure: closures do not inherit the kernel's target features
            #[allow(clippy::manual_map)]
            let net = match &mut net {
                Some((mlp, act, grad)) => Some((*mlp, &mut **act, &mut **grad)),
                None => None,
            };
            R::step(p, e, &self.par, &start, self.beta, lambda_q, lam_st, lam_par, net);
        }
    }

    /// [`Steps::reverse`] of a hybrid module: the pack's ∂J/∂weights are added to `lambda_w` `[W]`.
    #[inline(always)]
    fn reverse_with_network<R: StepReverse>(
        &self,
        shape: MlpShape,
        lam_st: &mut States<V>,
        lam_par: &mut Params<V>,
        lambda_w: &mut [V::Scalar],
    ) {
        let (mlp, mut act) = (Mlp { shape, weights: self.job.weights }, Activations::default());
        let mut grad = vec![V::splat(V::Scalar::ZERO); shape.len()];
        self.reverse::<R>(lam_st, lam_par, Some((&mlp, &mut act, grad.as_mut_slice())));
        add_lanes(&grad, self.job.width, lambda_w);
    }
}

/// `out[k] += Σ` of the first `width` lanes of `grad[k]`.
#[inline(always)]
fn add_lanes<V: Lane>(grad: &[V], width: usize, out: &mut [V::Scalar]) {
    for (o, g) in out.iter_mut().zip(grad) {
        *o = (0..width).fold(*o, |acc, i| acc + g.lane(i));
    }
}

/// A segment adjoint compiled for the CPU features `$features`.
macro_rules! segment_kernel {
    ($name:ident, $features:literal, $t:ty, $lanes:expr) => {
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = $features)]
        #[allow(clippy::too_many_arguments)]
        fn $name(
            job: &PackSegment<'_, $t>,
            par: &[$t],
            tape: &[$t],
            lambda_qt: &[$t],
            lambda_st: &mut [$t],
            lambda_par: &mut [$t],
            lambda_w: &mut [$t],
            scratch: &mut [$t],
        ) {
            segment_adjoint::<Pack<$t, $lanes>>(job, par, tape, lambda_qt, lambda_st, lambda_par, lambda_w, scratch)
        }
    };
}

macro_rules! dispatch {
    ($t:ty, $lanes:expr, $avx512:ident, $avx2:ident) => {
        segment_kernel!($avx512, "avx512f,avx512vl,avx512dq,avx2,fma", $t, $lanes);
        segment_kernel!($avx2, "avx2,fma", $t, $lanes);

        impl AdjointKernel for $t {
            #[allow(clippy::too_many_arguments)]
            fn hydrology_segment_adjoint(
                job: &PackSegment<'_, $t>,
                par: &[$t],
                tape: &[$t],
                lambda_qt: &[$t],
                lambda_st: &mut [$t],
                lambda_par: &mut [$t],
                lambda_w: &mut [$t],
                scratch: &mut [$t],
            ) {
                #[cfg(target_arch = "x86_64")]
                if avx512() {
                    // SAFETY: the CPU supports the features `$avx512` is compiled for.
                    return unsafe { $avx512(job, par, tape, lambda_qt, lambda_st, lambda_par, lambda_w, scratch) };
                }
                #[cfg(target_arch = "x86_64")]
                if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
                    // SAFETY: the CPU supports the features `$avx2` is compiled for.
                    return unsafe { $avx2(job, par, tape, lambda_qt, lambda_st, lambda_par, lambda_w, scratch) };
                }
                segment_adjoint::<Pack<$t, $lanes>>(job, par, tape, lambda_qt, lambda_st, lambda_par, lambda_w, scratch)
            }
        }
    };
}

dispatch!(f32, F32_LANES, gr4_segment_adjoint_f32_avx512, gr4_segment_adjoint_f32_avx2);
dispatch!(f64, F64_LANES, gr4_segment_adjoint_f64_avx512, gr4_segment_adjoint_f64_avx2);
