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

use rayon::prelude::*;
use sha2::{Digest, Sha256};

use super::IoError;
use super::atomic::write_atomically;
use super::files::{ListedFile, list_files};
use super::forcing::{AtmosSpec, Forcing, MissingFile, read_atmos_listed};
use super::values::Values;
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
    let mut forcing = read_atmos_listed(spec, time, grid, cells, &prcp_files, &pet_files)?;
    forcing.fingerprint = Some(fingerprint.clone());
    let status = match store(&path, &fingerprint, &forcing) {
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
    put(env!("CARGO_PKG_VERSION").as_bytes());
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
    put(&hash_words(&cells.iter().map(|&c| c as u64).collect::<Vec<_>>()).to_le_bytes());
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

#[inline]
fn mix(x: u64) -> u64 {
    let x = x.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^ (x >> 29)
}

const SEEDS: [u64; 4] = [0x243F_6A88_85A3_08D3, 0x1319_8A2E_0370_7344, 0xA409_3822_299F_31D0, 0x082E_FA98_EC4E_6C89];

fn finish(lanes: [u64; 4], len: usize) -> u64 {
    lanes.iter().fold(mix(len as u64), |acc, &l| mix(acc ^ l).rotate_left(17))
}

/// A fast non-cryptographic hash of words: 4 independent lanes, each step a bijection, so any single
/// changed word changes the result.
fn hash_words(words: &[u64]) -> u64 {
    let mut l = SEEDS;
    let mut chunks = words.chunks_exact(4);
    for c in &mut chunks {
        for i in 0..4 {
            l[i] = mix(l[i] ^ c[i]);
        }
    }
    for &w in chunks.remainder() {
        l[0] = mix(l[0] ^ w);
    }
    finish(l, words.len())
}

/// [`hash_words`] over the bits of `f32` values taken two by two.
fn hash_f32s(values: &[f32]) -> u64 {
    let mut l = SEEDS;
    let mut chunks = values.chunks_exact(8);
    for c in &mut chunks {
        for i in 0..4 {
            l[i] = mix(l[i] ^ (c[2 * i].to_bits() as u64 | (c[2 * i + 1].to_bits() as u64) << 32));
        }
    }
    for &v in chunks.remainder() {
        l[0] = mix(l[0] ^ v.to_bits() as u64);
    }
    finish(l, values.len())
}

/// Checksum of the cached arrays (blocks hashed in parallel).
fn checksum(prcp: &[f32], pet: &[f32]) -> u64 {
    let part = |a: &[f32]| hash_words(&a.par_chunks(1 << 20).map(hash_f32s).collect::<Vec<_>>());
    part(prcp) ^ part(pet).rotate_left(1)
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
    let warnings: Vec<String> =
        meta("warnings").and_then(|w| serde_json::from_str(w).ok()).ok_or_else(|| bad("malformed warnings"))?;
    let data = 8 + header_len;
    let (prcp, pet) = match map_f32s(&file, data as usize, n) {
        Some(mapped) => mapped,
        None => (
            read_f32s(&file, data, n).map_err(|_| bad("truncated data"))?.into(),
            read_f32s(&file, data + 4 * n as u64, n).map_err(|_| bad("truncated data"))?.into(),
        ),
    };
    if format!("{:016x}", checksum(&prcp, &pet)) != expected {
        return Err(bad("checksum mismatch"));
    }
    Ok(Forcing { ntime, ncell, prcp, pet, warnings, fingerprint: Some(fingerprint.to_string()) })
}

/// Maps the file and views the two arrays of `n` values from byte `offset` in place (no copy), when the
/// host is little-endian and the data aligned; `None` otherwise (then the arrays are read).
fn map_f32s(file: &File, offset: usize, n: usize) -> Option<(Values, Values)> {
    // SAFETY: cache files are never modified in place (a new file is renamed over an old one), so the
    // mapped bytes stay valid for the life of the mapping.
    let map = std::sync::Arc::new(unsafe { memmap2::Mmap::map(file) }.ok()?);
    let prcp = Values::mapped(map.clone(), offset, n)?;
    let pet = Values::mapped(map, offset + 4 * n, n)?;
    Some((prcp, pet))
}

/// Reads `n` little-endian `f32` at byte `offset`, in parallel blocks (page faults and copies of a few
/// hundred MB take long on one thread).
fn read_f32s(file: &File, offset: u64, n: usize) -> std::io::Result<Vec<f32>> {
    const BLOCK: usize = 1 << 21;
    let mut out = vec![0.0f32; n];
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileExt;
        out.par_chunks_mut(BLOCK).enumerate().try_for_each(|(i, block)| {
            file.read_exact_at(bytemuck::cast_slice_mut(block), offset + (i * BLOCK * 4) as u64)
        })?;
    }
    #[cfg(not(unix))]
    {
        use std::io::Seek;
        let mut file = file;
        file.seek(std::io::SeekFrom::Start(offset))?;
        file.read_exact(bytemuck::cast_slice_mut(&mut out))?;
    }
    if cfg!(target_endian = "big") {
        out.iter_mut().for_each(|v| *v = f32::from_bits(u32::from_le(v.to_bits())));
    }
    Ok(out)
}

fn write_f32s(w: &mut impl Write, values: &[f32]) -> std::io::Result<()> {
    if cfg!(target_endian = "little") {
        return w.write_all(bytemuck::cast_slice(values));
    }
    for chunk in values.chunks(1 << 16) {
        let bytes: Vec<u8> = chunk.iter().flat_map(|v| v.to_le_bytes()).collect();
        w.write_all(&bytes)?;
    }
    Ok(())
}

