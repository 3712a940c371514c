//! Single-band GeoTIFF rasters and their values on a mesh grid (spec §8, §8.1).
//!
//! Values on a mesh follow smash's `_read_windowed_raster`: each value is cast to `f32` (the buffer
//! rasterio reads into), values equal to the file's nodata (compared in `f32`) become −99, and mesh cells
//! outside the raster are −99 as well.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use tiff::decoder::{Decoder, DecodingResult, Limits};
use tiff::tags::{PlanarConfiguration, Tag};

use super::IoError;
use super::georef::{read_georef, read_nodata};
use super::window::{Coverage, Window};
use crate::grid::Grid;

/// smash's missing value.
pub const MISSING: f32 = -99.0;

/// A decoded single-band raster (band 1 of the file).
#[derive(Debug, Clone, PartialEq)]
pub struct Raster {
    /// The file it was read from (used in error messages).
    pub path: PathBuf,
    /// Its north-up grid; PixelIsPoint files are shifted half a cell so that cells are areas.
    pub grid: Grid,
    /// Values as stored, converted to `f64`. `[nrow, ncol]` row-major.
    pub data: Vec<f64>,
    /// The GDAL_NODATA value, if any.
    pub nodata: Option<f64>,
}

/// Reads band 1 of a GeoTIFF.
///
/// Supports 8/16/32/64-bit integer and 16/32/64-bit float samples, strips or tiles, and the compressions
/// of the `tiff` crate's default features (Deflate, LZW, PackBits, JPEG).
///
/// # Errors
/// [`IoError::Read`], [`IoError::Tiff`], [`IoError::UnsupportedRaster`], [`IoError::Georeferencing`].
pub fn read_raster(path: &Path) -> Result<Raster, IoError> {
    let file = RasterFile::open(path)?;
    let data = file.samples.to_f64(file.stride, file.grid.len());
    Ok(Raster { path: file.path, grid: file.grid, data, nodata: file.nodata })
}

impl Raster {
    /// The raster's values on `mesh`, as smash reads them: `f32`, −99 for nodata and outside the raster.
    ///
    /// # Shapes
    /// Returns `[mesh.nrow, mesh.ncol]` row-major.
    ///
    /// # Errors
    /// [`IoError::ResolutionMismatch`], [`IoError::GridMisaligned`], and [`IoError::NanValue`] for a NaN
    /// that is not the nodata value.
    pub fn values_on(&self, mesh: &Grid) -> Result<Vec<f32>, IoError> {
        let cells: Vec<usize> = (0..mesh.len()).collect();
        let mut out = vec![0.0; cells.len()];
        fill(&self.data[..], 1, &self.grid, self.nodata, &self.path, mesh, &cells, 1.0, &mut out)?;
        Ok(out)
    }
}

/// A raster kept in its stored sample type (avoids converting large forcing files).
pub(crate) struct RasterFile {
    pub path: PathBuf,
    pub grid: Grid,
    pub nodata: Option<f64>,
    samples: DecodingResult,
    /// Samples per pixel in the decoded buffer (band 1 is every `stride`-th sample).
    stride: usize,
}

impl RasterFile {
    pub fn open(path: &Path) -> Result<RasterFile, IoError> {
        let tiff_err = |source| IoError::Tiff { path: path.to_path_buf(), source };
        let file = File::open(path).map_err(|e| IoError::read(path, e))?;
        let mut dec = Decoder::new(BufReader::new(file)).map_err(tiff_err)?.with_limits(Limits::unlimited());
        let (width, height) = dec.dimensions().map_err(tiff_err)?;
        let (xmin, ymax, dx, dy) = read_georef(&mut dec, path)?;
        let nodata = read_nodata(&mut dec, path)?;
        let spp = dec.find_tag_unsigned::<u16>(Tag::SamplesPerPixel).ok().flatten().unwrap_or(1).max(1) as usize;
        let planar = dec.find_tag_unsigned::<u16>(Tag::PlanarConfiguration).ok().flatten();
        let stride = if planar == Some(PlanarConfiguration::Planar.to_u16()) { 1 } else { spp };
        let samples = dec.read_image().map_err(tiff_err)?;
        let grid = Grid { xmin, ymax, dx, dy, nrow: height as usize, ncol: width as usize };
        if samples.len() < grid.len() * stride {
            return Err(IoError::UnsupportedRaster {
                path: path.to_path_buf(),
                reason: format!("decoded {} samples for a {width} x {height} raster", samples.len()),
            });
        }
        Ok(RasterFile { path: path.to_path_buf(), grid, nodata, samples, stride })
    }

