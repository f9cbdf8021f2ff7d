//! The evaluator against values computed by hand (docs/formulation.md and
//! instance-format.md), the reference-plan and evaluate commands, and plan files.
//!
//! Every expected number below is written out as arithmetic on the numbers
//! of the inline instance `BASE`; nothing is taken from the evaluator.
//!
//! The fixture, in short:
//! - atoms `img` (input, 1000 B out) → `conv.0`, `conv.1` (1 MFLOP, 2000 B
//!   params, 400 B out, group gc, mandatory) → `fc.0`, `fc.1` (2 MFLOP, 8000 B
//!   params, 100 B out, group gf) → `out`. Levels 0, 1, 2, 3; fan-out
//!   classes {img}, {conv.0, conv.1}, {fc.0, fc.1}.
//! - nodes device (1 GFLOP/s), edge (4 GFLOP/s), cloud (10 GFLOP/s); links
//!   device→edge, edge→device, edge↔cloud. device and cloud have no direct
//!   link: they talk over the 2-hop path through edge.
//! - tasks alpha (rate 4, device → device) and beta (rate 1, device → edge).

use edgesplit::eval::{evaluate, Evaluation};
use edgesplit::instance::{load_str, DelayModel, PayoffTable, Tec};
use edgesplit::{Instance, Plan};
use proptest::prelude::*;
use std::collections::HashSet;
use std::path::Path;
use std::process::{Command, Output};

const BASE: &str = r#"
version: 1
name: tiny
description: hand-checked evaluator fixture
dnn:
  name: tiny-net
  input: {name: img, out_bytes: 1000}
  layers:
    - {name: conv, count: 2, flops: 1.0e6, param_bytes: 2000, out_bytes: 400, group: gc, mandatory: true}
    - {name: fc, count: 2, flops: 2.0e6, param_bytes: 8000, out_bytes: 100, group: gf}
  output: {name: out}
network:
  nodes:
    - {name: device, speed: 1.0e9, memory: 10000, power: 2, price: 0, quant_speedup: 2.0, max_utilization: 0.5, max_power: 1.0}
    - {name: edge, speed: 4.0e9, memory: 1.0e5, power: 10, price: 0.002, quant_speedup: 1.5}
    - {name: cloud, speed: 1.0e10, memory: 1.0e6, power: 100, price: 0.01, quant_speedup: 1.25}
  links:
    - {from: device, to: edge, bandwidth: 1.0e6, latency: 0.002, power: 0.5, price: 1.0e-8}
    - {from: edge, to: device, bandwidth: 2.0e6, latency: 0.002, power: 0.2, price: 1.0e-8}
    - {from: edge, to: cloud, bandwidth: 1.0e7, latency: 0.01, power: 1.0, price: 2.0e-9, symmetric: true}
tasks:
  - name: alpha
    rate: 4
    source: device
    max_delay: 0.05
    min_quality: 0.7
    quality: {curve: [[0, 0], [0.5, 0.6], [1, 0.8]], noise_sensitivity: 1.0}
    relevance: {conv.0: 0.5, conv.1: 0.3, fc.0: 0.8, fc.1: 0.2}
  - name: beta
    rate: 1
    source: device
    sink: edge
    max_delay: 0.06
    min_quality: 0.6
    quality: {curve: [[0, 0], [0.8, 0.7], [1, 0.75]], noise_sensitivity: 2.0}
    relevance: {conv: 1.0, fc: 1.0}
quantization:
  groups: [gc, gf]
  weight_factor: 0.25
  activation_factor: 0.5
  noise:
    intercept: 0.01
    terms:
      - {groups: [gc], coef: 0.02}
      - {groups: [gf], coef: 0.005}
      - {groups: [gc, gf], coef: 0.015}
  max_noise: 0.04
objective:
  weights: {time: 1.0, energy: 0.1, cost: 100}
  normalization: none
delay_model: sequential
"#;

// ---- Hand figures of the fixture -------------------------------------

// Compute time per atom and node: flops / speed.
const CT_CONV_D: f64 = 1.0e6 / 1.0e9; // conv on device
const CT_CONV_E: f64 = 1.0e6 / 4.0e9; // conv on edge
const CT_CONV_C: f64 = 1.0e6 / 1.0e10; // conv on cloud
const CT_FC_C: f64 = 2.0e6 / 1.0e10; // fc on cloud

// Physical links: seconds per byte = 1/bandwidth, joules per byte =
// power/bandwidth, price per byte.
const TB_DE: f64 = 1.0 / 1.0e6;
const EB_DE: f64 = 0.5 / 1.0e6;
const CB_DE: f64 = 1.0e-8;
const LAT_DE: f64 = 0.002;
const TB_ED: f64 = 1.0 / 2.0e6;
const EB_ED: f64 = 0.2 / 2.0e6;
const CB_ED: f64 = 1.0e-8;
const LAT_ED: f64 = 0.002;
const TB_EC: f64 = 1.0 / 1.0e7; // edge↔cloud, both directions
const EB_EC: f64 = 1.0 / 1.0e7;
const CB_EC: f64 = 2.0e-9;
const LAT_EC: f64 = 0.01;

// Effective 2-hop links: figures add up along device→edge→cloud and
// cloud→edge→device.
const TB_DC: f64 = TB_DE + TB_EC;
const EB_DC: f64 = EB_DE + EB_EC;
const CB_DC: f64 = CB_DE + CB_EC;
const LAT_DC: f64 = LAT_DE + LAT_EC;
const TB_CD: f64 = TB_EC + TB_ED;
const EB_CD: f64 = EB_EC + EB_ED;
const CB_CD: f64 = CB_EC + CB_ED;
const LAT_CD: f64 = LAT_EC + LAT_ED;

// Node power (W) and price (per s).
const P_D: f64 = 2.0;
const P_E: f64 = 10.0;
const P_C: f64 = 100.0;
const PR_E: f64 = 0.002;
const PR_C: f64 = 0.01;

const RATE_A: f64 = 4.0;
const RATE_B: f64 = 1.0;

// ---- Helpers ---------------------------------------------------------

/// `BASE` with each `(from, to)` replaced; `from` must occur exactly once.
fn variant(edits: &[(&str, &str)]) -> String {
    let mut s = BASE.to_string();
    for (from, to) in edits {
        assert_eq!(
            s.matches(from).count(),
            1,
            "edit target {from:?} not unique"
        );
        s = s.replace(from, to);
    }
    s
}

fn load(yaml: &str) -> Instance {
    load_str(yaml, None).unwrap_or_else(|e| panic!("fixture does not load:\n{e}"))
}

