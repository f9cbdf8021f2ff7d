//! `cost-greedy`: a cost-aware selection heuristic, alternated with TIDE's
//! Step 2.2 placer, and `cost-greedy-q` with quantization (docs/heuristics.md).
//!
//! TIDE's Step 2.1 ranks atoms by the entropy rate and never looks at what
//! an atom costs. Here, for a fixed placement, every atom a of task t has
//! a marginal cost c(a,t): its compute time on the node that runs its level
//! priced by the objective's multipliers (time share, node power, node
//! price), plus the transfer of its output to the nodes that run its used
//! successors. The quality constraint depends only on the relevance kept,
//! so per task the selection is a covering knapsack: keep atoms of least
//! total c with Σσ large enough. For each task:
//!
//! 1. **Drop** atoms in decreasing order of c(a,t)/σ(a,t) while the task's
//!    quality holds, its sub-DNN stays connected and every minimum width
//!    holds (one pass in that order, repeated while it drops something);
//! 2. **Swap**: the 1-for-1 exchange (drop a, add b) with the largest cost
//!    decrease that keeps quality, connectivity, widths and the task's
//!    delay estimate; after each swap, drop again; until none helps.
//!
//! Then every task is placed again from scratch with the placer (memory,
//! delay, capacity, power and rules), the plan is judged by the evaluator,
//! and the costs are recomputed on the new placement; this alternates
//! until the evaluator's objective stops improving. The method starts from
//! the full parent DNN and from TIDE's plan and returns the best feasible
//! plan met, so it is never worse than TIDE. No randomness: the same
//! instance always gives the same plan.

use super::place::{objective_multipliers, place_all, task_order, Placer};
use super::tide::{quantize, tide, Selection};
use crate::eval::evaluate;
use crate::instance::{Instance, PayoffTable, Tec};
use crate::network::NodeIx;
use crate::plan::Plan;

/// Rounds of selection and placement at most (each round must improve).
const MAX_ROUNDS: usize = 12;

/// TIDE's plan is a second start when |T|·|A| is at most this (TIDE then
/// costs a few milliseconds); on larger instances the full parent DNN is
/// the only start, which keeps the method well under TIDE's own run time.
pub const TIDE_START_MAX: usize = 2000;

/// What a run found: the best plan the evaluator accepts, or why none.
#[derive(Debug, Clone)]
pub struct GreedyRun {
    /// The best feasible plan.
    pub plan: Option<Plan>,
    /// Its score (the objective up to its constant).
    pub score: f64,
    /// Why there is no plan.
    pub reason: Option<String>,
}

impl GreedyRun {
    fn none(reason: String) -> GreedyRun {
        GreedyRun {
            plan: None,
            score: f64::INFINITY,
            reason: Some(reason),
        }
    }

    fn better(self, other: GreedyRun) -> GreedyRun {
        match (&self.plan, &other.plan) {
            (Some(_), Some(_)) if other.score < self.score => other,
            (Some(_), _) => self,
            (None, Some(_)) => other,
            (None, None) => self,
        }
    }
}

fn score(mult: Tec, tot: Tec) -> f64 {
    mult.time * tot.time + mult.energy * tot.energy + mult.cost * tot.cost
}

/// `cost-greedy`: nothing quantized.
pub fn cost_greedy(inst: &Instance, payoff: Option<&PayoffTable>) -> GreedyRun {
    let q = vec![false; inst.group_count()];
    let mut run = improve(inst, payoff, &q, full(inst));
    if inst.tasks.len() * inst.dnn.len() <= TIDE_START_MAX {
        if let Some(p) = tide(inst, payoff).plan {
            run = run.better(improve(inst, payoff, &q, used_of(&p)));
        }
    }
    run
}

