//! Device buffers: a handle with its length in values, and uploads.

use super::GpuFloat;
use cubecl::prelude::*;
use cubecl::server::Handle;

/// A device buffer and its length in values.
pub(super) struct Buffer {
    pub(super) handle: Handle,
    pub(super) len: usize,
}

impl Buffer {
    pub(super) fn arg(&self) -> BufferArg {
        // SAFETY: `len` is the number of values the buffer was created with.
        unsafe { BufferArg::from_raw_parts(self.handle.clone(), self.len) }
    }
}

pub(super) fn upload<T: GpuFloat>(client: &cubecl::client::Client, values: &[T]) -> Buffer {
    if values.is_empty() {
        return upload(client, &[T::ZERO]);
    }
    Buffer { handle: client.create_from_slice(T::as_bytes(values)), len: values.len() }
}

pub(super) fn upload_u32(client: &cubecl::client::Client, values: &[u32]) -> Buffer {
    if values.is_empty() {
        return upload_u32(client, &[u32::MAX]);
    }
    Buffer { handle: client.create_from_slice(u32::as_bytes(values)), len: values.len() }
}