/// A plan from names: per task, (atom id or layer name, node) pairs.
fn plan_of(inst: &Instance, tasks: &[(&str, &[(&str, &str)])], quantized: &[&str]) -> Plan {
    let mut p = Plan::empty(inst);
    for (tname, places) in tasks {
        let t = inst.task_by_name(tname).expect("task");
        for (key, node) in *places {
            let n = inst.network.node_by_name(node).expect("node");
            let atoms = match inst.dnn.atom_by_id(key) {
                Some(a) => vec![a],
                None => {
                    let (_, atoms) = inst
                        .dnn
                        .layers
                        .iter()
                        .find(|(l, _)| l == key)
                        .expect("atom or layer");
                    atoms.clone()
                }
            };
            for a in atoms {
                p.placement[t][a] = Some(n);
            }
        }
    }
    for g in quantized {
        let gi = inst
            .quantization
            .groups
            .iter()
            .position(|x| x == g)
            .expect("group");
        p.quantized[gi] = true;
    }
    p
}

const ALPHA: &[(&str, &str)] = &[
    ("img", "device"),
    ("conv.0", "device"),
    ("conv.1", "device"),
    ("fc.0", "cloud"),
    ("out", "device"),
];
const BETA: &[(&str, &str)] = &[
    ("img", "device"),
    ("conv.0", "device"),
    ("conv.1", "edge"),
    ("fc.0", "cloud"),
    ("fc.1", "cloud"),
    ("out", "edge"),
];

/// The hand plan: alpha runs both convs on device and fc.0 on cloud (fc.1
/// unused); beta splits the conv layer over device and edge and runs both
/// fc atoms on cloud.
fn hand_plan(inst: &Instance, quantized: &[&str]) -> Plan {
    plan_of(inst, &[("alpha", ALPHA), ("beta", BETA)], quantized)
}

#[track_caller]
fn close(actual: f64, expected: f64, what: &str) {
    let tol = 1e-12 * expected.abs().max(1e-12);
    assert!(
        (actual - expected).abs() <= tol,
        "{what}: evaluator {actual:e}, by hand {expected:e}"
    );
}

fn task<'a>(ev: &'a Evaluation, name: &str) -> &'a edgesplit::eval::TaskReport {
    ev.tasks.iter().find(|t| t.name == name).expect("task")
}

fn node<'a>(ev: &'a Evaluation, name: &str) -> &'a edgesplit::eval::NodeReport {
    ev.nodes.iter().find(|n| n.name == name).expect("node")
}

fn link_load(ev: &Evaluation, from: &str, to: &str) -> f64 {
    ev.links
        .iter()
        .find(|l| l.from == from && l.to == to)
        .expect("link")
        .load_bytes_per_s
}

/// The messages of `family`'s violations; every violation's tag must be
/// the name of a registered family.
fn messages(ev: &Evaluation, family: &str) -> Vec<String> {
    for v in &ev.violations {
        assert!(
            edgesplit::milp::families::by_name(&v.family).is_some(),
            "violation tagged with an unregistered family: {v:?}"
        );
    }
    ev.violations
        .iter()
        .filter(|v| v.family == family)
        .map(|v| v.message.clone())
        .collect()
}

/// Evaluates `plan` on `yaml`, expects exactly `expected` in `family`, then
/// switches `switch` off in `constraints:` and expects none left in that
/// family, the other families' violations unchanged.
#[track_caller]
fn family_switch(
    yaml: &str,
    plan: impl Fn(&Instance) -> Plan,
    family: &str,
    expected: &[&str],
    switch: &str,
) {
    let inst = load(yaml);
    let ev = evaluate(&inst, &plan(&inst), None);
    assert_eq!(
        messages(&ev, family),
        expected,
        "all violations: {:?}",
        ev.violations
    );
    assert!(!ev.feasible());

    let off = format!("{yaml}constraints: {{{switch}: false}}\n");
    let inst_off = load(&off);
    let ev_off = evaluate(&inst_off, &plan(&inst_off), None);
    assert!(
        messages(&ev_off, family).is_empty(),
        "{switch}: false leaves {:?}",
        ev_off.violations
    );
    let others = |e: &Evaluation| -> Vec<_> {
        e.violations
            .iter()
            .filter(|v| v.family != family)
            .cloned()
            .collect()
    };
    assert_eq!(others(&ev), others(&ev_off));
}

// ---- Hand-computed per-task figures (unquantized hand plan) -----------

/// alpha, sequential model.
struct Alpha;
impl Alpha {
    // conv.0 + conv.1 on device, fc.0 on cloud.
    const COMPUTE: f64 = CT_CONV_D + CT_CONV_D + CT_FC_C;
    // conv.0 and conv.1 each send 400 B device→cloud (fc.0 there); fc.0
    // sends 100 B cloud→device (out there).
    const PER_BYTE: f64 = 2.0 * 400.0 * TB_DC + 100.0 * TB_CD;
    // Latency once per fan-out class and node pair: class {conv.0, conv.1}
    // on (device, cloud) once although two atoms cross; class {fc.*} on
    // (cloud, device).
    const LATENCY: f64 = LAT_DC + LAT_CD;
    const DELAY: f64 = Self::COMPUTE + Self::PER_BYTE + Self::LATENCY;
    const ENERGY: f64 = P_D * 2.0 * CT_CONV_D + P_C * CT_FC_C + 2.0 * 400.0 * EB_DC + 100.0 * EB_CD;
    // device price is 0.
    const COST: f64 = PR_C * CT_FC_C + 2.0 * 400.0 * CB_DC + 100.0 * CB_CD;
    // σ of conv.0, conv.1, fc.0 over σ of all (fc.1 = 0.2 is dropped).
    const RETAINED: f64 = (0.5 + 0.3 + 0.8) / (0.5 + 0.3 + 0.8 + 0.2);
    // F = min(1.2x, 0.4x + 0.4); the second piece is the active one above 0.5.
    const ACCURACY: f64 = 0.4 * Self::RETAINED + 0.4;
}

/// beta, sequential model.
struct Beta;
impl Beta {
    // conv.0 on device, conv.1 on edge, fc.0 and fc.1 on cloud.
    const COMPUTE: f64 = CT_CONV_D + CT_CONV_E + 2.0 * CT_FC_C;
    // img device→edge (for conv.1; conv.0 is local), conv.0 device→cloud,
    // conv.1 edge→cloud, fc.0 and fc.1 cloud→edge.
    const PER_BYTE: f64 = 1000.0 * TB_DE + 400.0 * TB_DC + 400.0 * TB_EC + 2.0 * 100.0 * TB_EC;
    // Classes: {img} (d,e); {conv.*} (d,c) and (e,c): two pairs, two
    // latencies; {fc.*} (c,e) once for two atoms.
    const LATENCY: f64 = LAT_DE + LAT_DC + LAT_EC + LAT_EC;
    const DELAY: f64 = Self::COMPUTE + Self::PER_BYTE + Self::LATENCY;
    const ENERGY: f64 = P_D * CT_CONV_D
        + P_E * CT_CONV_E
        + P_C * 2.0 * CT_FC_C
        + 1000.0 * EB_DE
        + 400.0 * EB_DC
        + 400.0 * EB_EC
        + 2.0 * 100.0 * EB_EC;
    const COST: f64 = PR_E * CT_CONV_E
        + PR_C * 2.0 * CT_FC_C
        + 1000.0 * CB_DE
        + 400.0 * CB_DC
        + 400.0 * CB_EC
        + 2.0 * 100.0 * CB_EC;
    // Every atom with relevance is used.
    const RETAINED: f64 = 1.0;
    // F(1) = 0.75 on the curve [[0,0],[0.8,0.7],[1,0.75]].
    const ACCURACY: f64 = 0.75;
}

