//! The batched, chunked, packed driver against a plain time-outer loop in smash's order.
#![allow(clippy::needless_range_loop)] // the reference loops index several arrays, as in smash

use super::*;
use crate::gr::{gr4, ode, production::percolation_beta};
use crate::nn::{Activations, Mlp, MlpShape};
use crate::routing::{kw, lag0, lr};
use crate::structure::HydrologicalModule;

/// A small network: a 3×4 grid where everything drains to cell 0, with partitions built by hand.
/// Cells (routing order): partition 0 = [1, 2, 3, 4, 5, 6, 7, 8, 9], partition 1 = [10], partition 2 = [11].
pub(crate) fn network() -> RoutingNetwork {
    let n = 12;
    let mut upstream = vec![Vec::new(); n];
    upstream[10] = vec![1, 2, 3, 4, 5];
    upstream[11] = vec![10, 6, 7, 8, 9, 0];
    let mut offsets = vec![0];
    let mut flat = Vec::new();
    for u in &upstream {
        flat.extend(u.iter().map(|&c| c as u32));
        offsets.push(flat.len());
    }
    let area: Vec<f64> = (0..n).map(|c| upstream[c].len() as f64 * 1e6 + if c == 11 { 4e6 } else { 0.0 }).collect();
    RoutingNetwork {
        partition_offsets: vec![0, 10, 11, 12],
        upstream_offsets: offsets,
        upstream: flat,
        upstream_area: area,
        dx: 1000.0,
        dy: 1000.0,
    }
}

pub(crate) fn forcing<T: Real>(nt: usize, n: usize) -> (Vec<T>, Vec<T>) {
    let mut prcp = vec![T::ZERO; nt * n];
    let mut pet = vec![T::ZERO; nt * n];
    for t in 0..nt {
        for c in 0..n {
            let storm = if (10..30).contains(&t) { 3.0 + (c % 4) as f64 } else { 0.0 };
            let missing = (t == 15 && c == 3) || (t == 40 && c == 11);
            prcp[t * n + c] = T::from_f64(if missing { -99.0 } else { storm });
            pet[t * n + c] = T::from_f64(if t == 50 && c == 2 { -99.0 } else { 0.1 + 0.01 * c as f64 });
        }
    }
    (prcp, pet)
}

pub(crate) fn batch<T: Real>(structure: &Structure, s: usize, n: usize) -> Batch<T> {
    let params = structure.parameters();
    let states = structure.states();
    let mut p = Vec::new();
    for (k, info) in params.iter().enumerate() {
        for set in 0..s {
            for c in 0..n {
                let base = match info.name {
                    "ci" => 1.0,
                    "kexc" => -0.5,
                    "bkw" => 0.6,
                    _ => info.default.at(3600.0),
                };
                p.push(T::from_f64(base * (1.0 + 0.05 * (set + c + k) as f64 % 0.3)));
            }
        }
    }
    let mut st = Vec::new();
    for info in &states {
        for _ in 0..s * n {
            st.push(T::from_f64(info.default.at(3600.0) * 10.0));
        }
    }
    let weights = vec![T::ZERO; s * structure.hydrology.nweights()];
    Batch { nset: s, ncell: n, parameters: p, states: st, weights }
}

