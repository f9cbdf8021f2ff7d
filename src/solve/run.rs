//! Solving an instance end to end: build, (payoff table,) solve, read the
//! plan back, re-score it with the evaluator, and decide the status.
//!
//! The status rule is the same for every backend, in process or isolated,
//! and for the server's job reports (they all go through [`attach_plan`]):
//! a solve is `optimal` only if the backend proved it, the evaluator
//! accepts the plan, the MILP's objective and each of its totals (T, E, C)
//! agree with the evaluator's ([`agree_tol`]), the gap from the bound to
//! the *evaluated* objective is within the requested gap, and, with payoff
//! normalization, every payoff row was itself `optimal`. A solve that
//! fails only the gap or a payoff row is `feasible` with the true gap and a
//! message; a disagreement or a rejected plan is `error`.

use super::{
    magnitude, rel_gap, BackendKind, ScalingReport, SolveOptions, SolveOutcome, Status, DEFAULT_GAP,
};
use crate::eval::{evaluate, Evaluation};
use crate::instance::{Instance, Normalization, PayoffTable, Tec};
use crate::milp::model::{ModelSize, Var};
use crate::milp::{build_with, terms_value, total_of, Built, ObjectiveSpec, Total};
use crate::plan::Plan;
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// Size figures of an objective (or of one total), for tolerances: the
/// constant, the largest and the summed coefficient magnitudes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct ObjectiveScale {
    /// Constant part.
    pub constant: f64,
    /// Largest |coefficient|.
    pub largest: f64,
    /// Σ |coefficient|.
    pub sum: f64,
}

impl ObjectiveScale {
    fn of(coefs: impl Iterator<Item = f64>, constant: f64) -> ObjectiveScale {
        let (mut largest, mut sum) = (0.0f64, 0.0);
        for c in coefs {
            largest = largest.max(c.abs());
            sum += c.abs();
        }
        ObjectiveScale {
            constant,
            largest,
            sum,
        }
    }
}

/// The MILP's value of one total (T, E or C) at the incumbent.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MilpTotal {
    /// Which total.
    pub total: Total,
    /// Its value from the column values.
    pub value: f64,
    /// Its terms' sizes.
    pub scale: ObjectiveScale,
}

/// One single-objective solve of a payoff table, checked like a main solve.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PayoffRow {
    /// The total minimized alone.
    pub total: Total,
    /// The verdict (same rule as the main solve).
    pub status: Status,
    /// How the backend ended.
    pub backend_status: Status,
    /// The total as the MILP computes it at the incumbent.
    pub milp_objective: Option<f64>,
    /// The total of the plan as the evaluator computes it.
    pub evaluated_objective: Option<f64>,
    /// Best proven bound on the total.
    pub best_bound: Option<f64>,
    /// Relative gap from the bound to the evaluated total.
    pub gap: Option<f64>,
    /// Seconds in the backend.
    pub solve_time_s: f64,
    /// Scaling the backend applied.
    pub scaling: Option<ScalingReport>,
    /// Why the row is not optimal, or what the backend said.
    pub message: Option<String>,
    /// T, E and C at the row's plan (the evaluator's): one row of the
    /// payoff table.
    #[serde(default)]
    pub totals: Option<Tec>,
    /// The lexicographic second stage (the other objectives of positive
    /// weight minimized with this one held at its optimum), when there is
    /// one; the fields above are the first stage's, but `status` is the
    /// worse of the two and `solve_time_s` their sum.
    #[serde(default)]
    pub second_stage: Option<Box<PayoffRow>>,
    /// True when no second stage was needed because a plan already found
    /// is at this objective's optimum and at every other objective's ideal
    /// (then it is the row's plan).
    #[serde(default)]
    pub at_every_ideal: bool,
}

