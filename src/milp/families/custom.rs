//! User constraints (`custom_constraints:`): each validated
//! [`crate::instance::custom::CustomRow`] becomes one row over the
//! decisions y, z, q and an exact u (docs/formulation.md, "Custom
//! constraints").

use super::Family;
use crate::instance::custom::{CustomSense, Decision};
use crate::instance::Instance;
use crate::milp::model::{Sense, Var};
use crate::milp::Builder;
use std::collections::HashMap;

pub struct Custom;

impl Family for Custom {
    fn name(&self) -> &'static str {
        "custom"
    }
    fn enabled(&self, inst: &Instance) -> bool {
        inst.families.on("custom") && !inst.custom.is_empty()
    }
    fn diagnose(&self, inst: &Instance) -> bool {
        self.enabled(inst)
    }
    fn add(&self, b: &mut Builder) {
        let inst = b.inst;
        // u(a,n) as the memory family makes it is only bounded below by
        // z; a user row may bound it either way, so it gets its own exact
        // deployment column: cu ≥ z(a,n,t) for every t and cu ≤ Σ_t z.
        let mut deployed: HashMap<(usize, usize), Var> = HashMap::new();
        for row in &inst.custom {
            let mut terms = Vec::with_capacity(row.terms.len());
            for &(d, coef) in &row.terms {
                let v = match d {
                    Decision::Uses(a, t) => b.y[t][a],
                    Decision::RunsOn(a, n, t) => b.z[t][a][n],
                    Decision::Quantized(g) => b.q[g],
                    Decision::Deployed(a, n) => match deployed.get(&(a, n)) {
                        Some(&v) => v,
                        None => {
                            let v = exact_deployment(b, a, n);
                            deployed.insert((a, n), v);
                            v
                        }
                    },
                };
                terms.push((v, coef));
            }
            let sense = match row.sense {
                CustomSense::Le => Sense::Le,
                CustomSense::Ge => Sense::Ge,
                CustomSense::Eq => Sense::Eq,
            };
            b.row(format!("custom({})", row.name), terms, sense, row.rhs);
        }
    }
}

/// A column equal to 1 exactly when atom a runs on node n for some task.
fn exact_deployment(b: &mut Builder, a: usize, n: usize) -> Var {
    let inst = b.inst;
    let id = &inst.dnn.atoms[a].id;
    let nn = &inst.network.nodes[n].name;
    // Continuous suffices: with z binary, max_t z ≤ cu ≤ Σ_t z pins it
    // to 0 or 1.
    let u = b.model.continuous(format!("cu({id},{nn})"), 0.0, 1.0);
    let mut upper = vec![(u, 1.0)];
    for t in 0..inst.tasks.len() {
        let z = b.z[t][a][n];
        b.row(
            format!("cu>=z({id},{nn},{})", inst.tasks[t].name),
            vec![(u, 1.0), (z, -1.0)],
            Sense::Ge,
            0.0,
        );
        upper.push((z, -1.0));
    }
    b.row(format!("cu<=sum_z({id},{nn})"), upper, Sense::Le, 0.0);
    u
}