// ---- The fixture itself ----------------------------------------------

#[test]
fn fixture_structure_and_effective_two_hop_links() {
    let inst = load(BASE);
    let dnn = &inst.dnn;
    assert_eq!(dnn.len(), 6);
    let lvl = |id: &str| dnn.atoms[dnn.atom_by_id(id).unwrap()].level;
    assert_eq!(
        [
            lvl("img"),
            lvl("conv.0"),
            lvl("conv.1"),
            lvl("fc.0"),
            lvl("fc.1"),
            lvl("out")
        ],
        [0, 1, 1, 2, 2, 3]
    );
    // {img}, {conv.0, conv.1}, {fc.0, fc.1}; the output is in none.
    assert_eq!(dnn.classes.len(), 3);
    let c0 = dnn.class_of[dnn.atom_by_id("conv.0").unwrap()];
    assert_eq!(c0, dnn.class_of[dnn.atom_by_id("conv.1").unwrap()]);
    assert_ne!(c0, dnn.class_of[dnn.atom_by_id("img").unwrap()]);

    let net = &inst.network;
    let (d, e, c) = (0, 1, 2);
    let dc = net.effective(d, c).unwrap();
    close(dc.latency, 0.002 + 0.01, "lat(device,cloud)");
    close(
        dc.time_per_byte,
        1.0 / 1.0e6 + 1.0 / 1.0e7,
        "tb(device,cloud)",
    );
    close(
        dc.energy_per_byte,
        0.5 / 1.0e6 + 1.0 / 1.0e7,
        "eb(device,cloud)",
    );
    close(dc.price_per_byte, 1.0e-8 + 2.0e-9, "cb(device,cloud)");
    assert_eq!(dc.path.len(), 2, "device→edge→cloud");
    let cd = net.effective(c, d).unwrap();
    close(cd.latency, 0.01 + 0.002, "lat(cloud,device)");
    close(
        cd.time_per_byte,
        1.0 / 1.0e7 + 1.0 / 2.0e6,
        "tb(cloud,device)",
    );
    close(
        cd.energy_per_byte,
        1.0 / 1.0e7 + 0.2 / 2.0e6,
        "eb(cloud,device)",
    );
    assert_eq!(net.effective(e, e).unwrap().path.len(), 0);
}

// ---- Sequential model --------------------------------------------------

#[test]
fn sequential_per_task_delay_energy_cost_quality() {
    let inst = load(BASE);
    assert_eq!(inst.delay_model, DelayModel::Sequential);
    let ev = evaluate(&inst, &hand_plan(&inst, &[]), None);

    let a = task(&ev, "alpha");
    assert_eq!(a.atoms_used, 5); // img, conv.0, conv.1, fc.0, out
    close(a.compute_s, Alpha::COMPUTE, "alpha compute");
    close(
        a.transfer_s,
        Alpha::PER_BYTE + Alpha::LATENCY,
        "alpha transfer",
    );
    close(a.delay_s, Alpha::DELAY, "alpha delay");
    close(a.delay_s, 0.02714, "alpha delay, decimal");
    close(a.bytes_sent, 2.0 * 400.0 + 100.0, "alpha bytes");
    close(a.energy_j, Alpha::ENERGY, "alpha energy");
    close(a.energy_j, 0.0245, "alpha energy, decimal");
    close(a.cost, Alpha::COST, "alpha cost");
    close(a.retained, Alpha::RETAINED, "alpha retained");
    close(a.accuracy, Alpha::ACCURACY, "alpha accuracy");
    // Nothing quantized: η = 0, quality = accuracy.
    close(a.quality, Alpha::ACCURACY, "alpha quality");

    let b = task(&ev, "beta");
    assert_eq!(b.atoms_used, 6);
    close(b.compute_s, Beta::COMPUTE, "beta compute");
    close(
        b.transfer_s,
        Beta::PER_BYTE + Beta::LATENCY,
        "beta transfer",
    );
    close(b.delay_s, Beta::DELAY, "beta delay");
    close(b.delay_s, 0.03715, "beta delay, decimal");
    close(
        b.bytes_sent,
        1000.0 + 400.0 + 400.0 + 2.0 * 100.0,
        "beta bytes",
    );
    close(b.energy_j, Beta::ENERGY, "beta energy");
    close(b.cost, Beta::COST, "beta cost");
    close(b.retained, Beta::RETAINED, "beta retained");
    close(b.accuracy, Beta::ACCURACY, "beta accuracy");
    close(b.quality, Beta::ACCURACY, "beta quality");

    assert_eq!(ev.noise, 0.0);
    assert!(ev.quantized.is_empty());
    assert!(ev.feasible(), "{:?}", ev.violations);
}

