//! Plans: which atoms each task uses, where each runs, which groups are
//! quantized. Read and written as YAML or JSON (by file extension).
//!
//! In a file, a task's placement maps atom ids to node names; a layer name
//! stands for all of that layer's atoms, which keeps plans of filter-level
//! models short. The writer uses the layer form whenever a task runs a whole
//! layer on one node.

use crate::error::{Diagnostics, Error, Result};
use crate::instance::load::{parse_yaml, read_text};
use crate::instance::Instance;
use crate::network::NodeIx;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// A plan in terms of indices of one instance.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// `placement[t][a]`: the node running atom a for task t, `None` when t
    /// does not use a (y(a,t) = 0).
    pub placement: Vec<Vec<Option<NodeIx>>>,
    /// `quantized[g]`: q_g.
    pub quantized: Vec<bool>,
}

/// A plan as written in a file.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PlanFile {
    /// Name of the instance the plan is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// What produced it (`centralized`, `milp:highs`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Quantized groups.
    #[serde(default)]
    pub quantized: Vec<String>,
    /// Task name → (atom id or layer name → node name).
    pub tasks: IndexMap<String, IndexMap<String, String>>,
}

impl Plan {
    /// A plan of `inst` with no atom used and nothing quantized.
    pub fn empty(inst: &Instance) -> Plan {
        Plan {
            placement: vec![vec![None; inst.dnn.len()]; inst.tasks.len()],
            quantized: vec![false; inst.group_count()],
        }
    }

    /// Reads a plan file for `inst`, reporting every unknown name.
    pub fn load(path: &Path, inst: &Instance) -> Result<Plan> {
        let text = read_text(path, path, "")?;
        let file: PlanFile = if path.extension().is_some_and(|e| e == "json") {
            serde_json::from_str(&text).map_err(|e| {
                Error::invalid(path, "", format!("{e}: expected a plan (quantized, tasks)"))
            })?
        } else {
            parse_yaml(&text, path, "a plan mapping with `tasks`")?
        };
        Plan::from_file(&file, inst, path)
    }

    /// Resolves names of a [`PlanFile`] against `inst`.
    pub fn from_file(file: &PlanFile, inst: &Instance, path: &Path) -> Result<Plan> {
        let mut d = Diagnostics::default();
        let mut plan = Plan::empty(inst);
        for (i, g) in file.quantized.iter().enumerate() {
            match inst.quantization.groups.iter().position(|x| x == g) {
                Some(gi) => plan.quantized[gi] = true,
                None => d.push(
                    path,
                    format!("quantized[{i}]"),
                    format!(
                        "unknown group '{g}': expected one of [{}]",
                        inst.quantization.groups.join(", ")
                    ),
                ),
            }
        }
        for (tname, map) in &file.tasks {
            let Some(t) = inst.task_by_name(tname) else {
                d.push(
                    path,
                    format!("tasks.{tname}"),
                    format!("unknown task '{tname}'"),
                );
                continue;
            };
            for (key, node) in map {
                let p = format!("tasks.{tname}.{key}");
                let Some(n) = inst.network.node_by_name(node) else {
                    d.push(path, p, format!("unknown node '{node}'"));
                    continue;
                };
                let atoms: Vec<usize> = match inst.dnn.atom_by_id(key) {
                    Some(a) => vec![a],
                    None => match inst.dnn.layers.iter().find(|(l, _)| l == key) {
                        Some((_, atoms)) => atoms.clone(),
                        None => {
                            d.push(path, p, format!("unknown atom or layer '{key}'"));
                            continue;
                        }
                    },
                };
                for a in atoms {
                    plan.placement[t][a] = Some(n);
                }
            }
        }
        for (t, task) in inst.tasks.iter().enumerate() {
            if !file.tasks.contains_key(&task.name) {
                d.push(
                    path,
                    "tasks",
                    format!(
                        "task '{}' has no placement: every task needs one",
                        task.name
                    ),
                );
            } else if plan.placement[t].iter().all(Option::is_none) {
                d.push(path, format!("tasks.{}", task.name), "no atom placed");
            }
        }
        if d.is_empty() {
            Ok(plan)
        } else {
            Err(Error::Invalid { diagnostics: d })
        }
    }

    /// The file form, with whole layers on one node written by layer name.
    pub fn to_file(&self, inst: &Instance, method: Option<&str>) -> PlanFile {
        let mut tasks = IndexMap::new();
        for (t, task) in inst.tasks.iter().enumerate() {
            let mut map = IndexMap::new();
            for (layer, atoms) in &inst.dnn.layers {
                let first = self.placement[t][atoms[0]];
                let whole = atoms.len() > 1
                    && first.is_some()
                    && atoms.iter().all(|&a| self.placement[t][a] == first);
                if whole {
                    map.insert(
                        layer.clone(),
                        inst.network.nodes[first.unwrap()].name.clone(),
                    );
                    continue;
                }
                for &a in atoms {
                    if let Some(n) = self.placement[t][a] {
                        map.insert(
                            inst.dnn.atoms[a].id.clone(),
                            inst.network.nodes[n].name.clone(),
                        );
                    }
                }
            }
            tasks.insert(task.name.clone(), map);
        }
        PlanFile {
            instance: Some(inst.name.clone()),
            method: method.map(str::to_string),
            quantized: (0..self.quantized.len())
                .filter(|&g| self.quantized[g])
                .map(|g| inst.quantization.groups[g].clone())
                .collect(),
            tasks,
        }
    }

    /// Writes the plan as JSON (`.json`) or YAML (anything else).
    pub fn save(&self, path: &Path, inst: &Instance, method: Option<&str>) -> Result<()> {
        let file = self.to_file(inst, method);
        let text = if path.extension().is_some_and(|e| e == "json") {
            serde_json::to_string_pretty(&file).expect("plan serializes")
        } else {
            serde_yaml::to_string(&file).expect("plan serializes")
        };
        std::fs::write(path, text).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Whether task t uses atom a.
    pub fn uses(&self, t: usize, a: usize) -> bool {
        self.placement[t][a].is_some()
    }
}
