//! Memory fit fixing (switch `memory_fit`, needs `memory`). An atom whose
//! weights alone exceed a node's memory can run there only quantized, and
//! not at all when even its quantized weights exceed it:
//!
//! - `param_bytes(a)·weight_factor > memory(n)` (or a has no group and
//!   `param_bytes(a) > memory(n)`): `z(a,n,t) = 0` for every t (a bound);
//! - `param_bytes(a) > memory(n) ≥ param_bytes(a)·weight_factor`:
//!   `z(a,n,t) ≤ q(g(a))` for every t (row `fit(a,n,t)`).
//!
//! Valid: z(a,n,t) = 1 forces u(a,n) = 1, and the memory row of n then
//! holds only if a's own (quantized, if q = 1) weights fit, every other
//! term of the row being non-negative. Skipped in the memory relaxation
//! of a diagnosis, where memory(n) is scaled by a free factor.

use crate::instance::Instance;
use crate::milp::families::Family;
use crate::milp::model::Sense;
use crate::milp::{Builder, Relax};

pub struct MemoryFit;

impl Family for MemoryFit {
    fn name(&self) -> &'static str {
        "memory_fit"
    }
    fn enabled(&self, inst: &Instance) -> bool {
        inst.families.on("memory_fit") && inst.families.on("memory")
    }
    fn add(&self, b: &mut Builder) {
        if matches!(b.relax, Some((Relax::Memory, _))) {
            return;
        }
        let inst = b.inst;
        let wf = inst.quantization.weight_factor;
        for (n, node) in inst.network.nodes.iter().enumerate() {
            for (a, atom) in inst.dnn.atoms.iter().enumerate() {
                if atom.param_bytes <= node.memory {
                    continue;
                }
                let tie = atom
                    .group
                    .filter(|_| atom.param_bytes * wf <= node.memory)
                    .map(|g| b.q[g]);
                for t in 0..inst.tasks.len() {
                    let z = b.z[t][a][n];
                    let (lb, ub) = (b.model.columns[z.0].lb, b.model.columns[z.0].ub);
                    if ub <= 0.0 {
                        continue;
                    }
                    let name = format!("fit({},{},{})", atom.id, node.name, inst.tasks[t].name);
                    match tie {
                        Some(q) => b.row(name, vec![(z, 1.0), (q, -1.0)], Sense::Le, 0.0),
                        // A column fixed on (input or output atom) keeps its
                        // bounds consistent: the row makes the model
                        // infeasible instead.
                        None if lb > 0.0 => b.row(name, vec![(z, 1.0)], Sense::Le, 0.0),
                        None => b.model.columns[z.0].ub = 0.0,
                    }
                }
            }
        }
    }
}
