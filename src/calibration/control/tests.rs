use super::*;
use crate::calibration::descriptors::Descriptors;
use hydrograd_models::routing::RoutingModule;
use hydrograd_models::structure::{HydrologicalModule, Structure};

const STRUCTURE: Structure = Structure { hydrology: HydrologicalModule::Gr4, routing: RoutingModule::Lr };

/// Three active cells of a 2×2 grid, in routing order: (1, 1), (0, 1), (1, 0).
const ORDER: [usize; 3] = [3, 1, 2];

fn fields() -> (Fields, Fields) {
    let (p, s) = (STRUCTURE.parameters(), STRUCTURE.states());
    let mut params = Fields::defaults(&p, 3, 3600.0);
    params.get_mut("cp").unwrap().copy_from_slice(&[100.0, 200.0, 300.0]);
    params.get_mut("kexc").unwrap().copy_from_slice(&[-1.0, 0.0, 2.0]);
    (params, Fields::defaults(&s, 3, 3600.0))
}

fn space(mapping: Mapping, tfm: ControlTfm, names: &[&str]) -> ControlSpace {
    let (p, s) = fields();
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let selection = Selection { names: &names, ..Selection::default() };
    let infos = (&STRUCTURE.parameters()[..], &STRUCTURE.states()[..]);
    ControlSpace::new(mapping, tfm, &selection, infos, (&p, &s), &domain()).unwrap()
}

fn domain() -> Domain<'static> {
    Domain { routing_order: &ORDER, nrow: 2, ncol: 2, mesh: None, descriptors: None, net: None }
}

#[test]
fn default_controls_are_the_optimizable_parameters_with_smash_names() {
    let u = space(Mapping::Uniform, ControlTfm::Sbs, &[]);
    assert_eq!(u.names(), ["cp-0", "ct-0", "kexc-0", "llr-0"]);
    // distributed: column-major over active cells, 1-based
    let d = space(Mapping::Distributed, ControlTfm::Keep, &["hp", "cp"]);
    assert_eq!(d.names(), ["cp-2-1", "cp-1-2", "cp-2-2", "hp-2-1", "hp-1-2", "hp-2-2"]);
}

#[test]
fn sbs_transforms_follow_the_bounds() {
    let u = space(Mapping::Uniform, ControlTfm::Sbs, &["cp", "kexc", "hp"]);
    let (p, s) = fields();
    let x = u.first_guess(&p, &s);
    // uniform first guess: the mean; ln for cp, asinh for kexc (negative lower bound), logit for hp
    assert!((x[0] - 200f64.ln()).abs() < 1e-12);
    assert!((x[1] - (1.0f64 / 3.0).asinh()).abs() < 1e-12);
    assert!((x[2] - (0.01f64 / 0.99).ln()).abs() < 1e-12);
    let b = u.bounds();
    assert!((b.lower[0] - 1e-6f64.ln()).abs() < 1e-12 && (b.upper[0] - 1000f64.ln()).abs() < 1e-12);
    assert!((b.lower[1] - (-50f64).asinh()).abs() < 1e-12);
}

#[test]
fn apply_inverts_the_first_guess_and_pull_back_is_the_chain_rule() {
    for tfm in [ControlTfm::Sbs, ControlTfm::Normalize, ControlTfm::Keep] {
        let d = space(Mapping::Distributed, tfm, &["cp", "kexc", "hlr"]);
        let (p0, s0) = fields();
        let x = d.first_guess(&p0, &s0);
        let (mut p, mut s) = (p0.clone(), s0.clone());
        d.apply(&x, &mut p, &mut s);
        for (a, b) in p.values.iter().chain(&s.values).zip(p0.values.iter().chain(&s0.values)) {
            assert!((a - b).abs() <= 1e-12 * b.abs().max(1.0), "{tfm:?}: {a} vs {b}");
        }
        // J = Σ w·(θ − θ₀ + 0.1)² over the fields: ∂J/∂x by pull_back against finite differences in x
        let w = |i: usize| 1.0 + i as f64 * 0.1;
        let cost = |x: &[f64]| {
            let (mut p, mut s) = (p0.clone(), s0.clone());
            d.apply(x, &mut p, &mut s);
            let (v, v0) = (p.values.iter().chain(&s.values), p0.values.iter().chain(&s0.values));
            v.zip(v0).enumerate().map(|(i, (v, v0))| w(i) * (v - v0 + 0.1).powi(2)).sum::<f64>()
        };
        let mut gp = p0.clone();
        let mut gs = s0.clone();
        let (mut p, mut s) = (p0.clone(), s0.clone());
        d.apply(&x, &mut p, &mut s);
        let np = p.values.len();
        gp.values.iter_mut().enumerate().for_each(|(i, g)| *g = 2.0 * w(i) * (p.values[i] - p0.values[i] + 0.1));
        gs.values.iter_mut().enumerate().for_each(|(i, g)| *g = 2.0 * w(np + i) * (s.values[i] - s0.values[i] + 0.1));
        let grad = d.pull_back(&x, &gp, &gs);
        let scale = grad.iter().fold(0.0f64, |m, g| m.max(g.abs()));
        for i in 0..x.len() {
            let h = 1e-6 * x[i].abs().max(1e-3);
            let (mut a, mut b) = (x.clone(), x.clone());
            a[i] += h;
            b[i] -= h;
            let fd = (cost(&a) - cost(&b)) / (2.0 * h);
            assert!(
                (grad[i] - fd).abs() <= 1e-6 * fd.abs().max(1e-3 * scale),
                "{tfm:?} control {i}: {} vs {fd}",
                grad[i]
            );
        }
    }
}

