//! microlp: pure-Rust branch and bound, no system dependency. It has no
//! time limit, gap, seed or warm start, and proves optimality or fails; a
//! fallback and a cross-check for small models, not the default.

use super::{guarded, Backend, SolveOptions, SolveOutcome, Status};
use crate::milp::model::{Model, Sense, VarKind};
use microlp::{ComparisonOp, OptimizationDirection, Problem};
use std::time::Instant;

pub struct Microlp;

impl Backend for Microlp {
    fn solve(
        &self,
        model: &Model,
        _opts: &SolveOptions,
        _start_cols: &[(usize, f64)],
    ) -> SolveOutcome {
        let start = Instant::now();
        guarded(start, || solve(model, start))
    }
}

fn solve(model: &Model, start: Instant) -> SolveOutcome {
    let mut pb = Problem::new(OptimizationDirection::Minimize);
    let vars: Vec<_> = model
        .columns
        .iter()
        .map(|c| match c.kind {
            VarKind::Binary => {
                pb.add_integer_var(c.obj, (c.lb.round() as i32, c.ub.round() as i32))
            }
            VarKind::Continuous => pb.add_var(c.obj, (c.lb, c.ub)),
        })
        .collect();
    for r in &model.rows {
        let expr: Vec<_> = r.terms.iter().map(|&(v, c)| (vars[v.0], c)).collect();
        let op = match r.sense {
            Sense::Le => ComparisonOp::Le,
            Sense::Ge => ComparisonOp::Ge,
            Sense::Eq => ComparisonOp::Eq,
        };
        pb.add_constraint(expr.as_slice(), op, r.rhs);
    }
    let res = pb.solve();
    let elapsed = start.elapsed().as_secs_f64();
    match res {
        Ok(sol) => {
            let values: Vec<f64> = vars.iter().map(|&v| *sol.var_value(v)).collect();
            let obj = model.objective_of(&values);
            SolveOutcome {
                status: Status::Optimal,
                objective: Some(obj),
                best_bound: Some(obj),
                gap: Some(0.0),
                solve_time_s: elapsed,
                limit: None,
                message: None,
                values: Some(values),
            }
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
