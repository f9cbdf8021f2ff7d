//! The evaluator (docs/formulation.md §7): every metric of a plan, computed from the
//! instance alone with the true minimal transfers, and every violated
//! constraint with its numbers. The MILP, the heuristics, the reports and
//! the tests all check against this.

use crate::instance::{DelayModel, Instance, PayoffTable, Tec};
use crate::plan::Plan;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// A violated constraint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Violation {
    /// The name of the family it belongs to (as in `constraints:` and
    /// `rows by family`; see [`crate::milp::families::ALL`]).
    pub family: String,
    /// What, with the numbers (`task t3: delay 0.231 s > max_delay 0.2 s`).
    pub message: String,
}

/// Per-task metrics (one inference).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskReport {
    /// Task name.
    pub name: String,
    /// Atoms used, |A_Y(t)|.
    pub atoms_used: usize,
    /// Δ(t), seconds.
    pub delay_s: f64,
    /// Σ compute time, seconds.
    pub compute_s: f64,
    /// Σ transfer time (per-byte and latency), seconds.
    pub transfer_s: f64,
    /// E(t), joules.
    pub energy_j: f64,
    /// c(t).
    pub cost: f64,
    /// Bytes sent between nodes.
    pub bytes_sent: f64,
    /// ret(t).
    pub retained: f64,
    /// α(t) = F_t(ret(t)).
    pub accuracy: f64,
    /// α(t) − γ(t)·η(q).
    pub quality: f64,
}

/// Per-node metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeReport {
    /// Node name.
    pub name: String,
    /// Atoms deployed (u(a,n) = 1).
    pub atoms_deployed: usize,
    /// Parameter bytes deployed (after weight quantization).
    pub memory_bytes: f64,
    /// memory(n).
    pub memory_limit: f64,
    /// Σ_t rate(t)·compute seconds on n per inference.
    pub utilization: f64,
    /// Σ_t rate(t)·E(t,n), watts.
    pub power_w: f64,
}

/// Per-physical-link load.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkReport {
    /// Sender name.
    pub from: String,
    /// Receiver name.
    pub to: String,
    /// Bytes per second carried.
    pub load_bytes_per_s: f64,
    /// Bandwidth.
    pub bandwidth: f64,
}

/// Everything the evaluator computes for a plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Per task.
    pub tasks: Vec<TaskReport>,
    /// Per node.
    pub nodes: Vec<NodeReport>,
    /// Per physical link.
    pub links: Vec<LinkReport>,
    /// Quantized group names.
    pub quantized: Vec<String>,
    /// η(q).
    pub noise: f64,
    /// T (rate-weighted mean delay, s), E (W), C (per second).
    pub totals: Tec,
    /// Weighted normalized objective; `None` under payoff normalization
    /// without a payoff table.
    pub objective: Option<f64>,
    /// Every violated constraint.
    pub violations: Vec<Violation>,
}

impl Evaluation {
    /// True when no constraint is violated.
    pub fn feasible(&self) -> bool {
        self.violations.is_empty()
    }
}

/// Relative tolerance of every comparison against a limit.
pub const TOLERANCE: f64 = 1e-9;

fn exceeds(value: f64, limit: f64) -> bool {
    value > limit + TOLERANCE * limit.abs().max(1.0)
}

fn falls_short(value: f64, limit: f64) -> bool {
    value < limit - TOLERANCE * limit.abs().max(1.0)
}

/// A number with 4 significant digits, for messages.
pub fn sig(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let mag = x.abs().log10().floor() as i32;
    if !(-4..6).contains(&mag) {
        format!("{x:.3e}")
    } else {
        let decimals = (3 - mag).max(0) as usize;
        let s = format!("{x:.decimals$}");
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    }
}

