//! Placement rules: `z(a,n,t) = 0` for every atom a, node n and task t a
//! rule forbids (an upper bound, so presolve removes the column and the
//! traffic family creates no transfer variables for it). The example to
//! follow when adding a family: see docs/extending.md.

use super::Family;
use crate::instance::Instance;
use crate::milp::Builder;

pub struct Rules;

impl Family for Rules {
    fn name(&self) -> &'static str {
        "rules"
    }
    fn enabled(&self, inst: &Instance) -> bool {
        inst.families.on("rules") && !inst.rules.is_empty()
    }
    fn diagnose(&self, inst: &Instance) -> bool {
        self.enabled(inst)
    }
    fn add(&self, b: &mut Builder) {
        for rule in &b.inst.rules {
            for &t in &rule.tasks {
                for &a in &rule.atoms {
                    for (n, &ok) in rule.allowed.iter().enumerate() {
                        if !ok {
                            let z = b.z[t][a][n];
                            b.model.columns[z.0].ub = 0.0;
                        }
                    }
                }
            }
        }
    }
}
