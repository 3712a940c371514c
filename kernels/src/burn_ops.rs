//! The GPU engine as a burn backend extension: [`discharge`] maps a burn tensor of parameters to the
//! discharge at the outlets, and burn's autodiff differentiates through it with the engine's exact
//! adjoint (a custom [`Backward`]), so mappings, networks, losses and burn's optimizers written with
//! burn tensors train through the hydrology without the time loop ever being on burn's tape.
//!
//! The operation runs on every cubecl runtime burn has (`Cube`: wgpu, CUDA, ROCm); its backward pass
//! replays the forward run from the parameters (checkpointing at the operation's boundary).
//! Parameters and discharge cross the host once per call (`P·S·N` and `S·T·G` values, small next to
//! the run).

use crate::DeviceKind;
use crate::engine::{GpuFloat, GpuModel, GpuOptions};
use crate::gpu::Gpu;
use burn::backend::{Backend, Dispatch, backend_extension, tensor::FloatTensor};
use burn::tensor::{DType, Shape, Tensor};
use burn_autodiff::Autodiff;
use burn_autodiff::checkpoint::{base::Checkpointer, strategy::CheckpointStrategy};
use burn_autodiff::grads::Gradients;
use burn_autodiff::ops::{Backward, Ops, OpsKind, unary};
use burn_cubecl::CubeBackend;
use burn_cubecl::tensor::CubeTensor;
use hydrograd_models::network::RoutingNetwork;
use hydrograd_models::simulation::{Batch, Forcing, Setup};
use hydrograd_models::structure::Structure;
use std::fmt;
use std::sync::Arc;

/// What the discharge is computed on: structure, network, outlets, time step and forcing (owned, so
/// that it can live in burn's graph).
#[derive(Clone)]
pub struct Catchment(Arc<CatchmentData>);

/// The contents of a [`Catchment`].
pub struct CatchmentData {
    pub structure: Structure,
    pub network: RoutingNetwork,
    /// Cells whose discharge is returned, `[G]`.
    pub outlets: Vec<usize>,
    /// Time step \[s\].
    pub dt: f64,
    pub ntime: usize,
    /// Forcing \[mm/dt\], `[T, N]` time-major.
    pub prcp: Vec<f32>,
    pub pet: Vec<f32>,
}

impl Catchment {
    pub fn new(data: CatchmentData) -> Catchment {
        Catchment(Arc::new(data))
    }

    pub fn data(&self) -> &CatchmentData {
        &self.0
    }
}

impl fmt::Debug for Catchment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = &self.0;
        write!(f, "Catchment({}, {} cells, {} steps)", d.structure.name(), d.network.len(), d.ntime)
    }
}

/// The hydrological operations of a burn backend.
#[backend_extension(Cube, Autodiff)]
pub trait HydroOps: Backend {
    /// Discharge at the outlets `[S, T, G]` \[m³/s\] of the parameter sets `[P, S, N]` run from the
    /// initial states `[K, S, N]`.
    fn gr_discharge(
        parameters: FloatTensor<Self>,
        states: FloatTensor<Self>,
        catchment: Catchment,
    ) -> FloatTensor<Self>;

    /// `∂(Σ cotangent·Q)/∂parameters`, `[P, S, N]`, for a cotangent of the discharge `[S, T, G]`.
    fn gr_discharge_vjp(
        parameters: FloatTensor<Self>,
        states: FloatTensor<Self>,
        cotangent: FloatTensor<Self>,
        catchment: Catchment,
    ) -> FloatTensor<Self>;
}

/// Discharge at the outlets `[S, T, G]` of `parameters` `[P, S, N]` from `states` `[K, S, N]`,
/// differentiable with respect to the parameters on an autodiff device.
pub fn discharge(parameters: Tensor<3>, states: Tensor<3>, catchment: &Catchment) -> Tensor<3> {
    Tensor::from_dispatch(<Dispatch as HydroOps>::gr_discharge(
        parameters.into_dispatch(),
        states.into_dispatch(),
        catchment.clone(),
    ))
}

/// The values of a tensor on the host.
fn host<T: GpuFloat>(tensor: CubeTensor) -> Vec<T> {
    let tensor = burn_cubecl::kernel::into_contiguous(tensor);
    let n = tensor.meta.shape().num_elements();
    let bytes = tensor.client.read_one_unchecked(tensor.handle.clone());
    T::from_bytes(&bytes)[..n].to_vec()
}

/// A contiguous tensor of `values` on `like`'s device.
fn device_tensor<T: GpuFloat>(like: &CubeTensor, values: &[T], shape: Shape) -> CubeTensor {
    let handle = like.client.create_from_slice(T::as_bytes(values));
    CubeTensor::new_contiguous(like.client.clone(), like.device.clone(), shape, handle, like.dtype)
}

