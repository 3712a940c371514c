//! The GPU engine against the CPU engine (the oracle) on random networks: discharge, final states
//! and gradients of a batch of parameter sets, for every routing module and every hydrological module
//! (gr4, and gr4_mlp, gr4_ode, gr4_ude with random network weights), in single and double precision,
//! with the run in one chunk and in many (small buffers, streamed forcing).
//!
//! Runs on whatever `--device wgpu` finds; CI installs Mesa's lavapipe. No device is a failure.
#![cfg(feature = "wgpu")]

use hydrograd_kernels::{DeviceKind, Gpu, GpuFloat, GpuModel, GpuOptions};
use hydrograd_models::adjoint::{AdjointOptions, gradient};
use hydrograd_models::network::RoutingNetwork;
use hydrograd_models::nn::MlpShape;
use hydrograd_models::routing::RoutingModule;
use hydrograd_models::simulation::{Batch, Forcing, RunOptions, Setup, forward};
use hydrograd_models::structure::{HydrologicalModule, Structure};

/// A small deterministic generator (no dependency), uniform in [0, 1).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.next()
    }
}

/// A random forest of `n` cells: each cell drains into one of the next few cells (or is an outlet);
/// cells are renumbered by partition (longest upstream path), as the mesh builder does.
fn random_network(n: usize, rng: &mut Lcg) -> RoutingNetwork {
    let down: Vec<Option<usize>> = (0..n)
        .map(|i| (i + 1 < n && rng.next() > 0.03).then(|| (i + 1 + (rng.next() * 6.0) as usize).min(n - 1)))
        .collect();
    let mut level = vec![0usize; n];
    for i in 0..n {
        if let Some(d) = down[i] {
            level[d] = level[d].max(level[i] + 1);
        }
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| (level[i], i));
    let mut new_id = vec![0; n];
    for (k, &i) in order.iter().enumerate() {
        new_id[i] = k;
    }
    let mut upstream = vec![Vec::new(); n];
    for i in 0..n {
        if let Some(d) = down[i] {
            upstream[new_id[d]].push(new_id[i] as u32);
        }
    }
    let mut upstream_offsets = vec![0];
    let mut flat = Vec::new();
    for u in &upstream {
        flat.extend_from_slice(u);
        upstream_offsets.push(flat.len());
    }
    let levels = level.iter().max().map_or(0, |m| m + 1);
    let mut partition_offsets = vec![0];
    for l in 0..levels {
        partition_offsets.push(partition_offsets[l] + level.iter().filter(|&&x| x == l).count());
    }
    let upstream_area = (0..n).map(|c| upstream[c].len() as f64 * rng.range(1e6, 4e6) + 1e5).collect();
    let network =
        RoutingNetwork { partition_offsets, upstream_offsets, upstream: flat, upstream_area, dx: 1000.0, dy: 1000.0 };
    network.validate().expect("the generator builds topological networks");
    network
}

/// Hourly forcing with storms, dry spells and a few missing values.
fn random_forcing(nt: usize, n: usize, rng: &mut Lcg) -> (Vec<f64>, Vec<f64>) {
    let mut prcp = vec![0.0; nt * n];
    let mut pet = vec![0.0; nt * n];
    for t in 0..nt {
        let storm = (t / 40) % 3 == 0;
        for c in 0..n {
            let p = if storm {
                rng.range(0.0, 8.0)
            } else if rng.next() < 0.1 {
                rng.range(0.0, 1.0)
            } else {
                0.0
            };
            prcp[t * n + c] = if rng.next() < 0.002 { -99.0 } else { p };
            pet[t * n + c] = if rng.next() < 0.002 { -99.0 } else { rng.range(0.0, 0.4) };
        }
    }
    (prcp, pet)
}