#[test]
fn sequential_nodes_memory_shared_utilization_power_and_link_loads() {
    let inst = load(BASE);
    let ev = evaluate(&inst, &hand_plan(&inst, &[]), None);

    // Memory with shared deployment: conv.0 on device serves both tasks
    // and fc.0 on cloud serves both tasks; each counts once.
    let dev = node(&ev, "device");
    assert_eq!(dev.atoms_deployed, 4); // img, conv.0, conv.1, out (alpha's)
    close(
        dev.memory_bytes,
        2000.0 + 2000.0,
        "device memory (conv.0 once)",
    );
    close(dev.memory_limit, 10000.0, "device limit");
    let edge = node(&ev, "edge");
    assert_eq!(edge.atoms_deployed, 2); // conv.1, out (beta's)
    close(edge.memory_bytes, 2000.0, "edge memory");
    let cloud = node(&ev, "cloud");
    assert_eq!(cloud.atoms_deployed, 2); // fc.0, fc.1
    close(
        cloud.memory_bytes,
        8000.0 + 8000.0,
        "cloud memory (fc.0 once)",
    );

    // Utilization Σ_t rate·compute on the node.
    close(
        dev.utilization,
        RATE_A * 2.0 * CT_CONV_D + RATE_B * CT_CONV_D,
        "device utilization",
    );
    close(dev.utilization, 0.009, "device utilization, decimal");
    close(edge.utilization, RATE_B * CT_CONV_E, "edge utilization");
    close(
        cloud.utilization,
        RATE_A * CT_FC_C + RATE_B * 2.0 * CT_FC_C,
        "cloud utilization",
    );

    // Power Σ_t rate·(compute energy on n + transfer energy sent from n,
    // over the whole effective path).
    let dev_power = RATE_A * (P_D * 2.0 * CT_CONV_D + 2.0 * 400.0 * EB_DC)
        + RATE_B * (P_D * CT_CONV_D + 1000.0 * EB_DE + 400.0 * EB_DC);
    close(dev.power_w, dev_power, "device power");
    close(dev.power_w, 0.02066, "device power, decimal");
    close(
        edge.power_w,
        RATE_B * (P_E * CT_CONV_E + 400.0 * EB_EC),
        "edge power",
    );
    let cloud_power = RATE_A * (P_C * CT_FC_C + 100.0 * EB_CD)
        + RATE_B * (P_C * 2.0 * CT_FC_C + 2.0 * 100.0 * EB_EC);
    close(cloud.power_w, cloud_power, "cloud power");

    // Link loads: every physical link of the effective path carries
    // rate·bytes.
    // device→edge: alpha's 2×400 B to cloud; beta's img 1000 B to edge and
    // conv.0's 400 B to cloud.
    close(
        link_load(&ev, "device", "edge"),
        RATE_A * 800.0 + RATE_B * (1000.0 + 400.0),
        "load d→e",
    );
    // edge→cloud: alpha's 800 B (second hop); beta's conv.0 (second hop)
    // and conv.1.
    close(
        link_load(&ev, "edge", "cloud"),
        RATE_A * 800.0 + RATE_B * (400.0 + 400.0),
        "load e→c",
    );
    // cloud→edge: alpha's fc.0 100 B (first hop to device); beta's 2×100 B.
    close(
        link_load(&ev, "cloud", "edge"),
        RATE_A * 100.0 + RATE_B * 200.0,
        "load c→e",
    );
    // edge→device: alpha's fc.0 (second hop).
    close(link_load(&ev, "edge", "device"), RATE_A * 100.0, "load e→d");
}

#[test]
fn totals_and_objective_under_each_normalization() {
    let inst = load(BASE);
    let plan = hand_plan(&inst, &[]);
    let ev = evaluate(&inst, &plan, None);

    // T is the rate-weighted mean delay; E and C are rate-weighted sums.
    let t = (RATE_A * Alpha::DELAY + RATE_B * Beta::DELAY) / (RATE_A + RATE_B);
    let e = RATE_A * Alpha::ENERGY + RATE_B * Beta::ENERGY;
    let c = RATE_A * Alpha::COST + RATE_B * Beta::COST;
    close(ev.totals.time, t, "T");
    close(
        ev.totals.time,
        (4.0 * 0.02714 + 0.03715) / 5.0,
        "T, decimal",
    );
    close(ev.totals.energy, e, "E");
    close(ev.totals.cost, c, "C");
    // E is also the sum of the nodes' average power.
    let node_power: f64 = ev.nodes.iter().map(|n| n.power_w).sum();
    close(node_power, e, "Σ node power");

    // none: w_T·T + w_E·E + w_C·C with weights 1, 0.1, 100.
    close(
        ev.objective.unwrap(),
        1.0 * t + 0.1 * e + 100.0 * c,
        "objective none",
    );

    // Fixed scales: X / scale.
    let scaled = load(&variant(&[(
        "normalization: none",
        "normalization: {scales: {time: 0.01, energy: 0.5, cost: 1.0e-4}}",
    )]));
    let ev = evaluate(&scaled, &plan, None);
    close(
        ev.objective.unwrap(),
        1.0 * t / 0.01 + 0.1 * e / 0.5 + 100.0 * c / 1.0e-4,
        "objective scales",
    );

    // Payoff: (X − ideal)/(nadir − ideal); unknown without a table.
    let payoff = load(&variant(&[(
        "normalization: none",
        "normalization: payoff",
    )]));
    assert_eq!(evaluate(&payoff, &plan, None).objective, None);
    let table = PayoffTable {
        ideal: Tec {
            time: 0.02,
            energy: 0.1,
            cost: 5.0e-5,
        },
        nadir: Tec {
            time: 0.04,
            energy: 0.3,
            cost: 1.0e-4,
        },
    };
    let ev = evaluate(&payoff, &plan, Some(&table));
    close(
        ev.objective.unwrap(),
        1.0 * (t - 0.02) / (0.04 - 0.02)
            + 0.1 * (e - 0.1) / (0.3 - 0.1)
            + 100.0 * (c - 5.0e-5) / (1.0e-4 - 5.0e-5),
        "objective payoff",
    );
}

// ---- Layered model ---------------------------------------------------

#[test]
fn layered_delay_is_per_level_max_of_compute_and_of_transfers() {
    let inst = load(&variant(&[(
        "delay_model: sequential",
        "delay_model: layered",
    )]));
    assert_eq!(inst.delay_model, DelayModel::Layered);
    let ev = evaluate(&inst, &hand_plan(&inst, &[]), None);

    // alpha has one node per level, so layered = sequential:
    // τ(1) = device 2 convs; τ(2) = cloud fc.0;
    // χ(1) = (d,c): 2×400 B + latency; χ(2) = (c,d): 100 B + latency.
    let a_tau = 2.0 * CT_CONV_D + CT_FC_C;
    let a_chi = (2.0 * 400.0 * TB_DC + LAT_DC) + (100.0 * TB_CD + LAT_CD);
    close(task(&ev, "alpha").delay_s, a_tau + a_chi, "alpha layered");
    close(
        task(&ev, "alpha").delay_s,
        Alpha::DELAY,
        "alpha layered = sequential",
    );

    // beta: level 1 runs conv.0 on device and conv.1 on edge in parallel.
    let tau0 = 0.0; // img
    let tau1 = f64::max(CT_CONV_D, CT_CONV_E); // device 1 ms vs edge 0.25 ms
    let tau2 = 2.0 * CT_FC_C; // both fc on cloud
    let tau3 = 0.0; // out
    let chi0 = 1000.0 * TB_DE + LAT_DE; // img device→edge
                                        // Level 1 outputs: conv.0 on (d,c) vs conv.1 on (e,c): the max pair.
    let chi1 = f64::max(400.0 * TB_DC + LAT_DC, 400.0 * TB_EC + LAT_EC);
    let chi2 = 2.0 * 100.0 * TB_EC + LAT_EC; // fc.* cloud→edge
    let b_delay = tau0 + tau1 + tau2 + tau3 + chi0 + chi1 + chi2;
    let b = task(&ev, "beta");
    close(b.delay_s, b_delay, "beta layered");
    close(b.delay_s, 0.02686, "beta layered, decimal");
    assert!(b.delay_s < Beta::DELAY);
    // Compute, transfer, energy and cost do not depend on the delay model.
    close(b.compute_s, Beta::COMPUTE, "beta compute (layered)");
    close(
        b.transfer_s,
        Beta::PER_BYTE + Beta::LATENCY,
        "beta transfer (layered)",
    );
    close(b.energy_j, Beta::ENERGY, "beta energy (layered)");
    close(b.cost, Beta::COST, "beta cost (layered)");
    close(
        ev.totals.time,
        (RATE_A * (a_tau + a_chi) + RATE_B * b_delay) / (RATE_A + RATE_B),
        "T layered",
    );
}

