//! Per-layer minimum widths (`min_width:`, the `width` family): validation
//! with field paths, the MILP against brute-force enumeration on random tiny
//! instances with a width entry, the evaluator's check, the diagnosis
//! switch, and TIDE and cost-greedy keeping the widths.

mod common;

use common::{brute_force, close, tiny_instance};
use edgesplit::eval::evaluate;
use edgesplit::heuristic::{run, Method};
use edgesplit::instance::load_str;
use edgesplit::solve::{solve_instance, BackendKind, SolveOptions, Status};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The tiny instance of `seed` with one random `min_width` entry on layer
/// `a` or `b` (k or a fraction, all tasks or t0); `None` if it does not load.
fn with_min_width(seed: u64) -> Option<String> {
    let text = tiny_instance(seed);
    let inst = load_str(&text, None).ok()?;
    let mut r = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
    let layers: Vec<(String, usize)> = inst
        .dnn
        .layers
        .iter()
        .filter(|(n, _)| n == "a" || n == "b")
        .map(|(n, a)| (n.clone(), a.len()))
        .collect();
    let (name, size) = layers[r.gen_range(0..layers.len())].clone();
    let amount = if r.gen_bool(0.5) {
        format!("k: {}", r.gen_range(1..=size))
    } else {
        format!("fraction: {}", r.gen_range(0.3..1.0f64))
    };
    let tasks = if r.gen_bool(0.3) { "tasks: [t0], " } else { "" };
    Some(format!(
        "{text}min_width:\n  - {{name: keep, {tasks}atoms: \"{name}\", {amount}}}\n"
    ))
}

#[test]
fn highs_matches_brute_force_with_a_minimum_width() {
    let (mut optimal, mut infeasible, mut binding) = (0, 0, 0);
    for seed in 0..160u64 {
        let Some(text) = with_min_width(seed) else {
            continue;
        };
        let inst = load_str(&text, None).unwrap_or_else(|e| panic!("seed {seed}: {e}\n{text}"));
        assert!(!inst.min_width.is_empty());
        let rep = solve_instance(&inst, BackendKind::Highs, &SolveOptions::default());
        let bf = brute_force(&inst, None);
        match (&bf, rep.status) {
            (None, Status::Infeasible) => infeasible += 1,
            (Some((opt, _)), Status::Optimal) => {
                let milp = rep.evaluated_objective.unwrap();
                assert!(
                    close(milp, *opt),
                    "seed {seed}: optimum {milp} vs brute force {opt}\n{text}"
                );
                optimal += 1;
                // The width changes the optimum on some instances.
                let mut free = inst.clone();
                free.families.switch("width", false);
                if brute_force(&free, None).is_some_and(|(o, _)| !close(o, *opt)) {
                    binding += 1;
                }
            }
            (bf, st) => panic!(
                "seed {seed}: HiGHS {st} ({:?}), brute force {:?}\n{text}",
                rep.message,
                bf.as_ref().map(|b| b.0)
            ),
        }
    }
    assert!(optimal >= 40, "only {optimal} optimal cases");
    assert!(infeasible >= 5, "only {infeasible} infeasible cases");
    assert!(binding >= 5, "the width binds on only {binding} instances");
}

const BASE: &str = "version: 1
name: w
dnn:
  input: {name: in, out_bytes: 1000}
  layers:
    - {name: conv1, count: 4, flops: 1e6, param_bytes: 100, out_bytes: 100}
    - {name: conv2, count: 3, flops: 2e6, param_bytes: 100, out_bytes: 100}
  output: {name: out}
network:
  nodes:
    - {name: dev, speed: 1e9, memory: 1e6, power: 1, price: 1}
  links: []
tasks:
  - name: t0
    rate: 1
    source: dev
    min_quality: 0.2
    relevance: {conv1.0: 1, conv1.1: 0.1, conv1.2: 0.1, conv1.3: 0.1, conv2.0: 1, conv2.1: 0.1, conv2.2: 0.1}
  - name: t1
    rate: 1
    source: dev
    min_quality: 0.2
objective:
  weights: {time: 0, energy: 0, cost: 1}
";

