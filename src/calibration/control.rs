//! The control vector of a calibration (spec §4–§5): which parameters and initial states are optimized,
//! how one control value maps onto the cells (`mapping`), and the bijection between physical values and
//! the optimizer's space (`control_tfm`).
//!
//! Layout, as smash's: variables in the structure's order (parameters, then states), then for
//! `distributed` one control per active cell in column-major order (col outer, row inner).

use crate::model::Fields;
use crate::optim::Bounds;
use hydrograd_models::registry::VarInfo;

/// How control values map onto the cells (smash's `mapping`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mapping {
    /// One value per variable on every active cell (`<name>-0`).
    Uniform,
    /// One value per variable and active cell (`<name>-<row>-<col>`, 1-based).
    Distributed,
}

impl Mapping {
    pub fn name(self) -> &'static str {
        match self {
            Mapping::Uniform => "uniform",
            Mapping::Distributed => "distributed",
        }
    }
}

/// The transform between physical values and the optimizer's space (smash's `control_tfm`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ControlTfm {
    /// `asinh` when the lower bound is negative, `logit` for bounds inside [0, 1], else `ln`.
    Sbs,
    /// `(x − l)/(u − l)`.
    Normalize,
    /// The physical value itself.
    Keep,
}

impl ControlTfm {
    pub fn name(self) -> &'static str {
        match self {
            ControlTfm::Sbs => "sbs",
            ControlTfm::Normalize => "normalize",
            ControlTfm::Keep => "keep",
        }
    }
}

/// The transform of one control entry with its physical bounds `(l, u)`.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Transform {
    Asinh,
    Logit,
    Log,
    Normalize { l: f64, u: f64 },
    Identity,
}

impl Transform {
    fn of(tfm: ControlTfm, (l, u): (f64, f64)) -> Transform {
        match tfm {
            ControlTfm::Sbs if l < 0.0 => Transform::Asinh,
            ControlTfm::Sbs if u <= 1.0 => Transform::Logit,
            ControlTfm::Sbs => Transform::Log,
            ControlTfm::Normalize => Transform::Normalize { l, u },
            ControlTfm::Keep => Transform::Identity,
        }
    }

    /// Physical value → control.
    fn forward(self, v: f64) -> f64 {
        match self {
            Transform::Asinh => v.asinh(),
            Transform::Logit => (v / (1.0 - v)).ln(),
            Transform::Log => v.ln(),
            Transform::Normalize { l, u } => (v - l) / (u - l),
            Transform::Identity => v,
        }
    }

    /// Control → physical value.
    fn inverse(self, x: f64) -> f64 {
        match self {
            Transform::Asinh => x.sinh(),
            Transform::Logit => 1.0 / (1.0 + (-x).exp()),
            Transform::Log => x.exp(),
            Transform::Normalize { l, u } => l + x * (u - l),
            Transform::Identity => x,
        }
    }

    /// d(physical)/d(control) at control `x`.
    fn derivative(self, x: f64) -> f64 {
        match self {
            Transform::Asinh => x.cosh(),
            Transform::Logit => {
                let s = 1.0 / (1.0 + (-x).exp());
                s * (1.0 - s)
            }
            Transform::Log => x.exp(),
            Transform::Normalize { l, u } => u - l,
            Transform::Identity => 1.0,
        }
    }
}

/// Whether an optimized variable is a parameter or an initial state, and its index in the fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    Parameter(usize),
    State(usize),
}

/// One optimized variable.
#[derive(Debug, Clone, PartialEq)]
pub struct Variable {
    pub info: VarInfo,
    pub slot: Slot,
    /// Physical bounds `(l, u)`.
    pub bounds: (f64, f64),
    transform: Transform,
}

/// Why a control space cannot be built.
#[derive(Debug, thiserror::Error, PartialEq)]
#[non_exhaustive]
pub enum ControlError {
    #[error(
        "optimize_options.parameters: '{name}' is not an optimizable parameter or state of this structure (choices: {choices})"
    )]
    UnknownName { name: String, choices: String },
    #[error("optimize_options.parameters: '{name}' is given twice")]
    Duplicate { name: String },
    #[error("optimize_options.bounds: '{name}' is not optimized in this stage (optimized: {optimized})")]
    BoundsNotOptimized { name: String, optimized: String },
    #[error("optimize_options.bounds.{name}: lower bound {lower} is not below upper bound {upper}")]
    BoundsOrder { name: String, lower: f64, upper: f64 },
    #[error(
        "optimize_options.bounds.{name}: [{lower}, {upper}] does not include the current values, which span [{min}, {max}]"
    )]
    BoundsExcludeValues { name: String, lower: f64, upper: f64, min: f64, max: f64 },
    #[error(
        "optimize_options.control_tfm: '{tfm}' needs bounds strictly inside the feasible domain of {name}: {lower}..{upper}"
    )]
    TransformDomain { name: String, tfm: &'static str, lower: f64, upper: f64 },
}

