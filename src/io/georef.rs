//! GeoTIFF georeferencing and nodata tags, read with the `tiff` crate (spec §8.1).
//!
//! The reading follows GDAL, which smash uses through rasterio:
//! - ModelTransformation (34264) if present, otherwise ModelPixelScale (33550) + ModelTiepoint (33922);
//! - RasterType PixelIsPoint (geokey 1025 = 2) puts the tie point at a cell centre: the grid is shifted
//!   by half a cell to the north-west;
//! - GDAL_NODATA (42113) is an ASCII number, parsed per file.

use std::io::{Read, Seek};
use std::path::Path;

use tiff::decoder::Decoder;
use tiff::tags::Tag;

use super::IoError;

const GT_RASTER_TYPE_GEOKEY: u16 = 1025;
const RASTER_PIXEL_IS_POINT: u16 = 2;

/// The north-west corner and the cell size of a raster: `(xmin, ymax, dx, dy)` \[m\].
pub(crate) fn read_georef<R: Read + Seek>(dec: &mut Decoder<R>, path: &Path) -> Result<(f64, f64, f64, f64), IoError> {
    let err = |reason: String| IoError::Georeferencing { path: path.to_path_buf(), reason };
    let f64_vec = |dec: &mut Decoder<R>, tag: u16| -> Result<Option<Vec<f64>>, IoError> {
        match dec.find_tag(Tag::Unknown(tag)) {
            Ok(Some(v)) => v.into_f64_vec().map(Some).map_err(|e| err(format!("tag {tag}: {e}"))),
            Ok(None) => Ok(None),
            Err(e) => Err(err(format!("tag {tag}: {e}"))),
        }
    };

    let (mut xmin, mut ymax, dx, dy) = if let Some(m) = f64_vec(dec, 34264)? {
        if m.len() < 8 {
            return Err(err(format!("ModelTransformation has {} values, expected 16", m.len())));
        }
        if m[1] != 0.0 || m[4] != 0.0 {
            return Err(err("the raster is rotated (ModelTransformation has shear terms)".into()));
        }
        (m[3], m[7], m[0], -m[5])
    } else {
        let scale = f64_vec(dec, 33550)?.ok_or_else(|| err("no ModelPixelScale tag (33550)".into()))?;
        let tie = f64_vec(dec, 33922)?.ok_or_else(|| err("no ModelTiepoint tag (33922)".into()))?;
        if scale.len() < 2 || tie.len() < 6 {
            return Err(err(format!(
                "ModelPixelScale has {} values and ModelTiepoint {}, expected at least 2 and 6",
                scale.len(),
                tie.len()
            )));
        }
        let (sx, sy) = (scale[0], scale[1]);
        (tie[3] - tie[0] * sx, tie[4] + tie[1] * sy, sx, sy)
    };
    if !(dx.is_finite() && dy.is_finite() && dx > 0.0 && dy > 0.0 && xmin.is_finite() && ymax.is_finite()) {
        return Err(err(format!("cell size ({dx}, {dy}) and origin ({xmin}, {ymax}) do not describe a north-up grid")));
    }
    if raster_type(dec) == Some(RASTER_PIXEL_IS_POINT) {
        xmin -= 0.5 * dx;
        ymax += 0.5 * dy;
    }
    Ok((xmin, ymax, dx, dy))
}

/// The GTRasterTypeGeoKey value, read leniently: the directory may hold more or fewer entries than its
/// header declares (France PET files do).
fn raster_type<R: Read + Seek>(dec: &mut Decoder<R>) -> Option<u16> {
    let keys = dec.find_tag(Tag::Unknown(34735)).ok()??.into_u16_vec().ok()?;
    let declared = *keys.get(3)? as usize;
    keys.get(4..)?
        .chunks_exact(4)
        .take(declared)
        .find(|entry| entry[0] == GT_RASTER_TYPE_GEOKEY && entry[1] == 0)
        .map(|entry| entry[3])
}

/// The GDAL_NODATA value, if the file declares one.
pub(crate) fn read_nodata<R: Read + Seek>(dec: &mut Decoder<R>, path: &Path) -> Result<Option<f64>, IoError> {
    let text = match dec.find_tag(Tag::Unknown(42113)) {
        Ok(Some(value)) => match value.into_string() {
            Ok(text) => text,
            Err(_) => return Ok(None),
        },
        _ => return Ok(None),
    };
    let text = text.trim_matches(|c: char| c == '\0' || c.is_whitespace());
    if text.is_empty() {
        return Ok(None);
    }
    parse_nodata(text).map(Some).ok_or_else(|| IoError::UnsupportedRaster {
        path: path.to_path_buf(),
        reason: format!("nodata value '{text}' (tag GDAL_NODATA) is not a number"),
    })
}

fn parse_nodata(text: &str) -> Option<f64> {
    text.parse::<f64>().ok().or_else(|| match text.to_ascii_lowercase().as_str() {
        "nan" | "-nan" | "+nan" => Some(f64::NAN),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::parse_nodata;

    #[test]
    fn parses_gdal_nodata_strings() {
        assert_eq!(parse_nodata("65535"), Some(65535.0));
        assert_eq!(parse_nodata("-99"), Some(-99.0));
        assert_eq!(parse_nodata("-3.39999999999999996e+38"), Some(-3.4e38));
        assert_eq!(parse_nodata("1.00000002004087734e+20"), Some(1.000_000_020_040_877_3e20));
        assert!(parse_nodata("nan").unwrap().is_nan());
        assert!(parse_nodata("-NaN").unwrap().is_nan());
        assert_eq!(parse_nodata("none"), None);
    }
}
