//! Parametric solves: the noise-limit sweep (latency against the noise
//! threshold, per set of allowed nodes) and the exact two-objective Pareto
//! front by the ε-constraint method.

use super::run::solve_built;
use super::{BackendKind, SolveOptions, Status};
use crate::eval::evaluate;
use crate::instance::{Instance, Normalization, PlacementRule};
use crate::milp::{build, build_with, total_of, ObjectiveSpec, Total};
use crate::network::NodeIx;
use serde::Serialize;

/// One solve of a sweep.
#[derive(Debug, Clone, Serialize)]
pub struct SweepPoint {
    /// The curve: which nodes may host compute atoms.
    pub curve: String,
    /// max_noise of this solve.
    pub limit: f64,
    /// How the solve ended.
    pub status: Status,
    /// T, E, C of the plan (evaluator), if any.
    pub time: Option<f64>,
    /// E.
    pub energy: Option<f64>,
    /// C.
    pub cost: Option<f64>,
    /// The instance's objective (evaluator).
    pub objective: Option<f64>,
    /// η(q) of the plan.
    pub noise: Option<f64>,
    /// Quantized groups.
    pub quantized: Vec<String>,
    /// Relative gap.
    pub gap: Option<f64>,
    /// Backend seconds.
    pub solve_time_s: f64,
}

/// A copy of `inst` whose compute atoms may only run on `nodes` (input and
/// output stay at each task's source and sink).
pub fn restrict_nodes(inst: &Instance, nodes: &[NodeIx]) -> Instance {
    let mut i = inst.clone();
    let dnn = &inst.dnn;
    i.rules.push(PlacementRule {
        name: "sweep node set".into(),
        tasks: (0..inst.tasks.len()).collect(),
        atoms: (0..dnn.len())
            .filter(|&a| a != dnn.input && a != dnn.output)
            .collect(),
        allowed: (0..inst.network.len())
            .map(|n| nodes.contains(&n))
            .collect(),
    });
    i.families.rules = true;
    i
}

/// Solves `inst` once per noise limit and node set, building each model
/// once and changing only the bound of its `max_noise` row.
pub fn noise_sweep(
    inst: &Instance,
    limits: &[f64],
    node_sets: &[Vec<NodeIx>],
    kind: BackendKind,
    opts: &SolveOptions,
    progress: impl FnMut(&str),
) -> Result<Vec<SweepPoint>, String> {
    noise_sweep_each(inst, limits, node_sets, kind, opts, progress, |_| {})
}

/// [`noise_sweep`], handing each point to `done` as soon as it is solved;
/// stops after the point being solved when `opts.progress` is interrupted
/// (that point's status is then `interrupted`).
pub fn noise_sweep_each(
    inst: &Instance,
    limits: &[f64],
    node_sets: &[Vec<NodeIx>],
    kind: BackendKind,
    opts: &SolveOptions,
    mut progress: impl FnMut(&str),
    mut done: impl FnMut(&SweepPoint),
) -> Result<Vec<SweepPoint>, String> {
    if inst.quantization.groups.is_empty() {
        return Err("the instance has no quantization groups: nothing to sweep".into());
    }
    if inst.objective.normalization == Normalization::Payoff {
        return Err("a sweep changes the feasible set, and so the payoff table: use `normalization: none` or fixed scales".into());
    }
    let all: Vec<NodeIx> = (0..inst.network.len()).collect();
    let sets: Vec<Vec<NodeIx>> = if node_sets.is_empty() {
        vec![all]
    } else {
        node_sets.to_vec()
    };
    let mut out = Vec::new();
    for set in &sets {
        let curve = set
            .iter()
            .map(|&n| inst.network.nodes[n].name.as_str())
            .collect::<Vec<_>>()
            .join("+");
        let mut i = restrict_nodes(inst, set);
        i.families.noise = true;
        i.quantization.max_noise = Some(limits.first().copied().unwrap_or(0.0));
        let mut built = build(&i, ObjectiveSpec::Instance, None);
        let row = built
            .model
            .rows
            .iter()
            .position(|r| r.name == "max_noise")
            .ok_or("the model has no max_noise row")?;
        let mut previous: Option<(crate::plan::Plan, f64)> = None;
        for &limit in limits {
            if opts.progress.interrupted() {
                return Ok(out);
            }
            progress(&format!("{curve}: max_noise {limit}"));
            built.model.rows[row].rhs = limit;
            i.quantization.max_noise = Some(limit);
            // The last optimum stays feasible under a looser limit: start
            // from it (the backend ignores a start it cannot use).
            let mut o_opts = opts.clone();
            if let Some((p, noise)) = &previous {
                if *noise <= limit && o_opts.initial.is_none() {
                    o_opts.initial = Some(p.clone());
                }
            }
            let (o, plan) = solve_built(&built, kind, &o_opts);
            let ev = plan.as_ref().map(|p| evaluate(&i, p, None));
            let ok = ev.as_ref().is_some_and(|e| e.feasible());
            if let (true, Some(p), Some(e)) = (ok, &plan, &ev) {
                previous = Some((p.clone(), e.noise));
            }
            let pick =
                |f: &dyn Fn(&crate::eval::Evaluation) -> f64| ev.as_ref().filter(|_| ok).map(f);
            out.push(SweepPoint {
                curve: curve.clone(),
                limit,
                status: if ev.is_some() && !ok {
                    Status::Error
                } else {
                    o.status
                },
                time: pick(&|e| e.totals.time),
                energy: pick(&|e| e.totals.energy),
                cost: pick(&|e| e.totals.cost),
                objective: ev.as_ref().filter(|_| ok).and_then(|e| e.objective),
                noise: pick(&|e| e.noise),
                quantized: ev.as_ref().map(|e| e.quantized.clone()).unwrap_or_default(),
                gap: o.gap,
                solve_time_s: o.solve_time_s,
            });
            done(out.last().expect("pushed"));
        }
    }
    Ok(out)
}

