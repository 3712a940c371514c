//! Flood event segmentation (`core/signal_analysis/segmentation/_tools.py::_events_grad`, spec §7.5).
//!
//! Runs once on observed data (not differentiated). Arithmetic follows what numpy does with smash's
//! float32 arrays: f32 quantiles and gradients, f64 peak comparisons and rolling sums, the f32 baseflow
//! filter.

use super::baseflow::Baseflow;
use super::options::EventSeg;
use super::quantile::numpy_nanquantile_f32;

/// Internal constants of `_events_grad`.
const RG_QUANT: f64 = 0.8;
const COEF_RE: f64 = 0.2;
const START_SEG_H: f64 = 72.0;
const ST_POWER_H: f64 = 24.0;
const END_SEARCH_H: f64 = 48.0;

/// One flood event: steps `start..=end` (0-based, inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    pub start: usize,
    pub end: usize,
    /// Several peaks were merged into it.
    pub multipeak: bool,
}

/// Python's `round` (half to even) of `h` hours in steps of `dt` seconds.
fn hours_to_steps(h: f64, dt: f64) -> usize {
    let x = h * 3600.0 / dt;
    let r = x.round();
    let r = if (x - x.trunc()).abs() == 0.5 && r % 2.0 != 0.0 { r - x.signum() } else { r };
    r.max(0.0) as usize
}

/// numpy `_detect_peaks(x, mph)` with `mpd = 1`, `threshold = 0`: strict rises followed by a non-rise,
/// not at either end nor next to a NaN, with `x ≥ mph` (no peak when `mph` is NaN).
fn detect_peaks(x: &[f64], mph: Option<f64>) -> Vec<usize> {
    let n = x.len();
    if n < 3 {
        return Vec::new();
    }
    let dx: Vec<f64> =
        (0..n - 1).map(|i| x[i + 1] - x[i]).map(|d| if d.is_nan() { f64::INFINITY } else { d }).collect();
    let xv: Vec<f64> = x.iter().map(|v| if v.is_nan() { f64::INFINITY } else { *v }).collect();
    let nan_near = |i: usize| x[i].is_nan() || (i > 0 && x[i - 1].is_nan()) || (i + 1 < n && x[i + 1].is_nan());
    (1..n - 1)
        .filter(|&i| dx[i] <= 0.0 && dx[i - 1] > 0.0)
        .filter(|&i| !nan_near(i))
        .filter(|&i| mph.is_none_or(|m| xv[i] >= m))
        .collect()
}

/// numpy `gradient` of a float32 series (central differences inside, one-sided at the ends), in f32.
fn gradient_f32(p: &[f32]) -> Vec<f32> {
    let n = p.len();
    match n {
        0 => Vec::new(),
        1 => vec![f32::NAN],
        _ => (0..n)
            .map(|i| {
                if i == 0 {
                    p[1] - p[0]
                } else if i == n - 1 {
                    p[n - 1] - p[n - 2]
                } else {
                    (p[i + 1] - p[i - 1]) / 2.0
                }
            })
            .collect(),
    }
}

