//! The layered delay model charges each level only for its own outputs:
//! on a DNN whose fan-out class spans two levels (branches of different
//! depth joining), the MILP's value of every plan equals the evaluator's,
//! and its optimum equals enumeration.

mod common;

use common::{brute_force, close, fixed_plan_objective, for_each_plan};
use edgesplit::eval::evaluate;
use edgesplit::instance::load_str;
use edgesplit::solve::{solve_instance, BackendKind, SolveOptions, Status};

/// `input → {p, a}`, `p → b`, `{a, b} → c → out`: a (level 1) and b
/// (level 2) share the successor set {c}, so they form one fan-out class.
fn join_instance(delay_model: &str) -> String {
    format!(
        r#"version: 1
name: join-{delay_model}
description: a fan-out class on two levels
dnn:
  input: {{name: in, out_bytes: 20000}}
  layers:
    - {{name: p, flops: 4.0e7, param_bytes: 1000, out_bytes: 50000, inputs: [in], mandatory: true}}
    - {{name: a, flops: 2.0e7, param_bytes: 1000, out_bytes: 10000, inputs: [in], mandatory: true}}
    - {{name: b, flops: 3.0e7, param_bytes: 1000, out_bytes: 10000, inputs: [p], mandatory: true}}
    - {{name: c, flops: 1.0e7, param_bytes: 1000, out_bytes: 1000, inputs: [a, b], mandatory: true}}
  output: {{name: out}}
network:
  nodes:
    - {{name: dev, speed: 1.0e9, memory: 1.0e9, power: 2}}
    - {{name: srv, speed: 2.0e10, memory: 1.0e9, power: 20}}
  links:
    - {{from: dev, to: srv, bandwidth: 1.0e7, latency: 0.005, symmetric: true}}
tasks:
  - {{name: t, rate: 1, source: dev, sink: srv}}
objective:
  weights: {{time: 1, energy: 0, cost: 0}}
delay_model: {delay_model}
"#
    )
}

#[test]
fn the_join_has_a_class_on_two_levels() {
    let inst = load_str(&join_instance("layered"), None).unwrap();
    let d = &inst.dnn;
    let (a, b) = (d.atom_by_id("a").unwrap(), d.atom_by_id("b").unwrap());
    assert_eq!((d.atoms[a].level, d.atoms[b].level), (1, 2));
    assert_eq!(d.class_of[a], d.class_of[b]);
}

/// Every plan: the MILP with the plan fixed costs what the evaluator says.
#[test]
fn every_plan_costs_what_the_evaluator_says() {
    for model in ["layered", "sequential"] {
        let inst = load_str(&join_instance(model), None).unwrap();
        let mut checked = 0;
        for_each_plan(&inst, |plan| {
            let ev = evaluate(&inst, plan, None);
            if !ev.feasible() {
                return;
            }
            let e = ev.objective.unwrap();
            let m = fixed_plan_objective(&inst, plan, None, BackendKind::Highs)
                .expect("a feasible plan is feasible in the MILP");
            assert!(
                close(m, e),
                "{model}: plan {:?}: MILP {m} vs evaluator {e}",
                plan.placement
            );
            checked += 1;
        });
        assert_eq!(
            checked, 16,
            "{model}: every placement of 4 atoms on 2 nodes"
        );
    }
}

/// The solve agrees with enumeration under both delay models, on every
/// built-in backend.
#[test]
fn join_optimum_matches_enumeration() {
    for model in ["layered", "sequential"] {
        let inst = load_str(&join_instance(model), None).unwrap();
        let (opt, _) = brute_force(&inst, None).unwrap();
        for kind in BackendKind::built_in() {
            let rep = solve_instance(&inst, kind, &SolveOptions::default());
            assert_eq!(
                rep.status,
                Status::Optimal,
                "{model} {kind}: {:?}",
                rep.message
            );
            let e = rep.evaluated_objective.unwrap();
            assert!(close(e, opt), "{model} {kind}: {e} vs enumeration {opt}");
        }
    }
}
