//! `hydrograd bench --engines`: forward and forward+adjoint throughput of every engine (the CPU engine
//! and each GPU device) on the same problems, in single precision: the configuration's catchment with
//! batches of parameter sets, and a synthetic grid (streamed through the GPU in chunks).
//!
//! The GPU is timed on a prepared model (network and resident forcing uploaded once, as in a
//! calibration loop), after one untimed call that compiles the kernels; the CPU engine runs the same
//! batches (its adjoint takes the sets one after the other, each in parallel over cells).

use super::Timing;
use crate::Error;
use crate::config::{Config, DeviceKind};
use crate::model::{gauge_cells, initial_fields, load_inputs};
use hydrograd_models::adjoint::{self, AdjointOptions};
use hydrograd_models::network::RoutingNetwork;
use hydrograd_models::routing::RoutingModule;
use hydrograd_models::simulation::{self, Batch, Forcing, RunOptions, Setup};
use hydrograd_models::structure::{HydrologicalModule, Structure};
use rayon::prelude::*;
use std::time::Instant;

/// What is timed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    Forward,
    /// Forward sweep, a linear cost of the outlet discharge, and the adjoint.
    Gradient,
}

impl Pass {
    pub fn name(self) -> &'static str {
        match self {
            Pass::Forward => "forward",
            Pass::Gradient => "forward+adjoint",
        }
    }
}

/// One measured cell of the table.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineTiming {
    pub device: DeviceKind,
    /// The adapter's name for a GPU, `cpu (N threads)` for the CPU engine.
    pub device_name: String,
    pub problem: String,
    pub pass: Pass,
    pub timing: Timing,
}

/// A problem in single precision: network, outlets, forcing `[T, N]`, parameters `[P, N]` and states
/// `[K, N]` of one set.
pub struct Problem {
    pub name: String,
    pub structure: Structure,
    pub network: RoutingNetwork,
    pub outlets: Vec<usize>,
    pub dt: f64,
    pub ntime: usize,
    pub prcp: Vec<f32>,
    pub pet: Vec<f32>,
    pub parameters: Vec<f32>,
    pub states: Vec<f32>,
    /// Network weights of a hybrid structure, `[W]` (empty for the others).
    pub weights: Vec<f32>,
}

impl Problem {
    /// The configuration's catchment, its parameters and initial states.
    pub fn from_config(config: &Config) -> Result<Problem, Error> {
        let inputs = load_inputs(config)?;
        let (parameters, states) = initial_fields(config, &inputs)?;
        // the file's stem, or its folder's name for a file called config.toml
        let stem = config.path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let folder = config.path.parent().and_then(|p| p.file_name()).map(|s| s.to_string_lossy().into_owned());
        let name = if stem == "config" { folder.unwrap_or(stem) } else { stem };
        Ok(Problem {
            name,
            structure: config.structure,
            outlets: gauge_cells(&inputs.mesh),
            network: inputs.network,
            dt: config.time.dt as f64,
            ntime: config.time.ntime,
            prcp: inputs.forcing.prcp.to_vec(),
            pet: inputs.forcing.pet.to_vec(),
            parameters: parameters.values.iter().map(|&v| v as f32).collect(),
            states: states.values.iter().map(|&v| v as f32).collect(),
            weights: parameters.weights.iter().map(|&v| v as f32).collect(),
        })
    }

    /// A synthetic square grid of about `cells` 1 km cells (gr4-lr, hourly): every cell drains towards
    /// the nearest edge of the square (ties broken by a hash), so rivers are up to half the side long;
    /// storms move over the grid. Outlets: four edge cells.
    pub fn synthetic(cells: usize, ntime: usize) -> Problem {
        let side = (cells as f64).sqrt().round().max(2.0) as usize;
        let (network, number) = pyramid_network(side);
        let n = network.len();
        let structure = Structure { hydrology: HydrologicalModule::Gr4, routing: RoutingModule::Lr };
        let (mut prcp, mut pet) = (vec![0f32; ntime * n], vec![0f32; ntime * n]);
        prcp.par_chunks_mut(n).zip(pet.par_chunks_mut(n)).enumerate().for_each(|(t, (p, e))| {
            let front = (t % 240) as f64 / 240.0 * side as f64;
            for c in 0..n {
                let x = (c % side) as f64;
                let wet = (x - front).abs() < side as f64 / 8.0 && (t / 240) % 2 == 0;
                p[c] = if wet { 2.0 + (hash(c as u64 ^ t as u64) % 400) as f32 / 100.0 } else { 0.0 };
                e[c] = 0.1 + 0.1 * ((t % 24) as f32 / 24.0);
            }
        });
        let defaults = [1.0f32, 200.0, 500.0, -0.5, 20.0];
        let parameters = defaults.iter().flat_map(|&v| std::iter::repeat_n(v, n)).collect();
        let states = [0.01f32, 0.3, 0.3, 1e-6].iter().flat_map(|&v| std::iter::repeat_n(v, n)).collect();
        Problem {
            name: format!("synthetic {n} cells"),
            structure,
            outlets: [0, side - 1, n - side, n - 1].into_iter().map(|c| number[c]).collect(),
            network,
            dt: 3600.0,
            ntime,
            prcp,
            pet,
            parameters,
            states,
            weights: Vec::new(),
        }
    }