/// `cost-greedy-q`: the better of `cost-greedy` quantized greedily
/// (TIDE+Q's step) and then improved again with that quantization, and of
/// the method run from the start with the quantization chosen for the full
/// parent DNN.
pub fn cost_greedy_q(inst: &Instance, payoff: Option<&PayoffTable>) -> GreedyRun {
    let plain = cost_greedy(inst, payoff);
    if inst.group_count() == 0 {
        return plain;
    }
    let mut best = requantized(inst, payoff, plain.clone());
    if let Some(full_plan) = super::baselines::orthogonalize(inst, payoff) {
        let q = quantize(inst, payoff, full_plan).quantized;
        if q.iter().any(|&x| x) {
            let run = improve(inst, payoff, &q, full(inst));
            best = best.better(requantized(inst, payoff, run));
        }
    }
    best.better(plain)
}

/// Quantizes the run's plan greedily, then improves the selection under
/// that quantization.
fn requantized(inst: &Instance, payoff: Option<&PayoffTable>, run: GreedyRun) -> GreedyRun {
    let Some(plan) = run.plan.clone() else {
        return run;
    };
    let qp = quantize(inst, payoff, plan);
    let mult = objective_multipliers(inst, payoff);
    let ev = evaluate(inst, &qp, payoff);
    let mut out = run;
    if ev.feasible() {
        out = out.better(GreedyRun {
            score: score(mult, ev.totals),
            plan: Some(qp.clone()),
            reason: None,
        });
    }
    out.better(improve(inst, payoff, &qp.quantized, used_of(&qp)))
}

fn full(inst: &Instance) -> Vec<Vec<bool>> {
    (0..inst.tasks.len()).map(|t| inst.own_atoms(t)).collect()
}

fn used_of(plan: &Plan) -> Vec<Vec<bool>> {
    plan.placement
        .iter()
        .map(|r| r.iter().map(Option::is_some).collect())
        .collect()
}

/// Per task and atom, the node its cost is priced on.
type NodeMap = Vec<Vec<NodeIx>>;

/// Alternates selection (drop and swap per task) and placement from the
/// selection `start`, quantization `q` fixed; every placed plan is judged
/// by the evaluator and the best feasible one kept.
pub fn improve(
    inst: &Instance,
    payoff: Option<&PayoffTable>,
    q: &[bool],
    start: Vec<Vec<bool>>,
) -> GreedyRun {
    let mult = objective_multipliers(inst, payoff);
    let noise = inst.quantization.noise.eval(q);
    if let Some(why) = quality_out_of_reach(inst, noise) {
        return GreedyRun::none(why);
    }
    let mut sel = Selection::from_used(inst, noise, &start);
    let mut best = GreedyRun::none(String::new());
    let (mut nodes, mut delays) = match place_best(inst, payoff, &sel.used, q, mult) {
        Some((p, plan, s, true)) => {
            // The start itself, placed, is the first candidate.
            best = GreedyRun {
                score: s,
                plan: Some(plan),
                reason: None,
            };
            node_map(inst, &p)
        }
        Some((p, ..)) => node_map(inst, &p),
        None => relaxed_node_map(inst, &sel.used, q, mult),
    };
    let mut last_reason = None;
    for _ in 0..MAX_ROUNDS {
        let prices = Prices::new(inst, q, mult);
        for t in 0..inst.tasks.len() {
            let mut ts = TaskSearch::new(inst, &prices, &nodes[t], t, delays[t]);
            ts.run(&mut sel);
        }
        let Some((p, plan, s, feasible)) = place_best(inst, payoff, &sel.used, q, mult) else {
            last_reason = Some(unplaceable(inst, &sel.used, q, mult));
            break;
        };
        if !feasible {
            let ev = evaluate(inst, &plan, payoff);
            last_reason = Some(format!(
                "the best selection found, placed, violates {}",
                ev.violations[0].message
            ));
            break;
        }
        let improved = best.plan.is_none() || s < best.score - 1e-12 * best.score.abs();
        if !improved {
            break;
        }
        best = GreedyRun {
            plan: Some(plan),
            score: s,
            reason: None,
        };
        (nodes, delays) = node_map(inst, &p);
    }
    if best.plan.is_none() {
        best.reason = last_reason.or(Some("no placement meets the constraints".into()));
    }
    best
}

