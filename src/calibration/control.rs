//! The control vector of a calibration (spec §4–§5): which parameters and initial states are optimized,
//! how control values map onto the cells (`mapping`), and the bijection between physical values and the
//! optimizer's space (`control_tfm`).
//!
//! Layout, as smash's: variables in the structure's order (parameters, then states), each with its
//! controls: `uniform` one value; `distributed` one per active cell in column-major order (col outer,
//! row inner); `zones` one per zone ([`Zones`]); `multi-linear` an intercept then one coefficient per
//! descriptor; `multi-power` an intercept then a coefficient and an exponent per descriptor; `ann` none:
//! the network's weights follow (after the hybrid network's tensors).

mod ann;
mod network;
mod regional;
mod transform;
mod zones;

pub use transform::ControlTfm;
pub use zones::{ZoneError, ZoneSource, Zones};

use crate::calibration::descriptors::Descriptors;
use crate::mesh::Mesh;
use crate::model::Fields;
use crate::model::ann::AnnLayers;
use crate::optim::Bounds;
use ann::AnnBlock;
use hydrograd_models::nn::MlpShape;
use hydrograd_models::registry::VarInfo;
use network::NetTensor;
use regional::{Coefficients, select_descriptors};
use std::sync::Arc;
use transform::Transform;

/// How control values map onto the cells (smash's `mapping`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mapping {
    /// One value per variable on every active cell (`<name>-0`).
    Uniform,
    /// One value per variable and active cell (`<name>-<row>-<col>`, 1-based).
    Distributed,
    /// A scaled sigmoid of a linear combination of descriptors (`<name>-0`, `<name>-<descriptor>-a`).
    MultiLinear,
    /// As multi-linear with each descriptor raised to a bounded power (`…-a`, `…-b`).
    MultiPower,
    /// A neural network of the descriptors, scaled to the bounds (`ann_weight_1-1-1`, …).
    Ann,
    /// One value per variable and zone on the zone's active cells (`<name>-<zone>`, [`Zones`]).
    Zones,
}

impl Mapping {
    pub const ALL: [Mapping; 6] = [
        Mapping::Uniform,
        Mapping::Distributed,
        Mapping::Zones,
        Mapping::MultiLinear,
        Mapping::MultiPower,
        Mapping::Ann,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Mapping::Uniform => "uniform",
            Mapping::Distributed => "distributed",
            Mapping::MultiLinear => "multi-linear",
            Mapping::MultiPower => "multi-power",
            Mapping::Ann => "ann",
            Mapping::Zones => "zones",
        }
    }

    pub fn from_name(name: &str) -> Option<Mapping> {
        Mapping::ALL.into_iter().find(|m| m.name() == name)
    }

    /// Whether the mapping reads descriptors.
    pub fn is_regional(self) -> bool {
        matches!(self, Mapping::MultiLinear | Mapping::MultiPower | Mapping::Ann)
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
    /// Descriptors of a regional mapping, indices into [`Descriptors::names`].
    pub descriptors: Vec<usize>,
    /// First control of the variable in the control vector.
    offset: usize,
    transform: Transform,
}

/// smash's bounds of the exponents `b` of multi-power.
const EXPONENT_BOUNDS: (f64, f64) = (0.5, 2.0);

/// What a stage optimizes (its `optimize_options`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Selection<'a> {
    /// `parameters`: names to optimize (empty: every optimizable parameter of the structure).
    pub names: &'a [String],
    /// `bounds`: `(name, (lower, upper))` overriding the defaults.
    pub bounds: &'a [(String, (f64, f64))],
    /// `descriptor`: the descriptors of each variable in a regional mapping (default: all).
    pub descriptors: &'a [(String, Vec<String>)],
    /// `net`: the layers of an `ann` mapping (default: smash's graph for the number of descriptors and
    /// variables).
    pub net: Option<&'a AnnLayers>,
    /// The seed of an `ann` network's first weights.
    pub random_state: u32,
    /// `zones`: the zones of a `zones` mapping (default: the gauges').
    pub zones: Option<&'a ZoneSource>,
}

/// Where the controls act: the active cells on the grid and their descriptors.
#[derive(Debug, Clone)]
pub struct Domain<'a> {
    /// Grid index of each routing-order cell.
    pub routing_order: &'a [usize],
    pub nrow: usize,
    pub ncol: usize,
    /// The mesh of the run, whose gauges, flow directions and grid define a `zones` mapping's zones.
    pub mesh: Option<&'a Mesh>,
    pub descriptors: Option<Arc<Descriptors>>,
    /// The network of a hybrid structure, whose weights can be controls.
    pub net: Option<MlpShape>,
}