/// Everything `edgesplit solve` reports.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SolveReport {
    /// Instance name.
    pub instance: String,
    /// Backend name.
    pub solver: String,
    /// The verdict on the main solve (see the module documentation).
    pub status: Status,
    /// How the backend itself ended the main solve.
    #[serde(default = "error_status")]
    pub backend_status: Status,
    /// Limit that stopped it.
    pub limit: Option<String>,
    /// Messages: backend errors, evaluator disagreement, why a solve the
    /// backend called optimal is not.
    pub message: Option<String>,
    /// What the backend said, before the checks.
    #[serde(default)]
    pub backend_message: Option<String>,
    /// Incumbent objective as the MILP computes it.
    pub milp_objective: Option<f64>,
    /// Objective of the returned plan as the evaluator computes it.
    pub evaluated_objective: Option<f64>,
    /// Best proven bound.
    pub best_bound: Option<f64>,
    /// Relative gap from the bound to the evaluated objective (to the MILP
    /// objective while no plan is attached).
    pub gap: Option<f64>,
    /// The largest gap that still counts as optimal.
    #[serde(default = "default_gap")]
    pub gap_limit: f64,
    /// The objective's constant and coefficient sizes (for tolerances).
    #[serde(default)]
    pub objective_scale: ObjectiveScale,
    /// MILP values of the totals the objective is made of.
    #[serde(default)]
    pub milp_totals: Vec<MilpTotal>,
    /// Scaling the backend applied to the main solve.
    #[serde(default)]
    pub scaling: Option<ScalingReport>,
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
    /// The payoff table's three solves, each checked.
    #[serde(default)]
    pub payoff_rows: Vec<PayoffRow>,
    /// The evaluator's view of the plan.
    pub evaluation: Option<Evaluation>,
    /// The plan.
    #[serde(skip)]
    pub plan: Option<Plan>,
}

fn error_status() -> Status {
    Status::Error
}

fn default_gap() -> f64 {
    DEFAULT_GAP
}

impl SolveReport {
    /// A report of a solve that never produced a backend outcome.
    pub fn failed(inst: &Instance, kind: BackendKind, message: String, secs: f64) -> SolveReport {
        let o = SolveOutcome::error(message, secs);
        SolveReport::new(inst, kind, &o, &SpecSolve::empty(o.clone()), DEFAULT_GAP)
    }

    fn new(
        inst: &Instance,
        kind: BackendKind,
        o: &SolveOutcome,
        s: &SpecSolve,
        gap_limit: f64,
    ) -> SolveReport {
        SolveReport {
            instance: inst.name.clone(),
            solver: kind.name().into(),
            status: o.status,
            backend_status: o.status,
            limit: o.limit.clone(),
            message: o.message.clone(),
            backend_message: o.message.clone(),
            milp_objective: o.objective,
            evaluated_objective: None,
            best_bound: o.best_bound,
            gap: o.gap,
            gap_limit,
            objective_scale: s.objective_scale,
            milp_totals: s.milp_totals.clone(),
            scaling: o.scaling,
            build_time_s: s.build_time_s,
            solve_time_s: o.solve_time_s,
            payoff_time_s: 0.0,
            model: s.size,
            family_rows: s.family_rows.clone(),
            payoff: None,
            payoff_rows: Vec::new(),
            evaluation: None,
            plan: None,
        }
    }
}

/// Tolerance on a MILP value `m` against the evaluator's `e` of the same
/// plan: 1e-6 relative to the value's own size (`magnitude`), plus 1e-9
/// per unit of Σ|coefficient|: what the solvers' 1e-9 feasibility and
/// integrality tolerances can move the sum by. Nothing is absolute.
pub fn agree_tol(m: f64, e: f64, scale: &ObjectiveScale) -> f64 {
    let size = magnitude(e, scale.constant, scale.largest).max(m.abs());
    1e-6 * size + 1e-9 * scale.sum
}

/// One backend solve of a model, with what the checks need.
pub struct SpecSolve {
    /// The backend's outcome.
    pub outcome: SolveOutcome,
    /// The plan read back from the incumbent.
    pub plan: Option<Plan>,
    /// Model size.
    pub size: ModelSize,
    /// Rows per family.
    pub family_rows: Vec<(String, usize)>,
    /// Seconds to build.
    pub build_time_s: f64,
    /// Sizes of the objective.
    pub objective_scale: ObjectiveScale,
    /// MILP values of the objective's totals at the incumbent.
    pub milp_totals: Vec<MilpTotal>,
}

