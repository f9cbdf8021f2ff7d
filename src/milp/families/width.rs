//! Per-layer minimum widths: for every [`crate::instance::MinWidth`] row
//! and every task t it binds, `Σ_{a ∈ S} y(a,t) ≥ k`, S the row's selected
//! atoms of one layer (docs/formulation.md, "Minimum width").

use super::Family;
use crate::instance::Instance;
use crate::milp::model::Sense;
use crate::milp::Builder;

pub struct Width;

impl Family for Width {
    fn name(&self) -> &'static str {
        "width"
    }
    fn enabled(&self, inst: &Instance) -> bool {
        inst.families.on("width") && !inst.min_width.is_empty()
    }
    fn diagnose(&self, inst: &Instance) -> bool {
        self.enabled(inst)
    }
    fn add(&self, b: &mut Builder) {
        let inst = b.inst;
        for (i, w) in inst.min_width.iter().enumerate() {
            for &t in &w.tasks {
                let row = w.atoms.iter().map(|&a| (b.y[t][a], 1.0)).collect();
                b.row(
                    format!("min_width({i},{})", inst.tasks[t].name),
                    row,
                    Sense::Ge,
                    w.k as f64,
                );
            }
        }
    }
}
