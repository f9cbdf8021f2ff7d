//! TIDE (Malandrino et al., 2026, Sec. III, Step 2; docs/heuristics.md) and TIDE+Q.
//!
//! * Step 2.1 shrinks the task–atom assignment Y greedily. The value
//!   `val(Y) = H(Y) − Σ_t [A_Y(t) − η(t)]⁺` trades the entropy rate
//!   ([`EntropyRate`], updated in O(1) per removed pair) against the
//!   targets η(t); the selector L(Y) admits a removal only if the task still
//!   meets its quality constraint and its sub-DNN stays connected. The pair
//!   removed is the admissible one that lowers val the least, as long as
//!   val does not decrease.
//! * Step 2.2 places the sub-DNNs ([`super::place`]).
//! * Step 2.3 takes the non-blacklisted task with the highest objective
//!   term, sets `η(t*) = A_Y(t*) − 1`, re-runs 2.1 and re-places t*; a task
//!   that cannot be brought to its target is blacklisted (and frozen), and
//!   then every task is re-placed from scratch. It stops when every task is
//!   blacklisted.
//!
//! The plan returned is the best state met on the way (by the placer's
//! objective) whose from-scratch placement the evaluator finds feasible,
//! trying the recorded improving states from the best one down.
//!
//! TIDE+Q then quantizes groups greedily, best objective gain per unit of
//! added noise first, while the noise bound and every task's quality hold.

use super::entropy::EntropyRate;
use super::place::{objective_multipliers, place_all, task_order, Placer};
use crate::eval::evaluate;
use crate::instance::{Instance, PayoffTable, Tec};
use crate::plan::Plan;

/// The task–atom assignment Y with what L(Y) needs, kept incrementally.
pub struct Selection<'a> {
    inst: &'a Instance,
    /// `used[t][a]`: (a,t) ∈ Y.
    pub used: Vec<Vec<bool>>,
    /// A_Y(t).
    pub count: Vec<usize>,
    npred: Vec<Vec<u32>>,
    nsucc: Vec<Vec<u32>>,
    kept: Vec<f64>,
    total: Vec<f64>,
    noise: f64,
    /// The minimum-width rows each atom belongs to (when the family is on).
    width_of: Vec<Vec<usize>>,
    /// `wcount[t][w]`: atoms of row w that task t keeps.
    wcount: Vec<Vec<usize>>,
}

