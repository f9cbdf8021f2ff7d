//! Strengthenings: valid inequalities that cut off no integer plan but
//! tighten the LP relaxation (docs/formulation.md, "Strengthenings"). Each
//! is a [`super::Family`] with its own switch in the instance's
//! `constraints:` section (all on by default) and in `--strengthen`, and
//! is off whenever a family its validity rests on is off.

mod cut_sets;
mod flow;
mod memory_fit;

pub use cut_sets::CutSets;
pub use flow::Flow;
pub use memory_fit::MemoryFit;
