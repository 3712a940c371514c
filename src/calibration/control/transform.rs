//! The bijection between a control's physical value and the optimizer's space (smash's `control_tfm`,
//! spec §5).

/// The transform between physical values and the optimizer's space (smash's `control_tfm`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ControlTfm {
    /// `asinh` when the lower bound is negative, `logit` for bounds inside [0, 1], else `ln`.
    Sbs,
    /// `(x − l)/(u − l)`.
    Normalize,
    /// The physical value itself.
    Keep,
}

impl ControlTfm {
    pub fn name(self) -> &'static str {
        match self {
            ControlTfm::Sbs => "sbs",
            ControlTfm::Normalize => "normalize",
            ControlTfm::Keep => "keep",
        }
    }
}

/// The transform of one control entry with its physical bounds `(l, u)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Transform {
    Asinh,
    Logit,
    Log,
    Normalize { l: f64, u: f64 },
    Identity,
}

impl Transform {
    pub(super) fn of(tfm: ControlTfm, (l, u): (f64, f64)) -> Transform {
        match tfm {
            ControlTfm::Sbs if l < 0.0 => Transform::Asinh,
            ControlTfm::Sbs if u <= 1.0 => Transform::Logit,
            ControlTfm::Sbs => Transform::Log,
            ControlTfm::Normalize => Transform::Normalize { l, u },
            ControlTfm::Keep => Transform::Identity,
        }
    }

    /// Physical value → control.
    pub(super) fn forward(self, v: f64) -> f64 {
        match self {
            Transform::Asinh => v.asinh(),
            Transform::Logit => (v / (1.0 - v)).ln(),
            Transform::Log => v.ln(),
            Transform::Normalize { l, u } => (v - l) / (u - l),
            Transform::Identity => v,
        }
    }

    /// Control → physical value.
    pub(super) fn inverse(self, x: f64) -> f64 {
        match self {
            Transform::Asinh => x.sinh(),
            Transform::Logit => 1.0 / (1.0 + (-x).exp()),
            Transform::Log => x.exp(),
            Transform::Normalize { l, u } => l + x * (u - l),
            Transform::Identity => x,
        }
    }

    /// d(physical)/d(control) at control `x`.
    pub(super) fn derivative(self, x: f64) -> f64 {
        match self {
            Transform::Asinh => x.cosh(),
            Transform::Logit => {
                let s = 1.0 / (1.0 + (-x).exp());
                s * (1.0 - s)
            }
            Transform::Log => x.exp(),
            Transform::Normalize { l, u } => u - l,
            Transform::Identity => 1.0,
        }
    }
}