// ---- Quantization ----------------------------------------------------

#[test]
fn quantized_conv_group_scales_compute_bytes_memory_and_adds_noise() {
    let inst = load(BASE);
    let ev = evaluate(&inst, &hand_plan(&inst, &["gc"]), None);
    assert_eq!(ev.quantized, vec!["gc".to_string()]);

    // Quantized conv: compute / quant_speedup (device 2, edge 1.5); out
    // bytes × activation_factor 0.5; params × weight_factor 0.25.
    let ctq_conv_d = CT_CONV_D / 2.0;
    let ctq_conv_e = CT_CONV_E / 1.5;
    let conv_out = 400.0 * 0.5;
    let conv_params = 2000.0 * 0.25;

    let a_compute = 2.0 * ctq_conv_d + CT_FC_C;
    let a_delay = a_compute + 2.0 * conv_out * TB_DC + 100.0 * TB_CD + LAT_DC + LAT_CD;
    let a_energy = P_D * 2.0 * ctq_conv_d + P_C * CT_FC_C + 2.0 * conv_out * EB_DC + 100.0 * EB_CD;
    let a_cost = PR_C * CT_FC_C + 2.0 * conv_out * CB_DC + 100.0 * CB_CD;
    let a = task(&ev, "alpha");
    close(a.compute_s, a_compute, "alpha compute q");
    close(a.delay_s, a_delay, "alpha delay q");
    close(a.delay_s, 0.0257, "alpha delay q, decimal");
    close(a.bytes_sent, 2.0 * conv_out + 100.0, "alpha bytes q");
    close(a.energy_j, a_energy, "alpha energy q");
    close(a.cost, a_cost, "alpha cost q");

    let b_compute = ctq_conv_d + ctq_conv_e + 2.0 * CT_FC_C;
    // img is in no group: its 1000 B are not scaled.
    let b_delay = b_compute
        + 1000.0 * TB_DE
        + conv_out * TB_DC
        + conv_out * TB_EC
        + 2.0 * 100.0 * TB_EC
        + (LAT_DE + LAT_DC + LAT_EC + LAT_EC);
    let b = task(&ev, "beta");
    close(b.compute_s, b_compute, "beta compute q");
    close(b.delay_s, b_delay, "beta delay q");

    close(
        node(&ev, "device").memory_bytes,
        2.0 * conv_params,
        "device memory q",
    );
    close(node(&ev, "edge").memory_bytes, conv_params, "edge memory q");
    close(
        node(&ev, "cloud").memory_bytes,
        2.0 * 8000.0,
        "cloud memory q (fc unquantized)",
    );
    close(
        node(&ev, "device").utilization,
        RATE_A * 2.0 * ctq_conv_d + RATE_B * ctq_conv_d,
        "device utilization q",
    );
    close(
        link_load(&ev, "edge", "cloud"),
        RATE_A * 2.0 * conv_out + RATE_B * 2.0 * conv_out,
        "load e→c q",
    );

    // η({gc}) = intercept + β_gc.
    let noise = 0.01 + 0.02;
    close(ev.noise, noise, "noise q");
    // quality = accuracy − γ·η; accuracy is unchanged.
    close(a.accuracy, Alpha::ACCURACY, "alpha accuracy q");
    close(a.quality, Alpha::ACCURACY - 1.0 * noise, "alpha quality q");
    close(b.quality, Beta::ACCURACY - 2.0 * noise, "beta quality q");
    close(b.quality, 0.69, "beta quality q, decimal");
    assert!(ev.feasible(), "{:?}", ev.violations);
}

#[test]
fn quantized_fc_group_uses_the_cloud_speedup() {
    let inst = load(BASE);
    let ev = evaluate(&inst, &hand_plan(&inst, &["gf"]), None);
    // fc on cloud: quant_speedup 1.25; out 100 B × 0.5; params 8000 × 0.25.
    let ctq_fc_c = CT_FC_C / 1.25;
    let a = task(&ev, "alpha");
    close(a.compute_s, 2.0 * CT_CONV_D + ctq_fc_c, "alpha compute gf");
    close(
        a.delay_s,
        2.0 * CT_CONV_D + ctq_fc_c + 2.0 * 400.0 * TB_DC + 50.0 * TB_CD + LAT_DC + LAT_CD,
        "alpha delay gf",
    );
    close(
        node(&ev, "cloud").memory_bytes,
        2.0 * 8000.0 * 0.25,
        "cloud memory gf",
    );
    close(ev.noise, 0.01 + 0.005, "η({gf})");
}

#[test]
fn noise_is_zero_unquantized_and_multilinear_otherwise() {
    let inst = load(BASE);
    let eta = |q: &[&str]| evaluate(&inst, &hand_plan(&inst, q), None).noise;
    // η(0) = 0 exactly: the intercept counts only when something is
    // quantized.
    assert_eq!(eta(&[]), 0.0);
    close(eta(&["gc"]), 0.01 + 0.02, "η({gc})");
    close(eta(&["gf"]), 0.01 + 0.005, "η({gf})");
    // The pair term joins when both are quantized.
    close(
        eta(&["gc", "gf"]),
        0.01 + 0.02 + 0.005 + 0.015,
        "η({gc,gf})",
    );
}

// ---- Violations --------------------------------------------------------

#[test]
fn hand_plan_is_feasible_under_every_family() {
    let inst = load(BASE);
    let ev = evaluate(&inst, &hand_plan(&inst, &[]), None);
    assert!(ev.violations.is_empty(), "{:?}", ev.violations);
}

#[test]
fn delay_violation_and_switch() {
    // alpha's delay 0.02714 s against a 0.025 s limit.
    family_switch(
        &variant(&[("max_delay: 0.05", "max_delay: 0.025")]),
        |i| hand_plan(i, &[]),
        "delay",
        &["task alpha: delay 0.02714 s > max_delay 0.025 s"],
        "delay",
    );
}