impl SpecSolve {
    fn empty(outcome: SolveOutcome) -> SpecSolve {
        SpecSolve {
            outcome,
            plan: None,
            size: ModelSize::default(),
            family_rows: Vec::new(),
            build_time_s: 0.0,
            objective_scale: ObjectiveScale::default(),
            milp_totals: Vec::new(),
        }
    }
}

/// One backend solve of `spec` (with ε rows `extra`), read back as a plan.
pub fn solve_spec(
    inst: &Instance,
    kind: BackendKind,
    opts: &SolveOptions,
    spec: ObjectiveSpec,
    payoff: Option<&PayoffTable>,
    extra: &[(Total, f64)],
) -> SpecSolve {
    let t0 = Instant::now();
    let mut built = build_with(inst, spec, payoff, extra);
    built.model.objective_hint = objective_hint(inst, spec, payoff, built.model.obj_constant);
    let build_time_s = t0.elapsed().as_secs_f64();
    let (outcome, plan) = solve_built(&built, kind, opts);
    let milp_totals = outcome
        .values
        .as_ref()
        .map(|v| totals_at(&built, v))
        .unwrap_or_default();
    SpecSolve {
        plan,
        size: built.model.size(),
        family_rows: built
            .family_rows
            .iter()
            .map(|(n, r)| (n.to_string(), *r))
            .collect(),
        build_time_s,
        objective_scale: ObjectiveScale::of(
            built.model.columns.iter().map(|c| c.obj),
            built.model.obj_constant,
        ),
        milp_totals,
        outcome,
    }
}

/// The size of the objective `spec` minimizes at a typical plan: the
/// smallest positive |objective − constant| of the solver-free reference
/// plans (all on the source, centralized), feasible or not. `None` when
/// both are zero or undefined.
pub fn objective_hint(
    inst: &Instance,
    spec: ObjectiveSpec,
    payoff: Option<&PayoffTable>,
    constant: f64,
) -> Option<f64> {
    use crate::reference::{reference_plan, ReferenceMethod};
    let value = |plan: &Plan| -> Option<f64> {
        let ev = evaluate(inst, plan, payoff);
        match spec {
            ObjectiveSpec::Single(w) => Some(total_of(ev.totals, w)),
            ObjectiveSpec::Weighted(c) => Some(weighted(ev.totals, c)),
            ObjectiveSpec::Instance => ev.objective.map(|o| o - constant),
            ObjectiveSpec::Relax(_) => None,
        }
    };
    [ReferenceMethod::AllOnSource, ReferenceMethod::Centralized]
        .into_iter()
        .filter_map(|m| value(&reference_plan(inst, m)))
        .map(f64::abs)
        .filter(|v| *v > 0.0 && v.is_finite())
        .reduce(f64::min)
}

/// The MILP's value of each of the objective's totals at `values`.
fn totals_at(built: &Built, values: &[f64]) -> Vec<MilpTotal> {
    built
        .objective_totals
        .iter()
        .map(|(total, terms)| MilpTotal {
            total: *total,
            value: terms_value(terms, values),
            scale: ObjectiveScale::of(terms.iter().map(|t: &(Var, f64)| t.1), 0.0),
        })
        .collect()
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
    let gap_limit = opts.rel_gap.unwrap_or(DEFAULT_GAP);
    let mut payoff = None;
    let mut rows = Vec::new();
    let mut payoff_time = 0.0;
    let mut early: Option<SolveOutcome> = None;
    if inst.objective.normalization == Normalization::Payoff {
        match payoff_table(inst, kind, opts) {
            Ok((p, t, r)) => {
                payoff = Some(p);
                payoff_time = t;
                rows = r;
            }
            Err(o) => early = Some(*o),
        }
    }
    let main_opts = if payoff.is_some() {
        SolveOptions {
            progress: opts.progress.stage("main"),
            ..opts.clone()
        }
    } else {
        opts.clone()
    };
    let solved = match early {
        Some(o) => SpecSolve::empty(o),
        None => solve_spec(
            inst,
            kind,
            &main_opts,
            ObjectiveSpec::Instance,
            payoff.as_ref(),
            &[],
        ),
    };
    let mut report = SolveReport::new(inst, kind, &solved.outcome, &solved, gap_limit);
    report.payoff_time_s = payoff_time;
    report.payoff = payoff;
    report.payoff_rows = rows;
    if let Some(plan) = solved.plan {
        attach_plan(inst, &mut report, plan);
    }
    report
}

