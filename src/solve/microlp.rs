//! microlp: pure-Rust branch and bound, no system dependency. It has no
//! time limit, gap, seed or warm start, and proves optimality or fails; a
//! fallback and a cross-check for small models, not the default.

use super::{guarded, outcome, Backend, Scaling, SolveOptions, SolveOutcome, Status};
use crate::milp::model::{Model, Sense, VarKind};
use microlp::{ComparisonOp, OptimizationDirection, Problem};
use std::time::Instant;

pub struct Microlp;

impl Backend for Microlp {
    fn solve(
        &self,
        model: &Model,
        opts: &SolveOptions,
        _start_cols: &[(usize, f64)],
    ) -> SolveOutcome {
        let start = Instant::now();
        guarded(start, || solve(model, opts, start))
    }
}

fn solve(model: &Model, opts: &SolveOptions, start: Instant) -> SolveOutcome {
    let scaling = Scaling::of(model);
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
    let res = pb.solve();
    let elapsed = start.elapsed().as_secs_f64();
    match res {
        Ok(sol) => {
            let values: Vec<f64> = vars.iter().map(|&v| *sol.var_value(v)).collect();
            // microlp proves optimality: its bound is its incumbent.
            outcome(
                model,
                &scaling,
                opts,
                Status::Optimal,
                None,
                Some(values),
                None,
                elapsed,
                None,
            )
        }
        Err(microlp::Error::Infeasible) => SolveOutcome {
            status: Status::Infeasible,
            ..SolveOutcome::error("", elapsed)
        }
        .without_message(),
        Err(microlp::Error::Unbounded) => SolveOutcome {
            status: Status::Unbounded,
            ..SolveOutcome::error("", elapsed)
        }
        .without_message(),
        Err(e) => SolveOutcome::error(format!("microlp failed: {e}"), elapsed),
    }
}

impl SolveOutcome {
    fn without_message(mut self) -> Self {
        self.message = None;
        self
    }
}
