//! Mesh generation on small hand-made D8 grids with analytic answers.

use super::*;

const KM2: f64 = 1e6;

/// 7×7 grid of 1 km cells, origin (0, 7000). Rows 0..6 × cols 0..6 drain into the channel
/// column 2 (cols 0–1 flow E, cols 3–5 flow W), which flows S and leaves into the nodata row 6;
/// row 6 and col 6 are nodata. So `flwacc(r, 2) = 6 (r + 1)` km², `flwpar(r, 2) = 4 + r`.
fn comb() -> FlowDirection {
    let grid = Grid { xmin: 0.0, ymax: 7000.0, dx: 1000.0, dy: 1000.0, nrow: 7, ncol: 7 };
    let mut codes = vec![0u8; 49];
    for r in 0..6 {
        for (c, code) in [3, 3, 5, 7, 7, 7].into_iter().enumerate() {
            codes[r * 7 + c] = code;
        }
    }
    FlowDirection::new(grid, codes).unwrap()
}

/// Centre of cell (row, col) of `comb`.
fn gauge(code: &str, row: usize, col: usize, area_km2: f64) -> GaugeSpec {
    GaugeSpec {
        code: code.into(),
        x: col as f64 * 1000.0 + 500.0,
        y: 7000.0 - row as f64 * 1000.0 - 500.0,
        area: area_km2 * KM2,
    }
}

fn opts(max_depth: usize, th: Option<f64>) -> MeshOptions {
    MeshOptions { max_depth, area_error_th: th }
}

#[test]
fn outlet_mesh_matches_analytic_answers() {
    let m = generate_mesh(&comb(), &[gauge("A", 4, 2, 30.0)], &MeshOptions::default()).unwrap();
    assert_eq!((m.grid.nrow, m.grid.ncol, m.grid.xmin, m.grid.ymax), (5, 6, 0.0, 7000.0));
    assert_eq!(m.nac(), 30);
    assert!(m.active.iter().all(|&a| a));
    let g = &m.gauges[0];
    assert_eq!((g.row, g.col, g.area, g.area_dln), (4, 2, 30.0 * KM2, 30.0 * KM2));
    let at = |v: &[f64], r: usize, c: usize| v[r * 6 + c];
    for r in 0..5 {
        assert_eq!(at(&m.flwacc, r, 2), 6.0 * (r + 1) as f64 * KM2);
        assert_eq!(at(&m.flwacc, r, 1), 2.0 * KM2);
        assert_eq!(at(&m.flwacc, r, 3), 3.0 * KM2);
        assert_eq!(m.flwpar[r * 6 + 2], 4 + r as u32);
        for c in 0..6 {
            let d = (4 - r) as f64 * 1000.0 + (c as f64 - 2.0).abs() * 1000.0;
            assert_eq!(at(&m.flwdst, r, c), d, "flwdst ({r}, {c})");
        }
    }
    assert_eq!(m.npar, 8);
    assert_eq!(m.partition_offsets, vec![0, 10, 20, 25, 26, 27, 28, 29, 30]);
    // partition 1: cols 0 and 5 (sources), column-major
    let p1: Vec<usize> = (0..5).map(|r| r * 6).chain((0..5).map(|r| r * 6 + 5)).collect();
    assert_eq!(&m.routing_order[..10], &p1[..]);
    // partition 3: col 3 ; then the channel from the top
    assert_eq!(&m.routing_order[20..25], &[3, 9, 15, 21, 27]);
    assert_eq!(&m.routing_order[25..], &[2, 8, 14, 20, 26]);
}

