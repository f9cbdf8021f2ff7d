//! The choice of variant (pruning factor or full model), fine-tuning and
//! pipeline as a MILP on the common [`Model`], solved by any backend.
//!
//! One binary `x(o)` per choice `o` of [`PipelineInstance::choices`], with
//! the evaluator's numbers for the instance's Q as coefficients:
//!
//! ```text
//! min   Σ_o (w_T T_o + w_E E_o + w_B B_o) x(o)
//! s.t.  Σ_o x(o) = 1                                  one_choice
//!       Σ_o acc_o x(o) ≥ min_accuracy                 min_accuracy
//!       Σ_o T_o x(o) ≤ max_latency_s                  max_latency       (if set)
//!       Σ_o E_o x(o) ≤ max_device_energy_j            device_energy     (if set)
//!       Σ_o B_o x(o) ≤ max_data_bytes                 max_data          (if set)
//! ```
//!
//! plus readable selector columns that expose the three factors of the
//! decision: `prune(full|pfNN)` = Σ of x over that variant,
//! `fine_tune(edge|device)` and `infer(device)` = Σ of x over the choices
//! with that property (rows `link_*`). They add no freedom: x fixes them.
//! The number of choices is small (5 per pruned variant + 2), so
//! [`eval::enumerate_best`] solves the same problem exactly; [`solve`]
//! checks the two against each other.

use super::eval::{self, ChoiceEval};
use super::{Choice, Pipeline, PipelineInstance};
use crate::milp::model::{Model, ModelSize, Sense, Var};
use crate::solve::{BackendKind, SolveOptions, SolveOutcome, Status};
use serde::Serialize;
use std::time::Instant;

/// One metric of an evaluated choice.
type Metric = fn(&ChoiceEval) -> f64;

/// The model and the choice behind each `x` column.
pub struct Built {
    /// The MILP.
    pub model: Model,
    /// `x` columns, one per choice.
    pub x: Vec<(Var, Choice)>,
}

impl Built {
    /// The choice whose `x` is 1 in `values`.
    pub fn choice(&self, values: &[f64]) -> Option<Choice> {
        self.x
            .iter()
            .filter(|(v, _)| values.get(v.0).is_some_and(|&x| x > 0.5))
            .map(|&(_, c)| c)
            .next()
    }
}

/// Builds the choice MILP of `inst` for its Q.
pub fn build(inst: &PipelineInstance) -> Built {
    let mut m = Model::default();
    let evals = eval::evaluate_all(inst);
    let mut x = Vec::new();
    for e in &evals {
        let name = format!(
            "x({},{})",
            inst.variants[e.choice.variant].name,
            e.choice.pipeline.name().replace('/', "_")
        );
        let v = m.binary(name);
        m.columns[v.0].obj = e.objective;
        x.push((v, e.choice));
    }
    let all: Vec<(Var, f64)> = x.iter().map(|&(v, _)| (v, 1.0)).collect();
    m.add_row("one_choice".into(), all, Sense::Eq, 1.0);
    let r = &inst.requirements;
    if r.min_accuracy > 0.0 {
        let terms = evals
            .iter()
            .zip(&x)
            .map(|(e, &(v, _))| (v, e.accuracy))
            .collect();
        m.add_row(
            "min_accuracy".into(),
            terms,
            Sense::Ge,
            r.min_accuracy - 1e-9,
        );
    }
    let limits: [(&str, Option<f64>, Metric); 3] = [
        ("max_latency", r.max_latency_s, |e| e.latency_s),
        ("device_energy", r.max_device_energy_j, |e| {
            e.device_energy_j
        }),
        ("max_data", r.max_data_bytes, |e| e.data_bytes),
    ];
    for (name, limit, f) in limits {
        if let Some(l) = limit {
            let terms = evals.iter().zip(&x).map(|(e, &(v, _))| (v, f(e))).collect();
            m.add_row(name.into(), terms, Sense::Le, l);
        }
    }
    // Selector columns: which variant, where fine-tuning runs, where
    // inference runs.
    let link = |m: &mut Model, name: String, pick: &dyn Fn(Choice) -> bool| {
        let s = m.binary(name.clone());
        let mut terms: Vec<(Var, f64)> = x
            .iter()
            .filter(|(_, c)| pick(*c))
            .map(|&(v, _)| (v, 1.0))
            .collect();
        terms.push((s, -1.0));
        m.add_row(format!("link_{name}"), terms, Sense::Eq, 0.0);
    };
    for (vi, v) in inst.variants.iter().enumerate() {
        link(&mut m, format!("prune({})", v.name), &|c| c.variant == vi);
    }
    link(&mut m, "fine_tune(edge)".into(), &|c| {
        matches!(c.pipeline, Pipeline::EFtEInf | Pipeline::EFtDInf)
    });
    link(&mut m, "fine_tune(device)".into(), &|c| {
        c.pipeline == Pipeline::DFtDInf
    });
    link(&mut m, "infer(device)".into(), &|c| {
        c.pipeline.infers_on_device()
    });
    Built { model: m, x }
}

