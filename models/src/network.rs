//! The routing network: active cells in topological order (spec §2.1).

/// Active cells numbered in routing order: partition by partition (smash's `cpar_to_rowcol` order),
/// so that every upstream cell comes before the cells it drains into.
#[derive(Debug, Clone, PartialEq)]
pub struct RoutingNetwork {
    /// Offsets of the partitions in the cell numbering, `[npar + 1]`; partition 0 holds the cells
    /// with no inflow.
    pub partition_offsets: Vec<usize>,
    /// CSR offsets into `upstream`, `[N + 1]`.
    pub upstream_offsets: Vec<usize>,
    /// Upstream neighbours of each cell in D8 order `i = 1..8` (spec §2.1, `upstream_discharge`).
    pub upstream: Vec<u32>,
    /// Upstream area `flwacc − dx·dy` of each cell \[m²\], `[N]`.
    pub upstream_area: Vec<f64>,
    /// Cell width and height \[m\].
    pub dx: f64,
    pub dy: f64,
}

/// Why a network is inconsistent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetworkError {
    /// Array sizes disagree.
    Size { what: &'static str, expected: usize, got: usize },
    /// A cell has an upstream cell that is not in an earlier partition.
    NotTopological { cell: usize, upstream: usize },
}

impl core::fmt::Display for NetworkError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            NetworkError::Size { what, expected, got } => write!(f, "{what} has {got} entries, expected {expected}"),
            NetworkError::NotTopological { cell, upstream } => {
                write!(f, "cell {cell} has upstream cell {upstream} which is not in an earlier partition")
            }
        }
    }
}

impl std::error::Error for NetworkError {}

impl RoutingNetwork {
    /// Number of cells.
    pub fn len(&self) -> usize {
        self.upstream_area.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Upstream neighbours of `cell`.
    pub fn upstream_of(&self, cell: usize) -> &[u32] {
        &self.upstream[self.upstream_offsets[cell]..self.upstream_offsets[cell + 1]]
    }

    /// Checks sizes and that every upstream cell lies in an earlier partition.
    pub fn validate(&self) -> Result<(), NetworkError> {
        let n = self.len();
        let size = |what, expected, got| {
            if expected == got { Ok(()) } else { Err(NetworkError::Size { what, expected, got }) }
        };
        size("upstream_offsets", n + 1, self.upstream_offsets.len())?;
        size("partition_offsets end", n, self.partition_offsets.last().copied().unwrap_or(0))?;
        for w in self.partition_offsets.windows(2) {
            for cell in w[0]..w[1] {
                if let Some(&up) = self.upstream_of(cell).iter().find(|&&u| u as usize >= w[0]) {
                    return Err(NetworkError::NotTopological { cell, upstream: up as usize });
                }
            }
        }
        Ok(())
    }
}
