//! Memory (docs/formulation.md §5, TIDE eq. 2) with shared deployment:
//! `u(a,n) ≥ z(a,n,t)` for every t, and
//! `Σ_a param_bytes(a)·(u(a,n) − (1 − weight_factor)·uq(a,n)) ≤ memory(n)`
//! with `uq ≤ u`, `uq ≤ q_g(a)` (a discount, so its upper bounds suffice).
//! Nodes that could hold the whole DNN get no row.

use super::Family;
use crate::instance::Instance;
use crate::milp::model::Sense;
use crate::milp::{Builder, Relax};

pub struct Memory;

impl Family for Memory {
    fn name(&self) -> &'static str {
        "memory"
    }
    fn diagnose(&self, inst: &Instance) -> bool {
        self.enabled(inst)
    }
    fn add(&self, b: &mut Builder) {
        let inst = b.inst;
        let dnn = &inst.dnn;
        let discount = 1.0 - inst.quantization.weight_factor;
        for (n, node) in inst.network.nodes.iter().enumerate() {
            if dnn.total_param_bytes() <= node.memory {
                continue;
            }
            let nn = &node.name;
            let mut row = Vec::new();
            for (a, atom) in dnn.atoms.iter().enumerate() {
                let placeable: Vec<usize> = (0..inst.tasks.len())
                    .filter(|&t| b.model.columns[b.z[t][a][n].0].ub > 0.0)
                    .collect();
                if atom.param_bytes == 0.0 || placeable.is_empty() {
                    continue;
                }
                let u = b.model.continuous(format!("u({},{nn})", atom.id), 0.0, 1.0);
                for t in placeable {
                    let z = b.z[t][a][n];
                    b.row(
                        format!("u>=z({},{nn},{})", atom.id, inst.tasks[t].name),
                        vec![(u, 1.0), (z, -1.0)],
                        Sense::Ge,
                        0.0,
                    );
                }
                row.push((u, atom.param_bytes));
                if let (Some(g), true) = (atom.group, discount > 0.0) {
                    let uq = b.upper_product(format!("uq({},{nn})", atom.id), u, "u", g);
                    row.push((uq, -atom.param_bytes * discount));
                }
                b.u.insert((a, n), u);
            }
            if let Some((Relax::Memory, s)) = b.relax {
                row.push((s, -node.memory));
            }
            b.row(format!("memory({nn})"), row, Sense::Le, node.memory);
        }
    }
}
