//! Delay (docs/formulation.md §5, TIDE eq. 1): `Δ(t) ≤ max_delay(t)`. Δ(t) itself
//! (sequential or layered) is defined by [`Builder::delay_var`], since the
//! objective needs it even when this family is off.

use super::Family;
use crate::instance::Instance;
use crate::milp::model::Sense;
use crate::milp::{Builder, Relax};

pub struct Delay;

impl Family for Delay {
    fn name(&self) -> &'static str {
        "delay"
    }
    fn diagnose(&self, inst: &Instance) -> bool {
        self.enabled(inst)
    }
    fn add(&self, b: &mut Builder) {
        for (t, task) in b.inst.tasks.iter().enumerate() {
            if task.max_delay.is_finite() {
                let d = b.delay_var(t);
                let mut row = vec![(d, 1.0)];
                if let Some((Relax::Delay, s)) = b.relax {
                    row.push((s, -task.max_delay));
                }
                b.row(
                    format!("max_delay({})", task.name),
                    row,
                    Sense::Le,
                    task.max_delay,
                );
            }
        }
    }
}
