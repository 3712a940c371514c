//! Small synthetic GeoTIFFs for the unit tests.

use std::fs::File;
use std::path::Path;

use tiff::encoder::{Compression, TiffEncoder, TiffValue, colortype::ColorType};
use tiff::tags::Tag;

/// Georeferencing of a test raster: north-west corner, square cells, PixelIsPoint or not, nodata text.
#[derive(Clone, Copy)]
pub struct Geo<'a> {
    pub xmin: f64,
    pub ymax: f64,
    pub d: f64,
    pub point: bool,
    pub nodata: Option<&'a str>,
    /// Keys declared in the GeoKeyDirectory header (the real number is 2).
    pub declared_keys: u16,
}

impl Geo<'_> {
    pub fn area(xmin: f64, ymax: f64, d: f64) -> Geo<'static> {
        Geo { xmin, ymax, d, point: false, nodata: None, declared_keys: 2 }
    }
}

/// Writes a `nrow × ncol` raster of sample type `C`, Deflate-compressed.
pub fn write<C: ColorType>(path: &Path, geo: &Geo, nrow: usize, ncol: usize, data: &[C::Inner])
where
    [C::Inner]: TiffValue,
{
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let file = File::create(path).unwrap();
    let mut enc = TiffEncoder::new(file).unwrap().with_compression(Compression::Deflate(Default::default()));
    let mut image = enc.new_image::<C>(ncol as u32, nrow as u32).unwrap();
    let (tx, ty) = if geo.point { (geo.xmin + geo.d / 2.0, geo.ymax - geo.d / 2.0) } else { (geo.xmin, geo.ymax) };
    let dir = image.encoder();
    dir.write_tag(Tag::Unknown(33550), &[geo.d, geo.d, 0.0][..]).unwrap();
    dir.write_tag(Tag::Unknown(33922), &[0.0, 0.0, 0.0, tx, ty, 0.0][..]).unwrap();
    let raster_type = if geo.point { 2 } else { 1 };
    let keys = [1u16, 1, 0, geo.declared_keys, 1024, 0, 1, 1, 1025, 0, 1, raster_type];
    dir.write_tag(Tag::Unknown(34735), &keys[..]).unwrap();
    if let Some(nodata) = geo.nodata {
        dir.write_tag(Tag::Unknown(42113), nodata).unwrap();
    }
    image.write_data(data).unwrap();
}