#[test]
fn bad_entries_are_reported_with_their_field_paths() {
    let cases = [
        (
            "{atoms: \"conv2\", k: 4}",
            "min_width[0].k",
            "only 3 selected",
        ),
        ("{atoms: \"conv2\", k: 0}", "min_width[0].k", "at least 1"),
        (
            "{atoms: \"conv2\", fraction: 1.5}",
            "min_width[0].fraction",
            "(0, 1]",
        ),
        (
            "{atoms: \"conv2\", k: 1, fraction: 0.5}",
            "min_width[0]",
            "exactly one of",
        ),
        ("{atoms: \"conv2\"}", "min_width[0]", "exactly one of"),
        ("{atoms: \"zz*\", k: 1}", "min_width[0]", "selects no atom"),
        ("{k: 1}", "min_width[0]", "exactly one selector"),
        (
            "{tasks: [ghost], atoms: \"conv*\", k: 1}",
            "min_width[0].tasks[0]",
            "unknown task",
        ),
        (
            "{atoms: \"conv*\", k: 1, width: 2}",
            "min_width[0]",
            "unknown field",
        ),
    ];
    for (entry, path, what) in cases {
        let text = format!("{BASE}min_width:\n  - {entry}\n");
        let err = load_str(&text, None).expect_err(entry).to_string();
        assert!(err.contains(path), "{entry}: {err}");
        assert!(err.contains(what), "{entry}: {err}");
    }
}

#[test]
fn widths_bind_the_milp_the_evaluator_and_both_heuristics() {
    // Without widths the cheapest plan keeps conv1.0 and conv2.0 only.
    let free = load_str(BASE, None).unwrap();
    let text = format!(
        "{BASE}min_width:\n  - {{atoms: \"conv*\", fraction: 0.5}}\n  - {{tasks: [t1], atoms: conv2, k: 3}}\n"
    );
    let inst = load_str(&text, None).unwrap();
    // conv1 needs 2 of 4, conv2 2 of 3 (⌈1.5⌉) for both; t1 all of conv2.
    let ks: Vec<(String, usize)> = inst
        .min_width
        .iter()
        .map(|w| (w.name.clone(), w.k))
        .collect();
    assert_eq!(
        ks,
        [
            ("min_width[0] (conv1)".to_string(), 2),
            ("min_width[0] (conv2)".to_string(), 2),
            ("min_width[1] (conv2)".to_string(), 3)
        ]
    );
    let narrow = solve_instance(&free, BackendKind::Highs, &SolveOptions::default());
    let plan = narrow.plan.clone().unwrap();
    let ev = evaluate(&inst, &plan, None);
    assert!(
        ev.violations.iter().any(|v| v.family == "width"),
        "{:?}",
        ev.violations
    );
    let rep = solve_instance(&inst, BackendKind::Highs, &SolveOptions::default());
    assert_eq!(rep.status, Status::Optimal, "{:?}", rep.message);
    assert!(rep.family_rows.iter().any(|(f, r)| f == "width" && *r == 5));
    let used = |p: &edgesplit::Plan, t: usize, layer: &str| {
        inst.dnn
            .layers
            .iter()
            .find(|(n, _)| n == layer)
            .unwrap()
            .1
            .iter()
            .filter(|&&a| p.placement[t][a].is_some())
            .count()
    };
    let milp = rep.plan.unwrap();
    assert_eq!(
        [
            used(&milp, 0, "conv1"),
            used(&milp, 0, "conv2"),
            used(&milp, 1, "conv2")
        ],
        [2, 2, 3]
    );
    for m in [Method::Tide, Method::CostGreedy, Method::CostGreedyQ] {
        let out = run(&inst, m, None);
        assert!(out.feasible(), "{}: {:?}", m.name(), out.message);
        let p = out.plan.unwrap();
        assert!(
            used(&p, 0, "conv1") >= 2 && used(&p, 1, "conv2") == 3,
            "{}",
            m.name()
        );
    }
    // The diagnosis switches the family off like any other.
    let d =
        edgesplit::solve::diagnose::diagnose(&inst, BackendKind::Highs, &SolveOptions::default());
    assert!(d.families_off.iter().any(|(f, _)| f == "width"));
}
