//! Flow accumulation, partitions and flow distance over the mesh rectangle (spec §2.1).
//!
//! These run in smash's Fortran layout (column-major, index `col·nrow + row`) on "raw" codes:
//! 1..=8, [`NODATA`], or 0 for a cell smash itself zeroed (a removed sink). The distinction matters
//! for one smash quirk: its two-cell-loop test `|fd − fd_down| = 4` also fires for a code-4 (SE)
//! cell draining into a zeroed cell, which then receives nothing.
//!
//! Floating-point work is done in f32 in exactly smash's order, so values are bit-identical:
//! * flwacc: smash walks downstream from every source cell (no inflow) in column-major order, adding
//!   the finished upstream total and stopping at a confluence that still waits for other inflows.
//!   That walk is tail-recursive in smash; here it is a loop, O(N) in all and stack-free.
//! * flwdst: each upstream cell gets `downstream + step` (f32) along its path.

use super::flwdir::D8_OFFSETS;

/// Raw code of a cell without data (never part of a two-cell-loop test).
pub(crate) const NODATA: i8 = i8::MIN;

/// A column-major rectangle of raw codes.
pub(crate) struct Rect<'a> {
    pub nrow: usize,
    pub ncol: usize,
    pub raw: &'a [i8],
}

impl Rect<'_> {
    /// The cell `raw[f]` drains to, or `None` (no data, or outside the rectangle).
    #[inline]
    fn downstream(&self, f: usize) -> Option<usize> {
        let fd = self.raw[f];
        if fd <= 0 {
            return None;
        }
        let (dr, dc) = D8_OFFSETS[(fd - 1) as usize];
        let r = (f % self.nrow).checked_add_signed(dr)?;
        let c = (f / self.nrow).checked_add_signed(dc)?;
        (r < self.nrow && c < self.ncol).then_some(c * self.nrow + r)
    }

    /// smash's pit test between a cell with code `fd` and the cell it drains to.
    #[inline]
    fn is_pit(fd: i8, fd_other: i8) -> bool {
        (i32::from(fd) - i32::from(fd_other)).abs() == 4
    }
}

/// Drained area and partition of every cell of the rectangle (smash's
/// `flow_accumulation_partition`), plus which cells were reached (cells on loops are not).
pub(crate) struct AccPar {
    pub flwacc: Vec<f32>,
    pub flwpar: Vec<u32>,
    pub done: Vec<bool>,
}

/// # Arguments
/// * `cell_area` — `dx·dy` [m²] in f32, as smash computes it.
pub(crate) fn accumulate(rect: &Rect<'_>, cell_area: f32) -> AccPar {
    let n = rect.nrow * rect.ncol;
    // Number of inflowing neighbours (smash's `nidp`, pits included).
    let mut nidp = vec![0u8; n];
    for f in 0..n {
        if let Some(d) = rect.downstream(f) {
            nidp[d] += 1;
        }
    }
    let mut flwacc = vec![cell_area; n];
    let mut flwpar = vec![1u32; n];
    let mut done = vec![false; n];
    for source in 0..n {
        // A decrement never brings `nidp` to 0, so this selects the original sources only.
        if nidp[source] != 0 {
            continue;
        }
        let mut cur = source;
        loop {
            done[cur] = true;
            let Some(down) = rect.downstream(cur) else { break };
            if Rect::is_pit(rect.raw[cur], rect.raw[down]) {
                break;
            }
            flwacc[down] += flwacc[cur];
            flwpar[down] = flwpar[down].max(flwpar[cur] + 1);
            if nidp[down] > 1 {
                nidp[down] -= 1;
                break;
            }
            cur = down;
        }
    }
    AccPar { flwacc, flwpar, done }
}