/// One cross-node transfer the evaluator counted: task `task`'s output of
/// atom `atom` sent from node `from` to node `to` (once, whatever the
/// number of successors there).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transfer {
    /// Task index.
    pub task: usize,
    /// Sending atom index.
    pub atom: usize,
    /// Sender node index.
    pub from: usize,
    /// Receiver node index.
    pub to: usize,
    /// Bytes per inference (after activation quantization).
    pub bytes: f64,
}

/// Scores `plan` on `inst`; `payoff` is needed only for payoff
/// normalization.
pub fn evaluate(inst: &Instance, plan: &Plan, payoff: Option<&PayoffTable>) -> Evaluation {
    evaluate_with_transfers(inst, plan, payoff).0
}

/// [`evaluate`], with every cross-node transfer it counted (the pictures
/// of `edgesplit draw` show them).
pub fn evaluate_with_transfers(
    inst: &Instance,
    plan: &Plan,
    payoff: Option<&PayoffTable>,
) -> (Evaluation, Vec<Transfer>) {
    let fam = inst.families;
    let noise = inst.quantization.noise.eval(&plan.quantized);
    let mut tally = Tally::new(inst);
    let mut tasks = Vec::with_capacity(inst.tasks.len());
    for t in 0..inst.tasks.len() {
        check_structure(inst, plan, t, &mut tally.violations);
        tasks.push(score_task(inst, plan, t, noise, &mut tally));
    }
    let mut v = |family: &str, message: String| {
        tally.violations.push(Violation {
            family: family.to_string(),
            message,
        })
    };
    if fam.on("noise") {
        if let Some(max) = inst.quantization.max_noise {
            if exceeds(noise, max) {
                v(
                    "noise",
                    format!("noise {} > max_noise {}", sig(noise), sig(max)),
                );
            }
        }
    }
    if fam.on("custom") {
        check_custom(inst, plan, &tally.deployed, &mut tally.violations);
    }
    // The families that carry their own check.
    for f in crate::milp::families::all().filter(|f| fam.on(f.name())) {
        let mut found = Vec::new();
        f.check(inst, plan, &mut found);
        tally
            .violations
            .extend(found.into_iter().map(|message| Violation {
                family: f.name().to_string(),
                message,
            }));
    }
    let nodes = score_nodes(inst, plan, &mut tally);
    let links = score_links(inst, &mut tally);
    let total_rate = inst.total_rate();
    let totals = Tec {
        time: tasks
            .iter()
            .zip(&inst.tasks)
            .map(|(r, t)| t.rate * r.delay_s)
            .sum::<f64>()
            / total_rate,
        energy: tasks
            .iter()
            .zip(&inst.tasks)
            .map(|(r, t)| t.rate * r.energy_j)
            .sum(),
        cost: tasks
            .iter()
            .zip(&inst.tasks)
            .map(|(r, t)| t.rate * r.cost)
            .sum(),
    };
    let objective = inst.objective.value(totals, payoff);
    let ev = Evaluation {
        tasks,
        nodes,
        links,
        quantized: (0..plan.quantized.len())
            .filter(|&g| plan.quantized[g])
            .map(|g| inst.quantization.groups[g].clone())
            .collect(),
        noise,
        totals,
        objective,
        violations: tally.violations,
    };
    (ev, tally.transfers)
}

/// What the evaluation of a plan adds up across tasks: which atoms each
/// node hosts, each node's utilization and power, each link's load, the
/// transfers counted, and the violations found.
struct Tally {
    deployed: Vec<Vec<bool>>,
    utilization: Vec<f64>,
    power: Vec<f64>,
    link_load: Vec<f64>,
    transfers: Vec<Transfer>,
    violations: Vec<Violation>,
}

impl Tally {
    fn new(inst: &Instance) -> Self {
        let nn = inst.network.len();
        Tally {
            deployed: vec![vec![false; inst.dnn.len()]; nn],
            utilization: vec![0.0; nn],
            power: vec![0.0; nn],
            link_load: vec![0.0; inst.network.links.len()],
            transfers: Vec::new(),
            violations: Vec::new(),
        }
    }
}