/// `[P, S, N]` parameters and `[K, S, N]` states drawn in realistic ranges.
fn random_batch(structure: &Structure, s: usize, n: usize, rng: &mut Lcg) -> (Vec<f64>, Vec<f64>) {
    let mut parameters = Vec::new();
    for info in structure.parameters() {
        let (lo, hi) = match info.name {
            "ci" => (0.5, 3.0),
            "cp" => (50.0, 500.0),
            "ct" => (20.0, 800.0),
            "kexc" => (-5.0, 3.0),
            "llr" => (5.0, 300.0),
            "akw" => (1.0, 10.0),
            "bkw" => (0.3, 0.9),
            other => panic!("no range for {other}"),
        };
        parameters.extend((0..s * n).map(|_| rng.range(lo, hi)));
    }
    let mut states = Vec::new();
    for info in structure.states() {
        let (lo, hi) = if info.name == "hlr" { (0.0, 20.0) } else { (0.05, 0.9) };
        states.extend((0..s * n).map(|_| rng.range(lo, hi)));
    }
    (parameters, states)
}

struct Case {
    network: RoutingNetwork,
    outlets: Vec<usize>,
    structure: Structure,
    nt: usize,
    prcp: Vec<f64>,
    pet: Vec<f64>,
    parameters: Vec<f64>,
    states: Vec<f64>,
    /// Network weights `[S, W]` of the hybrid structures.
    weights: Vec<f64>,
    nset: usize,
}

fn case(routing: RoutingModule, n: usize, nt: usize, nset: usize, seed: u64) -> Case {
    hybrid_case(HydrologicalModule::Gr4, routing, n, nt, nset, seed)
}

/// A case of `hydrology` with random network weights in ±0.5 (different for every set).
fn hybrid_case(
    hydrology: HydrologicalModule,
    routing: RoutingModule,
    n: usize,
    nt: usize,
    nset: usize,
    seed: u64,
) -> Case {
    let mut rng = Lcg(seed);
    let network = random_network(n, &mut rng);
    // outlets: the cells with no downstream cell, plus two inner cells and one repeated
    let mut has_down = vec![false; n];
    network.upstream.iter().for_each(|&u| has_down[u as usize] = true);
    let mut outlets: Vec<usize> = (0..n).filter(|&c| !has_down[c]).take(4).collect();
    outlets.extend([n / 2, n / 3, n / 2]);
    let structure = Structure { hydrology, routing };
    let (prcp, pet) = random_forcing(nt, n, &mut rng);
    let (parameters, states) = random_batch(&structure, nset, n, &mut rng);
    let weights = (0..nset * hydrology.nweights()).map(|_| rng.range(-0.5, 0.5)).collect();
    Case { network, outlets, structure, nt, prcp, pet, parameters, states, weights, nset }
}

fn gpu() -> Gpu {
    Gpu::open(DeviceKind::Wgpu).unwrap_or_else(|e| panic!("the GPU tests need a wgpu device (lavapipe in CI): {e}"))
}

fn cast<T: GpuFloat>(v: &[f64]) -> Vec<T> {
    v.iter().map(|&x| T::from_f64(x)).collect()
}

/// max |a − b| / max |b|: the error relative to the series' scale.
fn scaled_error<T: GpuFloat>(a: &[T], b: &[T]) -> f64 {
    assert_eq!(a.len(), b.len());
    let scale = b.iter().fold(0.0f64, |m, &x| m.max(x.to_f64().abs())).max(1e-30);
    a.iter().zip(b).fold(0.0f64, |m, (&x, &y)| m.max((x.to_f64() - y.to_f64()).abs())) / scale
}

/// Forward of the batch on both engines: discharge and final states agree within `tol`.
fn check_forward<T: GpuFloat>(c: &Case, options: &GpuOptions, tol: f64) {
    let (prcp, pet) = (cast::<T>(&c.prcp), cast::<T>(&c.pet));
    let forcing = Forcing { ntime: c.nt, prcp: &prcp, pet: &pet };
    let setup = Setup { structure: c.structure, network: &c.network, dt: 3600.0, outlets: &c.outlets };
    let n = c.network.len();
    let (parameters, states, weights) = (cast::<T>(&c.parameters), cast::<T>(&c.states), cast::<T>(&c.weights));
    let batch = Batch { nset: c.nset, ncell: n, parameters, states, weights };
    let mut cpu_batch = batch.clone();
    let cpu = forward(&setup, &forcing, &mut cpu_batch, &RunOptions::default()).unwrap();
    let model = GpuModel::new(&gpu(), setup, forcing, options).unwrap();
    let mut gpu_batch = batch.clone();
    let q = model.forward(&mut gpu_batch).unwrap();
    let g = c.outlets.len();
    for set in 0..c.nset {
        let range = set * c.nt * g..(set + 1) * c.nt * g;
        let err = scaled_error(&q[range.clone()], &cpu[range]);
        assert!(
            err <= tol,
            "{} {}: discharge of set {set} differs by {err:.2e}",
            c.structure.name(),
            core::any::type_name::<T>()
        );
    }
    let err = scaled_error(&gpu_batch.states, &cpu_batch.states);
    assert!(err <= tol, "{}: final states differ by {err:.2e}", c.structure.name());
    // a second run on the same model gives the same discharge (nothing left over on the device)
    let mut again = batch.clone();
    assert_eq!(model.forward(&mut again).unwrap(), q);
}

