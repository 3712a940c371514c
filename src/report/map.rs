//! A calibrated parameter map: an indexed PNG (viridis, inactive cells transparent) embedded as a
//! base64 data URI, with an SVG colorbar giving the range and unit.

use std::fmt::Write;

use base64::Engine;

use super::ParameterMap;
use super::colormap::{gradient_stops, viridis};
use super::text::{escape, fmt_sig};

/// Grids smaller than this many pixels on their longer side are upscaled (nearest neighbour) to at least it.
const MIN_PIXELS: usize = 256;
/// Palette index of inactive cells (transparent); indices 1..=255 are the colormap.
const INACTIVE: u8 = 0;

/// A map that cannot be drawn.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum MapError {
    #[error("map {name}: {len} values for a {nrow} × {ncol} grid")]
    Shape { name: String, nrow: usize, ncol: usize, len: usize },
    #[error("map {name}: PNG encoding failed: {message}")]
    Encode { name: String, message: String },
}

/// Range and mean of the active (finite) cells.
pub(crate) struct Stats {
    pub active: usize,
    pub min: f64,
    pub max: f64,
    pub mean: f64,
}

pub(crate) fn stats(values: &[f32]) -> Stats {
    let (mut active, mut min, mut max, mut sum) = (0, f64::INFINITY, f64::NEG_INFINITY, 0.0);
    for v in values.iter().filter(|v| v.is_finite()).map(|&v| v as f64) {
        active += 1;
        min = min.min(v);
        max = max.max(v);
        sum += v;
    }
    Stats { active, min, max, mean: if active > 0 { sum / active as f64 } else { f64::NAN } }
}

/// An encoded map image.
pub(crate) struct Image {
    pub png: Vec<u8>,
    /// Image size [px]: the grid size times `scale`.
    pub width: usize,
    pub height: usize,
    pub scale: usize,
}

/// Encodes `map` as an 8-bit indexed PNG: one `scale × scale` block per cell, cells in row-major
/// order (row 0 at the top), finite values mapped linearly from `[min, max]` onto viridis, non-finite
/// values (inactive cells) fully transparent.
pub(crate) fn encode(map: &ParameterMap) -> Result<Image, MapError> {
    let (nrow, ncol) = (map.nrow, map.ncol);
    if nrow == 0 || ncol == 0 || map.values.len() != nrow * ncol {
        return Err(MapError::Shape { name: map.name.clone(), nrow, ncol, len: map.values.len() });
    }
    let s = stats(&map.values);
    let scale = MIN_PIXELS.div_ceil(nrow.max(ncol)).max(1);
    let (width, height) = (ncol * scale, nrow * scale);
    let index = |v: f32| -> u8 {
        if !v.is_finite() {
            INACTIVE
        } else if s.max > s.min {
            1 + ((v as f64 - s.min) / (s.max - s.min) * 254.0).round() as u8
        } else {
            128
        }
    };
    let mut pixels = Vec::with_capacity(width * height);
    for row in map.values.chunks_exact(ncol) {
        let start = pixels.len();
        pixels.extend(row.iter().flat_map(|&v| std::iter::repeat_n(index(v), scale)));
        for _ in 1..scale {
            pixels.extend_from_within(start..start + width);
        }
    }
    let mut palette = vec![0xd9, 0xd9, 0xd9];
    palette.extend((0..255).flat_map(|k| viridis(k as f64 / 254.0)));
    let encode_err = |e: png::EncodingError| MapError::Encode { name: map.name.clone(), message: e.to_string() };
    let mut png_bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut png_bytes, width as u32, height as u32);
    encoder.set_color(png::ColorType::Indexed);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_palette(palette);
    encoder.set_trns(vec![0u8]);
    let mut writer = encoder.write_header().map_err(encode_err)?;
    writer.write_image_data(&pixels).map_err(encode_err)?;
    writer.finish().map_err(encode_err)?;
    Ok(Image { png: png_bytes, width, height, scale })
}

