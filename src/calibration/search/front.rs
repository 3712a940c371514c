//! The outcome of a multi-objective search stage (`optimize_options.objectives`): the Pareto front of every
//! point it evaluated, the member it passes on (`optimize_options.pareto_choice`), and the front written as
//! `DIR/pareto-stage-<k>.parquet`.
//!
//! The front is the set of the stage's evaluations that no other evaluation of the stage dominates (equal
//! points are all kept; NaN reads as `+inf`). Its hypervolume is measured on the members whose objectives
//! are all finite, against the reference point `r_k = nadir_k + 0.1·(nadir_k − ideal_k)` (ideal and nadir:
//! the best and worst value of objective `k` over those members; `0.1·max(|nadir_k|, 1)` past the nadir when
//! they are equal), so that every member adds volume.
//!
//! The file has one row per member, in `eval_id` order: `eval_id` (UInt64), one Float64 column per searched
//! parameter, one Float64 column `obj_<name>` per objective (the minimised values, as in `samples/`).

use super::store::{OBJECTIVE_PREFIX, SampleRow};
use crate::config::ParetoChoice;
use crate::samplers::pareto::{hypervolume, non_dominated};
use arrow_array::{ArrayRef, Float64Array, RecordBatch, UInt64Array};
use arrow_schema::{DataType, Field, Schema};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The Pareto front of a multi-objective stage.
#[derive(Debug, Clone, PartialEq)]
pub struct ParetoFront {
    /// The objectives' names `[K]` (`nse`, `pbias`).
    pub objectives: Vec<String>,
    /// The non-dominated evaluations as indices into the stage's rows, increasing, `[F]`.
    pub members: Vec<usize>,
    /// The member the stage passes on (an index into the rows, one of `members`), and by which rule.
    pub chosen: usize,
    pub choice: ParetoChoice,
    /// The hypervolume of the finite members against `reference` \[product of the objectives' units\].
    pub hypervolume: f64,
    /// The hypervolume's reference point `[K]`.
    pub reference: Vec<f64>,
}

/// The front of a stage's `rows` (each with `K = objectives.len()` values) and its member chosen by
/// `choice`; `None` without rows.
pub fn pareto_front(rows: &[SampleRow], objectives: Vec<String>, choice: ParetoChoice) -> Option<ParetoFront> {
    let k = objectives.len();
    if rows.is_empty() || k == 0 {
        return None;
    }
    let values: Vec<f64> = rows.iter().flat_map(|r| r.objectives.iter().copied()).collect();
    assert_eq!(values.len(), rows.len() * k, "every row of a multi-objective stage has {k} objectives");
    let members = non_dominated(&values, k);
    let front: Vec<f64> = members.iter().flat_map(|&i| values[i * k..(i + 1) * k].iter().copied()).collect();
    let finite: Vec<f64> =
        front.chunks_exact(k).filter(|v| v.iter().all(|x| x.is_finite())).flatten().copied().collect();
    let reference = reference_point(&finite, k);
    let hypervolume = if finite.is_empty() { 0.0 } else { hypervolume(&finite, k, &reference) };
    let chosen = members[choose(&front, k, choice)];
    Some(ParetoFront { objectives, members, chosen, choice, hypervolume, reference })
}

/// The hypervolume's reference point of the finite `front` (`[F, K]`): 10 % of each objective's range past
/// its worst value (see the module doc); `[+inf; K]` for an empty front.
fn reference_point(front: &[f64], k: usize) -> Vec<f64> {
    (0..k)
        .map(|o| {
            let column = || front.chunks_exact(k).map(|v| v[o]);
            let (ideal, nadir) = (column().fold(f64::INFINITY, f64::min), column().fold(f64::NEG_INFINITY, f64::max));
            if front.is_empty() {
                f64::INFINITY
            } else if nadir > ideal {
                nadir + 0.1 * (nadir - ideal)
            } else {
                nadir + 0.1 * nadir.abs().max(1.0)
            }
        })
        .collect()
}

/// The member of `front` (`[F, K]`, non-dominated points) that `choice` picks, as an index into `front`;
/// ties go to the first.
///
/// `Compromise`: among the members whose objectives are all finite, the one nearest (Euclidean) the ideal
/// point once each objective is scaled to `[0, 1]` over them (an objective of zero range scales to 0);
/// without finite members, the best by the first objective. `Best(o)`: the lowest value of objective `o`.
pub fn choose(front: &[f64], k: usize, choice: ParetoChoice) -> usize {
    let best = |o: usize| {
        let value = |i: usize| if front[i * k + o].is_nan() { f64::INFINITY } else { front[i * k + o] };
        (0..front.len() / k).min_by(|&a, &b| value(a).total_cmp(&value(b))).unwrap_or(0)
    };
    match choice {
        ParetoChoice::Best(o) => best(o),
        ParetoChoice::Compromise => {
            let finite: Vec<usize> =
                (0..front.len() / k).filter(|&i| front[i * k..(i + 1) * k].iter().all(|v| v.is_finite())).collect();
            if finite.is_empty() {
                return best(0);
            }
            let bounds: Vec<(f64, f64)> = (0..k)
                .map(|o| {
                    let column = || finite.iter().map(|&i| front[i * k + o]);
                    (column().fold(f64::INFINITY, f64::min), column().fold(f64::NEG_INFINITY, f64::max))
                })
                .collect();
            let distance = |i: usize| -> f64 {
                bounds
                    .iter()
                    .enumerate()
                    .map(|(o, &(lo, hi))| if hi > lo { ((front[i * k + o] - lo) / (hi - lo)).powi(2) } else { 0.0 })
                    .sum()
            };
            finite.iter().copied().min_by(|&a, &b| distance(a).total_cmp(&distance(b))).unwrap_or(0)
        }
    }
}

