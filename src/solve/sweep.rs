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
use std::path::{Path, PathBuf};

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
    /// The plan, when the solve found a feasible one.
    #[serde(skip)]
    pub plan: Option<crate::plan::Plan>,
}

/// A copy of `inst` whose compute atoms may only run on `nodes` (input and
/// output stay at each task's source and sink).
pub fn restrict_nodes(inst: &Instance, nodes: &[NodeIx]) -> Instance {
    let mut i = inst.clone();
    let dnn = &inst.dnn;
    i.rules.push(PlacementRule {
        name: "sweep node set".into(),
        tasks: (0..inst.tasks.len()).collect(),
        atoms: (0..dnn.len()).filter(|&a| !dnn.is_endpoint(a)).collect(),
        allowed: (0..inst.network.len())
            .map(|n| nodes.contains(&n))
            .collect(),
    });
    i.families.switch("rules", true);
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
        i.families.switch("noise", true);
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
                plan: plan.filter(|_| ok),
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
    /// The plan of the point.
    #[serde(skip)]
    pub plan: Option<crate::plan::Plan>,
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
            plan: Some(plan.clone()),
        });
        done(out.last().expect("pushed"));
        eps = b - (1e-6 * b.abs()).max(1e-12);
        if eps < 0.0 {
            break;
        }
    }
    out
}

/// The folder the plans of a sweep or front go to, beside its CSV:
/// `sweep.csv` → `sweep-plans/`.
pub fn plans_dir(csv: &Path) -> PathBuf {
    let stem = csv
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "points".into());
    csv.with_file_name(format!("{stem}-plans"))
}

/// The file name of a sweep point's plan: `CURVE-max_noise-LIMIT.yaml`.
pub fn sweep_plan_name(p: &SweepPoint) -> String {
    let curve: String = p
        .curve
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || "+-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{curve}-max_noise-{}.yaml", p.limit)
}

/// The file name of the plan of Pareto point `i` (0-based): `point-01.yaml`.
pub fn pareto_plan_name(i: usize) -> String {
    format!("point-{:02}.yaml", i + 1)
}

fn save_plans<'a>(
    inst: &Instance,
    dir: &Path,
    method: &str,
    plans: impl Iterator<Item = (String, &'a crate::plan::Plan)>,
) -> Result<usize, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut n = 0;
    for (name, plan) in plans {
        plan.save(&dir.join(name), inst, Some(method))
            .map_err(|e| e.to_string())?;
        n += 1;
    }
    Ok(n)
}

/// Writes what `edgesplit sweep` writes after its CSV: the plan of every
/// point that has one into [`plans_dir`] (named by [`sweep_plan_name`]),
/// and the SVG plot of latency against the noise limit, one curve per node
/// set with the limits that had no feasible plan marked. Returns the plans
/// folder.
pub fn write_sweep_outputs(
    inst: &Instance,
    points: &[SweepPoint],
    csv: &Path,
    svg: &Path,
) -> Result<PathBuf, String> {
    let dir = plans_dir(csv);
    save_plans(
        inst,
        &dir,
        "sweep",
        points
            .iter()
            .filter_map(|p| p.plan.as_ref().map(|pl| (sweep_plan_name(p), pl))),
    )?;
    let mut curves: Vec<crate::plot::Series> = Vec::new();
    for p in points {
        if curves.last().is_none_or(|c| c.name != p.curve) {
            curves.push(crate::plot::Series::new(p.curve.clone(), Vec::new()));
        }
        let c = curves.last_mut().expect("pushed");
        match p.time {
            Some(t) => c.points.push((p.limit, t)),
            None => c.missing.push(p.limit),
        }
    }
    crate::plot::line_chart(
        svg,
        &format!("{}: latency against the noise limit", inst.name),
        "noise limit max_noise (η, dimensionless)",
        "T, rate-weighted mean delay (s)",
        &curves,
    )?;
    Ok(dir)
}

/// The axis label of an objective, with its unit.
pub fn total_axis(t: Total) -> &'static str {
    match t {
        Total::Time => "T, rate-weighted mean delay (s)",
        Total::Energy => "E, average power (W)",
        Total::Cost => "C, cost per second (price units/s)",
    }
}

/// Writes what `edgesplit pareto` writes after its CSV: the plan of every
/// point into [`plans_dir`] (named by [`pareto_plan_name`]) and the SVG
/// plot of the front, each point labelled with its number (its plan file)
/// and its quantized groups. Returns the plans folder.
pub fn write_pareto_outputs(
    inst: &Instance,
    front: &[ParetoPoint],
    first: Total,
    second: Total,
    csv: &Path,
    svg: &Path,
) -> Result<PathBuf, String> {
    let dir = plans_dir(csv);
    save_plans(
        inst,
        &dir,
        "pareto",
        front
            .iter()
            .enumerate()
            .filter_map(|(i, p)| p.plan.as_ref().map(|pl| (pareto_plan_name(i), pl))),
    )?;
    let mut series = crate::plot::Series::new(
        "Pareto front (label: point, quantized groups)",
        front.iter().map(|p| (p.first, p.second)).collect(),
    );
    series.labels = front
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let q = if p.quantized.is_empty() {
                "none".to_string()
            } else {
                p.quantized.join("+")
            };
            format!(
                "#{}: q {q}{}",
                i + 1,
                if p.proven { "" } else { " (not proven)" }
            )
        })
        .collect();
    crate::plot::line_chart(
        svg,
        &format!("{}: Pareto front", inst.name),
        total_axis(first),
        total_axis(second),
        &[series],
    )?;
    Ok(dir)
}
