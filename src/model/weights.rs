//! Network weights files (`weights.safetensors`): the hybrid network with smash's tensor names (`weight_1`
//! `[out, in]`, `bias_1` `[out]`, …) and, after an `ann` mapping, the regionalization network
//! (`ann_weight_1`, `ann_bias_1`, …; see [`super::ann_file`]), in f64, with metadata naming the structure,
//! the layer sizes and the activations, so that a file is only loaded into the network it was trained for.

use hydrograd_models::nn::MlpShape;
use hydrograd_models::structure::HydrologicalModule;
use safetensors::{Dtype, SafeTensors, tensor::TensorView};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Format tag and version of the files this module writes.
pub const WEIGHTS_FORMAT: &str = "hydrograd-weights";
pub const WEIGHTS_VERSION: &str = "1";

/// A weights file that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WeightsError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: not a safetensors file ({message})", path.display())]
    Format { path: PathBuf, message: String },
    #[error("{}: {message}", path.display())]
    Mismatch { path: PathBuf, message: String },
    #[error("[parameters] weights: hydrological_module {module} has no neural network to load {} into", path.display())]
    NoNetwork { path: PathBuf, module: &'static str },
}

/// `hidden_neuron` as written in metadata: `16` or `16,8`.
fn hidden_text(shape: MlpShape) -> String {
    shape.hidden().iter().map(|n| n.to_string()).collect::<Vec<_>>().join(",")
}

/// The activations of `shape`'s layers: SiLU for the hidden ones, tanh for the output.
fn activations(shape: MlpShape) -> String {
    let mut a = vec!["silu"; shape.hidden().len()];
    a.push("tanh");
    a.join(",")
}

/// The metadata every weights file starts with: format, version and hydrograd's version.
pub fn metadata_header() -> Vec<(String, String)> {
    vec![
        ("format".into(), WEIGHTS_FORMAT.into()),
        ("version".into(), WEIGHTS_VERSION.into()),
        ("hydrograd_version".into(), env!("CARGO_PKG_VERSION").into()),
    ]
}

/// The metadata of the weights of `module`'s network.
pub fn metadata(module: HydrologicalModule, shape: MlpShape) -> Vec<(String, String)> {
    let mut out = metadata_header();
    out.extend([
        ("kind".into(), "hybrid".into()),
        ("structure".into(), module.name().into()),
        ("hidden_neuron".into(), hidden_text(shape)),
        ("activations".into(), activations(shape)),
        ("inputs".into(), "hp,ht,pn,en".into()),
        ("layout".into(), "weight_k [out, in] applied as W @ x + bias_k".into()),
    ]);
    out
}

/// A named f64 tensor: `(name, shape, values)`.
pub type NamedTensor = (String, Vec<usize>, Vec<f64>);

/// The named tensors of a flat weight vector: `tensors` `(name, shape)` in order over `weights`.
pub fn split(tensors: Vec<(String, Vec<usize>)>, weights: &[f64]) -> Vec<NamedTensor> {
    let mut at = 0;
    let out = tensors
        .into_iter()
        .map(|(name, dims)| {
            let len: usize = dims.iter().product();
            at += len;
            (name, dims, weights[at - len..at].to_vec())
        })
        .collect();
    assert_eq!(at, weights.len(), "one value per tensor entry");
    out
}

/// Encodes `weights` (`[W]`, flat layout of `hydrograd_models::nn`) of `shape` as safetensors bytes.
pub fn encode(shape: MlpShape, weights: &[f64], metadata: Vec<(String, String)>) -> Result<Vec<u8>, String> {
    encode_tensors(split(shape.tensors(), weights), metadata)
}