/// What the checks make of one backend solve whose plan was evaluated.
struct Verdict {
    status: Status,
    gap: Option<f64>,
    notes: Vec<String>,
}

/// What a backend solve claims, to be checked against the evaluator.
struct Claim<'a> {
    backend_status: Status,
    milp_objective: Option<f64>,
    bound: Option<f64>,
    gap_limit: f64,
    scale: &'a ObjectiveScale,
    totals: &'a [MilpTotal],
}

/// The status rule (module documentation) for one solve: `evaluated` is
/// the evaluator's value of what the solve minimized.
fn judge(c: &Claim, evaluated: Option<f64>, ev: &Evaluation) -> Verdict {
    let mut v = Verdict {
        status: c.backend_status,
        gap: None,
        notes: Vec::new(),
    };
    if let Some(problem) = infeasible_plan(ev) {
        v.status = Status::Error;
        v.notes.push(problem);
        return v;
    }
    let optimal = c.backend_status == Status::Optimal;
    let mut disagree = Vec::new();
    if let (Some(m), Some(e)) = (c.milp_objective, evaluated) {
        disagree.extend(mismatch("objective", m, e, c.scale, optimal));
    }
    for t in c.totals {
        let e = total_of(ev.totals, t.total);
        disagree.extend(mismatch(
            &format!("{:?}", t.total),
            t.value,
            e,
            &t.scale,
            optimal,
        ));
    }
    if !disagree.is_empty() {
        v.status = Status::Error;
        v.notes.push(format!(
            "the MILP and the evaluator disagree on the returned plan: {}",
            disagree.join("; ")
        ));
        return v;
    }
    v.gap = evaluated
        .zip(c.bound)
        .map(|(e, b)| rel_gap(e, b, magnitude(e, c.scale.constant, c.scale.largest)));
    if let (Some(g), true) = (v.gap, optimal) {
        if g > c.gap_limit {
            v.status = Status::Feasible;
            v.notes.push(format!(
                "the backend reported optimal, but the gap from its bound {} to the evaluated objective {} is {g:e} > {:e}",
                c.bound.unwrap_or_default(),
                evaluated.unwrap_or_default(),
                c.gap_limit
            ));
        }
    }
    v
}

/// Why a MILP value `m` contradicts the evaluator's `e`, if it does: at a
/// proven optimum they must agree within [`agree_tol`]; at a limit the
/// true value may be lower (products linearized on one side can be slack
/// in a non-optimal incumbent), never higher.
fn mismatch(what: &str, m: f64, e: f64, scale: &ObjectiveScale, optimal: bool) -> Option<String> {
    let tol = agree_tol(m, e, scale);
    let bad = if optimal {
        (m - e).abs() > tol
    } else {
        e > m + tol
    };
    bad.then(|| {
        format!(
            "{what}: MILP {m:e}, evaluator {e:e}, difference {:e} > tolerance {tol:e}",
            (m - e).abs()
        )
    })
}