    pub fn cells(&self) -> usize {
        self.network.len()
    }

    fn setup(&self) -> Setup<'_> {
        Setup { structure: self.structure, network: &self.network, dt: self.dt, outlets: &self.outlets }
    }

    fn forcing(&self) -> Forcing<'_, f32> {
        Forcing { ntime: self.ntime, prcp: &self.prcp, pet: &self.pet }
    }

    /// `sets` parameter sets `[P, S, N]`: the first is the problem's own, the others draw every
    /// calibrated parameter (all but `ci`) uniformly in its default bounds, uniform in space.
    pub fn batch(&self, sets: usize) -> Batch<f32> {
        let n = self.cells();
        let infos = self.structure.parameters();
        let mut draw = 0x9E37_79B9_7F4A_7C15u64;
        let mut parameters = vec![0f32; infos.len() * sets * n];
        for (k, info) in infos.iter().enumerate() {
            for set in 0..sets {
                let dst = &mut parameters[(k * sets + set) * n..(k * sets + set + 1) * n];
                if set == 0 || info.name == "ci" {
                    dst.copy_from_slice(&self.parameters[k * n..(k + 1) * n]);
                } else {
                    draw = hash(draw);
                    let u = (draw >> 11) as f64 / (1u64 << 53) as f64;
                    dst.fill((info.bounds.0 + u * (info.bounds.1 - info.bounds.0)) as f32);
                }
            }
        }
        let nk = self.states.len() / n.max(1);
        let states = (0..nk).flat_map(|k| (0..sets).flat_map(move |_| self.states[k * n..(k + 1) * n].iter().copied()));
        let weights = self.weights.repeat(sets);
        Batch { nset: sets, ncell: n, parameters, states: states.collect(), weights }
    }
}

/// A splitmix64 step.
fn hash(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Distance of grid cell `c` of a `side × side` square to its nearest edge.
fn depth(side: usize, c: usize) -> usize {
    let (r, col) = (c / side, c % side);
    r.min(col).min(side - 1 - r).min(side - 1 - col)
}

/// The `side × side` grid draining to its edges: a cell at depth `d > 0` drains into one of its
/// neighbours at depth `d − 1` (chosen by a hash); partitions are the depths, deepest first. Returns the
/// network and the routing-order number of every grid cell.
fn pyramid_network(side: usize) -> (RoutingNetwork, Vec<usize>) {
    let n = side * side;
    let depths: Vec<usize> = (0..n).map(|c| depth(side, c)).collect();
    let max_depth = depths.iter().copied().max().unwrap_or(0);
    // routing order: deepest first, by grid index within a depth
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&c| (max_depth - depths[c], c));
    let mut number = vec![0usize; n];
    order.iter().enumerate().for_each(|(k, &c)| number[c] = k);
    let mut upstream: Vec<Vec<u32>> = vec![Vec::new(); n];
    for c in 0..n {
        let d = depths[c];
        if d == 0 {
            continue;
        }
        let (r, col) = (c / side, c % side);
        let candidates: Vec<usize> = [(r - 1, col), (r + 1, col), (r, col - 1), (r, col + 1)]
            .into_iter()
            .map(|(r, col)| r * side + col)
            .filter(|&o| depths[o] + 1 == d)
            .collect();
        let down = candidates[(hash(c as u64) % candidates.len() as u64) as usize];
        upstream[number[down]].push(number[c] as u32);
    }
    let mut partition_offsets = vec![0];
    for d in (0..=max_depth).rev() {
        partition_offsets.push(partition_offsets.last().unwrap() + depths.iter().filter(|&&x| x == d).count());
    }
    let mut upstream_offsets = vec![0];
    let mut flat = Vec::new();
    for u in &mut upstream {
        u.sort_unstable();
        flat.extend_from_slice(u);
        upstream_offsets.push(flat.len());
    }
    // upstream area: accumulated from the deepest cells down
    let mut area = vec![0.0f64; n];
    for cell in 0..n {
        for &u in &flat[upstream_offsets[cell]..upstream_offsets[cell + 1]] {
            area[cell] += area[u as usize] + 1e6;
        }
    }
    let network = RoutingNetwork {
        partition_offsets,
        upstream_offsets,
        upstream: flat,
        upstream_area: area,
        dx: 1000.0,
        dy: 1000.0,
    };
    (network, number)
}