/// A `<figure>` with the map's name, unit and statistics, its image (`<img class="map" id="map-{index}">`)
/// and colorbar; a map that cannot be encoded shows the error instead.
pub(crate) fn figure(map: &ParameterMap, index: usize) -> String {
    let s = stats(&map.values);
    let unit = if map.unit.is_empty() {
        String::new()
    } else {
        format!(r#" <span class="unit">[{}]</span>"#, escape(&map.unit))
    };
    let meta = if s.active > 0 {
        format!(
            "{} × {} cells, {} active · min {} · mean {} · max {}",
            map.nrow,
            map.ncol,
            s.active,
            fmt_sig(s.min, 4),
            fmt_sig(s.mean, 4),
            fmt_sig(s.max, 4)
        )
    } else {
        format!("{} × {} cells, none active", map.nrow, map.ncol)
    };
    let body = match encode(map) {
        Ok(img) => {
            let data = base64::engine::general_purpose::STANDARD.encode(&img.png);
            format!(
                r#"<div class="map-body"><img class="map{}" id="map-{index}" alt="{}" width="{}" height="{}" src="data:image/png;base64,{data}">{}</div>"#,
                if img.scale > 1 { " pixelated" } else { "" },
                escape(&map.name),
                img.width,
                img.height,
                colorbar(&s, &map.unit, index)
            )
        }
        Err(e) => format!(r#"<p class="error">{}</p>"#, escape(&e.to_string())),
    };
    format!(
        r#"<figure class="card map-card"><figcaption><h3>{}{unit}</h3><p class="meta">{}</p></figcaption>{body}</figure>"#,
        escape(&map.name),
        escape(&meta)
    )
}

/// A vertical SVG colorbar: viridis from `min` (bottom) to `max` (top), labelled, with the unit on top.
fn colorbar(s: &Stats, unit: &str, index: usize) -> String {
    let (x, y, w, h) = (4.0, 22.0, 16.0, 220.0);
    let mut out = r#"<svg class="colorbar" viewBox="0 0 84 256" role="img" aria-label="colour scale">"#.to_string();
    let _ = write!(out, r#"<text class="unit" x="{x}" y="12">{}</text>"#, escape(unit));
    if s.active == 0 {
        let _ = write!(out, r#"<rect class="inactive" x="{x}" y="{y}" width="{w}" height="{h}"/></svg>"#);
        return out;
    }
    let _ = write!(
        out,
        r#"<defs><linearGradient id="cb-{index}" x1="0" y1="1" x2="0" y2="0">{}</linearGradient></defs><rect x="{x}" y="{y}" width="{w}" height="{h}" fill="url(#cb-{index})"/>"#,
        gradient_stops()
    );
    let labels: Vec<(f64, f64)> = if s.max > s.min {
        vec![(s.max, y), ((s.min + s.max) / 2.0, y + h / 2.0), (s.min, y + h)]
    } else {
        vec![(s.min, y + h / 2.0)]
    };
    for (v, ty) in labels {
        let _ = write!(
            out,
            r#"<path class="axis" d="M{:.1} {ty:.1}h5"/><text class="tick" x="{:.1}" y="{:.1}">{}</text>"#,
            x + w,
            x + w + 8.0,
            ty + 4.0,
            fmt_sig(v, 4)
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(png_bytes: &[u8]) -> (u32, u32, Vec<u8>) {
        let mut decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
        decoder.set_transformations(png::Transformations::EXPAND);
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.color_type, info.bit_depth), (png::ColorType::Rgba, png::BitDepth::Eight));
        buf.truncate(info.buffer_size());
        (info.width, info.height, buf)
    }

    fn map(nrow: usize, ncol: usize, values: Vec<f32>) -> ParameterMap {
        ParameterMap { name: "cp".into(), unit: "mm".into(), nrow, ncol, values }
    }

    #[test]
    fn small_grid_is_upscaled_and_decodes_to_the_colormap() {
        // 2 rows × 3 columns: min, mid, NaN / max, min, mid.
        let m = map(2, 3, vec![10.0, 20.0, f32::NAN, 30.0, 10.0, 20.0]);
        let img = encode(&m).unwrap();
        assert_eq!((img.scale, img.width, img.height), (86, 258, 172));
        let (w, h, rgba) = decode(&img.png);
        assert_eq!((w, h), (258, 172));
        let pixel = |row: usize, col: usize| -> [u8; 4] {
            let k = 4 * (row * w as usize + col);
            rgba[k..k + 4].try_into().unwrap()
        };
        let [r, g, b] = viridis(0.0);
        let cell = |row: usize, col: usize| pixel(row * 86 + 43, col * 86 + 43);
        assert_eq!(cell(0, 0), [r, g, b, 255]);
        assert_eq!(cell(1, 1), [r, g, b, 255]);
        let [r, g, b] = viridis(1.0);
        assert_eq!(cell(1, 0), [r, g, b, 255]);
        let [r, g, b] = viridis(127.0 / 254.0);
        assert_eq!(cell(0, 1), [r, g, b, 255]);
        assert_eq!(cell(0, 2)[3], 0, "NaN must be transparent");
        // Nearest neighbour: every pixel of a block has the block's colour.
        assert_eq!(pixel(0, 0), pixel(85, 85));
        assert_ne!(pixel(0, 85), pixel(0, 86));
    }

    #[test]
    fn large_grid_keeps_its_size() {
        let (nrow, ncol) = (1150, 1075);
        let values: Vec<f32> =
            (0..nrow * ncol).map(|k| if k % 7 == 0 { f32::NAN } else { ((k / ncol) + (k % ncol)) as f32 }).collect();
        let img = encode(&map(nrow, ncol, values)).unwrap();
        assert_eq!(img.scale, 1);
        let (w, h, rgba) = decode(&img.png);
        assert_eq!((w as usize, h as usize), (ncol, nrow));
        assert_eq!(rgba[3], 0, "cell 0 is NaN");
        assert_eq!(&rgba[4..8], &[viridis(0.0)[0], viridis(0.0)[1], viridis(0.0)[2], 255]);
        // The last cell (k = 1236249 = 7 × 176607) is NaN; the one before it holds the largest value.
        let last = rgba.len() - 4;
        assert_eq!(rgba[last + 3], 0);
        let [r, g, b] = viridis(1.0);
        assert_eq!(&rgba[last - 4..last], &[r, g, b, 255]);
    }

    #[test]
    fn constant_and_all_inactive_maps() {
        let (_, _, rgba) = decode(&encode(&map(1, 2, vec![5.0, 5.0])).unwrap().png);
        let [r, g, b] = viridis(127.0 / 254.0);
        assert_eq!(&rgba[..4], &[r, g, b, 255]);
        let (_, _, rgba) = decode(&encode(&map(2, 2, vec![f32::NAN; 4])).unwrap().png);
        assert!(rgba.chunks_exact(4).all(|p| p[3] == 0));
        let html = figure(&map(2, 2, vec![f32::NAN; 4]), 0);
        assert!(html.contains("none active") && html.contains(r#"class="inactive""#));
    }

    #[test]
    fn bad_shape_is_reported_in_the_page() {
        let html = figure(&map(2, 3, vec![1.0; 5]), 0);
        assert!(html.contains(r#"<p class="error">map cp: 5 values for a 2 × 3 grid</p>"#), "{html}");
        assert!(!html.contains("<img"));
        assert!(encode(&map(0, 3, vec![])).is_err());
    }

    #[test]
    fn figure_escapes_and_embeds_png() {
        let mut m = map(2, 2, vec![1.0, 2.0, 3.0, f32::NAN]);
        m.name = "<b>x</b>".into();
        m.unit = "m³/s & mm".into();
        let html = figure(&m, 7);
        assert!(html.contains("&lt;b&gt;x&lt;/b&gt;") && html.contains("[m³/s &amp; mm]"));
        assert!(html.contains(r#"id="map-7""#) && html.contains("data:image/png;base64,iVBORw0KGgo"));
        assert!(html.contains("url(#cb-7)") && html.contains("2 × 2 cells, 3 active · min 1 · mean 2 · max 3"));
    }
}
