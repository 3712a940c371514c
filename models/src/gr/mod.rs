//! GR-family hydrological operators (spec §1) and the structures composed from them.

pub mod ci_adjust;
pub mod exchange;
pub mod gr4;
pub mod interception;
pub mod ode;
pub mod production;
pub mod transfer;
