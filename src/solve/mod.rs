//! Backends: one trait, one file per solver, chosen by name at run time.
//!
//! Every backend takes the same [`Model`] and [`SolveOptions`] and returns
//! the same [`SolveOutcome`]: status, incumbent, best bound, gap, time.

#[cfg(feature = "cbc")]
mod cbc;
pub mod diagnose;
#[cfg(feature = "highs")]
mod highs;
pub mod isolate;
#[cfg(feature = "microlp")]
mod microlp;
pub mod run;
#[cfg(feature = "scip")]
mod scip;
pub mod sweep;

#[cfg(feature = "highs")]
pub use highs::root_bound;
pub use run::{solve_instance, SolveReport};

use crate::milp::model::Model;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Options common to every backend; a backend that lacks one says so in
/// [`BackendKind::capabilities`] and ignores it.
#[derive(Debug, Clone, Default)]
pub struct SolveOptions {
    /// Wall-clock limit in seconds.
    pub time_limit: Option<f64>,
    /// Relative MIP gap at which to stop.
    pub rel_gap: Option<f64>,
    /// Threads.
    pub threads: Option<u32>,
    /// Print the solver's log.
    pub verbose: bool,
    /// Random seed.
    pub seed: Option<u64>,
    /// A starting solution as a plan: its y, z and q are handed to the
    /// backend, which completes the continuous columns itself.
    pub initial: Option<crate::plan::Plan>,
}

/// How a solve ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Status {
    /// Proven optimal within the gap tolerance.
    Optimal,
    /// A limit stopped the solve with a feasible incumbent.
    Feasible,
    /// A limit stopped the solve before any feasible solution was found.
    NoSolution,
    /// Proven infeasible.
    Infeasible,
    /// Unbounded (cannot happen for a valid instance; reported if seen).
    Unbounded,
    /// The backend failed; see the message.
    Error,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = serde_json::to_value(self).expect("status serializes");
        f.write_str(s.as_str().unwrap_or("?"))
    }
}

/// The result of one backend solve, reported the same way by every backend.
#[derive(Debug, Clone, Serialize)]
pub struct SolveOutcome {
    /// How it ended.
    pub status: Status,
    /// Objective of the incumbent.
    pub objective: Option<f64>,
    /// Best proven lower bound.
    pub best_bound: Option<f64>,
    /// Relative gap |obj − bound| / max(|obj|, 1e-10), computed the same way for every backend.
    pub gap: Option<f64>,
    /// Seconds in the backend.
    pub solve_time_s: f64,
    /// Which limit stopped it (`time`), if any.
    pub limit: Option<String>,
    /// Backend messages (errors, why a solve failed).
    pub message: Option<String>,
    /// Column values of the incumbent.
    #[serde(skip)]
    pub values: Option<Vec<f64>>,
}

impl SolveOutcome {
    /// An error outcome.
    pub fn error(message: impl Into<String>, solve_time_s: f64) -> SolveOutcome {
        SolveOutcome {
            status: Status::Error,
            objective: None,
            best_bound: None,
            gap: None,
            solve_time_s,
            limit: None,
            message: Some(message.into()),
            values: None,
        }
    }
}

/// A MILP solver.
pub trait Backend {
    /// Solves `model`, starting from the column values `start` (sparse,
    /// possibly empty) where the backend takes a start. Never panics for a
    /// model it accepts: failures are [`Status::Error`] outcomes.
    fn solve(&self, model: &Model, opts: &SolveOptions, start: &[(usize, f64)]) -> SolveOutcome;
}

/// The backends this build may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// HiGHS (default).
    Highs,
    /// COIN-OR CBC.
    Cbc,
    /// SCIP.
    Scip,
    /// microlp, pure Rust.
    Microlp,
}

/// What a backend supports.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Capabilities {
    /// Honours a time limit.
    pub time_limit: bool,
    /// Honours a relative gap.
    pub rel_gap: bool,
    /// Uses several threads.
    pub threads: bool,
    /// Takes a random seed.
    pub seed: bool,
    /// Takes a starting solution.
    pub warm_start: bool,
    /// Reports a best bound while stopped at a limit.
    pub bound: bool,
}

impl BackendKind {
    /// Every backend edgesplit knows, built in or not.
    pub const ALL: [BackendKind; 4] = [
        BackendKind::Highs,
        BackendKind::Cbc,
        BackendKind::Scip,
        BackendKind::Microlp,
    ];

