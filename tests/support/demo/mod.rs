//! Generator of the demo dataset shipped in `configs/demo/` (used by `configs/demo.toml`).
//!
//! A 21×20 grid of 1-km cells in Lambert-93 (EPSG:2154) holding a 219-km² catchment that drains to an
//! outlet on the southern edge, 15 days of hourly rainfall with four storms, daily-interannual PET, a
//! slope descriptor, and observed discharge at two gauges. Everything derives from fixed seeds with a
//! hand-written RNG and arithmetic only, so the bytes are the same on every machine.

pub mod forcing;
pub mod geotiff;
pub mod hydrograph;
pub mod rng;
pub mod terrain;

use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::Path;

use rng::Rng;

/// A north-up raster grid: `nrow × ncol` square cells of `dx` metres, north-west corner `(xmin, ymax)`.
pub struct Grid {
    pub nrow: usize,
    pub ncol: usize,
    pub xmin: f64,
    pub ymax: f64,
    pub dx: f64,
}

/// 21 rows × 20 columns (not square, to catch row/column mix-ups).
pub const GRID: Grid = Grid { nrow: 21, ncol: 20, xmin: 700_000.0, ymax: 6_500_000.0, dx: 1000.0 };

/// Simulation period: 360 hourly steps from 2021-10-01 00:00 (files are dated by the step end).
pub const START: Stamp = Stamp { year: 2021, month: 10, day: 1, hour: 0 };
pub const NSTEP: usize = 360;
/// PET files: every day from 30 September to 16 October (the reader may need the previous day).
pub const PET_FIRST_DAY: Stamp = Stamp { year: 2021, month: 9, day: 30, hour: 0 };
pub const PET_DAYS: usize = 17;

/// A gauge of the demo catchment.
pub struct Gauge {
    pub code: &'static str,
    pub row: usize,
    pub col: usize,
    /// Drained area [km²] (number of 1-km² cells).
    pub area: u32,
    /// Flat indices of the cells draining through it (itself included).
    pub cells: Vec<usize>,
    /// Rows of the qobs file reported missing (−99).
    pub gaps: Vec<std::ops::Range<usize>>,
}

/// Writes the whole dataset under `dir` (created if needed) and returns its gauges.
///
/// # Errors
/// Any I/O error while writing.
pub fn generate(dir: &Path) -> io::Result<Vec<Gauge>> {
    let g = &GRID;
    assert_eq!(PET_FIRST_DAY.plus_hours(24), START, "PET files start the day before the simulation");
    let t = terrain::build(g, 1);
    geotiff::write_u8(&dir.join("flwdir.tif"), g, &t.flwdir, "0")?;
    geotiff::write_f32(&dir.join("descriptor/slope.tif"), g, &t.slope, "-99")?;

    let gauges = place_gauges(&t);
    let mut csv = String::from("code,x,y,area\n");
    for ga in &gauges {
        let x = g.xmin + (ga.col as f64 + 0.5) * g.dx;
        let y = g.ymax - (ga.row as f64 + 0.5) * g.dx;
        writeln!(csv, "{},{x:.1},{y:.1},{}", ga.code, ga.area).unwrap();
    }
    fs::write(dir.join("gauge_attributes.csv"), csv)?;

    // Rainfall, keeping each gauge's catchment-average series [mm/h].
    let mut rng = Rng::new(2);
    let mut basin_prcp = vec![Vec::with_capacity(NSTEP); gauges.len()];
    for k in 0..NSTEP {
        let field = forcing::hourly_rain(g, k, &mut rng);
        let end = START.plus_hours(k + 1);
        let (y, m, d) = (end.year, end.month, end.day);
        let path = dir.join(format!("prcp/{y}/{m:02}/{d:02}/demo_prcp_{}.tif", end.compact()));
        geotiff::write_u16(&path, g, &field, "65535")?;
        for (ga, series) in gauges.iter().zip(&mut basin_prcp) {
            series.push(ga.cells.iter().map(|&i| 0.1 * f64::from(field[i])).sum::<f64>() / ga.cells.len() as f64);
        }
    }

    // Daily-interannual PET, keeping each gauge's catchment-average daily value [mm/day].
    let mut rng = Rng::new(3);
    let mut basin_pet = vec![Vec::new(); gauges.len()];
    for j in 0..PET_DAYS {
        let field = forcing::daily_pet(g, j, &mut rng);
        let day = PET_FIRST_DAY.plus_hours(24 * j);
        geotiff::write_f32(&dir.join(format!("pet/{:02}{:02}_demo_pet.tif", day.month, day.day)), g, &field, "-99")?;
        for (ga, series) in gauges.iter().zip(&mut basin_pet) {
            series.push(ga.cells.iter().map(|&i| f64::from(field[i])).sum::<f64>() / ga.cells.len() as f64);
        }
    }

    // Observed discharge: rows dated from START (the initial state) to one step past the end.
    let mut rng = Rng::new(4);
    for (ga, (mut prcp, daily_pet)) in gauges.iter().zip(basin_prcp.into_iter().zip(basin_pet)) {
        prcp.push(0.0); // the step after the end (the reader never uses the last row)
        let pet: Vec<f64> = (1..=prcp.len())
            .map(|k| {
                // The step ending at START + k h falls on day (24 + k) / 24 after PET_FIRST_DAY.
                daily_pet[(24 + k) / 24] * forcing::PET_HOURLY_RATIO[START.plus_hours(k).hour as usize]
            })
            .collect();
        let area = f64::from(ga.area);
        let q = hydrograph::Lumped::for_area(area).simulate(&prcp, &pet, area);
        let csv = hydrograph::observed_csv(&START.compact(), &q, &ga.gaps, &mut rng);
        fs::create_dir_all(dir.join("qobs"))?;
        fs::write(dir.join(format!("qobs/{}.csv", ga.code)), csv)?;
    }
    fs::write(dir.join("README.md"), readme(&gauges))?;
    Ok(gauges)
}

