//! The domain of a run — mesh and routing network — built from the flow-direction raster and the
//! gauges (or bbox), and cached between runs: on a national grid, decoding the raster and meshing cost
//! more than a short simulation. The cache file (`domain-<key>.safetensors`) is keyed by the mesh
//! section of the configuration, the flow-direction file's path, size and modification time, and the
//! bytes of the gauge file; anything unreadable or inconsistent is rebuilt, never trusted.

use super::{build_mesh, routing_network};
use crate::Error;
use crate::config::{Config, MeshSource};
use crate::grid::Grid;
use crate::io::atomic::write_atomically;
use crate::mesh::{Gauge, Mesh};
use hydrograd_models::network::RoutingNetwork;
use safetensors::{Dtype, SafeTensors, serialize, tensor::TensorView};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::Path;

const FORMAT: &str = "hydrograd-domain-2";

/// The mesh and routing network of `config`, from the cache when its inputs are unchanged.
pub fn load_domain(config: &Config) -> Result<(Mesh, RoutingNetwork), Error> {
    let Some(key) = domain_key(config) else {
        let mesh = build_mesh(config)?; // reports the unreadable file
        let network = routing_network(&mesh);
        return Ok((mesh, network));
    };
    let path = config.cache_directory.join(format!("domain-{}.safetensors", &key[..24]));
    if let Some(domain) = load(&path, &key) {
        return Ok(domain);
    }
    let mesh = build_mesh(config)?;
    let network = routing_network(&mesh);
    // a cache that cannot be written only costs time on the next run
    let _ = store(&path, &key, &mesh, &network);
    Ok((mesh, network))
}

/// The cache key, or `None` when an input file cannot be examined.
fn domain_key(config: &Config) -> Option<String> {
    let mut h = Sha256::new();
    h.update(FORMAT);
    h.update(env!("CARGO_PKG_VERSION"));
    let file = |h: &mut Sha256, path: &Path| -> Option<()> {
        let meta = std::fs::metadata(path).ok()?;
        let mtime = meta.modified().ok()?.duration_since(std::time::UNIX_EPOCH).ok()?;
        h.update(format!("{}\n{}\n{}\n", path.display(), meta.len(), mtime.as_nanos()));
        Some(())
    };
    file(&mut h, config.mesh.flwdir())?;
    match &config.mesh {
        MeshSource::Gauges { gauge_attributes, max_depth, area_error_th, .. } => {
            h.update(std::fs::read(gauge_attributes).ok()?);
            h.update(format!("gauges {max_depth} {area_error_th:?}"));
        }
        MeshSource::Bbox { bbox, .. } => h.update(format!("bbox {bbox:?}")),
    }
    Some(format!("{:x}", h.finalize()))
}