    /// Name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            BackendKind::Highs => "highs",
            BackendKind::Cbc => "cbc",
            BackendKind::Scip => "scip",
            BackendKind::Microlp => "microlp",
        }
    }

    /// Whether this build includes it (cargo feature of the same name).
    pub fn available(self) -> bool {
        match self {
            BackendKind::Highs => cfg!(feature = "highs"),
            BackendKind::Cbc => cfg!(feature = "cbc"),
            BackendKind::Scip => cfg!(feature = "scip"),
            BackendKind::Microlp => cfg!(feature = "microlp"),
        }
    }

    /// The backends built in.
    pub fn built_in() -> Vec<BackendKind> {
        Self::ALL.into_iter().filter(|b| b.available()).collect()
    }

    /// What the backend supports.
    pub fn capabilities(self) -> Capabilities {
        let full = Capabilities {
            time_limit: true,
            rel_gap: true,
            threads: true,
            seed: true,
            warm_start: true,
            bound: true,
        };
        match self {
            BackendKind::Highs => full,
            // SCIP's sequential solver: one thread.
            BackendKind::Scip => Capabilities {
                threads: false,
                ..full
            },
            // CBC from Debian is built without threads support in its C API.
            BackendKind::Cbc => Capabilities {
                threads: false,
                ..full
            },
            BackendKind::Microlp => Capabilities {
                time_limit: false,
                rel_gap: false,
                threads: false,
                seed: false,
                warm_start: false,
                bound: false,
            },
        }
    }

    /// The backend, or an error naming the built-in ones.
    pub fn backend(self) -> Result<Box<dyn Backend>, String> {
        match self {
            #[cfg(feature = "highs")]
            BackendKind::Highs => Ok(Box::new(highs::Highs)),
            #[cfg(feature = "cbc")]
            BackendKind::Cbc => Ok(Box::new(cbc::Cbc)),
            #[cfg(feature = "scip")]
            BackendKind::Scip => Ok(Box::new(scip::Scip)),
            #[cfg(feature = "microlp")]
            BackendKind::Microlp => Ok(Box::new(microlp::Microlp)),
            #[allow(unreachable_patterns)]
            other => Err(format!(
                "solver '{}' is not built in (cargo feature `{}`); this build has: {}",
                other.name(),
                other.name(),
                names(&Self::built_in())
            )),
        }
    }
}

fn names(kinds: &[BackendKind]) -> String {
    if kinds.is_empty() {
        return "none".into();
    }
    kinds
        .iter()
        .map(|k| k.name())
        .collect::<Vec<_>>()
        .join(", ")
}

impl FromStr for BackendKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|k| k.name() == s.to_ascii_lowercase())
            .ok_or_else(|| {
                format!(
                    "unknown solver '{s}': expected one of {}",
                    names(&Self::ALL)
                )
            })
    }
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Runs `f` and turns a panic inside the backend into an error outcome.
pub(crate) fn guarded(start: std::time::Instant, f: impl FnOnce() -> SolveOutcome) -> SolveOutcome {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(o) => o,
        Err(p) => {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown panic".into());
            SolveOutcome::error(
                format!("backend panicked: {msg}"),
                start.elapsed().as_secs_f64(),
            )
        }
    }
}

/// Assembles an outcome the same way for every backend: the incumbent's
/// objective is computed from the model itself, the bound (including the
/// objective constant) is kept only when there is a solution and is
/// clamped to the incumbent (solvers round), and the gap follows from both.
pub(crate) fn outcome(
    model: &Model,
    status: Status,
    limit: Option<String>,
    values: Option<Vec<f64>>,
    bound: Option<f64>,
    elapsed: f64,
    message: Option<String>,
) -> SolveOutcome {
    let solved = matches!(status, Status::Optimal | Status::Feasible);
    let values = values.filter(|v| solved && v.len() == model.columns.len());
    let objective = values.as_ref().map(|v| model.objective_of(v));
    let bound = bound.filter(|b| solved && b.is_finite() && b.abs() < 1e20);
    let bound = match (bound, objective) {
        (Some(b), Some(o)) => Some(b.min(o)),
        (None, Some(o)) if status == Status::Optimal => Some(o),
        (b, _) => b,
    };
    SolveOutcome {
        status,
        objective,
        best_bound: bound,
        gap: objective.zip(bound).map(|(o, b)| rel_gap(o, b)),
        solve_time_s: elapsed,
        limit,
        message,
        values,
    }
}

/// Status of a solve a limit stopped: feasible with an incumbent, else
/// `otherwise`.
pub(crate) fn stopped(has_solution: bool, otherwise: Status) -> Status {
    if has_solution {
        Status::Feasible
    } else {
        otherwise
    }
}

/// Relative gap as reported uniformly: |obj − bound| / max(|obj|, 1e-10).
pub fn rel_gap(obj: f64, bound: f64) -> f64 {
    (obj - bound).abs() / obj.abs().max(1e-10)
}
