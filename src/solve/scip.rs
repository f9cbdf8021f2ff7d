//! SCIP through `russcip` (libscip from a SCIP install or the pyscipopt
//! wheel, see build.rs); the dual bound comes from SCIP's C API.

use super::progress::{Raw, Reporter, StdoutRedirect};
use super::{
    guarded, interrupted, outcome, stopped, Backend, Scaling, SolveOptions, SolveOutcome, Status,
};
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
    // Signals are this program's to handle (crate::interrupt), which stops
    // the solve through the event handler.
    m = m
        .set_bool_param("misc/catchctrlc", false)
        .expect("SCIP parameter misc/catchctrlc");
    // A tight feasibility tolerance keeps the MILP's objective within the
    // evaluator's tolerance of the evaluated plan; SCIP's zero tolerance
    // must stay well below it: with both at 1e-9, SCIP called a feasible
    // instance infeasible (tests/exactness.rs, seed 676854).
    m = set(m, "numerics/epsilon", 1e-11);
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
    let reporter = Reporter::new(&opts.progress, model, &scaling, "scip", start);
    m.include_eventhdlr(
        "edgesplit_progress",
        "reports progress and stops on request",
        Box::new(Events {
            reporter: reporter.clone(),
            last: None,
        }),
    );
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
    reporter.start();
    // With --verbose the SCIP log goes to stderr, never stdout.
    let redirect = opts.verbose.then(|| StdoutRedirect::new(true));
    let solved = m.solve();
    drop(redirect);
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
        ScipStatus::UserInterrupt => interrupted(has_sol),
        other => (stopped(has_sol, Status::Error), Some(format!("{other:?}"))),
    };
    let bound = Some(dual).filter(|d| d.abs() < 1e20);
    let message = (status == Status::Error).then(|| format!("SCIP ended with {st:?}"));
    let o = outcome(
        model, &scaling, opts, status, limit, values, bound, elapsed, message,
    );
    reporter.end(&o);
    o
}

/// SCIP's event handler: reports each new best solution and, at most
/// twice a second, the state after a node or an LP; stops the solve when
/// asked.
struct Events {
    reporter: Reporter,
    last: Option<Instant>,
}

impl Eventhdlr for Events {
    fn get_type(&self) -> EventMask {
        EventMask::BEST_SOL_FOUND | EventMask::NODE_SOLVED | EventMask::LP_EVENT
    }

    fn execute(
        &mut self,
        model: russcip::Model<russcip::Solving>,
        _eventhdlr: russcip::SCIPEventhdlr,
        event: russcip::Event,
    ) {
        let scip = model.scip_ptr();
        if self.reporter.interrupted() {
            // SAFETY: the live SCIP instance, in its solving stage.
            unsafe {
                ffi::SCIPinterruptSolve(scip);
            }
        }
        let best = event.event_type() == EventMask::BEST_SOL_FOUND;
        if !best && self.last.is_some_and(|t| t.elapsed().as_secs_f64() < 0.5) {
            return;
        }
        self.last = Some(Instant::now());
        // SAFETY: the live SCIP instance, in its solving stage.
        let (primal, dual, nodes) = unsafe {
            (
                ffi::SCIPgetPrimalbound(scip),
                ffi::SCIPgetDualbound(scip),
                ffi::SCIPgetNNodes(scip),
            )
        };
        self.reporter.report(Raw {
            incumbent: Some(primal),
            bound: Some(dual),
            nodes: u64::try_from(nodes).ok(),
        });
    }
}
