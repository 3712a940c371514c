//! A disk cache of assembled forcing, keyed by everything it depends on.
//!
//! The cache file `atmos-<slot>.safetensors` (F32 tensors `prcp` and `pet` `[T, N]`) is named after the
//! request (spec, time axis, grid, cells) and stores a fingerprint of the request plus every input file's
//! path, size and modification time, and a checksum of the data. A file whose fingerprint differs is
//! rebuilt; one that is truncated, malformed or fails its checksum is rebuilt, never trusted. It is
//! written atomically (temporary file in the same folder, then rename).

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::Path;

use sha2::{Digest, Sha256};

use super::files::{list_files, ListedFile};
use super::forcing::{read_atmos_listed, AtmosSpec, Forcing, MissingFile};
use super::IoError;
use crate::grid::Grid;
use crate::time::TimeAxis;

const FORMAT: &str = "hydrograd-atmos-cache-1";

/// What [`read_atmos_cached`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheStatus {
    /// Loaded from the cache.
    Hit,
    /// Read from the rasters and stored (no cache file before).
    Created,
    /// Read from the rasters and stored again: the inputs changed or the cache file was unusable.
    Rebuilt { reason: String },
    /// Read from the rasters, but the cache could not be written (the forcing is still returned).
    NotStored { reason: String },
}

/// [`super::read_atmos`] through a cache in `cache_dir` (created if needed).
///
/// A hit costs one listing of the forcing folders (one `stat` per file) and the read of the cache file.
///
/// # Errors
/// Those of [`super::read_atmos`]. Cache problems are never errors: they show in the [`CacheStatus`].
pub fn read_atmos_cached(
    spec: &AtmosSpec,
    time: &TimeAxis,
    grid: &Grid,
    cells: &[usize],
    cache_dir: &Path,
) -> Result<(Forcing, CacheStatus), IoError> {
    let prcp_files = list_files(&spec.prcp_directory, "prcp_directory", "tif", true)?;
    let pet_files = list_files(&spec.pet_directory, "pet_directory", "tif", true)?;
    let (slot, fingerprint) = fingerprint(spec, time, grid, cells, &prcp_files, &pet_files);
    let path = cache_dir.join(format!("atmos-{slot}.safetensors"));
    let previous = match load(&path, &fingerprint, time.ntime, cells.len()) {
        Ok(forcing) => return Ok((forcing, CacheStatus::Hit)),
        Err(Unusable::Absent) => None,
        Err(Unusable::Stale) => Some("the forcing files changed".to_string()),
        Err(Unusable::Corrupt(reason)) => Some(format!("unusable cache file: {reason}")),
    };
    let forcing = read_atmos_listed(spec, time, grid, cells, &prcp_files, &pet_files)?;
    let status = match store(cache_dir, &path, &fingerprint, &forcing) {
        Ok(()) => previous.map_or(CacheStatus::Created, |reason| CacheStatus::Rebuilt { reason }),
        Err(e) => CacheStatus::NotStored { reason: format!("{}: {e}", path.display()) },
    };
    Ok((forcing, status))
}

