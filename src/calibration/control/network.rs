//! The network weights of a hybrid structure as controls (smash's `nn_parameters` block, spec §4): after
//! the parameters and states, each selected tensor's entries in Fortran (column-major) order, named
//! `weight_k-<row>-<col>` and `bias_k-<i>` (1-based), unbounded and never transformed.

use hydrograd_models::nn::MlpShape;

/// One optimized tensor of the network.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct NetTensor {
    /// smash's name, `weight_1`, `bias_1`, …
    pub name: String,
    /// First value in the flat weights (row-major `(out, in)` for a weight).
    pub start: usize,
    pub rows: usize,
    /// Columns of a weight; `None` for a bias.
    pub cols: Option<usize>,
}

impl NetTensor {
    pub fn len(&self) -> usize {
        self.rows * self.cols.unwrap_or(1)
    }

    /// Index in the flat weights of the tensor's `k`-th control (column-major).
    pub fn flat_index(&self, k: usize) -> usize {
        match self.cols {
            Some(cols) => self.start + (k % self.rows) * cols + k / self.rows,
            None => self.start + k,
        }
    }

    /// smash's name of the tensor's `k`-th control.
    pub fn control_name(&self, k: usize) -> String {
        match self.cols {
            Some(_) => format!("{}-{}-{}", self.name, k % self.rows + 1, k / self.rows + 1),
            None => format!("{}-{}", self.name, k + 1),
        }
    }
}

/// Every tensor of `shape`, in order.
pub(super) fn tensors(shape: MlpShape) -> Vec<NetTensor> {
    let mut out = Vec::new();
    let mut start = 0;
    for (k, &(rows, cols)) in shape.layers().iter().enumerate() {
        out.push(NetTensor { name: format!("weight_{}", k + 1), start, rows, cols: Some(cols) });
        start += rows * cols;
        out.push(NetTensor { name: format!("bias_{}", k + 1), start, rows, cols: None });
        start += rows;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_column_major_with_smash_names() {
        let t = tensors(MlpShape::new(&[6]).unwrap());
        let names: Vec<_> = t.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["weight_1", "bias_1", "weight_2", "bias_2"]);
        let w1 = &t[0];
        assert_eq!(
            (w1.control_name(0), w1.control_name(1), w1.control_name(6)),
            ("weight_1-1-1".into(), "weight_1-2-1".into(), "weight_1-1-2".into())
        );
        // (row 1, col 0) of a [6, 4] row-major weight is flat index 4
        assert_eq!((w1.flat_index(1), w1.flat_index(6)), (4, 1));
        assert_eq!((t[1].start, t[1].control_name(2), t[1].flat_index(2)), (24, "bias_1-3".into(), 26));
        assert_eq!(t[3].start + t[3].len(), MlpShape::new(&[6]).unwrap().len());
    }
}
