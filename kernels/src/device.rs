//! Choosing and opening a compute device: the names of `--device` and `[compute] device`.

use std::fmt;

/// Where the model runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeviceKind {
    /// The CPU engine of `hydrograd-models` (rayon, SIMD); needs no GPU crate.
    Cpu,
    /// wgpu on whichever graphics API the machine offers (Vulkan, Metal, DX12).
    Wgpu,
    /// wgpu pinned to Vulkan (SPIR-V kernels).
    Vulkan,
    /// wgpu pinned to Metal.
    Metal,
    /// NVIDIA CUDA (cargo feature `cuda`).
    Cuda,
}

impl DeviceKind {
    pub const ALL: [DeviceKind; 5] =
        [DeviceKind::Cpu, DeviceKind::Wgpu, DeviceKind::Vulkan, DeviceKind::Metal, DeviceKind::Cuda];

    /// The name used on the command line and in configs.
    pub fn name(self) -> &'static str {
        match self {
            DeviceKind::Cpu => "cpu",
            DeviceKind::Wgpu => "wgpu",
            DeviceKind::Vulkan => "vulkan",
            DeviceKind::Metal => "metal",
            DeviceKind::Cuda => "cuda",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The cargo feature this build needs to reach the device.
    pub fn feature(self) -> Option<&'static str> {
        match self {
            DeviceKind::Cpu => None,
            DeviceKind::Wgpu | DeviceKind::Vulkan | DeviceKind::Metal => Some("wgpu"),
            DeviceKind::Cuda => Some("cuda"),
        }
    }

    /// Whether this build can reach the device (it may still be absent from the machine).
    pub fn compiled(self) -> bool {
        match self {
            DeviceKind::Cpu => true,
            DeviceKind::Wgpu | DeviceKind::Vulkan | DeviceKind::Metal => cfg!(feature = "wgpu"),
            DeviceKind::Cuda => cfg!(feature = "cuda"),
        }
    }
}

impl fmt::Display for DeviceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a device cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceError {
    /// The name is not one of [`DeviceKind::ALL`].
    UnknownName(String),
    /// This build was compiled without the device's cargo feature.
    NotCompiled { device: DeviceKind, feature: &'static str },
    /// The machine has no such device, or its driver refused to start.
    Unavailable { device: DeviceKind, reason: String },
    /// The device cannot compute in the requested precision.
    Precision { device: DeviceKind, precision: &'static str },
}

impl fmt::Display for DeviceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceError::UnknownName(name) => {
                let names: Vec<_> = DeviceKind::ALL.iter().map(|k| k.name()).collect();
                write!(f, "unknown device `{name}` (expected one of {})", names.join(", "))
            }
            DeviceError::NotCompiled { device, feature } => write!(
                f,
                "device `{device}` needs hydrograd built with the cargo feature `{feature}` \
                 (cargo build --release --features {feature})"
            ),
            DeviceError::Unavailable { device, reason } => write!(f, "device `{device}` is not available: {reason}"),
            DeviceError::Precision { device, precision } => {
                write!(f, "device `{device}` does not support {precision} arithmetic in its kernels")
            }
        }
    }
}

impl std::error::Error for DeviceError {}

impl std::str::FromStr for DeviceKind {
    type Err = DeviceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DeviceKind::from_name(s).ok_or_else(|| DeviceError::UnknownName(s.to_string()))
    }
}
