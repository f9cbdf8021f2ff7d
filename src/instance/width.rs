//! Per-layer minimum widths (the `width` family): for the chosen tasks,
//! every layer that a selector touches keeps at least `k` of its selected
//! atoms, or a fraction of them. E.g. "every task keeps at least 10% of the
//! filters of every convolution": a network cut down to one filter in a
//! layer would not survive retraining, however little relevance that
//! layer's other filters carry.

use super::load::Check;
use super::rules::{select_atoms, select_tasks};
use super::TaskIx;
use crate::dnn::{AtomIx, Dnn};
use serde::{Deserialize, Serialize};

/// A minimum-width entry as written.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawMinWidth {
    /// Label used in messages (default `min_width[i]`).
    #[serde(default)]
    pub name: Option<String>,
    /// Tasks it applies to (default: all).
    #[serde(default)]
    pub tasks: Option<Vec<String>>,
    /// Glob on atom ids or layer names (`conv*`, `conv1`).
    #[serde(default)]
    pub atoms: Option<String>,
    /// Every atom of this level.
    #[serde(default)]
    pub level: Option<usize>,
    /// Every atom of this quantization group.
    #[serde(default)]
    pub group: Option<String>,
    /// At least this many atoms of each selected layer.
    #[serde(default)]
    pub k: Option<usize>,
    /// At least ⌈fraction · selected atoms⌉ of each selected layer, in (0, 1].
    #[serde(default)]
    pub fraction: Option<f64>,
}

/// One validated row: task t ∈ `tasks` keeps at least `k` of `atoms` (the
/// selected atoms of one layer).
#[derive(Debug, Clone, PartialEq)]
pub struct MinWidth {
    /// Label for messages: the entry's name and the layer.
    pub name: String,
    /// Tasks it binds.
    pub tasks: Vec<TaskIx>,
    /// The selected atoms of one layer.
    pub atoms: Vec<AtomIx>,
    /// How many of them each bound task keeps at least.
    pub k: usize,
}

/// The entries, one [`MinWidth`] per entry and selected layer.
pub(crate) fn build_min_width(
    raw: &[RawMinWidth],
    dnn: &Dnn,
    task_names: &[String],
    groups: &[String],
    c: &mut Check,
) -> Vec<MinWidth> {
    let mut out = Vec::new();
    for (i, r) in raw.iter().enumerate() {
        let p = format!("min_width[{i}]");
        let name = r.name.clone().unwrap_or_else(|| p.clone());
        let tasks = select_tasks(&p, r.tasks.as_deref(), task_names, c);
        let amount = match (r.k, r.fraction) {
            (Some(0), None) => {
                c.err(format!("{p}.k"), "k 0: expected at least 1 atom");
                continue;
            }
            (Some(k), None) => Amount::Count(k),
            (None, Some(f)) if f.is_finite() && f > 0.0 && f <= 1.0 => Amount::Fraction(f),
            (None, Some(f)) => {
                c.err(
                    format!("{p}.fraction"),
                    format!("fraction {f}: expected a number in (0, 1]"),
                );
                continue;
            }
            _ => {
                c.err(p.clone(), "expected exactly one of `k` or `fraction`");
                continue;
            }
        };
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
        for (layer, members) in &dnn.layers {
            let sel: Vec<AtomIx> = members
                .iter()
                .copied()
                .filter(|a| atoms.contains(a))
                .collect();
            if sel.is_empty() {
                continue;
            }
            let k = match amount {
                Amount::Count(k) => k,
                Amount::Fraction(f) => ((f * sel.len() as f64 - 1e-9).ceil() as usize).max(1),
            };
            if k > sel.len() {
                c.err(
                    format!("{p}.k"),
                    format!(
                        "k {k} but layer '{layer}' has only {} selected atom(s): expected at most {}",
                        sel.len(),
                        sel.len()
                    ),
                );
                continue;
            }
            out.push(MinWidth {
                name: format!("{name} ({layer})"),
                tasks: tasks.clone(),
                atoms: sel,
                k,
            });
        }
    }
    out
}

#[derive(Clone, Copy)]
enum Amount {
    Count(usize),
    Fraction(f64),
}