/// Gradient of `J = Σ w·Q` (fixed random weights `w` at the outlets) on both engines, set by set.
fn check_gradient<T: GpuFloat>(c: &Case, options: &GpuOptions, tol: f64) {
    let (prcp, pet) = (cast::<T>(&c.prcp), cast::<T>(&c.pet));
    let forcing = Forcing { ntime: c.nt, prcp: &prcp, pet: &pet };
    let setup = Setup { structure: c.structure, network: &c.network, dt: 3600.0, outlets: &c.outlets };
    let (n, g, s) = (c.network.len(), c.outlets.len(), c.nset);
    let mut rng = Lcg(99);
    let weights: Vec<T> = (0..s * c.nt * g).map(|_| T::from_f64(rng.range(-1.0, 1.0))).collect();
    let (parameters, states, net) = (cast::<T>(&c.parameters), cast::<T>(&c.states), cast::<T>(&c.weights));
    let batch = Batch { nset: s, ncell: n, parameters, states, weights: net.clone() };
    let model = GpuModel::new(&gpu(), setup, forcing, options).unwrap();
    let got = model.gradient(&batch, |q| {
        assert_eq!(q.len(), weights.len());
        weights.clone()
    });
    let got = got.unwrap();
    let (np, nk) = (c.structure.parameters().len(), c.structure.states().len());
    let per_set = |v: &[T], k: usize, set: usize| v[(k * s + set) * n..(k * s + set + 1) * n].to_vec();
    for set in 0..s {
        let params: Vec<T> = (0..np).flat_map(|k| per_set(&batch.parameters, k, set)).collect();
        let states: Vec<T> = (0..nk).flat_map(|k| per_set(&batch.states, k, set)).collect();
        let w = weights[set * c.nt * g..(set + 1) * c.nt * g].to_vec();
        let nw = c.structure.hydrology.nweights();
        let net = &net[set * nw..(set + 1) * nw];
        let cpu =
            gradient(&setup, &forcing, &params, &states, net, |_| (T::ZERO, w), &AdjointOptions::default()).unwrap();
        assert!(nw == 0 || cpu.weights.iter().any(|&w| w != T::ZERO), "the weights receive a gradient");
        let err = scaled_error(&got.weights[set * nw..(set + 1) * nw], &cpu.weights);
        assert!(err <= tol, "{}: ∂J/∂weights of set {set} differ by {err:.2e}", c.structure.name());
        for (k, info) in c.structure.parameters().iter().enumerate() {
            let err = scaled_error(&per_set(&got.parameters, k, set), &cpu.parameters[k * n..(k + 1) * n]);
            assert!(err <= tol, "{}: ∂J/∂{} of set {set} differs by {err:.2e}", c.structure.name(), info.name);
        }
        for (k, info) in c.structure.states().iter().enumerate() {
            let err = scaled_error(&per_set(&got.states, k, set), &cpu.states[k * n..(k + 1) * n]);
            assert!(err <= tol, "{}: ∂J/∂{}₀ of set {set} differs by {err:.2e}", c.structure.name(), info.name);
        }
        let err = scaled_error(&got.qsim[set * c.nt * g..(set + 1) * c.nt * g], &cpu.qsim);
        assert!(err <= tol, "discharge of the gradient run differs by {err:.2e}");
    }
}

const MODULES: [RoutingModule; 4] = [RoutingModule::Zero, RoutingModule::Lag0, RoutingModule::Lr, RoutingModule::Kw];

