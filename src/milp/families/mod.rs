//! Constraint families, one module each (docs/formulation.md §5). To add a family:
//! write a module with a type implementing [`Family`], list it in [`all`],
//! and give the evaluator the same check (see `docs/extending.md`).

mod capacity;
mod custom;
mod delay;
mod energy;
mod memory;
mod noise;
mod placement;
mod quality;
mod rules;
mod selection;
mod strengthen;
mod traffic;
mod width;

use super::Builder;
use crate::instance::Instance;

/// A switchable block of variables and rows.
pub trait Family {
    /// Name used in reports and in the instance's `constraints:` section.
    fn name(&self) -> &'static str;
    /// Whether the instance switches it on.
    fn enabled(&self, inst: &Instance) -> bool;
    /// Adds the family's variables and rows.
    fn add(&self, b: &mut Builder);
}

/// Every family, in build order: rules and the memory fit fixing must
/// precede traffic (which skips forbidden placements), and traffic the
/// families that read its variables (the cut-sets, flow conservation,
/// delay, capacity, energy and the objective).
pub fn all() -> Vec<Box<dyn Family>> {
    vec![
        Box::new(selection::Selection),
        Box::new(width::Width),
        Box::new(placement::Placement),
        Box::new(rules::Rules),
        Box::new(strengthen::MemoryFit),
        Box::new(traffic::Traffic),
        Box::new(strengthen::CutSets),
        Box::new(strengthen::Flow),
        Box::new(memory::Memory),
        Box::new(delay::Delay),
        Box::new(quality::Quality),
        Box::new(noise::Noise),
        Box::new(capacity::Capacity),
        Box::new(energy::Energy),
        Box::new(custom::Custom),
    ]
}
