//! `edgesplit compare`: every method on every instance, scored by the one
//! evaluator, with two gaps: to the MILP, and to the best plan known.
//!
//! A method that cannot quantize is compared with the MILP solved with
//! quantization off (the instance with no quantization groups); TIDE+Q and
//! cost-greedy-q with the MILP with quantization on. The first gap is
//! relative to the MILP optimum when it is proven, or to its best bound
//! when the time limit stopped it. The second is relative to the best
//! feasible plan any method of the table found on the same instance and
//! q_min (a loose bound says little about a heuristic; the best plan known
//! does), with the method that found it.
//!
//! Every MILP starts from a warm start ([`WarmStart`], by default
//! cost-greedy-q's plan; the run without quantization from the same method
//! run on the instance without groups); its row names the start and the
//! start's objective.

use super::warm::{resolve, StartInfo, WarmStart};
use super::{run, Method};
use crate::eval::Evaluation;
use crate::instance::{Instance, NoiseModel, PayoffTable};
use crate::plan::Plan;
use crate::solve::{solve_instance, BackendKind, SolveOptions, SolveReport, Status};
use serde::Serialize;
use std::time::Instant;

/// A method of the comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareMethod {
    /// A heuristic or benchmark.
    Heuristic(Method),
    /// The MILP with a backend (`milp:highs`).
    Milp(BackendKind),
}

impl std::str::FromStr for CompareMethod {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.strip_prefix("milp:") {
            Some(b) => b
                .parse::<BackendKind>()
                .map(CompareMethod::Milp)
                .map_err(|e| e.to_string()),
            None => s.parse::<Method>().map(CompareMethod::Heuristic),
        }
    }
}

/// One line of the comparison.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// Instance name.
    pub instance: String,
    /// The common q_min imposed on every task, if one was.
    pub q_min: Option<f64>,
    /// Method name (`tide`, `milp:highs`, `milp:highs (q off)`).
    pub method: String,
    /// Decisions the method was allowed (y atoms, z placement, q quantization).
    pub decisions: String,
    /// `feasible`, `infeasible`, or the MILP status.
    pub status: String,
    /// The evaluator found the plan feasible.
    pub feasible: bool,
    /// Objective per the evaluator.
    pub objective: Option<f64>,
    /// T (s).
    pub time: Option<f64>,
    /// E (W).
    pub energy: Option<f64>,
    /// C (per s).
    pub cost: Option<f64>,
    /// Mean atoms per task (input and output atoms included).
    pub atoms_mean: Option<f64>,
    /// Fewest atoms of a task.
    pub atoms_min: Option<usize>,
    /// Most atoms of a task.
    pub atoms_max: Option<usize>,
    /// Atoms used by some task.
    pub atoms_union: Option<usize>,
    /// Wall-clock seconds.
    pub wall_time_s: f64,
    /// The MILP row the gap refers to.
    pub reference: Option<String>,
    /// `optimum` or `bound`.
    pub reference_kind: Option<String>,
    /// (objective − reference) / |reference|.
    pub gap: Option<f64>,
    /// (objective − best) / |best|, best the lowest objective of a feasible
    /// row of the same instance and q_min.
    pub gap_to_best: Option<f64>,
    /// The method of that best row.
    pub best_method: Option<String>,
    /// MILP rows: the warm start (`cost-greedy-q (0.6034)`, `none`, …).
    pub start: Option<String>,
    /// MILP rows: the warm start's objective per the evaluator.
    pub start_objective: Option<f64>,
    /// objective / objective of the `centralized` row of the same instance
    /// and q_min (TIDE's normalized cost), when that row is in the table.
    pub vs_centralized: Option<f64>,
    /// Notes.
    pub message: Option<String>,
}

/// The instance with quantization switched off (no groups, no noise).
pub fn without_quantization(inst: &Instance) -> Instance {
    let mut i = inst.clone();
    i.quantization.groups.clear();
    i.quantization.noise = NoiseModel::default();
    for a in &mut i.dnn.atoms {
        a.group = None;
    }
    i
}

/// The instance with every task's q_min set to `q`.
pub fn with_min_quality(inst: &Instance, q: f64) -> Instance {
    let mut i = inst.clone();
    for t in &mut i.tasks {
        t.min_quality = q;
    }
    i
}