#[test]
fn bad_options_name_the_key() {
    let (p, s) = fields();
    let infos = (STRUCTURE.parameters(), STRUCTURE.states());
    let make = |names: &[&str], bounds: &[(&str, (f64, f64))]| {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let bounds: Vec<(String, (f64, f64))> = bounds.iter().map(|(n, b)| (n.to_string(), *b)).collect();
        let selection = Selection { names: &names, bounds: &bounds, ..Selection::default() };
        ControlSpace::new(Mapping::Uniform, ControlTfm::Sbs, &selection, (&infos.0, &infos.1), (&p, &s), &domain())
            .unwrap_err()
            .to_string()
    };
    assert!(make(&["ci"], &[]).contains("'ci' is not an optimizable"));
    assert!(make(&["cp", "cp"], &[]).contains("given twice"));
    assert!(make(&["cp"], &[("ct", (1.0, 2.0))]).contains("'ct' is not optimized"));
    assert!(make(&["cp"], &[("cp", (5.0, 1.0))]).contains("not below"));
    assert!(make(&["cp"], &[("cp", (150.0, 1000.0))]).contains("does not include the current values"));
}

fn regional_space(
    mapping: Mapping,
    descriptors: Option<Arc<Descriptors>>,
    chosen: &[(String, Vec<String>)],
) -> Result<ControlSpace, ControlError> {
    let (p, s) = fields();
    let names = vec!["cp".to_string(), "kexc".to_string()];
    let selection = Selection { names: &names, descriptors: chosen, ..Selection::default() };
    let domain = Domain { routing_order: &ORDER, nrow: 2, ncol: 2, mesh: None, descriptors, net: None };
    ControlSpace::new(
        mapping,
        ControlTfm::Normalize,
        &selection,
        (&STRUCTURE.parameters(), &STRUCTURE.states()),
        (&p, &s),
        &domain,
    )
}

#[test]
fn regional_mappings_need_descriptors_and_follow_smash_layout() {
    use crate::calibration::descriptors::DescriptorTfm;
    let err = regional_space(Mapping::MultiLinear, None, &[]).unwrap_err();
    assert!(err.to_string().contains("needs descriptors"), "{err}");
    let maps = vec![vec![1.0f32, 2.0, 3.0, 5.0], vec![0.1, 0.4, 0.2, 0.3]];
    let d = Arc::new(Descriptors::new(&["slope".into(), "dd".into()], &maps, &ORDER, DescriptorTfm::Normalize));
    let only_dd = vec![("kexc".to_string(), vec!["dd".to_string()])];
    let mp = regional_space(Mapping::MultiPower, Some(d.clone()), &only_dd).unwrap();
    assert_eq!(
        mp.names(),
        ["cp-0", "cp-slope-a", "cp-slope-b", "cp-dd-a", "cp-dd-b", "kexc-0", "kexc-dd-a", "kexc-dd-b"]
    );
    let b = mp.bounds();
    assert_eq!((b.lower[2], b.upper[2]), (0.0, 1.0), "exponents normalized from [0.5, 2]");
    assert_eq!((b.lower[1], b.upper[5]), (f64::NEG_INFINITY, f64::INFINITY));
    let (p0, s0) = fields();
    let x = mp.first_guess(&p0, &s0);
    assert!((x[2] - 1.0 / 3.0).abs() < 1e-12 && x[1] == 0.0);
    // the first guess maps every cell to the mean (below u − 1e-3)
    let (mut p, mut s) = (p0.clone(), s0.clone());
    mp.apply(&x, &mut p, &mut s);
    assert!(p.get("cp").unwrap().iter().all(|&v| (v - 200.0).abs() < 1e-9));
    let bad = vec![("cp".to_string(), vec!["karst".to_string()])];
    let err = regional_space(Mapping::MultiLinear, Some(d.clone()), &bad).unwrap_err();
    assert!(err.to_string().contains("'karst' is not in setup.descriptor_name"), "{err}");
    let not_optimized = vec![("ct".to_string(), vec!["dd".to_string()])];
    assert!(matches!(
        regional_space(Mapping::MultiLinear, Some(d), &not_optimized),
        Err(ControlError::DescriptorNotOptimized { .. })
    ));
}
