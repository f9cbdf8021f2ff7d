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
pub mod progress;
pub mod run;
#[cfg(feature = "scip")]
mod scip;
pub mod sweep;

#[cfg(feature = "highs")]
pub use highs::root_bound;
pub use progress::{Progress, ProgressEvent, ProgressKind, ProgressSink};
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
    /// Relative MIP gap at which to stop; also the largest gap (from the
    /// bound and the evaluator's objective) a solve may have and still be
    /// reported `optimal` ([`DEFAULT_GAP`] when unset).
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
    /// Where the backend reports while it solves, and the flag that asks
    /// it to stop (see [`progress`]).
    pub progress: Progress,
}

/// How a solve ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Status {
    /// Proven optimal by the backend, and the gap from its bound to the
    /// evaluated objective within the requested gap.
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
    /// Stopped on request (a signal, a cancelled job) with a feasible
    /// incumbent: the best plan found so far, with its gap.
    Interrupted,
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
    /// Relative gap max(obj − bound, 0) / [`magnitude`], computed the same
    /// way for every backend.
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
    /// The scaling the backend applied (none for an outcome that never
    /// reached a backend).
    pub scaling: Option<ScalingReport>,
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
            scaling: None,
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
            // microlp: one thread, deterministic, no seed.
            BackendKind::Microlp => Capabilities {
                threads: false,
                seed: false,
                ..full
            },
        }
    }

    /// The options of `opts` this backend does not use, each with why:
    /// the command line warns about them rather than ignore them silently.
    pub fn ignored_options(self, opts: &SolveOptions) -> Vec<String> {
        let c = self.capabilities();
        let mut out = Vec::new();
        if opts.threads.is_some_and(|t| t > 1) && !c.threads {
            out.push(format!("--threads: {self} solves on one thread"));
        }
        if opts.seed.is_some() && !c.seed {
            out.push(format!("--seed: {self} is deterministic and takes no seed"));
        }
        if opts.time_limit.is_some() && !c.time_limit {
            out.push(format!("--time-limit: {self} has no time limit"));
        }
        if opts.rel_gap.is_some() && !c.rel_gap {
            out.push(format!("--gap: {self} solves to its own tolerance"));
        }
        if opts.initial.is_some() && !c.warm_start {
            out.push(format!("--warm-start: {self} takes no starting plan"));
        }
        out
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

/// Relative gap at which a solve counts as optimal when the caller asked
/// for none (the backends themselves then run to a gap of 1e-9).
pub const DEFAULT_GAP: f64 = 1e-4;

/// Part of the largest objective coefficient below which an objective is
/// taken as zero when gaps and agreement are measured (see [`magnitude`]).
pub const MAGNITUDE_FLOOR: f64 = 1e-6;

/// The largest scaled objective coefficient a hint may produce.
pub const OBJECTIVE_RANGE: f64 = 1e6;

/// How a backend hands the model to its solver: the objective divided by
/// `objective` and row i multiplied by `rows[i]`, every factor a power of
/// two (so scaling and unscaling are exact in floating point). The model
/// itself, its plan and every reported value stay in the instance's units.
#[derive(Debug, Clone)]
pub struct Scaling {
    /// The objective's divisor, a power of two (1 for an all-zero
    /// objective); see [`Scaling::of`].
    pub objective: f64,
    /// The largest objective coefficient's magnitude itself.
    pub largest_cost: f64,
    /// Row multipliers: each row's largest coefficient magnitude brought
    /// to the power of two nearest 1.
    pub rows: Vec<f64>,
}

/// What a report says about the scaling a backend applied.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ScalingReport {
    /// The objective was divided by this before the backend saw it.
    pub objective: f64,
    /// Rows multiplied by a factor other than 1.
    pub rows_scaled: usize,
    /// Smallest and largest row factor.
    pub row_factor_range: [f64; 2],
}

/// The power of two nearest `x` (> 0, finite), else 1.
fn pow2_near(x: f64) -> f64 {
    if x > 0.0 && x.is_finite() {
        2f64.powi(x.log2().round() as i32)
    } else {
        1.0
    }
}

impl Scaling {
    /// The scaling of `model`. The objective divisor is the power of two
    /// nearest the model's `objective_hint` (the size of a reference
    /// plan's objective) when it has one, kept within [largest / 1e6,
    /// largest] so that no coefficient grows beyond 1e6; without a hint,
    /// the largest coefficient itself.
    pub fn of(model: &Model) -> Scaling {
        let largest = model
            .columns
            .iter()
            .map(|c| c.obj.abs())
            .fold(0.0, f64::max);
        let target = match model.objective_hint {
            Some(h) if h > 0.0 && h.is_finite() && largest > 0.0 => {
                h.clamp(largest * OBJECTIVE_RANGE.recip(), largest)
            }
            _ => largest,
        };
        let rows = model
            .rows
            .iter()
            .map(|r| {
                let m = r.terms.iter().map(|t| t.1.abs()).fold(0.0, f64::max);
                1.0 / pow2_near(m)
            })
            .collect();
        Scaling {
            objective: pow2_near(target),
            largest_cost: largest,
            rows,
        }
    }

    /// Objective coefficient of column `j` as the solver sees it.
    pub fn cost(&self, model: &Model, j: usize) -> f64 {
        model.columns[j].obj / self.objective
    }

