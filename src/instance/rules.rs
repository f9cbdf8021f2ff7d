//! Placement rules: per task or for all tasks, the atoms matching a
//! selector may run only on some nodes (`only_on`) or never on some
//! (`never_on`). E.g. "the first layer of task t runs on the device", so
//! t's raw input never leaves it (the privacy case of Singh et al.).

use super::load::Check;
use super::TaskIx;
use crate::dnn::{AtomIx, Dnn};
use crate::network::{Network, NodeIx};
use serde::{Deserialize, Serialize};

/// A rule as written.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    /// Label used in messages (default `placement_rules[i]`).
    #[serde(default)]
    pub name: Option<String>,
    /// Tasks it applies to (default: all).
    #[serde(default)]
    pub tasks: Option<Vec<String>>,
    /// Glob on atom ids or layer names (`conv1.*`, `conv1`, `fc?`).
    #[serde(default)]
    pub atoms: Option<String>,
    /// Every atom of this level (longest path from the input).
    #[serde(default)]
    pub level: Option<usize>,
    /// Every atom of this quantization group.
    #[serde(default)]
    pub group: Option<String>,
    /// The atoms may run only on these nodes.
    #[serde(default)]
    pub only_on: Option<Vec<String>>,
    /// The atoms may never run on these nodes.
    #[serde(default)]
    pub never_on: Option<Vec<String>>,
}

/// A validated rule.
#[derive(Debug, Clone, PartialEq)]
pub struct PlacementRule {
    /// Label for messages.
    pub name: String,
    /// Tasks it binds.
    pub tasks: Vec<TaskIx>,
    /// Atoms it binds.
    pub atoms: Vec<AtomIx>,
    /// `allowed[n]`: whether the atoms may run on node n.
    pub allowed: Vec<bool>,
}

impl PlacementRule {
    /// Whether the rule forbids atom `a` of task `t` on node `n`.
    pub fn forbids(&self, t: TaskIx, a: AtomIx, n: NodeIx) -> bool {
        !self.allowed[n] && self.tasks.contains(&t) && self.atoms.contains(&a)
    }
}

pub(crate) fn build_rules(
    raw: &[RawRule],
    dnn: &Dnn,
    net: &Network,
    task_names: &[String],
    groups: &[String],
    c: &mut Check,
) -> Vec<PlacementRule> {
    let mut out = Vec::new();
    for (i, r) in raw.iter().enumerate() {
        let p = format!("placement_rules[{i}]");
        let name = r.name.clone().unwrap_or_else(|| p.clone());
        let tasks = select_tasks(&p, r.tasks.as_deref(), task_names, c);
        let Some(atoms) = select_atoms(
            &p,
            r.atoms.as_deref(),
            r.level,
            r.group.as_deref(),
            dnn,
            groups,
            c,
        ) else {
            continue;
        };
        let nodes = |c: &mut Check, field: &str, list: &[String]| -> Vec<NodeIx> {
            list.iter()
                .enumerate()
                .filter_map(|(k, n)| {
                    let found = net.node_by_name(n);
                    if found.is_none() {
                        c.err(format!("{p}.{field}[{k}]"), format!("unknown node '{n}'"));
                    }
                    found
                })
                .collect()
        };
        let allowed = match (&r.only_on, &r.never_on) {
            (Some(only), None) => {
                let ns = nodes(c, "only_on", only);
                (0..net.len()).map(|n| ns.contains(&n)).collect()
            }
            (None, Some(never)) => {
                let ns = nodes(c, "never_on", never);
                (0..net.len()).map(|n| !ns.contains(&n)).collect()
            }
            _ => {
                c.err(p.clone(), "expected exactly one of `only_on` or `never_on`");
                continue;
            }
        };
        out.push(PlacementRule {
            name,
            tasks,
            atoms,
            allowed,
        });
    }
    out
}

/// The atoms picked by exactly one selector (`atoms` glob on atom ids or
/// layer names, `level`, or quantization `group`) of the entry at field
/// path `p`; `None` (with the problem recorded) when the selectors are
/// wrong or pick nothing.
pub(crate) fn select_atoms(
    p: &str,
    atoms: Option<&str>,
    level: Option<usize>,
    group: Option<&str>,
    dnn: &Dnn,
    groups: &[String],
    c: &mut Check,
) -> Option<Vec<AtomIx>> {
    let selectors = [atoms.is_some(), level.is_some(), group.is_some()];
    if selectors.iter().filter(|&&s| s).count() != 1 {
        c.err(
            p,
            "expected exactly one selector: `atoms` (a glob), `level` or `group`",
        );
        return None;
    }
    let picked: Vec<AtomIx> = if let Some(pat) = atoms {
        match glob::Pattern::new(pat) {
            Err(e) => {
                c.err(format!("{p}.atoms"), format!("bad pattern '{pat}': {e}"));
                return None;
            }
            Ok(g) => (0..dnn.len())
                .filter(|&a| g.matches(&dnn.atoms[a].id) || g.matches(&dnn.atoms[a].layer))
                .collect(),
        }
    } else if let Some(l) = level {
        dnn.levels.get(l).cloned().unwrap_or_default()
    } else {
        let g = group.expect("one selector");
        match groups.iter().position(|x| x == g) {
            Some(gi) => (0..dnn.len())
                .filter(|&a| dnn.atoms[a].group == Some(gi))
                .collect(),
            None => {
                c.err(
                    format!("{p}.group"),
                    format!(
                        "unknown group '{g}': expected one of [{}]",
                        groups.join(", ")
                    ),
                );
                return None;
            }
        }
    };
    if picked.is_empty() {
        let what = atoms
            .map(|a| format!("atoms '{a}'"))
            .or(level.map(|l| format!("level {l}")))
            .unwrap_or_default();
        c.err(
            p,
            format!("{what} selects no atom: expected a selector matching at least one atom"),
        );
        return None;
    }
    Some(picked)
}

/// The tasks named at `p.tasks` (all tasks when absent); unknown names are
/// recorded as problems and left out.
pub(crate) fn select_tasks(
    p: &str,
    list: Option<&[String]>,
    task_names: &[String],
    c: &mut Check,
) -> Vec<TaskIx> {
    match list {
        None => (0..task_names.len()).collect(),
        Some(list) => list
            .iter()
            .enumerate()
            .filter_map(|(k, tn)| {
                let found = task_names.iter().position(|x| x == tn);
                if found.is_none() {
                    c.err(format!("{p}.tasks[{k}]"), format!("unknown task '{tn}'"));
                }
                found
            })
            .collect(),
    }
}