fn fill(row: &mut Row, plan: Option<&Plan>, ev: Option<&Evaluation>) {
    let (Some(plan), Some(ev)) = (plan, ev) else {
        return;
    };
    row.feasible = ev.feasible();
    row.objective = ev.objective;
    row.time = Some(ev.totals.time);
    row.energy = Some(ev.totals.energy);
    row.cost = Some(ev.totals.cost);
    let counts: Vec<usize> = ev.tasks.iter().map(|t| t.atoms_used).collect();
    row.atoms_mean = Some(counts.iter().sum::<usize>() as f64 / counts.len().max(1) as f64);
    row.atoms_min = counts.iter().copied().min();
    row.atoms_max = counts.iter().copied().max();
    let an = plan.placement.first().map_or(0, Vec::len);
    row.atoms_union = Some(
        (0..an)
            .filter(|&a| plan.placement.iter().any(|r| r[a].is_some()))
            .count(),
    );
}

fn empty_row(instance: &str, q_min: Option<f64>, method: String, decisions: &str) -> Row {
    Row {
        instance: instance.to_string(),
        q_min,
        method,
        decisions: decisions.to_string(),
        status: String::new(),
        feasible: false,
        objective: None,
        time: None,
        energy: None,
        cost: None,
        atoms_mean: None,
        atoms_min: None,
        atoms_max: None,
        atoms_union: None,
        wall_time_s: 0.0,
        reference: None,
        reference_kind: None,
        gap: None,
        gap_to_best: None,
        best_method: None,
        start: None,
        start_objective: None,
        vs_centralized: None,
        message: None,
    }
}

/// The MILP's reference value: the optimum, or the best bound at a limit.
fn reference_value(rep: &SolveReport) -> Option<(f64, &'static str)> {
    match rep.status {
        Status::Optimal => rep.evaluated_objective.map(|o| (o, "optimum")),
        Status::Feasible | Status::Interrupted | Status::NoSolution => {
            rep.best_bound.map(|b| (b, "bound"))
        }
        _ => None,
    }
}

fn milp_row(
    inst: &Instance,
    name: &str,
    q_min: Option<f64>,
    kind: BackendKind,
    rep: &SolveReport,
    q_off: bool,
    start: &StartInfo,
) -> Row {
    let label = if q_off {
        format!("milp:{} (q off)", kind.name())
    } else {
        format!("milp:{}", kind.name())
    };
    // Without groups there is nothing to quantize: the MILP chooses y and z.
    let decisions = if q_off || inst.group_count() == 0 {
        "y, z"
    } else {
        "y, z, q"
    };
    let mut row = empty_row(name, q_min, label, decisions);
    row.status = rep.status.to_string();
    row.start = Some(start.label());
    row.start_objective = start.objective;
    let plan = rep.plan.as_ref().map(|p| Plan {
        placement: p.placement.clone(),
        quantized: if q_off {
            vec![false; inst.group_count()]
        } else {
            p.quantized.clone()
        },
    });
    let ev = plan
        .as_ref()
        .map(|p| crate::eval::evaluate(inst, p, rep.payoff.as_ref()));
    fill(&mut row, plan.as_ref(), ev.as_ref());
    if let Some((v, k)) = reference_value(rep) {
        if let Some(o) = row.objective {
            row.gap = gap(o, v);
            row.reference = Some(row.method.clone());
            row.reference_kind = Some(k.into());
        }
    }
    row.message = rep
        .limit
        .clone()
        .map(|l| format!("limit: {l}"))
        .or(rep.message.clone());
    row
}