impl<'a> Domain<'a> {
    /// The active cells of `inputs`' mesh with the descriptors of `config` (transformed by its
    /// `descriptor_tfm`), if it reads any.
    pub fn of(config: &crate::config::Config, inputs: &'a crate::model::Inputs) -> Domain<'a> {
        let mesh = &inputs.mesh;
        let descriptors = (!inputs.descriptors.is_empty()).then(|| {
            let (names, maps) = (&config.descriptor_name, &inputs.descriptors);
            Arc::new(Descriptors::new(names, maps, &mesh.routing_order, config.descriptor_tfm))
        });
        let net = config.structure.hydrology.net();
        let (nrow, ncol) = (mesh.grid.nrow, mesh.grid.ncol);
        Domain { routing_order: &mesh.routing_order, nrow, ncol, mesh: Some(mesh), descriptors, net }
    }
}

/// Why a control space cannot be built.
#[derive(Debug, thiserror::Error)]
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
    #[error("mapping '{mapping}' needs descriptors: set setup.descriptor_directory and setup.descriptor_name")]
    NoDescriptors { mapping: &'static str },
    #[error("optimize_options.descriptor.{name}: '{descriptor}' is not in setup.descriptor_name ({choices})")]
    UnknownDescriptor { name: String, descriptor: String, choices: String },
    #[error("optimize_options.descriptor: '{name}' is not optimized in this stage, or the mapping is not regional")]
    DescriptorNotOptimized { name: String },
    #[error(transparent)]
    Zones(#[from] ZoneError),
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
    descriptors: Option<Arc<Descriptors>>,
    /// Optimized network tensors, whose controls follow the variables'.
    tensors: Vec<NetTensor>,
    /// The regionalization network of an `ann` mapping, whose controls come last.
    ann: Option<AnnBlock>,
    /// The zones of a `zones` mapping.
    zones: Option<Zones>,
    /// Controls of the variables (the first ones).
    variables_len: usize,
    len: usize,
}

/// Smash's tolerance when checking that bounds include the current values.
const F_PRECISION: f64 = 1e-5;

impl ControlSpace {
    /// The controls of `selection` (smash's `optimize_options`), checked against the current `parameters`
    /// and `states`, on `domain`.
    pub fn new(
        mapping: Mapping,
        tfm: ControlTfm,
        selection: &Selection<'_>,
        (param_infos, state_infos): (&[VarInfo], &[VarInfo]),
        (parameters, states): (&Fields, &Fields),
        domain: &Domain<'_>,
    ) -> Result<ControlSpace, ControlError> {
        let (names, bounds) = (selection.names, selection.bounds);
        let all = || {
            param_infos
                .iter()
                .enumerate()
                .map(|(k, v)| (*v, Slot::Parameter(k)))
                .chain(state_infos.iter().enumerate().map(|(k, v)| (*v, Slot::State(k))))
                .filter(|(v, _)| v.optimizable)
        };
        let all_tensors = domain.net.map(network::tensors).unwrap_or_default();
        let choices = || {
            let tensors = all_tensors.iter().map(|t| t.name.as_str());
            all().map(|(v, _)| v.name).chain(tensors).collect::<Vec<_>>().join(", ")
        };
        let is_tensor = |name: &str| all_tensors.iter().any(|t| t.name == name);
        for (i, name) in names.iter().enumerate() {
            if !all().any(|(v, _)| v.name == name) && !is_tensor(name) {
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
        let optimized = || selected.iter().map(|(v, _)| v.name).collect::<Vec<_>>().join(", ");
        if let Some((name, _)) = bounds.iter().find(|(n, _)| !selected.iter().any(|(v, _)| v.name == n)) {
            return Err(ControlError::BoundsNotOptimized { name: name.clone(), optimized: optimized() });
        }
        let descriptors = match (mapping.is_regional(), &domain.descriptors) {
            (true, Some(d)) if !d.is_empty() => Some(d.clone()),
            (true, _) => return Err(ControlError::NoDescriptors { mapping: mapping.name() }),
            (false, _) => None,
        };
        if let Some((name, _)) = selection
            .descriptors
            .iter()
            .find(|(n, _)| descriptors.is_none() || !selected.iter().any(|(v, _)| v.name == n))
        {
            return Err(ControlError::DescriptorNotOptimized { name: name.clone() });
        }
        let zones = match (mapping, domain.mesh) {
            (Mapping::Zones, Some(mesh)) => Some(Zones::new(selection.zones.unwrap_or(&ZoneSource::Gauges), mesh)?),
            (Mapping::Zones, None) => return Err(ZoneError::NoMesh.into()),
            _ => None,
        };
        let mut variables = Vec::with_capacity(selected.len());
        let mut offset = 0;
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
                _ if mapping.is_regional() => true,
                Transform::Log => lower > 0.0,
                Transform::Logit => lower > 0.0 && upper < 1.0,
                _ => true,
            };
            if !domain_ok {
                return Err(ControlError::TransformDomain { name, tfm: tfm.name(), lower, upper });
            }
            let chosen = match &descriptors {
                Some(d) => select_descriptors(&name, d, selection.descriptors)?,
                None => Vec::new(),
            };
            let count = match mapping {
                Mapping::Uniform => 1,
                Mapping::Distributed => domain.routing_order.len(),
                Mapping::Zones => zones.as_ref().map_or(0, Zones::len),
                Mapping::MultiLinear => 1 + chosen.len(),
                Mapping::MultiPower => 1 + 2 * chosen.len(),
                Mapping::Ann => 0,
            };
            variables.push(Variable { info, slot, bounds: (lower, upper), descriptors: chosen, offset, transform });
            offset += count;
        }
        let ncol = domain.ncol.max(1);
        let rowcol: Vec<(usize, usize)> = domain.routing_order.iter().map(|&c| (c / ncol, c % ncol)).collect();
        let mut cells: Vec<usize> = (0..rowcol.len()).collect();
        cells.sort_by_key(|&i| (rowcol[i].1, rowcol[i].0));
        // smash's default: every parameter and every network tensor
        let tensors: Vec<NetTensor> =
            all_tensors.into_iter().filter(|t| names.is_empty() || names.contains(&t.name)).collect();
        let ann = match (&descriptors, mapping) {
            (Some(d), Mapping::Ann) => Some(ann::block(&variables, d, selection, parameters, domain)),
            _ => None,
        };
        let len = offset + tensors.iter().map(NetTensor::len).sum::<usize>() + ann.as_ref().map_or(0, AnnBlock::len);
        Ok(ControlSpace {
            mapping,
            tfm,
            variables,
            cells,
            rowcol,
            descriptors,
            tensors,
            ann,
            zones,
            variables_len: offset,
            len,
        })
    }

    /// The zones of a `zones` mapping.
    pub fn zones(&self) -> Option<&Zones> {
        self.zones.as_ref()
    }

    /// Number of controls.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The controls of variable `j`, `x[range]`.
    fn range(&self, j: usize) -> std::ops::Range<usize> {
        let end = self.variables.get(j + 1).map_or(self.variables_len, |v| v.offset);
        self.variables[j].offset..end
    }

    /// The transform of control `i` of variable `v`: the variable's, except for the coefficients of a
    /// regional mapping (unbounded, kept as they are) and the exponents of multi-power (bounded in
    /// [0.5, 2], transformed by `control_tfm` as smash's bounded controls).
    fn transform_of(&self, v: &Variable, i: usize) -> Transform {
        match self.mapping {
            Mapping::Uniform | Mapping::Distributed | Mapping::Zones => v.transform,
            Mapping::MultiLinear => Transform::Identity,
            Mapping::MultiPower if i > 0 && i.is_multiple_of(2) => Transform::of(self.tfm, EXPONENT_BOUNDS),
            Mapping::MultiPower | Mapping::Ann => Transform::Identity,
        }
    }

    /// Every control's transform, `[n]`.
    fn transforms(&self) -> impl Iterator<Item = Transform> + '_ {
        let variables = self
            .variables
            .iter()
            .enumerate()
            .flat_map(move |(j, v)| self.range(j).map(move |i| self.transform_of(v, i - v.offset)));
        variables.chain(std::iter::repeat_n(Transform::Identity, self.len - self.variables_len))
    }

    /// smash's control names: `cp-0` (uniform), `cp-12-5` (distributed, 1-based row and column),
    /// `cp-0`, `cp-slope-a`, `cp-slope-b` (regional); and `cp-V3524010`, `cp-3` (zones).
    pub fn names(&self) -> Vec<String> {
        let mut out = Vec::with_capacity(self.len());
        for v in &self.variables {
            let name = v.info.name;
            match self.mapping {
                Mapping::Uniform => out.push(format!("{name}-0")),
                Mapping::Distributed => out.extend(self.cells.iter().map(|&i| {
                    let (r, c) = self.rowcol[i];
                    format!("{name}-{}-{}", r + 1, c + 1)
                })),
                Mapping::Zones => {
                    out.extend(self.zones().into_iter().flat_map(|z| &z.names).map(|z| format!("{name}-{z}")))
                }
                Mapping::Ann => {}
                Mapping::MultiLinear | Mapping::MultiPower => {
                    out.push(format!("{name}-0"));
                    let descriptors = self.descriptors.as_ref().expect("regional mappings have descriptors");
                    for &d in &v.descriptors {
                        let d = &descriptors.names[d];
                        out.push(format!("{name}-{d}-a"));
                        if self.mapping == Mapping::MultiPower {
                            out.push(format!("{name}-{d}-b"));
                        }
                    }
                }
            }
        }
        for t in &self.tensors {
            out.extend((0..t.len()).map(|k| t.control_name(k)));
        }
        out.extend(self.ann.iter().flat_map(AnnBlock::names));
        out
    }

    /// Bounds in the optimizer's space (infinite for the coefficients of a regional mapping).
    pub fn bounds(&self) -> Bounds {
        let (mut lower, mut upper) = (Vec::with_capacity(self.len()), Vec::with_capacity(self.len()));
        for (j, v) in self.variables.iter().enumerate() {
            for i in self.range(j) {
                let t = self.transform_of(v, i - v.offset);
                let (l, u) = match self.mapping {
                    Mapping::Uniform | Mapping::Distributed | Mapping::Zones => v.bounds,
                    _ if t == Transform::Identity => (f64::NEG_INFINITY, f64::INFINITY),
                    _ => EXPONENT_BOUNDS,
                };
                let unbounded = l == f64::NEG_INFINITY;
                lower.push(if unbounded { l } else { t.forward(l) });
                upper.push(if unbounded { u } else { t.forward(u) });
            }
        }
        lower.resize(self.len, f64::NEG_INFINITY);
        upper.resize(self.len, f64::INFINITY);
        Bounds { lower, upper }
    }

    fn field<'a>(&self, v: &Variable, parameters: &'a Fields, states: &'a Fields) -> &'a [f64] {
        match v.slot {
            Slot::Parameter(k) => &parameters.values[k * parameters.ncell..(k + 1) * parameters.ncell],
            Slot::State(k) => &states.values[k * states.ncell..(k + 1) * states.ncell],
        }
    }

    /// The control vector of the current fields (smash's first guess): the mean over active cells for
    /// `uniform` (over each zone's for `zones`), the cell values for `distributed`, clipped into the bounds
    /// and transformed; for the regional mappings the intercept whose sigmoid is the mean, coefficients 0
    /// and exponents 1.
    pub fn first_guess(&self, parameters: &Fields, states: &Fields) -> Vec<f64> {
        let mut x = Vec::with_capacity(self.len());
        for v in &self.variables {
            let values = self.field(v, parameters, states);
            let clip = |p: f64| p.clamp(v.bounds.0, v.bounds.1);
            let mean = || values.iter().sum::<f64>() / values.len().max(1) as f64;
            match self.mapping {
                Mapping::Uniform => x.push(v.transform.forward(clip(mean()))),
                Mapping::Distributed => x.extend(self.cells.iter().map(|&i| v.transform.forward(clip(values[i])))),
                Mapping::Zones => x.extend(
                    self.zones().into_iter().flat_map(|z| z.means(values)).map(|m| v.transform.forward(clip(m))),
                ),
                Mapping::Ann => {}
                Mapping::MultiLinear | Mapping::MultiPower => {
                    x.push(regional::inverse_scaled_sigmoid(mean(), v.bounds));
                    let exponent = Transform::of(self.tfm, EXPONENT_BOUNDS).forward(1.0);
                    let term: &[f64] = if self.mapping == Mapping::MultiPower { &[0.0, exponent] } else { &[0.0] };
                    x.extend(v.descriptors.iter().flat_map(|_| term.iter().copied()));
                }
            }
        }
        x.extend(self.network_values(&parameters.weights));
        x.extend(self.ann.iter().flat_map(|a| a.initial.iter().copied()));
        x
    }

    /// The values of the optimized network tensors in `weights` (`[W]`), in control order.
    fn network_values<'a>(&'a self, weights: &'a [f64]) -> impl Iterator<Item = f64> + 'a {
        self.tensors.iter().flat_map(move |t| (0..t.len()).map(move |k| weights[t.flat_index(k)]))
    }

    /// The regional coefficients of variable `j` at `x`, in physical space.
    fn coefficients(&self, j: usize, x: &[f64]) -> Vec<f64> {
        let v = &self.variables[j];
        self.range(j).map(|i| self.transform_of(v, i - v.offset).inverse(x[i])).collect()
    }

    /// Writes the physical values of control vector `x` into the fields.
    pub fn apply(&self, x: &[f64], parameters: &mut Fields, states: &mut Fields) {
        assert_eq!(x.len(), self.len(), "control vector length");
        for (j, v) in self.variables.iter().enumerate() {
            let xs = &x[self.range(j)];
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
                Mapping::Zones => {
                    let zones = self.zones().expect("a zones mapping has zones");
                    zones.fill(field, xs.iter().map(|&xi| v.transform.inverse(xi)));
                }
                Mapping::MultiLinear | Mapping::MultiPower => {
                    let values = self.coefficients(j, x);
                    let c = Coefficients { values: &values, power: self.mapping == Mapping::MultiPower };
                    let descriptors = self.descriptors.as_ref().expect("regional mappings have descriptors");
                    let z = regional::predictor(descriptors, &v.descriptors, c);
                    field.iter_mut().zip(z).for_each(|(f, z)| *f = regional::scaled_sigmoid(z, v.bounds));
                }
                Mapping::Ann => {}
            }
        }
        let mut xs = x[self.variables_len..].iter();
        for t in &self.tensors {
            for k in 0..t.len() {
                parameters.weights[t.flat_index(k)] = *xs.next().expect("one control per tensor entry");
            }
        }
        if let Some(ann) = &self.ann {
            let w = &x[self.len - ann.len()..];
            let descriptors = self.descriptors.as_ref().expect("ann mappings have descriptors");
            let values = ann.values(w, descriptors);
            let n = descriptors.ncell;
            for (j, v) in self.variables.iter().enumerate() {
                let field = match v.slot {
                    Slot::Parameter(k) => &mut parameters.values[k * parameters.ncell..(k + 1) * parameters.ncell],
                    Slot::State(k) => &mut states.values[k * states.ncell..(k + 1) * states.ncell],
                };
                field.copy_from_slice(&values[j * n..(j + 1) * n]);
            }
            parameters.ann = Some(ann.weights(w));
        }
    }

