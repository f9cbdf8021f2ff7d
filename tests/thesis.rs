//! The quantization-aware splitting thesis' scale test
//! (benches/data/thesis-chain502.json: 500 mandatory layers of 4.5 MB
//! outputs, six nodes whose latencies break the triangle inequality, one
//! task from n0 back to n0). The thesis' optimizer values its optimal
//! placement — every layer on n2 — at 0.3905 s: the input and the last
//! output each cross the direct n0 ↔ n2 link (0.015 s + 4.5 MB at 25 MB/s
//! = 0.195 s), and 500 GFLOP at 10^15 FLOP/s take 0.0005 s. Under
//! `min_latency` routing the tensors went through n1 (0.005 s + 0.005 s +
//! 2 × 4.5 MB at 30 MB/s = 0.31 s each way), 0.6205 s.

use edgesplit::eval::evaluate;
use edgesplit::network::{Network, Routing};
use edgesplit::{Instance, Plan};
use std::path::PathBuf;

fn thesis() -> Instance {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/data/thesis-chain502.json");
    edgesplit::load(&path).unwrap()
}

/// Every layer on `node`, the input and output on the task's source.
fn all_on(inst: &Instance, node: &str) -> Plan {
    let n = inst.network.node_by_name(node).unwrap();
    let mut plan = Plan::empty(inst);
    let task = &inst.tasks[0];
    for a in 0..inst.dnn.len() {
        plan.placement[0][a] = Some(n);
    }
    plan.placement[0][inst.dnn.input_of(0)] = Some(task.source);
    plan.placement[0][inst.dnn.output_of(0)] = Some(task.sink);
    plan
}

fn with_routing(inst: &Instance, routing: Routing) -> Instance {
    let mut i = inst.clone();
    let net = &inst.network;
    i.network = Network::with_routing(net.nodes.clone(), net.links.clone(), routing);
    i
}

#[test]
fn thesis_optimal_placement_is_valued_as_the_thesis_does() {
    let inst = thesis();
    assert_eq!(inst.network.routing, Routing::MinTime);
    let plan = all_on(&inst, "n2");
    let ev = evaluate(&inst, &plan, None);
    assert!(ev.feasible(), "{:?}", ev.violations);
    let d = ev.tasks[0].delay_s;
    assert!((d - 0.3905).abs() < 1e-12, "delay {d}");
    // The 4.5 MB tensors take the direct links, both ways.
    let net = &inst.network;
    let (n0, n2) = (0, net.node_by_name("n2").unwrap());
    assert_eq!(net.route(n0, n2, 4.5e6).unwrap().1.path.len(), 1);
    assert_eq!(net.route(n2, n0, 4.5e6).unwrap().1.path.len(), 1);
    // A tiny tensor still goes through n1, the lowest latency.
    assert_eq!(net.route(n0, n2, 1.0).unwrap().1.path.len(), 2);

    let old = with_routing(&inst, Routing::MinLatency);
    let d_old = evaluate(&old, &plan, None).tasks[0].delay_s;
    assert!((d_old - 0.6205).abs() < 1e-12, "min_latency delay {d_old}");
    let direct = with_routing(&inst, Routing::Direct);
    let d_direct = evaluate(&direct, &plan, None).tasks[0].delay_s;
    assert!((d_direct - 0.3905).abs() < 1e-12, "direct delay {d_direct}");
}

/// With the sender's power during each latency (`latency_energy`), the
/// same plan costs 3 W × 0.015 s (n0 sends the input) + 7 W × 0.015 s (n2
/// sends the last output) = 0.15 J more.
#[test]
fn waiting_energy_adds_the_senders_power_times_the_latency() {
    let inst = thesis();
    let plan = all_on(&inst, "n2");
    let base = evaluate(&inst, &plan, None).tasks[0].energy_j;
    let mut waiting = inst.clone();
    waiting.network.latency_energy = true;
    let e = evaluate(&waiting, &plan, None).tasks[0].energy_j;
    assert!((e - base - 0.15).abs() < 1e-12, "{base} -> {e}");
}

/// Payoff-normalized 0.5 time / 0.5 energy, solved by HiGHS on one thread:
/// two payoff rows (cost has weight 0 and gets none), and the optimum is
/// the thesis' placement, every layer on n2.
#[test]
fn weighted_optimum_is_the_thesis_placement() {
    use edgesplit::milp::Total;
    use edgesplit::solve::{solve_instance, BackendKind, SolveOptions, Status};
    let inst = thesis();
    let opts = SolveOptions {
        threads: Some(1),
        ..SolveOptions::default()
    };
    let rep = solve_instance(&inst, BackendKind::Highs, &opts);
    assert_eq!(rep.status, Status::Optimal, "{:?}", rep.message);
    let rows: Vec<Total> = rep.payoff_rows.iter().map(|r| r.total).collect();
    assert_eq!(rows, [Total::Time, Total::Energy]);
    let table = rep.payoff.unwrap();
    assert!((table.ideal.time - 0.3905).abs() < 1e-9, "{table:?}");
    assert_eq!(rep.plan.unwrap().placement, all_on(&inst, "n2").placement);
}