#[test]
fn delineation_picks_best_area_within_max_depth() {
    let flw = comb();
    // Declared 30 km² at (3,3): (4,2) drains 30 km² and is one cell away diagonally.
    let m = generate_mesh(&flw, &[gauge("A", 3, 3, 30.0)], &opts(1, Some(0.5))).unwrap();
    assert_eq!((m.gauges[0].row, m.gauges[0].col, m.gauges[0].area_dln), (4, 2, 30.0 * KM2));
    // 23 km² at (3,3): (3,2) drains 24 (error 1/23) and beats (2,2) with 18.
    let m = generate_mesh(&flw, &[gauge("A", 3, 3, 23.0)], &opts(1, Some(0.5))).unwrap();
    assert_eq!((m.gauges[0].row, m.gauges[0].col), (3, 2));
    assert_eq!((m.grid.nrow, m.nac()), (4, 24));
    // max_depth 0 keeps the given cell: 3 km² instead of 30 -> rejected by the threshold ...
    let e = generate_mesh(&flw, &[gauge("A", 3, 3, 30.0)], &opts(0, Some(0.5))).unwrap_err();
    match e {
        MeshError::AreaMismatch { code, area, area_dln, rel_error, threshold } => {
            assert_eq!((code.as_str(), area, area_dln, threshold), ("A", 30.0 * KM2, 3.0 * KM2, 0.5));
            assert!((rel_error - 0.9).abs() < 1e-6);
        }
        e => panic!("{e}"),
    }
    // ... and accepted without one: the mesh is the 3 cells of row 3, cols 3..6.
    let m = generate_mesh(&flw, &[gauge("A", 3, 3, 30.0)], &opts(0, None)).unwrap();
    assert_eq!((m.grid.nrow, m.grid.ncol, m.grid.xmin, m.grid.ymax), (1, 3, 3000.0, 4000.0));
    assert_eq!(m.flwacc, vec![3.0 * KM2, 2.0 * KM2, KM2]);
    assert_eq!((m.gauges[0].row, m.gauges[0].col), (0, 0));
}

#[test]
fn ties_go_to_the_first_candidate_column_major() {
    // 4 km² at (1,3). Candidates are visited column offset outer, row offset inner:
    // (0,2) = 6 km² (error 0.5), (1,2) = 12, (2,2) = 18, then (0,3) = 3 km² (error 0.25) wins;
    // (1,3) and (2,3) tie with it and (0,4).. (2,4) = 2 km² do worse.
    let flw = comb();
    let m = generate_mesh(&flw, &[gauge("A", 1, 3, 4.0)], &opts(1, None)).unwrap();
    assert_eq!(m.gauges[0].area_dln, 3.0 * KM2);
    assert_eq!((m.grid.ymax, m.grid.xmin, m.grid.nrow), (7000.0, 3000.0, 1));
}

#[test]
fn nested_gauges_share_distances_from_the_largest() {
    let flw = comb();
    let gs = [gauge("up", 2, 2, 18.0), gauge("down", 4, 2, 30.0)];
    let m = generate_mesh(&flw, &gs, &MeshOptions::default()).unwrap();
    assert_eq!(m.gauges.iter().map(|g| (g.row, g.col)).collect::<Vec<_>>(), vec![(2, 2), (4, 2)]);
    assert_eq!(m.flwdst[2 * 6 + 2], 2000.0);
    assert_eq!(m.flwdst[4 * 6 + 2], 0.0);
}

#[test]
fn inactive_cells_inside_the_rectangle_still_accumulate() {
    // Two disjoint catchments: (0,1) (cells (0,0),(0,1)) and (3,4) (cells (3,4),(3,5)).
    // The rectangle rows 0..4 × cols 0..6 contains the channel, inactive but with its codes.
    let flw = comb();
    let gs = [gauge("a", 0, 1, 2.0), gauge("b", 3, 4, 2.0)];
    let m = generate_mesh(&flw, &gs, &opts(0, None)).unwrap();
    assert_eq!((m.grid.nrow, m.grid.ncol, m.nac()), (4, 6, 4));
    assert!(!m.active[3 * 6 + 2]);
    assert_eq!(m.flwdir[3 * 6 + 2], 5);
    assert_eq!(m.flwacc[3 * 6 + 2], 24.0 * KM2);
    assert_eq!(m.npar, 7); // channel cell (3,2), inactive
    assert_eq!(m.flwdst[3 * 6 + 2], -99.0);
    assert_eq!(m.partition_offsets.len(), 8);
    assert_eq!(*m.partition_offsets.last().unwrap(), 4);
}

