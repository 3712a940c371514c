//! Parameter and initial-state fields: smash's defaults, the interception-capacity adjustment, then
//! the user's map file and uniform values, checked against each variable's feasible domain.

use crate::config::Overrides;
use crate::mesh::Mesh;
use hydrograd_models::registry::VarInfo;
use rayon::prelude::*;
use safetensors::{Dtype, SafeTensors};
use std::path::{Path, PathBuf};

/// A parameter or state field that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ParameterError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: not a safetensors file ({message})", path.display())]
    Format { path: PathBuf, message: String },
    #[error("{}: tensor '{name}' is not a variable of this structure (expected some of: {expected})", path.display())]
    UnknownName { path: PathBuf, name: String, expected: String },
    #[error("{}: tensor '{name}' has shape {shape:?} and dtype {dtype}, expected [{nrow}, {ncol}] F32 or F64 (the mesh)", path.display())]
    Shape { path: PathBuf, name: String, shape: Vec<usize>, dtype: String, nrow: usize, ncol: usize },
    #[error(
        "{name} = {value} at cell (row {row}, col {col}) is outside its feasible domain {feasible:?}{}",
        source_hint(from)
    )]
    Infeasible { name: String, value: f64, row: usize, col: usize, feasible: (f64, f64), from: Option<PathBuf> },
}

fn source_hint(from: &Option<PathBuf>) -> String {
    from.as_ref().map(|p| format!(" (from {})", p.display())).unwrap_or_default()
}

/// Values of variables on the active cells, in routing order: `[V, N]`, in the order of `vars`; for the
/// parameters of a hybrid structure, also its network weights.
#[derive(Debug, Clone, PartialEq)]
pub struct Fields {
    pub names: Vec<&'static str>,
    pub ncell: usize,
    pub values: Vec<f64>,
    /// Network weights `[W]` in the flat layout of `hydrograd_models::nn` (parameters of gr4_mlp; empty
    /// otherwise).
    pub weights: Vec<f64>,
    /// The regionalization network of an `ann` mapping (parameters only), once a stage trained or
    /// `[parameters] weights` loaded one.
    pub ann: Option<super::ann::AnnWeights>,
}

impl Fields {
    /// Every variable at its default for a step of `dt` seconds.
    pub fn defaults(vars: &[VarInfo], ncell: usize, dt: f64) -> Fields {
        let mut values = vec![0.0; vars.len() * ncell];
        values.par_chunks_mut(ncell.max(1)).zip(vars).for_each(|(field, v)| field.fill(v.default.at(dt)));
        Fields { names: vars.iter().map(|v| v.name).collect(), ncell, values, weights: Vec::new(), ann: None }
    }

    /// The values of `name`, `[N]`.
    pub fn get_mut(&mut self, name: &str) -> Option<&mut [f64]> {
        let k = self.names.iter().position(|&n| n == name)?;
        Some(&mut self.values[k * self.ncell..(k + 1) * self.ncell])
    }

    pub fn get(&self, name: &str) -> Option<&[f64]> {
        let k = self.names.iter().position(|&n| n == name)?;
        Some(&self.values[k * self.ncell..(k + 1) * self.ncell])
    }

    /// Applies a map file, then uniform values, then checks feasibility on every cell.
    pub fn apply(&mut self, overrides: &Overrides, vars: &[VarInfo], mesh: &Mesh) -> Result<(), ParameterError> {
        if let Some(path) = &overrides.file {
            self.apply_file(path, mesh)?;
        }
        for (name, value) in &overrides.uniform {
            if let Some(v) = self.get_mut(name) {
                v.fill(*value);
            }
        }
        self.check(vars, mesh, overrides.file.as_deref())
    }

    fn apply_file(&mut self, path: &Path, mesh: &Mesh) -> Result<(), ParameterError> {
        let bytes = std::fs::read(path).map_err(|source| ParameterError::Read { path: path.into(), source })?;
        let st = SafeTensors::deserialize(&bytes)
            .map_err(|e| ParameterError::Format { path: path.into(), message: e.to_string() })?;
        let (nrow, ncol) = (mesh.grid.nrow, mesh.grid.ncol);
        for (name, view) in st.tensors() {
            let expected = self.names.join(", ");
            let order = mesh.routing_order.clone();
            let values = self.get_mut(&name).ok_or_else(|| ParameterError::UnknownName {
                path: path.into(),
                name: name.clone(),
                expected,
            })?;
            let map: Vec<f64> = match (view.dtype(), view.shape()) {
                (Dtype::F32, [r, c]) if (*r, *c) == (nrow, ncol) => {
                    view.data().chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().unwrap()) as f64).collect()
                }
                (Dtype::F64, [r, c]) if (*r, *c) == (nrow, ncol) => {
                    view.data().chunks_exact(8).map(|b| f64::from_le_bytes(b.try_into().unwrap())).collect()
                }
                (dtype, shape) => {
                    return Err(ParameterError::Shape {
                        path: path.into(),
                        name,
                        shape: shape.to_vec(),
                        dtype: format!("{dtype:?}"),
                        nrow,
                        ncol,
                    });
                }
            };
            for (v, &cell) in values.iter_mut().zip(&order) {
                *v = map[cell];
            }
        }
        Ok(())
    }

    fn check(&self, vars: &[VarInfo], mesh: &Mesh, from: Option<&Path>) -> Result<(), ParameterError> {
        for (k, info) in vars.iter().enumerate() {
            let values = &self.values[k * self.ncell..(k + 1) * self.ncell];
            let feasible = values.par_chunks(1 << 16).all(|c| c.iter().all(|&v| info.is_feasible(v)));
            if let Some(i) = (!feasible).then(|| values.iter().position(|&v| !info.is_feasible(v))).flatten() {
                let cell = mesh.routing_order[i];
                return Err(ParameterError::Infeasible {
                    name: info.name.to_string(),
                    value: values[i],
                    row: cell / mesh.grid.ncol,
                    col: cell % mesh.grid.ncol,
                    feasible: info.feasible,
                    from: from.map(Path::to_path_buf),
                });
            }
        }
        Ok(())
    }

    /// `[nrow, ncol]` maps of every variable, NaN outside active cells.
    ///
    /// The maps are filled row by row in grid order, gathering from the routing-order values: scattered
    /// writes in routing order cost a cache and TLB miss each on national grids.
    pub fn to_maps(&self, mesh: &Mesh) -> crate::output::MapSet {
        let mut number = vec![u32::MAX; mesh.grid.len()];
        for (i, &cell) in mesh.routing_order.iter().enumerate() {
            number[cell] = i as u32;
        }
        let ncol = mesh.grid.ncol.max(1);
        let maps = self
            .names
            .iter()
            .enumerate()
            .map(|(k, name)| {
                let values = &self.values[k * self.ncell..(k + 1) * self.ncell];
                let mut map = vec![0.0f32; mesh.grid.len()];
                map.par_chunks_mut(ncol).zip(number.par_chunks(ncol)).for_each(|(row, numbers)| {
                    for (v, &i) in row.iter_mut().zip(numbers) {
                        *v = if i == u32::MAX { f32::NAN } else { values[i as usize] as f32 };
                    }
                });
                (name.to_string(), map)
            })
            .collect();
        crate::output::MapSet { nrow: mesh.grid.nrow, ncol: mesh.grid.ncol, maps }
    }
}