/// The selection placed in two task orders, the placer's (most requested
/// first) and largest sub-DNN first (whose deployment the smaller ones may
/// then share): the placement the evaluator prefers (feasible first, then
/// by objective), with its plan, score and feasibility.
fn place_best<'a>(
    inst: &'a Instance,
    payoff: Option<&PayoffTable>,
    used: &[Vec<bool>],
    q: &[bool],
    mult: Tec,
) -> Option<(Placer<'a>, Plan, f64, bool)> {
    let by_rate = task_order(inst);
    let mut by_size = by_rate.clone();
    let size = |t: usize| used[t].iter().filter(|&&u| u).count();
    by_size.sort_by_key(|&t| std::cmp::Reverse(size(t)));
    let mut best: Option<(Placer<'a>, Plan, f64, bool)> = None;
    for order in [by_rate, by_size] {
        let mut p = Placer::new(inst, q, true, mult);
        if !order.iter().all(|&t| p.replace(t, &used[t])) {
            continue;
        }
        let plan = p.plan();
        let ev = evaluate(inst, &plan, payoff);
        let key = (ev.feasible(), score(mult, ev.totals));
        let better = best
            .as_ref()
            .is_none_or(|b| (key.0 && !b.3) || (key.0 == b.3 && key.1 < b.2));
        if better {
            best = Some((p, plan, key.1, key.0));
        }
    }
    best
}

/// A task whose quality cannot be met even with every atom.
fn quality_out_of_reach(inst: &Instance, noise: f64) -> Option<String> {
    if !inst.families.on("quality") {
        return None;
    }
    inst.tasks.iter().find_map(|t| {
        let q = t.curve.value(1.0) - t.noise_sensitivity * noise;
        (q < t.min_quality - 1e-9 * t.min_quality.abs().max(1.0)).then(|| {
            format!(
                "task {}: quality {} with every atom < min_quality {}",
                t.name,
                crate::eval::sig(q),
                crate::eval::sig(t.min_quality)
            )
        })
    })
}

/// Which task the placer cannot place, and with how many atoms.
fn unplaceable(inst: &Instance, used: &[Vec<bool>], q: &[bool], mult: Tec) -> String {
    let mut p = Placer::new(inst, q, true, mult);
    for t in task_order(inst) {
        if !p.replace(t, &used[t]) {
            let n = used[t].iter().filter(|&&u| u).count();
            return format!(
                "task {}: no placement of its {n} atoms meets its delay limit, node memory, \
                 capacity, power and placement rules given the tasks placed before it",
                inst.tasks[t].name
            );
        }
    }
    "no placement meets the constraints".into()
}

/// Each task's atom → node map and delay from a placer.
fn node_map(inst: &Instance, p: &Placer<'_>) -> (NodeMap, Vec<f64>) {
    let mut delays = vec![f64::INFINITY; inst.tasks.len()];
    let map = (0..inst.tasks.len())
        .map(|t| {
            let mut at = vec![None; inst.dnn.len()];
            if let Some(tp) = &p.current[t] {
                delays[t] = tp.delay;
                for &(a, n) in &tp.atoms {
                    at[a] = Some(n);
                }
            }
            fill_levels(inst, t, at)
        })
        .collect();
    (map, delays)
}

/// Unused atoms are priced on the node of their level (or of the nearest
/// lower level with a used atom, or the task's source).
fn fill_levels(inst: &Instance, t: usize, at: Vec<Option<NodeIx>>) -> Vec<NodeIx> {
    let dnn = &inst.dnn;
    let mut level_node = vec![None; dnn.levels.len()];
    for (l, level) in dnn.levels.iter().enumerate() {
        level_node[l] = level.iter().find_map(|&a| at[a]);
    }
    let mut last = inst.tasks[t].source;
    for ln in level_node.iter_mut() {
        match ln {
            Some(n) => last = *n,
            None => *ln = Some(last),
        }
    }
    (0..dnn.len())
        .map(|a| at[a].unwrap_or_else(|| level_node[dnn.atoms[a].level].unwrap_or(last)))
        .collect()
}

/// Node choice for pricing when the selection cannot be placed under the
/// limits: the placer with memory, delay, capacity and power switched off
/// (the drops then make the selection smaller until it fits).
fn relaxed_node_map(
    inst: &Instance,
    used: &[Vec<bool>],
    q: &[bool],
    mult: Tec,
) -> (NodeMap, Vec<f64>) {
    let mut relaxed = inst.clone();
    relaxed.families.switch("memory", false);
    relaxed.families.switch("delay", false);
    relaxed.families.switch("capacity", false);
    relaxed.families.switch("energy", false);
    match place_all(&relaxed, used, q, true, mult) {
        Some(p) => node_map(&relaxed, &p),
        None => {
            let map = (0..inst.tasks.len())
                .map(|t| fill_levels(inst, t, vec![None; inst.dnn.len()]))
                .collect();
            (map, vec![f64::INFINITY; inst.tasks.len()])
        }
    }
}

/// Objective prices of compute and transfers, per task.
struct Prices<'a> {
    inst: &'a Instance,
    q: &'a [bool],
    mult: Tec,
}