/// Median seconds of `repeats` calls of `f` after one untimed call (kernel compilation, caches).
fn median_time(repeats: usize, mut f: impl FnMut() -> Result<(), Error>) -> Result<f64, Error> {
    f()?;
    let mut times = Vec::with_capacity(repeats);
    for _ in 0..repeats.max(1) {
        let start = Instant::now();
        f()?;
        times.push(start.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}

/// Cotangent of a linear cost: one at every outlet and step of every set.
fn unit_cotangent(q: &[f32]) -> Vec<f32> {
    vec![1.0; q.len()]
}

/// Times `pass` of `sets` parameter sets of `problem` on `device`.
pub fn time_engine(
    device: DeviceKind,
    problem: &Problem,
    sets: usize,
    pass: Pass,
    repeats: usize,
) -> Result<EngineTiming, Error> {
    let batch = problem.batch(sets);
    let (setup, forcing) = (problem.setup(), problem.forcing());
    let (seconds, device_name) = match device {
        DeviceKind::Cpu => {
            let n = problem.cells();
            let seconds = median_time(repeats, || {
                match pass {
                    Pass::Forward => {
                        let mut b = batch.clone();
                        std::hint::black_box(simulation::forward(&setup, &forcing, &mut b, &RunOptions::default())?);
                    }
                    Pass::Gradient => {
                        for set in 0..sets {
                            let pick = |v: &[f32]| -> Vec<f32> {
                                let k = v.len() / (sets * n);
                                (0..k)
                                    .flat_map(|k| v[(k * sets + set) * n..(k * sets + set + 1) * n].to_vec())
                                    .collect()
                            };
                            let g = adjoint::gradient(
                                &setup,
                                &forcing,
                                &pick(&batch.parameters),
                                &pick(&batch.states),
                                &problem.weights,
                                |q| (0.0, unit_cotangent(q)),
                                &AdjointOptions::default(),
                            )?;
                            std::hint::black_box(g);
                        }
                    }
                }
                Ok(())
            })?;
            (seconds, format!("cpu ({} threads)", rayon::current_num_threads()))
        }
        #[cfg(any(feature = "wgpu", feature = "cuda"))]
        _ => gpu::time(device, setup, forcing, &batch, pass, repeats)?,
        #[cfg(not(any(feature = "wgpu", feature = "cuda")))]
        _ => return Err(crate::model::not_compiled(device)),
    };
    let timing = Timing { cells: problem.cells(), steps: problem.ntime, sets, seconds };
    Ok(EngineTiming { device, device_name, problem: problem.name.clone(), pass, timing })
}

#[cfg(any(feature = "wgpu", feature = "cuda"))]
mod gpu {
    use super::*;
    use hydrograd_kernels::{Gpu, GpuModel, GpuOptions};

    pub(super) fn time(
        device: DeviceKind,
        setup: Setup<'_>,
        forcing: Forcing<'_, f32>,
        batch: &Batch<f32>,
        pass: Pass,
        repeats: usize,
    ) -> Result<(f64, String), Error> {
        let gpu = Gpu::open(device)?;
        let model = GpuModel::new(&gpu, setup, forcing, &GpuOptions::default())?;
        let seconds = median_time(repeats, || {
            match pass {
                Pass::Forward => {
                    std::hint::black_box(model.forward(&mut batch.clone())?);
                }
                Pass::Gradient => {
                    std::hint::black_box(model.gradient(batch, unit_cotangent)?);
                }
            }
            Ok(())
        })?;
        Ok((seconds, gpu.name.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pyramid_drains_every_cell_to_an_edge() {
        let (net, _) = pyramid_network(9);
        net.validate().unwrap();
        assert_eq!(net.len(), 81);
        // 5 depths (0..=4), the centre alone in the first partition
        assert_eq!(net.partition_offsets, vec![0, 1, 9, 25, 49, 81]);
        // every inner cell has exactly one downstream cell
        assert_eq!(net.upstream.len(), 81 - 32);
        // the upstream areas add up: the edge cells' areas plus their own cells cover the inner cells
        let edge: f64 = (49..81).map(|c| net.upstream_area[c]).sum();
        assert_eq!(edge, 49.0 * 1e6);
        let p = Problem::synthetic(81, 10);
        for &o in &p.outlets {
            assert!(o >= 49, "outlets are edge cells");
        }
    }
}
