//! Step-by-step (SBS) search of Michel (1989), as smash's `_sbs_optimize` runs it.
//!
//! Each inner step tries `y ± ddx` along every coordinate (clipped to the bounds) and moves to the best trial; a
//! smoothed record of the accepted moves, `sdx`, is then tried as a momentum step once `4n` inner steps are done.
//! `ddx` doubles after `2n` successful steps in a row, halves after a failed one, and the search stops when it
//! falls below 0.01. smash counts one iteration per `n` inner steps.

use super::evaluator::{Counter, validate};
use super::{Bounds, Flow, Iteration, Objective, Observer, OptimError, Outcome, SbsOptions, Termination};

/// Initial step in the transformed space.
const DDX0: f64 = 0.64;
/// The search stops once the step is below this.
const DDX_MIN: f64 = 0.01;

/// Minimises `f` by SBS from `x0` inside `bounds`.
///
/// The objective is called with `gradient = false`: once at `x0`, then up to `2n` times per inner step plus one
/// momentum trial per inner step after the first `4n`. Trials are compared with a strict `<`, so a point that
/// does not lower the cost (including `+inf`) is never accepted.
///
/// # Returns
///
/// The best point found (smash's `z`) and its cost. `iterations` is smash's `n_iter`: `⌈s/n⌉` after `s` inner
/// steps. The observer is called for `x0` (index 0) and then at the end of every `n`-th inner step, and at the
/// converging step, with the best point so far, as smash's callback.
///
/// # Errors
///
/// Invalid bounds or `x0`, a NaN cost, or an objective error.
pub fn sbs(
    x0: &[f64],
    bounds: &Bounds,
    options: &SbsOptions,
    f: &mut dyn Objective,
    obs: &mut dyn Observer,
) -> Result<Outcome, OptimError> {
    validate(x0, bounds)?;
    let n = x0.len();
    // smash's float32 control vector: values and bounds rounded to f32, `y + jf·ddx` added in f32 (numpy's
    // rule for a float32 element and a Python float), `y + sdx` added in f64 and stored as f32
    let single = options.single_precision;
    let store = |v: f64| if single { v as f32 as f64 } else { v };
    let step_from = |y: f64, d: f64| if single { (y as f32 + d as f32) as f64 } else { y + d };
    let (lower, upper): (Vec<f64>, Vec<f64>) =
        (bounds.lower.iter().map(|&v| store(v)).collect(), bounds.upper.iter().map(|&v| store(v)).collect());
    let bounds = &Bounds { lower: lower.clone(), upper: upper.clone() };
    let mut counter = Counter::new(f, n);

    let mut y: Vec<f64> = x0.iter().map(|&v| store(v)).collect();
    let mut z = y.clone();
    let mut gx = counter.cost(&y, 0)?;
    let first = Iteration { index: 0, x: &z, cost: gx, gradient_norm: None, evaluations: counter.evaluations };
    if obs.iteration(&first) == Flow::Stop {
        return Ok(Outcome { x: z, cost: gx, iterations: 0, evaluations: 1, termination: Termination::Interrupted });
    }

    let clg = 0.7f64.powf(1.0 / n as f64);
    let mut sdx = vec![0.0; n];
    let mut ddx = DDX0;
    let mut dxn = ddx;
    // smash's `ia`/`iaa`: the coordinate of the best move of this/the previous step (-1 = none), and
    // `jfa`/`jfaa` its direction (0 after an accepted momentum step).
    let mut ia: Option<usize> = None;
    let mut iaa: Option<usize> = None;
    let mut jfa = 0.0f64;
    let mut jfaa = 0.0f64;
    // Successful steps in a row minus one (smash's `iam`).
    let mut iam: i64 = -1;
    let mut x = y.clone();
    let mut iterations = 0;
    let mut termination = Termination::MaxIterations;

    for step in 1..=options.maxiter * n {
        let iteration = step.div_ceil(n);
        dxn = dxn.min(ddx);
        if ddx > 2.0 {
            ddx = dxn;
        }
        for i in 0..n {
            x.copy_from_slice(&y);
            for jf in [-1.0f64, 1.0] {
                // Do not step straight back along the previous best move, nor out through an active bound.
                if (iaa == Some(i) && jf == -jfaa) || (y[i] <= lower[i] && jf < 0.0) || (y[i] >= upper[i] && jf > 0.0) {
                    continue;
                }
                x[i] = step_from(y[i], jf * ddx).min(upper[i]).max(lower[i]);
                let cost = counter.cost(&x, iteration)?;
                if cost < gx {
                    z.copy_from_slice(&x);
                    gx = cost;
                    ia = Some(i);
                    jfa = jf;
                }
            }
        }
        iaa = ia;
        jfaa = jfa;

        if let Some(best) = ia {
            y.copy_from_slice(&z);
            // The update reads sdx[best] after the decay, as smash does.
            sdx.iter_mut().for_each(|s| *s *= clg);
            sdx[best] = (1.0 - clg) * jfa * ddx + clg * sdx[best];
            iam += 1;
            if iam + 1 > 2 * n as i64 {
                ddx *= 2.0;
                iam = 0;
            }
        } else {
            ddx /= 2.0;
            iam = -1;
        }

        if step > 4 * n {
            for ((xi, yi), si) in x.iter_mut().zip(&y).zip(&sdx) {
                *xi = store(yi + si);
            }
            bounds.clip(&mut x);
            let cost = counter.cost(&x, iteration)?;
            if cost < gx {
                gx = cost;
                jfaa = 0.0;
                y.copy_from_slice(&x);
                z.copy_from_slice(&x);
            }
        }
        ia = None;

        let converged = ddx < DDX_MIN;
        if step % n == 0 || converged {
            iterations = iteration;
            let it =
                Iteration { index: iteration, x: &z, cost: gx, gradient_norm: None, evaluations: counter.evaluations };
            if obs.iteration(&it) == Flow::Stop {
                termination = Termination::Interrupted;
                break;
            }
        }
        if converged {
            termination = Termination::StepSize;
            break;
        }
    }
    Ok(Outcome { x: z, cost: gx, iterations, evaluations: counter.evaluations, termination })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::{Evaluation, ObjectiveError, Silent};

    /// `f(x) = (x − a)²` in 1-D, recording every evaluated point.
    fn parabola(a: f64, log: &mut Vec<f64>) -> impl FnMut(&[f64], bool) -> Result<Evaluation, ObjectiveError> + '_ {
        move |x: &[f64], gradient: bool| {
            assert!(!gradient, "SBS never asks for a gradient");
            log.push(x[0]);
            Ok(Evaluation { cost: (x[0] - a) * (x[0] - a), gradient: None })
        }
    }

    #[test]
    fn evaluation_count_at_the_optimum() {
        // From the optimum every trial fails, so ddx halves each step: 0.64 → 0.005 after 7 steps (0.01 is not
        // < 0.01). Each step tries ±ddx (2 calls); steps 5–7 (> 4n) add a momentum trial: 1 + 7·2 + 3 = 18.
        let mut log = Vec::new();
        let out = sbs(&[0.0], &Bounds::unbounded(1), &SbsOptions::default(), &mut parabola(0.0, &mut log), &mut Silent)
            .unwrap();
        assert_eq!((out.evaluations, log.len(), out.iterations), (18, 18, 7));
        assert_eq!((out.x, out.cost, out.termination), (vec![0.0], 0.0, Termination::StepSize));
        // On its lower bound the downward trial is skipped: 1 + 7·1 + 3 = 11.
        let mut log = Vec::new();
        let bounds = Bounds { lower: vec![0.0], upper: vec![1.0] };
        let out = sbs(&[0.0], &bounds, &SbsOptions::default(), &mut parabola(0.0, &mut log), &mut Silent).unwrap();
        assert_eq!(out.evaluations, 11);
        assert!(log.iter().all(|&x| x >= 0.0));
    }

    #[test]
    fn no_step_back_and_doubling() {
        // Towards a far optimum: step 1 tries −0.64 then +0.64 (accepted). Steps 2 and 3 skip the step back
        // (−1) and accept +0.64; after 2n = 2 successes in a row ddx doubles, so step 4 moves by 1.28.
        let mut log = Vec::new();
        let out = sbs(
            &[0.0],
            &Bounds::unbounded(1),
            &SbsOptions { maxiter: 4, ..Default::default() },
            &mut parabola(10.0, &mut log),
            &mut Silent,
        )
        .unwrap();
        let x3 = 0.0 + 0.64 + 0.64 + 0.64;
        assert_eq!(log, vec![0.0, -0.64, 0.64, 0.64 + 0.64, x3, x3 + 1.28]);
        assert_eq!((out.x[0], out.iterations, out.termination), (x3 + 1.28, 4, Termination::MaxIterations));
    }

    #[test]
    fn observer_sees_every_nth_step_and_can_stop() {
        // n = 2: one observer call per two inner steps, with the best point so far.
        let mut seen = Vec::new();
        let mut obs = |it: &Iteration<'_>| {
            seen.push((it.index, it.cost, it.evaluations));
            if it.index == 2 { Flow::Stop } else { Flow::Continue }
        };
        let mut f =
            |x: &[f64], _: bool| Ok(Evaluation { cost: (x[0] - 3.0).powi(2) + (x[1] + 1.0).powi(2), gradient: None });
        let out = sbs(&[0.0, 0.0], &Bounds::unbounded(2), &SbsOptions::default(), &mut f, &mut obs).unwrap();
        assert_eq!(seen.iter().map(|s| s.0).collect::<Vec<_>>(), vec![0, 1, 2]);
        assert_eq!((out.termination, out.iterations), (Termination::Interrupted, 2));
        assert_eq!((out.cost, out.evaluations), (seen[2].1, seen[2].2));
        assert!(seen.windows(2).all(|w| w[1].1 <= w[0].1));
    }

    #[test]
    fn nan_cost_is_an_error_naming_the_iteration() {
        let mut f =
            |x: &[f64], _: bool| Ok(Evaluation { cost: if x[0] > 1.0 { f64::NAN } else { 1.0 }, gradient: None });
        let e = sbs(&[0.9], &Bounds::unbounded(1), &SbsOptions::default(), &mut f, &mut Silent).unwrap_err();
        assert_eq!(e.to_string(), "objective returned a NaN cost at evaluation 3 (iteration 1)");
    }
}