/// Writes the members of `front` among the stage's `rows` (parameters `names`) as
/// `dir/pareto-stage-<number>.parquet`, atomically.
///
/// # Errors
/// The path and the I/O or encoding error.
pub fn write_front(
    dir: &Path,
    number: usize,
    names: &[String],
    rows: &[SampleRow],
    front: &ParetoFront,
) -> Result<PathBuf, String> {
    let path = dir.join(format!("pareto-stage-{number}.parquet"));
    let members: Vec<&SampleRow> = front.members.iter().map(|&i| &rows[i]).collect();
    let mut fields = vec![Field::new("eval_id", DataType::UInt64, false)];
    let mut arrays: Vec<ArrayRef> = vec![Arc::new(UInt64Array::from_iter_values(members.iter().map(|r| r.eval_id)))];
    for (i, name) in names.iter().enumerate() {
        fields.push(Field::new(name, DataType::Float64, false));
        arrays.push(Arc::new(Float64Array::from_iter_values(members.iter().map(|r| r.x[i]))));
    }
    for (o, name) in front.objectives.iter().enumerate() {
        fields.push(Field::new(format!("{OBJECTIVE_PREFIX}{name}"), DataType::Float64, false));
        arrays.push(Arc::new(Float64Array::from_iter_values(members.iter().map(|r| r.objectives[o]))));
    }
    let batch =
        RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).map_err(|e| format!("{}: {e}", path.display()))?;
    crate::io::atomic::write_parquet_atomically(&path, &batch, None).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calibration::objective::Terms;

    fn row(eval_id: u64, objectives: &[f64]) -> SampleRow {
        SampleRow {
            eval_id,
            stage: 1,
            batch: 0,
            chain: None,
            x: vec![eval_id as f64],
            objectives: objectives.to_vec(),
            cost: objectives[0],
            terms: Terms::new(objectives[0], 0.0),
            accepted: None,
            cached: false,
            seconds: 0.0,
        }
    }

    #[test]
    fn the_compromise_is_nearest_the_scaled_ideal_point() {
        // scaled over the front: (0, 1), (0.2, 0.25), (0.6, 0.125), (1, 0) → squared distances 1, 0.1025,
        // 0.375625, 1
        let front = [0.0, 8.0, 1.0, 2.0, 3.0, 1.0, 5.0, 0.0];
        assert_eq!(choose(&front, 2, ParetoChoice::Compromise), 1);
        assert_eq!(choose(&front, 2, ParetoChoice::Best(0)), 0);
        assert_eq!(choose(&front, 2, ParetoChoice::Best(1)), 3);
        // a member with a failed objective is never the compromise
        let failed = [f64::INFINITY, -1.0, 1.0, 2.0, 3.0, 1.0];
        assert_eq!(choose(&failed, 2, ParetoChoice::Compromise), 1);
        assert_eq!(choose(&failed, 2, ParetoChoice::Best(1)), 0);
    }

    #[test]
    fn the_front_keeps_the_non_dominated_rows_and_measures_them() {
        let rows = [
            row(0, &[1.0, 4.0]),
            row(1, &[2.0, 2.0]),
            row(2, &[3.0, 3.0]), // dominated by (2, 2)
            row(3, &[4.0, 1.0]),
            row(4, &[f64::NAN, 0.5]),
            row(5, &[2.0, 2.0]), // equal to row 1: kept
        ];
        let front = pareto_front(&rows, vec!["nse".into(), "pbias".into()], ParetoChoice::Compromise).unwrap();
        assert_eq!(front.members, [0, 1, 3, 4, 5]);
        assert_eq!(front.chosen, 1);
        // finite members (1, 4), (2, 2), (4, 1): ranges 3 → reference (4.3, 4.3)
        assert!(front.reference.iter().zip([4.3, 4.3]).all(|(a, b)| (a - b).abs() < 1e-12), "{:?}", front.reference);
        // slabs along the first objective: [1, 2) under 4, [2, 4) under 2, [4, 4.3] under 1 → 5.89
        let expected = (2.0 - 1.0) * (4.3 - 4.0) + (4.0 - 2.0) * (4.3 - 2.0) + (4.3 - 4.0) * (4.3 - 1.0);
        assert!((front.hypervolume - expected).abs() < 1e-12, "{} vs {expected}", front.hypervolume);
        let pick = pareto_front(&rows, vec!["nse".into(), "pbias".into()], ParetoChoice::Best(1)).unwrap();
        assert_eq!(pick.chosen, 4);
    }
}
