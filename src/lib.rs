//! edgesplit: joint atom selection, placement and quantization of DNNs
//! across a device–edge–cloud continuum.
//!
//! Data flows one way: an instance file is loaded and validated into an
//! [`instance::Instance`]; a plan (from a heuristic, a reference method or a
//! solver) is checked and scored by [`eval::evaluate`], the single source of
//! truth for every metric.
#![deny(missing_docs)]

pub mod bench;
pub mod dnn;
pub mod draw;
pub mod error;
pub mod eval;
pub mod generate;
pub mod heuristic;
pub mod info;
pub mod instance;
pub mod interrupt;
pub mod milp;
pub mod network;
pub mod noise;
pub mod onnx;
pub mod pipeline;
pub mod plan;
pub mod plot;
pub mod reference;
pub mod scenario;
#[cfg(feature = "server")]
pub mod server;
pub mod solve;
pub mod table;

pub use error::{Diagnostics, Error, Problem, Result};
pub use instance::{load, Instance};
pub use plan::Plan;
