//! cost-greedy and cost-greedy-q: never worse than TIDE (a proptest of
//! small generated and tiny instances), within a stated factor of the
//! brute-force optimum on tiny ones, the MILP's default warm start (CLI and
//! server jobs), and compare's two gaps.

mod common;

use edgesplit::generate::{generate_yaml, GenFamily, GenParams};
use edgesplit::heuristic::{run, Method};
use edgesplit::instance::load_str;
use edgesplit::Instance;
use proptest::prelude::*;
use std::process::Command;

fn objective(inst: &Instance, m: Method) -> Option<f64> {
    let out = run(inst, m, None);
    out.feasible()
        .then(|| out.evaluation.unwrap().objective.unwrap())
}

fn small_generated(
    seed: u64,
    family: usize,
    tasks: usize,
    nodes: usize,
    groups: usize,
) -> Instance {
    let p = GenParams {
        family: [GenFamily::Tide, GenFamily::Chain, GenFamily::Dag][family],
        seed,
        layers: 2 + seed as usize % 3,
        atoms_per_layer: 3 + seed as usize % 5,
        tasks,
        nodes,
        groups,
        delay_model: if seed.is_multiple_of(2) {
            "sequential"
        } else {
            "layered"
        }
        .into(),
        ..GenParams::default()
    };
    load_str(&generate_yaml(&p), None).expect("generated instances load")
}

