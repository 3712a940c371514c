//! Physiographic descriptors as the regionalization mappings see them: transformed by
//! `setup.descriptor_tfm` (spec §4, smash's `apply_descriptor_tfm`) and laid out on the active cells.

use crate::io::raster::MISSING;

/// How descriptors are scaled before a mapping uses them (smash's `setup.descriptor_tfm`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DescriptorTfm {
    /// `(D − mean)/std` (smash's default since 1.2.2).
    #[default]
    Standardize,
    /// `(D − min)/(max − min)`.
    Normalize,
    /// `D` unchanged.
    Keep,
}

impl DescriptorTfm {
    pub const ALL: [DescriptorTfm; 3] = [DescriptorTfm::Standardize, DescriptorTfm::Normalize, DescriptorTfm::Keep];

    pub fn name(self) -> &'static str {
        match self {
            DescriptorTfm::Standardize => "standardize",
            DescriptorTfm::Normalize => "normalize",
            DescriptorTfm::Keep => "keep",
        }
    }

    pub fn from_name(name: &str) -> Option<DescriptorTfm> {
        DescriptorTfm::ALL.into_iter().find(|t| t.name() == name)
    }
}

/// Statistics of one descriptor over every cell of the mesh rectangle where it is not −99 (smash computes
/// them at read time on the whole rectangle, not only on active cells).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DescriptorStats {
    pub min: f64,
    pub max: f64,
    pub mean: f64,
    /// Population standard deviation (numpy's `std`).
    pub std: f64,
}

impl DescriptorStats {
    /// The statistics of `map`, `[nrow, ncol]`, skipping −99.
    pub fn of(map: &[f32]) -> DescriptorStats {
        let values = || map.iter().filter(|&&v| v != MISSING).map(|&v| v as f64);
        let n = values().count().max(1) as f64;
        let mean = values().sum::<f64>() / n;
        let var = values().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
        let (min, max) = values().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
        DescriptorStats { min, max, mean, std: var.sqrt() }
    }

    /// `d` transformed by `tfm`.
    pub fn transform(&self, tfm: DescriptorTfm, d: f64) -> f64 {
        match tfm {
            DescriptorTfm::Standardize => (d - self.mean) / self.std,
            DescriptorTfm::Normalize => (d - self.min) / (self.max - self.min),
            DescriptorTfm::Keep => d,
        }
    }
}

/// Transformed descriptors on the active cells.
#[derive(Debug, Clone, PartialEq)]
pub struct Descriptors {
    /// `setup.descriptor_name`, `[D]`.
    pub names: Vec<String>,
    pub tfm: DescriptorTfm,
    pub stats: Vec<DescriptorStats>,
    pub ncell: usize,
    /// `[D, N]`, N active cells in routing order.
    pub values: Vec<f64>,
}

impl Descriptors {
    /// Descriptors from their `[nrow, ncol]` maps (`maps[d]`, as read by `io::descriptor`), on the cells
    /// `routing_order` (indices into the maps).
    pub fn new(names: &[String], maps: &[Vec<f32>], routing_order: &[usize], tfm: DescriptorTfm) -> Descriptors {
        assert_eq!(names.len(), maps.len(), "one map per descriptor name");
        let stats: Vec<DescriptorStats> = maps.iter().map(|m| DescriptorStats::of(m)).collect();
        Descriptors::with_stats(names, maps, routing_order, tfm, stats)
    }

    /// [`Descriptors::new`] transformed with given statistics (those a network was trained with).
    pub fn with_stats(
        names: &[String],
        maps: &[Vec<f32>],
        routing_order: &[usize],
        tfm: DescriptorTfm,
        stats: Vec<DescriptorStats>,
    ) -> Descriptors {
        assert_eq!(stats.len(), maps.len(), "one statistics record per descriptor");
        let values = maps
            .iter()
            .zip(&stats)
            .flat_map(|(map, s)| routing_order.iter().map(move |&c| s.transform(tfm, map[c] as f64)))
            .collect();
        Descriptors { names: names.to_vec(), tfm, stats, ncell: routing_order.len(), values }
    }

    /// The transformed values of descriptor `d`, `[N]`.
    pub fn get(&self, d: usize) -> &[f64] {
        &self.values[d * self.ncell..(d + 1) * self.ncell]
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics_skip_missing_and_use_the_whole_rectangle() {
        // 2×2 map; −99 is skipped; the inactive cell 0 still counts
        let map = [1.0f32, 3.0, -99.0, 5.0];
        let s = DescriptorStats::of(&map);
        assert_eq!((s.min, s.max, s.mean), (1.0, 5.0, 3.0));
        assert!((s.std - (8.0f64 / 3.0).sqrt()).abs() < 1e-12);
        let d = Descriptors::new(&["slope".into()], &[map.to_vec()], &[3, 1], DescriptorTfm::Normalize);
        assert_eq!(d.get(0), [1.0, 0.5]);
        let d = Descriptors::new(&["slope".into()], &[map.to_vec()], &[3, 1], DescriptorTfm::Standardize);
        assert!((d.get(0)[0] - 2.0 / (8.0f64 / 3.0).sqrt()).abs() < 1e-12 && d.get(0)[1] == 0.0);
        assert_eq!(DescriptorTfm::from_name("keep"), Some(DescriptorTfm::Keep));
    }
}
