//! The independent catchments of a mesh: groups of active cells with no flow between groups, each with
//! the gauges on its cells. Nested gauges share one; a mesh of separate catchments (gauges that are not
//! upstream of one another) has one per outlet. Multi-catchment training spreads them over MPI ranks.

use super::{D8_OFFSETS, Mesh};

/// One independent catchment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Component {
    /// Its active cells, as positions in `mesh.routing_order`, ascending.
    pub cells: Vec<usize>,
    /// Its gauges, as indices of `mesh.gauges`, ascending.
    pub gauges: Vec<usize>,
}

/// The components of `mesh`, ordered by their first cell in routing order.
pub fn components(mesh: &Mesh) -> Vec<Component> {
    let g = &mesh.grid;
    let mut position = vec![usize::MAX; g.len()];
    for (k, &cell) in mesh.routing_order.iter().enumerate() {
        position[cell] = k;
    }
    // the active cell each active cell drains to (itself at an outlet): later in routing order, so one
    // pass from the end resolves every cell's outlet
    let downstream = |cell: usize| -> Option<usize> {
        let code = mesh.flwdir[cell] as usize;
        let (dr, dc) = *D8_OFFSETS.get(code.checked_sub(1)?)?;
        let (r, c) = ((cell / g.ncol) as isize + dr, (cell % g.ncol) as isize + dc);
        let inside = r >= 0 && c >= 0 && (r as usize) < g.nrow && (c as usize) < g.ncol;
        let next = inside.then(|| g.index(r as usize, c as usize))?;
        (position[next] != usize::MAX).then_some(next)
    };
    let n = mesh.nac();
    let mut outlet = vec![usize::MAX; n];
    for k in (0..n).rev() {
        let cell = mesh.routing_order[k];
        outlet[k] = match downstream(cell) {
            Some(next) => outlet[position[next]],
            None => k,
        };
    }
    let mut roots: Vec<usize> = Vec::new();
    let mut members: Vec<Component> = Vec::new();
    for (k, &root) in outlet.iter().enumerate() {
        let c = match roots.iter().position(|&r| r == root) {
            Some(c) => c,
            None => {
                roots.push(root);
                members.push(Component { cells: Vec::new(), gauges: Vec::new() });
                roots.len() - 1
            }
        };
        members[c].cells.push(k);
    }
    for (i, gauge) in mesh.gauges.iter().enumerate() {
        let k = position[g.index(gauge.row, gauge.col)];
        if k != usize::MAX
            && let Some(c) = roots.iter().position(|&r| r == outlet[k])
        {
            members[c].gauges.push(i);
        }
    }
    members
}

/// Components per rank: the largest first to the rank with the fewest cells so far (ties: the lowest
/// rank), so that ranks get similar numbers of cells; the same for the same mesh and rank count.
pub fn assign(components: &[Component], ranks: usize) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..components.len()).collect();
    order.sort_by_key(|&c| (std::cmp::Reverse(components[c].cells.len()), c));
    let mut load = vec![0usize; ranks.max(1)];
    let mut shares = vec![Vec::new(); ranks.max(1)];
    for c in order {
        let rank = (0..load.len()).min_by_key(|&r| (load[r], r)).expect("at least one rank");
        load[rank] += components[c].cells.len();
        shares[rank].push(c);
    }
    shares.iter_mut().for_each(|s| s.sort_unstable());
    shares
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::Grid;
    use crate::mesh::Gauge;

    /// A 2 × 4 grid: two catchments draining east to (0, 1) and west to (1, 2), one cell inactive.
    fn two_catchments() -> Mesh {
        // codes: 3 = E, 7 = W; row 0: 3 3(outlet) · ·, row 1: · · 7(outlet) 7
        let flwdir = vec![3, 3, 0, 0, 0, 0, 7, 7];
        let active = vec![true, true, false, false, false, false, true, true];
        let grid = Grid { xmin: 0.0, ymax: 0.0, dx: 1000.0, dy: 1000.0, nrow: 2, ncol: 4 };
        let gauge = |code: &str, row, col| Gauge { code: code.into(), row, col, area: f64::NAN, area_dln: 1.0 };
        Mesh {
            grid,
            flwdir,
            active,
            flwacc: vec![1e6; 8],
            flwdst: vec![0.0; 8],
            flwpar: vec![1, 2, 0, 0, 0, 0, 2, 1],
            npar: 2,
            routing_order: vec![0, 7, 1, 6],
            partition_offsets: vec![0, 2, 4],
            gauges: vec![gauge("B", 1, 2), gauge("A", 0, 1)],
        }
    }

    #[test]
    fn cells_group_by_outlet_with_their_gauges() {
        let c = components(&two_catchments());
        assert_eq!(
            c,
            vec![Component { cells: vec![0, 2], gauges: vec![1] }, Component { cells: vec![1, 3], gauges: vec![0] },]
        );
    }

    #[test]
    fn ranks_get_balanced_shares() {
        let c = |n: usize| Component { cells: (0..n).collect(), gauges: vec![] };
        let parts = [c(5), c(9), c(4), c(3), c(1)];
        // sizes 9, 5, 4, 3, 1 in turn: 9 → rank 0; 5 → 1; 4 → 1 (5 < 9); 3 → 0 (tie 9, 9); 1 → 1 (9 < 12)
        assert_eq!(assign(&parts, 2), vec![vec![1, 3], vec![0, 2, 4]]);
        assert!(assign(&parts, 8)[5..].iter().all(Vec::is_empty), "more ranks than catchments: some get none");
        assert_eq!(assign(&parts, 1), vec![vec![0, 1, 2, 3, 4]]);
    }
}
