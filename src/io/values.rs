//! Large `f32` arrays that are either owned or mapped from a cache file.

use std::ops::Deref;
use std::sync::Arc;

/// An `f32` array: in memory, or a read-only view of a file mapped into memory (the forcing cache), so
/// that hundreds of MB are not copied on every run.
///
/// A mapped file must not change while it is mapped: the caches replace files by renaming a new one
/// over them, which leaves the mapped inode untouched.
#[derive(Clone)]
pub enum Values {
    Owned(Vec<f32>),
    Mapped { map: Arc<memmap2::Mmap>, offset: usize, len: usize },
}

impl Values {
    /// `len` values at byte `offset` of `map`, if aligned and in bounds (little-endian hosts).
    pub fn mapped(map: Arc<memmap2::Mmap>, offset: usize, len: usize) -> Option<Values> {
        let end = offset.checked_add(len.checked_mul(4)?)?;
        let fits =
            end <= map.len() && (map.as_ptr() as usize + offset).is_multiple_of(4) && cfg!(target_endian = "little");
        fits.then_some(Values::Mapped { map, offset, len })
    }
}

impl Deref for Values {
    type Target = [f32];

    fn deref(&self) -> &[f32] {
        match self {
            Values::Owned(v) => v,
            Values::Mapped { map, offset, len } => bytemuck::cast_slice(&map[*offset..*offset + 4 * len]),
        }
    }
}

impl From<Vec<f32>> for Values {
    fn from(v: Vec<f32>) -> Values {
        Values::Owned(v)
    }
}

impl std::fmt::Debug for Values {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = if matches!(self, Values::Owned(_)) { "owned" } else { "mapped" };
        write!(f, "Values({kind}, {} values)", self.len())
    }
}

impl PartialEq for Values {
    fn eq(&self, other: &Values) -> bool {
        **self == **other
    }
}

impl<const N: usize> PartialEq<[f32; N]> for Values {
    fn eq(&self, other: &[f32; N]) -> bool {
        **self == *other
    }
}