/// The outlet gauge, and one at the mouth of the largest tributary of the main river.
fn place_gauges(t: &terrain::Terrain) -> Vec<Gauge> {
    let g = &GRID;
    let ncol = g.ncol;
    let drains_to = |i: usize| {
        let to = (t.mask[i]).then(|| terrain::downstream(g, i / ncol, i % ncol, t.flwdir[i])).flatten();
        to.map(|(r, c)| r * ncol + c).filter(|&j| t.mask[j])
    };
    // Main river: from the outlet, always up the larger inflow.
    let mut main = vec![terrain::OUTLET.0 * ncol + terrain::OUTLET.1];
    while let Some(up) = (0..t.acc.len())
        .filter(|&j| drains_to(j) == Some(*main.last().unwrap()))
        .max_by_key(|&j| (t.acc[j], std::cmp::Reverse(j)))
    {
        main.push(up);
    }
    let tributary = (0..t.acc.len())
        .filter(|&j| !main.contains(&j) && drains_to(j).is_some_and(|d| main.contains(&d)))
        .max_by_key(|&j| (t.acc[j], std::cmp::Reverse(j)))
        .expect("the main river has a tributary");
    let upstream = |gauge: usize| -> Vec<usize> {
        (0..t.acc.len())
            .filter(|&j| {
                let mut k = Some(j).filter(|&j| t.mask[j]);
                while let Some(i) = k {
                    if i == gauge {
                        return true;
                    }
                    k = drains_to(i);
                }
                false
            })
            .collect()
    };
    let make = |code, cell: usize, gaps| {
        let cells = upstream(cell);
        assert_eq!(cells.len() as u32, t.acc[cell]);
        Gauge { code, row: cell / ncol, col: cell % ncol, area: t.acc[cell], cells, gaps }
    };
    let gauges = vec![
        make("DEMO01", main[0], vec![100..107, 230..232]),
        make("DEMO02", tributary, vec![20..21, 176..177, 300..306]),
    ];
    // smash places a gauge on the cell within ±1 cell whose drained area is closest to the declared one,
    // never on the grid's last row or column: make sure that is the gauge's own cell, unambiguously.
    for ga in &gauges {
        let mut errs: Vec<(u32, usize, usize)> = Vec::new();
        for r in ga.row.saturating_sub(1)..=(ga.row + 1).min(g.nrow - 2) {
            for c in ga.col.saturating_sub(1)..=(ga.col + 1).min(ncol - 2) {
                errs.push((t.acc[r * ncol + c].abs_diff(ga.area), r, c));
            }
        }
        errs.sort();
        assert!(errs[0] == (0, ga.row, ga.col) && errs[1].0 > 0, "gauge {} is ambiguous: {errs:?}", ga.code);
    }
    gauges
}

fn readme(gauges: &[Gauge]) -> String {
    let mut s = String::from(
        "# hydrograd demo dataset (synthetic)\n\n\
         Generated by `tests/demo_data.rs`; do not edit by hand. Regenerate with\n\
         `HYDROGRAD_REGENERATE_DEMO=1 cargo test --test demo_data`.\n\n\
         - Grid: 21 rows x 20 columns of 1 km, EPSG:2154 (Lambert-93), north-west corner (700000, 6500000).\n\
         - `flwdir.tif`: D8 codes (1 = N, 2 = NE, ..., 8 = NW), uint8, 0 = outside the catchment\n  \
           (the river goes on one cell below the outlet gauge and leaves the grid).\n\
         - `prcp/YYYY/MM/DD/demo_prcp_YYYYmmddHHMM.tif`: hourly rainfall, uint16 in 0.1 mm, nodata 65535,\n  \
           dated by the end of the hour, 2021-10-01 01:00 to 2021-10-16 00:00.\n\
         - `pet/MMDD_demo_pet.tif`: daily-interannual PET [mm/day], float32, 0930 to 1016.\n\
         - `descriptor/slope.tif`: mean hillslope angle [deg], float32.\n\
         - `qobs/<code>.csv`: hourly discharge [m3/s] from a lumped two-reservoir model with noise;\n  \
           header = date of the first row (2021-10-01 00:00), -99.000 = missing.\n\nGauges:\n\n",
    );
    for ga in gauges {
        writeln!(s, "- {}: row {}, col {}, {} km2", ga.code, ga.row, ga.col, ga.area).unwrap();
    }
    s.push_str("\nStorms:\n\n");
    for st in &forcing::STORMS {
        writeln!(s, "- {}", st.name).unwrap();
    }
    s
}

/// A date and hour (no time zone), enough for file names.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stamp {
    pub year: u32,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
}

impl Stamp {
    pub fn plus_hours(self, hours: usize) -> Stamp {
        let mut s = self;
        for _ in 0..hours {
            s.hour += 1;
            if s.hour == 24 {
                s.hour = 0;
                s.day += 1;
            }
            let leap = s.year.is_multiple_of(4) && (!s.year.is_multiple_of(100) || s.year.is_multiple_of(400));
            let days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][s.month as usize - 1];
            if s.day > days {
                (s.day, s.month) = (1, s.month + 1);
            }
            if s.month > 12 {
                (s.month, s.year) = (1, s.year + 1);
            }
        }
        s
    }

    /// `YYYYmmddHHMM`.
    pub fn compact(self) -> String {
        format!("{}{:02}{:02}{:02}00", self.year, self.month, self.day, self.hour)
    }
}