/// Flow distance [m] from each cell to the gauge it drains to (smash's `flow_distance`), −99 where
/// no gauge is reached.
///
/// Gauges are taken by decreasing `area_dln` (smash's selection sort, ties to the first); a gauge
/// met upstream of an earlier one is not restarted. Returns `Err(cell)` when a walk comes back to a
/// cell (a flow loop; smash would recurse forever).
///
/// # Arguments
/// * `gauges` — column-major cell index of each gauge.
pub(crate) fn flow_distance(
    rect: &Rect<'_>,
    dx: f32,
    dy: f32,
    gauges: &[usize],
    area_dln: &[f32],
) -> Result<Vec<f32>, usize> {
    let n = rect.nrow * rect.ncol;
    let diag = (dx * dx + dy * dy).sqrt();
    let mut flwdst = vec![-99.0f32; n];
    let mut gauge_at = vec![false; n];
    for &g in gauges {
        gauge_at[g] = true;
    }
    let mut flag = vec![false; gauges.len()];
    let mut visited = vec![0u32; n];
    let mut stack = Vec::new();
    for (walk, ind) in argsort_desc(area_dln).into_iter().enumerate() {
        if flag[ind] {
            continue;
        }
        let stamp = walk as u32 + 1;
        let g = gauges[ind];
        flwdst[g] = 0.0;
        visited[g] = stamp;
        stack.push(g);
        while let Some(cur) = stack.pop() {
            let (row, col) = (cur % rect.nrow, cur / rect.nrow);
            for (k, &(dr, dc)) in D8_OFFSETS.iter().enumerate() {
                // The neighbour on the opposite side drains here if its code is k + 1.
                let (Some(r), Some(c)) = (row.checked_add_signed(-dr), col.checked_add_signed(-dc))
                else {
                    continue;
                };
                if r >= rect.nrow || c >= rect.ncol {
                    continue;
                }
                let up = c * rect.nrow + r;
                if rect.raw[up] != k as i8 + 1 || Rect::is_pit(rect.raw[cur], rect.raw[up]) {
                    continue;
                }
                if gauge_at[up] {
                    for (j, &gj) in gauges.iter().enumerate() {
                        flag[j] |= gj == up;
                    }
                }
                if visited[up] == stamp {
                    return Err(up);
                }
                visited[up] = stamp;
                let step = if dc == 0 { dy } else if dr == 0 { dx } else { diag };
                flwdst[up] = flwdst[cur] + step;
                stack.push(up);
            }
        }
    }
    Ok(flwdst)
}

/// Indices sorted by decreasing value, exactly as smash's `argsort_r(a, .false.)`: a selection
/// sort that swaps the first maximum of the tail into place (not stable).
fn argsort_desc(a: &[f32]) -> Vec<usize> {
    let mut a2 = a.to_vec();
    let mut b: Vec<usize> = (0..a.len()).collect();
    for i in 0..a.len().saturating_sub(1) {
        let mut iloc = i;
        for k in i + 1..a.len() {
            if a2[k] > a2[iloc] {
                iloc = k;
            }
        }
        a2.swap(i, iloc);
        b.swap(i, iloc);
    }
    b
}

