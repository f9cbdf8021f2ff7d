//! The heuristics: entropy-rate properties, evaluator-checked feasibility
//! on random instances, and no heuristic below the brute-force optimum.

mod common;

use edgesplit::eval::evaluate;
use edgesplit::generate::{generate_yaml, GenFamily, GenParams};
use edgesplit::heuristic::entropy::EntropyRate;
use edgesplit::heuristic::{run, Method};
use edgesplit::instance::load_str;
use edgesplit::Instance;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn random_weights(r: &mut ChaCha8Rng, tasks: usize, atoms: usize) -> Vec<Vec<f64>> {
    (0..tasks)
        .map(|_| (0..atoms).map(|_| r.gen_range(0.01..2.0)).collect())
        .collect()
}

fn random_subset(r: &mut ChaCha8Rng, tasks: usize, atoms: usize, p: f64) -> Vec<Vec<bool>> {
    (0..tasks)
        .map(|_| (0..atoms).map(|_| r.gen_bool(p)).collect())
        .collect()
}

fn approx(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1.0)
}

#[test]
fn entropy_rate_matches_a_hand_computed_value() {
    // One task, three atoms of weights 1, 1, 2. Atom vertices have one
    // edge each (h = 0); the task vertex has p = (¼, ¼, ½), h = 1.5·ln 2,
    // and μ = 4/8: H = 0.75·ln 2.
    let w = vec![vec![1.0, 1.0, 2.0]];
    let mut h = EntropyRate::full(&w);
    assert!(approx(h.value(), 0.75 * 2f64.ln()), "{}", h.value());
    // Moving a0's edge to self-loops keeps the task's distribution
    // (¼ loop, ¼, ½): H unchanged.
    h.remove(0, 0);
    assert!(approx(h.value(), 0.75 * 2f64.ln()));
    // Then a1: the task has (½ loop, ½): H = ½·ln 2.
    h.remove(1, 0);
    assert!(approx(h.value(), 0.5 * 2f64.ln()), "{}", h.value());
    // Nothing left: every vertex is a pure self-loop.
    h.remove(2, 0);
    assert!(approx(h.value(), 0.0));
}

#[test]
fn incremental_updates_equal_recomputation() {
    let mut r = ChaCha8Rng::seed_from_u64(11);
    for _ in 0..50 {
        let (tn, an) = (r.gen_range(1..5), r.gen_range(1..8));
        let w = random_weights(&mut r, tn, an);
        let mut h = EntropyRate::full(&w);
        let mut present = vec![vec![true; an]; tn];
        assert!(approx(h.value(), EntropyRate::from_scratch(&w, &present)));
        for _ in 0..3 * tn * an {
            let (t, a) = (r.gen_range(0..tn), r.gen_range(0..an));
            let before = h.value();
            if present[t][a] && r.gen_bool(0.7) {
                let predicted = h.removal_drop(a, t);
                let drop = h.remove(a, t);
                assert!(approx(predicted, drop));
                assert!(approx(before - drop, h.value()));
                present[t][a] = false;
            } else if !present[t][a] {
                h.add(a, t);
                present[t][a] = true;
            }
            assert!(approx(h.value(), EntropyRate::from_scratch(&w, &present)));
        }
    }
}

#[test]
fn entropy_rate_is_monotone_and_submodular() {
    let mut r = ChaCha8Rng::seed_from_u64(5);
    for _ in 0..200 {
        let (tn, an) = (r.gen_range(1..4), r.gen_range(1..6));
        let w = random_weights(&mut r, tn, an);
        // Y ⊆ Y2 and a pair e outside Y2.
        let y2 = random_subset(&mut r, tn, an, 0.7);
        let mut y = y2.clone();
        for row in &mut y {
            for u in row.iter_mut() {
                *u = *u && r.gen_bool(0.6);
            }
        }
        let (t, a) = (r.gen_range(0..tn), r.gen_range(0..an));
        if y2[t][a] {
            continue;
        }
        let h = |s: &Vec<Vec<bool>>| EntropyRate::from_scratch(&w, s);
        let with = |s: &Vec<Vec<bool>>| {
            let mut s = s.clone();
            s[t][a] = true;
            s
        };
        let tol = 1e-12;
        // Monotone: more pairs, no less entropy.
        assert!(h(&y2) + tol >= h(&y));
        assert!(h(&with(&y)) + tol >= h(&y));
        // Submodular: diminishing gains.
        let gain_small = h(&with(&y)) - h(&y);
        let gain_big = h(&with(&y2)) - h(&y2);
        assert!(gain_small + tol >= gain_big, "{gain_small} < {gain_big}");
    }
}

/// ≥ 100 random instances: tiny ones and generated ones of every family.
fn instances() -> Vec<Instance> {
    let mut out = Vec::new();
    for seed in 0..90 {
        out.push(load_str(&common::tiny_instance(seed), None).expect("tiny instances load"));
    }
    for seed in 0..15u64 {
        let family = [GenFamily::Tide, GenFamily::Chain, GenFamily::Dag][seed as usize % 3];
        let p = GenParams {
            family,
            seed,
            layers: 2 + seed as usize % 3,
            atoms_per_layer: 3 + seed as usize % 4,
            tasks: 1 + seed as usize % 4,
            nodes: 1 + seed as usize % 4,
            groups: seed as usize % 3,
            delay_model: if seed % 2 == 0 {
                "sequential"
            } else {
                "layered"
            }
            .into(),
            ..GenParams::default()
        };
        out.push(load_str(&generate_yaml(&p), None).expect("generated instances load"));
    }
    out
}