#[test]
fn memory_violation_counts_shared_atoms_once_and_switch() {
    // device holds conv.0 (shared by both tasks, counted once) + conv.1 =
    // 4000 B; 3999 B is one byte short; 4000 B would fit.
    family_switch(
        &variant(&[("memory: 10000", "memory: 3999")]),
        |i| hand_plan(i, &[]),
        "memory",
        &["node device: memory 4000 B > memory 3999 B"],
        "memory",
    );
    let fits = load(&variant(&[("memory: 10000", "memory: 4000")]));
    assert!(evaluate(&fits, &hand_plan(&fits, &[]), None).feasible());
}

#[test]
fn quality_violation_and_switch() {
    // alpha: accuracy 0.4·(1.6/1.8) + 0.4 = 0.75556 < 0.8.
    family_switch(
        &variant(&[("min_quality: 0.7", "min_quality: 0.8")]),
        |i| hand_plan(i, &[]),
        "quality",
        &["task alpha: quality 0.7556 < min_quality 0.8"],
        "quality",
    );
    // Quantization noise alone can break quality: beta with {gc, gf}
    // quantized has 0.75 − 2·0.05 = 0.65 < 0.66 (noise limit lifted).
    family_switch(
        &variant(&[
            ("min_quality: 0.6", "min_quality: 0.66"),
            ("max_noise: 0.04", "max_noise: 0.1"),
        ]),
        |i| hand_plan(i, &["gc", "gf"]),
        "quality",
        &["task beta: quality 0.65 < min_quality 0.66"],
        "quality",
    );
}

#[test]
fn noise_violation_and_switch() {
    // η({gc,gf}) = 0.01 + 0.02 + 0.005 + 0.015 = 0.05 > 0.04; quality still
    // holds (alpha 0.7556 − 0.05 ≥ 0.7, beta 0.75 − 0.1 ≥ 0.6).
    family_switch(
        BASE,
        |i| hand_plan(i, &["gc", "gf"]),
        "noise",
        &["noise 0.05 > max_noise 0.04"],
        "noise",
    );
}

#[test]
fn capacity_utilization_violation_and_switch() {
    // device utilization 4·2 ms + 1·1 ms = 0.009.
    family_switch(
        &variant(&[("max_utilization: 0.5", "max_utilization: 0.005")]),
        |i| hand_plan(i, &[]),
        "capacity",
        &["node device: utilization 0.009 > max_utilization 0.005"],
        "capacity",
    );
}

#[test]
fn capacity_link_load_violation_and_switch() {
    // alpha at 2000 requests/s: device→edge carries 2000·800 + 1·1400 =
    // 1601400 B/s > 1e6 B/s. Device utilization 2000·2 ms + 1 ms = 4.001
    // exceeds its 0.5 too. No other link is over: e→c 1600800 < 1e7,
    // c→e 200200 < 1e7, e→d 200000 < 2e6.
    family_switch(
        &variant(&[("rate: 4", "rate: 2000")]),
        |i| hand_plan(i, &[]),
        "capacity",
        &[
            "node device: utilization 4.001 > max_utilization 0.5",
            "link device->edge: load 1.601e6 B/s > bandwidth 1.000e6 B/s",
        ],
        "capacity",
    );
    let inst = load(&variant(&[("rate: 4", "rate: 2000")]));
    let ev = evaluate(&inst, &hand_plan(&inst, &[]), None);
    close(
        link_load(&ev, "device", "edge"),
        2000.0 * 800.0 + 1.0 * 1400.0,
        "load d→e at rate 2000",
    );
}

#[test]
fn energy_max_power_violation_and_switch() {
    // device average power 0.02066 W (see the node test) > 0.02 W.
    family_switch(
        &variant(&[("max_power: 1.0", "max_power: 0.02")]),
        |i| hand_plan(i, &[]),
        "energy",
        &["node device: power 0.02066 W > max_power 0.02 W"],
        "energy",
    );
}

#[test]
fn selection_connectivity_violation_and_switch() {
    // alpha drops both fc atoms: the convs feed nothing used and out has
    // no used predecessor.
    let broken = |i: &Instance| {
        plan_of(
            i,
            &[
                (
                    "alpha",
                    &[("img", "device"), ("conv", "device"), ("out", "device")],
                ),
                ("beta", BETA),
            ],
            &[],
        )
    };
    family_switch(
        BASE,
        broken,
        "selection",
        &[
            "task alpha: used atoms with no used predecessor: out",
            "task alpha: used atoms with no used successor: conv.0, conv.1",
        ],
        "selection",
    );
    // No transfer at all for alpha, so its delay is its compute.
    let inst = load(BASE);
    let ev = evaluate(&inst, &broken(&inst), None);
    close(
        task(&ev, "alpha").delay_s,
        2.0 * CT_CONV_D,
        "alpha delay without fc",
    );
    // retained (0.5 + 0.3)/1.8 on the first piece: 1.2·x.
    close(
        task(&ev, "alpha").accuracy,
        1.2 * (0.8 / 1.8),
        "alpha accuracy without fc",
    );
}

#[test]
fn mandatory_atom_missing_is_a_selection_violation() {
    // conv is mandatory; alpha drops conv.1.
    let inst = load(BASE);
    let plan = plan_of(
        &inst,
        &[
            (
                "alpha",
                &[
                    ("img", "device"),
                    ("conv.0", "device"),
                    ("fc.0", "cloud"),
                    ("out", "device"),
                ],
            ),
            ("beta", BETA),
        ],
        &[],
    );
    let ev = evaluate(&inst, &plan, None);
    assert_eq!(
        messages(&ev, "selection"),
        ["task alpha: mandatory atoms not used: conv.1"]
    );
}

#[test]
fn input_not_on_source_and_output_not_on_sink() {
    let inst = load(BASE);
    let plan = plan_of(
        &inst,
        &[
            (
                "alpha",
                &[
                    ("img", "edge"),
                    ("conv", "device"),
                    ("fc.0", "cloud"),
                    ("out", "device"),
                ],
            ),
            (
                "beta",
                &[
                    ("img", "device"),
                    ("conv", "device"),
                    ("fc", "cloud"),
                    ("out", "device"),
                ],
            ),
        ],
        &[],
    );
    let ev = evaluate(&inst, &plan, None);
    assert_eq!(
        messages(&ev, "placement"),
        [
            "task alpha: input atom 'img' on edge instead of its source device",
            "task beta: output atom 'out' on device instead of its sink edge",
        ]
    );
    // The misplaced input still has to be shipped edge→device to the convs.
    close(
        task(&ev, "alpha").delay_s,
        Alpha::DELAY + 1000.0 * TB_ED + LAT_ED,
        "alpha delay with input on edge",
    );
}

