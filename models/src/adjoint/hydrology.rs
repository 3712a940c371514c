//! The per-cell hydrology adjoint over a segment: the forward steps are replayed from the segment's
//! checkpointed states (keeping each step's start states), then reversed with [`super::gr4::step_adjoint`].

use super::gr4::{Params, States, step_adjoint};
use crate::Real;
use crate::gr::gr4;
use crate::simulation::Kernel;

/// One cell over one segment (an implementation detail of [`AdjointKernel`]).
#[doc(hidden)]
pub struct CellSegment<'a, T> {
    /// Forcing \[mm/dt\], `[T, N]`.
    pub prcp: &'a [T],
    pub pet: &'a [T],
    pub n: usize,
    pub cell: usize,
    /// First step of the segment.
    pub t0: usize,
    pub beta: T,
    /// Factor from mm/dt over the cell to m³/s.
    pub to_m3s: T,
}

/// Scalar types with a compiled per-cell adjoint.
pub trait AdjointKernel: Kernel {
    /// Reverse of gr4 over the segment for one cell.
    ///
    /// * `par`: `[ci, cp, ct, kexc]`; `st0`: states at the segment start;
    /// * `lambda_qt`: ∂J/∂qt \[per m³/s\], `[K]`;
    /// * `lambda_st`: ∂J/∂states at the segment end on entry, at its start on return;
    /// * `lambda_par`: contributions added; `tape`: scratch of `3·K` values.
    #[doc(hidden)]
    fn gr4_segment_adjoint(
        job: &CellSegment<'_, Self>,
        par: &Params<Self>,
        st0: &States<Self>,
        lambda_qt: &[Self],
        lambda_st: &mut States<Self>,
        lambda_par: &mut Params<Self>,
        tape: &mut [Self],
    );
}

#[inline(always)]
fn segment_adjoint<T: Real>(
    job: &CellSegment<'_, T>,
    par: &Params<T>,
    st0: &States<T>,
    lambda_qt: &[T],
    lambda_st: &mut States<T>,
    lambda_par: &mut Params<T>,
    tape: &mut [T],
) {
    let forcing = |t: usize| {
        let i = (job.t0 + t) * job.n + job.cell;
        (job.prcp[i], job.pet[i])
    };
    let mut st = *st0;
    for t in 0..lambda_qt.len() {
        tape[3 * t..3 * t + 3].copy_from_slice(&st);
        let (p, e) = forcing(t);
        gr4::step(p, e, par, &mut st, job.beta);
    }
    for t in (0..lambda_qt.len()).rev() {
        let (p, e) = forcing(t);
        let start = [tape[3 * t], tape[3 * t + 1], tape[3 * t + 2]];
        step_adjoint(p, e, par, &start, job.beta, lambda_qt[t] * job.to_m3s, lambda_st, lambda_par);
    }
}

macro_rules! dispatch {
    ($t:ty, $avx2:ident) => {
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2,fma")]
        fn $avx2(
            job: &CellSegment<'_, $t>,
            par: &Params<$t>,
            st0: &States<$t>,
            lambda_qt: &[$t],
            lambda_st: &mut States<$t>,
            lambda_par: &mut Params<$t>,
            tape: &mut [$t],
        ) {
            segment_adjoint(job, par, st0, lambda_qt, lambda_st, lambda_par, tape)
        }

        impl AdjointKernel for $t {
            fn gr4_segment_adjoint(
                job: &CellSegment<'_, $t>,
                par: &Params<$t>,
                st0: &States<$t>,
                lambda_qt: &[$t],
                lambda_st: &mut States<$t>,
                lambda_par: &mut Params<$t>,
                tape: &mut [$t],
            ) {
                #[cfg(target_arch = "x86_64")]
                if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
                    // SAFETY: the CPU supports the features `$avx2` is compiled for.
                    return unsafe { $avx2(job, par, st0, lambda_qt, lambda_st, lambda_par, tape) };
                }
                segment_adjoint(job, par, st0, lambda_qt, lambda_st, lambda_par, tape)
            }
        }
    };
}

dispatch!(f32, gr4_segment_adjoint_f32_avx2);
dispatch!(f64, gr4_segment_adjoint_f64_avx2);