impl<'a> Prices<'a> {
    fn new(inst: &'a Instance, q: &'a [bool], mult: Tec) -> Prices<'a> {
        Prices { inst, q, mult }
    }

    fn quantized(&self, a: usize) -> bool {
        self.inst.dnn.atoms[a].group.is_some_and(|g| self.q[g])
    }

    /// Seconds of atom a on node n.
    fn compute_s(&self, a: usize, n: NodeIx) -> f64 {
        self.inst.compute_s(a, n, self.quantized(a))
    }

    /// Objective per second of compute of task t on n.
    fn node_rate(&self, t: usize, n: NodeIx) -> f64 {
        let inst = self.inst;
        let task = &inst.tasks[t];
        let node = &inst.network.nodes[n];
        let m = self.mult;
        m.time * task.rate / inst.total_rate()
            + m.energy * task.rate * node.power
            + m.cost * task.rate * node.price
    }

    /// (objective, seconds) of sending atom a's output from k to h.
    fn transfer(&self, t: usize, a: usize, k: NodeIx, h: NodeIx) -> (f64, f64) {
        let inst = self.inst;
        if k == h || !inst.families.on("traffic") {
            return (0.0, 0.0);
        }
        let af = if self.quantized(a) {
            inst.quantization.activation_factor
        } else {
            1.0
        };
        let b = inst.dnn.atoms[a].out_bytes * af;
        let Some((_, e)) = inst.network.route(k, h, b) else {
            return (f64::INFINITY, f64::INFINITY);
        };
        let task = &inst.tasks[t];
        let m = self.mult;
        let secs = e.time_per_byte * b;
        let obj = m.time * task.rate / inst.total_rate() * secs
            + m.energy * task.rate * e.energy_per_byte * b
            + m.cost * task.rate * e.price_per_byte * b;
        (obj, secs)
    }
}

/// The drop and swap search of one task on a fixed node map.
struct TaskSearch<'a> {
    inst: &'a Instance,
    t: usize,
    /// c(a,t) and its seconds, for every atom as if used.
    cost: Vec<f64>,
    secs: Vec<f64>,
    /// The delay estimate and the limit.
    delay: f64,
    limit: f64,
}