impl<'a> Selection<'a> {
    /// The full assignment; `noise` is η(q) for the quality check.
    pub fn full(inst: &'a Instance, noise: f64) -> Selection<'a> {
        let dnn = &inst.dnn;
        let tn = inst.tasks.len();
        let npred: Vec<u32> = dnn.preds.iter().map(|p| p.len() as u32).collect();
        let nsucc: Vec<u32> = dnn.succs.iter().map(|s| s.len() as u32).collect();
        let mut width_of = vec![Vec::new(); dnn.len()];
        if inst.families.on("width") {
            for (w, row) in inst.min_width.iter().enumerate() {
                for &a in &row.atoms {
                    width_of[a].push(w);
                }
            }
        }
        let wcount = vec![inst.min_width.iter().map(|w| w.atoms.len()).collect(); tn];
        Selection {
            inst,
            // Each task starts from its own DNN, whole (another DNN's
            // atoms have no used neighbour, so they are never added).
            used: (0..tn).map(|t| inst.own_atoms(t)).collect(),
            count: inst
                .tasks
                .iter()
                .map(|t| dnn.atoms_of(t.dnn).len())
                .collect(),
            npred: vec![npred; tn],
            nsucc: vec![nsucc; tn],
            kept: inst.tasks.iter().map(|t| t.total_relevance()).collect(),
            total: inst.tasks.iter().map(|t| t.total_relevance()).collect(),
            noise,
            width_of,
            wcount,
        }
    }

    /// The assignment `used` (a selection the caller knows to be connected).
    pub fn from_used(inst: &'a Instance, noise: f64, used: &[Vec<bool>]) -> Selection<'a> {
        let mut sel = Selection::full(inst, noise);
        for (t, row) in used.iter().enumerate() {
            for (a, &u) in row.iter().enumerate() {
                if !u {
                    sel.remove(t, a);
                }
            }
        }
        sel
    }

    /// Whether task t would keep its quality with `kept` relevance.
    pub fn quality_holds(&self, t: usize, kept: f64) -> bool {
        self.quality_ok(t, kept)
    }

    /// Relevance task t keeps.
    pub fn kept(&self, t: usize) -> f64 {
        self.kept[t]
    }

    /// Every minimum-width row binding t that holds a still keeps at
    /// least its k without a (`except` counted as kept: a swap partner).
    pub fn width_allows_removal(&self, t: usize, a: usize, except: Option<usize>) -> bool {
        self.width_of[a].iter().all(|&w| {
            let row = &self.inst.min_width[w];
            let back = except.is_some_and(|b| self.width_of[b].contains(&w)) as usize;
            !row.tasks.contains(&t) || self.wcount[t][w] + back > row.k
        })
    }

    /// Connectivity of t's sub-DNN without a, with `b` (if any) added.
    pub fn connected_without(&self, t: usize, a: usize, b: Option<usize>) -> bool {
        let dnn = &self.inst.dnn;
        let u = &self.used[t];
        let is_b = |x: usize| b == Some(x);
        // a successor x of a keeps a used predecessor (b counts).
        dnn.succs[a].iter().all(|&x| {
            !(u[x] || is_b(x))
                || self.npred[t][x] >= 2
                || b.is_some_and(|b| dnn.preds[x].contains(&b))
                || is_b(x) && dnn.preds[x].iter().any(|&p| p != a && u[p])
        }) && dnn.preds[a].iter().all(|&x| {
            !(u[x] || is_b(x))
                || self.nsucc[t][x] >= 2
                || b.is_some_and(|b| dnn.succs[x].contains(&b))
                || is_b(x) && dnn.succs[x].iter().any(|&s| s != a && u[s])
        })
    }

    /// Whether an unused b could join t's sub-DNN without a (b needs a used
    /// predecessor and a used successor other than a).
    pub fn addable_without(&self, t: usize, b: usize, a: Option<usize>) -> bool {
        let dnn = &self.inst.dnn;
        let u = &self.used[t];
        !u[b]
            && dnn.preds[b].iter().any(|&p| u[p] && Some(p) != a)
            && dnn.succs[b].iter().any(|&s| u[s] && Some(s) != a)
    }

    /// Puts a (unused) back into task t's sub-DNN.
    pub fn add(&mut self, t: usize, a: usize) {
        let dnn = &self.inst.dnn;
        self.used[t][a] = true;
        self.count[t] += 1;
        self.kept[t] += self.inst.tasks[t].relevance[a];
        for &b in &dnn.succs[a] {
            self.npred[t][b] += 1;
        }
        for &b in &dnn.preds[a] {
            self.nsucc[t][b] += 1;
        }
        for &w in &self.width_of[a] {
            self.wcount[t][w] += 1;
        }
    }

    /// Quality of task t if it kept `kept` relevance.
    fn quality_ok(&self, t: usize, kept: f64) -> bool {
        let inst = self.inst;
        if !inst.families.on("quality") {
            return true;
        }
        let task = &inst.tasks[t];
        let total = self.total[t];
        let ret = if total <= 0.0 { 1.0 } else { kept / total };
        let q = task.curve.value(ret) - task.noise_sensitivity * self.noise;
        q >= task.min_quality + 1e-10 * task.min_quality.abs().max(1.0)
    }

    /// L(Y ∖ {(a,t)}): the task keeps its quality and a connected sub-DNN.
    pub fn removable(&self, t: usize, a: usize) -> bool {
        let dnn = &self.inst.dnn;
        if !self.used[t][a] || dnn.is_endpoint(a) || dnn.atoms[a].mandatory {
            return false;
        }
        if !self.quality_ok(t, self.kept[t] - self.inst.tasks[t].relevance[a]) {
            return false;
        }
        if !self.width_allows_removal(t, a, None) {
            return false;
        }
        let u = &self.used[t];
        dnn.succs[a].iter().all(|&b| !u[b] || self.npred[t][b] >= 2)
            && dnn.preds[a].iter().all(|&b| !u[b] || self.nsucc[t][b] >= 2)
    }

    /// Takes a out of task t's sub-DNN.
    pub fn remove(&mut self, t: usize, a: usize) {
        let dnn = &self.inst.dnn;
        self.used[t][a] = false;
        self.count[t] -= 1;
        self.kept[t] -= self.inst.tasks[t].relevance[a];
        for &b in &dnn.succs[a] {
            self.npred[t][b] -= 1;
        }
        for &b in &dnn.preds[a] {
            self.nsucc[t][b] -= 1;
        }
        for &w in &self.width_of[a] {
            self.wcount[t][w] -= 1;
        }
    }
}

/// The entropy-rate weights σ(a,t) + ε, `[t][a]`; ε is 10⁻³ of the mean
/// positive relevance (or 10⁻³).
pub fn entropy_weights(inst: &Instance) -> Vec<Vec<f64>> {
    let pos: Vec<f64> = inst
        .tasks
        .iter()
        .flat_map(|t| t.relevance.iter().copied())
        .filter(|&s| s > 0.0)
        .collect();
    let eps = 1e-3
        * if pos.is_empty() {
            1.0
        } else {
            pos.iter().sum::<f64>() / pos.len() as f64
        };
    inst.tasks
        .iter()
        .map(|t| t.relevance.iter().map(|&s| s.max(0.0) + eps).collect())
        .collect()
}

/// Step 2.1: greedy removal from the current Y while val does not decrease.
/// Only non-frozen tasks above their target gain from a removal (every
/// other removal lowers val by its entropy drop). Appends each removed
/// `(t, a)` to `log`; returns the tasks whose sub-DNN changed.
pub fn greedy_removal(
    h: &mut EntropyRate,
    sel: &mut Selection<'_>,
    eta: &[usize],
    frozen: &[bool],
    log: &mut Vec<(usize, usize)>,
) -> Vec<usize> {
    let atoms = sel.used.first().map_or(0, Vec::len);
    let mut changed = Vec::new();
    let mut cand: Vec<(f64, usize)> = Vec::with_capacity(atoms);
    loop {
        let mut best: Option<(f64, usize, usize)> = None;
        for t in 0..sel.count.len() {
            if frozen[t] || sel.count[t] <= eta[t] {
                continue;
            }
            cand.clear();
            cand.extend(
                (0..atoms)
                    .filter(|&a| sel.used[t][a])
                    .map(|a| (h.removal_drop(a, t), a)),
            );
            // The admissible pair of least drop (ties: lowest atom index),
            // checking L lazily from the smallest drop up.
            let mut found = None;
            while let Some((i, &(drop, a))) = cand
                .iter()
                .enumerate()
                .filter(|(_, c)| c.0.is_finite())
                .min_by(|x, y| x.1 .0.total_cmp(&y.1 .0).then(x.1 .1.cmp(&y.1 .1)))
            {
                if sel.removable(t, a) {
                    found = Some((drop, a));
                    break;
                }
                cand[i].0 = f64::INFINITY;
            }
            if let Some((drop, a)) = found {
                // Removing lowers H by `drop` and the penalty by 1.
                let dval = 1.0 - drop;
                if best.is_none_or(|b| dval > b.0) {
                    best = Some((dval, t, a));
                }
            }
        }
        match best {
            Some((dval, t, a)) if dval >= 0.0 => {
                h.remove(a, t);
                sel.remove(t, a);
                log.push((t, a));
                if !changed.contains(&t) {
                    changed.push(t);
                }
            }
            _ => return changed,
        }
    }
}

/// What a TIDE run found.
pub struct TideRun {
    /// The plan (feasible per the evaluator if any candidate was).
    pub plan: Option<Plan>,
    /// Step 2.3 iterations.
    pub iterations: usize,
}

fn score(mult: Tec, tot: Tec) -> f64 {
    mult.time * tot.time + mult.energy * tot.energy + mult.cost * tot.cost
}

/// TIDE Steps 2.1–2.3 with nothing quantized.
pub fn tide(inst: &Instance, payoff: Option<&PayoffTable>) -> TideRun {
    tide_with(inst, payoff, &vec![false; inst.group_count()])
}

/// TIDE Steps 2.1–2.3 with the groups `q` quantized throughout (L counts
/// their noise against quality; the placement their smaller weights,
/// outputs and compute times).
pub fn tide_with(inst: &Instance, payoff: Option<&PayoffTable>, q: &[bool]) -> TideRun {
    let mult = objective_multipliers(inst, payoff);
    let tn = inst.tasks.len();
    let an = inst.dnn.len();
    let q = q.to_vec();
    let mut h = EntropyRate::full(&entropy_weights(inst));
    let mut sel = Selection::full(inst, inst.quantization.noise.eval(&q));
    let mut eta = vec![an; tn];
    let mut frozen = vec![false; tn];
    let mut placer = Placer::new(inst, &q, true, mult);
    for t in task_order(inst) {
        placer.replace(t, &sel.used[t]);
    }
    // Improving states, best last, each as the number of removals that
    // lead to it from the full assignment.
    let mut removals: Vec<(usize, usize)> = Vec::new();
    let mut snaps: Vec<usize> = Vec::new();
    let mut best = f64::INFINITY;
    let mut record = |placer: &Placer<'_>, removed: usize| {
        let c = placer.total_cost();
        if c < best {
            best = c;
            snaps.push(removed);
        }
    };
    record(&placer, 0);
    let mut iterations = 0;
    while iterations <= tn * an {
        let cost = |t: usize| placer.current[t].as_ref().map_or(f64::INFINITY, |c| c.cost);
        let Some(ts) = (0..tn)
            .filter(|&t| !frozen[t])
            .max_by(|&x, &y| cost(x).total_cmp(&cost(y)).then(y.cmp(&x)))
        else {
            break;
        };
        iterations += 1;
        eta[ts] = sel.count[ts].saturating_sub(1);
        let changed = greedy_removal(&mut h, &mut sel, &eta, &frozen, &mut removals);
        for &t in &changed {
            placer.replace(t, &sel.used[t]);
        }
        if sel.count[ts] > eta[ts] {
            frozen[ts] = true;
            // Full Step 2.2 on the current Y; keep it if it is better.
            if let Some(p) = place_all(inst, &sel.used, &q, true, mult) {
                if p.total_cost() < placer.total_cost() {
                    placer = p;
                }
            }
        }
        record(&placer, removals.len());
    }
    // The best recorded states first, placed from scratch, judged by the
    // evaluator.
    let mut chosen: Option<(f64, Plan)> = None;
    let mut fallback = None;
    for (tried, &k) in snaps.iter().rev().enumerate() {
        if tried >= 50 || chosen.is_some() {
            break;
        }
        let mut used: Vec<Vec<bool>> = (0..tn).map(|t| inst.own_atoms(t)).collect();
        for &(t, a) in &removals[..k] {
            used[t][a] = false;
        }
        let Some(p) = place_all(inst, &used, &q, true, mult) else {
            continue;
        };
        let plan = p.plan();
        let ev = evaluate(inst, &plan, payoff);
        if ev.feasible() {
            let s = score(mult, ev.totals);
            if chosen.as_ref().is_none_or(|c| s < c.0) {
                chosen = Some((s, plan));
            }
        } else if fallback.is_none() {
            fallback = Some(plan);
        }
    }
    TideRun {
        plan: chosen.map(|c| c.1).or(fallback),
        iterations,
    }
}

/// TIDE+Q: the better (per the evaluator) of TIDE followed by [`quantize`],
/// and of TIDE run with the quantization that [`quantize`] chooses for the
/// full parent DNN (so that Step 2.1 leaves room in the quality for the
/// noise).
pub fn tide_q(inst: &Instance, payoff: Option<&PayoffTable>) -> Option<Plan> {
    let mult = objective_multipliers(inst, payoff);
    let mut cands = Vec::new();
    if let Some(p) = tide(inst, payoff).plan {
        cands.push(quantize(inst, payoff, p));
    }
    if let Some(full) = super::baselines::orthogonalize(inst, payoff) {
        let q = quantize(inst, payoff, full).quantized;
        if q.iter().any(|&x| x) {
            if let Some(p) = tide_with(inst, payoff, &q).plan {
                cands.push(quantize(inst, payoff, p));
            }
        }
    }
    let mut best: Option<(bool, f64, Plan)> = None;
    for p in cands {
        let ev = evaluate(inst, &p, payoff);
        let key = (ev.feasible(), score(mult, ev.totals));
        let better = best
            .as_ref()
            .is_none_or(|b| (key.0 && !b.0) || (key.0 == b.0 && key.1 < b.1));
        if better {
            best = Some((key.0, key.1, p));
        }
    }
    best.map(|b| b.2)
}

/// TIDE+Q's quantization step: from `plan` (feasible or not), quantize one
/// group at a time, the one with the best objective gain per unit of added
/// noise (a group that adds no noise first), each time keeping the
/// placement or placing again, while the evaluator finds the plan feasible
/// and the objective improves.
pub fn quantize(inst: &Instance, payoff: Option<&PayoffTable>, plan: Plan) -> Plan {
    let mult = objective_multipliers(inst, payoff);
    let ev = evaluate(inst, &plan, payoff);
    if !ev.feasible() {
        return plan;
    }
    let used: Vec<Vec<bool>> = plan
        .placement
        .iter()
        .map(|row| row.iter().map(Option::is_some).collect())
        .collect();
    let mut cur = plan;
    let mut cur_score = score(mult, ev.totals);
    let mut cur_noise = ev.noise;
    loop {
        let mut best: Option<(f64, f64, f64, Plan)> = None;
        for g in 0..inst.group_count() {
            if cur.quantized[g] {
                continue;
            }
            let mut q = cur.quantized.clone();
            q[g] = true;
            let noise = inst.quantization.noise.eval(&q);
            if inst.families.on("noise") && inst.quantization.max_noise.is_some_and(|m| noise > m) {
                continue;
            }
            let mut same = cur.clone();
            same.quantized = q.clone();
            let mut options = vec![same];
            if let Some(p) = place_all(inst, &used, &q, true, mult) {
                options.push(p.plan());
            }
            for cand in options {
                let ev = evaluate(inst, &cand, payoff);
                if !ev.feasible() {
                    continue;
                }
                let s = score(mult, ev.totals);
                let gain = cur_score - s;
                if gain <= 1e-12 * cur_score.abs().max(1e-300) {
                    continue;
                }
                let dn = noise - cur_noise;
                let ratio = if dn <= 0.0 { f64::INFINITY } else { gain / dn };
                let better = best
                    .as_ref()
                    .is_none_or(|b| ratio > b.0 || (ratio == b.0 && s < b.1));
                if better {
                    best = Some((ratio, s, noise, cand));
                }
            }
        }
        match best {
            Some((_, s, noise, p)) => {
                cur = p;
                cur_score = s;
                cur_noise = noise;
            }
            None => return cur,
        }
    }
}
