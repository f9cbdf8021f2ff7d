//! The pure-Rust backend never claims infeasibility it has not proven: on
//! the MTL-Split instances (which an earlier microlp called infeasible) it
//! agrees with HiGHS, and on random tiny and generated instances it never
//! says `infeasible` where HiGHS or enumeration finds a plan.

mod common;

use common::{brute_force, close, tiny_instance};
use edgesplit::generate::{generate_yaml, GenFamily, GenParams};
use edgesplit::instance::load_str;
use edgesplit::solve::{solve_instance, BackendKind, SolveOptions, Status};
use proptest::prelude::*;
use std::path::Path;

fn repo(p: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

#[test]
fn mtl_split_instances_solve_as_with_highs() {
    for name in ["2tasks", "3tasks", "2tasks-free-heads", "3tasks-free-heads"] {
        let path = repo(&format!("instances/mtl-split/{name}.yaml"));
        let inst = edgesplit::load(&path).unwrap();
        let highs = solve_instance(&inst, BackendKind::Highs, &SolveOptions::default());
        assert_eq!(highs.status, Status::Optimal, "{name}: {:?}", highs.message);
        let want = highs.evaluated_objective.unwrap();
        for kind in BackendKind::built_in() {
            let r = solve_instance(&inst, kind, &SolveOptions::default());
            assert_eq!(r.status, Status::Optimal, "{name}: {kind} {:?}", r.message);
            let got = r.evaluated_objective.unwrap();
            assert!(close(got, want), "{name}: {kind} {got} vs highs {want}");
        }
    }
}

/// microlp's verdict against a plan HiGHS (or enumeration) found.
fn check_no_false_infeasible(label: &str, text: &str, brute: bool) -> Result<(), TestCaseError> {
    let inst = load_str(text, None).map_err(|e| TestCaseError::fail(format!("{label}: {e}")))?;
    let opts = SolveOptions {
        time_limit: Some(30.0),
        ..SolveOptions::default()
    };
    let m = solve_instance(&inst, BackendKind::Microlp, &opts);
    if m.status != Status::Infeasible {
        return Ok(());
    }
    let h = solve_instance(&inst, BackendKind::Highs, &opts);
    prop_assert!(
        !matches!(h.status, Status::Optimal | Status::Feasible),
        "{label}: microlp says infeasible, HiGHS finds a plan at {:?}",
        h.evaluated_objective
    );
    if brute {
        prop_assert!(
            brute_force(&inst, None).is_none(),
            "{label}: microlp says infeasible, enumeration finds a plan"
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn microlp_never_says_infeasible_on_a_feasible_tiny_instance(seed in 0u64..1_000_000) {
        check_no_false_infeasible(&format!("tiny seed {seed}"), &tiny_instance(seed), true)?;
    }

    #[test]
    fn microlp_never_says_infeasible_on_a_feasible_generated_instance(
        seed in 0u64..10_000,
        family in prop_oneof![Just(GenFamily::Chain), Just(GenFamily::Dag), Just(GenFamily::Tide)],
        layered in any::<bool>(),
    ) {
        let p = GenParams {
            family,
            seed,
            layers: 3,
            atoms_per_layer: 2,
            widths: None,
            dense_layers: 1,
            tasks: 2,
            nodes: 3,
            groups: 1,
            zipf: 1.0,
            delay_model: if layered { "layered" } else { "sequential" }.into(),
        };
        check_no_false_infeasible(&format!("{p:?}"), &generate_yaml(&p), false)?;
    }
}

/// The backend reports a bound and honours the gap option like the others.
#[test]
fn microlp_reports_bound_and_gap() {
    let inst = load_str(&tiny_instance(7), None).unwrap();
    let r = solve_instance(&inst, BackendKind::Microlp, &SolveOptions::default());
    if r.status == Status::Optimal {
        let (obj, bound) = (r.evaluated_objective.unwrap(), r.best_bound.unwrap());
        assert!(bound <= obj + 1e-9 * obj.abs().max(1e-12));
        assert!(r.gap.unwrap() <= 1e-4, "gap {:?}", r.gap);
    } else {
        assert_eq!(r.status, Status::Infeasible, "{:?}", r.message);
    }
}
