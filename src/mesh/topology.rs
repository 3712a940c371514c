//! Flow accumulation, partitions and flow distance over the mesh rectangle (spec §2.1).
//!
//! Arrays are row-major `[nrow, ncol]`; where smash's Fortran loops run column-major (col outer,
//! row inner) and the order matters, the same order is used. Codes are "raw": 1..=8, [`NODATA`],
//! or 0 for a cell smash itself zeroed (a removed sink). The distinction matters for one smash
//! quirk: its two-cell-loop test `|fd − fd_down| = 4` also fires for a code-4 (SE) cell draining
//! into a zeroed cell, which then receives nothing.
//!
//! Floating-point work is done in f32 in exactly smash's order, so values are bit-identical:
//! * flwacc: smash walks downstream from every source cell (no inflow) in column-major order, adding
//!   the finished upstream total and stopping at a confluence that still waits for other inflows.
//!   That walk is tail-recursive in smash; here it is a loop, O(N) in all and stack-free.
//! * flwdst: each upstream cell gets `downstream + step` (f32) along its path.

use super::flwdir::D8_OFFSETS;

/// Raw code of a cell without data (never part of a two-cell-loop test).
pub(crate) const NODATA: i8 = i8::MIN;

const NONE: u32 = u32::MAX;
const NOT_SOURCE: u32 = u32::MAX - 1;

/// A row-major rectangle of raw codes.
pub(crate) struct Rect<'a> {
    pub nrow: usize,
    pub ncol: usize,
    pub raw: &'a [i8],
}

impl Rect<'_> {
    /// smash's pit test between a cell with code `fd` and the cell it drains to.
    #[inline]
    fn is_pit(fd: i8, fd_other: i8) -> bool {
        (i32::from(fd) - i32::from(fd_other)).abs() == 4
    }
}

/// Per-cell state of the accumulation walk, packed so that one step touches one cache line.
#[derive(Clone, Copy)]
struct Node {
    /// Cell drained to, `NONE` if none or if the pair is a smash pit.
    down: u32,
    /// Inflows still awaited; set to 0 once the cell is finished.
    nidp: u32,
    acc: f32,
    par: u32,
}

/// `f(row-major index)` over a `[rows, cols]` grid, stored column-major; in tiles, so that a
/// France-sized grid does not miss the cache and TLB on every element.
fn transpose_map<T: Copy + Default>(rows: usize, cols: usize, f: impl Fn(usize) -> T) -> Vec<T> {
    const TILE: usize = 32;
    let mut dst = vec![T::default(); rows * cols];
    for i0 in (0..rows).step_by(TILE) {
        for j0 in (0..cols).step_by(TILE) {
            for i in i0..(i0 + TILE).min(rows) {
                for j in j0..(j0 + TILE).min(cols) {
                    dst[j * rows + i] = f(i * cols + j);
                }
            }
        }
    }
    dst
}

/// Drained area and partition of every cell of the rectangle (smash's
/// `flow_accumulation_partition`), plus which cells were finished (cells on loops are not).
pub(crate) struct AccPar {
    /// smash's f32 values, widened.
    pub flwacc: Vec<f64>,
    pub flwpar: Vec<u32>,
    pub done: Vec<bool>,
}

/// # Arguments
/// * `cell_area` — `dx·dy` \[m²\] in f32, as smash computes it.
pub(crate) fn accumulate(rect: &Rect<'_>, cell_area: f32) -> AccPar {
    let (nrow, ncol) = (rect.nrow, rect.ncol);
    let n = nrow * ncol;
    assert!(n < NONE as usize, "mesh rectangle too large");
    let mut nodes = vec![Node { down: NONE, nidp: 0, acc: cell_area, par: 1 }; n];
    for r in 0..nrow {
        for c in 0..ncol {
            let f = r * ncol + c;
            let fd = rect.raw[f];
            if fd <= 0 {
                continue;
            }
            let (dr, dc) = D8_OFFSETS[(fd - 1) as usize];
            let (rr, cc) = (r.wrapping_add_signed(dr), c.wrapping_add_signed(dc));
            if rr < nrow && cc < ncol {
                let d = rr * ncol + cc;
                // smash's `nidp` counts every inflowing neighbour, pits included ...
                nodes[d].nidp += 1;
                // ... but never passes anything across a pit.
                if !Rect::is_pit(fd, rect.raw[d]) {
                    nodes[f].down = d as u32;
                }
            }
        }
    }
    // Sources (no inflow; their own area, partition 1) are walked in column-major order: smash's
    // loop order, which fixes the f32 summation order. Their targets are gathered column-major
    // first (tiled), which is much faster than striding through `nodes`.
    let source_down = transpose_map(nrow, ncol, |f| match nodes[f].nidp {
        0 => nodes[f].down,
        _ => NOT_SOURCE,
    });
    for first in source_down {
        if first == NOT_SOURCE || first == NONE {
            continue;
        }
        let (mut down, mut acc, mut par) = (first, cell_area, 1);
        loop {
            let node = &mut nodes[down as usize];
            node.acc += acc;
            node.par = node.par.max(par + 1);
            if node.nidp > 1 {
                node.nidp -= 1;
                break;
            }
            node.nidp = 0;
            (down, acc, par) = (node.down, node.acc, node.par);
            if down == NONE {
                break;
            }
        }
    }
    AccPar {
        flwacc: nodes.iter().map(|node| f64::from(node.acc)).collect(),
        flwpar: nodes.iter().map(|node| node.par).collect(),
        done: nodes.iter().map(|node| node.nidp == 0).collect(),
    }
}