    /// The physical values of control vector `x`, `[n]` (what `prior` regularization compares).
    pub fn physical(&self, x: &[f64]) -> Vec<f64> {
        x.iter().zip(self.transforms()).map(|(&xi, t)| t.inverse(xi)).collect()
    }

    /// ∂/∂(physical) → ∂/∂x for control vector `x`, entry by entry.
    pub fn physical_to_control(&self, x: &[f64], grad_physical: &[f64]) -> Vec<f64> {
        x.iter().zip(grad_physical).zip(self.transforms()).map(|((&xi, &g), t)| g * t.derivative(xi)).collect()
    }

    /// The gradient with respect to `x` from the gradients with respect to every cell's parameters and
    /// states (the adjoint's output): summed over cells for `uniform` (over each zone's for `zones`), per
    /// cell for `distributed`, through
    /// the sigmoid and the descriptors for the regional mappings.
    pub fn pull_back(&self, x: &[f64], grad_parameters: &Fields, grad_states: &Fields) -> Vec<f64> {
        let mut physical = Vec::with_capacity(self.len());
        for (j, v) in self.variables.iter().enumerate() {
            let g = self.field(v, grad_parameters, grad_states);
            match self.mapping {
                Mapping::Uniform => physical.push(g.iter().sum()),
                Mapping::Distributed => physical.extend(self.cells.iter().map(|&i| g[i])),
                Mapping::Zones => physical.extend(self.zones().into_iter().flat_map(|z| z.sums(g))),
                Mapping::MultiLinear | Mapping::MultiPower => {
                    let values = self.coefficients(j, x);
                    let c = Coefficients { values: &values, power: self.mapping == Mapping::MultiPower };
                    let descriptors = self.descriptors.as_ref().expect("regional mappings have descriptors");
                    physical.extend(regional::pull_back(descriptors, &v.descriptors, c, v.bounds, g));
                }
                Mapping::Ann => {}
            }
        }
        physical.extend(self.network_values(&grad_parameters.weights));
        if let Some(ann) = &self.ann {
            let grad_values: Vec<f64> = self
                .variables
                .iter()
                .flat_map(|v| self.field(v, grad_parameters, grad_states).iter().copied())
                .collect();
            let descriptors = self.descriptors.as_ref().expect("ann mappings have descriptors");
            physical.extend(ann.pull_back(&x[self.len - ann.len()..], descriptors, &grad_values));
        }
        self.physical_to_control(x, &physical)
    }
}

#[cfg(test)]
mod tests;
