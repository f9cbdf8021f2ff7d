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
    // The strengthenings (memory_fit, cut_sets, flow) are not listed: they
    // cut off no plan, so switching one off never changes feasibility.
    // Each is off by itself whenever a family it rests on is switched off
    // here (memory_fit with memory; cut_sets and flow with selection or
    // traffic), and memory_fit stays out of the memory relaxation.
    type Switch = (&'static str, bool, fn(&mut Instance));
    let switches: [Switch; 11] = [
        ("selection", f.selection, |i| i.families.selection = false),
        ("rules", f.rules && !inst.rules.is_empty(), |i| {
            i.families.rules = false
        }),
        ("width", f.width && !inst.min_width.is_empty(), |i| {
            i.families.width = false
        }),
        ("custom", f.custom && !inst.custom.is_empty(), |i| {
            i.families.custom = false
        }),
        ("traffic", f.traffic, |i| i.families.traffic = false),
        ("memory", f.memory, |i| i.families.memory = false),
        ("delay", f.delay, |i| i.families.delay = false),
        ("quality", f.quality, |i| i.families.quality = false),
        (
            "noise",
            f.noise
                && inst.quantization.max_noise.is_some()
                && !inst.quantization.groups.is_empty(),
            |i| i.families.noise = false,
        ),
        ("capacity", f.capacity, |i| i.families.capacity = false),
        (
            "energy",
            f.energy && inst.network.nodes.iter().any(|n| n.max_power.is_some()),
            |i| i.families.energy = false,
        ),
    ];
    for (name, on, off) in switches {
        if !on {
            continue;
        }
        let mut relaxed = inst.clone();
        off(&mut relaxed);
        families_off.push((name.to_string(), status_of(&relaxed, feasibility).status));
    }
    let relax = |which: Relax| -> Option<RelaxResult> {
        let on = match which {
            Relax::Delay => f.delay && inst.tasks.iter().any(|t| t.max_delay.is_finite()),
            Relax::Memory => f.memory,
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
