//! The adjoint against central finite differences of the forward model (f64), for every routing
//! module, and checkpointed segments against a single segment.

use super::*;
use crate::network::RoutingNetwork;
use crate::nn::MlpShape;
use crate::simulation::tests::{batch, forcing, network};
use crate::simulation::{RunOptions, forward};
use crate::structure::{HydrologicalModule, Structure};

const NT: usize = 60;

/// A cost that weighs every outlet and step differently: `J = Σ w·(Q − q₀)²`.
fn cost(q: &[f64]) -> (f64, Vec<f64>) {
    let w = |i: usize| 1.0 + (i % 7) as f64 * 0.1;
    let target = |i: usize| 0.5 + (i % 5) as f64 * 0.2;
    let j = q.iter().enumerate().map(|(i, &v)| w(i) * (v - target(i)).powi(2)).sum();
    let g = q.iter().enumerate().map(|(i, &v)| 2.0 * w(i) * (v - target(i))).collect();
    (j, g)
}

struct Case {
    structure: Structure,
    net: RoutingNetwork,
    prcp: Vec<f64>,
    pet: Vec<f64>,
    batch: Batch<f64>,
    outlets: Vec<usize>,
}

fn case(routing: RoutingModule) -> Case {
    case_of(HydrologicalModule::Gr4, routing)
}

fn case_of(hydrology: HydrologicalModule, routing: RoutingModule) -> Case {
    let structure = Structure { hydrology, routing };
    let net = network();
    let n = net.len();
    let (prcp, pet) = forcing::<f64>(NT, n);
    let mut batch = batch::<f64>(&structure, 1, n);
    // irregular values: the shared test set has exact ties (e.g. ci·hi = PET), where the cost has a kink
    for (i, v) in batch.parameters.iter_mut().chain(batch.states.iter_mut()).enumerate() {
        *v *= 1.0 + 0.003 * ((i + 1) as f64 * 1.7).sin();
    }
    Case { structure, net, prcp, pet, batch, outlets: vec![11, 10, 3] }
}

impl Case {
    fn setup(&self) -> Setup<'_> {
        Setup { structure: self.structure, network: &self.net, dt: 3600.0, outlets: &self.outlets }
    }

    fn forcing(&self) -> Forcing<'_, f64> {
        Forcing { ntime: NT, prcp: &self.prcp, pet: &self.pet }
    }

    fn cost_at(&self, batch: &Batch<f64>) -> f64 {
        cost(&forward(&self.setup(), &self.forcing(), &mut batch.clone(), &RunOptions::default()).unwrap()).0
    }

    fn gradient(&self, segment_len: Option<usize>) -> Gradient<f64> {
        let options = AdjointOptions { segment_len, ..AdjointOptions::default() };
        let b = &self.batch;
        gradient(&self.setup(), &self.forcing(), &b.parameters, &b.states, &b.weights, cost, &options).unwrap()
    }
}

/// What a finite difference perturbs.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Input {
    Parameter,
    State,
    Weight,
}

/// Fourth-order central differences of the cost along component `i` of the parameters or states, with
/// steps 1e-4, 1e-5 and 1e-6 relative (truncation ~h⁴, round-off ~1e-16·J/h). A kink of the model (a
/// `min`/`max` switching branch) close to the point spoils the larger steps and round-off the smaller,
/// so the adjoint must agree with at least one of them. Each comes with its round-off bound `8·ε·J/h`.
fn central(case: &Case, input: Input, i: usize) -> [(f64, f64); 3] {
    let value = |b: &Batch<f64>| match input {
        Input::Parameter => b.parameters[i],
        Input::State => b.states[i],
        Input::Weight => b.weights[i],
    };
    let x = value(&case.batch);
    let at = |v: f64| {
        let mut b = case.batch.clone();
        *match input {
            Input::Parameter => &mut b.parameters[i],
            Input::State => &mut b.states[i],
            Input::Weight => &mut b.weights[i],
        } = v;
        case.cost_at(&b)
    };
    [1e-4, 1e-5, 1e-6].map(|rel| {
        let h = rel * x.abs().max(1e-2);
        let fd = (8.0 * (at(x + h) - at(x - h)) - (at(x + 2.0 * h) - at(x - 2.0 * h))) / (12.0 * h);
        (fd, 8.0 * f64::EPSILON * at(x).abs() / h)
    })
}

