//! Meshes against smash 1.3's `generate_mesh` on its shipped datasets (golden files from
//! `tests/reference/make_golden.py`): Cance and Lez (gauges) and France (bounding box).
//!
//! Integer arrays must be identical; flwacc, flwdst and areas equal to f32 rounding (they are computed
//! in f32 in smash's order, so in practice they are bit-identical). A missing golden folder fails.

mod common;

use std::path::PathBuf;
use std::time::Instant;

use common::{Golden, case};
use hydrograd::io::read_raster;
use hydrograd::mesh::{FlowDirection, Mesh, MeshOptions, generate_bbox_mesh, generate_mesh, read_gauge_attributes};

/// Builds the case's mesh from its `config.toml` (`[mesh] flwdir`, `gauge_attributes` or `bbox`).
fn build(name: &str) -> Mesh {
    let path = case(name).join("config.toml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let config: toml::Table = text.parse().unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mesh = config["mesh"].as_table().expect("[mesh] table");
    let flwdir_path = PathBuf::from(mesh["flwdir"].as_str().expect("mesh.flwdir"));
    let raster = read_raster(&flwdir_path).unwrap_or_else(|e| panic!("{name}: {e}"));
    let flwdir = FlowDirection::from_raster_values(raster.grid, &raster.data, raster.nodata)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let t0 = Instant::now();
    let mesh = if let Some(ga) = mesh.get("gauge_attributes") {
        let gauges = read_gauge_attributes(&PathBuf::from(ga.as_str().unwrap())).unwrap();
        let mut options = MeshOptions::default();
        if let Some(d) = mesh.get("max_depth") {
            options.max_depth = d.as_integer().unwrap() as usize;
        }
        generate_mesh(&flwdir, &gauges, &options)
    } else {
        let b: Vec<f64> = mesh["bbox"]
            .as_array()
            .expect("mesh.bbox")
            .iter()
            .map(|v| v.as_float().or_else(|| v.as_integer().map(|i| i as f64)).unwrap())
            .collect();
        generate_bbox_mesh(&flwdir, [b[0], b[1], b[2], b[3]])
    }
    .unwrap_or_else(|e| panic!("{name}: {e}"));
    eprintln!(
        "{name}: mesh {}x{} (nac {}) generated in {:.2} ms",
        mesh.grid.nrow,
        mesh.grid.ncol,
        mesh.nac(),
        t0.elapsed().as_secs_f64() * 1e3
    );
    mesh
}

/// Collects the differences so that a failure lists every key that changed.
struct Diffs {
    name: &'static str,
    keys: Vec<String>,
}

impl Diffs {
    fn check(&mut self, key: &str, ok: bool, detail: impl FnOnce() -> String) {
        if !ok {
            self.keys.push(format!("{key}: {}", detail()));
        }
    }

    /// Element-wise; `tol` relative (0 = identical). Reports the count and the worst cell.
    fn array(&mut self, key: &str, ncol: usize, ours: &[f64], golden: &[f64], tol: f64) {
        if ours.len() != golden.len() {
            let (a, b) = (ours.len(), golden.len());
            return self.check(key, false, || format!("{a} values, smash {b}"));
        }
        let mut bad = 0;
        let mut worst: Option<(usize, f64)> = None;
        for (i, (&a, &b)) in ours.iter().zip(golden).enumerate() {
            let err = (a - b).abs() / b.abs().max(f64::MIN_POSITIVE);
            if a != b && (err > tol || err.is_nan()) {
                bad += 1;
                if worst.is_none_or(|(_, e)| err > e) {
                    worst = Some((i, err));
                }
            }
        }
        self.check(key, bad == 0, || {
            let (i, err) = worst.unwrap();
            let (r, c) = (i / ncol.max(1), i % ncol.max(1));
            format!("{bad} cells differ; worst (row {r}, col {c}): {} vs smash {} (rel {err:e})", ours[i], golden[i])
        });
    }

    fn finish(self) {
        assert!(self.keys.is_empty(), "{}: mesh differs from smash in:\n  {}", self.name, self.keys.join("\n  "));
    }
}

/// smash's partition variables over all cells: `ncpar`, `cscpar` and `cpar_to_rowcol` as
/// row-major flat indices (partition, then column-major).
fn smash_partition_layout(mesh: &Mesh) -> (Vec<f64>, Vec<f64>, Vec<usize>) {
    let (nrow, ncol) = (mesh.grid.nrow, mesh.grid.ncol);
    let mut ncpar = vec![0.0; mesh.npar];
    for &p in &mesh.flwpar {
        ncpar[p as usize - 1] += 1.0;
    }
    let cscpar: Vec<f64> = ncpar
        .iter()
        .scan(0.0, |s, &n| {
            let start = *s;
            *s += n;
            Some(start)
        })
        .collect();
    // Counting sort by partition of the cells taken column-major.
    let mut next: Vec<usize> = cscpar.iter().map(|&c| c as usize).collect();
    let mut order = vec![0; nrow * ncol];
    for c in 0..ncol {
        for r in 0..nrow {
            let p = mesh.flwpar[r * ncol + c] as usize - 1;
            order[next[p]] = r * ncol + c;
            next[p] += 1;
        }
    }
    (ncpar, cscpar, order)
}

fn compare(name: &'static str) {
    let mesh = build(name);
    check_against_smash(name, &mesh, &Golden::load(name, "mesh.safetensors"));
}

/// Compares every key of smash's mesh with ours; panics listing the keys that differ.
fn check_against_smash(name: &'static str, mesh: &Mesh, g: &Golden) {
    let mut d = Diffs { name, keys: Vec::new() };
    let grid = &mesh.grid;
    let ncol = grid.ncol;

    let meta_f = |k: &str| g.meta(k).parse::<f64>().unwrap();
    let meta_u = |k: &str| g.meta(k).parse::<usize>().unwrap();
    for (key, ours, theirs) in [
        ("xmin", grid.xmin, meta_f("xmin")),
        ("ymax", grid.ymax, meta_f("ymax")),
        ("dx", grid.dx, meta_f("dx")),
        ("dy", grid.dy, meta_f("dy")),
    ] {
        d.check(key, ours == theirs, || format!("{ours} vs smash {theirs}"));
    }
    for (key, ours, theirs) in [
        ("nrow", grid.nrow, meta_u("nrow")),
        ("ncol", grid.ncol, meta_u("ncol")),
        ("npar", mesh.npar, meta_u("npar")),
        ("nac", mesh.nac(), meta_u("nac")),
    ] {
        d.check(key, ours == theirs, || format!("{ours} vs smash {theirs}"));
    }
    if !d.keys.is_empty() {
        return d.finish(); // shapes differ: element-wise comparisons would be meaningless
    }

    // smash keeps the raster's nodata (−9999) where hydrograd has 0.
    let flwdir_ref: Vec<f64> =
        g.get("flwdir").iter().map(|&v| if (1.0..=8.0).contains(&v) { v } else { 0.0 }).collect();
    let as_f64 = |v: &[u32]| v.iter().map(|&x| f64::from(x)).collect::<Vec<_>>();
    d.array("flwdir", ncol, &mesh.flwdir.iter().map(|&c| f64::from(c)).collect::<Vec<_>>(), &flwdir_ref, 0.0);
    d.array(
        "active_cell",
        ncol,
        &mesh.active.iter().map(|&a| f64::from(u8::from(a))).collect::<Vec<_>>(),
        g.get("active_cell"),
        0.0,
    );
    d.array("flwpar", ncol, &as_f64(&mesh.flwpar), g.get("flwpar"), 0.0);
    let f32_tol = f64::from(f32::EPSILON);
    d.array("flwacc", ncol, &mesh.flwacc, g.get("flwacc"), f32_tol);
    if g.tensors.contains_key("flwdst") {
        d.array("flwdst", ncol, &mesh.flwdst, g.get("flwdst"), f32_tol);
    }

    let (ncpar, cscpar, order_all) = smash_partition_layout(mesh);
    d.array("ncpar", 0, &ncpar, g.get("ncpar"), 0.0);
    d.array("cscpar", 0, &cscpar, g.get("cscpar"), 0.0);
    let rowcol = g.get("cpar_to_rowcol");
    let golden_order: Vec<usize> = rowcol.chunks_exact(2).map(|rc| rc[0] as usize * ncol + rc[1] as usize).collect();
    d.check("cpar_to_rowcol", order_all == golden_order, || "full order differs".into());
    let golden_active: Vec<usize> = golden_order.iter().copied().filter(|&i| mesh.active[i]).collect();
    d.check("routing_order", mesh.routing_order == golden_active, || {
        let k = mesh.routing_order.iter().zip(&golden_active).position(|(a, b)| a != b).unwrap_or(0);
        format!("first difference at position {k}")
    });
    let mut offsets = vec![0usize; mesh.npar + 1];
    for &i in &golden_active {
        offsets[mesh.flwpar[i] as usize] += 1;
    }
    for p in 0..mesh.npar {
        offsets[p + 1] += offsets[p];
    }
    d.check("partition_offsets", mesh.partition_offsets == offsets, || "differ".into());

    let codes: Vec<&str> = mesh.gauges.iter().map(|g| g.code.as_str()).collect();
    let golden_codes: Vec<&str> = g.meta("code").split(',').filter(|s| !s.is_empty()).collect();
    d.check("code", codes == golden_codes, || format!("{codes:?} vs smash {golden_codes:?}"));
    if !mesh.gauges.is_empty() && codes == golden_codes {
        let pos: Vec<f64> = mesh.gauges.iter().flat_map(|g| [g.row as f64, g.col as f64]).collect();
        d.array("gauge_pos", 2, &pos, g.get("gauge_pos"), 0.0);
        let area: Vec<f64> = mesh.gauges.iter().map(|g| g.area).collect();
        d.array("area", 0, &area, g.get("area"), f32_tol);
        let area_dln: Vec<f64> = mesh.gauges.iter().map(|g| g.area_dln).collect();
        d.array("area_dln", 0, &area_dln, g.get("area_dln"), f32_tol);
    }
    d.finish();
}

#[test]
fn cance_mesh_matches_smash() {
    compare("cance");
}

#[test]
fn lez_mesh_matches_smash() {
    compare("lez");
}

#[test]
fn france_bbox_mesh_matches_smash() {
    compare("france");
}
