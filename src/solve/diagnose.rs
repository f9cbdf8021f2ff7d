//! Infeasibility diagnosis: which constraint families, switched off one at
//! a time, make an instance feasible, and the smallest uniform relaxation
//! of the delay and memory limits that would.

use super::{BackendKind, SolveOptions, Status};
use crate::instance::Instance;
use crate::milp::{ObjectiveSpec, Relax};
use serde::Serialize;

/// The result of [`diagnose`].
#[derive(Debug, Clone, Serialize)]
pub struct Diagnosis {
    /// Status of the instance as given.
    pub status: Status,
    /// Each switchable family that is on, and the status with it off.
    pub families_off: Vec<(String, Status)>,
    /// Smallest factor s ≥ 0 such that max_delay·(1+s) is feasible, with
    /// the resulting per-task limits; `None` if delay relaxation alone
    /// cannot make the instance feasible.
    pub delay: Option<RelaxResult>,
    /// Same for node memory.
    pub memory: Option<RelaxResult>,
}

/// A uniform relaxation and the limits it leads to.
#[derive(Debug, Clone, Serialize)]
pub struct RelaxResult {
    /// The factor s.
    pub factor: f64,
    /// `(name, current limit, relaxed limit)` per task or node.
    pub limits: Vec<(String, f64, f64)>,
}

/// Diagnoses `inst` with `kind`; solves one model per switchable family
/// that is on plus two relaxations.
pub fn diagnose(inst: &Instance, kind: BackendKind, opts: &SolveOptions) -> Diagnosis {
    let status_of = |i: &Instance, spec: ObjectiveSpec| {
        super::run::solve_spec(i, kind, opts, spec, None, &[]).outcome
    };
    let feasibility = ObjectiveSpec::Single(crate::milp::Total::Time);
    let status = status_of(inst, feasibility).status;
    let mut families_off = Vec::new();
    let f = inst.families;
    // Each family of the registry says whether switching it off here can
    // change feasibility. The strengthenings (memory_fit, cut_sets, flow)
    // say no: they cut off no plan. Each is off by itself whenever a
    // family it rests on is switched off here (memory_fit with memory;
    // cut_sets and flow with selection or traffic), and memory_fit stays
    // out of the memory relaxation.
    for fam in crate::milp::families::all().filter(|fam| fam.diagnose(inst)) {
        let mut relaxed = inst.clone();
        relaxed
            .families
            .set(fam.name(), false)
            .expect("a family with a diagnosis switch is switchable");
        families_off.push((
            fam.name().to_string(),
            status_of(&relaxed, feasibility).status,
        ));
    }
    let relax = |which: Relax| -> Option<RelaxResult> {
        let on = match which {
            Relax::Delay => f.on("delay") && inst.tasks.iter().any(|t| t.max_delay.is_finite()),
            Relax::Memory => f.on("memory"),
        };
        if !on {
            return None;
        }
        let o = status_of(inst, ObjectiveSpec::Relax(which));
        let s = o
            .objective
            .filter(|_| matches!(o.status, Status::Optimal | Status::Feasible))?;
        let limits = match which {
            Relax::Delay => inst
                .tasks
                .iter()
                .filter(|t| t.max_delay.is_finite())
                .map(|t| (t.name.clone(), t.max_delay, t.max_delay * (1.0 + s)))
                .collect(),
            Relax::Memory => inst
                .network
                .nodes
                .iter()
                .map(|n| (n.name.clone(), n.memory, n.memory * (1.0 + s)))
                .collect(),
        };
        Some(RelaxResult { factor: s, limits })
    };
    Diagnosis {
        status,
        families_off,
        delay: relax(Relax::Delay),
        memory: relax(Relax::Memory),
    }
}