/// Re-scores `plan` with the evaluator, attaches it, and sets the status by
/// the rule of the module documentation. Idempotent: it starts again from
/// the backend's own status and message, so the parent of an isolated
/// solve can apply it to the worker's report.
pub fn attach_plan(inst: &Instance, report: &mut SolveReport, plan: Plan) {
    let ev = evaluate(inst, &plan, report.payoff.as_ref());
    report.evaluated_objective = ev.objective;
    let claim = Claim {
        backend_status: report.backend_status,
        milp_objective: report.milp_objective,
        bound: report.best_bound,
        gap_limit: report.gap_limit,
        scale: &report.objective_scale,
        totals: &report.milp_totals,
    };
    let mut v = judge(&claim, ev.objective, &ev);
    if v.status == Status::Optimal {
        let weak: Vec<String> = report
            .payoff_rows
            .iter()
            .filter(|r| r.status != Status::Optimal)
            .map(payoff_note)
            .collect();
        if !weak.is_empty() {
            v.status = Status::Feasible;
            v.notes.push(format!(
                "optimal for the payoff table used, but the table is not proven: {}",
                weak.join("; ")
            ));
        }
    }
    report.status = v.status;
    if v.gap.is_some() {
        report.gap = v.gap;
    }
    let mut msgs: Vec<String> = report.backend_message.iter().cloned().collect();
    msgs.extend(v.notes);
    report.message = (!msgs.is_empty()).then(|| msgs.join("; "));
    report.evaluation = Some(ev);
    report.plan = Some(plan);
}

/// How a payoff row falls short, in words and numbers.
fn payoff_note(r: &PayoffRow) -> String {
    let value = r.evaluated_objective.unwrap_or(f64::NAN);
    match (r.best_bound, r.gap) {
        (Some(b), Some(g)) => format!(
            "row {:?} is {} with gap {g:e} (plan {value:e}, bound {b:e}: its ideal may be up to {:e} too high)",
            r.total,
            r.status,
            (value - b).max(0.0)
        ),
        _ => format!(
            "row {:?} is {} with no bound (plan {value:e})",
            r.total, r.status
        ),
    }
}

/// Why the evaluator rejects the solver's plan, if it does.
fn infeasible_plan(ev: &Evaluation) -> Option<String> {
    if ev.feasible() {
        return None;
    }
    let v: Vec<String> = ev
        .violations
        .iter()
        .take(5)
        .map(|v| v.message.clone())
        .collect();
    Some(format!(
        "the solver's plan is infeasible per the evaluator ({} violations: {})",
        ev.violations.len(),
        v.join("; ")
    ))
}

/// `c.time·T + c.energy·E + c.cost·C`.
fn weighted(x: Tec, c: Tec) -> f64 {
    c.time * x.time + c.energy * x.energy + c.cost * x.cost
}

/// One stage of payoff row `which`: minimize `spec` (`which` alone, or the
/// other objectives with ε rows `extra`), evaluate the plan, judge it.
/// `Err` with the outcome when the stage has no plan or its plan is
/// rejected.
fn payoff_stage(
    inst: &Instance,
    kind: BackendKind,
    opts: &SolveOptions,
    which: Total,
    spec: ObjectiveSpec,
    extra: &[(Total, f64)],
) -> Result<(PayoffRow, Tec, Plan), Box<SolveOutcome>> {
    let what = match spec {
        ObjectiveSpec::Single(_) => format!("minimizing {which:?} alone"),
        _ => format!("minimizing the other objectives at the optimum of {which:?}"),
    };
    let s = solve_spec(inst, kind, opts, spec, None, extra);
    let o = s.outcome;
    let fail = |mut o: SolveOutcome, why: String| {
        o.message = Some(format!("payoff table: {what} {why}"));
        o.status = Status::Error;
        Box::new(o)
    };
    let Some(plan) = s.plan else {
        let why = format!(
            "ended {}{}",
            o.status,
            o.message
                .as_deref()
                .map(|m| format!(": {m}"))
                .unwrap_or_default()
        );
        let mut o = o;
        o.message = Some(format!("payoff table: {what} {why}"));
        return Err(Box::new(o));
    };
    let ev = evaluate(inst, &plan, None);
    let evaluated = match spec {
        ObjectiveSpec::Weighted(c) => weighted(ev.totals, c),
        _ => total_of(ev.totals, which),
    };
    let claim = Claim {
        backend_status: o.status,
        milp_objective: o.objective,
        bound: o.best_bound,
        gap_limit: opts.rel_gap.unwrap_or(DEFAULT_GAP),
        scale: &s.objective_scale,
        totals: &[],
    };
    let v = judge(&claim, Some(evaluated), &ev);
    if v.status == Status::Error {
        return Err(fail(o, v.notes.join("; ")));
    }
    let mut msgs: Vec<String> = o.message.iter().cloned().collect();
    msgs.extend(v.notes);
    let row = PayoffRow {
        total: which,
        status: v.status,
        backend_status: o.status,
        milp_objective: o.objective,
        evaluated_objective: Some(evaluated),
        best_bound: o.best_bound,
        gap: v.gap,
        solve_time_s: o.solve_time_s,
        scaling: o.scaling,
        message: (!msgs.is_empty()).then(|| msgs.join("; ")),
        totals: Some(ev.totals),
        second_stage: None,
        at_every_ideal: false,
    };
    Ok((row, ev.totals, plan))
}

