//! The ask/tell interface every method implements.

/// A parameter set to evaluate.
#[derive(Clone, Debug, PartialEq)]
pub struct Proposal {
    /// Parameter values `[n]`, in the order of the [`Space`], within its bounds.
    pub x: Vec<f64>,
    /// The chain, complex, particle or individual the point belongs to, where the method has one.
    pub chain: Option<usize>,
}

impl Proposal {
    /// A point outside any chain.
    pub fn free(x: Vec<f64>) -> Proposal {
        Proposal { x, chain: None }
    }

    /// A point of chain (complex, particle) `chain`.
    pub fn of(chain: usize, x: Vec<f64>) -> Proposal {
        Proposal { x, chain: Some(chain) }
    }
}

/// A derivative-free method as a state machine.
///
/// The driver alternates [`ask`](Sampler::ask) and [`tell`](Sampler::tell): each `tell` receives the values
/// of the batch the previous `ask` returned, in the same order.
pub trait Sampler {
    /// The method's name as configs spell it (`"sceua"`, `"dream"`, ...).
    fn name(&self) -> &'static str;

    /// The next batch, with at most `remaining` points (`remaining ≥ 1`); `None` when the method has
    /// finished on its own criterion ([`termination`](Sampler::termination) says which).
    fn ask(&mut self, remaining: usize) -> Option<Vec<Proposal>>;

    /// How many objectives the method minimises together: 1 for every single-objective method, `K ≥ 2`
    /// for the multi-objective ones (NSGA-II, PADDS), which are told `K` values per point.
    fn objectives(&self) -> usize {
        1
    }

    /// The values of the last batch asked, `[B, K]` row-major with `K =` [`objectives`](Sampler::objectives)
    /// (`[B]` for a single objective), all to minimise (`+inf` for a failed evaluation).
    fn tell(&mut self, values: &[f64]);

    /// MCMC samplers: whether each point of the last batch told was accepted as its chain's new state.
    fn accepted(&self) -> Option<&[bool]> {
        None
    }

    /// Why the method finished on its own, once `ask` has returned `None`.
    fn termination(&self) -> String {
        "finished".into()
    }
}
