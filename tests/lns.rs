//! The large-neighbourhood search (`heuristic --lns`): on random tiny
//! one-task instances its first neighbourhood is the whole problem, so it
//! must reach the brute-force optimum from cost-greedy's plan, on every
//! backend; on two-task instances it is never worse than its start and its
//! plan is feasible; the command line reports each part re-solved.

mod common;

use common::{brute_force, close, tiny_instance};
use edgesplit::eval::evaluate;
use edgesplit::heuristic::{cost_greedy, lns};
use edgesplit::instance::load_str;
use edgesplit::solve::{BackendKind, Progress};
use std::process::Command;

fn options(backend: BackendKind) -> lns::LnsOptions {
    lns::LnsOptions {
        backend,
        budget_s: 60.0,
        per_solve_s: 30.0,
        quantize: true,
        progress: Progress::default(),
    }
}

#[test]
fn from_cost_greedy_it_reaches_the_brute_force_optimum_of_one_task_instances() {
    let mut checked = 0;
    let mut improved = 0;
    for seed in 0..400u64 {
        let inst = load_str(&tiny_instance(seed), None).unwrap();
        if inst.tasks.len() != 1 {
            continue;
        }
        let Some((optimum, _)) = brute_force(&inst, None) else {
            continue;
        };
        let Some(start) = cost_greedy::cost_greedy_q(&inst, None).plan else {
            continue;
        };
        let before = evaluate(&inst, &start, None).objective.unwrap();
        for backend in [BackendKind::Highs, BackendKind::Cbc, BackendKind::Scip] {
            let (plan, log) = lns::improve(&inst, None, start.clone(), &options(backend));
            let ev = evaluate(&inst, &plan, None);
            assert!(
                ev.feasible(),
                "seed {seed} {backend:?}: {:?}",
                ev.violations
            );
            let after = ev.objective.unwrap();
            assert!(
                close(after, optimum),
                "seed {seed} {backend:?}: lns {after} optimum {optimum} (start {before}); {log:?}"
            );
        }
        checked += 1;
        improved += !close(before, optimum) as usize;
        if checked == 40 {
            break;
        }
    }
    assert_eq!(checked, 40, "too few one-task instances with a plan");
    // The start is not already optimal on some, or the test shows nothing.
    assert!(improved >= 1, "cost-greedy was optimal on all {checked}");
}

#[test]
fn it_is_never_worse_than_its_start_on_two_task_instances() {
    let mut checked = 0;
    for seed in 0..400u64 {
        let inst = load_str(&tiny_instance(seed), None).unwrap();
        if inst.tasks.len() != 2 {
            continue;
        }
        let Some(start) = cost_greedy::cost_greedy_q(&inst, None).plan else {
            continue;
        };
        let before = evaluate(&inst, &start, None).objective.unwrap();
        let (plan, log) = lns::improve(&inst, None, start, &options(BackendKind::Highs));
        let ev = evaluate(&inst, &plan, None);
        assert!(ev.feasible(), "seed {seed}: {:?}", ev.violations);
        let after = ev.objective.unwrap();
        assert!(
            after <= before + 1e-9 * before.abs(),
            "seed {seed}: {after} > {before}"
        );
        // Every task, then the placement, in the first round.
        assert!(log.len() >= 3, "seed {seed}: {log:?}");
        checked += 1;
        if checked == 30 {
            break;
        }
    }
    assert_eq!(checked, 30);
}

#[test]
fn the_command_line_reports_each_part_and_writes_a_feasible_plan() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.yaml");
    let bin = env!("CARGO_BIN_EXE_edgesplit");
    let out = Command::new(bin)
        .args([
            "heuristic",
            "instances/default.yaml",
            "--method",
            "tide",
            "--lns",
            "20",
            "--lns-part",
            "5",
            "-o",
        ])
        .arg(&plan)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("lns: task "), "{err}");
    assert!(err.contains("lns: placement "), "{err}");
    assert!(err.contains("re-solved improved the plan"), "{err}");
    let ev = Command::new(bin)
        .arg("evaluate")
        .arg("instances/default.yaml")
        .arg(&plan)
        .output()
        .unwrap();
    assert!(
        ev.status.success(),
        "{}",
        String::from_utf8_lossy(&ev.stdout)
    );
    // --lns-part needs --lns.
    let bad = Command::new(bin)
        .args([
            "heuristic",
            "instances/default.yaml",
            "--method",
            "tide",
            "--lns-part",
            "5",
        ])
        .output()
        .unwrap();
    assert!(!bad.status.success());
}