/// Task `t`'s selection and placement: its input and output on their
/// nodes, mandatory atoms used, every used atom connected (selection),
/// minimum widths and placement rules.
fn check_structure(inst: &Instance, plan: &Plan, t: usize, violations: &mut Vec<Violation>) {
    let dnn = &inst.dnn;
    let net = &inst.network;
    let fam = inst.families;
    let task = &inst.tasks[t];
    let place = &plan.placement[t];
    let used = |a: usize| place[a].is_some();
    let tn = &task.name;
    let mut v = |family: &str, message: String| {
        violations.push(Violation {
            family: family.to_string(),
            message,
        })
    };
    let (input, output) = (inst.input_of(t), inst.output_of(t));
    match place[input] {
        None => v(
            "placement",
            format!(
                "task {tn}: input atom '{}' is not used",
                dnn.atoms[input].id
            ),
        ),
        Some(n) if n != task.source => v(
            "placement",
            format!(
                "task {tn}: input atom '{}' on {} instead of its source {}",
                dnn.atoms[input].id, net.nodes[n].name, net.nodes[task.source].name
            ),
        ),
        _ => {}
    }
    match place[output] {
        None => v(
            "placement",
            format!(
                "task {tn}: output atom '{}' is not used",
                dnn.atoms[output].id
            ),
        ),
        Some(n) if n != task.sink => v(
            "placement",
            format!(
                "task {tn}: output atom '{}' on {} instead of its sink {}",
                dnn.atoms[output].id, net.nodes[n].name, net.nodes[task.sink].name
            ),
        ),
        _ => {}
    }
    let foreign: Vec<&str> = (0..dnn.len())
        .filter(|&a| used(a) && !inst.own_atom(t, a))
        .map(|a| dnn.atoms[a].id.as_str())
        .collect();
    if !foreign.is_empty() {
        v(
            "selection",
            format!(
                "task {tn}: atoms of another DNN than its own '{}' used: {}",
                dnn.components[task.dnn].name,
                list(&foreign)
            ),
        );
    }
    let missing: Vec<&str> = dnn
        .atoms_of(task.dnn)
        .filter(|&a| dnn.atoms[a].mandatory && !used(a))
        .map(|a| dnn.atoms[a].id.as_str())
        .collect();
    if !missing.is_empty() {
        v(
            "selection",
            format!("task {tn}: mandatory atoms not used: {}", list(&missing)),
        );
    }
    if fam.on("selection") {
        let no_pred: Vec<&str> = (0..dnn.len())
            .filter(|&a| !dnn.is_input(a) && used(a) && !dnn.preds[a].iter().any(|&b| used(b)))
            .map(|a| dnn.atoms[a].id.as_str())
            .collect();
        if !no_pred.is_empty() {
            v(
                "selection",
                format!(
                    "task {tn}: used atoms with no used predecessor: {}",
                    list(&no_pred)
                ),
            );
        }
        let no_succ: Vec<&str> = (0..dnn.len())
            .filter(|&a| !dnn.is_output(a) && used(a) && !dnn.succs[a].iter().any(|&b| used(b)))
            .map(|a| dnn.atoms[a].id.as_str())
            .collect();
        if !no_succ.is_empty() {
            v(
                "selection",
                format!(
                    "task {tn}: used atoms with no used successor: {}",
                    list(&no_succ)
                ),
            );
        }
    }

    if fam.on("width") {
        for w in inst.min_width.iter().filter(|w| w.tasks.contains(&t)) {
            let kept = w.atoms.iter().filter(|&&a| used(a)).count();
            if kept < w.k {
                v(
                    "width",
                    format!(
                        "task {tn}: {kept} atom(s) of min_width '{}' < k {}",
                        w.name, w.k
                    ),
                );
            }
        }
    }
    if fam.on("rules") {
        for rule in inst.rules.iter().filter(|r| r.tasks.contains(&t)) {
            for &a in &rule.atoms {
                if let Some(n) = place[a].filter(|&n| !rule.allowed[n]) {
                    v(
                        "rules",
                        format!(
                            "task {tn}: atom '{}' on {} breaks rule '{}'",
                            dnn.atoms[a].id, net.nodes[n].name, rule.name
                        ),
                    );
                }
            }
        }
    }
}

