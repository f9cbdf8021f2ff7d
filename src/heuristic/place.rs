//! Step 2.2 of TIDE: placing each task's sub-DNN as a VNF chain.
//!
//! A task's used atoms, grouped by level, form a chain of stages (the VNFs);
//! every stage runs on one node. Stage s on node n costs its compute time,
//! energy and price there; going from stage s on k to stage s+1 on h costs
//! the transfer of stage s's outputs over the effective link (k,h). The
//! cheapest chain is a shortest path in the layered graph "stages × nodes"
//! (a Viterbi-style dynamic program, the standard exact method for placing
//! one service chain on a given substrate), with the task's share of the
//! instance objective as the path length. The delay limit makes it a
//! delay-constrained shortest path, solved by LARAC (Jüttner, Szviatovszki,
//! Mécs, Rajkó, INFOCOM 2001): Lagrangian relaxation of the delay with the
//! multiplier updated from the cheapest and the fastest paths until it
//! converges. Source, sink and placement rules remove layer-graph vertices;
//! memory (with shared deployment), node utilization and node power remove
//! the vertices that would overflow a node given what earlier tasks
//! deployed, and a path that overflows a node by itself gets its largest
//! stage on that node banned and is recomputed. Tasks are placed one after
//! the other, most requested first.
//!
//! Exact for chain-shaped DNNs under either delay model; with skip edges the
//! transfers of skipped levels are approximated, and the evaluator has the
//! last word on every plan.

use crate::dnn::AtomIx;
use crate::instance::{DelayModel, Instance, PayoffTable, Tec};
use crate::network::NodeIx;
use crate::plan::Plan;

/// Multipliers `m` with objective = `m·(T, E, C)` + constant: the instance's
/// weights times its normalization. Payoff normalization without a table
/// falls back to scales from the centralized plan.
pub fn objective_multipliers(inst: &Instance, payoff: Option<&PayoffTable>) -> Tec {
    let w = inst.objective.weights;
    let a = match inst.objective.affine(payoff) {
        Some((a, _)) => a,
        None => {
            let plan = crate::reference::reference_plan(
                inst,
                crate::reference::ReferenceMethod::Centralized,
            );
            let tot = crate::eval::evaluate(inst, &plan, None).totals;
            let inv = |x: f64| if x > 0.0 { 1.0 / x } else { 1.0 };
            Tec {
                time: inv(tot.time),
                energy: inv(tot.energy),
                cost: inv(tot.cost),
            }
        }
    };
    Tec {
        time: w.time * a.time,
        energy: w.energy * a.energy,
        cost: w.cost * a.cost,
    }
}

/// Where one task's atoms run, with its share of the objective.
#[derive(Debug, Clone)]
pub struct TaskPlace {
    /// `(atom, node)` for every used atom.
    pub atoms: Vec<(AtomIx, NodeIx)>,
    /// The task's term of the objective.
    pub cost: f64,
    /// Δ(t) as the placer computes it.
    pub delay: f64,
    util: Vec<(NodeIx, f64)>,
    power: Vec<(NodeIx, f64)>,
}

/// One stage of a task's chain: the used atoms of one level.
struct Stage {
    atoms: Vec<AtomIx>,
    /// Seconds on node n (`ct[n]`).
    ct: Vec<f64>,
    /// Bytes sent to the next stage.
    bytes: f64,
    /// Fan-out classes crossing to the next stage (latencies paid).
    crossings: f64,
}

/// A chain found by the dynamic program.
#[derive(Clone)]
struct Path {
    nodes: Vec<NodeIx>,
    cost: f64,
    delay: f64,
}

/// Places tasks one at a time on a shared network state.
pub struct Placer<'a> {
    inst: &'a Instance,
    quantized: Vec<bool>,
    share: bool,
    mult: Tec,
    mem: Vec<f64>,
    deployed: Vec<Vec<u32>>,
    util: Vec<f64>,
    power: Vec<f64>,
    /// The current placement of each task.
    pub current: Vec<Option<TaskPlace>>,
}

const INF: f64 = f64::INFINITY;

