//! Placement (docs/formulation.md §5): a used atom runs on exactly one node,
//! `Σ_n z(a,n,t) = y(a,t)`. Structural: always on. Source and sink are
//! fixed by column bounds in [`Builder::new`]; u(a,n) ≥ z(a,n,t) lives in
//! the memory family, its only reader.

use super::Family;
use crate::instance::Instance;
use crate::milp::model::Sense;
use crate::milp::Builder;

pub struct Placement;

impl Family for Placement {
    fn name(&self) -> &'static str {
        "placement"
    }
    fn switchable(&self) -> bool {
        false
    }
    fn enabled(&self, _inst: &Instance) -> bool {
        true
    }
    fn add(&self, b: &mut Builder) {
        let inst = b.inst;
        for (t, task) in inst.tasks.iter().enumerate() {
            for (a, atom) in inst.dnn.atoms.iter().enumerate() {
                let mut row: Vec<_> = b.z[t][a].iter().map(|&z| (z, 1.0)).collect();
                row.push((b.y[t][a], -1.0));
                b.row(
                    format!("assign({},{})", atom.id, task.name),
                    row,
                    Sense::Eq,
                    0.0,
                );
            }
        }
    }
}
