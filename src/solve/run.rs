//! Solving an instance end to end: build, (payoff table,) solve, read the
//! plan back, and re-score it with the evaluator, which must agree.

use super::{BackendKind, SolveOptions, SolveOutcome, Status};
use crate::eval::{evaluate, Evaluation};
use crate::instance::{Instance, Normalization, PayoffTable, Tec};
use crate::milp::model::ModelSize;
use crate::milp::{build_with, total_of, ObjectiveSpec, Total};
use crate::plan::Plan;
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// Everything `edgesplit solve` reports.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SolveReport {
    /// Instance name.
    pub instance: String,
    /// Backend name.
    pub solver: String,
    /// How the main solve ended (`error` also when the evaluator disagrees).
    pub status: Status,
    /// Limit that stopped it.
    pub limit: Option<String>,
    /// Messages: backend errors, evaluator disagreement.
    pub message: Option<String>,
    /// Incumbent objective as the MILP computes it.
    pub milp_objective: Option<f64>,
    /// Objective of the returned plan as the evaluator computes it.
    pub evaluated_objective: Option<f64>,
    /// Best proven bound.
    pub best_bound: Option<f64>,
    /// Relative gap.
    pub gap: Option<f64>,
    /// Seconds to build the model.
    pub build_time_s: f64,
    /// Seconds in the backend (main solve only).
    pub solve_time_s: f64,
    /// Seconds in the backend for the payoff table's three solves.
    pub payoff_time_s: f64,
    /// Model size.
    pub model: ModelSize,
    /// Rows added by each family switched on.
    pub family_rows: Vec<(String, usize)>,
    /// Payoff table of `payoff` normalization.
    pub payoff: Option<PayoffTable>,
    /// The evaluator's view of the plan.
    pub evaluation: Option<Evaluation>,
    /// The plan.
    #[serde(skip)]
    pub plan: Option<Plan>,
}

/// Tolerance on MILP vs evaluator objectives.
fn agree_tol(x: f64) -> f64 {
    1e-6 * x.abs().max(1.0)
}

/// One backend solve of `spec` (with ε rows `extra`), read back as a plan.
pub fn solve_spec(
    inst: &Instance,
    kind: BackendKind,
    opts: &SolveOptions,
    spec: ObjectiveSpec,
    payoff: Option<&PayoffTable>,
    extra: &[(Total, f64)],
) -> (
    SolveOutcome,
    Option<Plan>,
    ModelSize,
    Vec<(String, usize)>,
    f64,
) {
    let t0 = Instant::now();
    let built = build_with(inst, spec, payoff, extra);
    let build_time = t0.elapsed().as_secs_f64();
    let size = built.model.size();
    let fams = built
        .family_rows
        .iter()
        .map(|(n, r)| (n.to_string(), *r))
        .collect();
    let (outcome, plan) = solve_built(&built, kind, opts);
    (outcome, plan, size, fams, build_time)
}

/// Solves an already built model (sweeps change a bound and solve again)
/// and reads the plan back.
pub fn solve_built(
    built: &crate::milp::Built,
    kind: BackendKind,
    opts: &SolveOptions,
) -> (SolveOutcome, Option<Plan>) {
    let start = opts
        .initial
        .as_ref()
        .map(|p| built.start_values(p))
        .unwrap_or_default();
    let outcome = match kind.backend() {
        Ok(b) => b.solve(&built.model, opts, &start),
        Err(e) => SolveOutcome::error(e, 0.0),
    };
    let plan = outcome.values.as_ref().map(|v| built.plan(v));
    (outcome, plan)
}

/// Solves `inst` with its own objective (computing the payoff table first
/// when the normalization needs it) and cross-checks with the evaluator.
pub fn solve_instance(inst: &Instance, kind: BackendKind, opts: &SolveOptions) -> SolveReport {
    let mut payoff = None;
    let mut payoff_time = 0.0;
    let mut early: Option<SolveOutcome> = None;
    if inst.objective.normalization == Normalization::Payoff {
        match payoff_table(inst, kind, opts) {
            Ok((p, t)) => {
                payoff = Some(p);
                payoff_time = t;
            }
            Err(o) => early = Some(*o),
        }
    }
    let (outcome, plan, size, fams, build_time) = match early {
        Some(o) => (o, None, ModelSize::default(), Vec::new(), 0.0),
        None => solve_spec(
            inst,
            kind,
            opts,
            ObjectiveSpec::Instance,
            payoff.as_ref(),
            &[],
        ),
    };
    let mut report = SolveReport {
        instance: inst.name.clone(),
        solver: kind.name().into(),
        status: outcome.status,
        limit: outcome.limit.clone(),
        message: outcome.message.clone(),
        milp_objective: outcome.objective,
        evaluated_objective: None,
        best_bound: outcome.best_bound,
        gap: outcome.gap,
        build_time_s: build_time,
        solve_time_s: outcome.solve_time_s,
        payoff_time_s: payoff_time,
        model: size,
        family_rows: fams,
        payoff,
        evaluation: None,
        plan: None,
    };
    if let Some(plan) = plan {
        attach_plan(inst, &mut report, plan);
    }
    report
}