/// The controls of a calibration stage.
#[derive(Debug, Clone)]
pub struct ControlSpace {
    pub mapping: Mapping,
    pub tfm: ControlTfm,
    pub variables: Vec<Variable>,
    /// Routing-order numbers of the active cells in column-major order (`distributed` controls).
    cells: Vec<usize>,
    /// `(row, col)` of each routing-order cell.
    rowcol: Vec<(usize, usize)>,
}

/// Smash's tolerance when checking that bounds include the current values.
const F_PRECISION: f64 = 1e-5;

impl ControlSpace {
    /// The controls of `names` (smash's `optimize_options.parameters`; all optimizable parameters when
    /// empty) with `bounds` overriding the defaults, checked against the current `parameters` and `states`.
    /// `routing_order` and `ncol` place the active cells on the grid (the mesh's).
    pub fn new(
        mapping: Mapping,
        tfm: ControlTfm,
        names: &[String],
        bounds: &[(String, (f64, f64))],
        (param_infos, state_infos): (&[VarInfo], &[VarInfo]),
        (parameters, states): (&Fields, &Fields),
        (routing_order, ncol): (&[usize], usize),
    ) -> Result<ControlSpace, ControlError> {
        let all = || {
            param_infos
                .iter()
                .enumerate()
                .map(|(k, v)| (*v, Slot::Parameter(k)))
                .chain(state_infos.iter().enumerate().map(|(k, v)| (*v, Slot::State(k))))
                .filter(|(v, _)| v.optimizable)
        };
        let choices = || all().map(|(v, _)| v.name).collect::<Vec<_>>().join(", ");
        for (i, name) in names.iter().enumerate() {
            if !all().any(|(v, _)| v.name == name) {
                return Err(ControlError::UnknownName { name: name.clone(), choices: choices() });
            }
            if names[..i].contains(name) {
                return Err(ControlError::Duplicate { name: name.clone() });
            }
        }
        // the structure's order, whatever the order of `names` (as smash's control vector)
        let selected: Vec<(VarInfo, Slot)> = if names.is_empty() {
            all().filter(|(_, s)| matches!(s, Slot::Parameter(_))).collect()
        } else {
            all().filter(|(v, _)| names.iter().any(|n| n == v.name)).collect()
        };
        if let Some((name, _)) = bounds.iter().find(|(n, _)| !selected.iter().any(|(v, _)| v.name == n)) {
            let optimized = selected.iter().map(|(v, _)| v.name).collect::<Vec<_>>().join(", ");
            return Err(ControlError::BoundsNotOptimized { name: name.clone(), optimized });
        }
        let mut variables = Vec::with_capacity(selected.len());
        for (info, slot) in selected {
            let (lower, upper) = bounds.iter().find(|(n, _)| n == info.name).map_or(info.bounds, |(_, b)| *b);
            let name = info.name.to_string();
            if lower >= upper || lower.is_nan() || upper.is_nan() {
                return Err(ControlError::BoundsOrder { name, lower, upper });
            }
            let values = match slot {
                Slot::Parameter(k) => &parameters.values[k * parameters.ncell..(k + 1) * parameters.ncell],
                Slot::State(k) => &states.values[k * states.ncell..(k + 1) * states.ncell],
            };
            let (min, max) = values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
            if min + F_PRECISION < lower || max - F_PRECISION > upper {
                return Err(ControlError::BoundsExcludeValues { name, lower, upper, min, max });
            }
            let transform = Transform::of(tfm, (lower, upper));
            let domain_ok = match transform {
                Transform::Log => lower > 0.0,
                Transform::Logit => lower > 0.0 && upper < 1.0,
                _ => true,
            };
            if !domain_ok {
                return Err(ControlError::TransformDomain { name, tfm: tfm.name(), lower, upper });
            }
            variables.push(Variable { info, slot, bounds: (lower, upper), transform });
        }
        let ncol = ncol.max(1);
        let rowcol: Vec<(usize, usize)> = routing_order.iter().map(|&c| (c / ncol, c % ncol)).collect();
        let mut cells: Vec<usize> = (0..rowcol.len()).collect();
        cells.sort_by_key(|&i| (rowcol[i].1, rowcol[i].0));
        Ok(ControlSpace { mapping, tfm, variables, cells, rowcol })
    }

    /// Controls per variable.
    fn per_variable(&self) -> usize {
        match self.mapping {
            Mapping::Uniform => 1,
            Mapping::Distributed => self.cells.len(),
        }
    }