    /// Writes `value · factor` for each mesh cell of `cells` into `out` (see [`fill`]).
    pub fn fill(&self, mesh: &Grid, cells: &[usize], factor: f32, out: &mut [f32]) -> Result<Coverage, IoError> {
        macro_rules! go {
            ($($v:ident),*) => {
                match &self.samples {
                    $(DecodingResult::$v(d) => fill(&d[..], self.stride, &self.grid, self.nodata, &self.path, mesh, cells, factor, out),)*
                    DecodingResult::F16(d) => {
                        let d: Vec<f32> = d.iter().map(|v| v.to_f32()).collect();
                        fill(&d[..], self.stride, &self.grid, self.nodata, &self.path, mesh, cells, factor, out)
                    }
                }
            };
        }
        go!(U8, U16, U32, U64, I8, I16, I32, I64, F32, F64)
    }
}

/// A stored sample type.
pub(crate) trait Sample: Copy + Send + Sync {
    /// The value rasterio puts in a `float32` buffer.
    fn to_f32(self) -> f32;
    fn to_f64(self) -> f64;
}

macro_rules! impl_sample {
    ($($t:ty),*) => {$(
        impl Sample for $t {
            #[inline]
            fn to_f32(self) -> f32 { self as f32 }
            #[inline]
            fn to_f64(self) -> f64 { self as f64 }
        }
    )*};
}
impl_sample!(u8, u16, u32, u64, i8, i16, i32, i64, f32, f64);

trait Samples {
    fn len(&self) -> usize;
    fn to_f64(&self, stride: usize, n: usize) -> Vec<f64>;
}

impl Samples for DecodingResult {
    fn len(&self) -> usize {
        match self {
            DecodingResult::U8(d) => d.len(),
            DecodingResult::U16(d) => d.len(),
            DecodingResult::U32(d) => d.len(),
            DecodingResult::U64(d) => d.len(),
            DecodingResult::I8(d) => d.len(),
            DecodingResult::I16(d) => d.len(),
            DecodingResult::I32(d) => d.len(),
            DecodingResult::I64(d) => d.len(),
            DecodingResult::F16(d) => d.len(),
            DecodingResult::F32(d) => d.len(),
            DecodingResult::F64(d) => d.len(),
        }
    }

    fn to_f64(&self, stride: usize, n: usize) -> Vec<f64> {
        fn conv<T: Sample>(d: &[T], stride: usize, n: usize) -> Vec<f64> {
            d.iter().step_by(stride).take(n).map(|v| v.to_f64()).collect()
        }
        match self {
            DecodingResult::U8(d) => conv(d, stride, n),
            DecodingResult::U16(d) => conv(d, stride, n),
            DecodingResult::U32(d) => conv(d, stride, n),
            DecodingResult::U64(d) => conv(d, stride, n),
            DecodingResult::I8(d) => conv(d, stride, n),
            DecodingResult::I16(d) => conv(d, stride, n),
            DecodingResult::I32(d) => conv(d, stride, n),
            DecodingResult::I64(d) => conv(d, stride, n),
            DecodingResult::F16(d) => d.iter().step_by(stride).take(n).map(|v| v.to_f64()).collect(),
            DecodingResult::F32(d) => conv(d, stride, n),
            DecodingResult::F64(d) => conv(d, stride, n),
        }
    }
}

