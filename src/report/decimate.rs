//! Per-pixel-column min/max decimation of long series, so that a plot of 10⁵ steps stays a few
//! thousand SVG points while every peak and trough is still drawn.

/// Splits `values` into gap-free runs of indices to draw, keeping at most two points per pixel column.
///
/// A value is drawn when `valid(value)` holds; an invalid value breaks the line (a gap). When the
/// series has at most `2 × columns` values every valid index is kept. Otherwise the index range is cut
/// into `columns` equal columns, and each column keeps the indices of its smallest and its largest
/// valid value, in time order (the min/max envelope); a column without any valid value is a gap.
///
/// # Arguments
/// * `values` - the series `[T]`.
/// * `columns` - the number of pixel columns the series spans (at least 1).
///
/// # Returns
/// The runs, each a non-empty increasing list of indices into `values`.
pub(crate) fn envelope(values: &[f32], columns: usize, valid: impl Fn(f32) -> bool) -> Vec<Vec<usize>> {
    let columns = columns.max(1);
    let mut runs: Vec<Vec<usize>> = Vec::new();
    let mut current: Vec<usize> = Vec::new();
    let mut flush = |current: &mut Vec<usize>| {
        if !current.is_empty() {
            runs.push(std::mem::take(current));
        }
    };
    if values.len() <= 2 * columns {
        for (i, &v) in values.iter().enumerate() {
            if valid(v) {
                current.push(i);
            } else {
                flush(&mut current);
            }
        }
    } else {
        let n = values.len();
        for c in 0..columns {
            let (lo, hi) = (c * n / columns, (c + 1) * n / columns);
            let mut extremes: Option<(usize, usize)> = None;
            for i in lo..hi {
                if !valid(values[i]) {
                    continue;
                }
                extremes = Some(match extremes {
                    None => (i, i),
                    Some((imin, imax)) => (
                        if values[i] < values[imin] { i } else { imin },
                        if values[i] > values[imax] { i } else { imax },
                    ),
                });
            }
            match extremes {
                None => flush(&mut current),
                Some((a, b)) if a == b => current.push(a),
                Some((a, b)) => current.extend([a.min(b), a.max(b)]),
            }
        }
    }
    flush(&mut current);
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(_: f32) -> bool {
        true
    }

    #[test]
    fn short_series_keeps_every_point_and_splits_at_gaps() {
        let v = [1.0, 2.0, -1.0, 3.0, f32::NAN, -5.0, 4.0];
        let runs = envelope(&v, 100, |x| x.is_finite() && x >= 0.0);
        assert_eq!(runs, vec![vec![0, 1], vec![3], vec![6]]);
    }

    #[test]
    fn long_series_keeps_extremes_of_every_column() {
        // A deterministic pseudo-random series with a spike and a dip placed inside columns.
        let n = 100_000;
        let mut state = 12345u64;
        let mut v: Vec<f32> = (0..n)
            .map(|_| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                (state >> 40) as f32 / (1u64 << 24) as f32
            })
            .collect();
        v[54_321] = 50.0;
        v[77_777] = -50.0;
        let columns = 880;
        let runs = envelope(&v, columns, all);
        assert_eq!(runs.len(), 1);
        let kept = &runs[0];
        assert!(kept.len() <= 2 * columns, "{} points kept", kept.len());
        assert!(kept.contains(&54_321) && kept.contains(&77_777));
        assert!(kept.windows(2).all(|w| w[0] < w[1]), "indices not increasing");
        // Every column's true min and max are kept.
        for c in 0..columns {
            let (lo, hi) = (c * n / columns, (c + 1) * n / columns);
            let col = &v[lo..hi];
            let max = col.iter().cloned().fold(f32::MIN, f32::max);
            let min = col.iter().cloned().fold(f32::MAX, f32::min);
            let kept_col: Vec<f32> = kept.iter().filter(|&&i| i >= lo && i < hi).map(|&i| v[i]).collect();
            assert!(kept_col.contains(&max) && kept_col.contains(&min), "column {c}");
        }
    }

    #[test]
    fn long_series_with_a_missing_column_is_split() {
        let mut v = vec![1.0f32; 1000];
        for x in &mut v[400..600] {
            *x = -1.0;
        }
        let runs = envelope(&v, 10, |x| x >= 0.0);
        assert_eq!(runs.len(), 2);
        assert!(runs[0].iter().all(|&i| i < 400) && runs[1].iter().all(|&i| i >= 600));
    }

    #[test]
    fn empty_and_all_missing_give_no_runs() {
        assert!(envelope(&[], 10, all).is_empty());
        assert!(envelope(&[-1.0; 50], 10, |x| x >= 0.0).is_empty());
        assert!(envelope(&[-1.0; 5000], 10, |x| x >= 0.0).is_empty());
    }
}