/// Encodes named f64 tensors `(name, shape, values)` as safetensors bytes.
pub fn encode_tensors(tensors: Vec<NamedTensor>, metadata: Vec<(String, String)>) -> Result<Vec<u8>, String> {
    let data: Vec<(String, Vec<usize>, Vec<u8>)> = tensors
        .into_iter()
        .map(|(name, dims, values)| (name, dims, values.iter().flat_map(|v| v.to_le_bytes()).collect()))
        .collect();
    let views: Vec<(String, TensorView<'_>)> = data
        .iter()
        .map(|(name, dims, bytes)| Ok((name.clone(), TensorView::new(Dtype::F64, dims.clone(), bytes)?)))
        .collect::<Result<_, safetensors::SafeTensorError>>()
        .map_err(|e| e.to_string())?;
    let metadata: HashMap<String, String> = metadata.into_iter().collect();
    safetensors::serialize(views, Some(metadata)).map_err(|e| e.to_string())
}

/// Reads the weights of `module`'s network from `path`.
///
/// # Errors
/// When the file cannot be read, is not safetensors, or does not hold this network: another structure or
/// `hidden_neuron` (from the metadata), or a tensor missing, of another shape, or not finite.
pub fn read(path: &Path, module: HydrologicalModule) -> Result<Vec<f64>, WeightsError> {
    let shape = module.net().ok_or(WeightsError::NoNetwork { path: path.into(), module: module.name() })?;
    let file = WeightsFile::open(path)?;
    read_hybrid(&file, module, shape)
}

/// A weights file, read.
pub struct WeightsFile {
    pub path: PathBuf,
    bytes: Vec<u8>,
    pub metadata: HashMap<String, String>,
}

impl WeightsFile {
    pub fn open(path: &Path) -> Result<WeightsFile, WeightsError> {
        let bytes = std::fs::read(path).map_err(|source| WeightsError::Read { path: path.into(), source })?;
        let (_, header) = SafeTensors::read_metadata(&bytes)
            .map_err(|e| WeightsError::Format { path: path.into(), message: e.to_string() })?;
        let metadata = header.metadata().clone().unwrap_or_default();
        Ok(WeightsFile { path: path.to_path_buf(), bytes, metadata })
    }

    pub fn mismatch(&self, message: String) -> WeightsError {
        WeightsError::Mismatch { path: self.path.clone(), message }
    }

    /// Whether the file holds tensor `name`.
    pub fn has(&self, name: &str) -> bool {
        SafeTensors::deserialize(&self.bytes).is_ok_and(|st| st.tensor(name).is_ok())
    }

    /// The finite values of tensor `name`, which must have shape `dims` (`what` names the network for
    /// messages).
    pub fn tensor(&self, name: &str, dims: &[usize], what: &str) -> Result<Vec<f64>, WeightsError> {
        let st = SafeTensors::deserialize(&self.bytes)
            .map_err(|e| WeightsError::Format { path: self.path.clone(), message: e.to_string() })?;
        let view = st
            .tensor(name)
            .map_err(|_| self.mismatch(format!("has no tensor '{name}' ({what} needs it, {dims:?})")))?;
        if view.shape() != dims {
            return Err(self.mismatch(format!("tensor '{name}' has shape {:?}, {what} needs {dims:?}", view.shape())));
        }
        let values: Vec<f64> = match view.dtype() {
            Dtype::F64 => view.data().chunks_exact(8).map(|b| f64::from_le_bytes(b.try_into().unwrap())).collect(),
            Dtype::F32 => {
                view.data().chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().unwrap()) as f64).collect()
            }
            other => return Err(self.mismatch(format!("tensor '{name}' has dtype {other:?}, expected F32 or F64"))),
        };
        if let Some(v) = values.iter().find(|v| !v.is_finite()) {
            return Err(self.mismatch(format!("tensor '{name}' holds {v}")));
        }
        Ok(values)
    }
}

/// The hybrid network of `module` (of `shape`) in `file`.
pub fn read_hybrid(file: &WeightsFile, module: HydrologicalModule, shape: MlpShape) -> Result<Vec<f64>, WeightsError> {
    let mismatch = |message: String| file.mismatch(message);
    let meta = &file.metadata;
    if let Some(structure) = meta.get("structure").filter(|s| *s != module.name()) {
        return Err(mismatch(format!(
            "holds the weights of {structure}, but the configuration's hydrological_module is {}",
            module.name()
        )));
    }
    if let Some(hidden) = meta.get("hidden_neuron").filter(|h| **h != hidden_text(shape)) {
        return Err(mismatch(format!(
            "was trained with hidden_neuron [{hidden}], but the configuration has [{}]",
            hidden_text(shape)
        )));
    }
    let what = format!("the configuration's network ({}, hidden_neuron [{}])", module.name(), hidden_text(shape));
    let mut weights = Vec::with_capacity(shape.len());
    for (name, dims) in shape.tensors() {
        weights.extend(file.tensor(&name, &dims, &what)?);
    }
    Ok(weights)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_mismatches_name_the_problem() {
        let dir = tempfile::tempdir().unwrap();
        let shape = MlpShape::new(&[6]).unwrap();
        let module = HydrologicalModule::Gr4Mlp(shape);
        let w: Vec<f64> = (0..shape.len()).map(|k| k as f64 * 0.01 - 0.3).collect();
        let path = dir.path().join("weights.safetensors");
        std::fs::write(&path, encode(shape, &w, metadata(module, shape)).unwrap()).unwrap();
        assert_eq!(read(&path, module).unwrap(), w);
        let other = HydrologicalModule::Gr4Mlp(MlpShape::new(&[6, 3]).unwrap());
        let err = read(&path, other).unwrap_err().to_string();
        assert!(err.contains("hidden_neuron [6]") && err.contains("[6,3]"), "{err}");
        let err = read(&path, HydrologicalModule::Gr4).unwrap_err().to_string();
        assert!(err.contains("no neural network"), "{err}");
        // no metadata: the shapes decide
        std::fs::write(&path, encode(shape, &w, Vec::new()).unwrap()).unwrap();
        let err = read(&path, HydrologicalModule::Gr4Mlp(MlpShape::new(&[5]).unwrap())).unwrap_err().to_string();
        assert!(err.contains("'weight_1' has shape [6, 4]"), "{err}");
    }
}
