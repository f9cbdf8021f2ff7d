//! microlp: pure-Rust simplex and branch and bound, no system dependency;
//! a fallback for builds without the native solvers and a cross-check on
//! small models. It honours a time limit, a relative gap and a starting
//! solution, and reports its best bound; it has no threads or seed.
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

fn solve(
    model: &Model,
    opts: &SolveOptions,
    start_cols: &[(usize, f64)],
    start: Instant,
) -> SolveOutcome {
    let scaling = Scaling::of(model);
    let (pb, vars) = problem(model, &scaling);
    let mut options = microlp::SolveOptions::default();
    // A budget too long for a Duration counts as none.
    options.time_limit = opts
        .time_limit
        .and_then(|s| Duration::try_from_secs_f64(s).ok());
    if let Some(g) = opts.rel_gap {
        options.mip_gap = g;
    }
    if !start_cols.is_empty() {
        options.warm_start = Some(start_cols.iter().map(|&(i, v)| (vars[i], v)).collect());
    }
    // microlp has no callback: a start and an end event only.
    let reporter =
        super::progress::Reporter::new(&opts.progress, model, &scaling, "microlp", start);
    reporter.start();
    let res = pb.solve_with(options);
    let elapsed = start.elapsed().as_secs_f64();
    let done = |status, limit, values, bound| {
        let o = outcome(
            model, &scaling, opts, status, limit, values, bound, elapsed, None,
        );
        reporter.end(&o);
        o
    };
    let res = match res {
        Ok(r) => r,
        Err(microlp::Error::Infeasible) => return done(Status::Infeasible, None, None, None),
        Err(microlp::Error::Unbounded) => return done(Status::Unbounded, None, None, None),
        Err(e) => {
            let o = SolveOutcome::error(format!("microlp failed: {e}"), elapsed);
            reporter.end(&o);
            return o;
        }
    };
    let limit = match res.termination_reason() {
        TerminationReason::TimeLimit => Some("time".to_string()),
        TerminationReason::NodeLimit => Some("nodes".to_string()),
        _ => None,
    };
    let bound = res.stats().best_bound;
    match res.solution() {
        Some(sol) => {
            let values: Vec<f64> = vars.iter().map(|&v| sol.var_value(v)).collect();
            let status = match sol.status() {
                SolutionStatus::Optimal => Status::Optimal,
                SolutionStatus::Feasible => Status::Feasible,
            };
            done(status, limit, Some(values), bound)
        }
        None => done(Status::NoSolution, limit, None, None),
    }
}
