//! Atom limits (section `atom_limits:`): at most `k` of a task's atoms on
//! a node. For every entry, every task t and node n it names,
//! `Σ_{a ∈ S} z(a,n,t) ≤ k`, S the entry's atoms (default: all), in rows
//! `atom_limits(name,node,task)`; the evaluator's check counts the same
//! atoms of the plan. The whole family (section, validation, rows and
//! check) is this file and its line in [`super::ALL`]: the worked example
//! of docs/extending.md.

use super::Family;
use crate::instance::section::{SectionData, SectionInput};
use crate::instance::Instance;
use crate::milp::model::Sense;
use crate::milp::Builder;
use crate::plan::Plan;
use serde::Deserialize;
use std::sync::Arc;

/// The family's name: its switch, its section, its row names and the tag
/// of its violations.
const NAME: &str = "atom_limits";

/// Most entries a section may have.
const MAX_ENTRIES: usize = 1000;

pub struct AtomLimits;

/// An entry as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAtomLimit {
    /// Names its rows and messages: letters, digits, `_` or `-`.
    name: String,
    /// At most this many atoms of a task on a node.
    k: usize,
    /// Tasks it binds (default: every task).
    #[serde(default)]
    tasks: Option<Vec<String>>,
    /// Nodes it binds (default: every node).
    #[serde(default)]
    nodes: Option<Vec<String>>,
    /// Glob on atom ids or layer names of the atoms counted (default:
    /// every atom, input and output included).
    #[serde(default)]
    atoms: Option<String>,
}

/// A validated entry.
#[derive(Debug)]
struct AtomLimit {
    name: String,
    k: usize,
    tasks: Vec<usize>,
    nodes: Vec<usize>,
    atoms: Vec<usize>,
}

/// The validated section.
fn limits(inst: &Instance) -> &[AtomLimit] {
    inst.sections
        .get::<Vec<AtomLimit>>(NAME)
        .map_or(&[], Vec::as_slice)
}

impl Family for AtomLimits {
    fn name(&self) -> &'static str {
        NAME
    }

    fn section(&self) -> Option<&'static str> {
        Some(NAME)
    }

    fn load(&self, input: &mut SectionInput) -> Option<SectionData> {
        let raw: Vec<RawAtomLimit> = input.parse()?;
        if raw.len() > MAX_ENTRIES {
            input.err("", format!("{} entries: at most {MAX_ENTRIES}", raw.len()));
            return None;
        }
        let mut out: Vec<AtomLimit> = Vec::new();
        for (i, r) in raw.into_iter().enumerate() {
            let p = format!("[{i}]");
            let name_ok = !r.name.is_empty()
                && r.name
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-');
            if !name_ok {
                let msg = format!(
                    "'{}': expected letters, digits, `_` or `-` (it names rows in exports)",
                    r.name.escape_debug()
                );
                input.err(&format!("{p}.name"), msg);
                continue;
            }
            if out.iter().any(|l| l.name == r.name) {
                let msg = format!("'{}' names two atom limits: expected unique names", r.name);
                input.err(&format!("{p}.name"), msg);
                continue;
            }
            let tasks = input.select_tasks(&p, r.tasks.as_deref());
            let nodes = input.select_nodes(&p, r.nodes.as_deref());
            let Some(atoms) = input.select_atoms(&p, r.atoms.as_deref()) else {
                continue;
            };
            out.push(AtomLimit {
                name: r.name,
                k: r.k,
                tasks,
                nodes,
                atoms,
            });
        }
        Some(Arc::new(out))
    }

    fn enabled(&self, inst: &Instance) -> bool {
        inst.families.on(NAME) && !limits(inst).is_empty()
    }

    fn diagnose(&self, inst: &Instance) -> bool {
        self.enabled(inst)
    }

    fn add(&self, b: &mut Builder) {
        let inst = b.inst;
        for l in limits(inst) {
            if l.atoms.len() <= l.k {
                continue;
            }
            for &t in &l.tasks {
                for &n in &l.nodes {
                    let row = l.atoms.iter().map(|&a| (b.z[t][a][n], 1.0)).collect();
                    let name = format!(
                        "{NAME}({},{},{})",
                        l.name, inst.network.nodes[n].name, inst.tasks[t].name
                    );
                    b.row(name, row, Sense::Le, l.k as f64);
                }
            }
        }
    }

    fn check(&self, inst: &Instance, plan: &Plan, violations: &mut Vec<String>) {
        for l in limits(inst) {
            for &t in &l.tasks {
                for &n in &l.nodes {
                    let on = l.atoms.iter().filter(|&&a| plan.placement[t][a] == Some(n));
                    let count = on.count();
                    if count > l.k {
                        violations.push(format!(
                            "task {}: {count} atoms of atom limit '{}' on {} > k {}",
                            inst.tasks[t].name, l.name, inst.network.nodes[n].name, l.k
                        ));
                    }
                }
            }
        }
    }
}
