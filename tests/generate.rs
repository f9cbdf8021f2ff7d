//! Generated instances: they load without problems, are deterministic,
//! say they are synthetic, and the centralized reference plan meets their
//! delay limits.

use edgesplit::eval::evaluate;
use edgesplit::generate::{generate_yaml, GenFamily, GenParams};
use edgesplit::reference::{reference_plan, ReferenceMethod};
use proptest::prelude::*;

fn params() -> impl Strategy<Value = GenParams> {
    (
        prop_oneof![
            Just(GenFamily::Tide),
            Just(GenFamily::Chain),
            Just(GenFamily::Dag)
        ],
        any::<u64>(),
        1usize..5,
        1usize..6,
        0usize..3,
        1usize..5,
        1usize..4,
        0usize..3,
        prop_oneof![Just("sequential"), Just("layered")],
    )
        .prop_map(
            |(family, seed, layers, atoms_per_layer, dense_layers, tasks, nodes, groups, dm)| {
                GenParams {
                    family,
                    seed,
                    layers,
                    atoms_per_layer,
                    dense_layers,
                    tasks,
                    nodes,
                    groups,
                    delay_model: dm.to_string(),
                    ..GenParams::default()
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn generated_instances_load_and_centralized_meets_delays(p in params()) {
        let text = generate_yaml(&p);
        prop_assert_eq!(&text, &generate_yaml(&p), "not deterministic for {:?}", p);
        let inst = match edgesplit::instance::load_str(&text, None) {
            Ok(i) => i,
            Err(e) => return Err(TestCaseError::fail(format!("{p:?}: {e}\n{text}"))),
        };
        prop_assert!(inst.description.contains("SYNTHETIC"), "{}", inst.description);
        prop_assert_eq!(inst.tasks.len(), p.tasks);
        prop_assert_eq!(inst.network.len(), p.nodes);
        let plan = reference_plan(&inst, ReferenceMethod::Centralized);
        let ev = evaluate(&inst, &plan, None);
        let delay: Vec<_> = ev
            .violations
            .iter()
            .filter(|v| v.family == "delay")
            .collect();
        prop_assert!(delay.is_empty(), "{:?}: {:?}", p, delay);
        for t in &inst.tasks {
            prop_assert!(t.max_delay.is_finite() && t.max_delay > 0.0);
        }
    }
}

#[test]
fn different_seeds_give_different_instances() {
    let a = generate_yaml(&GenParams::default());
    let b = generate_yaml(&GenParams {
        seed: 2,
        ..GenParams::default()
    });
    assert_ne!(a, b);
}
