//! The routing network of a mesh: active cells in routing order and their upstream neighbours.

use crate::mesh::{D8_OFFSETS, Mesh};
use hydrograd_models::network::RoutingNetwork;

/// Builds the network of `mesh`'s active cells, numbered in `mesh.routing_order`.
///
/// Upstream neighbours are listed in D8 order `i = 1..8` so that sums add in smash's order.
pub fn routing_network(mesh: &Mesh) -> RoutingNetwork {
    let g = &mesh.grid;
    let mut number = vec![u32::MAX; g.len()];
    for (k, &cell) in mesh.routing_order.iter().enumerate() {
        number[cell] = k as u32;
    }
    let mut upstream_offsets = Vec::with_capacity(mesh.nac() + 1);
    let mut upstream = Vec::new();
    upstream_offsets.push(0);
    for &cell in &mesh.routing_order {
        let (row, col) = ((cell / g.ncol) as isize, (cell % g.ncol) as isize);
        // the neighbour that drains here with code i + 1 sits at minus that code's offset; codes are
        // visited in smash's `upstream_discharge` order i = 1..8 (spec §2.1)
        for (i, &(dr, dc)) in D8_OFFSETS.iter().enumerate() {
            let (r, c) = (row - dr, col - dc);
            if r < 0 || c < 0 || r as usize >= g.nrow || c as usize >= g.ncol {
                continue;
            }
            let nb = g.index(r as usize, c as usize);
            if mesh.flwdir[nb] as usize == i + 1 && number[nb] != u32::MAX {
                upstream.push(number[nb]);
            }
        }
        upstream_offsets.push(upstream.len());
    }
    let cell_area = g.dx * g.dy;
    RoutingNetwork {
        partition_offsets: mesh.partition_offsets.clone(),
        upstream_offsets,
        upstream,
        upstream_area: mesh.routing_order.iter().map(|&c| mesh.flwacc[c] - cell_area).collect(),
        dx: g.dx,
        dy: g.dy,
    }
}
