//! The strengthenings (memory_fit, cut_sets, flow) cut off no plan: each
//! switched on alone, all on and all off give the brute-force optimum on
//! random tiny instances; and each raises the LP relaxation on a fixed
//! generated instance.

mod common;

use common::{brute_force, close, tiny_instance};
use edgesplit::bench::lp_value;
use edgesplit::generate::{generate_yaml, GenFamily, GenParams};
use edgesplit::instance::{load_str, Instance, STRENGTHENINGS};
use edgesplit::milp::{build, ObjectiveSpec};
use edgesplit::solve::{solve_instance, BackendKind, SolveOptions, Status};
use proptest::prelude::*;

/// The instance with exactly the strengthenings of `list` on.
fn with(inst: &Instance, list: &str) -> Instance {
    let mut i = inst.clone();
    i.families.apply_strengthen_list(list).unwrap();
    i
}

/// Every switch setting checked: none, each alone, all.
fn settings() -> Vec<String> {
    let mut s = vec!["none".to_string()];
    s.extend(STRENGTHENINGS.iter().map(|n| n.to_string()));
    s.push("all".into());
    s
}

fn check_seed(seed: u64) -> Result<(), TestCaseError> {
    let text = tiny_instance(seed);
    let inst = load_str(&text, None).unwrap();
    let bf = brute_force(&inst, None).map(|b| b.0);
    for list in settings() {
        let rep = solve_instance(
            &with(&inst, &list),
            BackendKind::Highs,
            &SolveOptions::default(),
        );
        match (bf, rep.status) {
            (None, Status::Infeasible) => {}
            (Some(opt), Status::Optimal) => {
                let got = rep.evaluated_objective.expect("optimal has an objective");
                prop_assert!(
                    close(got, opt),
                    "seed {seed}, strengthen {list}: optimum {got} vs brute force {opt}\n{text}"
                );
            }
            (bf, st) => {
                return Err(TestCaseError::fail(format!(
                    "seed {seed}, strengthen {list}: {st} ({:?}), brute force {bf:?}\n{text}",
                    rep.message
                )))
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 60, ..ProptestConfig::default() })]

    /// Each strengthening on alone, all on and all off: the same optimum
    /// (or the same infeasibility) as enumeration.
    #[test]
    fn strengthenings_keep_the_optimum(seed in 0u64..1_000_000) {
        check_seed(seed)?;
    }
}

/// The tiny instances exercise every strengthening: memory fixing (some
/// atom's weights exceed some node's memory), and cut-set and flow rows.
#[test]
fn tiny_instances_exercise_the_strengthenings() {
    let (mut fit, mut cuts, mut flow) = (0, 0, 0);
    for seed in 0..200 {
        let inst = load_str(&tiny_instance(seed), None).unwrap();
        let plain = build(&with(&inst, "none"), ObjectiveSpec::Instance, None);
        let b = build(&inst, ObjectiveSpec::Instance, None);
        let rows = |f: &str| {
            b.family_rows
                .iter()
                .find(|(n, _)| *n == f)
                .map_or(0, |(_, r)| *r)
        };
        let fixed = b
            .model
            .columns
            .iter()
            .zip(&plain.model.columns)
            .any(|(s, p)| s.ub == 0.0 && p.ub > 0.0);
        fit += (fixed || rows("memory_fit") > 0) as usize;
        cuts += (rows("cut_sets") > 0) as usize;
        flow += (rows("flow") > 0) as usize;
    }
    for (what, n) in [("memory_fit", fit), ("cut_sets", cuts), ("flow", flow)] {
        assert!(n >= 20, "{what} acts on only {n} of 200 tiny instances");
    }
}

/// A generated TIDE-family instance (3 conv layers of 4 filters, 3 tasks,
/// 3 nodes, 2 groups) whose device memory holds only some filters.
fn fixed_instance() -> Instance {
    let p = GenParams {
        family: GenFamily::Tide,
        seed: 11,
        layers: 3,
        atoms_per_layer: 4,
        widths: Some(vec![4; 3]),
        dense_layers: 1,
        tasks: 3,
        nodes: 3,
        groups: 2,
        zipf: 1.0,
        ..GenParams::default()
    };
    load_str(&generate_yaml(&p), None).unwrap()
}

fn lp(inst: &Instance) -> f64 {
    lp_value(&build(inst, ObjectiveSpec::Instance, None).model).expect("the LP solves")
}

/// Each strengthening alone raises the LP relaxation above the plain
/// model's, and all together are at least as high as each alone.
#[test]
fn each_strengthening_raises_the_lp_bound() {
    let inst = fixed_instance();
    let none = lp(&with(&inst, "none"));
    let all = lp(&with(&inst, "all"));
    for name in STRENGTHENINGS {
        let one = lp(&with(&inst, name));
        assert!(
            one > none * (1.0 + 1e-6),
            "{name}: LP {one} not above {none} without it"
        );
        assert!(
            all >= one * (1.0 - 1e-9),
            "all {all} below {name} alone {one}"
        );
    }
}
