//! SVG building blocks shared by the plots: the plot frame and its scales, "nice" value ticks, axes
//! with grid and labels, line paths and the legend.

use std::fmt::Write;

use super::text::{escape, fmt_tick};

/// A view box and the margins around its plot area [SVG user units]; the page scales it to its box.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Size {
    pub width: f64,
    pub height: f64,
    pub left: f64,
    pub right: f64,
    pub top: f64,
    pub bottom: f64,
}

/// A full-width plot (hydrographs, cost curves).
pub(crate) const PLOT: Size = Size { width: 960.0, height: 340.0, left: 76.0, right: 16.0, top: 34.0, bottom: 48.0 };
/// A small panel of a grid (one per parameter), about a third of the column wide.
pub(crate) const PANEL: Size = Size { width: 330.0, height: 230.0, left: 60.0, right: 22.0, top: 12.0, bottom: 42.0 };

/// A tick: its position in data units and its label.
pub(crate) struct Tick {
    pub pos: f64,
    pub label: String,
}

/// The plot area of a view box and the data ranges it shows.
pub(crate) struct Frame {
    x: (f64, f64),
    y: (f64, f64),
    size: Size,
}

impl Frame {
    /// A [`PLOT`] frame showing `x = (min, max)` and `y = (min, max)` (data units; ranges of zero width are
    /// widened).
    pub(crate) fn new(x: (f64, f64), y: (f64, f64)) -> Frame {
        Frame::sized(PLOT, x, y)
    }

    /// [`Frame::new`] in a view box of `size`.
    pub(crate) fn sized(size: Size, x: (f64, f64), y: (f64, f64)) -> Frame {
        let widen = |(a, b): (f64, f64)| if b > a { (a, b) } else { (a - 0.5, a + 0.5) };
        Frame { x: widen(x), y: widen(y), size }
    }

    /// Horizontal pixel position of `x`.
    pub(crate) fn px(&self, x: f64) -> f64 {
        let s = &self.size;
        s.left + (x - self.x.0) / (self.x.1 - self.x.0) * (s.width - s.left - s.right)
    }

    /// Vertical pixel position of `y` (up is larger).
    pub(crate) fn py(&self, y: f64) -> f64 {
        let s = &self.size;
        s.height - s.bottom - (y - self.y.0) / (self.y.1 - self.y.0) * (s.height - s.top - s.bottom)
    }

    /// Width of the plot area [px]: the number of columns to decimate series to.
    pub(crate) fn columns(&self) -> usize {
        (self.size.width - self.size.left - self.size.right) as usize
    }

    pub(crate) fn top(&self) -> f64 {
        self.size.top
    }

    pub(crate) fn bottom(&self) -> f64 {
        self.size.height - self.size.bottom
    }
}

/// Ticks 1, 2 or 5 × 10ⁿ apart covering `[lo, hi]`, about `target` of them.
///
/// # Returns
/// The widened range `(lo', hi')` whose ends are ticks, and the labelled ticks.
pub(crate) fn nice_ticks(lo: f64, hi: f64, target: usize) -> ((f64, f64), Vec<Tick>) {
    let (lo, hi) = if hi > lo {
        (lo, hi)
    } else if lo == 0.0 {
        (0.0, 1.0)
    } else {
        (lo - lo.abs() * 0.5, lo + lo.abs() * 0.5)
    };
    let raw = (hi - lo) / target.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = mag
        * match raw / mag {
            f if f <= 1.0 => 1.0,
            f if f <= 2.0 => 2.0,
            f if f <= 5.0 => 5.0,
            _ => 10.0,
        };
    let (first, last) = ((lo / step + 1e-9).floor() as i64, (hi / step - 1e-9).ceil() as i64);
    let max_abs = (first as f64 * step).abs().max((last as f64 * step).abs());
    let ticks = (first..=last)
        .map(|k| {
            let pos = k as f64 * step;
            Tick { pos, label: fmt_tick(pos, step, max_abs) }
        })
        .collect();
    ((first as f64 * step, last as f64 * step), ticks)
}

/// Grid lines, the axis lines, tick labels and axis titles of `frame`.
pub(crate) fn axes(frame: &Frame, x_ticks: &[Tick], y_ticks: &[Tick], x_title: &str, y_title: &str) -> String {
    let (l, r, t, b) = (frame.px(frame.x.0), frame.px(frame.x.1), frame.top(), frame.bottom());
    let mut grid = String::new();
    let mut labels = String::new();
    for tick in y_ticks {
        let y = frame.py(tick.pos);
        let _ = write!(grid, "M{l:.1} {y:.1}H{r:.1}");
        let _ = write!(
            labels,
            r#"<text class="tick" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            l - 6.0,
            y + 4.0,
            escape(&tick.label)
        );
    }
    for tick in x_ticks {
        let x = frame.px(tick.pos);
        let _ = write!(grid, "M{x:.1} {t:.1}V{b:.1}");
        let _ = write!(
            labels,
            r#"<text class="tick" x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            b + 17.0,
            escape(&tick.label)
        );
    }
    let mid_y = (t + b) / 2.0;
    format!(
        concat!(
            r#"<path class="grid" d="{grid}"/>"#,
            r#"<path class="axis" d="M{l:.1} {t:.1}V{b:.1}H{r:.1}"/>{labels}"#,
            r#"<text class="axis-title" x="{mx:.1}" y="{xt:.1}" text-anchor="middle">{x_title}</text>"#,
            r#"<text class="axis-title" transform="translate(18 {mid_y:.1}) rotate(-90)" text-anchor="middle">{y_title}</text>"#
        ),
        grid = grid,
        l = l,
        t = t,
        b = b,
        r = r,
        labels = labels,
        mx = (l + r) / 2.0,
        xt = frame.size.height - 8.0,
        x_title = escape(x_title),
        mid_y = mid_y,
        y_title = escape(y_title),
    )
}

