//! burn's autodiff through the GPU engine: `burn_ops::discharge` under a mapping written with burn
//! tensors (a scaled sigmoid of unbounded controls, as smash's ANN and multi-linear mappings end) and a
//! loss written with burn tensors; the gradient burn returns for the controls equals the CPU engine's
//! adjoint times the mapping's derivative. Runs on burn's default wgpu device (lavapipe in CI).
#![cfg(feature = "wgpu")]

use burn::tensor::{Device, Tensor, TensorData, activation::sigmoid};
use hydrograd_kernels::burn_ops::{Catchment, CatchmentData, discharge};
use hydrograd_models::adjoint::{AdjointOptions, gradient};
use hydrograd_models::network::RoutingNetwork;
use hydrograd_models::routing::RoutingModule;
use hydrograd_models::simulation::{Forcing, Setup};
use hydrograd_models::structure::{HydrologicalModule, Structure};

/// 20 headwater cells draining into a chain of 40 cells, each draining into the next.
fn network() -> RoutingNetwork {
    let n = 60;
    // cells 0..20 are headwaters draining into chain cells; chain cell k (20 + k) drains into 21 + k
    let mut upstream = vec![Vec::new(); n];
    for h in 0..20u32 {
        upstream[20 + 2 * h as usize].push(h);
    }
    for k in 20..n - 1 {
        upstream[k + 1].push(k as u32);
    }
    let mut upstream_offsets = vec![0];
    let mut flat = Vec::new();
    for u in &upstream {
        flat.extend_from_slice(u);
        upstream_offsets.push(flat.len());
    }
    // the headwaters, then one chain cell per partition
    let mut partition_offsets = vec![0];
    partition_offsets.extend(20..=n);
    let upstream_area = (0..n).map(|c| 1e6 * (1 + c) as f64).collect();
    RoutingNetwork { partition_offsets, upstream_offsets, upstream: flat, upstream_area, dx: 1000.0, dy: 1000.0 }
}

#[test]
fn burn_autodiff_through_the_engine_equals_the_cpu_adjoint() {
    let network = network();
    network.validate().unwrap();
    let (n, nt) = (network.len(), 200);
    let prcp: Vec<f32> = (0..nt * n).map(|i| if (i / n) % 50 < 10 { 2.0 + (i % 7) as f32 } else { 0.0 }).collect();
    let pet: Vec<f32> = (0..nt * n).map(|i| 0.1 + 0.05 * ((i / n) % 24) as f32 / 24.0).collect();
    let structure = Structure { hydrology: HydrologicalModule::Gr4, routing: RoutingModule::Lr };
    let outlets = vec![n - 1, 30];
    let catchment = Catchment::new(CatchmentData {
        structure,
        network: network.clone(),
        outlets: outlets.clone(),
        dt: 3600.0,
        ntime: nt,
        prcp: prcp.clone(),
        pet: pet.clone(),
    });

    // parameters = lo + (hi − lo)·sigmoid(θ), θ varying over cells; [P, 1, N]
    let (lo, hi) = ([0.5f32, 50.0, 50.0, -5.0, 5.0], [3.0f32, 800.0, 900.0, 3.0, 200.0]);
    let theta: Vec<f32> = (0..5 * n).map(|i| ((i * 37) % 23) as f32 / 11.0 - 1.0).collect();
    let states: Vec<f32> = [0.01f32, 0.4, 0.3, 2.0].iter().flat_map(|&v| std::iter::repeat_n(v, n)).collect();
    let weights: Vec<f32> = (0..nt * 2).map(|i| ((i * 13) % 17) as f32 / 17.0 - 0.3).collect();

    let device = Device::default().autodiff();
    let tensor = |v: &[f32], shape: [usize; 3]| Tensor::<3>::from_data(TensorData::new(v.to_vec(), shape), &device);
    let theta_t = tensor(&theta, [5, 1, n]).require_grad();
    let lo_t = tensor(&lo.iter().flat_map(|&v| std::iter::repeat_n(v, n)).collect::<Vec<_>>(), [5, 1, n]);
    let span: Vec<f32> = (0..5).flat_map(|k| std::iter::repeat_n(hi[k] - lo[k], n)).collect();
    let span_t = tensor(&span, [5, 1, n]);
    let parameters = lo_t + span_t * sigmoid(theta_t.clone());
    let q = discharge(parameters, tensor(&states, [4, 1, n]), &catchment);
    assert_eq!(q.dims(), [1, nt, 2]);
    let loss = (q.clone() * tensor(&weights, [1, nt, 2])).sum();
    let grads = loss.backward();
    let got: Vec<f32> = theta_t.grad(&grads).expect("θ has a gradient").into_data().try_to_vec::<f32>().unwrap();

    // the CPU engine: ∂J/∂p by its adjoint, times dp/dθ = (hi − lo)·s(1 − s)
    let params: Vec<f32> =
        (0..5 * n).map(|i| lo[i / n] + (hi[i / n] - lo[i / n]) / (1.0 + (-theta[i]).exp())).collect();
    let setup = Setup { structure, network: &network, dt: 3600.0, outlets: &outlets };
    let forcing = Forcing { ntime: nt, prcp: &prcp, pet: &pet };
    let cpu = gradient(&setup, &forcing, &params, &states, &[], |_| (0.0, weights.clone()), &AdjointOptions::default())
        .unwrap();
    let q_gpu: Vec<f32> = q.into_data().try_to_vec::<f32>().unwrap();
    let q_scale = cpu.qsim.iter().fold(0f32, |m, v| m.max(v.abs()));
    for (a, b) in q_gpu.iter().zip(&cpu.qsim) {
        assert!((a - b).abs() <= 1e-5 * q_scale, "discharge {a} on burn's device, {b} on the CPU");
    }
    for k in 0..5 {
        let expected: Vec<f32> = (0..n)
            .map(|c| {
                let s = 1.0 / (1.0 + (-theta[k * n + c]).exp());
                cpu.parameters[k * n + c] * (hi[k] - lo[k]) * s * (1.0 - s)
            })
            .collect();
        let scale = expected.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-30);
        let err = got[k * n..(k + 1) * n].iter().zip(&expected).fold(0f32, |m, (a, b)| m.max((a - b).abs())) / scale;
        assert!(err <= 2e-5, "∂J/∂θ of parameter {k}: error {err:.2e} against the CPU adjoint");
    }
}
