//! SCIP through `russcip` (libscip from a SCIP install or the pyscipopt
//! wheel, see build.rs); the dual bound comes from SCIP's C API.

use super::{guarded, outcome, stopped, Backend, Scaling, SolveOptions, SolveOutcome, Status};
use crate::milp::model::{Model, Sense, VarKind};
use russcip::prelude::*;
use russcip::{ffi, ObjSense, ProblemOrSolving, Status as ScipStatus, WithSolutions};
use std::time::Instant;

pub struct Scip;

impl Backend for Scip {
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

fn solve(
    model: &Model,
    opts: &SolveOptions,
    start_cols: &[(usize, f64)],
    start: Instant,
) -> SolveOutcome {
    let mut m = russcip::Model::new()
        .include_default_plugins()
        .create_prob("edgesplit")
        .set_obj_sense(ObjSense::Minimize);
    m = if opts.verbose {
        m.show_output()
    } else {
        m.hide_output()
    };
    let set = |m: russcip::Model<_>, name: &str, v: f64| {
        m.set_real_param(name, v)
            .unwrap_or_else(|_| panic!("SCIP parameter {name}"))
    };
    m = set(m, "numerics/feastol", 1e-9);
    m = set(m, "limits/gap", opts.rel_gap.unwrap_or(1e-9));
    m = set(m, "limits/absgap", 1e-12);
    if let Some(t) = opts.time_limit {
        m = set(m, "limits/time", t);
    }
    if let Some(s) = opts.seed {
        m = m
            .set_int_param(
                "randomization/randomseedshift",
                (s % i32::MAX as u64) as i32,
            )
            .expect("SCIP seed parameter");
    }
    let scaling = Scaling::of(model);
    let vars: Vec<_> = model
        .columns
        .iter()
        .enumerate()
        .map(|(j, c)| {
            let kind = if c.kind == VarKind::Binary {
                VarType::Integer
            } else {
                VarType::Continuous
            };
            m.add_var(c.lb, c.ub, scaling.cost(model, j), &c.name, kind)
        })
        .collect();
    for (i, r) in model.rows.iter().enumerate() {
        let (terms, b) = scaling.row(model, i);
        let (vs, cs): (Vec<&russcip::Variable>, Vec<f64>) =
            terms.map(|(v, c)| (&vars[v], c)).unzip();
        let (lhs, rhs) = match r.sense {
            Sense::Le => (f64::NEG_INFINITY, b),
            Sense::Ge => (b, f64::INFINITY),
            Sense::Eq => (b, b),
        };
        m.add_cons(vs, &cs, lhs, rhs, &r.name);
    }
    if !start_cols.is_empty() {
        // A partial solution: SCIP's completesol heuristic fills in the
        // continuous columns. A rejected start is not an error.
        let sol = m.create_partial_sol();
        for &(i, v) in start_cols {
            sol.set_val(&vars[i], v);
        }
        let _ = m.add_sol(sol);
    }
    let solved = m.solve();
    let elapsed = start.elapsed().as_secs_f64();
    let st = solved.status();
    let values: Option<Vec<f64>> = solved
        .best_sol()
        .map(|s| vars.iter().map(|v| s.val(v)).collect());
    let has_sol = values.is_some();
    // SAFETY: the pointer is the live SCIP instance owned by `solved`.
    let dual = unsafe { ffi::SCIPgetDualbound(solved.scip_ptr()) };
    let (status, limit) = match st {
        ScipStatus::Optimal | ScipStatus::GapLimit => (
            Status::Optimal,
            (st == ScipStatus::GapLimit).then(|| "gap".to_string()),
        ),
        // Every edgesplit model is bounded below (its objective is a
        // non-negative combination of bounded totals), so "infeasible or
        // unbounded" means infeasible.
        ScipStatus::Inforunbd | ScipStatus::Infeasible => (Status::Infeasible, None),
        ScipStatus::Unbounded => (Status::Unbounded, None),
        ScipStatus::TimeLimit => (stopped(has_sol, Status::NoSolution), Some("time".into())),
        other => (stopped(has_sol, Status::Error), Some(format!("{other:?}"))),
    };
    let bound = Some(dual).filter(|d| d.abs() < 1e20);
    let message = (status == Status::Error).then(|| format!("SCIP ended with {st:?}"));
    outcome(
        model, &scaling, opts, status, limit, values, bound, elapsed, message,
    )
}
