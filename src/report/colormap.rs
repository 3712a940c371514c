//! The viridis colormap (matplotlib's perceptually uniform map), sampled at 11 stops and interpolated.

use std::fmt::Write;

/// Viridis at t = 0, 0.1, …, 1 [sRGB].
const STOPS: [[u8; 3]; 11] = [
    [0x44, 0x01, 0x54],
    [0x48, 0x24, 0x75],
    [0x41, 0x44, 0x87],
    [0x35, 0x5f, 0x8d],
    [0x2a, 0x78, 0x8e],
    [0x21, 0x91, 0x8c],
    [0x22, 0xa8, 0x84],
    [0x44, 0xbf, 0x70],
    [0x7a, 0xd1, 0x51],
    [0xbd, 0xdf, 0x26],
    [0xfd, 0xe7, 0x25],
];

/// The colour of `t` in `[0, 1]` (clamped) [sRGB].
pub(crate) fn viridis(t: f64) -> [u8; 3] {
    let x = t.clamp(0.0, 1.0) * (STOPS.len() - 1) as f64;
    let k = (x.floor() as usize).min(STOPS.len() - 2);
    let f = x - k as f64;
    let (a, b) = (STOPS[k], STOPS[k + 1]);
    std::array::from_fn(|c| (a[c] as f64 + (b[c] as f64 - a[c] as f64) * f).round() as u8)
}

/// The `<stop>` elements of an SVG gradient running from t = 0 (offset 0) to t = 1 (offset 1).
pub(crate) fn gradient_stops() -> String {
    let mut out = String::new();
    for (k, [r, g, b]) in STOPS.iter().enumerate() {
        let offset = k as f64 / (STOPS.len() - 1) as f64;
        let _ = write!(out, r##"<stop offset="{offset:.1}" stop-color="#{r:02x}{g:02x}{b:02x}"/>"##);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ends_and_midpoints() {
        assert_eq!(viridis(0.0), [0x44, 0x01, 0x54]);
        assert_eq!(viridis(1.0), [0xfd, 0xe7, 0x25]);
        assert_eq!(viridis(-3.0), viridis(0.0));
        assert_eq!(viridis(0.5), [0x21, 0x91, 0x8c]);
        assert_eq!(viridis(0.05), [0x46, 0x13, 0x65]);
    }

    #[test]
    fn gradient_has_every_stop() {
        let s = gradient_stops();
        assert_eq!(s.matches("<stop").count(), 11);
        assert!(s.starts_with(r##"<stop offset="0.0" stop-color="#440154"/>"##));
    }
}
