//! Parameter and state maps as safetensors: one `[nrow, ncol]` F32 tensor per variable, NaN outside
//! active cells, with string metadata (config hash, version, structure).

use super::OutputError;
use safetensors::{Dtype, serialize_to_file, tensor::TensorView};
use std::collections::HashMap;
use std::path::Path;

/// Named `[nrow, ncol]` maps.
#[derive(Debug, Clone, PartialEq)]
pub struct MapSet {
    pub nrow: usize,
    pub ncol: usize,
    /// `(name, values [nrow, ncol] row-major)`, in output order.
    pub maps: Vec<(String, Vec<f32>)>,
}

/// Writes the maps of `set` to `path` with `metadata`.
pub fn write_maps(path: &Path, set: &MapSet, metadata: &[(&str, String)]) -> Result<(), OutputError> {
    let encode = |message: String| OutputError::Encode { path: path.to_path_buf(), message };
    let bytes: Vec<_> = set.maps.iter().map(|(_, v)| le_bytes(v)).collect();
    let views = set
        .maps
        .iter()
        .zip(&bytes)
        .map(|((name, _), b)| {
            TensorView::new(Dtype::F32, vec![set.nrow, set.ncol], b)
                .map(|v| (name.as_str(), v))
                .map_err(|e| encode(e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let info: HashMap<String, String> = metadata.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    serialize_to_file(views, Some(info), path).map_err(|e| match e {
        safetensors::SafeTensorError::IoError(source) => OutputError::Write { path: path.to_path_buf(), source },
        other => encode(other.to_string()),
    })
}

/// The little-endian bytes of `values` (safetensors' byte order), without a copy on little-endian hosts.
#[cfg(target_endian = "little")]
fn le_bytes(values: &[f32]) -> std::borrow::Cow<'_, [u8]> {
    std::borrow::Cow::Borrowed(bytemuck::cast_slice(values))
}

#[cfg(target_endian = "big")]
fn le_bytes(values: &[f32]) -> std::borrow::Cow<'_, [u8]> {
    std::borrow::Cow::Owned(values.iter().flat_map(|x| x.to_le_bytes()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use safetensors::SafeTensors;

    #[test]
    fn maps_round_trip_with_nan_and_metadata() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.safetensors");
        let set = MapSet { nrow: 1, ncol: 2, maps: vec![("cp".into(), vec![200.0, f32::NAN])] };
        write_maps(&path, &set, &[("config_hash", "abc".into())]).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let (_, meta) = SafeTensors::read_metadata(&bytes).unwrap();
        assert_eq!(meta.metadata().as_ref().unwrap()["config_hash"], "abc");
        let st = SafeTensors::deserialize(&bytes).unwrap();
        let cp = st.tensor("cp").unwrap();
        assert_eq!(cp.shape(), &[1, 2]);
        let v: Vec<f32> = cp.data().chunks(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect();
        assert_eq!(v[0], 200.0);
        assert!(v[1].is_nan());
    }
}