impl<'a> Placer<'a> {
    /// An empty network. `share`: atoms deployed once per node for every
    /// task (false: every task counts its own copy in memory).
    pub fn new(inst: &'a Instance, quantized: &[bool], share: bool, mult: Tec) -> Placer<'a> {
        let nn = inst.network.len();
        Placer {
            inst,
            quantized: quantized.to_vec(),
            share,
            mult,
            mem: vec![0.0; nn],
            deployed: vec![vec![0; inst.dnn.len()]; nn],
            util: vec![0.0; nn],
            power: vec![0.0; nn],
            current: vec![None; inst.tasks.len()],
        }
    }

    fn qa(&self, a: AtomIx) -> bool {
        self.inst.dnn.atoms[a]
            .group
            .is_some_and(|g| self.quantized[g])
    }

    fn param(&self, a: AtomIx) -> f64 {
        let f = if self.qa(a) {
            self.inst.quantization.weight_factor
        } else {
            1.0
        };
        self.inst.dnn.atoms[a].param_bytes * f
    }

    /// Memory a stage would add on n.
    fn new_bytes(&self, atoms: &[AtomIx], n: NodeIx) -> f64 {
        atoms
            .iter()
            .filter(|&&a| !self.share || self.deployed[n][a] == 0)
            .map(|&a| self.param(a))
            .sum()
    }

    fn stages(&self, used: &[bool]) -> Vec<Stage> {
        let inst = self.inst;
        let dnn = &inst.dnn;
        let net = &inst.network;
        let af = inst.quantization.activation_factor;
        let mut seen = vec![usize::MAX; dnn.classes.len()];
        let mut out = Vec::new();
        for (l, level) in dnn.levels.iter().enumerate() {
            let atoms: Vec<AtomIx> = level.iter().copied().filter(|&a| used[a]).collect();
            if atoms.is_empty() {
                continue;
            }
            let mut ct = vec![0.0; net.len()];
            let mut bytes = 0.0;
            let mut crossings: f64 = 0.0;
            for &a in &atoms {
                let atom = &dnn.atoms[a];
                let q = self.qa(a);
                for (n, c) in ct.iter_mut().enumerate() {
                    *c += inst.compute_s(a, n, q);
                }
                if !dnn.is_output(a) && dnn.succs[a].iter().any(|&b| used[b]) {
                    bytes += atom.out_bytes * if q { af } else { 1.0 };
                    if let Some(c) = dnn.class_of[a] {
                        if seen[c] != l {
                            seen[c] = l;
                            crossings += 1.0;
                        }
                    }
                }
            }
            if inst.delay_model == DelayModel::Layered {
                crossings = crossings.min(1.0);
            }
            out.push(Stage {
                atoms,
                ct,
                bytes,
                crossings,
            });
        }
        out
    }

    /// Joules of stage `s`'s transfer from `k` over the path `e`, as the
    /// evaluator counts them: per byte, plus (with
    /// `network.latency_energy`) the sender's power during each latency
    /// its crossings wait on.
    fn transfer_joules(
        &self,
        s: usize,
        stages: &[Stage],
        k: NodeIx,
        e: &crate::network::EffectiveLink,
    ) -> f64 {
        let net = &self.inst.network;
        let mut j = e.energy_per_byte * stages[s].bytes;
        if net.latency_energy {
            j += net.nodes[k].power * e.latency * stages[s].crossings;
        }
        j
    }

    /// The chain minimizing `alpha·cost + mu·delay` over allowed vertices.
    fn dp(
        &self,
        t: usize,
        stages: &[Stage],
        allowed: &[Vec<bool>],
        alpha: f64,
        mu: f64,
    ) -> Option<Path> {
        let inst = self.inst;
        let net = &inst.network;
        let task = &inst.tasks[t];
        let nn = net.len();
        let m = self.mult;
        let share_t = task.rate / inst.total_rate();
        let traffic = inst.families.on("traffic");
        // (combined, cost, delay) per node of the current stage.
        let node_cost = |s: usize, n: NodeIx| {
            let ct = stages[s].ct[n];
            let node = &net.nodes[n];
            let cost = m.time * share_t * ct
                + m.energy * task.rate * node.power * ct
                + m.cost * task.rate * node.price * ct;
            (cost, ct)
        };
        let edge_cost = |s: usize, k: NodeIx, h: NodeIx| -> Option<(f64, f64)> {
            if k == h || !traffic || stages[s].bytes <= 0.0 && stages[s].crossings <= 0.0 {
                return Some((0.0, 0.0));
            }
            let b = stages[s].bytes;
            let (_, e) = net.route(k, h, b)?;
            let time = e.time_per_byte * b + e.latency * stages[s].crossings;
            let cost = m.time * share_t * time
                + m.energy * task.rate * self.transfer_joules(s, stages, k, e)
                + m.cost * task.rate * e.price_per_byte * b;
            Some((cost, time))
        };
        let mut best: Vec<Vec<(f64, f64, f64)>> = vec![vec![(INF, INF, INF); nn]; stages.len()];
        let mut prev = vec![vec![usize::MAX; nn]; stages.len()];
        for n in 0..nn {
            if allowed[0][n] {
                let (c, d) = node_cost(0, n);
                best[0][n] = (alpha * c + mu * d, c, d);
            }
        }
        for s in 1..stages.len() {
            for h in 0..nn {
                if !allowed[s][h] {
                    continue;
                }
                let (nc, nd) = node_cost(s, h);
                for k in 0..nn {
                    let (comb, c, d) = best[s - 1][k];
                    if !comb.is_finite() {
                        continue;
                    }
                    let Some((ec, ed)) = edge_cost(s - 1, k, h) else {
                        continue;
                    };
                    let (c2, d2) = (c + ec + nc, d + ed + nd);
                    let comb2 = alpha * c2 + mu * d2;
                    if comb2 < best[s][h].0 {
                        best[s][h] = (comb2, c2, d2);
                        prev[s][h] = k;
                    }
                }
            }
        }
        let last = stages.len() - 1;
        let end = (0..nn)
            .filter(|&n| best[last][n].0.is_finite())
            .min_by(|&x, &y| best[last][x].0.total_cmp(&best[last][y].0))?;
        let mut nodes = vec![0; stages.len()];
        let mut n = end;
        for s in (0..stages.len()).rev() {
            nodes[s] = n;
            n = prev[s][n];
        }
        Some(Path {
            nodes,
            cost: best[last][end].1,
            delay: best[last][end].2,
        })
    }

    /// LARAC: the cheapest chain within the delay limit.
    fn larac(&self, t: usize, stages: &[Stage], allowed: &[Vec<bool>]) -> Option<Path> {
        let task = &self.inst.tasks[t];
        let limit = if self.inst.families.on("delay") {
            task.max_delay * (1.0 - 1e-12)
        } else {
            INF
        };
        let cheap = self.dp(t, stages, allowed, 1.0, 0.0)?;
        if cheap.delay <= limit {
            return Some(cheap);
        }
        let mut fast = self.dp(t, stages, allowed, 1e-12, 1.0)?;
        if fast.delay > limit {
            return None;
        }
        let mut slow = cheap;
        for _ in 0..50 {
            let dd = slow.delay - fast.delay;
            if dd <= 0.0 {
                break;
            }
            let mu = (fast.cost - slow.cost) / dd;
            let Some(r) = self.dp(t, stages, allowed, 1.0, mu) else {
                break;
            };
            let line = slow.cost + mu * slow.delay;
            if r.cost + mu * r.delay >= line - 1e-12 * line.abs().max(1e-300) {
                break;
            }
            if r.delay <= limit {
                fast = r;
            } else {
                slow = r;
            }
        }
        Some(fast)
    }

    /// Finds the best chain for task t using `used` atoms given what is
    /// committed; does not commit it.
    pub fn place(&self, t: usize, used: &[bool]) -> Option<TaskPlace> {
        let inst = self.inst;
        let net = &inst.network;
        let f = inst.families;
        let (rules, memory, capacity, energy, traffic) = (
            f.on("rules"),
            f.on("memory"),
            f.on("capacity"),
            f.on("energy"),
            f.on("traffic"),
        );
        let task = &inst.tasks[t];
        let nn = net.len();
        let stages = self.stages(used);
        if stages.is_empty() {
            return None;
        }
        let mut allowed = vec![vec![true; nn]; stages.len()];
        let mut extra_mem = vec![vec![0.0; nn]; stages.len()];
        for (s, st) in stages.iter().enumerate() {
            for n in 0..nn {
                let mut ok = true;
                for &a in &st.atoms {
                    if (a == inst.input_of(t) && n != task.source)
                        || (a == inst.output_of(t) && n != task.sink)
                    {
                        ok = false;
                    }
                }
                if ok && rules {
                    ok = !inst.rules.iter().any(|r| {
                        !r.allowed[n]
                            && r.tasks.contains(&t)
                            && st.atoms.iter().any(|a| r.atoms.contains(a))
                    });
                }
                let node = &net.nodes[n];
                let mb = self.new_bytes(&st.atoms, n);
                extra_mem[s][n] = mb;
                if ok && memory && self.mem[n] + mb > node.memory * (1.0 + 1e-12) {
                    ok = false;
                }
                let u = task.rate * st.ct[n];
                if ok && capacity {
                    if let Some(mx) = node.max_utilization {
                        ok = self.util[n] + u <= mx * (1.0 - 1e-12);
                    }
                }
                if ok && energy {
                    if let Some(mx) = node.max_power {
                        ok = self.power[n] + u * node.power <= mx * (1.0 - 1e-12);
                    }
                }
                allowed[s][n] = ok;
            }
        }
        for _ in 0..stages.len() * nn + 1 {
            let path = self.larac(t, &stages, &allowed)?;
            // Whole-path resource use per node.
            let mut mem = vec![0.0; nn];
            let mut util = vec![0.0; nn];
            let mut power = vec![0.0; nn];
            for (s, &n) in path.nodes.iter().enumerate() {
                mem[n] += extra_mem[s][n];
                util[n] += task.rate * stages[s].ct[n];
                power[n] += task.rate * stages[s].ct[n] * net.nodes[n].power;
                if s + 1 < stages.len() && traffic {
                    let h = path.nodes[s + 1];
                    if h != n {
                        if let Some((_, e)) = net.route(n, h, stages[s].bytes) {
                            power[n] += task.rate * self.transfer_joules(s, &stages, n, e);
                        }
                    }
                }
            }
            let over = (0..nn).find(|&n| {
                let node = &net.nodes[n];
                (memory && self.mem[n] + mem[n] > node.memory * (1.0 + 1e-12))
                    || (capacity
                        && node
                            .max_utilization
                            .is_some_and(|mx| self.util[n] + util[n] > mx * (1.0 - 1e-12)))
                    || (energy
                        && node
                            .max_power
                            .is_some_and(|mx| self.power[n] + power[n] > mx * (1.0 - 1e-12)))
            });
            match over {
                None => {
                    let mut atoms = Vec::new();
                    for (s, &n) in path.nodes.iter().enumerate() {
                        atoms.extend(stages[s].atoms.iter().map(|&a| (a, n)));
                    }
                    return Some(TaskPlace {
                        atoms,
                        cost: path.cost,
                        delay: path.delay,
                        util: (0..nn)
                            .filter(|&n| util[n] > 0.0)
                            .map(|n| (n, util[n]))
                            .collect(),
                        power: (0..nn)
                            .filter(|&n| power[n] > 0.0)
                            .map(|n| (n, power[n]))
                            .collect(),
                    });
                }
                Some(n) => {
                    // Ban the heaviest stage of this path on n.
                    let s =
                        (0..stages.len())
                            .filter(|&s| path.nodes[s] == n)
                            .max_by(|&x, &y| {
                                (extra_mem[x][n] + stages[x].ct[n])
                                    .total_cmp(&(extra_mem[y][n] + stages[y].ct[n]))
                            })?;
                    allowed[s][n] = false;
                }
            }
        }
        None
    }

    /// Records `tp` as task t's placement (after removing the old one).
    pub fn commit(&mut self, t: usize, tp: TaskPlace) {
        self.uncommit(t);
        for &(a, n) in &tp.atoms {
            if !self.share || self.deployed[n][a] == 0 {
                self.mem[n] += self.param(a);
            }
            self.deployed[n][a] += 1;
        }
        for &(n, u) in &tp.util {
            self.util[n] += u;
        }
        for &(n, p) in &tp.power {
            self.power[n] += p;
        }
        self.current[t] = Some(tp);
    }

    /// Forgets task t's placement.
    pub fn uncommit(&mut self, t: usize) {
        let Some(tp) = self.current[t].take() else {
            return;
        };
        for &(a, n) in &tp.atoms {
            self.deployed[n][a] -= 1;
            if !self.share || self.deployed[n][a] == 0 {
                self.mem[n] -= self.param(a);
            }
        }
        for &(n, u) in &tp.util {
            self.util[n] -= u;
        }
        for &(n, p) in &tp.power {
            self.power[n] -= p;
        }
    }

    /// Places task t anew; false (and t left unplaced) if no chain fits.
    pub fn replace(&mut self, t: usize, used: &[bool]) -> bool {
        self.uncommit(t);
        match self.place(t, used) {
            Some(tp) => {
                self.commit(t, tp);
                true
            }
            None => false,
        }
    }

    /// Σ of the placed tasks' costs; infinite if a task is unplaced.
    pub fn total_cost(&self) -> f64 {
        self.current
            .iter()
            .map(|c| c.as_ref().map_or(INF, |c| c.cost))
            .sum()
    }

    /// The plan of the current placements (unplaced tasks use nothing).
    pub fn plan(&self) -> Plan {
        let mut plan = Plan::empty(self.inst);
        plan.quantized = self.quantized.clone();
        for (t, c) in self.current.iter().enumerate() {
            if let Some(c) = c {
                for &(a, n) in &c.atoms {
                    plan.placement[t][a] = Some(n);
                }
            }
        }
        plan
    }
}

/// Tasks by decreasing rate (ties by index): the placement order.
pub fn task_order(inst: &Instance) -> Vec<usize> {
    let mut order: Vec<usize> = (0..inst.tasks.len()).collect();
    order.sort_by(|&a, &b| {
        inst.tasks[b]
            .rate
            .total_cmp(&inst.tasks[a].rate)
            .then(a.cmp(&b))
    });
    order
}

/// Places every task from scratch with `used[t]`; `None` if one does not fit.
pub fn place_all<'a>(
    inst: &'a Instance,
    used: &[Vec<bool>],
    quantized: &[bool],
    share: bool,
    mult: Tec,
) -> Option<Placer<'a>> {
    let mut p = Placer::new(inst, quantized, share, mult);
    for t in task_order(inst) {
        if !p.replace(t, &used[t]) {
            return None;
        }
    }
    Some(p)
}