/// smash's order: for each step, the hydrology of every cell, then the routing sweep.
fn reference<T: Real>(setup: &Setup<'_>, f: &Forcing<'_, T>, b: &mut Batch<T>) -> Vec<T> {
    let net = setup.network;
    let (n, s, nt, g) = (net.len(), b.nset, f.ntime, setup.outlets.len());
    let (np, nk) = (setup.structure.parameters().len(), setup.structure.states().len());
    let dt = T::from_f64(setup.dt);
    let beta = percolation_beta(dt);
    let mut out = vec![T::ZERO; s * nt * g];
    let mut mem = vec![kw::KwMemory::default(); s * n];
    for set in 0..s {
        let par = |k: usize, c: usize| b.parameters[(k * s + set) * n + c];
        for t in 0..nt {
            let mut q = vec![T::ZERO; n];
            for c in 0..n {
                let params: Vec<T> = (0..4).map(|k| par(k, c)).collect();
                let mut st: Vec<T> = (0..3).map(|k| b.states[(k * s + set) * n + c]).collect();
                let (p, e) = (f.prcp[t * n + c], f.pet[t * n + c]);
                let nw = setup.structure.hydrology.nweights();
                let weights = &b.weights[set * nw..(set + 1) * nw];
                let mut act = Activations::default();
                let qt = match setup.structure.hydrology {
                    HydrologicalModule::Gr4 => gr4::step(p, e, &params, &mut st, beta),
                    HydrologicalModule::Gr4Mlp(shape) => {
                        gr4::step_with(p, e, &params, &mut st, beta, Some((&Mlp { shape, weights }, &mut act)))
                    }
                    HydrologicalModule::Gr4Ode => ode::step(p, e, &params, &mut st, None),
                    HydrologicalModule::Gr4Ude(shape) => {
                        ode::step(p, e, &params, &mut st, Some((&Mlp { shape, weights }, &mut act)))
                    }
                };
                for k in 0..3 {
                    b.states[(k * s + set) * n + c] = st[k];
                }
                q[c] = qt * (T::from_f64(1e-3) * T::from_f64(net.dx) * T::from_f64(net.dy) / dt);
            }
            for c in net.partition_offsets[1]..n {
                let qup = [net.upstream_of(c).iter().fold(T::ZERO, |a, &u| a + q[u as usize])];
                let cell = &mut q[c..c + 1];
                match setup.structure.routing {
                    RoutingModule::Zero => {}
                    RoutingModule::Lag0 => lag0::route(cell, &qup),
                    RoutingModule::Lr => {
                        let hlr = &mut b.states[(3 * s + set) * n + c];
                        lr::route(cell, &qup, hlr, par(4, c), dt, T::from_f64(net.upstream_area[c]))
                    }
                    RoutingModule::Kw => {
                        kw::route(cell, &qup, &mut mem[set * n + c], par(4, c), par(5, c), dt, T::from_f64(net.dx))
                    }
                }
            }
            for (j, &c) in setup.outlets.iter().enumerate() {
                out[(set * nt + t) * g + j] = q[c];
            }
        }
    }
    let _ = (np, nk);
    out
}

fn compare<T: Kernel>(routing: RoutingModule, s: usize, max_buffer_values: usize) {
    compare_module::<T>(HydrologicalModule::Gr4, routing, s, max_buffer_values)
}

fn compare_module<T: Kernel>(
    hydrology: HydrologicalModule,
    routing: RoutingModule,
    s: usize,
    max_buffer_values: usize,
) {
    let net = network();
    let structure = Structure { hydrology, routing };
    let outlets = [11, 10, 3];
    let setup = Setup { structure, network: &net, dt: 3600.0, outlets: &outlets };
    let nt = 80;
    let (prcp, pet) = forcing::<T>(nt, net.len());
    let f = Forcing { ntime: nt, prcp: &prcp, pet: &pet };
    let mut b = batch::<T>(&structure, s, net.len());
    b.weights.iter_mut().enumerate().for_each(|(k, w)| *w = T::from_f64(0.3 * ((k as f64) * 0.61 + 0.2).sin()));
    let mut b_ref = b.clone();
    let q = forward(&setup, &f, &mut b, &RunOptions { max_buffer_values, ..RunOptions::default() }).unwrap();
    let q_ref = reference(&setup, &f, &mut b_ref);
    assert_eq!(q.len(), s * nt * outlets.len());
    for (i, (a, r)) in q.iter().zip(&q_ref).enumerate() {
        assert!(a.is_finite());
        assert_eq!(a, r, "{} {routing:?} S={s}: q[{i}] = {a} vs {r}", T::NAME);
    }
    assert_eq!(b.states, b_ref.states, "final states");
    assert!(q_ref.iter().any(|&v| v > T::from_f64(0.05)), "the storm reaches the outlet");
}

#[test]
fn driver_equals_the_time_outer_loop_for_every_routing() {
    for routing in [RoutingModule::Zero, RoutingModule::Lag0, RoutingModule::Lr, RoutingModule::Kw] {
        compare::<f32>(routing, 1, 1 << 20);
        compare::<f64>(routing, 1, 1 << 20);
    }
}

#[test]
fn gr4_mlp_driver_equals_the_time_outer_loop() {
    for hidden in [&[16][..], &[8, 5]] {
        let module = HydrologicalModule::Gr4Mlp(MlpShape::new(hidden).unwrap());
        compare_module::<f32>(module, RoutingModule::Lr, 2, 1 << 20);
        compare_module::<f64>(module, RoutingModule::Kw, 3, 3 * 12 * 5);
    }
}

