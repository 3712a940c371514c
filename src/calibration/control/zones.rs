//! The `zones` mapping (a semi-distributed calibration): one control per variable and zone, the zone's
//! value on every one of its active cells.
//!
//! Zones are either the sub-catchments between gauges (`optimize_options.zones = "gauges"`, the default:
//! each active cell belongs to the first gauge met walking downstream from it, its own cell included),
//! named by the gauge codes in gauge order; or the positive integer ids of a GeoTIFF on the mesh grid
//! (`zones = "<path>"`), named by the ids in ascending order. Two gauges on one cell are an error (the second
//! would have no zone); a zone without an active cell, which neither source gives on a mesh delineated from
//! its gauges, would have no control.
//!
//! For a variable `θ` and zone `z` with cells `C_z`: `θ(c) = T⁻¹(x_z)` for `c ∈ C_z`, and
//! `∂J/∂x_z = T'(x_z) · Σ_{c ∈ C_z} ∂J/∂θ(c)`, with `T` the variable's `control_tfm`.

use crate::io::{IoError, read_raster};
use crate::mesh::{D8_OFFSETS, Mesh};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// Where the zones of a `zones` mapping come from (`optimize_options.zones`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ZoneSource {
    /// The sub-catchments between gauges.
    #[default]
    Gauges,
    /// A GeoTIFF of positive integer zone ids on the mesh grid (absolute path).
    Raster(PathBuf),
}

/// Why the zones of a stage cannot be built. Rows and columns are 0-based on the mesh grid.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ZoneError {
    #[error(
        "optimize_options.zones = \"gauges\": active cell (row {row}, col {col}) of the mesh drains to no gauge; give a raster of zone ids instead"
    )]
    Ungauged { row: usize, col: usize },
    #[error("optimize_options.zones: {source}")]
    Raster {
        path: PathBuf,
        #[source]
        source: Box<IoError>,
    },
    #[error(
        "optimize_options.zones = {}: value {value} on active cell (row {row}, col {col}) of the mesh is not a zone id (a positive integer; -99 is nodata or outside the raster)",
        path.display()
    )]
    BadId { path: PathBuf, row: usize, col: usize, value: f64 },
    #[error(
        "optimize_options.zones = \"gauges\": gauges {first} and {second} are on the same cell (row {row}, col {col}) of the mesh, so {second} would have no sub-catchment and no control; give each gauge its own cell in the gauge attributes or give a raster of zone ids instead"
    )]
    SharedCell { first: String, second: String, row: usize, col: usize },
    #[error("the zones mapping needs the mesh of the run (a Domain built by Domain::of)")]
    NoMesh,
}

/// The zones of a stage on the active cells.
#[derive(Debug, Clone, PartialEq)]
pub struct Zones {
    /// Zone names (gauge codes or ids) in control order, `[Z]`.
    pub names: Vec<String>,
    /// Routing-order numbers of each zone's cells, ascending, `[Z][n_z]`; every active cell is in one zone.
    pub cells: Vec<Vec<usize>>,
}

impl Zones {
    /// The zones of `source` on `mesh`.
    ///
    /// # Errors
    /// See [`Zones::of_gauges`] and [`Zones::of_raster`].
    pub fn new(source: &ZoneSource, mesh: &Mesh) -> Result<Zones, ZoneError> {
        match source {
            ZoneSource::Gauges => Zones::of_gauges(mesh),
            ZoneSource::Raster(path) => Zones::of_raster(path.clone(), mesh),
        }
    }

