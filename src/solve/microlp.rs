//! microlp: pure-Rust simplex and branch and bound, no system dependency;
//! a fallback for builds without the native solvers and a cross-check on
//! small models. It honours a time limit, a relative gap and a starting
//! solution, and reports its best bound; it has no threads or seed. Its
//! search runs in short slices (resumed where they stop), so that progress
//! is shown and a stop request is honoured within a slice.
//!
//! microlp answers `Infeasible` only when its search proves it; a limit
//! that stops the search before any plan is found is `no_solution`.

use super::{guarded, outcome, Backend, Scaling, SolveOptions, SolveOutcome, Status};
use crate::milp::model::{Model, Sense, VarKind};
use microlp::{
    ComparisonOp, OptimizationDirection, Problem, SolutionStatus, TerminationReason, Variable,
};
use std::time::{Duration, Instant};

pub struct Microlp;

impl Backend for Microlp {
    fn solve(
        &self,
        model: &Model,
        opts: &SolveOptions,
        start_cols: &[(usize, f64)],
    ) -> SolveOutcome {
        let start = Instant::now();
        guarded(start, || solve(model, opts, start_cols, start))
    }
}

/// The scaled model as a microlp problem, one microlp variable per column.
fn problem(model: &Model, scaling: &Scaling) -> (Problem, Vec<Variable>) {
    let mut pb = Problem::new(OptimizationDirection::Minimize);
    let vars: Vec<_> = model
        .columns
        .iter()
        .enumerate()
        .map(|(j, c)| {
            let cost = scaling.cost(model, j);
            match c.kind {
                VarKind::Binary => {
                    pb.add_integer_var(cost, (c.lb.round() as i32, c.ub.round() as i32))
                }
                VarKind::Continuous => pb.add_var(cost, (c.lb, c.ub)),
            }
        })
        .collect();
    for (i, r) in model.rows.iter().enumerate() {
        let (terms, rhs) = scaling.row(model, i);
        let expr: Vec<_> = terms.map(|(v, c)| (vars[v], c)).collect();
        let op = match r.sense {
            Sense::Le => ComparisonOp::Le,
            Sense::Ge => ComparisonOp::Ge,
            Sense::Eq => ComparisonOp::Eq,
        };
        pb.add_constraint(expr.as_slice(), op, rhs);
    }
    (pb, vars)
}

/// How long one microlp call runs before control comes back to check the
/// stop flag and report progress; the search is resumed where it stopped.
const SLICE: Duration = Duration::from_millis(200);

/// The budget of the next slice: at most [`SLICE`], never past `deadline`.
fn slice_budget(deadline: Option<Instant>) -> Duration {
    match deadline {
        Some(d) => SLICE.min(d.saturating_duration_since(Instant::now())),
        None => SLICE,
    }
}

/// Why a sliced search came back for good.
enum Ended {
    /// microlp finished: optimal, or within the gap.
    Search,
    /// The user's time limit ran out.
    Time,
    /// A stop was asked for (signal, server cancel, Python interrupt).
    Interrupt,
}

/// microlp's search in slices of [`SLICE`]: between two slices the best
/// plan and bound go to the progress channel and the stop flag is read, so
/// a Ctrl-C stops the search within a slice and keeps its best plan.
fn search(
    pb: &Problem,
    mut options: microlp::SolveOptions,
    time_limit: Option<Duration>,
    start: Instant,
    reporter: &super::progress::Reporter,
) -> Result<(microlp::SolveOutcome, Ended), microlp::Error> {
    let deadline = time_limit.and_then(|t| start.checked_add(t));
    options.time_limit = Some(slice_budget(deadline));
    let gap = options.mip_gap;
    let mut res = pb.solve_with(options)?;
    loop {
        if res.termination_reason() != TerminationReason::TimeLimit {
            return Ok((res, Ended::Search));
        }
        let stats = res.stats();
        reporter.report(super::progress::Raw {
            incumbent: res.solution().map(|s| s.objective()),
            bound: stats.best_bound,
            nodes: Some(stats.nodes_solved),
        });
        if reporter.interrupted() {
            return Ok((res, Ended::Interrupt));
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok((res, Ended::Time));
        }
        let mut next = microlp::ResumeOptions::default();
        next.time_limit = Some(slice_budget(deadline));
        next.mip_gap = (gap > 0.0).then_some(gap);
        res = res.resume_with(next)?;
    }
}

fn solve(
    model: &Model,
    opts: &SolveOptions,
    start_cols: &[(usize, f64)],
    start: Instant,
) -> SolveOutcome {
    let scaling = Scaling::of(model);
    let (pb, vars) = problem(model, &scaling);
    let mut options = microlp::SolveOptions::default();
    if let Some(g) = opts.rel_gap {
        options.mip_gap = g;
    }
    if !start_cols.is_empty() {
        options.warm_start = Some(start_cols.iter().map(|&(i, v)| (vars[i], v)).collect());
    }
    // A budget too long for a Duration counts as none.
    let time_limit = opts
        .time_limit
        .and_then(|s| Duration::try_from_secs_f64(s).ok());
    let reporter =
        super::progress::Reporter::new(&opts.progress, model, &scaling, "microlp", start);
    reporter.start();
    let res = search(&pb, options, time_limit, start, &reporter);
    let elapsed = start.elapsed().as_secs_f64();
    let done = |status, limit, values, bound| {
        let o = outcome(
            model, &scaling, opts, status, limit, values, bound, elapsed, None,
        );
        reporter.end(&o);
        o
    };
    let (res, ended) = match res {
        Ok(r) => r,
        Err(microlp::Error::Infeasible) => return done(Status::Infeasible, None, None, None),
        Err(microlp::Error::Unbounded) => return done(Status::Unbounded, None, None, None),
        Err(e) => {
            let o = SolveOutcome::error(format!("microlp failed: {e}"), elapsed);
            reporter.end(&o);
            return o;
        }
    };
    let bound = res.stats().best_bound;
    let values = res
        .solution()
        .map(|sol| vars.iter().map(|&v| sol.var_value(v)).collect::<Vec<f64>>());
    let (status, limit) = match ended {
        Ended::Interrupt => super::interrupted(values.is_some()),
        Ended::Time => (
            super::stopped(values.is_some(), Status::NoSolution),
            Some("time".to_string()),
        ),
        // No node limit is set, so microlp finished: proven, or within the
        // gap (which it reports as feasible).
        Ended::Search => match res.solution() {
            Some(sol) if sol.status() == SolutionStatus::Optimal => (Status::Optimal, None),
            Some(_) => (Status::Feasible, None),
            None => (Status::NoSolution, None),
        },
    };
    done(status, limit, values, bound)
}