/// Flood events of a gauge from its mean precipitation `p` (any unit; mm per step in the cost) and
/// observed discharge `q` \[m³/s\], both `[T]` with negative = missing; `dt` in seconds.
pub fn events(p: &[f32], q: &[f32], seg: &EventSeg, dt: f64) -> Vec<Event> {
    let max_duration = hours_to_steps(seg.max_duration, dt);
    let start_seg = hours_to_steps(START_SEG_H, dt);
    let st_power = hours_to_steps(ST_POWER_H, dt);
    let end_search = hours_to_steps(END_SEARCH_H, dt);

    let nan = |v: &[f32]| -> Vec<f32> { v.iter().map(|&x| if x < 0.0 { f32::NAN } else { x }).collect() };
    let (p, q) = (nan(p), nan(q));
    let q64: Vec<f64> = q.iter().map(|&v| v as f64).collect();
    let quant = numpy_nanquantile_f32(&q, seg.peak_quant) as f64;
    // Python's max(nan, v) is nan; max(v, nan) is v
    let threshold = if quant.is_nan() || quant >= seg.peak_value { quant } else { seg.peak_value };
    let peaks = if threshold.is_nan() { Vec::new() } else { detect_peaks(&q64, Some(threshold)) };

    let mut list: Vec<Event> = Vec::new();
    for i_peak in peaks {
        let base = i_peak.saturating_sub(start_seg);
        let p_search = &p[base..i_peak];
        let grad = gradient_f32(p_search);
        let grad64: Vec<f64> = grad.iter().map(|&v| v as f64).collect();
        let mph = numpy_nanquantile_f32(&grad, RG_QUANT) as f64;
        let mut ind_start = if mph.is_nan() { Vec::new() } else { detect_peaks(&grad64, Some(mph)) };
        if ind_start.len() > 1 {
            let power: Vec<f32> = ind_start
                .iter()
                .map(|&j| {
                    let end = (j - 1 + st_power).min(p_search.len());
                    let ss: f64 = p_search[j - 1..end.max(j - 1)]
                        .iter()
                        .map(|&v| if v.is_nan() { 0.0 } else { v as f64 * v as f64 })
                        .sum();
                    ss.sqrt() as f32
                })
                .collect();
            let max = power.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let cut = (COEF_RE as f32) * max;
            ind_start = ind_start.iter().zip(&power).filter(|(_, w)| **w > cut).map(|(j, _)| *j).collect();
        } else if ind_start.is_empty() {
            // nanargmax (0 when every value is NaN, where numpy would raise)
            let mut best = (0usize, f64::NEG_INFINITY);
            for (k, &v) in grad64.iter().enumerate() {
                if v > best.1 {
                    best = (k, v);
                }
            }
            ind_start.push(best.0);
        }
        let Some(&first) = ind_start.first() else { continue };
        let start = first + base;

        let fwindow = (start + max_duration + end_search).min(q.len());
        if fwindow <= i_peak {
            continue;
        }
        let q_end = &q[i_peak - 1..fwindow - 1];
        let observed: Vec<f32> = q_end.iter().copied().filter(|v| !v.is_nan()).collect();
        let mut qbf = vec![0.0f64; q_end.len()];
        if !observed.is_empty() {
            let bf = Baseflow::<f32>::new(&observed);
            let mut k = 0;
            for (slot, v) in qbf.iter_mut().zip(q_end) {
                if !v.is_nan() {
                    *slot = bf.bt[k] as f64;
                    k += 1;
                }
            }
        }
        let dflow: Vec<f64> = q_end.iter().zip(&qbf).map(|(&a, &b)| a as f64 - b).collect();
        let m = end_search.min(dflow.len());
        let windows = if m == 0 { 0 } else { dflow.len() + 1 - m };
        let sums: Vec<f64> = (0..windows).map(|k| dflow[k..k + m].iter().fold(0.0, |s, &v| s + v)).collect();
        let mut best: Option<(usize, f64)> = None;
        for (k, &s) in sums.iter().enumerate() {
            if !s.is_nan() && best.is_none_or(|(_, b)| s < b) {
                best = Some((k, s));
            }
        }
        let Some((k_end, _)) = best else { continue };
        let end = i_peak + k_end;

        if let Some(prev) = list.last_mut()
            && prev.end >= start
        {
            prev.end = prev.end.max(end);
            prev.start = prev.start.min(start);
            prev.multipeak = true;
            continue;
        }
        list.push(Event { start, end, multipeak: false });
    }
    list
}

/// smash's `mask_event` row: 0 outside events, `k` (1-based event number) on the steps of event `k`.
pub fn event_mask(events: &[Event], ntime: usize) -> Vec<u32> {
    let mut mask = vec![0u32; ntime];
    for (k, e) in events.iter().enumerate() {
        for m in &mut mask[e.start..=e.end.min(ntime - 1)] {
            *m = k as u32 + 1;
        }
    }
    mask
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_rounding_of_hours() {
        assert_eq!(hours_to_steps(72.0, 3600.0), 72);
        assert_eq!(hours_to_steps(48.0, 86400.0), 2);
        assert_eq!(hours_to_steps(36.0, 86400.0), 2); // round(1.5) = 2
        assert_eq!(hours_to_steps(12.0, 86400.0), 0); // round(0.5) = 0
        assert_eq!(hours_to_steps(60.0, 86400.0), 2); // round(2.5) = 2
    }

    #[test]
    fn peaks_are_strict_rises_away_from_nan_and_ends() {
        let x = [0.0, 2.0, 1.0, 1.0, 3.0, 3.0, 0.0, f64::NAN, 5.0, 1.0, 4.0];
        // 1: rise then fall; 4: rise then flat (kept); 8: next to NaN; 10: last value
        assert_eq!(detect_peaks(&x, None), vec![1, 4]);
        assert_eq!(detect_peaks(&x, Some(2.5)), vec![4]);
    }

    #[test]
    fn a_single_flood_is_found_around_its_peak() {
        // rain at steps 100..110, a flood peaking at step 115 receding to base flow
        let n = 400;
        let p: Vec<f32> = (0..n).map(|t| if (100..110).contains(&t) { 5.0 } else { 0.0 }).collect();
        let q: Vec<f32> = (0..n).map(|t| 1.0 + 30.0 * (-((t as f32 - 115.0) / 6.0).powi(2)).exp()).collect();
        let ev = events(&p, &q, &EventSeg::default(), 3600.0);
        assert_eq!(ev.len(), 1, "{ev:?}");
        // the rain starts the event: the largest rise of p is at step 100 (one-sided gradient at 99/100)
        assert!(ev[0].start >= 98 && ev[0].start <= 100, "{ev:?}");
        assert!(ev[0].end > 115 && ev[0].end < 115 + 48 + 240, "{ev:?}");
        let mask = event_mask(&ev, n);
        assert_eq!(mask[ev[0].start], 1);
        assert_eq!(mask[ev[0].end + 1], 0);
    }
}
