//! Minimal single-band GeoTIFF writer on top of the `tiff` crate's encoder.
//!
//! Every file carries the georeferencing a GIS (and smash's rasterio) needs: ModelPixelScale,
//! ModelTiepoint at the north-west corner, a GeoKeyDirectory declaring a projected CRS (EPSG:2154,
//! Lambert-93) with PixelIsArea, and GDAL_NODATA as an ASCII string. Strips are LZW-compressed: LZW
//! (weezl) is pure Rust with a single implementation, so the bytes are reproducible, which Deflate is
//! not (its output depends on the flate2 backend selected by feature unification).

use std::fs::{self, File};
use std::io::{self, BufWriter};
use std::path::Path;

use tiff::encoder::colortype::{ColorType, Gray8, Gray16, Gray32Float};
use tiff::encoder::{Compression, TiffEncoder, TiffValue};
use tiff::tags::Tag;

use super::Grid;

/// GeoKeyDirectory: header (version 1, revision 1.0, 3 keys), then (key, location 0, count 1, value):
/// GTModelTypeGeoKey = Projected, GTRasterTypeGeoKey = PixelIsArea, ProjectedCSTypeGeoKey = EPSG:2154.
const GEO_KEYS: [u16; 16] = [1, 1, 0, 3, 1024, 0, 1, 1, 1025, 0, 1, 1, 3072, 0, 1, 2154];

/// Writes `data` (`[nrow, ncol]` row-major) as an 8-bit unsigned GeoTIFF.
pub fn write_u8(path: &Path, grid: &Grid, data: &[u8], nodata: &str) -> io::Result<()> {
    write::<Gray8>(path, grid, data, nodata)
}

/// Writes `data` (`[nrow, ncol]` row-major) as a 16-bit unsigned GeoTIFF.
pub fn write_u16(path: &Path, grid: &Grid, data: &[u16], nodata: &str) -> io::Result<()> {
    write::<Gray16>(path, grid, data, nodata)
}

/// Writes `data` (`[nrow, ncol]` row-major) as a 32-bit float GeoTIFF.
pub fn write_f32(path: &Path, grid: &Grid, data: &[f32], nodata: &str) -> io::Result<()> {
    write::<Gray32Float>(path, grid, data, nodata)
}

fn write<C: ColorType>(path: &Path, grid: &Grid, data: &[C::Inner], nodata: &str) -> io::Result<()>
where
    [C::Inner]: TiffValue,
{
    assert_eq!(data.len(), grid.nrow * grid.ncol, "{}: raster size", path.display());
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    let file = BufWriter::new(File::create(path)?);
    let tiff_err = |e: tiff::TiffError| io::Error::other(format!("{}: {e}", path.display()));
    let mut encoder = TiffEncoder::new(file).map_err(tiff_err)?.with_compression(Compression::Lzw);
    let mut image = encoder.new_image::<C>(grid.ncol as u32, grid.nrow as u32).map_err(tiff_err)?;
    let dir = image.encoder();
    dir.write_tag(Tag::ModelPixelScaleTag, &[grid.dx, grid.dx, 0.0][..]).map_err(tiff_err)?;
    dir.write_tag(Tag::ModelTiepointTag, &[0.0, 0.0, 0.0, grid.xmin, grid.ymax, 0.0][..]).map_err(tiff_err)?;
    dir.write_tag(Tag::GeoKeyDirectoryTag, &GEO_KEYS[..]).map_err(tiff_err)?;
    dir.write_tag(Tag::GdalNodata, nodata).map_err(tiff_err)?;
    image.write_data(data).map_err(tiff_err)
}