impl<'a> TaskSearch<'a> {
    fn new(
        inst: &'a Instance,
        prices: &Prices<'_>,
        nodes: &[NodeIx],
        t: usize,
        delay: f64,
    ) -> TaskSearch<'a> {
        let dnn = &inst.dnn;
        let mut cost = vec![0.0; dnn.len()];
        let mut secs = vec![0.0; dnn.len()];
        for a in 0..dnn.len() {
            let n = nodes[a];
            let ct = prices.compute_s(a, n);
            let (mut c, mut s) = (ct * prices.node_rate(t, n), ct);
            // One transfer per other node that runs a successor's level.
            let mut dests: Vec<NodeIx> = dnn.succs[a].iter().map(|&b| nodes[b]).collect();
            dests.sort_unstable();
            dests.dedup();
            for h in dests {
                let (oc, os) = prices.transfer(t, a, n, h);
                c += oc;
                s += os;
            }
            cost[a] = c;
            secs[a] = s;
        }
        let limit = if inst.families.on("delay") {
            inst.tasks[t].max_delay * (1.0 - 1e-9)
        } else {
            f64::INFINITY
        };
        TaskSearch {
            inst,
            t,
            cost,
            secs,
            delay,
            limit,
        }
    }

    fn run(&mut self, sel: &mut Selection<'_>) {
        self.drop_pass(sel);
        let mut guard = self.inst.dnn.len() * 4;
        while guard > 0 {
            guard -= 1;
            let Some((a, b)) = self.best_swap(sel) else {
                break;
            };
            sel.remove(self.t, a);
            sel.add(self.t, b);
            self.delay += self.secs[b] - self.secs[a];
            self.drop_pass(sel);
        }
    }

    /// Drops atoms by decreasing c/σ while they are removable.
    fn drop_pass(&mut self, sel: &mut Selection<'_>) {
        let t = self.t;
        let rel = &self.inst.tasks[t].relevance;
        let ratio = |a: usize| {
            if rel[a] <= 0.0 {
                f64::INFINITY
            } else {
                self.cost[a] / rel[a]
            }
        };
        let mut order: Vec<usize> = (0..self.inst.dnn.len())
            .filter(|&a| sel.used[t][a] && self.cost[a] > 0.0)
            .collect();
        order.sort_by(|&x, &y| {
            ratio(y)
                .total_cmp(&ratio(x))
                .then(self.cost[y].total_cmp(&self.cost[x]))
                .then(x.cmp(&y))
        });
        loop {
            let mut dropped = false;
            for &a in &order {
                if sel.used[t][a] && sel.removable(t, a) {
                    sel.remove(t, a);
                    self.delay -= self.secs[a];
                    dropped = true;
                }
            }
            if !dropped {
                return;
            }
        }
    }

    /// The swap (a out, b in) that lowers the task's cost most.
    fn best_swap(&self, sel: &Selection<'_>) -> Option<(usize, usize)> {
        let inst = self.inst;
        let dnn = &inst.dnn;
        let t = self.t;
        let rel = &inst.tasks[t].relevance;
        let kept = sel.kept(t);
        let mut outs: Vec<usize> = (0..dnn.len())
            .filter(|&a| {
                sel.used[t][a]
                    && !dnn.is_endpoint(a)
                    && !dnn.atoms[a].mandatory
                    && self.cost[a] > 0.0
            })
            .collect();
        outs.sort_by(|&x, &y| self.cost[y].total_cmp(&self.cost[x]).then(x.cmp(&y)));
        let mut ins: Vec<usize> = dnn
            .atoms_of(inst.tasks[t].dnn)
            .filter(|&b| !sel.used[t][b])
            .collect();
        ins.sort_by(|&x, &y| self.cost[x].total_cmp(&self.cost[y]).then(x.cmp(&y)));
        let eps = 1e-12 * self.cost.iter().fold(0.0f64, |m, &c| m.max(c));
        let cheapest = *ins.first()?;
        let mut best: Option<(f64, usize, usize)> = None;
        for &a in &outs {
            // Outs are by decreasing cost: no later a can beat the best gain.
            if best.is_some_and(|b| self.cost[a] - self.cost[cheapest] <= b.0) {
                break;
            }
            for &b in &ins {
                let gain = self.cost[a] - self.cost[b];
                if gain <= eps || best.is_some_and(|x| gain <= x.0) {
                    break;
                }
                if sel.quality_holds(t, kept - rel[a] + rel[b])
                    && self.delay + self.secs[b] - self.secs[a] <= self.limit.max(self.delay)
                    && sel.addable_without(t, b, Some(a))
                    && sel.width_allows_removal(t, a, Some(b))
                    && sel.connected_without(t, a, Some(b))
                {
                    best = Some((gain, a, b));
                    break;
                }
            }
        }
        best.map(|(_, a, b)| (a, b))
    }
}
