//! The interception-capacity adjustment (spec §1.2) of a run's forcing, cached beside the forcing.
//!
//! The adjustment depends on the forcing alone, so its result is stored under the forcing's
//! fingerprint (`ci-<hash>.safetensors` in the cache folder) and reused while the inputs are unchanged:
//! on large domains it costs more than the simulation itself.

use crate::io::atomic::write_atomically;
use crate::io::forcing::Forcing;
use crate::time::TimeAxis;
use hydrograd_models::simulation::Kernel;
use safetensors::{Dtype, SafeTensors, serialize, tensor::TensorView};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Adjusted `ci` \[mm\] of every cell of `forcing`, `[N]`.
pub fn adjusted_capacity(forcing: &Forcing, time: &TimeAxis, cache_dir: &Path) -> Vec<f32> {
    let path = forcing.fingerprint.as_deref().map(|f| cache_path(cache_dir, f));
    if let Some(ci) = path.as_deref().and_then(|p| load(p, forcing.ncell)) {
        return ci;
    }
    let day: Vec<i64> =
        (0..time.ntime).map(|k| chrono::Datelike::num_days_from_ce(&time.step_end(k).date()) as i64).collect();
    let ci = <f32 as Kernel>::adjust_interception_capacity(&forcing.prcp, &forcing.pet, &day, forcing.ncell);
    if let Some(p) = &path {
        // a cache that cannot be written only costs time on the next run
        let _ = store(p, &ci);
    }
    ci
}

fn cache_path(dir: &Path, fingerprint: &str) -> PathBuf {
    let key =
        Sha256::digest(format!("interception-capacity-1 {}\n{fingerprint}", env!("CARGO_PKG_VERSION")).as_bytes());
    dir.join(format!("ci-{}.safetensors", &format!("{key:x}")[..24]))
}

fn load(path: &Path, n: usize) -> Option<Vec<f32>> {
    let bytes = std::fs::read(path).ok()?;
    let st = SafeTensors::deserialize(&bytes).ok()?;
    let view = st.tensor("ci").ok()?;
    (view.dtype() == Dtype::F32 && view.shape() == [n])
        .then(|| view.data().chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect())
}

fn store(path: &Path, ci: &[f32]) -> std::io::Result<()> {
    let bytes: Vec<u8> = ci.iter().flat_map(|v| v.to_le_bytes()).collect();
    let view = TensorView::new(Dtype::F32, vec![ci.len()], &bytes).map_err(std::io::Error::other)?;
    let data = serialize([("ci", view)], None::<HashMap<String, String>>).map_err(std::io::Error::other)?;
    write_atomically(path, |file| std::io::Write::write_all(file, &data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_capacity_is_reused_and_keyed_by_the_forcing() {
        let dir = tempfile::tempdir().unwrap();
        let time = TimeAxis { start: crate::time::parse_datetime("2021-10-01").unwrap(), dt: 3600, ntime: 48 };
        let n = 3;
        let prcp: Vec<f32> = (0..48 * n).map(|i| if i % 7 == 0 { 1.5 } else { 0.0 }).collect();
        let pet = vec![0.2f32; 48 * n];
        let mut forcing = Forcing {
            ntime: 48,
            ncell: n,
            prcp: prcp.into(),
            pet: pet.into(),
            warnings: vec![],
            fingerprint: Some("a".into()),
        };
        let first = adjusted_capacity(&forcing, &time, dir.path());
        assert!(cache_path(dir.path(), "a").is_file());
        // a cached value is returned as stored: plant a marker to prove the cache is read
        store(&cache_path(dir.path(), "a"), &[9.0, 9.0, 9.0]).unwrap();
        assert_eq!(adjusted_capacity(&forcing, &time, dir.path()), vec![9.0; 3]);
        forcing.fingerprint = Some("b".into());
        assert_eq!(adjusted_capacity(&forcing, &time, dir.path()), first, "another fingerprint recomputes");
        forcing.fingerprint = None;
        assert_eq!(adjusted_capacity(&forcing, &time, dir.path()), first);
    }
}
