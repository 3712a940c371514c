//! An opened GPU device and the cubecl client its kernels launch through.

use crate::device::{DeviceError, DeviceKind};
use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, OnceLock};

/// An opened GPU device: the cubecl client every kernel launch goes through.
#[derive(Clone)]
pub struct Gpu {
    pub kind: DeviceKind,
    pub client: cubecl::client::Client,
    /// The adapter's name (e.g. `llvmpipe (LLVM 15.0.6, 256 bits)`, `NVIDIA H100 80GB HBM3`).
    pub name: String,
}

impl fmt::Debug for Gpu {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gpu").field("kind", &self.kind).field("name", &self.name).finish()
    }
}

impl Gpu {
    /// Opens the device (once per process: later calls share the first client).
    ///
    /// # Errors
    /// [`DeviceError`] when the build lacks the device's feature or the machine lacks the device.
    pub fn open(kind: DeviceKind) -> Result<Gpu, DeviceError> {
        static OPENED: OnceLock<Mutex<HashMap<DeviceKind, Result<Gpu, DeviceError>>>> = OnceLock::new();
        let opened = OPENED.get_or_init(Default::default);
        let mut opened = opened.lock().unwrap_or_else(|e| e.into_inner());
        opened.entry(kind).or_insert_with(|| open_device(kind)).clone()
    }

    /// Whether the kernels can run in double precision here.
    pub fn supports_f64(&self) -> bool {
        use cubecl::ir::{ElemType, FloatKind};
        self.client.properties().supports_type(ElemType::Float(FloatKind::F64))
    }

    /// The largest buffer one kernel argument may bind \[bytes\] (lavapipe: 128 MiB).
    pub fn max_buffer_bytes(&self) -> usize {
        (self.client.properties().memory.max_page_size as usize).min(MAX_BUFFER_BYTES)
    }
}

/// Buffers are kept below this size even where the device allows more, so that the memory pools of
/// the runtime stay small.
const MAX_BUFFER_BYTES: usize = 1 << 30;

fn open_device(kind: DeviceKind) -> Result<Gpu, DeviceError> {
    if let (false, Some(feature)) = (kind.compiled(), kind.feature()) {
        return Err(DeviceError::NotCompiled { device: kind, feature });
    }
    let unavailable = |reason: String| DeviceError::Unavailable { device: kind, reason };
    match kind {
        DeviceKind::Cpu => Err(unavailable("the CPU engine does not run GPU kernels".into())),
        DeviceKind::Wgpu | DeviceKind::Vulkan | DeviceKind::Metal => open_wgpu(kind).map_err(unavailable),
        DeviceKind::Cuda => open_cuda().map_err(unavailable),
    }
}

#[cfg(feature = "wgpu")]
fn open_wgpu(kind: DeviceKind) -> Result<Gpu, String> {
    use cubecl::wgpu::{AutoGraphicsApi, RuntimeOptions, WgpuBackend, WgpuDevice, try_init_setup};
    let backend = match kind {
        DeviceKind::Vulkan => WgpuBackend::Vulkan,
        DeviceKind::Metal => WgpuBackend::Metal,
        _ => WgpuBackend::Auto,
    };
    let device = WgpuDevice::default().on(backend);
    let options = RuntimeOptions::try_default().map_err(|e| e.to_string())?;
    let setup = try_init_setup::<AutoGraphicsApi>(&device, options).map_err(|e| e.to_string())?;
    let info = setup.adapter.get_info();
    let client = cubecl::Device::Wgpu(device).client();
    Ok(Gpu { kind, client, name: format!("{} ({:?})", info.name, info.backend) })
}

#[cfg(not(feature = "wgpu"))]
fn open_wgpu(_kind: DeviceKind) -> Result<Gpu, String> {
    unreachable!("checked by DeviceKind::compiled")
}

#[cfg(feature = "cuda")]
fn open_cuda() -> Result<Gpu, String> {
    use cubecl::device::CudaDevice;
    // the CUDA runtime panics when no driver or device is present: turn that into an error
    let client = std::panic::catch_unwind(|| cubecl::Device::Cuda(CudaDevice::new(0)).client())
        .map_err(|_| "no CUDA driver or device found (is libcuda.so on the library path?)".to_string())?;
    let name = format!("{:?}", client.properties().identity);
    Ok(Gpu { kind: DeviceKind::Cuda, client, name })
}

#[cfg(not(feature = "cuda"))]
fn open_cuda() -> Result<Gpu, String> {
    unreachable!("checked by DeviceKind::compiled")
}