/// A MILP row usable as a reference: quantization off?, its label, and
/// its optimum or bound.
type Reference = (bool, String, Option<(f64, &'static str)>);

/// (obj − reference) / |reference|; none when the reference is so close to
/// zero next to the objective (a MILP bound stuck at 0, say) that the ratio
/// would only measure rounding.
fn gap(obj: f64, reference: f64) -> Option<f64> {
    (reference.abs() > 1e-9 * obj.abs().max(1e-300)).then(|| (obj - reference) / reference.abs())
}

/// The warm starts of the MILP with quantization on and off.
fn starts(inst: &Instance, ws: &WarmStart) -> [(Option<Plan>, StartInfo); 2] {
    let err = |e: crate::Error| {
        (
            None,
            StartInfo {
                source: "error".into(),
                used: false,
                objective: None,
                message: Some(e.to_string()),
            },
        )
    };
    let on = resolve(inst, ws).unwrap_or_else(err);
    let off = match ws {
        // The method's own run without groups: a start that may not quantize.
        WarmStart::Method(_) => resolve(&without_quantization(inst), ws).unwrap_or_else(err),
        // A start that quantizes nothing is also a start without groups.
        _ => match &on.0 {
            Some(p) if p.quantized.iter().all(|q| !q) => (
                Some(Plan {
                    placement: p.placement.clone(),
                    quantized: Vec::new(),
                }),
                on.1.clone(),
            ),
            Some(_) => (
                None,
                StartInfo {
                    used: false,
                    message: Some("the plan quantizes".into()),
                    ..on.1.clone()
                },
            ),
            None => on.clone(),
        },
    };
    [on, off]
}

/// Every method on one instance; `progress` is called after each method
/// with what was done and the rows so far (the columns that compare rows
/// with each other, `vs_centralized` and the gap to the best, are filled
/// only in the rows returned at the end).
/// Every MILP runs with `base` (time limit, threads, …) and starts from
/// `warm_start` (see [`WarmStart`]; `base.initial` is ignored).
pub fn compare_instance(
    inst: &Instance,
    q_min: Option<f64>,
    methods: &[CompareMethod],
    base: &SolveOptions,
    warm_start: &WarmStart,
    mut progress: impl FnMut(&str, &[Row]),
) -> Vec<Row> {
    let name = inst.name.as_str();
    let mut rows = Vec::new();
    // MILPs first: their payoff table (if any) and reference values serve
    // the heuristics.
    let mut refs: Vec<Reference> = Vec::new();
    let mut payoff: Option<PayoffTable> = None;
    let has_groups = inst.group_count() > 0;
    let need_off = has_groups
        && methods
            .iter()
            .any(|m| matches!(m, CompareMethod::Heuristic(h) if !h.quantizes()));
    let any_milp = methods.iter().any(|m| matches!(m, CompareMethod::Milp(_)));
    let [on, off] = if any_milp {
        starts(inst, warm_start)
    } else {
        let none = resolve(inst, &WarmStart::None).expect("no start");
        [none.clone(), none]
    };
    for m in methods {
        let CompareMethod::Milp(kind) = *m else {
            continue;
        };
        let opts = SolveOptions {
            initial: on.0.clone(),
            ..base.clone()
        };
        let t0 = Instant::now();
        let rep = solve_instance(inst, kind, &opts);
        let secs = t0.elapsed().as_secs_f64();
        payoff = payoff.or(rep.payoff);
        let mut row = milp_row(inst, name, q_min, kind, &rep, false, &on.1);
        row.wall_time_s = secs;
        refs.push((false, row.method.clone(), reference_value(&rep)));
        if !has_groups {
            refs.push((true, row.method.clone(), reference_value(&rep)));
        }
        rows.push(row);
        progress(&format!("{name}: milp:{}", kind.name()), &rows);
        if need_off {
            let off_inst = without_quantization(inst);
            let off_opts = SolveOptions {
                initial: off.0.clone(),
                ..opts.clone()
            };
            let t0 = Instant::now();
            let rep = solve_instance(&off_inst, kind, &off_opts);
            let secs = t0.elapsed().as_secs_f64();
            let mut row = milp_row(inst, name, q_min, kind, &rep, true, &off.1);
            row.wall_time_s = secs;
            refs.push((true, row.method.clone(), reference_value(&rep)));
            rows.push(row);
            progress(&format!("{name}: milp:{} (q off)", kind.name()), &rows);
        }
    }
    for m in methods {
        let CompareMethod::Heuristic(h) = *m else {
            continue;
        };
        let out = run(inst, h, payoff.as_ref());
        let mut row = empty_row(name, q_min, h.name().into(), h.decisions());
        row.wall_time_s = out.wall_time_s;
        fill(&mut row, out.plan.as_ref(), out.evaluation.as_ref());
        row.status = if out.feasible() {
            "feasible"
        } else {
            "infeasible"
        }
        .into();
        row.message = out.message.clone();
        let want_off = !h.quantizes();
        if let Some((_, label, Some((v, k)))) = refs.iter().find(|r| r.0 == want_off) {
            if let (Some(o), true) = (row.objective, row.feasible) {
                row.gap = gap(o, *v);
                row.reference = Some(label.clone());
                row.reference_kind = Some((*k).into());
            }
        }
        rows.push(row);
        progress(&format!("{name}: {}", h.name()), &rows);
    }
    let central = rows
        .iter()
        .find(|r| r.method == Method::Centralized.name())
        .and_then(|r| r.objective)
        .filter(|&c| c.abs() > 1e-12);
    if let Some(c) = central {
        for r in &mut rows {
            r.vs_centralized = r.objective.map(|o| o / c);
        }
    }
    set_gap_to_best(&mut rows);
    rows
}

/// Each row's gap to the best feasible plan of the rows (the first row
/// reaching the lowest objective names it).
pub fn set_gap_to_best(rows: &mut [Row]) {
    let best = rows
        .iter()
        .filter(|r| r.feasible)
        .filter_map(|r| r.objective.map(|o| (o, r.method.clone())))
        .fold(None::<(f64, String)>, |b, (o, m)| match b {
            Some((bo, _)) if bo <= o => b,
            _ => Some((o, m)),
        });
    let Some((b, by)) = best else { return };
    for r in rows.iter_mut().filter(|r| r.feasible) {
        if let Some(o) = r.objective {
            r.gap_to_best = gap(o, b).or((o == b).then_some(0.0));
            r.best_method = Some(by.clone());
        }
    }
}

fn num(x: Option<f64>) -> String {
    x.map(crate::eval::sig).unwrap_or_else(|| "–".into())
}

/// The rows as a Markdown table.
pub fn markdown(rows: &[Row]) -> String {
    use crate::table::Column;
    let (l, r) = (Column::left, Column::right);
    let cols = [
        l("instance"),
        r("q_min"),
        l("method"),
        l("decisions"),
        l("status"),
        r("objective"),
        r("T (s)"),
        r("E (W)"),
        r("C (/s)"),
        r("÷ centralized"),
        l("atoms/task mean (min–max)"),
        r("union"),
        r("wall (s)"),
        r("gap to bound"),
        l("vs"),
        r("gap to best"),
        l("best by"),
        l("start"),
    ];
    let pct = |g: Option<f64>| {
        g.map(|g| format!("{:.2}%", 100.0 * g))
            .unwrap_or_else(|| "–".into())
    };
    let cells = rows.iter().map(|r| {
        let atoms = match (r.atoms_mean, r.atoms_min, r.atoms_max) {
            (Some(m), Some(a), Some(b)) => format!("{m:.1} ({a}–{b})"),
            _ => "–".into(),
        };
        let vs = match (&r.reference, &r.reference_kind) {
            (Some(m), Some(k)) => format!("{k} of {m}"),
            _ => "–".into(),
        };
        vec![
            r.instance.clone(),
            num(r.q_min),
            r.method.clone(),
            r.decisions.clone(),
            r.status.clone(),
            num(r.objective),
            num(r.time),
            num(r.energy),
            num(r.cost),
            num(r.vs_centralized),
            atoms,
            r.atoms_union.map_or("–".into(), |u| u.to_string()),
            format!("{:.3}", r.wall_time_s),
            pct(r.gap),
            vs,
            pct(r.gap_to_best),
            r.best_method.clone().unwrap_or_else(|| "–".into()),
            r.start.clone().unwrap_or_else(|| "–".into()),
        ]
    });
    crate::table::markdown(&cols, cells)
}

/// The rows as CSV.
pub fn csv(rows: &[Row]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record([
        "instance",
        "q_min",
        "method",
        "decisions",
        "status",
        "feasible",
        "objective",
        "time",
        "energy",
        "cost",
        "vs_centralized",
        "atoms_mean",
        "atoms_min",
        "atoms_max",
        "atoms_union",
        "wall_time_s",
        "reference",
        "reference_kind",
        "gap",
        "gap_to_best",
        "best_method",
        "start",
        "start_objective",
        "message",
    ]);
    let o = |x: Option<f64>| x.map(|v| v.to_string()).unwrap_or_default();
    let u = |x: Option<usize>| x.map(|v| v.to_string()).unwrap_or_default();
    for r in rows {
        let _ = w.write_record([
            r.instance.clone(),
            o(r.q_min),
            r.method.clone(),
            r.decisions.clone(),
            r.status.clone(),
            r.feasible.to_string(),
            o(r.objective),
            o(r.time),
            o(r.energy),
            o(r.cost),
            o(r.vs_centralized),
            o(r.atoms_mean),
            u(r.atoms_min),
            u(r.atoms_max),
            u(r.atoms_union),
            r.wall_time_s.to_string(),
            r.reference.clone().unwrap_or_default(),
            r.reference_kind.clone().unwrap_or_default(),
            o(r.gap),
            o(r.gap_to_best),
            r.best_method.clone().unwrap_or_default(),
            r.start.clone().unwrap_or_default(),
            o(r.start_objective),
            r.message.clone().unwrap_or_default(),
        ]);
    }
    String::from_utf8(w.into_inner().expect("in-memory CSV")).expect("CSV is UTF-8")
}

#[cfg(test)]
mod tests {
    use super::gap;

    #[test]
    fn gap_is_relative_and_silent_against_a_zero_bound() {
        assert!((gap(1.1, 1.0).unwrap() - 0.1).abs() < 1e-12);
        assert!((gap(-0.9, -1.0).unwrap() - 0.1).abs() < 1e-12);
        assert_eq!(gap(0.0147, 1e-15), None);
        assert_eq!(gap(0.0147, 0.0), None);
    }
}