#[test]
fn every_heuristic_plan_is_feasible_or_reported_infeasible() {
    let insts = instances();
    assert!(insts.len() >= 100);
    let mut feasible = 0;
    for inst in &insts {
        for m in Method::ALL {
            let out = run(inst, m, None);
            match &out.plan {
                Some(plan) => {
                    assert_eq!(plan.placement.len(), inst.tasks.len());
                    assert_eq!(plan.quantized.len(), inst.group_count());
                    let ev = evaluate(inst, plan, None);
                    assert_eq!(
                        out.feasible(),
                        ev.feasible(),
                        "{} on {}",
                        m.name(),
                        inst.name
                    );
                    if ev.feasible() {
                        feasible += 1;
                    } else {
                        assert!(
                            out.message.is_some(),
                            "{} on {}: infeasible without a word",
                            m.name(),
                            inst.name
                        );
                    }
                }
                None => assert!(!out.feasible() && out.message.is_some()),
            }
        }
    }
    // The check above must not pass vacuously.
    assert!(feasible > 100, "only {feasible} feasible heuristic plans");
}

#[test]
fn no_heuristic_beats_the_brute_force_optimum() {
    let mut compared = 0;
    for seed in 0..60 {
        let inst = load_str(&common::tiny_instance(seed), None).unwrap();
        let best = common::brute_force(&inst, None);
        for m in Method::ALL {
            let out = run(&inst, m, None);
            if !out.feasible() {
                continue;
            }
            let (opt, _) = best
                .as_ref()
                .expect("a feasible heuristic plan means a feasible instance");
            let o = out.evaluation.as_ref().unwrap().objective.unwrap();
            assert!(
                o >= *opt - 1e-9 * opt.abs().max(1.0),
                "{} on tiny-{seed}: {o} < optimum {opt}",
                m.name()
            );
            compared += 1;
        }
    }
    assert!(compared > 30, "only {compared} comparisons");
}

#[test]
fn tide_shrinks_task_dnns_on_a_tide_instance() {
    let inst = load_str(
        &generate_yaml(&GenParams {
            seed: 3,
            ..GenParams::default()
        }),
        None,
    )
    .unwrap();
    let out = run(&inst, Method::Tide, None);
    assert!(out.feasible(), "{:?}", out.message);
    let ev = out.evaluation.unwrap();
    assert!(ev.tasks.iter().any(|t| t.atoms_used < inst.dnn.len()));
}

#[test]
fn placer_delays_match_the_evaluator_on_chain_shaped_dnns() {
    use edgesplit::heuristic::place::{objective_multipliers, place_all};
    let mut checked = 0;
    for seed in 0..12u64 {
        let p = GenParams {
            seed,
            tasks: 1 + seed as usize % 3,
            nodes: 1 + seed as usize % 4,
            delay_model: if seed % 2 == 0 {
                "sequential"
            } else {
                "layered"
            }
            .into(),
            ..GenParams::default()
        };
        let inst = load_str(&generate_yaml(&p), None).unwrap();
        let used = vec![vec![true; inst.dnn.len()]; inst.tasks.len()];
        let q = vec![false; inst.group_count()];
        let Some(placer) = place_all(&inst, &used, &q, true, objective_multipliers(&inst, None))
        else {
            continue;
        };
        let ev = evaluate(&inst, &placer.plan(), None);
        for (t, tp) in placer.current.iter().enumerate() {
            let tp = tp.as_ref().unwrap();
            let d = ev.tasks[t].delay_s;
            assert!(
                (tp.delay - d).abs() <= 1e-9 * d.max(1e-12),
                "seed {seed} task {t}: placer {} vs evaluator {d}",
                tp.delay
            );
            checked += 1;
        }
    }
    assert!(checked >= 12);
}