/// The `d` attribute of a path through gap-free `runs` of point indices, placed by `xy`
/// (pixel coordinates). A run of one point becomes a zero-length segment, drawn as a dot by round caps.
pub(crate) fn path_data(runs: &[Vec<usize>], xy: impl Fn(usize) -> (f64, f64)) -> String {
    let mut d = String::new();
    for run in runs {
        for (k, &i) in run.iter().enumerate() {
            let (x, y) = xy(i);
            let _ = write!(d, "{}{x:.1} {y:.1}", ["M", "L", " "][k.min(2)]);
        }
        if run.len() == 1 {
            d.push_str("h0");
        }
    }
    d
}

/// A legend row above the plot area: one line swatch (CSS class `class`) and label per entry.
pub(crate) fn legend(entries: &[(&str, String)]) -> String {
    let mut out = String::from(r#"<g class="legend">"#);
    let mut x = PLOT.left;
    let y = PLOT.top - 16.0;
    for (class, label) in entries {
        let _ = write!(
            out,
            r#"<path class="{class}" d="M{x:.1} {y:.1}h24"/><text x="{:.1}" y="{:.1}">{}</text>"#,
            x + 30.0,
            y + 4.0,
            escape(label)
        );
        x += 30.0 + 7.0 * label.chars().count() as f64 + 24.0;
    }
    out.push_str("</g>");
    out
}

/// Opens a [`PLOT`]'s `<svg>` element: class `plot` (checked by the page's render check), `id`, and an
/// accessible `label`.
pub(crate) fn open(id: &str, label: &str) -> String {
    open_sized(PLOT, "plot", id, label)
}

/// Opens a [`PANEL`]'s `<svg>` element (classes `plot panel`).
pub(crate) fn open_panel(id: &str, label: &str) -> String {
    open_sized(PANEL, "plot panel", id, label)
}

fn open_sized(size: Size, class: &str, id: &str, label: &str) -> String {
    format!(
        r#"<svg class="{class}" id="{}" viewBox="0 0 {} {}" role="img" aria-label="{}">"#,
        escape(id),
        size.width,
        size.height,
        escape(label)
    )
}

/// A message centred in the plot area (e.g. "no data").
pub(crate) fn note(frame: &Frame, message: &str) -> String {
    format!(
        r#"<text class="note" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
        (frame.px(frame.x.0) + frame.px(frame.x.1)) / 2.0,
        (frame.top() + frame.bottom()) / 2.0,
        escape(message)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_ticks_cover_the_range() {
        let ((lo, hi), ticks) = nice_ticks(0.0, 437.0, 6);
        assert_eq!((lo, hi), (0.0, 500.0));
        let labels: Vec<&str> = ticks.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(labels, ["0", "100", "200", "300", "400", "500"]);
        let ((lo, hi), ticks) = nice_ticks(0.213, 0.871, 5);
        assert!(lo <= 0.213 && hi >= 0.871 && ticks.len() >= 4);
        assert_eq!(ticks[0].label, "0.2");
    }

    #[test]
    fn degenerate_ranges_are_widened() {
        let ((lo, hi), ticks) = nice_ticks(3.0, 3.0, 5);
        assert!(lo < 3.0 && hi > 3.0 && ticks.len() >= 2);
        let ((lo, hi), _) = nice_ticks(0.0, 0.0, 5);
        assert_eq!((lo, hi), (0.0, 1.0));
    }

    #[test]
    fn frame_maps_ranges_to_plot_area() {
        let f = Frame::new((0.0, 10.0), (0.0, 1.0));
        assert_eq!(f.px(0.0), PLOT.left);
        assert_eq!(f.px(10.0), PLOT.width - PLOT.right);
        assert_eq!(f.py(0.0), PLOT.height - PLOT.bottom);
        assert_eq!(f.py(1.0), PLOT.top);
        let p = Frame::sized(PANEL, (0.0, 10.0), (0.0, 1.0));
        assert_eq!((p.px(10.0), p.py(0.0)), (PANEL.width - PANEL.right, PANEL.height - PANEL.bottom));
    }

    #[test]
    fn single_point_runs_become_dots() {
        let d = path_data(&[vec![0], vec![2, 3]], |i| (i as f64, 1.0));
        assert_eq!(d, "M0.0 1.0h0M2.0 1.0L3.0 1.0");
    }
}
