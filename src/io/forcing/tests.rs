//! Forcing on small synthetic datasets (2 × 2 rasters, 1 km cells).

use std::path::Path;

use tiff::encoder::colortype::{Gray16, Gray32Float, Gray64Float};

use super::*;
use crate::io::test_tiff::{Geo, write};
use crate::time::parse_datetime;

const GRID: Grid = Grid { xmin: 0.0, ymax: 2000.0, dx: 1000.0, dy: 1000.0, nrow: 2, ncol: 2 };
const CELLS: [usize; 4] = [0, 1, 2, 3];

fn axis(start: &str, dt: i64, ntime: usize) -> TimeAxis {
    TimeAxis { start: parse_datetime(start).unwrap(), dt, ntime }
}

/// `YYYY/MM/DD/rain_<stamp>.tif`, uint16, nodata 65535.
fn prcp(dir: &Path, stamp: &str, values: [u16; 4]) {
    let path = dir.join(&stamp[..4]).join(&stamp[4..6]).join(&stamp[6..8]).join(format!("rain_{stamp}_{stamp}.tif"));
    write::<Gray16>(&path, &Geo { nodata: Some("65535"), ..Geo::area(0.0, 2000.0, 1000.0) }, 2, 2, &values);
}

/// `<mmdd>_ETPJIA.tif`, float64, nodata −99, PixelIsPoint.
fn pet_day(dir: &Path, mmdd: &str, values: [f64; 4]) {
    let geo = Geo { nodata: Some("-99"), point: true, ..Geo::area(0.0, 2000.0, 1000.0) };
    write::<Gray64Float>(&dir.join(format!("{mmdd}_ETPJIA.tif")), &geo, 2, 2, &values);
}

fn spec(root: &Path) -> AtmosSpec {
    AtmosSpec {
        prcp_conversion_factor: 0.1,
        daily_interannual_pet: true,
        ..AtmosSpec::new(root.join("prcp"), root.join("pet"))
    }
}

#[test]
fn hourly_prcp_and_interannual_pet_follow_smash() {
    let root = tempfile::tempdir().unwrap();
    let (p, e) = (root.path().join("prcp"), root.path().join("pet"));
    prcp(&p, "201409151000", [999, 999, 999, 999]); // the start: never read
    prcp(&p, "201409151100", [10, 20, 65535, 40]);
    prcp(&p, "201409151300", [1, 2, 3, 4]);
    pet_day(&e, "0914", [4.0, 4.0, 4.0, -99.0]); // day 258 of a leap year
    pet_day(&e, "0915", [100.0; 4]);
    let time = axis("2014-09-15 10:00", 3600, 3);

    let err = read_atmos(&spec(root.path()), &time, &GRID, &CELLS).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, IoError::MissingForcingFiles { count: 1, total: 3, .. }), "{msg}");
    assert!(msg.contains("prcp_directory") && msg.contains("2014-09-15 12:00") && msg.contains("prcp"), "{msg}");

    let spec = AtmosSpec { missing_forcing_file: MissingFile::AsMissing, ..spec(root.path()) };
    let f = read_atmos(&spec, &time, &GRID, &[3, 0, 1, 2]).unwrap();
    let t = 0.1f32;
    assert_eq!((f.ntime, f.ncell), (3, 4));
    assert_eq!(f.prcp[..4], [40.0 * t, 10.0 * t, 20.0 * t, -99.0 * t]);
    assert_eq!(f.prcp[4..8], [-99.0; 4]); // missing file: −99, not scaled
    assert_eq!(f.prcp[8..], [4.0 * t, 1.0 * t, 2.0 * t, 3.0 * t]);
    // Steps end at 11, 12 and 13 h: ratios 0.11, 0.117, 0.117 of the 09-14 file.
    for (k, r) in [0.11f32, 0.117, 0.117].into_iter().enumerate() {
        assert_eq!(f.pet[4 * k..4 * k + 4], [-99.0 * r, 4.0 * r, 4.0 * r, 4.0 * r], "step {k}");
    }
    assert_eq!(f.warnings.len(), 1, "{:?}", f.warnings);
    assert!(f.warnings[0].contains("2014-09-15 12:00"));
}

#[test]
fn leap_year_day_index_quirk() {
    let root = tempfile::tempdir().unwrap();
    let (p, e) = (root.path().join("prcp"), root.path().join("pet"));
    for stamp in ["201403011200", "201403031200", "202003011200"] {
        prcp(&p, stamp, [0; 4]);
    }
    pet_day(&e, "0229", [1.0; 4]);
    pet_day(&e, "0301", [2.0; 4]);
    let spec = spec(root.path());
    // 2014-03-01 is day 60: in the leap calendar that is 02-29.
    let f = read_atmos(&spec, &axis("2014-03-01 11:00", 3600, 1), &GRID, &CELLS).unwrap();
    assert_eq!(f.pet, [1.0 * 0.117f32; 4]);
    // In a leap year the calendar matches: 2020-03-01 uses 03-01.
    let f = read_atmos(&spec, &axis("2020-03-01 11:00", 3600, 1), &GRID, &CELLS).unwrap();
    assert_eq!(f.pet, [2.0 * 0.117f32; 4]);
    // A missing day is named as mm-dd.
    let err = read_atmos(&spec, &axis("2014-03-03 11:00", 3600, 1), &GRID, &CELLS).unwrap_err();
    assert!(err.to_string().contains("03-02") && err.to_string().contains("pet_directory"), "{err}");
}

#[test]
fn daily_dated_pet_and_grid_errors() {
    let root = tempfile::tempdir().unwrap();
    let (p, e) = (root.path().join("prcp"), root.path().join("pet"));
    let geo = Geo::area(0.0, 2000.0, 1000.0);
    for (day, v) in [("20120802", 1.0f32), ("20120803", 2.0)] {
        write::<Gray32Float>(&p.join(format!("{day}0000_PT.tif")), &geo, 2, 2, &[v; 4]);
        write::<Gray32Float>(&e.join(format!("{day}0000_ETP.tif")), &geo, 2, 2, &[v + 0.5; 4]);
    }
    let spec = AtmosSpec::new(&p, &e);
    let f = read_atmos(&spec, &axis("2012-08-01", 86_400, 2), &GRID, &[1]).unwrap();
    assert_eq!((&f.prcp[..], &f.pet[..]), (&[1.0, 2.0][..], &[1.5, 2.5][..]));

    // Another resolution: an error naming the file.
    write::<Gray32Float>(&p.join("201208040000_PT.tif"), &Geo::area(0.0, 2000.0, 500.0), 4, 4, &[0.0; 16]);
    write::<Gray32Float>(&e.join("201208040000_ETP.tif"), &geo, 2, 2, &[0.0; 4]);
    let err = read_atmos(&spec, &axis("2012-08-01", 86_400, 3), &GRID, &[1]).unwrap_err();
    assert!(
        matches!(err, IoError::ResolutionMismatch { .. }) && err.to_string().contains("201208040000_PT.tif"),
        "{err}"
    );

    // A missing folder names the key; a cell outside the grid is refused.
    let err = read_atmos(&AtmosSpec::new(root.path().join("nope"), &e), &axis("2012-08-01", 86_400, 2), &GRID, &[1])
        .unwrap_err();
    assert!(matches!(err, IoError::MissingDirectory { .. }) && err.to_string().contains("prcp_directory"), "{err}");
    assert!(matches!(
        read_atmos(&spec, &axis("2012-08-01", 86_400, 2), &GRID, &[4]),
        Err(IoError::InvalidArgument { .. })
    ));
}