/// Task `t`'s compute, transfers, delay and quality, added to `tally`
/// (deployments, node utilization and power, link loads, transfers), with
/// the traffic, delay and quality violations.
fn score_task(inst: &Instance, plan: &Plan, t: usize, noise: f64, tally: &mut Tally) -> TaskReport {
    let dnn = &inst.dnn;
    let net = &inst.network;
    let fam = inst.families;
    let task = &inst.tasks[t];
    let place = &plan.placement[t];
    let used = |a: usize| place[a].is_some();
    let tn = &task.name;
    let quantized_atom = |a: usize| dnn.atoms[a].group.is_some_and(|g| plan.quantized[g]);
    let af = inst.quantization.activation_factor;
    let Tally {
        deployed,
        utilization,
        power,
        link_load,
        transfers,
        violations,
    } = tally;
    let mut v = |family: &str, message: String| {
        violations.push(Violation {
            family: family.to_string(),
            message,
        })
    };
    let mut compute_s = 0.0;
    let mut energy_j = 0.0;
    let mut cost = 0.0;
    let mut level_node_ct: BTreeMap<(usize, usize), f64> = BTreeMap::new();
    for (a, atom) in dnn.atoms.iter().enumerate() {
        let Some(n) = place[a] else { continue };
        deployed[n][a] = true;
        let node = &net.nodes[n];
        let ct = inst.compute_s(a, n, quantized_atom(a));
        compute_s += ct;
        energy_j += node.power * ct;
        cost += node.price * ct;
        utilization[n] += task.rate * ct;
        power[n] += task.rate * node.power * ct;
        *level_node_ct.entry((atom.level, n)).or_default() += ct;
    }

    // Transfers: a's output goes once to every other node hosting a
    // used successor of a.
    let mut transfer_s = 0.0;
    let mut bytes_sent = 0.0;
    let mut class_crossings: BTreeSet<(usize, usize, usize, usize)> = BTreeSet::new();
    let mut level_link: BTreeMap<(usize, usize, usize, usize), f64> = BTreeMap::new();
    if fam.on("traffic") {
        for a in 0..dnn.len() {
            let Some(k) = place[a] else { continue };
            let dests: BTreeSet<usize> = dnn.succs[a]
                .iter()
                .filter_map(|&b| place[b])
                .filter(|&h| h != k)
                .collect();
            let bytes = dnn.atoms[a].out_bytes * if quantized_atom(a) { af } else { 1.0 };
            for h in dests {
                let Some((path, link)) = net.route(k, h, bytes) else {
                    v(
                        "traffic",
                        format!("task {tn}: atom '{}' on {} feeds a successor on {}, which {} cannot reach", dnn.atoms[a].id, net.nodes[k].name, net.nodes[h].name, net.nodes[k].name),
                    );
                    continue;
                };
                let tb = link.time_per_byte * bytes;
                transfers.push(Transfer {
                    task: t,
                    atom: a,
                    from: k,
                    to: h,
                    bytes,
                });
                transfer_s += tb;
                bytes_sent += bytes;
                energy_j += link.energy_per_byte * bytes;
                cost += link.price_per_byte * bytes;
                power[k] += task.rate * link.energy_per_byte * bytes;
                for &l in &link.path {
                    link_load[l] += task.rate * bytes;
                }
                let class = dnn.class_of[a].expect("an atom with successors has a class");
                class_crossings.insert((class, k, h, path));
                *level_link
                    .entry((dnn.atoms[a].level, k, h, path))
                    .or_default() += tb;
            }
        }
    }
    let latency = |k: usize, h: usize, p: usize| net.routes(k, h)[p].latency;
    // Each fan-out class that crosses a node pair waits for the latency of
    // each path its tensors take there once.
    transfer_s += class_crossings
        .iter()
        .map(|&(_, k, h, p)| latency(k, h, p))
        .sum::<f64>();
    if net.latency_energy {
        // The sender's power while it waits on those latencies.
        for &(_, k, h, p) in &class_crossings {
            let j = net.nodes[k].power * latency(k, h, p);
            energy_j += j;
            power[k] += task.rate * j;
        }
    }
    let delay_s = match inst.delay_model {
        DelayModel::Sequential => compute_s + transfer_s,
        DelayModel::Layered => layered_delay(&level_node_ct, &level_link, latency),
    };

    let retained = task.retained((0..dnn.len()).filter(|&a| used(a)));
    let accuracy = task.curve.value(retained);
    let quality = accuracy - task.noise_sensitivity * noise;
    if fam.on("delay") && exceeds(delay_s, task.max_delay) {
        v(
            "delay",
            format!(
                "task {tn}: delay {} s > max_delay {} s",
                sig(delay_s),
                sig(task.max_delay)
            ),
        );
    }
    if fam.on("quality") && falls_short(quality, task.min_quality) {
        v(
            "quality",
            format!(
                "task {tn}: quality {} < min_quality {}",
                sig(quality),
                sig(task.min_quality)
            ),
        );
    }
    TaskReport {
        name: tn.clone(),
        atoms_used: (0..dnn.len()).filter(|&a| used(a)).count(),
        delay_s,
        compute_s,
        transfer_s,
        energy_j,
        cost,
        bytes_sent,
        retained,
        accuracy,
        quality,
    }
}