/// What `edgesplit solve` reports for a pipeline instance.
#[derive(Debug, Clone, Serialize)]
pub struct PipelineSolveReport {
    /// Instance name.
    pub instance: String,
    /// Backend name.
    pub solver: String,
    /// Q.
    pub requests: u64,
    /// How the solve ended (`error` also when the evaluator or the
    /// enumeration disagrees).
    pub status: Status,
    /// Backend messages, disagreements.
    pub message: Option<String>,
    /// Objective the MILP reports.
    pub milp_objective: Option<f64>,
    /// Objective of the MILP's choice per the evaluator.
    pub evaluated_objective: Option<f64>,
    /// Optimum found by enumerating every choice.
    pub enumerated_objective: Option<f64>,
    /// Seconds to build the model.
    pub build_time_s: f64,
    /// Seconds in the backend.
    pub solve_time_s: f64,
    /// Model size.
    pub model: ModelSize,
    /// The evaluator's view of the chosen option.
    pub evaluation: Option<ChoiceEval>,
}

impl PipelineSolveReport {
    /// The chosen option.
    pub fn choice(&self) -> Option<Choice> {
        self.evaluation.as_ref().map(|e| e.choice)
    }
}

fn agree(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * a.abs().max(b.abs()).max(1.0)
}

/// Builds and solves the MILP of `inst` with `kind`, then checks the chosen
/// option with the evaluator and the optimum against enumeration.
pub fn solve(
    inst: &PipelineInstance,
    kind: BackendKind,
    opts: &SolveOptions,
) -> PipelineSolveReport {
    let t0 = Instant::now();
    let built = build(inst);
    let build_time_s = t0.elapsed().as_secs_f64();
    let outcome = match kind.backend() {
        Ok(b) => b.solve(&built.model, opts, &[]),
        Err(e) => SolveOutcome::error(e, 0.0),
    };
    let best = eval::enumerate_best(inst);
    let mut rep = PipelineSolveReport {
        instance: inst.name.clone(),
        solver: kind.name().into(),
        requests: inst.requests,
        status: outcome.status,
        message: outcome.message.clone(),
        milp_objective: outcome.objective,
        evaluated_objective: None,
        enumerated_objective: best.as_ref().map(|b| b.objective),
        build_time_s,
        solve_time_s: outcome.solve_time_s,
        model: built.model.size(),
        evaluation: None,
    };
    let choice = outcome.values.as_ref().and_then(|v| built.choice(v));
    if let Some(c) = choice {
        let ev = eval::evaluate(inst, c);
        rep.evaluated_objective = Some(ev.objective);
        let problem = if !ev.feasible() {
            Some(format!(
                "the solver's choice {} is infeasible per the evaluator: {}",
                ev.label,
                ev.violations.join("; ")
            ))
        } else if let Some(m) = outcome.objective.filter(|&m| !agree(m, ev.objective)) {
            Some(format!(
                "MILP objective {m} and evaluator objective {} disagree",
                ev.objective
            ))
        } else if let Some(b) = best
            .as_ref()
            .filter(|b| outcome.status == Status::Optimal && !agree(b.objective, ev.objective))
        {
            Some(format!(
                "the MILP optimum {} ({}) differs from the enumerated optimum {} ({})",
                ev.objective, ev.label, b.objective, b.label
            ))
        } else {
            None
        };
        if let Some(p) = problem {
            rep.status = Status::Error;
            rep.message = Some(p);
        }
        rep.evaluation = Some(ev);
    } else if outcome.status == Status::Infeasible {
        if let Some(b) = &best {
            rep.status = Status::Error;
            rep.message = Some(format!(
                "the solver says infeasible, but {} meets every requirement (objective {})",
                b.label, b.objective
            ));
        }
    }
    rep
}