/// One point of a two-objective front.
#[derive(Debug, Clone, Serialize)]
pub struct ParetoPoint {
    /// Value of the first objective.
    pub first: f64,
    /// Value of the second objective.
    pub second: f64,
    /// T, E, C of the plan.
    pub time: f64,
    /// E.
    pub energy: f64,
    /// C.
    pub cost: f64,
    /// Quantized groups.
    pub quantized: Vec<String>,
    /// Both solves of the point proven optimal (else a limit stopped one).
    pub proven: bool,
}

/// The non-dominated points of (first, second) by the ε-constraint
/// method: minimize `first` subject to `second ≤ ε`, then minimize
/// `second` with `first` held at its optimum (so the point is not weakly
/// dominated), then tighten ε just below the point's `second`; stop when
/// infeasible or after `max_points`. Points closer than 1e-6 (relative) in
/// `second` are not told apart.
pub fn pareto(
    inst: &Instance,
    first: Total,
    second: Total,
    max_points: usize,
    kind: BackendKind,
    opts: &SolveOptions,
    progress: impl FnMut(&str),
) -> Vec<ParetoPoint> {
    pareto_each(
        inst,
        first,
        second,
        max_points,
        kind,
        opts,
        progress,
        |_| {},
    )
}

/// [`pareto`], handing each point to `done` as soon as it is found; stops
/// when `opts.progress` is interrupted (a point whose solves were
/// interrupted is kept, marked not proven).
#[allow(clippy::too_many_arguments)]
pub fn pareto_each(
    inst: &Instance,
    first: Total,
    second: Total,
    max_points: usize,
    kind: BackendKind,
    opts: &SolveOptions,
    mut progress: impl FnMut(&str),
    mut done: impl FnMut(&ParetoPoint),
) -> Vec<ParetoPoint> {
    let mut out = Vec::new();
    let mut eps = f64::INFINITY;
    while out.len() < max_points && !opts.progress.interrupted() {
        progress(&format!(
            "point {}: {} ≤ {}",
            out.len() + 1,
            second.name(),
            crate::eval::sig(eps)
        ));
        let cap: Vec<(Total, f64)> = if eps.is_finite() {
            vec![(second, eps)]
        } else {
            Vec::new()
        };
        let b1 = build_with(inst, ObjectiveSpec::Single(first), None, &cap);
        let (o1, p1) = solve_built(&b1, kind, opts);
        let Some(p1) = p1 else { break };
        let f1 = total_of(evaluate(inst, &p1, None).totals, first);
        let mut rows = cap.clone();
        rows.push((first, f1 * (1.0 + 1e-9) + 1e-12));
        let b2 = build_with(inst, ObjectiveSpec::Single(second), None, &rows);
        let (o2, p2) = solve_built(&b2, kind, opts);
        let plan = p2.unwrap_or(p1);
        let ev = evaluate(inst, &plan, None);
        let (a, b) = (total_of(ev.totals, first), total_of(ev.totals, second));
        out.push(ParetoPoint {
            first: a,
            second: b,
            time: ev.totals.time,
            energy: ev.totals.energy,
            cost: ev.totals.cost,
            quantized: ev.quantized.clone(),
            proven: o1.status == Status::Optimal && o2.status == Status::Optimal,
        });
        done(out.last().expect("pushed"));
        eps = b - (1e-6 * b.abs()).max(1e-12);
        if eps < 0.0 {
            break;
        }
    }
    out
}