/// Partition layout: `npar` (max partition over the whole rectangle, as smash), active cells grouped
/// by partition in column-major order (returned as **row-major** flat indices) and the offsets of
/// each partition (`npar + 1` values).
pub(crate) fn partitions(
    nrow: usize,
    ncol: usize,
    flwpar: &[u32],
    active: &[bool],
) -> (usize, Vec<usize>, Vec<usize>) {
    let npar = flwpar.iter().copied().max().unwrap_or(0) as usize;
    let mut offsets = vec![0usize; npar + 1];
    for f in 0..flwpar.len() {
        if active[f] {
            offsets[flwpar[f] as usize] += 1;
        }
    }
    for p in 0..npar {
        offsets[p + 1] += offsets[p];
    }
    let mut next = offsets.clone();
    let mut order = vec![0usize; offsets[npar]];
    for f in 0..flwpar.len() {
        if active[f] {
            let p = flwpar[f] as usize - 1;
            order[next[p]] = (f % nrow) * ncol + f / nrow;
            next[p] += 1;
        }
    }
    (npar, order, offsets)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Column-major raw codes from a row-major picture.
    fn rect_cm(nrow: usize, ncol: usize, rows: &[i8]) -> Vec<i8> {
        let mut cm = vec![0; nrow * ncol];
        for r in 0..nrow {
            for c in 0..ncol {
                let v = rows[r * ncol + c];
                cm[c * nrow + r] = if v == 0 { NODATA } else { v };
            }
        }
        cm
    }

    #[test]
    fn accumulation_and_partitions_of_a_tree() {
        // 3x3 (codes row by row): the ring drains into (1,1), which drains S into (2,1), which
        // leaves the grid; (2,0) and (2,2) drain into (2,1).
        //  4 5 6
        //  3 5 7
        //  3 5 7
        let raw = rect_cm(3, 3, &[4, 5, 6, 3, 5, 7, 3, 5, 7]);
        let rect = Rect { nrow: 3, ncol: 3, raw: &raw };
        let ap = accumulate(&rect, 2.0);
        let at = |v: &Vec<f32>, r: usize, c: usize| v[c * 3 + r];
        assert_eq!(at(&ap.flwacc, 0, 1), 2.0);
        assert_eq!(at(&ap.flwacc, 1, 1), 12.0);
        assert_eq!(at(&ap.flwacc, 2, 1), 18.0);
        assert_eq!(at(&ap.flwacc, 2, 0), 2.0);
        assert_eq!((ap.flwpar[3], ap.flwpar[4], ap.flwpar[5]), (1, 2, 3));
        assert!(ap.done.iter().all(|&d| d));
        let active = vec![true; 9];
        let (npar, order, off) = partitions(3, 3, &ap.flwpar, &active);
        assert_eq!(npar, 3);
        assert_eq!(off, vec![0, 7, 8, 9]);
        // partition 1 column-major, then (1,1), then (2,1); as row-major indices
        assert_eq!(order, vec![0, 3, 6, 1, 2, 5, 8, 4, 7]);
        // inactive cells are left out of the order but still count for npar
        let mut active = vec![true; 9];
        active[5] = false; // (2,1), column-major
        let (npar, order, off) = partitions(3, 3, &ap.flwpar, &active);
        assert_eq!((npar, off, order.len()), (3, vec![0, 7, 8, 8], 8));
    }

    #[test]
    fn loops_are_not_reached() {
        // (0,0) E -> (0,1), (0,1) W -> (0,0): a pit; (1,0) N -> (0,0) adds but the pit never drains.
        let raw = rect_cm(2, 2, &[3, 7, 1, 0]);
        let rect = Rect { nrow: 2, ncol: 2, raw: &raw };
        let ap = accumulate(&rect, 1.0);
        assert_eq!(ap.flwacc[0], 2.0);
        assert_eq!(ap.flwpar[0], 2);
        assert!(!ap.done[0] && !ap.done[2] && ap.done[1]);
        // 3-cell loop: (0,0) E, (0,1) SW -> (1,0), (1,0) N -> (0,0)
        let raw = rect_cm(2, 2, &[3, 6, 1, 0]);
        let rect = Rect { nrow: 2, ncol: 2, raw: &raw };
        let ap = accumulate(&rect, 1.0);
        assert!(!ap.done[0] && !ap.done[1] && !ap.done[2]);
    }

    #[test]
    fn se_into_zeroed_cell_is_a_pit_like_smash() {
        // (0,0) SE -> (1,1) raw 0 (zeroed by smash): smash's |4 - 0| = 4 test drops the inflow.
        let mut raw = rect_cm(2, 2, &[4, 0, 0, 0]);
        raw[3] = 0;
        let ap = accumulate(&Rect { nrow: 2, ncol: 2, raw: &raw }, 1.0);
        assert_eq!(ap.flwacc[3], 1.0);
        raw[3] = NODATA;
        let ap = accumulate(&Rect { nrow: 2, ncol: 2, raw: &raw }, 1.0);
        assert_eq!(ap.flwacc[3], 2.0);
    }

    #[test]
    fn distances_and_nested_gauges() {
        // 1x4 row flowing east: codes 3 3 3 3 (last leaves). Gauges at col 3 and col 1.
        let raw = rect_cm(1, 4, &[3, 3, 3, 3]);
        let rect = Rect { nrow: 1, ncol: 4, raw: &raw };
        let d = flow_distance(&rect, 10.0, 20.0, &[1, 3], &[2.0, 4.0]).unwrap();
        assert_eq!(d, vec![30.0, 20.0, 10.0, 0.0]);
        // diagonal steps use sqrt(dx² + dy²)
        let raw = rect_cm(2, 2, &[4, 0, 0, 0]);
        let rect = Rect { nrow: 2, ncol: 2, raw: &raw };
        let d = flow_distance(&rect, 3.0, 4.0, &[3], &[1.0]).unwrap();
        assert_eq!(d, vec![5.0, -99.0, -99.0, 0.0]);
    }

    #[test]
    fn argsort_matches_selection_sort() {
        assert_eq!(argsort_desc(&[1.0, 3.0, 2.0]), vec![1, 2, 0]);
        // ties: first maximum, and the swap moves element 0 behind -> [1, 2, 0] order of equal keys
        assert_eq!(argsort_desc(&[5.0, 5.0, 5.0]), vec![0, 1, 2]);
        assert_eq!(argsort_desc(&[1.0, 5.0, 5.0]), vec![1, 2, 0]);
    }
}