fn store(path: &Path, fingerprint: &str, forcing: &Forcing) -> std::io::Result<()> {
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

    write_atomically(path, |file| {
        let mut w = BufWriter::with_capacity(1 << 20, file);
        w.write_all(&(header.len() as u64).to_le_bytes())?;
        w.write_all(&header)?;
        write_f32s(&mut w, &forcing.prcp)?;
        write_f32s(&mut w, &forcing.pet)?;
        w.flush()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::test_tiff::{Geo, write};
    use crate::time::parse_datetime;
    use tiff::encoder::colortype::Gray32Float;

    const GRID: Grid = Grid { xmin: 0.0, ymax: 2000.0, dx: 1000.0, dy: 1000.0, nrow: 2, ncol: 2 };

    fn dataset(root: &Path) -> (AtmosSpec, TimeAxis) {
        let geo = Geo::area(0.0, 2000.0, 1000.0);
        for (k, day) in ["20120802", "20120803"].into_iter().enumerate() {
            write::<Gray32Float>(&root.join(format!("prcp/{day}_PT.tif")), &geo, 2, 2, &[k as f32; 4]);
            write::<Gray32Float>(&root.join(format!("pet/{day}_ETP.tif")), &geo, 2, 2, &[0.5; 4]);
        }
        let time = TimeAxis { start: parse_datetime("2012-08-01").unwrap(), dt: 86_400, ntime: 2 };
        (AtmosSpec::new(root.join("prcp"), root.join("pet")), time)
    }

    fn only_cache_file(dir: &Path) -> std::path::PathBuf {
        let files: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
        assert_eq!(files.len(), 1, "{files:?}");
        files[0].clone()
    }

    #[test]
    fn hit_invalidation_and_corruption() {
        let root = tempfile::tempdir().unwrap();
        let cache = root.path().join("cache");
        let (spec, time) = dataset(root.path());
        let cells = [3, 1];
        let (f0, s) = read_atmos_cached(&spec, &time, &GRID, &cells, &cache).unwrap();
        assert_eq!(s, CacheStatus::Created);
        let plain = super::super::read_atmos(&spec, &time, &GRID, &cells).unwrap();
        assert!(f0.fingerprint.is_some() && plain.fingerprint.is_none());
        assert_eq!(Forcing { fingerprint: None, ..f0.clone() }, plain);
        let (f1, s) = read_atmos_cached(&spec, &time, &GRID, &cells, &cache).unwrap();
        assert_eq!((s, &f1), (CacheStatus::Hit, &f0));

        // The file is valid safetensors.
        let bytes = std::fs::read(only_cache_file(&cache)).unwrap();
        let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        assert_eq!(st.tensor("prcp").unwrap().shape(), [2, 2]);

        // Other cells: another slot.
        let (_, s) = read_atmos_cached(&spec, &time, &GRID, &[0], &cache).unwrap();
        assert_eq!(s, CacheStatus::Created);
        let _ = std::fs::remove_dir_all(&cache);
        read_atmos_cached(&spec, &time, &GRID, &cells, &cache).unwrap();

        // A changed input file invalidates it (new content and modification time).
        let changed = root.path().join("prcp/20120803_PT.tif");
        write::<Gray32Float>(&changed, &Geo::area(0.0, 2000.0, 1000.0), 2, 2, &[7.0; 4]);
        let later = std::time::SystemTime::now() + std::time::Duration::from_secs(5);
        std::fs::File::options().write(true).open(&changed).unwrap().set_modified(later).unwrap();
        let (f2, s) = read_atmos_cached(&spec, &time, &GRID, &cells, &cache).unwrap();
        assert!(matches!(s, CacheStatus::Rebuilt { .. }), "{s:?}");
        assert_eq!(f2.prcp, [0.0, 0.0, 7.0, 7.0]);
        assert_eq!(read_atmos_cached(&spec, &time, &GRID, &cells, &cache).unwrap().1, CacheStatus::Hit);

        // A flipped bit in the data, then a truncated file: rebuilt, never trusted.
        let path = only_cache_file(&cache);
        let mut bytes = std::fs::read(&path).unwrap();
        let n = bytes.len();
        bytes[n - 3] ^= 0x10;
        std::fs::write(&path, &bytes).unwrap();
        let (f3, s) = read_atmos_cached(&spec, &time, &GRID, &cells, &cache).unwrap();
        assert_eq!(s, CacheStatus::Rebuilt { reason: "unusable cache file: checksum mismatch".into() });
        assert_eq!(f3, f2);
        std::fs::write(&path, &bytes[..n / 2]).unwrap();
        let (f4, s) = read_atmos_cached(&spec, &time, &GRID, &cells, &cache).unwrap();
        assert!(matches!(s, CacheStatus::Rebuilt { .. }), "{s:?}");
        assert_eq!(f4, f2);
        std::fs::write(&path, b"garbage").unwrap();
        assert!(matches!(
            read_atmos_cached(&spec, &time, &GRID, &cells, &cache).unwrap().1,
            CacheStatus::Rebuilt { .. }
        ));
        assert_eq!(read_atmos_cached(&spec, &time, &GRID, &cells, &cache).unwrap().1, CacheStatus::Hit);
    }

    #[test]
    fn unwritable_cache_still_returns_the_forcing() {
        let root = tempfile::tempdir().unwrap();
        let (spec, time) = dataset(root.path());
        let blocker = root.path().join("file");
        std::fs::write(&blocker, b"x").unwrap();
        let (f, s) = read_atmos_cached(&spec, &time, &GRID, &[0], &blocker.join("cache")).unwrap();
        assert!(matches!(s, CacheStatus::NotStored { .. }), "{s:?}");
        assert_eq!(f.prcp, [0.0, 1.0]);
    }
}