/// `(slot, fingerprint)`: the slot hashes the request, the fingerprint also the input files.
fn fingerprint(
    spec: &AtmosSpec,
    time: &TimeAxis,
    grid: &Grid,
    cells: &[usize],
    prcp_files: &[ListedFile],
    pet_files: &[ListedFile],
) -> (String, String) {
    let mut h = Sha256::new();
    let mut put = |bytes: &[u8]| {
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    };
    put(FORMAT.as_bytes());
    put(spec.prcp_directory.as_os_str().as_encoded_bytes());
    put(&spec.prcp_conversion_factor.to_bits().to_le_bytes());
    put(spec.pet_directory.as_os_str().as_encoded_bytes());
    put(&spec.pet_conversion_factor.to_bits().to_le_bytes());
    put(&[spec.daily_interannual_pet as u8, (spec.missing_forcing_file == MissingFile::AsMissing) as u8]);
    put(time.start.format("%Y-%m-%dT%H:%M:%S").to_string().as_bytes());
    put(&time.dt.to_le_bytes());
    put(&(time.ntime as u64).to_le_bytes());
    for v in [grid.xmin, grid.ymax, grid.dx, grid.dy] {
        put(&v.to_bits().to_le_bytes());
    }
    put(&(grid.nrow as u64).to_le_bytes());
    put(&(grid.ncol as u64).to_le_bytes());
    put(&(cells.len() as u64).to_le_bytes());
    put(&fast_hash(cells.iter().map(|&c| c as u64)).to_le_bytes());
    let slot = h.clone().finalize();
    for f in prcp_files.iter().chain(pet_files) {
        h.update(f.path.as_os_str().as_encoded_bytes());
        h.update([0]);
        h.update(f.size.to_le_bytes());
        h.update(f.mtime_ns.to_le_bytes());
    }
    (hex(&slot[..8]), hex(&h.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A fast non-cryptographic hash of a stream of words (4 independent lanes; every step is a bijection,
/// so any single changed word changes the result).
fn fast_hash(words: impl Iterator<Item = u64>) -> u64 {
    #[inline]
    fn mix(x: u64) -> u64 {
        let x = x.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        x ^ (x >> 29)
    }
    let mut lanes = [0x243F_6A88_85A3_08D3u64, 0x1319_8A2E_0370_7344, 0xA409_3822_299F_31D0, 0x082E_FA98_EC4E_6C89];
    let mut n = 0u64;
    for (i, w) in words.enumerate() {
        let l = &mut lanes[i & 3];
        *l = mix(*l ^ w);
        n += 1;
    }
    lanes.iter().fold(mix(n), |acc, &l| mix(acc ^ l).rotate_left(17))
}

/// Checksum of the cached arrays.
fn checksum(prcp: &[f32], pet: &[f32]) -> u64 {
    let bits = |a: &[f32]| -> u64 {
        let pairs = a.chunks_exact(2).map(|p| p[0].to_bits() as u64 | (p[1].to_bits() as u64) << 32);
        let tail = a.chunks_exact(2).remainder().iter().map(|v| v.to_bits() as u64);
        fast_hash(pairs.chain(tail))
    };
    bits(prcp) ^ bits(pet).rotate_left(1)
}

enum Unusable {
    Absent,
    Stale,
    Corrupt(String),
}

fn load(path: &Path, fingerprint: &str, ntime: usize, ncell: usize) -> Result<Forcing, Unusable> {
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(Unusable::Absent),
        Err(e) => return Err(Unusable::Corrupt(e.to_string())),
    };
    let bad = |reason: &str| Unusable::Corrupt(reason.to_string());
    let file_len = file.metadata().map_err(|e| Unusable::Corrupt(e.to_string()))?.len();
    let mut len8 = [0u8; 8];
    file.read_exact(&mut len8).map_err(|_| bad("truncated header"))?;
    let header_len = u64::from_le_bytes(len8);
    if header_len > 1 << 20 || 8 + header_len > file_len {
        return Err(bad("invalid header length"));
    }
    let mut header = vec![0u8; header_len as usize];
    file.read_exact(&mut header).map_err(|_| bad("truncated header"))?;
    let header: serde_json::Value = serde_json::from_slice(&header).map_err(|_| bad("malformed header"))?;
    let meta = |key: &str| header.get("__metadata__").and_then(|m| m.get(key)).and_then(|v| v.as_str());
    if meta("format") != Some(FORMAT) {
        return Err(bad("unknown format"));
    }
    if meta("fingerprint") != Some(fingerprint) {
        return Err(Unusable::Stale);
    }
    let n = ntime * ncell;
    for (name, start) in [("prcp", 0), ("pet", 4 * n)] {
        let t = header.get(name).ok_or_else(|| bad("missing tensor"))?;
        let ok = t.get("dtype").and_then(|v| v.as_str()) == Some("F32")
            && t.get("shape") == Some(&serde_json::json!([ntime, ncell]))
            && t.get("data_offsets") == Some(&serde_json::json!([start, start + 4 * n]));
        if !ok {
            return Err(bad("unexpected tensor layout"));
        }
    }
    if file_len != 8 + header_len + 8 * n as u64 {
        return Err(bad("wrong file size"));
    }
    let expected = meta("checksum").ok_or_else(|| bad("no checksum"))?.to_string();
    let warnings: Vec<String> = meta("warnings")
        .and_then(|w| serde_json::from_str(w).ok())
        .ok_or_else(|| bad("malformed warnings"))?;
    let prcp = read_f32s(&mut file, n).map_err(|_| bad("truncated data"))?;
    let pet = read_f32s(&mut file, n).map_err(|_| bad("truncated data"))?;
    if format!("{:016x}", checksum(&prcp, &pet)) != expected {
        return Err(bad("checksum mismatch"));
    }
    Ok(Forcing { ntime, ncell, prcp, pet, warnings })
}

fn read_f32s(r: &mut impl Read, n: usize) -> std::io::Result<Vec<f32>> {
    let mut out = Vec::with_capacity(n);
    let mut buf = vec![0u8; 1 << 20];
    let mut left = n;
    while left > 0 {
        let m = left.min(buf.len() / 4);
        r.read_exact(&mut buf[..4 * m])?;
        out.extend(buf[..4 * m].chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])));
        left -= m;
    }
    Ok(out)
}

fn store(dir: &Path, path: &Path, fingerprint: &str, forcing: &Forcing) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let n = forcing.prcp.len();
    let metadata = serde_json::json!({
        "format": FORMAT,
        "fingerprint": fingerprint,
        "checksum": format!("{:016x}", checksum(&forcing.prcp, &forcing.pet)),
        "warnings": serde_json::to_string(&forcing.warnings).unwrap_or_else(|_| "[]".into()),
    });
    let shape = [forcing.ntime, forcing.ncell];
    let header = serde_json::json!({
        "__metadata__": metadata,
        "prcp": {"dtype": "F32", "shape": shape, "data_offsets": [0, 4 * n]},
        "pet": {"dtype": "F32", "shape": shape, "data_offsets": [4 * n, 8 * n]},
    });
    let mut header = serde_json::to_vec(&header).map_err(std::io::Error::other)?;
    header.resize(header.len().next_multiple_of(8), b' ');

    let tmp = tempfile::NamedTempFile::new_in(dir)?;
    let mut w = BufWriter::with_capacity(1 << 20, tmp.as_file());
    w.write_all(&(header.len() as u64).to_le_bytes())?;
    w.write_all(&header)?;
    let mut buf = Vec::with_capacity(1 << 20);
    for chunk in forcing.prcp.chunks(1 << 18).chain(forcing.pet.chunks(1 << 18)) {
        buf.clear();
        buf.extend(chunk.iter().flat_map(|v| v.to_le_bytes()));
        w.write_all(&buf)?;
    }
    w.flush()?;
    drop(w);
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