fn check_against_finite_differences(routing: RoutingModule) {
    check_module_against_finite_differences(case(routing));
}

fn check_module_against_finite_differences(case: Case) {
    let routing = case.structure.routing;
    let g = case.gradient(None);
    let (j, _) =
        cost(&forward(&case.setup(), &case.forcing(), &mut case.batch.clone(), &RunOptions::default()).unwrap());
    assert!((g.cost - j).abs() <= 1e-12 * j.abs(), "cost {} vs forward {}", g.cost, j);
    let names = [case.structure.parameters(), case.structure.states()];
    let n = case.net.len();
    let mut failures = Vec::new();
    let inputs = [(Input::Parameter, &g.parameters), (Input::State, &g.states), (Input::Weight, &g.weights)];
    for (input, grad) in inputs.into_iter().filter(|(_, g)| !g.is_empty()) {
        let scale = grad.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(scale > 0.0);
        for (i, &a) in grad.iter().enumerate() {
            let fd = central(&case, input, i);
            if fd.iter().all(|&(fd, noise)| (a - fd).abs() > 1e-6 * fd.abs().max(1e-3 * scale) + noise) {
                let name = match input {
                    Input::Parameter => format!("{}[cell {}]", names[0][i / n].name, i % n),
                    Input::State => format!("{}[cell {}]", names[1][i / n].name, i % n),
                    Input::Weight => format!("weight[{i}]"),
                };
                failures.push(format!("∂J/∂{name}: adjoint {a:e}, finite differences {fd:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}:\n{}", routing.name(), failures.join("\n"));
}

#[test]
fn lr_gradient_equals_finite_differences() {
    check_against_finite_differences(RoutingModule::Lr);
}

#[test]
fn kw_gradient_equals_finite_differences() {
    check_against_finite_differences(RoutingModule::Kw);
}

#[test]
fn lag0_gradient_equals_finite_differences() {
    check_against_finite_differences(RoutingModule::Lag0);
}

#[test]
fn zero_gradient_equals_finite_differences() {
    check_against_finite_differences(RoutingModule::Zero);
}

#[test]
fn gr4_mlp_gradient_equals_finite_differences() {
    for hidden in [&[5][..], &[4, 3]] {
        let mut case = case_of(HydrologicalModule::Gr4Mlp(MlpShape::new(hidden).unwrap()), RoutingModule::Lr);
        let w = case.batch.weights.len();
        case.batch.weights = (0..w).map(|k| 0.3 * ((k as f64) * 0.61 + 0.2).sin()).collect();
        check_module_against_finite_differences(case);
    }
}

#[test]
fn gr4_ode_gradient_equals_finite_differences() {
    check_module_against_finite_differences(case_of(HydrologicalModule::Gr4Ode, RoutingModule::Lr));
}

#[test]
fn gr4_ude_gradient_equals_finite_differences() {
    for hidden in [&[5][..], &[4, 3]] {
        let mut case = case_of(HydrologicalModule::Gr4Ude(MlpShape::new(hidden).unwrap()), RoutingModule::Kw);
        let w = case.batch.weights.len();
        case.batch.weights = (0..w).map(|k| 0.3 * ((k as f64) * 0.61 + 0.2).sin()).collect();
        check_module_against_finite_differences(case);
    }
}

#[test]
fn checkpointed_segments_give_the_single_segment_gradient() {
    for routing in [RoutingModule::Lr, RoutingModule::Kw] {
        let case = case(routing);
        let whole = case.gradient(None);
        assert_eq!(whole.memory.segments, 1);
        for k in [1, 7, 8, 59] {
            let split = case.gradient(Some(k));
            assert_eq!(split.memory.segments, NT.div_ceil(k));
            assert_eq!(split.qsim, whole.qsim);
            assert_eq!(split.final_states, whole.final_states);
            for (a, b) in split.parameters.iter().chain(&split.states).zip(whole.parameters.iter().chain(&whole.states))
            {
                assert!((a - b).abs() <= 1e-12 * b.abs().max(1e-9), "{} K={k}: {a} vs {b}", routing.name());
            }
        }
    }
}