/// The layered delay model's delay: per level, the slowest node's compute
/// plus the slowest crossing's transfer and latency (a crossing: a node
/// pair and a path between them).
fn layered_delay(
    level_node_ct: &BTreeMap<(usize, usize), f64>,
    level_link: &BTreeMap<(usize, usize, usize, usize), f64>,
    latency: impl Fn(usize, usize, usize) -> f64,
) -> f64 {
    let mut tau: BTreeMap<usize, f64> = BTreeMap::new();
    for (&(l, _), &ct) in level_node_ct {
        let e = tau.entry(l).or_default();
        *e = e.max(ct);
    }
    let mut chi: BTreeMap<usize, f64> = BTreeMap::new();
    for (&(l, k, h, p), &tb) in level_link {
        let e = chi.entry(l).or_default();
        *e = e.max(tb + latency(k, h, p));
    }
    tau.values().sum::<f64>() + chi.values().sum::<f64>()
}

/// The custom constraints (`custom_constraints:`), each checked on the
/// plan's decisions.
fn check_custom(
    inst: &Instance,
    plan: &Plan,
    deployed: &[Vec<bool>],
    violations: &mut Vec<Violation>,
) {
    let mut v = |family: &str, message: String| {
        violations.push(Violation {
            family: family.to_string(),
            message,
        })
    };
    use crate::instance::custom::{CustomSense, Decision};
    let value = |d: Decision| -> f64 {
        let on = match d {
            Decision::Uses(a, t) => plan.placement[t][a].is_some(),
            Decision::RunsOn(a, n, t) => plan.placement[t][a] == Some(n),
            Decision::Deployed(a, n) => deployed[n][a],
            Decision::Quantized(g) => plan.quantized[g],
        };
        if on {
            1.0
        } else {
            0.0
        }
    };
    for row in &inst.custom {
        let lhs: f64 = row.terms.iter().map(|&(d, c)| c * value(d)).sum();
        let broken = match row.sense {
            CustomSense::Le => exceeds(lhs, row.rhs),
            CustomSense::Ge => falls_short(lhs, row.rhs),
            CustomSense::Eq => exceeds(lhs, row.rhs) || falls_short(lhs, row.rhs),
        };
        if broken {
            v(
                "custom",
                format!(
                    "custom constraint {}: {} {} {} does not hold",
                    row.name,
                    sig(lhs),
                    row.sense.symbol(),
                    sig(row.rhs)
                ),
            );
        }
    }
}