    /// The sub-catchments between the gauges of `mesh`: a cell belongs to the first gauge on its path
    /// downstream along the D8 directions (its own cell included).
    ///
    /// # Errors
    /// [`ZoneError::SharedCell`] when two gauges are on one cell (the second would get no zone);
    /// [`ZoneError::Ungauged`] for the first active cell (in routing order) whose path leaves the active
    /// cells before it meets a gauge.
    pub fn of_gauges(mesh: &Mesh) -> Result<Zones, ZoneError> {
        let g = &mesh.grid;
        for (i, gauge) in mesh.gauges.iter().enumerate() {
            if let Some(first) = mesh.gauges[..i].iter().find(|f| (f.row, f.col) == (gauge.row, gauge.col)) {
                let (first, second) = (first.code.clone(), gauge.code.clone());
                return Err(ZoneError::SharedCell { first, second, row: gauge.row, col: gauge.col });
            }
        }
        let mut number = vec![usize::MAX; g.len()];
        for (k, &cell) in mesh.routing_order.iter().enumerate() {
            number[cell] = k;
        }
        let mut gauge_at = vec![None; g.len()];
        for (i, gauge) in mesh.gauges.iter().enumerate().rev() {
            gauge_at[g.index(gauge.row, gauge.col)] = Some(i);
        }
        // partitions are topological: a cell's downstream neighbour comes later in routing order
        let mut label: Vec<Option<usize>> = vec![None; mesh.nac()];
        for (k, &cell) in mesh.routing_order.iter().enumerate().rev() {
            label[k] = gauge_at[cell].or_else(|| {
                let (dr, dc) = *D8_OFFSETS.get(usize::from(mesh.flwdir[cell]).checked_sub(1)?)?;
                let (r, c) = ((cell / g.ncol).checked_add_signed(dr)?, (cell % g.ncol).checked_add_signed(dc)?);
                if r >= g.nrow || c >= g.ncol {
                    return None;
                }
                let down = number[g.index(r, c)];
                // an inactive neighbour (usize::MAX) or a loop back upstream reaches no gauge
                if down > k && down != usize::MAX { label[down] } else { None }
            });
        }
        let mut labels = Vec::with_capacity(label.len());
        for (k, l) in label.into_iter().enumerate() {
            let cell = mesh.routing_order[k];
            labels.push(l.ok_or(ZoneError::Ungauged { row: cell / g.ncol, col: cell % g.ncol })?);
        }
        Ok(Zones::from_labels(&labels, mesh.gauges.iter().map(|g| g.code.clone()).collect()))
    }

    /// The zones of the raster at `path`: its values on the mesh grid (the raster's cells must coincide
    /// with the mesh's), one zone per id found on an active cell.
    ///
    /// # Errors
    /// [`ZoneError::Raster`] for an unreadable file or a grid that does not match the mesh's,
    /// [`ZoneError::BadId`] for an active cell whose value is not a positive integer (nodata included).
    pub fn of_raster(path: PathBuf, mesh: &Mesh) -> Result<Zones, ZoneError> {
        let values = match read_raster(&path).and_then(|r| r.values_on(&mesh.grid)) {
            Ok(values) => values,
            Err(source) => return Err(ZoneError::Raster { path, source: Box::new(source) }),
        };
        let mut ids = Vec::with_capacity(mesh.nac());
        for &cell in &mesh.routing_order {
            let value = f64::from(values[cell]);
            if !(value >= 1.0 && value.fract() == 0.0) {
                let (row, col) = (cell / mesh.grid.ncol, cell % mesh.grid.ncol);
                return Err(ZoneError::BadId { path, row, col, value });
            }
            ids.push(value as u64);
        }
        let sorted: BTreeSet<u64> = ids.iter().copied().collect();
        let index: BTreeMap<u64, usize> = sorted.iter().enumerate().map(|(i, &id)| (id, i)).collect();
        let labels: Vec<usize> = ids.iter().map(|id| index[id]).collect();
        Ok(Zones::from_labels(&labels, sorted.iter().map(u64::to_string).collect()))
    }

    /// Zones from the zone index of every routing-order cell (`labels`, `[N]`) and the zone names,
    /// dropping the zones without a cell.
    fn from_labels(labels: &[usize], names: Vec<String>) -> Zones {
        let mut cells = vec![Vec::new(); names.len()];
        for (k, &z) in labels.iter().enumerate() {
            cells[z].push(k);
        }
        let (names, cells) = names.into_iter().zip(cells).filter(|(_, c)| !c.is_empty()).unzip();
        Zones { names, cells }
    }

