//! Constraint families, one module each (docs/formulation.md §5), and
//! [`ALL`], the registry everything else iterates: the loader (the
//! `constraints:` switches and the families' own instance sections), the
//! MILP builder (rows and `rows by family`), the evaluator (its violation
//! tags and the families' own checks) and the diagnosis. To add a family,
//! write a module with a type implementing [`Family`] and add its line to
//! the `families!` list below (see `docs/extending.md`).

mod strengthen;

use super::Builder;
use crate::instance::section::{SectionData, SectionInput};
use crate::instance::Instance;
use crate::plan::Plan;

/// A switchable block of the problem: its name, its instance section (if
/// it has one), its MILP rows, its evaluator check and its diagnosis
/// switch. Only [`Family::name`] and [`Family::add`] are required.
pub trait Family: Sync {
    /// The family's name: its switch in `constraints:`, its entry in
    /// `rows by family`, the tag of its violations and its line in a
    /// diagnosis.
    fn name(&self) -> &'static str;

    /// Whether `constraints:` may switch it off (false: always on).
    fn switchable(&self) -> bool {
        true
    }

    /// Whether the MILP gets the family's rows: by default, when its
    /// switch is on.
    fn enabled(&self, inst: &Instance) -> bool {
        inst.families.on(self.name())
    }

    /// Adds the family's variables and rows.
    fn add(&self, b: &mut Builder);

    /// The top-level key of the family's own instance section, if it has
    /// one that the loader does not know (read by [`Family::load`]).
    fn section(&self) -> Option<&'static str> {
        None
    }

    /// Validates the family's section (present in the file) into its
    /// typed data, kept in [`Instance::sections`] under the section's key;
    /// problems go to `input.check` with their field paths.
    fn load(&self, input: &mut SectionInput) -> Option<SectionData> {
        let _ = input;
        None
    }

    /// The evaluator's check of a plan, run when the family is switched
    /// on: each message is one violation, tagged with [`Family::name`].
    /// The families of the core model are checked by `crate::eval`
    /// itself, within the pass that computes the metrics they bound.
    fn check(&self, inst: &Instance, plan: &Plan, violations: &mut Vec<String>) {
        let _ = (inst, plan, violations);
    }

    /// Whether `edgesplit diagnose` solves the instance once with this
    /// family switched off: when it is on and can cut off plans here.
    fn diagnose(&self, inst: &Instance) -> bool {
        let _ = inst;
        false
    }
}

/// Declares the registry [`ALL`]: each `mod m::T` entry declares the
/// module `m` (a file of this folder) and registers its family `T`; a
/// plain `m::T` entry registers a family of a module declared above.
macro_rules! families {
    (@list [$($entry:expr,)*]) => {
        /// Every family, in build order: rules and the memory fit fixing
        /// must precede traffic (which skips forbidden placements), and
        /// traffic the families that read its variables (the cut-sets,
        /// flow conservation, delay, capacity, energy and the objective).
        /// The diagnosis tries the families in this order too.
        pub static ALL: &[&dyn Family] = &[$($entry,)*];
    };
    (@list [$($entry:expr,)*] mod $module:ident::$family:ident, $($rest:tt)*) => {
        mod $module;
        families!(@list [$($entry,)* &$module::$family,] $($rest)*);
    };
    (@list [$($entry:expr,)*] $family:path, $($rest:tt)*) => {
        families!(@list [$($entry,)* &$family,] $($rest)*);
    };
    ($($rest:tt)*) => {
        families!(@list [] $($rest)*);
    };
}

families! {
    mod selection::Selection,
    mod width::Width,
    mod placement::Placement,
    mod rules::Rules,
    strengthen::MemoryFit,
    mod traffic::Traffic,
    strengthen::CutSets,
    strengthen::Flow,
    mod memory::Memory,
    mod delay::Delay,
    mod quality::Quality,
    mod noise::Noise,
    mod capacity::Capacity,
    mod energy::Energy,
    mod custom::Custom,
    mod atom_limits::AtomLimits,
}

/// Every family, in build order.
pub fn all() -> impl Iterator<Item = &'static dyn Family> {
    ALL.iter().copied()
}

/// The family called `name`.
pub fn by_name(name: &str) -> Option<&'static dyn Family> {
    all().find(|f| f.name() == name)
}

/// The names of the families `constraints:` can switch, in build order.
pub fn switch_names() -> impl Iterator<Item = &'static str> {
    all().filter(|f| f.switchable()).map(|f| f.name())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_identifiers_and_fit_the_switch_mask() {
        assert!(ALL.len() <= 64, "Families keeps one bit per family");
        let mut seen = std::collections::BTreeSet::new();
        for f in all() {
            let n = f.name();
            assert!(seen.insert(n), "two families are called {n}");
            assert!(
                !n.is_empty() && n.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "family name {n} is not a lower-case identifier"
            );
        }
        let mut sections = std::collections::BTreeSet::new();
        for s in all().filter_map(|f| f.section()) {
            assert!(sections.insert(s), "two families read section {s}");
        }
    }

    /// A family's section key must not be a key the loader reads itself:
    /// it would be set aside and the loader's own field never read.
    #[test]
    fn sections_are_not_loader_keys() {
        let err = serde_yaml::from_str::<crate::instance::raw::RawInstance>("zzz: 1")
            .expect_err("zzz is no field");
        let msg = err.to_string();
        let fields = msg
            .split("expected one of ")
            .nth(1)
            .expect("serde lists the fields");
        assert!(fields.contains("`version`") && fields.contains("`tasks`"));
        for s in all().filter_map(|f| f.section()) {
            assert!(
                !fields.contains(&format!("`{s}`")),
                "section {s} is a loader key"
            );
        }
    }
}
