//! A large-neighbourhood search around a plan: parts of the plan are
//! re-solved exactly with a MILP backend while the rest stays fixed, and a
//! change is kept only when the evaluator scores it better (docs/heuristics.md).
//!
//! Neighbourhoods, in this order, repeated while one of them improves:
//! 1. **one task**: one task's atoms and placement are free, every other
//!    task's are fixed (the task with the largest share of the objective
//!    first);
//! 2. **placement**: every task keeps its atoms (y fixed), where each atom
//!    runs is free.
//!
//! The MILP is built once, minimizing the heuristics' score (the
//! objective's multipliers, [`objective_multipliers`]); each neighbourhood
//! is a copy with column bounds fixed ([`crate::milp::Built::fixed_to`]),
//! started from the current plan. The stop flag of `progress` ends the
//! search with the best plan met.

use super::place::objective_multipliers;
use crate::eval::evaluate;
use crate::instance::{Instance, PayoffTable, Tec};
use crate::milp::{build, ObjectiveSpec};
use crate::plan::Plan;
use crate::solve::{BackendKind, Progress, SolveOptions};
use std::time::Instant;

/// What the search may use.
#[derive(Debug, Clone)]
pub struct LnsOptions {
    /// The backend that solves each neighbourhood.
    pub backend: BackendKind,
    /// Seconds for the whole search (each neighbourhood gets what is left,
    /// at most [`LnsOptions::per_solve_s`]).
    pub budget_s: f64,
    /// Seconds at most per neighbourhood solve.
    pub per_solve_s: f64,
    /// Whether the search may change which groups are quantized.
    pub quantize: bool,
    /// Where the solves report, and the stop flag.
    pub progress: Progress,
}

/// One neighbourhood solved: which, its score after, its seconds.
#[derive(Debug, Clone)]
pub struct HoodResult {
    /// `task NAME` or `placement`.
    pub hood: String,
    /// The best score after it.
    pub score: f64,
    /// Whether it improved the plan.
    pub improved: bool,
    /// Seconds spent.
    pub seconds: f64,
}

fn score(mult: Tec, t: Tec) -> f64 {
    mult.time * t.time + mult.energy * t.energy + mult.cost * t.cost
}

/// Improves `start` (a feasible plan) by re-solving neighbourhoods until a round improves nothing, the
/// budget is spent or a stop is asked for; returns the best plan met and
/// what each neighbourhood did.
pub fn improve(
    inst: &Instance,
    payoff: Option<&PayoffTable>,
    start: Plan,
    opts: &LnsOptions,
) -> (Plan, Vec<HoodResult>) {
    let mut log = Vec::new();
    let t0 = Instant::now();
    let mult = objective_multipliers(inst, payoff);
    let mut plan = start;
    let mut best = score(mult, evaluate(inst, &plan, payoff).totals);
    let built = build(inst, ObjectiveSpec::Weighted(mult), None);
    let left = || opts.budget_s - t0.elapsed().as_secs_f64();
    'rounds: loop {
        let mut improved = false;
        for hood in neighbourhoods(inst, &plan, mult) {
            let time = left().min(opts.per_solve_s);
            if time <= 0.05 || opts.progress.interrupted() {
                break 'rounds;
            }
            let (model, name) = match hood {
                Hood::Placement => (
                    built.fixed_to(&plan, |_| false, true, !opts.quantize),
                    "placement".to_string(),
                ),
                Hood::Task(free) => (
                    built.fixed_to(&plan, |t| t != free, false, !opts.quantize),
                    format!("task {}", inst.tasks[free].name),
                ),
            };
            let h0 = Instant::now();
            let progress = opts.progress.stage(format!("lns {name}"));
            let candidate = solve(&built, &model, &plan, opts.backend, time, progress);
            let mut better = false;
            if let Some(candidate) = candidate {
                let ev = evaluate(inst, &candidate, payoff);
                let s = score(mult, ev.totals);
                if ev.feasible() && s < best - 1e-9 * best.abs() {
                    best = s;
                    plan = candidate;
                    better = true;
                }
            }
            improved |= better;
            log.push(HoodResult {
                hood: name,
                score: best,
                improved: better,
                seconds: h0.elapsed().as_secs_f64(),
            });
        }
        if !improved {
            break;
        }
    }
    (plan, log)
}

/// A part of the plan to re-solve.
#[derive(Debug, Clone, Copy)]
enum Hood {
    Placement,
    Task(usize),
}

/// Each task, largest share of the objective first, then the placement.
fn neighbourhoods(inst: &Instance, plan: &Plan, mult: Tec) -> Vec<Hood> {
    let ev = evaluate(inst, plan, None);
    let mut tasks: Vec<usize> = (0..inst.tasks.len()).collect();
    let weight = |t: usize| {
        let r = &ev.tasks[t];
        mult.time * r.delay_s + mult.energy * r.energy_j + mult.cost * r.cost
    };
    tasks.sort_by(|&a, &b| weight(b).total_cmp(&weight(a)));
    tasks
        .into_iter()
        .map(Hood::Task)
        .chain(std::iter::once(Hood::Placement))
        .collect()
}

/// Solves one neighbourhood from `plan`; the plan read back, if any.
fn solve(
    built: &crate::milp::Built,
    model: &crate::milp::model::Model,
    plan: &Plan,
    backend: BackendKind,
    time_s: f64,
    progress: Progress,
) -> Option<Plan> {
    let solver = backend.backend().ok()?;
    let opts = SolveOptions {
        time_limit: Some(time_s),
        threads: Some(1),
        progress,
        ..SolveOptions::default()
    };
    let out = solver.solve(model, &opts, &built.start_values(plan));
    out.values.as_ref().map(|v| built.plan(v))
}