    /// Number of controls.
    pub fn len(&self) -> usize {
        self.variables.len() * self.per_variable()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// smash's control names: `cp-0` (uniform) or `cp-12-5` (distributed, 1-based row and column).
    pub fn names(&self) -> Vec<String> {
        let mut out = Vec::with_capacity(self.len());
        for v in &self.variables {
            match self.mapping {
                Mapping::Uniform => out.push(format!("{}-0", v.info.name)),
                Mapping::Distributed => out.extend(self.cells.iter().map(|&i| {
                    let (r, c) = self.rowcol[i];
                    format!("{}-{}-{}", v.info.name, r + 1, c + 1)
                })),
            }
        }
        out
    }

    /// Bounds in the optimizer's space.
    pub fn bounds(&self) -> Bounds {
        let (mut lower, mut upper) = (Vec::with_capacity(self.len()), Vec::with_capacity(self.len()));
        for v in &self.variables {
            let (l, u) = (v.transform.forward(v.bounds.0), v.transform.forward(v.bounds.1));
            lower.extend(std::iter::repeat_n(l, self.per_variable()));
            upper.extend(std::iter::repeat_n(u, self.per_variable()));
        }
        Bounds { lower, upper }
    }

    fn field<'a>(&self, v: &Variable, parameters: &'a Fields, states: &'a Fields) -> &'a [f64] {
        match v.slot {
            Slot::Parameter(k) => &parameters.values[k * parameters.ncell..(k + 1) * parameters.ncell],
            Slot::State(k) => &states.values[k * states.ncell..(k + 1) * states.ncell],
        }
    }

    /// The control vector of the current fields (smash's first guess): the mean over active cells for
    /// `uniform`, the cell values for `distributed`; clipped into the bounds and transformed.
    pub fn first_guess(&self, parameters: &Fields, states: &Fields) -> Vec<f64> {
        let mut x = Vec::with_capacity(self.len());
        for v in &self.variables {
            let values = self.field(v, parameters, states);
            let clip = |p: f64| p.clamp(v.bounds.0, v.bounds.1);
            match self.mapping {
                Mapping::Uniform => {
                    let mean = values.iter().sum::<f64>() / values.len().max(1) as f64;
                    x.push(v.transform.forward(clip(mean)));
                }
                Mapping::Distributed => x.extend(self.cells.iter().map(|&i| v.transform.forward(clip(values[i])))),
            }
        }
        x
    }

    /// Writes the physical values of control vector `x` into the fields.
    pub fn apply(&self, x: &[f64], parameters: &mut Fields, states: &mut Fields) {
        assert_eq!(x.len(), self.len(), "control vector length");
        let m = self.per_variable();
        for (j, v) in self.variables.iter().enumerate() {
            let xs = &x[j * m..(j + 1) * m];
            let field = match v.slot {
                Slot::Parameter(k) => &mut parameters.values[k * parameters.ncell..(k + 1) * parameters.ncell],
                Slot::State(k) => &mut states.values[k * states.ncell..(k + 1) * states.ncell],
            };
            match self.mapping {
                Mapping::Uniform => field.fill(v.transform.inverse(xs[0])),
                Mapping::Distributed => {
                    for (&i, &xi) in self.cells.iter().zip(xs) {
                        field[i] = v.transform.inverse(xi);
                    }
                }
            }
        }
    }

    /// The physical values of control vector `x`, `[n]` (what `prior` regularization compares).
    pub fn physical(&self, x: &[f64]) -> Vec<f64> {
        let m = self.per_variable();
        x.iter().enumerate().map(|(i, &xi)| self.variables[i / m.max(1)].transform.inverse(xi)).collect()
    }

    /// ∂/∂(physical) → ∂/∂x for control vector `x`, entry by entry.
    pub fn physical_to_control(&self, x: &[f64], grad_physical: &[f64]) -> Vec<f64> {
        let m = self.per_variable();
        x.iter()
            .zip(grad_physical)
            .enumerate()
            .map(|(i, (&xi, &g))| g * self.variables[i / m].transform.derivative(xi))
            .collect()
    }

    /// The gradient with respect to `x` from the gradients with respect to every cell's parameters and
    /// states (the adjoint's output): summed over cells for `uniform`, per cell for `distributed`.
    pub fn pull_back(&self, x: &[f64], grad_parameters: &Fields, grad_states: &Fields) -> Vec<f64> {
        let mut physical = Vec::with_capacity(self.len());
        for v in &self.variables {
            let g = self.field(v, grad_parameters, grad_states);
            match self.mapping {
                Mapping::Uniform => physical.push(g.iter().sum()),
                Mapping::Distributed => physical.extend(self.cells.iter().map(|&i| g[i])),
            }
        }
        self.physical_to_control(x, &physical)
    }

    /// The routing-order cell of distributed control `i` of a variable.
    pub fn cell_of(&self, i: usize) -> usize {
        self.cells[i]
    }
}

#[cfg(test)]
mod tests;