    /// Row `i`'s terms and right-hand side as the solver sees them.
    pub fn row<'m>(
        &self,
        model: &'m Model,
        i: usize,
    ) -> (impl Iterator<Item = (usize, f64)> + 'm, f64) {
        let f = self.rows[i];
        let r = &model.rows[i];
        (r.terms.iter().map(move |&(v, c)| (v.0, c * f)), r.rhs * f)
    }

    /// A bound on the solver's objective, in the model's units.
    pub fn unscale(&self, model: &Model, solver_value: f64) -> f64 {
        solver_value * self.objective + model.obj_constant
    }

    /// The summary a report carries.
    pub fn report(&self) -> ScalingReport {
        let scaled = self.rows.iter().filter(|&&f| f != 1.0).count();
        let lo = self.rows.iter().copied().fold(1.0, f64::min);
        let hi = self.rows.iter().copied().fold(1.0, f64::max);
        ScalingReport {
            objective: self.objective,
            rows_scaled: scaled,
            row_factor_range: [lo, hi],
        }
    }
}

/// The size an objective value `obj` is measured against: the larger of
/// |obj| and |obj − constant| (the sum the solver actually minimizes),
/// and at least [`MAGNITUDE_FLOOR`] times the largest objective
/// coefficient `coef_scale`, so that an optimum of zero has a scale too.
pub fn magnitude(obj: f64, constant: f64, coef_scale: f64) -> f64 {
    obj.abs()
        .max((obj - constant).abs())
        .max(MAGNITUDE_FLOOR * coef_scale)
        .max(f64::MIN_POSITIVE)
}

/// Relative gap as reported uniformly: max(obj − bound, 0) / magnitude.
pub fn rel_gap(obj: f64, bound: f64, magnitude: f64) -> f64 {
    (obj - bound).max(0.0) / magnitude
}

/// Assembles an outcome the same way for every backend: the incumbent's
/// objective is computed from the model itself, the solver's bound is
/// unscaled (objective constant included) and kept only when there is a
/// solution, clamped to the incumbent (solvers round), and the gap follows
/// from both. An `optimal` whose gap exceeds the requested one (or
/// [`DEFAULT_GAP`]) becomes `feasible`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn outcome(
    model: &Model,
    scaling: &Scaling,
    opts: &SolveOptions,
    status: Status,
    limit: Option<String>,
    values: Option<Vec<f64>>,
    solver_bound: Option<f64>,
    elapsed: f64,
    message: Option<String>,
) -> SolveOutcome {
    let solved = matches!(
        status,
        Status::Optimal | Status::Feasible | Status::Interrupted
    );
    let values = values.filter(|v| solved && v.len() == model.columns.len());
    let objective = values.as_ref().map(|v| model.objective_of(v));
    let bound = solver_bound
        .filter(|b| solved && b.is_finite() && b.abs() < 1e20)
        .map(|b| scaling.unscale(model, b));
    let bound = match (bound, objective) {
        (Some(b), Some(o)) => Some(b.min(o)),
        (None, Some(o)) if status == Status::Optimal => Some(o),
        (b, _) => b,
    };
    let coef_scale = scaling.largest_cost;
    let gap = objective
        .zip(bound)
        .map(|(o, b)| rel_gap(o, b, magnitude(o, model.obj_constant, coef_scale)));
    let mut status = status;
    let mut message = message;
    let wanted = opts.rel_gap.unwrap_or(DEFAULT_GAP);
    if status == Status::Optimal && gap.is_some_and(|g| g > wanted) {
        status = Status::Feasible;
        message = Some(format!(
            "the backend reported optimal, but its bound leaves a gap of {:e} > {wanted:e}",
            gap.unwrap_or_default()
        ));
    }
    SolveOutcome {
        status,
        objective,
        best_bound: bound,
        gap,
        solve_time_s: elapsed,
        limit,
        message,
        values,
        scaling: Some(scaling.report()),
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

/// Status of a solve stopped on request: `interrupted` with an incumbent,
/// else `no_solution`; the limit is `interrupt` either way.
pub(crate) fn interrupted(has_solution: bool) -> (Status, Option<String>) {
    let st = if has_solution {
        Status::Interrupted
    } else {
        Status::NoSolution
    };
    (st, Some("interrupt".to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// min x, x in [0, 10]: the objective is x itself.
    fn model() -> Model {
        let mut m = Model::default();
        let x = m.continuous("x".into(), 0.0, 10.0);
        m.add_objective(&[(x, 1.0)], 1.0);
        m
    }

    fn claimed_optimal(opts: &SolveOptions, bound: f64) -> SolveOutcome {
        let m = model();
        let s = Scaling::of(&m);
        assert_eq!(s.objective, 1.0);
        outcome(
            &m,
            &s,
            opts,
            Status::Optimal,
            None,
            Some(vec![1.0]),
            Some(bound),
            0.0,
            None,
        )
    }

    #[test]
    fn a_backend_optimal_one_percent_from_its_bound_becomes_feasible() {
        let o = claimed_optimal(&SolveOptions::default(), 0.99);
        assert_eq!(o.status, Status::Feasible);
        assert_eq!(o.objective, Some(1.0));
        assert_eq!(o.best_bound, Some(0.99));
        assert!((o.gap.unwrap() - 0.01).abs() < 1e-12);
        assert!(o.message.unwrap().contains("reported optimal"));
        // Within the requested gap it stays optimal ...
        let loose = SolveOptions {
            rel_gap: Some(0.05),
            ..SolveOptions::default()
        };
        assert_eq!(claimed_optimal(&loose, 0.99).status, Status::Optimal);
        // ... and so does a bound that meets the incumbent.
        let o = claimed_optimal(&SolveOptions::default(), 1.0);
        assert_eq!(o.status, Status::Optimal);
        assert_eq!(o.gap, Some(0.0));
    }
}