/// The batch of `parameters` `[P, S, N]` and `states` `[K, S, N]`.
fn batch<T: GpuFloat>(parameters: CubeTensor, states: CubeTensor) -> Batch<T> {
    let shape = parameters.meta.shape().clone();
    let (nset, ncell) = (shape[1], shape[2]);
    Batch { nset, ncell, parameters: host(parameters), states: host(states), weights: Vec::new() }
}

/// Runs `f` on a [`GpuModel`] of `catchment` on `like`'s device, in `T`'s precision.
fn with_model<T: GpuFloat, R>(like: &CubeTensor, catchment: &Catchment, f: impl FnOnce(&GpuModel<'_, T>) -> R) -> R {
    let d = catchment.data();
    let cast = |v: &[f32]| v.iter().map(|&x| T::from_f64(x as f64)).collect::<Vec<T>>();
    let (prcp, pet) = (cast(&d.prcp), cast(&d.pet));
    let gpu = Gpu { kind: DeviceKind::Wgpu, client: like.client.clone(), name: "burn device".into() };
    let setup = Setup { structure: d.structure, network: &d.network, dt: d.dt, outlets: &d.outlets };
    let forcing = Forcing { ntime: d.ntime, prcp: &prcp, pet: &pet };
    let model =
        GpuModel::new(&gpu, setup, forcing, &GpuOptions::default()).unwrap_or_else(|e| panic!("gr_discharge: {e}"));
    f(&model)
}

fn forward_as<T: GpuFloat>(parameters: CubeTensor, states: CubeTensor, catchment: &Catchment) -> CubeTensor {
    let like = parameters.clone();
    let mut batch = batch::<T>(parameters, states);
    let q =
        with_model::<T, _>(&like, catchment, |m| m.forward(&mut batch)).unwrap_or_else(|e| panic!("gr_discharge: {e}"));
    let shape = Shape::new([batch.nset, catchment.data().ntime, catchment.data().outlets.len()]);
    device_tensor(&like, &q, shape)
}

fn vjp_as<T: GpuFloat>(
    parameters: CubeTensor,
    states: CubeTensor,
    cotangent: CubeTensor,
    catchment: &Catchment,
) -> CubeTensor {
    let like = parameters.clone();
    let shape = parameters.meta.shape().clone();
    let batch = batch::<T>(parameters, states);
    let cotangent = host::<T>(cotangent);
    let g = with_model::<T, _>(&like, catchment, |m| m.gradient(&batch, |_| cotangent))
        .unwrap_or_else(|e| panic!("gr_discharge_vjp: {e}"));
    device_tensor(&like, &g.parameters, shape)
}

impl HydroOps for CubeBackend {
    fn gr_discharge(parameters: CubeTensor, states: CubeTensor, catchment: Catchment) -> CubeTensor {
        match parameters.dtype {
            DType::F64 => forward_as::<f64>(parameters, states, &catchment),
            _ => forward_as::<f32>(parameters, states, &catchment),
        }
    }

    fn gr_discharge_vjp(
        parameters: CubeTensor,
        states: CubeTensor,
        cotangent: CubeTensor,
        catchment: Catchment,
    ) -> CubeTensor {
        match parameters.dtype {
            DType::F64 => vjp_as::<f64>(parameters, states, cotangent, &catchment),
            _ => vjp_as::<f32>(parameters, states, cotangent, &catchment),
        }
    }
}

impl<B: Backend + HydroOps, C: CheckpointStrategy> HydroOps for Autodiff<B, C> {
    fn gr_discharge(
        parameters: FloatTensor<Self>,
        states: FloatTensor<Self>,
        catchment: Catchment,
    ) -> FloatTensor<Self> {
        #[derive(Debug)]
        struct Discharge;

        impl<B: Backend + HydroOps> Backward<B, 1> for Discharge {
            type State = (FloatTensor<B>, FloatTensor<B>, Catchment);

            fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _checkpointer: &mut Checkpointer) {
                let (parameters, states, catchment) = ops.state;
                unary::<B, _>(ops.parents, ops.node, grads, |cotangent| {
                    B::gr_discharge_vjp(parameters, states, cotangent, catchment)
                });
            }
        }

        let guard = parameters.node();
        let (parameters, states) = (parameters.into_primitive(), states.into_primitive());
        let q = B::gr_discharge(parameters.clone(), states.clone(), catchment.clone());
        match Discharge.prepare::<C>([guard]).compute_bound().stateful() {
            OpsKind::Tracked(prep) => prep.finish((parameters, states, catchment), q),
            OpsKind::UnTracked(prep) => prep.finish(q),
        }
    }

    fn gr_discharge_vjp(
        _parameters: FloatTensor<Self>,
        _states: FloatTensor<Self>,
        _cotangent: FloatTensor<Self>,
        _catchment: Catchment,
    ) -> FloatTensor<Self> {
        panic!("gr_discharge_vjp is the backward pass of gr_discharge: second derivatives are not available")
    }
}