#[cfg(target_endian = "little")]
fn store(path: &Path, key: &str, mesh: &Mesh, network: &RoutingNetwork) -> std::io::Result<()> {
    let g = &mesh.grid;
    let grid = [g.xmin, g.ymax, g.dx, g.dy];
    let active: Vec<u8> = mesh.active.iter().map(|&a| a as u8).collect();
    // cell numbers fit in u32 (the network's upstream lists are u32 already)
    let as_u32 = |v: &[usize]| -> Vec<u32> { v.iter().map(|&x| x as u32).collect() };
    let (order, parts, up_offsets) =
        (as_u32(&mesh.routing_order), as_u32(&mesh.partition_offsets), as_u32(&network.upstream_offsets));
    let tensors: [(&str, Dtype, &[u8]); 11] = [
        ("grid", Dtype::F64, bytemuck::cast_slice(&grid)),
        ("flwdir", Dtype::U8, &mesh.flwdir),
        ("active", Dtype::U8, &active),
        ("flwacc", Dtype::F64, bytemuck::cast_slice(&mesh.flwacc)),
        ("flwdst", Dtype::F64, bytemuck::cast_slice(&mesh.flwdst)),
        ("flwpar", Dtype::U32, bytemuck::cast_slice(&mesh.flwpar)),
        ("routing_order", Dtype::U32, bytemuck::cast_slice(&order)),
        ("partition_offsets", Dtype::U32, bytemuck::cast_slice(&parts)),
        ("upstream_offsets", Dtype::U32, bytemuck::cast_slice(&up_offsets)),
        ("upstream", Dtype::U32, bytemuck::cast_slice(&network.upstream)),
        ("upstream_area", Dtype::F64, bytemuck::cast_slice(&network.upstream_area)),
    ];
    let views = tensors
        .iter()
        .map(|&(name, dtype, data)| {
            TensorView::new(dtype, vec![data.len() * 8 / dtype.bitsize()], data).map(|v| (name, v))
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(std::io::Error::other)?;
    let gauges: Vec<serde_json::Value> = mesh
        .gauges
        .iter()
        .map(|g| serde_json::json!([g.code, g.row, g.col, finite(g.area), finite(g.area_dln)]))
        .collect();
    let metadata = HashMap::from([
        ("key".to_string(), key.to_string()),
        ("nrow".to_string(), g.nrow.to_string()),
        ("ncol".to_string(), g.ncol.to_string()),
        ("npar".to_string(), mesh.npar.to_string()),
        ("gauges".to_string(), serde_json::Value::Array(gauges).to_string()),
    ]);
    let data = serialize(views, Some(metadata)).map_err(std::io::Error::other)?;
    write_atomically(path, |file| std::io::Write::write_all(file, &data))
}

#[cfg(target_endian = "big")]
fn store(_: &Path, _: &str, _: &Mesh, _: &RoutingNetwork) -> std::io::Result<()> {
    Err(std::io::Error::other("the domain cache is written on little-endian hosts only"))
}

/// JSON has no NaN: an absent area is `null`.
fn finite(v: f64) -> serde_json::Value {
    if v.is_finite() { serde_json::json!(v) } else { serde_json::Value::Null }
}

fn load(path: &Path, key: &str) -> Option<(Mesh, RoutingNetwork)> {
    if cfg!(target_endian = "big") {
        return None;
    }
    let file = std::fs::File::open(path).ok()?;
    // SAFETY: cache files are replaced by renaming, never modified in place.
    let bytes = unsafe { memmap2::Mmap::map(&file) }.ok()?;
    let (_, header) = SafeTensors::read_metadata(&bytes).ok()?;
    let meta = header.metadata().as_ref()?;
    if meta.get("key")? != key {
        return None;
    }
    let number = |k: &str| meta.get(k)?.parse::<usize>().ok();
    let (nrow, ncol, npar) = (number("nrow")?, number("ncol")?, number("npar")?);
    let st = SafeTensors::deserialize(&bytes).ok()?;
    fn read<T: bytemuck::Pod>(st: &SafeTensors<'_>, name: &str, dtype: Dtype) -> Option<Vec<T>> {
        let view = st.tensor(name).ok()?;
        (view.dtype() == dtype).then(|| bytemuck::pod_collect_to_vec(view.data()))
    }
    let usizes = |v: Vec<u32>| -> Vec<usize> { v.into_iter().map(|x| x as usize).collect() };
    let grid: Vec<f64> = read(&st, "grid", Dtype::F64)?;
    let grid = Grid { xmin: *grid.first()?, ymax: *grid.get(1)?, dx: *grid.get(2)?, dy: *grid.get(3)?, nrow, ncol };
    let gauges: Vec<serde_json::Value> = serde_json::from_str(meta.get("gauges")?).ok()?;
    let gauges = gauges
        .iter()
        .map(|g| {
            let area = |v: &serde_json::Value| v.as_f64().unwrap_or(f64::NAN);
            Some(Gauge {
                code: g.get(0)?.as_str()?.to_string(),
                row: g.get(1)?.as_u64()? as usize,
                col: g.get(2)?.as_u64()? as usize,
                area: area(g.get(3)?),
                area_dln: area(g.get(4)?),
            })
        })
        .collect::<Option<Vec<_>>>()?;
    let mesh = Mesh {
        grid,
        flwdir: read(&st, "flwdir", Dtype::U8)?,
        active: read::<u8>(&st, "active", Dtype::U8)?.into_iter().map(|a| a != 0).collect(),
        flwacc: read(&st, "flwacc", Dtype::F64)?,
        flwdst: read(&st, "flwdst", Dtype::F64)?,
        flwpar: read(&st, "flwpar", Dtype::U32)?,
        npar,
        routing_order: usizes(read(&st, "routing_order", Dtype::U32)?),
        partition_offsets: usizes(read(&st, "partition_offsets", Dtype::U32)?),
        gauges,
    };
    let network = RoutingNetwork {
        partition_offsets: mesh.partition_offsets.clone(),
        upstream_offsets: usizes(read(&st, "upstream_offsets", Dtype::U32)?),
        upstream: read(&st, "upstream", Dtype::U32)?,
        upstream_area: read(&st, "upstream_area", Dtype::F64)?,
        dx: grid.dx,
        dy: grid.dy,
    };
    let cells = grid.len();
    let consistent = [mesh.flwdir.len(), mesh.active.len(), mesh.flwacc.len(), mesh.flwdst.len(), mesh.flwpar.len()]
        .iter()
        .all(|&l| l == cells)
        && mesh.routing_order.iter().all(|&c| c < cells && mesh.active[c])
        && mesh.gauges.iter().all(|g| g.row < nrow && g.col < ncol)
        && network.validate().is_ok();
    consistent.then_some((mesh, network))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_domain_round_trips_through_the_cache_and_follows_its_inputs() {
        let dir = tempfile::tempdir().unwrap();
        let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/demo.toml");
        let mut config = Config::from_file(&demo).unwrap();
        config.cache_directory = dir.path().to_path_buf();
        let (mesh, network) = load_domain(&config).unwrap();
        let key = domain_key(&config).unwrap();
        let path = dir.path().join(format!("domain-{}.safetensors", &key[..24]));
        assert_eq!(load(&path, &key), Some((mesh.clone(), network.clone())));
        assert_eq!(load_domain(&config).unwrap(), (mesh, network));
        // another mesh option is another key; a corrupt file is ignored
        if let MeshSource::Gauges { max_depth, .. } = &mut config.mesh {
            *max_depth = 2;
        }
        assert_ne!(domain_key(&config).unwrap(), key);
        std::fs::write(&path, b"garbage").unwrap();
        assert_eq!(load(&path, &key), None);
    }
}