/// smash's value of each mesh cell in `cells`, times `factor`, into `out[i]` for `cells[i]`.
///
/// `v = data as f32`; `v = −99` if `v == nodata as f32` or the cell lies outside the raster; then
/// `out = v · factor` in `f32` (smash multiplies the −99 too).
#[allow(clippy::too_many_arguments)]
pub(crate) fn fill<T: Sample>(
    data: &[T],
    stride: usize,
    grid: &Grid,
    nodata: Option<f64>,
    path: &Path,
    mesh: &Grid,
    cells: &[usize],
    factor: f32,
    out: &mut [f32],
) -> Result<Coverage, IoError> {
    let window = Window::locate(grid, mesh, path)?;
    let nodata32 = nodata.map(|v| v as f32);
    let nan_is_nodata = nodata.is_some_and(f64::is_nan);
    let ncol = mesh.ncol.max(1);
    for (o, &cell) in out.iter_mut().zip(cells) {
        let v = match window.source_index(grid, cell / ncol, cell % ncol) {
            Some(i) => {
                let v = data[i * stride].to_f32();
                if Some(v) == nodata32 {
                    MISSING
                } else if v.is_nan() {
                    if !nan_is_nodata {
                        return Err(IoError::NanValue {
                            path: path.to_path_buf(),
                            row: i / grid.ncol,
                            col: i % grid.ncol,
                            nodata,
                        });
                    }
                    MISSING
                } else {
                    v
                }
            }
            None => MISSING,
        };
        *o = v * factor;
    }
    Ok(window.coverage(grid, mesh))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::test_tiff::{Geo, write};
    use tiff::encoder::colortype::{Gray16, Gray32Float, GrayI32};

    fn mesh(xmin: f64, ymax: f64, nrow: usize, ncol: usize) -> Grid {
        Grid { xmin, ymax, dx: 1000.0, dy: 1000.0, nrow, ncol }
    }

    #[test]
    fn pixel_is_point_is_shifted_half_a_cell() {
        let dir = tempfile::tempdir().unwrap();
        let area = dir.path().join("area.tif");
        let point = dir.path().join("point.tif");
        let geo = Geo { nodata: Some("-99"), ..Geo::area(807_000.0, 6_484_000.0, 1000.0) };
        write::<GrayI32>(&area, &geo, 2, 3, &[1, 2, 3, 4, -99, 6]);
        write::<GrayI32>(&point, &Geo { point: true, declared_keys: 9, ..geo }, 2, 3, &[1, 2, 3, 4, -99, 6]);
        let a = read_raster(&area).unwrap();
        let p = read_raster(&point).unwrap();
        assert_eq!(a.grid, Grid { xmin: 807_000.0, ymax: 6_484_000.0, dx: 1000.0, dy: 1000.0, nrow: 2, ncol: 3 });
        assert_eq!(p.grid, a.grid);
        assert_eq!(a.nodata, Some(-99.0));
        assert_eq!(a.data, [1.0, 2.0, 3.0, 4.0, -99.0, 6.0]);
        assert_eq!(p.values_on(&a.grid).unwrap(), [1.0, 2.0, 3.0, 4.0, -99.0, 6.0]);
    }

    #[test]
    fn window_by_coordinates_with_cells_outside() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.tif");
        let geo = Geo { nodata: Some("65535"), ..Geo::area(0.0, 3000.0, 1000.0) };
        write::<Gray16>(&path, &geo, 3, 3, &[0, 1, 2, 3, 4, 5, 6, 7, 65535]);
        let r = read_raster(&path).unwrap();
        // Mesh shifted one cell east and one south, 3 × 3: its last row and column are outside.
        let m = mesh(1000.0, 2000.0, 3, 3);
        assert_eq!(r.values_on(&m).unwrap(), [4.0, 5.0, -99.0, 7.0, -99.0, -99.0, -99.0, -99.0, -99.0]);
        // Through the forcing path, with a factor: nodata and outside are −99 · factor, as in smash.
        let f = RasterFile::open(&path).unwrap();
        let mut out = [0.0; 3];
        let cov = f.fill(&m, &[0, 4, 2], 0.1, &mut out).unwrap();
        assert_eq!(out, [4.0 * 0.1f32, -99.0 * 0.1f32, -99.0 * 0.1f32]);
        assert_eq!(cov, Coverage::Partial);
    }

    #[test]
    fn nodata_is_compared_in_f32_and_nan_must_be_declared() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.tif");
        let geo = Geo { nodata: Some("-3.39999999999999996e+38"), ..Geo::area(0.0, 1000.0, 1000.0) };
        write::<Gray32Float>(&path, &geo, 1, 3, &[-3.4e38, 1.5, f32::NAN]);
        let m = mesh(0.0, 1000.0, 1, 2);
        assert_eq!(read_raster(&path).unwrap().values_on(&m).unwrap(), [-99.0, 1.5]);
        let err = read_raster(&path).unwrap().values_on(&mesh(0.0, 1000.0, 1, 3)).unwrap_err();
        assert!(matches!(err, IoError::NanValue { row: 0, col: 2, .. }), "{err}");
        assert!(err.to_string().contains("f.tif"));
        write::<Gray32Float>(&path, &Geo { nodata: Some("nan"), ..geo }, 1, 3, &[-3.4e38, 1.5, f32::NAN]);
        assert_eq!(read_raster(&path).unwrap().values_on(&mesh(0.0, 1000.0, 1, 3)).unwrap(), [-3.4e38, 1.5, -99.0]);
    }

    #[test]
    fn bad_files_are_errors_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("junk.tif");
        std::fs::write(&path, b"not a tiff").unwrap();
        let err = read_raster(&path).unwrap_err();
        assert!(matches!(err, IoError::Tiff { .. }) && err.to_string().contains("junk.tif"), "{err}");
        let err = read_raster(&dir.path().join("absent.tif")).unwrap_err();
        assert!(matches!(err, IoError::Read { .. }), "{err}");
        // A TIFF without georeferencing.
        let plain = dir.path().join("plain.tif");
        let mut enc = tiff::encoder::TiffEncoder::new(File::create(&plain).unwrap()).unwrap();
        enc.write_image::<Gray32Float>(2, 1, &[1.0, 2.0]).unwrap();
        assert!(matches!(read_raster(&plain), Err(IoError::Georeferencing { .. })));
    }
}
