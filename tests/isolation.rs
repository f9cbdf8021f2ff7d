//! `solve --time-limit` runs the backend in a child process: an abort or a
//! hang there becomes a report, never a crash of the caller; a time limit
//! gives an honest status, bound and gap.

use std::process::Command;

fn edgesplit() -> Command {
    Command::new(env!("CARGO_BIN_EXE_edgesplit"))
}

#[test]
fn an_aborting_solver_is_reported_not_fatal() {
    let out = edgesplit()
        .args([
            "solve",
            "instances/default.yaml",
            "--time-limit",
            "30",
            "--json",
        ])
        .env("EDGESPLIT_WORKER_FAULT", "abort")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "error status exits 2");
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["status"], "error");
    let msg = r["message"].as_str().unwrap();
    assert!(msg.contains("signal 6") && msg.contains("SIGABRT"), "{msg}");
}

#[test]
fn a_hanging_solver_is_killed_after_its_grace_period() {
    let t0 = std::time::Instant::now();
    let out = edgesplit()
        .args([
            "solve",
            "instances/default.yaml",
            "--time-limit",
            "0.5",
            "--json",
        ])
        .env("EDGESPLIT_WORKER_FAULT", "hang")
        .output()
        .unwrap();
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["status"], "error");
    assert!(
        r["message"]
            .as_str()
            .unwrap()
            .contains("overran its time limit"),
        "{r}"
    );
    assert!(t0.elapsed().as_secs_f64() < 0.5 + edgesplit::solve::isolate::GRACE_S + 5.0);
}

#[test]
fn isolated_and_in_process_solves_agree() {
    let run = |extra: &[&str]| -> serde_json::Value {
        let out = edgesplit()
            .args(["solve", "instances/default.yaml", "--json"])
            .args(extra)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let isolated = run(&["--time-limit", "120"]);
    let local = run(&[]);
    assert_eq!(isolated["status"], "optimal");
    let (a, b) = (
        isolated["evaluated_objective"].as_f64().unwrap(),
        local["evaluated_objective"].as_f64().unwrap(),
    );
    assert!((a - b).abs() <= 1e-9 * a.abs().max(1.0), "{a} vs {b}");
    assert_eq!(
        isolated["evaluation"]["totals"],
        local["evaluation"]["totals"]
    );
}

#[test]
fn a_time_limit_gives_a_status_a_bound_and_a_gap() {
    let dir = tempfile::tempdir().unwrap();
    let inst = dir.path().join("big.yaml");
    let gen = edgesplit()
        .args([
            "generate", "--family", "tide", "--widths", "24,24,24", "--tasks", "6", "--nodes", "4",
            "--groups", "3", "--seed", "3", "-o",
        ])
        .arg(&inst)
        .output()
        .unwrap();
    assert!(gen.status.success());
    let out = edgesplit()
        .arg("solve")
        .arg(&inst)
        .args(["--time-limit", "1", "--json"])
        .output()
        .unwrap();
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let status = r["status"].as_str().unwrap();
    assert!(
        ["optimal", "feasible", "no_solution"].contains(&status),
        "{r}"
    );
    if status == "feasible" {
        assert_eq!(r["limit"], "time");
        // A warm-started solve may stop with an incumbent before HiGHS
        // has a finite bound; then neither bound nor gap is reported.
        let obj = r["milp_objective"].as_f64().unwrap();
        match (r["best_bound"].as_f64(), r["gap"].as_f64()) {
            (Some(bound), Some(gap)) => assert!(bound <= obj + 1e-9 && gap >= 0.0, "{r}"),
            (None, None) => {}
            _ => panic!("a bound without a gap or a gap without a bound: {r}"),
        }
        assert!(r["evaluation"]["violations"].as_array().unwrap().is_empty());
    }
    assert!(r["solve_time_s"].as_f64().unwrap() < 1.0 + 5.0);
}
