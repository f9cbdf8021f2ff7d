//! Exactness: the MILP optimum equals brute-force enumeration on random
//! tiny instances, every built-in backend agrees, and the exported LP/MPS
//! solved by an independent HiGHS (highspy) gives the same optimum.

mod common;

use common::{brute_force, close, tiny_instance};
use edgesplit::instance::{load_str, Normalization};
use edgesplit::solve::{solve_instance, BackendKind, SolveOptions, Status};
use proptest::prelude::*;

fn check_against_brute_force(seed: u64, kind: BackendKind) -> Result<(), TestCaseError> {
    let text = tiny_instance(seed);
    let inst = load_str(&text, None)
        .map_err(|e| TestCaseError::fail(format!("seed {seed}: {e}\n{text}")))?;
    let rep = solve_instance(&inst, kind, &SolveOptions::default());
    let bf = brute_force(&inst, None);
    match (&bf, rep.status) {
        (None, Status::Infeasible) => {}
        (Some((opt, _)), Status::Optimal) => {
            let milp = rep.evaluated_objective.expect("optimal has an objective");
            prop_assert!(
                close(milp, *opt),
                "seed {seed}: {kind} optimum {milp} vs brute force {opt}\n{text}"
            );
        }
        (bf, st) => {
            return Err(TestCaseError::fail(format!(
                "seed {seed}: {kind} says {st} ({:?}), brute force says {:?}\n{text}",
                rep.message,
                bf.as_ref().map(|b| b.0)
            )))
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// 200 random tiny instances: both delay models, quantization on and
    /// off, capacity, energy, rules, fixed-scale normalization, infeasible
    /// ones included.
    #[test]
    fn highs_matches_brute_force(seed in 0u64..1_000_000) {
        check_against_brute_force(seed, BackendKind::Highs)?;
    }
}

/// The generator yields a mix of what the exactness test must cover.
#[test]
fn tiny_instances_cover_the_cases() {
    let (mut infeasible, mut layered, mut quantized, mut rules, mut scaled) = (0, 0, 0, 0, 0);
    let mut chain_edges = 0;
    for seed in 0..200 {
        let inst = load_str(&tiny_instance(seed), None).unwrap();
        infeasible += brute_force(&inst, None).is_none() as usize;
        layered += (inst.delay_model == edgesplit::instance::DelayModel::Layered) as usize;
        quantized += (inst.group_count() > 0) as usize;
        rules += (!inst.rules.is_empty()) as usize;
        scaled += matches!(inst.objective.normalization, Normalization::Scales(_)) as usize;
        // Mandatory chain edges get the traffic family's transportation rows.
        let d = &inst.dnn;
        chain_edges += d.classes.iter().any(|c| {
            c.successors.len() == 1
                && d.atoms[c.successors[0]].mandatory
                && c.atoms
                    .iter()
                    .any(|&a| d.atoms[a].mandatory && a != d.input)
        }) as usize;
    }
    for (what, n) in [
        ("infeasible", infeasible),
        ("layered", layered),
        ("quantized", quantized),
        ("rules", rules),
        ("scaled", scaled),
        ("with a mandatory chain edge", chain_edges),
    ] {
        assert!(n >= 10, "only {n} of 200 tiny instances are {what}");
    }
    assert!(
        infeasible <= 150,
        "{infeasible} of 200 tiny instances are infeasible"
    );
}

/// Payoff normalization: the ideal values are the single-objective optima
/// of enumeration, and under the solver's payoff table the optimum matches.
#[test]
fn payoff_normalization_matches_brute_force() {
    let mut checked = 0;
    for seed in 0..40u64 {
        let mut inst = load_str(&tiny_instance(seed), None).unwrap();
        inst.objective.normalization = Normalization::Payoff;
        let rep = solve_instance(&inst, BackendKind::Highs, &SolveOptions::default());
        if rep.status != Status::Optimal {
            assert_eq!(
                rep.status,
                Status::Infeasible,
                "seed {seed}: {:?}",
                rep.message
            );
            let mut plain = inst.clone();
            plain.objective.normalization = Normalization::None;
            assert!(
                brute_force(&plain, None).is_none(),
                "seed {seed}: solver infeasible, enumeration not"
            );
            continue;
        }
        let table = rep.payoff.expect("payoff table reported");
        for (w, ideal) in [
            ((1.0, 0.0, 0.0), table.ideal.time),
            ((0.0, 1.0, 0.0), table.ideal.energy),
            ((0.0, 0.0, 1.0), table.ideal.cost),
        ] {
            let mut single = inst.clone();
            single.objective.normalization = Normalization::None;
            single.objective.weights = edgesplit::instance::Tec {
                time: w.0,
                energy: w.1,
                cost: w.2,
            };
            let (opt, _) = brute_force(&single, None).expect("feasible");
            assert!(
                close(opt, ideal),
                "seed {seed}: ideal {ideal} vs enumeration {opt}"
            );
        }
        let (opt, _) = brute_force(&inst, Some(&table)).expect("feasible");
        assert!(
            close(rep.evaluated_objective.unwrap(), opt),
            "seed {seed}: {:?} vs {opt}",
            rep.evaluated_objective
        );
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} feasible payoff cases");
}

/// Every built-in backend finds the same optimum (or the same verdict) on
/// a corpus of small instances.
#[test]
fn backends_agree() {
    let kinds = BackendKind::built_in();
    assert!(kinds.contains(&BackendKind::Highs));
    for seed in 1000..1040u64 {
        let inst = load_str(&tiny_instance(seed), None).unwrap();
        let reports: Vec<_> = kinds
            .iter()
            .map(|&k| (k, solve_instance(&inst, k, &SolveOptions::default())))
            .collect();
        let (k0, r0) = &reports[0];
        for (k, r) in &reports[1..] {
            assert_eq!(
                r0.status, r.status,
                "seed {seed}: {k0} {:?} vs {k} {:?}",
                r0.message, r.message
            );
            if r0.status == Status::Optimal {
                let (a, b) = (
                    r0.evaluated_objective.unwrap(),
                    r.evaluated_objective.unwrap(),
                );
                assert!(close(a, b), "seed {seed}: {k0} {a} vs {k} {b}");
            }
        }
    }
}