#[test]
fn ode_drivers_equal_the_time_outer_loop() {
    compare_module::<f32>(HydrologicalModule::Gr4Ode, RoutingModule::Lr, 2, 1 << 20);
    compare_module::<f64>(HydrologicalModule::Gr4Ode, RoutingModule::Kw, 3, 3 * 12 * 5);
    for hidden in [&[16][..], &[8, 5]] {
        let module = HydrologicalModule::Gr4Ude(MlpShape::new(hidden).unwrap());
        compare_module::<f32>(module, RoutingModule::Lr, 2, 1 << 20);
        compare_module::<f64>(module, RoutingModule::Lag0, 3, 3 * 12 * 5);
    }
}

/// Outlet discharge of `hydrology` (zero network weights) on the test network, 2 sets, 60 steps.
fn zero_weight_run(hydrology: HydrologicalModule) -> Vec<f32> {
    let net = network();
    let outlets = [11, 10, 3];
    let (prcp, pet) = forcing::<f32>(60, net.len());
    let f = Forcing { ntime: 60, prcp: &prcp, pet: &pet };
    let structure = Structure { hydrology, routing: RoutingModule::Lr };
    let setup = Setup { structure, network: &net, dt: 3600.0, outlets: &outlets };
    forward(&setup, &f, &mut batch::<f32>(&structure, 2, net.len()), &RunOptions::default()).unwrap()
}

#[test]
fn gr4_ude_with_zero_weights_is_gr4_ode() {
    let ode = zero_weight_run(HydrologicalModule::Gr4Ode);
    assert_eq!(zero_weight_run(HydrologicalModule::Gr4Ude(MlpShape::DEFAULT)), ode);
    assert_ne!(ode, zero_weight_run(HydrologicalModule::Gr4), "the ODE is another model");
}

#[test]
fn gr4_mlp_with_zero_weights_is_gr4() {
    let mlp = zero_weight_run(HydrologicalModule::Gr4Mlp(MlpShape::DEFAULT));
    assert_eq!(mlp, zero_weight_run(HydrologicalModule::Gr4));
}

#[test]
fn batches_and_chunks_do_not_change_results() {
    // 3 sets × 16 padded cells × 7-step chunks: the chunk boundary falls inside the storm.
    compare::<f32>(RoutingModule::Lr, 3, 3 * 16 * 7);
    compare::<f64>(RoutingModule::Kw, 2, 2 * 12 * 5);
}

#[test]
fn wrong_sizes_are_reported() {
    let net = network();
    let structure = Structure { hydrology: HydrologicalModule::Gr4, routing: RoutingModule::Lr };
    let setup = Setup { structure, network: &net, dt: 3600.0, outlets: &[11] };
    let (prcp, pet) = forcing::<f32>(10, 12);
    let f = Forcing { ntime: 10, prcp: &prcp[..100], pet: &pet };
    let mut b = batch::<f32>(&structure, 1, 12);
    let err = forward(&setup, &f, &mut b, &RunOptions::default()).unwrap_err();
    assert_eq!(err, SimulationError::Size { what: "prcp", expected: 120, got: 100 });
}

#[test]
fn vectorised_interception_adjustment_equals_the_scalar_one() {
    let (nt, n) = (72, 12);
    let (prcp, pet) = forcing::<f32>(nt, n);
    let day: Vec<i64> = (0..nt as i64).map(|t| (t + 5) / 24).collect();
    let fast = <f32 as Kernel>::adjust_interception_capacity(&prcp, &pet, &day, n);
    let plain = crate::gr::ci_adjust::adjust_interception_capacity(&prcp, &pet, &day, n);
    assert_eq!(fast, plain);
    assert!(fast.iter().any(|&c| c > 0.15), "some cell intercepts more than the smallest store: {fast:?}");
}

#[test]
fn chunks_fit_the_cache_but_never_drop_below_the_minimum() {
    let options = RunOptions { max_buffer_values: 16 << 20, cache_bytes: 4 << 20 };
    // Cance-like: 20 sets of 384 cells in f32 → 1 Mi values / 7680 per step = 136 steps
    assert_eq!(options.chunk_steps::<f32>(20 * 384, 1440), 136);
    assert_eq!(options.chunk_steps::<f64>(20 * 384, 1440), 68);
    // short runs: the whole run
    assert_eq!(options.chunk_steps::<f32>(384, 100), 100);
    // a large mesh: the minimum, unless the memory bound is tighter
    assert_eq!(options.chunk_steps::<f32>(1 << 20, 1440), MIN_CHUNK_STEPS);
    assert_eq!(options.chunk_steps::<f32>(4 << 20, 1440), 4);
    assert_eq!(options.chunk_steps::<f32>(64 << 20, 1440), 1);
}