#[test]
fn unreachable_node_pair_is_a_traffic_violation_and_switch() {
    // Without the edge→device link, nothing reaches the device: alpha's
    // fc.0 on cloud cannot send to out on device.
    let no_back = variant(&[(
        "    - {from: edge, to: device, bandwidth: 2.0e6, latency: 0.002, power: 0.2, price: 1.0e-8}\n",
        "",
    )]);
    let inst = load(&no_back);
    assert!(inst.network.effective(2, 0).is_none());
    family_switch(
        &no_back,
        |i| hand_plan(i, &[]),
        "traffic",
        &["task alpha: atom 'fc.0' on cloud feeds a successor on device, which cloud cannot reach"],
        "traffic",
    );
    // With traffic off, transfers cost nothing: delays are compute only.
    let off = load(&format!("{no_back}constraints: {{traffic: false}}\n"));
    let ev = evaluate(&off, &hand_plan(&off, &[]), None);
    close(
        task(&ev, "alpha").delay_s,
        Alpha::COMPUTE,
        "alpha delay, traffic off",
    );
    close(
        task(&ev, "beta").delay_s,
        Beta::COMPUTE,
        "beta delay, traffic off",
    );
    assert_eq!(task(&ev, "beta").bytes_sent, 0.0);
}

// ---- Command line ------------------------------------------------------

