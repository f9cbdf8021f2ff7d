//! Selection (docs/formulation.md §5): each task's sub-DNN is connected.
//! `y(a,t) ≤ Σ_{b∈P(a)} y(b,t)` for a ≠ a_in and `y(a,t) ≤ Σ_{b∈S(a)} y(b,t)`
//! for a ≠ a_out, over the atoms of the task's own DNN. Input, output and mandatory atoms are fixed to 1 by
//! column bounds in [`Builder::new`].

use super::Family;
use crate::instance::Instance;
use crate::milp::model::Sense;
use crate::milp::Builder;

pub struct Selection;

impl Family for Selection {
    fn name(&self) -> &'static str {
        "selection"
    }
    fn diagnose(&self, inst: &Instance) -> bool {
        self.enabled(inst)
    }
    fn add(&self, b: &mut Builder) {
        let inst = b.inst;
        let dnn = &inst.dnn;
        for (t, task) in inst.tasks.iter().enumerate() {
            // Another DNN's atoms are fixed to 0 by their bounds.
            for a in dnn.atoms_of(task.dnn) {
                let id = &dnn.atoms[a].id;
                if !dnn.is_input(a) {
                    let mut row = vec![(b.y[t][a], 1.0)];
                    row.extend(dnn.preds[a].iter().map(|&p| (b.y[t][p], -1.0)));
                    b.row(format!("pred({id},{})", task.name), row, Sense::Le, 0.0);
                }
                if !dnn.is_output(a) {
                    let mut row = vec![(b.y[t][a], 1.0)];
                    row.extend(dnn.succs[a].iter().map(|&s| (b.y[t][s], -1.0)));
                    b.row(format!("succ({id},{})", task.name), row, Sense::Le, 0.0);
                }
            }
        }
    }
}