/// Each node's memory, utilization and power against its limits.
fn score_nodes(inst: &Instance, plan: &Plan, tally: &mut Tally) -> Vec<NodeReport> {
    let dnn = &inst.dnn;
    let net = &inst.network;
    let fam = inst.families;
    let nn = net.len();
    let quantized_atom = |a: usize| dnn.atoms[a].group.is_some_and(|g| plan.quantized[g]);
    let wf = inst.quantization.weight_factor;
    let Tally {
        deployed,
        utilization,
        power,
        violations,
        ..
    } = tally;
    let mut v = |family: &str, message: String| {
        violations.push(Violation {
            family: family.to_string(),
            message,
        })
    };
    let mut nodes = Vec::with_capacity(nn);
    for (n, node) in net.nodes.iter().enumerate() {
        let memory_bytes: f64 = (0..dnn.len())
            .filter(|&a| deployed[n][a])
            .map(|a| dnn.atoms[a].param_bytes * if quantized_atom(a) { wf } else { 1.0 })
            .fold(0.0, |s, b| s + b);
        if fam.on("memory") && exceeds(memory_bytes, node.memory) {
            v(
                "memory",
                format!(
                    "node {}: memory {} B > memory {} B",
                    node.name,
                    sig(memory_bytes),
                    sig(node.memory)
                ),
            );
        }
        if fam.on("capacity") {
            if let Some(max) = node.max_utilization {
                if exceeds(utilization[n], max) {
                    v(
                        "capacity",
                        format!(
                            "node {}: utilization {} > max_utilization {}",
                            node.name,
                            sig(utilization[n]),
                            sig(max)
                        ),
                    );
                }
            }
        }
        if fam.on("energy") {
            if let Some(max) = node.max_power {
                if exceeds(power[n], max) {
                    v(
                        "energy",
                        format!(
                            "node {}: power {} W > max_power {} W",
                            node.name,
                            sig(power[n]),
                            sig(max)
                        ),
                    );
                }
            }
        }
        nodes.push(NodeReport {
            name: node.name.clone(),
            atoms_deployed: deployed[n].iter().filter(|&&d| d).count(),
            memory_bytes,
            memory_limit: node.memory,
            utilization: utilization[n],
            power_w: power[n],
        });
    }
    nodes
}

/// Each link's load against its bandwidth.
fn score_links(inst: &Instance, tally: &mut Tally) -> Vec<LinkReport> {
    let net = &inst.network;
    let fam = inst.families;
    let Tally {
        link_load,
        violations,
        ..
    } = tally;
    let mut v = |family: &str, message: String| {
        violations.push(Violation {
            family: family.to_string(),
            message,
        })
    };
    let mut links = Vec::with_capacity(net.links.len());
    for (l, link) in net.links.iter().enumerate() {
        let (from, to) = (&net.nodes[link.from].name, &net.nodes[link.to].name);
        if fam.on("capacity") && exceeds(link_load[l], link.bandwidth) {
            v(
                "capacity",
                format!(
                    "link {from}->{to}: load {} B/s > bandwidth {} B/s",
                    sig(link_load[l]),
                    sig(link.bandwidth)
                ),
            );
        }
        links.push(LinkReport {
            from: from.clone(),
            to: to.clone(),
            load_bytes_per_s: link_load[l],
            bandwidth: link.bandwidth,
        });
    }

    links
}

fn list(names: &[&str]) -> String {
    let shown = names
        .iter()
        .take(10)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > 10 {
        format!("{shown} and {} more", names.len() - 10)
    } else {
        shown
    }
}
