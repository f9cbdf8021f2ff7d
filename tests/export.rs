//! The exported LP and MPS files, solved by an independent HiGHS (the
//! PyPI `highspy` package, installed by scripts/setup.sh), give the same
//! optimum as edgesplit's own solve.

mod common;

use common::{close, tiny_instance_with, triangle_instance};
use edgesplit::instance::load_str;
use edgesplit::milp::{build, ObjectiveSpec};
use edgesplit::solve::{solve_instance, BackendKind, SolveOptions, Status};
use std::process::Command;

const SOLVE_PY: &str = r#"
import sys, highspy
h = highspy.Highs()
h.setOptionValue("output_flag", False)
h.setOptionValue("mip_rel_gap", 1e-9)
h.setOptionValue("mip_feasibility_tolerance", 1e-9)
h.setOptionValue("primal_feasibility_tolerance", 1e-9)
for path in sys.argv[1:]:
    h.clearModel()
    assert h.readModel(path) == highspy.HighsStatus.kOk, path
    h.run()
    st = h.modelStatusToString(h.getModelStatus())
    print("RESULT", st, h.getInfo().objective_function_value, flush=True)
"#;

#[test]
fn exported_models_solve_to_the_same_optimum_in_highspy() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    let mut expected = Vec::new();
    // The tiny instances as they were before routing options existed (one
    // path per pair; unscaled, HiGHS misjudges some of the cost-only ones
    // the triangle-breaking variants give), then the triangle-breaking
    // network in every routing, whose models have per-path latency columns
    // and exact xq rows.
    let mut texts: Vec<(u64, String)> = (0..60u64)
        .map(|seed| (seed, tiny_instance_with(seed, "min_latency", false, false)))
        .collect();
    for (i, routing) in ["min_time", "min_latency", "direct"].iter().enumerate() {
        for (j, delay) in ["sequential", "layered"].iter().enumerate() {
            let seed = 1000 + 10 * i as u64 + j as u64;
            texts.push((seed, triangle_instance(routing, delay, j == 1)));
        }
    }
    let mut tiny_found = 0;
    for (seed, text) in texts {
        if seed < 1000 && tiny_found >= 12 {
            continue;
        }
        let inst = load_str(&text, None).unwrap();
        let rep = solve_instance(&inst, BackendKind::Highs, &SolveOptions::default());
        if rep.status != Status::Optimal {
            continue;
        }
        let model = build(&inst, ObjectiveSpec::Instance, None).model;
        for ext in ["lp", "mps"] {
            let p = dir.path().join(format!("m{seed}.{ext}"));
            std::fs::write(
                &p,
                if ext == "lp" {
                    model.to_lp()
                } else {
                    model.to_mps()
                },
            )
            .unwrap();
            files.push(p);
            expected.push((seed, ext, rep.milp_objective.unwrap()));
        }
        tiny_found += (seed < 1000) as usize;
    }
    assert!(
        expected.len() >= 20,
        "too few feasible instances: {}",
        expected.len()
    );
    let out = Command::new(std::env::var("PYTHON").unwrap_or_else(|_| "python3".into()))
        .arg("-c")
        .arg(SOLVE_PY)
        .args(&files)
        .output()
        .expect("python3 runs (scripts/setup.sh installs highspy)");
    assert!(
        out.status.success(),
        "highspy failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("RESULT "))
        .collect();
    assert_eq!(lines.len(), expected.len());
    for (line, (seed, ext, obj)) in lines.iter().zip(&expected) {
        let (status, value) = line.rsplit_once(' ').unwrap();
        assert_eq!(status, "Optimal", "seed {seed} .{ext}");
        let value: f64 = value.parse().unwrap();
        assert!(
            close(value, *obj),
            "seed {seed} .{ext}: highspy {value} vs edgesplit {obj}"
        );
    }
}