/// Options that force many chunks, several forcing blocks, streamed forcing, and routing blocks of 3
/// steps (the wavefront's diagonals mix partitions and blocks).
fn small_buffers() -> GpuOptions {
    GpuOptions { max_buffer_bytes: Some(64 * 1024), resident_forcing_bytes: 0, routing_block: 3 }
}

/// One routing launch per partition over the whole chunk.
fn per_partition() -> GpuOptions {
    GpuOptions { routing_block: usize::MAX, ..GpuOptions::default() }
}

#[test]
fn forward_f32_equals_the_cpu_engine() {
    for (i, module) in MODULES.into_iter().enumerate() {
        let c = case(module, 300, 480, 3, 7 + i as u64);
        check_forward::<f32>(&c, &GpuOptions::default(), 1e-5);
        check_forward::<f32>(&c, &small_buffers(), 1e-5);
        check_forward::<f32>(&c, &per_partition(), 1e-5);
    }
}

#[test]
fn forward_f64_equals_the_cpu_engine() {
    assert!(gpu().supports_f64(), "lavapipe and CUDA devices compute in f64");
    for (i, module) in MODULES.into_iter().enumerate() {
        let c = case(module, 300, 480, 3, 17 + i as u64);
        check_forward::<f64>(&c, &GpuOptions::default(), 1e-12);
        check_forward::<f64>(&c, &small_buffers(), 1e-12);
    }
}

#[test]
fn gradient_f32_equals_the_cpu_engine() {
    for (i, module) in MODULES.into_iter().enumerate() {
        let c = case(module, 200, 360, 2, 27 + i as u64);
        check_gradient::<f32>(&c, &GpuOptions::default(), 1e-5);
        check_gradient::<f32>(&c, &small_buffers(), 1e-5);
        check_gradient::<f32>(&c, &per_partition(), 1e-5);
    }
}

#[test]
fn gradient_f64_equals_the_cpu_engine() {
    for (i, module) in MODULES.into_iter().enumerate() {
        let c = case(module, 200, 360, 2, 37 + i as u64);
        check_gradient::<f64>(&c, &GpuOptions::default(), 1e-10);
        check_gradient::<f64>(&c, &small_buffers(), 1e-10);
    }
}

#[test]
fn a_population_is_one_batch() {
    // 64 parameter sets in one launch equal 64 single-set runs of the CPU engine
    let c = case(RoutingModule::Lr, 120, 240, 64, 5);
    check_forward::<f32>(&c, &GpuOptions::default(), 1e-5);
}

/// Every hybrid structure, with one and two hidden layers.
fn hybrid_modules() -> [HydrologicalModule; 5] {
    let (one, two) = (MlpShape::new(&[5]).unwrap(), MlpShape::new(&[4, 3]).unwrap());
    [
        HydrologicalModule::Gr4Mlp(one),
        HydrologicalModule::Gr4Mlp(two),
        HydrologicalModule::Gr4Ode,
        HydrologicalModule::Gr4Ude(one),
        HydrologicalModule::Gr4Ude(two),
    ]
}

#[test]
fn hybrid_forward_equals_the_cpu_engine() {
    for (i, module) in hybrid_modules().into_iter().enumerate() {
        let c = hybrid_case(module, RoutingModule::Lr, 200, 360, 3, 41 + i as u64);
        check_forward::<f32>(&c, &GpuOptions::default(), 1e-5);
        check_forward::<f32>(&c, &small_buffers(), 1e-5);
        check_forward::<f64>(&c, &GpuOptions::default(), 1e-12);
    }
}

#[test]
fn hybrid_gradient_equals_the_cpu_engine() {
    for (i, module) in hybrid_modules().into_iter().enumerate() {
        // more cells than one cube (the weights' reduction over cubes and sets)
        let c = hybrid_case(module, RoutingModule::Lr, 300, 240, 2, 51 + i as u64);
        check_gradient::<f32>(&c, &GpuOptions::default(), 1e-5);
        check_gradient::<f32>(&c, &small_buffers(), 1e-5);
        check_gradient::<f64>(&c, &GpuOptions::default(), 1e-10);
    }
}