/// Re-scores `plan` with the evaluator and attaches it; a disagreement with
/// the solver turns the report into an error.
pub fn attach_plan(inst: &Instance, report: &mut SolveReport, plan: Plan) {
    let ev = evaluate(inst, &plan, report.payoff.as_ref());
    report.evaluated_objective = ev.objective;
    // At a limit the plan's true objective can be below the MILP's value of
    // the incumbent (one-sided linearizations may be slack there); the gap
    // then counts from the true value, the better upper bound.
    if let (Some(e), Some(b), Status::Feasible) = (ev.objective, report.best_bound, report.status) {
        report.gap = Some(super::rel_gap(e, b).min(report.gap.unwrap_or(f64::INFINITY)));
    }
    if let Some(problem) = disagreement(report, &ev) {
        report.status = Status::Error;
        report.message = Some(problem);
    }
    report.evaluation = Some(ev);
    report.plan = Some(plan);
}

/// Why the evaluator's view of the returned plan contradicts the solver, if
/// it does: the plan must be feasible, and its true objective must equal
/// the MILP's at an optimum (at a limit it may only be lower: products
/// linearized on one side can be slack in a non-optimal incumbent).
fn disagreement(r: &SolveReport, ev: &Evaluation) -> Option<String> {
    if !ev.feasible() {
        let v: Vec<String> = ev
            .violations
            .iter()
            .take(5)
            .map(|v| v.message.clone())
            .collect();
        return Some(format!(
            "the solver's plan is infeasible per the evaluator ({} violations: {})",
            ev.violations.len(),
            v.join("; ")
        ));
    }
    let (Some(m), Some(e)) = (r.milp_objective, ev.objective) else {
        return None;
    };
    let tol = agree_tol(m);
    let bad = match r.status {
        Status::Optimal => (m - e).abs() > tol,
        _ => e > m + tol,
    };
    bad.then(|| format!("MILP objective {m} and evaluator objective {e} disagree beyond {tol:e}"))
}

/// Ideal and nadir of T, E and C from three single-objective solves; an
/// error outcome if one of them fails.
pub fn payoff_table(
    inst: &Instance,
    kind: BackendKind,
    opts: &SolveOptions,
) -> Result<(PayoffTable, f64), Box<SolveOutcome>> {
    let mut optima: Vec<Tec> = Vec::new();
    let mut time = 0.0;
    // Each solve starts from the previous one's plan: the constraints are
    // the same, so it is feasible and gives the backend an incumbent.
    let mut opts = opts.clone();
    for which in [Total::Time, Total::Energy, Total::Cost] {
        let (o, plan, ..) = solve_spec(inst, kind, &opts, ObjectiveSpec::Single(which), None, &[]);
        time += o.solve_time_s;
        opts.initial = plan.clone().or(opts.initial);
        let Some(plan) = plan else {
            let mut o = o;
            o.message = Some(format!(
                "payoff table: minimizing {which:?} alone ended {}{}",
                o.status,
                o.message
                    .as_deref()
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default()
            ));
            return Err(Box::new(o));
        };
        optima.push(evaluate(inst, &plan, None).totals);
    }
    let pick = |w: Total, i: usize| total_of(optima[i], w);
    let mut ideal = Tec::default();
    let mut nadir = Tec::default();
    for (i, w) in [Total::Time, Total::Energy, Total::Cost]
        .into_iter()
        .enumerate()
    {
        let best = pick(w, i);
        let worst = (0..3).map(|j| pick(w, j)).fold(best, f64::max);
        match w {
            Total::Time => (ideal.time, nadir.time) = (best, worst),
            Total::Energy => (ideal.energy, nadir.energy) = (best, worst),
            Total::Cost => (ideal.cost, nadir.cost) = (best, worst),
        }
    }
    Ok((PayoffTable { ideal, nadir }, time))
}
