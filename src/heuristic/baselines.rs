//! The TIDE paper's benchmarks (docs/heuristics.md): `centralized`, `prune`,
//! `multi-prune` and `orthogonalize`. Each returns a plan that the caller
//! judges with the evaluator, or `None` when it cannot place one.

use super::place::{objective_multipliers, place_all};
use crate::eval::evaluate;
use crate::instance::{Instance, PayoffTable};
use crate::plan::Plan;
use crate::reference::{reference_plan, ReferenceMethod};

/// The full parent DNN on the single most capable node for every task.
pub fn centralized(inst: &Instance) -> Plan {
    reference_plan(inst, ReferenceMethod::Centralized)
}

/// The full parent DNN for every task, split placement allowed (Step 2.2's
/// placer, shared deployment).
pub fn orthogonalize(inst: &Instance, payoff: Option<&PayoffTable>) -> Option<Plan> {
    let mult = objective_multipliers(inst, payoff);
    let used: Vec<Vec<bool>> = (0..inst.tasks.len()).map(|t| inst.own_atoms(t)).collect();
    place_all(inst, &used, &vec![false; inst.group_count()], true, mult).map(|p| p.plan())
}

/// Structured pruning of `frac` of each layer by `score` (highest kept,
/// mandatory atoms always kept, at least one atom per layer), then atoms
/// left without a used predecessor or successor dropped; `None` when that
/// disconnects a mandatory atom or the output. With several DNNs this
/// prunes each; a task then keeps its own DNN's part ([`own_part`]).
pub fn prune_selection(inst: &Instance, score: &[f64], frac: f64) -> Option<Vec<bool>> {
    let dnn = &inst.dnn;
    let mut used = vec![false; dnn.len()];
    for c in &dnn.components {
        used[c.input] = true;
        used[c.output] = true;
    }
    for (_, atoms) in &dnn.layers {
        let mut free: Vec<usize> = atoms
            .iter()
            .copied()
            .filter(|&a| !dnn.is_endpoint(a))
            .collect();
        if free.is_empty() {
            continue;
        }
        let keep = (((1.0 - frac) * free.len() as f64).ceil() as usize).clamp(1, free.len());
        free.sort_by(|&x, &y| score[y].total_cmp(&score[x]).then(x.cmp(&y)));
        for (i, &a) in free.iter().enumerate() {
            used[a] = i < keep || dnn.atoms[a].mandatory;
        }
    }
    loop {
        let mut dropped = false;
        for a in 0..dnn.len() {
            if !used[a] {
                continue;
            }
            let no_pred = !dnn.is_input(a) && !dnn.preds[a].iter().any(|&b| used[b]);
            let no_succ = !dnn.is_output(a) && !dnn.succs[a].iter().any(|&b| used[b]);
            if no_pred || no_succ {
                if dnn.is_endpoint(a) || dnn.atoms[a].mandatory {
                    return None;
                }
                used[a] = false;
                dropped = true;
            }
        }
        if !dropped {
            return Some(used);
        }
    }
}

/// The atoms of `sel` in task `t`'s own DNN.
pub fn own_part(inst: &Instance, t: usize, sel: &[bool]) -> Vec<bool> {
    (0..sel.len())
        .map(|a| sel[a] && inst.own_atom(t, a))
        .collect()
}

/// The pruning fractions tried: 50%, 55%, …, 95%.
pub const PRUNE_FRACTIONS: [f64; 10] = [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95];

/// `prune` (one selection for every task, by aggregate relevance Σ_t σ,
/// shared deployment) or `multi-prune` (each task pruned by its own
/// relevance, each counting its own copy in memory): every fraction, the
/// cheapest plan the evaluator finds feasible; `None` if no fraction gives
/// one (with the fraction count tried).
pub fn prune(inst: &Instance, payoff: Option<&PayoffTable>, multi: bool) -> Option<(f64, Plan)> {
    let mult = objective_multipliers(inst, payoff);
    let q = vec![false; inst.group_count()];
    let aggregate: Vec<f64> = (0..inst.dnn.len())
        .map(|a| inst.tasks.iter().map(|t| t.relevance[a]).sum())
        .collect();
    let mut best: Option<(f64, f64, Plan)> = None;
    for frac in PRUNE_FRACTIONS {
        let used: Option<Vec<Vec<bool>>> = if multi {
            inst.tasks
                .iter()
                .enumerate()
                .map(|(t, task)| {
                    prune_selection(inst, &task.relevance, frac).map(|u| own_part(inst, t, &u))
                })
                .collect()
        } else {
            prune_selection(inst, &aggregate, frac).map(|u| {
                (0..inst.tasks.len())
                    .map(|t| own_part(inst, t, &u))
                    .collect()
            })
        };
        let Some(used) = used else { continue };
        let Some(p) = place_all(inst, &used, &q, !multi, mult) else {
            continue;
        };
        let plan = p.plan();
        let ev = evaluate(inst, &plan, payoff);
        if !ev.feasible() {
            continue;
        }
        let s = mult.time * ev.totals.time
            + mult.energy * ev.totals.energy
            + mult.cost * ev.totals.cost;
        if best.as_ref().is_none_or(|b| s < b.0) {
            best = Some((s, frac, plan));
        }
    }
    best.map(|(_, f, p)| (f, p))
}
