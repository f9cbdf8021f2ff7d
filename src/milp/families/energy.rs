//! Energy budget (docs/formulation.md §5): `Σ_t rate(t)·E(t,n) ≤ max_power(n)`
//! where set, E(t,n) being compute energy on n plus the energy of transfers
//! sent from n.

use super::Family;
use crate::instance::Instance;
use crate::milp::model::Sense;
use crate::milp::Builder;

pub struct Energy;

impl Family for Energy {
    fn name(&self) -> &'static str {
        "energy"
    }
    fn diagnose(&self, inst: &Instance) -> bool {
        inst.families.on("energy") && inst.network.nodes.iter().any(|n| n.max_power.is_some())
    }
    fn add(&self, b: &mut Builder) {
        let inst = b.inst;
        for (n, node) in inst.network.nodes.iter().enumerate() {
            let Some(max) = node.max_power else { continue };
            let mut row = Vec::new();
            for (t, task) in inst.tasks.iter().enumerate() {
                for (v, c) in b.energy_or_cost(t, true, Some(n)) {
                    row.push((v, c * task.rate));
                }
            }
            b.row(format!("max_power({})", node.name), row, Sense::Le, max);
        }
    }
}