/// The placer's path lengths add up to the evaluator's objective on
/// chain-shaped DNNs, with the waiting energy (`network.latency_energy`)
/// on and energy weighted: the placer charges a latency's energy as the
/// evaluator does.
#[test]
fn placer_costs_match_the_evaluator_with_waiting_energy() {
    use edgesplit::heuristic::place::{objective_multipliers, place_all};
    let mut checked = 0;
    for seed in 0..12u64 {
        let p = GenParams {
            seed,
            tasks: 1 + seed as usize % 3,
            nodes: 2 + seed as usize % 3,
            ..GenParams::default()
        };
        let mut v: serde_yaml::Value = serde_yaml::from_str(&generate_yaml(&p)).unwrap();
        v["network"]["latency_energy"] = true.into();
        v["objective"] = serde_yaml::from_str("weights: {time: 1, energy: 0.5, cost: 1}").unwrap();
        v["constraints"] = serde_yaml::from_str("{delay: false}").unwrap();
        let text = serde_yaml::to_string(&v).unwrap();
        let inst = load_str(&text, None).unwrap();
        assert!(inst.network.latency_energy);
        let used = vec![vec![true; inst.dnn.len()]; inst.tasks.len()];
        let q = vec![false; inst.group_count()];
        let Some(placer) = place_all(&inst, &used, &q, true, objective_multipliers(&inst, None))
        else {
            continue;
        };
        let ev = evaluate(&inst, &placer.plan(), None);
        let cost: f64 = placer
            .current
            .iter()
            .map(|tp| tp.as_ref().unwrap().cost)
            .sum();
        let obj = ev.objective.unwrap();
        assert!(
            (cost - obj).abs() <= 1e-9 * obj.abs().max(1e-12),
            "seed {seed}: placer {cost} vs evaluator {obj}"
        );
        if ev.tasks.iter().any(|t| t.transfer_s > 0.0) {
            checked += 1;
        }
    }
    assert!(checked >= 4, "only {checked} plans with transfers");
}

#[test]
fn heuristic_and_compare_commands_work_end_to_end() {
    use std::process::Command;
    let dir = tempfile::tempdir().unwrap();
    let inst_path = dir.path().join("inst.yaml");
    std::fs::write(
        &inst_path,
        generate_yaml(&GenParams {
            seed: 4,
            ..GenParams::default()
        }),
    )
    .unwrap();
    let exe = env!("CARGO_BIN_EXE_edgesplit");
    let plan_path = dir.path().join("plan.yaml");
    let out = Command::new(exe)
        .args([
            "heuristic",
            inst_path.to_str().unwrap(),
            "--method",
            "tide",
            "-o",
            plan_path.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("feasible: every constraint holds"));
    let inst = edgesplit::load(&inst_path).unwrap();
    let plan = edgesplit::Plan::load(&plan_path, &inst).unwrap();
    assert!(evaluate(&inst, &plan, None).feasible());

    let (csv, json) = (dir.path().join("rows.csv"), dir.path().join("rows.json"));
    let out = Command::new(exe)
        .args([
            "compare",
            inst_path.to_str().unwrap(),
            "--methods",
            "tide,tide-q,centralized,milp:highs",
            "--time-limit",
            "5",
        ])
        .args([
            "--csv",
            csv.to_str().unwrap(),
            "--json",
            json.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let table = String::from_utf8_lossy(&out.stdout);
    for m in [
        "| tide |",
        "| tide-q |",
        "| centralized |",
        "| milp:highs |",
        "| milp:highs (q off) |",
    ] {
        assert!(table.contains(m), "{m} missing from\n{table}");
    }
    let rows: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 5);
    assert_eq!(std::fs::read_to_string(&csv).unwrap().lines().count(), 6);
    // TIDE is compared with the MILP without quantization, TIDE+Q with it.
    let tide = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["method"] == "tide")
        .unwrap();
    let tide_q = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["method"] == "tide-q")
        .unwrap();
    if tide["gap"].is_number() {
        assert_eq!(tide["reference"], "milp:highs (q off)");
        assert!(tide["gap"].as_f64().unwrap() >= -1e-6);
    }
    if tide_q["gap"].is_number() {
        assert_eq!(tide_q["reference"], "milp:highs");
    }
}

#[test]
fn compare_warm_starts_the_milp_and_normalizes_by_centralized() {
    use std::process::Command;
    let dir = tempfile::tempdir().unwrap();
    // 131 atoms: in 1 s HiGHS alone finds no plan with quantization on
    // (and a worse one than TIDE's with it off); from TIDE's plan it
    // always has one at least as good.
    let inst_path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("instances/scaling/tide-w32x4-t8-n4.yaml");
    let json = dir.path().join("rows.json");
    let out = Command::new(env!("CARGO_BIN_EXE_edgesplit"))
        .args(["compare", inst_path.to_str().unwrap()])
        .args(["--methods", "tide,centralized,milp:highs"])
        .args(["--warm-start-from", "tide", "--time-limit", "1"])
        .args(["--json", json.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let row = |m: &str| rows.iter().find(|r| r["method"] == m).unwrap().clone();
    let (tide, central) = (row("tide"), row("centralized"));
    // Both MILP rows (q on, q off) start from TIDE's plan, so neither may
    // end worse than it, even after 1 s.
    let tide_obj = tide["objective"].as_f64().unwrap();
    for m in ["milp:highs", "milp:highs (q off)"] {
        let milp = row(m);
        let o = milp["objective"]
            .as_f64()
            .unwrap_or_else(|| panic!("{m} has no incumbent: {milp}"));
        assert!(o <= tide_obj * (1.0 + 1e-9), "{m}: {o} > TIDE's {tide_obj}");
    }
    let c = central["objective"].as_f64().unwrap();
    assert!((central["vs_centralized"].as_f64().unwrap() - 1.0).abs() < 1e-12);
    let v = tide["vs_centralized"].as_f64().unwrap();
    assert!((v - tide_obj / c).abs() < 1e-12 * v.abs().max(1.0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("÷ centralized"));
}