/// Relative slack of a lexicographic row's second stage on its first
/// objective: `X ≤ X* + 1e-7·|X*|`, far below the default gap (1e-4).
pub const LEXICOGRAPHIC_SLACK: f64 = 1e-7;

/// The second stage of payoff row `which` (first stage: `row`, `totals`,
/// `plan`): the other objectives of positive weight minimized with `which`
/// ≤ its optimum plus [`LEXICOGRAPHIC_SLACK`], each divided by its value at
/// the first stage's plan; one that is 0 there (its least possible value)
/// is held at 0 by an ε row. Started from the first stage's plan (not on
/// CBC).
fn second_stage(
    inst: &Instance,
    kind: BackendKind,
    opts: &SolveOptions,
    active: &[Total],
    first: (PayoffRow, Tec, Plan),
) -> Result<(PayoffRow, Tec, Plan), Box<SolveOutcome>> {
    let (mut row, totals, plan) = first;
    let which = row.total;
    let x = total_of(totals, which);
    let mut extra = vec![(which, x + LEXICOGRAPHIC_SLACK * x.abs())];
    let mut c = Tec::default();
    for &y in active.iter().filter(|&&y| y != which) {
        let v = total_of(totals, y);
        match (v > 0.0, y) {
            (false, _) => extra.push((y, 0.0)),
            (true, Total::Time) => c.time = 1.0 / v,
            (true, Total::Energy) => c.energy = 1.0 / v,
            (true, Total::Cost) => c.cost = 1.0 / v,
        }
    }
    let ones = Tec {
        time: 1.0,
        energy: 1.0,
        cost: 1.0,
    };
    if weighted(ones, c) == 0.0 {
        // No other objective can improve: the row is already
        // non-dominated.
        return Ok((row, totals, plan));
    }
    let opts = SolveOptions {
        progress: opts.progress.stage(format!("payoff {which:?} then others")),
        initial: Some(plan.clone())
            .filter(|_| kind != BackendKind::Cbc)
            .or_else(|| opts.initial.clone()),
        ..opts.clone()
    };
    match payoff_stage(inst, kind, &opts, which, ObjectiveSpec::Weighted(c), &extra) {
        Ok((r2, t2, p2)) => {
            row.solve_time_s += r2.solve_time_s;
            if r2.status != Status::Optimal {
                row.status = Status::Feasible;
            }
            row.totals = Some(t2);
            row.second_stage = Some(Box::new(r2));
            Ok((row, t2, p2))
        }
        Err(o) if o.status == Status::Error => Err(o),
        Err(o) => {
            // No plan within the slack (solver tolerances): keep the first
            // stage's plan, not proven non-dominated.
            row.status = Status::Feasible;
            let note = o.message.unwrap_or_default();
            row.message = Some(match row.message.take() {
                Some(m) => format!("{m}; {note}"),
                None => note,
            });
            Ok((row, totals, plan))
        }
    }
}