fn edgesplit(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_edgesplit"))
        .args(args)
        .output()
        .expect("the edgesplit binary runs")
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn has_line(text: &str, line: &str) -> bool {
    text.lines().any(|l| l.trim() == line)
}

#[test]
fn cli_centralized_plan_is_feasible_and_matches_hand_totals() {
    let dir = tempfile::TempDir::new().unwrap();
    let inst_path = write(dir.path(), "tiny.yaml", BASE);
    let plan_path = dir.path().join("central.yaml");
    let o = edgesplit(&[
        "plan".as_ref(),
        inst_path.as_os_str(),
        "--method".as_ref(),
        "centralized".as_ref(),
        "-o".as_ref(),
        plan_path.as_os_str(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    // The most capable node is cloud; input stays on the source, output on
    // the sink.
    let inst = load(BASE);
    let expected = plan_of(
        &inst,
        &[
            (
                "alpha",
                &[
                    ("img", "device"),
                    ("conv", "cloud"),
                    ("fc", "cloud"),
                    ("out", "device"),
                ],
            ),
            (
                "beta",
                &[
                    ("img", "device"),
                    ("conv", "cloud"),
                    ("fc", "cloud"),
                    ("out", "edge"),
                ],
            ),
        ],
        &[],
    );
    assert_eq!(Plan::load(&plan_path, &inst).unwrap(), expected);
    let file: edgesplit::plan::PlanFile =
        serde_yaml::from_str(&std::fs::read_to_string(&plan_path).unwrap()).unwrap();
    assert_eq!(file.method.as_deref(), Some("centralized"));

    let o = edgesplit(&[
        "evaluate".as_ref(),
        inst_path.as_os_str(),
        plan_path.as_os_str(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));

    let o = edgesplit(&[
        "evaluate".as_ref(),
        inst_path.as_os_str(),
        plan_path.as_os_str(),
        "--json".as_ref(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    // alpha: img device→cloud, all compute on cloud, fc.0 and fc.1
    // cloud→device; beta: same but fc.* cloud→edge.
    let compute = 2.0 * CT_CONV_C + 2.0 * CT_FC_C;
    let a_delay = compute + 1000.0 * TB_DC + LAT_DC + 2.0 * 100.0 * TB_CD + LAT_CD;
    let b_delay = compute + 1000.0 * TB_DC + LAT_DC + 2.0 * 100.0 * TB_EC + LAT_EC;
    let a_energy = P_C * compute + 1000.0 * EB_DC + 200.0 * EB_CD;
    let b_energy = P_C * compute + 1000.0 * EB_DC + 200.0 * EB_EC;
    let a_cost = PR_C * compute + 1000.0 * CB_DC + 200.0 * CB_CD;
    let b_cost = PR_C * compute + 1000.0 * CB_DC + 200.0 * CB_EC;
    let num = |v: &serde_json::Value| v.as_f64().expect("a number");
    close(
        num(&json["tasks"][0]["delay_s"]),
        a_delay,
        "centralized alpha delay",
    );
    close(
        num(&json["tasks"][0]["delay_s"]),
        0.02582,
        "centralized alpha delay, decimal",
    );
    close(
        num(&json["tasks"][1]["delay_s"]),
        b_delay,
        "centralized beta delay",
    );
    close(
        num(&json["totals"]["time"]),
        (RATE_A * a_delay + RATE_B * b_delay) / (RATE_A + RATE_B),
        "centralized T",
    );
    close(
        num(&json["totals"]["energy"]),
        RATE_A * a_energy + RATE_B * b_energy,
        "centralized E",
    );
    close(
        num(&json["totals"]["cost"]),
        RATE_A * a_cost + RATE_B * b_cost,
        "centralized C",
    );
    close(
        num(&json["totals"]["cost"]),
        1.0e-4,
        "centralized C, decimal",
    );
    assert_eq!(json["violations"].as_array().map(Vec::len), Some(0));
}

#[test]
fn cli_infeasible_plans_exit_1_with_violation_lines() {
    let dir = tempfile::TempDir::new().unwrap();

    // all-on-source puts all four compute atoms on device: 2·2000 + 2·8000
    // = 20000 B of parameters > 10000 B; nothing else is violated.
    let inst_path = write(dir.path(), "tiny.yaml", BASE);
    let plan_path = dir.path().join("source.json");
    let o = edgesplit(&[
        "plan".as_ref(),
        inst_path.as_os_str(),
        "--method".as_ref(),
        "all-on-source".as_ref(),
        "--output".as_ref(),
        plan_path.as_os_str(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = edgesplit(&[
        "evaluate".as_ref(),
        inst_path.as_os_str(),
        plan_path.as_os_str(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert!(
        has_line(
            &out,
            "[memory] node device: memory 20000 B > memory 10000 B"
        ),
        "{out}"
    );
    assert_eq!(out.matches("node device: memory").count(), 1, "{out}");

    // centralized against a tighter delay limit: alpha 0.02582 s > 0.025 s.
    let tight = write(
        dir.path(),
        "tight.yaml",
        &variant(&[("max_delay: 0.05", "max_delay: 0.025")]),
    );
    let plan_path = dir.path().join("central.yaml");
    let o = edgesplit(&[
        "plan".as_ref(),
        tight.as_os_str(),
        "--method".as_ref(),
        "centralized".as_ref(),
        "-o".as_ref(),
        plan_path.as_os_str(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = edgesplit(&[
        "evaluate".as_ref(),
        tight.as_os_str(),
        plan_path.as_os_str(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert!(
        has_line(
            &out,
            "[delay] task alpha: delay 0.02582 s > max_delay 0.025 s"
        ),
        "{out}"
    );
    assert!(!out.contains("task beta: delay"), "{out}");
}

#[test]
fn cli_plan_with_unknown_names_is_an_error_with_field_paths() {
    let dir = tempfile::TempDir::new().unwrap();
    let inst_path = write(dir.path(), "tiny.yaml", BASE);
    let bad = write(
        dir.path(),
        "bad.yaml",
        "quantized: [gx]\n\
         tasks:\n  \
           alpha: {img: device, conv.7: device, fc.0: moon, out: device}\n  \
           beta: {img: device, out: edge}\n  \
           gamma: {img: device}\n",
    );
    let o = edgesplit(&["evaluate".as_ref(), inst_path.as_os_str(), bad.as_os_str()]);
    assert_eq!(o.status.code(), Some(2), "{}{}", stdout(&o), stderr(&o));
    let err = stderr(&o);
    for want in [
        "quantized[0]: unknown group 'gx'",
        "tasks.alpha.conv.7: unknown atom or layer 'conv.7'",
        "tasks.alpha.fc.0: unknown node 'moon'",
        "tasks.gamma: unknown task 'gamma'",
    ] {
        assert!(err.contains(want), "missing {want:?} in:\n{err}");
    }
}

// ---- Plan files ------------------------------------------------------

#[test]
fn plan_round_trips_through_yaml_and_json() {
    let dir = tempfile::TempDir::new().unwrap();
    let inst = load(BASE);
    for q in [&[][..], &["gc"][..], &["gc", "gf"][..]] {
        let plan = hand_plan(&inst, q);
        for name in ["plan.yaml", "plan.json"] {
            let p = dir.path().join(name);
            plan.save(&p, &inst, Some("hand")).unwrap();
            assert_eq!(Plan::load(&p, &inst).unwrap(), plan, "{name} with {q:?}");
        }
    }
    // Whole layers on one node are written by layer name.
    let p = dir.path().join("plan.yaml");
    hand_plan(&inst, &["gc"]).save(&p, &inst, None).unwrap();
    let file: edgesplit::plan::PlanFile =
        serde_yaml::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    assert_eq!(file.quantized, ["gc"]);
    assert_eq!(
        file.tasks["alpha"].get("conv").map(String::as_str),
        Some("device")
    );
    assert_eq!(
        file.tasks["alpha"].get("fc.0").map(String::as_str),
        Some("cloud")
    );
    assert!(!file.tasks["alpha"].contains_key("fc.1"));
    assert_eq!(
        file.tasks["beta"].get("fc").map(String::as_str),
        Some("cloud")
    );
    assert_eq!(
        file.tasks["beta"].get("conv.1").map(String::as_str),
        Some("edge")
    );
}

#[test]
fn plan_load_reports_every_unknown_name_with_its_field_path() {
    let dir = tempfile::TempDir::new().unwrap();
    let inst = load(BASE);
    let p = write(
        dir.path(),
        "bad.json",
        r#"{"quantized": ["gc", "gx"],
            "tasks": {"alpha": {"img": "device", "conv.7": "device", "fc.0": "moon"},
                      "gamma": {"img": "device"}}}"#,
    );
    let err = Plan::load(&p, &inst).unwrap_err();
    let problems: Vec<(String, String)> = err
        .diagnostics()
        .expect("a validation error")
        .problems
        .iter()
        .map(|pr| (pr.path.clone(), pr.message.clone()))
        .collect();
    let has = |path: &str, msg: &str| problems.iter().any(|(p, m)| p == path && m.contains(msg));
    assert!(has("quantized[1]", "unknown group 'gx'"), "{problems:?}");
    assert!(
        has("tasks.alpha.conv.7", "unknown atom or layer 'conv.7'"),
        "{problems:?}"
    );
    assert!(
        has("tasks.alpha.fc.0", "unknown node 'moon'"),
        "{problems:?}"
    );
    assert!(has("tasks.gamma", "unknown task 'gamma'"), "{problems:?}");
    assert!(has("tasks", "task 'beta' has no placement"), "{problems:?}");
    assert_eq!(problems.len(), 5, "{problems:?}");
    let text = err.to_string();
    assert!(
        text.contains("bad.json: tasks.alpha.fc.0: unknown node 'moon'"),
        "{text}"
    );

    // An unknown field is an error naming it too.
    let p = write(dir.path(), "typo.yaml", "tasks: {}\nquantised: [gc]\n");
    let text = Plan::load(&p, &inst).unwrap_err().to_string();
    assert!(text.contains("quantised"), "{text}");
}

// ---- Properties ------------------------------------------------------

fn full_plan(inst: &Instance, nodes: &[[usize; 4]; 2], q: [bool; 2]) -> Plan {
    let mut p = Plan::empty(inst);
    for (t, task) in inst.tasks.iter().enumerate() {
        p.placement[t][inst.dnn.input_of(0)] = Some(task.source);
        p.placement[t][inst.dnn.output_of(0)] = Some(task.sink);
        for (k, id) in ["conv.0", "conv.1", "fc.0", "fc.1"].iter().enumerate() {
            p.placement[t][inst.dnn.atom_by_id(id).unwrap()] = Some(nodes[t][k]);
        }
    }
    p.quantized = q.to_vec();
    p
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// On any placement: layered ≤ sequential delay; E = Σ node power;
    /// memory counts each (atom, node) deployment once.
    #[test]
    fn invariants_on_random_placements(
        nodes in proptest::array::uniform2(proptest::array::uniform4(0usize..3)),
        q in proptest::array::uniform2(any::<bool>()),
    ) {
        let seq = load(BASE);
        let lay = load(&variant(&[("delay_model: sequential", "delay_model: layered")]));
        let plan = full_plan(&seq, &nodes, q);
        let es = evaluate(&seq, &plan, None);
        let el = evaluate(&lay, &plan, None);
        for (s, l) in es.tasks.iter().zip(&el.tasks) {
            prop_assert!(l.delay_s <= s.delay_s * (1.0 + 1e-12), "{} > {}", l.delay_s, s.delay_s);
            prop_assert_eq!(s.energy_j, l.energy_j);
        }
        let power: f64 = es.nodes.iter().map(|n| n.power_w).sum();
        prop_assert!((power - es.totals.energy).abs() <= 1e-12 * es.totals.energy);

        let mut deployed = HashSet::new();
        for t in 0..seq.tasks.len() {
            for a in 0..seq.dnn.len() {
                if let Some(n) = plan.placement[t][a] {
                    deployed.insert((a, n));
                }
            }
        }
        for (n, report) in es.nodes.iter().enumerate() {
            let bytes: f64 = deployed
                .iter()
                .filter(|&&(_, m)| m == n)
                .map(|&(a, _)| {
                    let atom = &seq.dnn.atoms[a];
                    let quantized = atom.group.is_some_and(|g| q[g]);
                    atom.param_bytes * if quantized { 0.25 } else { 1.0 }
                })
                .sum();
            prop_assert!((report.memory_bytes - bytes).abs() <= 1e-9, "node {}", n);
        }
    }
}