#[test]
fn gauge_errors() {
    let flw = comb();
    let e = generate_mesh(&flw, &[], &MeshOptions::default()).unwrap_err();
    assert!(matches!(e, MeshError::NoGauges));
    let mut g = gauge("X1", 0, 0, 1.0);
    g.x = -1.0;
    let e = generate_mesh(&flw, &[g.clone()], &MeshOptions::default()).unwrap_err();
    assert!(matches!(&e, MeshError::GaugeOutsideGrid { code, x, .. } if code == "X1" && *x == -1.0));
    assert!(e.to_string().contains("X1") && e.to_string().contains("x -1"), "{e}");
    // x = xmax passes smash's inclusive test but has no cell.
    g.x = 7000.0;
    let e = generate_mesh(&flw, &[g.clone()], &MeshOptions::default()).unwrap_err();
    assert!(matches!(e, MeshError::GaugeOutsideGrid { .. }), "{e}");
    let e = generate_mesh(&flw, &[gauge("Z", 1, 1, 0.0)], &MeshOptions::default()).unwrap_err();
    assert!(matches!(e, MeshError::InvalidGaugeArea { .. }), "{e}");
    let e = generate_mesh(&flw, &[gauge("N", 1, 1, f64::NAN)], &MeshOptions::default()).unwrap_err();
    assert!(matches!(e, MeshError::InvalidGaugeArea { .. }), "{e}");
}

#[test]
fn outlet_on_a_loop_is_skipped_or_rejected() {
    let mut flw = comb();
    // (1,0) E -> (1,1), (1,1) made W -> (1,0): a two-cell loop.
    flw.codes[7 + 1] = 7;
    let e = generate_mesh(&flw, &[gauge("L", 1, 1, 2.0)], &opts(0, None)).unwrap_err();
    assert!(matches!(e, MeshError::NoOutlet { row: 1, col: 1, max_depth: 0, .. }), "{e}");
    // With a search radius, a neighbour outside the loop is taken.
    let m = generate_mesh(&flw, &[gauge("L", 1, 1, 2.0)], &opts(1, None)).unwrap();
    assert_eq!(m.gauges[0].area_dln, 2.0 * KM2);
}

#[test]
fn bbox_mesh_snaps_and_clips_like_smash() {
    let flw = comb();
    // Snapped to cols 0..4 (0.4 -> 0, 3.6 -> 4) and rows 0..5 (y 2000 .. 6.6 -> 7000).
    let m = generate_bbox_mesh(&flw, [400.0, 3600.0, 2000.0, 6600.0]).unwrap();
    assert_eq!((m.grid.xmin, m.grid.ymax, m.grid.nrow, m.grid.ncol), (0.0, 7000.0, 5, 4));
    assert_eq!(m.nac(), 20);
    assert!(m.gauges.is_empty());
    assert!(m.flwdst.iter().all(|&d| d == -99.0));
    // (r, 3) flows W into the channel; col 4.. is outside.
    assert_eq!(m.flwacc[4 * 4 + 2], 5.0 * 4.0 * KM2);
    // Clipped to the whole grid: nodata cells are inactive.
    let m = generate_bbox_mesh(&flw, [-5e3, 1e5, -1e5, 1e5]).unwrap();
    assert_eq!((m.grid.nrow, m.grid.ncol, m.nac()), (7, 7, 36));
    assert_eq!(m.flwacc[5 * 7 + 2], 36.0 * KM2);
    // The nodata cell (6,2) receives the channel (smash accumulates into it too): npar counts it.
    assert_eq!(m.flwpar[6 * 7 + 2], 10);
    assert_eq!(m.npar, 10);
    assert_eq!(m.partition_offsets.len(), 11);
}

