//! Peak memory of the checkpointed adjoint on a long synthetic run (issue 3: 100,000 cells × 8,760
//! hourly steps), against what storing the whole forward trajectory would take.
//!
//!     cargo bench --bench adjoint_memory -- [CELLS] [STEPS]
//!
//! The grid is `rows × cols` cells draining south, then east along the last row to the outlet; forcing
//! is a synthetic `[T, N]` f32 series with storms and a daily PET cycle. Peak resident memory (VmHWM) is
//! read from /proc before and after the gradient, so the forcing (input, not the adjoint's) is reported
//! apart.

use hydrograd_models::adjoint::{AdjointOptions, gradient};
use hydrograd_models::network::RoutingNetwork;
use hydrograd_models::routing::RoutingModule;
use hydrograd_models::simulation::{Forcing, Setup};
use hydrograd_models::structure::{HydrologicalModule, Structure};
use std::time::Instant;

/// `rows × cols` cells: (r, c) drains to (r + 1, c), the last row drains east; cells numbered by
/// topological level.
fn network(rows: usize, cols: usize) -> RoutingNetwork {
    let n = rows * cols;
    let down = |r: usize, c: usize| -> Option<(usize, usize)> {
        if r + 1 < rows {
            Some((r + 1, c))
        } else if c + 1 < cols {
            Some((r, c + 1))
        } else {
            None
        }
    };
    // level: rows above for the columns, plus the distance along the last row
    let level = |r: usize, c: usize| if r + 1 < rows { r } else { rows - 1 + c };
    let nlevels = rows + cols - 1;
    let mut by_level = vec![Vec::new(); nlevels];
    for c in 0..cols {
        for r in 0..rows {
            by_level[level(r, c)].push((r, c));
        }
    }
    let mut number = vec![0usize; n];
    let mut order = Vec::with_capacity(n);
    let mut partition_offsets = vec![0];
    for cells in &by_level {
        for &(r, c) in cells {
            number[r * cols + c] = order.len();
            order.push((r, c));
        }
        partition_offsets.push(order.len());
    }
    let mut upstream = vec![Vec::new(); n];
    for &(r, c) in &order {
        if let Some((dr, dc)) = down(r, c) {
            upstream[number[dr * cols + dc]].push(number[r * cols + c] as u32);
        }
    }
    let mut area = vec![1e6f64; n];
    for k in 0..n {
        area[k] = upstream[k].iter().map(|&u| area[u as usize]).sum::<f64>() + 1e6;
    }
    let mut upstream_offsets = vec![0];
    let mut flat = Vec::new();
    for u in &upstream {
        flat.extend_from_slice(u);
        upstream_offsets.push(flat.len());
    }
    RoutingNetwork {
        partition_offsets,
        upstream_offsets,
        upstream: flat,
        upstream_area: area.iter().map(|a| a - 1e6).collect(),
        dx: 1000.0,
        dy: 1000.0,
    }
}

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let n_wanted = args.first().copied().unwrap_or(100_000);
    let nt = args.get(1).copied().unwrap_or(8_760);
    let cols = (n_wanted as f64).sqrt().round() as usize;
    let rows = n_wanted.div_ceil(cols);
    let net = network(rows, cols);
    let n = net.len();
    let before_forcing = peak_rss_mb();
    let mut prcp = vec![0f32; n * nt];
    let mut pet = vec![0f32; n * nt];
    for t in 0..nt {
        let hour = t % 24;
        let e = if (7..19).contains(&hour) { 0.2 } else { 0.0 };
        for c in 0..n {
            let phase = (t as f32 / 97.0 + c as f32 * 1e-4).sin();
            prcp[t * n + c] = (6.0 * phase - 4.5).max(0.0);
            pet[t * n + c] = e;
        }
    }
    let with_forcing = peak_rss_mb();
    let structure = Structure { hydrology: HydrologicalModule::Gr4, routing: RoutingModule::Lr };
    let mut parameters = Vec::new();
    for (k, v) in structure.parameters().iter().enumerate() {
        parameters.extend((0..n).map(|c| (v.default.at(3600.0) * (1.0 + 0.1 * ((c + k) % 7) as f64 / 7.0)) as f32));
    }
    parameters[..n].fill(1.2); // ci
    let states: Vec<f32> = structure.states().iter().flat_map(|v| vec![v.default.at(3600.0) as f32; n]).collect();
    let outlet = [n - 1];
    let setup = Setup { structure, network: &net, dt: 3600.0, outlets: &outlet };
    let forcing = Forcing { ntime: nt, prcp: &prcp, pet: &pet };
    let start = Instant::now();
    // J = Σ Q_outlet: ∂J/∂Q = 1
    let g = gradient(
        &setup,
        &forcing,
        &parameters,
        &states,
        &[],
        |q| (q.iter().sum(), vec![1.0; q.len()]),
        &AdjointOptions::default(),
    )
    .expect("valid synthetic setup");
    let seconds = start.elapsed().as_secs_f64();
    let peak = peak_rss_mb();
    let m = g.memory;
    let mb = |values: usize| values as f64 * 4.0 / 1e6;
    let full = mb(n * nt * 5);
    println!(
        "{{\"cells\": {n}, \"steps\": {nt}, \"segment_len\": {}, \"segments\": {}, \"checkpoints_mb\": {:.1}, \"segment_buffers_mb\": {:.1}, \"adjoint_mb\": {:.1}, \"forcing_mb\": {:.1}, \"peak_rss_mb\": {:.1}, \"peak_rss_above_forcing_mb\": {:.1}, \"full_trajectory_mb\": {:.1}, \"seconds\": {seconds:.2}, \"cost\": {:.6e}}}",
        m.segment_len,
        m.segments,
        mb(m.checkpoint_values),
        mb(m.segment_values),
        mb(m.checkpoint_values + m.segment_values),
        with_forcing - before_forcing,
        peak,
        peak - with_forcing,
        full,
        g.cost
    );
}