fn not_worse(inst: &Instance) -> Result<(), TestCaseError> {
    if let Some(tide) = objective(inst, Method::Tide) {
        let g = objective(inst, Method::CostGreedy);
        prop_assert!(g.is_some(), "{}: TIDE feasible, cost-greedy not", inst.name);
        let g = g.unwrap();
        prop_assert!(
            g <= tide + 1e-9 * tide.abs().max(1.0),
            "{}: cost-greedy {g} > TIDE {tide}",
            inst.name
        );
        let gq = objective(inst, Method::CostGreedyQ).unwrap();
        prop_assert!(
            gq <= g + 1e-9 * g.abs().max(1.0),
            "{}: q {gq} > {g}",
            inst.name
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Small generated instances of every family, both delay models, with
    /// and without quantization groups.
    #[test]
    fn never_worse_than_tide_on_generated_instances(
        seed in 0u64..100_000,
        family in 0usize..3,
        tasks in 1usize..5,
        nodes in 1usize..5,
        groups in 0usize..3,
    ) {
        not_worse(&small_generated(seed, family, tasks, nodes, groups))?;
    }

    /// Tiny instances with every family and rule, infeasible ones included.
    #[test]
    fn never_worse_than_tide_on_tiny_instances(seed in 0u64..1_000_000) {
        not_worse(&load_str(&common::tiny_instance(seed), None).unwrap())?;
    }
}

/// The factors stated in docs/heuristics.md: on the tiny instances it
/// solves, cost-greedy-q is optimal on at least 75% and within 1.5 × the
/// brute-force optimum (objectives ≥ 0 there) on at least 85%.
#[test]
fn within_a_stated_factor_of_brute_force_on_tiny_instances() {
    let (mut compared, mut optimal, mut within) = (0, 0, 0);
    let mut ratios = Vec::new();
    for seed in 0..120 {
        let inst = load_str(&common::tiny_instance(seed), None).unwrap();
        let Some((opt, _)) = common::brute_force(&inst, None) else {
            continue;
        };
        let g = objective(&inst, Method::CostGreedyQ);
        let Some(g) = g else {
            // Only the placer's limits may leave it without a plan.
            continue;
        };
        assert!(opt >= 0.0);
        compared += 1;
        if common::close(g, opt) {
            optimal += 1;
        } else {
            ratios.push((g / opt, seed));
        }
        within += (g <= 1.5 * opt + 1e-9) as usize;
    }
    ratios.sort_by(|a, b| a.0.total_cmp(&b.0));
    eprintln!("{compared} compared, {optimal} optimal, others (ratio, seed): {ratios:?}");
    assert!(compared >= 40, "only {compared} comparisons");
    assert!(
        optimal * 100 >= compared * 75,
        "optimal on only {optimal} of {compared}"
    );
    assert!(
        within * 100 >= compared * 85,
        "within 1.5 × on only {within} of {compared}: {ratios:?}"
    );
}

fn edgesplit() -> Command {
    Command::new(env!("CARGO_BIN_EXE_edgesplit"))
}

fn scaling_instance() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("instances/scaling/tide-w32x4-t8-n4.yaml")
}

#[test]
fn solve_starts_from_cost_greedy_q_by_default_and_says_so() {
    let inst = scaling_instance();
    let solve = |extra: &[&str]| -> serde_json::Value {
        let out = edgesplit()
            .args([
                "solve",
                inst.to_str().unwrap(),
                "--json",
                "--time-limit",
                "1",
            ])
            .arg("--in-process")
            .args(extra)
            .output()
            .unwrap();
        assert!(
            out.status.code().is_some_and(|c| c <= 1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let loaded = edgesplit::load(&inst).unwrap();
    let greedy = objective(&loaded, Method::CostGreedyQ).unwrap();
    let rep = solve(&[]);
    let ws = &rep["warm_start"];
    assert_eq!(ws["source"], "cost-greedy-q");
    assert_eq!(ws["used"], true);
    assert!((ws["objective"].as_f64().unwrap() - greedy).abs() <= 1e-9 * greedy);
    // From that start, HiGHS cannot end worse than the start (on a loaded
    // machine 1 s may end before HiGHS reads it: no plan at all).
    if let Some(o) = rep["evaluated_objective"].as_f64() {
        assert!(o <= greedy * (1.0 + 1e-9), "{o} > start {greedy}");
    }
    assert_eq!(
        solve(&["--warm-start", "none"])["warm_start"]["source"],
        "none"
    );
    assert_eq!(
        solve(&["--warm-start", "tide"])["warm_start"]["source"],
        "tide"
    );
    let bad = edgesplit()
        .args([
            "solve",
            inst.to_str().unwrap(),
            "--warm-start",
            "no-such-thing",
        ])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("expected none, a method"));
}

#[cfg(feature = "server")]
#[test]
fn server_milp_jobs_start_from_cost_greedy_q() {
    use edgesplit::server::worker::{run_job, JobMethod};
    let opts = edgesplit::solve::SolveOptions {
        time_limit: Some(1.0),
        ..Default::default()
    };
    let res = run_job(
        &scaling_instance(),
        &JobMethod::Milp(edgesplit::solve::BackendKind::Highs),
        &opts,
    )
    .unwrap();
    assert_eq!(res.report["warm_start"]["source"], "cost-greedy-q");
    assert_eq!(res.report["warm_start"]["used"], true);
}

#[test]
fn compare_gives_the_gap_to_the_bound_and_to_the_best_plan() {
    let dir = tempfile::tempdir().unwrap();
    let (csv, json) = (dir.path().join("rows.csv"), dir.path().join("rows.json"));
    let out = edgesplit()
        .args(["compare", scaling_instance().to_str().unwrap()])
        .args(["--methods", "tide,cost-greedy,centralized,milp:highs"])
        .args(["--time-limit", "1"])
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
    let md = String::from_utf8_lossy(&out.stdout);
    assert!(md.contains("| gap to bound |") && md.contains("| gap to best | best by | start |"));
    let header = std::fs::read_to_string(&csv).unwrap();
    for col in [
        "gap",
        "gap_to_best",
        "best_method",
        "start",
        "start_objective",
    ] {
        assert!(
            header.lines().next().unwrap().split(',').any(|c| c == col),
            "{col}"
        );
    }
    let rows: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let best = rows
        .iter()
        .filter(|r| r["feasible"] == true)
        .map(|r| r["objective"].as_f64().unwrap())
        .fold(f64::INFINITY, f64::min);
    for r in rows.iter().filter(|r| r["feasible"] == true) {
        let o = r["objective"].as_f64().unwrap();
        let g = r["gap_to_best"].as_f64().unwrap();
        assert!((g - (o - best) / best.abs()).abs() < 1e-9, "{r}");
        let by = r["best_method"].as_str().unwrap();
        let by_row = rows.iter().find(|x| x["method"] == by).unwrap();
        assert_eq!(by_row["objective"].as_f64().unwrap(), best);
    }
    let milp = rows.iter().find(|r| r["method"] == "milp:highs").unwrap();
    assert!(
        milp["start"]
            .as_str()
            .unwrap()
            .starts_with("cost-greedy-q ("),
        "{milp}"
    );
    // The old flag still works and names its start.
    let out = edgesplit()
        .args(["compare", scaling_instance().to_str().unwrap()])
        .args(["--methods", "tide,milp:highs", "--time-limit", "1"])
        .args([
            "--warm-start-from",
            "tide",
            "--json",
            json.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let rows: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let milp = rows.iter().find(|r| r["method"] == "milp:highs").unwrap();
    assert!(
        milp["start"].as_str().unwrap().starts_with("tide ("),
        "{milp}"
    );
}
