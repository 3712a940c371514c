//! The inputs and fields of part of a mesh: some of its independent catchments
//! ([`crate::mesh::components`]), for multi-catchment training over MPI ranks. A catchment holds every cell
//! upstream of its cells, so the part simulates exactly as those cells do in the whole mesh.

use super::{Fields, Inputs, routing_network};
use crate::io::forcing::Forcing;
use crate::io::values::Values;

impl Inputs {
    /// The inputs on the active cells at routing positions `cells` (ascending, closed upstream) with the
    /// gauges `gauges` (indices of `mesh.gauges`, ascending): the same grid, partitions and maps, the
    /// other cells inactive; forcing `[T, N′]` and observations `[T, G′]` of those cells and gauges.
    pub fn restricted(&self, cells: &[usize], gauges: &[usize]) -> Inputs {
        let mesh = &self.mesh;
        let mut sub = mesh.clone();
        sub.active = vec![false; mesh.active.len()];
        sub.routing_order = cells.iter().map(|&k| mesh.routing_order[k]).collect();
        sub.routing_order.iter().for_each(|&cell| sub.active[cell] = true);
        // partition p keeps its cells, in order: its offsets count those kept before each boundary
        sub.partition_offsets = mesh.partition_offsets.iter().map(|&end| cells.partition_point(|&k| k < end)).collect();
        sub.gauges = gauges.iter().map(|&g| mesh.gauges[g].clone()).collect();
        let network = routing_network(&sub);
        let (nt, n) = (self.forcing.ntime, self.forcing.ncell);
        let columns = |values: &Values| -> Values {
            let mut out = Vec::with_capacity(nt * cells.len());
            for t in 0..nt {
                out.extend(cells.iter().map(|&k| values[t * n + k]));
            }
            Values::Owned(out)
        };
        let forcing = Forcing {
            ntime: nt,
            ncell: cells.len(),
            prcp: columns(&self.forcing.prcp),
            pet: columns(&self.forcing.pet),
            warnings: Vec::new(),
            fingerprint: None,
        };
        let ng = mesh.gauges.len();
        let qobs = self
            .qobs
            .as_ref()
            .map(|q| (0..q.len() / ng.max(1)).flat_map(|t| gauges.iter().map(move |&g| q[t * ng + g])).collect());
        Inputs { mesh: sub, network, forcing, cache: self.cache.clone(), qobs, descriptors: self.descriptors.clone() }
    }
}

impl Fields {
    /// The values on the cells at positions `cells`, `[V, N′]`; the network weights and the regional
    /// network as they are.
    pub fn restricted(&self, cells: &[usize]) -> Fields {
        let n = self.ncell;
        let values = (0..self.names.len()).flat_map(|v| cells.iter().map(move |&k| self.values[v * n + k])).collect();
        Fields { ncell: cells.len(), values, ..self.clone() }
    }

    /// Adds `part` (fields of the cells at positions `cells`, as [`restricted`](Self::restricted) gives)
    /// into these fields, and its network weights into these weights.
    pub fn add_restricted(&mut self, part: &Fields, cells: &[usize]) {
        let (n, m) = (self.ncell, part.ncell);
        for v in 0..self.names.len() {
            for (i, &k) in cells.iter().enumerate() {
                self.values[v * n + k] += part.values[v * m + i];
            }
        }
        self.weights.iter_mut().zip(&part.weights).for_each(|(a, b)| *a += b);
    }
}