    /// Number of zones.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The mean of `field` (`[N]`, routing order) over each zone, `[Z]`.
    pub(super) fn means<'a>(&'a self, field: &'a [f64]) -> impl Iterator<Item = f64> + 'a {
        self.cells.iter().map(|c| c.iter().map(|&k| field[k]).sum::<f64>() / c.len() as f64)
    }

    /// The sum of `field` (`[N]`, routing order) over each zone, `[Z]`.
    pub(super) fn sums<'a>(&'a self, field: &'a [f64]) -> impl Iterator<Item = f64> + 'a {
        self.cells.iter().map(|c| c.iter().map(|&k| field[k]).sum::<f64>())
    }

    /// Writes `values[z]` on every cell of zone `z` of `field` (`[N]`, routing order).
    pub(super) fn fill(&self, field: &mut [f64], values: impl IntoIterator<Item = f64>) {
        for (cells, v) in self.cells.iter().zip(values) {
            cells.iter().for_each(|&k| field[k] = v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{ControlSpace, ControlTfm, Domain, Mapping, Selection};
    use super::*;
    use crate::grid::Grid;
    use crate::io::test_tiff::{Geo, write};
    use crate::mesh::Gauge;
    use crate::model::Fields;
    use hydrograd_models::routing::RoutingModule;
    use hydrograd_models::structure::{HydrologicalModule, Structure};
    use tiff::encoder::colortype::{Gray16, Gray32Float};

    /// A 3×3 mesh (1-km cells, north-west corner (0, 3000)) of 8 active cells draining to the outlet
    /// (2, 2), with gauges "up" at (1, 1) and "out" at (2, 2); (0, 2) is inactive.
    ///
    /// ```text
    ///   SE  SE  .        (0,0)→(1,1)  (0,1)→(1,2)
    ///   S   SE  S        (1,0)→(2,0)  (1,1)→(2,2)  (1,2)→(2,2)
    ///   E   E   out      (2,0)→(2,1)  (2,1)→(2,2)
    /// ```
    fn mesh() -> Mesh {
        let grid = Grid { xmin: 0.0, ymax: 3000.0, dx: 1000.0, dy: 1000.0, nrow: 3, ncol: 3 };
        let flwdir = vec![4, 4, 0, 5, 4, 5, 3, 3, 0];
        let active = vec![true, true, false, true, true, true, true, true, true];
        // partitions: sources (0, 0), (0, 1), (1, 0); then (1, 1), (1, 2), (2, 0); then (2, 1); then (2, 2)
        let routing_order = vec![0, 3, 1, 6, 4, 5, 7, 8];
        let gauge = |code: &str, row, col| Gauge { code: code.into(), row, col, area: f64::NAN, area_dln: 0.0 };
        Mesh {
            grid,
            flwdir,
            flwacc: vec![0.0; 9],
            flwdst: vec![0.0; 9],
            flwpar: vec![1, 1, 0, 1, 2, 2, 2, 3, 4],
            npar: 4,
            partition_offsets: vec![0, 3, 6, 7, 8],
            routing_order,
            active,
            gauges: vec![gauge("up", 1, 1), gauge("out", 2, 2)],
        }
    }

    #[test]
    fn gauge_zones_are_the_sub_catchments_between_gauges() {
        let mut m = mesh();
        let z = Zones::of_gauges(&m).unwrap();
        assert_eq!(z.names, ["up", "out"]);
        // routing order: (0,0) (1,0) (0,1) (2,0) (1,1) (1,2) (2,1) (2,2); "up" drains (0,0) and (1,1)
        assert_eq!(z.cells, [vec![0, 4], vec![1, 2, 3, 5, 6, 7]]);
        // a gauge at the outlet only: one zone; a gauge upstream only: the rest drains to none
        m.gauges.reverse();
        assert_eq!(Zones::of_gauges(&m).unwrap().names, ["out", "up"]);
        m.gauges.truncate(1);
        assert_eq!(Zones::of_gauges(&m).unwrap().cells, [(0..8).collect::<Vec<_>>()]);
        let mut m = mesh();
        m.gauges.truncate(1);
        let err = Zones::of_gauges(&m).unwrap_err();
        assert!(matches!(err, ZoneError::Ungauged { row: 1, col: 0 }), "{err}");
        assert!(err.to_string().contains("optimize_options.zones"), "{err}");
        // two gauges on one cell: the second would have no zone
        let mut m = mesh();
        m.gauges.push(Gauge { code: "twin".into(), ..m.gauges[0].clone() });
        let err = Zones::of_gauges(&m).unwrap_err();
        assert!(matches!(&err, ZoneError::SharedCell { row: 1, col: 1, .. }), "{err}");
        assert!(err.to_string().contains("gauges up and twin are on the same cell (row 1, col 1)"), "{err}");
    }

    const STRUCTURE: Structure = Structure { hydrology: HydrologicalModule::Gr4, routing: RoutingModule::Lr };

    /// The `zones` controls of cp, kexc and hp on `mesh` (8 cells), with the first-guess fields.
    fn space(mesh: &Mesh, tfm: ControlTfm) -> (ControlSpace, Fields, Fields) {
        let (p, s) = (STRUCTURE.parameters(), STRUCTURE.states());
        let mut params = Fields::defaults(&p, 8, 3600.0);
        params.get_mut("cp").unwrap().copy_from_slice(&[100.0, 150.0, 200.0, 250.0, 300.0, 350.0, 400.0, 450.0]);
        params.get_mut("kexc").unwrap().copy_from_slice(&[-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0, 4.0]);
        let states = Fields::defaults(&s, 8, 3600.0);
        let names = ["cp", "kexc", "hp"].map(String::from);
        let selection = Selection { names: &names, ..Selection::default() };
        let routing_order = &mesh.routing_order;
        let domain = Domain { routing_order, nrow: 3, ncol: 3, mesh: Some(mesh), descriptors: None, net: None };
        let infos = (&p[..], &s[..]);
        let space = ControlSpace::new(Mapping::Zones, tfm, &selection, infos, (&params, &states), &domain).unwrap();
        (space, params, states)
    }

    #[test]
    fn zone_controls_round_trip_through_piecewise_constant_fields() {
        let m = mesh();
        for tfm in [ControlTfm::Sbs, ControlTfm::Normalize, ControlTfm::Keep] {
            let (z, p0, s0) = space(&m, tfm);
            assert_eq!(z.names(), ["cp-up", "cp-out", "kexc-up", "kexc-out", "hp-up", "hp-out"]);
            let x = z.first_guess(&p0, &s0);
            // the zone means: "up" = routing cells 0, 4, "out" = the other six
            let physical = z.physical(&x);
            let expected = [200.0, 300.0, -1.0, 1.0, 0.01, 0.01];
            for (a, b) in physical.iter().zip(expected) {
                assert!((a - b).abs() < 1e-12, "{tfm:?}: {physical:?}");
            }
            let (mut p, mut s) = (p0.clone(), s0.clone());
            z.apply(&x, &mut p, &mut s);
            assert_eq!(
                p.get("cp").unwrap().iter().map(|v| v.round()).collect::<Vec<_>>(),
                [200.0, 300.0, 300.0, 300.0, 200.0, 300.0, 300.0, 300.0]
            );
            assert_eq!(p.get("ct").unwrap(), p0.get("ct").unwrap(), "variables not optimized are untouched");
            // fields → controls → fields: the same controls
            let again = z.first_guess(&p, &s);
            assert!(again.iter().zip(&x).all(|(a, b)| (a - b).abs() < 1e-12), "{tfm:?}: {again:?} vs {x:?}");
            let b = z.bounds();
            assert_eq!((b.lower.len(), b.upper.len()), (6, 6));
            if tfm == ControlTfm::Normalize {
                assert!(b.lower.iter().all(|&l| l == 0.0) && b.upper.iter().all(|&u| u == 1.0));
            }
        }
    }

    #[test]
    fn zone_gradient_is_the_sum_over_the_zone_through_the_transform() {
        let m = mesh();
        for tfm in [ControlTfm::Sbs, ControlTfm::Normalize, ControlTfm::Keep] {
            let (z, p0, s0) = space(&m, tfm);
            let x: Vec<f64> =
                z.first_guess(&p0, &s0).iter().enumerate().map(|(i, v)| v * (1.0 + 0.01 * i as f64)).collect();
            // J = Σ w_i·(θ_i − θ₀_i + 0.1)² over every field value, w_i = 1 + 0.1·i
            let w = |i: usize| 1.0 + i as f64 * 0.1;
            let fields = |x: &[f64]| {
                let (mut p, mut s) = (p0.clone(), s0.clone());
                z.apply(x, &mut p, &mut s);
                (p, s)
            };
            // J(a) − J(b) = Σ w_i·(a_i − b_i)·(a_i + b_i − 2θ₀_i + 0.2), without J's cancellation
            let cost_difference = |a: &[f64], b: &[f64]| {
                let ((pa, sa), (pb, sb)) = (fields(a), fields(b));
                let (va, vb) = (pa.values.iter().chain(&sa.values), pb.values.iter().chain(&sb.values));
                let v0 = p0.values.iter().chain(&s0.values);
                let terms = va.zip(vb).zip(v0).enumerate();
                terms.map(|(i, ((a, b), v0))| w(i) * (a - b) * (a + b - 2.0 * v0 + 0.2)).sum::<f64>()
            };
            let (p, s) = fields(&x);
            let (mut gp, mut gs) = (p0.clone(), s0.clone());
            let np = p.values.len();
            gp.values.iter_mut().enumerate().for_each(|(i, g)| *g = 2.0 * w(i) * (p.values[i] - p0.values[i] + 0.1));
            gs.values
                .iter_mut()
                .enumerate()
                .for_each(|(i, g)| *g = 2.0 * w(np + i) * (s.values[i] - s0.values[i] + 0.1));
            let grad = z.pull_back(&x, &gp, &gs);
            for i in 0..x.len() {
                let h = 1e-6 * x[i].abs().max(1e-3);
                let (mut a, mut b) = (x.clone(), x.clone());
                a[i] += h;
                b[i] -= h;
                let fd = cost_difference(&a, &b) / (2.0 * h);
                assert!((grad[i] - fd).abs() <= 1e-7 * fd.abs(), "{tfm:?} control {i}: {} vs {fd}", grad[i]);
            }
        }
    }

    #[test]
    fn raster_zones_are_the_ids_in_ascending_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("zones.tif");
        let geo = Geo { nodata: Some("0"), ..Geo::area(0.0, 3000.0, 1000.0) };
        // (0, 2) is inactive: its nodata is ignored
        write::<Gray16>(&path, &geo, 3, 3, &[7, 7, 0, 3, 7, 3, 3, 3, 3]);
        let z = Zones::of_raster(path.clone(), &mesh()).unwrap();
        assert_eq!(z.names, ["3", "7"]);
        assert_eq!(z.cells, [vec![1, 3, 5, 6, 7], vec![0, 2, 4]]);
        write::<Gray32Float>(&path, &geo, 3, 3, &[7.0, 7.0, 1.0, 3.0, 0.0, 3.0, 3.0, 3.0, 2.5]);
        let err = Zones::of_raster(path.clone(), &mesh()).unwrap_err();
        assert!(matches!(err, ZoneError::BadId { row: 1, col: 1, value: -99.0, .. }), "{err}");
        assert!(err.to_string().contains("zones.tif"), "{err}");
        // cells of another size are refused, naming the file
        write::<Gray16>(&path, &Geo::area(0.0, 3000.0, 500.0), 6, 6, &[1; 36]);
        let err = Zones::of_raster(path, &mesh()).unwrap_err();
        assert!(
            matches!(&err, ZoneError::Raster { source, .. } if matches!(**source, IoError::ResolutionMismatch { .. })),
            "{err}"
        );
        assert!(err.to_string().contains("zones.tif"), "{err}");
    }
}