/// Flow distance \[m\] from each cell to the gauge it drains to (smash's `flow_distance`), −99 where
/// no gauge is reached.
///
/// Gauges are taken by decreasing `area_dln` (smash's selection sort, ties to the first); a gauge
/// met upstream of an earlier one is not restarted. Returns `Err(cell)` when a walk comes back to a
/// cell (a flow loop; smash would recurse forever).
///
/// # Arguments
/// * `gauges` — cell index of each gauge.
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
            let (row, col) = (cur / rect.ncol, cur % rect.ncol);
            for (k, &(dr, dc)) in D8_OFFSETS.iter().enumerate() {
                // The neighbour on the opposite side drains here if its code is k + 1.
                let (Some(r), Some(c)) = (row.checked_add_signed(-dr), col.checked_add_signed(-dc)) else {
                    continue;
                };
                if r >= rect.nrow || c >= rect.ncol {
                    continue;
                }
                let up = r * rect.ncol + c;
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
                let step = if dc == 0 {
                    dy
                } else if dr == 0 {
                    dx
                } else {
                    diag
                };
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
/// by partition and column-major inside one, and the offsets of each partition (`npar + 1` values).
pub(crate) fn partitions(nrow: usize, ncol: usize, flwpar: &[u32], active: &[bool]) -> (usize, Vec<usize>, Vec<usize>) {
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
    let key_cm = transpose_map(nrow, ncol, |f| if active[f] { flwpar[f] } else { 0 });
    for (c, column) in key_cm.chunks_exact(nrow).enumerate() {
        for (r, &p) in column.iter().enumerate() {
            if p != 0 {
                let p = p as usize - 1;
                order[next[p]] = r * ncol + c;
                next[p] += 1;
            }
        }
    }
    (npar, order, offsets)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Raw codes from a picture where 0 means no data.
    fn codes(rows: &[i8]) -> Vec<i8> {
        rows.iter().map(|&v| if v == 0 { NODATA } else { v }).collect()
    }

    #[test]
    fn accumulation_and_partitions_of_a_tree() {
        // 3x3 (codes row by row): the ring drains into (1,1), which drains S into (2,1), which
        // leaves the grid; (2,0) and (2,2) drain into (2,1).
        //  4 5 6
        //  3 5 7
        //  3 5 7
        let raw = codes(&[4, 5, 6, 3, 5, 7, 3, 5, 7]);
        let rect = Rect { nrow: 3, ncol: 3, raw: &raw };
        let ap = accumulate(&rect, 2.0);
        let at = |v: &Vec<f64>, r: usize, c: usize| v[r * 3 + c];
        assert_eq!(at(&ap.flwacc, 0, 1), 2.0);
        assert_eq!(at(&ap.flwacc, 1, 1), 12.0);
        assert_eq!(at(&ap.flwacc, 2, 1), 18.0);
        assert_eq!(at(&ap.flwacc, 2, 0), 2.0);
        assert_eq!((ap.flwpar[1], ap.flwpar[4], ap.flwpar[7]), (1, 2, 3));
        assert!(ap.done.iter().all(|&d| d));
        let active = vec![true; 9];
        let (npar, order, off) = partitions(3, 3, &ap.flwpar, &active);
        assert_eq!(npar, 3);
        assert_eq!(off, vec![0, 7, 8, 9]);
        // partition 1 column-major, then (1,1), then (2,1); as row-major indices
        assert_eq!(order, vec![0, 3, 6, 1, 2, 5, 8, 4, 7]);
        // inactive cells are left out of the order but still count for npar
        let mut active = vec![true; 9];
        active[7] = false; // (2,1)
        let (npar, order, off) = partitions(3, 3, &ap.flwpar, &active);
        assert_eq!((npar, off, order.len()), (3, vec![0, 7, 8, 8], 8));
    }

    #[test]
    fn loops_are_not_reached() {
        // (0,0) E -> (0,1), (0,1) W -> (0,0): a pit; (1,0) N -> (0,0) adds but the pit never drains.
        let raw = codes(&[3, 7, 1, 0]);
        let rect = Rect { nrow: 2, ncol: 2, raw: &raw };
        let ap = accumulate(&rect, 1.0);
        assert_eq!(ap.flwacc[0], 2.0);
        assert_eq!(ap.flwpar[0], 2);
        assert!(!ap.done[0] && !ap.done[1] && ap.done[2]);
        // 3-cell loop: (0,0) E, (0,1) SW -> (1,0), (1,0) N -> (0,0)
        let raw = codes(&[3, 6, 1, 0]);
        let rect = Rect { nrow: 2, ncol: 2, raw: &raw };
        let ap = accumulate(&rect, 1.0);
        assert!(!ap.done[0] && !ap.done[1] && !ap.done[2]);
    }

    #[test]
    fn se_into_zeroed_cell_is_a_pit_like_smash() {
        // (0,0) SE -> (1,1) raw 0 (zeroed by smash): smash's |4 - 0| = 4 test drops the inflow.
        let mut raw = codes(&[4, 0, 0, 0]);
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
        let raw = codes(&[3, 3, 3, 3]);
        let rect = Rect { nrow: 1, ncol: 4, raw: &raw };
        let d = flow_distance(&rect, 10.0, 20.0, &[1, 3], &[2.0, 4.0]).unwrap();
        assert_eq!(d, vec![30.0, 20.0, 10.0, 0.0]);
        // diagonal steps use sqrt(dx² + dy²)
        let raw = codes(&[4, 0, 0, 0]);
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