/// Among `known` plans (with their totals), one that is at `which`'s
/// optimum `x` and at the ideal of every other objective of positive
/// weight, each within [`LEXICOGRAPHIC_SLACK`]: it solves the row's second
/// stage, since no plan is below an ideal.
fn at_every_ideal<'p>(
    known: &'p [(Tec, Plan)],
    which: Total,
    x: f64,
    active: &[Total],
    ideal: &[(Total, f64)],
) -> Option<&'p (Tec, Plan)> {
    let within = |v: f64, best: f64| v <= best + LEXICOGRAPHIC_SLACK * best.abs();
    known.iter().find(|(t, _)| {
        within(total_of(*t, which), x)
            && active.iter().filter(|&&y| y != which).all(|&y| {
                ideal
                    .iter()
                    .any(|&(w, v)| w == y && within(total_of(*t, y), v))
            })
    })
}

/// The lexicographic payoff rows of the objectives of positive weight: X
/// alone for each (each solve started from the previous one's plan, not on
/// CBC), then for each row the others at X's optimum ([`second_stage`]),
/// unless a plan found so far is already at X's optimum and every other
/// ideal.
fn payoff_rows(
    inst: &Instance,
    kind: BackendKind,
    opts: &SolveOptions,
    active: &[Total],
) -> Result<Vec<(PayoffRow, Tec, Plan)>, Box<SolveOutcome>> {
    let mut firsts = Vec::new();
    let mut start: Option<Plan> = None;
    for &which in active {
        if opts.progress.interrupted() {
            let mut o = SolveOutcome::error(
                format!("interrupted while the payoff table was solved (before minimizing {which:?} alone)"),
                0.0,
            );
            o.status = Status::NoSolution;
            o.limit = Some("interrupt".into());
            return Err(Box::new(o));
        }
        let stage = SolveOptions {
            progress: opts.progress.stage(format!("payoff {which:?}")),
            initial: start
                .take()
                .filter(|_| kind != BackendKind::Cbc)
                .or_else(|| opts.initial.clone()),
            ..opts.clone()
        };
        let first = payoff_stage(inst, kind, &stage, which, ObjectiveSpec::Single(which), &[])?;
        start = Some(first.2.clone());
        firsts.push(first);
    }
    let ideal: Vec<(Total, f64)> = firsts
        .iter()
        .map(|(r, t, _)| (r.total, total_of(*t, r.total)))
        .collect();
    let mut known: Vec<(Tec, Plan)> = firsts.iter().map(|(_, t, p)| (*t, p.clone())).collect();
    let mut rows = Vec::new();
    for first in firsts {
        let which = first.0.total;
        let x = total_of(first.1, which);
        let done = at_every_ideal(&known, which, x, active, &ideal).cloned();
        let row = match done {
            Some((t, p)) => {
                let (mut row, _, _) = first;
                row.totals = Some(t);
                row.at_every_ideal = active.len() > 1;
                (row, t, p)
            }
            None => second_stage(inst, kind, opts, active, first)?,
        };
        known.push((row.1, row.2.clone()));
        rows.push(row);
    }
    Ok(rows)
}