#[test]
fn bbox_errors() {
    let flw = comb();
    let e = generate_bbox_mesh(&flw, [8000.0, 9000.0, 0.0, 7000.0]).unwrap_err();
    assert!(matches!(e, MeshError::BboxOutsideGrid { .. }), "{e}");
    let e = generate_bbox_mesh(&flw, [3000.0, 1000.0, 0.0, 7000.0]).unwrap_err();
    assert!(matches!(e, MeshError::InvalidBbox { .. }), "{e}");
    let e = generate_bbox_mesh(&flw, [0.0, 1000.0, f64::NAN, 7000.0]).unwrap_err();
    assert!(matches!(e, MeshError::InvalidBbox { .. }), "{e}");
    // Less than half a cell wide: snaps to nothing.
    let e = generate_bbox_mesh(&flw, [1100.0, 1300.0, 0.0, 7000.0]).unwrap_err();
    assert!(matches!(e, MeshError::BboxOutsideGrid { .. }), "{e}");
    // Only nodata.
    let e = generate_bbox_mesh(&flw, [6000.0, 7000.0, 0.0, 7000.0]).unwrap_err();
    assert!(matches!(e, MeshError::NoActiveCell), "{e}");
}

#[test]
fn bbox_sinks_and_loops() {
    let mut flw = comb();
    // E/W pair (1,0) <-> (1,1): smash's detect_sink finds it; both become inactive.
    flw.codes[7 + 1] = 7;
    let m = generate_bbox_mesh(&flw, [0.0, 7000.0, 0.0, 7000.0]).unwrap();
    assert_eq!(m.nac(), 34);
    assert_eq!((m.flwdir[7], m.flwdir[8], m.active[7], m.active[8]), (0, 0, false, false));
    assert_eq!(detect_sink(7, 7, &flw.codes).iter().filter(|&&s| s).count(), 2);

    // A NE/SW pair is not a smash "sink": it is an active loop -> error naming a cell.
    let mut flw = comb();
    flw.codes[2 * 7] = 2; // (2,0) NE -> (1,1)
    flw.codes[7 + 1] = 6; // (1,1) SW -> (2,0)
    let e = generate_bbox_mesh(&flw, [0.0, 7000.0, 0.0, 7000.0]).unwrap_err();
    match e {
        MeshError::Cycle { row, col, x, y } => {
            assert!([(1, 1), (2, 0)].contains(&(row, col)), "{row} {col}");
            assert_eq!((x, y), (col as f64 * 1000.0 + 500.0, 7000.0 - row as f64 * 1000.0 - 500.0));
        }
        e => panic!("{e}"),
    }

    // A three-cell loop too.
    let mut flw = comb();
    flw.codes[0] = 3; // (0,0) E -> (0,1)
    flw.codes[1] = 6; // (0,1) SW -> (1,0)
    flw.codes[7] = 1; // (1,0) N -> (0,0)
    let e = generate_bbox_mesh(&flw, [0.0, 7000.0, 0.0, 7000.0]).unwrap_err();
    assert!(matches!(e, MeshError::Cycle { .. }), "{e}");
}

#[test]
fn inconsistent_sizes() {
    let mut flw = comb();
    flw.codes.pop();
    let e = generate_bbox_mesh(&flw, [0.0, 7000.0, 0.0, 7000.0]).unwrap_err();
    assert!(matches!(e, MeshError::SizeMismatch { expected: 49, got: 48, .. }), "{e}");
    let e = generate_mesh(&flw, &[gauge("A", 1, 1, 1.0)], &MeshOptions::default()).unwrap_err();
    assert!(matches!(e, MeshError::SizeMismatch { .. }), "{e}");
}