/// Ideal and nadir of T, E and C from the lexicographic payoff rows of
/// the objectives of positive weight ([`payoff_rows`]), each stage checked
/// by [`judge`]; an error outcome if one of them has no plan or a plan the
/// evaluator contradicts. The ideal of an objective is its value at its
/// own row's plan, its nadir the largest value at any row's plan; an
/// objective of weight 0 has no row, and its ideal and nadir are only the
/// range over the other rows' plans (its term is not built).
pub fn payoff_table(
    inst: &Instance,
    kind: BackendKind,
    opts: &SolveOptions,
) -> Result<(PayoffTable, f64, Vec<PayoffRow>), Box<SolveOutcome>> {
    let w = inst.objective.weights;
    let active: Vec<Total> = [
        (Total::Time, w.time),
        (Total::Energy, w.energy),
        (Total::Cost, w.cost),
    ]
    .into_iter()
    .filter(|&(_, wt)| wt > 0.0)
    .map(|(t, _)| t)
    .collect();
    let solved = payoff_rows(inst, kind, opts, &active)?;
    let time = solved.iter().map(|(r, _, _)| r.solve_time_s).sum();
    let optima: Vec<(Total, Tec)> = solved.iter().map(|(r, t, _)| (r.total, *t)).collect();
    let rows: Vec<PayoffRow> = solved.into_iter().map(|(r, _, _)| r).collect();
    let mut ideal = Tec::default();
    let mut nadir = Tec::default();
    for w in [Total::Time, Total::Energy, Total::Cost] {
        let values = optima.iter().map(|&(_, t)| total_of(t, w));
        let worst = values.clone().fold(f64::NEG_INFINITY, f64::max);
        let best = optima
            .iter()
            .find(|&&(r, _)| r == w)
            .map(|&(_, t)| total_of(t, w))
            .unwrap_or_else(|| values.fold(f64::INFINITY, f64::min));
        let (best, worst) = if optima.is_empty() {
            (0.0, 0.0)
        } else {
            (best, worst)
        };
        match w {
            Total::Time => (ideal.time, nadir.time) = (best, worst),
            Total::Energy => (ideal.energy, nadir.energy) = (best, worst),
            Total::Cost => (ideal.cost, nadir.cost) = (best, worst),
        }
    }
    Ok((PayoffTable { ideal, nadir }, time, rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A feasible evaluation whose objective is `objective`.
    fn evaluation(objective: f64) -> Evaluation {
        Evaluation {
            tasks: Vec::new(),
            nodes: Vec::new(),
            links: Vec::new(),
            quantized: Vec::new(),
            noise: 0.0,
            totals: Tec::default(),
            objective: Some(objective),
            violations: Vec::new(),
        }
    }

    fn claim<'a>(
        status: Status,
        bound: f64,
        gap_limit: f64,
        scale: &'a ObjectiveScale,
    ) -> Claim<'a> {
        Claim {
            backend_status: status,
            milp_objective: Some(1.0),
            bound: Some(bound),
            gap_limit,
            scale,
            totals: &[],
        }
    }

    #[test]
    fn an_optimal_whose_bound_is_one_percent_off_is_only_feasible() {
        let scale = ObjectiveScale {
            constant: 0.0,
            largest: 1.0,
            sum: 1.0,
        };
        let ev = evaluation(1.0);
        // The backend says optimal, but its bound is 1% below the
        // evaluated objective: the default limit (1e-4) downgrades it.
        let v = judge(
            &claim(Status::Optimal, 0.99, DEFAULT_GAP, &scale),
            Some(1.0),
            &ev,
        );
        assert_eq!(v.status, Status::Feasible);
        let g = v.gap.unwrap();
        assert!((g - 0.01).abs() < 1e-12, "gap {g}");
        assert!(
            v.notes.iter().any(|n| n.contains("reported optimal")),
            "{:?}",
            v.notes
        );
        // Within a limit of 5% the same claim stands.
        let v = judge(&claim(Status::Optimal, 0.99, 0.05, &scale), Some(1.0), &ev);
        assert_eq!(v.status, Status::Optimal);
        assert!(v.notes.is_empty(), "{:?}", v.notes);
        // Just inside and just outside the default limit.
        let v = judge(
            &claim(Status::Optimal, 1.0 - 0.5e-4, DEFAULT_GAP, &scale),
            Some(1.0),
            &ev,
        );
        assert_eq!(v.status, Status::Optimal);
        let v = judge(
            &claim(Status::Optimal, 1.0 - 2e-4, DEFAULT_GAP, &scale),
            Some(1.0),
            &ev,
        );
        assert_eq!(v.status, Status::Feasible);
        // A feasible claim stays feasible whatever the gap.
        let v = judge(
            &claim(Status::Feasible, 0.99, DEFAULT_GAP, &scale),
            Some(1.0),
            &ev,
        );
        assert_eq!(v.status, Status::Feasible);
    }
}
